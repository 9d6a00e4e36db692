/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* address: the devices every machine has, the controllers devices need, and every device's
 * address, decided at define as libvirt's qemu driver decides them
 * (qemu_domain_address.c: chipset functions first, then PCI controllers, interfaces, sound,
 * other controllers, virtio disks, balloon, rng, video, virtio input). */
#include "qemu/address.h"

#include <string.h>

#include "qemu/command.h"
#include "util/err.h"

gboolean
qemu_address_is_q35(const struct domain_def *def)
{
    const char *m = qemu_command_machine(def);
    return g_str_has_prefix(m, "q35") || g_str_has_prefix(m, "pc-q35");
}

/* ---- what a device needs ---- */

/* How a device connects to a PCI bus. */
enum conn {
    CONN_NONE,      /* not a PCI device */
    CONN_PCI,       /* a conventional PCI device */
    CONN_PCIE,      /* a PCI Express endpoint (virtio, xhci, e1000e, a PCIe-to-PCI bridge) */
    CONN_ROOT_PORT, /* a pcie-root-port: only on the q35's root bus */
};

enum bus_kind {
    BUS_PCI_ROOT,  /* pc: 31 slots, hot-plug */
    BUS_PCIE_ROOT, /* q35: 31 slots, no hot-plug */
    BUS_ROOT_PORT, /* one slot, hot-plug */
    BUS_BRIDGE,    /* pci-bridge, pcie-to-pci-bridge, dmi-to-pci-bridge: slots 1-31 */
};

struct bus {
    gboolean present;
    enum bus_kind kind;
    uint8_t functions[PCI_ADDRESS_SLOT_MAX + 1]; /* bit F: function F is taken */
    gboolean ports[PCI_ADDRESS_SLOT_MAX + 1];    /* the slot holds root ports only */
};

/* One device that may want a PCI address. */
struct pdev {
    struct device_info *info;
    char *label; /* "disk 'vda'", for messages */
    enum conn conn;
    const struct controller_def *usb2; /* a USB2 companion controller, else NULL */
    unsigned max_bus;                  /* a PCI controller sits below its own index */
};

struct set {
    struct domain_def *def;
    gboolean q35;
    struct bus buses[256];
    GHashTable *owners; /* (bus << 8 | slot << 3 | function) -> label of the device there */
    GPtrArray *devs;    /* struct pdev *, in libvirt's order of assignment */
    guint npci;         /* the PCI controllers lead devs */
};

static void
pdev_free(struct pdev *dev)
{
    g_free(dev->label);
    g_free(dev);
}

static struct pdev *
add_dev(struct set *set, struct device_info *info, enum conn conn, char *label)
{
    struct pdev *dev = g_new0(struct pdev, 1);
    dev->info = info;
    dev->conn = conn;
    dev->label = label;
    dev->max_bus = 255;
    g_ptr_array_add(set->devs, dev);
    return dev;
}

static gboolean
is_virtio_model(const char *model)
{
    return model && (g_str_equal(model, "virtio") || g_str_equal(model, "virtio-non-transitional"));
}

static gboolean
is_usb2_companion(const char *model)
{
    return model && (g_str_equal(model, "ich9-ehci1") || g_str_has_prefix(model, "ich9-uhci"));
}

unsigned
qemu_address_usb_ports(const char *model, unsigned ports)
{
    if (!model || g_str_has_suffix(model, "uhci") || g_str_equal(model, "vt82c686b-uhci"))
        return 2;
    if (g_str_equal(model, "ich9-ehci1") || g_str_has_prefix(model, "ich9-uhci"))
        return 6;
    if (g_str_equal(model, "ehci"))
        return 6;
    if (g_str_equal(model, "pci-ohci"))
        return 3;
    if (g_str_has_suffix(model, "xhci"))
        return ports ? ports : 4;
    return 0;
}

static enum conn
controller_conn(const struct domain_def *def, const struct controller_def *c)
{
    const char *m = c->model;
    if (g_str_equal(c->type, "pci")) {
        if (g_str_equal(m, "pcie-root-port"))
            return CONN_ROOT_PORT;
        if (g_str_equal(m, "pcie-to-pci-bridge"))
            return CONN_PCIE;
        return CONN_PCI; /* pci-bridge, dmi-to-pci-bridge */
    }
    if (g_str_equal(c->type, "usb"))
        return m && g_str_has_suffix(m, "xhci") ? CONN_PCIE : CONN_PCI;
    if (g_str_equal(c->type, "scsi") || g_str_equal(c->type, "virtio-serial"))
        return m && g_str_equal(m, "virtio-transitional") ? CONN_PCI : CONN_PCIE;
    if (g_str_equal(c->type, "sata"))
        return CONN_PCIE;
    return CONN_PCI;
}

static enum conn
video_conn(const struct video_def *v)
{
    if (g_str_equal(v->model, "none"))
        return CONN_NONE;
    return g_str_equal(v->model, "virtio") || g_str_equal(v->model, "bochs") ? CONN_PCIE : CONN_PCI;
}

/* ---- defaults and implicit controllers ---- */

static struct controller_def *
find_controller(const struct domain_def *def, const char *type, int index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, type) && c->index == index)
            return c;
    }
    return NULL;
}

static struct controller_def *
add_controller(struct domain_def *def, const char *type, int index, const char *model)
{
    struct controller_def *c = g_new0(struct controller_def, 1);
    c->type = g_strdup(type);
    c->index = index;
    c->model = g_strdup(model);
    c->master_startport = -1;
    c->target_chassis = -1;
    /* next to the controllers of its type, as libvirt inserts them */
    guint at = def->controllers->len;
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *o = def->controllers->pdata[i];
        if (g_str_equal(o->type, type))
            at = i + 1;
    }
    g_ptr_array_insert(def->controllers, (gint)at, c);
    return c;
}

static gboolean
has_controller_type(const struct domain_def *def, const char *type)
{
    for (guint i = 0; i < def->controllers->len; i++)
        if (g_str_equal(((struct controller_def *)def->controllers->pdata[i])->type, type))
            return TRUE;
    return FALSE;
}

static gboolean
add_defaults(struct domain_def *def, gboolean q35, GError **error)
{
    if (!has_controller_type(def, "usb"))
        add_controller(def, "usb", 0, q35 ? "qemu-xhci" : "piix3-uhci");
    struct controller_def *root = find_controller(def, "pci", 0);
    const char *root_model = q35 ? "pcie-root" : "pci-root";
    if (!root) {
        add_controller(def, "pci", 0, root_model);
    } else if (!root->model) {
        root->model = g_strdup(root_model);
    } else if (!g_str_equal(root->model, root_model)) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "the PCI controller with index 0 of machine '%s' must be model '%s', not '%s'",
                qemu_command_machine(def), root_model, root->model);
        return FALSE;
    }
    if (q35 && !find_controller(def, "sata", 0))
        add_controller(def, "sata", 0, NULL);
    if (!def->memballoon) {
        def->memballoon = g_new0(struct memballoon_def, 1);
        def->memballoon->model = g_strdup("virtio");
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "scsi") && (!c->model || g_str_equal(c->model, "auto"))) {
            g_free(c->model);
            c->model = g_strdup("virtio-scsi");
        }
        if (!g_str_equal(c->type, "pci"))
            continue;
        static const char *const supported[] = {
            "pci-root",          "pcie-root", "pcie-root-port", "pci-bridge", "pcie-to-pci-bridge",
            "dmi-to-pci-bridge", NULL};
        if (!c->model || !g_strv_contains(supported, c->model)) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "PCI controller model '%s' (index %d) is not supported; use "
                    "'pcie-root-port', 'pci-bridge', 'pcie-to-pci-bridge' or "
                    "'dmi-to-pci-bridge'",
                    c->model ? c->model : "", c->index);
            return FALSE;
        }
        if (c->index > 0 &&
            (g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root"))) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "a '%s' controller must have index 0, not %d", c->model, c->index);
            return FALSE;
        }
        gboolean pcie_only = g_str_equal(c->model, "pcie-root-port") ||
                             g_str_equal(c->model, "pcie-to-pci-bridge") ||
                             g_str_equal(c->model, "dmi-to-pci-bridge");
        if (pcie_only && !q35) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "PCI controller model '%s' needs a PCI Express machine; use machine 'q35' "
                    "or model 'pci-bridge'",
                    c->model);
            return FALSE;
        }
        /* the QEMU device model each controller is built from, as libvirt records it */
        const char *name = g_str_equal(c->model, "pcie-root-port")       ? "pcie-root-port"
                           : g_str_equal(c->model, "pci-bridge")         ? "pci-bridge"
                           : g_str_equal(c->model, "pcie-to-pci-bridge") ? "pcie-pci-bridge"
                           : g_str_equal(c->model, "dmi-to-pci-bridge")  ? "i82801b11-bridge"
                                                                         : NULL;
        if (name && !c->model_name)
            c->model_name = g_strdup(name);
        if ((g_str_equal(c->model, "pcie-root-port") || g_str_equal(c->model, "pci-bridge")) &&
            c->target_chassis < 0)
            c->target_chassis = c->index;
    }
    return TRUE;
}

/* Drive addresses from targets (libvirt's virDomainDiskDefAssignAddress), and the
 * controllers they name. */
static gboolean
assign_drives(struct domain_def *def, gboolean q35, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (d->bus == DISK_BUS_USB)
            continue; /* a USB port, given with the inputs' */
        if (d->bus == DISK_BUS_VIRTIO) {
            if (d->info.address && !domain_address_is(d->info.address, "pci")) {
                err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                        "virtio disk '%s' cannot have an address of type '%s'", d->target_dev,
                        d->info.address->type);
                return FALSE;
            }
            continue;
        }
        if (d->info.address && !domain_address_is(d->info.address, "drive")) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "disk '%s' on bus '%s' needs an address of type 'drive', not '%s'",
                    d->target_dev, disk_bus_to_string(d->bus), d->info.address->type);
            return FALSE;
        }
        gboolean derived = !d->info.address;
        if (derived) {
            int idx = disk_target_index(d->target_dev);
            unsigned controller = 0, bus = 0, unit = 0;
            switch (d->bus) {
            case DISK_BUS_IDE:
                controller = (unsigned)idx / 4;
                bus = (unsigned)(idx % 4) / 2;
                unit = (unsigned)idx % 2;
                break;
            case DISK_BUS_SATA:
                controller = (unsigned)idx / 6;
                unit = (unsigned)idx % 6;
                break;
            case DISK_BUS_SCSI:
                controller = (unsigned)idx / 7;
                unit = (unsigned)idx % 7;
                break;
            case DISK_BUS_VIRTIO:
            case DISK_BUS_USB:
                break;
            }
            char c[16], b[16], u[16];
            g_snprintf(c, sizeof(c), "%u", controller);
            g_snprintf(b, sizeof(b), "%u", bus);
            g_snprintf(u, sizeof(u), "%u", unit);
            d->info.address = domain_address_new("drive", "controller", c, "bus", b, "target", "0",
                                                 "unit", u, NULL);
        }
        const struct domain_address *a = d->info.address;
        unsigned controller = domain_address_get_uint(a, "controller", 0);
        unsigned bus = domain_address_get_uint(a, "bus", 0);
        unsigned target = domain_address_get_uint(a, "target", 0);
        unsigned unit = domain_address_get_uint(a, "unit", 0);
        const char *type = d->bus == DISK_BUS_IDE    ? "ide"
                           : d->bus == DISK_BUS_SATA ? "sata"
                                                     : "scsi";
        gboolean ok;
        const char *limit;
        if (controller > 255) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': controller %u is beyond the last controller index (255)%s",
                    d->target_dev, controller, derived ? "; use a target nearer the start" : "");
            return FALSE;
        }
        if (d->bus == DISK_BUS_IDE) {
            ok = controller == 0 && bus <= 1 && target == 0 && unit <= 1;
            limit = "controller 0, bus 0-1, target 0, unit 0-1 (hda-hdd)";
        } else if (d->bus == DISK_BUS_SATA) {
            ok = bus == 0 && target == 0 && unit <= 5;
            limit = "bus 0, target 0, unit 0-5";
        } else {
            ok = bus == 0 && target <= 255 && unit <= 16383;
            limit = "bus 0, target 0-255, unit 0-16383";
        }
        if (!ok && derived && d->bus == DISK_BUS_IDE) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': the IDE bus has only hda to hdd", d->target_dev);
            return FALSE;
        }
        if (!ok) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': drive address controller %u bus %u target %u unit %u is beyond "
                    "what a %s controller has; use %s",
                    d->target_dev, controller, bus, target, unit, type, limit);
            return FALSE;
        }
        if (d->bus == DISK_BUS_IDE && q35) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': machine '%s' has no IDE bus; use bus 'sata'", d->target_dev,
                    qemu_command_machine(def));
            return FALSE;
        }
        g_autofree char *key =
            g_strdup_printf("%s %u %u %u %u", type, controller, bus, target, unit);
        const char *other = g_hash_table_lookup(seen, key);
        if (other) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "disks '%s' and '%s' have the same drive address (%s controller %u bus %u "
                    "target %u unit %u)",
                    other, d->target_dev, type, controller, bus, target, unit);
            return FALSE;
        }
        g_hash_table_insert(seen, g_steal_pointer(&key), d->target_dev);
        if (!find_controller(def, type, (int)controller))
            add_controller(def, type, (int)controller,
                           d->bus == DISK_BUS_SCSI ? "virtio-scsi" : NULL);
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "ide") && (q35 || c->index > 0)) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "IDE controller index %d is not supported on machine '%s'; only the pc "
                    "machine's built-in one (index 0)",
                    c->index, qemu_command_machine(def));
            return FALSE;
        }
        if (g_str_equal(c->type, "scsi")) {
            static const char *const models[] = {
                "virtio-scsi", "virtio-transitional", "virtio-non-transitional",
                "lsilogic",    "lsisas1068",          "lsisas1078",
                NULL};
            if (!g_strv_contains(models, c->model)) {
                err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                        "SCSI controller model '%s' is not supported; use 'virtio-scsi', "
                        "'lsilogic', 'lsisas1068' or 'lsisas1078'",
                        c->model);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* virtio-serial ports: a virtio console may take port 0, channels start at 1. */
static gboolean
assign_virtio_serial(struct domain_def *def, GError **error)
{
    g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GPtrArray) chrs = g_ptr_array_new();
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *c = def->consoles->pdata[i];
        if (c->target_type && g_str_equal(c->target_type, "virtio"))
            g_ptr_array_add(chrs, c);
    }
    guint nconsoles = chrs->len;
    for (guint i = 0; i < def->channels->len; i++) {
        struct chr_def *c = def->channels->pdata[i];
        if (c->target_type && g_str_equal(c->target_type, "virtio"))
            g_ptr_array_add(chrs, c);
    }
    for (guint i = 0; i < chrs->len; i++) {
        struct chr_def *c = chrs->pdata[i];
        if (!c->info.address)
            continue;
        if (!domain_address_is(c->info.address, "virtio-serial")) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "a virtio channel or console needs an address of type 'virtio-serial', "
                    "not '%s'",
                    c->info.address->type);
            return FALSE;
        }
        unsigned controller = domain_address_get_uint(c->info.address, "controller", 0);
        unsigned bus = domain_address_get_uint(c->info.address, "bus", 0);
        unsigned port = domain_address_get_uint(c->info.address, "port", 0);
        if (controller > 255 || bus != 0 || port > 30 || (port == 0 && i >= nconsoles)) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "virtio-serial address controller %u bus %u port %u is out of range; use bus "
                    "0 and port 1-30 (port 0 is for a console)",
                    controller, bus, port);
            return FALSE;
        }
        gpointer key = GUINT_TO_POINTER(controller << 8 | port);
        if (!g_hash_table_add(used, key)) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "virtio-serial port %u of controller %u is used twice", port, controller);
            return FALSE;
        }
        if (!find_controller(def, "virtio-serial", (int)controller))
            add_controller(def, "virtio-serial", (int)controller, NULL);
    }
    for (guint i = 0; i < chrs->len; i++) {
        struct chr_def *c = chrs->pdata[i];
        if (c->info.address)
            continue;
        unsigned port = i < nconsoles ? 0 : 1;
        while (port <= 30 && g_hash_table_contains(used, GUINT_TO_POINTER(port)))
            port++;
        if (port > 30) {
            err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                    "no free port left on virtio-serial controller 0; add a <controller "
                    "type='virtio-serial' index='1'/> and address channels to it");
            return FALSE;
        }
        g_hash_table_add(used, GUINT_TO_POINTER(port));
        char p[16];
        g_snprintf(p, sizeof(p), "%u", port);
        c->info.address =
            domain_address_new("virtio-serial", "controller", "0", "bus", "0", "port", p, NULL);
        if (!find_controller(def, "virtio-serial", 0))
            add_controller(def, "virtio-serial", 0, NULL);
    }
    return TRUE;
}

/* The devices on USB ports, in libvirt's order (disks, inputs, redirections); their names in
 * messages */
static GPtrArray *
usb_devices(struct domain_def *def, GPtrArray **ret_names)
{
    GPtrArray *infos = g_ptr_array_new();
    *ret_names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (d->bus != DISK_BUS_USB)
            continue;
        g_ptr_array_add(infos, &d->info);
        g_ptr_array_add(*ret_names, g_strdup_printf("USB disk '%s'", d->target_dev));
    }
    for (guint i = 0; i < def->inputs->len; i++) {
        struct input_def *in = def->inputs->pdata[i];
        if (in->bus != INPUT_BUS_USB)
            continue;
        g_ptr_array_add(infos, &in->info);
        g_ptr_array_add(*ret_names, g_strdup_printf("USB %s", input_type_to_string(in->type)));
    }
    for (guint i = 0; i < def->redirdevs->len; i++) {
        g_ptr_array_add(infos, &((struct redirdev_def *)def->redirdevs->pdata[i])->info);
        g_ptr_array_add(*ret_names, g_strdup("USB redirection"));
    }
    return infos;
}

/* USB ports for USB inputs and disks: "1", "2", … of the controller's ports. */
static gboolean
assign_usb(struct domain_def *def, GError **error)
{
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GPtrArray) infos = usb_devices(def, &names);
    for (guint i = 0; i < infos->len; i++) {
        struct device_info *info = infos->pdata[i];
        if (!info->address)
            continue;
        if (!domain_address_is(info->address, "usb")) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "%s needs an address of type 'usb', not '%s'", (char *)names->pdata[i],
                    info->address->type);
            return FALSE;
        }
        g_autofree char *key = g_strdup_printf(
            "%u:%s", domain_address_get_uint(info->address, "bus", 0),
            domain_address_get(info->address, "port") ? domain_address_get(info->address, "port")
                                                      : "");
        if (!g_hash_table_add(used, g_steal_pointer(&key))) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR, "a USB port is used by two devices");
            return FALSE;
        }
    }
    if (!infos->len)
        return TRUE;
    struct controller_def *usb = find_controller(def, "usb", 0);
    if (!usb || (usb->model && g_str_equal(usb->model, "none"))) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "%s needs a USB controller; remove <controller type='usb' model='none'/> or "
                "use another bus",
                (char *)names->pdata[0]);
        return FALSE;
    }
    unsigned nports = qemu_address_usb_ports(usb->model, usb->ports);
    for (guint i = 0; i < infos->len; i++) {
        struct device_info *info = infos->pdata[i];
        if (info->address)
            continue;
        unsigned port = 1;
        for (;; port++) {
            g_autofree char *key = g_strdup_printf("0:%u", port);
            if (port > nports) {
                err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                        "no free port left on USB controller '%s' (%u ports); use a controller "
                        "with more, such as model 'qemu-xhci'",
                        usb->model ? usb->model : "", nports);
                return FALSE;
            }
            if (g_hash_table_add(used, g_steal_pointer(&key)))
                break;
        }
        char p[16];
        g_snprintf(p, sizeof(p), "%u", port);
        info->address = domain_address_new("usb", "bus", "0", "port", p, NULL);
    }
    return TRUE;
}

/* ---- PCI ---- */

static gboolean
bus_takes(const struct bus *bus, enum conn conn)
{
    switch (bus->kind) {
    case BUS_PCI_ROOT:
    case BUS_BRIDGE:
        return conn == CONN_PCI || conn == CONN_PCIE;
    case BUS_PCIE_ROOT:
        return TRUE;
    case BUS_ROOT_PORT:
        return conn == CONN_PCIE;
    }
    return FALSE;
}

static unsigned
bus_min_slot(const struct bus *bus)
{
    return bus->kind == BUS_ROOT_PORT ? 0 : 1;
}

static unsigned
bus_max_slot(const struct bus *bus)
{
    return bus->kind == BUS_ROOT_PORT ? 0 : PCI_ADDRESS_SLOT_MAX;
}

static const char *
conn_to_string(enum conn conn)
{
    switch (conn) {
    case CONN_PCI:
        return "a PCI device";
    case CONN_PCIE:
        return "a PCI Express device";
    case CONN_ROOT_PORT:
        return "a pcie-root-port";
    case CONN_NONE:
        break;
    }
    return "a device";
}

/* Marks ADDR as taken by LABEL after checking it, as libvirt's
 * virDomainPCIAddressReserveAddr does. */
static gboolean
reserve(struct set *set, const struct pci_address *addr, enum conn conn, const char *label,
        GError **error)
{
    g_autofree char *str = pci_address_to_string(addr);
    const struct bus *bus = &set->buses[addr->bus];
    if (addr->domain != 0) {
        err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                "%s: invalid PCI address %s; only PCI domain 0 exists", label, str);
        return FALSE;
    }
    if (addr->bus > 255 || !bus->present) {
        err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                "%s: PCI address %s names bus %u, which no PCI controller of this domain "
                "provides; add <controller type='pci' index='%u' model='%s'/>",
                label, str, addr->bus, addr->bus, set->q35 ? "pcie-root-port" : "pci-bridge");
        return FALSE;
    }
    if (addr->slot < bus_min_slot(bus) || addr->slot > bus_max_slot(bus)) {
        err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                "%s: invalid PCI address %s; slot must be %u to %u on bus %u", label, str,
                bus_min_slot(bus), bus_max_slot(bus), addr->bus);
        return FALSE;
    }
    if (conn != CONN_NONE && !bus_takes(bus, conn)) {
        err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                "%s at PCI address %s cannot be plugged into the PCI controller with index %u: "
                "it is %s and the controller does not take one",
                label, str, addr->bus, conn_to_string(conn));
        return FALSE;
    }
    guint key = addr->bus << 8 | addr->slot << 3 | addr->function;
    const char *other = g_hash_table_lookup(set->owners, GUINT_TO_POINTER(key));
    if (other) {
        err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                "Attempted double use of PCI Address %s (by %s and %s)", str, other, label);
        return FALSE;
    }
    struct bus *b = &set->buses[addr->bus];
    b->ports[addr->slot] =
        (conn == CONN_ROOT_PORT) && (b->functions[addr->slot] == 0 || b->ports[addr->slot]);
    b->functions[addr->slot] |= (uint8_t)(1u << addr->function);
    g_hash_table_insert(set->owners, GUINT_TO_POINTER(key), (gpointer)label);
    return TRUE;
}

static void
set_pci(struct device_info *info, const struct pci_address *addr)
{
    domain_address_free(info->address);
    info->address = domain_address_new_pci(addr);
}

/* How much a bus is preferred for a device of CONN: 0 first; -1 never. On pc the root bus
 * comes first, bridges when it is full. On q35 Express endpoints go to root ports (never
 * onto the root bus, where nothing is hot-pluggable) and conventional devices to bridges,
 * then to the root bus. */
static int
bus_rank(const struct set *set, const struct bus *bus, enum conn conn)
{
    if (!bus->present || !bus_takes(bus, conn))
        return -1;
    gboolean root = bus->kind == BUS_PCI_ROOT || bus->kind == BUS_PCIE_ROOT;
    if (!set->q35)
        return root ? 0 : 1;
    if (conn == CONN_PCIE)
        return bus->kind == BUS_ROOT_PORT ? 0 : root ? -1 : 1;
    return root ? 1 : 0;
}

/* The first slot, on the most preferred bus up to MAX_BUS that takes CONN, with every
 * function free. */
static gboolean
find_free_slot(struct set *set, enum conn conn, unsigned max_bus, struct pci_address *ret)
{
    for (int rank = 0; rank <= 1; rank++) {
        for (unsigned b = 0; b <= max_bus; b++) {
            struct bus *bus = &set->buses[b];
            if (bus_rank(set, bus, conn) != rank)
                continue;
            for (unsigned s = bus_min_slot(bus); s <= bus_max_slot(bus); s++) {
                if (!bus->functions[s]) {
                    *ret = (struct pci_address){.bus = b, .slot = s};
                    return TRUE;
                }
            }
        }
    }
    return FALSE;
}

static gboolean
assign_next(struct set *set, struct pdev *dev, GError **error)
{
    struct pci_address addr = {0};
    if (dev->conn == CONN_ROOT_PORT) {
        /* root ports gather eight to a slot of the root bus, function 0 multifunction */
        struct bus *root = &set->buses[0];
        gboolean found = FALSE;
        for (unsigned s = 1; s <= PCI_ADDRESS_SLOT_MAX && !found; s++) {
            if (root->functions[s] == 0 || (root->ports[s] && root->functions[s] != 0xff)) {
                unsigned f = 0;
                while (root->functions[s] & (1u << f))
                    f++;
                addr = (struct pci_address){.slot = s, .function = f};
                if (f == 0)
                    addr.multi = DOMAIN_TRISTATE_YES;
                found = TRUE;
            }
        }
        if (!found) {
            err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                    "no free slot on the root bus for %s; remove some devices", dev->label);
            return FALSE;
        }
    } else if (dev->usb2) {
        /* the companions of one USB2 controller share a slot: ehci1 is function 7, uhci1-3
         * functions 0-2 (uhci1 multifunction) */
        const char *m = dev->usb2->model;
        unsigned f = g_str_equal(m, "ich9-ehci1") ? 7 : (unsigned)(m[strlen(m) - 1] - '1');
        gboolean found = FALSE;
        for (guint i = 0; i < set->def->controllers->len && !found; i++) {
            struct controller_def *o = set->def->controllers->pdata[i];
            if (o != dev->usb2 && g_str_equal(o->type, "usb") && o->index == dev->usb2->index &&
                is_usb2_companion(o->model) && domain_address_is(o->info.address, "pci")) {
                domain_address_to_pci(o->info.address, &addr);
                found = TRUE;
            }
        }
        if (!found && !find_free_slot(set, CONN_PCI, dev->max_bus, &addr)) {
            err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR, "no free PCI slot left for %s",
                    dev->label);
            return FALSE;
        }
        addr.function = f;
        addr.multi = f == 0 ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_ABSENT;
    } else if (!find_free_slot(set, dev->conn, dev->max_bus, &addr)) {
        err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "no free PCI slot left for %s; add a <controller type='pci' model='%s'/>",
                dev->label, set->q35 ? "pcie-root-port" : "pci-bridge");
        return FALSE;
    }
    if (!reserve(set, &addr, dev->conn, dev->label, error))
        return FALSE;
    set_pci(dev->info, &addr);
    return TRUE;
}

static char *
controller_label(const struct controller_def *c)
{
    if (g_str_equal(c->type, "pci") && c->model && g_str_equal(c->model, "pcie-root-port"))
        return g_strdup_printf("root port %d", c->index);
    return g_strdup_printf("controller '%s' index %d", c->type, c->index);
}

/* Every PCI device of DEF in libvirt's order of assignment. */
static void
collect(struct set *set)
{
    struct domain_def *def = set->def;
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "pci") && c->index > 0)
            add_dev(set, &c->info, controller_conn(def, c), controller_label(c))->max_bus =
                (unsigned)c->index - 1;
    }
    set->npci = set->devs->len;
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *n = def->nets->pdata[i];
        const char *m = n->model ? n->model : "rtl8139";
        add_dev(set, &n->info,
                is_virtio_model(m) || g_str_equal(m, "e1000e") ? CONN_PCIE : CONN_PCI,
                g_strdup_printf("interface %02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
                                n->mac[2], n->mac[3], n->mac[4], n->mac[5]));
    }
    for (guint i = 0; i < def->sounds->len; i++) {
        struct sound_def *s = def->sounds->pdata[i];
        if (!g_str_equal(s->model, "sb16") && !g_str_equal(s->model, "usb"))
            add_dev(set, &s->info, CONN_PCI, g_strdup_printf("sound '%s'", s->model));
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "pci") || g_str_equal(c->type, "ide") ||
            (g_str_equal(c->type, "usb") && c->model && g_str_equal(c->model, "none")))
            continue;
        struct pdev *dev = add_dev(set, &c->info, controller_conn(def, c), controller_label(c));
        if (g_str_equal(c->type, "usb") && is_usb2_companion(c->model))
            dev->usb2 = c;
    }
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (d->bus == DISK_BUS_VIRTIO)
            add_dev(set, &d->info, CONN_PCIE, g_strdup_printf("disk '%s'", d->target_dev));
    }
    /* libvirt reads the host device's config space to tell; when it cannot, it assumes PCI
     * Express, as most assignable devices are: so do we, without looking */
    for (guint i = 0; i < def->hostdevs->len; i++) {
        struct hostdev_def *h = def->hostdevs->pdata[i];
        add_dev(set, &h->info, CONN_PCIE,
                g_strdup_printf("hostdev %04x:%02x:%02x.%x", h->source.domain, h->source.bus,
                                h->source.slot, h->source.function));
    }
    if (def->memballoon && !g_str_equal(def->memballoon->model, "none"))
        add_dev(set, &def->memballoon->info,
                g_str_equal(def->memballoon->model, "virtio-transitional") ? CONN_PCI : CONN_PCIE,
                g_strdup("memballoon"));
    for (guint i = 0; i < def->rngs->len; i++) {
        struct rng_def *r = def->rngs->pdata[i];
        add_dev(set, &r->info, is_virtio_model(r->model) ? CONN_PCIE : CONN_PCI,
                g_strdup_printf("rng %u", i));
    }
    for (guint i = 0; i < def->videos->len; i++) {
        struct video_def *v = def->videos->pdata[i];
        if (video_conn(v) != CONN_NONE)
            add_dev(set, &v->info, video_conn(v), g_strdup_printf("video %u", i));
    }
    for (guint i = 0; i < def->inputs->len; i++) {
        struct input_def *in = def->inputs->pdata[i];
        if (in->bus == INPUT_BUS_VIRTIO)
            add_dev(set, &in->info, CONN_PCIE,
                    g_strdup_printf("input '%s'", input_type_to_string(in->type)));
    }
    for (guint i = 0; i < def->memdevs->len; i++) {
        struct memdev_def *m = def->memdevs->pdata[i];
        if (m->model == MEMDEV_VIRTIO_MEM)
            add_dev(set, &m->info, CONN_PCIE, g_strdup_printf("virtio-mem device %u", i));
    }
}

/* The functions of the chipset: libvirt's qemuDomainValidateDevicePCISlotsPIIX3 / Q35. The
 * controllers built into the machine get their fixed addresses, which are reserved with the
 * other given addresses; the rest of the chipset is reserved here. */
static gboolean
reserve_chipset(struct set *set, GError **error)
{
    struct domain_def *def = set->def;
    struct {
        const char *type;
        const char *model; /* NULL: any */
        struct pci_address addr;
    } fixed[2];
    guint nfixed = 0;
    if (set->q35) {
        fixed[nfixed++] = (typeof(fixed[0])){"sata", NULL, {.slot = 0x1f, .function = 2}};
    } else {
        fixed[nfixed++] = (typeof(fixed[0])){"ide", NULL, {.slot = 1, .function = 1}};
        fixed[nfixed++] = (typeof(fixed[0])){"usb", "piix3-uhci", {.slot = 1, .function = 2}};
    }
    for (guint i = 0; i < nfixed; i++) {
        struct controller_def *c = find_controller(def, fixed[i].type, 0);
        if (!c || (fixed[i].model && !(c->model && g_str_equal(c->model, fixed[i].model))))
            continue;
        if (c->info.address) {
            struct pci_address given;
            if (!domain_address_is(c->info.address, "pci")) {
                err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                        "controller '%s' index 0 needs an address of type 'pci'", c->type);
                return FALSE;
            }
            domain_address_to_pci(c->info.address, &given);
            if (given.bus != 0 || given.slot != fixed[i].addr.slot ||
                given.function != fixed[i].addr.function) {
                g_autofree char *want = pci_address_to_string(&fixed[i].addr);
                err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                        "controller '%s' index 0 is built into machine '%s' at PCI address %s",
                        c->type, qemu_command_machine(def), want);
                return FALSE;
            }
        } else {
            set_pci(&c->info, &fixed[i].addr);
        }
    }
    /* what the machine has whatever the definition says: the ISA bridge, the PM or SMBus
     * function, and the PIIX3's IDE controller (the ide controller is no PCI device of ours,
     * so its function is reserved here) */
    struct pci_address isa = {.slot = set->q35 ? 0x1f : 1};
    struct pci_address pm = {.slot = set->q35 ? 0x1f : 1, .function = 3};
    struct pci_address ide = {.slot = 1, .function = 1};
    return reserve(set, &isa, CONN_NONE, "the chipset's ISA bridge", error) &&
           reserve(set, &pm, CONN_NONE, set->q35 ? "the chipset's SMBus" : "the chipset's PM",
                   error) &&
           (set->q35 || reserve(set, &ide, CONN_NONE, "controller 'ide' index 0", error));
}

static gboolean
reserve_given(struct set *set, GError **error)
{
    struct domain_def *def = set->def;
    for (guint i = 0; i < set->devs->len; i++) {
        struct pdev *dev = set->devs->pdata[i];
        if (!dev->info->address)
            continue;
        if (!domain_address_is(dev->info->address, "pci")) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "%s is a PCI device and cannot have an address of type '%s'", dev->label,
                    dev->info->address->type);
            return FALSE;
        }
        struct pci_address addr;
        domain_address_to_pci(dev->info->address, &addr);
        if (!reserve(set, &addr, dev->conn, dev->label, error))
            return FALSE;
    }
    /* a PCI controller sits on a bus of lower index, so QEMU can build them in order */
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (!g_str_equal(c->type, "pci") || c->index == 0 ||
            !domain_address_is(c->info.address, "pci"))
            continue;
        struct pci_address addr;
        domain_address_to_pci(c->info.address, &addr);
        if ((int)addr.bus >= c->index) {
            err_set(error, ERR_FROM_QEMU, ERR_XML_ERROR,
                    "PCI controller index %d sits on bus %u; it must sit on a bus of lower index",
                    c->index, addr.bus);
            return FALSE;
        }
    }
    return TRUE;
}

/* The primary video at 00:02.0 (pc) or 00:01.0 (q35), where QEMU's firmware expects it. */
static gboolean
reserve_primary_video(struct set *set, GError **error)
{
    if (!set->def->videos->len)
        return TRUE;
    struct video_def *v = set->def->videos->pdata[0];
    if (v->info.address || video_conn(v) == CONN_NONE)
        return TRUE;
    struct pci_address addr = {.slot = set->q35 ? 1 : 2};
    if (set->buses[0].functions[addr.slot])
        return TRUE; /* taken: the video gets the next free slot with the others */
    if (!reserve(set, &addr, CONN_NONE, "video 0", error))
        return FALSE;
    set_pci(&v->info, &addr);
    return TRUE;
}

/* q35: the first ICH9 sound card at 00:1b.0, where real Q35 boards have their HDA. */
static gboolean
reserve_ich9_sound(struct set *set, GError **error)
{
    struct pci_address addr = {.slot = 0x1b};
    if (!set->q35 || set->buses[0].functions[addr.slot])
        return TRUE;
    for (guint i = 0; i < set->def->sounds->len; i++) {
        struct sound_def *s = set->def->sounds->pdata[i];
        if (g_str_equal(s->model, "ich9") && !s->info.address) {
            if (!reserve(set, &addr, CONN_NONE, "sound 'ich9'", error))
                return FALSE;
            set_pci(&s->info, &addr);
            break;
        }
    }
    return TRUE;
}

/* q35: a root port for every Express device that will need one. */
static void
add_root_ports(struct set *set)
{
    struct domain_def *def = set->def;
    unsigned want = 0, free_ports = 0;
    for (guint i = 0; i < set->devs->len; i++) {
        struct pdev *dev = set->devs->pdata[i];
        if (!dev->info->address && dev->conn == CONN_PCIE)
            want++;
    }
    int max_index = 0;
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (!g_str_equal(c->type, "pci"))
            continue;
        max_index = MAX(max_index, c->index);
        if (g_str_equal(c->model, "pcie-root-port") && !set->buses[c->index].functions[0])
            free_ports++;
    }
    for (; free_ports < want; free_ports++) {
        int index = ++max_index;
        struct controller_def *c = add_controller(def, "pci", index, "pcie-root-port");
        c->model_name = g_strdup("pcie-root-port");
        c->target_chassis = index;
        set->buses[index] = (struct bus){.present = TRUE, .kind = BUS_ROOT_PORT};
        /* assigned with the other PCI controllers, before any device */
        struct pdev *dev = g_new0(struct pdev, 1);
        dev->info = &c->info;
        dev->conn = CONN_ROOT_PORT;
        dev->label = controller_label(c);
        dev->max_bus = 0;
        g_ptr_array_insert(set->devs, (gint)set->npci++, dev);
    }
}

static void
build_buses(struct set *set)
{
    for (guint i = 0; i < set->def->controllers->len; i++) {
        struct controller_def *c = set->def->controllers->pdata[i];
        if (!g_str_equal(c->type, "pci") || c->index < 0 || c->index > 255)
            continue;
        enum bus_kind kind = g_str_equal(c->model, "pci-root")         ? BUS_PCI_ROOT
                             : g_str_equal(c->model, "pcie-root")      ? BUS_PCIE_ROOT
                             : g_str_equal(c->model, "pcie-root-port") ? BUS_ROOT_PORT
                                                                       : BUS_BRIDGE;
        set->buses[c->index] = (struct bus){.present = TRUE, .kind = kind};
    }
}

/* A root port's port number follows its address, as libvirt sets it: slot << 3 | function. */
static void
fill_root_port_targets(struct domain_def *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (!g_str_equal(c->type, "pci") || !g_str_equal(c->model, "pcie-root-port") ||
            c->target_port || !domain_address_is(c->info.address, "pci"))
            continue;
        struct pci_address addr;
        domain_address_to_pci(c->info.address, &addr);
        c->target_port = g_strdup_printf("0x%x", addr.slot << 3 | addr.function);
    }
}

/* Memory modules without a slot get the lowest free one (the count was checked at parse) */
static gboolean
assign_dimm_slots(struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->memdevs->len; i++) {
        struct memdev_def *m = def->memdevs->pdata[i];
        if (m->model != MEMDEV_DIMM || domain_def_memdev_slot(m) >= 0)
            continue;
        unsigned slot = 0;
        for (gboolean taken = TRUE; taken && slot < def->max_memory_slots;) {
            taken = FALSE;
            for (guint j = 0; j < def->memdevs->len && !taken; j++)
                taken = domain_def_memdev_slot(def->memdevs->pdata[j]) == (int)slot;
            if (taken)
                slot++;
        }
        if (slot >= def->max_memory_slots) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "no free memory slot for a memory device: all %u are taken; raise "
                    "<maxMemory slots>",
                    def->max_memory_slots);
            return FALSE;
        }
        domain_address_free(m->info.address);
        m->info.address = g_new0(struct domain_address, 1);
        m->info.address->type = g_strdup("dimm");
        const char *keys[] = {"slot", NULL};
        g_autofree char *value = g_strdup_printf("%u", slot);
        const char *values[] = {value, NULL};
        m->info.address->keys = g_strdupv((char **)keys);
        m->info.address->values = g_strdupv((char **)values);
    }
    return TRUE;
}

gboolean
qemu_address_assign(struct domain_def *def, GError **error)
{
    gboolean q35 = qemu_address_is_q35(def);
    if (!add_defaults(def, q35, error) || !assign_drives(def, q35, error) ||
        !assign_virtio_serial(def, error) || !assign_usb(def, error) ||
        !assign_dimm_slots(def, error))
        return FALSE;

    struct set *set = g_new0(struct set, 1);
    set->def = def;
    set->q35 = q35;
    set->owners = g_hash_table_new(g_direct_hash, g_direct_equal);
    set->devs = g_ptr_array_new_with_free_func((GDestroyNotify)pdev_free);
    build_buses(set);
    collect(set);
    gboolean ok = reserve_chipset(set, error) && reserve_given(set, error) &&
                  reserve_primary_video(set, error) && reserve_ich9_sound(set, error);
    if (ok && q35)
        add_root_ports(set);
    for (guint i = 0; ok && i < set->devs->len; i++) {
        struct pdev *dev = set->devs->pdata[i];
        if (!dev->info->address)
            ok = assign_next(set, dev, error);
    }
    if (ok)
        fill_root_port_targets(def);
    g_hash_table_unref(set->owners);
    g_ptr_array_unref(set->devs);
    g_free(set);
    return ok;
}
