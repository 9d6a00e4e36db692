/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migration: QEMU's migration stream, as one step of a job: through a descriptor (save writes
 * an image through it, restore reads one) or to and from another host; prefix migration_. */
#pragma once

#include <json-glib/json-glib.h>

#include "core/core.h"

struct migration;

/* Runs QEMU's migration of DOM through FD (passed with getfd; the caller keeps its copy):
 * outgoing (migrate, the guest's state written to FD) or INCOMING (migrate-incoming, QEMU
 * started with -incoming defer reads it). Keeps JOB's progress from query-migrate and ends
 * JOB's current step: job_next once QEMU reports the migration completed, job_fail with
 * QEMU's reason when it failed or was cancelled. */
void migration_run(struct job *job, struct domain *dom, int fd, gboolean incoming);

/* An incoming migration_run through FD, the pipe of a decompressor that reads IMAGE_FD: the
 * progress is where the decompressor has read IMAGE_FD to. */
void migration_run_filtered(struct job *job, struct domain *dom, int fd, int image_fd);

/* Called once QEMU took the migrate or migrate-incoming command (ERROR NULL: an incoming QEMU
 * now listens) or refused it. */
typedef void (*migration_started_fn)(const GError *error, gpointer data);

/* What a migration to or from another host sets up first. */
struct migration_setup {
    const char *const *capabilities; /* QEMU's migration capabilities to turn on, NULL-ended */
    JsonObject *parameters;          /* for migrate-set-parameters (borrowed); NULL: none */
    migration_started_fn started;
    gpointer started_data;
    /* post-copy may begin: when QEMU switches, *POSTCOPY turns TRUE and the step ends there
     * (NULL: the step ends only once QEMU has everything) */
    gboolean *postcopy;
    /* incoming --tls: the credentials object made first (migrate_tls_object); NULL: none */
    const char *tls_id;
};

/* migration_run to or from URI (QEMU's form: "tcp:HOST:PORT"). An incoming migration ends
 * once QEMU has the whole state; an outgoing one keeps domjobinfo's figures. */
void migration_run_uri(struct job *job, struct domain *dom, const char *uri, gboolean incoming,
                       const struct migration_setup *setup);

/* migration_run_uri through FD (as migration_run takes it): a tunnelled migration, whose
 * stream the daemons carry. */
void migration_run_fd(struct job *job, struct domain *dom, int fd, gboolean incoming,
                      const struct migration_setup *setup);

/* Follows the migration QEMU already runs (the rest of a post-copy) as the current step of
 * JOB, until QEMU reports it completed or failed. */
void migration_wait(struct job *job, struct domain *dom, gboolean incoming);

/* Asks QEMU to cancel DOM's outgoing migration (domjobabort); the step then fails with
 * ERR_OPERATION_ABORTED. FALSE when no migration runs. */
gboolean migration_cancel(struct domain *dom);

/* Stops following DOM's migration without ending the job's step (the job ended otherwise:
 * QEMU exited, destroy). */
void migration_detach(struct domain *dom);

/* A MIGRATION event of DOM's QEMU (lifecycle.c routes them here). */
void migration_event(struct domain *dom, JsonObject *data);
