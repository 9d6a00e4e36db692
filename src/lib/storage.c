/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage: libdomus's storage pools and volumes over libvirt's storage procedures, and wipe
 * progress over Domus's own program. */
#include <string.h>

#include "lib/client_priv.h"
#include "util/err.h"
#include "util/uuid.h"

/* --- storage pools --- */

struct domus_pool {
    domus_conn *conn;
    char *name;
    uint8_t uuid[UUID_LEN];
    char uuid_str[UUID_STRING_LEN];
};

struct domus_vol {
    domus_conn *conn;
    char *pool;
    char *name;
    char *key;
};

/* remote_nonnull_storage_pool: name, uuid */
static domus_pool *
pool_from_reader(domus_conn *conn, struct xdr_reader *r)
{
    g_autofree char *name = xdr_get_string(r, RPC_STRING_MAX);
    uint8_t uuid[UUID_LEN];
    if (!xdr_get_opaque_fixed(r, uuid, UUID_LEN) || r->failed)
        return NULL;
    domus_pool *pool = g_new0(domus_pool, 1);
    pool->conn = conn;
    pool->name = g_steal_pointer(&name);
    memcpy(pool->uuid, uuid, UUID_LEN);
    uuid_format(pool->uuid, pool->uuid_str);
    return pool;
}

static domus_pool *
reply_pool(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    domus_pool *pool = pool_from_reader(conn, &r);
    if (!xdr_reader_finish(&r, error)) {
        domus_pool_free(pool);
        return NULL;
    }
    return pool;
}

static GByteArray *
pool_args(domus_pool *pool)
{
    GByteArray *b = g_byte_array_new();
    xdr_put_string(b, pool->name);
    xdr_put_opaque_fixed(b, pool->uuid, UUID_LEN);
    return b;
}

int
domus_pool_event_register(domus_conn *conn, domus_pool *pool, int event_id, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, event_id);
    xdr_put_u32(args, pool ? 1 : 0);
    if (pool) {
        xdr_put_string(args, pool->name);
        xdr_put_opaque_fixed(args, pool->uuid, UUID_LEN);
    }
    return client_reply_int(conn, PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, args, error);
}

static gboolean
pool_call(domus_pool *pool, uint32_t proc, gboolean with_flags, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    if (with_flags)
        xdr_put_u32(args, flags);
    return client_call(pool->conn, proc, args, NULL, error);
}

void
domus_pool_free(domus_pool *pool)
{
    if (!pool)
        return;
    g_free(pool->name);
    g_free(pool);
}

void
domus_pool_list_free(domus_pool **list)
{
    for (int i = 0; list && list[i]; i++)
        domus_pool_free(list[i]);
    g_free(list);
}

domus_pool **
domus_list_pools(domus_conn *conn, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_LIST_ALL_STORAGE_POOLS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, RPC_DOMAIN_LIST_MAX, 20);
    domus_pool **list = g_new0(domus_pool *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        list[i] = pool_from_reader(conn, &r);
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        domus_pool_list_free(list);
        return NULL;
    }
    return list;
}

domus_pool *
domus_pool_lookup_by_name(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    return reply_pool(conn, PROC_STORAGE_POOL_LOOKUP_BY_NAME, args, error);
}

domus_pool *
domus_pool_lookup_by_uuid(domus_conn *conn, const char *uuid, GError **error)
{
    uint8_t u[UUID_LEN];
    if (!uuid_parse(uuid, u)) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "'%s' is not a valid uuid", uuid);
        return NULL;
    }
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_opaque_fixed(args, u, UUID_LEN);
    return reply_pool(conn, PROC_STORAGE_POOL_LOOKUP_BY_UUID, args, error);
}

domus_conn *
domus_pool_get_connect(domus_pool *pool)
{
    return pool->conn;
}

const char *
domus_pool_get_name(domus_pool *pool)
{
    return pool->name;
}

const char *
domus_pool_get_uuid(domus_pool *pool)
{
    return pool->uuid_str;
}

domus_pool *
domus_pool_define(domus_conn *conn, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return reply_pool(conn, PROC_STORAGE_POOL_DEFINE_XML, args, error);
}

domus_pool *
domus_pool_create_xml(domus_conn *conn, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return reply_pool(conn, PROC_STORAGE_POOL_CREATE_XML, args, error);
}

gboolean
domus_pool_build(domus_pool *pool, unsigned flags, GError **error)
{
    return pool_call(pool, PROC_STORAGE_POOL_BUILD, TRUE, flags, error);
}

gboolean
domus_pool_start(domus_pool *pool, unsigned flags, GError **error)
{
    return pool_call(pool, PROC_STORAGE_POOL_CREATE, TRUE, flags, error);
}

gboolean
domus_pool_destroy(domus_pool *pool, GError **error)
{
    return pool_call(pool, PROC_STORAGE_POOL_DESTROY, FALSE, 0, error);
}

gboolean
domus_pool_delete(domus_pool *pool, unsigned flags, GError **error)
{
    return pool_call(pool, PROC_STORAGE_POOL_DELETE, TRUE, flags, error);
}

gboolean
domus_pool_undefine(domus_pool *pool, GError **error)
{
    return pool_call(pool, PROC_STORAGE_POOL_UNDEFINE, FALSE, 0, error);
}

gboolean
domus_pool_refresh(domus_pool *pool, unsigned flags, GError **error)
{
    return pool_call(pool, PROC_STORAGE_POOL_REFRESH, TRUE, flags, error);
}

int
domus_pool_get_autostart(domus_pool *pool, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    return client_reply_int(pool->conn, PROC_STORAGE_POOL_GET_AUTOSTART, args, error);
}

gboolean
domus_pool_set_autostart(domus_pool *pool, gboolean on, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    xdr_put_i32(args, on ? 1 : 0);
    return client_call(pool->conn, PROC_STORAGE_POOL_SET_AUTOSTART, args, NULL, error);
}

int
domus_pool_is_active(domus_pool *pool, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    return client_reply_int(pool->conn, PROC_STORAGE_POOL_IS_ACTIVE, args, error);
}

int
domus_pool_is_persistent(domus_pool *pool, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    return client_reply_int(pool->conn, PROC_STORAGE_POOL_IS_PERSISTENT, args, error);
}

gboolean
domus_pool_get_info(domus_pool *pool, struct domus_pool_info *ret, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(pool->conn, PROC_STORAGE_POOL_GET_INFO, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_pool_info info;
    info.state = (int)xdr_get_u32(&r);
    info.capacity = xdr_get_u64(&r);
    info.allocation = xdr_get_u64(&r);
    info.available = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret = info;
    return TRUE;
}

char *
domus_pool_get_xml(domus_pool *pool, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    xdr_put_u32(args, flags);
    return client_reply_string(pool->conn, PROC_STORAGE_POOL_GET_XML_DESC, args, error);
}

/* --- storage volumes --- */

/* remote_nonnull_storage_vol: pool, name, key */
static domus_vol *
vol_from_reader(domus_conn *conn, struct xdr_reader *r)
{
    g_autofree char *pool = xdr_get_string(r, RPC_STRING_MAX);
    g_autofree char *name = xdr_get_string(r, RPC_STRING_MAX);
    g_autofree char *key = xdr_get_string(r, RPC_STRING_MAX);
    if (r->failed)
        return NULL;
    domus_vol *vol = g_new0(domus_vol, 1);
    vol->conn = conn;
    vol->pool = g_steal_pointer(&pool);
    vol->name = g_steal_pointer(&name);
    vol->key = g_steal_pointer(&key);
    return vol;
}

static domus_vol *
reply_vol(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    domus_vol *vol = vol_from_reader(conn, &r);
    if (!xdr_reader_finish(&r, error)) {
        domus_vol_free(vol);
        return NULL;
    }
    return vol;
}

static void
put_vol(GByteArray *b, domus_vol *vol)
{
    xdr_put_string(b, vol->pool);
    xdr_put_string(b, vol->name);
    xdr_put_string(b, vol->key);
}

static GByteArray *
vol_args(domus_vol *vol)
{
    GByteArray *b = g_byte_array_new();
    put_vol(b, vol);
    return b;
}

void
domus_vol_free(domus_vol *vol)
{
    if (!vol)
        return;
    g_free(vol->pool);
    g_free(vol->name);
    g_free(vol->key);
    g_free(vol);
}

void
domus_vol_list_free(domus_vol **list)
{
    for (int i = 0; list && list[i]; i++)
        domus_vol_free(list[i]);
    g_free(list);
}

domus_vol **
domus_pool_list_volumes(domus_pool *pool, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    xdr_put_i32(args, 1);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(pool->conn, PROC_STORAGE_POOL_LIST_ALL_VOLUMES, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, RPC_DOMAIN_LIST_MAX, 12);
    domus_vol **list = g_new0(domus_vol *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        list[i] = vol_from_reader(pool->conn, &r);
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        domus_vol_list_free(list);
        return NULL;
    }
    return list;
}

domus_vol *
domus_vol_lookup_by_name(domus_pool *pool, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    xdr_put_string(args, name);
    return reply_vol(pool->conn, PROC_STORAGE_VOL_LOOKUP_BY_NAME, args, error);
}

domus_vol *
domus_vol_lookup_by_path(domus_conn *conn, const char *path, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, path);
    return reply_vol(conn, PROC_STORAGE_VOL_LOOKUP_BY_PATH, args, error);
}

domus_vol *
domus_vol_lookup_by_key(domus_conn *conn, const char *key, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, key);
    return reply_vol(conn, PROC_STORAGE_VOL_LOOKUP_BY_KEY, args, error);
}

domus_pool *
domus_pool_lookup_by_volume(domus_vol *vol, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    return reply_pool(vol->conn, PROC_STORAGE_POOL_LOOKUP_BY_VOLUME, args, error);
}

domus_conn *
domus_vol_get_connect(domus_vol *vol)
{
    return vol->conn;
}

const char *
domus_vol_get_name(domus_vol *vol)
{
    return vol->name;
}

const char *
domus_vol_get_key(domus_vol *vol)
{
    return vol->key;
}

const char *
domus_vol_get_pool_name(domus_vol *vol)
{
    return vol->pool;
}

domus_vol *
domus_vol_create_xml(domus_pool *pool, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return reply_vol(pool->conn, PROC_STORAGE_VOL_CREATE_XML, args, error);
}

domus_vol *
domus_vol_create_xml_from(domus_pool *pool, const char *xml, domus_vol *src, unsigned flags,
                          GError **error)
{
    g_autoptr(GByteArray) args = pool_args(pool);
    xdr_put_string(args, xml);
    put_vol(args, src);
    xdr_put_u32(args, flags);
    return reply_vol(pool->conn, PROC_STORAGE_VOL_CREATE_XML_FROM, args, error);
}

static gboolean
vol_info(domus_vol *vol, uint32_t proc, GByteArray *args, struct domus_vol_info *ret,
         GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(vol->conn, proc, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_vol_info info;
    info.type = xdr_get_i32(&r);
    info.capacity = xdr_get_u64(&r);
    info.allocation = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret = info;
    return TRUE;
}

gboolean
domus_vol_get_info(domus_vol *vol, struct domus_vol_info *ret, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    return vol_info(vol, PROC_STORAGE_VOL_GET_INFO, args, ret, error);
}

gboolean
domus_vol_get_info_flags(domus_vol *vol, unsigned flags, struct domus_vol_info *ret, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    xdr_put_u32(args, flags);
    return vol_info(vol, PROC_STORAGE_VOL_GET_INFO_FLAGS, args, ret, error);
}

char *
domus_storage_pool_capabilities(domus_conn *conn, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_CONNECT_GET_STORAGE_POOL_CAPABILITIES, args, error);
}

char *
domus_find_storage_pool_sources(domus_conn *conn, const char *type, const char *spec,
                                GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, type);
    xdr_put_opt_string(args, spec);
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_CONNECT_FIND_STORAGE_POOL_SOURCES, args, error);
}

char *
domus_vol_get_xml(domus_vol *vol, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    xdr_put_u32(args, flags);
    return client_reply_string(vol->conn, PROC_STORAGE_VOL_GET_XML_DESC, args, error);
}

char *
domus_vol_get_path(domus_vol *vol, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    return client_reply_string(vol->conn, PROC_STORAGE_VOL_GET_PATH, args, error);
}

gboolean
domus_vol_delete(domus_vol *vol, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    xdr_put_u32(args, flags);
    return client_call(vol->conn, PROC_STORAGE_VOL_DELETE, args, NULL, error);
}

gboolean
domus_vol_resize(domus_vol *vol, guint64 capacity, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    xdr_put_u64(args, capacity);
    xdr_put_u32(args, flags);
    return client_call(vol->conn, PROC_STORAGE_VOL_RESIZE, args, NULL, error);
}

gboolean
domus_vol_wipe_pattern(domus_vol *vol, int algorithm, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    xdr_put_u32(args, (uint32_t)algorithm);
    xdr_put_u32(args, flags);
    return client_call(vol->conn, PROC_STORAGE_VOL_WIPE_PATTERN, args, NULL, error);
}

/* remote_storage_vol_upload_args / _download_args: the volume, offset, length, flags */
static domus_stream *
vol_stream(domus_vol *vol, uint32_t proc, guint64 offset, guint64 length, unsigned flags,
           GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    xdr_put_u64(args, offset);
    xdr_put_u64(args, length);
    xdr_put_u32(args, flags);
    uint32_t serial = vol->conn->s.next_serial;
    if (!client_call(vol->conn, proc, args, NULL, error))
        return NULL;
    return client_stream_new(vol->conn, proc, serial);
}

domus_stream *
domus_vol_upload(domus_vol *vol, guint64 offset, guint64 length, unsigned flags, GError **error)
{
    return vol_stream(vol, PROC_STORAGE_VOL_UPLOAD, offset, length, flags, error);
}

domus_stream *
domus_vol_download(domus_vol *vol, guint64 offset, guint64 length, unsigned flags, GError **error)
{
    return vol_stream(vol, PROC_STORAGE_VOL_DOWNLOAD, offset, length, flags, error);
}

gboolean
domus_vol_get_job_info(domus_vol *vol, gboolean *ret_active, guint64 *ret_done, guint64 *ret_total,
                       GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call_prog(vol->conn, RPC_PROGRAM_DOMUS, DOMUS_PROC_VOL_JOB_INFO, args, &body,
                          error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int active = xdr_get_i32(&r);
    guint64 done = xdr_get_u64(&r);
    guint64 total = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret_active = active != 0;
    *ret_done = done;
    *ret_total = total;
    return TRUE;
}

gboolean
domus_vol_abort_job(domus_vol *vol, GError **error)
{
    g_autoptr(GByteArray) args = vol_args(vol);
    return client_call_prog(vol->conn, RPC_PROGRAM_DOMUS, DOMUS_PROC_VOL_JOB_ABORT, args, NULL,
                            error);
}
