/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domus: virsh's commands, options and output for Domus. Errors go to stderr as
 * "error: …" and the exit status is 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct cli_cmd *const tables[] = {
    cli_domain_cmds,     cli_save_cmds,    cli_migrate_cmds,   cli_blockjob_cmds, cli_snapshot_cmds,
    cli_checkpoint_cmds, cli_console_cmds, cli_guest_cmds,     cli_storage_cmds,  cli_network_cmds,
    cli_host_cmds,       cli_stats_cmds,   cli_tune_cmds,      cli_device_cmds,   cli_display_cmds,
    cli_secret_cmds,     cli_cpu_cmds,     cli_volstream_cmds, cli_complete_cmds, cli_shell_cmds};

static const struct cli_cmd help_cmd;

domus_conn *
cli_conn(struct cli_ctx *ctx, GError **error)
{
    if (ctx->conn)
        return ctx->conn;
    ctx->conn = domus_open(ctx->uri, ctx->readonly, error);
    if (ctx->conn && ctx->keepalive_interval > 0 &&
        domus_conn_set_keepalive(ctx->conn, ctx->keepalive_interval, (unsigned)ctx->keepalive_count,
                                 error) < 0)
        g_clear_pointer(&ctx->conn, domus_close);
    return ctx->conn;
}

const char *
cli_get(struct cli_ctx *ctx, const char *name)
{
    return g_hash_table_lookup(ctx->values, name);
}

char **
cli_get_list(struct cli_ctx *ctx, const char *name)
{
    const char *v = g_hash_table_lookup(ctx->values, name);
    return v ? g_strsplit(v, "\n", -1) : g_new0(char *, 1);
}

gboolean
cli_has(struct cli_ctx *ctx, const char *name)
{
    return g_hash_table_contains(ctx->values, name);
}

gboolean
cli_get_u64(struct cli_ctx *ctx, const char *name, guint64 *ret, GError **error)
{
    const char *text = cli_get(ctx, name);
    *ret = 0;
    if (text && !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                      text, name);
        return FALSE;
    }
    return TRUE;
}

/* Writes XML to a temporary file, runs $VISUAL, $EDITOR or vi on it and returns what the
 * editor left there (a new string), or NULL with ERROR. The file is removed either way. */
char *
cli_edit_xml(const char *xml, GError **error)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("domus-edit-XXXXXX.xml", &path, error);
    if (fd < 0)
        return NULL;
    close(fd);
    if (!g_file_set_contents(path, xml, -1, error)) {
        unlink(path);
        return NULL;
    }
    const char *editor = g_getenv("VISUAL");
    if (!editor || !*editor)
        editor = g_getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    g_autofree char *quoted = g_shell_quote(path);
    g_autofree char *cmd = g_strdup_printf("%s %s", editor, quoted);
    if (system(cmd) != 0) {
        unlink(path);
        g_set_error(error, domus_error_quark(), 9, "editor '%s' failed; nothing was changed",
                    editor);
        return NULL;
    }
    char *edited = NULL;
    gboolean read_ok = g_file_get_contents(path, &edited, NULL, error);
    unlink(path);
    return read_ok ? edited : NULL;
}

domus_domain *
cli_domain(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return NULL;
    return domus_domain_lookup(conn, cli_get(ctx, "domain"), error);
}

const struct cli_cmd *
cli_find_cmd(const char *name)
{
    if (g_str_equal(name, "help"))
        return &help_cmd;
    for (gsize t = 0; t < G_N_ELEMENTS(tables); t++)
        for (const struct cli_cmd *c = tables[t]; c->name; c++)
            if (g_str_equal(c->name, name))
                return c;
    return NULL;
}

void
cli_each_cmd(void (*fn)(const struct cli_cmd *c, gpointer data), gpointer data)
{
    for (gsize t = 0; t < G_N_ELEMENTS(tables); t++)
        for (const struct cli_cmd *c = tables[t]; c->name; c++)
            fn(c, data);
    fn(&help_cmd, data);
}

static void
print_cmd_help(const struct cli_cmd *c)
{
    printf("  NAME\n    %s - %s\n\n  SYNOPSIS\n    %s", c->name, c->help, c->name);
    for (const struct cli_opt *o = c->opts; o && o->name; o++) {
        if (o->type == OPT_BOOL)
            printf(" [--%s]", o->name);
        else if (o->required)
            printf(" <%s>", o->name);
        else
            printf(" [--%s <string>]", o->name);
    }
    printf("\n\n");
    if (c->opts && c->opts->name) {
        printf("  OPTIONS\n");
        for (const struct cli_opt *o = c->opts; o->name; o++) {
            g_autofree char *label = o->type == OPT_BOOL ? g_strconcat("--", o->name, NULL)
                                     : o->type == OPT_NAMED
                                         ? g_strconcat("--", o->name, " <string>", NULL)
                                         : g_strconcat("[--", o->name, "] <string>", NULL);
            printf("    %-24s %s\n", label, o->help);
        }
        printf("\n");
    }
}

static void
print_help(void)
{
    printf("domus [options]... <command> [args...]\n\n"
           "  options:\n"
           "    -c | --connect=URI      hypervisor connection URI (default: $DOMUS_DEFAULT_URI or "
           "domus:///system)\n"
           "    -r | --readonly         connect readonly\n"
           "    -e | --escape <char>    set escape sequence for console\n"
           "    -k | --keepalive-interval=NUM\n"
           "                            keepalive interval in seconds, 0 for disable (the\n"
           "                            default: domus answers the daemon only while a\n"
           "                            command waits)\n"
           "    -K | --keepalive-count=NUM\n"
           "                            number of possible missed keepalive messages\n"
           "    -h | --help             this help\n"
           "    -v | --version[=short]  program version\n"
           "    -V | --version=long     version and what it speaks\n\n"
           "  commands (use 'domus help COMMAND' for details):\n");
    for (gsize t = 0; t < G_N_ELEMENTS(tables); t++)
        for (const struct cli_cmd *c = tables[t]; c->name; c++)
            printf("    %-16s %s\n", c->name, c->help);
    printf("    %-16s %s\n\n", help_cmd.name, help_cmd.help);
}

static gboolean
cmd_help(struct cli_ctx *ctx, GError **error)
{
    const char *name = cli_get(ctx, "command");
    if (!name) {
        print_help();
        return TRUE;
    }
    const struct cli_cmd *c = cli_find_cmd(name);
    if (!c) {
        g_set_error(error, domus_error_quark(), 8, "command '%s' doesn't exist", name);
        return FALSE;
    }
    print_cmd_help(c);
    return TRUE;
}

static const struct cli_opt help_opts[] = {
    {"command", OPT_DATA, FALSE, "prints help about this command"},
    {NULL},
};
static const struct cli_cmd help_cmd = {"help", cmd_help, help_opts, "print help"};

/* virsh-style options: "--name value", "--name=value", bare values fill the positional
 * options in order. */
static gboolean
parse_opts(const struct cli_cmd *c, int argc, char **argv, GHashTable *values, GError **error)
{
    const struct cli_opt *positional[16];
    int npos = 0, next_pos = 0;
    for (const struct cli_opt *o = c->opts; o && o->name && npos < 16; o++)
        if (o->type != OPT_BOOL && o->type != OPT_NAMED)
            positional[npos++] = o;
    gboolean options_end = FALSE;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_end && g_str_equal(a, "--")) {
            options_end = TRUE; /* what follows is data, dashes and all */
            continue;
        }
        if (!options_end && g_str_has_prefix(a, "--") && a[2]) {
            g_autofree char *name = g_strdup(a + 2);
            char *eq = strchr(name, '=');
            if (eq)
                *eq = '\0';
            const struct cli_opt *o = NULL;
            for (const struct cli_opt *p = c->opts; p && p->name; p++)
                if (g_str_equal(p->name, name))
                    o = p;
            if (!o) {
                g_set_error(error, domus_error_quark(), 8,
                            "command '%s' doesn't support option --%s", c->name, name);
                return FALSE;
            }
            if (o->type == OPT_BOOL) {
                g_hash_table_insert(values, g_strdup(o->name), g_strdup("1"));
            } else if (eq || i + 1 < argc) {
                const char *v = eq ? eq + 1 : argv[++i];
                const char *before = g_hash_table_lookup(values, o->name);
                g_hash_table_insert(values, g_strdup(o->name),
                                    o->type == OPT_LIST && before
                                        ? g_strconcat(before, "\n", v, NULL)
                                        : g_strdup(v));
            } else {
                g_set_error(error, domus_error_quark(), 8, "expected syntax: --%s <string>",
                            o->name);
                return FALSE;
            }
            continue;
        }
        while (next_pos < npos && g_hash_table_contains(values, positional[next_pos]->name) &&
               positional[next_pos]->type != OPT_REST && positional[next_pos]->type != OPT_LIST)
            next_pos++;
        if (next_pos >= npos) {
            g_set_error(error, domus_error_quark(), 8, "unexpected data '%s'", a);
            return FALSE;
        }
        const struct cli_opt *o = positional[next_pos];
        const char *before = g_hash_table_lookup(values, o->name);
        if ((o->type == OPT_REST || o->type == OPT_LIST) && before) {
            g_hash_table_insert(values, g_strdup(o->name),
                                g_strconcat(before, o->type == OPT_LIST ? "\n" : " ", a, NULL));
            continue;
        }
        g_hash_table_insert(values, g_strdup(o->name), g_strdup(a));
        if (o->type != OPT_REST && o->type != OPT_LIST)
            next_pos++;
    }
    for (const struct cli_opt *o = c->opts; o && o->name; o++)
        if (o->required && !g_hash_table_contains(values, o->name)) {
            /* virsh names a data argument <NAME>, an option taking a number or string --NAME */
            g_set_error(error, domus_error_quark(), 8,
                        o->type == OPT_STRING ? "command '%s' requires --%s option"
                                              : "command '%s' requires <%s> option",
                        c->name, o->name);
            return FALSE;
        }
    return TRUE;
}

gboolean
cli_run(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct cli_cmd *c = cli_find_cmd(argv[0]);
    if (!c) {
        fprintf(stderr, "error: unknown command: '%s'\n", argv[0]);
        return FALSE;
    }
    /* "CMD --help", as virsh: the command's help, nothing run */
    for (int k = 1; k < argc && c != &help_cmd; k++) {
        if (g_str_equal(argv[k], "--"))
            break;
        if (g_str_equal(argv[k], "--help")) {
            print_cmd_help(c);
            return TRUE;
        }
    }
    ctx->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GError) error = NULL;
    gboolean parsed = parse_opts(c, argc - 1, argv + 1, ctx->values, &error);
    gboolean ok = parsed && c->run(ctx, &error);
    if (!ok && error)
        fprintf(stderr, "error: %s\n", error->message);
    /* virsh ends every command it ran with an empty line, a failed one too (not one whose
     * options it refused) */
    if (!ok && parsed && c != &help_cmd)
        printf("\n");
    fflush(stdout);
    g_clear_pointer(&ctx->values, g_hash_table_destroy);
    return ok;
}

/* -k / --keepalive-interval and -K / --keepalive-count (with the value as the next word or
 * after '='): TRUE when A is one; *OK is FALSE when its value is no number >= 0. */
static gboolean
keepalive_option(const char *a, int argc, char **argv, int *i, struct cli_ctx *ctx, gboolean *ok)
{
    static const struct {
        const char *s, *l;
    } opts[] = {{"-k", "--keepalive-interval"}, {"-K", "--keepalive-count"}};
    for (gsize k = 0; k < G_N_ELEMENTS(opts); k++) {
        gsize ll = strlen(opts[k].l);
        const char *v = NULL;
        if ((g_str_equal(a, opts[k].s) || g_str_equal(a, opts[k].l)) && *i + 1 < argc)
            v = argv[++*i];
        else if (g_str_has_prefix(a, opts[k].l) && a[ll] == '=')
            v = a + ll + 1;
        else
            continue;
        guint64 n = 0;
        if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT, &n, NULL)) {
            fprintf(stderr, "error: option %s requires a positive integer argument\n", opts[k].s);
            *ok = FALSE;
        } else if (k == 0) {
            ctx->keepalive_interval = (int)n;
        } else {
            ctx->keepalive_count = (int)n;
        }
        return TRUE;
    }
    return FALSE;
}

int
main(int argc, char **argv)
{
    struct cli_ctx ctx = {.keepalive_count = 6};
    gboolean value_ok = TRUE;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if ((g_str_equal(a, "-c") || g_str_equal(a, "--connect")) && i + 1 < argc)
            ctx.uri = argv[++i];
        else if (g_str_has_prefix(a, "--connect="))
            ctx.uri = a + 10;
        else if (g_str_equal(a, "-r") || g_str_equal(a, "--readonly"))
            ctx.readonly = TRUE;
        else if (keepalive_option(a, argc, argv, &i, &ctx, &value_ok)) {
            if (!value_ok)
                return 1;
        } else if ((g_str_equal(a, "-e") || g_str_equal(a, "--escape")) && i + 1 < argc) {
            ctx.escape = argv[++i];
            /* virsh's rule: ^ and a letter or one of [\]^_, or one character not ^ */
            gsize len = strlen(ctx.escape);
            if (!((len == 2 && ctx.escape[0] == '^' &&
                   (g_ascii_isalpha(ctx.escape[1]) || strchr("[\\]^_", ctx.escape[1]))) ||
                  (len == 1 && ctx.escape[0] != '^'))) {
                fprintf(stderr, "error: Invalid string '%s' for escape sequence\n", ctx.escape);
                return 1;
            }
        } else if (g_str_equal(a, "-h") || g_str_equal(a, "--help")) {
            print_help();
            return 0;
        } else if (g_str_equal(a, "-v") || g_str_equal(a, "--version") ||
                   g_str_equal(a, "--version=short")) {
            /* virsh prints its library's version: so does domus */
            printf("%s\n", DOMUS_VERSION);
            return 0;
        } else if (g_str_equal(a, "-V") || g_str_equal(a, "--version=long")) {
            printf("Domus command line tool %s\nSee docs/ in the source for its commands.\n\n"
                   "Speaks libvirt's remote protocol (program 0x20008086, version 1) to domusd\n"
                   "and to libvirtd; connects with domus:// and qemu+unix:// URIs.\n",
                   DOMUS_VERSION);
            return 0;
        } else {
            fprintf(stderr, "error: unsupported option '%s'. See --help.\n", a);
            return 1;
        }
    }
    /* no command: virsh's interactive shell */
    gboolean ok = i >= argc ? cli_shell(&ctx) : cli_run(&ctx, argc - i, argv + i);
    domus_close(ctx.conn);
    return ok ? 0 : 1;
}
