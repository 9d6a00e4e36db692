/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_cpu: CPU compare and baseline (virConnectCompareCPU, virConnectBaselineCPU and their
 * hypervisor forms) over the CPU models QEMU's probe expanded (qemu/caps.c, conf/cpu_map.c).
 * The hypervisor's CPU is what TCG gives a guest at most ("max"); what KVM gives is not probed,
 * so a kvm virttype is refused as libvirt refuses a hypervisor it cannot read a CPU of. The
 * host's own CPU (virConnectCompareCPU) is the CPUID flags /proc/cpuinfo lists. */
#include <gio/gio.h>

#include "conf/cpu_map.h"
#include "conf/nodeinfo.h"
#include "daemon/daemon.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* REMOTE_CPU_BASELINE_MAX */
#define CPU_BASELINE_MAX 256

/* virConnectCompareCPUFlags */
enum { COMPARE_FAIL_INCOMPATIBLE = 1 << 0, COMPARE_VALIDATE_XML = 1 << 1 };

/* remote_connect_{compare,baseline}{,_hypervisor}_cpu_args: the hypervisor's emulator, arch,
 * machine and virttype (hypervisor forms), one CPU or a list (then flags) */
struct cpu_args {
    char *emulator, *arch, *machine, *virttype;
    GPtrArray *xml; /* char * */
};

static void
dec_hv(struct xdr_reader *r, struct cpu_args *a)
{
    a->emulator = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->arch = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->machine = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->virttype = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
dec_one(struct xdr_reader *r, struct cpu_args *a)
{
    a->xml = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a->xml, xdr_get_string(r, RPC_STRING_MAX));
}

static void
dec_list(struct xdr_reader *r, struct cpu_args *a)
{
    a->xml = g_ptr_array_new_with_free_func(g_free);
    uint32_t n = xdr_get_count(r, CPU_BASELINE_MAX, 4);
    for (uint32_t i = 0; i < n && !r->failed; i++)
        g_ptr_array_add(a->xml, xdr_get_string(r, RPC_STRING_MAX));
}

static void
dec_compare(struct xdr_reader *r, void *args)
{
    dec_one(r, args);
}

static void
dec_baseline(struct xdr_reader *r, void *args)
{
    dec_list(r, args);
}

static void
dec_hv_compare(struct xdr_reader *r, void *args)
{
    dec_hv(r, args);
    dec_one(r, args);
}

static void
dec_hv_baseline(struct xdr_reader *r, void *args)
{
    dec_hv(r, args);
    dec_list(r, args);
}

static void
clear_cpu_args(void *args)
{
    struct cpu_args *a = args;
    g_free(a->emulator);
    g_free(a->arch);
    g_free(a->machine);
    g_free(a->virttype);
    if (a->xml)
        g_ptr_array_unref(a->xml);
}

static const struct args_type args_compare = {sizeof(struct cpu_args), dec_compare, clear_cpu_args};
static const struct args_type args_baseline = {sizeof(struct cpu_args), dec_baseline,
                                               clear_cpu_args};
static const struct args_type args_hv_compare = {sizeof(struct cpu_args), dec_hv_compare,
                                                 clear_cpu_args};
static const struct args_type args_hv_baseline = {sizeof(struct cpu_args), dec_hv_baseline,
                                                  clear_cpu_args};

/* A call waiting for the QEMU capabilities, then for its worker: its arguments, copied (the
 * call's end with the handler), and what the worker found */
struct cpu_call {
    struct call *call;
    uint32_t proc;
    unsigned flags;
    struct cpu_args args;
    struct qemu_caps *caps; /* a reference, once known */
    int result;             /* a compare's */
    char *xml;              /* a baseline's */
};

/* The models CAPS expanded; FALSE with ERROR when QEMU expanded none */
static gboolean
map_of(const struct qemu_caps *caps, struct cpu_map *map, GArray *models, GError **error)
{
    if (qemu_caps_cpu_map(caps, map, models))
        return TRUE;
    err_set(error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
            "QEMU '%s' does not support any CPU models for virttype 'qemu'",
            qemu_caps_get_binary(caps));
    return FALSE;
}

/* The hypervisor's CPU for the call's target: TCG's "max" */
static const struct qemu_caps_cpu_model *
hv_cpu(const struct qemu_caps *caps, const struct cpu_args *a, GError **error)
{
    struct hv_target t;
    if (!daemon_hv_target(caps, a->emulator, a->arch, a->machine, a->virttype, &t, error))
        return NULL;
    const struct qemu_caps_cpu_model *max = qemu_caps_get_cpu_max(caps);
    if (g_str_equal(t.virttype, "kvm") || !max) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                "QEMU '%s' does not support reporting CPU model for virttype '%s'",
                qemu_caps_get_binary(caps), t.virttype);
        return NULL;
    }
    return max;
}

/* The call's CPUs, parsed (AS_HOST: as host CPUs); NULL with ERROR */
static GPtrArray *
parse_cpus(const struct cpu_args *a, gboolean as_host, GError **error)
{
    if (a->xml->len == 0) {
        err_set(error, ERR_FROM_CPU, ERR_INVALID_ARG, "%s",
                "no CPU to compute a baseline of: give at least one <cpu>");
        return NULL;
    }
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)cpu_xml_free);
    for (guint i = 0; i < a->xml->len; i++) {
        struct cpu_xml *cpu = cpu_xml_parse(a->xml->pdata[i], as_host, error);
        if (!cpu)
            return NULL;
        g_ptr_array_add(cpus, cpu);
    }
    return g_steal_pointer(&cpus);
}

/* Compare: 0/1/2 to reply, or -1 with ERROR */
static int
compare(const struct qemu_caps *caps, const struct cpu_map *map, struct cpu_call *cc,
        GError **error)
{
    g_autoptr(GPtrArray) cpus = parse_cpus(&cc->args, FALSE, error);
    if (!cpus)
        return -1;
    gboolean fail = (cc->flags & COMPARE_FAIL_INCOMPATIBLE) != 0;
    if (cc->proc == PROC_CONNECT_COMPARE_CPU) {
        /* the host's CPU, as its capabilities describe it */
        g_auto(GStrv) flags = nodeinfo_cpu_flags();
        g_autofree char *vendor = nodeinfo_cpu_vendor();
        g_autoptr(GPtrArray) host =
            flags ? cpu_map_host_features(map, vendor, (const char *const *)flags) : NULL;
        if (host)
            g_ptr_array_add(host, NULL);
        return cpu_map_compare(map, vendor, host ? (const char *const *)host->pdata : NULL,
                               cpus->pdata[0], fail, error);
    }
    const struct qemu_caps_cpu_model *hv = hv_cpu(caps, &cc->args, error);
    if (!hv)
        return -1;
    return cpu_map_compare(map, hv->vendor, (const char *const *)hv->features, cpus->pdata[0], fail,
                           error);
}

static char *
baseline(const struct qemu_caps *caps, const struct cpu_map *map, struct cpu_call *cc,
         GError **error)
{
    gboolean hypervisor = cc->proc == PROC_CONNECT_BASELINE_HYPERVISOR_CPU;
    const struct qemu_caps_cpu_model *hv = hypervisor ? hv_cpu(caps, &cc->args, error) : NULL;
    if (hypervisor && !hv)
        return NULL;
    g_autoptr(GPtrArray) cpus = parse_cpus(&cc->args, !hypervisor, error);
    if (!cpus)
        return NULL;
    return cpu_map_baseline(map, (struct cpu_xml *const *)cpus->pdata, cpus->len,
                            hv ? (const char *const *)hv->features : NULL, hypervisor, cc->flags,
                            error);
}

static void
cpu_call_free(struct cpu_call *cc)
{
    clear_cpu_args(&cc->args);
    if (cc->caps)
        qemu_caps_unref(cc->caps);
    g_free(cc->xml);
    g_free(cc);
}

/* The computation, in a worker: a client's documents may be large */
static void
compute_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    struct cpu_call *cc = data;
    GError *error = NULL;
    struct cpu_map map;
    g_autoptr(GArray) models = g_array_new(FALSE, FALSE, sizeof(struct cpu_map_model));
    if (!map_of(cc->caps, &map, models, &error)) {
        g_task_return_error(task, error);
    } else if (cc->proc == PROC_CONNECT_COMPARE_CPU ||
               cc->proc == PROC_CONNECT_COMPARE_HYPERVISOR_CPU) {
        cc->result = compare(cc->caps, &map, cc, &error);
        if (cc->result < 0)
            g_task_return_error(task, error);
        else
            g_task_return_boolean(task, TRUE);
    } else {
        cc->xml = baseline(cc->caps, &map, cc, &error);
        if (!cc->xml)
            g_task_return_error(task, error);
        else
            g_task_return_boolean(task, TRUE);
    }
}

static void
computed(GObject *source, GAsyncResult *res, gpointer unused)
{
    struct cpu_call *cc = g_task_get_task_data(G_TASK(res));
    GError *error = NULL;
    if (!g_task_propagate_boolean(G_TASK(res), &error))
        dispatch_fail(cc->call, error);
    else if (cc->xml)
        dispatch_reply_string(cc->call, cc->xml);
    else
        dispatch_reply_int(cc->call, cc->result);
}

static void
done_caps(gpointer value, const GError *caps_error, gpointer data)
{
    struct cpu_call *cc = data;
    if (caps_error) {
        call_fail(cc->call, caps_error);
        cpu_call_free(cc);
        return;
    }
    cc->caps = value;
    GTask *task = g_task_new(NULL, NULL, computed, NULL);
    g_task_set_task_data(task, cc, (GDestroyNotify)cpu_call_free);
    g_task_run_in_thread(task, compute_in_thread);
    g_object_unref(task);
}

static void
h_cpu(struct call *call, const struct call_ctx *ctx)
{
    const struct cpu_args *a = ctx->args;
    struct cpu_call *cc = g_new0(struct cpu_call, 1);
    cc->call = call;
    cc->proc = call->hdr.proc;
    cc->flags = ctx->flags;
    cc->args.emulator = g_strdup(a->emulator);
    cc->args.arch = g_strdup(a->arch);
    cc->args.machine = g_strdup(a->machine);
    cc->args.virttype = g_strdup(a->virttype);
    cc->args.xml = g_ptr_array_ref(a->xml);
    daemon_qemu_caps(done_caps, cc);
}

#define R RPC_PROGRAM_REMOTE
#define N HANDLE_NONE
#define COMPARE_FLAGS (COMPARE_FAIL_INCOMPATIBLE | COMPARE_VALIDATE_XML)
#define BASELINE_FLAGS (CPU_BASELINE_EXPAND_FEATURES | CPU_BASELINE_MIGRATABLE)
const struct proc_def cpu_procs[] = {
    {R, PROC_CONNECT_COMPARE_CPU, N, &args_compare, TRUE, COMPARE_FLAGS, h_cpu},
    {R, PROC_CONNECT_BASELINE_CPU, N, &args_baseline, TRUE, BASELINE_FLAGS, h_cpu},
    {R, PROC_CONNECT_COMPARE_HYPERVISOR_CPU, N, &args_hv_compare, TRUE, COMPARE_FLAGS, h_cpu},
    {R, PROC_CONNECT_BASELINE_HYPERVISOR_CPU, N, &args_hv_baseline, TRUE, BASELINE_FLAGS, h_cpu},
};
#undef R
#undef N
const gsize cpu_procs_count = G_N_ELEMENTS(cpu_procs);
