/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backup: backups of a running domain; prefix core_backup_. A push backup copies disks into
 * new images while the guest runs: QEMU's blockdev-backup, all of a disk (sync full) or what
 * changed since a checkpoint (sync incremental, from a disabled copy of the checkpoint's
 * bitmap made in the same transaction), optionally making a new checkpoint at that instant.
 * A pull backup serves the disks as they were at that instant over NBD instead, for a client
 * to read (virtnbdbackup, qemu-img): each disk's export is a scratch image backed by the
 * disk, into which QEMU copies what the guest overwrites meanwhile (blockdev-backup sync
 * none); an incremental one also exports the checkpoint's bitmap (qemu:dirty-bitmap:NAME).
 * It lasts until the client ends it (domjobabort), as libvirt's.
 * Either is a job of the engine from the images' creation to their release; once the copy
 * or the export is under way the job steps aside, letting suspend, resume and device changes
 * through as libvirt does. */
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/checkpoint_def.h"
#include "core/checkpoint.h"
#include "core/events.h"
#include "core/migrate.h"
#include "core/snapshot.h"
#include "core/storage.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define ORIGIN ERR_FROM_DOMAIN_CHECKPOINT
#define BACKUP_POLL_MS 50

/* virDomainBackupBeginFlags */
enum { BACKUP_REUSE_EXTERNAL = 1 };

/* One disk being copied: its image's node, its target's nodes, QEMU's job. */
struct backup_target {
    struct backup_disk *disk; /* borrowed from the op's def */
    char *device;             /* the disk's top format node */
    char *job_id;             /* "backup-vda-domus-1-format", libvirt's naming */
    char *temp_bitmap;        /* incremental: the disabled copy blockdev-backup reads (push,
                                 on DEVICE) or the export carries (pull, on the scratch) */
    char *export_id;          /* pull: the NBD export's id */
    char *since;              /* incremental: the checkpoint's bitmap on DEVICE */
    guint64 size;             /* the disk's virtual size */
    guint64 cur, end;         /* QEMU's progress of its job */
    gboolean made;            /* the daemon created the target file */
    gboolean attached;        /* its nodes were added */
    gboolean bitmap_added;    /* the transaction ran: TEMP_BITMAP exists */
};

struct backup_op {
    struct domain *dom; /* a reference */
    struct backup_def *def;
    struct checkpoint_def *checkpoint; /* made at the backup's start; NULL: none */
    GPtrArray *targets;                /* struct backup_target * */
    unsigned flags;
    guint outstanding; /* blockdev-add replies awaited */
    GError *add_error;
    guint timer;
    gboolean polling;
    gboolean serving;    /* pull: QEMU's NBD server runs */
    char *tls_id;        /* pull over TLS: QEMU's credentials object, once added */
    gboolean cancelling; /* block-job-cancel sent: a pull's copies end without error */
    GError *export_error;
    struct job *job; /* while the copy runs (for the poll) */
    core_done_fn started;
    gpointer data;
};

static void
target_free(struct backup_target *t)
{
    g_free(t->device);
    g_free(t->job_id);
    g_free(t->temp_bitmap);
    g_free(t->export_id);
    g_free(t->since);
    g_free(t);
}

static void
backup_op_free(gpointer data)
{
    struct backup_op *op = data;
    if (op->timer)
        g_source_remove(op->timer);
    backup_def_free(op->def);
    checkpoint_def_free(op->checkpoint);
    g_ptr_array_unref(op->targets);
    g_clear_error(&op->add_error);
    g_clear_error(&op->export_error);
    g_free(op->tls_id);
    core_domain_unref(op->dom);
    g_free(op);
}

/* The caller of backupBegin hears once: when the copy began, or why it could not. */
static void
tell_started(struct backup_op *op, const GError *error)
{
    core_done_fn started = g_steal_pointer(&op->started);
    if (!started)
        return;
    GError *e = error ? g_error_copy(error) : NULL;
    started(e, op->data);
    g_clear_error(&e);
}

/* The backup's disks against the domain's, as libvirt aligns them; targets named and checked
 * (a new one must not exist, a reused one must), checkpoints resolved. */
static gboolean
backup_align(struct backup_op *op, GError **error)
{
    struct domain *dom = op->dom;
    struct backup_def *def = op->def;
    const char *suffix_cp = op->checkpoint ? op->checkpoint->name : NULL;
    g_autofree char *suffix =
        suffix_cp ? g_strdup(suffix_cp)
                  : g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    gboolean listed = def->disks->len > 0;
    for (guint i = 0; i < def->disks->len; i++) {
        struct backup_disk *bd = def->disks->pdata[i];
        struct disk_def *d = checkpoint_find_disk(dom, bd->name);
        if (!d) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no disk named '%s'", bd->name);
            return FALSE;
        }
        g_free(bd->name);
        bd->name = g_strdup(d->target_dev);
        for (guint j = 0; j < i; j++)
            if (g_str_equal(((struct backup_disk *)def->disks->pdata[j])->name, bd->name)) {
                err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "disk '%s' specified twice",
                        bd->name);
                return FALSE;
            }
    }
    g_ptr_array_set_free_func(def->disks, NULL);
    /* every disk of the domain in its order: the listed ones move over */
    GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)backup_disk_free);
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        struct backup_disk *bd = backup_def_disk(def, d->target_dev);
        if (bd) {
            g_ptr_array_add(all, bd);
            g_ptr_array_remove_fast(def->disks, bd);
            continue;
        }
        bd = g_new0(struct backup_disk, 1);
        bd->name = g_strdup(d->target_dev);
        bd->backup = !listed && checkpoint_disk_takes_part(d);
        g_ptr_array_add(all, bd);
    }
    g_ptr_array_unref(def->disks);
    def->disks = all;
    guint chosen = 0;
    for (guint i = 0; i < all->len; i++) {
        struct backup_disk *bd = all->pdata[i];
        const struct disk_def *d = dom->def->disks->pdata[i];
        if (!bd->backup)
            continue;
        if (!checkpoint_disk_takes_part(d)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s' is empty or readonly: there is nothing to back up", bd->name);
            return FALSE;
        }
        chosen++;
        if (!bd->incremental && def->incremental && bd->mode != BACKUP_MODE_FULL)
            bd->incremental = g_strdup(def->incremental);
        if (bd->mode == BACKUP_MODE_DEFAULT)
            bd->mode = bd->incremental ? BACKUP_MODE_INCREMENTAL : BACKUP_MODE_FULL;
        if (bd->mode == BACKUP_MODE_INCREMENTAL) {
            const struct checkpoint_def *cp =
                bd->incremental ? g_hash_table_lookup(dom->checkpoints, bd->incremental) : NULL;
            const struct checkpoint_disk *cd = cp ? checkpoint_def_disk(cp, bd->name) : NULL;
            if (!cd || !cd->bitmap) {
                err_set(error, ORIGIN, ERR_NO_DOMAIN_CHECKPOINT,
                        "Domain checkpoint not found: Checkpoint '%s' for incremental backup of "
                        "disk '%s' not found",
                        bd->incremental ? bd->incremental : "(none given)", bd->name);
                return FALSE;
            }
        } else {
            g_clear_pointer(&bd->incremental, g_free);
        }
        if (!bd->target) {
            if (d->type == DISK_TYPE_BLOCK) {
                err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                        "refusing to generate file name for disk '%s': give its <target>",
                        bd->name);
                return FALSE;
            }
            bd->target = g_strdup_printf("%s.%s", d->source, suffix);
        }
        struct stat st;
        gboolean exists = stat(bd->target, &st) == 0;
        if (!(op->flags & BACKUP_REUSE_EXTERNAL) && exists && !bd->block) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "store '%s' for backup of '%s' exists; remove it, or reuse it with "
                    "--reuse-external",
                    bd->target, bd->name);
            return FALSE;
        }
        if (((op->flags & BACKUP_REUSE_EXTERNAL) || bd->block) && !exists) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "store '%s' for backup of '%s' does not exist", bd->target, bd->name);
            return FALSE;
        }
        for (guint j = 0; j < i; j++) {
            const struct backup_disk *other = all->pdata[j];
            if (other->backup && g_str_equal(other->target, bd->target)) {
                err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                        "disks '%s' and '%s' would both be backed up into '%s'", other->name,
                        bd->name, bd->target);
                return FALSE;
            }
        }
        struct backup_target *t = g_new0(struct backup_target, 1);
        t->disk = bd;
        if (bd->mode == BACKUP_MODE_INCREMENTAL) {
            const struct checkpoint_def *cp =
                g_hash_table_lookup(dom->checkpoints, bd->incremental);
            t->since = g_strdup(checkpoint_def_disk(cp, bd->name)->bitmap_name);
        }
        t->device = qemu_device_node_format(d->source_index);
        t->job_id = g_strdup_printf("backup-%s-%s", bd->name, t->device);
        if (def->pull) {
            /* libvirt's defaults: the disk's name, the bitmap "backup-DISK" */
            if (!bd->exportname)
                bd->exportname = g_strdup(bd->name);
            if (bd->mode != BACKUP_MODE_INCREMENTAL)
                g_clear_pointer(&bd->exportbitmap, g_free);
            else if (!bd->exportbitmap)
                bd->exportbitmap = g_strdup_printf("backup-%s", bd->name);
            t->temp_bitmap = g_strdup(bd->exportbitmap);
        } else if (bd->mode == BACKUP_MODE_INCREMENTAL) {
            t->temp_bitmap = g_strdup_printf("backup-%s", bd->name);
        }
        g_ptr_array_add(op->targets, t);
    }
    if (!chosen) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no disks selected for backup");
        return FALSE;
    }
    return TRUE;
}

static gboolean
backup_check(struct backup_op *op, GError **error)
{
    struct domain *dom = op->dom;
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot perform disk backup for inactive domain '%s'", dom->def->name);
        return FALSE;
    }
    if (dom->block_jobs && dom->block_jobs->len) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has a block job under way; a backup waits until it is over",
                dom->def->name);
        return FALSE;
    }
    if (op->checkpoint && !checkpoint_prepare_new(dom, op->checkpoint, error))
        return FALSE;
    return backup_align(op, error);
}

/* Whether the backup goes on: QEMU is still there and nobody asked it to stop; else the step
 * fails (nothing of QEMU's runs for the backup yet) */
static gboolean
backup_going(struct job *job)
{
    struct backup_op *op = job->data;
    GError *e = NULL;
    if (!op->dom->mon)
        err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
                op->dom->def->name);
    else if (job->aborted)
        e = job_aborted_error(job, ERR_FROM_DOMAIN);
    if (!e)
        return TRUE;
    job_fail(job, e);
    return FALSE;
}

/* step "size": each disk's virtual size, from QEMU */
static void
on_backup_sizes(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    JsonArray *nodes = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    GError *e = NULL;
    for (guint i = 0; !error && i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *n = nodes ? qemu_json_find_object(nodes, "node-name", t->device) : NULL;
        JsonObject *image = n ? qemu_json_object(n, "image") : NULL;
        gint64 size = image ? qemu_json_int_or(image, "virtual-size", -1) : -1;
        if (size <= 0) {
            err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                    "QEMU did not tell the size of disk '%s' (node '%s')", t->disk->name,
                    t->device);
            break;
        }
        t->size = (guint64)size;
    }
    job_step_over(job, error ? error : e);
    g_clear_error(&e);
}

static void
backup_size_step(struct job *job)
{
    struct backup_op *op = job->data;
    if (!backup_going(job))
        return;
    JsonObject *args = json_object_new();
    json_object_set_boolean_member(args, "flat", TRUE);
    qmp_command(op->dom->mon, "query-named-block-nodes", args, on_backup_sizes, job_ref(job));
}

/* step "create": the target images (qemu-img create; an incremental qcow2 one names the disk
 * as its backing file, as libvirt's, but QEMU writes it without opening that) */
static void
backup_create_step(struct job *job)
{
    struct backup_op *op = job->data;
    GPtrArray *cmds = snapshot_commands_new();
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        const struct backup_disk *bd = t->disk;
        if ((op->flags & BACKUP_REUSE_EXTERNAL) || (bd->block && g_strcmp0(bd->format, "raw") == 0))
            continue;
        const struct disk_def *d = domain_def_find_disk(op->dom->def, bd->name);
        const char *format = bd->format ? bd->format : "qcow2";
        /* a pull's scratch gets its backing (the disk's node) when it is added */
        gboolean backing = !op->def->pull && bd->mode == BACKUP_MODE_INCREMENTAL &&
                           g_str_equal(format, "qcow2") && d && d->source;
        g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, t->size);
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(core_storage_qemu_img()));
        const char *fixed[] = {"create", "-q", "-f", format};
        for (gsize k = 0; k < G_N_ELEMENTS(fixed); k++)
            g_ptr_array_add(argv, g_strdup(fixed[k]));
        if (backing) {
            g_ptr_array_add(argv, g_strdup("-u"));
            g_ptr_array_add(argv, g_strdup("-F"));
            g_ptr_array_add(argv, g_strdup(d->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw"));
            g_ptr_array_add(argv, g_strdup("-b"));
            g_ptr_array_add(argv, g_strdup(d->source));
        }
        g_ptr_array_add(argv, g_strdup(bd->target));
        g_ptr_array_add(argv, g_strdup(size));
        g_ptr_array_add(argv, NULL);
        g_ptr_array_add(cmds, g_ptr_array_free(argv, FALSE));
        t->made = !bd->block;
    }
    snapshot_run_commands(job, cmds);
}

/* a blockdev-add (attach) or blockdev-del (release) of a target's node */
static void
on_target_added(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    if (error && !op->add_error)
        op->add_error = g_error_copy(error);
    if (--op->outstanding == 0)
        job_step_over(job, op->add_error);
    else
        job_unref(job);
}

static void
qmp_quiet(struct domain *dom, const char *cmd, JsonObject *args)
{
    if (dom->mon)
        qmp_command(dom->mon, cmd, args, NULL, NULL);
    else
        json_object_unref(args);
}

/* --- what a daemon that dies during a backup leaves --- */

/* <status>/<domain>.backup: one line a target, "INDEX MADE JOB BITMAP PATH" (BITMAP "-" for
 * none, or one that goes with the target's nodes), and a line "nbd-server TLS" for a pull
 * backup (TLS: its credentials object in QEMU, "-" for none),
 * written before its nodes are added and removed once the backup is over: a restarted daemon
 * finds what QEMU still holds of it (core_backup_recover). */
#define RECORD_NBD "nbd-server"

/* object-del's arguments for the credentials object ID */
static JsonObject *
tls_object_args(const char *id)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "id", id);
    return args;
}

static char *
record_path(struct core *core, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.backup", name);
    return g_build_filename(core->paths.status_dir, file, NULL);
}

static gboolean
write_record(struct backup_op *op, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    if (op->def->pull)
        g_string_append_printf(s, RECORD_NBD " %s\n", op->tls_id ? op->tls_id : "-");
    for (guint i = 0; i < op->targets->len; i++) {
        const struct backup_target *t = op->targets->pdata[i];
        g_string_append_printf(s, "%u %d %s %s %s\n", t->disk->index, t->made, t->job_id,
                               t->temp_bitmap && !op->def->pull ? t->temp_bitmap : "-",
                               t->disk->target);
    }
    g_autofree char *path = record_path(op->dom->core, op->dom->def->name);
    return file_write_atomic(path, s->str, s->len, 0600, FILE_DURABLE, error);
}

void
core_backup_forget(struct core *core, const char *name)
{
    g_autofree char *path = record_path(core, name);
    if (unlink(path) == 0)
        log_warn("%s: a backup was under way when the daemon stopped and QEMU is gone; its "
                 "targets may be incomplete",
                 name);
}

struct leftover {
    unsigned index;
    gboolean made;
    char *job;
    char *bitmap; /* NULL: none */
    char *path;
    gboolean cancelled; /* block-job-cancel sent */
};

static void
leftover_free(struct leftover *l)
{
    g_free(l->job);
    g_free(l->bitmap);
    g_free(l->path);
    g_free(l);
}

struct recovery {
    struct domain *dom; /* a reference */
    GPtrArray *left;    /* struct leftover * */
    guint rounds;
    gboolean nbd; /* a pull backup's: its NBD server stops first */
    char *tls_id; /* ... and its credentials go */
};

static void recovery_poll(struct recovery *rec);

static gboolean
on_recovery_timer(gpointer data)
{
    recovery_poll(data);
    return G_SOURCE_REMOVE;
}

static void
recovery_free(struct recovery *rec)
{
    g_ptr_array_unref(rec->left);
    g_free(rec->tls_id);
    core_domain_unref(rec->dom);
    g_free(rec);
}

/* query-jobs: a copy still under way is cancelled (nobody waits for it); once every one
 * concluded, QEMU lets go of the targets and the copies of the bitmaps, and a target that did
 * not get whole is removed when the daemon made it */
static void
on_recovery_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct recovery *rec = data;
    struct domain *dom = rec->dom;
    JsonArray *jobs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    gboolean waiting = FALSE;
    for (guint i = 0; jobs && i < rec->left->len; i++) {
        struct leftover *l = rec->left->pdata[i];
        JsonObject *j = qemu_json_find_object(jobs, "id", l->job);
        const char *status = j ? qemu_json_string(j, "status") : NULL;
        if (!j || g_strcmp0(status, "concluded") == 0 || g_strcmp0(status, "null") == 0)
            continue;
        waiting = TRUE;
        if (!l->cancelled) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "device", l->job);
            json_object_set_boolean_member(args, "force", TRUE);
            qmp_command(dom->mon, "block-job-cancel", args, NULL, NULL);
            l->cancelled = TRUE;
        }
    }
    if (waiting && dom->mon && ++rec->rounds < 100) {
        g_timeout_add(100, on_recovery_timer, rec);
        return;
    }
    for (guint i = 0; dom->mon && i < rec->left->len; i++) {
        struct leftover *l = rec->left->pdata[i];
        JsonObject *j = jobs ? qemu_json_find_object(jobs, "id", l->job) : NULL;
        gboolean whole = j && !l->cancelled && !qemu_json_string(j, "error");
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", l->job);
        qmp_quiet(dom, "job-dismiss", args);
        g_autofree char *fmt = qemu_device_node_format(l->index);
        g_autofree char *storage = qemu_device_node_storage(l->index);
        const char *nodes[] = {fmt, storage};
        for (gsize k = 0; k < G_N_ELEMENTS(nodes); k++) {
            args = json_object_new();
            json_object_set_string_member(args, "node-name", nodes[k]);
            qmp_quiet(dom, "blockdev-del", args);
        }
        if (l->bitmap) {
            /* on the disk the job read: its node is the job's name after "backup-DISK-" */
            const char *node = strchr(l->job + strlen("backup-"), '-');
            args = json_object_new();
            json_object_set_string_member(args, "node", node ? node + 1 : "");
            json_object_set_string_member(args, "name", l->bitmap);
            qmp_quiet(dom, "block-dirty-bitmap-remove", args);
        }
        if (whole) {
            log_info("%s: the backup into '%s' finished while the daemon was away", dom->def->name,
                     l->path);
        } else if (l->made && unlink(l->path) == 0) {
            log_warn("%s: the backup into '%s' did not finish: removed", dom->def->name, l->path);
        }
    }
    g_autofree char *path = record_path(dom->core, dom->def->name);
    unlink(path);
    recovery_free(rec);
}

static void
recovery_poll(struct recovery *rec)
{
    if (!rec->dom->mon) {
        g_autofree char *path = record_path(rec->dom->core, rec->dom->def->name);
        unlink(path);
        recovery_free(rec);
        return;
    }
    qmp_command(rec->dom->mon, "query-jobs", NULL, on_recovery_jobs, rec);
}

void
core_backup_recover(struct domain *dom)
{
    g_autofree char *path = record_path(dom->core, dom->def->name);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    struct recovery *rec = g_new0(struct recovery, 1);
    rec->dom = core_domain_ref(dom);
    rec->left = g_ptr_array_new_with_free_func((GDestroyNotify)leftover_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], RECORD_NBD " ")) {
            const char *tls = lines[i] + strlen(RECORD_NBD " ");
            rec->nbd = TRUE;
            if (g_str_has_prefix(tls, "domus-backup-tls-"))
                rec->tls_id = g_strdup(tls);
        }
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 5);
        guint64 index = 0;
        if (g_strv_length(f) != 5 ||
            !g_ascii_string_to_unsigned(f[0], 10, 1, G_MAXUINT, &index, NULL) ||
            !g_str_has_prefix(f[2], "backup-"))
            continue;
        struct leftover *l = g_new0(struct leftover, 1);
        l->index = (unsigned)index;
        l->made = g_str_equal(f[1], "1");
        l->job = g_strdup(f[2]);
        l->bitmap = g_str_equal(f[3], "-") ? NULL : g_strdup(f[3]);
        l->path = g_strdup(f[4]);
        g_ptr_array_add(rec->left, l);
    }
    log_info("%s: a backup was under way when the daemon stopped: QEMU lets go of it",
             dom->def->name);
    if (rec->nbd && dom->mon)
        qmp_command(dom->mon, "nbd-server-stop", NULL, NULL, NULL);
    if (rec->tls_id && dom->mon)
        qmp_quiet(dom, "object-del", tls_object_args(rec->tls_id));
    recovery_poll(rec);
}

/* step "attach": each target's block nodes, with the disk's cache and I/O engine, on
 * nothing (QEMU writes only what it copies) */
static void
backup_attach_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    if (!backup_going(job))
        return;
    /* the targets are numbered after every image the domain has */
    unsigned index = qemu_device_next_image(dom->def);
    for (guint i = 0; i < op->targets->len; i++)
        ((struct backup_target *)op->targets->pdata[i])->disk->index = index++;
    GError *e = NULL;
    if (!write_record(op, &e)) {
        job_fail(job, e);
        return;
    }
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, t->disk->name);
        const char *format = t->disk->format ? t->disk->format : "qcow2";
        g_autoptr(GPtrArray) nodes = qemu_device_image_blockdevs(
            d, t->disk->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE, t->disk->target,
            g_str_equal(format, "raw") ? DISK_FORMAT_RAW : DISK_FORMAT_QCOW2, t->disk->index,
            op->def->pull ? t->device : NULL, core_disk_aio(dom->core, dom->emulator));
        t->attached = TRUE;
        for (guint j = 0; j < nodes->len; j++) {
            op->outstanding++;
            qmp_command(dom->mon, "blockdev-add", json_object_ref(nodes->pdata[j]), on_target_added,
                        job_ref(job));
        }
    }
    if (!op->outstanding)
        job_next(job);
}

static void
on_backup_transaction(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    gboolean recorded = op->checkpoint != NULL; /* its pending record */
    if (!error) {
        for (guint i = 0; i < op->targets->len; i++)
            ((struct backup_target *)op->targets->pdata[i])->bitmap_added = TRUE;
        GError *e = NULL;
        if (op->checkpoint) {
            struct checkpoint_def *cp = g_steal_pointer(&op->checkpoint);
            if (!checkpoint_keep_new(op->dom, cp, &e)) {
                /* the backup goes on without it; its bitmaps go (and its record with them) */
                log_warn("%s: %s", op->dom->def->name, e->message);
                g_clear_error(&e);
                checkpoint_pending_undo(op->dom, "could not be kept");
                recorded = FALSE;
            }
        }
        op->dom->backup = op;
        log_info("%s: %s backup of %u disk%s started", op->dom->def->name,
                 op->def->pull ? "pull" : "push", op->targets->len,
                 op->targets->len == 1 ? "" : "s");
        if (!op->def->pull)
            tell_started(op, NULL);
    }
    if (recorded)
        checkpoint_pending_clear(op->dom); /* the checkpoint is kept, or never was */
    job_step_over(job, error);
}

static void
on_nbd_server(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    op->serving = error == NULL;
    job_step_over(job, error);
}

static void
nbd_server_start(struct job *job)
{
    struct backup_op *op = job->data;
    const struct backup_def *def = op->def;
    if (!backup_going(job))
        return;
    JsonObject *data = json_object_new();
    if (def->server_unix) {
        json_object_set_string_member(data, "path", def->server_socket);
    } else {
        json_object_set_string_member(data, "host", def->server_name);
        g_autofree char *port = g_strdup_printf("%u", def->server_port);
        json_object_set_string_member(data, "port", port);
    }
    JsonObject *addr = json_object_new();
    json_object_set_string_member(addr, "type", def->server_unix ? "unix" : "inet");
    json_object_set_object_member(addr, "data", data);
    JsonObject *args = json_object_new();
    json_object_set_object_member(args, "addr", addr);
    if (op->tls_id)
        json_object_set_string_member(args, "tls-creds", op->tls_id);
    qmp_command(op->dom->mon, "nbd-server-start", args, on_nbd_server, job_ref(job));
}

static void
on_tls_added(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    if (error) {
        g_clear_pointer(&op->tls_id, g_free);
        job_step_over(job, error);
        return;
    }
    if (!job->finished)
        nbd_server_start(job);
    job_unref(job);
}

/* step "serve" (pull): QEMU's NBD server, on the socket or address the client gave, over TLS
 * with the credentials of backup_tls_x509_cert_dir when asked */
static void
backup_serve_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct core *core = op->dom->core;
    if (!op->def->pull) {
        job_next(job);
        return;
    }
    if (!backup_going(job))
        return;
    if (!op->def->server_tls) {
        nbd_server_start(job);
        return;
    }
    GError *error = NULL;
    if (!core_tls_check(core->backup_tls_dir, TRUE, "a backup served over TLS",
                        "backup_tls_x509_cert_dir", &error)) {
        job_fail(job, error);
        return;
    }
    op->tls_id = g_strdup_printf("domus-backup-tls-%" G_GINT64_MODIFIER "x", g_get_real_time());
    if (!write_record(op, &error)) {
        job_fail(job, error);
        return;
    }
    qmp_command(op->dom->mon, "object-add",
                core_tls_object(op->tls_id, core->backup_tls_dir, TRUE, core->backup_tls_verify),
                on_tls_added, job_ref(job));
}

/* QEMU stops the copies (domjobabort, a pull's end, an export that failed) */
static void
backup_cancel_jobs(struct backup_op *op)
{
    if (!op->dom->mon)
        return;
    op->cancelling = TRUE;
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "device", t->job_id);
        json_object_set_boolean_member(args, "force", TRUE);
        qmp_command(op->dom->mon, "block-job-cancel", args, NULL, NULL);
    }
}

static void
on_export_added(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    if (error && !op->export_error)
        op->export_error = g_error_copy(error);
    if (--op->outstanding) {
        job_unref(job);
        return;
    }
    if (op->export_error) {
        /* the copies end before QEMU can let go of the scratch images; the backup then fails
         * with this (the checkpoint made with it stays, as libvirt's) */
        g_prefix_error(&op->export_error, "cannot export the disks over NBD: ");
        backup_cancel_jobs(op);
    } else {
        tell_started(op, NULL);
    }
    job_step_over(job, NULL);
}

/* step "export" (pull): each scratch image served under the disk's export name, with the
 * incremental bitmap */
static void
backup_export_step(struct job *job)
{
    struct backup_op *op = job->data;
    /* asked to stop already: the copies are cancelled in the next step, which waits for them */
    if (!op->def->pull || job->aborted) {
        job_next(job);
        return;
    }
    if (!backup_going(job))
        return;
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        g_autofree char *node = qemu_device_node_format(t->disk->index);
        g_free(t->export_id);
        t->export_id = g_strdup_printf("nbd-%s", node);
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "type", "nbd");
        json_object_set_string_member(args, "id", t->export_id);
        json_object_set_string_member(args, "node-name", node);
        json_object_set_boolean_member(args, "writable", FALSE);
        json_object_set_string_member(args, "name", t->disk->exportname);
        if (t->temp_bitmap) {
            JsonArray *bitmaps = json_array_new();
            json_array_add_string_element(bitmaps, t->temp_bitmap);
            json_object_set_array_member(args, "bitmaps", bitmaps);
        }
        op->outstanding++;
        qmp_command(op->dom->mon, "block-export-add", args, on_export_added, job_ref(job));
    }
}

/* step "start": one transaction: the new checkpoint's bitmaps, each incremental disk's
 * disabled copy of its checkpoint's bitmap, and every disk's blockdev-backup */
static void
backup_start_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (!backup_going(job))
        return;
    if (op->checkpoint && !checkpoint_pending_write(dom, op->checkpoint, &error)) {
        job_fail(job, error);
        return;
    }
    JsonArray *actions = json_array_new();
    if (op->checkpoint)
        checkpoint_add_bitmap_actions(actions, dom, op->checkpoint);
    gboolean pull = op->def->pull;
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        g_autofree char *target = qemu_device_node_format(t->disk->index);
        if (t->temp_bitmap) {
            /* push: on the disk, for blockdev-backup to read; pull: on the scratch image, for
             * its export to carry (it goes with the image) */
            const char *node = pull ? target : t->device;
            JsonObject *add = json_object_new();
            json_object_set_string_member(add, "node", node);
            json_object_set_string_member(add, "name", t->temp_bitmap);
            json_object_set_boolean_member(add, "persistent", FALSE);
            json_object_set_boolean_member(add, "disabled", TRUE);
            json_array_add_object_element(actions,
                                          checkpoint_action("block-dirty-bitmap-add", add));
            JsonObject *merge = json_object_new();
            json_object_set_string_member(merge, "node", node);
            json_object_set_string_member(merge, "target", t->temp_bitmap);
            JsonArray *from = json_array_new();
            JsonObject *source = json_object_new();
            json_object_set_string_member(source, "node", t->device);
            json_object_set_string_member(source, "name", t->since);
            json_array_add_object_element(from, source);
            json_object_set_array_member(merge, "bitmaps", from);
            json_array_add_object_element(actions,
                                          checkpoint_action("block-dirty-bitmap-merge", merge));
        }
        JsonObject *b = json_object_new();
        json_object_set_string_member(b, "job-id", t->job_id);
        json_object_set_string_member(b, "device", t->device);
        json_object_set_string_member(b, "target", target);
        json_object_set_string_member(b, "sync",
                                      pull             ? "none"
                                      : t->temp_bitmap ? "incremental"
                                                       : "full");
        if (t->temp_bitmap && !pull)
            json_object_set_string_member(b, "bitmap", t->temp_bitmap);
        json_object_set_boolean_member(b, "auto-finalize", TRUE);
        json_object_set_boolean_member(b, "auto-dismiss", FALSE);
        json_array_add_object_element(actions, checkpoint_action("blockdev-backup", b));
    }
    JsonObject *args = json_object_new();
    json_object_set_array_member(args, "actions", actions);
    qmp_command(dom->mon, "transaction", args, on_backup_transaction, job_ref(job));
}

static gboolean on_backup_poll(gpointer data);

/* query-jobs: progress summed over the disks; the step ends once every copy concluded */
static void
on_backup_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    op->polling = FALSE;
    if (job->finished || op->job != job) {
        job_unref(job);
        return;
    }
    JsonArray *jobs = result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
    guint64 done = 0, total = 0;
    guint concluded = 0;
    GError *e = NULL;
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *j = jobs ? qemu_json_find_object(jobs, "id", t->job_id) : NULL;
        if (!j) {
            if (!e)
                err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                        "QEMU's backup job of disk '%s' is gone", t->disk->name);
            concluded++;
            continue;
        }
        t->cur = (guint64)MAX(qemu_json_int_or(j, "current-progress", 0), 0);
        t->end = (guint64)MAX(qemu_json_int_or(j, "total-progress", 0), 0);
        done += t->cur;
        total += t->end;
        const char *status = qemu_json_string(j, "status");
        if (g_strcmp0(status, "concluded") != 0 && g_strcmp0(status, "null") != 0)
            continue;
        concluded++;
        const char *why = qemu_json_string(j, "error");
        /* a pull's copies end when they are cancelled: the backup is over, not failed */
        if (why && !e && !(op->def->pull && op->cancelling))
            err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "backup of disk '%s' failed: %s",
                    t->disk->name, why);
    }
    if (error && !e)
        e = g_error_copy(error);
    job_set_progress(job, done, total);
    if (concluded == op->targets->len || (error && !jobs)) {
        op->job = NULL;
        if (!e && op->export_error)
            e = g_error_copy(op->export_error);
        /* a pull backup ends when it is aborted, once its caller heard it began */
        if (!e && job->aborted && (!op->def->pull || op->started))
            e = job_aborted_error(job, ERR_FROM_DOMAIN);
        job_step_over(job, e);
        g_clear_error(&e);
        return;
    }
    g_clear_error(&e);
    op->timer = g_timeout_add(BACKUP_POLL_MS, on_backup_poll, job);
    job_unref(job);
}

static gboolean
on_backup_poll(gpointer data)
{
    struct job *job = data;
    struct backup_op *op = job->data;
    op->timer = 0;
    if (!op->dom->mon) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
                op->dom->def->name);
        op->job = NULL;
        job_fail(job, e);
        return G_SOURCE_REMOVE;
    }
    op->polling = TRUE;
    qmp_command(op->dom->mon, "query-jobs", NULL, on_backup_jobs, job_ref(job));
    return G_SOURCE_REMOVE;
}

/* What may change the domain while its backup runs: libvirt's async backup job lets
 * suspend and modify through (block jobs and detaching a disk being backed up are refused on
 * their own). */
#define BACKUP_LETS                                                                                \
    (JOB_LETS(JOB_SHUTDOWN) | JOB_LETS(JOB_DESTROY) | JOB_LETS(JOB_SUSPEND) |                      \
     JOB_LETS(JOB_RESUME) | JOB_LETS(JOB_RESET) | JOB_LETS(JOB_REBOOT) | JOB_LETS(JOB_MODIFY))

/* step "copy": until QEMU concluded every disk's copy (a pull's: until it is ended); the job
 * steps aside meanwhile */
static void
backup_copy_step(struct job *job)
{
    struct backup_op *op = job->data;
    op->job = job;
    job->temp = op->def->pull;
    if (!op->export_error)
        job_step_aside(job, BACKUP_LETS);
    if (job->aborted && !op->cancelling)
        backup_cancel_jobs(op); /* asked to end before the copy began */
    on_backup_poll(job);
}

/* domjobabort (a pull backup's end), destroy: QEMU cancels the copies; the poll sees them
 * conclude */
static void
backup_abort(struct job *job)
{
    struct backup_op *op = job->data;
    if (op->job)
        backup_cancel_jobs(op);
}

/* step "release": QEMU lets go of the targets (flushed and closed before the job is over,
 * so that a completed backup can be read at once) and of the temporary bitmaps */
static void
backup_release_step(struct job *job)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    g_clear_error(&op->add_error);
    if (!dom->mon) {
        /* QEMU is gone with all of it */
        job_next(job);
        return;
    }
    if (op->serving) {
        /* the exports go with the server */
        qmp_command(dom->mon, "nbd-server-stop", NULL, NULL, NULL);
        op->serving = FALSE;
    }
    if (op->tls_id) {
        qmp_command(dom->mon, "object-del", tls_object_args(op->tls_id), NULL, NULL);
        g_clear_pointer(&op->tls_id, g_free);
    }
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", t->job_id);
        qmp_command(dom->mon, "job-dismiss", args, NULL, NULL);
        if (t->temp_bitmap && !op->def->pull) {
            args = json_object_new();
            json_object_set_string_member(args, "node", t->device);
            json_object_set_string_member(args, "name", t->temp_bitmap);
            qmp_command(dom->mon, "block-dirty-bitmap-remove", args, NULL, NULL);
        }
        t->bitmap_added = FALSE;
        g_autofree char *fmt = qemu_device_node_format(t->disk->index);
        g_autofree char *storage = qemu_device_node_storage(t->disk->index);
        const char *nodes[] = {fmt, storage};
        for (gsize k = 0; k < G_N_ELEMENTS(nodes); k++) {
            args = json_object_new();
            json_object_set_string_member(args, "node-name", nodes[k]);
            op->outstanding++;
            qmp_command(dom->mon, "blockdev-del", args, on_target_added, job_ref(job));
        }
        t->attached = FALSE;
    }
    if (!op->outstanding)
        job_next(job);
}

/* QEMU lets go of everything the backup added; a failed or aborted one leaves no image it
 * made, nor does a pull (its scratch images were for the while it lasted) */
static void
backup_finish(struct job *job, const GError *error)
{
    struct backup_op *op = job->data;
    struct domain *dom = op->dom;
    if (dom->backup == op)
        dom->backup = NULL;
    g_autofree char *record = record_path(dom->core, dom->def->name);
    unlink(record);
    if (op->serving)
        qmp_quiet(dom, "nbd-server-stop", NULL);
    if (op->tls_id) {
        qmp_quiet(dom, "object-del", tls_object_args(op->tls_id));
        g_clear_pointer(&op->tls_id, g_free);
    }
    for (guint i = 0; i < op->targets->len; i++) {
        struct backup_target *t = op->targets->pdata[i];
        if (t->bitmap_added) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "id", t->job_id);
            qmp_quiet(dom, "job-dismiss", args);
        }
        if (t->attached) {
            g_autofree char *fmt = qemu_device_node_format(t->disk->index);
            g_autofree char *storage = qemu_device_node_storage(t->disk->index);
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "node-name", fmt);
            qmp_quiet(dom, "blockdev-del", args);
            args = json_object_new();
            json_object_set_string_member(args, "node-name", storage);
            qmp_quiet(dom, "blockdev-del", args);
        }
        if (t->bitmap_added && t->temp_bitmap && !op->def->pull) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "node", t->device);
            json_object_set_string_member(args, "name", t->temp_bitmap);
            qmp_quiet(dom, "block-dirty-bitmap-remove", args);
        }
        if ((error || op->def->pull) && t->made && unlink(t->disk->target) < 0 && errno != ENOENT)
            log_warn("%s: cannot remove '%s': %s", dom->def->name, t->disk->target,
                     g_strerror(errno));
    }
    if (error)
        log_info("%s: backup ended: %s", dom->def->name, error->message);
    else
        log_info("%s: backup of %u disk%s done", dom->def->name, op->targets->len,
                 op->targets->len == 1 ? "" : "s");
    /* VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, once the copy had begun: its figures and outcome */
    if (!op->started)
        core_domain_emit_job_completed(dom, TRUE, error);
    tell_started(op, error);
}

static const struct job_step backup_steps[] = {
    {"size", backup_size_step},   {"create", backup_create_step},   {"attach", backup_attach_step},
    {"serve", backup_serve_step}, {"start", backup_start_step},     {"export", backup_export_step},
    {"copy", backup_copy_step},   {"release", backup_release_step}, {NULL, NULL},
};
static const struct job_pipeline backup_pipeline = {backup_steps, backup_finish, backup_abort,
                                                    TRUE};

static void
backup_run_done(GError *error, gpointer data)
{
    /* the caller heard at the start (tell_started); the outcome is the job's (domjobinfo
     * --completed) */
}

static void
backup_begin_job(struct job *job, GError *error, gpointer data)
{
    struct backup_op *op = data;
    GError *err = error ? g_error_copy(error) : NULL;
    if (job && !backup_check(op, &err)) {
        job_cancel(job, NULL, NULL, NULL);
        job = NULL;
    }
    if (!job) {
        tell_started(op, err);
        g_error_free(err);
        backup_op_free(op);
        return;
    }
    job_run(job, op, backup_op_free, backup_run_done, NULL);
}

void
core_backup_begin(struct domain *dom, const char *backup_xml, const char *checkpoint_xml,
                  unsigned flags, core_done_fn started, gpointer data)
{
    GError *error = NULL;
    g_autoptr(backup_def) def = backup_def_parse(backup_xml, &error);
    g_autoptr(checkpoint_def) cp =
        def && checkpoint_xml ? checkpoint_def_parse(checkpoint_xml, 0, &error) : NULL;
    if (!def || (checkpoint_xml && !cp)) {
        started(error, data);
        g_error_free(error);
        return;
    }
    struct backup_op *op = g_new0(struct backup_op, 1);
    op->dom = core_domain_ref(dom);
    op->def = g_steal_pointer(&def);
    op->checkpoint = g_steal_pointer(&cp);
    op->targets = g_ptr_array_new_with_free_func((GDestroyNotify)target_free);
    op->flags = flags;
    op->started = started;
    op->data = data;
    job_acquire(&dom->jobs, JOB_BACKUP, &backup_pipeline, dom->core->job_wait_ms, backup_begin_job,
                op);
}

char *
core_backup_xml(struct domain *dom, GError **error)
{
    if (!dom->backup) {
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN_BACKUP,
                "Domain backup job id not found: domain '%s' has no backup job under way",
                dom->def->name);
        return NULL;
    }
    return backup_def_format(dom->backup->def);
}

gboolean
core_backup_disk_progress(struct domain *dom, const char *target, guint64 *cur, guint64 *end)
{
    struct backup_op *op = dom->backup;
    for (guint i = 0; op && i < op->targets->len; i++) {
        const struct backup_target *t = op->targets->pdata[i];
        if (!g_str_equal(t->disk->name, target))
            continue;
        if (cur)
            *cur = t->cur;
        if (end)
            *end = t->end;
        return TRUE;
    }
    return FALSE;
}

unsigned
core_backup_next_image(struct domain *dom)
{
    unsigned next = 0;
    struct backup_op *op = dom->backup;
    for (guint i = 0; op && i < op->targets->len; i++) {
        const struct backup_target *t = op->targets->pdata[i];
        next = MAX(next, t->disk->index + 1);
    }
    return next;
}
