/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def disk: <disk> and what it holds — source, target, driver, iotune, and the live
 * parts a daemon's status keeps (<backingStore> chain, <source index=>, a block copy's
 * <mirror>), which libvirt ignores on define and so does Domus (domain_def_drop_runtime);
 * prefix domain_def_. */
#include <string.h>

#include "conf/domain_def_priv.h"
#include "util/err.h"

static const char *const none_attrs[] = {NULL};
static const char *const disk_type_names[] = {"file", "block", "volume", NULL};
/* The values of type= on <driver>: DISK_FORMAT_RAW and on (DISK_FORMAT_NONE is absence). */
static const char *const disk_format_names[] = {"raw", "qcow2", NULL};
static const char *const driver_names[] = {"qemu", NULL};
static const char *const cache_names[] = {
    "default", "none", "writethrough", "writeback", "directsync", "unsafe", NULL,
};
static const char *const discard_names[] = {"unmap", "ignore", NULL};
static const char *const io_names[] = {"threads", "native", "io_uring", NULL};
static const char *const error_policy_names[] = {"stop", "report", "ignore", "enospace", NULL};
static const char *const detect_zeroes_names[] = {"off", "on", "unmap", NULL};
static const char *const on_off_names[] = {"on", "off", NULL};

typedef struct disk_def disk_def;
typedef struct disk_layer disk_layer;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(disk_layer, disk_layer_free)
typedef struct disk_mirror disk_mirror;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(disk_mirror, disk_mirror_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(disk_def, domain_def_disk_free)

/* "vda", "hdc", "sdaa": a known prefix and letters. */
static gboolean
disk_target_valid(const char *dev, int *ret_bus)
{
    static const struct {
        const char *prefix;
        enum disk_bus bus;
    } prefixes[] = {{"vd", DISK_BUS_VIRTIO}, {"hd", DISK_BUS_IDE}, {"sd", DISK_BUS_SCSI}};
    for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        if (!g_str_has_prefix(dev, prefixes[i].prefix))
            continue;
        const char *p = dev + 2;
        if (!*p || strlen(p) > DISK_TARGET_LETTERS_MAX)
            return FALSE;
        for (; *p; p++) {
            if (*p < 'a' || *p > 'z')
                return FALSE;
        }
        *ret_bus = (int)prefixes[i].bus;
        return TRUE;
    }
    return FALSE;
}

static gboolean
parse_disk_source(struct disk_def *disk, xmlNodePtr node, GError **error)
{
    /* index= numbers the image in the live backing chain: kept for the daemon's status. */
    static const char *const file_attrs[] = {"file", "index", NULL};
    static const char *const block_attrs[] = {"dev", "index", NULL};
    static const char *const volume_attrs[] = {"pool", "volume", "index", NULL};
    uint64_t index = 0;
    if (disk->type == DISK_TYPE_VOLUME) {
        if (!domain_def_check_leaf(node, volume_attrs, error))
            return FALSE;
        disk->source_pool = domain_def_xml_prop(node, "pool");
        disk->source_volume = domain_def_xml_prop(node, "volume");
        if (!disk->source_pool || !disk->source_volume || !*disk->source_pool ||
            !*disk->source_volume) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "a disk of type 'volume' needs <source pool='…' volume='…'/>");
            return FALSE;
        }
    } else {
        gboolean file = disk->type == DISK_TYPE_FILE;
        if (!domain_def_check_leaf(node, file ? file_attrs : block_attrs, error))
            return FALSE;
        disk->source = domain_def_xml_prop(node, file ? "file" : "dev");
        if (disk->source && !*disk->source)
            g_clear_pointer(&disk->source, g_free);
    }
    if (!domain_def_xml_uint(node, "index", 1, G_MAXINT, &index, error))
        return FALSE;
    disk->source_index = (unsigned)index;
    return TRUE;
}

/* <format type='raw|qcow2'/> (once: SEEN) into *RET. */
static gboolean
parse_format_child(xmlNodePtr c, xmlNodePtr *seen, enum disk_format *ret, GError **error)
{
    static const char *const attrs[] = {"type", NULL};
    int format = -1;
    if (!domain_def_xml_once(seen, c, error) || !domain_def_check_leaf(c, attrs, error) ||
        !domain_def_xml_enum(c, "type", disk_format_names, &format, error))
        return FALSE;
    *ret = (enum disk_format)(format + 1);
    return TRUE;
}

/* <backingStore type='file' index='N'><format type='…'/><source file='…'/><backingStore…>:
 * the live backing chain, appended to DISK->backing; an empty <backingStore/> ends it. */
static gboolean
parse_backing_store(struct disk_def *disk, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "index", NULL};
    static const char *const file_attrs[] = {"file", NULL};
    static const char *const block_attrs[] = {"dev", NULL};
    if (!disk->backing)
        disk->backing = g_ptr_array_new_with_free_func((GDestroyNotify)disk_layer_free);
    for (;;) {
        int type = -1;
        uint64_t index = 0;
        xmlNodePtr seen[3] = {NULL};
        if (!domain_def_xml_check_attrs(node, attrs, error) ||
            !domain_def_xml_enum(node, "type", disk_type_names, &type, error) ||
            !domain_def_xml_uint(node, "index", 1, G_MAXINT, &index, error))
            return FALSE;
        if (type < 0) {
            /* the end of the chain */
            if (xmlHasProp(node, (const xmlChar *)"index"))
                return domain_def_xml_unsupported(node->parent, node, error);
            return domain_def_xml_check_empty(node, error);
        }
        if (disk->backing->len >= DISK_CHAIN_MAX || type == DISK_TYPE_VOLUME) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "a backing chain deeper than %d images or with an image of type 'volume' "
                    "is not supported",
                    DISK_CHAIN_MAX);
            return FALSE;
        }
        g_autoptr(disk_layer) layer = g_new0(struct disk_layer, 1);
        layer->type = (enum disk_type)type;
        layer->index = (unsigned)index;
        xmlNodePtr next = NULL;
        for (xmlNodePtr c = node->children; c; c = c->next) {
            if (domain_def_xml_ignorable(c))
                continue;
            if (domain_def_xml_is(c, "format")) {
                if (!parse_format_child(c, &seen[0], &layer->format, error))
                    return FALSE;
            } else if (domain_def_xml_is(c, "source")) {
                gboolean file = layer->type == DISK_TYPE_FILE;
                if (!domain_def_xml_once(&seen[1], c, error) ||
                    !domain_def_check_leaf(c, file ? file_attrs : block_attrs, error) ||
                    !(layer->path = domain_def_xml_prop_required(c, file ? "file" : "dev", error)))
                    return FALSE;
            } else if (domain_def_xml_is(c, "backingStore")) {
                if (!domain_def_xml_once(&seen[2], c, error))
                    return FALSE;
                next = c;
            } else {
                return domain_def_xml_unsupported(node, c, error);
            }
        }
        if (!layer->path) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "a <backingStore> of type '%s' has no <source>; give it <source %s='…'/>",
                    disk_type_names[type], type == DISK_TYPE_FILE ? "file" : "dev");
            return FALSE;
        }
        g_ptr_array_add(disk->backing, g_steal_pointer(&layer));
        if (!next)
            return TRUE;
        node = next;
    }
}

static gboolean
parse_disk_target(struct disk_def *disk, xmlNodePtr node, GError **error)
{
    /* tray= is the live state of a cdrom tray: dropped. */
    static const char *const attrs[] = {"dev", "bus", "tray", "removable", NULL};
    int bus = -1, derived = -1, removable = -1;
    if (!domain_def_check_leaf(node, attrs, error) ||
        !domain_def_xml_enum(node, "bus", domain_def_enum_values(DOMAIN_DEF_ENUM_DISK_BUS), &bus,
                             error) ||
        !domain_def_xml_enum(node, "removable", on_off_names, &removable, error))
        return FALSE;
    disk->removable = removable < 0    ? DOMAIN_TRISTATE_ABSENT
                      : removable == 0 ? DOMAIN_TRISTATE_YES
                                       : DOMAIN_TRISTATE_NO;
    disk->target_dev = domain_def_xml_prop_required(node, "dev", error);
    if (!disk->target_dev)
        return FALSE;
    if (!disk_target_valid(disk->target_dev, &derived)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "invalid disk target '%s'; use vd, hd or sd and 1 to %d letters", disk->target_dev,
                DISK_TARGET_LETTERS_MAX);
        return FALSE;
    }
    disk->bus = (enum disk_bus)(bus >= 0 ? bus : derived);
    if (disk->removable != DOMAIN_TRISTATE_ABSENT && disk->bus != DISK_BUS_USB) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "disk '%s': removable is only valid for usb disks", disk->target_dev);
        return FALSE;
    }
    return TRUE;
}

const char *const disk_iotune_names[DISK_IOTUNE_FIELDS] = {
    "total_bytes_sec",
    "read_bytes_sec",
    "write_bytes_sec",
    "total_iops_sec",
    "read_iops_sec",
    "write_iops_sec",
    "total_bytes_sec_max",
    "read_bytes_sec_max",
    "write_bytes_sec_max",
    "total_iops_sec_max",
    "read_iops_sec_max",
    "write_iops_sec_max",
    "size_iops_sec",
    "total_bytes_sec_max_length",
    "read_bytes_sec_max_length",
    "write_bytes_sec_max_length",
    "total_iops_sec_max_length",
    "read_iops_sec_max_length",
    "write_iops_sec_max_length",
};

gboolean
domain_def_iotune_check(const struct disk_iotune *t, GError **error)
{
    /* a total and its read/write parts exclude each other, for each kind (libvirt) */
    for (int base = 0; base < 19; base += base == 12 ? 1 : 3) {
        if (base == 12)
            continue;
        if (t->v[base] && (t->v[base + 1] || t->v[base + 2])) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "total and read/write of %s cannot be set at the same time",
                    disk_iotune_names[base] + strlen("total_"));
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_iotune(struct disk_iotune *t, xmlNodePtr node, GError **error)
{
    if (!domain_def_xml_check_attrs(node, none_attrs, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        g_autofree char *text = NULL;
        if (!domain_def_xml_check_attrs(c, none_attrs, error) ||
            !(text = domain_def_xml_text(c, error)))
            return FALSE;
        g_strstrip(text);
        if (domain_def_xml_is(c, "group_name")) {
            g_free(t->group_name);
            t->group_name = g_steal_pointer(&text);
            continue;
        }
        int k = -1;
        for (int i = 0; i < DISK_IOTUNE_FIELDS; i++)
            if (domain_def_xml_is(c, disk_iotune_names[i]))
                k = i;
        if (k < 0)
            return domain_def_xml_unsupported(node, c, error);
        guint64 v = 0;
        if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64, &v, NULL)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "disk iotune field '%s' must be an "
                    "unsigned integer, not '%s'",
                    disk_iotune_names[k], text);
            return FALSE;
        }
        t->v[k] = v;
    }
    return domain_def_iotune_check(t, error);
}

/* <mirror type='file|block' job='copy|active-commit|pull|commit' [ready='yes|abort|pivot']
 * [top=N]><format type=…/><source file|dev=… index=…/>[<backingStore/>]</mirror>: a block job
 * under way (live; pull, commit and top only in the daemon's status) */
static gboolean
parse_disk_mirror(struct disk_def *disk, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "job", "ready", "top", NULL};
    static const char *const jobs[] = {"copy", "active-commit", "pull", "commit", NULL};
    static const char *const ready_names[] = {"yes", "abort", "pivot", NULL};
    static const char *const file_attrs[] = {"file", "index", NULL};
    static const char *const block_attrs[] = {"dev", "index", NULL};
    int type = DISK_TYPE_FILE, job = -1, ready = -1;
    uint64_t top = 0;
    if (disk->mirror) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "element 'mirror' appears more than once in 'disk'");
        return FALSE;
    }
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_enum(node, "type", disk_type_names, &type, error) ||
        !domain_def_xml_enum(node, "job", jobs, &job, error) ||
        !domain_def_xml_enum(node, "ready", ready_names, &ready, error) ||
        !domain_def_xml_uint(node, "top", 1, G_MAXINT, &top, error))
        return FALSE;
    if (type == DISK_TYPE_VOLUME) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "a block copy goes to a file or a block device, not a volume");
        return FALSE;
    }
    g_autoptr(disk_mirror) m = g_new0(struct disk_mirror, 1);
    m->job = job < 0 ? DISK_MIRROR_JOB_COPY : (enum disk_mirror_job)job;
    m->type = (enum disk_type)type;
    m->ready = (enum disk_mirror_ready)(ready + 1);
    m->top = (unsigned)top;
    m->shallow = TRUE;
    xmlNodePtr seen[3] = {NULL};
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "format")) {
            if (!parse_format_child(c, &seen[0], &m->format, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "source")) {
            gboolean file = m->type == DISK_TYPE_FILE;
            uint64_t index = 0;
            if (!domain_def_xml_once(&seen[1], c, error) ||
                !domain_def_check_leaf(c, file ? file_attrs : block_attrs, error) ||
                !(m->path = domain_def_xml_prop_required(c, file ? "file" : "dev", error)) ||
                !domain_def_xml_uint(c, "index", 1, G_MAXINT, &index, error))
                return FALSE;
            m->index = (unsigned)index;
        } else if (domain_def_xml_is(c, "backingStore")) {
            /* an empty one: the copy stands alone (a full copy) */
            if (!domain_def_xml_once(&seen[2], c, error) ||
                !domain_def_check_leaf(c, none_attrs, error) ||
                !domain_def_xml_check_empty(c, error))
                return FALSE;
            m->shallow = FALSE;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    if (!m->path && m->job != DISK_MIRROR_JOB_PULL) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "a <mirror> needs a <source>");
        return FALSE;
    }
    disk->mirror = g_steal_pointer(&m);
    return TRUE;
}

const char *const disk_driver_switch_names[DISK_DRIVER_SWITCHES] = {
    "ioeventfd", "event_idx", "iommu", "ats", "packed", "page_per_vq"};
const char *const disk_driver_switch_props[DISK_DRIVER_SWITCHES] = {
    "ioeventfd", "event_idx", "iommu_platform", "ats", "packed", "page-per-vq"};

/* <driver name type cache error_policy rerror_policy io ioeventfd event_idx discard iothread
 * detect_zeroes queues queue_size iommu ats packed page_per_vq/>, checked as libvirt checks
 * them at define. */
static gboolean
parse_disk_driver(struct disk_def *disk, xmlNodePtr c, GError **error)
{
    static const char *const attrs[] = {
        "name",      "type",     "cache",         "error_policy", "rerror_policy", "io",
        "discard",   "iothread", "detect_zeroes", "queues",       "queue_size",    "ioeventfd",
        "event_idx", "iommu",    "ats",           "packed",       "page_per_vq",   NULL};
    for (gsize i = 0; i < DISK_DRIVER_SWITCHES; i++)
        if (!domain_def_xml_on_off(c, disk_driver_switch_names[i], &disk->switches[i], error))
            return FALSE;
    int format = -1;
    uint64_t iothread = 0, queues = 0, queue_size = 0;
    if (!domain_def_check_leaf(c, attrs, error) ||
        !domain_def_xml_choice(c, "name", driver_names, &disk->driver_name, error) ||
        !domain_def_xml_enum(c, "type", disk_format_names, &format, error) ||
        !domain_def_xml_choice(c, "cache", cache_names, &disk->cache, error) ||
        !domain_def_xml_choice(c, "error_policy", error_policy_names, &disk->error_policy, error) ||
        !domain_def_xml_choice(c, "rerror_policy", error_policy_names, &disk->rerror_policy,
                               error) ||
        !domain_def_xml_choice(c, "io", io_names, &disk->io, error) ||
        !domain_def_xml_choice(c, "discard", discard_names, &disk->discard, error) ||
        !domain_def_xml_uint(c, "iothread", 1, G_MAXUINT32, &iothread, error) ||
        !domain_def_xml_choice(c, "detect_zeroes", detect_zeroes_names, &disk->detect_zeroes,
                               error) ||
        !domain_def_xml_uint(c, "queues", 0, DISK_QUEUES_MAX, &queues, error) ||
        !domain_def_xml_uint(c, "queue_size", 0, DISK_QUEUE_SIZE_MAX, &queue_size, error))
        return FALSE;
    disk->format = (enum disk_format)(format + 1);
    disk->iothread = (unsigned)iothread;
    disk->queues = (unsigned)queues;
    disk->queue_size = (unsigned)queue_size;
    /* cache='default' is QEMU's own, as no cache at all (libvirt does not write it back) */
    if (g_strcmp0(disk->cache, "default") == 0)
        g_clear_pointer(&disk->cache, g_free);
    if (g_strcmp0(disk->rerror_policy, "enospace") == 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "Invalid disk read error policy: 'enospace'; a read error policy is 'stop', "
                "'report' or 'ignore'");
        return FALSE;
    }
    if (g_strcmp0(disk->io, "native") == 0 && g_strcmp0(disk->cache, "none") != 0 &&
        g_strcmp0(disk->cache, "directsync") != 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "io='native' needs either no disk cache or directsync cache mode: add "
                "cache='none' or cache='directsync' to the disk's <driver>, or use io='threads' "
                "or io='io_uring'");
        return FALSE;
    }
    if (disk->queue_size && (disk->queue_size < 4 || (disk->queue_size & (disk->queue_size - 1)))) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "disk driver queue_size %u is not a power of two from 4 to %u", disk->queue_size,
                DISK_QUEUE_SIZE_MAX);
        return FALSE;
    }
    return TRUE;
}

gboolean
domain_def_parse_disk(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "device", NULL};
    g_autoptr(disk_def) disk = g_new0(struct disk_def, 1);
    int type = DISK_TYPE_FILE, device = DISK_DEVICE_DISK;
    xmlNodePtr seen[6] = {NULL};
    xmlNodePtr iotune = NULL;

    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_enum(node, "type", disk_type_names, &type, error) ||
        !domain_def_xml_enum(node, "device", domain_def_enum_values(DOMAIN_DEF_ENUM_DISK_DEVICE),
                             &device, error))
        return FALSE;
    disk->type = (enum disk_type)type;
    disk->device = (enum disk_device)device;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &disk->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (domain_def_xml_is(c, "driver")) {
            if (!domain_def_xml_once(&seen[0], c, error) || !parse_disk_driver(disk, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "source")) {
            if (!domain_def_xml_once(&seen[1], c, error) || !parse_disk_source(disk, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "backingStore")) {
            if (disk->backing) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "element 'backingStore' appears more than once in 'disk'");
                return FALSE;
            }
            if (!parse_backing_store(disk, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "mirror")) {
            if (!parse_disk_mirror(disk, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "target")) {
            if (!domain_def_xml_once(&seen[2], c, error) || !parse_disk_target(disk, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "readonly")) {
            if (!domain_def_xml_once(&seen[3], c, error) ||
                !domain_def_check_leaf(c, none_attrs, error))
                return FALSE;
            disk->readonly = TRUE;
        } else if (domain_def_xml_is(c, "shareable")) {
            if (!domain_def_xml_once(&seen[4], c, error) ||
                !domain_def_check_leaf(c, none_attrs, error))
                return FALSE;
            disk->shareable = TRUE;
        } else if (domain_def_xml_is(c, "serial")) {
            if (!domain_def_xml_once(&seen[5], c, error) ||
                !domain_def_xml_check_attrs(c, none_attrs, error) ||
                !(disk->serial = domain_def_xml_text(c, error)))
                return FALSE;
        } else if (domain_def_xml_is(c, "boot")) {
            if (!domain_def_parse_boot_order(c, &disk->boot_order, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "iotune")) {
            if (!domain_def_xml_once(&iotune, c, error) || !parse_iotune(&disk->iotune, c, error))
                return FALSE;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    if (!disk->target_dev) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing element 'target' in 'disk'");
        return FALSE;
    }
    if (!disk->source && !disk->source_volume && disk->device == DISK_DEVICE_DISK) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "disk '%s' has no source; only a cdrom may be empty", disk->target_dev);
        return FALSE;
    }
    if (disk->device == DISK_DEVICE_CDROM &&
        (disk->bus == DISK_BUS_VIRTIO || disk->bus == DISK_BUS_USB)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "cdrom '%s' cannot be on bus '%s'; use 'sata', 'ide' or 'scsi'", disk->target_dev,
                domain_def_enum_values(DOMAIN_DEF_ENUM_DISK_BUS)[disk->bus]);
        return FALSE;
    }
    if ((disk->queues || disk->queue_size) && disk->bus != DISK_BUS_VIRTIO) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "disk '%s': the %s attribute in disk driver element is only supported for "
                "virtio bus",
                disk->target_dev, disk->queues ? "queues" : "queue_size");
        return FALSE;
    }
    for (gsize i = 0; i < DISK_DRIVER_SWITCHES; i++) {
        if (disk->switches[i] != DOMAIN_TRISTATE_ABSENT && disk->bus != DISK_BUS_VIRTIO) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': the %s attribute in disk driver element is only supported for "
                    "virtio bus",
                    disk->target_dev, disk_driver_switch_names[i]);
            return FALSE;
        }
    }
    g_ptr_array_add(def->disks, g_steal_pointer(&disk));
    return TRUE;
}
