/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_domain: domains: listing and lookup, definitions, the lifecycle, and what a client
 * reads of a domain. State-changing calls complete when the core is done with them. */
#include <string.h>

#include "core/core.h"
#include "core/guest.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virConnectListAllDomainsFlags: every bit up to LIST_NO_CHECKPOINT */
#define LIST_ALL_FLAGS 0xffffu
/* virDomainCreateFlags */
enum {
    CREATE_PAUSED = 1,
    CREATE_AUTODESTROY = 2,
    CREATE_BYPASS_CACHE = 4,
    CREATE_FORCE_BOOT = 8,
    CREATE_VALIDATE = 16
};
/* virDomainDefineFlags, virDomainUndefineFlagsValues (all of libvirt 9.0's: nothing behind
 * them to keep or remove yet) */
enum { DEFINE_VALIDATE = 1 };
#define UNDEFINE_ALL_FLAGS 0x7fu
/* virDomainXMLFlags */
enum { XML_SECURE = 1, XML_INACTIVE = 2, XML_UPDATE_CPU = 4, XML_MIGRATABLE = 8 };
/* virDomainShutdownFlagValues / virDomainRebootFlagValues: the core says which it serves */
#define POWER_ALL_FLAGS 0x3u /* ACPI, AGENT: what libvirt 9.0's QEMU driver takes */
/* virDomainModificationImpact */
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2 };
/* virDomainMessageType */
#define MESSAGE_ALL_FLAGS 0x3u

static void
put_dom(GByteArray *b, struct domain *dom)
{
    rpc_put_domain(b, dom->def->name, dom->def->uuid, dom->id);
}

static void
reply_dom(struct call *call, struct domain *dom)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_dom(b, dom);
    call_reply(call, b);
}

/* --- listing and lookup --- */

static void
h_list_all(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *need_results = ctx->args;
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), ctx->flags);
    g_autoptr(GByteArray) b = g_byte_array_new();
    if (need_results->v) {
        xdr_put_u32(b, list->len);
        for (guint i = 0; i < list->len; i++)
            put_dom(b, list->pdata[i]);
    } else {
        xdr_put_u32(b, 0);
    }
    xdr_put_u32(b, list->len);
    call_reply(call, b);
}

static void
h_num_of_domains(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), 1 /* active */);
    dispatch_reply_int(call, (int32_t)list->len);
}

static void
h_num_of_defined(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), 2 | 4 /* inactive, persistent */);
    dispatch_reply_int(call, (int32_t)list->len);
}

static void
h_list_domains(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    if (!dispatch_check_max(call, max->v, RPC_DOMAIN_LIST_MAX))
        return;
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), 1);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max->v);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_i32(b, ((struct domain *)list->pdata[i])->id);
    call_reply(call, b);
}

static void
h_list_defined(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *max = ctx->args;
    if (!dispatch_check_max(call, max->v, RPC_DOMAIN_LIST_MAX))
        return;
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), 2 | 4);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max->v);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, ((struct domain *)list->pdata[i])->def->name);
    call_reply(call, b);
}

/* ERROR is read only after the object was computed (C leaves argument order open). */
static void
reply_dom_or_fail(struct call *call, struct domain *dom, GError **error)
{
    if (dom)
        reply_dom(call, dom);
    else
        dispatch_fail(call, *error);
}

static void
h_lookup_name(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_dom_or_fail(call, core_lookup_name(dispatch_core(call), a->s, &error), &error);
}

static void
h_lookup_uuid(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_uuid *a = ctx->args;
    GError *error = NULL;
    reply_dom_or_fail(call, core_lookup_uuid(dispatch_core(call), a->uuid, &error), &error);
}

static void
h_lookup_id(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    GError *error = NULL;
    reply_dom_or_fail(call, core_lookup_id(dispatch_core(call), a->v, &error), &error);
}

/* --- definitions --- */

static void
h_define(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    reply_dom_or_fail(call, core_define(dispatch_core(call), a->s, ctx->flags, &error), &error);
}

static void
h_undefine(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (!core_undefine(dispatch_core(call), ctx->dom, ctx->flags, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* remote_domain_rename_args: the new name (optional in the protocol, needed here), flags;
 * the reply is remote_domain_rename_ret: int retcode */
static void
h_rename(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_opt_string *name = ctx->args;
    GError *error = NULL;
    if (!name->s)
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "a new name is needed to rename "
                "domain '%s'",
                ctx->dom->def->name);
    if (error || !core_rename(dispatch_core(call), ctx->dom, name->s, &error)) {
        dispatch_fail(call, error);
        return;
    }
    dispatch_reply_int(call, 0);
}

/* --- lifecycle: replies come when the core is done --- */

struct dom_call {
    struct call *call;
    struct domain *dom;
};

static void
done_dom(GError *error, gpointer data)
{
    struct dom_call *dc = data;
    if (error)
        call_fail(dc->call, error);
    else
        reply_dom(dc->call, dc->dom);
    core_domain_unref(dc->dom);
    g_free(dc);
}

static void
h_create(struct call *call, const struct call_ctx *ctx)
{
    core_domain_start(ctx->dom, 0, dispatch_done_empty, call);
}

static void
h_create_with_flags(struct call *call, const struct call_ctx *ctx)
{
    if (ctx->flags & CREATE_AUTODESTROY)
        ctx->dom->autodestroy_owner = call->client;
    struct dom_call *dc = g_new0(struct dom_call, 1);
    dc->call = call;
    dc->dom = core_domain_ref(ctx->dom);
    core_domain_start(
        ctx->dom,
        ctx->flags & (CREATE_PAUSED | CREATE_AUTODESTROY | CREATE_BYPASS_CACHE | CREATE_FORCE_BOOT),
        done_dom, dc);
}

static void
h_create_xml(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_string *a = ctx->args;
    GError *error = NULL;
    /* the domain is referenced before the start can complete (it may complete at once) */
    struct domain_def *live = NULL;
    struct domain *dom = core_create_xml_prepare(
        dispatch_core(call), a->s, (ctx->flags & CREATE_VALIDATE) != 0, &live, &error);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    struct dom_call *dc = g_new0(struct dom_call, 1);
    dc->call = call;
    dc->dom = core_domain_ref(dom);
    if (ctx->flags & CREATE_AUTODESTROY)
        dom->autodestroy_owner = call->client;
    core_create_xml_start(dom, live, ctx->flags & (CREATE_PAUSED | CREATE_AUTODESTROY), done_dom,
                          dc);
}

static void
h_destroy(struct call *call, const struct call_ctx *ctx)
{
    core_domain_destroy(ctx->dom, ctx->flags, dispatch_done_empty, call);
}

static void
h_shutdown(struct call *call, const struct call_ctx *ctx)
{
    core_domain_shutdown(ctx->dom, ctx->flags, dispatch_done_empty, call);
}

static void
h_reboot(struct call *call, const struct call_ctx *ctx)
{
    core_domain_reboot(ctx->dom, ctx->flags, dispatch_done_empty, call);
}

static void
h_reset(struct call *call, const struct call_ctx *ctx)
{
    core_domain_reset(ctx->dom, dispatch_done_empty, call);
}

static void
h_suspend(struct call *call, const struct call_ctx *ctx)
{
    core_domain_suspend(ctx->dom, dispatch_done_empty, call);
}

static void
h_resume(struct call *call, const struct call_ctx *ctx)
{
    core_domain_resume(ctx->dom, dispatch_done_empty, call);
}

/* --- queries --- */

static void
h_get_info(struct call *call, const struct call_ctx *ctx)
{
    struct domain *dom = ctx->dom;
    gboolean active = state_is_active(dom->state);
    g_autoptr(GByteArray) b = g_byte_array_sized_new(40);
    xdr_put_u32(b, dom->state);
    xdr_put_u64(b, dom->def->memory_kib);
    xdr_put_u64(b, active ? dom->def->current_memory_kib : dom->def->memory_kib);
    xdr_put_u32(b, active ? dom->def->vcpus_current : dom->def->vcpus);
    xdr_put_u64(b, core_domain_cpu_time(dom));
    call_reply(call, b);
}

static void
h_get_state(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GByteArray) b = g_byte_array_sized_new(8);
    xdr_put_i32(b, ctx->dom->state);
    xdr_put_i32(b, ctx->dom->reason);
    call_reply(call, b);
}

static void
h_get_xml(struct call *call, const struct call_ctx *ctx)
{
    g_autofree char *xml = core_domain_xml(ctx->dom, ctx->flags);
    dispatch_reply_string(call, xml);
}

static void
h_is_active(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, state_is_active(ctx->dom->state));
}

static void
h_is_persistent(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->dom->persistent);
}

static void
h_is_updated(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, core_domain_is_updated(ctx->dom));
}

static void
h_get_autostart(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_int(call, ctx->dom->autostart);
}

static void
h_set_autostart(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *on = ctx->args;
    GError *error = NULL;
    if (!core_set_autostart(dispatch_core(call), ctx->dom, on->v != 0, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

/* remote_domain_set_metadata_args / remote_domain_get_metadata_args, after the domain */
struct args_metadata {
    int32_t type;
    char *value; /* SET only */
    char *key;   /* SET only */
    char *uri;
};

static void
dec_set_metadata(struct xdr_reader *r, void *args)
{
    struct args_metadata *a = args;
    a->type = xdr_get_i32(r);
    a->value = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->key = xdr_get_opt_string(r, RPC_STRING_MAX);
    a->uri = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
dec_get_metadata(struct xdr_reader *r, void *args)
{
    struct args_metadata *a = args;
    a->type = xdr_get_i32(r);
    a->uri = xdr_get_opt_string(r, RPC_STRING_MAX);
}

static void
clear_metadata(void *args)
{
    struct args_metadata *a = args;
    g_free(a->value);
    g_free(a->key);
    g_free(a->uri);
}

static const struct args_type args_set_metadata = {sizeof(struct args_metadata), dec_set_metadata,
                                                   clear_metadata};
static const struct args_type args_get_metadata = {sizeof(struct args_metadata), dec_get_metadata,
                                                   clear_metadata};

static void
h_set_metadata(struct call *call, const struct call_ctx *ctx)
{
    const struct args_metadata *a = ctx->args;
    GError *error = NULL;
    if (!core_domain_set_metadata(ctx->dom, a->type, a->value, a->key, a->uri, ctx->flags, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_get_metadata(struct call *call, const struct call_ctx *ctx)
{
    const struct args_metadata *a = ctx->args;
    GError *error = NULL;
    g_autofree char *value =
        core_domain_get_metadata(ctx->dom, a->type, a->uri, ctx->flags, &error);
    if (!value)
        dispatch_fail(call, error);
    else
        dispatch_reply_string(call, value);
}

static void
h_get_os_type(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_string(call, ctx->dom->def->os_type ? ctx->dom->def->os_type : "hvm");
}

static void
h_get_max_memory(struct call *call, const struct call_ctx *ctx)
{
    dispatch_reply_u64(call, ctx->dom->def->memory_kib);
}

/* No security driver confines QEMU here (libvirt's "none"): one empty label, not enforcing. */
static void
h_security_label(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_char_array(b, "", 1);
    xdr_put_i32(b, 0);
    call_reply(call, b);
}

/* The list holds that one label, or none for a domain that is not running (libvirt); then its
 * length */
static void
h_security_label_list(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    gboolean active = state_is_active(ctx->dom->state);
    xdr_put_u32(b, active ? 1 : 0);
    if (active) {
        xdr_put_char_array(b, "", 1);
        xdr_put_i32(b, 0);
    }
    xdr_put_i32(b, active ? 1 : 0);
    call_reply(call, b);
}

/* Launch security (AMD SEV): no domain has it, <launchSecurity> is not built. As libvirt for
 * a domain without it: no parameters to read, and no secret to set. */
static void
h_launch_security_info(struct call *call, const struct call_ctx *ctx)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, 0);
    xdr_put_i32(b, 0);
    call_reply(call, b);
}

/* REMOTE_DOMAIN_LAUNCH_SECURITY_STATE_PARAMS_MAX */
#define LAUNCH_SECURITY_PARAMS_MAX 64

static void
dec_launch_state(struct xdr_reader *r, void *args)
{
    ((struct arg_params *)args)->params = args_decode_params(r, LAUNCH_SECURITY_PARAMS_MAX);
}

static void
clear_launch_state(void *args)
{
    struct arg_params *a = args;
    if (a->params)
        g_ptr_array_unref(a->params);
}

static const struct args_type args_launch_state = {sizeof(struct arg_params), dec_launch_state,
                                                   clear_launch_state};

static void
h_set_launch_security_state(struct call *call, const struct call_ctx *ctx)
{
    static const struct typed_param_rule rules[] = {
        {"sev-secret-header", TYPED_PARAM_STRING},
        {"sev-secret", TYPED_PARAM_STRING},
        {"sev-secret-set-address", TYPED_PARAM_ULLONG},
        {NULL, 0},
    };
    const struct arg_params *a = ctx->args;
    GError *error = NULL;
    if (typed_params_validate(a->params, rules, &error))
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                "setting a launch secret is only supported in SEV-enabled domains; domain '%s' "
                "has no <launchSecurity> (Domus does not run SEV guests)",
                ctx->dom->def->name);
    dispatch_fail(call, error);
}

static void
h_get_messages(struct call *call, const struct call_ctx *ctx)
{
    GPtrArray *messages = ctx->dom->messages;
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(messages->len, RPC_DOMAIN_MESSAGES_MAX);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, messages->pdata[i]);
    call_reply(call, b);
}

/* virDomainJobType */
enum { JOB_TYPE_NONE = 0, JOB_TYPE_BOUNDED = 1, JOB_TYPE_UNBOUNDED = 2 };

static int
job_type_of(const struct job_info *info)
{
    if (info->type == JOB_NONE)
        return JOB_TYPE_NONE;
    return info->total && !info->temp ? JOB_TYPE_BOUNDED : JOB_TYPE_UNBOUNDED;
}

static void
h_get_job_info(struct call *call, const struct call_ctx *ctx)
{
    if (!dispatch_require_running(call, ctx->dom))
        return;
    struct job_info info;
    job_info(&ctx->dom->jobs, &info);
    g_autoptr(GByteArray) b = g_byte_array_new();
    /* a pull backup's figures are scratch space, not work: none here, as libvirt's */
    guint64 total = info.temp ? 0 : info.total, done = info.temp ? 0 : info.done;
    xdr_put_i32(b, job_type_of(&info));
    xdr_put_u64(b, (uint64_t)info.elapsed_ms);
    xdr_put_u64(b, 0); /* time remaining: unknown */
    xdr_put_u64(b, total);
    xdr_put_u64(b, done);
    xdr_put_u64(b, total - MIN(done, total));
    const struct job_migration *m = &info.migration;
    xdr_put_u64(b, m->present ? m->mem_total : 0);
    xdr_put_u64(b, m->present ? m->mem_processed : 0);
    xdr_put_u64(b, m->present ? m->mem_remaining : 0);
    /* libvirt's "file" totals are a migration's copied disks */
    xdr_put_u64(b, m->present ? m->disk_total : 0);
    xdr_put_u64(b, m->present ? m->disk_processed : 0);
    xdr_put_u64(b, m->present ? m->disk_remaining : 0);
    call_reply(call, b);
}

/* virDomainGetJobStatsFlags */
enum { JOB_STATS_COMPLETED = 1, JOB_STATS_KEEP_COMPLETED = 2 };

static void
h_get_job_stats(struct call *call, const struct call_ctx *ctx)
{
    struct job_info info;
    int type;
    if (ctx->flags & JOB_STATS_COMPLETED) {
        enum job_outcome outcome;
        gboolean keep = (ctx->flags & JOB_STATS_KEEP_COMPLETED) != 0;
        if (job_completed_info(&ctx->dom->jobs, keep, &info, &outcome)) {
            type = (int)outcome;
        } else {
            memset(&info, 0, sizeof(info));
            type = JOB_TYPE_NONE;
        }
    } else {
        if (!dispatch_require_running(call, ctx->dom))
            return;
        job_info(&ctx->dom->jobs, &info);
        type = job_type_of(&info);
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, type);
    if (type == JOB_TYPE_NONE) {
        xdr_put_u32(b, 0);
        call_reply(call, b);
        return;
    }
    g_autoptr(GPtrArray) params = core_job_params(&info);
    dispatch_put_typed_params(b, params);
    call_reply(call, b);
}

/* remote_domain_set_lifecycle_action_args: type, action (then flags) */
struct lifecycle_args {
    uint32_t type, action;
};

static void
dec_lifecycle(struct xdr_reader *r, void *args)
{
    struct lifecycle_args *a = args;
    a->type = xdr_get_u32(r);
    a->action = xdr_get_u32(r);
}

static const struct args_type args_lifecycle = {sizeof(struct lifecycle_args), dec_lifecycle, NULL};

static void
h_set_lifecycle_action(struct call *call, const struct call_ctx *ctx)
{
    const struct lifecycle_args *a = ctx->args;
    core_domain_set_lifecycle_action(ctx->dom, (int)MIN(a->type, (uint32_t)G_MAXINT),
                                     (int)MIN(a->action, (uint32_t)G_MAXINT), ctx->flags,
                                     dispatch_done_empty, call);
}

static void
h_control_info(struct call *call, const struct call_ctx *ctx)
{
    struct core_control_info info;
    GError *error = NULL;
    if (!core_domain_control_info(ctx->dom, &info, &error)) {
        dispatch_fail(call, error);
        return;
    }
    /* remote_domain_get_control_info_ret: state, details, stateTime */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, info.state);
    xdr_put_u32(b, info.details);
    xdr_put_u64(b, info.state_time_ms);
    call_reply(call, b);
}

static void
h_abort_job(struct call *call, const struct call_ctx *ctx)
{
    GError *error = NULL;
    if (!core_domain_abort_job(ctx->dom, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

#define R RPC_PROGRAM_REMOTE
#define D HANDLE_DOMAIN
#define N HANDLE_NONE
const struct proc_def domain_procs[] = {
    {R, PROC_CONNECT_LIST_ALL_DOMAINS, N, &args_int, TRUE, LIST_ALL_FLAGS, h_list_all},
    {R, PROC_CONNECT_NUM_OF_DOMAINS, N, NULL, FALSE, 0, h_num_of_domains},
    {R, PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, N, NULL, FALSE, 0, h_num_of_defined},
    {R, PROC_CONNECT_LIST_DOMAINS, N, &args_int, FALSE, 0, h_list_domains},
    {R, PROC_CONNECT_LIST_DEFINED_DOMAINS, N, &args_int, FALSE, 0, h_list_defined},
    {R, PROC_DOMAIN_LOOKUP_BY_NAME, N, &args_string, FALSE, 0, h_lookup_name},
    {R, PROC_DOMAIN_LOOKUP_BY_UUID, N, &args_uuid, FALSE, 0, h_lookup_uuid},
    {R, PROC_DOMAIN_LOOKUP_BY_ID, N, &args_int, FALSE, 0, h_lookup_id},
    {R, PROC_DOMAIN_DEFINE_XML, N, &args_string, FALSE, 0, h_define},
    {R, PROC_DOMAIN_DEFINE_XML_FLAGS, N, &args_string, TRUE, DEFINE_VALIDATE, h_define},
    {R, PROC_DOMAIN_UNDEFINE, D, NULL, FALSE, 0, h_undefine},
    {R, PROC_DOMAIN_UNDEFINE_FLAGS, D, NULL, TRUE, UNDEFINE_ALL_FLAGS, h_undefine},
    {R, PROC_DOMAIN_RENAME, D, &args_opt_string, TRUE, 0, h_rename},
    {R, PROC_DOMAIN_CREATE, D, NULL, FALSE, 0, h_create},
    {R, PROC_DOMAIN_CREATE_WITH_FLAGS, D, NULL, TRUE,
     CREATE_PAUSED | CREATE_AUTODESTROY | CREATE_BYPASS_CACHE | CREATE_FORCE_BOOT,
     h_create_with_flags},
    {R, PROC_DOMAIN_CREATE_XML, N, &args_string, TRUE,
     CREATE_PAUSED | CREATE_AUTODESTROY | CREATE_BYPASS_CACHE | CREATE_FORCE_BOOT | CREATE_VALIDATE,
     h_create_xml},
    {R, PROC_DOMAIN_DESTROY, D, NULL, FALSE, 0, h_destroy},
    {R, PROC_DOMAIN_DESTROY_FLAGS, D, NULL, TRUE, CORE_DESTROY_GRACEFUL, h_destroy},
    {R, PROC_DOMAIN_SHUTDOWN, D, NULL, FALSE, 0, h_shutdown},
    {R, PROC_DOMAIN_SHUTDOWN_FLAGS, D, NULL, TRUE, POWER_ALL_FLAGS, h_shutdown},
    {R, PROC_DOMAIN_REBOOT, D, NULL, TRUE, POWER_ALL_FLAGS, h_reboot},
    {R, PROC_DOMAIN_RESET, D, NULL, TRUE, 0, h_reset},
    {R, PROC_DOMAIN_SUSPEND, D, NULL, FALSE, 0, h_suspend},
    {R, PROC_DOMAIN_RESUME, D, NULL, FALSE, 0, h_resume},
    {R, PROC_DOMAIN_GET_INFO, D, NULL, FALSE, 0, h_get_info},
    {R, PROC_DOMAIN_GET_STATE, D, NULL, TRUE, 0, h_get_state},
    {R, PROC_DOMAIN_GET_XML_DESC, D, NULL, TRUE,
     XML_SECURE | XML_INACTIVE | XML_UPDATE_CPU | XML_MIGRATABLE, h_get_xml},
    {R, PROC_DOMAIN_IS_ACTIVE, D, NULL, FALSE, 0, h_is_active},
    {R, PROC_DOMAIN_IS_PERSISTENT, D, NULL, FALSE, 0, h_is_persistent},
    {R, PROC_DOMAIN_IS_UPDATED, D, NULL, FALSE, 0, h_is_updated},
    {R, PROC_DOMAIN_GET_AUTOSTART, D, NULL, FALSE, 0, h_get_autostart},
    {R, PROC_DOMAIN_SET_AUTOSTART, D, &args_int, FALSE, 0, h_set_autostart},
    {R, PROC_DOMAIN_SET_METADATA, D, &args_set_metadata, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_metadata},
    {R, PROC_DOMAIN_GET_METADATA, D, &args_get_metadata, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_get_metadata},
    {R, PROC_DOMAIN_GET_OS_TYPE, D, NULL, FALSE, 0, h_get_os_type},
    {R, PROC_DOMAIN_GET_MAX_MEMORY, D, NULL, FALSE, 0, h_get_max_memory},
    {R, PROC_DOMAIN_GET_SECURITY_LABEL, D, NULL, FALSE, 0, h_security_label},
    {R, PROC_DOMAIN_GET_SECURITY_LABEL_LIST, D, NULL, FALSE, 0, h_security_label_list},
    {R, PROC_DOMAIN_GET_LAUNCH_SECURITY_INFO, D, NULL, TRUE, PARAM_STRING_OKAY,
     h_launch_security_info},
    {R, PROC_DOMAIN_SET_LAUNCH_SECURITY_STATE, D, &args_launch_state, TRUE, 0,
     h_set_launch_security_state},
    {R, PROC_DOMAIN_GET_MESSAGES, D, NULL, TRUE, MESSAGE_ALL_FLAGS, h_get_messages},
    {R, PROC_DOMAIN_GET_JOB_INFO, D, NULL, FALSE, 0, h_get_job_info},
    {R, PROC_DOMAIN_GET_JOB_STATS, D, NULL, TRUE, JOB_STATS_COMPLETED | JOB_STATS_KEEP_COMPLETED,
     h_get_job_stats},
    {R, PROC_DOMAIN_GET_CONTROL_INFO, D, NULL, TRUE, 0, h_control_info},
    {R, PROC_DOMAIN_SET_LIFECYCLE_ACTION, D, &args_lifecycle, TRUE, AFFECT_LIVE | AFFECT_CONFIG,
     h_set_lifecycle_action},
    {R, PROC_DOMAIN_ABORT_JOB, D, NULL, FALSE, 0, h_abort_job},
    {R, PROC_DOMAIN_ABORT_JOB_FLAGS, D, NULL, TRUE, 0, h_abort_job},
};
#undef R
#undef D
#undef N
const gsize domain_procs_count = G_N_ELEMENTS(domain_procs);
