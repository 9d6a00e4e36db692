/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* display: what reaches a running guest as from its keyboard and screen: an NMI, key presses
 * (virDomainSendKey, keycodes translated to QEMU's "qnum" scancodes), screenshots
 * (screendump into a memory file QEMU gets as a descriptor) and a socket connected to its VNC
 * server (add_client); prefix core_domain_ (display). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

/* --- one QMP command, its answer passed on --- */

struct monitor_call {
    struct domain *dom;
    core_done_fn done;
    gpointer data;
};

static void
on_monitor_call(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct monitor_call *c = data;
    c->done((GError *)error, c->data);
    core_domain_unref(c->dom);
    g_free(c);
}

static void
monitor_call(struct domain *dom, const char *cmd, JsonObject *args, core_done_fn done,
             gpointer data)
{
    struct monitor_call *c = g_new0(struct monitor_call, 1);
    c->dom = core_domain_ref(dom);
    c->done = done;
    c->data = data;
    qmp_command(dom->mon, cmd, args, on_monitor_call, c);
}

void
core_domain_inject_nmi(struct domain *dom, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (!core_domain_require_running(dom, &error)) {
        done(error, data);
        g_error_free(error);
        return;
    }
    monitor_call(dom, "inject-nmi", NULL, done, data);
}

/* --- keys --- */

/* Linux input keycodes above KEY_KPDOT (83) with their set-1 scancode as QEMU's qnum numbers
 * them (an 0xe0-prefixed code has bit 7 set). Keycodes 1-83 are their own scancode. */
static const struct {
    guint16 linux_code, qnum;
} linux_extended[] = {
    {86, 0x56},  /* KEY_102ND */
    {87, 0x57},  /* KEY_F11 */
    {88, 0x58},  /* KEY_F12 */
    {96, 0x9c},  /* KEY_KPENTER */
    {97, 0x9d},  /* KEY_RIGHTCTRL */
    {98, 0xb5},  /* KEY_KPSLASH */
    {99, 0x54},  /* KEY_SYSRQ */
    {100, 0xb8}, /* KEY_RIGHTALT */
    {102, 0xc7}, /* KEY_HOME */
    {103, 0xc8}, /* KEY_UP */
    {104, 0xc9}, /* KEY_PAGEUP */
    {105, 0xcb}, /* KEY_LEFT */
    {106, 0xcd}, /* KEY_RIGHT */
    {107, 0xcf}, /* KEY_END */
    {108, 0xd0}, /* KEY_DOWN */
    {109, 0xd1}, /* KEY_PAGEDOWN */
    {110, 0xd2}, /* KEY_INSERT */
    {111, 0xd3}, /* KEY_DELETE */
    {113, 0xa0}, /* KEY_MUTE */
    {114, 0xae}, /* KEY_VOLUMEDOWN */
    {115, 0xb0}, /* KEY_VOLUMEUP */
    {116, 0xde}, /* KEY_POWER */
    {117, 0x59}, /* KEY_KPEQUAL */
    {119, 0xc6}, /* KEY_PAUSE */
    {125, 0xdb}, /* KEY_LEFTMETA */
    {126, 0xdc}, /* KEY_RIGHTMETA */
    {127, 0xdd}, /* KEY_COMPOSE */
};

/* virKeycodeSet */
enum { KEYS_LINUX = 0, KEYS_XT = 1, KEYS_ATSET1 = 2, KEYS_QNUM = 9 };

static const char *const keycode_set_names[] = {
    "linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum",
};

/* CODE of SET as a qnum, or -1 */
static int
to_qnum(unsigned set, unsigned code)
{
    switch (set) {
    case KEYS_QNUM:
        return code > 0 && code <= 0xff ? (int)code : -1;
    case KEYS_XT:
        /* the original XT keyboard: 83 keys, no extended codes */
        return code > 0 && code <= 83 ? (int)code : -1;
    case KEYS_ATSET1:
        /* set 1: one byte, or 0xe0 then one byte */
        if (code > 0 && code < 0x80)
            return (int)code;
        if ((code & 0xff00) == 0xe000 && (code & 0xff) > 0 && (code & 0xff) < 0x80)
            return (int)(0x80 | (code & 0x7f));
        return -1;
    case KEYS_LINUX:
        if (code > 0 && code <= 83)
            return (int)code;
        for (gsize i = 0; i < G_N_ELEMENTS(linux_extended); i++)
            if (linux_extended[i].linux_code == code)
                return linux_extended[i].qnum;
        return -1;
    default:
        return -1;
    }
}

void
core_domain_send_key(struct domain *dom, unsigned set, unsigned holdtime, const unsigned *codes,
                     guint n, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    JsonArray *keys = json_array_new();
    if (n == 0) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no keycodes to send");
    } else if (set >= G_N_ELEMENTS(keycode_set_names)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unknown keycode set %u", set);
    } else if (set != KEYS_LINUX && set != KEYS_XT && set != KEYS_ATSET1 && set != KEYS_QNUM) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                "keycode set '%s' is not supported; send the keys as linux, xt, atset1 or "
                "qnum codes",
                keycode_set_names[set]);
    }
    for (guint i = 0; i < n && !error; i++) {
        int qnum = to_qnum(set, codes[i]);
        if (qnum < 0) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "keycode %u of set '%s' has no scancode QEMU can send; give it in the qnum "
                    "set",
                    codes[i], keycode_set_names[set]);
            break;
        }
        JsonObject *key = json_object_new();
        json_object_set_string_member(key, "type", "number");
        json_object_set_int_member(key, "data", qnum);
        json_array_add_object_element(keys, key);
    }
    if (error || !core_domain_require_running(dom, &error)) {
        json_array_unref(keys);
        done(error, data);
        g_error_free(error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "keys", keys);
    if (holdtime)
        json_object_set_int_member(args, "hold-time", holdtime);
    monitor_call(dom, "send-key", args, done, data);
}

/* --- screenshots --- */

#define SCREENSHOT_MAX (256u * 1024 * 1024) /* a PPM of 8K x 8K is 192 MiB */

struct screenshot {
    struct domain *dom;
    int memfd;     /* what QEMU writes, read by the client's stream */
    gint64 fdset;  /* QEMU's fdset holding our write end; -1: none yet */
    gboolean png;  /* the format asked for; PPM when QEMU cannot write PNG */
    char *device;  /* the video device's id, NULL: the primary one */
    unsigned head; /* the screen on that device */
    core_screenshot_fn done;
    gpointer data;
};

static void
screenshot_end(struct screenshot *s, GError *error)
{
    if (s->fdset >= 0 && !qmp_is_closed(s->dom->mon)) {
        JsonObject *args = json_object_new();
        json_object_set_int_member(args, "fdset-id", s->fdset);
        qmp_command(s->dom->mon, "remove-fd", args, NULL, NULL);
    }
    if (error) {
        s->done(error, -1, NULL, s->data);
    } else {
        int fd = s->memfd;
        s->memfd = -1;
        s->done(NULL, fd, s->png ? "image/png" : "image/x-portable-pixmap", s->data);
    }
    if (s->memfd >= 0)
        close(s->memfd);
    core_domain_unref(s->dom);
    g_free(s->device);
    g_free(s);
}

static void screendump(struct screenshot *s);

static void
on_screendump(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct screenshot *s = data;
    if (error && s->png && strstr(error->message, "PNG")) {
        s->png = FALSE; /* a QEMU built without libpng */
        screendump(s);
        return;
    }
    GError *e = error ? g_error_copy(error) : NULL;
    struct stat st;
    if (!e && fstat(s->memfd, &st) < 0)
        err_set_errno(&e, ERR_FROM_DOMAIN, errno, "cannot read the screenshot of domain '%s'",
                      s->dom->def->name);
    else if (!e && (st.st_size == 0 || (guint64)st.st_size > SCREENSHOT_MAX))
        err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                "QEMU wrote a screenshot of %lld bytes for domain '%s'", (long long)st.st_size,
                s->dom->def->name);
    screenshot_end(s, e);
    g_clear_error(&e);
}

static void
screendump(struct screenshot *s)
{
    if (ftruncate(s->memfd, 0) < 0) {
        /* a memfd of our own cannot refuse; say so if it ever does */
        GError *e = NULL;
        err_set_errno(&e, ERR_FROM_DOMAIN, errno, "cannot reset the screenshot buffer");
        screenshot_end(s, e);
        g_error_free(e);
        return;
    }
    JsonObject *args = json_object_new();
    g_autofree char *path = g_strdup_printf("/dev/fdset/%" G_GINT64_FORMAT, s->fdset);
    json_object_set_string_member(args, "filename", path);
    if (s->device) {
        json_object_set_string_member(args, "device", s->device);
        json_object_set_int_member(args, "head", s->head);
    }
    if (s->png)
        json_object_set_string_member(args, "format", "png");
    qmp_command(s->dom->mon, "screendump", args, on_screendump, s);
}

static void
on_add_fd(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct screenshot *s = data;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    s->fdset = o ? qemu_json_int_or(o, "fdset-id", -1) : -1;
    if (error || s->fdset < 0) {
        GError *e = error ? g_error_copy(error) : NULL;
        if (!e)
            err_set(&e, ERR_FROM_QEMU, ERR_INTERNAL_ERROR, "add-fd answered no fdset-id");
        screenshot_end(s, e);
        g_error_free(e);
        return;
    }
    screendump(s);
}

/* The video device and head of screen SCREEN, counting the heads of every device in order;
 * NULL device: the primary one's first head */
static gboolean
find_screen(struct domain *dom, unsigned screen, char **ret_device, unsigned *ret_head,
            GError **error)
{
    unsigned first = 0;
    gboolean any = FALSE;
    for (guint i = 0; i < dom->def->videos->len; i++) {
        const struct video_def *v = dom->def->videos->pdata[i];
        if (g_str_equal(v->model, "none"))
            continue;
        any = TRUE;
        unsigned heads = MAX(v->heads, 1);
        if (screen < first + heads) {
            *ret_device = screen ? g_strdup(v->info.alias) : NULL;
            *ret_head = screen - first;
            return TRUE;
        }
        first += heads;
    }
    if (!any)
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has no screen to take a screenshot of; give it a <video> device "
                "(or <graphics>, which brings one)",
                dom->def->name);
    else
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "domain '%s' has no screen %u; its video devices have %u", dom->def->name, screen,
                first);
    return FALSE;
}

void
core_domain_screenshot(struct domain *dom, unsigned screen, core_screenshot_fn done, gpointer data)
{
    GError *error = NULL;
    g_autofree char *device = NULL;
    unsigned head = 0;
    int memfd = -1, wfd = -1;
    if (core_domain_require_running(dom, &error) &&
        find_screen(dom, screen, &device, &head, &error)) {
        memfd = memfd_create("domus-screenshot", MFD_CLOEXEC);
        g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", memfd);
        /* QEMU opens the fdset's descriptor for writing only: give it a write-only one */
        wfd = memfd < 0 ? -1 : open(self, O_WRONLY | O_CLOEXEC);
        if (wfd < 0)
            err_set_errno(&error, ERR_FROM_DOMAIN, errno,
                          "cannot make a buffer for the screenshot of domain '%s'", dom->def->name);
    }
    if (error) {
        if (memfd >= 0)
            close(memfd);
        done(error, -1, NULL, data);
        g_error_free(error);
        return;
    }
    struct screenshot *s = g_new0(struct screenshot, 1);
    s->dom = core_domain_ref(dom);
    s->memfd = memfd;
    s->fdset = -1;
    s->png = TRUE;
    s->device = g_steal_pointer(&device);
    s->head = head;
    s->done = done;
    s->data = data;
    qmp_command_fds(dom->mon, "add-fd", NULL, &wfd, 1, on_add_fd, s);
    close(wfd);
}

/* --- a connected graphics socket for a local client --- */

struct graphics_fd {
    struct domain *dom;
    int ours;             /* what the client gets */
    char *fdname;         /* QEMU's name of the other end */
    const char *protocol; /* "vnc" or "spice" */
    gboolean skipauth;
    core_fd_fn done;
    gpointer data;
};

static void
graphics_fd_end(struct graphics_fd *g, const GError *error)
{
    if (error) {
        if (g->ours >= 0)
            close(g->ours);
        g->done((GError *)error, -1, g->data);
    } else {
        g->done(NULL, g->ours, g->data);
    }
    core_domain_unref(g->dom);
    g_free(g->fdname);
    g_free(g);
}

static void
on_add_client(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct graphics_fd *g = data;
    if (error && !qmp_is_closed(g->dom->mon)) {
        /* QEMU still holds the descriptor under its name: let it go */
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "fdname", g->fdname);
        qmp_command(g->dom->mon, "closefd", args, NULL, NULL);
    }
    graphics_fd_end(g, error);
}

static void
on_graphics_getfd(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct graphics_fd *g = data;
    if (error) {
        graphics_fd_end(g, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "protocol", g->protocol);
    json_object_set_string_member(args, "fdname", g->fdname);
    json_object_set_boolean_member(args, "skipauth", g->skipauth);
    qmp_command(g->dom->mon, "add_client", args, on_add_client, g);
}

/* QEMU's display IDX gets THEIRS (taken) as a new client; OURS (taken, -1 for none) goes to
 * DONE once it has. */
static void
graphics_add_client(struct domain *dom, unsigned idx, int ours, int theirs, gboolean skipauth,
                    core_fd_fn done, gpointer data)
{
    GError *error = NULL;
    if (!core_domain_require_running(dom, &error)) {
        /* refused below */
    } else if (idx >= dom->def->graphics->len) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "domain '%s' has no graphics display %u; it has %u", dom->def->name, idx,
                dom->def->graphics->len);
    }
    if (error) {
        if (ours >= 0)
            close(ours);
        close(theirs);
        done(error, -1, data);
        g_error_free(error);
        return;
    }
    static guint serial;
    struct graphics_fd *g = g_new0(struct graphics_fd, 1);
    g->dom = core_domain_ref(dom);
    g->ours = ours;
    g->fdname = g_strdup_printf("graphicsfd%u", ++serial);
    g->skipauth = skipauth;
    g->protocol = domain_def_graphics_type_to_string(
        ((const struct graphics_def *)dom->def->graphics->pdata[idx])->type);
    g->done = done;
    g->data = data;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "fdname", g->fdname);
    qmp_command_fds(dom->mon, "getfd", args, &theirs, 1, on_graphics_getfd, g);
    close(theirs);
}

void
core_domain_open_graphics_fd(struct domain *dom, unsigned idx, gboolean skipauth, core_fd_fn done,
                             gpointer data)
{
    int pair[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        GError *error = NULL;
        err_set_errno(&error, ERR_FROM_DOMAIN, errno,
                      "cannot make a socket pair for the display of domain '%s'", dom->def->name);
        done(error, -1, data);
        g_error_free(error);
        return;
    }
    graphics_add_client(dom, idx, pair[0], pair[1], skipauth, done, data);
}

void
core_domain_open_graphics(struct domain *dom, unsigned idx, int fd, gboolean skipauth,
                          core_fd_fn done, gpointer data)
{
    graphics_add_client(dom, idx, -1, fd, skipauth, done, data);
}

/* --- update-device of a <graphics>: the VNC password --- */

struct graphics_update {
    struct domain *dom;
    struct graphics_def *g;
    gboolean live, config;
    core_done_fn done;
    gpointer data;
};

static void
graphics_update_free(struct graphics_update *u)
{
    core_domain_unref(u->dom);
    domain_def_graphics_free(u->g);
    g_free(u);
}

/* What libvirt's qemuDomainChangeGraphics refuses to change in CUR */
static gboolean
graphics_change_ok(const struct graphics_def *cur, const struct graphics_def *g, GError **error)
{
    const char *what = NULL;
    if (cur->autoport != g->autoport || (!g->autoport && cur->port != g->port))
        what = "port settings";
    else if (g->listen && g_strcmp0(g->listen, cur->listen ? cur->listen : "127.0.0.1") != 0)
        what = "listen address setting";
    else if (g_strcmp0(cur->keymap, g->keymap) != 0)
        what = "keymap setting";
    if (cur->type != g->type)
        what = "type";
    if (what)
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "cannot change %s on %s graphics; only its password can change while it runs", what,
                domain_def_graphics_type_to_string(cur->type));
    return what == NULL;
}

static void
graphics_update_finish(struct graphics_update *u, const GError *qmp_error)
{
    GError *error = qmp_error ? g_error_copy(qmp_error) : NULL;
    struct domain *dom = u->dom;
    if (!error && u->config) {
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        struct graphics_def *cg = copy->graphics->pdata[0];
        g_free(cg->passwd);
        cg->passwd = g_strdup(u->g->passwd);
        core_domain_keep_config(dom, copy, &error);
    }
    if (!error && u->live) {
        struct graphics_def *lg = dom->def->graphics->pdata[0];
        g_free(lg->passwd);
        lg->passwd = g_strdup(u->g->passwd);
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    u->done(error, u->data);
    g_clear_error(&error);
    graphics_update_free(u);
}

static void
on_set_password(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    graphics_update_finish(data, error);
}

void
core_domain_update_graphics(struct domain *dom, struct graphics_def *g, unsigned flags,
                            core_done_fn done, gpointer data)
{
    struct graphics_update *u = g_new0(struct graphics_update, 1);
    u->dom = core_domain_ref(dom);
    u->g = g;
    u->done = done;
    u->data = data;
    GError *error = NULL;
    if (!core_domain_impact(dom, flags, &u->live, &u->config, &error))
        goto fail;
    const struct domain_def *defs[] = {u->live ? dom->def : NULL,
                                       u->config ? core_persistent_def(dom) : NULL};
    for (gsize i = 0; i < G_N_ELEMENTS(defs); i++) {
        if (!defs[i])
            continue;
        if (defs[i]->graphics->len == 0) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                    "cannot find existing graphics device to modify: domain '%s' has no "
                    "<graphics type='vnc'>%s",
                    dom->def->name, i == 0 ? "" : " in its persistent definition");
            goto fail;
        }
        if (!graphics_change_ok(defs[i]->graphics->pdata[0], g, &error))
            goto fail;
    }
    if (!u->live) {
        graphics_update_finish(u, NULL);
        return;
    }
    if (!core_domain_require_running(dom, &error))
        goto fail;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "protocol", domain_def_graphics_type_to_string(g->type));
    json_object_set_string_member(args, "password", g->passwd ? g->passwd : "");
    qmp_command(dom->mon, "set_password", args, on_set_password, u);
    return;
fail:
    done(error, data);
    g_error_free(error);
    graphics_update_free(u);
}
