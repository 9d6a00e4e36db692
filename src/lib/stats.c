/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats: libdomus's statistics and vCPU / memory calls (virDomainBlockStatsFlags,
 * InterfaceStats, MemoryStats, GetBlockInfo, Get/SetVcpusFlags, SetMemoryFlags,
 * SetMemoryStatsPeriod, virDomainListGetStats). */
#include "lib/client_priv.h"

#include "util/err.h"

/* A reply of typed parameters followed by their count (remote_typed_param<>, int) */
/* A reply of typed parameters and their count: FIELD, VALUE, … NULL (new vector) */
static char **
reply_params_counted(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_auto(GStrv) params = client_read_typed_params(&r);
    xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&params);
}

static char **
params_reply(domus_domain *dom, uint32_t proc, GByteArray *args, GError **error)
{
    return reply_params_counted(domus_domain_get_connect(dom), proc, args, error);
}

char **
domus_domain_block_stats(domus_domain *dom, const char *device, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, device ? device : "");
    xdr_put_i32(args, 16);
    xdr_put_u32(args, 4 /* TYPED_PARAM_STRING_OKAY */);
    return params_reply(dom, PROC_DOMAIN_BLOCK_STATS_FLAGS, args, error);
}

gboolean
domus_domain_interface_stats(domus_domain *dom, const char *device, gint64 ret[8], GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, device);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_INTERFACE_STATS, args, &body,
                     error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    gint64 v[8];
    for (int i = 0; i < 8; i++)
        v[i] = xdr_get_i64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    memcpy(ret, v, sizeof(v));
    return TRUE;
}

GArray *
domus_domain_memory_stats(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 13 /* VIR_DOMAIN_MEMORY_STAT_NR */);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MEMORY_STATS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(domus_memory_stat));
    uint32_t n = xdr_get_count(&r, 1024, 12);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        domus_memory_stat s;
        s.tag = xdr_get_i32(&r);
        s.val = xdr_get_u64(&r);
        g_array_append_val(out, s);
    }
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&out);
}

gboolean
domus_domain_set_memory_stats_period(domus_domain *dom, int period, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, period);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_MEMORY_STATS_PERIOD, args,
                       NULL, error);
}

gboolean
domus_domain_block_info(domus_domain *dom, const char *device, guint64 ret[3], GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, device);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_BLOCK_INFO, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    guint64 v[3];
    for (int i = 0; i < 3; i++)
        v[i] = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    memcpy(ret, v, sizeof(v));
    return TRUE;
}

int
domus_domain_get_vcpus_flags(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    return client_reply_int(domus_domain_get_connect(dom), PROC_DOMAIN_GET_VCPUS_FLAGS, args,
                            error);
}

gboolean
domus_domain_set_vcpu(domus_domain *dom, const char *map, gboolean enable, unsigned flags,
                      GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, map);
    xdr_put_i32(args, enable ? 1 : 0);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_VCPU, args, NULL, error);
}

gboolean
domus_domain_set_vcpus_flags(domus_domain *dom, unsigned n, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, n);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_VCPUS_FLAGS, args, NULL,
                       error);
}

gboolean
domus_domain_set_memory_flags(domus_domain *dom, guint64 kib, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u64(args, kib);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_MEMORY_FLAGS, args, NULL,
                       error);
}

char **
domus_domain_get_stats(domus_domain *dom, unsigned groups, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_u32(args, 1);
    g_autoptr(GByteArray) d = client_domain_args(dom);
    g_byte_array_append(args, d->data, d->len);
    xdr_put_u32(args, groups);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_CONNECT_GET_ALL_DOMAIN_STATS, args, &body,
                     error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, RPC_DOMAIN_LIST_MAX, 28);
    g_auto(GStrv) params = NULL;
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        struct rpc_domain rd = {0};
        rpc_get_domain(&r, &rd);
        rpc_domain_clear(&rd);
        g_strfreev(params);
        params = client_read_typed_params(&r);
    }
    if (!xdr_reader_finish(&r, error))
        return NULL;
    if (!params)
        params = g_new0(char *, 1);
    return g_steal_pointer(&params);
}

int
domus_node_cpu_count(domus_conn *conn, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 0);
    xdr_put_i32(args, 0);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_NODE_GET_CPU_MAP, args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree guint8 *map = NULL;
    gsize len = 0;
    map = xdr_get_opaque(&r, RPC_CPUMAPS_MAX, &len);
    xdr_get_u32(&r);
    int n = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    return n;
}

GArray *
domus_domain_get_vcpus(domus_domain *dom, int maxcpus, GError **error)
{
    int maplen = (maxcpus + 7) / 8;
    int nvcpus = domus_domain_get_vcpus_flags(dom, 1 /* live */, error);
    if (nvcpus < 0)
        return NULL;
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, nvcpus);
    xdr_put_i32(args, maplen);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_VCPUS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autoptr(GArray) out = g_array_new(FALSE, TRUE, sizeof(domus_vcpu_info));
    uint32_t n = xdr_get_count(&r, RPC_VCPUINFO_MAX, 20);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        domus_vcpu_info v = {0};
        v.number = xdr_get_u32(&r);
        v.state = xdr_get_i32(&r);
        v.cpu_time = xdr_get_u64(&r);
        v.cpu = xdr_get_i32(&r);
        g_array_append_val(out, v);
    }
    gsize len = 0;
    g_autofree guint8 *maps = xdr_get_opaque(&r, RPC_CPUMAPS_MAX, &len);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    for (guint i = 0; i < out->len; i++) {
        domus_vcpu_info *v = &g_array_index(out, domus_vcpu_info, i);
        v->affinity = g_new0(guint8, maplen + 1);
        if ((gsize)(i + 1) * maplen <= len)
            memcpy(v->affinity, maps + (gsize)i * maplen, maplen);
    }
    g_array_set_clear_func(out, (GDestroyNotify)domus_vcpu_info_clear);
    return g_steal_pointer(&out);
}

gboolean
domus_domain_pin(domus_domain *dom, int vcpu, const guint8 *map, gsize maplen, unsigned flags,
                 GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (vcpu >= 0)
        xdr_put_u32(args, (uint32_t)vcpu);
    xdr_put_opaque(args, map, maplen);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom),
                       vcpu >= 0 ? PROC_DOMAIN_PIN_VCPU_FLAGS : PROC_DOMAIN_PIN_EMULATOR, args,
                       NULL, error);
}

guint8 *
domus_domain_pin_info(domus_domain *dom, gboolean emulator, int nmaps, int maplen, unsigned flags,
                      int *ret_count, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (!emulator)
        xdr_put_i32(args, nmaps);
    xdr_put_i32(args, maplen);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom),
                     emulator ? PROC_DOMAIN_GET_EMULATOR_PIN_INFO : PROC_DOMAIN_GET_VCPU_PIN_INFO,
                     args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    gsize len = 0;
    g_autofree guint8 *maps = xdr_get_opaque(&r, RPC_CPUMAPS_MAX, &len);
    int count = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    guint8 *out = g_malloc0((gsize)MAX(nmaps, 1) * (gsize)MAX(maplen, 0) + 1);
    memcpy(out, maps, MIN(len, (gsize)MAX(nmaps, 1) * (gsize)MAX(maplen, 0)));
    *ret_count = count;
    return out;
}

void
domus_vcpu_info_clear(domus_vcpu_info *info)
{
    g_clear_pointer(&info->affinity, g_free);
}

char **
domus_domain_cpu_stats_total(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 3);
    xdr_put_i32(args, -1);
    xdr_put_u32(args, 1);
    xdr_put_u32(args, 4 /* TYPED_PARAM_STRING_OKAY */);
    return params_reply(dom, PROC_DOMAIN_GET_CPU_STATS, args, error);
}

char **
domus_domain_cpu_stats(domus_domain *dom, int start, unsigned ncpus, unsigned nparams,
                       int *ret_nparams, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, nparams);
    xdr_put_i32(args, start);
    xdr_put_u32(args, ncpus);
    xdr_put_u32(args, 4 /* TYPED_PARAM_STRING_OKAY */);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_CPU_STATS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_auto(GStrv) params = client_read_typed_params(&r);
    int n = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    *ret_nparams = n;
    return g_steal_pointer(&params);
}

char *
domus_domain_scheduler_type(domus_domain *dom, int *ret_nparams, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_SCHEDULER_TYPE, args, &body,
                     error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *type = xdr_get_string(&r, RPC_STRING_MAX);
    int n = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    *ret_nparams = n;
    return g_steal_pointer(&type);
}

char **
domus_domain_get_tunables(domus_domain *dom, gboolean memory, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, 16);
    xdr_put_u32(args, flags | 4 /* TYPED_PARAM_STRING_OKAY */);
    if (memory)
        return params_reply(dom, PROC_DOMAIN_GET_MEMORY_PARAMETERS, args, error);
    return client_reply_params(domus_domain_get_connect(dom),
                               PROC_DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS, args, error);
}

/* The wire type the daemon reports for FIELD: 3 (llong) for a quota, else 4 (ullong) */
static int
tunable_type(const char *field)
{
    return g_str_has_suffix(field, "_quota") ? 3 : 4;
}

gboolean
domus_domain_set_tunables(domus_domain *dom, gboolean memory, const char *const *params,
                          unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    guint n = params ? g_strv_length((char **)params) / 2 : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++) {
        const char *field = params[2 * i], *value = params[2 * i + 1];
        int type = tunable_type(field);
        gint64 v = 0;
        guint64 u = 0;
        gboolean ok = type == 3
                          ? g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &v, NULL)
                          : g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &u, NULL);
        if (!ok) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid value '%s' for parameter '%s'",
                    value, field);
            return FALSE;
        }
        xdr_put_string(args, field);
        xdr_put_i32(args, type);
        if (type == 3)
            xdr_put_i64(args, v);
        else
            xdr_put_u64(args, u);
    }
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom),
                       memory ? PROC_DOMAIN_SET_MEMORY_PARAMETERS
                              : PROC_DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS,
                       args, NULL, error);
}

char **
domus_domain_get_interface_parameters(domus_domain *dom, const char *device, unsigned flags,
                                      GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, device);
    xdr_put_i32(args, 16);
    xdr_put_u32(args, flags);
    return params_reply(dom, PROC_DOMAIN_GET_INTERFACE_PARAMETERS, args, error);
}

gboolean
domus_domain_set_interface_parameters(domus_domain *dom, const char *device,
                                      const char *const *params, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, device);
    guint n = params ? g_strv_length((char **)params) / 2 : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++) {
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(params[2 * i + 1], 10, 0, G_MAXUINT32, &v, NULL)) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid value '%s' for parameter '%s'",
                    params[2 * i + 1], params[2 * i]);
            return FALSE;
        }
        xdr_put_string(args, params[2 * i]);
        xdr_put_i32(args, 2 /* VIR_TYPED_PARAM_UINT */);
        xdr_put_u32(args, (uint32_t)v);
    }
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_INTERFACE_PARAMETERS, args,
                       NULL, error);
}

char **
domus_domain_get_perf_events(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    return client_reply_params(domus_domain_get_connect(dom), PROC_DOMAIN_GET_PERF_EVENTS, args,
                               error);
}

gboolean
domus_domain_set_perf_events(domus_domain *dom, const char *const *params, unsigned flags,
                             GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    guint n = params ? g_strv_length((char **)params) / 2 : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++) {
        xdr_put_string(args, params[2 * i]);
        xdr_put_i32(args, 6 /* VIR_TYPED_PARAM_BOOLEAN */);
        xdr_put_i32(args, g_str_equal(params[2 * i + 1], "1") ? 1 : 0);
    }
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_PERF_EVENTS, args, NULL,
                       error);
}

int
domus_domain_iothread_info(domus_domain *dom, unsigned flags, unsigned **ret_ids,
                           guint8 ***ret_maps, gsize *ret_maplen, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_IOTHREAD_INFO, args, &body,
                     error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, 16384, 8);
    g_autofree unsigned *ids = g_new0(unsigned, n + 1);
    guint8 **maps = g_new0(guint8 *, n + 1);
    gsize maplen = 0;
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        ids[i] = xdr_get_u32(&r);
        maps[i] = xdr_get_opaque(&r, 2048, &maplen);
    }
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        for (uint32_t i = 0; i < n; i++)
            g_free(maps[i]);
        g_free(maps);
        return -1;
    }
    *ret_ids = g_steal_pointer(&ids);
    *ret_maps = maps;
    *ret_maplen = maplen;
    return (int)n;
}

gboolean
domus_domain_pin_iothread(domus_domain *dom, unsigned id, const guint8 *map, gsize maplen,
                          unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, id);
    xdr_put_opaque(args, map, maplen);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_PIN_IOTHREAD, args, NULL, error);
}

gboolean
domus_domain_change_iothread(domus_domain *dom, gboolean add, unsigned id, unsigned flags,
                             GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, id);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom),
                       add ? PROC_DOMAIN_ADD_IOTHREAD : PROC_DOMAIN_DEL_IOTHREAD, args, NULL,
                       error);
}

gboolean
domus_domain_set_iothread_params(domus_domain *dom, unsigned id, const char *const *params,
                                 unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, id);
    guint n = params ? g_strv_length((char **)params) / 2 : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++) {
        const char *field = params[2 * i], *value = params[2 * i + 1];
        gboolean wide = g_str_equal(field, "poll_max_ns");
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(value, 10, 0, wide ? G_MAXUINT64 : G_MAXUINT32, &v, NULL)) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid value '%s' for parameter '%s'",
                    value, field);
            return FALSE;
        }
        xdr_put_string(args, field);
        xdr_put_i32(args, wide ? 4 : 2);
        if (wide)
            xdr_put_u64(args, v);
        else
            xdr_put_u32(args, (uint32_t)v);
    }
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_IOTHREAD_PARAMS, args, NULL,
                       error);
}

gboolean
domus_domain_start_dirty_rate_calc(domus_domain *dom, int seconds, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, seconds);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_START_DIRTY_RATE_CALC, args, NULL,
                       error);
}

/* typed parameters FIELD, VALUE, … NULL as TYPE_OF says for each field: 7 string, 1 int,
 * 2 uint, 4 ullong */
static gboolean
put_params(GByteArray *args, const char *const *params, int (*type_of)(const char *field),
           GError **error)
{
    guint n = params ? g_strv_length((char **)params) / 2 : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++) {
        const char *field = params[2 * i], *value = params[2 * i + 1];
        int type = type_of(field);
        guint64 v = 0;
        gint64 i32 = 0;
        if (type == 1
                ? !g_ascii_string_to_signed(value, 10, G_MININT32, G_MAXINT32, &i32, NULL)
                : type != 7 && !g_ascii_string_to_unsigned(
                                   value, 10, 0, type == 2 ? G_MAXUINT32 : G_MAXUINT64, &v, NULL)) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid value '%s' for parameter '%s'",
                    value, field);
            return FALSE;
        }
        xdr_put_string(args, field);
        xdr_put_i32(args, type);
        if (type == 7)
            xdr_put_string(args, value);
        else if (type == 1)
            xdr_put_i32(args, (int32_t)i32);
        else if (type == 2)
            xdr_put_u32(args, (uint32_t)v);
        else
            xdr_put_u64(args, v);
    }
    return TRUE;
}

static int
iotune_type(const char *field)
{
    return g_str_equal(field, "group_name") ? 7 : 4;
}

static int
blkio_type(const char *field)
{
    return g_str_equal(field, "weight") ? 2 : 7;
}

char **
domus_domain_get_block_iotune(domus_domain *dom, const char *disk, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, disk);
    xdr_put_i32(args, 32);
    xdr_put_u32(args, flags | 4 /* TYPED_PARAM_STRING_OKAY */);
    return params_reply(dom, PROC_DOMAIN_GET_BLOCK_IO_TUNE, args, error);
}

gboolean
domus_domain_set_block_iotune(domus_domain *dom, const char *disk, const char *const *params,
                              unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, disk);
    if (!put_params(args, params, iotune_type, error))
        return FALSE;
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_BLOCK_IO_TUNE, args, NULL,
                       error);
}

static int
numa_type(const char *field)
{
    return g_str_equal(field, "numa_mode") ? 1 : 7;
}

char **
domus_domain_get_numatune(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, 16);
    xdr_put_u32(args, flags | 4 /* TYPED_PARAM_STRING_OKAY */);
    return params_reply(dom, PROC_DOMAIN_GET_NUMA_PARAMETERS, args, error);
}

gboolean
domus_domain_set_numatune(domus_domain *dom, const char *const *params, unsigned flags,
                          GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (!put_params(args, params, numa_type, error))
        return FALSE;
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_NUMA_PARAMETERS, args, NULL,
                       error);
}

char **
domus_domain_get_blkio(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i32(args, 16);
    xdr_put_u32(args, flags | 4 /* TYPED_PARAM_STRING_OKAY */);
    return params_reply(dom, PROC_DOMAIN_GET_BLKIO_PARAMETERS, args, error);
}

gboolean
domus_domain_set_blkio(domus_domain *dom, const char *const *params, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (!put_params(args, params, blkio_type, error))
        return FALSE;
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_BLKIO_PARAMETERS, args, NULL,
                       error);
}

/* --- the host --- */

gboolean
domus_node_info(domus_conn *conn, struct domus_node_info *ret, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    g_autoptr(GByteArray) args = g_byte_array_new();
    if (!client_call(conn, PROC_NODE_GET_INFO, args, &body, error))
        return FALSE;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_node_info info = {{0}};
    /* XDR's char[32]: one 4-byte unit per character */
    for (int i = 0; i < 32; i++)
        info.model[i] = (char)xdr_get_i32(&r);
    info.model[31] = '\0';
    info.memory_kib = xdr_get_u64(&r);
    info.cpus = xdr_get_i32(&r);
    info.mhz = xdr_get_i32(&r);
    info.nodes = xdr_get_i32(&r);
    info.sockets = xdr_get_i32(&r);
    info.cores = xdr_get_i32(&r);
    info.threads = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return FALSE;
    *ret = info;
    return TRUE;
}

int
domus_node_cpu_map(domus_conn *conn, guint8 **ret_map, unsigned *ret_online, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_i32(args, 1);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_NODE_GET_CPU_MAP, args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    gsize len = 0;
    g_autofree guint8 *map = xdr_get_opaque(&r, RPC_CPUMAPS_MAX, &len);
    unsigned online = xdr_get_u32(&r);
    int n = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    if (n < 0 || (gsize)(n + 7) / 8 > len) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "the CPU map does not cover %d CPUs", n);
        return -1;
    }
    *ret_map = g_steal_pointer(&map);
    *ret_online = online;
    return n;
}

char **
domus_node_stats(domus_conn *conn, gboolean memory, int index, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    if (memory) {
        xdr_put_i32(args, 16);
        xdr_put_i32(args, index);
    } else {
        xdr_put_i32(args, index);
        xdr_put_i32(args, 16);
    }
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, memory ? PROC_NODE_GET_MEMORY_STATS : PROC_NODE_GET_CPU_STATS, args,
                     &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, 16, 12);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        char *field = xdr_get_string(&r, RPC_STRING_MAX);
        guint64 v = xdr_get_u64(&r);
        g_ptr_array_add(out, field ? field : g_strdup(""));
        g_ptr_array_add(out, g_strdup_printf("%" G_GUINT64_FORMAT, v));
    }
    xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

int
domus_node_cells_free(domus_conn *conn, int start, int max, guint64 **ret, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, start);
    xdr_put_i32(args, max);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_NODE_GET_CELLS_FREE_MEMORY, args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, 1024, 8);
    g_autofree guint64 *cells = g_new0(guint64, n + 1);
    for (uint32_t i = 0; i < n; i++)
        cells[i] = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    *ret = g_steal_pointer(&cells);
    return (int)n;
}

gboolean
domus_node_free_memory(domus_conn *conn, guint64 *ret_bytes, GError **error)
{
    return client_reply_u64(conn, PROC_NODE_GET_FREE_MEMORY, NULL, ret_bytes, error);
}

int
domus_node_free_pages(domus_conn *conn, const guint *sizes_kib, guint nsizes, int start,
                      guint count, guint64 **ret, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_u32(args, nsizes);
    for (guint i = 0; i < nsizes; i++)
        xdr_put_u32(args, sizes_kib[i]);
    xdr_put_i32(args, start);
    xdr_put_u32(args, count);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_NODE_GET_FREE_PAGES, args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    guint n = xdr_get_count(&r, 1024, 8);
    g_autofree guint64 *counts = g_new0(guint64, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        counts[i] = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    *ret = g_steal_pointer(&counts);
    return (int)n;
}

int
domus_node_alloc_pages(domus_conn *conn, guint size_kib, guint64 count, int start, guint ncells,
                       unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_u32(args, 1);
    xdr_put_u32(args, size_kib);
    xdr_put_u32(args, 1);
    xdr_put_u64(args, count);
    xdr_put_i32(args, start);
    xdr_put_u32(args, ncells);
    xdr_put_u32(args, flags);
    return client_reply_int(conn, PROC_NODE_ALLOC_PAGES, args, error);
}

char **
domus_node_memory_params(domus_conn *conn, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 64);
    xdr_put_u32(args, 4 /* TYPED_PARAM_STRING_OKAY */);
    return reply_params_counted(conn, PROC_NODE_GET_MEMORY_PARAMETERS, args, error);
}

static int
uint_type(const char *field)
{
    return 2;
}

gboolean
domus_node_set_memory_params(domus_conn *conn, const char *const *params, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    if (!put_params(args, params, uint_type, error))
        return FALSE;
    xdr_put_u32(args, 0);
    return client_call(conn, PROC_NODE_SET_MEMORY_PARAMETERS, args, NULL, error);
}

char *
domus_get_sysinfo(domus_conn *conn, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_CONNECT_GET_SYSINFO, args, error);
}

char *
domus_xml_to_native(domus_conn *conn, const char *format, const char *xml, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, format);
    xdr_put_string(args, xml);
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_CONNECT_DOMAIN_XML_TO_NATIVE, args, error);
}

char *
domus_xml_from_native(domus_conn *conn, const char *format, const char *config, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, format);
    xdr_put_string(args, config);
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, args, error);
}

gboolean
domus_domain_send_process_signal(domus_domain *dom, gint64 pid, unsigned signum, GError **error)
{
    if (pid == 0) {
        /* as libvirt's virDomainSendProcessSignal checks it before any call */
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "pid_value in virDomainSendProcessSignal must not be zero");
        return FALSE;
    }
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_i64(args, pid);
    xdr_put_u32(args, signum);
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SEND_PROCESS_SIGNAL, args, NULL,
                       error);
}

char **
domus_domain_disk_errors(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 256);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_DISK_ERRORS, args, &body,
                     error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, 256, 8);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        char *disk = xdr_get_string(&r, RPC_STRING_MAX);
        int code = xdr_get_i32(&r);
        g_ptr_array_add(out, disk ? disk : g_strdup(""));
        g_ptr_array_add(out, g_strdup_printf("%d", code));
    }
    xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

int
domus_get_max_vcpus(domus_conn *conn, const char *type, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_opt_string(args, type);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_GET_MAX_VCPUS, args, &body, error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int n = xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    return n;
}

char **
domus_node_sev_info(domus_conn *conn, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 64);
    xdr_put_u32(args, 4 /* TYPED_PARAM_STRING_OKAY */);
    return reply_params_counted(conn, PROC_NODE_GET_SEV_INFO, args, error);
}

char **
domus_domain_launch_security_info(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 4 /* TYPED_PARAM_STRING_OKAY */);
    return reply_params_counted(domus_domain_get_connect(dom), PROC_DOMAIN_GET_LAUNCH_SECURITY_INFO,
                                args, error);
}

static int
launch_state_type(const char *field)
{
    return g_str_equal(field, "sev-secret-set-address") ? 4 : 7;
}

gboolean
domus_domain_set_launch_security_state(domus_domain *dom, const char *const *params, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    if (!put_params(args, params, launch_state_type, error))
        return FALSE;
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_LAUNCH_SECURITY_STATE, args,
                       NULL, error);
}
