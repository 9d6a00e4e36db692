/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_migrate: migration between hosts (libvirt's v3 protocol with parameters: Begin, Prepare,
 * Perform, Finish, Confirm) and the migration settings of a domain (maximum downtime and
 * bandwidth). Perform and Finish reply once their phase is over; meanwhile the same client may
 * ask for the job's progress or abort it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>

#include "conf/migration_cookie.h"
#include "core/guest.h"
#include "core/migrate.h"
#include "daemon/dispatch.h"
#include "daemon/migrate_p2p.h"
#include "util/err.h"
#include "util/file.h"

#define MIGRATE_PARAMS_MAX 64      /* REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX */
#define MIGRATE_COOKIE_MAX 4194304 /* REMOTE_MIGRATE_COOKIE_MAX */

/* What the migration procedures carry besides the domain: remote_string dconnuri (Perform),
 * the parameters, opaque cookie_in (all but Begin), flags, int cancelled (Finish, Confirm).
 * The flags come before "cancelled", so the procedures decode them themselves. */
struct arg_migrate {
    char *dconnuri;
    GPtrArray *params;
    uint8_t *cookie;
    gsize cookie_len;
    uint64_t flags;
    int32_t cancelled;
    /* the older v3 forms name their parameters: the XML given for the destination (Begin,
     * Perform: xmlin; Prepare: the definition), dname, the URI, the bandwidth (resource) */
    gboolean old;
    char *xml;
    char *dname;
    char *uri;
    uint64_t resource;
};

static void
clear_migrate(void *args)
{
    struct arg_migrate *a = args;
    g_free(a->dconnuri);
    g_free(a->xml);
    g_free(a->dname);
    g_free(a->uri);
    if (a->params)
        g_ptr_array_unref(a->params);
    g_free(a->cookie);
}

static void
dec_begin(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->params = args_decode_params(r, MIGRATE_PARAMS_MAX);
}

static void
dec_prepare(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->params = args_decode_params(r, MIGRATE_PARAMS_MAX);
    a->cookie = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &a->cookie_len);
}

static void
dec_perform(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->dconnuri = xdr_get_opt_string(r, RPC_STRING_MAX);
    dec_prepare(r, args);
}

static void
dec_finish(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    dec_prepare(r, args);
    a->flags = xdr_get_u32(r);
    a->cancelled = xdr_get_i32(r);
}

/* the older v3 forms (libvirt's virDomainMigrate without parameters) */
static void
dec_begin_old(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->old = TRUE;
    a->xml = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->flags = xdr_get_u64(r);
    a->dname = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->resource = xdr_get_u64(r);
}

static void
dec_prepare_old(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->old = TRUE;
    a->cookie = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &a->cookie_len);
    a->uri = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->flags = xdr_get_u64(r);
    a->dname = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->resource = xdr_get_u64(r);
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_perform_old(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->old = TRUE;
    a->xml = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->cookie = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &a->cookie_len);
    a->dconnuri = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->uri = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->flags = xdr_get_u64(r);
    a->dname = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->resource = xdr_get_u64(r);
}

static void
dec_finish_old(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->old = TRUE;
    a->dname = xdr_get_string(r, RPC_STRING_MAX);
    a->cookie = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &a->cookie_len);
    a->dconnuri = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->uri = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->flags = xdr_get_u64(r);
    a->cancelled = xdr_get_i32(r);
}

static void
dec_confirm_old(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->old = TRUE;
    a->cookie = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &a->cookie_len);
    a->flags = xdr_get_u64(r);
    a->cancelled = xdr_get_i32(r);
}

static const struct args_type args_begin_old = {sizeof(struct arg_migrate), dec_begin_old,
                                                clear_migrate};
static const struct args_type args_prepare_old = {sizeof(struct arg_migrate), dec_prepare_old,
                                                  clear_migrate};
static const struct args_type args_perform_old = {sizeof(struct arg_migrate), dec_perform_old,
                                                  clear_migrate};
static const struct args_type args_finish_old = {sizeof(struct arg_migrate), dec_finish_old,
                                                 clear_migrate};
static const struct args_type args_confirm_old = {sizeof(struct arg_migrate), dec_confirm_old,
                                                  clear_migrate};

static void
dec_prepare_tunnel_old(struct xdr_reader *r, void *args)
{
    struct arg_migrate *a = args;
    a->old = TRUE;
    a->cookie = xdr_get_opaque(r, MIGRATE_COOKIE_MAX, &a->cookie_len);
    a->flags = xdr_get_u64(r);
    a->dname = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->resource = xdr_get_u64(r);
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
}

static const struct args_type args_prepare_tunnel_old = {sizeof(struct arg_migrate),
                                                         dec_prepare_tunnel_old, clear_migrate};

static const struct args_type args_begin = {sizeof(struct arg_migrate), dec_begin, clear_migrate};
static const struct args_type args_prepare = {sizeof(struct arg_migrate), dec_prepare,
                                              clear_migrate};
static const struct args_type args_perform = {sizeof(struct arg_migrate), dec_perform,
                                              clear_migrate};
static const struct args_type args_finish = {sizeof(struct arg_migrate), dec_finish, clear_migrate};

/* Parses the call's parameters; FALSE with the call failed. */
static gboolean
params(struct call *call, const struct arg_migrate *a, struct migrate_params *ret)
{
    GError *error = NULL;
    if (a->old) {
        /* the older forms' named arguments are the parameters they became */
        migrate_params_clear(ret);
        migrate_params_init(ret);
        ret->dxml = g_strdup(a->xml);
        ret->dname = g_strdup(a->dname);
        ret->uri = g_strdup(a->uri);
        ret->bandwidth = a->resource;
        return TRUE;
    }
    if (!migrate_params_parse(a->params, ret, &error)) {
        dispatch_fail(call, error);
        return FALSE;
    }
    return TRUE;
}

/* The flags of a call: the trailing word of the forms with parameters, or the older forms'
 * unsigned hyper. FALSE with the call failed. */
static gboolean
call_flags(struct call *call, const struct call_ctx *ctx, const struct arg_migrate *a,
           unsigned *ret)
{
    uint64_t flags = a->old || a->flags ? a->flags : ctx->flags;
    GError *error = NULL;
    if (flags > G_MAXUINT32 || !migrate_check_flags((unsigned)flags, &error)) {
        if (!error)
            err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                    "unsupported flags (0x%" G_GINT64_MODIFIER "x) in migration", flags);
        dispatch_fail(call, error);
        return FALSE;
    }
    *ret = (unsigned)flags;
    return TRUE;
}

static void
put_cookie(GByteArray *b, const char *cookie)
{
    /* with its terminating NUL, as libvirt sends it */
    if (cookie)
        xdr_put_opaque(b, (const uint8_t *)cookie, strlen(cookie) + 1);
    else
        xdr_put_opaque(b, NULL, 0);
}

static void
h_begin(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_migrate *a = ctx->args;
    g_auto(migrate_params) p = {0};
    unsigned flags;
    if (!call_flags(call, ctx, a, &flags) || !params(call, a, &p))
        return;
    GError *error = NULL;
    g_autofree char *cookie = NULL;
    g_autofree char *xml = core_migrate_begin(ctx->dom, &p, flags, &cookie, &error);
    if (!xml) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_cookie(b, cookie);
    xdr_put_string(b, xml);
    call_reply(call, b);
}

/* The address of this end of CALL's connection, when it is a TCP one: where the client, and
 * so the source host, reached this one. New string, or NULL. */
static char *
local_address(struct call *call)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(call->client->fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return NULL;
    char host[NI_MAXHOST];
    if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST))
        return NULL;
    /* an IPv4 client on an IPv6 socket */
    if (g_str_has_prefix(host, "::ffff:") && strchr(host, '.'))
        return g_strdup(host + 7);
    return g_strdup(host);
}

static void
prepared(GError *error, char *uri, char *cookie, gpointer data)
{
    struct call *call = data;
    if (error) {
        dispatch_fail(call, error);
    } else {
        g_autoptr(GByteArray) b = g_byte_array_new();
        put_cookie(b, cookie);
        xdr_put_opt_string(b, uri);
        call_reply(call, b);
    }
    g_free(uri);
    g_free(cookie);
}

static void
h_prepare(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_migrate *a = ctx->args;
    g_auto(migrate_params) p = {0};
    unsigned flags;
    if (!call_flags(call, ctx, a, &flags) || !params(call, a, &p))
        return;
    g_autofree char *local = local_address(call);
    core_migrate_prepare(dispatch_core(call), &p, (const char *)a->cookie, a->cookie_len, flags,
                         local, call->client, -1, prepared, call);
}

/* --- tunnelled: the stream from the source daemon into the incoming QEMU --- */

#define TUNNEL_PENDING_MAX (4 * 1024 * 1024)

/* The data of a PrepareTunnel stream, written into the pipe QEMU reads. When the pipe is full,
 * the rest waits here and reading from the connection stops until QEMU took it. */
struct tunnel_in {
    struct stream *st;
    int fd; /* the pipe's write end (non-blocking); -1 once closed */
    GByteArray *pending;
    guint watch;
    gboolean finished; /* the source finished the stream: the pipe closes once drained */
};

static void
tunnel_close_pipe(struct tunnel_in *t)
{
    if (t->watch)
        g_source_remove(t->watch);
    t->watch = 0;
    file_close_fd(&t->fd);
}

static void
tunnel_free(struct tunnel_in *t)
{
    tunnel_close_pipe(t);
    g_byte_array_unref(t->pending);
    g_free(t);
}

/* Writes what waits; FALSE when the pipe is broken (QEMU went away). */
static gboolean
tunnel_flush(struct tunnel_in *t)
{
    while (t->pending->len > 0) {
        ssize_t n = write(t->fd, t->pending->data, t->pending->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return TRUE;
        if (n <= 0)
            return FALSE;
        g_byte_array_remove_range(t->pending, 0, (guint)n);
    }
    return TRUE;
}

static void
tunnel_broken(struct tunnel_in *t)
{
    GError *error = NULL;
    err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "%s",
            "the incoming QEMU stopped reading the migration stream");
    struct stream *st = t->st;
    st->on_close = NULL;
    client_stream_end(st, error);
    g_error_free(error);
    tunnel_free(t);
}

static gboolean
on_tunnel_writable(gint fd, GIOCondition cond, gpointer data)
{
    struct tunnel_in *t = data;
    if (!tunnel_flush(t)) {
        t->watch = 0;
        tunnel_broken(t);
        return G_SOURCE_REMOVE;
    }
    if (t->pending->len > 0)
        return G_SOURCE_CONTINUE;
    t->watch = 0;
    if (t->finished)
        file_close_fd(&t->fd);
    client_stream_hold(t->st, FALSE);
    return G_SOURCE_REMOVE;
}

static void
on_tunnel_data(struct stream *st, const uint8_t *data, gsize len, gpointer user)
{
    struct tunnel_in *t = user;
    if (t->fd < 0)
        return;
    g_byte_array_append(t->pending, data, (guint)len);
    if (!tunnel_flush(t)) {
        tunnel_broken(t);
        return;
    }
    if (t->pending->len > 0 && !t->watch) {
        client_stream_hold(st, TRUE);
        t->watch = g_unix_fd_add(t->fd, G_IO_OUT | G_IO_ERR, on_tunnel_writable, t);
    }
}

static gboolean
on_tunnel_finish(struct stream *st, gpointer user, GError **error)
{
    struct tunnel_in *t = user;
    t->finished = TRUE;
    /* QEMU sees the end of the stream */
    if (t->pending->len == 0)
        file_close_fd(&t->fd);
    return TRUE;
}

static void
on_tunnel_close(struct stream *st, gboolean aborted, gpointer user)
{
    tunnel_free(user);
}

struct tunnel_call {
    struct call *call;
    int fd; /* the pipe's write end until the stream takes it */
};

static void
tunnel_prepared(GError *error, char *uri, char *cookie, gpointer data)
{
    struct tunnel_call *tc = data;
    if (error) {
        file_close_fd(&tc->fd);
        dispatch_fail(tc->call, error);
    } else {
        struct tunnel_in *t = g_new0(struct tunnel_in, 1);
        t->fd = g_steal_fd(&tc->fd);
        t->pending = g_byte_array_new();
        t->st = client_stream_open(tc->call);
        t->st->user = t;
        t->st->on_data = on_tunnel_data;
        t->st->on_finish = on_tunnel_finish;
        t->st->on_close = on_tunnel_close;
        g_autoptr(GByteArray) b = g_byte_array_new();
        put_cookie(b, cookie);
        call_reply(tc->call, b);
    }
    g_free(uri);
    g_free(cookie);
    g_free(tc);
}

static void
h_prepare_tunnel(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_migrate *a = ctx->args;
    g_auto(migrate_params) p = {0};
    unsigned flags;
    if (!call_flags(call, ctx, a, &flags) || !params(call, a, &p))
        return;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_QEMU, ERR_SYSTEM_ERROR, "cannot make a pipe: %s",
                g_strerror(errno));
        dispatch_fail(call, error);
        return;
    }
    /* the daemon's end must never block the loop; QEMU reads its end as it likes */
    g_unix_set_fd_nonblocking(pipe_fds[1], TRUE, NULL);
    struct tunnel_call *tc = g_new0(struct tunnel_call, 1);
    tc->call = call;
    tc->fd = pipe_fds[1];
    core_migrate_prepare(dispatch_core(call), &p, (const char *)a->cookie, a->cookie_len, flags,
                         NULL, call->client, pipe_fds[0], tunnel_prepared, tc);
}

static void
performed(GError *error, char *cookie, gpointer data)
{
    struct call *call = data;
    if (error) {
        dispatch_fail(call, error);
    } else {
        g_autoptr(GByteArray) b = g_byte_array_new();
        put_cookie(b, cookie);
        call_reply(call, b);
    }
    g_free(cookie);
}

static void
h_perform(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_migrate *a = ctx->args;
    g_auto(migrate_params) p = {0};
    unsigned flags;
    if (!call_flags(call, ctx, a, &flags) || !params(call, a, &p))
        return;
    if (flags & MIGRATE_PEER2PEER) {
        if (!a->dconnuri) {
            GError *error = NULL;
            err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                    "peer-to-peer migration needs the destination's URI");
            dispatch_fail(call, error);
            return;
        }
        migrate_p2p_start(call, ctx->dom, &p, a->dconnuri, flags);
        return;
    }
    core_migrate_perform(ctx->dom, &p, (const char *)a->cookie, a->cookie_len, flags, -1,
                         call->client, performed, call);
}

static void
finished(GError *error, struct domain *dom, char *cookie, gpointer data)
{
    struct call *call = data;
    if (error) {
        dispatch_fail(call, error);
    } else {
        g_autoptr(GByteArray) b = g_byte_array_new();
        rpc_put_domain(b, dom->def->name, dom->def->uuid, dom->id);
        put_cookie(b, cookie);
        call_reply(call, b);
    }
    g_free(cookie);
}

static void
h_finish(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_migrate *a = ctx->args;
    g_auto(migrate_params) p = {0};
    unsigned flags;
    if (!call_flags(call, ctx, a, &flags) || !params(call, a, &p))
        return;
    core_migrate_finish(dispatch_core(call), &p, (const char *)a->cookie, a->cookie_len, flags,
                        a->cancelled != 0, finished, call);
}

static void
h_confirm(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_migrate *a = ctx->args;
    unsigned flags;
    if (!call_flags(call, ctx, a, &flags))
        return;
    core_migrate_confirm(ctx->dom, flags, a->cancelled != 0, dispatch_done_empty, call);
}

static void
h_start_postcopy(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (!core_migrate_start_postcopy(ctx->dom, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* --- settings --- */

struct arg_u64 {
    uint64_t v;
};

static void
dec_u64(struct xdr_reader *r, void *args)
{
    ((struct arg_u64 *)args)->v = xdr_get_u64(r);
}

static const struct args_type args_u64 = {sizeof(struct arg_u64), dec_u64, NULL};

static void
h_set_downtime(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_u64 *a = ctx->args;
    GError *error = NULL;
    if (!dispatch_require_running(call, ctx->dom))
        return;
    if (!core_migrate_set_downtime(ctx->dom, a->v, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_get_downtime(struct call *call, const struct call_ctx *ctx)
{
    if (!dispatch_require_running(call, ctx->dom))
        return;
    /* QEMU's default downtime-limit until one is set */
    dispatch_reply_u64(call, ctx->dom->migrate_downtime_ms ? ctx->dom->migrate_downtime_ms : 300);
}

static void
h_set_speed(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_u64 *a = ctx->args;
    GError *error = NULL;
    if (!core_migrate_set_speed(ctx->dom, a->v, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_get_speed(struct call *call, const struct call_ctx *ctx)
{
    /* unlimited reads as libvirt's largest value, INT64_MAX bytes/s in MiB/s */
    guint64 mib = ctx->dom->migrate_speed_mib;
    dispatch_reply_u64(call, mib ? mib : (guint64)(G_MAXINT64 >> 20));
}

static void
on_compression_cache(GError *error, guint64 bytes, gpointer data)
{
    struct call *call = data;
    if (error)
        dispatch_fail(call, g_error_copy(error));
    else
        dispatch_reply_u64(call, bytes);
}

static void
h_get_compression_cache(struct call *call, const struct call_ctx *ctx)
{
    core_migrate_compression_cache(ctx->dom, FALSE, 0, on_compression_cache, call);
}

static void
on_compression_cache_set(GError *error, guint64 bytes, gpointer data)
{
    struct call *call = data;
    if (error)
        dispatch_fail(call, g_error_copy(error));
    else
        call_reply(call, NULL);
}

static void
h_set_compression_cache(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_u64 *a = ctx->args;
    core_migrate_compression_cache(ctx->dom, TRUE, a->v, on_compression_cache_set, call);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
#define N HANDLE_NONE
const struct proc_def migrate_procs[] = {
    {R, PROC_DOMAIN_MIGRATE_BEGIN3_PARAMS, D, &args_begin, TRUE, MIGRATE_FLAGS_ALL, h_begin},
    {R, PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS, N, &args_prepare, TRUE, MIGRATE_FLAGS_ALL, h_prepare},
    {R, PROC_DOMAIN_MIGRATE_PERFORM3_PARAMS, D, &args_perform, TRUE, MIGRATE_FLAGS_ALL, h_perform},
    {R, PROC_DOMAIN_MIGRATE_FINISH3_PARAMS, N, &args_finish, FALSE, 0, h_finish},
    {R, PROC_DOMAIN_MIGRATE_CONFIRM3_PARAMS, D, &args_finish, FALSE, 0, h_confirm},
    {R, PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS, N, &args_prepare, TRUE, MIGRATE_FLAGS_ALL,
     h_prepare_tunnel},
    {R, PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3, N, &args_prepare_tunnel_old, FALSE, 0,
     h_prepare_tunnel},
    {R, PROC_DOMAIN_MIGRATE_BEGIN3, D, &args_begin_old, FALSE, 0, h_begin},
    {R, PROC_DOMAIN_MIGRATE_PREPARE3, N, &args_prepare_old, FALSE, 0, h_prepare},
    {R, PROC_DOMAIN_MIGRATE_PERFORM3, D, &args_perform_old, FALSE, 0, h_perform},
    {R, PROC_DOMAIN_MIGRATE_FINISH3, N, &args_finish_old, FALSE, 0, h_finish},
    {R, PROC_DOMAIN_MIGRATE_CONFIRM3, D, &args_confirm_old, FALSE, 0, h_confirm},
    {R, PROC_DOMAIN_MIGRATE_START_POST_COPY, D, NULL, TRUE, 0, h_start_postcopy},
    {R, PROC_DOMAIN_MIGRATE_SET_MAX_DOWNTIME, D, &args_u64, TRUE, 0, h_set_downtime},
    {R, PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME, D, NULL, TRUE, 0, h_get_downtime},
    {R, PROC_DOMAIN_MIGRATE_SET_MAX_SPEED, D, &args_u64, TRUE, 0, h_set_speed},
    {R, PROC_DOMAIN_MIGRATE_GET_MAX_SPEED, D, NULL, TRUE, 0, h_get_speed},
    {R, PROC_DOMAIN_MIGRATE_GET_COMPRESSION_CACHE, D, NULL, TRUE, 0, h_get_compression_cache},
    {R, PROC_DOMAIN_MIGRATE_SET_COMPRESSION_CACHE, D, &args_u64, TRUE, 0, h_set_compression_cache},
};
const gsize migrate_procs_count = G_N_ELEMENTS(migrate_procs);
