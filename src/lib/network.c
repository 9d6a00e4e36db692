/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network: libdomus's virtual networks over libvirt's network procedures, and the domain
 * calls about interfaces (addresses, in-place updates). */
#include <string.h>

#include "lib/client_priv.h"
#include "util/err.h"
#include "util/uuid.h"

#define NETWORK_LIST_MAX 16384
#define NETWORK_LEASES_MAX 65536
#define INTERFACE_MAX 2048
#define IP_ADDR_MAX 2048

struct domus_network {
    domus_conn *conn;
    char *name;
    uint8_t uuid[UUID_LEN];
    char uuid_str[UUID_STRING_LEN];
};

/* remote_nonnull_network: name, uuid */
static domus_network *
network_from_reader(domus_conn *conn, struct xdr_reader *r)
{
    g_autofree char *name = xdr_get_string(r, RPC_STRING_MAX);
    uint8_t uuid[UUID_LEN];
    if (!xdr_get_opaque_fixed(r, uuid, UUID_LEN) || r->failed)
        return NULL;
    domus_network *net = g_new0(domus_network, 1);
    net->conn = conn;
    net->name = g_steal_pointer(&name);
    memcpy(net->uuid, uuid, UUID_LEN);
    uuid_format(net->uuid, net->uuid_str);
    return net;
}

static domus_network *
reply_network(domus_conn *conn, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    domus_network *net = network_from_reader(conn, &r);
    if (!xdr_reader_finish(&r, error)) {
        domus_network_free(net);
        return NULL;
    }
    return net;
}

static GByteArray *
network_args(domus_network *net)
{
    GByteArray *b = g_byte_array_new();
    xdr_put_string(b, net->name);
    xdr_put_opaque_fixed(b, net->uuid, UUID_LEN);
    return b;
}

static gboolean
network_call(domus_network *net, uint32_t proc, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    return client_call(net->conn, proc, args, NULL, error);
}

void
domus_network_free(domus_network *net)
{
    if (!net)
        return;
    g_free(net->name);
    g_free(net);
}

void
domus_network_list_free(domus_network **list)
{
    for (int i = 0; list && list[i]; i++)
        domus_network_free(list[i]);
    g_free(list);
}

const char *
domus_network_get_name(domus_network *net)
{
    return net->name;
}

const char *
domus_network_get_uuid(domus_network *net)
{
    return net->uuid_str;
}

domus_network **
domus_list_networks(domus_conn *conn, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_LIST_ALL_NETWORKS, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, NETWORK_LIST_MAX, 20);
    domus_network **list = g_new0(domus_network *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        list[i] = network_from_reader(conn, &r);
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        domus_network_list_free(list);
        return NULL;
    }
    return list;
}

domus_network *
domus_network_lookup_by_name(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    return reply_network(conn, PROC_NETWORK_LOOKUP_BY_NAME, args, error);
}

domus_network *
domus_network_lookup_by_uuid(domus_conn *conn, const char *uuid, GError **error)
{
    uint8_t u[UUID_LEN];
    if (!uuid_parse(uuid, u)) {
        err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG, "'%s' is not a valid uuid", uuid);
        return NULL;
    }
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_opaque_fixed(args, u, UUID_LEN);
    return reply_network(conn, PROC_NETWORK_LOOKUP_BY_UUID, args, error);
}

domus_network *
domus_network_define(domus_conn *conn, const char *xml, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    return reply_network(conn, PROC_NETWORK_DEFINE_XML, args, error);
}

domus_network *
domus_network_create_xml(domus_conn *conn, const char *xml, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    return reply_network(conn, PROC_NETWORK_CREATE_XML, args, error);
}

gboolean
domus_network_start(domus_network *net, GError **error)
{
    return network_call(net, PROC_NETWORK_CREATE, error);
}

gboolean
domus_network_destroy(domus_network *net, GError **error)
{
    return network_call(net, PROC_NETWORK_DESTROY, error);
}

gboolean
domus_network_undefine(domus_network *net, GError **error)
{
    return network_call(net, PROC_NETWORK_UNDEFINE, error);
}

int
domus_network_get_autostart(domus_network *net, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    return client_reply_int(net->conn, PROC_NETWORK_GET_AUTOSTART, args, error);
}

gboolean
domus_network_set_autostart(domus_network *net, gboolean on, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    xdr_put_i32(args, on ? 1 : 0);
    return client_call(net->conn, PROC_NETWORK_SET_AUTOSTART, args, NULL, error);
}

int
domus_network_is_active(domus_network *net, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    return client_reply_int(net->conn, PROC_NETWORK_IS_ACTIVE, args, error);
}

int
domus_network_is_persistent(domus_network *net, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    return client_reply_int(net->conn, PROC_NETWORK_IS_PERSISTENT, args, error);
}

char *
domus_network_get_xml(domus_network *net, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    xdr_put_u32(args, flags);
    return client_reply_string(net->conn, PROC_NETWORK_GET_XML_DESC, args, error);
}

char *
domus_network_get_bridge_name(domus_network *net, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    return client_reply_string(net->conn, PROC_NETWORK_GET_BRIDGE_NAME, args, error);
}

gboolean
domus_network_update(domus_network *net, unsigned command, unsigned section, int parent_index,
                     const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    /* the daemon says NETWORK_UPDATE_HAS_CORRECT_ORDER: command first */
    xdr_put_u32(args, command);
    xdr_put_u32(args, section);
    xdr_put_i32(args, parent_index);
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return client_call(net->conn, PROC_NETWORK_UPDATE, args, NULL, error);
}

int
domus_network_event_register(domus_conn *conn, domus_network *net, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 0); /* VIR_NETWORK_EVENT_ID_LIFECYCLE */
    xdr_put_u32(args, net ? 1 : 0);
    if (net) {
        xdr_put_string(args, net->name);
        xdr_put_opaque_fixed(args, net->uuid, UUID_LEN);
    }
    return client_reply_int(conn, PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY, args, error);
}

static void
lease_free(struct domus_network_lease *l)
{
    g_free(l->iface);
    g_free(l->mac);
    g_free(l->iaid);
    g_free(l->ipaddr);
    g_free(l->hostname);
    g_free(l->clientid);
    g_free(l);
}

void
domus_network_lease_list_free(struct domus_network_lease **list)
{
    for (int i = 0; list && list[i]; i++)
        lease_free(list[i]);
    g_free(list);
}

struct domus_network_lease **
domus_network_get_dhcp_leases(domus_network *net, const char *mac, GError **error)
{
    g_autoptr(GByteArray) args = network_args(net);
    xdr_put_opt_string(args, mac);
    xdr_put_i32(args, 1);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(net->conn, PROC_NETWORK_GET_DHCP_LEASES, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, NETWORK_LEASES_MAX, 40);
    struct domus_network_lease **list = g_new0(struct domus_network_lease *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        struct domus_network_lease *l = g_new0(struct domus_network_lease, 1);
        list[i] = l;
        l->iface = xdr_get_string(&r, RPC_STRING_MAX);
        l->expirytime = xdr_get_i64(&r);
        l->type = xdr_get_i32(&r);
        l->mac = xdr_get_opt_string(&r, RPC_STRING_MAX);
        l->iaid = xdr_get_opt_string(&r, RPC_STRING_MAX);
        l->ipaddr = xdr_get_string(&r, RPC_STRING_MAX);
        l->prefix = xdr_get_u32(&r);
        l->hostname = xdr_get_opt_string(&r, RPC_STRING_MAX);
        l->clientid = xdr_get_opt_string(&r, RPC_STRING_MAX);
    }
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error)) {
        domus_network_lease_list_free(list);
        return NULL;
    }
    return list;
}

/* --- domain interfaces --- */

void
domus_interface_list_free(struct domus_interface **list)
{
    for (int i = 0; list && list[i]; i++) {
        for (guint j = 0; j < list[i]->naddrs; j++)
            g_free(list[i]->addrs[j].addr);
        g_free(list[i]->addrs);
        g_free(list[i]->name);
        g_free(list[i]->hwaddr);
        g_free(list[i]);
    }
    g_free(list);
}

struct domus_interface **
domus_domain_interface_addresses(domus_domain *dom, unsigned source, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, source);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_INTERFACE_ADDRESSES, args, &body,
                     error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, INTERFACE_MAX, 12);
    struct domus_interface **list = g_new0(struct domus_interface *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        struct domus_interface *iface = g_new0(struct domus_interface, 1);
        list[i] = iface;
        iface->name = xdr_get_string(&r, RPC_STRING_MAX);
        iface->hwaddr = xdr_get_opt_string(&r, RPC_STRING_MAX);
        uint32_t na = xdr_get_count(&r, IP_ADDR_MAX, 12);
        iface->addrs = g_new0(struct domus_ip_address, na);
        for (uint32_t j = 0; j < na && !r.failed; j++) {
            iface->addrs[j].type = xdr_get_i32(&r);
            iface->addrs[j].addr = xdr_get_string(&r, RPC_STRING_MAX);
            iface->addrs[j].prefix = xdr_get_u32(&r);
            iface->naddrs = j + 1;
        }
    }
    if (!xdr_reader_finish(&r, error)) {
        domus_interface_list_free(list);
        return NULL;
    }
    return list;
}
