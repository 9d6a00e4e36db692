/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lifecycle: stop and the other state-changing operations of a running QEMU (start is in
 * start.c), each a job of the engine (job.c) holding the domain, and what QMP events and process
 * exit mean for a domain. QEMU runs with -no-shutdown: a guest power-off leaves it paused and we
 * decide (quit, fake reboot, restart). Every state change goes through the transition table. */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "core/blockjob.h"
#include "core/guest.h"
#include "core/hostdev.h"
#include "core/lifecycle.h"
#include "core/migrate.h"
#include "core/qos.h"
#include "core/migration.h"
#include "core/snapshot.h"
#include "core/network.h"
#include "core/storage.h"
#include "qemu/address.h"
#include "qemu/agent.h"
#include "qemu/alias.h"
#include "qemu/caps.h"
#include "qemu/command.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "qemu/process.h"
#include "storage/chain.h"
#include "util/cpuset.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"
#include "util/procstat.h"

#define DESTROY_KILL_AFTER_MS 10000

struct waiter {
    core_done_fn done;
    gpointer data;
};

void
lifecycle_done(core_done_fn done, gpointer data, GError *error)
{
    if (done)
        done(error, data);
}

void
lifecycle_fail(core_done_fn done, gpointer data, GError *error)
{
    lifecycle_done(done, data, error);
    g_error_free(error);
}

static gboolean
require_active(struct domain *dom, GError **error)
{
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        return FALSE;
    }
    return TRUE;
}

char *
lifecycle_log_path(struct domain *dom)
{
    return g_strdup_printf("%s/%s.log", dom->core->paths.log_dir, dom->def->name);
}

/* "QEMU …: <last lines of its log>" */
void
lifecycle_append_log_tail(struct domain *dom, GError *error)
{
    g_autofree char *path = lifecycle_log_path(dom);
    g_autofree char *tail = file_tail_from(path, dom->log_offset, 5);
    if (tail && *tail) {
        g_autofree char *msg =
            g_strdup_printf("%s; QEMU log (%s) ends with: %s", error->message, path, tail);
        g_free(error->message);
        error->message = g_steal_pointer(&msg);
    }
}

/* Whether the QEMU process has exited (its pidfd is readable). */
gboolean
lifecycle_process_gone(struct domain *dom)
{
    if (dom->exited || dom->pidfd < 0)
        return TRUE;
    struct pollfd p = {.fd = dom->pidfd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* Kills a QEMU and reaps it: it is our child and SIGKILL takes effect at once, so the wait on
 * its pidfd is short (and bounded). */
void
lifecycle_kill_and_reap(struct domain *dom)
{
    if (dom->pidfd < 0 || dom->exited)
        return;
    if (qemu_process_kill_wait(dom->pidfd, 5000)) {
        int status;
        qemu_process_reap(dom->pid, &status);
        dom->exited = TRUE;
    }
}

/* --- the end of a run --- */

/* Releases everything a running domain holds and turns it shut off by INPUT (an IN_STOPPED_*
 * one, or IN_START_FAILED for a start that never completed: no events then). Callers waiting
 * for the exit hear back: the first destroy succeeds, later ones find it not running. */
void
lifecycle_stopped(struct domain *dom, enum dom_input input)
{
    struct core *core = dom->core;
    core_domain_ref(dom);
    migration_detach(dom);
    g_clear_pointer(&dom->mon, qmp_free);
    g_clear_pointer(&dom->agent, agent_free);
    if (dom->pid_watch)
        g_source_remove(dom->pid_watch);
    dom->pid_watch = 0;
    if (dom->destroy_timer)
        g_source_remove(dom->destroy_timer);
    dom->destroy_timer = 0;
    file_close_fd(&dom->pidfd);
    file_close_fd(&dom->stat_fd);
    if (dom->monitor_path)
        unlink(dom->monitor_path);
    for (guint i = 0; i < dom->def->channels->len; i++) {
        struct chr_def *ch = dom->def->channels->pdata[i];
        if (ch->type == CHR_TYPE_UNIX && !ch->source_path) {
            g_autofree char *p = qemu_command_channel_path(dom->def, ch, core->paths.channel_dir);
            unlink(p);
        }
    }
    g_clear_pointer(&dom->monitor_path, g_free);
    g_clear_pointer(&dom->emulator, g_free);
    g_ptr_array_set_size(dom->messages, 0);
    if (dom->id >= 0)
        g_hash_table_remove(core->by_id, GINT_TO_POINTER(dom->id));
    dom->pid = 0;
    dom->fake_reboot = FALSE;
    dom->autodestroy = FALSE;
    dom->autodestroy_owner = NULL;
    dom->stop_input = IN_STOPPED_FAILED;
    dom->vcpus_created = 0;
    dom->postcopy_in = FALSE;
    core_block_jobs_stopped(dom);
    g_clear_pointer(&dom->vcpu_tids, g_array_unref);
    g_clear_pointer(&dom->dirtyrate, json_node_unref);
    core_qos_stop(dom);
    core_perf_stop(dom);
    core_hostdev_release(dom);
    for (guint i = 0; i < dom->def->nets->len; i++)
        core_network_unplug(core, dom->def->nets->pdata[i]);
    dom->balloon_kib = 0;
    dom->balloon_period = 0;
    /* a start that never completed ends without events: no STOPPED without a STARTED */
    if (!dom->announced && input != IN_START_FAILED)
        input = IN_START_FAILED;
    /* the event still carries the id the domain had; the config is the persistent one after */
    core_domain_transition(dom, input, NULL);
    dom->announced = FALSE;
    dom->id = -1;
    if (dom->new_def) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&dom->new_def);
    }
    log_info("%s: stopped (%s)", dom->def->name, state_reason_to_string(DOM_SHUTOFF, dom->reason));

    GPtrArray *waiters = dom->exit_waiters;
    dom->exit_waiters = g_ptr_array_new();
    dom->destroying = FALSE;
    if (!dom->persistent && !dom->removed && !dom->reverting)
        core_forget(core, dom);
    for (guint i = 0; i < waiters->len; i++) {
        struct waiter *w = waiters->pdata[i];
        if (i == 0) {
            lifecycle_done(w->done, w->data, NULL);
        } else {
            GError *err = NULL;
            err_set(&err, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                    dom->def->name);
            lifecycle_fail(w->done, w->data, err);
        }
        g_free(w);
    }
    g_ptr_array_free(waiters, TRUE);
    core_domain_unref(dom);
}

static gboolean
on_process_exit(int fd, GIOCondition cond, gpointer user)
{
    struct domain *dom = user;
    int status = 0;
    gboolean known = qemu_process_reap(dom->pid, &status);
    dom->pid_watch = 0;
    dom->exited = TRUE;
    log_debug("%s: QEMU pid %d exited%s", dom->def->name, (int)dom->pid,
              known ? "" : " (not our child)");
    core_domain_ref(dom);
    /* the jobs in progress fail; a start's own end stops the domain */
    struct job *jobs[] = {dom->jobs.current, dom->jobs.aside};
    for (gsize i = 0; i < G_N_ELEMENTS(jobs); i++)
        if (jobs[i])
            job_abort(jobs[i], FALSE, NULL);
    if (dom->pid)
        lifecycle_stopped(dom, dom->stop_input);
    core_domain_unref(dom);
    return G_SOURCE_REMOVE;
}

void
lifecycle_watch_exit(struct domain *dom)
{
    dom->pid_watch = g_unix_fd_add(dom->pidfd, G_IO_IN, on_process_exit, dom);
}

static void on_qmp_event(struct qmp *mon, const char *event, JsonObject *data, gpointer user);

static void
on_qmp_closed(struct qmp *mon, const char *reason, gpointer user)
{
    struct domain *dom = user;
    log_debug("%s: monitor closed: %s", dom->def->name, reason);
    /* the process exit (pidfd) decides the new state; a QEMU that closed its monitor but
     * lives on is killed so it cannot linger unmanaged */
    if (dom->pidfd >= 0)
        qemu_process_signal(dom->pidfd, SIGKILL, NULL);
}

void
lifecycle_attach_monitor(struct domain *dom, int fd)
{
    struct qmp_callbacks cb = {.event = on_qmp_event, .closed = on_qmp_closed};
    dom->mon = qmp_new(fd, dom->def->name, &cb, dom, dom->core->monitor_timeout_ms);
}

/* --- QMP events --- */

static void
on_dump_done(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    char *path = data;
    if (error)
        log_warn("crash dump to '%s' failed: %s", path, error->message);
    else
        log_info("crash dump written to '%s'", path);
    g_free(path);
}

/* on_crash coredump-*: the guest's memory as an ELF core in the state directory. QMP runs
 * commands in order, so the reset or quit queued after this waits for the dump. */
static void
dump_core(struct domain *dom)
{
    g_autofree char *dir = g_build_filename(dom->core->paths.state_dir, "dump", NULL);
    g_autoptr(GError) err = NULL;
    if (!file_mkdir_p(dir, 0700, &err)) {
        log_warn("%s: no crash dump: %s", dom->def->name, err->message);
        return;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    char *path = g_strdup_printf("%s/%s-%s.core", dir, dom->def->name, stamp);
    JsonObject *args = json_object_new();
    json_object_set_boolean_member(args, "paging", FALSE);
    g_autofree char *protocol = g_strconcat("file:", path, NULL);
    json_object_set_string_member(args, "protocol", protocol);
    qmp_command(dom->mon, "dump-guest-memory", args, on_dump_done, path);
}

/* What a guest power-off, reboot or panic leads to. CRASHED tells a panic (on_crash) from a
 * power-off (on_poweroff / on_reboot). */
static void
apply_action(struct domain *dom, enum domain_action action, gboolean crashed)
{
    if (crashed &&
        (action == DOMAIN_ACTION_COREDUMP_DESTROY || action == DOMAIN_ACTION_COREDUMP_RESTART))
        dump_core(dom);
    switch (action) {
    case DOMAIN_ACTION_RESTART:
    case DOMAIN_ACTION_RENAME_RESTART:
    case DOMAIN_ACTION_COREDUMP_RESTART:
        qmp_command(dom->mon, "system_reset", NULL, NULL, NULL);
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        core_domain_transition(dom, IN_RESTARTED, NULL);
        break;
    case DOMAIN_ACTION_PRESERVE:
        /* a panicked guest stays crashed; a powered-off one stays paused */
        if (!crashed)
            core_domain_transition(dom, IN_POWEROFF_KEPT, NULL);
        break;
    case DOMAIN_ACTION_DESTROY:
    case DOMAIN_ACTION_COREDUMP_DESTROY:
        dom->stop_input = crashed ? IN_STOPPED_CRASHED : IN_STOPPED_SHUTDOWN;
        qmp_command(dom->mon, "quit", NULL, NULL, NULL);
        break;
    }
}

/* --- a job's pause --- */

struct pause_req {
    struct job *job;
    struct domain *dom;
    struct lifecycle_pause *p; /* in the job's data */
};

static void
on_job_paused(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct pause_req *r = data;
    struct job *job = r->job;
    if (error) {
        job_fail(job, g_error_copy(error));
    } else if (!job->finished) {
        r->p->paused = TRUE;
        core_domain_transition(r->dom, r->p->input, NULL);
        if (r->p->abort_asked)
            job_fail(job, job_aborted_error(job, ERR_FROM_DOMAIN));
        else
            job_next(job);
    }
    job_unref(job);
    g_free(r);
}

void
lifecycle_pause_step(struct job *job, struct domain *dom, struct lifecycle_pause *p)
{
    if (dom->state != DOM_RUNNING) {
        job_next(job);
        return;
    }
    struct pause_req *r = g_new0(struct pause_req, 1);
    r->job = job_ref(job);
    r->dom = dom;
    r->p = p;
    qmp_command(dom->mon, "stop", NULL, on_job_paused, r);
}

/* --- set-lifecycle-action --- */

struct action_change {
    struct domain *dom;
    int type; /* CORE_LIFECYCLE_* */
    enum domain_action action;
    gboolean live, config;
    core_done_fn done;
    gpointer data;
};

static enum domain_action *
action_of(struct domain_def *def, int type)
{
    return type == CORE_LIFECYCLE_POWEROFF ? &def->on_poweroff
           : type == CORE_LIFECYCLE_REBOOT ? &def->on_reboot
                                           : &def->on_crash;
}

/* QEMU took the live change (or needed none): the definitions follow */
static void
action_changed(struct action_change *c, const GError *qemu_error)
{
    struct domain *dom = c->dom;
    GError *error = NULL;
    if (qemu_error) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "QEMU of domain '%s' did not take the new reboot action: %s", dom->def->name,
                qemu_error->message);
    } else if (c->live) {
        *action_of(dom->def, c->type) = c->action;
        dom->updated = TRUE;
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    if (!error && c->config) {
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        *action_of(copy, c->type) = c->action;
        core_domain_keep_config(dom, copy, &error);
    }
    if (error)
        lifecycle_fail(c->done, c->data, error);
    else
        lifecycle_done(c->done, c->data, NULL);
    core_domain_unref(dom);
    g_free(c);
}

static void
on_set_action(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    action_changed(data, error);
}

void
core_domain_set_lifecycle_action(struct domain *dom, int type, int action, unsigned flags,
                                 core_done_fn done, gpointer data)
{
    /* virDomainLifecycleAction's order, ours */
    static const enum domain_action actions[] = {
        DOMAIN_ACTION_DESTROY,  DOMAIN_ACTION_RESTART,          DOMAIN_ACTION_RENAME_RESTART,
        DOMAIN_ACTION_PRESERVE, DOMAIN_ACTION_COREDUMP_DESTROY, DOMAIN_ACTION_COREDUMP_RESTART,
    };
    static const char *const types[] = {"poweroff", "reboot", "crash"};
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    if (type < 0 || type > CORE_LIFECYCLE_CRASH || action < 0 ||
        action >= (int)G_N_ELEMENTS(actions)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unknown lifecycle event %d or action %d",
                type, action);
    } else if (type != CORE_LIFECYCLE_CRASH && actions[action] > DOMAIN_ACTION_RENAME_RESTART) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "lifecycle event '%s' doesn't support '%s' action; the coredump actions are "
                "for 'crash'",
                types[type], domain_action_to_string(actions[action]));
    } else if (actions[action] == DOMAIN_ACTION_RENAME_RESTART) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "lifecycle action 'rename-restart' is not supported for QEMU guests");
    }
    if (error || !core_domain_impact(dom, flags, &live, &config, &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    struct action_change *c = g_new0(struct action_change, 1);
    c->dom = core_domain_ref(dom);
    c->type = type;
    c->action = actions[action];
    c->live = live;
    c->config = config;
    c->done = done;
    c->data = data;
    log_info("%s: on_%s %s%s%s", dom->def->name, types[type], domain_action_to_string(c->action),
             live ? " (live)" : "", config ? " (config)" : "");
    gboolean was_restart = dom->def->on_reboot == DOMAIN_ACTION_RESTART;
    if (live && type == CORE_LIFECYCLE_REBOOT &&
        was_restart != (c->action == DOMAIN_ACTION_RESTART)) {
        /* QEMU resets the guest itself or, as with -no-reboot, reports a shutdown */
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "reboot",
                                      c->action == DOMAIN_ACTION_RESTART ? "reset" : "shutdown");
        qmp_command(dom->mon, "set-action", args, on_set_action, c);
        return;
    }
    action_changed(c, NULL);
}

static void
on_reset_cont(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct domain *dom = data;
    dom->resetting = FALSE;
    dom->reset_reported = FALSE;
    core_domain_unref(dom);
}

static void
on_shutdown_event(struct domain *dom, JsonObject *data)
{
    const char *reason = qemu_json_string(data, "reason");
    if (!reason)
        reason = "";
    gboolean guest = qemu_json_bool(data, "guest", FALSE);
    if (dom->stop_input != IN_STOPPED_FAILED)
        return; /* our own SIGTERM or quit: the exit decides */
    if (g_str_equal(reason, "host-signal")) {
        /* someone else signalled QEMU; it exits on its own whatever -no-shutdown says */
        dom->stop_input = IN_STOPPED_SHUTDOWN;
        core_domain_transition(dom, IN_HOST_SHUTDOWN, NULL);
        return;
    }
    if (dom->fake_reboot) {
        /* libvirt-style ACPI reboot: the guest powered off; reset and run it again. QEMU
         * stops the vCPUs meanwhile (-no-shutdown): the domain stays running throughout */
        dom->fake_reboot = FALSE;
        dom->resetting = TRUE;
        qmp_command(dom->mon, "system_reset", NULL, NULL, NULL);
        qmp_command(dom->mon, "cont", NULL, on_reset_cont, core_domain_ref(dom));
        return;
    }
    core_domain_transition(dom, guest ? IN_GUEST_SHUTDOWN : IN_HOST_SHUTDOWN, NULL);
    /* with -no-reboot a guest reboot arrives here as a guest-reset shutdown */
    enum domain_action action =
        g_str_equal(reason, "guest-reset") ? dom->def->on_reboot : dom->def->on_poweroff;
    apply_action(dom, action, FALSE);
}

static gboolean
job_is(struct domain *dom, enum job_type type)
{
    return dom->jobs.current && dom->jobs.current->type == type;
}

/* BLOCK_IO_ERROR: the disk (found by its node's name), libvirt's IO_ERROR and IO_ERROR_REASON
 * events, the pause it caused (policy 'stop'), and an outgoing migration with --abort-on-error
 * cancelled. */
static void
on_io_error(struct domain *dom, JsonObject *data)
{
    const char *node = data ? qemu_json_string(data, "node-name") : NULL;
    const char *action = data ? qemu_json_string(data, "action") : NULL;
    const char *why = data ? qemu_json_string(data, "reason") : NULL;
    const struct disk_def *disk = NULL;
    for (guint i = 0; node && !disk && i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        g_autofree char *format = qemu_device_node_format(d->source_index);
        g_autofree char *storage = qemu_device_node_storage(d->source_index);
        if (d->source_index && (g_str_equal(node, format) || g_str_equal(node, storage)))
            disk = d;
    }
    /* virDomainEventIOErrorAction: none (ignore), pause (stop), report */
    int act = g_strcmp0(action, "stop") == 0 ? 1 : g_strcmp0(action, "report") == 0 ? 2 : 0;
    const char *what = disk ? disk->target_dev : node ? node : "?";
    log_warn("%s: I/O error on disk '%s': %s%s", dom->def->name, what,
             why ? why : "no reason given", act == 1 ? "; QEMU paused the guest" : "");
    struct event ev = {
        .kind = EVENT_ID_IO_ERROR,
        .alias = disk && disk->info.alias ? disk->info.alias : "",
        .src_path = disk && disk->source ? disk->source : "",
        .detail = act,
        .reason = data && qemu_json_bool(data, "nospace", FALSE) ? "enospc" : "",
    };
    core_domain_emit_event(dom, &ev);
    ev.kind = EVENT_ID_IO_ERROR_REASON;
    core_domain_emit_event(dom, &ev);
    /* the STOP that follows finds it paused already (an outgoing migration ignores STOP) */
    if (act == 1 && dom->state == DOM_RUNNING)
        core_domain_transition(dom, IN_PAUSED_IOERROR, NULL);
    core_migrate_io_error(dom, what, why);
}

/* One of libvirt's events about DOM's device ALIAS (may be NULL), with EVENT, DETAIL and
 * NUMBER as struct event has them. */
static void
emit_device_event(struct domain *dom, int kind, const char *alias, int event, int detail,
                  gint64 number)
{
    struct event ev = {
        .kind = kind,
        .alias = alias,
        .event = event,
        .detail = detail,
        .number = number,
    };
    core_domain_emit_event(dom, &ev);
}

/* MEMORY_DEVICE_SIZE_CHANGE: what the guest has plugged of a virtio-mem device (its id,
 * bytes): the live XML's <current>, and libvirt's event of the same name (KiB) */
static void
memory_size_event(struct domain *dom, JsonObject *data)
{
    const char *id = qemu_json_string(data, "id");
    gint64 size = qemu_json_int_or(data, "size", -1);
    for (guint i = 0; id && size >= 0 && i < dom->def->memdevs->len; i++) {
        struct memdev_def *m = dom->def->memdevs->pdata[i];
        if (m->model != MEMDEV_VIRTIO_MEM || g_strcmp0(m->info.alias, id) != 0)
            continue;
        /* what the guest has follows (libvirt counts virtio-mem in its balloon figure) */
        uint64_t now = (uint64_t)size / 1024;
        struct domain_def *def = dom->def;
        def->current_memory_kib =
            def->current_memory_kib - MIN(m->current_kib, def->current_memory_kib) + now;
        def->current_memory_kib = MIN(def->current_memory_kib, def->memory_kib);
        m->current_kib = now;
        g_autoptr(GError) error = NULL;
        if (!core_status_write(dom, &error))
            log_warn("%s: %s", dom->def->name, error->message);
        emit_device_event(dom, EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, m->info.alias, 0, 0,
                          (gint64)m->current_kib);
        return;
    }
}

/* DEVICE_TRAY_MOVED (a CD-ROM's tray: TRAY_CHANGE), VSERPORT_CHANGE (the guest agent's port
 * opened or closed: AGENT_LIFECYCLE) and DEVICE_UNPLUG_GUEST_ERROR (the guest refused an
 * unplug: DEVICE_REMOVAL_FAILED), each naming the device by its id */
static void
device_event(struct domain *dom, const char *event, JsonObject *data)
{
    const char *id = data ? qemu_json_string(data, "id") : NULL;
    if (g_str_equal(event, "DEVICE_UNPLUG_GUEST_ERROR"))
        id = data ? qemu_json_string(data, "device") : NULL;
    const char *path = data ? qemu_json_string(data, "path") : NULL;
    if ((!id || !*id) && path && g_str_has_prefix(path, "/machine/peripheral/"))
        id = path + strlen("/machine/peripheral/");
    if (!id || !*id)
        return;
    if (g_str_equal(event, "DEVICE_TRAY_MOVED")) {
        /* virDomainEventTrayChangeReason: 0 opened, 1 closed */
        gboolean open = data && qemu_json_bool(data, "tray-open", FALSE);
        emit_device_event(dom, EVENT_ID_TRAY_CHANGE, id, 0, open ? 0 : 1, 0);
    } else if (g_str_equal(event, "VSERPORT_CHANGE")) {
        for (guint i = 0; i < dom->def->channels->len; i++) {
            const struct chr_def *ch = dom->def->channels->pdata[i];
            if (!ch->info.alias || !g_str_equal(ch->info.alias, id) ||
                g_strcmp0(ch->target_name, "org.qemu.guest_agent.0") != 0)
                continue;
            /* state 1 connected, 2 disconnected; reason 2: the channel's own event */
            gboolean open = data && qemu_json_bool(data, "open", FALSE);
            log_info("%s: guest agent %s", dom->def->name, open ? "connected" : "disconnected");
            emit_device_event(dom, EVENT_ID_AGENT_LIFECYCLE, NULL, open ? 1 : 2, 2, 0);
        }
    } else {
        log_warn("%s: the guest refused to let go of device '%s'", dom->def->name, id);
        emit_device_event(dom, EVENT_ID_DEVICE_REMOVAL_FAILED, id, 0, 0, 0);
    }
}

/* The guest's own power management: SUSPEND (S3), SUSPEND_DISK (S4, a power-off follows)
 * and WAKEUP. libvirt's PMSUSPEND, PMSUSPEND_DISK and PMWAKEUP events always go out; the
 * state changes only from running (suspend) or pmsuspended (wake-up), as libvirt's does. */
static void
pm_event(struct domain *dom, const char *event)
{
    gboolean wakeup = g_str_equal(event, "WAKEUP");
    gboolean disk = g_str_equal(event, "SUSPEND_DISK");
    log_info("%s: the guest %s", dom->def->name,
             wakeup ? "woke up"
             : disk ? "suspended to disk"
                    : "suspended to RAM");
    emit_device_event(dom,
                      wakeup ? EVENT_ID_PMWAKEUP
                      : disk ? EVENT_ID_PMSUSPEND_DISK
                             : EVENT_ID_PMSUSPEND,
                      NULL, 0, 0, 0);
    if (wakeup && dom->state == DOM_PMSUSPENDED)
        core_domain_transition(dom, IN_PM_WOKEN, NULL);
    else if (!wakeup && dom->state == DOM_RUNNING)
        core_domain_transition(dom, disk ? IN_PM_SUSPENDED_DISK : IN_PM_SUSPENDED, NULL);
    /* a guest-suspend-* in flight took effect: it never answers on success */
    if (!wakeup && dom->agent)
        agent_settle(dom->agent);
}

/* A QMP event as QEMU sent it, for clients that asked for QEMU's events
 * (virConnectDomainQemuMonitorEventRegister): its data as compact JSON, QEMU's timestamp. */
static void
emit_monitor_event(struct domain *dom, struct qmp *mon, const char *event, JsonObject *data)
{
    g_autofree char *details = NULL;
    if (data) {
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), data);
        details = json_to_string(node, FALSE);
    }
    struct event ev = {
        .object = EVENT_OBJECT_QEMU_MONITOR,
        .qemu_event = event,
        .details = details,
    };
    qmp_event_timestamp(mon, &ev.seconds, &ev.micros);
    core_domain_emit_event(dom, &ev);
}

static void
on_qmp_event(struct qmp *mon, const char *event, JsonObject *data, gpointer user)
{
    struct domain *dom = user;
    if (dom->core->qemu_monitor_listeners)
        emit_monitor_event(dom, mon, event, data);
    if (g_str_equal(event, "MIGRATION")) {
        migration_event(dom, data);
        return;
    }
    if (g_str_equal(event, "JOB_STATUS_CHANGE")) {
        snapshot_qjob_event(dom, data);
        return;
    }
    if (g_str_equal(event, "MIGRATION_PASS")) {
        core_domain_emit_migration_iteration(dom, (int)qemu_json_int_or(data, "pass", 0));
        return;
    }
    if (g_str_equal(event, "BALLOON_CHANGE")) {
        gint64 actual = qemu_json_int_or(data, "actual", -1);
        if (actual > 0) {
            dom->balloon_kib = (guint64)actual / 1024;
            emit_device_event(dom, EVENT_ID_BALLOON_CHANGE, NULL, 0, 0, actual / 1024);
        }
        return;
    }
    if (g_str_equal(event, "MEMORY_DEVICE_SIZE_CHANGE")) {
        memory_size_event(dom, data);
        return;
    }
    if (g_str_equal(event, "RTC_CHANGE")) {
        gint64 offset;
        if (data && qemu_json_int(data, "offset", &offset))
            emit_device_event(dom, EVENT_ID_RTC_CHANGE, NULL, 0, 0, offset);
        return;
    }
    if (g_str_equal(event, "BLOCK_WRITE_THRESHOLD")) {
        core_block_threshold_event(dom, data);
        return;
    }
    if (g_str_equal(event, "SUSPEND") || g_str_equal(event, "SUSPEND_DISK") ||
        g_str_equal(event, "WAKEUP")) {
        pm_event(dom, event);
        return;
    }
    if (g_str_equal(event, "DEVICE_TRAY_MOVED") || g_str_equal(event, "VSERPORT_CHANGE") ||
        g_str_equal(event, "DEVICE_UNPLUG_GUEST_ERROR")) {
        device_event(dom, event, data);
        return;
    }
    if (g_str_equal(event, "DEVICE_DELETED")) {
        /* a device with an id: "device"; else (or as well) its QOM path, the id last for
         * what sits under /machine/peripheral */
        const char *id = qemu_json_string(data, "device");
        const char *path = qemu_json_string(data, "path");
        if (!id && path && g_str_has_prefix(path, "/machine/peripheral/"))
            id = path + strlen("/machine/peripheral/");
        if (id)
            core_device_deleted(dom, id);
        return;
    }
    /* a start's or a restore's own events; QEMU's snapshot jobs stop and resume the vCPUs
     * themselves for the moment they need */
    if (job_is(dom, JOB_START) || job_is(dom, JOB_RESTORE) || job_is(dom, JOB_SNAPSHOT) ||
        job_is(dom, JOB_SNAPSHOT_REVERT) || job_is(dom, JOB_SNAPSHOT_DELETE) ||
        job_is(dom, JOB_MIGRATION_IN))
        return;
    /* an outgoing migration stops and resumes the vCPUs itself and says why (migrate_out.c),
     * and so does a dump (dump.c) */
    if ((job_is(dom, JOB_MIGRATION_OUT) || job_is(dom, JOB_DUMP)) &&
        (g_str_equal(event, "STOP") || g_str_equal(event, "RESUME")))
        return;
    if (g_str_equal(event, "SHUTDOWN")) {
        on_shutdown_event(dom, data);
    } else if (g_str_equal(event, "STOP")) {
        if (lifecycle_save_late_stop(dom))
            return;
        if (dom->state == DOM_RUNNING && !job_is(dom, JOB_SUSPEND) && !job_is(dom, JOB_SAVE) &&
            !dom->resetting && !dom->fake_reboot)
            core_domain_transition(dom, IN_PAUSED_BY_QEMU, NULL);
    } else if (g_str_equal(event, "RESUME")) {
        if (dom->state == DOM_PAUSED && !job_is(dom, JOB_RESUME))
            core_domain_transition(dom, IN_RESUMED_BY_QEMU, NULL);
    } else if (g_str_equal(event, "RESET")) {
        /* a fake reboot's reset and cont may each reset the machine: one reboot event */
        if (!dom->resetting || !dom->reset_reported)
            core_domain_emit_reboot(dom);
        dom->reset_reported = dom->resetting;
    } else if (g_str_equal(event, "GUEST_PANICKED")) {
        if (core_domain_transition(dom, IN_PANICKED, NULL))
            apply_action(dom, dom->def->on_crash, TRUE);
    } else if (g_str_equal(event, "BLOCK_IO_ERROR")) {
        on_io_error(dom, data);
    }
}

/* --- one-command operations: a job of one step --- */

/* A monitor command as one step; the finish hook applies the state change, or undoes the
 * command when the new state cannot be recorded. */
struct monitor_op {
    struct domain *dom;
    const char *command;       /* QMP command of the step */
    enum dom_input on_success; /* IN_LAST: no state change */
    const char *undo;          /* command that reverts it when the state cannot be recorded */
};

static void
monitor_op_free(gpointer data)
{
    struct monitor_op *op = data;
    core_domain_unref(op->dom);
    g_free(op);
}

static void
on_step_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    job_step_over(data, error);
}

static void
monitor_step(struct job *job)
{
    struct monitor_op *op = job->data;
    GError *error = NULL;
    if (!require_active(op->dom, &error)) {
        job_fail(job, error);
        return;
    }
    qmp_command(op->dom->mon, op->command, NULL, on_step_reply, job_ref(job));
}

static void
monitor_finish(struct job *job, const GError *error)
{
    struct monitor_op *op = job->data;
    struct domain *dom = op->dom;
    if (error || op->on_success == IN_LAST || !state_is_active(dom->state))
        return;
    /* the state a client asked for may have come already (a QEMU event) */
    if ((op->on_success == IN_SUSPENDED && dom->state == DOM_PAUSED) ||
        (op->on_success == IN_RESUMED && dom->state == DOM_RUNNING))
        return;
    GError *err = NULL;
    if (!core_domain_transition(dom, op->on_success, &err)) {
        if (op->undo && dom->mon)
            qmp_command(dom->mon, op->undo, NULL, NULL, NULL);
        job_set_error(job, err);
    }
}

/* QEMU's exit or destroy: the command's reply will not come */
static void
monitor_abort(struct job *job)
{
    struct monitor_op *op = job->data;
    GError *err = NULL;
    err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
            op->dom->def->name);
    job_fail(job, err);
}

static const struct job_step monitor_steps[] = {
    {"command", monitor_step},
    {NULL, NULL},
};

static const struct job_pipeline monitor_pipeline = {
    .steps = monitor_steps,
    .finish = monitor_finish,
    .abort = monitor_abort,
};

struct op_request {
    struct monitor_op *op;
    gboolean (*check)(struct domain *dom, GError **error);
    core_done_fn done;
    gpointer data;
};

static void
op_begin(struct job *job, GError *error, gpointer data)
{
    struct op_request *req = data;
    GError *err = NULL;
    if (!job) {
        lifecycle_done(req->done, req->data, error);
        monitor_op_free(req->op);
    } else if (!require_active(req->op->dom, &err) ||
               (req->check && !req->check(req->op->dom, &err))) {
        job_cancel(job, err, req->done, req->data);
        monitor_op_free(req->op);
    } else {
        job_run(job, req->op, monitor_op_free, req->done, req->data);
    }
    g_free(req);
}

static void
monitor_operation(struct domain *dom, enum job_type type, const char *command,
                  enum dom_input on_success, const char *undo,
                  gboolean (*check)(struct domain *, GError **), core_done_fn done, gpointer data)
{
    GError *error = NULL;
    /* the state is looked at once the domain is ours: the job before may change it */
    if (!require_active(dom, &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    struct monitor_op *op = g_new0(struct monitor_op, 1);
    op->dom = core_domain_ref(dom);
    op->command = command;
    op->on_success = on_success;
    op->undo = undo;
    struct op_request *req = g_new0(struct op_request, 1);
    req->op = op;
    req->check = check;
    req->done = done;
    req->data = data;
    job_acquire(&dom->jobs, type, &monitor_pipeline, dom->core->job_wait_ms, op_begin, req);
}

static gboolean
check_resumable(struct domain *dom, GError **error)
{
    if (dom->state == DOM_RUNNING) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is already running; it is not paused", dom->def->name);
        return FALSE;
    }
    if (dom->state == DOM_PMSUSPENDED) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is pmsuspended",
                dom->def->name);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_suspendable(struct domain *dom, GError **error)
{
    if (dom->state == DOM_PMSUSPENDED) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is pmsuspended",
                dom->def->name);
        return FALSE;
    }
    return TRUE;
}

void
core_domain_suspend(struct domain *dom, core_done_fn done, gpointer data)
{
    /* during an outgoing migration (virsh migrate --timeout): the rest goes with the guest
     * still, as the migration's own pause */
    if (core_migrate_suspend(dom, done, data))
        return;
    monitor_operation(dom, JOB_SUSPEND, "stop", IN_SUSPENDED, "cont", check_suspendable, done,
                      data);
}

void
core_domain_resume(struct domain *dom, core_done_fn done, gpointer data)
{
    monitor_operation(dom, JOB_RESUME, "cont", IN_RESUMED, "stop", check_resumable, done, data);
}

void
core_domain_reset(struct domain *dom, core_done_fn done, gpointer data)
{
    monitor_operation(dom, JOB_RESET, "system_reset", IN_LAST, NULL, NULL, done, data);
}

/* --- shutdown and reboot: the guest agent or the ACPI power button --- */

/* virDomainShutdownFlagValues / virDomainRebootFlagValues */
enum { POWER_DEFAULT = 0, POWER_ACPI = 1, POWER_AGENT = 2 };

struct power_op {
    struct domain *dom;
    enum job_type type;
    gboolean use_agent;
    gboolean acpi_fallback;
};

static void
power_op_free(gpointer data)
{
    struct power_op *op = data;
    core_domain_unref(op->dom);
    g_free(op);
}

static void
power_acpi(struct job *job)
{
    struct power_op *op = job->data;
    if (op->type == JOB_REBOOT)
        op->dom->fake_reboot = TRUE;
    /* the reply comes once the power button is pressed; the guest decides what follows */
    qmp_command(op->dom->mon, "system_powerdown", NULL, on_step_reply, job_ref(job));
}

static void
on_agent_power_done(GError *error, gpointer data)
{
    struct job *job = data;
    struct power_op *op = job->data;
    if (job->finished) {
        /* aborted meanwhile */
    } else if (!error) {
        job_next(job);
    } else if (op->acpi_fallback && op->dom->mon && state_is_active(op->dom->state)) {
        log_info("%s: guest agent %s failed (%s); pressing the ACPI power button",
                 op->dom->def->name, op->type == JOB_REBOOT ? "reboot" : "shutdown",
                 error->message);
        power_acpi(job);
    } else {
        job_fail(job, g_error_copy(error));
    }
    job_unref(job);
}

static void
power_step(struct job *job)
{
    struct power_op *op = job->data;
    if (op->use_agent) {
        core_guest_agent_power(op->dom, op->type == JOB_REBOOT ? "reboot" : "powerdown",
                               on_agent_power_done, job_ref(job));
        return;
    }
    power_acpi(job);
}

static void
power_abort(struct job *job)
{
    struct power_op *op = job->data;
    if (op->type == JOB_SHUTDOWN || op->dom->def->on_reboot == DOMAIN_ACTION_DESTROY) {
        /* QEMU is gone while the request was on its way: what was asked for happened (a
         * guest that powers off at once may close its agent before it answers; a reboot with
         * on_reboot 'destroy' ends QEMU) */
        job_next(job);
        return;
    }
    GError *err = NULL;
    err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
            op->dom->def->name);
    job_fail(job, err);
}

static const struct job_step power_steps[] = {
    {"request", power_step},
    {NULL, NULL},
};

static const struct job_pipeline power_pipeline = {
    .steps = power_steps,
    .abort = power_abort,
};

struct power_request {
    struct power_op *op;
    core_done_fn done;
    gpointer data;
};

static gboolean
check_power(struct domain *dom, enum job_type type, GError **error)
{
    if (!require_active(dom, error))
        return FALSE;
    /* as libvirt: a paused guest cannot be asked to shut down (it would not notice) */
    if (type == JOB_SHUTDOWN && dom->state != DOM_RUNNING) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        return FALSE;
    }
    return TRUE;
}

static void
power_begin(struct job *job, GError *error, gpointer data)
{
    struct power_request *req = data;
    GError *err = NULL;
    if (!job) {
        lifecycle_done(req->done, req->data, error);
        power_op_free(req->op);
    } else if (!check_power(req->op->dom, req->op->type, &err)) {
        job_cancel(job, err, req->done, req->data);
        power_op_free(req->op);
    } else {
        job_run(job, req->op, power_op_free, req->done, req->data);
    }
    g_free(req);
}

/* As libvirt: with no mode, the agent when the domain has one, else ACPI; a failed agent
 * falls back to ACPI unless the agent alone was asked for. */
static void
power_operation(struct domain *dom, enum job_type type, unsigned flags, core_done_fn done,
                gpointer data)
{
    GError *error = NULL;
    if (!require_active(dom, &error)) {
        lifecycle_fail(done, data, error);
        return;
    }
    if (flags == POWER_AGENT && !core_guest_has_agent(dom)) {
        err_set(&error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                "QEMU guest agent is not configured for domain '%s'", dom->def->name);
        lifecycle_fail(done, data, error);
        return;
    }
    struct power_op *op = g_new0(struct power_op, 1);
    op->dom = core_domain_ref(dom);
    op->type = type;
    op->use_agent = ((flags & POWER_AGENT) || flags == POWER_DEFAULT) && core_guest_has_agent(dom);
    op->acpi_fallback = flags == POWER_DEFAULT || (flags & POWER_ACPI);
    struct power_request *req = g_new0(struct power_request, 1);
    req->op = op;
    req->done = done;
    req->data = data;
    job_acquire(&dom->jobs, type, &power_pipeline, dom->core->job_wait_ms, power_begin, req);
}

void
core_domain_shutdown(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    power_operation(dom, JOB_SHUTDOWN, flags, done, data);
}

void
core_domain_reboot(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    power_operation(dom, JOB_REBOOT, flags, done, data);
}

/* --- destroy: cuts through any job; callers wait for QEMU's exit --- */

static void
add_exit_waiter(struct domain *dom, core_done_fn done, gpointer data)
{
    struct waiter *w = g_new0(struct waiter, 1);
    w->done = done;
    w->data = data;
    g_ptr_array_add(dom->exit_waiters, w);
}

static gboolean
destroy_timeout(gpointer data)
{
    struct domain *dom = data;
    dom->destroy_timer = 0;
    if (dom->pidfd < 0 || dom->exited)
        return G_SOURCE_REMOVE;
    if (dom->destroy_flags & CORE_DESTROY_GRACEFUL) {
        /* leave it running; the callers hear it did not go */
        dom->stop_input = IN_STOPPED_FAILED;
        dom->destroying = FALSE;
        GPtrArray *waiters = dom->exit_waiters;
        dom->exit_waiters = g_ptr_array_new();
        for (guint i = 0; i < waiters->len; i++) {
            struct waiter *w = waiters->pdata[i];
            GError *err = NULL;
            err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_TIMEOUT,
                    "QEMU of '%s' did not exit within %d ms of SIGTERM; destroy without "
                    "--graceful kills it",
                    dom->def->name, DESTROY_KILL_AFTER_MS);
            lifecycle_fail(w->done, w->data, err);
            g_free(w);
        }
        g_ptr_array_free(waiters, TRUE);
        return G_SOURCE_REMOVE;
    }
    log_warn("%s: QEMU ignored SIGTERM for %d ms; killing it", dom->def->name,
             DESTROY_KILL_AFTER_MS);
    qemu_process_signal(dom->pidfd, SIGKILL, NULL);
    return G_SOURCE_REMOVE;
}

void
core_domain_destroy(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (!state_is_active(dom->state) || dom->pidfd < 0) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        lifecycle_fail(done, data, error);
        return;
    }
    /* a destroy on its way: this caller hears once QEMU is gone (and finds it not running) */
    add_exit_waiter(dom, done, data);
    if (dom->destroying)
        return;
    dom->destroying = TRUE;
    dom->destroy_flags = flags;
    dom->stop_input = IN_STOPPED_DESTROYED;
    dom->fake_reboot = FALSE;
    GError *serr = NULL;
    if (!qemu_process_signal(dom->pidfd, SIGTERM, &serr)) {
        log_warn("%s: %s", dom->def->name, serr->message);
        g_error_free(serr);
    }
    dom->destroy_timer = g_timeout_add(DESTROY_KILL_AFTER_MS, destroy_timeout, dom);
    /* a start in progress ends now; other jobs end with QEMU */
    if (job_is(dom, JOB_START)) {
        qemu_process_signal(dom->pidfd, SIGKILL, NULL);
        job_abort(dom->jobs.current, FALSE, NULL);
    }
}

gboolean
core_domain_abort_job(struct domain *dom, GError **error)
{
    if (!state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        return FALSE;
    }
    struct job *job = job_of(&dom->jobs);
    if (!job || job->finished) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "no job is active on domain '%s'",
                dom->def->name);
        return FALSE;
    }
    return job_abort(job, TRUE, error);
}

/* --- queries and daemon-level duties --- */

guint64
core_domain_cpu_time(struct domain *dom)
{
    if (!state_is_active(dom->state) || dom->pid <= 0)
        return 0;
    /* opened once per run and read with pread: dom.info() is called in tight loops */
    if (dom->stat_fd < 0) {
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)dom->pid);
        dom->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (dom->stat_fd < 0)
            return 0;
    }
    char buf[1024];
    ssize_t n = pread(dom->stat_fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    struct procstat st;
    return procstat_parse(buf, &st) ? st.user_ns + st.system_ns : 0;
}

void
core_autodestroy_owner(struct core *core, gpointer owner)
{
    core_migrate_owner_gone(core, owner);
    GPtrArray *all = core_list(core, 0);
    for (guint i = 0; i < all->len; i++) {
        struct domain *dom = all->pdata[i];
        if (dom->autodestroy && dom->autodestroy_owner == owner && state_is_active(dom->state)) {
            log_info("%s: destroying: its autodestroy connection closed", dom->def->name);
            core_domain_destroy(dom, 0, NULL, NULL);
        }
    }
    g_ptr_array_free(all, TRUE);
}

static void
autostart_done(GError *error, gpointer data)
{
    char *name = data;
    if (error)
        log_error("autostart of '%s' failed: %s", name, error->message);
    g_free(name);
}

void
core_autostart_all(struct core *core)
{
    GPtrArray *all = core_list(core, 0);
    for (guint i = 0; i < all->len; i++) {
        struct domain *dom = all->pdata[i];
        if (dom->autostart && !state_is_active(dom->state)) {
            log_info("%s: autostarting", dom->def->name);
            core_domain_start(dom, 0, autostart_done, g_strdup(dom->def->name));
        }
    }
    g_ptr_array_free(all, TRUE);
}

static void
on_adopt_status(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct domain *dom = data;
    if (!error && qemu_json_node_object(result)) {
        JsonObject *o = qemu_json_node_object(result);
        gboolean running = qemu_json_bool(o, "running", FALSE);
        if (dom->save_interrupted)
            lifecycle_save_recover(dom, running);
        if (dom->migrate_interrupted)
            core_migrate_recover(dom, running);
        else if (dom->snapshot_interrupted)
            core_snapshot_recover(dom);
        else if (g_strcmp0(qemu_json_string(o, "status"), "suspended") == 0) {
            if (dom->state == DOM_RUNNING)
                core_domain_transition(dom, IN_PM_SUSPENDED, NULL);
        } else if (running && dom->state == DOM_PMSUSPENDED)
            core_domain_transition(dom, IN_PM_WOKEN, NULL);
        else if (running && dom->state == DOM_PAUSED)
            core_domain_transition(dom, IN_RESUMED_BY_QEMU, NULL);
        else if (!running && dom->state == DOM_RUNNING)
            core_domain_transition(dom, IN_PAUSED_BY_QEMU, NULL);
    }
    core_domain_unref(dom);
}

/* The devices a guest can let go of (an unplug's DEVICE_DELETED may have come while no
 * daemon listened): their aliases in the live definition */
static GPtrArray *
unpluggable_aliases(const struct domain_def *def)
{
    GPtrArray *aliases = g_ptr_array_new();
    for (guint i = 0; i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        if (d->info.alias &&
            (d->bus == DISK_BUS_VIRTIO || d->bus == DISK_BUS_SCSI || d->bus == DISK_BUS_USB))
            g_ptr_array_add(aliases, d->info.alias);
    }
    for (guint i = 0; i < def->nets->len; i++) {
        const struct net_def *n = def->nets->pdata[i];
        if (n->info.alias)
            g_ptr_array_add(aliases, n->info.alias);
    }
    for (guint i = 0; i < def->inputs->len; i++) {
        const struct input_def *in = def->inputs->pdata[i];
        if (in->info.alias && in->bus != INPUT_BUS_PS2)
            g_ptr_array_add(aliases, in->info.alias);
    }
    for (guint i = 0; i < def->memdevs->len; i++) {
        const struct memdev_def *m = def->memdevs->pdata[i];
        if (m->info.alias)
            g_ptr_array_add(aliases, m->info.alias);
    }
    return aliases;
}

/* QEMU's devices with ids: a device of the live definition that is no longer among them
 * was unplugged while the daemon was away; its removal is finished now */
static void
on_adopt_devices(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct domain *dom = data;
    JsonArray *all = !error && result ? qemu_json_node_array(result) : NULL;
    if (all && dom->mon) {
        g_autoptr(GHashTable) present = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < json_array_get_length(all); i++) {
            JsonObject *o = qemu_json_element_object(all, i);
            const char *name = o ? qemu_json_string(o, "name") : NULL;
            if (name)
                g_hash_table_add(present, (gpointer)name);
        }
        g_autoptr(GPtrArray) aliases = unpluggable_aliases(dom->def);
        g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < aliases->len; i++) {
            if (!g_hash_table_contains(present, aliases->pdata[i]))
                g_ptr_array_add(gone, g_strdup(aliases->pdata[i]));
        }
        for (guint i = 0; i < gone->len; i++) {
            log_info("%s: device '%s' was unplugged while the daemon was away", dom->def->name,
                     (char *)gone->pdata[i]);
            core_device_deleted(dom, gone->pdata[i]);
        }
    }
    core_domain_unref(dom);
}

void
core_lifecycle_adopt(struct domain *dom, int monitor_fd)
{
    dom->announced = TRUE;
    lifecycle_watch_exit(dom);
    lifecycle_attach_monitor(dom, monitor_fd);
    /* state may have changed while nobody listened */
    qmp_command(dom->mon, "query-status", NULL, on_adopt_status, core_domain_ref(dom));
    core_block_jobs_adopt(dom);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", "/machine/peripheral");
    qmp_command(dom->mon, "qom-list", args, on_adopt_devices, core_domain_ref(dom));
}
