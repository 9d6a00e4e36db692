/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2: an empty overlay written directly. The layout is qemu-img 7.2's for an empty image:
 * cluster 0 the header (112 bytes) with the backing format extension, the end of extensions
 * and the backing name; cluster 1 the refcount table, its one entry naming cluster 2, the
 * refcount block (16-bit refcounts, refcount_order 4) counting clusters 0 to 3 + L1; cluster
 * 3 on the L1 table, all zero: nothing allocated, every read goes to the backing image. */
#include "storage/qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

#define QCOW2_MAGIC 0x514649fbu
#define CLUSTER_BITS 16
#define CLUSTER_SIZE (1u << CLUSTER_BITS)
#define HEADER_LENGTH 112
#define EXT_BACKING_FORMAT 0xE2792ACAu
#define BACKING_NAME_MAX 1023 /* QEMU's own limit */
/* QEMU's largest L1 table (QCOW_MAX_L1_SIZE): 32 MiB, 512 clusters */
#define L1_MAX_BYTES (32u << 20)

static void
put_be32(guint8 *p, guint32 v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, sizeof(v));
}

static void
put_be64(guint8 *p, guint64 v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, sizeof(v));
}

static guint64
get_be64(const guint8 *p)
{
    guint64 v;
    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_BE(v);
}

static guint32
get_be32(const guint8 *p)
{
    guint32 v;
    memcpy(&v, p, sizeof(v));
    return GUINT32_FROM_BE(v);
}

gboolean
storage_qcow2_virtual_size(const char *path, enum storage_format format, guint64 *ret,
                           GError **error)
{
    autoclose int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL, "cannot open image '%s': %s", path,
                g_strerror(errno));
        return FALSE;
    }
    if (format == STORAGE_FORMAT_RAW) {
        guint64 size = (guint64)st.st_size;
        if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) < 0) {
            err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot read the size of '%s'", path);
            return FALSE;
        }
        *ret = size;
        return TRUE;
    }
    guint8 hdr[40];
    if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || get_be32(hdr) != QCOW2_MAGIC) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "image '%s' is not in qcow2 format",
                path);
        return FALSE;
    }
    /* crypt_method at 32: an encrypted image's size is QEMU's to tell */
    if (get_be32(hdr + 32) != 0) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "image '%s' is encrypted", path);
        return FALSE;
    }
    *ret = get_be64(hdr + 24);
    return TRUE;
}

static gboolean
write_all(int fd, const char *path, const guint8 *buf, gsize len, off_t off, GError **error)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err_set_errno(error, ERR_FROM_STORAGE, n < 0 ? errno : EIO, "cannot write '%s'", path);
            return FALSE;
        }
        buf += n;
        len -= (gsize)n;
        off += n;
    }
    return TRUE;
}

gboolean
storage_qcow2_write_overlay(int fd, const char *path, guint64 size, const char *backing,
                            enum storage_format backing_format, GError **error)
{
    const char *fmt = backing_format == STORAGE_FORMAT_QCOW2 ? "qcow2" : "raw";
    gsize name_len = strlen(backing);
    /* each L1 entry maps one L2 table: CLUSTER_SIZE / 8 clusters */
    guint64 per_l1 = (guint64)CLUSTER_SIZE * (CLUSTER_SIZE / 8);
    guint64 l1_size = size / per_l1 + (size % per_l1 != 0);
    if (size % 512 != 0 || l1_size * 8 > L1_MAX_BYTES) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "cannot make a qcow2 image of %" G_GUINT64_FORMAT " bytes", size);
        return FALSE;
    }
    if (name_len == 0 || name_len > BACKING_NAME_MAX) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "backing name '%s' is empty or longer than %d bytes", backing, BACKING_NAME_MAX);
        return FALSE;
    }
    guint64 l1_clusters = (l1_size * 8 + CLUSTER_SIZE - 1) / CLUSTER_SIZE;
    /* clusters 0 header, 1 refcount table, 2 refcount block, 3... the L1 table (none for an
     * image of size 0: offset 0) */
    guint64 l1_off = l1_size ? 3 * (guint64)CLUSTER_SIZE : 0;
    guint64 used = 3 + l1_clusters;

    g_autofree guint8 *head = g_malloc0(3 * CLUSTER_SIZE);
    guint8 *h = head;
    put_be32(h, QCOW2_MAGIC);
    put_be32(h + 4, 3);
    /* the extensions: backing format (padded to 8), then the end; the name after them */
    gsize fmt_len = strlen(fmt);
    gsize ext = HEADER_LENGTH;
    put_be32(h + ext, EXT_BACKING_FORMAT);
    put_be32(h + ext + 4, (guint32)fmt_len);
    memcpy(h + ext + 8, fmt, fmt_len);
    ext += 8 + ((fmt_len + 7) & ~(gsize)7);
    ext += 8; /* end of extensions: type 0, length 0 */
    if (ext + name_len > CLUSTER_SIZE) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "backing name '%s' is too long", backing);
        return FALSE;
    }
    memcpy(h + ext, backing, name_len);
    put_be64(h + 8, ext);
    put_be32(h + 16, (guint32)name_len);
    put_be32(h + 20, CLUSTER_BITS);
    put_be64(h + 24, size);
    put_be32(h + 32, 0); /* no encryption */
    put_be32(h + 36, (guint32)l1_size);
    put_be64(h + 40, l1_off);
    put_be64(h + 48, CLUSTER_SIZE); /* refcount table */
    put_be32(h + 56, 1);            /* its clusters */
    /* 60 snapshots, 64 their offset, 72/80/88 feature bits: none */
    put_be32(h + 96, 4); /* refcount_order: 16-bit refcounts */
    put_be32(h + 100, HEADER_LENGTH);
    /* 104: compression type zlib, padding */
    put_be64(head + CLUSTER_SIZE, 2 * (guint64)CLUSTER_SIZE);
    guint8 *refcounts = head + 2 * CLUSTER_SIZE;
    for (guint64 i = 0; i < used; i++)
        refcounts[2 * i + 1] = 1;

    if (ftruncate(fd, 0) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot write '%s'", path);
        return FALSE;
    }
    if (!write_all(fd, path, head, 3 * CLUSTER_SIZE, 0, error))
        return FALSE;
    /* the L1 table is all zero: the file's end makes it (qemu-img's file ends there too) */
    guint64 end = l1_size ? l1_off + l1_size * 8 : 3 * (guint64)CLUSTER_SIZE;
    if (ftruncate(fd, (off_t)end) < 0 || fdatasync(fd) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot write '%s'", path);
        return FALSE;
    }
    return TRUE;
}
