/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* console: attach the terminal to a domain's serial console, as virsh console does; Ctrl+]
 * (or the -e sequence) detaches; the guest's end or the daemon's closes it too. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

/* virsh's vshGetEscapeChar: "^X" is Ctrl+X, else the character itself */
static char
escape_char(const char *seq)
{
    return seq[0] == '^' ? (char)(g_ascii_toupper(seq[1]) ^ 0x40) : seq[0];
}

static gboolean
relay(domus_stream *st, char escape, GError **error)
{
    int sfd = domus_stream_get_fd(st);
    gboolean stdin_open = TRUE;
    for (;;) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        int n = domus_stream_pending(st) ? 1 : poll(p, stdin_open ? 2 : 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, domus_error_quark(), 38, "poll: %s", g_strerror(errno));
            return FALSE;
        }
        if (domus_stream_pending(st) || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[16384];
            gssize got = domus_stream_recv(st, buf, sizeof(buf), error);
            if (got < 0)
                return FALSE;
            if (got == 0)
                return TRUE; /* the guest went away */
            if (write(1, buf, (size_t)got) < 0 && errno != EINTR)
                return TRUE;
            continue;
        }
        if (stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[4096];
            ssize_t got = read(0, buf, sizeof(buf));
            if (got <= 0) {
                stdin_open = FALSE;
                continue;
            }
            for (ssize_t i = 0; i < got; i++) {
                if (buf[i] == escape) {
                    if (i > 0 && !domus_stream_send(st, buf, (gsize)i, error))
                        return FALSE;
                    return domus_stream_finish(st, error);
                }
            }
            if (!domus_stream_send(st, buf, (gsize)got, error))
                return FALSE;
        }
    }
}

static gboolean
cmd_console(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    unsigned flags = (cli_has(ctx, "force") ? DOMUS_CONSOLE_FORCE : 0) |
                     (cli_has(ctx, "safe") ? DOMUS_CONSOLE_SAFE : 0);
    domus_stream *st = domus_domain_open_console(dom, cli_get(ctx, "devname"), flags, error);
    if (!st) {
        domus_domain_free(dom);
        return FALSE;
    }
    const char *seq = ctx->escape ? ctx->escape : "^]";
    printf("Connected to domain '%s'\nEscape character is %s", domus_domain_get_name(dom), seq);
    if (seq[0] == '^')
        printf(" (Ctrl + %c)", seq[1]);
    printf("\n");
    fflush(stdout);
    struct termios saved, raw;
    gboolean tty = isatty(0) && tcgetattr(0, &saved) == 0;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSAFLUSH, &raw);
    }
    gboolean ok = relay(st, escape_char(seq), error);
    if (tty)
        tcsetattr(0, TCSAFLUSH, &saved);
    printf("\n");
    domus_stream_free(st);
    domus_domain_free(dom);
    return ok;
}

/* ttyconsole: virsh's XPath string(/domain/devices/console/@tty) over the live XML */
struct tty_find {
    int depth;
    gboolean in_devices;
    char *tty;
};

static void
tty_start(GMarkupParseContext *pc, const char *name, const char **attrs, const char **values,
          gpointer user, GError **error)
{
    struct tty_find *f = user;
    f->depth++;
    if (f->depth == 2 && g_str_equal(name, "devices"))
        f->in_devices = TRUE;
    if (f->depth == 3 && f->in_devices && g_str_equal(name, "console") && !f->tty)
        for (int i = 0; attrs[i]; i++)
            if (g_str_equal(attrs[i], "tty"))
                f->tty = g_strdup(values[i]);
}

static void
tty_end(GMarkupParseContext *pc, const char *name, gpointer user, GError **error)
{
    struct tty_find *f = user;
    if (f->depth == 2 && g_str_equal(name, "devices"))
        f->in_devices = FALSE;
    f->depth--;
}

static gboolean
cmd_ttyconsole(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autofree char *xml = domus_domain_get_xml(dom, 0, error);
    if (!xml)
        return FALSE;
    static const GMarkupParser parser = {tty_start, tty_end, NULL, NULL, NULL};
    struct tty_find f = {0};
    GMarkupParseContext *pc = g_markup_parse_context_new(&parser, 0, &f, NULL);
    gboolean parsed = g_markup_parse_context_parse(pc, xml, -1, error);
    g_markup_parse_context_free(pc);
    if (!parsed) {
        g_free(f.tty);
        return FALSE;
    }
    /* no pty console (an inactive domain's has no path yet): virsh fails without a word */
    if (!f.tty)
        return FALSE;
    printf("%s\n\n", f.tty);
    g_free(f.tty);
    return TRUE;
}

static const struct cli_opt ttyconsole_opts[] = {
    DOMAIN_OPT,
    {NULL},
};

static const struct cli_opt console_opts[] = {
    {"domain", OPT_DATA, TRUE, "domain name, id or uuid"},
    {"devname", OPT_STRING, FALSE, "character device name"},
    {"force", OPT_BOOL, FALSE, "force console connection (disconnect already connected sessions)"},
    {"safe", OPT_BOOL, FALSE, "only connect if safe console handling is supported"},
    {NULL},
};

const struct cli_cmd cli_console_cmds[] = {
    {"console", cmd_console, console_opts, "connect to the guest console"},
    {"ttyconsole", cmd_ttyconsole, ttyconsole_opts, "tty console"},
    {NULL},
};
