/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server: listening sockets and client connections speaking libvirt's remote protocol; prefix
 * server_ (listeners), client_ (one connection), call_ (one call awaiting its reply). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/core.h"
#include "rpc/protocol.h"

struct server;

/* An open stream, keyed by (procedure, serial) of the call that opened it: the console, and
 * later volume upload/download. Data flows as STREAM messages (status CONTINUE); the client
 * finishes (OK) or aborts (ERROR) and gets an empty OK back; the daemon ends it with an empty
 * OK (EOF) or an error. */
struct stream {
    struct client *client;
    uint32_t prog;
    uint32_t proc;
    uint32_t serial;
    /* data from the client */
    void (*on_data)(struct stream *st, const uint8_t *data, gsize len, gpointer user);
    /* the stream is gone (client finish or abort, or the connection closed): release USER;
     * the stream must not be used afterwards */
    void (*on_close)(struct stream *st, gboolean aborted, gpointer user);
    /* a hole of LENGTH bytes from the client (sparse uploads); NULL: holes are refused */
    void (*on_hole)(struct stream *st, guint64 length, gpointer user);
    /* the client finished (not aborted): may refuse with an error sent instead of the OK
     * confirmation (an upload whose data cannot be synced); called before on_close */
    gboolean (*on_finish)(struct stream *st, gpointer user, GError **error);
    gpointer user;
};

struct event_reg {
    int callback_id; /* > 0 for the callback-based procedures, 0 for legacy ones */
    int event_id;
    gboolean has_dom;
    uint8_t uuid[UUID_LEN];
};

struct client {
    struct server *srv;
    int fd;
    guint in_watch, out_watch;
    GByteArray *inbuf;
    GQueue outq; /* GBytes *: replies, events and stream data, in order */
    gsize out_off;
    gboolean readonly;
    gboolean opened;        /* CONNECT_OPEN done */
    gboolean closing;       /* close once the queue is drained */
    gboolean close_pending; /* a close is scheduled */
    gboolean dead;
    gboolean keepalive; /* the client asked about PROGRAM_KEEPALIVE */
    guint ping_timer;
    int pings_unanswered;
    gint64 last_rx;
    gint64 last_ping;
    GPtrArray *events; /* struct event_reg * */
    guint events_sub;
    int next_callback_id;
    GHashTable *streams;    /* "proc:serial" -> struct stream * */
    GPtrArray *close_hooks; /* struct close_hook * */
    uid_t uid;
    pid_t pid;
    int refs;
    int inflight;
};

struct call {
    struct client *client; /* a reference */
    struct rpc_header hdr;
};

struct server *server_new(struct core *core, GError **error);
/* Listens on PATH with MODE; READONLY marks every connection made there. */
gboolean server_listen(struct server *srv, const char *path, int mode, gboolean readonly,
                       GError **error);
void server_free(struct server *srv);
struct core *server_core(struct server *srv);

/* Replies BODY (may be NULL: empty) to CALL and frees CALL. A handler may keep CALL and reply
 * later (the connection stays readable meanwhile). */
void call_reply(struct call *call, GByteArray *body);
/* Replies an error to CALL and frees CALL. */
void call_fail(struct call *call, const GError *error);

/* Queues a MESSAGE (event) to CLIENT. */
void client_send_message(struct client *client, uint32_t proc, GByteArray *body);
/* Opens a stream for CALL (before its reply is sent). Returns the stream, owned by the
 * connection. */
struct stream *client_stream_open(struct call *call);
/* Messages waiting to go out on ST's connection (a sender of bulk data waits while high). */
guint client_stream_backlog(struct stream *st);
/* Tells the client that LENGTH bytes of holes come next (sparse downloads). */
void client_stream_send_hole(struct stream *st, guint64 length);
/* Sends data to the client on ST. */
void client_stream_send(struct stream *st, const uint8_t *data, gsize len);
/* Ends ST from the daemon's side, without calling on_close: with ERROR the stream is gone;
 * without, the client sees EOF and the stream waits for its finish. */
void client_stream_end(struct stream *st, const GError *error);

/* Close hooks run when the connection goes away (autodestroy, event deregistration). */
void client_add_close_hook(struct client *client, void (*fn)(struct client *, gpointer),
                           gpointer data);

/* dispatch.c */
void dispatch_call(struct call *call, const uint8_t *body, gsize len);
