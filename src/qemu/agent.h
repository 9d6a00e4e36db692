/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agent: an asynchronous QEMU guest agent (QGA) client on the GLib main loop; prefix agent_.
 * It connects lazily to the host end of the virtio-serial channel, syncs the stream with
 * guest-sync-delimited, then runs queued commands one at a time (QGA replies carry no id). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

struct agent;

/* Called exactly once per command, from the main loop, never from inside agent_command().
 * RESULT is the reply's "return" member (owned by the agent, valid during the call; NULL for
 * a command that completed without a reply, see AGENT_NO_REPLY). ERROR is set instead when
 * the command failed. The callback may issue commands and may call agent_free(). */
typedef void (*agent_reply_fn)(struct agent *ag, JsonNode *result, const GError *error,
                               gpointer data);

enum agent_flags {
    /* The agent does not answer on success (guest-shutdown, guest-suspend-*; implied for
     * those). Success is the command written out and then either silence for
     * AGENT_GRACE_MS (or the timeout, when shorter), the channel closing, or a "return"
     * reply; an "error" reply within that window is still reported. A late reply is
     * discarded by the sync that precedes the next command. */
    AGENT_NO_REPLY = 1 << 0,
};

#define AGENT_GRACE_MS 1000
#define AGENT_DEFAULT_TIMEOUT_MS 5000 /* libvirt's */

/* libvirt's virDomainQemuAgentCommandTimeoutValues, as they arrive from clients. */
enum agent_timeout {
    AGENT_TIMEOUT_BLOCK = -2,   /* wait for the reply for ever */
    AGENT_TIMEOUT_DEFAULT = -1, /* the agent's TIMEOUT_MS */
    AGENT_TIMEOUT_NOWAIT = 0,   /* success once written; the reply, if any, is discarded */
};

/* Does not connect: the first command does. SOCKET_PATH is the unix socket of QEMU's
 * "-chardev socket,server=on,wait=off" behind the guest agent's virtio-serial port. NAME
 * prefixes debug logs. TIMEOUT_MS bounds the sync and each command (0: 5000, libvirt's
 * default). Returns a new agent; free with agent_free(). */
struct agent *agent_new(const char *socket_path, const char *name, unsigned timeout_ms);

/* Queues CMD with ARGS (consumed; may be NULL) and FLAGS (enum agent_flags). CB may be NULL.
 * Errors passed to CB, all in domain DOMUS_ERROR with origin ERR_FROM_QEMU:
 *   ERR_AGENT_UNRESPONSIVE  the socket is missing or refuses, the sync or the command timed
 *                           out, the channel closed, the reply was malformed; the
 *                           connection is dropped and the next command reconnects and syncs
 *   ERR_INTERNAL_ERROR      the agent answered with "error" ("unable to execute QEMU agent
 *                           command 'X': DESC", libvirt's wording)
 * When connecting or syncing fails, every queued command fails with that error; when one
 * command times out, only it fails and the commands behind it go on over a new connection. */
void agent_command(struct agent *ag, const char *cmd, JsonObject *args, unsigned flags,
                   agent_reply_fn cb, gpointer data);

/* CMD (without arguments), which answers only when it fails (guest-suspend-*): an error
 * reply within SETTLE_MS fails it; agent_settle() — the caller saw it take effect, QEMU's
 * SUSPEND event — or silence for SETTLE_MS ends it with success (RESULT NULL). The commands
 * behind it wait meanwhile, as libvirt's agent job makes them. */
void agent_command_settled(struct agent *ag, const char *cmd, guint settle_ms, agent_reply_fn cb,
                           gpointer data);
/* The timeout of the commands queued from now on (libvirt's guest-agent-timeout): MS < 0
 * waits for ever; 0 sends them without waiting (success for those that never answer, an
 * ERR_AGENT_UNRESPONSIVE error naming the setting for the others); else MS. The sync before
 * a command keeps agent_new's bound. */
void agent_set_response_timeout(struct agent *ag, gint64 ms);
/* Ends the agent_command_settled() command in flight, if any, with success. */
void agent_settle(struct agent *ag);

/* Passthrough (libvirt's qemu-agent-command): JSON is one object with a string "execute";
 * it is sent as parsed (re-serialized on one line). TIMEOUT_S is an enum agent_timeout value
 * or a number of seconds. RESULT in CB is the "return" member; a client wanting the whole
 * reply wraps it as {"return": RESULT}. Returns FALSE with ERR_INVALID_ARG (origin
 * ERR_FROM_QEMU) when JSON is not such an object or TIMEOUT_S is below AGENT_TIMEOUT_BLOCK;
 * then CB is not called. Otherwise like agent_command(). */
gboolean agent_command_json(struct agent *ag, const char *json, int timeout_s, agent_reply_fn cb,
                            gpointer data, GError **error);

/* Closes the connection; the command in flight and the queued ones fail with
 * ERR_AGENT_UNRESPONSIVE, except an AGENT_NO_REPLY command already written, which succeeds.
 * Safe from within a reply callback (the memory goes once the callback returns). Accepts
 * NULL. */
void agent_free(struct agent *ag);

/* Handles DATA as if read from the agent's channel (tests, fuzzing): the connection must be
 * up. Callbacks run and may free the agent. */
void agent_feed(struct agent *ag, const char *data, gsize len);
