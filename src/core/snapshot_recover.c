/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_recover (prefix snapshot_, core_snapshot_recover): a snapshot a daemon did not see to
 * its end. Before anything is touched a create leaves a record (.pending: a line of words,
 * then the snapshot's XML) and the status names the job; a restarted daemon keeps the snapshot
 * when the images have it, else removes what it made. */
#include "core/snapshot.h"

#include <string.h>
#include <unistd.h>

#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define QJOB_ID SNAPSHOT_QJOB_ID

/* --- a snapshot on its way, for a daemon that dies before its end --- */

#define PENDING_FILE ".pending"

/* The record: one line of words ("internal" or "external", "reuse" when the client made the
 * overlays, "no-metadata"; "delete" for a delete), then the snapshot's XML as it will be kept
 * (a delete's: as it is). */
gboolean
snapshot_pending_write(struct domain *dom, const struct snapshot_def *def, gboolean external,
                       unsigned flags, GError **error)
{
    g_autofree char *dir = snapshot_dir(dom);
    g_autofree char *path = g_build_filename(dir, PENDING_FILE, NULL);
    g_autofree char *xml = snapshot_def_format(def, SNAPSHOT_DEF_FORMAT_SECURE);
    g_autofree char *text =
        g_strdup_printf("%s%s%s\n%s", external ? "external" : "internal",
                        (flags & CORE_SNAPSHOT_CREATE_REUSE_EXTERNAL) ? " reuse" : "",
                        (flags & CORE_SNAPSHOT_CREATE_NO_METADATA) ? " no-metadata" : "", xml);
    return file_mkdir_p(dir, 0700, error) &&
           file_write_atomic(path, text, strlen(text), 0600, FILE_DURABLE, error);
}

gboolean
snapshot_pending_write_delete(struct domain *dom, const struct snapshot_def *def, GError **error)
{
    if (!def)
        return TRUE;
    g_autofree char *dir = snapshot_dir(dom);
    g_autofree char *path = g_build_filename(dir, PENDING_FILE, NULL);
    g_autofree char *xml = snapshot_def_format(def, SNAPSHOT_DEF_FORMAT_SECURE);
    g_autofree char *text = g_strdup_printf("external delete\n%s", xml);
    return file_mkdir_p(dir, 0700, error) &&
           file_write_atomic(path, text, strlen(text), 0600, FILE_DURABLE, error);
}

void
snapshot_pending_clear(struct domain *dom)
{
    g_autofree char *dir = snapshot_dir(dom);
    g_autofree char *path = g_build_filename(dir, PENDING_FILE, NULL);
    unlink(path);
}

gboolean
snapshot_pending_exists(struct domain *dom)
{
    g_autofree char *dir = snapshot_dir(dom);
    g_autofree char *path = g_build_filename(dir, PENDING_FILE, NULL);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

struct pending {
    struct snapshot_def *def;
    gboolean external, reuse, no_metadata, delete;
};

static void
pending_free(struct pending *p)
{
    snapshot_def_free(p->def);
    g_free(p);
}

static struct pending *
pending_read(struct domain *dom)
{
    g_autofree char *dir = snapshot_dir(dom);
    g_autofree char *path = g_build_filename(dir, PENDING_FILE, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    char *nl = strchr(text, '\n');
    g_autoptr(GError) error = NULL;
    struct snapshot_def *def =
        nl ? snapshot_def_parse(nl + 1, SNAPSHOT_DEF_PARSE_REDEFINE, &error) : NULL;
    if (!def || !def->name) {
        log_warn("%s: ignoring '%s': %s", dom->def->name, path,
                 error ? error->message : "not a snapshot record");
        snapshot_def_free(def);
        unlink(path);
        return NULL;
    }
    *nl = '\0';
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    struct pending *p = g_new0(struct pending, 1);
    p->def = def;
    p->external = g_strv_contains((const char *const *)words, "external");
    p->reuse = g_strv_contains((const char *const *)words, "reuse");
    p->no_metadata = g_strv_contains((const char *const *)words, "no-metadata");
    p->delete = g_strv_contains((const char *const *)words, "delete");
    return p;
}

/* The interrupted snapshot is kept: its metadata as it would have been written. */
static void
pending_keep(struct domain *dom, struct pending *p)
{
    log_info("%s: snapshot '%s' was made before the daemon stopped; keeping it", dom->def->name,
             p->def->name);
    if (p->no_metadata)
        return;
    struct snapshot_def *def = g_steal_pointer(&p->def);
    g_hash_table_replace(dom->snapshots, def->name, def);
    g_free(dom->current_snapshot);
    dom->current_snapshot = g_strdup(def->name);
    GError *e = NULL;
    if (!snapshot_write_meta(dom, def, &e) || !snapshot_write_current(dom, &e)) {
        log_warn("%s: %s", dom->def->name, e->message);
        g_error_free(e);
    }
}

/* The interrupted external snapshot is undone: the overlays it made go. */
static void
pending_drop(struct domain *dom, struct pending *p)
{
    log_info("%s: snapshot '%s' was not made before the daemon stopped; removing what it left",
             dom->def->name, p->def->name);
    for (guint i = 0; p->external && !p->reuse && i < p->def->disks->len; i++) {
        const struct snapshot_disk *d = p->def->disks->pdata[i];
        if (d->snapshot == SNAPSHOT_LOC_EXTERNAL && d->file)
            unlink(d->file);
    }
    if (p->external && p->def->memory == SNAPSHOT_LOC_EXTERNAL && p->def->memory_file)
        file_remove_large(p->def->memory_file, NULL);
}

/* Whether qemu-img lists snapshot NAME in the image at PATH (shut off domain). */
static gboolean
image_has_snapshot(const char *path, const char *name)
{
    const char *argv[] = {"qemu-img", "snapshot", "-U", "-l", path, NULL};
    g_autofree char *out = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return FALSE;
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        g_auto(GStrv) cols = g_strsplit_set(lines[i], " \t", -1);
        int c = 0;
        for (int j = 0; cols[j]; j++)
            if (*cols[j] && ++c == 2 && g_str_equal(cols[j], name))
                return TRUE;
    }
    return FALSE;
}

/* At registration, for a domain that is not running: the record of a snapshot a daemon did
 * not see to its end is settled by the images and the configuration. */
void
snapshot_pending_settle_offline(struct domain *dom)
{
    g_autofree char *status = core_status_path(dom);
    if (g_file_test(status, G_FILE_TEST_EXISTS))
        return; /* running: settled once adopted (core_snapshot_recover) */
    struct pending *p = pending_read(dom);
    if (!p)
        return;
    if (p->delete) {
        /* its QEMU is gone: the snapshot stays as its metadata says (what a commit had copied
         * down is also in the overlay above) */
        snapshot_pending_clear(dom);
        pending_free(p);
        return;
    }
    gboolean made = TRUE;
    for (guint i = 0; i < p->def->disks->len; i++) {
        const struct snapshot_disk *sd = p->def->disks->pdata[i];
        const struct disk_def *d = domain_def_find_disk(dom->def, sd->name);
        if (sd->snapshot == SNAPSHOT_LOC_EXTERNAL)
            made &= d && g_strcmp0(d->source, sd->file) == 0;
        else if (sd->snapshot == SNAPSHOT_LOC_INTERNAL)
            made &= d && d->source && image_has_snapshot(d->source, p->def->name);
    }
    if (made)
        pending_keep(dom, p);
    else
        pending_drop(dom, p);
    snapshot_pending_clear(dom);
    pending_free(p);
}

/* --- recovery of a running domain's snapshot --- */

struct recover {
    struct domain *dom;
    struct pending *p; /* NULL: a revert's block job, cancelled (a delete's too, and its record
                        * says whether QEMU had merged) */
    guint polls;
    gboolean cancelled;
    struct job *job; /* holds the domain: a new snapshot call waits until QEMU's job is gone */
};

/* never run: only held while the dead daemon's QEMU job is settled */
static const struct job_step recover_steps[] = {{NULL, NULL}};
static const struct job_pipeline recover_pipeline = {.steps = recover_steps};

static void
recover_end(struct recover *rc)
{
    if (rc->job)
        job_cancel(rc->job, NULL, NULL, NULL);
    if (rc->p)
        snapshot_pending_clear(rc->dom);
    if (rc->p)
        pending_free(rc->p);
    core_domain_unref(rc->dom);
    g_free(rc);
}

/* Whether an external disk of DEF (its overlay) is still in some device's chain, by
 * query-block's BLOCKS: the top file and every backing image below it. */
static gboolean
overlays_in_use(const struct snapshot_def *def, JsonArray *blocks)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const struct snapshot_disk *sd = def->disks->pdata[i];
        if (sd->snapshot != SNAPSHOT_LOC_EXTERNAL || !sd->file)
            continue;
        for (guint j = 0; j < json_array_get_length(blocks); j++) {
            JsonObject *b = qemu_json_element_object(blocks, j);
            JsonObject *ins = b ? qemu_json_object(b, "inserted") : NULL;
            if (ins && g_strcmp0(qemu_json_string(ins, "file"), sd->file) == 0)
                return TRUE;
            for (JsonObject *img = ins ? qemu_json_object(ins, "image") : NULL; img;
                 img = qemu_json_object(img, "backing-image"))
                if (g_strcmp0(qemu_json_string(img, "filename"), sd->file) == 0)
                    return TRUE;
        }
    }
    return FALSE;
}

/* What query-block says of the images: each device's top file, its node, its snapshots */
static void
on_recover_blocks(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct recover *rc = data;
    struct domain *dom = rc->dom;
    struct snapshot_def *def = rc->p->def;
    JsonArray *blocks = error ? NULL : qemu_json_node_array(result);
    if (!blocks || !dom->mon) {
        recover_end(rc);
        return;
    }
    if (rc->p->delete) {
        if (!overlays_in_use(def, blocks))
            snapshot_ext_delete_recovered(dom, def->name);
        recover_end(rc);
        return;
    }
    gboolean made = TRUE;
    g_autoptr(GPtrArray) switched = g_ptr_array_new_with_free_func(g_free); /* node names */
    for (guint i = 0; i < def->disks->len; i++) {
        const struct snapshot_disk *sd = def->disks->pdata[i];
        if (sd->snapshot != SNAPSHOT_LOC_EXTERNAL && sd->snapshot != SNAPSHOT_LOC_INTERNAL)
            continue;
        gboolean found = FALSE;
        for (guint j = 0; j < json_array_get_length(blocks); j++) {
            JsonObject *b = qemu_json_element_object(blocks, j);
            JsonObject *ins = b ? qemu_json_object(b, "inserted") : NULL;
            if (!ins)
                continue;
            if (sd->snapshot == SNAPSHOT_LOC_EXTERNAL) {
                if (g_strcmp0(qemu_json_string(ins, "file"), sd->file) == 0) {
                    found = TRUE;
                    g_ptr_array_add(switched, g_strdup(qemu_json_string(ins, "node-name")));
                }
                continue;
            }
            const struct disk_def *d = domain_def_find_disk(dom->def, sd->name);
            if (!d || g_strcmp0(qemu_json_string(ins, "file"), d->source) != 0)
                continue;
            JsonObject *img = qemu_json_object(ins, "image");
            JsonArray *snaps = img ? qemu_json_array(img, "snapshots") : NULL;
            for (guint k = 0; snaps && k < json_array_get_length(snaps); k++) {
                JsonObject *s = qemu_json_element_object(snaps, k);
                found |= s && g_strcmp0(qemu_json_string(s, "name"), def->name) == 0;
            }
        }
        made &= found;
    }
    if (made && rc->p->external)
        snapshot_ext_recovered(dom, def, switched);
    if (made) {
        pending_keep(dom, rc->p);
    } else {
        if (rc->p->external)
            snapshot_ext_unmade(dom, def);
        pending_drop(dom, rc->p);
    }
    recover_end(rc);
}

static gboolean recover_poll(gpointer data);

/* QEMU's snapshot job of the dead daemon ends first (it resumes the vCPUs itself). */
static void
on_recover_jobs(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct recover *rc = data;
    JsonArray *jobs = error ? NULL : qemu_json_node_array(result);
    for (guint i = 0; jobs && i < json_array_get_length(jobs); i++) {
        JsonObject *j = qemu_json_element_object(jobs, i);
        if (!j || g_strcmp0(qemu_json_string(j, "id"), QJOB_ID) != 0)
            continue;
        if (g_strcmp0(qemu_json_string(j, "status"), "concluded") != 0 && rc->polls++ < 12000) {
            /* a create's job is let finish; a delete's commit is cancelled: the overlay stays
             * where it was (what it copied below is in the image that the overlay covers) */
            if ((!rc->p || rc->p->delete) && !rc->cancelled) {
                rc->cancelled = TRUE;
                JsonObject *args = json_object_new();
                json_object_set_string_member(args, "id", QJOB_ID);
                qmp_command(rc->dom->mon, "job-cancel", args, NULL, NULL);
            }
            g_timeout_add(50, recover_poll, rc);
            return;
        }
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "id", QJOB_ID);
        qmp_command(rc->dom->mon, "job-dismiss", args, NULL, NULL);
    }
    if (!rc->dom->mon || !rc->p) {
        recover_end(rc);
        return;
    }
    qmp_command(rc->dom->mon, "query-block", NULL, on_recover_blocks, rc);
}

static gboolean
recover_poll(gpointer data)
{
    struct recover *rc = data;
    if (!rc->dom->mon)
        recover_end(rc);
    else
        qmp_command(rc->dom->mon, "query-jobs", NULL, on_recover_jobs, rc);
    return G_SOURCE_REMOVE;
}

void
core_snapshot_recover(struct domain *dom)
{
    dom->snapshot_interrupted = FALSE;
    struct pending *p = pending_read(dom);
    struct recover *rc = g_new0(struct recover, 1);
    rc->dom = core_domain_ref(dom);
    rc->p = p;
    /* a call that came in right after the restart (a delete of the same snapshot) must not
     * start a block job while the old one is still QEMU's */
    rc->job = job_try_acquire(&dom->jobs, JOB_SNAPSHOT, &recover_pipeline, NULL);
    recover_poll(rc);
}
