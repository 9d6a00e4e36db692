/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/storage/chain.c: chains written by qemu-img, read back from the headers:
 * relative names, formats, the end of a chain, and every refusal (no recorded format, a
 * loop, a protocol name, a missing image, a chain too deep). */
#include <glib/gstdio.h>
#include <string.h>

#include "storage/chain.h"
#include "util/err.h"

static char *
tmpdir(void)
{
    return g_dir_make_tmp("chain-XXXXXX", NULL);
}

static void
qemu_img(const char *dir, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)"qemu-img");
    for (; *args; args++)
        g_ptr_array_add(argv, (char *)*args);
    g_ptr_array_add(argv, NULL);
    g_autofree char *err = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(dir, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("qemu-img failed: %s", err);
}

static void
remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, e, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

/* Renames the header extension with magic FROM in IMAGE's first cluster to TO. */
static void
patch_extension(const char *image, const char *from, const char *to)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(image, &data, &len, NULL));
    char *at = memmem(data, MIN(len, 65536), from, 4);
    g_assert_nonnull(at);
    memcpy(at, to, 4);
    g_assert_true(g_file_set_contents(image, data, (gssize)len, NULL));
}

static void
test_chain(void)
{
    g_autofree char *dir = tmpdir();
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "raw", "base.raw", "1M", NULL});
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                                        "base.raw", "mid.qcow2", NULL});
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                                        "mid.qcow2", "top.qcow2", NULL});
    g_autofree char *top = g_build_filename(dir, "top.qcow2", NULL);
    g_autofree char *mid = g_build_filename(dir, "mid.qcow2", NULL);
    g_autofree char *base = g_build_filename(dir, "base.raw", NULL);
    g_autoptr(GError) error = NULL;

    g_autoptr(GPtrArray) layers = storage_chain_probe(top, STORAGE_FORMAT_QCOW2, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(layers->len, ==, 2);
    struct storage_chain_layer *l0 = layers->pdata[0], *l1 = layers->pdata[1];
    g_assert_cmpstr(l0->path, ==, mid);
    g_assert_cmpint(l0->format, ==, STORAGE_FORMAT_QCOW2);
    g_assert_cmpstr(l1->path, ==, base);
    g_assert_cmpint(l1->format, ==, STORAGE_FORMAT_RAW);
    g_assert_false(l1->block);

    /* raw has no chain; a qcow2 without backing neither */
    g_autoptr(GPtrArray) none = storage_chain_probe(base, STORAGE_FORMAT_RAW, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(none->len, ==, 0);
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "alone.qcow2", "1M", NULL});
    g_autofree char *alone = g_build_filename(dir, "alone.qcow2", NULL);
    g_autoptr(GPtrArray) none2 = storage_chain_probe(alone, STORAGE_FORMAT_QCOW2, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(none2->len, ==, 0);

    /* a raw file said to be qcow2 */
    g_assert_null(storage_chain_probe(base, STORAGE_FORMAT_QCOW2, &error));
    g_assert_cmpint(error->code, ==, ERR_OPERATION_INVALID);
    g_clear_error(&error);
    remove_tree(dir);
}

static void
test_refusals(void)
{
    g_autofree char *dir = tmpdir();
    g_autoptr(GError) error = NULL;
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "raw", "base.raw", "1M", NULL});

    /* no recorded format */
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                                        "base.raw", "nofmt.qcow2", NULL});
    g_autofree char *nofmt = g_build_filename(dir, "nofmt.qcow2", NULL);
    patch_extension(nofmt, "\xe2\x79\x2a\xca", "\x7a\xa7\xb0\x0f");
    g_assert_null(storage_chain_probe(nofmt, STORAGE_FORMAT_QCOW2, &error));
    g_assert_cmpint(error->code, ==, ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(error->message, "was not specified in the image metadata"));
    g_clear_error(&error);

    /* a loop: a over b over a (rebase -u writes names without checking them) */
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "a.qcow2", "1M", NULL});
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                                        "a.qcow2", "b.qcow2", NULL});
    qemu_img(dir, (const char *const[]){"rebase", "-q", "-u", "-F", "qcow2", "-b", "b.qcow2",
                                        "a.qcow2", NULL});
    g_autofree char *a = g_build_filename(dir, "a.qcow2", NULL);
    g_assert_null(storage_chain_probe(a, STORAGE_FORMAT_QCOW2, &error));
    g_assert_cmpint(error->code, ==, ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(error->message, "loops back"));
    g_clear_error(&error);

    /* a missing backing image */
    qemu_img(dir, (const char *const[]){"rebase", "-q", "-u", "-F", "raw", "-b", "gone.raw",
                                        "b.qcow2", NULL});
    g_autofree char *b = g_build_filename(dir, "b.qcow2", NULL);
    g_assert_null(storage_chain_probe(b, STORAGE_FORMAT_QCOW2, &error));
    g_assert_cmpint(error->code, ==, ERR_NO_STORAGE_VOL);
    g_clear_error(&error);

    /* a name QEMU would read as a protocol */
    qemu_img(dir, (const char *const[]){"rebase", "-q", "-u", "-F", "raw", "-b",
                                        "nbd://127.0.0.1/x", "b.qcow2", NULL});
    g_assert_null(storage_chain_probe(b, STORAGE_FORMAT_QCOW2, &error));
    g_assert_cmpint(error->code, ==, ERR_CONFIG_UNSUPPORTED);
    g_clear_error(&error);

    /* deeper than the limit: each image over the next, the last one raw */
    g_autofree char *prev = g_strdup("base.raw");
    const char *prev_fmt = "raw";
    for (int i = 0; i <= STORAGE_CHAIN_MAX; i++) {
        g_autofree char *name = g_strdup_printf("l%03d.qcow2", i);
        qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "-F", prev_fmt, "-b",
                                            prev, "-u", name, "1M", NULL});
        g_free(prev);
        prev = g_steal_pointer(&name);
        prev_fmt = "qcow2";
    }
    g_autofree char *deep = g_build_filename(dir, prev, NULL);
    g_assert_null(storage_chain_probe(deep, STORAGE_FORMAT_QCOW2, &error));
    g_assert_cmpint(error->code, ==, ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(error->message, "deeper than"));
    g_clear_error(&error);
    remove_tree(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chain/read", test_chain);
    g_test_add_func("/chain/refusals", test_refusals);
    return g_test_run();
}
