/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bandwidth: the <bandwidth> element; prefix bandwidth_def_. */
#include <string.h>

#include "conf/bandwidth.h"
#include "conf/xml_util.h"
#include "util/err.h"

gboolean
bandwidth_rate_given(const struct bandwidth_rate *r)
{
    return r->average || r->floor;
}

static gboolean
parse_value(int origin, xmlNodePtr node, const char *name, guint64 max, guint64 *ret,
            GError **error)
{
    g_autofree char *text = xml_util_prop(node, name);
    guint64 v = 0;
    if (!text)
        return TRUE;
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &v, NULL)) {
        err_set(error, origin, ERR_XML_ERROR, "could not convert bandwidth %s value '%s'", name,
                text);
        return FALSE;
    }
    if (v > max) {
        err_set(error, origin, ERR_INVALID_ARG,
                "bandwidth %s %" G_GUINT64_FORMAT " of '%s' is out of range; the most is "
                "%" G_GUINT64_FORMAT,
                name, v, (const char *)node->name, max);
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

static gboolean
parse_rate(int origin, xmlNodePtr node, gboolean in, gboolean floor_ok, struct bandwidth_rate *r,
           GError **error)
{
    static const char *const attrs[] = {"average", "peak", "burst", "floor", NULL};
    if (!xml_util_check_attrs(origin, node, attrs, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!xml_util_ignorable(c))
            return xml_util_unsupported(origin, node, c, error);
    }
    if (!parse_value(origin, node, "average", BANDWIDTH_RATE_MAX, &r->average, error) ||
        !parse_value(origin, node, "peak", BANDWIDTH_RATE_MAX, &r->peak, error) ||
        !parse_value(origin, node, "burst", G_MAXUINT32, &r->burst, error) ||
        !parse_value(origin, node, "floor", BANDWIDTH_RATE_MAX, &r->floor, error))
        return FALSE;
    if (r->floor && !in) {
        err_set(error, origin, ERR_CONFIG_UNSUPPORTED,
                "'floor' attribute allowed only in <inbound> element");
        return FALSE;
    }
    if (r->floor && !floor_ok) {
        err_set(error, origin, ERR_CONFIG_UNSUPPORTED,
                "floor attribute is not supported for this config");
        return FALSE;
    }
    if (!r->average && !r->floor) {
        err_set(error, origin, ERR_XML_DETAIL, "Missing mandatory average or floor attributes");
        return FALSE;
    }
    if ((r->peak || r->burst) && !r->average) {
        err_set(error, origin, ERR_XML_DETAIL, "'peak' and 'burst' require 'average' attribute");
        return FALSE;
    }
    if (r->peak && r->peak < r->average) {
        err_set(error, origin, ERR_XML_DETAIL,
                "peak %" G_GUINT64_FORMAT " of the %s bandwidth is below its average "
                "%" G_GUINT64_FORMAT,
                r->peak, in ? "inbound" : "outbound", r->average);
        return FALSE;
    }
    return TRUE;
}

gboolean
bandwidth_def_parse(int origin, xmlNodePtr node, gboolean floor_ok, struct bandwidth_rate *ret_in,
                    struct bandwidth_rate *ret_out, unsigned *ret_class_id, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const class_attrs[] = {"classID", NULL};
    struct bandwidth_rate rates[2] = {{0}, {0}};
    xmlNodePtr seen[2] = {NULL, NULL};
    guint64 class_id = 0;
    if (!xml_util_check_attrs(origin, node, ret_class_id ? class_attrs : none, error) ||
        !parse_value(origin, node, "classID", 0xffff, &class_id, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (xml_util_ignorable(c))
            continue;
        gboolean in = xml_util_is(c, "inbound");
        if (!in && !xml_util_is(c, "outbound"))
            return xml_util_unsupported(origin, node, c, error);
        if (!xml_util_once(origin, &seen[in ? 0 : 1], c, error) ||
            !parse_rate(origin, c, in, floor_ok, &rates[in ? 0 : 1], error))
            return FALSE;
    }
    *ret_in = rates[0];
    *ret_out = rates[1];
    if (ret_class_id)
        *ret_class_id = (unsigned)class_id;
    return TRUE;
}

static void
format_rate(GString *buf, int level, const char *name, const struct bandwidth_rate *r)
{
    if (!bandwidth_rate_given(r))
        return;
    g_string_append_printf(buf, "%*s<%s", level * 2, "", name);
    if (r->average)
        g_string_append_printf(buf, " average='%" G_GUINT64_FORMAT "'", r->average);
    if (r->peak)
        g_string_append_printf(buf, " peak='%" G_GUINT64_FORMAT "'", r->peak);
    if (r->floor)
        g_string_append_printf(buf, " floor='%" G_GUINT64_FORMAT "'", r->floor);
    if (r->burst)
        g_string_append_printf(buf, " burst='%" G_GUINT64_FORMAT "'", r->burst);
    g_string_append(buf, "/>\n");
}

void
bandwidth_def_format(GString *buf, int level, const struct bandwidth_rate *in,
                     const struct bandwidth_rate *out, unsigned class_id)
{
    if (!bandwidth_rate_given(in) && !bandwidth_rate_given(out))
        return;
    g_string_append_printf(buf, "%*s<bandwidth", level * 2, "");
    if (class_id)
        g_string_append_printf(buf, " classID='%u'", class_id);
    g_string_append(buf, ">\n");
    format_rate(buf, level + 1, "inbound", in);
    format_rate(buf, level + 1, "outbound", out);
    g_string_append_printf(buf, "%*s</bandwidth>\n", level * 2, "");
}
