/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* blockjob: block jobs of a running domain's disks (virsh blockcopy, blockpull, blockcommit,
 * blockjob): a copy is a QEMU mirror job from the disk's image into another, which the guest
 * can be switched to (pivot) or which ends as a point-in-time copy (finish); a pull fills the
 * top image from those below it, a commit writes an image into one below it; prefix
 * core_block_. A block job runs beside the
 * domain's other operations, as libvirt's do, and is not a job of the job engine: it can last
 * as long as the user wants the mirror kept. */
#pragma once

#include <json-glib/json-glib.h>

#include "core/core.h"

/* virDomainBlockJobType / virConnectDomainEventBlockJobStatus */
enum {
    BLOCK_JOB_TYPE_PULL = 1,
    BLOCK_JOB_TYPE_COPY = 2,
    BLOCK_JOB_TYPE_COMMIT = 3,
    BLOCK_JOB_TYPE_ACTIVE_COMMIT = 4,
    BLOCK_JOB_TYPE_BACKUP = 5,
};
/* virDomainBlockCommitFlags */
enum { CORE_COMMIT_SHALLOW = 1, CORE_COMMIT_DELETE = 2, CORE_COMMIT_ACTIVE = 4 };
enum {
    BLOCK_JOB_COMPLETED = 0,
    BLOCK_JOB_FAILED = 1,
    BLOCK_JOB_CANCELED = 2,
    BLOCK_JOB_READY = 3,
};
/* virDomainBlockJobAbortFlags */
enum { BLOCK_JOB_ABORT_ASYNC = 1, BLOCK_JOB_ABORT_PIVOT = 2 };

struct core_block_copy {
    const char *dest;
    enum disk_format format; /* DISK_FORMAT_NONE: the source's */
    gboolean block;          /* DEST is a block device */
    gboolean shallow;        /* the top image alone, on the same backing image */
    gboolean reuse;          /* DEST exists already (REUSE_EXT) */
    guint64 bandwidth;       /* bytes/s; 0: no limit */
};

/* Starts copying disk PATH (its target or its image's path) of running DOM into C->dest,
 * made unless C->reuse. DONE hears once the copy runs (or why it does not start). Errors:
 * ERR_OPERATION_INVALID (not running, a job on the disk already, DEST in the way),
 * ERR_INVALID_ARG (no such disk). */
void core_block_copy(struct domain *dom, const char *path, const struct core_block_copy *c,
                     core_done_fn done, gpointer data);

/* virDomainBlockPull / virDomainBlockRebase without COPY: the images of disk PATH above BASE
 * (its path or "vda[N]"; NULL: every one) are copied into its top image, which then rests on
 * BASE (NULL: on nothing); they leave the chain. BANDWIDTH bytes/s (0: no limit). DONE hears
 * once the job runs. Errors: ERR_OPERATION_INVALID (not running, a job on the disk already),
 * ERR_INVALID_ARG (no such disk, no backing image, BASE not below the top). */
void core_block_pull(struct domain *dom, const char *path, const char *base, guint64 bandwidth,
                     core_done_fn done, gpointer data);
/* virDomainBlockCommit: image TOP of disk PATH (NULL: the top, which takes CORE_COMMIT_ACTIVE)
 * and those between it and BASE (NULL: the bottom of the chain; CORE_COMMIT_SHALLOW: the one
 * right below TOP) are written into BASE and leave the chain (CORE_COMMIT_DELETE: their files
 * too). A commit of the top becomes ready and is pivoted to BASE, or aborted, with
 * core_block_job_abort. Errors as core_block_pull. */
void core_block_commit(struct domain *dom, const char *path, const char *base, const char *top,
                       guint64 bandwidth, unsigned flags, core_done_fn done, gpointer data);

struct core_block_info {
    gboolean found;
    int type;
    guint64 bandwidth; /* bytes/s */
    guint64 cur, end;
};
typedef void (*core_block_info_fn)(GError *error, const struct core_block_info *info,
                                   gpointer data);
/* virDomainGetBlockJobInfo of disk PATH: QEMU's figures of the job, or found FALSE. */
void core_block_job_info(struct domain *dom, const char *path, core_block_info_fn done,
                         gpointer data);
/* virDomainBlockJobAbort: ends the job of disk PATH; PIVOT (a ready copy) switches the guest
 * to the copy, else a ready copy ends as a point-in-time image and one not ready yet stops.
 * Without ASYNC, DONE hears once the job is over. */
void core_block_job_abort(struct domain *dom, const char *path, unsigned flags, core_done_fn done,
                          gpointer data);
/* virDomainBlockJobSetSpeed, bytes/s (0: no limit). */
void core_block_job_set_speed(struct domain *dom, const char *path, guint64 bandwidth,
                              core_done_fn done, gpointer data);

/* virDomainSetBlockThreshold: BLOCK_THRESHOLD fires once the image DEV ("vda": the disk's
 * top image; "vda[N]": image N of its chain) is written past THRESHOLD bytes (0: no longer).
 * ERR_INVALID_ARG for an image the domain's disks do not have. */
void core_block_set_threshold(struct domain *dom, const char *dev, guint64 threshold,
                              core_done_fn done, gpointer data);
/* QEMU's BLOCK_WRITE_THRESHOLD (DATA its members): libvirt's event, naming the image as its
 * threshold was set. */
void core_block_threshold_event(struct domain *dom, JsonObject *data);

/* Whether DOM has a block job (migration and snapshots refuse to start then). */
gboolean core_block_jobs_active(const struct domain *dom);
/* A daemon restarted: the block copies of DOM's live definition (their <mirror>) are taken
 * up again from QEMU's jobs; one that ended meanwhile ends here as it did there. */
void core_block_jobs_adopt(struct domain *dom);
/* QEMU is gone: the jobs of DOM end with it (FAILED events). */
void core_block_jobs_stopped(struct domain *dom);

/* virDomainBlockCopy's target XML (<disk type='file|block'> with <source> and an optional
 * <driver type>) into RET's block and format and *RET_DEST (new). ERR_XML_ERROR,
 * ERR_CONFIG_UNSUPPORTED naming what is not taken. */
gboolean core_block_copy_parse(const char *xml, struct core_block_copy *ret, char **ret_dest,
                               GError **error);
