/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* blockjob: block copies, pulls and commits. A pull (block-stream) or a commit (block-commit)
 * merges images of a disk's chain; QEMU keeps it once over until dismissed, so its end is read
 * from the job, and the chain in the live definition loses the merged images then (an active
 * commit only when pivoted). The copy's image gets node names of the domain's own numbering
 * (qemu_device_node_format of a fresh index), so that after a pivot the disk is an image
 * like any other to hot-plug, snapshot and migrate. QEMU's job ("domus-copy-TARGET") is
 * followed with query-block-jobs; its end (the job gone from the list) decides: a pivot
 * makes the copy the disk's image in the live definition and drops the old nodes, anything
 * else drops the copy's nodes and leaves its image. The live definition carries the copy as
 * the disk's <mirror> (libvirt's form, ready='yes|abort|pivot' as it goes), written to the
 * status at each change: a restarted daemon takes the job up from there. */
#include "core/blockjob.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/xml_util.h"
#include "core/storage.h"
#include "core/lifecycle.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "storage/dir.h"
#include "util/err.h"
#include "util/log.h"

#define POLL_MS 250

struct block_job {
    struct domain *dom; /* a reference */
    enum disk_mirror_job job;
    char *target;
    char *path; /* the disk's image when the job began (BLOCK_JOB events name it) */
    char *dest; /* a copy's image; a commit's base; a pull's base, or NULL: none */
    enum disk_format format;
    unsigned top;           /* a commit below the top: the image committed (its index) */
    gboolean delete_images; /* a commit: the images merged away are deleted after */
    gboolean shallow;
    gboolean block;
    gboolean made;  /* DEST was made for the copy: removed if it never starts */
    unsigned index; /* the copy's nodes; the base's of a commit or pull (0: none) */
    char *qemu_job;
    guint64 bandwidth;
    guint64 cur, end;
    gboolean running; /* the copy started */
    gboolean ready;
    gboolean ending;
    gboolean pivot;
    gboolean over;
    gboolean adopted; /* taken up after a daemon restart */
    guint timer;
    gboolean polling;
    guint outstanding;
    GError *start_error;
    core_done_fn start_done;
    gpointer start_data;
    GPtrArray *waiters; /* struct waiter *: synchronous aborts */
    int refs;
};

struct waiter {
    core_done_fn done;
    gpointer data;
};

static struct block_job *
bj_ref(struct block_job *bj)
{
    bj->refs++;
    return bj;
}

static void
bj_unref(struct block_job *bj)
{
    if (--bj->refs > 0)
        return;
    core_domain_unref(bj->dom);
    g_free(bj->target);
    g_free(bj->path);
    g_free(bj->dest);
    g_free(bj->qemu_job);
    g_clear_error(&bj->start_error);
    g_ptr_array_unref(bj->waiters);
    g_free(bj);
}

/* JOB of disk D: a copy into DEST (FORMAT, SHALLOW, a BLOCK device), its nodes numbered
 * INDEX; a pull or commit down to DEST, image INDEX. One reference: the domain's list's. */
static struct block_job *
bj_new(struct domain *dom, const struct disk_def *d, enum disk_mirror_job job, const char *dest,
       enum disk_format format, gboolean shallow, gboolean block, unsigned index)
{
    static const char *const names[] = {"copy", "commit", "pull", "commit"};
    struct block_job *bj = g_new0(struct block_job, 1);
    bj->refs = 1;
    bj->job = job;
    bj->dom = core_domain_ref(dom);
    bj->target = g_strdup(d->target_dev);
    bj->path = g_strdup(d->source);
    bj->dest = g_strdup(dest);
    bj->format = format;
    bj->shallow = shallow;
    bj->block = block;
    bj->index = index;
    bj->qemu_job = g_strdup_printf("domus-%s-%s", names[job], d->target_dev);
    bj->waiters = g_ptr_array_new();
    return bj;
}

static GPtrArray *
jobs_of(struct domain *dom)
{
    if (!dom->block_jobs)
        dom->block_jobs = g_ptr_array_new();
    return dom->block_jobs;
}

gboolean
core_block_jobs_active(const struct domain *dom)
{
    return dom->block_jobs && dom->block_jobs->len > 0;
}

static struct disk_def *
find_disk(struct domain *dom, const char *path)
{
    for (guint i = 0; i < dom->def->disks->len; i++) {
        struct disk_def *d = dom->def->disks->pdata[i];
        if (g_str_equal(d->target_dev, path) || (d->source && g_str_equal(d->source, path)))
            return d;
    }
    return NULL;
}

static struct block_job *
find_job(struct domain *dom, const char *path)
{
    struct disk_def *d = find_disk(dom, path);
    for (guint i = 0; d && dom->block_jobs && i < dom->block_jobs->len; i++) {
        struct block_job *bj = dom->block_jobs->pdata[i];
        if (g_str_equal(bj->target, d->target_dev))
            return bj;
    }
    return NULL;
}

/* virDomainBlockJobType of JOB */
static int
job_type(enum disk_mirror_job job)
{
    static const int types[] = {BLOCK_JOB_TYPE_COPY, BLOCK_JOB_TYPE_ACTIVE_COMMIT,
                                BLOCK_JOB_TYPE_PULL, BLOCK_JOB_TYPE_COMMIT};
    return types[job];
}

static void
emit(struct block_job *bj, int status)
{
    struct domain *dom = bj->dom;
    struct event ev = {
        .kind = EVENT_ID_BLOCK_JOB,
        .alias = bj->path,
        .event = job_type(bj->job),
        .detail = status,
    };
    core_domain_emit_event(dom, &ev);
    ev.kind = EVENT_ID_BLOCK_JOB_2;
    ev.alias = bj->target;
    core_domain_emit_event(dom, &ev);
}

/* The disk's <mirror> follows the job (READY: its ready= from now on; the mirror goes once
 * the job is over), and the status keeps it. */
static void
mirror_update(struct block_job *bj, enum disk_mirror_ready ready)
{
    struct domain *dom = bj->dom;
    struct disk_def *d = domain_def_find_disk(dom->def, bj->target);
    if (!d)
        return;
    if (bj->over) {
        g_clear_pointer(&d->mirror, disk_mirror_free);
    } else {
        if (!d->mirror)
            d->mirror = g_new0(struct disk_mirror, 1);
        g_free(d->mirror->path);
        d->mirror->path = g_strdup(bj->dest);
        d->mirror->job = bj->job;
        d->mirror->top = bj->top;
        d->mirror->type = bj->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE;
        d->mirror->format = bj->format;
        d->mirror->index = bj->index;
        d->mirror->shallow = bj->shallow;
        d->mirror->ready = ready;
    }
    GError *e = NULL;
    if (!core_status_write(dom, &e)) {
        log_warn("%s: %s", dom->def->name, e->message);
        g_clear_error(&e);
    }
}

static void
del_node(struct domain *dom, const char *node)
{
    if (!dom->mon)
        return;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "node-name", node);
    qmp_command(dom->mon, "blockdev-del", args, NULL, NULL);
}

/* the format node, then the protocol node below it, of image INDEX */
static void
del_image(struct domain *dom, unsigned index)
{
    g_autofree char *fmt = qemu_device_node_format(index);
    g_autofree char *storage = qemu_device_node_storage(index);
    del_node(dom, fmt);
    del_node(dom, storage);
}

/* Position of the image numbered INDEX in D's chain: 0 the top, N the Nth backing image;
 * -1: not there. */
static gint
chain_pos(const struct disk_def *d, unsigned index)
{
    if (d->source_index == index)
        return 0;
    for (guint i = 0; d->backing && i < d->backing->len; i++)
        if (((const struct disk_layer *)d->backing->pdata[i])->index == index)
            return (gint)i + 1;
    return -1;
}

/* A pull, a commit or a pivoted active commit is done: the images it merged away leave D's
 * chain (and QEMU's nodes; their files too with --delete). */
static void
merged(struct block_job *bj, struct disk_def *d)
{
    struct domain *dom = bj->dom;
    guint n = d->backing ? d->backing->len : 0;
    gint base = bj->index ? chain_pos(d, bj->index) : (gint)n + 1;
    gint top = bj->job == DISK_MIRROR_JOB_PULL            ? 1
               : bj->job == DISK_MIRROR_JOB_ACTIVE_COMMIT ? 0
                                                          : chain_pos(d, bj->top);
    if (base < 0 || top < 0 || top >= base || (guint)base > n + 1) {
        log_warn("%s: disk '%s' no longer has the images its block job merged; its chain is "
                 "left as it was",
                 dom->def->name, bj->target);
        return;
    }
    g_autofree char *old_top = g_strdup(d->source);
    /* the images merged away, top down: an image is in use by the one above it */
    for (gint pos = top; pos < base; pos++) {
        const struct disk_layer *l = pos ? d->backing->pdata[pos - 1] : NULL;
        del_image(dom, l ? l->index : d->source_index);
        const char *path = l ? l->path : d->source;
        if (bj->delete_images && path && unlink(path) < 0)
            log_warn("%s: cannot delete '%s': %s", dom->def->name, path, g_strerror(errno));
        log_info("%s: disk '%s' no longer uses '%s'", dom->def->name, bj->target, path);
    }
    if (top == 0) {
        /* the base is the disk's image now */
        struct disk_layer *b = d->backing->pdata[base - 1];
        g_free(d->source);
        d->source = g_strdup(b->path);
        d->format = b->format;
        d->type = b->type;
        d->source_index = b->index;
        g_ptr_array_remove_range(d->backing, 0, (guint)base);
        /* so is it for the next start, where the definition named the old top */
        const struct disk_def *p =
            dom->persistent ? domain_def_find_disk(core_persistent_def(dom), bj->target) : NULL;
        if (p && g_strcmp0(p->source, old_top) == 0) {
            struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
            struct disk_def *cp = domain_def_find_disk(copy, bj->target);
            g_free(cp->source);
            cp->source = g_strdup(d->source);
            cp->format = d->format;
            GError *e = NULL;
            if (!core_domain_keep_config(dom, copy, &e)) {
                log_warn("%s: %s", dom->def->name, e->message);
                g_clear_error(&e);
            }
        }
    } else {
        g_ptr_array_remove_range(d->backing, (guint)top - 1, (guint)(base - top));
    }
    dom->updated = TRUE;
}

/* The job is over: STATUS says how; the definition follows a pivot or a merge. */
static void
finish(struct block_job *bj, int status)
{
    struct domain *dom = bj->dom;
    if (bj->over)
        return;
    bj->over = TRUE;
    if (bj->timer)
        g_source_remove(bj->timer);
    bj->timer = 0;
    struct disk_def *d = domain_def_find_disk(dom->def, bj->target);
    static const char *const how[] = {"completed", "failed", "canceled", "ready"};
    if (bj->job != DISK_MIRROR_JOB_COPY) {
        if (status == BLOCK_JOB_COMPLETED && d)
            merged(bj, d);
        log_info("%s: block %s of disk '%s' %s", dom->def->name,
                 bj->job == DISK_MIRROR_JOB_PULL ? "pull" : "commit", bj->target, how[status]);
    } else if (status == BLOCK_JOB_COMPLETED && bj->pivot && d) {
        /* the guest uses the copy: the old top (and, for a full copy, what was below it)
         * goes */
        unsigned old = d->source_index;
        del_image(dom, old);
        if (!bj->shallow && d->backing) {
            for (guint i = 0; i < d->backing->len; i++)
                del_image(dom, ((struct disk_layer *)d->backing->pdata[i])->index);
            g_ptr_array_set_size(d->backing, 0);
        }
        g_free(d->source);
        d->source = g_strdup(bj->dest);
        d->type = bj->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE;
        d->format = bj->format;
        d->source_index = bj->index;
        dom->updated = TRUE;
        log_info("%s: disk '%s' now uses '%s'", dom->def->name, bj->target, bj->dest);
    } else {
        del_image(dom, bj->index);
        log_info("%s: block copy of disk '%s' to '%s' ended (%s)", dom->def->name, bj->target,
                 bj->dest, status == BLOCK_JOB_FAILED ? "failed" : "finished");
    }
    mirror_update(bj, DISK_MIRROR_COPYING);
    if (dom->block_jobs)
        g_ptr_array_remove(dom->block_jobs, bj);
    emit(bj, status);
    GPtrArray *waiters = bj->waiters;
    for (guint i = 0; i < waiters->len; i++) {
        struct waiter *w = waiters->pdata[i];
        GError *e = NULL;
        if (status == BLOCK_JOB_FAILED)
            err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "the block job of disk '%s' failed",
                    bj->target);
        if (e)
            lifecycle_fail(w->done, w->data, e);
        else
            lifecycle_done(w->done, w->data, NULL);
        g_free(w);
    }
    g_ptr_array_set_size(waiters, 0);
    bj_unref(bj); /* the list's */
}

/* query-block after an adopted pivot's job went away: the device on the copy's node
 * pivoted; else the copy was let go */
static void
on_adopted_end(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct block_job *bj = data;
    bj->polling = FALSE;
    struct disk_def *d = domain_def_find_disk(bj->dom->def, bj->target);
    JsonArray *devices = error ? NULL : qemu_json_node_array(result);
    g_autofree char *copy = qemu_device_node_format(bj->index);
    g_autofree char *peripheral =
        d && d->info.alias ? g_strdup_printf("/machine/peripheral/%s/", d->info.alias) : NULL;
    gboolean pivoted = FALSE;
    for (guint i = 0; peripheral && devices && i < json_array_get_length(devices); i++) {
        JsonObject *dev = qemu_json_element_object(devices, i);
        const char *qdev = dev ? qemu_json_string(dev, "qdev") : NULL;
        JsonObject *inserted = dev ? qemu_json_object(dev, "inserted") : NULL;
        const char *node = inserted ? qemu_json_string(inserted, "node-name") : NULL;
        if (qdev && g_str_has_prefix(qdev, peripheral) && g_strcmp0(node, copy) == 0)
            pivoted = TRUE;
    }
    if (!bj->over)
        finish(bj, pivoted ? BLOCK_JOB_COMPLETED : BLOCK_JOB_CANCELED);
    bj_unref(bj);
}

static void
on_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct block_job *bj = data;
    bj->polling = FALSE;
    JsonArray *jobs = error ? NULL : qemu_json_node_array(result);
    if (bj->over || error) {
        bj_unref(bj);
        return;
    }
    JsonObject *o = qemu_json_find_object(jobs, "device", bj->qemu_job);
    if (!o && bj->ending)
        job_crash_point_at("blockcopy:ended");
    if (!o && bj->adopted && bj->ending && bj->pivot) {
        /* it ended while no daemon listened: the disk's device says whether it pivoted */
        bj->polling = TRUE;
        qmp_command(bj->dom->mon, "query-block", NULL, on_adopted_end, bj);
        return;
    }
    if (!o) {
        /* gone: as asked (pivot: completed; else the copy was let go), or on its own */
        finish(bj, !bj->ending ? BLOCK_JOB_FAILED
                   : bj->pivot ? BLOCK_JOB_COMPLETED
                               : BLOCK_JOB_CANCELED);
        bj_unref(bj);
        return;
    }
    bj->cur = (guint64)MAX(qemu_json_int_or(o, "offset", 0), 0);
    bj->end = (guint64)MAX(qemu_json_int_or(o, "len", 0), 0);
    if (g_strcmp0(qemu_json_string(o, "status"), "concluded") == 0) {
        /* a pull's or a commit's (QEMU keeps them until dismissed): its error says how */
        const char *why = qemu_json_string(o, "error");
        if (why)
            log_warn("%s: the block job of disk '%s' failed: %s", bj->dom->def->name, bj->target,
                     why);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", bj->qemu_job);
        qmp_command(bj->dom->mon, "block-job-dismiss", args, NULL, NULL);
        finish(bj, why           ? BLOCK_JOB_FAILED
                   : !bj->ending ? BLOCK_JOB_COMPLETED
                   : bj->pivot   ? BLOCK_JOB_COMPLETED
                                 : BLOCK_JOB_CANCELED);
        bj_unref(bj);
        return;
    }
    if (!bj->ready && qemu_json_bool(o, "ready", FALSE)) {
        bj->ready = TRUE;
        log_info("%s: block %s of disk '%s' is in step with it", bj->dom->def->name,
                 bj->job == DISK_MIRROR_JOB_COPY ? "copy" : "commit", bj->target);
        if (!bj->ending)
            mirror_update(bj, DISK_MIRROR_READY);
        emit(bj, BLOCK_JOB_READY);
    }
    bj_unref(bj);
}

static gboolean
on_timer(gpointer data)
{
    struct block_job *bj = data;
    if (!bj->polling && bj->dom->mon) {
        bj->polling = TRUE;
        qmp_command(bj->dom->mon, "query-block-jobs", NULL, on_jobs, bj_ref(bj));
    }
    return G_SOURCE_CONTINUE;
}

/* --- start --- */

static gboolean
make_image(struct block_job *bj, const struct disk_def *d, GError **error)
{
    struct storage_vol_info info;
    if (!storage_dir_vol_info(d->source, &info, error))
        return FALSE;
    const struct disk_layer *below =
        bj->shallow && d->backing && d->backing->len ? d->backing->pdata[0] : NULL;
    struct storage_vol_create req = {
        .path = bj->dest,
        .format = bj->format == DISK_FORMAT_QCOW2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW,
        .capacity = info.capacity,
        .backing = below ? below->path : NULL,
        .backing_format = below && below->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw",
        .mode = -1,
    };
    storage_vol_info_clear(&info);
    if (!storage_dir_vol_create(&req, core_storage_qemu_img(), error))
        return FALSE;
    bj->made = TRUE;
    return TRUE;
}

static void
on_start_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct block_job *bj = data;
    if (error && !bj->start_error)
        bj->start_error = g_error_copy(error);
    if (--bj->outstanding > 0) {
        bj_unref(bj);
        return;
    }
    struct domain *dom = bj->dom;
    if (bj->start_error) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "cannot %s disk '%s': %s",
                bj->job == DISK_MIRROR_JOB_COPY   ? "copy"
                : bj->job == DISK_MIRROR_JOB_PULL ? "pull into"
                                                  : "commit",
                bj->target, bj->start_error->message);
        bj->over = TRUE;
        if (bj->job == DISK_MIRROR_JOB_COPY)
            del_image(dom, bj->index);
        if (bj->made)
            unlink(bj->dest);
        if (dom->block_jobs && g_ptr_array_remove(dom->block_jobs, bj))
            bj_unref(bj);
        lifecycle_fail(bj->start_done, bj->start_data, e);
    } else {
        bj->running = TRUE;
        if (bj->job == DISK_MIRROR_JOB_COPY)
            log_info("%s: copying disk '%s' to '%s'%s", dom->def->name, bj->target, bj->dest,
                     bj->shallow ? " (its top image)" : "");
        else
            log_info("%s: block %s of disk '%s' down to '%s' started", dom->def->name,
                     disk_mirror_job_to_string(bj->job), bj->target,
                     bj->dest ? bj->dest : "nothing");
        mirror_update(bj, DISK_MIRROR_COPYING);
        bj->timer = g_timeout_add(POLL_MS, on_timer, bj);
        lifecycle_done(bj->start_done, bj->start_data, NULL);
    }
    bj_unref(bj);
}

/* Disk PATH of running DOM, free for a new block job; NULL with ERROR. */
static struct disk_def *
free_disk(struct domain *dom, const char *path, GError **error)
{
    if (!core_domain_require_running(dom, error))
        return NULL;
    struct disk_def *d = find_disk(dom, path);
    if (!d || !d->source) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "no disk with path '%s' that has an image; 'domblklist' lists them", path);
        return NULL;
    }
    if (find_job(dom, path)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "disk '%s' already in active block job", d->target_dev);
        return NULL;
    }
    if (dom->migrate_out || dom->migrate_in) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is being migrated",
                dom->def->name);
        return NULL;
    }
    if (dom->backup) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is being backed up; a block job waits until the backup is over",
                dom->def->name);
        return NULL;
    }
    return d;
}

/* A copy or a commit moves the disk onto another image, without its checkpoints' bitmaps:
 * refused while there are checkpoints (libvirt's words) */
static gboolean
no_checkpoints(struct domain *dom, GError **error)
{
    if (g_hash_table_size(dom->checkpoints) == 0)
        return TRUE;
    err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
            "cannot perform block operations while checkpoint exists: domain '%s' has %u; "
            "delete them first",
            dom->def->name, g_hash_table_size(dom->checkpoints));
    return FALSE;
}

void
core_block_copy(struct domain *dom, const char *path, const struct core_block_copy *c,
                core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct disk_def *d = free_disk(dom, path, &error);
    if (d && !no_checkpoints(dom, &error))
        d = NULL;
    if (!d) {
        lifecycle_fail(done, data, error);
        return;
    }
    struct stat st;
    gboolean exists = stat(c->dest, &st) == 0;
    if (c->reuse && !exists) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "'%s' does not exist; without --reuse-external it is made", c->dest);
        lifecycle_fail(done, data, error);
        return;
    }
    if (!c->reuse && exists) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "'%s' exists; copy into it with --reuse-external, or give another path", c->dest);
        lifecycle_fail(done, data, error);
        return;
    }
    if (g_str_equal(c->dest, d->source)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "'%s' is the disk's own image", c->dest);
        lifecycle_fail(done, data, error);
        return;
    }
    enum disk_format format = c->format != DISK_FORMAT_NONE    ? c->format
                              : d->format == DISK_FORMAT_QCOW2 ? DISK_FORMAT_QCOW2
                                                               : DISK_FORMAT_RAW;
    struct block_job *bj = bj_new(dom, d, DISK_MIRROR_JOB_COPY, c->dest, format, c->shallow,
                                  c->block, qemu_device_next_image(dom->def));
    bj->bandwidth = c->bandwidth;
    if (!c->reuse && !make_image(bj, d, &error)) {
        bj_unref(bj);
        lifecycle_fail(done, data, error);
        return;
    }
    g_ptr_array_add(jobs_of(dom), bj);
    bj->start_done = done;
    bj->start_data = data;
    g_autofree char *fmt = qemu_device_node_format(bj->index);
    /* a shallow copy sits on the disk's own backing image; a full one on nothing */
    const struct disk_layer *below =
        c->shallow && d->backing && d->backing->len ? d->backing->pdata[0] : NULL;
    g_autofree char *backing = below ? qemu_device_node_format(below->index) : NULL;
    g_autoptr(GPtrArray) nodes = qemu_device_image_blockdevs(
        d, c->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE, c->dest, bj->format, bj->index, backing,
        core_disk_aio(dom->core, dom->emulator));
    bj->outstanding = nodes->len + 1;
    for (guint i = 0; i < nodes->len; i++)
        qmp_command(dom->mon, "blockdev-add", json_object_ref(nodes->pdata[i]), on_start_reply,
                    bj_ref(bj));
    g_autofree char *top = qemu_device_node_format(d->source_index);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "job-id", bj->qemu_job);
    json_object_set_string_member(args, "device", top);
    json_object_set_string_member(args, "target", fmt);
    json_object_set_string_member(args, "sync", c->shallow ? "top" : "full");
    if (c->bandwidth)
        json_object_set_int_member(args, "speed", (gint64)MIN(c->bandwidth, (guint64)G_MAXINT64));
    qmp_command(dom->mon, "blockdev-mirror", args, on_start_reply, bj_ref(bj));
}

/* --- pull and commit --- */

/* The image SPEC names in D's chain, its path or libvirt's "TARGET[INDEX]": its position (0
 * the top, N the Nth image below); -1 with ERROR, which calls it WHAT. */
static gint
resolve(const struct disk_def *d, const char *spec, const char *what, GError **error)
{
    guint n = d->backing ? d->backing->len : 0;
    for (guint pos = 0; pos <= n; pos++) {
        const struct disk_layer *l = pos ? d->backing->pdata[pos - 1] : NULL;
        g_autofree char *named =
            g_strdup_printf("%s[%u]", d->target_dev, l ? l->index : d->source_index);
        if (g_strcmp0(l ? l->path : d->source, spec) == 0 || g_str_equal(named, spec))
            return (gint)pos;
    }
    err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
            "%s '%s' is not in the backing chain of disk '%s'; 'dumpxml' shows the chain", what,
            spec, d->target_dev);
    return -1;
}

/* Starts QEMU's COMMAND (ARGS, consumed, without job-id) for BJ, a new job on DOM's disk. */
static void
start_job(struct block_job *bj, const char *command, JsonObject *args, guint64 bandwidth,
          core_done_fn done, gpointer data)
{
    struct domain *dom = bj->dom;
    bj->bandwidth = bandwidth;
    g_ptr_array_add(jobs_of(dom), bj);
    bj->start_done = done;
    bj->start_data = data;
    bj->outstanding = 1;
    json_object_set_string_member(args, "job-id", bj->qemu_job);
    /* QEMU keeps it once over, until dismissed: how it ended stays there to read */
    json_object_set_boolean_member(args, "auto-dismiss", FALSE);
    if (bandwidth)
        json_object_set_int_member(args, "speed", (gint64)MIN(bandwidth, (guint64)G_MAXINT64));
    qmp_command(dom->mon, command, args, on_start_reply, bj_ref(bj));
}

void
core_block_pull(struct domain *dom, const char *path, const char *base, guint64 bandwidth,
                core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct disk_def *d = free_disk(dom, path, &error);
    if (d && !no_checkpoints(dom, &error))
        d = NULL;
    guint n = d && d->backing ? d->backing->len : 0;
    if (d && n == 0)
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "disk '%s' has no backing image to pull from", d->target_dev);
    gint pos = d && n && base ? resolve(d, base, "base", &error) : (gint)n + 1;
    if (!error && pos == 0)
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "base '%s' is the top image of disk '%s'; name an image below it", base,
                d->target_dev);
    if (error) {
        lifecycle_fail(done, data, error);
        return;
    }
    const struct disk_layer *b = (guint)pos <= n ? d->backing->pdata[pos - 1] : NULL;
    struct block_job *bj =
        bj_new(dom, d, DISK_MIRROR_JOB_PULL, b ? b->path : NULL, b ? b->format : DISK_FORMAT_NONE,
               FALSE, b && b->type == DISK_TYPE_BLOCK, b ? b->index : 0);
    g_autofree char *top = qemu_device_node_format(d->source_index);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "device", top);
    if (b) {
        g_autofree char *node = qemu_device_node_format(b->index);
        json_object_set_string_member(args, "base-node", node);
    }
    start_job(bj, "block-stream", args, bandwidth, done, data);
}

void
core_block_commit(struct domain *dom, const char *path, const char *base, const char *top,
                  guint64 bandwidth, unsigned flags, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct disk_def *d = free_disk(dom, path, &error);
    if (d && !no_checkpoints(dom, &error))
        d = NULL;
    guint n = d && d->backing ? d->backing->len : 0;
    gint tpos = d && top ? resolve(d, top, "top", &error) : 0;
    gint bpos = 0;
    if (!error && tpos == 0 && !(flags & CORE_COMMIT_ACTIVE))
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "commit of the top image of disk '%s' needs --active (the guest writes there)",
                d->target_dev);
    else if (!error && (guint)tpos == n)
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "image '%s' of disk '%s' has no backing image to commit into",
                tpos ? ((struct disk_layer *)d->backing->pdata[tpos - 1])->path : d->source,
                d->target_dev);
    if (!error) {
        bpos = base                            ? resolve(d, base, "base", &error)
               : (flags & CORE_COMMIT_SHALLOW) ? tpos + 1
                                               : (gint)n;
        if (!error && bpos <= tpos)
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "base '%s' is not below the image committed in the chain of disk '%s'", base,
                    d->target_dev);
        else if (!error && (flags & CORE_COMMIT_SHALLOW) && bpos != tpos + 1)
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "--shallow commits into the image right below; base '%s' is further down",
                    base);
    }
    if (error) {
        lifecycle_fail(done, data, error);
        return;
    }
    const struct disk_layer *b = d->backing->pdata[bpos - 1];
    struct block_job *bj =
        bj_new(dom, d, tpos ? DISK_MIRROR_JOB_COMMIT : DISK_MIRROR_JOB_ACTIVE_COMMIT, b->path,
               b->format, FALSE, b->type == DISK_TYPE_BLOCK, b->index);
    bj->top = tpos ? ((struct disk_layer *)d->backing->pdata[tpos - 1])->index : 0;
    bj->delete_images = (flags & CORE_COMMIT_DELETE) != 0;
    g_autofree char *device = qemu_device_node_format(d->source_index);
    g_autofree char *base_node = qemu_device_node_format(b->index);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "device", device);
    if (tpos) {
        g_autofree char *top_node = qemu_device_node_format(bj->top);
        json_object_set_string_member(args, "top-node", top_node);
    }
    json_object_set_string_member(args, "base-node", base_node);
    start_job(bj, "block-commit", args, bandwidth, done, data);
}

/* --- write thresholds --- */

/* The image "vda" or "vda[N]" names in DOM's disks: its index, path and disk; FALSE with
 * ERROR. */
static gboolean
image_of(struct domain *dom, const char *dev, unsigned *ret_index, const char **ret_path,
         GError **error)
{
    g_autofree char *target = g_strdup(dev);
    char *bracket = strchr(target, '[');
    guint64 index = 0;
    gboolean valid = TRUE;
    if (bracket) {
        char *end = NULL;
        *bracket = '\0';
        index = g_ascii_strtoull(bracket + 1, &end, 10);
        valid = end != bracket + 1 && g_strcmp0(end, "]") == 0 && index > 0 && index <= G_MAXUINT;
    }
    const struct disk_def *d = valid ? domain_def_find_disk(dom->def, target) : NULL;
    if (!d || !d->source) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "no disk image '%s' in domain '%s'; name a disk's target ('vda') or an image "
                "of its chain ('vda[2]', as dumpxml numbers them)",
                dev, dom->def->name);
        return FALSE;
    }
    gint pos = bracket ? chain_pos(d, (unsigned)index) : 0;
    if (pos < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "disk '%s' has no image with index %u; dumpxml shows its chain", target,
                (unsigned)index);
        return FALSE;
    }
    const struct disk_layer *l = pos ? d->backing->pdata[pos - 1] : NULL;
    *ret_index = l ? l->index : d->source_index;
    *ret_path = l ? l->path : d->source;
    return TRUE;
}

void
core_block_set_threshold(struct domain *dom, const char *dev, guint64 threshold, core_done_fn done,
                         gpointer data)
{
    GError *error = NULL;
    unsigned index;
    const char *path;
    if (!core_domain_require_running(dom, &error) || !image_of(dom, dev, &index, &path, &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    /* on the image's storage: what the file or device holds */
    g_autofree char *node = qemu_device_node_storage(index);
    if (!dom->thresholds)
        dom->thresholds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (threshold)
        g_hash_table_insert(dom->thresholds, g_strdup(node), g_strdup(dev));
    else
        g_hash_table_remove(dom->thresholds, node);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "node-name", node);
    json_object_set_int_member(args, "write-threshold", (gint64)MIN(threshold, G_MAXINT64));
    log_info("%s: write threshold of '%s' (%s): %" G_GUINT64_FORMAT " bytes", dom->def->name, dev,
             path, threshold);
    qmp_command(dom->mon, "block-set-write-threshold", args, NULL, NULL);
    lifecycle_done(done, data, NULL);
}

void
core_block_threshold_event(struct domain *dom, JsonObject *data)
{
    const char *node = data ? qemu_json_string(data, "node-name") : NULL;
    gint64 excess = 0, threshold = 0;
    if (!node || !qemu_json_int(data, "amount-exceeded", &excess) ||
        !qemu_json_int(data, "write-threshold", &threshold))
        return;
    /* the image as it was named, else as libvirt names it */
    const char *named = dom->thresholds ? g_hash_table_lookup(dom->thresholds, node) : NULL;
    g_autofree char *dev = NULL;
    const char *path = NULL;
    for (guint i = 0; !path && i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        guint n = d->backing ? d->backing->len : 0;
        for (guint pos = 0; d->source && !path && pos <= n; pos++) {
            const struct disk_layer *l = pos ? d->backing->pdata[pos - 1] : NULL;
            g_autofree char *storage = qemu_device_node_storage(l ? l->index : d->source_index);
            if (!g_str_equal(storage, node))
                continue;
            path = l ? l->path : d->source;
            dev = named ? g_strdup(named)
                  : pos ? g_strdup_printf("%s[%u]", d->target_dev, l->index)
                        : g_strdup(d->target_dev);
        }
    }
    if (!path)
        return; /* no image of ours */
    log_info("%s: '%s' was written %" G_GINT64_FORMAT " bytes past its threshold", dom->def->name,
             dev, excess);
    struct event ev = {
        .kind = EVENT_ID_BLOCK_THRESHOLD,
        .alias = dev,
        .src_path = path,
        .number = threshold,
        .excess = (guint64)MAX(excess, 0),
    };
    core_domain_emit_event(dom, &ev);
    /* QEMU let go of it: it fires once */
    if (named)
        g_hash_table_remove(dom->thresholds, node);
}

/* --- queries and control --- */

struct info_req {
    struct block_job *bj; /* a reference, or NULL: no job */
    core_block_info_fn done;
    gpointer data;
};

static void
on_info(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct info_req *r = data;
    struct block_job *bj = r->bj;
    struct core_block_info info = {0};
    JsonObject *j =
        error ? NULL : qemu_json_find_object(qemu_json_node_array(result), "device", bj->qemu_job);
    if (j) {
        info.found = TRUE;
        info.type = job_type(bj->job);
        info.cur = (guint64)MAX(qemu_json_int_or(j, "offset", 0), 0);
        info.end = (guint64)MAX(qemu_json_int_or(j, "len", 0), 0);
        info.bandwidth = (guint64)MAX(qemu_json_int_or(j, "speed", 0), 0);
    }
    r->done(NULL, &info, r->data);
    bj_unref(bj);
    g_free(r);
}

void
core_block_job_info(struct domain *dom, const char *path, core_block_info_fn done, gpointer data)
{
    struct core_block_info none = {0};
    GError *error = NULL;
    if (!core_domain_require_running(dom, &error)) {
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    const struct disk_def *d = find_disk(dom, path);
    if (!d) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no disk with path '%s'", path);
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    struct block_job *bj = find_job(dom, path);
    /* a backup shows on its disks as libvirt's does */
    struct core_block_info backup = {.found = TRUE, .type = BLOCK_JOB_TYPE_BACKUP};
    if (!bj && core_backup_disk_progress(dom, d->target_dev, &backup.cur, &backup.end)) {
        done(NULL, &backup, data);
        return;
    }
    if (!bj) {
        done(NULL, &none, data);
        return;
    }
    struct info_req *r = g_new0(struct info_req, 1);
    r->bj = bj_ref(bj);
    r->done = done;
    r->data = data;
    qmp_command(dom->mon, "query-block-jobs", NULL, on_info, r);
}

void
core_block_job_abort(struct domain *dom, const char *path, unsigned flags, core_done_fn done,
                     gpointer data)
{
    GError *error = NULL;
    struct block_job *bj = state_is_active(dom->state) ? find_job(dom, path) : NULL;
    if (!bj || !bj->running || !dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "disk '%s' does not have an active block job", path);
        lifecycle_fail(done, data, error);
        return;
    }
    gboolean pivot = (flags & BLOCK_JOB_ABORT_PIVOT) != 0;
    if (pivot && (bj->job == DISK_MIRROR_JOB_PULL || bj->job == DISK_MIRROR_JOB_COMMIT)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "the block %s of disk '%s' ends by itself; only a copy or an active commit "
                "pivots",
                bj->job == DISK_MIRROR_JOB_PULL ? "pull" : "commit", bj->target);
        lifecycle_fail(done, data, error);
        return;
    }
    if (pivot && !bj->ready) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_BLOCK_COPY_ACTIVE, "disk '%s' not ready for pivot yet",
                bj->target);
        lifecycle_fail(done, data, error);
        return;
    }
    if (bj->ending) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "the block job of disk '%s' is already ending", bj->target);
        lifecycle_fail(done, data, error);
        return;
    }
    bj->ending = TRUE;
    bj->pivot = pivot;
    mirror_update(bj, pivot ? DISK_MIRROR_PIVOT : DISK_MIRROR_ABORT);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "device", bj->qemu_job);
    /* a ready mirror cancelled ends as a point-in-time copy; completed, it pivots */
    qmp_command(dom->mon, pivot ? "block-job-complete" : "block-job-cancel", args, NULL, NULL);
    if (flags & BLOCK_JOB_ABORT_ASYNC) {
        lifecycle_done(done, data, NULL);
        return;
    }
    struct waiter *w = g_new0(struct waiter, 1);
    w->done = done;
    w->data = data;
    g_ptr_array_add(bj->waiters, w);
}

void
core_block_job_set_speed(struct domain *dom, const char *path, guint64 bandwidth, core_done_fn done,
                         gpointer data)
{
    GError *error = NULL;
    struct block_job *bj = state_is_active(dom->state) ? find_job(dom, path) : NULL;
    if (!bj || !dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "disk '%s' does not have an active block job", path);
        lifecycle_fail(done, data, error);
        return;
    }
    bj->bandwidth = bandwidth;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "device", bj->qemu_job);
    json_object_set_int_member(args, "speed", (gint64)MIN(bandwidth, (guint64)G_MAXINT64));
    qmp_command(dom->mon, "block-job-set-speed", args, NULL, NULL);
    lifecycle_done(done, data, NULL);
}

void
core_block_jobs_adopt(struct domain *dom)
{
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        const struct disk_mirror *m = d->mirror;
        if (!m || !d->source)
            continue;
        struct block_job *bj = bj_new(dom, d, m->job, m->path,
                                      m->format != DISK_FORMAT_NONE ? m->format : DISK_FORMAT_RAW,
                                      m->shallow, m->type == DISK_TYPE_BLOCK, m->index);
        bj->top = m->top;
        bj->running = TRUE;
        bj->adopted = TRUE;
        bj->ready = m->ready != DISK_MIRROR_COPYING;
        bj->ending = m->ready == DISK_MIRROR_ABORT || m->ready == DISK_MIRROR_PIVOT;
        bj->pivot = m->ready == DISK_MIRROR_PIVOT;
        g_ptr_array_add(jobs_of(dom), bj);
        log_info("%s: taking up the block %s of disk '%s'", dom->def->name,
                 disk_mirror_job_to_string(bj->job), bj->target);
        /* the first look tells how it went meanwhile */
        bj->timer = g_timeout_add(POLL_MS, on_timer, bj);
        on_timer(bj);
    }
}

void
core_block_jobs_stopped(struct domain *dom)
{
    g_clear_pointer(&dom->thresholds, g_hash_table_unref);
    while (dom->block_jobs && dom->block_jobs->len > 0) {
        struct block_job *bj = dom->block_jobs->pdata[0];
        finish(bj, BLOCK_JOB_FAILED);
    }
}

gboolean
core_block_copy_parse(const char *xml, struct core_block_copy *ret, char **ret_dest, GError **error)
{
    static const char *const disk_attrs[] = {"type", "device", NULL};
    xmlDocPtr doc =
        xml_util_read_document(ERR_FROM_DOMAIN, xml, 64 * 1024, "block copy target", "disk", error);
    if (!doc)
        return FALSE;
    gboolean ok = TRUE;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autofree char *type = xml_util_prop(root, "type");
    g_autofree char *dest = NULL;
    enum disk_format format = DISK_FORMAT_NONE;
    ok = xml_util_check_attrs(ERR_FROM_DOMAIN, root, disk_attrs, error);
    gboolean block = type && g_str_equal(type, "block");
    if (ok && type && !block && !g_str_equal(type, "file")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "a block copy goes to a file or a block device, not a disk of type '%s'", type);
        ok = FALSE;
    }
    for (xmlNodePtr n = root->children; ok && n; n = n->next) {
        if (xml_util_ignorable(n))
            continue;
        if (xml_util_is(n, "source")) {
            g_free(dest);
            dest = xml_util_prop(n, block ? "dev" : "file");
        } else if (xml_util_is(n, "driver")) {
            g_autofree char *t = xml_util_prop(n, "type");
            if (t && g_str_equal(t, "qcow2"))
                format = DISK_FORMAT_QCOW2;
            else if (t && g_str_equal(t, "raw"))
                format = DISK_FORMAT_RAW;
            else if (t) {
                err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                        "disk format '%s' is not supported; use raw or qcow2", t);
                ok = FALSE;
            }
        } else {
            ok = xml_util_unsupported(ERR_FROM_DOMAIN, root, n, error);
        }
    }
    xmlFreeDoc(doc);
    if (ok && (!dest || !g_path_is_absolute(dest))) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "%s",
                "the block copy target needs an absolute <source file='...'/>");
        ok = FALSE;
    }
    if (!ok)
        return FALSE;
    ret->block = block;
    ret->format = format;
    *ret_dest = g_steal_pointer(&dest);
    return TRUE;
}
