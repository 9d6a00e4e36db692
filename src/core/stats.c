/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats: a domain's statistics in one go; prefix core_stats_. */
#include "core/stats.h"

#include <string.h>
#include <sys/stat.h>

#include "core/pin.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "storage/dir.h"
#include "util/err.h"
#include "util/netaddr.h"

static void
block_free(struct core_block_stats *b)
{
    g_free(b->target);
    g_free(b->path);
    g_free(b);
}

static void
net_free(struct core_net_stats *n)
{
    g_free(n->name);
    g_free(n);
}

void
core_stats_free(struct core_stats *stats)
{
    if (!stats)
        return;
    g_array_unref(stats->vcpus);
    g_ptr_array_unref(stats->nets);
    g_ptr_array_unref(stats->blocks);
    g_array_unref(stats->iothreads);
    g_free(stats);
}

struct disk_def *
core_stats_find_disk(struct domain *dom, const char *path, GError **error)
{
    for (guint i = 0; path && i < dom->def->disks->len; i++) {
        struct disk_def *d = dom->def->disks->pdata[i];
        if (g_strcmp0(d->target_dev, path) == 0 || g_strcmp0(d->source, path) == 0)
            return d;
    }
    err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
            "invalid path: '%s' is not a disk of domain '%s'", path ? path : "", dom->def->name);
    return NULL;
}

struct net_def *
core_stats_find_net(struct domain *dom, const char *device, GError **error)
{
    for (guint i = 0; device && i < dom->def->nets->len; i++) {
        struct net_def *n = dom->def->nets->pdata[i];
        char mac[MAC_STRING_LEN];
        if (g_strcmp0(n->target_dev, device) == 0 ||
            g_ascii_strcasecmp(mac_format(n->mac, mac), device) == 0)
            return n;
    }
    err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
            "invalid path, '%s' is not a known interface of domain '%s'", device ? device : "",
            dom->def->name);
    return NULL;
}

/* --- gathering --- */

struct collect {
    struct domain *dom;
    struct core_stats *stats;
    unsigned groups;
    guint pending;
    JsonNode *blockstats, *cpus, *balloon, *guest_mem, *iothreads, *dirtyrate;
    core_stats_fn done;
    gpointer data;
};

static void
put_block_io(struct core_block_stats *b, JsonObject *s)
{
    b->have_io = TRUE;
    b->rd_reqs = qemu_json_int_or(s, "rd_operations", 0);
    b->rd_bytes = qemu_json_int_or(s, "rd_bytes", 0);
    b->rd_times = qemu_json_int_or(s, "rd_total_time_ns", 0);
    b->wr_reqs = qemu_json_int_or(s, "wr_operations", 0);
    b->wr_bytes = qemu_json_int_or(s, "wr_bytes", 0);
    b->wr_times = qemu_json_int_or(s, "wr_total_time_ns", 0);
    b->fl_reqs = qemu_json_int_or(s, "flush_operations", 0);
    b->fl_times = qemu_json_int_or(s, "flush_total_time_ns", 0);
}

/* query-blockstats names a disk by its top node or its device's QOM path */
static JsonObject *
find_blockstats(JsonArray *all, const struct disk_def *d)
{
    g_autofree char *node = d->source_index ? qemu_device_node_format(d->source_index) : NULL;
    g_autofree char *qdev = d->info.alias ? g_strdup_printf("/%s/", d->info.alias) : NULL;
    g_autofree char *qdev_end = d->info.alias ? g_strdup_printf("/%s", d->info.alias) : NULL;
    for (guint i = 0; all && i < json_array_get_length(all); i++) {
        JsonObject *o = qemu_json_element_object(all, i);
        const char *n = o ? qemu_json_string(o, "node-name") : NULL;
        const char *q = o ? qemu_json_string(o, "qdev") : NULL;
        if ((node && g_strcmp0(n, node) == 0) ||
            (q && qdev && (strstr(q, qdev) || g_str_has_suffix(q, qdev_end))))
            return qemu_json_object(o, "stats");
    }
    return NULL;
}

static void
gather_blocks(struct collect *c)
{
    struct domain *dom = c->dom;
    JsonArray *all = c->blockstats ? qemu_json_node_array(c->blockstats) : NULL;
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        struct core_block_stats *b = g_new0(struct core_block_stats, 1);
        b->target = g_strdup(d->target_dev);
        b->path = g_strdup(d->source);
        JsonObject *io = find_blockstats(all, d);
        if (io)
            put_block_io(b, io);
        struct storage_vol_info info = {0};
        if (d->source && storage_dir_vol_info(d->source, &info, NULL)) {
            b->have_size = TRUE;
            b->capacity = info.capacity;
            b->allocation = info.allocation;
            b->physical = info.physical;
        }
        storage_vol_info_clear(&info);
        g_ptr_array_add(c->stats->blocks, b);
    }
}

static void
gather_nets(struct collect *c)
{
    struct domain *dom = c->dom;
    for (guint i = 0; i < dom->def->nets->len; i++) {
        const struct net_def *n = dom->def->nets->pdata[i];
        struct core_net_stats *s = g_new0(struct core_net_stats, 1);
        s->name = g_strdup(n->target_dev);
        mac_format(n->mac, s->mac);
        struct procstat_net host;
        if (c->stats->active && n->target_dev && procstat_net(n->target_dev, &host, NULL)) {
            /* a tap: what the host receives the guest sent */
            s->have = TRUE;
            s->n.rx_bytes = host.tx_bytes;
            s->n.rx_packets = host.tx_packets;
            s->n.rx_errs = host.tx_errs;
            s->n.rx_drop = host.tx_drop;
            s->n.tx_bytes = host.rx_bytes;
            s->n.tx_packets = host.rx_packets;
            s->n.tx_errs = host.rx_errs;
            s->n.tx_drop = host.rx_drop;
        }
        g_ptr_array_add(c->stats->nets, s);
    }
}

/* The vCPU threads, by vCPU number: from query-cpus-fast once, then kept until a vCPU is
 * plugged or unplugged or QEMU stops. */
static void
learn_vcpu_threads(struct collect *c)
{
    if (c->cpus)
        core_vcpu_threads_learn(c->dom, c->cpus);
}

static void
gather_vcpus(struct collect *c)
{
    struct domain *dom = c->dom;
    learn_vcpu_threads(c);
    for (guint index = 0; dom->vcpu_tids && index < dom->vcpu_tids->len; index++) {
        int tid = g_array_index(dom->vcpu_tids, int, index);
        if (tid <= 0)
            continue;
        struct core_vcpu_stats v = {.state = 1, .cpu = -1, .tid = tid};
        struct procstat ps;
        if (tid > 0 && procstat_read(dom->pid, (pid_t)tid, &ps)) {
            v.time_ns = ps.user_ns + ps.system_ns;
            v.cpu = ps.processor;
        }
        if ((guint)index >= c->stats->vcpus->len)
            g_array_set_size(c->stats->vcpus, (guint)index + 1);
        g_array_index(c->stats->vcpus, struct core_vcpu_stats, index) = v;
    }
}

/* The balloon's guest statistics (qom-get guest-stats), as libvirt names them: KiB */
static void
gather_guest_memory(struct collect *c)
{
    JsonObject *o = c->guest_mem ? qemu_json_node_object(c->guest_mem) : NULL;
    JsonObject *s = o ? qemu_json_object(o, "stats") : NULL;
    static const struct {
        const char *name;
        int tag;
        gboolean bytes;
    } map[] = {
        {"stat-swap-in", CORE_MEM_SWAP_IN, TRUE},
        {"stat-swap-out", CORE_MEM_SWAP_OUT, TRUE},
        {"stat-major-faults", CORE_MEM_MAJOR_FAULT, FALSE},
        {"stat-minor-faults", CORE_MEM_MINOR_FAULT, FALSE},
        {"stat-free-memory", CORE_MEM_UNUSED, TRUE},
        {"stat-total-memory", CORE_MEM_AVAILABLE, TRUE},
        {"stat-available-memory", CORE_MEM_USABLE, TRUE},
        {"stat-disk-caches", CORE_MEM_DISK_CACHES, TRUE},
        {"stat-htlb-pgalloc", CORE_MEM_HUGETLB_PGALLOC, FALSE},
        {"stat-htlb-pgfail", CORE_MEM_HUGETLB_PGFAIL, FALSE},
    };
    for (gsize i = 0; s && i < G_N_ELEMENTS(map); i++) {
        gint64 v = qemu_json_int_or(s, map[i].name, -1);
        if (v >= 0)
            c->stats->mem[map[i].tag] = map[i].bytes ? v / 1024 : v;
    }
    gint64 last = o ? qemu_json_int_or(o, "last-update", 0) : 0;
    if (last > 0)
        c->stats->mem[CORE_MEM_LAST_UPDATE] = last;
}

/* query-iothreads: "iothreadN" and its polling */
static void
gather_iothreads(struct collect *c)
{
    JsonArray *all = c->iothreads ? qemu_json_node_array(c->iothreads) : NULL;
    for (guint i = 0; all && i < json_array_get_length(all); i++) {
        JsonObject *o = qemu_json_element_object(all, i);
        const char *id = o ? qemu_json_string(o, "id") : NULL;
        guint64 n = 0;
        if (!id || !g_str_has_prefix(id, "iothread") ||
            !g_ascii_string_to_unsigned(id + strlen("iothread"), 10, 1, G_MAXUINT32, &n, NULL))
            continue;
        struct core_iothread_stats t = {.id = (unsigned)n};
        gint64 max_ns = 0, grow = 0, shrink = 0;
        t.poll_valid = qemu_json_int(o, "poll-max-ns", &max_ns) &&
                       qemu_json_int(o, "poll-grow", &grow) &&
                       qemu_json_int(o, "poll-shrink", &shrink);
        t.poll_max_ns = (guint64)MAX(max_ns, 0);
        t.poll_grow = (unsigned)CLAMP(grow, 0, G_MAXUINT32);
        t.poll_shrink = (unsigned)CLAMP(shrink, 0, G_MAXUINT32);
        g_array_append_val(c->stats->iothreads, t);
    }
}

/* query-dirty-rate */
static void
gather_dirtyrate(struct collect *c)
{
    static const char *const states[] = {"unstarted", "measuring", "measured"};
    struct domain *dom = c->dom;
    /* an answer is kept unless a calculation is still running (QEMU's query costs as much as
     * every other query of a bulk call together) */
    if (c->dirtyrate) {
        JsonObject *fresh = qemu_json_node_object(c->dirtyrate);
        const char *st = fresh ? qemu_json_string(fresh, "status") : NULL;
        g_clear_pointer(&dom->dirtyrate, json_node_unref);
        if (st && !g_str_equal(st, "measuring"))
            dom->dirtyrate = json_node_ref(c->dirtyrate);
    }
    JsonNode *node = c->dirtyrate ? c->dirtyrate : dom->dirtyrate;
    JsonObject *o = node && c->stats->active ? qemu_json_node_object(node) : NULL;
    const char *status = o ? qemu_json_string(o, "status") : NULL;
    struct core_dirtyrate_stats *d = &c->stats->dirtyrate;
    for (int i = 0; status && i < 3; i++) {
        if (g_str_equal(status, states[i])) {
            d->have = TRUE;
            d->status = i;
        }
    }
    if (!d->have)
        return;
    d->start_time = qemu_json_int_or(o, "start-time", 0);
    d->calc_period = (int)qemu_json_int_or(o, "calc-time", 0);
    const char *mode = qemu_json_string(o, "mode");
    g_strlcpy(d->mode, mode ? mode : "page-sampling", sizeof(d->mode));
    d->mbps = qemu_json_int_or(o, "dirty-rate", 0);
}

static void
finish(struct collect *c)
{
    struct domain *dom = c->dom;
    struct core_stats *st = c->stats;
    if (st->active && (c->groups & CORE_STATS_CPU_TOTAL) && dom->pid > 0) {
        struct procstat ps;
        if (procstat_read(dom->pid, 0, &ps)) {
            st->cpu_user = ps.user_ns;
            st->cpu_system = ps.system_ns;
            st->cpu_time = ps.user_ns + ps.system_ns;
            st->groups |= CORE_STATS_CPU_TOTAL;
        }
    }
    if (c->groups & CORE_STATS_BALLOON) {
        st->groups |= CORE_STATS_BALLOON;
        st->balloon_maximum = dom->def->memory_kib;
        st->balloon_current = dom->def->current_memory_kib;
        JsonObject *b = c->balloon ? qemu_json_node_object(c->balloon) : NULL;
        gint64 actual = b ? qemu_json_int_or(b, "actual", -1) : -1;
        if (actual > 0)
            dom->balloon_kib = (guint64)actual / 1024;
        if (st->active && dom->balloon_kib)
            st->balloon_current = dom->balloon_kib;
        st->mem[CORE_MEM_ACTUAL_BALLOON] = (gint64)st->balloon_current;
        if (st->active && dom->pid > 0)
            st->mem[CORE_MEM_RSS] = (gint64)procstat_rss_kib(dom->pid);
        gather_guest_memory(c);
    }
    if (c->groups & CORE_STATS_VCPU) {
        st->groups |= CORE_STATS_VCPU;
        st->vcpu_maximum = dom->def->vcpus;
        st->vcpu_current = dom->def->vcpus_current;
        if (st->active)
            gather_vcpus(c);
    }
    if (c->groups & CORE_STATS_INTERFACE) {
        st->groups |= CORE_STATS_INTERFACE;
        gather_nets(c);
    }
    if (c->groups & CORE_STATS_BLOCK) {
        st->groups |= CORE_STATS_BLOCK;
        gather_blocks(c);
    }
    if (c->groups & CORE_STATS_IOTHREAD) {
        st->groups |= CORE_STATS_IOTHREAD;
        gather_iothreads(c);
    }
    if (c->groups & CORE_STATS_DIRTYRATE) {
        st->groups |= CORE_STATS_DIRTYRATE;
        gather_dirtyrate(c);
    }
    if (c->groups & CORE_STATS_PERF) {
        st->groups |= CORE_STATS_PERF;
        if (st->active)
            core_perf_read(dom, st->perf, st->perf_have);
    }
    g_clear_pointer(&c->blockstats, json_node_unref);
    g_clear_pointer(&c->cpus, json_node_unref);
    g_clear_pointer(&c->balloon, json_node_unref);
    g_clear_pointer(&c->guest_mem, json_node_unref);
    g_clear_pointer(&c->iothreads, json_node_unref);
    g_clear_pointer(&c->dirtyrate, json_node_unref);
    c->done(g_steal_pointer(&c->stats), c->data);
    core_domain_unref(c->dom);
    g_free(c);
}

struct reply_slot {
    struct collect *c;
    JsonNode **slot;
};

/* A reply of the pipelined queries; an error leaves that part out (a query, not a change) */
static void
on_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct reply_slot *r = data;
    struct collect *c = r->c;
    if (!error && result)
        *r->slot = json_node_copy(result);
    g_free(r);
    if (--c->pending == 0)
        finish(c);
}

static void
ask(struct collect *c, const char *cmd, JsonObject *args, JsonNode **slot)
{
    struct reply_slot *r = g_new0(struct reply_slot, 1);
    r->c = c;
    r->slot = slot;
    c->pending++;
    qmp_command(c->dom->mon, cmd, args, on_reply, r);
}

void
core_stats_collect(struct domain *dom, unsigned groups, core_stats_fn done, gpointer data)
{
    struct core_stats *st = g_new0(struct core_stats, 1);
    st->vcpus = g_array_new(FALSE, TRUE, sizeof(struct core_vcpu_stats));
    st->nets = g_ptr_array_new_with_free_func((GDestroyNotify)net_free);
    st->blocks = g_ptr_array_new_with_free_func((GDestroyNotify)block_free);
    st->iothreads = g_array_new(FALSE, TRUE, sizeof(struct core_iothread_stats));
    for (int i = 0; i < CORE_MEM_LAST; i++)
        st->mem[i] = -1;
    st->active = state_is_active(dom->state) && dom->mon;
    st->state = dom->state;
    st->reason = dom->reason;
    if (groups & CORE_STATS_STATE)
        st->groups |= CORE_STATS_STATE;
    struct collect *c = g_new0(struct collect, 1);
    c->dom = core_domain_ref(dom);
    c->stats = st;
    c->groups = groups;
    c->done = done;
    c->data = data;
    c->pending = 1; /* until every query is sent */
    if (st->active) {
        if (groups & CORE_STATS_BLOCK)
            ask(c, "query-blockstats", NULL, &c->blockstats);
        /* what does not change between calls is asked once: the vCPU threads, the
         * balloon's size (then BALLOON_CHANGE keeps it) */
        if ((groups & CORE_STATS_VCPU) && !dom->vcpu_tids)
            ask(c, "query-cpus-fast", NULL, &c->cpus);
        if ((groups & CORE_STATS_BALLOON) && domain_def_has_balloon(dom->def) && !dom->balloon_kib)
            ask(c, "query-balloon", NULL, &c->balloon);
        if ((groups & CORE_STATS_BALLOON) && domain_def_has_balloon(dom->def) &&
            dom->balloon_period > 0) {
            JsonObject *args = json_object_new();
            g_autofree char *path =
                g_strdup_printf("/machine/peripheral/%s", dom->def->memballoon->info.alias);
            json_object_set_string_member(args, "path", path);
            json_object_set_string_member(args, "property", "guest-stats");
            ask(c, "qom-get", args, &c->guest_mem);
        }
        if ((groups & CORE_STATS_IOTHREAD) && dom->def->iothreads->len)
            ask(c, "query-iothreads", NULL, &c->iothreads);
        if ((groups & CORE_STATS_DIRTYRATE) && !dom->dirtyrate)
            ask(c, "query-dirty-rate", NULL, &c->dirtyrate);
    }
    if (--c->pending == 0)
        finish(c);
}

/* --- disk errors (virDomainGetDiskErrors) --- */

struct disk_errors_call {
    struct domain *dom;
    core_disk_errors_fn done;
    gpointer data;
};

/* query-block's io-status as libvirt's virDomainDiskErrorCode */
static int
io_status_code(const char *status)
{
    if (!status || g_str_equal(status, "ok"))
        return 0;                                  /* NONE */
    return g_str_equal(status, "nospace") ? 2 : 1; /* NO_SPACE, UNSPEC */
}

static void
on_disk_errors(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct disk_errors_call *dc = data;
    JsonArray *all = error ? NULL : qemu_json_node_array(result);
    GPtrArray *out = NULL;
    GError *e = NULL;
    if (!all) {
        e = error ? g_error_copy(error) : NULL;
        if (!e)
            err_set(&e, ERR_FROM_QEMU, ERR_INTERNAL_ERROR, "unexpected query-block reply");
    } else {
        out = g_ptr_array_new_with_free_func(g_free);
        const struct domain_def *def = dc->dom->def;
        for (guint i = 0; i < def->disks->len; i++) {
            const struct disk_def *d = def->disks->pdata[i];
            g_autofree char *qdev = d->info.alias ? g_strdup_printf("/%s/", d->info.alias) : NULL;
            g_autofree char *end = d->info.alias ? g_strdup_printf("/%s", d->info.alias) : NULL;
            for (guint j = 0; qdev && j < json_array_get_length(all); j++) {
                JsonObject *o = qemu_json_element_object(all, j);
                const char *q = o ? qemu_json_string(o, "qdev") : NULL;
                if (!q || (!strstr(q, qdev) && !g_str_has_suffix(q, end)))
                    continue;
                int code = io_status_code(qemu_json_string(o, "io-status"));
                if (code) {
                    struct core_disk_error *err = g_new0(struct core_disk_error, 1);
                    g_strlcpy(err->target, d->target_dev, sizeof(err->target));
                    err->code = code;
                    g_ptr_array_add(out, err);
                }
            }
        }
    }
    dc->done(e, out, dc->data);
    if (e)
        g_error_free(e);
    core_domain_unref(dc->dom);
    g_free(dc);
}

void
core_domain_disk_errors(struct domain *dom, core_disk_errors_fn done, gpointer data)
{
    GError *error = NULL;
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    struct disk_errors_call *dc = g_new0(struct disk_errors_call, 1);
    dc->dom = core_domain_ref(dom);
    dc->done = done;
    dc->data = data;
    qmp_command(dom->mon, "query-block", NULL, on_disk_errors, dc);
}

/* --- domdirtyrate-calc: calc-dirty-rate, as a job --- */

struct dirtyrate_op {
    struct domain *dom; /* a reference */
    int seconds;
    const char *mode; /* NULL: page sampling (QEMU's default) */
};

static void
dirtyrate_op_free(gpointer data)
{
    struct dirtyrate_op *op = data;
    core_domain_unref(op->dom);
    g_free(op);
}

static void
on_calc(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct dirtyrate_op *op = job->data;
    /* QEMU answers in order: an answer kept from a query sent before this command is stale */
    if (op && op->dom)
        g_clear_pointer(&op->dom->dirtyrate, json_node_unref);
    if (!job->finished) {
        if (error)
            job_fail(job, g_error_copy(error));
        else
            job_next(job);
    }
    job_unref(job);
}

static void
calc_step(struct job *job)
{
    struct dirtyrate_op *op = job->data;
    if (!op->dom->mon || !state_is_active(op->dom->state)) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                op->dom->def->name);
        job_fail(job, e);
        return;
    }
    /* the kept answer is stale from now on */
    g_clear_pointer(&op->dom->dirtyrate, json_node_unref);
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "calc-time", op->seconds);
    if (op->mode)
        json_object_set_string_member(args, "mode", op->mode);
    qmp_command(op->dom->mon, "calc-dirty-rate", args, on_calc, job_ref(job));
}

static void
calc_abort(struct job *job)
{
    struct dirtyrate_op *op = job->data;
    GError *e = NULL;
    err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
            op->dom->def->name);
    job_fail(job, e);
}

static const struct job_step calc_steps[] = {
    {"dirtyrate", calc_step},
    {NULL, NULL},
};

static const struct job_pipeline calc_pipeline = {
    .steps = calc_steps,
    .abort = calc_abort,
};

void
core_domain_dirty_rate_calc(struct domain *dom, int seconds, unsigned flags, core_done_fn done,
                            gpointer data)
{
    GError *error = NULL;
    if (seconds < 1 || seconds > 60)
        err_set(&error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "seconds=%d is invalid, please choose value within [1, 60].", seconds);
    else if (flags & CORE_DIRTYRATE_RING)
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "dirty-ring calculation mode requires dirty-ring feature enabled.");
    else if (!state_is_active(dom->state))
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain is not running");
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    struct dirtyrate_op *op = g_new0(struct dirtyrate_op, 1);
    op->dom = core_domain_ref(dom);
    op->seconds = seconds;
    op->mode = (flags & CORE_DIRTYRATE_BITMAP) ? "dirty-bitmap" : NULL;
    job_acquire_run(&dom->jobs, JOB_MODIFY, &calc_pipeline, dom->core->job_wait_ms, op,
                    dirtyrate_op_free, done, data);
}
