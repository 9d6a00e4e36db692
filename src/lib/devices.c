/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devices: attach, detach and update a domain's devices, resize its disks. */
#include "lib/client_priv.h"

static gboolean
string_flags_call(domus_domain *dom, uint32_t proc, const char *s, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, s);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), proc, args, NULL, error);
}

gboolean
domus_domain_update_device(domus_domain *dom, const char *xml, unsigned flags, GError **error)
{
    return string_flags_call(dom, PROC_DOMAIN_UPDATE_DEVICE_FLAGS, xml, flags, error);
}

gboolean
domus_domain_attach_device(domus_domain *dom, const char *xml, unsigned flags, GError **error)
{
    return string_flags_call(dom, PROC_DOMAIN_ATTACH_DEVICE_FLAGS, xml, flags, error);
}

gboolean
domus_domain_detach_device(domus_domain *dom, const char *xml, unsigned flags, GError **error)
{
    return string_flags_call(dom, PROC_DOMAIN_DETACH_DEVICE_FLAGS, xml, flags, error);
}

gboolean
domus_domain_detach_device_alias(domus_domain *dom, const char *alias, unsigned flags,
                                 GError **error)
{
    return string_flags_call(dom, PROC_DOMAIN_DETACH_DEVICE_ALIAS, alias, flags, error);
}

gboolean
domus_domain_block_resize(domus_domain *dom, const char *disk, guint64 size, unsigned flags,
                          GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, disk);
    xdr_put_u64(args, size);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_BLOCK_RESIZE, args, NULL, error);
}
