/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* display: a guest's screen, keyboard and power management from the command line: screenshot,
 * send-key, inject-nmi, dompmsuspend, dompmwakeup, domdisplay and vncdisplay, with virsh's
 * options and output. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* virDomainXMLFlags */
enum { XML_SECURE = 1 };

/* --- screenshot --- */

/* virsh's name for a screenshot nobody named: DOMAIN-TIMESTAMP.EXT */
static char *
screenshot_name(domus_domain *dom, const char *mime)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d-%H:%M:%S");
    const char *ext = g_str_equal(mime, "image/x-portable-pixmap") ? ".ppm"
                      : g_str_equal(mime, "image/png")             ? ".png"
                                                                   : "";
    return g_strdup_printf("%s-%s%s", domus_domain_get_name(dom), stamp, ext);
}

/* Copies ST to FD until its end. */
static gboolean
receive_all(domus_stream *st, int fd, GError **error)
{
    guint8 buf[64 * 1024];
    for (;;) {
        gssize n = domus_stream_recv(st, buf, sizeof(buf), error);
        if (n < 0)
            return FALSE;
        if (n == 0)
            return TRUE;
        for (gssize done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                cli_set_error(error, "cannot write: %s", g_strerror(errno));
                return FALSE;
            }
            done += w;
        }
    }
}

static gboolean
cmd_screenshot(struct cli_ctx *ctx, GError **error)
{
    const char *screen_text = cli_get(ctx, "screen");
    guint64 screen = 0;
    if (screen_text && !g_ascii_string_to_unsigned(screen_text, 10, 0, G_MAXUINT, &screen, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <screen> option is malformed or out of range",
                      screen_text);
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    const char *name = domus_domain_get_name(dom);
    g_autofree char *mime = NULL;
    domus_stream *st = domus_domain_screenshot(dom, (unsigned)screen, &mime, error);
    if (!st) {
        cli_report("could not take a screenshot of %s", name);
        return FALSE;
    }
    g_autofree char *file = g_strdup(cli_get(ctx, "file"));
    if (!file)
        file = screenshot_name(dom, mime ? mime : "");
    gboolean created = TRUE;
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        created = FALSE;
        fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC, 0666);
    }
    gboolean ok = FALSE;
    if (fd < 0) {
        cli_set_error(error, "cannot create file %s", file);
    } else if (!receive_all(st, fd, error)) {
        cli_report("could not receive data from domain '%s'", name);
    } else if (close(fd) < 0) {
        fd = -1;
        cli_set_error(error, "cannot close file %s", file);
    } else {
        fd = -1;
        if (!domus_stream_finish(st, error))
            cli_report("cannot close stream on domain '%s'", name);
        else
            ok = TRUE;
    }
    if (fd >= 0)
        close(fd);
    domus_stream_free(st);
    if (!ok) {
        if (created)
            unlink(file);
        return FALSE;
    }
    printf("Screenshot saved to %s, with type of %s\n", file, mime ? mime : "");
    return TRUE;
}

/* --- keys --- */

static const char *const codesets[] = {
    "linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum", NULL,
};

/* Linux key names (linux/input-event-codes.h) of the keys domusd can send */
static const struct {
    const char *name;
    unsigned code;
} linux_keys[] = {
    {"KEY_ESC", 1},
    {"KEY_1", 2},
    {"KEY_2", 3},
    {"KEY_3", 4},
    {"KEY_4", 5},
    {"KEY_5", 6},
    {"KEY_6", 7},
    {"KEY_7", 8},
    {"KEY_8", 9},
    {"KEY_9", 10},
    {"KEY_0", 11},
    {"KEY_MINUS", 12},
    {"KEY_EQUAL", 13},
    {"KEY_BACKSPACE", 14},
    {"KEY_TAB", 15},
    {"KEY_Q", 16},
    {"KEY_W", 17},
    {"KEY_E", 18},
    {"KEY_R", 19},
    {"KEY_T", 20},
    {"KEY_Y", 21},
    {"KEY_U", 22},
    {"KEY_I", 23},
    {"KEY_O", 24},
    {"KEY_P", 25},
    {"KEY_LEFTBRACE", 26},
    {"KEY_RIGHTBRACE", 27},
    {"KEY_ENTER", 28},
    {"KEY_LEFTCTRL", 29},
    {"KEY_A", 30},
    {"KEY_S", 31},
    {"KEY_D", 32},
    {"KEY_F", 33},
    {"KEY_G", 34},
    {"KEY_H", 35},
    {"KEY_J", 36},
    {"KEY_K", 37},
    {"KEY_L", 38},
    {"KEY_SEMICOLON", 39},
    {"KEY_APOSTROPHE", 40},
    {"KEY_GRAVE", 41},
    {"KEY_LEFTSHIFT", 42},
    {"KEY_BACKSLASH", 43},
    {"KEY_Z", 44},
    {"KEY_X", 45},
    {"KEY_C", 46},
    {"KEY_V", 47},
    {"KEY_B", 48},
    {"KEY_N", 49},
    {"KEY_M", 50},
    {"KEY_COMMA", 51},
    {"KEY_DOT", 52},
    {"KEY_SLASH", 53},
    {"KEY_RIGHTSHIFT", 54},
    {"KEY_KPASTERISK", 55},
    {"KEY_LEFTALT", 56},
    {"KEY_SPACE", 57},
    {"KEY_CAPSLOCK", 58},
    {"KEY_F1", 59},
    {"KEY_F2", 60},
    {"KEY_F3", 61},
    {"KEY_F4", 62},
    {"KEY_F5", 63},
    {"KEY_F6", 64},
    {"KEY_F7", 65},
    {"KEY_F8", 66},
    {"KEY_F9", 67},
    {"KEY_F10", 68},
    {"KEY_NUMLOCK", 69},
    {"KEY_SCROLLLOCK", 70},
    {"KEY_KP7", 71},
    {"KEY_KP8", 72},
    {"KEY_KP9", 73},
    {"KEY_KPMINUS", 74},
    {"KEY_KP4", 75},
    {"KEY_KP5", 76},
    {"KEY_KP6", 77},
    {"KEY_KPPLUS", 78},
    {"KEY_KP1", 79},
    {"KEY_KP2", 80},
    {"KEY_KP3", 81},
    {"KEY_KP0", 82},
    {"KEY_KPDOT", 83},
    {"KEY_102ND", 86},
    {"KEY_F11", 87},
    {"KEY_F12", 88},
    {"KEY_KPENTER", 96},
    {"KEY_RIGHTCTRL", 97},
    {"KEY_KPSLASH", 98},
    {"KEY_SYSRQ", 99},
    {"KEY_RIGHTALT", 100},
    {"KEY_HOME", 102},
    {"KEY_UP", 103},
    {"KEY_PAGEUP", 104},
    {"KEY_LEFT", 105},
    {"KEY_RIGHT", 106},
    {"KEY_END", 107},
    {"KEY_DOWN", 108},
    {"KEY_PAGEDOWN", 109},
    {"KEY_INSERT", 110},
    {"KEY_DELETE", 111},
    {"KEY_MUTE", 113},
    {"KEY_VOLUMEDOWN", 114},
    {"KEY_VOLUMEUP", 115},
    {"KEY_POWER", 116},
    {"KEY_KPEQUAL", 117},
    {"KEY_PAUSE", 119},
    {"KEY_LEFTMETA", 125},
    {"KEY_RIGHTMETA", 126},
    {"KEY_COMPOSE", 127},
};

#define SEND_KEY_MAX 16

static int
keycode(unsigned set, const char *word)
{
    guint64 v;
    char *end = NULL;
    errno = 0;
    v = g_ascii_strtoull(word, &end, 0);
    if (*word && end && !*end && errno == 0 && v <= 0xffff)
        return (int)v;
    for (gsize i = 0; set == 0 && i < G_N_ELEMENTS(linux_keys); i++)
        if (g_str_equal(linux_keys[i].name, word))
            return (int)linux_keys[i].code;
    return -1;
}

static gboolean
cmd_send_key(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    const char *set_name = cli_get(ctx, "codeset");
    if (!set_name)
        set_name = "linux";
    if (g_str_equal(set_name, "rfb")) /* qnum's old name */
        set_name = "qnum";
    int set = -1;
    for (int i = 0; codesets[i]; i++)
        if (g_str_equal(codesets[i], set_name))
            set = i;
    if (set < 0) {
        cli_set_error(error, "unknown codeset: '%s'", set_name);
        return FALSE;
    }
    const char *hold_text = cli_get(ctx, "holdtime");
    guint64 hold = 0;
    if (hold_text && !g_ascii_string_to_unsigned(hold_text, 10, 0, G_MAXUINT, &hold, NULL)) {
        cli_set_error(error,
                      "Numeric value '%s' for <holdtime> option is malformed or out of range",
                      hold_text);
        return FALSE;
    }
    g_auto(GStrv) words = cli_get_list(ctx, "keycode");
    unsigned codes[SEND_KEY_MAX];
    guint n = 0;
    for (guint i = 0; words[i]; i++) {
        if (n == SEND_KEY_MAX) {
            cli_set_error(error, "too many keycodes");
            return FALSE;
        }
        int code = keycode((unsigned)set, words[i]);
        if (code < 0) {
            cli_set_error(error, "invalid keycode: '%s'", words[i]);
            return FALSE;
        }
        codes[n++] = (unsigned)code;
    }
    if (!domus_domain_send_key(dom, (unsigned)set, (unsigned)hold, codes, n, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
cmd_inject_nmi(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_inject_nmi(dom, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

/* --- the guest's power management --- */

static gboolean
cmd_dompmsuspend(struct cli_ctx *ctx, GError **error)
{
    static const char *const targets[] = {"mem", "disk", "hybrid"};
    const char *target = cli_get(ctx, "target");
    guint64 duration;
    if (!cli_get_u64(ctx, "duration", &duration, error))
        return FALSE;
    guint t = 0;
    while (t < G_N_ELEMENTS(targets) && !g_str_equal(targets[t], target))
        t++;
    if (t == G_N_ELEMENTS(targets)) {
        cli_set_error(error, "Invalid target");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (!domus_domain_pm_suspend(dom, t, duration, error)) {
        fprintf(stderr, "error: Domain '%s' could not be suspended\n", domus_domain_get_name(dom));
        return FALSE;
    }
    printf("Domain '%s' successfully suspended\n", domus_domain_get_name(dom));
    return TRUE;
}

static gboolean
cmd_dompmwakeup(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (!domus_domain_pm_wakeup(dom, error)) {
        fprintf(stderr, "error: Domain '%s' could not be woken up\n", domus_domain_get_name(dom));
        return FALSE;
    }
    printf("Domain '%s' successfully woken up\n", domus_domain_get_name(dom));
    return TRUE;
}

/* --- where the graphical console listens --- */

/* The first <graphics> of each type in a domain's XML, as virsh's XPath reads it */
struct display {
    char *type, *port, *tls_port, *listen, *passwd;
    char *listen_type, *listen_address, *listen_socket; /* of its first <listen> */
    gboolean listen_seen;
};

static void
display_free(struct display *d)
{
    g_free(d->type);
    g_free(d->port);
    g_free(d->tls_port);
    g_free(d->listen);
    g_free(d->passwd);
    g_free(d->listen_type);
    g_free(d->listen_address);
    g_free(d->listen_socket);
    g_free(d);
}

struct display_parse {
    GPtrArray *displays;
    struct display *cur; /* inside a <graphics> under /domain/devices */
    int depth;
};

static const char *
attr_of(const char **names, const char **values, const char *name)
{
    for (guint i = 0; names[i]; i++)
        if (g_str_equal(names[i], name))
            return values[i];
    return NULL;
}

static void
on_display_start(GMarkupParseContext *mctx, const char *element, const char **names,
                 const char **values, gpointer data, GError **error)
{
    struct display_parse *p = data;
    p->depth++;
    if (p->depth == 3 && g_str_equal(element, "graphics")) {
        p->cur = g_new0(struct display, 1);
        p->cur->type = g_strdup(attr_of(names, values, "type"));
        p->cur->port = g_strdup(attr_of(names, values, "port"));
        p->cur->tls_port = g_strdup(attr_of(names, values, "tlsPort"));
        p->cur->listen = g_strdup(attr_of(names, values, "listen"));
        p->cur->passwd = g_strdup(attr_of(names, values, "passwd"));
    } else if (p->depth == 4 && p->cur && !p->cur->listen_seen && g_str_equal(element, "listen")) {
        p->cur->listen_seen = TRUE;
        p->cur->listen_type = g_strdup(attr_of(names, values, "type"));
        p->cur->listen_address = g_strdup(attr_of(names, values, "address"));
        p->cur->listen_socket = g_strdup(attr_of(names, values, "socket"));
    }
}

static void
on_display_end(GMarkupParseContext *mctx, const char *element, gpointer data, GError **error)
{
    struct display_parse *p = data;
    if (p->depth == 3 && p->cur) {
        gboolean first = TRUE;
        for (guint i = 0; i < p->displays->len; i++)
            first &= g_strcmp0(((struct display *)p->displays->pdata[i])->type, p->cur->type) != 0;
        if (first)
            g_ptr_array_add(p->displays, p->cur);
        else
            display_free(p->cur);
        p->cur = NULL;
    }
    p->depth--;
}

static const struct display *
find_display(GPtrArray *displays, const char *type)
{
    for (guint i = 0; i < displays->len; i++)
        if (g_strcmp0(((struct display *)displays->pdata[i])->type, type) == 0)
            return displays->pdata[i];
    return NULL;
}

/* The graphics of running DOM's live XML (passwords with SECURE); NULL with ERROR */
static GPtrArray *
running_displays(domus_domain *dom, gboolean secure, GError **error)
{
    if (domus_domain_is_active(dom, NULL) != 1) {
        cli_set_error(error, "Domain is not running");
        return NULL;
    }
    g_autofree char *xml = domus_domain_get_xml(dom, secure ? XML_SECURE : 0, error);
    if (!xml)
        return NULL;
    static const GMarkupParser parser = {on_display_start, on_display_end, NULL, NULL, NULL};
    struct display_parse p = {g_ptr_array_new_with_free_func((GDestroyNotify)display_free), NULL,
                              0};
    GMarkupParseContext *mctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
    gboolean ok = g_markup_parse_context_parse(mctx, xml, -1, error) &&
                  g_markup_parse_context_end_parse(mctx, error);
    g_markup_parse_context_free(mctx);
    if (p.cur)
        display_free(p.cur);
    if (!ok) {
        g_ptr_array_unref(p.displays);
        return NULL;
    }
    return p.displays;
}

static int
int_or_zero(const char *text)
{
    guint64 v;
    return text && g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT, &v, NULL) ? (int)v : 0;
}

static gboolean
is_wildcard(const char *addr)
{
    return g_str_equal(addr, "0.0.0.0") || g_str_equal(addr, "::") ||
           g_str_equal(addr, "0:0:0:0:0:0:0:0");
}

/* virsh's URI for display D of SCHEME, or NULL when it has no port or socket */
static char *
display_uri(struct cli_ctx *ctx, const struct display *d, const char *scheme)
{
    int port = int_or_zero(d->port), tls_port = int_or_zero(d->tls_port);
    const char *sock = g_strcmp0(d->listen_type, "socket") == 0 ? d->listen_socket : NULL;
    if (!port && !tls_port && !sock)
        return NULL;
    g_autofree char *addr = g_strdup(d->listen ? d->listen : d->listen_address);
    if (d->listen && is_wildcard(d->listen)) {
        /* listening everywhere: the host of the connection is where to go */
        g_clear_pointer(&addr, g_free);
        g_autoptr(GUri) uri = g_uri_parse(ctx->uri ? ctx->uri : "", G_URI_FLAGS_NONE, NULL);
        if (uri && g_uri_get_host(uri) && *g_uri_get_host(uri))
            addr = g_strdup(g_uri_get_host(uri));
    }
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, sock ? "%s+unix://" : "%s://", scheme);
    if (g_str_equal(scheme, "vnc") && d->passwd)
        g_string_append_printf(s, ":%s@", d->passwd);
    if (sock)
        g_string_append(s, sock);
    else if (!addr)
        g_string_append(s, "localhost");
    else if (strchr(addr, ':'))
        g_string_append_printf(s, "[%s]", addr);
    else
        g_string_append(s, addr);
    if (port)
        g_string_append_printf(s, ":%d", g_str_equal(scheme, "vnc") ? port - 5900 : port);
    g_string_append(s, "?");
    if (tls_port)
        g_string_append_printf(s, "tls-port=%d&", tls_port);
    if (g_str_equal(scheme, "spice") && d->passwd)
        g_string_append_printf(s, "password=%s&", d->passwd);
    g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

static gboolean
cmd_domdisplay(struct cli_ctx *ctx, GError **error)
{
    const char *type = cli_get(ctx, "type");
    gboolean all = cli_has(ctx, "all");
    if (all && type) {
        cli_set_error(error, "Options --all and --type are mutually exclusive");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) displays = running_displays(dom, cli_has(ctx, "include-password"), error);
    if (!displays)
        return FALSE;
    static const char *const schemes[] = {"vnc", "spice", "rdp", NULL};
    gboolean found = FALSE;
    for (guint i = 0; schemes[i]; i++) {
        if (!all && type && !g_str_equal(type, schemes[i]))
            continue;
        const struct display *d = find_display(displays, schemes[i]);
        g_autofree char *uri = d ? display_uri(ctx, d, schemes[i]) : NULL;
        if (!uri)
            continue;
        printf("%s", uri);
        found = TRUE;
        if (!all)
            break;
        printf("\n");
    }
    if (!found) {
        if (type)
            cli_set_error(error, "No graphical display with type '%s' found", type);
        else
            cli_set_error(error, "No graphical display found");
        return FALSE;
    }
    printf("\n");
    return TRUE;
}

static gboolean
cmd_vncdisplay(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) displays = running_displays(dom, FALSE, error);
    if (!displays)
        return FALSE;
    const struct display *d = find_display(displays, "vnc");
    guint64 port;
    if (!d || !d->port || !g_ascii_string_to_unsigned(d->port, 10, 0, G_MAXINT, &port, NULL)) {
        cli_set_error(error, "Failed to get VNC port. Is this domain using VNC?");
        return FALSE;
    }
    const char *addr = d->listen ? d->listen : d->listen_address;
    if (!addr || g_str_equal(addr, "0.0.0.0"))
        printf(":%d\n\n", (int)port - 5900);
    else
        printf("%s:%d\n\n", addr, (int)port - 5900);
    return TRUE;
}

static const struct cli_opt screenshot_opts[] = {
    DOMAIN_OPT,
    {"file", OPT_STRING, FALSE, "where to store the screenshot"},
    {"screen", OPT_STRING, FALSE, "ID of a screen to take screenshot of"},
    {NULL},
};
static const struct cli_opt send_key_opts[] = {
    DOMAIN_OPT,
    {"codeset", OPT_NAMED, FALSE, "the codeset of keycodes, default:linux"},
    {"holdtime", OPT_NAMED, FALSE, "the time (in milliseconds) how long the keys will be held"},
    {"keycode", OPT_LIST, TRUE, "the key code"},
    {NULL},
};
static const struct cli_opt dom_only_opts[] = {
    DOMAIN_OPT,
    {NULL},
};
static const struct cli_opt pmsuspend_opts[] = {
    DOMAIN_OPT,
    {"target", OPT_DATA, TRUE,
     "mem(Suspend-to-RAM), disk(Suspend-to-Disk), "
     "hybrid(Hybrid-Suspend)"},
    {"duration", OPT_NAMED, FALSE, "duration in seconds"},
    {NULL},
};
static const struct cli_opt domdisplay_opts[] = {
    DOMAIN_OPT,
    {"include-password", OPT_BOOL, FALSE,
     "includes the password into the connection URI if available"},
    {"type", OPT_STRING, FALSE,
     "select particular graphical display (e.g. \"vnc\", \"spice\", \"rdp\", \"dbus\")"},
    {"all", OPT_BOOL, FALSE, "show all possible graphical displays"},
    {NULL},
};

const struct cli_cmd cli_display_cmds[] = {
    {"screenshot", cmd_screenshot, screenshot_opts,
     "take a screenshot of a current domain console and store it into a file"},
    {"send-key", cmd_send_key, send_key_opts, "Send keycodes to the guest"},
    {"inject-nmi", cmd_inject_nmi, dom_only_opts, "Inject NMI to the guest"},
    {"dompmsuspend", cmd_dompmsuspend, pmsuspend_opts,
     "suspend a domain gracefully using power management functions"},
    {"dompmwakeup", cmd_dompmwakeup, dom_only_opts, "wakeup a domain from pmsuspended state"},
    {"domdisplay", cmd_domdisplay, domdisplay_opts, "domain display connection URI"},
    {"vncdisplay", cmd_vncdisplay, dom_only_opts, "vnc display"},
    {NULL},
};
