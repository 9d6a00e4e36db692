/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iothread: a domain's IOThreads, as virDomainGetIOThreadInfo, virDomainPinIOThread,
 * virDomainAddIOThread, virDomainDelIOThread and virDomainSetIOThreadParams change them;
 * prefix core_domain_ (the API) and iothread_. Live: QEMU's iothread objects (object-add,
 * object-del, qom-set of their polling) as a job, and the affinity of their threads
 * (found by name, "IO iothreadN"); config: <iothreadids> and <iothreadpin>. */
#include <sched.h>
#include <string.h>

#include "core/core.h"
#include "core/pin.h"
#include "qemu/device.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

#define ORIGIN ERR_FROM_DOMAIN

/* the CPUs of IOThread T: its thread's affinity (live), else its pin, else <vcpu cpuset>,
 * else every CPU of the host */
static void
cpus_of(struct domain *dom, const struct iothread_def *t, gboolean live, struct cpuset *ret)
{
    int tid = live ? core_pin_iothread_tid(dom, t->id) : -1;
    cpu_set_t mask;
    if (tid > 0 && sched_getaffinity(tid, sizeof(mask), &mask) == 0) {
        memset(ret, 0, sizeof(*ret));
        for (guint c = 0; c < CPU_SETSIZE && c < CPUSET_MAX; c++)
            if (CPU_ISSET(c, &mask))
                ret->bits[c / 8] |= (guint8)(1u << (c % 8));
        return;
    }
    const struct domain_def *def = live ? dom->def : core_persistent_def(dom);
    GError *e = NULL;
    if (t->cpuset && cpuset_parse(t->cpuset, ret, &e))
        return;
    g_clear_error(&e);
    if (def->vcpu_cpuset && cpuset_parse(def->vcpu_cpuset, ret, &e))
        return;
    g_clear_error(&e);
    core_pin_host_cpus(ret);
}

gboolean
core_domain_iothread_info(struct domain *dom, unsigned flags, GArray **ret_ids, GArray **ret_cpus,
                          GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    if (live && config) {
        err_set(error, ORIGIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive; ask for one at a time");
        return FALSE;
    }
    const struct domain_def *def = live ? dom->def : core_persistent_def(dom);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
    GArray *cpus = g_array_new(FALSE, TRUE, sizeof(struct cpuset));
    for (guint i = 0; i < def->iothreads->len; i++) {
        const struct iothread_def *t = def->iothreads->pdata[i];
        struct cpuset set;
        cpus_of(dom, t, live, &set);
        g_array_append_val(ids, t->id);
        g_array_append_val(cpus, set);
    }
    *ret_ids = ids;
    *ret_cpus = cpus;
    return TRUE;
}

gboolean
core_domain_pin_iothread(struct domain *dom, unsigned id, const struct cpuset *set, unsigned flags,
                         GError **error)
{
    gboolean live = FALSE, config = FALSE, any = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    for (guint c = 0; c < CPUSET_MAX && !any; c++)
        any = cpuset_has(set, c);
    if (!any) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "Empty iothread cpumap list for pinning");
        return FALSE;
    }
    g_autofree char *text = cpuset_format(set);
    g_autoptr(domain_def) copy = config ? domain_def_copy(core_persistent_def(dom)) : NULL;
    struct iothread_def *lt = live ? domain_def_iothread_find(dom->def, id) : NULL;
    struct iothread_def *ct = config ? domain_def_iothread_find(copy, id) : NULL;
    if ((live && !lt) || (config && !ct)) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "iothread %u not found; see iothreadinfo", id);
        return FALSE;
    }
    if (live) {
        int tid = core_pin_iothread_tid(dom, id);
        g_autofree char *what = g_strdup_printf("IOThread %u", id);
        if (tid <= 0) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "the thread of IOThread %u of domain '%s' is not found", id, dom->def->name);
            return FALSE;
        }
        if (!core_pin_thread(dom, tid, set, what, error))
            return FALSE;
        g_free(lt->cpuset);
        lt->cpuset = g_strdup(text);
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    if (config) {
        g_free(ct->cpuset);
        ct->cpuset = g_strdup(text);
        return core_domain_keep_config(dom, g_steal_pointer(&copy), error);
    }
    return TRUE;
}

/* --- add, delete, polling: QMP as a job --- */

enum iothread_kind { IOTHREAD_ADD, IOTHREAD_DEL, IOTHREAD_SET };

struct iothread_op {
    struct domain *dom; /* a reference */
    enum iothread_kind kind;
    unsigned id;
    gboolean live, config;
    struct core_iothread_poll poll;
    guint pending;
    GError *error; /* the first QMP failure */
};

static void
iothread_op_free(gpointer data)
{
    struct iothread_op *op = data;
    g_clear_error(&op->error);
    core_domain_unref(op->dom);
    g_free(op);
}

static void
on_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct iothread_op *op = job->data;
    if (error && !op->error)
        op->error = g_error_copy(error);
    if (--op->pending == 0 && !job->finished) {
        if (op->error)
            job_fail(job, g_steal_pointer(&op->error));
        else
            job_next(job);
    }
    job_unref(job);
}

static void
iothread_send(struct job *job, const char *cmd, JsonObject *args)
{
    struct iothread_op *op = job->data;
    op->pending++;
    qmp_command(op->dom->mon, cmd, args, on_reply, job_ref(job));
}

static void
qom_set(struct job *job, const char *prop, gint64 value)
{
    struct iothread_op *op = job->data;
    g_autofree char *path = g_strdup_printf("/objects/iothread%u", op->id);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", prop);
    json_object_set_int_member(args, "value", value);
    iothread_send(job, "qom-set", args);
}

static void
live_step(struct job *job)
{
    struct iothread_op *op = job->data;
    struct domain *dom = op->dom;
    if (!op->live) {
        job_next(job);
        return;
    }
    if (!dom->mon || !state_is_active(dom->state)) {
        GError *e = NULL;
        err_set(&e, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running", dom->def->name);
        job_fail(job, e);
        return;
    }
    op->pending = 1; /* until everything is sent */
    if (op->kind == IOTHREAD_ADD) {
        iothread_send(job, "object-add", qemu_device_iothread(op->id));
    } else if (op->kind == IOTHREAD_DEL) {
        g_autofree char *id = g_strdup_printf("iothread%u", op->id);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", id);
        iothread_send(job, "object-del", args);
    } else {
        if (op->poll.given & CORE_IOTHREAD_POLL_MAX_NS)
            qom_set(job, "poll-max-ns", (gint64)op->poll.max_ns);
        if (op->poll.given & CORE_IOTHREAD_POLL_GROW)
            qom_set(job, "poll-grow", op->poll.grow);
        if (op->poll.given & CORE_IOTHREAD_POLL_SHRINK)
            qom_set(job, "poll-shrink", op->poll.shrink);
    }
    job_ref(job);
    on_reply(NULL, NULL, NULL, job);
}

static void
apply(struct domain_def *def, const struct iothread_op *op)
{
    if (op->kind == IOTHREAD_ADD) {
        domain_def_iothread_add(def, op->id, FALSE);
        return;
    }
    for (guint i = 0; op->kind == IOTHREAD_DEL && i < def->iothreads->len; i++) {
        if (((struct iothread_def *)def->iothreads->pdata[i])->id == op->id) {
            g_ptr_array_remove_index(def->iothreads, i);
            break;
        }
    }
    /* what a count keeps: the ids are now all as given */
    for (guint i = 0; i < def->iothreads->len; i++)
        ((struct iothread_def *)def->iothreads->pdata[i])->autofill = FALSE;
}

static void
iothread_finish(struct job *job, const GError *error)
{
    struct iothread_op *op = job->data;
    struct domain *dom = op->dom;
    if (error)
        return;
    if (op->live && op->kind != IOTHREAD_SET) {
        apply(dom->def, op);
        dom->updated = TRUE;
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    if (op->config) {
        GError *e = NULL;
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        apply(copy, op);
        if (!core_domain_keep_config(dom, copy, &e))
            job_set_error(job, e);
    }
}

static void
iothread_abort(struct job *job)
{
    struct iothread_op *op = job->data;
    GError *e = NULL;
    err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
            op->dom->def->name);
    job_fail(job, e);
}

static const struct job_step iothread_steps[] = {
    {"iothread", live_step},
    {NULL, NULL},
};

static const struct job_pipeline iothread_pipeline = {
    .steps = iothread_steps,
    .finish = iothread_finish,
    .abort = iothread_abort,
};

/* The request checked against the definitions it changes (libvirt's rules and messages). */
static gboolean
check(struct domain *dom, const struct iothread_op *op, GError **error)
{
    if (op->id == 0) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "invalid value of 0 for iothread_id");
        return FALSE;
    }
    const struct domain_def *defs[2] = {op->live ? dom->def : NULL,
                                        op->config ? core_persistent_def(dom) : NULL};
    for (int k = 0; k < 2; k++) {
        const struct domain_def *def = defs[k];
        if (!def)
            continue;
        gboolean has = domain_def_iothread_find(def, op->id) != NULL;
        if (op->kind == IOTHREAD_ADD && has) {
            err_set(error, ORIGIN, ERR_INVALID_ARG, "an IOThread is already using iothread_id '%u'",
                    op->id);
            return FALSE;
        }
        if (op->kind != IOTHREAD_ADD && !has) {
            err_set(error, ORIGIN, ERR_INVALID_ARG, "cannot find IOThread '%u' in iothreadids list",
                    op->id);
            return FALSE;
        }
        if (op->kind == IOTHREAD_ADD && def->iothreads->len >= DOMAIN_DEF_IOTHREADS_MAX) {
            err_set(error, ORIGIN, ERR_INVALID_ARG, "domain '%s' has %d IOThreads already",
                    dom->def->name, DOMAIN_DEF_IOTHREADS_MAX);
            return FALSE;
        }
        for (guint i = 0; op->kind == IOTHREAD_DEL && i < def->disks->len; i++) {
            const struct disk_def *d = def->disks->pdata[i];
            if (d->iothread == op->id) {
                err_set(error, ORIGIN, ERR_INVALID_ARG,
                        "cannot remove IOThread %u since it is being used by disk '%s'", op->id,
                        d->target_dev);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static void
run(struct domain *dom, enum iothread_kind kind, unsigned id, unsigned flags,
    const struct core_iothread_poll *poll, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct iothread_op *op = g_new0(struct iothread_op, 1);
    op->dom = core_domain_ref(dom);
    op->kind = kind;
    op->id = id;
    if (poll)
        op->poll = *poll;
    if (!core_domain_impact(dom, flags, &op->live, &op->config, &error) ||
        !check(dom, op, &error)) {
        iothread_op_free(op);
        done(error, data);
        g_clear_error(&error);
        return;
    }
    job_acquire_run(&dom->jobs, JOB_MODIFY, &iothread_pipeline, dom->core->job_wait_ms, op,
                    iothread_op_free, done, data);
}

void
core_domain_add_iothread(struct domain *dom, unsigned id, unsigned flags, core_done_fn done,
                         gpointer data)
{
    run(dom, IOTHREAD_ADD, id, flags, NULL, done, data);
}

void
core_domain_del_iothread(struct domain *dom, unsigned id, unsigned flags, core_done_fn done,
                         gpointer data)
{
    run(dom, IOTHREAD_DEL, id, flags, NULL, done, data);
}

void
core_domain_set_iothread_params(struct domain *dom, unsigned id,
                                const struct core_iothread_poll *poll, unsigned flags,
                                core_done_fn done, gpointer data)
{
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    if (core_domain_impact(dom, flags, &live, &config, &error) && config)
        err_set(&error, ORIGIN, ERR_OPERATION_INVALID,
                "configuring persistent polling values is not supported");
    else if (!error && !live)
        err_set(&error, ORIGIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
    if (error) {
        done(error, data);
        g_error_free(error);
        return;
    }
    run(dom, IOTHREAD_SET, id, flags, poll, done, data);
}
