/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def_vcpus: <vcpus>, each vCPU's state (enabled, hot-pluggable, order), as libvirt
 * reads, checks and writes it; prefix domain_def_vcpu. Without <vcpus> the first
 * vcpus_current vCPUs are online and not hot-pluggable and the rest offline and
 * hot-pluggable. With it (or once a vCPU was plugged live or by number) every vCPU has its
 * entry in def->vcpu_states and vcpus_current counts the online ones. QEMU starts with the
 * online vCPUs that are not hot-pluggable (always vCPU 0 and those right after it); the
 * online hot-pluggable ones are devices of their own (vcpuN), so a guest that got a vCPU live
 * keeps it as a device through migration, save and restore, where it can be unplugged again. */
#include "conf/domain_def_priv.h"

#include "util/err.h"

static struct domain_vcpu *
state(const struct domain_def *def, unsigned id)
{
    return &g_array_index(def->vcpu_states, struct domain_vcpu, id);
}

gboolean
domain_def_vcpu_online(const struct domain_def *def, unsigned id)
{
    if (id >= def->vcpus)
        return FALSE;
    return def->vcpu_states ? state(def, id)->online : id < def->vcpus_current;
}

gboolean
domain_def_vcpu_hotpluggable(const struct domain_def *def, unsigned id)
{
    if (id >= def->vcpus)
        return FALSE;
    return def->vcpu_states ? state(def, id)->hotpluggable : id >= def->vcpus_current;
}

unsigned
domain_def_vcpus_boot(const struct domain_def *def)
{
    unsigned n = 0;
    for (unsigned i = 0; i < def->vcpus; i++)
        n += domain_def_vcpu_online(def, i) && !domain_def_vcpu_hotpluggable(def, i);
    return n;
}

static gint
by_order(gconstpointer a, gconstpointer b, gpointer data)
{
    const struct domain_def *def = data;
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    unsigned ox = state(def, x)->order, oy = state(def, y)->order;
    if (ox != oy)
        return ox < oy ? -1 : 1;
    return x < y ? -1 : x > y;
}

GArray *
domain_def_vcpus_plugged(const struct domain_def *def)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
    for (unsigned i = 0; def->vcpu_states && i < def->vcpus; i++)
        if (state(def, i)->online && state(def, i)->hotpluggable)
            g_array_append_val(ids, i);
    if (ids->len > 1)
        g_array_sort_with_data(ids, by_order, (gpointer)def);
    return ids;
}

void
domain_def_vcpus_individualize(struct domain_def *def)
{
    if (def->vcpu_states)
        return;
    def->vcpu_states = g_array_sized_new(FALSE, TRUE, sizeof(struct domain_vcpu), def->vcpus);
    for (unsigned i = 0; i < def->vcpus; i++) {
        struct domain_vcpu v = {.online = i < def->vcpus_current,
                                .hotpluggable = i >= def->vcpus_current};
        g_array_append_val(def->vcpu_states, v);
    }
}

static void
recount(struct domain_def *def)
{
    unsigned n = 0;
    for (unsigned i = 0; i < def->vcpus; i++)
        n += state(def, i)->online;
    def->vcpus_current = n;
}

static void
clear_order(struct domain_def *def)
{
    for (unsigned i = 0; def->vcpu_states && i < def->vcpus; i++)
        state(def, i)->order = 0;
}

void
domain_def_vcpu_set(struct domain_def *def, unsigned id, gboolean online)
{
    g_return_if_fail(id < def->vcpus);
    domain_def_vcpus_individualize(def);
    /* an order no longer says anything once the set changed (libvirt clears it too) */
    clear_order(def);
    state(def, id)->online = online;
    state(def, id)->hotpluggable = TRUE;
    recount(def);
}

void
domain_def_vcpus_set_count(struct domain_def *def, unsigned n, gboolean hotpluggable)
{
    g_return_if_fail(n >= 1 && n <= def->vcpus);
    if (!def->vcpu_states && !(hotpluggable && n > def->vcpus_current)) {
        def->vcpus_current = n;
        return;
    }
    /* as libvirt's configuration change: the lowest offline vCPUs come online (hot-pluggable
     * when asked, or when a hot-pluggable one is online before them, so that the vCPUs QEMU
     * starts with stay the first ones), the highest online ones go offline */
    domain_def_vcpus_individualize(def);
    clear_order(def);
    gboolean plug = hotpluggable;
    for (unsigned i = 0; i < def->vcpus && def->vcpus_current < n; i++) {
        struct domain_vcpu *v = state(def, i);
        if (v->online) {
            plug |= v->hotpluggable;
            continue;
        }
        v->online = TRUE;
        v->hotpluggable = plug;
        def->vcpus_current++;
    }
    for (unsigned i = def->vcpus; i > 1 && def->vcpus_current > n; i--) {
        struct domain_vcpu *v = state(def, i - 1);
        if (!v->online)
            continue;
        v->online = FALSE;
        v->hotpluggable = TRUE;
        def->vcpus_current--;
    }
}

void
domain_def_vcpus_set_max(struct domain_def *def, unsigned n)
{
    g_return_if_fail(n >= 1);
    if (def->vcpu_states) {
        unsigned old = def->vcpus;
        g_array_set_size(def->vcpu_states, n);
        for (unsigned i = old; i < n; i++)
            *state(def, i) = (struct domain_vcpu){.hotpluggable = TRUE};
        def->vcpus = n;
        recount(def);
    } else {
        def->vcpus = n;
        def->vcpus_current = MIN(def->vcpus_current, n);
    }
}

gboolean
domain_def_vcpus_same(const struct domain_def *a, const struct domain_def *b)
{
    if (a->vcpus != b->vcpus)
        return FALSE;
    for (unsigned i = 0; i < a->vcpus; i++)
        if (domain_def_vcpu_online(a, i) != domain_def_vcpu_online(b, i) ||
            domain_def_vcpu_hotpluggable(a, i) != domain_def_vcpu_hotpluggable(b, i))
            return FALSE;
    return TRUE;
}

/* libvirt's rules for QEMU: vCPU 0 online, first and not hot-pluggable; an order on every
 * online vCPU or on none, each used once; the vCPUs QEMU starts with (online, not
 * hot-pluggable) before the hot-pluggable ones and in ascending order */
static gboolean
check(const struct domain_def *def, GError **error)
{
    const struct domain_vcpu *first = state(def, 0);
    if (!first->online) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "vcpu 0 can't be offline");
        return FALSE;
    }
    if (first->hotpluggable) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "vcpu0 can't be hotpluggable");
        return FALSE;
    }
    if (first->order > 1) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "vcpu0 must be enabled first");
        return FALSE;
    }
    gboolean has_order = first->order != 0;
    g_autofree gboolean *used = g_new0(gboolean, def->vcpus + 1);
    used[first->order] = has_order;
    for (unsigned i = 1; i < def->vcpus; i++) {
        const struct domain_vcpu *v = state(def, i), *prev = state(def, i - 1);
        if (v->online && (v->order != 0) != has_order) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "all vcpus must have either set or unset order");
            return FALSE;
        }
        if (v->order > def->vcpus) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "vcpu order '%u' exceeds vcpu count", v->order);
            return FALSE;
        }
        if (v->order && used[v->order]) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "duplicate vcpu order '%u'",
                    v->order);
            return FALSE;
        }
        used[v->order] = v->order != 0;
        if (!v->hotpluggable && prev->hotpluggable) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "online non-hotpluggable vcpus need to be ordered prior to hotplugable "
                    "vcpus");
            return FALSE;
        }
        if (!v->hotpluggable && prev->order > v->order) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "online non-hotpluggable vcpus must be ordered in ascending order");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_one(struct domain_def *def, xmlNodePtr node, gboolean *seen, GError **error)
{
    static const char *const attrs[] = {"id", "enabled", "hotpluggable", "order", NULL};
    uint64_t id = 0, order = 0;
    g_autofree char *given = domain_def_xml_prop_required(node, "id", error);
    if (!given || !domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_uint(node, "id", 0, G_MAXUINT32, &id, error) ||
        !domain_def_xml_uint(node, "order", 0, G_MAXUINT32, &order, error))
        return FALSE;
    if (id >= def->vcpus) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "vcpu id '%" G_GUINT64_FORMAT "' is out of range of maximum vcpu count",
                (guint64)id);
        return FALSE;
    }
    if (seen[id]) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "vcpu id '%" G_GUINT64_FORMAT "' is given twice in <vcpus>", (guint64)id);
        return FALSE;
    }
    seen[id] = TRUE;
    static const char *const no_yes[] = {"no", "yes", NULL};
    g_autofree char *enabled = domain_def_xml_prop_required(node, "enabled", error);
    gboolean online = FALSE;
    int hotpluggable = -1;
    if (!enabled || !domain_def_xml_bool(node, "enabled", &online, error) ||
        !domain_def_xml_enum(node, "hotpluggable", no_yes, &hotpluggable, error))
        return FALSE;
    struct domain_vcpu *v = state(def, (unsigned)id);
    v->online = online;
    /* libvirt's default: an online vCPU is one QEMU starts with, an offline one can come */
    v->hotpluggable = hotpluggable < 0 ? !online : hotpluggable == 1;
    v->order = (unsigned)order;
    if (!v->online && !v->hotpluggable) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "vcpu '%" G_GUINT64_FORMAT "' is both offline and not hotpluggable", (guint64)id);
        return FALSE;
    }
    return TRUE;
}

gboolean
domain_def_vcpus_parse(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    /* every vCPU not listed is offline (libvirt); the <vcpus> states win over current= */
    g_clear_pointer(&def->vcpu_states, g_array_unref);
    def->vcpu_states = g_array_sized_new(FALSE, TRUE, sizeof(struct domain_vcpu), def->vcpus);
    g_array_set_size(def->vcpu_states, def->vcpus);
    for (unsigned i = 0; i < def->vcpus; i++)
        state(def, i)->hotpluggable = TRUE;
    g_autofree gboolean *seen = g_new0(gboolean, def->vcpus);
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "vcpu"))
            return domain_def_xml_unsupported(node, c, error);
        if (!parse_one(def, c, seen, error))
            return FALSE;
    }
    recount(def);
    return check(def, error);
}

void
domain_def_vcpus_format(GString *buf, const struct domain_def *def)
{
    if (!def->vcpu_states)
        return;
    domain_def_indent(buf, 1);
    g_string_append(buf, "<vcpus>\n");
    for (unsigned i = 0; i < def->vcpus; i++) {
        const struct domain_vcpu *v = state(def, i);
        domain_def_indent(buf, 2);
        g_string_append_printf(buf, "<vcpu id='%u' enabled='%s' hotpluggable='%s'", i,
                               v->online ? "yes" : "no", v->hotpluggable ? "yes" : "no");
        if (v->order)
            g_string_append_printf(buf, " order='%u'", v->order);
        g_string_append(buf, "/>\n");
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "</vcpus>\n");
}
