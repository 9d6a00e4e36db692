/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-network-def: network XML parse/format and the address helpers it stands on.
 * Data-driven: tests/data/networkxml2xml/NAME.xml is parsed and formatted and must equal
 * NAME.out.xml (REGENERATE=1 rewrites it), the output being a fixed point;
 * tests/data/networkinvalid/NAME.xml must fail with the code on line 1 of NAME.err and a
 * message containing line 2. */
#include <string.h>
#include <sys/socket.h>

#include "conf/network_def.h"
#include "util/err.h"

static char *
data_dir(const char *suite)
{
    const char *root = g_getenv("DOMUS_SRCDIR");
    if (root)
        return g_build_filename(root, "tests", "data", suite, NULL);
    return g_build_filename(DOMUS_SCHEMA_DIR, "..", "..", "tests", "data", suite, NULL);
}

static char *
read_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("%s", error->message);
    return text;
}

/* A generated uuid is pinned to zeros so that the expected output is stable. */
static char *
parse_format(const char *xml, unsigned flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(network_def) def = network_def_parse(xml, &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    if (!strstr(xml, "<uuid"))
        memset(def->uuid, 0, sizeof(def->uuid));
    /* a copy formats the same */
    g_autoptr(network_def) copy = network_def_copy(def);
    g_autofree char *a = network_def_format(def, flags);
    g_autofree char *b = network_def_format(copy, flags);
    g_assert_cmpstr(a, ==, b);
    return g_steal_pointer(&a);
}

static void
test_xml2xml(gconstpointer data)
{
    const char *in_path = data;
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *out_path = g_strconcat(base, ".out.xml", NULL);
    g_autofree char *in = read_file(in_path);
    g_autofree char *actual = parse_format(in, 0);
    if (g_getenv("REGENERATE")) {
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents(out_path, actual, -1, &error))
            g_error("%s", error->message);
    }
    g_autofree char *expected = read_file(out_path);
    g_assert_cmpstr(actual, ==, expected);
    g_autofree char *again = parse_format(expected, 0);
    g_assert_cmpstr(again, ==, expected);
}

static void
test_invalid(gconstpointer data)
{
    const char *in_path = data;
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *err_path = g_strconcat(base, ".err", NULL);
    g_autofree char *in = read_file(in_path);
    g_autofree char *expect = read_file(err_path);
    g_auto(GStrv) lines = g_strsplit(expect, "\n", 3);
    g_assert_cmpuint(g_strv_length(lines), >=, 2);
    guint64 code = 0;
    g_assert_true(g_ascii_string_to_unsigned(g_strstrip(lines[0]), 10, 1, 1000, &code, NULL));
    g_autoptr(GError) error = NULL;
    g_autoptr(network_def) def = network_def_parse(in, &error);
    g_assert_null(def);
    g_assert_nonnull(error);
    if (g_test_verbose())
        g_test_message("%s: %s", in_path, error->message);
    g_assert_cmpint(err_code(error), ==, (int)code);
    g_assert_cmpint(err_origin(error), ==, ERR_FROM_NETWORK);
    if (!strstr(error->message, lines[1]))
        g_test_fail_printf("message '%s' does not contain '%s'", error->message, lines[1]);
}

/* connections= is live state: formatted only for the live XML, dropped on input */
static void
test_live(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(network_def) def = network_def_parse(
        "<network connections='7'><name>n</name><bridge name='br9'/></network>", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->connections, ==, 0);
    def->connections = 2;
    g_autofree char *live = network_def_format(def, 0);
    g_autofree char *inactive = network_def_format(def, NETWORK_DEF_FORMAT_INACTIVE);
    g_assert_true(g_str_has_prefix(live, "<network connections='2'>\n"));
    g_assert_true(g_str_has_prefix(inactive, "<network>\n"));
}

static void
test_update_pieces(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(network_dhcp_host) h = network_def_dhcp_host_parse(
        "<host mac='52:54:00:AA:bb:01' name='a' ip='10.0.0.5'/>", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(h->mac, ==, "52:54:00:aa:bb:01");
    g_assert_cmpstr(h->name, ==, "a");
    g_autoptr(network_dns_host) d = network_def_dns_host_parse(
        "<host ip='10.0.0.9'><hostname>x</hostname><hostname>y</hostname></host>", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(d->names->len, ==, 2);
    g_autoptr(network_dhcp_host) bad = network_def_dhcp_host_parse("<range start='1'/>", &error);
    g_assert_null(bad);
    g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
}

static void
test_netaddr(void)
{
    struct netaddr a, b, m;
    char s[NETADDR_STRING_LEN];
    g_assert_true(netaddr_parse("192.168.122.1", &a));
    g_assert_cmpint(a.family, ==, AF_INET);
    g_assert_true(netaddr_parse("255.255.254.0", &m));
    g_assert_cmpint(netaddr_mask_prefix(&m), ==, 23);
    g_assert_true(netaddr_parse("255.0.255.0", &m));
    g_assert_cmpint(netaddr_mask_prefix(&m), ==, -1);
    netaddr_network(&a, 24, &b);
    g_assert_cmpstr(netaddr_format(&b, s), ==, "192.168.122.0");
    netaddr_broadcast(&a, 24, &b);
    g_assert_cmpstr(netaddr_format(&b, s), ==, "192.168.122.255");
    g_assert_true(netaddr_parse("192.168.123.7", &b));
    g_assert_false(netaddr_in_subnet(&b, &a, 24));
    g_assert_true(netaddr_in_subnet(&b, &a, 23));
    g_assert_true(netaddr_subnets_overlap(&a, 24, &b, 16));
    g_assert_false(netaddr_subnets_overlap(&a, 24, &b, 24));
    netaddr_add(&a, 255, &b);
    g_assert_cmpstr(netaddr_format(&b, s), ==, "192.168.123.0");
    g_assert_true(netaddr_parse("fd00::1", &a));
    g_assert_cmpint(a.family, ==, AF_INET6);
    g_assert_true(netaddr_parse("fd00:0:0:1::9", &b));
    g_assert_false(netaddr_in_subnet(&b, &a, 64));
    g_assert_true(netaddr_in_subnet(&b, &a, 48));
    g_assert_false(netaddr_parse("192.168.1", &a));
    g_assert_false(netaddr_parse("", &a));

    uint8_t mac[MAC_LEN];
    char ms[MAC_STRING_LEN];
    g_assert_true(mac_parse("52:54:00:AB:cd:0F", mac));
    g_assert_cmpstr(mac_format(mac, ms), ==, "52:54:00:ab:cd:0f");
    g_assert_false(mac_parse("52:54:00:ab:cd", mac));
    g_assert_false(mac_parse("52:54:00:ab:cd:0f:11", mac));
    g_assert_false(mac_parse("52:54:00:ab:cd:0g", mac));
    mac_generate(mac);
    g_assert_cmpint(mac[0], ==, 0x52);
    g_assert_cmpint(mac[2], ==, 0x00);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
add_suite(const char *suite, GTestDataFunc func)
{
    g_autofree char *dir = data_dir(suite);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    if (!d)
        g_error("%s", error->message);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml") && !g_str_has_suffix(name, ".out.xml"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *file = names->pdata[i];
        g_autofree char *stem = g_strndup(file, strlen(file) - strlen(".xml"));
        g_autofree char *path = g_strdup_printf("/network-def/%s/%s", suite, stem);
        g_test_add_data_func_full(path, g_build_filename(dir, file, NULL), func, g_free);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_suite("networkxml2xml", test_xml2xml);
    add_suite("networkinvalid", test_invalid);
    g_test_add_func("/network-def/live", test_live);
    g_test_add_func("/network-def/update-pieces", test_update_pieces);
    g_test_add_func("/network-def/netaddr", test_netaddr);
    return g_test_run();
}
