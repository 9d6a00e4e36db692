/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-network-xml: network XML from a client (first byte even), or a dnsmasq lease file
 * (first byte odd: the file is written by dnsmasq, which runs as its own user). What parses
 * must format and parse again to the same text; what the host side makes of it (dnsmasq's
 * config and hosts files, the nftables table) must not crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "conf/network_def.h"
#include "network/dnsmasq.h"
#include "network/firewall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

static void
host_side(struct network_def *def)
{
    if (!def->bridge)
        def->bridge = g_strdup("virbr0");
    struct dnsmasq_files files;
    dnsmasq_files_init(&files, "/run/domus/network/dnsmasq", def->name);
    g_autofree char *conf = dnsmasq_conf(def, &files);
    g_autofree char *hosts = dnsmasq_hostsfile(def);
    g_autofree char *addn = dnsmasq_addnhosts(def);
    g_autofree char *rules = firewall_rules(def);
    g_assert(conf && hosts && addn && rules);
    dnsmasq_files_clear(&files);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    g_autofree char *text = g_strndup((const char *)data + 1, size - 1);
    if (data[0] & 1) {
        g_autoptr(GPtrArray) leases = dnsmasq_leases_parse(text);
        g_assert(leases);
        return 0;
    }
    GError *error = NULL;
    struct network_def *def = network_def_parse(text, &error);
    if (!def) {
        g_clear_error(&error);
        return 0;
    }
    g_autofree char *out = network_def_format(def, 0);
    struct network_def *again = network_def_parse(out, &error);
    if (!again) {
        fprintf(stderr, "formatted network does not parse: %s\n%s\n", error->message, out);
        abort();
    }
    g_autofree char *out2 = network_def_format(again, 0);
    if (!g_str_equal(out, out2)) {
        fprintf(stderr, "network round trip differs:\n%s\n---\n%s\n", out, out2);
        abort();
    }
    struct network_def *copy = network_def_copy(def);
    host_side(copy);
    network_def_free(copy);
    network_def_free(again);
    network_def_free(def);
    return 0;
}
