/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config: domusd.conf, a GLib key file. Groups [daemon] (listen, log_level, log_file,
 * libvirt_paths, host_uuid), [tls]
 * (pki_dir, the four files, allowed_dn, priority), [limits] (libvirtd.conf's names where
 * libvirtd has them) and [qemu]. An unknown group or key, or a bad value, is an error that
 * names it. */
#include "daemon/config.h"

#include <errno.h>
#include <string.h>

#include "qemu/saveimage.h"
#include "util/err.h"

#define JOB_WAIT_DEFAULT_MS 30000

struct number {
    const char *group;
    const char *name;
    guint64 min, max;
    gsize offset;
    int size; /* sizeof the field: 4 (guint / int) or 8 (gsize) */
};

#define LIM(field)                                                                                 \
    (G_STRUCT_OFFSET(struct daemon_config, limits) + G_STRUCT_OFFSET(struct server_limits, field))
#define CFG(field) G_STRUCT_OFFSET(struct daemon_config, field)

static const struct number numbers[] = {
    {"limits", "max_clients", 1, 100000, LIM(max_clients), 4},
    {"limits", "max_client_requests", 1, 1000, LIM(max_client_requests), 4},
    {"limits", "max_queued_output", 65536, G_MAXUINT32, LIM(max_queued_output), 8},
    {"limits", "max_output_backlog", 65536, G_MAXUINT32, LIM(max_output_backlog), 8},
    /* a message of the largest size libvirt allows must be able to arrive */
    {"limits", "input_budget", RPC_MESSAGE_MAX + 65536, G_MAXUINT32, LIM(input_budget), 8},
    {"limits", "frame_timeout", 1, 3600, LIM(frame_timeout_s), 4},
    {"limits", "keepalive_interval", 0, 3600, LIM(keepalive_interval), 4},
    {"limits", "keepalive_count", 0, 1000, LIM(keepalive_count), 4},
    {"qemu", "monitor_timeout", 1, 3600000, CFG(monitor_timeout_ms), 4},
    {"qemu", "job_wait", 0, 3600000, CFG(job_wait_ms), 4},
    {"qemu", "migration_port_min", 1024, 65535, CFG(migration_port_min), 4},
    {"qemu", "migration_port_max", 1024, 65535, CFG(migration_port_max), 4},
    {"qemu", "migrate_tls_x509_verify", 0, 1, CFG(migrate_tls_verify), 4},
    {"qemu", "backup_tls_x509_verify", 0, 1, CFG(backup_tls_verify), 4},
};

enum kind { KIND_STRING, KIND_PATH, KIND_LIST, KIND_TRISTATE };

struct text {
    const char *group;
    const char *name;
    enum kind kind;
    gsize offset; /* char * or char ** in struct daemon_config */
};

static const struct text texts[] = {
    {"daemon", "listen", KIND_LIST, CFG(listen)},
    {"daemon", "log_level", KIND_STRING, CFG(log_level)},
    {"daemon", "log_file", KIND_PATH, CFG(log_file)},
    {"daemon", "libvirt_paths", KIND_TRISTATE, CFG(libvirt_paths)},
    {"daemon", "host_uuid", KIND_STRING, CFG(host_uuid)},
    {"qemu", "migration_address", KIND_STRING, CFG(migration_address)},
    {"qemu", "migrate_tls_x509_cert_dir", KIND_PATH, CFG(migrate_tls_dir)},
    {"qemu", "backup_tls_x509_cert_dir", KIND_PATH, CFG(backup_tls_dir)},
    {"qemu", "save_image_format", KIND_STRING, CFG(save_image_format)},
    {"qemu", "snapshot_image_format", KIND_STRING, CFG(snapshot_image_format)},
    {"qemu", "default_disk_io", KIND_STRING, CFG(default_disk_io)},
    {"tls", "pki_dir", KIND_PATH, CFG(pki_dir)},
    {"tls", "ca_file", KIND_PATH, CFG(ca_file)},
    {"tls", "cert_file", KIND_PATH, CFG(cert_file)},
    {"tls", "key_file", KIND_PATH, CFG(key_file)},
    {"tls", "crl_file", KIND_PATH, CFG(crl_file)},
    {"tls", "allowed_dn", KIND_LIST, CFG(tls_allowed_dn)},
    {"tls", "priority", KIND_STRING, CFG(tls_priority)},
};

static const char *const groups[] = {"daemon", "tls", "limits", "qemu", NULL};

void
daemon_config_default(struct daemon_config *ret)
{
    memset(ret, 0, sizeof(*ret));
    server_limits_default(&ret->limits);
    ret->job_wait_ms = JOB_WAIT_DEFAULT_MS;
    /* libvirt's range for incoming migrations */
    ret->migration_port_min = 49152;
    ret->migration_port_max = 49215;
    /* libvirt's: the source's certificate is checked */
    ret->migrate_tls_verify = 1;
    ret->backup_tls_verify = 1;
}

void
daemon_config_clear(struct daemon_config *cfg)
{
    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
        gpointer *field = (gpointer *)((guint8 *)cfg + texts[i].offset);
        if (texts[i].kind == KIND_TRISTATE)
            continue;
        if (texts[i].kind == KIND_LIST)
            g_strfreev(*field);
        else
            g_free(*field);
        *field = NULL;
    }
}

static gboolean
apply_number(struct daemon_config *cfg, GKeyFile *kf, const char *path, const struct number *s,
             GError **error)
{
    g_autofree char *value = g_key_file_get_value(kf, s->group, s->name, NULL);
    g_strstrip(value);
    guint64 v;
    if (!g_ascii_string_to_unsigned(value, 10, s->min, s->max, &v, NULL)) {
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                "%s: [%s] %s must be a number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                ", not '%s'",
                path, s->group, s->name, s->min, s->max, value);
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

static gboolean
apply_text(struct daemon_config *cfg, GKeyFile *kf, const char *path, const struct text *s,
           GError **error)
{
    gpointer *field = (gpointer *)((guint8 *)cfg + s->offset);
    if (s->kind == KIND_TRISTATE) {
        static const char *const values[] = {"false", "true", "auto"};
        g_autofree char *v = g_key_file_get_string(kf, s->group, s->name, NULL);
        g_strstrip(v);
        for (int i = 0; i < (int)G_N_ELEMENTS(values); i++) {
            if (g_str_equal(v, values[i])) {
                *(int *)((guint8 *)cfg + s->offset) = i;
                return TRUE;
            }
        }
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                "%s: [%s] %s must be true, false or auto, not '%s'", path, s->group, s->name, v);
        return FALSE;
    }
    if (s->kind == KIND_LIST) {
        char **list = g_key_file_get_string_list(kf, s->group, s->name, NULL, NULL);
        for (char **p = list; p && *p; p++)
            g_strstrip(*p);
        g_strfreev(*field);
        *field = list;
        return TRUE;
    }
    g_autofree char *v = g_key_file_get_string(kf, s->group, s->name, NULL);
    g_strstrip(v);
    if (!*v || (s->kind == KIND_PATH && !g_path_is_absolute(v))) {
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED, "%s: [%s] %s must be %s, not '%s'",
                path, s->group, s->name,
                s->kind == KIND_PATH ? "an absolute path" : "a non-empty string", v);
        return FALSE;
    }
    g_free(*field);
    *field = g_steal_pointer(&v);
    return TRUE;
}

/* Applies KEY of GROUP; unknown ones are errors. */
static gboolean
apply(struct daemon_config *cfg, GKeyFile *kf, const char *path, const char *group, const char *key,
      GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(numbers); i++)
        if (g_str_equal(numbers[i].group, group) && g_str_equal(numbers[i].name, key))
            return apply_number(cfg, kf, path, &numbers[i], error);
    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++)
        if (g_str_equal(texts[i].group, group) && g_str_equal(texts[i].name, key))
            return apply_text(cfg, kf, path, &texts[i], error);
    err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED, "%s: unknown setting '%s' in [%s]", path,
            key, group);
    return FALSE;
}

gboolean
daemon_config_load(struct daemon_config *cfg, const char *path, gboolean optional, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) kerr = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &kerr)) {
        if (optional && g_error_matches(kerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        int code = kerr->domain == G_FILE_ERROR ? ERR_OPEN_FAILED : ERR_CONFIG_UNSUPPORTED;
        err_set(error, ERR_FROM_CONF, code, "%s: %s", path, kerr->message);
        return FALSE;
    }
    g_auto(GStrv) names = g_key_file_get_groups(kf, NULL);
    for (char **g = names; *g; g++) {
        if (!g_strv_contains(groups, *g)) {
            err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                    "%s: unknown group [%s]; domusd.conf has [daemon], [tls], [limits] and "
                    "[qemu]",
                    path, *g);
            return FALSE;
        }
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
        for (char **k = keys; k && *k; k++)
            if (!apply(cfg, kf, path, *g, *k, error))
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
    if (cfg->migration_port_min > cfg->migration_port_max) {
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                "%s: [qemu] migration_port_min (%u) is above migration_port_max (%u)", path,
                cfg->migration_port_min, cfg->migration_port_max);
        return FALSE;
    }
    const char *formats[] = {"save_image_format", cfg->save_image_format, "snapshot_image_format",
                             cfg->snapshot_image_format};
    for (gsize i = 0; i < G_N_ELEMENTS(formats); i += 2) {
        if (formats[i + 1] && qemu_saveimage_compression_from_string(formats[i + 1]) < 0) {
            err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                    "%s: [qemu] %s must be raw, gzip, bzip2, xz or lzop, not '%s'", path,
                    formats[i], formats[i + 1]);
            return FALSE;
        }
    }
    if (cfg->default_disk_io && !g_str_equal(cfg->default_disk_io, "auto") &&
        !g_str_equal(cfg->default_disk_io, "threads")) {
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                "%s: [qemu] default_disk_io must be auto or threads, not '%s'", path,
                cfg->default_disk_io);
        return FALSE;
    }
    if (cfg->log_level && !daemon_config_log_level(cfg->log_level, NULL)) {
        err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                "%s: [daemon] log_level must be debug, info, warn or error, not '%s'", path,
                cfg->log_level);
        return FALSE;
    }
    return TRUE;
}

gboolean
daemon_config_log_level(const char *name, int *ret_level)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < (int)G_N_ELEMENTS(levels); i++) {
        if (g_str_equal(levels[i], name)) {
            if (ret_level)
                *ret_level = i;
            return TRUE;
        }
    }
    return FALSE;
}
