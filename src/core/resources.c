/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resources: a domain's vCPU count and memory, changed live and in its configuration
 * (virDomainSetVcpusFlags, virDomainSetMemoryFlags); prefix core_. Live changes are jobs: vCPUs
 * plugged with device_add on QEMU's hot-pluggable CPU slots and unplugged with device_del, done
 * when the guest has let the CPU go (DEVICE_DELETED), not after a fixed wait; memory through
 * the balloon. Also the waits for DEVICE_DELETED that hot-unplug shares. */
#include "core/core.h"

#include <string.h>

#include "core/guest.h"
#include "core/job.h"
#include "core/pin.h"
#include "core/qos.h"
#include "qemu/agent.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/cpuset.h"
#include "util/err.h"
#include "util/log.h"

#define UNPLUG_TIMEOUT_S 120 /* a guest that never lets go: the job fails (domjobabort too) */
#define UNPLUG_POLL_MS 100
#define UNPLUG_REASK_POLLS 30 /* 3 s */

/* --- waits for DEVICE_DELETED --- */

struct device_wait {
    char *alias;
    void (*fn)(struct domain *dom, gpointer data);
    gpointer data;
};

static void
device_wait_free(gpointer p)
{
    struct device_wait *w = p;
    g_free(w->alias);
    g_free(w);
}

gpointer
core_device_wait(struct domain *dom, const char *alias,
                 void (*fn)(struct domain *dom, gpointer data), gpointer data)
{
    if (!dom->device_waits)
        dom->device_waits = g_ptr_array_new_with_free_func(device_wait_free);
    struct device_wait *w = g_new0(struct device_wait, 1);
    w->alias = g_strdup(alias);
    w->fn = fn;
    w->data = data;
    g_ptr_array_add(dom->device_waits, w);
    return w;
}

void
core_device_wait_cancel(struct domain *dom, gpointer handle)
{
    if (dom->device_waits && handle)
        g_ptr_array_remove(dom->device_waits, handle);
}

void
core_device_deleted(struct domain *dom, const char *alias)
{
    log_debug("%s: device '%s' deleted", dom->def->name, alias ? alias : "?");
    for (guint i = 0; dom->device_waits && i < dom->device_waits->len; i++) {
        struct device_wait *w = dom->device_waits->pdata[i];
        if (g_strcmp0(w->alias, alias) != 0)
            continue;
        void (*fn)(struct domain *, gpointer) = w->fn;
        gpointer data = w->data;
        g_ptr_array_remove_index(dom->device_waits, i);
        fn(dom, data);
        return;
    }
    if (alias)
        core_hotplug_deleted(dom, alias);
}

/* --- shared --- */

/* virDomainModificationImpact, virDomainVcpuFlags, virDomainMemoryModFlags */
enum {
    AFFECT_LIVE = 1,
    AFFECT_CONFIG = 2,
    VCPU_MAXIMUM = 4,
    VCPU_GUEST = 8,
    VCPU_HOTPLUGGABLE = 16
};
enum { MEM_MAXIMUM = 4 };

gboolean
core_domain_impact(struct domain *dom, unsigned flags, gboolean *ret_live, gboolean *ret_config,
                   GError **error)
{
    gboolean active = state_is_active(dom->state);
    gboolean live = (flags & AFFECT_LIVE) != 0, config = (flags & AFFECT_CONFIG) != 0;
    if (!live && !config) {
        live = active;
        config = !active;
    }
    if (live && !active) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is not running; change its persistent config with --config",
                dom->def->name);
        return FALSE;
    }
    if (config && !dom->persistent) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot change the persistent configuration of transient domain '%s'",
                dom->def->name);
        return FALSE;
    }
    *ret_live = live;
    *ret_config = config;
    return TRUE;
}

static void
live_changed(struct domain *dom)
{
    /* the vCPU threads are asked again at the next statistics */
    g_clear_pointer(&dom->vcpu_tids, g_array_unref);
    GError *e = NULL;
    dom->updated = TRUE;
    if (!core_status_write(dom, &e)) {
        log_warn("%s: %s", dom->def->name, e->message);
        g_error_free(e);
    }
}

/* --- vCPUs --- */

gboolean
core_domain_state_writable(struct domain *dom, const char *what, GError **error)
{
    /* a vCPU QEMU made is gone: the only way vcpus_created passes the online count */
    if (dom->def->virt_type != DOMAIN_VIRT_QEMU || !state_is_active(dom->state) ||
        dom->vcpus_created <= dom->def->vcpus_current)
        return TRUE;
    err_set(error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
            "cannot %s '%s': a vCPU was unplugged from it, and QEMU 7.2 under TCG corrupts its "
            "memory and exits when it writes the guest's state after that; restart the domain "
            "first (KVM has no such limit)",
            what, dom->def->name);
    return FALSE;
}

struct vcpu_op {
    struct domain *dom;
    unsigned target; /* the live count asked for */
    unsigned flags;
    gboolean config;
    JsonArray *slots; /* query-hotpluggable-cpus, ordered by vCPU number */
    unsigned id;      /* the vCPU being plugged or unplugged */
    gboolean single;  /* setvcpu: vCPU ID only, ONLINE or not */
    gboolean online;
    gpointer wait; /* the DEVICE_DELETED wait of the unplug in flight */
    guint timer;
    guint poll;  /* ... and the look at the slots meanwhile */
    guint polls; /* how many looks so far */
    gboolean polling;
};

static void
vcpu_op_free(gpointer data)
{
    struct vcpu_op *op = data;
    if (op->timer)
        g_source_remove(op->timer);
    if (op->poll)
        g_source_remove(op->poll);
    core_device_wait_cancel(op->dom, op->wait);
    if (op->slots)
        json_array_unref(op->slots);
    core_domain_unref(op->dom);
    g_free(op);
}

static unsigned
created_vcpus(struct domain *dom)
{
    return dom->vcpus_created ? dom->vcpus_created : dom->def->vcpus_current;
}

static char *
vcpu_alias(unsigned n)
{
    return g_strdup_printf("vcpu%u", n);
}

static gint64
slot_key(JsonObject *slot)
{
    JsonObject *p = qemu_json_object(slot, "props");
    return p ? qemu_json_int_or(p, "socket-id", 0) * 1000000000 +
                   qemu_json_int_or(p, "die-id", 0) * 1000000 +
                   qemu_json_int_or(p, "core-id", 0) * 1000 + qemu_json_int_or(p, "thread-id", 0)
             : 0;
}

static gint
by_slot(gconstpointer a, gconstpointer b)
{
    gint64 x = slot_key(json_node_get_object(*(JsonNode *const *)a));
    gint64 y = slot_key(json_node_get_object(*(JsonNode *const *)b));
    return x < y ? -1 : x > y;
}

static void vcpu_next(struct job *job);
static void stop_waiting(struct vcpu_op *op);

static void
on_slots(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    JsonArray *all = error ? NULL : qemu_json_node_array(result);
    if (!job->finished) {
        if (!all) {
            job_fail(job, error ? g_error_copy(error) : NULL);
        } else {
            /* QEMU lists the slots last first: ordered, slot N holds vCPU N */
            GPtrArray *nodes = g_ptr_array_new();
            for (guint i = 0; i < json_array_get_length(all); i++)
                g_ptr_array_add(nodes, json_array_get_element(all, i));
            g_ptr_array_sort(nodes, by_slot);
            op->slots = json_array_new();
            for (guint i = 0; i < nodes->len; i++)
                json_array_add_element(op->slots, json_node_copy(nodes->pdata[i]));
            g_ptr_array_free(nodes, TRUE);
            vcpu_next(job);
        }
    }
    job_unref(job);
}

static void
vcpu_slots(struct job *job)
{
    struct vcpu_op *op = job->data;
    qmp_command(op->dom->mon, "query-hotpluggable-cpus", NULL, on_slots, job_ref(job));
}

static void
on_plugged(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    if (!job->finished) {
        if (error) {
            job_fail(job, g_error_copy(error));
        } else {
            op->dom->vcpus_created = created_vcpus(op->dom) + 1;
            domain_def_vcpu_set(op->dom->def, op->id, TRUE);
            live_changed(op->dom);
            vcpu_next(job);
        }
    }
    job_unref(job);
}

static gboolean
on_unplug_timeout(gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    op->timer = 0;
    stop_waiting(op);
    GError *error = NULL;
    err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_TIMEOUT,
            "the guest of '%s' did not release vCPU %u within %d s; it may still do so",
            op->dom->def->name, op->id, UNPLUG_TIMEOUT_S);
    job_fail(job, error);
    return G_SOURCE_REMOVE;
}

static void
stop_waiting(struct vcpu_op *op)
{
    core_device_wait_cancel(op->dom, op->wait);
    op->wait = NULL;
    if (op->timer)
        g_source_remove(op->timer);
    op->timer = 0;
    if (op->poll)
        g_source_remove(op->poll);
    op->poll = 0;
}

static void
on_vcpu_deleted(struct domain *dom, gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    op->wait = NULL;
    stop_waiting(op);
    /* QEMU made it (at start or plugged): it counts against TCG's limit even gone */
    dom->vcpus_created = created_vcpus(dom);
    domain_def_vcpu_set(dom->def, op->id, FALSE);
    live_changed(dom);
    vcpu_next(job);
}

/* QEMU announces the CPU's DEVICE_DELETED only once the object is finalized, which may come
 * late or not at all for a vCPU (its thread ends first): the slot being empty again says it
 * as well. */
static void
on_unplug_slots(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    op->polling = FALSE;
    JsonArray *all = error ? NULL : qemu_json_node_array(result);
    g_autofree char *path = g_strdup_printf("/machine/peripheral/vcpu%u", op->id);
    gboolean present = !all;
    for (guint i = 0; all && i < json_array_get_length(all); i++) {
        JsonObject *s = qemu_json_element_object(all, i);
        present |= s && g_strcmp0(qemu_json_string(s, "qom-path"), path) == 0;
    }
    if (!job->finished && op->wait && !present)
        on_vcpu_deleted(op->dom, job);
    job_unref(job);
}

static gboolean
on_unplug_poll(gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    if (!op->polling && op->dom->mon) {
        /* a guest busy with the plug before may miss the eject request: asked again */
        if (++op->polls % UNPLUG_REASK_POLLS == 0) {
            g_autofree char *id = vcpu_alias(op->id);
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "id", id);
            qmp_command(op->dom->mon, "device_del", args, NULL, NULL);
        }
        op->polling = TRUE;
        qmp_command(op->dom->mon, "query-hotpluggable-cpus", NULL, on_unplug_slots, job_ref(job));
    }
    return G_SOURCE_CONTINUE;
}

static void
on_unplug_asked(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct vcpu_op *op = job->data;
    if (error && !job->finished) {
        stop_waiting(op);
        job_fail(job, g_error_copy(error));
    }
    job_unref(job);
}

/* Plugs vCPU OP->id into its slot (the slots are in vCPU order) */
static void
vcpu_plug(struct job *job)
{
    struct vcpu_op *op = job->data;
    struct domain *dom = op->dom;
    if (dom->def->virt_type == DOMAIN_VIRT_QEMU && created_vcpus(dom) >= dom->def->vcpus) {
        /* QEMU 7.2's TCG keeps a translation context per vCPU ever made and aborts when
         * asked for one more than the maximum */
        GError *error = NULL;
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                "QEMU (TCG) of '%s' has made its %u vCPUs already and cannot plug one "
                "again after an unplug; restart the domain to plug vCPUs again (KVM has no "
                "such limit)",
                dom->def->name, dom->def->vcpus);
        job_fail(job, error);
        return;
    }
    JsonObject *slot = op->id < json_array_get_length(op->slots)
                           ? qemu_json_element_object(op->slots, op->id)
                           : NULL;
    JsonObject *props = slot ? qemu_json_object(slot, "props") : NULL;
    const char *type = slot ? qemu_json_string(slot, "type") : NULL;
    if (!props || !type || qemu_json_string(slot, "qom-path")) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "QEMU has no free CPU slot for vCPU %u of '%s'", op->id, dom->def->name);
        job_fail(job, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "driver", type);
    g_autofree char *id = vcpu_alias(op->id);
    json_object_set_string_member(args, "id", id);
    GList *members = json_object_get_members(props);
    for (GList *m = members; m; m = m->next)
        json_object_set_member(args, m->data,
                               json_node_copy(json_object_get_member(props, m->data)));
    g_list_free(members);
    qmp_command(dom->mon, "device_add", args, on_plugged, job_ref(job));
}

/* Asks the guest to release vCPU OP->id; done when it did (on_vcpu_deleted) */
static void
vcpu_unplug(struct job *job)
{
    struct vcpu_op *op = job->data;
    g_autofree char *id = vcpu_alias(op->id);
    op->polls = 0;
    op->wait = core_device_wait(op->dom, id, on_vcpu_deleted, job);
    op->timer = g_timeout_add_seconds(UNPLUG_TIMEOUT_S, on_unplug_timeout, job);
    op->poll = g_timeout_add(UNPLUG_POLL_MS, on_unplug_poll, job);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", id);
    qmp_command(op->dom->mon, "device_del", args, on_unplug_asked, job_ref(job));
}

/* One vCPU at a time toward the target, chosen as libvirt chooses: the lowest offline one
 * plugged into its slot, or the highest hot-pluggable online one unplugged once the guest
 * releases it; or the one vCPU asked for by number. */
static void
vcpu_next(struct job *job)
{
    struct vcpu_op *op = job->data;
    const struct domain_def *def = op->dom->def;
    if (op->single) {
        if (domain_def_vcpu_online(def, op->id) == op->online)
            job_next(job);
        else if (op->online)
            vcpu_plug(job);
        else
            vcpu_unplug(job);
        return;
    }
    unsigned cur = def->vcpus_current;
    if (cur == op->target) {
        job_next(job);
        return;
    }
    if (cur < op->target) {
        op->id = 0;
        while (domain_def_vcpu_online(def, op->id))
            op->id++;
        vcpu_plug(job);
        return;
    }
    /* only what was plugged can go: the vCPUs the domain started with are not devices */
    op->id = def->vcpus;
    while (op->id > 0 && !(domain_def_vcpu_online(def, op->id - 1) &&
                           domain_def_vcpu_hotpluggable(def, op->id - 1)))
        op->id--;
    if (op->id-- == 0) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "failed to find appropriate hotpluggable vcpus to reach the desired target vcpu "
                "count: '%s' started with %u vCPUs, which cannot be unplugged",
                def->name, domain_def_vcpus_boot(def));
        job_fail(job, error);
        return;
    }
    vcpu_unplug(job);
}

static void
vcpu_finish(struct job *job, const GError *error)
{
    struct vcpu_op *op = job->data;
    struct domain *dom = op->dom;
    if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "changing the vCPUs of '%s' (%u now): ", dom->def->name,
                       dom->def->vcpus_current);
        job_set_error(job, e);
        return;
    }
    log_info("%s: %u vCPUs", dom->def->name, dom->def->vcpus_current);
    if (op->config) {
        GError *e = NULL;
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        if (op->single)
            domain_def_vcpu_set(copy, op->id, op->online);
        else
            domain_def_vcpus_set_count(copy, op->target, (op->flags & VCPU_HOTPLUGGABLE) != 0);
        if (!core_domain_keep_config(dom, copy, &e))
            job_set_error(job, e);
    }
}

static void
vcpu_abort(struct job *job)
{
    struct vcpu_op *op = job->data;
    stop_waiting(op);
    GError *error = NULL;
    err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_ABORTED,
            "the vCPU change of '%s' was stopped at %u vCPUs", op->dom->def->name,
            op->dom->def->vcpus_current);
    job_fail(job, error);
}

static void
on_pin_threads(struct domain *dom, GError *error, gpointer data)
{
    struct job *job = data;
    GError *e = NULL;
    if (!job->finished) {
        if (error || !core_pin_apply(dom, &e) || !core_qos_place_threads(dom, &e))
            job_fail(job, error ? g_error_copy(error) : e);
        else
            job_next(job);
    }
    job_unref(job);
}

/* A plugged vCPU's thread goes where <cputune> pins it */
static void
vcpu_pin(struct job *job)
{
    struct vcpu_op *op = job->data;
    if ((!core_pin_any(op->dom->def) && !core_qos_wants_threads(op->dom)) || !op->dom->mon) {
        job_next(job);
        return;
    }
    core_pin_learn_threads(op->dom, on_pin_threads, job_ref(job));
}

static const struct job_step vcpu_steps[] = {
    {"vcpus", vcpu_slots}, {"pin", vcpu_pin}, {NULL, NULL}};
static const struct job_pipeline vcpu_pipeline = {
    .steps = vcpu_steps, .finish = vcpu_finish, .abort = vcpu_abort, .abortable = TRUE};

struct vcpu_request {
    struct vcpu_op *op;
    core_done_fn done;
    gpointer data;
};

static void
vcpu_begin(struct job *job, GError *error, gpointer data)
{
    struct vcpu_request *req = data;
    struct vcpu_op *op = req->op;
    if (!job) {
        req->done(error, req->data);
        vcpu_op_free(op);
    } else if (!state_is_active(op->dom->state) || !op->dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                op->dom->def->name);
        job_cancel(job, error, req->done, req->data);
        vcpu_op_free(op);
    } else {
        job_run(job, op, vcpu_op_free, req->done, req->data);
    }
    g_free(req);
}

static struct vcpu_op *
vcpu_op_new(struct domain *dom, unsigned flags, gboolean config)
{
    struct vcpu_op *op = g_new0(struct vcpu_op, 1);
    op->dom = core_domain_ref(dom);
    op->flags = flags;
    op->config = config;
    return op;
}

/* Runs OP as a job once the domain is free; DONE hears how it ended */
static void
vcpu_run(struct vcpu_op *op, core_done_fn done, gpointer data)
{
    struct vcpu_request *req = g_new0(struct vcpu_request, 1);
    req->op = op;
    req->done = done;
    req->data = data;
    job_acquire(&op->dom->jobs, JOB_MODIFY, &vcpu_pipeline, op->dom->core->job_wait_ms, vcpu_begin,
                req);
}

/* The guest's own vCPUs: online or offline through the agent (guest-set-vcpus) */
struct guest_vcpus {
    struct domain *dom;
    unsigned target;
    core_done_fn done;
    gpointer data;
};

static void
on_guest_set(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct guest_vcpus *g = data;
    g->done((GError *)error, g->data);
    core_domain_unref(g->dom);
    g_free(g);
}

static void
on_guest_get(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct guest_vcpus *g = data;
    JsonArray *cpus = error ? NULL : qemu_json_node_array(result);
    if (!cpus) {
        GError *e = error ? g_error_copy(error) : NULL;
        if (!e)
            err_set(&e, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                    "the guest agent's vCPU list of '%s'"
                    " is not one",
                    g->dom->def->name);
        g->done(e, g->data);
        g_error_free(e);
        core_domain_unref(g->dom);
        g_free(g);
        return;
    }
    /* the first TARGET that can be online, the rest offline (the boot CPU cannot go) */
    JsonArray *set = json_array_new();
    unsigned online = 0;
    for (guint i = 0; i < json_array_get_length(cpus); i++) {
        JsonObject *c = qemu_json_element_object(cpus, i);
        if (!c)
            continue;
        gboolean want = online < g->target;
        if (!want && !qemu_json_bool(c, "can-offline", FALSE)) {
            online++;
            continue;
        }
        online += want;
        if (qemu_json_bool(c, "online", FALSE) == want)
            continue;
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "logical-id", qemu_json_int_or(c, "logical-id", i));
        json_object_set_boolean_member(o, "online", want);
        json_array_add_object_element(set, o);
    }
    if (online < g->target) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "guest of '%s' has %u vCPUs: cannot have %u online", g->dom->def->name, online,
                g->target);
        json_array_unref(set);
        g->done(e, g->data);
        g_error_free(e);
        core_domain_unref(g->dom);
        g_free(g);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "vcpus", set);
    agent_command(ag, "guest-set-vcpus", args, 0, on_guest_set, g);
}

void
core_domain_set_vcpus(struct domain *dom, unsigned n, unsigned flags, core_done_fn done,
                      gpointer data)
{
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    if (n < 1) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "a domain needs at least 1 vCPU");
    } else if (flags & VCPU_GUEST) {
        struct agent *ag = (flags & AFFECT_CONFIG) || (flags & VCPU_MAXIMUM)
                               ? NULL
                               : core_guest_agent(dom, &error);
        if ((flags & AFFECT_CONFIG) || (flags & VCPU_MAXIMUM))
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "--guest acts on the running guest only: not with --config or --maximum");
        if (ag) {
            struct guest_vcpus *g = g_new0(struct guest_vcpus, 1);
            g->dom = core_domain_ref(dom);
            g->target = n;
            g->done = done;
            g->data = data;
            agent_command(ag, "guest-get-vcpus", NULL, 0, on_guest_get, g);
            return;
        }
    } else if (core_domain_impact(dom, flags, &live, &config, &error)) {
        const struct domain_def *pdef = core_persistent_def(dom);
        if (flags & VCPU_MAXIMUM) {
            if (live)
                err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                        "cannot change the maximum vCPU count of running domain '%s'; use "
                        "--config",
                        dom->def->name);
        } else if (config && n > pdef->vcpus) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "requested vcpus is greater than max allowable vcpus for the persistent "
                    "domain: %u > %u",
                    n, pdef->vcpus);
        } else if (live && n > dom->def->vcpus) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "requested vcpus is greater than max allowable vcpus for the live domain: "
                    "%u > %u",
                    n, dom->def->vcpus);
        }
    }
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    if (flags & VCPU_MAXIMUM) {
        /* config only: the maximum, and the current count within it */
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        domain_def_vcpus_set_max(copy, n);
        /* the pins of vCPUs past the new maximum go, as libvirt drops them */
        if (copy->vcpupins->len > n)
            g_ptr_array_set_size(copy->vcpupins, n);
        core_domain_keep_config(dom, copy, &error);
        done(error, data);
        g_clear_error(&error);
        return;
    }
    if (!live) {
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        domain_def_vcpus_set_count(copy, n, (flags & VCPU_HOTPLUGGABLE) != 0);
        core_domain_keep_config(dom, copy, &error);
        done(error, data);
        g_clear_error(&error);
        return;
    }
    struct vcpu_op *op = vcpu_op_new(dom, flags, config);
    op->target = n;
    vcpu_run(op, done, data);
}

/* The vCPUs SET names, all within DEF (WHICH: "live" or "persistent", for the message) */
static GArray *
selected_vcpus(const struct domain_def *def, const struct cpuset *set, const char *which,
               GError **error)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
    for (unsigned i = 0; i < CPUSET_MAX; i++) {
        if (!cpuset_has(set, i))
            continue;
        if (i >= def->vcpus) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "vcpu %u is not present in %s config",
                    i, which);
            return NULL;
        }
        g_array_append_val(ids, i);
    }
    return g_steal_pointer(&ids);
}

/* libvirt's checks of a setvcpu on the running guest: one vCPU, there, not in that state
 * already, and hot-pluggable when it is to go */
static gboolean
check_vcpu_live(const struct domain_def *def, const struct cpuset *set, gboolean online,
                GError **error)
{
    g_autoptr(GArray) ids = selected_vcpus(def, set, "live", error);
    for (guint n = 0; ids && n < ids->len; n++) {
        unsigned i = g_array_index(ids, unsigned, n);
        if (domain_def_vcpu_online(def, i) == online) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "vcpu '%u' is already in requested state", i);
            return FALSE;
        }
        if (!online && !domain_def_vcpu_hotpluggable(def, i)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "vcpu '%u' can't be hotunplugged", i);
            return FALSE;
        }
    }
    if (ids && ids->len != 1) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "only one hotpluggable entity can be selected");
        return FALSE;
    }
    return ids != NULL;
}

/* ... and of the configuration: not vCPU 0, and the vCPUs QEMU starts with stay the first */
static gboolean
check_vcpu_config(const struct domain_def *def, const struct cpuset *set, GError **error)
{
    g_autoptr(GArray) ids = selected_vcpus(def, set, "persistent", error);
    if (!ids)
        return FALSE;
    unsigned first = g_array_index(ids, unsigned, 0);
    if (first == 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "vCPU '0' can't be modified");
        return FALSE;
    }
    for (unsigned i = first + 1; i < def->vcpus; i++) {
        if (!cpuset_has(set, i) && domain_def_vcpu_online(def, i) &&
            !domain_def_vcpu_hotpluggable(def, i)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "vcpu '%u' can't be modified as it is followed by non-hotpluggable online "
                    "vcpus",
                    first);
            return FALSE;
        }
    }
    return TRUE;
}

void
core_domain_set_vcpu(struct domain *dom, const char *map, gboolean online, unsigned flags,
                     core_done_fn done, gpointer data)
{
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    struct cpuset set;
    if (core_domain_impact(dom, flags, &live, &config, &error) && cpuset_parse(map, &set, &error) &&
        (!live || check_vcpu_live(dom->def, &set, online, &error)) &&
        (!config || check_vcpu_config(core_persistent_def(dom), &set, &error)) && !live) {
        /* the configuration only; a live change applies it once the vCPU is there */
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        for (unsigned i = 0; i < copy->vcpus; i++)
            if (cpuset_has(&set, i))
                domain_def_vcpu_set(copy, i, online);
        core_domain_keep_config(dom, copy, &error);
        done(error, data);
        g_clear_error(&error);
        return;
    }
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    struct vcpu_op *op = vcpu_op_new(dom, flags, config);
    op->single = TRUE;
    op->online = online;
    while (!cpuset_has(&set, op->id))
        op->id++;
    vcpu_run(op, done, data);
}

/* --- memory --- */

struct mem_request {
    struct domain *dom;
    guint64 kib;
    int period; /* the statistics period being set */
    gboolean config;
    core_done_fn done;
    gpointer data;
};

static void
mem_request_end(struct mem_request *m, GError *error)
{
    m->done(error, m->data);
    core_domain_unref(m->dom);
    g_free(m);
}

static void
on_balloon(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct mem_request *m = data;
    GError *e = error ? g_error_copy(error) : NULL;
    struct domain *dom = core_domain_ref(m->dom);
    gboolean changed = !e;
    if (changed) {
        dom->def->current_memory_kib = m->kib;
        dom->balloon_kib = 0; /* the guest moves toward it: BALLOON_CHANGE says where */
        if (m->config) {
            struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
            copy->current_memory_kib = MIN(m->kib, copy->memory_kib);
            core_domain_keep_config(dom, copy, &e);
        }
    }
    mem_request_end(m, e);
    /* the status after the answer, as libvirt's BALLOON_CHANGE handler writes it: it only
     * records a target QEMU already holds, and its rename over the old file can take
     * milliseconds on ext4. A crash in between leaves the old target in the live XML; the
     * balloon's real size (query-balloon, the statistics) stays right. */
    if (changed)
        live_changed(dom);
    core_domain_unref(dom);
    g_clear_error(&e);
}

void
core_domain_set_memory(struct domain *dom, guint64 kib, unsigned flags, core_done_fn done,
                       gpointer data)
{
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    if (core_domain_impact(dom, flags, &live, &config, &error)) {
        const struct domain_def *pdef = core_persistent_def(dom);
        if (kib == 0) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "memory size must be above 0");
        } else if (flags & MEM_MAXIMUM) {
            if (live)
                err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                        "cannot resize the maximum memory on an active domain; use --config");
        } else if (config && kib > pdef->memory_kib) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "cannot set memory higher than max memory (%" G_GUINT64_FORMAT
                    " KiB) of the persistent domain",
                    pdef->memory_kib);
        } else if (live && kib > dom->def->memory_kib) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "cannot set memory higher than max memory (%" G_GUINT64_FORMAT " KiB)",
                    dom->def->memory_kib);
        } else if (live && !domain_def_has_balloon(dom->def)) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "domain '%s' has no memory balloon to change its memory live; add "
                    "<memballoon model='virtio'/>",
                    dom->def->name);
        }
    }
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    if (!live) {
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        if (flags & MEM_MAXIMUM) {
            copy->memory_kib = kib;
            copy->current_memory_kib = MIN(copy->current_memory_kib, kib);
        } else {
            copy->current_memory_kib = kib;
        }
        core_domain_keep_config(dom, copy, &error);
        done(error, data);
        g_clear_error(&error);
        return;
    }
    struct mem_request *m = g_new0(struct mem_request, 1);
    m->dom = core_domain_ref(dom);
    m->kib = kib;
    m->config = config;
    m->done = done;
    m->data = data;
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "value", (gint64)(kib * 1024));
    qmp_command(dom->mon, "balloon", args, on_balloon, m);
}

/* --- the guest's view --- */

struct guest_count {
    struct domain *dom;
    void (*done)(GError *error, int online, gpointer data);
    gpointer data;
};

static void
on_guest_count(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct guest_count *g = data;
    JsonArray *cpus = error ? NULL : qemu_json_node_array(result);
    int online = 0;
    for (guint i = 0; cpus && i < json_array_get_length(cpus); i++) {
        JsonObject *o = qemu_json_element_object(cpus, i);
        online += o && qemu_json_bool(o, "online", FALSE);
    }
    g->done((GError *)error, online, g->data);
    core_domain_unref(g->dom);
    g_free(g);
}

void
core_domain_guest_vcpus(struct domain *dom, void (*done)(GError *error, int online, gpointer data),
                        gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        done(error, 0, data);
        g_error_free(error);
        return;
    }
    struct guest_count *g = g_new0(struct guest_count, 1);
    g->dom = core_domain_ref(dom);
    g->done = done;
    g->data = data;
    agent_command(ag, "guest-get-vcpus", NULL, 0, on_guest_count, g);
}

/* --- virDomainGetGuestVcpus / SetGuestVcpus: the guest's own vCPU map through its agent --- */

struct guest_map {
    struct domain *dom;
    gboolean set;
    struct cpuset want; /* set: the vCPUs to change */
    gboolean online;    /* set: to online (else offline) */
    core_value_fn got;  /* get: a GPtrArray of typed params */
    core_done_fn done;  /* set */
    gpointer data;
};

static void
guest_map_end(struct guest_map *g, GError *error, GPtrArray *params)
{
    if (g->set)
        g->done(error, g->data);
    else
        g->got(error, params, g->data);
    g_clear_error(&error);
    core_domain_unref(g->dom);
    g_free(g);
}

static void
on_guest_map_set(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    guest_map_end(data, error ? g_error_copy(error) : NULL, NULL);
}

static void
on_guest_map(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct guest_map *g = data;
    JsonArray *cpus = error ? NULL : qemu_json_node_array(result);
    if (!cpus) {
        GError *e = error ? g_error_copy(error) : NULL;
        if (!e)
            err_set(&e, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                    "the guest agent of '%s' sent no vCPU list", g->dom->def->name);
        guest_map_end(g, e, NULL);
        return;
    }
    struct cpuset all = {0}, online = {0}, offlinable = {0};
    for (guint i = 0; i < json_array_get_length(cpus); i++) {
        JsonObject *c = qemu_json_element_object(cpus, i);
        gint64 id = c ? qemu_json_int_or(c, "logical-id", -1) : -1;
        if (id < 0 || id >= CPUSET_MAX)
            continue;
        all.bits[id / 8] |= 1u << (id % 8);
        if (qemu_json_bool(c, "online", FALSE))
            online.bits[id / 8] |= 1u << (id % 8);
        if (qemu_json_bool(c, "can-offline", FALSE))
            offlinable.bits[id / 8] |= 1u << (id % 8);
    }
    if (!g->set) {
        GPtrArray *params = typed_params_new();
        const struct cpuset *maps[] = {&all, &online, &offlinable};
        const char *names[] = {"vcpus", "online", "offlinable"};
        for (int i = 0; i < 3; i++) {
            g_autofree char *text = cpuset_format(maps[i]);
            typed_params_add_string(params, names[i], text);
        }
        guest_map_end(g, NULL, params);
        return;
    }
    JsonArray *set = json_array_new();
    GError *e = NULL;
    for (guint id = 0; id < CPUSET_MAX && !e; id++) {
        if (!cpuset_has(&g->want, id))
            continue;
        if (!cpuset_has(&all, id))
            err_set(&e, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "vCPU %u is not present in the guest of '%s'; 'guestvcpus' lists them", id,
                    g->dom->def->name);
        else if (!g->online && !cpuset_has(&offlinable, id))
            err_set(&e, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "vCPU %u of the guest of '%s' cannot be taken offline", id, g->dom->def->name);
        else if (cpuset_has(&online, id) != g->online) {
            JsonObject *o = json_object_new();
            json_object_set_int_member(o, "logical-id", id);
            json_object_set_boolean_member(o, "online", g->online);
            json_array_add_object_element(set, o);
        }
    }
    if (e || json_array_get_length(set) == 0) {
        json_array_unref(set);
        guest_map_end(g, e, NULL);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "vcpus", set);
    agent_command(ag, "guest-set-vcpus", args, 0, on_guest_map_set, g);
}

static void
guest_map_start(struct domain *dom, struct guest_map *g)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        guest_map_end(g, error, NULL);
        return;
    }
    agent_command(ag, "guest-get-vcpus", NULL, 0, on_guest_map, g);
}

void
core_domain_get_guest_vcpus(struct domain *dom, core_value_fn done, gpointer data)
{
    struct guest_map *g = g_new0(struct guest_map, 1);
    g->dom = core_domain_ref(dom);
    g->got = done;
    g->data = data;
    guest_map_start(dom, g);
}

void
core_domain_set_guest_vcpus(struct domain *dom, const char *map, gboolean online, core_done_fn done,
                            gpointer data)
{
    struct guest_map *g = g_new0(struct guest_map, 1);
    g->dom = core_domain_ref(dom);
    g->set = TRUE;
    g->online = online;
    g->done = done;
    g->data = data;
    GError *error = NULL;
    if (!cpuset_parse(map, &g->want, &error)) {
        guest_map_end(g, error, NULL);
        return;
    }
    guest_map_start(dom, g);
}

/* --- the balloon's statistics period --- */

static void
on_period_set(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct mem_request *m = data;
    if (!error)
        m->dom->balloon_period = m->period; /* the guest's statistics are worth asking now */
    mem_request_end(m, (GError *)error);
}

void
core_domain_set_memory_stats_period(struct domain *dom, int period, unsigned flags,
                                    core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (period < 0) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "invalid statistics period %d: give seconds, 0 to stop", period);
    } else if (flags & AFFECT_CONFIG) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "a statistics period in the configuration (<memballoon><stats period>) is not "
                "supported yet; set it on the running domain (--live)");
    } else if (!state_is_active(dom->state) || !dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
    } else if (!domain_def_has_balloon(dom->def)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has no memory balloon; add <memballoon model='virtio'/>",
                dom->def->name);
    }
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    JsonObject *args = json_object_new();
    g_autofree char *path =
        g_strdup_printf("/machine/peripheral/%s", dom->def->memballoon->info.alias);
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "guest-stats-polling-interval");
    json_object_set_int_member(args, "value", period);
    struct mem_request *m = g_new0(struct mem_request, 1);
    m->dom = core_domain_ref(dom);
    m->period = period;
    m->done = done;
    m->data = data;
    qmp_command(dom->mon, "qom-set", args, on_period_set, m);
}
