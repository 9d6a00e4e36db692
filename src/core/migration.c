/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migration: QEMU's migration stream, as one step of a job; prefix migration_. Through a
 * descriptor (save, restore) or to and from another host (a tcp: URI). The descriptor goes to QEMU
 * with getfd over SCM_RIGHTS, so QEMU never needs the path nor write access to its directory. The
 * end comes from QEMU's MIGRATION events (turned on first) or, should one be missed, from the
 * query-migrate that also keeps the progress. The descriptor QEMU got shares its file offset with
 * the daemon's: an incoming stream's progress is where QEMU has read to. */
#include "core/migration.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/migrate.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

#define POLL_MS 100
#define FDNAME "domus-migration"

struct migration {
    struct job *job;    /* a reference */
    struct domain *dom; /* a reference */
    gboolean incoming;
    int fd;          /* the caller's; open while the job lives; -1: a URI */
    int progress_fd; /* incoming: the file whose offset is the progress (FD, or the image a
                      * decompressor reads) */
    migration_started_fn started;
    gpointer started_data;
    gboolean *postcopy; /* set once QEMU switched to post-copy, which ends the step; NULL:
                         * post-copy is not expected */
    off_t start_off;    /* incoming: where the stream starts in FD */
    off_t end_off;      /* ... and ends (the file's size) */
    gboolean ended;     /* the step was ended or the job let it go */
    guint poll;         /* query-migrate timer */
    gboolean polling;
    int refs;
};

static struct migration *
migration_ref(struct migration *m)
{
    m->refs++;
    return m;
}

static void
migration_unref(struct migration *m)
{
    if (--m->refs > 0)
        return;
    job_unref(m->job);
    core_domain_unref(m->dom);
    g_free(m);
}

static void
stop_following(struct migration *m)
{
    if (m->poll)
        g_source_remove(m->poll);
    m->poll = 0;
    if (m->dom->migration == m) {
        m->dom->migration = NULL;
        migration_unref(m);
    }
}

/* Ends the job's step: ERROR (consumed) NULL for success. */
static void
end(struct migration *m, GError *error)
{
    if (m->ended) {
        if (error)
            g_error_free(error);
        return;
    }
    m->ended = TRUE;
    migration_ref(m);
    stop_following(m);
    if (error)
        job_fail(m->job, error);
    else
        job_next(m->job);
    migration_unref(m);
}

static void
fail(struct migration *m, int code, const char *fmt, const char *detail)
{
    GError *error = NULL;
    err_set(&error, ERR_FROM_QEMU, code, fmt, job_type_to_string(m->job->type), detail);
    end(m, error);
}

static guint64
count(JsonObject *o, const char *name)
{
    gint64 v = o ? qemu_json_int_or(o, name, 0) : 0;
    return v > 0 ? (guint64)v : 0;
}

/* query-migrate's figures of an outgoing migration (QEMU's "ram" section and the totals) */
static void
record_stats(struct migration *m, JsonObject *o, JsonObject *ram)
{
    struct job_migration st = {0};
    /* what the disks' copy counted stays */
    st.disk_total = m->job->migration.disk_total;
    st.disk_processed = m->job->migration.disk_processed;
    st.disk_remaining = m->job->migration.disk_remaining;
    st.mem_total = count(ram, "total");
    st.mem_processed = count(ram, "transferred");
    st.mem_remaining = count(ram, "remaining");
    /* QEMU's mbps is megabits per second */
    st.mem_bps = (guint64)(qemu_json_number(ram, "mbps", 0) * 1000000 / 8);
    st.dirty_rate = count(ram, "dirty-pages-rate");
    st.iteration = count(ram, "dirty-sync-count");
    st.constant_pages = count(ram, "duplicate");
    st.normal_pages = count(ram, "normal");
    st.normal_bytes = count(ram, "normal-bytes");
    st.page_size = count(ram, "page-size");
    st.setup_ms = count(o, "setup-time");
    st.expected_downtime_ms = count(o, "expected-downtime");
    st.throttle_percent = count(o, "cpu-throttle-percentage");
    const char *status = qemu_json_string(o, "status");
    if (status && g_str_equal(status, "completed") && json_object_has_member(o, "downtime")) {
        st.downtime_known = TRUE;
        st.downtime_ms = count(o, "downtime");
    }
    job_set_migration(m->job, &st);
}

static void
progress_incoming(struct migration *m)
{
    off_t pos = lseek(m->progress_fd, 0, SEEK_CUR);
    if (pos >= m->start_off && m->end_off > m->start_off)
        job_set_progress(m->job, MIN(pos, m->end_off) - m->start_off, m->end_off - m->start_off);
}

static void query(struct migration *m);

/* What a status (of an event, or of query-migrate with its error-desc: QUERIED) means. */
static void
on_status(struct migration *m, const char *status, const char *error_desc, gboolean queried)
{
    if (!status || m->ended)
        return;
    if (g_str_equal(status, "postcopy-active") && m->postcopy) {
        /* the guest runs at the destination now; the rest of its memory follows
         * (migration_wait) */
        *m->postcopy = TRUE;
        end(m, NULL);
        return;
    }
    if (g_str_equal(status, "completed")) {
        if (!m->incoming && !queried) {
            /* the final figures (domjobinfo --completed) come with query-migrate */
            query(m);
            return;
        }
        if (m->incoming)
            progress_incoming(m);
        end(m, NULL);
    } else if (g_str_equal(status, "failed")) {
        fail(m, ERR_OPERATION_FAILED, "%s failed: QEMU's migration stream failed: %s",
             error_desc ? error_desc : "no reason given");
    } else if (g_str_equal(status, "cancelled")) {
        fail(m, ERR_OPERATION_ABORTED, "operation aborted: job '%s' was cancelled%s", "");
    }
}

static void
on_query(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct migration *m = data;
    m->polling = FALSE;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    if (o && !m->ended) {
        JsonObject *ram = qemu_json_object(o, "ram");
        if (m->incoming) {
            if (m->progress_fd >= 0)
                progress_incoming(m);
        } else if (ram) {
            gint64 total = qemu_json_int_or(ram, "total", 0);
            gint64 remaining = qemu_json_int_or(ram, "remaining", 0);
            if (total > 0)
                job_set_progress(m->job, total - MIN(remaining, total), total);
            record_stats(m, o, ram);
        }
        on_status(m, qemu_json_string(o, "status"), qemu_json_string(o, "error-desc"), TRUE);
    }
    migration_unref(m);
}

static void
query(struct migration *m)
{
    if (m->polling || m->ended || !m->dom->mon)
        return;
    m->polling = TRUE;
    qmp_command(m->dom->mon, "query-migrate", NULL, on_query, migration_ref(m));
}

static gboolean
on_poll(gpointer data)
{
    query(data);
    return G_SOURCE_CONTINUE;
}

/* The reply to one of the commands that set the migration up. */
static void
on_setup(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct migration *m = data;
    if (error)
        fail(m, ERR_OPERATION_FAILED, "%s failed: QEMU refused the migration: %s", error->message);
    migration_unref(m);
}

static void
on_started(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct migration *m = data;
    migration_started_fn started = m->started;
    m->started = NULL;
    if (started && !m->ended)
        started(error, m->started_data);
    if (error) {
        fail(m, ERR_OPERATION_FAILED, "%s failed: QEMU refused the migration: %s", error->message);
    } else if (!m->ended && !m->poll) {
        m->poll = g_timeout_add(POLL_MS, on_poll, m);
        query(m);
    }
    migration_unref(m);
}

static void
run(struct job *job, struct domain *dom, int fd, int progress_fd, const char *uri,
    gboolean incoming, const struct migration_setup *setup)
{
    struct migration *m = g_new0(struct migration, 1);
    m->refs = 1; /* dom->migration's */
    m->job = job_ref(job);
    m->dom = core_domain_ref(dom);
    m->incoming = incoming;
    m->fd = fd;
    m->progress_fd = progress_fd;
    if (setup) {
        m->started = setup->started;
        m->started_data = setup->started_data;
        m->postcopy = setup->postcopy;
    }
    if (incoming && progress_fd >= 0) {
        /* the offset is shared with a decompressor already reading the image: it must not
         * move, not even for an instant (the file's size comes from fstat) */
        struct stat st;
        m->start_off = lseek(progress_fd, 0, SEEK_CUR);
        m->end_off = fstat(progress_fd, &st) == 0 ? st.st_size : m->start_off;
    }
    migration_detach(dom);
    dom->migration = m;

    /* every capability a migration may use is set, on or off: QEMU keeps them from one
     * migration to the next (a guest that arrived with multifd would leave with it) */
    static const char *const managed[] = {"events",        "xbzrle",        "compress",
                                          "multifd",       "auto-converge", "postcopy-ram",
                                          "zero-copy-send"};
    JsonArray *caps = json_array_new();
    for (gsize i = 0; i < G_N_ELEMENTS(managed); i++) {
        gboolean on = i == 0;
        for (guint j = 0; setup && setup->capabilities && setup->capabilities[j]; j++)
            on = on || g_str_equal(setup->capabilities[j], managed[i]);
        JsonObject *cap = json_object_new();
        json_object_set_string_member(cap, "capability", managed[i]);
        json_object_set_boolean_member(cap, "state", on);
        json_array_add_object_element(caps, cap);
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "capabilities", caps);
    qmp_command(dom->mon, "migrate-set-capabilities", args, on_setup, migration_ref(m));
    if (setup && setup->tls_id && incoming)
        qmp_command(dom->mon, "object-add", migrate_tls_object(dom->core, setup->tls_id, TRUE),
                    on_setup, migration_ref(m));
    if (setup && setup->parameters) {
        qmp_command(dom->mon, "migrate-set-parameters", json_object_ref(setup->parameters),
                    on_setup, migration_ref(m));
    } else if (!incoming) {
        /* a save is bounded by the disk, not by QEMU's default of 128 MiB/s; an image is
         * written in clear, whatever TLS an earlier migration had */
        args = json_object_new();
        json_object_set_int_member(args, "max-bandwidth", G_MAXINT64);
        json_object_set_string_member(args, "tls-creds", "");
        qmp_command(dom->mon, "migrate-set-parameters", args, on_setup, migration_ref(m));
    }
    args = json_object_new();
    if (fd >= 0) {
        json_object_set_string_member(args, "fdname", FDNAME);
        qmp_command_fds(dom->mon, "getfd", args, &fd, 1, on_setup, migration_ref(m));
        args = json_object_new();
        json_object_set_string_member(args, "uri", "fd:" FDNAME);
    } else {
        json_object_set_string_member(args, "uri", uri);
    }
    qmp_command(dom->mon, incoming ? "migrate-incoming" : "migrate", args, on_started,
                migration_ref(m));
}

void
migration_run(struct job *job, struct domain *dom, int fd, gboolean incoming)
{
    run(job, dom, fd, fd, NULL, incoming, NULL);
}

void
migration_run_filtered(struct job *job, struct domain *dom, int fd, int image_fd)
{
    run(job, dom, fd, image_fd, NULL, TRUE, NULL);
}

void
migration_run_uri(struct job *job, struct domain *dom, const char *uri, gboolean incoming,
                  const struct migration_setup *setup)
{
    run(job, dom, -1, -1, uri, incoming, setup);
}

void
migration_run_fd(struct job *job, struct domain *dom, int fd, gboolean incoming,
                 const struct migration_setup *setup)
{
    run(job, dom, fd, fd, NULL, incoming, setup);
}

void
migration_wait(struct job *job, struct domain *dom, gboolean incoming)
{
    struct migration *m = g_new0(struct migration, 1);
    m->refs = 1; /* dom->migration's */
    m->job = job_ref(job);
    m->dom = core_domain_ref(dom);
    m->incoming = incoming;
    m->fd = -1;
    m->progress_fd = -1;
    migration_detach(dom);
    dom->migration = m;
    m->poll = g_timeout_add(POLL_MS, on_poll, m);
    query(m);
}

gboolean
migration_cancel(struct domain *dom)
{
    struct migration *m = dom->migration;
    if (!m || m->ended || m->incoming || !dom->mon)
        return FALSE;
    log_info("%s: cancelling QEMU's migration", dom->def->name);
    qmp_command(dom->mon, "migrate_cancel", NULL, NULL, NULL);
    return TRUE;
}

void
migration_detach(struct domain *dom)
{
    struct migration *m = dom->migration;
    if (!m)
        return;
    m->ended = TRUE;
    stop_following(m);
}

void
migration_event(struct domain *dom, JsonObject *data)
{
    struct migration *m = dom->migration;
    if (!m) {
        if (dom->postcopy_in)
            core_migrate_postcopy_in(dom, qemu_json_string(data, "status"));
        return;
    }
    const char *status = qemu_json_string(data, "status");
    if (status && g_str_equal(status, "failed")) {
        /* the event carries no reason: query-migrate has it */
        query(m);
        return;
    }
    on_status(m, status, NULL, FALSE);
}
