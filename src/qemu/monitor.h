/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: an asynchronous QMP client on the GLib main loop; prefix qmp_.
 * One queue of outstanding commands keyed by id; events by callback. Follows QEMU's
 * docs/interop/qmp-spec: greeting, then qmp_capabilities, then commands. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

struct qmp;

/* RESULT is the "return" member (owned by the monitor, valid during the call); ERROR is set
 * instead when QEMU answered with "error", the monitor closed, or the command timed out. */
typedef void (*qmp_reply_fn)(struct qmp *mon, JsonNode *result, const GError *error, gpointer data);
/* EVENT is the event name; DATA its "data" member or NULL. */
typedef void (*qmp_event_fn)(struct qmp *mon, const char *event, JsonObject *data, gpointer user);
/* Called once when the connection ends (EOF, read error, protocol error). After it, pending
 * commands have failed and no further callback comes. REASON describes why. */
typedef void (*qmp_closed_fn)(struct qmp *mon, const char *reason, gpointer user);

struct qmp_callbacks {
    qmp_event_fn event;
    qmp_closed_fn closed;
};

/* Takes ownership of FD (a connected stream socket). NAME prefixes debug logs.
 * TIMEOUT_MS bounds each command's reply (0: default 30 s). */
struct qmp *qmp_new(int fd, const char *name, const struct qmp_callbacks *cb, gpointer user,
                    unsigned timeout_ms);

/* Queues CMD with ARGS (consumed; may be NULL). Commands go out once the greeting arrived
 * and capabilities are negotiated, in order. CB may be NULL; it never runs before this
 * returns (a closed monitor or a failed write fails the command from an idle callback). */
void qmp_command(struct qmp *mon, const char *cmd, JsonObject *args, qmp_reply_fn cb,
                 gpointer data);

/* Like qmp_command, passing FDS (duplicated here; the caller keeps its own) with the command
 * over SCM_RIGHTS: for getfd ("fdname") and add-fd ("fdset-id"). */
void qmp_command_fds(struct qmp *mon, const char *cmd, JsonObject *args, const int *fds, guint nfds,
                     qmp_reply_fn cb, gpointer data);

/* Sends a command given as JSON text (monitor passthrough). CB gets QEMU's whole reply object,
 * an "error" reply included; ERROR only when the text is not a command. */
gboolean qmp_command_json(struct qmp *mon, const char *json, qmp_reply_fn cb, gpointer data,
                          GError **error);

gboolean qmp_is_closed(struct qmp *mon);
/* During an event callback: the "timestamp" QEMU gave the event (seconds -1 when it gave
 * none). */
void qmp_event_timestamp(const struct qmp *mon, gint64 *ret_seconds, guint *ret_micros);

/* Handles DATA as if read from the socket (tests, fuzzing). Callbacks run; the monitor may
 * be shut down (and, if qmp_free was called in a callback, freed). */
void qmp_feed(struct qmp *mon, const char *data, gsize len);

/* Closes the connection; pending commands fail with ERR_OPERATION_FAILED; no closed
 * callback is made. */
void qmp_free(struct qmp *mon);
