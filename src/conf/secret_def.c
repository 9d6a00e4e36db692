/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secret_def: <secret ephemeral private><uuid/><description/><usage type>…</usage></secret>
 * as libvirt's secret_conf reads and writes it. */
#include "conf/secret_def.h"

#include "conf/xml_util.h"
#include "util/err.h"

#define SECRET_XML_MAX (64 * 1024)

static const char *const usage_names[] = {"none", "volume", "ceph", "iscsi", "tls", "vtpm", NULL};
/* the element naming the usage, per usage type */
static const char *const usage_elements[] = {NULL, "volume", "name", "target", "name", "name"};

const char *
secret_usage_name(enum secret_usage usage)
{
    return usage_names[usage];
}

void
secret_def_free(struct secret_def *def)
{
    if (!def)
        return;
    g_free(def->description);
    g_free(def->usage_id);
    g_free(def);
}

static gboolean
yes_no(xmlNodePtr node, const char *name, gboolean *ret, GError **error)
{
    g_autofree char *v = xml_util_prop(node, name);
    if (!v)
        return TRUE;
    if (g_str_equal(v, "yes") || g_str_equal(v, "no")) {
        *ret = g_str_equal(v, "yes");
        return TRUE;
    }
    err_set(error, ERR_FROM_SECRET, ERR_XML_ERROR, "invalid value '%s' of %s; use yes or no", v,
            name);
    return FALSE;
}

static gboolean
parse_usage(struct secret_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", NULL};
    if (!xml_util_check_attrs(ERR_FROM_SECRET, node, attrs, error))
        return FALSE;
    g_autofree char *type = xml_util_prop(node, "type");
    int usage = type ? xml_util_lookup(usage_names, type) : -1;
    if (usage < 0) {
        err_set(error, ERR_FROM_SECRET, ERR_CONFIG_UNSUPPORTED,
                "unknown secret usage type '%s'; use volume, ceph, iscsi, tls or vtpm",
                type ? type : "");
        return FALSE;
    }
    def->usage = (enum secret_usage)usage;
    xmlNodePtr id = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (!usage_elements[usage] || !xml_util_is(c, usage_elements[usage]))
            return xml_util_unsupported(ERR_FROM_SECRET, node, c, error);
        if (!xml_util_once(ERR_FROM_SECRET, &id, c, error))
            return FALSE;
    }
    if (usage_elements[usage]) {
        def->usage_id = id ? xml_util_text(ERR_FROM_SECRET, id, error) : NULL;
        if (!def->usage_id || !*def->usage_id) {
            if (!error || !*error)
                err_set(error, ERR_FROM_SECRET, ERR_XML_ERROR,
                        "a secret of usage type '%s' needs its <%s>", usage_names[usage],
                        usage_elements[usage]);
            return FALSE;
        }
    }
    return TRUE;
}

struct secret_def *
secret_def_parse(const char *xml, GError **error)
{
    static const char *const attrs[] = {"ephemeral", "private", NULL};
    g_autoptr(xmlDoc) doc =
        xml_util_read_document(ERR_FROM_SECRET, xml, SECRET_XML_MAX, "secret", "secret", error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autoptr(secret_def) def = g_new0(struct secret_def, 1);
    if (!xml_util_check_attrs(ERR_FROM_SECRET, root, attrs, error) ||
        !yes_no(root, "ephemeral", &def->ephemeral, error) ||
        !yes_no(root, "private", &def->private_, error))
        return NULL;
    xmlNodePtr uuid = NULL, desc = NULL, usage = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        xmlNodePtr *slot = xml_util_is(c, "uuid")          ? &uuid
                           : xml_util_is(c, "description") ? &desc
                           : xml_util_is(c, "usage")       ? &usage
                                                           : NULL;
        if (!slot) {
            xml_util_unsupported(ERR_FROM_SECRET, root, c, error);
            return NULL;
        }
        if (!xml_util_once(ERR_FROM_SECRET, slot, c, error))
            return NULL;
    }
    if (uuid) {
        g_autofree char *text = xml_util_text(ERR_FROM_SECRET, uuid, error);
        if (!text)
            return NULL;
        if (!uuid_parse(g_strstrip(text), def->uuid)) {
            err_set(error, ERR_FROM_SECRET, ERR_XML_ERROR, "malformed uuid element '%s'", text);
            return NULL;
        }
    } else {
        uuid_generate(def->uuid);
    }
    if (desc && !(def->description = xml_util_text(ERR_FROM_SECRET, desc, error)))
        return NULL;
    if (usage && !parse_usage(def, usage, error))
        return NULL;
    return g_steal_pointer(&def);
}

char *
secret_def_format(const struct secret_def *def)
{
    char uuid[UUID_STRING_LEN];
    GString *b = g_string_new(NULL);
    g_string_append_printf(b, "<secret ephemeral='%s' private='%s'>\n  <uuid>%s</uuid>\n",
                           def->ephemeral ? "yes" : "no", def->private_ ? "yes" : "no",
                           uuid_format(def->uuid, uuid));
    if (def->description) {
        g_string_append(b, "  <description>");
        xml_util_append_escaped(b, def->description);
        g_string_append(b, "</description>\n");
    }
    if (def->usage != SECRET_USAGE_NONE) {
        g_string_append_printf(b, "  <usage type='%s'>\n    <%s>", usage_names[def->usage],
                               usage_elements[def->usage]);
        xml_util_append_escaped(b, def->usage_id);
        g_string_append_printf(b, "</%s>\n  </usage>\n", usage_elements[def->usage]);
    }
    g_string_append(b, "</secret>\n");
    return g_string_free(b, FALSE);
}
