/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vlan: the <vlan> element of interfaces, networks and portgroups; prefix vlan_def_. */
#include <string.h>

#include "conf/vlan.h"
#include "conf/xml_util.h"
#include "util/err.h"

static const char *const native_names[] = {"default", "tagged", "untagged", NULL};

void
vlan_def_clear(struct vlan_def *vlan)
{
    g_free(vlan->tags);
    memset(vlan, 0, sizeof(*vlan));
}

void
vlan_def_copy(struct vlan_def *dst, const struct vlan_def *src)
{
    *dst = *src;
    dst->tags = src->ntags ? g_memdup2(src->tags, src->ntags * sizeof(guint)) : NULL;
}

gboolean
vlan_def_equal(const struct vlan_def *a, const struct vlan_def *b)
{
    return a->ntags == b->ntags && a->trunk == b->trunk && a->native_mode == b->native_mode &&
           a->native_tag == b->native_tag &&
           (!a->ntags || memcmp(a->tags, b->tags, a->ntags * sizeof(guint)) == 0);
}

static gboolean
parse_tag(int origin, xmlNodePtr tag, struct vlan_def *vlan, GError **error)
{
    static const char *const attrs[] = {"id", "nativeMode", NULL};
    if (!xml_util_check_attrs(origin, tag, attrs, error))
        return FALSE;
    for (xmlNodePtr c = tag->children; c; c = c->next) {
        if (!xml_util_ignorable(c))
            return xml_util_unsupported(origin, tag, c, error);
    }
    g_autofree char *id = xml_util_prop(tag, "id");
    guint64 v = 0;
    if (!id) {
        err_set(error, origin, ERR_XML_ERROR,
                "missing tag id - each <vlan> must have at least "
                "one <tag id='n'/> subelement");
        return FALSE;
    }
    if (!g_ascii_string_to_unsigned(id, 10, 0, G_MAXUINT32, &v, NULL)) {
        err_set(error, origin, ERR_XML_ERROR, "invalid vlan tag id '%s'", id);
        return FALSE;
    }
    if (v > VLAN_TAG_MAX) {
        err_set(error, origin, ERR_XML_ERROR, "vlan tag id %u too large (maximum %d)", (guint)v,
                VLAN_TAG_MAX);
        return FALSE;
    }
    for (guint i = 0; i < vlan->ntags; i++) {
        if (vlan->tags[i] == (guint)v) {
            /* (a native mode on one of them would be written on both) */
            err_set(error, origin, ERR_XML_ERROR, "vlan tag %u is listed twice", (guint)v);
            return FALSE;
        }
    }
    g_autofree char *native = xml_util_prop(tag, "nativeMode");
    if (native) {
        int mode = xml_util_lookup(native_names, native);
        if (mode <= 0) {
            err_set(error, origin, ERR_XML_ERROR,
                    "invalid nativeMode '%s' of vlan tag %u; use 'tagged' or 'untagged'", native,
                    (guint)v);
            return FALSE;
        }
        if (vlan->native_mode != VLAN_NATIVE_NONE) {
            err_set(error, origin, ERR_XML_ERROR, "duplicate native vlan setting");
            return FALSE;
        }
        vlan->native_mode = (enum vlan_native)mode;
        vlan->native_tag = (guint)v;
    }
    vlan->tags = g_renew(guint, vlan->tags, vlan->ntags + 1);
    vlan->tags[vlan->ntags++] = (guint)v;
    return TRUE;
}

gboolean
vlan_def_parse(int origin, xmlNodePtr node, struct vlan_def *ret, GError **error)
{
    static const char *const attrs[] = {"trunk", NULL};
    struct vlan_def vlan = {0};
    if (!xml_util_check_attrs(origin, node, attrs, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        if (!xml_util_is(c, "tag")) {
            vlan_def_clear(&vlan);
            return xml_util_unsupported(origin, node, c, error);
        }
        if (vlan.ntags > VLAN_TAG_MAX) {
            err_set(error, origin, ERR_XML_ERROR, "too many vlan tags");
            vlan_def_clear(&vlan);
            return FALSE;
        }
        if (!parse_tag(origin, c, &vlan, error)) {
            vlan_def_clear(&vlan);
            return FALSE;
        }
    }
    if (!vlan.ntags) {
        err_set(error, origin, ERR_XML_ERROR,
                "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement");
        return FALSE;
    }
    vlan.trunk = vlan.ntags > 1;
    g_autofree char *trunk = xml_util_prop(node, "trunk");
    if (trunk) {
        vlan.trunk = g_ascii_strcasecmp(trunk, "yes") == 0;
        const char *problem = NULL;
        if (!vlan.trunk && vlan.ntags > 1)
            problem = "trunk='yes' is required for more than one vlan tag";
        else if (!vlan.trunk && vlan.native_mode != VLAN_NATIVE_NONE)
            problem = "\"trunk='no'\" is not allowed with a native vlan id";
        else if (!vlan.trunk && g_ascii_strcasecmp(trunk, "no") != 0)
            problem = "must be yes or no";
        if (problem) {
            err_set(error, origin, ERR_XML_ERROR, "invalid \"trunk='%s'\" in <vlan> - %s", trunk,
                    problem);
            vlan_def_clear(&vlan);
            return FALSE;
        }
    }
    vlan_def_clear(ret);
    *ret = vlan;
    return TRUE;
}

void
vlan_def_format(GString *buf, int level, const struct vlan_def *vlan)
{
    if (!vlan->ntags)
        return;
    g_string_append_printf(buf, "%*s<vlan%s>\n", level * 2, "", vlan->trunk ? " trunk='yes'" : "");
    for (guint i = 0; i < vlan->ntags; i++) {
        g_string_append_printf(buf, "%*s<tag id='%u'", (level + 1) * 2, "", vlan->tags[i]);
        if (vlan->native_mode != VLAN_NATIVE_NONE && vlan->native_tag == vlan->tags[i])
            g_string_append_printf(buf, " nativeMode='%s'", native_names[vlan->native_mode]);
        g_string_append(buf, "/>\n");
    }
    g_string_append_printf(buf, "%*s</vlan>\n", level * 2, "");
}
