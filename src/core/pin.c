/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pin: the host CPUs QEMU's threads may run on; prefix core_pin_ (and core_domain_pin).
 * A vCPU's thread: its <vcpupin>, else <vcpu cpuset>, else every CPU of the host. QEMU's other
 * threads (the emulator): <emulatorpin>, else <vcpu cpuset>, else every CPU. QEMU is spawned
 * with <vcpu cpuset> (start.c); the pins are set on its threads before the guest runs, on a
 * plugged vCPU, and live by vcpupin / emulatorpin. The vCPU threads come from
 * query-cpus-fast. */
#include "core/pin.h"

#include "core/guest.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

#define ORIGIN ERR_FROM_DOMAIN

void
core_pin_host_cpus(struct cpuset *ret)
{
    g_autofree char *text = NULL;
    GError *error = NULL;
    if (g_file_get_contents("/sys/devices/system/cpu/online", &text, NULL, NULL) &&
        cpuset_parse(g_strstrip(text), ret, &error))
        return;
    g_clear_error(&error);
    /* no sysfs: the CPUs this daemon may use */
    cpu_set_t set;
    memset(ret, 0, sizeof(*ret));
    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        CPU_ZERO(&set);
    for (guint c = 0; c < CPU_SETSIZE && c < CPUSET_MAX; c++)
        if (CPU_ISSET(c, &set))
            ret->bits[c / 8] |= (guint8)(1u << (c % 8));
}

/* TEXT (canonical, from a definition) into RET; an unreadable text leaves RET alone. */
static gboolean
set_from_text(const char *text, struct cpuset *ret)
{
    GError *error = NULL;
    if (!text)
        return FALSE;
    if (cpuset_parse(text, ret, &error))
        return TRUE;
    g_error_free(error);
    return FALSE;
}

void
core_pin_vcpu_set(const struct domain_def *def, unsigned vcpu, struct cpuset *ret)
{
    const char *pin = vcpu < def->vcpupins->len ? def->vcpupins->pdata[vcpu] : NULL;
    if (!set_from_text(pin, ret) && !set_from_text(def->vcpu_cpuset, ret))
        core_pin_host_cpus(ret);
}

void
core_pin_emulator_set(const struct domain_def *def, struct cpuset *ret)
{
    if (!set_from_text(def->emulatorpin, ret) && !set_from_text(def->vcpu_cpuset, ret))
        core_pin_host_cpus(ret);
}

gboolean
core_pin_any(const struct domain_def *def)
{
    for (guint i = 0; i < def->iothreads->len; i++) {
        if (((struct iothread_def *)def->iothreads->pdata[i])->cpuset)
            return TRUE;
    }
    if (def->emulatorpin)
        return TRUE;
    for (guint i = 0; i < def->vcpupins->len; i++)
        if (def->vcpupins->pdata[i])
            return TRUE;
    return FALSE;
}

void
core_vcpu_threads_learn(struct domain *dom, JsonNode *cpus_node)
{
    JsonArray *cpus = cpus_node ? qemu_json_node_array(cpus_node) : NULL;
    if (!cpus)
        return;
    GArray *tids = g_array_new(FALSE, TRUE, sizeof(int));
    for (guint i = 0; i < json_array_get_length(cpus); i++) {
        JsonObject *o = qemu_json_element_object(cpus, i);
        gint64 index = o ? qemu_json_int_or(o, "cpu-index", -1) : -1;
        gint64 tid = o ? qemu_json_int_or(o, "thread-id", 0) : 0;
        if (index < 0 || index >= CPUSET_MAX || tid <= 0 || tid > G_MAXINT)
            continue;
        if ((guint)index >= tids->len)
            g_array_set_size(tids, (guint)index + 1);
        g_array_index(tids, int, index) = (int)tid;
    }
    if (dom->vcpu_tids)
        g_array_unref(dom->vcpu_tids);
    dom->vcpu_tids = tids;
}

/* Whether TID is a thread of DOM's QEMU (a thread id from QEMU is checked before use). */
static gboolean
is_qemu_thread(const struct domain *dom, int tid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d", (int)dom->pid, tid);
    return dom->pid > 0 && tid > 0 && g_file_test(path, G_FILE_TEST_IS_DIR);
}

/* The IOThread TID of DOM's QEMU runs (QEMU names it "IO iothreadN" with debug-threads=on),
 * 0 for another thread */
unsigned
core_pin_iothread_of(const struct domain *dom, int tid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/comm", (int)dom->pid, tid);
    g_autofree char *comm = NULL;
    guint64 id = 0;
    if (!g_file_get_contents(path, &comm, NULL, NULL) || !g_str_has_prefix(comm, "IO iothread") ||
        !g_ascii_string_to_unsigned(g_strstrip(comm) + strlen("IO iothread"), 10, 1, G_MAXUINT32,
                                    &id, NULL))
        return 0;
    return (unsigned)id;
}

int
core_pin_iothread_tid(const struct domain *dom, unsigned id)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task", (int)dom->pid);
    g_autoptr(GDir) dir = dom->pid > 0 ? g_dir_open(path, 0, NULL) : NULL;
    const char *entry;
    while (dir && (entry = g_dir_read_name(dir))) {
        guint64 tid = 0;
        if (g_ascii_string_to_unsigned(entry, 10, 1, G_MAXINT, &tid, NULL) &&
            core_pin_iothread_of(dom, (int)tid) == id)
            return (int)tid;
    }
    return -1;
}

gboolean
core_pin_thread(struct domain *dom, int tid, const struct cpuset *set, const char *what,
                GError **error)
{
    cpu_set_t mask;
    if (!is_qemu_thread(dom, tid)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "thread %d of %s of domain '%s' is gone", tid, what, dom->def->name);
        return FALSE;
    }
    if (!cpuset_to_cpu_set(set, &mask) || sched_setaffinity(tid, sizeof(mask), &mask) < 0) {
        g_autofree char *text = cpuset_format(set);
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "cannot pin %s of domain '%s' to CPUs '%s': %s; name CPUs this host has online",
                what, dom->def->name, text, g_strerror(errno ? errno : EINVAL));
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_vcpu_thread(const struct domain *dom, int tid)
{
    for (guint i = 0; dom->vcpu_tids && i < dom->vcpu_tids->len; i++)
        if (g_array_index(dom->vcpu_tids, int, i) == tid)
            return TRUE;
    return FALSE;
}

/* Every thread of QEMU but the vCPUs' */
static gboolean
pin_emulator(struct domain *dom, const struct cpuset *set, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task", (int)dom->pid);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    if (!dir) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot list the threads of QEMU (pid %d) of domain '%s'", (int)dom->pid,
                dom->def->name);
        return FALSE;
    }
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
        guint64 tid = 0;
        if (!g_ascii_string_to_unsigned(entry, 10, 1, G_MAXINT, &tid, NULL) ||
            is_vcpu_thread(dom, (int)tid))
            continue;
        /* an IOThread with a pin of its own is pinned apart */
        unsigned io = core_pin_iothread_of(dom, (int)tid);
        struct iothread_def *t = io ? domain_def_iothread_find(dom->def, io) : NULL;
        if (t && t->cpuset)
            continue;
        /* a thread that ended since the listing is no failure */
        GError *e = NULL;
        if (!core_pin_thread(dom, (int)tid, set, "the emulator", &e)) {
            if (is_qemu_thread(dom, (int)tid)) {
                g_propagate_error(error, e);
                return FALSE;
            }
            g_error_free(e);
        }
    }
    return TRUE;
}

gboolean
core_pin_apply(struct domain *dom, GError **error)
{
    struct cpuset set;
    core_pin_emulator_set(dom->def, &set);
    if (!pin_emulator(dom, &set, error))
        return FALSE;
    for (guint i = 0; dom->vcpu_tids && i < dom->vcpu_tids->len; i++) {
        int tid = g_array_index(dom->vcpu_tids, int, i);
        if (tid <= 0)
            continue;
        g_autofree char *what = g_strdup_printf("vCPU %u", i);
        core_pin_vcpu_set(dom->def, i, &set);
        if (!core_pin_thread(dom, tid, &set, what, error))
            return FALSE;
    }
    for (guint i = 0; i < dom->def->iothreads->len; i++) {
        const struct iothread_def *t = dom->def->iothreads->pdata[i];
        int tid = t->cpuset ? core_pin_iothread_tid(dom, t->id) : -1;
        g_autofree char *what = g_strdup_printf("IOThread %u", t->id);
        if (tid > 0 && (!cpuset_parse(t->cpuset, &set, error) ||
                        !core_pin_thread(dom, tid, &set, what, error)))
            return FALSE;
    }
    return TRUE;
}

struct pin_query {
    struct domain *dom;
    void (*done)(struct domain *dom, GError *error, gpointer data);
    gpointer data;
};

static void
on_cpus(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct pin_query *q = data;
    GError *e = error ? g_error_copy(error) : NULL;
    if (!e) {
        core_vcpu_threads_learn(q->dom, result);
        if (!q->dom->vcpu_tids)
            err_set(&e, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                    "QEMU of domain '%s' did not list its vCPU threads", q->dom->def->name);
    }
    q->done(q->dom, e, q->data);
    if (e)
        g_error_free(e);
    core_domain_unref(q->dom);
    g_free(q);
}

void
core_pin_learn_threads(struct domain *dom,
                       void (*done)(struct domain *dom, GError *error, gpointer data),
                       gpointer data)
{
    struct pin_query *q = g_new0(struct pin_query, 1);
    q->dom = core_domain_ref(dom);
    q->done = done;
    q->data = data;
    qmp_command(dom->mon, "query-cpus-fast", NULL, on_cpus, q);
}

/* --- vcpupin and emulatorpin --- */

struct pin_request {
    int vcpu; /* -1: the emulator */
    struct cpuset set;
    gboolean config;
    core_done_fn done;
    gpointer data;
};

static void
pin_config(struct domain *dom, const struct pin_request *r, GError **error)
{
    struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
    char *text = cpuset_format(&r->set);
    if (r->vcpu < 0) {
        g_free(copy->emulatorpin);
        copy->emulatorpin = text;
    } else {
        if ((guint)r->vcpu >= copy->vcpupins->len)
            g_ptr_array_set_size(copy->vcpupins, (guint)r->vcpu + 1);
        g_free(copy->vcpupins->pdata[r->vcpu]);
        copy->vcpupins->pdata[r->vcpu] = text;
    }
    core_domain_keep_config(dom, copy, error);
}

/* Live: the thread(s) first, then the live definition says so */
static gboolean
pin_live(struct domain *dom, const struct pin_request *r, GError **error)
{
    g_autofree char *text = cpuset_format(&r->set);
    if (r->vcpu < 0) {
        if (!pin_emulator(dom, &r->set, error))
            return FALSE;
        g_free(dom->def->emulatorpin);
        dom->def->emulatorpin = g_steal_pointer(&text);
    } else {
        int tid =
            (guint)r->vcpu < dom->vcpu_tids->len ? g_array_index(dom->vcpu_tids, int, r->vcpu) : 0;
        g_autofree char *what = g_strdup_printf("vCPU %d", r->vcpu);
        /* an offline vCPU keeps the pin for when it is plugged */
        if (tid > 0 && !core_pin_thread(dom, tid, &r->set, what, error))
            return FALSE;
        if ((guint)r->vcpu >= dom->def->vcpupins->len)
            g_ptr_array_set_size(dom->def->vcpupins, (guint)r->vcpu + 1);
        g_free(dom->def->vcpupins->pdata[r->vcpu]);
        dom->def->vcpupins->pdata[r->vcpu] = g_steal_pointer(&text);
    }
    GError *e = NULL;
    dom->updated = TRUE;
    if (!core_status_write(dom, &e)) {
        log_warn("%s: %s", dom->def->name, e->message);
        g_error_free(e);
    }
    /* libvirt's tunable event: the pin as a CPU list */
    g_autoptr(GPtrArray) params = typed_params_new();
    g_autofree char *field = r->vcpu < 0 ? g_strdup("cputune.emulatorpin")
                                         : g_strdup_printf("cputune.vcpupin%d", r->vcpu);
    g_autofree char *list = cpuset_format(&r->set);
    typed_params_add_string(params, field, list);
    core_domain_emit_tunable(dom, params);
    return TRUE;
}

static void
pin_request_end(struct domain *dom, struct pin_request *r, GError *error)
{
    r->done(error, r->data);
    if (error)
        g_error_free(error);
    g_free(r);
}

static void
on_threads(struct domain *dom, GError *error, gpointer data)
{
    struct pin_request *r = data;
    GError *e = NULL;
    if (error)
        e = g_error_copy(error);
    else if (!state_is_active(dom->state) || !dom->mon)
        err_set(&e, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
    else if (pin_live(dom, r, &e) && r->config)
        pin_config(dom, r, &e);
    pin_request_end(dom, r, e);
}

void
core_domain_pin(struct domain *dom, int vcpu, const struct cpuset *set, unsigned flags,
                core_done_fn done, gpointer data)
{
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    gboolean any = FALSE;
    for (guint c = 0; c < CPUSET_MAX && !any; c++)
        any = cpuset_has(set, c);
    if (core_domain_impact(dom, flags, &live, &config, &error)) {
        if (config && vcpu >= 0 && (unsigned)vcpu >= core_persistent_def(dom)->vcpus)
            err_set(&error, ORIGIN, ERR_INVALID_ARG,
                    "vcpu %d is out of range of persistent cpu count %u", vcpu,
                    core_persistent_def(dom)->vcpus);
        else if (live && vcpu >= 0 && (unsigned)vcpu >= dom->def->vcpus)
            err_set(&error, ORIGIN, ERR_INVALID_ARG, "vcpu %d is out of range of live cpu count %u",
                    vcpu, dom->def->vcpus);
        else if (!any)
            err_set(&error, ORIGIN, ERR_INVALID_ARG, "Empty cpu list for pinning");
    }
    struct pin_request *r = g_new0(struct pin_request, 1);
    r->vcpu = vcpu;
    r->set = *set;
    r->config = config;
    r->done = done;
    r->data = data;
    if (!error && !live)
        pin_config(dom, r, &error);
    if (error || !live) {
        pin_request_end(dom, r, error);
        return;
    }
    /* the vCPU threads are asked each time: a vCPU may have been plugged since */
    core_pin_learn_threads(dom, on_threads, r);
}
