/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server: non-blocking sockets on the main loop, one GSource per connection. A call is
 * dispatched as soon as its frame is complete, even while earlier calls still wait for QEMU:
 * the serial ties replies to calls.
 *
 * Limits, as libvirtd has them and where it has none: reading from a client pauses while it
 * has max_client_requests calls in progress or max_queued_output bytes of replies it has not
 * read; frames beyond the 4 KiB every connection may buffer draw on one input budget shared by
 * all connections, and a frame holding budget must arrive whole within frame_timeout_s. A
 * round of one connection handles at most FRAMES_PER_ROUND frames, so a client that pipelines
 * thousands of calls cannot starve the others. Steady state costs poll, recv and sendmsg per
 * call: replies written during a round go out together at its end, and the poll events of a
 * connection only change when it is throttled or its output backs up. */
#include "daemon/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define IN_BASE 4096
#define FRAMES_PER_ROUND 64
#define STREAM_CHUNK (256 * 1024) /* libvirt's stream packets carry at most 256 KiB */

struct listener {
    struct server *srv;
    int fd;
    guint watch;
    gboolean readonly;
    gboolean tls; /* connections speak TLS first (the server's credentials) */
    char *path;   /* a unix socket's we made, unlinked at the end */
    gboolean unix_socket;
    guint retry;
};

struct server {
    struct core *core;
    struct server_limits lim;
    GPtrArray *listeners;
    GPtrArray *clients;
    struct rpc_tls_creds *tls; /* for tls:// listeners */
    gboolean stopping;         /* daemon exit: connections close but their domains live on */
    gboolean accept_paused;
    gsize budget_used;
    GQueue budget_waiters; /* struct client *, referenced */
    guint tick;
};

struct close_hook {
    void (*fn)(struct client *, gpointer);
    gpointer data;
};

struct client_source {
    GSource base;
    struct client *client;
};

static void client_close(struct client *c);
static void update_events(struct client *c);
static void listeners_pause(struct server *srv, gboolean pause);
static void wake_drained(struct client *c);

void
server_limits_default(struct server_limits *ret)
{
    ret->max_clients = 5000;
    ret->max_client_requests = 5;
    ret->max_queued_output = 1024 * 1024;
    ret->max_output_backlog = 32 * 1024 * 1024;
    ret->input_budget = RPC_MESSAGE_MAX + 1024 * 1024;
    ret->frame_timeout_s = 30;
    ret->keepalive_interval = 5;
    ret->keepalive_count = 5;
}

struct core *
server_core(struct server *srv)
{
    return srv->core;
}

struct client *
client_ref(struct client *c)
{
    c->refs++;
    return c;
}

void
client_unref(struct client *c)
{
    if (--c->refs > 0)
        return;
    rpc_session_clear(&c->s);
    g_ptr_array_free(c->events, TRUE);
    g_ptr_array_free(c->close_hooks, TRUE);
    g_free(c->peer);
    g_free(c);
}

static gboolean
throttled(const struct client *c)
{
    const struct server_limits *lim = &c->srv->lim;
    return c->closing || c->holds > 0 || c->inflight >= lim->max_client_requests ||
           c->s.out_bytes >= lim->max_queued_output;
}

/* A whole frame is buffered and may be handled now. */
static gboolean
can_handle(const struct client *c)
{
    return !c->dead && !throttled(c) && rpc_session_has_frame(&c->s);
}

static gboolean
wants_read(const struct client *c)
{
    return !c->dead && !c->handshaking && !throttled(c) && !c->budget_wait &&
           !rpc_session_has_frame(&c->s);
}

/* Input is ready without polling: decrypted bytes wait inside TLS. */
static gboolean
input_buffered(const struct client *c)
{
    return wants_read(c) && rpc_session_in_buffered(&c->s);
}

/* --- input budget --- */

static void
budget_release(struct client *c)
{
    struct server *srv = c->srv;
    if (c->in_reserved == 0)
        return;
    srv->budget_used -= c->in_reserved;
    c->in_reserved = 0;
    c->frame_deadline = 0;
    while (!g_queue_is_empty(&srv->budget_waiters)) {
        struct client *w = g_queue_pop_head(&srv->budget_waiters);
        w->budget_wait = FALSE;
        if (!w->dead)
            update_events(w);
        client_unref(w);
    }
}

/* Reserves what the partial frame needs beyond the base buffer. FALSE: wait for budget. */
static gboolean
budget_reserve(struct client *c, gsize need)
{
    struct server *srv = c->srv;
    gsize extra = need > IN_BASE ? need - IN_BASE : 0;
    if (extra <= c->in_reserved)
        return TRUE;
    gsize more = extra - c->in_reserved;
    if (srv->budget_used + more > srv->lim.input_budget) {
        if (!c->budget_wait) {
            log_debug("client fd %d: a frame of %zu bytes waits for input budget", c->fd, need);
            c->budget_wait = TRUE;
            c->refs++;
            g_queue_push_tail(&srv->budget_waiters, c);
        }
        return FALSE;
    }
    srv->budget_used += more;
    if (c->in_reserved == 0)
        c->frame_deadline =
            g_get_monotonic_time() + (gint64)srv->lim.frame_timeout_s * G_USEC_PER_SEC;
    c->in_reserved = extra;
    return TRUE;
}

/* --- output --- */

static void
client_flush(struct client *c)
{
    if (c->dead)
        return;
    if (!rpc_session_flush(&c->s)) {
        log_debug("client fd %d: write failed: %s", c->fd, g_strerror(errno));
        client_close(c);
        return;
    }
    if (c->s.out_bytes > c->srv->lim.max_output_backlog) {
        log_warn("client fd %d (pid %d) does not read its replies (%zu bytes waiting); "
                 "dropping the connection",
                 c->fd, (int)c->pid, c->s.out_bytes);
        client_close(c);
        return;
    }
    if (c->closing && !rpc_session_out_pending(&c->s) && !c->corked)
        client_close(c);
    else if (g_hash_table_size(c->s.streams) > 0)
        wake_drained(c);
}

/* Queues MSG; written at once unless the client's round is in progress. Writing may drop
 * the connection (its backlog is full): the caller may hold no reference (an event), so one
 * is held here until the client is no longer touched. */
static void
client_queue_fds(struct client *c, GByteArray *msg, const int *fds, guint nfds)
{
    if (c->dead) {
        g_byte_array_unref(msg);
        for (guint i = 0; i < nfds; i++)
            close(fds[i]);
        return;
    }
    client_ref(c);
    rpc_session_queue(&c->s, msg, fds, nfds);
    if (!c->corked) {
        client_flush(c);
        if (!c->dead)
            update_events(c);
    }
    client_unref(c);
}

static void
client_queue(struct client *c, GByteArray *msg)
{
    client_queue_fds(c, msg, NULL, 0);
}

static void
send_frame(struct client *c, const struct rpc_header *hdr, const GByteArray *body)
{
    GByteArray *msg = rpc_session_message_new(hdr, body ? body->len : 0);
    if (body)
        g_byte_array_append(msg, body->data, body->len);
    client_queue(c, msg);
}

void
client_send_message(struct client *c, uint32_t proc, GByteArray *body)
{
    client_send_message_prog(c, RPC_PROGRAM_REMOTE, proc, body);
}

void
client_send_message_prog(struct client *c, uint32_t prog, uint32_t proc, GByteArray *body)
{
    struct rpc_header hdr = {prog, RPC_PROTOCOL_VERSION, proc, RPC_MESSAGE, 1, RPC_OK};
    send_frame(c, &hdr, body);
}

static void
call_free(struct call *call)
{
    struct client *c = call->client;
    gboolean was_full = c->inflight >= c->srv->lim.max_client_requests;
    c->inflight--;
    if (was_full && !c->dead && !c->corked)
        update_events(c);
    client_unref(c);
    for (guint i = 0; i < call->nfds; i++)
        if (call->fds[i] >= 0)
            close(call->fds[i]);
    g_free(call);
}

int
call_take_fd(struct call *call, guint i)
{
    if (i >= call->nfds)
        return -1;
    int fd = call->fds[i];
    call->fds[i] = -1;
    return fd;
}

void
call_reply(struct call *call, GByteArray *body)
{
    struct rpc_header hdr = call->hdr;
    hdr.type = RPC_REPLY;
    hdr.status = RPC_OK;
    if (call->hdr.prog == RPC_PROGRAM_REMOTE && call->hdr.proc == PROC_CONNECT_CLOSE)
        call->client->closing = TRUE;
    send_frame(call->client, &hdr, body);
    call_free(call);
}

void
call_reply_fd(struct call *call, int fd)
{
    struct rpc_header hdr = call->hdr;
    hdr.type = RPC_REPLY_WITH_FDS;
    hdr.status = RPC_OK;
    /* libvirt's form: the descriptor count after the header, each descriptor after the
     * message in a one-byte SCM_RIGHTS carrier */
    GByteArray *msg = rpc_session_message_new(&hdr, 4);
    xdr_put_u32(msg, 1);
    client_queue_fds(call->client, msg, &fd, 1);
    call_free(call);
}

gboolean
call_can_pass_fds(struct call *call)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    return getsockname(call->client->fd, (struct sockaddr *)&sa, &len) == 0 &&
           sa.ss_family == AF_UNIX;
}

void
call_fail(struct call *call, const GError *error)
{
    struct rpc_header hdr = call->hdr;
    hdr.type = RPC_REPLY;
    hdr.status = RPC_ERROR;
    g_autoptr(GByteArray) body = g_byte_array_new();
    rpc_put_error(body, error);
    log_debug("call %u (proc %u) failed: %s", hdr.serial, hdr.proc, error->message);
    send_frame(call->client, &hdr, body);
    call_free(call);
}

void
client_add_close_hook(struct client *c, void (*fn)(struct client *, gpointer), gpointer data)
{
    struct close_hook *h = g_new0(struct close_hook, 1);
    h->fn = fn;
    h->data = data;
    g_ptr_array_add(c->close_hooks, h);
}

static void
client_close(struct client *c)
{
    if (c->dead)
        return;
    struct server *srv = c->srv;
    c->dead = TRUE;
    c->refs++;
    log_debug("client fd %d closed", c->fd);
    g_source_destroy(c->source);
    g_source_unref(c->source);
    c->source = NULL;
    if (c->budget_wait) {
        g_queue_remove(&srv->budget_waiters, c);
        c->budget_wait = FALSE;
        c->refs--;
    }
    budget_release(c);
    for (guint i = 0; i < c->close_hooks->len; i++) {
        struct close_hook *h = c->close_hooks->pdata[i];
        h->fn(c, h->data);
    }
    rpc_session_close_streams(&c->s);
    if (!srv->stopping)
        core_autodestroy_owner(srv->core, c);
    close(c->fd);
    c->fd = -1;
    c->s.fd = -1;
    if (g_ptr_array_remove(srv->clients, c))
        client_unref(c);
    if (srv->accept_paused && srv->clients->len < srv->lim.max_clients && !srv->stopping)
        listeners_pause(srv, FALSE);
    client_unref(c);
}

void
client_keepalive_settings(const struct client *c, int *ret_interval, int *ret_count)
{
    *ret_interval = c->srv->lim.keepalive_interval;
    *ret_count = c->srv->lim.keepalive_count;
}

void
client_enable_keepalive(struct client *c)
{
    c->keepalive = TRUE;
    rpc_keepalive_start(&c->s.ka, c->srv->lim.keepalive_interval, c->srv->lim.keepalive_count);
}

/* --- streams --- */

static void update_events(struct client *c);

void
client_stream_hold(struct stream *st, gboolean hold)
{
    struct client *c = st->client;
    if (st->held == hold)
        return;
    st->held = hold;
    if (hold) {
        c->holds++;
        return;
    }
    c->holds--;
    /* frames may wait in the buffer already: the loop looks at the connection again */
    update_events(c);
    g_main_context_wakeup(NULL);
}

static void
on_rpc_stream_close(struct rpc_stream *rs, gpointer user)
{
    struct stream *st = user;
    client_stream_hold(st, FALSE);
    if (st->drain_idle)
        g_source_remove(st->drain_idle);
    if (st->on_close)
        st->on_close(st, TRUE, st->user);
    g_free(st);
}

struct stream *
client_stream_open(struct call *call)
{
    struct client *c = call->client;
    struct rpc_stream *rs =
        rpc_session_stream_open(&c->s, call->hdr.prog, call->hdr.proc, call->hdr.serial, NULL);
    g_assert(rs); /* the serial was checked free before dispatch */
    struct stream *st = g_new0(struct stream, 1);
    st->client = c;
    st->rs = rs;
    rs->user = st;
    rs->on_close = on_rpc_stream_close;
    return st;
}

gsize
client_stream_backlog(struct stream *st)
{
    return st->client->s.out_bytes;
}

static gboolean
drain_fire(gpointer data)
{
    struct stream *st = data;
    void (*fn)(gpointer) = st->on_drain;
    st->drain_idle = 0;
    st->on_drain = NULL;
    if (fn)
        fn(st->drain_data);
    return G_SOURCE_REMOVE;
}

void
client_stream_on_drain(struct stream *st, gsize limit, void (*fn)(gpointer data), gpointer data)
{
    st->on_drain = fn;
    st->drain_data = data;
    st->drain_limit = limit;
    if (st->client->s.out_bytes <= limit && !st->drain_idle)
        st->drain_idle = g_idle_add(drain_fire, st);
}

/* After a write: the streams waiting for the backlog to come down hear of it on the next loop
 * turn (never from inside the write, where a send would re-enter) */
static void
wake_drained(struct client *c)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->s.streams);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct stream *st = ((struct rpc_stream *)value)->user;
        if (st && st->on_drain && !st->drain_idle && c->s.out_bytes <= st->drain_limit)
            st->drain_idle = g_idle_add(drain_fire, st);
    }
}

/* FALSE: the connection is gone (dropped by this send, or before), and with it ST. */
static gboolean
stream_send(struct stream *st, enum rpc_type type, enum rpc_status status, const uint8_t *data,
            gsize len)
{
    struct client *c = st->client;
    if (c->dead)
        return FALSE;
    struct rpc_stream *rs = st->rs;
    struct rpc_header hdr = {rs->prog, RPC_PROTOCOL_VERSION, rs->proc, type, rs->serial, status};
    GByteArray *msg = rpc_session_message_new(&hdr, len);
    if (len)
        g_byte_array_append(msg, data, (guint)len);
    client_ref(c);
    client_queue(c, msg);
    gboolean open = !c->dead;
    client_unref(c);
    return open;
}

gboolean
client_stream_send_hole(struct stream *st, guint64 length)
{
    g_autoptr(GByteArray) body = g_byte_array_new();
    xdr_put_u64(body, length); /* virNetStreamHole: length, flags */
    xdr_put_u32(body, 0);
    return stream_send(st, RPC_STREAM_HOLE, RPC_CONTINUE, body->data, body->len);
}

gboolean
client_stream_send(struct stream *st, const uint8_t *data, gsize len)
{
    while (len > 0) {
        gsize n = MIN(len, STREAM_CHUNK);
        if (!stream_send(st, RPC_STREAM, RPC_CONTINUE, data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

void
client_stream_end(struct stream *st, const GError *error)
{
    if (error) {
        g_autoptr(GByteArray) body = g_byte_array_new();
        rpc_put_error(body, error);
        st->on_close = NULL;
        if (stream_send(st, RPC_STREAM, RPC_ERROR, body->data, body->len))
            rpc_session_stream_close(&st->client->s, st->rs); /* frees st */
        return;
    }
    /* EOF is an empty CONTINUE packet, as libvirtd sends it; the stream stays open until the
     * client finishes (or aborts) it and gets its confirmation */
    st->on_close = NULL;
    if (!stream_send(st, RPC_STREAM, RPC_CONTINUE, NULL, 0))
        return;
    st->on_data = NULL;
    st->on_finish = NULL;
    st->on_hole = NULL;
    st->user = NULL;
}

static void
handle_stream(struct client *c, const struct rpc_frame *f)
{
    struct rpc_stream *rs = rpc_session_stream_find(&c->s, &f->hdr);
    if (!rs) {
        log_debug("client fd %d: stream message for no open stream (serial %u) dropped", c->fd,
                  f->hdr.serial);
        return;
    }
    struct stream *st = rs->user;
    if (f->hdr.status == RPC_CONTINUE) {
        if (f->len && st->on_data)
            st->on_data(st, f->body, f->len, st->user);
        return;
    }
    /* finish (OK) or abort (ERROR): confirm with an empty OK, as libvirtd does, or with the
     * error that kept a finish from completing */
    g_autoptr(GError) error = NULL;
    if (f->hdr.status == RPC_OK && st->on_finish && !st->on_finish(st, st->user, &error)) {
        g_autoptr(GByteArray) ebody = g_byte_array_new();
        rpc_put_error(ebody, error);
        stream_send(st, RPC_STREAM, RPC_ERROR, ebody->data, ebody->len);
    } else {
        stream_send(st, RPC_STREAM, RPC_OK, NULL, 0);
    }
    if (st->on_close)
        st->on_close(st, f->hdr.status != RPC_OK || error != NULL, st->user);
    st->on_close = NULL;
    rpc_session_stream_close(&c->s, rs); /* frees st */
}

static void
handle_stream_hole(struct client *c, const struct rpc_frame *f)
{
    struct rpc_stream *rs = rpc_session_stream_find(&c->s, &f->hdr);
    struct xdr_reader r;
    xdr_reader_init(&r, f->body, f->len);
    guint64 length = xdr_get_u64(&r);
    xdr_get_u32(&r);
    if (!rs)
        return;
    struct stream *st = rs->user;
    g_autoptr(GError) error = NULL;
    if (!xdr_reader_finish(&r, &error) || !st->on_hole) {
        if (!error)
            err_set(&error, ERR_FROM_RPC, ERR_RPC,
                    "unexpected stream hole; open the stream as sparse");
        if (st->on_close)
            st->on_close(st, TRUE, st->user);
        st->on_close = NULL;
        client_stream_end(st, error);
        return;
    }
    st->on_hole(st, length, st->user);
}

/* --- calls --- */

/* Refuses a call before dispatch, with the call's own header. */
static void refuse_call(struct client *c, const struct rpc_header *hdr, int code, const char *fmt,
                        ...) G_GNUC_PRINTF(4, 5);

static void
refuse_call(struct client *c, const struct rpc_header *hdr, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    log_debug("client fd %d: %s", c->fd, msg);
    struct call *call = g_new0(struct call, 1);
    call->client = c;
    c->refs++;
    c->inflight++;
    call->hdr = *hdr;
    g_autoptr(GError) err = NULL;
    err_set(&err, ERR_FROM_RPC, code, "%s", msg);
    call_fail(call, err);
}

static gboolean
program_known(const struct rpc_header *hdr)
{
    return (hdr->prog == RPC_PROGRAM_REMOTE || hdr->prog == RPC_PROGRAM_QEMU ||
            hdr->prog == RPC_PROGRAM_DOMUS) &&
           hdr->vers == RPC_PROTOCOL_VERSION;
}

/* One complete frame. Every message, from the first on, has its program and version
 * checked; only calls get an answer when they are wrong. */
static void handle_frame_fds(struct client *c, const struct rpc_frame *f, int *fds);

static void
handle_frame(struct client *c, const struct rpc_frame *f)
{
    /* the descriptors of a CALL_WITH_FDS are ours now: the call takes them, or they close */
    int fds[RPC_FDS_MAX];
    memcpy(fds, f->fds, sizeof(int) * f->nfds);
    handle_frame_fds(c, f, fds);
    for (guint i = 0; i < f->nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void
handle_frame_fds(struct client *c, const struct rpc_frame *f, int *fds)
{
    const struct rpc_header *hdr = &f->hdr;
    rpc_keepalive_heard(&c->s.ka);
    if (rpc_session_keepalive_frame(&c->s, f))
        return;
    if (!program_known(hdr)) {
        if (hdr->type == RPC_CALL || hdr->type == RPC_CALL_WITH_FDS)
            refuse_call(c, hdr, ERR_RPC,
                        "unknown program 0x%x version %u; this daemon speaks "
                        "libvirt's remote program 0x%x version %u",
                        hdr->prog, hdr->vers, RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION);
        else
            log_debug("client fd %d: message of unknown program 0x%x version %u dropped", c->fd,
                      hdr->prog, hdr->vers);
        return;
    }
    switch (hdr->type) {
    case RPC_STREAM:
        handle_stream(c, f);
        return;
    case RPC_STREAM_HOLE:
        handle_stream_hole(c, f);
        return;
    case RPC_CALL:
    case RPC_CALL_WITH_FDS:
        break;
    default:
        log_debug("client fd %d: unexpected message type %u dropped", c->fd, hdr->type);
        return;
    }
    if (hdr->status != RPC_OK) {
        refuse_call(c, hdr, ERR_RPC, "call with status %u; calls have status 0", hdr->status);
        return;
    }
    if (rpc_session_serial_busy(&c->s, hdr->serial)) {
        refuse_call(c, hdr, ERR_RPC,
                    "serial %u is in use by an open stream; a call needs a serial of its own",
                    hdr->serial);
        return;
    }
    struct call *call = g_new0(struct call, 1);
    call->client = c;
    c->refs++;
    c->inflight++;
    call->hdr = *hdr;
    for (guint i = 0; i < f->nfds; i++) {
        call->fds[i] = fds[i];
        fds[i] = -1;
    }
    call->nfds = f->nfds;
    dispatch_call(call, f->body, f->len);
}

/* --- the connection's round --- */

static void
client_read(struct client *c)
{
    gsize need = rpc_session_in_capacity_needed(&c->s);
    if (!budget_reserve(c, need))
        return;
    gboolean eof;
    gssize n = rpc_session_recv(&c->s, IN_BASE + c->in_reserved, &eof);
    if (n > 0 || (n < 0 && errno == EAGAIN))
        return;
    if (!eof)
        log_debug("client fd %d: read failed: %s", c->fd, g_strerror(errno));
    client_close(c);
}

/* One step of a TLS connection's handshake; once done, the client's certificate is checked
 * and libvirt's confirmation byte goes out, or the connection is closed and the log says why
 * (the client only learns that it was refused). */
static void
tls_step(struct client *c)
{
    g_autoptr(GError) error = NULL;
    enum rpc_tls_step st = rpc_tls_handshake(c->s.tls, &error);
    if (st == RPC_TLS_WANT_READ || st == RPC_TLS_WANT_WRITE) {
        c->handshake_write = st == RPC_TLS_WANT_WRITE;
        return;
    }
    if (st == RPC_TLS_DONE && rpc_tls_check_peer(c->s.tls, &error)) {
        static const uint8_t confirm = 1;
        c->handshaking = FALSE;
        c->handshake_deadline = 0;
        log_info("client %s: TLS connection from '%s'", c->peer,
                 rpc_tls_peer_dn(c->s.tls) ? rpc_tls_peer_dn(c->s.tls) : "(not checked)");
        rpc_session_queue_raw(&c->s, &confirm, 1);
        return;
    }
    log_warn("client %s refused: %s", c->peer, error->message);
    client_close(c);
}

static void
handle_frames(struct client *c)
{
    for (int i = 0; i < FRAMES_PER_ROUND && can_handle(c); i++) {
        struct rpc_frame f;
        g_autoptr(GError) error = NULL;
        if (!rpc_session_next_frame(&c->s, &f, &error)) {
            if (error) {
                log_info("client fd %d: %s; closing", c->fd, error->message);
                client_close(c);
            }
            return;
        }
        handle_frame(c, &f);
        if (c->dead)
            return;
        rpc_session_consume(&c->s, &f);
    }
    if (c->in_reserved && rpc_session_in_missing(&c->s, NULL) == 0 &&
        !rpc_session_has_frame(&c->s)) {
        rpc_session_in_shrink(&c->s);
        if (rpc_session_in_allocated(&c->s) <= IN_BASE)
            budget_release(c);
    }
}

static void
update_events(struct client *c)
{
    if (c->dead)
        return;
    GIOCondition want = G_IO_HUP | G_IO_ERR;
    if (c->handshaking)
        want |= c->handshake_write ? G_IO_OUT : G_IO_IN;
    if (wants_read(c))
        want |= G_IO_IN;
    if (rpc_session_out_pending(&c->s))
        want |= G_IO_OUT;
    if (want == c->poll_events)
        return;
    c->poll_events = want;
    g_source_modify_unix_fd(c->source, c->fd_tag, want);
}

static void
client_round(struct client *c, GIOCondition revents)
{
    c->refs++;
    if (c->handshaking) {
        tls_step(c);
        if (!c->dead && c->handshaking) {
            update_events(c);
            client_unref(c);
            return;
        }
    }
    c->corked = TRUE;
    if ((revents & G_IO_OUT) && rpc_session_out_pending(&c->s))
        client_flush(c);
    if (!c->dead && (revents & (G_IO_HUP | G_IO_ERR)) && !(c->poll_events & G_IO_IN)) {
        /* the peer is gone while we do not read from it */
        client_close(c);
    }
    if (!c->dead && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR) || input_buffered(c)) &&
        wants_read(c))
        client_read(c);
    if (!c->dead)
        handle_frames(c);
    c->corked = FALSE;
    client_flush(c);
    update_events(c);
    client_unref(c);
}

static gboolean
source_prepare(GSource *source, gint *timeout)
{
    struct client *c = ((struct client_source *)source)->client;
    *timeout = -1;
    return can_handle(c) || input_buffered(c);
}

static gboolean
source_check(GSource *source)
{
    struct client *c = ((struct client_source *)source)->client;
    if (can_handle(c) || input_buffered(c))
        return TRUE;
    return (g_source_query_unix_fd(source, c->fd_tag) & (c->poll_events | G_IO_HUP | G_IO_ERR)) !=
           0;
}

static gboolean
source_dispatch(GSource *source, GSourceFunc callback, gpointer user)
{
    struct client *c = ((struct client_source *)source)->client;
    client_round(c, g_source_query_unix_fd(source, c->fd_tag));
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .prepare = source_prepare,
    .check = source_check,
    .dispatch = source_dispatch,
};

/* --- the server's clock: keepalive and slow senders --- */

static gboolean
on_tick(gpointer user)
{
    struct server *srv = user;
    gint64 now = g_get_monotonic_time();
    g_autoptr(GPtrArray) all = g_ptr_array_copy(srv->clients, NULL, NULL);
    for (guint i = 0; i < all->len; i++) {
        struct client *c = all->pdata[i];
        if (c->dead)
            continue;
        if (c->handshaking && now > c->handshake_deadline) {
            log_warn("client %s refused: no TLS handshake within %u s", c->peer,
                     srv->lim.frame_timeout_s);
            client_close(c);
            continue;
        }
        if (c->in_reserved && c->frame_deadline && now > c->frame_deadline) {
            log_info("client fd %d (pid %d): a frame took longer than %u s to arrive; closing",
                     c->fd, (int)c->pid, srv->lim.frame_timeout_s);
            client_close(c);
            continue;
        }
        if (!c->keepalive)
            continue;
        if (!(c->poll_events & G_IO_IN)) {
            /* we are not reading: its answers wait in the socket */
            rpc_keepalive_heard(&c->s.ka);
            continue;
        }
        switch (rpc_keepalive_check(&c->s.ka)) {
        case RPC_KEEPALIVE_NONE:
            break;
        case RPC_KEEPALIVE_SEND_PING:
            rpc_session_send_ping(&c->s);
            client_flush(c);
            update_events(c);
            break;
        case RPC_KEEPALIVE_DEAD:
            log_info("client fd %d: no keepalive answer for %d s; closing", c->fd,
                     srv->lim.keepalive_interval * (srv->lim.keepalive_count + 1));
            client_close(c);
            break;
        }
    }
    return G_SOURCE_CONTINUE;
}

/* --- listeners --- */

static gboolean listener_resume(gpointer user);
static gboolean on_accept(int fd, GIOCondition cond, gpointer user);

static void
listeners_pause(struct server *srv, gboolean pause)
{
    srv->accept_paused = pause;
    for (guint i = 0; i < srv->listeners->len; i++) {
        struct listener *l = srv->listeners->pdata[i];
        if (pause && l->watch) {
            g_source_remove(l->watch);
            l->watch = 0;
        } else if (!pause && !l->watch && !l->retry) {
            l->watch = g_unix_fd_add(l->fd, G_IO_IN, on_accept, l);
        }
    }
    if (pause)
        log_warn("%u clients connected (max_clients); new connections wait", srv->clients->len);
}

/* "ADDR:PORT" ("[V6]:PORT") of a TCP peer, for the log */
static char *
peer_name(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return g_strdup_printf("fd %d", fd);
    return ss.ss_family == AF_INET6 ? g_strdup_printf("[%s]:%s", host, port)
                                    : g_strdup_printf("%s:%s", host, port);
}

static void
client_new(struct listener *l, int cfd)
{
    struct server *srv = l->srv;
    struct client *c = g_new0(struct client, 1);
    c->srv = srv;
    c->fd = cfd;
    rpc_session_init(&c->s, cfd, IN_BASE);
    if (l->unix_socket)
        rpc_session_accept_fds(&c->s);
    c->readonly = l->readonly;
    c->poll_events = G_IO_IN | G_IO_HUP | G_IO_ERR;
    c->events = g_ptr_array_new_with_free_func(event_reg_free);
    c->close_hooks = g_ptr_array_new_with_free_func(g_free);
    c->next_callback_id = 1;
    c->refs = 1;
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    if (l->unix_socket && getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
        c->uid = cred.uid;
        c->pid = cred.pid;
    }
    c->peer = l->unix_socket ? g_strdup_printf("fd %d", cfd) : peer_name(cfd);
    if (l->tls) {
        g_autoptr(GError) error = NULL;
        struct rpc_tls *t = rpc_tls_new(srv->tls, cfd, NULL, &error);
        if (!t) {
            log_warn("client %s refused: %s", c->peer, error->message);
            close(cfd);
            g_free(c->peer);
            rpc_session_clear(&c->s);
            g_ptr_array_free(c->events, TRUE);
            g_ptr_array_free(c->close_hooks, TRUE);
            g_free(c);
            return;
        }
        rpc_session_set_tls(&c->s, t);
        c->handshaking = TRUE;
        c->handshake_deadline =
            g_get_monotonic_time() + (gint64)srv->lim.frame_timeout_s * G_USEC_PER_SEC;
    }
    log_debug("client fd %d connected (pid %d, uid %d%s)", cfd, (int)c->pid, (int)c->uid,
              c->readonly ? ", read-only" : "");
    g_ptr_array_add(srv->clients, c);
    GSource *source = g_source_new(&client_source_funcs, sizeof(struct client_source));
    ((struct client_source *)source)->client = c;
    g_source_set_name(source, "domus client");
    /* GLib takes a non-recursive source's descriptors out of the poll set while it
     * dispatches and puts them back after, each time waking the loop through its eventfd:
     * two writes and a read per call. Our dispatch runs no nested loop. */
    g_source_set_can_recurse(source, TRUE);
    c->fd_tag = g_source_add_unix_fd(source, cfd, c->poll_events);
    c->source = source;
    g_source_attach(source, NULL);
    if (srv->clients->len >= srv->lim.max_clients)
        listeners_pause(srv, TRUE);
}

static gboolean
on_accept(int fd, GIOCondition cond, gpointer user)
{
    struct listener *l = user;
    int cfd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            /* out of descriptors: stop accepting for a moment instead of spinning */
            log_warn("accept on '%s': %s; pausing for 1 s", l->path ? l->path : "a TCP socket",
                     g_strerror(errno));
            l->watch = 0;
            l->retry = g_timeout_add_seconds(1, listener_resume, l);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    client_new(l, cfd);
    return l->watch ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
listener_resume(gpointer user)
{
    struct listener *l = user;
    l->retry = 0;
    if (!l->srv->accept_paused)
        l->watch = g_unix_fd_add(l->fd, G_IO_IN, on_accept, l);
    return G_SOURCE_REMOVE;
}

struct server *
server_new(struct core *core, const struct server_limits *limits)
{
    struct server *srv = g_new0(struct server, 1);
    srv->core = core;
    if (limits)
        srv->lim = *limits;
    else
        server_limits_default(&srv->lim);
    srv->listeners = g_ptr_array_new();
    srv->clients = g_ptr_array_new();
    g_queue_init(&srv->budget_waiters);
    srv->tick = g_timeout_add_seconds(1, on_tick, srv);
    return srv;
}

gboolean
server_adopt(struct server *srv, int fd, gboolean readonly, gboolean tls, GError **error)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
        (len = sizeof(listening), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) <
            0 ||
        !listening) {
        err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED,
                "descriptor %d is not a listening stream socket", fd);
        return FALSE;
    }
    g_assert(!tls || srv->tls);
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    struct listener *l = g_new0(struct listener, 1);
    l->srv = srv;
    l->fd = fd;
    l->readonly = readonly;
    l->tls = tls;
    struct sockaddr_storage ss;
    len = sizeof(ss);
    /* a unix socket's clients are told apart by their credentials; its path stays (systemd
     * owns it) */
    l->unix_socket = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_UNIX;
    if (!srv->accept_paused)
        l->watch = g_unix_fd_add(fd, G_IO_IN, on_accept, l);
    g_ptr_array_add(srv->listeners, l);
    return TRUE;
}

gboolean
server_listen(struct server *srv, const char *path, int mode, gboolean readonly, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED,
                "socket path '%s' is too long (limit %zu bytes)", path, sizeof(addr.sun_path) - 1);
        return FALSE;
    }
    /* bound and listening under a temporary name, then renamed into place: a client that
     * sees the socket can connect to it */
    g_autofree char *tmp = g_strdup_printf("%s.new", path);
    if (strlen(tmp) >= sizeof(addr.sun_path)) {
        err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED,
                "socket path '%s' is too long (limit %zu bytes)", path, sizeof(addr.sun_path) - 5);
        return FALSE;
    }
    g_strlcpy(addr.sun_path, tmp, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_RPC, errno, "cannot create socket");
        return FALSE;
    }
    unlink(tmp);
    mode_t old = umask(0777 & ~mode);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (rc < 0 || chmod(tmp, mode) < 0 || listen(fd, 64) < 0 || rename(tmp, path) < 0) {
        err_set_errno(error, ERR_FROM_RPC, errno, "cannot listen on '%s'", path);
        unlink(tmp);
        close(fd);
        return FALSE;
    }
    struct listener *l = g_new0(struct listener, 1);
    l->srv = srv;
    l->fd = fd;
    l->readonly = readonly;
    l->path = g_strdup(path);
    l->unix_socket = TRUE;
    if (!srv->accept_paused)
        l->watch = g_unix_fd_add(fd, G_IO_IN, on_accept, l);
    g_ptr_array_add(srv->listeners, l);
    return TRUE;
}

void
server_set_tls(struct server *srv, struct rpc_tls_creds *creds)
{
    rpc_tls_creds_free(srv->tls);
    srv->tls = creds;
}

gboolean
server_listen_tcp(struct server *srv, const char *host, const char *port, gboolean tls,
                  GError **error)
{
    g_assert(!tls || srv->tls);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED, "cannot listen on '%s' port %s: %s",
                host && *host ? host : "*", port, gai_strerror(rc));
        return FALSE;
    }
    gboolean ok = TRUE;
    for (struct addrinfo *ai = res; ai && ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;
        if (fd >= 0) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (ai->ai_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
            err_set_errno(error, ERR_FROM_RPC, errno, "cannot listen on '%s' port %s",
                          host && *host ? host : "*", port);
            if (fd >= 0)
                close(fd);
            ok = FALSE;
            break;
        }
        struct listener *l = g_new0(struct listener, 1);
        l->srv = srv;
        l->fd = fd;
        l->tls = tls;
        if (!srv->accept_paused)
            l->watch = g_unix_fd_add(fd, G_IO_IN, on_accept, l);
        g_ptr_array_add(srv->listeners, l);
    }
    freeaddrinfo(res);
    return ok;
}

void
server_free(struct server *srv)
{
    if (!srv)
        return;
    srv->stopping = TRUE;
    while (srv->clients->len > 0)
        client_close(srv->clients->pdata[0]);
    for (guint i = 0; i < srv->listeners->len; i++) {
        struct listener *l = srv->listeners->pdata[i];
        if (l->watch)
            g_source_remove(l->watch);
        if (l->retry)
            g_source_remove(l->retry);
        close(l->fd);
        if (l->path)
            unlink(l->path);
        g_free(l->path);
        g_free(l);
    }
    g_source_remove(srv->tick);
    g_ptr_array_free(srv->listeners, TRUE);
    g_ptr_array_free(srv->clients, TRUE);
    rpc_tls_creds_free(srv->tls);
    g_free(srv);
}
