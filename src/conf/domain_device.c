/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_device: a device element on its own (hot-plug's input) and its place in a
 * definition. The element is read by the parser of <devices>, so a device attached reads
 * exactly as it would in a domain. */
#include "conf/domain_device.h"

#include <string.h>

#include "conf/domain_def_priv.h"
#include "conf/xml_util.h"
#include "util/err.h"
#include "util/netaddr.h"

#define DEVICE_XML_MAX_BYTES (1024 * 1024)

static const char *const kind_names[] = {"disk", "interface", "input", "controller", "memory"};

const char *
device_kind_to_string(enum device_kind kind)
{
    return kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "device";
}

GPtrArray *
domain_device_array(const struct domain_def *def, enum device_kind kind)
{
    switch (kind) {
    case DEVICE_DISK:
        return def->disks;
    case DEVICE_NET:
        return def->nets;
    case DEVICE_INPUT:
        return def->inputs;
    case DEVICE_CONTROLLER:
        return def->controllers;
    case DEVICE_MEMORY:
        return def->memdevs;
    }
    g_assert_not_reached();
}

struct device_def
domain_device_at(const struct domain_def *def, enum device_kind kind, guint index)
{
    struct device_def view = {.kind = kind};
    view.any = domain_device_array(def, kind)->pdata[index];
    return view;
}

struct device_info *
domain_device_info(const struct device_def *dev)
{
    switch (dev->kind) {
    case DEVICE_DISK:
        return &dev->disk->info;
    case DEVICE_NET:
        return &dev->net->info;
    case DEVICE_INPUT:
        return &dev->input->info;
    case DEVICE_CONTROLLER:
        return &dev->controller->info;
    case DEVICE_MEMORY:
        return &dev->memory->info;
    }
    g_assert_not_reached();
}

void
domain_device_free(struct device_def *dev)
{
    if (!dev)
        return;
    switch (dev->kind) {
    case DEVICE_DISK:
        domain_def_disk_free(dev->disk);
        break;
    case DEVICE_NET:
        domain_def_net_free(dev->net);
        break;
    case DEVICE_INPUT:
        domain_def_input_free(dev->input);
        break;
    case DEVICE_CONTROLLER:
        domain_def_controller_free(dev->controller);
        break;
    case DEVICE_MEMORY:
        domain_def_memdev_free(dev->memory);
        break;
    }
    g_free(dev);
}

static gpointer
copy_of(const struct device_def *dev)
{
    switch (dev->kind) {
    case DEVICE_DISK:
        return domain_def_disk_copy(dev->disk, NULL);
    case DEVICE_NET:
        return domain_def_net_copy(dev->net, NULL);
    case DEVICE_INPUT:
        return domain_def_input_copy(dev->input, NULL);
    case DEVICE_CONTROLLER:
        return domain_def_controller_copy(dev->controller, NULL);
    case DEVICE_MEMORY:
        return domain_def_memdev_copy(dev->memory, NULL);
    }
    g_assert_not_reached();
}

struct device_def *
domain_device_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc =
        xml_util_read_document(ERR_FROM_DOMAIN, xml, DEVICE_XML_MAX_BYTES, "device", NULL, error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int kind = -1;
    for (guint i = 0; i < G_N_ELEMENTS(kind_names); i++) {
        if (domain_def_xml_is(root, kind_names[i]))
            kind = (int)i;
    }
    if (kind < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "a <%s> cannot be attached, detached or updated; <disk>, <interface>, <input>, "
                "<controller> and <memory> can",
                (const char *)root->name);
        return NULL;
    }
    /* read as the only child of a <devices> */
    xmlNodePtr devices = xmlNewDocNode(doc, NULL, BAD_CAST "devices", NULL);
    xmlUnlinkNode(root);
    xmlDocSetRootElement(doc, devices);
    xmlAddChild(devices, root);
    g_autoptr(domain_def) scratch = domain_def_new();
    if (!domain_def_devices_parse(scratch, devices, error) ||
        !domain_def_finish_aliases(scratch, 0, error))
        return NULL;
    domain_def_drop_runtime(scratch);
    GPtrArray *array = domain_device_array(scratch, (enum device_kind)kind);
    g_assert(array->len == 1);
    struct device_def *dev = g_new0(struct device_def, 1);
    dev->kind = (enum device_kind)kind;
    dev->any = g_ptr_array_steal_index(array, 0);
    return dev;
}

gboolean
domain_device_is_graphics(const char *xml)
{
    g_autoptr(xmlDoc) doc =
        xml_util_read_document(ERR_FROM_DOMAIN, xml, DEVICE_XML_MAX_BYTES, "device", NULL, NULL);
    return doc && domain_def_xml_is(xmlDocGetRootElement(doc), "graphics");
}

struct graphics_def *
domain_device_parse_graphics(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc =
        xml_util_read_document(ERR_FROM_DOMAIN, xml, DEVICE_XML_MAX_BYTES, "device", NULL, error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!domain_def_xml_is(root, "graphics")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "expected a <graphics> element, not <%s>",
                (const char *)root->name);
        return NULL;
    }
    xmlNodePtr devices = xmlNewDocNode(doc, NULL, BAD_CAST "devices", NULL);
    xmlUnlinkNode(root);
    xmlDocSetRootElement(doc, devices);
    xmlAddChild(devices, root);
    g_autoptr(domain_def) scratch = domain_def_new();
    if (!domain_def_devices_parse(scratch, devices, error))
        return NULL;
    g_assert(scratch->graphics->len == 1);
    return g_ptr_array_steal_index(scratch->graphics, 0);
}

/* A user's alias in the request must be the device's too. */
static gboolean
alias_matches(const struct device_info *want, const struct device_info *have)
{
    return !want->alias || g_strcmp0(want->alias, have->alias) == 0;
}

static gboolean
matches(const struct device_def *want, const struct device_def *have)
{
    if (!alias_matches(domain_device_info(want), domain_device_info(have)))
        return FALSE;
    switch (want->kind) {
    case DEVICE_DISK:
        return g_str_equal(want->disk->target_dev, have->disk->target_dev);
    case DEVICE_NET:
        return !want->net->mac_given || memcmp(want->net->mac, have->net->mac, 6) == 0;
    case DEVICE_INPUT:
        return want->input->type == have->input->type && want->input->bus == have->input->bus;
    case DEVICE_CONTROLLER:
        return g_str_equal(want->controller->type, have->controller->type) &&
               (want->controller->index < 0 || want->controller->index == have->controller->index);
    case DEVICE_MEMORY:
        /* as libvirt: the size and the node, and the slot when the request gives one */
        return want->memory->model == have->memory->model &&
               want->memory->size_kib == have->memory->size_kib &&
               want->memory->node == have->memory->node &&
               (domain_def_memdev_slot(want->memory) < 0 ||
                domain_def_memdev_slot(want->memory) == domain_def_memdev_slot(have->memory));
    }
    g_assert_not_reached();
}

/* How the request names the device, for messages. */
static char *
describe(const struct device_def *dev)
{
    char mac[MAC_STRING_LEN];
    switch (dev->kind) {
    case DEVICE_DISK:
        return g_strdup_printf("disk '%s'", dev->disk->target_dev);
    case DEVICE_NET:
        if (!dev->net->mac_given)
            return g_strdup("interface");
        mac_format(dev->net->mac, mac);
        return g_strdup_printf("interface with MAC address '%s'", mac);
    case DEVICE_INPUT:
        return g_strdup_printf("input of type '%s' on bus '%s'",
                               input_type_to_string(dev->input->type),
                               input_bus_to_string(dev->input->bus));
    case DEVICE_CONTROLLER:
        if (dev->controller->index < 0)
            return g_strdup_printf("controller of type '%s'", dev->controller->type);
        return g_strdup_printf("controller of type '%s' with index %d", dev->controller->type,
                               dev->controller->index);
    case DEVICE_MEMORY:
        return g_strdup_printf("memory module of %" G_GUINT64_FORMAT " KiB on node %d",
                               (guint64)dev->memory->size_kib, dev->memory->node);
    }
    g_assert_not_reached();
}

gboolean
domain_device_find(const struct domain_def *def, const struct device_def *dev, guint *ret_index,
                   GError **error)
{
    GPtrArray *array = domain_device_array(def, dev->kind);
    int found = -1;
    guint count = 0;
    for (guint i = 0; i < array->len; i++) {
        struct device_def have = domain_device_at(def, dev->kind, i);
        if (matches(dev, &have)) {
            found = (int)i;
            count++;
        }
    }
    if (count == 1) {
        *ret_index = (guint)found;
        return TRUE;
    }
    g_autofree char *what = describe(dev);
    if (count == 0)
        err_set(error, ERR_FROM_DOMAIN, ERR_DEVICE_MISSING, "domain '%s' has no %s", def->name,
                what);
    else
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                "domain '%s' has %u devices matching: %s; say which (a MAC address, an alias)",
                def->name, count, what);
    return FALSE;
}

gboolean
domain_device_find_alias(const struct domain_def *def, const char *alias,
                         enum device_kind *ret_kind, guint *ret_index, GError **error)
{
    for (guint k = 0; k < G_N_ELEMENTS(kind_names); k++) {
        GPtrArray *array = domain_device_array(def, (enum device_kind)k);
        for (guint i = 0; i < array->len; i++) {
            struct device_def have = domain_device_at(def, (enum device_kind)k, i);
            if (g_strcmp0(domain_device_info(&have)->alias, alias) == 0) {
                *ret_kind = (enum device_kind)k;
                *ret_index = i;
                return TRUE;
            }
        }
    }
    err_set(error, ERR_FROM_DOMAIN, ERR_DEVICE_MISSING,
            "domain '%s' has no device with alias '%s' that can be detached", def->name, alias);
    return FALSE;
}

/* What the new device would take from another. */
static gboolean
check_taken(const struct domain_def *def, const struct device_def *dev, GError **error)
{
    GPtrArray *array = domain_device_array(def, dev->kind);
    char mac[MAC_STRING_LEN];
    for (guint i = 0; i < array->len; i++) {
        struct device_def have = domain_device_at(def, dev->kind, i);
        const char *taken = NULL;
        if (dev->kind == DEVICE_DISK && g_str_equal(dev->disk->target_dev, have.disk->target_dev)) {
            taken = "disk target";
            g_strlcpy(mac, dev->disk->target_dev, sizeof(mac));
        } else if (dev->kind == DEVICE_NET && memcmp(dev->net->mac, have.net->mac, 6) == 0) {
            taken = "MAC address";
            mac_format(dev->net->mac, mac);
        } else if (dev->kind == DEVICE_CONTROLLER && dev->controller->index >= 0 &&
                   g_str_equal(dev->controller->type, have.controller->type) &&
                   dev->controller->index == have.controller->index) {
            taken = "controller index";
            g_snprintf(mac, sizeof(mac), "%s %d", dev->controller->type, dev->controller->index);
        }
        if (taken) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "domain '%s' already has a device with %s '%s'; choose another", def->name,
                    taken, mac);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
domain_device_add(struct domain_def *def, const struct device_def *dev, guint *ret_index,
                  GError **error)
{
    if (!check_taken(def, dev, error))
        return FALSE;
    GPtrArray *array = domain_device_array(def, dev->kind);
    g_ptr_array_add(array, copy_of(dev));
    guint index = array->len - 1;
    if (dev->kind == DEVICE_MEMORY) {
        /* a module adds to the total, and to what the guest has (libvirt's accounting); a
         * virtio-mem device to the total, and to what the guest has what it plugged */
        def->memory_kib += dev->memory->size_kib;
        def->current_memory_kib += dev->memory->model == MEMDEV_VIRTIO_MEM
                                       ? dev->memory->current_kib
                                       : dev->memory->size_kib;
        if (def->max_memory_kib && def->memory_kib > def->max_memory_kib) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "Attaching memory device with size '%" G_GUINT64_FORMAT
                    "' would exceed domain's maxMemory config size '%" G_GUINT64_FORMAT "'",
                    (guint64)dev->memory->size_kib, (guint64)def->max_memory_kib);
            return FALSE;
        }
        if (!domain_def_memory_check_hotplug(def, error))
            return FALSE;
    }
    if (!domain_def_devices_finish(def, error) ||
        !domain_def_finish_aliases(def, DOMAIN_DEF_PARSE_STATUS, error))
        return FALSE;
    *ret_index = index;
    return TRUE;
}

void
domain_device_remove(struct domain_def *def, enum device_kind kind, guint index)
{
    if (kind == DEVICE_MEMORY) {
        const struct memdev_def *mem = def->memdevs->pdata[index];
        uint64_t size = mem->size_kib;
        uint64_t had = mem->model == MEMDEV_VIRTIO_MEM ? mem->current_kib : size;
        def->memory_kib -= MIN(size, def->memory_kib);
        def->current_memory_kib -= MIN(had, def->current_memory_kib);
        def->current_memory_kib = MIN(def->current_memory_kib, def->memory_kib);
    }
    g_ptr_array_remove_index(domain_device_array(def, kind), index);
}
