/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint: a domain's checkpoints and its backups; prefixes core_checkpoint_ and
 * core_backup_.
 *
 * A checkpoint is a persistent dirty bitmap named after it in each of its qcow2 disks (their
 * top image), which records every write since; all of them stay active, so the changes since
 * any checkpoint are its own bitmap (libvirt's model since 6.x). Their metadata is one
 * <domaincheckpoint> file each under <state>/checkpoint/<domain>/ (".current" names the
 * current one). While the domain runs, bitmaps are added and removed in one QMP transaction;
 * while it is shut off, with qemu-img bitmap.
 *
 * A backup (push mode) copies disks into new images while the guest runs: QEMU's
 * blockdev-backup, all of a disk (sync full) or what changed since a checkpoint (sync
 * incremental, from a disabled copy of the checkpoint's bitmap made in the same transaction),
 * optionally making a new checkpoint at that instant. It is a job of the engine from the
 * target images' creation to their release. Snapshots and checkpoints exclude each other (a
 * revert or an overlay would leave the bitmaps wrong), as do block copies and commits. */
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/checkpoint_def.h"
#include "core/events.h"
#include "core/guest.h"
#include "core/moment.h"
#include "core/snapshot.h"
#include "core/storage.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define ORIGIN ERR_FROM_DOMAIN_CHECKPOINT
#define BACKUP_POLL_MS 50

/* virDomainCheckpointCreateFlags, ListFlags, DeleteFlags; virDomainBackupBeginFlags */
enum { CREATE_REDEFINE = 1, CREATE_QUIESCE = 2, CREATE_REDEFINE_VALIDATE = 4 };
enum {
    LIST_ROOTS = 1,
    LIST_DESCENDANTS = 1,
    LIST_TOPOLOGICAL = 2,
    LIST_LEAVES = 4,
    LIST_NO_LEAVES = 8
};
enum { DELETE_CHILDREN = 1, DELETE_METADATA_ONLY = 2, DELETE_CHILDREN_ONLY = 4 };
enum { BACKUP_REUSE_EXTERNAL = 1 };

/* --- metadata --- */

#define KIND "checkpoint"

static gboolean
write_current(struct domain *dom, GError **error)
{
    return moment_write_current(dom, KIND, dom->current_checkpoint, error);
}

static gboolean
write_meta(struct domain *dom, const struct checkpoint_def *def, GError **error)
{
    g_autofree char *xml = checkpoint_def_format(def, CHECKPOINT_DEF_FORMAT_SECURE);
    return moment_write(dom, KIND, def->name, xml, error);
}

static gpointer
parse_kept(const char *xml, const char **ret_name, GError **error)
{
    struct checkpoint_def *def = checkpoint_def_parse(xml, CHECKPOINT_DEF_PARSE_REDEFINE, error);
    *ret_name = def ? def->name : NULL;
    return def;
}

void
core_checkpoint_load(struct domain *dom)
{
    dom->current_checkpoint = moment_load(dom, KIND, dom->checkpoints, parse_kept);
}

struct checkpoint_def *
core_checkpoint_lookup(struct domain *dom, const char *name, GError **error)
{
    struct checkpoint_def *def = g_hash_table_lookup(dom->checkpoints, name);
    if (!def)
        err_set(error, ORIGIN, ERR_NO_DOMAIN_CHECKPOINT,
                "Domain checkpoint not found: no domain checkpoint with matching name '%s'", name);
    return def;
}

static gboolean
has_children(struct domain *dom, const char *name)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->checkpoints);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (g_strcmp0(((struct checkpoint_def *)v)->parent, name) == 0)
            return TRUE;
    return FALSE;
}

/* Whether DEF descends from ANCESTOR. */
static gboolean
descends(struct domain *dom, const struct checkpoint_def *def, const char *ancestor)
{
    guint hops = 0;
    for (const char *p = def->parent; p && hops <= g_hash_table_size(dom->checkpoints); hops++) {
        if (g_str_equal(p, ancestor))
            return TRUE;
        const struct checkpoint_def *up = g_hash_table_lookup(dom->checkpoints, p);
        p = up ? up->parent : NULL;
    }
    return FALSE;
}

static gint
by_time(gconstpointer a, gconstpointer b)
{
    const struct checkpoint_def *x = *(struct checkpoint_def *const *)a;
    const struct checkpoint_def *y = *(struct checkpoint_def *const *)b;
    if (x->creation_time != y->creation_time)
        return x->creation_time < y->creation_time ? -1 : 1;
    return strcmp(x->name, y->name);
}

GPtrArray *
core_checkpoint_list(struct domain *dom, const char *from, unsigned flags)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->checkpoints);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct checkpoint_def *def = v;
        if (from) {
            if ((flags & LIST_DESCENDANTS) ? !descends(dom, def, from)
                                           : g_strcmp0(def->parent, from) != 0)
                continue;
        } else if ((flags & LIST_ROOTS) && def->parent) {
            continue;
        }
        gboolean leaf = !has_children(dom, def->name);
        if (((flags & LIST_LEAVES) && !leaf) || ((flags & LIST_NO_LEAVES) && leaf))
            continue;
        g_ptr_array_add(out, def);
    }
    /* creation order is topological: a parent was made before its children */
    g_ptr_array_sort(out, by_time);
    return out;
}

gboolean
core_checkpoint_forget_all(struct domain *dom, GError **error)
{
    g_clear_pointer(&dom->current_checkpoint, g_free);
    return moment_forget_all(dom, KIND, dom->checkpoints, error);
}

/* Drops NAME's metadata: its children move up to its parent, and when it was the current one
 * its parent becomes current. */
static void
forget(struct domain *dom, const char *name)
{
    struct checkpoint_def *def = g_hash_table_lookup(dom->checkpoints, name);
    if (!def)
        return;
    g_autoptr(GError) error = NULL;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->checkpoints);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct checkpoint_def *child = v;
        if (g_strcmp0(child->parent, name) != 0)
            continue;
        g_free(child->parent);
        child->parent = g_strdup(def->parent);
        if (!write_meta(dom, child, &error)) {
            log_warn("%s: %s", dom->def->name, error->message);
            g_clear_error(&error);
        }
    }
    if (g_strcmp0(dom->current_checkpoint, name) == 0) {
        g_free(dom->current_checkpoint);
        dom->current_checkpoint = g_strdup(def->parent);
        if (!write_current(dom, &error)) {
            log_warn("%s: %s", dom->def->name, error->message);
            g_clear_error(&error);
        }
    }
    g_autofree char *path = moment_path(dom, KIND, name);
    if (!file_remove(path, &error))
        log_warn("%s: %s", dom->def->name, error->message);
    g_hash_table_remove(dom->checkpoints, name);
}

/* --- what a checkpoint covers --- */

/* The disk a checkpoint or backup names NAME: its target, or its image's path. */
static struct disk_def *
find_disk(struct domain *dom, const char *name)
{
    struct disk_def *d = domain_def_find_disk(dom->def, name);
    for (guint i = 0; !d && i < dom->def->disks->len; i++) {
        struct disk_def *x = dom->def->disks->pdata[i];
        if (g_strcmp0(x->source, name) == 0)
            d = x;
    }
    return d;
}

static gboolean
backed_up_alike(const struct disk_def *d)
{
    return d->source && !d->readonly && d->device != DISK_DEVICE_CDROM;
}

/* DEF's disks against the domain's, as libvirt aligns them: every disk of the domain in its
 * order; without a <disks> list, each writable disk with an image gets a bitmap, with one,
 * those it does not name get none. A bitmap is the checkpoint's name and needs qcow2. */
static gboolean
align_disks(struct domain *dom, struct checkpoint_def *def, GError **error)
{
    const struct domain_def *dd = dom->def;
    if (!dd->disks->len) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "domain must have at least one disk to perform checkpoints");
        return FALSE;
    }
    GPtrArray *given = def->disks;
    for (guint i = 0; given && i < given->len; i++) {
        struct checkpoint_disk *cd = given->pdata[i];
        struct disk_def *d = find_disk(dom, cd->name);
        if (!d) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED, "no disk named '%s'", cd->name);
            return FALSE;
        }
        if (!g_str_equal(cd->name, d->target_dev)) {
            g_free(cd->name);
            cd->name = g_strdup(d->target_dev);
        }
        for (guint j = 0; j < i; j++)
            if (g_str_equal(((struct checkpoint_disk *)given->pdata[j])->name, cd->name)) {
                err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED, "disk '%s' specified twice",
                        cd->name);
                return FALSE;
            }
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)checkpoint_disk_free);
    for (guint i = 0; i < dd->disks->len; i++) {
        const struct disk_def *d = dd->disks->pdata[i];
        struct checkpoint_disk *cd = g_new0(struct checkpoint_disk, 1);
        const struct checkpoint_disk *want = given ? checkpoint_def_disk(def, d->target_dev) : NULL;
        cd->name = g_strdup(d->target_dev);
        cd->bitmap = given ? want && want->bitmap : backed_up_alike(d);
        if (cd->bitmap)
            cd->bitmap_name = g_strdup(want && want->bitmap_name ? want->bitmap_name : def->name);
        g_ptr_array_add(out, cd);
    }
    if (given)
        g_ptr_array_unref(given);
    def->disks = out;
    for (guint i = 0; i < out->len; i++) {
        const struct checkpoint_disk *cd = out->pdata[i];
        const struct disk_def *d = dd->disks->pdata[i];
        if (!cd->bitmap)
            continue;
        if (!backed_up_alike(d)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED, "disk '%s' is empty or readonly",
                    cd->name);
            return FALSE;
        }
        if (!g_str_equal(cd->bitmap_name, def->name)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "bitmap for disk '%s' must match checkpoint name '%s'", cd->name, def->name);
            return FALSE;
        }
        if (d->format != DISK_FORMAT_QCOW2) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "checkpoint for disk %s unsupported for storage type %s: a bitmap needs a "
                    "qcow2 image; leave the disk out with checkpoint='no'",
                    cd->name,
                    d->format == DISK_FORMAT_NONE ? "raw" : disk_format_to_string(d->format));
            return FALSE;
        }
    }
    return TRUE;
}

/* Checkpoints and snapshots exclude each other: a revert or an overlay leaves bitmaps that no
 * longer tell what changed. */
static gboolean
check_no_snapshots(struct domain *dom, GError **error)
{
    if (g_hash_table_size(dom->snapshots) == 0)
        return TRUE;
    err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
            "cannot create checkpoint while snapshot exists: domain '%s' has %u; delete them "
            "first",
            dom->def->name, g_hash_table_size(dom->snapshots));
    return FALSE;
}

/* A new checkpoint DEF (parsed) for DOM, named and aligned, with its parent and the domain as
 * it is. */
static gboolean
prepare_new(struct domain *dom, struct checkpoint_def *def, GError **error)
{
    if (!def->creation_time)
        def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    if (!def->name)
        def->name = g_strdup_printf("%" G_GINT64_FORMAT, def->creation_time);
    if (g_hash_table_contains(dom->checkpoints, def->name)) {
        err_set(error, ORIGIN, ERR_OPERATION_FAILED, "domain moment %s already exists", def->name);
        return FALSE;
    }
    if (!check_no_snapshots(dom, error) || !align_disks(dom, def, error))
        return FALSE;
    g_free(def->parent);
    def->parent = g_strdup(dom->current_checkpoint);
    domain_def_free(def->dom);
    def->dom = domain_def_copy(dom->new_def ? dom->new_def : dom->def);
    return TRUE;
}

/* A new checkpoint is made: it is kept and becomes the current one. */
static gboolean
keep_new(struct domain *dom, struct checkpoint_def *def, GError **error)
{
    if (!write_meta(dom, def, error))
        return FALSE;
    g_free(dom->current_checkpoint);
    dom->current_checkpoint = g_strdup(def->name);
    g_hash_table_replace(dom->checkpoints, def->name, def);
    return write_current(dom, error);
}

/* The transaction actions that add DEF's bitmaps (persistent, recording) to ACTIONS. */
static void
add_bitmap_actions(JsonArray *actions, struct domain *dom, const struct checkpoint_def *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const struct checkpoint_disk *cd = def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, cd->name);
        if (!cd->bitmap || !d)
            continue;
        g_autofree char *node = qemu_device_node_format(d->source_index);
        JsonObject *data = json_object_new();
        json_object_set_string_member(data, "node", node);
        json_object_set_string_member(data, "name", cd->bitmap_name);
        json_object_set_boolean_member(data, "persistent", TRUE);
        JsonObject *action = json_object_new();
        json_object_set_string_member(action, "type", "block-dirty-bitmap-add");
        json_object_set_object_member(action, "data", data);
        json_array_add_object_element(actions, action);
    }
}

static void
on_step_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    job_step_over(data, error);
}

static void
run_transaction(struct job *job, struct domain *dom, JsonArray *actions)
{
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "actions", actions);
    qmp_command(dom->mon, "transaction", args, on_step_reply, job_ref(job));
}

/* qemu-img bitmap OPTION NAME on the image of each of DEF's disks with a bitmap (a shut off
 * domain's), in a worker thread */
static void
run_img_bitmap(struct job *job, struct domain *dom, const struct checkpoint_def *def,
               const char *option)
{
    GPtrArray *cmds = snapshot_commands_new();
    for (guint i = 0; i < def->disks->len; i++) {
        const struct checkpoint_disk *cd = def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, cd->name);
        if (!cd->bitmap || !d || !d->source)
            continue;
        const char *argv[] = {core_storage_qemu_img(), "bitmap", option, d->source,
                              cd->bitmap_name,         NULL};
        g_ptr_array_add(cmds, g_strdupv((char **)argv));
    }
    snapshot_run_commands(job, cmds);
}

/* --- create --- */

struct cp_op {
    struct domain *dom; /* a reference */
    struct checkpoint_def *def;
    GPtrArray *targets; /* delete: the checkpoints to remove, children first (names) */
    unsigned flags;
    core_snapshot_done_fn done;
    core_done_fn done_plain;
    gpointer data;
};

static void
cp_op_free(gpointer data)
{
    struct cp_op *op = data;
    checkpoint_def_free(op->def);
    if (op->targets)
        g_ptr_array_unref(op->targets);
    core_domain_unref(op->dom);
    g_free(op);
}

static void
create_step(struct job *job)
{
    struct cp_op *op = job->data;
    struct domain *dom = op->dom;
    if (!state_is_active(dom->state)) {
        run_img_bitmap(job, dom, op->def, "--add");
        return;
    }
    JsonArray *actions = json_array_new();
    add_bitmap_actions(actions, dom, op->def);
    run_transaction(job, dom, actions);
}

static void
create_finish(struct job *job, const GError *error)
{
    struct cp_op *op = job->data;
    GError *e = NULL;
    if (error)
        return;
    struct checkpoint_def *def = g_steal_pointer(&op->def);
    if (!keep_new(op->dom, def, &e)) {
        job_set_error(job, e);
        return;
    }
    log_info("%s: checkpoint '%s' made", op->dom->def->name, def->name);
}

static const struct job_step create_steps[] = {{"bitmaps", create_step}, {NULL, NULL}};
static const struct job_pipeline create_pipeline = {create_steps, create_finish, NULL, FALSE};

/* CHECK checks and plans under the job; then PIPELINE runs with OP */
struct cp_request {
    struct cp_op *op;
    gboolean (*check)(struct cp_op *op, GError **error);
    char *name; /* create: the reply */
};

static void
request_done(GError *error, gpointer data)
{
    struct cp_request *req = data;
    if (req->op->done)
        req->op->done(error, error ? NULL : req->name, req->op->data);
    else
        req->op->done_plain(error, req->op->data);
}

static void
run_done(GError *error, gpointer data)
{
    struct cp_request *req = data;
    request_done(error, req);
    g_free(req->name);
    cp_op_free(req->op);
    g_free(req);
}

static void
cp_begin(struct job *job, GError *error, gpointer data)
{
    struct cp_request *req = data;
    GError *err = error ? g_error_copy(error) : NULL;
    if (job && !req->check(req->op, &err)) {
        job_cancel(job, NULL, NULL, NULL);
        job = NULL;
    }
    if (!job) {
        request_done(err, req);
        g_error_free(err);
        cp_op_free(req->op);
        g_free(req);
        return;
    }
    req->name = req->op->def ? g_strdup(req->op->def->name) : NULL;
    /* the op lives in the job (its data) until the job is over; the request tells the caller */
    struct cp_op *op = req->op;
    job_run(job, op, NULL, run_done, req);
}

static gboolean
create_check(struct cp_op *op, GError **error)
{
    if (!prepare_new(op->dom, op->def, error))
        return FALSE;
    /* shut off: qemu-img opens every image: none may be in use by another job */
    return TRUE;
}

static void
start_job(struct domain *dom, enum job_type type, const struct job_pipeline *pipeline,
          struct cp_op *op, gboolean (*check)(struct cp_op *, GError **))
{
    struct cp_request *req = g_new0(struct cp_request, 1);
    req->op = op;
    req->check = check;
    job_acquire(&dom->jobs, type, pipeline, dom->core->job_wait_ms, cp_begin, req);
}

/* REDEFINE: the metadata as given, nothing touched on the disks. */
static gboolean
redefine(struct domain *dom, struct checkpoint_def *def, GError **error)
{
    if (def->parent && !g_hash_table_contains(dom->checkpoints, def->parent)) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "parent %s for moment %s not found", def->parent,
                def->name);
        return FALSE;
    }
    if (!def->creation_time)
        def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    if (!align_disks(dom, def, error))
        return FALSE;
    if (!def->dom)
        def->dom = domain_def_copy(dom->new_def ? dom->new_def : dom->def);
    if (!write_meta(dom, def, error))
        return FALSE;
    gboolean current = !dom->current_checkpoint;
    g_hash_table_replace(dom->checkpoints, def->name, def);
    if (current) {
        dom->current_checkpoint = g_strdup(def->name);
        return write_current(dom, error);
    }
    return TRUE;
}

void
core_checkpoint_create(struct domain *dom, const char *xml, unsigned flags,
                       core_snapshot_done_fn done, gpointer data)
{
    GError *error = NULL;
    unsigned known = CREATE_REDEFINE | CREATE_REDEFINE_VALIDATE;
    if (flags & ~known) {
        err_set(&error, ORIGIN, ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s",
                flags & ~known, "qemuCheckpointCreateXML");
    } else if ((flags & CREATE_REDEFINE_VALIDATE) && !(flags & CREATE_REDEFINE)) {
        err_set(&error, ORIGIN, ERR_INVALID_ARG,
                "REDEFINE_VALIDATE needs REDEFINE: it checks the bitmaps of a redefined "
                "checkpoint");
    }
    unsigned pflags = (flags & CREATE_REDEFINE) ? CHECKPOINT_DEF_PARSE_REDEFINE : 0;
    g_autoptr(checkpoint_def) def = error ? NULL : checkpoint_def_parse(xml, pflags, &error);
    if (def && (flags & CREATE_REDEFINE)) {
        if ((flags & CREATE_REDEFINE_VALIDATE) && !state_is_active(dom->state)) {
            err_set(&error, ORIGIN, ERR_OPERATION_INVALID,
                    "domain '%s' is not running: its bitmaps cannot be validated", dom->def->name);
        } else if (redefine(dom, def, &error)) {
            g_autofree char *name = g_strdup(def->name);
            g_steal_pointer(&def);
            done(NULL, name, data);
            return;
        }
    }
    if (error) {
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    struct cp_op *op = g_new0(struct cp_op, 1);
    op->dom = core_domain_ref(dom);
    op->def = g_steal_pointer(&def);
    op->flags = flags;
    op->done = done;
    op->data = data;
    start_job(dom, JOB_CHECKPOINT, &create_pipeline, op, create_check);
}

/* --- XML --- */

struct size_req {
    struct domain *dom;
    char *name;
    unsigned flags;
    core_xml_done_fn done;
    gpointer data;
};

/* query-named-block-nodes: each disk's count of its bitmap named after the checkpoint */
static void
on_sizes(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct size_req *req = data;
    GError *e = NULL;
    struct checkpoint_def *def = error ? NULL : core_checkpoint_lookup(req->dom, req->name, &e);
    JsonArray *nodes = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; def && i < def->disks->len; i++) {
        struct checkpoint_disk *cd = def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(req->dom->def, cd->name);
        cd->size = 0;
        if (!cd->bitmap || !d || !nodes)
            continue;
        g_autofree char *node = qemu_device_node_format(d->source_index);
        JsonObject *n = qemu_json_find_object(nodes, "node-name", node);
        JsonArray *bitmaps = n ? qemu_json_array(n, "dirty-bitmaps") : NULL;
        JsonObject *b = bitmaps ? qemu_json_find_object(bitmaps, "name", cd->bitmap_name) : NULL;
        if (!b) {
            err_set(&e, ORIGIN, ERR_CHECKPOINT_INCONSISTENT,
                    "missing or broken bitmap '%s' for disk '%s'", cd->bitmap_name, cd->name);
            break;
        }
        cd->size = (guint64)MAX(qemu_json_int_or(b, "count", 0), 0);
    }
    if (error)
        err_set(&e, ORIGIN, ERR_OPERATION_FAILED, "%s", error->message);
    g_autofree char *xml = def && !e ? checkpoint_def_format(def, req->flags) : NULL;
    req->done(e, xml, req->data);
    g_clear_error(&e);
    core_domain_unref(req->dom);
    g_free(req->name);
    g_free(req);
}

void
core_checkpoint_xml(struct domain *dom, const char *name, unsigned flags, core_xml_done_fn done,
                    gpointer data)
{
    GError *error = NULL;
    struct checkpoint_def *def = core_checkpoint_lookup(dom, name, &error);
    if (def && (flags & CHECKPOINT_DEF_FORMAT_SIZE)) {
        if (!state_is_active(dom->state) || !dom->mon) {
            err_set(&error, ORIGIN, ERR_OPERATION_INVALID,
                    "cannot get size of checkpoint of inactive domain '%s'", dom->def->name);
        } else {
            struct size_req *req = g_new0(struct size_req, 1);
            req->dom = core_domain_ref(dom);
            req->name = g_strdup(name);
            req->flags = flags;
            req->done = done;
            req->data = data;
            JsonObject *args = json_object_new();
            json_object_set_boolean_member(args, "flat", TRUE);
            qmp_command(dom->mon, "query-named-block-nodes", args, on_sizes, req);
            return;
        }
    }
    g_autofree char *xml = def && !error ? checkpoint_def_format(def, flags) : NULL;
    done(error, xml, data);
    g_clear_error(&error);
}

/* --- delete --- */

static void
delete_step(struct job *job)
{
    struct cp_op *op = job->data;
    struct domain *dom = op->dom;
    if (op->flags & DELETE_METADATA_ONLY) {
        job_next(job);
        return;
    }
    if (!state_is_active(dom->state)) {
        /* one qemu-img run per image and checkpoint */
        GPtrArray *cmds = snapshot_commands_new();
        for (guint t = 0; t < op->targets->len; t++) {
            const struct checkpoint_def *def =
                g_hash_table_lookup(dom->checkpoints, op->targets->pdata[t]);
            for (guint i = 0; def && i < def->disks->len; i++) {
                const struct checkpoint_disk *cd = def->disks->pdata[i];
                const struct disk_def *d = domain_def_find_disk(dom->def, cd->name);
                if (!cd->bitmap || !d || !d->source)
                    continue;
                const char *argv[] = {core_storage_qemu_img(), "bitmap", "--remove", d->source,
                                      cd->bitmap_name,         NULL};
                g_ptr_array_add(cmds, g_strdupv((char **)argv));
            }
        }
        snapshot_run_commands(job, cmds);
        return;
    }
    JsonArray *actions = json_array_new();
    for (guint t = 0; t < op->targets->len; t++) {
        const struct checkpoint_def *def =
            g_hash_table_lookup(dom->checkpoints, op->targets->pdata[t]);
        for (guint i = 0; def && i < def->disks->len; i++) {
            const struct checkpoint_disk *cd = def->disks->pdata[i];
            const struct disk_def *d = domain_def_find_disk(dom->def, cd->name);
            if (!cd->bitmap || !d)
                continue;
            g_autofree char *node = qemu_device_node_format(d->source_index);
            JsonObject *data = json_object_new();
            json_object_set_string_member(data, "node", node);
            json_object_set_string_member(data, "name", cd->bitmap_name);
            JsonObject *action = json_object_new();
            json_object_set_string_member(action, "type", "block-dirty-bitmap-remove");
            json_object_set_object_member(action, "data", data);
            json_array_add_object_element(actions, action);
        }
    }
    if (!json_array_get_length(actions)) {
        json_array_unref(actions);
        job_next(job);
        return;
    }
    run_transaction(job, dom, actions);
}

static void
delete_finish(struct job *job, const GError *error)
{
    struct cp_op *op = job->data;
    if (error)
        return;
    for (guint t = 0; t < op->targets->len; t++) {
        forget(op->dom, op->targets->pdata[t]);
        log_info("%s: checkpoint '%s' deleted", op->dom->def->name,
                 (const char *)op->targets->pdata[t]);
    }
}

static const struct job_step delete_steps[] = {{"bitmaps", delete_step}, {NULL, NULL}};
static const struct job_pipeline delete_pipeline = {delete_steps, delete_finish, NULL, FALSE};

/* Under the job: the checkpoint and, as the flags ask, its descendants, children first. */
static gboolean
delete_check(struct cp_op *op, GError **error)
{
    const char *name = op->targets->pdata[0];
    if (!core_checkpoint_lookup(op->dom, name, error))
        return FALSE;
    g_autoptr(GPtrArray) below = core_checkpoint_list(op->dom, name, LIST_DESCENDANTS);
    g_autofree char *self = g_ptr_array_steal_index(op->targets, 0);
    /* newest first: a child goes before its parent */
    for (guint i = below->len; (op->flags & (DELETE_CHILDREN | DELETE_CHILDREN_ONLY)) && i-- > 0;)
        g_ptr_array_add(op->targets, g_strdup(((struct checkpoint_def *)below->pdata[i])->name));
    if (!(op->flags & DELETE_CHILDREN_ONLY))
        g_ptr_array_add(op->targets, g_steal_pointer(&self));
    return TRUE;
}

void
core_checkpoint_delete(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                       gpointer data)
{
    struct cp_op *op = g_new0(struct cp_op, 1);
    op->dom = core_domain_ref(dom);
    op->targets = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(op->targets, g_strdup(name));
    op->flags = flags;
    op->done_plain = done;
    op->data = data;
    start_job(dom, JOB_CHECKPOINT_DELETE, &delete_pipeline, op, delete_check);
}

/* --- backup (push mode) --- */

/* One disk being copied: its image's node, its target's nodes, QEMU's job. */
struct backup_target {
    struct backup_disk *disk; /* borrowed from the op's def */
    char *device;             /* the disk's top format node */
    char *job_id;             /* "backup-vda-domus-1-format", libvirt's naming */
    char *temp_bitmap;        /* incremental: the disabled copy blockdev-backup reads */
    guint64 size;             /* the disk's virtual size */
    gboolean made;            /* the daemon created the target file */
    gboolean attached;        /* its nodes were added */
    gboolean bitmap_added;    /* the transaction ran: TEMP_BITMAP exists */
};

struct backup_op {
    struct domain *dom; /* a reference */
    struct backup_def *def;
    struct checkpoint_def *checkpoint; /* made at the backup's start; NULL: none */
    GPtrArray *targets;                /* struct backup_target * */
    unsigned flags;
    guint outstanding; /* blockdev-add replies awaited */
    GError *add_error;
    guint timer;
    gboolean polling;
    struct job *job; /* while the copy runs (for the poll) */
    core_done_fn started;
    gpointer data;
};

static void
target_free(struct backup_target *t)
{
    g_free(t->device);
    g_free(t->job_id);
    g_free(t->temp_bitmap);
    g_free(t);
}

static void
backup_op_free(gpointer data)
{
    struct backup_op *op = data;
    if (op->timer)
        g_source_remove(op->timer);
    backup_def_free(op->def);
    checkpoint_def_free(op->checkpoint);
    g_ptr_array_unref(op->targets);
    g_clear_error(&op->add_error);
    core_domain_unref(op->dom);
    g_free(op);
}

/* The caller of backupBegin hears once: when the copy began, or why it could not. */
static void
tell_started(struct backup_op *op, const GError *error)
{
    core_done_fn started = g_steal_pointer(&op->started);
    if (!started)
        return;
    GError *e = error ? g_error_copy(error) : NULL;
    started(e, op->data);
    g_clear_error(&e);
}

/* The backup's disks against the domain's, as libvirt aligns them; targets named and checked
 * (a new one must not exist, a reused one must), checkpoints resolved. */
static gboolean
backup_align(struct backup_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct backup_def *def = op->def;
    const char *suffix_cp = op->checkpoint ? op->checkpoint->name : NULL;
    g_autofree char *suffix =
        suffix_cp ? g_strdup(suffix_cp)
                  : g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    gboolean listed = def->disks->len > 0;
    for (guint i = 0; i < def->disks->len; i++) {
        struct backup_disk *bd = def->disks->pdata[i];
        struct disk_def *d = find_disk(dom, bd->name);
        if (!d) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no disk named '%s'", bd->name);
            return FALSE;
        }
        g_free(bd->name);
        bd->name = g_strdup(d->target_dev);
        for (guint j = 0; j < i; j++)
            if (g_str_equal(((struct backup_disk *)def->disks->pdata[j])->name, bd->name)) {
                err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "disk '%s' specified twice",
                        bd->name);
                return FALSE;
            }
    }
    g_ptr_array_set_free_func(def->disks, NULL);
    /* every disk of the domain in its order: the listed ones move over */
    GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)backup_disk_free);
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        struct backup_disk *bd = backup_def_disk(def, d->target_dev);
        if (bd) {
            g_ptr_array_add(all, bd);
            g_ptr_array_remove_fast(def->disks, bd);
            continue;
        }
        bd = g_new0(struct backup_disk, 1);
        bd->name = g_strdup(d->target_dev);
        bd->backup = !listed && backed_up_alike(d);
        g_ptr_array_add(all, bd);
    }
    g_ptr_array_unref(def->disks);
    def->disks = all;
    guint chosen = 0;
    for (guint i = 0; i < all->len; i++) {
        struct backup_disk *bd = all->pdata[i];
        const struct disk_def *d = dom->def->disks->pdata[i];
        if (!bd->backup)
            continue;
        if (!backed_up_alike(d)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s' is empty or readonly: there is nothing to back up", bd->name);
            return FALSE;
        }
        chosen++;
        if (!bd->incremental && def->incremental && bd->mode != BACKUP_MODE_FULL)
            bd->incremental = g_strdup(def->incremental);
        if (bd->mode == BACKUP_MODE_DEFAULT)
            bd->mode = bd->incremental ? BACKUP_MODE_INCREMENTAL : BACKUP_MODE_FULL;
        if (bd->mode == BACKUP_MODE_INCREMENTAL) {
            const struct checkpoint_def *cp =
                bd->incremental ? g_hash_table_lookup(dom->checkpoints, bd->incremental) : NULL;
            const struct checkpoint_disk *cd = cp ? checkpoint_def_disk(cp, bd->name) : NULL;
            if (!cd || !cd->bitmap) {
                err_set(error, ORIGIN, ERR_NO_DOMAIN_CHECKPOINT,
                        "Domain checkpoint not found: Checkpoint '%s' for incremental backup of "
                        "disk '%s' not found",
                        bd->incremental ? bd->incremental : "(none given)", bd->name);
                return FALSE;
            }
        } else {
            g_clear_pointer(&bd->incremental, g_free);
        }
        if (!bd->target) {
            if (d->type == DISK_TYPE_BLOCK) {
                err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                        "refusing to generate file name for disk '%s': give its <target>",
                        bd->name);
                return FALSE;
            }
            bd->target = g_strdup_printf("%s.%s", d->source, suffix);
        }
        struct stat st;
        gboolean exists = stat(bd->target, &st) == 0;
        if (!(op->flags & BACKUP_REUSE_EXTERNAL) && exists && !bd->block) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "store '%s' for backup of '%s' exists; remove it, or reuse it with "
                    "--reuse-external",
                    bd->target, bd->name);
            return FALSE;
        }
        if (((op->flags & BACKUP_REUSE_EXTERNAL) || bd->block) && !exists) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "store '%s' for backup of '%s' does not exist", bd->target, bd->name);
            return FALSE;
        }
        for (guint j = 0; j < i; j++) {
            const struct backup_disk *other = all->pdata[j];
            if (other->backup && g_str_equal(other->target, bd->target)) {
                err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                        "disks '%s' and '%s' would both be backed up into '%s'", other->name,
                        bd->name, bd->target);
                return FALSE;
            }
        }
        struct backup_target *t = g_new0(struct backup_target, 1);
        t->disk = bd;
        t->device = qemu_device_node_format(d->source_index);
        t->job_id = g_strdup_printf("backup-%s-%s", bd->name, t->device);
        if (bd->mode == BACKUP_MODE_INCREMENTAL)
            t->temp_bitmap = g_strdup_printf("backup-%s", bd->name);
        g_ptr_array_add(op->targets, t);
    }
    if (!chosen) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no disks selected for backup");
        return FALSE;
    }
    return TRUE;
}

static gboolean
backup_check(struct backup_op *op, GError **error)
{
    struct domain *dom = op->dom;
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot perform disk backup for inactive domain '%s'", dom->def->name);
        return FALSE;
    }
    if (op->def->pull) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "pull mode backup (an NBD export) is not supported yet; use mode='push'");
        return FALSE;
    }
    if (dom->block_jobs && dom->block_jobs->len) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has a block job under way; a backup waits until it is over",
                dom->def->name);
        return FALSE;
    }
    if (op->checkpoint && !prepare_new(dom, op->checkpoint, error))
        return FALSE;
    return backup_align(op, error);
}

/* step "size": each disk's virtual size, from QEMU */
static void
on_backup_sizes(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    JsonArray *nodes = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    GError *e = NULL;
    for (guint i = 0; !error && i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *n = nodes ? qemu_json_find_object(nodes, "node-name", t->device) : NULL;
        JsonObject *image = n ? qemu_json_object(n, "image") : NULL;
        gint64 size = image ? qemu_json_int_or(image, "virtual-size", -1) : -1;
        if (size <= 0) {
            err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                    "QEMU did not tell the size of disk '%s' (node '%s')", t->disk->name,
                    t->device);
            break;
        }
        t->size = (guint64)size;
    }
    job_step_over(job, error ? error : e);
    g_clear_error(&e);
}

static void
backup_size_step(struct job *job)
{
    struct backup_op *op = job->data;
    JsonObject *args = json_object_new();
    json_object_set_boolean_member(args, "flat", TRUE);
    qmp_command(op->dom->mon, "query-named-block-nodes", args, on_backup_sizes, job_ref(job));
}

/* step "create": the target images (qemu-img create; an incremental qcow2 one names the disk
 * as its backing file, as libvirt's, but QEMU writes it without opening that) */
static void
backup_create_step(struct job *job)
{
    struct backup_op *op = job->data;
    GPtrArray *cmds = snapshot_commands_new();
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        const struct backup_disk *bd = t->disk;
        if ((op->flags & BACKUP_REUSE_EXTERNAL) || (bd->block && g_strcmp0(bd->format, "raw") == 0))
            continue;
        const struct disk_def *d = domain_def_find_disk(op->dom->def, bd->name);
        const char *format = bd->format ? bd->format : "qcow2";
        gboolean backing =
            bd->mode == BACKUP_MODE_INCREMENTAL && g_str_equal(format, "qcow2") && d && d->source;
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, t->size);
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(core_storage_qemu_img()));
        const char *fixed[] = {"create", "-q", "-f", format};
        for (gsize k = 0; k < G_N_ELEMENTS(fixed); k++)
            g_ptr_array_add(argv, g_strdup(fixed[k]));
        if (backing) {
            g_ptr_array_add(argv, g_strdup("-u"));
            g_ptr_array_add(argv, g_strdup("-F"));
            g_ptr_array_add(argv, g_strdup(d->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw"));
            g_ptr_array_add(argv, g_strdup("-b"));
            g_ptr_array_add(argv, g_strdup(d->source));
        }
        g_ptr_array_add(argv, g_strdup(bd->target));
        g_ptr_array_add(argv, g_strdup(size));
        g_ptr_array_add(argv, NULL);
        g_ptr_array_add(cmds, g_ptr_array_free(argv, FALSE));
        t->made = !bd->block;
    }
    snapshot_run_commands(job, cmds);
}

/* a blockdev-add (attach) or blockdev-del (release) of a target's node */
static void
on_target_added(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    if (error && !op->add_error)
        op->add_error = g_error_copy(error);
    if (--op->outstanding == 0)
        job_step_over(job, op->add_error);
    else
        job_unref(job);
}

static void
qmp_quiet(struct domain *dom, const char *cmd, JsonObject *args)
{
    if (dom->mon)
        qmp_command(dom->mon, cmd, args, NULL, NULL);
    else
        json_object_unref(args);
}

/* --- what a daemon that dies during a backup leaves --- */

/* <status>/<domain>.backup: one line a target, "INDEX MADE JOB BITMAP PATH" (BITMAP "-" for
 * none), written before its nodes are added and removed once the backup is over: a restarted
 * daemon finds what QEMU still holds of it (core_backup_recover). */
static char *
record_path(struct core *core, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.backup", name);
    return g_build_filename(core->paths.status_dir, file, NULL);
}

static gboolean
write_record(struct backup_op *op, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint i = 0; i < op->targets->len; i++) {
        const struct backup_target *t = op->targets->pdata[i];
        g_string_append_printf(s, "%u %d %s %s %s\n", t->disk->index, t->made, t->job_id,
                               t->temp_bitmap ? t->temp_bitmap : "-", t->disk->target);
    }
    g_autofree char *path = record_path(op->dom->core, op->dom->def->name);
    return file_write_atomic(path, s->str, s->len, 0600, FILE_DURABLE, error);
}

void
core_backup_forget(struct core *core, const char *name)
{
    g_autofree char *path = record_path(core, name);
    if (unlink(path) == 0)
        log_warn("%s: a backup was under way when the daemon stopped and QEMU is gone; its "
                 "targets may be incomplete",
                 name);
}

struct leftover {
    unsigned index;
    gboolean made;
    char *job;
    char *bitmap; /* NULL: none */
    char *path;
    gboolean cancelled; /* block-job-cancel sent */
};

static void
leftover_free(struct leftover *l)
{
    g_free(l->job);
    g_free(l->bitmap);
    g_free(l->path);
    g_free(l);
}

struct recovery {
    struct domain *dom; /* a reference */
    GPtrArray *left;    /* struct leftover * */
    guint rounds;
};

static void recovery_poll(struct recovery *rec);

static gboolean
on_recovery_timer(gpointer data)
{
    recovery_poll(data);
    return G_SOURCE_REMOVE;
}

static void
recovery_free(struct recovery *rec)
{
    g_ptr_array_unref(rec->left);
    core_domain_unref(rec->dom);
    g_free(rec);
}

/* query-jobs: a copy still under way is cancelled (nobody waits for it); once every one
 * concluded, QEMU lets go of the targets and the copies of the bitmaps, and a target that did
 * not get whole is removed when the daemon made it */
static void
on_recovery_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct recovery *rec = data;
    struct domain *dom = rec->dom;
    JsonArray *jobs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    gboolean waiting = FALSE;
    for (guint i = 0; jobs && i < rec->left->len; i++) {
        struct leftover *l = rec->left->pdata[i];
        JsonObject *j = qemu_json_find_object(jobs, "id", l->job);
        const char *status = j ? qemu_json_string(j, "status") : NULL;
        if (!j || g_strcmp0(status, "concluded") == 0 || g_strcmp0(status, "null") == 0)
            continue;
        waiting = TRUE;
        if (!l->cancelled) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "device", l->job);
            json_object_set_boolean_member(args, "force", TRUE);
            qmp_command(dom->mon, "block-job-cancel", args, NULL, NULL);
            l->cancelled = TRUE;
        }
    }
    if (waiting && dom->mon && ++rec->rounds < 100) {
        g_timeout_add(100, on_recovery_timer, rec);
        return;
    }
    for (guint i = 0; dom->mon && i < rec->left->len; i++) {
        struct leftover *l = rec->left->pdata[i];
        JsonObject *j = jobs ? qemu_json_find_object(jobs, "id", l->job) : NULL;
        gboolean whole = j && !l->cancelled && !qemu_json_string(j, "error");
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", l->job);
        qmp_quiet(dom, "job-dismiss", args);
        g_autofree char *fmt = qemu_device_node_format(l->index);
        g_autofree char *storage = qemu_device_node_storage(l->index);
        const char *nodes[] = {fmt, storage};
        for (gsize k = 0; k < G_N_ELEMENTS(nodes); k++) {
            args = json_object_new();
            json_object_set_string_member(args, "node-name", nodes[k]);
            qmp_quiet(dom, "blockdev-del", args);
        }
        if (l->bitmap) {
            /* on the disk the job read: its node is the job's name after "backup-DISK-" */
            const char *node = strchr(l->job + strlen("backup-"), '-');
            args = json_object_new();
            json_object_set_string_member(args, "node", node ? node + 1 : "");
            json_object_set_string_member(args, "name", l->bitmap);
            qmp_quiet(dom, "block-dirty-bitmap-remove", args);
        }
        if (whole) {
            log_info("%s: the backup into '%s' finished while the daemon was away", dom->def->name,
                     l->path);
        } else if (l->made && unlink(l->path) == 0) {
            log_warn("%s: the backup into '%s' did not finish: removed", dom->def->name, l->path);
        }
    }
    g_autofree char *path = record_path(dom->core, dom->def->name);
    unlink(path);
    recovery_free(rec);
}

static void
recovery_poll(struct recovery *rec)
{
    if (!rec->dom->mon) {
        g_autofree char *path = record_path(rec->dom->core, rec->dom->def->name);
        unlink(path);
        recovery_free(rec);
        return;
    }
    qmp_command(rec->dom->mon, "query-jobs", NULL, on_recovery_jobs, rec);
}

void
core_backup_recover(struct domain *dom)
{
    g_autofree char *path = record_path(dom->core, dom->def->name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    struct recovery *rec = g_new0(struct recovery, 1);
    rec->dom = core_domain_ref(dom);
    rec->left = g_ptr_array_new_with_free_func((GDestroyNotify)leftover_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 5);
        guint64 index = 0;
        if (g_strv_length(f) != 5 ||
            !g_ascii_string_to_unsigned(f[0], 10, 1, G_MAXUINT, &index, NULL) ||
            !g_str_has_prefix(f[2], "backup-"))
            continue;
        struct leftover *l = g_new0(struct leftover, 1);
        l->index = (unsigned)index;
        l->made = g_str_equal(f[1], "1");
        l->job = g_strdup(f[2]);
        l->bitmap = g_str_equal(f[3], "-") ? NULL : g_strdup(f[3]);
        l->path = g_strdup(f[4]);
        g_ptr_array_add(rec->left, l);
    }
    log_info("%s: a backup was under way when the daemon stopped: QEMU lets go of it",
             dom->def->name);
    recovery_poll(rec);
}

/* step "attach": each target's block nodes, with the disk's cache and I/O engine, on
 * nothing (QEMU writes only what it copies) */
static void
backup_attach_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    /* the targets are numbered after every image the domain has */
    unsigned index = qemu_device_next_image(dom->def);
    for (guint i = 0; i < op->targets->len; i++)
        ((struct backup_target *)op->targets->pdata[i])->disk->index = index++;
    GError *e = NULL;
    if (!write_record(op, &e)) {
        job_fail(job, e);
        return;
    }
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, t->disk->name);
        const char *format = t->disk->format ? t->disk->format : "qcow2";
        g_autoptr(GPtrArray) nodes = qemu_device_image_blockdevs(
            d, t->disk->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE, t->disk->target,
            g_str_equal(format, "raw") ? DISK_FORMAT_RAW : DISK_FORMAT_QCOW2, t->disk->index, NULL,
            core_disk_aio(dom->core, dom->emulator));
        t->attached = TRUE;
        for (guint j = 0; j < nodes->len; j++) {
            op->outstanding++;
            qmp_command(dom->mon, "blockdev-add", json_object_ref(nodes->pdata[j]), on_target_added,
                        job_ref(job));
        }
    }
    if (!op->outstanding)
        job_next(job);
}

static JsonObject *
action(const char *type, JsonObject *data)
{
    JsonObject *a = json_object_new();
    json_object_set_string_member(a, "type", type);
    json_object_set_object_member(a, "data", data);
    return a;
}

static void
on_backup_transaction(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    if (!error) {
        for (guint i = 0; i < op->targets->len; i++)
            ((struct backup_target *)op->targets->pdata[i])->bitmap_added = TRUE;
        GError *e = NULL;
        if (op->checkpoint) {
            struct checkpoint_def *cp = g_steal_pointer(&op->checkpoint);
            if (!keep_new(op->dom, cp, &e)) {
                log_warn("%s: %s", op->dom->def->name, e->message);
                g_clear_error(&e);
            }
        }
        op->dom->backup = op;
        log_info("%s: backup of %u disk%s started", op->dom->def->name, op->targets->len,
                 op->targets->len == 1 ? "" : "s");
        tell_started(op, NULL);
    }
    job_step_over(job, error);
}

/* step "start": one transaction: the new checkpoint's bitmaps, each incremental disk's
 * disabled copy of its checkpoint's bitmap, and every disk's blockdev-backup */
static void
backup_start_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    JsonArray *actions = json_array_new();
    if (op->checkpoint)
        add_bitmap_actions(actions, dom, op->checkpoint);
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        g_autofree char *target = qemu_device_node_format(t->disk->index);
        if (t->temp_bitmap) {
            JsonObject *add = json_object_new();
            json_object_set_string_member(add, "node", t->device);
            json_object_set_string_member(add, "name", t->temp_bitmap);
            json_object_set_boolean_member(add, "persistent", FALSE);
            json_object_set_boolean_member(add, "disabled", TRUE);
            json_array_add_object_element(actions, action("block-dirty-bitmap-add", add));
            JsonObject *merge = json_object_new();
            json_object_set_string_member(merge, "node", t->device);
            json_object_set_string_member(merge, "target", t->temp_bitmap);
            JsonArray *from = json_array_new();
            json_array_add_string_element(from, t->disk->incremental);
            json_object_set_array_member(merge, "bitmaps", from);
            json_array_add_object_element(actions, action("block-dirty-bitmap-merge", merge));
        }
        JsonObject *b = json_object_new();
        json_object_set_string_member(b, "job-id", t->job_id);
        json_object_set_string_member(b, "device", t->device);
        json_object_set_string_member(b, "target", target);
        json_object_set_string_member(b, "sync", t->temp_bitmap ? "incremental" : "full");
        if (t->temp_bitmap)
            json_object_set_string_member(b, "bitmap", t->temp_bitmap);
        json_object_set_boolean_member(b, "auto-finalize", TRUE);
        json_object_set_boolean_member(b, "auto-dismiss", FALSE);
        json_array_add_object_element(actions, action("blockdev-backup", b));
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "actions", actions);
    qmp_command(dom->mon, "transaction", args, on_backup_transaction, job_ref(job));
}

static gboolean on_backup_poll(gpointer data);

/* query-jobs: progress summed over the disks; the step ends once every copy concluded */
static void
on_backup_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    op->polling = FALSE;
    if (job->finished || op->job != job) {
        job_unref(job);
        return;
    }
    JsonArray *jobs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    guint64 done = 0, total = 0;
    guint concluded = 0;
    GError *e = NULL;
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *j = jobs ? qemu_json_find_object(jobs, "id", t->job_id) : NULL;
        if (!j) {
            if (!e)
                err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                        "QEMU's backup job of disk '%s' is gone", t->disk->name);
            concluded++;
            continue;
        }
        done += (guint64)MAX(qemu_json_int_or(j, "current-progress", 0), 0);
        total += (guint64)MAX(qemu_json_int_or(j, "total-progress", 0), 0);
        const char *status = qemu_json_string(j, "status");
        if (g_strcmp0(status, "concluded") != 0 && g_strcmp0(status, "null") != 0)
            continue;
        concluded++;
        const char *why = qemu_json_string(j, "error");
        if (why && !e)
            err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "backup of disk '%s' failed: %s",
                    t->disk->name, why);
    }
    if (error && !e)
        e = g_error_copy(error);
    job_set_progress(job, done, total);
    if (concluded == op->targets->len || (error && !jobs)) {
        op->job = NULL;
        if (!e && job->aborted)
            e = job_aborted_error(job, ERR_FROM_DOMAIN);
        job_step_over(job, e);
        g_clear_error(&e);
        return;
    }
    g_clear_error(&e);
    op->timer = g_timeout_add(BACKUP_POLL_MS, on_backup_poll, job);
    job_unref(job);
}

static gboolean
on_backup_poll(gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    op->timer = 0;
    if (!op->dom->mon) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
                op->dom->def->name);
        op->job = NULL;
        job_fail(job, e);
        return G_SOURCE_REMOVE;
    }
    op->polling = TRUE;
    qmp_command(op->dom->mon, "query-jobs", NULL, on_backup_jobs, job_ref(job));
    return G_SOURCE_REMOVE;
}

/* step "copy": until QEMU concluded every disk's copy */
static void
backup_copy_step(struct job *job)
{
    struct backup_op *op = job->data;
    op->job = job;
    on_backup_poll(job);
}

/* domjobabort, destroy: QEMU cancels the copies; the poll sees them conclude */
static void
backup_abort(struct job *job)
{
    struct backup_op *op = job->data;
    if (!op->job || !op->dom->mon)
        return;
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "device", t->job_id);
        json_object_set_boolean_member(args, "force", TRUE);
        qmp_command(op->dom->mon, "block-job-cancel", args, NULL, NULL);
    }
}

/* step "release": QEMU lets go of the targets (flushed and closed before the job is over,
 * so that a completed backup can be read at once) and of the temporary bitmaps */
static void
backup_release_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    g_clear_error(&op->add_error);
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", t->job_id);
        qmp_command(dom->mon, "job-dismiss", args, NULL, NULL);
        if (t->temp_bitmap) {
            args = json_object_new();
            json_object_set_string_member(args, "node", t->device);
            json_object_set_string_member(args, "name", t->temp_bitmap);
            qmp_command(dom->mon, "block-dirty-bitmap-remove", args, NULL, NULL);
        }
        t->bitmap_added = FALSE;
        g_autofree char *fmt = qemu_device_node_format(t->disk->index);
        g_autofree char *storage = qemu_device_node_storage(t->disk->index);
        const char *nodes[] = {fmt, storage};
        for (gsize k = 0; k < G_N_ELEMENTS(nodes); k++) {
            args = json_object_new();
            json_object_set_string_member(args, "node-name", nodes[k]);
            op->outstanding++;
            qmp_command(dom->mon, "blockdev-del", args, on_target_added, job_ref(job));
        }
        t->attached = FALSE;
    }
    if (!op->outstanding)
        job_next(job);
}

/* QEMU lets go of everything the backup added; a failed or aborted one leaves no image it
 * made */
static void
backup_finish(struct job *job, const GError *error)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    if (dom->backup == op)
        dom->backup = NULL;
    g_autofree char *record = record_path(dom->core, dom->def->name);
    unlink(record);
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        if (t->bitmap_added) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "id", t->job_id);
            qmp_quiet(dom, "job-dismiss", args);
        }
        if (t->attached) {
            g_autofree char *fmt = qemu_device_node_format(t->disk->index);
            g_autofree char *storage = qemu_device_node_storage(t->disk->index);
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "node-name", fmt);
            qmp_quiet(dom, "blockdev-del", args);
            args = json_object_new();
            json_object_set_string_member(args, "node-name", storage);
            qmp_quiet(dom, "blockdev-del", args);
        }
        if (t->bitmap_added && t->temp_bitmap) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "node", t->device);
            json_object_set_string_member(args, "name", t->temp_bitmap);
            qmp_quiet(dom, "block-dirty-bitmap-remove", args);
        }
        if (error && t->made && unlink(t->disk->target) < 0 && errno != ENOENT)
            log_warn("%s: cannot remove '%s': %s", dom->def->name, t->disk->target,
                     g_strerror(errno));
    }
    if (error)
        log_info("%s: backup ended: %s", dom->def->name, error->message);
    else
        log_info("%s: backup of %u disk%s done", dom->def->name, op->targets->len,
                 op->targets->len == 1 ? "" : "s");
    /* VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, once the copy had begun: its figures and outcome */
    if (!op->started) {
        g_autoptr(GPtrArray) params = typed_params_new();
        guint64 done = job->done, total = job->total;
        typed_params_add_int(params, "operation", 9 /* VIR_DOMAIN_JOB_OPERATION_BACKUP */);
        typed_params_add_ullong(params, "time_elapsed",
                                (guint64)(g_get_monotonic_time() - job->started_mono) / 1000);
        typed_params_add_ullong(params, "disk_total", total);
        typed_params_add_ullong(params, "disk_processed", done);
        typed_params_add_ullong(params, "disk_remaining", total - MIN(done, total));
        typed_params_add_bool(params, "success", error == NULL);
        if (error)
            typed_params_add_string(params, "errmsg", error->message);
        struct event ev = {.kind = EVENT_ID_JOB_COMPLETED, .params = params};
        core_domain_emit_event(dom, &ev);
    }
    tell_started(op, error);
}

static const struct job_step backup_steps[] = {
    {"size", backup_size_step},
    {"create", backup_create_step},
    {"attach", backup_attach_step},
    {"start", backup_start_step},
    {"copy", backup_copy_step},
    {"release", backup_release_step},
    {NULL, NULL},
};
static const struct job_pipeline backup_pipeline = {backup_steps, backup_finish, backup_abort,
                                                    TRUE};

static void
backup_run_done(GError *error, gpointer data)
{
    /* the caller heard at the start (tell_started); the outcome is the job's (domjobinfo
     * --completed) */
}

static void
backup_begin_job(struct job *job, GError *error, gpointer data)
{
    struct backup_op *op = data;
    GError *err = error ? g_error_copy(error) : NULL;
    if (job && !backup_check(op, &err)) {
        job_cancel(job, NULL, NULL, NULL);
        job = NULL;
    }
    if (!job) {
        tell_started(op, err);
        g_error_free(err);
        backup_op_free(op);
        return;
    }
    job_run(job, op, backup_op_free, backup_run_done, NULL);
}

void
core_backup_begin(struct domain *dom, const char *backup_xml, const char *checkpoint_xml,
                  unsigned flags, core_done_fn started, gpointer data)
{
    GError *error = NULL;
    g_autoptr(backup_def) def = backup_def_parse(backup_xml, &error);
    g_autoptr(checkpoint_def) cp =
        def && checkpoint_xml ? checkpoint_def_parse(checkpoint_xml, 0, &error) : NULL;
    if (!def || (checkpoint_xml && !cp)) {
        started(error, data);
        g_error_free(error);
        return;
    }
    struct backup_op *op = g_new0(struct backup_op, 1);
    op->dom = core_domain_ref(dom);
    op->def = g_steal_pointer(&def);
    op->checkpoint = g_steal_pointer(&cp);
    op->targets = g_ptr_array_new_with_free_func((GDestroyNotify)target_free);
    op->flags = flags;
    op->started = started;
    op->data = data;
    job_acquire(&dom->jobs, JOB_BACKUP, &backup_pipeline, dom->core->job_wait_ms, backup_begin_job,
                op);
}

char *
core_backup_xml(struct domain *dom, GError **error)
{
    if (!dom->backup) {
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN_BACKUP,
                "Domain backup job id not found: domain '%s' has no backup job under way",
                dom->def->name);
        return NULL;
    }
    return backup_def_format(dom->backup->def);
}
