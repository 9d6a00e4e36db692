/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_resources: the procedures that change a domain's vCPUs and memory (core/resources.c);
 * prefix h_ for handlers. */
#include "daemon/dispatch.h"

/* virDomainModificationImpact, virDomainMemoryModFlags */
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2, MEM_MAXIMUM = 4 };
#define VCPU_FLAGS 0x1fu /* live, config, maximum, guest, hotpluggable */

struct args_u64_flags {
    uint64_t v;
};

static void
dec_u64(struct xdr_reader *r, void *args)
{
    ((struct args_u64_flags *)args)->v = xdr_get_u64(r);
}

static const struct args_type args_u64 = {sizeof(struct args_u64_flags), dec_u64, NULL};

static void
h_set_vcpus(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *n = ctx->args;
    core_domain_set_vcpus(ctx->dom, (unsigned)n->v, AFFECT_LIVE, dispatch_done_empty, call);
}

static void
h_set_vcpus_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *n = ctx->args;
    /* HOTPLUGGABLE asks that added vCPUs can be unplugged again: every one added live can */
    core_domain_set_vcpus(ctx->dom, (unsigned)n->v, ctx->flags & ~16u, dispatch_done_empty, call);
}

static void
h_set_memory(struct call *call, const struct call_ctx *ctx)
{
    const struct args_u64_flags *m = ctx->args;
    core_domain_set_memory(ctx->dom, m->v, AFFECT_LIVE, dispatch_done_empty, call);
}

static void
h_set_memory_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct args_u64_flags *m = ctx->args;
    core_domain_set_memory(ctx->dom, m->v, ctx->flags, dispatch_done_empty, call);
}

static void
h_set_max_memory(struct call *call, const struct call_ctx *ctx)
{
    const struct args_u64_flags *m = ctx->args;
    core_domain_set_memory(ctx->dom, m->v, MEM_MAXIMUM, dispatch_done_empty, call);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
const struct proc_def resources_procs[] = {
    {R, PROC_DOMAIN_SET_VCPUS, D, &args_int, FALSE, 0, h_set_vcpus},
    {R, PROC_DOMAIN_SET_VCPUS_FLAGS, D, &args_int, TRUE, VCPU_FLAGS, h_set_vcpus_flags},
    {R, PROC_DOMAIN_SET_MEMORY, D, &args_u64, FALSE, 0, h_set_memory},
    {R, PROC_DOMAIN_SET_MEMORY_FLAGS, D, &args_u64, TRUE, AFFECT_LIVE | AFFECT_CONFIG | MEM_MAXIMUM,
     h_set_memory_flags},
    {R, PROC_DOMAIN_SET_MAX_MEMORY, D, &args_u64, FALSE, 0, h_set_max_memory},
};
#undef R
#undef D
const gsize resources_procs_count = G_N_ELEMENTS(resources_procs);
