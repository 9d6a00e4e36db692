/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint: virsh's checkpoint-* and backup-* commands, options and output. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void
append_escaped(GString *xml, const char *fmt, const char *value)
{
    g_autofree char *e = g_markup_escape_text(value, -1);
    g_string_append_printf(xml, fmt, e);
}

/* --diskspec disk[,checkpoint=type][,bitmap=name] as <disk .../> */
static gboolean
append_diskspec(GString *xml, const char *spec, GError **error)
{
    static const char *const keys[] = {"name", "checkpoint", "bitmap", NULL};
    g_autoptr(GHashTable) t = cli_parse_spec(spec, "name", keys, "diskspec", error);
    if (!t)
        return FALSE;
    append_escaped(xml, "    <disk name='%s'", g_hash_table_lookup(t, "name"));
    if (g_hash_table_lookup(t, "checkpoint"))
        append_escaped(xml, " checkpoint='%s'", g_hash_table_lookup(t, "checkpoint"));
    if (g_hash_table_lookup(t, "bitmap"))
        append_escaped(xml, " bitmap='%s'", g_hash_table_lookup(t, "bitmap"));
    g_string_append(xml, "/>\n");
    return TRUE;
}

static unsigned
create_flags(struct cli_ctx *ctx)
{
    return (cli_has(ctx, "redefine") ? DOMUS_CHECKPOINT_CREATE_REDEFINE : 0) |
           (cli_has(ctx, "quiesce") ? DOMUS_CHECKPOINT_CREATE_QUIESCE : 0) |
           (cli_has(ctx, "redefine-validate") ? DOMUS_CHECKPOINT_CREATE_REDEFINE_VALIDATE : 0);
}

static gboolean
create(struct cli_ctx *ctx, const char *xml, const char *file, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    g_autofree char *made =
        dom ? domus_checkpoint_create_xml(dom, xml, create_flags(ctx), error) : NULL;
    if (!made)
        return FALSE;
    if (file)
        printf("Domain checkpoint %s created from '%s'\n\n", made, file);
    else
        printf("Domain checkpoint %s created\n\n", made);
    return TRUE;
}

static gboolean
cmd_checkpoint_create_as(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(GString) xml = g_string_new("<domaincheckpoint>\n");
    g_auto(GStrv) diskspecs = cli_get_list(ctx, "diskspec");
    if (cli_get(ctx, "name"))
        append_escaped(xml, "  <name>%s</name>\n", cli_get(ctx, "name"));
    if (cli_get(ctx, "description"))
        append_escaped(xml, "  <description>%s</description>\n", cli_get(ctx, "description"));
    if (diskspecs[0]) {
        g_string_append(xml, "  <disks>\n");
        for (guint i = 0; diskspecs[i]; i++)
            if (!append_diskspec(xml, diskspecs[i], error))
                return FALSE;
        g_string_append(xml, "  </disks>\n");
    }
    g_string_append(xml, "</domaincheckpoint>\n");
    if (cli_has(ctx, "print-xml")) {
        printf("%s\n\n", xml->str);
        return TRUE;
    }
    return create(ctx, xml->str, NULL, error);
}

static gboolean
cmd_checkpoint_create(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "xmlfile");
    if (cli_has(ctx, "redefine-validate") && !cli_has(ctx, "redefine")) {
        cli_set_error(error, "Option --redefine is required by option --redefine-validate");
        return FALSE;
    }
    g_autofree char *xml = file ? cli_read_xml_file(file, error) : g_strdup("<domaincheckpoint/>");
    return xml && create(ctx, xml, file, error);
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(*(char *const *)a, *(char *const *)b);
}

static gboolean
cmd_checkpoint_list(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    const char *from = cli_get(ctx, "from");
    unsigned flags = (cli_has(ctx, "roots") ? DOMUS_CHECKPOINT_LIST_ROOTS : 0) |
                     (cli_has(ctx, "leaves") ? DOMUS_CHECKPOINT_LIST_LEAVES : 0) |
                     (cli_has(ctx, "no-leaves") ? DOMUS_CHECKPOINT_LIST_NO_LEAVES : 0) |
                     (cli_has(ctx, "topological") ? DOMUS_CHECKPOINT_LIST_TOPOLOGICAL : 0);
    if (from && cli_has(ctx, "descendants"))
        flags |= DOMUS_CHECKPOINT_LIST_DESCENDANTS;
    g_auto(GStrv) names = domus_checkpoint_list(dom, from, flags, error);
    if (!names)
        return FALSE;
    guint n = g_strv_length(names);
    /* as virsh: by name, unless asked for the topological order */
    if (!cli_has(ctx, "topological"))
        qsort(names, n, sizeof(char *), (int (*)(const void *, const void *))by_name);
    g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++) {
        char *xml = domus_checkpoint_get_xml(dom, names[i], DOMUS_CHECKPOINT_XML_NO_DOMAIN, error);
        if (!xml)
            return FALSE;
        g_autofree char *block = cli_xml_field(xml, "parent");
        g_ptr_array_add(xmls, xml);
        g_ptr_array_add(parents, block ? cli_xml_field(block, "name") : NULL);
    }
    if (cli_has(ctx, "tree")) {
        g_autoptr(GString) indent = g_string_new(NULL);
        for (guint i = 0; i < n; i++) {
            const char *parent = parents->pdata[i];
            if (!parent || !g_strv_contains((const char *const *)names, parent))
                cli_tree_print(names, (char **)parents->pdata, n, i, i, TRUE, indent);
        }
    } else if (cli_has(ctx, "name")) {
        for (guint i = 0; i < n; i++)
            printf("%s\n", names[i]);
    } else {
        gboolean with_parent = cli_has(ctx, "parent");
        g_autoptr(GPtrArray) rows = with_parent
                                        ? cli_table_new("Name", "Creation Time", "Parent", NULL)
                                        : cli_table_new("Name", "Creation Time", NULL);
        for (guint i = 0; i < n; i++) {
            const char *parent = parents->pdata[i];
            if (with_parent)
                cli_table_add(rows, g_strdup(names[i]), cli_creation_time(xmls->pdata[i]),
                              g_strdup(parent ? parent : ""), NULL);
            else
                cli_table_add(rows, g_strdup(names[i]), cli_creation_time(xmls->pdata[i]), NULL);
        }
        cli_table_print(rows);
    }
    printf("\n");
    return TRUE;
}

static gboolean
cmd_checkpoint_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags = (cli_has(ctx, "security-info") ? DOMUS_CHECKPOINT_XML_SECURE : 0) |
                     (cli_has(ctx, "no-domain") ? DOMUS_CHECKPOINT_XML_NO_DOMAIN : 0) |
                     (cli_has(ctx, "size") ? DOMUS_CHECKPOINT_XML_SIZE : 0);
    g_autofree char *xml =
        dom ? domus_checkpoint_get_xml(dom, cli_get(ctx, "checkpointname"), flags, error) : NULL;
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_checkpoint_info(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    const char *name = cli_get(ctx, "checkpointname");
    g_autofree char *xml = dom ? domus_checkpoint_get_xml(dom, name, 0, error) : NULL;
    if (!xml)
        return FALSE;
    g_autofree char *block = cli_xml_field(xml, "parent");
    g_autofree char *parent = block ? cli_xml_field(block, "name") : NULL;
    g_auto(GStrv) children = domus_checkpoint_list(dom, name, 0, error);
    g_auto(GStrv) descendants =
        children ? domus_checkpoint_list(dom, name, DOMUS_CHECKPOINT_LIST_DESCENDANTS, error)
                 : NULL;
    if (!descendants)
        return FALSE;
    printf("%-15s %s\n", "Name:", name);
    printf("%-15s %s\n", "Domain:", domus_domain_get_name(dom));
    printf("%-15s %s\n", "Parent:", parent ? parent : "-");
    printf("%-15s %u\n", "Children:", g_strv_length(children));
    printf("%-15s %u\n\n", "Descendants:", g_strv_length(descendants));
    return TRUE;
}

static gboolean
cmd_checkpoint_parent(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    const char *name = cli_get(ctx, "checkpointname");
    g_autoptr(GError) err = NULL;
    g_autofree char *parent = domus_checkpoint_parent(dom, name, &err);
    if (!parent && err && err->code == 103 /* VIR_ERR_NO_DOMAIN_CHECKPOINT: a root */) {
        cli_set_error(error, "checkpoint '%s' has no parent", name);
        return FALSE;
    }
    if (!parent) {
        g_propagate_error(error, g_steal_pointer(&err));
        return FALSE;
    }
    printf("%s\n", parent);
    return TRUE;
}

static gboolean
cmd_checkpoint_delete(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    const char *name = cli_get(ctx, "checkpointname");
    unsigned flags = (cli_has(ctx, "children") ? DOMUS_CHECKPOINT_DELETE_CHILDREN : 0) |
                     (cli_has(ctx, "children-only") ? DOMUS_CHECKPOINT_DELETE_CHILDREN_ONLY : 0) |
                     (cli_has(ctx, "metadata") ? DOMUS_CHECKPOINT_DELETE_METADATA_ONLY : 0);
    if (!dom || !domus_checkpoint_delete(dom, name, flags, error))
        return FALSE;
    if (flags & DOMUS_CHECKPOINT_DELETE_CHILDREN_ONLY)
        printf("Domain checkpoint %s children deleted\n\n", name);
    else
        printf("Domain checkpoint %s deleted\n\n", name);
    return TRUE;
}

/* virsh checkpoint-edit: the XML in an editor, redefined; a checkpoint cannot be renamed
 * (the bitmaps bear its name) */
static gboolean
cmd_checkpoint_edit(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    const char *name = cli_get(ctx, "checkpointname");
    g_autofree char *xml =
        dom ? domus_checkpoint_get_xml(dom, name, DOMUS_CHECKPOINT_XML_SECURE, error) : NULL;
    g_autofree char *edited = xml ? cli_edit_xml(xml, error) : NULL;
    if (!edited)
        return FALSE;
    if (g_str_equal(xml, edited)) {
        printf("Checkpoint %s XML configuration not changed.\n\n", name);
        return TRUE;
    }
    g_autofree char *made =
        domus_checkpoint_create_xml(dom, edited, DOMUS_CHECKPOINT_CREATE_REDEFINE, error);
    if (!made) {
        cli_report("Failed to update %s", name);
        return FALSE;
    }
    if (!g_str_equal(made, name)) {
        /* virsh's way: the new one goes again */
        if (!domus_checkpoint_delete(dom, made, DOMUS_CHECKPOINT_DELETE_METADATA_ONLY, error)) {
            cli_report("Failed to clean up %s", made);
            return FALSE;
        }
        cli_report("Cannot rename checkpoint %s to %s", name, made);
        cli_set_error(error, "Failed to update %s", name);
        return FALSE;
    }
    printf("Checkpoint %s edited.\n\n", name);
    return TRUE;
}

static gboolean
cmd_backup_begin(struct cli_ctx *ctx, GError **error)
{
    const char *bfile = cli_get(ctx, "backupxml"), *cfile = cli_get(ctx, "checkpointxml");
    g_autofree char *backup = bfile ? cli_read_xml_file(bfile, error) : g_strdup("<domainbackup/>");
    g_autofree char *checkpoint = cfile && backup ? cli_read_xml_file(cfile, error) : NULL;
    if (!backup || (cfile && !checkpoint))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags = cli_has(ctx, "reuse-external") ? DOMUS_BACKUP_REUSE_EXTERNAL : 0;
    if (!dom || !domus_backup_begin(dom, backup, checkpoint, flags, error))
        return FALSE;
    printf("Backup started\n\n");
    return TRUE;
}

static gboolean
cmd_backup_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    g_autofree char *xml = dom ? domus_backup_get_xml(dom, 0, error) : NULL;
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

#define CHECKPOINT_OPT(help)                                                                       \
    {                                                                                              \
        "checkpointname", OPT_STRING, TRUE, help                                                   \
    }

static const struct cli_opt create_as_opts[] = {
    DOMAIN_OPT,
    {"name", OPT_STRING, FALSE, "name of checkpoint"},
    {"description", OPT_STRING, FALSE, "description of checkpoint"},
    {"print-xml", OPT_BOOL, FALSE, "print XML document rather than create"},
    {"quiesce", OPT_BOOL, FALSE, "quiesce guest's file systems"},
    {"diskspec", OPT_LIST, FALSE, "disk attributes: disk[,checkpoint=type][,bitmap=name]"},
    {NULL},
};
static const struct cli_opt create_opts[] = {
    DOMAIN_OPT,
    {"xmlfile", OPT_STRING, FALSE, "domain checkpoint XML"},
    {"redefine", OPT_BOOL, FALSE, "redefine metadata for existing checkpoint"},
    {"redefine-validate", OPT_BOOL, FALSE, "validate the redefined checkpoint"},
    {"quiesce", OPT_BOOL, FALSE, "quiesce guest's file systems"},
    {NULL},
};
static const struct cli_opt list_opts[] = {
    DOMAIN_OPT,
    {"parent", OPT_BOOL, FALSE, "add a column showing parent checkpoint"},
    {"roots", OPT_BOOL, FALSE, "list only checkpoints without parents"},
    {"leaves", OPT_BOOL, FALSE, "list only checkpoints without children"},
    {"no-leaves", OPT_BOOL, FALSE, "list only checkpoints that are not leaves (with children)"},
    {"tree", OPT_BOOL, FALSE, "list checkpoints in a tree"},
    {"from", OPT_STRING, FALSE, "limit list to children of given checkpoint"},
    {"descendants", OPT_BOOL, FALSE, "with --from, list all descendants"},
    {"name", OPT_BOOL, FALSE, "list checkpoint names only"},
    {"topological", OPT_BOOL, FALSE, "sort list topologically rather than by name"},
    {NULL},
};
static const struct cli_opt dumpxml_opts[] = {
    DOMAIN_OPT,
    CHECKPOINT_OPT("checkpoint name"),
    {"security-info", OPT_BOOL, FALSE, "include security sensitive information in XML dump"},
    {"no-domain", OPT_BOOL, FALSE, "exclude <domain> from XML"},
    {"size", OPT_BOOL, FALSE, "include backup size estimate in XML dump"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt info_opts[] = {DOMAIN_OPT, CHECKPOINT_OPT("checkpoint name"), {NULL}};
static const struct cli_opt edit_opts[] = {DOMAIN_OPT, CHECKPOINT_OPT("checkpoint name"), {NULL}};
static const struct cli_opt parent_opts[] = {
    DOMAIN_OPT, CHECKPOINT_OPT("find parent of checkpoint name"), {NULL}};
static const struct cli_opt delete_opts[] = {
    DOMAIN_OPT,
    CHECKPOINT_OPT("checkpoint name"),
    {"children", OPT_BOOL, FALSE, "delete checkpoint and all children"},
    {"children-only", OPT_BOOL, FALSE, "delete children but not checkpoint"},
    {"metadata", OPT_BOOL, FALSE,
     "delete only libvirt metadata, leaving checkpoint contents behind"},
    {NULL},
};
static const struct cli_opt backup_begin_opts[] = {
    DOMAIN_OPT,
    {"backupxml", OPT_STRING, FALSE, "domain backup XML"},
    {"checkpointxml", OPT_STRING, FALSE, "domain checkpoint XML"},
    {"reuse-external", OPT_BOOL, FALSE, "reuse files provided by caller"},
    {NULL},
};
static const struct cli_opt backup_dumpxml_opts[] = {DOMAIN_OPT, CLI_XPATH_OPTS, {NULL}};

const struct cli_cmd cli_checkpoint_cmds[] = {
    {"checkpoint-create", cmd_checkpoint_create, create_opts, "Create a checkpoint from XML"},
    {"checkpoint-create-as", cmd_checkpoint_create_as, create_as_opts,
     "Create a checkpoint from a set of args"},
    {"checkpoint-delete", cmd_checkpoint_delete, delete_opts, "Delete a domain checkpoint"},
    {"checkpoint-dumpxml", cmd_checkpoint_dumpxml, dumpxml_opts,
     "Dump XML for a domain checkpoint"},
    {"checkpoint-edit", cmd_checkpoint_edit, edit_opts, "edit XML for a checkpoint"},
    {"checkpoint-info", cmd_checkpoint_info, info_opts, "checkpoint information"},
    {"checkpoint-list", cmd_checkpoint_list, list_opts, "List checkpoints for a domain"},
    {"checkpoint-parent", cmd_checkpoint_parent, parent_opts,
     "Get the name of the parent of a checkpoint"},
    {"backup-begin", cmd_backup_begin, backup_begin_opts, "Start a disk backup of a live domain"},
    {"backup-dumpxml", cmd_backup_dumpxml, backup_dumpxml_opts,
     "Dump XML for an ongoing domain block backup job"},
    {NULL},
};
