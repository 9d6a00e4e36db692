/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot: virsh's snapshot-* commands, options and output. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

/* virDomainSnapshotListFlags */
enum {
    LIST_ROOTS = 1 << 0,
    LIST_DESCENDANTS = 1 << 0,
    LIST_LEAVES = 1 << 2,
    LIST_NO_LEAVES = 1 << 3,
    LIST_INACTIVE = 1 << 5,
    LIST_ACTIVE = 1 << 6,
    LIST_DISK_ONLY = 1 << 7,
    LIST_INTERNAL = 1 << 8,
    LIST_EXTERNAL = 1 << 9,
};

static gboolean
with_dom(struct cli_ctx *ctx, domus_domain **ret, GError **error)
{
    *ret = cli_domain(ctx, error);
    return *ret != NULL;
}

static void
append_attr(GString *xml, const char *name, const char *value)
{
    if (!value)
        return;
    g_autofree char *e = g_markup_escape_text(value, -1);
    g_string_append_printf(xml, " %s='%s'", name, e);
}

/* --memspec [file=]name[,snapshot=type] */
static gboolean
append_memspec(GString *xml, const char *spec, GError **error)
{
    static const char *const keys[] = {"file", "snapshot", NULL};
    g_autoptr(GHashTable) t = cli_parse_spec(spec, "file", keys, "memspec", error);
    if (!t)
        return FALSE;
    g_string_append(xml, "  <memory");
    append_attr(xml, "snapshot", g_hash_table_lookup(t, "snapshot"));
    append_attr(xml, "file", g_hash_table_lookup(t, "file"));
    g_string_append(xml, "/>\n");
    return TRUE;
}

/* --diskspec disk[,snapshot=type][,driver=type][,stype=type][,file=name] */
static gboolean
append_diskspec(GString *xml, const char *spec, GError **error)
{
    static const char *const keys[] = {"name", "snapshot", "driver", "stype", "file", NULL};
    g_autoptr(GHashTable) t = cli_parse_spec(spec, "name", keys, "diskspec", error);
    if (!t)
        return FALSE;
    const char *driver = g_hash_table_lookup(t, "driver");
    const char *file = g_hash_table_lookup(t, "file");
    const char *stype = g_hash_table_lookup(t, "stype");
    g_string_append(xml, "    <disk");
    append_attr(xml, "name", g_hash_table_lookup(t, "name"));
    append_attr(xml, "snapshot", g_hash_table_lookup(t, "snapshot"));
    if (!driver && !file) {
        g_string_append(xml, "/>\n");
        return TRUE;
    }
    append_attr(xml, "type", stype ? stype : (file ? "file" : NULL));
    g_string_append(xml, ">\n");
    if (driver) {
        g_string_append(xml, "      <driver");
        append_attr(xml, "type", driver);
        g_string_append(xml, "/>\n");
    }
    if (file) {
        g_string_append(xml, "      <source");
        append_attr(xml, stype && g_str_equal(stype, "block") ? "dev" : "file", file);
        g_string_append(xml, "/>\n");
    }
    g_string_append(xml, "    </disk>\n");
    return TRUE;
}

/* The options shared by snapshot-create and snapshot-create-as */
static unsigned
create_flags(struct cli_ctx *ctx)
{
    static const struct {
        const char *opt;
        unsigned flag;
    } map[] = {
        {"redefine", DOMUS_SNAPSHOT_CREATE_REDEFINE},
        {"current", DOMUS_SNAPSHOT_CREATE_CURRENT},
        {"no-metadata", DOMUS_SNAPSHOT_CREATE_NO_METADATA},
        {"halt", DOMUS_SNAPSHOT_CREATE_HALT},
        {"disk-only", DOMUS_SNAPSHOT_CREATE_DISK_ONLY},
        {"reuse-external", DOMUS_SNAPSHOT_CREATE_REUSE_EXT},
        {"quiesce", DOMUS_SNAPSHOT_CREATE_QUIESCE},
        {"atomic", DOMUS_SNAPSHOT_CREATE_ATOMIC},
        {"live", DOMUS_SNAPSHOT_CREATE_LIVE},
        {"validate", DOMUS_SNAPSHOT_CREATE_VALIDATE},
    };
    unsigned flags = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
        if (cli_has(ctx, map[i].opt))
            flags |= map[i].flag;
    return flags;
}

static gboolean
cmd_snapshot_create_as(struct cli_ctx *ctx, GError **error)
{
    GString *xml = g_string_new("<domainsnapshot>\n");
    const char *name = cli_get(ctx, "name");
    const char *desc = cli_get(ctx, "description");
    const char *memspec = cli_get(ctx, "memspec");
    g_auto(GStrv) diskspecs = cli_get_list(ctx, "diskspec");
    if (name) {
        g_autofree char *e = g_markup_escape_text(name, -1);
        g_string_append_printf(xml, "  <name>%s</name>\n", e);
    }
    if (desc) {
        g_autofree char *e = g_markup_escape_text(desc, -1);
        g_string_append_printf(xml, "  <description>%s</description>\n", e);
    }
    gboolean ok = !memspec || append_memspec(xml, memspec, error);
    if (ok && diskspecs[0]) {
        g_string_append(xml, "  <disks>\n");
        for (guint i = 0; ok && diskspecs[i]; i++)
            ok = append_diskspec(xml, diskspecs[i], error);
        g_string_append(xml, "  </disks>\n");
    }
    g_string_append(xml, "</domainsnapshot>\n");
    g_autofree char *text = g_string_free(xml, FALSE);
    if (!ok)
        return FALSE;
    if (cli_has(ctx, "print-xml")) {
        printf("%s\n", text);
        return TRUE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autofree char *made = domus_snapshot_create_xml(dom, text, create_flags(ctx), error);
    domus_domain_free(dom);
    if (!made)
        return FALSE;
    printf("Domain snapshot %s created\n\n", made);
    return TRUE;
}

static gboolean
cmd_snapshot_create(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "xmlfile");
    g_autofree char *xml = file ? cli_read_xml_file(file, error) : g_strdup("<domainsnapshot/>");
    domus_domain *dom;
    if (!xml || !with_dom(ctx, &dom, error))
        return FALSE;
    g_autofree char *made = domus_snapshot_create_xml(dom, xml, create_flags(ctx), error);
    domus_domain_free(dom);
    if (!made)
        return FALSE;
    if (file)
        printf("Domain snapshot %s created from '%s'\n\n", made, file);
    else
        printf("Domain snapshot %s created\n\n", made);
    return TRUE;
}

static gboolean
cmd_snapshot_list(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    unsigned flags = 0;
    const char *from = cli_get(ctx, "from");
    if (cli_has(ctx, "current")) {
        g_autofree char *cur = domus_snapshot_current(dom, NULL);
        if (!cur) {
            domus_domain_free(dom);
            printf("\n");
            return TRUE;
        }
    }
    if (cli_has(ctx, "roots"))
        flags |= LIST_ROOTS;
    if (from && cli_has(ctx, "descendants"))
        flags |= LIST_DESCENDANTS;
    if (cli_has(ctx, "leaves"))
        flags |= LIST_LEAVES;
    if (cli_has(ctx, "no-leaves"))
        flags |= LIST_NO_LEAVES;
    if (cli_has(ctx, "inactive"))
        flags |= LIST_INACTIVE;
    if (cli_has(ctx, "active"))
        flags |= LIST_ACTIVE;
    if (cli_has(ctx, "disk-only"))
        flags |= LIST_DISK_ONLY;
    if (cli_has(ctx, "internal"))
        flags |= LIST_INTERNAL;
    if (cli_has(ctx, "external"))
        flags |= LIST_EXTERNAL;
    g_auto(GStrv) names = domus_snapshot_list(dom, from, flags, error);
    if (!names) {
        domus_domain_free(dom);
        return FALSE;
    }
    if (cli_has(ctx, "current")) {
        g_autofree char *cur = domus_snapshot_current(dom, NULL);
        g_strfreev(names);
        names = g_new0(char *, 2);
        names[0] = g_steal_pointer(&cur);
    }
    guint n = g_strv_length(names);
    g_autofree char **xmls = g_new0(char *, n + 1);
    g_autofree char **parents = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        xmls[i] = domus_snapshot_get_xml(dom, names[i], 0, error);
        if (!xmls[i])
            break;
        g_autofree char *block = cli_xml_field(xmls[i], "parent");
        parents[i] = block ? cli_xml_field(block, "name") : NULL;
    }
    gboolean ok = n == 0 || xmls[n - 1];
    if (ok && cli_has(ctx, "tree")) {
        g_autoptr(GString) indent = g_string_new(NULL);
        for (guint i = 0; i < n; i++) {
            gboolean listed_parent = FALSE;
            for (guint j = 0; parents[i] && j < n; j++)
                listed_parent |= g_str_equal(names[j], parents[i]);
            if (!listed_parent)
                cli_tree_print(names, parents, n, i, i, TRUE, indent);
        }
        printf("\n");
    } else if (ok && cli_has(ctx, "name")) {
        for (guint i = 0; i < n; i++)
            printf("%s\n", names[i]);
        printf("\n");
    } else if (ok) {
        gboolean with_parent = cli_has(ctx, "parent");
        g_autoptr(GPtrArray) rows =
            with_parent ? cli_table_new("Name", "Creation Time", "State", "Parent", NULL)
                        : cli_table_new("Name", "Creation Time", "State", NULL);
        for (guint i = 0; i < n; i++) {
            char *state = cli_xml_field(xmls[i], "state");
            if (with_parent)
                cli_table_add(rows, g_strdup(names[i]), cli_creation_time(xmls[i]), state,
                              g_strdup(parents[i] ? parents[i] : ""), NULL);
            else
                cli_table_add(rows, g_strdup(names[i]), cli_creation_time(xmls[i]), state, NULL);
        }
        cli_table_print(rows);
        printf("\n");
    }
    for (guint i = 0; i < n; i++) {
        g_free(xmls[i]);
        g_free(parents[i]);
    }
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_snapshot_dumpxml(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autofree char *xml = domus_snapshot_get_xml(dom, cli_get(ctx, "snapshotname"),
                                                  cli_has(ctx, "security-info") ? 1 : 0, error);
    domus_domain_free(dom);
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_snapshot_current(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autoptr(GError) err = NULL;
    g_autofree char *cur = domus_snapshot_current(dom, &err);
    gboolean ok = TRUE;
    if (!cur && err && err->code != 72 /* VIR_ERR_NO_DOMAIN_SNAPSHOT */) {
        g_propagate_error(error, g_steal_pointer(&err));
        ok = FALSE;
    } else if (!cur) {
        cli_report("domain '%s' has no current snapshot", domus_domain_get_name(dom));
        cli_set_error(error, "no current snapshot");
        ok = FALSE;
    } else if (cli_has(ctx, "name")) {
        printf("%s\n", cur);
    } else {
        g_autofree char *xml =
            domus_snapshot_get_xml(dom, cur, cli_has(ctx, "security-info") ? 1 : 0, error);
        ok = xml != NULL;
        if (ok)
            printf("%s\n", xml);
    }
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_snapshot_info(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    const char *name = cli_get(ctx, "snapshotname");
    g_autofree char *cur = domus_snapshot_current(dom, NULL);
    g_autofree char *which = g_strdup(cli_has(ctx, "current") || !name ? cur : name);
    g_autofree char *xml = which ? domus_snapshot_get_xml(dom, which, 0, error) : NULL;
    if (!xml) {
        if (!which)
            cli_set_error(error, "domain '%s' has no current snapshot", domus_domain_get_name(dom));
        domus_domain_free(dom);
        return FALSE;
    }
    g_autofree char *state = cli_xml_field(xml, "state");
    g_autofree char *pblock = cli_xml_field(xml, "parent");
    g_autofree char *parent = pblock ? cli_xml_field(pblock, "name") : NULL;
    g_auto(GStrv) children = domus_snapshot_list(dom, which, 0, NULL);
    g_auto(GStrv) descendants = domus_snapshot_list(dom, which, LIST_DESCENDANTS, NULL);
    const char *location = strstr(xml, "snapshot='external'") ? "external" : "internal";
    printf("%-15s %s\n", "Name:", which);
    printf("%-15s %s\n", "Domain:", domus_domain_get_name(dom));
    printf("%-15s %s\n", "Current:", g_strcmp0(cur, which) == 0 ? "yes" : "no");
    printf("%-15s %s\n", "State:", state ? state : "-");
    printf("%-15s %s\n", "Location:", location);
    printf("%-15s %s\n", "Parent:", parent ? parent : "-");
    printf("%-15s %u\n", "Children:", children ? g_strv_length(children) : 0);
    printf("%-15s %u\n", "Descendants:", descendants ? g_strv_length(descendants) : 0);
    printf("%-15s %s\n\n", "Metadata:", "yes");
    domus_domain_free(dom);
    return TRUE;
}

static gboolean
cmd_snapshot_parent(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autofree char *parent = domus_snapshot_parent(dom, cli_get(ctx, "snapshotname"), error);
    domus_domain_free(dom);
    if (!parent)
        return FALSE;
    printf("%s\n", parent);
    return TRUE;
}

/* The seed's form: --memspec file=M --diskspec vda,backfile=B,runfile=R[,snapshot=external]
 * --external (docs/snapshots.md) */
static gboolean
revert_external(struct cli_ctx *ctx, domus_domain *dom, const char *name, unsigned flags,
                GError **error)
{
    static const char *const mem_keys[] = {"file", "snapshot", NULL};
    static const char *const disk_keys[] = {"name", "backfile", "runfile", "snapshot", NULL};
    const char *memspec = cli_get(ctx, "memspec");
    g_autoptr(GHashTable) mem =
        memspec ? cli_parse_spec(memspec, "file", mem_keys, "memspec", error) : NULL;
    if (memspec && !mem)
        return FALSE;
    g_auto(GStrv) specs = cli_get_list(ctx, "diskspec");
    guint n = g_strv_length(specs);
    g_autoptr(GPtrArray) tables =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    g_autofree domus_revert_disk *disks = g_new0(domus_revert_disk, n + 1);
    for (guint i = 0; i < n; i++) {
        GHashTable *t = cli_parse_spec(specs[i], "name", disk_keys, "diskspec", error);
        if (!t)
            return FALSE;
        g_ptr_array_add(tables, t);
        const char *snap = g_hash_table_lookup(t, "snapshot");
        if (snap && !g_str_equal(snap, "external")) {
            cli_set_error(error, "diskspec '%s': a revert puts disks on external overlays only",
                          specs[i]);
            return FALSE;
        }
        disks[i].target = g_hash_table_lookup(t, "name");
        disks[i].backfile = g_hash_table_lookup(t, "backfile");
        disks[i].runfile = g_hash_table_lookup(t, "runfile");
    }
    return domus_snapshot_revert_external(dom, name, mem ? g_hash_table_lookup(mem, "file") : NULL,
                                          disks, n, flags, error);
}

static gboolean
cmd_snapshot_revert(struct cli_ctx *ctx, GError **error)
{
    if (cli_has(ctx, "running") && cli_has(ctx, "paused")) {
        cli_set_error(error, "Options --running and --paused are mutually exclusive");
        return FALSE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    unsigned flags = (cli_has(ctx, "running") ? DOMUS_SNAPSHOT_REVERT_RUNNING : 0) |
                     (cli_has(ctx, "paused") ? DOMUS_SNAPSHOT_REVERT_PAUSED : 0);
    g_autofree char *cur = cli_has(ctx, "current") ? domus_snapshot_current(dom, error) : NULL;
    const char *name = cur ? cur : cli_get(ctx, "snapshotname");
    gboolean external =
        cli_has(ctx, "external") || cli_has(ctx, "memspec") || cli_has(ctx, "diskspec");
    gboolean ok = external ? revert_external(ctx, dom, name, flags, error)
                           : name && domus_snapshot_revert(dom, name, flags, error);
    if (!external && !name && !cur && !cli_has(ctx, "current"))
        cli_set_error(error, "give a snapshot name or --current");
    domus_domain_free(dom);
    if (ok)
        printf("\n");
    return ok;
}

/* virsh snapshot-edit: the XML in an editor, redefined (current stays current); a new name
 * needs --rename (the old metadata goes) or --clone */
static gboolean
snapshot_edit(struct cli_ctx *ctx, domus_domain *dom, const char *name, GError **error)
{
    g_autofree char *cur = domus_snapshot_current(dom, NULL);
    gboolean current = cur && g_str_equal(cur, name);
    g_autofree char *xml = domus_snapshot_get_xml(dom, name, 1 /* SECURE */, error);
    g_autofree char *edited = xml ? cli_edit_xml(xml, error) : NULL;
    if (!edited)
        return FALSE;
    if (g_str_equal(xml, edited)) {
        printf("Snapshot %s XML configuration not changed.\n\n", name);
        return TRUE;
    }
    g_autofree char *new_name = cli_xml_field(edited, "name");
    gboolean renamed = new_name && !g_str_equal(new_name, name);
    gboolean rename = cli_has(ctx, "rename"), clone = cli_has(ctx, "clone");
    if (renamed && !rename && !clone) {
        cli_set_error(error, "Must use --rename or --clone to change %s to %s", name, new_name);
        return FALSE;
    }
    unsigned flags = DOMUS_SNAPSHOT_CREATE_REDEFINE | (current ? DOMUS_SNAPSHOT_CREATE_CURRENT : 0);
    g_autofree char *made = domus_snapshot_create_xml(dom, edited, flags, error);
    if (!made) {
        cli_report("Failed to update %s", name);
        return FALSE;
    }
    if (g_str_equal(made, name)) {
        printf("Snapshot %s edited.\n\n", name);
    } else if (clone) {
        printf("Snapshot %s cloned to %s.\n\n", name, made);
    } else {
        if (!domus_snapshot_delete(dom, name, DOMUS_SNAPSHOT_DELETE_METADATA_ONLY, error)) {
            cli_report("Failed to clean up %s", name);
            return FALSE;
        }
        printf("Snapshot %s renamed to %s.\n\n", name, made);
    }
    return TRUE;
}

static gboolean
cmd_snapshot_edit(struct cli_ctx *ctx, GError **error)
{
    if (cli_has(ctx, "rename") && cli_has(ctx, "clone")) {
        cli_set_error(error, "Options --rename and --clone are mutually exclusive");
        return FALSE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autofree char *cur = cli_has(ctx, "current") ? domus_snapshot_current(dom, error) : NULL;
    const char *name = cur ? cur : cli_get(ctx, "snapshotname");
    gboolean ok = FALSE;
    if (name)
        ok = snapshot_edit(ctx, dom, name, error);
    else if (!cli_has(ctx, "current"))
        cli_set_error(error, "give a snapshot name or --current");
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_snapshot_delete(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    const char *name = cli_get(ctx, "snapshotname");
    unsigned flags = (cli_has(ctx, "children") ? DOMUS_SNAPSHOT_DELETE_CHILDREN : 0) |
                     (cli_has(ctx, "children-only") ? DOMUS_SNAPSHOT_DELETE_CHILDREN_ONLY : 0) |
                     (cli_has(ctx, "metadata") ? DOMUS_SNAPSHOT_DELETE_METADATA_ONLY : 0);
    gboolean ok = domus_snapshot_delete(dom, name, flags, error);
    domus_domain_free(dom);
    if (!ok)
        return FALSE;
    if (flags & DOMUS_SNAPSHOT_DELETE_CHILDREN_ONLY)
        printf("Domain snapshot %s children deleted\n\n", name);
    else
        printf("Domain snapshot %s deleted\n\n", name);
    return TRUE;
}

#define SNAP_OPT(req)                                                                              \
    {                                                                                              \
        "snapshotname", OPT_DATA, req, "snapshot name"                                             \
    }

static const struct cli_opt create_as_opts[] = {
    DOMAIN_OPT,
    {"name", OPT_DATA, FALSE, "name of snapshot"},
    {"description", OPT_STRING, FALSE, "description of snapshot"},
    {"print-xml", OPT_BOOL, FALSE, "print XML document rather than create"},
    {"no-metadata", OPT_BOOL, FALSE, "take snapshot but create no metadata"},
    {"halt", OPT_BOOL, FALSE, "halt domain after snapshot is created"},
    {"disk-only", OPT_BOOL, FALSE, "capture disk state but not vm state"},
    {"reuse-external", OPT_BOOL, FALSE, "reuse any existing external files"},
    {"quiesce", OPT_BOOL, FALSE, "quiesce guest's file systems"},
    {"atomic", OPT_BOOL, FALSE, "require atomic operation"},
    {"live", OPT_BOOL, FALSE, "take a live snapshot"},
    {"validate", OPT_BOOL, FALSE, "validate the XML against the schema"},
    {"memspec", OPT_STRING, FALSE, "memory attributes: [file=]name[,snapshot=type]"},
    {"diskspec", OPT_LIST, FALSE,
     "disk attributes: disk[,snapshot=type][,driver=type][,stype=type][,file=name]"},
    {NULL},
};
static const struct cli_opt create_opts[] = {
    DOMAIN_OPT,
    {"xmlfile", OPT_DATA, FALSE, "domain snapshot XML"},
    {"redefine", OPT_BOOL, FALSE, "redefine metadata for existing snapshot"},
    {"current", OPT_BOOL, FALSE, "with redefine, set current snapshot"},
    {"no-metadata", OPT_BOOL, FALSE, "take snapshot but create no metadata"},
    {"halt", OPT_BOOL, FALSE, "halt domain after snapshot is created"},
    {"disk-only", OPT_BOOL, FALSE, "capture disk state but not vm state"},
    {"reuse-external", OPT_BOOL, FALSE, "reuse any existing external files"},
    {"quiesce", OPT_BOOL, FALSE, "quiesce guest's file systems"},
    {"atomic", OPT_BOOL, FALSE, "require atomic operation"},
    {"live", OPT_BOOL, FALSE, "take a live snapshot"},
    {"validate", OPT_BOOL, FALSE, "validate the XML against the schema"},
    {NULL},
};
static const struct cli_opt list_opts[] = {
    DOMAIN_OPT,
    {"parent", OPT_BOOL, FALSE, "add a column showing parent snapshot"},
    {"roots", OPT_BOOL, FALSE, "list only snapshots without parents"},
    {"leaves", OPT_BOOL, FALSE, "list only snapshots without children"},
    {"no-leaves", OPT_BOOL, FALSE, "list only snapshots that are not leaves (with children)"},
    {"inactive", OPT_BOOL, FALSE, "filter by snapshots taken while inactive"},
    {"active", OPT_BOOL, FALSE, "filter by snapshots taken while active (full system snapshots)"},
    {"disk-only", OPT_BOOL, FALSE, "filter by disk-only snapshots"},
    {"internal", OPT_BOOL, FALSE, "filter by internal snapshots"},
    {"external", OPT_BOOL, FALSE, "filter by external snapshots"},
    {"tree", OPT_BOOL, FALSE, "list snapshots in a tree"},
    {"from", OPT_STRING, FALSE, "limit list to children of given snapshot"},
    {"current", OPT_BOOL, FALSE, "limit list to children of current snapshot"},
    {"descendants", OPT_BOOL, FALSE, "with --from, list all descendants"},
    {"name", OPT_BOOL, FALSE, "list snapshot names only"},
    {NULL},
};
static const struct cli_opt dumpxml_opts[] = {
    DOMAIN_OPT,
    SNAP_OPT(TRUE),
    {"security-info", OPT_BOOL, FALSE, "include security sensitive information in XML dump"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt current_opts[] = {
    DOMAIN_OPT,
    {"name", OPT_BOOL, FALSE, "list the name, rather than the full xml"},
    {"security-info", OPT_BOOL, FALSE, "include security sensitive information in XML dump"},
    {NULL},
};
static const struct cli_opt info_opts[] = {
    DOMAIN_OPT,
    SNAP_OPT(FALSE),
    {"current", OPT_BOOL, FALSE, "info on current snapshot"},
    {NULL},
};
static const struct cli_opt parent_opts[] = {DOMAIN_OPT, SNAP_OPT(TRUE), {NULL}};
static const struct cli_opt revert_opts[] = {
    DOMAIN_OPT,
    SNAP_OPT(FALSE),
    {"current", OPT_BOOL, FALSE, "revert to current snapshot"},
    {"running", OPT_BOOL, FALSE, "after reverting, change state to running"},
    {"paused", OPT_BOOL, FALSE, "after reverting, change state to paused"},
    {"force", OPT_BOOL, FALSE, "try harder on risky reverts"},
    {"external", OPT_BOOL, FALSE, "revert onto external overlays given by --diskspec (seed form)"},
    {"memspec", OPT_STRING, FALSE, "the memory image to start from: [file=]name"},
    {"diskspec", OPT_LIST, FALSE,
     "disk[,backfile=image][,runfile=new overlay][,snapshot=external], once per disk"},
    {NULL},
};
static const struct cli_opt edit_opts[] = {
    DOMAIN_OPT,
    SNAP_OPT(FALSE),
    {"current", OPT_BOOL, FALSE, "also set edited snapshot as current"},
    {"rename", OPT_BOOL, FALSE, "allow renaming an existing snapshot"},
    {"clone", OPT_BOOL, FALSE, "allow cloning to new name"},
    {NULL},
};
static const struct cli_opt delete_opts[] = {
    DOMAIN_OPT,
    SNAP_OPT(TRUE),
    {"children", OPT_BOOL, FALSE, "delete snapshot and all children"},
    {"children-only", OPT_BOOL, FALSE, "delete children but not snapshot"},
    {"metadata", OPT_BOOL, FALSE, "delete only libvirt metadata, leaving snapshot contents behind"},
    {NULL},
};

const struct cli_cmd cli_snapshot_cmds[] = {
    {"snapshot-create-as", cmd_snapshot_create_as, create_as_opts,
     "Create a snapshot from a set of args"},
    {"snapshot-create", cmd_snapshot_create, create_opts, "Create a snapshot from XML"},
    {"snapshot-list", cmd_snapshot_list, list_opts, "List snapshots for a domain"},
    {"snapshot-dumpxml", cmd_snapshot_dumpxml, dumpxml_opts, "Dump XML for a domain snapshot"},
    {"snapshot-current", cmd_snapshot_current, current_opts, "Get the current snapshot"},
    {"snapshot-info", cmd_snapshot_info, info_opts, "snapshot information"},
    {"snapshot-parent", cmd_snapshot_parent, parent_opts,
     "Get the name of the parent of a snapshot"},
    {"snapshot-revert", cmd_snapshot_revert, revert_opts, "Revert a domain to a snapshot"},
    {"snapshot-edit", cmd_snapshot_edit, edit_opts, "edit XML for a snapshot"},
    {"snapshot-delete", cmd_snapshot_delete, delete_opts, "Delete a domain snapshot"},
    {NULL},
};
