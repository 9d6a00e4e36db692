/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpuset: items apply in order, as libvirt's virBitmapParse applies them: "^3" removes a CPU
 * an earlier range added. */
#include "util/cpuset.h"

#include <string.h>

#include "util/err.h"

static void
set_bit(struct cpuset *s, guint cpu, gboolean on)
{
    if (on)
        s->bits[cpu / 8] |= (guint8)(1u << (cpu % 8));
    else
        s->bits[cpu / 8] &= (guint8) ~(1u << (cpu % 8));
}

gboolean
cpuset_has(const struct cpuset *set, guint cpu)
{
    return cpu < CPUSET_MAX && (set->bits[cpu / 8] & (1u << (cpu % 8)));
}

static gboolean
parse_cpu(const char *text, guint *ret)
{
    guint64 v;
    if (!g_ascii_string_to_unsigned(text, 10, 0, CPUSET_MAX - 1, &v, NULL))
        return FALSE;
    *ret = (guint)v;
    return TRUE;
}

gboolean
cpuset_parse(const char *text, struct cpuset *ret, GError **error)
{
    struct cpuset s;
    memset(&s, 0, sizeof(s));
    g_auto(GStrv) items = g_strsplit(text, ",", -1);
    gboolean any = FALSE;
    for (int i = 0; items[i]; i++) {
        char *item = g_strstrip(items[i]);
        gboolean neg = item[0] == '^';
        if (neg)
            item++;
        char *dash = neg ? NULL : strchr(item, '-');
        guint lo, hi;
        if (dash) {
            *dash = '\0';
            if (!parse_cpu(item, &lo) || !parse_cpu(dash + 1, &hi) || hi < lo) {
                err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                        "invalid cpuset '%s': bad range '%s-%s'; use CPUs from 0 to %d", text, item,
                        dash + 1, CPUSET_MAX - 1);
                return FALSE;
            }
        } else if (!parse_cpu(item, &lo)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "invalid cpuset '%s': bad item '%s%s'; use CPUs from 0 to %d", text,
                    neg ? "^" : "", item, CPUSET_MAX - 1);
            return FALSE;
        } else {
            hi = lo;
        }
        for (guint c = lo; c <= hi; c++)
            set_bit(&s, c, !neg);
        any = TRUE;
    }
    gboolean empty = TRUE;
    for (gsize i = 0; i < sizeof(s.bits); i++)
        if (s.bits[i])
            empty = FALSE;
    if (!any || empty) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "invalid cpuset '%s': it names no CPU",
                text);
        return FALSE;
    }
    *ret = s;
    return TRUE;
}

char *
cpuset_format(const struct cpuset *set)
{
    GString *out = g_string_new(NULL);
    for (guint c = 0; c < CPUSET_MAX; c++) {
        if (!cpuset_has(set, c))
            continue;
        guint end = c;
        while (end + 1 < CPUSET_MAX && cpuset_has(set, end + 1))
            end++;
        if (out->len)
            g_string_append_c(out, ',');
        if (end == c)
            g_string_append_printf(out, "%u", c);
        else
            g_string_append_printf(out, "%u-%u", c, end);
        c = end;
    }
    return g_string_free(out, FALSE);
}

gboolean
cpuset_to_cpu_set(const struct cpuset *set, cpu_set_t *ret)
{
    CPU_ZERO(ret);
    gboolean any = FALSE;
    for (guint c = 0; c < CPU_SETSIZE && c < CPUSET_MAX; c++) {
        if (cpuset_has(set, c)) {
            CPU_SET(c, ret);
            any = TRUE;
        }
    }
    return any;
}
