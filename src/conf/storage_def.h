/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage_def: libvirt storage pool and volume XML (directory pools, file volumes) ->
 * validated model -> XML; prefix storage_def_. Pure: no files touched, no daemon state. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "util/uuid.h"

/* Largest volume capacity accepted: 1 PiB. */
#define STORAGE_DEF_CAPACITY_MAX (1ULL << 50)

/* A <pool type='dir'>. */
struct pool_def {
    char *type; /* "dir" */
    char *name;
    uint8_t uuid[UUID_LEN]; /* generated when the XML has none */
    /* Live state: never read from XML (libvirt ignores them too); the caller fills them
     * before formatting an active pool. Formatted always, 0 when unknown, as libvirt does. */
    uint64_t capacity;
    uint64_t allocation;
    uint64_t available;
    char *target_path; /* absolute, without "." or ".." components or a trailing '/' */
    int target_mode;   /* permission bits (<= 0777); -1 when absent */
    int target_owner;  /* uid; -1 when absent */
    int target_group;  /* gid; -1 when absent */
};

/* A <volume type='file'> of a directory pool. */
struct vol_def {
    char *name; /* a file name in the pool: names_validate rules */
    /* Live state, never read from XML (libvirt replaces them on create); the caller fills
     * them before formatting. key: formatted when set; physical: when nonzero. */
    char *key;
    uint64_t physical;
    uint64_t capacity;   /* bytes, <= STORAGE_DEF_CAPACITY_MAX */
    uint64_t allocation; /* bytes; equals capacity when not given (libvirt's rule) */
    gboolean allocation_given;
    char *format;      /* "raw", "qcow2" or "iso" (set by parse; NULL formats as "raw") */
    char *target_path; /* absolute and normalized, or NULL (the pool decides the path) */
    int target_mode;   /* -1 when absent */
    int target_owner;  /* -1 when absent */
    int target_group;  /* -1 when absent */
    /* qcow2 only. */
    char *compat; /* "0.10" or "1.1"; NULL when absent ("1.1" when features given) */
    gboolean lazy_refcounts;
    uint64_t cluster_size; /* bytes; 0 when absent */
    char *backing_path;    /* absolute; NULL when there is no backing store */
    char *backing_format;  /* "raw", "qcow2" or "iso"; NULL when not given (to be probed) */
};

/* Parses pool XML. Accepted and ignored as runtime state: <capacity>, <allocation>,
 * <available>, <permissions><label>. Errors (origin ERR_FROM_STORAGE): ERR_XML_ERROR for
 * malformed XML or a missing required element, ERR_CONFIG_UNSUPPORTED naming an unknown
 * element, attribute or pool type, ERR_INVALID_ARG for a bad name or path. Returns a new
 * definition; caller frees. */
struct pool_def *storage_def_pool_parse(const char *xml, GError **error);

/* PATH with repeated and trailing '/' removed, as libvirt's virFileSanitizePath ("//x" keeps
 * its two slashes, as POSIX allows; "." and ".." stay). New string. */
char *storage_def_sanitize_path(const char *path);

/* The pool types libvirt 9.0 knows, in its order; only "dir" is built here. */
extern const char *const storage_def_pool_types[];

/* libvirt's storage pool capabilities (virConnectGetStoragePoolCapabilities): every pool
 * type libvirt 9.0 knows, 'dir' the one supported, with the volume formats Domus creates.
 * New string. */
char *storage_def_pool_caps_format(void);

/* Formats DEF as libvirt does (2-space indent, single quotes). Returns a new string. */
char *storage_def_pool_format(const struct pool_def *def);

void storage_def_pool_free(struct pool_def *def);

/* Parses volume XML. Accepted and ignored as runtime state: <key>, <physical>,
 * <timestamps>, <permissions><label>, the permissions and timestamps of <backingStore>.
 * Errors as for storage_def_pool_parse, plus ERR_OVERFLOW for a size above
 * STORAGE_DEF_CAPACITY_MAX and ERR_INVALID_ARG for allocation > capacity on a raw volume. */
struct vol_def *storage_def_vol_parse(const char *xml, GError **error);

/* Formats DEF as libvirt does. Returns a new string. */
char *storage_def_vol_format(const struct vol_def *def);

void storage_def_vol_free(struct vol_def *def);

/* Reads a size as libvirt and virsh do: VALUE is a decimal number, optionally followed by a
 * unit suffix (only when UNIT is NULL or empty: "10G", "512M", "1GiB"); UNIT or the suffix is
 * b/byte/bytes, or k m g t p e alone or with "iB" (powers of 1024) or with "B" (powers of
 * 1000), case-insensitively; none means bytes. The result must be at most
 * STORAGE_DEF_CAPACITY_MAX. Errors (origin ERR_FROM_STORAGE): ERR_INVALID_ARG for a
 * malformed number or unknown unit, ERR_OVERFLOW when too large. */
gboolean storage_def_parse_size(const char *value, const char *unit, uint64_t *ret, GError **error);

/* For g_autoptr only. */
typedef struct pool_def pool_def;
typedef struct vol_def vol_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(pool_def, storage_def_pool_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vol_def, storage_def_vol_free)
