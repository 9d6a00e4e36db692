/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migration_cookie: what the two hosts of a migration tell each other through the client's
 * hands (the cookies of libvirt's v3 protocol): who they are, the disks the source expects the
 * destination to share, and the figures of a finished migration; prefix migration_cookie_.
 * A cookie arrives from a client: it is parsed as hostile input. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "util/uuid.h"

/* How the source sees one disk image it expects to find on the destination (shared storage):
 * the destination compares what it sees at PATH. */
struct migration_cookie_disk {
    char *target; /* "vda" */
    char *path;
    guint64 dev, ino;   /* stat() of PATH on the source */
    guint64 size;       /* its size in bytes */
    gboolean shared_fs; /* on a network or cluster filesystem the hosts may share */
    /* what the destination needs to make an image to copy it into (0 / NULL: unknown) */
    guint64 capacity; /* the virtual size */
    char *format;     /* "raw", "qcow2" */
    char *backing;    /* the image below it (a copy of the top image alone sits on it) */
};

struct migration_cookie {
    char *name;
    uint8_t uuid[UUID_LEN];
    gboolean has_uuid;
    char *hostname;
    char *host_uuid;
    GPtrArray *disks; /* struct migration_cookie_disk * */
    /* the destination's NBD server for disks copied during the migration (port 0: none), and
     * the targets it exports, each as "domus-TARGET" */
    char *nbd_host;
    guint nbd_port;
    GPtrArray *nbd_exports; /* char * */
    /* a finished migration, as the source's QEMU counted it */
    gboolean has_stats;
    guint64 downtime_ms, total_ms, setup_ms, transferred;
};

struct migration_cookie *migration_cookie_new(void);
void migration_cookie_free(struct migration_cookie *c);
typedef struct migration_cookie migration_cookie;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(migration_cookie, migration_cookie_free)

/* Returns the new entry (owned by C) for the optional fields. */
struct migration_cookie_disk *migration_cookie_add_disk(struct migration_cookie *c,
                                                        const char *target, const char *path,
                                                        guint64 dev, guint64 ino, guint64 size,
                                                        gboolean shared_fs);
/* The disk entry for TARGET, or NULL. */
const struct migration_cookie_disk *migration_cookie_disk(const struct migration_cookie *c,
                                                          const char *target);
/* The NBD export name of the disk TARGET. New string. */
char *migration_cookie_export_name(const char *target);

/* Returns a new string. */
char *migration_cookie_format(const struct migration_cookie *c);
/* Parses DATA (LEN bytes, maybe not NUL-terminated; LEN 0: an empty cookie, all unset).
 * Errors: ERR_XML_ERROR (origin ERR_FROM_QEMU) naming what is wrong. */
struct migration_cookie *migration_cookie_parse(const char *data, gsize len, GError **error);
