/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events: the event messages a connection receives (domains', networks', pools', secrets' and
 * node devices'), decoded into struct domus_event and queued until domus_event_next hands
 * them out; calls that wait for a reply queue those that come meanwhile. */
#include "lib/client_priv.h"

#include "rpc/protocol.h"
#include "util/uuid.h"

void
domus_event_clear(struct domus_event *ev)
{
    g_clear_pointer(&ev->domain_name, g_free);
    g_clear_pointer(&ev->alias, g_free);
    g_clear_pointer(&ev->path, g_free);
    g_clear_pointer(&ev->reason, g_free);
    g_clear_pointer(&ev->params, g_strfreev);
    g_clear_pointer(&ev->qemu_event, g_free);
    g_clear_pointer(&ev->details, g_free);
}

/* qemu_domain_monitor_event_msg */
static void
queue_monitor_event(domus_conn *conn, GByteArray *body)
{
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_event ev = {0};
    uint8_t uuid[UUID_LEN];
    ev.object = DOMUS_EVENT_QEMU_MONITOR;
    ev.callback_id = xdr_get_i32(&r);
    ev.domain_name = xdr_get_string(&r, RPC_STRING_MAX);
    xdr_get_opaque_fixed(&r, uuid, UUID_LEN);
    ev.domain_id = xdr_get_i32(&r);
    ev.qemu_event = xdr_get_string(&r, RPC_STRING_MAX);
    ev.seconds = xdr_get_i64(&r);
    ev.micros = xdr_get_u32(&r);
    ev.details = xdr_get_opt_string(&r, RPC_STRING_MAX);
    if (!xdr_reader_finish(&r, NULL)) {
        domus_event_clear(&ev);
        return;
    }
    g_queue_push_tail(&conn->events, g_memdup2(&ev, sizeof(ev)));
}

void
client_queue_event(domus_conn *conn, const struct rpc_header *rh, GByteArray *body)
{
    if (rh->prog == RPC_PROGRAM_QEMU && rh->proc == QEMU_PROC_DOMAIN_MONITOR_EVENT) {
        queue_monitor_event(conn, body);
        return;
    }
    if (rh->prog != RPC_PROGRAM_REMOTE)
        return;
    struct xdr_reader r;
    xdr_reader_init(&r, body->data, body->len);
    struct domus_event ev = {0};
    ev.domain_id = -1;
    if (rh->proc == PROC_STORAGE_POOL_EVENT_LIFECYCLE ||
        rh->proc == PROC_STORAGE_POOL_EVENT_REFRESH) {
        /* remote_storage_pool_event_lifecycle_msg / _refresh_msg */
        uint8_t uuid[UUID_LEN];
        ev.object = DOMUS_EVENT_POOL;
        ev.callback_id = xdr_get_i32(&r);
        ev.domain_name = xdr_get_string(&r, RPC_STRING_MAX);
        xdr_get_opaque_fixed(&r, uuid, UUID_LEN);
        ev.event_id = rh->proc == PROC_STORAGE_POOL_EVENT_REFRESH;
        if (!ev.event_id) {
            ev.event = xdr_get_i32(&r);
            ev.detail = xdr_get_i32(&r);
        }
    } else if (rh->proc == PROC_SECRET_EVENT_LIFECYCLE ||
               rh->proc == PROC_SECRET_EVENT_VALUE_CHANGED) {
        /* remote_secret_event_lifecycle_msg / _value_changed_msg: the secret's uuid names it */
        uint8_t uuid[UUID_LEN];
        char uuid_str[UUID_STRING_LEN];
        ev.object = DOMUS_EVENT_SECRET;
        ev.callback_id = xdr_get_i32(&r);
        xdr_get_opaque_fixed(&r, uuid, UUID_LEN);
        xdr_get_i32(&r);
        g_free(xdr_get_string(&r, RPC_STRING_MAX));
        uuid_format(uuid, uuid_str);
        ev.domain_name = g_strdup(uuid_str);
        ev.event_id = rh->proc == PROC_SECRET_EVENT_VALUE_CHANGED;
        if (!ev.event_id) {
            ev.event = xdr_get_i32(&r);
            ev.detail = xdr_get_i32(&r);
        }
    } else if (rh->proc == PROC_NODE_DEVICE_EVENT_LIFECYCLE ||
               rh->proc == PROC_NODE_DEVICE_EVENT_UPDATE) {
        /* remote_node_device_event_lifecycle_msg / _update_msg */
        ev.object = DOMUS_EVENT_NODE_DEVICE;
        ev.callback_id = xdr_get_i32(&r);
        ev.domain_name = xdr_get_string(&r, RPC_STRING_MAX);
        ev.event_id = rh->proc == PROC_NODE_DEVICE_EVENT_UPDATE;
        if (!ev.event_id) {
            ev.event = xdr_get_i32(&r);
            ev.detail = xdr_get_i32(&r);
        }
    }
    if (ev.object != DOMUS_EVENT_DOMAIN) {
        if (!xdr_reader_finish(&r, NULL)) {
            domus_event_clear(&ev);
            return;
        }
        g_queue_push_tail(&conn->events, g_memdup2(&ev, sizeof(ev)));
        return;
    }
    if (rh->proc == PROC_NETWORK_EVENT_LIFECYCLE) {
        /* remote_network_event_lifecycle_msg */
        uint8_t uuid[UUID_LEN];
        ev.object = DOMUS_EVENT_NETWORK;
        ev.callback_id = xdr_get_i32(&r);
        ev.domain_name = xdr_get_string(&r, RPC_STRING_MAX);
        xdr_get_opaque_fixed(&r, uuid, UUID_LEN);
        ev.event = xdr_get_i32(&r);
        ev.detail = xdr_get_i32(&r);
        ev.domain_id = -1;
        if (!xdr_reader_finish(&r, NULL)) {
            domus_event_clear(&ev);
            return;
        }
        g_queue_push_tail(&conn->events, g_memdup2(&ev, sizeof(ev)));
        return;
    }
    /* the domain events' messages: the callback forms (callbackID first), and the legacy
     * lifecycle and reboot ones */
    static const struct {
        uint32_t proc;
        int event_id;
        gboolean callback;
        gboolean reason; /* a reason (int) between callbackID and the domain */
    } kinds[] = {
        {PROC_DOMAIN_EVENT_LIFECYCLE, 0, FALSE},
        {PROC_DOMAIN_EVENT_REBOOT, 1, FALSE},
        {PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, 0, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_REBOOT, 1, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_RTC_CHANGE, 2, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR, 4, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_IO_ERROR_REASON, 6, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_BLOCK_JOB, 8, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_TRAY_CHANGE, 10, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_PMWAKEUP, 11, TRUE, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND, 12, TRUE, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_PMSUSPEND_DISK, 14, TRUE, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE, 13, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED, 15, TRUE},
        {PROC_DOMAIN_EVENT_BLOCK_JOB_2, 16, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_TUNABLE, 17, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE, 18, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_DEVICE_ADDED, 19, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION, 20, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED, 22, TRUE},
        {PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE, 23, TRUE},
        {PROC_DOMAIN_EVENT_BLOCK_THRESHOLD, 24, TRUE},
        {PROC_DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE, 26, TRUE},
    };
    gsize k = 0;
    while (k < G_N_ELEMENTS(kinds) && kinds[k].proc != rh->proc)
        k++;
    if (k == G_N_ELEMENTS(kinds)) {
        domus_event_clear(&ev);
        return; /* an event this library does not decode */
    }
    if (kinds[k].callback)
        ev.callback_id = xdr_get_i32(&r);
    if (kinds[k].reason)
        ev.detail = xdr_get_i32(&r);
    struct rpc_domain d = {0};
    rpc_get_domain(&r, &d);
    ev.domain_name = g_steal_pointer(&d.name);
    ev.domain_id = d.id;
    ev.event_id = kinds[k].event_id;
    switch (ev.event_id) {
    case 0: /* lifecycle */
        ev.event = xdr_get_i32(&r);
        ev.detail = xdr_get_i32(&r);
        break;
    case 4: /* io-error(-reason): srcPath, devAlias, action (detail), reason */
    case 6:
        ev.path = xdr_get_string(&r, RPC_STRING_MAX);
        ev.alias = xdr_get_string(&r, RPC_STRING_MAX);
        ev.detail = xdr_get_i32(&r);
        if (ev.event_id == 6)
            ev.reason = xdr_get_string(&r, RPC_STRING_MAX);
        break;
    case 8: /* block-job(-2): the disk's image or target, type (event), status (detail) */
    case 16:
    case 15: /* device-removed, device-added: the alias */
    case 19:
        ev.alias = xdr_get_string(&r, RPC_STRING_MAX);
        if (ev.event_id == 8 || ev.event_id == 16) {
            ev.event = xdr_get_i32(&r);
            ev.detail = xdr_get_i32(&r);
        }
        break;
    case 2: /* rtc-change: the offset */
        ev.value = xdr_get_i64(&r);
        break;
    case 13: /* balloon-change: KiB */
        ev.value = (gint64)xdr_get_u64(&r);
        break;
    case 10: /* tray-change: the device, the reason (detail) */
        ev.alias = xdr_get_string(&r, RPC_STRING_MAX);
        ev.detail = xdr_get_i32(&r);
        break;
    case 18: /* agent-lifecycle: state (event), reason (detail) */
        ev.event = xdr_get_i32(&r);
        ev.detail = xdr_get_i32(&r);
        break;
    case 22: /* device-removal-failed: the device */
        ev.alias = xdr_get_string(&r, RPC_STRING_MAX);
        break;
    case 17: /* tunable */
        ev.params = client_read_typed_params(&r);
        break;
    case 20: /* migration-iteration: the pass */
        ev.detail = xdr_get_i32(&r);
        break;
    case 24: /* block-threshold: the image, its path, the threshold, the excess */
        ev.alias = xdr_get_string(&r, RPC_STRING_MAX);
        ev.path = xdr_get_opt_string(&r, RPC_STRING_MAX);
        ev.value = (gint64)xdr_get_u64(&r);
        ev.excess = xdr_get_u64(&r);
        break;
    case 26: /* memory-device-size-change: the device, its size (KiB) */
        ev.alias = xdr_get_string(&r, RPC_STRING_MAX);
        ev.value = (gint64)xdr_get_u64(&r);
        break;
    case 23: /* metadata-change: type (detail), namespace */
        ev.detail = xdr_get_i32(&r);
        ev.reason = xdr_get_opt_string(&r, RPC_STRING_MAX);
        break;
    default:
        break;
    }
    if (!xdr_reader_finish(&r, NULL)) {
        domus_event_clear(&ev);
        return;
    }
    g_queue_push_tail(&conn->events, g_memdup2(&ev, sizeof(ev)));
}

int
domus_node_device_event_register(domus_conn *conn, const char *name, int event_id, GError **error)
{
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, event_id);
    xdr_put_opt_string(args, name);
    return client_reply_int(conn, PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, args, error);
}

int
domus_event_next(domus_conn *conn, struct domus_event *ret, int timeout_ms, GError **error)
{
    gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_queue_is_empty(&conn->events)) {
        int wait = -1;
        if (deadline >= 0) {
            gint64 left = deadline - g_get_monotonic_time();
            if (left <= 0)
                return 0;
            wait = (int)((left + 999) / 1000);
        }
        struct rpc_header rh;
        g_autoptr(GByteArray) body = NULL;
        int got = client_next_message(conn, &rh, &body, wait, -1, error);
        if (got < 0)
            return -1;
        if (got > 0 && rh.type == RPC_MESSAGE)
            client_queue_event(conn, &rh, body);
    }
    struct domus_event *ev = g_queue_pop_head(&conn->events);
    *ret = *ev;
    g_free(ev);
    return 1;
}
