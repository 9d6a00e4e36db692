/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* agent: the QEMU guest agent over the host end of its virtio-serial port. QGA speaks QMP-like
 * JSON lines without greeting or ids, so one command is in flight at a time, and the stream
 * is brought in step with a 0xFF byte and guest-sync-delimited (QEMU docs/interop/qemu-ga). */
#include "qemu/agent.h"

#include "qemu/json.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

/* guest-file-read returns up to 48 MiB, i.e. 64 MiB of base64, in one line */
#define AGENT_LINE_MAX (80 * 1024 * 1024)
#define AGENT_DELIMITER 0xFF

enum agent_state {
    AGENT_DISCONNECTED, /* no socket */
    AGENT_UNSYNCED,     /* connected, but the stream may hold stale output: sync first */
    AGENT_SYNCING,      /* delimiter and guest-sync-delimited sent, waiting for its reply */
    AGENT_READY,        /* in step: commands go out, one at a time */
};

struct agent_cmd {
    char *cmd;
    char *text;        /* the serialized command, without the newline */
    gint64 timeout_ms; /* < 0: wait for ever; 0: do not wait for a reply */
    gboolean no_reply; /* success is silence after the write (AGENT_NO_REPLY or timeout 0) */
    gint64 settle_ms;  /* > 0: agent_command_settled()'s window, ended early by agent_settle() */
    gboolean unwaited; /* a command that answers, sent without waiting (response timeout 0) */
    gboolean written;  /* the whole command left our buffer */
    agent_reply_fn cb;
    gpointer data;
};

struct agent {
    char *path;
    char *name;
    unsigned timeout_ms;
    gint64 response_ms; /* the commands' own timeout (agent_set_response_timeout) */
    int fd;
    enum agent_state state;
    gint64 sync_id;
    unsigned sync_ms;   /* the running sync's timeout, for its message */
    gboolean delimited; /* syncing: the agent's 0xFF has been seen */
    guint in_watch;
    guint out_watch;
    guint timer; /* the sync's, the command's or the no-reply grace deadline */
    guint kick;  /* idle source that moves the queue on */
    GString *inbuf;
    GString *outbuf;
    GQueue queue;              /* struct agent_cmd *, not yet sent */
    struct agent_cmd *current; /* sent, waiting for its reply */
    int busy;                  /* > 0 while callbacks run: defer free */
    gboolean closing;
    gboolean free_requested;
};

static void advance(struct agent *ag);
static void flush_out(struct agent *ag);
static void agent_destroy(struct agent *ag);

static void
cmd_free(struct agent_cmd *c)
{
    g_free(c->cmd);
    g_free(c->text);
    g_free(c);
}

/* Runs C's callback and frees C. The caller holds ag->busy. */
static void
finish(struct agent *ag, struct agent_cmd *c, JsonNode *result, const GError *error)
{
    g_autoptr(GError) unwaited = NULL;
    if (!error && !result && c->unwaited) {
        err_set(&unwaited, ERR_FROM_QEMU, ERR_AGENT_UNRESPONSIVE,
                "'%s' was sent to the guest agent without waiting for its answer (response "
                "timeout 0); set another with guest-agent-timeout",
                c->cmd);
        error = unwaited;
    }
    if (c->cb)
        c->cb(ag, result, error, c->data);
    cmd_free(c);
}

static void
fail(struct agent *ag, struct agent_cmd *c, int code, const char *msg)
{
    g_autoptr(GError) err = NULL;
    err_set(&err, ERR_FROM_QEMU, code, "%s", msg);
    finish(ag, c, NULL, err);
}

/* Fails every queued command with ERR; commands queued by the callbacks stay queued. */
static void
fail_queue(struct agent *ag, const GError *err)
{
    GQueue q = ag->queue;
    g_queue_init(&ag->queue);
    for (struct agent_cmd *c; (c = g_queue_pop_head(&q));)
        finish(ag, c, NULL, err);
}

/* Ends a callback section; frees the agent when agent_free was called inside it. */
static gboolean
leave(struct agent *ag)
{
    ag->busy--;
    if (ag->busy == 0 && ag->free_requested) {
        agent_destroy(ag);
        return TRUE;
    }
    return FALSE;
}

static void
remove_source(guint *id)
{
    if (*id) {
        g_source_remove(*id);
        *id = 0;
    }
}

static gboolean
on_kick(gpointer user)
{
    struct agent *ag = user;
    ag->kick = 0;
    ag->busy++;
    advance(ag);
    leave(ag);
    return G_SOURCE_REMOVE;
}

/* Moves the queue on from the main loop, so callbacks never run inside agent_command. */
static void
schedule(struct agent *ag)
{
    if (!ag->kick && !ag->closing)
        ag->kick = g_idle_add(on_kick, ag);
}

static void
drop_connection(struct agent *ag)
{
    remove_source(&ag->in_watch);
    remove_source(&ag->out_watch);
    remove_source(&ag->timer);
    if (ag->fd >= 0) {
        close(ag->fd);
        ag->fd = -1;
        log_debug("%s: agent disconnected", ag->name);
    }
    g_string_truncate(ag->inbuf, 0);
    g_string_truncate(ag->outbuf, 0);
    ag->state = AGENT_DISCONNECTED;
    ag->delimited = FALSE;
}

static gboolean on_timer(gpointer user);

static void
set_timer(struct agent *ag, gint64 ms)
{
    remove_source(&ag->timer);
    ag->timer = g_timeout_add((guint)MIN(ms, G_MAXUINT), on_timer, ag);
}

/* Takes the command in flight off the agent; the next one may go. */
static struct agent_cmd *
take_current(struct agent *ag)
{
    struct agent_cmd *c = g_steal_pointer(&ag->current);
    remove_source(&ag->timer);
    schedule(ag);
    return c;
}

/* The connection broke (EOF, I/O error, overlong line): whatever waited on it fails. */
static void
channel_lost(struct agent *ag, const char *why)
{
    gboolean syncing = ag->state == AGENT_SYNCING;
    struct agent_cmd *c = ag->current ? take_current(ag) : NULL;
    drop_connection(ag);
    g_autofree char *msg = g_strdup_printf("QEMU guest agent is not connected (%s)", why);
    if (c && c->no_reply && c->written) {
        /* guest-shutdown was delivered and the guest went away: that is its success */
        finish(ag, c, NULL, NULL);
    } else if (c) {
        fail(ag, c, ERR_AGENT_UNRESPONSIVE, msg);
    } else if (syncing) {
        g_autoptr(GError) err = NULL;
        err_set(&err, ERR_FROM_QEMU, ERR_AGENT_UNRESPONSIVE, "%s", msg);
        fail_queue(ag, err);
    }
}

/* The whole command in flight has been written. */
static void
on_flushed(struct agent *ag)
{
    struct agent_cmd *c = ag->current;
    if (!c || c->written)
        return;
    c->written = TRUE;
    if (!c->no_reply)
        return;
    gint64 grace = c->settle_ms        ? c->settle_ms
                   : c->timeout_ms < 0 ? AGENT_GRACE_MS
                                       : MIN(c->timeout_ms, AGENT_GRACE_MS);
    if (grace > 0) {
        /* an error reply comes at once; success never does */
        set_timer(ag, grace);
        return;
    }
    take_current(ag);
    /* a reply may still come: the next command syncs past it */
    ag->state = AGENT_UNSYNCED;
    finish(ag, c, NULL, NULL);
}

static gboolean
on_writable(int fd, GIOCondition cond, gpointer user)
{
    struct agent *ag = user;
    ag->out_watch = 0;
    ag->busy++;
    flush_out(ag);
    leave(ag);
    return G_SOURCE_REMOVE;
}

static void
flush_out(struct agent *ag)
{
    if (ag->out_watch)
        return;
    while (ag->fd >= 0 && ag->outbuf->len > 0) {
        /* MSG_NOSIGNAL: a guest gone away must not raise SIGPIPE in the daemon */
        ssize_t n = send(ag->fd, ag->outbuf->str, ag->outbuf->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN) {
                ag->out_watch = g_unix_fd_add(ag->fd, G_IO_OUT, on_writable, ag);
                return;
            }
            g_autofree char *why =
                g_strdup_printf("cannot write to its channel: %s", g_strerror(errno));
            channel_lost(ag, why);
            return;
        }
        g_string_erase(ag->outbuf, 0, n);
    }
    if (ag->fd >= 0)
        on_flushed(ag);
}

static void
send_text(struct agent *ag, const char *text)
{
    g_string_append(ag->outbuf, text);
    g_string_append_c(ag->outbuf, '\n');
}

/* Sends 0xFF, which makes the agent drop any partial input, then guest-sync-delimited; the
 * agent puts 0xFF before its reply, so everything we read before that byte is stale. */
static void
start_sync(struct agent *ag)
{
    gint64 id;
    do
        id = g_random_int_range(1, G_MAXINT32);
    while (id == ag->sync_id);
    ag->sync_id = id;
    ag->delimited = FALSE;
    ag->state = AGENT_SYNCING;
    g_string_truncate(ag->inbuf, 0);

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, "guest-sync-delimited");
    json_builder_set_member_name(b, "arguments");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string(root, FALSE);

    struct agent_cmd *head = g_queue_peek_head(&ag->queue);
    ag->sync_ms = ag->timeout_ms;
    if (head && head->timeout_ms > 0 && head->timeout_ms < ag->sync_ms)
        ag->sync_ms = (unsigned)head->timeout_ms;
    log_debug("%s: agent sync %" G_GINT64_FORMAT, ag->name, id);
    g_string_append_c(ag->outbuf, (char)AGENT_DELIMITER);
    send_text(ag, text);
    set_timer(ag, ag->sync_ms);
    flush_out(ag);
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer user);

static gboolean
connect_socket(struct agent *ag, GError **error)
{
    /* a unix connect completes at once or fails; one under way waits in flush_out */
    autoclose int fd = file_connect_unix(ag->path, TRUE);
    if (fd < 0 && errno == ENAMETOOLONG) {
        err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "guest agent socket path '%s' is too long", ag->path);
        return FALSE;
    }
    if (fd < 0) {
        err_set(error, ERR_FROM_QEMU, ERR_AGENT_UNRESPONSIVE,
                "QEMU guest agent is not connected (cannot connect to '%s': %s)", ag->path,
                g_strerror(errno));
        return FALSE;
    }
    ag->fd = g_steal_fd(&fd);
    ag->state = AGENT_UNSYNCED;
    ag->in_watch = g_unix_fd_add(ag->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, ag);
    log_debug("%s: agent connected to %s", ag->name, ag->path);
    return TRUE;
}

/* Connects, syncs, or sends the next command, whichever is due. The caller holds ag->busy. */
static void
advance(struct agent *ag)
{
    if (ag->closing || ag->current || ag->state == AGENT_SYNCING || g_queue_is_empty(&ag->queue))
        return;
    if (ag->state == AGENT_DISCONNECTED) {
        g_autoptr(GError) err = NULL;
        if (!connect_socket(ag, &err)) {
            fail_queue(ag, err);
            return;
        }
    }
    if (ag->state == AGENT_UNSYNCED) {
        start_sync(ag);
        return;
    }
    struct agent_cmd *c = g_queue_pop_head(&ag->queue);
    ag->current = c;
    log_debug("%s: agent send %s", ag->name, c->cmd);
    send_text(ag, c->text);
    /* a no-reply command is still bounded while its write is pending */
    if (c->timeout_ms > 0)
        set_timer(ag, c->timeout_ms);
    else if (c->timeout_ms == 0)
        set_timer(ag, ag->timeout_ms);
    flush_out(ag);
}

static gboolean
on_timer(gpointer user)
{
    struct agent *ag = user;
    ag->timer = 0;
    ag->busy++;
    if (ag->state == AGENT_SYNCING) {
        g_autoptr(GError) err = NULL;
        err_set(&err, ERR_FROM_QEMU, ERR_AGENT_UNRESPONSIVE,
                "guest agent did not answer 'guest-sync-delimited' within %u ms; "
                "check that qemu-guest-agent runs in the guest",
                ag->sync_ms);
        drop_connection(ag);
        fail_queue(ag, err);
    } else if (ag->current) {
        struct agent_cmd *c = take_current(ag);
        if (c->no_reply && c->written) {
            /* silence is what success looks like; a late reply is for the next sync to skip */
            if (ag->state == AGENT_READY)
                ag->state = AGENT_UNSYNCED;
            finish(ag, c, NULL, NULL);
        } else {
            gint64 ms = c->timeout_ms > 0 ? c->timeout_ms : ag->timeout_ms;
            g_autofree char *msg = g_strdup_printf(
                "guest agent did not answer '%s' within %" G_GINT64_FORMAT " ms", c->cmd, ms);
            /* the stream is out of step with us now: start afresh with the next command */
            drop_connection(ag);
            fail(ag, c, ERR_AGENT_UNRESPONSIVE, msg);
        }
    }
    leave(ag);
    return G_SOURCE_REMOVE;
}

static void
handle_sync_line(struct agent *ag, const char *line, gboolean delimited)
{
    if (delimited)
        ag->delimited = TRUE;
    if (!ag->delimited || !*line)
        return;
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    JsonObject *root = qemu_json_parse_object(parser, line, NULL);
    gint64 ret;
    /* replies to an earlier session's sync or commands may come first: skip them */
    if (!qemu_json_int(root, "return", &ret) || ret != ag->sync_id) {
        log_debug("%s: agent stale output skipped while syncing", ag->name);
        return;
    }
    log_debug("%s: agent in sync", ag->name);
    remove_source(&ag->timer);
    ag->state = AGENT_READY;
    ag->delimited = FALSE;
    schedule(ag);
}

static void
handle_line(struct agent *ag, const char *line, gboolean delimited)
{
    if (ag->state == AGENT_SYNCING) {
        handle_sync_line(ag, line, delimited);
        return;
    }
    if (!*line)
        return;
    if (!ag->current || delimited) {
        /* nothing asked for it: the stream is not what we think, so sync before the next */
        log_debug("%s: agent output with no command in flight skipped", ag->name);
        if (ag->state == AGENT_READY)
            ag->state = AGENT_UNSYNCED;
        return;
    }
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) perr = NULL;
    JsonObject *obj = qemu_json_parse_object(parser, line, &perr);
    if (!obj) {
        g_autofree char *msg =
            g_strdup_printf("QEMU guest agent sent malformed JSON: %s", perr->message);
        struct agent_cmd *c = take_current(ag);
        drop_connection(ag);
        fail(ag, c, ERR_AGENT_UNRESPONSIVE, msg);
        return;
    }
    if (json_object_has_member(obj, "error")) {
        const char *desc = qemu_json_string(qemu_json_object(obj, "error"), "desc");
        struct agent_cmd *c = take_current(ag);
        g_autofree char *msg = g_strdup_printf("unable to execute QEMU agent command '%s': %s",
                                               c->cmd, desc ? desc : "unknown error");
        fail(ag, c, ERR_INTERNAL_ERROR, msg);
        return;
    }
    if (json_object_has_member(obj, "return")) {
        struct agent_cmd *c = take_current(ag);
        finish(ag, c, json_object_get_member(obj, "return"), NULL);
        return;
    }
    log_debug("%s: agent message without 'return' or 'error' skipped", ag->name);
}

/* Splits the input into lines. A line may carry the agent's 0xFF delimiter (and garbage
 * before it): only what follows the last 0xFF counts, and the line is marked delimited. */
static void
process_input(struct agent *ag)
{
    char *nl;
    while (ag->fd >= 0 && !ag->closing && (nl = memchr(ag->inbuf->str, '\n', ag->inbuf->len))) {
        gsize len = nl - ag->inbuf->str;
        gsize start = 0;
        for (gsize i = len; i > 0; i--) {
            if ((guchar)ag->inbuf->str[i - 1] == AGENT_DELIMITER) {
                start = i;
                break;
            }
        }
        g_autofree char *line = g_strndup(ag->inbuf->str + start, len - start);
        g_string_erase(ag->inbuf, 0, len + 1);
        handle_line(ag, g_strstrip(line), start > 0);
    }
    if (ag->fd >= 0 && !ag->closing && ag->inbuf->len > AGENT_LINE_MAX)
        channel_lost(ag, "it sent an overlong line");
}

void
agent_feed(struct agent *ag, const char *data, gsize len)
{
    if (ag->fd < 0 || ag->closing)
        return;
    ag->busy++;
    g_string_append_len(ag->inbuf, data, len);
    process_input(ag);
    leave(ag);
}

static gboolean
on_readable(int fd, GIOCondition cond, gpointer user)
{
    struct agent *ag = user;
    char buf[65536];
    ssize_t n;
    do
        n = read(ag->fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
    ag->busy++;
    if (n == 0) {
        channel_lost(ag, "the channel closed");
    } else if (n < 0) {
        g_autofree char *why = g_strdup_printf("cannot read its channel: %s", g_strerror(errno));
        channel_lost(ag, why);
    } else {
        g_string_append_len(ag->inbuf, buf, n);
        process_input(ag);
    }
    /* a closed connection removed this watch already: the return value no longer matters */
    leave(ag);
    return G_SOURCE_CONTINUE;
}

struct agent *
agent_new(const char *socket_path, const char *name, unsigned timeout_ms)
{
    struct agent *ag = g_new0(struct agent, 1);
    ag->path = g_strdup(socket_path);
    ag->name = g_strdup(name);
    ag->timeout_ms = timeout_ms ? timeout_ms : AGENT_DEFAULT_TIMEOUT_MS;
    ag->response_ms = ag->timeout_ms;
    ag->fd = -1;
    ag->state = AGENT_DISCONNECTED;
    ag->inbuf = g_string_new(NULL);
    ag->outbuf = g_string_new(NULL);
    g_queue_init(&ag->queue);
    return ag;
}

/* guest-shutdown and guest-suspend-* answer only when they fail */
static gboolean
never_replies(const char *cmd)
{
    return g_str_equal(cmd, "guest-shutdown") || g_str_has_prefix(cmd, "guest-suspend-");
}

/* The command OBJ (not consumed; its "execute" is CMD). TIMEOUT_MS as in struct agent_cmd. */
static struct agent_cmd *
cmd_new(const char *cmd, JsonObject *obj, gboolean no_reply, gint64 timeout_ms, agent_reply_fn cb,
        gpointer data)
{
    struct agent_cmd *c = g_new0(struct agent_cmd, 1);
    c->cmd = g_strdup(cmd);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    c->text = json_to_string(node, FALSE);
    c->timeout_ms = timeout_ms;
    c->no_reply = no_reply || never_replies(cmd) || timeout_ms == 0;
    c->cb = cb;
    c->data = data;
    return c;
}

/* Queues C (taken). */
static void
enqueue(struct agent *ag, struct agent_cmd *c)
{
    if (ag->closing) {
        /* only reachable from a callback run by agent_free */
        ag->busy++;
        fail(ag, c, ERR_AGENT_UNRESPONSIVE, "QEMU guest agent connection closed");
        ag->busy--;
        return;
    }
    g_queue_push_tail(&ag->queue, c);
    schedule(ag);
}

/* "execute": CMD, with ARGS (consumed; may be NULL) */
static JsonObject *
command_object(const char *cmd, JsonObject *args)
{
    JsonObject *obj = json_object_new();
    json_object_set_string_member(obj, "execute", cmd);
    if (args)
        json_object_set_object_member(obj, "arguments", args);
    return obj;
}

void
agent_command(struct agent *ag, const char *cmd, JsonObject *args, unsigned flags,
              agent_reply_fn cb, gpointer data)
{
    g_autoptr(JsonObject) obj = command_object(cmd, args);
    struct agent_cmd *c =
        cmd_new(cmd, obj, (flags & AGENT_NO_REPLY) != 0, ag->response_ms, cb, data);
    /* one that answers, its answer not waited for, fails saying so */
    c->unwaited = ag->response_ms == 0 && !(flags & AGENT_NO_REPLY) && !never_replies(cmd);
    enqueue(ag, c);
}

void
agent_command_settled(struct agent *ag, const char *cmd, guint settle_ms, agent_reply_fn cb,
                      gpointer data)
{
    g_autoptr(JsonObject) obj = command_object(cmd, NULL);
    struct agent_cmd *c = cmd_new(cmd, obj, TRUE, ag->timeout_ms, cb, data);
    c->settle_ms = MAX(settle_ms, 1);
    enqueue(ag, c);
}

void
agent_set_response_timeout(struct agent *ag, gint64 ms)
{
    ag->response_ms = ms;
}

void
agent_settle(struct agent *ag)
{
    struct agent_cmd *c = ag->current;
    if (!c || !c->settle_ms || !c->written)
        return;
    ag->busy++;
    take_current(ag);
    /* a reply may still come: the next command syncs past it */
    if (ag->state == AGENT_READY)
        ag->state = AGENT_UNSYNCED;
    finish(ag, c, NULL, NULL);
    leave(ag);
}

gboolean
agent_command_json(struct agent *ag, const char *json, int timeout_s, agent_reply_fn cb,
                   gpointer data, GError **error)
{
    if (timeout_s < AGENT_TIMEOUT_BLOCK) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "guest agent timeout %d is invalid; use -2 (block), -1 (default), 0 (no wait) "
                "or a number of seconds",
                timeout_s);
        return FALSE;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    JsonObject *obj = qemu_json_parse_object(parser, json, &perr);
    if (!obj) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "guest agent command is not a JSON object: %s", perr->message);
        return FALSE;
    }
    const char *exec = qemu_json_string(obj, "execute");
    if (!exec) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "guest agent command has no string 'execute' member");
        return FALSE;
    }
    gint64 timeout_ms = timeout_s == AGENT_TIMEOUT_BLOCK     ? -1
                        : timeout_s == AGENT_TIMEOUT_DEFAULT ? ag->response_ms
                                                             : (gint64)timeout_s * 1000;
    enqueue(ag, cmd_new(exec, obj, FALSE, timeout_ms, cb, data));
    return TRUE;
}

void
agent_free(struct agent *ag)
{
    if (!ag || ag->closing)
        return;
    ag->closing = TRUE;
    ag->busy++;
    remove_source(&ag->kick);
    struct agent_cmd *c = ag->current ? take_current(ag) : NULL;
    drop_connection(ag);
    g_autoptr(GError) err = NULL;
    err_set(&err, ERR_FROM_QEMU, ERR_AGENT_UNRESPONSIVE, "QEMU guest agent connection closed");
    if (c)
        finish(ag, c, NULL, c->no_reply && c->written ? NULL : err);
    fail_queue(ag, err);
    ag->busy--;
    if (ag->busy > 0) {
        ag->free_requested = TRUE;
        return;
    }
    agent_destroy(ag);
}

static void
agent_destroy(struct agent *ag)
{
    g_string_free(ag->inbuf, TRUE);
    g_string_free(ag->outbuf, TRUE);
    g_free(ag->path);
    g_free(ag->name);
    g_free(ag);
}
