/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session: one connection's wire state in libvirt's remote protocol, the same for the daemon's
 * server side, libdomus and a daemon talking to another daemon; prefix rpc_session_.
 * It holds the framing (input buffer, frames checked before they are buffered), the output
 * queue (with descriptors to pass), the serials of calls, the open streams and the keepalive
 * clock. It does no waiting itself: the daemon drives it from its main loop, libdomus with
 * blocking poll(). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "rpc/protocol.h"
#include "rpc/tls.h"

/* What a frame of input is. BODY points into the session's buffer: valid until the next
 * rpc_session_recv() or rpc_session_consume(). */
/* libvirt's VIR_NET_MESSAGE_NUM_FDS_MAX: descriptors one call may carry */
#define RPC_FDS_MAX 32

struct rpc_frame {
    struct rpc_header hdr;
    const uint8_t *body;
    gsize len;
    gsize size; /* bytes it takes in the input (with the descriptors' carrier bytes) */
    /* CALL_WITH_FDS: the descriptors that came with it, now the taker's (close the ones not
     * kept; rpc_session_consume does not) */
    int fds[RPC_FDS_MAX];
    guint nfds;
};

/* An open stream. Its identity is this object: a serial names at most one open stream of a
 * session, and a call that reuses it is refused, so a stream is never replaced under its user.
 * The session owns it; on_close runs exactly once, just before it is freed. */
struct rpc_stream {
    guint64 id; /* unique within the process */
    uint32_t prog;
    uint32_t proc;
    uint32_t serial;
    void (*on_close)(struct rpc_stream *st, gpointer user);
    gpointer user;
};

/* libvirtd's keepalive: after INTERVAL seconds without a word from the peer, a ping every
 * INTERVAL seconds; COUNT unanswered pings end the connection. */
struct rpc_keepalive {
    int interval_s; /* 0: off */
    int count;
    gint64 last_rx;   /* monotonic us */
    gint64 last_ping; /* monotonic us */
    int unanswered;
};

enum rpc_keepalive_action { RPC_KEEPALIVE_NONE, RPC_KEEPALIVE_SEND_PING, RPC_KEEPALIVE_DEAD };

struct rpc_session {
    int fd;
    struct rpc_tls *tls; /* NULL: plain; else every byte goes through it (owned) */
    /* input: [in_off, in_len) holds bytes not yet handed out as frames */
    uint8_t *in;
    gsize in_len, in_off, in_cap;
    gsize in_base; /* capacity kept between frames (the read size for small messages) */
    /* output: struct rpc_out * in order; out_off is how much of the head was written */
    GQueue out;
    gsize out_off;
    gsize out_bytes; /* queued and not yet written */
    uint32_t next_serial;
    GHashTable *streams; /* serial -> struct rpc_stream * */
    struct rpc_keepalive ka;
    gboolean recv_fds; /* a unix socket: descriptors may come with calls (recvmsg) */
    GQueue in_fds;     /* received, not yet handed out with a frame (GINT_TO_POINTER) */
};

/* Prepares S over FD (not owned: the caller closes it). IN_BASE is the input buffer kept
 * between messages (4096 is plenty for every call but bulk data). */
void rpc_session_init(struct rpc_session *s, int fd, gsize in_base);
/* Lets S receive descriptors (CALL_WITH_FDS, as libvirt's client sends them: each after the
 * call, on a one-byte carrier). Only for unix sockets. */
void rpc_session_accept_fds(struct rpc_session *s);
/* Makes S speak through TLS (taken), once its handshake is done. Descriptors cannot be
 * passed then. */
void rpc_session_set_tls(struct rpc_session *s, struct rpc_tls *tls);
/* Decrypted input waiting inside the TLS session: rpc_session_recv() gets it without the
 * socket being readable. */
gboolean rpc_session_in_buffered(const struct rpc_session *s);
/* Queues raw BYTES outside any message (libvirt's one-byte TLS confirmation). */
void rpc_session_queue_raw(struct rpc_session *s, const uint8_t *bytes, gsize len);
/* Releases buffers, queued output (descriptors in it are closed) and streams (their
 * on_close runs). */
void rpc_session_clear(struct rpc_session *s);

/* --- input --- */

/* Bytes the partial frame at the head of the buffer still needs to be complete (0 when no
 * partial frame is there or its length is not known yet), and the whole length it announced. */
gsize rpc_session_in_missing(const struct rpc_session *s, gsize *ret_frame_len);
/* Capacity the input buffer would need to hold the current partial frame whole. */
gsize rpc_session_in_capacity_needed(const struct rpc_session *s);
/* Reads what the socket has, at most up to a capacity of MAX_CAP bytes of buffer (grown as
 * needed, never past MAX_CAP). Returns the bytes read; 0 with *RET_EOF set on end of file;
 * -1 on error (errno set; EAGAIN when nothing was there). */
gssize rpc_session_recv(struct rpc_session *s, gsize max_cap, gboolean *ret_eof);
/* Appends DATA to the input as if it had been received (tests, fuzzing). */
void rpc_session_feed(struct rpc_session *s, const uint8_t *data, gsize len);
/* The next complete frame, if any. FALSE with ERROR when the next length word is outside
 * libvirt's bounds (the connection cannot continue); FALSE without error when no whole frame
 * is buffered. The frame stays valid until rpc_session_consume(). */
gboolean rpc_session_next_frame(struct rpc_session *s, struct rpc_frame *ret, GError **error);
/* Whether a whole frame is buffered. */
gboolean rpc_session_has_frame(const struct rpc_session *s);
/* Drops the frame returned last. */
void rpc_session_consume(struct rpc_session *s, const struct rpc_frame *frame);
/* Capacity of the input buffer (what it holds in memory). */
gsize rpc_session_in_allocated(const struct rpc_session *s);
/* Gives back input capacity above the base when the buffer holds no partial frame. */
void rpc_session_in_shrink(struct rpc_session *s);

/* --- output --- */

/* Starts a message in a new buffer: the length word and header, body to be appended. */
GByteArray *rpc_session_message_new(const struct rpc_header *hdr, gsize body_hint);
/* Queues MSG (consumed; its length word is filled in here) with FDS (taken: closed once sent
 * or dropped; may be NULL). */
void rpc_session_queue(struct rpc_session *s, GByteArray *msg, const int *fds, guint nfds);
/* Writes queued output until done or the socket is full. FALSE on a write error (errno set). */
gboolean rpc_session_flush(struct rpc_session *s);
static inline gboolean
rpc_session_out_pending(const struct rpc_session *s)
{
    return s->out_bytes > 0;
}

/* Queues a message of HDR with BODY (may be NULL). */
void rpc_session_send(struct rpc_session *s, const struct rpc_header *hdr, const GByteArray *body);
/* Queues a call of PROG/PROC with ARGS (may be NULL) under a new serial; returns the serial. */
uint32_t rpc_session_send_call(struct rpc_session *s, uint32_t prog, uint32_t proc,
                               const GByteArray *args);

/* --- streams --- */

/* Opens a stream for the call PROG/PROC/SERIAL. NULL with ERR_RPC when SERIAL already names
 * an open stream of this session. */
struct rpc_stream *rpc_session_stream_open(struct rpc_session *s, uint32_t prog, uint32_t proc,
                                           uint32_t serial, GError **error);
/* The open stream a STREAM message of HDR belongs to, or NULL. */
struct rpc_stream *rpc_session_stream_find(struct rpc_session *s, const struct rpc_header *hdr);
/* Whether SERIAL names an open stream. */
gboolean rpc_session_serial_busy(struct rpc_session *s, uint32_t serial);
/* Closes every open stream (their on_close hooks run). */
void rpc_session_close_streams(struct rpc_session *s);
/* Closes ST: its on_close runs, then it is freed. */
void rpc_session_stream_close(struct rpc_session *s, struct rpc_stream *st);
/* Queues a stream message on ST. */
void rpc_session_stream_send(struct rpc_session *s, struct rpc_stream *st, enum rpc_type type,
                             enum rpc_status status, const uint8_t *data, gsize len);

/* --- keepalive --- */

void rpc_keepalive_start(struct rpc_keepalive *ka, int interval_s, int count);
/* The peer said something. */
void rpc_keepalive_heard(struct rpc_keepalive *ka);
/* What is due now: nothing, a ping (counted as sent), or giving up on the peer. */
enum rpc_keepalive_action rpc_keepalive_check(struct rpc_keepalive *ka);
/* Answers a keepalive frame (a PING gets a PONG); returns TRUE when FRAME was one. */
gboolean rpc_session_keepalive_frame(struct rpc_session *s, const struct rpc_frame *frame);
void rpc_session_send_ping(struct rpc_session *s);
