/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network: virtual networks; prefix core_network_. The registry (persistent configs,
 * autostart markers, the live definition of each active network in its state directory), and
 * the start and stop of a network on the host: its bridge, addresses, firewall table and
 * dnsmasq. Everything runs on the main loop. */
#pragma once

#include "conf/network_def.h"
#include "core/core.h"
#include "conf/domain_def.h"
#include "network/dnsmasq.h"

/* virConnectListAllNetworksFlags */
enum {
    NET_LIST_INACTIVE = 1 << 0,
    NET_LIST_ACTIVE = 1 << 1,
    NET_LIST_PERSISTENT = 1 << 2,
    NET_LIST_TRANSIENT = 1 << 3,
    NET_LIST_AUTOSTART = 1 << 4,
    NET_LIST_NO_AUTOSTART = 1 << 5,
    NET_LIST_ALL_FLAGS = (1 << 6) - 1,
};
/* virNetworkEventLifecycleType */
enum {
    NET_EVENT_DEFINED = 0,
    NET_EVENT_UNDEFINED = 1,
    NET_EVENT_STARTED = 2,
    NET_EVENT_STOPPED = 3,
};
/* virNetworkUpdateCommand, virNetworkUpdateSection, virNetworkUpdateFlags */
enum {
    NET_UPDATE_MODIFY = 1,
    NET_UPDATE_DELETE = 2,
    NET_UPDATE_ADD_LAST = 3,
    NET_UPDATE_ADD_FIRST = 4,
};
enum {
    NET_SECTION_IP_DHCP_HOST = 4,
    NET_SECTION_DNS_HOST = 10,
    NET_SECTION_LAST = 13,
};
enum {
    NET_UPDATE_AFFECT_LIVE = 1 << 0,
    NET_UPDATE_AFFECT_CONFIG = 1 << 1,
};

struct network {
    struct network_def *def;     /* the live definition while active, else the persistent one */
    struct network_def *new_def; /* the persistent definition for the next start, while active */
    gboolean active;
    gboolean persistent;
    gboolean autostart;
    struct dnsmasq_files dnsmasq;
    int refs;
};

/* Loads networks, adopts those that were active (their bridge, firewall table and dnsmasq;
 * a missing dnsmasq is started again, a missing bridge makes the network inactive), defines
 * and autostarts 'default' the first time the configuration directory is used when
 * CREATE_DEFAULT, then starts autostart networks. Failures to start are logged. */
gboolean core_network_init(struct core *core, gboolean create_default, GError **error);
void core_network_free(struct core *core);

/* ERR_NO_NETWORK when absent. */
struct network *core_network_lookup_name(struct core *core, const char *name, GError **error);
struct network *core_network_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error);
/* Networks matching FLAGS (virConnectListAllNetworksFlags), sorted by name; borrowed. */
GPtrArray *core_network_list(struct core *core, unsigned flags);

/* Defines or redefines a persistent network (an active one keeps its live definition until
 * its next start). Picks a bridge name (virbrN) and a MAC when the XML has none. */
struct network *core_network_define(struct core *core, const char *xml, GError **error);
/* Creates and starts a transient network. */
struct network *core_network_create_xml(struct core *core, const char *xml, GError **error);
/* ERR_OPERATION_INVALID when active; on the host errors nothing is left behind. */
gboolean core_network_start(struct core *core, struct network *net, GError **error);
/* ERR_OPERATION_INVALID when inactive. A transient network goes away. */
gboolean core_network_destroy(struct core *core, struct network *net, GError **error);
/* Removes the persistent config; an active network becomes transient. */
gboolean core_network_undefine(struct core *core, struct network *net, GError **error);
/* ERR_OPERATION_INVALID for a transient network. */
gboolean core_network_set_autostart(struct core *core, struct network *net, gboolean on,
                                    GError **error);
/* The XML (NETWORK_DEF_FORMAT_INACTIVE: the persistent definition; else the live one, with
 * the guest NICs on it counted). Returns a new string. */
char *core_network_xml(struct core *core, struct network *net, unsigned flags);

/* Makes the tap of NIC NET of domain DOM_NAME at its start: on its network's bridge (an
 * inactive or missing network is ERR_OPERATION_INVALID "network 'X' is not active"), on a host
 * bridge (which must exist), or bare (type 'ethernet'; an existing tap when unmanaged). On a
 * network, NET takes its portgroup's bandwidth and VLAN (or the network's VLAN) when it has
 * none of its own; VLAN tags need a host bridge (its VLAN filtering is turned on); a floor
 * needs the network's inbound rate to hold it (ERR_OPERATION_INVALID when it would overcommit).
 * The tap gets the guest's MAC with 0xfe first (the bridge must not take it for its own) and
 * the bridge's MTU, its bandwidth, and is up. Records its name in NET->target_dev and, for a
 * network, the bridge in NET->live_bridge. Returns the tap's descriptor (the tap goes with its
 * last one: QEMU's), or -1 with ERROR. */
int core_network_plug(struct core *core, const char *dom_name, struct net_def *net, GError **error);
/* NET leaves its network (its domain stopped, or it was unplugged): its floor's class goes and
 * the others get the rest. Nothing to do without a floor. */
void core_network_unplug(struct core *core, struct net_def *net);
/* The live NET's floor becomes IN's (0: none): checked against the network's inbound rate and
 * the other floors, then its class made again. On failure the old floor stays. */
gboolean core_network_set_floor(struct core *core, struct net_def *net,
                                const struct bandwidth_rate *in, GError **error);
/* After a daemon restart: puts back on its bridge each tap of running DOM that is off it (its
 * network was restarted meanwhile), as libvirt does when it reconnects. */
void core_network_reattach(struct core *core, struct domain *dom);
/* The addresses of DOM's NICs on networks from the networks' DHCP leases (NICs without a
 * lease are left out, as libvirt does): a GPtrArray of struct guest_iface *. */
GPtrArray *core_network_lease_interfaces(struct core *core, struct domain *dom, GError **error);
/* The host name a DHCP lease of one of DOM's NICs carries (the first found); NULL with
 * ERR_NO_HOSTNAME when none has one, as libvirt. New string. */
char *core_network_lease_hostname(struct core *core, struct domain *dom, GError **error);
/* The same from the host's ARP table (/proc/net/arp), for NICs of every type. */
GPtrArray *core_network_arp_interfaces(struct domain *dom, GError **error);
/* The network's bridge: ERR_OPERATION_INVALID when it has none. Borrowed. */
const char *core_network_bridge(struct network *net, GError **error);
/* DHCP leases of an active network, optionally those of MAC only: an array of struct
 * dnsmasq_lease * with prefixes in *RET_PREFIXES (guint, same order). */
GPtrArray *core_network_leases(struct network *net, const char *mac, GArray **ret_prefixes,
                               GError **error);
/* virNetworkUpdate of sections ip-dhcp-host and dns-host (others: ERR_NO_SUPPORT), commands
 * add-first, add-last, delete, modify; FLAGS choose the live and/or persistent definition. */
gboolean core_network_update(struct core *core, struct network *net, unsigned command,
                             unsigned section, int parent_index, const char *xml, unsigned flags,
                             GError **error);
