/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* save: libdomus's save and restore of a domain's state, managed save, and the definition
 * kept in a save image. Paths are made absolute here, as libvirt's client library does: the
 * daemon resolves nothing against a client's working directory. */
#include "lib/client_priv.h"

static char *
absolute(const char *path)
{
    return g_canonicalize_filename(path, NULL);
}

gboolean
domus_domain_save(domus_domain *dom, const char *path, const char *xml, unsigned flags,
                  GError **error)
{
    g_autofree char *abs = absolute(path);
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, abs);
    xdr_put_opt_string(args, xml);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SAVE_FLAGS, args, NULL, error);
}

gboolean
domus_restore(domus_conn *conn, const char *path, const char *xml, unsigned flags, GError **error)
{
    g_autofree char *abs = absolute(path);
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, abs);
    xdr_put_opt_string(args, xml);
    xdr_put_u32(args, flags);
    return client_call(conn, PROC_DOMAIN_RESTORE_FLAGS, args, NULL, error);
}

char *
domus_save_image_get_xml(domus_conn *conn, const char *path, unsigned flags, GError **error)
{
    g_autofree char *abs = absolute(path);
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, abs);
    xdr_put_u32(args, flags);
    return client_reply_string(conn, PROC_DOMAIN_SAVE_IMAGE_GET_XML_DESC, args, error);
}

gboolean
domus_save_image_define(domus_conn *conn, const char *path, const char *xml, unsigned flags,
                        GError **error)
{
    g_autofree char *abs = absolute(path);
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_string(args, abs);
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return client_call(conn, PROC_DOMAIN_SAVE_IMAGE_DEFINE_XML, args, NULL, error);
}

static gboolean
dom_flags_call(domus_domain *dom, uint32_t proc, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), proc, args, NULL, error);
}

gboolean
domus_domain_managed_save(domus_domain *dom, unsigned flags, GError **error)
{
    return dom_flags_call(dom, PROC_DOMAIN_MANAGED_SAVE, flags, error);
}

gboolean
domus_domain_managed_save_remove(domus_domain *dom, GError **error)
{
    return dom_flags_call(dom, PROC_DOMAIN_MANAGED_SAVE_REMOVE, 0, error);
}

int
domus_domain_has_managed_save(domus_domain *dom, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, 0);
    return client_reply_int(domus_domain_get_connect(dom), PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, args,
                            error);
}

char *
domus_domain_managed_save_get_xml(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    return client_reply_string(domus_domain_get_connect(dom), PROC_DOMAIN_MANAGED_SAVE_GET_XML_DESC,
                               args, error);
}

gboolean
domus_domain_managed_save_define(domus_domain *dom, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_opt_string(args, xml);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_MANAGED_SAVE_DEFINE_XML, args,
                       NULL, error);
}
