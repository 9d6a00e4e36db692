/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_nodedev: the host's devices (conf/nodedev.c) and network interfaces (conf/netiface.c),
 * read from sysfs at each call (a few dozen small files), listed, looked up and described as
 * libvirt's node device and (read-only) interface drivers do. */
#include <string.h>

#include "conf/netiface.h"
#include "conf/nodedev.h"
#include "conf/nodeinfo.h"
#include "core/core.h"
#include "core/hostdev.h"
#include "daemon/dispatch.h"
#include "util/err.h"

#define NODEDEV_LIST_MAX 65536
/* virConnectListAllNodeDeviceFlags: the capability bits up to VPD, inactive, active */
#define LIST_CAP_BITS 0x3fffffu
#define LIST_INACTIVE (1u << 30)
#define LIST_ACTIVE (1u << 31)

static GPtrArray *
devices(struct call *call)
{
    struct core *core = dispatch_core(call);
    return nodedev_enumerate(core->paths.sysfs_root, core->host_uuid, NODEDEV_PCI_IDS);
}

/* The device named NAME of DEVS, or NULL with the call failed */
static const struct nodedev *
find(struct call *call, GPtrArray *devs, const char *name)
{
    for (guint i = 0; i < devs->len; i++) {
        const struct nodedev *d = devs->pdata[i];
        if (g_str_equal(d->name, name))
            return d;
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_NODEDEV, ERR_NO_NODE_DEVICE,
            "no node device with matching name '%s'; 'nodedev-list' shows them", name);
    dispatch_fail(call, error);
    return NULL;
}

/* Whether D matches the capability name CAP (NULL: any) */
static gboolean
cap_matches(const struct nodedev *d, const char *cap)
{
    return !cap || g_str_equal(cap, nodedev_cap_name(d->cap));
}

/* remote_node_num_of_devices_args: cap (then flags); remote_node_list_devices_args: cap,
 * maxnames (then flags) */
struct cap_args {
    char *cap;
    int32_t max;
};

static void
dec_num(struct xdr_reader *r, void *args)
{
    ((struct cap_args *)args)->cap = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
dec_list(struct xdr_reader *r, void *args)
{
    struct cap_args *a = args;
    a->cap = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->max = xdr_get_i32(r);
}

static void
clear_cap(void *args)
{
    g_free(((struct cap_args *)args)->cap);
}

static const struct args_type args_num = {sizeof(struct cap_args), dec_num, clear_cap};
static const struct args_type args_list = {sizeof(struct cap_args), dec_list, clear_cap};

static void
h_num_of_devices(struct call *call, const struct call_ctx *ctx)
{
    const struct cap_args *a = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    int n = 0;
    for (guint i = 0; i < devs->len; i++)
        n += cap_matches(devs->pdata[i], a->cap);
    dispatch_reply_int(call, n);
}

static void
h_list_devices(struct call *call, const struct call_ctx *ctx)
{
    const struct cap_args *a = ctx->args;
    if (!dispatch_check_max(call, a->max, NODEDEV_LIST_MAX))
        return;
    g_autoptr(GPtrArray) devs = devices(call);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < devs->len && (int)names->len < a->max; i++) {
        const struct nodedev *d = devs->pdata[i];
        if (cap_matches(d, a->cap))
            g_ptr_array_add(names, d->name);
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, names->len);
    for (guint i = 0; i < names->len; i++)
        xdr_put_string(b, names->pdata[i]);
    call_reply(call, b);
}

/* remote_connect_list_all_node_devices_args: need_results (then flags) */
static void
h_list_all(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    guint caps = ctx->flags & LIST_CAP_BITS;
    /* every device here is active: only "inactive" alone leaves none */
    gboolean state_ok = !(ctx->flags & (LIST_ACTIVE | LIST_INACTIVE)) || (ctx->flags & LIST_ACTIVE);
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    for (guint i = 0; i < devs->len; i++) {
        const struct nodedev *d = devs->pdata[i];
        if (state_ok && (!caps || (caps & d->cap)))
            g_ptr_array_add(out, d->name);
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    if (need->v) {
        xdr_put_u32(b, out->len);
        for (guint i = 0; i < out->len; i++)
            xdr_put_string(b, out->pdata[i]); /* remote_nonnull_node_device: its name */
    } else {
        xdr_put_u32(b, 0);
    }
    xdr_put_u32(b, out->len);
    call_reply(call, b);
}

static void
h_lookup_by_name(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    const struct nodedev *d = find(call, devs, name->s);
    if (d)
        dispatch_reply_string(call, d->name);
}

static void
h_get_xml_desc(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    const struct nodedev *d = find(call, devs, name->s);
    if (d)
        dispatch_reply_string(call, d->xml);
}

static void
h_get_parent(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    const struct nodedev *d = find(call, devs, name->s);
    if (!d)
        return;
    if (!d->parent) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_NODEDEV, ERR_NO_NODE_DEVICE, "no parent for this device");
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_opt_string(b, d->parent);
    call_reply(call, b);
}

/* Every device here is one the host has (active) and none is defined by a user (only
 * mediated devices can be, and Domus does not define them): transient, never autostarted. */
static void
h_is_active(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    if (find(call, devs, name->s))
        dispatch_reply_int(call, 1);
}

static void
h_is_persistent_or_autostart(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    if (find(call, devs, name->s))
        dispatch_reply_int(call, 0);
}

/* remote_node_device_set_autostart_args: name, autostart */
struct autostart_args {
    char *name;
    int32_t autostart;
};

static void
dec_autostart(struct xdr_reader *r, void *args)
{
    struct autostart_args *a = args;
    a->name = xdr_get_string(r, RPC_STRING_MAX);
    a->autostart = xdr_get_i32(r);
}

static void
clear_autostart(void *args)
{
    g_free(((struct autostart_args *)args)->name);
}

static const struct args_type args_autostart = {sizeof(struct autostart_args), dec_autostart,
                                                clear_autostart};

static void
h_set_autostart(struct call *call, const struct call_ctx *ctx)
{
    const struct autostart_args *a = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    if (!find(call, devs, a->name))
        return;
    /* libvirt autostarts mediated devices only (mdevctl), which are not built here */
    GError *error = NULL;
    err_set(&error, ERR_FROM_NODEDEV, ERR_OPERATION_UNSUPPORTED,
            "Unsupported device type: '%s' is a host device; only mediated devices autostart",
            a->name);
    dispatch_fail(call, error);
}

static void
h_num_of_caps(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    g_autoptr(GPtrArray) devs = devices(call);
    if (find(call, devs, name->s))
        dispatch_reply_int(call, 1);
}

/* remote_node_device_list_caps_args: name, maxnames */
struct caps_args {
    char *name;
    int32_t max;
};

static void
dec_caps(struct xdr_reader *r, void *args)
{
    struct caps_args *a = args;
    a->name = xdr_get_string(r, RPC_STRING_MAX);
    a->max = xdr_get_i32(r);
}

static void
clear_caps(void *args)
{
    g_free(((struct caps_args *)args)->name);
}

static const struct args_type args_caps = {sizeof(struct caps_args), dec_caps, clear_caps};

static void
h_list_caps(struct call *call, const struct call_ctx *ctx)
{
    const struct caps_args *a = ctx->args;
    if (!dispatch_check_max(call, a->max, NODEDEV_LIST_MAX))
        return;
    g_autoptr(GPtrArray) devs = devices(call);
    const struct nodedev *d = find(call, devs, a->name);
    if (!d)
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, a->max > 0 ? 1 : 0);
    if (a->max > 0)
        xdr_put_string(b, nodedev_cap_name(d->cap));
    call_reply(call, b);
}

/* --- host interfaces --- */

#define IFACE_LIST_MAX 16384
/* virConnectListAllInterfacesFlags */
enum { IFACES_INACTIVE = 1, IFACES_ACTIVE = 2 };

static GPtrArray *
interfaces(struct call *call)
{
    return netiface_enumerate(dispatch_core(call)->paths.sysfs_root);
}

/* remote_nonnull_interface */
static void
put_iface(GByteArray *b, const struct netiface *n)
{
    xdr_put_string(b, n->name);
    xdr_put_string(b, n->mac);
}

static const struct netiface *
find_iface(struct call *call, GPtrArray *all, const char *name, const char *mac)
{
    for (guint i = 0; i < all->len; i++) {
        const struct netiface *n = all->pdata[i];
        if (name ? g_str_equal(n->name, name) : g_ascii_strcasecmp(n->mac, mac) == 0)
            return n;
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_INTERFACE, ERR_NO_INTERFACE,
            name ? "couldn't find interface named '%s'"
                 : "couldn't find interface with MAC "
                   "address '%s'",
            name ? name : mac);
    dispatch_fail(call, error);
    return NULL;
}

static void
h_num_ifaces(struct call *call, gboolean active)
{
    g_autoptr(GPtrArray) all = interfaces(call);
    int n = 0;
    for (guint i = 0; i < all->len; i++)
        n += ((struct netiface *)all->pdata[i])->active == active;
    dispatch_reply_int(call, n);
}

static void
h_num_active_ifaces(struct call *call, const struct call_ctx *ctx)
{
    h_num_ifaces(call, TRUE);
}

static void
h_num_defined_ifaces(struct call *call, const struct call_ctx *ctx)
{
    h_num_ifaces(call, FALSE);
}

static void
list_iface_names(struct call *call, int max, gboolean active)
{
    if (!dispatch_check_max(call, max, IFACE_LIST_MAX))
        return;
    g_autoptr(GPtrArray) all = interfaces(call);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < all->len && (int)names->len < max; i++) {
        const struct netiface *n = all->pdata[i];
        if (n->active == active)
            g_ptr_array_add(names, n->name);
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, names->len);
    for (guint i = 0; i < names->len; i++)
        xdr_put_string(b, names->pdata[i]);
    call_reply(call, b);
}

static void
h_list_active_ifaces(struct call *call, const struct call_ctx *ctx)
{
    list_iface_names(call, ((const struct arg_int *)ctx->args)->v, TRUE);
}

static void
h_list_defined_ifaces(struct call *call, const struct call_ctx *ctx)
{
    list_iface_names(call, ((const struct arg_int *)ctx->args)->v, FALSE);
}

static void
h_list_all_ifaces(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) all = interfaces(call);
    unsigned want = ctx->flags & (IFACES_ACTIVE | IFACES_INACTIVE);
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    for (guint i = 0; i < all->len; i++) {
        const struct netiface *n = all->pdata[i];
        if (!want || (want & (n->active ? IFACES_ACTIVE : IFACES_INACTIVE)))
            g_ptr_array_add(out, (gpointer)n);
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, need->v ? out->len : 0);
    for (guint i = 0; need->v && i < out->len; i++)
        put_iface(b, out->pdata[i]);
    xdr_put_u32(b, out->len);
    call_reply(call, b);
}

static void
reply_iface(struct call *call, const char *name, const char *mac)
{
    g_autoptr(GPtrArray) all = interfaces(call);
    const struct netiface *n = find_iface(call, all, name, mac);
    if (!n)
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_iface(b, n);
    call_reply(call, b);
}

static void
h_iface_by_name(struct call *call, const struct call_ctx *ctx)
{
    reply_iface(call, ((const struct arg_string *)ctx->args)->s, NULL);
}

static void
h_iface_by_mac(struct call *call, const struct call_ctx *ctx)
{
    reply_iface(call, NULL, ((const struct arg_string *)ctx->args)->s);
}

/* remote_nonnull_interface: name, mac */
struct iface_args {
    char *name, *mac;
};

static void
dec_iface(struct xdr_reader *r, void *args)
{
    struct iface_args *a = args;
    a->name = xdr_get_string(r, RPC_STRING_MAX);
    a->mac = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_iface(void *args)
{
    struct iface_args *a = args;
    g_free(a->name);
    g_free(a->mac);
}

static const struct args_type args_iface = {sizeof(struct iface_args), dec_iface, clear_iface};

static void
h_iface_xml(struct call *call, const struct call_ctx *ctx)
{
    const struct iface_args *a = ctx->args;
    g_autoptr(GPtrArray) all = interfaces(call);
    const struct netiface *n = find_iface(call, all, a->name, NULL);
    if (n)
        dispatch_reply_string(call, n->xml);
}

static void
h_iface_is_active(struct call *call, const struct call_ctx *ctx)
{
    const struct iface_args *a = ctx->args;
    g_autoptr(GPtrArray) all = interfaces(call);
    const struct netiface *n = find_iface(call, all, a->name, NULL);
    if (n)
        dispatch_reply_int(call, n->active);
}

#define R RPC_PROGRAM_REMOTE
#define N HANDLE_NONE
/* remote_node_device_detach_flags_args: name, driver name (optional); flags apart */
struct detach_args {
    char *name;
    char *driver;
};

static void
dec_detach(struct xdr_reader *r, void *args)
{
    struct detach_args *a = args;
    a->name = xdr_get_string(r, RPC_STRING_MAX);
    a->driver = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_detach(void *args)
{
    struct detach_args *a = args;
    g_free(a->name);
    g_free(a->driver);
}

static const struct args_type args_detach = {sizeof(struct detach_args), dec_detach, clear_detach};

static void
reply_done(struct call *call, gboolean ok, GError *error)
{
    if (ok)
        call_reply(call, NULL);
    else
        dispatch_fail(call, error);
}

static void
h_detach(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    GError *error = NULL;
    gboolean ok = core_nodedev_detach(dispatch_core(call), name->s, NULL, &error);
    reply_done(call, ok, error);
}

static void
h_detach_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct detach_args *a = ctx->args;
    GError *error = NULL;
    gboolean ok = core_nodedev_detach(dispatch_core(call), a->name, a->driver, &error);
    reply_done(call, ok, error);
}

static void
h_reattach(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    GError *error = NULL;
    gboolean ok = core_nodedev_reattach(dispatch_core(call), name->s, &error);
    reply_done(call, ok, error);
}

static void
h_reset(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *name = ctx->args;
    GError *error = NULL;
    gboolean ok = core_nodedev_reset(dispatch_core(call), name->s, &error);
    reply_done(call, ok, error);
}

const struct proc_def nodedev_procs[] = {
    {R, PROC_NODE_DEVICE_DETTACH, N, &args_string, FALSE, 0, h_detach},
    {R, PROC_NODE_DEVICE_DETACH_FLAGS, N, &args_detach, TRUE, 0, h_detach_flags},
    {R, PROC_NODE_DEVICE_RE_ATTACH, N, &args_string, FALSE, 0, h_reattach},
    {R, PROC_NODE_DEVICE_RESET, N, &args_string, FALSE, 0, h_reset},
    {R, PROC_CONNECT_NUM_OF_INTERFACES, N, NULL, FALSE, 0, h_num_active_ifaces},
    {R, PROC_CONNECT_NUM_OF_DEFINED_INTERFACES, N, NULL, FALSE, 0, h_num_defined_ifaces},
    {R, PROC_CONNECT_LIST_INTERFACES, N, &args_int, FALSE, 0, h_list_active_ifaces},
    {R, PROC_CONNECT_LIST_DEFINED_INTERFACES, N, &args_int, FALSE, 0, h_list_defined_ifaces},
    {R, PROC_CONNECT_LIST_ALL_INTERFACES, N, &args_int, TRUE, IFACES_ACTIVE | IFACES_INACTIVE,
     h_list_all_ifaces},
    {R, PROC_INTERFACE_LOOKUP_BY_NAME, N, &args_string, FALSE, 0, h_iface_by_name},
    {R, PROC_INTERFACE_LOOKUP_BY_MAC_STRING, N, &args_string, FALSE, 0, h_iface_by_mac},
    /* VIR_INTERFACE_XML_INACTIVE: the same document (no interface is configured here) */
    {R, PROC_INTERFACE_GET_XML_DESC, N, &args_iface, TRUE, 1, h_iface_xml},
    {R, PROC_INTERFACE_IS_ACTIVE, N, &args_iface, FALSE, 0, h_iface_is_active},
    {R, PROC_NODE_NUM_OF_DEVICES, N, &args_num, TRUE, 0, h_num_of_devices},
    {R, PROC_NODE_LIST_DEVICES, N, &args_list, TRUE, 0, h_list_devices},
    {R, PROC_CONNECT_LIST_ALL_NODE_DEVICES, N, &args_int, TRUE,
     LIST_CAP_BITS | LIST_INACTIVE | LIST_ACTIVE, h_list_all},
    {R, PROC_NODE_DEVICE_LOOKUP_BY_NAME, N, &args_string, FALSE, 0, h_lookup_by_name},
    {R, PROC_NODE_DEVICE_GET_XML_DESC, N, &args_string, TRUE, 0, h_get_xml_desc},
    {R, PROC_NODE_DEVICE_GET_PARENT, N, &args_string, FALSE, 0, h_get_parent},
    {R, PROC_NODE_DEVICE_IS_ACTIVE, N, &args_string, FALSE, 0, h_is_active},
    {R, PROC_NODE_DEVICE_IS_PERSISTENT, N, &args_string, FALSE, 0, h_is_persistent_or_autostart},
    {R, PROC_NODE_DEVICE_GET_AUTOSTART, N, &args_string, FALSE, 0, h_is_persistent_or_autostart},
    {R, PROC_NODE_DEVICE_SET_AUTOSTART, N, &args_autostart, FALSE, 0, h_set_autostart},
    {R, PROC_NODE_DEVICE_NUM_OF_CAPS, N, &args_string, FALSE, 0, h_num_of_caps},
    {R, PROC_NODE_DEVICE_LIST_CAPS, N, &args_caps, FALSE, 0, h_list_caps},
};
#undef R
#undef N
const gsize nodedev_procs_count = G_N_ELEMENTS(nodedev_procs);
