/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def tune: the resource tuning of a domain — <cputune> (shares, periods and quotas,
 * vCPU, emulator and IOThread pinning), <memtune> and <blkiotune> (weights and per-device
 * limits); prefix domain_def_. */
#include <string.h>

#include "conf/domain_def_priv.h"
#include "util/cpuset.h"
#include "util/err.h"

/* A pinning's cpuset= (required, naming at least one CPU): canonical, new string. */
static char *
parse_pin_cpuset(xmlNodePtr node, GError **error)
{
    g_autofree char *text = domain_def_xml_prop(node, "cpuset");
    struct cpuset set;
    if (!text) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing cpuset for %s",
                (const char *)node->name);
        return NULL;
    }
    if (!cpuset_parse(text, &set, error)) {
        g_prefix_error(error, "%s: ", (const char *)node->name);
        return NULL;
    }
    return cpuset_format(&set);
}

/* The number in element NODE within MIN..MAX */
static gboolean
element_int(xmlNodePtr node, int64_t min, int64_t max, int64_t *ret, GError **error)
{
    static const char *const none[] = {NULL};
    g_autofree char *text = NULL;
    gint64 v = 0;
    if (!domain_def_xml_check_attrs(node, none, error) ||
        !(text = domain_def_xml_text(node, error)))
        return FALSE;
    if (!g_ascii_string_to_signed(g_strstrip(text), 10, min, max, &v, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "Value of cputune '%s' must be in range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                "], not '%s'",
                (const char *)node->name, min, max, text);
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

/* <shares>, <period>, <quota>, <global_…>, <emulator_…> of <cputune>: *RET_HANDLED when NODE
 * is one */
static gboolean
parse_sched_tunable(struct domain_def *def, xmlNodePtr node, gboolean *ret_handled, GError **error)
{
    static const char *const periods[] = {"period", "global_period", "emulator_period", NULL};
    static const char *const quotas[] = {"quota", "global_quota", "emulator_quota", NULL};
    uint64_t *period_slots[] = {&def->vcpu_period, &def->global_period, &def->emulator_period};
    int64_t *quota_slots[] = {&def->vcpu_quota, &def->global_quota, &def->emulator_quota};
    int64_t v = 0;
    *ret_handled = TRUE;
    if (domain_def_xml_is(node, "shares")) {
        if (!element_int(node, 0, G_MAXINT64, &v, error))
            return FALSE;
        def->cpu_shares = (uint64_t)v;
        return TRUE;
    }
    for (int i = 0; periods[i]; i++) {
        if (domain_def_xml_is(node, periods[i])) {
            if (!element_int(node, DOMAIN_DEF_PERIOD_MIN, DOMAIN_DEF_PERIOD_MAX, &v, error))
                return FALSE;
            *period_slots[i] = (uint64_t)v;
            return TRUE;
        }
        if (domain_def_xml_is(node, quotas[i])) {
            if (!element_int(node, -1, DOMAIN_DEF_QUOTA_MAX, &v, error))
                return FALSE;
            if (v != -1 && v < DOMAIN_DEF_QUOTA_MIN) {
                err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                        "Value of cputune '%s' must be in range [%lld, %lld] or -1", quotas[i],
                        DOMAIN_DEF_QUOTA_MIN, DOMAIN_DEF_QUOTA_MAX);
                return FALSE;
            }
            *quota_slots[i] = v;
            return TRUE;
        }
    }
    *ret_handled = FALSE;
    return TRUE;
}

/* <memtune>: hard, soft and swap limits (KiB). min_guarantee is not QEMU's: refused, as
 * libvirt refuses it. */
gboolean
domain_def_parse_memtune(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const attrs[] = {"unit", NULL};
    static const char *const names[] = {"hard_limit", "soft_limit", "swap_hard_limit", NULL};
    uint64_t *slots[] = {&def->mem_hard_limit, &def->mem_soft_limit, &def->mem_swap_hard_limit};
    xmlNodePtr seen[3] = {NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "min_guarantee")) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "Parameter 'min_guarantee' not supported by QEMU.");
            return FALSE;
        }
        int i =
            c->type == XML_ELEMENT_NODE ? domain_def_enum_lookup(names, (const char *)c->name) : -1;
        if (i < 0)
            return domain_def_xml_unsupported(node, c, error);
        uint64_t kib = 0;
        if (!domain_def_xml_once(&seen[i], c, error) ||
            !domain_def_parse_memory(c, attrs, &kib, error))
            return FALSE;
        *slots[i] = MIN(kib, DOMAIN_DEF_MEMORY_UNLIMITED);
    }
    if (def->mem_hard_limit && def->mem_swap_hard_limit &&
        def->mem_swap_hard_limit < def->mem_hard_limit) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "swap_hard_limit cannot be less than hard_limit");
        return FALSE;
    }
    return TRUE;
}

const char *const numatune_mode_names[] = {"strict", "preferred", "interleave", "restrictive",
                                           NULL};

/* A host node list (canonical into *RET), or ERR_INVALID_ARG naming it */
static gboolean
numatune_nodeset(const char *nodeset, char **ret, GError **error)
{
    struct cpuset set;
    if (!cpuset_parse(nodeset, &set, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "invalid numatune nodeset '%s': give host NUMA node numbers, as '0' or '0-1,3'",
                nodeset);
        return FALSE;
    }
    g_free(*ret);
    *ret = cpuset_format(&set);
    return TRUE;
}

static gint
by_cellid(gconstpointer a, gconstpointer b)
{
    const struct numa_memnode *x = *(struct numa_memnode *const *)a;
    const struct numa_memnode *y = *(struct numa_memnode *const *)b;
    return x->cellid < y->cellid ? -1 : x->cellid > y->cellid;
}

/* <memnode cellid mode nodeset>: one guest NUMA cell bound on its own, kept by cell as libvirt
 * keeps them (its cell is checked once the cells are read) */
static gboolean
parse_memnode(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"cellid", "mode", "nodeset", NULL};
    guint64 cellid = 0;
    int mode = NUMATUNE_STRICT;
    g_autofree char *id = domain_def_xml_prop(node, "cellid");
    g_autofree char *nodeset = domain_def_xml_prop(node, "nodeset");
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_enum(node, "mode", numatune_mode_names, &mode, error))
        return FALSE;
    if (!id || !g_ascii_string_to_unsigned(id, 10, 0, G_MAXUINT32, &cellid, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                id ? "invalid cellid '%s' in memnode element"
                   : "Missing required attribute 'cellid' in element 'memnode'",
                id);
        return FALSE;
    }
    for (guint i = 0; i < def->numa_memnodes->len; i++) {
        if (((struct numa_memnode *)def->numa_memnodes->pdata[i])->cellid == cellid) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Multiple memnode elements with cellid %u", (unsigned)cellid);
            return FALSE;
        }
    }
    if (!nodeset) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "Missing required nodeset attribute in memnode element");
        return FALSE;
    }
    struct numa_memnode *m = g_new0(struct numa_memnode, 1);
    m->cellid = (unsigned)cellid;
    m->mode = mode;
    g_ptr_array_add(def->numa_memnodes, m);
    g_ptr_array_sort(def->numa_memnodes, by_cellid);
    return numatune_nodeset(nodeset, &m->nodeset, error);
}

/* <memory mode placement nodeset> of <numatune> */
static gboolean
parse_numatune_memory(struct domain_def *def, xmlNodePtr memory, GError **error)
{
    static const char *const attrs[] = {"mode", "placement", "nodeset", NULL};
    static const char *const placements[] = {"static", "auto", NULL};
    int mode = NUMATUNE_STRICT, placement = 0;
    g_autofree char *nodeset = domain_def_xml_prop(memory, "nodeset");
    if (!domain_def_xml_check_attrs(memory, attrs, error) ||
        !domain_def_xml_enum(memory, "mode", numatune_mode_names, &mode, error) ||
        !domain_def_xml_enum(memory, "placement", placements, &placement, error))
        return FALSE;
    if (placement == 1) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "numatune placement 'auto' needs numad, which this daemon does not use; give "
                "the host nodes with nodeset=");
        return FALSE;
    }
    if (!nodeset) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
        return FALSE;
    }
    if (!numatune_nodeset(nodeset, &def->numa_nodeset, error))
        return FALSE;
    def->numa_mode = mode;
    return TRUE;
}

/* <numatune>: <memory mode nodeset>, placement static, and <memnode>s. Placement auto needs
 * numad: refused, naming what to give instead. */
gboolean
domain_def_parse_numatune(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    xmlNodePtr memory = NULL;
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "memnode")) {
            if (!parse_memnode(def, c, error))
                return FALSE;
            continue;
        }
        if (!domain_def_xml_is(c, "memory"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_once(&memory, c, error))
            return FALSE;
    }
    if (memory && !parse_numatune_memory(def, memory, error))
        return FALSE;
    for (guint i = 0; i < def->numa_memnodes->len; i++) {
        if (def->numa_mode == NUMATUNE_RESTRICTIVE &&
            ((struct numa_memnode *)def->numa_memnodes->pdata[i])->mode != NUMATUNE_RESTRICTIVE) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "'restrictive' mode is required in memnode element when mode is "
                    "'restrictive' in memory element");
            return FALSE;
        }
    }
    return TRUE;
}

/* The number in element NODE, unsigned, within MAX */
static gboolean
element_uint(xmlNodePtr node, guint64 max, guint64 *ret, GError **error)
{
    static const char *const none[] = {NULL};
    g_autofree char *text = NULL;
    if (!domain_def_xml_check_attrs(node, none, error) ||
        !(text = domain_def_xml_text(node, error)))
        return FALSE;
    if (!g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, max, ret, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "could not parse %s '%s'",
                (const char *)node->name, text);
        return FALSE;
    }
    return TRUE;
}

/* <blkiotune>: a weight, and per host block device a weight and throttles */
gboolean
domain_def_parse_blkiotune(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const fields[] = {"weight",         "read_iops_sec",   "write_iops_sec",
                                         "read_bytes_sec", "write_bytes_sec", NULL};
    xmlNodePtr weight = NULL;
    guint64 v = 0;
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "weight")) {
            if (!domain_def_xml_once(&weight, c, error) || !element_uint(c, G_MAXUINT, &v, error))
                return FALSE;
            def->blkio_weight = (unsigned)v;
            continue;
        }
        if (!domain_def_xml_is(c, "device"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_check_attrs(c, none, error))
            return FALSE;
        struct blkio_device_def *dev = g_new0(struct blkio_device_def, 1);
        g_ptr_array_add(def->blkio_devices, dev);
        xmlNodePtr seen[6] = {NULL};
        for (xmlNodePtr d = c->children; d; d = d->next) {
            if (domain_def_xml_ignorable(d))
                continue;
            if (domain_def_xml_is(d, "path")) {
                if (!domain_def_xml_once(&seen[5], d, error) ||
                    !domain_def_xml_check_attrs(d, none, error) ||
                    !(dev->path = domain_def_xml_text(d, error)))
                    return FALSE;
                g_strstrip(dev->path);
                continue;
            }
            int i = d->type == XML_ELEMENT_NODE
                        ? domain_def_enum_lookup(fields, (const char *)d->name)
                        : -1;
            if (i < 0)
                return domain_def_xml_unsupported(c, d, error);
            if (!domain_def_xml_once(&seen[i], d, error) ||
                !element_uint(d, i <= 2 ? G_MAXUINT : G_MAXUINT64, &v, error))
                return FALSE;
            guint64 *slots[] = {NULL, &dev->read_iops, &dev->write_iops, &dev->read_bytes,
                                &dev->write_bytes};
            if (i == 0)
                dev->weight = (unsigned)v;
            else
                *slots[i] = v;
        }
        if (!dev->path || !*dev->path) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "missing per-device path");
            return FALSE;
        }
        for (guint j = 0; j + 1 < def->blkio_devices->len; j++) {
            const struct blkio_device_def *o = def->blkio_devices->pdata[j];
            if (g_str_equal(o->path, dev->path)) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "duplicate blkio device path '%s'",
                        dev->path);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* <cputune>: the pinning of vCPU threads and of QEMU's other threads. A <vcpupin> of a vCPU
 * past <vcpu> is dropped, as libvirt drops it. The scheduler's tunables (shares, periods and
 * quotas of the vCPUs, the emulator and the whole) are applied through cgroups. */
gboolean
domain_def_parse_cputune(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const pin_attrs[] = {"vcpu", "cpuset", NULL};
    static const char *const emu_attrs[] = {"cpuset", NULL};
    static const char *const iothread_attrs[] = {"iothread", "cpuset", NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    xmlNodePtr emulator = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "vcpupin")) {
            uint64_t vcpu = 0;
            g_autofree char *given = domain_def_xml_prop_required(c, "vcpu", error);
            if (!given || !domain_def_xml_check_attrs(c, pin_attrs, error) ||
                !domain_def_xml_check_empty(c, error) ||
                !domain_def_xml_uint(c, "vcpu", 0, G_MAXUINT32, &vcpu, error))
                return FALSE;
            if (vcpu >= def->vcpus)
                continue;
            if (vcpu < def->vcpupins->len && def->vcpupins->pdata[vcpu]) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "duplicate vcpupin for vcpu '%u'",
                        (unsigned)vcpu);
                return FALSE;
            }
            char *cpuset = parse_pin_cpuset(c, error);
            if (!cpuset)
                return FALSE;
            if (vcpu >= def->vcpupins->len)
                g_ptr_array_set_size(def->vcpupins, (guint)vcpu + 1);
            def->vcpupins->pdata[vcpu] = cpuset;
        } else if (!parse_sched_tunable(def, c, &handled, error)) {
            return FALSE;
        } else if (handled) {
            continue;
        } else if (domain_def_xml_is(c, "iothreadpin")) {
            uint64_t id = 0;
            g_autofree char *given = domain_def_xml_prop_required(c, "iothread", error);
            if (!given || !domain_def_xml_check_attrs(c, iothread_attrs, error) ||
                !domain_def_xml_check_empty(c, error) ||
                !domain_def_xml_uint(c, "iothread", 1, G_MAXUINT32, &id, error))
                return FALSE;
            struct iothread_def *t = domain_def_iothread_find(def, (unsigned)id);
            if (!t) {
                err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                        "Cannot find 'iothread' : %u", (unsigned)id);
                return FALSE;
            }
            if (t->cpuset) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "duplicate iothreadpin for same iothread '%u'", (unsigned)id);
                return FALSE;
            }
            if (!(t->cpuset = parse_pin_cpuset(c, error)))
                return FALSE;
        } else if (domain_def_xml_is(c, "emulatorpin")) {
            if (!domain_def_xml_once(&emulator, c, error) ||
                !domain_def_xml_check_attrs(c, emu_attrs, error) ||
                !domain_def_xml_check_empty(c, error) ||
                !(def->emulatorpin = parse_pin_cpuset(c, error)))
                return FALSE;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    return TRUE;
}
