/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session: framing, output queue, streams and keepalive of one connection. Input is read
 * straight into one buffer; a length word is checked against libvirt's bounds before the
 * buffer grows for the frame it announces. Output is written with sendmsg(), several queued
 * messages per call; descriptors travel as libvirt's virNetSocketSendFD sends them: one byte
 * each, after the message that announced them. */
#include "rpc/session.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/err.h"

#define FLUSH_IOV_MAX 64

struct rpc_out {
    GByteArray *msg; /* NULL: a one-byte descriptor carrier */
    int fd;          /* the descriptor a carrier passes, else -1 */
};

static guint64 next_stream_id = 1;

static void
out_free(struct rpc_out *o)
{
    if (o->msg)
        g_byte_array_unref(o->msg);
    if (o->fd >= 0)
        close(o->fd);
    g_free(o);
}

static gsize
out_len(const struct rpc_out *o)
{
    return o->msg ? o->msg->len : 1;
}

static void
stream_free(gpointer data)
{
    struct rpc_stream *st = data;
    if (st->on_close)
        st->on_close(st, st->user);
    g_free(st);
}

void
rpc_session_init(struct rpc_session *s, int fd, gsize in_base)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->in_base = in_base ? in_base : 4096;
    s->in_cap = s->in_base;
    s->in = g_malloc(s->in_cap);
    g_queue_init(&s->out);
    g_queue_init(&s->in_fds);
    s->streams = g_hash_table_new(g_direct_hash, g_direct_equal);
}

void
rpc_session_clear(struct rpc_session *s)
{
    if (s->streams) {
        rpc_session_close_streams(s);
        g_hash_table_destroy(s->streams);
        s->streams = NULL;
    }
    g_queue_clear_full(&s->out, (GDestroyNotify)out_free);
    s->out_bytes = s->out_off = 0;
    g_clear_pointer(&s->in, g_free);
    s->in_len = s->in_off = s->in_cap = 0;
    g_clear_pointer(&s->tls, rpc_tls_free);
    for (gpointer p; (p = g_queue_pop_head(&s->in_fds));)
        close(GPOINTER_TO_INT(p) - 1);
}

void
rpc_session_accept_fds(struct rpc_session *s)
{
    s->recv_fds = TRUE;
}

void
rpc_session_set_tls(struct rpc_session *s, struct rpc_tls *tls)
{
    g_assert(!s->tls);
    s->tls = tls;
}

gboolean
rpc_session_in_buffered(const struct rpc_session *s)
{
    return s->tls && rpc_tls_pending(s->tls) > 0;
}

/* --- input --- */

static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static gboolean
length_ok(uint32_t len)
{
    return len >= RPC_HEADER_LEN && len - 4 <= RPC_MESSAGE_MAX;
}

/* The descriptors a CALL_WITH_FDS frame at P (HAVE bytes buffered) announces: its count after
 * the header, or 0 for any other frame (or one too short to tell yet). */
static guint
frame_nfds(const uint8_t *p, gsize have, uint32_t len)
{
    if (have < RPC_HEADER_LEN + 4 || len < RPC_HEADER_LEN + 4 ||
        be32(p + 16) != RPC_CALL_WITH_FDS) /* the type: after length, prog, vers, proc */
        return 0;
    return MIN(be32(p + RPC_HEADER_LEN), RPC_FDS_MAX + 1);
}

gsize
rpc_session_in_missing(const struct rpc_session *s, gsize *ret_frame_len)
{
    gsize have = s->in_len - s->in_off;
    if (ret_frame_len)
        *ret_frame_len = 0;
    if (have < 4)
        return 0;
    const uint8_t *p = s->in + s->in_off;
    uint32_t len = be32(p);
    if (!length_ok(len))
        return 0;
    /* a call with descriptors is followed by one carrier byte for each */
    gsize total = len + frame_nfds(p, have, len);
    if (ret_frame_len)
        *ret_frame_len = total;
    return have >= total ? 0 : total - have;
}

gsize
rpc_session_in_capacity_needed(const struct rpc_session *s)
{
    gsize len = 0;
    rpc_session_in_missing(s, &len);
    return MAX(len, s->in_base);
}

gsize
rpc_session_in_allocated(const struct rpc_session *s)
{
    return s->in_cap;
}

static void
compact(struct rpc_session *s)
{
    if (s->in_off == 0)
        return;
    memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
    s->in_len -= s->in_off;
    s->in_off = 0;
}

void
rpc_session_in_shrink(struct rpc_session *s)
{
    if (s->in_cap <= s->in_base || s->in_len - s->in_off > s->in_base)
        return;
    compact(s);
    /* a fresh block, not realloc: the big one goes back to the system at once */
    uint8_t *small = g_malloc(s->in_base);
    memcpy(small, s->in, s->in_len);
    g_free(s->in);
    s->in = small;
    s->in_cap = s->in_base;
}

gssize
rpc_session_recv(struct rpc_session *s, gsize max_cap, gboolean *ret_eof)
{
    *ret_eof = FALSE;
    compact(s);
    gsize want = MIN(rpc_session_in_capacity_needed(s), MAX(max_cap, s->in_base));
    if (want > s->in_cap) {
        s->in = g_realloc(s->in, want);
        s->in_cap = want;
    }
    if (s->in_len >= s->in_cap) {
        errno = EAGAIN;
        return -1;
    }
    ssize_t n;
    if (s->recv_fds && !s->tls) {
        union {
            char buf[CMSG_SPACE(sizeof(int) * RPC_FDS_MAX)];
            struct cmsghdr align;
        } control;
        struct iovec iov = {s->in + s->in_len, s->in_cap - s->in_len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        do {
            n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        } while (n < 0 && errno == EINTR);
        for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm;
             cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            gsize count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (gsize i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                g_queue_push_tail(&s->in_fds, GINT_TO_POINTER(fd + 1));
            }
        }
        /* more than one call may carry: a client that floods them is cut off */
        if (n >= 0 && (mh.msg_flags & MSG_CTRUNC || g_queue_get_length(&s->in_fds) > RPC_FDS_MAX)) {
            errno = EPROTO;
            n = -1;
        }
    } else if (s->tls) {
        n = rpc_tls_recv(s->tls, s->in + s->in_len, s->in_cap - s->in_len);
    } else {
        do {
            n = recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
    }
    if (n == 0)
        *ret_eof = TRUE;
    if (n > 0)
        s->in_len += (gsize)n;
    return n;
}

void
rpc_session_feed(struct rpc_session *s, const uint8_t *data, gsize len)
{
    compact(s);
    if (s->in_len + len > s->in_cap) {
        s->in_cap = s->in_len + len;
        s->in = g_realloc(s->in, s->in_cap);
    }
    memcpy(s->in + s->in_len, data, len);
    s->in_len += len;
}

gboolean
rpc_session_next_frame(struct rpc_session *s, struct rpc_frame *ret, GError **error)
{
    gsize have = s->in_len - s->in_off;
    if (have < 4)
        return FALSE;
    const uint8_t *p = s->in + s->in_off;
    uint32_t len = be32(p);
    if (!length_ok(len)) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "frame length %u outside %u..%u", len, RPC_HEADER_LEN,
                RPC_MESSAGE_MAX + 4);
        return FALSE;
    }
    if (have < len)
        return FALSE;
    rpc_header_decode(p + 4, &ret->hdr);
    ret->body = p + RPC_HEADER_LEN;
    ret->len = len - RPC_HEADER_LEN;
    ret->size = len;
    ret->nfds = 0;
    if (ret->hdr.type != RPC_CALL_WITH_FDS)
        return TRUE;
    /* the count, then the arguments; the descriptors after the frame, one carrier byte each */
    guint nfds = frame_nfds(p, have, len);
    if (len < RPC_HEADER_LEN + 4 || nfds > RPC_FDS_MAX || (nfds > 0 && !s->recv_fds)) {
        err_set(error, ERR_FROM_RPC, ERR_RPC,
                "a call with %u descriptors: at most %u, and only over a unix socket", nfds,
                RPC_FDS_MAX);
        return FALSE;
    }
    if (have < len + nfds || g_queue_get_length(&s->in_fds) < nfds)
        return FALSE;
    ret->body += 4;
    ret->len -= 4;
    ret->size = len + nfds;
    for (guint i = 0; i < nfds; i++)
        ret->fds[i] = GPOINTER_TO_INT(g_queue_pop_head(&s->in_fds)) - 1;
    ret->nfds = nfds;
    return TRUE;
}

gboolean
rpc_session_has_frame(const struct rpc_session *s)
{
    gsize have = s->in_len - s->in_off;
    if (have < 4)
        return FALSE;
    const uint8_t *p = s->in + s->in_off;
    uint32_t len = be32(p);
    /* a bad length counts as a frame: taking it reports the error */
    if (!length_ok(len))
        return TRUE;
    guint nfds = frame_nfds(p, have, len);
    if (nfds > RPC_FDS_MAX || (nfds > 0 && !s->recv_fds))
        return have >= len; /* taking it reports the error */
    return have >= len + nfds && s->in_fds.length >= nfds;
}

void
rpc_session_consume(struct rpc_session *s, const struct rpc_frame *frame)
{
    s->in_off += frame->size;
    if (s->in_off == s->in_len)
        s->in_off = s->in_len = 0;
}

/* --- output --- */

GByteArray *
rpc_session_message_new(const struct rpc_header *hdr, gsize body_hint)
{
    GByteArray *msg = g_byte_array_sized_new((guint)(RPC_HEADER_LEN + body_hint));
    rpc_message_begin(msg, hdr);
    return msg;
}

static void
push(struct rpc_session *s, GByteArray *msg, int fd)
{
    struct rpc_out *o = g_new(struct rpc_out, 1);
    o->msg = msg;
    o->fd = fd;
    s->out_bytes += out_len(o);
    g_queue_push_tail(&s->out, o);
}

void
rpc_session_queue(struct rpc_session *s, GByteArray *msg, const int *fds, guint nfds)
{
    rpc_message_end(msg);
    push(s, msg, -1);
    for (guint i = 0; i < nfds; i++)
        push(s, NULL, fds[i]);
}

void
rpc_session_queue_raw(struct rpc_session *s, const uint8_t *bytes, gsize len)
{
    GByteArray *msg = g_byte_array_sized_new((guint)len);
    g_byte_array_append(msg, bytes, (guint)len);
    push(s, msg, -1);
}

void
rpc_session_send(struct rpc_session *s, const struct rpc_header *hdr, const GByteArray *body)
{
    GByteArray *msg = rpc_session_message_new(hdr, body ? body->len : 0);
    if (body)
        g_byte_array_append(msg, body->data, body->len);
    rpc_session_queue(s, msg, NULL, 0);
}

uint32_t
rpc_session_send_call(struct rpc_session *s, uint32_t prog, uint32_t proc, const GByteArray *args)
{
    struct rpc_header hdr = {prog, RPC_PROTOCOL_VERSION, proc, RPC_CALL, s->next_serial++, RPC_OK};
    rpc_session_send(s, &hdr, args);
    return hdr.serial;
}

/* One sendmsg: a descriptor carrier alone, else as many whole messages as fit the iovec.
 * Through TLS: one record of the head message (a send that could not finish is repeated
 * with the same bytes, as GnuTLS requires: the head stays until written). */
static ssize_t
send_some(struct rpc_session *s)
{
    struct rpc_out *head = g_queue_peek_head(&s->out);
    if (s->tls) {
        g_assert(head->msg); /* no descriptors over TCP */
        return rpc_tls_send(s->tls, head->msg->data + s->out_off, head->msg->len - s->out_off);
    }
    struct msghdr mh = {0};
    struct iovec iov[FLUSH_IOV_MAX];
    int n = 0;
    static const uint8_t zero = 0;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    if (!head->msg) {
        iov[0].iov_base = (void *)&zero;
        iov[0].iov_len = 1;
        n = 1;
        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &head->fd, sizeof(int));
    } else {
        gsize off = s->out_off;
        for (GList *l = s->out.head; l && n < FLUSH_IOV_MAX; l = l->next) {
            struct rpc_out *o = l->data;
            if (!o->msg)
                break;
            iov[n].iov_base = o->msg->data + off;
            iov[n].iov_len = o->msg->len - off;
            n++;
            off = 0;
        }
    }
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)n;
    ssize_t w;
    do {
        w = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    return w;
}

gboolean
rpc_session_flush(struct rpc_session *s)
{
    while (!g_queue_is_empty(&s->out)) {
        ssize_t w = send_some(s);
        if (w < 0)
            return errno == EAGAIN;
        gsize left = (gsize)w;
        s->out_bytes -= left;
        while (left > 0) {
            struct rpc_out *o = g_queue_peek_head(&s->out);
            gsize rest = out_len(o) - s->out_off;
            if (left < rest) {
                s->out_off += left;
                break;
            }
            left -= rest;
            s->out_off = 0;
            out_free(g_queue_pop_head(&s->out));
        }
    }
    return TRUE;
}

/* --- streams --- */

struct rpc_stream *
rpc_session_stream_open(struct rpc_session *s, uint32_t prog, uint32_t proc, uint32_t serial,
                        GError **error)
{
    if (rpc_session_serial_busy(s, serial)) {
        err_set(error, ERR_FROM_RPC, ERR_RPC,
                "serial %u is in use by an open stream; a call needs a serial of its own", serial);
        return NULL;
    }
    struct rpc_stream *st = g_new0(struct rpc_stream, 1);
    st->id = next_stream_id++;
    st->prog = prog;
    st->proc = proc;
    st->serial = serial;
    g_hash_table_insert(s->streams, GUINT_TO_POINTER(serial), st);
    return st;
}

gboolean
rpc_session_serial_busy(struct rpc_session *s, uint32_t serial)
{
    return g_hash_table_size(s->streams) > 0 &&
           g_hash_table_contains(s->streams, GUINT_TO_POINTER(serial));
}

struct rpc_stream *
rpc_session_stream_find(struct rpc_session *s, const struct rpc_header *hdr)
{
    if (g_hash_table_size(s->streams) == 0)
        return NULL;
    struct rpc_stream *st = g_hash_table_lookup(s->streams, GUINT_TO_POINTER(hdr->serial));
    if (!st || st->prog != hdr->prog || st->proc != hdr->proc)
        return NULL;
    return st;
}

void
rpc_session_close_streams(struct rpc_session *s)
{
    if (!s->streams)
        return;
    /* out of the table first: an on_close hook may look at the session's streams */
    GList *all = g_hash_table_get_values(s->streams);
    g_hash_table_steal_all(s->streams);
    for (GList *l = all; l; l = l->next)
        stream_free(l->data);
    g_list_free(all);
}

void
rpc_session_stream_close(struct rpc_session *s, struct rpc_stream *st)
{
    if (g_hash_table_steal(s->streams, GUINT_TO_POINTER(st->serial)))
        stream_free(st);
}

void
rpc_session_stream_send(struct rpc_session *s, struct rpc_stream *st, enum rpc_type type,
                        enum rpc_status status, const uint8_t *data, gsize len)
{
    struct rpc_header hdr = {st->prog, RPC_PROTOCOL_VERSION, st->proc, type, st->serial, status};
    GByteArray *msg = rpc_session_message_new(&hdr, len);
    if (len)
        g_byte_array_append(msg, data, (guint)len);
    rpc_session_queue(s, msg, NULL, 0);
}

/* --- keepalive --- */

void
rpc_keepalive_start(struct rpc_keepalive *ka, int interval_s, int count)
{
    ka->interval_s = interval_s;
    ka->count = count;
    ka->last_rx = g_get_monotonic_time();
    ka->last_ping = 0;
    ka->unanswered = 0;
}

void
rpc_keepalive_heard(struct rpc_keepalive *ka)
{
    ka->last_rx = g_get_monotonic_time();
    ka->unanswered = 0;
}

enum rpc_keepalive_action
rpc_keepalive_check(struct rpc_keepalive *ka)
{
    if (ka->interval_s <= 0)
        return RPC_KEEPALIVE_NONE;
    gint64 now = g_get_monotonic_time();
    gint64 interval = (gint64)ka->interval_s * G_USEC_PER_SEC;
    if (now - ka->last_rx < interval || now - ka->last_ping < interval)
        return RPC_KEEPALIVE_NONE;
    if (ka->unanswered >= ka->count)
        return RPC_KEEPALIVE_DEAD;
    ka->unanswered++;
    ka->last_ping = now;
    return RPC_KEEPALIVE_SEND_PING;
}

static void
send_keepalive(struct rpc_session *s, uint32_t proc)
{
    struct rpc_header hdr = {RPC_PROGRAM_KEEPALIVE, 1, proc, RPC_MESSAGE, 0, RPC_OK};
    rpc_session_send(s, &hdr, NULL);
}

void
rpc_session_send_ping(struct rpc_session *s)
{
    send_keepalive(s, RPC_KEEPALIVE_PING);
}

gboolean
rpc_session_keepalive_frame(struct rpc_session *s, const struct rpc_frame *frame)
{
    if (frame->hdr.prog != RPC_PROGRAM_KEEPALIVE)
        return FALSE;
    if (frame->hdr.proc == RPC_KEEPALIVE_PING)
        send_keepalive(s, RPC_KEEPALIVE_PONG);
    return TRUE;
}
