/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host: libdomus's calls about the host a connection reaches rather than one of its domains:
 * versions, host and domain capabilities, node devices, host interfaces, CPU models, compare
 * and baseline. */
#include "lib/client_priv.h"

#include "rpc/protocol.h"
#include "util/err.h"

gboolean
domus_get_version(domus_conn *conn, guint64 *ret, GError **error)
{
    return client_reply_u64(conn, PROC_CONNECT_GET_VERSION, NULL, ret, error);
}

gboolean
domus_get_lib_version(domus_conn *conn, guint64 *ret, GError **error)
{
    return client_reply_u64(conn, PROC_CONNECT_GET_LIB_VERSION, NULL, ret, error);
}

char *
domus_get_hostname(domus_conn *conn, GError **error)
{
    return client_reply_string(conn, PROC_CONNECT_GET_HOSTNAME, NULL, error);
}

char *
domus_get_capabilities(domus_conn *conn, GError **error)
{
    return client_reply_string(conn, PROC_CONNECT_GET_CAPABILITIES, NULL, error);
}

char *
domus_get_domain_capabilities(domus_conn *conn, const char *emulator, const char *arch,
                              const char *machine, const char *virttype, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_opt_string(args, emulator);
    xdr_put_opt_string(args, arch);
    xdr_put_opt_string(args, machine);
    xdr_put_opt_string(args, virttype);
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_CONNECT_GET_DOMAIN_CAPABILITIES, args, error);
}

char **
domus_list_node_devices(domus_conn *conn, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_LIST_ALL_NODE_DEVICES, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, 65536, 4);
    g_auto(GStrv) names = g_new0(char *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++)
        names[i] = xdr_get_string(&r, RPC_STRING_MAX);
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&names);
}

GPtrArray *
domus_list_interfaces(domus_conn *conn, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_LIST_ALL_INTERFACES, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, 16384, 8);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)domus_iface_free);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        struct domus_iface *f = g_new0(struct domus_iface, 1);
        f->name = xdr_get_string(&r, RPC_STRING_MAX);
        f->mac = xdr_get_string(&r, RPC_STRING_MAX);
        g_ptr_array_add(out, f);
    }
    xdr_get_u32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&out);
}

void
domus_iface_free(struct domus_iface *f)
{
    if (!f)
        return;
    g_free(f->name);
    g_free(f->mac);
    g_free(f);
}

struct domus_iface *
domus_iface_lookup(domus_conn *conn, const char *name, const char *mac, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name ? name : mac);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn,
                     name ? PROC_INTERFACE_LOOKUP_BY_NAME : PROC_INTERFACE_LOOKUP_BY_MAC_STRING,
                     args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_iface *f = g_new0(struct domus_iface, 1);
    f->name = xdr_get_string(&r, RPC_STRING_MAX);
    f->mac = xdr_get_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error)) {
        domus_iface_free(f);
        return NULL;
    }
    return f;
}

static GByteArray *
iface_args(const struct domus_iface *f)
{
    GByteArray *args = g_byte_array_new();
    xdr_put_string(args, f->name);
    xdr_put_string(args, f->mac);
    return args;
}

char *
domus_iface_get_xml(domus_conn *conn, const struct domus_iface *f, GError **error)
{
    g_autoptr(GByteArray) args = iface_args(f);
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_INTERFACE_GET_XML_DESC, args, error);
}

int
domus_iface_is_active(domus_conn *conn, const struct domus_iface *f, GError **error)
{
    g_autoptr(GByteArray) args = iface_args(f);
    return client_reply_int(conn, PROC_INTERFACE_IS_ACTIVE, args, error);
}

char *
domus_node_device_get_xml(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    xdr_put_u32(args, 0);
    return client_reply_string(conn, PROC_NODE_DEVICE_GET_XML_DESC, args, error);
}

char **
domus_connect_get_cpu_model_names(domus_conn *conn, const char *arch, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, arch);
    xdr_put_i32(args, 1);
    xdr_put_u32(args, 0);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_CONNECT_GET_CPU_MODEL_NAMES, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    guint32 n = xdr_get_u32(&r);
    if (n > 8192) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "the daemon sent %u CPU models", n);
        return NULL;
    }
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    for (guint32 i = 0; i < n && !r.failed; i++)
        g_ptr_array_add(out, xdr_get_string(&r, RPC_STRING_MAX));
    xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_steal(out, NULL);
}

gboolean
domus_node_device_detach(domus_conn *conn, const char *name, const char *driver, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    if (!driver)
        return client_call(conn, PROC_NODE_DEVICE_DETTACH, args, NULL, error);
    xdr_put_opt_string(args, driver);
    xdr_put_u32(args, 0);
    return client_call(conn, PROC_NODE_DEVICE_DETACH_FLAGS, args, NULL, error);
}

gboolean
domus_node_device_reattach(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    return client_call(conn, PROC_NODE_DEVICE_RE_ATTACH, args, NULL, error);
}

gboolean
domus_node_device_reset(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    return client_call(conn, PROC_NODE_DEVICE_RESET, args, NULL, error);
}

char *
domus_node_device_get_parent(domus_conn *conn, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(conn, PROC_NODE_DEVICE_GET_PARENT, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *parent = xdr_get_opt_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&parent);
}

static void
put_hv(GByteArray *args, const char *emulator, const char *arch, const char *machine,
       const char *virttype)
{
    xdr_put_opt_string(args, emulator);
    xdr_put_opt_string(args, arch);
    xdr_put_opt_string(args, machine);
    xdr_put_opt_string(args, virttype);
}

static void
put_strings(GByteArray *args, const char *const *strings)
{
    guint n = strings ? g_strv_length((char **)strings) : 0;
    xdr_put_u32(args, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(args, strings[i]);
}

int
domus_compare_cpu(domus_conn *conn, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return client_reply_int(conn, PROC_CONNECT_COMPARE_CPU, args, error);
}

int
domus_compare_hypervisor_cpu(domus_conn *conn, const char *emulator, const char *arch,
                             const char *machine, const char *virttype, const char *xml,
                             unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    put_hv(args, emulator, arch, machine, virttype);
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return client_reply_int(conn, PROC_CONNECT_COMPARE_HYPERVISOR_CPU, args, error);
}

char *
domus_baseline_cpu(domus_conn *conn, const char *const *xmls, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    put_strings(args, xmls);
    xdr_put_u32(args, flags);
    return client_reply_string(conn, PROC_CONNECT_BASELINE_CPU, args, error);
}

char *
domus_baseline_hypervisor_cpu(domus_conn *conn, const char *emulator, const char *arch,
                              const char *machine, const char *virttype, const char *const *xmls,
                              unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    put_hv(args, emulator, arch, machine, virttype);
    put_strings(args, xmls);
    xdr_put_u32(args, flags);
    return client_reply_string(conn, PROC_CONNECT_BASELINE_HYPERVISOR_CPU, args, error);
}

static int
node_device_int(domus_conn *conn, uint32_t proc, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    return client_reply_int(conn, proc, args, error);
}

int
domus_node_device_is_active(domus_conn *conn, const char *name, GError **error)
{
    return node_device_int(conn, PROC_NODE_DEVICE_IS_ACTIVE, name, error);
}

int
domus_node_device_is_persistent(domus_conn *conn, const char *name, GError **error)
{
    return node_device_int(conn, PROC_NODE_DEVICE_IS_PERSISTENT, name, error);
}

int
domus_node_device_get_autostart(domus_conn *conn, const char *name, GError **error)
{
    return node_device_int(conn, PROC_NODE_DEVICE_GET_AUTOSTART, name, error);
}

gboolean
domus_node_device_set_autostart(domus_conn *conn, const char *name, gboolean autostart,
                                GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, name);
    xdr_put_i32(args, autostart ? 1 : 0);
    return client_call(conn, PROC_NODE_DEVICE_SET_AUTOSTART, args, NULL, error);
}

char *
domus_get_type(domus_conn *conn, GError **error)
{
    return client_reply_string(conn, PROC_CONNECT_GET_TYPE, NULL, error);
}
