/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_network: libvirt's virtual network procedures (network event registration is in
 * proc_events.c). Network ports (the per-NIC objects of libvirt's split daemons) are not
 * implemented: their procedures answer "not supported". */
#include "daemon/dispatch.h"

#include <sys/socket.h>

#include "core/network.h"
#include "util/err.h"

#define RPC_NETWORK_LIST_MAX 16384
#define RPC_NETWORK_LEASES_MAX 65536

/* virNetworkDefineFlags / virNetworkCreateFlags: VALIDATE (our parser checks as strictly) */
enum { NET_DEFINE_VALIDATE = 1 };
/* virNetworkXMLFlags */
enum { NET_XML_INACTIVE = 1 };

static void
put_network(GByteArray *b, struct network *n)
{
    xdr_put_string(b, n->def->name);
    xdr_put_opaque_fixed(b, n->def->uuid, UUID_LEN);
}

static void
reply_network_or_fail(struct call *call, struct network *n, GError **error)
{
    if (!n) {
        dispatch_fail(call, *error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_network(b, n);
    call_reply(call, b);
}

static void
reply_ok_or_fail(struct call *call, gboolean ok, GError **error)
{
    if (ok)
        call_reply(call, NULL);
    else
        dispatch_fail(call, *error);
}

static void
h_num(struct call *call, unsigned flags)
{
    g_autoptr(GPtrArray) list = core_network_list(dispatch_core(call), flags);
    dispatch_reply_int(call, (int32_t)list->len);
}

static void
h_num_networks(struct call *call, const struct call_ctx *ctx)
{
    h_num(call, NET_LIST_ACTIVE);
}

static void
h_num_defined_networks(struct call *call, const struct call_ctx *ctx)
{
    h_num(call, NET_LIST_INACTIVE);
}

static void
list_names(struct call *call, const struct call_ctx *ctx, unsigned flags)
{
    const struct arg_int *max = ctx->args;
    if (!dispatch_check_max(call, max->v, RPC_NETWORK_LIST_MAX))
        return;
    g_autoptr(GPtrArray) list = core_network_list(dispatch_core(call), flags);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max->v);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, ((struct network *)list->pdata[i])->def->name);
    call_reply(call, b);
}

static void
h_list_networks(struct call *call, const struct call_ctx *ctx)
{
    list_names(call, ctx, NET_LIST_ACTIVE);
}

static void
h_list_defined_networks(struct call *call, const struct call_ctx *ctx)
{
    list_names(call, ctx, NET_LIST_INACTIVE);
}

static void
h_list_all_networks(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) list = core_network_list(dispatch_core(call), ctx->flags);
    if (list->len > RPC_NETWORK_LIST_MAX)
        g_ptr_array_set_size(list, RPC_NETWORK_LIST_MAX);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, need->v ? list->len : 0);
    for (guint i = 0; need->v && i < list->len; i++)
        put_network(b, list->pdata[i]);
    xdr_put_u32(b, list->len);
    call_reply(call, b);
}

static void
h_lookup_name(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_network_or_fail(call, core_network_lookup_name(dispatch_core(call), a->s, &error),
                          &error);
}

static void
h_lookup_uuid(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_uuid *a = ctx->args;
    GError *error = NULL;
    reply_network_or_fail(call, core_network_lookup_uuid(dispatch_core(call), a->uuid, &error),
                          &error);
}

static void
h_define(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_network_or_fail(call, core_network_define(dispatch_core(call), a->s, &error), &error);
}

static void
h_create_xml(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_network_or_fail(call, core_network_create_xml(dispatch_core(call), a->s, &error), &error);
}

static void
h_create(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_network_start(dispatch_core(call), ctx->net, &error), &error);
}

static void
h_destroy(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_network_destroy(dispatch_core(call), ctx->net, &error), &error);
}

static void
h_undefine(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    reply_ok_or_fail(call, core_network_undefine(dispatch_core(call), ctx->net, &error), &error);
}

static void
h_get_xml(struct call *call, const struct call_ctx *ctx)
{
    g_autofree char *xml =
        core_network_xml(dispatch_core(call), ctx->net,
                         ctx->flags & NET_XML_INACTIVE ? NETWORK_DEF_FORMAT_INACTIVE : 0);
    dispatch_reply_string(call, xml);
}

static void
h_get_bridge_name(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    const char *bridge = core_network_bridge(ctx->net, &error);
    if (bridge)
        dispatch_reply_string(call, bridge);
    else
        dispatch_fail(call, error);
}

static void
h_get_autostart(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->net->autostart);
}

static void
h_set_autostart(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    reply_ok_or_fail(
        call, core_network_set_autostart(dispatch_core(call), ctx->net, a->v != 0, &error), &error);
}

static void
h_is_active(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->net->active);
}

static void
h_is_persistent(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->net->persistent);
}

/* remote_network_update_args after the network: command, section, parentIndex, xml */
struct update_args {
    uint32_t command;
    uint32_t section;
    int32_t parent_index;
    char *xml;
};

static void
dec_update(struct xdr_reader *r, void *args)
{
    struct update_args *a = args;
    a->command = xdr_get_u32(r);
    a->section = xdr_get_u32(r);
    a->parent_index = xdr_get_i32(r);
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_update(void *args)
{
    g_free(((struct update_args *)args)->xml);
}

static const struct args_type args_update = {sizeof(struct update_args), dec_update, clear_update};

static void
h_update(struct call *call, const struct call_ctx *ctx)
{
    /* we answer NETWORK_UPDATE_HAS_CORRECT_ORDER (proc_host.c): command comes first */
    const struct update_args *a = ctx->args;
    GError *error = NULL;
    reply_ok_or_fail(call,
                     core_network_update(dispatch_core(call), ctx->net, a->command, a->section,
                                         a->parent_index, a->xml, ctx->flags, &error),
                     &error);
}

/* remote_network_get_dhcp_leases_args after the network: mac, need_results */
struct leases_args {
    char *mac;
    int32_t need_results;
};

static void
dec_leases(struct xdr_reader *r, void *args)
{
    struct leases_args *a = args;
    a->mac = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->need_results = xdr_get_i32(r);
}

static void
clear_leases(void *args)
{
    g_free(((struct leases_args *)args)->mac);
}

static const struct args_type args_leases = {sizeof(struct leases_args), dec_leases, clear_leases};

static void
h_get_dhcp_leases(struct call *call, const struct call_ctx *ctx)
{
    const struct leases_args *a = ctx->args;
    GError *error = NULL;
    g_autoptr(GArray) prefixes = NULL;
    g_autoptr(GPtrArray) leases = core_network_leases(ctx->net, a->mac, &prefixes, &error);
    if (!leases) {
        dispatch_fail(call, error);
        return;
    }
    guint n = MIN(leases->len, RPC_NETWORK_LEASES_MAX);
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, a->need_results ? n : 0);
    for (guint i = 0; a->need_results && i < n; i++) {
        const struct dnsmasq_lease *l = leases->pdata[i];
        xdr_put_string(b, ctx->net->def->bridge);
        xdr_put_u64(b, (uint64_t)l->expiry);
        xdr_put_i32(b, l->family == AF_INET6 ? 1 : 0); /* virIPAddrType */
        xdr_put_opt_string(b, l->mac);
        xdr_put_opt_string(b, l->iaid);
        xdr_put_string(b, l->ip);
        xdr_put_u32(b, g_array_index(prefixes, guint, i));
        xdr_put_opt_string(b, l->hostname);
        xdr_put_opt_string(b, l->clientid);
    }
    xdr_put_u32(b, n);
    call_reply(call, b);
}

#define R RPC_PROGRAM_REMOTE
#define N HANDLE_NONE
#define W HANDLE_NETWORK
const struct proc_def network_procs[] = {
    {R, PROC_CONNECT_NUM_OF_NETWORKS, N, NULL, FALSE, 0, h_num_networks},
    {R, PROC_CONNECT_LIST_NETWORKS, N, &args_int, FALSE, 0, h_list_networks},
    {R, PROC_CONNECT_NUM_OF_DEFINED_NETWORKS, N, NULL, FALSE, 0, h_num_defined_networks},
    {R, PROC_CONNECT_LIST_DEFINED_NETWORKS, N, &args_int, FALSE, 0, h_list_defined_networks},
    {R, PROC_CONNECT_LIST_ALL_NETWORKS, N, &args_int, TRUE, NET_LIST_ALL_FLAGS,
     h_list_all_networks},
    {R, PROC_NETWORK_LOOKUP_BY_NAME, N, &args_string, FALSE, 0, h_lookup_name},
    {R, PROC_NETWORK_LOOKUP_BY_UUID, N, &args_uuid, FALSE, 0, h_lookup_uuid},
    {R, PROC_NETWORK_DEFINE_XML, N, &args_string, FALSE, 0, h_define},
    {R, PROC_NETWORK_DEFINE_XML_FLAGS, N, &args_string, TRUE, NET_DEFINE_VALIDATE, h_define},
    {R, PROC_NETWORK_CREATE_XML, N, &args_string, FALSE, 0, h_create_xml},
    {R, PROC_NETWORK_CREATE_XML_FLAGS, N, &args_string, TRUE, NET_DEFINE_VALIDATE, h_create_xml},
    {R, PROC_NETWORK_CREATE, W, NULL, FALSE, 0, h_create},
    {R, PROC_NETWORK_DESTROY, W, NULL, FALSE, 0, h_destroy},
    {R, PROC_NETWORK_UNDEFINE, W, NULL, FALSE, 0, h_undefine},
    {R, PROC_NETWORK_GET_XML_DESC, W, NULL, TRUE, NET_XML_INACTIVE, h_get_xml},
    {R, PROC_NETWORK_GET_BRIDGE_NAME, W, NULL, FALSE, 0, h_get_bridge_name},
    {R, PROC_NETWORK_GET_AUTOSTART, W, NULL, FALSE, 0, h_get_autostart},
    {R, PROC_NETWORK_SET_AUTOSTART, W, &args_int, FALSE, 0, h_set_autostart},
    {R, PROC_NETWORK_IS_ACTIVE, W, NULL, FALSE, 0, h_is_active},
    {R, PROC_NETWORK_IS_PERSISTENT, W, NULL, FALSE, 0, h_is_persistent},
    {R, PROC_NETWORK_UPDATE, W, &args_update, TRUE,
     NET_UPDATE_AFFECT_LIVE | NET_UPDATE_AFFECT_CONFIG, h_update},
    {R, PROC_NETWORK_GET_DHCP_LEASES, W, &args_leases, TRUE, 0, h_get_dhcp_leases},
};
#undef R
#undef N
#undef W
const gsize network_procs_count = G_N_ELEMENTS(network_procs);
