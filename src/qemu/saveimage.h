/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* saveimage: libvirt's QEMU save image format (docs/save-image.md); prefix qemu_saveimage_.
 * A 92-byte header (magic, version 2, data length, was-running flag, compression, cookie
 * offset, padding words), then DATA_LEN bytes holding the domain XML (NUL-terminated), an
 * optional cookie (NUL-terminated) and zeros, then QEMU's migration stream. The magic reads
 * "LibvirtQemudPart" until the image is complete and synced, "LibvirtQemudSave" after.
 * Images written by libvirt restore here and ours restore under libvirt. */
#pragma once

#include <glib.h>

#define QEMU_SAVEIMAGE_MAGIC "LibvirtQemudSave"
#define QEMU_SAVEIMAGE_PARTIAL "LibvirtQemudPart"
#define QEMU_SAVEIMAGE_VERSION 2
#define QEMU_SAVEIMAGE_HEADER_LEN 92
/* Room left after the XML so that save-image-define can grow it in place, as libvirt does. */
#define QEMU_SAVEIMAGE_PADDING (64 * 1024)
/* The most XML and cookie an image may hold: more is a corrupt or hostile file. */
#define QEMU_SAVEIMAGE_DATA_MAX (16 * 1024 * 1024)

/* The compression field: the program that filtered QEMU's stream (0: none). */
enum qemu_saveimage_compression {
    QEMU_SAVEIMAGE_RAW = 0,
    QEMU_SAVEIMAGE_GZIP = 1,
    QEMU_SAVEIMAGE_BZIP2 = 2,
    QEMU_SAVEIMAGE_XZ = 3,
    QEMU_SAVEIMAGE_LZOP = 4,
    QEMU_SAVEIMAGE_COMPRESSION_LAST
};

struct qemu_saveimage {
    guint32 version;
    gboolean was_running; /* restore resumes the guest (unless told otherwise) */
    guint32 compression;
    char *xml;          /* the domain's inactive XML */
    char *cookie;       /* libvirt's save cookie, kept as found; NULL: none */
    guint32 data_len;   /* bytes between the header and the stream */
    gboolean swapped;   /* the header was written in the other byte order */
    guint64 stream_off; /* where QEMU's stream starts: header + data_len */
};

void qemu_saveimage_clear(struct qemu_saveimage *img);

/* Writes the header (partial magic), the XML, the cookie and the padding of a new image at
 * FD's offset 0; IMG's data_len (0: as long as needed plus QEMU_SAVEIMAGE_PADDING) and
 * stream_off are set. FD is left where the stream goes. PATH words errors. */
gboolean qemu_saveimage_write(int fd, const char *path, struct qemu_saveimage *img, GError **error);

/* Turns the partial magic into the complete one (the caller has synced the stream). */
gboolean qemu_saveimage_mark_complete(int fd, const char *path, GError **error);

/* Reads and checks an image's header and XML from FD (any offset; read with pread). A file
 * that is not a save image, an incomplete or truncated one, an unknown version or a corrupt
 * header or an unknown compression: ERR_OPERATION_FAILED naming PATH and what is wrong. On
 * success *RET is filled (clear it with qemu_saveimage_clear); a compressed stream is read
 * through the program it names (qemu/filter.h). */
gboolean qemu_saveimage_read(int fd, const char *path, struct qemu_saveimage *ret, GError **error);

/* Replaces the XML of a complete image read into IMG (save-image-define): the new XML and the
 * cookie must fit in the image's data length (ERR_OPERATION_FAILED otherwise); the rest is
 * zeroed. The header keeps its byte order; WAS_RUNNING: -1 keeps it, 0/1 sets it. */
gboolean qemu_saveimage_rewrite(int fd, const char *path, struct qemu_saveimage *img,
                                const char *xml, int was_running, GError **error);

const char *qemu_saveimage_compression_to_string(guint32 compression);
/* libvirt's name ("raw", "gzip", "bzip2", "xz", "lzop": save_image_format's values) to a
 * qemu_saveimage_compression; -1 for any other. */
int qemu_saveimage_compression_from_string(const char *name);
