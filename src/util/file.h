/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file: atomic configuration writes, directory creation, fd helpers; prefix file_. */
#pragma once

#include <glib.h>
#include <errno.h>
#include <unistd.h>

enum {
    /* survive a host crash: fsync the file before the rename and the directory after it.
     * Configuration needs this. Run state (status files, the next domain id) describes
     * processes that a host crash takes with it, so an atomic rename is all it needs: a
     * daemon crash loses nothing from the page cache. */
    FILE_DURABLE = 1 << 0,
};

/* Writes LEN bytes of DATA to PATH atomically: a temp file in the same directory, then a
 * rename; with FILE_DURABLE also fsync of the file and of the directory. MODE is the new
 * file's mode. On failure PATH is untouched and no temp file is left.
 * Errors: ERR_SYSTEM_ERROR. */
gboolean file_write_atomic(const char *path, const char *data, gsize len, int mode, unsigned flags,
                           GError **error);

/* Creates DIR and its parents with MODE; an existing directory is fine. */
gboolean file_mkdir_p(const char *dir, int mode, GError **error);

/* Removes PATH; a missing file is fine. */
gboolean file_remove(const char *path, GError **error);
/* Like file_remove, for a file that may be large (a memory or save image): its name goes at
 * once, and the freeing of its blocks (about 20 ms per 70 MB on ext4, seconds for a large
 * image) happens in a worker thread, not in the caller's, a few MiB at a time so that
 * nobody's fsync waits for all of it. */
gboolean file_remove_large(const char *path, GError **error);

/* The last MAX_LINES lines of the file at PATH (at most 4 KiB), or NULL if unreadable.
 * Returns a new string. */
char *file_tail(const char *path, int max_lines);
/* Like file_tail, looking only at bytes from OFFSET on. */
char *file_tail_from(const char *path, long offset, int max_lines);

static inline void
file_close_fd(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}
#define autoclose __attribute__((cleanup(file_close_fd)))

/* A unix stream socket connected to PATH (close-on-exec; NONBLOCK: non-blocking, and a connect
 * still under way is not a failure), or -1 with errno set (ENAMETOOLONG: PATH does not fit a
 * socket address). */
int file_connect_unix(const char *path, gboolean nonblock);

/* Removes what file_write_atomic leaves when the process dies in the middle of a write
 * (NAME.tmp.XXXXXX) from DIR. Only for directories this program writes alone; returns how
 * many went. */
guint file_remove_stale_temps(const char *dir);
