/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host commands: uri, version, hostname, capabilities, sysinfo, nodeinfo, nodecpumap,
 * nodecpustats, nodememstats, freecell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static gboolean
cmd_domcapabilities(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_autofree char *caps =
        domus_get_domain_capabilities(conn, cli_get(ctx, "emulatorbin"), cli_get(ctx, "arch"),
                                      cli_get(ctx, "machine"), cli_get(ctx, "virttype"), error);
    if (!caps) {
        cli_report("failed to get emulator capabilities");
        return FALSE;
    }
    printf("%s\n\n", caps); /* virsh's line and its empty line after a command */
    return TRUE;
}

/* --- node devices --- */

/* virNodeDevCapType names, in the order of their virConnectListAllNodeDeviceFlags bits */
static const char *const nodedev_caps[] = {
    "system",      "pci",        "usb_device", "usb",     "net",    "scsi_host",
    "scsi_target", "scsi",       "storage",    "fc_host", "vports", "scsi_generic",
    "drm",         "mdev_types", "mdev",       "ccw",     "css",    "vdpa",
    "ap_card",     "ap_queue",   "ap_matrix",  "vpd",     NULL,
};
#define NODEDEV_INACTIVE (1u << 30)
#define NODEDEV_ACTIVE (1u << 31)

struct tree {
    char **names;
    char **parents;
    guint n;
};

/* vshTreePrint's drawing */
static void
tree_print(const struct tree *t, guint dev, guint last, gboolean root, GString *indent)
{
    printf("%s%s%s\n", indent->str, root ? "" : "+- ", t->names[dev]);
    if (!root)
        g_string_append(indent, dev == last ? "  " : "| ");
    int next_last = -1;
    for (guint i = 0; i < t->n; i++)
        if (t->parents[i] && g_str_equal(t->parents[i], t->names[dev]))
            next_last = (int)i;
    if (next_last != -1)
        printf("%s  |\n", indent->str);
    g_string_append(indent, "  ");
    for (guint i = 0; i < t->n; i++)
        if (t->parents[i] && g_str_equal(t->parents[i], t->names[dev]))
            tree_print(t, i, (guint)next_last, FALSE, indent);
    g_string_truncate(indent, indent->len - 2);
    if (next_last == -1 && dev == last)
        printf("%s\n", indent->str);
    if (!root)
        g_string_truncate(indent, indent->len - 2);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(*(char *const *)a, *(char *const *)b);
}

static gboolean
cmd_nodedev_list(struct cli_ctx *ctx, GError **error)
{
    const char *cap_text = cli_get(ctx, "cap");
    gboolean tree = cli_has(ctx, "tree"), inactive = cli_has(ctx, "inactive");
    gboolean all = cli_has(ctx, "all");
    if (all && inactive) {
        cli_set_error(error, "Option --all is incompatible with --inactive");
        return FALSE;
    }
    if (tree && (cap_text || inactive)) {
        cli_set_error(error, "Option --tree is incompatible with --cap and --inactive");
        return FALSE;
    }
    unsigned flags = 0;
    g_auto(GStrv) caps = cap_text ? g_strsplit(cap_text, ",", -1) : NULL;
    for (guint i = 0; caps && caps[i]; i++) {
        int bit = -1;
        for (int c = 0; nodedev_caps[c]; c++)
            if (g_str_equal(g_strstrip(caps[i]), nodedev_caps[c]))
                bit = c;
        if (bit < 0) {
            cli_set_error(error, "Invalid capability type");
            return FALSE;
        }
        flags |= 1u << bit;
    }
    if (inactive || all)
        flags |= NODEDEV_INACTIVE;
    if (!inactive)
        flags |= NODEDEV_ACTIVE;
    domus_conn *conn = cli_conn(ctx, error);
    g_auto(GStrv) names = conn ? domus_list_node_devices(conn, flags, error) : NULL;
    if (!names)
        return FALSE;
    guint n = g_strv_length(names);
    qsort(names, n, sizeof(char *), compare_names);
    if (!tree) {
        for (guint i = 0; i < n; i++)
            printf("%s\n", names[i]);
        printf("\n");
        return TRUE;
    }
    /* not a GStrv: the computer's entry is NULL among the others */
    g_autoptr(GPtrArray) parents_owner = g_ptr_array_new_with_free_func(g_free);
    char **parents = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        if (g_str_equal(names[i], "computer"))
            continue;
        g_autoptr(GError) perr = NULL;
        parents[i] = domus_node_device_get_parent(conn, names[i], &perr);
    }
    struct tree t = {names, parents, n};
    g_autoptr(GString) indent = g_string_new(NULL);
    for (guint i = 0; i < n; i++)
        if (!parents[i])
            tree_print(&t, i, i, TRUE, indent);
    printf("\n");
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(parents_owner, parents[i]);
    g_free(parents);
    return TRUE;
}

static gboolean
cmd_nodedev_dumpxml(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    const char *name = cli_get(ctx, "device");
    g_autofree char *xml = conn ? domus_node_device_get_xml(conn, name, error) : NULL;
    if (!xml) {
        if (conn)
            cli_report("Could not find matching device '%s'", name);
        return FALSE;
    }
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_cpu_models(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_auto(GStrv) models = domus_connect_get_cpu_model_names(conn, cli_get(ctx, "arch"), error);
    if (!models) {
        cli_report("failed to get CPU model names");
        return FALSE;
    }
    if (!models[0])
        printf("all CPU models are accepted\n");
    for (char **m = models; *m; m++)
        printf("%s\n", *m);
    printf("\n");
    return TRUE;
}

static const struct cli_opt cpu_models_opts[] = {
    {"arch", OPT_DATA, TRUE, "architecture"},
    {NULL},
};

/* nodedev-detach, -reattach, -reset: the device looked up first, as virsh does */
static gboolean
nodedev_action(struct cli_ctx *ctx, int action, GError **error)
{
    static const char *const done[] = {"detached", "re-attached", "reset"};
    static const char *const verbs[] = {"detach", "re-attach", "reset"};
    domus_conn *conn = cli_conn(ctx, error);
    const char *name = cli_get(ctx, "device");
    g_autofree char *xml = conn ? domus_node_device_get_xml(conn, name, error) : NULL;
    if (!xml) {
        if (conn)
            cli_report("Could not find matching device '%s'", name);
        return FALSE;
    }
    gboolean ok = action == 0 ? domus_node_device_detach(conn, name, cli_get(ctx, "driver"), error)
                  : action == 1 ? domus_node_device_reattach(conn, name, error)
                                : domus_node_device_reset(conn, name, error);
    if (!ok) {
        cli_report("Failed to %s device %s", verbs[action], name);
        return FALSE;
    }
    printf("Device %s %s\n\n", name, done[action]);
    return TRUE;
}

static gboolean
cmd_nodedev_detach(struct cli_ctx *ctx, GError **error)
{
    return nodedev_action(ctx, 0, error);
}

static gboolean
cmd_nodedev_reattach(struct cli_ctx *ctx, GError **error)
{
    return nodedev_action(ctx, 1, error);
}

static gboolean
cmd_nodedev_reset(struct cli_ctx *ctx, GError **error)
{
    return nodedev_action(ctx, 2, error);
}

/* As virsh's vshFindNodeDevice: the device NAME, looked up; FALSE (reported) when there is
 * none */
static gboolean
nodedev_exists(domus_conn *conn, const char *name, GError **error)
{
    g_autofree char *xml = domus_node_device_get_xml(conn, name, error);
    if (!xml)
        cli_report("Could not find matching device '%s'", name);
    return xml != NULL;
}

static gboolean
cmd_nodedev_info(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    const char *name = cli_get(ctx, "device");
    if (!conn || !nodedev_exists(conn, name, error))
        return FALSE;
    g_autofree char *parent = domus_node_device_get_parent(conn, name, NULL);
    /* as virsh: a failed query is not an answer of "no" for the first two */
    int active = domus_node_device_is_active(conn, name, NULL);
    int persistent = domus_node_device_is_persistent(conn, name, NULL);
    int autostart = domus_node_device_get_autostart(conn, name, NULL);
    printf("%-15s %s\n", "Name:", name);
    printf("%-15s %s\n", "Parent:", parent ? parent : "");
    printf("%-15s %s\n", "Active:", active ? "yes" : "no");
    printf("%-15s %s\n", "Persistent:", persistent ? "yes" : "no");
    printf("%-15s %s\n\n", "Autostart:", autostart < 0 ? "no autostart" : autostart ? "yes" : "no");
    return TRUE;
}

static gboolean
cmd_nodesevinfo(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_auto(GStrv) params = conn ? domus_node_sev_info(conn, error) : NULL;
    if (!params) {
        if (conn)
            cli_report("Unable to get host SEV information");
        return FALSE;
    }
    for (guint i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-18s: %s\n", params[i], params[i + 1]);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_nodedev_autostart(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    const char *name = cli_get(ctx, "device");
    gboolean on = !cli_has(ctx, "disable");
    if (!conn || !nodedev_exists(conn, name, error))
        return FALSE;
    if (!domus_node_device_set_autostart(conn, name, on, error)) {
        cli_report(on ? "failed to mark device %s as autostarted"
                      : "failed to unmark device %s as autostarted",
                   name);
        return FALSE;
    }
    printf(on ? "Device %s marked as autostarted\n\n" : "Device %s unmarked as autostarted\n\n",
           name);
    return TRUE;
}

static const struct cli_opt nodedev_autostart_opts[] = {
    {"device", OPT_DATA, TRUE, "device name or wwn pair in 'wwnn,wwpn' format"},
    {"disable", OPT_BOOL, FALSE, "disable autostarting"},
    {NULL},
};

static const struct cli_opt nodedev_detach_opts[] = {
    {"device", OPT_DATA, TRUE, "device key"},
    {"driver", OPT_NAMED, FALSE, "pci device assignment backend driver (e.g. 'vfio' or 'xen')"},
    {NULL},
};

static const struct cli_opt nodedev_device_opts[] = {
    {"device", OPT_DATA, TRUE, "device key"},
    {NULL},
};
static const struct cli_opt nodedev_info_opts[] = {
    {"device", OPT_DATA, TRUE, "device name or wwn pair in 'wwnn,wwpn' format"},
    {NULL},
};

/* --- host interfaces --- */

static gboolean
is_mac(const char *s)
{
    guint8 b[6];
    return strlen(s) == 17 && sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx", &b[0], &b[1], &b[2],
                                     &b[3], &b[4], &b[5]) == 6;
}

/* The interface OPT names (BY_NAME and/or BY_MAC), or NULL after virsh's message */
static struct domus_iface *
cli_iface(struct cli_ctx *ctx, const char *opt, gboolean by_name, gboolean by_mac,
          domus_conn **ret_conn, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return NULL;
    const char *n = cli_get(ctx, opt);
    gboolean mac = is_mac(n);
    struct domus_iface *f = NULL;
    if (!mac && by_name)
        f = domus_iface_lookup(conn, n, NULL, error);
    else if (mac && by_mac)
        f = domus_iface_lookup(conn, NULL, n, error);
    if (!f)
        cli_report("failed to get interface '%s'", n);
    *ret_conn = conn;
    return f;
}

static int
compare_ifaces(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp((*(struct domus_iface *const *)a)->name,
                              (*(struct domus_iface *const *)b)->name);
}

static gboolean
cmd_iface_list(struct cli_ctx *ctx, GError **error)
{
    unsigned flags = cli_has(ctx, "all") ? 3 : cli_has(ctx, "inactive") ? 1 : 2;
    domus_conn *conn = cli_conn(ctx, error);
    g_autoptr(GPtrArray) all = conn ? domus_list_interfaces(conn, flags, error) : NULL;
    if (!all)
        return FALSE;
    g_ptr_array_sort(all, compare_ifaces);
    g_autoptr(GPtrArray) rows = cli_table_new("Name", "State", "MAC Address", NULL);
    for (guint i = 0; i < all->len; i++) {
        const struct domus_iface *f = all->pdata[i];
        int active = domus_iface_is_active(conn, f, NULL);
        cli_table_add(rows, g_strdup(f->name), g_strdup(active == 1 ? "active" : "inactive"),
                      g_strdup(f->mac), NULL);
    }
    cli_table_print(rows);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_iface_dumpxml(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = NULL;
    struct domus_iface *f = cli_iface(ctx, "interface", TRUE, TRUE, &conn, error);
    g_autofree char *xml = f ? domus_iface_get_xml(conn, f, error) : NULL;
    domus_iface_free(f);
    if (!xml)
        return FALSE;
    printf("%s\n", xml);
    return TRUE;
}

static gboolean
cmd_iface_name(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = NULL;
    struct domus_iface *f = cli_iface(ctx, "interface", FALSE, TRUE, &conn, error);
    if (!f)
        return FALSE;
    printf("%s\n\n", f->name);
    domus_iface_free(f);
    return TRUE;
}

static gboolean
cmd_iface_mac(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = NULL;
    struct domus_iface *f = cli_iface(ctx, "interface", TRUE, FALSE, &conn, error);
    if (!f)
        return FALSE;
    printf("%s\n\n", f->mac);
    domus_iface_free(f);
    return TRUE;
}

/* freepages --all: the host's page sizes (host/cpu/pages) and cell ids from the capabilities */
struct caps_pages {
    GArray *sizes; /* guint */
    GArray *cells; /* int */
    int depth_cpu; /* inside host/cpu: its depth; 0: not */
    int depth;
};

static void
pages_start(GMarkupParseContext *pc, const char *name, const char **attrs, const char **values,
            gpointer user, GError **error)
{
    struct caps_pages *cp = user;
    cp->depth++;
    const GSList *stack = g_markup_parse_context_get_element_stack(pc);
    const char *parent = stack->next ? stack->next->data : "";
    if (g_str_equal(name, "cpu") && g_str_equal(parent, "host"))
        cp->depth_cpu = cp->depth;
    for (int i = 0; attrs[i]; i++) {
        guint64 v = 0;
        if (cp->depth_cpu && cp->depth == cp->depth_cpu + 1 && g_str_equal(name, "pages") &&
            g_str_equal(attrs[i], "size") &&
            g_ascii_string_to_unsigned(values[i], 10, 1, G_MAXUINT, &v, NULL)) {
            guint size = (guint)v;
            g_array_append_val(cp->sizes, size);
        }
        if (g_str_equal(name, "cell") && g_str_equal(parent, "cells") &&
            g_str_equal(attrs[i], "id") &&
            g_ascii_string_to_unsigned(values[i], 10, 0, G_MAXINT, &v, NULL)) {
            int id = (int)v;
            g_array_append_val(cp->cells, id);
        }
    }
}

static void
pages_end(GMarkupParseContext *pc, const char *name, gpointer user, GError **error)
{
    struct caps_pages *cp = user;
    if (cp->depth == cp->depth_cpu)
        cp->depth_cpu = 0;
    cp->depth--;
}

static gboolean
print_free_pages(domus_conn *conn, const guint *sizes, guint n, int cell, gboolean all,
                 GError **error)
{
    g_autofree guint64 *counts = NULL;
    int got = domus_node_free_pages(conn, sizes, n, cell, 1, &counts, error);
    if (got < 0)
        return FALSE;
    if (all)
        printf("Node %d:\n", cell);
    for (guint j = 0; j < n && j < (guint)got; j++)
        printf("%uKiB: %" G_GUINT64_FORMAT "\n", sizes[j], counts[j]);
    if (all)
        printf("\n");
    return TRUE;
}

/* The host's page sizes and cell ids from its capabilities: FALSE with ERROR (virsh's words) */
static gboolean
read_caps_pages(domus_conn *conn, GArray **ret_sizes, GArray **ret_cells, GError **error)
{
    g_autofree char *caps = domus_get_capabilities(conn, error);
    if (!caps) {
        cli_report("unable to get node capabilities");
        return FALSE;
    }
    struct caps_pages cp = {g_array_new(FALSE, FALSE, sizeof(guint)),
                            g_array_new(FALSE, FALSE, sizeof(int))};
    static const GMarkupParser parser = {pages_start, pages_end, NULL, NULL, NULL};
    GMarkupParseContext *pc = g_markup_parse_context_new(&parser, 0, &cp, NULL);
    gboolean parsed = g_markup_parse_context_parse(pc, caps, -1, NULL) &&
                      g_markup_parse_context_end_parse(pc, NULL);
    g_markup_parse_context_free(pc);
    if (!parsed) {
        g_array_unref(cp.sizes);
        g_array_unref(cp.cells);
        cli_set_error(error, "unable to get node capabilities");
        return FALSE;
    }
    *ret_sizes = cp.sizes;
    *ret_cells = cp.cells;
    return TRUE;
}

/* virsh's scaled page size (KiB by default) of option NAME */
static gboolean
page_size_opt(struct cli_ctx *ctx, guint *ret_kib, GError **error)
{
    const char *text = cli_get(ctx, "pagesize");
    guint64 bytes = 0;
    g_autoptr(GError) scale_error = NULL;
    if (text && !cli_parse_scaled(text, 1024, &bytes, &scale_error)) {
        /* virsh's line, then the cause when there is one (a bad suffix, an overflow) */
        if (!scale_error) {
            cli_set_error(error,
                          "Scaled numeric value '%s' for <pagesize> option is malformed or out "
                          "of range",
                          text);
            return FALSE;
        }
        cli_report("Scaled numeric value '%s' for <pagesize> option is malformed or out of range",
                   text);
        g_propagate_error(error, g_steal_pointer(&scale_error));
        return FALSE;
    }
    *ret_kib = (guint)((bytes + 1023) / 1024);
    return TRUE;
}

/* --cellno of freepages and allocpages (exclusive with --all): *RET the cell, -1 when not
 * given; *RET_GIVEN whether it was */
static gboolean
cell_opt(struct cli_ctx *ctx, gint64 *ret, gboolean *ret_given, GError **error)
{
    const char *cellno = cli_get(ctx, "cellno");
    if (cli_has(ctx, "all") && cellno) {
        cli_set_error(error, "Options --all and --cellno are mutually exclusive");
        return FALSE;
    }
    *ret = -1;
    *ret_given = cellno != NULL;
    if (cellno && !g_ascii_string_to_signed(cellno, 10, G_MININT32, G_MAXINT32, ret, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <cellno> option is malformed or out of range",
                      cellno);
        return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_freepages(struct cli_ctx *ctx, GError **error)
{
    gboolean all = cli_has(ctx, "all"), given = FALSE;
    gint64 cell = -1;
    guint kib = 0;
    if (!cell_opt(ctx, &cell, &given, error) || !page_size_opt(ctx, &kib, error))
        return FALSE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    if (all) {
        g_autoptr(GArray) sizes = NULL;
        g_autoptr(GArray) cells = NULL;
        if (!read_caps_pages(conn, &sizes, &cells, error))
            return FALSE;
        if (cli_get(ctx, "pagesize")) {
            g_array_set_size(sizes, 0);
            g_array_append_val(sizes, kib);
        } else if (sizes->len == 0) {
            cli_set_error(error, "could not get information about supported page sizes");
            return FALSE;
        }
        for (guint i = 0; i < cells->len; i++)
            if (!print_free_pages(conn, (guint *)sizes->data, sizes->len,
                                  g_array_index(cells, int, i), TRUE, error))
                return FALSE;
        printf("\n");
        return TRUE;
    }
    if (!given) {
        cli_set_error(error, "missing cellno argument");
        return FALSE;
    }
    if (cell < -1) {
        cli_set_error(error, "cell number must be non-negative integer or -1");
        return FALSE;
    }
    if (!cli_get(ctx, "pagesize")) {
        cli_set_error(error, "missing pagesize argument");
        return FALSE;
    }
    if (!print_free_pages(conn, &kib, 1, (int)cell, FALSE, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

/* allocpages: one size's pool, in a cell (--cellno), in each (--all) or the host's */
static gboolean
cmd_allocpages(struct cli_ctx *ctx, GError **error)
{
    gboolean all = cli_has(ctx, "all"), given = FALSE;
    gint64 start = -1;
    guint kib = 0;
    guint64 count = 0;
    if (!cell_opt(ctx, &start, &given, error) || !page_size_opt(ctx, &kib, error) ||
        !cli_get_u64(ctx, "pagecount", &count, error))
        return FALSE;
    unsigned flags = cli_has(ctx, "add") ? 0 : 1 /* VIR_NODE_ALLOC_PAGES_SET */;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    if (all) {
        g_autoptr(GArray) sizes = NULL;
        g_autoptr(GArray) cells = NULL;
        if (!read_caps_pages(conn, &sizes, &cells, error))
            return FALSE;
        for (guint i = 0; i < cells->len; i++)
            if (domus_node_alloc_pages(conn, kib, count, g_array_index(cells, int, i), 1, flags,
                                       error) < 0)
                return FALSE;
    } else if (domus_node_alloc_pages(conn, kib, count, (int)start, 1, flags, error) < 0) {
        return FALSE;
    }
    printf("\n");
    return TRUE;
}

/* node-memory-tune: KSM's fields, or a change of its tunables */
static gboolean
cmd_node_memory_tune(struct cli_ctx *ctx, GError **error)
{
    static const char *const opts[] = {"shm-pages-to-scan", "shm-sleep-millisecs",
                                       "shm-merge-across-nodes"};
    static const char *const fields[] = {"shm_pages_to_scan", "shm_sleep_millisecs",
                                         "shm_merge_across_nodes"};
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    for (gsize i = 0; i < G_N_ELEMENTS(opts); i++) {
        const char *text = cli_get(ctx, opts[i]);
        guint64 v = 0;
        if (!text)
            continue;
        if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &v, NULL)) {
            cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                          text, opts[i]);
            return FALSE;
        }
        g_ptr_array_add(want, g_strdup(fields[i]));
        g_ptr_array_add(want, g_strdup_printf("%" G_GUINT64_FORMAT, v));
    }
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_node_set_memory_params(conn, (const char *const *)want->pdata, error)) {
            cli_report("Unable to change memory parameters");
            return FALSE;
        }
        printf("\n");
        return TRUE;
    }
    g_auto(GStrv) params = domus_node_memory_params(conn, error);
    if (!params) {
        cli_report("Unable to get memory parameters");
        return FALSE;
    }
    printf("Shared memory:\n");
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("\t%-15s %s\n", params[i], params[i + 1]);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_sysinfo(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_autofree char *text = conn ? domus_get_sysinfo(conn, error) : NULL;
    if (!text) {
        cli_report("failed to get sysinfo");
        return FALSE;
    }
    printf("%s\n", text);
    return TRUE;
}

static gboolean
cmd_nodeinfo(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    struct domus_node_info info;
    if (!conn || !domus_node_info(conn, &info, error)) {
        cli_report("failed to get node information");
        return FALSE;
    }
    printf("%-20s %s\n", "CPU model:", info.model);
    printf("%-20s %d\n", "CPU(s):", info.cpus);
    if (info.mhz)
        printf("%-20s %d MHz\n", "CPU frequency:", info.mhz);
    printf("%-20s %d\n", "CPU socket(s):", info.sockets);
    printf("%-20s %d\n", "Core(s) per socket:", info.cores);
    printf("%-20s %d\n", "Thread(s) per core:", info.threads);
    printf("%-20s %d\n", "NUMA cell(s):", info.nodes);
    printf("%-20s %" G_GUINT64_FORMAT " KiB\n\n", "Memory size:", info.memory_kib);
    return TRUE;
}

static gboolean
cmd_nodecpumap(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_autofree guint8 *map = NULL;
    unsigned online = 0;
    int n = conn ? domus_node_cpu_map(conn, &map, &online, error) : -1;
    if (n < 0) {
        cli_report("Unable to get cpu map");
        return FALSE;
    }
    printf("%-15s %d\n", "CPUs present:", n);
    printf("%-15s %u\n", "CPUs online:", online);
    printf("%-15s ", "CPU map:");
    if (cli_has(ctx, "pretty")) {
        /* virBitmapDataFormat: ranges, "0-3,5" */
        GString *text = g_string_new(NULL);
        for (int c = 0; c < n;) {
            if (!(map[c / 8] & (1u << (c % 8)))) {
                c++;
                continue;
            }
            int end = c;
            while (end + 1 < n && (map[(end + 1) / 8] & (1u << ((end + 1) % 8))))
                end++;
            g_string_append_printf(text, "%s%d", text->len ? "," : "", c);
            if (end > c)
                g_string_append_printf(text, "-%d", end);
            c = end + 1;
        }
        printf("%s", text->str);
        g_string_free(text, TRUE);
    } else {
        for (int c = 0; c < n; c++)
            putchar(map[c / 8] & (1u << (c % 8)) ? 'y' : '-');
    }
    printf("\n\n");
    return TRUE;
}

/* an --NAME number as virsh's vshCommandOptInt reads it (DEF when absent) */
static gboolean
opt_int(struct cli_ctx *ctx, const char *name, int def, int *ret, GError **error)
{
    const char *text = cli_get(ctx, name);
    gint64 v = def;
    if (text && !g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32, &v, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                      text, name);
        return FALSE;
    }
    *ret = (int)v;
    return TRUE;
}

static gboolean
cmd_nodecpustats(struct cli_ctx *ctx, GError **error)
{
    /* libvirt's fields and virsh's labels, in virsh's order */
    static const char *const fields[] = {"user", "kernel", "idle", "iowait", "intr"};
    static const char *const labels[] = {"user:", "system:", "idle:", "iowait:", "intr:"};
    guint64 v[5] = {0};
    gboolean present[5] = {FALSE};
    int cpu = -1;
    gboolean percent = cli_has(ctx, "percent");
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn || !opt_int(ctx, "cpu", -1, &cpu, error))
        return FALSE;
    for (int round = 0; round < (percent ? 2 : 1); round++) {
        if (round)
            sleep(1);
        g_auto(GStrv) params = domus_node_stats(conn, FALSE, cpu, error);
        if (!params) {
            cli_report("Unable to get node cpu stats");
            return FALSE;
        }
        for (int i = 0; params[i] && params[i + 1]; i += 2) {
            guint64 x = g_ascii_strtoull(params[i + 1], NULL, 10);
            for (int k = 0; k < 5; k++) {
                if (!g_str_equal(params[i], fields[k]))
                    continue;
                if (round == 0) {
                    v[k] = x;
                    present[k] = TRUE;
                } else if (present[k]) {
                    v[k] = x - v[k];
                }
            }
        }
    }
    if (!percent) {
        for (int k = 0; k < 5; k++)
            if (present[k])
                printf("%-15s %20" G_GUINT64_FORMAT "\n", labels[k], v[k]);
        printf("\n");
        return TRUE;
    }
    double total = 0;
    for (int k = 0; k < 5; k++)
        total += (double)v[k];
    printf("%-15s %5.1lf%%\n", "usage:", (double)(v[0] + v[1]) / total * 100);
    for (int k = 0; k < 5; k++)
        if (present[k])
            printf("%-15s %5.1lf%%\n", labels[k], (double)v[k] / total * 100);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_nodememstats(struct cli_ctx *ctx, GError **error)
{
    int cell = -1;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn || !opt_int(ctx, "cell", -1, &cell, error))
        return FALSE;
    g_auto(GStrv) params = domus_node_stats(conn, TRUE, cell, error);
    if (!params) {
        cli_report("Unable to get memory stats");
        return FALSE;
    }
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-7s: %20s KiB\n", params[i], params[i + 1]);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_freecell(struct cli_ctx *ctx, GError **error)
{
    int cell = -1;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn || !opt_int(ctx, "cellno", -1, &cell, error))
        return FALSE;
    if (cli_has(ctx, "all") && cli_get(ctx, "cellno")) {
        cli_set_error(error, "Options --all and --cellno are mutually exclusive");
        return FALSE;
    }
    if (cli_has(ctx, "all")) {
        g_autofree guint64 *cells = NULL;
        int n = domus_node_cells_free(conn, 0, 1024, &cells, error);
        if (n < 0)
            return FALSE;
        guint64 total = 0;
        for (int i = 0; i < n; i++) {
            printf("%5d: %10" G_GUINT64_FORMAT " KiB\n", i, cells[i] / 1024);
            total += cells[i];
        }
        printf("--------------------\n%5s: %10" G_GUINT64_FORMAT " KiB\n\n", "Total", total / 1024);
        return TRUE;
    }
    guint64 bytes = 0;
    if (cli_get(ctx, "cellno")) {
        g_autofree guint64 *cells = NULL;
        if (domus_node_cells_free(conn, cell, 1, &cells, error) != 1)
            return FALSE;
        printf("%d: %" G_GUINT64_FORMAT " KiB\n\n", cell, cells[0] / 1024);
        return TRUE;
    }
    if (!domus_node_free_memory(conn, &bytes, error))
        return FALSE;
    printf("%s: %" G_GUINT64_FORMAT " KiB\n\n", "Total", bytes / 1024);
    return TRUE;
}

static gboolean
cmd_maxvcpus(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    int n = conn ? domus_get_max_vcpus(conn, cli_get(ctx, "type"), error) : -1;
    if (n < 0)
        return FALSE;
    printf("%d\n\n", n);
    return TRUE;
}

static const struct cli_opt no_opts[] = {{NULL}};
static const struct cli_opt allocpages_opts[] = {
    {"pagesize", OPT_STRING, TRUE, "page size (in kibibytes)"},
    {"pagecount", OPT_STRING, TRUE, "page count"},
    {"cellno", OPT_STRING, FALSE, "NUMA cell number"},
    {"add", OPT_BOOL, FALSE, "instead of setting new pool size add pages to it"},
    {"all", OPT_BOOL, FALSE, "set on all NUMA cells"},
    {NULL},
};
static const struct cli_opt node_memory_tune_opts[] = {
    {"shm-pages-to-scan", OPT_NAMED, FALSE,
     "number of pages to scan before the shared memory "
     "service goes to sleep"},
    {"shm-sleep-millisecs", OPT_NAMED, FALSE,
     "number of millisecs the shared memory service "
     "should sleep before next scan"},
    {"shm-merge-across-nodes", OPT_NAMED, FALSE,
     "Specifies if pages from different numa nodes can be merged"},
    {NULL},
};
static const struct cli_opt freepages_opts[] = {
    {"cellno", OPT_STRING, FALSE, "NUMA cell number"},
    {"pagesize", OPT_STRING, FALSE, "page size (in kibibytes)"},
    {"all", OPT_BOOL, FALSE, "show free pages for all NUMA cells"},
    {NULL},
};
static const struct cli_opt maxvcpus_opts[] = {
    {"type", OPT_STRING, FALSE, "domain type"},
    {NULL},
};
static const struct cli_opt nodecpumap_opts[] = {
    {"pretty", OPT_BOOL, FALSE, "return human readable output"},
    {NULL},
};
static const struct cli_opt nodecpustats_opts[] = {
    {"cpu", OPT_STRING, FALSE, "prints specified cpu statistics only."},
    {"percent", OPT_BOOL, FALSE, "prints by percentage during 1 second."},
    {NULL},
};
static const struct cli_opt nodememstats_opts[] = {
    {"cell", OPT_STRING, FALSE, "prints specified cell statistics only."},
    {NULL},
};
static const struct cli_opt freecell_opts[] = {
    {"cellno", OPT_STRING, FALSE, "NUMA cell number"},
    {"all", OPT_BOOL, FALSE, "show free memory for all NUMA cells"},
    {NULL},
};

static const struct cli_opt iface_list_opts[] = {
    {"inactive", OPT_BOOL, FALSE, "list inactive interfaces"},
    {"all", OPT_BOOL, FALSE, "list inactive & active interfaces"},
    {NULL},
};
static const struct cli_opt iface_opts[] = {
    {"interface", OPT_DATA, TRUE, "interface name or MAC address"},
    {NULL},
};
static const struct cli_opt iface_dumpxml_opts[] = {
    {"interface", OPT_DATA, TRUE, "interface name or MAC address"},
    {"inactive", OPT_BOOL, FALSE, "show inactive defined XML"},
    {NULL},
};
static const struct cli_opt nodedev_list_opts[] = {
    {"tree", OPT_BOOL, FALSE, "list devices in a tree"},
    {"cap", OPT_STRING, FALSE, "capability names, separated by comma"},
    {"inactive", OPT_BOOL, FALSE, "list inactive devices"},
    {"all", OPT_BOOL, FALSE, "list inactive & active devices"},
    {NULL},
};
static const struct cli_opt nodedev_dumpxml_opts[] = {
    {"device", OPT_DATA, TRUE, "device name or wwn pair in 'wwnn,wwpn' format"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt domcapabilities_opts[] = {
    {"virttype", OPT_STRING, FALSE, "virtualization type (/domain/@type)"},
    {"emulatorbin", OPT_STRING, FALSE, "path to emulator binary (/domain/devices/emulator)"},
    {"arch", OPT_STRING, FALSE, "domain architecture (/domain/os/type/@arch)"},
    {"machine", OPT_STRING, FALSE, "machine type (/domain/os/type/@machine)"},
    {NULL},
};

static const char *const nodedev_lifecycle_names[] = {"Created", "Deleted", "Defined", "Undefined",
                                                      NULL};
static const struct cli_event_kind nodedev_event_kinds[] = {
    {"lifecycle", nodedev_lifecycle_names},
    {"update", NULL},
    {NULL, NULL},
};

static gboolean
cmd_nodedev_event(struct cli_ctx *ctx, GError **error)
{
    int id;
    if (!cli_event_kind(ctx, nodedev_event_kinds, &id, error))
        return FALSE;
    if (id < 0)
        return TRUE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    const char *device = cli_get(ctx, "device");
    if (device) {
        g_autofree char *xml = domus_node_device_get_xml(conn, device, error);
        if (!xml) {
            cli_report("Could not find matching device '%s'", device);
            return FALSE;
        }
    }
    return domus_node_device_event_register(conn, device, id, error) >= 0 &&
           cli_event_loop(ctx, DOMUS_EVENT_NODE_DEVICE, "node device", nodedev_event_kinds, id,
                          error);
}

static const struct cli_opt nodedev_event_opts[] = {
    {"device", OPT_NAMED, FALSE, "filter by node device name"},
    CLI_EVENT_OPTS,
    {NULL},
};

const struct cli_cmd cli_host_cmds[] = {
    {"uri", cmd_uri, no_opts, "print the hypervisor canonical URI"},
    {"version", cmd_version, no_opts, "show version"},
    {"hostname", cmd_hostname, no_opts, "print the hypervisor hostname"},
    {"capabilities", cmd_capabilities, no_opts, "capabilities"},
    {"domcapabilities", cmd_domcapabilities, domcapabilities_opts, "domain capabilities"},
    {"nodedev-list", cmd_nodedev_list, nodedev_list_opts, "enumerate devices on this host"},
    {"nodedev-event", cmd_nodedev_event, nodedev_event_opts, "Node Device Events"},
    {"iface-list", cmd_iface_list, iface_list_opts, "list physical host interfaces"},
    {"iface-dumpxml", cmd_iface_dumpxml, iface_dumpxml_opts, "interface information in XML"},
    {"iface-name", cmd_iface_name, iface_opts,
     "convert an interface MAC address to interface name"},
    {"iface-mac", cmd_iface_mac, iface_opts, "convert an interface name to interface MAC address"},
    {"nodedev-dumpxml", cmd_nodedev_dumpxml, nodedev_dumpxml_opts, "node device details in XML"},
    {"cpu-models", cmd_cpu_models, cpu_models_opts, "CPU models"},
    {"nodedev-detach", cmd_nodedev_detach, nodedev_detach_opts,
     "detach node device from its device driver"},
    {"nodedev-reattach", cmd_nodedev_reattach, nodedev_device_opts,
     "reattach node device to its device driver"},
    {"nodedev-reset", cmd_nodedev_reset, nodedev_device_opts, "reset node device"},
    {"nodedev-info", cmd_nodedev_info, nodedev_info_opts, "node device information"},
    {"nodesevinfo", cmd_nodesevinfo, no_opts, "node SEV information"},
    {"nodedev-autostart", cmd_nodedev_autostart, nodedev_autostart_opts,
     "autostart a defined node device"},
    {"sysinfo", cmd_sysinfo, no_opts, "print the hypervisor sysinfo"},
    {"freepages", cmd_freepages, freepages_opts, "NUMA free pages"},
    {"node-memory-tune", cmd_node_memory_tune, node_memory_tune_opts,
     "Get or set node memory parameters"},
    {"allocpages", cmd_allocpages, allocpages_opts, "Manipulate pages pool size"},
    {"maxvcpus", cmd_maxvcpus, maxvcpus_opts, "connection vcpu maximum"},
    {"nodeinfo", cmd_nodeinfo, no_opts, "node information"},
    {"nodecpumap", cmd_nodecpumap, nodecpumap_opts, "node cpu map"},
    {"nodecpustats", cmd_nodecpustats, nodecpustats_opts, "Prints cpu stats of the node."},
    {"nodememstats", cmd_nodememstats, nodememstats_opts, "Prints memory stats of the node."},
    {"freecell", cmd_freecell, freecell_opts, "NUMA free memory"},
    {NULL},
};
