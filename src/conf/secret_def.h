/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secret_def: libvirt's <secret> document (a passphrase, key or password kept by the daemon
 * for disk encryption and network storage), parsed and formatted; prefix secret_def_. The
 * value itself is never part of it. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "util/uuid.h"

/* virSecretUsageType */
enum secret_usage {
    SECRET_USAGE_NONE,
    SECRET_USAGE_VOLUME,
    SECRET_USAGE_CEPH,
    SECRET_USAGE_ISCSI,
    SECRET_USAGE_TLS,
    SECRET_USAGE_VTPM,
};

struct secret_def {
    uint8_t uuid[UUID_LEN];
    gboolean ephemeral; /* kept in memory only */
    gboolean private_;  /* its value is not given back to clients */
    char *description;
    enum secret_usage usage;
    char *usage_id; /* the volume path, ceph/tls/vtpm name or iSCSI target; NULL for none */
};

/* Reads XML (a missing uuid is generated). Errors (origin ERR_FROM_SECRET): ERR_XML_ERROR,
 * ERR_CONFIG_UNSUPPORTED for what is not understood. Returns a new definition. */
struct secret_def *secret_def_parse(const char *xml, GError **error);
char *secret_def_format(const struct secret_def *def);
void secret_def_free(struct secret_def *def);
typedef struct secret_def secret_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(secret_def, secret_def_free)
const char *secret_usage_name(enum secret_usage usage);
