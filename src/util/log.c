/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log: leveled logging with timestamps; thread-safe through stdio's own locking. */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

static enum log_level min_level = LOG_LEVEL_INFO;
static FILE *log_stream;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void
log_set_level(enum log_level level)
{
    min_level = level;
}

gboolean
log_set_file(const char *path, GError **error)
{
    FILE *f = fopen(path, "ae");
    if (!f) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot open log file '%s'", path);
        return FALSE;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_stream)
        fclose(log_stream);
    log_stream = f;
    return TRUE;
}

gboolean
log_enabled(enum log_level level)
{
    return level >= min_level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    FILE *out = log_stream ? log_stream : stderr;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    g_autofree char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* %f gives microseconds; keep milliseconds */
    if (stamp && strlen(stamp) > 23)
        stamp[23] = '\0';
    fprintf(out, "%s %s: %s\n", stamp, level_names[level], msg);
}
