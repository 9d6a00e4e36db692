/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-saveimage: libvirt's QEMU save image format (qemu_saveimage_): what we write is what
 * libvirt's layout says, byte for byte; every broken image is refused naming what is wrong; a
 * compressed stream goes through its program (qemu_filter_) both ways, and a program that
 * fails fails with what it said. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu/filter.h"
#include "qemu/saveimage.h"
#include "util/err.h"

#define XML "<domain type='qemu'><name>t</name></domain>"
#define STREAM "QEVM\0\0\0\3stream"

/* A file holding BYTES; returns an fd open for reading and writing, *RET_PATH its name. */
static int
image_fd(const GByteArray *bytes, char **ret_path)
{
    g_autoptr(GError) error = NULL;
    int fd = g_file_open_tmp("domus-saveimage-XXXXXX", ret_path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(write(fd, bytes->data, bytes->len), ==, (gssize)bytes->len);
    return fd;
}

static void
put_u32(GByteArray *b, gsize off, guint32 v)
{
    memcpy(b->data + off, &v, 4);
}

/* The bytes of an image as libvirt 9.0 lays one out (virQEMUSaveDataWrite), built by hand:
 * magic, version 2, data_len, was_running, compressed, cookieOffset, 14 unused words, the XML
 * with its NUL, the cookie with its NUL, zeros up to data_len, then the stream. */
static GByteArray *
libvirt_image(const char *magic, const char *cookie, gboolean big_endian)
{
    gsize xml_len = strlen(XML) + 1, cookie_len = cookie ? strlen(cookie) + 1 : 0;
    guint32 data_len = xml_len + cookie_len + 64 * 1024;
    GByteArray *b = g_byte_array_new();
    g_byte_array_set_size(b, 92 + data_len);
    memset(b->data, 0, b->len);
    memcpy(b->data, magic, 16);
    guint32 words[5] = {2, data_len, 1, 0, cookie ? xml_len : 0};
    for (int i = 0; i < 5; i++)
        put_u32(b, 16 + 4 * i, big_endian ? GUINT32_SWAP_LE_BE(words[i]) : words[i]);
    memcpy(b->data + 92, XML, xml_len);
    if (cookie)
        memcpy(b->data + 92 + xml_len, cookie, cookie_len);
    g_byte_array_append(b, (const guint8 *)STREAM, sizeof(STREAM) - 1);
    return b;
}

static void
test_write_layout(void)
{
    g_autoptr(GByteArray) empty = g_byte_array_new();
    g_autofree char *path = NULL;
    int fd = image_fd(empty, &path);
    g_autoptr(GError) error = NULL;
    struct qemu_saveimage img = {.was_running = TRUE, .xml = g_strdup(XML)};
    g_assert_true(qemu_saveimage_write(fd, path, &img, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(img.stream_off, ==, 92 + strlen(XML) + 1 + 64 * 1024);
    g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, (off_t)img.stream_off);
    g_assert_cmpint(write(fd, STREAM, sizeof(STREAM) - 1), ==, sizeof(STREAM) - 1);

    /* until marked complete, it is refused as incomplete */
    struct qemu_saveimage back = {0};
    g_assert_false(qemu_saveimage_read(fd, path, &back, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "incomplete"));
    g_clear_error(&error);

    g_assert_true(qemu_saveimage_mark_complete(fd, path, &error));
    g_autofree char *ours = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &ours, &len, &error));
    g_autoptr(GByteArray) theirs = libvirt_image(QEMU_SAVEIMAGE_MAGIC, NULL, FALSE);
    g_assert_cmpmem(ours, len, theirs->data, theirs->len);

    g_assert_true(qemu_saveimage_read(fd, path, &back, &error));
    g_assert_cmpstr(back.xml, ==, XML);
    g_assert_true(back.was_running);
    g_assert_cmpuint(back.stream_off, ==, img.stream_off);
    qemu_saveimage_clear(&back);
    qemu_saveimage_clear(&img);
    close(fd);
    g_unlink(path);
}

/* libvirt's images (with its cookie, or from a big-endian host) read here */
static void
test_read_libvirt(void)
{
    for (int big = 0; big < 2; big++) {
        g_autoptr(GByteArray) b =
            libvirt_image(QEMU_SAVEIMAGE_MAGIC, "<cookie><cpu mode='custom'/></cookie>", big);
        g_autofree char *path = NULL;
        int fd = image_fd(b, &path);
        g_autoptr(GError) error = NULL;
        struct qemu_saveimage img = {0};
        g_assert_true(qemu_saveimage_read(fd, path, &img, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(img.xml, ==, XML);
        g_assert_cmpstr(img.cookie, ==, "<cookie><cpu mode='custom'/></cookie>");
        g_assert_true(img.was_running);
        g_assert_cmpint(img.swapped, ==, big);
        g_assert_cmpuint(img.stream_off, ==, b->len - (sizeof(STREAM) - 1));

        /* save-image-define: the XML changes in place, the cookie and byte order stay */
        const char *bigger = "<domain type='qemu'><name>t</name><description>a longer "
                             "one</description></domain>";
        g_assert_true(qemu_saveimage_rewrite(fd, path, &img, bigger, 0, &error));
        qemu_saveimage_clear(&img);
        g_assert_true(qemu_saveimage_read(fd, path, &img, &error));
        g_assert_cmpstr(img.xml, ==, bigger);
        g_assert_cmpstr(img.cookie, ==, "<cookie><cpu mode='custom'/></cookie>");
        g_assert_false(img.was_running);
        g_assert_cmpint(img.swapped, ==, big);
        /* the stream is untouched */
        char tail[sizeof(STREAM) - 1];
        g_assert_cmpint(pread(fd, tail, sizeof(tail), img.stream_off), ==, sizeof(tail));
        g_assert_cmpmem(tail, sizeof(tail), STREAM, sizeof(STREAM) - 1);

        /* an XML that does not fit the room is refused and changes nothing */
        g_autoptr(GString) huge = g_string_new("<domain>");
        while (huge->len < 70 * 1024)
            g_string_append(huge, "<!-- padding padding padding -->");
        g_string_append(huge, "</domain>");
        g_assert_false(qemu_saveimage_rewrite(fd, path, &img, huge->str, -1, &error));
        g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_FAILED);
        g_clear_error(&error);
        qemu_saveimage_clear(&img);
        g_assert_true(qemu_saveimage_read(fd, path, &img, &error));
        g_assert_cmpstr(img.xml, ==, bigger);
        qemu_saveimage_clear(&img);
        close(fd);
        g_unlink(path);
    }
}

/* ---- broken images: each a change to a good one, and what the refusal must say ---- */

struct broken {
    const char *what;
    void (*spoil)(GByteArray *b);
    int code;
    const char *message;
};

static void
spoil_partial(GByteArray *b)
{
    memcpy(b->data, QEMU_SAVEIMAGE_PARTIAL, 16);
}
static void
spoil_foreign(GByteArray *b)
{
    memcpy(b->data, "QFI\xfb\0\0\0\3qcow2img", 16);
}
static void
spoil_short(GByteArray *b)
{
    g_byte_array_set_size(b, 10);
}
static void
spoil_in_header(GByteArray *b)
{
    g_byte_array_set_size(b, 40);
}
static void
spoil_in_xml(GByteArray *b)
{
    g_byte_array_set_size(b, 200);
}
static void
spoil_no_stream(GByteArray *b)
{
    g_byte_array_set_size(b, b->len - (sizeof(STREAM) - 1));
}
static void
spoil_version(GByteArray *b)
{
    put_u32(b, 16, 3);
}
static void
spoil_version_zero(GByteArray *b)
{
    put_u32(b, 16, 0);
}
static void
spoil_data_len_zero(GByteArray *b)
{
    put_u32(b, 20, 0);
}
static void
spoil_data_len_huge(GByteArray *b)
{
    put_u32(b, 20, 0x7fffffff);
}
static void
spoil_cookie_offset(GByteArray *b)
{
    put_u32(b, 32, 0x10000000);
}
static void
spoil_unterminated(GByteArray *b)
{
    put_u32(b, 20, 8); /* the XML's first 8 bytes, no NUL among them */
}
static void
spoil_empty_xml(GByteArray *b)
{
    b->data[92] = 0;
}
static void
spoil_compression(GByteArray *b)
{
    put_u32(b, 28, 99);
}

static const struct broken broken[] = {
    {"partial", spoil_partial, ERR_OPERATION_FAILED, "incomplete"},
    {"foreign", spoil_foreign, ERR_OPERATION_FAILED, "magic is not 'LibvirtQemudSave'"},
    {"short", spoil_short, ERR_OPERATION_FAILED, "shorter than a save image's header"},
    {"in-header", spoil_in_header, ERR_OPERATION_FAILED, "truncated within its header"},
    {"in-xml", spoil_in_xml, ERR_OPERATION_FAILED, "truncated within its domain XML"},
    {"no-stream", spoil_no_stream, ERR_OPERATION_FAILED, "holds no memory state"},
    {"version", spoil_version, ERR_OPERATION_FAILED, "has version 3"},
    {"version-zero", spoil_version_zero, ERR_OPERATION_FAILED, "has version 0"},
    {"data-len-zero", spoil_data_len_zero, ERR_OPERATION_FAILED, "data length of 0 bytes"},
    {"data-len-huge", spoil_data_len_huge, ERR_OPERATION_FAILED, "data length of 2147483647"},
    {"cookie-offset", spoil_cookie_offset, ERR_OPERATION_FAILED, "cookie offset"},
    {"unterminated", spoil_unterminated, ERR_OPERATION_FAILED, "not terminated"},
    {"empty-xml", spoil_empty_xml, ERR_OPERATION_FAILED, "empty"},
    {"compression", spoil_compression, ERR_OPERATION_FAILED, "unknown compression 99"},
};

static void
test_broken(gconstpointer data)
{
    const struct broken *c = data;
    g_autoptr(GByteArray) b = libvirt_image(QEMU_SAVEIMAGE_MAGIC, NULL, FALSE);
    c->spoil(b);
    g_autofree char *path = NULL;
    int fd = image_fd(b, &path);
    g_autoptr(GError) error = NULL;
    struct qemu_saveimage img = {0};
    g_assert_false(qemu_saveimage_read(fd, path, &img, &error));
    g_assert_error(error, DOMUS_ERROR, c->code);
    if (!strstr(error->message, c->message))
        g_error("%s: '%s' lacks '%s'", c->what, error->message, c->message);
    g_assert_nonnull(strstr(error->message, path));
    g_assert_null(img.xml);
    close(fd);
    g_unlink(path);
}

static void
test_read_compressed(void)
{
    for (guint32 c = QEMU_SAVEIMAGE_GZIP; c < QEMU_SAVEIMAGE_COMPRESSION_LAST; c++) {
        g_autoptr(GByteArray) b = libvirt_image(QEMU_SAVEIMAGE_MAGIC, NULL, FALSE);
        put_u32(b, 28, c);
        g_autofree char *path = NULL;
        int fd = image_fd(b, &path);
        g_autoptr(GError) error = NULL;
        struct qemu_saveimage img = {0};
        g_assert_true(qemu_saveimage_read(fd, path, &img, &error));
        g_assert_cmpuint(img.compression, ==, c);
        g_assert_cmpstr(img.xml, ==, XML);
        qemu_saveimage_clear(&img);
        close(fd);
        g_unlink(path);
    }
}

struct wait {
    gboolean over;
    GError *error;
};

static void
on_filter_done(GError *error, gpointer data)
{
    struct wait *w = data;
    w->over = TRUE;
    w->error = error ? g_error_copy(error) : NULL;
}

/* Runs F to its end; its error, if any. */
static GError *
filter_run_out(struct qemu_filter *f)
{
    struct wait w = {0};
    qemu_filter_wait(f, on_filter_done, &w);
    while (!w.over)
        g_main_context_iteration(NULL, TRUE);
    qemu_filter_free(f);
    return w.error;
}

/* Bytes written into a compressor come back out of the decompressor, through the image file
 * both share with the caller: the file's offset moves with the program's reads. */
static void
test_filter_round_trip(void)
{
    static const guint32 programs[] = {QEMU_SAVEIMAGE_GZIP, QEMU_SAVEIMAGE_XZ};
    for (gsize i = 0; i < G_N_ELEMENTS(programs); i++) {
        g_autoptr(GByteArray) empty = g_byte_array_new();
        g_autofree char *path = NULL;
        int fd = image_fd(empty, &path);
        g_autoptr(GError) error = NULL;
        int in = -1;
        struct qemu_filter *f = qemu_filter_start(programs[i], FALSE, fd, path, &in, &error);
        g_assert_no_error(error);
        g_autoptr(GString) data = g_string_new(NULL);
        for (int n = 0; n < 20000; n++)
            g_string_append_printf(data, "line %d of QEMU's stream\n", n);
        g_assert_cmpint(write(in, data->str, data->len), ==, (gssize)data->len);
        close(in);
        g_assert_null(filter_run_out(f));
        off_t size = lseek(fd, 0, SEEK_CUR);
        g_assert_cmpint(size, >, 0);
        g_assert_cmpint(size, <, (off_t)data->len / 4); /* compressed, and our offset moved */

        lseek(fd, 0, SEEK_SET);
        int out = -1;
        f = qemu_filter_start(programs[i], TRUE, fd, path, &out, &error);
        g_assert_no_error(error);
        g_autoptr(GString) back = g_string_new(NULL);
        char buf[65536];
        ssize_t n;
        while ((n = read(out, buf, sizeof(buf))) > 0)
            g_string_append_len(back, buf, n);
        close(out);
        g_assert_null(filter_run_out(f));
        g_assert_cmpmem(back->str, back->len, data->str, data->len);
        g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, size);
        close(fd);
        g_unlink(path);
    }
}

/* A stream that is not what the header says: the program's failure and its words. */
static void
test_filter_fails(void)
{
    g_autoptr(GByteArray) junk = g_byte_array_new();
    g_byte_array_append(junk, (const guint8 *)"not gzip at all", 15);
    g_autofree char *path = NULL;
    int fd = image_fd(junk, &path);
    lseek(fd, 0, SEEK_SET);
    g_autoptr(GError) error = NULL;
    int out = -1;
    struct qemu_filter *f = qemu_filter_start(QEMU_SAVEIMAGE_GZIP, TRUE, fd, path, &out, &error);
    g_assert_no_error(error);
    char buf[256];
    while (read(out, buf, sizeof(buf)) > 0)
        ;
    close(out);
    error = filter_run_out(f);
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "'gzip -dc' failed on save image"));
    g_assert_nonnull(strstr(error->message, path));
    g_assert_nonnull(strstr(error->message, "not in gzip format"));
    g_clear_error(&error);

    /* dropped while it runs: killed, and its end is nobody's business */
    lseek(fd, 0, SEEK_SET);
    f = qemu_filter_start(QEMU_SAVEIMAGE_GZIP, FALSE, fd, path, &out, &error);
    g_assert_no_error(error);
    qemu_filter_free(f);
    close(out);
    for (int i = 0; i < 50; i++)
        g_main_context_iteration(NULL, FALSE);
    close(fd);
    g_unlink(path);
}

/* A program that is not installed is named. */
static void
test_filter_missing(void)
{
    g_autofree char *old = g_strdup(g_getenv("PATH"));
    g_setenv("PATH", "/nonexistent", TRUE);
    g_autoptr(GError) error = NULL;
    int out = -1;
    g_assert_null(qemu_filter_start(QEMU_SAVEIMAGE_LZOP, TRUE, 0, "/x.save", &out, &error));
    g_setenv("PATH", old, TRUE);
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_FAILED);
    g_assert_cmpstr(error->message, ==,
                    "save image '/x.save' is compressed with lzop, and 'lzop' is not installed on "
                    "this host; install it");
    g_assert_cmpint(out, ==, -1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/saveimage/write-layout", test_write_layout);
    g_test_add_func("/saveimage/read-libvirt", test_read_libvirt);
    g_test_add_func("/saveimage/read-compressed", test_read_compressed);
    g_test_add_func("/saveimage/filter-round-trip", test_filter_round_trip);
    g_test_add_func("/saveimage/filter-fails", test_filter_fails);
    g_test_add_func("/saveimage/filter-missing", test_filter_missing);
    for (gsize i = 0; i < G_N_ELEMENTS(broken); i++) {
        g_autofree char *name = g_strdup_printf("/saveimage/broken/%s", broken[i].what);
        g_test_add_data_func(name, &broken[i], test_broken);
    }
    return g_test_run();
}
