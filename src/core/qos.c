/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qos: a running domain's control group; prefix core_qos_.
 * - Layout: PARENT/NAME in every hierarchy the host mounts (v1) or in the unified one (v2).
 *   PARENT is "domus", or "domus-<dir>" for a daemon with --root.
 * - It is made at start with QEMU in it. The vCPU threads go to its children vcpuN and
 *   QEMU's other threads to its child emulator: a thread-level layout of the cpu controller
 *   (v2: threaded children), as libvirt's.
 * - <cputune>'s scheduler tunables and <memtune> are applied before the guest runs.
 * - It is removed once QEMU is gone. A restarted daemon finds it by the same name.
 * Here too: the live reads and changes behind schedinfo and memtune, in libvirt's units. */
#include "core/qos.h"

#include "core/numatune.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/guest.h"
#include "util/err.h"
#include "util/log.h"

#define V1_UNLIMITED_BYTES 9223372036854771712ULL /* what v1 reads back for -1 */

/* A domain's name as a group's: one that the kernel's own files could take ("tasks",
 * "cpu.shares", "cgroup.procs") or that starts with '_' gets a '_' in front, as libvirt
 * escapes partitions */
static char *
group_name(const char *name)
{
    static const char *const reserved[] = {"tasks", "notify_on_release", "release_agent", NULL};
    static const char *const prefixes[] = {
        "cgroup.",  "cpu.",        "cpuacct.", "cpuset.",  "memory.",  "blkio.",
        "io.",      "pids.",       "freezer.", "devices.", "net_cls.", "net_prio.",
        "hugetlb.", "perf_event.", "rdma.",    "misc.",    NULL};
    gboolean escape = name[0] == '_' || g_strv_contains(reserved, name);
    for (int i = 0; !escape && prefixes[i]; i++)
        escape = g_str_has_prefix(name, prefixes[i]);
    return escape ? g_strconcat("_", name, NULL) : g_strdup(name);
}

char *
core_qos_path(const struct domain *dom)
{
    g_autofree char *name = group_name(dom->def->name);
    return g_build_filename(dom->core->paths.cgroup_parent, name, NULL);
}

static gboolean
wants_cpu(const struct domain_def *def)
{
    return def->cpu_shares || def->vcpu_period || def->vcpu_quota || def->global_period ||
           def->global_quota || def->emulator_period || def->emulator_quota;
}

static gboolean
wants_memory(const struct domain_def *def)
{
    return def->mem_hard_limit || def->mem_soft_limit || def->mem_swap_hard_limit;
}

static gboolean
wants_blkio(const struct domain_def *def)
{
    return def->blkio_weight || def->blkio_devices->len;
}

static gboolean
require(const struct cgroup_host *host, enum cgroup_ctrl ctrl, const char *what, const char *name,
        GError **error)
{
    if (host && cgroup_host_has(host, ctrl))
        return TRUE;
    err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
            "cgroup controller '%s' is not available on this host: %s of domain '%s' cannot be "
            "applied; mount it or remove the setting",
            cgroup_ctrl_to_string(ctrl), what, name);
    return FALSE;
}

/* --- the knobs, in libvirt's units --- */

gboolean
core_qos_set_shares(const struct cgroup_host *host, const char *path, guint64 shares,
                    GError **error)
{
    g_autofree char *v = NULL;
    if (cgroup_host_is_v2(host)) {
        /* libvirt writes the shares as the weight, within its range */
        v = g_strdup_printf("%" G_GUINT64_FORMAT, CLAMP(shares, 1, 10000));
        return cgroup_set(host, path, NULL, CGROUP_CPU, "cpu.weight", v, error);
    }
    v = g_strdup_printf("%" G_GUINT64_FORMAT, shares);
    return cgroup_set(host, path, NULL, CGROUP_CPU, "cpu.shares", v, error);
}

gboolean
core_qos_get_shares(const struct cgroup_host *host, const char *path, guint64 *ret, GError **error)
{
    gboolean v2 = cgroup_host_is_v2(host);
    g_autofree char *text =
        cgroup_get(host, path, NULL, CGROUP_CPU, v2 ? "cpu.weight" : "cpu.shares", error);
    if (!text)
        return FALSE;
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR, "unexpected cgroup value '%s'", text);
        return FALSE;
    }
    return TRUE;
}

/* CHILD's CFS bandwidth: PERIOD (0: leave) and QUOTA (0: leave, -1: none) */
gboolean
core_qos_set_cfs(const struct cgroup_host *host, const char *path, const char *child,
                 guint64 period, gint64 quota, GError **error)
{
    if (!period && !quota)
        return TRUE;
    if (cgroup_host_is_v2(host)) {
        guint64 old_period = 100000;
        gint64 old_quota = -1;
        if (!core_qos_get_cfs(host, path, child, &old_period, &old_quota, error))
            return FALSE;
        gint64 q = quota ? quota : old_quota;
        g_autofree char *v =
            q < 0 ? g_strdup_printf("max %" G_GUINT64_FORMAT, period ? period : old_period)
                  : g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, q,
                                    period ? period : old_period);
        return cgroup_set(host, path, child, CGROUP_CPU, "cpu.max", v, error);
    }
    g_autofree char *p = g_strdup_printf("%" G_GUINT64_FORMAT, period);
    g_autofree char *q = g_strdup_printf("%" G_GINT64_FORMAT, quota);
    return (!period || cgroup_set(host, path, child, CGROUP_CPU, "cpu.cfs_period_us", p, error)) &&
           (!quota || cgroup_set(host, path, child, CGROUP_CPU, "cpu.cfs_quota_us", q, error));
}

gboolean
core_qos_get_cfs(const struct cgroup_host *host, const char *path, const char *child,
                 guint64 *ret_period, gint64 *ret_quota, GError **error)
{
    gint64 quota = -1;
    guint64 period = 0;
    if (cgroup_host_is_v2(host)) {
        g_autofree char *text = cgroup_get(host, path, child, CGROUP_CPU, "cpu.max", error);
        if (!text)
            return FALSE;
        g_auto(GStrv) parts = g_strsplit(text, " ", 2);
        if (!parts[0] || !parts[1] ||
            !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT64, &period, NULL) ||
            (!g_str_equal(parts[0], "max") &&
             !g_ascii_string_to_signed(parts[0], 10, 0, G_MAXINT64, &quota, NULL))) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR, "unexpected cpu.max '%s'", text);
            return FALSE;
        }
    } else {
        g_autofree char *p = cgroup_get(host, path, child, CGROUP_CPU, "cpu.cfs_period_us", error);
        g_autofree char *q =
            p ? cgroup_get(host, path, child, CGROUP_CPU, "cpu.cfs_quota_us", error) : NULL;
        if (!q)
            return FALSE;
        if (!g_ascii_string_to_unsigned(p, 10, 0, G_MAXUINT64, &period, NULL) ||
            !g_ascii_string_to_signed(q, 10, -1, G_MAXINT64, &quota, NULL)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR, "unexpected CFS values '%s' '%s'",
                    p, q);
            return FALSE;
        }
    }
    *ret_period = period;
    *ret_quota = quota;
    return TRUE;
}

static const char *
mem_file(const struct cgroup_host *host, enum core_qos_mem which)
{
    static const char *const v1[] = {"memory.limit_in_bytes", "memory.soft_limit_in_bytes",
                                     "memory.memsw.limit_in_bytes"};
    static const char *const v2[] = {"memory.max", "memory.high", "memory.swap.max"};
    return cgroup_host_is_v2(host) ? v2[which] : v1[which];
}

gboolean
core_qos_set_memory(const struct cgroup_host *host, const char *path, enum core_qos_mem which,
                    guint64 kib, GError **error)
{
    gboolean unlimited = kib >= DOMAIN_DEF_MEMORY_UNLIMITED;
    g_autofree char *v = unlimited ? g_strdup(cgroup_host_is_v2(host) ? "max" : "-1")
                                   : g_strdup_printf("%" G_GUINT64_FORMAT, kib * 1024);
    return cgroup_set(host, path, NULL, CGROUP_MEMORY, mem_file(host, which), v, error);
}

gboolean
core_qos_get_memory(const struct cgroup_host *host, const char *path, enum core_qos_mem which,
                    guint64 *ret_kib, GError **error)
{
    g_autofree char *text =
        cgroup_get(host, path, NULL, CGROUP_MEMORY, mem_file(host, which), error);
    guint64 bytes = 0;
    if (!text)
        return FALSE;
    if (g_str_equal(text, "max")) {
        *ret_kib = DOMAIN_DEF_MEMORY_UNLIMITED;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &bytes, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR, "unexpected cgroup value '%s'", text);
        return FALSE;
    }
    *ret_kib = bytes >= V1_UNLIMITED_BYTES || bytes / 1024 >= DOMAIN_DEF_MEMORY_UNLIMITED
                   ? DOMAIN_DEF_MEMORY_UNLIMITED
                   : bytes / 1024;
    return TRUE;
}

gboolean
core_qos_set_mems(const struct cgroup_host *host, const char *path, const char *nodeset,
                  GError **error)
{
    if (!cgroup_host_is_v2(host) &&
        !cgroup_set(host, path, NULL, CGROUP_CPUSET, "cpuset.memory_migrate", "1", error))
        return FALSE;
    return cgroup_set(host, path, NULL, CGROUP_CPUSET, "cpuset.mems", nodeset, error);
}

/* --- the domain's group --- */

/* The definition's tunables on the group (and on its thread children once made) */
static gboolean
apply(struct domain *dom, const char *path, GError **error)
{
    const struct cgroup_host *host = dom->core->cgroups;
    const struct domain_def *def = dom->def;
    if (def->cpu_shares && !core_qos_set_shares(host, path, def->cpu_shares, error))
        return FALSE;
    if (!core_qos_set_cfs(host, path, NULL, def->global_period, def->global_quota, error))
        return FALSE;
    /* a swap limit below the memory limit is refused by v1: the larger goes first */
    if (def->mem_swap_hard_limit &&
        !core_qos_set_memory(host, path, CORE_QOS_MEM_SWAP, def->mem_swap_hard_limit, error))
        return FALSE;
    if (def->mem_hard_limit &&
        !core_qos_set_memory(host, path, CORE_QOS_MEM_HARD, def->mem_hard_limit, error))
        return FALSE;
    if (def->mem_soft_limit &&
        !core_qos_set_memory(host, path, CORE_QOS_MEM_SOFT, def->mem_soft_limit, error))
        return FALSE;
    return core_qos_apply_blkio(host, path, def, error) && core_numatune_apply(dom, path, error);
}

gboolean
core_qos_start(struct domain *dom, GError **error)
{
    const struct cgroup_host *host = dom->core->cgroups;
    const struct domain_def *def = dom->def;
    if ((wants_cpu(def) && !require(host, CGROUP_CPU, "<cputune>", def->name, error)) ||
        (wants_memory(def) && !require(host, CGROUP_MEMORY, "<memtune>", def->name, error)) ||
        (wants_blkio(def) && !require(host, CGROUP_BLKIO, "<blkiotune>", def->name, error)))
        return FALSE;
    gboolean any = FALSE;
    for (int c = 0; host && c < CGROUP_N; c++)
        any |= cgroup_host_has(host, (enum cgroup_ctrl)c);
    if (!any)
        return TRUE; /* nothing to do, nothing asked */
    g_autofree char *path = core_qos_path(dom);
    GError *e = NULL;
    /* a group a crashed daemon left, empty */
    if (cgroup_exists(host, path) && !cgroup_remove(host, path, &e)) {
        log_warn("%s: %s", def->name, e->message);
        g_clear_error(&e);
    }
    if (!cgroup_create(host, path, error) || !cgroup_add_process(host, path, dom->pid, error) ||
        !apply(dom, path, error)) {
        g_prefix_error(error, "setting up the cgroup of '%s': ", def->name);
        return FALSE;
    }
    dom->cgroup = TRUE;
    return TRUE;
}

gboolean
core_qos_wants_threads(const struct domain *dom)
{
    return dom->cgroup && cgroup_host_has(dom->core->cgroups, CGROUP_CPU);
}

static gboolean
is_vcpu(const struct domain *dom, int tid)
{
    for (guint i = 0; dom->vcpu_tids && i < dom->vcpu_tids->len; i++)
        if (g_array_index(dom->vcpu_tids, int, i) == tid)
            return TRUE;
    return FALSE;
}

gboolean
core_qos_place_threads(struct domain *dom, GError **error)
{
    if (!core_qos_wants_threads(dom))
        return TRUE;
    const struct cgroup_host *host = dom->core->cgroups;
    const struct domain_def *def = dom->def;
    g_autofree char *path = core_qos_path(dom);
    for (guint i = 0; dom->vcpu_tids && i < dom->vcpu_tids->len; i++) {
        int tid = g_array_index(dom->vcpu_tids, int, i);
        g_autofree char *child = g_strdup_printf("vcpu%u", i);
        if (tid > 0 &&
            (!cgroup_create_thread_group(host, path, child, CGROUP_CPU, error) ||
             !cgroup_add_thread(host, path, child, CGROUP_CPU, tid, error) ||
             !core_qos_set_cfs(host, path, child, def->vcpu_period, def->vcpu_quota, error)))
            return FALSE;
        /* v1 with cpuacct mounted on its own: the vCPU's usage by CPU is counted there */
        if (tid > 0 && core_qos_has_percpu(dom) &&
            (!cgroup_create_thread_group(host, path, child, CGROUP_CPUACCT, error) ||
             !cgroup_add_thread(host, path, child, CGROUP_CPUACCT, tid, error)))
            return FALSE;
    }
    if (!cgroup_create_thread_group(host, path, "emulator", CGROUP_CPU, error))
        return FALSE;
    g_autofree char *tasks = g_strdup_printf("/proc/%d/task", (int)dom->pid);
    g_autoptr(GDir) dir = g_dir_open(tasks, 0, NULL);
    const char *entry;
    while (dir && (entry = g_dir_read_name(dir))) {
        guint64 tid = 0;
        if (!g_ascii_string_to_unsigned(entry, 10, 1, G_MAXINT, &tid, NULL) ||
            is_vcpu(dom, (int)tid))
            continue;
        GError *e = NULL;
        if (!cgroup_add_thread(host, path, "emulator", CGROUP_CPU, (pid_t)tid, &e)) {
            /* a thread that ended meanwhile */
            g_autofree char *still = g_strdup_printf("%s/%s", tasks, entry);
            if (g_file_test(still, G_FILE_TEST_EXISTS)) {
                g_propagate_error(error, e);
                return FALSE;
            }
            g_error_free(e);
        }
    }
    return core_qos_set_cfs(host, path, "emulator", def->emulator_period, def->emulator_quota,
                            error);
}

/* Group PATH of domain NAME goes, with what QEMU left in it (helpers it started), as libvirt
 * kills them */
static void
drop_group(struct core *core, const char *path, const char *name)
{
    GError *e = NULL;
    guint killed = cgroup_kill_all(core->cgroups, path);
    if (killed)
        log_info("%s: killed %u process(es) QEMU left in its cgroup", name, killed);
    if (!cgroup_remove(core->cgroups, path, &e)) {
        log_warn("%s: %s", name, e->message);
        g_error_free(e);
    }
}

void
core_qos_stop(struct domain *dom)
{
    if (!dom->cgroup)
        return;
    dom->cgroup = FALSE;
    g_autofree char *path = core_qos_path(dom);
    drop_group(dom->core, path, dom->def->name);
}

void
core_qos_remove_leftover(struct core *core, const char *name)
{
    g_autofree char *group = group_name(name);
    g_autofree char *path = g_build_filename(core->paths.cgroup_parent, group, NULL);
    if (cgroup_exists(core->cgroups, path))
        drop_group(core, path, name);
}

void
core_qos_adopt(struct domain *dom)
{
    const struct cgroup_host *host = dom->core->cgroups;
    g_autofree char *path = core_qos_path(dom);
    dom->cgroup = host && cgroup_exists(host, path);
}

/* --- schedinfo and memtune --- */

gboolean
core_qos_has_cpu(struct core *core)
{
    return core->cgroups && cgroup_host_has(core->cgroups, CGROUP_CPU);
}

/* The definition FLAGS name, and whether it is the live one */
struct domain_def *
core_qos_tune_def(struct domain *dom, unsigned flags, gboolean *ret_live, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if ((flags & 1) && (flags & 2)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive");
        return NULL;
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return NULL;
    *ret_live = live;
    return live ? dom->def : core_persistent_def(dom);
}

gboolean
core_qos_live_group(struct domain *dom, enum cgroup_ctrl ctrl, const char *what, GError **error)
{
    if (!dom->cgroup || !cgroup_host_has(dom->core->cgroups, ctrl)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cgroup controller '%s' is not available for domain '%s': %s cannot be read or "
                "changed live",
                cgroup_ctrl_to_string(ctrl), dom->def->name, what);
        return FALSE;
    }
    return TRUE;
}

gboolean
core_domain_get_sched(struct domain *dom, unsigned flags, struct core_sched *ret, GError **error)
{
    gboolean live = FALSE;
    const struct domain_def *def = core_qos_tune_def(dom, flags, &live, error);
    struct core_sched s = {0};
    if (!def)
        return FALSE;
    if (!live) {
        s.shares = def->cpu_shares;
        s.vcpu_period = def->vcpu_period;
        s.vcpu_quota = def->vcpu_quota;
        s.emulator_period = def->emulator_period;
        s.emulator_quota = def->emulator_quota;
        s.global_period = def->global_period;
        s.global_quota = def->global_quota;
        *ret = s;
        return TRUE;
    }
    if (!core_qos_live_group(dom, CGROUP_CPU, "the scheduler's parameters", error))
        return FALSE;
    const struct cgroup_host *host = dom->core->cgroups;
    g_autofree char *path = core_qos_path(dom);
    g_autofree char *vcpu0 = g_build_filename(path, "vcpu0", NULL);
    g_autofree char *emulator = g_build_filename(path, "emulator", NULL);
    /* a domain started before its threads were placed reads the group's own */
    gboolean threads = cgroup_exists(host, vcpu0);
    if (!core_qos_get_shares(host, path, &s.shares, error) ||
        !core_qos_get_cfs(host, path, threads ? "vcpu0" : NULL, &s.vcpu_period, &s.vcpu_quota,
                          error) ||
        !core_qos_get_cfs(host, path, cgroup_exists(host, emulator) ? "emulator" : NULL,
                          &s.emulator_period, &s.emulator_quota, error) ||
        !core_qos_get_cfs(host, path, NULL, &s.global_period, &s.global_quota, error))
        return FALSE;
    *ret = s;
    return TRUE;
}

static gboolean
check_sched(const struct core_sched *want, unsigned given, GError **error)
{
    const struct {
        unsigned bit;
        const char *name;
        gint64 value;
        gboolean quota;
    } checks[] = {
        {CORE_SCHED_VCPU_PERIOD, "vcpu_period", (gint64)want->vcpu_period, FALSE},
        {CORE_SCHED_EMULATOR_PERIOD, "emulator_period", (gint64)want->emulator_period, FALSE},
        {CORE_SCHED_GLOBAL_PERIOD, "global_period", (gint64)want->global_period, FALSE},
        {CORE_SCHED_VCPU_QUOTA, "vcpu_quota", want->vcpu_quota, TRUE},
        {CORE_SCHED_EMULATOR_QUOTA, "emulator_quota", want->emulator_quota, TRUE},
        {CORE_SCHED_GLOBAL_QUOTA, "global_quota", want->global_quota, TRUE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(checks); i++) {
        gint64 v = checks[i].value;
        if (!(given & checks[i].bit))
            continue;
        gboolean ok =
            checks[i].quota
                ? v == -1 || (v >= DOMAIN_DEF_QUOTA_MIN && v <= DOMAIN_DEF_QUOTA_MAX)
                : v >= (gint64)DOMAIN_DEF_PERIOD_MIN && v <= (gint64)DOMAIN_DEF_PERIOD_MAX;
        if (!ok) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "value of '%s' is out of range [%lld, %lld]%s", checks[i].name,
                    checks[i].quota ? DOMAIN_DEF_QUOTA_MIN : (long long)DOMAIN_DEF_PERIOD_MIN,
                    checks[i].quota ? DOMAIN_DEF_QUOTA_MAX : (long long)DOMAIN_DEF_PERIOD_MAX,
                    checks[i].quota ? " or -1" : "");
            return FALSE;
        }
    }
    return TRUE;
}

static void
sched_into(struct domain_def *def, const struct core_sched *want, unsigned given)
{
    if (given & CORE_SCHED_SHARES)
        def->cpu_shares = want->shares;
    if (given & CORE_SCHED_VCPU_PERIOD)
        def->vcpu_period = want->vcpu_period;
    if (given & CORE_SCHED_VCPU_QUOTA)
        def->vcpu_quota = want->vcpu_quota;
    if (given & CORE_SCHED_EMULATOR_PERIOD)
        def->emulator_period = want->emulator_period;
    if (given & CORE_SCHED_EMULATOR_QUOTA)
        def->emulator_quota = want->emulator_quota;
    if (given & CORE_SCHED_GLOBAL_PERIOD)
        def->global_period = want->global_period;
    if (given & CORE_SCHED_GLOBAL_QUOTA)
        def->global_quota = want->global_quota;
}

/* The live group's children of the vCPUs (vcpu0, vcpu1, …) */
static GPtrArray *
vcpu_children(struct domain *dom, const char *path)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < dom->def->vcpus; i++) {
        g_autofree char *child = g_strdup_printf("vcpu%u", i);
        g_autofree char *full = g_build_filename(path, child, NULL);
        if (cgroup_exists(dom->core->cgroups, full))
            g_ptr_array_add(out, g_steal_pointer(&child));
    }
    return out;
}

static void
status_changed(struct domain *dom)
{
    GError *e = NULL;
    dom->updated = TRUE;
    if (!core_status_write(dom, &e)) {
        log_warn("%s: %s", dom->def->name, e->message);
        g_error_free(e);
    }
}

/* libvirt's tunable event of a live scheduler change: the fields set */
static void
emit_sched(struct domain *dom, const struct core_sched *want, unsigned given)
{
    g_autoptr(GPtrArray) params = typed_params_new();
    if (given & CORE_SCHED_SHARES)
        typed_params_add_ullong(params, "cputune.cpu_shares", want->shares);
    if (given & CORE_SCHED_GLOBAL_PERIOD)
        typed_params_add_ullong(params, "cputune.global_period", want->global_period);
    if (given & CORE_SCHED_GLOBAL_QUOTA)
        typed_params_add_llong(params, "cputune.global_quota", want->global_quota);
    if (given & CORE_SCHED_VCPU_PERIOD)
        typed_params_add_ullong(params, "cputune.vcpu_period", want->vcpu_period);
    if (given & CORE_SCHED_VCPU_QUOTA)
        typed_params_add_llong(params, "cputune.vcpu_quota", want->vcpu_quota);
    if (given & CORE_SCHED_EMULATOR_PERIOD)
        typed_params_add_ullong(params, "cputune.emulator_period", want->emulator_period);
    if (given & CORE_SCHED_EMULATOR_QUOTA)
        typed_params_add_llong(params, "cputune.emulator_quota", want->emulator_quota);
    if (params->len)
        core_domain_emit_tunable(dom, params);
}

gboolean
core_domain_set_sched(struct domain *dom, unsigned flags, const struct core_sched *want,
                      unsigned given, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error) ||
        !check_sched(want, given, error) ||
        (live && !core_qos_live_group(dom, CGROUP_CPU, "the scheduler's parameters", error)))
        return FALSE;
    if (live) {
        const struct cgroup_host *host = dom->core->cgroups;
        g_autofree char *path = core_qos_path(dom);
        g_autoptr(GPtrArray) vcpus = vcpu_children(dom, path);
        g_autofree char *emulator = g_build_filename(path, "emulator", NULL);
        guint64 vp = (given & CORE_SCHED_VCPU_PERIOD) ? want->vcpu_period : 0;
        gint64 vq = (given & CORE_SCHED_VCPU_QUOTA) ? want->vcpu_quota : 0;
        guint64 ep = (given & CORE_SCHED_EMULATOR_PERIOD) ? want->emulator_period : 0;
        gint64 eq = (given & CORE_SCHED_EMULATOR_QUOTA) ? want->emulator_quota : 0;
        guint64 gp = (given & CORE_SCHED_GLOBAL_PERIOD) ? want->global_period : 0;
        gint64 gq = (given & CORE_SCHED_GLOBAL_QUOTA) ? want->global_quota : 0;
        if ((given & CORE_SCHED_SHARES) && !core_qos_set_shares(host, path, want->shares, error))
            return FALSE;
        for (guint i = 0; i < vcpus->len; i++)
            if (!core_qos_set_cfs(host, path, vcpus->pdata[i], vp, vq, error))
                return FALSE;
        if ((ep || eq) && cgroup_exists(host, emulator) &&
            !core_qos_set_cfs(host, path, "emulator", ep, eq, error))
            return FALSE;
        if (!core_qos_set_cfs(host, path, NULL, gp, gq, error))
            return FALSE;
        sched_into(dom->def, want, given);
        status_changed(dom);
        emit_sched(dom, want, given);
    }
    if (config) {
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        sched_into(copy, want, given);
        return core_domain_keep_config(dom, copy, error);
    }
    return TRUE;
}

gboolean
core_domain_get_memtune(struct domain *dom, unsigned flags, struct core_memtune *ret,
                        GError **error)
{
    gboolean live = FALSE;
    const struct domain_def *def = core_qos_tune_def(dom, flags, &live, error);
    if (!def)
        return FALSE;
    if (!live) {
        ret->hard = def->mem_hard_limit ? def->mem_hard_limit : DOMAIN_DEF_MEMORY_UNLIMITED;
        ret->soft = def->mem_soft_limit ? def->mem_soft_limit : DOMAIN_DEF_MEMORY_UNLIMITED;
        ret->swap =
            def->mem_swap_hard_limit ? def->mem_swap_hard_limit : DOMAIN_DEF_MEMORY_UNLIMITED;
        return TRUE;
    }
    if (!core_qos_live_group(dom, CGROUP_MEMORY, "its memory tunables", error))
        return FALSE;
    const struct cgroup_host *host = dom->core->cgroups;
    g_autofree char *path = core_qos_path(dom);
    struct core_memtune m;
    if (!core_qos_get_memory(host, path, CORE_QOS_MEM_HARD, &m.hard, error) ||
        !core_qos_get_memory(host, path, CORE_QOS_MEM_SOFT, &m.soft, error))
        return FALSE;
    /* v1 without swap accounting has no memsw files: libvirt says unlimited */
    GError *e = NULL;
    if (!core_qos_get_memory(host, path, CORE_QOS_MEM_SWAP, &m.swap, &e)) {
        g_error_free(e);
        m.swap = DOMAIN_DEF_MEMORY_UNLIMITED;
    }
    *ret = m;
    return TRUE;
}

gboolean
core_domain_set_memtune(struct domain *dom, unsigned flags, const struct core_memtune *want,
                        unsigned given, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error) ||
        (live && !core_qos_live_group(dom, CGROUP_MEMORY, "its memory tunables", error)))
        return FALSE;
    const struct domain_def *pdef = config ? core_persistent_def(dom) : dom->def;
    struct core_memtune cur = {0};
    if (live && !core_domain_get_memtune(dom, CORE_QOS_LIVE, &cur, error))
        return FALSE;
    if (!live) {
        cur.hard = pdef->mem_hard_limit ? pdef->mem_hard_limit : DOMAIN_DEF_MEMORY_UNLIMITED;
        cur.swap =
            pdef->mem_swap_hard_limit ? pdef->mem_swap_hard_limit : DOMAIN_DEF_MEMORY_UNLIMITED;
    }
    guint64 hard = (given & CORE_MEMTUNE_HARD) ? want->hard : cur.hard;
    guint64 swap = (given & CORE_MEMTUNE_SWAP) ? want->swap : cur.swap;
    if (hard > swap) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "memory hard_limit tunable value must be lower than or equal to "
                "swap_hard_limit");
        return FALSE;
    }
    if (live) {
        const struct cgroup_host *host = dom->core->cgroups;
        g_autofree char *path = core_qos_path(dom);
        /* v1 keeps the memory limit at or below the memory+swap one at every step */
        gboolean swap_first = (given & CORE_MEMTUNE_SWAP) && want->swap >= cur.hard;
        if (swap_first && !core_qos_set_memory(host, path, CORE_QOS_MEM_SWAP, swap, error))
            return FALSE;
        if ((given & CORE_MEMTUNE_HARD) &&
            !core_qos_set_memory(host, path, CORE_QOS_MEM_HARD, hard, error))
            return FALSE;
        if ((given & CORE_MEMTUNE_SWAP) && !swap_first &&
            !core_qos_set_memory(host, path, CORE_QOS_MEM_SWAP, swap, error))
            return FALSE;
        if ((given & CORE_MEMTUNE_SOFT) &&
            !core_qos_set_memory(host, path, CORE_QOS_MEM_SOFT, want->soft, error))
            return FALSE;
    }
    struct domain_def *defs[2] = {live ? dom->def : NULL, NULL};
    struct domain_def *copy = config ? domain_def_copy(core_persistent_def(dom)) : NULL;
    defs[1] = copy;
    for (int i = 0; i < 2; i++) {
        struct domain_def *d = defs[i];
        if (!d)
            continue;
        /* unlimited is kept as "absent", as libvirt formats nothing for it */
        if (given & CORE_MEMTUNE_HARD)
            d->mem_hard_limit = want->hard >= DOMAIN_DEF_MEMORY_UNLIMITED ? 0 : want->hard;
        if (given & CORE_MEMTUNE_SOFT)
            d->mem_soft_limit = want->soft >= DOMAIN_DEF_MEMORY_UNLIMITED ? 0 : want->soft;
        if (given & CORE_MEMTUNE_SWAP)
            d->mem_swap_hard_limit = want->swap >= DOMAIN_DEF_MEMORY_UNLIMITED ? 0 : want->swap;
    }
    if (live)
        status_changed(dom);
    return !copy || core_domain_keep_config(dom, copy, error);
}

/* --- blkiotune --- */

/* The files of the blkio (v1) or io (v2) controller */
enum blkio_knob { KNOB_READ_IOPS, KNOB_WRITE_IOPS, KNOB_READ_BYTES, KNOB_WRITE_BYTES };
static const char *const v1_throttle[] = {
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"};
static const char *const v2_throttle[] = {"riops", "wiops", "rbps", "wbps"};

/* The host's weight file: BFQ's when the scheduler is BFQ, else the generic one; NULL when
 * the host's I/O scheduler takes no weights */
static const char *
weight_file(const struct cgroup_host *host, const char *path, gboolean device)
{
    static const char *const v1[2][2] = {{"blkio.bfq.weight", "blkio.weight"},
                                         {"blkio.bfq.weight_device", "blkio.weight_device"}};
    static const char *const v2[2][2] = {{"io.bfq.weight", "io.weight"},
                                         {"io.bfq.weight", "io.weight"}};
    for (int i = 0; i < 2; i++) {
        const char *f = cgroup_host_is_v2(host) ? v2[device][i] : v1[device][i];
        g_autofree char *text = cgroup_get(host, path, NULL, CGROUP_BLKIO, f, NULL);
        if (text)
            return f;
    }
    return NULL;
}

static gboolean
device_number(const char *dev_path, char **ret, GError **error)
{
    struct stat st;
    if (stat(dev_path, &st) < 0 || !S_ISBLK(st.st_mode)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "'%s' is not a block device of this host; blkio tunables name host block "
                "devices (/dev/sda)",
                dev_path);
        return FALSE;
    }
    *ret = g_strdup_printf("%u:%u", major(st.st_rdev), minor(st.st_rdev));
    return TRUE;
}

gboolean
core_qos_set_blkio_weight(const struct cgroup_host *host, const char *path, const char *dev_path,
                          unsigned weight, GError **error)
{
    const char *file = weight_file(host, path, dev_path != NULL);
    g_autofree char *devno = NULL;
    if (!file) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "this host's I/O scheduler takes no blkio weights (no %s files); use the bfq "
                "scheduler, or throttles (read/write iops and bytes per second)",
                cgroup_host_is_v2(host) ? "io.weight" : "blkio.weight");
        return FALSE;
    }
    if (dev_path && !device_number(dev_path, &devno, error))
        return FALSE;
    g_autofree char *v = devno                     ? g_strdup_printf("%s %u", devno, weight)
                         : cgroup_host_is_v2(host) ? g_strdup_printf("default %u", weight)
                                                   : g_strdup_printf("%u", weight);
    return cgroup_set(host, path, NULL, CGROUP_BLKIO, file, v, error);
}

gboolean
core_qos_set_blkio_throttle(const struct cgroup_host *host, const char *path, const char *dev_path,
                            int knob, guint64 value, GError **error)
{
    g_autofree char *devno = NULL;
    if (!device_number(dev_path, &devno, error))
        return FALSE;
    g_autofree char *v = NULL;
    if (cgroup_host_is_v2(host)) {
        v = value ? g_strdup_printf("%s %s=%" G_GUINT64_FORMAT, devno, v2_throttle[knob], value)
                  : g_strdup_printf("%s %s=max", devno, v2_throttle[knob]);
        return cgroup_set(host, path, NULL, CGROUP_BLKIO, "io.max", v, error);
    }
    v = g_strdup_printf("%s %" G_GUINT64_FORMAT, devno, value);
    return cgroup_set(host, path, NULL, CGROUP_BLKIO, v1_throttle[knob], v, error);
}

/* The value for device DEVNO in a file of "MAJ:MIN value" lines (v2 io.max: "MAJ:MIN
 * key=value …"); 0 when the device has none */
static guint64
device_value(const char *text, const char *devno, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        g_auto(GStrv) words = g_strsplit(g_strstrip(lines[i]), " ", -1);
        if (!words[0] || !g_str_equal(words[0], devno))
            continue;
        for (int w = 1; words[w]; w++) {
            const char *v = words[w];
            if (key) {
                if (!g_str_has_prefix(v, key) || v[strlen(key)] != '=')
                    continue;
                v += strlen(key) + 1;
            }
            guint64 n = 0;
            return g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &n, NULL) ? n : 0;
        }
    }
    return 0;
}

gboolean
core_qos_get_blkio(const struct cgroup_host *host, const char *path, struct blkio_device_def *dev,
                   unsigned *ret_weight, GError **error)
{
    if (!dev) {
        const char *file = weight_file(host, path, FALSE);
        g_autofree char *text =
            file ? cgroup_get(host, path, NULL, CGROUP_BLKIO, file, error) : NULL;
        guint64 w = 0;
        if (text && g_str_has_prefix(text, "default "))
            memmove(text, text + 8, strlen(text + 8) + 1);
        *ret_weight =
            text && g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &w, NULL) ? (unsigned)w : 0;
        return TRUE;
    }
    g_autofree char *devno = NULL;
    if (!device_number(dev->path, &devno, error))
        return FALSE;
    guint64 *slots[] = {&dev->read_iops, &dev->write_iops, &dev->read_bytes, &dev->write_bytes};
    for (int k = 0; k < 4; k++) {
        gboolean v2 = cgroup_host_is_v2(host);
        g_autofree char *text =
            cgroup_get(host, path, NULL, CGROUP_BLKIO, v2 ? "io.max" : v1_throttle[k], error);
        if (!text)
            return FALSE;
        *slots[k] = device_value(text, devno, v2 ? v2_throttle[k] : NULL);
    }
    const char *wf = weight_file(host, path, TRUE);
    g_autofree char *wtext = wf ? cgroup_get(host, path, NULL, CGROUP_BLKIO, wf, NULL) : NULL;
    dev->weight = wtext ? (unsigned)device_value(wtext, devno, NULL) : 0;
    return TRUE;
}

/* The definition's blkio tunables on the group (at start) */
gboolean
core_qos_apply_blkio(const struct cgroup_host *host, const char *path, const struct domain_def *def,
                     GError **error)
{
    if (def->blkio_weight && !core_qos_set_blkio_weight(host, path, NULL, def->blkio_weight, error))
        return FALSE;
    for (guint i = 0; i < def->blkio_devices->len; i++) {
        const struct blkio_device_def *d = def->blkio_devices->pdata[i];
        const guint64 values[] = {d->read_iops, d->write_iops, d->read_bytes, d->write_bytes};
        if (d->weight && !core_qos_set_blkio_weight(host, path, d->path, d->weight, error))
            return FALSE;
        for (int k = 0; k < 4; k++)
            if (values[k] && !core_qos_set_blkio_throttle(host, path, d->path, k, values[k], error))
                return FALSE;
    }
    return TRUE;
}

gboolean
core_domain_get_blkio(struct domain *dom, unsigned flags, unsigned *ret_weight,
                      GPtrArray **ret_devices, GError **error)
{
    gboolean live = FALSE;
    const struct domain_def *def = core_qos_tune_def(dom, flags, &live, error);
    if (!def || (live && !core_qos_live_group(dom, CGROUP_BLKIO, "its blkio tunables", error)))
        return FALSE;
    g_autoptr(GPtrArray) devices =
        g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_blkio_device_free);
    unsigned weight = def->blkio_weight;
    g_autofree char *path = core_qos_path(dom);
    if (live && !core_qos_get_blkio(dom->core->cgroups, path, NULL, &weight, error))
        return FALSE;
    for (guint i = 0; i < def->blkio_devices->len; i++) {
        const struct blkio_device_def *d = def->blkio_devices->pdata[i];
        struct blkio_device_def *copy = g_new0(struct blkio_device_def, 1);
        *copy = *d;
        copy->path = g_strdup(d->path);
        g_ptr_array_add(devices, copy);
        if (live && !core_qos_get_blkio(dom->core->cgroups, path, copy, NULL, error))
            return FALSE;
    }
    *ret_weight = weight;
    *ret_devices = g_steal_pointer(&devices);
    return TRUE;
}

/* DEF's device PATH, added when it has none yet */
static struct blkio_device_def *
blkio_device(struct domain_def *def, const char *path)
{
    for (guint i = 0; i < def->blkio_devices->len; i++) {
        struct blkio_device_def *d = def->blkio_devices->pdata[i];
        if (g_str_equal(d->path, path))
            return d;
    }
    struct blkio_device_def *d = g_new0(struct blkio_device_def, 1);
    d->path = g_strdup(path);
    g_ptr_array_add(def->blkio_devices, d);
    return d;
}

static void
blkio_into(struct domain_def *def, gboolean has_weight, unsigned weight, const GPtrArray *changes)
{
    if (has_weight)
        def->blkio_weight = weight;
    for (guint i = 0; changes && i < changes->len; i++) {
        const struct core_blkio_change *c = changes->pdata[i];
        struct blkio_device_def *d = blkio_device(def, c->path);
        guint64 *slots[] = {&d->read_iops, &d->write_iops, &d->read_bytes, &d->write_bytes};
        if (c->knob < 0)
            d->weight = (unsigned)c->value;
        else
            *slots[c->knob] = c->value;
    }
}

gboolean
core_domain_set_blkio(struct domain *dom, unsigned flags, gboolean has_weight, unsigned weight,
                      const GPtrArray *changes, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error) ||
        (live && !core_qos_live_group(dom, CGROUP_BLKIO, "its blkio tunables", error)))
        return FALSE;
    if (has_weight && (weight < 100 || weight > 1000)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "out of blkio weight range: %u is not within 100 and 1000", weight);
        return FALSE;
    }
    for (guint i = 0; changes && i < changes->len; i++) {
        const struct core_blkio_change *c = changes->pdata[i];
        if (c->knob < 0 && c->value && (c->value < 100 || c->value > 1000)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "out of blkio weight range: %" G_GUINT64_FORMAT
                    " for '%s' is not 0 or within 100 and 1000",
                    c->value, c->path);
            return FALSE;
        }
    }
    if (live) {
        const struct cgroup_host *host = dom->core->cgroups;
        g_autofree char *path = core_qos_path(dom);
        if (has_weight && !core_qos_set_blkio_weight(host, path, NULL, weight, error))
            return FALSE;
        for (guint i = 0; changes && i < changes->len; i++) {
            const struct core_blkio_change *c = changes->pdata[i];
            if (c->knob < 0
                    ? !core_qos_set_blkio_weight(host, path, c->path, (unsigned)c->value, error)
                    : !core_qos_set_blkio_throttle(host, path, c->path, c->knob, c->value, error))
                return FALSE;
        }
        blkio_into(dom->def, has_weight, weight, changes);
        status_changed(dom);
    }
    if (config) {
        /* a config change names host devices too: they must be block devices now */
        g_autofree char *devno = NULL;
        for (guint i = 0; changes && i < changes->len; i++) {
            g_clear_pointer(&devno, g_free);
            if (!device_number(((const struct core_blkio_change *)changes->pdata[i])->path, &devno,
                               error))
                return FALSE;
        }
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        blkio_into(copy, has_weight, weight, changes);
        return core_domain_keep_config(dom, copy, error);
    }
    return TRUE;
}

/* --- per-CPU usage (cpuacct) --- */

/* cpuacct.usage_percpu of CHILD (NULL: the group): nanoseconds by host CPU */
static GArray *
percpu(const struct cgroup_host *host, const char *path, const char *child, GError **error)
{
    g_autofree char *text =
        cgroup_get(host, path, child, CGROUP_CPUACCT, "cpuacct.usage_percpu", error);
    if (!text)
        return NULL;
    GArray *out = g_array_new(FALSE, TRUE, sizeof(guint64));
    g_auto(GStrv) words = g_strsplit_set(text, " \n", -1);
    for (int i = 0; words[i]; i++) {
        guint64 v = 0;
        if (!*words[i])
            continue;
        if (!g_ascii_string_to_unsigned(words[i], 10, 0, G_MAXUINT64, &v, NULL)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR,
                    "unexpected cpuacct.usage_percpu '%s'", text);
            g_array_unref(out);
            return NULL;
        }
        g_array_append_val(out, v);
    }
    return out;
}

gboolean
core_qos_has_percpu(const struct domain *dom)
{
    const struct cgroup_host *host = dom->core->cgroups;
    return dom->cgroup && host && !cgroup_host_is_v2(host) && cgroup_host_has(host, CGROUP_CPUACCT);
}

gboolean
core_domain_percpu_usage(struct domain *dom, GArray **ret_total, GArray **ret_vcpus, GError **error)
{
    if (!core_qos_has_percpu(dom)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                "per-CPU statistics of domain '%s' need its cgroup in a cgroup v1 cpuacct "
                "hierarchy (cgroup v2 keeps no per-CPU usage); ask for the total "
                "(virsh cpu-stats --total)",
                dom->def->name);
        return FALSE;
    }
    const struct cgroup_host *host = dom->core->cgroups;
    g_autofree char *path = core_qos_path(dom);
    g_autoptr(GArray) total = percpu(host, path, NULL, error);
    if (!total)
        return FALSE;
    g_autoptr(GArray) vcpus = g_array_new(FALSE, TRUE, sizeof(guint64));
    g_array_set_size(vcpus, total->len);
    for (guint i = 0; i < dom->def->vcpus; i++) {
        g_autofree char *child = g_strdup_printf("vcpu%u", i);
        g_autofree char *full = g_build_filename(path, child, NULL);
        g_autofree char *dir =
            g_build_filename(dom->core->paths.cgroup_root, "cpuacct", full, NULL);
        if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
            continue;
        g_autoptr(GArray) one = percpu(host, path, child, error);
        if (!one)
            return FALSE;
        for (guint c = 0; c < one->len && c < vcpus->len; c++)
            g_array_index(vcpus, guint64, c) += g_array_index(one, guint64, c);
    }
    *ret_total = g_steal_pointer(&total);
    *ret_vcpus = g_steal_pointer(&vcpus);
    return TRUE;
}
