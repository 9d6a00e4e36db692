/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_snapshot: domain snapshots: create, list and look up, the tree (parent, children,
 * current), XML, revert and delete. Create, revert and delete reply when their job is done. */
#include "core/core.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virDomainSnapshotListFlags: every bit of libvirt 9.0's */
#define LIST_FLAGS 0x7ffu
/* virDomainSnapshotCreateFlags: all of libvirt 9.0's (ATOMIC: every external snapshot is one
 * QMP transaction; VALIDATE: the XML is always checked) */
#define CREATE_FLAGS 0x3ffu
/* virDomainSnapshotXMLFlags */
enum { SNAPSHOT_XML_SECURE = 1 };

/* --- create, revert, delete: jobs --- */

static void
h_create(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_snapshot_create(ctx->dom, a->s, ctx->flags, dispatch_moment_created,
                         dispatch_moment_call(call, ctx->dom));
}

static void
h_revert(struct call *call, const struct call_ctx *ctx)
{
    core_snapshot_revert(ctx->dom, ctx->snap->name, ctx->flags, dispatch_done_empty, call);
}

static void
h_delete(struct call *call, const struct call_ctx *ctx)
{
    core_snapshot_delete(ctx->dom, ctx->snap->name, ctx->flags, dispatch_done_empty, call);
}

/* --- what a client reads --- */

static void
h_xml(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    g_autofree char *xml =
        core_snapshot_xml(ctx->dom, ctx->snap->name, ctx->flags & SNAPSHOT_XML_SECURE, &error);
    if (!xml)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, xml);
}

/* The list FROM (NULL: the domain's) under FLAGS, as a count, names or handles. */
static GPtrArray *
list(const struct call_ctx *ctx, const char *from)
{
    return core_snapshot_list(ctx->dom, from, ctx->flags);
}

static void
h_num(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GPtrArray) l = list(ctx, NULL);
    dispatch_reply_int(call, (int32_t)l->len);
}

static void
h_num_children(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GPtrArray) l = list(ctx, ctx->snap->name);
    dispatch_reply_int(call, (int32_t)l->len);
}

static void
reply_names(struct call *call, GPtrArray *l, int max)
{
    if (!dispatch_check_max(call, max, RPC_DOMAIN_SNAPSHOT_LIST_MAX))
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(l->len, (guint)max);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, ((struct snapshot_def *)l->pdata[i])->name);
    call_reply(call, b);
}

static void
h_list_names(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    g_autoptr(GPtrArray) l = list(ctx, NULL);
    reply_names(call, l, max->v);
}

static void
h_list_children_names(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    g_autoptr(GPtrArray) l = list(ctx, ctx->snap->name);
    reply_names(call, l, max->v);
}

static void
reply_all(struct call *call, struct domain *dom, GPtrArray *l, gboolean need_results)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    if (need_results) {
        xdr_put_u32(b, l->len);
        for (guint i = 0; i < l->len; i++)
            dispatch_put_moment(b, dom, ((struct snapshot_def *)l->pdata[i])->name);
    } else {
        xdr_put_u32(b, 0);
    }
    xdr_put_i32(b, (int32_t)l->len);
    call_reply(call, b);
}

static void
h_list_all(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) l = list(ctx, NULL);
    reply_all(call, ctx->dom, l, need->v != 0);
}

static void
h_list_all_children(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) l = list(ctx, ctx->snap->name);
    reply_all(call, ctx->dom, l, need->v != 0);
}

static void
h_lookup(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    if (!core_snapshot_lookup(ctx->dom, a->s, &error))
        dispatch_fail(call, error);
    else
        dispatch_reply_moment(call, ctx->dom, a->s);
}

static void
h_has_current(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->dom->current_snapshot != NULL);
}

static void
h_current(struct call *call, const struct call_ctx *ctx)
{
    if (!ctx->dom->current_snapshot) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN_SNAPSHOT, ERR_NO_DOMAIN_SNAPSHOT,
                "domain snapshot not found: the domain '%s' has no current snapshot",
                ctx->dom->def->name);
        dispatch_fail(call, error);
        return;
    }
    dispatch_reply_moment(call, ctx->dom, ctx->dom->current_snapshot);
}

static void
h_parent(struct call *call, const struct call_ctx *ctx)
{
    if (!ctx->snap->parent) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN_SNAPSHOT, ERR_NO_DOMAIN_SNAPSHOT,
                "domain snapshot not found: snapshot '%s' does not have a parent", ctx->snap->name);
        dispatch_fail(call, error);
        return;
    }
    dispatch_reply_moment(call, ctx->dom, ctx->snap->parent);
}

static void
h_is_current(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, g_strcmp0(ctx->dom->current_snapshot, ctx->snap->name) == 0);
}

static void
h_has_metadata(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, 1); /* the daemon only knows snapshots it keeps metadata for */
}

/* Domus program: SNAPSHOT_REVERT_EXTERNAL, the seed's revert form (docs/snapshots.md) */
struct args_revert_external {
    char *name;
    char *memory;
    GPtrArray *disks; /* struct core_revert_disk * */
};

static void
decode_revert_external(struct xdr_reader *r, void *args)
{
    struct args_revert_external *a = args;
    a->name = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->memory = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->disks = g_ptr_array_new_with_free_func((GDestroyNotify)core_revert_disk_free);
    uint32_t n = xdr_get_count(r, DOMUS_REVERT_DISKS_MAX, 12);
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        struct core_revert_disk *d = g_new0(struct core_revert_disk, 1);
        g_ptr_array_add(a->disks, d);
        d->target = xdr_get_string(r, RPC_STRING_MAX);
        d->backfile = xdr_get_opt_string(r, RPC_STRING_MAX);
        d->runfile = xdr_get_opt_string(r, RPC_STRING_MAX);
    }
}

static void
clear_revert_external(void *args)
{
    struct args_revert_external *a = args;
    g_free(a->name);
    g_free(a->memory);
    if (a->disks)
        g_ptr_array_unref(a->disks);
}

static const struct args_type args_revert_external = {
    sizeof(struct args_revert_external), decode_revert_external, clear_revert_external};

static void
h_revert_external(struct call *call, const struct call_ctx *ctx)
{
    const struct args_revert_external *a = ctx->args;
    core_snapshot_revert_external(ctx->dom, a->name, a->memory, a->disks, ctx->flags,
                                  dispatch_done_empty, call);
}

const struct proc_def domus_snapshot_procs[] = {
    {RPC_PROGRAM_DOMUS, DOMUS_PROC_SNAPSHOT_REVERT_EXTERNAL, HANDLE_DOMAIN, &args_revert_external,
     TRUE, CORE_SNAPSHOT_REVERT_RUNNING | CORE_SNAPSHOT_REVERT_PAUSED, h_revert_external},
};
const gsize domus_snapshot_procs_count = G_N_ELEMENTS(domus_snapshot_procs);

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
#define S HANDLE_SNAPSHOT
const struct proc_def snapshot_procs[] = {
    {R, PROC_DOMAIN_SNAPSHOT_CREATE_XML, D, &args_string, TRUE, CREATE_FLAGS, h_create},
    {R, PROC_DOMAIN_SNAPSHOT_GET_XML_DESC, S, NULL, TRUE, SNAPSHOT_XML_SECURE, h_xml},
    {R, PROC_DOMAIN_SNAPSHOT_NUM, D, NULL, TRUE, LIST_FLAGS, h_num},
    {R, PROC_DOMAIN_SNAPSHOT_LIST_NAMES, D, &args_int, TRUE, LIST_FLAGS, h_list_names},
    {R, PROC_DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, D, &args_string, TRUE, 0, h_lookup},
    {R, PROC_DOMAIN_HAS_CURRENT_SNAPSHOT, D, NULL, TRUE, 0, h_has_current},
    {R, PROC_DOMAIN_SNAPSHOT_CURRENT, D, NULL, TRUE, 0, h_current},
    {R, PROC_DOMAIN_REVERT_TO_SNAPSHOT, S, NULL, TRUE,
     CORE_SNAPSHOT_REVERT_RUNNING | CORE_SNAPSHOT_REVERT_PAUSED | 4u /* FORCE */, h_revert},
    {R, PROC_DOMAIN_SNAPSHOT_DELETE, S, NULL, TRUE,
     CORE_SNAPSHOT_DELETE_CHILDREN | CORE_SNAPSHOT_DELETE_METADATA_ONLY |
         CORE_SNAPSHOT_DELETE_CHILDREN_ONLY,
     h_delete},
    {R, PROC_DOMAIN_SNAPSHOT_GET_PARENT, S, NULL, TRUE, 0, h_parent},
    {R, PROC_DOMAIN_SNAPSHOT_NUM_CHILDREN, S, NULL, TRUE, LIST_FLAGS, h_num_children},
    {R, PROC_DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES, S, &args_int, TRUE, LIST_FLAGS,
     h_list_children_names},
    {R, PROC_DOMAIN_SNAPSHOT_IS_CURRENT, S, NULL, TRUE, 0, h_is_current},
    {R, PROC_DOMAIN_SNAPSHOT_HAS_METADATA, S, NULL, TRUE, 0, h_has_metadata},
    {R, PROC_DOMAIN_LIST_ALL_SNAPSHOTS, D, &args_int, TRUE, LIST_FLAGS, h_list_all},
    {R, PROC_DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN, S, &args_int, TRUE, LIST_FLAGS,
     h_list_all_children},
};
#undef R
#undef D
#undef S
const gsize snapshot_procs_count = G_N_ELEMENTS(snapshot_procs);
