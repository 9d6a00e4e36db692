/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate_mirror: one blockdev-mirror job per copied disk ("domus-mirror-TARGET"), its target
 * an NBD client node ("domus-nbd-TARGET") on the destination's export. QEMU's jobs are
 * followed with query-block-jobs (their figures and whether they are ready) rather than
 * events, as migration.c follows QEMU's migration: a missed event cannot stall a step. Ending
 * a ready mirror with block-job-cancel leaves the target a point-in-time copy without
 * switching the guest to it, which is what a migration wants once the guest is stopped. */
#include "core/migrate_mirror.h"

#include "conf/migration_cookie.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

#define POLL_MS 200
#define TEARDOWN_POLLS 150 /* 30 s for cancelled jobs to go */

struct mirror_set {
    struct domain *dom; /* a reference */
    GPtrArray *targets; /* char * */
    char *host;
    guint port;
    char *tls_id;       /* --tls: the credentials object the NBD connections use; NULL: none */
    char *tls_hostname; /* ... and the name the server's certificate has (NULL: HOST) */
    gboolean shallow;
    guint64 speed;
    struct job *job; /* the step in progress (a reference), or NULL */
    guint timer;
    gboolean polling;
    guint outstanding; /* commands of the step not answered yet */
    gboolean failed;
    gboolean completing; /* the jobs were asked to end: the step waits for them to go */
    gboolean started;    /* blockdev-add was sent: teardown deletes the nodes */
    guint polls_left;
    int refs;
};

static struct mirror_set *
ms_ref(struct mirror_set *ms)
{
    ms->refs++;
    return ms;
}

static void
ms_unref(struct mirror_set *ms)
{
    if (--ms->refs > 0)
        return;
    if (ms->job)
        job_unref(ms->job);
    core_domain_unref(ms->dom);
    g_ptr_array_unref(ms->targets);
    g_free(ms->tls_id);
    g_free(ms->tls_hostname);
    g_free(ms->host);
    g_free(ms);
}

struct mirror_set *
mirror_set_new(struct domain *dom, const GPtrArray *targets, const char *host, guint port,
               const char *tls_id, const char *tls_hostname, gboolean shallow, guint64 speed)
{
    struct mirror_set *ms = g_new0(struct mirror_set, 1);
    ms->refs = 1;
    ms->dom = core_domain_ref(dom);
    ms->targets = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < targets->len; i++)
        g_ptr_array_add(ms->targets, g_strdup(targets->pdata[i]));
    ms->host = g_strdup(host);
    ms->port = port;
    ms->tls_id = g_strdup(tls_id);
    ms->tls_hostname = g_strdup(tls_hostname);
    ms->shallow = shallow;
    ms->speed = speed;
    return ms;
}

static gboolean on_timer(gpointer data);

/* The timer holds a reference: a teardown outlives the migration that started it. */
static void
start_timer(struct mirror_set *ms)
{
    if (!ms->timer)
        ms->timer = g_timeout_add_full(G_PRIORITY_DEFAULT, POLL_MS, on_timer, ms_ref(ms),
                                       (GDestroyNotify)ms_unref);
}

static void
stop_timer(struct mirror_set *ms)
{
    guint id = ms->timer;
    ms->timer = 0;
    if (id)
        g_source_remove(id);
}

void
mirror_set_free(struct mirror_set *ms)
{
    if (!ms)
        return;
    /* a teardown under way goes on by itself */
    if (!ms->completing || ms->job)
        stop_timer(ms);
    ms_unref(ms);
}

static char *
job_id(const char *target)
{
    return g_strdup_printf("domus-mirror-%s", target);
}

static char *
node_name(const char *target)
{
    return g_strdup_printf("domus-nbd-%s", target);
}

/* Ends the step in progress: ERROR (consumed) NULL for success. */
static void
step_end(struct mirror_set *ms, GError *error)
{
    stop_timer(ms);
    struct job *job = g_steal_pointer(&ms->job);
    if (!job) {
        if (error)
            g_error_free(error);
        return;
    }
    if (error)
        job_fail(job, error);
    else
        job_next(job);
    job_unref(job);
}

/* query-block-jobs' entry of TARGET's mirror, or NULL */
static JsonObject *
find_job(JsonArray *jobs, const char *target)
{
    g_autofree char *id = job_id(target);
    return qemu_json_find_object(jobs, "device", id);
}

static void
delete_nodes(struct mirror_set *ms)
{
    for (guint i = 0; ms->started && ms->dom->mon && i < ms->targets->len; i++) {
        JsonObject *args = json_object_new();
        g_autofree char *node = node_name(ms->targets->pdata[i]);
        json_object_set_string_member(args, "node-name", node);
        qmp_command(ms->dom->mon, "blockdev-del", args, NULL, NULL);
    }
    ms->started = FALSE;
}

static void poll_jobs(struct mirror_set *ms);

static void
on_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct mirror_set *ms = data;
    ms->polling = FALSE;
    JsonArray *jobs = error ? NULL : qemu_json_node_array(result);
    if (!ms->job && !ms->completing) {
        ms_unref(ms);
        return;
    }
    if (error) {
        step_end(ms, g_error_copy(error));
        ms_unref(ms);
        return;
    }
    guint64 total = 0, done = 0;
    guint ready = 0, present = 0;
    const char *stopped = NULL;
    for (guint i = 0; i < ms->targets->len; i++) {
        JsonObject *o = find_job(jobs, ms->targets->pdata[i]);
        if (!o) {
            if (!stopped)
                stopped = ms->targets->pdata[i];
            continue;
        }
        present++;
        total += (guint64)MAX(qemu_json_int_or(o, "len", 0), 0);
        done += (guint64)MAX(qemu_json_int_or(o, "offset", 0), 0);
        if (qemu_json_bool(o, "ready", FALSE))
            ready++;
    }
    if (ms->completing) {
        /* waiting for the ended jobs to go, for POLLS_LEFT polls at most */
        gboolean gone = present == 0;
        if (gone || --ms->polls_left == 0) {
            ms->completing = FALSE;
            stop_timer(ms);
            delete_nodes(ms);
            GError *e = NULL;
            if (!gone)
                err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "%s",
                        "the copies of the disks did not end");
            step_end(ms, e);
        }
        ms_unref(ms);
        return;
    }
    if (ms->job) {
        struct job_migration st = ms->job->migration;
        st.disk_total = total;
        st.disk_processed = done;
        st.disk_remaining = total - MIN(done, total);
        job_set_migration(ms->job, &st);
        if (total)
            job_set_progress(ms->job, done, total);
    }
    if (stopped) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "the copy of disk '%s' to the destination stopped", stopped);
        step_end(ms, e);
    } else if (ready == ms->targets->len && ms->outstanding == 0) {
        log_info("%s: %u disk copie%s in step with the source", ms->dom->def->name, ready,
                 ready == 1 ? "" : "s");
        step_end(ms, NULL);
    }
    ms_unref(ms);
}

static void
poll_jobs(struct mirror_set *ms)
{
    if (ms->polling || !ms->dom->mon)
        return;
    ms->polling = TRUE;
    qmp_command(ms->dom->mon, "query-block-jobs", NULL, on_jobs, ms_ref(ms));
}

static gboolean
on_timer(gpointer data)
{
    poll_jobs(data);
    return G_SOURCE_CONTINUE;
}

static void
on_command(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct mirror_set *ms = data;
    ms->outstanding--;
    if (error && ms->job && !ms->failed) {
        ms->failed = TRUE;
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot copy the disks to the destination: %s", error->message);
        step_end(ms, e);
    }
    ms_unref(ms);
}

void
mirror_set_start(struct mirror_set *ms, struct job *job)
{
    struct domain *dom = ms->dom;
    ms->job = job_ref(job);
    g_autofree char *port = g_strdup_printf("%u", ms->port);
    for (guint i = 0; i < ms->targets->len; i++) {
        const char *t = ms->targets->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, t);
        if (!d || !d->source) {
            GError *e = NULL;
            err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "the destination expects disk '%s', which '%s' does not have", t,
                    dom->def->name);
            step_end(ms, e);
            return;
        }
        g_autofree char *node = node_name(t);
        g_autofree char *name = migration_cookie_export_name(t);
        JsonObject *server = json_object_new();
        json_object_set_string_member(server, "type", "inet");
        json_object_set_string_member(server, "host", ms->host);
        json_object_set_string_member(server, "port", port);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "driver", "nbd");
        json_object_set_string_member(args, "node-name", node);
        json_object_set_object_member(args, "server", server);
        json_object_set_string_member(args, "export", name);
        if (ms->tls_id) {
            json_object_set_string_member(args, "tls-creds", ms->tls_id);
            json_object_set_string_member(args, "tls-hostname",
                                          ms->tls_hostname ? ms->tls_hostname : ms->host);
        }
        ms->outstanding++;
        ms->started = TRUE;
        qmp_command(dom->mon, "blockdev-add", args, on_command, ms_ref(ms));

        g_autofree char *id = job_id(t);
        g_autofree char *top = qemu_device_node_format(d->source_index);
        args = json_object_new();
        json_object_set_string_member(args, "job-id", id);
        json_object_set_string_member(args, "device", top);
        json_object_set_string_member(args, "target", node);
        json_object_set_string_member(args, "sync", ms->shallow ? "top" : "full");
        if (ms->speed)
            json_object_set_int_member(args, "speed", (gint64)MIN(ms->speed, (guint64)G_MAXINT64));
        ms->outstanding++;
        qmp_command(dom->mon, "blockdev-mirror", args, on_command, ms_ref(ms));
    }
    log_info("%s: copying %u disk%s to %s:%u", dom->def->name, ms->targets->len,
             ms->targets->len == 1 ? "" : "s", ms->host, ms->port);
    start_timer(ms);
}

/* Ends each job (FORCE: where it is; else, a ready mirror, as a point-in-time copy), then
 * waits for them to go. */
static void
cancel_all(struct mirror_set *ms, gboolean force)
{
    for (guint i = 0; ms->dom->mon && i < ms->targets->len; i++) {
        g_autofree char *id = job_id(ms->targets->pdata[i]);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "device", id);
        if (force)
            json_object_set_boolean_member(args, "force", TRUE);
        qmp_command(ms->dom->mon, "block-job-cancel", args, NULL, NULL);
    }
    ms->completing = TRUE;
    ms->polls_left = TEARDOWN_POLLS;
    start_timer(ms);
}

void
mirror_set_complete(struct mirror_set *ms, struct job *job)
{
    ms->job = job_ref(job);
    cancel_all(ms, FALSE);
}

void
mirror_set_abandon(struct mirror_set *ms)
{
    if (!ms->started || !ms->dom->mon) {
        mirror_set_free(ms);
        return;
    }
    if (ms->job) {
        job_unref(ms->job);
        ms->job = NULL;
    }
    /* the timer's reference carries the teardown; the caller's goes */
    cancel_all(ms, TRUE);
    mirror_set_free(ms);
}
