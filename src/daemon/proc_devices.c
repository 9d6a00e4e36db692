/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_devices: the procedures that attach, detach and update a domain's devices and resize
 * its disks (core/hotplug.c); prefix h_ for handlers. */
#include "daemon/dispatch.h"

/* virDomainModificationImpact; virDomainDeviceModifyFlags' FORCE; virDomainBlockResizeFlags */
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2, DEVICE_FORCE = 4, RESIZE_BYTES = 1 };

struct args_resize {
    char *disk;
    uint64_t size;
};

static void
dec_resize(struct xdr_reader *r, void *args)
{
    struct args_resize *a = args;
    a->disk = xdr_get_string(r, RPC_STRING_MAX);
    a->size = xdr_get_u64(r);
}

static void
clear_resize(void *args)
{
    g_free(((struct args_resize *)args)->disk);
}

static const struct args_type args_resize = {sizeof(struct args_resize), dec_resize, clear_resize};

/* virDomainAttachDevice and virDomainDetachDevice act on the running domain only */
static void
h_attach(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_domain_attach_device(ctx->dom, a->s, AFFECT_LIVE, dispatch_done_empty, call);
}

static void
h_attach_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_domain_attach_device(ctx->dom, a->s, ctx->flags, dispatch_done_empty, call);
}

static void
h_detach(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_domain_detach_device(ctx->dom, a->s, AFFECT_LIVE, dispatch_done_empty, call);
}

static void
h_detach_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_domain_detach_device(ctx->dom, a->s, ctx->flags, dispatch_done_empty, call);
}

static void
h_detach_alias(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_domain_detach_alias(ctx->dom, a->s, ctx->flags, dispatch_done_empty, call);
}

static void
h_update(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    /* FORCE (eject a locked tray) is what the change does anyway */
    core_domain_update_device(ctx->dom, a->s, ctx->flags & (AFFECT_LIVE | AFFECT_CONFIG),
                              dispatch_done_empty, call);
}

static void
h_block_resize(struct call *call, const struct call_ctx *ctx)
{
    const struct args_resize *a = ctx->args;
    core_domain_block_resize(ctx->dom, a->disk, a->size, ctx->flags, dispatch_done_empty, call);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
const struct proc_def device_procs[] = {
    {R, PROC_DOMAIN_ATTACH_DEVICE, D, &args_string, FALSE, 0, h_attach},
    {R, PROC_DOMAIN_ATTACH_DEVICE_FLAGS, D, &args_string, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_attach_flags},
    {R, PROC_DOMAIN_DETACH_DEVICE, D, &args_string, FALSE, 0, h_detach},
    {R, PROC_DOMAIN_DETACH_DEVICE_FLAGS, D, &args_string, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_detach_flags},
    {R, PROC_DOMAIN_DETACH_DEVICE_ALIAS, D, &args_string, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_detach_alias},
    {R, PROC_DOMAIN_UPDATE_DEVICE_FLAGS, D, &args_string, TRUE,
     AFFECT_LIVE | AFFECT_CONFIG | DEVICE_FORCE, h_update},
    {R, PROC_DOMAIN_BLOCK_RESIZE, D, &args_resize, TRUE, RESIZE_BYTES, h_block_resize},
};
#undef R
#undef D
const gsize device_procs_count = G_N_ELEMENTS(device_procs);
