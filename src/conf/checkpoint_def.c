/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint_def: libvirt's <domaincheckpoint> (docs/formatcheckpoint.rst: name, description,
 * parent, creationTime, disks, the domain) and <domainbackup> (docs/formatbackup.rst); prefixes
 * checkpoint_def_ and backup_def_. */
#include "conf/checkpoint_def.h"

#include <libxml/parser.h>
#include <string.h>

#include "conf/xml_util.h"
#include "util/err.h"

#define CHECKPOINT_DEF_XML_MAX_BYTES (8 * 1024 * 1024)
#define ORIGIN ERR_FROM_DOMAIN_CHECKPOINT
#define BACKUP_ORIGIN ERR_FROM_DOMAIN

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

void
checkpoint_disk_free(struct checkpoint_disk *d)
{
    g_free(d->name);
    g_free(d->bitmap_name);
    g_free(d);
}

void
checkpoint_def_free(struct checkpoint_def *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->description);
    g_free(def->parent);
    if (def->disks)
        g_ptr_array_unref(def->disks);
    domain_def_free(def->dom);
    g_free(def);
}

struct checkpoint_disk *
checkpoint_def_disk(const struct checkpoint_def *def, const char *target)
{
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        struct checkpoint_disk *d = def->disks->pdata[i];
        if (g_str_equal(d->name, target))
            return d;
    }
    return NULL;
}

/* libvirt's schema for checkpoint and bitmap names: letters, digits, '_', '-' and '.', not
 * starting with '.' (the name is a file name and a QEMU bitmap name too) */
static gboolean
name_valid(const char *name)
{
    if (!*name || *name == '.' || strlen(name) > 255)
        return FALSE;
    for (const char *c = name; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("_-.", *c))
            return FALSE;
    return TRUE;
}

static gboolean
parse_disk(GPtrArray *disks, xmlNodePtr node, gboolean redefine, GError **error)
{
    static const char *const attrs[] = {"name", "checkpoint", "bitmap", "size", NULL};
    if (!xml_util_check_attrs(ORIGIN, node, attrs, error))
        return FALSE;
    if (node->children) {
        for (xmlNodePtr c = node->children; c; c = c->next)
            if (!xml_util_ignorable(c))
                return xml_util_unsupported(ORIGIN, node, c, error);
    }
    struct checkpoint_disk *d = g_new0(struct checkpoint_disk, 1);
    g_ptr_array_add(disks, d);
    d->name = xml_util_prop(node, "name");
    if (!d->name || !*d->name) {
        err_set(error, ORIGIN, ERR_XML_ERROR, "a checkpoint <disk> lacks its name");
        return FALSE;
    }
    g_autofree char *kind = xml_util_prop(node, "checkpoint");
    if (kind && !g_str_equal(kind, "bitmap") && !g_str_equal(kind, "no")) {
        err_set(error, ORIGIN, ERR_XML_ERROR,
                "unknown checkpoint type '%s' for disk '%s': it is 'bitmap' or 'no'", kind,
                d->name);
        return FALSE;
    }
    d->bitmap = !kind || g_str_equal(kind, "bitmap");
    d->bitmap_name = xml_util_prop(node, "bitmap");
    if (d->bitmap_name && !d->bitmap) {
        err_set(error, ORIGIN, ERR_XML_ERROR, "disk '%s' has a bitmap but checkpoint='no'",
                d->name);
        return FALSE;
    }
    if (d->bitmap_name && !name_valid(d->bitmap_name)) {
        err_set(error, ORIGIN, ERR_XML_ERROR, "invalid bitmap name '%s' for disk '%s'",
                d->bitmap_name, d->name);
        return FALSE;
    }
    /* a size is what the daemon reports (--size): read back only on redefine, then ignored */
    (void)redefine;
    return TRUE;
}

static gboolean
parse_internal(struct checkpoint_def *def, xmlDocPtr doc, xmlNodePtr c, GError **error)
{
    if (xml_util_is(c, "creationTime")) {
        if (!xml_util_creation_time(ORIGIN, c, &def->creation_time, error))
            return FALSE;
    } else if (xml_util_is(c, "parent")) {
        if (!xml_util_parent_name(ORIGIN, c, &def->parent, error))
            return FALSE;
    } else if (xml_util_is(c, "domain")) {
        g_autoptr(xmlBuffer) buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, c, 0, 0);
        domain_def_free(def->dom);
        def->dom = domain_def_parse((const char *)xmlBufferContent(buf), 0, error);
        if (!def->dom) {
            g_prefix_error(error, "the checkpoint's domain: ");
            return FALSE;
        }
    }
    return TRUE;
}

struct checkpoint_def *
checkpoint_def_parse(const char *xml, unsigned flags, GError **error)
{
    g_autoptr(xmlDoc) doc = xml_util_read_document(ORIGIN, xml, CHECKPOINT_DEF_XML_MAX_BYTES,
                                                   "domain checkpoint", "domaincheckpoint", error);
    if (!doc)
        return NULL;
    gboolean redefine = (flags & CHECKPOINT_DEF_PARSE_REDEFINE) != 0;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autoptr(checkpoint_def) def = g_new0(struct checkpoint_def, 1);
    static const char *const internal[] = {"creationTime", "parent", "domain", NULL};
    xmlNodePtr seen_disks = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (xml_util_is(c, "name")) {
            if (!xml_util_text_once(ORIGIN, c, &def->name, error))
                return NULL;
        } else if (xml_util_is(c, "description")) {
            if (!xml_util_text_once(ORIGIN, c, &def->description, error))
                return NULL;
        } else if (xml_util_is(c, "disks")) {
            if (!xml_util_once(ORIGIN, &seen_disks, c, error))
                return NULL;
            def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)checkpoint_disk_free);
            for (xmlNodePtr n = c->children; n; n = n->next) {
                if (xml_util_ignorable(n))
                    continue;
                if (!xml_util_is(n, "disk")) {
                    xml_util_unsupported(ORIGIN, c, n, error);
                    return NULL;
                }
                if (!parse_disk(def->disks, n, redefine, error))
                    return NULL;
            }
        } else if (c->type == XML_ELEMENT_NODE && !c->ns &&
                   xml_util_lookup(internal, (const char *)c->name) >= 0) {
            if (redefine && !parse_internal(def, doc, c, error))
                return NULL;
        } else {
            xml_util_unsupported(ORIGIN, root, c, error);
            return NULL;
        }
    }
    if (def->name && !name_valid(def->name)) {
        err_set(error, ORIGIN, ERR_XML_ERROR,
                "invalid checkpoint name '%s': use letters, digits, '_', '-' and '.', not "
                "first",
                def->name);
        return NULL;
    }
    if (redefine && !def->name) {
        err_set(error, ORIGIN, ERR_XML_ERROR, "a redefined checkpoint must have a name");
        return NULL;
    }
    return g_steal_pointer(&def);
}

static void
append_element(GString *s, const char *indent, const char *name, const char *text)
{
    g_string_append_printf(s, "%s<%s>", indent, name);
    xml_util_append_escaped(s, text);
    g_string_append_printf(s, "</%s>\n", name);
}

char *
checkpoint_def_format(const struct checkpoint_def *def, unsigned flags)
{
    GString *s = g_string_new("<domaincheckpoint>\n");
    append_element(s, "  ", "name", def->name);
    if (def->description)
        append_element(s, "  ", "description", def->description);
    if (def->parent) {
        g_string_append(s, "  <parent>\n");
        append_element(s, "    ", "name", def->parent);
        g_string_append(s, "  </parent>\n");
    }
    g_string_append_printf(s, "  <creationTime>%" G_GINT64_FORMAT "</creationTime>\n",
                           def->creation_time);
    if (def->disks && def->disks->len) {
        g_string_append(s, "  <disks>\n");
        for (guint i = 0; i < def->disks->len; i++) {
            const struct checkpoint_disk *d = def->disks->pdata[i];
            g_string_append(s, "    <disk name='");
            xml_util_append_escaped_attr(s, d->name);
            g_string_append_printf(s, "' checkpoint='%s'", d->bitmap ? "bitmap" : "no");
            if (d->bitmap && d->bitmap_name) {
                g_string_append(s, " bitmap='");
                xml_util_append_escaped_attr(s, d->bitmap_name);
                g_string_append(s, "'");
            }
            if (d->bitmap && (flags & CHECKPOINT_DEF_FORMAT_SIZE))
                g_string_append_printf(s, " size='%" G_GUINT64_FORMAT "'", d->size);
            g_string_append(s, "/>\n");
        }
        g_string_append(s, "  </disks>\n");
    }
    if (def->dom && !(flags & CHECKPOINT_DEF_FORMAT_NO_DOMAIN)) {
        unsigned fmt = DOMAIN_DEF_FORMAT_INACTIVE;
        if (flags & CHECKPOINT_DEF_FORMAT_SECURE)
            fmt |= DOMAIN_DEF_FORMAT_SECURE;
        g_autofree char *dom = domain_def_format(def->dom, -1, fmt);
        g_auto(GStrv) lines = g_strsplit(dom, "\n", -1);
        for (int i = 0; lines[i]; i++)
            if (*lines[i])
                g_string_append_printf(s, "  %s\n", lines[i]);
    }
    g_string_append(s, "</domaincheckpoint>\n");
    return g_string_free(s, FALSE);
}

/* --- backups --- */

void
backup_disk_free(struct backup_disk *d)
{
    g_free(d->name);
    g_free(d->incremental);
    g_free(d->target);
    g_free(d->format);
    g_free(d->exportname);
    g_free(d->exportbitmap);
    g_free(d);
}

void
backup_def_free(struct backup_def *def)
{
    if (!def)
        return;
    g_free(def->incremental);
    g_free(def->server_name);
    g_free(def->server_socket);
    if (def->disks)
        g_ptr_array_unref(def->disks);
    g_free(def);
}

struct backup_disk *
backup_def_disk(const struct backup_def *def, const char *target)
{
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        struct backup_disk *d = def->disks->pdata[i];
        if (g_str_equal(d->name, target))
            return d;
    }
    return NULL;
}

/* ATTR of NODE among NAMES (NULL-terminated) into *RET (index; unchanged when absent) */
static gboolean
backup_choice(xmlNodePtr node, const char *attr, const char *const *names, int *ret, GError **error)
{
    g_autofree char *v = xml_util_prop(node, attr);
    if (!v)
        return TRUE;
    int i = xml_util_lookup(names, v);
    if (i < 0) {
        err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR, "invalid %s '%s' in <%s>", attr, v,
                (const char *)node->name);
        return FALSE;
    }
    *ret = i;
    return TRUE;
}

static gboolean
parse_backup_disk(struct backup_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"name",         "backup", "backupmode",
                                        "incremental",  "type",   "exportname",
                                        "exportbitmap", "index",  NULL};
    static const char *const yes_no[] = {"no", "yes", NULL};
    static const char *const modes[] = {"", "full", "incremental", NULL};
    static const char *const types[] = {"file", "block", NULL};
    if (!xml_util_check_attrs(BACKUP_ORIGIN, node, attrs, error))
        return FALSE;
    struct backup_disk *d = g_new0(struct backup_disk, 1);
    g_ptr_array_add(def->disks, d);
    d->name = xml_util_prop(node, "name");
    if (!d->name || !*d->name) {
        err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR, "a backup <disk> lacks its name");
        return FALSE;
    }
    for (guint i = 0; i + 1 < def->disks->len; i++) {
        if (g_str_equal(((struct backup_disk *)def->disks->pdata[i])->name, d->name)) {
            err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR, "disk '%s' specified twice", d->name);
            return FALSE;
        }
    }
    int backup = 1, mode = 0, type = 0;
    if (!backup_choice(node, "backup", yes_no, &backup, error) ||
        !backup_choice(node, "backupmode", modes, &mode, error) ||
        !backup_choice(node, "type", types, &type, error))
        return FALSE;
    d->backup = backup == 1;
    d->mode = (enum backup_mode)mode;
    d->block = type == 1;
    d->incremental = xml_util_prop(node, "incremental");
    d->exportname = xml_util_prop(node, "exportname");
    d->exportbitmap = xml_util_prop(node, "exportbitmap");
    xmlNodePtr seen_target = NULL, seen_driver = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (xml_util_is(c, def->pull ? "scratch" : "target")) {
            static const char *const target_attrs[] = {"file", "dev", NULL};
            if (!xml_util_once(BACKUP_ORIGIN, &seen_target, c, error) ||
                !xml_util_check_attrs(BACKUP_ORIGIN, c, target_attrs, error))
                return FALSE;
            d->target = xml_util_prop(c, d->block ? "dev" : "file");
            if (!d->target || !g_path_is_absolute(d->target)) {
                err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR,
                        "the %s of disk '%s' needs an absolute '%s'",
                        def->pull ? "scratch" : "target", d->name, d->block ? "dev" : "file");
                return FALSE;
            }
        } else if (xml_util_is(c, "driver")) {
            static const char *const driver_attrs[] = {"type", NULL};
            if (!xml_util_once(BACKUP_ORIGIN, &seen_driver, c, error) ||
                !xml_util_check_attrs(BACKUP_ORIGIN, c, driver_attrs, error))
                return FALSE;
            d->format = xml_util_prop(c, "type");
            if (d->format && !g_str_equal(d->format, "qcow2") &&
                (def->pull || !g_str_equal(d->format, "raw"))) {
                err_set(error, BACKUP_ORIGIN, ERR_CONFIG_UNSUPPORTED,
                        "backup of disk '%s': format '%s' is not supported; use %s", d->name,
                        d->format, def->pull ? "'qcow2'" : "'qcow2' or 'raw'");
                return FALSE;
            }
        } else {
            return xml_util_unsupported(BACKUP_ORIGIN, node, c, error);
        }
    }
    return TRUE;
}

/* <server>: a unix socket or a TCP address, with or without TLS */
static gboolean
parse_backup_server(struct backup_def *def, xmlNodePtr node, GError **error)
{
    static const char *const transports[] = {"tcp", "unix", "rdma", NULL};
    static const char *const yes_no[] = {"no", "yes", NULL};
    int transport = 0, tls = 0;
    if (!backup_choice(node, "transport", transports, &transport, error) ||
        !backup_choice(node, "tls", yes_no, &tls, error))
        return FALSE;
    if (transport == 2) {
        err_set(error, BACKUP_ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "transport 'rdma' is not supported for a backup's NBD server; use 'unix' or 'tcp'");
        return FALSE;
    }
    def->server_tls = tls == 1;
    def->server_unix = transport == 1;
    if (def->server_unix) {
        def->server_socket = xml_util_prop(node, "socket");
        if (!def->server_socket || !g_path_is_absolute(def->server_socket)) {
            err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR, "backup socket path '%s' must be absolute",
                    def->server_socket ? def->server_socket : "");
            return FALSE;
        }
        return TRUE;
    }
    def->server_name = xml_util_prop(node, "name");
    if (!def->server_name || !*def->server_name) {
        g_free(def->server_name);
        def->server_name = g_strdup("localhost");
    }
    g_autofree char *port = xml_util_prop(node, "port");
    guint64 n = 0;
    if (!port) {
        err_set(error, BACKUP_ORIGIN, ERR_OPERATION_UNSUPPORTED,
                "<domainbackup> must specify TCP port for now");
        return FALSE;
    }
    if (!g_ascii_string_to_unsigned(port, 10, 1, 65535, &n, NULL)) {
        err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR, "invalid port '%s' of the backup's <server>",
                port);
        return FALSE;
    }
    def->server_port = (guint)n;
    return TRUE;
}

struct backup_def *
backup_def_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = xml_util_read_document(BACKUP_ORIGIN, xml, CHECKPOINT_DEF_XML_MAX_BYTES,
                                                   "domain backup", "domainbackup", error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    static const char *const attrs[] = {"mode", NULL};
    static const char *const modes[] = {"push", "pull", NULL};
    int mode = 0;
    if (!xml_util_check_attrs(BACKUP_ORIGIN, root, attrs, error) ||
        !backup_choice(root, "mode", modes, &mode, error))
        return NULL;
    g_autoptr(backup_def) def = g_new0(struct backup_def, 1);
    def->pull = mode == 1;
    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)backup_disk_free);
    xmlNodePtr seen_inc = NULL, seen_server = NULL, seen_disks = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (xml_util_is(c, "incremental")) {
            if (!xml_util_once(BACKUP_ORIGIN, &seen_inc, c, error) ||
                !(def->incremental = xml_util_text(BACKUP_ORIGIN, c, error)))
                return NULL;
        } else if (xml_util_is(c, "server")) {
            static const char *const server_attrs[] = {"transport", "name", "port",
                                                       "socket",    "tls",  NULL};
            if (!def->pull) {
                err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR,
                        "use of <server> requires pull mode backup");
                return NULL;
            }
            if (!xml_util_once(BACKUP_ORIGIN, &seen_server, c, error) ||
                !xml_util_check_attrs(BACKUP_ORIGIN, c, server_attrs, error) ||
                !parse_backup_server(def, c, error))
                return NULL;
        } else if (xml_util_is(c, "disks")) {
            if (!xml_util_once(BACKUP_ORIGIN, &seen_disks, c, error))
                return NULL;
            for (xmlNodePtr n = c->children; n; n = n->next) {
                if (xml_util_ignorable(n))
                    continue;
                if (!xml_util_is(n, "disk")) {
                    xml_util_unsupported(BACKUP_ORIGIN, c, n, error);
                    return NULL;
                }
                if (!parse_backup_disk(def, n, error))
                    return NULL;
            }
        } else {
            xml_util_unsupported(BACKUP_ORIGIN, root, c, error);
            return NULL;
        }
    }
    if (def->pull && !seen_server) {
        err_set(error, BACKUP_ORIGIN, ERR_XML_ERROR,
                "a pull mode backup needs its <server>: transport='unix' socket='/absolute/path' "
                "or name='host' port='N'");
        return NULL;
    }
    return g_steal_pointer(&def);
}

char *
backup_def_format(const struct backup_def *def)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "<domainbackup mode='%s'>\n", def->pull ? "pull" : "push");
    if (def->incremental)
        append_element(s, "  ", "incremental", def->incremental);
    const char *tls = def->server_tls ? " tls='yes'" : "";
    if (def->pull && def->server_unix) {
        g_string_append_printf(s, "  <server transport='unix'%s socket='", tls);
        xml_util_append_escaped_attr(s, def->server_socket);
        g_string_append(s, "'/>\n");
    } else if (def->pull) {
        g_string_append_printf(s, "  <server transport='tcp'%s name='", tls);
        xml_util_append_escaped_attr(s, def->server_name);
        g_string_append_printf(s, "' port='%u'/>\n", def->server_port);
    }
    g_string_append(s, "  <disks>\n");
    for (guint i = 0; i < def->disks->len; i++) {
        const struct backup_disk *d = def->disks->pdata[i];
        g_string_append(s, "    <disk name='");
        xml_util_append_escaped_attr(s, d->name);
        if (!d->backup) {
            g_string_append(s, "' backup='no'/>\n");
            continue;
        }
        g_string_append_printf(s, "' backup='yes' type='%s' backupmode='%s'",
                               d->block ? "block" : "file",
                               d->mode == BACKUP_MODE_INCREMENTAL ? "incremental" : "full");
        if (d->incremental) {
            g_string_append(s, " incremental='");
            xml_util_append_escaped_attr(s, d->incremental);
            g_string_append(s, "'");
        }
        const char *exports[][2] = {{"exportname", d->exportname},
                                    {"exportbitmap", d->exportbitmap}};
        for (gsize k = 0; def->pull && k < G_N_ELEMENTS(exports); k++) {
            if (!exports[k][1])
                continue;
            g_string_append_printf(s, " %s='", exports[k][0]);
            xml_util_append_escaped_attr(s, exports[k][1]);
            g_string_append(s, "'");
        }
        if (d->index)
            g_string_append_printf(s, " index='%u'", d->index);
        g_string_append_printf(s, ">\n      <driver type='%s'/>\n",
                               d->format ? d->format : "qcow2");
        if (d->target) {
            g_string_append_printf(s, "      <%s %s='", def->pull ? "scratch" : "target",
                                   d->block ? "dev" : "file");
            xml_util_append_escaped_attr(s, d->target);
            g_string_append(s, "'/>\n");
        }
        g_string_append(s, "    </disk>\n");
    }
    g_string_append(s, "  </disks>\n</domainbackup>\n");
    return g_string_free(s, FALSE);
}
