/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dispatch: one table {procedure, name, handler, needs_write}. Each handler decodes its
 * arguments completely (and checks them) before it acts. */
#include <string.h>
#include <unistd.h>

#include "conf/capabilities.h"
#include "conf/nodeinfo.h"
#include "core/guest.h"
#include "daemon/console.h"
#include "daemon/daemon.h"
#include "daemon/server.h"
#include "daemon/storage_dispatch.h"
#include "qemu/caps.h"
#include "util/err.h"
#include "util/log.h"

#define DOMUS_LIB_VERSION 9000000ULL /* the libvirt API level we speak: 9.0.0 */

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

/* Finishes argument decoding; replies the error and returns FALSE on bad input. */
gboolean
dispatch_args_done(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    if (!xdr_reader_finish(args, &error)) {
        dispatch_fail(call, error);
        return FALSE;
    }
    return TRUE;
}

static void
put_dom(GByteArray *b, struct domain *dom)
{
    rpc_put_domain(b, dom->def->name, dom->def->uuid, dom->id);
}

void
dispatch_reply_int(struct call *call, int32_t v)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, v);
    call_reply(call, b);
}

static void
reply_u64(struct call *call, uint64_t v)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
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

static void
reply_dom(struct call *call, struct domain *dom)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_dom(b, dom);
    call_reply(call, b);
}

/* Decodes a domain handle argument and finds the domain. */
static struct domain *
get_dom(struct call *call, struct xdr_reader *args, GError **error)
{
    struct rpc_domain h = {0};
    rpc_get_domain(args, &h);
    struct domain *dom = NULL;
    if (!args->failed)
        dom = core_lookup_handle(dispatch_core(call), h.name, h.uuid, error);
    else
        err_set(error, ERR_FROM_RPC, ERR_RPC, "cannot decode domain handle: %s", args->what);
    rpc_domain_clear(&h);
    return dom;
}

/* The common shape "domain handle [flags]" -> domain, with all args consumed. */
static struct domain *
dom_args(struct call *call, struct xdr_reader *args, gboolean with_flags, uint32_t *ret_flags)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    uint32_t flags = with_flags ? xdr_get_u32(args) : 0;
    if (!dom) {
        dispatch_fail(call, error);
        return NULL;
    }
    if (!dispatch_args_done(call, args))
        return NULL;
    if (ret_flags)
        *ret_flags = flags;
    return dom;
}

static gboolean
no_flags(struct call *call, uint32_t flags)
{
    if (flags == 0)
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
    dispatch_fail(call, error);
    return FALSE;
}

/* --- connection --- */

static void
h_auth_list(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, 1);
    xdr_put_i32(b, 0); /* REMOTE_AUTH_NONE: access is the socket's permissions */
    call_reply(call, b);
}

static void
h_supports_feature(struct call *call, struct xdr_reader *args)
{
    int feature = xdr_get_i32(args);
    if (!dispatch_args_done(call, args))
        return;
    int yes = 0;
    switch (feature) {
    case RPC_FEATURE_PROGRAM_KEEPALIVE:
        client_enable_keepalive(call->client);
        yes = 1;
        break;
    case RPC_FEATURE_REMOTE_EVENT_CALLBACK:
    case RPC_FEATURE_REMOTE_CLOSE_CALLBACK:
    case RPC_FEATURE_TYPED_PARAM_STRING:
        yes = 1;
        break;
    default:
        yes = 0;
    }
    dispatch_reply_int(call, yes);
}

static void
h_open(struct call *call, struct xdr_reader *args)
{
    g_autofree char *name = xdr_get_opt_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    if (flags & ~1u) {
        err_set(&error, ERR_FROM_REMOTE, ERR_INVALID_ARG, "unsupported open flags (0x%x)", flags);
        dispatch_fail(call, error);
        return;
    }
    /* we are the QEMU driver: accept qemu:///… and domus:///… names, or none */
    if (name && *name && !g_str_has_prefix(name, "qemu:") && !g_str_has_prefix(name, "domus:")) {
        err_set(&error, ERR_FROM_REMOTE, ERR_NO_SUPPORT,
                "this daemon serves only the QEMU driver, not '%s'", name);
        dispatch_fail(call, error);
        return;
    }
    if (flags & 1)
        call->client->readonly = TRUE;
    call->client->opened = TRUE;
    call_reply(call, NULL);
}

static void
h_close(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    call_reply(call, NULL);
}

static void
h_empty(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    call_reply(call, NULL);
}

static void
h_get_type(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    dispatch_reply_string(call, "QEMU");
}

static void
h_get_version(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    g_autoptr(qemu_caps) caps = daemon_qemu_caps(&error);
    if (!caps) {
        dispatch_fail(call, error);
        return;
    }
    reply_u64(call, qemu_caps_get_version(caps));
}

static void
h_get_lib_version(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    reply_u64(call, DOMUS_LIB_VERSION);
}

static void
h_get_hostname(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    dispatch_reply_string(call, host);
}

static void
h_get_uri(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    dispatch_reply_string(call, "qemu:///system");
}

static void
h_is_secure(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    dispatch_reply_int(call, 1); /* a local unix socket */
}

static void
h_get_max_vcpus(struct call *call, struct xdr_reader *args)
{
    g_autofree char *type = xdr_get_opt_string(args, RPC_STRING_MAX);
    if (!dispatch_args_done(call, args))
        return;
    dispatch_reply_int(call, DOMAIN_DEF_VCPUS_MAX);
}

static void
h_get_capabilities(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    g_autofree char *xml = daemon_capabilities_xml(&error);
    if (!xml) {
        dispatch_fail(call, error);
        return;
    }
    dispatch_reply_string(call, xml);
}

static void
h_node_get_info(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    struct nodeinfo ni;
    GError *error = NULL;
    if (!nodeinfo_get(&ni, &error)) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_char_fixed(b, ni.model, 32);
    xdr_put_u64(b, ni.memory);
    xdr_put_i32(b, (int32_t)ni.cpus);
    xdr_put_i32(b, (int32_t)ni.mhz);
    xdr_put_i32(b, (int32_t)ni.nodes);
    xdr_put_i32(b, (int32_t)ni.sockets);
    xdr_put_i32(b, (int32_t)ni.cores);
    xdr_put_i32(b, (int32_t)ni.threads);
    call_reply(call, b);
}

static void
h_node_security_model(struct call *call, struct xdr_reader *args)
{
    if (!dispatch_args_done(call, args))
        return;
    /* as libvirtd with security_driver "none": model "none", doi "0", NUL included */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_char_array(b, "none", 5);
    xdr_put_char_array(b, "0", 2);
    call_reply(call, b);
}

/* --- listing and lookup --- */

static void
h_list_all(struct call *call, struct xdr_reader *args)
{
    int need_results = xdr_get_i32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    if (!core_list_flags_valid(flags, &error)) {
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), flags);
    g_autoptr(GByteArray) b = g_byte_array_new();
    if (need_results) {
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
h_num_of(struct call *call, struct xdr_reader *args, unsigned flags)
{
    if (!dispatch_args_done(call, args))
        return;
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), flags);
    dispatch_reply_int(call, (int32_t)list->len);
}

static void
h_num_of_domains(struct call *call, struct xdr_reader *args)
{
    h_num_of(call, args, 1);
}

static void
h_num_of_defined(struct call *call, struct xdr_reader *args)
{
    h_num_of(call, args, 2 | 4); /* inactive, persistent */
}

static gboolean
check_max(struct call *call, int max)
{
    if (max >= 0 && max <= RPC_DOMAIN_LIST_MAX)
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_RPC, "list size %d exceeds the limit %d", max,
            RPC_DOMAIN_LIST_MAX);
    dispatch_fail(call, error);
    return FALSE;
}

static void
h_list_domains(struct call *call, struct xdr_reader *args)
{
    int max = xdr_get_i32(args);
    if (!dispatch_args_done(call, args) || !check_max(call, max))
        return;
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), 1);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_i32(b, ((struct domain *)list->pdata[i])->id);
    call_reply(call, b);
}

static void
h_list_defined(struct call *call, struct xdr_reader *args)
{
    int max = xdr_get_i32(args);
    if (!dispatch_args_done(call, args) || !check_max(call, max))
        return;
    g_autoptr(GPtrArray) list = core_list(dispatch_core(call), 2 | 4);
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(list->len, (guint)max);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, ((struct domain *)list->pdata[i])->def->name);
    call_reply(call, b);
}

static void
h_lookup_name(struct call *call, struct xdr_reader *args)
{
    g_autofree char *name = xdr_get_string(args, RPC_STRING_MAX);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct domain *dom = core_lookup_name(dispatch_core(call), name, &error);
    if (!dom)
        dispatch_fail(call, error);
    else
        reply_dom(call, dom);
}

static void
h_lookup_uuid(struct call *call, struct xdr_reader *args)
{
    uint8_t uuid[UUID_LEN];
    xdr_get_opaque_fixed(args, uuid, UUID_LEN);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct domain *dom = core_lookup_uuid(dispatch_core(call), uuid, &error);
    if (!dom)
        dispatch_fail(call, error);
    else
        reply_dom(call, dom);
}

static void
h_lookup_id(struct call *call, struct xdr_reader *args)
{
    int id = xdr_get_i32(args);
    if (!dispatch_args_done(call, args))
        return;
    GError *error = NULL;
    struct domain *dom = core_lookup_id(dispatch_core(call), id, &error);
    if (!dom)
        dispatch_fail(call, error);
    else
        reply_dom(call, dom);
}

/* --- definitions --- */

static void
define_common(struct call *call, const char *xml, uint32_t flags)
{
    GError *error = NULL;
    struct domain *dom = core_define(dispatch_core(call), xml, flags, &error);
    if (!dom)
        dispatch_fail(call, error);
    else
        reply_dom(call, dom);
}

static void
h_define(struct call *call, struct xdr_reader *args)
{
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    if (!dispatch_args_done(call, args))
        return;
    define_common(call, xml, 0);
}

static void
h_define_flags(struct call *call, struct xdr_reader *args)
{
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args))
        return;
    define_common(call, xml, flags);
}

static void
undefine_common(struct call *call, struct xdr_reader *args, gboolean with_flags)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, with_flags, &flags);
    if (!dom)
        return;
    GError *error = NULL;
    if (!core_undefine(dispatch_core(call), dom, flags, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_undefine(struct call *call, struct xdr_reader *args)
{
    undefine_common(call, args, FALSE);
}

static void
h_undefine_flags(struct call *call, struct xdr_reader *args)
{
    undefine_common(call, args, TRUE);
}

/* --- lifecycle: replies come when the core is done --- */

static void
done_empty(GError *error, gpointer data)
{
    struct call *call = data;
    if (error)
        call_fail(call, error);
    else
        call_reply(call, NULL);
}

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
h_create(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        core_domain_start(dom, 0, done_empty, call);
}

/* virDomainCreateFlags */
enum {
    CREATE_PAUSED = 1,
    CREATE_AUTODESTROY = 2,
    CREATE_BYPASS_CACHE = 4,
    CREATE_FORCE_BOOT = 8,
    CREATE_VALIDATE = 16
};

static gboolean
check_create_flags(struct call *call, uint32_t flags, uint32_t allowed)
{
    if (!(flags & ~allowed))
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags & ~allowed);
    dispatch_fail(call, error);
    return FALSE;
}

static void
h_create_with_flags(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (!dom || !check_create_flags(call, flags,
                                    CREATE_PAUSED | CREATE_AUTODESTROY | CREATE_BYPASS_CACHE |
                                        CREATE_FORCE_BOOT))
        return;
    if (flags & CREATE_AUTODESTROY)
        dom->autodestroy_owner = call->client;
    struct dom_call *dc = g_new0(struct dom_call, 1);
    dc->call = call;
    dc->dom = core_domain_ref(dom);
    core_domain_start(dom, flags & (CREATE_PAUSED | CREATE_AUTODESTROY), done_dom, dc);
}

static void
h_create_xml(struct call *call, struct xdr_reader *args)
{
    g_autofree char *xml = xdr_get_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dispatch_args_done(call, args) ||
        !check_create_flags(call, flags,
                            CREATE_PAUSED | CREATE_AUTODESTROY | CREATE_BYPASS_CACHE |
                                CREATE_FORCE_BOOT | CREATE_VALIDATE))
        return;
    struct dom_call *dc = g_new0(struct dom_call, 1);
    dc->call = call;
    GError *error = NULL;
    /* the domain is referenced before the start can complete (it may complete at once) */
    struct domain_def *live = NULL;
    struct domain *dom = core_create_xml_prepare(dispatch_core(call), xml,
                                                 (flags & CREATE_VALIDATE) != 0, &live, &error);
    if (!dom) {
        g_free(dc);
        dispatch_fail(call, error);
        return;
    }
    dc->dom = core_domain_ref(dom);
    if (flags & CREATE_AUTODESTROY)
        dom->autodestroy_owner = call->client;
    core_create_xml_start(dom, live, flags & (CREATE_PAUSED | CREATE_AUTODESTROY), done_dom, dc);
}

static void
h_destroy(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        core_domain_destroy(dom, 0, done_empty, call);
}

static void
h_destroy_flags(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (dom)
        core_domain_destroy(dom, flags, done_empty, call);
}

static void
h_shutdown(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        core_domain_shutdown(dom, 0, done_empty, call);
}

static void
h_shutdown_flags(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (dom)
        core_domain_shutdown(dom, flags, done_empty, call);
}

static void
h_reboot(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (dom)
        core_domain_reboot(dom, flags, done_empty, call);
}

static void
h_reset(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (dom && no_flags(call, flags))
        core_domain_reset(dom, done_empty, call);
}

static void
h_suspend(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        core_domain_suspend(dom, done_empty, call);
}

static void
h_resume(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        core_domain_resume(dom, done_empty, call);
}

/* --- queries --- */

static void
h_get_info(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (!dom)
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_u32(b, dom->state);
    xdr_put_u64(b, dom->def->memory_kib);
    xdr_put_u64(b,
                state_is_active(dom->state) ? dom->def->current_memory_kib : dom->def->memory_kib);
    xdr_put_u32(b, state_is_active(dom->state) ? dom->def->vcpus_current : dom->def->vcpus);
    xdr_put_u64(b, core_domain_cpu_time(dom));
    call_reply(call, b);
}

static void
h_get_state(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (!dom || !no_flags(call, flags))
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, dom->state);
    xdr_put_i32(b, dom->reason);
    call_reply(call, b);
}

static void
h_get_xml(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (!dom)
        return;
    GError *error = NULL;
    if (flags & ~(1u | 2u | 4u | 8u)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        dispatch_fail(call, error);
        return;
    }
    if ((flags & 1u) && call->client->readonly) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_DENIED,
                "virDomainGetXMLDesc with secure flag needs a read-write connection");
        dispatch_fail(call, error);
        return;
    }
    g_autofree char *xml = core_domain_xml(dom, flags);
    dispatch_reply_string(call, xml);
}

static void
h_is_active(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        dispatch_reply_int(call, state_is_active(dom->state));
}

static void
h_is_persistent(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        dispatch_reply_int(call, dom->persistent);
}

static void
h_is_updated(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        dispatch_reply_int(call, state_is_active(dom->state) && dom->new_def != NULL);
}

static void
h_get_autostart(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        dispatch_reply_int(call, dom->autostart);
}

static void
h_set_autostart(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    int on = xdr_get_i32(args);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    if (!core_set_autostart(dispatch_core(call), dom, on != 0, &error))
        dispatch_fail(call, error);
    else
        call_reply(call, NULL);
}

static void
h_get_os_type(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        dispatch_reply_string(call, dom->def->os_type ? dom->def->os_type : "hvm");
}

static void
h_get_max_memory(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (dom)
        reply_u64(call, dom->def->memory_kib);
}

static void
h_zero_with_flags(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (dom)
        dispatch_reply_int(call, 0);
}

static void
h_security_label(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (!dom)
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_char_array(b, "", 1);
    xdr_put_i32(b, 0);
    call_reply(call, b);
}

static void
h_get_messages(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (!dom)
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    guint n = MIN(dom->messages->len, RPC_DOMAIN_MESSAGES_MAX);
    xdr_put_u32(b, n);
    for (guint i = 0; i < n; i++)
        xdr_put_string(b, dom->messages->pdata[i]);
    call_reply(call, b);
}

static void
h_get_job_info(struct call *call, struct xdr_reader *args)
{
    struct domain *dom = dom_args(call, args, FALSE, NULL);
    if (!dom)
        return;
    GError *error = NULL;
    if (!state_is_active(dom->state)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        dispatch_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    gboolean busy = dom->job.kind != JOB_NONE;
    xdr_put_i32(b, busy ? 2 : 0); /* VIR_DOMAIN_JOB_UNBOUNDED : NONE */
    xdr_put_u64(b, busy ? (uint64_t)(g_get_real_time() - dom->job.started) / 1000 : 0);
    xdr_put_u64(b, 0);
    xdr_put_u64(b, busy ? dom->job.progress_total : 0);
    xdr_put_u64(b, busy ? dom->job.progress_done : 0);
    xdr_put_u64(b, busy ? dom->job.progress_total - dom->job.progress_done : 0);
    for (int i = 0; i < 6; i++)
        xdr_put_u64(b, 0);
    call_reply(call, b);
}

/* --- guest agent and monitor --- */

static void
put_typed_params(GByteArray *b, GPtrArray *params)
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

static void
done_guest_info(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GPtrArray) params = value;
    g_autoptr(GByteArray) b = g_byte_array_new();
    put_typed_params(b, params);
    call_reply(call, b);
}

static void
h_get_guest_info(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    uint32_t types = xdr_get_u32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args) || !no_flags(call, flags))
        return;
    core_guest_info(dom, types, done_guest_info, call);
}

static void
done_string(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autofree char *text = value;
    if (error)
        call_fail(call, error);
    else
        dispatch_reply_string(call, text);
}

static void
done_opt_string(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autofree char *text = value;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_opt_string(b, text);
    call_reply(call, b);
}

/* virDomainGetHostnameFlags */
enum { HOSTNAME_AGENT = 1, HOSTNAME_LEASE = 2 };

static void
h_dom_hostname(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (!dom)
        return;
    if (flags & ~(unsigned)HOSTNAME_AGENT) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                "only the guest agent can tell the hostname of '%s' (no DHCP leases here)",
                dom->def->name);
        dispatch_fail(call, error);
        return;
    }
    core_guest_hostname(dom, done_string, call);
}

static void
done_time(GError *error, gpointer value, gpointer data)
{
    struct call *call = data;
    g_autofree gint64 *t = value;
    if (error) {
        call_fail(call, error);
        return;
    }
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i64(b, t[0]);
    xdr_put_u32(b, (uint32_t)t[1]);
    call_reply(call, b);
}

static void
h_get_time(struct call *call, struct xdr_reader *args)
{
    uint32_t flags = 0;
    struct domain *dom = dom_args(call, args, TRUE, &flags);
    if (dom && no_flags(call, flags))
        core_guest_get_time(dom, done_time, call);
}

/* virDomainSetTimeFlags */
enum { SET_TIME_SYNC = 1 };

static void
h_set_time(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    int64_t seconds = xdr_get_i64(args);
    uint32_t nseconds = xdr_get_u32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    if (flags & ~(unsigned)SET_TIME_SYNC) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        dispatch_fail(call, error);
        return;
    }
    core_guest_set_time(dom, seconds, nseconds, flags & SET_TIME_SYNC, done_empty, call);
}

/* QEMU program: virDomainQemuMonitorCommand (flag HMP = 1) */
static void
h_qemu_monitor_command(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    g_autofree char *cmd = xdr_get_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    if (flags & ~1u) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x)", flags);
        dispatch_fail(call, error);
        return;
    }
    core_guest_monitor_command(dom, cmd, flags & 1, done_string, call);
}

/* QEMU program: virDomainQemuAgentCommand */
static void
h_qemu_agent_command(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    g_autofree char *cmd = xdr_get_string(args, RPC_STRING_MAX);
    int timeout = xdr_get_i32(args);
    uint32_t flags = xdr_get_u32(args);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args) || !no_flags(call, flags))
        return;
    core_guest_agent_command(dom, cmd, timeout, done_opt_string, call);
}

/* --- console --- */

static void
h_open_console(struct call *call, struct xdr_reader *args)
{
    GError *error = NULL;
    struct domain *dom = get_dom(call, args, &error);
    g_autofree char *dev = xdr_get_opt_string(args, RPC_STRING_MAX);
    uint32_t flags = xdr_get_u32(args);
    if (!dom) {
        dispatch_fail(call, error);
        return;
    }
    if (!dispatch_args_done(call, args))
        return;
    console_open(call, dom, dev, flags);
}

/* --- events --- */

/* Delivers one bus event to one client's registrations. */
static void
client_event(const struct event *ev, gpointer user)
{
    struct client *c = user;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->event_id != ev->kind)
            continue;
        if (r->has_dom && memcmp(r->uuid, ev->uuid, UUID_LEN) != 0)
            continue;
        g_autoptr(GByteArray) b = g_byte_array_new();
        if (r->callback_id > 0)
            xdr_put_i32(b, r->callback_id);
        rpc_put_domain(b, ev->name, ev->uuid, ev->id);
        if (ev->kind == EVENT_ID_LIFECYCLE) {
            xdr_put_i32(b, ev->event);
            xdr_put_i32(b, ev->detail);
            client_send_message(c,
                                r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE
                                                   : PROC_DOMAIN_EVENT_LIFECYCLE,
                                b);
        } else if (ev->kind == EVENT_ID_REBOOT) {
            client_send_message(c,
                                r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_REBOOT
                                                   : PROC_DOMAIN_EVENT_REBOOT,
                                b);
        }
    }
}

static void
events_close_hook(struct client *c, gpointer data)
{
    if (c->events_sub)
        events_unsubscribe(server_core(c->srv)->events, c->events_sub);
    c->events_sub = 0;
}

/* Only lifecycle events (id 0) exist so far; other ids register and stay silent. */
#define EVENT_ID_LAST 27

static gboolean
event_id_valid(struct call *call, int event_id)
{
    if (event_id >= 0 && event_id < EVENT_ID_LAST)
        return TRUE;
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "unsupported event ID %d", event_id);
    dispatch_fail(call, error);
    return FALSE;
}

static void
subscribe(struct client *c)
{
    if (!c->events_sub) {
        c->events_sub = events_subscribe(server_core(c->srv)->events, client_event, c);
        client_add_close_hook(c, events_close_hook, NULL);
    }
}

static void
h_event_register_any(struct call *call, struct xdr_reader *args)
{
    int event_id = xdr_get_i32(args);
    if (!dispatch_args_done(call, args) || !event_id_valid(call, event_id))
        return;
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->callback_id == 0 && r->event_id == event_id) {
            GError *error = NULL;
            err_set(&error, ERR_FROM_RPC, ERR_INTERNAL_ERROR, "domain event %d already registered",
                    event_id);
            dispatch_fail(call, error);
            return;
        }
    }
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->event_id = event_id;
    g_ptr_array_add(c->events, r);
    subscribe(c);
    call_reply(call, NULL);
}

static void
h_event_deregister_any(struct call *call, struct xdr_reader *args)
{
    int event_id = xdr_get_i32(args);
    if (!dispatch_args_done(call, args))
        return;
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->callback_id == 0 && r->event_id == event_id) {
            g_ptr_array_remove_index(c->events, i);
            call_reply(call, NULL);
            return;
        }
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_INTERNAL_ERROR, "domain event %d not registered", event_id);
    dispatch_fail(call, error);
}

static void
h_event_callback_register_any(struct call *call, struct xdr_reader *args)
{
    int event_id = xdr_get_i32(args);
    uint32_t has_dom = xdr_get_u32(args);
    struct rpc_domain h = {0};
    if (has_dom)
        rpc_get_domain(args, &h);
    g_autofree char *name = h.name;
    if (!dispatch_args_done(call, args) || !event_id_valid(call, event_id))
        return;
    struct client *c = call->client;
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->event_id = event_id;
    r->callback_id = c->next_callback_id++;
    r->has_dom = has_dom != 0;
    memcpy(r->uuid, h.uuid, UUID_LEN);
    g_ptr_array_add(c->events, r);
    subscribe(c);
    dispatch_reply_int(call, r->callback_id);
}

static void
h_event_callback_deregister_any(struct call *call, struct xdr_reader *args)
{
    int cb = xdr_get_i32(args);
    if (!dispatch_args_done(call, args))
        return;
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->callback_id == cb && cb > 0) {
            g_ptr_array_remove_index(c->events, i);
            call_reply(call, NULL);
            return;
        }
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "callback %d not registered", cb);
    dispatch_fail(call, error);
}

static const struct proc_entry procs[] = {
    {PROC_CONNECT_OPEN, "CONNECT_OPEN", h_open, FALSE},
    {PROC_CONNECT_CLOSE, "CONNECT_CLOSE", h_close, FALSE},
    {PROC_CONNECT_GET_TYPE, "CONNECT_GET_TYPE", h_get_type, FALSE},
    {PROC_CONNECT_GET_VERSION, "CONNECT_GET_VERSION", h_get_version, FALSE},
    {PROC_CONNECT_GET_MAX_VCPUS, "CONNECT_GET_MAX_VCPUS", h_get_max_vcpus, FALSE},
    {PROC_NODE_GET_INFO, "NODE_GET_INFO", h_node_get_info, FALSE},
    {PROC_CONNECT_GET_CAPABILITIES, "CONNECT_GET_CAPABILITIES", h_get_capabilities, FALSE},
    {PROC_DOMAIN_CREATE, "DOMAIN_CREATE", h_create, TRUE},
    {PROC_DOMAIN_CREATE_XML, "DOMAIN_CREATE_XML", h_create_xml, TRUE},
    {PROC_DOMAIN_DEFINE_XML, "DOMAIN_DEFINE_XML", h_define, TRUE},
    {PROC_DOMAIN_DESTROY, "DOMAIN_DESTROY", h_destroy, TRUE},
    {PROC_DOMAIN_GET_XML_DESC, "DOMAIN_GET_XML_DESC", h_get_xml, FALSE},
    {PROC_DOMAIN_GET_AUTOSTART, "DOMAIN_GET_AUTOSTART", h_get_autostart, FALSE},
    {PROC_DOMAIN_GET_INFO, "DOMAIN_GET_INFO", h_get_info, FALSE},
    {PROC_DOMAIN_GET_MAX_MEMORY, "DOMAIN_GET_MAX_MEMORY", h_get_max_memory, FALSE},
    {PROC_DOMAIN_GET_OS_TYPE, "DOMAIN_GET_OS_TYPE", h_get_os_type, FALSE},
    {PROC_CONNECT_LIST_DEFINED_DOMAINS, "CONNECT_LIST_DEFINED_DOMAINS", h_list_defined, FALSE},
    {PROC_DOMAIN_LOOKUP_BY_ID, "DOMAIN_LOOKUP_BY_ID", h_lookup_id, FALSE},
    {PROC_DOMAIN_LOOKUP_BY_NAME, "DOMAIN_LOOKUP_BY_NAME", h_lookup_name, FALSE},
    {PROC_DOMAIN_LOOKUP_BY_UUID, "DOMAIN_LOOKUP_BY_UUID", h_lookup_uuid, FALSE},
    {PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, "CONNECT_NUM_OF_DEFINED_DOMAINS", h_num_of_defined,
     FALSE},
    {PROC_DOMAIN_REBOOT, "DOMAIN_REBOOT", h_reboot, TRUE},
    {PROC_DOMAIN_RESUME, "DOMAIN_RESUME", h_resume, TRUE},
    {PROC_DOMAIN_SET_AUTOSTART, "DOMAIN_SET_AUTOSTART", h_set_autostart, TRUE},
    {PROC_DOMAIN_SHUTDOWN, "DOMAIN_SHUTDOWN", h_shutdown, TRUE},
    {PROC_DOMAIN_SUSPEND, "DOMAIN_SUSPEND", h_suspend, TRUE},
    {PROC_DOMAIN_UNDEFINE, "DOMAIN_UNDEFINE", h_undefine, TRUE},
    {PROC_CONNECT_LIST_DOMAINS, "CONNECT_LIST_DOMAINS", h_list_domains, FALSE},
    {PROC_CONNECT_NUM_OF_DOMAINS, "CONNECT_NUM_OF_DOMAINS", h_num_of_domains, FALSE},
    {PROC_CONNECT_GET_HOSTNAME, "CONNECT_GET_HOSTNAME", h_get_hostname, FALSE},
    {PROC_CONNECT_SUPPORTS_FEATURE, "CONNECT_SUPPORTS_FEATURE", h_supports_feature, FALSE},
    {PROC_AUTH_LIST, "AUTH_LIST", h_auth_list, FALSE},
    {PROC_CONNECT_GET_URI, "CONNECT_GET_URI", h_get_uri, FALSE},
    {PROC_DOMAIN_GET_SECURITY_LABEL, "DOMAIN_GET_SECURITY_LABEL", h_security_label, FALSE},
    {PROC_NODE_GET_SECURITY_MODEL, "NODE_GET_SECURITY_MODEL", h_node_security_model, FALSE},
    {PROC_CONNECT_IS_SECURE, "CONNECT_IS_SECURE", h_is_secure, FALSE},
    {PROC_DOMAIN_IS_ACTIVE, "DOMAIN_IS_ACTIVE", h_is_active, FALSE},
    {PROC_DOMAIN_IS_PERSISTENT, "DOMAIN_IS_PERSISTENT", h_is_persistent, FALSE},
    {PROC_DOMAIN_IS_UPDATED, "DOMAIN_IS_UPDATED", h_is_updated, FALSE},
    {PROC_CONNECT_GET_LIB_VERSION, "CONNECT_GET_LIB_VERSION", h_get_lib_version, FALSE},
    {PROC_DOMAIN_GET_JOB_INFO, "DOMAIN_GET_JOB_INFO", h_get_job_info, FALSE},
    {PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, "CONNECT_DOMAIN_EVENT_REGISTER_ANY",
     h_event_register_any, FALSE},
    {PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, "CONNECT_DOMAIN_EVENT_DEREGISTER_ANY",
     h_event_deregister_any, FALSE},
    {PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, "DOMAIN_HAS_MANAGED_SAVE_IMAGE", h_zero_with_flags, FALSE},
    {PROC_DOMAIN_SNAPSHOT_NUM, "DOMAIN_SNAPSHOT_NUM", h_zero_with_flags, FALSE},
    {PROC_DOMAIN_CREATE_WITH_FLAGS, "DOMAIN_CREATE_WITH_FLAGS", h_create_with_flags, TRUE},
    {PROC_DOMAIN_OPEN_CONSOLE, "DOMAIN_OPEN_CONSOLE", h_open_console, TRUE},
    {PROC_DOMAIN_GET_STATE, "DOMAIN_GET_STATE", h_get_state, FALSE},
    {PROC_DOMAIN_UNDEFINE_FLAGS, "DOMAIN_UNDEFINE_FLAGS", h_undefine_flags, TRUE},
    {PROC_DOMAIN_GET_HOSTNAME, "DOMAIN_GET_HOSTNAME", h_dom_hostname, TRUE},
    {PROC_DOMAIN_GET_TIME, "DOMAIN_GET_TIME", h_get_time, TRUE},
    {PROC_DOMAIN_SET_TIME, "DOMAIN_SET_TIME", h_set_time, TRUE},
    {PROC_DOMAIN_GET_GUEST_INFO, "DOMAIN_GET_GUEST_INFO", h_get_guest_info, TRUE},
    {PROC_DOMAIN_DESTROY_FLAGS, "DOMAIN_DESTROY_FLAGS", h_destroy_flags, TRUE},
    {PROC_DOMAIN_RESET, "DOMAIN_RESET", h_reset, TRUE},
    {PROC_DOMAIN_SHUTDOWN_FLAGS, "DOMAIN_SHUTDOWN_FLAGS", h_shutdown_flags, TRUE},
    {PROC_CONNECT_LIST_ALL_DOMAINS, "CONNECT_LIST_ALL_DOMAINS", h_list_all, FALSE},
    {PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY",
     h_event_callback_register_any, FALSE},
    {PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
     "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", h_event_callback_deregister_any, FALSE},
    {PROC_DOMAIN_DEFINE_XML_FLAGS, "DOMAIN_DEFINE_XML_FLAGS", h_define_flags, TRUE},
    {PROC_CONNECT_REGISTER_CLOSE_CALLBACK, "CONNECT_REGISTER_CLOSE_CALLBACK", h_empty, FALSE},
    {PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, "CONNECT_UNREGISTER_CLOSE_CALLBACK", h_empty, FALSE},
    {PROC_DOMAIN_GET_MESSAGES, "DOMAIN_GET_MESSAGES", h_get_messages, FALSE},
};

/* libvirt's QEMU program (0x20008087): passthrough to the monitor and the guest agent */
static const struct proc_entry qemu_procs[] = {
    {QEMU_PROC_DOMAIN_MONITOR_COMMAND, "DOMAIN_MONITOR_COMMAND", h_qemu_monitor_command, TRUE},
    {QEMU_PROC_DOMAIN_AGENT_COMMAND, "DOMAIN_AGENT_COMMAND", h_qemu_agent_command, TRUE},
};

static const struct proc_entry *
find_proc(uint32_t prog, uint32_t proc)
{
    if (prog == RPC_PROGRAM_DOMUS) {
        for (gsize i = 0; i < domus_procs_count; i++)
            if (domus_procs[i].proc == proc)
                return &domus_procs[i];
        return NULL;
    }
    const struct proc_entry *table = prog == RPC_PROGRAM_QEMU ? qemu_procs : procs;
    gsize n = prog == RPC_PROGRAM_QEMU ? G_N_ELEMENTS(qemu_procs) : G_N_ELEMENTS(procs);
    for (gsize i = 0; i < n; i++)
        if (table[i].proc == proc)
            return &table[i];
    if (prog == RPC_PROGRAM_REMOTE)
        for (gsize i = 0; i < storage_procs_count; i++)
            if (storage_procs[i].proc == proc)
                return &storage_procs[i];
    return NULL;
}

void
dispatch_call(struct call *call, const uint8_t *body, gsize len)
{
    GError *error = NULL;
    struct xdr_reader args;
    xdr_reader_init(&args, body, len);
    const struct proc_entry *e = find_proc(call->hdr.prog, call->hdr.proc);
    if (!e) {
        err_set(&error, ERR_FROM_RPC, ERR_NO_SUPPORT, "unknown procedure: %u", call->hdr.proc);
        dispatch_fail(call, error);
        return;
    }
    log_debug("client fd %d: call %s serial %u", call->client->fd, e->name, call->hdr.serial);
    gboolean pre_open = e->proc == PROC_AUTH_LIST || e->proc == PROC_CONNECT_OPEN ||
                        e->proc == PROC_CONNECT_SUPPORTS_FEATURE || e->proc == PROC_CONNECT_CLOSE;
    if (!call->client->opened && !pre_open) {
        err_set(&error, ERR_FROM_RPC, ERR_RPC, "connection not open; call CONNECT_OPEN first");
        dispatch_fail(call, error);
        return;
    }
    if (e->needs_write && call->client->readonly) {
        err_set(&error, ERR_FROM_RPC, ERR_OPERATION_DENIED,
                "%s is not allowed on a read-only connection", e->name);
        dispatch_fail(call, error);
        return;
    }
    e->handler(call, &args);
}
