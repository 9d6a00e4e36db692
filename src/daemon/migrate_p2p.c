/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate_p2p: peer-to-peer migration (virsh migrate --p2p): the source daemon drives the
 * destination daemon itself, over its own connection (libdomus, the same wire code as every
 * client), while the client waits for Perform's answer. Tunnelled (--tunnelled), QEMU's
 * stream goes through that connection too: QEMU writes into a pipe, a worker thread sends
 * what it reads as the PrepareTunnel call's stream, and the destination daemon writes it into
 * its QEMU's pipe. The phases on the source (Begin,
 * Perform, Confirm) run on the main loop as for a managed migration; the calls to the
 * destination (connect, Prepare, Finish) run in worker threads, one after the other, so the
 * loop never waits on the network.
 *
 * The connection to the destination keeps alive as the daemon's clients do ([limits]
 * keepalive_interval and keepalive_count): while the source's QEMU sends, a worker answers
 * the destination's pings and pings it, and a destination that stops answering (the link is
 * cut) aborts the migration here before the switch, while the destination, missing our
 * answers, drops its QEMU.
 *
 * The source knows the outcome, so the guest runs on exactly one host: when Finish fails
 * without saying why (the connection broke), a fresh connection asks the destination whether
 * it runs the guest before the source resumes or stops it; when the destination cannot be
 * reached at all, the guest stays paused here rather than risk two copies. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <unistd.h>

#include "core/migrate.h"
#include "daemon/dispatch.h"
#include "daemon/migrate_p2p.h"
#include "lib/migrate.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"
#include "util/uuid.h"

enum outcome { OUTCOME_NONE, OUTCOME_THERE, OUTCOME_HERE, OUTCOME_UNKNOWN };

struct p2p {
    struct call *call;
    struct domain *dom; /* a reference */
    struct migrate_params p;
    char *dconnuri;
    unsigned flags;
    unsigned dflags; /* what the destination is told */
    char *name;      /* the domain's name here */
    char *dname;     /* ... and there */
    char uuid[UUID_STRING_LEN];
    char *xml; /* Begin's */
    uint8_t *cookie;
    gsize cookie_len;
    domus_conn *dconn;
    char *uri; /* Prepare's answer */
    /* tunnelled: QEMU's stream goes from READ_FD (a pipe QEMU writes into) into STREAM, which
     * the destination daemon feeds its QEMU from; Perform and the pump both end before
     * Finish */
    domus_stream *stream;
    int read_fd;
    GError *pump_error; /* the pump thread's own: merged on the loop */
    guint waiting;
    /* not tunnelled: the watch on the connection while Perform runs, woken through WAKE */
    int wake[2];
    GError *watch_error; /* the watch thread's own: handled on the loop */
    int ka_interval, ka_count;
    gboolean perform_done;
    gboolean performed; /* Perform succeeded: the source waits for Confirm */
    gboolean cancelled;
    enum outcome outcome;
    GError *error; /* the first failure: what the client hears */
};

static void
p2p_free(struct p2p *m)
{
    file_close_fd(&m->read_fd);
    file_close_fd(&m->wake[0]);
    file_close_fd(&m->wake[1]);
    g_clear_error(&m->watch_error);
    core_domain_unref(m->dom);
    migrate_params_clear(&m->p);
    g_free(m->dconnuri);
    g_free(m->name);
    g_free(m->dname);
    g_free(m->xml);
    g_free(m->cookie);
    g_free(m->uri);
    g_clear_error(&m->error);
    g_clear_error(&m->pump_error);
    g_free(m);
}

static void
keep_error(struct p2p *m, GError *error)
{
    if (!m->error)
        m->error = error;
    else if (error)
        g_error_free(error);
}

/* The parameters for the destination: the client's, with Begin's definition, Prepare's URI
 * and the name there. */
static char **
pairs(struct p2p *m)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) given = migrate_params_to_pairs(&m->p);
    for (guint i = 0; given[i]; i += 2) {
        const char *f = given[i];
        if (g_str_equal(f, "destination_xml") || g_str_equal(f, "migrate_uri") ||
            g_str_equal(f, "destination_name"))
            continue;
        g_ptr_array_add(a, g_strdup(f));
        g_ptr_array_add(a, g_strdup(given[i + 1]));
    }
    const char *extra[][2] = {
        {"destination_xml", m->xml}, {"migrate_uri", m->uri}, {"destination_name", m->dname}};
    for (gsize i = 0; i < G_N_ELEMENTS(extra); i++) {
        if (!extra[i][1])
            continue;
        g_ptr_array_add(a, g_strdup(extra[i][0]));
        g_ptr_array_add(a, g_strdup(extra[i][1]));
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_steal(a, NULL);
}

typedef void (*thread_fn)(struct p2p *m);
typedef void (*loop_fn)(struct p2p *m);

struct hop {
    struct p2p *m;
    thread_fn work;
    loop_fn then;
};

static void
hop_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    struct hop *h = data;
    h->work(h->m);
    g_task_return_boolean(task, TRUE);
}

static void
hop_done(GObject *source, GAsyncResult *res, gpointer data)
{
    struct hop *h = g_task_get_task_data(G_TASK(res));
    h->then(h->m);
}

/* WORK in a worker thread, then THEN on the main loop. */
static void
hop(struct p2p *m, thread_fn work, loop_fn then)
{
    struct hop *h = g_new0(struct hop, 1);
    h->m = m;
    h->work = work;
    h->then = then;
    GTask *task = g_task_new(NULL, NULL, hop_done, NULL);
    g_task_set_task_data(task, h, g_free);
    g_task_run_in_thread(task, hop_in_thread);
    g_object_unref(task);
}

/* --- the end: the client hears, the connection to the destination closes --- */

static void
close_dconn(struct p2p *m)
{
    if (m->stream)
        domus_stream_free(m->stream);
    m->stream = NULL;
    domus_close(m->dconn);
    m->dconn = NULL;
}

static void
freed(struct p2p *m)
{
    p2p_free(m);
}

static void
answer(struct p2p *m)
{
    if (m->outcome == OUTCOME_THERE) {
        log_info("%s: migrated to '%s' (peer to peer)", m->name, m->dconnuri);
        g_autoptr(GByteArray) b = g_byte_array_new();
        xdr_put_opaque(b, NULL, 0); /* cookie_out: nothing for the client */
        call_reply(m->call, b);
    } else {
        if (!m->error)
            err_set(&m->error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "migration of '%s' to '%s' failed", m->name, m->dconnuri);
        dispatch_fail(m->call, g_steal_pointer(&m->error));
    }
    m->call = NULL;
    hop(m, close_dconn, freed);
}

static void
confirmed(GError *error, gpointer data)
{
    struct p2p *m = data;
    if (error)
        log_warn("%s: confirm after the migration: %s", m->name, error->message);
    answer(m);
}

/* --- Finish, and what the destination really has when it cannot say --- */

static void
verify(struct p2p *m)
{
    /* the first connection may be the broken one */
    g_autoptr(GError) e = NULL;
    domus_conn *c = domus_open(m->dconnuri, FALSE, &e);
    if (!c) {
        log_warn("%s: cannot reach '%s' to learn whether it runs the guest: %s", m->name,
                 m->dconnuri, e->message);
        m->outcome = OUTCOME_UNKNOWN;
        return;
    }
    domus_domain *d = domus_domain_lookup(c, m->uuid, &e);
    int state = 0, reason = 0;
    if (!d) {
        m->outcome = OUTCOME_HERE;
    } else if (!domus_domain_get_state(d, &state, &reason, NULL)) {
        m->outcome = OUTCOME_UNKNOWN;
    } else {
        /* running, or paused for another reason than the incoming migration: it is there */
        gboolean there = state == 1 || (state == 3 && reason != 2);
        m->outcome = there ? OUTCOME_THERE : OUTCOME_HERE;
    }
    domus_domain_free(d);
    domus_close(c);
}

static void
finish_in_thread(struct p2p *m)
{
    g_auto(GStrv) p = pairs(m);
    GError *e = NULL;
    domus_domain *d = client_migrate_finish(m->dconn, (const char *const *)p, m->dflags,
                                            m->cancelled, m->cookie, m->cookie_len, &e);
    if (d) {
        m->outcome = m->cancelled ? OUTCOME_HERE : OUTCOME_THERE;
        domus_domain_free(d);
        return;
    }
    if (m->cancelled) {
        g_clear_error(&e);
        m->outcome = OUTCOME_HERE;
        return;
    }
    /* an error the destination sent is its word; a broken connection says nothing */
    gboolean said = e && e->domain == DOMUS_ERROR && e->code != ERR_RPC &&
                    e->code != ERR_SYSTEM_ERROR && e->code != ERR_INTERNAL_ERROR;
    keep_error(m, e);
    if (said)
        m->outcome = OUTCOME_HERE;
    else
        verify(m);
}

static void
finished(struct p2p *m)
{
    switch (m->outcome) {
    case OUTCOME_THERE:
        core_migrate_confirm(m->dom, m->flags, FALSE, confirmed, m);
        break;
    case OUTCOME_UNKNOWN:
        /* neither resumed nor stopped: the guest may run there */
        core_migrate_owner_gone(m->dom->core, m);
        keep_error(m, NULL);
        answer(m);
        break;
    default:
        core_migrate_confirm(m->dom, m->flags, TRUE, confirmed, m);
        break;
    }
}

/* --- Perform --- */

/* Perform (and a tunnel's pump) are over: the destination hears the outcome. */
static void
after_perform(struct p2p *m)
{
    if (m->waiting > 0 && --m->waiting > 0)
        return;
    if (m->cancelled && !m->performed) {
        /* the source gave up and the guest runs on here: the destination drops its QEMU */
        hop(m, finish_in_thread, answer);
        return;
    }
    /* a tunnel that broke after QEMU sent everything: the destination drops its QEMU, and
     * Confirm (cancelled) resumes the guest here */
    hop(m, finish_in_thread, finished);
}

static void
performed(GError *error, char *cookie, gpointer data)
{
    struct p2p *m = data;
    g_free(m->cookie);
    m->cookie = (uint8_t *)cookie;
    m->cookie_len = cookie ? strlen(cookie) + 1 : 0;
    m->perform_done = TRUE;
    if (m->wake[1] >= 0 && write(m->wake[1], "", 1) < 0)
        log_warn("%s: cannot wake the connection's watch: %s", m->name, g_strerror(errno));
    if (error) {
        keep_error(m, error);
        m->cancelled = TRUE;
    } else {
        m->performed = TRUE;
    }
    after_perform(m);
}

#define PUMP_CHUNK (256 * 1024) /* a stream packet's most */

/* In a worker thread: QEMU's stream from the pipe into the tunnel, to its end. A failure
 * closes the pipe, so QEMU's migration fails too instead of waiting for a reader. */
static void
pump_in_thread(struct p2p *m)
{
    g_autofree uint8_t *buf = g_malloc(PUMP_CHUNK);
    GError *e = NULL;
    for (;;) {
        ssize_t n = read(m->read_fd, buf, PUMP_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set(&e, ERR_FROM_QEMU, ERR_SYSTEM_ERROR, "reading QEMU's migration stream: %s",
                    g_strerror(errno));
            break;
        }
        if (n == 0) {
            domus_stream_finish(m->stream, &e);
            break;
        }
        if (!domus_stream_send(m->stream, buf, (gsize)n, &e)) {
            g_prefix_error(&e, "sending the migration stream to '%s': ", m->dconnuri);
            break;
        }
    }
    file_close_fd(&m->read_fd);
    domus_stream_free(m->stream);
    m->stream = NULL;
    m->pump_error = e;
}

/* the pump's thread is over: its error joins on the loop */
static void
pumped(struct p2p *m)
{
    if (m->pump_error) {
        m->cancelled = TRUE;
        keep_error(m, g_steal_pointer(&m->pump_error));
    }
    after_perform(m);
}

/* In a worker thread while Perform runs: the connection to the destination kept alive, until
 * Perform's end wakes it or the destination stops answering. */
static void
watch_in_thread(struct p2p *m)
{
    GError *e = NULL;
    if (!client_migrate_watch(m->dconn, m->wake[0], &e))
        m->watch_error = e;
}

/* the watch is over: a destination lost before Perform's end stops the migration here */
static void
watched(struct p2p *m)
{
    GError *e = g_steal_pointer(&m->watch_error);
    if (e && !m->perform_done) {
        g_prefix_error(&e, "lost the destination '%s' mid-migration: ", m->dconnuri);
        log_warn("%s: %s; cancelling the migration", m->name, e->message);
        keep_error(m, e);
        g_autoptr(GError) abort_error = NULL;
        if (!core_domain_abort_job(m->dom, &abort_error))
            log_warn("%s: cannot cancel the migration: %s", m->name, abort_error->message);
    } else if (e) {
        g_error_free(e);
    }
    after_perform(m);
}

/* --- connect and Prepare --- */

static void
prepare_in_thread(struct p2p *m)
{
    GError *e = NULL;
    m->dconn = domus_open(m->dconnuri, FALSE, &e);
    if (!m->dconn) {
        g_prefix_error(&e, "cannot connect to the destination '%s': ", m->dconnuri);
        keep_error(m, e);
        return;
    }
    if (domus_conn_set_keepalive(m->dconn, m->ka_interval, (unsigned)m->ka_count, &e) < 0) {
        g_prefix_error(&e, "cannot set up keepalive with the destination '%s': ", m->dconnuri);
        keep_error(m, e);
        return;
    }
    g_auto(GStrv) p = pairs(m);
    uint8_t *cookie = NULL;
    gsize len = 0;
    char *uri = NULL;
    gboolean ok =
        (m->flags & MIGRATE_TUNNELLED)
            ? client_migrate_prepare_tunnel(m->dconn, (const char *const *)p, m->dflags, m->cookie,
                                            m->cookie_len, &cookie, &len, &m->stream, &e)
            : client_migrate_prepare(m->dconn, (const char *const *)p, m->dflags, m->cookie,
                                     m->cookie_len, &uri, &cookie, &len, &e);
    if (!ok) {
        keep_error(m, e);
        return;
    }
    g_free(m->cookie);
    m->cookie = cookie;
    m->cookie_len = len;
    m->uri = uri;
}

static void
prepared(struct p2p *m)
{
    if (m->error) {
        /* nothing moved: the source never started */
        answer(m);
        return;
    }
    if (m->flags & MIGRATE_OFFLINE) {
        hop(m, finish_in_thread, finished);
        return;
    }
    g_free(m->p.uri);
    m->p.uri = g_strdup(m->uri);
    int wfd = -1;
    if (m->flags & MIGRATE_TUNNELLED) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
            GError *e = NULL;
            err_set(&e, ERR_FROM_QEMU, ERR_SYSTEM_ERROR, "cannot make a pipe: %s",
                    g_strerror(errno));
            keep_error(m, e);
            m->cancelled = TRUE;
            after_perform(m);
            return;
        }
        m->read_fd = fds[0];
        wfd = fds[1];
        m->waiting = 2;
        hop(m, pump_in_thread, pumped);
    } else if (pipe2(m->wake, O_CLOEXEC) == 0) {
        m->waiting = 2;
        hop(m, watch_in_thread, watched);
    } else {
        m->wake[0] = m->wake[1] = -1;
        log_warn("%s: cannot make a pipe (%s): the connection to '%s' is not watched while "
                 "the memory moves",
                 m->name, g_strerror(errno), m->dconnuri);
    }
    /* the owner is this migration, not the client: the source sees it through, whoever
     * asked for it */
    core_migrate_perform(m->dom, &m->p, (const char *)m->cookie, m->cookie_len, m->flags, wfd, m,
                         performed, m);
}

void
migrate_p2p_start(struct call *call, struct domain *dom, const struct migrate_params *p,
                  const char *dconnuri, unsigned flags)
{
    GError *error = NULL;
    struct p2p *m = g_new0(struct p2p, 1);
    m->read_fd = -1;
    m->wake[0] = m->wake[1] = -1;
    client_keepalive_settings(call->client, &m->ka_interval, &m->ka_count);
    m->call = call;
    m->dom = core_domain_ref(dom);
    m->dconnuri = g_strdup(dconnuri);
    m->flags = flags;
    m->name = g_strdup(dom->def->name);
    m->dname = g_strdup(p->dname ? p->dname : dom->def->name);
    uuid_format(dom->def->uuid, m->uuid);
    /* a paused guest stays paused there; the destination is not told what only the source
     * does */
    if (dom->state == DOM_PAUSED)
        m->flags |= MIGRATE_PAUSED;
    m->dflags = m->flags & ~(unsigned)(MIGRATE_ABORT_ON_ERROR | MIGRATE_AUTO_CONVERGE);
    m->p = *p;
    m->p.uri = g_strdup(p->uri);
    m->p.dname = g_strdup(p->dname);
    m->p.dxml = g_strdup(p->dxml);
    m->p.persist_xml = g_strdup(p->persist_xml);
    m->p.listen_address = g_strdup(p->listen_address);
    m->p.tls_destination = g_strdup(p->tls_destination);
    m->p.compression = g_strdupv(p->compression);
    m->p.migrate_disks = g_strdupv(p->migrate_disks);
    char *cookie = NULL;
    m->xml = core_migrate_begin(dom, p, m->flags, &cookie, &error);
    if (!m->xml) {
        dispatch_fail(call, error);
        p2p_free(m);
        return;
    }
    m->cookie = (uint8_t *)cookie;
    m->cookie_len = strlen(cookie) + 1;
    log_info("%s: migrating to '%s' (peer to peer)", m->name, dconnuri);
    hop(m, prepare_in_thread, prepared);
}
