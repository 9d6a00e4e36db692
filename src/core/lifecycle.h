/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lifecycle (prefix lifecycle_): what the operations on a domain's QEMU share inside core
 * (lifecycle.c, start.c, reconnect.c): answering a caller, the QEMU log, the process's exit and the
 * end of a run. */
#pragma once

#include "core/core.h"
#include "core/migration.h"
#include "qemu/saveimage.h"

/* A job's pause of its running guest (save, dump): QEMU's "stop", then INPUT for the state;
 * the step then fails if an abort came meanwhile (the job's abort hook sets ABORT_ASKED: the
 * pause completes first, so that the job's finish can undo it), else the job goes on. */
struct lifecycle_pause {
    enum dom_input input;
    gboolean paused;      /* the guest was paused by it */
    gboolean abort_asked; /* an abort waits for the stop's answer */
};
void lifecycle_pause_step(struct job *job, struct domain *dom, struct lifecycle_pause *p);

/* Calls DONE (when set) with ERROR (NULL: success); the caller keeps ERROR. */
void lifecycle_done(core_done_fn done, gpointer data, GError *error);
/* The same, then frees ERROR. */
void lifecycle_fail(core_done_fn done, gpointer data, GError *error);

/* The domain's QEMU log; returns a new string. */
char *lifecycle_log_path(struct domain *dom);
/* Appends the last lines QEMU wrote to its log since this run began to ERROR's message. */
void lifecycle_append_log_tail(struct domain *dom, GError *error);

/* Probes the backing chain of DISK's image as it is now into DISK->backing (the image nodes
 * still to number: qemu_device_number_images). A disk without a source has nothing to do. */
gboolean lifecycle_probe_disk(struct disk_def *disk, GError **error);

/* Whether the domain's QEMU has exited. */
gboolean lifecycle_process_gone(struct domain *dom);
/* SIGKILLs the domain's QEMU and reaps it (a bounded wait). */
void lifecycle_kill_and_reap(struct domain *dom);
/* Watches the domain's pidfd: its exit ends the job in progress and the run. */
void lifecycle_watch_exit(struct domain *dom);
/* Attaches the monitor on FD (a connected QMP socket; taken over) with lifecycle's handlers. */
void lifecycle_attach_monitor(struct domain *dom, int fd);
/* Releases what a running domain holds and turns it shut off by INPUT (an IN_STOPPED_* one, or
 * IN_START_FAILED for a start that never completed: no events then); wakes exit waiters. */
void lifecycle_stopped(struct domain *dom, enum dom_input input);

/* Starts DOM from a saved state (start.c): LIVE (consumed) is the config to run, FD (taken
 * over, at the start of QEMU's stream) the state, compressed as COMPRESSION (a
 * qemu_saveimage_compression: raw, or the program QEMU reads it through) in the image PATH;
 * the run ends in RESTORED_INPUT (IN_RESTORED, IN_RESTORED_PAUSED, IN_RESTORED_HELD). FLAGS:
 * CORE_START_BYPASS_CACHE. A job of type JOB_RESTORE. */
void lifecycle_start_restore(struct domain *dom, struct domain_def *live, int fd,
                             guint32 compression, const char *path, enum dom_input restored_input,
                             unsigned flags, core_done_fn done, gpointer data);

/* An incoming migration from another host (start.c). */
struct lifecycle_incoming {
    char *uri;              /* where QEMU listens: "tcp:ADDR:PORT"; NULL: from FD */
    int fd;                 /* a tunnelled migration: QEMU reads the stream here (owned); -1 */
    char **capabilities;    /* QEMU's migration capabilities the source uses too; may be NULL */
    JsonObject *parameters; /* for migrate-set-parameters; may be NULL */
    char *tls_id;           /* --tls: the credentials object QEMU gets first; NULL: none */
    gboolean paused;        /* the guest stays paused once here */
    gboolean postcopy_ok;   /* the source may switch to post-copy */
    gboolean postcopy;      /* ... and did: the guest runs here before its memory is all here */
    /* hears once QEMU listens (ERROR NULL: the domain is announced) or why it does not */
    migration_started_fn ready;
    /* runs as QEMU has the whole state: the caller ends the step (job_next: the guest runs,
     * job_fail: QEMU goes) once the source has had its say */
    void (*await)(struct job *job, gpointer data);
    gpointer data;
};
void lifecycle_incoming_free(struct lifecycle_incoming *in);

/* Starts DOM (registered, inactive) paused with -incoming defer, its QEMU listening for the
 * state of the guest from another host: LIVE (consumed) is the config to run, IN (consumed)
 * how. A job of type JOB_MIGRATION_IN; DONE hears how it ended (the guest running here, or
 * QEMU gone and the domain shut off, a transient one forgotten). */
void lifecycle_start_incoming(struct domain *dom, struct domain_def *live,
                              struct lifecycle_incoming *in, core_done_fn done, gpointer data);

/* Starts DOM from internal snapshot TAG of its images (QEMU's -loadvm; start.c): LIVE
 * (consumed) is the snapshot's definition; RUN: the vCPUs run after, else stay paused. A job
 * of type JOB_SNAPSHOT_REVERT. */
void lifecycle_start_snapshot(struct domain *dom, struct domain_def *live, const char *tag,
                              gboolean run, core_done_fn done, gpointer data);

/* A save image being written (save.c): the header and QEMU's stream go into a temporary file
 * next to PATH, which takes its place once complete. */
struct qemu_filter;

struct lifecycle_image {
    char *path;     /* set by the caller */
    char *tmp_path; /* NULL: not created */
    int fd;         /* -1 until created */
    /* the header's fields: xml, was_running, compression (set by the caller) */
    struct qemu_saveimage img;
    gboolean renamed; /* the image is in place */
    /* a compressed image: the program writes FD, QEMU writes STREAM_FD (-1 until created) */
    struct qemu_filter *filter;
    int stream_fd;
};
/* Creates the temporary file and writes the header; DOM's status names the file so that a
 * daemon that dies meanwhile removes it once back. A compressed image's program starts (or the
 * error names it). */
gboolean lifecycle_image_open(struct lifecycle_image *image, struct domain *dom, GError **error);
/* The descriptor QEMU writes the stream into. */
int lifecycle_image_stream_fd(const struct lifecycle_image *image);
/* A step of JOB once QEMU has written the stream: it ends when a compressor has written the
 * rest and exited (its failure fails it), at once for a raw image. */
void lifecycle_image_finish_stream(struct job *job, struct lifecycle_image *image);
/* Blocking (a worker thread): syncs, marks complete, renames into place. */
gboolean lifecycle_image_commit(struct lifecycle_image *image, gboolean bypass_cache,
                                GError **error);
/* Closes; removes the temporary file unless it was put in place. */
void lifecycle_image_clear(struct lifecycle_image *image);
/* Opens the complete save image at PATH for a start from it: its domain definition (new),
 * whether the guest ran and how its stream is compressed; returns a descriptor at the start of
 * QEMU's stream, or -1 with ERR_OPERATION_FAILED naming what is wrong with the file. */
int lifecycle_image_load(const char *path, struct domain_def **ret_def, gboolean *ret_running,
                         guint32 *ret_compression, GError **error);
/* Whether DEF may replace SAVED for a saved guest (what the guest sees stays the same). */
gboolean lifecycle_image_check_abi(const struct domain_def *saved, const struct domain_def *def,
                                   GError **error);

/* Starts DOM from its managed save image (save.c) when it has a usable one: TRUE when DONE
 * will hear of it. FALSE: boot it (no image, or one that is no use and was dropped, or
 * FORCE_BOOT asked: CORE_START_* FLAGS). */
gboolean lifecycle_start_managed(struct domain *dom, unsigned flags, core_done_fn done,
                                 gpointer data);

/* A save cut short by the daemon's death, found when its QEMU was adopted (save.c): its
 * temporary file goes, QEMU's migration is cancelled and a guest the save paused runs again
 * (RUNNING: what QEMU says now). */
void lifecycle_save_recover(struct domain *dom, gboolean running);
/* A STOP event: TRUE when it is that interrupted save's pause taking effect late (the guest
 * is resumed; the state does not change). */
gboolean lifecycle_save_late_stop(struct domain *dom);

/* Takes over a QEMU found running after a daemon restart (reconnect.c). */
void core_lifecycle_adopt(struct domain *dom, int monitor_fd);
