/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devices: attach-device, detach-device, detach-device-alias, update-device, attach-disk,
 * detach-disk, change-media, blockresize and update-memory-device, with virsh's options, flag
 * rules and output. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "cli/cli.h"

/* virDomainModificationImpact, virDomainDeviceModifyFlags, virDomainBlockResizeFlags */
enum { AFFECT_CONFIG = 2, MODIFY_FORCE = 4 };
enum { RESIZE_BYTES = 1 };
enum { XML_INACTIVE = 2 };

static gboolean
device_from_file(struct cli_ctx *ctx,
                 gboolean (*call)(domus_domain *, const char *, unsigned, GError **),
                 gboolean legacy_live, const char *failure, const char *success, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, TRUE, legacy_live, &flags, error))
        return FALSE;
    if (cli_has(ctx, "force"))
        flags |= MODIFY_FORCE;
    g_autofree char *xml = cli_read_xml_file(file, error);
    if (!xml)
        return FALSE;
    if (!call(dom, xml, flags, error)) {
        cli_report(failure, file);
        return FALSE;
    }
    printf("%s\n\n", success);
    return TRUE;
}

static gboolean
cmd_attach_device(struct cli_ctx *ctx, GError **error)
{
    return device_from_file(ctx, domus_domain_attach_device, TRUE,
                            "Failed to attach device from %s", "Device attached successfully",
                            error);
}

static gboolean
cmd_detach_device(struct cli_ctx *ctx, GError **error)
{
    return device_from_file(ctx, domus_domain_detach_device, TRUE,
                            "Failed to detach device from %s", "Device detached successfully",
                            error);
}

static gboolean
cmd_update_device(struct cli_ctx *ctx, GError **error)
{
    return device_from_file(ctx, domus_domain_update_device, FALSE,
                            "Failed to update device from %s", "Device updated successfully",
                            error);
}

/* virsh update-memory-device: the memory device of the domain's XML (the only one, or the one
 * of --alias or --node) with its <requested> set to --requested-size (default KiB), sent to
 * update-device, or printed */
static gboolean
cmd_update_memory_device(struct cli_ctx *ctx, GError **error)
{
    if (cli_has(ctx, "node") && cli_has(ctx, "alias")) {
        cli_set_error(error, "Options --node and --alias are mutually exclusive");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, FALSE, FALSE, &flags, error))
        return FALSE;
    guint64 node = 0, bytes = 0;
    if (cli_has(ctx, "node") &&
        !g_ascii_string_to_unsigned(cli_get(ctx, "node"), 10, 0, G_MAXUINT32, &node, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <node> option is malformed or out of range",
                      cli_get(ctx, "node"));
        return FALSE;
    }
    if (cli_has(ctx, "requested-size") &&
        !cli_parse_scaled(cli_get(ctx, "requested-size"), 1024, &bytes, error))
        return FALSE;
    g_autofree char *xml =
        domus_domain_get_xml(dom, (flags & AFFECT_CONFIG) ? XML_INACTIVE : 0, error);
    if (!xml)
        return FALSE;
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    g_autofree char *expr =
        cli_has(ctx, "node")
            ? g_strdup_printf("/domain/devices/memory[./target/node='%u']", (unsigned)node)
        : cli_has(ctx, "alias")
            ? g_strdup_printf("/domain/devices/memory[./alias/@name='%s']", cli_get(ctx, "alias"))
            : g_strdup("/domain/devices/memory");
    xmlXPathContextPtr xp = doc ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObjectPtr obj = xp ? xmlXPathEvalExpression((const xmlChar *)expr, xp) : NULL;
    int n = obj && obj->type == XPATH_NODESET && obj->nodesetval ? obj->nodesetval->nodeNr : 0;
    xmlNodePtr mem = n == 1 ? obj->nodesetval->nodeTab[0] : NULL;
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(xp);
    if (n != 1) {
        cli_set_error(error, n ? "multiple memory devices found, use --alias or --node to "
                                 "select one"
                               : "no memory device found");
        xmlFreeDoc(doc);
        return FALSE;
    }
    if (cli_has(ctx, "requested-size")) {
        xmlNodePtr requested = NULL;
        for (xmlNodePtr t = mem->children; t; t = t->next)
            if (t->type == XML_ELEMENT_NODE && xmlStrEqual(t->name, (const xmlChar *)"target"))
                for (xmlNodePtr c = t->children; c; c = c->next)
                    if (c->type == XML_ELEMENT_NODE &&
                        xmlStrEqual(c->name, (const xmlChar *)"requested"))
                        requested = c;
        if (!requested) {
            cli_set_error(error, "virtio-mem device is missing <requested/>");
            xmlFreeDoc(doc);
            return FALSE;
        }
        g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT, (bytes + 1023) / 1024);
        xmlNodeSetContent(requested, (const xmlChar *)kib);
    }
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, mem, 0, 0);
    g_autofree char *device = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    /* virsh's line after a command */
    if (cli_has(ctx, "print-xml")) {
        printf("%s\n", device);
        return TRUE;
    }
    if (!domus_domain_update_device(dom, device, flags, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
cmd_detach_device_alias(struct cli_ctx *ctx, GError **error)
{
    const char *alias = cli_get(ctx, "alias");
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, FALSE, FALSE, &flags, error))
        return FALSE;
    if (!domus_domain_detach_device_alias(dom, alias, flags, error)) {
        cli_report("Failed to detach device with alias %s", alias);
        return FALSE;
    }
    printf("Device detach request sent successfully\n\n");
    return TRUE;
}

/* ---- disks in the domain XML ---- */

struct disk {
    char *type, *device, *driver, *format, *source, *target, *bus;
    gboolean readonly;
};

static void
disk_free(struct disk *d)
{
    g_free(d->type);
    g_free(d->device);
    g_free(d->driver);
    g_free(d->format);
    g_free(d->source);
    g_free(d->target);
    g_free(d->bus);
    g_free(d);
}

struct disk_parse {
    GPtrArray *disks;
    struct disk *cur;
    int depth; /* of the element under <disk> */
};

static const char *
attr(const char **names, const char **values, const char *name)
{
    for (int i = 0; names[i]; i++) {
        if (g_str_equal(names[i], name))
            return values[i];
    }
    return NULL;
}

static void
on_start(GMarkupParseContext *mctx, const char *name, const char **names, const char **values,
         gpointer data, GError **error)
{
    struct disk_parse *p = data;
    if (!p->cur && g_str_equal(name, "disk")) {
        const GSList *stack = g_markup_parse_context_get_element_stack(mctx);
        if (g_slist_length((GSList *)stack) != 3) /* domain/devices/disk, not a snapshot's */
            return;
        p->cur = g_new0(struct disk, 1);
        p->cur->type = g_strdup(attr(names, values, "type"));
        p->cur->device = g_strdup(attr(names, values, "device"));
        p->depth = 0;
        return;
    }
    if (!p->cur || p->depth++ != 0)
        return;
    if (g_str_equal(name, "driver")) {
        p->cur->driver = g_strdup(attr(names, values, "name"));
        p->cur->format = g_strdup(attr(names, values, "type"));
    } else if (g_str_equal(name, "source")) {
        /* virsh's choice: file, dev, dir, name, or a volume's name */
        static const char *const keys[] = {"file", "dev", "dir", "name", "volume"};
        const char *s = NULL;
        for (gsize k = 0; !s && k < G_N_ELEMENTS(keys); k++)
            s = attr(names, values, keys[k]);
        p->cur->source = g_strdup(s);
    } else if (g_str_equal(name, "target")) {
        p->cur->target = g_strdup(attr(names, values, "dev"));
        p->cur->bus = g_strdup(attr(names, values, "bus"));
    } else if (g_str_equal(name, "readonly")) {
        p->cur->readonly = TRUE;
    }
}

static void
on_end(GMarkupParseContext *mctx, const char *name, gpointer data, GError **error)
{
    struct disk_parse *p = data;
    if (!p->cur)
        return;
    if (p->depth > 0) {
        p->depth--;
        return;
    }
    if (g_str_equal(name, "disk"))
        g_ptr_array_add(p->disks, g_steal_pointer(&p->cur));
}

/* The disks of DOM's XML (the persistent one with INACTIVE), in order: a new array */
static GPtrArray *
parse_disks(domus_domain *dom, gboolean inactive, GError **error)
{
    g_autofree char *xml = domus_domain_get_xml(dom, inactive ? XML_INACTIVE : 0, error);
    if (!xml)
        return NULL;
    static const GMarkupParser parser = {on_start, on_end, NULL, NULL, NULL};
    struct disk_parse p = {g_ptr_array_new_with_free_func((GDestroyNotify)disk_free), NULL, 0};
    GMarkupParseContext *mctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
    gboolean ok = g_markup_parse_context_parse(mctx, xml, -1, error) &&
                  g_markup_parse_context_end_parse(mctx, error);
    g_markup_parse_context_free(mctx);
    g_clear_pointer(&p.cur, disk_free);
    if (!ok) {
        g_ptr_array_unref(p.disks);
        return NULL;
    }
    return p.disks;
}

/* The disk of DOM's XML (the persistent one with INACTIVE) whose target or source is PATH;
 * with CHANGEABLE only a cdrom. */
static struct disk *
find_disk(domus_domain *dom, gboolean inactive, const char *path, gboolean changeable,
          GError **error)
{
    g_autoptr(GPtrArray) disks = parse_disks(dom, inactive, error);
    if (!disks)
        return NULL;
    for (guint i = 0; i < disks->len; i++) {
        struct disk *d = disks->pdata[i];
        if (changeable && g_strcmp0(d->device, "cdrom") != 0)
            continue;
        if (g_strcmp0(d->target, path) == 0 || g_strcmp0(d->source, path) == 0)
            return g_ptr_array_steal_index(disks, i);
    }
    cli_set_error(error, "No disk found whose source path or target is %s", path);
    return NULL;
}

static gboolean
cmd_domblklist(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) disks = parse_disks(dom, cli_has(ctx, "inactive"), error);
    if (!disks)
        return FALSE;
    gboolean details = cli_has(ctx, "details");
    g_autoptr(GPtrArray) rows = details ? cli_table_new("Type", "Device", "Target", "Source", NULL)
                                        : cli_table_new("Target", "Source", NULL);
    for (guint i = 0; i < disks->len; i++) {
        const struct disk *d = disks->pdata[i];
        char *source = g_strdup(d->source ? d->source : "-");
        if (details)
            cli_table_add(rows, g_strdup(d->type ? d->type : ""),
                          g_strdup(d->device ? d->device : "disk"), g_strdup(d->target), source,
                          NULL);
        else
            cli_table_add(rows, g_strdup(d->target), source, NULL);
    }
    cli_table_print(rows);
    printf("\n");
    return TRUE;
}

/* A <disk> element naming D as the daemon finds it, with SOURCE as its media (NULL: none). */
static char *
disk_xml(const struct disk *d, const char *type, const char *source)
{
    GString *s = g_string_new(NULL);
    g_autofree char *head = g_markup_printf_escaped("<disk type='%s' device='%s'>", type,
                                                    d->device ? d->device : "disk");
    g_string_append(s, head);
    if (d->driver || d->format) {
        g_autofree char *drv =
            g_markup_printf_escaped("<driver name='%s' type='%s'/>", d->driver ? d->driver : "qemu",
                                    d->format ? d->format : "raw");
        g_string_append(s, drv);
    }
    if (source) {
        g_autofree char *src = g_markup_printf_escaped(
            "<source %s='%s'/>", g_str_equal(type, "block") ? "dev" : "file", source);
        g_string_append(s, src);
    }
    g_autofree char *target =
        d->bus ? g_markup_printf_escaped("<target dev='%s' bus='%s'/>", d->target, d->bus)
               : g_markup_printf_escaped("<target dev='%s'/>", d->target);
    g_string_append(s, target);
    if (d->readonly)
        g_string_append(s, "<readonly/>");
    g_string_append(s, "</disk>\n");
    return g_string_free(s, FALSE);
}

static gboolean
is_block(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

static gboolean
cmd_attach_disk(struct cli_ctx *ctx, GError **error)
{
    const char *source = cli_get(ctx, "source"), *target = cli_get(ctx, "target");
    const char *sourcetype = cli_get(ctx, "sourcetype"), *mode = cli_get(ctx, "mode");
    if (!sourcetype)
        sourcetype = is_block(source) ? "block" : "file";
    if (!g_str_equal(sourcetype, "file") && !g_str_equal(sourcetype, "block")) {
        cli_set_error(error, "Unknown source type: '%s'", sourcetype);
        return FALSE;
    }
    if (mode && !g_str_equal(mode, "readonly") && !g_str_equal(mode, "shareable")) {
        cli_set_error(error, "No support for %s in command 'attach-disk'", mode);
        return FALSE;
    }
    GString *s = g_string_new(NULL);
    g_autofree char *head =
        g_markup_printf_escaped("<disk type='%s' device='%s'>\n", sourcetype,
                                cli_get(ctx, "type") ? cli_get(ctx, "type") : "disk");
    g_string_append(s, head);
    if (cli_get(ctx, "driver") || cli_get(ctx, "subdriver") || cli_get(ctx, "cache")) {
        g_string_append(s, "  <driver");
        const char *keys[] = {"driver", "name", "subdriver", "type", "cache", "cache"};
        for (guint i = 0; i < G_N_ELEMENTS(keys); i += 2) {
            if (!cli_get(ctx, keys[i]))
                continue;
            g_autofree char *a =
                g_markup_printf_escaped(" %s='%s'", keys[i + 1], cli_get(ctx, keys[i]));
            g_string_append(s, a);
        }
        g_string_append(s, "/>\n");
    }
    g_autofree char *src = g_markup_printf_escaped(
        "  <source %s='%s'/>\n", g_str_equal(sourcetype, "block") ? "dev" : "file", source);
    g_string_append(s, src);
    g_autofree char *tgt = cli_get(ctx, "targetbus")
                               ? g_markup_printf_escaped("  <target dev='%s' bus='%s'/>\n", target,
                                                         cli_get(ctx, "targetbus"))
                               : g_markup_printf_escaped("  <target dev='%s'/>\n", target);
    g_string_append(s, tgt);
    if (mode)
        g_string_append_printf(s, "  <%s/>\n", mode);
    if (cli_get(ctx, "serial")) {
        g_autofree char *serial =
            g_markup_printf_escaped("  <serial>%s</serial>\n", cli_get(ctx, "serial"));
        g_string_append(s, serial);
    }
    if (cli_get(ctx, "alias")) {
        g_autofree char *alias =
            g_markup_printf_escaped("  <alias name='%s'/>\n", cli_get(ctx, "alias"));
        g_string_append(s, alias);
    }
    g_string_append(s, "</disk>\n");
    g_autofree char *xml = g_string_free(s, FALSE);
    if (cli_has(ctx, "print-xml")) {
        printf("%s", xml);
        return TRUE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, TRUE, TRUE, &flags, error))
        return FALSE;
    if (!domus_domain_attach_device(dom, xml, flags, error)) {
        cli_report("Failed to attach disk");
        return FALSE;
    }
    printf("Disk attached successfully\n\n");
    return TRUE;
}

static gboolean
cmd_detach_disk(struct cli_ctx *ctx, GError **error)
{
    const char *target = cli_get(ctx, "target");
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, TRUE, TRUE, &flags, error))
        return FALSE;
    struct disk *d = find_disk(dom, flags == AFFECT_CONFIG, target, FALSE, error);
    if (!d)
        return FALSE;
    g_autofree char *xml = disk_xml(d, d->type ? d->type : "file", d->source);
    disk_free(d);
    if (cli_has(ctx, "print-xml")) {
        printf("%s", xml);
        return TRUE;
    }
    if (!domus_domain_detach_device(dom, xml, flags, error)) {
        cli_report("Failed to detach disk");
        return FALSE;
    }
    printf("Disk detached successfully\n\n");
    return TRUE;
}

static gboolean
cmd_change_media(struct cli_ctx *ctx, GError **error)
{
    const char *path = cli_get(ctx, "path"), *source = cli_get(ctx, "source");
    gboolean eject = cli_has(ctx, "eject"), insert = cli_has(ctx, "insert");
    gboolean update = cli_has(ctx, "update"), block = cli_has(ctx, "block");
    const char *clash = eject && insert    ? "--eject and --insert"
                        : eject && update  ? "--eject and --update"
                        : insert && update ? "--insert and --update"
                        : eject && block   ? "--eject and --block"
                                           : NULL;
    if (clash) {
        cli_set_error(error, "Options %s are mutually exclusive", clash);
        return FALSE;
    }
    /* as virsh: an update without a source is an eject; no action given is an update */
    if (update && !source) {
        update = FALSE;
        eject = TRUE;
    }
    const char *action = eject ? "eject" : insert ? "insert" : "update";
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags;
    if (!dom || !cli_impact(ctx, dom, FALSE, FALSE, &flags, error))
        return FALSE;
    if (cli_has(ctx, "force"))
        flags |= MODIFY_FORCE;
    struct disk *d = find_disk(dom, (flags & AFFECT_CONFIG) != 0, path, TRUE, error);
    if (!d)
        return FALSE;
    g_autofree char *xml = NULL;
    if (eject && !d->source)
        cli_set_error(error, "The disk device '%s' doesn't have media", d->target);
    else if (!eject && !source)
        cli_set_error(error, "New disk media source was not specified");
    else if (insert && d->source)
        cli_set_error(error, "The disk device '%s' already has media", d->target);
    else
        xml = disk_xml(d, block ? "block" : "file", eject ? NULL : source);
    disk_free(d);
    if (!xml)
        return FALSE;
    if (cli_has(ctx, "print-xml")) {
        printf("%s", xml);
        return TRUE;
    }
    if (!domus_domain_update_device(dom, xml, flags, error)) {
        cli_report("Failed to complete action %s on media", action);
        return FALSE;
    }
    printf("%s\n\n", eject    ? "Successfully ejected media."
                     : insert ? "Successfully inserted media."
                              : "Successfully updated media.");
    return TRUE;
}

static gboolean
cmd_blockresize(struct cli_ctx *ctx, GError **error)
{
    const char *path = cli_get(ctx, "path"), *text = cli_get(ctx, "size");
    guint64 size;
    if (!cli_parse_scaled(text, 1024, &size, error)) {
        if (error && !*error)
            cli_set_error(error, "Unable to parse integer");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (!domus_domain_block_resize(dom, path, size, RESIZE_BYTES, error)) {
        cli_report("Failed to resize block device '%s'", path);
        return FALSE;
    }
    printf("Block device '%s' is resized\n", path);
    return TRUE;
}

static const struct cli_opt file_opts[] = {
    DOMAIN_OPT,
    {"file", OPT_DATA, TRUE, "XML file"},
    {"persistent", OPT_BOOL, FALSE, "make live change persistent"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt update_opts[] = {
    DOMAIN_OPT,
    {"file", OPT_DATA, TRUE, "XML file"},
    {"persistent", OPT_BOOL, FALSE, "make live change persistent"},
    CLI_IMPACT_OPTS,
    {"force", OPT_BOOL, FALSE, "force device update"},
    {NULL},
};
static const struct cli_opt update_memory_opts[] = {
    DOMAIN_OPT,
    CLI_IMPACT_OPTS,
    {"print-xml", OPT_BOOL, FALSE,
     "print updated memory device XML instead of executing the change"},
    {"alias", OPT_STRING, FALSE, "memory device alias"},
    {"node", OPT_STRING, FALSE, "memory device target node"},
    {"requested-size", OPT_STRING, FALSE,
     "new value of <requested/> size, as scaled integer (default KiB)"},
    {NULL},
};
static const struct cli_opt alias_opts[] = {
    DOMAIN_OPT,
    {"alias", OPT_DATA, TRUE, "device alias"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt attach_disk_opts[] = {
    DOMAIN_OPT,
    {"source", OPT_DATA, TRUE, "source of disk device or name of network disk"},
    {"target", OPT_DATA, TRUE, "target of disk device"},
    {"targetbus", OPT_STRING, FALSE, "target bus of disk device"},
    {"driver", OPT_STRING, FALSE, "driver of disk device"},
    {"subdriver", OPT_STRING, FALSE, "subdriver of disk device"},
    {"cache", OPT_STRING, FALSE, "cache mode of disk device"},
    {"type", OPT_STRING, FALSE, "target device type"},
    {"mode", OPT_STRING, FALSE, "mode of device reading and writing"},
    {"sourcetype", OPT_STRING, FALSE, "type of source (block|file)"},
    {"serial", OPT_STRING, FALSE, "serial of disk device"},
    {"alias", OPT_STRING, FALSE, "custom alias name of disk device"},
    {"print-xml", OPT_BOOL, FALSE, "print XML document rather than attach the disk"},
    {"persistent", OPT_BOOL, FALSE, "make live change persistent"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt detach_disk_opts[] = {
    DOMAIN_OPT,
    {"target", OPT_DATA, TRUE, "target of disk device"},
    {"persistent", OPT_BOOL, FALSE, "make live change persistent"},
    CLI_IMPACT_OPTS,
    {"print-xml", OPT_BOOL, FALSE, "print XML document rather than detach the disk"},
    {NULL},
};
static const struct cli_opt change_media_opts[] = {
    DOMAIN_OPT,
    {"path", OPT_DATA, TRUE, "Fully-qualified path or target of disk device"},
    {"source", OPT_DATA, FALSE, "source of the media"},
    {"eject", OPT_BOOL, FALSE, "Eject the media"},
    {"insert", OPT_BOOL, FALSE, "Insert the media"},
    {"update", OPT_BOOL, FALSE, "Update the media"},
    CLI_IMPACT_OPTS,
    {"force", OPT_BOOL, FALSE, "force media changing"},
    {"print-xml", OPT_BOOL, FALSE, "print XML document rather than change media"},
    {"block", OPT_BOOL, FALSE, "source media is a block device"},
    {NULL},
};
static const struct cli_opt blockresize_opts[] = {
    DOMAIN_OPT,
    {"path", OPT_DATA, TRUE, "Fully-qualified path of block device"},
    {"size", OPT_DATA, TRUE, "New size of the block device, as scaled integer (default KiB)"},
    {NULL},
};

static const struct cli_opt domblklist_opts[] = {
    DOMAIN_OPT,
    {"inactive", OPT_BOOL, FALSE, "get inactive rather than running configuration"},
    {"details", OPT_BOOL, FALSE, "additionally display the type and device value"},
    {NULL},
};

const struct cli_cmd cli_device_cmds[] = {
    {"attach-device", cmd_attach_device, file_opts, "attach device from an XML file"},
    {"attach-disk", cmd_attach_disk, attach_disk_opts, "attach disk device"},
    {"blockresize", cmd_blockresize, blockresize_opts, "Resize block device of domain."},
    {"change-media", cmd_change_media, change_media_opts, "Change media of CD or floppy drive"},
    {"detach-device", cmd_detach_device, file_opts, "detach device from an XML file"},
    {"detach-device-alias", cmd_detach_device_alias, alias_opts, "detach device from an alias"},
    {"detach-disk", cmd_detach_disk, detach_disk_opts, "detach disk device"},
    {"domblklist", cmd_domblklist, domblklist_opts, "list all domain blocks"},
    {"update-device", cmd_update_device, update_opts, "update device from an XML file"},
    {"update-memory-device", cmd_update_memory_device, update_memory_opts,
     "update memory device of a domain"},
    {NULL},
};
