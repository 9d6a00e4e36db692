/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secret: libdomus's secrets over libvirt's secret procedures. Values are wiped from the
 * buffers they pass through here. */
#include <string.h>

#include "lib/client_priv.h"
#include "util/err.h"
#include "util/uuid.h"

#define SECRET_LIST_MAX 16384
#define SECRET_VALUE_MAX 65536

struct domus_secret {
    domus_conn *conn;
    uint8_t uuid[UUID_LEN];
    char uuid_str[UUID_STRING_LEN];
    int usage;
    char *usage_id;
};

/* remote_nonnull_secret: uuid, usage type, usage id */
static domus_secret *
secret_from_reader(domus_conn *conn, struct xdr_reader *r)
{
    domus_secret *s = g_new0(domus_secret, 1);
    s->conn = conn;
    xdr_get_opaque_fixed(r, s->uuid, UUID_LEN);
    s->usage = xdr_get_i32(r);
    s->usage_id = xdr_get_string(r, RPC_STRING_MAX);
    uuid_format(s->uuid, s->uuid_str);
    if (r->failed) {
        domus_secret_free(s);
        return NULL;
    }
    return s;
}

static GByteArray *
secret_args(const domus_secret *s)
{
    GByteArray *b = g_byte_array_new();
    xdr_put_opaque_fixed(b, s->uuid, UUID_LEN);
    xdr_put_i32(b, s->usage);
    xdr_put_string(b, s->usage_id ? s->usage_id : "");
    return b;
}

int
domus_secret_event_register(domus_conn *conn, domus_secret *secret, int event_id, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, event_id);
    xdr_put_u32(args, secret ? 1 : 0);
    if (secret) {
        g_autoptr(GByteArray) s = secret_args(secret);
        g_byte_array_append(args, s->data, s->len);
    }
    return client_reply_int(conn, PROC_CONNECT_SECRET_EVENT_REGISTER_ANY, args, error);
}

static domus_secret *
reply_secret(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    domus_secret *s = secret_from_reader(conn, &r);
    if (!xdr_reader_finish(&r, error)) {
        domus_secret_free(s);
        return NULL;
    }
    return s;
}

void
domus_secret_free(domus_secret *s)
{
    if (!s)
        return;
    g_free(s->usage_id);
    g_free(s);
}

const char *
domus_secret_get_uuid(const domus_secret *s)
{
    return s->uuid_str;
}

int
domus_secret_get_usage(const domus_secret *s)
{
    return s->usage;
}

const char *
domus_secret_get_usage_id(const domus_secret *s)
{
    return s->usage_id;
}

domus_secret *
domus_secret_lookup(domus_conn *conn, const char *uuid, GError **error)
{
    uint8_t u[UUID_LEN];
    if (!uuid_parse(uuid, u)) {
        /* libvirt's client says it so */
        g_set_error(error, domus_error_quark(), ERR_INVALID_ARG,
                    "uuidstr in virSecretLookupByUUIDString must be a valid UUID");
        return NULL;
    }
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_opaque_fixed(args, u, UUID_LEN);
    return reply_secret(conn, PROC_SECRET_LOOKUP_BY_UUID, args, error);
}

domus_secret *
domus_secret_define(domus_conn *conn, const char *xml, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    xdr_put_u32(args, 0);
    return reply_secret(conn, PROC_SECRET_DEFINE_XML, args, error);
}

char *
domus_secret_get_xml(domus_secret *s, GError **error)
{
    g_autoptr(GByteArray) args = secret_args(s);
    xdr_put_u32(args, 0);
    return client_reply_string(s->conn, PROC_SECRET_GET_XML_DESC, args, error);
}

gboolean
domus_secret_set_value(domus_secret *s, const guint8 *value, gsize len, GError **error)
{
    g_autoptr(GByteArray) args = secret_args(s);
    xdr_put_opaque(args, value, len);
    xdr_put_u32(args, 0);
    gboolean ok = client_call(s->conn, PROC_SECRET_SET_VALUE, args, NULL, error);
    explicit_bzero(args->data, args->len);
    return ok;
}

guint8 *
domus_secret_get_value(domus_secret *s, gsize *ret_len, GError **error)
{
    g_autoptr(GByteArray) args = secret_args(s);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(s->conn, PROC_SECRET_GET_VALUE, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    gsize len = 0;
    guint8 *value = xdr_get_opaque(&r, SECRET_VALUE_MAX, &len);
    explicit_bzero(body->data, body->len);
    if (!xdr_reader_finish(&r, error)) {
        if (value)
            explicit_bzero(value, len);
        g_free(value);
        return NULL;
    }
    *ret_len = len;
    return value ? value : g_malloc0(1);
}

gboolean
domus_secret_undefine(domus_secret *s, GError **error)
{
    g_autoptr(GByteArray) args = secret_args(s);
    return client_call(s->conn, PROC_SECRET_UNDEFINE, args, NULL, error);
}

domus_secret **
domus_list_secrets(domus_conn *conn, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_LIST_ALL_SECRETS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, SECRET_LIST_MAX, 24);
    domus_secret **out = g_new0(domus_secret *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        out[i] = secret_from_reader(conn, &r);
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        for (uint32_t i = 0; i < n; i++)
            domus_secret_free(out[i]);
        g_free(out);
        return NULL;
    }
    return out;
}
