/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* saveimage: libvirt's QEMU save image format; prefix qemu_saveimage_. The layout is
 * libvirt's (src/qemu/qemu_saveimage.[ch], virQEMUSaveHeader), described in
 * docs/save-image.md. */
#include "qemu/saveimage.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"

#define MAGIC_LEN 16
#define UNUSED_WORDS 14

G_STATIC_ASSERT(sizeof(QEMU_SAVEIMAGE_MAGIC) - 1 == MAGIC_LEN);
G_STATIC_ASSERT(sizeof(QEMU_SAVEIMAGE_PARTIAL) - 1 == MAGIC_LEN);
G_STATIC_ASSERT(MAGIC_LEN + 4 * (5 + UNUSED_WORDS) == QEMU_SAVEIMAGE_HEADER_LEN);

/* virQEMUSaveHeader, field by field; each word in the writer's byte order */
struct header {
    char magic[MAGIC_LEN];
    guint32 version;
    guint32 data_len;
    guint32 was_running;
    guint32 compressed;
    guint32 cookie_offset;
};

static const char *const compression_names[] = {"raw", "gzip", "bzip2", "xz", "lzop"};
G_STATIC_ASSERT(G_N_ELEMENTS(compression_names) == QEMU_SAVEIMAGE_COMPRESSION_LAST);

const char *
qemu_saveimage_compression_to_string(guint32 compression)
{
    return compression < QEMU_SAVEIMAGE_COMPRESSION_LAST ? compression_names[compression]
                                                         : "unknown";
}

int
qemu_saveimage_compression_from_string(const char *name)
{
    for (int i = 0; i < QEMU_SAVEIMAGE_COMPRESSION_LAST; i++)
        if (g_str_equal(compression_names[i], name))
            return i;
    return -1;
}

void
qemu_saveimage_clear(struct qemu_saveimage *img)
{
    g_clear_pointer(&img->xml, g_free);
    g_clear_pointer(&img->cookie, g_free);
}

static guint32
word(guint32 v, gboolean swapped)
{
    return swapped ? GUINT32_SWAP_LE_BE(v) : v;
}

static void
header_encode(const struct header *h, gboolean swapped, guint8 *out)
{
    memset(out, 0, QEMU_SAVEIMAGE_HEADER_LEN);
    memcpy(out, h->magic, MAGIC_LEN);
    guint32 words[5] = {h->version, h->data_len, h->was_running, h->compressed, h->cookie_offset};
    for (int i = 0; i < 5; i++) {
        guint32 w = word(words[i], swapped);
        memcpy(out + MAGIC_LEN + 4 * i, &w, 4);
    }
}

static void
header_decode(const guint8 *in, gboolean swapped, struct header *h)
{
    memcpy(h->magic, in, MAGIC_LEN);
    guint32 words[5];
    for (int i = 0; i < 5; i++) {
        memcpy(&words[i], in + MAGIC_LEN + 4 * i, 4);
        words[i] = word(words[i], swapped);
    }
    h->version = words[0];
    h->data_len = words[1];
    h->was_running = words[2];
    h->compressed = words[3];
    h->cookie_offset = words[4];
}

static gboolean
write_all(int fd, const char *path, const void *buf, gsize len, off_t off, GError **error)
{
    const guint8 *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err_set_errno(error, ERR_FROM_QEMU, n < 0 ? errno : ENOSPC,
                          "cannot write the save image '%s'", path);
            return FALSE;
        }
        p += n;
        len -= n;
        off += n;
    }
    return TRUE;
}

/* Reads LEN bytes at OFF; *RET_GOT: how many there were (short at the end of the file). */
static gboolean
read_all(int fd, const char *path, void *buf, gsize len, off_t off, gsize *ret_got, GError **error)
{
    guint8 *p = buf;
    gsize got = 0;
    while (got < len) {
        ssize_t n = pread(fd, p + got, len - got, off + got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno(error, ERR_FROM_QEMU, errno, "cannot read the save image '%s'", path);
            return FALSE;
        }
        if (n == 0)
            break;
        got += n;
    }
    *ret_got = got;
    return TRUE;
}

/* The XML, the cookie and zeros: DATA_LEN bytes; FALSE when they do not fit. */
static guint8 *
data_block(const char *xml, const char *cookie, guint32 data_len, guint32 *ret_cookie_offset)
{
    gsize xml_len = strlen(xml) + 1;
    gsize cookie_len = cookie ? strlen(cookie) + 1 : 0;
    if (xml_len + cookie_len > data_len)
        return NULL;
    guint8 *data = g_malloc0(data_len);
    memcpy(data, xml, xml_len);
    if (cookie)
        memcpy(data + xml_len, cookie, cookie_len);
    *ret_cookie_offset = cookie ? (guint32)xml_len : 0;
    return data;
}

gboolean
qemu_saveimage_write(int fd, const char *path, struct qemu_saveimage *img, GError **error)
{
    gsize need = strlen(img->xml) + 1 + (img->cookie ? strlen(img->cookie) + 1 : 0);
    if (!img->data_len) {
        if (need + QEMU_SAVEIMAGE_PADDING > QEMU_SAVEIMAGE_DATA_MAX) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "the domain XML (%zu bytes) is too large for a save image", need);
            return FALSE;
        }
        img->data_len = need + QEMU_SAVEIMAGE_PADDING;
    }
    struct header h = {
        .version = QEMU_SAVEIMAGE_VERSION,
        .data_len = img->data_len,
        .was_running = img->was_running ? 1 : 0,
        .compressed = img->compression,
    };
    memcpy(h.magic, QEMU_SAVEIMAGE_PARTIAL, MAGIC_LEN);
    g_autofree guint8 *data = data_block(img->xml, img->cookie, img->data_len, &h.cookie_offset);
    if (!data) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "the domain XML does not fit in the save image '%s'", path);
        return FALSE;
    }
    guint8 hdr[QEMU_SAVEIMAGE_HEADER_LEN];
    header_encode(&h, img->swapped, hdr);
    if (!write_all(fd, path, hdr, sizeof(hdr), 0, error) ||
        !write_all(fd, path, data, img->data_len, sizeof(hdr), error))
        return FALSE;
    img->version = QEMU_SAVEIMAGE_VERSION;
    img->stream_off = QEMU_SAVEIMAGE_HEADER_LEN + (guint64)img->data_len;
    if (lseek(fd, img->stream_off, SEEK_SET) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot seek in the save image '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_saveimage_mark_complete(int fd, const char *path, GError **error)
{
    return write_all(fd, path, QEMU_SAVEIMAGE_MAGIC, MAGIC_LEN, 0, error);
}

static gboolean
corrupt(GError **error, const char *path, const char *what)
{
    err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "'%s' is not a usable save image: %s", path,
            what);
    return FALSE;
}

gboolean
qemu_saveimage_read(int fd, const char *path, struct qemu_saveimage *ret, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot read the save image '%s'", path);
        return FALSE;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return corrupt(error, path, "it is not a file");
    guint8 raw[QEMU_SAVEIMAGE_HEADER_LEN];
    gsize got;
    if (!read_all(fd, path, raw, sizeof(raw), 0, &got, error))
        return FALSE;
    if (got < sizeof(raw) && got < MAGIC_LEN)
        return corrupt(error, path, "it is shorter than a save image's header");
    if (!memcmp(raw, QEMU_SAVEIMAGE_PARTIAL, MAGIC_LEN))
        return corrupt(error, path,
                       "it is incomplete (the save that wrote it did not finish); remove it");
    if (memcmp(raw, QEMU_SAVEIMAGE_MAGIC, MAGIC_LEN))
        return corrupt(error, path, "its magic is not 'LibvirtQemudSave'");
    if (got < sizeof(raw))
        return corrupt(error, path, "it is truncated within its header");
    struct header h;
    gboolean swapped = FALSE;
    header_decode(raw, FALSE, &h);
    guint32 version = h.version;
    if (h.version > QEMU_SAVEIMAGE_VERSION) {
        /* written on a host of the other byte order, as libvirt reads it */
        swapped = TRUE;
        header_decode(raw, TRUE, &h);
    }
    if (h.version > QEMU_SAVEIMAGE_VERSION || h.version == 0) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "save image '%s' has version %u; versions 1 and 2 are supported", path, version);
        return FALSE;
    }
    if (h.data_len == 0 || h.data_len > QEMU_SAVEIMAGE_DATA_MAX) {
        g_autofree char *what = g_strdup_printf("its header gives a data length of %u bytes "
                                                "(at most %u)",
                                                h.data_len, QEMU_SAVEIMAGE_DATA_MAX);
        return corrupt(error, path, what);
    }
    if (h.cookie_offset >= h.data_len)
        return corrupt(error, path, "its cookie offset lies beyond its data");
    guint32 compression = h.version == 1 ? QEMU_SAVEIMAGE_RAW : h.compressed;
    if (compression >= QEMU_SAVEIMAGE_COMPRESSION_LAST) {
        g_autofree char *what = g_strdup_printf("unknown compression %u", compression);
        return corrupt(error, path, what);
    }
    guint64 stream_off = QEMU_SAVEIMAGE_HEADER_LEN + (guint64)h.data_len;
    if (S_ISREG(st.st_mode) && (guint64)st.st_size <= stream_off)
        return corrupt(error, path,
                       (guint64)st.st_size < stream_off
                           ? "it is truncated within its domain XML"
                           : "it holds no memory state (truncated after its domain XML)");
    g_autofree char *data = g_malloc(h.data_len);
    if (!read_all(fd, path, data, h.data_len, QEMU_SAVEIMAGE_HEADER_LEN, &got, error))
        return FALSE;
    if (got < h.data_len)
        return corrupt(error, path, "it is truncated within its domain XML");
    gsize xml_len = h.cookie_offset ? h.cookie_offset : h.data_len;
    if (!memchr(data, 0, xml_len) || !data[0])
        return corrupt(error, path, "its domain XML is empty or not terminated");
    char *cookie = NULL;
    if (h.cookie_offset) {
        const char *c = data + h.cookie_offset;
        gsize room = h.data_len - h.cookie_offset;
        if (!memchr(c, 0, room))
            return corrupt(error, path, "its cookie is not terminated");
        cookie = g_strdup(c);
    }
    ret->version = h.version;
    ret->was_running = h.was_running != 0;
    ret->compression = compression;
    ret->xml = g_strdup(data);
    ret->cookie = cookie;
    ret->data_len = h.data_len;
    ret->swapped = swapped;
    ret->stream_off = stream_off;
    return TRUE;
}

gboolean
qemu_saveimage_rewrite(int fd, const char *path, struct qemu_saveimage *img, const char *xml,
                       int was_running, GError **error)
{
    struct header h = {
        .version = img->version,
        .data_len = img->data_len,
        .was_running = was_running < 0 ? (img->was_running ? 1 : 0) : (was_running ? 1 : 0),
        .compressed = img->compression,
    };
    memcpy(h.magic, QEMU_SAVEIMAGE_MAGIC, MAGIC_LEN);
    g_autofree guint8 *data = data_block(xml, img->cookie, img->data_len, &h.cookie_offset);
    if (!data) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "the new domain XML (%zu bytes) does not fit in the %u bytes the save image "
                "'%s' has for it",
                strlen(xml) + 1, img->data_len, path);
        return FALSE;
    }
    guint8 hdr[QEMU_SAVEIMAGE_HEADER_LEN];
    header_encode(&h, img->swapped, hdr);
    if (!write_all(fd, path, data, img->data_len, QEMU_SAVEIMAGE_HEADER_LEN, error) ||
        !write_all(fd, path, hdr, sizeof(hdr), 0, error))
        return FALSE;
    if (fsync(fd) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot sync the save image '%s'", path);
        return FALSE;
    }
    g_free(img->xml);
    img->xml = g_strdup(xml);
    img->was_running = h.was_running != 0;
    return TRUE;
}
