/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot (inside core; prefix snapshot_): what the internal snapshots (snapshot.c) and the
 * external ones (snapshot_external.c) share: the metadata files, the job that runs an
 * operation, QEMU's block jobs and qemu-img in a worker thread. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/snapshot_def.h"
#include "core/core.h"
#include "core/job.h"

struct snap_ext;

/* One create, revert or delete: the job's data. */
struct snap_op {
    struct domain *dom;       /* a reference */
    struct snapshot_def *def; /* create: the new one, until it is kept */
    GPtrArray *disks;         /* struct disk_def * (borrowed from the domain's definition) */
    GPtrArray *targets;       /* delete: the snapshots to remove, children first (names) */
    guint next;               /* delete: the next of TARGETS */
    unsigned flags;
    gboolean was_running; /* revert: the vCPUs ran before */
    char *name;           /* the snapshot's name (the reply of create) */
    struct snap_ext *ext; /* an external snapshot's plan (snapshot_external.c) */
};
void snapshot_op_free(gpointer data);

/* Takes DOM for a job of TYPE; PREPARE checks and plans under it (an error ends the job
 * before any step); then PIPELINE runs with OP (consumed). DONE (create: with the name) or
 * DONE_PLAIN hears the outcome. */
void snapshot_job_start(struct domain *dom, enum job_type type, const struct job_pipeline *pipeline,
                        struct snap_op *op,
                        void (*prepare)(struct job *, struct snap_op *, GError **),
                        core_snapshot_done_fn done, core_done_fn done_plain, gpointer data);

/* <state>/snapshot/<domain>: where DOM's snapshot metadata lives. New string. */
char *snapshot_dir(struct domain *dom);
/* At registration, for a domain that is not running: the record of a snapshot a daemon did
 * not see to its end is settled by the images and the configuration (snapshot_recover.c). */
void snapshot_pending_settle_offline(struct domain *dom);
gboolean snapshot_write_meta(struct domain *dom, const struct snapshot_def *def, GError **error);
gboolean snapshot_write_current(struct domain *dom, GError **error);
gboolean snapshot_has_children(struct domain *dom, const char *name);
/* Whether DEF descends from ANCESTOR (NULL: every snapshot does). */
gboolean snapshot_descends(struct domain *dom, const struct snapshot_def *def,
                           const char *ancestor);
gboolean snapshot_is_internal(const struct snapshot_def *def);
/* Names a new snapshot (its creation time when the client gave no name) and checks that the
 * name is free and that every disk it names is the domain's. */
gboolean snapshot_check_new(struct snap_op *op, GError **error);
/* A new snapshot (OP->def) is made: its metadata is kept (unless NO_METADATA) and it becomes
 * the current one; a failure to keep it is the job's error. */
void snapshot_keep_new(struct job *job, struct snap_op *op);
/* Drops NAME's metadata: its children move up to its parent, a current one's parent becomes
 * current. */
void snapshot_forget(struct domain *dom, const char *name);

/* The record of a snapshot being made (before anything is touched), and its removal once the
 * outcome is known: a daemon that dies between finds it (core_snapshot_recover). */
gboolean snapshot_pending_write(struct domain *dom, const struct snapshot_def *def,
                                gboolean external, unsigned flags, GError **error);
/* The same for an external snapshot DEF being deleted (NULL: nothing to record) while its
 * domain runs: QEMU's merge decides how a restarted daemon settles it. */
gboolean snapshot_pending_write_delete(struct domain *dom, const struct snapshot_def *def,
                                       GError **error);
void snapshot_pending_clear(struct domain *dom);
/* Whether DOM has such a record (a daemon died before the snapshot's outcome was kept). */
gboolean snapshot_pending_exists(struct domain *dom);

/* A revert's step: a running QEMU stops (STOPPED from snapshot); a transient domain stays
 * registered (DOM->reverting) until snapshot_revert_over. */
void snapshot_stop_step(struct job *job);
/* The revert is over: a transient domain that does not run goes. */
void snapshot_revert_over(struct domain *dom);

/* Runs QEMU's job COMMAND (ARGS consumed; its job-id "domus-snapshot") as the current step:
 * progress from query-jobs, job-complete once it is ready (an active commit's pivot), the
 * step ends when it concludes (THEN, when set, runs instead of job_next). */
void snapshot_qjob_run(struct job *job, struct domain *dom, const char *command, JsonObject *args,
                       void (*then)(struct job *job));
/* QEMU's JOB_STATUS_CHANGE (DATA): the job a step follows is asked for at once, rather than
 * at the next poll. */
void snapshot_qjob_event(struct domain *dom, JsonObject *data);
#define SNAPSHOT_QJOB_ID "domus-snapshot"

/* A new list of commands (GStrv each) for snapshot_run_commands. */
GPtrArray *snapshot_commands_new(void);
/* Runs COMMANDS (consumed) one after another in a worker thread as the current step. */
void snapshot_run_commands(struct job *job, GPtrArray *commands);

/* --- external snapshots (snapshot_external.c) --- */

/* Whether a snapshot made from DEF with FLAGS is external: external memory, an external disk,
 * or DISK_ONLY. */
gboolean snapshot_ext_wanted(const struct snapshot_def *def, unsigned flags);
extern const struct job_pipeline snapshot_ext_create_pipeline;
void snapshot_ext_create_prepare(struct job *job, struct snap_op *op, GError **error);
void snapshot_ext_free(struct snap_ext *ext);
extern const struct job_pipeline snapshot_ext_delete_pipeline;
/* Recovery: QEMU switched DEF's disks to their overlays (SWITCHED: the overlays' format node
 * names, in DEF's disk order) before the daemon died: the definitions follow. */
void snapshot_ext_recovered(struct domain *dom, const struct snapshot_def *def,
                            GPtrArray *switched);
/* ... or it did not: the overlays' nodes it may have added go. */
void snapshot_ext_unmade(struct domain *dom, const struct snapshot_def *def);
void snapshot_ext_delete_prepare(struct job *job, struct snap_op *op, GError **error);
/* A delete a daemon did not see to its end, whose merge QEMU had done (its overlays are in no
 * device's chain): the definitions, files and metadata as the delete would have left them. */
void snapshot_ext_delete_recovered(struct domain *dom, const char *name);
