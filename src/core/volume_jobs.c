/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volume_jobs: jobs on volumes, through the same engine as domains (job.c); prefix
 * core_vol_. A volume's job owner exists while a job holds it or calls wait for it; it is
 * keyed by the volume's path. A wipe is a job with progress that a client can abort; a
 * delete, resize or upload refuses a volume a job holds, naming the job. */
#include "core/storage.h"

#include <gio/gio.h>
#include <string.h>

#include "storage/wipe.h"
#include "util/err.h"
#include "util/log.h"

struct vol_owner {
    struct job_owner jobs;
    char *path;
    GHashTable *registry;
};

static GHashTable *
registry(struct core *core)
{
    if (!core->vol_jobs)
        core->vol_jobs = g_hash_table_new(g_str_hash, g_str_equal);
    return core->vol_jobs;
}

static struct vol_owner *
owner_get(struct core *core, struct pool *p, const char *name)
{
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    struct vol_owner *o = g_hash_table_lookup(registry(core), path);
    if (o)
        return o;
    o = g_new0(struct vol_owner, 1);
    job_owner_init(&o->jobs, "volume", name);
    o->path = g_steal_pointer(&path);
    o->registry = core->vol_jobs;
    g_hash_table_insert(o->registry, o->path, o);
    return o;
}

/* An owner nobody holds or waits for goes. */
static void
owner_release(struct vol_owner *o)
{
    if (o->jobs.current || !g_queue_is_empty(&o->jobs.waiters))
        return;
    g_hash_table_remove(o->registry, o->path);
    job_owner_clear(&o->jobs);
    g_free(o->path);
    g_free(o);
}

gboolean
core_vol_check_idle(struct core *core, struct pool *p, const char *name, GError **error)
{
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    struct vol_owner *o = core->vol_jobs ? g_hash_table_lookup(core->vol_jobs, path) : NULL;
    if (!o || !o->jobs.current)
        return TRUE;
    struct job *job = o->jobs.current;
    err_set(
        error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
        "volume '%s' is busy with job '%s' for %" G_GINT64_FORMAT " ms; wait for it or abort it",
        name, job_type_to_string(job->type), (g_get_monotonic_time() - job->started_mono) / 1000);
    return FALSE;
}

/* --- wipe --- */

struct wipe_op {
    struct vol_owner *owner;
    char *path;
    int algorithm;
    gint cancel; /* set from the main loop, read by the worker */
    GTask *task;
};

static void
wipe_op_free(gpointer data)
{
    struct wipe_op *op = data;
    g_free(op->path);
    g_free(op);
}

static void
wipe_progress(gpointer user, guint64 done, guint64 total)
{
    job_set_progress(user, done, total);
}

static gboolean
wipe_in_thread(struct job *job, gpointer data, GError **error)
{
    struct wipe_op *op = job->data;
    return wipe_run(op->path, op->algorithm, wipe_progress, job, &op->cancel, error);
}

static void
wipe_step(struct job *job)
{
    job_step_in_thread(job, wipe_in_thread, NULL, NULL);
}

static void
wipe_abort(struct job *job)
{
    struct wipe_op *op = job->data;
    /* the worker sees it between two writes and returns ERR_OPERATION_ABORTED */
    g_atomic_int_set(&op->cancel, 1);
}

static void
wipe_finish(struct job *job, const GError *error)
{
    struct wipe_op *op = job->data;
    if (!error)
        log_info("volume '%s' wiped (%s)", op->path, wipe_algorithm_to_string(op->algorithm));
}

static const struct job_step wipe_steps[] = {
    {"wipe", wipe_step},
    {NULL, NULL},
};

static const struct job_pipeline wipe_pipeline = {
    .steps = wipe_steps,
    .finish = wipe_finish,
    .abort = wipe_abort,
    .abortable = TRUE,
};

struct wipe_request {
    struct wipe_op *op;
    core_done_fn done;
    gpointer data;
};

static void
wipe_ended(GError *error, gpointer data)
{
    struct wipe_request *req = data;
    struct vol_owner *owner = req->op->owner;
    req->done(error, req->data);
    owner_release(owner);
    g_free(req);
}

void
core_vol_wipe(struct core *core, struct pool *p, const char *name, int algorithm, gboolean force,
              core_done_fn done, gpointer data)
{
    GError *error = NULL;
    g_autofree char *path = core_vol_path(p, name, &error);
    if (!path) {
        /* error set */
    } else if (algorithm < 0 || algorithm >= WIPE_ALGORITHM_LAST) {
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "unknown wipe algorithm %d; see virsh vol-wipe --algorithm", algorithm);
    } else if (!force && !core_vol_check_unused(core, path, &error)) {
        /* error set */
    }
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    struct vol_owner *owner = owner_get(core, p, name);
    struct job *job = job_try_acquire(&owner->jobs, JOB_WIPE, &wipe_pipeline, &error);
    if (!job) {
        owner_release(owner);
        done(error, data);
        g_error_free(error);
        return;
    }
    struct wipe_op *op = g_new0(struct wipe_op, 1);
    op->owner = owner;
    op->path = g_steal_pointer(&path);
    op->algorithm = algorithm;
    struct wipe_request *req = g_new0(struct wipe_request, 1);
    req->op = op;
    req->done = done;
    req->data = data;
    job_run(job, op, wipe_op_free, wipe_ended, req);
}

gboolean
core_vol_job_info(struct core *core, struct pool *p, const char *name, struct job_info *ret)
{
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    struct vol_owner *o = core->vol_jobs ? g_hash_table_lookup(core->vol_jobs, path) : NULL;
    if (!o) {
        memset(ret, 0, sizeof(*ret));
        return FALSE;
    }
    job_info(&o->jobs, ret);
    return ret->type != JOB_NONE;
}

gboolean
core_vol_job_abort(struct core *core, struct pool *p, const char *name, GError **error)
{
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    struct vol_owner *o = core->vol_jobs ? g_hash_table_lookup(core->vol_jobs, path) : NULL;
    if (!o || !o->jobs.current || o->jobs.current->finished) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "no job is active on volume '%s'",
                name);
        return FALSE;
    }
    return job_abort(o->jobs.current, TRUE, error);
}
