/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage_def: libvirt storage pool and volume XML for directory pools; prefix storage_def_.
 *
 * As for domains, nothing is silently dropped: an element or attribute we do not understand
 * is an error that names it. The exceptions are elements that libvirt fills from the file
 * system when it formats, and ignores on input (pool <capacity>, <allocation>, <available>;
 * volume <key>, <physical>, <timestamps>; the SELinux <label> of permissions; the
 * permissions and timestamps of a volume's <backingStore>): they are accepted, so that what
 * libvirt or we hand back can be fed in again, and dropped. */
#include "conf/storage_def.h"
#include "conf/xml_util.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "util/err.h"
#include "util/names.h"

#define STORAGE_DEF_XML_MAX_BYTES (1024 * 1024)
#define STORAGE_DEF_PATH_MAX 4095
/* qemu-img's limits for a qcow2 cluster. */
#define STORAGE_DEF_CLUSTER_MIN 512
#define STORAGE_DEF_CLUSTER_MAX (2 * 1024 * 1024)

static const char *const vol_format_names[] = {"raw", "qcow2", "iso", NULL};
static const char *const compat_names[] = {"0.10", "1.1", NULL};

static const char *const none[] = {NULL};
static const char *const unit_attrs[] = {"unit", NULL};
static const char *const type_attrs[] = {"type", NULL};

/* ---- XML helpers: the domain_def ones, raising errors from the storage origin ---- */

#define lookup xml_util_lookup
#define ignorable xml_util_ignorable
#define is xml_util_is

/* Sets the error for a child of PARENT that is not understood. Returns FALSE. */
static gboolean
unsupported(xmlNodePtr parent, xmlNodePtr child, GError **error)
{
    return xml_util_unsupported(ERR_FROM_STORAGE, parent, child, error);
}

static gboolean
check_attrs(xmlNodePtr node, const char *const *allowed, GError **error)
{
    return xml_util_check_attrs(ERR_FROM_STORAGE, node, allowed, error);
}

/* Checks that NODE has no attributes, no element children and no text. */
static gboolean
check_empty(xmlNodePtr node, GError **error)
{
    if (!check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!ignorable(c))
            return unsupported(node, c, error);
    }
    return TRUE;
}

static gboolean
once(xmlNodePtr *slot, xmlNodePtr child, GError **error)
{
    return xml_util_once(ERR_FROM_STORAGE, slot, child, error);
}

#define prop xml_util_prop

/* The text of NODE (never NULL), after checking that its attributes are in ALLOWED and that
 * it has no element children. */
static char *
text(xmlNodePtr node, const char *const *allowed, GError **error)
{
    if (!check_attrs(node, allowed, error))
        return NULL;
    return xml_util_text(ERR_FROM_STORAGE, node, error);
}

/* Like text, with surrounding white space removed. */
static char *
text_stripped(xmlNodePtr node, const char *const *allowed, GError **error)
{
    char *ret = text(node, allowed, error);
    return ret ? g_strstrip(ret) : NULL;
}

/* <format type='…'/>: *RET gets one of vol_format_names. */
static gboolean
parse_format_type(xmlNodePtr node, char **ret, GError **error)
{
    if (!check_attrs(node, type_attrs, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!ignorable(c))
            return unsupported(node, c, error);
    }
    g_autofree char *type = prop(node, "type");
    if (!type)
        return TRUE; /* <format/>: the default, as in libvirt */
    int i = lookup(vol_format_names, type);
    if (i < 0) {
        err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                "unsupported volume format '%s'; use 'raw' or 'qcow2'", type);
        return FALSE;
    }
    g_free(*ret);
    *ret = g_strdup(vol_format_names[i]);
    return TRUE;
}

/* An element whose content is runtime state: checked for shape, then dropped. */
static gboolean
check_runtime_text(xmlNodePtr node, const char *const *allowed, GError **error)
{
    g_autofree char *value = text(node, allowed, error);
    return value != NULL;
}

/* ---- the document ---- */

static xmlDocPtr
read_document(const char *xml, const char *root_name, GError **error)
{
    return xml_util_read_document(ERR_FROM_STORAGE, xml, STORAGE_DEF_XML_MAX_BYTES, root_name,
                                  root_name, error);
}

/* ---- values ---- */

gboolean
storage_def_parse_size(const char *value, const char *unit, uint64_t *ret, GError **error)
{
    g_autofree char *s = g_strstrip(g_strdup(value ? value : ""));
    const char *end = s;
    while (g_ascii_isdigit(*end))
        end++;
    if (end == s || (*end && !g_ascii_isalpha(*end))) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "invalid size '%s'; use a non-negative integer with an optional unit such as "
                "'G'",
                s);
        return FALSE;
    }
    const char *suffix = end;
    if (*suffix && unit && *unit) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "invalid size '%s' with unit '%s'; give the unit only once", s, unit);
        return FALSE;
    }
    const char *u = *suffix ? suffix : unit && *unit ? unit : NULL;
    uint64_t scale = 1;
    if (!xml_util_unit_scale(u, 1, &scale)) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "unknown size unit '%s'; use b, K, KiB, KB, M, MiB, MB, G, GiB, GB, T, P or E", u);
        return FALSE;
    }
    g_autofree char *digits = g_strndup(s, (gsize)(end - s));
    guint64 number = 0;
    if (!g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT64, &number, NULL) ||
        number > STORAGE_DEF_CAPACITY_MAX / scale) {
        g_autofree char *shown = u && !*suffix ? g_strdup_printf("%s %s", s, u) : g_strdup(s);
        err_set(error, ERR_FROM_STORAGE, ERR_OVERFLOW,
                "size '%s' is too large; the limit is %llu bytes (1 PiB)", shown,
                STORAGE_DEF_CAPACITY_MAX);
        return FALSE;
    }
    *ret = number * scale;
    return TRUE;
}

/* <capacity unit='…'>N</capacity> and its kin, in bytes. */
static gboolean
parse_size_element(xmlNodePtr node, uint64_t *ret, GError **error)
{
    g_autofree char *value = text(node, unit_attrs, error);
    if (!value)
        return FALSE;
    g_autofree char *unit = prop(node, "unit");
    if (!storage_def_parse_size(value, unit, ret, error)) {
        g_prefix_error(error, "element '%s': ", node->name);
        return FALSE;
    }
    return TRUE;
}

char *
storage_def_sanitize_path(const char *path)
{
    /* as virFileSanitizePath: one pass, "." and ".." kept */
    GString *out = g_string_sized_new(strlen(path));
    const char *p = path;
    if (p[0] == '/' && p[1] == '/' && p[2] != '/') {
        g_string_append(out, "//");
        p += 2;
    }
    for (; *p; p++) {
        if (*p == '/' && out->len > 0 && out->str[out->len - 1] == '/')
            continue;
        g_string_append_c(out, *p);
    }
    if (out->len > 1 && out->str[out->len - 1] == '/')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

const char *const storage_def_pool_types[] = {
    "dir", "fs",       "netfs",   "logical", "disk",     "iscsi", "iscsi-direct", "scsi", "mpath",
    "rbd", "sheepdog", "gluster", "zfs",     "vstorage", NULL};

char *
storage_def_pool_caps_format(void)
{
    const char *const *types = storage_def_pool_types;
    GString *b = g_string_new("<storagepoolCapabilities>\n");
    for (gsize i = 0; types[i]; i++) {
        if (!g_str_equal(types[i], "dir")) {
            g_string_append_printf(b, "  <pool type='%s' supported='no'/>\n", types[i]);
            continue;
        }
        g_string_append_printf(b,
                               "  <pool type='%s' supported='yes'>\n"
                               "    <volOptions>\n"
                               "      <defaultFormat type='raw'/>\n"
                               "      <enum name='targetFormatType'>\n",
                               types[i]);
        for (gsize f = 0; vol_format_names[f]; f++)
            g_string_append_printf(b, "        <value>%s</value>\n", vol_format_names[f]);
        g_string_append(b, "      </enum>\n    </volOptions>\n  </pool>\n");
    }
    g_string_append(b, "</storagepoolCapabilities>\n");
    return g_string_free(b, FALSE);
}

/* Checks an absolute path and returns it normalized: repeated and trailing '/' removed (as
 * libvirt's virFileSanitizePath); "." and ".." components are refused rather than resolved,
 * since a pool or volume path is compared as a string. WHAT names it in messages. */
static char *
normalize_path(const char *raw, const char *what, GError **error)
{
    g_autofree char *path = g_strstrip(g_strdup(raw));
    if (!*path) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "%s is empty; use an absolute path",
                what);
        return NULL;
    }
    if (strlen(path) > STORAGE_DEF_PATH_MAX) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "%s is %zu bytes long; the limit is %d",
                what, strlen(path), STORAGE_DEF_PATH_MAX);
        return NULL;
    }
    for (const char *p = path; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG, "%s contains a control character",
                    what);
            return NULL;
        }
    }
    if (path[0] != '/') {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "%s '%s' is not absolute; use a path starting with '/'", what, path);
        return NULL;
    }
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    GString *out = g_string_new(NULL);
    for (guint i = 0; parts[i]; i++) {
        if (!*parts[i])
            continue;
        if (g_str_equal(parts[i], ".") || g_str_equal(parts[i], "..")) {
            err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                    "%s '%s' contains '%s'; use a normalized absolute path", what, path, parts[i]);
            g_string_free(out, TRUE);
            return NULL;
        }
        g_string_append_c(out, '/');
        g_string_append(out, parts[i]);
    }
    if (!out->len)
        g_string_append_c(out, '/');
    return g_string_free(out, FALSE);
}

/* An owner or group id: -1 (unset, as libvirt writes it) or 0..G_MAXINT32. */
static gboolean
parse_id(xmlNodePtr node, int *ret, GError **error)
{
    g_autofree char *value = text_stripped(node, none, error);
    if (!value)
        return FALSE;
    gint64 id = 0;
    if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &id, NULL)) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "invalid number '%s' for '%s'", value,
                node->name);
        return FALSE;
    }
    if (id < -1 || id > G_MAXINT32) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "value '%s' for '%s' is out of range; use -1 to %d", value, node->name, G_MAXINT32);
        return FALSE;
    }
    *ret = (int)id;
    return TRUE;
}

/* <permissions><mode>0755</mode><owner>0</owner><group>0</group><label>…</label>. The
 * label is what SELinux says of the file: runtime state, dropped. */
static gboolean
parse_permissions(xmlNodePtr node, int *ret_mode, int *ret_owner, int *ret_group, GError **error)
{
    if (!check_attrs(node, none, error))
        return FALSE;
    xmlNodePtr mode = NULL, owner = NULL, group = NULL, label = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean ok;
        if (ignorable(c))
            continue;
        if (is(c, "mode"))
            ok = once(&mode, c, error);
        else if (is(c, "owner"))
            ok = once(&owner, c, error) && parse_id(c, ret_owner, error);
        else if (is(c, "group"))
            ok = once(&group, c, error) && parse_id(c, ret_group, error);
        else if (is(c, "label"))
            ok = once(&label, c, error) && check_runtime_text(c, none, error);
        else
            ok = unsupported(node, c, error);
        if (!ok)
            return FALSE;
    }
    if (mode) {
        g_autofree char *value = text_stripped(mode, none, error);
        if (!value)
            return FALSE;
        guint64 bits = 0;
        if (!g_ascii_string_to_unsigned(value, 8, 0, 0777, &bits, NULL)) {
            err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                    "invalid mode '%s'; use an octal number from 0000 to 0777", value);
            return FALSE;
        }
        *ret_mode = (int)bits;
    }
    return TRUE;
}

/* <timestamps> of a volume: runtime state, dropped. */
static gboolean
check_timestamps(xmlNodePtr node, GError **error)
{
    static const char *const names[] = {"atime", "mtime", "ctime", "btime", NULL};
    if (!check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (c->type != XML_ELEMENT_NODE || c->ns || lookup(names, (const char *)c->name) < 0)
            return unsupported(node, c, error);
        if (!check_runtime_text(c, none, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- pools ---- */

static struct pool_def *
pool_new(void)
{
    struct pool_def *def = g_new0(struct pool_def, 1);
    def->target_mode = -1;
    def->target_owner = -1;
    def->target_group = -1;
    return def;
}

void
storage_def_pool_free(struct pool_def *def)
{
    if (!def)
        return;
    g_free(def->type);
    g_free(def->name);
    g_free(def->target_path);
    g_free(def);
}

static gboolean
parse_pool_target(struct pool_def *def, xmlNodePtr node, GError **error)
{
    if (!check_attrs(node, none, error))
        return FALSE;
    xmlNodePtr path = NULL, perms = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean ok;
        if (ignorable(c))
            continue;
        if (is(c, "path"))
            ok = once(&path, c, error);
        else if (is(c, "permissions"))
            ok = once(&perms, c, error) &&
                 parse_permissions(c, &def->target_mode, &def->target_owner, &def->target_group,
                                   error);
        else
            ok = unsupported(node, c, error);
        if (!ok)
            return FALSE;
    }
    if (!path) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "pool '%s' has no <target><path>",
                def->name);
        return FALSE;
    }
    g_autofree char *value = text(path, none, error);
    if (!value)
        return FALSE;
    def->target_path = normalize_path(value, "pool target path", error);
    return def->target_path != NULL;
}

static gboolean
parse_pool(struct pool_def *def, xmlNodePtr root, GError **error)
{
    if (!check_attrs(root, type_attrs, error))
        return FALSE;
    def->type = prop(root, "type");
    if (!def->type) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR,
                "missing attribute 'type' on element 'pool'; use type='dir'");
        return FALSE;
    }
    if (!g_str_equal(def->type, "dir")) {
        err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                "pool type '%s' is not supported; use 'dir'", def->type);
        return FALSE;
    }
    xmlNodePtr name = NULL, uuid = NULL, capacity = NULL, allocation = NULL, available = NULL;
    xmlNodePtr source = NULL, target = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        gboolean ok;
        if (ignorable(c))
            continue;
        if (is(c, "name"))
            ok = once(&name, c, error);
        else if (is(c, "uuid"))
            ok = once(&uuid, c, error);
        else if (is(c, "capacity"))
            ok = once(&capacity, c, error) && check_runtime_text(c, unit_attrs, error);
        else if (is(c, "allocation"))
            ok = once(&allocation, c, error) && check_runtime_text(c, unit_attrs, error);
        else if (is(c, "available"))
            ok = once(&available, c, error) && check_runtime_text(c, unit_attrs, error);
        else if (is(c, "source"))
            ok = once(&source, c, error) && check_empty(c, error);
        else if (is(c, "target"))
            ok = once(&target, c, error);
        else
            ok = unsupported(root, c, error);
        if (!ok)
            return FALSE;
    }
    if (!name) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "pool XML has no <name>");
        return FALSE;
    }
    def->name = text(name, none, error);
    if (!def->name || !names_validate(def->name, NAMES_POOL, "pool", ERR_FROM_STORAGE, error))
        return FALSE;
    g_autofree char *uuid_text = uuid ? text_stripped(uuid, none, error) : g_strdup("");
    if (!uuid_text)
        return FALSE;
    if (!*uuid_text) {
        uuid_generate(def->uuid);
    } else if (!uuid_parse(uuid_text, def->uuid)) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "malformed uuid '%s'", uuid_text);
        return FALSE;
    }
    if (!target) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "pool '%s' has no <target><path>",
                def->name);
        return FALSE;
    }
    return parse_pool_target(def, target, error);
}

struct pool_def *
storage_def_pool_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = read_document(xml, "pool", error);
    if (!doc)
        return NULL;
    g_autoptr(pool_def) def = pool_new();
    if (!parse_pool(def, xmlDocGetRootElement(doc), error))
        return NULL;
    return g_steal_pointer(&def);
}

/* ---- volumes ---- */

static struct vol_def *
vol_new(void)
{
    struct vol_def *def = g_new0(struct vol_def, 1);
    def->target_mode = -1;
    def->target_owner = -1;
    def->target_group = -1;
    return def;
}

void
storage_def_vol_free(struct vol_def *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->key);
    g_free(def->format);
    g_free(def->target_path);
    g_free(def->compat);
    g_free(def->backing_path);
    g_free(def->backing_format);
    g_free(def);
}

/* The qcow2-only children of a volume's <target>, found by parse_vol_target. */
struct qcow2_nodes {
    xmlNodePtr compat;
    xmlNodePtr cluster_size;
    xmlNodePtr features;
};

static gboolean
parse_features(struct vol_def *def, xmlNodePtr node, GError **error)
{
    if (!check_attrs(node, none, error))
        return FALSE;
    xmlNodePtr lazy = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (ignorable(c))
            continue;
        if (!is(c, "lazy_refcounts")) {
            if (c->type != XML_ELEMENT_NODE)
                return unsupported(node, c, error);
            g_autofree char *name = xml_util_qualified_name(c);
            err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                    "unsupported volume feature '%s'; only 'lazy_refcounts' is", name);
            return FALSE;
        }
        if (!once(&lazy, c, error) || !check_empty(c, error))
            return FALSE;
    }
    def->lazy_refcounts = lazy != NULL;
    return TRUE;
}

static gboolean
parse_vol_target(struct vol_def *def, xmlNodePtr node, struct qcow2_nodes *q, GError **error)
{
    if (!check_attrs(node, none, error))
        return FALSE;
    xmlNodePtr path = NULL, format = NULL, perms = NULL, timestamps = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean ok;
        if (ignorable(c))
            continue;
        if (is(c, "path"))
            ok = once(&path, c, error);
        else if (is(c, "format"))
            ok = once(&format, c, error) && parse_format_type(c, &def->format, error);
        else if (is(c, "permissions"))
            ok = once(&perms, c, error) &&
                 parse_permissions(c, &def->target_mode, &def->target_owner, &def->target_group,
                                   error);
        else if (is(c, "timestamps"))
            ok = once(&timestamps, c, error) && check_timestamps(c, error);
        else if (is(c, "compat"))
            ok = once(&q->compat, c, error);
        else if (is(c, "clusterSize"))
            ok = once(&q->cluster_size, c, error);
        else if (is(c, "features"))
            ok = once(&q->features, c, error);
        else
            ok = unsupported(node, c, error);
        if (!ok)
            return FALSE;
    }
    if (path) {
        g_autofree char *value = text(path, none, error);
        if (!value)
            return FALSE;
        def->target_path = normalize_path(value, "volume target path", error);
        if (!def->target_path)
            return FALSE;
    }
    return TRUE;
}

/* <backingStore>: path and format are kept; permissions and timestamps describe the backing
 * file as found, so they are dropped. An empty <backingStore/> means none. */
static gboolean
parse_backing(struct vol_def *def, xmlNodePtr node, GError **error)
{
    if (!check_attrs(node, none, error))
        return FALSE;
    xmlNodePtr path = NULL, format = NULL, perms = NULL, timestamps = NULL;
    int unused = -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean ok;
        if (ignorable(c))
            continue;
        if (is(c, "path"))
            ok = once(&path, c, error);
        else if (is(c, "format"))
            ok = once(&format, c, error) && parse_format_type(c, &def->backing_format, error);
        else if (is(c, "permissions"))
            ok = once(&perms, c, error) && parse_permissions(c, &unused, &unused, &unused, error);
        else if (is(c, "timestamps"))
            ok = once(&timestamps, c, error) && check_timestamps(c, error);
        else
            ok = unsupported(node, c, error);
        if (!ok)
            return FALSE;
    }
    if (!path) {
        if (format) {
            err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR,
                    "volume '%s' has a <backingStore> without <path>", def->name);
            return FALSE;
        }
        return TRUE;
    }
    g_autofree char *value = text(path, none, error);
    if (!value)
        return FALSE;
    def->backing_path = normalize_path(value, "backing store path", error);
    return def->backing_path != NULL;
}

/* Checks and stores what only qcow2 takes: compat, clusterSize, features, a backing store. */
static gboolean
finish_qcow2(struct vol_def *def, const struct qcow2_nodes *q, GError **error)
{
    const char *qcow2_only = q->compat           ? "compat"
                             : q->cluster_size   ? "clusterSize"
                             : q->features       ? "features"
                             : def->backing_path ? "backingStore"
                                                 : NULL;
    if (!g_str_equal(def->format, "qcow2")) {
        if (!qcow2_only)
            return TRUE;
        err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                "element '%s' needs volume format 'qcow2'; volume '%s' is '%s'", qcow2_only,
                def->name, def->format);
        return FALSE;
    }
    if (q->compat) {
        g_autofree char *value = text_stripped(q->compat, none, error);
        if (!value)
            return FALSE;
        if (lookup(compat_names, value) < 0) {
            err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                    "unsupported qcow2 compat '%s'; use '0.10' or '1.1'", value);
            return FALSE;
        }
        def->compat = g_steal_pointer(&value);
    }
    if (q->cluster_size) {
        uint64_t size = 0;
        if (!parse_size_element(q->cluster_size, &size, error))
            return FALSE;
        if (size < STORAGE_DEF_CLUSTER_MIN || size > STORAGE_DEF_CLUSTER_MAX ||
            (size & (size - 1))) {
            err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                    "qcow2 cluster size %" G_GUINT64_FORMAT
                    " is invalid; use a power of two from %d to %d bytes",
                    (guint64)size, STORAGE_DEF_CLUSTER_MIN, STORAGE_DEF_CLUSTER_MAX);
            return FALSE;
        }
        def->cluster_size = size;
    }
    if (q->features) {
        if (!parse_features(def, q->features, error))
            return FALSE;
        /* libvirt: features imply the compat level that has them. */
        if (!def->compat)
            def->compat = g_strdup("1.1");
    }
    if (def->lazy_refcounts && g_str_equal(def->compat, "0.10")) {
        err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                "feature 'lazy_refcounts' needs qcow2 compat '1.1'");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_vol(struct vol_def *def, xmlNodePtr root, GError **error)
{
    if (!check_attrs(root, type_attrs, error))
        return FALSE;
    g_autofree char *type = prop(root, "type");
    if (type && !g_str_equal(type, "file")) {
        err_set(error, ERR_FROM_STORAGE, ERR_CONFIG_UNSUPPORTED,
                "volume type '%s' is not supported; use 'file'", type);
        return FALSE;
    }
    xmlNodePtr name = NULL, key = NULL, source = NULL, capacity = NULL, allocation = NULL;
    xmlNodePtr physical = NULL, target = NULL, backing = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        gboolean ok;
        if (ignorable(c))
            continue;
        if (is(c, "name"))
            ok = once(&name, c, error);
        else if (is(c, "key"))
            ok = once(&key, c, error) && check_runtime_text(c, none, error);
        else if (is(c, "source"))
            ok = once(&source, c, error) && check_empty(c, error);
        else if (is(c, "capacity"))
            ok = once(&capacity, c, error);
        else if (is(c, "allocation"))
            ok = once(&allocation, c, error);
        else if (is(c, "physical"))
            ok = once(&physical, c, error) && check_runtime_text(c, unit_attrs, error);
        else if (is(c, "target"))
            ok = once(&target, c, error);
        else if (is(c, "backingStore"))
            ok = once(&backing, c, error);
        else
            ok = unsupported(root, c, error);
        if (!ok)
            return FALSE;
    }
    if (!name) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "volume XML has no <name>");
        return FALSE;
    }
    def->name = text(name, none, error);
    if (!def->name || !names_validate(def->name, NAMES_VOLUME, "volume", ERR_FROM_STORAGE, error))
        return FALSE;
    if (!capacity) {
        err_set(error, ERR_FROM_STORAGE, ERR_XML_ERROR, "volume '%s' has no <capacity>", def->name);
        return FALSE;
    }
    if (!parse_size_element(capacity, &def->capacity, error))
        return FALSE;
    def->allocation = def->capacity;
    if (allocation) {
        if (!parse_size_element(allocation, &def->allocation, error))
            return FALSE;
        def->allocation_given = TRUE;
    }
    struct qcow2_nodes q = {0};
    if (target && !parse_vol_target(def, target, &q, error))
        return FALSE;
    if (!def->format)
        def->format = g_strdup("raw");
    if (backing && !parse_backing(def, backing, error))
        return FALSE;
    if (!finish_qcow2(def, &q, error))
        return FALSE;
    /* A qcow2 file holds metadata besides the data, so its allocation may exceed its
     * capacity (libvirt reports it so); a plain file's may not. */
    if (!g_str_equal(def->format, "qcow2") && def->allocation > def->capacity) {
        err_set(error, ERR_FROM_STORAGE, ERR_INVALID_ARG,
                "volume '%s' allocation %" G_GUINT64_FORMAT
                " is larger than its capacity %" G_GUINT64_FORMAT "; use at most the capacity",
                def->name, (guint64)def->allocation, (guint64)def->capacity);
        return FALSE;
    }
    return TRUE;
}

struct vol_def *
storage_def_vol_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = read_document(xml, "volume", error);
    if (!doc)
        return NULL;
    g_autoptr(vol_def) def = vol_new();
    if (!parse_vol(def, xmlDocGetRootElement(doc), error))
        return NULL;
    return g_steal_pointer(&def);
}

/* ---- formatting ---- */

/* "<NAME>TEXT</NAME>" on a line of its own at LEVEL (2 spaces each); nothing when TEXT is
 * NULL. */
static void
text_element(GString *buf, int level, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, "%*s<%s>", level * 2, "", name);
    xml_util_append_escaped(buf, value);
    g_string_append_printf(buf, "</%s>\n", name);
}

static void
size_element(GString *buf, int level, const char *name, uint64_t bytes)
{
    g_string_append_printf(buf, "%*s<%s unit='bytes'>%" G_GUINT64_FORMAT "</%s>\n", level * 2, "",
                           name, (guint64)bytes, name);
}

/* <permissions> at LEVEL, when any of its values is set (libvirt's rule). */
static void
format_permissions(GString *buf, int level, int mode, int owner, int group)
{
    if (mode < 0 && owner < 0 && group < 0)
        return;
    g_string_append_printf(buf, "%*s<permissions>\n", level * 2, "");
    if (mode >= 0)
        g_string_append_printf(buf, "%*s<mode>0%o</mode>\n", (level + 1) * 2, "", (unsigned)mode);
    if (owner >= 0)
        g_string_append_printf(buf, "%*s<owner>%d</owner>\n", (level + 1) * 2, "", owner);
    if (group >= 0)
        g_string_append_printf(buf, "%*s<group>%d</group>\n", (level + 1) * 2, "", group);
    g_string_append_printf(buf, "%*s</permissions>\n", level * 2, "");
}

/* "<format type='…'/>" at level 2. */
static void
format_type(GString *buf, const char *type)
{
    g_string_append(buf, "    <format type='");
    xml_util_append_escaped_attr(buf, type);
    g_string_append(buf, "'/>\n");
}

char *
storage_def_pool_format(const struct pool_def *def)
{
    GString *buf = g_string_new("<pool type='");
    xml_util_append_escaped_attr(buf, def->type ? def->type : "dir");
    g_string_append(buf, "'>\n");
    text_element(buf, 1, "name", def->name);
    char uuid[UUID_STRING_LEN];
    text_element(buf, 1, "uuid", uuid_format(def->uuid, uuid));
    size_element(buf, 1, "capacity", def->capacity);
    size_element(buf, 1, "allocation", def->allocation);
    size_element(buf, 1, "available", def->available);
    /* libvirt writes an empty source of a dir pool as an open and a close tag. */
    g_string_append(buf, "  <source>\n  </source>\n");
    g_string_append(buf, "  <target>\n");
    text_element(buf, 2, "path", def->target_path);
    format_permissions(buf, 2, def->target_mode, def->target_owner, def->target_group);
    g_string_append(buf, "  </target>\n</pool>\n");
    return g_string_free(buf, FALSE);
}

char *
storage_def_vol_format(const struct vol_def *def)
{
    const char *format = def->format ? def->format : "raw";
    GString *buf = g_string_new("<volume type='file'>\n");
    text_element(buf, 1, "name", def->name);
    text_element(buf, 1, "key", def->key);
    size_element(buf, 1, "capacity", def->capacity);
    size_element(buf, 1, "allocation", def->allocation);
    if (def->physical)
        size_element(buf, 1, "physical", def->physical);
    g_string_append(buf, "  <target>\n");
    text_element(buf, 2, "path", def->target_path);
    format_type(buf, format);
    format_permissions(buf, 2, def->target_mode, def->target_owner, def->target_group);
    text_element(buf, 2, "compat", def->compat);
    if (def->cluster_size)
        g_string_append_printf(buf,
                               "    <clusterSize unit='B'>%" G_GUINT64_FORMAT "</clusterSize>\n",
                               (guint64)def->cluster_size);
    if (def->lazy_refcounts)
        g_string_append(buf, "    <features>\n      <lazy_refcounts/>\n    </features>\n");
    g_string_append(buf, "  </target>\n");
    if (def->backing_path) {
        g_string_append(buf, "  <backingStore>\n");
        text_element(buf, 2, "path", def->backing_path);
        if (def->backing_format)
            format_type(buf, def->backing_format);
        g_string_append(buf, "  </backingStore>\n");
    }
    g_string_append(buf, "</volume>\n");
    return g_string_free(buf, FALSE);
}
