/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_host: the connection and the host: open, close, features, versions, capabilities, node
 * facts. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "conf/capabilities.h"
#include "conf/nodeinfo.h"
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
    {R, PROC_NODE_GET_INFO, HANDLE_NONE, NULL, FALSE, 0, h_node_get_info},
    {R, PROC_NODE_GET_FREE_MEMORY, HANDLE_NONE, NULL, FALSE, 0, h_node_free_memory},
    {R, PROC_NODE_GET_SECURITY_MODEL, HANDLE_NONE, NULL, FALSE, 0, h_node_security_model},
    {R, PROC_CONNECT_REGISTER_CLOSE_CALLBACK, HANDLE_NONE, NULL, FALSE, 0, h_empty},
    {R, PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, HANDLE_NONE, NULL, FALSE, 0, h_empty},
};
#undef R
const gsize host_procs_count = G_N_ELEMENTS(host_procs);
