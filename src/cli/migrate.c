/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate commands: migrate (virsh's options, its checks and its output), migrate-setmaxdowntime,
 * migrate-getmaxdowntime, migrate-setspeed, migrate-getspeed. --verbose and --timeout watch
 * the job from a second connection to the source while the migration runs. */
#include <stdio.h>

#include "cli/cli.h"

/* virDomainMigrateFlags, as the options name them */
static const struct {
    const char *opt;
    unsigned flag;
} flag_opts[] = {
    {"live", 1 << 0},
    {"p2p", 1 << 1},
    {"tunnelled", 1 << 2},
    {"persistent", 1 << 3},
    {"undefinesource", 1 << 4},
    {"suspend", 1 << 5},
    {"copy-storage-all", 1 << 6},
    {"copy-storage-inc", 1 << 7},
    {"change-protection", 1 << 8},
    {"unsafe", 1 << 9},
    {"offline", 1 << 10},
    {"compressed", 1 << 11},
    {"abort-on-error", 1 << 12},
    {"auto-converge", 1 << 13},
    {"rdma-pin-all", 1 << 14},
    {"postcopy", 1 << 15},
    {"tls", 1 << 16},
    {"parallel", 1 << 17},
    {"postcopy-resume", 1 << 19},
    {"zerocopy", 1 << 20},
};

/* option -> migration parameter; LIST: a comma-separated list, one parameter each */
static const struct {
    const char *opt;
    const char *param;
    gboolean list;
} param_opts[] = {
    {"migrateuri", "migrate_uri", FALSE},
    {"graphicsuri", "graphics_uri", FALSE},
    {"listen-address", "listen_address", FALSE},
    {"dname", "destination_name", FALSE},
    {"migrate-disks", "migrate_disks", TRUE},
    {"disks-port", "disks_port", FALSE},
    {"disks-uri", "disks_uri", FALSE},
    {"comp-methods", "compression", TRUE},
    {"comp-mt-level", "compression.mt.level", FALSE},
    {"comp-mt-threads", "compression.mt.threads", FALSE},
    {"comp-mt-dthreads", "compression.mt.dthreads", FALSE},
    {"comp-xbzrle-cache", "compression.xbzrle.cache", FALSE},
    {"auto-converge-initial", "auto_converge.initial", FALSE},
    {"auto-converge-increment", "auto_converge.increment", FALSE},
    {"postcopy-bandwidth", "bandwidth.postcopy", FALSE},
    {"parallel-connections", "parallel.connections", FALSE},
    {"bandwidth", "bandwidth", FALSE},
    {"tls-destination", "tls.destination", FALSE},
};

struct migrate_run {
    domus_domain *dom;
    domus_conn *dconn; /* NULL: peer to peer, the source daemon reaches DESTURI itself */
    const char *desturi;
    GPtrArray *params; /* FIELD, VALUE, … NULL */
    unsigned flags;
    domus_domain *watch;       /* the domain on a second connection; NULL: not watched */
    guint timeout_s;           /* --timeout: the guest is paused once it passes; 0: none */
    gboolean timeout_postcopy; /* ... or the migration switches to post-copy */
    gboolean after_precopy;    /* --postcopy-after-precopy: switch on the second pass */
    gint64 started;
    gboolean suspended;
    domus_domain *result;
};

static gboolean
migrate_run(gpointer data, GError **error)
{
    struct migrate_run *m = data;
    const char *const *params = (const char *const *)m->params->pdata;
    if (!m->dconn)
        return domus_domain_migrate_to_uri(m->dom, m->desturi, params, m->flags, error);
    m->result = domus_domain_migrate(m->dom, m->dconn, params, m->flags, error);
    return m->result != NULL;
}

static gboolean
migrate_poll(gpointer data, guint64 *ret_remaining, guint64 *ret_total)
{
    struct migrate_run *m = data;
    if (!m->watch)
        return FALSE;
    if (m->timeout_s && !m->suspended &&
        g_get_monotonic_time() - m->started > (gint64)m->timeout_s * G_USEC_PER_SEC) {
        /* virsh's --timeout-suspend (the rest goes with the guest paused) or
         * --timeout-postcopy */
        m->suspended = TRUE;
        if (m->timeout_postcopy)
            domus_domain_migrate_start_postcopy(m->watch, NULL);
        else
            domus_domain_suspend(m->watch, NULL);
    }
    /* as virsh: at the MIGRATION_ITERATION event of the second pass, waited for here (the
     * second pass of a small guest may last a few milliseconds) */
    struct domus_event ev;
    int wait_ms = 200;
    while (m->after_precopy &&
           domus_event_next(domus_domain_get_connect(m->watch), &ev, wait_ms, NULL) == 1) {
        wait_ms = 0;
        if (ev.event_id == 20 && ev.detail >= 2) {
            m->after_precopy = FALSE;
            domus_domain_migrate_start_postcopy(m->watch, NULL);
        }
        domus_event_clear(&ev);
    }
    int type = 0;
    g_auto(GStrv) params = NULL;
    if (!domus_domain_get_job_stats(m->watch, 0, &type, &params, NULL) ||
        (type != DOMUS_JOB_BOUNDED && type != DOMUS_JOB_UNBOUNDED))
        return FALSE;
    guint64 total = 0, remaining = 0;
    for (int i = 0; params[i] && params[i + 1]; i += 2) {
        if (g_str_equal(params[i], "data_total"))
            total = g_ascii_strtoull(params[i + 1], NULL, 10);
        else if (g_str_equal(params[i], "data_remaining"))
            remaining = g_ascii_strtoull(params[i + 1], NULL, 10);
    }
    if (!total)
        return FALSE;
    *ret_remaining = remaining;
    *ret_total = total;
    return TRUE;
}

static void
add_param(GPtrArray *params, const char *field, const char *value)
{
    g_ptr_array_add(params, g_strdup(field));
    g_ptr_array_add(params, g_strdup(value));
}

/* virsh's checks of options that go together or exclude each other */
static gboolean
check_options(struct cli_ctx *ctx, guint *ret_timeout, GError **error)
{
    static const char *const exclusive[][2] = {{"live", "offline"},
                                               {"timeout-suspend", "timeout-postcopy"}};
    for (gsize i = 0; i < G_N_ELEMENTS(exclusive); i++) {
        if (cli_has(ctx, exclusive[i][0]) && cli_has(ctx, exclusive[i][1])) {
            cli_set_error(error, "Options --%s and --%s are mutually exclusive", exclusive[i][0],
                          exclusive[i][1]);
            return FALSE;
        }
    }
    static const char *const requires[][2] = {{"postcopy-after-precopy", "postcopy"},
                                              {"postcopy-resume", "postcopy"},
                                              {"timeout-postcopy", "postcopy"},
                                              {"persistent-xml", "persistent"},
                                              {"tls-destination", "tls"}};
    for (gsize i = 0; i < G_N_ELEMENTS(requires); i++) {
        if (cli_has(ctx, requires[i][0]) && !cli_has(ctx, requires[i][1])) {
            cli_set_error(error, "Option --%s requires option --%s", requires[i][0],
                          requires[i][1]);
            return FALSE;
        }
    }
    guint64 timeout = 0;
    const char *t = cli_get(ctx, "timeout");
    if (t && !g_ascii_string_to_unsigned(t, 10, 0, G_MAXINT, &timeout, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range", t,
                      "timeout");
        return FALSE;
    }
    if (timeout > 0 && !cli_has(ctx, "live")) {
        cli_set_error(error, "migrate: Unexpected timeout for offline migration");
        return FALSE;
    }
    if (!timeout && (cli_has(ctx, "timeout-suspend") || cli_has(ctx, "timeout-postcopy"))) {
        cli_set_error(error, "migrate: Unexpected --timeout-* option without --timeout");
        return FALSE;
    }
    if (cli_has(ctx, "direct")) {
        cli_set_error(error, "direct migration (--direct) is not supported by Domus");
        return FALSE;
    }
    *ret_timeout = (guint)timeout;
    return TRUE;
}

static gboolean
build_params(struct cli_ctx *ctx, GPtrArray *params, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(param_opts); i++) {
        const char *v = cli_get(ctx, param_opts[i].opt);
        if (!v)
            continue;
        if (!param_opts[i].list) {
            add_param(params, param_opts[i].param, v);
            continue;
        }
        g_auto(GStrv) items = g_strsplit(v, ",", -1);
        for (char **it = items; *it; it++)
            if (**it)
                add_param(params, param_opts[i].param, *it);
    }
    static const struct {
        const char *opt;
        const char *param;
    } files[] = {{"xml", "destination_xml"}, {"persistent-xml", "persistent_xml"}};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        const char *path = cli_get(ctx, files[i].opt);
        if (!path)
            continue;
        g_autofree char *xml = cli_read_xml_file(path, error);
        if (!xml)
            return FALSE;
        add_param(params, files[i].param, xml);
    }
    g_ptr_array_add(params, NULL);
    return TRUE;
}

static gboolean
cmd_migrate(struct cli_ctx *ctx, GError **error)
{
    guint timeout;
    if (!check_options(ctx, &timeout, error))
        return FALSE;
    g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func(g_free);
    if (!build_params(ctx, params, error))
        return FALSE;
    unsigned flags = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(flag_opts); i++)
        if (cli_has(ctx, flag_opts[i].opt))
            flags |= flag_opts[i].flag;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    /* peer to peer: the source daemon connects; else this client drives both hosts */
    const char *desturi = cli_get(ctx, "desturi");
    domus_conn *dconn = NULL;
    if (!(flags & (1 << 1)) && !(dconn = domus_open(desturi, FALSE, error)))
        return FALSE;
    struct migrate_run m = {
        .dom = dom, .dconn = dconn, .desturi = desturi, .params = params, .flags = flags};
    gboolean verbose = cli_has(ctx, "verbose");
    domus_conn *watch = NULL;
    m.timeout_postcopy = cli_has(ctx, "timeout-postcopy");
    m.after_precopy = cli_has(ctx, "postcopy-after-precopy");
    if (verbose || timeout || m.after_precopy) {
        /* watching is best effort: without a second connection the migration runs all the
         * same */
        watch = domus_open(domus_get_uri(domus_domain_get_connect(dom)), FALSE, NULL);
        m.watch = watch ? domus_domain_lookup(watch, domus_domain_get_uuid(dom), NULL) : NULL;
        if (m.watch && m.after_precopy && domus_event_register(watch, 20, m.watch, NULL) < 0)
            m.after_precopy = FALSE;
        m.timeout_s = timeout;
        m.started = g_get_monotonic_time();
    }
    gboolean ok = cli_with_progress_full("Migration", verbose, m.after_precopy, migrate_run,
                                         migrate_poll, &m, error);
    domus_domain_free(m.result);
    domus_domain_free(m.watch);
    domus_close(watch);
    domus_close(dconn);
    if (ok)
        printf("\n");
    return ok;
}

static gboolean
cmd_set_downtime(struct cli_ctx *ctx, GError **error)
{
    const char *text = cli_get(ctx, "downtime");
    guint64 ms;
    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &ms, NULL)) {
        cli_set_error(error, "migrate: Invalid downtime");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_migrate_set_max_downtime(dom, ms, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
cmd_get_downtime(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    guint64 ms;
    if (!dom || !domus_domain_migrate_get_max_downtime(dom, &ms, error))
        return FALSE;
    printf("%" G_GUINT64_FORMAT "\n\n", ms);
    return TRUE;
}

static gboolean
cmd_postcopy(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_migrate_start_postcopy(dom, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
no_postcopy(struct cli_ctx *ctx, GError **error)
{
    if (!cli_has(ctx, "postcopy"))
        return TRUE;
    cli_set_error(error, "post-copy migration (--postcopy) is not supported by Domus yet");
    return FALSE;
}

static gboolean
cmd_set_speed(struct cli_ctx *ctx, GError **error)
{
    if (!no_postcopy(ctx, error))
        return FALSE;
    const char *text = cli_get(ctx, "bandwidth");
    guint64 mib;
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &mib, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                      text, "bandwidth");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_migrate_set_max_speed(dom, mib, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
cmd_get_speed(struct cli_ctx *ctx, GError **error)
{
    if (!no_postcopy(ctx, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    guint64 mib;
    if (!dom || !domus_domain_migrate_get_max_speed(dom, &mib, error))
        return FALSE;
    printf("%" G_GUINT64_FORMAT "\n\n", mib);
    return TRUE;
}

/* migrate-compcache: as virsh's cmdMigrateCompCache (--size sets it first) */
static gboolean
cmd_compcache(struct cli_ctx *ctx, GError **error)
{
    const char *text = cli_get(ctx, "size");
    guint64 size = 0;
    if (text && !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &size, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                      text, "size");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || (text && !domus_domain_migrate_set_compression_cache(dom, size, error)) ||
        !domus_domain_migrate_get_compression_cache(dom, &size, error))
        return FALSE;
    const char *unit;
    double value = cli_pretty_capacity(size, &unit);
    printf("Compression cache: %.3lf %s\n", value, unit);
    return TRUE;
}

static const struct cli_opt migrate_opts[] = {
    {"live", OPT_BOOL, FALSE, "live migration"},
    {"offline", OPT_BOOL, FALSE, "offline migration"},
    {"p2p", OPT_BOOL, FALSE, "peer-2-peer migration"},
    {"direct", OPT_BOOL, FALSE, "direct migration"},
    {"tunnelled", OPT_BOOL, FALSE, "tunnelled migration"},
    {"persistent", OPT_BOOL, FALSE, "persist VM on destination"},
    {"undefinesource", OPT_BOOL, FALSE, "undefine VM on source"},
    {"suspend", OPT_BOOL, FALSE, "do not restart the domain on the destination host"},
    {"copy-storage-all", OPT_BOOL, FALSE, "migration with non-shared storage with full disk copy"},
    {"copy-storage-inc", OPT_BOOL, FALSE,
     "migration with non-shared storage with incremental copy (same base image shared between "
     "source and destination)"},
    {"change-protection", OPT_BOOL, FALSE,
     "prevent any configuration changes to domain until migration ends"},
    {"unsafe", OPT_BOOL, FALSE, "force migration even if it may be unsafe"},
    {"verbose", OPT_BOOL, FALSE, "display the progress of migration"},
    {"compressed", OPT_BOOL, FALSE, "compress repeated pages during live migration"},
    {"auto-converge", OPT_BOOL, FALSE, "force convergence during live migration"},
    {"rdma-pin-all", OPT_BOOL, FALSE, "pin all memory before starting RDMA live migration"},
    {"abort-on-error", OPT_BOOL, FALSE, "abort on soft errors during migration"},
    {"postcopy", OPT_BOOL, FALSE,
     "enable post-copy migration; switch to it using "
     "migrate-postcopy command"},
    {"postcopy-after-precopy", OPT_BOOL, FALSE,
     "automatically switch to post-copy migration after one pass of pre-copy"},
    {"migrate-disks", OPT_NAMED, FALSE, "comma separated list of disks to be migrated"},
    {"disks-port", OPT_NAMED, FALSE, "port to use by target server for incoming disks migration"},
    {"disks-uri", OPT_NAMED, FALSE, "URI to use for disks migration (overrides --disks-port)"},
    DOMAIN_OPT,
    {"desturi", OPT_DATA, TRUE,
     "connection URI of the destination host as seen from the client(normal migration) or "
     "source(p2p migration)"},
    {"migrateuri", OPT_NAMED, FALSE, "migration URI, usually can be omitted"},
    {"graphicsuri", OPT_NAMED, FALSE, "graphics URI to be used for seamless graphics migration"},
    {"listen-address", OPT_NAMED, FALSE,
     "listen address that destination should bind to for "
     "incoming migration"},
    {"dname", OPT_NAMED, FALSE, "rename to new name during migration (if supported)"},
    {"timeout", OPT_NAMED, FALSE,
     "run action specified by --timeout-* option (suspend by "
     "default) if live migration exceeds timeout (in seconds)"},
    {"timeout-suspend", OPT_BOOL, FALSE, "suspend the guest after timeout"},
    {"timeout-postcopy", OPT_BOOL, FALSE, "switch to post-copy after timeout"},
    {"xml", OPT_NAMED, FALSE, "filename containing updated XML for the target"},
    {"persistent-xml", OPT_NAMED, FALSE,
     "filename containing updated persistent XML for the target"},
    {"comp-methods", OPT_NAMED, FALSE, "comma separated list of compression methods to be used"},
    {"comp-mt-level", OPT_NAMED, FALSE, "compress level for multithread compression"},
    {"comp-mt-threads", OPT_NAMED, FALSE,
     "number of compression threads for multithread "
     "compression"},
    {"comp-mt-dthreads", OPT_NAMED, FALSE,
     "number of decompression threads for multithread "
     "compression"},
    {"comp-xbzrle-cache", OPT_NAMED, FALSE, "page cache size for xbzrle compression"},
    {"auto-converge-initial", OPT_NAMED, FALSE, "initial CPU throttling rate for auto-convergence"},
    {"auto-converge-increment", OPT_NAMED, FALSE,
     "CPU throttling rate increment for auto-convergence"},
    {"tls", OPT_BOOL, FALSE, "use TLS for migration"},
    {"postcopy-bandwidth", OPT_NAMED, FALSE, "post-copy migration bandwidth limit in MiB/s"},
    {"parallel", OPT_BOOL, FALSE, "enable parallel migration"},
    {"parallel-connections", OPT_NAMED, FALSE, "number of connections for parallel migration"},
    {"bandwidth", OPT_NAMED, FALSE, "override the default bandwidth limit in MiB/s"},
    {"tls-destination", OPT_NAMED, FALSE,
     "override the destination host name used for TLS "
     "verification"},
    {"postcopy-resume", OPT_BOOL, FALSE, "resume failed post-copy migration"},
    {"zerocopy", OPT_BOOL, FALSE, "use zero-copy mechanism for migrating memory pages"},
    {NULL},
};

static const struct cli_opt downtime_opts[] = {
    DOMAIN_OPT,
    {"downtime", OPT_DATA, TRUE, "maximum tolerable downtime (in milliseconds) for migration"},
    {NULL},
};
static const struct cli_opt speed_opts[] = {
    DOMAIN_OPT,
    {"bandwidth", OPT_DATA, TRUE, "migration bandwidth limit in MiB/s"},
    {"postcopy", OPT_BOOL, FALSE, "set post-copy migration bandwidth"},
    {NULL},
};
static const struct cli_opt get_speed_opts[] = {
    DOMAIN_OPT,
    {"postcopy", OPT_BOOL, FALSE, "get post-copy migration bandwidth"},
    {NULL},
};
static const struct cli_opt dom_opts[] = {DOMAIN_OPT, {NULL}};
static const struct cli_opt compcache_opts[] = {
    DOMAIN_OPT,
    {"size", OPT_STRING, FALSE, "requested size of the cache (in bytes) used for compression"},
    {NULL},
};

const struct cli_cmd cli_migrate_cmds[] = {
    {"migrate", cmd_migrate, migrate_opts, "migrate domain to another host"},
    {"migrate-setmaxdowntime", cmd_set_downtime, downtime_opts, "set maximum tolerable downtime"},
    {"migrate-getmaxdowntime", cmd_get_downtime, dom_opts, "get maximum tolerable downtime"},
    {"migrate-setspeed", cmd_set_speed, speed_opts, "Set the maximum migration bandwidth"},
    {"migrate-getspeed", cmd_get_speed, get_speed_opts, "Get the maximum migration bandwidth"},
    {"migrate-compcache", cmd_compcache, compcache_opts, "get/set compression cache size"},
    {"migrate-postcopy", cmd_postcopy, dom_opts,
     "Switch running migration from pre-copy to post-copy"},
    {NULL},
};
