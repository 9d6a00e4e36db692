/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_resources: the procedures that change a domain's vCPUs and memory (core/resources.c)
 * and where its threads run (core/pin.c); prefix h_ for handlers. */
#include "daemon/dispatch.h"

#include "core/guest.h"
#include "util/err.h"

/* virDomainModificationImpact, virDomainMemoryModFlags */
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2, MEM_MAXIMUM = 4 };
#define VCPU_FLAGS 0x1fu /* live, config, maximum, guest, hotpluggable */

struct args_u64_flags {
    uint64_t v;
};

static void
dec_u64(struct xdr_reader *r, void *args)
{
    ((struct args_u64_flags *)args)->v = xdr_get_u64(r);
}

static const struct args_type args_u64 = {sizeof(struct args_u64_flags), dec_u64, NULL};

static void
h_set_vcpus(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *n = ctx->args;
    core_domain_set_vcpus(ctx->dom, (unsigned)n->v, AFFECT_LIVE, dispatch_done_empty, call);
}

static void
h_set_vcpu(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_map_state *a = ctx->args;
    core_domain_set_vcpu(ctx->dom, a->map, a->state != 0, ctx->flags, dispatch_done_empty, call);
}

static void
h_set_vcpus_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *n = ctx->args;
    /* HOTPLUGGABLE: vCPUs added to the configuration come as devices of their own at start
     * (every one added live is) */
    core_domain_set_vcpus(ctx->dom, (unsigned)n->v, ctx->flags, dispatch_done_empty, call);
}

static void
h_set_memory(struct call *call, const struct call_ctx *ctx)
{
    const struct args_u64_flags *m = ctx->args;
    core_domain_set_memory(ctx->dom, m->v, AFFECT_LIVE, dispatch_done_empty, call);
}

static void
h_set_memory_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct args_u64_flags *m = ctx->args;
    core_domain_set_memory(ctx->dom, m->v, ctx->flags, dispatch_done_empty, call);
}

static void
h_set_max_memory(struct call *call, const struct call_ctx *ctx)
{
    const struct args_u64_flags *m = ctx->args;
    core_domain_set_memory(ctx->dom, m->v, MEM_MAXIMUM, dispatch_done_empty, call);
}

/* --- pinning --- */

/* A cpumap: host CPU k at bit k%8 of byte k/8 */
struct args_pin {
    uint32_t vcpu; /* PIN_VCPU*: which; PIN_EMULATOR: unused */
    uint8_t *map;
    gsize len;
};

static void
dec_pin_vcpu(struct xdr_reader *r, void *args)
{
    struct args_pin *a = args;
    a->vcpu = xdr_get_u32(r);
    a->map = xdr_get_opaque(r, RPC_CPUMAP_MAX, &a->len);
}

static void
dec_pin_emulator(struct xdr_reader *r, void *args)
{
    struct args_pin *a = args;
    a->map = xdr_get_opaque(r, RPC_CPUMAP_MAX, &a->len);
}

static void
clear_pin(void *args)
{
    g_free(((struct args_pin *)args)->map);
}

static const struct args_type args_pin_vcpu = {sizeof(struct args_pin), dec_pin_vcpu, clear_pin};
static const struct args_type args_pin_emulator = {sizeof(struct args_pin), dec_pin_emulator,
                                                   clear_pin};

static void
map_to_cpuset(const uint8_t *map, gsize len, struct cpuset *ret)
{
    memset(ret, 0, sizeof(*ret));
    memcpy(ret->bits, map, MIN(len, sizeof(ret->bits)));
}

static void
cpuset_to_map(const struct cpuset *set, uint8_t *map, gsize len)
{
    memcpy(map, set->bits, MIN(len, sizeof(set->bits)));
}

static void
pin(struct call *call, const struct call_ctx *ctx, int vcpu, uint32_t flags)
{
    const struct args_pin *a = ctx->args;
    struct cpuset set;
    if (vcpu >= 0 && a->vcpu > G_MAXINT32) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "vcpu %u is not a vCPU", a->vcpu);
        dispatch_fail(call, error);
        return;
    }
    map_to_cpuset(a->map, a->len, &set);
    core_domain_pin(ctx->dom, vcpu, &set, flags, dispatch_done_empty, call);
}

static void
h_pin_vcpu(struct call *call, const struct call_ctx *ctx)
{
    pin(call, ctx, (int)((const struct args_pin *)ctx->args)->vcpu, AFFECT_LIVE);
}

static void
h_pin_vcpu_flags(struct call *call, const struct call_ctx *ctx)
{
    pin(call, ctx, (int)((const struct args_pin *)ctx->args)->vcpu, ctx->flags);
}

static void
h_pin_emulator(struct call *call, const struct call_ctx *ctx)
{
    pin(call, ctx, -1, ctx->flags);
}

/* The definition a pin query reads: live or persistent by FLAGS, one of them */
static const struct domain_def *
pin_info_def(struct domain *dom, uint32_t flags, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if ((flags & AFFECT_LIVE) && (flags & AFFECT_CONFIG)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive");
        return NULL;
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return NULL;
    return live ? dom->def : core_persistent_def(dom);
}

struct args_pin_info {
    int32_t ncpumaps; /* GET_EMULATOR_PIN_INFO: 1 */
    int32_t maplen;
};

static void
dec_vcpu_pin_info(struct xdr_reader *r, void *args)
{
    struct args_pin_info *a = args;
    a->ncpumaps = xdr_get_i32(r);
    a->maplen = xdr_get_i32(r);
}

static void
dec_emulator_pin_info(struct xdr_reader *r, void *args)
{
    struct args_pin_info *a = args;
    a->ncpumaps = 1;
    a->maplen = xdr_get_i32(r);
}

static const struct args_type args_vcpu_pin_info = {sizeof(struct args_pin_info), dec_vcpu_pin_info,
                                                    NULL};
static const struct args_type args_emulator_pin_info = {sizeof(struct args_pin_info),
                                                        dec_emulator_pin_info, NULL};

static void
pin_info(struct call *call, const struct call_ctx *ctx, gboolean emulator)
{
    const struct args_pin_info *a = ctx->args;
    GError *error = NULL;
    if (a->ncpumaps < 0 || a->maplen <= 0) {
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "%s",
                a->maplen <= 0 ? "maplen must be positive" : "ncpumaps must not be negative");
        dispatch_fail(call, error);
        return;
    }
    if ((gint64)a->ncpumaps * a->maplen > RPC_CPUMAPS_MAX) {
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "ncpumaps * maplen > REMOTE_CPUMAPS_MAX");
        dispatch_fail(call, error);
        return;
    }
    const struct domain_def *def = pin_info_def(ctx->dom, ctx->flags, &error);
    if (!def) {
        dispatch_fail(call, error);
        return;
    }
    guint n = emulator ? 1 : MIN((guint)a->ncpumaps, def->vcpus);
    gsize len = (gsize)a->ncpumaps * (gsize)a->maplen;
    g_autofree uint8_t *maps = g_malloc0(len);
    for (guint i = 0; i < n; i++) {
        struct cpuset set;
        if (emulator)
            core_pin_emulator_set(def, &set);
        else
            core_pin_vcpu_set(def, i, &set);
        cpuset_to_map(&set, maps + (gsize)i * (gsize)a->maplen, (gsize)a->maplen);
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_opaque(out, maps, len);
    xdr_put_i32(out, (int32_t)n);
    call_reply(call, out);
}

static void
h_get_vcpu_pin_info(struct call *call, const struct call_ctx *ctx)
{
    pin_info(call, ctx, FALSE);
}

static void
h_get_emulator_pin_info(struct call *call, const struct call_ctx *ctx)
{
    pin_info(call, ctx, TRUE);
}

/* --- schedinfo and memtune --- */

static const char *const sched_fields[] = {"cpu_shares",      "vcpu_period",     "vcpu_quota",
                                           "emulator_period", "emulator_quota",  "global_period",
                                           "global_quota",    "iothread_period", "iothread_quota"};
static const char *const mem_fields[] = {"hard_limit", "soft_limit", "swap_hard_limit",
                                         "min_guarantee"};

static void
h_get_scheduler_type(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (!core_qos_has_cpu(dispatch_core(call))) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "cgroup CPU controller is not mounted");
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_string(out, "posix");
    xdr_put_i32(out, (int32_t)G_N_ELEMENTS(sched_fields));
    call_reply(call, out);
}

static void
get_sched(struct call *call, const struct call_ctx *ctx, int nparams, uint32_t flags)
{
    GError *error = NULL;
    struct core_sched s;
    if (nparams < 0 || !dispatch_check_max(call, nparams, 16))
        return;
    if (!core_domain_get_sched(ctx->dom, flags, &s, &error)) {
        dispatch_fail(call, error);
        return;
    }
    /* no I/O threads: their bandwidth reads 0, as libvirt's does then */
    g_autoptr(GByteArray) out = g_byte_array_new();
    guint n = MIN((guint)nparams, G_N_ELEMENTS(sched_fields));
    xdr_put_u32(out, n);
    const gint64 values[] = {(gint64)s.shares,
                             (gint64)s.vcpu_period,
                             s.vcpu_quota,
                             (gint64)s.emulator_period,
                             s.emulator_quota,
                             (gint64)s.global_period,
                             s.global_quota,
                             0,
                             0};
    for (guint i = 0; i < n; i++) {
        gboolean quota = g_str_has_suffix(sched_fields[i], "_quota");
        if (quota)
            dispatch_param_llong(out, sched_fields[i], values[i]);
        else
            dispatch_param_ullong(out, sched_fields[i], (uint64_t)values[i]);
    }
    call_reply(call, out);
}

static void
h_get_sched(struct call *call, const struct call_ctx *ctx)
{
    get_sched(call, ctx, ((const struct arg_int *)ctx->args)->v, 0);
}

static void
h_get_sched_flags(struct call *call, const struct call_ctx *ctx)
{
    get_sched(call, ctx, ((const struct arg_int *)ctx->args)->v, ctx->flags & ~PARAM_STRING_OKAY);
}

/* libvirt's check of a typed parameter: a name it knows, the type it takes */
static int
param_index(const struct typed_param *p, const char *const *names, gsize n,
            enum typed_param_type want, GError **error)
{
    for (gsize i = 0; i < n; i++) {
        if (!g_str_equal(p->field, names[i]))
            continue;
        gboolean quota = g_str_has_suffix(names[i], "_quota");
        return typed_param_check(p, TRUE, quota ? TYPED_PARAM_LLONG : want, error) ? (int)i : -1;
    }
    typed_param_check(p, FALSE, want, error);
    return -1;
}

static void
set_sched(struct call *call, const struct call_ctx *ctx, uint32_t flags)
{
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    struct core_sched want = {0};
    unsigned given = 0;
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        int k =
            param_index(p, sched_fields, G_N_ELEMENTS(sched_fields), TYPED_PARAM_ULLONG, &error);
        if (k < 0) {
            dispatch_fail(call, error);
            return;
        }
        switch (k) {
        case 0:
            want.shares = p->u, given |= CORE_SCHED_SHARES;
            break;
        case 1:
            want.vcpu_period = p->u, given |= CORE_SCHED_VCPU_PERIOD;
            break;
        case 2:
            want.vcpu_quota = p->i, given |= CORE_SCHED_VCPU_QUOTA;
            break;
        case 3:
            want.emulator_period = p->u, given |= CORE_SCHED_EMULATOR_PERIOD;
            break;
        case 4:
            want.emulator_quota = p->i, given |= CORE_SCHED_EMULATOR_QUOTA;
            break;
        case 5:
            want.global_period = p->u, given |= CORE_SCHED_GLOBAL_PERIOD;
            break;
        case 6:
            want.global_quota = p->i, given |= CORE_SCHED_GLOBAL_QUOTA;
            break;
        default:
            err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "domain '%s' has no I/O threads: '%s' cannot be set", ctx->dom->def->name,
                    p->field);
            dispatch_fail(call, error);
            return;
        }
    }
    if (!core_domain_set_sched(ctx->dom, flags, &want, given, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_set_sched(struct call *call, const struct call_ctx *ctx)
{
    set_sched(call, ctx, 0);
}

static void
h_set_sched_flags(struct call *call, const struct call_ctx *ctx)
{
    set_sched(call, ctx, ctx->flags);
}

static void
h_get_memory_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    struct core_memtune m;
    if (a->v < 0 || !dispatch_check_max(call, a->v, 16))
        return;
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (a->v == 0) {
        /* the caller asks how many there are */
        xdr_put_u32(out, 0);
        xdr_put_i32(out, 3);
        call_reply(call, out);
        return;
    }
    if (!core_domain_get_memtune(ctx->dom, ctx->flags & ~PARAM_STRING_OKAY, &m, &error)) {
        dispatch_fail(call, error);
        return;
    }
    const guint64 values[] = {m.hard, m.soft, m.swap};
    guint n = MIN((guint)a->v, 3);
    xdr_put_u32(out, n);
    for (guint i = 0; i < n; i++)
        dispatch_param_ullong(out, mem_fields[i], values[i]);
    xdr_put_i32(out, (int32_t)n);
    call_reply(call, out);
}

static void
h_set_memory_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    struct core_memtune want = {0};
    unsigned given = 0;
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        int k = param_index(p, mem_fields, G_N_ELEMENTS(mem_fields), TYPED_PARAM_ULLONG, &error);
        if (k == 3) {
            err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                    "Parameter 'min_guarantee' not supported by QEMU.");
            k = -1;
        }
        if (k < 0) {
            dispatch_fail(call, error);
            return;
        }
        guint64 *slots[] = {&want.hard, &want.soft, &want.swap};
        *slots[k] = MIN(p->u, DOMAIN_DEF_MEMORY_UNLIMITED);
        given |= 1u << k;
    }
    if (!core_domain_set_memtune(ctx->dom, ctx->flags, &want, given, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* --- numatune --- */

static void
h_get_numa_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    if (a->v < 0 || !dispatch_check_max(call, a->v, 16))
        return;
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (a->v == 0) {
        xdr_put_u32(out, 0);
        xdr_put_i32(out, 2);
        call_reply(call, out);
        return;
    }
    int mode = 0;
    g_autofree char *nodeset = NULL;
    if (!core_domain_get_numatune(ctx->dom, ctx->flags & ~PARAM_STRING_OKAY, &mode, &nodeset,
                                  &error)) {
        dispatch_fail(call, error);
        return;
    }
    guint n = MIN((guint)a->v, 2);
    xdr_put_u32(out, n);
    dispatch_param_int(out, "numa_mode", mode);
    if (n > 1)
        dispatch_param_string(out, "numa_nodeset", nodeset);
    xdr_put_i32(out, (int32_t)n);
    call_reply(call, out);
}

static void
h_set_numa_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    int mode = NUMATUNE_NONE;
    const char *nodeset = NULL;
    for (guint i = 0; i < a->params->len && !error; i++) {
        const struct typed_param *p = a->params->pdata[i];
        gboolean is_mode = g_str_equal(p->field, "numa_mode");
        if (!typed_param_check(p, is_mode || g_str_equal(p->field, "numa_nodeset"),
                               is_mode ? TYPED_PARAM_INT : TYPED_PARAM_STRING, &error))
            break;
        if (is_mode && (p->i < NUMATUNE_STRICT || p->i > NUMATUNE_RESTRICTIVE))
            err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "unsupported numatune mode: '%d'",
                    (int)p->i);
        else if (is_mode)
            mode = (int)p->i;
        else
            nodeset = p->s;
    }
    if (error || !core_domain_set_numatune(ctx->dom, ctx->flags, mode, nodeset, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* --- blkiotune --- */

static const char *const blkio_fields[] = {"weight",
                                           "device_weight",
                                           "device_read_iops_sec",
                                           "device_write_iops_sec",
                                           "device_read_bytes_sec",
                                           "device_write_bytes_sec"};

static void
h_get_blkio_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    if (a->v < 0 || !dispatch_check_max(call, a->v, 16))
        return;
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (a->v == 0) {
        xdr_put_u32(out, 0);
        xdr_put_i32(out, (int32_t)G_N_ELEMENTS(blkio_fields));
        call_reply(call, out);
        return;
    }
    unsigned weight = 0;
    g_autoptr(GPtrArray) devices = NULL;
    if (!core_domain_get_blkio(ctx->dom, ctx->flags & ~PARAM_STRING_OKAY, &weight, &devices,
                               &error)) {
        dispatch_fail(call, error);
        return;
    }
    guint n = MIN((guint)a->v, G_N_ELEMENTS(blkio_fields));
    xdr_put_u32(out, n);
    dispatch_param_uint(out, blkio_fields[0], weight);
    /* "path,value,path,value": the devices that have the knob */
    for (guint k = 1; k < n; k++) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (guint i = 0; i < devices->len; i++) {
            const struct blkio_device_def *d = devices->pdata[i];
            const guint64 values[] = {d->weight, d->read_iops, d->write_iops, d->read_bytes,
                                      d->write_bytes};
            if (!values[k - 1])
                continue;
            g_string_append_printf(s, "%s%s,%" G_GUINT64_FORMAT, s->len ? "," : "", d->path,
                                   values[k - 1]);
        }
        dispatch_param_string(out, blkio_fields[k], s->str);
    }
    xdr_put_i32(out, (int32_t)n);
    call_reply(call, out);
}

static void
change_free(struct core_blkio_change *c)
{
    g_free(c->path);
    g_free(c);
}

/* "path,value[,path,value…]" into CHANGES for KNOB */
static gboolean
parse_device_list(const char *field, const char *text, int knob, GPtrArray *changes, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    guint n = g_strv_length(parts);
    if (n == 0 || n % 2) {
        err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG,
                "unable to parse blkio device '%s' '%s': give path,value pairs", field, text);
        return FALSE;
    }
    for (guint i = 0; i < n; i += 2) {
        guint64 v = 0;
        if (!*parts[i] || !g_ascii_string_to_unsigned(parts[i + 1], 10, 0, G_MAXUINT64, &v, NULL)) {
            err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG,
                    "invalid value '%s' for device '%s' of blkio parameter '%s'", parts[i + 1],
                    parts[i], field);
            return FALSE;
        }
        struct core_blkio_change *c = g_new0(struct core_blkio_change, 1);
        c->path = g_strdup(parts[i]);
        c->knob = knob;
        c->value = v;
        g_ptr_array_add(changes, c);
    }
    return TRUE;
}

static void
h_set_blkio_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    gboolean has_weight = FALSE;
    unsigned weight = 0;
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func((GDestroyNotify)change_free);
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        int k = -1;
        for (gsize j = 0; j < G_N_ELEMENTS(blkio_fields); j++)
            if (g_str_equal(p->field, blkio_fields[j]))
                k = (int)j;
        if (typed_param_check(p, k >= 0, k == 0 ? TYPED_PARAM_UINT : TYPED_PARAM_STRING, &error)) {
            if (k > 0) {
                parse_device_list(p->field, p->s, k - 2, changes, &error);
            } else {
                has_weight = TRUE;
                weight = (unsigned)p->u;
            }
        }
        if (error) {
            dispatch_fail(call, error);
            return;
        }
    }
    if (!core_domain_set_blkio(ctx->dom, ctx->flags, has_weight, weight, changes, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* --- domiftune --- */

static const char *const iftune_fields[] = {"inbound.average", "inbound.peak",     "inbound.burst",
                                            "inbound.floor",   "outbound.average", "outbound.peak",
                                            "outbound.burst"};

struct args_iftune {
    char *device;
    int32_t nparams;   /* GET */
    GPtrArray *params; /* SET */
};

static void
dec_iftune_get(struct xdr_reader *r, void *args)
{
    struct args_iftune *a = args;
    a->device = xdr_get_string(r, RPC_STRING_MAX);
    a->nparams = xdr_get_i32(r);
}

static void
dec_iftune_set(struct xdr_reader *r, void *args)
{
    struct args_iftune *a = args;
    struct arg_params p = {NULL};
    a->device = xdr_get_string(r, RPC_STRING_MAX);
    args_params.decode(r, &p);
    a->params = p.params;
}

static void
clear_iftune(void *args)
{
    struct args_iftune *a = args;
    g_free(a->device);
    if (a->params)
        g_ptr_array_unref(a->params);
}

static const struct args_type args_iftune_get = {sizeof(struct args_iftune), dec_iftune_get,
                                                 clear_iftune};
static const struct args_type args_iftune_set = {sizeof(struct args_iftune), dec_iftune_set,
                                                 clear_iftune};

static void
h_get_iftune(struct call *call, const struct call_ctx *ctx)
{
    const struct args_iftune *a = ctx->args;
    GError *error = NULL;
    if (a->nparams < 0 || !dispatch_check_max(call, a->nparams, 16))
        return;
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (a->nparams == 0) {
        xdr_put_u32(out, 0);
        xdr_put_i32(out, (int32_t)G_N_ELEMENTS(iftune_fields));
        call_reply(call, out);
        return;
    }
    struct bandwidth_rate in, outb;
    if (!core_domain_get_iftune(ctx->dom, a->device, ctx->flags & ~PARAM_STRING_OKAY, &in, &outb,
                                &error)) {
        dispatch_fail(call, error);
        return;
    }
    const guint64 values[] = {in.average,   in.peak,   in.burst,  in.floor,
                              outb.average, outb.peak, outb.burst};
    guint n = MIN((guint)a->nparams, G_N_ELEMENTS(iftune_fields));
    xdr_put_u32(out, n);
    for (guint i = 0; i < n; i++)
        dispatch_param_uint(out, iftune_fields[i], (uint32_t)MIN(values[i], G_MAXUINT32));
    xdr_put_i32(out, (int32_t)n);
    call_reply(call, out);
}

static void
h_set_iftune(struct call *call, const struct call_ctx *ctx)
{
    const struct args_iftune *a = ctx->args;
    GError *error = NULL;
    struct bandwidth_rate in = {0}, outb = {0};
    unsigned given = 0;
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        int k = -1;
        for (gsize j = 0; j < G_N_ELEMENTS(iftune_fields); j++)
            if (g_str_equal(p->field, iftune_fields[j]))
                k = (int)j;
        if (!typed_param_check(p, k >= 0, TYPED_PARAM_UINT, &error)) {
            dispatch_fail(call, error);
            return;
        }
        guint64 *slots[] = {&in.average,   &in.peak,   &in.burst,  &in.floor,
                            &outb.average, &outb.peak, &outb.burst};
        *slots[k] = p->u;
        given |= k == 3 ? IFTUNE_FLOOR : 1u << (k < 3 ? k : k - 1);
    }
    if (!core_domain_set_iftune(ctx->dom, a->device, ctx->flags, &in, &outb, given, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* --- blkdeviotune --- */

struct args_iotune {
    char *disk;
    int32_t nparams;
    GPtrArray *params;
};

static void
dec_iotune_get(struct xdr_reader *r, void *args)
{
    struct args_iotune *a = args;
    a->disk = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->nparams = xdr_get_i32(r);
}

static void
dec_iotune_set(struct xdr_reader *r, void *args)
{
    struct args_iotune *a = args;
    struct arg_params p = {NULL};
    a->disk = xdr_get_string(r, RPC_STRING_MAX);
    args_params.decode(r, &p);
    a->params = p.params;
}

static void
clear_iotune(void *args)
{
    struct args_iotune *a = args;
    g_free(a->disk);
    if (a->params)
        g_ptr_array_unref(a->params);
}

static const struct args_type args_iotune_get = {sizeof(struct args_iotune), dec_iotune_get,
                                                 clear_iotune};
static const struct args_type args_iotune_set = {sizeof(struct args_iotune), dec_iotune_set,
                                                 clear_iotune};

/* libvirt's order: the 13 rates, the group name, the 6 lengths */
static void
h_get_iotune(struct call *call, const struct call_ctx *ctx)
{
    const struct args_iotune *a = ctx->args;
    GError *error = NULL;
    if (a->nparams < 0 || !dispatch_check_max(call, a->nparams, 32))
        return;
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (a->nparams == 0) {
        xdr_put_u32(out, 0);
        xdr_put_i32(out, DISK_IOTUNE_FIELDS + 1);
        call_reply(call, out);
        return;
    }
    struct disk_iotune t;
    if (!core_domain_get_iotune(ctx->dom, a->disk, ctx->flags & ~PARAM_STRING_OKAY, &t, &error)) {
        dispatch_fail(call, error);
        return;
    }
    guint n = MIN((guint)a->nparams, DISK_IOTUNE_FIELDS + 1);
    xdr_put_u32(out, n);
    for (guint i = 0; i < n; i++) {
        if (i == 13)
            dispatch_param_string(out, "group_name", t.group_name ? t.group_name : "");
        else
            dispatch_param_ullong(out, disk_iotune_names[i < 13 ? i : i - 1],
                                  t.v[i < 13 ? i : i - 1]);
    }
    xdr_put_i32(out, (int32_t)n);
    g_free(t.group_name);
    call_reply(call, out);
}

static void
h_set_iotune(struct call *call, const struct call_ctx *ctx)
{
    const struct args_iotune *a = ctx->args;
    GError *error = NULL;
    struct disk_iotune want = {0};
    guint64 given = 0;
    gboolean group = FALSE;
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        if (g_str_equal(p->field, "group_name")) {
            if (!typed_param_check(p, TRUE, TYPED_PARAM_STRING, &error)) {
                dispatch_fail(call, error);
                return;
            }
            want.group_name = p->s;
            group = TRUE;
            continue;
        }
        int k = -1;
        for (int j = 0; j < DISK_IOTUNE_FIELDS; j++)
            if (g_str_equal(p->field, disk_iotune_names[j]))
                k = j;
        if (typed_param_check(p, k >= 0, TYPED_PARAM_ULLONG, &error) && p->u > G_MAXINT64)
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "value of '%s' is too large: at most %" G_GINT64_FORMAT, p->field, G_MAXINT64);
        if (error) {
            dispatch_fail(call, error);
            return;
        }
        want.v[k] = p->u;
        given |= G_GUINT64_CONSTANT(1) << k;
    }
    core_domain_set_iotune(ctx->dom, a->disk, ctx->flags, &want, given, group, dispatch_done_empty,
                           call);
}

/* --- IOThreads --- */

/* the bytes of a cpumap of this host: up to its highest online CPU */
static gsize
host_maplen(void)
{
    struct cpuset host;
    core_pin_host_cpus(&host);
    guint top = 0;
    for (guint c = 0; c < CPUSET_MAX; c++)
        if (cpuset_has(&host, c))
            top = c + 1;
    return MAX((top + 7) / 8, 1);
}

static void
h_get_iothread_info(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    g_autoptr(GArray) ids = NULL;
    g_autoptr(GArray) cpus = NULL;
    if (!core_domain_iothread_info(ctx->dom, ctx->flags, &ids, &cpus, &error)) {
        dispatch_fail(call, error);
        return;
    }
    gsize maplen = host_maplen();
    g_autofree uint8_t *map = g_malloc0(maplen);
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, ids->len);
    for (guint i = 0; i < ids->len; i++) {
        xdr_put_u32(out, g_array_index(ids, unsigned, i));
        memset(map, 0, maplen);
        cpuset_to_map(&g_array_index(cpus, struct cpuset, i), map, maplen);
        xdr_put_opaque(out, map, maplen);
    }
    xdr_put_u32(out, ids->len);
    call_reply(call, out);
}

static void
h_pin_iothread(struct call *call, const struct call_ctx *ctx)
{
    const struct args_pin *a = ctx->args;
    GError *error = NULL;
    struct cpuset set;
    map_to_cpuset(a->map, a->len, &set);
    if (!core_domain_pin_iothread(ctx->dom, a->vcpu, &set, ctx->flags, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_add_iothread(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    core_domain_add_iothread(ctx->dom, (uint32_t)a->v, ctx->flags, dispatch_done_empty, call);
}

static void
h_del_iothread(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    core_domain_del_iothread(ctx->dom, (uint32_t)a->v, ctx->flags, dispatch_done_empty, call);
}

struct args_iothread_params {
    uint32_t id;
    GPtrArray *params;
};

static void
dec_iothread_params(struct xdr_reader *r, void *args)
{
    struct args_iothread_params *a = args;
    struct arg_params p = {NULL};
    a->id = xdr_get_u32(r);
    args_params.decode(r, &p);
    a->params = p.params;
}

static void
clear_iothread_params(void *args)
{
    struct args_iothread_params *a = args;
    if (a->params)
        g_ptr_array_unref(a->params);
}

static const struct args_type args_iothread_params = {sizeof(struct args_iothread_params),
                                                      dec_iothread_params, clear_iothread_params};

static void
h_set_iothread_params(struct call *call, const struct call_ctx *ctx)
{
    const struct args_iothread_params *a = ctx->args;
    static const struct {
        const char *field;
        enum typed_param_type type;
        unsigned bit;
    } known[] = {{"poll_max_ns", TYPED_PARAM_ULLONG, CORE_IOTHREAD_POLL_MAX_NS},
                 {"poll_grow", TYPED_PARAM_UINT, CORE_IOTHREAD_POLL_GROW},
                 {"poll_shrink", TYPED_PARAM_UINT, CORE_IOTHREAD_POLL_SHRINK}};
    GError *error = NULL;
    struct core_iothread_poll poll = {0};
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        gsize k = G_N_ELEMENTS(known);
        for (gsize j = 0; j < G_N_ELEMENTS(known); j++)
            if (g_str_equal(p->field, known[j].field))
                k = j;
        gboolean known_field = k < G_N_ELEMENTS(known);
        if (typed_param_check(p, known_field, known_field ? known[k].type : TYPED_PARAM_UINT,
                              &error)) {
            if (k > 0 && p->u > G_MAXINT32)
                err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                        "%s %" G_GUINT64_FORMAT " is out of range; the most is %d", p->field, p->u,
                        G_MAXINT32);
            else if (k == 0 && p->u > G_MAXINT64)
                err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "poll_max_ns is out of range");
        }
        if (error) {
            dispatch_fail(call, error);
            return;
        }
        poll.given |= known[k].bit;
        if (k == 0)
            poll.max_ns = p->u;
        else if (k == 1)
            poll.grow = (unsigned)p->u;
        else
            poll.shrink = (unsigned)p->u;
    }
    core_domain_set_iothread_params(ctx->dom, a->id, &poll, ctx->flags, dispatch_done_empty, call);
}

/* --- perf events --- */

static void
h_get_perf_events(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    gboolean on[PERF_EVENT_N];
    if (!core_domain_get_perf(ctx->dom, ctx->flags, on, &error)) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, PERF_EVENT_N);
    for (int i = 0; i < PERF_EVENT_N; i++)
        dispatch_param_bool(out, perf_event_to_string(i), on[i]);
    call_reply(call, out);
}

static void
h_set_perf_events(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    int want[PERF_EVENT_N];
    for (int i = 0; i < PERF_EVENT_N; i++)
        want[i] = -1;
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        int k = perf_event_from_string(p->field);
        if (!typed_param_check(p, k >= 0, TYPED_PARAM_BOOLEAN, &error)) {
            dispatch_fail(call, error);
            return;
        }
        want[k] = p->i ? 1 : 0;
    }
    if (!core_domain_set_perf(ctx->dom, ctx->flags, want, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
const struct proc_def resources_procs[] = {
    {R, PROC_DOMAIN_SET_VCPUS, D, &args_int, FALSE, 0, h_set_vcpus},
    {R, PROC_DOMAIN_SET_VCPUS_FLAGS, D, &args_int, TRUE, VCPU_FLAGS, h_set_vcpus_flags},
    {R, PROC_DOMAIN_SET_VCPU, D, &args_map_state, TRUE, AFFECT_LIVE | AFFECT_CONFIG, h_set_vcpu},
    {R, PROC_DOMAIN_SET_MEMORY, D, &args_u64, FALSE, 0, h_set_memory},
    {R, PROC_DOMAIN_SET_MEMORY_FLAGS, D, &args_u64, TRUE, AFFECT_LIVE | AFFECT_CONFIG | MEM_MAXIMUM,
     h_set_memory_flags},
    {R, PROC_DOMAIN_SET_MAX_MEMORY, D, &args_u64, FALSE, 0, h_set_max_memory},
    {R, PROC_DOMAIN_PIN_VCPU, D, &args_pin_vcpu, FALSE, 0, h_pin_vcpu},
    {R, PROC_DOMAIN_PIN_VCPU_FLAGS, D, &args_pin_vcpu, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_pin_vcpu_flags},
    {R, PROC_DOMAIN_GET_VCPU_PIN_INFO, D, &args_vcpu_pin_info, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_get_vcpu_pin_info},
    {R, PROC_DOMAIN_PIN_EMULATOR, D, &args_pin_emulator, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_pin_emulator},
    {R, PROC_DOMAIN_GET_EMULATOR_PIN_INFO, D, &args_emulator_pin_info, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG, h_get_emulator_pin_info},
    {R, PROC_DOMAIN_GET_SCHEDULER_TYPE, D, NULL, FALSE, 0, h_get_scheduler_type},
    {R, PROC_DOMAIN_GET_SCHEDULER_PARAMETERS, D, &args_int, FALSE, 0, h_get_sched},
    {R, PROC_DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS, D, &args_int, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | PARAM_STRING_OKAY, h_get_sched_flags},
    {R, PROC_DOMAIN_SET_SCHEDULER_PARAMETERS, D, &args_params, FALSE, 0, h_set_sched},
    {R, PROC_DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS, D, &args_params, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG, h_set_sched_flags},
    {R, PROC_DOMAIN_GET_MEMORY_PARAMETERS, D, &args_int, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | PARAM_STRING_OKAY, h_get_memory_params},
    {R, PROC_DOMAIN_SET_MEMORY_PARAMETERS, D, &args_params, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_memory_params},
    {R, PROC_DOMAIN_GET_NUMA_PARAMETERS, D, &args_int, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | PARAM_STRING_OKAY, h_get_numa_params},
    {R, PROC_DOMAIN_SET_NUMA_PARAMETERS, D, &args_params, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_numa_params},
    {R, PROC_DOMAIN_GET_BLKIO_PARAMETERS, D, &args_int, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | PARAM_STRING_OKAY, h_get_blkio_params},
    {R, PROC_DOMAIN_SET_BLKIO_PARAMETERS, D, &args_params, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_blkio_params},
    {R, PROC_DOMAIN_GET_BLOCK_IO_TUNE, D, &args_iotune_get, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | PARAM_STRING_OKAY, h_get_iotune},
    {R, PROC_DOMAIN_SET_BLOCK_IO_TUNE, D, &args_iotune_set, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_iotune},
    {R, PROC_DOMAIN_GET_INTERFACE_PARAMETERS, D, &args_iftune_get, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | PARAM_STRING_OKAY, h_get_iftune},
    {R, PROC_DOMAIN_SET_INTERFACE_PARAMETERS, D, &args_iftune_set, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG, h_set_iftune},
    {R, PROC_DOMAIN_GET_IOTHREAD_INFO, D, NULL, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_get_iothread_info},
    {R, PROC_DOMAIN_PIN_IOTHREAD, D, &args_pin_vcpu, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_pin_iothread},
    {R, PROC_DOMAIN_ADD_IOTHREAD, D, &args_int, TRUE, AFFECT_LIVE | AFFECT_CONFIG, h_add_iothread},
    {R, PROC_DOMAIN_DEL_IOTHREAD, D, &args_int, TRUE, AFFECT_LIVE | AFFECT_CONFIG, h_del_iothread},
    {R, PROC_DOMAIN_SET_IOTHREAD_PARAMS, D, &args_iothread_params, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG, h_set_iothread_params},
    {R, PROC_DOMAIN_GET_PERF_EVENTS, D, NULL, TRUE, AFFECT_LIVE | AFFECT_CONFIG, h_get_perf_events},
    {R, PROC_DOMAIN_SET_PERF_EVENTS, D, &args_params, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_perf_events},
};
#undef R
#undef D
const gsize resources_procs_count = G_N_ELEMENTS(resources_procs);
