/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def devices: the children of <devices>, their defaults and the checks that span
 * several devices; prefix domain_def_. Runtime-only parts that libvirt itself ignores on
 * define (<alias>, <source index=> and the rest domain_def_disk.c lists, console tty=, channel
 * target state=,
 * <audio type='none'>, interface target dev='vnetN', network source portid=/bridge=) are
 * accepted and dropped; everything else we do not understand is an error naming it. */
#include <string.h>

#include "conf/domain_def_priv.h"
#include "conf/xml_util.h"
#include "util/err.h"
#include "util/netaddr.h"

static const char *const none_attrs[] = {NULL};
static const char *const disk_device_names[] = {"disk", "cdrom", NULL};
static const char *const disk_bus_names[] = {"virtio", "ide", "scsi", "sata", "usb", NULL};
static const char *const net_type_names[] = {"user", "bridge", "network", "ethernet", NULL};
static const char *const net_model_names[] = {
    "virtio",
    "virtio-transitional",
    "virtio-non-transitional",
    "e1000",
    "e1000e",
    "igb",
    "rtl8139",
    "ne2k_pci",
    "pcnet",
    "vmxnet3",
    NULL,
};
static const char *const input_type_names[] = {"tablet", "mouse", "keyboard", NULL};
static const char *const input_bus_names[] = {"usb", "ps2", "virtio", NULL};
static const char *const graphics_type_names[] = {"vnc", "spice", NULL};
static const char *const image_compression_names[] = {"auto_glz", "auto_lz", "quic", "glz",
                                                      "lz",       "off",     NULL};

const char *
domain_def_graphics_type_to_string(enum graphics_type type)
{
    return graphics_type_names[type];
}
static const char *const listen_type_names[] = {"address", NULL};
static const char *const on_off_names[] = {"on", "off", NULL};
static const char *const unix_mode_names[] = {"bind", "connect", NULL};
static const char *const serial_target_names[] = {"isa-serial", "usb-serial", "pci-serial", NULL};
static const char *const console_target_names[] = {"serial", "virtio", NULL};
static const char *const channel_target_names[] = {"virtio", NULL};
static const char *const video_model_names[] = {
    "vga", "cirrus", "vmvga", "qxl", "virtio", "bochs", "ramfb", "none", NULL,
};
static const char *const sound_model_names[] = {
    "ac97", "ich6", "ich7", "ich9", "es1370", "sb16", "usb", NULL,
};
static const char *const controller_type_names[] = {
    "usb", "pci", "ide", "scsi", "sata", "virtio-serial", NULL,
};
static const char *const usb_model_names[] = {
    "piix3-uhci", "piix4-uhci",     "ehci",     "ich9-ehci1", "ich9-uhci1", "ich9-uhci2",
    "ich9-uhci3", "vt82c686b-uhci", "pci-ohci", "nec-xhci",   "qemu-xhci",  "none",
    NULL,
};
static const char *const pci_model_names[] = {
    "pci-root",
    "pcie-root",
    "pci-bridge",
    "dmi-to-pci-bridge",
    "pcie-root-port",
    "pcie-switch-upstream-port",
    "pcie-switch-downstream-port",
    "pci-expander-bus",
    "pcie-expander-bus",
    "pcie-to-pci-bridge",
    NULL,
};
static const char *const pci_model_name_names[] = {
    "pci-bridge",
    "i82801b11-bridge",
    "ioh3420",
    "pcie-root-port",
    "x3130-upstream",
    "xio3130-downstream",
    "pxb",
    "pxb-pcie",
    "pcie-pci-bridge",
    NULL,
};
static const char *const scsi_model_names[] = {
    "auto",
    "lsilogic",
    "lsisas1068",
    "lsisas1078",
    "virtio-scsi",
    "virtio-transitional",
    "virtio-non-transitional",
    "vmpvscsi",
    "ibmvscsi",
    NULL,
};
static const char *const virtio_model_names[] = {
    "virtio",
    "virtio-transitional",
    "virtio-non-transitional",
    NULL,
};
static const char *const memballoon_model_names[] = {
    "virtio", "virtio-transitional", "virtio-non-transitional", "none", NULL,
};
static const char *const rng_backend_names[] = {"random", NULL};
static const char *const panic_model_names[] = {"isa", "pseries", "hyperv", "s390", NULL};

typedef struct disk_def disk_def;
typedef struct net_def net_def;
typedef struct chr_def chr_def;
typedef struct controller_def controller_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(net_def, domain_def_net_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(chr_def, domain_def_chr_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(controller_def, domain_def_controller_free)

gboolean
domain_def_has_balloon(const struct domain_def *def)
{
    return def->memballoon && def->memballoon->info.alias &&
           g_strcmp0(def->memballoon->model, "none") != 0;
}

struct disk_def *
domain_def_find_disk(const struct domain_def *def, const char *target)
{
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (g_strcmp0(d->target_dev, target) == 0)
            return d;
    }
    return NULL;
}

int
disk_target_index(const char *dev)
{
    int idx = 0;
    for (const char *p = dev + 2; *p; p++)
        idx = idx * 26 + (*p - 'a' + 1);
    return idx - 1;
}

/* ---- parsing ---- */

gboolean
domain_def_parse_info_child(xmlNodePtr child, struct device_info *info, gboolean *ret_handled,
                            GError **error)
{
    *ret_handled = TRUE;
    if (domain_def_xml_is(child, "alias"))
        return domain_def_alias_parse(child, &info->alias, error);
    if (domain_def_xml_is(child, "address"))
        return domain_def_address_parse(child, &info->address, error);
    *ret_handled = FALSE;
    return TRUE;
}

gboolean
domain_def_parse_boot_order(xmlNodePtr node, unsigned *ret, GError **error)
{
    static const char *const attrs[] = {"order", NULL};
    uint64_t order = 0;
    if (*ret) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "element 'boot' appears more than once in '%s'", node->parent->name);
        return FALSE;
    }
    g_autofree char *given = domain_def_xml_prop_required(node, "order", error);
    if (!given || !domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_check_empty(node, error) ||
        !domain_def_xml_uint(node, "order", 1, G_MAXINT, &order, error))
        return FALSE;
    *ret = (unsigned)order;
    return TRUE;
}

/* Stores the required attribute NAME of NODE, looked up in NAMES, in *RET. */
static gboolean
required_enum(xmlNodePtr node, const char *name, const char *const *names, int *ret, GError **error)
{
    int value = -1;
    if (!domain_def_xml_enum(node, name, names, &value, error))
        return FALSE;
    if (value < 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing attribute '%s' on element '%s'",
                name, node->name);
        return FALSE;
    }
    *ret = value;
    return TRUE;
}

gboolean
domain_def_check_leaf(xmlNodePtr node, const char *const *attrs, GError **error)
{
    return domain_def_xml_check_attrs(node, attrs, error) &&
           domain_def_xml_check_empty(node, error);
}

static gboolean
parse_mac(struct net_def *net, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"address", NULL};
    g_autofree char *text = domain_def_xml_prop_required(node, "address", error);
    if (!text || !domain_def_check_leaf(node, attrs, error))
        return FALSE;
    g_auto(GStrv) parts = g_strsplit(text, ":", -1);
    gboolean ok = g_strv_length(parts) == 6;
    for (int i = 0; ok && i < 6; i++) {
        guint64 byte = 0;
        ok = strlen(parts[i]) >= 1 && strlen(parts[i]) <= 2 &&
             g_ascii_string_to_unsigned(parts[i], 16, 0, 255, &byte, NULL);
        net->mac[i] = (uint8_t)byte;
    }
    if (!ok) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "invalid mac address '%s'", text);
        return FALSE;
    }
    if (net->mac[0] & 1) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "mac address '%s' is a multicast address; use a unicast one", text);
        return FALSE;
    }
    net->mac_given = TRUE;
    return TRUE;
}

static gboolean
parse_net_source(struct net_def *net, xmlNodePtr node, GError **error)
{
    /* For a network, portid= and bridge= describe the port made at start: runtime state (the
     * bridge is kept in a live definition, see domain_def_parse). */
    static const char *const network_attrs[] = {"network", "portgroup", "portid", "bridge", NULL};
    static const char *const bridge_attrs[] = {"bridge", NULL};
    if (net->type == NET_TYPE_USER || net->type == NET_TYPE_ETHERNET)
        return domain_def_xml_unsupported(node->parent, node, error);
    gboolean network = net->type == NET_TYPE_NETWORK;
    if (!domain_def_check_leaf(node, network ? network_attrs : bridge_attrs, error))
        return FALSE;
    net->source = domain_def_xml_prop_required(node, network ? "network" : "bridge", error);
    if (network) {
        net->live_bridge = domain_def_xml_prop(node, "bridge");
        net->portgroup = domain_def_xml_prop(node, "portgroup");
    }
    return net->source != NULL;
}

/* <target dev='…' managed='no'/>: the tap's name. Names libvirt gives taps (vnetN, macvtapN)
 * are runtime state, dropped on define by domain_def_parse; others are the user's choice. */
static gboolean
parse_net_target(struct net_def *net, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"dev", "managed", NULL};
    if (!domain_def_check_leaf(node, attrs, error))
        return FALSE;
    net->target_dev = domain_def_xml_prop(node, "dev");
    const char *dev = net->target_dev;
    gboolean ok = !dev || (*dev && strlen(dev) <= 15);
    for (const char *p = dev; ok && p && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '_' || *p == '-' || *p == '.';
    if (!ok) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "invalid interface target dev '%s'; use up to 15 letters, digits, '_', '-' or '.'",
                dev);
        return FALSE;
    }
    g_autofree char *managed = domain_def_xml_prop(node, "managed");
    if (managed && !g_str_equal(managed, "yes") && !g_str_equal(managed, "no")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "invalid managed '%s' of interface target; use 'yes' or 'no'", managed);
        return FALSE;
    }
    net->target_unmanaged = managed && g_str_equal(managed, "no");
    if (net->target_unmanaged && (net->type != NET_TYPE_ETHERNET || !dev)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unmanaged target dev is only supported on interface type 'ethernet' with a dev "
                "name");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_net_link(struct net_def *net, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"state", NULL};
    static const char *const states[] = {"up", "down", NULL};
    int state = 0;
    if (!domain_def_check_leaf(node, attrs, error) ||
        !domain_def_xml_enum(node, "state", states, &state, error))
        return FALSE;
    net->link_down = state == 1;
    return TRUE;
}

static gboolean
parse_net(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", NULL};
    static const char *const model_attrs[] = {"type", NULL};
    g_autoptr(net_def) net = g_new0(struct net_def, 1);
    int type = 0;
    xmlNodePtr seen[5] = {NULL};
    xmlNodePtr bandwidth = NULL, vlan = NULL;

    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !required_enum(node, "type", net_type_names, &type, error))
        return FALSE;
    net->type = (enum net_type)type;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &net->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (domain_def_xml_is(c, "mac")) {
            if (!domain_def_xml_once(&seen[0], c, error) || !parse_mac(net, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "source")) {
            if (!domain_def_xml_once(&seen[1], c, error) || !parse_net_source(net, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "model")) {
            if (!domain_def_xml_once(&seen[2], c, error) ||
                !domain_def_check_leaf(c, model_attrs, error) ||
                !domain_def_xml_choice(c, "type", net_model_names, &net->model, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "target")) {
            if (!domain_def_xml_once(&seen[3], c, error) || !parse_net_target(net, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "link")) {
            if (!domain_def_xml_once(&seen[4], c, error) || !parse_net_link(net, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "boot")) {
            if (!domain_def_parse_boot_order(c, &net->boot_order, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "bandwidth")) {
            /* a floor is a share of a network's bandwidth */
            if (!domain_def_xml_once(&bandwidth, c, error) ||
                !bandwidth_def_parse(ERR_FROM_DOMAIN, c, net->type == NET_TYPE_NETWORK,
                                     &net->inbound, &net->outbound, &net->floor_class, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "vlan")) {
            if (!domain_def_xml_once(&vlan, c, error) ||
                !vlan_def_parse(ERR_FROM_DOMAIN, c, &net->vlan, error))
                return FALSE;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    if (!net->source && net->type != NET_TYPE_USER && net->type != NET_TYPE_ETHERNET) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "interface of type '%s' needs a <source %s='…'/>", net_type_names[net->type],
                net_type_names[net->type]);
        return FALSE;
    }
    if (net->vlan.ntags && net->type != NET_TYPE_BRIDGE && net->type != NET_TYPE_NETWORK) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "interface of type '%s' - vlan tag not supported for this connection type; use "
                "a host bridge",
                net_type_names[net->type]);
        return FALSE;
    }
    if (!net->mac_given) {
        /* QEMU's OUI, like libvirt's generated addresses; none twice in one domain */
        gboolean taken;
        do {
            mac_generate(net->mac);
            taken = FALSE;
            for (guint i = 0; i < def->nets->len && !taken; i++)
                taken = memcmp(((struct net_def *)def->nets->pdata[i])->mac, net->mac, 6) == 0;
        } while (taken);
    }
    g_ptr_array_add(def->nets, g_steal_pointer(&net));
    return TRUE;
}

static gboolean
parse_input(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "bus", NULL};
    int type = 0, bus = -1;
    struct device_info info = {0};

    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !required_enum(node, "type", input_type_names, &type, error) ||
        !domain_def_xml_enum(node, "bus", input_bus_names, &bus, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &info, &handled, error)) {
            device_info_clear(&info);
            return FALSE;
        }
        if (!handled) {
            device_info_clear(&info);
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    struct input_def *input = g_new0(struct input_def, 1);
    input->type = (enum input_type)type;
    /* libvirt's x86 defaults: a tablet is a USB device, mouse and keyboard are PS/2. */
    if (bus >= 0)
        input->bus = (enum input_bus)bus;
    else
        input->bus = type == INPUT_TYPE_TABLET ? INPUT_BUS_USB : INPUT_BUS_PS2;
    input->info = info;
    g_ptr_array_add(def->inputs, input);
    return TRUE;
}

static gboolean
parse_graphics_listen(struct graphics_def *graphics, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "address", NULL};
    int type = 0;
    if (!domain_def_check_leaf(node, attrs, error) ||
        !required_enum(node, "type", listen_type_names, &type, error))
        return FALSE;
    g_autofree char *address = domain_def_xml_prop(node, "address");
    if (!address)
        return TRUE;
    if (graphics->listen && !g_str_equal(graphics->listen, address)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "graphics listen attribute '%s' must match the address '%s' of the listen "
                "element",
                graphics->listen, address);
        return FALSE;
    }
    g_free(graphics->listen);
    graphics->listen = g_steal_pointer(&address);
    return TRUE;
}

static gboolean
parse_graphics(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {
        "type", "port", "autoport", "listen", "passwd", "keymap", NULL,
    };
    static const char *const spice_attrs[] = {
        "type", "port", "tlsPort", "autoport", "listen", "passwd", "keymap", NULL,
    };
    struct graphics_def *graphics = g_new0(struct graphics_def, 1);
    int type = 0;
    int64_t port = -1, tls_port = -1;
    xmlNodePtr listen = NULL;

    g_ptr_array_add(def->graphics, graphics);
    if (!required_enum(node, "type", graphics_type_names, &type, error) ||
        !domain_def_xml_check_attrs(node, type == GRAPHICS_TYPE_SPICE ? spice_attrs : attrs,
                                    error) ||
        !domain_def_xml_int(node, "port", -1, 65535, &port, error) ||
        !domain_def_xml_int(node, "tlsPort", -1, 65535, &tls_port, error))
        return FALSE;
    /* tlsPort='-1' (virt-install's, virt-manager's): a TLS port if TLS is set up, which
     * Domus does not do for SPICE; so none, as libvirt without spice_tls */
    if (tls_port != -1) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "SPICE over TLS is not supported; drop tlsPort='%d' (or make it -1) and use "
                "the plain port, on a trusted network or through the unix socket",
                (int)tls_port);
        return FALSE;
    }
    graphics->type = (enum graphics_type)type;
    xmlNodePtr image = NULL;
    graphics->port = (int)port;
    graphics->autoport = port == -1;
    if (!domain_def_xml_bool(node, "autoport", &graphics->autoport, error))
        return FALSE;
    graphics->listen = domain_def_xml_prop(node, "listen");
    graphics->passwd = domain_def_xml_prop(node, "passwd");
    graphics->keymap = domain_def_xml_prop(node, "keymap");
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (graphics->type == GRAPHICS_TYPE_SPICE && domain_def_xml_is(c, "image")) {
            static const char *const image_attrs[] = {"compression", NULL};
            if (!domain_def_xml_once(&image, c, error) ||
                !domain_def_check_leaf(c, image_attrs, error) ||
                !domain_def_xml_choice(c, "compression", image_compression_names,
                                       &graphics->image_compression, error))
                return FALSE;
            continue;
        }
        if (!domain_def_xml_is(c, "listen"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_once(&listen, c, error) || !parse_graphics_listen(graphics, c, error))
            return FALSE;
    }
    if (graphics->autoport)
        graphics->port = graphics->port > 0 ? graphics->port : -1;
    return TRUE;
}

enum chr_kind { CHR_SERIAL, CHR_CONSOLE, CHR_CHANNEL };

static gboolean
parse_chr_source(struct chr_def *chr, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"path", NULL};
    static const char *const unix_attrs[] = {"path", "mode", NULL};
    if (!domain_def_check_leaf(node, chr->type == CHR_TYPE_UNIX ? unix_attrs : attrs, error) ||
        !domain_def_xml_choice(node, "mode", unix_mode_names, &chr->source_mode, error))
        return FALSE;
    chr->source_path = domain_def_xml_prop(node, "path");
    return TRUE;
}

static gboolean
parse_chr_target(struct chr_def *chr, enum chr_kind kind, xmlNodePtr node, GError **error)
{
    static const char *const serial_attrs[] = {"type", "port", NULL};
    /* A channel's state= is whether the guest has the port open: runtime, dropped. */
    static const char *const channel_attrs[] = {"type", "name", "state", NULL};
    static const char *const model_attrs[] = {"name", NULL};
    static const char *const *const types[] = {
        serial_target_names,
        console_target_names,
        channel_target_names,
    };
    int64_t port = -1;
    xmlNodePtr model = NULL;
    if (!domain_def_xml_check_attrs(node, kind == CHR_CHANNEL ? channel_attrs : serial_attrs,
                                    error) ||
        !domain_def_xml_choice(node, "type", types[kind], &chr->target_type, error) ||
        !domain_def_xml_int(node, "port", 0, 65535, &port, error))
        return FALSE;
    chr->target_port = (int)port;
    chr->target_name = domain_def_xml_prop(node, "name");
    /* the name is part of the socket's file name */
    if (chr->target_name &&
        (!*chr->target_name || strchr(chr->target_name, '/') ||
         g_str_equal(chr->target_name, "..") || g_str_equal(chr->target_name, "."))) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "channel target name '%s' is not a file name; use a name without '/' such as "
                "'org.qemu.guest_agent.0'",
                chr->target_name);
        return FALSE;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (kind != CHR_SERIAL || !domain_def_xml_is(c, "model"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_once(&model, c, error) ||
            !domain_def_check_leaf(c, model_attrs, error) ||
            !domain_def_xml_choice(c, "name", serial_target_names, &chr->target_model, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_chr(struct domain_def *def, enum chr_kind kind, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", NULL};
    /* tty= repeats the console's pty path for old clients: runtime, dropped. */
    static const char *const console_attrs[] = {"type", "tty", NULL};
    static const char *const log_attrs[] = {"file", "append", NULL};
    g_autoptr(chr_def) chr = g_new0(struct chr_def, 1);
    int type = CHR_TYPE_PTY;
    xmlNodePtr seen[3] = {NULL};

    chr->target_port = -1;
    if (!domain_def_xml_check_attrs(node, kind == CHR_CONSOLE ? console_attrs : attrs, error) ||
        !domain_def_xml_enum(node, "type", domain_def_chr_type_names, &type, error))
        return FALSE;
    chr->type = (enum chr_type)type;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &chr->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (domain_def_xml_is(c, "source")) {
            if (!domain_def_xml_once(&seen[0], c, error) || !parse_chr_source(chr, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "target")) {
            if (!domain_def_xml_once(&seen[1], c, error) || !parse_chr_target(chr, kind, c, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "log")) {
            int append = -1;
            if (!domain_def_xml_once(&seen[2], c, error) ||
                !domain_def_check_leaf(c, log_attrs, error) ||
                !domain_def_xml_enum(c, "append", on_off_names, &append, error) ||
                !(chr->log_file = domain_def_xml_prop_required(c, "file", error)))
                return FALSE;
            chr->log_append = append == 0;
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    if (chr->type == CHR_TYPE_FILE && !chr->source_path) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "%s of type 'file' needs a source path",
                node->name);
        return FALSE;
    }
    /* a channel without one gets a socket in the daemon's channel directory */
    if (chr->type == CHR_TYPE_UNIX && kind != CHR_CHANNEL && !chr->source_path) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "%s of type 'unix' needs a source path: <source mode='bind' path='…'/>",
                node->name);
        return FALSE;
    }
    if (chr->type == CHR_TYPE_SPICEVMC && kind != CHR_CHANNEL) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "a %s cannot be of type 'spicevmc'; the SPICE agent's port is a <channel>",
                node->name);
        return FALSE;
    }
    if (chr->type == CHR_TYPE_SPICEVMC && !chr->target_name)
        chr->target_name = g_strdup("com.redhat.spice.0");
    if (kind == CHR_CHANNEL && !chr->target_type) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "channel needs a <target type='virtio'/>");
        return FALSE;
    }
    GPtrArray *list[] = {def->serials, def->consoles, def->channels};
    g_ptr_array_add(list[kind], g_steal_pointer(&chr));
    return TRUE;
}

static gboolean
parse_video(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const model_attrs[] = {"type", "vram", "heads", "primary", NULL};
    struct video_def *video = g_new0(struct video_def, 1);
    xmlNodePtr model = NULL;

    g_ptr_array_add(def->videos, video);
    if (!domain_def_xml_check_attrs(node, none_attrs, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        uint64_t vram = 0, heads = 0;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &video->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (!domain_def_xml_is(c, "model"))
            return domain_def_xml_unsupported(node, c, error);
        if (!domain_def_xml_once(&model, c, error) ||
            !domain_def_check_leaf(c, model_attrs, error) ||
            !domain_def_xml_choice(c, "type", video_model_names, &video->model, error) ||
            !domain_def_xml_uint(c, "vram", 0, G_MAXUINT32, &vram, error) ||
            !domain_def_xml_uint(c, "heads", 1, 16, &heads, error) ||
            !domain_def_xml_bool(c, "primary", &video->primary, error))
            return FALSE;
        video->vram = (unsigned)vram;
        video->heads = (unsigned)heads;
    }
    return TRUE;
}

/* A device with a model= attribute and the common children only: <sound>, <memballoon>,
 * <panic>. Stores the model in *RET_MODEL (DEFAULT_MODEL when absent and not NULL). */
static gboolean
parse_simple(xmlNodePtr node, const char *const *models, const char *default_model,
             char **ret_model, struct device_info *info, GError **error)
{
    static const char *const attrs[] = {"model", NULL};
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_choice(node, "model", models, ret_model, error))
        return FALSE;
    if (!*ret_model && !default_model) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing attribute 'model' on element '%s'",
                node->name);
        return FALSE;
    }
    if (!*ret_model)
        *ret_model = g_strdup(default_model);
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, info, &handled, error))
            return FALSE;
        if (!handled)
            return domain_def_xml_unsupported(node, c, error);
    }
    return TRUE;
}

static gboolean
parse_controller_children(struct controller_def *ctrl, xmlNodePtr node, GError **error)
{
    static const char *const master_attrs[] = {"startport", NULL};
    static const char *const model_attrs[] = {"name", NULL};
    static const char *const target_attrs[] = {"chassis", "port", NULL};
    xmlNodePtr seen[3] = {NULL};
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &ctrl->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (domain_def_xml_is(c, "master") && g_str_equal(ctrl->type, "usb")) {
            int64_t port = -1;
            if (!domain_def_xml_once(&seen[0], c, error) ||
                !domain_def_check_leaf(c, master_attrs, error) ||
                !domain_def_xml_int(c, "startport", 0, 255, &port, error))
                return FALSE;
            ctrl->master_startport = (int)port;
        } else if (domain_def_xml_is(c, "model") && g_str_equal(ctrl->type, "pci")) {
            if (!domain_def_xml_once(&seen[1], c, error) ||
                !domain_def_check_leaf(c, model_attrs, error) ||
                !domain_def_xml_choice(c, "name", pci_model_name_names, &ctrl->model_name, error))
                return FALSE;
        } else if (domain_def_xml_is(c, "target") && g_str_equal(ctrl->type, "pci")) {
            int64_t chassis = -1;
            uint64_t port = 0;
            if (!domain_def_xml_once(&seen[2], c, error) ||
                !domain_def_check_leaf(c, target_attrs, error) ||
                !domain_def_xml_int(c, "chassis", 0, 255, &chassis, error) ||
                !domain_def_xml_uint(c, "port", 0, 255, &port, error))
                return FALSE;
            ctrl->target_chassis = (int)chassis;
            ctrl->target_port = domain_def_xml_prop(c, "port");
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
    }
    return TRUE;
}

static gboolean
parse_controller(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"type", "index", "model", "ports", NULL};
    static const char *const *const models[] = {
        usb_model_names, pci_model_names, NULL, scsi_model_names, NULL, virtio_model_names,
    };
    g_autoptr(controller_def) ctrl = g_new0(struct controller_def, 1);
    int type = 0;
    int64_t index = -1;
    uint64_t ports = 0;

    ctrl->master_startport = -1;
    ctrl->target_chassis = -1;
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !required_enum(node, "type", controller_type_names, &type, error) ||
        !domain_def_xml_int(node, "index", 0, 255, &index, error) ||
        !domain_def_xml_uint(node, "ports", 1, 255, &ports, error))
        return FALSE;
    ctrl->type = g_strdup(controller_type_names[type]);
    ctrl->index = (int)index;
    ctrl->ports = (unsigned)ports;
    if (models[type]) {
        if (!domain_def_xml_choice(node, "model", models[type], &ctrl->model, error))
            return FALSE;
    } else if (xmlHasProp(node, (const xmlChar *)"model")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "unsupported attribute 'model' on controller of type '%s'", ctrl->type);
        return FALSE;
    }
    if (!parse_controller_children(ctrl, node, error))
        return FALSE;
    g_ptr_array_add(def->controllers, g_steal_pointer(&ctrl));
    return TRUE;
}

static gboolean
parse_rng(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"model", NULL};
    static const char *const backend_attrs[] = {"model", NULL};
    struct rng_def *rng = g_new0(struct rng_def, 1);
    xmlNodePtr backend = NULL;

    g_ptr_array_add(def->rngs, rng);
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_choice(node, "model", virtio_model_names, &rng->model, error))
        return FALSE;
    if (!rng->model) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "missing attribute 'model' on element 'rng'");
        return FALSE;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &rng->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        if (!domain_def_xml_is(c, "backend"))
            return domain_def_xml_unsupported(node, c, error);
        int model = 0;
        if (!domain_def_xml_once(&backend, c, error) ||
            !domain_def_xml_check_attrs(c, backend_attrs, error) ||
            !required_enum(c, "model", rng_backend_names, &model, error))
            return FALSE;
        g_autofree char *text = domain_def_xml_text(c, error);
        if (!text)
            return FALSE;
        g_strstrip(text);
        rng->backend_model = g_strdup(rng_backend_names[model]);
        /* libvirt's default source for the random backend. */
        rng->backend = g_strdup(*text ? text : "/dev/urandom");
    }
    if (!backend) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing element 'backend' in 'rng'");
        return FALSE;
    }
    return TRUE;
}

/* <audio type='none'/> is what libvirt adds when no audio backend is configured; it means
 * nothing to us and is dropped. 'spice' sends the sound to the SPICE client; any other
 * backend is unsupported. */
static gboolean
parse_audio(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"id", "type", NULL};
    static const char *const types[] = {"none", "spice", NULL};
    int type = 0;
    if (!domain_def_check_leaf(node, attrs, error) ||
        !required_enum(node, "type", types, &type, error))
        return FALSE;
    def->audio_spice = def->audio_spice || type == 1;
    def->audio_explicit = TRUE;
    return TRUE;
}

/* <redirdev bus='usb' type='spicevmc'/> */
static gboolean
parse_redirdev(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const attrs[] = {"bus", "type", NULL};
    static const char *const buses[] = {"usb", NULL};
    static const char *const types[] = {"spicevmc", NULL};
    int bus = 0, type = 0;
    struct redirdev_def *r = g_new0(struct redirdev_def, 1);
    g_ptr_array_add(def->redirdevs, r);
    if (!domain_def_xml_check_attrs(node, attrs, error) ||
        !domain_def_xml_enum(node, "bus", buses, &bus, error) ||
        !required_enum(node, "type", types, &type, error))
        return FALSE;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &r->info, &handled, error))
            return FALSE;
        if (!handled)
            return domain_def_xml_unsupported(node, c, error);
    }
    return TRUE;
}

gboolean
domain_def_devices_parse(struct domain_def *def, xmlNodePtr devices, GError **error)
{
    xmlNodePtr emulator = NULL, memballoon = NULL, panic = NULL;
    if (!domain_def_xml_check_attrs(devices, none_attrs, error))
        return FALSE;
    for (xmlNodePtr c = devices->children; c; c = c->next) {
        gboolean ok;
        if (domain_def_xml_ignorable(c))
            continue;
        if (domain_def_xml_is(c, "emulator")) {
            ok = domain_def_xml_once(&emulator, c, error) &&
                 domain_def_xml_check_attrs(c, none_attrs, error) &&
                 (def->emulator = domain_def_xml_text(c, error)) != NULL;
            if (ok)
                g_strstrip(def->emulator);
        } else if (domain_def_xml_is(c, "disk")) {
            ok = domain_def_parse_disk(def, c, error);
        } else if (domain_def_xml_is(c, "controller")) {
            ok = parse_controller(def, c, error);
        } else if (domain_def_xml_is(c, "interface")) {
            ok = parse_net(def, c, error);
        } else if (domain_def_xml_is(c, "serial")) {
            ok = parse_chr(def, CHR_SERIAL, c, error);
        } else if (domain_def_xml_is(c, "console")) {
            ok = parse_chr(def, CHR_CONSOLE, c, error);
        } else if (domain_def_xml_is(c, "channel")) {
            ok = parse_chr(def, CHR_CHANNEL, c, error);
        } else if (domain_def_xml_is(c, "input")) {
            ok = parse_input(def, c, error);
        } else if (domain_def_xml_is(c, "graphics")) {
            ok = parse_graphics(def, c, error);
        } else if (domain_def_xml_is(c, "sound")) {
            struct sound_def *sound = g_new0(struct sound_def, 1);
            g_ptr_array_add(def->sounds, sound);
            ok = parse_simple(c, sound_model_names, NULL, &sound->model, &sound->info, error);
        } else if (domain_def_xml_is(c, "audio")) {
            ok = parse_audio(def, c, error);
        } else if (domain_def_xml_is(c, "redirdev")) {
            ok = parse_redirdev(def, c, error);
        } else if (domain_def_xml_is(c, "video")) {
            ok = parse_video(def, c, error);
        } else if (domain_def_xml_is(c, "memballoon")) {
            ok = domain_def_xml_once(&memballoon, c, error);
            if (ok) {
                def->memballoon = g_new0(struct memballoon_def, 1);
                ok = parse_simple(c, memballoon_model_names, NULL, &def->memballoon->model,
                                  &def->memballoon->info, error);
            }
        } else if (domain_def_xml_is(c, "rng")) {
            ok = parse_rng(def, c, error);
        } else if (domain_def_xml_is(c, "hostdev")) {
            ok = domain_def_hostdev_parse(def, c, error);
        } else if (domain_def_xml_is(c, "memory")) {
            ok = domain_def_memdev_parse(def, c, error);
        } else if (domain_def_xml_is(c, "panic")) {
            /* libvirt's x86 default model is isa. */
            ok = domain_def_xml_once(&panic, c, error) &&
                 parse_simple(c, panic_model_names, "isa", &def->panic_model, &def->panic_info,
                              error);
        } else {
            return domain_def_xml_unsupported(devices, c, error);
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* ---- defaults and cross-device checks ---- */

/* The boot orders of the devices that can have one (disks, NICs, host devices), 0 for none. */
static GArray *
boot_orders(const struct domain_def *def)
{
    GArray *orders = g_array_new(FALSE, FALSE, sizeof(unsigned));
    for (guint i = 0; i < def->disks->len; i++)
        g_array_append_val(orders, ((struct disk_def *)def->disks->pdata[i])->boot_order);
    for (guint i = 0; i < def->nets->len; i++)
        g_array_append_val(orders, ((struct net_def *)def->nets->pdata[i])->boot_order);
    for (guint i = 0; i < def->hostdevs->len; i++)
        g_array_append_val(orders, ((struct hostdev_def *)def->hostdevs->pdata[i])->boot_order);
    return orders;
}

gboolean
domain_def_devices_have_boot_order(const struct domain_def *def)
{
    g_autoptr(GArray) orders = boot_orders(def);
    for (guint i = 0; i < orders->len; i++) {
        if (g_array_index(orders, unsigned, i))
            return TRUE;
    }
    return FALSE;
}

static gboolean
check_boot_orders(const struct domain_def *def, GError **error)
{
    g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GArray) orders = boot_orders(def);
    for (guint i = 0; i < orders->len; i++) {
        unsigned order = g_array_index(orders, unsigned, i);
        if (!order)
            continue;
        if (!g_hash_table_add(used, GUINT_TO_POINTER(order))) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "boot order %u is used by more than one device", order);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
check_disk_targets(const struct domain_def *def, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *disk = g_ptr_array_index(def->disks, i);
        if (!g_hash_table_add(seen, disk->target_dev)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                    "disk target '%s' is used more than once", disk->target_dev);
            return FALSE;
        }
    }
    return TRUE;
}

/* libvirt's index rules: a USB companion controller (one with <master>) shares the index of
 * the controller before it; any other controller without an index gets the lowest index its
 * type does not use yet. */
static void
assign_controller_indexes(struct domain_def *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *ctrl = g_ptr_array_index(def->controllers, i);
        if (ctrl->index >= 0)
            continue;
        if (ctrl->master_startport >= 0) {
            ctrl->index = 0;
            for (guint j = i; j-- > 0;) {
                struct controller_def *prev = g_ptr_array_index(def->controllers, j);
                if (g_str_equal(prev->type, ctrl->type) && prev->index >= 0) {
                    ctrl->index = prev->index;
                    break;
                }
            }
            continue;
        }
        /* index 0 of the PCI controllers is the machine's root bus, whether listed or not */
        gboolean bridge = g_str_equal(ctrl->type, "pci") &&
                          g_strcmp0(ctrl->model, "pci-root") != 0 &&
                          g_strcmp0(ctrl->model, "pcie-root") != 0;
        for (int index = bridge ? 1 : 0; ctrl->index < 0; index++) {
            gboolean used = FALSE;
            for (guint j = 0; j < def->controllers->len && !used; j++) {
                struct controller_def *other = g_ptr_array_index(def->controllers, j);
                used =
                    other != ctrl && other->index == index && g_str_equal(other->type, ctrl->type);
            }
            if (!used)
                ctrl->index = index;
        }
    }
}

/* libvirt pairs the first console with the first serial port on x86: a console of target
 * type serial gets a serial port made from it when there is none, and a serial port gets a
 * console when there is none. Both are filled in here so the formatted XML shows them. */
static gboolean
pair_consoles(struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->serials->len; i++) {
        struct chr_def *serial = g_ptr_array_index(def->serials, i);
        if (!serial->target_type)
            serial->target_type = g_strdup("isa-serial");
        if (!serial->target_model)
            serial->target_model = g_strdup(serial->target_type);
        for (int port = 0; serial->target_port < 0; port++) {
            gboolean used = FALSE;
            for (guint j = 0; j < def->serials->len && !used; j++) {
                struct chr_def *other = g_ptr_array_index(def->serials, j);
                used = other->target_port == port &&
                       g_str_equal(other->target_type, serial->target_type);
            }
            if (!used)
                serial->target_port = port;
        }
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *console = g_ptr_array_index(def->consoles, i);
        if (!console->target_type)
            console->target_type = g_strdup("serial");
        if (!g_str_equal(console->target_type, "serial"))
            continue;
        if (i > 0) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "only the first console may have target type 'serial'");
            return FALSE;
        }
        if (console->target_port < 0)
            console->target_port = 0;
    }
    if (def->consoles->len && !def->serials->len) {
        struct chr_def *console = g_ptr_array_index(def->consoles, 0);
        if (g_str_equal(console->target_type, "serial")) {
            struct chr_def *serial = domain_def_chr_copy(console, NULL);
            g_free(serial->target_type);
            serial->target_type = g_strdup("isa-serial");
            serial->target_model = g_strdup("isa-serial");
            g_ptr_array_add(def->serials, serial);
        }
    } else if (def->serials->len && !def->consoles->len) {
        struct chr_def *console = domain_def_chr_copy(g_ptr_array_index(def->serials, 0), NULL);
        g_free(console->target_type);
        console->target_type = g_strdup("serial");
        g_clear_pointer(&console->target_model, g_free);
        device_info_clear(&console->info);
        g_ptr_array_add(def->consoles, console);
    }
    return TRUE;
}

/* libvirt's defaults: graphics without a video device get one (virDomainDefAddImplicitVideo,
 * a Cirrus VGA on x86 as with libvirt's QEMU driver); the first video device is primary,
 * with one head and the model's default video RAM (virDomainVideoDefaultRAM). */
static void
fill_video_defaults(struct domain_def *def)
{
    if (def->graphics->len > 0 && def->videos->len == 0) {
        struct video_def *video = g_new0(struct video_def, 1);
        /* libvirt's choice: QXL for SPICE (QEMU has it), else Cirrus */
        const struct graphics_def *g = def->graphics->pdata[0];
        video->model = g_strdup(g->type == GRAPHICS_TYPE_SPICE ? "qxl" : "cirrus");
        g_ptr_array_add(def->videos, video);
    }
    gboolean have_primary = FALSE;
    for (guint i = 0; i < def->videos->len; i++)
        have_primary |= ((struct video_def *)g_ptr_array_index(def->videos, i))->primary;
    for (guint i = 0; i < def->videos->len; i++) {
        struct video_def *video = g_ptr_array_index(def->videos, i);
        if (!video->model)
            video->model = g_strdup("vga");
        if (i == 0 && !have_primary)
            video->primary = TRUE;
        if (g_str_equal(video->model, "none"))
            continue;
        if (!video->heads)
            video->heads = 1;
        if (!video->vram) {
            if (g_str_equal(video->model, "qxl"))
                video->vram = 65536;
            else if (g_str_equal(video->model, "vga") || g_str_equal(video->model, "cirrus") ||
                     g_str_equal(video->model, "vmvga") || g_str_equal(video->model, "bochs"))
                video->vram = 16384;
        }
    }
}

/* libvirt's x86 machines always have a PS/2 mouse and keyboard (the i8042 every PC board
 * has, nothing on the command line): the XML names them as libvirt's does. */
static void
add_implicit_inputs(struct domain_def *def)
{
    if (g_strcmp0(def->os_arch, "x86_64") != 0 && g_strcmp0(def->os_arch, "i686") != 0)
        return;
    static const enum input_type types[] = {INPUT_TYPE_MOUSE, INPUT_TYPE_KEYBOARD};
    for (gsize t = 0; t < G_N_ELEMENTS(types); t++) {
        gboolean present = FALSE;
        for (guint i = 0; i < def->inputs->len; i++) {
            const struct input_def *in = def->inputs->pdata[i];
            present |= in->type == types[t] && in->bus == INPUT_BUS_PS2;
        }
        if (present)
            continue;
        struct input_def *input = g_new0(struct input_def, 1);
        input->type = types[t];
        input->bus = INPUT_BUS_PS2;
        g_ptr_array_add(def->inputs, input);
    }
}

/* What goes through a SPICE client (the agent's channel, USB redirection, sound) needs a
 * SPICE display; sound with one goes to it unless told otherwise, as libvirt has it. */
static gboolean
check_spice(struct domain_def *def, GError **error)
{
    gboolean spice = FALSE;
    for (guint i = 0; i < def->graphics->len; i++)
        spice =
            spice || ((struct graphics_def *)def->graphics->pdata[i])->type == GRAPHICS_TYPE_SPICE;
    const char *needs = def->redirdevs->len ? "USB redirection (<redirdev type='spicevmc'>)"
                        : def->audio_spice  ? "<audio type='spice'>"
                                            : NULL;
    for (guint i = 0; !needs && i < def->channels->len; i++)
        if (((struct chr_def *)def->channels->pdata[i])->type == CHR_TYPE_SPICEVMC)
            needs = "a <channel type='spicevmc'>";
    if (needs && !spice) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "%s needs a SPICE display: add <graphics type='spice'/>", needs);
        return FALSE;
    }
    if (spice && def->sounds->len && !def->audio_explicit)
        def->audio_spice = TRUE;
    return TRUE;
}

gboolean
domain_def_devices_finish(struct domain_def *def, GError **error)
{
    assign_controller_indexes(def);
    fill_video_defaults(def);
    add_implicit_inputs(def);
    return check_disk_targets(def, error) && check_boot_orders(def, error) &&
           domain_def_hostdev_check(def, error) && domain_def_iothreads_check(def, error) &&
           pair_consoles(def, error) && check_spice(def, error);
}

const char *const *
domain_def_enum_values(enum domain_def_enum which)
{
    static const char *const loader_types[] = {"rom", "pflash", NULL};
    static const char *const hostdev_modes[] = {"subsystem", NULL};
    static const char *const hostdev_types[] = {"pci", NULL};
    switch (which) {
    case DOMAIN_DEF_ENUM_DISK_DEVICE:
        return disk_device_names;
    case DOMAIN_DEF_ENUM_DISK_BUS:
        return disk_bus_names;
    case DOMAIN_DEF_ENUM_GRAPHICS_TYPE:
        return graphics_type_names;
    case DOMAIN_DEF_ENUM_VIDEO_MODEL:
        return video_model_names;
    case DOMAIN_DEF_ENUM_HOSTDEV_MODE:
        return hostdev_modes;
    case DOMAIN_DEF_ENUM_HOSTDEV_TYPE:
        return hostdev_types;
    case DOMAIN_DEF_ENUM_RNG_MODEL:
        return virtio_model_names;
    case DOMAIN_DEF_ENUM_RNG_BACKEND:
        return rng_backend_names;
    case DOMAIN_DEF_ENUM_CHANNEL_TYPE:
        return domain_def_chr_type_names;
    case DOMAIN_DEF_ENUM_LOADER_TYPE:
        return loader_types;
    }
    g_assert_not_reached();
}
