/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dispatch: one path for every call (see dispatch.h). The family tables are indexed by
 * number once, at the first call. */
#include "daemon/dispatch.h"

#include <string.h>

#include "core/core.h"
#include "core/guest.h"
#include "core/network.h"
#include "core/storage.h"
#include "util/err.h"
#include "util/log.h"

#define REMOTE_INDEX_MAX 512
#define QEMU_INDEX_MAX 16
#define DOMUS_INDEX_MAX 16

/* Domus's own program: what libvirt's has no procedure for. */
static const struct rpc_proc_info domus_infos[] = {
    {0, NULL, NULL, PROC_UNKNOWN, FALSE, 0, NULL, 0},
    {DOMUS_PROC_VOL_JOB_INFO, "VOL_JOB_INFO", "domusStorageVolJobInfo", PROC_RO_OK, TRUE, 0, NULL,
     ERR_FROM_STORAGE},
    {DOMUS_PROC_VOL_JOB_ABORT, "VOL_JOB_ABORT", "domusStorageVolJobAbort", PROC_RO_DENIED, TRUE, 0,
     NULL, ERR_FROM_STORAGE},
    {DOMUS_PROC_SNAPSHOT_REVERT_EXTERNAL, "SNAPSHOT_REVERT_EXTERNAL", "domusSnapshotRevertExternal",
     PROC_RO_DENIED, TRUE, 0, NULL, ERR_FROM_DOMAIN_SNAPSHOT},
};

static const struct proc_def *remote_index[REMOTE_INDEX_MAX];
static const struct proc_def *qemu_index[QEMU_INDEX_MAX];
static const struct proc_def *domus_index[DOMUS_INDEX_MAX];
static gboolean indexed;

static void
index_table(const struct proc_def *table, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        const struct proc_def *d = &table[i];
        const struct proc_def **slot = NULL;
        if (d->prog == RPC_PROGRAM_REMOTE && d->proc < REMOTE_INDEX_MAX)
            slot = &remote_index[d->proc];
        else if (d->prog == RPC_PROGRAM_QEMU && d->proc < QEMU_INDEX_MAX)
            slot = &qemu_index[d->proc];
        else if (d->prog == RPC_PROGRAM_DOMUS && d->proc < DOMUS_INDEX_MAX)
            slot = &domus_index[d->proc];
        /* a procedure bound twice, or one libvirt does not have, is a bug in a table */
        g_assert(slot && !*slot);
        g_assert(d->prog == RPC_PROGRAM_DOMUS || rpc_proc_lookup(d->prog, d->proc));
        *slot = d;
    }
}

static void
build_index(void)
{
    index_table(host_procs, host_procs_count);
    index_table(cpu_procs, cpu_procs_count);
    index_table(domain_procs, domain_procs_count);
    index_table(save_procs, save_procs_count);
    index_table(snapshot_procs, snapshot_procs_count);
    index_table(checkpoint_procs, checkpoint_procs_count);
    index_table(stats_procs, stats_procs_count);
    index_table(resources_procs, resources_procs_count);
    index_table(device_procs, device_procs_count);
    index_table(event_procs, event_procs_count);
    index_table(guest_procs, guest_procs_count);
    index_table(storage_procs, storage_procs_count);
    index_table(network_procs, network_procs_count);
    index_table(nodedev_procs, nodedev_procs_count);
    index_table(secret_procs, secret_procs_count);
    index_table(domus_procs, domus_procs_count);
    index_table(domus_snapshot_procs, domus_snapshot_procs_count);
    index_table(migrate_procs, migrate_procs_count);
    index_table(blockjob_procs, blockjob_procs_count);
    indexed = TRUE;
}

static const struct rpc_proc_info *
find_info(uint32_t prog, uint32_t proc)
{
    if (prog == RPC_PROGRAM_DOMUS)
        return proc > 0 && proc < G_N_ELEMENTS(domus_infos) ? &domus_infos[proc] : NULL;
    return rpc_proc_lookup(prog, proc);
}

static const struct proc_def *
find_def(uint32_t prog, uint32_t proc)
{
    if (!indexed)
        build_index();
    if (prog == RPC_PROGRAM_REMOTE && proc < REMOTE_INDEX_MAX)
        return remote_index[proc];
    if (prog == RPC_PROGRAM_QEMU && proc < QEMU_INDEX_MAX)
        return qemu_index[proc];
    if (prog == RPC_PROGRAM_DOMUS && proc < DOMUS_INDEX_MAX)
        return domus_index[proc];
    return NULL;
}

/* --- shared helpers --- */

struct core *
dispatch_core(struct call *call)
{
    return server_core(call->client->srv);
}

void
dispatch_fail(struct call *call, GError *error)
{
    call_fail(call, error);
    g_error_free(error);
}

void
dispatch_reply_int(struct call *call, int32_t v)
{
    g_autoptr(GByteArray) b = g_byte_array_sized_new(4);
    xdr_put_i32(b, v);
    call_reply(call, b);
}

void
dispatch_reply_u64(struct call *call, uint64_t v)
{
    g_autoptr(GByteArray) b = g_byte_array_sized_new(8);
    xdr_put_u64(b, v);
    call_reply(call, b);
}

void
dispatch_reply_string(struct call *call, const char *s)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_string(b, s);
    call_reply(call, b);
}

void
dispatch_done_empty(GError *error, gpointer data)
{
    struct call *call = data;
    if (error)
        call_fail(call, error);
    else
        call_reply(call, NULL);
}

gboolean
dispatch_check_max(struct call *call, int asked, int max)
{
    if (asked >= 0 && asked <= max)
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_RPC, "list size %d exceeds the limit %d", asked, max);
    dispatch_fail(call, error);
    return FALSE;
}

/* --- shared argument shapes --- */

static void
dec_string(struct xdr_reader *r, void *args)
{
    ((struct arg_string *)args)->s = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_opt_string(struct xdr_reader *r, void *args)
{
    ((struct arg_opt_string *)args)->s = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_string(void *args)
{
    g_free(((struct arg_string *)args)->s);
}

static void
dec_int(struct xdr_reader *r, void *args)
{
    ((struct arg_int *)args)->v = xdr_get_i32(r);
}

static void
dec_uuid(struct xdr_reader *r, void *args)
{
    xdr_get_opaque_fixed(r, ((struct arg_uuid *)args)->uuid, UUID_LEN);
}

#define PARAMS_MAX 16      /* REMOTE_DOMAIN_*_PARAMETERS_MAX */
#define PARAM_FIELD_MAX 80 /* VIR_TYPED_PARAM_FIELD_LENGTH */

GPtrArray *
args_decode_params(struct xdr_reader *r, guint max)
{
    GPtrArray *params = g_ptr_array_new_with_free_func((GDestroyNotify)typed_param_free);
    uint32_t n = xdr_get_count(r, max, 12);
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        struct typed_param *p = g_new0(struct typed_param, 1);
        g_ptr_array_add(params, p);
        p->field = xdr_get_string(r, PARAM_FIELD_MAX);
        p->type = (enum typed_param_type)xdr_get_i32(r);
        switch (p->type) {
        case TYPED_PARAM_INT:
        case TYPED_PARAM_BOOLEAN:
            p->i = xdr_get_i32(r);
            break;
        case TYPED_PARAM_UINT:
            p->u = xdr_get_u32(r);
            break;
        case TYPED_PARAM_LLONG:
            p->i = xdr_get_i64(r);
            break;
        case TYPED_PARAM_ULLONG:
            p->u = xdr_get_u64(r);
            break;
        case TYPED_PARAM_STRING:
            p->s = xdr_get_string(r, RPC_STRING_MAX);
            break;
        default:
            r->failed = TRUE;
            r->what = "typed parameter type";
        }
        if (!p->field && !r->failed) {
            r->failed = TRUE;
            r->what = "typed parameter field";
        }
    }
    return params;
}

static void
dec_params(struct xdr_reader *r, void *args)
{
    ((struct arg_params *)args)->params = args_decode_params(r, PARAMS_MAX);
}

static void
clear_params(void *args)
{
    struct arg_params *a = args;
    if (a->params)
        g_ptr_array_unref(a->params);
}

const struct args_type args_params = {sizeof(struct arg_params), dec_params, clear_params};

static void
dec_map_state(struct xdr_reader *r, void *args)
{
    struct arg_map_state *a = args;
    a->map = xdr_get_string(r, RPC_STRING_MAX);
    a->state = xdr_get_i32(r);
}

static void
clear_map_state(void *args)
{
    g_free(((struct arg_map_state *)args)->map);
}

const struct args_type args_map_state = {sizeof(struct arg_map_state), dec_map_state,
                                         clear_map_state};

const struct args_type args_string = {sizeof(struct arg_string), dec_string, clear_string};
const struct args_type args_opt_string = {sizeof(struct arg_opt_string), dec_opt_string,
                                          clear_string};
const struct args_type args_int = {sizeof(struct arg_int), dec_int, NULL};
const struct args_type args_uuid = {sizeof(struct arg_uuid), dec_uuid, NULL};

/* --- the path of a call --- */

/* The procedures a connection may call before CONNECT_OPEN. */
static gboolean
allowed_before_open(uint32_t prog, uint32_t proc)
{
    return prog == RPC_PROGRAM_REMOTE &&
           (proc == PROC_AUTH_LIST || proc == PROC_CONNECT_OPEN ||
            proc == PROC_CONNECT_SUPPORTS_FEATURE || proc == PROC_CONNECT_CLOSE);
}

/* A procedure Domus does not implement: refused as libvirt's drivers refuse what they lack,
 * after the read-only rule (for the flag-dependent rules, libvirt's flags come last). */
static void
refuse_unimplemented(struct call *call, const struct rpc_proc_info *info, const uint8_t *body,
                     gsize len)
{
    GError *error = NULL;
    uint32_t flags = 0;
    if (len >= 4)
        flags = ((uint32_t)body[len - 4] << 24) | ((uint32_t)body[len - 3] << 16) |
                ((uint32_t)body[len - 2] << 8) | body[len - 1];
    if (!call->client->readonly || !rpc_proc_readonly_denied(info, flags, 0, &error))
        err_set(&error, info->origin, ERR_NO_SUPPORT, "%s", info->api);
    dispatch_fail(call, error);
}

struct decoded {
    struct rpc_domain dom;
    char *pool_name;
    char *vol_name;
    char *vol_key;
    uint8_t pool_uuid[UUID_LEN];
    void *args;
};

static void
decoded_clear(struct decoded *d, const struct proc_def *def)
{
    rpc_domain_clear(&d->dom);
    g_free(d->pool_name);
    g_free(d->vol_name);
    g_free(d->vol_key);
    if (d->args && def->args->clear)
        def->args->clear(d->args);
    g_free(d->args);
}

static void
decode_handle(struct xdr_reader *r, enum proc_handle handle, struct decoded *d)
{
    switch (handle) {
    case HANDLE_NONE:
        break;
    case HANDLE_DOMAIN:
        rpc_get_domain(r, &d->dom);
        break;
    case HANDLE_POOL:
        d->pool_name = xdr_get_string(r, RPC_STRING_MAX);
        xdr_get_opaque_fixed(r, d->pool_uuid, UUID_LEN);
        break;
    case HANDLE_VOLUME:
        d->pool_name = xdr_get_string(r, RPC_STRING_MAX);
        d->vol_name = xdr_get_string(r, RPC_STRING_MAX);
        d->vol_key = xdr_get_string(r, RPC_STRING_MAX);
        break;
    case HANDLE_NETWORK:
        /* the name is the client's copy: the uuid decides, as for pools */
        d->pool_name = xdr_get_string(r, RPC_STRING_MAX);
        xdr_get_opaque_fixed(r, d->pool_uuid, UUID_LEN);
        break;
    case HANDLE_SNAPSHOT:
    case HANDLE_CHECKPOINT:
        d->vol_name = xdr_get_string(r, RPC_STRING_MAX); /* the snapshot's or checkpoint's */
        rpc_get_domain(r, &d->dom);
        break;
    }
}

/* Finds the object the call is about. */
static gboolean
resolve_handle(struct call *call, enum proc_handle handle, struct decoded *d, struct call_ctx *ctx,
               GError **error)
{
    struct core *core = dispatch_core(call);
    switch (handle) {
    case HANDLE_NONE:
        return TRUE;
    case HANDLE_DOMAIN:
        ctx->dom = core_lookup_handle(core, d->dom.name, d->dom.uuid, error);
        return ctx->dom != NULL;
    case HANDLE_POOL:
        ctx->pool = core_pool_lookup_uuid(core, d->pool_uuid, error);
        return ctx->pool != NULL;
    case HANDLE_VOLUME:
        ctx->pool = core_pool_lookup_name(core, d->pool_name, error);
        if (!ctx->pool || !core_vol_check(ctx->pool, d->vol_name, error))
            return FALSE;
        ctx->vol = d->vol_name;
        return TRUE;
    case HANDLE_NETWORK:
        ctx->net = core_network_lookup_uuid(core, d->pool_uuid, error);
        return ctx->net != NULL;
    case HANDLE_SNAPSHOT:
        ctx->dom = core_lookup_handle(core, d->dom.name, d->dom.uuid, error);
        ctx->snap = ctx->dom ? core_snapshot_lookup(ctx->dom, d->vol_name, error) : NULL;
        return ctx->snap != NULL;
    case HANDLE_CHECKPOINT:
        ctx->dom = core_lookup_handle(core, d->dom.name, d->dom.uuid, error);
        ctx->checkpoint = ctx->dom ? core_checkpoint_lookup(ctx->dom, d->vol_name, error) : NULL;
        return ctx->checkpoint != NULL;
    }
    return FALSE;
}

/* Decodes the whole argument list of DEF's calls from BODY into D and CTX (flags, args). */
static gboolean
decode(const struct proc_def *def, const struct rpc_proc_info *info, const uint8_t *body, gsize len,
       struct decoded *d, struct call_ctx *ctx, GError **error)
{
    struct xdr_reader r;
    xdr_reader_init(&r, body, len);
    decode_handle(&r, def->handle, d);
    if (def->args) {
        d->args = g_malloc0(def->args->size);
        def->args->decode(&r, d->args);
    }
    if (def->flagged)
        ctx->flags = xdr_get_u32(&r);
    ctx->args = d->args;
    if (!xdr_reader_finish(&r, error)) {
        g_prefix_error(error, "cannot decode the arguments of %s: ", info->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
dispatch_decode_args(uint32_t prog, uint32_t proc, const uint8_t *body, gsize len, GError **error)
{
    const struct rpc_proc_info *info = find_info(prog, proc);
    const struct proc_def *def = info ? find_def(prog, proc) : NULL;
    if (!def)
        return TRUE;
    struct decoded d = {0};
    struct call_ctx ctx = {0};
    gboolean ok = decode(def, info, body, len, &d, &ctx, error);
    decoded_clear(&d, def);
    return ok;
}

void
dispatch_call(struct call *call, const uint8_t *body, gsize len)
{
    struct client *c = call->client;
    uint32_t prog = call->hdr.prog;
    uint32_t proc = call->hdr.proc;
    GError *error = NULL;
    const struct rpc_proc_info *info = find_info(prog, proc);
    if (!info || info->access == PROC_EVENT || info->access == PROC_UNKNOWN) {
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "unknown procedure: %u", proc);
        dispatch_fail(call, error);
        return;
    }
    log_debug("client fd %d: call %s serial %u", c->fd, info->name, call->hdr.serial);
    if (!c->opened && !allowed_before_open(prog, proc)) {
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "connection not open; call CONNECT_OPEN first");
        dispatch_fail(call, error);
        return;
    }
    /* what a read-only connection may never do is refused before its arguments are read */
    if (c->readonly && info->access == PROC_RO_DENIED &&
        rpc_proc_readonly_denied(info, 0, 0, &error)) {
        dispatch_fail(call, error);
        return;
    }
    const struct proc_def *def = find_def(prog, proc);
    if (!def) {
        refuse_unimplemented(call, info, body, len);
        return;
    }
    call->def = def;

    struct decoded d = {0};
    struct call_ctx ctx = {0};
    if (!decode(def, info, body, len, &d, &ctx, &error)) {
        /* error set */
    } else if (c->readonly && rpc_proc_readonly_denied(info, ctx.flags, 0, &error)) {
        /* refused for the flags it was given */
    } else if (ctx.flags & ~def->flags) {
        err_set(&error, info->origin, ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s",
                ctx.flags & ~def->flags, info->api);
    } else if (resolve_handle(call, def->handle, &d, &ctx, &error)) {
        def->handler(call, &ctx);
    }
    if (error)
        dispatch_fail(call, error);
    decoded_clear(&d, def);
}

/* virTypedParameterType */
enum {
    PARAM_INT = 1,
    PARAM_UINT = 2,
    PARAM_LLONG = 3,
    PARAM_ULLONG = 4,
    PARAM_BOOLEAN = 6,
    PARAM_STRING = 7
};

void
dispatch_param_bool(GByteArray *b, const char *field, gboolean v)
{
    xdr_put_string(b, field);
    xdr_put_i32(b, PARAM_BOOLEAN);
    xdr_put_i32(b, v ? 1 : 0);
}

void
dispatch_param_int(GByteArray *b, const char *field, int32_t v)
{
    xdr_put_string(b, field);
    xdr_put_i32(b, PARAM_INT);
    xdr_put_i32(b, v);
}

void
dispatch_param_uint(GByteArray *b, const char *field, uint32_t v)
{
    xdr_put_string(b, field);
    xdr_put_i32(b, PARAM_UINT);
    xdr_put_u32(b, v);
}

void
dispatch_param_llong(GByteArray *b, const char *field, int64_t v)
{
    xdr_put_string(b, field);
    xdr_put_i32(b, PARAM_LLONG);
    xdr_put_i64(b, v);
}

void
dispatch_put_typed_params(GByteArray *b, const GPtrArray *params)
{
    xdr_put_u32(b, params->len);
    for (guint i = 0; i < params->len; i++) {
        struct typed_param *p = params->pdata[i];
        xdr_put_string(b, p->field);
        xdr_put_i32(b, p->type);
        switch (p->type) {
        case TYPED_PARAM_INT:
        case TYPED_PARAM_BOOLEAN:
            xdr_put_i32(b, (int32_t)p->i);
            break;
        case TYPED_PARAM_UINT:
            xdr_put_u32(b, (uint32_t)p->u);
            break;
        case TYPED_PARAM_LLONG:
            xdr_put_i64(b, p->i);
            break;
        case TYPED_PARAM_ULLONG:
            xdr_put_u64(b, p->u);
            break;
        case TYPED_PARAM_DOUBLE:
            xdr_put_u64(b, 0); /* not produced */
            break;
        case TYPED_PARAM_STRING:
            xdr_put_string(b, p->s);
            break;
        }
    }
}

void
dispatch_param_ullong(GByteArray *b, const char *field, uint64_t v)
{
    xdr_put_string(b, field);
    xdr_put_i32(b, PARAM_ULLONG);
    xdr_put_u64(b, v);
}

void
dispatch_param_string(GByteArray *b, const char *field, const char *v)
{
    xdr_put_string(b, field);
    xdr_put_i32(b, PARAM_STRING);
    xdr_put_string(b, v ? v : "");
}

gboolean
dispatch_require_running(struct call *call, struct domain *dom)
{
    if (state_is_active(dom->state))
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
            dom->def->name);
    dispatch_fail(call, error);
    return FALSE;
}

void
dispatch_put_moment(GByteArray *b, struct domain *dom, const char *name)
{
    xdr_put_string(b, name);
    rpc_put_domain(b, dom->def->name, dom->def->uuid, dom->id);
}

void
dispatch_reply_moment(struct call *call, struct domain *dom, const char *name)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    dispatch_put_moment(b, dom, name);
    call_reply(call, b);
}

struct moment_call {
    struct call *call;
    struct domain *dom;
};

gpointer
dispatch_moment_call(struct call *call, struct domain *dom)
{
    struct moment_call *mc = g_new0(struct moment_call, 1);
    mc->call = call;
    mc->dom = core_domain_ref(dom);
    return mc;
}

void
dispatch_moment_created(GError *error, const char *name, gpointer data)
{
    struct moment_call *mc = data;
    if (error)
        call_fail(mc->call, error);
    else
        dispatch_reply_moment(mc->call, mc->dom, name);
    core_domain_unref(mc->dom);
    g_free(mc);
}
