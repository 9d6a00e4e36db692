/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate_in: the destination side of a migration (core_migrate_prepare, _finish). Prepare
 * checks everything it can before anything moves (the definition, the name and uuid, this
 * host, the disks), then starts the guest's QEMU paused, listening (a start job of type
 * JOB_MIGRATION_IN, start.c); the job waits once QEMU has the state, until Finish says what
 * the source made of it. Until Finish the domain is tied to the connection that prepared it:
 * its loss stops that QEMU (autodestroy), so a vanished client never leaves a second copy. */
#include "core/migrate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/migration_cookie.h"
#include "core/lifecycle.h"
#include "core/storage.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "storage/dir.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"
#include "util/ports.h"

struct migrate_in {
    struct domain *dom; /* a reference */
    unsigned flags;
    char *persist_xml;    /* PERSIST_DEST: the definition to keep (NULL: the running one's) */
    struct job *awaiting; /* the await step, until Finish (a reference) */
    gboolean finish_asked;
    migrate_prepare_fn prepare_done; /* Prepare's caller, until answered */
    gpointer prepare_data;
    char *uri_out;
    char *cookie_out;
    migrate_finish_fn finish_done; /* Finish's caller, once it came */
    gpointer finish_data;
    /* disks copied into this host (NON_SHARED_*): their targets, the images made for them
     * here (removed when the guest does not arrive), the NBD server they are written
     * through */
    GPtrArray *copied;  /* char * */
    GPtrArray *created; /* char *: paths */
    char *nbd_host;
    guint nbd_port;
    guint nbd_pending; /* its setup commands not answered yet */
    GError *nbd_error;
    guint disks_port;
    char *tls_id; /* --tls: QEMU's credentials object (the NBD server's too) */
};

static void
in_free(struct migrate_in *mi)
{
    if (mi->dom->migrate_in == mi)
        mi->dom->migrate_in = NULL;
    if (mi->awaiting)
        job_unref(mi->awaiting);
    core_domain_unref(mi->dom);
    g_free(mi->persist_xml);
    g_free(mi->uri_out);
    g_free(mi->cookie_out);
    g_ptr_array_unref(mi->copied);
    g_ptr_array_unref(mi->created);
    g_free(mi->nbd_host);
    g_clear_error(&mi->nbd_error);
    g_free(mi->tls_id);
    g_free(mi);
}

/* The definition to run here: P's, renamed to P->dname. */
static struct domain_def *
incoming_def(struct core *core, const char *xml, const char *dname, GError **error)
{
    if (!xml) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "the destination needs the domain's definition (destination_xml)");
        return NULL;
    }
    g_autoptr(domain_def) def = domain_def_parse(xml, 0, error);
    if (!def)
        return NULL;
    if (!core_validate_for_host(core, def, error)) {
        g_autofree char *host = migrate_hostname();
        g_prefix_error(error, "host '%s' cannot run '%s': ", host, def->name);
        return NULL;
    }
    if (dname && !g_str_equal(dname, def->name)) {
        g_free(def->name);
        def->name = g_strdup(dname);
    }
    return g_steal_pointer(&def);
}

/* The disks to copy into this host: P's list (each a disk of DEF with an image), or, with
 * none given, every writable, unshared disk with an image (libvirt's choice). New array. */
static GPtrArray *
disks_to_copy(const struct domain_def *def, const struct migrate_params *p, unsigned flags,
              GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    if (!(flags & (MIGRATE_NON_SHARED_DISK | MIGRATE_NON_SHARED_INC))) {
        if (p->migrate_disks) {
            err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                    "migrate_disks names disks to copy: give --copy-storage-all or "
                    "--copy-storage-inc too");
            return NULL;
        }
        return g_steal_pointer(&out);
    }
    for (gsize i = 0; p->migrate_disks && p->migrate_disks[i]; i++) {
        const struct disk_def *d = domain_def_find_disk(def, p->migrate_disks[i]);
        if (!d || !d->source) {
            err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                    "disk '%s' to copy is not a disk of '%s' with an image", p->migrate_disks[i],
                    def->name);
            return NULL;
        }
        g_ptr_array_add(out, g_strdup(d->target_dev));
    }
    for (guint i = 0; !p->migrate_disks && i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        if (d->source && !d->readonly && !d->shareable && d->device == DISK_DEVICE_DISK)
            g_ptr_array_add(out, g_strdup(d->target_dev));
    }
    return g_steal_pointer(&out);
}

static gboolean
is_copied(GPtrArray *copied, const char *target)
{
    for (guint i = 0; i < copied->len; i++)
        if (g_str_equal(copied->pdata[i], target))
            return TRUE;
    return FALSE;
}

/* Makes the image a copied disk D goes into, as the source described it (CD): its format
 * and size, and for an incremental copy the same backing image below it. */
static gboolean
create_image(const struct disk_def *d, const struct migration_cookie_disk *cd, unsigned flags,
             GError **error)
{
    if (!cd || !cd->capacity || !cd->format) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "disk '%s': the source did not describe its image, so none can be made for it "
                "at '%s'",
                d->target_dev, d->source);
        return FALSE;
    }
    gboolean inc = (flags & MIGRATE_NON_SHARED_INC) != 0;
    if (inc && !cd->backing) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "disk '%s' has no backing image for an incremental copy; use "
                "--copy-storage-all",
                d->target_dev);
        return FALSE;
    }
    if (inc && !g_file_test(cd->backing, G_FILE_TEST_EXISTS)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "disk '%s': its backing image '%s' is not on this host; an incremental copy "
                "needs it (or use --copy-storage-all)",
                d->target_dev, cd->backing);
        return FALSE;
    }
    /* the image below says its own format in its header (as the probe at start reads it) */
    struct storage_vol_info below = {0};
    if (inc && !storage_dir_vol_info(cd->backing, &below, error))
        return FALSE;
    struct storage_vol_create req = {
        .path = d->source,
        .format =
            inc || g_str_equal(cd->format, "qcow2") ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW,
        .capacity = cd->capacity,
        .backing = inc ? cd->backing : NULL,
        .backing_format = below.format == STORAGE_FORMAT_QCOW2 ? "qcow2" : "raw",
        .mode = -1,
    };
    gboolean ok = storage_dir_vol_create(&req, core_storage_qemu_img(), error);
    storage_vol_info_clear(&below);
    if (!ok)
        g_prefix_error(error, "disk '%s': cannot make '%s' to copy it into: ", d->target_dev,
                       d->source);
    return ok;
}

/* Each disk the source expects this host to share: the same file (one host filesystem seen by
 * two daemons), or a filesystem both call shared. --unsafe skips the second opinion, never the
 * file's existence: QEMU could not start without it. A disk copied here must be another file
 * than the source's; one that does not exist yet is made (its path goes to CREATED). */
static gboolean
check_disks(const struct domain_def *def, const struct migration_cookie *c, unsigned flags,
            GPtrArray *copied, GPtrArray *created, GError **error)
{
    g_autofree char *host = migrate_hostname();
    for (guint i = 0; i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        if (!d->source)
            continue;
        const struct migration_cookie_disk *cd = migration_cookie_disk(c, d->target_dev);
        struct stat st;
        gboolean exists = stat(d->source, &st) == 0;
        if (is_copied(copied, d->target_dev)) {
            if (exists && cd && cd->dev == (guint64)st.st_dev && cd->ino == (guint64)st.st_ino) {
                err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                        "disk '%s': '%s' is the very image the source uses; give the copy "
                        "another path (--xml)",
                        d->target_dev, d->source);
                return FALSE;
            }
            if (!exists) {
                if (!create_image(d, cd, flags, error))
                    return FALSE;
                g_ptr_array_add(created, g_strdup(d->source));
            }
            continue;
        }
        if (!exists) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                    "disk '%s': '%s' does not exist on the destination host '%s'; migrating "
                    "needs storage both hosts share at the same path, or the disk copied "
                    "(--copy-storage-all)",
                    d->target_dev, d->source, host);
            return FALSE;
        }
        if (d->readonly || d->shareable || (flags & MIGRATE_UNSAFE))
            continue;
        gboolean same = cd && g_str_equal(cd->path, d->source) && cd->dev == (guint64)st.st_dev &&
                        cd->ino == (guint64)st.st_ino;
        if (same || (cd && cd->shared_fs && g_str_equal(cd->path, d->source)))
            continue;
        err_set(error, ERR_FROM_QEMU, ERR_MIGRATE_UNSAFE,
                "disk '%s' ('%s') is not on storage the hosts share: host '%s' sees another "
                "file there%s; copy it (--copy-storage-all), or use --unsafe if the storage is "
                "shared in a way Domus cannot see",
                d->target_dev, d->source, host,
                cd ? "" : ", and the source did not describe this disk");
        return FALSE;
    }
    return TRUE;
}

static gboolean
is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return FALSE;
}

/* The address the source is to send to: P's URI's host, migration_address, the address the
 * client reached us at, or this host's name when that is no loopback address. */
static char *
advertised_host(struct core *core, const char *uri_host, const char *local_address, GError **error)
{
    if (uri_host)
        return g_strdup(uri_host);
    if (core->migration_address)
        return g_strdup(core->migration_address);
    if (local_address)
        return g_strdup(local_address);
    g_autofree char *host = migrate_hostname();
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    gboolean loop = TRUE;
    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
        loop = FALSE;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
            loop = loop || is_loopback(ai->ai_addr);
        freeaddrinfo(res);
    }
    if (loop) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "this host's name '%s' resolves to a loopback address (or not at all), which "
                "the source cannot reach: give the destination's address with --migrateuri "
                "tcp://ADDRESS, or set migration_address in domusd.conf",
                host);
        return NULL;
    }
    return g_steal_pointer(&host);
}

static char *
host_port(const char *host, guint port)
{
    return strchr(host, ':') ? g_strdup_printf("[%s]:%u", host, port)
                             : g_strdup_printf("%s:%u", host, port);
}

/* A port of the configured range free on HOST (QEMU binds it next: the window is short). */
static gboolean
free_port(struct core *core, const char *host, guint *ret_port, GError **error)
{
    guint lo = core->migration_port_min ? core->migration_port_min : 49152;
    guint hi = core->migration_port_max ? core->migration_port_max : 49215;
    int port = ports_find_free(ERR_FROM_QEMU, host, lo, hi, NULL, error);
    if (port < 0) {
        g_prefix_error(error, "migration: ");
        return FALSE;
    }
    *ret_port = (guint)port;
    return TRUE;
}

static void
answer_prepare(struct migrate_in *mi, GError *error)
{
    migrate_prepare_fn done = mi->prepare_done;
    mi->prepare_done = NULL;
    if (!done) {
        if (error)
            g_error_free(error);
        return;
    }
    if (error)
        done(error, NULL, NULL, mi->prepare_data);
    else
        done(NULL, g_steal_pointer(&mi->uri_out), g_steal_pointer(&mi->cookie_out),
             mi->prepare_data);
}

static char *
answer_cookie(struct core *core, const struct migrate_in *mi)
{
    g_autoptr(migration_cookie) c = migration_cookie_new();
    c->hostname = migrate_hostname();
    c->host_uuid = g_strdup(core->host_uuid);
    if (mi && mi->nbd_port) {
        c->nbd_host = g_strdup(mi->nbd_host);
        c->nbd_port = mi->nbd_port;
        for (guint i = 0; i < mi->copied->len; i++)
            g_ptr_array_add(c->nbd_exports, g_strdup(mi->copied->pdata[i]));
    }
    return migration_cookie_format(c);
}

/* The NBD server's setup is over: Prepare is answered (a failure also stops QEMU). */
static void
nbd_ready(struct migrate_in *mi)
{
    struct domain *dom = mi->dom;
    if (mi->nbd_error) {
        GError *e = g_steal_pointer(&mi->nbd_error);
        g_prefix_error(&e, "cannot export the disks to copy: ");
        if (dom->jobs.current)
            job_fail(dom->jobs.current, g_error_copy(e));
        answer_prepare(mi, e);
        return;
    }
    g_free(mi->cookie_out);
    mi->cookie_out = answer_cookie(dom->core, mi);
    log_info("%s: waiting for the migration from the source; its disks arrive through NBD on "
             "%s:%u",
             dom->def->name, mi->nbd_host, mi->nbd_port);
    answer_prepare(mi, NULL);
}

static void
on_nbd_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct migrate_in *mi = data;
    if (error && !mi->nbd_error)
        mi->nbd_error = g_error_copy(error);
    if (--mi->nbd_pending == 0)
        nbd_ready(mi);
}

/* QEMU's NBD server, writable exports of the copied disks' top images, on the migration's
 * address (the source's mirror jobs write there before the memory moves) */
static void
nbd_start(struct migrate_in *mi)
{
    struct domain *dom = mi->dom;
    guint port = mi->disks_port;
    GError *error = NULL;
    if (!port && !free_port(dom->core, mi->nbd_host, &port, &error)) {
        mi->nbd_error = error;
        nbd_ready(mi);
        return;
    }
    mi->nbd_port = port;
    JsonObject *data = json_object_new();
    json_object_set_string_member(data, "host", mi->nbd_host);
    g_autofree char *p = g_strdup_printf("%u", port);
    json_object_set_string_member(data, "port", p);
    JsonObject *addr = json_object_new();
    json_object_set_string_member(addr, "type", "inet");
    json_object_set_object_member(addr, "data", data);
    JsonObject *args = json_object_new();
    json_object_set_object_member(args, "addr", addr);
    if (mi->tls_id)
        json_object_set_string_member(args, "tls-creds", mi->tls_id);
    mi->nbd_pending = 1 + mi->copied->len;
    qmp_command(dom->mon, "nbd-server-start", args, on_nbd_reply, mi);
    for (guint i = 0; i < mi->copied->len; i++) {
        const struct disk_def *d = domain_def_find_disk(dom->def, mi->copied->pdata[i]);
        g_autofree char *node = qemu_device_node_format(d->source_index);
        g_autofree char *name = migration_cookie_export_name(d->target_dev);
        args = json_object_new();
        json_object_set_string_member(args, "type", "nbd");
        json_object_set_string_member(args, "id", name);
        json_object_set_string_member(args, "node-name", node);
        json_object_set_string_member(args, "name", name);
        json_object_set_boolean_member(args, "writable", TRUE);
        qmp_command(dom->mon, "block-export-add", args, on_nbd_reply, mi);
    }
}

static void
on_ready(const GError *error, gpointer data)
{
    struct migrate_in *mi = data;
    if (!error && mi->copied->len > 0 && mi->dom->mon) {
        nbd_start(mi);
        return;
    }
    if (!error)
        log_info("%s: waiting for the migration from the source", mi->dom->def->name);
    answer_prepare(mi, error ? g_error_copy(error) : NULL);
}

/* PERSIST_DEST: the definition is kept before the guest runs here, so a failure to keep it
 * still leaves the source to run on. */
static gboolean
persist(struct migrate_in *mi, GError **error)
{
    struct domain *dom = mi->dom;
    if (!(mi->flags & MIGRATE_PERSIST_DEST))
        return TRUE;
    g_autofree char *xml = NULL;
    if (mi->persist_xml) {
        xml = g_strdup(mi->persist_xml);
    } else {
        xml =
            domain_def_format(dom->def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    }
    if (!core_define(dom->core, xml, 0, error)) {
        GError *e = *error;
        *error = NULL;
        err_set(error, ERR_FROM_QEMU, ERR_MIGRATE_PERSIST_FAILED,
                "domain '%s' arrived but its definition could not be kept: %s", dom->def->name,
                e->message);
        g_error_free(e);
        return FALSE;
    }
    return TRUE;
}

static void proceed_now(struct migrate_in *mi, struct job *job);

struct nbd_stop {
    struct job *job;    /* a reference */
    struct domain *dom; /* a reference */
};

static void
on_nbd_stopped(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct nbd_stop *ns = data;
    struct migrate_in *mi = ns->dom->migrate_in;
    if (!ns->job->finished && mi) {
        if (error)
            job_fail(ns->job, g_error_copy(error));
        else
            proceed_now(mi, ns->job);
    }
    job_unref(ns->job);
    core_domain_unref(ns->dom);
    g_free(ns);
}

/* The source's word came and QEMU has the state: the copied disks' NBD server stops, then
 * the definition is kept and the guest runs. */
static void
proceed(struct migrate_in *mi, struct job *job)
{
    if (mi->nbd_port && mi->dom->mon) {
        struct nbd_stop *ns = g_new0(struct nbd_stop, 1);
        ns->job = job_ref(job);
        ns->dom = core_domain_ref(mi->dom);
        qmp_command(mi->dom->mon, "nbd-server-stop", NULL, on_nbd_stopped, ns);
        return;
    }
    proceed_now(mi, job);
}

static void
proceed_now(struct migrate_in *mi, struct job *job)
{
    GError *error = NULL;
    if (!persist(mi, &error)) {
        job_fail(job, error);
        return;
    }
    /* the guest is here now: no longer tied to the connection that prepared it */
    mi->dom->autodestroy = FALSE;
    mi->dom->autodestroy_owner = NULL;
    job_next(job);
}

static void
on_await(struct job *job, gpointer data)
{
    struct migrate_in *mi = data;
    log_info("%s: the guest's state arrived", mi->dom->def->name);
    if (mi->finish_asked) {
        proceed(mi, job);
        return;
    }
    mi->awaiting = job_ref(job);
}

static void
on_postcopy_query(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct domain *dom = data;
    JsonObject *o = error ? NULL : qemu_json_node_object(result);
    if (o && dom->postcopy_in)
        core_migrate_postcopy_in(dom, qemu_json_string(o, "status"));
    core_domain_unref(dom);
}

/* The start job's end: the guest runs here, or its QEMU is gone. */
static void
in_done(GError *error, gpointer data)
{
    struct migrate_in *mi = data;
    struct domain *dom = mi->dom;
    if (error)
        log_warn("%s: incoming migration failed: %s", dom->def->name, error->message);
    else
        log_info("%s: migrated here", dom->def->name);
    /* post-copy may have completed before the job was over: QEMU says where it is */
    if (!error && dom->postcopy_in && dom->mon)
        qmp_command(dom->mon, "query-migrate", NULL, on_postcopy_query, core_domain_ref(dom));
    /* the TLS credentials go once nothing comes through them any more */
    if (!error && mi->tls_id && !dom->postcopy_in)
        migrate_tls_drop(dom, mi->tls_id);
    /* the images made for copied disks go with a guest that never arrived */
    for (guint i = 0; error && i < mi->created->len; i++)
        unlink(mi->created->pdata[i]);
    answer_prepare(mi, error ? g_error_copy(error) : NULL);
    migrate_finish_fn finish = mi->finish_done;
    mi->finish_done = NULL;
    if (finish) {
        if (error)
            finish(g_error_copy(error), NULL, NULL, mi->finish_data);
        else
            finish(NULL, dom, NULL, mi->finish_data);
    }
    in_free(mi);
}

void
core_migrate_prepare(struct core *core, const struct migrate_params *p, const char *cookie,
                     gsize cookie_len, unsigned flags, const char *local_address, gpointer owner,
                     int tunnel_fd, migrate_prepare_fn done, gpointer data)
{
    GError *error = NULL;
    g_autoptr(migration_cookie) c = NULL;
    g_autoptr(domain_def) def = NULL;
    g_autoptr(domain_def) keep = NULL;
    g_autofree char *uri_host = NULL;
    g_autofree char *host = NULL;
    g_autofree char *hp = NULL;
    g_autofree char *lp = NULL;
    g_autoptr(GPtrArray) copied = NULL;
    g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func(g_free);
    guint port = 0;
    if (!migrate_check_flags(flags, &error) ||
        !(c = migration_cookie_parse(cookie, cookie_len, &error)) ||
        !(def = incoming_def(core, p->dxml, p->dname, &error)) ||
        (p->uri && !migrate_parse_uri(p->uri, &uri_host, &port, &error)))
        goto fail;
    if (c->host_uuid && g_str_equal(c->host_uuid, core->host_uuid)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "cannot migrate '%s' to the host it runs on (host uuid %s)", def->name,
                c->host_uuid);
        goto fail;
    }
    if (p->persist_xml && !(keep = incoming_def(core, p->persist_xml, p->dname, &error)))
        goto fail;
    struct domain *dom = NULL;
    if (!core_check_unique(core, def, &dom, &error))
        goto fail;
    if (dom && (state_is_active(dom->state) || dom->migrate_in)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "domain '%s' is already running on this host", def->name);
        goto fail;
    }
    if (flags & MIGRATE_OFFLINE) {
        /* nothing runs: Finish keeps the definition */
        file_close_fd(&tunnel_fd);
        host = advertised_host(core, uri_host, local_address, NULL);
        done(NULL, g_strdup_printf("tcp:%s", host ? host : "localhost"), answer_cookie(core, NULL),
             data);
        return;
    }
    if ((flags & MIGRATE_TLS) && !migrate_tls_check(core, TRUE, &error))
        goto fail;
    const char *listen = NULL;
    if (tunnel_fd < 0) {
        host = advertised_host(core, uri_host, local_address, &error);
        if (!host)
            goto fail;
        listen = p->listen_address ? p->listen_address : host;
        if (!port && !free_port(core, listen, &port, &error))
            goto fail;
    }
    /* last, as it may make images */
    if (!(copied = disks_to_copy(def, p, flags, &error)) ||
        !check_disks(def, c, flags, copied, created, &error))
        goto fail;
    struct migrate_in *mi = g_new0(struct migrate_in, 1);
    mi->flags = flags;
    mi->prepare_done = done;
    mi->prepare_data = data;
    mi->copied = g_steal_pointer(&copied);
    mi->created = g_steal_pointer(&created);
    mi->nbd_host = g_strdup(listen);
    mi->disks_port = (guint)p->disks_port;
    mi->tls_id = (flags & MIGRATE_TLS) ? migrate_tls_id() : NULL;
    if (host) {
        hp = host_port(host, port);
        mi->uri_out = g_strdup_printf("tcp:%s", hp);
    }
    mi->cookie_out = answer_cookie(core, NULL);
    if (keep)
        mi->persist_xml =
            domain_def_format(keep, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    struct lifecycle_incoming *in = g_new0(struct lifecycle_incoming, 1);
    in->fd = g_steal_fd(&tunnel_fd);
    if (listen) {
        lp = host_port(listen, port);
        in->uri = g_strdup_printf("tcp:%s", lp);
    }
    in->capabilities = migrate_qemu_setup(NULL, flags, p, FALSE, mi->tls_id, &in->parameters);
    in->tls_id = g_strdup(mi->tls_id);
    in->paused = (flags & MIGRATE_PAUSED) != 0;
    in->postcopy_ok = (flags & MIGRATE_POSTCOPY) != 0;
    in->ready = on_ready;
    in->await = on_await;
    in->data = mi;
    struct domain_def *live = NULL;
    if (!dom)
        dom = core_register(core, g_steal_pointer(&def), FALSE);
    else
        live = g_steal_pointer(&def);
    mi->dom = core_domain_ref(dom);
    dom->migrate_in = mi;
    dom->autodestroy_owner = owner;
    log_info("%s: incoming migration from '%s', %s %s", dom->def->name,
             c->hostname ? c->hostname : "?", in->uri ? "listening on" : "through",
             in->uri ? in->uri : "the daemons' tunnel");
    lifecycle_start_incoming(dom, live, in, in_done, mi);
    return;
fail:
    for (guint i = 0; i < created->len; i++)
        unlink(created->pdata[i]);
    file_close_fd(&tunnel_fd);
    done(error, NULL, NULL, data);
}

/* An offline migration's end: the definition is kept here. */
static void
finish_offline(struct core *core, const struct migrate_params *p, gboolean cancelled,
               migrate_finish_fn done, gpointer data)
{
    GError *error = NULL;
    if (cancelled) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "%s",
                "the offline migration was cancelled; nothing was kept");
        done(error, NULL, NULL, data);
        return;
    }
    g_autoptr(domain_def) def =
        incoming_def(core, p->persist_xml ? p->persist_xml : p->dxml, p->dname, &error);
    g_autofree char *xml =
        def ? domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE)
            : NULL;
    struct domain *dom = xml ? core_define(core, xml, 0, &error) : NULL;
    if (!dom) {
        done(error, NULL, NULL, data);
        return;
    }
    log_info("%s: defined by an offline migration", dom->def->name);
    done(NULL, dom, NULL, data);
}

void
core_migrate_finish(struct core *core, const struct migrate_params *p, const char *cookie,
                    gsize cookie_len, unsigned flags, gboolean cancelled, migrate_finish_fn done,
                    gpointer data)
{
    GError *error = NULL;
    if (flags & MIGRATE_OFFLINE) {
        finish_offline(core, p, cancelled, done, data);
        return;
    }
    if (!p->dname) {
        err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "Finish needs the domain's name (destination_name)");
        done(error, NULL, NULL, data);
        return;
    }
    struct domain *dom = core_lookup_name(core, p->dname, &error);
    struct migrate_in *mi = dom ? dom->migrate_in : NULL;
    if (cancelled && (!mi || mi->finish_done)) {
        /* the incoming side is over already (its QEMU quits when the stream breaks): the
         * client keeps the source's reason on this answer only */
        g_clear_error(&error);
        err_set(&error, ERR_FROM_QEMU, ERR_MIGRATE_FINISH_OK,
                "migration successfully aborted: the source cancelled it, and nothing of '%s' "
                "is left here",
                p->dname);
    } else if (dom && (!mi || mi->finish_done)) {
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "domain '%s' has no incoming migration waiting to finish", p->dname);
    }
    if (!mi || mi->finish_done) {
        done(error, NULL, NULL, data);
        return;
    }
    mi->finish_done = done;
    mi->finish_data = data;
    if (cancelled) {
        log_info("%s: the source cancelled the migration", dom->def->name);
        /* libvirt's answer: the client then reports the source's reason, not this */
        err_set(&error, ERR_FROM_QEMU, ERR_MIGRATE_FINISH_OK,
                "migration successfully aborted: the source cancelled it, so '%s' was dropped "
                "here",
                dom->def->name);
        struct job *job = mi->awaiting ? mi->awaiting : dom->jobs.current;
        job_fail(job, error);
        return;
    }
    /* the source's figures become this job's: domjobinfo --completed shows the incoming
     * migration as libvirt does (a cookie that does not parse only loses them) */
    g_autoptr(migration_cookie) c = migration_cookie_parse(cookie, cookie_len, &error);
    if (!c) {
        log_warn("%s: the source's statistics are unreadable: %s", dom->def->name, error->message);
        g_clear_error(&error);
    }
    struct job *current = dom->jobs.current;
    if (c && c->has_stats && current && current->type == JOB_MIGRATION_IN) {
        struct job_migration st = current->migration;
        st.downtime_known = TRUE;
        st.downtime_ms = c->downtime_ms;
        st.setup_ms = c->setup_ms;
        st.mem_processed = c->transferred;
        st.mem_total = c->transferred;
        job_set_migration(current, &st);
        if (c->transferred)
            job_set_progress(current, c->transferred, c->transferred);
    }
    mi->finish_asked = TRUE;
    if (mi->awaiting) {
        struct job *job = mi->awaiting;
        mi->awaiting = NULL;
        proceed(mi, job);
        job_unref(job);
    }
}

void
core_migrate_postcopy_in(struct domain *dom, const char *status)
{
    if (!status || !state_is_active(dom->state))
        return;
    if (g_str_equal(status, "completed")) {
        dom->postcopy_in = FALSE;
        log_info("%s: post-copy migration completed; all of the guest's memory is here",
                 dom->def->name);
        if (dom->state == DOM_RUNNING && dom->reason == REASON_RUNNING_POSTCOPY)
            core_domain_transition(dom, IN_POSTCOPY_DONE, NULL);
    } else if (g_str_equal(status, "failed") || g_str_equal(status, "postcopy-paused")) {
        dom->postcopy_in = FALSE;
        log_error("%s: post-copy migration failed (%s); part of the guest's memory stays at "
                  "the source, so it is paused here",
                  dom->def->name, status);
        if (dom->mon)
            qmp_command(dom->mon, "stop", NULL, NULL, NULL);
        core_domain_transition(dom, IN_POSTCOPY_FAILED, NULL);
    }
}
