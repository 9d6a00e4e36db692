/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def_memory: the guest's NUMA cells (<cpu><numa><cell>), its memory modules (<memory
 * model='dimm'> in <devices>) and the accounting between them and <memory> as libvirt does it:
 * <memory> is the total, the cells' memory plus the modules'; prefix domain_def_. */
#include <string.h>

#include "conf/domain_def_priv.h"
#include "conf/xml_util.h"
#include "util/cpuset.h"
#include "util/err.h"

#define DIMM_ALIGN_KIB 2048 /* QEMU's pc-dimm needs 2 MiB multiples: libvirt rounds up */

void
domain_def_numa_cell_free(struct numa_cell_def *cell)
{
    if (!cell)
        return;
    g_free(cell->cpus);
    g_free(cell);
}

gpointer
domain_def_numa_cell_copy(gconstpointer src, gpointer unused)
{
    const struct numa_cell_def *s = src;
    struct numa_cell_def *cell = g_new0(struct numa_cell_def, 1);
    *cell = *s;
    cell->cpus = g_strdup(s->cpus);
    return cell;
}

void
domain_def_memnode_free(struct numa_memnode *m)
{
    if (!m)
        return;
    g_free(m->nodeset);
    g_free(m);
}

gpointer
domain_def_memnode_copy(gconstpointer src, gpointer unused)
{
    struct numa_memnode *m = g_memdup2(src, sizeof(*m));
    m->nodeset = g_strdup(m->nodeset);
    return m;
}

void
domain_def_memdev_free(struct memdev_def *mem)
{
    if (!mem)
        return;
    device_info_clear(&mem->info);
    g_free(mem);
}

gpointer
domain_def_memdev_copy(gconstpointer src, gpointer unused)
{
    const struct memdev_def *s = src;
    struct memdev_def *mem = g_new0(struct memdev_def, 1);
    *mem = *s;
    device_info_copy(&mem->info, &s->info);
    return mem;
}

/* A size: the attribute or element text VALUE in UNIT (KiB when NULL), in KiB rounded up. */
static gboolean
scaled_kib(const char *what, const char *value, const char *unit, uint64_t *ret_kib, GError **error)
{
    uint64_t scale = 0, v = 0;
    if (!xml_util_unit_scale(unit, 1024, &scale)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "unsupported unit '%s' for %s",
                unit, what);
        return FALSE;
    }
    g_autofree char *text = g_strstrip(g_strdup(value));
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64 / scale, &v, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "invalid %s '%s'", what, text);
        return FALSE;
    }
    uint64_t bytes = v * scale;
    *ret_kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    return TRUE;
}

/* <numa> inside <cpu>: cells with id, cpus (libvirt's list) and memory */
gboolean
domain_def_numa_parse(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const cell_attrs[] = {"id", "cpus", "memory", "unit", NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "cell"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_check_attrs(c, cell_attrs, error) ||
            !domain_def_xml_check_empty(c, error))
            return FALSE;
        struct numa_cell_def *cell = g_new0(struct numa_cell_def, 1);
        g_ptr_array_add(def->numa_cells, cell);
        /* libvirt numbers cells without an id by their place */
        uint64_t id = def->numa_cells->len - 1;
        if (!domain_def_xml_uint(c, "id", 0, DOMAIN_DEF_NUMA_CELLS_MAX - 1, &id, error))
            return FALSE;
        cell->id = (unsigned)id;
        g_autofree char *cpus = domain_def_xml_prop(c, "cpus");
        if (cpus) {
            struct cpuset set;
            if (!cpuset_parse(cpus, &set, error)) {
                g_prefix_error(error, "NUMA cell %u: ", cell->id);
                return FALSE;
            }
            cell->cpus = cpuset_format(&set);
        }
        g_autofree char *memory = domain_def_xml_prop(c, "memory");
        g_autofree char *unit = domain_def_xml_prop(c, "unit");
        if (!memory) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Missing 'memory' attribute in NUMA cell");
            return FALSE;
        }
        if (!scaled_kib("NUMA cell memory", memory, unit, &cell->memory_kib, error))
            return FALSE;
    }
    return TRUE;
}

/* <memory model='dimm|virtio-mem'><target><size unit=…>N</size><node>K</node> (virtio-mem:
 * <block>, <requested>, <current>)</target>…</memory> */
/* A virtio-mem device's sizes, as libvirt and QEMU check them: a block of a power of two of at
 * least 2 MiB (the host's transparent huge page), a size and a requested size of whole
 * blocks, no more requested than the size */
static gboolean
virtio_mem_check(const struct memdev_def *mem, GError **error)
{
    const char *why = NULL;
    if (!mem->block_kib)
        why = "a virtio-mem device needs its <block> size (a power of two, at least 2048 KiB)";
    else if (mem->block_kib & (mem->block_kib - 1))
        why = "block size must be a power of two";
    else if (mem->block_kib < DIMM_ALIGN_KIB)
        why = "block size too small, must be at least 2048KiB";
    else if (mem->requested_kib > mem->size_kib)
        why = "requested size must be smaller than or equal to @size";
    else if (mem->requested_kib % mem->block_kib)
        why = "requested size must be an integer multiple of block size";
    else if (mem->size_kib % mem->block_kib)
        why = "size must be an integer multiple of block size";
    if (why) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_DETAIL, "%s", why);
        return FALSE;
    }
    if (mem->info.address && !g_str_equal(mem->info.address->type, "pci")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "a virtio-mem device sits on a PCI address, not a '%s' one",
                mem->info.address->type);
        return FALSE;
    }
    return TRUE;
}

gboolean
domain_def_memdev_parse(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"model", "access", "discard", NULL};
    static const char *const none[] = {NULL};
    static const char *const size_attrs[] = {"unit", NULL};
    static const char *const models[] = {"dimm", "virtio-mem", NULL};
    if (!domain_def_xml_check_attrs(node, attrs, error))
        return FALSE;
    g_autofree char *model = domain_def_xml_prop(node, "model");
    if (!model) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "missing attribute 'model' on element "
                "'memory'");
        return FALSE;
    }
    int m = -1;
    if (!domain_def_xml_enum(node, "model", models, &m, error))
        return FALSE;
    g_autofree char *access = domain_def_xml_prop(node, "access");
    g_autofree char *discard = domain_def_xml_prop(node, "discard");
    if (access || discard) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unsupported attribute '%s' on element 'memory'", access ? "access" : "discard");
        return FALSE;
    }
    struct memdev_def *mem = g_new0(struct memdev_def, 1);
    mem->node = -1;
    mem->model = m == 1 ? MEMDEV_VIRTIO_MEM : MEMDEV_DIMM;
    gboolean virtio = mem->model == MEMDEV_VIRTIO_MEM;
    g_ptr_array_add(def->memdevs, mem);
    xmlNodePtr target = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &mem->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (!domain_def_xml_is(c, "target"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_once(&target, c, error) || !domain_def_xml_check_attrs(c, none, error))
            return FALSE;
        xmlNodePtr size = NULL, numa = NULL, block = NULL, requested = NULL, current = NULL;
        for (xmlNodePtr t = c->children; t; t = t->next) {
            if (domain_def_xml_ignorable(t))
                continue;
            g_autofree char *text = NULL;
            if (domain_def_xml_is(t, "size")) {
                g_autofree char *unit = domain_def_xml_prop(t, "unit");
                if (!domain_def_xml_once(&size, t, error) ||
                    !domain_def_xml_check_attrs(t, size_attrs, error) ||
                    !(text = domain_def_xml_text(t, error)) ||
                    !scaled_kib("memory device size", text, unit, &mem->size_kib, error))
                    return FALSE;
            } else if (virtio &&
                       (domain_def_xml_is(t, "block") || domain_def_xml_is(t, "requested") ||
                        domain_def_xml_is(t, "current"))) {
                gboolean is_block = domain_def_xml_is(t, "block");
                gboolean is_requested = domain_def_xml_is(t, "requested");
                xmlNodePtr *seen = is_block ? &block : is_requested ? &requested : &current;
                uint64_t *value = is_block       ? &mem->block_kib
                                  : is_requested ? &mem->requested_kib
                                                 : &mem->current_kib;
                g_autofree char *unit = domain_def_xml_prop(t, "unit");
                if (!domain_def_xml_once(seen, t, error) ||
                    !domain_def_xml_check_attrs(t, size_attrs, error) ||
                    !(text = domain_def_xml_text(t, error)) ||
                    !scaled_kib((const char *)t->name, text, unit, value, error))
                    return FALSE;
            } else if (domain_def_xml_is(t, "node")) {
                guint64 n = 0;
                if (!domain_def_xml_once(&numa, t, error) ||
                    !domain_def_xml_check_attrs(t, none, error) ||
                    !(text = domain_def_xml_text(t, error)))
                    return FALSE;
                if (!g_ascii_string_to_unsigned(g_strstrip(text), 10, 0,
                                                DOMAIN_DEF_NUMA_CELLS_MAX - 1, &n, NULL)) {
                    err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                            "invalid NUMA node '%s' of a memory device", text);
                    return FALSE;
                }
                mem->node = (int)n;
            } else {
                return domain_def_xml_unsupported(c, t, error);
            }
        }
    }
    if (!mem->size_kib) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "memory device needs a <target> with a non-zero <size>");
        return FALSE;
    }
    if (virtio)
        return virtio_mem_check(mem, error);
    mem->size_kib = (mem->size_kib + DIMM_ALIGN_KIB - 1) / DIMM_ALIGN_KIB * DIMM_ALIGN_KIB;
    if (mem->info.address && !g_str_equal(mem->info.address->type, "dimm")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "only 'dimm' addresses are supported for the pc-dimm device");
        return FALSE;
    }
    return TRUE;
}

int
domain_def_memdev_slot(const struct memdev_def *mem)
{
    const struct domain_address *a = mem->model == MEMDEV_DIMM ? mem->info.address : NULL;
    for (guint i = 0; a && a->keys[i]; i++) {
        guint64 v = 0;
        if (g_str_equal(a->keys[i], "slot") &&
            g_ascii_string_to_unsigned(a->values[i], 10, 0, G_MAXINT, &v, NULL))
            return (int)v;
    }
    return -1;
}

uint64_t
domain_def_memory_initial(const struct domain_def *def)
{
    uint64_t plugged = 0;
    for (guint i = 0; i < def->memdevs->len; i++)
        plugged += ((const struct memdev_def *)def->memdevs->pdata[i])->size_kib;
    return def->memory_kib > plugged ? def->memory_kib - plugged : 0;
}

/* One memory device against the rest of DEF: its node, its slot (libvirt's checks) */
gboolean
domain_def_memdev_check(const struct domain_def *def, const struct memdev_def *mem, GError **error)
{
    guint ncells = def->numa_cells->len;
    if (ncells && mem->node < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "target NUMA node needs to be specified for memory device");
        return FALSE;
    }
    if (mem->node >= 0 && (guint)mem->node >= ncells) {
        if (ncells)
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "can't add memory backend for guest node '%d' as the guest has only '%u' "
                    "NUMA nodes configured",
                    mem->node, ncells);
        else
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "can't add memory backend as guest has no NUMA nodes configured");
        return FALSE;
    }
    int slot = domain_def_memdev_slot(mem);
    if (slot >= 0 && def->max_memory_slots && (unsigned)slot >= def->max_memory_slots) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "memory device slot '%d' exceeds slots count '%u'", slot, def->max_memory_slots);
        return FALSE;
    }
    for (guint i = 0; slot >= 0 && i < def->memdevs->len; i++) {
        const struct memdev_def *o = def->memdevs->pdata[i];
        if (o != mem && domain_def_memdev_slot(o) == slot) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "memory device slot '%d' is already being used by another memory device", slot);
            return FALSE;
        }
    }
    return TRUE;
}

/* The checks of memory hotplug: modules need <maxMemory>, <maxMemory> needs NUMA (libvirt
 * enforces it on x86: QEMU would make one node silently), the slots and the space. */
gboolean
domain_def_memory_check_hotplug(const struct domain_def *def, GError **error)
{
    guint nmems = def->memdevs->len;
    if (!def->max_memory_kib) {
        if (nmems) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
            return FALSE;
        }
        return TRUE;
    }
    if (!def->numa_cells->len) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "At least one numa node has to be configured when enabling memory hotplug");
        return FALSE;
    }
    guint ndimms = 0;
    for (guint i = 0; i < nmems; i++)
        ndimms += ((const struct memdev_def *)def->memdevs->pdata[i])->model == MEMDEV_DIMM;
    if (ndimms > def->max_memory_slots) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "memory device count '%u' exceeds slots count '%u'", ndimms, def->max_memory_slots);
        return FALSE;
    }
    uint64_t plugged = 0;
    for (guint i = 0; i < nmems; i++) {
        const struct memdev_def *mem = def->memdevs->pdata[i];
        if (!domain_def_memdev_check(def, mem, error))
            return FALSE;
        plugged += mem->size_kib;
    }
    if (plugged > def->max_memory_kib - domain_def_memory_initial(def)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "memory device total size exceeds hotplug space");
        return FALSE;
    }
    return TRUE;
}

static gint
by_cell_id(gconstpointer a, gconstpointer b)
{
    const struct numa_cell_def *x = *(struct numa_cell_def *const *)a;
    const struct numa_cell_def *y = *(struct numa_cell_def *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* After the whole definition is read: the cells (ids, CPUs) and the totals. With cells,
 * <memory> is their sum plus the modules'; without, the modules are part of <memory>.
 * CURRENT_GIVEN: <currentMemory> was in the XML (else it follows the total). */
gboolean
domain_def_memory_finish(struct domain_def *def, gboolean current_given, GError **error)
{
    guint ncells = def->numa_cells->len;
    uint64_t cells_kib = 0, plugged = 0;
    for (guint i = 0; i < def->numa_memnodes->len; i++) {
        const struct numa_memnode *m = def->numa_memnodes->pdata[i];
        if (!ncells) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Element 'memnode' is invalid without any guest NUMA cells");
            return FALSE;
        }
        if (m->cellid >= ncells) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Argument 'cellid' in memnode element must correspond to existing guest's "
                    "NUMA cell");
            return FALSE;
        }
    }
    g_autofree gboolean *seen = g_new0(gboolean, ncells + 1);
    struct cpuset all;
    memset(&all, 0, sizeof(all));
    for (guint i = 0; i < ncells; i++) {
        const struct numa_cell_def *cell = def->numa_cells->pdata[i];
        if (cell->id >= ncells) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Cell id '%u' must be lower than number of cells '%u'", cell->id, ncells);
            return FALSE;
        }
        if (seen[cell->id]) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Duplicate NUMA cell info for cell id '%u'", cell->id);
            return FALSE;
        }
        seen[cell->id] = TRUE;
        struct cpuset set;
        if (cell->cpus && cpuset_parse(cell->cpus, &set, NULL)) {
            for (guint c = 0; c < CPUSET_MAX; c++) {
                if (!cpuset_has(&set, c))
                    continue;
                if (c >= def->vcpus) {
                    err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                            "Number of CPUs in <numa> exceeds the <vcpu> count");
                    return FALSE;
                }
                if (cpuset_has(&all, c)) {
                    err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                            "NUMA cells %u and another one overlap: vCPU %u is in both", cell->id,
                            c);
                    return FALSE;
                }
                all.bits[c / 8] |= (guint8)(1u << (c % 8));
            }
        }
        cells_kib += cell->memory_kib;
    }
    /* kept by id, as libvirt keeps them */
    g_ptr_array_sort(def->numa_cells, by_cell_id);
    for (guint i = 0; i < def->memdevs->len; i++)
        plugged += ((const struct memdev_def *)def->memdevs->pdata[i])->size_kib;
    if (ncells) {
        if (!cells_kib) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "Memory size must be specified via <memory> or in the <numa> configuration");
            return FALSE;
        }
        def->memory_kib = cells_kib + plugged;
        if (!domain_def_check_memory_range("memory", def->memory_kib, error)) {
            g_prefix_error(error, "the NUMA cells and memory modules: ");
            return FALSE;
        }
    } else if (plugged >= def->memory_kib) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "Total size of memory devices exceeds the total memory size");
        return FALSE;
    }
    if (current_given && def->current_memory_kib > def->memory_kib) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "current memory %" G_GUINT64_FORMAT " KiB exceeds memory %" G_GUINT64_FORMAT " KiB",
                (guint64)def->current_memory_kib, (guint64)def->memory_kib);
        return FALSE;
    }
    if (!current_given || !def->current_memory_kib)
        def->current_memory_kib = def->memory_kib;
    if (def->max_memory_kib && def->max_memory_kib < def->memory_kib) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "maxMemory %" G_GUINT64_FORMAT " KiB is below memory %" G_GUINT64_FORMAT " KiB",
                (guint64)def->max_memory_kib, (guint64)def->memory_kib);
        return FALSE;
    }
    return domain_def_memory_check_hotplug(def, error);
}

void
domain_def_numa_format(GString *buf, int level, const struct domain_def *def)
{
    if (!def->numa_cells->len)
        return;
    domain_def_indent(buf, level);
    g_string_append(buf, "<numa>\n");
    for (guint i = 0; i < def->numa_cells->len; i++) {
        const struct numa_cell_def *cell = def->numa_cells->pdata[i];
        domain_def_indent(buf, level + 1);
        g_string_append_printf(buf, "<cell id='%u'", cell->id);
        if (cell->cpus)
            g_string_append_printf(buf, " cpus='%s'", cell->cpus);
        g_string_append_printf(buf, " memory='%" G_GUINT64_FORMAT "' unit='KiB'/>\n",
                               (guint64)cell->memory_kib);
    }
    domain_def_indent(buf, level);
    g_string_append(buf, "</numa>\n");
}
