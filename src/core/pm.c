/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pm: the guest's own power management on a user's behalf — dompmsuspend through the guest
 * agent, dompmwakeup through QEMU — each answered once the state has changed, as libvirt
 * answers; prefix core_domain_pm_. */
#include <string.h>

#include "core/events.h"
#include "core/guest.h"
#include "qemu/agent.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

/* How long a guest that took the request may take to get there: suspending to RAM is quick,
 * to disk it writes its memory out first */
#define PM_SUSPEND_MEM_MS 30000
#define PM_SUSPEND_DISK_MS 300000
#define PM_WAKEUP_MS 30000

static const char *const agent_commands[] = {"guest-suspend-ram", "guest-suspend-disk",
                                             "guest-suspend-hybrid"};

struct pm_req {
    struct domain *dom;
    core_done_fn done;
    gpointer data;
    unsigned target;  /* CORE_PM_* */
    gboolean wakeup;  /* waits to leave pmsuspended, else to leave running */
    guint timeout_ms; /* for the state change once QEMU or the agent took the request */
    guint sub;        /* on the event bus, while a wake-up waits */
    guint timer;
};

static void
pm_finish(struct pm_req *r, GError *error)
{
    if (r->sub)
        events_unsubscribe(r->dom->core->events, r->sub);
    if (r->timer)
        g_source_remove(r->timer);
    r->done(error, r->data);
    if (error)
        g_error_free(error);
    core_domain_unref(r->dom);
    g_free(r);
}

/* The wait is over when the state moved away from where it was. */
static gboolean
pm_settled(struct pm_req *r, GError **error)
{
    struct domain *dom = r->dom;
    if (r->wakeup ? dom->state == DOM_PMSUSPENDED : dom->state == DOM_RUNNING)
        return FALSE;
    /* a guest suspended to disk may be off by now */
    gboolean off = dom->state == DOM_SHUTDOWN || !state_is_active(dom->state);
    gboolean ok = r->wakeup ? dom->state == DOM_RUNNING
                            : dom->state == DOM_PMSUSPENDED || (r->target != CORE_PM_MEM && off);
    if (!ok)
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "domain '%s' went %s instead of %s",
                dom->def->name, state_to_string(dom->state), r->wakeup ? "running" : "pmsuspended");
    return TRUE;
}

static void
on_lifecycle(const struct event *ev, gpointer user)
{
    struct pm_req *r = user;
    if (ev->object != EVENT_OBJECT_DOMAIN || ev->kind != EVENT_ID_LIFECYCLE ||
        memcmp(ev->uuid, r->dom->def->uuid, UUID_LEN) != 0)
        return;
    GError *error = NULL;
    if (pm_settled(r, &error))
        pm_finish(r, error);
}

static gboolean
on_timeout(gpointer data)
{
    struct pm_req *r = data;
    r->timer = 0;
    GError *error = NULL;
    if (r->wakeup)
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_TIMEOUT,
                "QEMU took the wake-up but domain '%s' is still pmsuspended after %u s",
                r->dom->def->name, r->timeout_ms / 1000);
    else
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_TIMEOUT,
                "the guest agent took %s but domain '%s' has not suspended after %u s; the "
                "guest's kernel may not support it",
                agent_commands[r->target], r->dom->def->name, r->timeout_ms / 1000);
    pm_finish(r, error);
    return G_SOURCE_REMOVE;
}

/* QEMU took the wake-up: done once the state has changed (it may have already: QEMU's event
 * can come before the reply). */
static void
pm_await(struct pm_req *r)
{
    GError *error = NULL;
    if (pm_settled(r, &error)) {
        pm_finish(r, error);
        return;
    }
    r->sub = events_subscribe(r->dom->core->events, on_lifecycle, r);
    r->timer = g_timeout_add(r->timeout_ms, on_timeout, r);
}

static void
on_suspend_sent(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct pm_req *r = data;
    GError *err = NULL;
    if (error)
        pm_finish(r, g_error_copy(error));
    else if (pm_settled(r, &err))
        pm_finish(r, err);
    else
        on_timeout(r); /* silence for the whole window, and the guest still runs */
}

/* query-current-machine: can the guest be woken once suspended? */
static void
on_machine(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct pm_req *r = data;
    GError *err = NULL;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    if (o && !qemu_json_bool(o, "wakeup-suspend-support", TRUE)) {
        err_set(&err, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "domain '%s' does not have suspend support: its machine cannot wake up from "
                "suspend (QEMU's wakeup-suspend-support is false)",
                r->dom->def->name);
        pm_finish(r, err);
        return;
    }
    struct agent *ag = r->dom->state == DOM_RUNNING ? core_guest_agent(r->dom, &err) : NULL;
    if (!ag) {
        if (!err)
            err_set(&err, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is %s",
                    r->dom->def->name, state_to_string(r->dom->state));
        pm_finish(r, err);
        return;
    }
    log_info("%s: asking the guest agent for %s", r->dom->def->name, agent_commands[r->target]);
    agent_command_settled(ag, agent_commands[r->target], r->timeout_ms, on_suspend_sent, r);
}

static struct pm_req *
pm_req_new(struct domain *dom, core_done_fn done, gpointer data)
{
    struct pm_req *r = g_new0(struct pm_req, 1);
    r->dom = core_domain_ref(dom);
    r->done = done;
    r->data = data;
    return r;
}

static gboolean
check_suspend(struct domain *dom, unsigned target, guint64 duration, GError **error)
{
    const struct domain_def *def = dom->def;
    if (duration) {
        err_set(error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                "a suspend duration (%" G_GUINT64_FORMAT " s) is not supported by QEMU; use 0 "
                "and wake the guest with dompmwakeup",
                duration);
        return FALSE;
    }
    if (target >= G_N_ELEMENTS(agent_commands)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "unknown suspend target %u: use 0 (mem), 1 (disk) or 2 (hybrid)", target);
        return FALSE;
    }
    if (dom->state != DOM_RUNNING) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is %s; only a running guest can be suspended", def->name,
                state_to_string(dom->state));
        return FALSE;
    }
    if (def->pm_suspend_to_mem == DOMAIN_TRISTATE_NO && target != CORE_PM_DISK) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "S3 state is disabled for domain '%s' (<pm><suspend-to-mem enabled='no'/>)",
                def->name);
        return FALSE;
    }
    if (def->pm_suspend_to_disk == DOMAIN_TRISTATE_NO && target == CORE_PM_DISK) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "S4 state is disabled for domain '%s' (<pm><suspend-to-disk enabled='no'/>)",
                def->name);
        return FALSE;
    }
    return core_guest_agent(dom, error) != NULL;
}

void
core_domain_pm_suspend(struct domain *dom, unsigned target, guint64 duration, core_done_fn done,
                       gpointer data)
{
    GError *error = NULL;
    if (!check_suspend(dom, target, duration, &error)) {
        done(error, data);
        g_error_free(error);
        return;
    }
    struct pm_req *r = pm_req_new(dom, done, data);
    r->target = target;
    r->timeout_ms = target == CORE_PM_MEM ? PM_SUSPEND_MEM_MS : PM_SUSPEND_DISK_MS;
    qmp_command(dom->mon, "query-current-machine", NULL, on_machine, r);
}

static void
on_wakeup(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct pm_req *r = data;
    if (error)
        pm_finish(r, g_error_copy(error));
    else
        pm_await(r);
}

void
core_domain_pm_wakeup(struct domain *dom, core_done_fn done, gpointer data)
{
    if (dom->state != DOM_PMSUSPENDED || !dom->mon) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is %s, not pmsuspended: there is nothing to wake up", dom->def->name,
                state_to_string(dom->state));
        done(error, data);
        g_error_free(error);
        return;
    }
    struct pm_req *r = pm_req_new(dom, done, data);
    r->wakeup = TRUE;
    r->timeout_ms = PM_WAKEUP_MS;
    qmp_command(dom->mon, "system_wakeup", NULL, on_wakeup, r);
}
