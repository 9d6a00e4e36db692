/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot: libdomus's domain snapshots over libvirt's snapshot procedures; a snapshot (and a
 * checkpoint, checkpoint.c) is named by its domain and its name. */
#include "lib/client_priv.h"

#define SNAPSHOT_LIST_MAX 16384

GByteArray *
client_moment_args(domus_domain *dom, const char *name)
{
    GByteArray *b = g_byte_array_new();
    xdr_put_string(b, name);
    g_autoptr(GByteArray) d = client_domain_args(dom);
    g_byte_array_append(b, d->data, d->len);
    return b;
}

char *
client_reply_moment(domus_domain *dom, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    g_autofree char *name = xdr_get_string(&r, RPC_STRING_MAX);
    struct rpc_domain d = {0};
    rpc_get_domain(&r, &d);
    rpc_domain_clear(&d);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&name);
}

char *
domus_snapshot_create_xml(domus_domain *dom, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return client_reply_moment(dom, PROC_DOMAIN_SNAPSHOT_CREATE_XML, args, error);
}

char **
client_reply_moments(domus_domain *dom, uint32_t proc, GByteArray *args, GError **error)
{
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), proc, args, &body, error))
        return NULL;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    uint32_t n = xdr_get_count(&r, SNAPSHOT_LIST_MAX, 4);
    g_auto(GStrv) names = g_new0(char *, n + 1);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        names[i] = xdr_get_string(&r, RPC_STRING_MAX);
        struct rpc_domain d = {0};
        rpc_get_domain(&r, &d);
        rpc_domain_clear(&d);
    }
    xdr_get_i32(&r);
    if (!xdr_reader_finish(&r, error))
        return NULL;
    return g_steal_pointer(&names);
}

char **
domus_snapshot_list(domus_domain *dom, const char *parent, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = parent ? client_moment_args(dom, parent) : client_domain_args(dom);
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    return client_reply_moments(
        dom, parent ? PROC_DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN : PROC_DOMAIN_LIST_ALL_SNAPSHOTS, args,
        error);
}

char *
domus_snapshot_get_xml(domus_domain *dom, const char *name, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_moment_args(dom, name);
    xdr_put_u32(args, flags);
    return client_reply_string(domus_domain_get_connect(dom), PROC_DOMAIN_SNAPSHOT_GET_XML_DESC,
                               args, error);
}

char *
domus_snapshot_current(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_reply_moment(dom, PROC_DOMAIN_SNAPSHOT_CURRENT, args, error);
}

char *
domus_snapshot_parent(domus_domain *dom, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = client_moment_args(dom, name);
    xdr_put_u32(args, 0);
    return client_reply_moment(dom, PROC_DOMAIN_SNAPSHOT_GET_PARENT, args, error);
}

static gboolean
snapshot_call(domus_domain *dom, uint32_t proc, const char *name, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_moment_args(dom, name);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), proc, args, NULL, error);
}

gboolean
domus_snapshot_revert(domus_domain *dom, const char *name, unsigned flags, GError **error)
{
    return snapshot_call(dom, PROC_DOMAIN_REVERT_TO_SNAPSHOT, name, flags, error);
}

gboolean
domus_snapshot_revert_external(domus_domain *dom, const char *name, const char *memory_file,
                               const domus_revert_disk *disks, guint n_disks, unsigned flags,
                               GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, name);
    xdr_put_opt_string(args, memory_file);
    xdr_put_u32(args, n_disks);
    for (guint i = 0; i < n_disks; i++) {
        xdr_put_string(args, disks[i].target);
        xdr_put_opt_string(args, disks[i].backfile);
        xdr_put_opt_string(args, disks[i].runfile);
    }
    xdr_put_u32(args, flags);
    return client_call_prog(domus_domain_get_connect(dom), RPC_PROGRAM_DOMUS,
                            DOMUS_PROC_SNAPSHOT_REVERT_EXTERNAL, args, NULL, error);
}

gboolean
domus_snapshot_delete(domus_domain *dom, const char *name, unsigned flags, GError **error)
{
    return snapshot_call(dom, PROC_DOMAIN_SNAPSHOT_DELETE, name, flags, error);
}
