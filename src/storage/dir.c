/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dir: raw volumes are made with ftruncate and fallocate (libvirt's rule: allocation omitted
 * means fully allocated, 0 means sparse); qcow2 ones with qemu-img. A volume is created with
 * O_EXCL first, so of two concurrent creates exactly one wins, and removed again on any
 * failure. The qcow2 header is read directly: listing many volumes spawns nothing. */
#include "storage/dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

#define QCOW2_MAGIC 0x514649fbu

void
storage_vol_info_clear(struct storage_vol_info *info)
{
    g_clear_pointer(&info->backing, g_free);
}

gboolean
storage_dir_build(const char *path, int mode, GError **error)
{
    /* parents as mkdir -p makes them; the pool's own directory gets exactly its mode,
     * whatever the daemon's umask, also when it exists already (as libvirt's build does) */
    g_autofree char *parent = g_path_get_dirname(path);
    if (g_mkdir_with_parents(parent, 0755) < 0 || (mkdir(path, 0700) < 0 && errno != EEXIST)) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot create pool directory '%s'", path);
        return FALSE;
    }
    if (chmod(path, mode >= 0 ? (mode_t)mode : 0711) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot set the mode of pool directory '%s'",
                      path);
        return FALSE;
    }
    return TRUE;
}

gboolean
storage_dir_delete(const char *path, GError **error)
{
    if (rmdir(path) < 0 && errno != ENOENT) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                    "pool directory '%s' is not empty; delete its volumes first", path);
        else
            err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot remove pool directory '%s'",
                          path);
        return FALSE;
    }
    return TRUE;
}

gboolean
storage_dir_stats(const char *path, uint64_t *ret_capacity, uint64_t *ret_allocation,
                  uint64_t *ret_available, GError **error)
{
    struct statvfs sv;
    if (statvfs(path, &sv) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot read the file system of '%s'", path);
        return FALSE;
    }
    *ret_capacity = (uint64_t)sv.f_frsize * sv.f_blocks;
    *ret_available = (uint64_t)sv.f_frsize * sv.f_bavail;
    *ret_allocation = (uint64_t)sv.f_frsize * (sv.f_blocks - sv.f_bfree);
    return TRUE;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether TARGET (a resolved path) lies beneath ROOT (a resolved directory). */
static gboolean
beneath(const char *root, const char *target)
{
    gsize n = strlen(root);
    if (n == 1 && root[0] == '/')
        return target[0] == '/' && target[1] != '\0';
    return strncmp(target, root, n) == 0 && target[n] == '/' && target[n + 1] != '\0';
}

int
storage_dir_vol_open(const char *dir, const char *pool_name, const char *name, int flags,
                     GError **error)
{
    if (!*name || strchr(name, '/') || g_str_equal(name, ".") || g_str_equal(name, "..")) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                "no storage vol with matching name '%s'", name);
        return -1;
    }
    g_autofree char *root = realpath(dir, NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    /* O_PATH follows the links without opening what they lead to (no FIFO waits, no device
     * side effects); what it found is checked, then reopened through the descriptor itself,
     * so the file used is the one checked whatever is renamed meanwhile */
    autoclose int pfd = root ? open(path, O_PATH | O_CLOEXEC) : -1;
    if (pfd < 0) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                "no storage vol with matching name '%s'", name);
        return -1;
    }
    g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", pfd);
    g_autofree char *target = g_file_read_link(self, NULL);
    struct stat st;
    if (!target || !beneath(root, target)) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                "no storage vol with matching name '%s': it leads outside pool '%s'", name,
                pool_name);
        return -1;
    }
    if (fstat(pfd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                "no storage vol with matching name '%s': not a file", name);
        return -1;
    }
    if (flags & O_PATH)
        return g_steal_fd(&pfd);
    int fd = open(self, flags | O_CLOEXEC);
    if (fd < 0)
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot open volume '%s' of pool '%s'", name,
                      pool_name);
    return fd;
}

GPtrArray *
storage_dir_list(const char *path, GError **error)
{
    DIR *dir = opendir(path);
    if (!dir) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot list pool directory '%s'", path);
        return NULL;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *e;
    /* d_type spares a stat per entry: pools may hold thousands of volumes */
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        gboolean vol = e->d_type == DT_REG || e->d_type == DT_BLK;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st = {0};
            if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                type = S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
            vol = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
        }
        if (type == DT_LNK) {
            /* a link is a volume when it stays inside the pool */
            int fd = storage_dir_vol_open(path, "", e->d_name, O_PATH, NULL);
            vol = fd >= 0;
            if (fd >= 0)
                close(fd);
        }
        if (vol)
            g_ptr_array_add(names, g_strdup(e->d_name));
    }
    closedir(dir);
    g_ptr_array_sort(names, compare_names);
    return names;
}

static uint64_t
be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

gboolean
storage_dir_vol_info(const char *path, struct storage_vol_info *ret, GError **error)
{
    autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                "storage volume '%s' cannot be read: %s", path, g_strerror(errno));
        return FALSE;
    }
    return storage_dir_vol_info_fd(fd, path, ret, error);
}

gboolean
storage_dir_vol_info_fd(int fd, const char *what, struct storage_vol_info *ret, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL,
                "storage volume '%s' cannot be read: %s", what, g_strerror(errno));
        return FALSE;
    }
    memset(ret, 0, sizeof(*ret));
    ret->physical = (uint64_t)st.st_size;
    ret->allocation = (uint64_t)st.st_blocks * 512;
    ret->capacity = (uint64_t)st.st_size;
    uint8_t hdr[72];
    ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
    if (n == (ssize_t)sizeof(hdr) && be32(hdr) == QCOW2_MAGIC) {
        ret->format = STORAGE_FORMAT_QCOW2;
        ret->capacity = be64(hdr + 24);
        uint64_t boff = be64(hdr + 8);
        uint32_t blen = be32(hdr + 16);
        if (boff && blen > 0 && blen < 4096) {
            char *b = g_malloc0(blen + 1);
            if (pread(fd, b, blen, (off_t)boff) == (ssize_t)blen && !memchr(b, '\0', blen))
                ret->backing = b;
            else
                g_free(b);
        }
    }
    return TRUE;
}

/* Runs qemu-img with ARGV; errors carry its stderr. */
static gboolean
run_qemu_img(const char *const *argv, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = 0;
    g_autoptr(GError) spawn_error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                      &spawn_error)) {
        err_set(error, ERR_FROM_STORAGE, ERR_INTERNAL_ERROR, "cannot run '%s': %s", argv[0],
                spawn_error->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        err_set(error, ERR_FROM_STORAGE, ERR_INTERNAL_ERROR, "'%s %s' failed: %s", argv[0], argv[1],
                err && *err ? err : "no message");
        return FALSE;
    }
    return TRUE;
}

static int
create_exclusive(const char *path, int mode, GError **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode >= 0 ? mode : 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            err_set(error, ERR_FROM_STORAGE, ERR_STORAGE_VOL_EXIST,
                    "storage volume '%s' exists already", path);
        else
            err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot create volume '%s'", path);
    }
    return fd;
}

gboolean
storage_dir_vol_create(const struct storage_vol_create *req, const char *qemu_img, GError **error)
{
    autoclose int fd = create_exclusive(req->path, req->mode, error);
    if (fd < 0)
        return FALSE;
    gboolean ok;
    if (req->format == STORAGE_FORMAT_RAW) {
        ok = ftruncate(fd, (off_t)req->capacity) == 0 &&
             (req->allocation == 0 || fallocate(fd, 0, 0, (off_t)req->allocation) == 0) &&
             fdatasync(fd) == 0;
        if (!ok)
            err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot allocate volume '%s'", req->path);
    } else {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, req->capacity);
        GPtrArray *argv = g_ptr_array_new();
        g_ptr_array_add(argv, (char *)qemu_img);
        g_ptr_array_add(argv, "create");
        g_ptr_array_add(argv, "-q");
        g_ptr_array_add(argv, "-f");
        g_ptr_array_add(argv, "qcow2");
        if (req->prealloc_metadata) {
            g_ptr_array_add(argv, "-o");
            g_ptr_array_add(argv, "preallocation=metadata");
        }
        if (req->backing) {
            g_ptr_array_add(argv, "-b");
            g_ptr_array_add(argv, (char *)req->backing);
            g_ptr_array_add(argv, "-F");
            g_ptr_array_add(argv, (char *)(req->backing_format ? req->backing_format : "raw"));
        }
        g_ptr_array_add(argv, (char *)req->path);
        if (!req->backing || req->capacity)
            g_ptr_array_add(argv, size);
        g_ptr_array_add(argv, NULL);
        ok = run_qemu_img((const char *const *)argv->pdata, error);
        g_ptr_array_free(argv, TRUE);
    }
    if (!ok)
        unlink(req->path);
    return ok;
}

gboolean
storage_dir_vol_clone(const char *src, const struct storage_vol_create *req, const char *qemu_img,
                      GError **error)
{
    autoclose int fd = create_exclusive(req->path, req->mode, error);
    if (fd < 0)
        return FALSE;
    /* qemu-img convert keeps holes and converts formats in one go */
    const char *argv[] = {
        qemu_img, "convert", "-q", "-O", req->format == STORAGE_FORMAT_QCOW2 ? "qcow2" : "raw",
        src,      req->path, NULL};
    gboolean ok = run_qemu_img(argv, error);
    if (ok && req->format == STORAGE_FORMAT_RAW && req->capacity) {
        struct stat st;
        if (stat(req->path, &st) == 0 && (uint64_t)st.st_size < req->capacity &&
            truncate(req->path, (off_t)req->capacity) < 0) {
            err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot grow clone '%s'", req->path);
            ok = FALSE;
        }
    }
    if (!ok)
        unlink(req->path);
    return ok;
}

gboolean
storage_dir_vol_delete(const char *path, GError **error)
{
    if (unlink(path) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot delete volume '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
storage_dir_vol_resize(const char *path, uint64_t capacity, gboolean allocate, gboolean shrink,
                       const char *qemu_img, GError **error)
{
    struct storage_vol_info info;
    if (!storage_dir_vol_info(path, &info, error))
        return FALSE;
    storage_vol_info_clear(&info);
    if (capacity < info.capacity && !shrink) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "cannot shrink volume '%s' from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                " bytes without the shrink flag",
                path, info.capacity, capacity);
        return FALSE;
    }
    if (info.format == STORAGE_FORMAT_QCOW2) {
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, capacity);
        const char *argv[] = {qemu_img,
                              "resize",
                              "-q",
                              "-f",
                              "qcow2",
                              shrink ? "--shrink" : path,
                              shrink ? path : size,
                              shrink ? size : NULL,
                              NULL};
        return run_qemu_img(argv, error);
    }
    autoclose int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)capacity) < 0 ||
        (allocate && capacity > info.capacity &&
         fallocate(fd, 0, (off_t)info.capacity, (off_t)(capacity - info.capacity)) < 0)) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot resize volume '%s'", path);
        return FALSE;
    }
    return TRUE;
}
