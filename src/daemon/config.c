/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config: one setting per line, "name = number" (libvirtd.conf's keys where libvirtd has
 * them: max_clients, max_client_requests, keepalive_interval, keepalive_count). */
#include "daemon/config.h"

#include <errno.h>
#include <string.h>

#include "util/err.h"

#define JOB_WAIT_DEFAULT_MS 30000

struct setting {
    const char *name;
    guint64 min, max;
    gsize offset;
    int size; /* sizeof the field: 4 (guint / int) or 8 (gsize) */
};

#define LIM(field)                                                                                 \
    (G_STRUCT_OFFSET(struct daemon_config, limits) + G_STRUCT_OFFSET(struct server_limits, field))

static const struct setting settings[] = {
    {"max_clients", 1, 100000, LIM(max_clients), 4},
    {"max_client_requests", 1, 1000, LIM(max_client_requests), 4},
    {"max_queued_output", 65536, G_MAXUINT32, LIM(max_queued_output), 8},
    {"max_output_backlog", 65536, G_MAXUINT32, LIM(max_output_backlog), 8},
    /* a message of the largest size libvirt allows must be able to arrive */
    {"input_budget", RPC_MESSAGE_MAX + 65536, G_MAXUINT32, LIM(input_budget), 8},
    {"frame_timeout", 1, 3600, LIM(frame_timeout_s), 4},
    {"keepalive_interval", 0, 3600, LIM(keepalive_interval), 4},
    {"keepalive_count", 0, 1000, LIM(keepalive_count), 4},
    {"monitor_timeout", 1, 3600000, G_STRUCT_OFFSET(struct daemon_config, monitor_timeout_ms), 4},
    {"job_wait", 0, 3600000, G_STRUCT_OFFSET(struct daemon_config, job_wait_ms), 4},
};

void
daemon_config_default(struct daemon_config *ret)
{
    memset(ret, 0, sizeof(*ret));
    server_limits_default(&ret->limits);
    ret->job_wait_ms = JOB_WAIT_DEFAULT_MS;
}

static gboolean
apply(struct daemon_config *cfg, const char *path, int lineno, const char *key, const char *value,
      GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(settings); i++) {
        const struct setting *s = &settings[i];
        if (!g_str_equal(s->name, key))
            continue;
        guint64 v;
        if (!g_ascii_string_to_unsigned(value, 10, s->min, s->max, &v, NULL)) {
            err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                    "%s:%d: '%s' must be a number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                    ", not '%s'",
                    path, lineno, key, s->min, s->max, value);
            return FALSE;
        }
        guint8 *field = (guint8 *)cfg + s->offset;
        if (s->size == 8) {
            gsize g = (gsize)v;
            memcpy(field, &g, sizeof(g));
        } else {
            guint u = (guint)v;
            memcpy(field, &u, sizeof(u));
        }
        return TRUE;
    }
    err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED, "%s:%d: unknown setting '%s'", path,
            lineno, key);
    return FALSE;
}

gboolean
daemon_config_load(struct daemon_config *cfg, const char *path, gboolean optional, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) rerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &rerr)) {
        if (optional && g_error_matches(rerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        err_set(error, ERR_FROM_CONF, ERR_OPEN_FAILED, "%s", rerr->message);
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        char *line = lines[i];
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        g_strstrip(line);
        if (!*line)
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                    "%s:%d: expected 'name = value', got '%s'", path, i + 1, line);
            return FALSE;
        }
        *eq = '\0';
        char *key = g_strstrip(line);
        char *value = g_strstrip(eq + 1);
        if (!apply(cfg, path, i + 1, key, value, error))
            return FALSE;
    }
    const struct server_limits *lim = &cfg->limits;
    if (lim->max_output_backlog < 2 * lim->max_queued_output) {
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                "%s: max_output_backlog (%zu) must be at least twice max_queued_output (%zu): "
                "a client is dropped only well past where reading from it pauses",
                path, lim->max_output_backlog, lim->max_queued_output);
        return FALSE;
    }
    return TRUE;
}
