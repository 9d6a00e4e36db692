/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_host: the connection and the host: open, close, features, versions, capabilities, node
 * facts. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glob.h>

#include "conf/capabilities.h"
#include "conf/domcaps.h"
#include "conf/nodeinfo.h"
#include "core/core.h"
#include "core/guest.h"
#include "daemon/daemon.h"
#include "daemon/dispatch.h"
#include "qemu/caps.h"
#include "util/err.h"

#define DOMUS_LIB_VERSION 9000000ULL /* the libvirt API level we speak: 9.0.0 */
#define TCG_MAX_VCPUS 16             /* what libvirt answers for type 'qemu' */
#define KVM_CHECK_EXTENSION 0xAE03   /* _IO(KVMIO, 0x03) */
#define KVM_CAP_NR_VCPUS 9
#define KVM_CAP_MAX_VCPUS 66

/* virConnectFlags */
enum { CONNECT_RO = 1, CONNECT_NO_ALIASES = 2 };

static void
h_auth_list(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, 1);
    xdr_put_i32(b, 0); /* REMOTE_AUTH_NONE: access is the socket's permissions */
    call_reply(call, b);
}

static void
h_supports_feature(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    int yes = 0;
    switch (a->v) {
    case RPC_FEATURE_PROGRAM_KEEPALIVE:
        client_enable_keepalive(call->client);
        yes = 1;
        break;
    case RPC_FEATURE_FD_PASSING:
        /* descriptors travel on unix sockets only */
        yes = call_can_pass_fds(call);
        break;
    /* migration: the v3 protocol with parameters, managed by the client or peer to peer, also
     * offline; the
     * definition in migratable form (dumpxml --migratable) */
    case RPC_FEATURE_MIGRATION_V3:
    case RPC_FEATURE_MIGRATION_P2P:
    case RPC_FEATURE_MIGRATION_PARAMS:
    case RPC_FEATURE_MIGRATION_OFFLINE:
    case RPC_FEATURE_XML_MIGRATABLE:
    case RPC_FEATURE_REMOTE_EVENT_CALLBACK:
    case RPC_FEATURE_REMOTE_CLOSE_CALLBACK:
    case RPC_FEATURE_TYPED_PARAM_STRING:
    case RPC_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER:
        yes = 1;
        break;
    default:
        yes = 0;
    }
    dispatch_reply_int(call, yes);
}

static void
h_open(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_opt_string *a = ctx->args;
    GError *error = NULL;
    if (call->client->opened) {
        err_set(&error, ERR_FROM_REMOTE, ERR_INTERNAL_ERROR, "connection already open");
        dispatch_fail(call, error);
        return;
    }
    /* we are the QEMU driver: accept qemu:///… and domus:///… names, or none */
    if (a->s && *a->s && !g_str_has_prefix(a->s, "qemu:") && !g_str_has_prefix(a->s, "domus:")) {
        err_set(&error, ERR_FROM_REMOTE, ERR_NO_SUPPORT,
                "this daemon serves only the QEMU driver, not '%s'", a->s);
        dispatch_fail(call, error);
        return;
    }
    if (ctx->flags & CONNECT_RO)
        call->client->readonly = TRUE;
    call->client->opened = TRUE;
    call_reply(call, NULL);
}

static void
h_empty(struct call *call, const struct call_ctx *ctx)
{
    call_reply(call, NULL);
}

static void
h_get_type(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_string(call, "QEMU");
}

static void
done_version(gpointer value, const GError *error, gpointer data)
{
    struct call *call = data;
    g_autoptr(qemu_caps) caps = value;
    if (error)
        call_fail(call, error);
    else
        dispatch_reply_u64(call, qemu_caps_get_version(caps));
}

static void
h_get_version(struct call *call, const struct call_ctx *ctx)
{
    daemon_qemu_caps(done_version, call);
}

static void
h_get_lib_version(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_u64(call, DOMUS_LIB_VERSION);
}

static void
h_get_hostname(struct call *call, const struct call_ctx *ctx)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    dispatch_reply_string(call, host);
}

static void
h_get_sysinfo(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    g_autofree char *xml = nodeinfo_sysinfo("/sys/class/dmi/id", &error);
    if (!xml)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, xml);
}

static void
h_get_uri(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_string(call, "qemu:///system");
}

static void
h_is_secure(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, 1); /* a local unix socket */
}

/* What the host's KVM allows, as libvirt asks it (KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS). */
static int
kvm_max_vcpus(GError **error)
{
    int fd = qemu_caps_kvm_usable() ? open("/dev/kvm", O_RDWR | O_CLOEXEC) : -1;
    if (fd < 0) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "domain type 'kvm' is not available on this host (no usable /dev/kvm); "
                "its capabilities offer type 'qemu'");
        return -1;
    }
    int n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0)
        n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    close(fd);
    return n > 0 ? n : 4; /* KVM's documented floor when it does not say */
}

static void
h_get_max_vcpus(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_opt_string *a = ctx->args;
    GError *error = NULL;
    if (!a->s || g_ascii_strcasecmp(a->s, "qemu") == 0) {
        dispatch_reply_int(call, TCG_MAX_VCPUS);
        return;
    }
    if (g_ascii_strcasecmp(a->s, "kvm") != 0) {
        err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "unknown type '%s'; use 'qemu' or 'kvm'",
                a->s);
        dispatch_fail(call, error);
        return;
    }
    int n = kvm_max_vcpus(&error);
    if (n < 0)
        dispatch_fail(call, error);
    else
        dispatch_reply_int(call, n);
}

static void
done_capabilities(gpointer value, const GError *error, gpointer data)
{
    struct call *call = data;
    g_autofree char *xml = value;
    if (error)
        call_fail(call, error);
    else
        dispatch_reply_string(call, xml);
}

static void
h_get_capabilities(struct call *call, const struct call_ctx *ctx)
{
    daemon_capabilities_xml(done_capabilities, call);
}

/* remote_connect_get_domain_capabilities_args (then flags) */
struct domcaps_args {
    char *emulator, *arch, *machine, *virttype;
};

static void
dec_domcaps(struct xdr_reader *r, void *args)
{
    struct domcaps_args *a = args;
    a->emulator = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->arch = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->machine = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->virttype = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_domcaps(void *args)
{
    struct domcaps_args *a = args;
    g_free(a->emulator);
    g_free(a->arch);
    g_free(a->machine);
    g_free(a->virttype);
}

static const struct args_type args_domcaps = {sizeof(struct domcaps_args), dec_domcaps,
                                              clear_domcaps};

struct domcaps_call {
    struct call *call;
    struct domcaps_args args; /* copied: the call's arguments end with the handler */
};

gboolean
daemon_hv_target(const struct qemu_caps *caps, const char *emulator, const char *arch,
                 const char *machine, const char *virttype, struct hv_target *ret, GError **error)
{
    const char *binary = qemu_caps_get_binary(caps);
    gboolean kvm_usable = qemu_caps_kvm_usable() && qemu_caps_get_kvm_supported(caps);
    struct hv_target t = {
        .virttype = virttype     ? virttype
                    : kvm_usable ? "kvm"
                                 : "qemu",
        .arch = arch ? arch : "x86_64",
        .machine = machine ? qemu_caps_get_canonical_machine(caps, machine)
                           : qemu_caps_get_default_machine(caps),
    };
    if (!g_str_equal(t.virttype, "qemu") && !g_str_equal(t.virttype, "kvm")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "unknown virttype '%s'; this daemon runs 'qemu' (TCG) and 'kvm'", t.virttype);
    } else if (g_str_equal(t.virttype, "kvm") &&
               (!kvm_usable || (t.kvm_max = kvm_max_vcpus(NULL)) < 0)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "KVM is not supported by '%s' on this host; ask for virttype 'qemu'", binary);
    } else if (emulator && !g_str_equal(emulator, binary)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "emulator '%s' is not the one this daemon runs ('%s')", emulator, binary);
    } else if (!g_str_equal(t.arch, "x86_64") && !g_str_equal(t.arch, "i686")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "unable to find any emulator to serve '%s' architecture; this host runs x86_64 "
                "and i686 guests",
                t.arch);
    } else if (!t.machine) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "the machine '%s' is not supported by emulator '%s'", machine, binary);
    } else {
        *ret = t;
        return TRUE;
    }
    return FALSE;
}

/* The document for what A asks of the emulator CAPS; NULL with ERROR */
static char *
domcaps_xml(const struct qemu_caps *caps, const struct domcaps_args *a, GError **error)
{
    struct hv_target t;
    if (!daemon_hv_target(caps, a->emulator, a->arch, a->machine, a->virttype, &t, error))
        return NULL;
    const char *binary = qemu_caps_get_binary(caps);
    const char *virttype = t.virttype, *arch = t.arch, *machine = t.machine;
    int kvm_max = t.kvm_max;
    gsize n_machines = 0, n_models = 0;
    const struct qemu_caps_machine *machines = qemu_caps_get_machines(caps, &n_machines);
    guint max_vcpus = 0;
    for (gsize i = 0; i < n_machines; i++)
        if (g_str_equal(machines[i].name, machine))
            max_vcpus = machines[i].cpu_max;
    if (kvm_max > 0 && (guint)kvm_max < max_vcpus)
        max_vcpus = (guint)kvm_max;
    const struct qemu_caps_cpu_model *models = qemu_caps_get_cpu_models(caps, &n_models);
    g_autofree struct domcaps_cpu_model *cpu = g_new0(struct domcaps_cpu_model, n_models + 1);
    for (gsize i = 0; i < n_models; i++) {
        cpu[i].name = models[i].name;
        /* the probe ran TCG: what KVM offers of a model is not known here */
        cpu[i].usable = g_str_equal(virttype, "kvm") ? "unknown" : models[i].usable ? "yes" : "no";
    }
    /* host-model under TCG: its "max" as libvirt decodes it (KVM's "host" is not probed) */
    const struct qemu_caps_cpu_model *max = qemu_caps_get_cpu_max(caps);
    struct cpu_map map;
    g_autoptr(GArray) map_models = g_array_new(FALSE, FALSE, sizeof(struct cpu_map_model));
    const char *host_model = NULL;
    g_autoptr(GPtrArray) require = NULL, disable = NULL;
    if (g_str_equal(virttype, "qemu") && max && qemu_caps_cpu_map(caps, &map, map_models) &&
        cpu_map_decode(&map, max->vendor, (const char *const *)max->features, &host_model, &require,
                       &disable)) {
        g_ptr_array_add(require, NULL);
        g_ptr_array_add(disable, NULL);
    }
    glob_t found = {0};
    int globbed = glob("/usr/share/OVMF/OVMF_CODE*.fd", 0, NULL, &found);
    struct domcaps dc = {
        .path = binary,
        .domain = virttype,
        .machine = machine,
        .arch = arch,
        .max_vcpus = max_vcpus,
        .loaders = globbed == 0 ? (const char *const *)found.gl_pathv : NULL,
        .host_passthrough = g_str_equal(virttype, "kvm"),
        .cpu_models = cpu,
        .n_cpu_models = n_models,
        .vfio = access("/dev/vfio/vfio", F_OK) == 0,
        .spice = qemu_caps_has_spice(caps),
        .host_model = host_model,
        .host_model_vendor = host_model ? max->vendor : NULL,
        .host_model_require = host_model ? (const char *const *)require->pdata : NULL,
        .host_model_disable = host_model ? (const char *const *)disable->pdata : NULL,
    };
    char *xml = domcaps_format(&dc);
    globfree(&found);
    return xml;
}

static void
done_domcaps(gpointer value, const GError *error, gpointer data)
{
    struct domcaps_call *dc = data;
    g_autoptr(qemu_caps) caps = value;
    GError *e = NULL;
    g_autofree char *xml = caps ? domcaps_xml(caps, &dc->args, &e) : NULL;
    if (error)
        call_fail(dc->call, error);
    else if (!xml)
        dispatch_fail(dc->call, e);
    else
        dispatch_reply_string(dc->call, xml);
    clear_domcaps(&dc->args);
    g_free(dc);
}

static void
h_get_domain_capabilities(struct call *call, const struct call_ctx *ctx)
{
    const struct domcaps_args *a = ctx->args;
    struct domcaps_call *dc = g_new0(struct domcaps_call, 1);
    dc->call = call;
    dc->args.emulator = g_strdup(a->emulator);
    dc->args.arch = g_strdup(a->arch);
    dc->args.machine = g_strdup(a->machine);
    dc->args.virttype = g_strdup(a->virttype);
    daemon_qemu_caps(done_domcaps, dc);
}

/* remote_connect_get_cpu_model_names_args: arch, need_results (then flags) */
struct cpu_models_args {
    char *arch;
    int32_t need;
};

static void
dec_cpu_models(struct xdr_reader *r, void *args)
{
    struct cpu_models_args *a = args;
    a->arch = xdr_get_string(r, RPC_STRING_MAX);
    a->need = xdr_get_i32(r);
}

static void
clear_cpu_models(void *args)
{
    g_free(((struct cpu_models_args *)args)->arch);
}

static const struct args_type args_cpu_models = {sizeof(struct cpu_models_args), dec_cpu_models,
                                                 clear_cpu_models};

struct cpu_models_call {
    struct call *call;
    char *arch;
    gboolean need;
};

/* The models QEMU's probe lists for the architectures this host runs (what a <cpu
 * mode='custom'> may name), QEMU's own names, in its order */
static void
done_cpu_models(gpointer value, const GError *error, gpointer data)
{
    struct cpu_models_call *m = data;
    g_autoptr(qemu_caps) caps = value;
    if (error) {
        call_fail(m->call, error);
    } else if (!g_str_equal(m->arch, "x86_64") && !g_str_equal(m->arch, "i686")) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_CAPABILITIES, ERR_INVALID_ARG,
                "no CPU models for architecture '%s'; this host runs x86_64 and i686 guests",
                m->arch);
        dispatch_fail(m->call, e);
    } else {
        gsize n = 0;
        const struct qemu_caps_cpu_model *models = qemu_caps_get_cpu_models(caps, &n);
        g_autoptr(GByteArray) b = g_byte_array_new();
        xdr_put_u32(b, m->need ? (uint32_t)n : 0);
        for (gsize i = 0; m->need && i < n; i++)
            xdr_put_string(b, models[i].name);
        xdr_put_i32(b, (int32_t)n);
        call_reply(m->call, b);
    }
    g_free(m->arch);
    g_free(m);
}

static void
h_get_cpu_model_names(struct call *call, const struct call_ctx *ctx)
{
    const struct cpu_models_args *a = ctx->args;
    struct cpu_models_call *m = g_new0(struct cpu_models_call, 1);
    m->call = call;
    m->arch = g_strdup(a->arch);
    m->need = a->need != 0;
    daemon_qemu_caps(done_cpu_models, m);
}

static void
h_node_get_info(struct call *call, const struct call_ctx *ctx)
{
    struct nodeinfo ni;
    GError *error = NULL;
    if (!nodeinfo_get(&ni, &error)) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_char_fixed(b, ni.model, 32);
    xdr_put_u64(b, ni.memory);
    xdr_put_i32(b, (int32_t)ni.cpus);
    xdr_put_i32(b, (int32_t)ni.mhz);
    xdr_put_i32(b, (int32_t)ni.nodes);
    xdr_put_i32(b, (int32_t)ni.sockets);
    xdr_put_i32(b, (int32_t)ni.cores);
    xdr_put_i32(b, (int32_t)ni.threads);
    call_reply(call, b);
}

static void
h_node_free_memory(struct call *call, const struct call_ctx *ctx)
{
    guint64 bytes;
    GError *error = NULL;
    if (!nodeinfo_get_free_memory(&bytes, &error))
        dispatch_fail(call, error);
    else
        dispatch_reply_u64(call, bytes);
}

static void
h_node_security_model(struct call *call, const struct call_ctx *ctx)
{
    /* as libvirtd with security_driver "none": model "none", doi "0", NUL included */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_char_array(b, "none", 5);
    xdr_put_char_array(b, "0", 2);
    call_reply(call, b);
}

/* remote_connect_domain_xml_to_native_args: nativeFormat, domainXml (then flags) */
struct to_native_args {
    char *format;
    char *xml;
};

static void
dec_to_native(struct xdr_reader *r, void *args)
{
    struct to_native_args *a = args;
    a->format = xdr_get_string(r, RPC_STRING_MAX);
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_to_native(void *args)
{
    struct to_native_args *a = args;
    g_free(a->format);
    g_free(a->xml);
}

static const struct args_type args_to_native = {sizeof(struct to_native_args), dec_to_native,
                                                clear_to_native};

static void
h_xml_to_native(struct call *call, const struct call_ctx *ctx)
{
    const struct to_native_args *a = ctx->args;
    GError *error = NULL;
    g_autofree char *native = core_xml_to_native(dispatch_core(call), a->format, a->xml, &error);
    if (!native)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, native);
}

/* remote_node_get_free_pages_args: pages<REMOTE_NODE_MAX_CELLS> (KiB), startCell, cellCount
 * (then flags) */
#define NODE_MAX_CELLS 1024

struct free_pages_args {
    GArray *pages; /* guint */
    int32_t start;
    uint32_t count;
};

static void
dec_free_pages(struct xdr_reader *r, void *args)
{
    struct free_pages_args *a = args;
    uint32_t n = xdr_get_count(r, NODE_MAX_CELLS, 4);
    a->pages = g_array_new(FALSE, FALSE, sizeof(guint));
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        guint v = xdr_get_u32(r);
        g_array_append_val(a->pages, v);
    }
    a->start = xdr_get_i32(r);
    a->count = xdr_get_u32(r);
}

static void
clear_free_pages(void *args)
{
    struct free_pages_args *a = args;
    if (a->pages)
        g_array_unref(a->pages);
}

static const struct args_type args_free_pages = {sizeof(struct free_pages_args), dec_free_pages,
                                                 clear_free_pages};

/* The cells from START (-1: the host's pools) that a free or alloc pages call covers: *RET_LAST;
 * libvirt's error for a start beyond the host's cells */
static gboolean
page_cells(int32_t start, uint32_t count, int *ret_last, GError **error)
{
    struct nodeinfo info;
    if (!nodeinfo_get(&info, error))
        return FALSE;
    int last = (int)info.nodes - 1;
    if (start < -1 || start > last) {
        err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "start cell %d out of range (0-%d)",
                start, last);
        return FALSE;
    }
    *ret_last = (int)MIN((gint64)last, (gint64)start + count - 1);
    return TRUE;
}

/* virNodeGetFreePages: for each cell from START on (at most COUNT, up to the host's last; -1:
 * the whole host), the free pages of each size asked, as libvirt counts them */
static void
h_node_free_pages(struct call *call, const struct call_ctx *ctx)
{
    const struct free_pages_args *a = ctx->args;
    GError *error = NULL;
    if ((guint64)a->pages->len * a->count > NODE_MAX_CELLS) {
        err_set(&error, ERR_FROM_NONE, ERR_INTERNAL_ERROR,
                "the result won't fit into REMOTE_NODE_MAX_CELLS");
        dispatch_fail(call, error);
        return;
    }
    int last = 0;
    if (!page_cells(a->start, a->count, &last, &error)) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GArray) counts = g_array_new(FALSE, FALSE, sizeof(guint64));
    for (int cell = a->start; cell <= last; cell++) {
        for (guint i = 0; i < a->pages->len; i++) {
            guint64 avail = 0;
            if (!nodeinfo_page_info(cell, g_array_index(a->pages, guint, i), NULL, &avail,
                                    &error)) {
                dispatch_fail(call, error);
                return;
            }
            g_array_append_val(counts, avail);
        }
    }
    if (counts->len == 0) {
        err_set(&error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "no suitable info found");
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    xdr_put_u32(out, counts->len);
    for (guint i = 0; i < counts->len; i++)
        xdr_put_u64(out, g_array_index(counts, guint64, i));
    call_reply(call, out);
}

/* remote_node_alloc_pages_args: pageSizes<REMOTE_NODE_MAX_CELLS> (KiB),
 * pageCounts<REMOTE_NODE_MAX_CELLS>, startCell, cellCount (then flags) */
struct alloc_pages_args {
    GArray *sizes;  /* guint */
    GArray *counts; /* guint64 */
    int32_t start;
    uint32_t count;
};

static void
dec_alloc_pages(struct xdr_reader *r, void *args)
{
    struct alloc_pages_args *a = args;
    a->sizes = g_array_new(FALSE, FALSE, sizeof(guint));
    a->counts = g_array_new(FALSE, FALSE, sizeof(guint64));
    uint32_t n = xdr_get_count(r, NODE_MAX_CELLS, 4);
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        guint v = xdr_get_u32(r);
        g_array_append_val(a->sizes, v);
    }
    n = xdr_get_count(r, NODE_MAX_CELLS, 8);
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        guint64 v = xdr_get_u64(r);
        g_array_append_val(a->counts, v);
    }
    a->start = xdr_get_i32(r);
    a->count = xdr_get_u32(r);
}

static void
clear_alloc_pages(void *args)
{
    struct alloc_pages_args *a = args;
    if (a->sizes)
        g_array_unref(a->sizes);
    if (a->counts)
        g_array_unref(a->counts);
}

static const struct args_type args_alloc_pages = {sizeof(struct alloc_pages_args), dec_alloc_pages,
                                                  clear_alloc_pages};

#define ALLOC_PAGES_SET 1 /* VIR_NODE_ALLOC_PAGES_SET; without it the counts are added */

/* virNodeAllocPages: each size's pool in each cell set to its count (or grown by it); how many
 * pools were seen to */
static void
h_node_alloc_pages(struct call *call, const struct call_ctx *ctx)
{
    const struct alloc_pages_args *a = ctx->args;
    GError *error = NULL;
    int last = 0, done = 0;
    if (a->sizes->len != a->counts->len) {
        err_set(&error, ERR_FROM_NONE, ERR_INVALID_ARG,
                "%u page sizes and %u page counts given; give a count for each size", a->sizes->len,
                a->counts->len);
    } else if (page_cells(a->start, a->count, &last, &error)) {
        gboolean add = !(ctx->flags & ALLOC_PAGES_SET);
        for (int cell = a->start; cell <= last && !error; cell++)
            for (guint i = 0; i < a->sizes->len && !error; i++)
                if (nodeinfo_set_page_pool(cell, g_array_index(a->sizes, guint, i),
                                           g_array_index(a->counts, guint64, i), add, &error))
                    done++;
    }
    if (error)
        dispatch_fail(call, error);
    else
        dispatch_reply_int(call, done);
}

/* virNodeGetMemoryParameters: KSM's fields, the count first asked for when NPARAMS is 0 */
static void
h_node_get_memory_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    if (a->v < 0 || !dispatch_check_max(call, a->v, 64))
        return;
    g_autoptr(GArray) ksm = nodeinfo_ksm_get(&error);
    if (!ksm) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    guint n = a->v == 0 ? 0 : MIN((guint)a->v, ksm->len);
    xdr_put_u32(out, n);
    for (guint i = 0; i < n; i++) {
        const struct nodeinfo_ksm *k = &g_array_index(ksm, struct nodeinfo_ksm, i);
        if (k->counter)
            dispatch_param_ullong(out, k->field, k->value);
        else
            dispatch_param_uint(out, k->field, (uint32_t)k->value);
    }
    xdr_put_i32(out, (int32_t)(a->v == 0 ? ksm->len : n));
    call_reply(call, out);
}

/* virNodeSetMemoryParameters: KSM's tunables, every one checked before any is written */
static void
h_node_set_memory_params(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_params *a = ctx->args;
    static const char *const tunables[] = {"shm_pages_to_scan", "shm_sleep_millisecs",
                                           "shm_merge_across_nodes", NULL};
    GError *error = NULL;
    for (guint i = 0; i < a->params->len && !error; i++) {
        const struct typed_param *p = a->params->pdata[i];
        typed_param_check(p, g_strv_contains(tunables, p->field), TYPED_PARAM_UINT, &error);
    }
    for (guint i = 0; i < a->params->len && !error; i++) {
        const struct typed_param *p = a->params->pdata[i];
        nodeinfo_ksm_set(p->field, (guint)p->u, &error);
    }
    if (error)
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* virNodeGetSEVInfo: Domus runs no SEV guests (<launchSecurity> is not built); refused as
 * libvirt refuses it on a QEMU without SEV */
static void
h_node_sev_info(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED, "%s",
            "QEMU does not support SEV guest: Domus does not run SEV guests");
    dispatch_fail(call, error);
}

#define R RPC_PROGRAM_REMOTE
const struct proc_def host_procs[] = {
    {R, PROC_CONNECT_OPEN, HANDLE_NONE, &args_opt_string, TRUE, CONNECT_RO | CONNECT_NO_ALIASES,
     h_open},
    {R, PROC_CONNECT_CLOSE, HANDLE_NONE, NULL, FALSE, 0, h_empty},
    {R, PROC_AUTH_LIST, HANDLE_NONE, NULL, FALSE, 0, h_auth_list},
    {R, PROC_CONNECT_SUPPORTS_FEATURE, HANDLE_NONE, &args_int, FALSE, 0, h_supports_feature},
    {R, PROC_CONNECT_GET_TYPE, HANDLE_NONE, NULL, FALSE, 0, h_get_type},
    {R, PROC_CONNECT_GET_VERSION, HANDLE_NONE, NULL, FALSE, 0, h_get_version},
    {R, PROC_CONNECT_GET_LIB_VERSION, HANDLE_NONE, NULL, FALSE, 0, h_get_lib_version},
    {R, PROC_CONNECT_GET_HOSTNAME, HANDLE_NONE, NULL, FALSE, 0, h_get_hostname},
    {R, PROC_CONNECT_GET_SYSINFO, HANDLE_NONE, NULL, TRUE, 0, h_get_sysinfo},
    {R, PROC_CONNECT_GET_URI, HANDLE_NONE, NULL, FALSE, 0, h_get_uri},
    {R, PROC_CONNECT_IS_SECURE, HANDLE_NONE, NULL, FALSE, 0, h_is_secure},
    {R, PROC_CONNECT_GET_MAX_VCPUS, HANDLE_NONE, &args_opt_string, FALSE, 0, h_get_max_vcpus},
    {R, PROC_CONNECT_GET_CAPABILITIES, HANDLE_NONE, NULL, FALSE, 0, h_get_capabilities},
    {R, PROC_CONNECT_GET_DOMAIN_CAPABILITIES, HANDLE_NONE, &args_domcaps, TRUE, 0,
     h_get_domain_capabilities},
    {R, PROC_CONNECT_GET_CPU_MODEL_NAMES, HANDLE_NONE, &args_cpu_models, TRUE, 0,
     h_get_cpu_model_names},
    {R, PROC_CONNECT_DOMAIN_XML_TO_NATIVE, HANDLE_NONE, &args_to_native, TRUE, 0, h_xml_to_native},
    {R, PROC_NODE_GET_INFO, HANDLE_NONE, NULL, FALSE, 0, h_node_get_info},
    {R, PROC_NODE_GET_FREE_MEMORY, HANDLE_NONE, NULL, FALSE, 0, h_node_free_memory},
    {R, PROC_NODE_GET_FREE_PAGES, HANDLE_NONE, &args_free_pages, TRUE, 0, h_node_free_pages},
    {R, PROC_NODE_GET_MEMORY_PARAMETERS, HANDLE_NONE, &args_int, TRUE, PARAM_STRING_OKAY,
     h_node_get_memory_params},
    {R, PROC_NODE_GET_SEV_INFO, HANDLE_NONE, &args_int, TRUE, PARAM_STRING_OKAY, h_node_sev_info},
    {R, PROC_NODE_SET_MEMORY_PARAMETERS, HANDLE_NONE, &args_params, TRUE, 0,
     h_node_set_memory_params},
    {R, PROC_NODE_ALLOC_PAGES, HANDLE_NONE, &args_alloc_pages, TRUE, ALLOC_PAGES_SET,
     h_node_alloc_pages},
    {R, PROC_NODE_GET_SECURITY_MODEL, HANDLE_NONE, NULL, FALSE, 0, h_node_security_model},
    {R, PROC_CONNECT_REGISTER_CLOSE_CALLBACK, HANDLE_NONE, NULL, FALSE, 0, h_empty},
    {R, PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, HANDLE_NONE, NULL, FALSE, 0, h_empty},
};
#undef R
const gsize host_procs_count = G_N_ELEMENTS(host_procs);
