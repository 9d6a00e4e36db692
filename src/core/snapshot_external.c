/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_external (prefix snapshot_ext_): external snapshots. The disks' images are frozen
 * under new qcow2 overlays (qemu-img creates them; a running QEMU switches to them in one QMP
 * transaction of blockdev-snapshot), the memory goes into a save image (save.c's writer, QEMU's
 * migration stream). Revert puts fresh overlays on a snapshot's images and starts QEMU on them
 * (from the memory image when there is one). Delete: snapshot_external_delete.c. */
#include "core/snapshot_external.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/guest.h"
#include "core/lifecycle.h"
#include "core/migration.h"
#include "qemu/address.h"
#include "qemu/agent.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "storage/qcow2.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

static void
ext_disk_free(struct ext_disk *d)
{
    g_free(d->target);
    g_free(d->base);
    g_free(d->overlay);
    g_free(d->above);
    g_free(d);
}

void
snapshot_ext_free(struct snap_ext *ext)
{
    if (!ext)
        return;
    g_ptr_array_unref(ext->disks);
    lifecycle_image_clear(&ext->image);
    if (ext->step_error)
        g_error_free(ext->step_error);
    g_free(ext);
}

struct snap_ext *
snapshot_ext_new(void)
{
    struct snap_ext *ext = g_new0(struct snap_ext, 1);
    ext->disks = g_ptr_array_new_with_free_func((GDestroyNotify)ext_disk_free);
    ext->image.fd = -1;
    ext->image.stream_fd = -1;
    return ext;
}

gboolean
snapshot_ext_wanted(const struct snapshot_def *def, unsigned flags)
{
    if (def->memory == SNAPSHOT_LOC_EXTERNAL || (flags & CORE_SNAPSHOT_CREATE_DISK_ONLY))
        return TRUE;
    for (guint i = 0; i < def->disks->len; i++)
        if (((struct snapshot_disk *)def->disks->pdata[i])->snapshot == SNAPSHOT_LOC_EXTERNAL)
            return TRUE;
    return FALSE;
}

/* libvirt's default overlay name: the image's path with what follows its last dot (in the file
 * name) replaced by the snapshot's name, or the name appended. */
static char *
default_overlay(const char *source, const char *name)
{
    const char *slash = strrchr(source, '/');
    const char *dot = strrchr(source, '.');
    if (dot && (!slash || dot > slash + 1))
        return g_strdup_printf("%.*s.%s", (int)(dot - source), source, name);
    return g_strdup_printf("%s.%s", source, name);
}

/* Whether the disk can go under an overlay: a writable disk with an image. */
static gboolean
snapshottable(const struct disk_def *d)
{
    return d->source && !d->readonly && d->device != DISK_DEVICE_CDROM;
}

/* Checks an overlay's path before anything is made: absolute; with REUSE it must exist,
 * without it must not (or be an empty file, as libvirt allows). */
static gboolean
check_overlay(const char *target, const char *path, gboolean reuse, GError **error)
{
    if (!g_path_is_absolute(path)) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "external snapshot file '%s' for disk '%s' is not an absolute path", path, target);
        return FALSE;
    }
    struct stat st;
    gboolean exists = stat(path, &st) == 0;
    if (reuse && !exists) {
        err_set_errno(error, ORIGIN, ENOENT, "missing existing file for disk '%s': '%s'", target,
                      path);
        return FALSE;
    }
    if (!reuse && exists && (!S_ISREG(st.st_mode) || st.st_size > 0)) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "external snapshot file for disk '%s' already exists: '%s'; remove it, name "
                "another, or reuse it with --reuse-external",
                target, path);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    if (!exists && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "directory '%s' of the external snapshot file for disk '%s' does not exist", dir,
                target);
        return FALSE;
    }
    return TRUE;
}

/* The memory image's path: absolute, in an existing directory, not an existing non-file. */
static gboolean
check_memory_file(const char *path, GError **error)
{
    struct stat st;
    g_autofree char *dir = path ? g_path_get_dirname(path) : NULL;
    if (!path)
        err_set(error, ORIGIN, ERR_XML_ERROR, "external memory snapshots require a filename");
    else if (!g_path_is_absolute(path))
        err_set(error, ORIGIN, ERR_XML_ERROR, "memory snapshot file path '%s' must be absolute",
                path);
    else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "directory '%s' of the memory snapshot file does not exist", dir);
    else if (stat(path, &st) == 0)
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "memory snapshot file '%s' already exists; remove it or name another", path);
    else
        return TRUE;
    return FALSE;
}

/* Under the job: what the snapshot covers, checked before anything is touched. */
void
snapshot_ext_create_prepare(struct job *job, struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct snapshot_def *def = op->def;
    unsigned flags = op->flags;
    gboolean active = state_is_active(dom->state);
    if (!snapshot_check_new(op, error))
        return;
    if (active && (dom->state != DOM_RUNNING && dom->state != DOM_PAUSED)) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "domain '%s' is %s; a snapshot needs it running, paused or shut off",
                dom->def->name, state_to_string(dom->state));
        return;
    }
    if (active && !dom->mon) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
        return;
    }
    gboolean memory = def->memory == SNAPSHOT_LOC_EXTERNAL;
    if (memory && (!active || (flags & CORE_SNAPSHOT_CREATE_DISK_ONLY))) {
        err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "memory state cannot be saved with offline or disk-only snapshot");
        return;
    }
    if (def->memory == SNAPSHOT_LOC_INTERNAL) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "mixing internal and external targets for a snapshot is not yet supported");
        return;
    }
    if ((flags & CORE_SNAPSHOT_CREATE_LIVE) && !memory) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "live snapshot creation is supported only during full system snapshots");
        return;
    }
    if ((flags & CORE_SNAPSHOT_CREATE_QUIESCE) && !active) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "domain '%s' is not running: there is nothing to quiesce", dom->def->name);
        return;
    }
    if ((flags & CORE_SNAPSHOT_CREATE_QUIESCE) && !core_guest_agent(dom, error))
        return;
    if (memory && !check_memory_file(def->memory_file, error))
        return;

    g_autoptr(GPtrArray) disks = g_ptr_array_new_with_free_func((GDestroyNotify)snapshot_disk_free);
    struct snap_ext *ext = snapshot_ext_new();
    op->ext = ext;
    ext->memory = memory;
    ext->live = (flags & CORE_SNAPSHOT_CREATE_LIVE) != 0;
    unsigned next_index = qemu_device_next_image(dom->def);
    gboolean reuse = (flags & CORE_SNAPSHOT_CREATE_REUSE_EXTERNAL) != 0;
    ext->reuse = reuse;
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        const struct snapshot_disk *given = snapshot_def_disk(def, d->target_dev);
        enum snapshot_location loc = given ? given->snapshot : SNAPSHOT_LOC_DEFAULT;
        if (loc == SNAPSHOT_LOC_DEFAULT)
            loc = snapshottable(d) ? SNAPSHOT_LOC_EXTERNAL : SNAPSHOT_LOC_NO;
        if (loc == SNAPSHOT_LOC_INTERNAL) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "mixing internal and external targets for a snapshot is not yet supported");
            return;
        }
        if (loc == SNAPSHOT_LOC_MANUAL) {
            err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                    "snapshot='manual' of disk '%s' is not supported", d->target_dev);
            return;
        }
        struct snapshot_disk *sd = g_new0(struct snapshot_disk, 1);
        sd->name = g_strdup(d->target_dev);
        sd->snapshot = loc;
        g_ptr_array_add(disks, sd);
        if (loc != SNAPSHOT_LOC_EXTERNAL)
            continue;
        if (!snapshottable(d)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s' has no writable image to put under an external snapshot",
                    d->target_dev);
            return;
        }
        if (given && given->file) {
            sd->file = g_strdup(given->file);
        } else {
            struct stat st;
            if (d->type != DISK_TYPE_FILE && d->type != DISK_TYPE_VOLUME) {
                err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                        "cannot generate external snapshot name for disk '%s' on a '%s' device; "
                        "give its file",
                        d->target_dev, d->type == DISK_TYPE_BLOCK ? "block" : "other");
                return;
            }
            if (stat(d->source, &st) < 0 || !S_ISREG(st.st_mode)) {
                err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                        "source for disk '%s' is not a regular file; refusing to generate "
                        "external snapshot name",
                        d->target_dev);
                return;
            }
            sd->file = default_overlay(d->source, def->name);
        }
        for (guint j = 0; j < ext->disks->len; j++) {
            const struct ext_disk *other = ext->disks->pdata[j];
            if (g_str_equal(other->overlay, sd->file)) {
                err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                        "disks '%s' and '%s' would share the external snapshot file '%s'",
                        other->target, d->target_dev, sd->file);
                return;
            }
        }
        if (!check_overlay(d->target_dev, sd->file, reuse, error))
            return;
        for (guint j = 0; j < dom->def->disks->len; j++) {
            const struct disk_def *o = dom->def->disks->pdata[j];
            if (g_strcmp0(o->source, sd->file) == 0) {
                err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                        "external snapshot file '%s' for disk '%s' is disk '%s''s image", sd->file,
                        d->target_dev, o->target_dev);
                return;
            }
        }
        struct ext_disk *e = g_new0(struct ext_disk, 1);
        e->target = g_strdup(d->target_dev);
        e->base = g_strdup(d->source);
        e->base_format = d->format == DISK_FORMAT_NONE ? DISK_FORMAT_RAW : d->format;
        e->overlay = g_strdup(sd->file);
        e->index = next_index++;
        g_ptr_array_add(ext->disks, e);
    }
    if (!ext->disks->len) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "domain '%s' has no disk to put under an external snapshot", dom->def->name);
        return;
    }
    def->state = !active                     ? SNAPSHOT_STATE_SHUTOFF
                 : !memory                   ? SNAPSHOT_STATE_DISK_SNAPSHOT
                 : dom->state == DOM_RUNNING ? SNAPSHOT_STATE_RUNNING
                                             : SNAPSHOT_STATE_PAUSED;
    def->memory = memory ? SNAPSHOT_LOC_EXTERNAL : SNAPSHOT_LOC_NO;
    def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    g_free(def->parent);
    def->parent = g_strdup(dom->current_snapshot);
    g_ptr_array_unref(def->disks);
    def->disks = g_steal_pointer(&disks);
    domain_def_free(def->dom);
    def->dom = domain_def_copy(dom->def);
    if (memory) {
        ext->image.path = g_strdup(def->memory_file);
        ext->image.img.xml =
            domain_def_format(dom->def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
        ext->image.img.was_running = dom->state == DOM_RUNNING;
        ext->image.img.compression = dom->core->snapshot_compression;
    }
    op->was_running = dom->state == DOM_RUNNING;
    op->name = g_strdup(def->name);
}

/* --- the steps --- */

/* Whether the step may go on: a client's abort ends the job at the next step. */
static gboolean
step_begins(struct job *job)
{
    struct snap_op *op = job->data;
    if (!op->ext->abort_asked)
        return TRUE;
    job_fail(job, job_aborted_error(job, ORIGIN));
    return FALSE;
}

/* The overlay of D, on the image the disk is on now: written here in qemu-img's layout
 * (storage/qcow2.c), or by qemu-img for a base that layout does not cover. */
static gboolean
make_overlay(const struct ext_disk *d, GError **error)
{
    enum storage_format fmt =
        d->base_format == DISK_FORMAT_QCOW2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW;
    guint64 size = 0;
    if (g_path_is_absolute(d->base) && storage_qcow2_virtual_size(d->base, fmt, &size, NULL) &&
        size % 512 == 0) {
        autoclose int fd = open(d->overlay, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            err_set_errno(error, ORIGIN, errno, "cannot open '%s' for disk '%s'", d->overlay,
                          d->target);
            return FALSE;
        }
        if (!storage_qcow2_write_overlay(fd, d->overlay, size, d->base, fmt, error)) {
            g_prefix_error(error, "cannot create the overlay of disk '%s': ", d->target);
            return FALSE;
        }
        return TRUE;
    }
    const char *argv[] = {"qemu-img",
                          "create",
                          "-q",
                          "-f",
                          "qcow2",
                          "-F",
                          disk_format_to_string(d->base_format),
                          "-b",
                          d->base,
                          d->overlay,
                          NULL};
    g_autofree char *err_out = NULL;
    int status = 0;
    GError *spawn_error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, &err_out, &status, &spawn_error) ||
        !g_spawn_check_wait_status(status, NULL)) {
        err_set(error, ORIGIN, ERR_OPERATION_FAILED,
                "cannot create the overlay '%s' of disk '%s': %s", d->overlay, d->target,
                spawn_error ? spawn_error->message
                            : (err_out && *err_out ? g_strstrip(err_out) : "error"));
        g_clear_error(&spawn_error);
        return FALSE;
    }
    return TRUE;
}

/* In a worker thread: the overlays. An existing empty file is taken as it is (libvirt does);
 * a file made here is removed if the snapshot fails. */
static gboolean
overlays_in_thread(struct job *job, gpointer data, GError **ret_error)
{
    struct snap_op *op = job->data;
    if (op->ext->reuse)
        return TRUE;
    for (guint i = 0; i < op->ext->disks->len; i++) {
        struct ext_disk *d = op->ext->disks->pdata[i];
        int fd = open(d->overlay, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            d->created = TRUE;
            close(fd);
        } else if (errno != EEXIST) {
            err_set_errno(ret_error, ORIGIN, errno, "cannot create '%s' for disk '%s'", d->overlay,
                          d->target);
            return FALSE;
        }
        if (!make_overlay(d, ret_error))
            return FALSE;
        job_set_progress(job, i + 1, op->ext->disks->len);
    }
    return TRUE;
}

static void
step_overlays(struct job *job)
{
    struct snap_op *op = job->data;
    GError *error = NULL;
    /* a create leaves a record first, and the status names the job: a daemon that dies from
     * here on finishes or undoes the snapshot (core_snapshot_recover) */
    if (op->def && (!snapshot_pending_write(op->dom, op->def, TRUE, op->flags, &error) ||
                    (state_is_active(op->dom->state) && !core_status_write(op->dom, &error)))) {
        job_fail(job, error);
        return;
    }
    job_step_in_thread(job, overlays_in_thread, NULL, NULL);
}

static void
on_agent_step(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct snap_op *op = job->data;
    if (job->finished) {
        /* the job ended meanwhile: a freeze that took effect late is undone */
        if (!error && op->dom->agent)
            agent_command(op->dom->agent, "guest-fsfreeze-thaw", NULL, 0, NULL, NULL);
    } else if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "quiescing the guest's file systems: ");
        job_fail(job, e);
    } else {
        op->ext->frozen = TRUE;
        job_next(job);
    }
    job_unref(job);
}

static void
step_freeze(struct job *job)
{
    struct snap_op *op = job->data;
    if (!step_begins(job))
        return;
    if (!(op->flags & CORE_SNAPSHOT_CREATE_QUIESCE)) {
        job_next(job);
        return;
    }
    GError *error = NULL;
    struct agent *ag = core_guest_agent(op->dom, &error);
    if (!ag) {
        job_fail(job, error);
        return;
    }
    agent_command(ag, "guest-fsfreeze-freeze", NULL, 0, on_agent_step, job_ref(job));
}

static void
step_header(struct job *job)
{
    struct snap_op *op = job->data;
    GError *error = NULL;
    if (!step_begins(job))
        return;
    if (op->ext->memory && !lifecycle_image_open(&op->ext->image, op->dom, &error))
        job_fail(job, error);
    else
        job_next(job);
}

static void
on_paused(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct snap_op *op = job->data;
    if (error) {
        job_fail(job, g_error_copy(error));
    } else if (!job->finished) {
        op->ext->paused = TRUE;
        core_domain_transition(op->dom, IN_SNAPSHOT_PAUSED, NULL);
        if (step_begins(job))
            job_next(job);
    }
    job_unref(job);
}

/* Without LIVE, a running guest is paused first: the memory and the disks are of one moment. */
static void
step_pause(struct job *job)
{
    struct snap_op *op = job->data;
    if (!step_begins(job))
        return;
    if (!op->ext->memory || op->ext->live || op->dom->state != DOM_RUNNING) {
        job_next(job);
        return;
    }
    qmp_command(op->dom->mon, "stop", NULL, on_paused, job_ref(job));
}

/* QEMU writes the memory; with LIVE it stops the vCPUs itself once the rest is small. */
static void
step_migrate(struct job *job)
{
    struct snap_op *op = job->data;
    if (!step_begins(job))
        return;
    if (!op->ext->memory) {
        job_next(job);
        return;
    }
    if (op->ext->live && op->dom->state == DOM_RUNNING)
        op->ext->paused = TRUE; /* QEMU pauses at the end: the guest runs again after */
    migration_run(job, op->dom, lifecycle_image_stream_fd(&op->ext->image), FALSE);
}

/* a compressed memory image: its program writes the rest */
static void
step_compress(struct job *job)
{
    struct snap_op *op = job->data;
    if (!step_begins(job))
        return;
    if (op->ext->memory)
        lifecycle_image_finish_stream(job, &op->ext->image);
    else
        job_next(job);
}

static gboolean
sync_in_thread(struct job *job, gpointer data, GError **ret_error)
{
    struct snap_op *op = job->data;
    return lifecycle_image_commit(&op->ext->image, FALSE, ret_error);
}

static void
step_sync(struct job *job)
{
    struct snap_op *op = job->data;
    if (op->ext->memory)
        job_step_in_thread(job, sync_in_thread, NULL, NULL);
    else
        job_next(job);
}

/* A reply of the several a step waits for: the step ends with the last. */
static void
on_pending(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct snap_op *op = job->data;
    if (error && !op->ext->step_error)
        op->ext->step_error = g_error_copy(error);
    if (--op->ext->pending == 0 && !job->finished) {
        if (op->ext->step_error)
            job_fail(job, g_steal_pointer(&op->ext->step_error));
        else if (step_begins(job))
            job_next(job);
    }
    job_unref(job);
}

/* The overlays' nodes join QEMU's block graph, each with no backing yet. */
static void
step_attach(struct job *job)
{
    struct snap_op *op = job->data;
    if (!step_begins(job))
        return;
    if (!state_is_active(op->dom->state)) {
        job_next(job);
        return;
    }
    for (guint i = 0; i < op->ext->disks->len; i++) {
        struct ext_disk *d = op->ext->disks->pdata[i];
        const struct disk_def *disk = domain_def_find_disk(op->dom->def, d->target);
        g_autoptr(GPtrArray) nodes = qemu_device_overlay_blockdevs(
            disk, d->overlay, d->index, core_disk_aio(op->dom->core, op->dom->emulator));
        d->added = TRUE;
        for (guint j = 0; j < nodes->len; j++) {
            op->ext->pending++;
            qmp_command(op->dom->mon, "blockdev-add", json_object_ref(nodes->pdata[j]), on_pending,
                        job_ref(job));
        }
    }
}

/* Every disk moves onto its overlay at once, or none does. */
static void
step_switch(struct job *job)
{
    struct snap_op *op = job->data;
    if (!step_begins(job))
        return;
    if (!state_is_active(op->dom->state)) {
        job_next(job);
        return;
    }
    JsonArray *actions = json_array_new();
    for (guint i = 0; i < op->ext->disks->len; i++) {
        struct ext_disk *d = op->ext->disks->pdata[i];
        const struct disk_def *disk = domain_def_find_disk(op->dom->def, d->target);
        JsonObject *a = json_object_new();
        json_object_set_string_member(a, "type", "blockdev-snapshot");
        JsonObject *data = json_object_new();
        g_autofree char *node = qemu_device_node_format(disk->source_index);
        g_autofree char *overlay = qemu_device_node_format(d->index);
        json_object_set_string_member(data, "node", node);
        json_object_set_string_member(data, "overlay", overlay);
        json_object_set_object_member(a, "data", data);
        json_array_add_object_element(actions, a);
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "actions", actions);
    op->ext->pending = 1;
    qmp_command(op->dom->mon, "transaction", args, on_pending, job_ref(job));
}

/* An overlay's nodes leave QEMU's block graph (format node first); a failure is logged by the
 * monitor and changes nothing we keep. */
void
snapshot_ext_del_nodes(struct domain *dom, unsigned index)
{
    g_autofree char *fmt = qemu_device_node_format(index);
    g_autofree char *proto = qemu_device_node_storage(index);
    JsonObject *a = json_object_new();
    json_object_set_string_member(a, "node-name", fmt);
    qmp_command(dom->mon, "blockdev-del", a, NULL, NULL);
    a = json_object_new();
    json_object_set_string_member(a, "node-name", proto);
    qmp_command(dom->mon, "blockdev-del", a, NULL, NULL);
}

/* The changed definitions are kept: the persistent one in the configuration, the live one in
 * the status. */
void
snapshot_ext_keep_definitions(struct domain *dom, struct domain_def *persistent, gboolean active)
{
    GError *error = NULL;
    if (dom->persistent && persistent && !core_config_save(dom->core, persistent, &error)) {
        log_warn("%s: %s", dom->def->name, error->message);
        g_clear_error(&error);
    }
    if (active && !core_status_write(dom, &error)) {
        log_warn("%s: %s", dom->def->name, error->message);
        g_clear_error(&error);
    }
}

/* The definitions follow: each disk's image is its overlay now, the old image below it. */
static void
switch_definitions(struct snap_op *op)
{
    struct domain *dom = op->dom;
    gboolean active = state_is_active(dom->state);
    struct domain_def *persistent = active ? dom->new_def : dom->def;
    for (guint i = 0; i < op->ext->disks->len; i++) {
        struct ext_disk *d = op->ext->disks->pdata[i];
        struct disk_def *live = active ? domain_def_find_disk(dom->def, d->target) : NULL;
        if (live) {
            struct disk_layer *l = g_new0(struct disk_layer, 1);
            l->type = live->type == DISK_TYPE_BLOCK ? DISK_TYPE_BLOCK : DISK_TYPE_FILE;
            l->path = g_strdup(live->source);
            l->format = d->base_format;
            l->index = live->source_index;
            if (!live->backing)
                live->backing = g_ptr_array_new_with_free_func((GDestroyNotify)disk_layer_free);
            g_ptr_array_insert(live->backing, 0, l);
            g_free(live->source);
            live->source = g_strdup(d->overlay);
            live->format = DISK_FORMAT_QCOW2;
            live->source_index = d->index;
            if (live->type == DISK_TYPE_VOLUME || live->type == DISK_TYPE_BLOCK)
                live->type = DISK_TYPE_FILE;
        }
        /* the persistent disk follows when it is on the same image (libvirt's rule) */
        struct disk_def *p = persistent ? domain_def_find_disk(persistent, d->target) : NULL;
        if (p && g_strcmp0(p->source, d->base) == 0) {
            g_free(p->source);
            p->source = g_strdup(d->overlay);
            p->format = DISK_FORMAT_QCOW2;
            g_clear_pointer(&p->source_pool, g_free);
            g_clear_pointer(&p->source_volume, g_free);
            p->type = DISK_TYPE_FILE;
        }
    }
    snapshot_ext_keep_definitions(dom, persistent, active);
}

/* Undoes what a failed snapshot made: the nodes, the files, the freeze, the pause. */
static void
undo(struct snap_op *op)
{
    struct domain *dom = op->dom;
    gboolean qemu = state_is_active(dom->state) && dom->mon && !lifecycle_process_gone(dom);
    for (guint i = 0; i < op->ext->disks->len; i++) {
        struct ext_disk *d = op->ext->disks->pdata[i];
        if (d->added && qemu) {
            snapshot_ext_del_nodes(dom, d->index);
        }
        if (d->created)
            unlink(d->overlay);
    }
    if (op->ext->image.renamed)
        file_remove_large(op->ext->image.path, NULL);
}

void
snapshot_ext_recovered(struct domain *dom, const struct snapshot_def *def, GPtrArray *switched)
{
    struct snap_op *op = g_new0(struct snap_op, 1);
    op->dom = core_domain_ref(dom);
    op->ext = snapshot_ext_new();
    guint k = 0;
    for (guint i = 0; i < def->disks->len; i++) {
        const struct snapshot_disk *sd = def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, sd->name);
        if (sd->snapshot != SNAPSHOT_LOC_EXTERNAL || !d || k >= switched->len)
            continue;
        /* the overlay's format node: "domus-N-format" */
        const char *node = switched->pdata[k++];
        if (g_strcmp0(d->source, sd->file) == 0)
            continue; /* the dead daemon had switched the definitions already */
        g_autofree char *num = node && g_str_has_prefix(node, "domus-")
                                   ? g_strndup(node + 6, strcspn(node + 6, "-"))
                                   : NULL;
        guint64 index = 0;
        if (!num || !g_ascii_string_to_unsigned(num, 10, 1, G_MAXUINT, &index, NULL))
            continue;
        struct ext_disk *e = g_new0(struct ext_disk, 1);
        e->target = g_strdup(sd->name);
        e->base = g_strdup(d->source);
        e->base_format = d->format == DISK_FORMAT_NONE ? DISK_FORMAT_RAW : d->format;
        e->overlay = g_strdup(sd->file);
        e->index = (unsigned)index;
        g_ptr_array_add(op->ext->disks, e);
    }
    switch_definitions(op);
    snapshot_op_free(op);
}

void
snapshot_ext_unmade(struct domain *dom, const struct snapshot_def *def)
{
    /* the nodes were numbered from the live definition, which is the same as then */
    unsigned index = qemu_device_next_image(dom->def);
    for (guint i = 0; dom->mon && i < def->disks->len; i++) {
        const struct snapshot_disk *sd = def->disks->pdata[i];
        if (sd->snapshot != SNAPSHOT_LOC_EXTERNAL)
            continue;
        snapshot_ext_del_nodes(dom, index++);
    }
}

static void
ext_create_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    struct snap_ext *ext = op->ext;
    g_clear_pointer(&dom->save_file, g_free);
    gboolean qemu = state_is_active(dom->state) && dom->mon && !lifecycle_process_gone(dom);
    if (ext->frozen && qemu && dom->agent)
        agent_command(dom->agent, "guest-fsfreeze-thaw", NULL, 0, NULL, NULL);
    ext->frozen = FALSE;
    if (error) {
        undo(op);
        lifecycle_image_clear(&ext->image); /* the partial memory file, before the reply */
        if (ext->paused && qemu && dom->state == DOM_PAUSED) {
            qmp_command(dom->mon, "cont", NULL, NULL, NULL);
            core_domain_transition(dom, IN_RESUMED, NULL);
        }
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "snapshot of '%s': ", dom->def->name);
        job_set_error(job, e);
        snapshot_pending_clear(dom);
        return;
    }
    switch_definitions(op);
    job_crash_point(job, "commit");
    /* libvirt's once the memory is saved (as after a save) */
    if (ext->memory)
        core_domain_emit_job_completed(dom, FALSE, NULL);
    if (qemu && (op->flags & CORE_SNAPSHOT_CREATE_HALT)) {
        lifecycle_kill_and_reap(dom);
        lifecycle_stopped(dom, IN_STOPPED_FROM_SNAPSHOT);
    } else if (ext->paused && qemu) {
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        if (dom->state == DOM_PAUSED)
            core_domain_transition(dom, IN_RESUMED, NULL);
    }
    snapshot_keep_new(job, op);
    /* last: a daemon that dies before this keeps the snapshot from the record (the live and
     * persistent definitions may already be switched: snapshot_ext_recovered) */
    snapshot_pending_clear(dom);
}

/* domjobabort, destroy or QEMU's exit */
static void
ext_create_abort(struct job *job)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    if (dom->destroying || (state_is_active(dom->state) && lifecycle_process_gone(dom))) {
        GError *error = NULL;
        err_set(&error, ORIGIN, ERR_OPERATION_FAILED,
                dom->destroying ? "the snapshot was cut short by destroy"
                                : "QEMU exited during the snapshot");
        job_fail(job, error);
        return;
    }
    const char *phase = job_phase(job);
    if (g_str_equal(phase, "migrate") && migration_cancel(dom))
        return; /* the step fails when QEMU reports the migration cancelled */
    /* a step in flight finishes; the next one fails (the switch cannot be taken back) */
    op->ext->abort_asked = !g_str_equal(phase, "switch");
}

static const struct job_step ext_create_steps[] = {
    {"overlays", step_overlays}, {"freeze", step_freeze},
    {"header", step_header},     {"pause", step_pause},
    {"migrate", step_migrate},   {"compress", step_compress},
    {"sync", step_sync},         {"attach", step_attach},
    {"switch", step_switch},     {NULL, NULL},
};

const struct job_pipeline snapshot_ext_create_pipeline = {
    .steps = ext_create_steps,
    .finish = ext_create_finish,
    .abort = ext_create_abort,
    .abortable = TRUE,
};

/* --- revert --- */

void
core_revert_disk_free(struct core_revert_disk *disk)
{
    g_free(disk->target);
    g_free(disk->backfile);
    g_free(disk->runfile);
    g_free(disk);
}

/* A revert's request: what outlives its job (the start that follows it). */
struct revert {
    struct domain *dom;
    char *memory_file;        /* the seed's --memspec; NULL: the snapshot's */
    GPtrArray *specs;         /* struct core_revert_disk * (the seed's --diskspec), or NULL */
    struct domain_def *start; /* the definition to start, once the overlays are made */
    int mem_fd;               /* the memory image's stream, or -1 */
    guint32 mem_compression;  /* ... and how it is compressed (a qemu_saveimage_compression) */
    char *mem_path;
    gboolean run;  /* the vCPUs run after */
    gboolean boot; /* no memory: a boot, when asked (--running, --paused) */
    core_done_fn done;
    gpointer data;
};

static void
revert_free(struct revert *rv)
{
    domain_def_free(rv->start);
    file_close_fd(&rv->mem_fd);
    g_free(rv->mem_path);
    if (rv->specs)
        g_ptr_array_unref(rv->specs);
    g_free(rv->memory_file);
    core_domain_unref(rv->dom);
    g_free(rv);
}

/* The revert is over (started, or failed): a transient domain that is not running goes. */
static void
revert_end(struct revert *rv, GError *error)
{
    snapshot_revert_over(rv->dom);
    lifecycle_done(rv->done, rv->data, error);
    revert_free(rv);
}

static void
revert_started(GError *error, gpointer data)
{
    struct revert *rv = data;
    if (!error)
        log_info("%s: started from its reverted state", rv->dom->def->name);
    revert_end(rv, error);
}

/* A fresh overlay's name beside BASE: its path without the suffix, then the time (libvirt's
 * choice), then a count when that is taken. */
static char *
fresh_overlay(const char *base)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autofree char *name = g_strdup_printf("%" G_GINT64_FORMAT, now);
    char *path = default_overlay(base, name);
    for (int n = 1; g_file_test(path, G_FILE_TEST_EXISTS) && n < 1000; n++) {
        g_free(path);
        g_autofree char *counted = g_strdup_printf("%s-%d", name, n);
        path = default_overlay(base, counted);
    }
    return path;
}

static const struct core_revert_disk *
find_spec(GPtrArray *specs, const char *target)
{
    for (guint i = 0; specs && i < specs->len; i++) {
        const struct core_revert_disk *d = specs->pdata[i];
        if (g_str_equal(d->target, target))
            return d;
    }
    return NULL;
}

/* An inactive copy of a definition kept with a snapshot (live fields dropped). */
static struct domain_def *
inactive_copy(const struct domain_def *def, GError **error)
{
    g_autofree char *xml =
        domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    return domain_def_parse(xml, 0, error);
}

/* Under the job: the definition to run and the overlays it runs on, checked before anything
 * changes. SNAP: the snapshot reverted to (NULL: the seed's form without metadata). */
static gboolean
revert_plan(struct snap_op *op, const struct snapshot_def *snap, GError **error)
{
    struct domain *dom = op->dom;
    struct revert *rv = op->ext->rv;
    const char *memory = rv->memory_file;
    if (!memory && snap && snap->memory == SNAPSHOT_LOC_EXTERNAL)
        memory = snap->memory_file;
    if (snap && !snap->dom) {
        err_set(error, ORIGIN, ERR_SNAPSHOT_REVERT_RISKY,
                "snapshot '%s' lacks domain '%s' rollback info", snap->name, dom->def->name);
        return FALSE;
    }
    g_autoptr(domain_def) def = NULL;
    if (memory) {
        g_autoptr(domain_def) saved = NULL;
        gboolean running = FALSE;
        rv->mem_fd = lifecycle_image_load(memory, &saved, &running, &rv->mem_compression, error);
        rv->mem_path = g_strdup(memory);
        if (rv->mem_fd < 0)
            return FALSE;
        if (memcmp(saved->uuid, dom->def->uuid, sizeof(saved->uuid))) {
            err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                    "memory image '%s' holds another domain than '%s'", memory, dom->def->name);
            return FALSE;
        }
        def = snap ? inactive_copy(snap->dom, error) : g_steal_pointer(&saved);
        if (!def || (saved && !lifecycle_image_check_abi(saved, def, error)))
            return FALSE;
        gboolean was_running = snap ? snap->state == SNAPSHOT_STATE_RUNNING : running;
        rv->run = (op->flags & CORE_SNAPSHOT_REVERT_RUNNING) ||
                  (!(op->flags & CORE_SNAPSHOT_REVERT_PAUSED) && was_running);
    } else {
        if (snap &&
            (snap->state == SNAPSHOT_STATE_RUNNING || snap->state == SNAPSHOT_STATE_PAUSED)) {
            err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                    "snapshot '%s' has no memory image to revert to", snap->name);
            return FALSE;
        }
        const struct domain_def *from = snap                                          ? snap->dom
                                        : state_is_active(dom->state) && dom->new_def ? dom->new_def
                                                                                      : dom->def;
        def = inactive_copy(from, error);
        if (!def)
            return FALSE;
        rv->boot = (op->flags & (CORE_SNAPSHOT_REVERT_RUNNING | CORE_SNAPSHOT_REVERT_PAUSED)) != 0;
        rv->run = (op->flags & CORE_SNAPSHOT_REVERT_RUNNING) != 0;
        if (!dom->persistent && !rv->boot) {
            err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                    "transient domain needs to request run or pause to revert to inactive "
                    "snapshot");
            return FALSE;
        }
    }
    for (guint i = 0; rv->specs && i < rv->specs->len; i++) {
        const struct core_revert_disk *spec = rv->specs->pdata[i];
        if (!domain_def_find_disk(def, spec->target)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "no disk with target '%s' in domain '%s'", spec->target, dom->def->name);
            return FALSE;
        }
    }
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        const struct core_revert_disk *spec = find_spec(rv->specs, d->target_dev);
        if (!snapshottable(d))
            continue;
        const char *base = spec && spec->backfile ? spec->backfile : d->source;
        if (!g_file_test(base, G_FILE_TEST_IS_REGULAR)) {
            err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                    "image '%s' of disk '%s' to revert to does not exist", base, d->target_dev);
            return FALSE;
        }
        struct ext_disk *e = g_new0(struct ext_disk, 1);
        g_ptr_array_add(op->ext->disks, e);
        e->target = g_strdup(d->target_dev);
        e->base = g_strdup(base);
        e->base_format = spec && spec->backfile          ? DISK_FORMAT_QCOW2
                         : d->format == DISK_FORMAT_NONE ? DISK_FORMAT_RAW
                                                         : d->format;
        e->overlay = spec && spec->runfile ? g_strdup(spec->runfile) : fresh_overlay(base);
        if (!check_overlay(d->target_dev, e->overlay, FALSE, error))
            return FALSE;
        g_free(d->source);
        d->source = g_strdup(e->overlay);
        d->format = DISK_FORMAT_QCOW2;
        d->type = DISK_TYPE_FILE;
        g_clear_pointer(&d->source_pool, g_free);
        g_clear_pointer(&d->source_volume, g_free);
    }
    if (!core_validate_for_host(op->dom->core, def, error) || !qemu_address_assign(def, error))
        return FALSE;
    rv->start = g_steal_pointer(&def);
    return TRUE;
}

/* Whether PATH is an image something still needs: a snapshot's, or the domain's. */
static gboolean
image_in_use(struct domain *dom, const char *path, const struct domain_def *next)
{
    const struct domain_def *defs[] = {dom->def, dom->new_def, next};
    for (guint k = 0; k < G_N_ELEMENTS(defs); k++) {
        const struct domain_def *d = defs[k];
        for (guint i = 0; d && i < d->disks->len; i++) {
            const struct disk_def *disk = d->disks->pdata[i];
            if (g_strcmp0(disk->source, path) == 0)
                return TRUE;
        }
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct snapshot_def *s = v;
        for (guint i = 0; s->dom && i < s->dom->disks->len; i++)
            if (g_strcmp0(((struct disk_def *)s->dom->disks->pdata[i])->source, path) == 0)
                return TRUE;
    }
    return FALSE;
}

/* The snapshot's metadata after a revert to it: the fresh overlays are where the domain runs
 * on (its disks, or its revert disks when it has children); what the current snapshot ran on
 * before is left behind, and goes. */
static void
revert_metadata(struct snap_op *op, struct snapshot_def *snap)
{
    struct domain *dom = op->dom;
    struct snapshot_def *cur =
        dom->current_snapshot ? g_hash_table_lookup(dom->snapshots, dom->current_snapshot) : NULL;
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    if (cur && !snapshot_is_internal(cur)) {
        GPtrArray *list =
            cur->revert_disks && cur->revert_disks->len ? cur->revert_disks : cur->disks;
        for (guint i = 0; i < list->len; i++) {
            const struct snapshot_disk *d = list->pdata[i];
            if (d->snapshot == SNAPSHOT_LOC_EXTERNAL && d->file)
                g_ptr_array_add(gone, g_strdup(d->file));
        }
        if (cur->revert_disks)
            g_ptr_array_set_size(cur->revert_disks, 0);
    }
    gboolean children = snapshot_has_children(dom, snap->name);
    GPtrArray *fresh = g_ptr_array_new_with_free_func((GDestroyNotify)snapshot_disk_free);
    for (guint i = 0; i < op->ext->disks->len; i++) {
        const struct ext_disk *e = op->ext->disks->pdata[i];
        struct snapshot_disk *d = g_new0(struct snapshot_disk, 1);
        d->name = g_strdup(e->target);
        d->snapshot = SNAPSHOT_LOC_EXTERNAL;
        d->file = g_strdup(e->overlay);
        g_ptr_array_add(fresh, d);
    }
    if (children) {
        if (snap->revert_disks)
            g_ptr_array_unref(snap->revert_disks);
        snap->revert_disks = fresh;
    } else {
        for (guint i = 0; i < snap->disks->len; i++) {
            const struct snapshot_disk *old = snap->disks->pdata[i];
            if (!snapshot_def_disk_in(fresh, old->name)) {
                struct snapshot_disk *d = g_new0(struct snapshot_disk, 1);
                d->name = g_strdup(old->name);
                d->snapshot = old->snapshot;
                g_ptr_array_add(fresh, d);
            }
        }
        g_ptr_array_unref(snap->disks);
        snap->disks = fresh;
    }
    g_free(dom->current_snapshot);
    dom->current_snapshot = g_strdup(snap->name);
    GError *error = NULL;
    if ((cur && cur != snap && !snapshot_write_meta(dom, cur, &error)) ||
        !snapshot_write_meta(dom, snap, &error) || !snapshot_write_current(dom, &error)) {
        log_warn("%s: %s", dom->def->name, error->message);
        g_clear_error(&error);
    }
    for (guint i = 0; i < gone->len; i++) {
        const char *path = gone->pdata[i];
        if (image_in_use(dom, path, op->ext->rv->start))
            continue;
        log_info("%s: removing '%s', what the domain ran on before the revert", dom->def->name,
                 path);
        unlink(path);
    }
}

static void
ext_revert_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    struct revert *rv = op->ext->rv;
    if (error) {
        undo(op);
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "reverting '%s': ", dom->def->name);
        job_set_error(job, e);
        return;
    }
    /* the domain's configuration is the reverted one from now on */
    if (dom->persistent) {
        GError *e = NULL;
        if (!core_config_save(dom->core, rv->start, &e)) {
            g_prefix_error(&e, "reverting '%s': ", dom->def->name);
            job_set_error(job, e);
            undo(op);
            return;
        }
        domain_def_free(dom->def);
        dom->def = domain_def_copy(rv->start);
    }
    struct snapshot_def *snap = op->name ? g_hash_table_lookup(dom->snapshots, op->name) : NULL;
    if (snap)
        revert_metadata(op, snap);
    log_info("%s: reverted to %s '%s'", dom->def->name, snap ? "snapshot" : "the images of",
             snap ? snap->name : ((struct ext_disk *)op->ext->disks->pdata[0])->base);
}

static const struct job_step ext_revert_steps[] = {
    /* overlays first: a revert that cannot make them changes nothing; then QEMU stops */
    {"overlays", step_overlays},
    {"stop", snapshot_stop_step},
    {NULL, NULL},
};

static const struct job_pipeline ext_revert_pipeline = {
    .steps = ext_revert_steps,
    .finish = ext_revert_finish,
    .abort = NULL,
    .abortable = FALSE,
};

/* The job is over: the domain starts on the overlays when it must. */
static void
revert_prepared(GError *error, gpointer data)
{
    struct revert *rv = data;
    if (error || (rv->mem_fd < 0 && !rv->boot)) {
        revert_end(rv, error);
        return;
    }
    struct domain_def *def = g_steal_pointer(&rv->start);
    if (rv->mem_fd >= 0)
        lifecycle_start_restore(
            rv->dom, def, g_steal_fd(&rv->mem_fd), rv->mem_compression, rv->mem_path,
            rv->run ? IN_STARTED_FROM_SNAPSHOT : IN_STARTED_FROM_SNAPSHOT_PAUSED, 0, revert_started,
            rv);
    else
        core_create_xml_start(rv->dom, def, rv->run ? 0 : CORE_START_PAUSED, revert_started, rv);
}

struct revert_begin {
    struct revert *rv;
    char *name;
    unsigned flags;
};

static void
revert_begin(struct job *job, GError *error, gpointer data)
{
    struct revert_begin *rb = data;
    struct revert *rv = rb->rv;
    struct domain *dom = rv->dom;
    struct snap_op *op = g_new0(struct snap_op, 1);
    op->dom = core_domain_ref(dom);
    op->name = g_steal_pointer(&rb->name);
    op->flags = rb->flags;
    op->ext = snapshot_ext_new();
    op->ext->rv = rv;
    g_free(rb);
    if (!job) {
        snapshot_op_free(op);
        revert_end(rv, error);
        g_error_free(error);
        return;
    }
    GError *err = NULL;
    const struct snapshot_def *snap = op->name ? core_snapshot_lookup(dom, op->name, &err) : NULL;
    if (!err && state_is_active(dom->state) && dom->state != DOM_RUNNING &&
        dom->state != DOM_PAUSED)
        err_set(&err, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is %s; destroy it first",
                dom->def->name, state_to_string(dom->state));
    if (err || !revert_plan(op, snap, &err)) {
        job_cancel(job, NULL, NULL, NULL);
        snapshot_op_free(op);
        revert_end(rv, err);
        g_error_free(err);
        return;
    }
    job_run(job, op, snapshot_op_free, revert_prepared, rv);
}

void
core_snapshot_revert_external(struct domain *dom, const char *name, const char *memory_file,
                              GPtrArray *disks, unsigned flags, core_done_fn done, gpointer data)
{
    struct revert *rv = g_new0(struct revert, 1);
    rv->dom = core_domain_ref(dom);
    rv->memory_file = g_strdup(memory_file);
    rv->specs = disks ? g_ptr_array_ref(disks) : NULL;
    rv->mem_fd = -1;
    rv->done = done;
    rv->data = data;
    GError *error = NULL;
    if ((flags & CORE_SNAPSHOT_REVERT_RUNNING) && (flags & CORE_SNAPSHOT_REVERT_PAUSED))
        err_set(&error, ORIGIN, ERR_INVALID_ARG,
                "flags 'running' and 'paused' are mutually exclusive");
    else if (memory_file && !g_path_is_absolute(memory_file))
        err_set(&error, ORIGIN, ERR_INVALID_ARG, "memory image path '%s' is not absolute",
                memory_file);
    else if (!name && !memory_file && (!disks || !disks->len))
        err_set(&error, ORIGIN, ERR_INVALID_ARG,
                "name the snapshot, or give the memory image and the disks' images to revert to");
    if (error) {
        revert_end(rv, error);
        g_error_free(error);
        return;
    }
    struct revert_begin *rb = g_new0(struct revert_begin, 1);
    rb->rv = rv;
    rb->name = g_strdup(name);
    rb->flags = flags;
    job_acquire(&dom->jobs, JOB_SNAPSHOT_REVERT, &ext_revert_pipeline, dom->core->job_wait_ms,
                revert_begin, rb);
}
