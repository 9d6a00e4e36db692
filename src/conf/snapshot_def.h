/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_def: libvirt's domain snapshot XML (<domainsnapshot>): parse, validate, format;
 * prefix snapshot_def_. What a client gives at create time and what the daemon keeps as a
 * snapshot's metadata are one model; REDEFINE reads the fields only the daemon sets. */
#pragma once

#include <glib.h>

#include "conf/domain_def.h"

/* Where a snapshot keeps memory or a disk (libvirt's virDomainSnapshotLocation) */
enum snapshot_location {
    SNAPSHOT_LOC_DEFAULT, /* not given: the daemon picks */
    SNAPSHOT_LOC_NO,
    SNAPSHOT_LOC_INTERNAL,
    SNAPSHOT_LOC_EXTERNAL,
    SNAPSHOT_LOC_MANUAL,
    SNAPSHOT_LOC_LAST
};

/* The domain's state when the snapshot was taken (virDomainSnapshotState) */
enum snapshot_state {
    SNAPSHOT_STATE_NOSTATE,
    SNAPSHOT_STATE_RUNNING,
    SNAPSHOT_STATE_BLOCKED,
    SNAPSHOT_STATE_PAUSED,
    SNAPSHOT_STATE_SHUTDOWN,
    SNAPSHOT_STATE_SHUTOFF,
    SNAPSHOT_STATE_CRASHED,
    SNAPSHOT_STATE_PMSUSPENDED,
    SNAPSHOT_STATE_DISK_SNAPSHOT,
    SNAPSHOT_STATE_LAST
};

struct snapshot_disk {
    char *name; /* the disk's target ("vda") */
    enum snapshot_location snapshot;
    char *file; /* external: the new overlay */
};

struct snapshot_def {
    char *name; /* NULL at create time: the daemon names it (its creation time) */
    char *description;
    char *parent;         /* the parent snapshot's name; NULL for a root */
    gint64 creation_time; /* seconds since the epoch */
    enum snapshot_state state;
    enum snapshot_location memory;
    char *memory_file; /* external memory */
    GPtrArray *disks;  /* struct snapshot_disk * */
    /* external, with children: the overlays a revert to it put on its images (where the
     * domain ran on since); NULL or empty when none (libvirt's <revertDisks>) */
    GPtrArray *revert_disks;
    struct domain_def *dom; /* the domain's definition at that moment; may be NULL */
};

enum {
    /* read what only the daemon writes: state, parent, creationTime, the domain */
    SNAPSHOT_DEF_PARSE_REDEFINE = 1 << 0,
};

enum {
    SNAPSHOT_DEF_FORMAT_SECURE = 1 << 0, /* the embedded domain with its secrets */
};

/* Parses XML. Unknown elements are ERR_CONFIG_UNSUPPORTED naming them; a name with '/' or a
 * newline ERR_XML_DETAIL; a bad value ERR_XML_ERROR. Origin ERR_FROM_DOMAIN_SNAPSHOT. */
struct snapshot_def *snapshot_def_parse(const char *xml, unsigned flags, GError **error);
char *snapshot_def_format(const struct snapshot_def *def, unsigned flags);
void snapshot_def_free(struct snapshot_def *def);
typedef struct snapshot_def snapshot_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(snapshot_def, snapshot_def_free)

void snapshot_disk_free(struct snapshot_disk *disk);

/* The disk entry for TARGET, or NULL. */
struct snapshot_disk *snapshot_def_disk(const struct snapshot_def *def, const char *target);
/* The same in a list of struct snapshot_disk * (DISKS may be NULL). */
struct snapshot_disk *snapshot_def_disk_in(const GPtrArray *disks, const char *target);

const char *snapshot_location_to_string(enum snapshot_location loc);
const char *snapshot_state_to_string(enum snapshot_state state);
