/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli: the domus command line; prefix cli_ (main.c: table, options, connection) and cmd_
 * (one function per command, in domain.c, host.c, storage.c, …). */
#pragma once

#include <glib.h>

#include "domus/domus.h"

enum cli_opt_type {
    OPT_BOOL,   /* --name */
    OPT_STRING, /* --name VALUE or positional */
    OPT_DATA,   /* positional-capable string (domain, file) */
    OPT_REST,   /* the remaining bare words, joined by spaces (a monitor command) */
};

struct cli_opt {
    const char *name;
    enum cli_opt_type type;
    gboolean required;
    const char *help;
};

struct cli_ctx {
    const char *uri;
    gboolean readonly;
    domus_conn *conn;   /* opened on first use */
    GHashTable *values; /* option name -> value ("1" for booleans) */
};

struct cli_cmd {
    const char *name;
    gboolean (*run)(struct cli_ctx *ctx, GError **error);
    const struct cli_opt *opts;
    const char *help;
};

domus_conn *cli_conn(struct cli_ctx *ctx, GError **error);
const char *cli_get(struct cli_ctx *ctx, const char *name);
gboolean cli_has(struct cli_ctx *ctx, const char *name);
/* Runs the user's editor on XML; returns the edited text (a new string) or NULL. */
char *cli_edit_xml(const char *xml, GError **error);
/* Looks up the "domain" option's domain (by name, id or uuid). */
domus_domain *cli_domain(struct cli_ctx *ctx, GError **error);

extern const struct cli_cmd cli_domain_cmds[];
extern const struct cli_cmd cli_host_cmds[];
extern const struct cli_cmd cli_console_cmds[];
extern const struct cli_cmd cli_guest_cmds[];
extern const struct cli_cmd cli_storage_cmds[];
