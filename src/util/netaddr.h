/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netaddr: IPv4 and IPv6 addresses, prefixes and MAC addresses as values; prefix netaddr_ and
 * mac_. Pure: no sockets. */
#pragma once

#include <glib.h>
#include <stdint.h>

#define NETADDR_STRING_LEN 46 /* INET6_ADDRSTRLEN */
#define MAC_LEN 6
#define MAC_STRING_LEN 18

struct netaddr {
    int family; /* AF_INET or AF_INET6; 0 when unset */
    uint8_t bytes[16];
};

/* Reads an IPv4 or IPv6 address in numeric form. FALSE when STR is not one. */
gboolean netaddr_parse(const char *str, struct netaddr *ret);
/* Formats A into BUF (NETADDR_STRING_LEN bytes). Returns BUF. */
const char *netaddr_format(const struct netaddr *a, char *buf);
/* Bits of the address: 32 or 128. */
unsigned netaddr_bits(const struct netaddr *a);
/* The prefix length of a netmask (a contiguous run of ones), or -1 when it is not one. */
int netaddr_mask_prefix(const struct netaddr *mask);
/* The netmask of PREFIX bits for FAMILY. */
void netaddr_prefix_mask(int family, unsigned prefix, struct netaddr *ret);
/* A with its last (bits - PREFIX) bits cleared (the network) or set (the broadcast). */
void netaddr_network(const struct netaddr *a, unsigned prefix, struct netaddr *ret);
void netaddr_broadcast(const struct netaddr *a, unsigned prefix, struct netaddr *ret);
/* Whether A lies in NET/PREFIX (same family). */
gboolean netaddr_in_subnet(const struct netaddr *a, const struct netaddr *net, unsigned prefix);
/* Whether the subnets A/PA and B/PB overlap. */
gboolean netaddr_subnets_overlap(const struct netaddr *a, unsigned pa, const struct netaddr *b,
                                 unsigned pb);
/* <0, 0, >0 as A sorts before, equal to, after B (families must match). */
int netaddr_compare(const struct netaddr *a, const struct netaddr *b);
gboolean netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* A + N (IPv4 only, wrapping is the caller's concern). */
void netaddr_add(const struct netaddr *a, uint32_t n, struct netaddr *ret);

/* Reads "xx:xx:xx:xx:xx:xx" (hex digits of either case, ':' or '-' separated). */
gboolean mac_parse(const char *str, uint8_t *ret);
/* Lowercase "52:54:00:12:34:56" into BUF (MAC_STRING_LEN bytes). Returns BUF. */
const char *mac_format(const uint8_t *mac, char *buf);
/* A random MAC with libvirt's QEMU prefix 52:54:00. */
void mac_generate(uint8_t *ret);
