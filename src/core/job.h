/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* job: the one job engine for domains and volumes; prefix job_. An object that can be
 * changed (a domain, a volume) embeds a struct job_owner: at most one job holds it at a time.
 * Queries never look at the owner's lock. A call that wants the object while a job holds it
 * waits (bounded), then fails naming the job and its age.
 *
 * A job runs a pipeline of steps: each step starts some work and ends by calling job_next()
 * or job_fail(), at once or later (a QMP reply, a worker thread). When the last step is done,
 * or one failed or the job was aborted, the pipeline's finish hook runs (commit or undo),
 * then the caller's completion. Progress (done/total) may be set from any thread. Everything
 * else runs on the main loop. */
#pragma once

#include <glib.h>

enum job_type {
    JOB_NONE,
    JOB_START,
    JOB_SHUTDOWN,
    JOB_DESTROY,
    JOB_SUSPEND,
    JOB_RESUME,
    JOB_RESET,
    JOB_REBOOT,
    JOB_WIPE,
    JOB_MODIFY, /* a live change of a device */
    JOB_SAVE,
    JOB_RESTORE,
    JOB_SNAPSHOT,
    JOB_SNAPSHOT_REVERT,
    JOB_SNAPSHOT_DELETE,
    JOB_MIGRATION_OUT,
    JOB_MIGRATION_IN,
    JOB_DUMP,
    JOB_CHECKPOINT,
    JOB_CHECKPOINT_DELETE,
    JOB_BACKUP,
    JOB_TYPE_LAST
};

const char *job_type_to_string(enum job_type type);
int job_type_from_string(const char *text);

struct job;

/* How a job that reported progress ended (virDomainJobType's last three). */
enum job_outcome { JOB_OUTCOME_COMPLETED = 3, JOB_OUTCOME_FAILED = 4, JOB_OUTCOME_CANCELLED = 5 };

/* What QEMU counts of a migration (query-migrate), as domjobinfo shows it. */
struct job_migration {
    gboolean present;
    guint64 mem_total, mem_processed, mem_remaining, mem_bps, dirty_rate, iteration;
    guint64 constant_pages, normal_pages, normal_bytes, page_size;
    guint64 setup_ms, expected_downtime_ms, throttle_percent;
    gboolean downtime_known; /* the migration completed: DOWNTIME_MS is QEMU's figure */
    guint64 downtime_ms;
    /* disks copied along (mirror jobs): their bytes */
    guint64 disk_total, disk_processed, disk_remaining;
};

/* What a query shows of OWNER's job. */
struct job_info {
    enum job_type type; /* JOB_NONE when idle */
    const char *phase;
    gint64 elapsed_ms;
    guint64 done, total;
    gboolean abortable;
    gboolean temp; /* DONE and TOTAL count scratch space (a pull backup's), not work */
    struct job_migration migration;
};

/* What can be held by a job. */
struct job_owner {
    const char *kind; /* "domain", "volume": words messages */
    char *name;
    struct job *current;
    /* a job that stepped aside (job_step_aside): it runs on while jobs it lets through hold
     * CURRENT; queries and aborts find it first */
    struct job *aside;
    GQueue waiters; /* struct job_waiter * */
    /* the last job that reported progress, once over (domjobinfo --completed) */
    struct job_info completed;
    enum job_outcome completed_outcome;
};

struct job_step {
    const char *phase; /* what the job is doing meanwhile ("spawn", "setup") */
    void (*run)(struct job *job);
};

struct job_pipeline {
    const struct job_step *steps; /* ends with {NULL, NULL} */
    /* runs once the steps are over: ERROR is NULL when every step succeeded. It commits or
     * undoes; it may replace the error (job_set_error) before the caller sees it. */
    void (*finish)(struct job *job, const GError *error);
    /* asked to stop the current step (destroy, domjobabort); the step then fails */
    void (*abort)(struct job *job);
    gboolean abortable; /* whether a client may abort it (domjobabort) */
};

typedef void (*job_done_fn)(GError *error, gpointer data);

struct job {
    struct job_owner *owner;
    enum job_type type;
    const struct job_pipeline *pipeline;
    guint step;
    gint64 started;                 /* g_get_real_time() */
    gint64 started_mono;            /* g_get_monotonic_time() */
    guint64 done, total;            /* progress; atomic */
    struct job_migration migration; /* main loop only */
    gboolean finished;              /* the finish hook ran: late replies are ignored */
    guint64 lets;                   /* stepped aside: the job types (1 << type) let through */
    gboolean temp;                  /* progress counts scratch space (job_info's TEMP) */
    gboolean aborted;
    GError *abort_reason;  /* job_abort_because: what the job fails with */
    gboolean in_step;      /* a step's run is on the stack */
    gboolean next_pending; /* ... and it called job_next */
    GError *error;
    gpointer data; /* the operation's own state, freed with the job (free_data) */
    GDestroyNotify free_data;
    job_done_fn done_cb;
    gpointer done_data;
    int refs;
};

void job_owner_init(struct job_owner *owner, const char *kind, const char *name);
/* Fails every waiter (ERR_OPERATION_ABORTED: the object is going away). */
void job_owner_clear(struct job_owner *owner);
void job_owner_rename(struct job_owner *owner, const char *name);

typedef void (*job_begin_fn)(struct job *job, GError *error, gpointer data);

/* Takes OWNER for a job of TYPE running PIPELINE. When OWNER is free, BEGIN runs at once with
 * the job; else it waits up to WAIT_MS, and BEGIN then gets the job or, on timeout,
 * ERR_OPERATION_TIMEOUT naming the job that holds the owner and for how long. BEGIN must
 * call job_run() (or job_cancel()) on the job it gets. */
void job_acquire(struct job_owner *owner, enum job_type type, const struct job_pipeline *pipeline,
                 guint wait_ms, job_begin_fn begin, gpointer data);
/* job_acquire, then job_run with DATA; when the owner stays busy, DONE hears why (the error
 * is not DONE's to free) and DATA is freed. */
void job_acquire_run(struct job_owner *owner, enum job_type type,
                     const struct job_pipeline *pipeline, guint wait_ms, gpointer data,
                     GDestroyNotify free_data, job_done_fn done, gpointer done_data);
/* Takes OWNER only when free: NULL with the same error otherwise. */
struct job *job_try_acquire(struct job_owner *owner, enum job_type type,
                            const struct job_pipeline *pipeline, GError **error);

/* Runs the pipeline with DATA (owned, freed by FREE_DATA with the job); DONE gets the
 * outcome exactly once, after the finish hook. */
void job_run(struct job *job, gpointer data, GDestroyNotify free_data, job_done_fn done,
             gpointer done_data);
/* Releases a job that was acquired but is not run, failing its caller with ERROR (consumed;
 * may be NULL for no caller). */
void job_cancel(struct job *job, GError *error, job_done_fn done, gpointer done_data);

/* Crash recovery is tested at exact points: with DOMUS_TEST_CRASH_AT="<job type>:<phase>" in
 * its environment the daemon kills itself where JOB reaches PHASE, as a crash there would.
 * Every step's phase is such a point as the step begins, and "end" as the steps are over,
 * before the finish hook; a finish hook may name its own. */
void job_crash_point(const struct job *job, const char *phase);
/* The same at a point HERE of something that is no job ("blockcopy:ended"). */
void job_crash_point_at(const char *here);

/* The current step is done; the next one starts (or the pipeline finishes). */
void job_next(struct job *job);
/* A callback that held a reference on JOB for its step: the step fails with a copy of ERROR,
 * or is done (ERROR NULL); the reference is dropped. */
void job_step_over(struct job *job, const GError *error);
/* ERR_OPERATION_ABORTED (ORIGIN) for JOB: "operation aborted: job 'save' was canceled by
 * client", libvirt's words. */
GError *job_aborted_error(const struct job *job, int origin);
/* The current step failed with ERROR (consumed): the pipeline finishes with it. A step that
 * already failed or a job already finished ignores further calls. */
void job_fail(struct job *job, GError *error);
/* Asks the job to stop: the pipeline's abort hook runs; the step it interrupts fails. A
 * client's abort (FROM_CLIENT) is refused for a job that is not abortable. */
gboolean job_abort(struct job *job, gboolean from_client, GError **error);
/* The daemon stops the job for REASON (taken), which the job then fails with instead of the
 * interrupted step's error. */
void job_abort_because(struct job *job, GError *reason);
/* Replaces the error the caller will see (the finish hook's say). */
void job_set_error(struct job *job, GError *error);

/* Runs WORK(job, DATA) in a worker thread (blocking I/O, a helper program); the current step
 * then ends on the main loop: job_next, or job_fail with WORK's error. DATA is freed with
 * FREE_DATA (may be NULL) once WORK is done. */
typedef gboolean (*job_work_fn)(struct job *job, gpointer data, GError **error);
void job_step_in_thread(struct job *job, job_work_fn work, gpointer data, GDestroyNotify free_data);

void job_set_progress(struct job *job, guint64 done, guint64 total);
/* JOB waits on something long that needs the owner no more (a backup's copy, an NBD export
 * that lasts until the client is done): jobs of the types in LETS (1 << type) may hold the
 * owner meanwhile, as libvirt's async jobs let suspend and modify through; any other waits
 * for JOB as before. JOB runs its remaining steps alongside them. */
void job_step_aside(struct job *job, guint64 lets);
#define JOB_LETS(type) ((guint64)1 << (type))
/* The job queries and aborts are about: the one stepped aside, else the one holding OWNER. */
struct job *job_of(const struct job_owner *owner);
/* The migration figures of JOB (main loop). */
void job_set_migration(struct job *job, const struct job_migration *stats);
const char *job_phase(const struct job *job);

struct job *job_ref(struct job *job);
void job_unref(struct job *job);

void job_info(const struct job_owner *owner, struct job_info *ret);
/* The last job of OWNER that reported progress, once over: FALSE when there is none. KEEP:
 * FALSE forgets it once read (as libvirt's completed statistics without KEEP_COMPLETED). */
gboolean job_completed_info(struct job_owner *owner, gboolean keep, struct job_info *ret,
                            enum job_outcome *ret_outcome);
