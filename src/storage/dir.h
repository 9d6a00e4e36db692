/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dir: the directory pool backend — a pool is a directory, a volume a file in it; prefix
 * storage_dir_. Blocking file operations: the daemon calls the slow ones from a worker. */
#pragma once

#include <glib.h>
#include <stdint.h>

enum storage_format { STORAGE_FORMAT_RAW, STORAGE_FORMAT_QCOW2 };

struct storage_vol_info {
    enum storage_format format;
    uint64_t capacity;   /* virtual size */
    uint64_t allocation; /* bytes on disk */
    uint64_t physical;   /* file size */
    char *backing;       /* qcow2 backing file, or NULL */
};

void storage_vol_info_clear(struct storage_vol_info *info);

/* Creates the pool directory (and parents) with MODE (-1: 0711). */
gboolean storage_dir_build(const char *path, int mode, GError **error);
/* Removes the (empty) pool directory. */
gboolean storage_dir_delete(const char *path, GError **error);
/* Capacity, allocation and available bytes of the file system holding PATH. */
gboolean storage_dir_stats(const char *path, uint64_t *ret_capacity, uint64_t *ret_allocation,
                           uint64_t *ret_available, GError **error);

/* The volume file names in PATH, sorted: regular files and block devices, no dot files, and
 * links that stay inside the pool (see storage_dir_vol_open). */
GPtrArray *storage_dir_list(const char *path, GError **error);

/* Opens volume NAME of the pool in directory DIR with FLAGS (O_PATH: only check it). The
 * file opened is a regular file or block device beneath the pool's directory as it resolves
 * (DIR itself may be a link: the pool was given that path); a name that leads elsewhere is
 * ERR_NO_STORAGE_VOL. What is checked is what is opened: no window for a rename between.
 * POOL_NAME words errors. Returns the descriptor, or -1 with ERROR. */
int storage_dir_vol_open(const char *dir, const char *pool_name, const char *name, int flags,
                         GError **error);

/* Reads format and sizes of the volume at PATH (qcow2 by its header, raw otherwise). */
gboolean storage_dir_vol_info(const char *path, struct storage_vol_info *ret, GError **error);
/* The same from an open descriptor; WHAT names it in errors. */
gboolean storage_dir_vol_info_fd(int fd, const char *what, struct storage_vol_info *ret,
                                 GError **error);

struct storage_vol_create {
    const char *path;
    enum storage_format format;
    uint64_t capacity;
    uint64_t allocation;        /* raw: bytes to allocate (fallocate) */
    gboolean prealloc_metadata; /* qcow2 */
    const char *backing;        /* qcow2 backing file */
    const char *backing_format;
    int mode; /* -1: 0600 */
};

/* Creates a volume file; refuses an existing name (ERR_STORAGE_VOL_EXIST: exactly one of two
 * concurrent creates wins). On failure nothing is left. QEMU_IMG: path of qemu-img. */
gboolean storage_dir_vol_create(const struct storage_vol_create *req, const char *qemu_img,
                                GError **error);
/* Copies SRC into a new volume described by REQ (format conversion through qemu-img). */
gboolean storage_dir_vol_clone(const char *src, const struct storage_vol_create *req,
                               const char *qemu_img, GError **error);
gboolean storage_dir_vol_delete(const char *path, GError **error);
/* Resizes to CAPACITY; shrinking needs SHRINK; ALLOCATE preallocates the new space. */
gboolean storage_dir_vol_resize(const char *path, uint64_t capacity, gboolean allocate,
                                gboolean shrink, const char *qemu_img, GError **error);
