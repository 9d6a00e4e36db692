/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server: listening sockets and client connections speaking libvirt's remote protocol; prefix
 * server_ (listeners, limits), client_ (one connection), call_ (one call awaiting its reply).
 * A connection's wire state is an rpc_session (src/rpc/session.h), shared with libdomus. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/core.h"
#include "rpc/protocol.h"
#include "rpc/session.h"

struct server;
struct proc_def;

/* libvirtd's limits and their defaults (libvirtd.conf), plus the memory bounds libvirtd
 * lacks. Read from domusd.conf. */
struct server_limits {
    guint max_clients;         /* connections at once; accept() pauses at the limit (5000) */
    guint max_client_requests; /* calls of one client in progress; reading pauses (5) */
    gsize max_queued_output;   /* a client's unsent replies and events before reading from it
                                * pauses (1 MiB) */
    gsize max_output_backlog;  /* ... before the connection is dropped: it stopped reading
                                * (32 MiB) */
    gsize input_budget;        /* bytes of partial frames beyond 4 KiB per client, all clients
                                * together; a frame that does not fit waits (33 MiB) */
    guint frame_timeout_s;     /* a frame holding budget must arrive whole within (30 s) */
    int keepalive_interval;    /* seconds (5) */
    int keepalive_count;       /* unanswered pings before the connection is dropped (5) */
};

void server_limits_default(struct server_limits *ret);

/* A client is freed when its last reference goes (a closed one stays readable, dead, until
 * then). Hold one across anything that may close it. */
struct client *client_ref(struct client *c);
void client_unref(struct client *c);

/* An open stream: the console, volume upload and download. Data flows as STREAM messages
 * (status CONTINUE); the client finishes (OK) or aborts (ERROR) and gets an empty OK back; the
 * daemon ends it with an empty CONTINUE (EOF) or an error. Its identity and serial live in
 * the connection's session; this is the daemon's side of it. */
struct stream {
    struct client *client;
    struct rpc_stream *rs;
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
    /* client_stream_on_drain: once the connection's backlog is down again */
    void (*on_drain)(gpointer data);
    gpointer drain_data;
    gsize drain_limit;
    guint drain_idle;
    gboolean held; /* client_stream_hold */
};

struct event_reg {
    int callback_id; /* > 0 for the callback-based procedures, 0 for legacy ones */
    int object;      /* enum event_object */
    int event_id;
    gboolean has_dom;
    uint8_t uuid[UUID_LEN];
    char *name;      /* node devices: only this one's events; QEMU monitor events: only this event
                      * (NULL: all) */
    GRegex *regex;   /* QEMU monitor events: only those it matches */
    gboolean nocase; /* QEMU monitor events: NAME compared without case */
};

void event_reg_free(gpointer reg);

struct client {
    struct server *srv;
    struct rpc_session s;
    int fd;
    GSource *source;
    gpointer fd_tag;
    GIOCondition poll_events; /* what the source polls for now */
    gboolean readonly;
    gboolean opened;    /* CONNECT_OPEN done */
    gboolean closing;   /* close once the output is written (CONNECT_CLOSE answered) */
    gboolean dead;      /* closed; freed when the last reference goes */
    gboolean corked;    /* in its own dispatch: output is written once at the end */
    gboolean keepalive; /* the client asked about PROGRAM_KEEPALIVE */
    gsize in_reserved;  /* input budget this connection holds */
    gint64 frame_deadline;
    gboolean budget_wait; /* waits for input budget */
    GPtrArray *events;    /* struct event_reg * */
    guint events_sub;
    int next_callback_id;
    GPtrArray *close_hooks; /* struct close_hook * */
    uid_t uid;
    pid_t pid;
    char *peer;           /* for the log: "fd N" on a unix socket, "ADDR:PORT" over TCP */
    gboolean handshaking; /* TLS handshake not finished yet: no call is read */
    gboolean handshake_write;
    gint64 handshake_deadline;
    int refs;
    guint inflight; /* calls dispatched and not yet answered */
    guint holds;    /* streams whose consumer is behind (client_stream_hold): no reading */
};

struct call {
    struct client *client; /* a reference */
    struct rpc_header hdr;
    const struct proc_def *def; /* NULL for calls refused before dispatch */
    int fds[RPC_FDS_MAX];       /* CALL_WITH_FDS: what came with it (closed with the call) */
    guint nfds;
};

/* Takes descriptor I of CALL (-1 when it has none there): the caller closes it. */
int call_take_fd(struct call *call, guint i);

struct server *server_new(struct core *core, const struct server_limits *limits);
/* Listens on PATH with MODE; READONLY marks every connection made there. */
gboolean server_listen(struct server *srv, const char *path, int mode, gboolean readonly,
                       GError **error);
/* Serves on FD, a listening socket handed over (systemd's socket activation): taken. TLS
 * needs server_set_tls() first. */
gboolean server_adopt(struct server *srv, int fd, gboolean readonly, gboolean tls, GError **error);
/* The credentials of TLS listeners (taken). */
void server_set_tls(struct server *srv, struct rpc_tls_creds *creds);
/* Listens on TCP PORT of HOST (NULL or "": every address), read-write. Plain TCP is without
 * authentication (the caller warns); TLS (server_set_tls() first) checks each client's
 * certificate. Every address HOST resolves to gets a listener. */
gboolean server_listen_tcp(struct server *srv, const char *host, const char *port, gboolean tls,
                           GError **error);
void server_free(struct server *srv);
struct core *server_core(struct server *srv);

/* Replies BODY (may be NULL: empty) to CALL and frees CALL. A handler may keep CALL and reply
 * later (the connection stays readable meanwhile). */
void call_reply(struct call *call, GByteArray *body);
/* Replies an error to CALL and frees CALL. */
void call_fail(struct call *call, const GError *error);
/* Replies to CALL with no body and FD (taken) passed along, as libvirt's REPLY_WITH_FDS. */
void call_reply_fd(struct call *call, int fd);
/* Whether CALL's connection can carry descriptors (a unix socket). */
gboolean call_can_pass_fds(struct call *call);

/* Queues a MESSAGE (event) of libvirt's remote program to CLIENT. */
void client_send_message(struct client *client, uint32_t proc, GByteArray *body);
/* The same for a message of program PROG (RPC_PROGRAM_QEMU's monitor events). */
void client_send_message_prog(struct client *client, uint32_t prog, uint32_t proc,
                              GByteArray *body);
/* Turns on our pings once the client said it speaks keepalive. */
void client_enable_keepalive(struct client *client);
/* The daemon's keepalive settings ([limits] keepalive_interval, keepalive_count), which its
 * own connections to other daemons use too. */
void client_keepalive_settings(const struct client *client, int *ret_interval, int *ret_count);
/* Opens a stream for CALL (before its reply is sent). Returns the stream, owned by the
 * connection. The serial was checked free when the call came in. */
struct stream *client_stream_open(struct call *call);
/* Bytes waiting to go out on ST's connection (a sender of bulk data waits while high). */
gsize client_stream_backlog(struct stream *st);
/* Calls FN(DATA) once, from the main loop, when ST's connection has written its backlog down
 * to LIMIT bytes (at once, on the next loop turn, when it already has). Not after ST is
 * gone. A sender of bulk data waits so instead of polling on a timer. */
void client_stream_on_drain(struct stream *st, gsize limit, void (*fn)(gpointer data),
                            gpointer data);
/* Tells the client that LENGTH bytes of holes come next (sparse downloads). */
gboolean client_stream_send_hole(struct stream *st, guint64 length);
/* Sends data to the client on ST. Both return FALSE when sending dropped the connection (the
 * client stopped reading): ST is gone then, its on_close has run, and the caller must not
 * touch it (or what on_close freed) again. */
gboolean client_stream_send(struct stream *st, const uint8_t *data, gsize len);
/* Ends ST from the daemon's side, without calling on_close: with ERROR the stream is gone;
 * without, the client sees EOF and the stream waits for its finish. */
void client_stream_end(struct stream *st, const GError *error);
/* Stops (HOLD) or resumes reading from ST's connection: its consumer cannot take more data
 * for now (a pipe to QEMU is full). Holds nest; the stream's closing releases its own. */
void client_stream_hold(struct stream *st, gboolean hold);

/* Close hooks run when the connection goes away (autodestroy, event deregistration). */
void client_add_close_hook(struct client *client, void (*fn)(struct client *, gpointer),
                           gpointer data);

/* dispatch.c: runs one call (header checked, serial free). */
void dispatch_call(struct call *call, const uint8_t *body, gsize len);
