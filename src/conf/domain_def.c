/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def: libvirt domain XML -> validated struct domain_def; prefix domain_def_.
 * This file holds the XML helpers, the top-level elements and the checks that span the whole
 * definition; devices are in domain_def_devices.c (disks in domain_def_disk.c), <features>,
 * <cpu>, <clock>, <pm> and <perf> in domain_def_machine.c, the tuning elements in
 * domain_def_tune.c, the formatter in domain_def_format.c.
 *
 * Nothing is silently dropped: an element or attribute we do not understand is an error that
 * names it. The exceptions are elements that are pure runtime state in libvirt, which libvirt
 * itself ignores when a definition is defined (id=, <alias>, <resource><partition>, a dynamic
 * <seclabel>, <backingStore>, <source index=>, console tty=, <audio type='none'>, channel
 * target state=, interface target dev='vnetN', network source portid= and bridge=): they are
 * accepted, so that what libvirt hands back can be defined again, and dropped. */
#include "conf/domain_def.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <string.h>

#include "conf/domain_def_priv.h"
#include "conf/xml_util.h"
#include "util/cpuset.h"
#include "util/err.h"
#include "util/names.h"

#define DOMAIN_DEF_XML_MAX_BYTES (10 * 1024 * 1024)
#define DOMAIN_DEF_MAX_BOOT 4

static const char *const virt_type_names[] = {"qemu", "kvm", NULL};
static const char *const action_names[] = {
    "destroy",          "restart",          "preserve", "rename-restart",
    "coredump-destroy", "coredump-restart", NULL,
};
/* on_poweroff and on_reboot take only the first four (libvirt's virDomainLifecycleAction). */
static const char *const lifecycle_names[] = {
    "destroy", "restart", "preserve", "rename-restart", NULL,
};
static const char *const boot_dev_names[] = {"hd", "cdrom", "network", "fd", NULL};
static const char *const disk_type_names[] = {"file", "block", "volume", NULL};
static const char *const disk_mirror_job_names[] = {"copy", "active-commit", "pull", "commit",
                                                    NULL};
static const char *const disk_device_names[] = {"disk", "cdrom", NULL};
static const char *const disk_bus_names[] = {"virtio", "ide", "scsi", "sata", "usb", NULL};
static const char *const disk_format_names[] = {"none", "raw", "qcow2", NULL};
static const char *const net_type_names[] = {"user", "bridge", "network", "ethernet", NULL};
static const char *const input_type_names[] = {"tablet", "mouse", "keyboard", NULL};
static const char *const input_bus_names[] = {"usb", "ps2", "virtio", NULL};
const char *const domain_def_chr_type_names[] = {"pty", "file", "unix", "null", "spicevmc", NULL};

static const char *const arch_names[] = {
    "x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x", "riscv64", NULL,
};
static const char *const loader_type_names[] = {"rom", "pflash", NULL};
static const char *const placement_names[] = {"static", "auto", NULL};

static const char *
enum_name(const char *const *names, size_t count, int value)
{
    if (value < 0 || (size_t)value >= count)
        return NULL;
    return names[value];
}

#define ENUM_NAME(names, value) enum_name(names, G_N_ELEMENTS(names) - 1, (int)(value))

int
domain_def_enum_lookup(const char *const *names, const char *str)
{
    for (int i = 0; str && names[i]; i++) {
        if (g_str_equal(names[i], str))
            return i;
    }
    return -1;
}

const char *
domain_action_to_string(enum domain_action action)
{
    return ENUM_NAME(action_names, action);
}

int
domain_action_from_string(const char *str)
{
    return domain_def_enum_lookup(action_names, str);
}

const char *
disk_bus_to_string(enum disk_bus bus)
{
    return ENUM_NAME(disk_bus_names, bus);
}

const char *
disk_format_to_string(enum disk_format format)
{
    if (format == DISK_FORMAT_NONE)
        return NULL;
    return ENUM_NAME(disk_format_names, format);
}

const char *
domain_virt_type_to_string(enum domain_virt_type type)
{
    return ENUM_NAME(virt_type_names, type);
}

const char *
domain_boot_dev_to_string(enum domain_boot_dev dev)
{
    return ENUM_NAME(boot_dev_names, dev);
}

const char *
disk_type_to_string(enum disk_type type)
{
    return ENUM_NAME(disk_type_names, type);
}

const char *
disk_mirror_job_to_string(enum disk_mirror_job job)
{
    return ENUM_NAME(disk_mirror_job_names, job);
}

const char *
disk_device_to_string(enum disk_device device)
{
    return ENUM_NAME(disk_device_names, device);
}

gboolean
domain_def_net_auto_target(const struct net_def *net)
{
    return net->target_dev && !net->target_unmanaged &&
           (g_str_has_prefix(net->target_dev, "vnet") ||
            g_str_has_prefix(net->target_dev, "macvtap"));
}

const char *
net_type_to_string(enum net_type type)
{
    return ENUM_NAME(net_type_names, type);
}

const char *
input_type_to_string(enum input_type type)
{
    return ENUM_NAME(input_type_names, type);
}

const char *
input_bus_to_string(enum input_bus bus)
{
    return ENUM_NAME(input_bus_names, bus);
}

const char *
chr_type_to_string(enum chr_type type)
{
    return ENUM_NAME(domain_def_chr_type_names, type);
}

/* ---- XML helpers (declared in domain_def_priv.h) ---- */

gboolean
domain_def_xml_ignorable(xmlNodePtr node)
{
    return xml_util_ignorable(node);
}

gboolean
domain_def_xml_is(xmlNodePtr node, const char *name)
{
    return xml_util_is(node, name);
}

gboolean
domain_def_xml_unsupported(xmlNodePtr parent, xmlNodePtr child, GError **error)
{
    return xml_util_unsupported(ERR_FROM_DOMAIN, parent, child, error);
}

gboolean
domain_def_xml_check_attrs(xmlNodePtr node, const char *const *allowed, GError **error)
{
    return xml_util_check_attrs(ERR_FROM_DOMAIN, node, allowed, error);
}

gboolean
domain_def_xml_check_empty(xmlNodePtr node, GError **error)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!xml_util_ignorable(c))
            return xml_util_unsupported(ERR_FROM_DOMAIN, node, c, error);
    }
    return TRUE;
}

gboolean
domain_def_xml_once(xmlNodePtr *slot, xmlNodePtr child, GError **error)
{
    return xml_util_once(ERR_FROM_DOMAIN, slot, child, error);
}

char *
domain_def_xml_prop(xmlNodePtr node, const char *name)
{
    return xml_util_prop(node, name);
}

char *
domain_def_xml_prop_required(xmlNodePtr node, const char *name, GError **error)
{
    char *value = domain_def_xml_prop(node, name);
    if (!value)
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing attribute '%s' on element '%s'",
                name, node->name);
    return value;
}

char *
domain_def_xml_text(xmlNodePtr node, GError **error)
{
    return xml_util_text(ERR_FROM_DOMAIN, node, error);
}

gboolean
domain_def_xml_enum(xmlNodePtr node, const char *name, const char *const *names, int *ret,
                    GError **error)
{
    g_autofree char *value = domain_def_xml_prop(node, name);
    if (!value)
        return TRUE;
    int i = domain_def_enum_lookup(names, value);
    if (i < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unsupported %s '%s' on element '%s'", name, value, node->name);
        return FALSE;
    }
    *ret = i;
    return TRUE;
}

gboolean
domain_def_xml_on_off(xmlNodePtr node, const char *name, enum domain_tristate *ret, GError **error)
{
    static const char *const on_off[] = {"on", "off", NULL};
    int i = -1;
    if (!domain_def_xml_enum(node, name, on_off, &i, error))
        return FALSE;
    if (i >= 0)
        *ret = i == 0 ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO;
    return TRUE;
}

gboolean
domain_def_xml_choice(xmlNodePtr node, const char *name, const char *const *names, char **ret,
                      GError **error)
{
    int i = -1;
    if (!domain_def_xml_enum(node, name, names, &i, error))
        return FALSE;
    if (i >= 0) {
        g_free(*ret);
        *ret = g_strdup(names[i]);
    }
    return TRUE;
}

gboolean
domain_def_xml_bool(xmlNodePtr node, const char *name, gboolean *ret, GError **error)
{
    static const char *const names[] = {"no", "yes", NULL};
    int i = -1;
    if (!domain_def_xml_enum(node, name, names, &i, error))
        return FALSE;
    if (i >= 0)
        *ret = i == 1;
    return TRUE;
}

static gboolean
parse_uint(const char *str, const char *what, uint64_t min, uint64_t max, uint64_t *ret,
           GError **error)
{
    g_autofree char *s = g_strstrip(g_strdup(str));
    guint64 value = 0;
    gboolean ok;
    if (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X"))
        ok = s[2] && g_ascii_string_to_unsigned(s + 2, 16, 0, G_MAXUINT64, &value, NULL);
    else
        ok = g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &value, NULL);
    if (!ok) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "invalid number '%s' for '%s'", s, what);
        return FALSE;
    }
    if (value < min || value > max) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "value '%s' for '%s' is out of range; use %" G_GUINT64_FORMAT
                " to %" G_GUINT64_FORMAT,
                s, what, (guint64)min, (guint64)max);
        return FALSE;
    }
    *ret = value;
    return TRUE;
}

gboolean
domain_def_xml_uint(xmlNodePtr node, const char *name, uint64_t min, uint64_t max, uint64_t *ret,
                    GError **error)
{
    g_autofree char *value = domain_def_xml_prop(node, name);
    if (!value)
        return TRUE;
    g_autofree char *what = g_strdup_printf("%s %s", node->name, name);
    return parse_uint(value, what, min, max, ret, error);
}

gboolean
domain_def_xml_int(xmlNodePtr node, const char *name, int64_t min, int64_t max, int64_t *ret,
                   GError **error)
{
    g_autofree char *value = domain_def_xml_prop(node, name);
    if (!value)
        return TRUE;
    g_strstrip(value);
    gint64 v = 0;
    if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &v, NULL)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "invalid number '%s' for '%s %s'", value,
                node->name, name);
        return FALSE;
    }
    if (v < min || v > max) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "value '%s' for '%s %s' is out of range; use %" G_GINT64_FORMAT
                " to %" G_GINT64_FORMAT,
                value, node->name, name, (gint64)min, (gint64)max);
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

/* The attributes each address type may carry besides type, with the largest number each
 * takes (0: not a number: multifunction is on/off, a USB port is a dotted hub path). */
static const struct {
    const char *type;
    const char *const keys[6];
    const uint64_t max[6];
} address_types[] = {
    {"pci",
     {"domain", "bus", "slot", "function", "multifunction", NULL},
     {0xffff, 0xff, PCI_ADDRESS_SLOT_MAX, PCI_ADDRESS_FUNCTION_MAX, 0}},
    {"drive",
     {"controller", "bus", "target", "unit", NULL},
     {G_MAXUINT, G_MAXUINT, G_MAXUINT, G_MAXUINT}},
    {"usb", {"bus", "port", NULL}, {G_MAXUINT, 0}},
    {"isa", {"iobase", "irq", NULL}, {0xffff, 0xff}},
    {"virtio-serial", {"controller", "bus", "port", NULL}, {G_MAXUINT, G_MAXUINT, G_MAXUINT}},
    {"ccid", {"controller", "slot", NULL}, {G_MAXUINT, G_MAXUINT}},
    {"virtio-mmio", {NULL}, {0}},
    {"ccw", {"cssid", "ssid", "devno", NULL}, {0xfe, 3, 0xffff}},
    {"spapr-vio", {"reg", NULL}, {G_MAXUINT}},
    {"unassigned", {NULL}, {0}},
    {"dimm", {"slot", "base", NULL}, {G_MAXINT, 0}},
};

/* Checks the value of attribute KEY (index K of address type T). */
static gboolean
address_value_check(xmlNodePtr node, gsize t, int k, const char *value, GError **error)
{
    const char *key = address_types[t].keys[k];
    if (address_types[t].max[k]) {
        uint64_t v;
        return domain_def_xml_uint(node, key, 0, address_types[t].max[k], &v, error);
    }
    gboolean ok;
    if (g_str_equal(key, "multifunction")) {
        ok = g_str_equal(value, "on") || g_str_equal(value, "off");
    } else if (g_str_equal(key, "base")) { /* a dimm's guest physical address, hex */
        ok = g_str_has_prefix(value, "0x") &&
             g_ascii_string_to_unsigned(value + 2, 16, 0, G_MAXUINT64, NULL, NULL);
    } else { /* a USB port: "1" or "1.2.3" */
        g_auto(GStrv) parts = g_strsplit(value, ".", 5);
        ok = g_strv_length(parts) <= 4;
        for (guint i = 0; ok && parts[i]; i++)
            ok = g_ascii_string_to_unsigned(parts[i], 10, 1, 255, NULL, NULL);
    }
    if (!ok)
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "invalid value '%s' for attribute '%s' of address type '%s'", value, key,
                address_types[t].type);
    return ok;
}

void
domain_address_free(struct domain_address *address)
{
    if (!address)
        return;
    g_free(address->type);
    g_strfreev(address->keys);
    g_strfreev(address->values);
    g_free(address);
}

gboolean
domain_def_address_parse(xmlNodePtr node, struct domain_address **ret, GError **error)
{
    if (*ret) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "element 'address' appears more than once in '%s'", node->parent->name);
        return FALSE;
    }
    if (!domain_def_xml_check_empty(node, error))
        return FALSE;
    g_autofree char *type = domain_def_xml_prop_required(node, "type", error);
    if (!type)
        return FALSE;
    gsize t;
    for (t = 0; t < G_N_ELEMENTS(address_types); t++) {
        if (g_str_equal(address_types[t].type, type))
            break;
    }
    if (t == G_N_ELEMENTS(address_types)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unsupported address type '%s' in '%s'", type, node->parent->name);
        return FALSE;
    }
    g_autoptr(GStrvBuilder) keys = g_strv_builder_new();
    g_autoptr(GStrvBuilder) values = g_strv_builder_new();
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        if (!a->ns && g_str_equal(name, "type"))
            continue;
        int k = a->ns ? -1 : domain_def_enum_lookup(address_types[t].keys, name);
        if (k < 0) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "unsupported attribute '%s' on element 'address' of type '%s'", name, type);
            return FALSE;
        }
        g_autofree char *value = domain_def_xml_prop(node, name);
        if (!address_value_check(node, t, k, value ? value : "", error))
            return FALSE;
        g_strv_builder_add(keys, name);
        g_strv_builder_add(values, value ? value : "");
    }
    struct domain_address *address = g_new0(struct domain_address, 1);
    address->type = g_steal_pointer(&type);
    address->keys = g_strv_builder_end(keys);
    address->values = g_strv_builder_end(values);
    *ret = address;
    return TRUE;
}

gboolean
domain_def_alias_parse(xmlNodePtr node, char **ret, GError **error)
{
    static const char *const attrs[] = {"name", NULL};
    if (*ret) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "element 'alias' appears more than once in '%s'", node->parent->name);
        return FALSE;
    }
    if (!domain_def_xml_check_attrs(node, attrs, error) || !domain_def_xml_check_empty(node, error))
        return FALSE;
    char *name = domain_def_xml_prop_required(node, "name", error);
    if (!name)
        return FALSE;
    *ret = name;
    return TRUE;
}

gboolean
domain_alias_is_user(const char *alias)
{
    return alias && g_str_has_prefix(alias, DOMAIN_USER_ALIAS_PREFIX);
}

void
device_info_clear(struct device_info *info)
{
    g_clear_pointer(&info->alias, g_free);
    g_clear_pointer(&info->address, domain_address_free);
}

void
device_info_copy(struct device_info *dst, const struct device_info *src)
{
    char *alias = g_strdup(src->alias);
    struct domain_address *address = domain_def_address_copy(src->address);
    dst->alias = alias;
    dst->address = address;
}

GPtrArray *
domain_def_infos(struct domain_def *def)
{
    GPtrArray *infos = g_ptr_array_new();
#define ADD_ALL(array, type)                                                                       \
    for (guint i = 0; i < (array)->len; i++)                                                       \
        g_ptr_array_add(infos, &((type *)g_ptr_array_index((array), i))->info);
    ADD_ALL(def->disks, struct disk_def)
    ADD_ALL(def->controllers, struct controller_def)
    ADD_ALL(def->nets, struct net_def)
    ADD_ALL(def->serials, struct chr_def)
    ADD_ALL(def->consoles, struct chr_def)
    ADD_ALL(def->channels, struct chr_def)
    ADD_ALL(def->inputs, struct input_def)
    ADD_ALL(def->sounds, struct sound_def)
    ADD_ALL(def->redirdevs, struct redirdev_def)
    ADD_ALL(def->videos, struct video_def)
    ADD_ALL(def->rngs, struct rng_def)
    ADD_ALL(def->memdevs, struct memdev_def)
    ADD_ALL(def->hostdevs, struct hostdev_def)
#undef ADD_ALL
    if (def->memballoon)
        g_ptr_array_add(infos, &def->memballoon->info);
    if (def->panic_model)
        g_ptr_array_add(infos, &def->panic_info);
    return infos;
}

/* A user's alias is "ua-" and letters, digits, '_' or '-' (what QEMU takes as an id), and
 * names one device only (the console paired with the first serial port shares that port's,
 * as in libvirt). Without PARSE_STATUS the other aliases are runtime data of a previous
 * start: dropped, as libvirt drops them (the companions of a USB2 controller share one). */
gboolean
domain_def_finish_aliases(struct domain_def *def, unsigned flags, GError **error)
{
    static const char allowed[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    g_autoptr(GPtrArray) infos = domain_def_infos(def);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    struct device_info *paired = def->consoles->len && def->serials->len
                                     ? &((struct chr_def *)def->consoles->pdata[0])->info
                                     : NULL;
    for (guint i = 0; i < infos->len; i++) {
        struct device_info *info = infos->pdata[i];
        if (!info->alias)
            continue;
        if (!domain_alias_is_user(info->alias) && !(flags & DOMAIN_DEF_PARSE_STATUS)) {
            g_clear_pointer(&info->alias, g_free);
            continue;
        }
        if (domain_alias_is_user(info->alias) &&
            (strspn(info->alias, allowed) != strlen(info->alias) ||
             strlen(info->alias) == strlen(DOMAIN_USER_ALIAS_PREFIX))) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_DETAIL,
                    "alias '%s' has a character other than letters, digits, '_' and '-' or "
                    "nothing after 'ua-'",
                    info->alias);
            return FALSE;
        }
        if (info == paired || !domain_alias_is_user(info->alias))
            continue;
        if (!g_hash_table_add(seen, info->alias)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "non unique alias detected: %s; give each device its own", info->alias);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- new / free / copy ---- */

static void
cpu_feature_free(struct cpu_feature_def *feature)
{
    if (!feature)
        return;
    g_free(feature->policy);
    g_free(feature->name);
    g_free(feature);
}

void
domain_def_blkio_device_free(struct blkio_device_def *dev)
{
    if (!dev)
        return;
    g_free(dev->path);
    g_free(dev);
}

static gpointer
blkio_device_copy(gconstpointer src, gpointer unused)
{
    const struct blkio_device_def *s = src;
    struct blkio_device_def *dev = g_new0(struct blkio_device_def, 1);
    *dev = *s;
    dev->path = g_strdup(s->path);
    return dev;
}

static void
init_arrays(struct domain_def *def)
{
    def->cpu_features = g_ptr_array_new_with_free_func((GDestroyNotify)cpu_feature_free);
    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_disk_free);
    def->nets = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_net_free);
    def->inputs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_input_free);
    def->graphics = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_graphics_free);
    def->serials = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_chr_free);
    def->consoles = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_chr_free);
    def->channels = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_chr_free);
    def->videos = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_video_free);
    def->sounds = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_sound_free);
    def->redirdevs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_redirdev_free);
    def->controllers = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_controller_free);
    def->rngs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_rng_free);
    def->vcpupins = g_ptr_array_new_with_free_func(g_free);
    def->numa_cells = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_numa_cell_free);
    def->numa_memnodes = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_memnode_free);
    def->memdevs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_memdev_free);
    def->hostdevs = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_hostdev_free);
    def->iothreads = g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_iothread_free);
    def->blkio_devices =
        g_ptr_array_new_with_free_func((GDestroyNotify)domain_def_blkio_device_free);
}

struct domain_def *
domain_def_new(void)
{
    struct domain_def *def = g_new0(struct domain_def, 1);
    def->vcpus = 1;
    def->vcpus_current = 1;
    def->numa_mode = NUMATUNE_NONE;
    def->on_poweroff = DOMAIN_ACTION_DESTROY;
    def->on_reboot = DOMAIN_ACTION_RESTART;
    def->on_crash = DOMAIN_ACTION_DESTROY;
    def->bootmenu_timeout = -1;
    init_arrays(def);
    return def;
}

void
domain_def_free(struct domain_def *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata);
    g_free(def->vcpu_placement);
    g_free(def->vcpu_cpuset);
    g_free(def->numa_nodeset);
    if (def->vcpupins)
        g_ptr_array_unref(def->vcpupins);
    if (def->vcpu_states)
        g_array_unref(def->vcpu_states);
    g_free(def->emulatorpin);
    if (def->numa_cells)
        g_ptr_array_unref(def->numa_cells);
    if (def->numa_memnodes)
        g_ptr_array_unref(def->numa_memnodes);
    if (def->memdevs)
        g_ptr_array_unref(def->memdevs);
    if (def->hostdevs)
        g_ptr_array_unref(def->hostdevs);
    if (def->iothreads)
        g_ptr_array_unref(def->iothreads);
    if (def->blkio_devices)
        g_ptr_array_unref(def->blkio_devices);
    g_free(def->nvram);
    g_free(def->nvram_template);
    g_free(def->os_type);
    g_free(def->os_arch);
    g_free(def->os_machine);
    g_free(def->kernel);
    g_free(def->initrd);
    g_free(def->cmdline);
    g_free(def->loader);
    g_free(def->loader_type);
    g_free(def->cpu_mode);
    g_free(def->cpu_model);
    g_free(def->cpu_match);
    g_free(def->cpu_check);
    g_free(def->cpu_migratable);
    g_free(def->cpu_model_fallback);
    g_clear_pointer(&def->cpu_features, g_ptr_array_unref);
    g_free(def->clock_offset);
    for (unsigned i = 0; def->timers && i < def->ntimers; i++) {
        g_free(def->timers[i].name);
        g_free(def->timers[i].tickpolicy);
    }
    g_free(def->timers);
    g_free(def->emulator);
    g_clear_pointer(&def->disks, g_ptr_array_unref);
    g_clear_pointer(&def->nets, g_ptr_array_unref);
    g_clear_pointer(&def->inputs, g_ptr_array_unref);
    g_clear_pointer(&def->graphics, g_ptr_array_unref);
    g_clear_pointer(&def->serials, g_ptr_array_unref);
    g_clear_pointer(&def->consoles, g_ptr_array_unref);
    g_clear_pointer(&def->channels, g_ptr_array_unref);
    g_clear_pointer(&def->videos, g_ptr_array_unref);
    g_clear_pointer(&def->sounds, g_ptr_array_unref);
    g_clear_pointer(&def->redirdevs, g_ptr_array_unref);
    g_clear_pointer(&def->controllers, g_ptr_array_unref);
    domain_def_memballoon_free(def->memballoon);
    g_clear_pointer(&def->rngs, g_ptr_array_unref);
    g_free(def->panic_model);
    device_info_clear(&def->panic_info);
    g_free(def);
}

struct domain_address *
domain_def_address_copy(const struct domain_address *src)
{
    if (!src)
        return NULL;
    struct domain_address *address = g_new0(struct domain_address, 1);
    address->type = g_strdup(src->type);
    address->keys = g_strdupv(src->keys);
    address->values = g_strdupv(src->values);
    return address;
}

static gpointer
cpu_feature_copy(gconstpointer src, gpointer data)
{
    const struct cpu_feature_def *s = src;
    struct cpu_feature_def *feature = g_new0(struct cpu_feature_def, 1);
    feature->policy = g_strdup(s->policy);
    feature->name = g_strdup(s->name);
    return feature;
}

/* A copy of SRC with COPY applied to each element; the free function is DST's own. */
static void
copy_array(GPtrArray *dst, const GPtrArray *src, GCopyFunc copy)
{
    for (guint i = 0; src && i < src->len; i++)
        g_ptr_array_add(dst, copy(g_ptr_array_index(src, i), NULL));
}

struct domain_def *
domain_def_copy(const struct domain_def *src)
{
    /* Scalars first, then replace every owned pointer with a copy of its own. */
    struct domain_def *def = g_new0(struct domain_def, 1);
    *def = *src;
    init_arrays(def);
    def->name = g_strdup(src->name);
    def->title = g_strdup(src->title);
    def->description = g_strdup(src->description);
    def->metadata = g_strdup(src->metadata);
    def->vcpu_placement = g_strdup(src->vcpu_placement);
    def->vcpu_cpuset = g_strdup(src->vcpu_cpuset);
    def->numa_nodeset = g_strdup(src->numa_nodeset);
    for (guint i = 0; i < src->vcpupins->len; i++)
        g_ptr_array_add(def->vcpupins, g_strdup(src->vcpupins->pdata[i]));
    if (src->vcpu_states) {
        def->vcpu_states = g_array_sized_new(FALSE, FALSE, sizeof(struct domain_vcpu), src->vcpus);
        g_array_append_vals(def->vcpu_states, src->vcpu_states->data, src->vcpu_states->len);
    }
    def->emulatorpin = g_strdup(src->emulatorpin);
    def->nvram = g_strdup(src->nvram);
    def->nvram_template = g_strdup(src->nvram_template);
    def->bootmenu_timeout = src->bootmenu_timeout;
    def->os_type = g_strdup(src->os_type);
    def->os_arch = g_strdup(src->os_arch);
    def->os_machine = g_strdup(src->os_machine);
    def->kernel = g_strdup(src->kernel);
    def->initrd = g_strdup(src->initrd);
    def->cmdline = g_strdup(src->cmdline);
    def->loader = g_strdup(src->loader);
    def->loader_type = g_strdup(src->loader_type);
    def->cpu_mode = g_strdup(src->cpu_mode);
    def->cpu_model = g_strdup(src->cpu_model);
    def->cpu_match = g_strdup(src->cpu_match);
    def->cpu_check = g_strdup(src->cpu_check);
    def->cpu_migratable = g_strdup(src->cpu_migratable);
    def->cpu_model_fallback = g_strdup(src->cpu_model_fallback);
    copy_array(def->cpu_features, src->cpu_features, cpu_feature_copy);
    def->clock_offset = g_strdup(src->clock_offset);
    def->timers = src->ntimers ? g_new0(struct timer_def, src->ntimers) : NULL;
    for (unsigned i = 0; i < src->ntimers; i++) {
        def->timers[i].name = g_strdup(src->timers[i].name);
        def->timers[i].tickpolicy = g_strdup(src->timers[i].tickpolicy);
        def->timers[i].present = src->timers[i].present;
    }
    def->emulator = g_strdup(src->emulator);
    copy_array(def->disks, src->disks, domain_def_disk_copy);
    copy_array(def->nets, src->nets, domain_def_net_copy);
    copy_array(def->inputs, src->inputs, domain_def_input_copy);
    copy_array(def->graphics, src->graphics, domain_def_graphics_copy);
    copy_array(def->serials, src->serials, domain_def_chr_copy);
    copy_array(def->consoles, src->consoles, domain_def_chr_copy);
    copy_array(def->channels, src->channels, domain_def_chr_copy);
    copy_array(def->videos, src->videos, domain_def_video_copy);
    copy_array(def->sounds, src->sounds, domain_def_sound_copy);
    copy_array(def->redirdevs, src->redirdevs, domain_def_redirdev_copy);
    copy_array(def->controllers, src->controllers, domain_def_controller_copy);
    def->memballoon = src->memballoon ? domain_def_memballoon_copy(src->memballoon, NULL) : NULL;
    copy_array(def->rngs, src->rngs, domain_def_rng_copy);
    def->panic_model = g_strdup(src->panic_model);
    device_info_copy(&def->panic_info, &src->panic_info);
    copy_array(def->numa_cells, src->numa_cells, domain_def_numa_cell_copy);
    copy_array(def->numa_memnodes, src->numa_memnodes, domain_def_memnode_copy);
    copy_array(def->memdevs, src->memdevs, domain_def_memdev_copy);
    copy_array(def->hostdevs, src->hostdevs, domain_def_hostdev_copy);
    copy_array(def->iothreads, src->iothreads, domain_def_iothread_copy);
    copy_array(def->blkio_devices, src->blkio_devices, blkio_device_copy);
    return def;
}

/* ---- top-level elements ---- */

/* Reads <memory>, <currentMemory> or <maxMemory> into KiB (rounded up, like libvirt). */
gboolean
domain_def_parse_memory(xmlNodePtr node, const char *const *attrs, uint64_t *ret_kib,
                        GError **error)
{
    if (!domain_def_xml_check_attrs(node, attrs, error))
        return FALSE;
    g_autofree char *unit = domain_def_xml_prop(node, "unit");
    g_autofree char *text = domain_def_xml_text(node, error);
    if (!text)
        return FALSE;
    uint64_t scale = 0;
    if (!xml_util_unit_scale(unit, 1024, &scale)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unsupported unit '%s' on element '%s'", unit, node->name);
        return FALSE;
    }
    uint64_t value = 0;
    if (!parse_uint(text, (const char *)node->name, 0, G_MAXUINT64, &value, error))
        return FALSE;
    if (value > G_MAXUINT64 / scale) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "%s size %s %s is too large; the limit is %llu KiB", node->name, g_strstrip(text),
                unit ? unit : "KiB", DOMAIN_DEF_MEMORY_MAX_KIB);
        return FALSE;
    }
    uint64_t bytes = value * scale;
    *ret_kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    return TRUE;
}

static gboolean
parse_vcpu(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"placement", "current", "cpuset", NULL};
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_choice(node, "placement", placement_names, &def->vcpu_placement, error))
        return FALSE;
    g_autofree char *cpuset = domain_def_xml_prop(node, "cpuset");
    if (cpuset) {
        struct cpuset set;
        if (!cpuset_parse(cpuset, &set, error))
            return FALSE;
        g_free(def->vcpu_cpuset);
        def->vcpu_cpuset = cpuset_format(&set);
    }
    g_autofree char *text = domain_def_xml_text(node, error);
    uint64_t vcpus = 0;
    if (!text || !parse_uint(text, "vcpu", 1, DOMAIN_DEF_VCPUS_MAX, &vcpus, error))
        return FALSE;
    uint64_t current = vcpus;
    if (!domain_def_xml_uint(node, "current", 1, DOMAIN_DEF_VCPUS_MAX, &current, error))
        return FALSE;
    if (current > vcpus) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "current vcpu count %" G_GUINT64_FORMAT
                " exceeds the maximum of %" G_GUINT64_FORMAT,
                (guint64)current, (guint64)vcpus);
        return FALSE;
    }
    def->vcpus = (unsigned)vcpus;
    def->vcpus_current = (unsigned)current;
    return TRUE;
}

/* Returns the stripped text of NODE as a new string; NULL (with *error set) on failure. */
static char *
stripped_text(xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return NULL;
    char *text = domain_def_xml_text(node, error);
    return text ? g_strstrip(text) : NULL;
}

/* Like stripped_text, storing NULL for empty text in *RET. */
static gboolean
optional_text(xmlNodePtr node, char **ret, GError **error)
{
    g_autofree char *text = stripped_text(node, error);
    if (!text)
        return FALSE;
    g_free(*ret);
    *ret = *text ? g_steal_pointer(&text) : NULL;
    return TRUE;
}

static gboolean
parse_os(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const type_attrs[] = {"arch", "machine", NULL};
    static const char *const loader_attrs[] = {"readonly", "type", NULL};
    static const char *const boot_attrs[] = {"dev", NULL};
    static const char *const bootmenu_attrs[] = {"enable", "timeout", NULL};
    static const char *const nvram_attrs[] = {"template", NULL};
    xmlNodePtr seen[7] = {NULL};

    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "type")) {
            if (!domain_def_xml_once(&seen[0], c, error) ||
                !domain_def_xml_check_attrs(c, type_attrs, error) ||
                !domain_def_xml_choice(c, "arch", arch_names, &def->os_arch, error))
                return FALSE;
            g_free(def->os_machine);
            def->os_machine = domain_def_xml_prop(c, "machine");
            g_autofree char *text = domain_def_xml_text(c, error);
            if (!text)
                return FALSE;
            if (!g_str_equal(g_strstrip(text), "hvm")) {
                err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                        "unsupported os type '%s'; use 'hvm'", text);
                return FALSE;
            }
            def->os_type = g_strdup("hvm");
        } else if (domain_def_xml_is(c, "loader")) {
            if (!domain_def_xml_once(&seen[1], c, error) ||
                !domain_def_xml_check_attrs(c, loader_attrs, error) ||
                !domain_def_xml_bool(c, "readonly", &def->loader_readonly, error) ||
                !domain_def_xml_choice(c, "type", loader_type_names, &def->loader_type, error))
                return FALSE;
            g_autofree char *text = domain_def_xml_text(c, error);
            if (!text)
                return FALSE;
            def->loader = g_strdup(g_strstrip(text));
        } else if (domain_def_xml_is(c, "kernel")) {
            if (!domain_def_xml_once(&seen[2], c, error) || !optional_text(c, &def->kernel, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "initrd")) {
            if (!domain_def_xml_once(&seen[3], c, error) || !optional_text(c, &def->initrd, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "cmdline")) {
            if (!domain_def_xml_once(&seen[4], c, error))
                return FALSE;
            g_free(def->cmdline);
            def->cmdline = domain_def_xml_text(c, error);
            if (!def->cmdline || !domain_def_xml_check_attrs(c, none, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "boot")) {
            int dev = -1;
            if (!domain_def_xml_check_attrs(c, boot_attrs, error) ||
                !domain_def_xml_check_empty(c, error) ||
                !domain_def_xml_enum(c, "dev", boot_dev_names, &dev, error))
                return FALSE;
            if (dev < 0) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "missing attribute 'dev' on element 'boot'");
                return FALSE;
            }
            if (def->nboot == DOMAIN_DEF_MAX_BOOT) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "too many boot devices; the limit is %d", DOMAIN_DEF_MAX_BOOT);
                return FALSE;
            }
            def->boot[def->nboot++] = (enum domain_boot_dev)dev;
        } else if (domain_def_xml_is(c, "bootmenu")) {
            int64_t timeout = -1;
            if (!domain_def_xml_once(&seen[5], c, error) ||
                !domain_def_xml_check_attrs(c, bootmenu_attrs, error) ||
                !domain_def_xml_check_empty(c, error) ||
                !domain_def_xml_bool(c, "enable", &def->bootmenu, error) ||
                !domain_def_xml_int(c, "timeout", 0, 65535, &timeout, error))
                return FALSE;
            def->bootmenu_timeout = (int)timeout;
        } else if (domain_def_xml_is(c, "nvram")) {
            if (!domain_def_xml_once(&seen[6], c, error) ||
                !domain_def_xml_check_attrs(c, nvram_attrs, error))
                return FALSE;
            g_free(def->nvram_template);
            def->nvram_template = domain_def_xml_prop(c, "template");
            g_autofree char *text = domain_def_xml_text(c, error);
            if (!text)
                return FALSE;
            g_free(def->nvram);
            def->nvram = *g_strstrip(text) ? g_strdup(text) : NULL;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    return TRUE;
}

static gboolean
parse_action(xmlNodePtr node, const char *const *names, enum domain_action *ret, GError **error)
{
    g_autofree char *text = stripped_text(node, error);
    if (!text)
        return FALSE;
    int i = domain_def_enum_lookup(names, text);
    if (i < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "unsupported action '%s' in '%s'",
                text, node->name);
        return FALSE;
    }
    *ret = (enum domain_action)i;
    return TRUE;
}

static gboolean
parse_metadata(struct domain_def *def, xmlNodePtr node, GError **error)
{
    def->metadata = xml_util_metadata_parse(ERR_FROM_DOMAIN, node, error);
    return def->metadata != NULL;
}

/* <resource><partition> is where libvirt put the running domain's cgroup: runtime state,
 * accepted and dropped. */
static gboolean
check_resource(xmlNodePtr node, GError **error)
{
    static const char *const none[] = {NULL};
    if (!domain_def_xml_check_attrs(node, none, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "partition"))
            return domain_def_xml_unsupported(node, c, error);
        g_autofree char *text = stripped_text(c, error);
        if (!text)
            return FALSE;
    }
    return TRUE;
}

/* A dynamic <seclabel> holds labels libvirt generated at start: runtime state, accepted and
 * dropped. Static labels and type 'none' are configuration we do not support. */
static gboolean
check_seclabel(xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "model", "relabel", NULL};
    if (!domain_def_xml_check_attrs(node, attrs, error))
        return FALSE;
    g_autofree char *type = domain_def_xml_prop(node, "type");
    if (!type || !g_str_equal(type, "dynamic")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED, "unsupported seclabel type '%s'",
                type ? type : "(none)");
        return FALSE;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "label") && !domain_def_xml_is(c, "imagelabel"))
            return domain_def_xml_unsupported(node, c, error);
        g_autofree char *text = stripped_text(c, error);
        if (!text)
            return FALSE;
    }
    return TRUE;
}

enum {
    TOP_NAME,
    TOP_UUID,
    TOP_TITLE,
    TOP_DESCRIPTION,
    TOP_METADATA,
    TOP_MAX_MEMORY,
    TOP_MEMORY,
    TOP_CURRENT_MEMORY,
    TOP_VCPU,
    TOP_OS,
    TOP_FEATURES,
    TOP_CPU,
    TOP_CLOCK,
    TOP_ON_POWEROFF,
    TOP_ON_REBOOT,
    TOP_ON_CRASH,
    TOP_PM,
    TOP_DEVICES,
    TOP_RESOURCE,
    TOP_CPUTUNE,
    TOP_MEMTUNE,
    TOP_BLKIOTUNE,
    TOP_PERF,
    TOP_IOTHREADS,
    TOP_IOTHREADIDS,
    TOP_NUMATUNE,
    TOP_VCPUS,
    TOP_COUNT,
};

static const char *const top_names[] = {
    "name",          "uuid",     "title",     "description", "metadata", "maxMemory", "memory",
    "currentMemory", "vcpu",     "os",        "features",    "cpu",      "clock",     "on_poweroff",
    "on_reboot",     "on_crash", "pm",        "devices",     "resource", "cputune",   "memtune",
    "blkiotune",     "perf",     "iothreads", "iothreadids", "numatune", "vcpus",     NULL,
};

static gboolean
parse_identity(struct domain_def *def, xmlNodePtr *top, GError **error)
{
    if (!top[TOP_NAME]) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing element 'name' in 'domain'");
        return FALSE;
    }
    def->name = stripped_text(top[TOP_NAME], error);
    if (!def->name || !names_validate(def->name, NAMES_DOMAIN, "domain", ERR_FROM_DOMAIN, error))
        return FALSE;
    if (top[TOP_UUID]) {
        g_autofree char *text = stripped_text(top[TOP_UUID], error);
        if (!text)
            return FALSE;
        if (!uuid_parse(text, def->uuid)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "malformed uuid '%s'", text);
            return FALSE;
        }
    } else {
        uuid_generate(def->uuid);
    }
    if (top[TOP_TITLE]) {
        static const char *const none[] = {NULL};
        def->title = domain_def_xml_text(top[TOP_TITLE], error);
        if (!def->title || !domain_def_xml_check_attrs(top[TOP_TITLE], none, error))
            return FALSE;
        if (strchr(def->title, '\n')) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "title must not contain newlines");
            return FALSE;
        }
    }
    if (top[TOP_DESCRIPTION]) {
        static const char *const none[] = {NULL};
        def->description = domain_def_xml_text(top[TOP_DESCRIPTION], error);
        if (!def->description || !domain_def_xml_check_attrs(top[TOP_DESCRIPTION], none, error))
            return FALSE;
    }
    return !top[TOP_METADATA] || parse_metadata(def, top[TOP_METADATA], error);
}

gboolean
domain_def_check_memory_range(const char *what, uint64_t kib, GError **error)
{
    if (kib < DOMAIN_DEF_MEMORY_MIN_KIB) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "%s size %" G_GUINT64_FORMAT " KiB is below the minimum of %llu KiB", what,
                (guint64)kib, DOMAIN_DEF_MEMORY_MIN_KIB);
        return FALSE;
    }
    if (kib > DOMAIN_DEF_MEMORY_MAX_KIB) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "%s size %" G_GUINT64_FORMAT " KiB exceeds the limit of %llu KiB", what,
                (guint64)kib, DOMAIN_DEF_MEMORY_MAX_KIB);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_resources(struct domain_def *def, xmlNodePtr *top, GError **error)
{
    static const char *const mem_attrs[] = {"unit", NULL};
    static const char *const max_attrs[] = {"unit", "slots", NULL};
    if (!top[TOP_MEMORY]) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing element 'memory' in 'domain'");
        return FALSE;
    }
    if (!domain_def_parse_memory(top[TOP_MEMORY], mem_attrs, &def->memory_kib, error) ||
        !domain_def_check_memory_range("memory", def->memory_kib, error))
        return FALSE;
    def->current_memory_kib = def->memory_kib;
    if (top[TOP_CURRENT_MEMORY]) {
        uint64_t kib = 0;
        if (!domain_def_parse_memory(top[TOP_CURRENT_MEMORY], mem_attrs, &kib, error))
            return FALSE;
        /* libvirt reads 0 as "not set"; checked against the total once the NUMA cells and the
         * memory modules are read (domain_def_memory_finish) */
        if (kib)
            def->current_memory_kib = kib;
    }
    if (top[TOP_MAX_MEMORY]) {
        xmlNodePtr node = top[TOP_MAX_MEMORY];
        uint64_t slots = 0;
        g_autofree char *given = domain_def_xml_prop_required(node, "slots", error);
        if (!given || !domain_def_parse_memory(node, max_attrs, &def->max_memory_kib, error) ||
            !domain_def_check_memory_range("maxMemory", def->max_memory_kib, error) ||
            !domain_def_xml_uint(node, "slots", 1, 255, &slots, error))
            return FALSE;
        /* against the total once the modules are read (domain_def_memory_finish) */
        def->max_memory_slots = (unsigned)slots;
    }
    if (top[TOP_VCPU] && !parse_vcpu(def, top[TOP_VCPU], error))
        return FALSE;
    if (top[TOP_VCPUS] && !domain_def_vcpus_parse(def, top[TOP_VCPUS], error))
        return FALSE;
    if (def->cpu_sockets &&
        def->cpu_sockets * def->cpu_dies * def->cpu_cores * def->cpu_threads != def->vcpus) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "cpu topology %u sockets x %u dies x %u cores x %u threads does not match the "
                "vcpu count %u",
                def->cpu_sockets, def->cpu_dies, def->cpu_cores, def->cpu_threads, def->vcpus);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_domain(struct domain_def *def, xmlNodePtr root, GError **error)
{
    static const char *const attrs[] = {"type", "id", NULL};
    xmlNodePtr top[TOP_COUNT] = {NULL};

    if (!domain_def_xml_is(root, "domain")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "unexpected root element '%s'; expecting 'domain'", root->name);
        return FALSE;
    }
    /* id= is the number of a running domain: runtime state, dropped. */
    if (!domain_def_xml_check_attrs(root, attrs, error))
        return FALSE;
    g_autofree char *type = domain_def_xml_prop_required(root, "type", error);
    if (!type)
        return FALSE;
    int virt = domain_def_enum_lookup(virt_type_names, type);
    if (virt < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unsupported domain type '%s'; use 'qemu' or 'kvm'", type);
        return FALSE;
    }
    def->virt_type = (enum domain_virt_type)virt;

    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "seclabel")) {
            if (!check_seclabel(c, error))
                return FALSE;
            continue;
        }
        int i = c->type == XML_ELEMENT_NODE && !c->ns
                    ? domain_def_enum_lookup(top_names, (const char *)c->name)
                    : -1;
        if (i < 0)
            return domain_def_xml_unsupported(root, c, error);
        if (!domain_def_xml_once(&top[i], c, error))
            return FALSE;
    }

    if (!parse_identity(def, top, error) ||
        (top[TOP_CPU] && !domain_def_parse_cpu(def, top[TOP_CPU], error)) ||
        !parse_resources(def, top, error) || (top[TOP_OS] && !parse_os(def, top[TOP_OS], error)) ||
        (top[TOP_FEATURES] && !domain_def_parse_features(def, top[TOP_FEATURES], error)) ||
        (top[TOP_CLOCK] && !domain_def_parse_clock(def, top[TOP_CLOCK], error)) ||
        (top[TOP_ON_POWEROFF] &&
         !parse_action(top[TOP_ON_POWEROFF], lifecycle_names, &def->on_poweroff, error)) ||
        (top[TOP_ON_REBOOT] &&
         !parse_action(top[TOP_ON_REBOOT], lifecycle_names, &def->on_reboot, error)) ||
        (top[TOP_ON_CRASH] &&
         !parse_action(top[TOP_ON_CRASH], action_names, &def->on_crash, error)) ||
        (top[TOP_PM] && !domain_def_parse_pm(def, top[TOP_PM], error)) ||
        (top[TOP_PERF] && !domain_def_parse_perf(def, top[TOP_PERF], error)) ||
        (top[TOP_RESOURCE] && !check_resource(top[TOP_RESOURCE], error)) ||
        !domain_def_iothreads_parse(def, top[TOP_IOTHREADS], top[TOP_IOTHREADIDS], error) ||
        (top[TOP_CPUTUNE] && !domain_def_parse_cputune(def, top[TOP_CPUTUNE], error)) ||
        (top[TOP_MEMTUNE] && !domain_def_parse_memtune(def, top[TOP_MEMTUNE], error)) ||
        (top[TOP_NUMATUNE] && !domain_def_parse_numatune(def, top[TOP_NUMATUNE], error)) ||
        (top[TOP_BLKIOTUNE] && !domain_def_parse_blkiotune(def, top[TOP_BLKIOTUNE], error)) ||
        (top[TOP_DEVICES] && !domain_def_devices_parse(def, top[TOP_DEVICES], error)))
        return FALSE;

    if (!def->os_type)
        def->os_type = g_strdup("hvm");
    if (!def->os_arch)
        def->os_arch = g_strdup("x86_64");
    /* Like libvirt: boot from the first disk when nothing says otherwise, and refuse to mix
     * the two ways of giving a boot order. */
    if (domain_def_devices_have_boot_order(def)) {
        if (def->nboot) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "per-device boot elements cannot be used together with os/boot elements");
            return FALSE;
        }
    } else if (!def->nboot) {
        def->boot[def->nboot++] = DOMAIN_BOOT_HD;
    }
    return domain_def_memory_finish(def, top[TOP_CURRENT_MEMORY] != NULL, error) &&
           domain_def_devices_finish(def, error);
}

/* ---- the XML document ---- */

#if LIBXML_VERSION >= 21200
#define DOMAIN_DEF_XML_ERROR const xmlError
#else
#define DOMAIN_DEF_XML_ERROR xmlError
#endif

/* Collects the messages of a libxml2 component into a GString, "; "-separated. */
static void
collect_xml_error(void *data, DOMAIN_DEF_XML_ERROR *e)
{
    GString *out = data;
    if (!e || !e->message || out->len > 1024)
        return;
    g_autofree char *msg = g_strstrip(g_strdup(e->message));
    if (out->len)
        g_string_append(out, "; ");
    if (e->line > 0)
        g_string_append_printf(out, "line %d: ", e->line);
    g_string_append(out, msg);
}

/* docs/schemas/domain.rng, built in (scripts/embed.py) */
extern const char domain_rng[];
extern const gsize domain_rng_len;

/* The schema, loaded once per process. */
static xmlRelaxNGPtr
load_schema(GError **error)
{
    static gsize once;
    static xmlRelaxNGPtr schema;
    static char *load_error;
    if (g_once_init_enter(&once)) {
        g_autoptr(GString) msgs = g_string_new(NULL);
        xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewMemParserCtxt(domain_rng, (int)domain_rng_len);
        xmlRelaxNGSetParserStructuredErrors(pctxt, collect_xml_error, msgs);
        schema = xmlRelaxNGParse(pctxt);
        xmlRelaxNGFreeParserCtxt(pctxt);
        if (!schema)
            load_error = g_strdup(msgs->str);
        g_once_init_leave(&once, 1);
    }
    if (!schema)
        err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR, "cannot load the domain schema: %s",
                load_error);
    return schema;
}

static gboolean
validate_schema(xmlDocPtr doc, xmlNodePtr root, GError **error)
{
    xmlRelaxNGPtr schema = load_schema(error);
    if (!schema)
        return FALSE;
    g_autoptr(GString) msgs = g_string_new(NULL);
    xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctxt, collect_xml_error, msgs);
    int rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc != 0) {
        /* libxml2's RELAX NG messages rarely name the culprit; the parser's message does. */
        g_autoptr(domain_def) scratch = domain_def_new();
        g_autoptr(GError) hint = NULL;
        if (parse_domain(scratch, root, &hint))
            g_clear_error(&hint);
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_INVALID_SCHEMA,
                "domain XML does not match the schema: %s%s%s%s",
                msgs->len ? msgs->str : "unknown error", hint ? " (" : "",
                hint ? hint->message : "", hint ? ")" : "");
        return FALSE;
    }
    return TRUE;
}

struct domain_def *
domain_def_parse(const char *xml, unsigned flags, GError **error)
{
    g_autoptr(xmlDoc) doc = xml_util_read_document(ERR_FROM_DOMAIN, xml, DOMAIN_DEF_XML_MAX_BYTES,
                                                   "domain", NULL, error);
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if ((flags & DOMAIN_DEF_PARSE_VALIDATE) && !validate_schema(doc, root, error))
        return NULL;
    g_autoptr(domain_def) def = domain_def_new();
    if (!parse_domain(def, root, error) || !domain_def_finish_aliases(def, flags, error))
        return NULL;
    if (!(flags & DOMAIN_DEF_PARSE_STATUS))
        domain_def_drop_runtime(def);
    return g_steal_pointer(&def);
}

void
domain_def_drop_runtime(struct domain_def *def)
{
    /* a chain probed at a previous start says nothing about the next one */
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *disk = def->disks->pdata[i];
        disk->source_index = 0;
        g_clear_pointer(&disk->backing, g_ptr_array_unref);
        g_clear_pointer(&disk->mirror, disk_mirror_free);
    }
    /* the taps and bridges of a previous start, likewise */
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *net = def->nets->pdata[i];
        g_clear_pointer(&net->live_bridge, g_free);
        net->floor_class = 0;
        if (domain_def_net_auto_target(net))
            g_clear_pointer(&net->target_dev, g_free);
    }
}
