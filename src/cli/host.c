/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host commands: uri, version, hostname, capabilities. */
#include <stdio.h>

#include "cli/cli.h"

static gboolean
cmd_uri(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    printf("%s\n\n", domus_get_uri(conn));
    return TRUE;
}

static void
print_version(const char *label, const char *what, guint64 v)
{
    printf("%s %s %u.%u.%u\n", label, what, (unsigned)(v / 1000000), (unsigned)(v / 1000 % 1000),
           (unsigned)(v % 1000));
}

static gboolean
cmd_version(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    guint64 hv, lib;
    if (!conn || !domus_get_lib_version(conn, &lib, error) || !domus_get_version(conn, &hv, error))
        return FALSE;
    printf("Compiled against library: domus %s\n", DOMUS_VERSION);
    printf("Using library: domus %s\n", DOMUS_VERSION);
    print_version("Using API:", "QEMU", lib);
    print_version("Running hypervisor:", "QEMU", hv);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_hostname(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_autofree char *h = conn ? domus_get_hostname(conn, error) : NULL;
    if (!h)
        return FALSE;
    printf("%s\n\n", h);
    return TRUE;
}

static gboolean
cmd_capabilities(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_autofree char *caps = conn ? domus_get_capabilities(conn, error) : NULL;
    if (!caps)
        return FALSE;
    printf("%s\n", caps);
    return TRUE;
}

static const struct cli_opt no_opts[] = {{NULL}};

const struct cli_cmd cli_host_cmds[] = {
    {"uri", cmd_uri, no_opts, "print the hypervisor canonical URI"},
    {"version", cmd_version, no_opts, "show version"},
    {"hostname", cmd_hostname, no_opts, "print the hypervisor hostname"},
    {"capabilities", cmd_capabilities, no_opts, "capabilities"},
    {NULL},
};
