/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client: libdomus's calls over a blocking connection (made by connect.c). One call at a time
 * per connection; messages that are not the awaited reply (events, keepalive) are skipped or
 * answered. */
#include "lib/client_priv.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/protocol.h"
#include "util/err.h"
#include "util/uuid.h"

struct domus_domain {
    domus_conn *conn;
    char *name;
    uint8_t uuid[UUID_LEN];
    char uuid_str[UUID_STRING_LEN];
    int id;
};

GQuark
domus_error_quark(void)
{
    return DOMUS_ERROR;
}

/* How long a keepalive connection waits between looks at its clock (ms). */
#define KEEPALIVE_TICK_MS 250

/* CONN is lost: ERROR is set, and every later call fails with the same. */
static gboolean
conn_lost(domus_conn *conn, GError **error)
{
    g_propagate_error(error, g_error_copy(conn->lost));
    return FALSE;
}

/* The keepalive clock of CONN: a ping when the daemon has been silent for the interval, the
 * connection lost when COUNT pings went unanswered. */
static gboolean
keepalive_tick(domus_conn *conn, GError **error)
{
    switch (rpc_keepalive_check(&conn->s.ka)) {
    case RPC_KEEPALIVE_SEND_PING:
        rpc_session_send_ping(&conn->s);
        return TRUE;
    case RPC_KEEPALIVE_DEAD:
        err_set(&conn->lost, ERR_FROM_RPC, ERR_RPC,
                "the connection to '%s' is lost: no keepalive answer for %d s", conn->uri,
                conn->s.ka.interval_s * (conn->s.ka.count + 1));
        return conn_lost(conn, error);
    default:
        return TRUE;
    }
}

/* Writes everything queued on the session, waiting for the socket as needed. With keepalive
 * on, a socket that takes nothing for as long as the daemon may stay silent means the link
 * is gone. */
static gboolean
conn_flush(domus_conn *conn, GError **error)
{
    if (conn->lost)
        return conn_lost(conn, error);
    const struct rpc_keepalive *ka = &conn->s.ka;
    gint64 stalled = g_get_monotonic_time();
    while (rpc_session_out_pending(&conn->s)) {
        gsize before = conn->s.out_bytes;
        if (!rpc_session_flush(&conn->s)) {
            err_set_errno(error, ERR_FROM_RPC, errno, "cannot send to the daemon");
            return FALSE;
        }
        if (!rpc_session_out_pending(&conn->s))
            break;
        gint64 now = g_get_monotonic_time();
        if (conn->s.out_bytes != before)
            stalled = now;
        else if (ka->interval_s > 0 &&
                 now - stalled > (gint64)ka->interval_s * (ka->count + 1) * G_USEC_PER_SEC) {
            err_set(&conn->lost, ERR_FROM_RPC, ERR_RPC,
                    "the connection to '%s' is lost: nothing could be sent for %d s", conn->uri,
                    ka->interval_s * (ka->count + 1));
            return conn_lost(conn, error);
        }
        struct pollfd p = {.fd = conn->fd, .events = POLLOUT};
        if (poll(&p, 1, ka->interval_s > 0 ? KEEPALIVE_TICK_MS : -1) < 0 && errno != EINTR) {
            err_set_errno(error, ERR_FROM_RPC, errno, "cannot send to the daemon");
            return FALSE;
        }
    }
    return TRUE;
}

int
client_next_message(domus_conn *conn, struct rpc_header *ret_hdr, GByteArray **ret_body,
                    int timeout_ms, int wake_fd, GError **error)
{
    if (conn->lost) {
        conn_lost(conn, error);
        return -1;
    }
    gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gboolean looked = FALSE; /* a zero timeout still looks at the socket once */
    for (;;) {
        struct rpc_frame f;
        GError *ferr = NULL;
        if (rpc_session_next_frame(&conn->s, &f, &ferr)) {
            rpc_keepalive_heard(&conn->s.ka);
            gboolean keepalive = rpc_session_keepalive_frame(&conn->s, &f);
            if (!keepalive) {
                *ret_hdr = f.hdr;
                *ret_body = g_byte_array_sized_new((guint)f.len);
                g_byte_array_append(*ret_body, f.body, (guint)f.len);
            }
            rpc_session_consume(&conn->s, &f);
            rpc_session_in_shrink(&conn->s);
            if (!keepalive)
                return 1;
            if (!conn_flush(conn, error))
                return -1;
            continue;
        }
        if (ferr) {
            err_set(error, ERR_FROM_RPC, ERR_RPC, "the daemon sent a bad frame: %s", ferr->message);
            g_error_free(ferr);
            return -1;
        }
        if (!keepalive_tick(conn, error) || !conn_flush(conn, error))
            return -1;
        int wait = -1;
        if (deadline >= 0) {
            gint64 left = deadline - g_get_monotonic_time();
            if (left <= 0 && looked)
                return 0;
            wait = left > 0 ? (int)((left + 999) / 1000) : 0;
        }
        if (conn->s.ka.interval_s > 0 && (wait < 0 || wait > KEEPALIVE_TICK_MS))
            wait = KEEPALIVE_TICK_MS;
        looked = TRUE;
        struct pollfd p[2] = {{.fd = conn->fd, .events = POLLIN},
                              {.fd = wake_fd, .events = POLLIN}};
        /* TLS may hold decrypted input the socket no longer shows */
        int n = rpc_session_in_buffered(&conn->s) ? 1 : poll(p, wake_fd >= 0 ? 2 : 1, wait);
        if (n < 0 && errno != EINTR) {
            err_set_errno(error, ERR_FROM_RPC, errno, "cannot wait for the daemon");
            return -1;
        }
        if (n > 0 && wake_fd >= 0 && p[1].revents)
            return 2;
        if (n <= 0 || !(p[0].revents || rpc_session_in_buffered(&conn->s)))
            continue;
        gboolean eof;
        gssize r = rpc_session_recv(&conn->s, RPC_MESSAGE_MAX + 4, &eof);
        if (eof) {
            err_set(error, ERR_FROM_RPC, ERR_RPC, "the daemon closed the connection");
            return -1;
        }
        if (r < 0 && errno != EAGAIN && errno != EINTR) {
            err_set_errno(error, ERR_FROM_RPC, errno, "cannot read from the daemon");
            return -1;
        }
    }
}

static int
next_message(domus_conn *conn, struct rpc_header *ret_hdr, GByteArray **ret_body, int timeout_ms,
             GError **error)
{
    return client_next_message(conn, ret_hdr, ret_body, timeout_ms, -1, error);
}

/* Sends a call and waits for its reply. RET_BODY gets the reply body (caller frees). */
gboolean
client_call_prog(domus_conn *conn, uint32_t prog, uint32_t proc, GByteArray *args,
                 GByteArray **ret_body, GError **error)
{
    uint32_t serial = rpc_session_send_call(&conn->s, prog, proc, args);
    if (!conn_flush(conn, error))
        return FALSE;
    for (;;) {
        struct rpc_header rh;
        g_autoptr(GByteArray) body = NULL;
        if (next_message(conn, &rh, &body, -1, error) < 0)
            return FALSE;
        if (rh.type == RPC_MESSAGE) {
            client_queue_event(conn, &rh, body);
            continue;
        }
        if (rh.type != RPC_REPLY || rh.serial != serial || rh.prog != prog)
            continue;
        if (rh.status == RPC_ERROR) {
            struct xdr_reader r;
            xdr_reader_init(&r, body->data, body->len);
            g_propagate_error(error, rpc_get_error(&r));
            return FALSE;
        }
        if (ret_body)
            *ret_body = g_steal_pointer(&body);
        return TRUE;
    }
}

gboolean
client_call(domus_conn *conn, uint32_t proc, GByteArray *args, GByteArray **ret_body,
            GError **error)
{
    return client_call_prog(conn, RPC_PROGRAM_REMOTE, proc, args, ret_body, error);
}

/* Reply decoding helpers: each checks that the whole body was consumed. */
gboolean
client_reply_u64(domus_conn *conn, uint32_t proc, GByteArray *args, guint64 *ret, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    guint64 v = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret = v;
    return TRUE;
}

int
client_reply_int(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int v = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    return v;
}

char *
client_reply_string(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *s = xdr_get_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&s);
}

char **
client_reply_params(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_auto(GStrv) params = client_read_typed_params(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&params);
}

gboolean
domus_domain_rename(domus_domain *dom, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, name);
    xdr_put_u32(args, 0);
    if (client_reply_int(dom->conn, PROC_DOMAIN_RENAME, args, error) < 0)
        return FALSE;
    g_free(dom->name);
    dom->name = g_strdup(name);
    return TRUE;
}

domus_domain *
client_domain_from_reader(domus_conn *conn, struct xdr_reader *r)
{
    struct rpc_domain h = {0};
    rpc_get_domain(r, &h);
    if (r->failed) {
        rpc_domain_clear(&h);
        return NULL;
    }
    domus_domain *dom = g_new0(domus_domain, 1);
    dom->conn = conn;
    dom->name = g_steal_pointer(&h.name);
    memcpy(dom->uuid, h.uuid, UUID_LEN);
    uuid_format(dom->uuid, dom->uuid_str);
    dom->id = h.id;
    return dom;
}

static domus_domain *
reply_domain(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    domus_domain *dom = client_domain_from_reader(conn, &r);
    if (!xdr_reader_finish(&r, error)) {
        domus_domain_free(dom);
        return NULL;
    }
    return dom;
}

void
domus_domain_free(domus_domain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom);
}

void
domus_domain_list_free(domus_domain **list)
{
    for (int i = 0; list && list[i]; i++)
        domus_domain_free(list[i]);
    g_free(list);
}

domus_domain **
domus_list_domains(domus_conn *conn, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_LIST_ALL_DOMAINS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, RPC_DOMAIN_LIST_MAX, 24);
    domus_domain **list = g_new0(domus_domain *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        list[i] = client_domain_from_reader(conn, &r);
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        domus_domain_list_free(list);
        return NULL;
    }
    return list;
}

domus_domain *
domus_domain_lookup_by_name(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    return reply_domain(conn, PROC_DOMAIN_LOOKUP_BY_NAME, args, error);
}

domus_domain *
domus_domain_lookup_by_uuid(domus_conn *conn, const char *uuid, GError **error)
{
    uint8_t u[UUID_LEN];
    if (!uuid_parse(uuid, u)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "'%s' is not a valid uuid", uuid);
        return NULL;
    }
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_opaque_fixed(args, u, UUID_LEN);
    return reply_domain(conn, PROC_DOMAIN_LOOKUP_BY_UUID, args, error);
}

domus_domain *
domus_domain_lookup_by_id(domus_conn *conn, int id, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, id);
    return reply_domain(conn, PROC_DOMAIN_LOOKUP_BY_ID, args, error);
}

domus_domain *
domus_domain_lookup(domus_conn *conn, const char *ident, GError **error)
{
    g_autoptr(GError) first = NULL;
    domus_domain *dom = domus_domain_lookup_by_name(conn, ident, &first);
    if (dom || err_code(first) != ERR_NO_DOMAIN) {
        if (!dom)
            g_propagate_error(error, g_steal_pointer(&first));
        return dom;
    }
    guint64 id;
    if (g_ascii_string_to_unsigned(ident, 10, 0, G_MAXINT, &id, NULL)) {
        dom = domus_domain_lookup_by_id(conn, (int)id, NULL);
        if (dom)
            return dom;
    }
    uint8_t u[UUID_LEN];
    if (uuid_parse(ident, u)) {
        dom = domus_domain_lookup_by_uuid(conn, ident, NULL);
        if (dom)
            return dom;
    }
    err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN, "failed to get domain '%s'", ident);
    return NULL;
}

domus_conn *
domus_domain_get_connect(domus_domain *dom)
{
    return dom->conn;
}

const char *
domus_domain_get_name(domus_domain *dom)
{
    return dom->name;
}

const char *
domus_domain_get_uuid(domus_domain *dom)
{
    return dom->uuid_str;
}

int
domus_domain_get_id(domus_domain *dom)
{
    return dom->id;
}

GByteArray *
client_domain_args(domus_domain *dom)
{
    GByteArray *b = g_byte_array_new();
    rpc_put_domain(b, dom->name, dom->uuid, dom->id);
    return b;
}

static gboolean
dom_call(domus_domain *dom, uint32_t proc, gboolean with_flags, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (with_flags)
        xdr_put_u32(args, flags);
    return client_call(dom->conn, proc, args, NULL, error);
}

domus_domain *
domus_domain_define(domus_conn *conn, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return reply_domain(conn, PROC_DOMAIN_DEFINE_XML_FLAGS, args, error);
}

gboolean
domus_domain_undefine(domus_domain *dom, unsigned flags, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_UNDEFINE_FLAGS, TRUE, flags, error);
}

domus_domain *
domus_domain_create_xml(domus_conn *conn, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return reply_domain(conn, PROC_DOMAIN_CREATE_XML, args, error);
}

gboolean
domus_domain_start(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    domus_domain *fresh = reply_domain(dom->conn, PROC_DOMAIN_CREATE_WITH_FLAGS, args, error);
    if (!fresh)
        return FALSE;
    dom->id = fresh->id;
    domus_domain_free(fresh);
    return TRUE;
}

gboolean
domus_domain_destroy(domus_domain *dom, unsigned flags, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_DESTROY_FLAGS, TRUE, flags, error);
}

gboolean
domus_domain_shutdown(domus_domain *dom, unsigned flags, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_SHUTDOWN_FLAGS, TRUE, flags, error);
}

gboolean
domus_domain_reboot(domus_domain *dom, unsigned flags, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_REBOOT, TRUE, flags, error);
}

gboolean
domus_domain_reset(domus_domain *dom, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_RESET, TRUE, 0, error);
}

gboolean
domus_domain_suspend(domus_domain *dom, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_SUSPEND, FALSE, 0, error);
}

gboolean
domus_domain_resume(domus_domain *dom, GError **error)
{
    return dom_call(dom, PROC_DOMAIN_RESUME, FALSE, 0, error);
}

gboolean
domus_domain_get_info(domus_domain *dom, struct domus_domain_info *ret, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_GET_INFO, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_domain_info info;
    info.state = (int)xdr_get_u32(&r);
    info.max_mem_kib = xdr_get_u64(&r);
    info.memory_kib = xdr_get_u64(&r);
    info.vcpus = xdr_get_u32(&r);
    info.cpu_time_ns = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret = info;
    return TRUE;
}

gboolean
domus_domain_get_state(domus_domain *dom, int *ret_state, int *ret_reason, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_GET_STATE, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int state = xdr_get_i32(&r);
    int reason = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret_state = state;
    *ret_reason = reason;
    return TRUE;
}

char *
domus_domain_get_xml(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    return client_reply_string(dom->conn, PROC_DOMAIN_GET_XML_DESC, args, error);
}

char *
domus_domain_get_os_type(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    return client_reply_string(dom->conn, PROC_DOMAIN_GET_OS_TYPE, args, error);
}

int
domus_domain_is_active(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    return client_reply_int(dom->conn, PROC_DOMAIN_IS_ACTIVE, args, error);
}

int
domus_domain_is_persistent(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    return client_reply_int(dom->conn, PROC_DOMAIN_IS_PERSISTENT, args, error);
}

int
domus_domain_get_autostart(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    return client_reply_int(dom->conn, PROC_DOMAIN_GET_AUTOSTART, args, error);
}

gboolean
domus_domain_set_autostart(domus_domain *dom, gboolean on, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, on ? 1 : 0);
    return client_call(dom->conn, PROC_DOMAIN_SET_AUTOSTART, args, NULL, error);
}

char *
domus_domain_get_metadata(domus_domain *dom, int type, const char *uri, unsigned flags,
                          GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, type);
    xdr_put_opt_string(args, uri);
    xdr_put_u32(args, flags);
    return client_reply_string(dom->conn, PROC_DOMAIN_GET_METADATA, args, error);
}

gboolean
domus_domain_set_metadata(domus_domain *dom, int type, const char *value, const char *key,
                          const char *uri, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, type);
    xdr_put_opt_string(args, value);
    xdr_put_opt_string(args, key);
    xdr_put_opt_string(args, uri);
    xdr_put_u32(args, flags);
    return client_call(dom->conn, PROC_DOMAIN_SET_METADATA, args, NULL, error);
}

/* The reply of PROC: a list of at most MAX strings, and nothing else. */
static char **
reply_strings(domus_conn *conn, uint32_t proc, GByteArray *args, guint max, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, max, 4);
    g_auto(GStrv) list = g_new0(char *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        list[i] = xdr_get_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&list);
}

char **
domus_domain_get_messages(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return reply_strings(dom->conn, PROC_DOMAIN_GET_MESSAGES, args, RPC_DOMAIN_MESSAGES_MAX, error);
}

char **
domus_domain_get_ssh_keys(domus_domain *dom, const char *user, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, user);
    xdr_put_u32(args, 0);
    return reply_strings(dom->conn, PROC_DOMAIN_AUTHORIZED_SSH_KEYS_GET, args, 2048, error);
}

gboolean
domus_domain_set_ssh_keys(domus_domain *dom, const char *user, const char *const *keys,
                          unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, user);
    guint n = keys ? g_strv_length((char **)keys) : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(args, keys[i]);
    xdr_put_u32(args, flags);
    return client_call(dom->conn, PROC_DOMAIN_AUTHORIZED_SSH_KEYS_SET, args, NULL, error);
}

gboolean
domus_domain_core_dump(domus_domain *dom, const char *to, unsigned format, unsigned flags,
                       GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, to);
    if (format)
        xdr_put_u32(args, format);
    xdr_put_u32(args, flags);
    return client_call(dom->conn,
                       format ? PROC_DOMAIN_CORE_DUMP_WITH_FORMAT : PROC_DOMAIN_CORE_DUMP, args,
                       NULL, error);
}

gboolean
domus_domain_set_lifecycle_action(domus_domain *dom, unsigned type, unsigned action, unsigned flags,
                                  GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, type);
    xdr_put_u32(args, action);
    xdr_put_u32(args, flags);
    return client_call(dom->conn, PROC_DOMAIN_SET_LIFECYCLE_ACTION, args, NULL, error);
}

gboolean
domus_domain_set_agent_timeout(domus_domain *dom, int timeout, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, timeout);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_AGENT_SET_RESPONSE_TIMEOUT, args, NULL, error);
}

gboolean
domus_domain_get_control_info(domus_domain *dom, struct domus_control_info *ret, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_GET_CONTROL_INFO, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    ret->state = xdr_get_u32(&r);
    ret->details = xdr_get_u32(&r);
    ret->state_time_ms = xdr_get_u64(&r);
    return xdr_reader_finish(&r, error);
}

/* --- streams --- */

struct domus_stream {
    domus_conn *conn;
    uint32_t proc;
    uint32_t serial;
    GByteArray *buf;    /* received, not yet handed out */
    gboolean eof;       /* the daemon sent its end of data (an empty CONTINUE) */
    gboolean confirmed; /* the daemon confirmed our finish or abort (OK) */
    gboolean failed;    /* the daemon ended the stream with an error */
    gboolean done;      /* we finished or aborted: nothing more to send */
};

domus_stream *
client_stream_new(domus_conn *conn, uint32_t proc, uint32_t serial)
{
    domus_stream *st = g_new0(domus_stream, 1);
    st->conn = conn;
    st->proc = proc;
    st->serial = serial;
    st->buf = g_byte_array_new();
    return st;
}

domus_stream *
domus_domain_open_console(domus_domain *dom, const char *dev, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, dev);
    xdr_put_u32(args, flags);
    uint32_t serial = dom->conn->s.next_serial;
    if (!client_call(dom->conn, PROC_DOMAIN_OPEN_CONSOLE, args, NULL, error))
        return NULL;
    return client_stream_new(dom->conn, PROC_DOMAIN_OPEN_CONSOLE, serial);
}

domus_stream *
domus_domain_screenshot(domus_domain *dom, unsigned screen, char **ret_mime, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, screen);
    xdr_put_u32(args, 0);
    uint32_t serial = dom->conn->s.next_serial;
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_SCREENSHOT, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *mime = xdr_get_opt_string(&r, RPC_STRING_MAX);
    domus_stream *st = client_stream_new(dom->conn, PROC_DOMAIN_SCREENSHOT, serial);
    if (!xdr_reader_finish(&r, error)) {
        domus_stream_free(st);
        return NULL;
    }
    *ret_mime = g_steal_pointer(&mime);
    return st;
}

int
domus_domain_fs_freeze(domus_domain *dom, char *const *mountpoints, gboolean thaw, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    guint n = mountpoints ? g_strv_length((char **)mountpoints) : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(args, mountpoints[i]);
    xdr_put_u32(args, 0);
    return client_reply_int(dom->conn, thaw ? PROC_DOMAIN_FSTHAW : PROC_DOMAIN_FSFREEZE, args,
                            error);
}

void
domus_fsinfo_free(struct domus_fsinfo *fs)
{
    if (!fs)
        return;
    g_free(fs->mountpoint);
    g_free(fs->name);
    g_free(fs->fstype);
    g_strfreev(fs->targets);
    g_free(fs);
}

GPtrArray *
domus_domain_get_fsinfo(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_GET_FSINFO, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)domus_fsinfo_free);
    uint32_t n = xdr_get_count(&r, 256, 16);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        struct domus_fsinfo *fs = g_new0(struct domus_fsinfo, 1);
        fs->mountpoint = xdr_get_string(&r, RPC_STRING_MAX);
        fs->name = xdr_get_string(&r, RPC_STRING_MAX);
        fs->fstype = xdr_get_string(&r, RPC_STRING_MAX);
        uint32_t m = xdr_get_count(&r, 256, 4);
        fs->targets = g_new0(char *, m + 1);
        for (uint32_t j = 0; j < m && !r.failed; j++)
            fs->targets[j] = xdr_get_string(&r, RPC_STRING_MAX);
        g_ptr_array_add(out, fs);
    }
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&out);
}

gboolean
domus_domain_set_user_password(domus_domain *dom, const char *user, const char *password,
                               unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, user);
    xdr_put_opt_string(args, password);
    xdr_put_u32(args, flags);
    gboolean ok = client_call(dom->conn, PROC_DOMAIN_SET_USER_PASSWORD, args, NULL, error);
    explicit_bzero(args->data, args->len);
    return ok;
}

gboolean
domus_domain_fstrim(domus_domain *dom, const char *mountpoint, guint64 minimum, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, mountpoint);
    xdr_put_u64(args, minimum);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_FSTRIM, args, NULL, error);
}

gboolean
domus_domain_inject_nmi(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_INJECT_NMI, args, NULL, error);
}

gboolean
domus_domain_pm_suspend(domus_domain *dom, unsigned target, guint64 duration, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, target);
    xdr_put_u64(args, duration);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_PM_SUSPEND_FOR_DURATION, args, NULL, error);
}

gboolean
domus_domain_pm_wakeup(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_PM_WAKEUP, args, NULL, error);
}

gboolean
domus_domain_send_key(domus_domain *dom, unsigned codeset, unsigned holdtime, const unsigned *codes,
                      guint n, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, codeset);
    xdr_put_u32(args, holdtime);
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++)
        xdr_put_u32(args, codes[i]);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_SEND_KEY, args, NULL, error);
}

int
domus_stream_get_fd(domus_stream *st)
{
    return st->conn->fd;
}

gboolean
domus_stream_pending(domus_stream *st)
{
    /* data handed to us, or a whole frame already read from the socket */
    return st->buf->len > 0 || rpc_session_has_frame(&st->conn->s) ||
           rpc_session_in_buffered(&st->conn->s);
}

static gboolean
stream_write(domus_stream *st, enum rpc_status status, const void *data, gsize len, GError **error)
{
    struct rpc_header hdr = {RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, st->proc,
                             RPC_STREAM,         st->serial,           status};
    GByteArray *msg = rpc_session_message_new(&hdr, len);
    if (len)
        g_byte_array_append(msg, data, (guint)len);
    rpc_session_queue(&st->conn->s, msg, NULL, 0);
    return conn_flush(st->conn, error);
}

static int stream_read_frame(domus_stream *st, int timeout_ms, GError **error);

gboolean
domus_stream_send(domus_stream *st, const void *data, gsize len, GError **error)
{
    if (st->done || st->eof) {
        err_set(error, ERR_FROM_STREAMS, ERR_INVALID_STREAM, "the stream has ended");
        return FALSE;
    }
    /* an error the daemon already sent ends the sending (a refused upload says why at once) */
    int got;
    while ((got = stream_read_frame(st, 0, error)) > 0 && !st->eof)
        ;
    if (got < 0)
        return FALSE;
    return stream_write(st, RPC_CONTINUE, data, len, error);
}

/* Reads one frame for this stream into the buffer (or notes EOF), waiting up to TIMEOUT_MS
 * (-1: for ever). Other frames are answered (keepalive) or skipped. 1: a frame; 0: none came
 * in time; -1: ERROR (the daemon's, when it ended the stream with one). */
static int
stream_read_frame(domus_stream *st, int timeout_ms, GError **error)
{
    for (;;) {
        struct rpc_header rh;
        g_autoptr(GByteArray) body = NULL;
        int got = next_message(st->conn, &rh, &body, timeout_ms, error);
        if (got <= 0)
            return got;
        if (rh.type == RPC_MESSAGE) {
            client_queue_event(st->conn, &rh, body);
            continue;
        }
        if (rh.type != RPC_STREAM || rh.serial != st->serial || rh.proc != st->proc)
            continue;
        if (rh.status == RPC_ERROR) {
            struct xdr_reader r;
            xdr_reader_init(&r, body->data, body->len);
            g_propagate_error(error, rpc_get_error(&r));
            st->eof = st->failed = st->done = TRUE;
            return -1;
        }
        if (rh.status == RPC_OK) {
            st->confirmed = st->eof = TRUE;
            return 1;
        }
        if (body->len == 0)
            st->eof = TRUE;
        g_byte_array_append(st->buf, body->data, body->len);
        return 1;
    }
}

gssize
domus_stream_recv(domus_stream *st, void *buf, gsize len, GError **error)
{
    while (st->buf->len == 0 && !st->eof)
        if (stream_read_frame(st, -1, error) < 0)
            return -1;
    if (st->buf->len == 0)
        return 0;
    gsize n = MIN(len, st->buf->len);
    memcpy(buf, st->buf->data, n);
    g_byte_array_remove_range(st->buf, 0, (guint)n);
    return (gssize)n;
}

/* Sends a finish (OK) or abort (ERROR) and waits for the daemon's confirmation; data may
 * still be in flight before it. */
static gboolean
stream_close(domus_stream *st, enum rpc_status status, GError **error)
{
    if (st->done)
        return !st->failed;
    st->done = TRUE;
    if (!stream_write(st, status, NULL, 0, error))
        return FALSE;
    while (!st->confirmed) {
        g_byte_array_set_size(st->buf, 0);
        if (stream_read_frame(st, -1, error) < 0)
            return FALSE;
    }
    return TRUE;
}

gboolean
domus_stream_finish(domus_stream *st, GError **error)
{
    return stream_close(st, RPC_OK, error);
}

void
domus_stream_free(domus_stream *st)
{
    if (!st)
        return;
    stream_close(st, RPC_ERROR, NULL); /* abort, unless already finished */
    g_byte_array_unref(st->buf);
    g_free(st);
}

/* --- guest agent and monitor --- */

gboolean
domus_domain_get_time(domus_domain *dom, gint64 *ret_seconds, guint *ret_nseconds, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_GET_TIME, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    gint64 sec = xdr_get_i64(&r);
    guint nsec = xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret_seconds = sec;
    *ret_nseconds = nsec;
    return TRUE;
}

gboolean
domus_domain_set_time(domus_domain *dom, gint64 seconds, guint nseconds, unsigned flags,
                      GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i64(args, seconds);
    xdr_put_u32(args, nseconds);
    xdr_put_u32(args, flags);
    return client_call(dom->conn, PROC_DOMAIN_SET_TIME, args, NULL, error);
}

/* A typed parameter list (remote_typed_param<>) as FIELD, VALUE, … NULL: numbers in
 * decimal, a double with %f. R's error state says whether it was well formed. */
char **
client_read_typed_params(struct xdr_reader *reader)
{
    struct xdr_reader r = *reader;
    uint32_t n = xdr_get_count(&r, 2048, 12);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        char *field = xdr_get_string(&r, RPC_STRING_MAX);
        int type = xdr_get_i32(&r);
        char *value = NULL;
        switch (type) {
        case 1:
        case 6:
            value = g_strdup_printf("%d", xdr_get_i32(&r));
            break;
        case 2:
            value = g_strdup_printf("%u", xdr_get_u32(&r));
            break;
        case 3:
            value = g_strdup_printf("%" G_GINT64_FORMAT, xdr_get_i64(&r));
            break;
        case 4:
            value = g_strdup_printf("%" G_GUINT64_FORMAT, xdr_get_u64(&r));
            break;
        case 5: {
            guint64 bits = xdr_get_u64(&r);
            double d;
            memcpy(&d, &bits, sizeof(d));
            value = g_strdup_printf("%f", d);
            break;
        }
        case 7:
            value = xdr_get_string(&r, RPC_STRING_MAX);
            break;
        default:
            r.failed = TRUE;
            r.what = "unknown typed parameter type";
        }
        g_ptr_array_add(out, field);
        g_ptr_array_add(out, value);
    }
    *reader = r;
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_steal(out, NULL);
}

char **
domus_domain_get_guest_info(domus_domain *dom, unsigned types, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, types);
    xdr_put_u32(args, 0);
    return client_reply_params(dom->conn, PROC_DOMAIN_GET_GUEST_INFO, args, error);
}

char **
domus_domain_get_guest_vcpus(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_reply_params(dom->conn, PROC_DOMAIN_GET_GUEST_VCPUS, args, error);
}

gboolean
domus_domain_set_guest_vcpus(domus_domain *dom, const char *map, gboolean online, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, map);
    xdr_put_i32(args, online ? 1 : 0);
    xdr_put_u32(args, 0);
    return client_call(dom->conn, PROC_DOMAIN_SET_GUEST_VCPUS, args, NULL, error);
}

char *
domus_domain_get_hostname(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_reply_string(dom->conn, PROC_DOMAIN_GET_HOSTNAME, args, error);
}

char *
domus_domain_qemu_agent_command(domus_domain *dom, const char *cmd, int timeout, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, cmd);
    xdr_put_i32(args, timeout);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call_prog(dom->conn, RPC_PROGRAM_QEMU, QEMU_PROC_DOMAIN_AGENT_COMMAND, args, &body,
                          error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *result = xdr_get_opt_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_strdup(result ? result : "");
}

char *
domus_domain_qemu_monitor_command(domus_domain *dom, const char *cmd, unsigned flags,
                                  GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, cmd);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call_prog(dom->conn, RPC_PROGRAM_QEMU, QEMU_PROC_DOMAIN_MONITOR_COMMAND, args,
                          &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *result = xdr_get_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&result);
}

/* --- events --- */

int
domus_event_register(domus_conn *conn, int event_id, domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, event_id);
    xdr_put_u32(args, dom ? 1 : 0);
    if (dom)
        rpc_put_domain(args, dom->name, dom->uuid, dom->id);
    return client_reply_int(conn, PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, args, error);
}

int
domus_qemu_monitor_event_register(domus_conn *conn, domus_domain *dom, const char *event,
                                  unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_u32(args, dom ? 1 : 0);
    if (dom)
        rpc_put_domain(args, dom->name, dom->uuid, dom->id);
    xdr_put_opt_string(args, event);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call_prog(conn, RPC_PROGRAM_QEMU, QEMU_PROC_CONNECT_DOMAIN_MONITOR_EVENT_REGISTER,
                          args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int id = xdr_get_i32(&r);
    return xdr_reader_finish(&r, error) ? id : -1;
}

gboolean
domus_domain_get_job_stats(domus_domain *dom, unsigned flags, int *ret_type, char ***ret_params,
                           GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(dom->conn, PROC_DOMAIN_GET_JOB_STATS, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int type = xdr_get_i32(&r);
    g_auto(GStrv) params = client_read_typed_params(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret_type = type;
    *ret_params = g_steal_pointer(&params);
    return TRUE;
}

gboolean
domus_domain_abort_job(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    return client_call(dom->conn, PROC_DOMAIN_ABORT_JOB, args, NULL, error);
}
