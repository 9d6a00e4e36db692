/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* complete: what may come next on a domus command line, for the shell's TAB and for bash
 * (data/bash-completion/domus runs `domus complete -- WORDS…`, as virsh's script runs `virsh
 * complete`): command names, a command's options, and the live names of domains, pools,
 * volumes, networks, snapshots, secrets and node devices where an option takes one. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct collect {
    const char *prefix;
    GPtrArray *out;
};

static void
add(struct collect *c, const char *word)
{
    if (word && g_str_has_prefix(word, c->prefix) &&
        !g_ptr_array_find_with_equal_func(c->out, word, g_str_equal, NULL))
        g_ptr_array_add(c->out, g_strdup(word));
}

static void
add_command(const struct cli_cmd *cmd, gpointer data)
{
    add(data, cmd->name);
}

static const struct cli_opt *
find_opt(const struct cli_cmd *cmd, const char *name)
{
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++)
        if (g_str_equal(o->name, name))
            return o;
    return NULL;
}

/* The value of option NAME among WORDS (its --NAME form only), or NULL. */
static const char *
given(char **words, int n, const char *name)
{
    for (int i = 0; i + 1 < n; i++) {
        const char *w = words[i];
        if (g_str_has_prefix(w, "--") && g_str_equal(w + 2, name))
            return words[i + 1];
        if (g_str_has_prefix(w, "--") && g_str_has_prefix(w + 2, name) &&
            w[2 + strlen(name)] == '=')
            return w + 3 + strlen(name);
    }
    return NULL;
}

/* Which option the word after WORDS (the command's arguments so far) fills. */
static const struct cli_opt *
option_at(const struct cli_cmd *cmd, char **words, int n)
{
    if (n > 0 && g_str_has_prefix(words[n - 1], "--") && !strchr(words[n - 1], '=')) {
        const struct cli_opt *o = find_opt(cmd, words[n - 1] + 2);
        if (o && o->type != OPT_BOOL)
            return o;
    }
    /* positional: count the bare words, skipping option values */
    int bare = 0;
    for (int i = 0; i < n; i++) {
        if (g_str_has_prefix(words[i], "--")) {
            const struct cli_opt *o = find_opt(cmd, words[i] + 2);
            if (o && o->type != OPT_BOOL && !strchr(words[i], '='))
                i++;
            continue;
        }
        bare++;
    }
    for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
        if (o->type == OPT_BOOL || o->type == OPT_NAMED || given(words, n, o->name))
            continue;
        if (o->type == OPT_REST || o->type == OPT_LIST || bare-- == 0)
            return o;
    }
    return NULL;
}

static void
add_domains(struct collect *c, domus_conn *conn)
{
    domus_domain **doms = domus_list_domains(conn, 0, NULL);
    for (domus_domain **d = doms; d && *d; d++)
        add(c, domus_domain_get_name(*d));
    domus_domain_list_free(doms);
}

static void
add_pools(struct collect *c, domus_conn *conn)
{
    domus_pool **pools = domus_list_pools(conn, 0, NULL);
    for (domus_pool **p = pools; p && *p; p++)
        add(c, domus_pool_get_name(*p));
    domus_pool_list_free(pools);
}

static void
add_volumes(struct collect *c, domus_conn *conn, const char *pool_name)
{
    domus_pool *pool = pool_name ? domus_pool_lookup_by_name(conn, pool_name, NULL) : NULL;
    domus_vol **vols = pool ? domus_pool_list_volumes(pool, NULL) : NULL;
    for (domus_vol **v = vols; v && *v; v++)
        add(c, domus_vol_get_name(*v));
    domus_vol_list_free(vols);
    domus_pool_free(pool);
}

static void
add_networks(struct collect *c, domus_conn *conn)
{
    domus_network **nets = domus_list_networks(conn, 0, NULL);
    for (domus_network **n = nets; n && *n; n++)
        add(c, domus_network_get_name(*n));
    domus_network_list_free(nets);
}

static void
add_snapshots(struct collect *c, domus_conn *conn, const char *dom_name)
{
    g_autoptr(domus_domain) dom = dom_name ? domus_domain_lookup(conn, dom_name, NULL) : NULL;
    g_auto(GStrv) names = dom ? domus_snapshot_list(dom, NULL, 0, NULL) : NULL;
    for (char **s = names; s && *s; s++)
        add(c, *s);
}

static void
add_secrets(struct collect *c, domus_conn *conn)
{
    domus_secret **secrets = domus_list_secrets(conn, 0, NULL);
    for (domus_secret **s = secrets; s && *s; s++) {
        add(c, domus_secret_get_uuid(*s));
        domus_secret_free(*s);
    }
    g_free(secrets);
}

static void
add_node_devices(struct collect *c, domus_conn *conn)
{
    g_auto(GStrv) names = domus_list_node_devices(conn, 0, NULL);
    for (char **s = names; s && *s; s++)
        add(c, *s);
}

/* Live names for option O of CMD (WORDS: its arguments so far); nothing for free text and
 * files (bash then offers file names). */
static void
add_values(struct cli_ctx *ctx, struct collect *c, const struct cli_cmd *cmd,
           const struct cli_opt *o, char **words, int n)
{
    if (g_str_equal(cmd->name, "help") && g_str_equal(o->name, "command")) {
        cli_each_cmd(add_command, c);
        return;
    }
    static const char *const kinds[] = {"domain",   "pool",   "vol",    "network",
                                        "snapshot", "secret", "device", NULL};
    const char *name = o->name;
    if (g_str_equal(name, "snapshotname"))
        name = "snapshot";
    if (g_str_equal(name, "net"))
        name = "network";
    if (!g_strv_contains(kinds, name))
        return;
    domus_conn *conn = cli_conn(ctx, NULL);
    if (!conn)
        return;
    if (g_str_equal(name, "domain"))
        add_domains(c, conn);
    else if (g_str_equal(name, "pool"))
        add_pools(c, conn);
    else if (g_str_equal(name, "vol"))
        add_volumes(c, conn, given(words, n, "pool"));
    else if (g_str_equal(name, "network"))
        add_networks(c, conn);
    else if (g_str_equal(name, "secret"))
        add_secrets(c, conn);
    else if (g_str_equal(name, "device"))
        add_node_devices(c, conn);
    else {
        /* the domain given by --domain or as the first bare word */
        const char *dom = given(words, n, "domain");
        for (int i = 0; !dom && i < n; i++)
            if (!g_str_has_prefix(words[i], "-"))
                dom = words[i];
        add_snapshots(c, conn, dom);
    }
}

char **
cli_complete(struct cli_ctx *ctx, char **words, int n, const char *partial)
{
    struct collect c = {partial, g_ptr_array_new_with_free_func(g_free)};
    if (n == 0) {
        cli_each_cmd(add_command, &c);
    } else {
        const struct cli_cmd *cmd = cli_find_cmd(words[0]);
        if (cmd && g_str_has_prefix(partial, "-")) {
            for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
                g_autofree char *flag = g_strconcat("--", o->name, NULL);
                if (o->type == OPT_LIST || !given(words + 1, n, o->name))
                    add(&c, flag);
            }
            if (!g_ptr_array_find_with_equal_func(c.out, "--help", g_str_equal, NULL))
                add(&c, "--help");
        } else if (cmd) {
            const struct cli_opt *o = option_at(cmd, words + 1, n - 1);
            if (o)
                add_values(ctx, &c, cmd, o, words + 1, n - 1);
        }
    }
    g_ptr_array_sort(c.out, (GCompareFunc)cli_compare_strings);
    g_ptr_array_add(c.out, NULL);
    return (char **)g_ptr_array_free(c.out, FALSE);
}

int
cli_compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean
cmd_complete(struct cli_ctx *ctx, GError **error)
{
    g_auto(GStrv) words = cli_get_list(ctx, "string");
    int n = (int)g_strv_length(words);
    /* the last word is the one being completed (empty: a new word) */
    const char *partial = n > 0 ? words[n - 1] : "";
    g_auto(GStrv) out = cli_complete(ctx, words, n > 0 ? n - 1 : 0, partial);
    for (char **w = out; *w; w++)
        printf("%s\n", *w);
    return TRUE;
}

static const struct cli_opt complete_opts[] = {
    {"string", OPT_LIST, FALSE, "partial string to complete"},
    {NULL},
};

const struct cli_cmd cli_complete_cmds[] = {
    {"complete", cmd_complete, complete_opts, "internal command for autocompletion"},
    {NULL},
};
