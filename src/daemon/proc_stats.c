/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_stats: the statistics procedures (block, interface, memory, CPU, vCPU, the bulk
 * getAllDomainStats) over core/stats.h; prefix h_ for handlers. Queries: allowed on a
 * read-only connection, never waiting behind a job. */
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "core/guest.h"
#include "core/stats.h"
#include "daemon/dispatch.h"
#include "util/cpuset.h"
#include "util/err.h"
#include "util/netaddr.h"

/* virDomainModificationImpact and virDomainVcpuFlags */
enum {
    AFFECT_LIVE = 1,
    AFFECT_CONFIG = 2,
    VCPU_MAXIMUM = 4,
    VCPU_GUEST = 8,
    VCPU_HOTPLUGGABLE = 16
};
/* virConnectGetAllDomainStatsFlags */
enum {
    STATS_ACTIVE = 1 << 0,
    STATS_INACTIVE = 1 << 1,
    STATS_PERSISTENT = 1 << 2,
    STATS_TRANSIENT = 1 << 3,
    STATS_RUNNING = 1 << 4,
    STATS_PAUSED = 1 << 5,
    STATS_SHUTOFF = 1 << 6,
    STATS_OTHER = 1 << 7,
    STATS_NOWAIT = 1 << 29,
    STATS_BACKING = 1 << 30,
    STATS_ENFORCE = 1u << 31,
};
#define BLOCK_STATS_PARAMS 8
#define CPU_STATS_TOTAL_PARAMS 3

/* --- argument shapes --- */

struct args_path_flags {
    char *path;
    int32_t n; /* nparams (BLOCK_STATS_FLAGS) */
};

static void
dec_path(struct xdr_reader *r, void *args)
{
    struct args_path_flags *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_path_n(struct xdr_reader *r, void *args)
{
    struct args_path_flags *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->n = xdr_get_i32(r);
}

static void
clear_path(void *args)
{
    g_free(((struct args_path_flags *)args)->path);
}

static const struct args_type args_path = {sizeof(struct args_path_flags), dec_path, clear_path};
static const struct args_type args_path_n = {sizeof(struct args_path_flags), dec_path_n,
                                             clear_path};

struct args_two {
    int32_t a, b;
};

static void
dec_two(struct xdr_reader *r, void *args)
{
    struct args_two *t = args;
    t->a = xdr_get_i32(r);
    t->b = xdr_get_i32(r);
}

static const struct args_type args_two = {sizeof(struct args_two), dec_two, NULL};

struct args_cpu_stats {
    uint32_t nparams;
    int32_t start_cpu;
    uint32_t ncpus;
};

static void
dec_cpu_stats(struct xdr_reader *r, void *args)
{
    struct args_cpu_stats *a = args;
    a->nparams = xdr_get_u32(r);
    a->start_cpu = xdr_get_i32(r);
    a->ncpus = xdr_get_u32(r);
}

static const struct args_type args_cpu_stats = {sizeof(struct args_cpu_stats), dec_cpu_stats, NULL};

struct args_all_stats {
    GPtrArray *doms; /* struct rpc_domain * */
    uint32_t stats;
};

static void
free_rpc_domain(gpointer p)
{
    rpc_domain_clear(p);
    g_free(p);
}

static void
dec_all_stats(struct xdr_reader *r, void *args)
{
    struct args_all_stats *a = args;
    a->doms = g_ptr_array_new_with_free_func(free_rpc_domain);
    uint32_t n = xdr_get_count(r, RPC_DOMAIN_LIST_MAX, 24);
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        struct rpc_domain *d = g_new0(struct rpc_domain, 1);
        g_ptr_array_add(a->doms, d);
        rpc_get_domain(r, d);
    }
    a->stats = xdr_get_u32(r);
}

static void
clear_all_stats(void *args)
{
    struct args_all_stats *a = args;
    if (a->doms)
        g_ptr_array_unref(a->doms);
}

static const struct args_type args_all_stats = {sizeof(struct args_all_stats), dec_all_stats,
                                                clear_all_stats};

/* --- the collection behind each call --- */

struct stat_call {
    struct call *call;
    struct domain *dom;
    char *path; /* the disk or NIC asked about; NULL: all */
    int32_t n;
    uint32_t max;
};

static struct stat_call *
stat_call_new(struct call *call, struct domain *dom, const char *path)
{
    struct stat_call *sc = g_new0(struct stat_call, 1);
    sc->call = call;
    sc->dom = core_domain_ref(dom);
    sc->path = g_strdup(path);
    return sc;
}

static void
stat_call_free(struct stat_call *sc)
{
    core_domain_unref(sc->dom);
    g_free(sc->path);
    g_free(sc);
}

static gboolean
refuse(struct stat_call *sc, GError *error)
{
    dispatch_fail(sc->call, error);
    stat_call_free(sc);
    return FALSE;
}

/* The disk SC asked about (or the sum of all when the path is empty) */
static gboolean
pick_block(struct stat_call *sc, struct core_stats *st, struct core_block_stats *ret)
{
    memset(ret, 0, sizeof(*ret));
    GError *error = NULL;
    const struct disk_def *d = NULL;
    if (sc->path && *sc->path && !(d = core_stats_find_disk(sc->dom, sc->path, &error)))
        return refuse(sc, error);
    for (guint i = 0; i < st->blocks->len; i++) {
        const struct core_block_stats *b = st->blocks->pdata[i];
        if (d && g_strcmp0(b->target, d->target_dev) != 0)
            continue;
        if (d && !b->have_io) {
            err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                    "disk '%s' of domain '%s' has no I/O statistics (no image)", b->target,
                    sc->dom->def->name);
            return refuse(sc, error);
        }
        ret->rd_reqs += b->rd_reqs;
        ret->rd_bytes += b->rd_bytes;
        ret->rd_times += b->rd_times;
        ret->wr_reqs += b->wr_reqs;
        ret->wr_bytes += b->wr_bytes;
        ret->wr_times += b->wr_times;
        ret->fl_reqs += b->fl_reqs;
        ret->fl_times += b->fl_times;
    }
    return TRUE;
}

static void
on_block_stats(struct core_stats *st, gpointer data)
{
    g_autoptr(core_stats) stats = st;
    struct stat_call *sc = data;
    struct core_block_stats b;
    if (!pick_block(sc, stats, &b))
        return;
    g_autoptr(GByteArray) out = g_byte_array_sized_new(40);
    xdr_put_i64(out, b.rd_reqs);
    xdr_put_i64(out, b.rd_bytes);
    xdr_put_i64(out, b.wr_reqs);
    xdr_put_i64(out, b.wr_bytes);
    xdr_put_i64(out, -1); /* errors: QEMU does not count them */
    call_reply(sc->call, out);
    stat_call_free(sc);
}

static void
h_block_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct args_path_flags *a = ctx->args;
    if (!dispatch_require_running(call, ctx->dom))
        return;
    core_stats_collect(ctx->dom, CORE_STATS_BLOCK, on_block_stats,
                       stat_call_new(call, ctx->dom, a->path));
}

static void
on_block_stats_flags(struct core_stats *st, gpointer data)
{
    g_autoptr(core_stats) stats = st;
    struct stat_call *sc = data;
    struct core_block_stats b;
    if (!pick_block(sc, stats, &b))
        return;
    /* libvirt's order and names (VIR_DOMAIN_BLOCK_STATS_*) */
    const struct {
        const char *field;
        gint64 v;
    } params[BLOCK_STATS_PARAMS] = {
        {"wr_bytes", b.wr_bytes},        {"wr_operations", b.wr_reqs},
        {"rd_bytes", b.rd_bytes},        {"rd_operations", b.rd_reqs},
        {"flush_operations", b.fl_reqs}, {"wr_total_times", b.wr_times},
        {"rd_total_times", b.rd_times},  {"flush_total_times", b.fl_times},
    };
    guint n = MIN((guint)MAX(sc->n, 0), BLOCK_STATS_PARAMS);
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, n);
    for (guint i = 0; i < n; i++)
        dispatch_param_llong(out, params[i].field, params[i].v);
    xdr_put_i32(out, (int32_t)n);
    call_reply(sc->call, out);
    stat_call_free(sc);
}

static void
h_block_stats_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct args_path_flags *a = ctx->args;
    if (a->n < 0 || !dispatch_check_max(call, a->n, 16))
        return;
    if (a->n == 0) {
        /* the caller asks how many there are */
        g_autoptr(GByteArray) out = g_byte_array_new();
        xdr_put_u32(out, 0);
        xdr_put_i32(out, BLOCK_STATS_PARAMS);
        call_reply(call, out);
        return;
    }
    if (!dispatch_require_running(call, ctx->dom))
        return;
    struct stat_call *sc = stat_call_new(call, ctx->dom, a->path);
    sc->n = a->n;
    core_stats_collect(ctx->dom, CORE_STATS_BLOCK, on_block_stats_flags, sc);
}

static void
on_interface_stats(struct core_stats *st, gpointer data)
{
    g_autoptr(core_stats) stats = st;
    struct stat_call *sc = data;
    GError *error = NULL;
    const struct net_def *n = core_stats_find_net(sc->dom, sc->path, &error);
    if (!n) {
        refuse(sc, error);
        return;
    }
    char mac[MAC_STRING_LEN];
    mac_format(n->mac, mac);
    for (guint i = 0; i < stats->nets->len; i++) {
        const struct core_net_stats *s = stats->nets->pdata[i];
        if (!g_str_equal(s->mac, mac))
            continue;
        if (!s->have) {
            err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                    "interface '%s' of domain '%s' has no host device to count its traffic "
                    "(type user)",
                    sc->path, sc->dom->def->name);
            refuse(sc, error);
            return;
        }
        g_autoptr(GByteArray) out = g_byte_array_sized_new(64);
        const guint64 v[] = {s->n.rx_bytes, s->n.rx_packets, s->n.rx_errs, s->n.rx_drop,
                             s->n.tx_bytes, s->n.tx_packets, s->n.tx_errs, s->n.tx_drop};
        for (gsize k = 0; k < G_N_ELEMENTS(v); k++)
            xdr_put_i64(out, (gint64)v[k]);
        call_reply(sc->call, out);
        stat_call_free(sc);
        return;
    }
    err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "invalid path, '%s' is not a known interface",
            sc->path);
    refuse(sc, error);
}

static void
h_interface_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct args_path_flags *a = ctx->args;
    if (!dispatch_require_running(call, ctx->dom))
        return;
    core_stats_collect(ctx->dom, CORE_STATS_INTERFACE, on_interface_stats,
                       stat_call_new(call, ctx->dom, a->path));
}

static void
on_memory_stats(struct core_stats *st, gpointer data)
{
    g_autoptr(core_stats) stats = st;
    struct stat_call *sc = data;
    g_autoptr(GByteArray) list = g_byte_array_new();
    guint n = 0;
    for (int tag = 0; tag < CORE_MEM_LAST && n < sc->max; tag++) {
        if (stats->mem[tag] < 0)
            continue;
        xdr_put_i32(list, tag);
        xdr_put_u64(list, (guint64)stats->mem[tag]);
        n++;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, n);
    g_byte_array_append(out, list->data, list->len);
    call_reply(sc->call, out);
    stat_call_free(sc);
}

static void
h_memory_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    if (!dispatch_check_max(call, max->v, RPC_DOMAIN_MEMORY_STATS_MAX) ||
        !dispatch_require_running(call, ctx->dom))
        return;
    struct stat_call *sc = stat_call_new(call, ctx->dom, NULL);
    sc->max = (uint32_t)max->v;
    core_stats_collect(ctx->dom, CORE_STATS_BALLOON, on_memory_stats, sc);
}

/* The highest CPU number in a sysfs list ("0-3,5"), or -1 */
static int
cpu_list_max(const struct cpuset *set)
{
    int max = -1;
    for (int i = 0; i < CPUSET_MAX; i++)
        if (cpuset_has(set, (guint)i))
            max = i;
    return max;
}

static gboolean
read_cpu_list(const char *what, struct cpuset *ret, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/devices/system/cpu/%s", what);
    g_autofree char *text = NULL;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, NULL, &e)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "cannot read '%s': %s", path,
                e->message);
        g_error_free(e);
        return FALSE;
    }
    return cpuset_parse(g_strstrip(text), ret, error);
}

static void
h_get_cpu_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct args_cpu_stats *a = ctx->args;
    GError *error = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (a->start_cpu < -1) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "start CPU %d is not a CPU",
                a->start_cpu);
        dispatch_fail(call, error);
        return;
    }
    if (a->start_cpu >= 0 && a->nparams == 0) {
        /* asked how many host CPUs there are (ncpus 0), or how many figures each has: two
         * (cpu_time, vcpu_time) from the domain's cpuacct cgroup, none without one (virsh
         * then says "No per-CPU stats available" and shows the total) */
        struct cpuset present;
        int n = state_is_active(ctx->dom->state) && core_qos_has_percpu(ctx->dom) ? 2 : 0;
        if (a->ncpus == 0) {
            if (!read_cpu_list("present", &present, &error)) {
                dispatch_fail(call, error);
                return;
            }
            n = cpu_list_max(&present) + 1;
        }
        xdr_put_u32(out, 0);
        xdr_put_i32(out, n);
        call_reply(call, out);
        return;
    }
    if (a->start_cpu >= 0) {
        g_autoptr(GArray) total = NULL;
        g_autoptr(GArray) vcpus = NULL;
        if (!dispatch_require_running(call, ctx->dom))
            return;
        if (!core_domain_percpu_usage(ctx->dom, &total, &vcpus, &error)) {
            dispatch_fail(call, error);
            return;
        }
        /* a block of (at most two) figures per CPU, from START_CPU on */
        guint per = MIN(a->nparams, 2u);
        guint first = (guint)a->start_cpu;
        guint last = MIN(first + a->ncpus, total->len);
        if (a->ncpus > 128 || (gint64)per * a->ncpus > 16384) {
            err_set(&error, ERR_FROM_RPC, ERR_RPC, "too many CPU statistics asked for");
            dispatch_fail(call, error);
            return;
        }
        xdr_put_u32(out, first < last ? (last - first) * per : 0);
        for (guint c = first; c < last; c++) {
            dispatch_param_ullong(out, "cpu_time", g_array_index(total, guint64, c));
            if (per > 1)
                dispatch_param_ullong(out, "vcpu_time", g_array_index(vcpus, guint64, c));
        }
        xdr_put_i32(out, (int32_t)per);
        call_reply(call, out);
        return;
    }
    if (a->nparams == 0) {
        xdr_put_u32(out, 0);
        xdr_put_i32(out, CPU_STATS_TOTAL_PARAMS);
        call_reply(call, out);
        return;
    }
    if (!dispatch_require_running(call, ctx->dom))
        return;
    struct procstat ps = {0};
    if (!procstat_read(ctx->dom->pid, 0, &ps)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot read the CPU time of domain '%s'", ctx->dom->def->name);
        dispatch_fail(call, error);
        return;
    }
    guint n = MIN(a->nparams, CPU_STATS_TOTAL_PARAMS);
    const struct {
        const char *field;
        guint64 v;
    } params[CPU_STATS_TOTAL_PARAMS] = {
        {"cpu_time", ps.user_ns + ps.system_ns},
        {"user_time", ps.user_ns},
        {"system_time", ps.system_ns},
    };
    xdr_put_u32(out, n);
    for (guint i = 0; i < n; i++)
        dispatch_param_ullong(out, params[i].field, params[i].v);
    xdr_put_i32(out, (int32_t)n);
    call_reply(call, out);
}

/* --- disk errors --- */

#define DISK_ERRORS_MAX 256 /* REMOTE_DOMAIN_DISK_ERRORS_MAX */

struct disk_errors_req {
    struct call *call;
    guint max;
};

static void
on_disk_errors(GError *error, GPtrArray *errors, gpointer data)
{
    struct disk_errors_req *req = data;
    if (error) {
        call_fail(req->call, error);
    } else {
        g_autoptr(GByteArray) out = g_byte_array_new();
        guint n = req->max ? MIN(req->max, errors->len) : 0;
        xdr_put_u32(out, n);
        for (guint i = 0; i < n; i++) {
            const struct core_disk_error *e = errors->pdata[i];
            xdr_put_string(out, e->target);
            xdr_put_i32(out, e->code);
        }
        /* asked for none: how many there are */
        xdr_put_i32(out, (int32_t)(req->max ? n : errors->len));
        call_reply(req->call, out);
        g_ptr_array_unref(errors);
    }
    g_free(req);
}

static void
h_get_disk_errors(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    if (!dispatch_check_max(call, a->v, DISK_ERRORS_MAX))
        return;
    struct disk_errors_req *req = g_new0(struct disk_errors_req, 1);
    req->call = call;
    req->max = (guint)a->v;
    core_domain_disk_errors(ctx->dom, on_disk_errors, req);
}

/* --- vCPUs --- */

static void
on_vcpus(struct core_stats *st, gpointer data)
{
    g_autoptr(core_stats) stats = st;
    struct stat_call *sc = data;
    guint maxinfo = (guint)sc->n, maplen = sc->max;
    /* the online vCPUs with their numbers, as libvirt lists them (vCPU 2 may be offline
     * while vCPU 3 runs) */
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < stats->vcpus->len && ids->len < maxinfo; i++)
        if (g_array_index(stats->vcpus, struct core_vcpu_stats, i).state)
            g_array_append_val(ids, i);
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, ids->len);
    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);
        const struct core_vcpu_stats *v = &g_array_index(stats->vcpus, struct core_vcpu_stats, id);
        xdr_put_u32(out, id);
        xdr_put_i32(out, v->state);
        xdr_put_u64(out, v->time_ns);
        xdr_put_i32(out, v->cpu);
    }
    /* each vCPU's affinity: maplen bytes, host CPU k at bit k%8 of byte k/8 */
    g_autofree guint8 *maps = g_malloc0((gsize)maxinfo * maplen);
    for (guint i = 0; i < ids->len && maplen; i++) {
        guint id = g_array_index(ids, guint, i);
        const struct core_vcpu_stats *v = &g_array_index(stats->vcpus, struct core_vcpu_stats, id);
        cpu_set_t set;
        CPU_ZERO(&set);
        if (v->tid <= 0 || sched_getaffinity(v->tid, sizeof(set), &set) < 0)
            continue;
        for (guint k = 0; k < maplen * 8 && k < CPU_SETSIZE; k++)
            if (CPU_ISSET(k, &set))
                maps[i * maplen + k / 8] |= (guint8)(1u << (k % 8));
    }
    xdr_put_opaque(out, maps, (gsize)maxinfo * maplen);
    call_reply(sc->call, out);
    stat_call_free(sc);
}

static void
h_get_vcpus(struct call *call, const struct call_ctx *ctx)
{
    const struct args_two *a = ctx->args;
    GError *error = NULL;
    if (a->a < 0 || a->b < 0 || !dispatch_check_max(call, a->a, RPC_VCPUINFO_MAX))
        return;
    if ((gint64)a->a * a->b > RPC_CPUMAPS_MAX) {
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "maxinfo * maplen > REMOTE_CPUMAPS_MAX");
        dispatch_fail(call, error);
        return;
    }
    if (!state_is_active(ctx->dom->state)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "cannot retrieve vCPU information for inactive domain '%s'", ctx->dom->def->name);
        dispatch_fail(call, error);
        return;
    }
    struct stat_call *sc = stat_call_new(call, ctx->dom, NULL);
    sc->n = a->a;
    sc->max = (uint32_t)a->b;
    core_stats_collect(ctx->dom, CORE_STATS_VCPU, on_vcpus, sc);
}

/* The vCPU count FLAGS ask for: of the live or the persistent definition, current or
 * maximum. */
static gboolean
vcpu_count(struct domain *dom, uint32_t flags, int *ret, GError **error)
{
    gboolean active = state_is_active(dom->state);
    if ((flags & AFFECT_LIVE) && (flags & AFFECT_CONFIG)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive");
        return FALSE;
    }
    gboolean live = (flags & AFFECT_LIVE) || (!(flags & AFFECT_CONFIG) && active);
    if (live && !active) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        return FALSE;
    }
    const struct domain_def *def = live || !dom->new_def ? dom->def : dom->new_def;
    *ret = (int)((flags & VCPU_MAXIMUM) ? def->vcpus : def->vcpus_current);
    return TRUE;
}

static void
on_guest_vcpus(GError *error, int online, gpointer data)
{
    struct call *call = data;
    if (error)
        call_fail(call, error);
    else
        dispatch_reply_int(call, online);
}

static void
h_get_vcpus_flags(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (ctx->flags & VCPU_GUEST) {
        /* what the guest has online, from its agent */
        core_domain_guest_vcpus(ctx->dom, on_guest_vcpus, call);
        return;
    }
    int n = 0;
    if (!vcpu_count(ctx->dom, ctx->flags, &n, &error))
        dispatch_fail(call, error);
    else
        dispatch_reply_int(call, n);
}

static void
h_get_max_vcpus(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    int n = 0;
    if (!vcpu_count(ctx->dom, AFFECT_LIVE | VCPU_MAXIMUM, &n, &error))
        dispatch_fail(call, error);
    else
        dispatch_reply_int(call, n);
}

/* --- block info: from the image, running or not --- */

static void
on_block_info(struct core_stats *st, gpointer data)
{
    g_autoptr(core_stats) stats = st;
    struct stat_call *sc = data;
    GError *error = NULL;
    const struct disk_def *d = core_stats_find_disk(sc->dom, sc->path, &error);
    if (!d) {
        refuse(sc, error);
        return;
    }
    for (guint i = 0; i < stats->blocks->len; i++) {
        const struct core_block_stats *b = stats->blocks->pdata[i];
        if (!g_str_equal(b->target, d->target_dev))
            continue;
        if (!b->have_size) {
            err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                    "disk '%s' of domain '%s' has no image to read%s%s", b->target,
                    sc->dom->def->name, b->path ? ": cannot read " : "", b->path ? b->path : "");
            refuse(sc, error);
            return;
        }
        g_autoptr(GByteArray) out = g_byte_array_sized_new(24);
        xdr_put_u64(out, b->allocation);
        xdr_put_u64(out, b->capacity);
        xdr_put_u64(out, b->physical);
        call_reply(sc->call, out);
        stat_call_free(sc);
        return;
    }
    err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "invalid path: '%s'", sc->path);
    refuse(sc, error);
}

static void
h_get_block_info(struct call *call, const struct call_ctx *ctx)
{
    const struct args_path_flags *a = ctx->args;
    core_stats_collect(ctx->dom, CORE_STATS_BLOCK, on_block_info,
                       stat_call_new(call, ctx->dom, a->path));
}

/* --- the balloon's statistics period --- */

static void
h_set_memory_stats_period(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *period = ctx->args;
    core_domain_set_memory_stats_period(ctx->dom, period->v, ctx->flags, dispatch_done_empty, call);
}

/* --- every domain's statistics at once --- */

struct bulk {
    struct call *call;
    GPtrArray *doms;  /* struct domain * (references) */
    GPtrArray *stats; /* struct core_stats *, by DOMS' order; NULL until collected */
    guint pending;
    gboolean backing;
};

struct bulk_one {
    struct bulk *bulk;
    guint index;
};

static void
put_record(GByteArray *out, struct domain *dom, const struct core_stats *st)
{
    g_autoptr(GByteArray) p = g_byte_array_new();
    guint n = 0;
    if (st->groups & CORE_STATS_STATE) {
        dispatch_param_int(p, "state.state", st->state);
        dispatch_param_int(p, "state.reason", st->reason);
        n += 2;
    }
    if (st->active && (st->groups & CORE_STATS_CPU_TOTAL)) {
        dispatch_param_ullong(p, "cpu.time", st->cpu_time);
        dispatch_param_ullong(p, "cpu.user", st->cpu_user);
        dispatch_param_ullong(p, "cpu.system", st->cpu_system);
        n += 3;
    }
    if (st->groups & CORE_STATS_BALLOON) {
        dispatch_param_ullong(p, "balloon.current", st->balloon_current);
        dispatch_param_ullong(p, "balloon.maximum", st->balloon_maximum);
        n += 2;
        static const char *const names[CORE_MEM_LAST] = {
            [CORE_MEM_SWAP_IN] = "swap_in",
            [CORE_MEM_SWAP_OUT] = "swap_out",
            [CORE_MEM_MAJOR_FAULT] = "major_fault",
            [CORE_MEM_MINOR_FAULT] = "minor_fault",
            [CORE_MEM_UNUSED] = "unused",
            [CORE_MEM_AVAILABLE] = "available",
            [CORE_MEM_RSS] = "rss",
            [CORE_MEM_USABLE] = "usable",
            [CORE_MEM_LAST_UPDATE] = "last-update",
            [CORE_MEM_DISK_CACHES] = "disk_caches",
            [CORE_MEM_HUGETLB_PGALLOC] = "hugetlb_pgalloc",
            [CORE_MEM_HUGETLB_PGFAIL] = "hugetlb_pgfail",
        };
        for (int tag = 0; tag < CORE_MEM_LAST; tag++) {
            if (!names[tag] || st->mem[tag] < 0)
                continue;
            g_autofree char *field = g_strdup_printf("balloon.%s", names[tag]);
            dispatch_param_ullong(p, field, (guint64)st->mem[tag]);
            n++;
        }
    }
    if (st->groups & CORE_STATS_VCPU) {
        dispatch_param_uint(p, "vcpu.current", st->vcpu_current);
        dispatch_param_uint(p, "vcpu.maximum", st->vcpu_maximum);
        n += 2;
        for (guint i = 0; i < st->vcpus->len; i++) {
            const struct core_vcpu_stats *v = &g_array_index(st->vcpus, struct core_vcpu_stats, i);
            if (!v->state)
                continue;
            g_autofree char *state = g_strdup_printf("vcpu.%u.state", i);
            g_autofree char *time = g_strdup_printf("vcpu.%u.time", i);
            dispatch_param_int(p, state, v->state);
            dispatch_param_ullong(p, time, v->time_ns);
            n += 2;
        }
    }
    if (st->groups & CORE_STATS_INTERFACE) {
        dispatch_param_uint(p, "net.count", st->nets->len);
        n++;
        for (guint i = 0; i < st->nets->len; i++) {
            const struct core_net_stats *s = st->nets->pdata[i];
            g_autofree char *name = g_strdup_printf("net.%u.name", i);
            dispatch_param_string(p, name, s->name ? s->name : s->mac);
            n++;
            if (!s->have)
                continue;
            const struct {
                const char *what;
                guint64 v;
            } f[] = {{"rx.bytes", s->n.rx_bytes}, {"rx.pkts", s->n.rx_packets},
                     {"rx.errs", s->n.rx_errs},   {"rx.drop", s->n.rx_drop},
                     {"tx.bytes", s->n.tx_bytes}, {"tx.pkts", s->n.tx_packets},
                     {"tx.errs", s->n.tx_errs},   {"tx.drop", s->n.tx_drop}};
            for (gsize k = 0; k < G_N_ELEMENTS(f); k++) {
                g_autofree char *field = g_strdup_printf("net.%u.%s", i, f[k].what);
                dispatch_param_ullong(p, field, f[k].v);
                n++;
            }
        }
    }
    if (st->groups & CORE_STATS_BLOCK) {
        dispatch_param_uint(p, "block.count", st->blocks->len);
        n++;
        for (guint i = 0; i < st->blocks->len; i++) {
            const struct core_block_stats *b = st->blocks->pdata[i];
            g_autofree char *name = g_strdup_printf("block.%u.name", i);
            dispatch_param_string(p, name, b->target);
            n++;
            if (b->path) {
                g_autofree char *path = g_strdup_printf("block.%u.path", i);
                dispatch_param_string(p, path, b->path);
                n++;
            }
            if (b->have_io) {
                const struct {
                    const char *what;
                    gint64 v;
                } f[] = {{"rd.reqs", b->rd_reqs},   {"rd.bytes", b->rd_bytes},
                         {"rd.times", b->rd_times}, {"wr.reqs", b->wr_reqs},
                         {"wr.bytes", b->wr_bytes}, {"wr.times", b->wr_times},
                         {"fl.reqs", b->fl_reqs},   {"fl.times", b->fl_times}};
                for (gsize k = 0; k < G_N_ELEMENTS(f); k++) {
                    g_autofree char *field = g_strdup_printf("block.%u.%s", i, f[k].what);
                    dispatch_param_ullong(p, field, (guint64)f[k].v);
                    n++;
                }
            }
            if (b->have_size) {
                const struct {
                    const char *what;
                    guint64 v;
                } f[] = {{"allocation", b->allocation},
                         {"capacity", b->capacity},
                         {"physical", b->physical}};
                for (gsize k = 0; k < G_N_ELEMENTS(f); k++) {
                    g_autofree char *field = g_strdup_printf("block.%u.%s", i, f[k].what);
                    dispatch_param_ullong(p, field, f[k].v);
                    n++;
                }
            }
        }
    }
    if (st->groups & CORE_STATS_PERF) {
        for (int i = 0; i < PERF_EVENT_N; i++) {
            if (!st->perf_have[i])
                continue;
            g_autofree char *field = g_strdup_printf("perf.%s", perf_event_to_string(i));
            dispatch_param_ullong(p, field, st->perf[i]);
            n++;
        }
    }
    if ((st->groups & CORE_STATS_IOTHREAD) && st->iothreads->len) {
        dispatch_param_uint(p, "iothread.count", st->iothreads->len);
        n++;
        for (guint i = 0; i < st->iothreads->len; i++) {
            const struct core_iothread_stats *t =
                &g_array_index(st->iothreads, struct core_iothread_stats, i);
            if (!t->poll_valid)
                continue;
            g_autofree char *max = g_strdup_printf("iothread.%u.poll-max-ns", t->id);
            g_autofree char *grow = g_strdup_printf("iothread.%u.poll-grow", t->id);
            g_autofree char *shrink = g_strdup_printf("iothread.%u.poll-shrink", t->id);
            dispatch_param_ullong(p, max, t->poll_max_ns);
            dispatch_param_uint(p, grow, t->poll_grow);
            dispatch_param_uint(p, shrink, t->poll_shrink);
            n += 3;
        }
    }
    if ((st->groups & CORE_STATS_DIRTYRATE) && st->dirtyrate.have) {
        const struct core_dirtyrate_stats *d = &st->dirtyrate;
        dispatch_param_int(p, "dirtyrate.calc_status", d->status);
        dispatch_param_llong(p, "dirtyrate.calc_start_time", d->start_time);
        dispatch_param_int(p, "dirtyrate.calc_period", d->calc_period);
        dispatch_param_string(p, "dirtyrate.calc_mode", d->mode);
        n += 4;
        if (d->status == 2) {
            dispatch_param_llong(p, "dirtyrate.megabytes_per_second", d->mbps);
            n++;
        }
    }
    rpc_put_domain(out, dom->def->name, dom->def->uuid, dom->id);
    xdr_put_u32(out, n);
    g_byte_array_append(out, p->data, p->len);
}

static void
bulk_reply(struct bulk *bk)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, bk->doms->len);
    for (guint i = 0; i < bk->doms->len; i++)
        put_record(out, bk->doms->pdata[i], bk->stats->pdata[i]);
    call_reply(bk->call, out);
    g_ptr_array_unref(bk->doms);
    g_ptr_array_unref(bk->stats);
    g_free(bk);
}

static void
on_bulk_one(struct core_stats *st, gpointer data)
{
    struct bulk_one *one = data;
    struct bulk *bk = one->bulk;
    bk->stats->pdata[one->index] = st;
    g_free(one);
    if (--bk->pending == 0)
        bulk_reply(bk);
}

static void
h_get_all_domain_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct args_all_stats *a = ctx->args;
    struct core *core = dispatch_core(call);
    GError *error = NULL;
    uint32_t flags = ctx->flags;
    uint32_t groups = a->stats ? a->stats : CORE_STATS_ALL;
    if ((flags & STATS_ENFORCE) && (groups & ~(uint32_t)CORE_STATS_ALL)) {
        err_set(&error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                "statistics groups 0x%x are not supported; the supported ones are state, "
                "cpu-total, balloon, vcpu, interface, block, perf, iothread and dirtyrate",
                groups & ~(uint32_t)CORE_STATS_ALL);
        dispatch_fail(call, error);
        return;
    }
    if (a->doms->len && (flags & 0xff)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "filtering flags cannot go with a list of domains");
        dispatch_fail(call, error);
        return;
    }
    groups &= CORE_STATS_ALL;
    struct bulk *bk = g_new0(struct bulk, 1);
    bk->call = call;
    bk->doms = g_ptr_array_new_with_free_func((GDestroyNotify)core_domain_unref);
    if (a->doms->len) {
        for (guint i = 0; i < a->doms->len; i++) {
            const struct rpc_domain *d = a->doms->pdata[i];
            struct domain *dom = core_lookup_uuid(core, d->uuid, &error);
            if (!dom) {
                g_ptr_array_unref(bk->doms);
                g_free(bk);
                dispatch_fail(call, error);
                return;
            }
            g_ptr_array_add(bk->doms, core_domain_ref(dom));
        }
    } else {
        /* the filtering flags are virConnectListAllDomains' */
        g_autoptr(GPtrArray) all = core_list(core, flags & 0xff);
        for (guint i = 0; i < all->len; i++)
            g_ptr_array_add(bk->doms, core_domain_ref(all->pdata[i]));
    }
    bk->stats = g_ptr_array_new_with_free_func((GDestroyNotify)core_stats_free);
    g_ptr_array_set_size(bk->stats, bk->doms->len);
    bk->pending = 1;
    for (guint i = 0; i < bk->doms->len; i++) {
        struct bulk_one *one = g_new0(struct bulk_one, 1);
        one->bulk = bk;
        one->index = i;
        bk->pending++;
        core_stats_collect(bk->doms->pdata[i], groups, on_bulk_one, one);
    }
    if (--bk->pending == 0)
        bulk_reply(bk);
}

/* --- the host's CPUs (virNodeGetCPUMap: python's vcpus() asks it first) --- */

struct args_cpu_map {
    int32_t need_map, need_online;
};

static void
dec_cpu_map(struct xdr_reader *r, void *args)
{
    struct args_cpu_map *a = args;
    a->need_map = xdr_get_i32(r);
    a->need_online = xdr_get_i32(r);
}

static const struct args_type args_cpu_map = {sizeof(struct args_cpu_map), dec_cpu_map, NULL};

static void
h_node_get_cpu_map(struct call *call, const struct call_ctx *ctx)
{
    const struct args_cpu_map *a = ctx->args;
    struct cpuset present, online;
    GError *error = NULL;
    if (!read_cpu_list("present", &present, &error) || !read_cpu_list("online", &online, &error)) {
        dispatch_fail(call, error);
        return;
    }
    int ncpus = cpu_list_max(&present) + 1;
    guint n_online = 0;
    for (int i = 0; i < ncpus; i++)
        n_online += cpuset_has(&online, (guint)i);
    g_autoptr(GByteArray) out = g_byte_array_new();
    gsize maplen = a->need_map ? ((gsize)ncpus + 7) / 8 : 0;
    xdr_put_opaque(out, online.bits, maplen);
    xdr_put_u32(out, a->need_online ? n_online : 0);
    xdr_put_i32(out, ncpus);
    call_reply(call, out);
}

/* --- the host's CPU time and memory (virsh nodecpustats, nodememstats, freecell) --- */

struct args_three {
    int32_t a, b;
};

static void
dec_three(struct xdr_reader *r, void *args)
{
    struct args_three *t = args;
    t->a = xdr_get_i32(r);
    t->b = xdr_get_i32(r);
}

static const struct args_type args_three = {sizeof(struct args_three), dec_three, NULL};

/* The numbers after NAME on its line of TEXT ("cpu3 1 2 3 …", "MemFree:  123 kB"); NULL when
 * there is no such line. */
static GArray *
numbers_after(const char *text, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
        if (!f[0] || !g_str_equal(f[0], name))
            continue;
        GArray *out = g_array_new(FALSE, FALSE, sizeof(guint64));
        for (int k = 1; f[k]; k++) {
            guint64 v;
            if (*f[k] && g_ascii_string_to_unsigned(f[k], 10, 0, G_MAXUINT64, &v, NULL))
                g_array_append_val(out, v);
        }
        return out;
    }
    return NULL;
}

static void
reply_pairs(struct call *call, const char *const *names, const guint64 *values, guint n,
            int32_t asked)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    if (asked == 0) {
        xdr_put_u32(out, 0);
        xdr_put_i32(out, (int32_t)n);
    } else {
        guint k = MIN(n, (guint)asked);
        xdr_put_u32(out, k);
        for (guint i = 0; i < k; i++) {
            xdr_put_string(out, names[i]);
            xdr_put_u64(out, values[i]);
        }
        xdr_put_i32(out, (int32_t)k);
    }
    call_reply(call, out);
}

static gboolean
read_proc(const char *path, char **ret, GError **error)
{
    GError *e = NULL;
    if (g_file_get_contents(path, ret, NULL, &e))
        return TRUE;
    err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "cannot read '%s': %s", path, e->message);
    g_error_free(e);
    return FALSE;
}

static void
h_node_get_cpu_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct args_three *a = ctx->args; /* cpuNum, nparams */
    static const char *const names[] = {"kernel", "user", "idle", "iowait"};
    GError *error = NULL;
    g_autofree char *text = NULL;
    if (a->b < 0 || !dispatch_check_max(call, a->b, 16))
        return;
    if (a->b == 0) {
        reply_pairs(call, names, NULL, G_N_ELEMENTS(names), 0);
        return;
    }
    if (a->a < -1 || !read_proc("/proc/stat", &text, &error)) {
        if (!error)
            err_set(&error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid cpuNum %d", a->a);
        dispatch_fail(call, error);
        return;
    }
    g_autofree char *line = a->a < 0 ? g_strdup("cpu") : g_strdup_printf("cpu%d", a->a);
    g_autoptr(GArray) v = numbers_after(text, line);
    if (!v || v->len < 7) {
        err_set(&error, ERR_FROM_NONE, ERR_INVALID_ARG, "no CPU %d on this host", a->a);
        dispatch_fail(call, error);
        return;
    }
    /* user nice system idle iowait irq softirq, in clock ticks; libvirt's sums */
    guint64 hz = sysconf(_SC_CLK_TCK) > 0 ? (guint64)sysconf(_SC_CLK_TCK) : 100;
    guint64 tick = 1000000000ULL / hz;
#define V(i) g_array_index(v, guint64, i)
    const guint64 values[] = {(V(2) + V(5) + V(6)) * tick, (V(0) + V(1)) * tick, V(3) * tick,
                              V(4) * tick};
#undef V
    reply_pairs(call, names, values, G_N_ELEMENTS(names), a->b);
}

static void
h_node_get_memory_stats(struct call *call, const struct call_ctx *ctx)
{
    const struct args_three *a = ctx->args; /* nparams, cellNum */
    static const char *const names[] = {"total", "free", "buffers", "cached"};
    GError *error = NULL;
    g_autofree char *text = NULL;
    if (a->a < 0 || !dispatch_check_max(call, a->a, 16))
        return;
    guint n = a->b < 0 ? 4 : 2; /* a NUMA cell has no buffers or cache of its own */
    if (a->a == 0) {
        reply_pairs(call, names, NULL, n, 0);
        return;
    }
    g_autofree char *path = a->b < 0
                                ? g_strdup("/proc/meminfo")
                                : g_strdup_printf("/sys/devices/system/node/node%d/meminfo", a->b);
    if (a->b < -1 || !read_proc(path, &text, &error)) {
        if (!error)
            err_set(&error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid cell %d", a->b);
        dispatch_fail(call, error);
        return;
    }
    /* "Node 0 MemTotal: N kB" in a cell's file: the name is its third word */
    const char *keys[] = {"MemTotal:", "MemFree:", "Buffers:", "Cached:"};
    guint64 values[4] = {0};
    for (guint i = 0; i < n; i++) {
        g_autoptr(GArray) v = NULL;
        if (a->b < 0) {
            v = numbers_after(text, keys[i]);
        } else {
            g_autofree char *prefix = g_strdup_printf("Node %d %s", a->b, keys[i]);
            const char *at = strstr(text, prefix);
            if (at)
                v = numbers_after(at + strlen(prefix) - strlen(keys[i]), keys[i]);
        }
        if (v && v->len)
            values[i] = g_array_index(v, guint64, 0);
    }
    reply_pairs(call, names, values, n, a->a);
}

/* MemFree of the whole host, or of each NUMA cell from START (at most MAX), in bytes */
static void
h_node_get_cells_free_memory(struct call *call, const struct call_ctx *ctx)
{
    const struct args_three *a = ctx->args; /* startCell, maxcells */
    GError *error = NULL;
    if (a->a < 0 || a->b <= 0 || !dispatch_check_max(call, a->b, 1024)) {
        if (!error)
            err_set(&error, ERR_FROM_NONE, ERR_INVALID_ARG, "invalid cells %d..%d", a->a,
                    a->a + a->b);
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) cells = g_byte_array_new();
    guint n = 0;
    for (int cell = a->a; cell < a->a + a->b; cell++) {
        g_autofree char *path = g_strdup_printf("/sys/devices/system/node/node%d/meminfo", cell);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL)) {
            if (cell == 0 && g_file_get_contents("/proc/meminfo", &text, NULL, NULL)) {
                g_autoptr(GArray) v = numbers_after(text, "MemFree:");
                xdr_put_u64(cells, v && v->len ? g_array_index(v, guint64, 0) * 1024 : 0);
                n++;
            }
            break;
        }
        g_autofree char *prefix = g_strdup_printf("Node %d MemFree:", cell);
        const char *at = strstr(text, prefix);
        g_autoptr(GArray) v = at ? numbers_after(at + strlen(prefix) - 8, "MemFree:") : NULL;
        xdr_put_u64(cells, v && v->len ? g_array_index(v, guint64, 0) * 1024 : 0);
        n++;
    }
    if (!n) {
        err_set(&error, ERR_FROM_NONE, ERR_INVALID_ARG, "no NUMA cell %d on this host", a->a);
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, n);
    g_byte_array_append(out, cells->data, cells->len);
    call_reply(call, out);
}

static void
h_start_dirty_rate_calc(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    core_domain_dirty_rate_calc(ctx->dom, a->v, ctx->flags, dispatch_done_empty, call);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
#define N HANDLE_NONE
const struct proc_def stats_procs[] = {
    {R, PROC_DOMAIN_START_DIRTY_RATE_CALC, D, &args_int, TRUE, 3u /* the modes */,
     h_start_dirty_rate_calc},
    {R, PROC_DOMAIN_BLOCK_STATS, D, &args_path, FALSE, 0, h_block_stats},
    {R, PROC_DOMAIN_BLOCK_STATS_FLAGS, D, &args_path_n, TRUE, PARAM_STRING_OKAY,
     h_block_stats_flags},
    {R, PROC_DOMAIN_INTERFACE_STATS, D, &args_path, FALSE, 0, h_interface_stats},
    {R, PROC_DOMAIN_MEMORY_STATS, D, &args_int, TRUE, 0, h_memory_stats},
    {R, PROC_DOMAIN_GET_CPU_STATS, D, &args_cpu_stats, TRUE, PARAM_STRING_OKAY, h_get_cpu_stats},
    {R, PROC_DOMAIN_GET_VCPUS, D, &args_two, FALSE, 0, h_get_vcpus},
    {R, PROC_DOMAIN_GET_DISK_ERRORS, D, &args_int, TRUE, 0, h_get_disk_errors},
    {R, PROC_DOMAIN_GET_VCPUS_FLAGS, D, NULL, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_GUEST | VCPU_HOTPLUGGABLE,
     h_get_vcpus_flags},
    {R, PROC_DOMAIN_GET_MAX_VCPUS, D, NULL, FALSE, 0, h_get_max_vcpus},
    {R, PROC_DOMAIN_GET_BLOCK_INFO, D, &args_path, TRUE, 0, h_get_block_info},
    {R, PROC_DOMAIN_SET_MEMORY_STATS_PERIOD, D, &args_int, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_memory_stats_period},
    {R, PROC_NODE_GET_CPU_MAP, N, &args_cpu_map, TRUE, 0, h_node_get_cpu_map},
    {R, PROC_NODE_GET_CPU_STATS, N, &args_three, TRUE, 0, h_node_get_cpu_stats},
    {R, PROC_NODE_GET_MEMORY_STATS, N, &args_three, TRUE, 0, h_node_get_memory_stats},
    {R, PROC_NODE_GET_CELLS_FREE_MEMORY, N, &args_three, FALSE, 0, h_node_get_cells_free_memory},
    {R, PROC_CONNECT_GET_ALL_DOMAIN_STATS, N, &args_all_stats, TRUE,
     0xffu | STATS_NOWAIT | STATS_BACKING | STATS_ENFORCE, h_get_all_domain_stats},
};
#undef R
#undef D
#undef N
const gsize stats_procs_count = G_N_ELEMENTS(stats_procs);
