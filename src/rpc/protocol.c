/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* protocol: framing and the structs every procedure shares (domain handle, error). */
#include "rpc/protocol.h"

#include <string.h>

#include "util/err.h"

void
rpc_message_begin(GByteArray *buf, const struct rpc_header *hdr)
{
    g_byte_array_set_size(buf, 0);
    xdr_put_u32(buf, 0);
    xdr_put_u32(buf, hdr->prog);
    xdr_put_u32(buf, hdr->vers);
    xdr_put_u32(buf, hdr->proc);
    xdr_put_u32(buf, hdr->type);
    xdr_put_u32(buf, hdr->serial);
    xdr_put_u32(buf, hdr->status);
}

void
rpc_message_end(GByteArray *buf)
{
    uint32_t len = buf->len;
    buf->data[0] = len >> 24;
    buf->data[1] = len >> 16;
    buf->data[2] = len >> 8;
    buf->data[3] = len;
}

void
rpc_header_decode(const uint8_t *p, struct rpc_header *ret_hdr)
{
    struct xdr_reader r;
    xdr_reader_init(&r, p, 24);
    ret_hdr->prog = xdr_get_u32(&r);
    ret_hdr->vers = xdr_get_u32(&r);
    ret_hdr->proc = xdr_get_u32(&r);
    ret_hdr->type = xdr_get_u32(&r);
    ret_hdr->serial = xdr_get_u32(&r);
    ret_hdr->status = xdr_get_u32(&r);
}

void
rpc_put_domain(GByteArray *buf, const char *name, const uint8_t uuid[UUID_LEN], int id)
{
    xdr_put_string(buf, name);
    xdr_put_opaque_fixed(buf, uuid, UUID_LEN);
    xdr_put_i32(buf, id);
}

void
rpc_get_domain(struct xdr_reader *r, struct rpc_domain *ret)
{
    ret->name = xdr_get_string(r, RPC_STRING_MAX);
    if (!xdr_get_opaque_fixed(r, ret->uuid, UUID_LEN))
        memset(ret->uuid, 0, UUID_LEN);
    ret->id = xdr_get_i32(r);
}

void
rpc_domain_clear(struct rpc_domain *dom)
{
    g_clear_pointer(&dom->name, g_free);
}

/* virerror.c's virErrorMsg texts for the codes we raise */
static const struct {
    int code;
    const char *prefix;
} prefixes[] = {
    {ERR_INTERNAL_ERROR, "internal error"},
    {ERR_NO_SUPPORT, "this function is not supported by the connection driver"},
    {ERR_INVALID_ARG, "invalid argument"},
    {ERR_OPERATION_FAILED, "operation failed"},
    {ERR_XML_ERROR, "XML error"},
    {ERR_DOM_EXIST, "this domain exists already"},
    {ERR_OPERATION_DENIED, "operation forbidden"},
    {ERR_OPEN_FAILED, "failed to open configuration file"},
    {ERR_READ_FAILED, "failed to read configuration file"},
    {ERR_WRITE_FAILED, "failed to write configuration file"},
    {ERR_RPC, "RPC error"},
    {ERR_NO_DOMAIN, "Domain not found"},
    {ERR_NO_STORAGE_POOL, "Storage pool not found"},
    {ERR_NO_NETWORK, "Network not found"},
    {ERR_NO_NODE_DEVICE, "Node device not found"},
    {ERR_NO_INTERFACE, "Interface not found"},
    {ERR_NO_DOMAIN_METADATA, "metadata not found"},
    {ERR_NETWORK_EXIST, "this network exists already"},
    {ERR_NO_STORAGE_VOL, "Storage volume not found"},
    {ERR_STORAGE_VOL_EXIST, "storage volume already exists"},
    {ERR_OPERATION_INVALID, "Requested operation is not valid"},
    {ERR_CONFIG_UNSUPPORTED, "unsupported configuration"},
    {ERR_OPERATION_TIMEOUT, "Timed out during operation"},
    {ERR_ARGUMENT_UNSUPPORTED, "argument unsupported"},
    {ERR_OPERATION_ABORTED, "operation aborted"},
    {ERR_OPERATION_UNSUPPORTED, "Operation not supported"},
    {ERR_AGENT_UNRESPONSIVE, "Guest agent is not responding"},
    {ERR_RESOURCE_BUSY, "resource busy"},
    {ERR_NO_HOSTNAME, "no hostname found"},
    {ERR_XML_INVALID_SCHEMA, "XML document failed to validate against schema"},
    {ERR_CPU_INCOMPATIBLE, "the CPU is incompatible with host CPU"},
};

const char *
rpc_error_prefix(int code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++)
        if (prefixes[i].code == code)
            return prefixes[i].prefix;
    return NULL;
}

void
rpc_put_error(GByteArray *buf, const GError *error)
{
    int code = err_code(error);
    const char *prefix = rpc_error_prefix(code);
    /* messages quote what clients and QEMU sent: never pass invalid UTF-8 on */
    g_autofree char *text = g_utf8_make_valid(error->message, -1);
    /* an error relayed from another daemon (peer-to-peer migration) has its prefix already */
    g_autofree char *own = prefix ? g_strdup_printf("%s: ", prefix) : NULL;
    gboolean relayed = own && g_str_has_prefix(text, own);
    g_autofree char *msg = prefix && code != ERR_SYSTEM_ERROR && !relayed
                               ? g_strdup_printf("%s: %s", prefix, text)
                               : g_strdup(text);
    xdr_put_i32(buf, code);
    xdr_put_i32(buf, err_origin(error));
    xdr_put_opt_string(buf, msg);
    xdr_put_i32(buf, 2); /* VIR_ERR_ERROR */
    xdr_put_u32(buf, 0); /* dom */
    xdr_put_opt_string(buf, prefix ? prefix : NULL);
    xdr_put_opt_string(buf, text);
    xdr_put_u32(buf, 0); /* str3 */
    xdr_put_i32(buf, -1);
    xdr_put_i32(buf, -1);
    xdr_put_u32(buf, 0); /* net */
}

GError *
rpc_get_error(struct xdr_reader *r)
{
    int code = xdr_get_i32(r);
    int origin = xdr_get_i32(r);
    g_autofree char *message = xdr_get_opt_string(r, RPC_STRING_MAX);
    GError *error = NULL;
    /* the rest (level, dom, str1-3, int1-2, net) carries nothing a client prints */
    if (r->failed)
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "cannot decode the daemon's error reply");
    else
        err_set(&error, origin, code, "%s", message ? message : "unknown error");
    return error;
}
