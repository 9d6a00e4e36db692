/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chain: a qcow2 image's backing chain from its header (QEMU docs/interop/qcow2.txt):
 * backing_file_offset at 8, backing_file_size at 16, cluster_bits at 20, header_length at
 * 100 (version 3); header extensions follow the header, the backing format one being
 * 0xE2792ACA. */
#include "storage/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

#define QCOW2_MAGIC 0x514649fbu
#define EXT_END 0x00000000u
#define EXT_BACKING_FORMAT 0xE2792ACAu
#define BACKING_NAME_MAX 1023 /* QEMU's own limit */

void
storage_chain_layer_free(struct storage_chain_layer *layer)
{
    if (!layer)
        return;
    g_free(layer->path);
    g_free(layer);
}

static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* What the qcow2 header of FD names below it: *RET_NAME (NULL: nothing) and *RET_FORMAT
 * (NULL: not recorded). */
static gboolean
read_backing(int fd, const char *path, char **ret_name, char **ret_format, GError **error)
{
    uint8_t hdr[104];
    ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
    if (n < 72 || be32(hdr) != QCOW2_MAGIC) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "image '%s' is not in qcow2 format, as its disk or backing chain says it is", path);
        return FALSE;
    }
    uint32_t version = be32(hdr + 4);
    uint64_t name_off = be64(hdr + 8);
    uint32_t name_len = be32(hdr + 16);
    uint32_t cluster_bits = be32(hdr + 20);
    uint32_t hdr_len = version >= 3 && n >= 104 ? be32(hdr + 100) : 72;
    *ret_name = NULL;
    *ret_format = NULL;
    if (!name_off || !name_len)
        return TRUE;
    if (name_len > BACKING_NAME_MAX || cluster_bits < 9 || cluster_bits > 21) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "image '%s' has a qcow2 header QEMU would refuse", path);
        return FALSE;
    }
    g_autofree char *name = g_malloc0(name_len + 1);
    if (pread(fd, name, name_len, (off_t)name_off) != (ssize_t)name_len ||
        memchr(name, '\0', name_len)) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "cannot read the backing file name in image '%s'", path);
        return FALSE;
    }
    /* the extensions lie between the header and the end of the first cluster */
    uint64_t off = hdr_len, end = MIN((uint64_t)1 << cluster_bits, name_off);
    while (off + 8 <= end) {
        uint8_t ext[8];
        if (pread(fd, ext, sizeof(ext), (off_t)off) != (ssize_t)sizeof(ext))
            break;
        uint32_t type = be32(ext), len = be32(ext + 4);
        if (type == EXT_END || off + 8 + len > end)
            break;
        if (type == EXT_BACKING_FORMAT && len > 0 && len < 32) {
            char fmt[32] = {0};
            if (pread(fd, fmt, len, (off_t)(off + 8)) == (ssize_t)len)
                *ret_format = g_strndup(fmt, len);
            break;
        }
        off += 8 + ((len + 7) & ~7u);
    }
    *ret_name = g_steal_pointer(&name);
    return TRUE;
}

GPtrArray *
storage_chain_probe(const char *path, enum storage_format format, GError **error)
{
    g_autoptr(GPtrArray) layers =
        g_ptr_array_new_with_free_func((GDestroyNotify)storage_chain_layer_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *current = g_canonicalize_filename(path, NULL);
    g_hash_table_add(seen, realpath(current, NULL) ?: g_strdup(current));
    while (format == STORAGE_FORMAT_QCOW2) {
        autoclose int fd = open(current, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                    "cannot open image '%s' of a backing chain: %s", current, g_strerror(errno));
            return NULL;
        }
        g_autofree char *name = NULL;
        g_autofree char *fmt = NULL;
        if (!read_backing(fd, current, &name, &fmt, error))
            return NULL;
        if (!name)
            break;
        if (strstr(name, "://") || g_str_has_prefix(name, "json:")) {
            err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                    "image '%s' names backing '%s', a network or json source; only files and "
                    "block devices are supported",
                    current, name);
            return NULL;
        }
        if (!fmt || (!g_str_equal(fmt, "qcow2") && !g_str_equal(fmt, "raw"))) {
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                    fmt ? "backing image '%s' of image '%s' has format '%s'; only qcow2 and raw "
                          "are supported"
                        : "format of backing image '%s' of image '%s' was not specified in the "
                          "image metadata%s; record it with 'qemu-img rebase -u -F FORMAT -b "
                          "BACKING IMAGE'",
                    name, current, fmt ? fmt : "");
            return NULL;
        }
        g_autofree char *dir = g_path_get_dirname(current);
        char *next = g_canonicalize_filename(name, dir);
        g_free(current);
        current = next;
        if (layers->len >= STORAGE_CHAIN_MAX) {
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                    "backing chain of image '%s' is deeper than %d images", path,
                    STORAGE_CHAIN_MAX);
            return NULL;
        }
        char *real = realpath(current, NULL);
        if (!real) {
            err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                    "backing image '%s' of image '%s' cannot be opened: %s", current, path,
                    g_strerror(errno));
            return NULL;
        }
        if (!g_hash_table_add(seen, real)) {
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                    "backing chain of image '%s' loops back to '%s'", path, current);
            return NULL;
        }
        struct stat st;
        struct storage_chain_layer *layer = g_new0(struct storage_chain_layer, 1);
        layer->path = g_strdup(current);
        layer->format = g_str_equal(fmt, "qcow2") ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW;
        layer->block = stat(current, &st) == 0 && S_ISBLK(st.st_mode);
        g_ptr_array_add(layers, layer);
        format = layer->format;
    }
    return g_steal_pointer(&layers);
}
