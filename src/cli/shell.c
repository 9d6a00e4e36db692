/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shell: `domus` without a command, as virsh without one: a banner and a prompt on a
 * terminal, line editing and history (libedit; kept in $XDG_CACHE_HOME/domus/history), TAB
 * completion of commands, options and live names (complete.c); commands separated by ';'
 * or newlines, quoted as in a shell; `quit` or `exit` (or end of input) leaves. One connection
 * serves every command; `connect` makes a new one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli/cli.h"

#define HISTORY_LINES 500

static struct cli_ctx *shell_ctx; /* for the completion callbacks, which take no argument */
static char **matches;            /* the candidates of the completion in progress */

/* One line into its commands: split at ';' outside quotes, each into words with shell
 * quoting. NULL with ERROR for unbalanced quotes. */
static GPtrArray *
split_line(const char *line, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    g_autoptr(GString) cur = g_string_new(NULL);
    char quote = 0;
    for (const char *p = line;; p++) {
        if (*p == '\\' && quote != '\'' && p[1]) {
            g_string_append_c(cur, *p++);
            g_string_append_c(cur, *p);
            continue;
        }
        if (quote && *p == quote)
            quote = 0;
        else if (!quote && (*p == '"' || *p == '\''))
            quote = *p;
        if (*p && (quote || (*p != ';' && *p != '#'))) {
            g_string_append_c(cur, *p);
            continue;
        }
        g_strstrip(cur->str);
        if (cur->str[0]) {
            char **argv = NULL;
            if (!g_shell_parse_argv(cur->str, NULL, &argv, error))
                return NULL;
            g_ptr_array_add(cmds, argv);
        }
        g_string_truncate(cur, 0);
        if (!*p || *p == '#')
            break;
    }
    if (quote) {
        g_set_error(error, domus_error_quark(), 8, "unterminated quote in '%s'", line);
        return NULL;
    }
    return g_steal_pointer(&cmds);
}

static char *
next_match(const char *text, int state)
{
    static int i;
    if (state == 0)
        i = 0;
    return matches && matches[i] ? strdup(matches[i++]) : NULL;
}

/* TAB: the words before the cursor (of the command it is in) decide what may come. */
static char **
complete_line(const char *text, int start, int end)
{
    g_autofree char *before = g_strndup(rl_line_buffer, (gsize)start);
    const char *seg = strrchr(before, ';');
    seg = seg ? seg + 1 : before;
    char **words = NULL;
    int n = 0;
    g_strstrip((char *)seg);
    if (*seg && !g_shell_parse_argv(seg, &n, &words, NULL))
        return NULL;
    g_clear_pointer(&matches, g_strfreev);
    matches = cli_complete(shell_ctx, words, n, text);
    g_strfreev(words);
    /* file names only where nothing else fits (an XML file, a path) */
    rl_attempted_completion_over = matches[0] != NULL;
    return matches[0] ? rl_completion_matches(text, next_match) : NULL;
}

static gboolean
cmd_connect(struct cli_ctx *ctx, GError **error)
{
    static char *uri; /* the context keeps pointing at it */
    domus_close(ctx->conn);
    ctx->conn = NULL;
    if (cli_get(ctx, "name")) {
        g_free(uri);
        uri = g_strdup(cli_get(ctx, "name"));
        ctx->uri = uri;
    }
    ctx->readonly = cli_has(ctx, "readonly");
    return cli_conn(ctx, error) != NULL;
}

static const struct cli_opt connect_opts[] = {
    {"name", OPT_DATA, FALSE, "hypervisor connection URI"},
    {"readonly", OPT_BOOL, FALSE, "read-only connection"},
    {NULL},
};

static gboolean
cmd_quit(struct cli_ctx *ctx, GError **error)
{
    ctx->quit = TRUE;
    return TRUE;
}

static gboolean
cmd_cd(struct cli_ctx *ctx, GError **error)
{
    if (!ctx->interactive) {
        cli_set_error(error, "cd: command valid only in interactive mode");
        return FALSE;
    }
    const char *dir = cli_get(ctx, "dir");
    if (!dir)
        dir = g_get_home_dir() ? g_get_home_dir() : "/";
    if (chdir(dir) < 0) {
        cli_set_error(error, "cd: %s: %s: %s", g_strerror(errno), "failed to change directory",
                      dir);
        return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_pwd(struct cli_ctx *ctx, GError **error)
{
    g_autofree char *cwd = g_get_current_dir();
    printf("%s\n", cwd);
    return TRUE;
}

/* libvirt's virBufferEscapeShell: bare when nothing in it is special to a shell */
static void
append_shell_quoted(GString *out, const char *s)
{
    if (*s && !strpbrk(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            g_string_append(out, "'\\''");
        else
            g_string_append_c(out, *s);
    }
    g_string_append_c(out, '\'');
}

/* virsh's echo (its test aid): the arguments, escaped for a shell or XML, or split at ','
 * (',,' is a comma) one piece a line */
static gboolean
cmd_echo(struct cli_ctx *ctx, GError **error)
{
    gboolean shell = cli_has(ctx, "shell"), xml = cli_has(ctx, "xml"),
             split = cli_has(ctx, "split");
    const char *a_opt = shell ? "shell" : "xml", *b_opt = split ? "split" : "xml";
    if ((shell && xml) || (shell && split) || (xml && split)) {
        cli_set_error(error, "Options --%s and --%s are mutually exclusive", a_opt, b_opt);
        return FALSE;
    }
    g_auto(GStrv) args = cli_get_list(ctx, "string");
    g_autoptr(GString) out = g_string_new(NULL);
    for (char **a = args; *a; a++) {
        if (xml) {
            g_autofree char *esc = g_markup_escape_text(*a, -1);
            g_string_append(out, esc);
        } else if (shell) {
            append_shell_quoted(out, *a);
        } else if (split) {
            for (const char *p = *a;; p++) {
                if (*p == ',' && p[1] == ',') {
                    g_string_append_c(out, ',');
                    p++;
                } else if (*p == ',' || !*p) {
                    g_string_append_c(out, '\n');
                    if (!*p)
                        break;
                } else {
                    g_string_append_c(out, *p);
                }
            }
        } else {
            g_string_append(out, *a);
        }
        g_string_append_c(out, ' ');
    }
    while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate(out, out->len - 1);
    if (cli_has(ctx, "err")) {
        /* virsh's vshError: the message on stderr, a blank line on stdout */
        fflush(stdout);
        fprintf(stderr, "error: %s\n", out->str);
        printf("\n");
    } else {
        printf("%s\n", out->str);
    }
    return TRUE;
}

static const struct cli_opt cd_opts[] = {
    {"dir", OPT_DATA, FALSE, "directory to switch to (default: home or else root)"},
    {NULL},
};

static const struct cli_opt echo_opts[] = {
    {"shell", OPT_BOOL, FALSE, "escape for shell use"},
    {"xml", OPT_BOOL, FALSE, "escape for XML use"},
    {"split", OPT_BOOL, FALSE, "split each argument on ','; ',,' is an escape sequence"},
    {"err", OPT_BOOL, FALSE, "output to stderr"},
    {"string", OPT_LIST, FALSE, "arguments to echo"},
    {NULL},
};

const struct cli_cmd cli_shell_cmds[] = {
    {"cd", cmd_cd, cd_opts, "change the current directory"},
    {"connect", cmd_connect, connect_opts, "(re)connect to hypervisor"},
    {"echo", cmd_echo, echo_opts, "echo arguments. Used for internal testing."},
    {"exit", cmd_quit, NULL, "quit this interactive terminal"},
    {"pwd", cmd_pwd, NULL, "print the current directory"},
    {"quit", cmd_quit, NULL, "quit this interactive terminal"},
    {NULL},
};

/* Runs the commands of LINE; FALSE once one was quit or exit. */
static gboolean
run_line(struct cli_ctx *ctx, const char *line)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cmds = split_line(line, &error);
    if (!cmds) {
        fprintf(stderr, "error: %s\n\n", error->message);
        return TRUE;
    }
    for (guint i = 0; i < cmds->len && !ctx->quit; i++) {
        char **argv = cmds->pdata[i];
        cli_run(ctx, (int)g_strv_length(argv), argv);
    }
    return !ctx->quit;
}

gboolean
cli_shell(struct cli_ctx *ctx)
{
    ctx->interactive = TRUE;
    if (!isatty(0)) {
        /* commands from a pipe or file: no banner, no prompt */
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, stdin) >= 0 && run_line(ctx, line))
            ;
        free(line);
        return TRUE;
    }
    shell_ctx = ctx;
    g_autofree char *dir = g_build_filename(g_get_user_cache_dir(), "domus", NULL);
    g_autofree char *history = g_build_filename(dir, "history", NULL);
    rl_readline_name = "domus";
    rl_attempted_completion_function = complete_line;
    using_history();
    stifle_history(HISTORY_LINES);
    read_history(history);
    printf("Welcome to domus, the virtualization interactive terminal.\n\n"
           "Type:  'help' for help with commands\n"
           "       'quit' to quit\n\n");
    for (;;) {
        char *line = readline(ctx->readonly ? "domus > " : "domus # ");
        if (!line) {
            printf("\n"); /* end of input (Ctrl+D) */
            break;
        }
        gboolean more = TRUE;
        if (*g_strstrip(line)) {
            add_history(line);
            more = run_line(ctx, line);
        }
        free(line);
        if (!more)
            break;
    }
    if (g_mkdir_with_parents(dir, 0700) == 0)
        write_history(history);
    g_clear_pointer(&matches, g_strfreev);
    return TRUE;
}
