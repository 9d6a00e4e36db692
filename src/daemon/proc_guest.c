/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_guest: what goes through the guest agent or the monitor (time, hostname, guest info,
 * NMIs, keys, screenshots, power management, SSH keys, the agent's timeout, passthrough
 * commands of the QEMU program) and the serial console stream. */
#include <string.h>

#include "core/core.h"
#include "core/guest.h"
#include "core/network.h"
#include "daemon/console.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virDomainGetHostnameFlags */
enum { HOSTNAME_AGENT = 1, HOSTNAME_LEASE = 2 };
/* virDomainSetTimeFlags */
enum { SET_TIME_SYNC = 1 };
/* virDomainSetUserPasswordFlags */
enum { PASSWORD_ENCRYPTED = 1 };
/* virDomainOpenGraphicsFlags */
enum { GRAPHICS_SKIPAUTH = 1 };
/* virDomainQemuMonitorCommandFlags */
enum { MONITOR_HMP = 1 };

static void
done_guest_info(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GPtrArray) params = value;
    g_autoptr(GByteArray) b = g_byte_array_new();
    dispatch_put_typed_params(b, params);
    call_reply(call, b);
}

/* remote_domain_get_guest_info_args: types (then flags) */
struct guest_info_args {
    uint32_t types;
};

static void
dec_guest_info(struct xdr_reader *r, void *args)
{
    ((struct guest_info_args *)args)->types = xdr_get_u32(r);
}

static const struct args_type args_guest_info = {sizeof(struct guest_info_args), dec_guest_info,
                                                 NULL};

static void
h_get_guest_info(struct call *call, const struct call_ctx *ctx)
{
    const struct guest_info_args *a = ctx->args;
    core_guest_info(ctx->dom, a->types, done_guest_info, call);
}

static void
done_string(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autofree char *text = value;
    if (error)
        call_fail(call, error);
    else
        dispatch_reply_string(call, text);
}

static void
done_opt_string(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autofree char *text = value;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_opt_string(b, text);
    call_reply(call, b);
}

static void
h_dom_hostname(struct call *call, const struct call_ctx *ctx)
{
    if (ctx->flags & HOSTNAME_LEASE && !(ctx->flags & HOSTNAME_AGENT)) {
        GError *error = NULL;
        g_autofree char *name = NULL;
        if (!dispatch_require_running(call, ctx->dom))
            return;
        name = core_network_lease_hostname(dispatch_core(call), ctx->dom, &error);
        if (name)
            dispatch_reply_string(call, name);
        else
            dispatch_fail(call, error);
        return;
    }
    core_guest_hostname(ctx->dom, done_string, call);
}

/* virDomainInterfaceAddressesSource */
enum { IFADDR_LEASE = 0, IFADDR_AGENT = 1, IFADDR_ARP = 2 };
#define RPC_DOMAIN_INTERFACE_MAX 2048

static void
reply_interfaces(struct call *call, GPtrArray *ifaces)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(ifaces->len, RPC_DOMAIN_INTERFACE_MAX);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++) {
        const struct guest_iface *iface = ifaces->pdata[i];
        xdr_put_string(b, iface->name);
        xdr_put_opt_string(b, iface->hwaddr);
        xdr_put_u32(b, iface->addrs->len);
        for (guint j = 0; j < iface->addrs->len; j++) {
            const struct guest_ip *ip = iface->addrs->pdata[j];
            xdr_put_i32(b, ip->type);
            xdr_put_string(b, ip->addr);
            xdr_put_u32(b, ip->prefix);
        }
    }
    call_reply(call, b);
}

static void
done_interfaces(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autoptr(GPtrArray) ifaces = value;
    if (error)
        call_fail(call, error);
    else
        reply_interfaces(call, ifaces);
}

static void
h_interface_addresses(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *source = ctx->args;
    GError *error = NULL;
    if (!dispatch_require_running(call, ctx->dom))
        return;
    g_autoptr(GPtrArray) ifaces = NULL;
    switch (source->v) {
    case IFADDR_AGENT:
        core_guest_interfaces(ctx->dom, done_interfaces, call);
        return;
    case IFADDR_LEASE:
        ifaces = core_network_lease_interfaces(dispatch_core(call), ctx->dom, &error);
        break;
    case IFADDR_ARP:
        ifaces = core_network_arp_interfaces(ctx->dom, &error);
        break;
    default:
        err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                "unknown IP address data source %d", source->v);
    }
    if (ifaces)
        reply_interfaces(call, ifaces);
    else
        dispatch_fail(call, error);
}

static void
done_time(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autofree gint64 *t = value;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i64(b, t[0]);
    xdr_put_u32(b, (uint32_t)t[1]);
    call_reply(call, b);
}

static void
h_get_time(struct call *call, const struct call_ctx *ctx)
{
    core_guest_get_time(ctx->dom, done_time, call);
}

/* remote_domain_set_time_args: seconds, nseconds (then flags) */
struct set_time_args {
    int64_t seconds;
    uint32_t nseconds;
};

static void
dec_set_time(struct xdr_reader *r, void *args)
{
    struct set_time_args *a = args;
    a->seconds = xdr_get_i64(r);
    a->nseconds = xdr_get_u32(r);
}

static const struct args_type args_set_time = {sizeof(struct set_time_args), dec_set_time, NULL};

static void
h_set_time(struct call *call, const struct call_ctx *ctx)
{
    const struct set_time_args *a = ctx->args;
    core_guest_set_time(ctx->dom, a->seconds, a->nseconds, ctx->flags & SET_TIME_SYNC,
                        dispatch_done_empty, call);
}

/* --- file systems and users --- */

#define FSFREEZE_MOUNTPOINTS_MAX 256

/* remote_domain_fsfreeze_args / _fsthaw_args: mountpoints<256> (then flags) */
struct mountpoints_args {
    GStrv mountpoints;
};

static void
dec_mountpoints(struct xdr_reader *r, void *args)
{
    struct mountpoints_args *a = args;
    uint32_t n = xdr_get_count(r, FSFREEZE_MOUNTPOINTS_MAX, 4);
    a->mountpoints = g_new0(char *, n + 1);
    for (uint32_t i = 0; i < n && !r->failed; i++)
        a->mountpoints[i] = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_mountpoints(void *args)
{
    g_strfreev(((struct mountpoints_args *)args)->mountpoints);
}

static const struct args_type args_mountpoints = {sizeof(struct mountpoints_args), dec_mountpoints,
                                                  clear_mountpoints};

static void
done_fs_count(GError *error, gpointer value, gpointer data)
{
    g_autofree gint *n = value;
    if (error)
        call_fail(data, error);
    else
        dispatch_reply_int(data, *n);
}

static void
h_fsfreeze(struct call *call, const struct call_ctx *ctx)
{
    const struct mountpoints_args *a = ctx->args;
    core_guest_fs_freeze(ctx->dom, a->mountpoints, FALSE, done_fs_count, call);
}

static void
h_fsthaw(struct call *call, const struct call_ctx *ctx)
{
    const struct mountpoints_args *a = ctx->args;
    core_guest_fs_freeze(ctx->dom, a->mountpoints, TRUE, done_fs_count, call);
}

static void
done_fsinfo(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autoptr(GPtrArray) list = value;
    if (error) {
        call_fail(call, error);
        return;
    }
    /* remote_domain_get_fsinfo_ret: info<>, ret */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, list->len);
    for (guint i = 0; i < list->len; i++) {
        const struct core_fsinfo *fs = list->pdata[i];
        xdr_put_string(b, fs->mountpoint);
        xdr_put_string(b, fs->name);
        xdr_put_string(b, fs->fstype);
        xdr_put_u32(b, fs->aliases->len);
        for (guint j = 0; j < fs->aliases->len; j++)
            xdr_put_string(b, fs->aliases->pdata[j]);
    }
    xdr_put_u32(b, list->len);
    call_reply(call, b);
}

static void
h_get_fsinfo(struct call *call, const struct call_ctx *ctx)
{
    core_guest_fs_info(ctx->dom, done_fsinfo, call);
}

/* remote_domain_set_user_password_args: user, password (then flags) */
struct password_args {
    char *user, *password;
};

static void
dec_password(struct xdr_reader *r, void *args)
{
    struct password_args *a = args;
    a->user = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->password = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_password(void *args)
{
    struct password_args *a = args;
    g_free(a->user);
    if (a->password)
        explicit_bzero(a->password, strlen(a->password));
    g_free(a->password);
}

static const struct args_type args_password = {sizeof(struct password_args), dec_password,
                                               clear_password};

static void
h_set_user_password(struct call *call, const struct call_ctx *ctx)
{
    const struct password_args *a = ctx->args;
    core_guest_set_user_password(ctx->dom, a->user, a->password, ctx->flags & PASSWORD_ENCRYPTED,
                                 dispatch_done_empty, call);
}

/* remote_domain_fstrim_args: mountPoint, minimum (then flags) */
struct fstrim_args {
    char *mountpoint;
    uint64_t minimum;
};

static void
dec_fstrim(struct xdr_reader *r, void *args)
{
    struct fstrim_args *a = args;
    a->mountpoint = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->minimum = xdr_get_u64(r);
}

static void
clear_fstrim(void *args)
{
    g_free(((struct fstrim_args *)args)->mountpoint);
}

static const struct args_type args_fstrim = {sizeof(struct fstrim_args), dec_fstrim, clear_fstrim};

static void
h_fstrim(struct call *call, const struct call_ctx *ctx)
{
    const struct fstrim_args *a = ctx->args;
    core_guest_fstrim(ctx->dom, a->mountpoint, a->minimum, dispatch_done_empty, call);
}

/* --- the guest's own vCPUs --- */

static void
h_get_guest_vcpus(struct call *call, const struct call_ctx *ctx)
{
    core_domain_get_guest_vcpus(ctx->dom, done_guest_info, call);
}

static void
h_set_guest_vcpus(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_map_state *a = ctx->args;
    core_domain_set_guest_vcpus(ctx->dom, a->map, a->state != 0, dispatch_done_empty, call);
}

/* --- keyboard and screen --- */

static void
h_inject_nmi(struct call *call, const struct call_ctx *ctx)
{
    core_domain_inject_nmi(ctx->dom, dispatch_done_empty, call);
}

/* remote_domain_send_key_args: codeset, holdtime, keycodes<16> (then flags) */
#define SEND_KEY_MAX 16
struct send_key_args {
    uint32_t codeset;
    uint32_t holdtime;
    uint32_t n;
    unsigned codes[SEND_KEY_MAX];
};

static void
dec_send_key(struct xdr_reader *r, void *args)
{
    struct send_key_args *a = args;
    a->codeset = xdr_get_u32(r);
    a->holdtime = xdr_get_u32(r);
    a->n = xdr_get_count(r, SEND_KEY_MAX, 4);
    for (uint32_t i = 0; i < a->n && !r->failed; i++)
        a->codes[i] = xdr_get_u32(r);
}

static const struct args_type args_send_key = {sizeof(struct send_key_args), dec_send_key, NULL};

static void
h_send_key(struct call *call, const struct call_ctx *ctx)
{
    const struct send_key_args *a = ctx->args;
    core_domain_send_key(ctx->dom, a->codeset, a->holdtime, a->codes, a->n, dispatch_done_empty,
                         call);
}

struct screenshot_call {
    struct call *call;
    char *name;
};

static void
done_screenshot(GError *error, int fd, const char *mime, gpointer data)
{
    struct screenshot_call *sc = data;
    if (error) {
        call_fail(sc->call, error);
    } else {
        /* remote_domain_screenshot_ret: mime, then the image on the call's stream */
        g_autoptr(GByteArray) b = g_byte_array_new();
        xdr_put_opt_string(b, mime);
        dispatch_stream_fd(sc->call, fd, "screenshot of domain", sc->name, b);
    }
    g_free(sc->name);
    g_free(sc);
}

static void
h_screenshot(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *screen = ctx->args;
    struct screenshot_call *sc = g_new0(struct screenshot_call, 1);
    sc->call = call;
    sc->name = g_strdup(ctx->dom->def->name);
    core_domain_screenshot(ctx->dom, (unsigned)screen->v, done_screenshot, sc);
}

static void
done_graphics_fd(GError *error, int fd, gpointer data)
{
    if (error)
        call_fail(data, error);
    else
        call_reply_fd(data, fd);
}

static void
h_open_graphics_fd(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *idx = ctx->args;
    if (!call_can_pass_fds(call)) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_RPC, ERR_OPERATION_UNSUPPORTED,
                "this connection cannot carry descriptors; open the display over a unix "
                "socket, or use domdisplay's address");
        dispatch_fail(call, error);
        return;
    }
    core_domain_open_graphics_fd(ctx->dom, (unsigned)idx->v, ctx->flags & GRAPHICS_SKIPAUTH,
                                 done_graphics_fd, call);
}

static void
done_graphics(GError *error, int fd, gpointer data)
{
    if (error)
        call_fail(data, error);
    else
        call_reply(data, NULL);
}

/* remote_domain_open_graphics_args: idx (then flags); the socket comes with the call */
static void
h_open_graphics(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *idx = ctx->args;
    int fd = call_take_fd(call, 0);
    if (fd < 0) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG,
                "virDomainOpenGraphics needs the client's socket passed with the call (over a "
                "unix connection)");
        dispatch_fail(call, error);
        return;
    }
    core_domain_open_graphics(ctx->dom, (unsigned)idx->v, fd, ctx->flags & GRAPHICS_SKIPAUTH,
                              done_graphics, call);
}

/* QEMU program: virDomainQemuMonitorCommand (flag HMP) */
static void
h_qemu_monitor_command(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *cmd = ctx->args;
    core_guest_monitor_command(ctx->dom, cmd->s, ctx->flags & MONITOR_HMP, done_string, call);
}

/* qemu_domain_agent_command_args: cmd, timeout (then flags) */
struct agent_command_args {
    char *cmd;
    int32_t timeout;
};

static void
dec_agent_command(struct xdr_reader *r, void *args)
{
    struct agent_command_args *a = args;
    a->cmd = xdr_get_string(r, RPC_STRING_MAX);
    a->timeout = xdr_get_i32(r);
}

static void
clear_agent_command(void *args)
{
    g_free(((struct agent_command_args *)args)->cmd);
}

static const struct args_type args_agent_command = {sizeof(struct agent_command_args),
                                                    dec_agent_command, clear_agent_command};

/* QEMU program: virDomainQemuAgentCommand */
static void
h_qemu_agent_command(struct call *call, const struct call_ctx *ctx)
{
    const struct agent_command_args *a = ctx->args;
    core_guest_agent_command(ctx->dom, a->cmd, a->timeout, done_opt_string, call);
}

/* --- agent settings and SSH keys --- */

static void
h_agent_timeout(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    if (!core_guest_set_agent_timeout(ctx->dom, a->v, &error)) {
        dispatch_fail(call, error);
        return;
    }
    /* remote_domain_agent_set_response_timeout_ret: result */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, 0);
    call_reply(call, b);
}

/* remote_domain_authorized_ssh_keys_{get,set}_args: user, (set: keys<2048>), then flags */
struct ssh_keys_args {
    char *user;
    GStrv keys;
};

static void
dec_ssh_user(struct xdr_reader *r, void *args)
{
    ((struct ssh_keys_args *)args)->user = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_ssh_keys(struct xdr_reader *r, void *args)
{
    struct ssh_keys_args *a = args;
    a->user = xdr_get_string(r, RPC_STRING_MAX);
    uint32_t n = xdr_get_count(r, GUEST_SSH_KEYS_MAX, 4);
    a->keys = g_new0(char *, n + 1);
    for (uint32_t i = 0; i < n && !r->failed; i++)
        a->keys[i] = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_ssh_keys(void *args)
{
    struct ssh_keys_args *a = args;
    g_free(a->user);
    g_strfreev(a->keys);
}

static const struct args_type args_ssh_user = {sizeof(struct ssh_keys_args), dec_ssh_user,
                                               clear_ssh_keys};
static const struct args_type args_ssh_keys = {sizeof(struct ssh_keys_args), dec_ssh_keys,
                                               clear_ssh_keys};

static void
done_ssh_keys(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_auto(GStrv) keys = value;
    /* remote_domain_authorized_ssh_keys_get_ret: keys<> */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, g_strv_length(keys));
    for (gsize i = 0; keys[i]; i++)
        xdr_put_string(b, keys[i]);
    call_reply(call, b);
}

static void
h_ssh_keys_get(struct call *call, const struct call_ctx *ctx)
{
    const struct ssh_keys_args *a = ctx->args;
    core_guest_ssh_keys_get(ctx->dom, a->user, done_ssh_keys, call);
}

static void
h_ssh_keys_set(struct call *call, const struct call_ctx *ctx)
{
    const struct ssh_keys_args *a = ctx->args;
    core_guest_ssh_keys_set(ctx->dom, a->user, (const char *const *)a->keys, ctx->flags,
                            dispatch_done_empty, call);
}

/* --- power management --- */

/* remote_domain_pm_suspend_for_duration_args: target, duration (then flags) */
struct pm_suspend_args {
    uint32_t target;
    uint64_t duration;
};

static void
dec_pm_suspend(struct xdr_reader *r, void *args)
{
    struct pm_suspend_args *a = args;
    a->target = xdr_get_u32(r);
    a->duration = xdr_get_u64(r);
}

static const struct args_type args_pm_suspend = {sizeof(struct pm_suspend_args), dec_pm_suspend,
                                                 NULL};

static void
h_pm_suspend(struct call *call, const struct call_ctx *ctx)
{
    const struct pm_suspend_args *a = ctx->args;
    core_domain_pm_suspend(ctx->dom, a->target, a->duration, dispatch_done_empty, call);
}

static void
h_pm_wakeup(struct call *call, const struct call_ctx *ctx)
{
    core_domain_pm_wakeup(ctx->dom, dispatch_done_empty, call);
}

static void
h_open_channel(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_opt_string *name = ctx->args;
    console_open_channel(call, ctx->dom, name->s, ctx->flags);
}

static void
h_open_console(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_opt_string *dev = ctx->args;
    console_open(call, ctx->dom, dev->s, ctx->flags);
}

/* --- peeking (REMOTE_DOMAIN_BLOCK_PEEK_BUFFER_MAX and ..._MEMORY_...) --- */

#define PEEK_BUFFER_MAX (4u * 1024 * 1024)

/* remote_domain_block_peek_args: path, offset, size; remote_domain_memory_peek_args: offset,
 * size (then flags) */
struct peek_args {
    char *path;
    uint64_t offset;
    uint32_t size;
};

static void
dec_block_peek(struct xdr_reader *r, void *args)
{
    struct peek_args *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->offset = xdr_get_u64(r);
    a->size = xdr_get_u32(r);
}

static void
dec_memory_peek(struct xdr_reader *r, void *args)
{
    struct peek_args *a = args;
    a->offset = xdr_get_u64(r);
    a->size = xdr_get_u32(r);
}

static void
clear_peek(void *args)
{
    g_free(((struct peek_args *)args)->path);
}

static const struct args_type args_block_peek = {sizeof(struct peek_args), dec_block_peek,
                                                 clear_peek};
static const struct args_type args_memory_peek = {sizeof(struct peek_args), dec_memory_peek,
                                                  clear_peek};

static gboolean
peek_size_ok(struct call *call, uint32_t size)
{
    if (size <= PEEK_BUFFER_MAX)
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_RPC, "size > maximum buffer size (%u > %u)", size,
            PEEK_BUFFER_MAX);
    dispatch_fail(call, error);
    return FALSE;
}

static void
done_peek(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GBytes) bytes = value;
    gsize len;
    const uint8_t *buf = g_bytes_get_data(bytes, &len);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_opaque(b, buf, len);
    call_reply(call, b);
}

static void
h_block_peek(struct call *call, const struct call_ctx *ctx)
{
    const struct peek_args *a = ctx->args;
    if (peek_size_ok(call, a->size))
        core_domain_block_peek(ctx->dom, a->path, a->offset, a->size, done_peek, call);
}

static void
h_memory_peek(struct call *call, const struct call_ctx *ctx)
{
    const struct peek_args *a = ctx->args;
    if (peek_size_ok(call, a->size))
        core_domain_memory_peek(ctx->dom, a->offset, a->size, ctx->flags, done_peek, call);
}

#define R RPC_PROGRAM_REMOTE
#define Q RPC_PROGRAM_QEMU
#define D HANDLE_DOMAIN
const struct proc_def guest_procs[] = {
    {R, PROC_DOMAIN_GET_GUEST_INFO, D, &args_guest_info, TRUE, 0, h_get_guest_info},
    {R, PROC_DOMAIN_GET_HOSTNAME, D, NULL, TRUE, HOSTNAME_AGENT | HOSTNAME_LEASE, h_dom_hostname},
    {R, PROC_DOMAIN_GET_TIME, D, NULL, TRUE, 0, h_get_time},
    {R, PROC_DOMAIN_GET_GUEST_VCPUS, D, NULL, TRUE, 0, h_get_guest_vcpus},
    {R, PROC_DOMAIN_SET_GUEST_VCPUS, D, &args_map_state, TRUE, 0, h_set_guest_vcpus},
    {R, PROC_DOMAIN_INJECT_NMI, D, NULL, TRUE, 0, h_inject_nmi},
    {R, PROC_DOMAIN_FSFREEZE, D, &args_mountpoints, TRUE, 0, h_fsfreeze},
    {R, PROC_DOMAIN_FSTHAW, D, &args_mountpoints, TRUE, 0, h_fsthaw},
    {R, PROC_DOMAIN_GET_FSINFO, D, NULL, TRUE, 0, h_get_fsinfo},
    {R, PROC_DOMAIN_SET_USER_PASSWORD, D, &args_password, TRUE, PASSWORD_ENCRYPTED,
     h_set_user_password},
    {R, PROC_DOMAIN_FSTRIM, D, &args_fstrim, TRUE, 0, h_fstrim},
    {R, PROC_DOMAIN_SEND_KEY, D, &args_send_key, TRUE, 0, h_send_key},
    {R, PROC_DOMAIN_SCREENSHOT, D, &args_int, TRUE, 0, h_screenshot},
    {R, PROC_DOMAIN_OPEN_GRAPHICS_FD, D, &args_int, TRUE, GRAPHICS_SKIPAUTH, h_open_graphics_fd},
    {R, PROC_DOMAIN_OPEN_GRAPHICS, D, &args_int, TRUE, GRAPHICS_SKIPAUTH, h_open_graphics},
    {R, PROC_DOMAIN_INTERFACE_ADDRESSES, D, &args_int, TRUE, 0, h_interface_addresses},
    {R, PROC_DOMAIN_SET_TIME, D, &args_set_time, TRUE, SET_TIME_SYNC, h_set_time},
    {R, PROC_DOMAIN_AGENT_SET_RESPONSE_TIMEOUT, D, &args_int, TRUE, 0, h_agent_timeout},
    {R, PROC_DOMAIN_AUTHORIZED_SSH_KEYS_GET, D, &args_ssh_user, TRUE, 0, h_ssh_keys_get},
    {R, PROC_DOMAIN_AUTHORIZED_SSH_KEYS_SET, D, &args_ssh_keys, TRUE,
     GUEST_SSH_KEYS_APPEND | GUEST_SSH_KEYS_REMOVE, h_ssh_keys_set},
    {R, PROC_DOMAIN_PM_SUSPEND_FOR_DURATION, D, &args_pm_suspend, TRUE, 0, h_pm_suspend},
    {R, PROC_DOMAIN_PM_WAKEUP, D, NULL, TRUE, 0, h_pm_wakeup},
    {R, PROC_DOMAIN_BLOCK_PEEK, D, &args_block_peek, TRUE, 0, h_block_peek},
    {R, PROC_DOMAIN_MEMORY_PEEK, D, &args_memory_peek, TRUE,
     CORE_MEMORY_VIRTUAL | CORE_MEMORY_PHYSICAL, h_memory_peek},
    {R, PROC_DOMAIN_OPEN_CHANNEL, D, &args_opt_string, TRUE, CHANNEL_FORCE, h_open_channel},
    {R, PROC_DOMAIN_OPEN_CONSOLE, D, &args_opt_string, TRUE, CONSOLE_FORCE | CONSOLE_SAFE,
     h_open_console},
    {Q, QEMU_PROC_DOMAIN_MONITOR_COMMAND, D, &args_string, TRUE, MONITOR_HMP,
     h_qemu_monitor_command},
    {Q, QEMU_PROC_DOMAIN_AGENT_COMMAND, D, &args_agent_command, TRUE, 0, h_qemu_agent_command},
};
#undef R
#undef Q
#undef D
const gsize guest_procs_count = G_N_ELEMENTS(guest_procs);
