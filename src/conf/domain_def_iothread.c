/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def_iothread: <iothreads>, <iothreadids> and the disks' IOThreads, as libvirt reads
 * and writes them; prefix domain_def_iothread. Ids given in <iothreadids> are kept; up to the
 * <iothreads> count the rest are filled with the lowest free ids and not formatted back. */
#include "conf/domain_def_priv.h"
#include "util/err.h"

void
domain_def_iothread_free(struct iothread_def *iothread)
{
    if (!iothread)
        return;
    g_free(iothread->cpuset);
    g_free(iothread);
}

gpointer
domain_def_iothread_copy(gconstpointer src, gpointer unused)
{
    const struct iothread_def *s = src;
    struct iothread_def *t = g_new0(struct iothread_def, 1);
    *t = *s;
    t->cpuset = g_strdup(s->cpuset);
    return t;
}

struct iothread_def *
domain_def_iothread_find(const struct domain_def *def, unsigned id)
{
    for (guint i = 0; i < def->iothreads->len; i++) {
        struct iothread_def *t = def->iothreads->pdata[i];
        if (t->id == id)
            return t;
    }
    return NULL;
}

struct iothread_def *
domain_def_iothread_add(struct domain_def *def, unsigned id, gboolean autofill)
{
    struct iothread_def *t = g_new0(struct iothread_def, 1);
    t->id = id;
    t->autofill = autofill;
    g_ptr_array_add(def->iothreads, t);
    return t;
}

gboolean
domain_def_iothreads_parse(struct domain_def *def, xmlNodePtr count, xmlNodePtr ids, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const id_attrs[] = {"id", NULL};
    guint64 n = 0;
    if (count) {
        g_autofree char *text = domain_def_xml_text(count, error);
        if (!text || !domain_def_xml_check_attrs(count, none, error))
            return FALSE;
        g_strstrip(text);
        if (!g_ascii_string_to_unsigned(text, 10, 0, DOMAIN_DEF_IOTHREADS_MAX, &n, NULL)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "invalid iothreads count '%s'; use 0 to %d", text, DOMAIN_DEF_IOTHREADS_MAX);
            return FALSE;
        }
    }
    if (ids && !domain_def_xml_check_attrs(ids, none, error))
        return FALSE;
    for (xmlNodePtr c = ids ? ids->children : NULL; c; c = c->next) {
        guint64 id = 0;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "iothread"))
            return domain_def_xml_unsupported(ids, c, error);
        g_autofree char *given = domain_def_xml_prop_required(c, "id", error);
        if (!given || !domain_def_xml_check_attrs(c, id_attrs, error) ||
            !domain_def_xml_check_empty(c, error) ||
            !domain_def_xml_uint(c, "id", 1, G_MAXUINT32, &id, error))
            return FALSE;
        if (domain_def_iothread_find(def, (unsigned)id)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "duplicate iothread id '%u' found",
                    (unsigned)id);
            return FALSE;
        }
        if (def->iothreads->len == DOMAIN_DEF_IOTHREADS_MAX) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "more than %d iothreads",
                    DOMAIN_DEF_IOTHREADS_MAX);
            return FALSE;
        }
        domain_def_iothread_add(def, (unsigned)id, FALSE);
    }
    /* libvirt numbers the others from 1, skipping the ids given */
    for (unsigned id = 1; def->iothreads->len < n; id++) {
        if (!domain_def_iothread_find(def, id))
            domain_def_iothread_add(def, id, TRUE);
    }
    return TRUE;
}

gboolean
domain_def_iothreads_check(const struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        if (!d->iothread)
            continue;
        if (d->bus != DISK_BUS_VIRTIO) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "IOThreads are only available for virtio pci and virtio ccw disk; disk '%s' "
                    "is on bus '%s'",
                    d->target_dev, disk_bus_to_string(d->bus));
            return FALSE;
        }
        if (!domain_def_iothread_find(def, d->iothread)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Disk iothread '%u' not defined in iothreadid; add it to <iothreadids>",
                    d->iothread);
            return FALSE;
        }
    }
    return TRUE;
}

void
domain_def_iothreads_format(GString *buf, const struct domain_def *def)
{
    if (!def->iothreads->len)
        return;
    domain_def_indent(buf, 1);
    g_string_append_printf(buf, "<iothreads>%u</iothreads>\n", def->iothreads->len);
    gboolean given = FALSE;
    for (guint i = 0; i < def->iothreads->len; i++)
        given |= !((struct iothread_def *)def->iothreads->pdata[i])->autofill;
    if (!given)
        return;
    domain_def_indent(buf, 1);
    g_string_append(buf, "<iothreadids>\n");
    for (guint i = 0; i < def->iothreads->len; i++) {
        domain_def_indent(buf, 2);
        g_string_append_printf(buf, "<iothread id='%u'/>\n",
                               ((struct iothread_def *)def->iothreads->pdata[i])->id);
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "</iothreadids>\n");
}
