/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate: a domain moving between two daemons, driven from here as libvirt's library drives
 * virDomainMigrate3 (the v3 protocol with parameters: Begin and Perform and Confirm on the
 * source, Prepare and Finish on the destination, the cookies passed along), and a domain's
 * migration settings. */
#include <string.h>

#include "lib/client_priv.h"
#include "lib/migrate.h"
#include "util/err.h"

#define MIGRATE_PARAMS_MAX 64
#define MIGRATE_COOKIE_MAX 4194304

enum { TP_INT = 1, TP_ULLONG = 4, TP_STRING = 7 };

static const struct {
    const char *name;
    int type;
    gboolean repeated;
} known[] = {
    {"migrate_uri", TP_STRING, FALSE},
    {"destination_name", TP_STRING, FALSE},
    {"destination_xml", TP_STRING, FALSE},
    {"persistent_xml", TP_STRING, FALSE},
    {"bandwidth", TP_ULLONG, FALSE},
    {"graphics_uri", TP_STRING, FALSE},
    {"listen_address", TP_STRING, FALSE},
    {"migrate_disks", TP_STRING, TRUE},
    {"disks_port", TP_INT, FALSE},
    {"disks_uri", TP_STRING, FALSE},
    {"compression", TP_STRING, TRUE},
    {"compression.mt.level", TP_INT, FALSE},
    {"compression.mt.threads", TP_INT, FALSE},
    {"compression.mt.dthreads", TP_INT, FALSE},
    {"compression.xbzrle.cache", TP_ULLONG, FALSE},
    {"auto_converge.initial", TP_INT, FALSE},
    {"auto_converge.increment", TP_INT, FALSE},
    {"bandwidth.postcopy", TP_ULLONG, FALSE},
    {"parallel.connections", TP_INT, FALSE},
    {"tls.destination", TP_STRING, FALSE},
};

static int
param_type(const char *field)
{
    for (gsize i = 0; i < G_N_ELEMENTS(known); i++)
        if (g_str_equal(known[i].name, field))
            return known[i].type;
    return 0;
}

/* The parameters as pairs that can be replaced (Prepare's definition, its URI). */
struct params {
    GPtrArray *pairs; /* field, value, field, value, … (owned strings) */
};

static void
params_set(struct params *p, const char *field, const char *value)
{
    for (guint i = 0; i < p->pairs->len; i += 2) {
        if (g_str_equal(p->pairs->pdata[i], field)) {
            g_free(p->pairs->pdata[i + 1]);
            p->pairs->pdata[i + 1] = g_strdup(value);
            return;
        }
    }
    g_ptr_array_add(p->pairs, g_strdup(field));
    g_ptr_array_add(p->pairs, g_strdup(value));
}

static const char *
params_get(const struct params *p, const char *field)
{
    for (guint i = 0; i < p->pairs->len; i += 2)
        if (g_str_equal(p->pairs->pdata[i], field))
            return p->pairs->pdata[i + 1];
    return NULL;
}

static gboolean
params_load(struct params *p, const char *const *given, GError **error)
{
    p->pairs = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; given && given[i]; i += 2) {
        const char *field = given[i], *value = given[i + 1];
        if (!value || !param_type(field)) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "unknown migration parameter '%s'",
                    field);
            return FALSE;
        }
        g_ptr_array_add(p->pairs, g_strdup(field));
        g_ptr_array_add(p->pairs, g_strdup(value));
    }
    if (p->pairs->len / 2 > MIGRATE_PARAMS_MAX) {
        err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "more than %d migration parameters",
                MIGRATE_PARAMS_MAX);
        return FALSE;
    }
    return TRUE;
}

static void
params_clear(struct params *p)
{
    if (p->pairs)
        g_ptr_array_unref(p->pairs);
    p->pairs = NULL;
}

static gboolean
params_put(GByteArray *b, const struct params *p, GError **error)
{
    xdr_put_u32(b, p->pairs->len / 2);
    for (guint i = 0; i < p->pairs->len; i += 2) {
        const char *field = p->pairs->pdata[i], *value = p->pairs->pdata[i + 1];
        int type = param_type(field);
        xdr_put_string(b, field);
        xdr_put_i32(b, type);
        if (type == TP_STRING) {
            xdr_put_string(b, value);
            continue;
        }
        guint64 u = 0;
        gint64 v = 0;
        gboolean ok = type == TP_INT
                          ? g_ascii_string_to_signed(value, 10, G_MININT32, G_MAXINT32, &v, NULL)
                          : g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &u, NULL);
        if (!ok) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG,
                    "invalid value '%s' for migration parameter '%s'", value, field);
            return FALSE;
        }
        if (type == TP_INT)
            xdr_put_i32(b, (int32_t)v);
        else
            xdr_put_u64(b, u);
    }
    return TRUE;
}

struct cookie {
    uint8_t *data;
    gsize len;
};

static void
cookie_take(struct cookie *c, struct xdr_reader *r)
{
    g_free(c->data);
    c->data = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &c->len);
}

/* Begin on the source: the definition for the destination; *COOKIE gets Begin's. */
static char *
begin(domus_domain *dom, const struct params *p, unsigned flags, struct cookie *cookie,
      GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (!params_put(args, p, error))
        return NULL;
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_BEGIN3_PARAMS, args, &body,
                     error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    cookie_take(cookie, &r);
    g_autofree char *xml = xdr_get_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&xml);
}

/* Prepare on the destination: the URI it answered (new, may be NULL). */
static gboolean
prepare(domus_conn *dconn, const struct params *p, unsigned flags, struct cookie *cookie,
        char **ret_uri, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    if (!params_put(args, p, error))
        return FALSE;
    xdr_put_opaque(args, cookie->data, cookie->len);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dconn, PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    cookie_take(cookie, &r);
    g_autofree char *uri = xdr_get_opt_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret_uri = g_steal_pointer(&uri);
    return TRUE;
}

static gboolean
perform(domus_domain *dom, const struct params *p, unsigned flags, struct cookie *cookie,
        GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, NULL); /* dconnuri: not peer-to-peer */
    if (!params_put(args, p, error))
        return FALSE;
    xdr_put_opaque(args, cookie->data, cookie->len);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_PERFORM3_PARAMS, args,
                     &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    cookie_take(cookie, &r);
    return xdr_reader_finish(&r, error);
}

static domus_domain *
finish(domus_conn *dconn, const struct params *p, unsigned flags, gboolean cancelled,
       struct cookie *cookie, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    if (!params_put(args, p, error))
        return NULL;
    xdr_put_opaque(args, cookie->data, cookie->len);
    xdr_put_u32(args, flags);
    xdr_put_i32(args, cancelled);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dconn, PROC_DOMAIN_MIGRATE_FINISH3_PARAMS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    domus_domain *ddom = client_domain_from_reader(dconn, &r);
    cookie_take(cookie, &r);
    if (!xdr_reader_finish(&r, error)) {
        domus_domain_free(ddom);
        return NULL;
    }
    return ddom;
}

static gboolean
confirm(domus_domain *dom, const struct params *p, unsigned flags, gboolean cancelled,
        const struct cookie *cookie, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (!params_put(args, p, error))
        return FALSE;
    xdr_put_opaque(args, cookie->data, cookie->len);
    xdr_put_u32(args, flags);
    xdr_put_i32(args, cancelled);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_CONFIRM3_PARAMS, args,
                       NULL, error);
}

enum {
    MIGRATE_PAUSED = 1 << 5,
    MIGRATE_OFFLINE = 1 << 10,
    MIGRATE_ABORT_ON_ERROR = 1 << 12,
    MIGRATE_AUTO_CONVERGE = 1 << 13,
    MIGRATE_PEER2PEER = 1 << 1,
    MIGRATE_TUNNELLED = 1 << 2,
};

domus_domain *
domus_domain_migrate(domus_domain *dom, domus_conn *dconn, const char *const *given, unsigned flags,
                     GError **error)
{
    if (flags & (MIGRATE_PEER2PEER | MIGRATE_TUNNELLED)) {
        /* libvirt's words for virDomainMigrate3 */
        err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "%s",
                flags & MIGRATE_PEER2PEER ? "use domus_domain_migrate_to_uri for peer-to-peer "
                                            "migration"
                                          : "cannot perform tunnelled migration without using "
                                            "peer2peer flag");
        return NULL;
    }
    struct params p = {0};
    struct cookie cookie = {0};
    domus_domain *ddom = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *uri = NULL;
    GError *first = NULL; /* the error the caller sees: the first phase's that failed */
    if (!params_load(&p, given, error))
        goto out;
    xml = begin(dom, &p, flags, &cookie, error);
    if (!xml)
        goto out;
    /* a paused guest stays paused on the destination */
    int state = 0;
    int reason = 0;
    if (domus_domain_get_state(dom, &state, &reason, NULL) && state == 3)
        flags |= MIGRATE_PAUSED;
    unsigned dflags = flags & ~(unsigned)(MIGRATE_ABORT_ON_ERROR | MIGRATE_AUTO_CONVERGE);
    params_set(&p, "destination_xml", xml);
    if (!prepare(dconn, &p, dflags, &cookie, &uri, error))
        goto out;
    if (uri)
        params_set(&p, "migrate_uri", uri);
    gboolean cancelled = FALSE;
    gboolean notify_source = TRUE;
    if (!(flags & MIGRATE_OFFLINE) && !perform(dom, &p, flags, &cookie, &first)) {
        /* the source gave up and resumed the guest itself: only the destination hears */
        cancelled = TRUE;
        notify_source = FALSE;
        g_clear_pointer(&cookie.data, g_free);
        cookie.len = 0;
    }
    if (!params_get(&p, "destination_name"))
        params_set(&p, "destination_name", domus_domain_get_name(dom));
    ddom = finish(dconn, &p, dflags, cancelled, &cookie, first ? NULL : &first);
    if (cancelled && ddom) {
        domus_domain_free(ddom);
        ddom = NULL;
    }
    if (notify_source) {
        GError *e = NULL;
        if (!confirm(dom, &p, flags, ddom == NULL, &cookie, first ? NULL : &e))
            first = first ? first : e;
    }
    if (!ddom && first)
        g_propagate_error(error, g_steal_pointer(&first));
    else if (!ddom)
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "%s",
                "the destination did not take the domain over");
    g_clear_error(&first);
out:
    params_clear(&p);
    g_free(cookie.data);
    return ddom;
}

gboolean
domus_domain_migrate_to_uri(domus_domain *dom, const char *dconnuri, const char *const *given,
                            unsigned flags, GError **error)
{
    if (!(flags & MIGRATE_PEER2PEER)) {
        /* as libvirt's library says it of a QEMU source */
        err_set(error, ERR_FROM_NONE, ERR_ARGUMENT_UNSUPPORTED, "%s",
                "direct migration is not supported by the source host");
        return FALSE;
    }
    struct params p = {0};
    gboolean ok = params_load(&p, given, error);
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, dconnuri);
    ok = ok && params_put(args, &p, error);
    params_clear(&p);
    if (!ok)
        return FALSE;
    xdr_put_opaque(args, NULL, 0);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_PERFORM3_PARAMS, args,
                       NULL, error);
}

gboolean
domus_domain_migrate_start_postcopy(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_START_POST_COPY, args,
                       NULL, error);
}

gboolean
domus_domain_migrate_set_max_downtime(domus_domain *dom, guint64 ms, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u64(args, ms);
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_SET_MAX_DOWNTIME, args,
                       NULL, error);
}

gboolean
domus_domain_migrate_set_max_speed(domus_domain *dom, guint64 mib_per_s, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u64(args, mib_per_s);
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_SET_MAX_SPEED, args, NULL,
                       error);
}

static gboolean
get_u64(domus_domain *dom, uint32_t proc, guint64 *ret, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_reply_u64(domus_domain_get_connect(dom), proc, args, ret, error);
}

gboolean
domus_domain_migrate_get_max_downtime(domus_domain *dom, guint64 *ret_ms, GError **error)
{
    return get_u64(dom, PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME, ret_ms, error);
}

gboolean
domus_domain_migrate_get_max_speed(domus_domain *dom, guint64 *ret_mib_per_s, GError **error)
{
    return get_u64(dom, PROC_DOMAIN_MIGRATE_GET_MAX_SPEED, ret_mib_per_s, error);
}

gboolean
domus_domain_migrate_set_compression_cache(domus_domain *dom, guint64 bytes, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u64(args, bytes);
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MIGRATE_SET_COMPRESSION_CACHE,
                       args, NULL, error);
}

gboolean
domus_domain_migrate_get_compression_cache(domus_domain *dom, guint64 *ret_bytes, GError **error)
{
    return get_u64(dom, PROC_DOMAIN_MIGRATE_GET_COMPRESSION_CACHE, ret_bytes, error);
}

/* --- the phases a source daemon drives itself (peer-to-peer) --- */

static gboolean
pairs_load(struct params *p, const char *const *pairs, GError **error)
{
    return params_load(p, pairs, error);
}

gboolean
client_migrate_prepare(domus_conn *dconn, const char *const *pairs, unsigned flags,
                       const uint8_t *cookie, gsize cookie_len, char **ret_uri,
                       uint8_t **ret_cookie, gsize *ret_cookie_len, GError **error)
{
    struct params p = {0};
    struct cookie c = {.data = g_memdup2(cookie, cookie_len), .len = cookie_len};
    char *uri = NULL;
    gboolean ok = pairs_load(&p, pairs, error) && prepare(dconn, &p, flags, &c, &uri, error);
    params_clear(&p);
    if (!ok) {
        g_free(c.data);
        return FALSE;
    }
    *ret_uri = uri;
    *ret_cookie = c.data;
    *ret_cookie_len = c.len;
    return TRUE;
}

domus_domain *
client_migrate_finish(domus_conn *dconn, const char *const *pairs, unsigned flags,
                      gboolean cancelled, const uint8_t *cookie, gsize cookie_len, GError **error)
{
    struct params p = {0};
    struct cookie c = {.data = g_memdup2(cookie, cookie_len), .len = cookie_len};
    domus_domain *dom = NULL;
    if (pairs_load(&p, pairs, error))
        dom = finish(dconn, &p, flags, cancelled, &c, error);
    params_clear(&p);
    g_free(c.data);
    return dom;
}

gboolean
client_migrate_prepare_tunnel(domus_conn *dconn, const char *const *pairs, unsigned flags,
                              const uint8_t *cookie, gsize cookie_len, uint8_t **ret_cookie,
                              gsize *ret_cookie_len, domus_stream **ret_stream, GError **error)
{
    struct params p = {0};
    g_autoptr(GByteArray) args = g_byte_array_new();
    gboolean ok = pairs_load(&p, pairs, error) && params_put(args, &p, error);
    params_clear(&p);
    if (!ok)
        return FALSE;
    xdr_put_opaque(args, cookie, cookie_len);
    xdr_put_u32(args, flags);
    uint32_t serial = dconn->s.next_serial;
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dconn, PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    gsize len = 0;
    uint8_t *out = xdr_get_opaque(&r, MIGRATE_COOKIE_MAX, &len);
    if (!xdr_reader_finish(&r, error)) {
        g_free(out);
        return FALSE;
    }
    *ret_cookie = out;
    *ret_cookie_len = len;
    *ret_stream = client_stream_new(dconn, PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS, serial);
    return TRUE;
}

gboolean
client_migrate_watch(domus_conn *dconn, int wake_fd, GError **error)
{
    for (;;) {
        struct rpc_header rh;
        g_autoptr(GByteArray) body = NULL;
        int got = client_next_message(dconn, &rh, &body, -1, wake_fd, error);
        if (got < 0)
            return FALSE;
        if (got == 2)
            return TRUE;
    }
}
