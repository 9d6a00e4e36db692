/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xml2argv: tests/data/xml2argv/NAME.xml -> NAME.args (the QEMU command line, one argument
 * per line), or NAME.err (line 1: the error code, line 2: a substring of the message) for
 * rejected input. REGENERATE=1 rewrites the .args files. */
#include <stdlib.h>
#include <string.h>

#include "conf/domain_def.h"
#include "qemu/command.h"
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
    g_autofree char *xml = NULL;
    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));

    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(xml, 0, &error);
    g_auto(GStrv) argv = NULL;
    if (def) {
        struct qemu_command_opts opts = {
            .emulator = "/usr/bin/qemu-system-x86_64",
            .kvm = def->virt_type == DOMAIN_VIRT_KVM,
            .channel_dir = "/run/domus/channel",
        };
        argv = qemu_command_build(def, &opts, &error);
    }
    if (g_file_test(err_path, G_FILE_TEST_EXISTS)) {
        g_autofree char *expect = NULL;
        g_assert_true(g_file_get_contents(err_path, &expect, NULL, NULL));
        g_auto(GStrv) lines = g_strsplit(expect, "\n", 3);
        g_assert_nonnull(error);
        g_assert_cmpint(err_code(error), ==, atoi(lines[0]));
        if (!strstr(error->message, lines[1]))
            g_error("%s: message '%s' lacks '%s'", base, error->message, lines[1]);
        return;
    }
    if (!argv)
        g_error("%s: %s", base, error->message);
    g_autofree char *got = format_argv(argv);
    if (g_getenv("REGENERATE")) {
        g_assert_true(g_file_set_contents(args_path, got, -1, NULL));
        return;
    }
    g_autofree char *expect = NULL;
    if (!g_file_get_contents(args_path, &expect, NULL, NULL))
        g_error("%s missing; run with REGENERATE=1 and review it", args_path);
    g_assert_cmpstr(got, ==, expect);
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
        if (g_str_has_suffix(e, ".xml"))
            g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *path = g_strdup_printf("/xml2argv/%s", name);
        g_test_add_data_func_full(path, g_build_filename(dir, name, NULL), test_case, g_free);
    }
    return g_test_run();
}
