/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_secret: secrets (core/secret.c): define, look up, list, values, undefine, and their
 * events. A value travels only in SECRET_SET_VALUE and SECRET_GET_VALUE and is wiped from
 * the buffers it passed through. */
#include <string.h>

#include "core/secret.h"
#include "daemon/dispatch.h"
#include "util/err.h"

#define SECRET_VALUE_MAX 65536
#define SECRET_LIST_MAX 16384
/* virConnectListAllSecretsFlags */
#define LIST_FLAGS 0xfu

/* remote_nonnull_secret */
static void
put_secret(GByteArray *b, const struct secret *s)
{
    xdr_put_opaque_fixed(b, s->def->uuid, UUID_LEN);
    xdr_put_i32(b, (int32_t)s->def->usage);
    xdr_put_string(b, s->def->usage_id ? s->def->usage_id : "");
}

static void
reply_secret(struct call *call, const struct secret *s)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_secret(b, s);
    call_reply(call, b);
}

/* A remote_nonnull_secret, then (SET_VALUE) the value */
struct secret_args {
    uint8_t uuid[UUID_LEN];
    int32_t usage;
    char *usage_id;
    guint8 *value;
    gsize value_len;
};

static void
dec_handle(struct xdr_reader *r, struct secret_args *a)
{
    xdr_get_opaque_fixed(r, a->uuid, UUID_LEN);
    a->usage = xdr_get_i32(r);
    a->usage_id = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_secret(struct xdr_reader *r, void *args)
{
    dec_handle(r, args);
}

static void
dec_set_value(struct xdr_reader *r, void *args)
{
    struct secret_args *a = args;
    dec_handle(r, a);
    a->value = xdr_get_opaque(r, SECRET_VALUE_MAX, &a->value_len);
}

static void
clear_secret(void *args)
{
    struct secret_args *a = args;
    g_free(a->usage_id);
    if (a->value)
        explicit_bzero(a->value, a->value_len);
    g_free(a->value);
}

static const struct args_type args_secret = {sizeof(struct secret_args), dec_secret, clear_secret};
static const struct args_type args_set_value = {sizeof(struct secret_args), dec_set_value,
                                                clear_secret};

static struct secret *
lookup(struct call *call, const struct secret_args *a)
{
    GError *error = NULL;
    struct secret *s = core_secret_lookup_uuid(dispatch_core(call), a->uuid, &error);
    if (!s)
        dispatch_fail(call, error);
    return s;
}

static void
h_define(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *xml = ctx->args;
    GError *error = NULL;
    struct secret *s = core_secret_define(dispatch_core(call), xml->s, &error);
    if (s)
        reply_secret(call, s);
    else
        dispatch_fail(call, error);
}

static void
h_lookup_uuid(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_uuid *u = ctx->args;
    GError *error = NULL;
    struct secret *s = core_secret_lookup_uuid(dispatch_core(call), u->uuid, &error);
    if (s)
        reply_secret(call, s);
    else
        dispatch_fail(call, error);
}

/* remote_secret_lookup_by_usage_args: usageType, usageID */
struct usage_args {
    int32_t usage;
    char *id;
};

static void
dec_usage(struct xdr_reader *r, void *args)
{
    struct usage_args *a = args;
    a->usage = xdr_get_i32(r);
    a->id = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_usage(void *args)
{
    g_free(((struct usage_args *)args)->id);
}

static const struct args_type args_usage = {sizeof(struct usage_args), dec_usage, clear_usage};

static void
h_lookup_usage(struct call *call, const struct call_ctx *ctx)
{
    const struct usage_args *a = ctx->args;
    GError *error = NULL;
    struct secret *s = core_secret_lookup_usage(dispatch_core(call), a->usage, a->id, &error);
    if (s)
        reply_secret(call, s);
    else
        dispatch_fail(call, error);
}

static void
h_get_xml(struct call *call, const struct call_ctx *ctx)
{
    struct secret *s = lookup(call, ctx->args);
    if (!s)
        return;
    g_autofree char *xml = secret_def_format(s->def);
    dispatch_reply_string(call, xml);
}

static void
h_set_value(struct call *call, const struct call_ctx *ctx)
{
    const struct secret_args *a = ctx->args;
    struct secret *s = lookup(call, a);
    GError *error = NULL;
    if (!s)
        return;
    if (core_secret_set_value(dispatch_core(call), s, a->value, a->value_len, &error))
        call_reply(call, NULL);
    else
        dispatch_fail(call, error);
}

static void
h_get_value(struct call *call, const struct call_ctx *ctx)
{
    struct secret *s = lookup(call, ctx->args);
    GError *error = NULL;
    gsize len = 0;
    if (!s)
        return;
    guint8 *value = core_secret_get_value(s, &len, &error);
    if (!value) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_opaque(b, value, len);
    explicit_bzero(value, len);
    g_free(value);
    call_reply(call, b);
    explicit_bzero(b->data, b->len);
}

static void
h_undefine(struct call *call, const struct call_ctx *ctx)
{
    struct secret *s = lookup(call, ctx->args);
    GError *error = NULL;
    if (!s)
        return;
    if (core_secret_undefine(dispatch_core(call), s, &error))
        call_reply(call, NULL);
    else
        dispatch_fail(call, error);
}

static void
h_num(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GPtrArray) all = core_secret_list(dispatch_core(call), 0);
    dispatch_reply_int(call, (int32_t)all->len);
}

static void
h_list_uuids(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    if (!dispatch_check_max(call, max->v, SECRET_LIST_MAX))
        return;
    g_autoptr(GPtrArray) all = core_secret_list(dispatch_core(call), 0);
    guint n = MIN(all->len, (guint)MAX(max->v, 0));
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++) {
        char uuid[UUID_STRING_LEN];
        xdr_put_string(b, uuid_format(((struct secret *)all->pdata[i])->def->uuid, uuid));
    }
    call_reply(call, b);
}

static void
h_list_all(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) all = core_secret_list(dispatch_core(call), ctx->flags);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, need->v ? all->len : 0);
    for (guint i = 0; need->v && i < all->len; i++)
        put_secret(b, all->pdata[i]);
    xdr_put_u32(b, all->len);
    call_reply(call, b);
}

#define R RPC_PROGRAM_REMOTE
#define N HANDLE_NONE
const struct proc_def secret_procs[] = {
    {R, PROC_CONNECT_NUM_OF_SECRETS, N, NULL, FALSE, 0, h_num},
    {R, PROC_CONNECT_LIST_SECRETS, N, &args_int, FALSE, 0, h_list_uuids},
    {R, PROC_CONNECT_LIST_ALL_SECRETS, N, &args_int, TRUE, LIST_FLAGS, h_list_all},
    {R, PROC_SECRET_LOOKUP_BY_UUID, N, &args_uuid, FALSE, 0, h_lookup_uuid},
    {R, PROC_SECRET_LOOKUP_BY_USAGE, N, &args_usage, FALSE, 0, h_lookup_usage},
    {R, PROC_SECRET_DEFINE_XML, N, &args_string, TRUE, 0, h_define},
    {R, PROC_SECRET_GET_XML_DESC, N, &args_secret, TRUE, 0, h_get_xml},
    {R, PROC_SECRET_SET_VALUE, N, &args_set_value, TRUE, 0, h_set_value},
    {R, PROC_SECRET_GET_VALUE, N, &args_secret, TRUE, 0, h_get_value},
    {R, PROC_SECRET_UNDEFINE, N, &args_secret, FALSE, 0, h_undefine},
};
#undef R
#undef N
const gsize secret_procs_count = G_N_ELEMENTS(secret_procs);
