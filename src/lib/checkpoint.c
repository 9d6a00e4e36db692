/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint: libdomus's domain checkpoints and backups over libvirt's procedures. */
#include "lib/client_priv.h"

char *
domus_checkpoint_create_xml(domus_domain *dom, const char *xml, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, xml);
    xdr_put_u32(args, flags);
    return client_reply_moment(dom, PROC_DOMAIN_CHECKPOINT_CREATE_XML, args, error);
}

char **
domus_checkpoint_list(domus_domain *dom, const char *parent, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = parent ? client_moment_args(dom, parent) : client_domain_args(dom);
    xdr_put_i32(args, 1);
    xdr_put_u32(args, flags);
    return client_reply_moments(
        dom, parent ? PROC_DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN : PROC_DOMAIN_LIST_ALL_CHECKPOINTS,
        args, error);
}

char *
domus_checkpoint_get_xml(domus_domain *dom, const char *name, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_moment_args(dom, name);
    xdr_put_u32(args, flags);
    return client_reply_string(domus_domain_get_connect(dom), PROC_DOMAIN_CHECKPOINT_GET_XML_DESC,
                               args, error);
}

char *
domus_checkpoint_parent(domus_domain *dom, const char *name, GError **error)
{
    g_autoptr(GByteArray) args = client_moment_args(dom, name);
    xdr_put_u32(args, 0);
    return client_reply_moment(dom, PROC_DOMAIN_CHECKPOINT_GET_PARENT, args, error);
}

gboolean
domus_checkpoint_delete(domus_domain *dom, const char *name, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_moment_args(dom, name);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_CHECKPOINT_DELETE, args, NULL,
                       error);
}

gboolean
domus_backup_begin(domus_domain *dom, const char *backup_xml, const char *checkpoint_xml,
                   unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, backup_xml);
    xdr_put_opt_string(args, checkpoint_xml);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_BACKUP_BEGIN, args, NULL, error);
}

char *
domus_backup_get_xml(domus_domain *dom, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_u32(args, flags);
    return client_reply_string(domus_domain_get_connect(dom), PROC_DOMAIN_BACKUP_GET_XML_DESC, args,
                               error);
}
