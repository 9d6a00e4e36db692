/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reconnect: after a daemon restart, adopt every QEMU still alive from its status file. The
 * QEMUs are no longer our children, so their exit is watched through a pidfd. */
#include "core/core.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/lifecycle.h"
#include "core/network.h"
#include "core/qos.h"
#include "core/snapshot.h"
#include "qemu/command.h"
#include "qemu/monitor.h"
#include "qemu/process.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

struct status {
    enum dom_state state;
    int reason;
    pid_t pid;
    int id;
    gboolean persistent;
    gboolean autodestroy;
    unsigned vcpus_created;
    int agent_timeout;
    char *monitor;
    char *emulator;
    char *job;
    char *job_file;
    struct domain_def *def;
};

static void
status_clear(struct status *st)
{
    g_free(st->monitor);
    g_free(st->emulator);
    g_free(st->job);
    g_free(st->job_file);
    domain_def_free(st->def);
}

static char *
prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    char *out = g_strdup((const char *)v);
    xmlFree(v);
    return out;
}

static gboolean
status_parse(const char *path, struct status *st, GError **error)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return FALSE;
    xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), path, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "status file '%s' is not XML", path);
        return FALSE;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autofree char *state = prop(root, "state");
    g_autofree char *reason = prop(root, "reason");
    g_autofree char *pid = prop(root, "pid");
    g_autofree char *id = prop(root, "id");
    g_autofree char *persistent = prop(root, "persistent");
    g_autofree char *autodestroy = prop(root, "autodestroy");
    guint64 v;
    /* pid 0: the intent of a start, written before any process existed */
    gboolean ok = state && state_from_string(state) >= 0 && pid &&
                  g_ascii_string_to_unsigned(pid, 10, 0, G_MAXINT, &v, NULL);
    if (ok) {
        st->pid = (pid_t)v;
        st->state = state_from_string(state);
        guint64 r = 0;
        if (reason)
            g_ascii_string_to_unsigned(reason, 10, 0, G_MAXINT, &r, NULL);
        st->reason = (int)r;
        ok = id && g_ascii_string_to_unsigned(id, 10, 0, G_MAXINT, &v, NULL);
        st->id = (int)v;
    }
    st->persistent = persistent && g_str_equal(persistent, "yes");
    st->autodestroy = autodestroy && g_str_equal(autodestroy, "yes");
    g_autofree char *created = prop(root, "vcpus-created");
    guint64 c = 0;
    if (created && g_ascii_string_to_unsigned(created, 10, 0, G_MAXUINT, &c, NULL))
        st->vcpus_created = (unsigned)c;
    g_autofree char *agent_timeout = prop(root, "agent-timeout");
    gint64 t = -1;
    if (agent_timeout)
        g_ascii_string_to_signed(agent_timeout, 10, -2, G_MAXINT, &t, NULL);
    st->agent_timeout = (int)t;
    for (xmlNodePtr n = root ? root->children : NULL; ok && n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, (const xmlChar *)"monitor"))
            st->monitor = prop(n, "path");
        else if (xmlStrEqual(n->name, (const xmlChar *)"emulator"))
            st->emulator = prop(n, "path");
        else if (xmlStrEqual(n->name, (const xmlChar *)"job")) {
            st->job = prop(n, "kind");
            st->job_file = prop(n, "file");
        } else if (xmlStrEqual(n->name, (const xmlChar *)"domain")) {
            xmlBufferPtr buf = xmlBufferCreate();
            xmlNodeDump(buf, doc, n, 0, 0);
            st->def = domain_def_parse((const char *)xmlBufferContent(buf), DOMAIN_DEF_PARSE_STATUS,
                                       error);
            xmlBufferFree(buf);
            if (!st->def) {
                xmlFreeDoc(doc);
                return FALSE;
            }
        }
    }
    xmlFreeDoc(doc);
    if (!ok || !st->def || !st->monitor || !st->emulator) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "status file '%s' is incomplete", path);
        return FALSE;
    }
    return TRUE;
}

/* SIGKILL to the process of PIDFD (closed), and a moment for it to exit (its cgroup cannot go
 * before) */
static void
kill_and_wait(int pidfd)
{
    qemu_process_kill_wait(pidfd, 2000);
    close(pidfd);
}

static void
reconnect_one(struct core *core, const char *path)
{
    struct status st = {0};
    g_autoptr(GError) err = NULL;
    if (!status_parse(path, &st, &err)) {
        log_warn("removing unreadable status: %s", err->message);
        unlink(path);
        status_clear(&st);
        return;
    }
    const char *name = st.def->name;
    g_autofree char *marker = qemu_command_name_arg(name);
    /* a restore is a start whose QEMU loads a saved state, an incoming migration one that
     * loads it from another host: caught midway, it is not adopted (the source, told nothing
     * went through, keeps the guest) */
    gboolean starting = st.job && (g_str_equal(st.job, "start") || g_str_equal(st.job, "restore") ||
                                   g_str_equal(st.job, "migration-in"));
    gboolean alive = st.pid > 0 && qemu_process_matches(st.pid, st.emulator, marker);
    /* a child forked for a start that has not run QEMU yet exits by itself (its daemon is
     * gone); killed all the same so that it cannot race this check */
    gboolean waiting = st.pid > 0 && starting && qemu_process_is_waiting_child(st.pid);
    int pidfd = alive || waiting ? qemu_process_pidfd(st.pid, NULL) : -1;
    struct domain *dom = g_hash_table_lookup(core->by_name, name);
    if (pidfd >= 0 && starting) {
        /* caught mid-start: its setup is unknown, so it is not adopted */
        log_warn("%s: QEMU pid %d was caught mid-start; killing it", name, (int)st.pid);
        kill_and_wait(pidfd);
        pidfd = -1;
    }
    int monfd = pidfd >= 0 ? file_connect_unix(st.monitor, FALSE) : -1;
    if (monfd < 0) {
        if (pidfd >= 0) {
            log_warn("%s: cannot reach the monitor of pid %d; killing it", name, (int)st.pid);
            kill_and_wait(pidfd);
        }
        log_info("%s: its QEMU is gone; marking it shut off", name);
        core_qos_remove_leftover(core, name);
        core_backup_forget(core, name);
        unlink(path);
        unlink(st.monitor);
        if (dom) {
            dom->state = DOM_SHUTOFF;
            dom->reason = REASON_SHUTOFF_UNKNOWN;
            core_checkpoint_recover(dom); /* from its images now */
        }
        status_clear(&st);
        return;
    }
    if (dom && !dom->persistent) {
        log_warn("%s: duplicate status; ignoring '%s'", name, path);
        close(monfd);
        close(pidfd);
        status_clear(&st);
        return;
    }
    if (dom) {
        dom->new_def = dom->def;
        dom->def = g_steal_pointer(&st.def);
    } else {
        dom = core_register(core, g_steal_pointer(&st.def), FALSE);
    }
    dom->pid = st.pid;
    dom->pidfd = pidfd;
    dom->id = st.id;
    dom->state = st.state;
    dom->reason = st.reason;
    dom->autodestroy = st.autodestroy;
    dom->vcpus_created = st.vcpus_created;
    dom->agent_timeout = st.agent_timeout;
    dom->monitor_path = g_steal_pointer(&st.monitor);
    dom->emulator = g_steal_pointer(&st.emulator);
    g_hash_table_insert(core->by_id, GINT_TO_POINTER(dom->id), dom);
    if (core->next_id <= dom->id)
        core->next_id = dom->id + 1;
    if (st.job &&
        (g_str_equal(st.job, "snapshot-delete") || g_str_equal(st.job, "snapshot-revert"))) {
        /* a block job of QEMU's it left is cancelled (core_snapshot_recover) */
        dom->snapshot_interrupted = TRUE;
    } else if (st.job && (g_str_equal(st.job, "save") || g_str_equal(st.job, "snapshot") ||
                          g_str_equal(st.job, "dump"))) {
        /* undone once QEMU's state is known (lifecycle_save_recover; a snapshot's memory and
         * a dump are written as a save is), then a snapshot is finished or undone by what
         * QEMU has (core_snapshot_recover) */
        dom->save_interrupted = TRUE;
        dom->save_file = g_steal_pointer(&st.job_file);
        dom->snapshot_interrupted = g_str_equal(st.job, "snapshot");
    }
    /* an outgoing migration: cancelled, or, if QEMU finished sending, left paused
     * (core_migrate_recover) */
    dom->migrate_interrupted = st.job && g_str_equal(st.job, "migration-out");
    /* a create whose steps were over (the status names no job) but whose outcome was not yet
     * kept: its record says so, and a guest it paused runs again (lifecycle_save_recover) */
    if (!dom->snapshot_interrupted && snapshot_pending_exists(dom)) {
        dom->snapshot_interrupted = TRUE;
        dom->save_interrupted = TRUE;
    }
    core_qos_adopt(dom);
    core_perf_adopt(dom);
    core_lifecycle_adopt(dom, monfd);
    core_backup_recover(dom);
    core_checkpoint_recover(dom);
    core_network_reattach(core, dom);
    log_info("%s: reconnected to QEMU pid %d (%s)", dom->def->name, (int)dom->pid,
             state_to_string(dom->state));
    status_clear(&st);
}

void
core_reconnect_all(struct core *core)
{
    g_autoptr(GDir) dir = g_dir_open(core->paths.status_dir, 0, NULL);
    if (!dir)
        return;
    const char *entry;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    while ((entry = g_dir_read_name(dir)))
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(files, g_build_filename(core->paths.status_dir, entry, NULL));
    for (guint i = 0; i < files->len; i++)
        reconnect_one(core, files->pdata[i]);
    /* the connections that owned autodestroy domains are gone with the old daemon */
    core_autodestroy_owner(core, NULL);
}
