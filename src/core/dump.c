/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dump: virDomainCoreDump(WithFormat), libvirt's way — the guest's memory alone
 * (dump-guest-memory: ELF, kdump or a Windows dump) or QEMU's whole migration stream, written
 * to a file the daemon opens and hands to QEMU. The guest is paused meanwhile unless asked
 * live, and afterwards runs again, is reset, or (--crash) is stopped as crashed. A dump the
 * daemon did not see to its end is undone after a restart as a save's is (its file removed,
 * the guest resumed). Prefix core_domain_dump_. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/core.h"
#include "core/lifecycle.h"
#include "core/migration.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define DUMP_POLL_MS 200

/* dump-guest-memory's formats, by virDomainCoreDumpFormat */
static const char *const formats[] = {"elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp"};

struct dump_op {
    struct domain *dom;
    char *path;
    int fd;
    unsigned format;
    unsigned flags;               /* CORE_DUMP_* */
    gboolean was_running;         /* the guest ran when the dump began: it runs again after */
    struct lifecycle_pause pause; /* the dump paused it */
    gboolean complete;            /* the file holds the whole dump */
    guint poll;
};

static void
dump_op_free(gpointer data)
{
    struct dump_op *op = data;
    if (op->poll)
        g_source_remove(op->poll);
    file_close_fd(&op->fd);
    if (!op->complete && op->path)
        file_remove_large(op->path, NULL);
    core_domain_unref(op->dom);
    g_free(op->path);
    g_free(op);
}

/* --- the steps --- */

static void
dump_open(struct job *job)
{
    struct dump_op *op = job->data;
    GError *error = NULL;
    op->fd = open(op->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (op->fd < 0) {
        err_set_errno(&error, ERR_FROM_DOMAIN, errno, "cannot create the dump file '%s'", op->path);
        job_fail(job, error);
        return;
    }
    /* a daemon that dies from here on finds the file in the status, and removes it */
    g_free(op->dom->save_file);
    op->dom->save_file = g_strdup(op->path);
    if (!core_status_write(op->dom, &error))
        job_fail(job, error);
    else
        job_next(job);
}

/* unless live, one consistent moment: the guest waits */
static void
dump_pause(struct job *job)
{
    struct dump_op *op = job->data;
    if (op->flags & CORE_DUMP_LIVE) {
        job_next(job);
        return;
    }
    op->pause.input = IN_DUMP_PAUSED;
    lifecycle_pause_step(job, op->dom, &op->pause);
}

static gboolean poll_dump(gpointer data);

static void
on_query_dump(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct dump_op *op = job->data;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    const char *status = o ? qemu_json_string(o, "status") : NULL;
    if (job->finished) {
        job_unref(job);
        return;
    }
    if (!status) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU did not say how its dump goes%s%s",
                error ? ": " : "", error ? error->message : "");
        job_fail(job, e);
    } else if (g_str_equal(status, "completed")) {
        job_next(job);
    } else if (g_str_equal(status, "failed")) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "QEMU failed to dump the memory of domain '%s' to '%s'", op->dom->def->name,
                op->path);
        job_fail(job, e);
    } else {
        job_set_progress(job, (guint64)MAX(qemu_json_int_or(o, "completed", 0), 0),
                         (guint64)MAX(qemu_json_int_or(o, "total", 0), 0));
        op->poll = g_timeout_add(DUMP_POLL_MS, poll_dump, job_ref(job));
    }
    job_unref(job);
}

static gboolean
poll_dump(gpointer data)
{
    struct job *job = data;
    struct dump_op *op = job->data;
    op->poll = 0;
    if (!job->finished && op->dom->mon)
        qmp_command(op->dom->mon, "query-dump", NULL, on_query_dump, job_ref(job));
    job_unref(job);
    return G_SOURCE_REMOVE;
}

static void
on_dump_started(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    if (error)
        job_fail(job, g_error_copy(error));
    else if (!job->finished)
        poll_dump(job_ref(job));
    job_unref(job);
}

static void
on_getfd(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct dump_op *op = job->data;
    if (error) {
        job_fail(job, g_error_copy(error));
    } else if (!job->finished) {
        JsonObject *args = json_object_new();
        json_object_set_boolean_member(args, "paging", FALSE);
        json_object_set_string_member(args, "protocol", "fd:domus-dump");
        json_object_set_boolean_member(args, "detach", TRUE);
        json_object_set_string_member(args, "format", formats[op->format]);
        qmp_command(op->dom->mon, "dump-guest-memory", args, on_dump_started, job_ref(job));
    }
    job_unref(job);
}

static void
dump_write(struct job *job)
{
    struct dump_op *op = job->data;
    if (!(op->flags & CORE_DUMP_MEMORY_ONLY)) {
        /* QEMU's whole state, as a migration stream (the guest stops at its end) */
        migration_run(job, op->dom, op->fd, FALSE);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "fdname", "domus-dump");
    qmp_command_fds(op->dom->mon, "getfd", args, &op->fd, 1, on_getfd, job_ref(job));
}

static gboolean
sync_in_thread(struct job *job, gpointer data, GError **ret_error)
{
    struct dump_op *op = job->data;
    if (fdatasync(op->fd) < 0) {
        err_set_errno(ret_error, ERR_FROM_DOMAIN, errno, "cannot sync the dump file '%s'",
                      op->path);
        return FALSE;
    }
    if (op->flags & CORE_DUMP_BYPASS_CACHE)
        posix_fadvise(op->fd, 0, 0, POSIX_FADV_DONTNEED);
    op->complete = TRUE;
    return TRUE;
}

static void
dump_sync(struct job *job)
{
    job_step_in_thread(job, sync_in_thread, NULL, NULL);
}

/* After it: stopped as crashed, or reset, and running again if it ran before. */
static void
dump_finish(struct job *job, const GError *error)
{
    struct dump_op *op = job->data;
    struct domain *dom = op->dom;
    g_clear_pointer(&dom->save_file, g_free);
    if (error) {
        GError *err = g_error_copy(error);
        g_prefix_error(&err, "dumping '%s': ", dom->def->name);
        log_warn("%s", err->message);
        job_set_error(job, err);
    } else {
        log_info("%s: dumped to '%s'%s", dom->def->name, op->path,
                 op->flags & CORE_DUMP_MEMORY_ONLY ? " (its memory)" : "");
        /* libvirt's for a dump through QEMU's migration stream, not a memory-only one */
        if (!(op->flags & CORE_DUMP_MEMORY_ONLY))
            core_domain_emit_job_completed(dom, FALSE, NULL);
    }
    if (!state_is_active(dom->state) || !dom->mon || lifecycle_process_gone(dom))
        return;
    if (!error && (op->flags & CORE_DUMP_CRASH)) {
        lifecycle_kill_and_reap(dom);
        lifecycle_stopped(dom, IN_STOPPED_CRASHED);
        return;
    }
    if (!error && (op->flags & CORE_DUMP_RESET))
        qmp_command(dom->mon, "system_reset", NULL, NULL, NULL);
    /* a migration stops the guest at its end, paused or not by us */
    if (op->was_running) {
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        if (op->pause.paused && dom->state == DOM_PAUSED)
            core_domain_transition(dom, IN_DUMP_RESUMED, NULL);
    }
}

/* domjobabort, destroy or QEMU's exit */
static void
dump_abort(struct job *job)
{
    struct dump_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (dom->destroying || lifecycle_process_gone(dom)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                dom->destroying ? "the dump was cut short by destroy" : "QEMU exited during dump");
        job_fail(job, error);
        return;
    }
    const char *phase = job_phase(job);
    if (g_str_equal(phase, "write") && !(op->flags & CORE_DUMP_MEMORY_ONLY)) {
        if (!migration_cancel(dom))
            job_fail(job, job_aborted_error(job, ERR_FROM_DOMAIN));
    } else if (g_str_equal(phase, "pause")) {
        op->pause.abort_asked = TRUE;
    } else if (g_str_equal(phase, "open") || g_str_equal(phase, "check")) {
        job_fail(job, job_aborted_error(job, ERR_FROM_DOMAIN));
    }
    /* QEMU cannot stop a memory dump it writes; sync: the file is complete already */
}

static gboolean
check_request(const char *path, unsigned format, unsigned flags, GError **error)
{
    if (!g_path_is_absolute(path)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "dump file '%s' is not an absolute path; give the full path", path);
        return FALSE;
    }
    if ((flags & CORE_DUMP_CRASH) && (flags & CORE_DUMP_RESET)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "--crash and --reset are mutually exclusive: a crashed domain is stopped");
        return FALSE;
    }
    if (format >= G_N_ELEMENTS(formats)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "unknown dump format %u: use 0 (elf), 1 (kdump-zlib), 2 (kdump-lzo), "
                "3 (kdump-snappy) or 4 (win-dmp)",
                format);
        return FALSE;
    }
    if (format && !(flags & CORE_DUMP_MEMORY_ONLY)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "dump format '%s' is for memory-only dumps; add --memory-only", formats[format]);
        return FALSE;
    }
    return TRUE;
}

struct dump_request {
    struct dump_op *op;
    core_done_fn done;
    gpointer data;
};

/* query-dump-guest-memory-capability: the format this QEMU can write */
static void
on_formats(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct dump_op *op = job->data;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    JsonArray *list = o ? qemu_json_array(o, "formats") : NULL;
    gboolean found = FALSE;
    for (guint i = 0; list && i < json_array_get_length(list); i++)
        found = found || g_strcmp0(qemu_json_node_string(json_array_get_element(list, i)),
                                   formats[op->format]) == 0;
    if (!job->finished && !found) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                "QEMU of domain '%s' cannot write dump format '%s'", op->dom->def->name,
                formats[op->format]);
        job_fail(job, e);
    } else if (!job->finished) {
        job_next(job);
    }
    job_unref(job);
}

static void
dump_check_format(struct job *job)
{
    struct dump_op *op = job->data;
    if (!(op->flags & CORE_DUMP_MEMORY_ONLY)) {
        job_next(job);
        return;
    }
    qmp_command(op->dom->mon, "query-dump-guest-memory-capability", NULL, on_formats, job_ref(job));
}

static const struct job_step dump_steps[] = {
    {"check", dump_check_format}, {"open", dump_open}, {"pause", dump_pause},
    {"write", dump_write},        {"sync", dump_sync}, {NULL, NULL},
};

static const struct job_pipeline dump_pipeline = {
    .steps = dump_steps,
    .finish = dump_finish,
    .abort = dump_abort,
    .abortable = TRUE,
};

static void
dump_begin(struct job *job, GError *error, gpointer data)
{
    struct dump_request *req = data;
    struct dump_op *op = req->op;
    GError *err = NULL;
    if (!job) {
        lifecycle_done(req->done, req->data, error);
        dump_op_free(op);
    } else if (!core_domain_require_running(op->dom, &err)) {
        job_cancel(job, err, req->done, req->data);
        dump_op_free(op);
    } else {
        op->was_running = op->dom->state == DOM_RUNNING;
        log_info("%s: dumping %sto '%s'", op->dom->def->name,
                 op->flags & CORE_DUMP_MEMORY_ONLY ? "its memory " : "", op->path);
        job_run(job, op, dump_op_free, req->done, req->data);
    }
    g_free(req);
}

void
core_domain_dump(struct domain *dom, const char *path, unsigned format, unsigned flags,
                 core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (!check_request(path, format, flags, &error) || !core_domain_require_running(dom, &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    struct dump_op *op = g_new0(struct dump_op, 1);
    op->dom = core_domain_ref(dom);
    op->path = g_strdup(path);
    op->fd = -1;
    op->format = format;
    op->flags = flags;
    struct dump_request *req = g_new0(struct dump_request, 1);
    req->op = op;
    req->done = done;
    req->data = data;
    job_acquire(&dom->jobs, JOB_DUMP, &dump_pipeline, dom->core->job_wait_ms, dump_begin, req);
}
