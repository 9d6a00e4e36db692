/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migration_cookie: <domus-migration> documents. Every element is optional; an unknown one is
 * refused, so two hosts never misread each other silently. */
#include "conf/migration_cookie.h"

#include <string.h>

#include "conf/xml_util.h"
#include "util/err.h"

#define COOKIE_MAX (256 * 1024)
#define COOKIE_DISKS_MAX 256

static void
disk_free(gpointer data)
{
    struct migration_cookie_disk *d = data;
    g_free(d->target);
    g_free(d->path);
    g_free(d->format);
    g_free(d->backing);
    g_free(d);
}

struct migration_cookie *
migration_cookie_new(void)
{
    struct migration_cookie *c = g_new0(struct migration_cookie, 1);
    c->disks = g_ptr_array_new_with_free_func(disk_free);
    c->nbd_exports = g_ptr_array_new_with_free_func(g_free);
    return c;
}

void
migration_cookie_free(struct migration_cookie *c)
{
    if (!c)
        return;
    g_free(c->name);
    g_free(c->hostname);
    g_free(c->host_uuid);
    g_free(c->nbd_host);
    if (c->nbd_exports)
        g_ptr_array_free(c->nbd_exports, TRUE);
    if (c->disks)
        g_ptr_array_free(c->disks, TRUE);
    g_free(c);
}

struct migration_cookie_disk *
migration_cookie_add_disk(struct migration_cookie *c, const char *target, const char *path,
                          guint64 dev, guint64 ino, guint64 size, gboolean shared_fs)
{
    struct migration_cookie_disk *d = g_new0(struct migration_cookie_disk, 1);
    d->target = g_strdup(target);
    d->path = g_strdup(path);
    d->dev = dev;
    d->ino = ino;
    d->size = size;
    d->shared_fs = shared_fs;
    g_ptr_array_add(c->disks, d);
    return d;
}

const struct migration_cookie_disk *
migration_cookie_disk(const struct migration_cookie *c, const char *target)
{
    for (guint i = 0; i < c->disks->len; i++) {
        const struct migration_cookie_disk *d = c->disks->pdata[i];
        if (g_str_equal(d->target, target))
            return d;
    }
    return NULL;
}

char *
migration_cookie_export_name(const char *target)
{
    return g_strdup_printf("domus-%s", target);
}

static void
text_element(GString *b, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(b, "  <%s>", name);
    xml_util_append_escaped(b, value);
    g_string_append_printf(b, "</%s>\n", name);
}

char *
migration_cookie_format(const struct migration_cookie *c)
{
    GString *b = g_string_new("<domus-migration>\n");
    text_element(b, "name", c->name);
    if (c->has_uuid) {
        char buf[UUID_STRING_LEN];
        text_element(b, "uuid", uuid_format(c->uuid, buf));
    }
    text_element(b, "hostname", c->hostname);
    text_element(b, "hostuuid", c->host_uuid);
    for (guint i = 0; i < c->disks->len; i++) {
        const struct migration_cookie_disk *d = c->disks->pdata[i];
        g_string_append(b, "  <disk target='");
        xml_util_append_escaped_attr(b, d->target);
        g_string_append(b, "' path='");
        xml_util_append_escaped_attr(b, d->path);
        g_string_append_printf(b,
                               "' dev='%" G_GUINT64_FORMAT "' ino='%" G_GUINT64_FORMAT
                               "' size='%" G_GUINT64_FORMAT "' shared-fs='%s'",
                               d->dev, d->ino, d->size, d->shared_fs ? "yes" : "no");
        if (d->capacity)
            g_string_append_printf(b, " capacity='%" G_GUINT64_FORMAT "'", d->capacity);
        if (d->format) {
            g_string_append(b, " format='");
            xml_util_append_escaped_attr(b, d->format);
            g_string_append(b, "'");
        }
        if (d->backing) {
            g_string_append(b, " backing='");
            xml_util_append_escaped_attr(b, d->backing);
            g_string_append(b, "'");
        }
        g_string_append(b, "/>\n");
    }
    if (c->nbd_port) {
        g_string_append(b, "  <nbd host='");
        xml_util_append_escaped_attr(b, c->nbd_host ? c->nbd_host : "");
        g_string_append_printf(b, "' port='%u'>\n", c->nbd_port);
        for (guint i = 0; i < c->nbd_exports->len; i++) {
            g_string_append(b, "    <export target='");
            xml_util_append_escaped_attr(b, c->nbd_exports->pdata[i]);
            g_string_append(b, "'/>\n");
        }
        g_string_append(b, "  </nbd>\n");
    }
    if (c->has_stats)
        g_string_append_printf(b,
                               "  <statistics downtime='%" G_GUINT64_FORMAT
                               "' total='%" G_GUINT64_FORMAT "' setup='%" G_GUINT64_FORMAT
                               "' transferred='%" G_GUINT64_FORMAT "'/>\n",
                               c->downtime_ms, c->total_ms, c->setup_ms, c->transferred);
    g_string_append(b, "</domus-migration>\n");
    return g_string_free(b, FALSE);
}

static gboolean
bad(GError **error, const char *what, const char *value)
{
    err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR, "migration cookie: %s '%s' is not valid", what,
            value ? value : "(missing)");
    return FALSE;
}

static gboolean
number_attr(xmlNodePtr node, const char *name, guint64 *ret, GError **error)
{
    g_autofree char *v = xml_util_prop(node, name);
    if (!v || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, ret, NULL))
        return bad(error, name, v);
    return TRUE;
}

static gboolean
parse_disk(struct migration_cookie *c, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"target",    "path",     "dev",    "ino",     "size",
                                        "shared-fs", "capacity", "format", "backing", NULL};
    if (c->disks->len >= COOKIE_DISKS_MAX)
        return bad(error, "number of disks", "too many");
    if (!xml_util_check_attrs(ERR_FROM_QEMU, node, attrs, error))
        return FALSE;
    g_autofree char *target = xml_util_prop(node, "target");
    g_autofree char *path = xml_util_prop(node, "path");
    g_autofree char *shared = xml_util_prop(node, "shared-fs");
    guint64 dev, ino, size;
    if (!target || !*target)
        return bad(error, "disk target", target);
    if (!path || !g_path_is_absolute(path))
        return bad(error, "disk path", path);
    if (!shared || (!g_str_equal(shared, "yes") && !g_str_equal(shared, "no")))
        return bad(error, "disk shared-fs", shared);
    if (!number_attr(node, "dev", &dev, error) || !number_attr(node, "ino", &ino, error) ||
        !number_attr(node, "size", &size, error))
        return FALSE;
    g_autofree char *capacity = xml_util_prop(node, "capacity");
    g_autofree char *format = xml_util_prop(node, "format");
    g_autofree char *backing = xml_util_prop(node, "backing");
    guint64 cap = 0;
    if (capacity && !g_ascii_string_to_unsigned(capacity, 10, 1, G_MAXUINT64, &cap, NULL))
        return bad(error, "disk capacity", capacity);
    if (format && !g_str_equal(format, "raw") && !g_str_equal(format, "qcow2"))
        return bad(error, "disk format", format);
    if (backing && !g_path_is_absolute(backing))
        return bad(error, "disk backing", backing);
    struct migration_cookie_disk *d =
        migration_cookie_add_disk(c, target, path, dev, ino, size, g_str_equal(shared, "yes"));
    d->capacity = cap;
    d->format = g_steal_pointer(&format);
    d->backing = g_steal_pointer(&backing);
    return TRUE;
}

static gboolean
parse_nbd(struct migration_cookie *c, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"host", "port", NULL};
    static const char *const export_attrs[] = {"target", NULL};
    if (!xml_util_check_attrs(ERR_FROM_QEMU, node, attrs, error))
        return FALSE;
    g_autofree char *host = xml_util_prop(node, "host");
    g_autofree char *port = xml_util_prop(node, "port");
    guint64 p;
    if (!host || !*host || strpbrk(host, "/?#@,"))
        return bad(error, "NBD host", host);
    if (!port || !g_ascii_string_to_unsigned(port, 10, 1, 65535, &p, NULL))
        return bad(error, "NBD port", port);
    for (xmlNodePtr n = node->children; n; n = n->next) {
        if (xml_util_ignorable(n))
            continue;
        if (!xml_util_is(n, "export"))
            return xml_util_unsupported(ERR_FROM_QEMU, node, n, error);
        if (c->nbd_exports->len >= COOKIE_DISKS_MAX)
            return bad(error, "number of exports", "too many");
        if (!xml_util_check_attrs(ERR_FROM_QEMU, n, export_attrs, error))
            return FALSE;
        g_autofree char *target = xml_util_prop(n, "target");
        if (!target || !*target || strpbrk(target, "/:,"))
            return bad(error, "export target", target);
        g_ptr_array_add(c->nbd_exports, g_steal_pointer(&target));
    }
    g_free(c->nbd_host);
    c->nbd_host = g_steal_pointer(&host);
    c->nbd_port = (guint)p;
    return TRUE;
}

static gboolean
parse_stats(struct migration_cookie *c, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"downtime", "total", "setup", "transferred", NULL};
    if (!xml_util_check_attrs(ERR_FROM_QEMU, node, attrs, error) ||
        !number_attr(node, "downtime", &c->downtime_ms, error) ||
        !number_attr(node, "total", &c->total_ms, error) ||
        !number_attr(node, "setup", &c->setup_ms, error) ||
        !number_attr(node, "transferred", &c->transferred, error))
        return FALSE;
    c->has_stats = TRUE;
    return TRUE;
}

struct migration_cookie *
migration_cookie_parse(const char *data, gsize len, GError **error)
{
    g_autoptr(migration_cookie) c = migration_cookie_new();
    /* libvirt's clients send the cookie with its terminating NUL */
    while (len > 0 && data[len - 1] == '\0')
        len--;
    if (len == 0)
        return g_steal_pointer(&c);
    if (len > COOKIE_MAX || memchr(data, '\0', len)) {
        bad(error, "document", len > COOKIE_MAX ? "too large" : "binary");
        return NULL;
    }
    g_autofree char *text = g_strndup(data, len);
    xmlDocPtr doc = xml_util_read_document(ERR_FROM_QEMU, text, COOKIE_MAX, "migration cookie",
                                           "domus-migration", error);
    if (!doc)
        return NULL;
    gboolean ok = TRUE;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root->children; ok && n; n = n->next) {
        if (xml_util_ignorable(n))
            continue;
        char **slot = xml_util_is(n, "name")       ? &c->name
                      : xml_util_is(n, "hostname") ? &c->hostname
                      : xml_util_is(n, "hostuuid") ? &c->host_uuid
                                                   : NULL;
        if (slot) {
            g_free(*slot);
            *slot = xml_util_text(ERR_FROM_QEMU, n, error);
            ok = *slot != NULL;
        } else if (xml_util_is(n, "uuid")) {
            g_autofree char *u = xml_util_text(ERR_FROM_QEMU, n, error);
            ok = u && (uuid_parse(u, c->uuid) || bad(error, "uuid", u));
            c->has_uuid = ok;
        } else if (xml_util_is(n, "disk")) {
            ok = parse_disk(c, n, error);
        } else if (xml_util_is(n, "nbd")) {
            ok = parse_nbd(c, n, error);
        } else if (xml_util_is(n, "statistics")) {
            ok = parse_stats(c, n, error);
        } else {
            ok = xml_util_unsupported(ERR_FROM_QEMU, root, n, error);
        }
    }
    uint8_t scratch[UUID_LEN];
    if (ok && c->host_uuid && !uuid_parse(c->host_uuid, scratch))
        ok = bad(error, "host uuid", c->host_uuid);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&c) : NULL;
}
