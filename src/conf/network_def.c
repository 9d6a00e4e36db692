/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network_def: libvirt network XML for the modes Domus runs (isolated, nat, route, open, and
 * bridge onto an existing host bridge); prefix network_def_.
 *
 * As for domains and pools, nothing is silently dropped: an element or attribute we do not
 * understand is an error that names it. The one exception is connections= on <network>, the
 * live count of guest NICs, which libvirt itself ignores on input. */
#include "conf/network_def.h"

#include <libxml/tree.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/xml_util.h"
#include "util/err.h"
#include "util/names.h"

#define NETWORK_DEF_XML_MAX_BYTES (1024 * 1024)
/* IFNAMSIZ - 1 */
#define NETWORK_DEF_IFNAME_MAX 15
/* entries in one list (hosts, ranges, forwarders, names, addresses): bounded like the rest */
#define NETWORK_DEF_LIST_MAX 4096

static const char *const forward_names[] = {"none", "nat", "route", "open", "bridge", NULL};
/* libvirt's modes that need hardware or macvtap: named in the refusal */
static const char *const forward_unsupported[] = {"private", "vepa", "passthrough", "hostdev",
                                                  NULL};
static const char *const tristate_names[] = {"", "yes", "no", NULL};
static const char *const none[] = {NULL};

#define is xml_util_is
#define ignorable xml_util_ignorable
#define prop xml_util_prop

const char *
network_forward_to_string(enum network_forward forward)
{
    return forward_names[forward];
}

static gboolean
unsupported(xmlNodePtr parent, xmlNodePtr child, GError **error)
{
    return xml_util_unsupported(ERR_FROM_NETWORK, parent, child, error);
}

static gboolean
check_attrs(xmlNodePtr node, const char *const *allowed, GError **error)
{
    return xml_util_check_attrs(ERR_FROM_NETWORK, node, allowed, error);
}

static gboolean
once(xmlNodePtr *slot, xmlNodePtr child, GError **error)
{
    return xml_util_once(ERR_FROM_NETWORK, slot, child, error);
}

/* NODE has attributes among ALLOWED and no children but blank text and comments. */
static gboolean
check_leaf(xmlNodePtr node, const char *const *allowed, GError **error)
{
    if (!check_attrs(node, allowed, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!ignorable(c))
            return unsupported(node, c, error);
    }
    return TRUE;
}

static char *
text(xmlNodePtr node, GError **error)
{
    if (!check_attrs(node, none, error))
        return NULL;
    return xml_util_text(ERR_FROM_NETWORK, node, error);
}

static gboolean
too_many(GPtrArray *list, const char *what, GError **error)
{
    if (list->len < NETWORK_DEF_LIST_MAX)
        return FALSE;
    err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
            "more than %d %s in one network; the limit is %d", NETWORK_DEF_LIST_MAX - 1, what,
            NETWORK_DEF_LIST_MAX - 1);
    return TRUE;
}

/* Attribute NAME of NODE as an address (of FAMILY when not 0); absent leaves *RET alone
 * unless REQUIRED. */
static gboolean
parse_addr(xmlNodePtr node, const char *name, int family, gboolean required, struct netaddr *ret,
           GError **error)
{
    g_autofree char *value = prop(node, name);
    if (!value) {
        if (!required)
            return TRUE;
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR, "missing attribute '%s' on element '%s'",
                name, node->name);
        return FALSE;
    }
    struct netaddr a;
    if (!netaddr_parse(g_strstrip(value), &a)) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR, "invalid address '%s' in '%s' of '%s'",
                value, name, node->name);
        return FALSE;
    }
    if (family && a.family != family) {
        err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                "address '%s' in '%s' of '%s' must be %s", value, name, node->name,
                family == AF_INET ? "IPv4" : "IPv6");
        return FALSE;
    }
    *ret = a;
    return TRUE;
}

static gboolean
parse_uint(xmlNodePtr node, const char *name, uint64_t max, uint64_t *ret, GError **error)
{
    g_autofree char *value = prop(node, name);
    if (!value)
        return TRUE;
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(g_strstrip(value), 10, 0, max, &v, NULL)) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "invalid value '%s' for '%s' of '%s'; use a number from 0 to %" G_GUINT64_FORMAT,
                value, name, node->name, max);
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

static gboolean
parse_tristate(xmlNodePtr node, const char *name, enum network_tristate *ret, GError **error)
{
    g_autofree char *value = prop(node, name);
    if (!value)
        return TRUE;
    int i = xml_util_lookup(tristate_names, value);
    if (i <= 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "invalid value '%s' for '%s' of '%s'; use 'yes' or 'no'", value, name, node->name);
        return FALSE;
    }
    *ret = (enum network_tristate)i;
    return TRUE;
}

/* A DNS name as dnsmasq's files carry it: letters, digits, '-', '_' and '.', nothing that could
 * end a line or a field there. */
static gboolean
check_dns_name(const char *name, const char *what, GError **error)
{
    gboolean ok = name && *name && strlen(name) <= 253;
    for (const char *p = name; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.';
    if (!ok) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "invalid %s '%s'; use letters, digits, '-', '_' and '.'", what, name ? name : "");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_mac_text(const char *value, uint8_t *ret, GError **error)
{
    uint8_t mac[MAC_LEN];
    if (!mac_parse(value, mac)) {
        err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG, "invalid mac address '%s'", value);
        return FALSE;
    }
    if (mac[0] & 1) {
        err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                "mac address '%s' is a multicast address; use a unicast one", value);
        return FALSE;
    }
    memcpy(ret, mac, MAC_LEN);
    return TRUE;
}

/* ---- lifetimes ---- */

static void
dhcp_range_free(struct network_dhcp_range *r)
{
    g_free(r);
}

void
network_dhcp_host_free(struct network_dhcp_host *host)
{
    if (!host)
        return;
    g_free(host->mac);
    g_free(host->name);
    g_free(host);
}

void
network_dns_host_free(struct network_dns_host *host)
{
    if (!host)
        return;
    if (host->names)
        g_ptr_array_unref(host->names);
    g_free(host);
}

static void
forwarder_free(struct network_dns_forwarder *f)
{
    if (!f)
        return;
    g_free(f->domain);
    g_free(f);
}

static struct network_ip *
ip_new(void)
{
    struct network_ip *ip = g_new0(struct network_ip, 1);
    ip->ranges = g_ptr_array_new_with_free_func((GDestroyNotify)dhcp_range_free);
    ip->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)network_dhcp_host_free);
    return ip;
}

static void
ip_free(struct network_ip *ip)
{
    if (!ip)
        return;
    g_ptr_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    g_free(ip);
}

typedef struct network_ip network_ip;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(network_ip, ip_free)

static void
portgroup_free(struct network_portgroup *pg)
{
    if (!pg)
        return;
    g_free(pg->name);
    vlan_def_clear(&pg->vlan);
    g_free(pg);
}

static gpointer
copy_portgroup(gconstpointer src, gpointer unused)
{
    const struct network_portgroup *s = src;
    struct network_portgroup *pg = g_new0(struct network_portgroup, 1);
    *pg = *s;
    pg->name = g_strdup(s->name);
    vlan_def_copy(&pg->vlan, &s->vlan);
    return pg;
}

const struct network_portgroup *
network_def_portgroup(const struct network_def *def, const char *name)
{
    for (guint i = 0; i < def->portgroups->len; i++) {
        const struct network_portgroup *pg = def->portgroups->pdata[i];
        if (name ? g_str_equal(pg->name, name) : pg->is_default)
            return pg;
    }
    return NULL;
}

static struct network_def *
def_new(void)
{
    struct network_def *def = g_new0(struct network_def, 1);
    def->stp = TRUE;
    def->dns_forwarders = g_ptr_array_new_with_free_func((GDestroyNotify)forwarder_free);
    def->dns_hosts = g_ptr_array_new_with_free_func((GDestroyNotify)network_dns_host_free);
    def->ips = g_ptr_array_new_with_free_func((GDestroyNotify)ip_free);
    def->portgroups = g_ptr_array_new_with_free_func((GDestroyNotify)portgroup_free);
    return def;
}

void
network_def_free(struct network_def *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata);
    g_free(def->forward_dev);
    g_free(def->bridge);
    g_free(def->domain);
    g_ptr_array_unref(def->dns_forwarders);
    g_ptr_array_unref(def->dns_hosts);
    g_ptr_array_unref(def->ips);
    g_ptr_array_unref(def->portgroups);
    vlan_def_clear(&def->vlan);
    g_free(def);
}

static gpointer
copy_dhcp_host(gconstpointer src, gpointer data)
{
    const struct network_dhcp_host *h = src;
    struct network_dhcp_host *c = g_new0(struct network_dhcp_host, 1);
    c->mac = g_strdup(h->mac);
    c->name = g_strdup(h->name);
    c->ip = h->ip;
    return c;
}

static gpointer
copy_range(gconstpointer src, gpointer data)
{
    return g_memdup2(src, sizeof(struct network_dhcp_range));
}

static gpointer
copy_ip(gconstpointer src, gpointer data)
{
    const struct network_ip *ip = src;
    struct network_ip *c = ip_new();
    c->address = ip->address;
    c->prefix = ip->prefix;
    c->family_given = ip->family_given;
    c->netmask_given = ip->netmask_given;
    g_ptr_array_extend(c->ranges, ip->ranges, copy_range, NULL);
    g_ptr_array_extend(c->hosts, ip->hosts, copy_dhcp_host, NULL);
    return c;
}

static gpointer
copy_forwarder(gconstpointer src, gpointer data)
{
    const struct network_dns_forwarder *f = src;
    struct network_dns_forwarder *c = g_new0(struct network_dns_forwarder, 1);
    c->domain = g_strdup(f->domain);
    c->addr = f->addr;
    return c;
}

static gpointer
copy_string(gconstpointer src, gpointer data)
{
    return g_strdup(src);
}

static gpointer
copy_dns_host(gconstpointer src, gpointer data)
{
    const struct network_dns_host *h = src;
    struct network_dns_host *c = g_new0(struct network_dns_host, 1);
    c->ip = h->ip;
    c->names = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_extend(c->names, h->names, copy_string, NULL);
    return c;
}

struct network_def *
network_def_copy(const struct network_def *src)
{
    struct network_def *def = def_new();
    def->name = g_strdup(src->name);
    memcpy(def->uuid, src->uuid, UUID_LEN);
    def->title = g_strdup(src->title);
    def->description = g_strdup(src->description);
    def->metadata = g_strdup(src->metadata);
    def->forward = src->forward;
    def->forward_dev = g_strdup(src->forward_dev);
    def->nat_start = src->nat_start;
    def->nat_end = src->nat_end;
    def->nat_port_start = src->nat_port_start;
    def->nat_port_end = src->nat_port_end;
    def->bridge = g_strdup(src->bridge);
    def->stp = src->stp;
    def->delay = src->delay;
    memcpy(def->mac, src->mac, MAC_LEN);
    def->mac_given = src->mac_given;
    def->mtu = src->mtu;
    def->domain = g_strdup(src->domain);
    def->domain_local_only = src->domain_local_only;
    def->dns_enable = src->dns_enable;
    g_ptr_array_extend(def->dns_forwarders, src->dns_forwarders, copy_forwarder, NULL);
    g_ptr_array_extend(def->dns_hosts, src->dns_hosts, copy_dns_host, NULL);
    def->inbound = src->inbound;
    def->outbound = src->outbound;
    vlan_def_copy(&def->vlan, &src->vlan);
    g_ptr_array_extend(def->ips, src->ips, copy_ip, NULL);
    g_ptr_array_extend(def->portgroups, src->portgroups, copy_portgroup, NULL);
    def->connections = src->connections;
    return def;
}

/* ---- elements ---- */

static gboolean
parse_forward(struct network_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"mode", "dev", NULL};
    static const char *const nat_child_attrs[] = {"start", "end", NULL};
    if (!check_attrs(node, attrs, error))
        return FALSE;
    g_autofree char *mode = prop(node, "mode");
    /* <forward/> without a mode is NAT, as in libvirt */
    int i = mode ? xml_util_lookup(forward_names, mode) : NETWORK_FORWARD_NAT;
    if (i <= 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                xml_util_lookup(forward_unsupported, mode) >= 0
                    ? "forward mode '%s' is not supported; use 'nat', 'route', 'open' or 'bridge'"
                    : "unknown forward mode '%s'; use 'nat', 'route', 'open' or 'bridge'",
                mode);
        return FALSE;
    }
    def->forward = (enum network_forward)i;
    def->forward_dev = prop(node, "dev");
    xmlNodePtr nat = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (!is(c, "nat") || def->forward != NETWORK_FORWARD_NAT)
            return unsupported(node, c, error);
        if (!once(&nat, c, error) || !check_attrs(c, none, error))
            return FALSE;
    }
    if (!nat)
        return TRUE;
    xmlNodePtr address = NULL, port = NULL;
    for (xmlNodePtr c = nat->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (is(c, "address")) {
            if (!once(&address, c, error) || !check_leaf(c, nat_child_attrs, error) ||
                !parse_addr(c, "start", AF_INET, TRUE, &def->nat_start, error) ||
                !parse_addr(c, "end", AF_INET, FALSE, &def->nat_end, error))
                return FALSE;
            if (def->nat_end.family && netaddr_compare(&def->nat_start, &def->nat_end) > 0) {
                err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                        "nat address range of network '%s' ends before it starts", def->name);
                return FALSE;
            }
        } else if (is(c, "port")) {
            uint64_t start = 0, end = 0;
            if (!once(&port, c, error) || !check_leaf(c, nat_child_attrs, error) ||
                !parse_uint(c, "start", 65535, &start, error) ||
                !parse_uint(c, "end", 65535, &end, error))
                return FALSE;
            if (!start || (end && end < start)) {
                err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                        "invalid nat port range %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                        " in network '%s'; use 1 <= start <= end <= 65535",
                        start, end, def->name);
                return FALSE;
            }
            def->nat_port_start = (unsigned)start;
            def->nat_port_end = (unsigned)end;
        } else {
            return unsupported(nat, c, error);
        }
    }
    return TRUE;
}

static gboolean
check_ifname(const char *name, const char *what, GError **error)
{
    gboolean ok = *name && strlen(name) <= NETWORK_DEF_IFNAME_MAX && !g_str_equal(name, ".") &&
                  !g_str_equal(name, "..");
    /* what the kernel allows is wider; this much is safe to put in a firewall rule */
    for (const char *p = name; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '_' || *p == '-' || *p == '.';
    ok = ok && g_ascii_isalpha(name[0]);
    if (!ok) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "invalid %s name '%s'; use up to %d letters, digits, '_', '-' or '.', starting "
                "with a letter",
                what, name, NETWORK_DEF_IFNAME_MAX);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_bridge(struct network_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"name", "stp", "delay", NULL};
    if (!check_leaf(node, attrs, error))
        return FALSE;
    def->bridge = prop(node, "name");
    if (def->bridge && !check_ifname(def->bridge, "bridge", error))
        return FALSE;
    g_autofree char *stp = prop(node, "stp");
    if (stp && !g_str_equal(stp, "on") && !g_str_equal(stp, "off")) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "invalid value '%s' for 'stp' of 'bridge'; use 'on' or 'off'", stp);
        return FALSE;
    }
    def->stp = !stp || g_str_equal(stp, "on");
    uint64_t delay = 0;
    if (!parse_uint(node, "delay", G_MAXINT32, &delay, error))
        return FALSE;
    def->delay = (unsigned long)delay;
    return TRUE;
}

/* <portgroup name default>: its <vlan> and <bandwidth> (no floor: libvirt's rule) */
static gboolean
parse_portgroup(struct network_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"name", "default", NULL};
    if (!check_attrs(node, attrs, error))
        return FALSE;
    struct network_portgroup *pg = g_new0(struct network_portgroup, 1);
    g_ptr_array_add(def->portgroups, pg);
    pg->name = prop(node, "name");
    if (!pg->name || !*pg->name) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "Missing required name attribute in portgroup");
        return FALSE;
    }
    g_autofree char *is_default = prop(node, "default");
    if (is_default && !g_str_equal(is_default, "yes") && !g_str_equal(is_default, "no")) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "invalid default '%s' of portgroup '%s'; use 'yes' or 'no'", is_default, pg->name);
        return FALSE;
    }
    pg->is_default = is_default && g_str_equal(is_default, "yes");
    xmlNodePtr vlan = NULL, bandwidth = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (is(c, "vlan")) {
            if (!once(&vlan, c, error) || !vlan_def_parse(ERR_FROM_NETWORK, c, &pg->vlan, error))
                return FALSE;
        } else if (is(c, "bandwidth")) {
            if (!once(&bandwidth, c, error) ||
                !bandwidth_def_parse(ERR_FROM_NETWORK, c, FALSE, &pg->inbound, &pg->outbound, NULL,
                                     error))
                return FALSE;
        } else {
            return unsupported(node, c, error);
        }
    }
    return TRUE;
}

static gboolean
parse_dns_host_node(xmlNodePtr node, struct network_dns_host **ret, GError **error)
{
    static const char *const attrs[] = {"ip", NULL};
    if (!check_attrs(node, attrs, error))
        return FALSE;
    g_autoptr(network_dns_host) h = g_new0(struct network_dns_host, 1);
    h->names = g_ptr_array_new_with_free_func(g_free);
    if (!parse_addr(node, "ip", 0, TRUE, &h->ip, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (!is(c, "hostname"))
            return unsupported(node, c, error);
        if (too_many(h->names, "host names", error))
            return FALSE;
        char *name = text(c, error);
        if (!name)
            return FALSE;
        g_strstrip(name);
        g_ptr_array_add(h->names, name);
        if (!check_dns_name(name, "DNS host name", error))
            return FALSE;
    }
    if (!h->names->len) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_DETAIL,
                "DNS host of network has no <hostname>; give at least one");
        return FALSE;
    }
    *ret = g_steal_pointer(&h);
    return TRUE;
}

static gboolean
parse_dns(struct network_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"enable", NULL};
    static const char *const fwd_attrs[] = {"domain", "addr", NULL};
    if (!check_attrs(node, attrs, error) ||
        !parse_tristate(node, "enable", &def->dns_enable, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (is(c, "forwarder")) {
            struct network_dns_forwarder *f = g_new0(struct network_dns_forwarder, 1);
            g_ptr_array_add(def->dns_forwarders, f);
            f->domain = prop(c, "domain");
            if (f->domain && !check_dns_name(f->domain, "DNS domain name", error))
                return FALSE;
            if (too_many(def->dns_forwarders, "DNS forwarders", error) ||
                !check_leaf(c, fwd_attrs, error) ||
                !parse_addr(c, "addr", 0, FALSE, &f->addr, error))
                return FALSE;
            if (!f->domain && !f->addr.family) {
                err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                        "DNS forwarder of network '%s' needs 'addr' or 'domain'", def->name);
                return FALSE;
            }
        } else if (is(c, "host")) {
            struct network_dns_host *h = NULL;
            if (too_many(def->dns_hosts, "DNS hosts", error) || !parse_dns_host_node(c, &h, error))
                return FALSE;
            g_ptr_array_add(def->dns_hosts, h);
        } else {
            return unsupported(node, c, error);
        }
    }
    return TRUE;
}

static gboolean
parse_dhcp_host_node(xmlNodePtr node, struct network_dhcp_host **ret, GError **error)
{
    static const char *const attrs[] = {"mac", "name", "ip", NULL};
    if (!check_leaf(node, attrs, error))
        return FALSE;
    g_autoptr(network_dhcp_host) h = g_new0(struct network_dhcp_host, 1);
    g_autofree char *mac = prop(node, "mac");
    if (mac) {
        uint8_t bytes[MAC_LEN];
        char buf[MAC_STRING_LEN];
        if (!parse_mac_text(mac, bytes, error))
            return FALSE;
        h->mac = g_strdup(mac_format(bytes, buf));
    }
    h->name = prop(node, "name");
    if (h->name && !check_dns_name(h->name, "DHCP host name", error))
        return FALSE;
    if (!parse_addr(node, "ip", 0, FALSE, &h->ip, error))
        return FALSE;
    if (!h->mac && !h->name) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "DHCP host entry needs a 'mac' or a 'name' attribute");
        return FALSE;
    }
    *ret = g_steal_pointer(&h);
    return TRUE;
}

static gboolean
parse_dhcp(struct network_ip *ip, xmlNodePtr node, GError **error)
{
    static const char *const range_attrs[] = {"start", "end", NULL};
    if (!check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (is(c, "range")) {
            struct network_dhcp_range *r = g_new0(struct network_dhcp_range, 1);
            g_ptr_array_add(ip->ranges, r);
            if (too_many(ip->ranges, "DHCP ranges", error) || !check_leaf(c, range_attrs, error) ||
                !parse_addr(c, "start", ip->address.family, TRUE, &r->start, error) ||
                !parse_addr(c, "end", ip->address.family, TRUE, &r->end, error))
                return FALSE;
        } else if (is(c, "host")) {
            struct network_dhcp_host *h = NULL;
            if (too_many(ip->hosts, "DHCP hosts", error) || !parse_dhcp_host_node(c, &h, error))
                return FALSE;
            g_ptr_array_add(ip->hosts, h);
        } else {
            return unsupported(node, c, error);
        }
    }
    return TRUE;
}

/* The class-based prefix libvirt uses for an IPv4 <ip> without netmask or prefix. */
static unsigned
classful_prefix(const struct netaddr *a)
{
    if (a->bytes[0] < 128)
        return 8;
    if (a->bytes[0] < 192)
        return 16;
    return 24;
}

static gboolean
parse_ip(struct network_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"address", "netmask", "prefix", "family", NULL};
    if (!check_attrs(node, attrs, error))
        return FALSE;
    g_autoptr(network_ip) ip = ip_new();
    g_autofree char *family = prop(node, "family");
    int want = 0;
    if (family) {
        if (!g_str_equal(family, "ipv4") && !g_str_equal(family, "ipv6")) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "invalid family '%s' of an <ip> of network '%s'; use 'ipv4' or 'ipv6'", family,
                    def->name);
            return FALSE;
        }
        want = g_str_equal(family, "ipv4") ? AF_INET : AF_INET6;
        ip->family_given = TRUE;
    }
    if (!parse_addr(node, "address", want, TRUE, &ip->address, error))
        return FALSE;
    unsigned bits = netaddr_bits(&ip->address);
    g_autofree char *netmask = prop(node, "netmask");
    g_autofree char *prefix = prop(node, "prefix");
    if (netmask && prefix) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "an <ip> of network '%s' has both netmask and prefix; give one", def->name);
        return FALSE;
    }
    if (netmask) {
        struct netaddr mask;
        int p;
        if (ip->address.family != AF_INET || !netaddr_parse(netmask, &mask) ||
            mask.family != AF_INET || (p = netaddr_mask_prefix(&mask)) < 0) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "invalid netmask '%s' of network '%s'; use an IPv4 mask such as "
                    "255.255.255.0, or prefix= for IPv6",
                    netmask, def->name);
            return FALSE;
        }
        ip->prefix = (unsigned)p;
        ip->netmask_given = TRUE;
    } else if (prefix) {
        guint64 p = 0;
        if (!g_ascii_string_to_unsigned(prefix, 10, 1, bits, &p, NULL)) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "invalid prefix '%s' of network '%s'; use 1 to %u", prefix, def->name, bits);
            return FALSE;
        }
        ip->prefix = (unsigned)p;
    } else {
        ip->prefix = ip->address.family == AF_INET ? classful_prefix(&ip->address) : 64;
    }
    xmlNodePtr dhcp = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (!is(c, "dhcp"))
            return unsupported(node, c, error);
        if (!once(&dhcp, c, error) || !parse_dhcp(ip, c, error))
            return FALSE;
    }
    if (too_many(def->ips, "IP addresses", error))
        return FALSE;
    g_ptr_array_add(def->ips, g_steal_pointer(&ip));
    return TRUE;
}

static gboolean
parse_network(struct network_def *def, xmlNodePtr root, GError **error)
{
    /* connections= is the live count: accepted, dropped */
    static const char *const root_attrs[] = {"connections", NULL};
    static const char *const mac_attrs[] = {"address", NULL};
    static const char *const mtu_attrs[] = {"size", NULL};
    static const char *const domain_attrs[] = {"name", "localOnly", NULL};
    if (!check_attrs(root, root_attrs, error))
        return FALSE;
    enum {
        NAME,
        UUID,
        TITLE,
        DESCRIPTION,
        METADATA,
        FORWARD,
        BRIDGE,
        MTU,
        MAC,
        DOMAIN,
        DNS,
        BANDWIDTH,
        VLAN,
        NTOP
    };
    static const char *const top_names[] = {
        "name", "uuid", "title",  "description", "metadata",  "forward", "bridge",
        "mtu",  "mac",  "domain", "dns",         "bandwidth", "vlan",    NULL};
    xmlNodePtr top[NTOP] = {NULL};
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (ignorable(c) || is(c, "ip") || is(c, "portgroup"))
            continue;
        int i = c->type == XML_ELEMENT_NODE && !c->ns
                    ? xml_util_lookup(top_names, (const char *)c->name)
                    : -1;
        if (i < 0)
            return unsupported(root, c, error);
        if (!once(&top[i], c, error))
            return FALSE;
    }
    if (!top[NAME]) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR, "network XML has no <name>");
        return FALSE;
    }
    def->name = text(top[NAME], error);
    if (!def->name || !names_validate(def->name, NAMES_NETWORK, "network", ERR_FROM_NETWORK, error))
        return FALSE;
    g_autofree char *uuid_text = top[UUID] ? text(top[UUID], error) : g_strdup("");
    if (!uuid_text)
        return FALSE;
    g_strstrip(uuid_text);
    if (!*uuid_text) {
        uuid_generate(def->uuid);
    } else if (!uuid_parse(uuid_text, def->uuid)) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR, "malformed uuid '%s'", uuid_text);
        return FALSE;
    }
    if ((top[TITLE] && !(def->title = text(top[TITLE], error))) ||
        (top[DESCRIPTION] && !(def->description = text(top[DESCRIPTION], error))))
        return FALSE;
    if (def->title && strchr(def->title, '\n')) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR, "network title can't contain newlines");
        return FALSE;
    }
    if (top[METADATA] &&
        !(def->metadata = xml_util_metadata_parse(ERR_FROM_NETWORK, top[METADATA], error)))
        return FALSE;
    if (top[FORWARD] && !parse_forward(def, top[FORWARD], error))
        return FALSE;
    if (top[BRIDGE] && !parse_bridge(def, top[BRIDGE], error))
        return FALSE;
    if (top[MTU]) {
        uint64_t mtu = 0;
        g_autofree char *size = prop(top[MTU], "size");
        if (!check_leaf(top[MTU], mtu_attrs, error) ||
            !parse_uint(top[MTU], "size", 65535, &mtu, error))
            return FALSE;
        if (mtu < 68) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "invalid mtu '%s' of network '%s'; use 68 to 65535", size ? size : "",
                    def->name);
            return FALSE;
        }
        def->mtu = (unsigned)mtu;
    }
    if (top[MAC]) {
        g_autofree char *address = prop(top[MAC], "address");
        if (!check_leaf(top[MAC], mac_attrs, error))
            return FALSE;
        if (!address) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "missing attribute 'address' on element 'mac'");
            return FALSE;
        }
        if (!parse_mac_text(address, def->mac, error))
            return FALSE;
        def->mac_given = TRUE;
    }
    if (top[DOMAIN]) {
        if (!check_leaf(top[DOMAIN], domain_attrs, error) ||
            !parse_tristate(top[DOMAIN], "localOnly", &def->domain_local_only, error))
            return FALSE;
        def->domain = prop(top[DOMAIN], "name");
        if (!check_dns_name(def->domain, "DNS domain name", error))
            return FALSE;
    }
    if (top[DNS] && !parse_dns(def, top[DNS], error))
        return FALSE;
    if (top[BANDWIDTH] && !bandwidth_def_parse(ERR_FROM_NETWORK, top[BANDWIDTH], FALSE,
                                               &def->inbound, &def->outbound, NULL, error))
        return FALSE;
    if (top[VLAN] && !vlan_def_parse(ERR_FROM_NETWORK, top[VLAN], &def->vlan, error))
        return FALSE;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (is(c, "ip") && !parse_ip(def, c, error))
            return FALSE;
        if (is(c, "portgroup") && !parse_portgroup(def, c, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- checks across elements ---- */

static gboolean
check_ip(const struct network_def *def, const struct network_ip *ip, GError **error)
{
    char a[NETADDR_STRING_LEN], b[NETADDR_STRING_LEN];
    for (guint i = 0; i < ip->ranges->len; i++) {
        const struct network_dhcp_range *r = ip->ranges->pdata[i];
        if (!netaddr_in_subnet(&r->start, &ip->address, ip->prefix) ||
            !netaddr_in_subnet(&r->end, &ip->address, ip->prefix)) {
            err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                    "DHCP range %s - %s of network '%s' is outside its subnet %s/%u",
                    netaddr_format(&r->start, a), netaddr_format(&r->end, b), def->name,
                    netaddr_format(&ip->address, (char[NETADDR_STRING_LEN]){0}), ip->prefix);
            return FALSE;
        }
        if (netaddr_compare(&r->start, &r->end) > 0) {
            err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                    "DHCP range %s - %s of network '%s' ends before it starts",
                    netaddr_format(&r->start, a), netaddr_format(&r->end, b), def->name);
            return FALSE;
        }
        if (netaddr_compare(&r->start, &ip->address) <= 0 &&
            netaddr_compare(&ip->address, &r->end) <= 0) {
            err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                    "DHCP range %s - %s of network '%s' contains the network's own address %s",
                    netaddr_format(&r->start, a), netaddr_format(&r->end, b), def->name,
                    netaddr_format(&ip->address, (char[NETADDR_STRING_LEN]){0}));
            return FALSE;
        }
    }
    for (guint i = 0; i < ip->hosts->len; i++) {
        const struct network_dhcp_host *h = ip->hosts->pdata[i];
        if (h->ip.family && !netaddr_in_subnet(&h->ip, &ip->address, ip->prefix)) {
            err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                    "DHCP host address %s of network '%s' is outside its subnet %s/%u",
                    netaddr_format(&h->ip, a), def->name, netaddr_format(&ip->address, b),
                    ip->prefix);
            return FALSE;
        }
        if (ip->address.family == AF_INET && !h->mac) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "IPv4 DHCP host '%s' of network '%s' needs a 'mac' attribute",
                    h->name ? h->name : "", def->name);
            return FALSE;
        }
        for (guint j = 0; j < i; j++) {
            const struct network_dhcp_host *o = ip->hosts->pdata[j];
            const char *what = NULL, *value = NULL;
            if (h->mac && o->mac && g_str_equal(h->mac, o->mac))
                what = "mac", value = h->mac;
            else if (h->ip.family && o->ip.family && netaddr_equal(&h->ip, &o->ip))
                what = "ip", value = netaddr_format(&h->ip, a);
            else if (h->name && o->name && g_str_equal(h->name, o->name))
                what = "name", value = h->name;
            if (what) {
                err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                        "two DHCP hosts of network '%s' have %s '%s'; each needs its own",
                        def->name, what, value);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* One default portgroup, unique names, and VLAN tags only where a port is on a host bridge
 * (forward mode 'bridge': the bridge's VLAN filtering); a network of its own routes through
 * the host, which sees one VLAN */
static gboolean
check_portgroups(const struct network_def *def, GError **error)
{
    const struct network_portgroup *dflt = NULL;
    gboolean vlan = def->vlan.ntags > 0;
    for (guint i = 0; i < def->portgroups->len; i++) {
        const struct network_portgroup *pg = def->portgroups->pdata[i];
        vlan = vlan || pg->vlan.ntags > 0;
        if (pg->is_default && dflt) {
            err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                    "network '%s' has multiple default <portgroup> elements (%s and %s), but "
                    "only one default is allowed",
                    def->name, dflt->name, pg->name);
            return FALSE;
        }
        if (pg->is_default)
            dflt = pg;
        for (guint j = 0; j < i; j++) {
            if (g_str_equal(((struct network_portgroup *)def->portgroups->pdata[j])->name,
                            pg->name)) {
                err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                        "multiple <portgroup> elements with the same name (%s) in network '%s'",
                        pg->name, def->name);
                return FALSE;
            }
        }
    }
    if (vlan && def->forward != NETWORK_FORWARD_BRIDGE) {
        err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                "<vlan> element specified for network %s, whose type doesn't support vlan "
                "configuration; VLAN tags need forward mode='bridge' (a host bridge)",
                def->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
network_def_check(const struct network_def *def, GError **error)
{
    gboolean bridged = def->forward == NETWORK_FORWARD_BRIDGE;
    if (bridged) {
        const char *extra = def->ips->len    ? "ip"
                            : def->mac_given ? "mac"
                            : def->domain    ? "domain"
                            : def->dns_hosts->len || def->dns_forwarders->len || def->dns_enable
                                ? "dns"
                            : def->mtu ? "mtu"
                                       : NULL;
        if (extra) {
            err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                    "unsupported <%s> element in network '%s' with forward mode='bridge'", extra,
                    def->name);
            return FALSE;
        }
        if (!def->bridge) {
            err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                    "network '%s' with forward mode='bridge' needs <bridge name='…'/>; name "
                    "an existing host bridge",
                    def->name);
            return FALSE;
        }
    }
    if (def->forward_dev && !check_ifname(def->forward_dev, "forward dev", error))
        return FALSE;
    if (!check_portgroups(def, error))
        return FALSE;
    if (def->forward == NETWORK_FORWARD_OPEN && def->ips->len == 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "network '%s' with forward mode='open' needs an <ip> address", def->name);
        return FALSE;
    }
    if ((def->forward == NETWORK_FORWARD_NAT || def->forward == NETWORK_FORWARD_ROUTE) &&
        def->ips->len == 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_XML_ERROR,
                "network '%s' with forward mode='%s' needs an <ip> address to forward from",
                def->name, forward_names[def->forward]);
        return FALSE;
    }
    int dhcp4 = 0, dhcp6 = 0;
    for (guint i = 0; i < def->ips->len; i++) {
        const struct network_ip *ip = def->ips->pdata[i];
        if ((ip->ranges->len || ip->hosts->len) && ip->address.family == AF_INET)
            dhcp4++;
        else if (ip->ranges->len || ip->hosts->len)
            dhcp6++;
        if (!check_ip(def, ip, error))
            return FALSE;
        for (guint j = 0; j < i; j++) {
            const struct network_ip *o = def->ips->pdata[j];
            if (o->address.family == ip->address.family &&
                netaddr_subnets_overlap(&o->address, o->prefix, &ip->address, ip->prefix)) {
                char a[NETADDR_STRING_LEN], b[NETADDR_STRING_LEN];
                err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                        "addresses %s/%u and %s/%u of network '%s' overlap",
                        netaddr_format(&o->address, a), o->prefix, netaddr_format(&ip->address, b),
                        ip->prefix, def->name);
                return FALSE;
            }
        }
    }
    if (dhcp4 > 1 || dhcp6 > 1) {
        err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                "network '%s' has DHCP on several %s addresses; DHCP is supported on one",
                def->name, dhcp4 > 1 ? "IPv4" : "IPv6");
        return FALSE;
    }
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const struct network_dns_host *h = def->dns_hosts->pdata[i];
        for (guint j = 0; j < i; j++) {
            const struct network_dns_host *o = def->dns_hosts->pdata[j];
            if (netaddr_equal(&h->ip, &o->ip)) {
                char a[NETADDR_STRING_LEN];
                err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                        "two DNS hosts of network '%s' have ip '%s'; put both names in one",
                        def->name, netaddr_format(&h->ip, a));
                return FALSE;
            }
        }
    }
    return TRUE;
}

struct network_def *
network_def_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = xml_util_read_document(ERR_FROM_NETWORK, xml, NETWORK_DEF_XML_MAX_BYTES,
                                                   "network", "network", error);
    if (!doc)
        return NULL;
    g_autoptr(network_def) def = def_new();
    if (!parse_network(def, xmlDocGetRootElement(doc), error) || !network_def_check(def, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* A piece of XML whose root is ROOT_NAME, for network updates. */
static xmlDocPtr
read_piece(const char *xml, const char *root_name, GError **error)
{
    return xml_util_read_document(ERR_FROM_NETWORK, xml, NETWORK_DEF_XML_MAX_BYTES, root_name,
                                  root_name, error);
}

struct network_dhcp_host *
network_def_dhcp_host_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = read_piece(xml, "host", error);
    struct network_dhcp_host *h = NULL;
    if (!doc || !parse_dhcp_host_node(xmlDocGetRootElement(doc), &h, error))
        return NULL;
    return h;
}

struct network_dns_host *
network_def_dns_host_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = read_piece(xml, "host", error);
    struct network_dns_host *h = NULL;
    if (!doc || !parse_dns_host_node(xmlDocGetRootElement(doc), &h, error))
        return NULL;
    return h;
}

gboolean
network_def_owns_bridge(const struct network_def *def)
{
    return def->forward != NETWORK_FORWARD_BRIDGE;
}

struct network_ip *
network_def_ipv4(const struct network_def *def)
{
    for (guint i = 0; i < def->ips->len; i++) {
        struct network_ip *ip = def->ips->pdata[i];
        if (ip->address.family == AF_INET)
            return ip;
    }
    return NULL;
}

/* ---- format ---- */

static void
attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, " %s='", name);
    xml_util_append_escaped_attr(buf, value);
    g_string_append_c(buf, '\'');
}

static void
addr_attr(GString *buf, const char *name, const struct netaddr *a)
{
    char s[NETADDR_STRING_LEN];
    if (a->family)
        g_string_append_printf(buf, " %s='%s'", name, netaddr_format(a, s));
}

static void
text_element(GString *buf, const char *indent, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, "%s<%s>", indent, name);
    xml_util_append_escaped(buf, value);
    g_string_append_printf(buf, "</%s>\n", name);
}

static void
format_forward(GString *buf, const struct network_def *def)
{
    if (def->forward == NETWORK_FORWARD_NONE)
        return;
    g_string_append(buf, "  <forward");
    attr(buf, "dev", def->forward_dev);
    g_string_append_printf(buf, " mode='%s'", forward_names[def->forward]);
    gboolean nat = def->nat_start.family || def->nat_port_start;
    if (!nat) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n    <nat>\n");
    if (def->nat_start.family) {
        g_string_append(buf, "      <address");
        addr_attr(buf, "start", &def->nat_start);
        addr_attr(buf, "end", &def->nat_end);
        g_string_append(buf, "/>\n");
    }
    if (def->nat_port_start) {
        g_string_append_printf(buf, "      <port start='%u'", def->nat_port_start);
        if (def->nat_port_end)
            g_string_append_printf(buf, " end='%u'", def->nat_port_end);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "    </nat>\n  </forward>\n");
}

static void
format_dns(GString *buf, const struct network_def *def)
{
    if (!def->dns_enable && !def->dns_forwarders->len && !def->dns_hosts->len)
        return;
    g_string_append(buf, "  <dns");
    if (def->dns_enable)
        g_string_append_printf(buf, " enable='%s'", tristate_names[def->dns_enable]);
    if (!def->dns_forwarders->len && !def->dns_hosts->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (guint i = 0; i < def->dns_forwarders->len; i++) {
        const struct network_dns_forwarder *f = def->dns_forwarders->pdata[i];
        g_string_append(buf, "    <forwarder");
        attr(buf, "domain", f->domain);
        addr_attr(buf, "addr", &f->addr);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const struct network_dns_host *h = def->dns_hosts->pdata[i];
        g_string_append(buf, "    <host");
        addr_attr(buf, "ip", &h->ip);
        g_string_append(buf, ">\n");
        for (guint j = 0; j < h->names->len; j++)
            text_element(buf, "      ", "hostname", h->names->pdata[j]);
        g_string_append(buf, "    </host>\n");
    }
    g_string_append(buf, "  </dns>\n");
}

static void
format_ip(GString *buf, const struct network_ip *ip)
{
    g_string_append(buf, "  <ip");
    if (ip->family_given)
        g_string_append(buf, ip->address.family == AF_INET ? " family='ipv4'" : " family='ipv6'");
    addr_attr(buf, "address", &ip->address);
    if (ip->netmask_given) {
        struct netaddr mask;
        netaddr_prefix_mask(AF_INET, ip->prefix, &mask);
        addr_attr(buf, "netmask", &mask);
    } else {
        g_string_append_printf(buf, " prefix='%u'", ip->prefix);
    }
    if (!ip->ranges->len && !ip->hosts->len) {
        g_string_append(buf, ">\n  </ip>\n");
        return;
    }
    g_string_append(buf, ">\n    <dhcp>\n");
    for (guint i = 0; i < ip->ranges->len; i++) {
        const struct network_dhcp_range *r = ip->ranges->pdata[i];
        g_string_append(buf, "      <range");
        addr_attr(buf, "start", &r->start);
        addr_attr(buf, "end", &r->end);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < ip->hosts->len; i++) {
        const struct network_dhcp_host *h = ip->hosts->pdata[i];
        g_string_append(buf, "      <host");
        attr(buf, "mac", h->mac);
        attr(buf, "name", h->name);
        addr_attr(buf, "ip", &h->ip);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "    </dhcp>\n  </ip>\n");
}

char *
network_def_format(const struct network_def *def, unsigned flags)
{
    GString *buf = g_string_new("<network");
    if (!(flags & NETWORK_DEF_FORMAT_INACTIVE) && def->connections)
        g_string_append_printf(buf, " connections='%u'", def->connections);
    g_string_append(buf, ">\n");
    char uuid[UUID_STRING_LEN];
    text_element(buf, "  ", "name", def->name);
    text_element(buf, "  ", "uuid", uuid_format(def->uuid, uuid));
    text_element(buf, "  ", "title", def->title);
    text_element(buf, "  ", "description", def->description);
    xml_util_metadata_format(buf, def->metadata);
    format_forward(buf, def);
    if (network_def_owns_bridge(def) || def->bridge) {
        g_string_append(buf, "  <bridge");
        attr(buf, "name", def->bridge);
        if (network_def_owns_bridge(def))
            g_string_append_printf(buf, " stp='%s' delay='%lu'", def->stp ? "on" : "off",
                                   def->delay);
        g_string_append(buf, "/>\n");
    }
    if (def->mtu)
        g_string_append_printf(buf, "  <mtu size='%u'/>\n", def->mtu);
    if (def->mac_given) {
        char mac[MAC_STRING_LEN];
        g_string_append_printf(buf, "  <mac address='%s'/>\n", mac_format(def->mac, mac));
    }
    if (def->domain) {
        g_string_append(buf, "  <domain");
        attr(buf, "name", def->domain);
        if (def->domain_local_only)
            g_string_append_printf(buf, " localOnly='%s'", tristate_names[def->domain_local_only]);
        g_string_append(buf, "/>\n");
    }
    format_dns(buf, def);
    vlan_def_format(buf, 1, &def->vlan);
    bandwidth_def_format(buf, 1, &def->inbound, &def->outbound, 0);
    for (guint i = 0; i < def->ips->len; i++)
        format_ip(buf, def->ips->pdata[i]);
    for (guint i = 0; i < def->portgroups->len; i++) {
        const struct network_portgroup *pg = def->portgroups->pdata[i];
        g_string_append(buf, "  <portgroup");
        attr(buf, "name", pg->name);
        if (pg->is_default)
            g_string_append(buf, " default='yes'");
        if (!pg->vlan.ntags && !bandwidth_rate_given(&pg->inbound) &&
            !bandwidth_rate_given(&pg->outbound)) {
            g_string_append(buf, "/>\n");
            continue;
        }
        g_string_append(buf, ">\n");
        vlan_def_format(buf, 2, &pg->vlan);
        bandwidth_def_format(buf, 2, &pg->inbound, &pg->outbound, 0);
        g_string_append(buf, "  </portgroup>\n");
    }
    g_string_append(buf, "</network>\n");
    return g_string_free(buf, FALSE);
}
