/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network_def: libvirt network XML -> validated model -> XML; prefix network_def_. Pure: no
 * interfaces, no processes, no daemon state. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "conf/bandwidth.h"
#include "conf/vlan.h"
#include "util/netaddr.h"
#include "util/uuid.h"

enum network_forward {
    NETWORK_FORWARD_NONE, /* isolated: no <forward> */
    NETWORK_FORWARD_NAT,
    NETWORK_FORWARD_ROUTE,
    NETWORK_FORWARD_OPEN,
    NETWORK_FORWARD_BRIDGE, /* an existing host bridge: no addresses, no dnsmasq */
};

/* A tristate as libvirt keeps it: absent, yes, no. */
enum network_tristate { NETWORK_ABSENT, NETWORK_YES, NETWORK_NO };

struct network_dhcp_range {
    struct netaddr start;
    struct netaddr end;
};

struct network_dhcp_host {
    char *mac;         /* lowercase, or NULL (then NAME is given) */
    char *name;        /* or NULL */
    struct netaddr ip; /* family 0 when absent */
};

struct network_ip {
    struct netaddr address;
    unsigned prefix;
    gboolean family_given;  /* family='ipv4' written in the input: kept */
    gboolean netmask_given; /* netmask= rather than prefix=: kept */
    GPtrArray *ranges;      /* struct network_dhcp_range * */
    GPtrArray *hosts;       /* struct network_dhcp_host * */
};

struct network_dns_forwarder {
    char *domain;        /* or NULL */
    struct netaddr addr; /* family 0 when absent */
};

struct network_dns_host {
    struct netaddr ip;
    GPtrArray *names; /* char * */
};

/* <portgroup name default='yes'>: what the network's interfaces that name it (or, for the
 * default one, name none) take when they have none of their own */
struct network_portgroup {
    char *name;
    gboolean is_default;
    struct vlan_def vlan;
    struct bandwidth_rate inbound, outbound;
};

struct network_def {
    char *name;
    uint8_t uuid[UUID_LEN];
    char *title;
    char *description;
    char *metadata; /* see xml_util_metadata_parse; NULL when absent */
    enum network_forward forward;
    char *forward_dev;                     /* or NULL */
    struct netaddr nat_start, nat_end;     /* <nat><address>: family 0 when absent */
    unsigned nat_port_start, nat_port_end; /* <nat><port>: 0 when absent */
    char *bridge;        /* NULL until chosen (the daemon picks virbrN at define) */
    gboolean stp;        /* default on */
    unsigned long delay; /* seconds */
    uint8_t mac[MAC_LEN];
    gboolean mac_given; /* the daemon generates one at define for NAT/route/open/isolated */
    unsigned mtu;       /* 0: absent */
    char *domain;
    enum network_tristate domain_local_only;
    enum network_tristate dns_enable;
    GPtrArray *dns_forwarders;               /* struct network_dns_forwarder * */
    GPtrArray *dns_hosts;                    /* struct network_dns_host * */
    struct bandwidth_rate inbound, outbound; /* the bridge's: to the guests, from them */
    struct vlan_def vlan;                    /* every port's unless its own or its group's */
    GPtrArray *ips;                          /* struct network_ip * */
    GPtrArray *portgroups;                   /* struct network_portgroup * */
    /* live state, formatted without NETWORK_DEF_FORMAT_INACTIVE */
    unsigned connections;
};

/* virNetworkXMLFlags */
enum { NETWORK_DEF_FORMAT_INACTIVE = 1 << 0 };

/* Parses network XML and checks it on its own (what needs no other network or host state):
 * addresses, prefixes, DHCP ranges and hosts inside their subnet, no duplicate host MAC, name
 * or address, at most one IPv4 address with DHCP, what forward mode 'bridge' excludes.
 * Errors (origin ERR_FROM_NETWORK): ERR_XML_ERROR for malformed XML or a missing required
 * element, ERR_CONFIG_UNSUPPORTED naming an unknown element, attribute or forward mode,
 * ERR_INVALID_ARG / ERR_XML_DETAIL for a bad value. Returns a new definition; caller frees. */
struct network_def *network_def_parse(const char *xml, GError **error);
/* Formats DEF as libvirt does (2-space indent, single quotes). Returns a new string. */
char *network_def_format(const struct network_def *def, unsigned flags);
struct network_def *network_def_copy(const struct network_def *def);
void network_def_free(struct network_def *def);

/* Whether the network has a bridge of its own that Domus creates (every mode but 'bridge'). */
gboolean network_def_owns_bridge(const struct network_def *def);
/* The portgroup NAME, or with NULL the default one; NULL when there is none. */
const struct network_portgroup *network_def_portgroup(const struct network_def *def,
                                                      const char *name);
/* The first IPv4 <ip>, or NULL. */
struct network_ip *network_def_ipv4(const struct network_def *def);
const char *network_forward_to_string(enum network_forward forward);

/* Pieces of the definition that virNetworkUpdate edits (sections ip-dhcp-host, dns-host). */
struct network_dhcp_host *network_def_dhcp_host_parse(const char *xml, GError **error);
struct network_dns_host *network_def_dns_host_parse(const char *xml, GError **error);
void network_dhcp_host_free(struct network_dhcp_host *host);
void network_dns_host_free(struct network_dns_host *host);
/* Checks the whole definition again after an edit (the rules of network_def_parse). */
gboolean network_def_check(const struct network_def *def, GError **error);

/* For g_autoptr only. */
typedef struct network_def network_def;
typedef struct network_dhcp_host network_dhcp_host;
typedef struct network_dns_host network_dns_host;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(network_def, network_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(network_dhcp_host, network_dhcp_host_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(network_dns_host, network_dns_host_free)
