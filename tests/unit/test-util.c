/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/util: names, uuids, atomic writes, errors. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"
#include "util/names.h"
#include "util/procstat.h"
#include "util/uuid.h"

static void
test_names(void)
{
    /* libvirt's domain names: anything but a newline; and no '/', they are file names */
    const char *good[] = {"web",       "a",           "vm-1_x.y+z:w@h", ".hidden", "-opt", "sp ace",
                          "tab\tcr\r", "quote'\"&<>", "unicod\xc3\xa9", "...",     NULL};
    const char *bad[] = {"", "..", ".", NULL};
    const char *detail[] = {"../x", "a/b", "nl\n", "/", NULL};
    for (int i = 0; good[i]; i++)
        g_assert_true(names_validate(good[i], NAMES_DOMAIN, "domain", ERR_FROM_DOMAIN, NULL));
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(names_validate(bad[i], NAMES_DOMAIN, "domain", ERR_FROM_DOMAIN, &err));
        g_assert_error(err, DOMUS_ERROR, ERR_INVALID_ARG);
        g_assert_cmpint(err_origin(err), ==, ERR_FROM_DOMAIN);
    }
    for (int i = 0; detail[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(names_validate(detail[i], NAMES_DOMAIN, "domain", ERR_FROM_DOMAIN, &err));
        g_assert_error(err, DOMUS_ERROR, ERR_XML_DETAIL);
        g_assert_nonnull(strstr(err->message, "invalid char in name"));
    }
    g_autofree char *longname = g_strnfill(NAMES_MAX_LEN + 1, 'a');
    g_assert_false(names_validate(longname, NAMES_DOMAIN, "domain", ERR_FROM_DOMAIN, NULL));
    /* pools take newlines (libvirt does); volumes are listed files: no leading dot */
    g_assert_true(names_validate("p\nq", NAMES_POOL, "pool", ERR_FROM_STORAGE, NULL));
    g_assert_false(names_validate(".v", NAMES_VOLUME, "volume", ERR_FROM_STORAGE, NULL));
    g_assert_true(names_validate("v.qcow2", NAMES_VOLUME, "volume", ERR_FROM_STORAGE, NULL));
}

static void
test_uuid(void)
{
    uint8_t u[UUID_LEN], v[UUID_LEN];
    char buf[UUID_STRING_LEN];
    g_assert_true(uuid_parse("30d18a08-d6d8-d5d4-f675-8c42c11d6c62", u));
    g_assert_cmpstr(uuid_format(u, buf), ==, "30d18a08-d6d8-d5d4-f675-8c42c11d6c62");
    g_assert_true(uuid_parse("30d18a08d6d8d5d4f6758c42c11d6c62", v));
    g_assert_cmpmem(u, UUID_LEN, v, UUID_LEN);
    g_assert_false(uuid_parse("30d18a08-d6d8-d5d4-f675-8c42c11d6c6", u));
    g_assert_false(uuid_parse("zzd18a08-d6d8-d5d4-f675-8c42c11d6c62", u));
    g_assert_false(uuid_parse("30d18a08-d6d8-d5d4-f675-8c42c11d6c6200", u));
    uuid_generate(u);
    uuid_generate(v);
    g_assert_true(memcmp(u, v, UUID_LEN) != 0);
    g_assert_cmpint(u[6] >> 4, ==, 4);
}

static void
test_atomic_write(void)
{
    g_autofree char *dir = g_dir_make_tmp("domus-util-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "f.xml", NULL);
    g_assert_true(file_write_atomic(path, "one", 3, 0600, FILE_DURABLE, NULL));
    g_assert_true(file_write_atomic(path, "two!", 4, 0600, 0, NULL));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "two!");
    /* no temp file is left behind */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_assert_cmpint(n, ==, 1);
    /* a write into a missing directory fails and names the file */
    g_autofree char *bad = g_build_filename(dir, "missing", "f", NULL);
    g_autoptr(GError) err = NULL;
    g_assert_false(file_write_atomic(bad, "x", 1, 0600, FILE_DURABLE, &err));
    g_assert_error(err, DOMUS_ERROR, ERR_SYSTEM_ERROR);
    g_unlink(path);
    g_rmdir(dir);
}

/* Whether one of this process's descriptors is on PATH (removed: "PATH (deleted)") */
static gboolean
holds_fd_on(const char *path)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    g_autofree char *deleted = g_strdup_printf("%s (deleted)", path);
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *fd = g_build_filename("/proc/self/fd", e, NULL);
        g_autofree char *target = g_file_read_link(fd, NULL);
        if (target && (g_str_equal(target, path) || g_str_equal(target, deleted)))
            return TRUE;
    }
    return FALSE;
}

static void
test_remove_large(void)
{
    g_autofree char *dir = g_dir_make_tmp("domus-util-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "image", NULL);
    g_autofree char *data = g_malloc0(1 << 20);
    g_assert_true(g_file_set_contents(path, data, 1 << 20, NULL));
    g_autoptr(GError) err = NULL;
    g_assert_true(file_remove_large(path, &err));
    g_assert_no_error(err);
    /* the name is gone at once; a new file by that name is not the one removed */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_set_contents(path, "new", -1, NULL));
    /* the old file's last descriptor closes in the worker thread */
    for (int i = 0; i < 500 && holds_fd_on(path); i++)
        g_usleep(10000);
    g_assert_false(holds_fd_on(path));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "new");
    g_assert_true(file_remove_large(path, NULL));
    /* a symbolic link goes, and the file it names is neither removed nor truncated */
    g_autofree char *target = g_build_filename(dir, "target", NULL);
    g_assert_true(g_file_set_contents(target, data, 1 << 20, NULL));
    g_assert_cmpint(symlink(target, path), ==, 0);
    g_assert_true(file_remove_large(path, &err));
    for (int i = 0; i < 500 && holds_fd_on(path); i++)
        g_usleep(10000);
    g_autofree char *kept = NULL;
    gsize kept_len = 0;
    g_assert_true(g_file_get_contents(target, &kept, &kept_len, NULL));
    g_assert_cmpuint(kept_len, ==, 1 << 20);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_unlink(target);
    /* a missing file is fine; a directory is an error, and nothing is left open */
    g_assert_true(file_remove_large(path, &err));
    g_assert_false(file_remove_large(dir, &err));
    g_assert_error(err, DOMUS_ERROR, ERR_SYSTEM_ERROR);
    g_assert_false(holds_fd_on(dir));
    for (int i = 0; i < 500 && holds_fd_on(path); i++)
        g_usleep(10000);
    g_rmdir(dir);
}

static void
test_tail(void)
{
    g_autofree char *dir = g_dir_make_tmp("domus-util-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "log", NULL);
    g_assert_true(g_file_set_contents(path, "a\nb\nc\nd\n", -1, NULL));
    g_autofree char *t = file_tail(path, 2);
    g_assert_cmpstr(t, ==, "c\nd");
    g_unlink(path);
    g_rmdir(dir);
}

/* A stat line whose comm holds spaces and a ")": the fields counted after the last ")" */
static void
test_procstat(void)
{
    long hz = sysconf(_SC_CLK_TCK);
    const char *line = "4242 (qemu (x) y) S 1 2 3 4 5 6 7 8 9 10 300 40 0 0 20 0 3 0 99 1 2 3 4 "
                       "5 6 7 8 9 10 11 12 13 14 15 16 17 1 0 0 0 0\n";
    struct procstat st;
    g_assert_true(procstat_parse(line, &st));
    g_assert_cmpuint(st.user_ns, ==, 300 * (1000000000ULL / (guint64)hz));
    g_assert_cmpuint(st.system_ns, ==, 40 * (1000000000ULL / (guint64)hz));
    g_assert_cmpint(st.processor, ==, 17); /* field 39 */
    g_assert_false(procstat_parse("4242 (short) S 1 2", &st));
    g_assert_false(procstat_parse("no parenthesis", &st));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/util/names", test_names);
    g_test_add_func("/util/uuid", test_uuid);
    g_test_add_func("/util/atomic-write", test_atomic_write);
    g_test_add_func("/util/tail", test_tail);
    g_test_add_func("/util/remove-large", test_remove_large);
    g_test_add_func("/util/procstat", test_procstat);
    return g_test_run();
}
