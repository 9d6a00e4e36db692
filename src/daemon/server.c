/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server: non-blocking sockets on the main loop. A call is dispatched as soon as its frame is
 * complete, even while earlier calls still wait for QEMU: the serial ties replies to calls.
 * The length word is checked before a body is buffered. */
#include "daemon/server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define KEEPALIVE_INTERVAL_S 5
#define KEEPALIVE_COUNT 5

struct listener {
    struct server *srv;
    int fd;
    guint watch;
    gboolean readonly;
    char *path;
    guint retry;
};

struct server {
    struct core *core;
    GPtrArray *listeners;
    GPtrArray *clients;
    gboolean stopping; /* daemon exit: connections close but their domains live on */
};

struct close_hook {
    void (*fn)(struct client *, gpointer);
    gpointer data;
};

static void client_close(struct client *c);
static void client_close_later(struct client *c);

struct core *
server_core(struct server *srv)
{
    return srv->core;
}

static void
client_unref(struct client *c)
{
    if (--c->refs > 0)
        return;
    g_byte_array_free(c->inbuf, TRUE);
    g_queue_clear_full(&c->outq, (GDestroyNotify)g_bytes_unref);
    g_ptr_array_free(c->events, TRUE);
    g_hash_table_destroy(c->streams);
    g_ptr_array_free(c->close_hooks, TRUE);
    g_free(c);
}

static gboolean
on_client_writable(int fd, GIOCondition cond, gpointer user)
{
    struct client *c = user;
    while (!g_queue_is_empty(&c->outq)) {
        GBytes *b = g_queue_peek_head(&c->outq);
        gsize len;
        const uint8_t *data = g_bytes_get_data(b, &len);
        ssize_t n = send(c->fd, data + c->out_off, len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return G_SOURCE_CONTINUE;
            c->out_watch = 0;
            client_close(c);
            return G_SOURCE_REMOVE;
        }
        c->out_off += (gsize)n;
        if (c->out_off == len) {
            g_bytes_unref(g_queue_pop_head(&c->outq));
            c->out_off = 0;
        }
    }
    c->out_watch = 0;
    if (c->closing)
        client_close(c);
    return G_SOURCE_REMOVE;
}

static void
client_queue(struct client *c, GByteArray *msg)
{
    if (c->dead) {
        g_byte_array_unref(msg);
        return;
    }
    /* with nothing queued, try the socket at once: most replies go out here without a
     * round through the main loop */
    if (g_queue_is_empty(&c->outq)) {
        ssize_t n;
        do {
            n = send(c->fd, msg->data, msg->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n == (ssize_t)msg->len) {
            g_byte_array_unref(msg);
            if (c->closing && !c->close_pending)
                client_close_later(c);
            return;
        }
        if (n > 0)
            c->out_off = (gsize)n;
        /* errors other than EAGAIN surface when the watch finds the socket broken */
    }
    g_queue_push_tail(&c->outq, g_byte_array_free_to_bytes(msg));
    if (!c->out_watch)
        c->out_watch = g_unix_fd_add(c->fd, G_IO_OUT, on_client_writable, c);
}

static void
send_frame(struct client *c, const struct rpc_header *hdr, GByteArray *body)
{
    GByteArray *msg = g_byte_array_sized_new(RPC_HEADER_LEN + (body ? body->len : 0));
    rpc_message_begin(msg, hdr);
    if (body)
        g_byte_array_append(msg, body->data, body->len);
    rpc_message_end(msg);
    client_queue(c, msg);
}

void
client_send_message(struct client *c, uint32_t proc, GByteArray *body)
{
    struct rpc_header hdr = {
        RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, proc, RPC_MESSAGE, 1, RPC_OK};
    send_frame(c, &hdr, body);
}

static void
call_free(struct call *call)
{
    call->client->inflight--;
    client_unref(call->client);
    g_free(call);
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

/* CONNECT_CLOSE was answered: close once the current dispatch is over (the client may
 * still be in use up the stack). */
static gboolean
on_close_later(gpointer user)
{
    struct client *c = user;
    c->close_pending = FALSE;
    client_close(c);
    client_unref(c);
    return G_SOURCE_REMOVE;
}

static void
client_close_later(struct client *c)
{
    c->close_pending = TRUE;
    c->refs++;
    g_idle_add(on_close_later, c);
}

static void
client_close(struct client *c)
{
    if (c->dead)
        return;
    c->dead = TRUE;
    log_debug("client fd %d closed", c->fd);
    if (c->in_watch)
        g_source_remove(c->in_watch);
    if (c->out_watch)
        g_source_remove(c->out_watch);
    if (c->ping_timer)
        g_source_remove(c->ping_timer);
    c->in_watch = c->out_watch = c->ping_timer = 0;
    for (guint i = 0; i < c->close_hooks->len; i++) {
        struct close_hook *h = c->close_hooks->pdata[i];
        h->fn(c, h->data);
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, c->streams);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct stream *st = value;
        if (st->on_close)
            st->on_close(st, TRUE, st->user);
    }
    g_hash_table_remove_all(c->streams);
    if (!c->srv->stopping)
        core_autodestroy_owner(c->srv->core, c);
    close(c->fd);
    c->fd = -1;
    g_queue_clear_full(&c->outq, (GDestroyNotify)g_bytes_unref);
    g_ptr_array_remove(c->srv->clients, c);
    client_unref(c);
}

static void
send_keepalive(struct client *c, uint32_t proc)
{
    struct rpc_header hdr = {RPC_PROGRAM_KEEPALIVE, 1, proc, RPC_MESSAGE, 0, RPC_OK};
    send_frame(c, &hdr, NULL);
}

/* As libvirtd (keepalive_interval 5, keepalive_count 5): after 5 s without a word from the
 * client, a ping every 5 s; the fifth unanswered one closes the connection. */
static gboolean
on_ping_timer(gpointer user)
{
    struct client *c = user;
    gint64 now = g_get_monotonic_time();
    if (now - c->last_rx < KEEPALIVE_INTERVAL_S * G_USEC_PER_SEC ||
        now - c->last_ping < KEEPALIVE_INTERVAL_S * G_USEC_PER_SEC)
        return G_SOURCE_CONTINUE;
    if (c->pings_unanswered >= KEEPALIVE_COUNT) {
        log_info("client fd %d: no keepalive answer for %d s; closing", c->fd,
                 KEEPALIVE_INTERVAL_S * (KEEPALIVE_COUNT + 1));
        c->ping_timer = 0;
        client_close(c);
        return G_SOURCE_REMOVE;
    }
    c->pings_unanswered++;
    c->last_ping = now;
    send_keepalive(c, RPC_KEEPALIVE_PING);
    return G_SOURCE_CONTINUE;
}

/* Enables our own pings once a client told us it speaks keepalive. */
void client_enable_keepalive(struct client *c);

void
client_enable_keepalive(struct client *c)
{
    c->keepalive = TRUE;
    if (!c->ping_timer)
        c->ping_timer = g_timeout_add_seconds(1, on_ping_timer, c);
}

static void protocol_error(struct client *c, const struct rpc_header *hdr, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
protocol_error(struct client *c, const struct rpc_header *hdr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    log_info("client fd %d: %s", c->fd, msg);
    if (hdr && hdr->type == RPC_CALL) {
        struct call *call = g_new0(struct call, 1);
        call->client = c;
        c->refs++;
        c->inflight++;
        call->hdr = *hdr;
        g_autoptr(GError) err = NULL;
        err_set(&err, ERR_FROM_RPC, ERR_RPC, "%s", msg);
        call_fail(call, err);
    }
}

static char *
stream_key(uint32_t proc, uint32_t serial)
{
    return g_strdup_printf("%u:%u", proc, serial);
}

static void
stream_send_type(struct stream *st, enum rpc_type type, enum rpc_status status, const uint8_t *data,
                 gsize len)
{
    struct rpc_header hdr = {st->prog, RPC_PROTOCOL_VERSION, st->proc, type, st->serial, status};
    GByteArray *msg = g_byte_array_sized_new(RPC_HEADER_LEN + len);
    rpc_message_begin(msg, &hdr);
    if (len)
        g_byte_array_append(msg, data, (guint)len);
    rpc_message_end(msg);
    client_queue(st->client, msg);
}

static void
stream_send(struct stream *st, enum rpc_status status, const uint8_t *data, gsize len)
{
    stream_send_type(st, RPC_STREAM, status, data, len);
}

void
client_stream_send_hole(struct stream *st, guint64 length)
{
    g_autoptr(GByteArray) body = g_byte_array_new();
    xdr_put_u64(body, length); /* virNetStreamHole: length, flags */
    xdr_put_u32(body, 0);
    stream_send_type(st, RPC_STREAM_HOLE, RPC_CONTINUE, body->data, body->len);
}

struct stream *
client_stream_open(struct call *call)
{
    struct stream *st = g_new0(struct stream, 1);
    st->client = call->client;
    st->prog = call->hdr.prog;
    st->proc = call->hdr.proc;
    st->serial = call->hdr.serial;
    g_hash_table_insert(call->client->streams, stream_key(st->proc, st->serial), st);
    return st;
}

guint
client_stream_backlog(struct stream *st)
{
    return g_queue_get_length(&st->client->outq);
}

void
client_stream_send(struct stream *st, const uint8_t *data, gsize len)
{
    /* libvirt's stream packets carry at most 256 KiB of payload */
    while (len > 0) {
        gsize n = MIN(len, 256 * 1024);
        stream_send(st, RPC_CONTINUE, data, n);
        data += n;
        len -= n;
    }
}

void
client_stream_end(struct stream *st, const GError *error)
{
    g_autofree char *key = stream_key(st->proc, st->serial);
    if (error) {
        g_autoptr(GByteArray) body = g_byte_array_new();
        rpc_put_error(body, error);
        stream_send(st, RPC_ERROR, body->data, body->len);
        g_hash_table_remove(st->client->streams, key); /* frees st */
        return;
    }
    /* EOF is an empty CONTINUE packet, as libvirtd sends it; the stream stays open until the
     * client finishes (or aborts) it and gets its confirmation */
    stream_send(st, RPC_CONTINUE, NULL, 0);
    st->on_data = NULL;
    st->on_close = NULL;
    st->on_finish = NULL;
    st->user = NULL;
}

static void
handle_stream(struct client *c, const struct rpc_header *hdr, const uint8_t *body, gsize blen)
{
    g_autofree char *key = stream_key(hdr->proc, hdr->serial);
    struct stream *st = g_hash_table_lookup(c->streams, key);
    if (!st) {
        log_debug("client fd %d: stream message for no open stream dropped", c->fd);
        return;
    }
    if (hdr->status == RPC_CONTINUE) {
        if (blen && st->on_data)
            st->on_data(st, body, blen, st->user);
        return;
    }
    /* finish (OK) or abort (ERROR): confirm with an empty OK, as libvirtd does, or with the
     * error that kept a finish from completing */
    g_autoptr(GError) error = NULL;
    if (hdr->status == RPC_OK && st->on_finish && !st->on_finish(st, st->user, &error)) {
        g_autoptr(GByteArray) ebody = g_byte_array_new();
        rpc_put_error(ebody, error);
        stream_send(st, RPC_ERROR, ebody->data, ebody->len);
    } else {
        stream_send(st, RPC_OK, NULL, 0);
    }
    if (st->on_close)
        st->on_close(st, hdr->status != RPC_OK || error != NULL, st->user);
    g_hash_table_remove(c->streams, key); /* frees st */
}

static void
handle_stream_hole(struct client *c, const struct rpc_header *hdr, const uint8_t *body, gsize blen)
{
    g_autofree char *key = stream_key(hdr->proc, hdr->serial);
    struct stream *st = g_hash_table_lookup(c->streams, key);
    struct xdr_reader r;
    xdr_reader_init(&r, body, blen);
    guint64 length = xdr_get_u64(&r);
    xdr_get_u32(&r);
    if (!st)
        return;
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

/* Handles one complete frame. Returns FALSE when the connection must close. */
static gboolean
handle_frame(struct client *c, const uint8_t *frame, gsize len)
{
    struct rpc_header hdr;
    rpc_header_decode(frame + 4, &hdr);
    const uint8_t *body = frame + RPC_HEADER_LEN;
    gsize blen = len - RPC_HEADER_LEN;
    c->last_rx = g_get_monotonic_time();
    c->pings_unanswered = 0;

    if (hdr.prog == RPC_PROGRAM_KEEPALIVE) {
        if (hdr.proc == RPC_KEEPALIVE_PING)
            send_keepalive(c, RPC_KEEPALIVE_PONG);
        return TRUE;
    }
    if ((hdr.prog != RPC_PROGRAM_REMOTE && hdr.prog != RPC_PROGRAM_QEMU &&
         hdr.prog != RPC_PROGRAM_DOMUS) ||
        hdr.vers != RPC_PROTOCOL_VERSION) {
        protocol_error(c, &hdr, "unknown program 0x%x version %u", hdr.prog, hdr.vers);
        return hdr.type == RPC_CALL;
    }
    if (hdr.type == RPC_STREAM) {
        handle_stream(c, &hdr, body, blen);
        return TRUE;
    }
    if (hdr.type == RPC_STREAM_HOLE) {
        handle_stream_hole(c, &hdr, body, blen);
        return TRUE;
    }
    if (hdr.type != RPC_CALL) {
        protocol_error(c, NULL, "unexpected message type %u", hdr.type);
        return TRUE;
    }
    if (hdr.status != RPC_OK) {
        protocol_error(c, &hdr, "call with status %u", hdr.status);
        return TRUE;
    }
    struct call *call = g_new0(struct call, 1);
    call->client = c;
    c->refs++;
    c->inflight++;
    call->hdr = hdr;
    dispatch_call(call, body, blen);
    return TRUE;
}

static gboolean
on_client_readable(int fd, GIOCondition cond, gpointer user)
{
    struct client *c = user;
    uint8_t buf[65536];
    ssize_t n;
    do {
        n = recv(c->fd, buf, sizeof(buf), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        c->in_watch = 0;
        client_close(c);
        return G_SOURCE_REMOVE;
    }
    g_byte_array_append(c->inbuf, buf, (guint)n);
    c->refs++;
    gsize off = 0;
    while (!c->dead && c->inbuf->len - off >= 4) {
        const uint8_t *p = c->inbuf->data + off;
        uint32_t flen =
            ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
        if (flen < RPC_HEADER_LEN || flen - 4 > RPC_MESSAGE_MAX) {
            log_info("client fd %d: frame length %u outside %u..%u; closing", c->fd, flen,
                     RPC_HEADER_LEN, RPC_MESSAGE_MAX + 4);
            client_close(c);
            break;
        }
        if (c->inbuf->len - off < flen)
            break;
        if (!handle_frame(c, p, flen)) {
            client_close(c);
            break;
        }
        off += flen;
    }
    if (!c->dead && off > 0)
        g_byte_array_remove_range(c->inbuf, 0, (guint)off);
    gboolean dead = c->dead;
    client_unref(c);
    if (dead)
        return G_SOURCE_REMOVE;
    return G_SOURCE_CONTINUE;
}

static gboolean listener_resume(gpointer user);

static gboolean
on_accept(int fd, GIOCondition cond, gpointer user)
{
    struct listener *l = user;
    int cfd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            /* out of descriptors: stop accepting for a moment instead of spinning */
            log_warn("accept on '%s': %s; pausing for 1 s", l->path, g_strerror(errno));
            l->watch = 0;
            l->retry = g_timeout_add_seconds(1, listener_resume, l);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    struct client *c = g_new0(struct client, 1);
    c->srv = l->srv;
    c->fd = cfd;
    c->readonly = l->readonly;
    c->inbuf = g_byte_array_new();
    g_queue_init(&c->outq);
    c->events = g_ptr_array_new_with_free_func(g_free);
    c->streams = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->close_hooks = g_ptr_array_new_with_free_func(g_free);
    c->next_callback_id = 1;
    c->refs = 1;
    c->last_rx = g_get_monotonic_time();
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
        c->uid = cred.uid;
        c->pid = cred.pid;
    }
    log_debug("client fd %d connected (pid %d, uid %d%s)", cfd, (int)c->pid, (int)c->uid,
              c->readonly ? ", read-only" : "");
    g_ptr_array_add(l->srv->clients, c);
    c->in_watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_readable, c);
    return G_SOURCE_CONTINUE;
}

static gboolean
listener_resume(gpointer user)
{
    struct listener *l = user;
    l->retry = 0;
    l->watch = g_unix_fd_add(l->fd, G_IO_IN, on_accept, l);
    return G_SOURCE_REMOVE;
}

struct server *
server_new(struct core *core, GError **error)
{
    struct server *srv = g_new0(struct server, 1);
    srv->core = core;
    srv->listeners = g_ptr_array_new();
    srv->clients = g_ptr_array_new();
    return srv;
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
    l->watch = g_unix_fd_add(fd, G_IO_IN, on_accept, l);
    g_ptr_array_add(srv->listeners, l);
    return TRUE;
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
        unlink(l->path);
        g_free(l->path);
        g_free(l);
    }
    g_ptr_array_free(srv->listeners, TRUE);
    g_ptr_array_free(srv->clients, TRUE);
    g_free(srv);
}
