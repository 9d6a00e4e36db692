/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_save: save and restore of a domain's state, managed save, the definition kept in a
 * save image, and core dumps.
 * Save and restore reply when their job is done; a client may meanwhile ask for the job's
 * progress or abort it on the same connection. */
#include "core/core.h"
#include "core/guest.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virDomainSaveRestoreFlags */
#define SAVE_FLAGS (CORE_SAVE_BYPASS_CACHE | CORE_SAVE_RUNNING | CORE_SAVE_PAUSED)
/* virDomainCoreDumpFlags */
#define DUMP_FLAGS                                                                                 \
    (CORE_DUMP_CRASH | CORE_DUMP_LIVE | CORE_DUMP_BYPASS_CACHE | CORE_DUMP_RESET |                 \
     CORE_DUMP_MEMORY_ONLY)
/* virDomainSaveImageXMLFlags */
enum { SAVE_IMAGE_XML_SECURE = 1 };

/* A path and a definition: remote_nonnull_string, then remote_string (OPTIONAL) or
 * remote_nonnull_string. */
struct arg_path_xml {
    char *path;
    char *xml;
};

static void
dec_path_opt_xml(struct xdr_reader *r, void *args)
{
    struct arg_path_xml *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->xml = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
dec_path_xml(struct xdr_reader *r, void *args)
{
    struct arg_path_xml *a = args;
    a->path = xdr_get_string(r, RPC_STRING_MAX);
    a->xml = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_path_xml(void *args)
{
    struct arg_path_xml *a = args;
    g_free(a->path);
    g_free(a->xml);
}

static const struct args_type args_path_opt_xml = {sizeof(struct arg_path_xml), dec_path_opt_xml,
                                                   clear_path_xml};
static const struct args_type args_path_xml = {sizeof(struct arg_path_xml), dec_path_xml,
                                               clear_path_xml};

static void
h_save(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_domain_save(ctx->dom, a->s, NULL, 0, dispatch_done_empty, call);
}

static void
h_save_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_path_xml *a = ctx->args;
    core_domain_save(ctx->dom, a->path, a->xml, ctx->flags, dispatch_done_empty, call);
}

/* remote_typed_param<REMOTE_DOMAIN_SAVE_PARAMS_MAX> of virDomainSaveParams and
 * virDomainRestoreParams */
#define SAVE_PARAMS_MAX 64

static void
dec_save_params(struct xdr_reader *r, void *args)
{
    ((struct arg_params *)args)->params = args_decode_params(r, SAVE_PARAMS_MAX);
}

static void
clear_save_params(void *args)
{
    struct arg_params *a = args;
    if (a->params)
        g_ptr_array_unref(a->params);
}

static const struct args_type args_save_params = {sizeof(struct arg_params), dec_save_params,
                                                  clear_save_params};

/* VIR_DOMAIN_SAVE_PARAM_FILE and _DXML: what the *Params calls take */
static const struct typed_param_rule save_param_rules[] = {
    {"file", TYPED_PARAM_STRING},
    {"dxml", TYPED_PARAM_STRING},
    {NULL, 0},
};

/* The call's 'file' and 'dxml' (NULL when absent); FALSE (the call failed) when a parameter
 * is one these calls do not take */
static gboolean
save_params(struct call *call, const struct call_ctx *ctx, const char **ret_file,
            const char **ret_dxml)
{
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    if (!typed_params_validate(a->params, save_param_rules, &error)) {
        dispatch_fail(call, error);
        return FALSE;
    }
    *ret_file = typed_params_get_string(a->params, "file");
    *ret_dxml = typed_params_get_string(a->params, "dxml");
    return TRUE;
}

/* virDomainSaveParams: without a file it is a managed save, as in libvirt */
static void
h_save_params(struct call *call, const struct call_ctx *ctx)
{
    const char *file, *dxml;
    if (!save_params(call, ctx, &file, &dxml))
        return;
    if (file)
        core_domain_save(ctx->dom, file, dxml, ctx->flags, dispatch_done_empty, call);
    else
        core_domain_managed_save(ctx->dom, dxml, ctx->flags, dispatch_done_empty, call);
}

static void
h_restore_params(struct call *call, const struct call_ctx *ctx)
{
    const char *file, *dxml;
    if (!save_params(call, ctx, &file, &dxml))
        return;
    if (!file) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "missing path to restore domain from: give the 'file' parameter");
        dispatch_fail(call, error);
        return;
    }
    core_restore(dispatch_core(call), file, dxml, ctx->flags, dispatch_done_empty, call);
}

/* remote_domain_core_dump_with_format_args: to, dumpformat (then flags) */
struct dump_args {
    char *to;
    uint32_t format;
};

static void
dec_dump(struct xdr_reader *r, void *args)
{
    ((struct dump_args *)args)->to = xdr_get_string(r, RPC_STRING_MAX);
}

static void
dec_dump_format(struct xdr_reader *r, void *args)
{
    struct dump_args *a = args;
    a->to = xdr_get_string(r, RPC_STRING_MAX);
    a->format = xdr_get_u32(r);
}

static void
clear_dump(void *args)
{
    g_free(((struct dump_args *)args)->to);
}

static const struct args_type args_dump = {sizeof(struct dump_args), dec_dump, clear_dump};
static const struct args_type args_dump_format = {sizeof(struct dump_args), dec_dump_format,
                                                  clear_dump};

static void
h_core_dump(struct call *call, const struct call_ctx *ctx)
{
    const struct dump_args *a = ctx->args;
    core_domain_dump(ctx->dom, a->to, a->format, ctx->flags, dispatch_done_empty, call);
}

static void
h_restore(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    core_restore(dispatch_core(call), a->s, NULL, 0, dispatch_done_empty, call);
}

static void
h_restore_flags(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_path_xml *a = ctx->args;
    core_restore(dispatch_core(call), a->path, a->xml, ctx->flags, dispatch_done_empty, call);
}

static void
h_save_image_xml(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    g_autofree char *xml = core_save_image_xml(
        a->s, (ctx->flags & SAVE_IMAGE_XML_SECURE) ? CORE_SAVE_IMAGE_XML_SECURE : 0, &error);
    if (!xml)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, xml);
}

static void
h_save_image_define(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_path_xml *a = ctx->args;
    GError *error = NULL;
    if (!core_save_image_define(a->path, a->xml, ctx->flags, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_managed_save(struct call *call, const struct call_ctx *ctx)
{
    core_domain_managed_save(ctx->dom, NULL, ctx->flags, dispatch_done_empty, call);
}

static void
h_has_managed_save(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->dom->managed_save);
}

static void
h_managed_save_remove(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (!core_domain_managed_save_remove(ctx->dom, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* The managed image of a domain that has one; FALSE (refused) otherwise. */
static char *
managed_image(struct call *call, struct domain *dom)
{
    if (!dom->managed_save) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has no managed save image", dom->def->name);
        dispatch_fail(call, error);
        return NULL;
    }
    return core_managed_save_path(dom);
}

static void
h_managed_save_xml(struct call *call, const struct call_ctx *ctx)
{
    g_autofree char *path = managed_image(call, ctx->dom);
    GError *error = NULL;
    if (!path)
        return;
    g_autofree char *xml = core_save_image_xml(
        path, (ctx->flags & SAVE_IMAGE_XML_SECURE) ? CORE_SAVE_IMAGE_XML_SECURE : 0, &error);
    if (!xml)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, xml);
}

static void
h_managed_save_define(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_opt_string *a = ctx->args;
    g_autofree char *path = managed_image(call, ctx->dom);
    GError *error = NULL;
    if (!path)
        return;
    if (!a->s) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no domain XML given");
        dispatch_fail(call, error);
    } else if (!core_save_image_define(path, a->s, ctx->flags, &error)) {
        dispatch_fail(call, error);
    } else {
        call_reply(call, NULL);
    }
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
#define N HANDLE_NONE
const struct proc_def save_procs[] = {
    {R, PROC_DOMAIN_SAVE, D, &args_string, FALSE, 0, h_save},
    {R, PROC_DOMAIN_SAVE_FLAGS, D, &args_path_opt_xml, TRUE, SAVE_FLAGS, h_save_flags},
    {R, PROC_DOMAIN_RESTORE, N, &args_string, FALSE, 0, h_restore},
    {R, PROC_DOMAIN_RESTORE_FLAGS, N, &args_path_opt_xml, TRUE, SAVE_FLAGS, h_restore_flags},
    {R, PROC_DOMAIN_SAVE_PARAMS, D, &args_save_params, TRUE, SAVE_FLAGS, h_save_params},
    {R, PROC_DOMAIN_RESTORE_PARAMS, N, &args_save_params, TRUE, SAVE_FLAGS, h_restore_params},
    {R, PROC_DOMAIN_SAVE_IMAGE_GET_XML_DESC, N, &args_string, TRUE, SAVE_IMAGE_XML_SECURE,
     h_save_image_xml},
    {R, PROC_DOMAIN_SAVE_IMAGE_DEFINE_XML, N, &args_path_xml, TRUE,
     CORE_SAVE_RUNNING | CORE_SAVE_PAUSED, h_save_image_define},
    {R, PROC_DOMAIN_MANAGED_SAVE, D, NULL, TRUE, SAVE_FLAGS, h_managed_save},
    {R, PROC_DOMAIN_CORE_DUMP, D, &args_dump, TRUE, DUMP_FLAGS, h_core_dump},
    {R, PROC_DOMAIN_CORE_DUMP_WITH_FORMAT, D, &args_dump_format, TRUE, DUMP_FLAGS, h_core_dump},
    {R, PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, D, NULL, TRUE, 0, h_has_managed_save},
    {R, PROC_DOMAIN_MANAGED_SAVE_REMOVE, D, NULL, TRUE, 0, h_managed_save_remove},
    {R, PROC_DOMAIN_MANAGED_SAVE_GET_XML_DESC, D, NULL, TRUE, SAVE_IMAGE_XML_SECURE,
     h_managed_save_xml},
    {R, PROC_DOMAIN_MANAGED_SAVE_DEFINE_XML, D, &args_opt_string, TRUE,
     CORE_SAVE_RUNNING | CORE_SAVE_PAUSED, h_managed_save_define},
};
#undef R
#undef D
#undef N
const gsize save_procs_count = G_N_ELEMENTS(save_procs);
