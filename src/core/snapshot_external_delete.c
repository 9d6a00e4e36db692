/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_external_delete (prefix snapshot_ext_): deleting an external snapshot. Its overlay is
 * merged into the image below: block-commit while the domain runs (an active one pivots),
 * qemu-img commit (and a rebase of the image above) while it is shut off; a leaf the domain left
 * loses its images. */
#include "core/snapshot_external.h"

#include <string.h>
#include <unistd.h>

#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/file.h"
#include "storage/chain.h"
#include "util/err.h"
#include "util/log.h"

/* --- delete --- */

/* The images DISK runs on, its top first: the live chain of a running domain, the persistent
 * definition's probed one of a shut off domain. RET_FORMATS: each one's format. */
static GPtrArray *
disk_chain(struct domain *dom, const char *target, GArray **ret_formats, GError **error)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    GArray *formats = g_array_new(FALSE, FALSE, sizeof(enum disk_format));
    *ret_formats = formats;
    const struct disk_def *d = domain_def_find_disk(dom->def, target);
    if (!d || !d->source)
        return paths;
    enum disk_format top = d->format == DISK_FORMAT_NONE ? DISK_FORMAT_RAW : d->format;
    g_ptr_array_add(paths, g_strdup(d->source));
    g_array_append_val(formats, top);
    if (state_is_active(dom->state)) {
        for (guint i = 0; d->backing && i < d->backing->len; i++) {
            const struct disk_layer *l = d->backing->pdata[i];
            g_ptr_array_add(paths, g_strdup(l->path));
            g_array_append_val(formats, l->format);
        }
        return paths;
    }
    g_autoptr(GPtrArray) layers = storage_chain_probe(
        d->source, top == DISK_FORMAT_QCOW2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW, error);
    if (!layers) {
        g_prefix_error(error, "disk '%s': ", target);
        g_ptr_array_unref(paths);
        return NULL;
    }
    for (guint i = 0; i < layers->len; i++) {
        const struct storage_chain_layer *l = layers->pdata[i];
        enum disk_format f =
            l->format == STORAGE_FORMAT_QCOW2 ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
        g_ptr_array_add(paths, g_strdup(l->path));
        g_array_append_val(formats, f);
    }
    return paths;
}

static gint
find_path(GPtrArray *paths, const char *path)
{
    for (guint i = 0; i < paths->len; i++)
        if (g_str_equal(paths->pdata[i], path))
            return (gint)i;
    return -1;
}

/* How one disk of SNAP goes: its overlay merged into the image below (the snapshot's own), or,
 * for a leaf the domain left, its images dropped. */
static gboolean
plan_disk(struct snap_op *op, const struct snapshot_def *snap, const struct snapshot_disk *sd,
          gboolean current, gboolean leaf, GError **error)
{
    struct domain *dom = op->dom;
    const struct disk_def *at = domain_def_find_disk(snap->dom, sd->name);
    if (!at || !at->source) {
        err_set(error, ORIGIN, ERR_OPERATION_FAILED, "failed to find disk '%s' in snapshot VM XML",
                sd->name);
        return FALSE;
    }
    struct ext_disk *e = g_new0(struct ext_disk, 1);
    g_ptr_array_add(op->ext->disks, e);
    e->target = g_strdup(sd->name);
    e->overlay = g_strdup(sd->file);
    e->base = g_strdup(at->source);
    if (leaf && !current) {
        e->merge = MERGE_DISCARD;
        return TRUE;
    }
    GArray *formats = NULL;
    g_autoptr(GPtrArray) chain = disk_chain(dom, sd->name, &formats, error);
    g_autoptr(GArray) fmts = formats;
    if (!chain)
        return FALSE;
    gint pos = find_path(chain, sd->file);
    if (pos < 0) {
        if (current)
            err_set(error, ORIGIN, ERR_OPERATION_FAILED,
                    "VM disk source and snapshot disk source are not the same (disk '%s' runs "
                    "on '%s', the snapshot made '%s')",
                    sd->name, chain->len ? (char *)chain->pdata[0] : "nothing", sd->file);
        else
            err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                    "deletion of non-leaf external snapshot that is not in active chain is not "
                    "supported");
        return FALSE;
    }
    if ((guint)pos + 1 >= chain->len || !g_str_equal(chain->pdata[pos + 1], e->base)) {
        err_set(error, ORIGIN, ERR_OPERATION_FAILED,
                "snapshot VM disk source and parent disk source are not the same (below '%s' is "
                "'%s', the snapshot was taken of '%s')",
                sd->file, (guint)pos + 1 < chain->len ? (char *)chain->pdata[pos + 1] : "nothing",
                e->base);
        return FALSE;
    }
    e->base_format = g_array_index(fmts, enum disk_format, pos + 1);
    e->merge = pos == 0 ? MERGE_ACTIVE : MERGE_BELOW;
    if (pos > 0)
        e->above = g_strdup(chain->pdata[pos - 1]);
    if (state_is_active(dom->state)) {
        const struct disk_def *live = domain_def_find_disk(dom->def, sd->name);
        e->index = pos == 0 ? live->source_index
                            : ((struct disk_layer *)live->backing->pdata[pos - 1])->index;
        e->base_index = ((struct disk_layer *)live->backing->pdata[pos])->index;
    }
    return TRUE;
}

void
snapshot_ext_delete_prepare(struct job *job, struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct snapshot_def *snap = core_snapshot_lookup(dom, op->name, error);
    if (!snap)
        return;
    guint children = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v))
        children += g_strcmp0(((struct snapshot_def *)v)->parent, snap->name) == 0;
    op->ext = snapshot_ext_new();
    if (op->flags & (CORE_SNAPSHOT_DELETE_CHILDREN | CORE_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        if (children) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "deletion of external disk snapshots with children not supported; delete "
                    "them one by one, leaves first");
            return;
        }
        if (op->flags & CORE_SNAPSHOT_DELETE_CHILDREN_ONLY)
            return; /* no children: nothing to delete */
    }
    if (state_is_active(dom->state) && !dom->mon) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
        return;
    }
    const struct snapshot_def *parent =
        snap->parent ? g_hash_table_lookup(dom->snapshots, snap->parent) : NULL;
    if (parent && snapshot_is_internal(parent)) {
        err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "deleting external snapshot that has internal snapshot as parent not supported");
        return;
    }
    if (children > 1) {
        err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "deletion of external disk snapshot with multiple children snapshots not "
                "supported");
        return;
    }
    gboolean current = g_strcmp0(dom->current_snapshot, snap->name) == 0;
    if (current && children) {
        err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "deletion of active external snapshot that is not a leaf snapshot is not "
                "supported; revert to another snapshot first");
        return;
    }
    if (!snap->dom) {
        err_set(error, ORIGIN, ERR_OPERATION_FAILED,
                "snapshot '%s' keeps no domain definition: its images are unknown; use "
                "--metadata",
                snap->name);
        return;
    }
    for (guint i = 0; i < snap->disks->len; i++) {
        const struct snapshot_disk *sd = snap->disks->pdata[i];
        if (sd->snapshot == SNAPSHOT_LOC_EXTERNAL && sd->file &&
            !plan_disk(op, snap, sd, current, children == 0, error))
            return;
    }
}

/* One merge after another: block-commit (an active one pivots) while QEMU runs, qemu-img
 * commit (and a rebase of the image above) while the domain is shut off. */
static void
step_merge(struct job *job)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    if (!state_is_active(dom->state)) {
        GPtrArray *cmds = snapshot_commands_new();
        for (guint i = 0; i < op->ext->disks->len; i++) {
            const struct ext_disk *e = op->ext->disks->pdata[i];
            if (e->merge != MERGE_ACTIVE && e->merge != MERGE_BELOW)
                continue;
            const char *commit[] = {"qemu-img", "commit", "-q", "-f", "qcow2", e->overlay, NULL};
            g_ptr_array_add(cmds, g_strdupv((char **)commit));
            if (e->above) {
                const char *rebase[] = {
                    "qemu-img", "rebase", "-q",     "-u",
                    "-f",       "qcow2",  "-F",     disk_format_to_string(e->base_format),
                    "-b",       e->base,  e->above, NULL};
                g_ptr_array_add(cmds, g_strdupv((char **)rebase));
            }
        }
        snapshot_run_commands(job, cmds);
        return;
    }
    GError *error = NULL;
    /* the status names the job and a record the snapshot: a daemon that dies during a commit
     * has QEMU cancel it, and finishes the deletion when QEMU had merged */
    if (op->next == 0 && (!core_status_write(dom, &error) ||
                          !snapshot_pending_write_delete(
                              dom, g_hash_table_lookup(dom->snapshots, op->name), &error))) {
        job_fail(job, error);
        return;
    }
    while (op->next < op->ext->disks->len) {
        const struct ext_disk *e = op->ext->disks->pdata[op->next++];
        if (e->merge != MERGE_ACTIVE && e->merge != MERGE_BELOW)
            continue;
        const struct disk_def *live = domain_def_find_disk(dom->def, e->target);
        g_autofree char *device = qemu_device_node_format(live->source_index);
        g_autofree char *top = qemu_device_node_format(e->index);
        g_autofree char *base = qemu_device_node_format(e->base_index);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "job-id", SNAPSHOT_QJOB_ID);
        json_object_set_string_member(args, "device", device);
        if (e->merge == MERGE_BELOW)
            json_object_set_string_member(args, "top-node", top);
        json_object_set_string_member(args, "base-node", base);
        json_object_set_boolean_member(args, "auto-finalize", TRUE);
        json_object_set_boolean_member(args, "auto-dismiss", FALSE);
        snapshot_qjob_run(job, dom, "block-commit", args, step_merge);
        return;
    }
    job_next(job);
}

/* The definitions once OVERLAY (of disk TARGET) is merged into BASE: out of the live chain (the
 * top when it was the active layer, else the layer it was below the top), out of the
 * persistent definition and of the other snapshots' definitions. */
static void
merge_disk(struct domain *dom, struct domain_def *persistent, const char *target,
           const char *overlay, const char *base, enum disk_format base_format)
{
    struct disk_def *live =
        state_is_active(dom->state) ? domain_def_find_disk(dom->def, target) : NULL;
    if (live && live->backing) {
        if (g_strcmp0(live->source, overlay) == 0 && live->backing->len) {
            struct disk_layer *below = live->backing->pdata[0];
            unsigned gone = live->source_index;
            g_free(live->source);
            live->source = g_strdup(below->path);
            live->format = below->format;
            live->source_index = below->index;
            g_ptr_array_remove_index(live->backing, 0);
            snapshot_ext_del_nodes(dom, gone);
        } else {
            for (guint j = 0; j < live->backing->len; j++) {
                const struct disk_layer *l = live->backing->pdata[j];
                if (g_strcmp0(l->path, overlay) == 0) {
                    unsigned gone = l->index;
                    g_ptr_array_remove_index(live->backing, j--);
                    snapshot_ext_del_nodes(dom, gone);
                }
            }
        }
    }
    struct disk_def *p = persistent ? domain_def_find_disk(persistent, target) : NULL;
    if (p && g_strcmp0(p->source, overlay) == 0) {
        g_free(p->source);
        p->source = g_strdup(base);
        p->format = base_format;
    }
    /* the snapshots that were taken of the overlay are of the base now */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct snapshot_def *s = v;
        struct disk_def *d = s->dom ? domain_def_find_disk(s->dom, target) : NULL;
        if (d && g_strcmp0(d->source, overlay) == 0) {
            g_free(d->source);
            d->source = g_strdup(base);
            d->format = base_format;
            GError *error = NULL;
            if (!snapshot_write_meta(dom, s, &error)) {
                log_warn("%s: %s", dom->def->name, error->message);
                g_clear_error(&error);
            }
        }
    }
}

/* The definitions after the merges: the overlay is out of each chain. */
static void
merged_definitions(struct snap_op *op)
{
    struct domain *dom = op->dom;
    gboolean active = state_is_active(dom->state);
    struct domain_def *persistent = active ? dom->new_def : dom->def;
    for (guint i = 0; i < op->ext->disks->len; i++) {
        const struct ext_disk *e = op->ext->disks->pdata[i];
        if (e->merge == MERGE_ACTIVE || e->merge == MERGE_BELOW)
            merge_disk(dom, persistent, e->target, e->overlay, e->base, e->base_format);
    }
    snapshot_ext_keep_definitions(dom, persistent, active);
}

/* Removes PATH unless something other than SNAP still needs it. */
static void
drop_image(struct domain *dom, const struct snapshot_def *snap, const char *path)
{
    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS))
        return;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct snapshot_def *s = v;
        if (s == snap)
            continue;
        for (guint i = 0; s->dom && i < s->dom->disks->len; i++)
            if (g_strcmp0(((struct disk_def *)s->dom->disks->pdata[i])->source, path) == 0)
                return;
        for (guint i = 0; s->revert_disks && i < s->revert_disks->len; i++)
            if (g_strcmp0(((struct snapshot_disk *)s->revert_disks->pdata[i])->file, path) == 0)
                return;
    }
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        if (g_strcmp0(d->source, path) == 0)
            return;
        for (guint j = 0; d->backing && j < d->backing->len; j++)
            if (g_strcmp0(((struct disk_layer *)d->backing->pdata[j])->path, path) == 0)
                return;
        GArray *formats = NULL;
        g_autoptr(GPtrArray) chain =
            state_is_active(dom->state) ? NULL : disk_chain(dom, d->target_dev, &formats, NULL);
        if (formats)
            g_array_unref(formats);
        if (chain && find_path(chain, path) >= 0)
            return;
    }
    log_info("%s: removing '%s' of snapshot '%s'", dom->def->name, path, snap->name);
    unlink(path);
}

/* What is left of SNAP once QEMU has merged its overlays: the definitions, its files (DISKS:
 * the merge plan, with the images a discarded leaf leaves; NULL: none), its metadata. */
static void
forget_deleted(struct domain *dom, struct snapshot_def *snap, GPtrArray *disks)
{
    for (guint i = 0; disks && i < disks->len; i++) {
        const struct ext_disk *e = disks->pdata[i];
        if (e->merge == MERGE_DISCARD)
            drop_image(dom, snap, e->base);
        drop_image(dom, snap, e->overlay);
    }
    for (guint i = 0; !disks && i < snap->disks->len; i++) {
        const struct snapshot_disk *sd = snap->disks->pdata[i];
        if (sd->snapshot == SNAPSHOT_LOC_EXTERNAL)
            drop_image(dom, snap, sd->file);
    }
    if (snap->memory == SNAPSHOT_LOC_EXTERNAL && snap->memory_file)
        file_remove_large(snap->memory_file, NULL);
    g_autofree char *name = g_strdup(snap->name);
    snapshot_forget(dom, name);
    GError *e = NULL;
    if (!snapshot_write_current(dom, &e)) {
        log_warn("%s", e->message);
        g_error_free(e);
    }
    log_info("%s: external snapshot '%s' deleted", dom->def->name, name);
}

static void
ext_delete_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "deleting snapshot '%s' of '%s': ", op->name, dom->def->name);
        job_set_error(job, e);
        snapshot_pending_clear(dom);
        return;
    }
    struct snapshot_def *snap = g_hash_table_lookup(dom->snapshots, op->name);
    if (snap && !(op->flags & CORE_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        /* QEMU has merged (an active commit pivoted); nothing of it is written down yet */
        job_crash_point(job, "merged");
        merged_definitions(op);
        forget_deleted(dom, snap, op->ext->disks);
    }
    /* last: a daemon that dies before this finds the delete's record (snapshot_recover.c) */
    snapshot_pending_clear(dom);
}

void
snapshot_ext_delete_recovered(struct domain *dom, const char *name)
{
    struct snapshot_def *snap = g_hash_table_lookup(dom->snapshots, name);
    if (!snap)
        return;
    log_info("%s: QEMU merged snapshot '%s' before the daemon stopped; finishing its deletion",
             dom->def->name, name);
    gboolean active = state_is_active(dom->state);
    struct domain_def *persistent = active ? dom->new_def : dom->def;
    for (guint i = 0; i < snap->disks->len; i++) {
        const struct snapshot_disk *sd = snap->disks->pdata[i];
        /* the image the snapshot froze is the base its overlay went into */
        const struct disk_def *frozen =
            snap->dom ? domain_def_find_disk(snap->dom, sd->name) : NULL;
        if (sd->snapshot == SNAPSHOT_LOC_EXTERNAL && sd->file && frozen && frozen->source)
            merge_disk(dom, persistent, sd->name, sd->file, frozen->source, frozen->format);
    }
    snapshot_ext_keep_definitions(dom, persistent, active);
    forget_deleted(dom, snap, NULL);
}

static void
ext_delete_abort(struct job *job)
{
    GError *error = NULL;
    err_set(&error, ORIGIN, ERR_OPERATION_FAILED, "QEMU exited during the snapshot's deletion");
    job_fail(job, error);
}

static const struct job_step ext_delete_steps[] = {{"merge", step_merge}, {NULL, NULL}};

const struct job_pipeline snapshot_ext_delete_pipeline = {
    .steps = ext_delete_steps,
    .finish = ext_delete_finish,
    .abort = ext_delete_abort,
    .abortable = FALSE,
};
