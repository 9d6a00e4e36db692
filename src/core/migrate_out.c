/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate_out: the source side of a migration (core_migrate_begin, _perform, _confirm). Perform
 * is one job (JOB_MIGRATION_OUT) that lives until Confirm: pause (not live), migrate (QEMU
 * sends; domjobinfo follows it, domjobabort cancels it), switched (QEMU sent everything and
 * stopped the vCPUs: Perform is answered, and the job waits for the destination's outcome).
 * The job's end decides the guest's fate here: confirmed, its QEMU goes; failed or cancelled
 * before the switch, the guest runs on; failed after it without a word from the destination
 * (the driving connection was lost), it stays paused, since it may run there. */
#include "core/migrate.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "conf/migration_cookie.h"
#include "core/blockjob.h"
#include "core/lifecycle.h"
#include "core/migrate_mirror.h"
#include "core/migration.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "storage/dir.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

struct migrate_out {
    struct domain *dom; /* a reference */
    unsigned flags;
    char *qemu_uri;
    int fd; /* tunnelled: QEMU writes here (-1: to QEMU_URI); closed once QEMU is done with it */
    char **caps;
    JsonObject *params;
    gpointer owner;
    struct job *awaiting;           /* the switched step, waiting for Confirm (a reference) */
    gboolean paused;                /* the migration paused the guest: a failure resumes it */
    gboolean orphaned;              /* the driving connection went after the switch: stay paused */
    gboolean abort_asked;           /* domjobabort during the pause */
    struct mirror_set *mirrors;     /* disks copied along (NULL: none) */
    gboolean postcopy;              /* QEMU switched to post-copy: the guest runs there */
    char *tls_id;                   /* --tls: QEMU's credentials object */
    gboolean tls_added;             /* ... is in QEMU (removed when QEMU stays) */
    migrate_cookie_fn perform_done; /* Perform's caller, until answered */
    gpointer perform_data;
    core_done_fn confirm_done; /* Confirm's caller, once it came */
    gpointer confirm_data;
};

static void
out_free(gpointer data)
{
    struct migrate_out *op = data;
    if (op->dom->migrate_out == op)
        op->dom->migrate_out = NULL;
    if (op->awaiting)
        job_unref(op->awaiting);
    mirror_set_free(op->mirrors);
    /* a source that stays (the migration failed) drops the TLS credentials, after the NBD
     * nodes that used them */
    if (op->tls_added)
        migrate_tls_drop(op->dom, op->tls_id);
    core_domain_unref(op->dom);
    g_free(op->qemu_uri);
    g_free(op->tls_id);
    file_close_fd(&op->fd);
    g_strfreev(op->caps);
    if (op->params)
        json_object_unref(op->params);
    g_free(op);
}

/* Network and cluster filesystems another host may see too (statfs f_type). */
static gboolean
shared_fs(const char *path)
{
    static const long types[] = {
        0x6969,     /* NFS */
        0xFF534D42, /* CIFS */
        0xFE534D42, /* SMB2 */
        0x01161970, /* GFS2 */
        0x7461636f, /* OCFS2 */
        0x00c36400, /* CephFS */
        0x01021997, /* 9p */
        0x5346414F, /* AFS */
    };
    struct statfs sf;
    if (statfs(path, &sf) < 0)
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
        if ((unsigned long)sf.f_type == (unsigned long)types[i])
            return TRUE;
    return FALSE;
}

static gboolean
check_allowed(struct domain *dom, unsigned flags, GError **error)
{
    const char *name = dom->def->name;
    if (!(flags & MIGRATE_OFFLINE) && !state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is not running; migrate it with --offline --persistent", name);
        return FALSE;
    }
    if ((flags & MIGRATE_OFFLINE) && !dom->persistent) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is transient: offline migration moves a persistent definition", name);
        return FALSE;
    }
    if (!(flags & MIGRATE_OFFLINE) && !core_domain_state_writable(dom, "migrate", error))
        return FALSE;
    guint ncp = g_hash_table_size(dom->checkpoints);
    if (ncp) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot migrate domain '%s' with %u checkpoint%s: their metadata stays on this "
                "host; delete them first (checkpoint-delete --metadata keeps the bitmaps)",
                name, ncp, ncp == 1 ? "" : "s");
        return FALSE;
    }
    guint nsnap = g_hash_table_size(dom->snapshots);
    if (nsnap) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot migrate domain '%s' with %u snapshot%s: their metadata stays on this host; "
                "delete them first",
                name, nsnap, nsnap == 1 ? "" : "s");
        return FALSE;
    }
    if (dom->def->hostdevs->len > 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot migrate domain '%s' with a <hostdev>: the device belongs to this host",
                name);
        return FALSE;
    }
    if (dom->autodestroy && state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is marked for auto destroy", name);
        return FALSE;
    }
    if (dom->migrate_out) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is already being migrated", name);
        return FALSE;
    }
    if (core_block_jobs_active(dom)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has an active block job; end it first (blockjob --abort)", name);
        return FALSE;
    }
    return TRUE;
}

/* The definition the destination runs: DEF, or XML checked against it. */
static struct domain_def *
destination_def(const struct domain_def *def, const char *xml, GError **error)
{
    if (!xml)
        return domain_def_copy(def);
    g_autoptr(domain_def) given = domain_def_parse(xml, 0, error);
    if (!given)
        return NULL;
    /* the name may change (--dname); what the guest sees may not */
    char *name = given->name;
    given->name = def->name;
    gboolean ok = lifecycle_image_check_abi(def, given, error);
    given->name = name;
    if (!ok) {
        g_prefix_error(error, "the XML given for the destination: ");
        return NULL;
    }
    return g_steal_pointer(&given);
}

/* What the destination needs to make an image for a copy of D: its format, virtual size (the
 * image's header) and the image below. */
static void
describe_image(struct migration_cookie_disk *cd, const struct disk_def *d)
{
    cd->format = g_strdup(d->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
    if (d->backing && d->backing->len > 0)
        cd->backing = g_strdup(((const struct disk_layer *)d->backing->pdata[0])->path);
    struct storage_vol_info info;
    if (storage_dir_vol_info(d->source, &info, NULL)) {
        cd->capacity = info.capacity;
        storage_vol_info_clear(&info);
    }
}

char *
core_migrate_begin(struct domain *dom, const struct migrate_params *p, unsigned flags,
                   char **ret_cookie, GError **error)
{
    if (!migrate_check_flags(flags, error) || !check_allowed(dom, flags, error))
        return NULL;
    const struct domain_def *src = (flags & MIGRATE_OFFLINE) ? core_persistent_def(dom) : dom->def;
    g_autoptr(domain_def) def = destination_def(src, p->dxml, error);
    if (!def)
        return NULL;
    g_autoptr(migration_cookie) c = migration_cookie_new();
    c->name = g_strdup(dom->def->name);
    memcpy(c->uuid, dom->def->uuid, UUID_LEN);
    c->has_uuid = TRUE;
    c->hostname = migrate_hostname();
    c->host_uuid = g_strdup(dom->core->host_uuid);
    for (guint i = 0; i < src->disks->len; i++) {
        const struct disk_def *d = src->disks->pdata[i];
        struct stat st;
        if (!d->source || stat(d->source, &st) < 0)
            continue;
        struct migration_cookie_disk *cd = migration_cookie_add_disk(
            c, d->target_dev, d->source, (guint64)st.st_dev, (guint64)st.st_ino,
            (guint64)st.st_size, shared_fs(d->source));
        if (flags & (MIGRATE_NON_SHARED_DISK | MIGRATE_NON_SHARED_INC))
            describe_image(cd, d);
    }
    *ret_cookie = migration_cookie_format(c);
    return domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
}

/* "tcp:HOST:PORT" or "tcp://HOST:PORT" (IPv6 in brackets) as QEMU takes it. */
static char *
qemu_uri(const char *uri, GError **error)
{
    const char *rest = NULL;
    if (g_str_has_prefix(uri, "tcp://"))
        rest = uri + 6;
    else if (g_str_has_prefix(uri, "tcp:"))
        rest = uri + 4;
    const char *colon = rest ? strrchr(rest, ':') : NULL;
    guint64 port;
    if (!rest || !colon || colon == rest || (rest[0] == '[' && colon[-1] != ']') ||
        !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL) ||
        strpbrk(rest, "/?#,")) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "migration URI '%s' is not tcp://HOST:PORT, as the destination's Prepare "
                "answers",
                uri);
        return NULL;
    }
    return g_strdup_printf("tcp:%s", rest);
}

static GError *
aborted_error(const char *name)
{
    GError *e = NULL;
    err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_ABORTED,
            "operation aborted: migration of '%s' was cancelled", name);
    return e;
}

static void
on_stopped(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct migrate_out *op = job->data;
    if (!job->finished) {
        if (error) {
            job_fail(job, g_error_copy(error));
        } else {
            op->paused = TRUE;
            core_domain_transition(op->dom, IN_MIGRATION_PAUSED, NULL);
            if (op->abort_asked)
                job_fail(job, aborted_error(op->dom->def->name));
            else
                job_next(job);
        }
    }
    job_unref(job);
}

/* not live: the vCPUs stop first, and QEMU sends the state of a still guest */
static void
out_pause(struct job *job)
{
    struct migrate_out *op = job->data;
    if ((op->flags & MIGRATE_LIVE) || op->dom->state != DOM_RUNNING) {
        job_next(job);
        return;
    }
    qmp_command(op->dom->mon, "stop", NULL, on_stopped, job_ref(job));
}

static void
out_migrate(struct job *job)
{
    struct migrate_out *op = job->data;
    struct migration_setup setup = {
        .capabilities = (const char *const *)op->caps,
        .parameters = op->params,
        .postcopy = (op->flags & MIGRATE_POSTCOPY) ? &op->postcopy : NULL,
    };
    if (op->fd >= 0) {
        log_info("%s: migrating through the daemons' tunnel", op->dom->def->name);
        migration_run_fd(job, op->dom, op->fd, FALSE, &setup);
        return;
    }
    log_info("%s: migrating to %s", op->dom->def->name, op->qemu_uri);
    migration_run_uri(job, op->dom, op->qemu_uri, FALSE, &setup);
}

static void out_mirror(struct job *job);

static void
on_tls_added(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct migrate_out *op = job->data;
    if (!job->finished && error) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot set up TLS for the migration of '%s': QEMU: %s", op->dom->def->name,
                error->message);
        job_fail(job, e);
    } else if (!job->finished) {
        op->tls_added = TRUE;
        out_mirror(job);
    }
    job_unref(job);
}

/* --tls: the credentials first (the NBD connections and the memory's use them); then the
 * disks copied along, in step with their sources before the memory moves */
static void
out_mirror(struct job *job)
{
    struct migrate_out *op = job->data;
    if (op->tls_id && !op->tls_added) {
        qmp_command(op->dom->mon, "object-add",
                    migrate_tls_object(op->dom->core, op->tls_id, FALSE), on_tls_added,
                    job_ref(job));
        return;
    }
    if (op->mirrors)
        mirror_set_start(op->mirrors, job);
    else
        job_next(job);
}

/* the guest stopped: the copies end as they are now */
static void
out_disks(struct job *job)
{
    struct migrate_out *op = job->data;
    if (op->mirrors)
        mirror_set_complete(op->mirrors, job);
    else
        job_next(job);
}

/* QEMU sent everything and stopped the vCPUs: Perform is answered with QEMU's figures; the
 * destination's outcome comes with Confirm. */
static void
out_switched(struct job *job)
{
    struct migrate_out *op = job->data;
    struct domain *dom = op->dom;
    /* QEMU closed its end of a tunnel: the reader sees the end once ours goes too */
    if (!op->postcopy)
        file_close_fd(&op->fd);
    if (op->postcopy)
        core_domain_transition(dom, IN_POSTCOPY_SOURCE, NULL);
    else if (dom->state == DOM_RUNNING)
        core_domain_transition(dom, IN_MIGRATION_PAUSED, NULL);
    op->paused = TRUE;
    op->awaiting = job_ref(job);
    g_autoptr(migration_cookie) c = migration_cookie_new();
    c->hostname = migrate_hostname();
    c->host_uuid = g_strdup(dom->core->host_uuid);
    const struct job_migration *st = &job->migration;
    if (st->present) {
        c->has_stats = TRUE;
        c->downtime_ms = st->downtime_ms;
        c->setup_ms = st->setup_ms;
        c->transferred = st->mem_processed;
        c->total_ms = (g_get_monotonic_time() - job->started_mono) / 1000;
    }
    if (op->postcopy)
        log_info("%s: post-copy: the guest runs at the destination, its memory follows",
                 dom->def->name);
    else
        log_info("%s: sent to the destination (downtime %" G_GUINT64_FORMAT " ms); waiting for "
                 "it to confirm",
                 dom->def->name, st->downtime_ms);
    migrate_cookie_fn done = op->perform_done;
    op->perform_done = NULL;
    if (done)
        done(NULL, migration_cookie_format(c), op->perform_data);
}

/* The job's end: the guest's fate here (see the top of the file). */
static void
out_finish(struct job *job, const GError *error)
{
    struct migrate_out *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (!error) {
        log_info("%s: migrated; its QEMU here stops", dom->def->name);
        if (state_is_active(dom->state)) {
            dom->stop_input = IN_STOPPED_MIGRATED;
            lifecycle_kill_and_reap(dom);
            lifecycle_stopped(dom, IN_STOPPED_MIGRATED);
            /* libvirt's: on the source, once the guest runs there (not for an offline one) */
            core_domain_emit_job_completed(dom, FALSE, NULL);
        }
        if ((op->flags & MIGRATE_UNDEFINE_SOURCE) && dom->persistent && !dom->removed &&
            !core_undefine(dom->core, dom, 0, &err)) {
            log_warn("%s: migrated, but not undefined here: %s", dom->def->name, err->message);
            g_clear_error(&err);
        }
        return;
    }
    if (op->mirrors) {
        mirror_set_abandon(g_steal_pointer(&op->mirrors));
    }
    if (!state_is_active(dom->state) || !dom->mon || lifecycle_process_gone(dom))
        return;
    if (op->postcopy) {
        /* part of the guest's memory is there already: neither host can run it alone */
        log_error("%s: post-copy migration failed; the guest's memory is split between the "
                  "hosts and it stays paused here",
                  dom->def->name);
        if (dom->state != DOM_PAUSED || dom->reason != REASON_PAUSED_POSTCOPY_FAILED)
            core_domain_transition(dom, IN_POSTCOPY_FAILED, NULL);
        return;
    }
    if (op->orphaned) {
        log_warn("%s: the migration's connection closed before the destination's outcome came; "
                 "the guest stays paused here, as it may run there",
                 dom->def->name);
        return;
    }
    if (op->paused && dom->state == DOM_PAUSED) {
        log_info("%s: migration failed; the guest runs on here", dom->def->name);
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        core_domain_transition(dom, IN_MIGRATION_CANCELED, NULL);
    }
}

/* domjobabort, destroy, QEMU's exit, or the driving connection's loss */
static void
out_abort(struct job *job)
{
    struct migrate_out *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (dom->destroying || lifecycle_process_gone(dom)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                dom->destroying ? "migration of '%s' was cut short by destroy"
                                : "QEMU of '%s' exited during migration",
                dom->def->name);
        job_fail(job, error);
        return;
    }
    const char *phase = job_phase(job);
    if (g_str_equal(phase, "migrate")) {
        /* the step fails once QEMU reports the migration cancelled */
        if (!migration_cancel(dom))
            job_fail(job, aborted_error(dom->def->name));
    } else if (g_str_equal(phase, "pause")) {
        op->abort_asked = TRUE;
    } else if (g_str_equal(phase, "mirror") || g_str_equal(phase, "disks")) {
        job_fail(job, aborted_error(dom->def->name));
    } else if (g_str_equal(phase, "switched") || g_str_equal(phase, "complete")) {
        /* QEMU sent everything: only the destination's outcome ends it now */
        log_info("%s: abort asked after the switch-over; waiting for Confirm", dom->def->name);
    } else {
        job_fail(job, aborted_error(dom->def->name));
    }
}

/* confirmed: a post-copy's remaining memory goes before this QEMU may */
static void
out_complete(struct job *job)
{
    struct migrate_out *op = job->data;
    if (op->postcopy)
        migration_wait(job, op->dom, FALSE);
    else
        job_next(job);
}

static const struct job_step out_steps[] = {
    {"pause", out_pause}, {"mirror", out_mirror},     {"migrate", out_migrate},
    {"disks", out_disks}, {"switched", out_switched}, {"complete", out_complete},
    {NULL, NULL},
};

static const struct job_pipeline out_pipeline = {
    .steps = out_steps,
    .finish = out_finish,
    .abort = out_abort,
    .abortable = TRUE,
};

/* The job's outcome: Perform's answer while it waits for one, else Confirm's. */
static void
out_done(GError *error, gpointer data)
{
    struct migrate_out *op = data;
    migrate_cookie_fn perform = op->perform_done;
    op->perform_done = NULL;
    if (perform) {
        perform(error ? g_error_copy(error) : NULL, NULL, op->perform_data);
    } else if (op->confirm_done) {
        core_done_fn confirm = op->confirm_done;
        op->confirm_done = NULL;
        /* Confirm asked for the outcome it got: a cancelled migration ends as asked */
        lifecycle_done(confirm, op->confirm_data,
                       error && !g_error_matches(error, DOMUS_ERROR, ERR_OPERATION_ABORTED) ? error
                                                                                            : NULL);
    }
}

struct out_request {
    struct migrate_out *op;
    migrate_cookie_fn done;
    gpointer data;
};

static void
out_begin(struct job *job, GError *error, gpointer data)
{
    struct out_request *req = data;
    struct migrate_out *op = req->op;
    struct domain *dom = op->dom;
    if (!job) {
        req->done(g_error_copy(error), NULL, req->data);
        out_free(op);
    } else if (!state_is_active(dom->state) || !dom->mon || dom->migrate_out) {
        GError *e = NULL;
        if (dom->migrate_out)
            err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "domain '%s' is already being migrated", dom->def->name);
        else
            err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                    dom->def->name);
        req->done(g_error_copy(e), NULL, req->data);
        job_cancel(job, e, NULL, NULL);
        out_free(op);
    } else {
        dom->migrate_out = op;
        op->perform_done = req->done;
        op->perform_data = req->data;
        /* the status names the job: a daemon that dies from here on cancels or keeps what
         * QEMU did (core_migrate_recover) */
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_clear_error(&e);
        }
        job_run(job, op, out_free, out_done, op);
    }
    g_free(req);
}

void
core_migrate_perform(struct domain *dom, const struct migrate_params *p, const char *cookie,
                     gsize cookie_len, unsigned flags, int fd, gpointer owner,
                     migrate_cookie_fn done, gpointer data)
{
    GError *error = NULL;
    g_autofree char *uri = NULL;
    if (!migrate_check_flags(flags, &error) ||
        !check_allowed(dom, flags & ~MIGRATE_OFFLINE, &error)) {
        done(error, NULL, data);
        return;
    }
    if (flags & MIGRATE_OFFLINE) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID, "%s",
                "an offline migration has no Perform phase: nothing runs to be sent");
        file_close_fd(&fd);
        done(error, NULL, data);
        return;
    }
    if (!p->uri && fd < 0) {
        err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "the migration URI is missing: it is the destination's answer to Prepare");
        done(error, NULL, data);
        return;
    }
    g_autoptr(migration_cookie) c = migration_cookie_parse(cookie, cookie_len, &error);
    if (!c || (fd < 0 && !(uri = qemu_uri(p->uri, &error)))) {
        file_close_fd(&fd);
        done(error, NULL, data);
        return;
    }
    if (c->host_uuid && g_str_equal(c->host_uuid, dom->core->host_uuid)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "the destination is this very host (host uuid %s)", c->host_uuid);
        file_close_fd(&fd);
        done(error, NULL, data);
        return;
    }
    gboolean copy = (flags & (MIGRATE_NON_SHARED_DISK | MIGRATE_NON_SHARED_INC)) != 0;
    if (copy && (!c->nbd_port || !c->nbd_exports->len)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "%s",
                "the destination offers no NBD server for the disks to copy");
        file_close_fd(&fd);
        done(error, NULL, data);
        return;
    }
    if ((flags & MIGRATE_TLS) && !migrate_tls_check(dom->core, FALSE, &error)) {
        file_close_fd(&fd);
        done(error, NULL, data);
        return;
    }
    struct migrate_out *op = g_new0(struct migrate_out, 1);
    op->fd = fd;
    op->tls_id = (flags & MIGRATE_TLS) ? migrate_tls_id() : NULL;
    if (copy) {
        guint64 mib = p->bandwidth ? p->bandwidth : dom->migrate_speed_mib;
        op->mirrors = mirror_set_new(dom, c->nbd_exports, c->nbd_host, c->nbd_port, op->tls_id,
                                     p->tls_destination, (flags & MIGRATE_NON_SHARED_INC) != 0,
                                     mib && mib < (guint64)(G_MAXINT64 >> 20) ? mib << 20 : 0);
    }
    op->dom = core_domain_ref(dom);
    op->flags = flags;
    op->owner = owner;
    op->qemu_uri = g_steal_pointer(&uri);
    op->caps = migrate_qemu_setup(dom, flags, p, TRUE, op->tls_id, &op->params);
    if (op->tls_id && p->tls_destination) {
        json_object_set_string_member(op->params, "tls-hostname", p->tls_destination);
    } else if (op->tls_id) {
        /* the certificate QEMU checks is the destination's: the host of its URI (checked) */
        g_autofree char *host = NULL;
        guint port = 0;
        if (migrate_parse_uri(op->qemu_uri, &host, &port, NULL))
            json_object_set_string_member(op->params, "tls-hostname", host);
    }
    struct out_request *req = g_new0(struct out_request, 1);
    req->op = op;
    req->done = done;
    req->data = data;
    job_acquire(&dom->jobs, JOB_MIGRATION_OUT, &out_pipeline, dom->core->job_wait_ms, out_begin,
                req);
}

void
core_migrate_confirm(struct domain *dom, unsigned flags, gboolean cancelled, core_done_fn done,
                     gpointer data)
{
    GError *error = NULL;
    if (flags & MIGRATE_OFFLINE) {
        /* nothing ran: the definition moved, and leaves here if asked */
        if (!cancelled && (flags & MIGRATE_UNDEFINE_SOURCE) && dom->persistent &&
            !core_undefine(dom->core, dom, 0, &error)) {
            lifecycle_fail(done, data, error);
            return;
        }
        lifecycle_done(done, data, NULL);
        return;
    }
    struct migrate_out *op = dom->migrate_out;
    if (!op || !op->awaiting) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "domain '%s' has no migration waiting to be confirmed", dom->def->name);
        lifecycle_fail(done, data, error);
        return;
    }
    struct job *job = op->awaiting;
    op->awaiting = NULL;
    op->confirm_done = done;
    op->confirm_data = data;
    if (cancelled) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_ABORTED,
                "operation aborted: the destination did not take domain '%s' over", dom->def->name);
        job_fail(job, error);
    } else {
        job_next(job);
    }
    job_unref(job);
}

void
core_migrate_owner_gone(struct core *core, gpointer owner)
{
    GPtrArray *all = core_list(core, 0);
    for (guint i = 0; i < all->len; i++) {
        struct domain *dom = all->pdata[i];
        struct migrate_out *op = dom->migrate_out;
        if (!op || op->owner != owner || !dom->jobs.current)
            continue;
        struct job *job = dom->jobs.current;
        if (op->awaiting) {
            op->orphaned = TRUE;
            GError *e = NULL;
            err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "the connection driving the migration of '%s' closed before the "
                    "destination's outcome came",
                    dom->def->name);
            struct job *w = op->awaiting;
            op->awaiting = NULL;
            job_fail(w, e);
            job_unref(w);
        } else {
            log_info("%s: the connection driving its migration closed; cancelling it",
                     dom->def->name);
            job_abort(job, FALSE, NULL);
        }
    }
    g_ptr_array_free(all, TRUE);
}

gboolean
core_migrate_set_downtime(struct domain *dom, guint64 ms, GError **error)
{
    if (ms == 0 || ms > 2000000) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "maximum downtime %" G_GUINT64_FORMAT " ms is not between 1 and 2000000", ms);
        return FALSE;
    }
    dom->migrate_downtime_ms = ms;
    if (dom->migrate_out && dom->mon) {
        JsonObject *args = json_object_new();
        json_object_set_int_member(args, "downtime-limit", (gint64)ms);
        qmp_command(dom->mon, "migrate-set-parameters", args, NULL, NULL);
    }
    return TRUE;
}

gboolean
core_migrate_set_speed(struct domain *dom, guint64 mib_per_s, GError **error)
{
    if (mib_per_s > (guint64)(G_MAXINT64 >> 20)) {
        err_set(error, ERR_FROM_QEMU, ERR_OVERFLOW,
                "bandwidth %" G_GUINT64_FORMAT
                " MiB/s is too large; the limit is %" G_GINT64_FORMAT,
                mib_per_s, (gint64)(G_MAXINT64 >> 20));
        return FALSE;
    }
    dom->migrate_speed_mib = mib_per_s;
    if (dom->migrate_out && dom->mon) {
        JsonObject *args = json_object_new();
        json_object_set_int_member(args, "max-bandwidth",
                                   mib_per_s ? (gint64)(mib_per_s << 20) : G_MAXINT64);
        qmp_command(dom->mon, "migrate-set-parameters", args, NULL, NULL);
    }
    return TRUE;
}

struct cache_req {
    struct domain *dom; /* a reference */
    gboolean set;
    guint64 bytes;
    migrate_cache_fn done;
    gpointer data;
};

static void
on_cache(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct cache_req *r = data;
    GError *e = NULL;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    gint64 size = o ? qemu_json_int_or(o, "xbzrle-cache-size", -1) : -1;
    if (error && r->set) {
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "QEMU refused a compression cache of %" G_GUINT64_FORMAT " bytes for '%s': %s",
                r->bytes, r->dom->def->name, error->message);
    } else if (error) {
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot read the compression cache of '%s': %s", r->dom->def->name, error->message);
    } else if (!r->set && size < 0) {
        err_set(&e, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "QEMU did not say the compression cache size of '%s'", r->dom->def->name);
    }
    r->done(e, r->set ? r->bytes : (guint64)MAX(size, 0), r->data);
    g_clear_error(&e);
    core_domain_unref(r->dom);
    g_free(r);
}

void
core_migrate_compression_cache(struct domain *dom, gboolean set, guint64 bytes,
                               migrate_cache_fn done, gpointer data)
{
    GError *e = NULL;
    if (!core_domain_require_running(dom, &e)) {
        done(e, 0, data);
        g_error_free(e);
        return;
    }
    struct cache_req *r = g_new0(struct cache_req, 1);
    r->dom = core_domain_ref(dom);
    r->set = set;
    r->bytes = bytes;
    r->done = done;
    r->data = data;
    if (!set) {
        qmp_command(dom->mon, "query-migrate-parameters", NULL, on_cache, r);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "xbzrle-cache-size", (gint64)MIN(bytes, (guint64)G_MAXINT64));
    qmp_command(dom->mon, "migrate-set-parameters", args, on_cache, r);
}

static void
on_recover_query(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct domain *dom = data;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    const char *status = o ? qemu_json_string(o, "status") : NULL;
    dom->migrate_interrupted = FALSE;
    if (!state_is_active(dom->state) || !dom->mon) {
        core_domain_unref(dom);
        return;
    }
    if (status && g_str_equal(status, "completed")) {
        log_warn("%s: its migration completed while the daemon was down; the guest stays paused "
                 "here, as the destination may run it: resume it here only if it does not",
                 dom->def->name);
        if (dom->state == DOM_RUNNING)
            core_domain_transition(dom, IN_MIGRATION_PAUSED, NULL);
        core_domain_unref(dom);
        return;
    }
    if (status && !g_str_equal(status, "failed") && !g_str_equal(status, "cancelled") &&
        !g_str_equal(status, "none")) {
        log_info("%s: cancelling the migration the daemon left (%s)", dom->def->name, status);
        qmp_command(dom->mon, "migrate_cancel", NULL, NULL, NULL);
    }
    /* a guest the migration paused (not live) runs again */
    if (dom->state == DOM_PAUSED && dom->reason == REASON_PAUSED_MIGRATION) {
        qmp_command(dom->mon, "cont", NULL, NULL, NULL);
        core_domain_transition(dom, IN_MIGRATION_CANCELED, NULL);
    }
    core_domain_unref(dom);
}

void
core_migrate_recover(struct domain *dom, gboolean running)
{
    if (!dom->mon)
        return;
    if (running && dom->state == DOM_PAUSED && dom->reason != REASON_PAUSED_MIGRATION)
        core_domain_transition(dom, IN_RESUMED_BY_QEMU, NULL);
    qmp_command(dom->mon, "query-migrate", NULL, on_recover_query, core_domain_ref(dom));
}

struct suspend_req {
    struct domain *dom; /* a reference */
    core_done_fn done;
    gpointer data;
};

static void
on_suspended(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct suspend_req *r = data;
    struct domain *dom = r->dom;
    if (!error && dom->state == DOM_RUNNING) {
        core_domain_transition(dom, IN_MIGRATION_PAUSED, NULL);
        if (dom->migrate_out)
            dom->migrate_out->paused = TRUE;
    }
    lifecycle_done(r->done, r->data, (GError *)error);
    core_domain_unref(dom);
    g_free(r);
}

gboolean
core_migrate_suspend(struct domain *dom, core_done_fn done, gpointer data)
{
    struct migrate_out *op = dom->migrate_out;
    if (!op || !dom->mon || op->awaiting)
        return FALSE;
    if (dom->state != DOM_RUNNING) {
        lifecycle_done(done, data, NULL);
        return TRUE;
    }
    log_info("%s: pausing the guest for the rest of its migration", dom->def->name);
    struct suspend_req *r = g_new0(struct suspend_req, 1);
    r->dom = core_domain_ref(dom);
    r->done = done;
    r->data = data;
    qmp_command(dom->mon, "stop", NULL, on_suspended, r);
    return TRUE;
}

void
core_migrate_io_error(struct domain *dom, const char *disk, const char *why)
{
    struct migrate_out *op = dom->migrate_out;
    if (!op || !(op->flags & MIGRATE_ABORT_ON_ERROR) || op->awaiting || !dom->jobs.current)
        return;
    log_warn("%s: disk I/O error during migration; cancelling it (--abort-on-error)",
             dom->def->name);
    GError *reason = NULL;
    err_set(&reason, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
            "migration of '%s' failed due to I/O error on disk '%s' (%s) and was cancelled "
            "(--abort-on-error); the guest stays here",
            dom->def->name, disk, why ? why : "no reason given");
    job_abort_because(dom->jobs.current, reason);
}

gboolean
core_migrate_start_postcopy(struct domain *dom, GError **error)
{
    struct migrate_out *op = dom->migrate_out;
    if (!op || op->awaiting || !dom->mon) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "post-copy can only be started while the outgoing migration of '%s' is in "
                "progress",
                dom->def->name);
        return FALSE;
    }
    if (!(op->flags & MIGRATE_POSTCOPY)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID, "%s",
                "switching to post-copy requires migration to be started with the "
                "VIR_MIGRATE_POSTCOPY flag (--postcopy)");
        return FALSE;
    }
    log_info("%s: switching to post-copy", dom->def->name);
    qmp_command(dom->mon, "migrate-start-postcopy", NULL, NULL, NULL);
    return TRUE;
}
