/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_address: building and reading a device's <address>; prefix domain_address_.
 * The parser (domain_def.c) has checked every value, so readers here trust them. */
#include <stdarg.h>
#include <stdlib.h>

#include "conf/domain_def.h"

struct domain_address *
domain_address_new(const char *type, ...)
{
    g_autoptr(GStrvBuilder) keys = g_strv_builder_new();
    g_autoptr(GStrvBuilder) values = g_strv_builder_new();
    va_list ap;
    va_start(ap, type);
    for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *)) {
        g_strv_builder_add(keys, key);
        g_strv_builder_add(values, va_arg(ap, const char *));
    }
    va_end(ap);
    struct domain_address *address = g_new0(struct domain_address, 1);
    address->type = g_strdup(type);
    address->keys = g_strv_builder_end(keys);
    address->values = g_strv_builder_end(values);
    return address;
}

const char *
domain_address_get(const struct domain_address *address, const char *key)
{
    for (guint i = 0; address && address->keys[i]; i++)
        if (g_str_equal(address->keys[i], key))
            return address->values[i];
    return NULL;
}

unsigned
domain_address_get_uint(const struct domain_address *address, const char *key, unsigned def)
{
    const char *value = domain_address_get(address, key);
    if (!value)
        return def;
    while (g_ascii_isspace(*value))
        value++;
    gboolean hex = value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(hex ? value + 2 : value, hex ? 16 : 10, 0, G_MAXUINT, &v, NULL))
        return def;
    return (unsigned)v;
}

gboolean
domain_address_is(const struct domain_address *address, const char *type)
{
    return address && g_str_equal(address->type, type);
}

void
domain_address_to_pci(const struct domain_address *address, struct pci_address *ret)
{
    const char *multi = domain_address_get(address, "multifunction");
    ret->domain = domain_address_get_uint(address, "domain", 0);
    ret->bus = domain_address_get_uint(address, "bus", 0);
    ret->slot = domain_address_get_uint(address, "slot", 0);
    ret->function = domain_address_get_uint(address, "function", 0);
    ret->multi = !multi                     ? DOMAIN_TRISTATE_ABSENT
                 : g_str_equal(multi, "on") ? DOMAIN_TRISTATE_YES
                                            : DOMAIN_TRISTATE_NO;
}

struct domain_address *
domain_address_new_pci(const struct pci_address *pci)
{
    char domain[8], bus[8], slot[8], function[8];
    g_snprintf(domain, sizeof(domain), "0x%04x", pci->domain);
    g_snprintf(bus, sizeof(bus), "0x%02x", pci->bus);
    g_snprintf(slot, sizeof(slot), "0x%02x", pci->slot);
    g_snprintf(function, sizeof(function), "0x%x", pci->function);
    if (pci->multi == DOMAIN_TRISTATE_ABSENT)
        return domain_address_new("pci", "domain", domain, "bus", bus, "slot", slot, "function",
                                  function, NULL);
    return domain_address_new("pci", "domain", domain, "bus", bus, "slot", slot, "function",
                              function, "multifunction",
                              pci->multi == DOMAIN_TRISTATE_YES ? "on" : "off", NULL);
}

char *
pci_address_to_string(const struct pci_address *pci)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", pci->domain, pci->bus, pci->slot, pci->function);
}
