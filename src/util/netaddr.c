/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netaddr: addresses as values: parse, format, masks and subnets. */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

gboolean
netaddr_parse(const char *str, struct netaddr *ret)
{
    struct netaddr a = {0};
    if (!str)
        return FALSE;
    if (inet_pton(AF_INET, str, a.bytes) == 1) {
        a.family = AF_INET;
    } else if (inet_pton(AF_INET6, str, a.bytes) == 1) {
        a.family = AF_INET6;
    } else {
        return FALSE;
    }
    *ret = a;
    return TRUE;
}

const char *
netaddr_format(const struct netaddr *a, char *buf)
{
    if (!a->family || !inet_ntop(a->family, a->bytes, buf, NETADDR_STRING_LEN))
        buf[0] = '\0';
    return buf;
}

unsigned
netaddr_bits(const struct netaddr *a)
{
    return a->family == AF_INET6 ? 128 : 32;
}

int
netaddr_mask_prefix(const struct netaddr *mask)
{
    unsigned bits = netaddr_bits(mask), n = 0;
    while (n < bits && (mask->bytes[n / 8] & (0x80 >> (n % 8))))
        n++;
    for (unsigned i = n; i < bits; i++) {
        if (mask->bytes[i / 8] & (0x80 >> (i % 8)))
            return -1;
    }
    return (int)n;
}

void
netaddr_prefix_mask(int family, unsigned prefix, struct netaddr *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->family = family;
    for (unsigned i = 0; i < prefix && i < 128; i++)
        ret->bytes[i / 8] |= 0x80 >> (i % 8);
}

static void
fill_host_bits(const struct netaddr *a, unsigned prefix, gboolean set, struct netaddr *ret)
{
    struct netaddr r = *a;
    for (unsigned i = prefix; i < netaddr_bits(a); i++) {
        if (set)
            r.bytes[i / 8] |= 0x80 >> (i % 8);
        else
            r.bytes[i / 8] &= ~(0x80 >> (i % 8));
    }
    *ret = r;
}

void
netaddr_network(const struct netaddr *a, unsigned prefix, struct netaddr *ret)
{
    fill_host_bits(a, prefix, FALSE, ret);
}

void
netaddr_broadcast(const struct netaddr *a, unsigned prefix, struct netaddr *ret)
{
    fill_host_bits(a, prefix, TRUE, ret);
}

gboolean
netaddr_in_subnet(const struct netaddr *a, const struct netaddr *net, unsigned prefix)
{
    if (a->family != net->family)
        return FALSE;
    struct netaddr x, y;
    netaddr_network(a, prefix, &x);
    netaddr_network(net, prefix, &y);
    return netaddr_equal(&x, &y);
}

gboolean
netaddr_subnets_overlap(const struct netaddr *a, unsigned pa, const struct netaddr *b, unsigned pb)
{
    /* two prefixes overlap when the shorter one contains the other */
    return netaddr_in_subnet(a, b, MIN(pa, pb));
}

int
netaddr_compare(const struct netaddr *a, const struct netaddr *b)
{
    if (a->family != b->family)
        return a->family - b->family;
    return memcmp(a->bytes, b->bytes, netaddr_bits(a) / 8);
}

gboolean
netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
    return netaddr_compare(a, b) == 0;
}

void
netaddr_add(const struct netaddr *a, uint32_t n, struct netaddr *ret)
{
    struct netaddr r = *a;
    uint32_t v = ((uint32_t)r.bytes[0] << 24) | ((uint32_t)r.bytes[1] << 16) |
                 ((uint32_t)r.bytes[2] << 8) | r.bytes[3];
    v += n;
    r.bytes[0] = v >> 24;
    r.bytes[1] = v >> 16;
    r.bytes[2] = v >> 8;
    r.bytes[3] = v;
    *ret = r;
}

gboolean
mac_parse(const char *str, uint8_t *ret)
{
    uint8_t mac[MAC_LEN];
    const char *p = str;
    for (int i = 0; i < MAC_LEN; i++) {
        int hi = p ? g_ascii_xdigit_value(p[0]) : -1;
        int lo = hi >= 0 ? g_ascii_xdigit_value(p[1]) : -1;
        if (lo < 0)
            return FALSE;
        mac[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
        if (i < MAC_LEN - 1) {
            if (*p != ':' && *p != '-')
                return FALSE;
            p++;
        }
    }
    if (*p)
        return FALSE;
    memcpy(ret, mac, MAC_LEN);
    return TRUE;
}

const char *
mac_format(const uint8_t *mac, char *buf)
{
    g_snprintf(buf, MAC_STRING_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
               mac[4], mac[5]);
    return buf;
}

void
mac_generate(uint8_t *ret)
{
    ret[0] = 0x52;
    ret[1] = 0x54;
    ret[2] = 0x00;
    for (int i = 3; i < MAC_LEN; i++)
        ret[i] = (uint8_t)g_random_int_range(0, 256);
}
