/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc_events: domain event registration (the callback procedures and the legacy ones) and
 * delivery of the core's events to each registered connection. */
#include <string.h>

#include "core/core.h"
#include "core/nodedev_watch.h"
#include "daemon/dispatch.h"
#include "util/err.h"

/* virDomainEventID values libvirt 9.0 knows; lifecycle, reboot, RTC change, I/O error (and
 * with its reason), block job (both), tray change, PM wakeup, suspend and suspend to disk,
 * balloon change, device added, removed and removal failed, tunable, agent lifecycle,
 * migration iteration, job completed (backups), metadata change and block threshold are
 * raised; the others register and stay
 * silent (nothing Domus runs raises them) */
#define EVENT_ID_LAST 27

void
event_reg_free(gpointer reg)
{
    struct event_reg *r = reg;
    g_free(r->name);
    if (r->regex)
        g_regex_unref(r->regex);
    g_free(r);
}

/* remote_domain_event_pmwakeup_msg, _pmsuspend_msg, _pmsuspend_disk_msg: the domain; the
 * callback forms put a reason (always 0) between the callback's id and it */
static void
send_pm_event(struct client *c, const struct event_reg *r, const struct event *ev, GByteArray *b)
{
    static const uint32_t procs[][2] = {
        {PROC_DOMAIN_EVENT_PMWAKEUP, PROC_DOMAIN_EVENT_CALLBACK_PMWAKEUP},
        {PROC_DOMAIN_EVENT_PMSUSPEND, PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND},
        {PROC_DOMAIN_EVENT_PMSUSPEND_DISK, PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK},
    };
    int which = ev->kind == EVENT_ID_PMWAKEUP ? 0 : ev->kind == EVENT_ID_PMSUSPEND ? 1 : 2;
    if (r->callback_id > 0) {
        xdr_put_i32(b, r->callback_id);
        xdr_put_i32(b, 0);
    }
    rpc_put_domain(b, ev->name, ev->uuid, ev->id);
    client_send_message(c, procs[which][r->callback_id > 0], b);
}

/* qemu_domain_monitor_event_msg: a QMP event of a domain's QEMU, for a registration whose
 * filter (an event name, exact or without case, or a regular expression; none: every event)
 * it passes */
static void
send_monitor_event(struct client *c, const struct event_reg *r, const struct event *ev)
{
    if (r->regex ? !g_regex_match(r->regex, ev->qemu_event, 0, NULL)
                 : r->name && (r->nocase ? g_ascii_strcasecmp(r->name, ev->qemu_event) != 0
                                         : !g_str_equal(r->name, ev->qemu_event)))
        return;
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_i32(b, r->callback_id);
    rpc_put_domain(b, ev->name, ev->uuid, ev->id);
    xdr_put_string(b, ev->qemu_event);
    xdr_put_i64(b, ev->seconds);
    xdr_put_u32(b, ev->micros);
    xdr_put_opt_string(b, ev->details);
    client_send_message_prog(c, RPC_PROGRAM_QEMU, QEMU_PROC_DOMAIN_MONITOR_EVENT, b);
}

/* Delivers one bus event to one client's registrations. */
static void
client_event(const struct event *ev, gpointer user)
{
    struct client *c = client_ref(user);
    /* a send may drop a client that does not read: stop there */
    for (guint i = 0; i < c->events->len && !c->dead; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->object != (int)ev->object || r->event_id != ev->kind)
            continue;
        if (r->has_dom && memcmp(r->uuid, ev->uuid, UUID_LEN) != 0)
            continue;
        if (ev->object == EVENT_OBJECT_QEMU_MONITOR) {
            send_monitor_event(c, r, ev);
            continue;
        }
        if (r->name && !g_str_equal(r->name, ev->name))
            continue;
        g_autoptr(GByteArray) b = g_byte_array_new();
        if (ev->object == EVENT_OBJECT_NODEDEV) {
            /* remote_node_device_event_lifecycle_msg / _update_msg */
            xdr_put_i32(b, r->callback_id);
            xdr_put_string(b, ev->name);
            if (ev->kind == NODEDEV_EVENT_ID_LIFECYCLE) {
                xdr_put_i32(b, ev->event);
                xdr_put_i32(b, 0);
            }
            client_send_message(c,
                                ev->kind == NODEDEV_EVENT_ID_LIFECYCLE
                                    ? PROC_NODE_DEVICE_EVENT_LIFECYCLE
                                    : PROC_NODE_DEVICE_EVENT_UPDATE,
                                b);
            continue;
        }
        if (ev->object == EVENT_OBJECT_SECRET) {
            /* remote_secret_event_lifecycle_msg / _value_changed_msg */
            xdr_put_i32(b, r->callback_id);
            xdr_put_opaque_fixed(b, ev->uuid, UUID_LEN);
            xdr_put_i32(b, ev->usage_type);
            xdr_put_string(b, ev->name);
            if (ev->kind == SECRET_EVENT_ID_LIFECYCLE) {
                xdr_put_i32(b, ev->event);
                xdr_put_i32(b, 0);
            }
            client_send_message(c,
                                ev->kind == SECRET_EVENT_ID_LIFECYCLE
                                    ? PROC_SECRET_EVENT_LIFECYCLE
                                    : PROC_SECRET_EVENT_VALUE_CHANGED,
                                b);
            continue;
        }
        if (ev->object == EVENT_OBJECT_POOL) {
            /* remote_storage_pool_event_lifecycle_msg / _refresh_msg */
            xdr_put_i32(b, r->callback_id);
            xdr_put_string(b, ev->name);
            xdr_put_opaque_fixed(b, ev->uuid, UUID_LEN);
            if (ev->kind == POOL_EVENT_ID_LIFECYCLE) {
                xdr_put_i32(b, ev->event);
                xdr_put_i32(b, 0);
            }
            client_send_message(c,
                                ev->kind == POOL_EVENT_ID_LIFECYCLE
                                    ? PROC_STORAGE_POOL_EVENT_LIFECYCLE
                                    : PROC_STORAGE_POOL_EVENT_REFRESH,
                                b);
            continue;
        }
        if (ev->object == EVENT_OBJECT_NETWORK) {
            /* remote_network_event_lifecycle_msg */
            xdr_put_i32(b, r->callback_id);
            xdr_put_string(b, ev->name);
            xdr_put_opaque_fixed(b, ev->uuid, UUID_LEN);
            xdr_put_i32(b, ev->event);
            xdr_put_i32(b, ev->detail);
            client_send_message(c, PROC_NETWORK_EVENT_LIFECYCLE, b);
            continue;
        }
        if (ev->kind == EVENT_ID_PMWAKEUP || ev->kind == EVENT_ID_PMSUSPEND ||
            ev->kind == EVENT_ID_PMSUSPEND_DISK) {
            send_pm_event(c, r, ev, b);
            continue;
        }
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
        } else if (ev->kind == EVENT_ID_IO_ERROR || ev->kind == EVENT_ID_IO_ERROR_REASON) {
            /* remote_domain_event_io_error_msg / _io_error_reason_msg */
            gboolean reason = ev->kind == EVENT_ID_IO_ERROR_REASON;
            xdr_put_string(b, ev->src_path);
            xdr_put_string(b, ev->alias);
            xdr_put_i32(b, ev->detail);
            if (reason)
                xdr_put_string(b, ev->reason);
            uint32_t proc = reason
                                ? (r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON
                                                      : PROC_DOMAIN_EVENT_IO_ERROR_REASON)
                                : (r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR
                                                      : PROC_DOMAIN_EVENT_IO_ERROR);
            client_send_message(c, proc, b);
        } else if (ev->kind == EVENT_ID_RTC_CHANGE || ev->kind == EVENT_ID_BALLOON_CHANGE) {
            /* remote_domain_event_rtc_change_msg (hyper offset) / _balloon_change_msg
             * (unsigned hyper actual, KiB) */
            gboolean rtc = ev->kind == EVENT_ID_RTC_CHANGE;
            if (rtc)
                xdr_put_i64(b, ev->number);
            else
                xdr_put_u64(b, (guint64)ev->number);
            uint32_t proc = rtc ? (r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_RTC_CHANGE
                                                      : PROC_DOMAIN_EVENT_RTC_CHANGE)
                                : (r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE
                                                      : PROC_DOMAIN_EVENT_BALLOON_CHANGE);
            client_send_message(c, proc, b);
        } else if (ev->kind == EVENT_ID_TRAY_CHANGE) {
            /* remote_domain_event_tray_change_msg */
            xdr_put_string(b, ev->alias);
            xdr_put_i32(b, ev->detail);
            client_send_message(c,
                                r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_TRAY_CHANGE
                                                   : PROC_DOMAIN_EVENT_TRAY_CHANGE,
                                b);
        } else if (ev->kind == EVENT_ID_AGENT_LIFECYCLE && r->callback_id > 0) {
            /* remote_domain_event_callback_agent_lifecycle_msg; no legacy message */
            xdr_put_i32(b, ev->event);
            xdr_put_i32(b, ev->detail);
            client_send_message(c, PROC_DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE, b);
        } else if (ev->kind == EVENT_ID_DEVICE_REMOVAL_FAILED && r->callback_id > 0) {
            /* remote_domain_event_callback_device_removal_failed_msg; no legacy message */
            xdr_put_string(b, ev->alias);
            client_send_message(c, PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED, b);
        } else if (ev->kind == EVENT_ID_DEVICE_REMOVED) {
            xdr_put_string(b, ev->alias);
            client_send_message(c,
                                r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED
                                                   : PROC_DOMAIN_EVENT_DEVICE_REMOVED,
                                b);
        } else if ((ev->kind == EVENT_ID_TUNABLE || ev->kind == EVENT_ID_JOB_COMPLETED) &&
                   r->callback_id > 0) {
            /* libvirt has no legacy message for them either */
            dispatch_put_typed_params(b, ev->params);
            client_send_message(c,
                                ev->kind == EVENT_ID_TUNABLE
                                    ? PROC_DOMAIN_EVENT_CALLBACK_TUNABLE
                                    : PROC_DOMAIN_EVENT_CALLBACK_JOB_COMPLETED,
                                b);
        } else if (ev->kind == EVENT_ID_DEVICE_ADDED && r->callback_id > 0) {
            /* libvirt has no legacy message for it */
            xdr_put_string(b, ev->alias);
            client_send_message(c, PROC_DOMAIN_EVENT_CALLBACK_DEVICE_ADDED, b);
        } else if (ev->kind == EVENT_ID_BLOCK_JOB) {
            /* remote_domain_event_block_job_msg, within the callback form's */
            xdr_put_string(b, ev->alias);
            xdr_put_i32(b, ev->event);
            xdr_put_i32(b, ev->detail);
            client_send_message(c,
                                r->callback_id > 0 ? PROC_DOMAIN_EVENT_CALLBACK_BLOCK_JOB
                                                   : PROC_DOMAIN_EVENT_BLOCK_JOB,
                                b);
        } else if (ev->kind == EVENT_ID_BLOCK_JOB_2 && r->callback_id > 0) {
            /* remote_domain_event_block_job_2_msg; no legacy message */
            xdr_put_string(b, ev->alias);
            xdr_put_i32(b, ev->event);
            xdr_put_i32(b, ev->detail);
            client_send_message(c, PROC_DOMAIN_EVENT_BLOCK_JOB_2, b);
        } else if (ev->kind == EVENT_ID_MIGRATION_ITERATION && r->callback_id > 0) {
            /* remote_domain_event_callback_migration_iteration_msg; no legacy message */
            xdr_put_i32(b, ev->iteration);
            client_send_message(c, PROC_DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION, b);
        } else if (ev->kind == EVENT_ID_BLOCK_THRESHOLD && r->callback_id > 0) {
            /* remote_domain_event_block_threshold_msg; no legacy message */
            xdr_put_string(b, ev->alias);
            xdr_put_opt_string(b, ev->src_path);
            xdr_put_u64(b, (guint64)ev->number);
            xdr_put_u64(b, ev->excess);
            client_send_message(c, PROC_DOMAIN_EVENT_BLOCK_THRESHOLD, b);
        } else if (ev->kind == EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE && r->callback_id > 0) {
            /* remote_domain_event_memory_device_size_change_msg; no legacy message */
            xdr_put_string(b, ev->alias);
            xdr_put_u64(b, (guint64)ev->number);
            client_send_message(c, PROC_DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE, b);
        } else if (ev->kind == EVENT_ID_METADATA_CHANGE && r->callback_id > 0) {
            /* remote_domain_event_callback_metadata_change_msg; no legacy message */
            xdr_put_i32(b, ev->metadata_type);
            xdr_put_opt_string(b, ev->nsuri);
            client_send_message(c, PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE, b);
        }
    }
    client_unref(c);
}

/* One node device registration more (DELTA 1) or fewer (-1): the watch reads sysfs only while
 * someone listens */
static void
nodedev_listeners(struct client *c, int delta)
{
    struct core *core = server_core(c->srv);
    if (delta > 0 && core->nodedev_listeners++ == 0)
        nodedev_watch_listening(core->nodedev_watch);
    else if (delta < 0 && core->nodedev_listeners > 0)
        core->nodedev_listeners--;
}

/* ... and QEMU monitor event registrations: QMP events are published while there are some */
static void
monitor_listeners(struct client *c, int delta)
{
    struct core *core = server_core(c->srv);
    if (delta > 0)
        core->qemu_monitor_listeners++;
    else if (core->qemu_monitor_listeners > 0)
        core->qemu_monitor_listeners--;
}

static void
events_close_hook(struct client *c, gpointer data)
{
    for (guint i = 0; i < c->events->len; i++) {
        int object = ((struct event_reg *)c->events->pdata[i])->object;
        if (object == EVENT_OBJECT_NODEDEV)
            nodedev_listeners(c, -1);
        else if (object == EVENT_OBJECT_QEMU_MONITOR)
            monitor_listeners(c, -1);
    }
    if (c->events_sub)
        events_unsubscribe(server_core(c->srv)->events, c->events_sub);
    c->events_sub = 0;
}

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
h_register_any(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    if (!event_id_valid(call, a->v))
        return;
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->object == EVENT_OBJECT_DOMAIN && r->callback_id == 0 && r->event_id == a->v) {
            GError *error = NULL;
            err_set(&error, ERR_FROM_RPC, ERR_INTERNAL_ERROR, "domain event %d already registered",
                    a->v);
            dispatch_fail(call, error);
            return;
        }
    }
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->event_id = a->v;
    g_ptr_array_add(c->events, r);
    subscribe(c);
    call_reply(call, NULL);
}

static void
h_deregister_any(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->object == EVENT_OBJECT_DOMAIN && r->callback_id == 0 && r->event_id == a->v) {
            g_ptr_array_remove_index(c->events, i);
            call_reply(call, NULL);
            return;
        }
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_INTERNAL_ERROR, "domain event %d not registered", a->v);
    dispatch_fail(call, error);
}

/* remote_connect_domain_event_callback_register_any_args: event id, optional domain */
struct register_args {
    int32_t event_id;
    gboolean has_dom;
    struct rpc_domain dom;
};

static void
dec_register(struct xdr_reader *r, void *args)
{
    struct register_args *a = args;
    a->event_id = xdr_get_i32(r);
    a->has_dom = xdr_get_u32(r) != 0;
    if (a->has_dom)
        rpc_get_domain(r, &a->dom);
}

static void
clear_register(void *args)
{
    rpc_domain_clear(&((struct register_args *)args)->dom);
}

static const struct args_type args_register = {sizeof(struct register_args), dec_register,
                                               clear_register};

static void
h_callback_register_any(struct call *call, const struct call_ctx *ctx)
{
    const struct register_args *a = ctx->args;
    if (!event_id_valid(call, a->event_id))
        return;
    struct client *c = call->client;
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->event_id = a->event_id;
    r->callback_id = c->next_callback_id++;
    r->has_dom = a->has_dom;
    memcpy(r->uuid, a->dom.uuid, UUID_LEN);
    g_ptr_array_add(c->events, r);
    subscribe(c);
    dispatch_reply_int(call, r->callback_id);
}

static void
h_callback_deregister_any(struct call *call, const struct call_ctx *ctx)
{
    const struct arg_int *a = ctx->args;
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->object == EVENT_OBJECT_DOMAIN && r->callback_id == a->v && a->v > 0) {
            g_ptr_array_remove_index(c->events, i);
            call_reply(call, NULL);
            return;
        }
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "callback %d not registered", a->v);
    dispatch_fail(call, error);
}

/* remote_connect_network_event_register_any_args: event id, optional network; the storage
 * pool's has the same shape */
struct net_register_args {
    int32_t event_id;
    gboolean has_net;
    char *name;
    uint8_t uuid[UUID_LEN];
};

static void
dec_net_register(struct xdr_reader *r, void *args)
{
    struct net_register_args *a = args;
    a->event_id = xdr_get_i32(r);
    a->has_net = xdr_get_u32(r) != 0;
    if (a->has_net) {
        a->name = xdr_get_string(r, RPC_STRING_MAX);
        xdr_get_opaque_fixed(r, a->uuid, UUID_LEN);
    }
}

static void
clear_net_register(void *args)
{
    g_free(((struct net_register_args *)args)->name);
}

static const struct args_type args_net_register = {sizeof(struct net_register_args),
                                                   dec_net_register, clear_net_register};

/* A registration of an object's events (network, pool: an event id, optionally one object);
 * LAST is the object kind's first unknown event id */
static void
register_object(struct call *call, const struct net_register_args *a, enum event_object object,
                int last, const char *what)
{
    if (a->event_id < 0 || a->event_id >= last) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "unsupported %s event ID %d", what,
                a->event_id);
        dispatch_fail(call, error);
        return;
    }
    struct client *c = call->client;
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->object = object;
    r->event_id = a->event_id;
    r->callback_id = c->next_callback_id++;
    r->has_dom = a->has_net;
    memcpy(r->uuid, a->uuid, UUID_LEN);
    g_ptr_array_add(c->events, r);
    subscribe(c);
    dispatch_reply_int(call, r->callback_id);
}

static void
deregister_object(struct call *call, int callback_id, enum event_object object, const char *what)
{
    struct client *c = call->client;
    for (guint i = 0; i < c->events->len; i++) {
        struct event_reg *r = c->events->pdata[i];
        if (r->object == (int)object && r->callback_id == callback_id) {
            if (object == EVENT_OBJECT_NODEDEV)
                nodedev_listeners(c, -1);
            else if (object == EVENT_OBJECT_QEMU_MONITOR)
                monitor_listeners(c, -1);
            g_ptr_array_remove_index(c->events, i);
            call_reply(call, NULL);
            return;
        }
    }
    GError *error = NULL;
    err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "%s event callback %d not registered", what,
            callback_id);
    dispatch_fail(call, error);
}

static void
h_network_register_any(struct call *call, const struct call_ctx *ctx)
{
    /* VIR_NETWORK_EVENT_ID_LIFECYCLE is the only one libvirt 9.0 has */
    register_object(call, ctx->args, EVENT_OBJECT_NETWORK, 1, "network");
}

static void
h_network_deregister_any(struct call *call, const struct call_ctx *ctx)
{
    deregister_object(call, ((const struct arg_int *)ctx->args)->v, EVENT_OBJECT_NETWORK,
                      "network");
}

static void
h_pool_register_any(struct call *call, const struct call_ctx *ctx)
{
    /* lifecycle and refresh */
    register_object(call, ctx->args, EVENT_OBJECT_POOL, 2, "storage pool");
}

static void
h_pool_deregister_any(struct call *call, const struct call_ctx *ctx)
{
    deregister_object(call, ((const struct arg_int *)ctx->args)->v, EVENT_OBJECT_POOL,
                      "storage pool");
}

/* remote_connect_node_device_event_register_any_args: event id, optional device name */
struct nodedev_register_args {
    int32_t event_id;
    char *name;
};

static void
dec_nodedev_register(struct xdr_reader *r, void *args)
{
    struct nodedev_register_args *a = args;
    a->event_id = xdr_get_i32(r);
    if (xdr_get_u32(r) != 0)
        a->name = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_nodedev_register(void *args)
{
    g_free(((struct nodedev_register_args *)args)->name);
}

static const struct args_type args_nodedev_register = {
    sizeof(struct nodedev_register_args), dec_nodedev_register, clear_nodedev_register};

static void
h_nodedev_register_any(struct call *call, const struct call_ctx *ctx)
{
    const struct nodedev_register_args *a = ctx->args;
    if (a->event_id < NODEDEV_EVENT_ID_LIFECYCLE || a->event_id > NODEDEV_EVENT_ID_UPDATE) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "unsupported node device event ID %d",
                a->event_id);
        dispatch_fail(call, error);
        return;
    }
    struct client *c = call->client;
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->object = EVENT_OBJECT_NODEDEV;
    r->event_id = a->event_id;
    r->callback_id = c->next_callback_id++;
    r->name = g_strdup(a->name);
    g_ptr_array_add(c->events, r);
    subscribe(c);
    nodedev_listeners(c, 1);
    dispatch_reply_int(call, r->callback_id);
}

static void
h_nodedev_deregister_any(struct call *call, const struct call_ctx *ctx)
{
    deregister_object(call, ((const struct arg_int *)ctx->args)->v, EVENT_OBJECT_NODEDEV,
                      "node device");
}

/* remote_connect_secret_event_register_any_args: event id, optional secret (uuid, usage type,
 * usage id) */
struct secret_register_args {
    int32_t event_id;
    gboolean has_secret;
    uint8_t uuid[UUID_LEN];
    char *usage_id;
};

static void
dec_secret_register(struct xdr_reader *r, void *args)
{
    struct secret_register_args *a = args;
    a->event_id = xdr_get_i32(r);
    a->has_secret = xdr_get_u32(r) != 0;
    if (a->has_secret) {
        xdr_get_opaque_fixed(r, a->uuid, UUID_LEN);
        xdr_get_i32(r);
        a->usage_id = xdr_get_string(r, RPC_STRING_MAX);
    }
}

static void
clear_secret_register(void *args)
{
    g_free(((struct secret_register_args *)args)->usage_id);
}

static const struct args_type args_secret_register = {sizeof(struct secret_register_args),
                                                      dec_secret_register, clear_secret_register};

static void
h_secret_register_any(struct call *call, const struct call_ctx *ctx)
{
    const struct secret_register_args *a = ctx->args;
    struct net_register_args same = {a->event_id, a->has_secret, NULL, {0}};
    memcpy(same.uuid, a->uuid, UUID_LEN);
    /* lifecycle and value changed */
    register_object(call, &same, EVENT_OBJECT_SECRET, 2, "secret");
}

static void
h_secret_deregister_any(struct call *call, const struct call_ctx *ctx)
{
    deregister_object(call, ((const struct arg_int *)ctx->args)->v, EVENT_OBJECT_SECRET, "secret");
}

/* qemu_connect_domain_monitor_event_register_args: optional domain, optional event name */
struct monitor_register_args {
    gboolean has_dom;
    struct rpc_domain dom;
    char *event;
};

static void
dec_monitor_register(struct xdr_reader *r, void *args)
{
    struct monitor_register_args *a = args;
    a->has_dom = xdr_get_u32(r) != 0;
    if (a->has_dom)
        rpc_get_domain(r, &a->dom);
    if (xdr_get_u32(r) != 0)
        a->event = xdr_get_string(r, RPC_STRING_MAX);
}

static void
clear_monitor_register(void *args)
{
    struct monitor_register_args *a = args;
    rpc_domain_clear(&a->dom);
    g_free(a->event);
}

static const struct args_type args_monitor_register = {
    sizeof(struct monitor_register_args), dec_monitor_register, clear_monitor_register};

static void
h_monitor_register(struct call *call, const struct call_ctx *ctx)
{
    const struct monitor_register_args *a = ctx->args;
    g_autoptr(GRegex) regex = NULL;
    if (a->event && (ctx->flags & QEMU_MONITOR_EVENT_REGISTER_REGEX)) {
        g_autoptr(GError) local = NULL;
        GRegexCompileFlags cflags = G_REGEX_OPTIMIZE;
        if (ctx->flags & QEMU_MONITOR_EVENT_REGISTER_NOCASE)
            cflags |= G_REGEX_CASELESS;
        if (!(regex = g_regex_new(a->event, cflags, 0, &local))) {
            GError *error = NULL;
            err_set(&error, ERR_FROM_RPC, ERR_INVALID_ARG, "failed to compile regex '%s': %s",
                    a->event, local->message);
            dispatch_fail(call, error);
            return;
        }
    }
    struct client *c = call->client;
    struct event_reg *r = g_new0(struct event_reg, 1);
    r->object = EVENT_OBJECT_QEMU_MONITOR;
    r->callback_id = c->next_callback_id++;
    r->has_dom = a->has_dom;
    memcpy(r->uuid, a->dom.uuid, UUID_LEN);
    r->name = regex ? NULL : g_strdup(a->event);
    r->regex = g_steal_pointer(&regex);
    r->nocase = (ctx->flags & QEMU_MONITOR_EVENT_REGISTER_NOCASE) != 0;
    g_ptr_array_add(c->events, r);
    subscribe(c);
    monitor_listeners(c, 1);
    dispatch_reply_int(call, r->callback_id);
}

static void
h_monitor_deregister(struct call *call, const struct call_ctx *ctx)
{
    deregister_object(call, ((const struct arg_int *)ctx->args)->v, EVENT_OBJECT_QEMU_MONITOR,
                      "QEMU monitor");
}

#define R RPC_PROGRAM_REMOTE
#define Q RPC_PROGRAM_QEMU
#define N HANDLE_NONE
const struct proc_def event_procs[] = {
    {Q, QEMU_PROC_CONNECT_DOMAIN_MONITOR_EVENT_REGISTER, N, &args_monitor_register, TRUE,
     QEMU_MONITOR_EVENT_REGISTER_REGEX | QEMU_MONITOR_EVENT_REGISTER_NOCASE, h_monitor_register},
    {Q, QEMU_PROC_CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER, N, &args_int, FALSE, 0,
     h_monitor_deregister},
    {R, PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, N, &args_nodedev_register, FALSE, 0,
     h_nodedev_register_any},
    {R, PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, N, &args_int, FALSE, 0,
     h_nodedev_deregister_any},
    {R, PROC_CONNECT_SECRET_EVENT_REGISTER_ANY, N, &args_secret_register, FALSE, 0,
     h_secret_register_any},
    {R, PROC_CONNECT_SECRET_EVENT_DEREGISTER_ANY, N, &args_int, FALSE, 0, h_secret_deregister_any},
    {R, PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY, N, &args_net_register, FALSE, 0,
     h_network_register_any},
    {R, PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY, N, &args_int, FALSE, 0,
     h_network_deregister_any},
    {R, PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, N, &args_net_register, FALSE, 0,
     h_pool_register_any},
    {R, PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY, N, &args_int, FALSE, 0,
     h_pool_deregister_any},
    {R, PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, N, &args_int, FALSE, 0, h_register_any},
    {R, PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, N, &args_int, FALSE, 0, h_deregister_any},
    {R, PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, N, &args_register, FALSE, 0,
     h_callback_register_any},
    {R, PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, N, &args_int, FALSE, 0,
     h_callback_deregister_any},
};
#undef R
#undef Q
#undef N
const gsize event_procs_count = G_N_ELEMENTS(event_procs);
