/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client_priv: what the files of libdomus share (not exported); prefix client_. */
#pragma once

#include "domus/domus.h"
#include "rpc/protocol.h"
#include "rpc/session.h"

struct domus_conn {
    int fd;
    struct rpc_session s;            /* framing, serials and keepalive: the daemon's own code */
    struct rpc_tls_creds *tls_creds; /* a TLS connection's (its session is in S) */
    char *uri;
    GQueue events; /* struct domus_event * received while waiting for a reply */
    /* keepalive (domus_conn_set_keepalive; in S): once the daemon stops answering, every
     * call fails at once with LOST */
    GError *lost;
};

/* Waits up to TIMEOUT_MS (-1: no limit) for the next message that is not a keepalive, while
 * answering the daemon's pings and pinging it (when keepalive is on), or for WAKE_FD (-1:
 * none) to become readable. 1: RET_HDR and *RET_BODY (caller frees) are set; 0: timed out;
 * 2: WAKE_FD is readable; -1: ERROR (a lost connection: ERR_RPC). */
int client_next_message(domus_conn *conn, struct rpc_header *ret_hdr, GByteArray **ret_body,
                        int timeout_ms, int wake_fd, GError **error);
/* Decodes an event message (a MESSAGE of libvirt's remote program) and queues it on CONN;
 * one this library does not decode is dropped (events.c). */
void client_queue_event(domus_conn *conn, const struct rpc_header *rh, GByteArray *body);

/* Sends a call of PROG and waits for its reply; events that arrive meanwhile are queued.
 * RET_BODY (may be NULL) gets the reply body; an error reply becomes ERROR. */
gboolean client_call_prog(domus_conn *conn, uint32_t prog, uint32_t proc, GByteArray *args,
                          GByteArray **ret_body, GError **error);
/* client_call_prog on libvirt's remote program. */
gboolean client_call(domus_conn *conn, uint32_t proc, GByteArray *args, GByteArray **ret_body,
                     GError **error);
/* The stream of the call PROC that was just answered; SERIAL is the call's. */
domus_stream *client_stream_new(domus_conn *conn, uint32_t proc, uint32_t serial);
/* A new argument buffer that starts with DOM (remote_nonnull_domain). */
GByteArray *client_domain_args(domus_domain *dom);
/* A remote_nonnull_domain of CONN from R (NULL when R failed). */
domus_domain *client_domain_from_reader(domus_conn *conn, struct xdr_reader *r);
/* Calls returning one int / one string (the whole body checked). */
int client_reply_int(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error);
/* A call whose reply is one unsigned hyper. */
gboolean client_reply_u64(domus_conn *conn, uint32_t proc, GByteArray *args, guint64 *ret,
                          GError **error);
/* Snapshots and checkpoints ("moments"): remote_nonnull_domain_snapshot and _checkpoint are
 * NAME then DOM (a new argument buffer); a reply holding one (its name, new string); a list
 * reply of LIST_ALL_* (the names, a new vector). */
GByteArray *client_moment_args(domus_domain *dom, const char *name);
char *client_reply_moment(domus_domain *dom, uint32_t proc, GByteArray *args, GError **error);
char **client_reply_moments(domus_domain *dom, uint32_t proc, GByteArray *args, GError **error);
/* A typed parameter list (remote_typed_param<>) as FIELD, VALUE, … NULL: numbers in decimal,
 * a double with %f. R's error state says whether it was well formed. New vector. */
char **client_read_typed_params(struct xdr_reader *reader);
char *client_reply_string(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error);
/* A call whose reply is a typed parameter list alone: FIELD, VALUE, … NULL (new vector). */
char **client_reply_params(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error);
