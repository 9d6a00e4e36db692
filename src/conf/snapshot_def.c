/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_def: libvirt's <domainsnapshot> XML; prefix snapshot_def_. The layout follows
 * libvirt's docs/formatsnapshot.rst: name, description, state, parent, creationTime, memory,
 * disks, and the domain as it was. */
#include "conf/snapshot_def.h"

#include <libxml/parser.h>
#include <string.h>

#include "conf/xml_util.h"
#include "util/err.h"
#include "util/names.h"

#define SNAPSHOT_DEF_XML_MAX_BYTES (8 * 1024 * 1024)
#define ORIGIN ERR_FROM_DOMAIN_SNAPSHOT

static const char *const location_names[] = {"", "no", "internal", "external", "manual", NULL};
G_STATIC_ASSERT(G_N_ELEMENTS(location_names) == SNAPSHOT_LOC_LAST + 1);
static const char *const state_names[] = {
    "nostate", "running", "blocked",     "paused",        "shutdown",
    "shutoff", "crashed", "pmsuspended", "disk-snapshot", NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(state_names) == SNAPSHOT_STATE_LAST + 1);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

const char *
snapshot_location_to_string(enum snapshot_location loc)
{
    return loc < SNAPSHOT_LOC_LAST ? location_names[loc] : "";
}

const char *
snapshot_state_to_string(enum snapshot_state state)
{
    return state < SNAPSHOT_STATE_LAST ? state_names[state] : "nostate";
}

void
snapshot_disk_free(struct snapshot_disk *d)
{
    g_free(d->name);
    g_free(d->file);
    g_free(d);
}

void
snapshot_def_free(struct snapshot_def *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->description);
    g_free(def->parent);
    g_free(def->memory_file);
    if (def->disks)
        g_ptr_array_unref(def->disks);
    if (def->revert_disks)
        g_ptr_array_unref(def->revert_disks);
    domain_def_free(def->dom);
    g_free(def);
}

struct snapshot_disk *
snapshot_def_disk_in(const GPtrArray *disks, const char *target)
{
    for (guint i = 0; disks && i < disks->len; i++) {
        struct snapshot_disk *d = disks->pdata[i];
        if (g_str_equal(d->name, target))
            return d;
    }
    return NULL;
}

struct snapshot_disk *
snapshot_def_disk(const struct snapshot_def *def, const char *target)
{
    return snapshot_def_disk_in(def->disks, target);
}

/* snapshot='…' of <memory> or <disk> */
static gboolean
parse_location(xmlNodePtr node, enum snapshot_location *ret, GError **error)
{
    g_autofree char *v = xml_util_prop(node, "snapshot");
    if (!v)
        return TRUE;
    int i = xml_util_lookup(location_names, v);
    if (i <= 0) {
        err_set(error, ORIGIN, ERR_XML_ERROR, "unknown snapshot location '%s' in <%s>", v,
                (const char *)node->name);
        return FALSE;
    }
    *ret = i;
    return TRUE;
}

static gboolean
parse_memory(struct snapshot_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"snapshot", "file", NULL};
    if (!xml_util_check_attrs(ORIGIN, node, attrs, error) ||
        !parse_location(node, &def->memory, error))
        return FALSE;
    def->memory_file = xml_util_prop(node, "file");
    if (def->memory_file && def->memory == SNAPSHOT_LOC_DEFAULT)
        def->memory = SNAPSHOT_LOC_EXTERNAL;
    if (def->memory_file && def->memory != SNAPSHOT_LOC_EXTERNAL) {
        err_set(error, ORIGIN, ERR_XML_ERROR,
                "memory file '%s' is given but the memory snapshot is '%s', not 'external'",
                def->memory_file, location_names[def->memory]);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_disk(GPtrArray *disks, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"name", "snapshot", "type", NULL};
    if (!xml_util_check_attrs(ORIGIN, node, attrs, error))
        return FALSE;
    struct snapshot_disk *d = g_new0(struct snapshot_disk, 1);
    g_ptr_array_add(disks, d);
    d->name = xml_util_prop(node, "name");
    if (!d->name || !*d->name) {
        err_set(error, ORIGIN, ERR_XML_ERROR, "a snapshot <disk> lacks its name");
        return FALSE;
    }
    for (guint i = 0; i + 1 < disks->len; i++) {
        if (g_str_equal(((struct snapshot_disk *)disks->pdata[i])->name, d->name)) {
            err_set(error, ORIGIN, ERR_XML_ERROR, "disk '%s' is given twice in the snapshot",
                    d->name);
            return FALSE;
        }
    }
    if (!parse_location(node, &d->snapshot, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (xml_util_is(c, "source")) {
            static const char *const src_attrs[] = {"file", NULL};
            if (!xml_util_check_attrs(ORIGIN, c, src_attrs, error))
                return FALSE;
            g_free(d->file);
            d->file = xml_util_prop(c, "file");
        } else if (xml_util_is(c, "driver")) {
            static const char *const drv_attrs[] = {"type", NULL};
            g_autofree char *type = xml_util_prop(c, "type");
            if (!xml_util_check_attrs(ORIGIN, c, drv_attrs, error))
                return FALSE;
            if (type && !g_str_equal(type, "qcow2")) {
                err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                        "snapshot of disk '%s': overlay format '%s' is not supported; use "
                        "'qcow2'",
                        d->name, type);
                return FALSE;
            }
        } else {
            return xml_util_unsupported(ORIGIN, node, c, error);
        }
    }
    if (d->file && d->snapshot == SNAPSHOT_LOC_DEFAULT)
        d->snapshot = SNAPSHOT_LOC_EXTERNAL;
    return TRUE;
}

static gboolean
parse_disks(GPtrArray *disks, xmlNodePtr node, GError **error)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (!xml_util_is(c, "disk"))
            return xml_util_unsupported(ORIGIN, node, c, error);
        if (!parse_disk(disks, c, error))
            return FALSE;
    }
    return TRUE;
}

/* The fields only the daemon writes: read with REDEFINE, else ignored as libvirt does. */
static gboolean
parse_internal(struct snapshot_def *def, xmlDocPtr doc, xmlNodePtr c, GError **error)
{
    if (xml_util_is(c, "state")) {
        g_autofree char *v = xml_util_text(ORIGIN, c, error);
        int i = v ? xml_util_lookup(state_names, v) : -1;
        if (i < 0) {
            if (v)
                err_set(error, ORIGIN, ERR_XML_ERROR, "unknown snapshot state '%s'", v);
            return FALSE;
        }
        def->state = i;
    } else if (xml_util_is(c, "creationTime")) {
        if (!xml_util_creation_time(ORIGIN, c, &def->creation_time, error))
            return FALSE;
    } else if (xml_util_is(c, "parent")) {
        if (!xml_util_parent_name(ORIGIN, c, &def->parent, error))
            return FALSE;
    } else if (xml_util_is(c, "revertDisks")) {
        if (!def->revert_disks)
            def->revert_disks = g_ptr_array_new_with_free_func((GDestroyNotify)snapshot_disk_free);
        if (!parse_disks(def->revert_disks, c, error))
            return FALSE;
    } else if (xml_util_is(c, "domain")) {
        g_autoptr(xmlBuffer) buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, c, 0, 0);
        domain_def_free(def->dom);
        def->dom =
            domain_def_parse((const char *)xmlBufferContent(buf), DOMAIN_DEF_PARSE_STATUS, error);
        if (!def->dom) {
            g_prefix_error(error, "the snapshot's domain: ");
            return FALSE;
        }
    }
    return TRUE;
}

struct snapshot_def *
snapshot_def_parse(const char *xml, unsigned flags, GError **error)
{
    g_autoptr(xmlDoc) doc = xml_util_read_document(ORIGIN, xml, SNAPSHOT_DEF_XML_MAX_BYTES,
                                                   "domain snapshot", "domainsnapshot", error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autoptr(snapshot_def) def = g_new0(struct snapshot_def, 1);
    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)snapshot_disk_free);
    static const char *const internal[] = {"state",          "creationTime", "parent",
                                           "domain",         "active",       "cookie",
                                           "inactiveDomain", "revertDisks",  NULL};
    xmlNodePtr seen_memory = NULL, seen_disks = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (xml_util_is(c, "name")) {
            if (!xml_util_text_once(ORIGIN, c, &def->name, error))
                return NULL;
        } else if (xml_util_is(c, "description")) {
            if (!xml_util_text_once(ORIGIN, c, &def->description, error))
                return NULL;
        } else if (xml_util_is(c, "memory")) {
            if (!xml_util_once(ORIGIN, &seen_memory, c, error) || !parse_memory(def, c, error))
                return NULL;
        } else if (xml_util_is(c, "disks")) {
            if (!xml_util_once(ORIGIN, &seen_disks, c, error) || !parse_disks(def->disks, c, error))
                return NULL;
        } else if (c->type == XML_ELEMENT_NODE && !c->ns &&
                   xml_util_lookup(internal, (const char *)c->name) >= 0) {
            if ((flags & SNAPSHOT_DEF_PARSE_REDEFINE) && !parse_internal(def, doc, c, error))
                return NULL;
        } else {
            xml_util_unsupported(ORIGIN, root, c, error);
            return NULL;
        }
    }
    if (def->name) {
        if (!*def->name) {
            err_set(error, ORIGIN, ERR_XML_ERROR, "the snapshot's name is empty");
            return NULL;
        }
        if (strchr(def->name, '/') || strchr(def->name, '\n')) {
            err_set(error, ORIGIN, ERR_XML_DETAIL,
                    "invalid snapshot name '%s': name can't contain '/' or a newline", def->name);
            return NULL;
        }
        if (!names_validate(def->name, NAMES_VOLUME, "snapshot", ORIGIN, error))
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

static void
format_disks(GString *s, const char *element, const GPtrArray *disks)
{
    if (!disks || !disks->len)
        return;
    g_string_append_printf(s, "  <%s>\n", element);
    for (guint i = 0; i < disks->len; i++) {
        const struct snapshot_disk *d = disks->pdata[i];
        g_string_append(s, "    <disk name='");
        xml_util_append_escaped_attr(s, d->name);
        g_string_append_printf(s, "' snapshot='%s'",
                               d->snapshot ? location_names[d->snapshot] : "no");
        if (!d->file) {
            g_string_append(s, "/>\n");
            continue;
        }
        g_string_append(s, " type='file'>\n      <driver type='qcow2'/>\n      <source file='");
        xml_util_append_escaped_attr(s, d->file);
        g_string_append(s, "'/>\n    </disk>\n");
    }
    g_string_append_printf(s, "  </%s>\n", element);
}

char *
snapshot_def_format(const struct snapshot_def *def, unsigned flags)
{
    GString *s = g_string_new("<domainsnapshot>\n");
    if (def->name)
        append_element(s, "  ", "name", def->name);
    if (def->description)
        append_element(s, "  ", "description", def->description);
    g_string_append_printf(s, "  <state>%s</state>\n", snapshot_state_to_string(def->state));
    if (def->parent) {
        g_string_append(s, "  <parent>\n");
        append_element(s, "    ", "name", def->parent);
        g_string_append(s, "  </parent>\n");
    }
    g_string_append_printf(s, "  <creationTime>%" G_GINT64_FORMAT "</creationTime>\n",
                           def->creation_time);
    if (def->memory != SNAPSHOT_LOC_DEFAULT) {
        g_string_append_printf(s, "  <memory snapshot='%s'", location_names[def->memory]);
        if (def->memory_file) {
            g_string_append(s, " file='");
            xml_util_append_escaped_attr(s, def->memory_file);
            g_string_append(s, "'");
        }
        g_string_append(s, "/>\n");
    }
    format_disks(s, "disks", def->disks);
    format_disks(s, "revertDisks", def->revert_disks);
    if (def->dom) {
        unsigned fmt = DOMAIN_DEF_FORMAT_INACTIVE;
        if (flags & SNAPSHOT_DEF_FORMAT_SECURE)
            fmt |= DOMAIN_DEF_FORMAT_SECURE;
        g_autofree char *dom = domain_def_format(def->dom, -1, fmt);
        g_auto(GStrv) lines = g_strsplit(dom, "\n", -1);
        for (int i = 0; lines[i]; i++)
            if (*lines[i])
                g_string_append_printf(s, "  %s\n", lines[i]);
    }
    g_string_append(s, "</domainsnapshot>\n");
    return g_string_free(s, FALSE);
}
