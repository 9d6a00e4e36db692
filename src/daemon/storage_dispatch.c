/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage_dispatch: libvirt's storage pool and volume procedures. Each handler decodes its
 * whole argument list first, then acts. Volume creation (qemu-img, fallocate) runs in a
 * worker thread; the pool registry is only touched on the main loop. */
#include "daemon/storage_dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "core/storage.h"
#include "storage/wipe.h"
#include "util/err.h"
#include "util/log.h"

#define RPC_STORAGE_LIST_MAX 16384

/* a private flag of our CLI (no libvirt flag has it): override the in-use check */
#define DOMUS_VOL_FORCE (1u << 31)

static void
put_pool(GByteArray *b, struct pool *p)
{
    xdr_put_string(b, p->def->name);
    xdr_put_opaque_fixed(b, p->def->uuid, UUID_LEN);
}

static void
put_vol(GByteArray *b, struct pool *p, const char *name)
{
    g_autofree char *key = g_build_filename(p->def->target_path, name, NULL);
    xdr_put_string(b, p->def->name);
    xdr_put_string(b, name);
    xdr_put_string(b, key);
}

static void
reply_pool(struct call *call, struct pool *p)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_pool(b, p);
    call_reply(call, b);
}

/* remote_nonnull_storage_pool: found by uuid, as libvirt does */
static struct pool *
get_pool(struct call *call, struct xdr_reader *args, GError **error)
{
    g_autofree char *name = xdr_get_string(args, RPC_STRING_MAX);
    uint8_t uuid[UUID_LEN];
    if (!xdr_get_opaque_fixed(args, uuid, UUID_LEN) || args->failed) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "cannot decode pool handle");
        return NULL;
    }
    return core_pool_lookup_uuid(dispatch_core(call), uuid, error);
}

/* remote_nonnull_storage_vol: pool name, volume name, key */
static struct pool *
get_vol(struct call *call, struct xdr_reader *args, char **ret_name, GError **error)
{
    g_autofree char *pool = xdr_get_string(args, RPC_STRING_MAX);
    g_autofree char *name = xdr_get_string(args, RPC_STRING_MAX);
    g_autofree char *key = xdr_get_string(args, RPC_STRING_MAX);
    if (args->failed) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "cannot decode volume handle");
        return NULL;
    }
    struct pool *p = core_pool_lookup_name(dispatch_core(call), pool, error);
    if (!p)
        return NULL;
    g_autofree char *path = core_vol_path(p, name, error);
    if (!path)
        return NULL;
    *ret_name = g_steal_pointer(&name);
    return p;
}

/* "pool handle [flags]" */
static struct pool *
pool_args(struct call *call, struct xdr_reader *args, gboolean with_flags, uint32_t *ret_flags)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    uint32_t flags = with_flags ? xdr_get_u32(args) : 0;
    if (!p) {
        dispatch_fail(call, error);
        return NULL;
    }
    if (!dispatch_args_done(call, args))
        return NULL;
    if (ret_flags)
        *ret_flags = flags;
    return p;
}

/* ERROR is read only after OK was computed (C leaves argument order open). */
static void
reply_ok_or_fail(struct call *call, gboolean ok, GError **error)
{
    if (ok)
        call_reply(call, NULL);
    else
        dispatch_fail(call, *error);
}

/* --- pools --- */

static void
h_list_all_pools(struct call *call, struct xdr_reader *args)
{
    int need = xdr_get_i32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    g_autoptr(GPtrArray) list = core_pool_list(dispatch_core(call), flags, &error);
    if (!list) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, need ? list->len : 0);
    for (guint i = 0; need && i < list->len; i++)
        put_pool(b, list->pdata[i]);
    xdr_put_u32(b, list->len);
    call_reply(call, b);
}

static void
num_pools(struct call *call, struct xdr_reader *args, unsigned flags)
{
    if (!dispatch_args_done(call, args))
        return;
    g_autoptr(GPtrArray) list = core_pool_list(dispatch_core(call), flags, NULL);
    dispatch_reply_int(call, (int32_t)list->len);
}

static void
h_num_pools(struct call *call, struct xdr_reader *args)
{
    num_pools(call, args, 2 /* active */);
}

static void
h_num_defined_pools(struct call *call, struct xdr_reader *args)
{
    num_pools(call, args, 1 /* inactive */);
}

static void
list_pool_names(struct call *call, struct xdr_reader *args, unsigned flags)
{
    int max = xdr_get_i32(args);
    if (!dispatch_args_done(call, args))
        return;
    if (max < 0 || max > RPC_STORAGE_LIST_MAX) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "list size %d exceeds the limit", max);
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GPtrArray) list = core_pool_list(dispatch_core(call), flags, NULL);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, ((struct pool *)list->pdata[i])->def->name);
    call_reply(call, b);
}

static void
h_list_pools(struct call *call, struct xdr_reader *args)
{
    list_pool_names(call, args, 2);
}

static void
h_list_defined_pools(struct call *call, struct xdr_reader *args)
{
    list_pool_names(call, args, 1);
}

static void
h_pool_lookup_name(struct call *call, struct xdr_reader *args)
{
    g_autofree char *name = xdr_get_string(args, RPC_STRING_MAX);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct pool *p = core_pool_lookup_name(dispatch_core(call), name, &error);
    if (p)
        reply_pool(call, p);
    else
        dispatch_fail(call, error);
}

static void
h_pool_lookup_uuid(struct call *call, struct xdr_reader *args)
{
    uint8_t uuid[UUID_LEN];
    xdr_get_opaque_fixed(args, uuid, UUID_LEN);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct pool *p = core_pool_lookup_uuid(dispatch_core(call), uuid, &error);
    if (p)
        reply_pool(call, p);
    else
        dispatch_fail(call, error);
}

static void
h_pool_lookup_by_volume(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (dispatch_args_done(call, args))
        reply_pool(call, p);
}

static void
h_pool_define(struct call *call, struct xdr_reader *args)
{
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct pool *p = NULL;
    if (flags & ~1u) /* VALIDATE */
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
    else
        p = core_pool_define(dispatch_core(call), xml, &error);
    if (p)
        reply_pool(call, p);
    else
        dispatch_fail(call, error);
}

static void
h_pool_create_xml(struct call *call, struct xdr_reader *args)
{
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct pool *p = core_pool_create_xml(dispatch_core(call), xml, flags, &error);
    if (p)
        reply_pool(call, p);
    else
        dispatch_fail(call, error);
}

static void
h_pool_create(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct pool *p = pool_args(call, args, TRUE, &flags);
    GError *error = NULL;
    if (p)
        reply_ok_or_fail(call, core_pool_start(dispatch_core(call), p, flags, &error), &error);
}

static void
h_pool_build(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct pool *p = pool_args(call, args, TRUE, &flags);
    GError *error = NULL;
    if (p)
        reply_ok_or_fail(call, core_pool_build(dispatch_core(call), p, flags, &error), &error);
}

static void
h_pool_destroy(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    GError *error = NULL;
    if (p)
        reply_ok_or_fail(call, core_pool_destroy(dispatch_core(call), p, &error), &error);
}

static void
h_pool_delete(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct pool *p = pool_args(call, args, TRUE, &flags);
    GError *error = NULL;
    if (p)
        reply_ok_or_fail(call, core_pool_delete(dispatch_core(call), p, flags, &error), &error);
}

static void
h_pool_undefine(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    GError *error = NULL;
    if (p)
        reply_ok_or_fail(call, core_pool_undefine(dispatch_core(call), p, &error), &error);
}

static void
h_pool_refresh(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct pool *p = pool_args(call, args, TRUE, &flags);
    GError *error = NULL;
    if (p)
        reply_ok_or_fail(call, core_pool_refresh(dispatch_core(call), p, &error), &error);
}

static void
h_pool_get_info(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    if (!p)
        return;
    int state;
    uint64_t cap, alloc, avail;
    GError *error = NULL;
    if (!core_pool_info(p, &state, &cap, &alloc, &avail, &error)) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, (uint32_t)state);
    xdr_put_u64(b, cap);
    xdr_put_u64(b, alloc);
    xdr_put_u64(b, avail);
    call_reply(call, b);
}

static void
h_pool_get_xml(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct pool *p = pool_args(call, args, TRUE, &flags);
    if (!p)
        return;
    g_autofree char *xml = core_pool_xml(p);
    dispatch_reply_string(call, xml);
}

static void
h_pool_get_autostart(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    if (p)
        dispatch_reply_int(call, p->autostart);
}

static void
h_pool_set_autostart(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    int on = xdr_get_i32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (dispatch_args_done(call, args))
        reply_ok_or_fail(call, core_pool_set_autostart(dispatch_core(call), p, on != 0, &error),
                         &error);
}

static void
h_pool_is_active(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    if (p)
        dispatch_reply_int(call, p->active);
}

static void
h_pool_is_persistent(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    if (p)
        dispatch_reply_int(call, p->persistent);
}

/* --- volumes --- */

static void
h_pool_num_volumes(struct call *call, struct xdr_reader *args)
{
    struct pool *p = pool_args(call, args, FALSE, NULL);
    if (!p)
        return;
    GError *error = NULL;
    g_autoptr(GPtrArray) names = core_vol_list(p, &error);
    if (!names)
        dispatch_fail(call, error);
    else
        dispatch_reply_int(call, (int32_t)names->len);
}

static void
h_pool_list_volumes(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    int max = xdr_get_i32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autoptr(GPtrArray) names = core_vol_list(p, &error);
    if (!names) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(names->len, (guint)CLAMP(max, 0, RPC_STORAGE_LIST_MAX));
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, names->pdata[i]);
    call_reply(call, b);
}

static void
h_pool_list_all_volumes(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    int need = xdr_get_i32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autoptr(GPtrArray) names = flags ? NULL : core_vol_list(p, &error);
    if (flags)
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
    if (!names) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(names->len, RPC_STORAGE_LIST_MAX);
    xdr_put_u32(b, need ? n : 0);
    for (guint i = 0; need && i < n; i++)
        put_vol(b, p, names->pdata[i]);
    xdr_put_u32(b, names->len);
    call_reply(call, b);
}

static void
reply_vol(struct call *call, struct pool *p, const char *name)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_vol(b, p, name);
    call_reply(call, b);
}

static void
h_vol_lookup_name(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    g_autofree char *name = xdr_get_string(args, RPC_STRING_MAX);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autofree char *path = core_vol_path(p, name, &error);
    if (path)
        reply_vol(call, p, name);
    else
        dispatch_fail(call, error);
}

static void
h_vol_lookup_path(struct call *call, struct xdr_reader *args)
{
    g_autofree char *path = xdr_get_string(args, RPC_STRING_MAX);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = core_vol_lookup_path(dispatch_core(call), path, &name, &error);
    if (p)
        reply_vol(call, p, name);
    else
        dispatch_fail(call, error);
}

static void
h_vol_get_info(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    struct storage_vol_info info;
    if (!core_vol_info(p, name, &info, &error)) {
        dispatch_fail(call, error);
        return;
    }
    storage_vol_info_clear(&info);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, 0); /* VIR_STORAGE_VOL_FILE */
    xdr_put_u64(b, info.capacity);
    xdr_put_u64(b, info.allocation);
    call_reply(call, b);
}

static void
h_vol_get_xml(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autofree char *xml = flags ? NULL : core_vol_xml(p, name, &error);
    if (flags)
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
    if (xml)
        dispatch_reply_string(call, xml);
    else
        dispatch_fail(call, error);
}

static void
h_vol_get_path(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    dispatch_reply_string(call, path);
}

/* Volume creation runs in a worker: qemu-img and fallocate may take a while. */
struct create_task {
    struct call *call;
    char *pool_name;
    char *target_path;
    char *xml;
    char *clone_from;
    unsigned flags;
    struct core *core;
    char *created;
};

static void
create_task_free(struct create_task *t)
{
    g_free(t->pool_name);
    g_free(t->target_path);
    g_free(t->xml);
    g_free(t->clone_from);
    g_free(t->created);
    g_free(t);
}

static void
create_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    struct create_task *t = data;
    GError *error = NULL;
    /* a stand-in pool record: the worker reads only the directory, never the registry */
    struct pool_def def = {.name = t->pool_name, .target_path = t->target_path};
    struct pool p = {.def = &def, .active = TRUE};
    t->created = core_vol_create(t->core, &p, t->xml, t->clone_from, t->flags, &error);
    if (t->created)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
create_done(GObject *source, GAsyncResult *res, gpointer data)
{
    struct create_task *t = g_task_get_task_data(G_TASK(res));
    GError *error = NULL;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        dispatch_fail(t->call, error);
        return;
    }
    GError *lerr = NULL;
    struct pool *p = core_pool_lookup_name(t->core, t->pool_name, &lerr);
    if (!p) {
        dispatch_fail(t->call, lerr);
        return;
    }
    reply_vol(t->call, p, t->created);
}

static void
start_create(struct call *call, struct pool *p, const char *xml, const char *clone_from,
             unsigned flags)
{
    GError *error = NULL;
    if (!p->active) {
        err_set(&error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID, "storage pool '%s' is not active",
                p->def->name);
        dispatch_fail(call, error);
        return;
    }
    struct create_task *t = g_new0(struct create_task, 1);
    t->call = call;
    t->pool_name = g_strdup(p->def->name);
    t->target_path = g_strdup(p->def->target_path);
    t->xml = g_strdup(xml);
    t->clone_from = g_strdup(clone_from);
    t->flags = flags;
    t->core = dispatch_core(call);
    GTask *task = g_task_new(NULL, NULL, create_done, NULL);
    g_task_set_task_data(task, t, (GDestroyNotify)create_task_free);
    g_task_run_in_thread(task, create_in_thread);
    g_object_unref(task);
}

static void
h_vol_create_xml(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (dispatch_args_done(call, args))
        start_create(call, p, xml, NULL, flags);
}

static void
h_vol_create_xml_from(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct pool *p = get_pool(call, args, &error);
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    g_autofree char *src_name = NULL;
    struct pool *src = p ? get_vol(call, args, &src_name, &error) : NULL;
    uint32_t flags = xdr_get_u32(args);
    if (!p || !src) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autofree char *src_path = g_build_filename(src->def->target_path, src_name, NULL);
    start_create(call, p, xml, src_path, flags);
}

static void
h_vol_delete(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    if (flags & ~DOMUS_VOL_FORCE) {
        err_set(&error, ERR_FROM_STORAGE, ERR_ARGUMENT_UNSUPPORTED,
                "volume delete flags 0x%x are not supported for dir pools", flags);
        dispatch_fail(call, error);
        return;
    }
    reply_ok_or_fail(
        call, core_vol_delete(dispatch_core(call), p, name, (flags & DOMUS_VOL_FORCE) != 0, &error),
        &error);
}

static void
h_vol_resize(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    uint64_t capacity = xdr_get_u64(args);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (dispatch_args_done(call, args))
        reply_ok_or_fail(
            call, core_vol_resize(dispatch_core(call), p, name, capacity, flags, &error), &error);
}

/* --- wipe: a worker overwrites the file; progress is visible through VOL_JOB_INFO --- */

struct wipe_job {
    struct call *call;
    char *path;
    int algorithm;
    guint64 done; /* written by the worker, read by the main loop (atomics) */
    guint64 total;
    gint cancel;
};

/* path -> struct wipe_job *: at most one wipe per volume */
static GHashTable *wipe_jobs;

static void
wipe_progress(gpointer user, guint64 done, guint64 total)
{
    struct wipe_job *job = user;
    __atomic_store_n(&job->total, total, __ATOMIC_RELAXED);
    __atomic_store_n(&job->done, done, __ATOMIC_RELAXED);
}

static void
wipe_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    struct wipe_job *job = data;
    GError *error = NULL;
    if (wipe_run(job->path, job->algorithm, wipe_progress, job, &job->cancel, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void
wipe_done(GObject *source, GAsyncResult *res, gpointer data)
{
    struct wipe_job *job = g_task_get_task_data(G_TASK(res));
    GError *error = NULL;
    g_hash_table_remove(wipe_jobs, job->path);
    if (g_task_propagate_boolean(G_TASK(res), &error)) {
        log_info("volume '%s' wiped (%s)", job->path, wipe_algorithm_to_string(job->algorithm));
        call_reply(job->call, NULL);
    } else {
        dispatch_fail(job->call, error);
    }
}

static void
wipe_job_free(struct wipe_job *job)
{
    g_free(job->path);
    g_free(job);
}

static void
start_wipe(struct call *call, struct pool *p, const char *name, int algorithm, uint32_t flags)
{
    GError *error = NULL;
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    if (flags & ~DOMUS_VOL_FORCE) {
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
    } else if (algorithm < 0 || algorithm >= WIPE_ALGORITHM_LAST) {
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "unknown wipe algorithm %d; see virsh vol-wipe --algorithm", algorithm);
    } else if (!(flags & DOMUS_VOL_FORCE) &&
               !core_vol_check_unused(dispatch_core(call), path, &error)) {
        /* error set */
    } else if (wipe_jobs && g_hash_table_contains(wipe_jobs, path)) {
        err_set(&error, ERR_FROM_STORAGE, ERR_OPERATION_INVALID,
                "volume '%s' is being wiped already", name);
    }
    if (error) {
        dispatch_fail(call, error);
        return;
    }
    if (!wipe_jobs)
        wipe_jobs = g_hash_table_new(g_str_hash, g_str_equal);
    struct wipe_job *job = g_new0(struct wipe_job, 1);
    job->call = call;
    job->path = g_steal_pointer(&path);
    job->algorithm = algorithm;
    g_hash_table_insert(wipe_jobs, job->path, job);
    GTask *task = g_task_new(NULL, NULL, wipe_done, NULL);
    g_task_set_task_data(task, job, (GDestroyNotify)wipe_job_free);
    g_task_run_in_thread(task, wipe_in_thread);
    g_object_unref(task);
}

static void
h_vol_wipe(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (dispatch_args_done(call, args))
        start_wipe(call, p, name, WIPE_ZERO, flags);
}

static void
h_vol_wipe_pattern(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    uint32_t algorithm = xdr_get_u32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (dispatch_args_done(call, args))
        start_wipe(call, p, name, (int)algorithm, flags);
}

/* --- upload and download: volume bytes over a stream --- */

/* virStorageVolUploadFlags / DownloadFlags */
#define VOL_SPARSE_STREAM 1u

struct transfer {
    struct stream *st;
    gboolean sparse;
    int fd;
    char *path;
    guint64 offset; /* next byte to read or write */
    guint64 end;    /* offset + length (length 0: to the end of the volume) */
    guint source;   /* download pump */
};

static void
transfer_free(struct transfer *t)
{
    if (t->source)
        g_source_remove(t->source);
    if (t->fd >= 0)
        close(t->fd);
    g_free(t->path);
    g_free(t);
}

static void
on_transfer_close(struct stream *st, gboolean aborted, gpointer user)
{
    struct transfer *t = user;
    if (aborted)
        log_info("transfer of volume '%s' aborted", t->path);
    transfer_free(t);
}

static void
on_upload_data(struct stream *st, const uint8_t *data, gsize len, gpointer user)
{
    struct transfer *t = user;
    GError *error = NULL;
    if (t->end && t->offset + len > t->end) {
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "upload to '%s' goes past the requested length", t->path);
    } else {
        while (len > 0) {
            ssize_t n = pwrite(t->fd, data, len, (off_t)t->offset);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot write volume '%s'", t->path);
                break;
            }
            data += n;
            len -= (gsize)n;
            t->offset += (guint64)n;
        }
    }
    if (error) {
        st->on_close = NULL;
        client_stream_end(st, error);
        transfer_free(t);
        g_error_free(error);
    }
}

/* A hole in a sparse upload: the range reads as zeros afterwards (punched, keeping the size),
 * whatever the volume held there before. */
static void
on_upload_hole(struct stream *st, guint64 length, gpointer user)
{
    struct transfer *t = user;
    GError *error = NULL;
    if (t->end && t->offset + length > t->end)
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "upload to '%s' goes past the requested length", t->path);
    else if (length &&
             fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)t->offset,
                       (off_t)length) < 0 &&
             errno != EOPNOTSUPP)
        err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot punch a hole in '%s'", t->path);
    if (error) {
        st->on_close = NULL;
        client_stream_end(st, error);
        transfer_free(t);
        g_error_free(error);
        return;
    }
    t->offset += length;
}

static gboolean
on_upload_finish(struct stream *st, gpointer user, GError **error)
{
    struct transfer *t = user;
    if (fdatasync(t->fd) < 0) {
        err_set_errno(error, ERR_FROM_STORAGE, errno, "cannot sync volume '%s'", t->path);
        return FALSE;
    }
    return TRUE;
}

/* Sends the volume a chunk at a time while the connection keeps up; EOF at the end. */
static gboolean
download_pump(gpointer user)
{
    struct transfer *t = user;
    if (client_stream_backlog(t->st) > 1024 * 1024) {
        /* the client is slow: look again in a moment instead of spinning */
        t->source = g_timeout_add(2, download_pump, t);
        return G_SOURCE_REMOVE;
    }
    guint8 buf[256 * 1024];
    gsize want = sizeof(buf);
    if (t->end && t->end - t->offset < want)
        want = t->end - t->offset;
    if (t->sparse && want) {
        /* in a hole: say how long it is; in data: send up to the next hole */
        off_t data = lseek(t->fd, (off_t)t->offset, SEEK_DATA);
        if (data < 0 && errno == ENXIO) {
            struct stat stbuf;
            data = fstat(t->fd, &stbuf) == 0 ? stbuf.st_size : (off_t)t->offset;
        }
        if (data > (off_t)t->offset) {
            guint64 hole = (guint64)data - t->offset;
            if (t->end && hole > t->end - t->offset)
                hole = t->end - t->offset;
            client_stream_send_hole(t->st, hole);
            t->offset += hole;
            return G_SOURCE_CONTINUE;
        }
        off_t next_hole = lseek(t->fd, (off_t)t->offset, SEEK_HOLE);
        if (next_hole > (off_t)t->offset && (guint64)(next_hole - (off_t)t->offset) < want)
            want = (gsize)(next_hole - (off_t)t->offset);
    }
    ssize_t n = want ? pread(t->fd, buf, want, (off_t)t->offset) : 0;
    if (n < 0 && errno == EINTR)
        return G_SOURCE_CONTINUE;
    if (n < 0) {
        g_autoptr(GError) error = NULL;
        err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot read volume '%s'", t->path);
        t->source = 0;
        t->st->on_close = NULL;
        client_stream_end(t->st, error);
        transfer_free(t);
        return G_SOURCE_REMOVE;
    }
    if (n == 0) {
        /* EOF; the stream stays until the client finishes it (on_close frees T) */
        t->source = 0;
        struct stream *st = t->st;
        st->on_close = NULL;
        client_stream_end(st, NULL);
        transfer_free(t);
        return G_SOURCE_REMOVE;
    }
    client_stream_send(t->st, buf, (gsize)n);
    t->offset += (guint64)n;
    if (g_main_current_source() && g_source_get_id(g_main_current_source()) == t->source &&
        g_source_get_ready_time(g_main_current_source()) != -1) {
        /* back from waiting: full speed again */
        t->source = g_idle_add(download_pump, t);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void
start_transfer(struct call *call, struct xdr_reader *args, gboolean upload)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    uint64_t offset = xdr_get_u64(args);
    uint64_t length = xdr_get_u64(args);
    uint32_t flags = xdr_get_u32(args);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    if (flags & ~(DOMUS_VOL_FORCE | VOL_SPARSE_STREAM)) {
        err_set(&error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        dispatch_fail(call, error);
        return;
    }
    if (upload && !(flags & DOMUS_VOL_FORCE) &&
        !core_vol_check_unused(dispatch_core(call), path, &error)) {
        dispatch_fail(call, error);
        return;
    }
    int fd = open(path, (upload ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot open volume '%s'", path);
        dispatch_fail(call, error);
        return;
    }
    struct transfer *t = g_new0(struct transfer, 1);
    t->fd = fd;
    t->path = g_steal_pointer(&path);
    t->offset = offset;
    t->end = length ? offset + length : 0;
    t->sparse = (flags & VOL_SPARSE_STREAM) != 0;
    t->st = client_stream_open(call);
    t->st->user = t;
    t->st->on_close = on_transfer_close;
    if (upload) {
        t->st->on_data = on_upload_data;
        t->st->on_finish = on_upload_finish;
        if (t->sparse)
            t->st->on_hole = on_upload_hole;
    }
    call_reply(call, NULL);
    if (!upload)
        t->source = g_idle_add(download_pump, t);
}

static void
h_vol_upload(struct call *call, struct xdr_reader *args)
{
    start_transfer(call, args, TRUE);
}

static void
h_vol_download(struct call *call, struct xdr_reader *args)
{
    start_transfer(call, args, FALSE);
}

/* Domus program: VOL_JOB_INFO (volume handle) -> active int, done uhyper, total uhyper */
static void
h_vol_job_info(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = get_vol(call, args, &name, &error);
    if (!p) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    g_autofree char *path = g_build_filename(p->def->target_path, name, NULL);
    struct wipe_job *job = wipe_jobs ? g_hash_table_lookup(wipe_jobs, path) : NULL;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, job != NULL);
    xdr_put_u64(b, job ? __atomic_load_n(&job->done, __ATOMIC_RELAXED) : 0);
    xdr_put_u64(b, job ? __atomic_load_n(&job->total, __ATOMIC_RELAXED) : 0);
    call_reply(call, b);
}

const struct proc_entry domus_procs[] = {
    {DOMUS_PROC_VOL_JOB_INFO, "VOL_JOB_INFO", h_vol_job_info, FALSE},
};
const gsize domus_procs_count = G_N_ELEMENTS(domus_procs);

const struct proc_entry storage_procs[] = {
    {PROC_CONNECT_NUM_OF_STORAGE_POOLS, "CONNECT_NUM_OF_STORAGE_POOLS", h_num_pools, FALSE},
    {PROC_CONNECT_LIST_STORAGE_POOLS, "CONNECT_LIST_STORAGE_POOLS", h_list_pools, FALSE},
    {PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS, "CONNECT_NUM_OF_DEFINED_STORAGE_POOLS",
     h_num_defined_pools, FALSE},
    {PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS, "CONNECT_LIST_DEFINED_STORAGE_POOLS",
     h_list_defined_pools, FALSE},
    {PROC_STORAGE_POOL_CREATE_XML, "STORAGE_POOL_CREATE_XML", h_pool_create_xml, TRUE},
    {PROC_STORAGE_POOL_DEFINE_XML, "STORAGE_POOL_DEFINE_XML", h_pool_define, TRUE},
    {PROC_STORAGE_POOL_CREATE, "STORAGE_POOL_CREATE", h_pool_create, TRUE},
    {PROC_STORAGE_POOL_BUILD, "STORAGE_POOL_BUILD", h_pool_build, TRUE},
    {PROC_STORAGE_POOL_DESTROY, "STORAGE_POOL_DESTROY", h_pool_destroy, TRUE},
    {PROC_STORAGE_POOL_DELETE, "STORAGE_POOL_DELETE", h_pool_delete, TRUE},
    {PROC_STORAGE_POOL_UNDEFINE, "STORAGE_POOL_UNDEFINE", h_pool_undefine, TRUE},
    {PROC_STORAGE_POOL_REFRESH, "STORAGE_POOL_REFRESH", h_pool_refresh, TRUE},
    {PROC_STORAGE_POOL_LOOKUP_BY_NAME, "STORAGE_POOL_LOOKUP_BY_NAME", h_pool_lookup_name, FALSE},
    {PROC_STORAGE_POOL_LOOKUP_BY_UUID, "STORAGE_POOL_LOOKUP_BY_UUID", h_pool_lookup_uuid, FALSE},
    {PROC_STORAGE_POOL_LOOKUP_BY_VOLUME, "STORAGE_POOL_LOOKUP_BY_VOLUME", h_pool_lookup_by_volume,
     FALSE},
    {PROC_STORAGE_POOL_GET_INFO, "STORAGE_POOL_GET_INFO", h_pool_get_info, FALSE},
    {PROC_STORAGE_POOL_GET_XML_DESC, "STORAGE_POOL_GET_XML_DESC", h_pool_get_xml, FALSE},
    {PROC_STORAGE_POOL_GET_AUTOSTART, "STORAGE_POOL_GET_AUTOSTART", h_pool_get_autostart, FALSE},
    {PROC_STORAGE_POOL_SET_AUTOSTART, "STORAGE_POOL_SET_AUTOSTART", h_pool_set_autostart, TRUE},
    {PROC_STORAGE_POOL_NUM_OF_VOLUMES, "STORAGE_POOL_NUM_OF_VOLUMES", h_pool_num_volumes, FALSE},
    {PROC_STORAGE_POOL_LIST_VOLUMES, "STORAGE_POOL_LIST_VOLUMES", h_pool_list_volumes, FALSE},
    {PROC_STORAGE_VOL_CREATE_XML, "STORAGE_VOL_CREATE_XML", h_vol_create_xml, TRUE},
    {PROC_STORAGE_VOL_DELETE, "STORAGE_VOL_DELETE", h_vol_delete, TRUE},
    {PROC_STORAGE_VOL_LOOKUP_BY_NAME, "STORAGE_VOL_LOOKUP_BY_NAME", h_vol_lookup_name, FALSE},
    {PROC_STORAGE_VOL_LOOKUP_BY_KEY, "STORAGE_VOL_LOOKUP_BY_KEY", h_vol_lookup_path, FALSE},
    {PROC_STORAGE_VOL_LOOKUP_BY_PATH, "STORAGE_VOL_LOOKUP_BY_PATH", h_vol_lookup_path, FALSE},
    {PROC_STORAGE_VOL_GET_INFO, "STORAGE_VOL_GET_INFO", h_vol_get_info, FALSE},
    {PROC_STORAGE_VOL_GET_XML_DESC, "STORAGE_VOL_GET_XML_DESC", h_vol_get_xml, FALSE},
    {PROC_STORAGE_VOL_GET_PATH, "STORAGE_VOL_GET_PATH", h_vol_get_path, FALSE},
    {PROC_STORAGE_VOL_CREATE_XML_FROM, "STORAGE_VOL_CREATE_XML_FROM", h_vol_create_xml_from, TRUE},
    {PROC_STORAGE_POOL_IS_ACTIVE, "STORAGE_POOL_IS_ACTIVE", h_pool_is_active, FALSE},
    {PROC_STORAGE_POOL_IS_PERSISTENT, "STORAGE_POOL_IS_PERSISTENT", h_pool_is_persistent, FALSE},
    {PROC_STORAGE_VOL_RESIZE, "STORAGE_VOL_RESIZE", h_vol_resize, TRUE},
    {PROC_STORAGE_VOL_WIPE, "STORAGE_VOL_WIPE", h_vol_wipe, TRUE},
    {PROC_STORAGE_VOL_UPLOAD, "STORAGE_VOL_UPLOAD", h_vol_upload, TRUE},
    {PROC_STORAGE_VOL_DOWNLOAD, "STORAGE_VOL_DOWNLOAD", h_vol_download, FALSE},
    {PROC_STORAGE_VOL_WIPE_PATTERN, "STORAGE_VOL_WIPE_PATTERN", h_vol_wipe_pattern, TRUE},
    {PROC_CONNECT_LIST_ALL_STORAGE_POOLS, "CONNECT_LIST_ALL_STORAGE_POOLS", h_list_all_pools,
     FALSE},
    {PROC_STORAGE_POOL_LIST_ALL_VOLUMES, "STORAGE_POOL_LIST_ALL_VOLUMES", h_pool_list_all_volumes,
     FALSE},
};
const gsize storage_procs_count = G_N_ELEMENTS(storage_procs);
