/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* firewall: rules as libvirt's network driver sets them, in nftables: guests of a NAT or
 * routed network reach out from their own subnet only and are reached back by replies (NAT)
 * or by anyone (route); an isolated network forwards nothing. Multicast and broadcast leave
 * unmasqueraded. The chains accept by default: they only refuse this network's strays, and
 * leave every other packet to the rest of the ruleset. */
#include "network/firewall.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

typedef struct nft_ctx nft_ctx_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nft_ctx_t, nft_ctx_free)

char *
firewall_table(const struct network_def *def)
{
    return g_strdup_printf("domus_%s", def->bridge);
}

static void
forward_rules(GString *r, const struct network_def *def, const struct network_ip *ip)
{
    const char *fam = ip->address.family == AF_INET ? "ip" : "ip6";
    char a[NETADDR_STRING_LEN];
    struct netaddr net;
    netaddr_network(&ip->address, ip->prefix, &net);
    g_autofree char *subnet = g_strdup_printf("%s/%u", netaddr_format(&net, a), ip->prefix);
    g_autofree char *out_dev =
        def->forward_dev ? g_strdup_printf(" oifname \"%s\"", def->forward_dev) : g_strdup("");
    g_autofree char *in_dev =
        def->forward_dev ? g_strdup_printf(" iifname \"%s\"", def->forward_dev) : g_strdup("");
    gboolean nat = def->forward == NETWORK_FORWARD_NAT && ip->address.family == AF_INET;
    /* out: from the guests' subnet */
    g_string_append_printf(r, "    iifname \"%s\"%s %s saddr %s accept\n", def->bridge, out_dev,
                           fam, subnet);
    /* in: replies only behind NAT; anything for a routed subnet */
    g_string_append_printf(r, "    oifname \"%s\"%s %s daddr %s%s accept\n", def->bridge, in_dev,
                           fam, subnet, nat ? " ct state related,established" : "");
}

static void
nat_rules(GString *r, const struct network_def *def, const struct network_ip *ip)
{
    char a[NETADDR_STRING_LEN], b[NETADDR_STRING_LEN];
    struct netaddr net;
    netaddr_network(&ip->address, ip->prefix, &net);
    g_autofree char *subnet = g_strdup_printf("%s/%u", netaddr_format(&net, a), ip->prefix);
    g_autofree char *out_dev =
        def->forward_dev ? g_strdup_printf(" oifname \"%s\"", def->forward_dev) : g_strdup("");
    g_autofree char *to = NULL;
    if (def->nat_start.family) {
        const struct netaddr *end = def->nat_end.family ? &def->nat_end : &def->nat_start;
        to = g_strdup_printf("snat ip to %s-%s", netaddr_format(&def->nat_start, a),
                             netaddr_format(end, b));
    } else {
        to = g_strdup("masquerade");
    }
    unsigned pstart = def->nat_port_start ? def->nat_port_start : 1024;
    unsigned pend = def->nat_port_end ? def->nat_port_end : 65535;
    g_string_append_printf(r, "    ip saddr %s ip daddr 224.0.0.0/24 return\n", subnet);
    g_string_append_printf(r, "    ip saddr %s ip daddr 255.255.255.255 return\n", subnet);
    if (def->nat_start.family)
        g_string_append_printf(
            r, "    ip saddr %s ip daddr != %s meta l4proto { tcp, udp }%s %s:%u-%u\n", subnet,
            subnet, out_dev, to, pstart, pend);
    else
        g_string_append_printf(r,
                               "    ip saddr %s ip daddr != %s meta l4proto { tcp, udp }%s %s to "
                               ":%u-%u\n",
                               subnet, subnet, out_dev, to, pstart, pend);
    g_string_append_printf(r, "    ip saddr %s ip daddr != %s%s %s\n", subnet, subnet, out_dev, to);
}

char *
firewall_rules(const struct network_def *def)
{
    if (def->forward == NETWORK_FORWARD_OPEN || def->forward == NETWORK_FORWARD_BRIDGE)
        return g_strdup("");
    g_autofree char *table = firewall_table(def);
    GString *r = g_string_new(NULL);
    g_string_append_printf(r, "table inet %s {\n", table);
    g_string_append(r, "  chain forward {\n"
                       "    type filter hook forward priority filter; policy accept;\n");
    if (def->forward != NETWORK_FORWARD_NONE) {
        for (guint i = 0; i < def->ips->len; i++)
            forward_rules(r, def, def->ips->pdata[i]);
    }
    /* guest to guest on the bridge is switched, not forwarded; anything else is refused */
    g_string_append_printf(r, "    iifname \"%s\" oifname \"%s\" accept\n", def->bridge,
                           def->bridge);
    g_string_append_printf(r, "    iifname \"%s\" reject\n", def->bridge);
    g_string_append_printf(r, "    oifname \"%s\" reject\n", def->bridge);
    g_string_append(r, "  }\n");
    const struct network_ip *ip4 = network_def_ipv4(def);
    if (def->forward == NETWORK_FORWARD_NAT && ip4) {
        g_string_append(r, "  chain postrouting {\n"
                           "    type nat hook postrouting priority srcnat; policy accept;\n");
        nat_rules(r, def, ip4);
        g_string_append(r, "  }\n");
    }
    g_string_append(r, "}\n");
    return g_string_free(r, FALSE);
}

static gboolean
run(const char *cmds, const char *what, const struct network_def *def, GError **error)
{
    g_autoptr(nft_ctx_t) ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    if (nft_run_cmd_from_buffer(ctx, cmds) != 0) {
        g_autofree char *msg = g_strstrip(g_strdup(nft_ctx_get_error_buffer(ctx)));
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR,
                "cannot %s of network '%s': nftables: %s", what, def->name, msg);
        return FALSE;
    }
    return TRUE;
}

gboolean
firewall_apply(const struct network_def *def, GError **error)
{
    g_autofree char *table = firewall_table(def);
    g_autofree char *rules = firewall_rules(def);
    /* add-then-delete empties whatever a previous run left, in the same transaction */
    g_autofree char *cmds =
        g_strdup_printf("add table inet %s\ndelete table inet %s\n%s", table, table, rules);
    return run(cmds, "set the firewall rules", def, error);
}

gboolean
firewall_remove(const struct network_def *def, GError **error)
{
    g_autofree char *table = firewall_table(def);
    g_autofree char *cmds =
        g_strdup_printf("add table inet %s\ndelete table inet %s\n", table, table);
    return run(cmds, "remove the firewall rules", def, error);
}

gboolean
firewall_enable_forwarding(int family, GError **error)
{
    const char *path = family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
                                          : "/proc/sys/net/ipv4/ip_forward";
    g_autofree char *now = NULL;
    if (g_file_get_contents(path, &now, NULL, NULL) && g_str_equal(g_strstrip(now), "1"))
        return TRUE;
    /* a sysctl is written in place: no temp file and rename under /proc */
    autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "1\n", 2) != 2) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot enable IP forwarding (%s): %s",
                path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}
