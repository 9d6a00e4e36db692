/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_storage: libvirt's storage pool and volume procedures. Volume creation (qemu-img,
 * fallocate) and wipes run in a worker thread; the pool registry is only touched on the main
 * loop. Volumes are opened through core_vol_open: a name that leads outside its pool is not a
 * volume. */
#include "daemon/dispatch.h"

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
/* virStoragePoolDefineFlags, virStorageXMLFlags */
enum { POOL_DEFINE_VALIDATE = 1 };
enum { POOL_XML_INACTIVE = 1 };

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
h_list_all_pools(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    GError *error = NULL;
    g_autoptr(GPtrArray) list = core_pool_list(dispatch_core(call), ctx->flags, &error);
    if (!list) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, need->v ? list->len : 0);
    for (guint i = 0; need->v && i < list->len; i++)
        put_pool(b, list->pdata[i]);
    xdr_put_u32(b, list->len);
    call_reply(call, b);
}

static void
num_pools(struct call *call, unsigned flags)
{
    g_autoptr(GPtrArray) list = core_pool_list(dispatch_core(call), flags, NULL);
    dispatch_reply_int(call, (int32_t)list->len);
}

static void
h_num_pools(struct call *call, const struct call_ctx *ctx)
{
    num_pools(call, 2 /* active */);
}

static void
h_num_defined_pools(struct call *call, const struct call_ctx *ctx)
{
    num_pools(call, 1 /* inactive */);
}

static void
list_pool_names(struct call *call, const struct call_ctx *ctx, unsigned flags)
{
    const struct arg_int *max = ctx->args;
    if (!dispatch_check_max(call, max->v, RPC_STORAGE_LIST_MAX))
        return;
    g_autoptr(GPtrArray) list = core_pool_list(dispatch_core(call), flags, NULL);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max->v);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, ((struct pool *)list->pdata[i])->def->name);
    call_reply(call, b);
}

static void
h_list_pools(struct call *call, const struct call_ctx *ctx)
{
    list_pool_names(call, ctx, 2);
}

static void
h_list_defined_pools(struct call *call, const struct call_ctx *ctx)
{
    list_pool_names(call, ctx, 1);
}

/* ERROR is read only after the object was computed (C leaves argument order open). */
static void
reply_pool_or_fail(struct call *call, struct pool *p, GError **error)
{
    if (p)
        reply_pool(call, p);
    else
        dispatch_fail(call, *error);
}

static void
h_pool_lookup_name(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_pool_or_fail(call, core_pool_lookup_name(dispatch_core(call), a->s, &error), &error);
}

static void
h_pool_lookup_uuid(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_uuid *a = ctx->args;
    GError *error = NULL;
    reply_pool_or_fail(call, core_pool_lookup_uuid(dispatch_core(call), a->uuid, &error), &error);
}

static void
h_pool_lookup_target_path(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_pool_or_fail(call, core_pool_lookup_target_path(dispatch_core(call), a->s, &error),
                       &error);
}

static void
h_pool_capabilities(struct call *call, const struct call_ctx *ctx)
{
    g_autofree char *xml = storage_def_pool_caps_format();
    dispatch_reply_string(call, xml);
}

/* remote_connect_find_storage_pool_sources_args: type, srcSpec (then flags) */
struct find_sources_args {
    char *type;
    char *spec;
};

static void
dec_find_sources(struct xdr_reader *r, void *args)
{
    struct find_sources_args *a = args;
    a->type = xdr_get_string(r, RPC_STRING_MAX);
    a->spec = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_find_sources(void *args)
{
    struct find_sources_args *a = args;
    g_free(a->type);
    g_free(a->spec);
}

static const struct args_type args_find_sources = {sizeof(struct find_sources_args),
                                                   dec_find_sources, clear_find_sources};

static void
h_find_pool_sources(struct call *call, const struct call_ctx *ctx)
{
    const struct find_sources_args *a = ctx->args;
    GError *error = NULL;
    g_autofree char *xml = core_pool_find_sources(a->type, &error);
    if (xml)
        dispatch_reply_string(call, xml);
    else
        dispatch_fail(call, error);
}

static void
h_pool_lookup_by_volume(struct call *call, const struct call_ctx *ctx)
{
    reply_pool(call, ctx->pool);
}

static void
h_pool_define(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_pool_or_fail(call, core_pool_define(dispatch_core(call), a->s, &error), &error);
}

static void
h_pool_create_xml(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_pool_or_fail(call, core_pool_create_xml(dispatch_core(call), a->s, ctx->flags, &error),
                       &error);
}

static void
h_pool_create(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_pool_start(dispatch_core(call), ctx->pool, ctx->flags, &error),
                     &error);
}

static void
h_pool_build(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_pool_build(dispatch_core(call), ctx->pool, ctx->flags, &error),
                     &error);
}

static void
h_pool_destroy(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_pool_destroy(dispatch_core(call), ctx->pool, &error), &error);
}

static void
h_pool_delete(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_pool_delete(dispatch_core(call), ctx->pool, ctx->flags, &error),
                     &error);
}

static void
h_pool_undefine(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_pool_undefine(dispatch_core(call), ctx->pool, &error), &error);
}

static void
h_pool_refresh(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_pool_refresh(dispatch_core(call), ctx->pool, &error), &error);
}

static void
h_pool_get_info(struct call *call, const struct call_ctx *ctx)
{
    int state;
    uint64_t cap, alloc, avail;
    GError *error = NULL;
    if (!core_pool_info(ctx->pool, &state, &cap, &alloc, &avail, &error)) {
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
h_pool_get_xml(struct call *call, const struct call_ctx *ctx)
{
    g_autofree char *xml = core_pool_xml(ctx->pool);
    dispatch_reply_string(call, xml);
}

static void
h_pool_get_autostart(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->pool->autostart);
}

static void
h_pool_set_autostart(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *on = ctx->args;
    GError *error = NULL;
    reply_ok_or_fail(
        call, core_pool_set_autostart(dispatch_core(call), ctx->pool, on->v != 0, &error), &error);
}

static void
h_pool_is_active(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->pool->active);
}

static void
h_pool_is_persistent(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->pool->persistent);
}

/* --- volumes --- */

static void
h_pool_num_volumes(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    g_autoptr(GPtrArray) names = core_vol_list(ctx->pool, &error);
    if (!names)
        dispatch_fail(call, error);
    else
        dispatch_reply_int(call, (int32_t)names->len);
}

static void
h_pool_list_volumes(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    GError *error = NULL;
    if (!dispatch_check_max(call, max->v, RPC_STORAGE_LIST_MAX))
        return;
    g_autoptr(GPtrArray) names = core_vol_list(ctx->pool, &error);
    if (!names) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(names->len, (guint)max->v);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, names->pdata[i]);
    call_reply(call, b);
}

static void
h_pool_list_all_volumes(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    GError *error = NULL;
    g_autoptr(GPtrArray) names = core_vol_list(ctx->pool, &error);
    if (!names) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(names->len, RPC_STORAGE_LIST_MAX);
    xdr_put_u32(b, need->v ? n : 0);
    for (guint i = 0; need->v && i < n; i++)
        put_vol(b, ctx->pool, names->pdata[i]);
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
h_vol_lookup_name(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    GError *error = NULL;
    if (core_vol_check(ctx->pool, name->s, &error))
        reply_vol(call, ctx->pool, name->s);
    else
        dispatch_fail(call, error);
}

static void
h_vol_lookup_path(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *path = ctx->args;
    GError *error = NULL;
    g_autofree char *name = NULL;
    struct pool *p = core_vol_lookup_path(dispatch_core(call), path->s, &name, &error);
    if (p)
        reply_vol(call, p, name);
    else
        dispatch_fail(call, error);
}

/* virStorageVolGetInfo and ...Flags: GET_PHYSICAL reports the file's size as its allocation */
enum { VOL_GET_PHYSICAL = 1 };

static void
h_vol_get_info(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    struct storage_vol_info info;
    if (!core_vol_info(ctx->pool, ctx->vol, &info, &error)) {
        dispatch_fail(call, error);
        return;
    }
    storage_vol_info_clear(&info);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, 0); /* VIR_STORAGE_VOL_FILE */
    xdr_put_u64(b, info.capacity);
    xdr_put_u64(b, (ctx->flags & VOL_GET_PHYSICAL) ? info.physical : info.allocation);
    call_reply(call, b);
}

static void
h_vol_get_xml(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    g_autofree char *xml = core_vol_xml(ctx->pool, ctx->vol, &error);
    if (xml)
        dispatch_reply_string(call, xml);
    else
        dispatch_fail(call, error);
}

static void
h_vol_get_path(struct call *call, const struct call_ctx *ctx)
{
    g_autofree char *path = g_build_filename(ctx->pool->def->target_path, ctx->vol, NULL);
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
h_vol_create_xml(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *xml = ctx->args;
    start_create(call, ctx->pool, xml->s, NULL, ctx->flags);
}

/* remote_storage_vol_create_xml_from_args: pool (the handle), xml, the volume to clone */
struct create_from_args {
    char *xml;
    char *src_pool;
    char *src_name;
    char *src_key;
};

static void
dec_create_from(struct xdr_reader *r, void *args)
{
    struct create_from_args *a = args;
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
    a->src_pool = xdr_get_string(r, RPC_STRING_MAX);
    a->src_name = xdr_get_string(r, RPC_STRING_MAX);
    a->src_key = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_create_from(void *args)
{
    struct create_from_args *a = args;
    g_free(a->xml);
    g_free(a->src_pool);
    g_free(a->src_name);
    g_free(a->src_key);
}

static const struct args_type args_create_from = {sizeof(struct create_from_args), dec_create_from,
                                                  clear_create_from};

static void
h_vol_create_xml_from(struct call *call, const struct call_ctx *ctx)
{
    const struct create_from_args *a = ctx->args;
    GError *error = NULL;
    struct pool *src = core_pool_lookup_name(dispatch_core(call), a->src_pool, &error);
    g_autofree char *src_path = src ? core_vol_path(src, a->src_name, &error) : NULL;
    if (!src_path) {
        dispatch_fail(call, error);
        return;
    }
    start_create(call, ctx->pool, a->xml, src_path, ctx->flags);
}

static void
h_vol_delete(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (!core_vol_check_idle(dispatch_core(call), ctx->pool, ctx->vol, &error)) {
        dispatch_fail(call, error);
        return;
    }
    reply_ok_or_fail(call,
                     core_vol_delete(dispatch_core(call), ctx->pool, ctx->vol,
                                     (ctx->flags & DOMUS_VOL_FORCE) != 0, &error),
                     &error);
}

/* remote_storage_vol_resize_args: capacity (then flags) */
struct resize_args {
    uint64_t capacity;
};

static void
dec_resize(struct xdr_reader *r, void *args)
{
    ((struct resize_args *)args)->capacity = xdr_get_u64(r);
}

static const struct args_type args_resize = {sizeof(struct resize_args), dec_resize, NULL};

static void
h_vol_resize(struct call *call, const struct call_ctx *ctx)
{
    const struct resize_args *a = ctx->args;
    GError *error = NULL;
    if (!core_vol_check_idle(dispatch_core(call), ctx->pool, ctx->vol, &error)) {
        dispatch_fail(call, error);
        return;
    }
    reply_ok_or_fail(
        call,
        core_vol_resize(dispatch_core(call), ctx->pool, ctx->vol, a->capacity, ctx->flags, &error),
        &error);
}

/* --- wipe: a job of the engine (core/volume_jobs.c); progress through VOL_JOB_INFO --- */

static void
start_wipe(struct call *call, struct pool *p, const char *name, int algorithm, uint32_t flags)
{
    core_vol_wipe(dispatch_core(call), p, name, algorithm, (flags & DOMUS_VOL_FORCE) != 0,
                  dispatch_done_empty, call);
}

static void
h_vol_wipe(struct call *call, const struct call_ctx *ctx)
{
    start_wipe(call, ctx->pool, ctx->vol, WIPE_ZERO, ctx->flags);
}

static void
h_vol_wipe_pattern(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *algorithm = ctx->args;
    start_wipe(call, ctx->pool, ctx->vol, algorithm->v, ctx->flags);
}

/* --- upload and download: volume bytes over a stream --- */

/* virStorageVolUploadFlags / DownloadFlags */
#define VOL_SPARSE_STREAM 1u

struct transfer {
    struct stream *st;
    gboolean sparse;
    int fd;
    const char *noun; /* what PATH names in messages: "volume", "screenshot" */
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
        log_info("transfer of %s '%s' aborted", t->noun, t->path);
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

static gboolean download_pump(gpointer user);

#define DOWNLOAD_BACKLOG (1024 * 1024)

/* the connection wrote its backlog down: pump again */
static void
download_resume(gpointer user)
{
    struct transfer *t = user;
    t->source = g_idle_add(download_pump, t);
}

/* Sends the volume a chunk at a time while the connection keeps up; EOF at the end. */
static gboolean
download_pump(gpointer user)
{
    struct transfer *t = user;
    if (client_stream_backlog(t->st) > DOWNLOAD_BACKLOG) {
        /* the client reads slower than we send: wait until the connection has written
         * enough of it (a unix socket's small buffer fills at once) instead of polling */
        t->source = 0;
        client_stream_on_drain(t->st, DOWNLOAD_BACKLOG / 2, download_resume, t);
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
            if (!client_stream_send_hole(t->st, hole))
                return G_SOURCE_REMOVE; /* the client is gone: its on_close freed T */
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
        err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot read %s '%s'", t->noun, t->path);
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
    if (!client_stream_send(t->st, buf, (gsize)n))
        return G_SOURCE_REMOVE; /* the client is gone: its on_close freed T */
    t->offset += (guint64)n;
    return G_SOURCE_CONTINUE;
}

/* remote_storage_vol_upload_args / download_args: offset, length (then flags) */
struct transfer_args {
    uint64_t offset;
    uint64_t length;
};

static void
dec_transfer(struct xdr_reader *r, void *args)
{
    struct transfer_args *a = args;
    a->offset = xdr_get_u64(r);
    a->length = xdr_get_u64(r);
}

static const struct args_type args_transfer = {sizeof(struct transfer_args), dec_transfer, NULL};

static void
start_transfer(struct call *call, const struct call_ctx *ctx, gboolean upload)
{
    const struct transfer_args *a = ctx->args;
    GError *error = NULL;
    g_autofree char *path = g_build_filename(ctx->pool->def->target_path, ctx->vol, NULL);
    if (upload && (!core_vol_check_idle(dispatch_core(call), ctx->pool, ctx->vol, &error) ||
                   (!(ctx->flags & DOMUS_VOL_FORCE) &&
                    !core_vol_check_unused(dispatch_core(call), path, &error)))) {
        dispatch_fail(call, error);
        return;
    }
    /* opened through the pool: the file served is the volume the pool lists */
    int fd = core_vol_open(ctx->pool, ctx->vol, upload ? O_WRONLY : O_RDONLY, &error);
    if (fd < 0) {
        dispatch_fail(call, error);
        return;
    }
    struct transfer *t = g_new0(struct transfer, 1);
    t->fd = fd;
    t->noun = "volume";
    t->path = g_steal_pointer(&path);
    t->offset = a->offset;
    t->end = a->length ? a->offset + a->length : 0;
    t->sparse = (ctx->flags & VOL_SPARSE_STREAM) != 0;
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

void
dispatch_stream_fd(struct call *call, int fd, const char *noun, const char *what, GByteArray *reply)
{
    struct transfer *t = g_new0(struct transfer, 1);
    t->fd = fd;
    t->noun = noun;
    t->path = g_strdup(what);
    t->st = client_stream_open(call);
    t->st->user = t;
    t->st->on_close = on_transfer_close;
    call_reply(call, reply);
    t->source = g_idle_add(download_pump, t);
}

static void
h_vol_upload(struct call *call, const struct call_ctx *ctx)
{
    start_transfer(call, ctx, TRUE);
}

static void
h_vol_download(struct call *call, const struct call_ctx *ctx)
{
    start_transfer(call, ctx, FALSE);
}

/* Domus program: VOL_JOB_INFO (volume handle) -> active int, done uhyper, total uhyper */
static void
h_vol_job_info(struct call *call, const struct call_ctx *ctx)
{
    struct job_info info;
    gboolean active = core_vol_job_info(dispatch_core(call), ctx->pool, ctx->vol, &info);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, active);
    xdr_put_u64(b, info.done);
    xdr_put_u64(b, info.total);
    call_reply(call, b);
}

/* Domus program: VOL_JOB_ABORT (volume handle): the volume's job stops, if it can */
static void
h_vol_job_abort(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (core_vol_job_abort(dispatch_core(call), ctx->pool, ctx->vol, &error))
        call_reply(call, NULL);
    else
        dispatch_fail(call, error);
}

#define R RPC_PROGRAM_REMOTE
#define N HANDLE_NONE
#define P HANDLE_POOL
#define V HANDLE_VOLUME
const struct proc_def domus_procs[] = {
    {RPC_PROGRAM_DOMUS, DOMUS_PROC_VOL_JOB_INFO, V, NULL, FALSE, 0, h_vol_job_info},
    {RPC_PROGRAM_DOMUS, DOMUS_PROC_VOL_JOB_ABORT, V, NULL, FALSE, 0, h_vol_job_abort},
};
const gsize domus_procs_count = G_N_ELEMENTS(domus_procs);

const struct proc_def storage_procs[] = {
    {R, PROC_CONNECT_NUM_OF_STORAGE_POOLS, N, NULL, FALSE, 0, h_num_pools},
    {R, PROC_CONNECT_LIST_STORAGE_POOLS, N, &args_int, FALSE, 0, h_list_pools},
    {R, PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS, N, NULL, FALSE, 0, h_num_defined_pools},
    {R, PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS, N, &args_int, FALSE, 0, h_list_defined_pools},
    {R, PROC_CONNECT_LIST_ALL_STORAGE_POOLS, N, &args_int, TRUE, POOL_LIST_ALL_FLAGS,
     h_list_all_pools},
    {R, PROC_STORAGE_POOL_CREATE_XML, N, &args_string, TRUE,
     POOL_CREATE_WITH_BUILD | POOL_CREATE_WITH_BUILD_OVERWRITE |
         POOL_CREATE_WITH_BUILD_NO_OVERWRITE,
     h_pool_create_xml},
    {R, PROC_STORAGE_POOL_DEFINE_XML, N, &args_string, TRUE, POOL_DEFINE_VALIDATE, h_pool_define},
    {R, PROC_STORAGE_POOL_CREATE, P, NULL, TRUE,
     POOL_CREATE_WITH_BUILD | POOL_CREATE_WITH_BUILD_OVERWRITE |
         POOL_CREATE_WITH_BUILD_NO_OVERWRITE,
     h_pool_create},
    {R, PROC_STORAGE_POOL_BUILD, P, NULL, TRUE, POOL_BUILD_NO_OVERWRITE | POOL_BUILD_OVERWRITE,
     h_pool_build},
    {R, PROC_STORAGE_POOL_DESTROY, P, NULL, FALSE, 0, h_pool_destroy},
    {R, PROC_STORAGE_POOL_DELETE, P, NULL, TRUE, 0, h_pool_delete},
    {R, PROC_STORAGE_POOL_UNDEFINE, P, NULL, FALSE, 0, h_pool_undefine},
    {R, PROC_STORAGE_POOL_REFRESH, P, NULL, TRUE, 0, h_pool_refresh},
    {R, PROC_STORAGE_POOL_LOOKUP_BY_NAME, N, &args_string, FALSE, 0, h_pool_lookup_name},
    {R, PROC_STORAGE_POOL_LOOKUP_BY_UUID, N, &args_uuid, FALSE, 0, h_pool_lookup_uuid},
    {R, PROC_STORAGE_POOL_LOOKUP_BY_VOLUME, V, NULL, FALSE, 0, h_pool_lookup_by_volume},
    {R, PROC_STORAGE_POOL_LOOKUP_BY_TARGET_PATH, N, &args_string, FALSE, 0,
     h_pool_lookup_target_path},
    {R, PROC_CONNECT_GET_STORAGE_POOL_CAPABILITIES, N, NULL, TRUE, 0, h_pool_capabilities},
    {R, PROC_CONNECT_FIND_STORAGE_POOL_SOURCES, N, &args_find_sources, TRUE, 0,
     h_find_pool_sources},
    {R, PROC_STORAGE_POOL_GET_INFO, P, NULL, FALSE, 0, h_pool_get_info},
    {R, PROC_STORAGE_POOL_GET_XML_DESC, P, NULL, TRUE, POOL_XML_INACTIVE, h_pool_get_xml},
    {R, PROC_STORAGE_POOL_GET_AUTOSTART, P, NULL, FALSE, 0, h_pool_get_autostart},
    {R, PROC_STORAGE_POOL_SET_AUTOSTART, P, &args_int, FALSE, 0, h_pool_set_autostart},
    {R, PROC_STORAGE_POOL_IS_ACTIVE, P, NULL, FALSE, 0, h_pool_is_active},
    {R, PROC_STORAGE_POOL_IS_PERSISTENT, P, NULL, FALSE, 0, h_pool_is_persistent},
    {R, PROC_STORAGE_POOL_NUM_OF_VOLUMES, P, NULL, FALSE, 0, h_pool_num_volumes},
    {R, PROC_STORAGE_POOL_LIST_VOLUMES, P, &args_int, FALSE, 0, h_pool_list_volumes},
    {R, PROC_STORAGE_POOL_LIST_ALL_VOLUMES, P, &args_int, TRUE, 0, h_pool_list_all_volumes},
    {R, PROC_STORAGE_VOL_CREATE_XML, P, &args_string, TRUE,
     VOL_CREATE_PREALLOC_METADATA | VOL_CREATE_REFLINK, h_vol_create_xml},
    {R, PROC_STORAGE_VOL_CREATE_XML_FROM, P, &args_create_from, TRUE,
     VOL_CREATE_PREALLOC_METADATA | VOL_CREATE_REFLINK, h_vol_create_xml_from},
    {R, PROC_STORAGE_VOL_DELETE, V, NULL, TRUE, DOMUS_VOL_FORCE, h_vol_delete},
    {R, PROC_STORAGE_VOL_LOOKUP_BY_NAME, P, &args_string, FALSE, 0, h_vol_lookup_name},
    {R, PROC_STORAGE_VOL_LOOKUP_BY_KEY, N, &args_string, FALSE, 0, h_vol_lookup_path},
    {R, PROC_STORAGE_VOL_LOOKUP_BY_PATH, N, &args_string, FALSE, 0, h_vol_lookup_path},
    {R, PROC_STORAGE_VOL_GET_INFO, V, NULL, FALSE, 0, h_vol_get_info},
    {R, PROC_STORAGE_VOL_GET_INFO_FLAGS, V, NULL, TRUE, VOL_GET_PHYSICAL, h_vol_get_info},
    {R, PROC_STORAGE_VOL_GET_XML_DESC, V, NULL, TRUE, 0, h_vol_get_xml},
    {R, PROC_STORAGE_VOL_GET_PATH, V, NULL, FALSE, 0, h_vol_get_path},
    {R, PROC_STORAGE_VOL_RESIZE, V, &args_resize, TRUE,
     VOL_RESIZE_ALLOCATE | VOL_RESIZE_DELTA | VOL_RESIZE_SHRINK, h_vol_resize},
    {R, PROC_STORAGE_VOL_WIPE, V, NULL, TRUE, DOMUS_VOL_FORCE, h_vol_wipe},
    {R, PROC_STORAGE_VOL_WIPE_PATTERN, V, &args_int, TRUE, DOMUS_VOL_FORCE, h_vol_wipe_pattern},
    {R, PROC_STORAGE_VOL_UPLOAD, V, &args_transfer, TRUE, VOL_SPARSE_STREAM | DOMUS_VOL_FORCE,
     h_vol_upload},
    {R, PROC_STORAGE_VOL_DOWNLOAD, V, &args_transfer, TRUE, VOL_SPARSE_STREAM, h_vol_download},
};
#undef R
#undef N
#undef P
#undef V
const gsize storage_procs_count = G_N_ELEMENTS(storage_procs);
