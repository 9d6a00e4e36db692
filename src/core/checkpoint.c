/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint: a domain's checkpoints; prefixes core_checkpoint_ and checkpoint_ (what
 * backup.c shares).
 *
 * A checkpoint is a persistent dirty bitmap named after it in each of its qcow2 disks (their
 * top image), which records every write since; all of them stay active, so the changes since
 * any checkpoint are its own bitmap (libvirt's model since 6.x). Their metadata is one
 * <domaincheckpoint> file each under <state>/checkpoint/<domain>/ (".current" names the
 * current one). While the domain runs, bitmaps are added and removed in one QMP transaction;
 * while it is shut off, with qemu-img bitmap. Snapshots and checkpoints exclude each other (a
 * revert or an overlay would leave the bitmaps wrong), as do block copies and commits.
 * Backups, which read the bitmaps, are backup.c. */
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf/checkpoint_def.h"
#include "core/checkpoint.h"
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

/* virDomainCheckpointCreateFlags, ListFlags, DeleteFlags */
enum { CREATE_REDEFINE = 1, CREATE_QUIESCE = 2, CREATE_REDEFINE_VALIDATE = 4 };
enum {
    LIST_ROOTS = 1,
    LIST_DESCENDANTS = 1,
    LIST_TOPOLOGICAL = 2,
    LIST_LEAVES = 4,
    LIST_NO_LEAVES = 8
};
enum { DELETE_CHILDREN = 1, DELETE_METADATA_ONLY = 2, DELETE_CHILDREN_ONLY = 4 };

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
    /* a checkpoint being made of a shut off domain: its images say how far it got (a
     * running one's QEMU does, once adopted) */
    g_autofree char *status = core_status_path(dom);
    if (!g_file_test(status, G_FILE_TEST_EXISTS))
        core_checkpoint_recover(dom);
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
struct disk_def *
checkpoint_find_disk(struct domain *dom, const char *name)
{
    struct disk_def *d = domain_def_find_disk(dom->def, name);
    for (guint i = 0; !d && i < dom->def->disks->len; i++) {
        struct disk_def *x = dom->def->disks->pdata[i];
        if (g_strcmp0(x->source, name) == 0)
            d = x;
    }
    return d;
}

gboolean
checkpoint_disk_takes_part(const struct disk_def *d)
{
    return d->source && !d->readonly && d->device != DISK_DEVICE_CDROM;
}

/* DEF's disks against the domain's, as libvirt aligns them: every disk of the domain in its
 * order; without a <disks> list, each writable disk with an image gets a bitmap, with one,
 * those it does not name get none. A bitmap needs qcow2; a new one is named after the
 * checkpoint (a REDEFINED one may name another, as libvirt's). */
static gboolean
align_disks(struct domain *dom, struct checkpoint_def *def, gboolean redefined, GError **error)
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
        struct disk_def *d = checkpoint_find_disk(dom, cd->name);
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
        cd->bitmap = given ? want && want->bitmap : checkpoint_disk_takes_part(d);
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
        if (!checkpoint_disk_takes_part(d)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED, "disk '%s' is empty or readonly",
                    cd->name);
            return FALSE;
        }
        if (!redefined && !g_str_equal(cd->bitmap_name, def->name)) {
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
gboolean
checkpoint_prepare_new(struct domain *dom, struct checkpoint_def *def, GError **error)
{
    if (!def->creation_time)
        def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    if (!def->name)
        def->name = g_strdup_printf("%" G_GINT64_FORMAT, def->creation_time);
    if (g_hash_table_contains(dom->checkpoints, def->name)) {
        err_set(error, ORIGIN, ERR_OPERATION_FAILED, "domain moment %s already exists", def->name);
        return FALSE;
    }
    if (!check_no_snapshots(dom, error) || !align_disks(dom, def, FALSE, error))
        return FALSE;
    g_free(def->parent);
    def->parent = g_strdup(dom->current_checkpoint);
    domain_def_free(def->dom);
    def->dom = domain_def_copy(dom->new_def ? dom->new_def : dom->def);
    return TRUE;
}

/* A new checkpoint is made: it is kept and becomes the current one. */
gboolean
checkpoint_keep_new(struct domain *dom, struct checkpoint_def *def, GError **error)
{
    if (!write_meta(dom, def, error)) {
        checkpoint_def_free(def);
        return FALSE;
    }
    g_free(dom->current_checkpoint);
    dom->current_checkpoint = g_strdup(def->name);
    g_hash_table_replace(dom->checkpoints, def->name, def);
    return write_current(dom, error);
}

JsonObject *
checkpoint_action(const char *type, JsonObject *data)
{
    JsonObject *a = json_object_new();
    json_object_set_string_member(a, "type", type);
    json_object_set_object_member(a, "data", data);
    return a;
}

/* A transaction action of TYPE (block-dirty-bitmap-add or -remove) on each of DEF's bitmaps,
 * on its disk's top image, to ACTIONS; an added one is persistent */
static void
bitmap_actions(JsonArray *actions, struct domain *dom, const struct checkpoint_def *def,
               const char *type)
{
    gboolean add = g_str_equal(type, "block-dirty-bitmap-add");
    for (guint i = 0; i < def->disks->len; i++) {
        const struct checkpoint_disk *cd = def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, cd->name);
        if (!cd->bitmap || !d)
            continue;
        g_autofree char *node = qemu_device_node_format(d->source_index);
        JsonObject *data = json_object_new();
        json_object_set_string_member(data, "node", node);
        json_object_set_string_member(data, "name", cd->bitmap_name);
        if (add)
            json_object_set_boolean_member(data, "persistent", TRUE);
        json_array_add_object_element(actions, checkpoint_action(type, data));
    }
}

void
checkpoint_add_bitmap_actions(JsonArray *actions, struct domain *dom,
                              const struct checkpoint_def *def)
{
    bitmap_actions(actions, dom, def, "block-dirty-bitmap-add");
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
 * domain's), appended to CMDS (run by snapshot_run_commands in a worker thread) */
static void
img_bitmap_commands(GPtrArray *cmds, struct domain *dom, const struct checkpoint_def *def,
                    const char *option)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const struct checkpoint_disk *cd = def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, cd->name);
        if (!cd->bitmap || !d || !d->source)
            continue;
        const char *argv[] = {core_storage_qemu_img(), "bitmap", option, d->source,
                              cd->bitmap_name,         NULL};
        g_ptr_array_add(cmds, g_strdupv((char **)argv));
    }
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
    GError *error = NULL;
    if (!checkpoint_pending_write(dom, op->def, &error)) {
        job_fail(job, error);
        return;
    }
    if (!state_is_active(dom->state)) {
        GPtrArray *cmds = snapshot_commands_new();
        img_bitmap_commands(cmds, dom, op->def, "--add");
        snapshot_run_commands(job, cmds);
        return;
    }
    JsonArray *actions = json_array_new();
    checkpoint_add_bitmap_actions(actions, dom, op->def);
    run_transaction(job, dom, actions);
}

static void pending_recover(struct domain *dom, gboolean keep_whole, const char *why);

static void
create_finish(struct job *job, const GError *error)
{
    struct cp_op *op = job->data;
    GError *e = NULL;
    if (error) {
        /* qemu-img may have added the bitmaps of some images before one failed */
        if (!state_is_active(op->dom->state))
            pending_recover(op->dom, FALSE, "failed");
        checkpoint_pending_clear(op->dom);
        return;
    }
    g_autofree char *name = g_strdup(op->def->name);
    if (!checkpoint_keep_new(op->dom, g_steal_pointer(&op->def), &e)) {
        /* its bitmaps go again (the record says which; it goes with them) */
        checkpoint_pending_undo(op->dom, "could not be kept");
        job_set_error(job, e);
        return;
    }
    checkpoint_pending_clear(op->dom);
    log_info("%s: checkpoint '%s' made", op->dom->def->name, name);
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
    if (!checkpoint_prepare_new(op->dom, op->def, error))
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

/* --- a checkpoint on its way, for a daemon that dies before it is kept --- */

#define PENDING_FILE ".pending"
#define STOPPED_MIDWAY "was being made when the daemon stopped"

static char *
pending_path(struct domain *dom)
{
    g_autofree char *dir = moment_dir(dom, KIND);
    return g_build_filename(dir, PENDING_FILE, NULL);
}

gboolean
checkpoint_pending_write(struct domain *dom, const struct checkpoint_def *def, GError **error)
{
    g_autofree char *dir = moment_dir(dom, KIND);
    g_autofree char *path = pending_path(dom);
    g_autofree char *xml = checkpoint_def_format(def, CHECKPOINT_DEF_FORMAT_SECURE);
    return file_mkdir_p(dir, 0700, error) &&
           file_write_atomic(path, xml, strlen(xml), 0600, FILE_DURABLE, error);
}

void
checkpoint_pending_clear(struct domain *dom)
{
    g_autofree char *path = pending_path(dom);
    unlink(path);
}

/* DEF's bitmaps that DOM's disks lack are struck from DEF (HAS tells whether disk D has
 * bitmap NAME): TRUE when none was, and DEF is whole; else DEF names the ones to remove. */
typedef gboolean (*has_bitmap_fn)(const struct disk_def *d, const char *name, gpointer data);

static gboolean
pending_keep_present(struct domain *dom, struct checkpoint_def *def, has_bitmap_fn has,
                     gpointer data)
{
    gboolean all = TRUE;
    for (guint i = 0; i < def->disks->len; i++) {
        struct checkpoint_disk *cd = def->disks->pdata[i];
        const struct disk_def *d = cd->bitmap ? checkpoint_find_disk(dom, cd->name) : NULL;
        if (cd->bitmap && !(d && has(d, cd->bitmap_name, data))) {
            cd->bitmap = FALSE;
            all = FALSE;
        }
    }
    return all;
}

/* The record's outcome: DEF (taken) kept, or dropped; WHY: what cut its making short */
static void
pending_settle(struct domain *dom, struct checkpoint_def *def, gboolean keep, const char *why)
{
    g_autoptr(GError) error = NULL;
    checkpoint_pending_clear(dom);
    if (!keep) {
        log_warn("%s: checkpoint '%s' %s; undone", dom->def->name, def->name, why);
        checkpoint_def_free(def);
        return;
    }
    log_warn("%s: checkpoint '%s' %s; its bitmaps are there: kept", dom->def->name, def->name, why);
    if (!checkpoint_keep_new(dom, def, &error))
        log_warn("%s: %s", dom->def->name, error->message);
}

struct live_recovery {
    struct domain *dom; /* a reference */
    struct checkpoint_def *def;
    JsonArray *nodes;
    gboolean keep_whole; /* kept when every bitmap is there; else undone all the same */
    const char *why;     /* static */
};

static gboolean
live_has(const struct disk_def *d, const char *name, gpointer data)
{
    struct live_recovery *rec = data;
    g_autofree char *node = qemu_device_node_format(d->source_index);
    JsonObject *n = rec->nodes ? qemu_json_find_object(rec->nodes, "node-name", node) : NULL;
    JsonArray *bitmaps = n ? qemu_json_array(n, "dirty-bitmaps") : NULL;
    return bitmaps && qemu_json_find_object(bitmaps, "name", name);
}

static void
on_recover_nodes(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct live_recovery *rec = data;
    struct domain *dom = rec->dom;
    rec->nodes = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    /* a checkpoint made meanwhile (its own record) is not this one's business */
    g_autofree char *path = pending_path(dom);
    g_autofree char *xml = NULL;
    g_autoptr(checkpoint_def) now =
        g_file_get_contents(path, &xml, NULL, NULL)
            ? checkpoint_def_parse(xml, CHECKPOINT_DEF_PARSE_REDEFINE, NULL)
            : NULL;
    gboolean ours = now && g_strcmp0(now->name, rec->def->name) == 0 &&
                    !g_hash_table_contains(dom->checkpoints, rec->def->name);
    if (!ours) {
        log_debug("%s: the record of checkpoint '%s' went meanwhile", dom->def->name,
                  rec->def->name);
    } else if (rec->nodes) {
        gboolean all = pending_keep_present(dom, rec->def, live_has, rec) && rec->keep_whole;
        if (!all && dom->mon) {
            JsonArray *actions = json_array_new();
            bitmap_actions(actions, dom, rec->def, "block-dirty-bitmap-remove");
            JsonObject *args = json_object_new();
            json_object_set_array_member(args, "actions", actions);
            qmp_command(dom->mon, "transaction", args, NULL, NULL);
        }
        pending_settle(dom, g_steal_pointer(&rec->def), all, rec->why);
    } else {
        log_warn("%s: cannot tell whether checkpoint '%s' was made: %s", dom->def->name,
                 rec->def->name, error ? error->message : "no answer from QEMU");
    }
    checkpoint_def_free(rec->def);
    core_domain_unref(dom);
    g_free(rec);
}

/* qemu-img info of disk D's image: whether it has bitmap NAME */
static gboolean
image_has(const struct disk_def *d, const char *name, gpointer data)
{
    const char *argv[] = {core_storage_qemu_img(), "info", "-U", "--output=json", d->source, NULL};
    g_autofree char *out = NULL;
    gint status = 0;
    if (!d->source ||
        !g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, out, -1, NULL))
        return FALSE;
    JsonObject *info = qemu_json_node_object(json_parser_get_root(parser));
    JsonObject *spec = info ? qemu_json_object(info, "format-specific") : NULL;
    JsonObject *sdata = spec ? qemu_json_object(spec, "data") : NULL;
    JsonArray *bitmaps = sdata ? qemu_json_array(sdata, "bitmaps") : NULL;
    return bitmaps && qemu_json_find_object(bitmaps, "name", name);
}

void
checkpoint_pending_undo(struct domain *dom, const char *why)
{
    pending_recover(dom, FALSE, why);
}

void
core_checkpoint_recover(struct domain *dom)
{
    pending_recover(dom, TRUE, STOPPED_MIDWAY);
}

/* DOM's record: kept when KEEP_WHOLE and every bitmap is there, else the ones there go */
static void
pending_recover(struct domain *dom, gboolean keep_whole, const char *why)
{
    g_autofree char *path = pending_path(dom);
    g_autofree char *xml = NULL;
    if (!g_file_get_contents(path, &xml, NULL, NULL))
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(checkpoint_def) def =
        checkpoint_def_parse(xml, CHECKPOINT_DEF_PARSE_REDEFINE, &error);
    if (!def || !def->name || g_hash_table_contains(dom->checkpoints, def->name) ||
        !align_disks(dom, def, TRUE, &error)) {
        /* unreadable, kept before the record went, or not of these disks */
        checkpoint_pending_clear(dom);
        return;
    }
    if (state_is_active(dom->state) && dom->mon) {
        struct live_recovery *rec = g_new0(struct live_recovery, 1);
        rec->dom = core_domain_ref(dom);
        rec->def = g_steal_pointer(&def);
        rec->keep_whole = keep_whole;
        rec->why = why;
        JsonObject *args = json_object_new();
        json_object_set_boolean_member(args, "flat", TRUE);
        qmp_command(dom->mon, "query-named-block-nodes", args, on_recover_nodes, rec);
        return;
    }
    gboolean all = pending_keep_present(dom, def, image_has, NULL) && keep_whole;
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    if (!all)
        img_bitmap_commands(cmds, dom, def, "--remove");
    for (guint i = 0; i < cmds->len; i++)
        g_spawn_sync(NULL, cmds->pdata[i], NULL,
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    pending_settle(dom, g_steal_pointer(&def), all, why);
}

static const char *
checkpoint_parent(gconstpointer def)
{
    return ((const struct checkpoint_def *)def)->parent;
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
    if (def->parent &&
        moment_would_cycle(dom->checkpoints, def->name, def->parent, checkpoint_parent)) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "parent '%s' would create cycle to '%s'",
                def->parent, def->name);
        return FALSE;
    }
    if (!def->creation_time)
        def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    if (!align_disks(dom, def, TRUE, error))
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
            if (def)
                img_bitmap_commands(cmds, dom, def, "--remove");
        }
        snapshot_run_commands(job, cmds);
        return;
    }
    JsonArray *actions = json_array_new();
    for (guint t = 0; t < op->targets->len; t++) {
        const struct checkpoint_def *def =
            g_hash_table_lookup(dom->checkpoints, op->targets->pdata[t]);
        if (def)
            bitmap_actions(actions, dom, def, "block-dirty-bitmap-remove");
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
