/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* moment: the metadata files of snapshots and checkpoints; prefix moment_. */
#include "core/moment.h"

#include <string.h>
#include <unistd.h>

#include "util/file.h"
#include "util/log.h"

#define CURRENT_FILE ".current"

char *
moment_dir(struct domain *dom, const char *kind)
{
    return g_build_filename(dom->core->paths.state_dir, kind, dom->def->name, NULL);
}

char *
moment_path(struct domain *dom, const char *kind, const char *name)
{
    g_autofree char *dir = moment_dir(dom, kind);
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    return g_build_filename(dir, file, NULL);
}

gboolean
moment_write_current(struct domain *dom, const char *kind, const char *current, GError **error)
{
    g_autofree char *dir = moment_dir(dom, kind);
    g_autofree char *path = g_build_filename(dir, CURRENT_FILE, NULL);
    if (!current)
        return file_remove(path, error);
    return file_mkdir_p(dir, 0700, error) &&
           file_write_atomic(path, current, strlen(current), 0600, FILE_DURABLE, error);
}

gboolean
moment_write(struct domain *dom, const char *kind, const char *name, const char *xml,
             GError **error)
{
    g_autofree char *dir = moment_dir(dom, kind);
    g_autofree char *path = moment_path(dom, kind, name);
    return file_mkdir_p(dir, 0700, error) &&
           file_write_atomic(path, xml, strlen(xml), 0600, FILE_DURABLE, error);
}

char *
moment_load(struct domain *dom, const char *kind, GHashTable *table, moment_parse_fn parse)
{
    g_autofree char *dir = moment_dir(dom, kind);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;
    while (d && (entry = g_dir_read_name(d))) {
        if (!g_str_has_suffix(entry, ".xml") || entry[0] == '.')
            continue;
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        const char *name = NULL;
        gpointer def = NULL;
        if (g_file_get_contents(path, &xml, NULL, &error))
            def = parse(xml, &name, &error);
        if (!def) {
            log_warn("%s: ignoring %s metadata '%s': %s", dom->def->name, kind, path,
                     error ? error->message : "no name");
            continue;
        }
        g_hash_table_replace(table, (gpointer)name, def);
    }
    g_autofree char *cur = g_build_filename(dir, CURRENT_FILE, NULL);
    g_autofree char *name = NULL;
    if (g_file_get_contents(cur, &name, NULL, NULL) && g_hash_table_contains(table, name))
        return g_steal_pointer(&name);
    return NULL;
}

gboolean
moment_forget_all(struct domain *dom, const char *kind, GHashTable *table, GError **error)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_autofree char *path = moment_path(dom, kind, key);
        if (!file_remove(path, error))
            return FALSE;
    }
    g_hash_table_remove_all(table);
    if (!moment_write_current(dom, kind, NULL, error))
        return FALSE;
    g_autofree char *dir = moment_dir(dom, kind);
    rmdir(dir);
    return TRUE;
}

gboolean
moment_would_cycle(GHashTable *table, const char *name, const char *parent,
                   moment_parent_fn parent_of)
{
    guint hops = 0;
    for (const char *p = parent; p && hops <= g_hash_table_size(table); hops++) {
        if (g_str_equal(p, name))
            return TRUE;
        gconstpointer up = g_hash_table_lookup(table, p);
        p = up ? parent_of(up) : NULL;
    }
    return FALSE;
}
