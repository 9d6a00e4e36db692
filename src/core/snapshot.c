/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot: a domain's snapshots; prefix core_snapshot_. Their metadata is one
 * <domainsnapshot> file each under <state>/snapshot/<domain>/ (".current" names the current
 * one), written atomically. Internal snapshots live in the domain's qcow2 images: made,
 * reverted and deleted by QEMU's snapshot-save, snapshot-load and snapshot-delete jobs while
 * the domain runs (QEMU stops the vCPUs for the moment it needs), by qemu-img while it is shut
 * off. Each is a job of the engine. */
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/lifecycle.h"
#include "core/moment.h"
#include "core/snapshot.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define ORIGIN ERR_FROM_DOMAIN_SNAPSHOT
#define QJOB_ID SNAPSHOT_QJOB_ID
#define QJOB_POLL_MS 5

/* --- metadata --- */

#define KIND "snapshot"

char *
snapshot_dir(struct domain *dom)
{
    return moment_dir(dom, KIND);
}

gboolean
snapshot_write_current(struct domain *dom, GError **error)
{
    return moment_write_current(dom, KIND, dom->current_snapshot, error);
}

gboolean
snapshot_write_meta(struct domain *dom, const struct snapshot_def *def, GError **error)
{
    g_autofree char *xml = snapshot_def_format(def, SNAPSHOT_DEF_FORMAT_SECURE);
    return moment_write(dom, KIND, def->name, xml, error);
}

static gpointer
parse_kept(const char *xml, const char **ret_name, GError **error)
{
    struct snapshot_def *def = snapshot_def_parse(xml, SNAPSHOT_DEF_PARSE_REDEFINE, error);
    if (def && !def->name)
        g_clear_pointer(&def, snapshot_def_free);
    *ret_name = def ? def->name : NULL;
    return def;
}

void
core_snapshot_load(struct domain *dom)
{
    dom->current_snapshot = moment_load(dom, KIND, dom->snapshots, parse_kept);
    snapshot_pending_settle_offline(dom);
}

struct snapshot_def *
core_snapshot_lookup(struct domain *dom, const char *name, GError **error)
{
    struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, name);
    if (!def)
        err_set(error, ORIGIN, ERR_NO_DOMAIN_SNAPSHOT,
                "domain snapshot not found: no domain snapshot with matching name '%s'", name);
    return def;
}

static gint
by_time(gconstpointer a, gconstpointer b)
{
    const struct snapshot_def *x = *(struct snapshot_def *const *)a;
    const struct snapshot_def *y = *(struct snapshot_def *const *)b;
    if (x->creation_time != y->creation_time)
        return x->creation_time < y->creation_time ? -1 : 1;
    return strcmp(x->name, y->name);
}

gboolean
snapshot_has_children(struct domain *dom, const char *name)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (g_strcmp0(((struct snapshot_def *)v)->parent, name) == 0)
            return TRUE;
    return FALSE;
}

/* Whether DEF descends from ANCESTOR (NULL: the roots' parent, so every snapshot does). */
gboolean
snapshot_descends(struct domain *dom, const struct snapshot_def *def, const char *ancestor)
{
    guint hops = 0;
    for (const char *p = def->parent; p; hops++) {
        if (ancestor && g_str_equal(p, ancestor))
            return TRUE;
        const struct snapshot_def *up = g_hash_table_lookup(dom->snapshots, p);
        if (!up || hops > g_hash_table_size(dom->snapshots))
            break;
        p = up->parent;
    }
    return !ancestor;
}

gboolean
snapshot_is_internal(const struct snapshot_def *def)
{
    if (def->memory == SNAPSHOT_LOC_EXTERNAL)
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++)
        if (((struct snapshot_disk *)def->disks->pdata[i])->snapshot == SNAPSHOT_LOC_EXTERNAL)
            return FALSE;
    return TRUE;
}

GPtrArray *
core_snapshot_list(struct domain *dom, const char *from, unsigned flags)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct snapshot_def *def = v;
        if (from) {
            gboolean all = (flags & CORE_SNAPSHOT_LIST_DESCENDANTS) != 0;
            if (all ? !snapshot_descends(dom, def, from) : g_strcmp0(def->parent, from) != 0)
                continue;
        } else if ((flags & CORE_SNAPSHOT_LIST_ROOTS) && def->parent) {
            continue;
        }
        gboolean leaf = !snapshot_has_children(dom, def->name);
        if (((flags & CORE_SNAPSHOT_LIST_LEAVES) && !leaf) ||
            ((flags & CORE_SNAPSHOT_LIST_NO_LEAVES) && leaf) ||
            (flags & CORE_SNAPSHOT_LIST_NO_METADATA))
            continue;
        unsigned kinds = flags & (CORE_SNAPSHOT_LIST_INACTIVE | CORE_SNAPSHOT_LIST_ACTIVE |
                                  CORE_SNAPSHOT_LIST_DISK_ONLY);
        if (kinds) {
            gboolean ok =
                ((kinds & CORE_SNAPSHOT_LIST_INACTIVE) && def->state == SNAPSHOT_STATE_SHUTOFF) ||
                ((kinds & CORE_SNAPSHOT_LIST_DISK_ONLY) &&
                 def->state == SNAPSHOT_STATE_DISK_SNAPSHOT) ||
                ((kinds & CORE_SNAPSHOT_LIST_ACTIVE) && def->state != SNAPSHOT_STATE_SHUTOFF &&
                 def->state != SNAPSHOT_STATE_DISK_SNAPSHOT);
            if (!ok)
                continue;
        }
        unsigned where = flags & (CORE_SNAPSHOT_LIST_INTERNAL | CORE_SNAPSHOT_LIST_EXTERNAL);
        if (where && !(where & (snapshot_is_internal(def) ? CORE_SNAPSHOT_LIST_INTERNAL
                                                          : CORE_SNAPSHOT_LIST_EXTERNAL)))
            continue;
        g_ptr_array_add(out, def);
    }
    /* creation order is topological: a parent was made before its children */
    g_ptr_array_sort(out, by_time);
    return out;
}

gboolean
core_snapshot_forget_all(struct domain *dom, GError **error)
{
    g_clear_pointer(&dom->current_snapshot, g_free);
    return moment_forget_all(dom, KIND, dom->snapshots, error);
}

char *
core_snapshot_xml(struct domain *dom, const char *name, unsigned flags, GError **error)
{
    struct snapshot_def *def = core_snapshot_lookup(dom, name, error);
    return def ? snapshot_def_format(def, (flags & 1) ? SNAPSHOT_DEF_FORMAT_SECURE : 0) : NULL;
}

/* --- what a snapshot touches --- */

/* The disks an internal snapshot covers: writable, with an image. Refuses a raw one. */
static GPtrArray *
internal_disks(const struct domain_def *def, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (!d->source || d->readonly || d->device == DISK_DEVICE_CDROM)
            continue;
        if (d->format != DISK_FORMAT_QCOW2) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "internal snapshot of disk '%s' needs a qcow2 image; '%s' is not one (an "
                    "external snapshot is not supported yet)",
                    d->target_dev, d->source);
            return NULL;
        }
        g_ptr_array_add(out, d);
    }
    return g_steal_pointer(&out);
}

/* snapshot-save/-load/-delete arguments: the tag, the image for the VM state, the devices */
static JsonObject *
qjob_args(const char *name, GPtrArray *disks, gboolean vmstate)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "job-id", QJOB_ID);
    json_object_set_string_member(args, "tag", name);
    JsonArray *devices = json_array_new();
    for (guint i = 0; i < disks->len; i++) {
        struct disk_def *d = disks->pdata[i];
        g_autofree char *node = qemu_device_node_format(d->source_index);
        json_array_add_string_element(devices, node);
    }
    if (vmstate && disks->len) {
        struct disk_def *d = disks->pdata[0];
        g_autofree char *node = qemu_device_node_format(d->source_index);
        json_object_set_string_member(args, "vmstate", node);
    }
    json_object_set_array_member(args, "devices", devices);
    return args;
}

/* --- a QEMU job (snapshot-save/-load/-delete) as one step --- */

struct qjob {
    struct job *job;
    struct domain *dom;
    void (*then)(struct job *job); /* runs on success instead of job_next (a loop) */
    guint timer;
    gboolean ended;
    gboolean polling;
    gboolean again;      /* QEMU's job changed while query-jobs was on its way */
    gboolean completing; /* job-complete was sent */
    int refs;
};

static struct qjob *
qjob_ref(struct qjob *q)
{
    q->refs++;
    return q;
}

static void
qjob_unref(struct qjob *q)
{
    if (--q->refs > 0)
        return;
    job_unref(q->job);
    core_domain_unref(q->dom);
    g_free(q);
}

static void
qjob_end(struct qjob *q, GError *error)
{
    if (q->ended) {
        if (error)
            g_error_free(error);
        return;
    }
    q->ended = TRUE;
    if (q->timer)
        g_source_remove(q->timer);
    q->timer = 0;
    if (q->dom->qjob == q)
        q->dom->qjob = NULL;
    if (error)
        job_fail(q->job, error);
    else if (q->then)
        q->then(q->job);
    else
        job_next(q->job);
    qjob_unref(q); /* the timer's */
}

static gboolean on_qjob_poll(gpointer data);

static void
on_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct qjob *q = data;
    q->polling = FALSE;
    JsonArray *jobs = error ? NULL : qemu_json_node_array(result);
    for (guint i = 0; jobs && !q->ended && i < json_array_get_length(jobs); i++) {
        JsonObject *j = qemu_json_element_object(jobs, i);
        const char *id = j ? qemu_json_string(j, "id") : NULL;
        if (!id || !g_str_equal(id, QJOB_ID))
            continue;
        const char *status = qemu_json_string(j, "status");
        gint64 cur = qemu_json_int_or(j, "current-progress", 0);
        gint64 total = qemu_json_int_or(j, "total-progress", 0);
        if (total > 0 && cur >= 0)
            job_set_progress(q->job, (guint64)cur, (guint64)total);
        /* an active commit mirrors until told to complete: the pivot */
        if (status && g_str_equal(status, "ready") && !q->completing) {
            q->completing = TRUE;
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "id", QJOB_ID);
            qmp_command(q->dom->mon, "job-complete", args, NULL, NULL);
        }
        if (!status || !g_str_equal(status, "concluded"))
            break;
        const char *err = qemu_json_string(j, "error");
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", QJOB_ID);
        qmp_command(q->dom->mon, "job-dismiss", args, NULL, NULL);
        GError *e = NULL;
        if (err)
            err_set(&e, ORIGIN, ERR_OPERATION_FAILED, "QEMU's %s job failed: %s",
                    job_type_to_string(q->job->type), err);
        qjob_end(q, e);
    }
    if (error && !q->ended)
        qjob_end(q, g_error_copy(error));
    if (q->again && !q->ended) {
        q->again = FALSE;
        on_qjob_poll(q);
    }
    qjob_unref(q);
}

static gboolean
on_qjob_poll(gpointer data)
{
    struct qjob *q = data;
    if (!q->polling && q->dom->mon) {
        q->polling = TRUE;
        qmp_command(q->dom->mon, "query-jobs", NULL, on_jobs, qjob_ref(q));
    }
    return G_SOURCE_CONTINUE;
}

static void
on_qjob_started(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct qjob *q = data;
    if (error)
        qjob_end(q, g_error_copy(error));
    qjob_unref(q);
}

void
snapshot_qjob_run(struct job *job, struct domain *dom, const char *command, JsonObject *args,
                  void (*then)(struct job *job))
{
    struct qjob *q = g_new0(struct qjob, 1);
    q->then = then;
    q->refs = 1; /* the timer's */
    q->job = job_ref(job);
    q->dom = core_domain_ref(dom);
    qmp_command(dom->mon, command, args, on_qjob_started, qjob_ref(q));
    q->timer = g_timeout_add(QJOB_POLL_MS, on_qjob_poll, q);
    dom->qjob = q;
}

void
snapshot_qjob_event(struct domain *dom, JsonObject *data)
{
    const char *id = qemu_json_string(data, "id");
    if (!dom->qjob || !id || !g_str_equal(id, QJOB_ID))
        return;
    if (dom->qjob->polling)
        dom->qjob->again = TRUE;
    else
        on_qjob_poll(dom->qjob);
}

/* --- qemu-img on a shut off domain's images, in a worker thread --- */

static gboolean
commands_in_thread(struct job *job, gpointer data, GError **ret_error)
{
    GPtrArray *cmds = data;
    for (guint i = 0; i < cmds->len; i++) {
        char **argv = cmds->pdata[i];
        g_autofree char *out = NULL;
        int status = 0;
        GError *error = NULL;
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                          NULL, NULL, &out, &status, &error) ||
            !g_spawn_check_wait_status(status, NULL)) {
            GError *e = NULL;
            err_set(&e, ORIGIN, ERR_OPERATION_FAILED, "'%s %s %s' failed: %s", argv[0], argv[1],
                    argv[g_strv_length(argv) - 1],
                    error ? error->message : (out && *out ? g_strstrip(out) : "error"));
            g_clear_error(&error);
            g_propagate_error(ret_error, e);
            return FALSE;
        }
        job_set_progress(job, i + 1, cmds->len);
    }
    return TRUE;
}

void
snapshot_run_commands(struct job *job, GPtrArray *commands)
{
    job_step_in_thread(job, commands_in_thread, commands, (GDestroyNotify)g_ptr_array_unref);
}

GPtrArray *
snapshot_commands_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
}

/* qemu-img snapshot OPTION NAME on each of DISKS for each of NAMES (-c create, -a apply,
 * -d delete), one after another in one worker thread. */
static void
img_run(struct job *job, GPtrArray *disks, const char *option, const char *const *names, guint n)
{
    GPtrArray *cmds = snapshot_commands_new();
    for (guint t = 0; t < n; t++)
        for (guint i = 0; i < disks->len; i++) {
            const char *argv[] = {"qemu-img",
                                  "snapshot",
                                  option,
                                  names[t],
                                  ((struct disk_def *)disks->pdata[i])->source,
                                  NULL};
            g_ptr_array_add(cmds, g_strdupv((char **)argv));
        }
    snapshot_run_commands(job, cmds);
}

/* --- create --- */

void
snapshot_op_free(gpointer data)
{
    struct snap_op *op = data;
    snapshot_ext_free(op->ext);
    snapshot_def_free(op->def);
    if (op->disks)
        g_ptr_array_unref(op->disks);
    if (op->targets)
        g_ptr_array_unref(op->targets);
    g_free(op->name);
    core_domain_unref(op->dom);
    g_free(op);
}

static void
create_step(struct job *job)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (!snapshot_pending_write(dom, op->def, FALSE, op->flags, &error) ||
        (state_is_active(dom->state) && !core_status_write(dom, &error))) {
        job_fail(job, error);
        return;
    }
    if (state_is_active(dom->state)) {
        if (!dom->mon) {
            err_set(&error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                    dom->def->name);
            job_fail(job, error);
            return;
        }
        snapshot_qjob_run(job, dom, "snapshot-save", qjob_args(op->def->name, op->disks, TRUE),
                          NULL);
    } else {
        img_run(job, op->disks, "-c", (const char *const *)&op->def->name, 1);
    }
}

void
snapshot_keep_new(struct job *job, struct snap_op *op)
{
    struct domain *dom = op->dom;
    if (op->flags & CORE_SNAPSHOT_CREATE_NO_METADATA) {
        log_info("%s: snapshot '%s' made (no metadata kept)", dom->def->name, op->def->name);
        return;
    }
    GError *e = NULL;
    /* the overlays a revert put under the current snapshot are the new one's images now */
    struct snapshot_def *cur =
        dom->current_snapshot ? g_hash_table_lookup(dom->snapshots, dom->current_snapshot) : NULL;
    if (cur && cur->revert_disks && cur->revert_disks->len) {
        g_ptr_array_set_size(cur->revert_disks, 0);
        if (!snapshot_write_meta(dom, cur, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_clear_error(&e);
        }
    }
    struct snapshot_def *def = g_steal_pointer(&op->def);
    g_hash_table_replace(dom->snapshots, def->name, def);
    g_free(dom->current_snapshot);
    dom->current_snapshot = g_strdup(def->name);
    if (!snapshot_write_meta(dom, def, &e) || !snapshot_write_current(dom, &e)) {
        /* the images have it; without its metadata the snapshot is not listed */
        g_hash_table_remove(dom->snapshots, def->name);
        g_clear_pointer(&dom->current_snapshot, g_free);
        g_prefix_error(&e, "snapshot '%s' was made but its metadata could not be kept: ", op->name);
        job_set_error(job, e);
        return;
    }
    log_info("%s: snapshot '%s' made", dom->def->name, def->name);
}

static void
create_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "snapshot of '%s': ", op->dom->def->name);
        job_set_error(job, e);
    } else {
        snapshot_keep_new(job, op);
    }
    /* last: a daemon that dies before this settles the snapshot from the record */
    snapshot_pending_clear(op->dom);
}

/* QEMU's own snapshot job stops the vCPUs while it writes; nothing to undo midway */
static void
snap_abort(struct job *job)
{
    GError *error = NULL;
    err_set(&error, ORIGIN, ERR_OPERATION_FAILED, "QEMU exited during the snapshot job");
    job_fail(job, error);
}

static const struct job_step create_steps[] = {{"snapshot", create_step}, {NULL, NULL}};
static const struct job_pipeline create_pipeline = {
    .steps = create_steps, .finish = create_finish, .abort = snap_abort, .abortable = FALSE};

struct snap_request {
    struct snap_op *op;
    void (*prepare)(struct job *job, struct snap_op *op, GError **error);
    char *name;                 /* the snapshot's, once prepared */
    core_snapshot_done_fn done; /* create: hears the name */
    core_done_fn done_plain;    /* revert, delete */
    gpointer data;
};

static void
tell(struct snap_request *req, GError *error, const char *name)
{
    if (req->done)
        req->done(error, name, req->data);
    else
        req->done_plain(error, req->data);
}

static void
snap_done(GError *error, gpointer data)
{
    struct snap_request *req = data;
    tell(req, error, error ? NULL : req->name);
}

static void
free_request(gpointer data)
{
    struct snap_request *req = data;
    snapshot_op_free(req->op);
    g_free(req);
}

/* The op's run is over: the request goes with it */
static void
run_done(GError *error, gpointer data)
{
    struct snap_request *req = data;
    snap_done(error, req);
    g_free(req->name);
    g_free(req);
}

static void
snap_begin(struct job *job, GError *error, gpointer data)
{
    struct snap_request *req = data;
    if (!job) {
        tell(req, error, NULL);
        free_request(req);
        return;
    }
    GError *err = NULL;
    req->prepare(job, req->op, &err);
    if (err) {
        job_cancel(job, NULL, NULL, NULL);
        tell(req, err, NULL);
        g_error_free(err);
        free_request(req);
        return;
    }
    struct snap_op *op = g_steal_pointer(&req->op);
    req->name = g_strdup(op->name);
    job_run(job, op, snapshot_op_free, run_done, req);
}

void
snapshot_job_start(struct domain *dom, enum job_type type, const struct job_pipeline *pipeline,
                   struct snap_op *op, void (*prepare)(struct job *, struct snap_op *, GError **),
                   core_snapshot_done_fn done, core_done_fn done_plain, gpointer data)
{
    struct snap_request *req = g_new0(struct snap_request, 1);
    req->op = op;
    req->prepare = prepare;
    req->done = done;
    req->done_plain = done_plain;
    req->data = data;
    job_acquire(&dom->jobs, type, pipeline, dom->core->job_wait_ms, snap_begin, req);
}

gboolean
snapshot_check_new(struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct snapshot_def *def = op->def;
    if (!def->name)
        def->name = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    if (g_hash_table_contains(dom->snapshots, def->name)) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID, "domain snapshot '%s' already exists",
                def->name);
        return FALSE;
    }
    for (guint i = 0; i < def->disks->len; i++) {
        struct snapshot_disk *sd = def->disks->pdata[i];
        if (!domain_def_find_disk(dom->def, sd->name)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "no disk with target '%s' in domain '%s'", sd->name, dom->def->name);
            return FALSE;
        }
    }
    return TRUE;
}

/* Under the job: the new snapshot's definition from the domain as it is now. */
static void
create_prepare(struct job *job, struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct snapshot_def *def = op->def;
    if (!snapshot_check_new(op, error))
        return;
    gboolean active = state_is_active(dom->state);
    for (guint i = 0; i < def->disks->len; i++) {
        struct snapshot_disk *sd = def->disks->pdata[i];
        if (sd->snapshot == SNAPSHOT_LOC_MANUAL) {
            err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                    "snapshot='manual' of disk '%s' is not supported", sd->name);
            return;
        }
    }
    op->disks = internal_disks(dom->def, error);
    if (!op->disks)
        return;
    if (!op->disks->len) {
        err_set(error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "domain '%s' has no writable qcow2 disk to hold an internal snapshot",
                dom->def->name);
        return;
    }
    if (active && dom->state != DOM_RUNNING && dom->state != DOM_PAUSED) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "domain '%s' is %s; a snapshot needs it running, paused or shut off",
                dom->def->name, state_to_string(dom->state));
        return;
    }
    def->state = !active                     ? SNAPSHOT_STATE_SHUTOFF
                 : dom->state == DOM_RUNNING ? SNAPSHOT_STATE_RUNNING
                                             : SNAPSHOT_STATE_PAUSED;
    def->memory = active ? SNAPSHOT_LOC_INTERNAL : SNAPSHOT_LOC_NO;
    def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    g_free(def->parent);
    def->parent = g_strdup(dom->current_snapshot);
    g_ptr_array_set_size(def->disks, 0);
    for (guint i = 0; i < dom->def->disks->len; i++) {
        struct disk_def *d = dom->def->disks->pdata[i];
        struct snapshot_disk *sd = g_new0(struct snapshot_disk, 1);
        sd->name = g_strdup(d->target_dev);
        sd->snapshot = SNAPSHOT_LOC_NO;
        for (guint j = 0; j < op->disks->len; j++)
            if (op->disks->pdata[j] == d)
                sd->snapshot = SNAPSHOT_LOC_INTERNAL;
        g_ptr_array_add(def->disks, sd);
    }
    domain_def_free(def->dom);
    def->dom = domain_def_copy(dom->def);
    op->name = g_strdup(def->name);
}

static const char *
snapshot_parent(gconstpointer def)
{
    return ((const struct snapshot_def *)def)->parent;
}

void
core_snapshot_create(struct domain *dom, const char *xml, unsigned flags,
                     core_snapshot_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (flags & CORE_SNAPSHOT_CREATE_REDEFINE) {
        /* metadata only: what a client kept of a snapshot (virsh snapshot-create --redefine) */
        g_autoptr(snapshot_def) def = snapshot_def_parse(xml, SNAPSHOT_DEF_PARSE_REDEFINE, &error);
        if (def && !def->name)
            err_set(&error, ORIGIN, ERR_XML_ERROR, "a redefined snapshot needs its name");
        else if (def && def->parent && !g_hash_table_contains(dom->snapshots, def->parent))
            err_set(&error, ORIGIN, ERR_NO_DOMAIN_SNAPSHOT,
                    "the parent snapshot '%s' of '%s' does not exist", def->parent, def->name);
        else if (def && def->parent &&
                 moment_would_cycle(dom->snapshots, def->name, def->parent, snapshot_parent))
            err_set(&error, ORIGIN, ERR_INVALID_ARG, "parent '%s' would create cycle to '%s'",
                    def->parent, def->name);
        if (!error)
            snapshot_write_meta(dom, def, &error);
        if (error) {
            done(error, NULL, data);
            g_error_free(error);
            return;
        }
        g_autofree char *name = g_strdup(def->name);
        /* the key is the value's own name: taken before the value is handed over */
        struct snapshot_def *kept = g_steal_pointer(&def);
        g_hash_table_replace(dom->snapshots, kept->name, kept);
        if (flags & CORE_SNAPSHOT_CREATE_CURRENT) {
            g_free(dom->current_snapshot);
            dom->current_snapshot = g_strdup(name);
            snapshot_write_current(dom, NULL);
        }
        done(NULL, name, data);
        return;
    }
    struct snapshot_def *def = NULL;
    if (g_hash_table_size(dom->checkpoints) > 0)
        /* a revert or an overlay would leave the checkpoints' bitmaps wrong */
        err_set(&error, ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "cannot create snapshot while checkpoint exists: domain '%s' has %u; delete "
                "them first",
                dom->def->name, g_hash_table_size(dom->checkpoints));
    else
        def = snapshot_def_parse(xml, 0, &error);
    /* the guest's memory goes with it unless the snapshot is of the disks only */
    if (def && !(flags & CORE_SNAPSHOT_CREATE_DISK_ONLY) && def->memory != SNAPSHOT_LOC_NO &&
        !core_domain_state_writable(dom, "take a snapshot with the memory of", &error))
        g_clear_pointer(&def, snapshot_def_free);
    if (!def) {
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    struct snap_op *op = g_new0(struct snap_op, 1);
    op->dom = core_domain_ref(dom);
    op->def = def;
    op->flags = flags;
    if (snapshot_ext_wanted(def, flags))
        snapshot_job_start(dom, JOB_SNAPSHOT, &snapshot_ext_create_pipeline, op,
                           snapshot_ext_create_prepare, done, NULL, data);
    else
        snapshot_job_start(dom, JOB_SNAPSHOT, &create_pipeline, op, create_prepare, done, NULL,
                           data);
}

/* --- revert --- */

/* Whether a running domain can load DEF's state as it is: the same disks. */
static gboolean
same_disks(const struct domain_def *a, const struct domain_def *b)
{
    if (!a || !b || a->disks->len != b->disks->len)
        return FALSE;
    for (guint i = 0; i < a->disks->len; i++) {
        const struct disk_def *x = a->disks->pdata[i], *y = b->disks->pdata[i];
        if (g_strcmp0(x->target_dev, y->target_dev) || g_strcmp0(x->source, y->source) ||
            x->format != y->format)
            return FALSE;
    }
    return TRUE;
}

static void
revert_prepare(struct job *job, struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    const struct snapshot_def *def = core_snapshot_lookup(dom, op->name, error);
    if (!def)
        return;
    gboolean memory = def->state == SNAPSHOT_STATE_RUNNING || def->state == SNAPSHOT_STATE_PAUSED;
    gboolean active = state_is_active(dom->state);
    if (active && (!memory || !same_disks(def->dom, dom->def))) {
        /* the domain changed state meanwhile (revert_by_restart saw it shut off) */
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "domain '%s' started while it was being reverted to '%s'; try again",
                dom->def->name, def->name);
        return;
    }
    if (active && !dom->mon) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
        return;
    }
    op->disks = internal_disks(dom->def, error);
    op->was_running = dom->state == DOM_RUNNING;
}

static void
revert_step(struct job *job)
{
    struct snap_op *op = job->data;
    if (state_is_active(op->dom->state))
        snapshot_qjob_run(job, op->dom, "snapshot-load", qjob_args(op->name, op->disks, TRUE),
                          NULL);
    else
        img_run(job, op->disks, "-a", (const char *const *)&op->name, 1);
}

static void
revert_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, op->name);
    gboolean active = state_is_active(dom->state) && dom->mon;
    if (error) {
        /* QEMU checks the snapshot before it loads anything: the guest goes on as it was */
        if (active && op->was_running)
            qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "reverting '%s' to snapshot '%s': ", dom->def->name, op->name);
        job_set_error(job, e);
        return;
    }
    g_free(dom->current_snapshot);
    dom->current_snapshot = g_strdup(op->name);
    GError *e = NULL;
    if (!snapshot_write_current(dom, &e)) {
        log_warn("%s", e->message);
        g_error_free(e);
    }
    if (active && def) {
        gboolean run =
            (op->flags & CORE_SNAPSHOT_REVERT_RUNNING) ||
            (!(op->flags & CORE_SNAPSHOT_REVERT_PAUSED) && def->state == SNAPSHOT_STATE_RUNNING);
        if (run)
            qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        core_domain_transition(dom, run ? IN_REVERTED_RUNNING : IN_REVERTED_PAUSED, NULL);
    }
    log_info("%s: reverted to snapshot '%s'", dom->def->name, op->name);
}

static const struct job_step revert_steps[] = {{"revert", revert_step}, {NULL, NULL}};
static const struct job_pipeline revert_pipeline = {
    .steps = revert_steps, .finish = revert_finish, .abort = snap_abort, .abortable = FALSE};

struct start_revert {
    struct domain *dom;
    char *name;
    core_done_fn done;
    gpointer data;
};

static void
started_from(GError *error, gpointer data)
{
    struct start_revert *sr = data;
    if (!error) {
        g_free(sr->dom->current_snapshot);
        sr->dom->current_snapshot = g_strdup(sr->name);
        GError *e = NULL;
        if (!snapshot_write_current(sr->dom, &e)) {
            log_warn("%s", e->message);
            g_error_free(e);
        }
        log_info("%s: started from snapshot '%s'", sr->dom->def->name, sr->name);
    }
    sr->done(error, sr->data);
    core_domain_unref(sr->dom);
    g_free(sr->name);
    g_free(sr);
}

/* A shut off domain reverted to a snapshot with memory: QEMU starts from it (-loadvm), with
 * the definition the domain had then. */
static gboolean
revert_by_start(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                gpointer data)
{
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, name);
    if (!def || state_is_active(dom->state) || !snapshot_is_internal(def) ||
        (def->state != SNAPSHOT_STATE_RUNNING && def->state != SNAPSHOT_STATE_PAUSED))
        return FALSE;
    if (!def->dom) {
        GError *error = NULL;
        err_set(&error, ORIGIN, ERR_OPERATION_INVALID,
                "snapshot '%s' keeps no domain definition to start from", name);
        done(error, data);
        g_error_free(error);
        return TRUE;
    }
    gboolean run = (flags & CORE_SNAPSHOT_REVERT_RUNNING) ||
                   (!(flags & CORE_SNAPSHOT_REVERT_PAUSED) && def->state == SNAPSHOT_STATE_RUNNING);
    struct start_revert *sr = g_new0(struct start_revert, 1);
    sr->dom = core_domain_ref(dom);
    sr->name = g_strdup(name);
    sr->done = done;
    sr->data = data;
    lifecycle_start_snapshot(dom, domain_def_copy(def->dom), name, run, started_from, sr);
    return TRUE;
}

/* --- revert of a running domain that needs a new QEMU --- */

/* A running domain reverted to a snapshot of the shut off domain, or to one with memory whose
 * disks differ from the domain's now (an external snapshot came between): QEMU stops
 * (STOPPED from snapshot); then the images go back (qemu-img snapshot -a) and the domain
 * boots when asked, or QEMU starts from the snapshot (-loadvm) on its definition, which
 * becomes the domain's. */
struct restart {
    struct domain *dom;
    char *name;
    unsigned flags;
    core_done_fn done;
    gpointer data;
};

static void
restart_end(struct restart *rs, GError *error)
{
    snapshot_revert_over(rs->dom);
    lifecycle_done(rs->done, rs->data, error);
    core_domain_unref(rs->dom);
    g_free(rs->name);
    g_free(rs);
}

static void
restart_current(struct restart *rs)
{
    struct domain *dom = rs->dom;
    g_free(dom->current_snapshot);
    dom->current_snapshot = g_strdup(rs->name);
    GError *e = NULL;
    if (!snapshot_write_current(dom, &e)) {
        log_warn("%s", e->message);
        g_error_free(e);
    }
}

static void
restart_started(GError *error, gpointer data)
{
    struct restart *rs = data;
    struct domain *dom = rs->dom;
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, rs->name);
    if (!error && def && def->dom && dom->persistent) {
        /* the snapshot's disks are the domain's again: its definition is the domain's */
        g_autofree char *xml =
            domain_def_format(def->dom, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
        GError *e = NULL;
        struct domain_def *config = domain_def_parse(xml, 0, &e);
        if (config && core_config_save(dom->core, config, &e)) {
            domain_def_free(dom->new_def);
            dom->new_def = config;
        } else {
            domain_def_free(config);
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    if (!error) {
        restart_current(rs);
        log_info("%s: restarted from snapshot '%s'", dom->def->name, rs->name);
    }
    restart_end(rs, error);
}

static gboolean
has_memory(const struct snapshot_def *def)
{
    return def->state == SNAPSHOT_STATE_RUNNING || def->state == SNAPSHOT_STATE_PAUSED;
}

static void
restart_prepared(GError *error, gpointer data)
{
    struct restart *rs = data;
    struct domain *dom = rs->dom;
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, rs->name);
    if (error || !def) {
        restart_end(rs, error);
        return;
    }
    if (has_memory(def)) {
        gboolean run =
            (rs->flags & CORE_SNAPSHOT_REVERT_RUNNING) ||
            (!(rs->flags & CORE_SNAPSHOT_REVERT_PAUSED) && def->state == SNAPSHOT_STATE_RUNNING);
        lifecycle_start_snapshot(dom, domain_def_copy(def->dom), rs->name, run, restart_started,
                                 rs);
        return;
    }
    restart_current(rs);
    if (rs->flags & (CORE_SNAPSHOT_REVERT_RUNNING | CORE_SNAPSHOT_REVERT_PAUSED))
        core_domain_start(dom, (rs->flags & CORE_SNAPSHOT_REVERT_PAUSED) ? CORE_START_PAUSED : 0,
                          restart_started, rs);
    else
        restart_end(rs, NULL);
}

static void
restart_prepare(struct job *job, struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    const struct snapshot_def *def = core_snapshot_lookup(dom, op->name, error);
    if (!def)
        return;
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
        return;
    }
    if (has_memory(def) && !def->dom) {
        err_set(error, ORIGIN, ERR_SNAPSHOT_REVERT_RISKY,
                "snapshot '%s' lacks domain '%s' rollback info", def->name, dom->def->name);
        return;
    }
    if (!has_memory(def) && !dom->persistent &&
        !(op->flags & (CORE_SNAPSHOT_REVERT_RUNNING | CORE_SNAPSHOT_REVERT_PAUSED))) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "transient domain needs to request run or pause to revert to inactive snapshot");
        return;
    }
    /* images that cannot hold the snapshot refuse it before QEMU stops */
    GPtrArray *disks = internal_disks(has_memory(def) ? def->dom : dom->def, error);
    if (disks)
        g_ptr_array_unref(disks);
}

void
snapshot_stop_step(struct job *job)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    if (state_is_active(dom->state)) {
        dom->reverting = TRUE;
        lifecycle_kill_and_reap(dom);
        lifecycle_stopped(dom, IN_STOPPED_FROM_SNAPSHOT);
    }
    job_next(job);
}

void
snapshot_revert_over(struct domain *dom)
{
    dom->reverting = FALSE;
    if (!dom->persistent && !dom->removed && !state_is_active(dom->state))
        core_forget(dom->core, dom);
}

/* the images of a snapshot without memory go back now; -loadvm loads one with memory */
static void
restart_images(struct job *job)
{
    struct snap_op *op = job->data;
    const struct snapshot_def *def = g_hash_table_lookup(op->dom->snapshots, op->name);
    if (!def || has_memory(def)) {
        job_next(job);
        return;
    }
    /* the disks of the definition the domain has now that QEMU is gone (the live one went) */
    GError *error = NULL;
    g_clear_pointer(&op->disks, g_ptr_array_unref);
    op->disks = internal_disks(op->dom->def, &error);
    if (!op->disks)
        job_fail(job, error);
    else
        img_run(job, op->disks, "-a", (const char *const *)&op->name, 1);
}

static void
restart_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "reverting '%s' to snapshot '%s': ", op->dom->def->name, op->name);
        job_set_error(job, e);
    }
}

static const struct job_step restart_steps[] = {
    {"stop", snapshot_stop_step}, {"revert", restart_images}, {NULL, NULL}};
static const struct job_pipeline restart_pipeline = {
    .steps = restart_steps, .finish = restart_finish, .abort = snap_abort, .abortable = FALSE};

/* TRUE when DONE will hear of it: DOM runs and the snapshot needs a new QEMU. */
static gboolean
revert_by_restart(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                  gpointer data)
{
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, name);
    if (!def || !state_is_active(dom->state) || !snapshot_is_internal(def) ||
        (has_memory(def) && same_disks(def->dom, dom->def)))
        return FALSE;
    struct restart *rs = g_new0(struct restart, 1);
    rs->dom = core_domain_ref(dom);
    rs->name = g_strdup(name);
    rs->flags = flags;
    rs->done = done;
    rs->data = data;
    struct snap_op *op = g_new0(struct snap_op, 1);
    op->dom = core_domain_ref(dom);
    op->name = g_strdup(name);
    op->flags = flags;
    snapshot_job_start(dom, JOB_SNAPSHOT_REVERT, &restart_pipeline, op, restart_prepare, NULL,
                       restart_prepared, rs);
    return TRUE;
}

void
core_snapshot_revert(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                     gpointer data)
{
    if ((flags & CORE_SNAPSHOT_REVERT_RUNNING) && (flags & CORE_SNAPSHOT_REVERT_PAUSED)) {
        GError *error = NULL;
        err_set(&error, ORIGIN, ERR_INVALID_ARG,
                "flags 'running' and 'paused' are mutually exclusive");
        done(error, data);
        g_error_free(error);
        return;
    }
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, name);
    if (def && !snapshot_is_internal(def)) {
        core_snapshot_revert_external(dom, name, NULL, NULL, flags, done, data);
        return;
    }
    if (revert_by_start(dom, name, flags, done, data) ||
        revert_by_restart(dom, name, flags, done, data))
        return;
    struct snap_op *op = g_new0(struct snap_op, 1);
    op->dom = core_domain_ref(dom);
    op->name = g_strdup(name);
    op->flags = flags;
    snapshot_job_start(dom, JOB_SNAPSHOT_REVERT, &revert_pipeline, op, revert_prepare, NULL, done,
                       data);
}

/* --- delete --- */

static gint
by_time_desc(gconstpointer a, gconstpointer b)
{
    return -by_time(a, b);
}

static void
delete_prepare(struct job *job, struct snap_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct snapshot_def *def = core_snapshot_lookup(dom, op->name, error);
    if (!def)
        return;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    if (op->flags & (CORE_SNAPSHOT_DELETE_CHILDREN | CORE_SNAPSHOT_DELETE_CHILDREN_ONLY)) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, dom->snapshots);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (snapshot_descends(dom, v, def->name))
                g_ptr_array_add(all, v);
    }
    if (!(op->flags & CORE_SNAPSHOT_DELETE_CHILDREN_ONLY))
        g_ptr_array_add(all, def);
    g_ptr_array_sort(all, by_time_desc); /* children first */
    op->targets = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < all->len; i++) {
        struct snapshot_def *t = all->pdata[i];
        if (!(op->flags & CORE_SNAPSHOT_DELETE_METADATA_ONLY) && !snapshot_is_internal(t)) {
            err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                    "deletion of external children disk snapshots not supported ('%s' is "
                    "one); delete them one by one, or forget them with --metadata",
                    t->name);
            return;
        }
        g_ptr_array_add(op->targets, g_strdup(t->name));
    }
    if (state_is_active(dom->state) && !dom->mon) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
        return;
    }
    op->disks = internal_disks(dom->def, error);
}

/* One snapshot after another (TARGETS, children first) */
static void
delete_step(struct job *job)
{
    struct snap_op *op = job->data;
    if ((op->flags & CORE_SNAPSHOT_DELETE_METADATA_ONLY) || op->next >= op->targets->len) {
        job_next(job);
        return;
    }
    const char *name = op->targets->pdata[op->next++];
    if (state_is_active(op->dom->state)) {
        snapshot_qjob_run(job, op->dom, "snapshot-delete", qjob_args(name, op->disks, FALSE),
                          delete_step);
    } else {
        /* qemu-img at once for every target: one thread */
        op->next = op->targets->len;
        img_run(job, op->disks, "-d", (const char *const *)op->targets->pdata, op->targets->len);
    }
}

/* The metadata follows what was deleted: children move up to the deleted one's parent, the
 * current snapshot to the parent of a current one deleted. */
void
snapshot_forget(struct domain *dom, const char *name)
{
    struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, name);
    if (!def)
        return;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, dom->snapshots);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct snapshot_def *child = v;
        if (g_strcmp0(child->parent, name) == 0) {
            g_free(child->parent);
            child->parent = g_strdup(def->parent);
            GError *e = NULL;
            if (!snapshot_write_meta(dom, child, &e)) {
                log_warn("%s", e->message);
                g_error_free(e);
            }
        }
    }
    if (g_strcmp0(dom->current_snapshot, name) == 0) {
        g_free(dom->current_snapshot);
        dom->current_snapshot = g_strdup(def->parent);
    }
    g_autofree char *path = moment_path(dom, KIND, name);
    unlink(path);
    struct snapshot_def *parent =
        def->parent ? g_hash_table_lookup(dom->snapshots, def->parent) : NULL;
    g_hash_table_remove(dom->snapshots, name);
    /* a parent left without children: the overlays a revert put under it are its disks */
    if (parent && parent->revert_disks && parent->revert_disks->len &&
        !snapshot_has_children(dom, parent->name)) {
        g_ptr_array_unref(parent->disks);
        parent->disks = g_steal_pointer(&parent->revert_disks);
        GError *e = NULL;
        if (!snapshot_write_meta(dom, parent, &e)) {
            log_warn("%s", e->message);
            g_error_free(e);
        }
    }
}

static void
delete_finish(struct job *job, const GError *error)
{
    struct snap_op *op = job->data;
    struct domain *dom = op->dom;
    /* what QEMU or qemu-img deleted before a failure is gone: its metadata goes too */
    guint done = error ? (op->next ? op->next - 1 : 0) : op->targets->len;
    if (error && !state_is_active(dom->state))
        done = 0;
    for (guint i = 0; i < done; i++)
        snapshot_forget(dom, op->targets->pdata[i]);
    GError *e = NULL;
    if (!snapshot_write_current(dom, &e)) {
        log_warn("%s", e->message);
        g_error_free(e);
    }
    if (error) {
        GError *err = g_error_copy(error);
        g_prefix_error(&err, "deleting snapshot '%s' of '%s': ", op->name, dom->def->name);
        job_set_error(job, err);
        return;
    }
    log_info("%s: snapshot '%s' deleted%s", dom->def->name, op->name,
             op->targets->len > 1 ? " with its descendants" : "");
}

static const struct job_step delete_steps[] = {{"delete", delete_step}, {NULL, NULL}};
static const struct job_pipeline delete_pipeline = {
    .steps = delete_steps, .finish = delete_finish, .abort = snap_abort, .abortable = FALSE};

void
core_snapshot_delete(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                     gpointer data)
{
    struct snap_op *op = g_new0(struct snap_op, 1);
    op->dom = core_domain_ref(dom);
    op->name = g_strdup(name);
    op->flags = flags;
    const struct snapshot_def *def = g_hash_table_lookup(dom->snapshots, name);
    if (def && !snapshot_is_internal(def) && !(flags & CORE_SNAPSHOT_DELETE_METADATA_ONLY)) {
        snapshot_job_start(dom, JOB_SNAPSHOT_DELETE, &snapshot_ext_delete_pipeline, op,
                           snapshot_ext_delete_prepare, NULL, done, data);
        return;
    }
    snapshot_job_start(dom, JOB_SNAPSHOT_DELETE, &delete_pipeline, op, delete_prepare, NULL, done,
                       data);
}
