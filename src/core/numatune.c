/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numatune: where a domain's memory lives on the host's NUMA nodes (<numatune><memory>, and
 * per guest NUMA cell <memnode>, which QEMU's memory backends carry: qemu/device.c);
 * prefix core_numatune_, and the live reads and changes behind virsh numatune.
 * - strict and restrictive: the cpuset controller's cpuset.mems of the domain's group, set
 *   before the guest runs (with memory_migrate on v1, so pages move when it changes); strict
 *   falls back to a bind policy QEMU starts under when the host has no cpuset controller.
 * - interleave and preferred: the memory policy QEMU starts under (set_mempolicy), which
 *   only QEMU itself could change afterwards: fixed for the run, as libvirt has it. */
#include "core/numatune.h"

#include <linux/mempolicy.h>

#include "util/cpuset.h"
#include "util/err.h"
#include "util/log.h"

#define ORIGIN ERR_FROM_DOMAIN

/* The host's NUMA nodes: SYSFS/devices/system/node/online ("0" on a host without NUMA). */
static gboolean
host_nodes(struct core *core, struct cpuset *ret)
{
    g_autofree char *path =
        g_build_filename(core->paths.sysfs_root, "devices", "system", "node", "online", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return cpuset_parse("0", ret, NULL);
    return cpuset_parse(g_strstrip(text), ret, NULL);
}

/* Whether every node of NODESET is one of the host's; ERR_INVALID_ARG naming one that is not */
static gboolean
nodes_available(struct core *core, const char *nodeset, GError **error)
{
    struct cpuset want, have;
    if (!cpuset_parse(nodeset, &want, NULL) || !host_nodes(core, &have)) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "invalid numatune nodeset '%s'", nodeset);
        return FALSE;
    }
    for (guint n = 0; n < CPUSET_MAX; n++) {
        if (cpuset_has(&want, n) && !cpuset_has(&have, n)) {
            g_autofree char *text = cpuset_format(&have);
            err_set(error, ORIGIN, ERR_INVALID_ARG,
                    "NUMA node %u is unavailable: this host has node%s %s", n,
                    strchr(text, ',') || strchr(text, '-') ? "s" : "", text);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
cgroup_bound(int mode)
{
    return mode == NUMATUNE_STRICT || mode == NUMATUNE_RESTRICTIVE;
}

/* MODE and NODESET of <memory> or a <memnode>: a preferred one names one node, every node is
 * the host's */
static gboolean
check_binding(struct core *core, int mode, const char *nodeset, GError **error)
{
    if (mode == NUMATUNE_PREFERRED && (strchr(nodeset, ',') || strchr(nodeset, '-'))) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "NUMA memory tuning in 'preferred' mode only supports single node");
        return FALSE;
    }
    return nodes_available(core, nodeset, error);
}

gboolean
core_numatune_check(struct core *core, const struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->numa_memnodes->len; i++) {
        const struct numa_memnode *m = def->numa_memnodes->pdata[i];
        if (!check_binding(core, m->mode, m->nodeset, error))
            return FALSE;
    }
    if (def->numa_mode == NUMATUNE_NONE)
        return TRUE;
    if (!check_binding(core, def->numa_mode, def->numa_nodeset, error))
        return FALSE;
    if (def->numa_mode == NUMATUNE_RESTRICTIVE && !cgroup_host_has(core->cgroups, CGROUP_CPUSET)) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "numatune mode 'restrictive' of domain '%s' needs the cpuset cgroup controller, "
                "which this host does not offer",
                def->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
core_numatune_policy(struct core *core, const struct domain_def *def, struct qemu_mempolicy *ret)
{
    if (def->numa_mode == NUMATUNE_NONE ||
        (cgroup_bound(def->numa_mode) && cgroup_host_has(core->cgroups, CGROUP_CPUSET)) ||
        def->numa_mode == NUMATUNE_RESTRICTIVE)
        return FALSE;
    struct cpuset set;
    if (!cpuset_parse(def->numa_nodeset, &set, NULL))
        return FALSE;
    struct qemu_mempolicy p = {0};
    p.mode = def->numa_mode == NUMATUNE_INTERLEAVE  ? MPOL_INTERLEAVE
             : def->numa_mode == NUMATUNE_PREFERRED ? MPOL_PREFERRED
                                                    : MPOL_BIND;
    const guint bits = sizeof(p.nodes[0]) * 8;
    for (guint n = 0; n < G_N_ELEMENTS(p.nodes) * bits; n++)
        if (cpuset_has(&set, n))
            p.nodes[n / bits] |= 1UL << (n % bits);
    *ret = p;
    return TRUE;
}

gboolean
core_numatune_apply(struct domain *dom, const char *path, GError **error)
{
    const struct domain_def *def = dom->def;
    if (!cgroup_bound(def->numa_mode) || !cgroup_host_has(dom->core->cgroups, CGROUP_CPUSET))
        return TRUE;
    return core_qos_set_mems(dom->core->cgroups, path, def->numa_nodeset, error);
}

gboolean
core_domain_get_numatune(struct domain *dom, unsigned flags, int *ret_mode, char **ret_nodeset,
                         GError **error)
{
    gboolean live = FALSE;
    const struct domain_def *def = core_qos_tune_def(dom, flags, &live, error);
    if (!def)
        return FALSE;
    /* libvirt's answer for a domain without <numatune>: strict, no nodes */
    *ret_mode = def->numa_mode == NUMATUNE_NONE ? NUMATUNE_STRICT : def->numa_mode;
    *ret_nodeset = g_strdup(def->numa_nodeset ? def->numa_nodeset : "");
    return TRUE;
}

/* The live part of a change: libvirt's rules (the mode stays; a strict binding stays; the
 * nodes of a restrictive one, or of a domain without any, move through cpuset.mems) */
static gboolean
set_live(struct domain *dom, int mode, const char *nodeset, GError **error)
{
    const struct domain_def *def = dom->def;
    if (!core_qos_live_group(dom, CGROUP_CPUSET, "its NUMA nodes", error))
        return FALSE;
    if (mode != NUMATUNE_NONE && def->numa_mode != NUMATUNE_NONE && mode != def->numa_mode) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "can't change numatune mode for running domain");
        return FALSE;
    }
    if (mode == NUMATUNE_STRICT) {
        if (!nodeset || g_strcmp0(nodeset, def->numa_nodeset) != 0) {
            err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                    "can't change nodeset for strict mode for running domain");
            return FALSE;
        }
        return TRUE;
    }
    if (!nodeset)
        return TRUE;
    if (def->numa_mode != NUMATUNE_NONE && def->numa_mode != NUMATUNE_RESTRICTIVE) {
        err_set(error, ORIGIN, ERR_OPERATION_INVALID,
                "change of nodeset for running domain requires restrictive numa mode");
        return FALSE;
    }
    if (!nodes_available(dom->core, nodeset, error))
        return FALSE;
    g_autofree char *path = core_qos_path(dom);
    return core_qos_set_mems(dom->core->cgroups, path, nodeset, error);
}

/* MODE (NUMATUNE_NONE: unchanged) and NODESET (NULL: unchanged) into DEF */
static gboolean
set_def(struct domain_def *def, int mode, const char *nodeset, GError **error)
{
    if (def->numa_mode == NUMATUNE_NONE && !nodeset) {
        err_set(error, ORIGIN, ERR_CONFIG_UNSUPPORTED,
                "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
        return FALSE;
    }
    for (guint i = 0; mode == NUMATUNE_RESTRICTIVE && i < def->numa_memnodes->len; i++) {
        if (((const struct numa_memnode *)def->numa_memnodes->pdata[i])->mode !=
            NUMATUNE_RESTRICTIVE) {
            err_set(error, ORIGIN, ERR_XML_ERROR,
                    "'restrictive' mode is required in memnode element when mode is "
                    "'restrictive' in memory element");
            return FALSE;
        }
    }
    if (nodeset) {
        g_free(def->numa_nodeset);
        def->numa_nodeset = g_strdup(nodeset);
    }
    if (mode != NUMATUNE_NONE)
        def->numa_mode = mode;
    else if (def->numa_mode == NUMATUNE_NONE)
        def->numa_mode = NUMATUNE_STRICT;
    return TRUE;
}

gboolean
core_domain_set_numatune(struct domain *dom, unsigned flags, int mode, const char *nodeset,
                         GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (mode != NUMATUNE_NONE && (mode < NUMATUNE_STRICT || mode > NUMATUNE_RESTRICTIVE)) {
        err_set(error, ORIGIN, ERR_INVALID_ARG, "unsupported numatune mode: '%d'", mode);
        return FALSE;
    }
    g_autofree char *canonical = NULL;
    if (nodeset) {
        struct cpuset set;
        if (!cpuset_parse(nodeset, &set, NULL)) {
            err_set(error, ORIGIN, ERR_OPERATION_INVALID, "Invalid nodeset of 'numatune': %s",
                    nodeset);
            return FALSE;
        }
        canonical = cpuset_format(&set);
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    struct domain_def *copy = config ? domain_def_copy(core_persistent_def(dom)) : NULL;
    g_autoptr(domain_def) owned = copy;
    if (copy && !set_def(copy, mode, canonical, error))
        return FALSE;
    if (live) {
        if (!set_live(dom, mode, canonical, error))
            return FALSE;
        if (mode != NUMATUNE_STRICT && (canonical || mode != NUMATUNE_NONE) &&
            !set_def(dom->def, mode, canonical, error))
            return FALSE;
        dom->updated = TRUE;
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    return !copy || core_domain_keep_config(dom, g_steal_pointer(&owned), error);
}
