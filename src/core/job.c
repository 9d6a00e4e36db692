/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* job: owners, waiting, the step pipeline. Steps may finish inside their own run (a
 * synchronous step) or later; the pipeline loops instead of recursing, so a long run of
 * synchronous steps does not grow the stack. */
#include "core/job.h"

#include <gio/gio.h>

#include <signal.h>
#include <string.h>

#include "util/err.h"
#include "util/log.h"

static const char *const type_names[] = {"none",
                                         "start",
                                         "shutdown",
                                         "destroy",
                                         "suspend",
                                         "resume",
                                         "reset",
                                         "reboot",
                                         "wipe",
                                         "modify",
                                         "save",
                                         "restore",
                                         "snapshot",
                                         "snapshot-revert",
                                         "snapshot-delete",
                                         "migration-out",
                                         "migration-in",
                                         "dump",
                                         "checkpoint",
                                         "checkpoint-delete",
                                         "backup"};
G_STATIC_ASSERT(G_N_ELEMENTS(type_names) == JOB_TYPE_LAST);

struct job_waiter {
    struct job_owner *owner;
    enum job_type type;
    const struct job_pipeline *pipeline;
    job_begin_fn begin;
    gpointer data;
    guint timer;
    gint64 since; /* monotonic */
    guint wait_ms;
};

const char *
job_type_to_string(enum job_type type)
{
    return type < JOB_TYPE_LAST ? type_names[type] : "unknown";
}

int
job_type_from_string(const char *text)
{
    for (int i = 0; i < JOB_TYPE_LAST; i++)
        if (g_str_equal(text, type_names[i]))
            return i;
    return -1;
}

GError *
job_aborted_error(const struct job *job, int origin)
{
    GError *error = NULL;
    err_set(&error, origin, ERR_OPERATION_ABORTED,
            "operation aborted: job '%s' was canceled by client", job_type_to_string(job->type));
    return error;
}

void
job_owner_init(struct job_owner *owner, const char *kind, const char *name)
{
    owner->kind = kind;
    owner->name = g_strdup(name);
    owner->current = NULL;
    owner->aside = NULL;
    g_queue_init(&owner->waiters);
}

void
job_owner_rename(struct job_owner *owner, const char *name)
{
    g_free(owner->name);
    owner->name = g_strdup(name);
}

static void
waiter_fail(struct job_waiter *w, GError *error)
{
    if (w->timer)
        g_source_remove(w->timer);
    w->begin(NULL, error, w->data);
    g_error_free(error);
    g_free(w);
}

void
job_owner_clear(struct job_owner *owner)
{
    for (struct job_waiter *w; (w = g_queue_pop_head(&owner->waiters));) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_ABORTED, "%s '%s' went away", owner->kind,
                owner->name);
        waiter_fail(w, error);
    }
    g_clear_pointer(&owner->name, g_free);
}

static struct job *
job_new(struct job_owner *owner, enum job_type type, const struct job_pipeline *pipeline)
{
    struct job *job = g_new0(struct job, 1);
    job->owner = owner;
    job->type = type;
    job->pipeline = pipeline;
    job->started = g_get_real_time();
    job->started_mono = g_get_monotonic_time();
    job->refs = 1;
    owner->current = job;
    return job;
}

/* Whether a job of TYPE must wait for OWNER. */
static gboolean
owner_busy(const struct job_owner *owner, enum job_type type)
{
    return owner->current || (owner->aside && !(owner->aside->lets & JOB_LETS(type)));
}

struct job *
job_of(const struct job_owner *owner)
{
    return owner->aside ? owner->aside : owner->current;
}

static void
busy_error(struct job_owner *owner, int code, guint waited_ms, GError **error)
{
    struct job *cur = owner->current ? owner->current : owner->aside;
    gint64 age = cur ? (g_get_monotonic_time() - cur->started_mono) / 1000 : 0;
    g_autofree char *phase =
        cur && job_phase(cur) ? g_strdup_printf(" (%s)", job_phase(cur)) : g_strdup("");
    g_autofree char *waited =
        waited_ms ? g_strdup_printf(" after waiting %u ms", waited_ms) : g_strdup("");
    err_set(error, ERR_FROM_DOMAIN, code,
            "%s '%s' is busy with job '%s'%s for %" G_GINT64_FORMAT
            " ms%s; try again when it is done%s",
            owner->kind, owner->name, cur ? job_type_to_string(cur->type) : "none", phase, age,
            waited, cur && cur->pipeline && cur->pipeline->abortable ? " or abort it" : "");
}

static void wake(struct job_owner *owner);
static void fill_info(const struct job *job, struct job_info *ret);

static gboolean
on_wait_timeout(gpointer data)
{
    struct job_waiter *w = data;
    struct job_owner *owner = w->owner;
    w->timer = 0;
    g_queue_remove(&owner->waiters, w);
    GError *error = NULL;
    busy_error(owner, ERR_OPERATION_TIMEOUT, w->wait_ms, &error);
    waiter_fail(w, error);
    /* one that waited behind it may go now */
    wake(owner);
    return G_SOURCE_REMOVE;
}

void
job_acquire(struct job_owner *owner, enum job_type type, const struct job_pipeline *pipeline,
            guint wait_ms, job_begin_fn begin, gpointer data)
{
    /* a waiter still queued is one the job aside keeps out: a job it lets through goes first
     * (a freed owner has always been handed to its first waiter) */
    if (!owner_busy(owner, type)) {
        begin(job_new(owner, type, pipeline), NULL, data);
        return;
    }
    if (wait_ms == 0) {
        GError *error = NULL;
        busy_error(owner, ERR_OPERATION_INVALID, 0, &error);
        begin(NULL, error, data);
        g_error_free(error);
        return;
    }
    struct job_waiter *w = g_new0(struct job_waiter, 1);
    w->owner = owner;
    w->type = type;
    w->pipeline = pipeline;
    w->begin = begin;
    w->data = data;
    w->wait_ms = wait_ms;
    w->since = g_get_monotonic_time();
    w->timer = g_timeout_add(wait_ms, on_wait_timeout, w);
    g_queue_push_tail(&owner->waiters, w);
}

struct acquire_run {
    gpointer data;
    GDestroyNotify free_data;
    job_done_fn done;
    gpointer done_data;
};

static void
acquire_run_begin(struct job *job, GError *error, gpointer user)
{
    struct acquire_run *req = user;
    if (!job) {
        req->done(error, req->done_data);
        if (req->free_data)
            req->free_data(req->data);
    } else {
        job_run(job, req->data, req->free_data, req->done, req->done_data);
    }
    g_free(req);
}

void
job_acquire_run(struct job_owner *owner, enum job_type type, const struct job_pipeline *pipeline,
                guint wait_ms, gpointer data, GDestroyNotify free_data, job_done_fn done,
                gpointer done_data)
{
    struct acquire_run *req = g_new0(struct acquire_run, 1);
    req->data = data;
    req->free_data = free_data;
    req->done = done;
    req->done_data = done_data;
    job_acquire(owner, type, pipeline, wait_ms, acquire_run_begin, req);
}

struct job *
job_try_acquire(struct job_owner *owner, enum job_type type, const struct job_pipeline *pipeline,
                GError **error)
{
    if (owner_busy(owner, type)) {
        busy_error(owner, ERR_OPERATION_INVALID, 0, error);
        return NULL;
    }
    return job_new(owner, type, pipeline);
}

/* The first waiter that may gets OWNER (one a job aside keeps out lets the next one by). */
static void
wake(struct job_owner *owner)
{
    struct job_waiter *w = NULL;
    for (GList *l = owner->waiters.head; l && !w; l = l->next)
        if (!owner_busy(owner, ((struct job_waiter *)l->data)->type))
            w = l->data;
    if (!w)
        return;
    g_queue_remove(&owner->waiters, w);
    if (w->timer)
        g_source_remove(w->timer);
    struct job *next = job_new(owner, w->type, w->pipeline);
    job_begin_fn begin = w->begin;
    gpointer data = w->data;
    g_free(w);
    begin(next, NULL, data);
}

/* JOB lets go of its owner. */
static void
release(struct job *job)
{
    struct job_owner *owner = job->owner;
    if (!owner || (owner->current != job && owner->aside != job))
        return;
    if (owner->current == job)
        owner->current = NULL;
    else
        owner->aside = NULL;
    job->owner = NULL;
    wake(owner);
}

void
job_step_aside(struct job *job, guint64 lets)
{
    struct job_owner *owner = job->owner;
    if (!owner || owner->current != job)
        return;
    job->lets = lets;
    owner->current = NULL;
    owner->aside = job;
    wake(owner);
}

struct job *
job_ref(struct job *job)
{
    job->refs++;
    return job;
}

void
job_unref(struct job *job)
{
    if (!job || --job->refs > 0)
        return;
    g_assert(job->finished || !job->owner);
    if (job->data && job->free_data)
        job->free_data(job->data);
    g_clear_error(&job->error);
    g_clear_error(&job->abort_reason);
    g_free(job);
}

/* A job that reported progress leaves its figures for domjobinfo --completed. */
static void
record_completed(struct job *job)
{
    struct job_owner *owner = job->owner;
    guint64 total = __atomic_load_n(&job->total, __ATOMIC_RELAXED);
    if (!owner || (owner->current != job && owner->aside != job) || (!total && !job->temp))
        return;
    fill_info(job, &owner->completed);
    owner->completed.phase = NULL;
    owner->completed.abortable = FALSE;
    if (!job->error)
        owner->completed_outcome = JOB_OUTCOME_COMPLETED;
    else if (job->aborted || g_error_matches(job->error, DOMUS_ERROR, ERR_OPERATION_ABORTED))
        owner->completed_outcome = JOB_OUTCOME_CANCELLED;
    else
        owner->completed_outcome = JOB_OUTCOME_FAILED;
}

void
job_crash_point(const struct job *job, const char *phase)
{
    g_autofree char *here = g_strdup_printf("%s:%s", job_type_to_string(job->type), phase);
    job_crash_point_at(here);
}

void
job_crash_point_at(const char *here)
{
    static const char *at;
    static gsize once;
    if (g_once_init_enter(&once)) {
        at = g_getenv("DOMUS_TEST_CRASH_AT");
        g_once_init_leave(&once, 1);
    }
    if (!at)
        return;
    if (g_str_equal(here, at)) {
        log_warn("DOMUS_TEST_CRASH_AT: killing the daemon at %s", here);
        raise(SIGKILL);
    }
}

static void
finish(struct job *job, GError *error)
{
    if (!job->finished && !error)
        job_crash_point(job, "end");
    if (job->finished) {
        if (error)
            g_error_free(error);
        return;
    }
    job->finished = TRUE;
    if (error && job->abort_reason) {
        g_error_free(error);
        error = g_steal_pointer(&job->abort_reason);
    }
    job->error = error;
    job_ref(job);
    if (job->pipeline && job->pipeline->finish)
        job->pipeline->finish(job, job->error);
    job_done_fn done = job->done_cb;
    job->done_cb = NULL;
    GError *outcome = job->error ? g_error_copy(job->error) : NULL;
    record_completed(job);
    /* the owner is released before the caller hears back: a caller may start the next job */
    release(job);
    if (done)
        done(outcome, job->done_data);
    if (outcome)
        g_error_free(outcome);
    job_unref(job); /* finish's own */
    job_unref(job); /* the owner's */
}

/* Runs steps from job->step on, until one is left running or the pipeline is over. */
static void
advance(struct job *job)
{
    job_ref(job);
    while (!job->finished) {
        const struct job_step *s = &job->pipeline->steps[job->step];
        if (!s->run) {
            finish(job, NULL);
            break;
        }
        job_crash_point(job, s->phase);
        job->in_step = TRUE;
        job->next_pending = FALSE;
        s->run(job);
        job->in_step = FALSE;
        if (!job->next_pending)
            break;
        job->step++;
    }
    job_unref(job);
}

void
job_run(struct job *job, gpointer data, GDestroyNotify free_data, job_done_fn done,
        gpointer done_data)
{
    job->data = data;
    job->free_data = free_data;
    job->done_cb = done;
    job->done_data = done_data;
    job->step = 0;
    advance(job);
}

void
job_cancel(struct job *job, GError *error, job_done_fn done, gpointer done_data)
{
    job->finished = TRUE;
    release(job);
    if (done)
        done(error, done_data);
    if (error)
        g_error_free(error);
    job_unref(job);
}

void
job_next(struct job *job)
{
    if (job->finished)
        return;
    if (job->in_step) {
        job->next_pending = TRUE;
        return;
    }
    job->step++;
    advance(job);
}

void
job_fail(struct job *job, GError *error)
{
    finish(job, error);
}

void
job_step_over(struct job *job, const GError *error)
{
    if (error)
        job_fail(job, g_error_copy(error));
    else
        job_next(job);
    job_unref(job);
}

void
job_set_error(struct job *job, GError *error)
{
    g_clear_error(&job->error);
    job->error = error;
}

gboolean
job_abort(struct job *job, gboolean from_client, GError **error)
{
    if (job->finished)
        return TRUE;
    if (from_client && !(job->pipeline && job->pipeline->abortable)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "job '%s' of %s '%s' cannot be aborted", job_type_to_string(job->type),
                job->owner ? job->owner->kind : "object", job->owner ? job->owner->name : "");
        return FALSE;
    }
    job->aborted = TRUE;
    if (job->pipeline && job->pipeline->abort)
        job->pipeline->abort(job);
    return TRUE;
}

void
job_abort_because(struct job *job, GError *reason)
{
    if (job->finished) {
        g_error_free(reason);
        return;
    }
    if (!job->abort_reason)
        job->abort_reason = reason;
    else
        g_error_free(reason);
    job_abort(job, FALSE, NULL);
}

void
job_set_progress(struct job *job, guint64 done, guint64 total)
{
    __atomic_store_n(&job->total, total, __ATOMIC_RELAXED);
    __atomic_store_n(&job->done, done, __ATOMIC_RELAXED);
}

const char *
job_phase(const struct job *job)
{
    if (job->finished || !job->pipeline)
        return NULL;
    return job->pipeline->steps[job->step].phase;
}

void
job_info(const struct job_owner *owner, struct job_info *ret)
{
    fill_info(job_of(owner), ret);
}

static void
fill_info(const struct job *job, struct job_info *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (!job)
        return;
    ret->type = job->type;
    ret->phase = job_phase(job);
    ret->elapsed_ms = (g_get_monotonic_time() - job->started_mono) / 1000;
    ret->done = __atomic_load_n(&job->done, __ATOMIC_RELAXED);
    ret->total = __atomic_load_n(&job->total, __ATOMIC_RELAXED);
    ret->abortable = job->pipeline && job->pipeline->abortable;
    ret->temp = job->temp;
    ret->migration = job->migration;
}

void
job_set_migration(struct job *job, const struct job_migration *stats)
{
    job->migration = *stats;
    job->migration.present = TRUE;
}

gboolean
job_completed_info(struct job_owner *owner, gboolean keep, struct job_info *ret,
                   enum job_outcome *ret_outcome)
{
    if (owner->completed.type == JOB_NONE)
        return FALSE;
    *ret = owner->completed;
    *ret_outcome = owner->completed_outcome;
    if (!keep)
        memset(&owner->completed, 0, sizeof(owner->completed));
    return TRUE;
}

struct thread_work {
    struct job *job; /* a reference */
    job_work_fn work;
    gpointer data;
    GDestroyNotify free_data;
};

static void
thread_work_free(gpointer p)
{
    struct thread_work *w = p;
    if (w->free_data)
        w->free_data(w->data);
    job_unref(w->job);
    g_free(w);
}

static void
in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    struct thread_work *w = data;
    GError *error = NULL;
    if (w->work(w->job, w->data, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
thread_done(GObject *source, GAsyncResult *res, gpointer data)
{
    struct job *job = data;
    GError *error = NULL;
    if (g_task_propagate_boolean(G_TASK(res), &error))
        job_next(job);
    else
        job_fail(job, error);
    job_unref(job);
}

void
job_step_in_thread(struct job *job, job_work_fn work, gpointer data, GDestroyNotify free_data)
{
    struct thread_work *w = g_new0(struct thread_work, 1);
    w->job = job_ref(job);
    w->work = work;
    w->data = data;
    w->free_data = free_data;
    GTask *task = g_task_new(NULL, NULL, thread_done, job_ref(job));
    g_task_set_task_data(task, w, thread_work_free);
    g_task_run_in_thread(task, in_thread);
    g_object_unref(task);
}
