/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file: atomic writes (temp + fsync + rename + dir fsync) and small file helpers. */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util/err.h"

static gboolean
write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static void
fsync_dir_of(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    autoclose int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        fsync(fd);
}

gboolean
file_write_atomic(const char *path, const char *data, gsize len, int mode, unsigned flags,
                  GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp.XXXXXX", path);
    autoclose int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot create '%s'", tmp);
        return FALSE;
    }
    if (!write_all(fd, data, len) || fchmod(fd, mode) < 0 ||
        ((flags & FILE_DURABLE) && fsync(fd) < 0)) {
        int saved = errno;
        unlink(tmp);
        err_set_errno(error, ERR_FROM_NONE, saved, "cannot write '%s'", path);
        return FALSE;
    }
    if (close(fd) < 0) {
        int saved = errno;
        fd = -1;
        unlink(tmp);
        err_set_errno(error, ERR_FROM_NONE, saved, "cannot write '%s'", path);
        return FALSE;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        err_set_errno(error, ERR_FROM_NONE, saved, "cannot rename '%s' to '%s'", tmp, path);
        return FALSE;
    }
    if (flags & FILE_DURABLE)
        fsync_dir_of(path);
    return TRUE;
}

gboolean
file_mkdir_p(const char *dir, int mode, GError **error)
{
    if (g_mkdir_with_parents(dir, mode) < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot create directory '%s'", dir);
        return FALSE;
    }
    return TRUE;
}

gboolean
file_remove(const char *path, GError **error)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot remove '%s'", path);
        return FALSE;
    }
    return TRUE;
}

/* A regular file's blocks go a step at a time (ftruncate), so that ext4 frees them in small
 * journal transactions: one large one made every fsync meanwhile wait for it (17 ms for
 * 70 MB on these machines); then the last descriptor closes. */
#define FREE_STEP (8 << 20)
#define FREE_PAUSE_US 1000

static void
free_in_pool(gpointer data, gpointer user_data)
{
    int fd = GPOINTER_TO_INT(data) - 1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        for (off_t size = st.st_size; size > 0;) {
            size = size > FREE_STEP ? size - FREE_STEP : 0;
            if (ftruncate(fd, size) < 0)
                break;
            g_usleep(FREE_PAUSE_US);
        }
    }
    close(fd);
}

gboolean
file_remove_large(const char *path, GError **error)
{
    /* an O_PATH descriptor holds the inode without opening the file (no device's open runs);
     * a regular file is opened again through it for writing, to be truncated */
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", fd);
        int wfd = open(self, O_WRONLY | O_CLOEXEC);
        if (wfd >= 0) {
            close(fd);
            fd = wfd;
        }
    }
    if (!file_remove(path, error)) {
        file_close_fd(&fd);
        return FALSE;
    }
    if (fd < 0)
        return TRUE;
    static GThreadPool *pool;
    static gsize once;
    if (g_once_init_enter(&once)) {
        pool = g_thread_pool_new(free_in_pool, NULL, 1, FALSE, NULL);
        g_once_init_leave(&once, 1);
    }
    g_thread_pool_push(pool, GINT_TO_POINTER(fd + 1), NULL);
    return TRUE;
}

char *
file_tail(const char *path, int max_lines)
{
    return file_tail_from(path, 0, max_lines);
}

char *
file_tail_from(const char *path, long offset, int max_lines)
{
    autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    off_t start = st.st_size > 4096 ? st.st_size - 4096 : 0;
    if (start < offset)
        start = offset;
    if (start >= st.st_size)
        return NULL;
    char buf[4097];
    ssize_t n = pread(fd, buf, 4096, start);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    char *p = buf + n;
    int lines = 0;
    while (p > buf) {
        if (p[-1] == '\n' && ++lines == max_lines)
            break;
        p--;
    }
    return g_strdup(p);
}

/* file_write_atomic's temporaries: NAME.tmp.XXXXXX */
static gboolean
is_temp_name(const char *name)
{
    const char *t = g_strrstr(name, ".tmp.");
    return t && t != name && strlen(t + 5) == 6;
}

guint
file_remove_stale_temps(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return 0;
    guint removed = 0;
    const char *entry;
    while ((entry = g_dir_read_name(d))) {
        if (!is_temp_name(entry))
            continue;
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        if (unlink(path) == 0)
            removed++;
    }
    return removed;
}

int
file_connect_unix(const char *path, gboolean nonblock)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
        !(nonblock && errno == EINPROGRESS))
        file_close_fd(&fd);
    return fd;
}
