/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* blockjob: block copy and the block job calls of a domain's disk. */
#include "lib/client_priv.h"
#include "util/err.h"

gboolean
domus_domain_block_copy(domus_domain *dom, const char *path, const char *destxml, guint64 bandwidth,
                        unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, path);
    xdr_put_string(args, destxml);
    if (bandwidth) {
        xdr_put_u32(args, 1);
        xdr_put_string(args, "bandwidth");
        xdr_put_i32(args, 4); /* VIR_TYPED_PARAM_ULLONG */
        xdr_put_u64(args, bandwidth);
    } else {
        xdr_put_u32(args, 0);
    }
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_BLOCK_COPY, args, NULL, error);
}

int
domus_domain_block_job_info(domus_domain *dom, const char *path, unsigned flags,
                            struct domus_block_job_info *ret, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, path);
    xdr_put_u32(args, flags);
    g_autoptr(GByteArray) body = NULL;
    if (!client_call(domus_domain_get_connect(dom), PROC_DOMAIN_GET_BLOCK_JOB_INFO, args, &body,
                     error))
        return -1;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    int found = xdr_get_i32(&r);
    struct domus_block_job_info info = {0};
    info.type = xdr_get_i32(&r);
    info.bandwidth = xdr_get_u64(&r);
    info.cur = xdr_get_u64(&r);
    info.end = xdr_get_u64(&r);
    if (!xdr_reader_finish(&r, error))
        return -1;
    *ret = info;
    return found ? 1 : 0;
}

gboolean
domus_domain_block_job_abort(domus_domain *dom, const char *path, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, path);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_BLOCK_JOB_ABORT, args, NULL,
                       error);
}

gboolean
domus_domain_block_job_set_speed(domus_domain *dom, const char *path, guint64 bandwidth,
                                 unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, path);
    xdr_put_u64(args, bandwidth);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_BLOCK_JOB_SET_SPEED, args, NULL,
                       error);
}

gboolean
domus_domain_block_pull(domus_domain *dom, const char *path, const char *base, guint64 bandwidth,
                        unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, path);
    if (base)
        xdr_put_opt_string(args, base);
    xdr_put_u64(args, bandwidth);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom),
                       base ? PROC_DOMAIN_BLOCK_REBASE : PROC_DOMAIN_BLOCK_PULL, args, NULL, error);
}

gboolean
domus_domain_block_commit(domus_domain *dom, const char *path, const char *base, const char *top,
                          guint64 bandwidth, unsigned flags, GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, path);
    xdr_put_opt_string(args, base);
    xdr_put_opt_string(args, top);
    xdr_put_u64(args, bandwidth);
    xdr_put_u32(args, flags);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_BLOCK_COMMIT, args, NULL, error);
}

gboolean
domus_domain_set_block_threshold(domus_domain *dom, const char *dev, guint64 threshold,
                                 GError **error)
{
    g_autoptr(GByteArray) args = client_domain_args(dom);
    xdr_put_string(args, dev);
    xdr_put_u64(args, threshold);
    xdr_put_u32(args, 0);
    return client_call(domus_domain_get_connect(dom), PROC_DOMAIN_SET_BLOCK_THRESHOLD, args, NULL,
                       error);
}
