/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xml2argv: tests/data/xml2argv/NAME.xml -> NAME.args (the QEMU command line, one argument
 * per line) and NAME.live.xml (the live definition: the addresses given at define, the
 * aliases and image numbers given at start), or NAME.err (line 1: the error code, line 2: a
 * substring of the message) for rejected input. A NAME starting with "status-" is read as
 * the daemon's own status (every alias and backing chain kept). REGENERATE=1 rewrites the
 * .args and .live.xml files. */
#include <stdlib.h>
#include <string.h>

#include "conf/domain_def.h"
#include "qemu/address.h"
#include "qemu/alias.h"
#include "qemu/command.h"
#include "qemu/device.h"
#include "util/err.h"

static char *
data_dir(void)
{
    const char *root = g_getenv("DOMUS_SRCDIR");
    if (root)
        return g_build_filename(root, "tests", "data", "xml2argv", NULL);
    return g_build_filename(DOMUS_SCHEMA_DIR, "..", "..", "tests", "data", "xml2argv", NULL);
}

static char *
format_argv(GStrv argv)
{
    GString *out = g_string_new(NULL);
    for (int i = 0; argv[i]; i++) {
        /* an option and its value on one line, as QEMU's manual shows them */
        if (argv[i][0] == '-' && argv[i + 1] && argv[i + 1][0] != '-') {
            g_string_append_printf(out, "%s %s\n", argv[i], argv[i + 1]);
            i++;
        } else {
            g_string_append_printf(out, "%s\n", argv[i]);
        }
    }
    return g_string_free(out, FALSE);
}

static void
test_case(gconstpointer data)
{
    const char *base = data;
    g_autofree char *xml_path = g_strconcat(base, ".xml", NULL);
    g_autofree char *args_path = g_strconcat(base, ".args", NULL);
    g_autofree char *err_path = g_strconcat(base, ".err", NULL);
    g_autofree char *live_path = g_strconcat(base, ".live.xml", NULL);
    g_autofree char *name = g_path_get_basename(base);
    unsigned parse_flags = g_str_has_prefix(name, "status-") ? DOMAIN_DEF_PARSE_STATUS : 0;
    g_autofree char *xml = NULL;
    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));

    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(xml, parse_flags, &error);
    g_auto(GStrv) argv = NULL;
    if (def && !qemu_address_assign(def, &error))
        g_clear_pointer(&def, domain_def_free);
    if (def) {
        /* what a start does to the live definition */
        qemu_alias_assign(def);
        qemu_device_number_images(def);
        /* and what plugging the NICs does: a tap each, given to QEMU from fd 20 on */
        g_autoptr(GHashTable) taps = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < def->nets->len; i++) {
            struct net_def *net = def->nets->pdata[i];
            if (!qemu_device_net_has_tap(net))
                continue;
            if (!net->target_dev)
                net->target_dev = g_strdup_printf("vnet%u", i);
            if (net->type == NET_TYPE_NETWORK && !net->live_bridge)
                net->live_bridge = g_strdup("virbr0");
            g_hash_table_insert(taps, net->info.alias, GINT_TO_POINTER(20 + (int)i));
        }
        struct qemu_command_opts opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .kvm = def->virt_type == DOMAIN_VIRT_KVM,
            .channel_dir = "/run/domus/channel",
            .tap_fds = taps,
            /* a host whose QEMU and kernel have io_uring */
            .disk_aio = g_str_has_prefix(name, "aio-uring-") ? "io_uring" : NULL,
        };
        argv = qemu_command_build(def, &opts, &error);
    }
    if (g_file_test(err_path, G_FILE_TEST_EXISTS)) {
        g_autofree char *expect = NULL;
        g_assert_true(g_file_get_contents(err_path, &expect, NULL, NULL));
        g_auto(GStrv) lines = g_strsplit(expect, "\n", 3);
        g_assert_nonnull(error);
        g_assert_cmpint(err_code(error), ==, g_ascii_strtoll(lines[0], NULL, 10));
        if (!strstr(error->message, lines[1]))
            g_error("%s: message '%s' lacks '%s'", base, error->message, lines[1]);
        return;
    }
    if (!argv)
        g_error("%s: %s", base, error->message);
    g_autofree char *got = format_argv(argv);
    g_autofree char *live = domain_def_format(def, 1, 0);
    if (g_getenv("REGENERATE")) {
        g_assert_true(g_file_set_contents(args_path, got, -1, NULL));
        g_assert_true(g_file_set_contents(live_path, live, -1, NULL));
        return;
    }
    g_autofree char *expect = NULL;
    g_autofree char *expect_live = NULL;
    if (!g_file_get_contents(args_path, &expect, NULL, NULL) ||
        !g_file_get_contents(live_path, &expect_live, NULL, NULL))
        g_error("%s: .args or .live.xml missing; run with REGENERATE=1 and review them", base);
    g_assert_cmpstr(got, ==, expect);
    g_assert_cmpstr(live, ==, expect_live);

    /* the live definition reads back as itself, as after a daemon restart */
    g_autoptr(GError) reparse_error = NULL;
    g_autoptr(domain_def) again = domain_def_parse(live, DOMAIN_DEF_PARSE_STATUS, &reparse_error);
    g_assert_no_error(reparse_error);
    g_autofree char *live_again = domain_def_format(again, 1, 0);
    g_assert_cmpstr(live_again, ==, live);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *dir = data_dir();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    while ((e = g_dir_read_name(d)))
        if (g_str_has_suffix(e, ".xml") && !g_str_has_suffix(e, ".live.xml"))
            g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *path = g_strdup_printf("/xml2argv/%s", name);
        g_test_add_data_func_full(path, g_build_filename(dir, name, NULL), test_case, g_free);
    }
    return g_test_run();
}
