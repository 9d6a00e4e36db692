/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage: the pool registry, its files (config written before memory changes, like
 * domains), and volume operations on active dir pools. */
#include "core/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"
#include "util/log.h"
#include "util/names.h"

#define DEFAULT_POOL "default"

const char *
core_storage_qemu_img(void)
{
    static gsize once;
    static char *path;
    if (g_once_init_enter(&once)) {
        path = g_find_program_in_path("qemu-img");
        g_once_init_leave(&once, 1);
    }
    return path ? path : "/usr/bin/qemu-img";
}

static void
pool_unref(struct pool *p)
{
    if (!p || --p->refs > 0)
        return;
    storage_def_pool_free(p->def);
    g_free(p);
}

static char *
pool_config_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/%s.xml", core->paths.pool_config_dir, name);
}

static char *
pool_autostart_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/autostart/%s", core->paths.pool_config_dir, name);
}

static char *
pool_active_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/%s.active", core->paths.pool_state_dir, name);
}

static char *
uuid_key(const uint8_t *uuid)
{
    char buf[UUID_STRING_LEN];
    return g_strdup(uuid_format(uuid, buf));
}

static void
pool_add(struct core *core, struct pool *p)
{
    g_hash_table_insert(core->pools_by_name, g_strdup(p->def->name), p);
    g_hash_table_insert(core->pools_by_uuid, uuid_key(p->def->uuid), p);
}

static void
pool_remove(struct core *core, struct pool *p)
{
    g_autofree char *key = uuid_key(p->def->uuid);
    g_hash_table_remove(core->pools_by_uuid, key);
    g_hash_table_remove(core->pools_by_name, p->def->name); /* unrefs */
}

static gboolean
pool_config_write(struct core *core, const struct pool_def *def, GError **error)
{
    g_autofree char *xml = storage_def_pool_format(def);
    g_autofree char *path = pool_config_path(core, def->name);
    return file_write_atomic(path, xml, strlen(xml), 0600, FILE_DURABLE, error);
}

/* A pool event to every subscriber: KIND (POOL_EVENT_ID_*), EVENT (lifecycle) */
static void
emit(struct core *core, struct pool *p, int kind, int event)
{
    struct event ev = {
        .object = EVENT_OBJECT_POOL,
        .kind = kind,
        .name = p->def->name,
        .id = -1,
        .event = event,
    };
    memcpy(ev.uuid, p->def->uuid, UUID_LEN);
    events_emit(core->events, &ev);
}

static gboolean
mark_active(struct core *core, struct pool *p, gboolean active, GError **error)
{
    g_autofree char *path = pool_active_path(core, p->def->name);
    if (active && !file_write_atomic(path, "", 0, 0600, 0, error))
        return FALSE;
    if (!active && !file_remove(path, error))
        return FALSE;
    gboolean changed = p->active != active;
    p->active = active;
    if (changed)
        emit(core, p, POOL_EVENT_ID_LIFECYCLE, active ? POOL_EVENT_STARTED : POOL_EVENT_STOPPED);
    return TRUE;
}

static gboolean
check_unique(struct core *core, const struct pool_def *def, struct pool **ret, GError **error)
{
    g_autofree char *key = uuid_key(def->uuid);
    struct pool *by_name = g_hash_table_lookup(core->pools_by_name, def->name);
    struct pool *by_uuid = g_hash_table_lookup(core->pools_by_uuid, key);
    if (by_name && by_name != by_uuid) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_FAILED,
                "pool '%s' already exists with another uuid", def->name);
        return FALSE;
    }
    if (by_uuid && by_uuid != by_name) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_FAILED, "pool '%s' already has uuid %s",
                by_uuid->def->name, key);
        return FALSE;
    }
    /* two pools on one directory would show the same volumes twice */
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->pools_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct pool *p = value;
        if (p != by_name && g_str_equal(p->def->target_path, def->target_path)) {
            err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_FAILED,
                    "pool '%s' already uses directory '%s'", p->def->name, def->target_path);
            return FALSE;
        }
    }
    *ret = by_name;
    return TRUE;
}

gboolean
core_storage_init(struct core *core, GError **error)
{
    core->pools_by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)pool_unref);
    core->pools_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *autostart_dir =
        g_build_filename(core->paths.pool_config_dir, "autostart", NULL);
    if (!file_mkdir_p(autostart_dir, 0700, error) ||
        !file_mkdir_p(core->paths.pool_state_dir, 0700, error))
        return FALSE;
    g_autoptr(GDir) dir = g_dir_open(core->paths.pool_config_dir, 0, NULL);
    const char *e;
    while (dir && (e = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(e, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(core->paths.pool_config_dir, e, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) err = NULL;
        struct pool_def *def =
            g_file_get_contents(path, &xml, NULL, &err) ? storage_def_pool_parse(xml, &err) : NULL;
        struct pool *dup = NULL;
        if (!def || !check_unique(core, def, &dup, &err) || dup) {
            log_warn("ignoring pool '%s': %s", path, err ? err->message : "duplicate");
            storage_def_pool_free(def);
            continue;
        }
        struct pool *p = g_new0(struct pool, 1);
        p->def = def;
        p->refs = 1;
        p->persistent = TRUE;
        g_autofree char *ap = pool_autostart_path(core, def->name);
        g_autofree char *act = pool_active_path(core, def->name);
        p->autostart = g_file_test(ap, G_FILE_TEST_EXISTS);
        p->active = g_file_test(act, G_FILE_TEST_EXISTS) &&
                    g_file_test(def->target_path, G_FILE_TEST_IS_DIR);
        pool_add(core, p);
    }
    /* libvirt leaves the default pool to installers; a fresh host of ours has one */
    if (!g_hash_table_contains(core->pools_by_name, DEFAULT_POOL)) {
        g_autofree char *xml = g_markup_printf_escaped(
            "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", DEFAULT_POOL,
            core->paths.image_dir);
        g_autoptr(GError) err = NULL;
        struct pool *p = core_pool_define(core, xml, &err);
        if (!p || !core_pool_set_autostart(core, p, TRUE, &err))
            log_warn("cannot create the default pool: %s", err->message);
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->pools_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct pool *p = value;
        g_autoptr(GError) err = NULL;
        if (p->autostart && !p->active && !core_pool_start(core, p, POOL_CREATE_WITH_BUILD, &err))
            log_warn("autostart of pool '%s' failed: %s", p->def->name, err->message);
    }
    return TRUE;
}

void
core_storage_free(struct core *core)
{
    /* volume jobs still running at exit keep their owners: their workers use them */
    if (core->vol_jobs && g_hash_table_size(core->vol_jobs) == 0)
        g_clear_pointer(&core->vol_jobs, g_hash_table_destroy);
    g_clear_pointer(&core->pools_by_uuid, g_hash_table_destroy);
    g_clear_pointer(&core->pools_by_name, g_hash_table_destroy);
}

struct pool *
core_pool_lookup_name(struct core *core, const char *name, GError **error)
{
    struct pool *p = g_hash_table_lookup(core->pools_by_name, name);
    if (!p)
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_POOL,
                "no storage pool with matching name '%s'", name);
    return p;
}

struct pool *
core_pool_lookup_target_path(struct core *core, const char *path, GError **error)
{
    g_autofree char *clean = storage_def_sanitize_path(path);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->pools_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct pool *p = value;
        if (p->active && g_str_equal(p->def->target_path, clean))
            return p;
    }
    if (g_str_equal(path, clean))
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_POOL,
                "no storage pool with matching target path '%s'", path);
    else
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_POOL,
                "no storage pool with matching target path '%s' (%s)", path, clean);
    return NULL;
}

char *
core_pool_find_sources(const char *type, GError **error)
{
    if (!g_strv_contains(storage_def_pool_types, type))
        err_set(error, ERR_FROM_STORAGE, ERR_INTERNAL_ERROR, "unknown storage pool type %s", type);
    else if (g_str_equal(type, "dir"))
        err_set(error, ERR_FROM_STORAGE, ERR_NO_SUPPORT,
                "pool type '%s' does not support source discovery", type);
    else
        err_set(error, ERR_FROM_STORAGE, ERR_NO_SUPPORT,
                "pool type '%s' is not supported by Domus; only 'dir' pools are", type);
    return NULL;
}

struct pool *
core_pool_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error)
{
    g_autofree char *key = uuid_key(uuid);
    struct pool *p = g_hash_table_lookup(core->pools_by_uuid, key);
    if (!p)
        err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_POOL,
                "no storage pool with matching uuid '%s'", key);
    return p;
}

static int
compare_pools(gconstpointer a, gconstpointer b)
{
    return strcmp((*(struct pool *const *)a)->def->name, (*(struct pool *const *)b)->def->name);
}

static gboolean
pair(unsigned flags, unsigned yes, unsigned no, gboolean value)
{
    unsigned set = flags & (yes | no);
    return !set || set == (yes | no) || ((set & yes) ? value : !value);
}

GPtrArray *
core_pool_list(struct core *core, unsigned flags, GError **error)
{
    if (flags & ~(unsigned)POOL_LIST_ALL_FLAGS) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->pools_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct pool *p = value;
        /* type filters: only dir pools exist here */
        unsigned types = flags & ~(unsigned)(POOL_LIST_DIR - 1);
        if (types && !(types & POOL_LIST_DIR))
            continue;
        if (pair(flags, POOL_LIST_ACTIVE, POOL_LIST_INACTIVE, p->active) &&
            pair(flags, POOL_LIST_PERSISTENT, POOL_LIST_TRANSIENT, p->persistent) &&
            pair(flags, POOL_LIST_AUTOSTART, POOL_LIST_NO_AUTOSTART, p->autostart))
            g_ptr_array_add(out, p);
    }
    g_ptr_array_sort(out, compare_pools);
    return out;
}

struct pool *
core_pool_define(struct core *core, const char *xml, GError **error)
{
    g_autoptr(pool_def) def = storage_def_pool_parse(xml, error);
    struct pool *p = NULL;
    if (!def || !check_unique(core, def, &p, error))
        return NULL;
    if (p && p->active && !g_str_equal(p->def->target_path, def->target_path)) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "pool '%s' is active; destroy it before moving its directory", def->name);
        return NULL;
    }
    if (!pool_config_write(core, def, error))
        return NULL;
    if (p) {
        storage_def_pool_free(p->def);
        p->def = g_steal_pointer(&def);
        p->persistent = TRUE;
        emit(core, p, POOL_EVENT_ID_LIFECYCLE, POOL_EVENT_DEFINED);
        return p;
    }
    p = g_new0(struct pool, 1);
    p->def = g_steal_pointer(&def);
    p->refs = 1;
    p->persistent = TRUE;
    pool_add(core, p);
    log_info("pool %s: defined", p->def->name);
    emit(core, p, POOL_EVENT_ID_LIFECYCLE, POOL_EVENT_DEFINED);
    return p;
}

struct pool *
core_pool_create_xml(struct core *core, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(pool_def) def = storage_def_pool_parse(xml, error);
    struct pool *p = NULL;
    if (!def || !check_unique(core, def, &p, error))
        return NULL;
    if (p) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "pool '%s' exists already; start it instead", def->name);
        return NULL;
    }
    p = g_new0(struct pool, 1);
    p->def = g_steal_pointer(&def);
    p->refs = 1;
    pool_add(core, p);
    if (!core_pool_start(core, p, flags, error)) {
        pool_remove(core, p);
        return NULL;
    }
    return p;
}

gboolean
core_pool_build(struct core *core, struct pool *p, unsigned flags, GError **error)
{
    if (flags & ~(unsigned)(POOL_BUILD_NO_OVERWRITE | POOL_BUILD_OVERWRITE)) {
        err_set(error, ERR_FROM_STORAGE, ERR_ARGUMENT_UNSUPPORTED,
                "pool build flags 0x%x are not supported for dir pools", flags);
        return FALSE;
    }
    if (p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "storage pool '%s' is already active", p->def->name);
        return FALSE;
    }
    if (!storage_dir_build(p->def->target_path, p->def->target_mode, error))
        return FALSE;
    emit(core, p, POOL_EVENT_ID_LIFECYCLE, POOL_EVENT_CREATED);
    return TRUE;
}

gboolean
core_pool_start(struct core *core, struct pool *p, unsigned flags, GError **error)
{
    if (flags & ~(unsigned)(POOL_CREATE_WITH_BUILD | POOL_CREATE_WITH_BUILD_OVERWRITE |
                            POOL_CREATE_WITH_BUILD_NO_OVERWRITE)) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        return FALSE;
    }
    if (p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "storage pool '%s' is already active", p->def->name);
        return FALSE;
    }
    if (flags && !storage_dir_build(p->def->target_path, p->def->target_mode, error))
        return FALSE;
    if (!g_file_test(p->def->target_path, G_FILE_TEST_IS_DIR)) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "directory '%s' of pool '%s' does not exist; build the pool first",
                p->def->target_path, p->def->name);
        return FALSE;
    }
    return mark_active(core, p, TRUE, error);
}

gboolean
core_pool_destroy(struct core *core, struct pool *p, GError **error)
{
    if (!p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "storage pool '%s' is not active",
                p->def->name);
        return FALSE;
    }
    if (!mark_active(core, p, FALSE, error))
        return FALSE;
    if (!p->persistent)
        pool_remove(core, p);
    return TRUE;
}

gboolean
core_pool_undefine(struct core *core, struct pool *p, GError **error)
{
    if (!p->persistent) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "cannot undefine transient storage pool '%s'", p->def->name);
        return FALSE;
    }
    if (p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "storage pool '%s' is still active; destroy it first", p->def->name);
        return FALSE;
    }
    g_autofree char *cfg = pool_config_path(core, p->def->name);
    g_autofree char *ap = pool_autostart_path(core, p->def->name);
    if (!file_remove(ap, error) || !file_remove(cfg, error))
        return FALSE;
    emit(core, p, POOL_EVENT_ID_LIFECYCLE, POOL_EVENT_UNDEFINED);
    pool_remove(core, p);
    return TRUE;
}

gboolean
core_pool_delete(struct core *core, struct pool *p, unsigned flags, GError **error)
{
    if (p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "storage pool '%s' is still active; destroy it first", p->def->name);
        return FALSE;
    }
    if (flags) {
        err_set(error, ERR_FROM_STORAGE, ERR_ARGUMENT_UNSUPPORTED,
                "pool delete flags 0x%x are not supported for dir pools", flags);
        return FALSE;
    }
    if (!storage_dir_delete(p->def->target_path, error))
        return FALSE;
    emit(core, p, POOL_EVENT_ID_LIFECYCLE, POOL_EVENT_DELETED);
    return TRUE;
}

gboolean
core_pool_refresh(struct core *core, struct pool *p, GError **error)
{
    if (!p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "storage pool '%s' is not active",
                p->def->name);
        return FALSE;
    }
    if (!g_file_test(p->def->target_path, G_FILE_TEST_IS_DIR)) {
        /* the directory went away under us: the pool cannot stay active */
        mark_active(core, p, FALSE, NULL);
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_FAILED,
                "directory '%s' of pool '%s' is gone; the pool is now inactive",
                p->def->target_path, p->def->name);
        return FALSE;
    }
    emit(core, p, POOL_EVENT_ID_REFRESH, 0);
    return TRUE;
}

gboolean
core_pool_set_autostart(struct core *core, struct pool *p, gboolean on, GError **error)
{
    if (!p->persistent) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "cannot set autostart for transient pool '%s'", p->def->name);
        return FALSE;
    }
    g_autofree char *ap = pool_autostart_path(core, p->def->name);
    if (on ? !file_write_atomic(ap, "", 0, 0600, FILE_DURABLE, error) : !file_remove(ap, error))
        return FALSE;
    p->autostart = on;
    return TRUE;
}

gboolean
core_pool_info(struct pool *p, int *ret_state, uint64_t *ret_capacity, uint64_t *ret_allocation,
               uint64_t *ret_available, GError **error)
{
    uint64_t cap = 0, alloc = 0, avail = 0;
    if (p->active && !storage_dir_stats(p->def->target_path, &cap, &alloc, &avail, error))
        return FALSE;
    *ret_state = p->active ? 2 : 0; /* VIR_STORAGE_POOL_RUNNING : INACTIVE */
    *ret_capacity = cap;
    *ret_allocation = alloc;
    *ret_available = avail;
    return TRUE;
}

char *
core_pool_xml(struct pool *p)
{
    int state;
    core_pool_info(p, &state, &p->def->capacity, &p->def->allocation, &p->def->available, NULL);
    return storage_def_pool_format(p->def);
}

static gboolean
require_active(struct pool *p, GError **error)
{
    if (!p->active) {
        err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "storage pool '%s' is not active",
                p->def->name);
        return FALSE;
    }
    return TRUE;
}

GPtrArray *
core_vol_list(struct pool *p, GError **error)
{
    if (!require_active(p, error))
        return NULL;
    return storage_dir_list(p->def->target_path, error);
}

gboolean
core_vol_check(struct pool *p, const char *name, GError **error)
{
    int fd = core_vol_open(p, name, O_PATH, error);
    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

int
core_vol_open(struct pool *p, const char *name, int flags, GError **error)
{
    if (!require_active(p, error))
        return -1;
    return storage_dir_vol_open(p->def->target_path, p->def->name, name, flags, error);
}

char *
core_vol_path(struct pool *p, const char *name, GError **error)
{
    if (!core_vol_check(p, name, error))
        return NULL;
    return g_build_filename(p->def->target_path, name, NULL);
}

struct pool *
core_vol_lookup_path(struct core *core, const char *path, char **ret_name, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->pools_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct pool *p = value;
        if (!p->active || !g_str_equal(p->def->target_path, dir) || base[0] == '.')
            continue;
        if (!core_vol_check(p, base, error))
            return NULL;
        *ret_name = g_steal_pointer(&base);
        return p;
    }
    err_set(error, ERR_FROM_STORAGE, ERR_NO_STORAGE_VOL, "no storage vol with matching path '%s'",
            path);
    return NULL;
}

gboolean
core_vol_info(struct pool *p, const char *name, struct storage_vol_info *ret, GError **error)
{
    autoclose int fd = core_vol_open(p, name, O_RDONLY, error);
    return fd >= 0 && storage_dir_vol_info_fd(fd, name, ret, error);
}

char *
core_vol_xml(struct pool *p, const char *name, GError **error)
{
    struct storage_vol_info info;
    if (!core_vol_info(p, name, &info, error))
        return NULL;
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    struct vol_def def = {
        .name = (char *)name,
        .key = path,
        .physical = info.physical,
        .capacity = info.capacity,
        .allocation = info.allocation,
        .allocation_given = TRUE,
        .format = info.format == STORAGE_FORMAT_QCOW2 ? "qcow2" : "raw",
        .target_path = path,
        .target_mode = -1,
        .target_owner = -1,
        .target_group = -1,
        .backing_path = info.backing,
    };
    char *xml = storage_def_vol_format(&def);
    storage_vol_info_clear(&info);
    return xml;
}

char *
core_vol_create(struct core *core, struct pool *p, const char *xml, const char *clone_from,
                unsigned flags, GError **error)
{
    if (flags & ~(unsigned)(VOL_CREATE_PREALLOC_METADATA | VOL_CREATE_REFLINK)) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        return NULL;
    }
    g_autoptr(vol_def) def = storage_def_vol_parse(xml, error);
    if (!def || !require_active(p, error))
        return NULL;
    g_autofree char *path = g_build_filename(p->def->target_path, def->name, NULL);
    /* as libvirt's dir backend: a volume's path is the pool's directory and its name, whatever
     * <target><path> says (vol-clone sends the source's path along) */
    gboolean qcow2 = def->format && g_str_equal(def->format, "qcow2");
    if (def->format && !qcow2 && !g_str_equal(def->format, "raw")) {
        err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                "volume format '%s' cannot be created; use 'raw' or 'qcow2'", def->format);
        return NULL;
    }
    struct storage_vol_create req = {
        .path = path,
        .format = qcow2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW,
        .capacity = def->capacity,
        /* libvirt's rule for raw: allocation omitted means fully allocated */
        .allocation = def->allocation_given ? def->allocation : def->capacity,
        .prealloc_metadata = (flags & VOL_CREATE_PREALLOC_METADATA) != 0,
        .backing = def->backing_path,
        .backing_format = def->backing_format,
        .mode = def->target_mode,
    };
    gboolean ok = clone_from
                      ? storage_dir_vol_clone(clone_from, &req, core_storage_qemu_img(), error)
                      : storage_dir_vol_create(&req, core_storage_qemu_img(), error);
    if (!ok)
        return NULL;
    log_info("pool %s: volume '%s' created", p->def->name, def->name);
    return g_strdup(def->name);
}

gboolean
core_vol_check_unused(struct core *core, const char *path, GError **error)
{
    g_autoptr(GPtrArray) doms = core_list(core, 1 /* active */);
    for (guint i = 0; i < doms->len; i++) {
        struct domain *dom = doms->pdata[i];
        for (guint j = 0; j < dom->def->disks->len; j++) {
            struct disk_def *disk = dom->def->disks->pdata[j];
            if (disk->source && g_str_equal(disk->source, path)) {
                err_set(error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                        "volume '%s' is in use by running domain '%s'; stop the domain first", path,
                        dom->def->name);
                return FALSE;
            }
        }
    }
    return TRUE;
}

gboolean
core_vol_delete(struct core *core, struct pool *p, const char *name, gboolean force, GError **error)
{
    g_autofree char *path = core_vol_path(p, name, error);
    if (!path || (!force && !core_vol_check_unused(core, path, error)))
        return FALSE;
    if (!storage_dir_vol_delete(path, error))
        return FALSE;
    log_info("pool %s: volume '%s' deleted", p->def->name, name);
    return TRUE;
}

gboolean
core_vol_resize(struct core *core, struct pool *p, const char *name, uint64_t capacity,
                unsigned flags, GError **error)
{
    if (flags & ~(unsigned)(VOL_RESIZE_ALLOCATE | VOL_RESIZE_DELTA | VOL_RESIZE_SHRINK)) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        return FALSE;
    }
    g_autofree char *path = core_vol_path(p, name, error);
    struct storage_vol_info info;
    if (!path || !storage_dir_vol_info(path, &info, error))
        return FALSE;
    storage_vol_info_clear(&info);
    uint64_t target = capacity;
    if (capacity <= STORAGE_DEF_CAPACITY_MAX && (flags & VOL_RESIZE_DELTA)) {
        if (flags & VOL_RESIZE_SHRINK) {
            if (capacity > info.capacity) {
                err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                        "cannot shrink volume '%s' below zero", name);
                return FALSE;
            }
            target = info.capacity - capacity;
        } else {
            target = info.capacity + capacity;
        }
    }
    /* both terms are at most 2^50, so a delta cannot wrap */
    if (capacity > STORAGE_DEF_CAPACITY_MAX || target > STORAGE_DEF_CAPACITY_MAX) {
        err_set(error, ERR_FROM_STORAGE, ERR_OVERFLOW, "new capacity of volume '%s' is too large",
                name);
        return FALSE;
    }
    return storage_dir_vol_resize(path, target, flags & VOL_RESIZE_ALLOCATE,
                                  flags & VOL_RESIZE_SHRINK, core_storage_qemu_img(), error);
}

gboolean
core_storage_resolve_disks(struct core *core, struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *disk = def->disks->pdata[i];
        if (disk->type != DISK_TYPE_VOLUME)
            continue;
        g_autoptr(GError) err = NULL;
        struct pool *p = core_pool_lookup_name(core, disk->source_pool, &err);
        g_autofree char *path = p ? core_vol_path(p, disk->source_volume, &err) : NULL;
        if (!path) {
            err_set(error, err_origin(err), err_code(err),
                    "disk '%s' (volume '%s' of pool '%s'): %s", disk->target_dev,
                    disk->source_volume, disk->source_pool, err->message);
            return FALSE;
        }
        struct storage_vol_info info;
        if (disk->format == DISK_FORMAT_NONE && storage_dir_vol_info(path, &info, NULL)) {
            disk->format =
                info.format == STORAGE_FORMAT_QCOW2 ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
            storage_vol_info_clear(&info);
        }
        g_free(disk->source);
        disk->source = g_steal_pointer(&path);
    }
    return TRUE;
}
