/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xml_util: shared libxml2 helpers; what the domain, pool and volume parsers have in common. */
#include "conf/xml_util.h"

#include <libxml/parser.h>
#include <string.h>

#include "util/err.h"

int
xml_util_lookup(const char *const *names, const char *str)
{
    for (int i = 0; str && names[i]; i++) {
        if (g_str_equal(names[i], str))
            return i;
    }
    return -1;
}

gboolean
xml_util_ignorable(xmlNodePtr node)
{
    switch (node->type) {
    case XML_COMMENT_NODE:
    case XML_PI_NODE:
        return TRUE;
    case XML_TEXT_NODE:
        for (const xmlChar *p = node->content; p && *p; p++) {
            if (!g_ascii_isspace(*p))
                return FALSE;
        }
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
xml_util_is(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           g_str_equal((const char *)node->name, name);
}

char *
xml_util_qualified_name(xmlNodePtr node)
{
    if (node->ns && node->ns->prefix)
        return g_strdup_printf("%s:%s", node->ns->prefix, node->name);
    return g_strdup((const char *)node->name);
}

gboolean
xml_util_unsupported(int origin, xmlNodePtr parent, xmlNodePtr child, GError **error)
{
    if (child->type == XML_ELEMENT_NODE) {
        g_autofree char *name = xml_util_qualified_name(child);
        err_set(error, origin, ERR_CONFIG_UNSUPPORTED, "unsupported element '%s' in '%s'", name,
                parent->name);
    } else {
        g_autofree char *text = g_strstrip(g_strndup((const char *)child->content, 40));
        err_set(error, origin, ERR_XML_ERROR, "unexpected text '%s' in element '%s'", text,
                parent->name);
    }
    return FALSE;
}

gboolean
xml_util_check_attrs(int origin, xmlNodePtr node, const char *const *allowed, GError **error)
{
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        if (!a->ns && xml_util_lookup(allowed, (const char *)a->name) >= 0)
            continue;
        g_autofree char *name = a->ns && a->ns->prefix
                                    ? g_strdup_printf("%s:%s", a->ns->prefix, a->name)
                                    : g_strdup((const char *)a->name);
        err_set(error, origin, ERR_CONFIG_UNSUPPORTED, "unsupported attribute '%s' on element '%s'",
                name, node->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
xml_util_once(int origin, xmlNodePtr *slot, xmlNodePtr child, GError **error)
{
    if (*slot) {
        err_set(error, origin, ERR_XML_ERROR, "element '%s' appears more than once in '%s'",
                child->name, child->parent->name);
        return FALSE;
    }
    *slot = child;
    return TRUE;
}

char *
xml_util_prop(xmlNodePtr node, const char *name)
{
    xmlChar *value = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!value)
        return NULL;
    char *ret = g_strdup((const char *)value);
    xmlFree(value);
    return ret;
}

static void
append_escaped(GString *buf, const char *str, gboolean attribute)
{
    for (const char *p = str; *p; p++) {
        switch (*p) {
        case '&':
            g_string_append(buf, "&amp;");
            break;
        case '<':
            g_string_append(buf, "&lt;");
            break;
        case '>':
            g_string_append(buf, "&gt;");
            break;
        case '\'':
            g_string_append(buf, "&apos;");
            break;
        case '"':
            g_string_append(buf, "&quot;");
            break;
        case '\r':
            /* a parser turns a raw CR into LF: only a reference survives the round trip */
            g_string_append(buf, "&#13;");
            break;
        case '\n':
        case '\t':
            /* raw in text; in an attribute a parser would make them spaces */
            if (attribute)
                g_string_append_printf(buf, "&#%d;", *p);
            else
                g_string_append_c(buf, *p);
            break;
        case 0x7f:
            /* allowed in XML 1.0 but invisible: a reference keeps it readable */
            g_string_append(buf, "&#127;");
            break;
        default:
            /* XML 1.0 cannot carry other control characters, not even as references */
            if ((unsigned char)*p >= 0x20)
                g_string_append_c(buf, *p);
        }
    }
}

void
xml_util_append_escaped(GString *buf, const char *str)
{
    append_escaped(buf, str, FALSE);
}

void
xml_util_append_escaped_attr(GString *buf, const char *str)
{
    append_escaped(buf, str, TRUE);
}

gboolean
xml_util_unit_scale(const char *unit, uint64_t default_scale, uint64_t *ret_scale)
{
    if (!unit || !*unit) {
        *ret_scale = default_scale;
        return TRUE;
    }
    if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "byte") ||
        !g_ascii_strcasecmp(unit, "bytes")) {
        *ret_scale = 1;
        return TRUE;
    }
    const char *p = strchr("kmgtpe", g_ascii_tolower(unit[0]));
    if (!p)
        return FALSE;
    unsigned power = (unsigned)(p - "kmgtpe") + 1;
    uint64_t base;
    if (!unit[1] || !g_ascii_strcasecmp(unit + 1, "ib"))
        base = 1024;
    else if (!g_ascii_strcasecmp(unit + 1, "b"))
        base = 1000;
    else
        return FALSE;
    uint64_t scale = 1;
    for (unsigned i = 0; i < power; i++)
        scale *= base;
    *ret_scale = scale;
    return TRUE;
}

char *
xml_util_text(int origin, xmlNodePtr node, GError **error)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            xml_util_unsupported(origin, node, c, error);
            return NULL;
        }
    }
    xmlChar *content = xmlNodeGetContent(node);
    char *ret = g_strdup(content ? (const char *)content : "");
    xmlFree(content);
    return ret;
}

#if LIBXML_VERSION >= 21200
#define XML_UTIL_ERROR const xmlError
#else
#define XML_UTIL_ERROR xmlError
#endif

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* SAX hook: a DOCTYPE can declare entities and name external files; refuse it outright. */
static void
reject_doctype(void *data, const xmlChar *name, const xmlChar *external_id,
               const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = data;
    ctxt->_private = GINT_TO_POINTER(1);
    xmlStopParser(ctxt);
}

xmlDocPtr
xml_util_read_document(int origin, const char *xml, gsize max_bytes, const char *what,
                       const char *root_name, GError **error)
{
    gsize len = strlen(xml);
    if (len > max_bytes) {
        err_set(error, origin, ERR_XML_ERROR, "%s XML is %zu bytes long; the limit is %zu", what,
                len, max_bytes);
        return NULL;
    }
    g_autoptr(xmlParserCtxt) ctxt = xmlNewParserCtxt();
    ctxt->sax->internalSubset = reject_doctype;
    g_autofree char *url = g_strdup_printf("%s.xml", what);
    /* No NOENT (entities stay unexpanded), no DTDLOAD, no network. */
    g_autoptr(xmlDoc) doc = xmlCtxtReadMemory(ctxt, xml, (int)len, url, NULL,
                                              XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (ctxt->_private) {
        err_set(error, origin, ERR_XML_ERROR, "DOCTYPE is not allowed in %s XML", what);
        return NULL;
    }
    if (!doc || !ctxt->wellFormed) {
        XML_UTIL_ERROR *e = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strstrip(g_strdup(e && e->message ? e->message : "unknown"));
        err_set(error, origin, ERR_XML_ERROR, "malformed %s XML: line %d: %s", what,
                e ? e->line : 0, msg);
        return NULL;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root) {
        err_set(error, origin, ERR_XML_ERROR, "%s XML has no root element", what);
        return NULL;
    }
    if (root_name && !xml_util_is(root, root_name)) {
        err_set(error, origin, ERR_XML_ERROR, "unexpected root element '%s'; expected '%s'",
                (const char *)root->name, root_name);
        return NULL;
    }
    return g_steal_pointer(&doc);
}

/* Removes blank text between elements (not inside text-only elements), so that metadata is
 * stored in one canonical indentation whatever the input's. */
static void
strip_blank_text(xmlNodePtr node)
{
    gboolean has_elements = FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next)
        has_elements |= c->type == XML_ELEMENT_NODE;
    if (!has_elements)
        return;
    xmlNodePtr next;
    for (xmlNodePtr c = node->children; c; c = next) {
        next = c->next;
        if (c->type == XML_TEXT_NODE && xml_util_ignorable(c)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        } else if (c->type == XML_ELEMENT_NODE) {
            strip_blank_text(c);
        }
    }
}

char *
xml_util_metadata_parse(int origin, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    if (!xml_util_check_attrs(origin, node, none, error))
        return NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (c->type != XML_ELEMENT_NODE) {
            xml_util_unsupported(origin, node, c, error);
            return NULL;
        }
        g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr copy = xmlDocCopyNode(c, doc, 1);
        xmlDocSetRootElement(doc, copy);
        strip_blank_text(copy);
        g_autoptr(xmlBuffer) buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, copy, 2, 1);
        if (out->len)
            g_string_append(out, "\n    ");
        g_string_append(out, (const char *)xmlBufferContent(buf));
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

void
xml_util_metadata_format(GString *buf, const char *metadata)
{
    if (metadata && *metadata) {
        /* stored already indented for this place */
        g_string_append_printf(buf, "  <metadata>\n    %s\n  </metadata>\n", metadata);
    } else if (metadata) {
        g_string_append(buf, "  <metadata/>\n");
    }
}

/* the stored metadata read back under one <metadata> element */
static xmlDocPtr
metadata_read(const char *metadata)
{
    g_autofree char *wrapped = g_strdup_printf("<metadata>%s</metadata>", metadata ? metadata : "");
    return xml_util_read_document(ERR_FROM_NONE, wrapped, G_MAXSIZE, "metadata", "metadata", NULL);
}

static gboolean
in_namespace(xmlNodePtr node, const char *uri)
{
    return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           g_str_equal((const char *)node->ns->href, uri);
}

static xmlNodePtr
find_in_namespace(xmlNodePtr parent, const char *uri)
{
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (in_namespace(c, uri))
            return c;
    return NULL;
}

/* Takes NODE and its descendants out of namespace URI (elements and attributes) */
static void
leave_namespace(xmlNodePtr node, const char *uri)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (in_namespace(node, uri))
            xmlSetNs(node, NULL);
        for (xmlAttrPtr a = node->properties; a; a = a->next)
            if (a->ns && a->ns->href && g_str_equal((const char *)a->ns->href, uri))
                a->ns = NULL;
        leave_namespace(node->children, uri);
    }
}

/* Puts NODE and its descendants without a namespace into NS */
static void
enter_namespace(xmlNodePtr node, xmlNsPtr ns)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (!node->ns)
            xmlSetNs(node, ns);
        enter_namespace(node->children, ns);
    }
}

char *
xml_util_metadata_get(const char *metadata, const char *uri)
{
    if (!metadata || !uri)
        return NULL;
    g_autoptr(xmlDoc) doc = metadata_read(metadata);
    xmlNodePtr node = doc ? find_in_namespace(xmlDocGetRootElement(doc), uri) : NULL;
    if (!node)
        return NULL;
    xmlUnlinkNode(node);    /* alone: leave_namespace walks siblings too */
    strip_blank_text(node); /* the stored indentation: dumped again below */
    leave_namespace(node, uri);
    for (xmlNsPtr *link = &node->nsDef; *link; link = &(*link)->next) {
        if ((*link)->href && g_str_equal((const char *)(*link)->href, uri)) {
            xmlNsPtr gone = *link;
            *link = gone->next;
            gone->next = NULL;
            xmlFreeNs(gone);
            break;
        }
    }
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, node, 0, 1);
    xmlFreeNode(node);
    return g_strdup((const char *)xmlBufferContent(buf));
}

gboolean
xml_util_metadata_set(int origin, const char *metadata, const char *xml, const char *key,
                      const char *uri, char **ret, GError **error)
{
    g_autoptr(xmlDoc) add = NULL;
    if (xml) {
        if (!key || xmlValidateNCName((const xmlChar *)key, 1) != 0) {
            err_set(error, origin, ERR_INVALID_ARG,
                    "metadata key '%s' is not a valid XML namespace prefix; use a name such as "
                    "'app1'",
                    key ? key : "");
            return FALSE;
        }
        add = xml_util_read_document(origin, xml, 4 * 1024 * 1024, "metadata", NULL, error);
        if (!add)
            return FALSE;
        xmlNodePtr root = xmlDocGetRootElement(add);
        enter_namespace(root, xmlNewNs(root, (const xmlChar *)uri, (const xmlChar *)key));
    }
    if (!metadata && !add) {
        *ret = NULL;
        return TRUE;
    }
    g_autoptr(xmlDoc) doc = metadata_read(metadata);
    if (!doc) {
        err_set(error, origin, ERR_INTERNAL_ERROR, "the stored metadata does not read back");
        return FALSE;
    }
    xmlNodePtr top = xmlDocGetRootElement(doc);
    for (xmlNodePtr old; (old = find_in_namespace(top, uri));) {
        xmlUnlinkNode(old);
        xmlFreeNode(old);
    }
    if (add)
        xmlAddChild(top, xmlDocCopyNode(xmlDocGetRootElement(add), doc, 1));
    *ret = xml_util_metadata_parse(origin, top, error);
    return *ret != NULL;
}

gboolean
xml_util_text_once(int origin, xmlNodePtr node, char **slot, GError **error)
{
    if (*slot) {
        err_set(error, origin, ERR_XML_ERROR, "element '%s' appears more than once",
                (const char *)node->name);
        return FALSE;
    }
    *slot = xml_util_text(origin, node, error);
    return *slot != NULL;
}

gboolean
xml_util_creation_time(int origin, xmlNodePtr node, gint64 *ret, GError **error)
{
    g_autofree char *v = xml_util_text(origin, node, error);
    guint64 t;
    if (!v || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT64, &t, NULL)) {
        if (v)
            err_set(error, origin, ERR_XML_ERROR, "invalid creationTime '%s'", v);
        return FALSE;
    }
    *ret = (gint64)t;
    return TRUE;
}

gboolean
xml_util_parent_name(int origin, xmlNodePtr node, char **slot, GError **error)
{
    for (xmlNodePtr n = node->children; n; n = n->next) {
        if (xml_util_ignorable(n))
            continue;
        if (!xml_util_is(n, "name"))
            return xml_util_unsupported(origin, node, n, error);
        if (!xml_util_text_once(origin, n, slot, error))
            return FALSE;
    }
    return TRUE;
}
