/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_blockjob: block copy (virDomainBlockCopy, virDomainBlockRebase with COPY), pull
 * (virDomainBlockPull, virDomainBlockRebase without), commit (virDomainBlockCommit), the
 * block job calls (info, abort, speed) and write thresholds (virDomainSetBlockThreshold). */
#include "core/blockjob.h"
#include "core/guest.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virDomainBlockRebaseFlags */
enum {
    REBASE_SHALLOW = 1,
    REBASE_REUSE_EXT = 2,
    REBASE_COPY_RAW = 4,
    REBASE_COPY = 8,
    REBASE_RELATIVE = 16,
    REBASE_COPY_DEV = 32,
    REBASE_BANDWIDTH_BYTES = 64,
};
/* virDomainBlockCopyFlags */
enum { COPY_SHALLOW = 1, COPY_REUSE_EXT = 2, COPY_TRANSIENT_JOB = 4, COPY_SYNC_WRITES = 8 };
/* virDomainBlockJobInfoFlags, virDomainBlockJobSetSpeedFlags */
enum { BANDWIDTH_BYTES = 1 };
/* virDomainBlockPullFlags; virDomainBlockCommitFlags beyond CORE_COMMIT_* */
enum { PULL_BANDWIDTH_BYTES = 64 };
enum { COMMIT_BANDWIDTH_BYTES = 16 };

#define BLOCK_COPY_PARAMS_MAX 16 /* REMOTE_DOMAIN_BLOCK_COPY_PARAMETERS_MAX */

/* path, then an optional string (rebase: base), a bandwidth, or a destination XML with
 * parameters (copy) */
struct arg_block {
    char *path;
    char *base;
    char *top;
    uint64_t bandwidth;
    char *xml;
    GPtrArray *params;
};

static void
clear_block(void *args)
{
    struct arg_block *a = args;
    g_free(a->path);
    g_free(a->base);
    g_free(a->top);
    g_free(a->xml);
    if (a->params)
        g_ptr_array_unref(a->params);
}

static void
dec_path(struct xdr_reader *r, void *args)
{
    ((struct arg_block *)args)->path = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_path_speed(struct xdr_reader *r, void *args)
{
    struct arg_block *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->bandwidth = xdr_get_u64(r);
}

static void
dec_rebase(struct xdr_reader *r, void *args)
{
    struct arg_block *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->base = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->bandwidth = xdr_get_u64(r);
}

static void
dec_commit(struct xdr_reader *r, void *args)
{
    struct arg_block *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->base = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->top = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->bandwidth = xdr_get_u64(r);
}

static void
dec_copy(struct xdr_reader *r, void *args)
{
    struct arg_block *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
    a->params = args_decode_params(r, BLOCK_COPY_PARAMS_MAX);
}

static const struct args_type args_path = {sizeof(struct arg_block), dec_path, clear_block};
static const struct args_type args_path_speed = {sizeof(struct arg_block), dec_path_speed,
                                                 clear_block};
static const struct args_type args_rebase = {sizeof(struct arg_block), dec_rebase, clear_block};
static const struct args_type args_copy = {sizeof(struct arg_block), dec_copy, clear_block};
static const struct args_type args_commit = {sizeof(struct arg_block), dec_commit, clear_block};

/* MiB/s to bytes/s, refusing what does not fit (FALSE with the call failed) */
static gboolean
to_bytes(struct call *call, uint64_t mib, guint64 *ret)
{
    if (mib > (G_MAXUINT64 >> 20)) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OVERFLOW,
                "bandwidth %" G_GUINT64_FORMAT " MiB/s is too large", mib);
        dispatch_fail(call, error);
        return FALSE;
    }
    *ret = mib << 20;
    return TRUE;
}

/* virDomainBlockRebase: with COPY, the old form of a block copy, its "base" the destination;
 * without, a pull down to BASE */
static void
h_rebase(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    GError *error = NULL;
    if (!(ctx->flags & REBASE_COPY)) {
        if (ctx->flags & ~(unsigned)REBASE_BANDWIDTH_BYTES) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "flags 0x%x of a block rebase go only with a copy "
                    "(VIR_DOMAIN_BLOCK_REBASE_COPY)",
                    ctx->flags & ~(unsigned)REBASE_BANDWIDTH_BYTES);
            dispatch_fail(call, error);
            return;
        }
        guint64 bytes = a->bandwidth;
        if (!(ctx->flags & REBASE_BANDWIDTH_BYTES) && !to_bytes(call, a->bandwidth, &bytes))
            return;
        core_block_pull(ctx->dom, a->path, a->base, bytes, dispatch_done_empty, call);
        return;
    }
    if (!a->base || !g_path_is_absolute(a->base)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "%s",
                "a block copy needs an absolute destination path");
        dispatch_fail(call, error);
        return;
    }
    guint64 bytes = a->bandwidth;
    if (!(ctx->flags & REBASE_BANDWIDTH_BYTES) && !to_bytes(call, a->bandwidth, &bytes))
        return;
    struct core_block_copy c = {
        .dest = a->base,
        .format = (ctx->flags & REBASE_COPY_RAW) ? DISK_FORMAT_RAW : DISK_FORMAT_NONE,
        .block = (ctx->flags & REBASE_COPY_DEV) != 0,
        .shallow = (ctx->flags & REBASE_SHALLOW) != 0,
        .reuse = (ctx->flags & REBASE_REUSE_EXT) != 0,
        .bandwidth = bytes,
    };
    core_block_copy(ctx->dom, a->path, &c, dispatch_done_empty, call);
}

static void
h_pull(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    guint64 bytes = a->bandwidth;
    if (!(ctx->flags & PULL_BANDWIDTH_BYTES) && !to_bytes(call, a->bandwidth, &bytes))
        return;
    core_block_pull(ctx->dom, a->path, NULL, bytes, dispatch_done_empty, call);
}

static void
h_commit(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    guint64 bytes = a->bandwidth;
    if (!(ctx->flags & COMMIT_BANDWIDTH_BYTES) && !to_bytes(call, a->bandwidth, &bytes))
        return;
    core_block_commit(ctx->dom, a->path, a->base, a->top, bytes,
                      ctx->flags & (CORE_COMMIT_SHALLOW | CORE_COMMIT_DELETE | CORE_COMMIT_ACTIVE),
                      dispatch_done_empty, call);
}

static void
h_threshold(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    core_block_set_threshold(ctx->dom, a->path, a->bandwidth, dispatch_done_empty, call);
}

static void
h_copy(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    GError *error = NULL;
    struct core_block_copy c = {0};
    g_autofree char *dest = NULL;
    if (ctx->flags & COPY_SYNC_WRITES) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED, "%s",
                "synchronous writes of a block copy are not supported by Domus yet");
        dispatch_fail(call, error);
        return;
    }
    for (guint i = 0; i < a->params->len; i++) {
        const struct typed_param *p = a->params->pdata[i];
        if (g_str_equal(p->field, "bandwidth") && p->type == TYPED_PARAM_ULLONG) {
            c.bandwidth = p->u;
        } else {
            err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                    "block copy parameter '%s' is not supported by Domus", p->field);
            dispatch_fail(call, error);
            return;
        }
    }
    if (!core_block_copy_parse(a->xml, &c, &dest, &error)) {
        dispatch_fail(call, error);
        return;
    }
    c.dest = dest;
    c.shallow = (ctx->flags & COPY_SHALLOW) != 0;
    c.reuse = (ctx->flags & COPY_REUSE_EXT) != 0;
    core_block_copy(ctx->dom, a->path, &c, dispatch_done_empty, call);
}

struct info_call {
    struct call *call;
    gboolean bytes;
};

static void
info_done(GError *error, const struct core_block_info *info, gpointer data)
{
    struct info_call *ic = data;
    if (error) {
        dispatch_fail(ic->call, g_error_copy(error));
    } else {
        g_autoptr(GByteArray) b = g_byte_array_new();
        xdr_put_i32(b, info->found);
        xdr_put_i32(b, info->type);
        xdr_put_u64(b, ic->bytes ? info->bandwidth : info->bandwidth >> 20);
        xdr_put_u64(b, info->cur);
        xdr_put_u64(b, info->end);
        call_reply(ic->call, b);
    }
    g_free(ic);
}

static void
h_info(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    struct info_call *ic = g_new0(struct info_call, 1);
    ic->call = call;
    ic->bytes = (ctx->flags & BANDWIDTH_BYTES) != 0;
    core_block_job_info(ctx->dom, a->path, info_done, ic);
}

static void
h_abort(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    core_block_job_abort(ctx->dom, a->path, ctx->flags, dispatch_done_empty, call);
}

static void
h_speed(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_block *a = ctx->args;
    guint64 bytes = a->bandwidth;
    if (!(ctx->flags & BANDWIDTH_BYTES) && !to_bytes(call, a->bandwidth, &bytes))
        return;
    core_block_job_set_speed(ctx->dom, a->path, bytes, dispatch_done_empty, call);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
const struct proc_def blockjob_procs[] = {
    {R, PROC_DOMAIN_BLOCK_REBASE, D, &args_rebase, TRUE, 127, h_rebase},
    {R, PROC_DOMAIN_BLOCK_COPY, D, &args_copy, TRUE, 15, h_copy},
    /* remote_domain_set_block_threshold_args: dev, threshold (read as path, bandwidth) */
    {R, PROC_DOMAIN_SET_BLOCK_THRESHOLD, D, &args_path_speed, TRUE, 0, h_threshold},
    {R, PROC_DOMAIN_BLOCK_PULL, D, &args_path_speed, TRUE, PULL_BANDWIDTH_BYTES, h_pull},
    {R, PROC_DOMAIN_BLOCK_COMMIT, D, &args_commit, TRUE,
     CORE_COMMIT_SHALLOW | CORE_COMMIT_DELETE | CORE_COMMIT_ACTIVE | COMMIT_BANDWIDTH_BYTES,
     h_commit},
    {R, PROC_DOMAIN_GET_BLOCK_JOB_INFO, D, &args_path, TRUE, BANDWIDTH_BYTES, h_info},
    {R, PROC_DOMAIN_BLOCK_JOB_ABORT, D, &args_path, TRUE, 3, h_abort},
    {R, PROC_DOMAIN_BLOCK_JOB_SET_SPEED, D, &args_path_speed, TRUE, BANDWIDTH_BYTES, h_speed},
};
const gsize blockjob_procs_count = G_N_ELEMENTS(blockjob_procs);
