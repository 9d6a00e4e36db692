/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdev: links are made and changed by rtnetlink messages (libnl builds, sends and checks
 * them); routes are read through libnl's route cache; taps come from /dev/net/tun. Each call
 * opens its own netlink socket: these are rare operations (network start, guest NIC), and a
 * socket per call keeps no state to go stale across namespaces or errors. */
#include "network/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

/* USER_HZ: the unit of the bridge's timers over netlink */
#define NETDEV_CLOCK_HZ 100

typedef struct nl_sock nl_sock_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_sock_t, nl_socket_free)
typedef struct nl_msg nl_msg_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_msg_t, nlmsg_free)
typedef struct nl_addr nl_addr_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_addr_t, nl_addr_put)
typedef struct rtnl_addr rtnl_addr_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rtnl_addr_t, rtnl_addr_put)
typedef struct nl_cache nl_cache_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(nl_cache_t, nl_cache_free)

static struct nl_sock *
open_socket(const char *what, const char *dev, GError **error)
{
    g_autoptr(nl_sock_t) sock = nl_socket_alloc();
    int rc = nl_connect(sock, NETLINK_ROUTE);
    if (rc < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot %s '%s': netlink: %s", what, dev,
                nl_geterror(rc));
        return NULL;
    }
    return g_steal_pointer(&sock);
}

/* Sends MSG and waits for the kernel's answer. WHAT and DEV name the action in errors. */
static gboolean
talk(struct nl_msg *msg, const char *what, const char *dev, GError **error)
{
    g_autoptr(nl_sock_t) sock = open_socket(what, dev, error);
    if (!sock)
        return FALSE;
    int rc = nl_send_sync(sock, msg); /* frees MSG */
    if (rc < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot %s '%s': %s", what, dev,
                nl_geterror(rc));
        return FALSE;
    }
    return TRUE;
}

static int
index_of(const char *name, const char *what, GError **error)
{
    unsigned idx = strlen(name) < IFNAMSIZ ? if_nametoindex(name) : 0;
    if (!idx) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot %s '%s': no such interface",
                what, name);
        return -1;
    }
    return (int)idx;
}

/* A RTM_NEWLINK / RTM_DELLINK message about interface INDEX (0: by name). */
static struct nl_msg *
link_msg(int type, int flags, int index, unsigned ifi_flags, unsigned ifi_change)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
    struct ifinfomsg ifi = {
        .ifi_family = AF_UNSPEC,
        .ifi_index = index,
        .ifi_flags = ifi_flags,
        .ifi_change = ifi_change,
    };
    nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
    return msg;
}

gboolean
netdev_exists(const char *name)
{
    return strlen(name) < IFNAMSIZ && if_nametoindex(name) != 0;
}

gboolean
netdev_bridge_create(const char *name, const uint8_t *mac, unsigned mtu, gboolean stp,
                     unsigned long delay, GError **error)
{
    if (netdev_exists(name)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "interface '%s' already exists; choose another bridge name", name);
        return FALSE;
    }
    struct nl_msg *msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
    NLA_PUT_STRING(msg, IFLA_IFNAME, name);
    NLA_PUT(msg, IFLA_ADDRESS, MAC_LEN, mac);
    if (mtu)
        NLA_PUT_U32(msg, IFLA_MTU, mtu);
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    NLA_PUT_STRING(msg, IFLA_INFO_KIND, "bridge");
    struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
    /* the kernel applies the delay before it turns STP on, where 0 would be out of range */
    NLA_PUT_U32(msg, IFLA_BR_FORWARD_DELAY, (uint32_t)(delay * NETDEV_CLOCK_HZ));
    NLA_PUT_U32(msg, IFLA_BR_STP_STATE, stp ? 1 : 0);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
    return talk(msg, "create bridge", name, error);

nla_put_failure:
    nlmsg_free(msg);
    err_set(error, ERR_FROM_NETWORK, ERR_INTERNAL_ERROR, "cannot build netlink message for '%s'",
            name);
    return FALSE;
}

gboolean
netdev_delete(const char *name, GError **error)
{
    int idx = index_of(name, "delete interface", error);
    if (idx < 0)
        return FALSE;
    return talk(link_msg(RTM_DELLINK, 0, idx, 0, 0), "delete interface", name, error);
}

gboolean
netdev_set_up(const char *name, gboolean up, GError **error)
{
    int idx = index_of(name, up ? "bring up" : "bring down", error);
    if (idx < 0)
        return FALSE;
    return talk(link_msg(RTM_NEWLINK, 0, idx, up ? IFF_UP : 0, IFF_UP),
                up ? "bring up" : "bring down", name, error);
}

/* Sets one attribute of DEV: a U32 (when DATA is NULL) or LEN bytes of DATA. */
static gboolean
set_attr(const char *dev, int type, uint32_t value, const void *data, size_t len, const char *what,
         GError **error)
{
    int idx = index_of(dev, what, error);
    if (idx < 0)
        return FALSE;
    struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, idx, 0, 0);
    int rc = data ? nla_put(msg, type, (int)len, data) : nla_put_u32(msg, type, value);
    if (rc < 0) {
        nlmsg_free(msg);
        err_set(error, ERR_FROM_NETWORK, ERR_INTERNAL_ERROR, "cannot %s '%s': %s", what, dev,
                nl_geterror(rc));
        return FALSE;
    }
    return talk(msg, what, dev, error);
}

gboolean
netdev_set_master(const char *dev, const char *bridge, GError **error)
{
    int master = index_of(bridge, "attach to bridge", error);
    if (master < 0)
        return FALSE;
    g_autofree char *what = g_strdup_printf("attach to bridge '%s' the interface", bridge);
    return set_attr(dev, IFLA_MASTER, (uint32_t)master, NULL, 0, what, error);
}

static struct nl_msg *
vlan_filtering_msg(int idx)
{
    struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, idx, 0, 0);
    struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
    NLA_PUT_STRING(msg, IFLA_INFO_KIND, "bridge");
    struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
    NLA_PUT_U8(msg, IFLA_BR_VLAN_FILTERING, 1);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
    return msg;

nla_put_failure:
    nlmsg_free(msg);
    return NULL;
}

gboolean
netdev_bridge_vlan_filtering(const char *bridge, GError **error)
{
    int idx = index_of(bridge, "turn on VLAN filtering on bridge", error);
    if (idx < 0)
        return FALSE;
    g_autoptr(nl_sock_t) sock = open_socket("turn on VLAN filtering on bridge", bridge, error);
    if (!sock)
        return FALSE;
    struct nl_msg *msg = vlan_filtering_msg(idx);
    if (!msg) {
        err_set(error, ERR_FROM_NETWORK, ERR_INTERNAL_ERROR,
                "cannot build netlink message for '%s'", bridge);
        return FALSE;
    }
    int rc = nl_send_sync(sock, msg); /* frees MSG */
    if (rc == -NLE_OPNOTSUPP) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_UNSUPPORTED,
                "VLAN tags cannot be applied on bridge '%s': this host's kernel has no bridge "
                "VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)",
                bridge);
        return FALSE;
    }
    if (rc < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR,
                "cannot turn on VLAN filtering on bridge '%s': %s", bridge, nl_geterror(rc));
        return FALSE;
    }
    return TRUE;
}

gboolean
netdev_port_vlan(const char *dev, unsigned vid, gboolean add, unsigned flags, GError **error)
{
    g_autofree char *what = g_strdup_printf("%s VLAN %u %s the bridge port", add ? "add" : "remove",
                                            vid, add ? "to" : "from");
    int idx = index_of(dev, what, error);
    if (idx < 0)
        return FALSE;
    struct nl_msg *msg =
        nlmsg_alloc_simple(add ? RTM_SETLINK : RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
    struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = idx};
    nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
    struct bridge_vlan_info info = {
        .flags = (uint16_t)((flags & NETDEV_VLAN_PVID ? BRIDGE_VLAN_INFO_PVID : 0) |
                            (flags & NETDEV_VLAN_UNTAGGED ? BRIDGE_VLAN_INFO_UNTAGGED : 0)),
        .vid = (uint16_t)vid,
    };
    struct nlattr *spec = nla_nest_start(msg, IFLA_AF_SPEC);
    NLA_PUT(msg, IFLA_BRIDGE_VLAN_INFO, sizeof(info), &info);
    nla_nest_end(msg, spec);
    return talk(msg, what, dev, error);

nla_put_failure:
    nlmsg_free(msg);
    err_set(error, ERR_FROM_NETWORK, ERR_INTERNAL_ERROR, "cannot build netlink message for '%s'",
            dev);
    return FALSE;
}

gboolean
netdev_set_mac(const char *dev, const uint8_t *mac, GError **error)
{
    return set_attr(dev, IFLA_ADDRESS, 0, mac, MAC_LEN, "set the MAC address of", error);
}

gboolean
netdev_set_mtu(const char *dev, unsigned mtu, GError **error)
{
    return set_attr(dev, IFLA_MTU, mtu, NULL, 0, "set the MTU of", error);
}

unsigned
netdev_get_mtu(const char *dev)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    if (fd < 0 || strlen(dev) >= IFNAMSIZ) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    g_strlcpy(ifr.ifr_name, dev, IFNAMSIZ);
    int rc = ioctl(fd, SIOCGIFMTU, &ifr);
    close(fd);
    return rc < 0 ? 0 : (unsigned)ifr.ifr_mtu;
}

char *
netdev_master(const char *dev)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nl_sock_t) sock = open_socket("look up", dev, &error);
    struct rtnl_link *link = NULL;
    if (!sock || strlen(dev) >= IFNAMSIZ || rtnl_link_get_kernel(sock, 0, dev, &link) < 0)
        return NULL;
    int master = rtnl_link_get_master(link);
    rtnl_link_put(link);
    char name[IFNAMSIZ];
    return master > 0 && if_indextoname((unsigned)master, name) ? g_strdup(name) : NULL;
}

gboolean
netdev_is_bridge(const char *dev)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nl_sock_t) sock = open_socket("look up", dev, &error);
    struct rtnl_link *link = NULL;
    if (!sock || rtnl_link_get_kernel(sock, 0, dev, &link) < 0)
        return FALSE;
    const char *kind = rtnl_link_get_type(link);
    gboolean ret = kind && g_str_equal(kind, "bridge");
    rtnl_link_put(link);
    return ret;
}

gboolean
netdev_add_address(const char *name, const struct netaddr *address, unsigned prefix, GError **error)
{
    int idx = index_of(name, "add an address to", error);
    if (idx < 0)
        return FALSE;
    g_autoptr(nl_sock_t) sock = open_socket("add an address to", name, error);
    if (!sock)
        return FALSE;
    g_autoptr(rtnl_addr_t) addr = rtnl_addr_alloc();
    g_autoptr(nl_addr_t) local =
        nl_addr_build(address->family, address->bytes, netaddr_bits(address) / 8);
    nl_addr_set_prefixlen(local, (int)prefix);
    rtnl_addr_set_ifindex(addr, idx);
    rtnl_addr_set_family(addr, address->family);
    rtnl_addr_set_prefixlen(addr, (int)prefix);
    int rc = rtnl_addr_set_local(addr, local);
    if (rc >= 0 && address->family == AF_INET) {
        /* the broadcast address, as ip(8) and libvirt give it */
        struct netaddr b;
        netaddr_broadcast(address, prefix, &b);
        g_autoptr(nl_addr_t) bcast = nl_addr_build(AF_INET, b.bytes, 4);
        rc = rtnl_addr_set_broadcast(addr, bcast);
    }
    if (rc >= 0)
        rc = rtnl_addr_add(sock, addr, 0);
    if (rc < 0) {
        char s[NETADDR_STRING_LEN];
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot add address %s/%u to '%s': %s",
                netaddr_format(address, s), prefix, name, nl_geterror(rc));
        return FALSE;
    }
    return TRUE;
}

static int
tap_open(const char *name, int flags, const char *what, char **ret_name, GError **error)
{
    autoclose int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot %s: /dev/net/tun: %s", what,
                g_strerror(errno));
        return -1;
    }
    struct ifreq ifr = {0};
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | flags);
    if (name) {
        if (strlen(name) >= IFNAMSIZ) {
            err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                    "interface name '%s' is too long; the limit is %d characters", name,
                    IFNAMSIZ - 1);
            return -1;
        }
        g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot %s '%s': %s", what,
                name ? name : "tap", g_strerror(errno));
        return -1;
    }
    *ret_name = g_strndup(ifr.ifr_name, IFNAMSIZ);
    return g_steal_fd(&fd);
}

int
netdev_tap_create(const char *name, char **ret_name, GError **error)
{
    if (name && !strchr(name, '%') && netdev_exists(name)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "interface '%s' already exists; choose another target dev or let Domus name it",
                name);
        return -1;
    }
    return tap_open(name ? name : "vnet%d", 0, "create tap", ret_name, error);
}

int
netdev_tap_open(const char *name, char **ret_name, GError **error)
{
    if (!netdev_exists(name)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "tap '%s' does not exist; create it first or drop managed='no'", name);
        return -1;
    }
    /* IFF_TUN_EXCL is not wanted: attaching to the existing device is the point */
    return tap_open(name, 0, "open tap", ret_name, error);
}

GPtrArray *
netdev_routes(int family, GError **error)
{
    g_autoptr(nl_sock_t) sock = open_socket("read routes of", "host", error);
    if (!sock)
        return NULL;
    g_autoptr(nl_cache_t) cache = NULL;
    int rc = rtnl_route_alloc_cache(sock, family, 0, &cache);
    if (rc < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot read the host's routes: %s",
                nl_geterror(rc));
        return NULL;
    }
    GPtrArray *ret = g_ptr_array_new_with_free_func(g_free);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(r);
        /* the main table's unicast routes: local and broadcast ones say nothing of subnets */
        if (!dst || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
            rtnl_route_get_type(r) != RTN_UNICAST || nl_addr_get_prefixlen(dst) == 0 ||
            nl_addr_get_len(dst) > 16)
            continue;
        struct netdev_route *route = g_new0(struct netdev_route, 1);
        route->dest.family = family;
        memcpy(route->dest.bytes, nl_addr_get_binary_addr(dst), nl_addr_get_len(dst));
        route->prefix = (unsigned)nl_addr_get_prefixlen(dst);
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
        if (nh)
            if_indextoname((unsigned)rtnl_route_nh_get_ifindex(nh), route->dev);
        g_ptr_array_add(ret, route);
    }
    return ret;
}
