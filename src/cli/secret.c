/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secret: virsh's secret-* commands. A value given on the command line is refused as virsh
 * warns; values are wiped from memory after use. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_secret, domus_secret_free)

static const char *const usage_names[] = {"none", "volume", "ceph", "iscsi", "tls", "vtpm"};

/* The secret the "secret" option names, or NULL after virsh's message */
static domus_secret *
cli_secret(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return NULL;
    const char *uuid = cli_get(ctx, "secret");
    domus_secret *s = domus_secret_lookup(conn, uuid, error);
    if (!s)
        cli_report("failed to get secret '%s'", uuid);
    return s;
}

static const char *const secret_lifecycle_names[] = {"Defined", "Undefined", NULL};
static const struct cli_event_kind secret_event_kinds[] = {
    {"lifecycle", secret_lifecycle_names},
    {"value-changed", NULL},
    {NULL, NULL},
};

static gboolean
cmd_secret_event(struct cli_ctx *ctx, GError **error)
{
    int id;
    if (!cli_event_kind(ctx, secret_event_kinds, &id, error))
        return FALSE;
    if (id < 0)
        return TRUE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    domus_secret *secret = NULL;
    if (cli_has(ctx, "secret") && !(secret = cli_secret(ctx, error)))
        return FALSE;
    int rc = domus_secret_event_register(conn, secret, id, error);
    domus_secret_free(secret);
    return rc >= 0 &&
           cli_event_loop(ctx, DOMUS_EVENT_SECRET, "secret", secret_event_kinds, id, error);
}

static gboolean
cmd_secret_define(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = cli_read_xml_file(file, error);
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    g_autoptr(domus_secret) s = domus_secret_define(conn, xml, error);
    if (!s) {
        cli_report("Failed to set attributes from %s", file);
        return FALSE;
    }
    printf("Secret %s created\n\n", domus_secret_get_uuid(s));
    return TRUE;
}

static gboolean
cmd_secret_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_secret) s = cli_secret(ctx, error);
    g_autofree char *xml = s ? domus_secret_get_xml(s, error) : NULL;
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

/* A line from the terminal without echo */
static char *
read_password(void)
{
    struct termios old, quiet;
    gboolean tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char buf[1024];
    char *line = fgets(buf, sizeof(buf), stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        printf("\n");
    }
    char *out = line ? g_strdup(g_strchomp(line)) : NULL;
    explicit_bzero(buf, sizeof(buf));
    return out;
}

static gboolean
cmd_secret_set_value(struct cli_ctx *ctx, GError **error)
{
    const char *base64 = cli_get(ctx, "base64"), *file = cli_get(ctx, "file");
    gboolean plain = cli_has(ctx, "plain"), interactive = cli_has(ctx, "interactive");
    const char *clash = file && base64          ? "--file and --base64"
                        : plain && base64       ? "--plain and --base64"
                        : interactive && base64 ? "--interactive and --base64"
                        : interactive && plain  ? "--interactive and --plain"
                        : interactive && file   ? "--interactive and --file"
                                                : NULL;
    if (clash) {
        cli_set_error(error, "Options %s are mutually exclusive", clash);
        return FALSE;
    }
    g_autoptr(domus_secret) s = cli_secret(ctx, error);
    if (!s)
        return FALSE;
    char *text = NULL;
    gsize len = 0;
    if (base64) {
        fflush(stdout);
        fprintf(stderr, "error: Passing secret value as command-line argument is insecure!\n");
        text = g_strdup(base64);
        len = strlen(text);
    } else if (file) {
        if (!g_file_get_contents(file, &text, &len, error))
            return FALSE;
        if (len > 1024) {
            explicit_bzero(text, len);
            g_free(text);
            cli_set_error(error, "File '%s' is too large", file);
            return FALSE;
        }
    } else if (interactive) {
        printf("Enter new value for secret:");
        fflush(stdout);
        if (!(text = read_password())) {
            cli_set_error(error, "Failed to read secret");
            return FALSE;
        }
        len = strlen(text);
        plain = TRUE;
    } else {
        cli_set_error(error, "Input secret value is missing");
        return FALSE;
    }
    guint8 *value = (guint8 *)text;
    if (!plain) {
        gsize n = 0;
        value = g_base64_decode(text, &n);
        explicit_bzero(text, len);
        g_free(text);
        len = n;
    }
    gboolean ok = domus_secret_set_value(s, value, len, error);
    explicit_bzero(value, len);
    g_free(value);
    if (!ok) {
        cli_report("Failed to set secret value");
        return FALSE;
    }
    printf("Secret value set\n\n");
    return TRUE;
}

static gboolean
cmd_secret_get_value(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_secret) s = cli_secret(ctx, error);
    gsize len = 0;
    guint8 *value = s ? domus_secret_get_value(s, &len, error) : NULL;
    if (!value)
        return FALSE;
    if (cli_has(ctx, "plain")) {
        fwrite(value, 1, len, stdout);
    } else {
        char *b64 = g_base64_encode(value, len);
        printf("%s\n", b64);
        explicit_bzero(b64, strlen(b64));
        g_free(b64);
    }
    explicit_bzero(value, len);
    g_free(value);
    return TRUE;
}

static gboolean
cmd_secret_undefine(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_secret) s = cli_secret(ctx, error);
    if (!s)
        return FALSE;
    if (!domus_secret_undefine(s, error)) {
        cli_report("Failed to delete secret %s", domus_secret_get_uuid(s));
        return FALSE;
    }
    printf("Secret %s deleted\n\n", domus_secret_get_uuid(s));
    return TRUE;
}

static gboolean
cmd_secret_list(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    unsigned flags = (cli_has(ctx, "ephemeral") ? 1 : 0) | (cli_has(ctx, "no-ephemeral") ? 2 : 0) |
                     (cli_has(ctx, "private") ? 4 : 0) | (cli_has(ctx, "no-private") ? 8 : 0);
    domus_secret **all = domus_list_secrets(conn, flags, error);
    if (!all) {
        cli_report("Failed to list secrets");
        return FALSE;
    }
    g_autoptr(GPtrArray) rows = cli_table_new("UUID", "Usage", NULL);
    for (guint i = 0; all[i]; i++) {
        int usage = domus_secret_get_usage(all[i]);
        char *what =
            usage > 0 && usage < (int)G_N_ELEMENTS(usage_names)
                ? g_strdup_printf("%s %s", usage_names[usage], domus_secret_get_usage_id(all[i]))
                : g_strdup("Unused");
        cli_table_add(rows, g_strdup(domus_secret_get_uuid(all[i])), what, NULL);
        domus_secret_free(all[i]);
    }
    g_free(all);
    cli_table_print(rows);
    printf("\n");
    return TRUE;
}

static const struct cli_opt define_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML secret description"},
    {"validate", OPT_BOOL, FALSE, "validate the XML against the schema"},
    {NULL},
};
static const struct cli_opt secret_opts[] = {
    {"secret", OPT_DATA, TRUE, "secret UUID"},
    {NULL},
};
static const struct cli_opt secret_dumpxml_opts[] = {
    {"secret", OPT_DATA, TRUE, "secret UUID"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt set_value_opts[] = {
    {"secret", OPT_DATA, TRUE, "secret UUID"},
    {"file", OPT_NAMED, FALSE, "read secret from file"},
    {"plain", OPT_BOOL, FALSE, "read the secret from file without converting from base64"},
    {"interactive", OPT_BOOL, FALSE, "read the secret from the terminal"},
    {"base64", OPT_STRING, FALSE, "base64-encoded secret value"},
    {NULL},
};
static const struct cli_opt get_value_opts[] = {
    {"secret", OPT_DATA, TRUE, "secret UUID"},
    {"plain", OPT_BOOL, FALSE, "get value without converting to base64"},
    {NULL},
};
static const struct cli_opt list_opts[] = {
    {"ephemeral", OPT_BOOL, FALSE, "list ephemeral secrets"},
    {"no-ephemeral", OPT_BOOL, FALSE, "list non-ephemeral secrets"},
    {"private", OPT_BOOL, FALSE, "list private secrets"},
    {"no-private", OPT_BOOL, FALSE, "list non-private secrets"},
    {NULL},
};

static const struct cli_opt secret_event_opts[] = {
    {"secret", OPT_NAMED, FALSE, "filter by secret name or uuid"},
    CLI_EVENT_OPTS,
    {NULL},
};

const struct cli_cmd cli_secret_cmds[] = {
    {"secret-define", cmd_secret_define, define_opts, "define or modify a secret from an XML file"},
    {"secret-dumpxml", cmd_secret_dumpxml, secret_dumpxml_opts, "secret attributes in XML"},
    {"secret-set-value", cmd_secret_set_value, set_value_opts, "set a secret value"},
    {"secret-get-value", cmd_secret_get_value, get_value_opts, "Output a secret value"},
    {"secret-undefine", cmd_secret_undefine, secret_opts, "undefine a secret"},
    {"secret-event", cmd_secret_event, secret_event_opts, "Secret Events"},
    {"secret-list", cmd_secret_list, list_opts, "list secrets"},
    {NULL},
};
