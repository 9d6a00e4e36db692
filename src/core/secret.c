/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secret: definitions and values of secrets, in memory and (persistent ones) on disk. */
#include "core/secret.h"

#include <string.h>

#include "core/events.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

/* virConnectListAllSecretsFlags */
enum { LIST_EPHEMERAL = 1, LIST_NO_EPHEMERAL = 2, LIST_PRIVATE = 4, LIST_NO_PRIVATE = 8 };

static void
wipe_value(struct secret *s)
{
    if (s->value) {
        explicit_bzero(s->value, s->value_len);
        g_free(s->value);
    }
    s->value = NULL;
    s->value_len = 0;
}

static void
secret_free(struct secret *s)
{
    wipe_value(s);
    secret_def_free(s->def);
    g_free(s);
}

static char *
uuid_key(const uint8_t *uuid)
{
    char buf[UUID_STRING_LEN];
    return g_strdup(uuid_format(uuid, buf));
}

static char *
file_of(struct core *core, const uint8_t *uuid, const char *suffix)
{
    g_autofree char *key = uuid_key(uuid);
    g_autofree char *name = g_strconcat(key, suffix, NULL);
    return g_build_filename(core->paths.secret_dir, name, NULL);
}

static void
emit(struct core *core, const struct secret *s, int kind, int event)
{
    struct event ev = {
        .object = EVENT_OBJECT_SECRET,
        .kind = kind,
        .name = s->def->usage_id ? s->def->usage_id : "",
        .id = -1,
        .event = event,
        .usage_type = (int)s->def->usage,
    };
    memcpy(ev.uuid, s->def->uuid, UUID_LEN);
    events_emit(core->events, &ev);
}

/* A value file's bytes, or NULL (logged: the secret stays, without its value) */
static void
load_value(struct core *core, struct secret *s)
{
    g_autofree char *path = file_of(core, s->def->uuid, ".base64");
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, NULL))
        return;
    g_strstrip(text);
    gsize n = 0;
    s->value = g_base64_decode(text, &n);
    s->value_len = n;
    explicit_bzero(text, len);
}

gboolean
core_secret_init(struct core *core, GError **error)
{
    core->secrets =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)secret_free);
    if (!core->paths.secret_dir)
        return TRUE;
    if (!file_mkdir_p(core->paths.secret_dir, 0700, error))
        return FALSE;
    file_remove_stale_temps(core->paths.secret_dir);
    g_autoptr(GDir) dir = g_dir_open(core->paths.secret_dir, 0, NULL);
    for (const char *e; dir && (e = g_dir_read_name(dir));) {
        if (!g_str_has_suffix(e, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(core->paths.secret_dir, e, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) err = NULL;
        struct secret_def *def =
            g_file_get_contents(path, &xml, NULL, &err) ? secret_def_parse(xml, &err) : NULL;
        if (!def) {
            log_warn("ignoring secret '%s': %s", path, err->message);
            continue;
        }
        struct secret *s = g_new0(struct secret, 1);
        s->def = def;
        load_value(core, s);
        g_hash_table_replace(core->secrets, uuid_key(def->uuid), s);
    }
    return TRUE;
}

void
core_secret_free(struct core *core)
{
    g_clear_pointer(&core->secrets, g_hash_table_unref);
}

struct secret *
core_secret_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error)
{
    g_autofree char *key = uuid_key(uuid);
    struct secret *s = g_hash_table_lookup(core->secrets, key);
    if (!s)
        err_set(error, ERR_FROM_SECRET, ERR_NO_SECRET, "no secret with matching uuid '%s'", key);
    return s;
}

static struct secret *
find_usage(struct core *core, int usage, const char *id)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, core->secrets);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct secret *s = v;
        if ((int)s->def->usage == usage && usage != SECRET_USAGE_NONE &&
            g_strcmp0(s->def->usage_id, id) == 0)
            return s;
    }
    return NULL;
}

struct secret *
core_secret_lookup_usage(struct core *core, int usage, const char *id, GError **error)
{
    struct secret *s = find_usage(core, usage, id);
    if (!s)
        err_set(error, ERR_FROM_SECRET, ERR_NO_SECRET, "no secret with matching usage '%s'",
                id ? id : "");
    return s;
}

static int
by_uuid(gconstpointer a, gconstpointer b)
{
    const struct secret *x = *(struct secret *const *)a, *y = *(struct secret *const *)b;
    return memcmp(x->def->uuid, y->def->uuid, UUID_LEN);
}

GPtrArray *
core_secret_list(struct core *core, unsigned flags)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, core->secrets);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct secret *s = v;
        if ((flags & (LIST_EPHEMERAL | LIST_NO_EPHEMERAL)) &&
            !((flags & LIST_EPHEMERAL && s->def->ephemeral) ||
              (flags & LIST_NO_EPHEMERAL && !s->def->ephemeral)))
            continue;
        if ((flags & (LIST_PRIVATE | LIST_NO_PRIVATE)) &&
            !((flags & LIST_PRIVATE && s->def->private_) ||
              (flags & LIST_NO_PRIVATE && !s->def->private_)))
            continue;
        g_ptr_array_add(out, s);
    }
    g_ptr_array_sort(out, by_uuid);
    return out;
}

struct secret *
core_secret_define(struct core *core, const char *xml, GError **error)
{
    g_autoptr(secret_def) def = secret_def_parse(xml, error);
    if (!def)
        return NULL;
    char uuid[UUID_STRING_LEN];
    uuid_format(def->uuid, uuid);
    struct secret *same = g_hash_table_lookup(core->secrets, uuid);
    struct secret *user = find_usage(core, (int)def->usage, def->usage_id);
    if (user && user != same) {
        char other[UUID_STRING_LEN];
        err_set(error, ERR_FROM_SECRET, ERR_INTERNAL_ERROR,
                "a secret with UUID %s already defined for use with %s",
                uuid_format(user->def->uuid, other), def->usage_id);
        return NULL;
    }
    if (same &&
        (same->def->usage != def->usage || g_strcmp0(same->def->usage_id, def->usage_id) != 0)) {
        err_set(error, ERR_FROM_SECRET, ERR_OPERATION_INVALID,
                "secret %s is for use with %s; its usage cannot change (undefine it first)", uuid,
                same->def->usage_id ? same->def->usage_id : "nothing");
        return NULL;
    }
    if (same && (same->def->ephemeral != def->ephemeral || same->def->private_ != def->private_)) {
        err_set(error, ERR_FROM_SECRET, ERR_OPERATION_INVALID,
                "cannot change the %s flag of existing secret %s; undefine it first",
                same->def->ephemeral != def->ephemeral ? "ephemeral" : "private", uuid);
        return NULL;
    }
    if (!def->ephemeral) {
        g_autofree char *path = file_of(core, def->uuid, ".xml");
        g_autofree char *text = secret_def_format(def);
        if (!file_mkdir_p(core->paths.secret_dir, 0700, error) ||
            !file_write_atomic(path, text, strlen(text), 0600, FILE_DURABLE, error))
            return NULL;
    }
    struct secret *s = same;
    if (s) {
        secret_def_free(s->def);
    } else {
        s = g_new0(struct secret, 1);
        g_hash_table_replace(core->secrets, g_strdup(uuid), s);
    }
    s->def = g_steal_pointer(&def);
    emit(core, s, SECRET_EVENT_ID_LIFECYCLE, SECRET_EVENT_DEFINED);
    return s;
}

gboolean
core_secret_undefine(struct core *core, struct secret *s, GError **error)
{
    g_autofree char *cfg = file_of(core, s->def->uuid, ".xml");
    g_autofree char *val = file_of(core, s->def->uuid, ".base64");
    if (!file_remove(val, error) || !file_remove(cfg, error))
        return FALSE;
    emit(core, s, SECRET_EVENT_ID_LIFECYCLE, SECRET_EVENT_UNDEFINED);
    g_autofree char *key = uuid_key(s->def->uuid);
    g_hash_table_remove(core->secrets, key);
    return TRUE;
}

gboolean
core_secret_set_value(struct core *core, struct secret *s, const guint8 *value, gsize len,
                      GError **error)
{
    if (!s->def->ephemeral) {
        g_autofree char *path = file_of(core, s->def->uuid, ".base64");
        char *text = g_base64_encode(value, len);
        gboolean ok = file_write_atomic(path, text, strlen(text), 0600, FILE_DURABLE, error);
        explicit_bzero(text, strlen(text));
        g_free(text);
        if (!ok)
            return FALSE;
    }
    wipe_value(s);
    s->value = g_malloc(MAX(len, 1)); /* an empty value is a value */
    if (len)
        memcpy(s->value, value, len);
    s->value_len = len;
    emit(core, s, SECRET_EVENT_ID_VALUE_CHANGED, 0);
    return TRUE;
}

guint8 *
core_secret_get_value(struct secret *s, gsize *ret_len, GError **error)
{
    char uuid[UUID_STRING_LEN];
    if (s->def->private_) {
        err_set(error, ERR_FROM_SECRET, ERR_INVALID_SECRET,
                "secret %s is private: its value is not given out",
                uuid_format(s->def->uuid, uuid));
        return NULL;
    }
    if (!s->value) {
        err_set(error, ERR_FROM_SECRET, ERR_NO_SECRET, "secret '%s' does not have a value",
                uuid_format(s->def->uuid, uuid));
        return NULL;
    }
    *ret_len = s->value_len;
    return g_memdup2(s->value, s->value_len ? s->value_len : 1);
}
