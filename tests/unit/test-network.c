/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-network: what a network becomes on the host, as text: dnsmasq's configuration and
 * hosts files, and the nftables table. Data-driven: tests/data/networkhost/NAME.xml gives
 * NAME.conf, NAME.hostsfile, NAME.addnhosts and NAME.nft (REGENERATE=1 rewrites them). */
#include <string.h>
#include <sys/socket.h>

#include "network/dnsmasq.h"
#include "network/firewall.h"

static char *
data_dir(void)
{
    const char *root = g_getenv("DOMUS_SRCDIR");
    if (root)
        return g_build_filename(root, "tests", "data", "networkhost", NULL);
    return g_build_filename(DOMUS_SCHEMA_DIR, "..", "..", "tests", "data", "networkhost", NULL);
}

static void
check_text(const char *path, const char *actual)
{
    if (g_getenv("REGENERATE")) {
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents(path, actual, -1, &error))
            g_error("%s", error->message);
    }
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &expected, NULL, &error))
        g_error("%s", error->message);
    g_assert_cmpstr(actual, ==, expected);
}

static void
test_case(gconstpointer data)
{
    const char *in_path = data;
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(in_path, &xml, NULL, &error))
        g_error("%s", error->message);
    g_autoptr(network_def) def = network_def_parse(xml, &error);
    g_assert_no_error(error);
    struct dnsmasq_files files;
    g_autofree char *name = g_path_get_basename(base);
    dnsmasq_files_init(&files, "/run/domus/network/dnsmasq", def->name);
    g_autofree char *conf = dnsmasq_needed(def) ? dnsmasq_conf(def, &files) : g_strdup("");
    g_autofree char *hosts = dnsmasq_hostsfile(def);
    g_autofree char *addn = dnsmasq_addnhosts(def);
    g_autofree char *nft = firewall_rules(def);
    dnsmasq_files_clear(&files);
    const struct {
        const char *ext;
        const char *text;
    } out[] = {{".conf", conf}, {".hostsfile", hosts}, {".addnhosts", addn}, {".nft", nft}};
    for (gsize i = 0; i < G_N_ELEMENTS(out); i++) {
        g_autofree char *path = g_strconcat(base, out[i].ext, NULL);
        check_text(path, out[i].text);
    }
}

static void
test_leases(void)
{
    const char *text = "1733400000 52:54:00:AA:bb:01 192.168.122.10 alpha 01:52:54:00:aa:bb:01\n"
                       "0 52:54:00:aa:bb:02 192.168.122.11 * *\n"
                       "garbage line\n"
                       "1733400000 nonsense 192.168.122.12 x *\n"
                       "duid 00:01:00:01:2c:5e:aa:bb:52:54:00:aa:bb:03\n"
                       "1733400001 1234 fd00::10 beta 00:01:00:01:2c:5e:aa:bb:52:54:00:aa:bb:03\n";
    g_autoptr(GPtrArray) l = dnsmasq_leases_parse(text);
    g_assert_cmpuint(l->len, ==, 3);
    const struct dnsmasq_lease *a = l->pdata[0], *b = l->pdata[1], *c = l->pdata[2];
    g_assert_cmpint(a->expiry, ==, 1733400000);
    g_assert_cmpint(a->family, ==, AF_INET);
    g_assert_cmpstr(a->mac, ==, "52:54:00:aa:bb:01");
    g_assert_cmpstr(a->ip, ==, "192.168.122.10");
    g_assert_cmpstr(a->hostname, ==, "alpha");
    g_assert_cmpstr(a->clientid, ==, "01:52:54:00:aa:bb:01");
    g_assert_cmpint(b->expiry, ==, 0);
    g_assert_null(b->hostname);
    g_assert_null(b->clientid);
    g_assert_cmpint(c->family, ==, AF_INET6);
    g_assert_null(c->mac);
    g_assert_cmpstr(c->iaid, ==, "1234");
    g_assert_cmpstr(c->ip, ==, "fd00::10");
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *dir = data_dir();
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    if (!d)
        g_error("%s", error->message);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *file = names->pdata[i];
        g_autofree char *stem = g_strndup(file, strlen(file) - strlen(".xml"));
        g_autofree char *path = g_strdup_printf("/network/host/%s", stem);
        g_test_add_data_func_full(path, g_build_filename(dir, file, NULL), test_case, g_free);
    }
    g_test_add_func("/network/leases", test_leases);
    return g_test_run();
}
