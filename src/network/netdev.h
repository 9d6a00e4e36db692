/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netdev: host network interfaces over netlink (libnl-route-3) and /dev/net/tun: bridges,
 * taps, addresses, links up and down, routes; prefix netdev_. Everything acts in the calling
 * process's network namespace. Errors (origin ERR_FROM_NETWORK): ERR_SYSTEM_ERROR naming the
 * interface and what the kernel said. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "util/netaddr.h"

/* Whether an interface NAME exists. */
gboolean netdev_exists(const char *name);
/* Creates bridge NAME with MAC, MTU (0: the kernel's), STP and forward DELAY (seconds); down,
 * without addresses. ERR_OPERATION_FAILED when NAME exists. */
gboolean netdev_bridge_create(const char *name, const uint8_t *mac, unsigned mtu, gboolean stp,
                              unsigned long delay, GError **error);
/* Deletes interface NAME (a bridge: its ports are released first by the kernel). */
gboolean netdev_delete(const char *name, GError **error);
gboolean netdev_set_up(const char *name, gboolean up, GError **error);
gboolean netdev_add_address(const char *name, const struct netaddr *address, unsigned prefix,
                            GError **error);
/* Makes DEV a port of BRIDGE. */
gboolean netdev_set_master(const char *dev, const char *bridge, GError **error);
/* Turns on BRIDGE's VLAN filtering (a no-op when it is on): each port then passes only the
 * VLANs it is a member of; ports keep the default, VLAN 1 untagged. */
gboolean netdev_bridge_vlan_filtering(const char *bridge, GError **error);
/* Adds bridge port DEV to VLAN VID, or removes it (ADD false); FLAGS: NETDEV_VLAN_PVID (the
 * VLAN untagged frames from the port join), NETDEV_VLAN_UNTAGGED (frames leave it untagged). */
enum { NETDEV_VLAN_PVID = 1 << 0, NETDEV_VLAN_UNTAGGED = 1 << 1 };
gboolean netdev_port_vlan(const char *dev, unsigned vid, gboolean add, unsigned flags,
                          GError **error);
gboolean netdev_set_mac(const char *dev, const uint8_t *mac, GError **error);
gboolean netdev_set_mtu(const char *dev, unsigned mtu, GError **error);
/* The MTU of DEV, or 0 when it cannot be read. */
unsigned netdev_get_mtu(const char *dev);
/* The bridge DEV is a port of (a new string), or NULL. */
char *netdev_master(const char *dev);
/* Whether DEV is a bridge. */
gboolean netdev_is_bridge(const char *dev);

/* Creates a tap: NAME (NULL or a template with %d, "vnet%d") with a vnet header (what virtio
 * wants). Returns its descriptor (O_CLOEXEC) and the kernel's name in *RET_NAME; the tap goes
 * away with the last descriptor. -1 with ERROR on failure. */
int netdev_tap_create(const char *name, char **ret_name, GError **error);
/* Opens an existing tap NAME (created by the user: <target dev='…' managed='no'/>). */
int netdev_tap_open(const char *name, char **ret_name, GError **error);

/* A route of the host: DEST/PREFIX through interface DEV. */
struct netdev_route {
    struct netaddr dest;
    unsigned prefix;
    char dev[16];
};
/* The host's routes of FAMILY (AF_INET or AF_INET6) but default routes. Returns an array of
 * struct netdev_route (g_free each) or NULL with ERROR. */
GPtrArray *netdev_routes(int family, GError **error);
