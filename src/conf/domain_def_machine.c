/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def machine: what the guest's machine is beyond its devices — <features>, <cpu>
 * (mode, model, topology, features, NUMA cells), <clock> and its timers, <pm> and <perf>;
 * prefix domain_def_. */
#include <string.h>

#include "conf/cpu_map.h"
#include "conf/domain_def_priv.h"
#include "util/err.h"

static const char *const cpu_mode_names[] = {
    "custom", "host-model", "host-passthrough", "maximum", NULL,
};
static const char *const cpu_match_names[] = {"minimum", "exact", "strict", NULL};
static const char *const cpu_check_names[] = {"none", "partial", "full", NULL};
static const char *const cpu_fallback_names[] = {"allow", "forbid", NULL};
static const char *const cpu_policy_names[] = {
    "force", "require", "optional", "disable", "forbid", NULL,
};
static const char *const on_off_names[] = {"on", "off", NULL};
static const char *const clock_offset_names[] = {"utc", "localtime", NULL};
static const char *const timer_names[] = {
    "platform", "pit", "rtc", "hpet", "tsc", "kvmclock", "hypervclock", "armvtimer", NULL,
};
static const char *const tickpolicy_names[] = {"delay", "catchup", "merge", "discard", NULL};

gboolean
domain_def_parse_features(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean *flag = NULL;
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "vmport")) {
            /* VMware's I/O port: virt-manager turns it off with SPICE */
            static const char *const vmport_attrs[] = {"state", NULL};
            int state = -1;
            if (!domain_def_check_leaf(c, vmport_attrs, error) ||
                !domain_def_xml_enum(c, "state", on_off_names, &state, error))
                return FALSE;
            def->vmport = state < 0    ? DOMAIN_TRISTATE_ABSENT
                          : state == 0 ? DOMAIN_TRISTATE_YES
                                       : DOMAIN_TRISTATE_NO;
            continue;
        }
        if (domain_def_xml_is(c, "acpi"))
            flag = &def->acpi;
        else if (domain_def_xml_is(c, "apic"))
            flag = &def->apic;
        else if (domain_def_xml_is(c, "pae"))
            flag = &def->pae;
        else
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_check_attrs(c, none, error) || !domain_def_xml_check_empty(c, error))
            return FALSE;
        *flag = TRUE;
    }
    return TRUE;
}

gboolean
domain_def_parse_cpu(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"mode", "match", "check", "migratable", NULL};
    static const char *const model_attrs[] = {"fallback", NULL};
    static const char *const feature_attrs[] = {"policy", "name", NULL};
    static const char *const topology_attrs[] = {"sockets", "dies", "cores", "threads", NULL};
    xmlNodePtr model = NULL, topology = NULL, numa = NULL;

    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_choice(node, "mode", cpu_mode_names, &def->cpu_mode, error) ||
        !domain_def_xml_choice(node, "match", cpu_match_names, &def->cpu_match, error) ||
        !domain_def_xml_choice(node, "check", cpu_check_names, &def->cpu_check, error) ||
        !domain_def_xml_choice(node, "migratable", on_off_names, &def->cpu_migratable, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "model")) {
            if (!domain_def_xml_once(&model, c, error) ||
                !domain_def_xml_check_attrs(c, model_attrs, error) ||
                !domain_def_xml_choice(c, "fallback", cpu_fallback_names, &def->cpu_model_fallback,
                                       error))
                return FALSE;
            g_autofree char *text = domain_def_xml_text(c, error);
            if (!text)
                return FALSE;
            def->cpu_model = g_strdup(g_strstrip(text));
        } else if (domain_def_xml_is(c, "feature")) {
            g_autofree char *policy = g_strdup("require");
            if (!domain_def_xml_check_attrs(c, feature_attrs, error) ||
                !domain_def_xml_check_empty(c, error) ||
                !domain_def_xml_choice(c, "policy", cpu_policy_names, &policy, error))
                return FALSE;
            char *name = domain_def_xml_prop_required(c, "name", error);
            if (!name)
                return FALSE;
            if (!cpu_map_feature_name_valid(name)) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "invalid CPU feature name '%s': letters, digits, '-', '_' and '.' only",
                        name);
                g_free(name);
                return FALSE;
            }
            struct cpu_feature_def *feature = g_new0(struct cpu_feature_def, 1);
            feature->policy = g_steal_pointer(&policy);
            feature->name = name;
            g_ptr_array_add(def->cpu_features, feature);
        } else if (domain_def_xml_is(c, "numa")) {
            if (!domain_def_xml_once(&numa, c, error) || !domain_def_numa_parse(def, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "topology")) {
            uint64_t v[4] = {0, 1, 0, 0};
            if (!domain_def_xml_once(&topology, c, error) ||
                !domain_def_xml_check_attrs(c, topology_attrs, error) ||
                !domain_def_xml_check_empty(c, error))
                return FALSE;
            for (int i = 0; i < 4; i++) {
                if (!domain_def_xml_uint(c, topology_attrs[i], 1, DOMAIN_DEF_VCPUS_MAX, &v[i],
                                         error))
                    return FALSE;
            }
            if (!v[0] || !v[2] || !v[3]) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "cpu topology needs 'sockets', 'cores' and 'threads'");
                return FALSE;
            }
            def->cpu_sockets = (unsigned)v[0];
            def->cpu_dies = (unsigned)v[1];
            def->cpu_cores = (unsigned)v[2];
            def->cpu_threads = (unsigned)v[3];
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    return TRUE;
}

gboolean
domain_def_parse_clock(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"offset", NULL};
    static const char *const timer_attrs[] = {"name", "tickpolicy", "present", NULL};
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_choice(node, "offset", clock_offset_names, &def->clock_offset, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "timer"))
            return domain_def_xml_unsupported(node, c, error);
        g_autofree char *name = NULL;
        g_autofree char *tickpolicy = NULL;
        int present = -1;
        static const char *const no_yes[] = {"no", "yes", NULL};
        if (!domain_def_xml_check_attrs(c, timer_attrs, error) ||
            !domain_def_xml_check_empty(c, error) ||
            !domain_def_xml_choice(c, "name", timer_names, &name, error) ||
            !domain_def_xml_choice(c, "tickpolicy", tickpolicy_names, &tickpolicy, error) ||
            !domain_def_xml_enum(c, "present", no_yes, &present, error))
            return FALSE;
        if (!name) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "missing attribute 'name' on element 'timer'");
            return FALSE;
        }
        def->timers = g_renew(struct timer_def, def->timers, def->ntimers + 1);
        struct timer_def *timer = &def->timers[def->ntimers++];
        timer->name = g_steal_pointer(&name);
        timer->tickpolicy = g_steal_pointer(&tickpolicy);
        timer->present = present < 0   ? DOMAIN_TRISTATE_ABSENT
                         : present > 0 ? DOMAIN_TRISTATE_YES
                                       : DOMAIN_TRISTATE_NO;
    }
    return TRUE;
}

gboolean
domain_def_parse_pm(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const attrs[] = {"enabled", NULL};
    xmlNodePtr seen[2] = {NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        enum domain_tristate *slot;
        int i;
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "suspend-to-mem")) {
            slot = &def->pm_suspend_to_mem;
            i = 0;
        } else if (domain_def_xml_is(c, "suspend-to-disk")) {
            slot = &def->pm_suspend_to_disk;
            i = 1;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
        gboolean enabled = FALSE;
        g_autofree char *value = domain_def_xml_prop_required(c, "enabled", error);
        if (!value || !domain_def_xml_once(&seen[i], c, error) ||
            !domain_def_xml_check_attrs(c, attrs, error) || !domain_def_xml_check_empty(c, error) ||
            !domain_def_xml_bool(c, "enabled", &enabled, error))
            return FALSE;
        *slot = enabled ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO;
    }
    return TRUE;
}

/* <perf><event name='cpu_clock' enabled='yes'/>…</perf> */
gboolean
domain_def_parse_perf(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const attrs[] = {"name", "enabled", NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "event"))
            return domain_def_xml_unsupported(node, c, error);
        g_autofree char *name = domain_def_xml_prop_required(c, "name", error);
        g_autofree char *enabled = domain_def_xml_prop_required(c, "enabled", error);
        gboolean on = FALSE;
        if (!name || !enabled || !domain_def_xml_check_attrs(c, attrs, error) ||
            !domain_def_xml_check_empty(c, error) || !domain_def_xml_bool(c, "enabled", &on, error))
            return FALSE;
        int event = perf_event_from_string(name);
        if (event < 0) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "unsupported perf event '%s'",
                    name);
            return FALSE;
        }
        if (def->perf[event] != DOMAIN_TRISTATE_ABSENT) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "perf event '%s' is given twice", name);
            return FALSE;
        }
        def->perf[event] = on ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO;
    }
    return TRUE;
}
