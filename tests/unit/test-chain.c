/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/storage/chain.c: chains written by qemu-img, read back from the headers:
 * relative names, formats, the end of a chain, and every refusal (no recorded format, a
 * loop, a protocol name, a missing image, a chain too deep). And src/storage/qcow2.c: the
 * overlays it writes against qemu-img's, checked and written into by QEMU's own tools. */
#include <glib/gstdio.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "storage/chain.h"
#include "storage/qcow2.h"
#include "util/err.h"
#include "util/file.h"

static char *
tmpdir(void)
{
    return g_dir_make_tmp("chain-XXXXXX", NULL);
}

/* Runs PROGRAM with ARGS in DIR; its standard output (a new string) when it succeeds, NULL
 * when it fails. */
static char *
run_tool(const char *dir, const char *program, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)program);
    for (; *args; args++)
        g_ptr_array_add(argv, (char *)*args);
    g_ptr_array_add(argv, NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(dir, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_test_message("%s failed: %s%s", program, out, err);
        return NULL;
    }
    return g_steal_pointer(&out);
}

static void
qemu_img(const char *dir, const char *const *args)
{
    g_autofree char *out = run_tool(dir, "qemu-img", args);
    g_assert_nonnull(out);
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

/* qemu-img info's JSON of PATH without the fields naming the file itself */
static char *
info_of(const char *dir, const char *path)
{
    g_autofree char *out =
        run_tool(dir, "qemu-img", (const char *const[]){"info", "--output=json", path, NULL});
    g_assert_nonnull(out);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    GString *kept = g_string_new(NULL);
    for (char **l = lines; *l; l++)
        if (!strstr(*l, "\"filename\"") && !strstr(*l, "\"actual-size\""))
            g_string_append_printf(kept, "%s\n", *l);
    return g_string_free(kept, FALSE);
}

/* Everything after the first cluster (refcounts, L1 table), and the file's length */
static GBytes *
after_header(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, >=, 65536);
    return g_bytes_new(data + 65536, len - 65536);
}

static void
test_overlay(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *raw = g_build_filename(dir, "base.raw", NULL);
    g_autofree char *qcow = g_build_filename(dir, "base.qcow2", NULL);
    struct {
        const char *size; /* of the base */
        gboolean qcow2;
    } cases[] = {
        {"0", FALSE},      {"256M", FALSE}, {"1048577K", FALSE},
        {"1G", TRUE},      {"3T", TRUE},    {"5T", TRUE}, /* an L1 table of two clusters */
        {"100000M", TRUE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *base = cases[i].qcow2 ? qcow : raw;
        const char *fmt = cases[i].qcow2 ? "qcow2" : "raw";
        g_test_message("base %s of %s", fmt, cases[i].size);
        g_unlink(base);
        qemu_img(dir, (const char *const[]){"create", "-q", "-f", fmt, base, cases[i].size, NULL});
        g_autofree char *theirs = g_build_filename(dir, "theirs.qcow2", NULL);
        g_autofree char *ours = g_build_filename(dir, "ours.qcow2", NULL);
        g_unlink(theirs);
        qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", "-F", fmt, "-b", base,
                                            theirs, NULL});

        guint64 size = 0;
        g_autoptr(GError) error = NULL;
        enum storage_format sf = cases[i].qcow2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW;
        g_assert_true(storage_qcow2_virtual_size(base, sf, &size, &error));
        g_assert_no_error(error);
        /* an image that is not empty is made empty: the file is truncated */
        g_assert_true(g_file_set_contents(ours, "junk junk junk", -1, NULL));
        autoclose int fd = open(ours, O_WRONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_true(storage_qcow2_write_overlay(fd, ours, size, base, sf, &error));
        g_assert_no_error(error);

        g_autofree char *info_theirs = info_of(dir, theirs);
        g_autofree char *info_ours = info_of(dir, ours);
        g_assert_cmpstr(info_ours, ==, info_theirs);
        g_autoptr(GBytes) tail_theirs = after_header(theirs);
        g_autoptr(GBytes) tail_ours = after_header(ours);
        g_assert_true(g_bytes_equal(tail_ours, tail_theirs));
        g_autofree char *check =
            run_tool(dir, "qemu-img", (const char *const[]){"check", "-q", ours, NULL});
        g_assert_nonnull(check);
    }

    /* QEMU writes into it: a cluster allocated, the image still consistent, the data read
     * back through the overlay while the base keeps its zeros */
    g_autofree char *ours = g_build_filename(dir, "ours.qcow2", NULL);
    g_unlink(raw);
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "raw", raw, "64M", NULL});
    autoclose int fd = open(ours, O_WRONLY | O_CLOEXEC);
    g_assert_true(storage_qcow2_write_overlay(fd, ours, 64 << 20, raw, STORAGE_FORMAT_RAW, NULL));
    g_autofree char *wrote =
        run_tool(dir, "qemu-io",
                 (const char *const[]){"-f", "qcow2", "-c", "write -P 0x5a 1M 192k", ours, NULL});
    g_assert_nonnull(wrote);
    g_autofree char *check =
        run_tool(dir, "qemu-img", (const char *const[]){"check", "-q", ours, NULL});
    g_assert_nonnull(check);
    g_autofree char *read =
        run_tool(dir, "qemu-io",
                 (const char *const[]){"-f", "qcow2", "-c", "read -P 0x5a 1M 192k", ours, NULL});
    g_assert_nonnull(read);
    g_assert_null(strstr(read, "Pattern verification failed"));
    g_autofree char *base_read = run_tool(
        dir, "qemu-io", (const char *const[]){"-f", "raw", "-c", "read -P 0 1M 192k", raw, NULL});
    g_assert_nonnull(base_read);
    g_assert_null(strstr(base_read, "Pattern verification failed"));
    remove_tree(dir);
}

static void
test_overlay_refusals(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *path = g_build_filename(dir, "o.qcow2", NULL);
    g_autoptr(GError) error = NULL;
    autoclose int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);

    /* a size QEMU cannot have */
    g_assert_false(storage_qcow2_write_overlay(fd, path, 1000, "/b", STORAGE_FORMAT_RAW, &error));
    g_assert_cmpint(error->code, ==, ERR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "1000 bytes"));
    g_clear_error(&error);
    /* a backing name longer than QEMU reads */
    g_autofree char *name = g_strnfill(1024, 'n');
    g_assert_false(
        storage_qcow2_write_overlay(fd, path, 1 << 20, name, STORAGE_FORMAT_RAW, &error));
    g_assert_cmpint(error->code, ==, ERR_INVALID_ARG);
    g_clear_error(&error);

    /* sizes: a missing image, one that is not qcow2, an encrypted one */
    guint64 size = 7;
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_assert_false(storage_qcow2_virtual_size(missing, STORAGE_FORMAT_RAW, &size, &error));
    g_assert_cmpint(error->code, ==, ERR_NO_STORAGE_VOL);
    g_clear_error(&error);
    g_autofree char *raw = g_build_filename(dir, "r.raw", NULL);
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "raw", raw, "1M", NULL});
    g_assert_false(storage_qcow2_virtual_size(raw, STORAGE_FORMAT_QCOW2, &size, &error));
    g_assert_cmpint(error->code, ==, ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(error->message, "not in qcow2 format"));
    g_clear_error(&error);
    g_autofree char *enc = g_build_filename(dir, "e.qcow2", NULL);
    qemu_img(dir, (const char *const[]){"create", "-q", "-f", "qcow2", enc, "1M", NULL});
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(enc, &data, &len, NULL));
    data[35] = 1; /* crypt_method AES */
    g_assert_true(g_file_set_contents(enc, data, (gssize)len, NULL));
    g_assert_false(storage_qcow2_virtual_size(enc, STORAGE_FORMAT_QCOW2, &size, &error));
    g_assert_nonnull(strstr(error->message, "encrypted"));
    g_assert_cmpuint(size, ==, 7);
    remove_tree(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chain/read", test_chain);
    g_test_add_func("/chain/refusals", test_refusals);
    g_test_add_func("/qcow2/overlay", test_overlay);
    g_test_add_func("/qcow2/overlay-refusals", test_overlay_refusals);
    return g_test_run();
}
