/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_checkpoint: domain checkpoints (create, list and look up, parent, XML, delete) and
 * backups (begin, XML). Create and delete reply when their job is done; a backup's begin when
 * the copy started. */
#include "conf/checkpoint_def.h"
#include "core/core.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virDomainCheckpointCreateFlags: REDEFINE, QUIESCE (refused by the core as libvirt's QEMU
 * driver refuses it), REDEFINE_VALIDATE */
#define CREATE_FLAGS 0x7u
/* virDomainCheckpointListFlags: ROOTS or DESCENDANTS, TOPOLOGICAL, LEAVES, NO_LEAVES */
#define LIST_FLAGS 0xfu
/* virDomainCheckpointXMLFlags: SECURE, NO_DOMAIN, SIZE */
#define XML_FLAGS 0x7u
/* virDomainCheckpointDeleteFlags: CHILDREN, METADATA_ONLY, CHILDREN_ONLY */
#define DELETE_FLAGS 0x7u
/* virDomainBackupBeginFlags: REUSE_EXTERNAL */
#define BACKUP_FLAGS 0x1u

static void
h_create(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_checkpoint_create(ctx->dom, a->s, ctx->flags, dispatch_moment_created,
                           dispatch_moment_call(call, ctx->dom));
}

static void
h_delete(struct call *call, const struct call_ctx *ctx)
{
    core_checkpoint_delete(ctx->dom, ctx->checkpoint->name, ctx->flags, dispatch_done_empty, call);
}

static void
xml_done(GError *error, const char *xml, gpointer data)
{
    if (error)
        call_fail(data, error);
    else
        dispatch_reply_string(data, xml);
}

static void
h_xml(struct call *call, const struct call_ctx *ctx)
{
    core_checkpoint_xml(ctx->dom, ctx->checkpoint->name, ctx->flags, xml_done, call);
}

static void
reply_all(struct call *call, struct domain *dom, GPtrArray *l, gboolean need_results)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    if (need_results) {
        xdr_put_u32(b, MIN(l->len, RPC_DOMAIN_CHECKPOINT_LIST_MAX));
        for (guint i = 0; i < l->len && i < RPC_DOMAIN_CHECKPOINT_LIST_MAX; i++)
            dispatch_put_moment(b, dom, ((struct checkpoint_def *)l->pdata[i])->name);
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
    g_autoptr(GPtrArray) l = core_checkpoint_list(ctx->dom, NULL, ctx->flags);
    reply_all(call, ctx->dom, l, need->v != 0);
}

static void
h_list_all_children(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need = ctx->args;
    g_autoptr(GPtrArray) l = core_checkpoint_list(ctx->dom, ctx->checkpoint->name, ctx->flags);
    reply_all(call, ctx->dom, l, need->v != 0);
}

static void
h_lookup(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    if (!core_checkpoint_lookup(ctx->dom, a->s, &error))
        dispatch_fail(call, error);
    else
        dispatch_reply_moment(call, ctx->dom, a->s);
}

static void
h_parent(struct call *call, const struct call_ctx *ctx)
{
    if (!ctx->checkpoint->parent) {
        /* virsh checkpoint-parent and checkpoint-info read this code as "a root" */
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN_CHECKPOINT, ERR_NO_DOMAIN_CHECKPOINT,
                "Domain checkpoint not found: checkpoint '%s' does not have a parent",
                ctx->checkpoint->name);
        dispatch_fail(call, error);
        return;
    }
    dispatch_reply_moment(call, ctx->dom, ctx->checkpoint->parent);
}

/* remote_domain_backup_begin_args: the backup XML, the optional checkpoint XML */
struct backup_args {
    char *backup;
    char *checkpoint;
};

static void
dec_backup(struct xdr_reader *r, void *args)
{
    struct backup_args *a = args;
    a->backup = xdr_get_string(r, RPC_STRING_MAX);
    a->checkpoint = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_backup(void *args)
{
    struct backup_args *a = args;
    g_free(a->backup);
    g_free(a->checkpoint);
}

static const struct args_type args_backup = {sizeof(struct backup_args), dec_backup, clear_backup};

static void
h_backup_begin(struct call *call, const struct call_ctx *ctx)
{
    const struct backup_args *a = ctx->args;
    core_backup_begin(ctx->dom, a->backup, a->checkpoint, ctx->flags, dispatch_done_empty, call);
}

static void
h_backup_xml(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    g_autofree char *xml = core_backup_xml(ctx->dom, &error);
    if (!xml)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, xml);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
#define C HANDLE_CHECKPOINT
const struct proc_def checkpoint_procs[] = {
    {R, PROC_DOMAIN_CHECKPOINT_CREATE_XML, D, &args_string, TRUE, CREATE_FLAGS, h_create},
    {R, PROC_DOMAIN_CHECKPOINT_GET_XML_DESC, C, NULL, TRUE, XML_FLAGS, h_xml},
    {R, PROC_DOMAIN_LIST_ALL_CHECKPOINTS, D, &args_int, TRUE, LIST_FLAGS, h_list_all},
    {R, PROC_DOMAIN_CHECKPOINT_LIST_ALL_CHILDREN, C, &args_int, TRUE, LIST_FLAGS,
     h_list_all_children},
    {R, PROC_DOMAIN_CHECKPOINT_LOOKUP_BY_NAME, D, &args_string, TRUE, 0, h_lookup},
    {R, PROC_DOMAIN_CHECKPOINT_GET_PARENT, C, NULL, TRUE, 0, h_parent},
    {R, PROC_DOMAIN_CHECKPOINT_DELETE, C, NULL, TRUE, DELETE_FLAGS, h_delete},
    {R, PROC_DOMAIN_BACKUP_BEGIN, D, &args_backup, TRUE, BACKUP_FLAGS, h_backup_begin},
    {R, PROC_DOMAIN_BACKUP_GET_XML_DESC, D, NULL, TRUE, 0, h_backup_xml},
};
#undef R
#undef D
#undef C
const gsize checkpoint_procs_count = G_N_ELEMENTS(checkpoint_procs);
