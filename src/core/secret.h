/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secret: the daemon's secrets (conf/secret_def.h) and their values, kept under the secret
 * directory (UUID.xml and UUID.base64, 0600, written durably) unless ephemeral; prefix
 * core_secret_. A value is never logged, never in an error message, and wiped from memory
 * when replaced or dropped. */
#pragma once

#include "conf/secret_def.h"
#include "core/core.h"

struct secret {
    struct secret_def *def;
    guint8 *value; /* NULL: none set */
    gsize value_len;
};

gboolean core_secret_init(struct core *core, GError **error);
void core_secret_free(struct core *core);
/* virSecretDefineXML: a new secret, or a new definition of the one with its uuid (its usage
 * and flags unchanged). Errors: as secret_def_parse; ERR_INTERNAL_ERROR for a usage another
 * secret has (libvirt's code); ERR_OPERATION_INVALID for a changed usage or flag. */
struct secret *core_secret_define(struct core *core, const char *xml, GError **error);
gboolean core_secret_undefine(struct core *core, struct secret *s, GError **error);
/* ERR_NO_SECRET when there is none */
struct secret *core_secret_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error);
struct secret *core_secret_lookup_usage(struct core *core, int usage, const char *id,
                                        GError **error);
/* Secrets matching FLAGS (virConnectListAllSecretsFlags), by uuid: an array (not owning). */
GPtrArray *core_secret_list(struct core *core, unsigned flags);
gboolean core_secret_set_value(struct core *core, struct secret *s, const guint8 *value, gsize len,
                               GError **error);
/* The value (a copy the caller wipes and frees) or NULL: ERR_INVALID_SECRET when private,
 * ERR_NO_SECRET when none is set. */
guint8 *core_secret_get_value(struct secret *s, gsize *ret_len, GError **error);
