/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xml_util: the libxml2 helpers every libvirt-format parser here shares (domains, pools,
 * volumes); prefix xml_util_. Errors carry the caller's libvirt origin. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <stdint.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* True for nodes that carry nothing: comments, processing instructions, blank text. */
gboolean xml_util_ignorable(xmlNodePtr node);
/* True for an element NAME without a namespace. */
gboolean xml_util_is(xmlNodePtr node, const char *name);
/* Sets the error for a child of PARENT that is not understood (ERR_CONFIG_UNSUPPORTED for an
 * element, ERR_XML_ERROR for text). Returns FALSE. */
gboolean xml_util_unsupported(int origin, xmlNodePtr parent, xmlNodePtr child, GError **error);
/* Refuses an attribute not in the NULL-terminated ALLOWED (ERR_CONFIG_UNSUPPORTED). */
gboolean xml_util_check_attrs(int origin, xmlNodePtr node, const char *const *allowed,
                              GError **error);
/* Stores CHILD in *SLOT, refusing a second one (ERR_XML_ERROR). */
gboolean xml_util_once(int origin, xmlNodePtr *slot, xmlNodePtr child, GError **error);
/* The attribute NAME without a namespace, or NULL. Returns a new string. */
char *xml_util_prop(xmlNodePtr node, const char *name);
/* The element's name with its namespace prefix, if any. Returns a new string. */
char *xml_util_qualified_name(xmlNodePtr node);
/* Index of STR in the NULL-terminated NAMES, or -1. */
int xml_util_lookup(const char *const *names, const char *str);

/* NODE's text (a new string); a child element is refused (ERR_CONFIG_UNSUPPORTED). */
char *xml_util_text(int origin, xmlNodePtr node, GError **error);
/* NODE's text into *SLOT, which must still be NULL (else ERR_XML_ERROR: the element appears
 * more than once). */
gboolean xml_util_text_once(int origin, xmlNodePtr node, char **slot, GError **error);
/* What snapshots and checkpoints ("moments") keep alike: <creationTime> (seconds since the
 * epoch) and <parent><name>…</name></parent>. ERR_XML_ERROR for a bad value. */
gboolean xml_util_creation_time(int origin, xmlNodePtr node, gint64 *ret, GError **error);
gboolean xml_util_parent_name(int origin, xmlNodePtr node, char **slot, GError **error);
/* Appends STR as element text: the five XML special characters and CR as references (a parser
 * turns a raw CR into LF), other control characters but LF and tab dropped (XML 1.0 has no
 * way to carry them). What is written reads back the same. */
void xml_util_append_escaped(GString *buf, const char *str);
/* The same for an attribute value, where LF and tab also become references (a parser would
 * normalize them to spaces). */
void xml_util_append_escaped_attr(GString *buf, const char *str);
/* Size units as libvirt's virScaleInteger reads them: b/byte/bytes, then k/m/g/t/p/e alone or
 * with "iB" (powers of 1024) or with "B" (powers of 1000), case-insensitively. An empty or
 * absent UNIT means DEFAULT_SCALE. FALSE for a unit it does not know. */
gboolean xml_util_unit_scale(const char *unit, uint64_t default_scale, uint64_t *ret_scale);

/* Reads XML safely: no DOCTYPE (it could declare entities or name files), no entity
 * expansion, no network, at most MAX_BYTES. WHAT names the document in messages ("domain");
 * ROOT_NAME, when not NULL, is the root element required. Errors (origin ORIGIN):
 * ERR_XML_ERROR. Returns a new document; caller frees with xmlFreeDoc. */
xmlDocPtr xml_util_read_document(int origin, const char *xml, gsize max_bytes, const char *what,
                                 const char *root_name, GError **error);
/* The elements of a <metadata> NODE as XML text, each dumped from a copy in a document of its
 * own (the copy declares every namespace it uses, even one declared on the root), blank text
 * between elements removed and indented for level 2 (a child of the root). Text or an
 * attribute in NODE is refused. Returns a new string ("" for an empty <metadata/>). */
char *xml_util_metadata_parse(int origin, xmlNodePtr node, GError **error);
/* Appends METADATA (from xml_util_metadata_parse; nothing when NULL) at level 1. */
void xml_util_metadata_format(GString *buf, const char *metadata);
/* virDomainGetMetadata's ELEMENT: the first element of METADATA (from xml_util_metadata_parse;
 * NULL: none) in the namespace URI, without that namespace (libvirt's form: "<foo>…</foo>"),
 * or NULL when there is none. Returns a new string. */
char *xml_util_metadata_get(const char *metadata, const char *uri);
/* virDomainSetMetadata's ELEMENT: METADATA with every element of namespace URI removed and,
 * unless XML is NULL, XML (one element, read safely) added in that namespace with prefix KEY.
 * *RET gets the new metadata (as xml_util_metadata_parse makes it; NULL when METADATA was NULL
 * and nothing is added). Errors (origin ORIGIN): ERR_XML_ERROR for XML that does not read,
 * ERR_INVALID_ARG for a KEY that is no XML name. */
gboolean xml_util_metadata_set(int origin, const char *metadata, const char *xml, const char *key,
                               const char *uri, char **ret, GError **error);
