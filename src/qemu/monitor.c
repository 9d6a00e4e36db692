/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor: QMP over a unix socket. QEMU ends each message with "\r\n"; we read lines and parse
 * each as one JSON object. Replies carry our "id" back, so out-of-order answers are matched.
 *
 * No reply callback ever runs inside qmp_command(): a write that fails, or a command queued on
 * a closed monitor, fails from an idle callback. Callers may issue several commands in a row
 * without the monitor (or the domain that owns it) going away between them. Descriptors ride
 * with the first byte of their command (SCM_RIGHTS), which is how QEMU's getfd and add-fd
 * expect them. */
#include "qemu/json.h"
#include "qemu/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/err.h"
#include "util/log.h"

#define QMP_LINE_MAX (16 * 1024 * 1024)

struct qmp_pending {
    guint64 id;
    gboolean raw; /* the callback gets QEMU's whole reply, "error" included */
    char *cmd;
    char *text; /* the serialized command, sent once negotiated */
    int *fds;   /* passed with the command (owned until sent) */
    guint nfds;
    qmp_reply_fn cb;
    gpointer data;
    gint64 deadline;
};

struct qmp {
    int fd;
    char *name;
    struct qmp_callbacks cb;
    gpointer user;
    unsigned timeout_ms;
    guint in_watch;
    guint out_watch;
    guint timer;
    guint fail_idle; /* fails what cannot be sent, outside any caller's stack */
    char *fail_reason;
    GString *inbuf;
    GQueue out; /* struct out_chunk *: command text in order, with its descriptors */
    gsize out_off;
    gboolean greeted;
    gint64 greeting_deadline;
    gboolean negotiated;
    gboolean closed;
    guint64 next_id;
    GQueue unsent;       /* struct qmp_pending *, waiting for negotiation */
    GHashTable *pending; /* id -> struct qmp_pending * (sent) */
    int busy;            /* > 0 while callbacks run: defer free */
    gboolean free_requested;
    gint64 event_seconds; /* the timestamp of the event being delivered (-1: none given) */
    guint event_micros;
};

struct out_chunk {
    char *text;
    gsize len;
    int *fds;
    guint nfds;
};

static void
close_fds(int *fds, guint nfds)
{
    for (guint i = 0; i < nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    g_free(fds);
}

static void
chunk_free(struct out_chunk *c)
{
    g_free(c->text);
    close_fds(c->fds, c->nfds);
    g_free(c);
}

static void
pending_free(struct qmp_pending *p)
{
    close_fds(p->fds, p->nfds);
    g_free(p->cmd);
    g_free(p->text);
    g_free(p);
}

static void qmp_shutdown(struct qmp *mon, const char *reason, gboolean notify);
static void qmp_destroy(struct qmp *mon);

/* Ends a callback section; frees the monitor when qmp_free was called inside it. */
static gboolean
leave(struct qmp *mon)
{
    mon->busy--;
    if (mon->busy == 0 && mon->free_requested) {
        qmp_destroy(mon);
        return TRUE;
    }
    return FALSE;
}

static void
fail_pending(struct qmp_pending *p, struct qmp *mon, int code, const char *msg)
{
    if (p->cb) {
        g_autoptr(GError) err = NULL;
        err_set(&err, ERR_FROM_QEMU, code, "%s", msg);
        p->cb(mon, NULL, err, p->data);
    }
}

static gboolean on_fail_idle(gpointer user);

/* A failure found while the caller's stack may hold the monitor: reported from an idle. */
static void
fail_later(struct qmp *mon, const char *reason)
{
    if (!mon->fail_reason)
        mon->fail_reason = g_strdup(reason);
    if (!mon->fail_idle)
        mon->fail_idle = g_idle_add(on_fail_idle, mon);
}

/* One sendmsg: a chunk's descriptors go with its first byte, in a write of their own. */
static ssize_t
write_chunk(struct qmp *mon, struct out_chunk *c)
{
    struct iovec iov = {c->text + mon->out_off, c->len - mon->out_off};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    g_autofree char *control = NULL;
    if (c->nfds && mon->out_off == 0) {
        gsize space = CMSG_SPACE(sizeof(int) * c->nfds);
        control = g_malloc0(space);
        mh.msg_control = control;
        mh.msg_controllen = space;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * c->nfds);
        memcpy(CMSG_DATA(cm), c->fds, sizeof(int) * c->nfds);
    }
    ssize_t n;
    do {
        n = sendmsg(mon->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n > 0 && c->nfds) {
        /* QEMU holds its own copies now */
        close_fds(c->fds, c->nfds);
        c->fds = NULL;
        c->nfds = 0;
    }
    return n;
}

/* Writes what the socket takes. FALSE on a write error (reported later, see fail_later). */
static gboolean
write_out(struct qmp *mon)
{
    while (!g_queue_is_empty(&mon->out)) {
        struct out_chunk *c = g_queue_peek_head(&mon->out);
        ssize_t n = write_chunk(mon, c);
        if (n < 0 && errno == EAGAIN)
            return TRUE;
        if (n < 0) {
            log_debug("%s: qmp write failed: %s", mon->name, g_strerror(errno));
            fail_later(mon, "cannot write to the QEMU monitor");
            return FALSE;
        }
        mon->out_off += (gsize)n;
        if (mon->out_off == c->len) {
            chunk_free(g_queue_pop_head(&mon->out));
            mon->out_off = 0;
        }
    }
    return TRUE;
}

static gboolean
on_writable(int fd, GIOCondition cond, gpointer user)
{
    struct qmp *mon = user;
    if (write_out(mon) && !g_queue_is_empty(&mon->out))
        return G_SOURCE_CONTINUE;
    mon->out_watch = 0;
    return G_SOURCE_REMOVE;
}

static void
flush_out(struct qmp *mon)
{
    if (mon->closed || mon->fail_reason || mon->out_watch || g_queue_is_empty(&mon->out))
        return;
    if (write_out(mon) && !g_queue_is_empty(&mon->out))
        mon->out_watch = g_unix_fd_add(mon->fd, G_IO_OUT, on_writable, mon);
}

static void
send_pending(struct qmp *mon, struct qmp_pending *p)
{
    struct out_chunk *c = g_new0(struct out_chunk, 1);
    c->text = g_strconcat(p->text, "\n", NULL);
    c->len = strlen(c->text);
    c->fds = g_steal_pointer(&p->fds);
    c->nfds = p->nfds;
    p->nfds = 0;
    g_queue_push_tail(&mon->out, c);
    p->deadline = g_get_monotonic_time() + (gint64)mon->timeout_ms * 1000;
    g_hash_table_insert(mon->pending, &p->id, p);
    /* secrets stay out of logs even at debug level */
    if (g_str_equal(p->cmd, "set_password"))
        log_debug("%s: qmp send set_password (id %" G_GUINT64_FORMAT ")", mon->name, p->id);
    else
        log_debug("%s: qmp send %s", mon->name, p->text);
}

static gboolean
on_timer(gpointer user)
{
    struct qmp *mon = user;
    gint64 now = g_get_monotonic_time();
    if (!mon->negotiated && now >= mon->greeting_deadline) {
        g_autofree char *msg = g_strdup_printf(
            "QEMU monitor did not complete its greeting within %u ms", mon->timeout_ms);
        mon->timer = 0;
        mon->busy++;
        qmp_shutdown(mon, msg, TRUE);
        leave(mon);
        return G_SOURCE_REMOVE;
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, mon->pending);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct qmp_pending *p = value;
        if (p->deadline <= now) {
            g_autofree char *msg = g_strdup_printf("QEMU monitor did not answer '%s' within %u ms",
                                                   p->cmd, mon->timeout_ms);
            /* the stream is now out of step with our queue: give up on this monitor */
            mon->timer = 0;
            mon->busy++;
            qmp_shutdown(mon, msg, TRUE);
            leave(mon);
            return G_SOURCE_REMOVE;
        }
    }
    return G_SOURCE_CONTINUE;
}

static void
handle_message(struct qmp *mon, JsonObject *obj)
{
    if (json_object_has_member(obj, "QMP")) {
        /* QEMU greets once; another greeting is noise, not a reason to negotiate again */
        if (mon->greeted) {
            log_debug("%s: second qmp greeting ignored", mon->name);
            return;
        }
        mon->greeted = TRUE;
        /* capabilities negotiation first; its reply releases the queue */
        struct qmp_pending *p = g_new0(struct qmp_pending, 1);
        p->id = mon->next_id++;
        p->cmd = g_strdup("qmp_capabilities");
        p->text = g_strdup_printf("{\"execute\":\"qmp_capabilities\",\"id\":%" G_GUINT64_FORMAT "}",
                                  p->id);
        send_pending(mon, p);
        flush_out(mon);
        return;
    }
    if (json_object_has_member(obj, "event")) {
        const char *ev = qemu_json_string(obj, "event");
        JsonObject *data = qemu_json_object(obj, "data");
        if (!ev) {
            log_debug("%s: qmp event without a name ignored", mon->name);
            return;
        }
        log_debug("%s: qmp event %s", mon->name, ev);
        JsonObject *ts = qemu_json_object(obj, "timestamp");
        gint64 micros = ts ? qemu_json_int_or(ts, "microseconds", 0) : 0;
        mon->event_seconds = ts ? qemu_json_int_or(ts, "seconds", -1) : -1;
        mon->event_micros = micros >= 0 && micros < G_USEC_PER_SEC ? (guint)micros : 0;
        if (mon->cb.event)
            mon->cb.event(mon, ev, data, mon->user);
        return;
    }
    if (!json_object_has_member(obj, "id")) {
        log_debug("%s: qmp message without id ignored", mon->name);
        return;
    }
    gint64 sid;
    if (!qemu_json_int(obj, "id", &sid)) {
        log_debug("%s: qmp reply with a foreign id ignored", mon->name);
        return;
    }
    guint64 id = (guint64)sid;
    struct qmp_pending *p = NULL;
    if (!g_hash_table_steal_extended(mon->pending, &id, NULL, (gpointer *)&p)) {
        log_debug("%s: qmp reply for unknown id %" G_GUINT64_FORMAT, mon->name, id);
        return;
    }
    if (!mon->negotiated && g_str_equal(p->cmd, "qmp_capabilities")) {
        mon->negotiated = TRUE;
        struct qmp_pending *q;
        while ((q = g_queue_pop_head(&mon->unsent)))
            send_pending(mon, q);
        flush_out(mon);
        pending_free(p);
        return;
    }
    if (p->raw) {
        if (p->cb) {
            g_autoptr(JsonNode) whole = json_node_init_object(json_node_alloc(), obj);
            p->cb(mon, whole, NULL, p->data);
        }
    } else if (json_object_has_member(obj, "error")) {
        const char *desc = qemu_json_string(qemu_json_object(obj, "error"), "desc");
        if (!desc)
            desc = "?";
        if (p->cb) {
            g_autoptr(GError) err = NULL;
            err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU refused '%s': %s", p->cmd,
                    desc);
            p->cb(mon, NULL, err, p->data);
        }
    } else if (p->cb) {
        JsonNode *ret = json_object_get_member(obj, "return");
        p->cb(mon, ret, NULL, p->data);
    }
    pending_free(p);
}

/* Handles every complete line of the input. FALSE when the monitor was shut down (and maybe
 * freed: MON must not be used then). */
static gboolean
process_input(struct qmp *mon)
{
    mon->busy++;
    char *nl;
    while (!mon->closed && (nl = memchr(mon->inbuf->str, '\n', mon->inbuf->len))) {
        gsize linelen = nl - mon->inbuf->str;
        g_autofree char *line = g_strndup(mon->inbuf->str, linelen);
        g_string_erase(mon->inbuf, 0, linelen + 1);
        g_strstrip(line);
        if (!*line)
            continue;
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autoptr(GError) perr = NULL;
        JsonObject *obj = qemu_json_parse_object(parser, line, &perr);
        if (!obj) {
            g_autofree char *msg =
                g_strdup_printf("QEMU monitor sent malformed JSON: %s", perr->message);
            qmp_shutdown(mon, msg, TRUE);
            break;
        }
        handle_message(mon, obj);
    }
    if (!mon->closed && mon->inbuf->len > QMP_LINE_MAX)
        qmp_shutdown(mon, "QEMU monitor sent an overlong line", TRUE);
    gboolean closed = mon->closed;
    if (leave(mon) || closed)
        return FALSE;
    return TRUE;
}

void
qmp_feed(struct qmp *mon, const char *data, gsize len)
{
    if (mon->closed)
        return;
    g_string_append_len(mon->inbuf, data, len);
    process_input(mon);
}

static gboolean
on_readable(int fd, GIOCondition cond, gpointer user)
{
    struct qmp *mon = user;
    char buf[65536];
    ssize_t n;
    for (;;) {
        n = read(mon->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        mon->in_watch = 0;
        mon->busy++;
        qmp_shutdown(mon,
                     n == 0 ? "QEMU monitor closed the connection"
                            : "cannot read from the QEMU monitor",
                     TRUE);
        leave(mon);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(mon->inbuf, buf, n);
    if (!process_input(mon)) {
        /* shut down: qmp_shutdown removed this watch */
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

struct qmp *
qmp_new(int fd, const char *name, const struct qmp_callbacks *cb, gpointer user,
        unsigned timeout_ms)
{
    struct qmp *mon = g_new0(struct qmp, 1);
    mon->fd = fd;
    mon->name = g_strdup(name);
    mon->cb = *cb;
    mon->user = user;
    mon->timeout_ms = timeout_ms ? timeout_ms : 30000;
    mon->greeting_deadline = g_get_monotonic_time() + (gint64)mon->timeout_ms * 1000;
    mon->inbuf = g_string_new(NULL);
    g_queue_init(&mon->out);
    mon->pending = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_queue_init(&mon->unsent);
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    mon->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, mon);
    mon->timer =
        g_timeout_add(mon->timeout_ms < 1000 ? mon->timeout_ms / 2 + 1 : 500, on_timer, mon);
    return mon;
}

/* Queues CMD with FDS (taken). Nothing here calls back: a closed monitor fails the command
 * from an idle, and so does a write that fails. */
static void
queue_command(struct qmp *mon, const char *cmd, JsonObject *args, gboolean raw, int *fds,
              guint nfds, qmp_reply_fn cb, gpointer data)
{
    struct qmp_pending *p = g_new0(struct qmp_pending, 1);
    p->id = mon->next_id++;
    p->cmd = g_strdup(cmd);
    p->raw = raw;
    p->fds = fds;
    p->nfds = nfds;
    p->cb = cb;
    p->data = data;
    g_autoptr(JsonObject) obj = json_object_new();
    json_object_set_string_member(obj, "execute", cmd);
    if (args)
        json_object_set_object_member(obj, "arguments", args);
    json_object_set_int_member(obj, "id", (gint64)p->id);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    p->text = json_to_string(node, FALSE);
    if (mon->closed) {
        g_queue_push_tail(&mon->unsent, p);
        fail_later(mon, "QEMU monitor is closed");
        return;
    }
    /* sent once negotiated, in order */
    if (mon->negotiated) {
        send_pending(mon, p);
        flush_out(mon);
    } else {
        g_queue_push_tail(&mon->unsent, p);
    }
}

void
qmp_command(struct qmp *mon, const char *cmd, JsonObject *args, qmp_reply_fn cb, gpointer data)
{
    queue_command(mon, cmd, args, FALSE, NULL, 0, cb, data);
}

void
qmp_command_fds(struct qmp *mon, const char *cmd, JsonObject *args, const int *fds, guint nfds,
                qmp_reply_fn cb, gpointer data)
{
    int *copy = g_new(int, nfds);
    for (guint i = 0; i < nfds; i++)
        copy[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    queue_command(mon, cmd, args, FALSE, copy, nfds, cb, data);
}

gboolean
qmp_command_json(struct qmp *mon, const char *json, qmp_reply_fn cb, gpointer data, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    JsonObject *obj = qemu_json_parse_object(parser, json, &perr);
    if (!obj) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "monitor command is not a JSON object: %s",
                perr->message);
        return FALSE;
    }
    const char *cmd = qemu_json_string(obj, "execute");
    if (!cmd) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "monitor command has no 'execute' member");
        return FALSE;
    }
    if (g_str_equal(cmd, "qmp_capabilities")) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "capabilities are negotiated already; 'qmp_capabilities' would be refused");
        return FALSE;
    }
    JsonObject *args = qemu_json_object(obj, "arguments");
    if (json_object_has_member(obj, "arguments") && !args) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "monitor command's 'arguments' is not an object");
        return FALSE;
    }
    queue_command(mon, cmd, args ? json_object_ref(args) : NULL, TRUE, NULL, 0, cb, data);
    return TRUE;
}

void
qmp_event_timestamp(const struct qmp *mon, gint64 *ret_seconds, guint *ret_micros)
{
    *ret_seconds = mon->event_seconds;
    *ret_micros = mon->event_micros;
}

gboolean
qmp_is_closed(struct qmp *mon)
{
    return mon->closed;
}

static void
qmp_shutdown(struct qmp *mon, const char *reason, gboolean notify)
{
    if (mon->closed)
        return;
    mon->closed = TRUE;
    log_debug("%s: qmp closed: %s", mon->name, reason);
    if (mon->in_watch) {
        g_source_remove(mon->in_watch);
        mon->in_watch = 0;
    }
    if (mon->out_watch) {
        g_source_remove(mon->out_watch);
        mon->out_watch = 0;
    }
    if (mon->timer) {
        g_source_remove(mon->timer);
        mon->timer = 0;
    }
    g_queue_clear_full(&mon->out, (GDestroyNotify)chunk_free);
    mon->out_off = 0;
    if (mon->fd >= 0) {
        close(mon->fd);
        mon->fd = -1;
    }
    mon->busy++;
    GList *all = g_hash_table_get_values(mon->pending);
    g_hash_table_steal_all(mon->pending);
    for (struct qmp_pending *q; (q = g_queue_pop_head(&mon->unsent));)
        all = g_list_append(all, q);
    for (GList *l = all; l; l = l->next) {
        fail_pending(l->data, mon, ERR_OPERATION_FAILED, reason);
        pending_free(l->data);
    }
    g_list_free(all);
    /* a reply callback may have dropped the monitor (and its user) meanwhile */
    if (notify && mon->cb.closed && !mon->free_requested)
        mon->cb.closed(mon, reason, mon->user);
    mon->busy--;
}

void
qmp_free(struct qmp *mon)
{
    if (!mon)
        return;
    mon->busy++;
    if (!mon->closed) {
        mon->cb.closed = NULL;
        qmp_shutdown(mon, "QEMU monitor connection closed", FALSE);
    }
    for (struct qmp_pending *q; (q = g_queue_pop_head(&mon->unsent));) {
        fail_pending(q, mon, ERR_OPERATION_FAILED, "QEMU monitor is closed");
        pending_free(q);
    }
    mon->busy--;
    if (mon->busy > 0) {
        mon->free_requested = TRUE;
        return;
    }
    qmp_destroy(mon);
}

static gboolean
on_fail_idle(gpointer user)
{
    struct qmp *mon = user;
    mon->fail_idle = 0;
    mon->busy++;
    if (!mon->closed) {
        qmp_shutdown(mon, mon->fail_reason, TRUE);
    } else {
        /* commands queued after the close */
        for (struct qmp_pending *q; (q = g_queue_pop_head(&mon->unsent));) {
            fail_pending(q, mon, ERR_OPERATION_FAILED, "QEMU monitor is closed");
            pending_free(q);
        }
    }
    leave(mon);
    return G_SOURCE_REMOVE;
}

static void
qmp_destroy(struct qmp *mon)
{
    if (mon->fail_idle)
        g_source_remove(mon->fail_idle);
    g_queue_clear_full(&mon->unsent, (GDestroyNotify)pending_free);
    g_queue_clear_full(&mon->out, (GDestroyNotify)chunk_free);
    g_free(mon->fail_reason);
    g_hash_table_destroy(mon->pending);
    g_string_free(mon->inbuf, TRUE);
    g_free(mon->name);
    g_free(mon);
}
