/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* console: relays bytes between a client stream and a guest's character device: a console or
 * serial port's pty (QEMU's serial chardev; opened raw and non-blocking; when QEMU goes away
 * the slave reads EIO) or a channel's unix socket (connected; QEMU closing it reads EOF).
 * Either way the client then gets EOF. */
#include "daemon/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>

#include "core/guest.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define CONSOLE_WBUF_MAX (1024 * 1024)

struct console {
    struct stream *st;
    struct domain *dom; /* a reference */
    char *key;          /* the device's path: its key in sessions */
    const char *noun;   /* "console" or "channel", in messages */
    int fd;
    guint read_watch;
    guint write_watch;
    GByteArray *wbuf; /* keystrokes not yet written to the pty */
};

/* device path -> struct console *: the one session each device may have (libvirt keys its
 * character device streams by path too) */
static GHashTable *sessions;

static void
console_free(struct console *con)
{
    if (con->read_watch)
        g_source_remove(con->read_watch);
    if (con->write_watch)
        g_source_remove(con->write_watch);
    if (con->fd >= 0)
        close(con->fd);
    if (sessions && g_hash_table_lookup(sessions, con->key) == con)
        g_hash_table_remove(sessions, con->key);
    g_free(con->key);
    g_byte_array_unref(con->wbuf);
    core_domain_unref(con->dom);
    g_free(con);
}

/* The daemon ends the session: EOF (or ERROR) to the client, then everything is released. */
static void
console_end(struct console *con, const GError *error)
{
    struct stream *st = con->st;
    st->user = NULL;
    st->on_close = NULL;
    client_stream_end(st, error);
    console_free(con);
}

static gboolean
on_pty_readable(int fd, GIOCondition cond, gpointer user)
{
    struct console *con = user;
    uint8_t buf[16384];
    ssize_t n;
    do {
        n = read(fd, buf, sizeof(buf));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        /* EIO: QEMU closed the pty master, the guest is gone; 0: it closed the socket */
        con->read_watch = 0;
        log_debug("%s: %s closed by QEMU", con->dom->def->name, con->noun);
        console_end(con, NULL);
        return G_SOURCE_REMOVE;
    }
    /* a client that stopped reading is dropped; its on_close ended the session */
    if (!client_stream_send(con->st, buf, (gsize)n))
        return G_SOURCE_REMOVE;
    return G_SOURCE_CONTINUE;
}

static gboolean
on_pty_writable(int fd, GIOCondition cond, gpointer user)
{
    struct console *con = user;
    while (con->wbuf->len > 0) {
        ssize_t n = write(fd, con->wbuf->data, con->wbuf->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return G_SOURCE_CONTINUE;
        if (n < 0) {
            con->write_watch = 0;
            g_autoptr(GError) err = NULL;
            err_set_errno(&err, ERR_FROM_STREAMS, errno, "cannot write to the %s of '%s'",
                          con->noun, con->dom->def->name);
            console_end(con, err);
            return G_SOURCE_REMOVE;
        }
        g_byte_array_remove_range(con->wbuf, 0, (guint)n);
    }
    con->write_watch = 0;
    return G_SOURCE_REMOVE;
}

static void
on_client_data(struct stream *st, const uint8_t *data, gsize len, gpointer user)
{
    struct console *con = user;
    if (con->wbuf->len + len > CONSOLE_WBUF_MAX) {
        /* the guest does not read its console: drop what does not fit rather than grow */
        log_debug("%s: %s input dropped (%zu bytes)", con->dom->def->name, con->noun, len);
        return;
    }
    g_byte_array_append(con->wbuf, data, (guint)len);
    if (!con->write_watch)
        con->write_watch = g_unix_fd_add(con->fd, G_IO_OUT, on_pty_writable, con);
}

static void
on_client_close(struct stream *st, gboolean aborted, gpointer user)
{
    struct console *con = user;
    log_debug("%s: %s detached%s", con->dom->def->name, con->noun, aborted ? " (aborted)" : "");
    console_free(con);
}

/* As libvirt: DEV is a device's alias ("serial0", "console1", a user's "ua-…"), looked up
 * among consoles, serial ports and channels; none: the first console, else serial port. */
static const struct chr_def *
find_device(const struct domain_def *def, const char *dev)
{
    if (!dev) {
        if (def->consoles->len > 0)
            return def->consoles->pdata[0];
        return def->serials->len > 0 ? def->serials->pdata[0] : NULL;
    }
    const GPtrArray *lists[] = {def->consoles, def->serials, def->channels};
    for (gsize l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const struct chr_def *chr = lists[l]->pdata[i];
            if (chr->info.alias && g_str_equal(chr->info.alias, dev))
                return chr;
        }
    }
    return NULL;
}

/* The session already on PATH, refused (ERR_OPERATION_FAILED, MESSAGE) unless FORCE */
static gboolean
may_attach(struct call *call, const char *path, gboolean force, const char *message)
{
    if (!sessions)
        sessions = g_hash_table_new(g_str_hash, g_str_equal);
    if (!g_hash_table_lookup(sessions, path) || force)
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "%s", message);
    call_fail(call, error);
    g_error_free(error);
    return FALSE;
}

/* Relays FD (taken) for CALL's connection as the session on PATH, ending one there */
static void
attach(struct call *call, struct domain *dom, const char *path, const char *noun, int fd)
{
    struct console *old = g_hash_table_lookup(sessions, path);
    if (old) {
        g_autoptr(GError) taken = NULL;
        err_set(&taken, ERR_FROM_STREAMS, ERR_OPERATION_ABORTED,
                "%s of '%s' was taken over by another session", noun, dom->def->name);
        console_end(old, taken);
    }
    struct console *con = g_new0(struct console, 1);
    con->dom = core_domain_ref(dom);
    con->key = g_strdup(path);
    con->noun = noun;
    con->fd = fd;
    con->wbuf = g_byte_array_new();
    con->st = client_stream_open(call);
    con->st->on_data = on_client_data;
    con->st->on_close = on_client_close;
    con->st->user = con;
    g_hash_table_insert(sessions, con->key, con);
    call_reply(call, NULL);
    con->read_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_pty_readable, con);
}

void
console_open(struct call *call, struct domain *dom, const char *dev, unsigned flags)
{
    g_autoptr(GError) error = NULL;
    const struct chr_def *chr = NULL;
    if (flags & ~(unsigned)(CONSOLE_FORCE | CONSOLE_SAFE)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
    } else if (!state_is_active(dom->state)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
    } else if (!(chr = find_device(dom->def, dev))) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR,
                "cannot find character device %s of domain '%s'", dev ? dev : "<null>",
                dom->def->name);
    } else if (chr->type != CHR_TYPE_PTY || !chr->source_path) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "character device %s of domain '%s' is not using a PTY", dev ? dev : "console",
                dom->def->name);
    }
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autofree char *busy = g_strdup_printf(
        "an active console session exists for domain '%s'; use --force to take it over",
        dom->def->name);
    if (!may_attach(call, chr->source_path, flags & CONSOLE_FORCE, busy))
        return;
    int fd = open(chr->source_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_set_errno(&error, ERR_FROM_DOMAIN, errno, "cannot open console '%s' of '%s'",
                      chr->source_path, dom->def->name);
        call_fail(call, error);
        return;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(fd, TCSANOW, &tio);
    }
    attach(call, dom, chr->source_path, "console", fd);
}

void
console_open_channel(struct call *call, struct domain *dom, const char *name, unsigned flags)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = core_guest_channel_path(dom, name, &error);
    if (!path) {
        call_fail(call, error);
        return;
    }
    if (!may_attach(call, path, flags & CHANNEL_FORCE,
                    "Active channel stream exists for this domain"))
        return;
    int fd = file_connect_unix(path, TRUE);
    if (fd < 0) {
        err_set_errno(&error, ERR_FROM_STREAMS, errno, "cannot connect to '%s'", path);
        call_fail(call, error);
        return;
    }
    attach(call, dom, path, "channel", fd);
}
