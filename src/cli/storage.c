/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage commands: virsh's pool-* and vol-* names, options, messages and table layouts,
 * plus Domus's vol-delete/vol-wipe --force and vol-wipe --verbose (progress from a second
 * connection). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_pool, domus_pool_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_vol, domus_vol_free)

/* how a pool or volume argument may be looked up (virsh's VIRSH_BYUUID / VIRSH_BYNAME) */
enum { BY_UUID = 1, BY_NAME = 2 };

/* libvirt's flag values the commands pass on */
enum { POOL_BUILD_NO_OVERWRITE = 4, POOL_BUILD_OVERWRITE = 8 };
enum { POOL_CREATE_BUILD = 1, POOL_CREATE_OVERWRITE = 2, POOL_CREATE_NO_OVERWRITE = 4 };
enum { VOL_CREATE_REFLINK = 2 };
enum { VOL_DELETE_WITH_SNAPSHOTS = 2 };

static const char *const pool_state_names[] = {"inactive", "building", "running", "degraded",
                                               "inaccessible"};
static const char *const vol_type_names[] = {"file", "block", "dir", "network", "netdir", "ploop"};
/* index = DOMUS_VOL_WIPE_* */
static const char *const wipe_names[] = {"zero",     "nnsa",      "dod",        "bsi",    "gutmann",
                                         "schneier", "pfitzner7", "pfitzner33", "random", "trim"};

static const char *
pool_state_name(int s)
{
    return s >= 0 && s < (int)G_N_ELEMENTS(pool_state_names) ? pool_state_names[s] : "unknown";
}

static const char *
vol_type_name(int t)
{
    return t >= 0 && t < (int)G_N_ELEMENTS(vol_type_names) ? vol_type_names[t] : "unknown";
}

static int
wipe_from_string(const char *s)
{
    for (gsize i = 0; i < G_N_ELEMENTS(wipe_names); i++)
        if (g_str_equal(wipe_names[i], s))
            return (int)i;
    return -1;
}

/* virsh's vshPrettyCapacity: the value in B, KiB, MiB, … with its unit, as "1.50 GiB" */
static char *
pretty(guint64 val)
{
    const char *unit;
    double v = cli_pretty_capacity(val, &unit);
    return g_strdup_printf("%.2lf %s", v, unit);
}

/* One "LABEL  SIZE" line of pool-info or vol-info: bytes with BYTE_SUFFIX under --bytes,
 * else virsh's pretty form. */
static void
print_size(struct cli_ctx *ctx, const char *label, guint64 val, const char *byte_suffix)
{
    if (cli_has(ctx, "bytes")) {
        printf("%-15s %" G_GUINT64_FORMAT "%s\n", label, val, byte_suffix);
        return;
    }
    g_autofree char *text = pretty(val);
    printf("%-15s %s\n", label, text);
}

/* Parses TEXT as a size, reporting "Malformed size" as virsh does. */
static gboolean
opt_size(const char *text, guint64 *ret, GError **error)
{
    g_autoptr(GError) err = NULL;
    if (cli_parse_scaled(text, 1, ret, &err))
        return TRUE;
    cli_report("Malformed size %s", text);
    if (err)
        g_propagate_error(error, g_steal_pointer(&err));
    return FALSE;
}

/* --- lookups, as virsh's virshCommandOptPoolBy and virshCommandOptVolBy --- */

static domus_pool *
lookup_pool(struct cli_ctx *ctx, const char *ident, unsigned by, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return NULL;
    g_autoptr(GError) err = NULL;
    domus_pool *pool = NULL;
    if ((by & BY_UUID) && strlen(ident) == 36)
        pool = domus_pool_lookup_by_uuid(conn, ident, &err);
    if (!pool && (by & BY_NAME)) {
        g_clear_error(&err);
        pool = domus_pool_lookup_by_name(conn, ident, &err);
    }
    if (!pool) {
        cli_report("failed to get pool '%s'", ident);
        if (err)
            g_propagate_error(error, g_steal_pointer(&err));
    }
    return pool;
}

/* The "pool" option's pool, by uuid or name. */
static domus_pool *
cli_pool(struct cli_ctx *ctx, GError **error)
{
    return lookup_pool(ctx, cli_get(ctx, "pool"), BY_UUID | BY_NAME, error);
}

/* Option OPT's volume: a name in POOLOPT's pool when that option is given, else a key or a
 * path. */
static domus_vol *
lookup_vol(struct cli_ctx *ctx, const char *opt, const char *poolopt, unsigned by, GError **error)
{
    const char *n = cli_get(ctx, opt);
    const char *p = poolopt ? cli_get(ctx, poolopt) : NULL;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return NULL;
    g_autoptr(domus_pool) pool = NULL;
    if (p) {
        pool = lookup_pool(ctx, p, by, error);
        if (!pool)
            return NULL;
        if (domus_pool_is_active(pool, NULL) != 1) {
            cli_set_error(error, "pool '%s' is not active", p);
            return NULL;
        }
    }
    g_autoptr(GError) err = NULL;
    domus_vol *vol = NULL;
    if (pool && (by & BY_NAME))
        vol = domus_vol_lookup_by_name(pool, n, &err);
    if (!vol && (by & BY_UUID)) {
        g_clear_error(&err);
        vol = domus_vol_lookup_by_key(conn, n, &err);
    }
    if (!vol && (by & BY_UUID)) {
        g_clear_error(&err);
        vol = domus_vol_lookup_by_path(conn, n, &err);
    }
    if (!vol) {
        if (pool || !poolopt)
            cli_report("failed to get vol '%s'", n);
        else
            cli_report("failed to get vol '%s', specifying --%s might help", n, poolopt);
        if (err)
            g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    if (pool && !g_str_equal(domus_vol_get_pool_name(vol), domus_pool_get_name(pool))) {
        cli_set_error(error, "Requested volume '%s' is not in pool '%s'", n,
                      domus_pool_get_name(pool));
        domus_vol_free(vol);
        return NULL;
    }
    return vol;
}

domus_vol *
cli_vol(struct cli_ctx *ctx, GError **error)
{
    return lookup_vol(ctx, "vol", "pool", BY_UUID | BY_NAME, error);
}

/* Runs FN on the "pool" option's pool. OKMSG and FAILMSG take the argument as given. */
typedef gboolean (*pool_fn)(domus_pool *pool, struct cli_ctx *ctx, GError **error);

static gboolean
with_pool(struct cli_ctx *ctx, pool_fn fn, const char *okmsg, const char *failmsg, GError **error)
{
    const char *name = cli_get(ctx, "pool");
    g_autoptr(domus_pool) pool = cli_pool(ctx, error);
    if (!pool)
        return FALSE;
    if (!fn(pool, ctx, error)) {
        if (failmsg)
            cli_report(failmsg, name);
        return FALSE;
    }
    if (okmsg) {
        printf(okmsg, name);
        printf("\n\n");
    }
    return TRUE;
}

/* --- pools --- */

static unsigned
create_flags(struct cli_ctx *ctx)
{
    return (cli_has(ctx, "build") ? POOL_CREATE_BUILD : 0) |
           (cli_has(ctx, "overwrite") ? POOL_CREATE_OVERWRITE : 0) |
           (cli_has(ctx, "no-overwrite") ? POOL_CREATE_NO_OVERWRITE : 0);
}

static gboolean
do_pool_autostart(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    return domus_pool_set_autostart(pool, !cli_has(ctx, "disable"), error);
}

static gboolean
cmd_pool_autostart(struct cli_ctx *ctx, GError **error)
{
    gboolean off = cli_has(ctx, "disable");
    return with_pool(ctx, do_pool_autostart,
                     off ? "Pool %s unmarked as autostarted" : "Pool %s marked as autostarted",
                     off ? "failed to unmark pool %s as autostarted"
                         : "failed to mark pool %s as autostarted",
                     error);
}

static gboolean
do_pool_build(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    unsigned flags = (cli_has(ctx, "no-overwrite") ? POOL_BUILD_NO_OVERWRITE : 0) |
                     (cli_has(ctx, "overwrite") ? POOL_BUILD_OVERWRITE : 0);
    return domus_pool_build(pool, flags, error);
}

static gboolean
cmd_pool_build(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_build, "Pool %s built", "Failed to build pool %s", error);
}

static gboolean
do_pool_start(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    return domus_pool_start(pool, create_flags(ctx), error);
}

static gboolean
cmd_pool_start(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_start, "Pool %s started", "Failed to start pool %s", error);
}

static gboolean
do_pool_destroy(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    return domus_pool_destroy(pool, error);
}

static gboolean
cmd_pool_destroy(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_destroy, "Pool %s destroyed", "Failed to destroy pool %s", error);
}

static gboolean
do_pool_delete(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    return domus_pool_delete(pool, 0, error);
}

static gboolean
cmd_pool_delete(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_delete, "Pool %s deleted", "Failed to delete pool %s", error);
}

static gboolean
do_pool_undefine(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    return domus_pool_undefine(pool, error);
}

static gboolean
cmd_pool_undefine(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_undefine, "Pool %s has been undefined",
                     "Failed to undefine pool %s", error);
}

static gboolean
do_pool_refresh(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    return domus_pool_refresh(pool, 0, error);
}

static gboolean
cmd_pool_refresh(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_refresh, "Pool %s refreshed", "Failed to refresh pool %s", error);
}

static gboolean
cmd_pool_capabilities(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_autofree char *caps = conn ? domus_storage_pool_capabilities(conn, error) : NULL;
    if (!caps) {
        if (conn)
            cli_report("failed to get storage pool capabilities");
        return FALSE;
    }
    printf("%s\n\n", caps);
    return TRUE;
}

static gboolean
find_sources(struct cli_ctx *ctx, const char *type, const char *spec, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    g_autofree char *list = conn ? domus_find_storage_pool_sources(conn, type, spec, error) : NULL;
    if (!list) {
        if (conn)
            cli_report("Failed to find any %s pool sources", type);
        return FALSE;
    }
    printf("%s", list);
    return TRUE;
}

static gboolean
cmd_find_sources(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "srcSpec");
    g_autofree char *spec = file ? cli_read_xml_file(file, error) : NULL;
    if (file && !spec)
        return FALSE;
    return find_sources(ctx, cli_get(ctx, "type"), spec, error);
}

/* virsh's <source> of a host, port and initiator */
static gboolean
cmd_find_sources_as(struct cli_ctx *ctx, GError **error)
{
    const char *host = cli_get(ctx, "host");
    const char *port = cli_get(ctx, "port");
    const char *initiator = cli_get(ctx, "initiator");
    g_autoptr(GString) spec = NULL;
    if (host) {
        spec = g_string_new("<source>\n");
        g_autofree char *h = g_markup_escape_text(host, -1);
        g_string_append_printf(spec, "  <host name='%s'", h);
        if (port) {
            g_autofree char *p = g_markup_escape_text(port, -1);
            g_string_append_printf(spec, " port='%s'", p);
        }
        g_string_append(spec, "/>\n");
        if (initiator) {
            g_autofree char *i = g_markup_escape_text(initiator, -1);
            g_string_append_printf(spec, "  <initiator>\n    <iqn name='%s'/>\n  </initiator>\n",
                                   i);
        }
        g_string_append(spec, "</source>\n");
    }
    return find_sources(ctx, cli_get(ctx, "type"), spec ? spec->str : NULL, error);
}

static gboolean
cmd_pool_define(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = cli_read_xml_file(file, error);
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    g_autoptr(domus_pool) pool = domus_pool_define(conn, xml, 0, error);
    if (!pool) {
        cli_report("Failed to define pool from %s", file);
        return FALSE;
    }
    printf("Pool %s defined from %s\n\n", domus_pool_get_name(pool), file);
    return TRUE;
}

static gboolean
cmd_pool_create(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = cli_read_xml_file(file, error);
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    g_autoptr(domus_pool) pool = domus_pool_create_xml(conn, xml, create_flags(ctx), error);
    if (!pool) {
        cli_report("Failed to create pool from %s", file);
        return FALSE;
    }
    printf("Pool %s created from %s\n\n", domus_pool_get_name(pool), file);
    return TRUE;
}

/* Appends FMT with each string argument escaped for XML. */
static void G_GNUC_PRINTF(2, 3) append_xml(GString *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_markup_vprintf_escaped(fmt, ap);
    va_end(ap);
    g_string_append(s, text);
}

/* virsh's vshBuildPoolXML */
static char *
pool_xml_from_args(struct cli_ctx *ctx)
{
    GString *s = g_string_new(NULL);
    append_xml(s, "<pool type='%s'>\n  <name>%s</name>\n", cli_get(ctx, "type"),
               cli_get(ctx, "name"));
    const char *host = cli_get(ctx, "source-host"), *path = cli_get(ctx, "source-path");
    const char *dev = cli_get(ctx, "source-dev"), *sname = cli_get(ctx, "source-name");
    const char *format = cli_get(ctx, "source-format"), *target = cli_get(ctx, "target");
    if (host || path || dev || format || sname) {
        g_string_append(s, "  <source>\n");
        if (host)
            append_xml(s, "    <host name='%s'/>\n", host);
        if (path)
            append_xml(s, "    <dir path='%s'/>\n", path);
        if (dev)
            append_xml(s, "    <device path='%s'/>\n", dev);
        if (format)
            append_xml(s, "    <format type='%s'/>\n", format);
        if (sname)
            append_xml(s, "    <name>%s</name>\n", sname);
        g_string_append(s, "  </source>\n");
    }
    if (target)
        append_xml(s, "  <target>\n    <path>%s</path>\n  </target>\n", target);
    g_string_append(s, "</pool>\n");
    return g_string_free(s, FALSE);
}

static gboolean
pool_x_as(struct cli_ctx *ctx, gboolean create, GError **error)
{
    const char *name = cli_get(ctx, "name");
    g_autofree char *xml = pool_xml_from_args(ctx);
    if (cli_has(ctx, "print-xml")) {
        printf("%s\n", xml);
        return TRUE;
    }
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_autoptr(domus_pool) pool = create ? domus_pool_create_xml(conn, xml, create_flags(ctx), error)
                                        : domus_pool_define(conn, xml, 0, error);
    if (!pool) {
        cli_report(create ? "Failed to create pool %s" : "Failed to define pool %s", name);
        return FALSE;
    }
    printf(create ? "Pool %s created\n\n" : "Pool %s defined\n\n", name);
    return TRUE;
}

static gboolean
cmd_pool_define_as(struct cli_ctx *ctx, GError **error)
{
    return pool_x_as(ctx, FALSE, error);
}

static gboolean
cmd_pool_create_as(struct cli_ctx *ctx, GError **error)
{
    return pool_x_as(ctx, TRUE, error);
}

static int
compare_pools(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(domus_pool_get_name(*(domus_pool **)a),
                              domus_pool_get_name(*(domus_pool **)b));
}

static gboolean
cmd_pool_list(struct cli_ctx *ctx, GError **error)
{
    gboolean details = cli_has(ctx, "details");
    gboolean by_name = cli_has(ctx, "name"), by_uuid = cli_has(ctx, "uuid");
    if (details && (by_uuid || by_name)) {
        cli_set_error(error, "Options --details and --%s are mutually exclusive",
                      by_uuid ? "uuid" : "name");
        return FALSE;
    }
    unsigned flags = DOMUS_LIST_POOLS_ACTIVE;
    if (cli_has(ctx, "inactive"))
        flags = DOMUS_LIST_POOLS_INACTIVE;
    if (cli_has(ctx, "all"))
        flags = DOMUS_LIST_POOLS_ACTIVE | DOMUS_LIST_POOLS_INACTIVE;
    if (cli_has(ctx, "autostart"))
        flags |= DOMUS_LIST_POOLS_AUTOSTART;
    if (cli_has(ctx, "no-autostart"))
        flags |= DOMUS_LIST_POOLS_NO_AUTOSTART;
    if (cli_has(ctx, "persistent"))
        flags |= DOMUS_LIST_POOLS_PERSISTENT;
    if (cli_has(ctx, "transient"))
        flags |= DOMUS_LIST_POOLS_TRANSIENT;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    domus_pool **list = domus_list_pools(conn, flags, error);
    if (!list) {
        cli_report("Failed to list pools");
        return FALSE;
    }
    gsize n = 0;
    while (list[n])
        n++;
    qsort(list, n, sizeof(*list), compare_pools);
    if (by_name || by_uuid) {
        for (gsize i = 0; i < n; i++) {
            if (by_uuid)
                printf("%-36s%c", domus_pool_get_uuid(list[i]), by_name ? ' ' : '\n');
            if (by_name)
                printf("%-20s\n", domus_pool_get_name(list[i]));
        }
        printf("\n");
        domus_pool_list_free(list);
        return TRUE;
    }
    g_autoptr(GPtrArray) rows = details ? cli_table_new("Name", "State", "Autostart", "Persistent",
                                                        "Capacity", "Allocation", "Available", NULL)
                                        : cli_table_new("Name", "State", "Autostart", NULL);
    for (gsize i = 0; i < n; i++) {
        domus_pool *p = list[i];
        int autostart = domus_pool_get_autostart(p, NULL);
        char *autostart_txt = g_strdup(autostart < 0 ? "no autostart" : autostart ? "yes" : "no");
        struct domus_pool_info info;
        g_autoptr(GError) err = NULL;
        gboolean have_info = domus_pool_get_info(p, &info, &err);
        if (!have_info)
            cli_report("Could not retrieve pool information");
        if (!details) {
            const char *state = !have_info                          ? "unknown"
                                : domus_pool_is_active(p, NULL) > 0 ? "active"
                                                                    : "inactive";
            cli_table_add(rows, g_strdup(domus_pool_get_name(p)), g_strdup(state), autostart_txt,
                          NULL);
            continue;
        }
        int persistent = domus_pool_is_persistent(p, NULL);
        char *persistent_txt = g_strdup(persistent < 0 ? "unknown" : persistent ? "yes" : "no");
        char *state, *cap, *alloc, *avail;
        if (!have_info) {
            state = g_strdup("unknown");
            cap = g_strdup("unknown");
            alloc = g_strdup("unknown");
            avail = g_strdup("unknown");
        } else if (info.state == DOMUS_POOL_RUNNING || info.state == DOMUS_POOL_DEGRADED) {
            state = g_strdup(pool_state_name(info.state));
            cap = pretty(info.capacity);
            alloc = pretty(info.allocation);
            avail = pretty(info.available);
        } else {
            state = g_strdup(pool_state_name(info.state));
            cap = g_strdup("-");
            alloc = g_strdup("-");
            avail = g_strdup("-");
        }
        cli_table_add(rows, g_strdup(domus_pool_get_name(p)), state, autostart_txt, persistent_txt,
                      cap, alloc, avail, NULL);
    }
    cli_table_print(rows);
    printf("\n");
    domus_pool_list_free(list);
    return TRUE;
}

static gboolean
do_pool_info(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    printf("%-15s %s\n", "Name:", domus_pool_get_name(pool));
    printf("%-15s %s\n", "UUID:", domus_pool_get_uuid(pool));
    struct domus_pool_info info;
    if (!domus_pool_get_info(pool, &info, error))
        return FALSE;
    printf("%-15s %s\n", "State:", pool_state_name(info.state));
    int persistent = domus_pool_is_persistent(pool, NULL);
    printf("%-15s %s\n", "Persistent:", persistent < 0 ? "unknown" : persistent ? "yes" : "no");
    int autostart = domus_pool_get_autostart(pool, NULL);
    printf("%-15s %s\n", "Autostart:", autostart < 0 ? "no autostart" : autostart ? "yes" : "no");
    if (info.state == DOMUS_POOL_RUNNING || info.state == DOMUS_POOL_DEGRADED) {
        print_size(ctx, "Capacity:", info.capacity, "");
        print_size(ctx, "Allocation:", info.allocation, "");
        print_size(ctx, "Available:", info.available, "");
    }
    printf("\n");
    return TRUE;
}

static gboolean
cmd_pool_info(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_info, NULL, NULL, error);
}

static gboolean
do_pool_dumpxml(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    g_autofree char *xml =
        domus_pool_get_xml(pool, cli_has(ctx, "inactive") ? DOMUS_POOL_XML_INACTIVE : 0, error);
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_pool_dumpxml(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_dumpxml, NULL, NULL, error);
}

/* edit: the inactive XML goes to $VISUAL or $EDITOR; the result is defined again. On any
 * error the old definition stays as it was. */
static gboolean
do_pool_edit(domus_pool *pool, struct cli_ctx *ctx, GError **error)
{
    g_autofree char *xml = domus_pool_get_xml(pool, DOMUS_POOL_XML_INACTIVE, error);
    if (!xml)
        return FALSE;
    g_autofree char *edited = cli_edit_xml(xml, error);
    if (!edited)
        return FALSE;
    if (g_str_equal(edited, xml)) {
        printf("Pool %s XML configuration not changed.\n\n", domus_pool_get_name(pool));
        return TRUE;
    }
    g_autoptr(domus_pool) npool = domus_pool_define(domus_pool_get_connect(pool), edited, 0, error);
    if (!npool)
        return FALSE;
    printf("Pool %s XML configuration edited.\n\n", domus_pool_get_name(npool));
    return TRUE;
}

static gboolean
cmd_pool_edit(struct cli_ctx *ctx, GError **error)
{
    return with_pool(ctx, do_pool_edit, NULL, "Failed to edit pool %s", error);
}

static gboolean
cmd_pool_uuid(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_pool) pool = lookup_pool(ctx, cli_get(ctx, "pool"), BY_NAME, error);
    if (!pool)
        return FALSE;
    printf("%s\n\n", domus_pool_get_uuid(pool));
    return TRUE;
}

static gboolean
cmd_pool_name(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_pool) pool = lookup_pool(ctx, cli_get(ctx, "pool"), BY_UUID, error);
    if (!pool)
        return FALSE;
    printf("%s\n\n", domus_pool_get_name(pool));
    return TRUE;
}

/* --- volumes: create --- */

static unsigned
vol_create_flags(struct cli_ctx *ctx)
{
    return (cli_has(ctx, "prealloc-metadata") ? DOMUS_VOL_CREATE_PREALLOC_METADATA : 0) |
           (cli_has(ctx, "reflink") ? VOL_CREATE_REFLINK : 0);
}

static gboolean
cmd_vol_create(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_pool) pool = cli_pool(ctx, error);
    if (!pool)
        return FALSE;
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = cli_read_xml_file(file, error);
    if (!xml)
        return FALSE;
    g_autoptr(domus_vol) vol = domus_vol_create_xml(pool, xml, vol_create_flags(ctx), error);
    if (!vol) {
        cli_report("Failed to create vol from %s", file);
        return FALSE;
    }
    printf("Vol %s created from %s\n\n", domus_vol_get_name(vol), file);
    return TRUE;
}

/* The backing volume of vol-create-as: a name in POOL, a key or a path. */
static char *
backing_path(domus_pool *pool, const char *ident, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(domus_vol) vol = domus_vol_lookup_by_name(pool, ident, &err);
    if (!vol) {
        g_clear_error(&err);
        vol = domus_vol_lookup_by_key(domus_pool_get_connect(pool), ident, &err);
    }
    if (!vol) {
        g_clear_error(&err);
        vol = domus_vol_lookup_by_path(domus_pool_get_connect(pool), ident, &err);
    }
    if (!vol) {
        cli_report("failed to get vol '%s'", ident);
        g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    return domus_vol_get_path(vol, error);
}

static gboolean
cmd_vol_create_as(struct cli_ctx *ctx, GError **error)
{
    gboolean print_xml = cli_has(ctx, "print-xml");
    g_autoptr(domus_pool) pool = cli_pool(ctx, error);
    if (!pool)
        return FALSE;
    const char *name = cli_get(ctx, "name");
    const char *alloc_txt = cli_get(ctx, "allocation");
    guint64 capacity, allocation = 0;
    if (!opt_size(cli_get(ctx, "capacity"), &capacity, error) ||
        (alloc_txt && !opt_size(alloc_txt, &allocation, error)))
        return FALSE;
    const char *format = cli_get(ctx, "format");
    const char *backing = cli_get(ctx, "backing-vol");
    const char *backing_format = cli_get(ctx, "backing-vol-format");
    g_autoptr(GString) xml = g_string_new("<volume>\n");
    append_xml(xml, "  <name>%s</name>\n", name);
    g_string_append_printf(xml, "  <capacity>%" G_GUINT64_FORMAT "</capacity>\n", capacity);
    if (alloc_txt)
        g_string_append_printf(xml, "  <allocation>%" G_GUINT64_FORMAT "</allocation>\n",
                               allocation);
    if (format)
        append_xml(xml, "  <target>\n    <format type='%s'/>\n  </target>\n", format);
    if (backing) {
        g_autofree char *path = backing_path(pool, backing, error);
        if (!path)
            return FALSE;
        append_xml(xml, "  <backingStore>\n    <path>%s</path>\n", path);
        if (backing_format)
            append_xml(xml, "    <format type='%s'/>\n", backing_format);
        g_string_append(xml, "  </backingStore>\n");
    }
    g_string_append(xml, "</volume>\n");
    if (print_xml) {
        printf("%s\n", xml->str);
        return TRUE;
    }
    g_autoptr(domus_vol) vol = domus_vol_create_xml(pool, xml->str, vol_create_flags(ctx), error);
    if (!vol) {
        cli_report("Failed to create vol %s", name);
        return FALSE;
    }
    printf("Vol %s created\n\n", name);
    return TRUE;
}

static gboolean
cmd_vol_create_from(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_pool) pool = cli_pool(ctx, error);
    if (!pool)
        return FALSE;
    const char *file = cli_get(ctx, "file");
    g_autoptr(domus_vol) input = lookup_vol(ctx, "vol", "inputpool", BY_UUID | BY_NAME, error);
    if (!input)
        return FALSE;
    g_autofree char *xml = cli_read_xml_file(file, error);
    if (!xml)
        return FALSE;
    g_autoptr(domus_vol) vol =
        domus_vol_create_xml_from(pool, xml, input, vol_create_flags(ctx), error);
    if (!vol) {
        cli_report("Failed to create vol from %s", file);
        return FALSE;
    }
    printf("Vol %s created from input vol %s\n\n", domus_vol_get_name(vol),
           domus_vol_get_name(input));
    return TRUE;
}

/* The volume XML with its first <name> set to NAME (virsh's virshMakeCloneXML). */
static char *
clone_xml(const char *xml, const char *name, GError **error)
{
    const char *open = strstr(xml, "<name>");
    const char *close_tag = open ? strstr(open, "</name>") : NULL;
    if (!close_tag) {
        cli_set_error(error, "Failed to allocate XML buffer");
        return NULL;
    }
    g_autofree char *escaped = g_markup_escape_text(name, -1);
    return g_strdup_printf("%.*s<name>%s%s", (int)(open - xml), xml, escaped, close_tag);
}

static gboolean
cmd_vol_clone(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) orig = cli_vol(ctx, error);
    if (!orig)
        return FALSE;
    g_autoptr(domus_pool) pool = domus_pool_lookup_by_volume(orig, NULL);
    if (!pool) {
        cli_set_error(error, "failed to get parent pool");
        return FALSE;
    }
    g_autofree char *xml = domus_vol_get_xml(orig, 0, error);
    if (!xml)
        return FALSE;
    g_autofree char *nxml = clone_xml(xml, cli_get(ctx, "newname"), error);
    if (!nxml)
        return FALSE;
    g_autoptr(domus_vol) vol =
        domus_vol_create_xml_from(pool, nxml, orig, vol_create_flags(ctx), error);
    if (!vol) {
        cli_report("Failed to clone vol from %s", domus_vol_get_name(orig));
        return FALSE;
    }
    printf("Vol %s cloned from %s\n\n", domus_vol_get_name(vol), domus_vol_get_name(orig));
    return TRUE;
}

/* --- volumes: queries --- */

static int
compare_vols(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(domus_vol_get_name(*(domus_vol **)a),
                              domus_vol_get_name(*(domus_vol **)b));
}

static gboolean
cmd_vol_list(struct cli_ctx *ctx, GError **error)
{
    gboolean details = cli_has(ctx, "details");
    g_autoptr(domus_pool) pool = cli_pool(ctx, error);
    if (!pool)
        return FALSE;
    domus_vol **list = domus_pool_list_volumes(pool, error);
    if (!list) {
        cli_report("Failed to list volumes");
        return FALSE;
    }
    gsize n = 0;
    while (list[n])
        n++;
    qsort(list, n, sizeof(*list), compare_vols);
    g_autoptr(GPtrArray) rows =
        details ? cli_table_new("Name", "Path", "Type", "Capacity", "Allocation", NULL)
                : cli_table_new("Name", "Path", NULL);
    for (gsize i = 0; i < n; i++) {
        char *path = domus_vol_get_path(list[i], NULL);
        if (!path)
            path = g_strdup("unknown");
        if (!details) {
            cli_table_add(rows, g_strdup(domus_vol_get_name(list[i])), path, NULL);
            continue;
        }
        struct domus_vol_info info;
        if (domus_vol_get_info(list[i], &info, NULL))
            cli_table_add(rows, g_strdup(domus_vol_get_name(list[i])), path,
                          g_strdup(vol_type_name(info.type)), pretty(info.capacity),
                          pretty(info.allocation), NULL);
        else
            cli_table_add(rows, g_strdup(domus_vol_get_name(list[i])), path, g_strdup("unknown"),
                          g_strdup("unknown"), g_strdup("unknown"), NULL);
    }
    cli_table_print(rows);
    printf("\n");
    domus_vol_list_free(list);
    return TRUE;
}

static gboolean
cmd_vol_info(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    printf("%-15s %s\n", "Name:", domus_vol_get_name(vol));
    gboolean physical = cli_has(ctx, "physical");
    struct domus_vol_info info;
    if (!(physical ? domus_vol_get_info_flags(vol, DOMUS_VOL_GET_PHYSICAL, &info, error)
                   : domus_vol_get_info(vol, &info, error)))
        return FALSE;
    printf("%-15s %s\n", "Type:", vol_type_name(info.type));
    print_size(ctx, "Capacity:", info.capacity, " bytes");
    print_size(ctx, physical ? "Physical:" : "Allocation:", info.allocation, " bytes");
    printf("\n");
    return TRUE;
}

/* Domus's own: virsh has no way to stop a wipe */
static gboolean
cmd_vol_job_abort(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol || !domus_vol_abort_job(vol, error))
        return FALSE;
    printf("Job on vol %s aborted\n\n", domus_vol_get_name(vol));
    return TRUE;
}

static gboolean
cmd_vol_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    g_autofree char *xml = domus_vol_get_xml(vol, 0, error);
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_vol_path(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    g_autofree char *path = domus_vol_get_path(vol, error);
    if (!path)
        return FALSE;
    printf("%s\n\n", path);
    return TRUE;
}

static gboolean
cmd_vol_key(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    printf("%s\n\n", domus_vol_get_key(vol));
    return TRUE;
}

static gboolean
cmd_vol_name(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = lookup_vol(ctx, "vol", NULL, BY_UUID, error);
    if (!vol)
        return FALSE;
    printf("%s\n\n", domus_vol_get_name(vol));
    return TRUE;
}

static gboolean
cmd_vol_pool(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_vol) vol = lookup_vol(ctx, "vol", NULL, BY_UUID, error);
    if (!vol)
        return FALSE;
    g_autoptr(domus_pool) pool = domus_pool_lookup_by_volume(vol, NULL);
    if (!pool) {
        cli_set_error(error, "failed to get parent pool");
        return FALSE;
    }
    printf("%s\n\n", cli_has(ctx, "uuid") ? domus_pool_get_uuid(pool) : domus_pool_get_name(pool));
    return TRUE;
}

/* --- volumes: change --- */

static gboolean
cmd_vol_resize(struct cli_ctx *ctx, GError **error)
{
    gboolean delta = cli_has(ctx, "delta");
    unsigned flags = (cli_has(ctx, "allocate") ? DOMUS_VOL_RESIZE_ALLOCATE : 0) |
                     (cli_has(ctx, "shrink") ? DOMUS_VOL_RESIZE_SHRINK : 0);
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    const char *text = cli_get(ctx, "capacity");
    while (g_ascii_isspace(*text))
        text++;
    if (*text == '-') {
        /* the API takes a positive delta; a negative size is a convenience */
        if (!cli_has(ctx, "shrink")) {
            cli_set_error(error, "negative size requires --shrink");
            return FALSE;
        }
        text++;
        delta = TRUE;
    }
    if (delta)
        flags |= DOMUS_VOL_RESIZE_DELTA;
    guint64 capacity;
    if (!opt_size(text, &capacity, error))
        return FALSE;
    if (!domus_vol_resize(vol, capacity, flags, error)) {
        cli_report(delta ? "Failed to change size of volume '%s' by %s"
                         : "Failed to change size of volume '%s' to %s",
                   domus_vol_get_name(vol), text);
        return FALSE;
    }
    printf(delta ? "Size of volume '%s' successfully changed by %s\n\n"
                 : "Size of volume '%s' successfully changed to %s\n\n",
           domus_vol_get_name(vol), text);
    return TRUE;
}

static gboolean
cmd_vol_delete(struct cli_ctx *ctx, GError **error)
{
    const char *name = cli_get(ctx, "vol");
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    unsigned flags = (cli_has(ctx, "delete-snapshots") ? VOL_DELETE_WITH_SNAPSHOTS : 0) |
                     (cli_has(ctx, "force") ? DOMUS_VOL_FORCE : 0);
    if (!domus_vol_delete(vol, flags, error)) {
        cli_report("Failed to delete vol %s", name);
        return FALSE;
    }
    printf("Vol %s deleted\n\n", name);
    return TRUE;
}

/* vol-wipe's progress (on a terminal, or --verbose): from a second connection */
struct wipe_run {
    domus_vol *vol;
    int algorithm;
    unsigned flags;
    domus_vol *watch; /* the volume on the second connection; NULL: no progress */
};

static gboolean
wipe_run(gpointer data, GError **error)
{
    struct wipe_run *w = data;
    return domus_vol_wipe_pattern(w->vol, w->algorithm, w->flags, error);
}

static gboolean
wipe_poll(gpointer data, guint64 *ret_remaining, guint64 *ret_total)
{
    struct wipe_run *w = data;
    gboolean active;
    guint64 done, total;
    if (!w->watch || !domus_vol_get_job_info(w->watch, &active, &done, &total, NULL) || !active ||
        !total)
        return FALSE;
    *ret_remaining = total - MIN(done, total);
    *ret_total = total;
    return TRUE;
}

static gboolean
wipe_progress(struct cli_ctx *ctx, domus_vol *vol, int algorithm, unsigned flags, GError **error)
{
    /* progress is best effort: without a second connection the wipe runs all the same */
    domus_conn *watch = domus_open(domus_get_uri(domus_vol_get_connect(vol)), ctx->readonly, NULL);
    struct wipe_run w = {.vol = vol, .algorithm = algorithm, .flags = flags};
    w.watch = watch ? domus_vol_lookup_by_key(watch, domus_vol_get_key(vol), NULL) : NULL;
    gboolean ok =
        cli_with_progress("Wipe", cli_has(ctx, "verbose"), wipe_run, wipe_poll, &w, error);
    domus_vol_free(w.watch);
    domus_close(watch);
    return ok;
}

static gboolean
cmd_vol_wipe(struct cli_ctx *ctx, GError **error)
{
    const char *name = cli_get(ctx, "vol");
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    const char *alg_txt = cli_get(ctx, "algorithm");
    int algorithm = DOMUS_VOL_WIPE_ZERO;
    if (alg_txt && (algorithm = wipe_from_string(alg_txt)) < 0) {
        cli_set_error(error, "Unsupported algorithm '%s'", alg_txt);
        return FALSE;
    }
    unsigned flags = cli_has(ctx, "force") ? DOMUS_VOL_FORCE : 0;
    gboolean ok = cli_has(ctx, "verbose") || isatty(2)
                      ? wipe_progress(ctx, vol, algorithm, flags, error)
                      : domus_vol_wipe_pattern(vol, algorithm, flags, error);
    if (!ok) {
        cli_report("Failed to wipe vol %s", name);
        return FALSE;
    }
    printf("Vol %s wiped\n\n", name);
    return TRUE;
}

/* --- pool-event --- */

static const char *const pool_lifecycle_names[] = {"Defined", "Undefined", "Started", "Stopped",
                                                   "Created", "Deleted",   NULL};
static const struct cli_event_kind pool_event_kinds[] = {
    {"lifecycle", pool_lifecycle_names},
    {"refresh", NULL},
    {NULL, NULL},
};

static gboolean
cmd_pool_event(struct cli_ctx *ctx, GError **error)
{
    int id;
    if (!cli_event_kind(ctx, pool_event_kinds, &id, error))
        return FALSE;
    if (id < 0)
        return TRUE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_autoptr(domus_pool) pool = NULL;
    if (cli_has(ctx, "pool") && !(pool = cli_pool(ctx, error)))
        return FALSE;
    if (domus_pool_event_register(conn, pool, id, error) < 0)
        return FALSE;
    return cli_event_loop(ctx, DOMUS_EVENT_POOL, "storage pool", pool_event_kinds, id, error);
}

/* --- the table --- */

#define POOL_OPT                                                                                   \
    {                                                                                              \
        "pool", OPT_DATA, TRUE, "pool name or uuid"                                                \
    }
#define VOL_OPT                                                                                    \
    {                                                                                              \
        "vol", OPT_DATA, TRUE, "vol name, key or path"                                             \
    }
#define POOL_OPTIONAL                                                                              \
    {                                                                                              \
        "pool", OPT_STRING, FALSE, "pool name or uuid"                                             \
    }
#define BUILD_OPTS                                                                                 \
    {"build", OPT_BOOL, FALSE, "build the pool as normal"},                                        \
        {"overwrite", OPT_BOOL, FALSE, "build the pool and overwrite any existing data"},          \
    {                                                                                              \
        "no-overwrite", OPT_BOOL, FALSE, "build the pool without overwriting the existing pool"    \
    }
#define X_AS_OPTS                                                                                  \
    {"name", OPT_DATA, TRUE, "name of the pool"}, {"type", OPT_DATA, TRUE, "type of the pool"},    \
        {"source-host", OPT_STRING, FALSE, "source-host for underlying storage"},                  \
        {"source-path", OPT_STRING, FALSE, "source path for underlying storage"},                  \
        {"source-dev", OPT_STRING, FALSE, "source device for underlying storage"},                 \
        {"source-name", OPT_STRING, FALSE, "source name for underlying storage"},                  \
        {"target", OPT_STRING, FALSE, "target for underlying storage"},                            \
        {"source-format", OPT_STRING, FALSE, "format for underlying storage"},                     \
    {                                                                                              \
        "print-xml", OPT_BOOL, FALSE, "print XML document, but don't define/create"                \
    }

static const struct cli_opt pool_opts[] = {POOL_OPT, {NULL}};
static const struct cli_opt no_opts[] = {{NULL}};
static const struct cli_opt find_sources_opts[] = {
    {"type", OPT_DATA, TRUE, "type of storage pool sources to discover"},
    {"srcSpec", OPT_STRING, FALSE, "optional file of source xml to query for pools"},
    {NULL},
};
static const struct cli_opt find_sources_as_opts[] = {
    {"type", OPT_DATA, TRUE, "type of storage pool sources to find"},
    {"host", OPT_STRING, FALSE, "optional host to query"},
    {"port", OPT_STRING, FALSE, "optional port to query"},
    {"initiator", OPT_STRING, FALSE, "optional initiator IQN to use for query"},
    {NULL},
};
static const struct cli_opt pool_autostart_opts[] = {
    POOL_OPT,
    {"disable", OPT_BOOL, FALSE, "disable autostarting"},
    {NULL},
};
static const struct cli_opt pool_build_opts[] = {
    POOL_OPT,
    {"no-overwrite", OPT_BOOL, FALSE, "do not overwrite any existing data"},
    {"overwrite", OPT_BOOL, FALSE, "overwrite any existing data"},
    {NULL},
};
static const struct cli_opt pool_start_opts[] = {POOL_OPT, BUILD_OPTS, {NULL}};
static const struct cli_opt pool_file_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML pool description"},
    {NULL},
};
static const struct cli_opt pool_create_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML pool description"},
    BUILD_OPTS,
    {NULL},
};
static const struct cli_opt pool_define_as_opts[] = {X_AS_OPTS, {NULL}};
static const struct cli_opt pool_create_as_opts[] = {X_AS_OPTS, BUILD_OPTS, {NULL}};
static const struct cli_opt pool_list_opts[] = {
    {"inactive", OPT_BOOL, FALSE, "list inactive pools"},
    {"all", OPT_BOOL, FALSE, "list inactive & active pools"},
    {"transient", OPT_BOOL, FALSE, "list transient pools"},
    {"persistent", OPT_BOOL, FALSE, "list persistent pools"},
    {"autostart", OPT_BOOL, FALSE, "list pools with autostart enabled"},
    {"no-autostart", OPT_BOOL, FALSE, "list pools with autostart disabled"},
    {"details", OPT_BOOL, FALSE, "display extended details for pools"},
    {"uuid", OPT_BOOL, FALSE, "list UUID of active pools only"},
    {"name", OPT_BOOL, FALSE, "list name of active pools only"},
    {NULL},
};
static const struct cli_opt pool_info_opts[] = {
    POOL_OPT,
    {"bytes", OPT_BOOL, FALSE, "return pool info in bytes"},
    {NULL},
};
static const struct cli_opt pool_dumpxml_opts[] = {
    POOL_OPT,
    {"inactive", OPT_BOOL, FALSE, "show inactive defined XML"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt pool_uuid_opts[] = {
    {"pool", OPT_DATA, TRUE, "pool name"},
    {NULL},
};
static const struct cli_opt pool_name_opts[] = {
    {"pool", OPT_DATA, TRUE, "pool uuid"},
    {NULL},
};

static const struct cli_opt vol_create_opts[] = {
    {"pool", OPT_DATA, TRUE, "pool name"},
    {"file", OPT_DATA, TRUE, "file containing an XML vol description"},
    {"prealloc-metadata", OPT_BOOL, FALSE,
     "preallocate metadata (for qcow2 instead of full allocation)"},
    {NULL},
};
static const struct cli_opt vol_create_as_opts[] = {
    {"pool", OPT_DATA, TRUE, "pool name"},
    {"name", OPT_DATA, TRUE, "name of the volume"},
    {"capacity", OPT_DATA, TRUE, "size of the vol, as scaled integer (default bytes)"},
    {"allocation", OPT_STRING, FALSE, "initial allocation size, as scaled integer (default bytes)"},
    {"format", OPT_STRING, FALSE, "file format type raw,bochs,qcow,qcow2,qed,vmdk"},
    {"backing-vol", OPT_STRING, FALSE, "the backing volume if taking a snapshot"},
    {"backing-vol-format", OPT_STRING, FALSE, "format of backing volume if taking a snapshot"},
    {"prealloc-metadata", OPT_BOOL, FALSE,
     "preallocate metadata (for qcow2 instead of full allocation)"},
    {"print-xml", OPT_BOOL, FALSE, "print XML document, but don't define/create"},
    {NULL},
};
static const struct cli_opt vol_create_from_opts[] = {
    {"pool", OPT_DATA, TRUE, "pool name or uuid"},
    {"file", OPT_DATA, TRUE, "file containing an XML vol description"},
    VOL_OPT,
    {"inputpool", OPT_STRING, FALSE, "pool name or uuid of the input volume's pool"},
    {"prealloc-metadata", OPT_BOOL, FALSE,
     "preallocate metadata (for qcow2 instead of full allocation)"},
    {"reflink", OPT_BOOL, FALSE, "use btrfs COW lightweight copy"},
    {NULL},
};
static const struct cli_opt vol_clone_opts[] = {
    VOL_OPT,
    {"newname", OPT_DATA, TRUE, "clone name"},
    POOL_OPTIONAL,
    {"prealloc-metadata", OPT_BOOL, FALSE,
     "preallocate metadata (for qcow2 instead of full allocation)"},
    {"reflink", OPT_BOOL, FALSE, "use btrfs COW lightweight copy"},
    {NULL},
};
static const struct cli_opt vol_list_opts[] = {
    {"pool", OPT_DATA, TRUE, "pool name or uuid"},
    {"details", OPT_BOOL, FALSE, "display extended details for volumes"},
    {NULL},
};
static const struct cli_opt vol_opts[] = {VOL_OPT, POOL_OPTIONAL, {NULL}};
static const struct cli_opt vol_dumpxml_opts[] = {VOL_OPT, POOL_OPTIONAL, CLI_XPATH_OPTS, {NULL}};
static const struct cli_opt vol_info_opts[] = {
    VOL_OPT,
    POOL_OPTIONAL,
    {"bytes", OPT_BOOL, FALSE, "sizes are represented in bytes rather than pretty units"},
    {"physical", OPT_BOOL, FALSE, "return the physical size of the volume in allocation field"},
    {NULL},
};
static const struct cli_opt vol_key_opts[] = {
    {"vol", OPT_DATA, TRUE, "volume key or path"},
    {NULL},
};
static const struct cli_opt vol_pool_opts[] = {
    {"vol", OPT_DATA, TRUE, "volume key or path"},
    {"uuid", OPT_BOOL, FALSE, "return the pool uuid rather than pool name"},
    {NULL},
};
static const struct cli_opt vol_resize_opts[] = {
    VOL_OPT,
    {"capacity", OPT_DATA, TRUE, "new capacity for the vol, as scaled integer (default bytes)"},
    POOL_OPTIONAL,
    {"allocate", OPT_BOOL, FALSE, "allocate the new capacity, rather than leaving it sparse"},
    {"delta", OPT_BOOL, FALSE, "use capacity as a delta to current size, rather than the new size"},
    {"shrink", OPT_BOOL, FALSE, "allow the resize to shrink the volume"},
    {NULL},
};
static const struct cli_opt vol_delete_opts[] = {
    VOL_OPT,
    POOL_OPTIONAL,
    {"delete-snapshots", OPT_BOOL, FALSE,
     "delete snapshots associated with volume (must be supported by storage driver)"},
    {"force", OPT_BOOL, FALSE, "delete even while a running domain uses the volume"},
    {NULL},
};

static const struct cli_opt pool_event_opts[] = {
    {"pool", OPT_NAMED, FALSE, "filter by storage pool name or uuid"},
    CLI_EVENT_OPTS,
    {NULL},
};

static const struct cli_opt vol_wipe_opts[] = {
    VOL_OPT,
    POOL_OPTIONAL,
    {"algorithm", OPT_STRING, FALSE, "perform selected wiping algorithm"},
    {"force", OPT_BOOL, FALSE, "wipe even while a running domain uses the volume"},
    {"verbose", OPT_BOOL, FALSE, "display the progress of the wipe"},
    {NULL},
};

const struct cli_cmd cli_storage_cmds[] = {
    {"pool-autostart", cmd_pool_autostart, pool_autostart_opts, "autostart a pool"},
    {"pool-build", cmd_pool_build, pool_build_opts, "build a pool"},
    {"pool-create", cmd_pool_create, pool_create_opts, "create a pool from an XML file"},
    {"pool-create-as", cmd_pool_create_as, pool_create_as_opts, "create a pool from a set of args"},
    {"pool-define", cmd_pool_define, pool_file_opts,
     "define an inactive persistent storage pool or modify an existing persistent one from an "
     "XML file"},
    {"pool-define-as", cmd_pool_define_as, pool_define_as_opts, "define a pool from a set of args"},
    {"pool-delete", cmd_pool_delete, pool_opts, "delete a pool"},
    {"pool-destroy", cmd_pool_destroy, pool_opts, "destroy (stop) a pool"},
    {"pool-dumpxml", cmd_pool_dumpxml, pool_dumpxml_opts, "pool information in XML"},
    {"pool-edit", cmd_pool_edit, pool_opts, "edit XML configuration for a storage pool"},
    {"pool-info", cmd_pool_info, pool_info_opts, "storage pool information"},
    {"pool-capabilities", cmd_pool_capabilities, no_opts, "storage pool capabilities"},
    {"find-storage-pool-sources", cmd_find_sources, find_sources_opts,
     "discover potential storage pool sources"},
    {"find-storage-pool-sources-as", cmd_find_sources_as, find_sources_as_opts,
     "find potential storage pool sources"},
    {"pool-list", cmd_pool_list, pool_list_opts, "list pools"},
    {"pool-name", cmd_pool_name, pool_name_opts, "convert a pool UUID to pool name"},
    {"pool-refresh", cmd_pool_refresh, pool_opts, "refresh a pool"},
    {"pool-start", cmd_pool_start, pool_start_opts, "start a (previously defined) inactive pool"},
    {"pool-undefine", cmd_pool_undefine, pool_opts, "undefine an inactive pool"},
    {"pool-uuid", cmd_pool_uuid, pool_uuid_opts, "convert a pool name to pool UUID"},
    {"vol-clone", cmd_vol_clone, vol_clone_opts, "clone a volume."},
    {"vol-create-as", cmd_vol_create_as, vol_create_as_opts, "create a volume from a set of args"},
    {"vol-create", cmd_vol_create, vol_create_opts, "create a vol from an XML file"},
    {"vol-create-from", cmd_vol_create_from, vol_create_from_opts,
     "create a vol, using another volume as input"},
    {"vol-delete", cmd_vol_delete, vol_delete_opts, "delete a vol"},
    {"vol-dumpxml", cmd_vol_dumpxml, vol_dumpxml_opts, "vol information in XML"},
    {"vol-info", cmd_vol_info, vol_info_opts, "storage vol information"},
    {"vol-job-abort", cmd_vol_job_abort, vol_opts,
     "abort the job (a wipe) running on a vol (Domus's own)"},
    {"vol-key", cmd_vol_key, vol_opts, "returns the volume key for a given volume name or path"},
    {"vol-list", cmd_vol_list, vol_list_opts, "list vols"},
    {"vol-name", cmd_vol_name, vol_key_opts,
     "returns the volume name for a given volume key or path"},
    {"vol-path", cmd_vol_path, vol_opts, "returns the volume path for a given volume name or key"},
    {"vol-pool", cmd_vol_pool, vol_pool_opts,
     "returns the storage pool for a given volume key or path"},
    {"vol-resize", cmd_vol_resize, vol_resize_opts, "resize a vol"},
    {"vol-wipe", cmd_vol_wipe, vol_wipe_opts, "wipe a vol"},
    {"pool-event", cmd_pool_event, pool_event_opts, "Storage Pool Events"},
    {NULL},
};
