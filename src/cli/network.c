/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network: virsh's net-* commands, and the interface commands of domains (domiflist,
 * domifaddr, domif-getlink, domif-setlink), with virsh's options and output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_network, domus_network_free)

/* virDomainXMLFlags */
enum { XML_INACTIVE = 2 };

static const char *const update_commands[] = {"none",     "modify",    "delete",
                                              "add-last", "add-first", NULL};
static const char *const update_sections[] = {"none",         "bridge",
                                              "domain",       "ip",
                                              "ip-dhcp-host", "ip-dhcp-range",
                                              "forward",      "forward-interface",
                                              "forward-pf",   "portgroup",
                                              "dns-host",     "dns-txt",
                                              "dns-srv",      NULL};
static const char *const ifaddr_sources[] = {"lease", "agent", "arp", NULL};

static int
lookup(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (g_str_equal(names[i], s))
            return i;
    return -1;
}

/* The "network" option's network, by uuid or name, as virshCommandOptNetwork. */
static domus_network *
cli_network(struct cli_ctx *ctx, GError **error)
{
    const char *ident = cli_get(ctx, "network");
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return NULL;
    g_autoptr(GError) err = NULL;
    domus_network *net = NULL;
    if (strlen(ident) == 36)
        net = domus_network_lookup_by_uuid(conn, ident, &err);
    if (!net) {
        g_clear_error(&err);
        net = domus_network_lookup_by_name(conn, ident, &err);
    }
    if (!net) {
        cli_report("failed to get network '%s'", ident);
        g_propagate_error(error, g_steal_pointer(&err));
    }
    return net;
}

typedef gboolean (*net_fn)(domus_network *net, GError **error);

/* Runs FN on the "network" option's network; OKMSG / FAILMSG take its name as given. */
static gboolean
with_network(struct cli_ctx *ctx, net_fn fn, const char *okmsg, const char *failmsg, GError **error)
{
    const char *name = cli_get(ctx, "network");
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    if (!fn(net, error)) {
        cli_report(failmsg, name);
        return FALSE;
    }
    printf(okmsg, name);
    printf("\n\n");
    return TRUE;
}

static gboolean
cmd_net_start(struct cli_ctx *ctx, GError **error)
{
    return with_network(ctx, domus_network_start, "Network %s started",
                        "Failed to start network %s", error);
}

static gboolean
cmd_net_destroy(struct cli_ctx *ctx, GError **error)
{
    return with_network(ctx, domus_network_destroy, "Network %s destroyed",
                        "Failed to destroy network %s", error);
}

static gboolean
cmd_net_undefine(struct cli_ctx *ctx, GError **error)
{
    return with_network(ctx, domus_network_undefine, "Network %s has been undefined",
                        "Failed to undefine network %s", error);
}

static gboolean
cmd_net_autostart(struct cli_ctx *ctx, GError **error)
{
    const char *name = cli_get(ctx, "network");
    gboolean off = cli_has(ctx, "disable");
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    if (!domus_network_set_autostart(net, !off, error)) {
        cli_report(off ? "failed to unmark network %s as autostarted"
                       : "failed to mark network %s as autostarted",
                   name);
        return FALSE;
    }
    printf(off ? "Network %s unmarked as autostarted\n\n" : "Network %s marked as autostarted\n\n",
           name);
    return TRUE;
}

static gboolean
define_or_create(struct cli_ctx *ctx, gboolean create, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = cli_read_xml_file(file, error);
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    g_autoptr(domus_network) net = create ? domus_network_create_xml(conn, xml, error)
                                          : domus_network_define(conn, xml, error);
    if (!net) {
        cli_report(create ? "Failed to create network from %s" : "Failed to define network from %s",
                   file);
        return FALSE;
    }
    printf(create ? "Network %s created from %s\n\n" : "Network %s defined from %s\n\n",
           domus_network_get_name(net), file);
    return TRUE;
}

static gboolean
cmd_net_define(struct cli_ctx *ctx, GError **error)
{
    return define_or_create(ctx, FALSE, error);
}

static gboolean
cmd_net_create(struct cli_ctx *ctx, GError **error)
{
    return define_or_create(ctx, TRUE, error);
}

static const char *
yes_no(int v, const char *unknown)
{
    return v < 0 ? unknown : v ? "yes" : "no";
}

static gboolean
cmd_net_info(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    printf("%-15s %s\n", "Name:", domus_network_get_name(net));
    printf("%-15s %s\n", "UUID:", domus_network_get_uuid(net));
    printf("%-15s %s\n", "Active:", yes_no(domus_network_is_active(net, NULL), "no"));
    printf("%-15s %s\n", "Persistent:", yes_no(domus_network_is_persistent(net, NULL), "unknown"));
    printf("%-15s %s\n",
           "Autostart:", yes_no(domus_network_get_autostart(net, NULL), "no autostart"));
    g_autofree char *bridge = domus_network_get_bridge_name(net, NULL);
    if (bridge)
        printf("%-15s %s\n", "Bridge:", bridge);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_net_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    g_autofree char *xml = domus_network_get_xml(
        net, cli_has(ctx, "inactive") ? DOMUS_NETWORK_XML_INACTIVE : 0, error);
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_net_uuid(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    printf("%s\n\n", domus_network_get_uuid(net));
    return TRUE;
}

static gboolean
cmd_net_name(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_autoptr(domus_network) net =
        domus_network_lookup_by_uuid(conn, cli_get(ctx, "network"), error);
    if (!net) {
        cli_report("failed to get network '%s'", cli_get(ctx, "network"));
        return FALSE;
    }
    printf("%s\n\n", domus_network_get_name(net));
    return TRUE;
}

static int
compare_networks(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(domus_network_get_name(*(domus_network **)a),
                              domus_network_get_name(*(domus_network **)b));
}

static gboolean
cmd_net_list(struct cli_ctx *ctx, GError **error)
{
    gboolean by_name = cli_has(ctx, "name"), by_uuid = cli_has(ctx, "uuid");
    if (by_name + by_uuid + cli_has(ctx, "table") > 1) {
        cli_set_error(error, "Only one argument from --table, --name and --uuid may be specified.");
        return FALSE;
    }
    unsigned flags = DOMUS_LIST_NETWORKS_ACTIVE;
    if (cli_has(ctx, "inactive"))
        flags = DOMUS_LIST_NETWORKS_INACTIVE;
    if (cli_has(ctx, "all"))
        flags = DOMUS_LIST_NETWORKS_ACTIVE | DOMUS_LIST_NETWORKS_INACTIVE;
    flags |= (cli_has(ctx, "persistent") ? DOMUS_LIST_NETWORKS_PERSISTENT : 0) |
             (cli_has(ctx, "transient") ? DOMUS_LIST_NETWORKS_TRANSIENT : 0) |
             (cli_has(ctx, "autostart") ? DOMUS_LIST_NETWORKS_AUTOSTART : 0) |
             (cli_has(ctx, "no-autostart") ? DOMUS_LIST_NETWORKS_NO_AUTOSTART : 0);
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    domus_network **list = domus_list_networks(conn, flags, error);
    if (!list) {
        cli_report("Failed to list networks");
        return FALSE;
    }
    gsize n = 0;
    while (list[n])
        n++;
    qsort(list, n, sizeof(*list), compare_networks);
    if (by_name || by_uuid) {
        for (gsize i = 0; i < n; i++)
            printf("%s\n",
                   by_uuid ? domus_network_get_uuid(list[i]) : domus_network_get_name(list[i]));
    } else {
        g_autoptr(GPtrArray) rows = cli_table_new("Name", "State", "Autostart", "Persistent", NULL);
        for (gsize i = 0; i < n; i++) {
            domus_network *net = list[i];
            cli_table_add(rows, g_strdup(domus_network_get_name(net)),
                          g_strdup(domus_network_is_active(net, NULL) > 0 ? "active" : "inactive"),
                          g_strdup(yes_no(domus_network_get_autostart(net, NULL), "no autostart")),
                          g_strdup(yes_no(domus_network_is_persistent(net, NULL), "unknown")),
                          NULL);
        }
        cli_table_print(rows);
    }
    printf("\n");
    domus_network_list_free(list);
    return TRUE;
}

static int
compare_leases(const void *a, const void *b)
{
    const struct domus_network_lease *x = *(struct domus_network_lease *const *)a;
    const struct domus_network_lease *y = *(struct domus_network_lease *const *)b;
    const char *kx = x->mac ? x->mac : x->iaid ? x->iaid : "";
    const char *ky = y->mac ? y->mac : y->iaid ? y->iaid : "";
    return g_ascii_strcasecmp(kx, ky);
}

static char *
or_minus(const char *s)
{
    return g_strdup(s ? s : "-");
}

static gboolean
cmd_net_dhcp_leases(struct cli_ctx *ctx, GError **error)
{
    const char *name = cli_get(ctx, "network");
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    struct domus_network_lease **leases =
        domus_network_get_dhcp_leases(net, cli_get(ctx, "mac"), error);
    if (!leases) {
        cli_report("Failed to get leases info for %s", name);
        return FALSE;
    }
    gsize n = 0;
    while (leases[n])
        n++;
    qsort(leases, n, sizeof(*leases), compare_leases);
    g_autoptr(GPtrArray) rows = cli_table_new("Expiry Time", "MAC address", "Protocol",
                                              "IP address", "Hostname", "Client ID or DUID", NULL);
    for (gsize i = 0; i < n; i++) {
        const struct domus_network_lease *l = leases[i];
        g_autoptr(GDateTime) then = g_date_time_new_from_unix_local(l->expirytime);
        cli_table_add(rows, g_date_time_format(then, "%Y-%m-%d %H:%M:%S"), or_minus(l->mac),
                      g_strdup(l->type == 1 ? "ipv6" : "ipv4"),
                      g_strdup_printf("%s/%u", l->ipaddr, l->prefix), or_minus(l->hostname),
                      or_minus(l->clientid), NULL);
    }
    cli_table_print(rows);
    printf("\n");
    domus_network_lease_list_free(leases);
    return TRUE;
}

static gboolean
cmd_net_update(struct cli_ctx *ctx, GError **error)
{
    const char *cmd = cli_get(ctx, "command"), *sec = cli_get(ctx, "section");
    gboolean config = cli_has(ctx, "config"), live = cli_has(ctx, "live");
    if (cli_has(ctx, "current") && (config || live)) {
        cli_set_error(error, "Options --current and --%s are mutually exclusive",
                      live ? "live" : "config");
        return FALSE;
    }
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    /* "add" is a synonym for "add-last" */
    int command = g_str_equal(cmd, "add") ? 3 : lookup(update_commands, cmd);
    if (command <= 0) {
        cli_set_error(error, "unrecognized command name '%s'", cmd);
        return FALSE;
    }
    int section = lookup(update_sections, sec);
    if (section <= 0) {
        cli_set_error(error, "unrecognized section name '%s'", sec);
        return FALSE;
    }
    int parent = -1;
    const char *pi = cli_get(ctx, "parent-index");
    if (pi) {
        gint64 v = 0;
        if (!g_ascii_string_to_signed(pi, 10, -1, G_MAXINT, &v, NULL)) {
            cli_set_error(error,
                          "Numeric value '%s' for <parent-index> option is malformed or "
                          "out of range",
                          pi);
            return FALSE;
        }
        parent = (int)v;
    }
    /* the XML itself, or the name of a file holding it */
    const char *xml = cli_get(ctx, "xml");
    g_autofree char *from_file = NULL;
    if (*xml != '<') {
        from_file = cli_read_xml_file(xml, error);
        if (!from_file)
            return FALSE;
        xml = from_file;
    }
    unsigned flags =
        (config ? DOMUS_NETWORK_UPDATE_CONFIG : 0) | (live ? DOMUS_NETWORK_UPDATE_LIVE : 0);
    const char *name = domus_network_get_name(net);
    if (!domus_network_update(net, (unsigned)command, (unsigned)section, parent, xml, flags,
                              error)) {
        cli_report("Failed to update network %s", name);
        return FALSE;
    }
    if (config && live)
        printf("Updated network %s persistent config and live state\n", name);
    else if (config)
        printf("Updated network %s persistent config\n", name);
    else if (live || domus_network_is_active(net, NULL) > 0)
        printf("Updated network %s live state\n", name);
    else
        printf("Updated network %s persistent config\n", name);
    return TRUE;
}

static gboolean
cmd_net_edit(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_network) net = cli_network(ctx, error);
    if (!net)
        return FALSE;
    g_autofree char *xml = domus_network_get_xml(net, DOMUS_NETWORK_XML_INACTIVE, error);
    g_autofree char *edited = xml ? cli_edit_xml(xml, error) : NULL;
    if (!edited)
        return FALSE;
    if (g_str_equal(edited, xml)) {
        printf("Network %s XML configuration not changed.\n\n", domus_network_get_name(net));
        return TRUE;
    }
    g_autoptr(domus_network) nnet = domus_network_define(cli_conn(ctx, NULL), edited, error);
    if (!nnet)
        return FALSE;
    printf("Network %s XML configuration edited.\n\n", domus_network_get_name(nnet));
    return TRUE;
}

static const char *const net_lifecycle_names[] = {"Defined", "Undefined", "Started", "Stopped",
                                                  NULL};
static const struct cli_event_kind net_event_kinds[] = {
    {"lifecycle", net_lifecycle_names},
    {NULL, NULL},
};

static gboolean
cmd_net_event(struct cli_ctx *ctx, GError **error)
{
    int id;
    if (!cli_event_kind(ctx, net_event_kinds, &id, error))
        return FALSE;
    if (id < 0)
        return TRUE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_autoptr(domus_network) net = cli_has(ctx, "network") ? cli_network(ctx, error) : NULL;
    if (cli_has(ctx, "network") && !net)
        return FALSE;
    return domus_network_event_register(conn, net, error) >= 0 &&
           cli_event_loop(ctx, DOMUS_EVENT_NETWORK, "network", net_event_kinds, id, error);
}

/* --- domain interfaces --- */

/* One <interface> of a domain's XML, as virsh's XPath queries read it. */
struct iface {
    char *type, *source, *target, *model, *mac, *link;
};

static void
iface_free(struct iface *i)
{
    g_free(i->type);
    g_free(i->source);
    g_free(i->target);
    g_free(i->model);
    g_free(i->mac);
    g_free(i->link);
    g_free(i);
}

struct iface_parse {
    GPtrArray *ifaces;
    struct iface *cur;
    int depth; /* of the current <interface>'s children */
};

static const char *
attr_of(const char **names, const char **values, const char *want)
{
    for (int i = 0; names[i]; i++)
        if (g_str_equal(names[i], want))
            return values[i];
    return NULL;
}

static void
on_start(GMarkupParseContext *ctx, const char *element, const char **names, const char **values,
         gpointer data, GError **error)
{
    struct iface_parse *p = data;
    const GSList *stack = g_markup_parse_context_get_element_stack(ctx);
    guint depth = g_slist_length((GSList *)stack);
    if (g_str_equal(element, "interface") && depth == 3) {
        p->cur = g_new0(struct iface, 1);
        p->cur->type = g_strdup(attr_of(names, values, "type"));
        g_ptr_array_add(p->ifaces, p->cur);
        return;
    }
    if (!p->cur || depth != 4)
        return;
    if (g_str_equal(element, "source") && !p->cur->source) {
        /* virsh's string(./source/@bridge|…): the first of them in document order */
        static const char *const keys[] = {"bridge", "dev", "network", "name", "path", NULL};
        for (int i = 0; names[i] && !p->cur->source; i++)
            if (lookup(keys, names[i]) >= 0)
                p->cur->source = g_strdup(values[i]);
    } else if (g_str_equal(element, "target")) {
        p->cur->target = g_strdup(attr_of(names, values, "dev"));
    } else if (g_str_equal(element, "model")) {
        p->cur->model = g_strdup(attr_of(names, values, "type"));
    } else if (g_str_equal(element, "mac")) {
        p->cur->mac = g_strdup(attr_of(names, values, "address"));
    } else if (g_str_equal(element, "link")) {
        p->cur->link = g_strdup(attr_of(names, values, "state"));
    }
}

static void
on_end(GMarkupParseContext *ctx, const char *element, gpointer data, GError **error)
{
    struct iface_parse *p = data;
    if (g_str_equal(element, "interface") &&
        g_slist_length((GSList *)g_markup_parse_context_get_element_stack(ctx)) == 3)
        p->cur = NULL;
}

/* The interfaces of the "domain" option's domain (its inactive XML with INACTIVE). */
static GPtrArray *
domain_interfaces(struct cli_ctx *ctx, gboolean inactive, domus_domain **ret_dom, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return NULL;
    g_autofree char *xml = domus_domain_get_xml(dom, inactive ? XML_INACTIVE : 0, error);
    if (!xml)
        return NULL;
    static const GMarkupParser parser = {on_start, on_end, NULL, NULL, NULL};
    struct iface_parse p = {g_ptr_array_new_with_free_func((GDestroyNotify)iface_free), NULL, 0};
    GMarkupParseContext *mctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
    gboolean ok = g_markup_parse_context_parse(mctx, xml, -1, error) &&
                  g_markup_parse_context_end_parse(mctx, error);
    g_markup_parse_context_free(mctx);
    if (!ok) {
        g_ptr_array_unref(p.ifaces);
        return NULL;
    }
    if (ret_dom)
        *ret_dom = g_steal_pointer(&dom);
    return p.ifaces;
}

static gboolean
cmd_domiflist(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(GPtrArray) ifaces = domain_interfaces(ctx, cli_has(ctx, "inactive"), NULL, error);
    if (!ifaces)
        return FALSE;
    g_autoptr(GPtrArray) rows = cli_table_new("Interface", "Type", "Source", "Model", "MAC", NULL);
    for (guint i = 0; i < ifaces->len; i++) {
        const struct iface *f = ifaces->pdata[i];
        cli_table_add(rows, or_minus(f->target), or_minus(f->type), or_minus(f->source),
                      or_minus(f->model), or_minus(f->mac), NULL);
    }
    cli_table_print(rows);
    printf("\n");
    return TRUE;
}

/* The interface IDENT (a MAC address in any case, or a target dev) names. */
static const struct iface *
find_iface(GPtrArray *ifaces, const char *ident, GError **error)
{
    const struct iface *found = NULL;
    for (guint i = 0; i < ifaces->len; i++) {
        const struct iface *f = ifaces->pdata[i];
        if ((f->mac && g_ascii_strcasecmp(f->mac, ident) == 0) ||
            (f->target && g_str_equal(f->target, ident))) {
            if (found) {
                cli_set_error(error, "multiple matching interfaces found");
                return NULL;
            }
            found = f;
        }
    }
    if (!found)
        cli_set_error(error,
                      strchr(ident, ':') ? "Interface (mac: %s) not found."
                                         : "Interface (dev: %s) not found.",
                      ident);
    return found;
}

/* The <source> of an interface of TYPE from SOURCE (empty for types without one). */
static char *
iface_source(const char *type, const char *source)
{
    const char *key = g_str_equal(type, "network")  ? "network"
                      : g_str_equal(type, "bridge") ? "bridge"
                                                    : NULL;
    return key && source ? g_markup_printf_escaped("<source %s='%s'/>", key, source) : g_strdup("");
}

static gboolean
cmd_domif_getlink(struct cli_ctx *ctx, GError **error)
{
    const char *ident = cli_get(ctx, "interface");
    g_autoptr(GPtrArray) ifaces = domain_interfaces(ctx, cli_has(ctx, "config"), NULL, error);
    const struct iface *f = ifaces ? find_iface(ifaces, ident, error) : NULL;
    if (!f)
        return FALSE;
    printf("%s %s\n", ident, f->link ? f->link : "up");
    return TRUE;
}

static gboolean
cmd_domif_setlink(struct cli_ctx *ctx, GError **error)
{
    const char *ident = cli_get(ctx, "interface"), *state = cli_get(ctx, "state");
    gboolean config = cli_has(ctx, "config");
    if (!g_str_equal(state, "up") && !g_str_equal(state, "down")) {
        cli_set_error(error, "invalid link state '%s'", state);
        return FALSE;
    }
    g_autoptr(domus_domain) dom = NULL;
    g_autoptr(GPtrArray) ifaces = domain_interfaces(ctx, config, &dom, error);
    const struct iface *f = ifaces ? find_iface(ifaces, ident, error) : NULL;
    if (!f)
        return FALSE;
    /* the device as the daemon needs to find it: type, MAC and source */
    const char *type = f->type ? f->type : "";
    g_autofree char *source = iface_source(type, f->source);
    g_autofree char *head = g_markup_printf_escaped("<interface type='%s'><mac address='%s'/>",
                                                    type, f->mac ? f->mac : "");
    g_autofree char *xml =
        g_strdup_printf("%s%s<link state='%s'/></interface>", head, source, state);
    /* virDomainModificationImpact: the config, or the running domain */
    if (!domus_domain_update_device(dom, xml, config ? 2 : 1, error)) {
        cli_report("Failed to update interface link state");
        return FALSE;
    }
    printf("Device updated successfully\n\n");
    return TRUE;
}

static gboolean
cmd_attach_interface(struct cli_ctx *ctx, GError **error)
{
    const char *type = cli_get(ctx, "type"), *source = cli_get(ctx, "source");
    GString *s = g_string_new(NULL);
    g_autofree char *head = g_markup_printf_escaped("<interface type='%s'>\n", type);
    g_autofree char *src = iface_source(type, source);
    g_string_append(s, head);
    if (*src)
        g_string_append_printf(s, "  %s\n", src);
    const char *parts[][2] = {{"target", "<target dev='%s'/>"},
                              {"mac", "<mac address='%s'/>"},
                              {"model", "<model type='%s'/>"},
                              {"alias", "<alias name='%s'/>"}};
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        if (!cli_get(ctx, parts[i][0]))
            continue;
        g_autofree char *part = g_markup_printf_escaped(parts[i][1], cli_get(ctx, parts[i][0]));
        g_string_append_printf(s, "  %s\n", part);
    }
    g_string_append(s, "</interface>\n");
    g_autofree char *xml = g_string_free(s, FALSE);
    if (cli_has(ctx, "print-xml")) {
        printf("%s", xml);
        return TRUE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, TRUE, TRUE, &flags, error))
        return FALSE;
    if (!domus_domain_attach_device(dom, xml, flags, error)) {
        cli_report("Failed to attach interface");
        return FALSE;
    }
    printf("Interface attached successfully\n\n");
    return TRUE;
}

static gboolean
cmd_detach_interface(struct cli_ctx *ctx, GError **error)
{
    const char *type = cli_get(ctx, "type"), *mac = cli_get(ctx, "mac");
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, TRUE, TRUE, &flags, error))
        return FALSE;
    g_autoptr(GPtrArray) ifaces = domain_interfaces(ctx, flags == 2, NULL, error);
    if (!ifaces)
        return FALSE;
    const struct iface *found = NULL;
    guint matches = 0;
    for (guint i = 0; i < ifaces->len; i++) {
        const struct iface *f = ifaces->pdata[i];
        if (g_strcmp0(f->type, type) != 0 || (mac && g_ascii_strcasecmp(f->mac, mac) != 0))
            continue;
        found = f;
        matches++;
    }
    if (!found) {
        if (mac)
            cli_set_error(error, "No interface found whose type is %s and mac address is %s", type,
                          mac);
        else
            cli_set_error(error, "No interface found whose type is %s", type);
        return FALSE;
    }
    if (matches > 1) {
        cli_set_error(error,
                      "Domain has %u interfaces. Please specify which one to detach using --mac",
                      matches);
        return FALSE;
    }
    g_autofree char *head = g_markup_printf_escaped("<interface type='%s'><mac address='%s'/>",
                                                    type, found->mac ? found->mac : "");
    g_autofree char *src = iface_source(type, found->source);
    g_autofree char *xml = g_strdup_printf("%s%s</interface>", head, src);
    if (!domus_domain_detach_device(dom, xml, flags, error)) {
        cli_report("Failed to detach interface");
        return FALSE;
    }
    printf("Interface detached successfully\n\n");
    return TRUE;
}

static gboolean
cmd_domifaddr(struct cli_ctx *ctx, GError **error)
{
    const char *src = cli_get(ctx, "source"), *only = cli_get(ctx, "interface");
    int source = src ? lookup(ifaddr_sources, src) : 0;
    if (source < 0) {
        cli_set_error(error, "Unknown data source '%s'", src);
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    struct domus_interface **list = domus_domain_interface_addresses(dom, (unsigned)source, error);
    if (!list) {
        cli_report("Failed to query for interfaces addresses");
        return FALSE;
    }
    printf(" %-10s %-20s %-8s     %s\n%s%s\n", "Name", "MAC address", "Protocol", "Address",
           "-------------------------------------------------", "------------------------------");
    for (int i = 0; list[i]; i++) {
        const struct domus_interface *f = list[i];
        if (only && !g_str_equal(only, f->name))
            continue;
        if (!f->naddrs) {
            printf(" %-10s %-17s    %-12s %s\n", f->name, f->hwaddr ? f->hwaddr : "N/A", "N/A",
                   "N/A");
            continue;
        }
        for (guint j = 0; j < f->naddrs; j++) {
            g_autofree char *addr =
                g_strdup_printf("%-12s %s/%u", f->addrs[j].type == 1 ? "ipv6" : "ipv4",
                                f->addrs[j].addr, f->addrs[j].prefix);
            if (cli_has(ctx, "full") || !j)
                printf(" %-10s %-17s    %s\n", f->name, f->hwaddr ? f->hwaddr : "", addr);
            else
                printf(" %-10s %-17s    %s\n", "-", "-", addr);
        }
    }
    printf("\n");
    domus_interface_list_free(list);
    return TRUE;
}

/* --- the table --- */

#define NETWORK_OPT                                                                                \
    {                                                                                              \
        "network", OPT_DATA, TRUE, "network name or uuid"                                          \
    }

static const struct cli_opt net_opts[] = {NETWORK_OPT, {NULL}};
static const struct cli_opt net_file_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML network description"},
    {"validate", OPT_BOOL, FALSE, "validate the XML against the schema"},
    {NULL},
};
static const struct cli_opt net_autostart_opts[] = {
    NETWORK_OPT,
    {"disable", OPT_BOOL, FALSE, "disable autostarting"},
    {NULL},
};
static const struct cli_opt net_dumpxml_opts[] = {
    NETWORK_OPT,
    {"inactive", OPT_BOOL, FALSE, "show inactive defined XML"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt net_list_opts[] = {
    {"inactive", OPT_BOOL, FALSE, "list inactive networks"},
    {"all", OPT_BOOL, FALSE, "list inactive & active networks"},
    {"persistent", OPT_BOOL, FALSE, "list persistent networks"},
    {"transient", OPT_BOOL, FALSE, "list transient networks"},
    {"autostart", OPT_BOOL, FALSE, "list networks with autostart enabled"},
    {"no-autostart", OPT_BOOL, FALSE, "list networks with autostart disabled"},
    {"uuid", OPT_BOOL, FALSE, "list uuid's only"},
    {"name", OPT_BOOL, FALSE, "list network names only"},
    {"table", OPT_BOOL, FALSE, "list table (default)"},
    {NULL},
};
static const struct cli_opt net_leases_opts[] = {
    NETWORK_OPT,
    {"mac", OPT_STRING, FALSE, "MAC address"},
    {NULL},
};
static const struct cli_opt net_update_opts[] = {
    NETWORK_OPT,
    {"command", OPT_DATA, TRUE, "type of update (add-first, add-last (add), delete, or modify)"},
    {"section", OPT_DATA, TRUE,
     "which section of network configuration to update (ip-dhcp-host, dns-host, …)"},
    {"xml", OPT_DATA, TRUE,
     "name of file containing xml (or, if it starts with '<', the complete "
     "text of the xml element) to add/modify, or to be matched for search"},
    {"parent-index", OPT_STRING, FALSE, "which parent object to search through"},
    {"config", OPT_BOOL, FALSE, "affect next network startup"},
    {"live", OPT_BOOL, FALSE, "affect running network"},
    {"current", OPT_BOOL, FALSE, "affect current state of network"},
    {NULL},
};
static const struct cli_opt net_event_opts[] = {
    {"network", OPT_STRING, FALSE, "filter by network name or uuid"},
    CLI_EVENT_OPTS,
    {NULL},
};
static const struct cli_opt domiflist_opts[] = {
    DOMAIN_OPT,
    {"inactive", OPT_BOOL, FALSE, "get inactive rather than running configuration"},
    {NULL},
};
static const struct cli_opt domif_getlink_opts[] = {
    DOMAIN_OPT,
    {"interface", OPT_DATA, TRUE, "interface device (MAC Address)"},
    {"config", OPT_BOOL, FALSE, "Get persistent interface state"},
    {NULL},
};
static const struct cli_opt domif_setlink_opts[] = {
    DOMAIN_OPT,
    {"interface", OPT_DATA, TRUE, "interface device (MAC Address)"},
    {"state", OPT_DATA, TRUE, "new state of the device"},
    {"config", OPT_BOOL, FALSE, "affect next boot"},
    {NULL},
};
static const struct cli_opt attach_interface_opts[] = {
    DOMAIN_OPT,
    {"type", OPT_DATA, TRUE, "network interface type"},
    {"source", OPT_DATA, TRUE, "source of network interface"},
    {"target", OPT_STRING, FALSE, "target network name"},
    {"mac", OPT_STRING, FALSE, "MAC address"},
    {"model", OPT_STRING, FALSE, "model type"},
    {"alias", OPT_STRING, FALSE, "custom alias name of interface device"},
    {"persistent", OPT_BOOL, FALSE, "make live change persistent"},
    {"config", OPT_BOOL, FALSE, "affect next boot"},
    {"live", OPT_BOOL, FALSE, "affect running domain"},
    {"current", OPT_BOOL, FALSE, "affect current domain"},
    {"print-xml", OPT_BOOL, FALSE, "print XML document rather than attach the interface"},
    {NULL},
};
static const struct cli_opt detach_interface_opts[] = {
    DOMAIN_OPT,
    {"type", OPT_DATA, TRUE, "network interface type"},
    {"mac", OPT_STRING, FALSE, "MAC address"},
    {"persistent", OPT_BOOL, FALSE, "make live change persistent"},
    {"config", OPT_BOOL, FALSE, "affect next boot"},
    {"live", OPT_BOOL, FALSE, "affect running domain"},
    {"current", OPT_BOOL, FALSE, "affect current domain"},
    {NULL},
};
static const struct cli_opt domifaddr_opts[] = {
    DOMAIN_OPT,
    {"interface", OPT_STRING, FALSE, "network interface name"},
    {"full", OPT_BOOL, FALSE, "always display names and MACs of interfaces"},
    {"source", OPT_STRING, FALSE, "address source: 'lease', 'agent', or 'arp'"},
    {NULL},
};

const struct cli_cmd cli_network_cmds[] = {
    {"net-autostart", cmd_net_autostart, net_autostart_opts, "autostart a network"},
    {"net-create", cmd_net_create, net_file_opts, "create a network from an XML file"},
    {"net-define", cmd_net_define, net_file_opts,
     "define an inactive persistent virtual network or modify an existing persistent one from "
     "an XML file"},
    {"net-destroy", cmd_net_destroy, net_opts, "destroy (stop) a network"},
    {"net-dhcp-leases", cmd_net_dhcp_leases, net_leases_opts,
     "print lease info for a given network"},
    {"net-dumpxml", cmd_net_dumpxml, net_dumpxml_opts, "network information in XML"},
    {"net-edit", cmd_net_edit, net_opts, "edit XML configuration for a network"},
    {"net-event", cmd_net_event, net_event_opts, "Network Events"},
    {"net-info", cmd_net_info, net_opts, "network information"},
    {"net-list", cmd_net_list, net_list_opts, "list networks"},
    {"net-name", cmd_net_name, net_opts, "convert a network UUID to network name"},
    {"net-start", cmd_net_start, net_opts, "start a (previously defined) inactive network"},
    {"net-undefine", cmd_net_undefine, net_opts, "undefine a persistent network"},
    {"net-update", cmd_net_update, net_update_opts,
     "update parts of an existing network's "
     "configuration"},
    {"net-uuid", cmd_net_uuid, net_opts, "convert a network name to network UUID"},
    {"domifaddr", cmd_domifaddr, domifaddr_opts,
     "Get network interfaces' addresses for a "
     "running domain"},
    {"domif-getlink", cmd_domif_getlink, domif_getlink_opts,
     "get link state of a virtual interface"},
    {"domif-setlink", cmd_domif_setlink, domif_setlink_opts,
     "set link state of a virtual interface"},
    {"domiflist", cmd_domiflist, domiflist_opts, "list all domain virtual interfaces"},
    {"attach-interface", cmd_attach_interface, attach_interface_opts, "attach network interface"},
    {"detach-interface", cmd_detach_interface, detach_interface_opts, "detach network interface"},
    {NULL},
};
