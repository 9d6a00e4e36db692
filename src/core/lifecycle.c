/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lifecycle: start, stop and the other state-changing operations of a running QEMU, each a job
 * of the engine (job.c) holding the domain, and what QMP events and process exit mean for a
 * domain. QEMU runs with -no-shutdown: a guest power-off leaves it paused and we decide (quit,
 * fake reboot, restart). Every state change goes through the transition table. */
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

#include "core/guest.h"
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

#define DESTROY_KILL_AFTER_MS 10000
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

struct waiter {
    core_done_fn done;
    gpointer data;
};

static void
finish(core_done_fn done, gpointer data, GError *error)
{
    if (done)
        done(error, data);
}

static void
fail_now(core_done_fn done, gpointer data, GError *error)
{
    finish(done, data, error);
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

static char *
log_path(struct domain *dom)
{
    return g_strdup_printf("%s/%s.log", dom->core->paths.log_dir, dom->def->name);
}

/* "QEMU …: <last lines of its log>" */
static void
append_log_tail(struct domain *dom, GError *error)
{
    g_autofree char *path = log_path(dom);
    g_autofree char *tail = file_tail_from(path, dom->log_offset, 5);
    if (tail && *tail) {
        g_autofree char *msg =
            g_strdup_printf("%s; QEMU log (%s) ends with: %s", error->message, path, tail);
        g_free(error->message);
        error->message = g_steal_pointer(&msg);
    }
}

/* Whether the QEMU process has exited (its pidfd is readable). */
static gboolean
process_gone(struct domain *dom)
{
    if (dom->exited || dom->pidfd < 0)
        return TRUE;
    struct pollfd p = {.fd = dom->pidfd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* Kills a QEMU and reaps it: it is our child and SIGKILL takes effect at once, so the wait on
 * its pidfd is short (and bounded). */
static void
kill_and_reap(struct domain *dom)
{
    if (dom->pidfd < 0 || dom->exited)
        return;
    qemu_process_signal(dom->pidfd, SIGKILL, NULL);
    struct pollfd p = {.fd = dom->pidfd, .events = POLLIN};
    if (poll(&p, 1, 5000) == 1) {
        int status;
        qemu_process_reap(dom->pid, &status);
        dom->exited = TRUE;
    }
}

/* --- the end of a run --- */

/* Releases everything a running domain holds and turns it shut off by INPUT (an IN_STOPPED_*
 * one, or IN_START_FAILED for a start that never completed: no events then). Callers waiting
 * for the exit hear back: the first destroy succeeds, later ones find it not running. */
static void
domain_stopped(struct domain *dom, enum dom_input input)
{
    struct core *core = dom->core;
    core_domain_ref(dom);
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
    if (!dom->persistent && !dom->removed)
        core_forget(core, dom);
    for (guint i = 0; i < waiters->len; i++) {
        struct waiter *w = waiters->pdata[i];
        if (i == 0) {
            finish(w->done, w->data, NULL);
        } else {
            GError *err = NULL;
            err_set(&err, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                    dom->def->name);
            fail_now(w->done, w->data, err);
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
    struct job *job = dom->jobs.current;
    if (job) {
        /* the job in progress fails; a start's own end stops the domain */
        job_abort(job, FALSE, NULL);
    }
    if (dom->pid)
        domain_stopped(dom, dom->stop_input);
    core_domain_unref(dom);
    return G_SOURCE_REMOVE;
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

static void
attach_monitor(struct domain *dom, int fd)
{
    struct qmp_callbacks cb = {.event = on_qmp_event, .closed = on_qmp_closed};
    dom->mon = qmp_new(fd, dom->def->name, &cb, dom, dom->core->monitor_timeout_ms);
}

/* --- start: a pipeline of the job engine --- */

struct start_op {
    struct domain *dom; /* a reference */
    unsigned flags;     /* CORE_START_* */
    gboolean pinned;    /* <vcpu cpuset>: QEMU runs on AFFINITY */
    cpu_set_t affinity;
    struct domain_def *live; /* the config to run, consumed by prepare; NULL: a copy */
    GStrv argv;
    int listen_fd;                          /* the monitor's listening socket, until QEMU has it */
    int chr_fds[QEMU_PROCESS_KEEP_MAX - 1]; /* the chardevs' listening sockets, likewise */
    char *chr_paths[QEMU_PROCESS_KEEP_MAX - 1];
    guint nchr;
    GHashTable *chardev_fds;                /* chardev id -> the fd number QEMU gets it as */
    int tap_fds[QEMU_PROCESS_KEEP_MAX - 1]; /* the guest NICs' taps, likewise */
    guint ntap;
    GHashTable *tap_fd_numbers; /* interface alias -> the fd number QEMU gets its tap as */
    guint outstanding;          /* setup commands waiting for their reply */
};

/* Closes the daemon's copies of the chardev sockets; UNLINK: QEMU never got them, so their
 * files go too. */
static void
close_chardev_sockets(struct start_op *op, gboolean unlink_paths)
{
    for (guint i = 0; i < op->nchr; i++) {
        file_close_fd(&op->chr_fds[i]);
        if (unlink_paths)
            unlink(op->chr_paths[i]);
        g_clear_pointer(&op->chr_paths[i], g_free);
    }
    op->nchr = 0;
}

/* Closes the daemon's copies of the taps: once QEMU has them, they live as long as it does;
 * before, closing them takes them away. */
static void
close_taps(struct start_op *op)
{
    for (guint i = 0; i < op->ntap; i++)
        file_close_fd(&op->tap_fds[i]);
    op->ntap = 0;
}

static void
start_op_free(gpointer data)
{
    struct start_op *op = data;
    domain_def_free(op->live);
    g_strfreev(op->argv);
    if (op->listen_fd >= 0)
        close(op->listen_fd);
    close_chardev_sockets(op, TRUE);
    close_taps(op);
    g_clear_pointer(&op->chardev_fds, g_hash_table_unref);
    g_clear_pointer(&op->tap_fd_numbers, g_hash_table_unref);
    core_domain_unref(op->dom);
    g_free(op);
}

/* A listening unix socket at PATH (WHAT names it in errors), replacing what is there. */
static int
listen_unix(const char *path, const char *what, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) > SOCKET_PATH_MAX) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "%s socket path '%s' is %zu bytes, over the limit of %zu; use a shorter "
                "state directory (--root) or domain name",
                what, path, strlen(path), SOCKET_PATH_MAX);
        return -1;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot create %s socket", what);
        return -1;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot listen on '%s'", path);
        close(fd);
        return -1;
    }
    return fd;
}

static int
monitor_connect(const char *path, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot connect to QEMU monitor '%s'", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static gboolean
save_next_id(struct core *core, GError **error)
{
    g_autofree char *path = g_build_filename(core->paths.state_dir, "next-id", NULL);
    g_autofree char *text = g_strdup_printf("%d\n", core->next_id);
    return file_write_atomic(path, text, strlen(text), 0600, 0, error);
}

/* The definition's emulator (checked as at define: the host may have changed since), else
 * the host's for its architecture. */
static char *
resolve_emulator(struct domain *dom, GError **error)
{
    if (!core_validate_for_host(dom->def, error))
        return NULL;
    if (dom->def->emulator)
        return g_strdup(dom->def->emulator);
    return qemu_caps_find_binary(dom->def->os_arch ? dom->def->os_arch : "x86_64", error);
}

static gboolean
check_paths(struct domain *dom, GError **error)
{
    for (guint i = 0; i < dom->def->channels->len; i++) {
        struct chr_def *ch = dom->def->channels->pdata[i];
        if (ch->type != CHR_TYPE_UNIX)
            continue;
        g_autofree char *p = qemu_command_channel_path(dom->def, ch, dom->core->paths.channel_dir);
        if (strlen(p) > SOCKET_PATH_MAX) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "channel socket path '%s' is %zu bytes, over the limit of %zu", p, strlen(p),
                    SOCKET_PATH_MAX);
            return FALSE;
        }
    }
    return TRUE;
}

/* <vcpu cpuset>: as libvirt with placement static and no per-vCPU pinning, every thread of
 * QEMU runs on those CPUs (of them, the ones this host has). */
static gboolean
prepare_affinity(struct start_op *op, GError **error)
{
    const struct domain_def *def = op->dom->def;
    if (!def->vcpu_cpuset)
        return TRUE;
    struct cpuset set;
    cpu_set_t want, host;
    if (!cpuset_parse(def->vcpu_cpuset, &set, error))
        return FALSE;
    cpuset_to_cpu_set(&set, &want);
    if (sched_getaffinity(0, sizeof(host), &host) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot read this host's CPUs");
        return FALSE;
    }
    CPU_AND(&op->affinity, &want, &host);
    if (CPU_COUNT(&op->affinity) == 0) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "cpuset '%s' of domain '%s' names none of this host's %d CPUs", def->vcpu_cpuset,
                def->name, CPU_COUNT(&host));
        return FALSE;
    }
    op->pinned = TRUE;
    return TRUE;
}

/* A UEFI variable store that does not exist yet starts as a copy of its template. */
static gboolean
prepare_nvram(const struct domain_def *def, GError **error)
{
    if (!def->nvram || !def->loader_type || !g_str_equal(def->loader_type, "pflash") ||
        g_file_test(def->nvram, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!def->nvram_template) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "nvram '%s' of domain '%s' does not exist; give it a template= to start from",
                def->nvram, def->name);
        return FALSE;
    }
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) rerr = NULL;
    g_autofree char *dir = g_path_get_dirname(def->nvram);
    if (!g_file_get_contents(def->nvram_template, &data, &len, &rerr)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot read nvram template of domain '%s': %s", def->name, rerr->message);
        return FALSE;
    }
    return file_mkdir_p(dir, 0755, error) &&
           file_write_atomic(def->nvram, data, len, 0600, FILE_DURABLE, error);
}

/* The listening sockets of the unix character devices QEMU serves (the guest agent's
 * channel among them), made here and inherited by QEMU as fds 4, 5, …, as libvirt passes
 * them: the socket exists with the daemon's permissions before QEMU runs, and a client may
 * connect as soon as QEMU is spawned. */
static gboolean
open_chardev_sockets(struct start_op *op, GError **error)
{
    const struct domain_def *def = op->dom->def;
    g_autoptr(GPtrArray) chrs = g_ptr_array_new();
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < def->serials->len; i++) {
        struct chr_def *c = def->serials->pdata[i];
        g_ptr_array_add(chrs, c);
        g_ptr_array_add(paths, g_strdup(c->source_path));
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *c = def->consoles->pdata[i];
        if (c->target_type && g_str_equal(c->target_type, "virtio")) {
            g_ptr_array_add(chrs, c);
            g_ptr_array_add(paths, g_strdup(c->source_path));
        }
    }
    for (guint i = 0; i < def->channels->len; i++) {
        struct chr_def *c = def->channels->pdata[i];
        g_ptr_array_add(chrs, c);
        g_ptr_array_add(paths, qemu_command_channel_path(def, c, op->dom->core->paths.channel_dir));
    }
    op->chardev_fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < chrs->len; i++) {
        struct chr_def *c = chrs->pdata[i];
        const char *path = paths->pdata[i];
        if (!qemu_command_chardev_listens(c) || !path)
            continue;
        if (op->nchr == G_N_ELEMENTS(op->chr_fds)) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "domain '%s' has more than %zu unix character devices", def->name,
                    G_N_ELEMENTS(op->chr_fds));
            return FALSE;
        }
        int fd = listen_unix(path, "character device", error);
        if (fd < 0)
            return FALSE;
        op->chr_paths[op->nchr] = g_strdup(path);
        op->chr_fds[op->nchr++] = fd;
        g_hash_table_insert(op->chardev_fds, qemu_device_chardev_id(c),
                            GINT_TO_POINTER(QEMU_COMMAND_MONITOR_FD + (int)op->nchr));
    }
    return TRUE;
}

/* The taps of the guest NICs, numbered for QEMU after the monitor and the chardevs. */
static gboolean
open_taps(struct start_op *op, GError **error)
{
    struct domain_def *def = op->dom->def;
    op->tap_fd_numbers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *net = def->nets->pdata[i];
        if (!qemu_device_net_has_tap(net))
            continue;
        if (1 + op->nchr + op->ntap >= QEMU_PROCESS_KEEP_MAX) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "domain '%s' has more than %d interfaces and unix character devices", def->name,
                    QEMU_PROCESS_KEEP_MAX - 1);
            return FALSE;
        }
        int fd = core_network_plug(op->dom->core, def->name, net, error);
        if (fd < 0)
            return FALSE;
        op->tap_fds[op->ntap++] = fd;
        g_hash_table_insert(op->tap_fd_numbers, g_strdup(net->info.alias),
                            GINT_TO_POINTER(QEMU_COMMAND_MONITOR_FD + (int)(op->nchr + op->ntap)));
    }
    return TRUE;
}

/* What a start adds to the live definition: the addresses a definition older than them
 * lacks, each disk's backing chain as its images name it now, numbers for the images' block
 * nodes, and every device's alias. */
static gboolean
prepare_live_def(struct domain_def *def, GError **error)
{
    if (!qemu_address_assign(def, error))
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *disk = def->disks->pdata[i];
        if (!disk->source)
            continue;
        g_autoptr(GPtrArray) layers = storage_chain_probe(
            disk->source,
            disk->format == DISK_FORMAT_QCOW2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW, error);
        if (!layers) {
            g_prefix_error(error, "disk '%s': ", disk->target_dev);
            return FALSE;
        }
        g_clear_pointer(&disk->backing, g_ptr_array_unref);
        disk->backing = g_ptr_array_new_with_free_func((GDestroyNotify)disk_layer_free);
        disk->source_index = 0;
        for (guint j = 0; j < layers->len; j++) {
            struct storage_chain_layer *l = layers->pdata[j];
            struct disk_layer *layer = g_new0(struct disk_layer, 1);
            layer->type = l->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE;
            layer->path = g_strdup(l->path);
            layer->format = l->format == STORAGE_FORMAT_QCOW2 ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
            g_ptr_array_add(disk->backing, layer);
        }
    }
    qemu_device_number_images(def);
    qemu_alias_assign(def);
    return TRUE;
}

/* Everything up to a QEMU command line, a listening monitor and an id; then the intent is
 * recorded: the status file names the domain, its monitor and the start job before any QEMU
 * exists, so a daemon killed from here on finds what to adopt or kill. */
static void
start_prepare(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    struct core *core = dom->core;
    GError *error = NULL;
    /* the live config starts as a copy of the persistent one */
    if (dom->persistent) {
        dom->new_def = dom->def;
        dom->def = op->live ? g_steal_pointer(&op->live) : domain_def_copy(dom->new_def);
    }
    dom->autodestroy = (op->flags & CORE_START_AUTODESTROY) != 0;
    dom->updated = FALSE;
    g_autofree char *emulator = resolve_emulator(dom, &error);
    if (!emulator) {
        job_fail(job, error);
        return;
    }
    gboolean kvm = dom->def->virt_type == DOMAIN_VIRT_KVM;
    struct qemu_command_opts opts = {
        .emulator = emulator,
        .kvm = kvm,
        .channel_dir = core->paths.channel_dir,
    };
    if (!core_storage_resolve_disks(core, dom->def, &error) ||
        !prepare_live_def(dom->def, &error) || !check_paths(dom, &error) ||
        !open_chardev_sockets(op, &error) || !open_taps(op, &error)) {
        job_fail(job, error);
        return;
    }
    opts.chardev_fds = op->chardev_fds;
    opts.tap_fds = op->tap_fd_numbers;
    if (!(op->argv = qemu_command_build(dom->def, &opts, &error)) ||
        !prepare_affinity(op, &error) || !prepare_nvram(dom->def, &error)) {
        job_fail(job, error);
        return;
    }
    g_autofree char *mon_path =
        g_strdup_printf("%s/%s.monitor", core->paths.status_dir, dom->def->name);
    op->listen_fd = listen_unix(mon_path, "monitor", &error);
    if (op->listen_fd < 0) {
        job_fail(job, error);
        return;
    }
    int id = core->next_id++;
    if (!save_next_id(core, &error)) {
        core->next_id--;
        unlink(mon_path);
        job_fail(job, error);
        return;
    }
    dom->id = id;
    dom->emulator = g_steal_pointer(&emulator);
    dom->monitor_path = g_steal_pointer(&mon_path);
    g_hash_table_insert(core->by_id, GINT_TO_POINTER(id), dom);
    if (!core_domain_transition(dom, IN_START, &error)) {
        job_fail(job, error);
        return;
    }
    job_next(job);
}

/* Forks QEMU's process, records its pid, and only then lets it run QEMU. */
static void
start_spawn(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    g_autofree char *lp = log_path(dom);
    {
        g_autofree char *cmd = g_strjoinv(" ", op->argv);
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format_iso8601(now);
        g_autofree char *line = g_strdup_printf("%s: starting up\n%s\n", stamp, cmd);
        FILE *f = fopen(lp, "ae");
        if (f) {
            fputs(line, f);
            fflush(f);
            dom->log_offset = ftell(f);
            fclose(f);
        }
    }
    pid_t pid;
    int pidfd;
    /* the monitor is fd 3, the chardevs' sockets follow, then the taps */
    int keep[QEMU_PROCESS_KEEP_MAX];
    keep[0] = op->listen_fd;
    memcpy(keep + 1, op->chr_fds, op->nchr * sizeof(int));
    memcpy(keep + 1 + op->nchr, op->tap_fds, op->ntap * sizeof(int));
    struct qemu_child *child =
        qemu_process_fork(op->argv, lp, keep, 1 + op->nchr + op->ntap,
                          op->pinned ? &op->affinity : NULL, &pid, &pidfd, &error);
    if (!child) {
        job_fail(job, error);
        return;
    }
    dom->pid = pid;
    dom->pidfd = pidfd;
    dom->exited = FALSE;
    if (!core_status_write(dom, &error)) {
        qemu_process_abandon(child);
        dom->exited = TRUE;
        g_prefix_error(&error, "cannot record the QEMU of '%s': ", dom->def->name);
        job_fail(job, error);
        return;
    }
    if (!qemu_process_exec(child, &error)) {
        dom->exited = TRUE;
        job_fail(job, error);
        return;
    }
    file_close_fd(&op->listen_fd);
    close_chardev_sockets(op, FALSE);
    close_taps(op);
    g_ptr_array_set_size(dom->messages, 0);
    /* as libvirtd reports it: QEMU runs as root, with the daemon's privileges */
    if (geteuid() == 0)
        g_ptr_array_add(dom->messages,
                        g_strdup("tainted: running with undesirable elevated privileges"));
    dom->pid_watch = g_unix_fd_add(pidfd, G_IO_IN, on_process_exit, dom);
    int fd = monitor_connect(dom->monitor_path, &error);
    if (fd < 0) {
        job_fail(job, error);
        return;
    }
    attach_monitor(dom, fd);
    job_next(job);
}

static void
on_setup_reply(struct job *job, const GError *error)
{
    struct start_op *op = job->data;
    if (job->finished)
        return;
    if (error) {
        job_fail(job, g_error_copy(error));
        return;
    }
    if (--op->outstanding == 0)
        job_next(job);
}

/* Records the pty paths QEMU chose in the live definition. */
static void
record_ptys(struct domain_def *def, JsonNode *result)
{
    JsonArray *arr = qemu_json_node_array(result);
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *o = qemu_json_element_object(arr, i);
        const char *label = qemu_json_string(o, "label");
        const char *filename = qemu_json_string(o, "filename");
        if (!label || !filename)
            continue;
        if (!g_str_has_prefix(filename, "pty:"))
            continue;
        const char *pty = filename + 4;
        /* QEMU names a chardev by its id, "char" + the device's alias */
        for (guint j = 0; j < def->serials->len; j++) {
            struct chr_def *chr = def->serials->pdata[j];
            g_autofree char *id = qemu_device_chardev_id(chr);
            if (!g_str_equal(id, label))
                continue;
            g_free(chr->source_path);
            chr->source_path = g_strdup(pty);
            /* the console that mirrors serial 0 shows the same pty */
            for (guint k = 0; j == 0 && k < def->consoles->len; k++) {
                struct chr_def *con = def->consoles->pdata[k];
                if (con->type == CHR_TYPE_PTY &&
                    (!con->target_type || g_str_equal(con->target_type, "serial"))) {
                    g_free(con->source_path);
                    con->source_path = g_strdup(pty);
                }
            }
        }
        for (guint j = 0; j < def->consoles->len; j++) {
            struct chr_def *con = def->consoles->pdata[j];
            if (!con->target_type || !g_str_equal(con->target_type, "virtio"))
                continue;
            g_autofree char *id = qemu_device_chardev_id(con);
            if (g_str_equal(id, label)) {
                g_free(con->source_path);
                con->source_path = g_strdup(pty);
            }
        }
    }
}

static void
on_query_chardev(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct start_op *op = job->data;
    if (!job->finished && !error)
        record_ptys(op->dom->def, result);
    on_setup_reply(job, error);
    job_unref(job);
}

static void
on_query_vnc(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct start_op *op = job->data;
    if (!job->finished && !error && qemu_json_node_object(result)) {
        JsonObject *o = qemu_json_node_object(result);
        const char *service = qemu_json_string(o, "service");
        guint64 port;
        if (service && op->dom->def->graphics->len > 0 &&
            g_ascii_string_to_unsigned(service, 10, 1, 65535, &port, NULL)) {
            struct graphics_def *g = op->dom->def->graphics->pdata[0];
            g->port = (int)port;
        }
    }
    /* a VNC server QEMU cannot describe leaves the port unknown: no reason to fail */
    on_setup_reply(job, NULL);
    job_unref(job);
}

static void
on_setup_command(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    on_setup_reply(job, error);
    job_unref(job);
}

/* The whole setup exchange goes out at once: QEMU answers in order, so this costs one round
 * trip instead of several. */
static void
start_setup(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    op->outstanding = 1;
    qmp_command(dom->mon, "query-chardev", NULL, on_query_chardev, job_ref(job));
    for (guint i = 0; i < dom->def->nets->len; i++) {
        struct net_def *net = dom->def->nets->pdata[i];
        if (!net->link_down)
            continue;
        /* QEMU has no option for it: the link goes down before the guest runs */
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "name", net->info.alias);
        json_object_set_boolean_member(args, "up", FALSE);
        op->outstanding++;
        qmp_command(dom->mon, "set_link", args, on_setup_command, job_ref(job));
    }
    for (guint i = 0; i < dom->def->graphics->len; i++) {
        struct graphics_def *g = dom->def->graphics->pdata[i];
        if (g->passwd) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "protocol", "vnc");
            json_object_set_string_member(args, "password", g->passwd);
            op->outstanding++;
            qmp_command(dom->mon, "set_password", args, on_setup_command, job_ref(job));
        }
        if (g->autoport || g->port < 0) {
            op->outstanding++;
            qmp_command(dom->mon, "query-vnc", NULL, on_query_vnc, job_ref(job));
        }
    }
}

static void
start_resume(struct job *job)
{
    struct start_op *op = job->data;
    op->outstanding = 1;
    if (op->flags & CORE_START_PAUSED)
        qmp_command(op->dom->mon, "query-status", NULL, on_setup_command, job_ref(job));
    else
        qmp_command(op->dom->mon, "cont", NULL, on_setup_command, job_ref(job));
}

/* Commits a complete start (the state and its events), or undoes a failed one: QEMU killed
 * and reaped, the domain shut off without events (it never was announced). */
static void
start_finish(struct job *job, const GError *error)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (!error) {
        enum dom_input in = (op->flags & CORE_START_PAUSED) ? IN_STARTED_PAUSED : IN_STARTED;
        /* the job is finished: the status file written now no longer says "start" */
        if (core_domain_transition(dom, in, &err)) {
            dom->announced = TRUE;
            log_info("%s: started, id %d, pid %d", dom->def->name, dom->id, (int)dom->pid);
            return;
        }
    } else if (dom->stop_input == IN_STOPPED_DESTROYED) {
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_ABORTED, "start was cut short by destroy");
    } else if (dom->pid && process_gone(dom)) {
        /* whatever the monitor said last, QEMU itself quit: its log says why */
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU quit during start-up");
    } else {
        err = g_error_copy(error);
    }
    if (dom->pid)
        append_log_tail(dom, err);
    g_prefix_error(&err, "starting '%s': ", dom->def->name);
    log_warn("%s", err->message);
    job_set_error(job, err);
    kill_and_reap(dom);
    if (dom->state != DOM_SHUTOFF) {
        domain_stopped(dom, IN_START_FAILED);
        return;
    }
    /* nothing ran: the config goes back as it was */
    if (dom->monitor_path)
        unlink(dom->monitor_path);
    g_clear_pointer(&dom->monitor_path, g_free);
    g_clear_pointer(&dom->emulator, g_free);
    if (dom->id >= 0)
        g_hash_table_remove(dom->core->by_id, GINT_TO_POINTER(dom->id));
    dom->id = -1;
    if (dom->new_def) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&dom->new_def);
    }
    if (!dom->persistent && !dom->removed)
        core_forget(dom->core, dom);
}

/* destroy or QEMU's exit: the step waiting for QEMU fails now */
static void
start_abort(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (dom->stop_input == IN_STOPPED_DESTROYED)
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_ABORTED, "start was cut short by destroy");
    else
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU exited during start");
    job_fail(job, err);
}

static const struct job_step start_steps[] = {
    {"prepare", start_prepare}, {"spawn", start_spawn}, {"setup", start_setup},
    {"resume", start_resume},   {NULL, NULL},
};

static const struct job_pipeline start_pipeline = {
    .steps = start_steps,
    .finish = start_finish,
    .abort = start_abort,
    .abortable = FALSE,
};

struct start_request {
    struct domain *dom;
    struct domain_def *live;
    unsigned flags;
    core_done_fn done;
    gpointer data;
};

static void
start_begin(struct job *job, GError *error, gpointer data)
{
    struct start_request *req = data;
    struct domain *dom = req->dom;
    if (!job) {
        finish(req->done, req->data, error);
    } else if (state_is_active(dom->state) || dom->removed) {
        GError *err = NULL;
        err_set(&err, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                dom->def->name);
        job_cancel(job, err, req->done, req->data);
    } else {
        struct start_op *op = g_new0(struct start_op, 1);
        op->dom = core_domain_ref(dom);
        op->flags = req->flags;
        op->live = g_steal_pointer(&req->live);
        op->listen_fd = -1;
        job_run(job, op, start_op_free, req->done, req->data);
    }
    domain_def_free(req->live);
    core_domain_unref(req->dom);
    g_free(req);
}

/* LIVE (consumed, may be NULL) is the config to run; NULL runs a copy of the persistent one. */
static void
start_running(struct domain *dom, struct domain_def *live, unsigned flags, core_done_fn done,
              gpointer data)
{
    if (state_is_active(dom->state)) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                dom->def->name);
        domain_def_free(live);
        fail_now(done, data, error);
        return;
    }
    struct start_request *req = g_new0(struct start_request, 1);
    req->dom = core_domain_ref(dom);
    req->live = live;
    req->flags = flags;
    req->done = done;
    req->data = data;
    job_acquire(&dom->jobs, JOB_START, &start_pipeline, dom->core->job_wait_ms, start_begin, req);
}

void
core_domain_start(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    start_running(dom, NULL, flags, done, data);
}

struct domain *
core_create_xml_prepare(struct core *core, const char *xml, gboolean validate,
                        struct domain_def **ret_live, GError **error)
{
    g_autoptr(domain_def) def =
        domain_def_parse(xml, validate ? DOMAIN_DEF_PARSE_VALIDATE : 0, error);
    if (!def || !core_validate_for_host(def, error) || !qemu_address_assign(def, error))
        return NULL;
    struct domain *dom = NULL;
    if (!core_check_unique(core, def, &dom, error))
        return NULL;
    core_unique_macs(core, def);
    if (dom && state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                def->name);
        return NULL;
    }
    if (dom) {
        /* an inactive persistent domain runs this config once and keeps its own */
        *ret_live = g_steal_pointer(&def);
        return dom;
    }
    *ret_live = NULL;
    return core_register(core, g_steal_pointer(&def), FALSE);
}

void
core_create_xml_start(struct domain *dom, struct domain_def *live, unsigned flags,
                      core_done_fn done, gpointer data)
{
    start_running(dom, live, flags, done, data);
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

static void
on_qmp_event(struct qmp *mon, const char *event, JsonObject *data, gpointer user)
{
    struct domain *dom = user;
    if (job_is(dom, JOB_START))
        return;
    if (g_str_equal(event, "SHUTDOWN")) {
        on_shutdown_event(dom, data);
    } else if (g_str_equal(event, "STOP")) {
        if (dom->state == DOM_RUNNING && !job_is(dom, JOB_SUSPEND) && !dom->resetting &&
            !dom->fake_reboot)
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
        log_warn("%s: disk I/O error", dom->def->name);
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
    struct job *job = data;
    if (error)
        job_fail(job, g_error_copy(error));
    else
        job_next(job);
    job_unref(job);
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
        finish(req->done, req->data, error);
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
        fail_now(done, data, error);
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
    if (op->type == JOB_SHUTDOWN) {
        /* QEMU is gone while the request was on its way: what was asked for happened (a
         * guest that powers off at once may close its agent before it answers) */
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
        finish(req->done, req->data, error);
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
        fail_now(done, data, error);
        return;
    }
    if (flags == POWER_AGENT && !core_guest_has_agent(dom)) {
        err_set(&error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                "QEMU guest agent is not configured for domain '%s'", dom->def->name);
        fail_now(done, data, error);
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
            fail_now(w->done, w->data, err);
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
        fail_now(done, data, error);
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
    if (!dom->jobs.current || dom->jobs.current->finished) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "no job is active on domain '%s'",
                dom->def->name);
        return FALSE;
    }
    return job_abort(dom->jobs.current, TRUE, error);
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
    /* fields after the ")" that closes comm: state is field 3, utime 14, stime 15 */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    guint64 utime = 0, stime = 0;
    int field = 2;
    for (p++; *p && field < 15; p++) {
        if (*p != ' ')
            continue;
        field++;
        if (field == 14)
            utime = g_ascii_strtoull(p + 1, NULL, 10);
        else if (field == 15)
            stime = g_ascii_strtoull(p + 1, NULL, 10);
    }
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    return (utime + stime) * (1000000000ULL / (guint64)hz);
}

void
core_autodestroy_owner(struct core *core, gpointer owner)
{
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
        if (running && dom->state == DOM_PAUSED)
            core_domain_transition(dom, IN_RESUMED_BY_QEMU, NULL);
        else if (!running && dom->state == DOM_RUNNING)
            core_domain_transition(dom, IN_PAUSED_BY_QEMU, NULL);
    }
    core_domain_unref(dom);
}

void core_lifecycle_adopt(struct domain *dom, int monitor_fd);

void
core_lifecycle_adopt(struct domain *dom, int monitor_fd)
{
    dom->announced = TRUE;
    dom->pid_watch = g_unix_fd_add(dom->pidfd, G_IO_IN, on_process_exit, dom);
    attach_monitor(dom, monitor_fd);
    /* state may have changed while nobody listened */
    qmp_command(dom->mon, "query-status", NULL, on_adopt_status, core_domain_ref(dom));
}
