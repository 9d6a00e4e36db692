/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-qemu: a scripted QMP peer that domusd starts as a domain's <emulator>, for fast driver
 * tests and fault injection. The domain name picks the script: "-name guest=NAME" selects
 * FAKE_QMP_DIR/NAME.json, and a suffix after '@' is ignored so several domains can share one
 * script ("ok@2" runs "ok.json"). The file format is described in tests/fake/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#ifndef FAKE_QMP_DIR
#error "FAKE_QMP_DIR must name the directory of the scenario files"
#endif

#define MONITOR_FD 3

struct rule {
    char *execute; /* NULL: any command */
    gint64 nth;    /* 0: every match; else only the nth match (1-based) */
    gint64 seen;
    JsonArray *actions;
};

/* one action waiting to run; CMD/ID are the command it answers (NULL outside a command) */
struct scheduled {
    gint64 due_us;
    guint64 seq;
    JsonObject *action;
    char *cmd;
    JsonNode *id;
};

struct fake {
    char *scenario;
    JsonParser *parser; /* owns the scenario tree */
    GPtrArray *rules;   /* struct rule * */
    JsonArray *on_start;
    JsonArray *on_connect;
    JsonArray *on_sigterm;
    gboolean auto_events;
    gboolean greeted;
    int conn;
    gboolean read_shut; /* stopped reading the monitor (shutdown_read) */
    int sigfd;
    GString *inbuf;
    GList *queue; /* struct scheduled *, sorted by (due_us, seq) */
    guint64 next_seq;
    gboolean running;
    const char *status;
    char pty_name[64];
    int pty_master;
    GArray *fds_in;      /* descriptors received with the last read (SCM_RIGHTS) */
    GHashTable *named;   /* getfd: fdname -> fd */
    GPtrArray *fdsets;   /* add-fd: struct fdset * */
    GPtrArray *chardevs; /* struct chardev *: -chardev socket,fd=N from the argv */
};

/* a chardev whose listening socket was inherited: "-chardev socket,id=ID,fd=N,server=on" */
struct chardev {
    char *id;
    int fd;
};

struct fdset {
    gint64 id;
    int fd;
    char *opaque;
};

static void die(int status, const char *fmt, ...) G_GNUC_NORETURN G_GNUC_PRINTF(2, 3);

static void
die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fake-qemu: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

/* "-name guest=a,,b,debug-threads=on" -> "a,b" (QEMU option syntax doubles commas) */
static char *
guest_name(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (!g_str_equal(argv[i], "-name"))
            continue;
        const char *p = argv[i + 1];
        if (g_str_has_prefix(p, "guest="))
            p += strlen("guest=");
        GString *s = g_string_new(NULL);
        for (; *p; p++) {
            if (*p == ',') {
                if (p[1] != ',')
                    break;
                p++;
            }
            g_string_append_c(s, *p);
        }
        return g_string_free(s, FALSE);
    }
    return NULL;
}

static JsonArray *
member_array(JsonObject *o, const char *name)
{
    if (!json_object_has_member(o, name))
        return NULL;
    JsonNode *n = json_object_get_member(o, name);
    if (!JSON_NODE_HOLDS_ARRAY(n))
        die(2, "scenario member '%s' must be an array", name);
    return json_node_get_array(n);
}

static void
load_scenario(struct fake *f, const char *name)
{
    g_autofree char *base = g_strdup(name);
    char *at = strchr(base, '@');
    if (at)
        *at = '\0';
    f->scenario = g_strdup(base);
    g_autofree char *file = g_strdup_printf("%s.json", base);
    g_autofree char *path = g_build_filename(FAKE_QMP_DIR, file, NULL);
    g_autoptr(GError) error = NULL;
    f->parser = json_parser_new_immutable();
    if (!json_parser_load_from_file(f->parser, path, &error))
        die(2, "cannot load scenario '%s': %s", path, error->message);
    JsonNode *root = json_parser_get_root(f->parser);
    if (!JSON_NODE_HOLDS_OBJECT(root))
        die(2, "scenario '%s' is not a JSON object", path);
    JsonObject *top = json_node_get_object(root);
    f->on_start = member_array(top, "on_start");
    f->on_connect = member_array(top, "on_connect");
    f->on_sigterm = member_array(top, "on_sigterm");
    f->auto_events = json_object_get_boolean_member_with_default(top, "auto_events", TRUE);
    f->rules = g_ptr_array_new();
    JsonArray *rules = member_array(top, "rules");
    for (guint i = 0; rules && i < json_array_get_length(rules); i++) {
        JsonNode *rn = json_array_get_element(rules, i);
        if (!JSON_NODE_HOLDS_OBJECT(rn))
            die(2, "scenario '%s': rule %u is not an object", path, i);
        JsonObject *ro = json_node_get_object(rn);
        struct rule *r = g_new0(struct rule, 1);
        r->execute = g_strdup(json_object_get_string_member_with_default(ro, "execute", NULL));
        r->nth = json_object_get_int_member_with_default(ro, "nth", 0);
        r->actions = member_array(ro, "do");
        if (!r->actions)
            die(2, "scenario '%s': rule %u has no 'do' list", path, i);
        g_ptr_array_add(f->rules, r);
    }
}

/* --- output --- */

static void
close_conn(struct fake *f)
{
    if (f->conn >= 0)
        close(f->conn);
    f->conn = -1;
}

static void
send_text(struct fake *f, const char *text)
{
    if (f->conn < 0)
        return;
    g_autofree char *line = g_strconcat(text, "\r\n", NULL);
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t n = write(f->conn, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close_conn(f); /* the daemon hung up; a real QEMU keeps running too */
            return;
        }
        off += n;
    }
}

static void
send_object(struct fake *f, JsonObject *obj)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    g_autofree char *text = json_to_string(node, FALSE);
    send_text(f, text);
}

static void
send_event(struct fake *f, const char *name, JsonObject *data)
{
    if (g_str_equal(name, "STOP")) {
        f->running = FALSE;
        f->status = "paused";
    } else if (g_str_equal(name, "RESUME")) {
        f->running = TRUE;
        f->status = "running";
    } else if (g_str_equal(name, "SHUTDOWN")) {
        f->running = FALSE; /* -no-shutdown: the guest is powered off but QEMU stays */
        f->status = "shutdown";
    } else if (g_str_equal(name, "GUEST_PANICKED")) {
        f->running = FALSE;
        f->status = "guest-panicked";
    }
    gint64 now = g_get_real_time();
    g_autoptr(JsonObject) ts = json_object_new();
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    g_autoptr(JsonObject) ev = json_object_new();
    json_object_set_string_member(ev, "event", name);
    json_object_set_object_member(ev, "data", data ? json_object_ref(data) : json_object_new());
    json_object_set_object_member(ev, "timestamp", g_steal_pointer(&ts));
    send_object(f, ev);
}

static void
send_return(struct fake *f, JsonNode *id, JsonNode *value)
{
    g_autoptr(JsonObject) o = json_object_new();
    json_object_set_member(o, "return", value);
    if (id)
        json_object_set_member(o, "id", json_node_copy(id));
    send_object(f, o);
}

static void
send_error(struct fake *f, JsonNode *id, const char *klass, const char *desc)
{
    g_autoptr(JsonObject) o = json_object_new();
    JsonObject *e = json_object_new();
    json_object_set_string_member(e, "class", klass);
    json_object_set_string_member(e, "desc", desc);
    json_object_set_object_member(o, "error", e);
    if (id)
        json_object_set_member(o, "id", json_node_copy(id));
    send_object(f, o);
}

static JsonNode *
empty_object(void)
{
    return json_node_init_object(json_node_alloc(), json_object_new());
}

static void
send_greeting(struct fake *f)
{
    g_autoptr(JsonObject) g = json_object_new();
    JsonObject *qmp = json_object_new();
    JsonObject *version = json_object_new();
    JsonObject *qemu = json_object_new();
    json_object_set_int_member(qemu, "major", 8);
    json_object_set_int_member(qemu, "minor", 2);
    json_object_set_int_member(qemu, "micro", 0);
    json_object_set_object_member(version, "qemu", qemu);
    json_object_set_string_member(version, "package", "fake-qemu");
    json_object_set_object_member(qmp, "version", version);
    JsonArray *caps = json_array_new();
    json_array_add_string_element(caps, "oob");
    json_object_set_array_member(qmp, "capabilities", caps);
    json_object_set_object_member(g, "QMP", qmp);
    send_object(f, g);
    f->greeted = TRUE;
}

static JsonNode *
chardev_list(struct fake *f)
{
    JsonArray *arr = json_array_new();
    JsonObject *mon = json_object_new();
    json_object_set_string_member(mon, "label", "charmonitor");
    json_object_set_string_member(mon, "filename", "unix:,server=on");
    json_object_set_boolean_member(mon, "frontend-open", TRUE);
    json_array_add_object_element(arr, mon);
    JsonObject *ser = json_object_new();
    json_object_set_string_member(ser, "label", "charserial0");
    g_autofree char *fn = g_strdup_printf("pty:%s", f->pty_name);
    json_object_set_string_member(ser, "filename", fn);
    json_object_set_boolean_member(ser, "frontend-open", TRUE);
    json_array_add_object_element(arr, ser);
    for (guint i = 0; i < f->chardevs->len; i++) {
        /* as QEMU shows a listening socket it was given: where it is bound */
        struct chardev *c = f->chardevs->pdata[i];
        struct sockaddr_un addr = {0};
        socklen_t len = sizeof(addr);
        if (getsockname(c->fd, (struct sockaddr *)&addr, &len) < 0)
            addr.sun_path[0] = '\0';
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "label", c->id);
        g_autofree char *name = g_strdup_printf("disconnected:unix:%s,server=on", addr.sun_path);
        json_object_set_string_member(o, "filename", name);
        json_object_set_boolean_member(o, "frontend-open", FALSE);
        json_array_add_object_element(arr, o);
    }
    return json_node_init_array(json_node_alloc(), arr);
}

/* What QEMU 8.2 answers, with the events it emits before the reply. */
/* The descriptor that came with the command, as QEMU takes it; -1 when none did. */
static int
take_fd(struct fake *f)
{
    if (!f->fds_in->len)
        return -1;
    int fd = g_array_index(f->fds_in, int, 0);
    g_array_remove_index(f->fds_in, 0);
    return fd;
}

/* getfd, closefd, add-fd, remove-fd, query-fdsets: QEMU's descriptor passing. The fds stay
 * open in this process, where a test can find them (/proc/PID/fd). */
static gboolean
fd_reply(struct fake *f, const char *cmd, JsonObject *args, JsonNode *id)
{
    const char *fdname =
        args ? json_object_get_string_member_with_default(args, "fdname", NULL) : NULL;
    if (g_str_equal(cmd, "getfd")) {
        int fd = take_fd(f);
        if (fd < 0) {
            send_error(f, id, "GenericError", "No file descriptor supplied via SCM_RIGHTS");
        } else if (!fdname || g_ascii_isdigit(fdname[0])) {
            close(fd);
            send_error(f, id, "GenericError", "Parameter 'fdname' expects a name");
        } else {
            gpointer old = NULL;
            if (g_hash_table_lookup_extended(f->named, fdname, NULL, &old))
                close(GPOINTER_TO_INT(old));
            g_hash_table_insert(f->named, g_strdup(fdname), GINT_TO_POINTER(fd));
            send_return(f, id, empty_object());
        }
    } else if (g_str_equal(cmd, "closefd")) {
        gpointer fd = NULL;
        if (!fdname || !g_hash_table_lookup_extended(f->named, fdname, NULL, &fd)) {
            g_autofree char *d =
                g_strdup_printf("File descriptor named '%s' not found", fdname ? fdname : "");
            send_error(f, id, "GenericError", d);
        } else {
            close(GPOINTER_TO_INT(fd));
            g_hash_table_remove(f->named, fdname);
            send_return(f, id, empty_object());
        }
    } else if (g_str_equal(cmd, "add-fd")) {
        int fd = take_fd(f);
        if (fd < 0) {
            send_error(f, id, "GenericError", "No file descriptor supplied via SCM_RIGHTS");
            return TRUE;
        }
        struct fdset *set = g_new0(struct fdset, 1);
        set->id = args ? json_object_get_int_member_with_default(args, "fdset-id", -1) : -1;
        if (set->id < 0)
            set->id = f->fdsets->len; /* QEMU picks the lowest free id; this one is free */
        set->fd = fd;
        set->opaque =
            args ? g_strdup(json_object_get_string_member_with_default(args, "opaque", NULL))
                 : NULL;
        g_ptr_array_add(f->fdsets, set);
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "fdset-id", set->id);
        json_object_set_int_member(o, "fd", fd);
        send_return(f, id, json_node_init_object(json_node_alloc(), o));
    } else if (g_str_equal(cmd, "remove-fd")) {
        gint64 want = args ? json_object_get_int_member_with_default(args, "fdset-id", -1) : -1;
        gboolean found = FALSE;
        for (guint i = f->fdsets->len; i-- > 0;) {
            struct fdset *set = f->fdsets->pdata[i];
            if (set->id == want) {
                close(set->fd);
                g_free(set->opaque);
                g_ptr_array_remove_index(f->fdsets, i);
                found = TRUE;
            }
        }
        if (found)
            send_return(f, id, empty_object());
        else
            send_error(f, id, "GenericError", "File descriptor set not found");
    } else if (g_str_equal(cmd, "query-fdsets")) {
        JsonArray *arr = json_array_new();
        for (guint i = 0; i < f->fdsets->len; i++) {
            struct fdset *set = f->fdsets->pdata[i];
            JsonObject *o = json_object_new();
            json_object_set_int_member(o, "fdset-id", set->id);
            JsonArray *fds = json_array_new();
            JsonObject *e = json_object_new();
            json_object_set_int_member(e, "fd", set->fd);
            if (set->opaque)
                json_object_set_string_member(e, "opaque", set->opaque);
            json_array_add_object_element(fds, e);
            json_object_set_array_member(o, "fds", fds);
            json_array_add_object_element(arr, o);
        }
        send_return(f, id, json_node_init_array(json_node_alloc(), arr));
    } else {
        return FALSE;
    }
    return TRUE;
}

static void
default_reply(struct fake *f, const char *cmd, JsonObject *args, JsonNode *id)
{
    if (cmd && fd_reply(f, cmd, args, id))
        return;
    if (!cmd) {
        send_error(f, id, "GenericError", "QMP input lacks member 'execute'");
    } else if (g_str_equal(cmd, "qmp_capabilities") || g_str_equal(cmd, "set_password") ||
               g_str_equal(cmd, "system_powerdown")) {
        send_return(f, id, empty_object());
    } else if (g_str_equal(cmd, "cont")) {
        if (f->auto_events && !f->running)
            send_event(f, "RESUME", NULL);
        f->running = TRUE;
        f->status = "running";
        send_return(f, id, empty_object());
    } else if (g_str_equal(cmd, "stop")) {
        if (f->auto_events && f->running)
            send_event(f, "STOP", NULL);
        f->running = FALSE;
        f->status = "paused";
        send_return(f, id, empty_object());
    } else if (g_str_equal(cmd, "system_reset")) {
        if (f->auto_events) {
            g_autoptr(JsonObject) d = json_object_new();
            json_object_set_boolean_member(d, "guest", FALSE);
            json_object_set_string_member(d, "reason", "host-qmp-system-reset");
            send_event(f, "RESET", d);
        }
        send_return(f, id, empty_object());
    } else if (g_str_equal(cmd, "query-chardev")) {
        send_return(f, id, chardev_list(f));
    } else if (g_str_equal(cmd, "query-status")) {
        JsonObject *o = json_object_new();
        json_object_set_boolean_member(o, "running", f->running);
        json_object_set_boolean_member(o, "singlestep", FALSE);
        json_object_set_string_member(o, "status", f->status);
        send_return(f, id, json_node_init_object(json_node_alloc(), o));
    } else if (g_str_equal(cmd, "query-vnc")) {
        JsonObject *o = json_object_new();
        json_object_set_boolean_member(o, "enabled", TRUE);
        json_object_set_string_member(o, "host", "127.0.0.1");
        json_object_set_string_member(o, "family", "ipv4");
        json_object_set_string_member(o, "service", "5900");
        json_object_set_string_member(o, "auth", "none");
        json_object_set_array_member(o, "clients", json_array_new());
        send_return(f, id, json_node_init_object(json_node_alloc(), o));
    } else if (g_str_equal(cmd, "quit")) {
        send_return(f, id, empty_object());
        g_autoptr(JsonObject) d = json_object_new();
        json_object_set_boolean_member(d, "guest", FALSE);
        json_object_set_string_member(d, "reason", "host-qmp-quit");
        send_event(f, "SHUTDOWN", d);
        exit(0);
    } else {
        g_autofree char *desc = g_strdup_printf("The command %s has not been found", cmd);
        send_error(f, id, "CommandNotFound", desc);
    }
}

/* --- actions --- */

/* A child keeps every fd of ours (the monitor socket included) open for MS after we exit, the
 * way a helper process that inherited it would: the daemon sees the exit before any EOF. */
static void
hold_monitor(gint64 ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        g_usleep(ms * 1000);
        _exit(0);
    }
}

static void
run_action(struct fake *f, JsonObject *a, const char *cmd, JsonNode *id)
{
    const char *text = json_object_get_string_member_with_default(a, "stderr", NULL);
    if (text) {
        fprintf(stderr, "%s\n", text);
        fflush(stderr);
    }
    if (json_object_has_member(a, "greeting"))
        send_greeting(f);
    if (json_object_has_member(a, "reply"))
        default_reply(f, cmd, NULL, id);
    if (json_object_has_member(a, "return"))
        send_return(f, id, json_node_copy(json_object_get_member(a, "return")));
    if (json_object_has_member(a, "error")) {
        const char *desc = json_object_get_string_member_with_default(a, "error", "fake error");
        send_error(f, id, "GenericError", desc);
    }
    if (json_object_has_member(a, "event")) {
        JsonObject *data =
            json_object_has_member(a, "data") ? json_object_get_object_member(a, "data") : NULL;
        send_event(f, json_object_get_string_member(a, "event"), data);
    }
    if (json_object_has_member(a, "send"))
        send_text(f, json_object_get_string_member(a, "send"));
    if (json_object_has_member(a, "hold_monitor_ms"))
        hold_monitor(json_object_get_int_member(a, "hold_monitor_ms"));
    if (json_object_get_boolean_member_with_default(a, "shutdown_read", FALSE) && f->conn >= 0) {
        shutdown(f->conn, SHUT_RD);
        f->read_shut = TRUE;
    }
    if (json_object_get_boolean_member_with_default(a, "close", FALSE))
        close_conn(f);
    if (json_object_has_member(a, "exit"))
        exit((int)json_object_get_int_member(a, "exit"));
}

static gint
scheduled_cmp(gconstpointer pa, gconstpointer pb)
{
    const struct scheduled *a = pa, *b = pb;
    if (a->due_us != b->due_us)
        return a->due_us < b->due_us ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Queues ACTIONS in order; "delay_ms" on an action delays it and all that follow it. */
static void
schedule(struct fake *f, JsonArray *actions, const char *cmd, JsonNode *id)
{
    gint64 due = g_get_monotonic_time();
    for (guint i = 0; actions && i < json_array_get_length(actions); i++) {
        JsonNode *n = json_array_get_element(actions, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            die(2, "scenario '%s': an action is not an object", f->scenario);
        JsonObject *a = json_node_get_object(n);
        due += json_object_get_int_member_with_default(a, "delay_ms", 0) * 1000;
        struct scheduled *s = g_new0(struct scheduled, 1);
        s->due_us = due;
        s->seq = f->next_seq++;
        s->action = json_object_ref(a);
        s->cmd = g_strdup(cmd);
        s->id = id ? json_node_copy(id) : NULL;
        f->queue = g_list_insert_sorted(f->queue, s, scheduled_cmp);
    }
}

static void
run_due(struct fake *f)
{
    while (f->queue) {
        struct scheduled *s = f->queue->data;
        if (s->due_us > g_get_monotonic_time())
            return;
        f->queue = g_list_delete_link(f->queue, f->queue);
        run_action(f, s->action, s->cmd, s->id);
        json_object_unref(s->action);
        g_free(s->cmd);
        if (s->id)
            json_node_unref(s->id);
        g_free(s);
    }
}

static void
handle_command(struct fake *f, const char *line)
{
    g_autoptr(JsonParser) p = json_parser_new_immutable();
    if (!json_parser_load_from_data(p, line, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
        send_error(f, NULL, "GenericError", "JSON parse error");
        return;
    }
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    const char *cmd = json_object_get_string_member_with_default(o, "execute", NULL);
    JsonNode *id = json_object_has_member(o, "id") ? json_object_get_member(o, "id") : NULL;
    /* every rule counts the commands its filter matches, so "nth" means the nth such
     * command whichever rule answered the earlier ones; the first rule that fits answers */
    struct rule *chosen = NULL;
    for (guint i = 0; i < f->rules->len; i++) {
        struct rule *r = f->rules->pdata[i];
        if (r->execute && (!cmd || !g_str_equal(r->execute, cmd)))
            continue;
        r->seen++;
        if (!chosen && (!r->nth || r->seen == r->nth))
            chosen = r;
    }
    JsonObject *args = json_object_has_member(o, "arguments") &&
                               JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "arguments"))
                           ? json_object_get_object_member(o, "arguments")
                           : NULL;
    if (chosen)
        schedule(f, chosen->actions, cmd, id);
    else
        default_reply(f, cmd, args, id);
    /* as QEMU: descriptors no command took are closed */
    for (int fd; (fd = take_fd(f)) >= 0;)
        close(fd);
}

static void
read_conn(struct fake *f)
{
    char buf[4096];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 16)];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    ssize_t n = recvmsg(f->conn, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            g_array_append_val(f->fds_in, fd);
        }
    }
    if (n <= 0) {
        close_conn(f);
        return;
    }
    g_string_append_len(f->inbuf, buf, n);
    char *nl;
    while (f->conn >= 0 && (nl = memchr(f->inbuf->str, '\n', f->inbuf->len))) {
        g_autofree char *line = g_strndup(f->inbuf->str, nl - f->inbuf->str);
        g_string_erase(f->inbuf, 0, nl - f->inbuf->str + 1);
        g_strstrip(line);
        if (*line)
            handle_command(f, line);
        run_due(f);
    }
}

/* SIGTERM/SIGINT: QEMU reports a host-signal shutdown and exits 0, unless "on_sigterm"
 * scripts something else */
static void
on_signal(struct fake *f)
{
    struct signalfd_siginfo si;
    if (read(f->sigfd, &si, sizeof(si)) != sizeof(si))
        return;
    if (f->on_sigterm) {
        schedule(f, f->on_sigterm, NULL, NULL);
        return;
    }
    if (!f->greeted)
        exit(0); /* QEMU sends no event before its greeting */
    g_autoptr(JsonObject) d = json_object_new();
    json_object_set_boolean_member(d, "guest", FALSE);
    json_object_set_string_member(d, "reason", "host-signal");
    send_event(f, "SHUTDOWN", d);
    exit(0);
}

/* "-chardev socket,id=ID,...,fd=N,...": a listening socket the daemon made. It must be one
 * (QEMU refuses anything else), and it is kept open, unaccepted, as a paused guest's is. */
static void
inherited_chardevs(struct fake *f, int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (!g_str_equal(argv[i], "-chardev") || !g_str_has_prefix(argv[i + 1], "socket,"))
            continue;
        g_auto(GStrv) opts = g_strsplit(argv[i + 1], ",", -1);
        const char *id = NULL;
        gint64 fd = -1;
        for (guint k = 0; opts[k]; k++) {
            if (g_str_has_prefix(opts[k], "id="))
                id = opts[k] + 3;
            else if (g_str_has_prefix(opts[k], "fd="))
                fd = g_ascii_strtoll(opts[k] + 3, NULL, 10);
        }
        if (fd < 0 || !id || g_str_equal(id, "charmonitor"))
            continue;
        int listening = 0;
        socklen_t len = sizeof(listening);
        if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
            die(1, "-chardev %s: fd %d is not a listening socket", id, (int)fd);
        struct chardev *c = g_new0(struct chardev, 1);
        c->id = g_strdup(id);
        c->fd = (int)fd;
        g_ptr_array_add(f->chardevs, c);
    }
}

static int
poll_timeout_ms(struct fake *f)
{
    if (!f->queue)
        return -1;
    struct scheduled *s = f->queue->data;
    gint64 left = s->due_us - g_get_monotonic_time();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* One loop for both phases: LISTENING waits to accept on fd 3, then the connection. */
static void
serve(struct fake *f)
{
    gboolean listening = TRUE;
    for (;;) {
        /* like QEMU's server chardev: once a client is gone, the next may connect (a
         * restarted domusd adopting us) */
        if (!listening && f->conn < 0)
            listening = TRUE;
        struct pollfd fds[2] = {{.fd = f->sigfd, .events = POLLIN}, {.fd = -1}};
        if (listening)
            fds[1] = (struct pollfd){.fd = MONITOR_FD, .events = POLLIN};
        else if (f->conn >= 0 && !f->read_shut)
            fds[1] = (struct pollfd){.fd = f->conn, .events = POLLIN};
        int r = poll(fds, 2, poll_timeout_ms(f));
        if (r < 0 && errno != EINTR)
            die(1, "poll: %s", g_strerror(errno));
        if (r > 0 && fds[0].revents)
            on_signal(f);
        if (r > 0 && fds[1].revents && listening) {
            int c = accept4(MONITOR_FD, NULL, NULL, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            f->conn = c;
            listening = FALSE;
            if (f->on_connect) {
                schedule(f, f->on_connect, NULL, NULL);
            } else {
                send_greeting(f);
            }
        } else if (r > 0 && fds[1].revents && f->conn >= 0) {
            read_conn(f);
        }
        run_due(f);
    }
}

static void
open_pty(struct fake *f)
{
    g_strlcpy(f->pty_name, "/dev/null", sizeof(f->pty_name));
    f->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (f->pty_master < 0 || grantpt(f->pty_master) < 0 || unlockpt(f->pty_master) < 0)
        return;
    const char *name = ptsname(f->pty_master);
    if (name)
        g_strlcpy(f->pty_name, name, sizeof(f->pty_name));
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "-version") || g_str_equal(argv[i], "--version")) {
            printf("QEMU emulator version 8.2.0 (fake-qemu)\n");
            return 0;
        }
    }
    struct fake f = {.conn = -1, .status = "prelaunch", .pty_master = -1};
    g_autofree char *name = guest_name(argc, argv);
    if (!name)
        die(2, "no '-name guest=NAME' argument: cannot pick a scenario");
    load_scenario(&f, name);
    f.inbuf = g_string_new(NULL);
    f.fds_in = g_array_new(FALSE, FALSE, sizeof(int));
    f.named = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f.fdsets = g_ptr_array_new();
    f.chardevs = g_ptr_array_new();
    inherited_chardevs(&f, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    f.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (f.sigfd < 0)
        die(1, "signalfd: %s", g_strerror(errno));
    if (fcntl(MONITOR_FD, F_GETFD) < 0)
        die(1, "fd %d (the monitor socket) is not open", MONITOR_FD);
    open_pty(&f);
    /* on_start runs before the monitor is accepted: e.g. die like a QEMU with a bad option */
    schedule(&f, f.on_start, NULL, NULL);
    run_due(&f);
    serve(&f);
    return 0;
}
