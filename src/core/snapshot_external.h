/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_external (inside core; prefix snapshot_ext_): what the external snapshots' create
 * and revert (snapshot_external.c) and delete (snapshot_external_delete.c) share. */
#pragma once

#include "core/lifecycle.h"
#include "core/snapshot.h"

#define ORIGIN ERR_FROM_DOMAIN_SNAPSHOT

/* One disk of an external snapshot being made */
struct ext_disk {
    char *target;                 /* "vda" */
    char *base;                   /* the image the disk is on: the overlay's backing */
    enum disk_format base_format; /* its format */
    char *overlay;
    gboolean created; /* the file is ours: a failure removes it */
    unsigned index;   /* the overlay's node names (a running domain) */
    gboolean added;   /* its nodes are in QEMU: a failure removes them */
    /* delete */
    enum { MERGE_NONE, MERGE_ACTIVE, MERGE_BELOW, MERGE_DISCARD } merge;
    unsigned base_index; /* the base's node names (a running domain) */
    char *above;         /* MERGE_BELOW of a shut off domain: the image whose backing OVERLAY is */
};

struct revert;

struct snap_ext {
    GPtrArray *disks; /* struct ext_disk * */
    gboolean memory;  /* the memory goes to IMAGE */
    struct lifecycle_image image;
    gboolean live;        /* the vCPUs run while the memory is written */
    gboolean paused;      /* the snapshot paused the vCPUs: they run again after */
    gboolean frozen;      /* the guest's file systems are frozen (quiesce) */
    gboolean abort_asked; /* the next step fails */
    guint pending;        /* QMP replies a step waits for */
    GError *step_error;   /* the first failure among them */
    gboolean reuse;       /* the overlays exist: nothing to create */
    struct revert *rv;    /* a revert's */
};

struct snap_ext *snapshot_ext_new(void);
/* An overlay's nodes leave QEMU's block graph (format node first). */
void snapshot_ext_del_nodes(struct domain *dom, unsigned index);
/* The changed definitions are kept: the persistent one in the configuration, the live one in
 * the status (failures logged). */
void snapshot_ext_keep_definitions(struct domain *dom, struct domain_def *persistent,
                                   gboolean active);
