/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* block job commands: blockcopy, blockpull and blockcommit (virsh's options, its waiting and
 * its words), blockjob (--info, --abort, --pivot, --bandwidth) and domblkthreshold. */
#include <stdio.h>

#include "cli/cli.h"

enum { INFO_BYTES = 1, ABORT_ASYNC = 1, ABORT_PIVOT = 2, COPY_SHALLOW = 1, COPY_REUSE = 2 };
enum {
    PULL_BYTES = 64,
    COMMIT_SHALLOW = 1,
    COMMIT_DELETE = 2,
    COMMIT_ACTIVE = 4,
    COMMIT_BYTES = 16
};
/* virConnectDomainEventBlockJobStatus */
enum { JOB_COMPLETED, JOB_FAILED, JOB_CANCELED, JOB_READY };
/* the block job events: BLOCK_JOB (the disk's image), BLOCK_JOB_2 (its target) */
enum { EVENT_BLOCK_JOB = 8, EVENT_BLOCK_JOB_2 = 16 };

/* virsh's names of virDomainBlockJobType */
static const char *
job_name(int type)
{
    static const char *const names[] = {"Unknown job",  "Block Pull",          "Block Copy",
                                        "Block Commit", "Active Block Commit", "Backup"};
    return type > 0 && type < (int)G_N_ELEMENTS(names) ? names[type] : names[0];
}

/* Registers for the block job events of DOM's connection, before a job starts. */
static gboolean
watch_jobs(domus_domain *dom, GError **error)
{
    domus_conn *conn = domus_domain_get_connect(dom);
    return domus_event_register(conn, EVENT_BLOCK_JOB, dom, error) >= 0 &&
           domus_event_register(conn, EVENT_BLOCK_JOB_2, dom, error) >= 0;
}

/* virsh's virshBlockJobWait: the job of disk PATH, its progress shown under LABEL (VERBOSE),
 * until its event says it is over or in step; after TIMEOUT s (0: none) it is aborted
 * (ABORT_FLAGS) and counts as canceled. Returns the event's status (JOB_*), -1 with ERROR. */
static int
wait_job(domus_domain *dom, const char *path, const char *label, gboolean verbose, guint64 timeout,
         unsigned abort_flags, GError **error)
{
    domus_conn *conn = domus_domain_get_connect(dom);
    gint64 start = g_get_monotonic_time();
    for (;;) {
        struct domus_event ev;
        int got = domus_event_next(conn, &ev, 200, error);
        if (got < 0)
            return -1;
        if (got > 0) {
            gboolean ours = ev.object == 0 &&
                            (ev.event_id == EVENT_BLOCK_JOB || ev.event_id == EVENT_BLOCK_JOB_2) &&
                            g_strcmp0(ev.alias, path) == 0;
            int status = ev.detail;
            domus_event_clear(&ev);
            if (!ours)
                continue;
            if (verbose && (status == JOB_COMPLETED || status == JOB_READY))
                cli_print_progress(label, 0, 1);
            return status;
        }
        struct domus_block_job_info info;
        int found = domus_domain_block_job_info(dom, path, INFO_BYTES, &info, error);
        if (found < 0)
            return -1;
        if (found == 0)
            return JOB_COMPLETED; /* over, its event named the disk otherwise */
        if (verbose)
            cli_print_progress(label, info.end - MIN(info.cur, info.end), info.end);
        if (timeout && g_get_monotonic_time() - start > (gint64)timeout * G_USEC_PER_SEC) {
            if (!domus_domain_block_job_abort(dom, path, abort_flags, error))
                return -1;
            return JOB_CANCELED;
        }
    }
}

/* FALSE when wait_job's STATUS ends the command (virsh's "WHAT aborted" or "WHAT failed") */
static gboolean
went_on(int status, const char *what)
{
    /* (the empty line that ends a failed command follows) */
    if (status == JOB_CANCELED || status == JOB_FAILED)
        printf("\n%s %s", what, status == JOB_CANCELED ? "aborted" : "failed");
    return status >= 0 && status != JOB_CANCELED && status != JOB_FAILED;
}

/* --verbose and --async need something to wait for */
static gboolean
check_waiting(struct cli_ctx *ctx, gboolean blocking, const char *which, GError **error)
{
    if (!blocking && (cli_has(ctx, "verbose") || cli_has(ctx, "async"))) {
        cli_set_error(error, "--%s requires at least one of --timeout, --wait%s",
                      cli_has(ctx, "verbose") ? "verbose" : "async", which);
        return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_blockpull(struct cli_ctx *ctx, GError **error)
{
    const char *path = cli_get(ctx, "path");
    const char *base = cli_get(ctx, "base");
    guint64 bandwidth, timeout;
    if (!cli_get_u64(ctx, "bandwidth", &bandwidth, error) ||
        !cli_get_u64(ctx, "timeout", &timeout, error))
        return FALSE;
    gboolean blocking = cli_has(ctx, "wait") || timeout;
    if (!check_waiting(ctx, blocking, "", error))
        return FALSE;
    if (cli_has(ctx, "keep-relative")) {
        cli_set_error(error, "--keep-relative is not supported by Domus yet");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || (blocking && !watch_jobs(dom, error)))
        return FALSE;
    if (!domus_domain_block_pull(dom, path, base, bandwidth, cli_has(ctx, "bytes") ? PULL_BYTES : 0,
                                 error))
        return FALSE;
    if (!blocking) {
        printf("Block Pull started\n");
        return TRUE;
    }
    int status = wait_job(dom, path, "Block Pull", cli_has(ctx, "verbose"), timeout,
                          cli_has(ctx, "async") ? ABORT_ASYNC : 0, error);
    if (!went_on(status, "Pull"))
        return FALSE;
    printf("\nPull complete\n");
    return TRUE;
}

static gboolean
cmd_blockcommit(struct cli_ctx *ctx, GError **error)
{
    const char *path = cli_get(ctx, "path");
    gboolean pivot = cli_has(ctx, "pivot"), keep = cli_has(ctx, "keep-overlay");
    gboolean active = cli_has(ctx, "active") || pivot || keep;
    guint64 bandwidth, timeout;
    if (pivot && keep) {
        cli_set_error(error, "Options --pivot and --keep-overlay are mutually exclusive");
        return FALSE;
    }
    if (!cli_get_u64(ctx, "bandwidth", &bandwidth, error) ||
        !cli_get_u64(ctx, "timeout", &timeout, error))
        return FALSE;
    gboolean blocking = cli_has(ctx, "wait") || pivot || keep || timeout;
    if (!check_waiting(ctx, blocking, ", --pivot, or --keep-overlay", error))
        return FALSE;
    if (cli_has(ctx, "keep-relative")) {
        cli_set_error(error, "--keep-relative is not supported by Domus yet");
        return FALSE;
    }
    unsigned flags = (cli_has(ctx, "bytes") ? COMMIT_BYTES : 0) |
                     (cli_has(ctx, "shallow") ? COMMIT_SHALLOW : 0) |
                     (cli_has(ctx, "delete") ? COMMIT_DELETE : 0) | (active ? COMMIT_ACTIVE : 0);
    unsigned abort_flags = cli_has(ctx, "async") ? ABORT_ASYNC : 0;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || (blocking && !watch_jobs(dom, error)))
        return FALSE;
    if (!domus_domain_block_commit(dom, path, cli_get(ctx, "base"), cli_get(ctx, "top"), bandwidth,
                                   flags, error))
        return FALSE;
    if (!blocking) {
        printf("%s\n", active ? "Active Block Commit started" : "Block Commit started");
        return TRUE;
    }
    int status =
        wait_job(dom, path, "Block commit", cli_has(ctx, "verbose"), timeout, abort_flags, error);
    if (!went_on(status, "Commit"))
        return FALSE;
    if (active && status == JOB_READY && (pivot || keep)) {
        if (!domus_domain_block_job_abort(dom, path, abort_flags | (pivot ? ABORT_PIVOT : 0),
                                          error)) {
            g_prefix_error(error, "failed to %s job for disk %s: ", pivot ? "pivot" : "finish",
                           path);
            return FALSE;
        }
        printf("\n%s\n", pivot ? "Successfully pivoted" : "Commit complete, overlay image kept");
    } else {
        printf("\n%s\n", active ? "Now in synchronized phase" : "Commit complete");
    }
    return TRUE;
}

static gboolean
cmd_blockcopy(struct cli_ctx *ctx, GError **error)
{
    const char *path = cli_get(ctx, "path");
    const char *dest = cli_get(ctx, "dest");
    const char *xmlfile = cli_get(ctx, "xml");
    gboolean pivot = cli_has(ctx, "pivot"), finish = cli_has(ctx, "finish");
    gboolean verbose = cli_has(ctx, "verbose");
    guint64 bandwidth, timeout;
    if (pivot && finish) {
        cli_set_error(error, "Options --pivot and --finish are mutually exclusive");
        return FALSE;
    }
    if (!!dest == !!xmlfile) {
        cli_set_error(error, "need either --dest or --xml");
        return FALSE;
    }
    if (!cli_get_u64(ctx, "bandwidth", &bandwidth, error) ||
        !cli_get_u64(ctx, "timeout", &timeout, error))
        return FALSE;
    if (cli_has(ctx, "granularity") || cli_has(ctx, "buf-size") ||
        cli_has(ctx, "synchronous-writes")) {
        cli_set_error(error, "--granularity, --buf-size and --synchronous-writes are not "
                             "supported by Domus yet");
        return FALSE;
    }
    g_autofree char *xml = NULL;
    if (xmlfile) {
        if (!(xml = cli_read_xml_file(xmlfile, error)))
            return FALSE;
    } else {
        const char *format = cli_get(ctx, "format");
        gboolean dev = cli_has(ctx, "blockdev");
        GString *b = g_string_new(dev ? "<disk type='block'>\n" : "<disk type='file'>\n");
        g_autofree char *esc = g_markup_escape_text(dest, -1);
        g_string_append_printf(b, "  <source %s='%s'/>\n", dev ? "dev" : "file", esc);
        if (format) {
            g_autofree char *f = g_markup_escape_text(format, -1);
            g_string_append_printf(b, "  <driver type='%s'/>\n", f);
        }
        g_string_append(b, "</disk>\n");
        xml = g_string_free(b, FALSE);
    }
    if (cli_has(ctx, "print-xml")) {
        printf("%s\n", xml);
        return TRUE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    unsigned flags = (cli_has(ctx, "shallow") ? COPY_SHALLOW : 0) |
                     (cli_has(ctx, "reuse-external") ? COPY_REUSE : 0);
    guint64 bytes = cli_has(ctx, "bytes") ? bandwidth : bandwidth << 20;
    if (!domus_domain_block_copy(dom, path, xml, bytes, flags, error))
        return FALSE;
    if (!cli_has(ctx, "wait") && !pivot && !finish && !verbose && !timeout) {
        printf("Block Copy started\n\n");
        return TRUE;
    }
    /* virsh waits until the copy is in step with the disk */
    gint64 start = g_get_monotonic_time();
    struct domus_block_job_info info;
    for (;;) {
        int found = domus_domain_block_job_info(dom, path, INFO_BYTES, &info, error);
        if (found < 0)
            return FALSE;
        if (found == 0) {
            printf("\nCopy failed\n");
            return FALSE;
        }
        if (verbose)
            cli_print_progress("Block Copy", info.end - MIN(info.cur, info.end), info.end);
        if (info.end && info.cur == info.end)
            break;
        if (timeout && g_get_monotonic_time() - start > (gint64)timeout * G_USEC_PER_SEC) {
            domus_domain_block_job_abort(dom, path, cli_has(ctx, "async") ? ABORT_ASYNC : 0, NULL);
            printf("\nCopy aborted\n\n");
            return FALSE;
        }
        g_usleep(200 * 1000);
    }
    if (verbose)
        cli_print_progress("Block Copy", 0, 1);
    if (pivot || finish) {
        unsigned abort_flags =
            (pivot ? ABORT_PIVOT : 0) | (cli_has(ctx, "async") ? ABORT_ASYNC : 0);
        if (!domus_domain_block_job_abort(dom, path, abort_flags, error)) {
            g_prefix_error(error, "failed to %s job for disk %s: ", pivot ? "pivot" : "finish",
                           path);
            return FALSE;
        }
        printf("\n%s\n\n", pivot ? "Successfully pivoted" : "Successfully copied");
    } else {
        printf("\nNow in mirroring phase\n\n");
    }
    return TRUE;
}

static gboolean
cmd_domblkthreshold(struct cli_ctx *ctx, GError **error)
{
    guint64 threshold;
    const char *text = cli_get(ctx, "threshold");
    if (!cli_parse_scaled(text, 1, &threshold, error)) {
        if (error && !*error)
            cli_set_error(error,
                          "Numeric value '%s' for <threshold> option is malformed or out "
                          "of range",
                          text);
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_set_block_threshold(dom, cli_get(ctx, "dev"), threshold, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
cmd_blockjob(struct cli_ctx *ctx, GError **error)
{
    const char *path = cli_get(ctx, "path");
    gboolean abort = cli_has(ctx, "abort"), pivot = cli_has(ctx, "pivot");
    gboolean info_asked = cli_has(ctx, "info") || cli_has(ctx, "raw");
    guint64 bandwidth = 0;
    if (!cli_get_u64(ctx, "bandwidth", &bandwidth, error))
        return FALSE;
    if ((abort || pivot) + info_asked + cli_has(ctx, "bandwidth") > 1) {
        cli_set_error(error, "conflict in options");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (abort || pivot) {
        unsigned flags = (pivot ? ABORT_PIVOT : 0) | (cli_has(ctx, "async") ? ABORT_ASYNC : 0);
        if (!domus_domain_block_job_abort(dom, path, flags, error))
            return FALSE;
        printf("\n");
        return TRUE;
    }
    if (cli_has(ctx, "bandwidth")) {
        if (!domus_domain_block_job_set_speed(dom, path, bandwidth,
                                              cli_has(ctx, "bytes") ? INFO_BYTES : 0, error))
            return FALSE;
        printf("\n");
        return TRUE;
    }
    struct domus_block_job_info info;
    gboolean raw = cli_has(ctx, "raw");
    int found = domus_domain_block_job_info(dom, path, raw ? 0 : INFO_BYTES, &info, error);
    if (found < 0)
        return FALSE;
    if (found == 0) {
        if (!raw)
            printf("No current block job for %s", path);
        printf("\n");
        return TRUE;
    }
    if (raw) {
        printf(" type=%s\n bandwidth=%" G_GUINT64_FORMAT "\n cur=%" G_GUINT64_FORMAT
               "\n end=%" G_GUINT64_FORMAT "\n\n",
               job_name(info.type), info.bandwidth, info.cur, info.end);
        return TRUE;
    }
    cli_print_progress(job_name(info.type), info.end - MIN(info.cur, info.end), info.end);
    if (info.bandwidth) {
        const char *unit;
        double v = cli_pretty_capacity(info.bandwidth, &unit);
        printf("    Bandwidth limit: %" G_GUINT64_FORMAT " bytes/s (%-.3lf %s/s)", info.bandwidth,
               v, unit);
    }
    printf("\n\n");
    return TRUE;
}

static const struct cli_opt blockcopy_opts[] = {
    DOMAIN_OPT,
    {"path", OPT_DATA, TRUE, "fully-qualified path of source disk"},
    {"dest", OPT_STRING, FALSE, "path of the copy to create"},
    {"bandwidth", OPT_NAMED, FALSE, "bandwidth limit in MiB/s"},
    {"shallow", OPT_BOOL, FALSE, "make the copy share a backing chain"},
    {"reuse-external", OPT_BOOL, FALSE, "reuse existing destination"},
    {"blockdev", OPT_BOOL, FALSE, "copy destination is block device instead of regular file"},
    {"wait", OPT_BOOL, FALSE, "wait for job to reach mirroring phase"},
    {"verbose", OPT_BOOL, FALSE, "with --wait, display the progress"},
    {"timeout", OPT_NAMED, FALSE, "implies --wait, abort if copy exceeds timeout (in seconds)"},
    {"pivot", OPT_BOOL, FALSE, "implies --wait, pivot when mirroring starts"},
    {"finish", OPT_BOOL, FALSE, "implies --wait, quit when mirroring starts"},
    {"async", OPT_BOOL, FALSE, "don't wait for --abort to complete"},
    {"xml", OPT_NAMED, FALSE, "filename containing XML description of the copy destination"},
    {"format", OPT_NAMED, FALSE, "format of the destination file"},
    {"granularity", OPT_NAMED, FALSE, "power-of-two granularity to use during the copy"},
    {"buf-size", OPT_NAMED, FALSE, "maximum amount of in-flight data during the copy"},
    {"bytes", OPT_BOOL, FALSE, "the bandwidth limit is in bytes/s rather than MiB/s"},
    {"transient-job", OPT_BOOL, FALSE, "the copy job is not persisted if VM is turned off"},
    {"synchronous-writes", OPT_BOOL, FALSE,
     "the copy job forces guest writes to be synchronously written to the destination"},
    {"print-xml", OPT_BOOL, FALSE,
     "print the XML used to start the copy job instead of starting "
     "the job"},
    {NULL},
};

static const struct cli_opt blockpull_opts[] = {
    DOMAIN_OPT,
    {"path", OPT_DATA, TRUE, "fully-qualified path of disk"},
    {"bandwidth", OPT_NAMED, FALSE, "bandwidth limit in MiB/s"},
    {"base", OPT_STRING, FALSE, "path of backing file in chain for a partial pull"},
    {"wait", OPT_BOOL, FALSE, "wait for job to finish"},
    {"verbose", OPT_BOOL, FALSE, "with --wait, display the progress"},
    {"timeout", OPT_NAMED, FALSE, "with --wait, abort if pull exceeds timeout (in seconds)"},
    {"async", OPT_BOOL, FALSE, "with --wait, don't wait for cancel to finish"},
    {"keep-relative", OPT_BOOL, FALSE, "keep the backing chain relatively referenced"},
    {"bytes", OPT_BOOL, FALSE, "the bandwidth limit is in bytes/s rather than MiB/s"},
    {NULL},
};

static const struct cli_opt blockcommit_opts[] = {
    DOMAIN_OPT,
    {"path", OPT_DATA, TRUE, "fully-qualified path of disk"},
    {"bandwidth", OPT_NAMED, FALSE, "bandwidth limit in MiB/s"},
    {"base", OPT_STRING, FALSE, "path of base file to commit into (default bottom of chain)"},
    {"shallow", OPT_BOOL, FALSE, "use backing file of top as base"},
    {"top", OPT_STRING, FALSE, "path of top file to commit from (default top of chain)"},
    {"active", OPT_BOOL, FALSE, "trigger two-stage active commit of top file"},
    {"delete", OPT_BOOL, FALSE, "delete files that were successfully committed"},
    {"wait", OPT_BOOL, FALSE, "wait for job to complete (with --active, wait for job to sync)"},
    {"verbose", OPT_BOOL, FALSE, "with --wait, display the progress"},
    {"timeout", OPT_NAMED, FALSE, "implies --wait, abort if copy exceeds timeout (in seconds)"},
    {"pivot", OPT_BOOL, FALSE, "implies --active --wait, pivot when commit is synced"},
    {"keep-overlay", OPT_BOOL, FALSE,
     "implies --active --wait, quit when commit is synced, keeping overlay"},
    {"async", OPT_BOOL, FALSE, "with --wait, don't wait for cancel to finish"},
    {"keep-relative", OPT_BOOL, FALSE, "keep the backing chain relatively referenced"},
    {"bytes", OPT_BOOL, FALSE, "the bandwidth limit is in bytes/s rather than MiB/s"},
    {NULL},
};

static const struct cli_opt threshold_opts[] = {
    DOMAIN_OPT,
    {"dev", OPT_DATA, TRUE, "device to set threshold for"},
    {"threshold", OPT_DATA, TRUE, "threshold as a scaled number (by default bytes)"},
    {NULL},
};

static const struct cli_opt blockjob_opts[] = {
    DOMAIN_OPT,
    {"path", OPT_DATA, TRUE, "fully-qualified path of disk"},
    {"abort", OPT_BOOL, FALSE, "abort the active job on the specified disk"},
    {"async", OPT_BOOL, FALSE, "implies --abort; request but don't wait for job end"},
    {"pivot", OPT_BOOL, FALSE, "implies --abort; conclude and pivot a copy or commit job"},
    {"info", OPT_BOOL, FALSE, "get active job information for the specified disk"},
    {"bytes", OPT_BOOL, FALSE, "get/set bandwidth in bytes rather than MiB/s"},
    {"raw", OPT_BOOL, FALSE, "implies --info; output details rather than human summary"},
    {"bandwidth", OPT_NAMED, FALSE, "set the bandwidth limit in MiB/s"},
    {NULL},
};

const struct cli_cmd cli_blockjob_cmds[] = {
    {"blockcommit", cmd_blockcommit, blockcommit_opts, "Start a block commit operation."},
    {"blockcopy", cmd_blockcopy, blockcopy_opts, "Start a block copy operation."},
    {"blockjob", cmd_blockjob, blockjob_opts, "Manage active block operations"},
    {"blockpull", cmd_blockpull, blockpull_opts, "Populate a disk from its backing image."},
    {"domblkthreshold", cmd_domblkthreshold, threshold_opts,
     "set the threshold for block-threshold event for a given block device or it's backing "
     "chain element"},
    {NULL},
};
