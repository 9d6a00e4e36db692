/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu_map: CPU compare, baseline and decode over sets of feature names, as libvirt 9.0's
 * src/cpu/cpu_x86.c (x86Compute, virCPUx86Baseline, x86Decode) does over CPUID bits. */
#include "conf/cpu_map.h"

#include <string.h>

#include "conf/xml_util.h"
#include "util/err.h"

#define CPU_XML_MAX (1024 * 1024)

/* --- names --- */

/* libvirt's virQEMUCapsCPUFeaturesX86: the names that differ */
static const char *const renamed[][2] = {
    {"cmp_legacy", "cmp-legacy"},     {"ds_cpl", "ds-cpl"},         {"fxsr_opt", "fxsr-opt"},
    {"lahf_lm", "lahf-lm"},           {"nodeid_msr", "nodeid-msr"}, {"pclmuldq", "pclmulqdq"},
    {"perfctr_core", "perfctr-core"}, {"perfctr_nb", "perfctr-nb"}, {"tsc_adjust", "tsc-adjust"},
};

const char *
cpu_map_feature_from_qemu(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(renamed); i++)
        if (g_str_equal(renamed[i][1], name))
            return renamed[i][0];
    return name;
}

const char *
cpu_map_feature_to_qemu(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(renamed); i++)
        if (g_str_equal(renamed[i][0], name))
            return renamed[i][1];
    return name;
}

/* --- the XML --- */

void
cpu_xml_free(struct cpu_xml *cpu)
{
    if (!cpu)
        return;
    g_free(cpu->arch);
    g_free(cpu->mode);
    g_free(cpu->match);
    g_free(cpu->model);
    g_free(cpu->vendor);
    for (guint i = 0; cpu->features && i < cpu->features->len; i++)
        g_free(g_array_index(cpu->features, struct cpu_xml_feature, i).name);
    if (cpu->features)
        g_array_unref(cpu->features);
    g_free(cpu);
}

static const char *const mode_names[] = {"custom", "host-model", "host-passthrough", "maximum",
                                         NULL};
static const char *const match_names[] = {"exact", "minimum", "strict", NULL};
static const char *const policy_names[] = {"force",   "require", "optional",
                                           "disable", "forbid",  NULL};

/* The attribute NAME of NODE, one of NAMES (or absent: DEFLT) */
static gboolean
choice(xmlNodePtr node, const char *name, const char *const *names, const char *deflt, char **ret,
       GError **error)
{
    g_autofree char *value = xml_util_prop(node, name);
    if (value && xml_util_lookup(names, value) < 0) {
        g_autofree char *all = g_strjoinv("', '", (char **)names);
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR,
                "invalid %s '%s' of element '%s'; use one of '%s'", name, value,
                (const char *)node->name, all);
        return FALSE;
    }
    *ret = value ? g_steal_pointer(&value) : g_strdup(deflt);
    return TRUE;
}

/* libvirt's schema for a feature name: [a-zA-Z0-9\-_\.]+ */
gboolean
cpu_map_feature_name_valid(const char *name)
{
    if (!name || !*name)
        return FALSE;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    return TRUE;
}

/* SEEN: the feature names so far (a set: a document may hold many) */
static gboolean
parse_feature(struct cpu_xml *cpu, xmlNodePtr node, GHashTable *seen, GError **error)
{
    g_autofree char *name = xml_util_prop(node, "name");
    g_autofree char *policy = NULL;
    if (!name || !*name) {
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR, "%s",
                "missing CPU feature name: give <feature name='…'/>");
        return FALSE;
    }
    if (!cpu_map_feature_name_valid(name)) {
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR,
                "invalid CPU feature name '%s': letters, digits, '-', '_' and '.' only", name);
        return FALSE;
    }
    if (!choice(node, "policy", policy_names, "require", &policy, error))
        return FALSE;
    /* as libvirt, a host CPU's features are what it has: a policy there means nothing */
    if (cpu->type == CPU_XML_HOST) {
        g_free(policy);
        policy = g_strdup("require");
    }
    if (g_hash_table_contains(seen, name)) {
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR, "CPU feature '%s' specified more than once",
                name);
        return FALSE;
    }
    struct cpu_xml_feature f = {g_steal_pointer(&name),
                                (enum cpu_policy)xml_util_lookup(policy_names, policy)};
    g_array_append_val(cpu->features, f);
    g_hash_table_add(seen, f.name);
    return TRUE;
}

struct cpu_xml *
cpu_xml_parse(const char *xml, gboolean as_host, GError **error)
{
    g_autoptr(xmlDoc) doc =
        xml_util_read_document(ERR_FROM_CPU, xml, CPU_XML_MAX, "CPU", "cpu", error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    g_autoptr(cpu_xml) cpu = g_new0(struct cpu_xml, 1);
    cpu->features = g_array_new(FALSE, TRUE, sizeof(struct cpu_xml_feature));
    gboolean has_arch = FALSE;
    for (xmlNodePtr c = root->children; c; c = c->next)
        has_arch |= c->type == XML_ELEMENT_NODE && xml_util_is(c, "arch");
    g_autofree char *match_given = xml_util_prop(root, "match");
    g_autofree char *mode_given = xml_util_prop(root, "mode");
    if (as_host) {
        has_arch = TRUE;
        g_clear_pointer(&match_given, g_free);
        g_clear_pointer(&mode_given, g_free);
    }
    if (has_arch && match_given) {
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR, "%s",
                "'arch' element cannot be used inside 'cpu' element with 'match' attribute'");
        return NULL;
    }
    if (has_arch && mode_given) {
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR, "%s",
                "Attribute mode is only allowed for guest CPU");
        return NULL;
    }
    cpu->type = has_arch ? CPU_XML_HOST : CPU_XML_GUEST;
    if (as_host) {
        cpu->mode = g_strdup("custom");
        cpu->match = g_strdup("exact");
    } else if (!choice(root, "mode", mode_names, "custom", &cpu->mode, error) ||
               !choice(root, "match", match_names, "exact", &cpu->match, error)) {
        return NULL;
    }
    xmlNodePtr once[3] = {NULL};
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        char **text = xml_util_is(c, "arch")     ? &cpu->arch
                      : xml_util_is(c, "model")  ? &cpu->model
                      : xml_util_is(c, "vendor") ? &cpu->vendor
                                                 : NULL;
        if (text) {
            int slot = text == &cpu->arch ? 0 : text == &cpu->model ? 1 : 2;
            g_autofree char *value = NULL;
            if (!xml_util_once(ERR_FROM_CPU, &once[slot], c, error) ||
                !(value = xml_util_text(ERR_FROM_CPU, c, error)))
                return NULL;
            *text = g_strdup(g_strstrip(value));
        } else if (xml_util_is(c, "feature") && !parse_feature(cpu, c, seen, error)) {
            return NULL;
        }
        /* the rest (topology, signature, microcode, counter, pages, cache, maxphysaddr, numa)
         * describes what a compare or a baseline does not look at */
    }
    if (cpu->model && !*cpu->model)
        g_clear_pointer(&cpu->model, g_free);
    if (cpu->type == CPU_XML_HOST && !cpu->arch) {
        err_set(error, ERR_FROM_CPU, ERR_XML_ERROR, "%s",
                "Missing CPU architecture: a host CPU names its <arch>");
        return NULL;
    }
    return g_steal_pointer(&cpu);
}

/* --- sets of features --- */

typedef GHashTable feature_set; /* name -> name, borrowed or static */

static feature_set *
set_new(void)
{
    return g_hash_table_new(g_str_hash, g_str_equal);
}

static void
set_add_all(feature_set *set, const char *const *names)
{
    for (gsize i = 0; names && names[i]; i++)
        g_hash_table_add(set, (gpointer)names[i]);
}

static void
set_subtract(feature_set *set, feature_set *other)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, other);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_hash_table_remove(set, key);
}

static void
set_intersect(feature_set *set, feature_set *other)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(other, key))
            g_hash_table_iter_remove(&it);
}

static gboolean
set_is_subset(feature_set *set, feature_set *of)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(of, key))
            return FALSE;
    return TRUE;
}

/* SET's names in the map's order (by name), then any it does not know; a new vector of
 * borrowed names */
static GPtrArray *
set_ordered(const struct cpu_map *map, feature_set *set)
{
    GPtrArray *out = g_ptr_array_new();
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    for (gsize i = 0; map->known[i]; i++) {
        if (g_hash_table_contains(set, map->known[i])) {
            g_ptr_array_add(out, (gpointer)map->known[i]);
            g_hash_table_add(listed, (gpointer)map->known[i]);
        }
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(listed, key))
            g_ptr_array_add(out, key);
    return out;
}

static char *
set_names(const struct cpu_map *map, feature_set *set)
{
    g_autoptr(GPtrArray) names = set_ordered(map, set);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(", ", (char **)names->pdata);
}

static const struct cpu_map_model *
find_model(const struct cpu_map *map, const char *name)
{
    for (gsize i = 0; i < map->n_models; i++)
        if (g_str_equal(map->models[i].name, name))
            return &map->models[i];
    return NULL;
}

/* Features libvirt's map names that QEMU does not: accepted in a CPU (a host's, from another
 * libvirt), never in a model or offered by QEMU */
static const char *const libvirt_only[] = {"cmt",   "cvt16",   "mbm_local", "mbm_total",
                                           "ospke", "osxsave", "pconfig",   NULL};

static const char *
known_feature(const struct cpu_map *map, const char *name)
{
    for (gsize i = 0; map->known[i]; i++)
        if (g_str_equal(map->known[i], name))
            return map->known[i];
    for (gsize i = 0; libvirt_only[i]; i++)
        if (g_str_equal(libvirt_only[i], name))
            return libvirt_only[i];
    return NULL;
}

/* x86ModelFromCPU: the features of CPU's model and those of POLICY; ALL (-1): the model with
 * required and forced features added and disabled and forbidden ones taken away */
#define POLICY_ALL (-1)
static feature_set *
cpu_set(const struct cpu_map *map, const struct cpu_xml *cpu, int policy, GError **error)
{
    g_autoptr(GHashTable) set = set_new();
    if (cpu->type == CPU_XML_HOST && policy != CPU_POLICY_REQUIRE && policy != POLICY_ALL)
        return g_steal_pointer(&set);
    if (cpu->model && (policy == CPU_POLICY_REQUIRE || policy == POLICY_ALL)) {
        const struct cpu_map_model *m = find_model(map, cpu->model);
        if (!m) {
            err_set(error, ERR_FROM_CPU, ERR_INTERNAL_ERROR,
                    "Unknown CPU model %s; 'domus cpu-models x86_64' lists them", cpu->model);
            return NULL;
        }
        set_add_all(set, m->features);
    }
    for (guint i = 0; i < cpu->features->len; i++) {
        const struct cpu_xml_feature *f = &g_array_index(cpu->features, struct cpu_xml_feature, i);
        if ((policy == POLICY_ALL && f->policy == CPU_POLICY_OPTIONAL) ||
            (policy != POLICY_ALL && (int)f->policy != policy))
            continue;
        const char *name = known_feature(map, f->name);
        if (!name) {
            err_set(error, ERR_FROM_CPU, ERR_INTERNAL_ERROR, "Unknown CPU feature %s", f->name);
            return NULL;
        }
        if (policy == POLICY_ALL &&
            (f->policy == CPU_POLICY_DISABLE || f->policy == CPU_POLICY_FORBID))
            g_hash_table_remove(set, name);
        else
            g_hash_table_add(set, (gpointer)name);
    }
    return g_steal_pointer(&set);
}

/* --- compare --- */

static gboolean
arch_is_x86(const char *arch)
{
    return g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686");
}

int
cpu_map_compare(const struct cpu_map *map, const char *host_vendor,
                const char *const *host_features, const struct cpu_xml *cpu,
                gboolean fail_incompatible, GError **error)
{
    g_autofree char *why = NULL;
    if (!host_features) {
        if (fail_incompatible) {
            err_set(error, ERR_FROM_CPU, ERR_CPU_INCOMPATIBLE, "unknown host CPU");
            return -1;
        }
        return 0;
    }
    g_autoptr(GHashTable) host_set = NULL, force = NULL, require = NULL, optional = NULL,
                          disable = NULL, forbid = NULL;
    if (cpu->arch && !arch_is_x86(cpu->arch)) {
        why = g_strdup_printf("CPU arch %s does not match host arch", cpu->arch);
        goto incompatible;
    }
    if (cpu->vendor && (!host_vendor || !g_str_equal(cpu->vendor, host_vendor))) {
        why = g_strdup_printf("host CPU vendor does not match required CPU vendor %s", cpu->vendor);
        goto incompatible;
    }
    host_set = set_new();
    set_add_all(host_set, host_features);
    if (!(force = cpu_set(map, cpu, CPU_POLICY_FORCE, error)) ||
        !(require = cpu_set(map, cpu, CPU_POLICY_REQUIRE, error)) ||
        !(optional = cpu_set(map, cpu, CPU_POLICY_OPTIONAL, error)) ||
        !(disable = cpu_set(map, cpu, CPU_POLICY_DISABLE, error)) ||
        !(forbid = cpu_set(map, cpu, CPU_POLICY_FORBID, error)))
        return -1;
    set_intersect(forbid, host_set);
    if (g_hash_table_size(forbid) > 0) {
        g_autofree char *names = set_names(map, forbid);
        why = g_strdup_printf("Host CPU provides forbidden features: %s", names);
        goto incompatible;
    }
    /* the model's features made forced, optional or disabled are not required */
    set_subtract(require, force);
    set_subtract(require, optional);
    set_subtract(require, disable);
    if (!set_is_subset(require, host_set)) {
        set_subtract(require, host_set);
        g_autofree char *names = set_names(map, require);
        why = g_strdup_printf("Host CPU does not provide required features: %s", names);
        goto incompatible;
    }
    /* what the host has beyond: the extra features */
    set_subtract(host_set, optional);
    set_subtract(host_set, require);
    set_subtract(host_set, disable);
    set_subtract(host_set, force);
    if (g_hash_table_size(host_set) == 0)
        return 1;
    if (cpu->type == CPU_XML_GUEST && g_str_equal(cpu->match, "strict")) {
        g_autofree char *names = set_names(map, host_set);
        why = g_strdup_printf("Host CPU does not strictly match guest CPU: Extra features: %s",
                              names);
        goto incompatible;
    }
    return 2;

incompatible:
    if (!fail_incompatible)
        return 0;
    err_set(error, ERR_FROM_CPU, ERR_CPU_INCOMPATIBLE, "%s", why);
    return -1;
}

/* --- decode and baseline --- */

struct decoded {
    const struct cpu_map_model *model;
    GPtrArray *added;    /* borrowed names, in the map's order (by name) */
    GPtrArray *disabled; /* the same */
    guint score;
};

static void
decoded_clear(struct decoded *d)
{
    if (d->added)
        g_ptr_array_unref(d->added);
    if (d->disabled)
        g_ptr_array_unref(d->disabled);
    memset(d, 0, sizeof(*d));
}

/* The model and features closest to DATA, as x86Decode: models of another vendor are skipped;
 * the fewest explicit features win, a disabled one counting 2, 3, 4… (libvirt's penalties); a
 * HOST CPU's model lacks none of DATA; the one PREFERRED model (a baseline of one model) wins
 * outright. */
static gboolean
decode(const struct cpu_map *map, feature_set *data, const char *vendor, gboolean host,
       const char *const *preferred, struct decoded *best, GError **error)
{
    guint n_preferred = preferred ? g_strv_length((char **)preferred) : 0;
    for (gsize i = map->n_models; i-- > 0;) {
        const struct cpu_map_model *m = &map->models[i];
        if (vendor && m->vendor && !g_str_equal(vendor, m->vendor))
            continue;
        g_autoptr(GHashTable) model = set_new();
        set_add_all(model, m->features);
        g_autoptr(GHashTable) added = set_new();
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, data);
        while (g_hash_table_iter_next(&it, &key, NULL))
            if (!g_hash_table_contains(model, key))
                g_hash_table_add(added, key);
        set_subtract(model, data); /* now: the model's features DATA lacks */
        if (host && g_hash_table_size(model) > 0)
            continue; /* a host CPU has all its model's features */
        struct decoded c = {m, set_ordered(map, added), set_ordered(map, model), 0};
        guint penalty = 2;
        c.score = c.added->len;
        for (guint k = 0; k < c.disabled->len; k++)
            c.score += penalty++;
        gboolean is_preferred =
            n_preferred && g_strv_contains((const char *const *)preferred, m->name);
        /* a tie goes to the larger model (QEMU lists models by name, not by age: the larger is
         * the newer where libvirt would keep its newest), then to the name */
        gboolean tie =
            best->model && c.score == best->score && c.disabled->len == best->disabled->len;
        gsize size = g_strv_length((char **)m->features);
        gsize best_size = best->model ? g_strv_length((char **)best->model->features) : 0;
        gboolean better = !best->model || c.score < best->score ||
                          (c.score == best->score && c.disabled->len < best->disabled->len) ||
                          (is_preferred && c.disabled->len < best->disabled->len) ||
                          (tie && (size > best_size ||
                                   (size == best_size && strcmp(m->name, best->model->name) < 0)));
        if (is_preferred && n_preferred == 1)
            better = TRUE;
        if (better) {
            decoded_clear(best);
            *best = c;
        } else {
            decoded_clear(&c);
        }
        if (is_preferred && n_preferred == 1)
            break;
    }
    if (!best->model) {
        err_set(error, ERR_FROM_CPU, ERR_INTERNAL_ERROR, "%s",
                "Cannot find suitable CPU model for given data");
        return FALSE;
    }
    return TRUE;
}

/* libvirt's features that a migration cannot keep (cpu_map migratable='no') */
static gboolean
migratable(const char *feature)
{
    return !g_str_equal(feature, "invtsc") && !g_str_equal(feature, "xsaves");
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
format_features(GString *b, const char *policy, GPtrArray *names)
{
    for (guint i = 0; i < names->len; i++)
        g_string_append_printf(b, "  <feature policy='%s' name='%s'/>\n", policy,
                               (const char *)names->pdata[i]);
}

char *
cpu_map_baseline(const struct cpu_map *map, struct cpu_xml *const *cpus, guint n,
                 const char *const *hv_features, gboolean hypervisor, unsigned flags,
                 GError **error)
{
    for (guint i = 0; i < n; i++) {
        if (!cpus[i]->model) {
            err_set(error, ERR_FROM_CPU, ERR_INVALID_ARG, "no CPU model specified at index %u", i);
            return NULL;
        }
    }
    if (cpus[0]->arch && !arch_is_x86(cpus[0]->arch)) {
        err_set(error, ERR_FROM_CPU, ERR_NO_SUPPORT,
                "cannot compute baseline CPU of %s architecture", cpus[0]->arch);
        return NULL;
    }
    g_autoptr(GHashTable) base = cpu_set(map, cpus[0], POLICY_ALL, error);
    if (!base)
        return NULL;
    /* what QEMU does not know cannot be asked of it (libvirt's virQEMUCapsCPUFilterFeatures) */
    for (gsize i = 0; libvirt_only[i]; i++)
        g_hash_table_remove(base, libvirt_only[i]);
    const char *vendor = cpus[0]->vendor;
    gboolean output_vendor = vendor != NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    if (cpus[0]->model)
        g_ptr_array_add(names, cpus[0]->model);
    for (guint i = 1; i < n; i++) {
        const struct cpu_xml *cpu = cpus[i];
        if (cpu->model && !g_ptr_array_find_with_equal_func(names, cpu->model, g_str_equal, NULL))
            g_ptr_array_add(names, cpu->model);
        g_autoptr(GHashTable) set = cpu_set(map, cpu, POLICY_ALL, error);
        if (!set)
            return NULL;
        const struct cpu_map_model *m = cpu->model ? find_model(map, cpu->model) : NULL;
        if (cpu->vendor && m && m->vendor && !g_str_equal(cpu->vendor, m->vendor)) {
            err_set(error, ERR_FROM_CPU, ERR_OPERATION_FAILED,
                    "CPU vendor %s of model %s differs from vendor %s", m->vendor, m->name,
                    cpu->vendor);
            return NULL;
        }
        const char *vn = cpu->vendor;
        if (!vn) {
            output_vendor = FALSE;
            vn = m ? m->vendor : NULL;
        }
        if (vn && !vendor)
            vendor = vn;
        else if (vn && !g_str_equal(vendor, vn)) {
            err_set(error, ERR_FROM_CPU, ERR_OPERATION_FAILED, "%s", "CPU vendors do not match");
            return NULL;
        }
        set_intersect(base, set);
    }
    if (hv_features) {
        g_autoptr(GHashTable) hv = set_new();
        set_add_all(hv, hv_features);
        set_intersect(base, hv);
    }
    if (g_hash_table_size(base) == 0) {
        err_set(error, ERR_FROM_CPU, ERR_OPERATION_FAILED, "%s", "CPUs are incompatible");
        return NULL;
    }
    g_ptr_array_add(names, NULL);
    struct decoded d = {0};
    if (!decode(map, base, vendor, FALSE, (const char *const *)names->pdata, &d, error))
        return NULL;
    if (flags & CPU_BASELINE_MIGRATABLE) {
        for (guint i = d.added->len; i-- > 0;)
            if (!migratable(d.added->pdata[i]))
                g_ptr_array_remove_index(d.added, i);
    }
    gboolean forbid =
        hypervisor || (names->len == 2 && g_str_equal(d.model->name, names->pdata[0]));
    GString *b = g_string_new("<cpu mode='custom' match='exact'>\n");
    g_string_append_printf(b, "  <model fallback='%s'>%s</model>\n", forbid ? "forbid" : "allow",
                           d.model->name);
    if (output_vendor && vendor)
        g_string_append_printf(b, "  <vendor>%s</vendor>\n", vendor);
    if (flags & CPU_BASELINE_EXPAND_FEATURES) {
        /* every feature the CPU has and what the model has but the CPU lacks (disabled), all
         * by name as libvirt sorts them */
        g_autoptr(GPtrArray) all = g_ptr_array_new();
        for (gsize i = 0; d.model->features[i]; i++)
            g_ptr_array_add(all, (gpointer)d.model->features[i]);
        g_ptr_array_extend(all, d.added, NULL, NULL);
        g_ptr_array_sort(all, compare_names);
        for (guint i = 0; i < all->len; i++) {
            gboolean off =
                g_ptr_array_find_with_equal_func(d.disabled, all->pdata[i], g_str_equal, NULL);
            g_string_append_printf(b, "  <feature policy='%s' name='%s'/>\n",
                                   off ? "disable" : "require", (const char *)all->pdata[i]);
        }
    } else {
        format_features(b, "require", d.added);
        format_features(b, "disable", d.disabled);
    }
    g_string_append(b, "</cpu>\n");
    decoded_clear(&d);
    return g_string_free(b, FALSE);
}

/* Linux's flag names and the map's differ in '_', '-' and '.', and in a few words */
static char *
canonical_feature(const char *name)
{
    if (g_str_equal(name, "tsc_deadline_timer"))
        name = "tsc-deadline";
    else if (g_str_equal(name, "pclmulqdq"))
        name = "pclmuldq";
    GString *c = g_string_new(NULL);
    for (const char *p = name; *p; p++)
        if (*p != '_' && *p != '-' && *p != '.')
            g_string_append_c(c, g_ascii_tolower(*p));
    return g_string_free(c, FALSE);
}

/* Linux's synthetic flags for CPUID bits that differ by vendor: what each stands for */
static const char *
vendor_flag(const char *flag, const char *vendor)
{
    static const char *const intel[][2] = {
        {"ibrs", "spec-ctrl"}, {"ibpb", "spec-ctrl"}, {"stibp", "stibp"}, {"ssbd", "ssbd"}};
    static const char *const amd[][2] = {
        {"ibrs", "ibrs"}, {"ibpb", "ibpb"}, {"stibp", "amd-stibp"}, {"ssbd", NULL}};
    gboolean is_amd = g_strcmp0(vendor, "AMD") == 0 || g_strcmp0(vendor, "Hygon") == 0;
    for (gsize i = 0; i < G_N_ELEMENTS(intel); i++)
        if (g_str_equal(flag, intel[i][0]))
            return is_amd ? amd[i][1] : intel[i][1];
    /* invariant TSC: Linux says nonstop_tsc */
    if (g_str_equal(flag, "nonstop_tsc"))
        return "invtsc";
    return flag;
}

GPtrArray *
cpu_map_host_features(const struct cpu_map *map, const char *vendor, const char *const *flags)
{
    g_autoptr(GHashTable) by_canon = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (gsize i = 0; map->known[i]; i++)
        g_hash_table_insert(by_canon, canonical_feature(map->known[i]), (gpointer)map->known[i]);
    g_autoptr(GHashTable) set = set_new();
    for (gsize i = 0; flags && flags[i]; i++) {
        const char *flag = vendor_flag(flags[i], vendor);
        if (!flag || !*flag)
            continue;
        g_autofree char *c = canonical_feature(flag);
        const char *name = g_hash_table_lookup(by_canon, c);
        if (name)
            g_hash_table_add(set, (gpointer)name);
    }
    return set_ordered(map, set);
}

gboolean
cpu_map_decode_host(const struct cpu_map *map, const char *vendor, GPtrArray *features,
                    const char **ret_model, GPtrArray **ret_features)
{
    g_autoptr(GHashTable) set = set_new();
    for (guint i = 0; i < features->len; i++)
        g_hash_table_add(set, features->pdata[i]);
    struct decoded d = {0};
    if (!decode(map, set, vendor, TRUE, NULL, &d, NULL))
        return FALSE;
    *ret_model = d.model->name;
    *ret_features = g_ptr_array_ref(d.added);
    decoded_clear(&d);
    return TRUE;
}

gboolean
cpu_map_decode(const struct cpu_map *map, const char *vendor, const char *const *features,
               const char **ret_model, GPtrArray **ret_require, GPtrArray **ret_disable)
{
    g_autoptr(GHashTable) set = set_new();
    set_add_all(set, features);
    struct decoded d = {0};
    if (!decode(map, set, vendor, FALSE, NULL, &d, NULL))
        return FALSE;
    *ret_model = d.model->name;
    *ret_require = g_ptr_array_ref(d.added);
    *ret_disable = g_ptr_array_ref(d.disabled);
    decoded_clear(&d);
    return TRUE;
}
