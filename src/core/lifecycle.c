/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lifecycle: start, stop and the other state-changing operations of a running QEMU, and what
 * QMP events and process exit mean for a domain. QEMU runs with -no-shutdown: a guest
 * power-off leaves it paused and we decide (quit, fake reboot, restart). */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "core/guest.h"
#include "core/storage.h"
#include "qemu/agent.h"
#include "qemu/caps.h"
#include "qemu/command.h"
#include "qemu/monitor.h"
#include "qemu/process.h"
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

static void add_exit_waiter(struct domain *dom, core_done_fn done, gpointer data);

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
prefix_log_tail(struct domain *dom, GError **error)
{
    g_autofree char *path = log_path(dom);
    g_autofree char *tail = file_tail_from(path, dom->log_offset, 5);
    if (error && *error && tail && *tail) {
        g_autofree char *msg =
            g_strdup_printf("%s; QEMU log (%s) ends with: %s", (*error)->message, path, tail);
        g_free((*error)->message);
        (*error)->message = g_steal_pointer(&msg);
    }
}

/* Releases everything a running domain holds and turns it shut off. */
static void
domain_stopped(struct domain *dom, int reason, int event_detail)
{
    struct core *core = dom->core;
    core_domain_ref(dom);
    g_clear_pointer(&dom->mon, qmp_free);
    g_clear_pointer(&dom->agent, agent_free);
    if (dom->pid_watch)
        g_source_remove(dom->pid_watch);
    dom->pid_watch = 0;
    file_close_fd(&dom->pidfd);
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
    int old_id = dom->id;
    dom->pid = 0;
    dom->stop_reason = -1;
    dom->fake_reboot = FALSE;
    dom->autodestroy = FALSE;
    dom->autodestroy_owner = NULL;
    if (dom->new_def) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&dom->new_def);
    }
    core_job_end(dom);
    /* the event still carries the id the domain had */
    dom->id = old_id;
    core_domain_set_state(dom, DOM_SHUTOFF, reason, -1, 0);
    core_domain_emit(dom, EV_STOPPED, event_detail);
    dom->id = -1;
    log_info("%s: stopped (%s)", dom->def->name, state_reason_to_string(DOM_SHUTOFF, reason));

    GPtrArray *waiters = dom->job_waiters;
    dom->job_waiters = g_ptr_array_new();
    if (!dom->persistent && !dom->removed) {
        g_autofree char *key = NULL;
        char buf[UUID_STRING_LEN];
        key = g_strdup(uuid_format(dom->def->uuid, buf));
        g_hash_table_remove(core->by_uuid, key);
        dom->removed = TRUE;
        g_hash_table_remove(core->by_name, dom->def->name);
    }
    for (guint i = 0; i < waiters->len; i++) {
        struct waiter *w = waiters->pdata[i];
        finish(w->done, w->data, NULL);
        g_free(w);
    }
    g_ptr_array_free(waiters, TRUE);
    core_domain_unref(dom);
}

static void
add_exit_waiter(struct domain *dom, core_done_fn done, gpointer data)
{
    struct waiter *w = g_new0(struct waiter, 1);
    w->done = done;
    w->data = data;
    g_ptr_array_add(dom->job_waiters, w);
}

/* --- start --- */

/* A start in progress. It lives while the start is unfinished or one of its monitor commands
 * is outstanding: HOLDS counts both (the start itself holds one). */
struct start_ctx {
    struct domain *dom;
    unsigned flags;
    core_done_fn done;
    gpointer data;
    gboolean finished;
    int holds;
};

static struct start_ctx *
ctx_hold(struct start_ctx *ctx)
{
    ctx->holds++;
    return ctx;
}

static void
ctx_release(struct start_ctx *ctx)
{
    if (--ctx->holds == 0)
        g_free(ctx);
}

static GHashTable *start_ctxs; /* struct domain * -> struct start_ctx * in progress */

static void start_fail(struct start_ctx *ctx, GError *error);

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
    if (dom->job.kind == JOB_START && dom->job.abort) {
        /* start in progress: the start context reports the failure */
        dom->job.abort(dom);
        return G_SOURCE_REMOVE;
    }
    int reason = dom->stop_reason >= 0 ? dom->stop_reason : REASON_SHUTOFF_CRASHED;
    /* a QEMU that died on its own is "crashed" with the failed event, as in libvirt; a guest
     * panic whose on_crash destroyed it is "crashed" with the crashed event */
    int detail = reason == REASON_SHUTOFF_DESTROYED           ? EV_STOPPED_DESTROYED
                 : reason == REASON_SHUTOFF_SHUTDOWN          ? EV_STOPPED_SHUTDOWN
                 : dom->stop_reason == REASON_SHUTOFF_CRASHED ? EV_STOPPED_CRASHED
                                                              : EV_STOPPED_FAILED;
    domain_stopped(dom, reason, detail);
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
    if (dom->pidfd >= 0 && dom->job.kind != JOB_START)
        qemu_process_signal(dom->pidfd, SIGKILL, NULL);
}

static void
start_complete(struct start_ctx *ctx)
{
    struct domain *dom = ctx->dom;
    ctx->finished = TRUE;
    g_hash_table_remove(start_ctxs, dom);
    dom->job.abort = NULL;
    core_job_end(dom);
    if (ctx->flags & CORE_START_PAUSED) {
        core_domain_set_state(dom, DOM_PAUSED, REASON_PAUSED_USER, EV_STARTED, EV_STARTED_BOOTED);
        core_domain_emit(dom, EV_SUSPENDED, EV_SUSPENDED_PAUSED);
    } else {
        core_domain_set_state(dom, DOM_RUNNING, REASON_RUNNING_BOOTED, EV_RESUMED,
                              EV_RESUMED_UNPAUSED);
        core_domain_emit(dom, EV_STARTED, EV_STARTED_BOOTED);
    }
    log_info("%s: started, id %d, pid %d", dom->def->name, dom->id, (int)dom->pid);
    finish(ctx->done, ctx->data, NULL);
    core_domain_unref(dom);
    ctx_release(ctx);
}

static void
on_cont(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct start_ctx *ctx = data;
    if (!ctx->finished) {
        if (error)
            start_fail(ctx, g_error_copy(error));
        else
            start_complete(ctx);
    }
    ctx_release(ctx);
}

static void
on_query_vnc(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct start_ctx *ctx = data;
    if (!ctx->finished && !error && result && JSON_NODE_HOLDS_OBJECT(result)) {
        JsonObject *o = json_node_get_object(result);
        const char *service = json_object_get_string_member_with_default(o, "service", NULL);
        guint64 port;
        if (service && ctx->dom->def->graphics->len > 0 &&
            g_ascii_string_to_unsigned(service, 10, 1, 65535, &port, NULL)) {
            struct graphics_def *g = ctx->dom->def->graphics->pdata[0];
            g->port = (int)port;
        }
    }
    ctx_release(ctx);
}

static void
on_setup_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct start_ctx *ctx = data;
    if (!ctx->finished && error)
        start_fail(ctx, g_error_copy(error));
    ctx_release(ctx);
}

/* Records the pty paths QEMU chose in the live definition. */
static void
record_ptys(struct domain_def *def, JsonNode *result)
{
    JsonArray *arr = JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        const char *label = json_object_get_string_member_with_default(o, "label", "");
        const char *filename = json_object_get_string_member_with_default(o, "filename", "");
        if (!g_str_has_prefix(filename, "pty:"))
            continue;
        guint idx;
        if (sscanf(label, "charserial%u", &idx) == 1 && idx < def->serials->len) {
            struct chr_def *chr = def->serials->pdata[idx];
            g_free(chr->source_path);
            chr->source_path = g_strdup(filename + 4);
            /* the console that mirrors serial 0 shows the same pty */
            for (guint j = 0; idx == 0 && j < def->consoles->len; j++) {
                struct chr_def *con = def->consoles->pdata[j];
                if (con->type == CHR_TYPE_PTY &&
                    (!con->target_type || g_str_equal(con->target_type, "serial"))) {
                    g_free(con->source_path);
                    con->source_path = g_strdup(filename + 4);
                }
            }
        } else if (sscanf(label, "charconsole%u", &idx) == 1 && idx < def->consoles->len) {
            struct chr_def *con = def->consoles->pdata[idx];
            g_free(con->source_path);
            con->source_path = g_strdup(filename + 4);
        }
    }
}

static void
on_query_chardev(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct start_ctx *ctx = data;
    if (!ctx->finished) {
        if (error)
            start_fail(ctx, g_error_copy(error));
        else
            record_ptys(ctx->dom->def, result);
    }
    ctx_release(ctx);
}

/* The whole start-up exchange goes out at once: QEMU answers in order, so this costs one
 * round trip instead of several. cont comes last; should anything before it fail, the start
 * fails and QEMU is killed. */
static void
start_commands(struct start_ctx *ctx)
{
    struct domain *dom = ctx->dom;
    qmp_command(dom->mon, "query-chardev", NULL, on_query_chardev, ctx_hold(ctx));
    for (guint i = 0; i < dom->def->graphics->len; i++) {
        struct graphics_def *g = dom->def->graphics->pdata[i];
        if (g->passwd) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "protocol", "vnc");
            json_object_set_string_member(args, "password", g->passwd);
            qmp_command(dom->mon, "set_password", args, on_setup_reply, ctx_hold(ctx));
        }
        if (g->autoport || g->port < 0)
            qmp_command(dom->mon, "query-vnc", NULL, on_query_vnc, ctx_hold(ctx));
    }
    if (ctx->flags & CORE_START_PAUSED)
        qmp_command(dom->mon, "query-status", NULL, on_cont, ctx_hold(ctx));
    else
        qmp_command(dom->mon, "cont", NULL, on_cont, ctx_hold(ctx));
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

/* Kills a QEMU that failed to start and reaps it: it is our child and SIGKILL takes effect at
 * once, so the wait on its pidfd is short (and bounded). */
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

static void
start_fail(struct start_ctx *ctx, GError *error)
{
    struct domain *dom = ctx->dom;
    ctx->finished = TRUE;
    g_hash_table_remove(start_ctxs, dom);
    dom->job.abort = NULL;
    gboolean destroyed = dom->stop_reason == REASON_SHUTOFF_DESTROYED;
    if (destroyed) {
        g_clear_error(&error);
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_ABORTED, "start was cut short by destroy");
    } else if (process_gone(dom)) {
        /* whatever the monitor said last, QEMU itself quit: its log says why */
        g_clear_error(&error);
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU quit during start-up");
    }
    prefix_log_tail(dom, &error);
    g_prefix_error(&error, "starting '%s': ", dom->def->name);
    log_warn("%s", error->message);
    kill_and_reap(dom);
    if (destroyed)
        domain_stopped(dom, REASON_SHUTOFF_DESTROYED, EV_STOPPED_DESTROYED);
    else
        domain_stopped(dom, REASON_SHUTOFF_FAILED, EV_STOPPED_FAILED);
    finish(ctx->done, ctx->data, error);
    g_error_free(error);
    core_domain_unref(dom);
    ctx_release(ctx);
}

static struct start_ctx *current_start_ctx(struct domain *dom);

static void
start_job_abort(struct domain *dom)
{
    struct start_ctx *ctx = current_start_ctx(dom);
    if (!ctx || ctx->finished)
        return;
    GError *err = NULL;
    if (dom->stop_reason == REASON_SHUTOFF_DESTROYED)
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_ABORTED, "start was cut short by destroy");
    else
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU exited during start");
    start_fail(ctx, err);
}

static struct start_ctx *
current_start_ctx(struct domain *dom)
{
    return start_ctxs ? g_hash_table_lookup(start_ctxs, dom) : NULL;
}

static int
monitor_listen(const char *path, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) > SOCKET_PATH_MAX) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "monitor socket path '%s' is %zu bytes, over the limit of %zu; use a shorter "
                "state directory (--root) or domain name",
                path, strlen(path), SOCKET_PATH_MAX);
        return -1;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot create monitor socket");
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

static char *
resolve_emulator(struct domain *dom, GError **error)
{
    const char *given = dom->def->emulator;
    if (given && g_file_test(given, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup(given);
    /* e.g. /usr/bin/qemu-kvm from another distribution: the host's binary for the arch */
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

/* Everything up to the spawned QEMU and a monitor connection. */
static gboolean
start_spawn(struct domain *dom, GError **error)
{
    struct core *core = dom->core;
    g_autofree char *emulator = resolve_emulator(dom, error);
    if (!emulator)
        return FALSE;
    gboolean kvm = dom->def->virt_type == DOMAIN_VIRT_KVM;
    if (kvm && !qemu_caps_kvm_usable()) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "domain type 'kvm' needs a usable /dev/kvm on this host; use type 'qemu'");
        return FALSE;
    }
    if (!core_storage_resolve_disks(core, dom->def, error))
        return FALSE;
    struct qemu_command_opts opts = {
        .emulator = emulator,
        .kvm = kvm,
        .channel_dir = core->paths.channel_dir,
    };
    g_auto(GStrv) argv = qemu_command_build(dom->def, &opts, error);
    if (!argv || !check_paths(dom, error))
        return FALSE;
    g_autofree char *mon_path =
        g_strdup_printf("%s/%s.monitor", core->paths.status_dir, dom->def->name);
    autoclose int listen_fd = monitor_listen(mon_path, error);
    if (listen_fd < 0)
        return FALSE;
    int id = core->next_id;
    core->next_id++;
    if (!save_next_id(core, error)) {
        core->next_id--;
        unlink(mon_path);
        return FALSE;
    }
    g_autofree char *lp = log_path(dom);
    {
        g_autofree char *cmd = g_strjoinv(" ", argv);
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
    if (!qemu_process_spawn(argv, lp, listen_fd, &pid, &pidfd, error)) {
        unlink(mon_path);
        return FALSE;
    }
    dom->pid = pid;
    dom->pidfd = pidfd;
    dom->exited = FALSE;
    dom->id = id;
    g_ptr_array_set_size(dom->messages, 0);
    /* as libvirtd reports it: QEMU runs as root, with the daemon's privileges */
    if (geteuid() == 0)
        g_ptr_array_add(dom->messages,
                        g_strdup("tainted: running with undesirable elevated privileges"));
    dom->emulator = g_steal_pointer(&emulator);
    dom->monitor_path = g_steal_pointer(&mon_path);
    g_hash_table_insert(core->by_id, GINT_TO_POINTER(id), dom);
    dom->pid_watch = g_unix_fd_add(pidfd, G_IO_IN, on_process_exit, dom);
    int fd = monitor_connect(dom->monitor_path, error);
    if (fd < 0)
        return FALSE;
    struct qmp_callbacks cb = {.event = on_qmp_event, .closed = on_qmp_closed};
    dom->mon = qmp_new(fd, dom->def->name, &cb, dom, core->monitor_timeout_ms);
    return TRUE;
}

/* LIVE (consumed, may be NULL) is the config to run; NULL runs a copy of the persistent one. */
static void
start_running(struct domain *dom, struct domain_def *live, unsigned flags, core_done_fn done,
              gpointer data)
{
    g_autoptr(domain_def) live_def = live;
    GError *error = NULL;
    if (state_is_active(dom->state)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                dom->def->name);
        finish(done, data, error);
        g_error_free(error);
        return;
    }
    if (!core_job_begin(dom, JOB_START, &error)) {
        finish(done, data, error);
        g_error_free(error);
        return;
    }
    /* the live config starts as a copy of the persistent one */
    if (dom->persistent) {
        dom->new_def = dom->def;
        dom->def = live_def ? g_steal_pointer(&live_def) : domain_def_copy(dom->new_def);
    }
    struct start_ctx *ctx = g_new0(struct start_ctx, 1);
    ctx->dom = core_domain_ref(dom);
    ctx->flags = flags;
    ctx->done = done;
    ctx->data = data;
    ctx->holds = 1;
    if (!start_ctxs)
        start_ctxs = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_insert(start_ctxs, dom, ctx);
    dom->job.abort = start_job_abort;
    dom->autodestroy = (flags & CORE_START_AUTODESTROY) != 0;
    dom->updated = FALSE;
    if (!start_spawn(dom, &error)) {
        g_hash_table_remove(start_ctxs, dom);
        ctx->finished = TRUE;
        dom->job.abort = NULL;
        if (dom->pidfd >= 0) {
            prefix_log_tail(dom, &error);
            kill_and_reap(dom);
        }
        g_prefix_error(&error, "starting '%s': ", dom->def->name);
        /* nothing ran: no state change and no event unless a QEMU existed */
        if (dom->pid) {
            domain_stopped(dom, REASON_SHUTOFF_FAILED, EV_STOPPED_FAILED);
        } else {
            if (dom->new_def) {
                domain_def_free(dom->def);
                dom->def = g_steal_pointer(&dom->new_def);
            }
            core_job_end(dom);
            if (!dom->persistent && !dom->removed)
                core_forget(dom->core, dom);
        }
        finish(done, data, error);
        g_error_free(error);
        core_domain_unref(dom);
        ctx_release(ctx);
        return;
    }
    core_domain_set_state(dom, DOM_PAUSED, REASON_PAUSED_STARTING_UP, -1, 0);
    start_commands(ctx);
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
    if (!def)
        return NULL;
    struct domain *dom = NULL;
    if (!core_check_unique(core, def, &dom, error))
        return NULL;
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
        core_domain_set_state(dom, DOM_RUNNING, REASON_RUNNING_BOOTED, -1, 0);
        break;
    case DOMAIN_ACTION_PRESERVE:
        /* a panicked guest stays crashed; a powered-off one stays paused */
        if (!crashed)
            core_domain_set_state(dom, DOM_PAUSED, REASON_PAUSED_SHUTTING_DOWN, EV_SUSPENDED,
                                  EV_SUSPENDED_PAUSED);
        break;
    case DOMAIN_ACTION_DESTROY:
    case DOMAIN_ACTION_COREDUMP_DESTROY:
        dom->stop_reason = crashed ? REASON_SHUTOFF_CRASHED : REASON_SHUTOFF_SHUTDOWN;
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
    const char *reason = data ? json_object_get_string_member_with_default(data, "reason", "") : "";
    gboolean guest =
        data ? json_object_get_boolean_member_with_default(data, "guest", FALSE) : FALSE;
    if (dom->stop_reason >= 0)
        return; /* our own SIGTERM or quit: the exit decides */
    if (g_str_equal(reason, "host-signal")) {
        /* someone else signalled QEMU; it exits on its own whatever -no-shutdown says */
        dom->stop_reason = REASON_SHUTOFF_SHUTDOWN;
        core_domain_set_state(dom, DOM_SHUTDOWN, REASON_SHUTDOWN_USER, EV_SHUTDOWN,
                              EV_SHUTDOWN_HOST);
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
    core_domain_set_state(dom, DOM_SHUTDOWN, REASON_SHUTDOWN_USER, EV_SHUTDOWN,
                          guest ? EV_SHUTDOWN_GUEST : EV_SHUTDOWN_HOST);
    /* with -no-reboot a guest reboot arrives here as a guest-reset shutdown */
    enum domain_action action =
        g_str_equal(reason, "guest-reset") ? dom->def->on_reboot : dom->def->on_poweroff;
    apply_action(dom, action, FALSE);
}

static void
on_qmp_event(struct qmp *mon, const char *event, JsonObject *data, gpointer user)
{
    struct domain *dom = user;
    if (dom->job.kind == JOB_START)
        return;
    if (g_str_equal(event, "SHUTDOWN")) {
        on_shutdown_event(dom, data);
    } else if (g_str_equal(event, "STOP")) {
        if (dom->state == DOM_RUNNING && dom->job.kind != JOB_SUSPEND && !dom->resetting &&
            !dom->fake_reboot)
            core_domain_set_state(dom, DOM_PAUSED, REASON_PAUSED_UNKNOWN, EV_SUSPENDED,
                                  EV_SUSPENDED_PAUSED);
    } else if (g_str_equal(event, "RESUME")) {
        if (dom->state == DOM_PAUSED && dom->job.kind != JOB_RESUME)
            core_domain_set_state(dom, DOM_RUNNING, REASON_RUNNING_UNPAUSED, EV_RESUMED,
                                  EV_RESUMED_UNPAUSED);
    } else if (g_str_equal(event, "RESET")) {
        /* a fake reboot's reset and cont may each reset the machine: one reboot event */
        if (!dom->resetting || !dom->reset_reported)
            core_domain_emit_reboot(dom);
        dom->reset_reported = dom->resetting;
    } else if (g_str_equal(event, "GUEST_PANICKED")) {
        core_domain_set_state(dom, DOM_CRASHED, REASON_CRASHED_PANICKED, EV_CRASHED,
                              EV_CRASHED_PANICKED);
        apply_action(dom, dom->def->on_crash, TRUE);
    } else if (g_str_equal(event, "BLOCK_IO_ERROR")) {
        log_warn("%s: disk I/O error", dom->def->name);
    }
}

/* --- simple monitor operations: one job, one command, state change on success --- */

struct op_ctx {
    struct domain *dom;
    core_done_fn done;
    gpointer data;
};

static struct op_ctx *
op_begin(struct domain *dom, enum job_kind kind, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (!require_active(dom, &error) || !core_job_begin(dom, kind, &error)) {
        finish(done, data, error);
        g_error_free(error);
        return NULL;
    }
    struct op_ctx *ctx = g_new0(struct op_ctx, 1);
    ctx->dom = core_domain_ref(dom);
    ctx->done = done;
    ctx->data = data;
    return ctx;
}

static void
op_end(struct op_ctx *ctx, const GError *error)
{
    struct domain *dom = ctx->dom;
    /* destroy may have ended the job (and the domain) meanwhile */
    if (state_is_active(dom->state) && dom->job.kind != JOB_NONE && dom->job.kind != JOB_START)
        core_job_end(dom);
    GError *copy = error ? g_error_copy(error) : NULL;
    finish(ctx->done, ctx->data, copy);
    if (copy)
        g_error_free(copy);
    core_domain_unref(dom);
    g_free(ctx);
}

static void
on_suspend_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct op_ctx *ctx = data;
    if (!error && ctx->dom->state == DOM_RUNNING)
        core_domain_set_state(ctx->dom, DOM_PAUSED, REASON_PAUSED_USER, EV_SUSPENDED,
                              EV_SUSPENDED_PAUSED);
    op_end(ctx, error);
}

void
core_domain_suspend(struct domain *dom, core_done_fn done, gpointer data)
{
    struct op_ctx *ctx = op_begin(dom, JOB_SUSPEND, done, data);
    if (ctx)
        qmp_command(dom->mon, "stop", NULL, on_suspend_reply, ctx);
}

static void
on_resume_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct op_ctx *ctx = data;
    if (!error && ctx->dom->state == DOM_PAUSED)
        core_domain_set_state(ctx->dom, DOM_RUNNING, REASON_RUNNING_UNPAUSED, EV_RESUMED,
                              EV_RESUMED_UNPAUSED);
    op_end(ctx, error);
}

void
core_domain_resume(struct domain *dom, core_done_fn done, gpointer data)
{
    struct op_ctx *ctx = op_begin(dom, JOB_RESUME, done, data);
    if (ctx)
        qmp_command(dom->mon, "cont", NULL, on_resume_reply, ctx);
}

static void
on_plain_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    op_end(data, error);
}

void
core_domain_reset(struct domain *dom, core_done_fn done, gpointer data)
{
    struct op_ctx *ctx = op_begin(dom, JOB_RESET, done, data);
    if (ctx)
        qmp_command(dom->mon, "system_reset", NULL, on_plain_reply, ctx);
}

/* virDomainShutdownFlagValues / virDomainRebootFlagValues */
enum {
    POWER_DEFAULT = 0,
    POWER_ACPI = 1,
    POWER_AGENT = 2,
    POWER_INITCTL = 4,
    POWER_SIGNAL = 8,
    POWER_PARAVIRT = 16
};

static gboolean
check_power_flags(struct domain *dom, unsigned flags, const char *what, GError **error)
{
    if (flags &
        ~(unsigned)(POWER_ACPI | POWER_AGENT | POWER_INITCTL | POWER_SIGNAL | POWER_PARAVIRT)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x) in %s", flags,
                what);
        return FALSE;
    }
    if (flags & ~(unsigned)(POWER_ACPI | POWER_AGENT)) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                "%s modes other than 'acpi' and 'agent' are not supported for domain '%s'", what,
                dom->def->name);
        return FALSE;
    }
    if (flags == POWER_AGENT && !core_guest_has_agent(dom)) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                "QEMU guest agent is not configured for domain '%s'", dom->def->name);
        return FALSE;
    }
    return TRUE;
}

struct power_ctx {
    struct op_ctx *op;
    enum job_kind kind;
    gboolean acpi_fallback;
};

static void
power_acpi(struct op_ctx *ctx, enum job_kind kind)
{
    if (kind == JOB_REBOOT)
        ctx->dom->fake_reboot = TRUE;
    /* the reply comes once the power button is pressed; the guest decides what follows */
    qmp_command(ctx->dom->mon, "system_powerdown", NULL, on_plain_reply, ctx);
}

static void
on_agent_power_done(GError *error, gpointer data)
{
    struct power_ctx *pc = data;
    struct op_ctx *ctx = pc->op;
    if (error && pc->acpi_fallback && ctx->dom->mon && state_is_active(ctx->dom->state)) {
        log_info("%s: guest agent %s failed (%s); pressing the ACPI power button",
                 ctx->dom->def->name, pc->kind == JOB_REBOOT ? "reboot" : "shutdown",
                 error->message);
        power_acpi(ctx, pc->kind);
    } else {
        op_end(ctx, error);
    }
    g_free(pc);
}

/* As libvirt: with no mode, the agent when the domain has one, else ACPI; a failed agent
 * falls back to ACPI unless the agent alone was asked for. */
static void
power_op(struct domain *dom, enum job_kind kind, unsigned flags, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (!check_power_flags(dom, flags, kind == JOB_REBOOT ? "reboot" : "shutdown", &error)) {
        finish(done, data, error);
        g_error_free(error);
        return;
    }
    gboolean use_agent = (flags & POWER_AGENT) || (flags == 0 && core_guest_has_agent(dom));
    gboolean use_acpi = flags == 0 || (flags & POWER_ACPI);
    struct op_ctx *ctx = op_begin(dom, kind, done, data);
    if (!ctx)
        return;
    if (use_agent && core_guest_has_agent(dom)) {
        struct power_ctx *pc = g_new0(struct power_ctx, 1);
        pc->op = ctx;
        pc->kind = kind;
        pc->acpi_fallback = use_acpi;
        core_guest_agent_power(dom, kind == JOB_REBOOT ? "reboot" : "powerdown",
                               on_agent_power_done, pc);
        return;
    }
    power_acpi(ctx, kind);
}

void
core_domain_shutdown(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    power_op(dom, JOB_SHUTDOWN, flags, done, data);
}

void
core_domain_reboot(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    power_op(dom, JOB_REBOOT, flags, done, data);
}

/* --- destroy --- */

struct destroy_ctx {
    struct domain *dom;
    guint timer;
    unsigned flags;
    core_done_fn done;
    gpointer data;
};

static void
destroy_exited(GError *error, gpointer data)
{
    struct destroy_ctx *ctx = data;
    if (ctx->timer)
        g_source_remove(ctx->timer);
    finish(ctx->done, ctx->data, error);
    core_domain_unref(ctx->dom);
    g_free(ctx);
}

static gboolean
destroy_timeout(gpointer data)
{
    struct destroy_ctx *ctx = data;
    ctx->timer = 0;
    if (ctx->dom->pidfd < 0)
        return G_SOURCE_REMOVE;
    if (ctx->flags & CORE_DESTROY_GRACEFUL) {
        /* leave it running; report the failure to this caller only */
        struct domain *dom = ctx->dom;
        for (guint i = 0; i < dom->job_waiters->len; i++) {
            struct waiter *w = dom->job_waiters->pdata[i];
            if (w->data == ctx) {
                g_ptr_array_remove_index(dom->job_waiters, i);
                g_free(w);
                break;
            }
        }
        dom->stop_reason = -1;
        GError *err = NULL;
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_TIMEOUT,
                "QEMU of '%s' did not exit within %d ms of SIGTERM; destroy without "
                "--graceful kills it",
                dom->def->name, DESTROY_KILL_AFTER_MS);
        destroy_exited(err, ctx);
        g_error_free(err);
        return G_SOURCE_REMOVE;
    }
    log_warn("%s: QEMU ignored SIGTERM for %d ms; killing it", ctx->dom->def->name,
             DESTROY_KILL_AFTER_MS);
    qemu_process_signal(ctx->dom->pidfd, SIGKILL, NULL);
    return G_SOURCE_REMOVE;
}

void
core_domain_destroy(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    if (flags & ~(unsigned)CORE_DESTROY_GRACEFUL) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x) in destroy",
                flags);
    } else if (!state_is_active(dom->state) || dom->pidfd < 0) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
    }
    if (error) {
        finish(done, data, error);
        g_error_free(error);
        return;
    }
    /* never refused because of a job: the job fails when QEMU is gone */
    struct destroy_ctx *ctx = g_new0(struct destroy_ctx, 1);
    ctx->dom = core_domain_ref(dom);
    ctx->flags = flags;
    ctx->done = done;
    ctx->data = data;
    dom->stop_reason = REASON_SHUTOFF_DESTROYED;
    add_exit_waiter(dom, destroy_exited, ctx);
    GError *serr = NULL;
    if (!qemu_process_signal(dom->pidfd, SIGTERM, &serr)) {
        log_warn("%s: %s", dom->def->name, serr->message);
        g_error_free(serr);
    }
    ctx->timer = g_timeout_add(DESTROY_KILL_AFTER_MS, destroy_timeout, ctx);
}

/* --- queries and daemon-level duties --- */

guint64
core_domain_cpu_time(struct domain *dom)
{
    if (!state_is_active(dom->state) || dom->pid <= 0)
        return 0;
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)dom->pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    /* fields after the ")" that closes comm: state is field 3, utime 14, stime 15 */
    char *p = strrchr(text, ')');
    if (!p)
        return 0;
    g_auto(GStrv) f = g_strsplit(p + 2, " ", 0);
    if (g_strv_length(f) < 13)
        return 0;
    guint64 utime = g_ascii_strtoull(f[11], NULL, 10);
    guint64 stime = g_ascii_strtoull(f[12], NULL, 10);
    long hz = sysconf(_SC_CLK_TCK);
    return (utime + stime) * (1000000000ULL / (guint64)(hz > 0 ? hz : 100));
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
    if (error || !JSON_NODE_HOLDS_OBJECT(result))
        return;
    JsonObject *o = json_node_get_object(result);
    gboolean running = json_object_get_boolean_member_with_default(o, "running", FALSE);
    if (running && dom->state != DOM_RUNNING)
        core_domain_set_state(dom, DOM_RUNNING, REASON_RUNNING_UNPAUSED, EV_RESUMED,
                              EV_RESUMED_UNPAUSED);
    else if (!running && dom->state == DOM_RUNNING)
        core_domain_set_state(dom, DOM_PAUSED, REASON_PAUSED_UNKNOWN, EV_SUSPENDED,
                              EV_SUSPENDED_PAUSED);
}

void core_lifecycle_adopt(struct domain *dom, int monitor_fd);

void
core_lifecycle_adopt(struct domain *dom, int monitor_fd)
{
    dom->pid_watch = g_unix_fd_add(dom->pidfd, G_IO_IN, on_process_exit, dom);
    struct qmp_callbacks cb = {.event = on_qmp_event, .closed = on_qmp_closed};
    dom->mon = qmp_new(monitor_fd, dom->def->name, &cb, dom, dom->core->monitor_timeout_ms);
    /* state may have changed while nobody listened */
    qmp_command(dom->mon, "query-status", NULL, on_adopt_status, dom);
}
