/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* save: a running domain's state to a file in libvirt's save image format
 * (qemu/saveimage.h), and back; prefix core_ (core_domain_save, core_restore,
 * core_save_image_*). Save is a job: pause, write the header into a temporary file next to the
 * target, let QEMU write its stream into it through a descriptor, sync, mark complete, rename
 * into place, then stop QEMU. Until the rename nothing is at the target; a failed or aborted
 * save removes its temporary file and resumes a guest it paused. Restore is a start whose QEMU
 * reads the stream (start.c, migration.c). */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/lifecycle.h"
#include "core/migration.h"
#include "qemu/address.h"
#include "qemu/filter.h"
#include "qemu/monitor.h"
#include "qemu/saveimage.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

struct save_op {
    struct domain *dom; /* a reference */
    struct lifecycle_image image;
    unsigned flags;               /* CORE_SAVE_* */
    struct lifecycle_pause pause; /* it resumes if the save fails */
    gboolean managed;             /* the domain's managed save image */
};

static void
save_op_free(gpointer data)
{
    struct save_op *op = data;
    lifecycle_image_clear(&op->image);
    core_domain_unref(op->dom);
    g_free(op);
}

/* --- the steps --- */

/* A running guest is paused first: what QEMU writes is then one consistent moment. */
static void
save_pause(struct job *job)
{
    struct save_op *op = job->data;
    op->pause.input = IN_SAVE_PAUSED;
    lifecycle_pause_step(job, op->dom, &op->pause);
}

/* --- a save image being written (save, and the memory of an external snapshot) --- */

gboolean
lifecycle_image_open(struct lifecycle_image *image, struct domain *dom, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(image->path);
    g_autofree char *base = g_path_get_basename(image->path);
    g_autofree char *tmpl = g_strdup_printf("%s/.%s.domus-part-XXXXXX", dir, base);
    image->fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
    if (image->fd < 0) {
        err_set_errno(error, ERR_FROM_DOMAIN, errno, "cannot create the save image '%s'",
                      image->path);
        return FALSE;
    }
    image->tmp_path = g_steal_pointer(&tmpl);
    /* a daemon that dies from here on finds the file in the status, and removes it */
    g_free(dom->save_file);
    dom->save_file = g_strdup(image->tmp_path);
    if (!qemu_saveimage_write(image->fd, image->path, &image->img, error) ||
        !core_status_write(dom, error))
        return FALSE;
    /* a compressed image: the program waits for QEMU's stream, ready before the guest pauses */
    if (image->img.compression != QEMU_SAVEIMAGE_RAW) {
        image->filter = qemu_filter_start(image->img.compression, FALSE, image->fd, image->path,
                                          &image->stream_fd, error);
        return image->filter != NULL;
    }
    return TRUE;
}

int
lifecycle_image_stream_fd(const struct lifecycle_image *image)
{
    return image->filter ? image->stream_fd : image->fd;
}

/* The compressor's end: the step waiting for it ends */
static void
on_filter_done(GError *error, gpointer data)
{
    job_step_over(data, error);
}

void
lifecycle_image_finish_stream(struct job *job, struct lifecycle_image *image)
{
    if (!image->filter) {
        job_next(job);
        return;
    }
    /* QEMU is done: the program ends once it has written the rest */
    file_close_fd(&image->stream_fd);
    qemu_filter_wait(image->filter, on_filter_done, job_ref(job));
}

gboolean
lifecycle_image_commit(struct lifecycle_image *image, gboolean bypass_cache, GError **error)
{
    GError *err = NULL;
    if (fdatasync(image->fd) < 0) {
        err_set_errno(&err, ERR_FROM_DOMAIN, errno, "cannot sync the save image '%s'", image->path);
    } else if (qemu_saveimage_mark_complete(image->fd, image->path, &err)) {
        if (fdatasync(image->fd) < 0)
            err_set_errno(&err, ERR_FROM_DOMAIN, errno, "cannot sync the save image '%s'",
                          image->path);
        else if (rename(image->tmp_path, image->path) < 0)
            err_set_errno(&err, ERR_FROM_DOMAIN, errno, "cannot put the save image at '%s'",
                          image->path);
        else
            image->renamed = TRUE;
    }
    if (image->renamed) {
        g_autofree char *dir = g_path_get_dirname(image->path);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        if (bypass_cache)
            posix_fadvise(image->fd, 0, 0, POSIX_FADV_DONTNEED);
    }
    if (err) {
        g_propagate_error(error, err);
        return FALSE;
    }
    return TRUE;
}

void
lifecycle_image_clear(struct lifecycle_image *image)
{
    file_close_fd(&image->stream_fd);
    g_clear_pointer(&image->filter, qemu_filter_free);
    file_close_fd(&image->fd);
    if (image->tmp_path && !image->renamed)
        file_remove_large(image->tmp_path, NULL);
    g_clear_pointer(&image->tmp_path, g_free);
    g_clear_pointer(&image->path, g_free);
    qemu_saveimage_clear(&image->img);
}

/* The header (and the compressor, if any): a save that cannot write fails before it pauses
 * the guest. */
static void
save_header(struct job *job)
{
    struct save_op *op = job->data;
    GError *error = NULL;
    if (!lifecycle_image_open(&op->image, op->dom, &error))
        job_fail(job, error);
    else
        job_next(job);
}

static void
save_migrate(struct job *job)
{
    struct save_op *op = job->data;
    migration_run(job, op->dom, lifecycle_image_stream_fd(&op->image), FALSE);
}

static void
save_compress(struct job *job)
{
    struct save_op *op = job->data;
    lifecycle_image_finish_stream(job, &op->image);
}

/* In a worker thread: the image is made durable, marked complete and put in place. */
static gboolean
sync_in_thread(struct job *job, gpointer data, GError **ret_error)
{
    struct save_op *op = job->data;
    return lifecycle_image_commit(&op->image, (op->flags & CORE_SAVE_BYPASS_CACHE) != 0, ret_error);
}

static void
save_sync(struct job *job)
{
    job_step_in_thread(job, sync_in_thread, NULL, NULL);
}

/* Success: QEMU is stopped, the domain saved (a transient one is gone). Failure: the guest
 * runs again if the save paused it; the temporary file goes with the op. */
static void
save_finish(struct job *job, const GError *error)
{
    struct save_op *op = job->data;
    struct domain *dom = op->dom;
    g_clear_pointer(&dom->save_file, g_free);
    if (!error) {
        log_info("%s: saved to '%s'", dom->def->name, op->image.path);
        if (op->managed)
            dom->managed_save = TRUE;
        core_domain_emit_job_completed(dom, FALSE, NULL);
        if (state_is_active(dom->state)) {
            lifecycle_kill_and_reap(dom);
            lifecycle_stopped(dom, IN_STOPPED_SAVED);
        }
        return;
    }
    /* the partial file goes before the caller hears of the failure */
    lifecycle_image_clear(&op->image);
    GError *err = g_error_copy(error);
    g_prefix_error(&err, "saving '%s': ", dom->def->name);
    log_warn("%s", err->message);
    job_set_error(job, err);
    if (op->pause.paused && dom->state == DOM_PAUSED && dom->mon && !lifecycle_process_gone(dom)) {
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        core_domain_transition(dom, IN_SAVE_CANCELED, NULL);
    }
}

/* domjobabort, destroy or QEMU's exit */
static void
save_abort(struct job *job)
{
    struct save_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (dom->destroying || lifecycle_process_gone(dom)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                dom->destroying ? "the save was cut short by destroy" : "QEMU exited during save");
        job_fail(job, error);
        return;
    }
    const char *phase = job_phase(job);
    if (g_str_equal(phase, "migrate")) {
        /* the step fails when QEMU reports the migration cancelled */
        if (!migration_cancel(dom))
            job_fail(job, job_aborted_error(job, ERR_FROM_DOMAIN));
    } else if (g_str_equal(phase, "pause")) {
        op->pause.abort_asked = TRUE; /* the pause completes first, then is undone */
    } else if (!g_str_equal(phase, "sync")) {
        job_fail(job, job_aborted_error(job, ERR_FROM_DOMAIN));
    }
    /* sync: the image is complete already; the save ends as it is */
}

/* the file first: a save that cannot write fails before it pauses the guest */
static const struct job_step save_steps[] = {
    {"header", save_header},     {"pause", save_pause}, {"migrate", save_migrate},
    {"compress", save_compress}, {"sync", save_sync},   {NULL, NULL},
};

static const struct job_pipeline save_pipeline = {
    .steps = save_steps,
    .finish = save_finish,
    .abort = save_abort,
    .abortable = TRUE,
};

#define SAVE_LATE_STOP_S 10

static gboolean
late_stop_window_over(gpointer data)
{
    struct domain *dom = data;
    dom->save_resume_timer = 0;
    return G_SOURCE_REMOVE;
}

void
lifecycle_save_recover(struct domain *dom, gboolean running)
{
    dom->save_interrupted = FALSE;
    if (dom->save_file) {
        log_info("%s: removing '%s', left by a save the daemon did not see to its end",
                 dom->def->name, dom->save_file);
        file_remove_large(dom->save_file, NULL);
        g_clear_pointer(&dom->save_file, g_free);
    }
    if (!dom->mon)
        return;
    qmp_command(dom->mon, "migrate_cancel", NULL, NULL, NULL);
    /* the guest ran when the save began (the daemon may have died before it heard that its
     * pause took effect): it runs again */
    /* an external snapshot's memory is written as a save is (paused with reason snapshot) */
    gboolean paused_by_save = dom->state == DOM_PAUSED && (dom->reason == REASON_PAUSED_SAVE ||
                                                           dom->reason == REASON_PAUSED_SNAPSHOT ||
                                                           dom->reason == REASON_PAUSED_DUMP);
    if (!paused_by_save && dom->state != DOM_RUNNING)
        return;
    if (!running) {
        log_info("%s: resuming the guest its interrupted save paused", dom->def->name);
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
    }
    if (paused_by_save)
        core_domain_transition(dom,
                               dom->reason == REASON_PAUSED_SAVE   ? IN_SAVE_CANCELED
                               : dom->reason == REASON_PAUSED_DUMP ? IN_DUMP_RESUMED
                                                                   : IN_RESUMED,
                               NULL);
    /* the dead daemon's "stop" may still be in QEMU's queue: a STOP soon after is undone */
    if (!dom->save_resume_timer)
        dom->save_resume_timer =
            g_timeout_add_seconds(SAVE_LATE_STOP_S, late_stop_window_over, dom);
}

gboolean
lifecycle_save_late_stop(struct domain *dom)
{
    if (!dom->save_resume_timer || dom->jobs.current || !dom->mon)
        return FALSE;
    log_info("%s: the pause of its interrupted save came late; resuming", dom->def->name);
    g_source_remove(dom->save_resume_timer);
    dom->save_resume_timer = 0;
    qmp_command(dom->mon, "cont", NULL, NULL, NULL);
    return TRUE;
}

/* --- checks shared by save, restore and the image edits --- */

static gboolean
check_exclusive(unsigned flags, GError **error)
{
    if ((flags & CORE_SAVE_RUNNING) && (flags & CORE_SAVE_PAUSED)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'running' and 'paused' are mutually exclusive");
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_path(const char *path, GError **error)
{
    if (!g_path_is_absolute(path)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "save image path '%s' is not absolute; give the full path", path);
        return FALSE;
    }
    return TRUE;
}

/* The same features with the same policies, in any order (libvirt's virCPUDefIsEqual) */
static gboolean
same_cpu_features(const struct domain_def *a, const struct domain_def *b)
{
    if (a->cpu_features->len != b->cpu_features->len)
        return FALSE;
    for (guint i = 0; i < a->cpu_features->len; i++) {
        const struct cpu_feature_def *f = a->cpu_features->pdata[i];
        gboolean found = FALSE;
        for (guint j = 0; j < b->cpu_features->len && !found; j++) {
            const struct cpu_feature_def *g = b->cpu_features->pdata[j];
            found = g_str_equal(f->name, g->name) && g_str_equal(f->policy, g->policy);
        }
        if (!found)
            return FALSE;
    }
    return TRUE;
}

/* What a replacement definition may change of a saved guest: anything but what the guest
 * sees of its machine (libvirt's ABI stability check, for what Domus models). */
static gboolean
check_abi(const struct domain_def *src, const struct domain_def *dst, GError **error)
{
    const char *what = NULL;
    if (dst->virt_type != src->virt_type)
        what = "virtualization type";
    else if (memcmp(dst->uuid, src->uuid, sizeof(src->uuid)))
        what = "uuid";
    else if (!g_str_equal(dst->name, src->name))
        what = "name";
    else if (dst->memory_kib != src->memory_kib)
        what = "memory size";
    else if (dst->vcpus != src->vcpus)
        what = "vCPU count";
    else if (!domain_def_vcpus_same(src, dst))
        what = "vCPUs online or hot-pluggable";
    else if (dst->disks->len != src->disks->len)
        what = "number of disks";
    else if (dst->nets->len != src->nets->len)
        what = "number of interfaces";
    else if (src->os_machine && dst->os_machine && !g_str_equal(src->os_machine, dst->os_machine))
        what = "machine type";
    else if (g_strcmp0(src->cpu_mode, dst->cpu_mode) || g_strcmp0(src->cpu_model, dst->cpu_model) ||
             !same_cpu_features(src, dst))
        what = "CPU model or features";
    else if (src->cpu_sockets != dst->cpu_sockets || src->cpu_dies != dst->cpu_dies ||
             src->cpu_cores != dst->cpu_cores || src->cpu_threads != dst->cpu_threads)
        what = "CPU topology";
    for (guint i = 0; !what && i < src->disks->len; i++) {
        const struct disk_def *a = src->disks->pdata[i], *b = dst->disks->pdata[i];
        if (a->bus != b->bus || a->device != b->device || g_strcmp0(a->target_dev, b->target_dev))
            what = "disk devices";
    }
    for (guint i = 0; !what && i < src->nets->len; i++) {
        const struct net_def *a = src->nets->pdata[i], *b = dst->nets->pdata[i];
        if (memcmp(a->mac, b->mac, sizeof(a->mac)) || g_strcmp0(a->model, b->model))
            what = "interface MAC addresses or models";
    }
    if (what) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "the new definition changes the saved guest's %s, which the saved state "
                "depends on",
                what);
        return FALSE;
    }
    return TRUE;
}

/* Parses XML (given by a client for a saved guest) and checks it against SAVED. */
static struct domain_def *
replacement_def(const struct domain_def *saved, const char *xml, GError **error)
{
    g_autoptr(domain_def) def = domain_def_parse(xml, 0, error);
    if (!def || !check_abi(saved, def, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* Opens and reads an image; -1 on failure. */
static int
open_image(const char *path, int mode, struct qemu_saveimage *img, GError **error)
{
    if (!check_path(path, error))
        return -1;
    int fd = open(path, mode | O_CLOEXEC);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_DOMAIN, errno, "cannot open the save image '%s'", path);
        return -1;
    }
    if (!qemu_saveimage_read(fd, path, img, error)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* --- the operations --- */

struct save_request {
    struct save_op *op;
    char *xml;
    core_done_fn done;
    gpointer data;
};

static void
save_begin(struct job *job, GError *error, gpointer data)
{
    struct save_request *req = data;
    struct save_op *op = req->op;
    struct domain *dom = op->dom;
    if (!job) {
        lifecycle_done(req->done, req->data, error);
        save_op_free(op);
    } else if (!state_is_active(dom->state) || !dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        job_cancel(job, error, req->done, req->data);
        save_op_free(op);
    } else {
        /* the definition a restore starts from: the live one, or the client's */
        g_autoptr(domain_def) def = req->xml ? replacement_def(dom->def, req->xml, &error) : NULL;
        if (req->xml && !def) {
            job_cancel(job, error, req->done, req->data);
            save_op_free(op);
        } else {
            op->image.img.xml = domain_def_format(
                def ? def : dom->def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
            op->image.img.was_running =
                (op->flags & CORE_SAVE_RUNNING) ||
                (!(op->flags & CORE_SAVE_PAUSED) && dom->state == DOM_RUNNING);
            job_run(job, op, save_op_free, req->done, req->data);
        }
    }
    g_free(req->xml);
    g_free(req);
}

static void
save_start(struct domain *dom, const char *path, const char *xml, unsigned flags, gboolean managed,
           core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (!check_exclusive(flags, &error) || !check_path(path, &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    if (!state_is_active(dom->state)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        lifecycle_fail(done, data, error);
        return;
    }
    if (!core_domain_state_writable(dom, "save", &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    struct stat st;
    g_autofree char *dir = g_path_get_dirname(path);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "cannot save to '%s': directory '%s' does not exist", path, dir);
        lifecycle_fail(done, data, error);
        return;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "'%s' exists and is not a regular file; save to a file", path);
        lifecycle_fail(done, data, error);
        return;
    }
    struct save_op *op = g_new0(struct save_op, 1);
    op->dom = core_domain_ref(dom);
    op->image.path = g_strdup(path);
    op->image.fd = -1;
    op->image.stream_fd = -1;
    op->image.img.compression = dom->core->save_compression;
    op->flags = flags;
    op->managed = managed;
    struct save_request *req = g_new0(struct save_request, 1);
    req->op = op;
    req->xml = g_strdup(xml);
    req->done = done;
    req->data = data;
    job_acquire(&dom->jobs, JOB_SAVE, &save_pipeline, dom->core->job_wait_ms, save_begin, req);
}

void
core_domain_save(struct domain *dom, const char *path, const char *xml, unsigned flags,
                 core_done_fn done, gpointer data)
{
    save_start(dom, path, xml, flags, FALSE, done, data);
}

void
core_domain_managed_save(struct domain *dom, const char *xml, unsigned flags, core_done_fn done,
                         gpointer data)
{
    if (!dom->persistent) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot do managed save for transient domain '%s'", dom->def->name);
        lifecycle_fail(done, data, error);
        return;
    }
    g_autofree char *path = core_managed_save_path(dom);
    save_start(dom, path, xml, flags, TRUE, done, data);
}

gboolean
core_domain_managed_save_remove(struct domain *dom, GError **error)
{
    g_autofree char *path = core_managed_save_path(dom);
    if (!file_remove_large(path, error))
        return FALSE;
    if (dom->managed_save)
        log_info("%s: managed save image removed", dom->def->name);
    dom->managed_save = FALSE;
    return TRUE;
}

/* --- start from a managed save image --- */

struct managed_start {
    struct domain *dom;
    core_done_fn done;
    gpointer data;
};

/* The image is used up once the guest runs from it. */
static void
managed_started(GError *error, gpointer data)
{
    struct managed_start *ms = data;
    if (!error) {
        GError *err = NULL;
        if (!core_domain_managed_save_remove(ms->dom, &err)) {
            log_warn("%s", err->message);
            g_error_free(err);
        }
    }
    lifecycle_done(ms->done, ms->data, error);
    core_domain_unref(ms->dom);
    g_free(ms);
}

/* An image that is no use (incomplete, corrupt, another domain's) goes, as libvirt drops it,
 * and the domain boots. */
static gboolean
discard_image(struct domain *dom, const char *path, const char *why)
{
    log_warn("%s: ignoring its managed save image '%s': %s", dom->def->name, path, why);
    file_remove_large(path, NULL);
    dom->managed_save = FALSE;
    return FALSE;
}

gboolean
lifecycle_start_managed(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    g_autofree char *path = core_managed_save_path(dom);
    if (flags & CORE_START_FORCE_BOOT)
        return discard_image(dom, path, "a fresh boot was asked for");
    struct qemu_saveimage img = {0};
    GError *error = NULL;
    int fd = open_image(path, O_RDONLY, &img, &error);
    if (fd < 0) {
        discard_image(dom, path, error->message);
        g_error_free(error);
        return FALSE;
    }
    if (!qemu_filter_available(img.compression, TRUE, path, &error)) {
        /* the image is fine: it stays for when the program is there */
        g_prefix_error(&error, "starting '%s' from its managed save image: ", dom->def->name);
        close(fd);
        qemu_saveimage_clear(&img);
        lifecycle_fail(done, data, error);
        return TRUE;
    }
    g_autoptr(domain_def) live = domain_def_parse(img.xml, 0, &error);
    gboolean was_running = img.was_running;
    guint64 stream_off = img.stream_off;
    guint32 compression = img.compression;
    qemu_saveimage_clear(&img);
    if (live && memcmp(live->uuid, dom->def->uuid, sizeof(live->uuid))) {
        close(fd);
        return discard_image(dom, path, "it holds another domain");
    }
    if (!live || !core_validate_for_host(dom->core, live, &error) ||
        !qemu_address_assign(live, &error) || lseek(fd, stream_off, SEEK_SET) < 0) {
        if (!error)
            err_set_errno(&error, ERR_FROM_DOMAIN, errno, "cannot read '%s'", path);
        g_prefix_error(&error, "starting '%s' from its managed save image: ", dom->def->name);
        close(fd);
        lifecycle_fail(done, data, error);
        return TRUE;
    }
    enum dom_input in = was_running ? IN_RESTORED : IN_RESTORED_PAUSED;
    if (flags & CORE_START_PAUSED)
        in = IN_RESTORED_HELD;
    struct managed_start *ms = g_new0(struct managed_start, 1);
    ms->dom = core_domain_ref(dom);
    ms->done = done;
    ms->data = data;
    log_info("%s: starting from its managed save image", dom->def->name);
    lifecycle_start_restore(dom, g_steal_pointer(&live), fd, compression, path, in,
                            flags & (CORE_START_BYPASS_CACHE | CORE_START_AUTODESTROY),
                            managed_started, ms);
    return TRUE;
}

int
lifecycle_image_load(const char *path, struct domain_def **ret_def, gboolean *ret_running,
                     guint32 *ret_compression, GError **error)
{
    struct qemu_saveimage img = {0};
    int fd = open_image(path, O_RDONLY, &img, error);
    if (fd < 0)
        return -1;
    GError *err = NULL;
    g_autoptr(domain_def) def = NULL;
    if (!qemu_filter_available(img.compression, TRUE, path, &err))
        ; /* the error names the program */
    else if (!(def = domain_def_parse(img.xml, 0, &err)))
        g_prefix_error(&err, "the domain XML in '%s': ", path);
    else if (lseek(fd, img.stream_off, SEEK_SET) < 0)
        err_set_errno(&err, ERR_FROM_DOMAIN, errno, "cannot read the save image '%s'", path);
    gboolean running = img.was_running;
    guint32 compression = img.compression;
    qemu_saveimage_clear(&img);
    if (err) {
        close(fd);
        g_propagate_error(error, err);
        return -1;
    }
    *ret_def = g_steal_pointer(&def);
    *ret_running = running;
    *ret_compression = compression;
    return fd;
}

gboolean
lifecycle_image_check_abi(const struct domain_def *saved, const struct domain_def *def,
                          GError **error)
{
    return check_abi(saved, def, error);
}

void
core_restore(struct core *core, const char *path, const char *xml, unsigned flags,
             core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct qemu_saveimage img = {0};
    int fd = -1;
    if (!check_exclusive(flags, &error) || (fd = open_image(path, O_RDONLY, &img, &error)) < 0 ||
        !qemu_filter_available(img.compression, TRUE, path, &error)) {
        if (fd >= 0)
            close(fd);
        qemu_saveimage_clear(&img);
        lifecycle_fail(done, data, error);
        return;
    }
    g_autofree char *use = NULL;
    if (xml) {
        g_autoptr(domain_def) saved = domain_def_parse(img.xml, 0, &error);
        g_autoptr(domain_def) def = saved ? replacement_def(saved, xml, &error) : NULL;
        if (def)
            use = domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    } else {
        use = g_strdup(img.xml);
    }
    struct domain_def *live = NULL;
    struct domain *dom = use ? core_create_xml_prepare(core, use, FALSE, &live, &error) : NULL;
    if (!dom || lseek(fd, img.stream_off, SEEK_SET) < 0) {
        if (dom && !error)
            err_set_errno(&error, ERR_FROM_DOMAIN, errno, "cannot read the save image '%s'", path);
        g_prefix_error(&error, "restoring from '%s': ", path);
        domain_def_free(live);
        close(fd);
        qemu_saveimage_clear(&img);
        lifecycle_fail(done, data, error);
        return;
    }
    enum dom_input in = IN_RESTORED_PAUSED;
    if (flags & CORE_SAVE_RUNNING)
        in = IN_RESTORED;
    else if (flags & CORE_SAVE_PAUSED)
        in = IN_RESTORED_HELD;
    else if (img.was_running)
        in = IN_RESTORED;
    guint32 compression = img.compression;
    qemu_saveimage_clear(&img);
    log_info("%s: restoring from '%s'", dom->def->name, path);
    lifecycle_start_restore(dom, live, fd, compression, path, in,
                            (flags & CORE_SAVE_BYPASS_CACHE) ? CORE_START_BYPASS_CACHE : 0, done,
                            data);
}

char *
core_save_image_xml(const char *path, unsigned flags, GError **error)
{
    struct qemu_saveimage img = {0};
    int fd = open_image(path, O_RDONLY, &img, error);
    if (fd < 0)
        return NULL;
    close(fd);
    g_autoptr(domain_def) def = domain_def_parse(img.xml, 0, error);
    qemu_saveimage_clear(&img);
    if (!def) {
        g_prefix_error(error, "the domain XML in '%s': ", path);
        return NULL;
    }
    unsigned fmt = DOMAIN_DEF_FORMAT_INACTIVE;
    if (flags & CORE_SAVE_IMAGE_XML_SECURE)
        fmt |= DOMAIN_DEF_FORMAT_SECURE;
    return domain_def_format(def, -1, fmt);
}

gboolean
core_save_image_define(const char *path, const char *xml, unsigned flags, GError **error)
{
    if (!check_exclusive(flags, error))
        return FALSE;
    struct qemu_saveimage img = {0};
    int fd = open_image(path, O_RDWR, &img, error);
    if (fd < 0)
        return FALSE;
    gboolean ok = FALSE;
    g_autoptr(domain_def) saved = domain_def_parse(img.xml, 0, error);
    g_autoptr(domain_def) def = saved ? replacement_def(saved, xml, error) : NULL;
    if (def) {
        g_autofree char *text =
            domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
        int running = (flags & CORE_SAVE_RUNNING) ? 1 : (flags & CORE_SAVE_PAUSED) ? 0 : -1;
        ok = qemu_saveimage_rewrite(fd, path, &img, text, running, error);
    }
    close(fd);
    qemu_saveimage_clear(&img);
    return ok;
}
