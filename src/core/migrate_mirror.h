/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate_mirror: the disks a migration copies (--copy-storage-all / -inc), as QEMU mirror
 * jobs from the source's images into the destination's NBD exports; prefix mirror_set_. */
#pragma once

#include "core/core.h"

struct mirror_set;

/* The copies of DOM's disks TARGETS (char *; copied) into the NBD server at HOST:PORT (each
 * exported as migration_cookie_export_name): the whole image, or with SHALLOW its top alone.
 * TLS_ID: the credentials object (in QEMU already) of a --tls migration, or NULL, and
 * TLS_HOSTNAME the name in the server's certificate (NULL: HOST). SPEED: bytes/s, 0 for no
 * limit. */
struct mirror_set *mirror_set_new(struct domain *dom, const GPtrArray *targets, const char *host,
                                  guint port, const char *tls_id, const char *tls_hostname,
                                  gboolean shallow, guint64 speed);
void mirror_set_free(struct mirror_set *ms);

/* A step of JOB: the copies start, and the step ends once every one is in step with its
 * source (QEMU's mirrors are ready; writes from then on go to both), with progress meanwhile;
 * it fails naming the disk whose copy stopped. */
void mirror_set_start(struct mirror_set *ms, struct job *job);
/* A step of JOB, once the guest is stopped: each copy ends as a point-in-time image of its
 * disk, the NBD connections close. */
void mirror_set_complete(struct mirror_set *ms, struct job *job);
/* A failed migration: the copies stop where they are and the connections close, in the
 * background. */
void mirror_set_abandon(struct mirror_set *ms);
