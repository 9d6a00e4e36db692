/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* device: one JSON property object per device, for the command line and for QMP alike.
 * Property names and types are QEMU's (qdev properties: numbers as numbers, booleans as
 * booleans), which QEMU's JSON option syntax checks strictly. */
#include "qemu/device.h"

#include "qemu/address.h"
#include "qemu/alias.h"
#include "util/cpuset.h"
#include "util/err.h"

char *
qemu_device_json(JsonObject *obj)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    return json_to_string(node, FALSE);
}

char *
qemu_device_node_format(unsigned index)
{
    return g_strdup_printf("domus-%u-format", index);
}

char *
qemu_device_node_storage(unsigned index)
{
    return g_strdup_printf("domus-%u-storage", index);
}

char *
qemu_device_chardev_id(const struct chr_def *chr)
{
    return g_strdup_printf("char%s", chr->info.alias);
}

static JsonObject *
new_device(const char *driver, const char *id)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "driver", driver);
    if (id)
        json_object_set_string_member(o, "id", id);
    return o;
}

/* "bus", "addr" and "multifunction" from a PCI address. */
static void
set_pci(JsonObject *o, const struct domain_def *def, const struct device_info *info)
{
    if (!domain_address_is(info->address, "pci"))
        return;
    struct pci_address a;
    domain_address_to_pci(info->address, &a);
    const char *bus = qemu_alias_pci_bus(def, a.bus);
    json_object_set_string_member(o, "bus", bus ? bus : "pci.0");
    if (a.multi != DOMAIN_TRISTATE_ABSENT)
        json_object_set_boolean_member(o, "multifunction", a.multi == DOMAIN_TRISTATE_YES);
    g_autofree char *addr = a.function ? g_strdup_printf("0x%x.0x%x", a.slot, a.function)
                                       : g_strdup_printf("0x%x", a.slot);
    json_object_set_string_member(o, "addr", addr);
}

/* "bus" and "port" from a USB address */
static void
set_usb(JsonObject *o, const struct domain_def *def, const struct device_info *info)
{
    unsigned bus = domain_address_get_uint(info->address, "bus", 0);
    const char *ctrl = qemu_alias_controller(def, "usb", bus);
    g_autofree char *b = g_strdup_printf("%s.0", ctrl ? ctrl : "usb");
    json_object_set_string_member(o, "bus", b);
    const char *port = domain_address_get(info->address, "port");
    if (port)
        json_object_set_string_member(o, "port", port);
}

/* The QEMU device of a virtio model: "virtio-X-pci", "-transitional" or "-non-transitional". */
static char *
virtio_driver(const char *base, const char *model)
{
    if (model && g_str_equal(model, "virtio-transitional"))
        return g_strdup_printf("%s-pci-transitional", base);
    if (model && g_str_equal(model, "virtio-non-transitional"))
        return g_strdup_printf("%s-pci-non-transitional", base);
    return g_strdup_printf("%s-pci", base);
}

/* ---- disks ---- */

unsigned
qemu_device_next_image(const struct domain_def *def)
{
    unsigned next = 1;
    for (guint i = 0; i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        next = MAX(next, d->source_index + 1);
        for (guint j = 0; d->backing && j < d->backing->len; j++)
            next = MAX(next, ((struct disk_layer *)d->backing->pdata[j])->index + 1);
        if (d->mirror)
            next = MAX(next, d->mirror->index + 1);
    }
    return next;
}

void
qemu_device_number_images(struct domain_def *def)
{
    unsigned next = qemu_device_next_image(def);
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (!d->source)
            continue;
        if (!d->source_index)
            d->source_index = next++;
        for (guint j = 0; d->backing && j < d->backing->len; j++) {
            struct disk_layer *l = d->backing->pdata[j];
            if (!l->index)
                l->index = next++;
        }
    }
}

static gboolean
format_has_backing(enum disk_format format)
{
    return format == DISK_FORMAT_QCOW2;
}

/* cache= as libvirt maps it: whether the guest sees a write cache, whether the images are
 * opened with O_DIRECT, whether flushes are dropped. FALSE for no cache mode (QEMU's own). */
static gboolean
cache_mode(const char *cache, gboolean *writeback, gboolean *direct, gboolean *no_flush)
{
    if (!cache)
        return FALSE;
    *writeback = !g_str_equal(cache, "writethrough") && !g_str_equal(cache, "directsync");
    *direct = g_str_equal(cache, "none") || g_str_equal(cache, "directsync");
    *no_flush = g_str_equal(cache, "unsafe");
    return TRUE;
}

static void
set_cache(JsonObject *node, const struct disk_def *d)
{
    gboolean writeback, direct, no_flush;
    if (!cache_mode(d->cache, &writeback, &direct, &no_flush))
        return;
    JsonObject *cache = json_object_new();
    json_object_set_boolean_member(cache, "direct", direct);
    json_object_set_boolean_member(cache, "no-flush", no_flush);
    json_object_set_object_member(node, "cache", cache);
}

/* The protocol node and the format node of one image, in libvirt's member order. BACKING: the
 * format node below it; NULL with PROBED: nothing below (QEMU must not open what the image
 * header names). AIO: the I/O engine of the protocol node (the disk's io=, else the host's
 * default; NULL: QEMU's). The protocol node passes discards on; the disk's discard= decides
 * on the format node whether the guest's reach it. */
static void
add_image(GPtrArray *out, const struct disk_def *d, enum disk_type type, const char *path,
          enum disk_format format, unsigned index, gboolean top, const char *backing,
          gboolean probed, const char *aio)
{
    g_autofree char *storage = qemu_device_node_storage(index);
    g_autofree char *fmt = qemu_device_node_format(index);
    gboolean cdrom = d->device == DISK_DEVICE_CDROM;

    JsonObject *proto = json_object_new();
    json_object_set_string_member(
        proto, "driver", type == DISK_TYPE_BLOCK ? (cdrom ? "host_cdrom" : "host_device") : "file");
    json_object_set_string_member(proto, "filename", path);
    if (d->io || aio)
        json_object_set_string_member(proto, "aio", d->io ? d->io : aio);
    json_object_set_string_member(proto, "node-name", storage);
    set_cache(proto, d);
    json_object_set_boolean_member(proto, "auto-read-only", TRUE);
    json_object_set_string_member(proto, "discard", "unmap");
    g_ptr_array_add(out, proto);

    JsonObject *f = json_object_new();
    json_object_set_string_member(f, "node-name", fmt);
    json_object_set_boolean_member(f, "read-only", !top || d->readonly || cdrom);
    if (d->discard)
        json_object_set_string_member(f, "discard", d->discard);
    if (top && d->detect_zeroes) {
        /* as libvirt: unmapping zeroes needs discards passed on */
        gboolean unmap =
            g_str_equal(d->detect_zeroes, "unmap") && g_strcmp0(d->discard, "unmap") != 0;
        json_object_set_string_member(f, "detect-zeroes", unmap ? "on" : d->detect_zeroes);
    }
    set_cache(f, d);
    json_object_set_string_member(f, "driver", format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
    json_object_set_string_member(f, "file", storage);
    if (format_has_backing(format)) {
        if (backing)
            json_object_set_string_member(f, "backing", backing);
        else if (probed)
            json_object_set_null_member(f, "backing");
    }
    g_ptr_array_add(out, f);
}

GPtrArray *
qemu_device_disk_blockdevs(const struct disk_def *disk, const char *aio)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    if (!disk->source)
        return out;
    guint n = disk->backing ? disk->backing->len : 0;
    for (guint i = n; i-- > 0;) {
        const struct disk_layer *l = disk->backing->pdata[i];
        g_autofree char *below =
            i + 1 < n
                ? qemu_device_node_format(((struct disk_layer *)disk->backing->pdata[i + 1])->index)
                : NULL;
        add_image(out, disk, l->type, l->path, l->format, l->index, FALSE, below, TRUE, aio);
    }
    g_autofree char *below =
        n ? qemu_device_node_format(((struct disk_layer *)disk->backing->pdata[0])->index) : NULL;
    add_image(out, disk, disk->type == DISK_TYPE_BLOCK ? DISK_TYPE_BLOCK : DISK_TYPE_FILE,
              disk->source, disk->format, disk->source_index, TRUE, below, disk->backing != NULL,
              aio);
    return out;
}

GPtrArray *
qemu_device_image_blockdevs(const struct disk_def *disk, enum disk_type type, const char *path,
                            enum disk_format format, unsigned index, const char *backing,
                            const char *aio)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    add_image(out, disk, type, path, format, index, TRUE, backing, TRUE, aio);
    return out;
}

GPtrArray *
qemu_device_overlay_blockdevs(const struct disk_def *disk, const char *path, unsigned index,
                              const char *aio)
{
    return qemu_device_image_blockdevs(disk, DISK_TYPE_FILE, path, DISK_FORMAT_QCOW2, index, NULL,
                                       aio);
}

static const char *
scsi_model(const struct domain_def *def, unsigned index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "scsi") && c->index == (int)index)
            return c->model ? c->model : "virtio-scsi";
    }
    return "virtio-scsi";
}

JsonObject *
qemu_device_disk(const struct domain_def *def, const struct disk_def *d, GError **error)
{
    gboolean cdrom = d->device == DISK_DEVICE_CDROM;
    const struct domain_address *a = d->info.address;
    unsigned controller = domain_address_get_uint(a, "controller", 0);
    unsigned bus = domain_address_get_uint(a, "bus", 0);
    unsigned target = domain_address_get_uint(a, "target", 0);
    unsigned unit = domain_address_get_uint(a, "unit", 0);
    JsonObject *o;
    switch (d->bus) {
    case DISK_BUS_VIRTIO:
        if (cdrom) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': a cdrom cannot sit on bus 'virtio'; use 'ide', 'sata' or 'scsi'",
                    d->target_dev);
            return NULL;
        }
        o = new_device("virtio-blk-pci", NULL);
        if (d->iothread) {
            g_autofree char *t = g_strdup_printf("iothread%u", d->iothread);
            json_object_set_string_member(o, "iothread", t);
        }
        if (d->queues)
            json_object_set_int_member(o, "num-queues", d->queues);
        if (d->queue_size)
            json_object_set_int_member(o, "queue-size", d->queue_size);
        for (gsize i = 0; i < DISK_DRIVER_SWITCHES; i++)
            if (d->switches[i] != DOMAIN_TRISTATE_ABSENT)
                json_object_set_boolean_member(o, disk_driver_switch_props[i],
                                               d->switches[i] == DOMAIN_TRISTATE_YES);
        set_pci(o, def, &d->info);
        break;
    case DISK_BUS_IDE: {
        o = new_device(cdrom ? "ide-cd" : "ide-hd", NULL);
        g_autofree char *b = g_strdup_printf("ide.%u", bus);
        json_object_set_string_member(o, "bus", b);
        json_object_set_int_member(o, "unit", unit);
        break;
    }
    case DISK_BUS_SATA: {
        /* an AHCI controller has one bus per port */
        const char *ctrl = qemu_alias_controller(def, "sata", controller);
        g_autofree char *b = g_strdup_printf("%s.%u", ctrl ? ctrl : "ide", unit);
        o = new_device(cdrom ? "ide-cd" : "ide-hd", NULL);
        json_object_set_string_member(o, "bus", b);
        break;
    }
    case DISK_BUS_SCSI: {
        const char *ctrl = qemu_alias_controller(def, "scsi", controller);
        g_autofree char *b = g_strdup_printf("%s.0", ctrl ? ctrl : "scsi0");
        o = new_device(cdrom ? "scsi-cd" : "scsi-hd", NULL);
        json_object_set_string_member(o, "bus", b);
        if (g_str_equal(scsi_model(def, controller), "lsilogic")) {
            json_object_set_int_member(o, "scsi-id", unit);
        } else {
            json_object_set_int_member(o, "channel", bus);
            json_object_set_int_member(o, "scsi-id", target);
            json_object_set_int_member(o, "lun", unit);
        }
        break;
    }
    case DISK_BUS_USB: {
        /* as libvirt: not removable unless asked */
        o = new_device("usb-storage", NULL);
        set_usb(o, def, &d->info);
        json_object_set_boolean_member(o, "removable", d->removable == DOMAIN_TRISTATE_YES);
        break;
    }
    default:
        g_assert_not_reached();
    }
    if (d->source) {
        g_autofree char *node = qemu_device_node_format(d->source_index);
        json_object_set_string_member(o, "drive", node);
    }
    json_object_set_string_member(o, "id", d->info.alias);
    gboolean writeback, direct, no_flush;
    if (cache_mode(d->cache, &writeback, &direct, &no_flush))
        json_object_set_string_member(o, "write-cache", writeback ? "on" : "off");
    /* as libvirt: the read policy follows the write policy unless that is enospace */
    const char *werror = d->error_policy;
    const char *rerror = d->rerror_policy;
    if (!rerror && werror && !g_str_equal(werror, "enospace"))
        rerror = werror;
    if (werror)
        json_object_set_string_member(o, "werror",
                                      g_str_equal(werror, "enospace") ? "enospc" : werror);
    if (rerror)
        json_object_set_string_member(o, "rerror", rerror);
    if (d->serial)
        json_object_set_string_member(o, "serial", d->serial);
    if (d->boot_order)
        json_object_set_int_member(o, "bootindex", d->boot_order);
    return o;
}

/* ---- interfaces ---- */

gboolean
qemu_device_net_has_tap(const struct net_def *net)
{
    return net->type != NET_TYPE_USER;
}

char *
qemu_device_netdev_id(const struct net_def *net)
{
    return g_strdup_printf("host%s", net->info.alias);
}

JsonObject *
qemu_device_netdev(const struct net_def *net, int tap_fd, GError **error)
{
    g_autofree char *fd = tap_fd >= 0 ? g_strdup_printf("%d", tap_fd) : NULL;
    return qemu_device_netdev_named(net, fd, error);
}

JsonObject *
qemu_device_netdev_named(const struct net_def *net, const char *tap_fd, GError **error)
{
    g_autofree char *id = qemu_device_netdev_id(net);
    JsonObject *o = json_object_new();
    if (!qemu_device_net_has_tap(net)) {
        json_object_set_string_member(o, "type", "user");
    } else if (tap_fd) {
        /* the daemon made the tap (and put it on its bridge): QEMU needs no privilege and no
         * helper, as with libvirt */
        json_object_set_string_member(o, "type", "tap");
        json_object_set_string_member(o, "fd", tap_fd);
    } else {
        json_object_unref(o);
        err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "interface '%s' of type '%s' has no tap to give QEMU", net->info.alias,
                net_type_to_string(net->type));
        return NULL;
    }
    json_object_set_string_member(o, "id", id);
    return o;
}

JsonObject *
qemu_device_net(const struct domain_def *def, const struct net_def *net, GError **error)
{
    const char *model = net->model ? net->model : "rtl8139";
    g_autofree char *driver = NULL;
    if (g_str_equal(model, "virtio") || g_str_has_prefix(model, "virtio-"))
        driver = virtio_driver("virtio-net", model);
    else if (g_str_equal(model, "e1000") || g_str_equal(model, "e1000e") ||
             g_str_equal(model, "rtl8139"))
        driver = g_strdup(model);
    else {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "interface model '%s' is not supported; use 'virtio', 'e1000', 'e1000e' or "
                "'rtl8139'",
                model);
        return NULL;
    }
    g_autofree char *netdev = qemu_device_netdev_id(net);
    g_autofree char *mac =
        g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", net->mac[0], net->mac[1], net->mac[2],
                        net->mac[3], net->mac[4], net->mac[5]);
    JsonObject *o = new_device(driver, NULL);
    json_object_set_string_member(o, "netdev", netdev);
    json_object_set_string_member(o, "id", net->info.alias);
    json_object_set_string_member(o, "mac", mac);
    set_pci(o, def, &net->info);
    if (net->boot_order)
        json_object_set_int_member(o, "bootindex", net->boot_order);
    return o;
}

/* ---- controllers ---- */

static JsonObject *
usb_controller(const struct domain_def *def, const struct controller_def *c, GError **error)
{
    static const struct {
        const char *model, *driver;
    } models[] = {
        {"piix3-uhci", "piix3-usb-uhci"},
        {"piix4-uhci", "piix4-usb-uhci"},
        {"ehci", "usb-ehci"},
        {"ich9-ehci1", "ich9-usb-ehci1"},
        {"ich9-uhci1", "ich9-usb-uhci1"},
        {"ich9-uhci2", "ich9-usb-uhci2"},
        {"ich9-uhci3", "ich9-usb-uhci3"},
        {"pci-ohci", "pci-ohci"},
        {"nec-xhci", "nec-usb-xhci"},
        {"qemu-xhci", "qemu-xhci"},
    };
    const char *model = c->model ? c->model : "piix3-uhci";
    if (g_str_equal(model, "none"))
        return NULL;
    const char *driver = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(models); i++)
        if (g_str_equal(models[i].model, model))
            driver = models[i].driver;
    if (!driver) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "USB controller model '%s' is not supported; use 'qemu-xhci', 'nec-xhci', "
                "'piix3-uhci', 'ich9-ehci1' with its 'ich9-uhci' companions, or 'none'",
                model);
        return NULL;
    }
    JsonObject *o;
    if (c->master_startport >= 0) {
        /* a companion of the USB2 controller of the same index: it has no id of its own */
        o = new_device(driver, NULL);
        g_autofree char *master = g_strdup_printf("%s.0", c->info.alias);
        json_object_set_string_member(o, "masterbus", master);
        json_object_set_int_member(o, "firstport", c->master_startport);
    } else {
        o = new_device(driver, NULL);
        if (g_str_has_suffix(model, "xhci") && c->ports) {
            json_object_set_int_member(o, "p2", c->ports);
            json_object_set_int_member(o, "p3", c->ports);
        }
        json_object_set_string_member(o, "id", c->info.alias);
    }
    set_pci(o, def, &c->info);
    return o;
}

static JsonObject *
pci_controller(const struct domain_def *def, const struct controller_def *c)
{
    if (g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root"))
        return NULL;
    JsonObject *o = new_device(c->model_name, NULL);
    if (g_str_equal(c->model, "pcie-root-port")) {
        guint64 port = 0;
        const char *p = c->target_port ? c->target_port : "0";
        gboolean hex = g_str_has_prefix(p, "0x") || g_str_has_prefix(p, "0X");
        g_ascii_string_to_unsigned(hex ? p + 2 : p, hex ? 16 : 10, 0, 255, &port, NULL);
        json_object_set_int_member(o, "port", (gint64)port);
        json_object_set_int_member(o, "chassis", c->target_chassis);
    } else if (g_str_equal(c->model, "pci-bridge")) {
        json_object_set_int_member(o, "chassis_nr", c->target_chassis);
    }
    json_object_set_string_member(o, "id", c->info.alias);
    set_pci(o, def, &c->info);
    return o;
}

JsonObject *
qemu_device_controller(const struct domain_def *def, const struct controller_def *c, GError **error)
{
    JsonObject *o = NULL;
    if (g_str_equal(c->type, "usb"))
        return usb_controller(def, c, error);
    if (g_str_equal(c->type, "pci"))
        return pci_controller(def, c);
    if (g_str_equal(c->type, "ide"))
        return NULL;
    if (g_str_equal(c->type, "sata")) {
        if (c->index == 0 && qemu_address_is_q35(def))
            return NULL;
        o = new_device("ich9-ahci", c->info.alias);
    } else if (g_str_equal(c->type, "scsi")) {
        const char *m = c->model ? c->model : "virtio-scsi";
        g_autofree char *driver = g_str_equal(m, "lsilogic")     ? g_strdup("lsi")
                                  : g_str_equal(m, "lsisas1068") ? g_strdup("mptsas1068")
                                  : g_str_equal(m, "lsisas1078") ? g_strdup("megasas")
                                                                 : virtio_driver("virtio-scsi", m);
        o = new_device(driver, c->info.alias);
    } else if (g_str_equal(c->type, "virtio-serial")) {
        g_autofree char *driver = virtio_driver("virtio-serial", c->model);
        o = new_device(driver, c->info.alias);
    } else {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "controller type '%s' is not supported", c->type);
        return NULL;
    }
    set_pci(o, def, &c->info);
    return o;
}

/* ---- the others ---- */

JsonObject *
qemu_device_input(const struct domain_def *def, const struct input_def *input)
{
    static const char *const usb[] = {"usb-tablet", "usb-mouse", "usb-kbd"};
    static const char *const virtio[] = {"virtio-tablet-pci", "virtio-mouse-pci",
                                         "virtio-keyboard-pci"};
    if (input->bus == INPUT_BUS_PS2)
        return NULL;
    if (input->bus == INPUT_BUS_VIRTIO) {
        JsonObject *o = new_device(virtio[input->type], input->info.alias);
        set_pci(o, def, &input->info);
        return o;
    }
    JsonObject *o = new_device(usb[input->type], input->info.alias);
    set_usb(o, def, &input->info);
    return o;
}

JsonObject *
qemu_device_redirdev(const struct domain_def *def, const struct redirdev_def *r)
{
    JsonObject *o = new_device("usb-redir", r->info.alias);
    g_autofree char *chardev = g_strdup_printf("char%s", r->info.alias);
    json_object_set_string_member(o, "chardev", chardev);
    set_usb(o, def, &r->info);
    return o;
}

JsonObject *
qemu_device_video(const struct domain_def *def, const struct video_def *v, gboolean primary,
                  GError **error)
{
    const char *m = v->model;
    const char *driver = g_str_equal(m, "cirrus")   ? "cirrus-vga"
                         : g_str_equal(m, "vga")    ? "VGA"
                         : g_str_equal(m, "virtio") ? (primary ? "virtio-vga" : "virtio-gpu-pci")
                         : g_str_equal(m, "qxl")    ? (primary ? "qxl-vga" : "qxl")
                         : g_str_equal(m, "bochs")  ? "bochs-display"
                         : g_str_equal(m, "none")   ? ""
                                                    : NULL;
    if (!driver) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "video model '%s' is not supported; use 'vga', 'cirrus', 'virtio', 'qxl', "
                "'bochs' or 'none'",
                m);
        return NULL;
    }
    if (!*driver)
        return NULL;
    JsonObject *o = new_device(driver, v->info.alias);
    /* video RAM in MiB for the VGA-compatible models */
    if (v->vram && (g_str_equal(m, "vga") || g_str_equal(m, "cirrus")))
        json_object_set_int_member(o, "vgamem_mb", v->vram / 1024);
    set_pci(o, def, &v->info);
    return o;
}

GPtrArray *
qemu_device_sound(const struct domain_def *def, const struct sound_def *s, const char *audiodev,
                  GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    const char *m = s->model;
    const char *driver = g_str_equal(m, "ac97")     ? "AC97"
                         : g_str_equal(m, "es1370") ? "ES1370"
                         : g_str_equal(m, "ich6")   ? "intel-hda"
                         : g_str_equal(m, "ich9")   ? "ich9-intel-hda"
                                                    : NULL;
    if (!driver) {
        g_ptr_array_unref(out);
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "sound model '%s' is not supported; use 'ac97', 'ich6', 'ich9' or 'es1370'", m);
        return NULL;
    }
    gboolean hda = g_str_has_suffix(driver, "intel-hda");
    JsonObject *card = new_device(driver, s->info.alias);
    if (!hda)
        json_object_set_string_member(card, "audiodev", audiodev);
    set_pci(card, def, &s->info);
    g_ptr_array_add(out, card);
    if (hda) {
        g_autofree char *id = g_strdup_printf("%s-codec0", s->info.alias);
        g_autofree char *bus = g_strdup_printf("%s.0", s->info.alias);
        JsonObject *codec = new_device("hda-duplex", id);
        json_object_set_string_member(codec, "bus", bus);
        json_object_set_int_member(codec, "cad", 0);
        json_object_set_string_member(codec, "audiodev", audiodev);
        g_ptr_array_add(out, codec);
    }
    return out;
}

JsonObject *
qemu_device_memballoon(const struct domain_def *def, const struct memballoon_def *b)
{
    if (g_str_equal(b->model, "none"))
        return NULL;
    g_autofree char *driver = virtio_driver("virtio-balloon", b->model);
    JsonObject *o = new_device(driver, b->info.alias);
    set_pci(o, def, &b->info);
    return o;
}

static JsonObject *
ram_backend(const char *id, uint64_t kib)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "qom-type", "memory-backend-ram");
    json_object_set_string_member(o, "id", id);
    json_object_set_int_member(o, "size", (gint64)(kib * 1024));
    return o;
}

/* Where the RAM of guest NUMA node NODE (-1: none) lives on the host, as libvirt binds a
 * backend: its <memnode>, else <numatune><memory>; host-nodes and a policy (restrictive: the
 * cpuset cgroup alone binds it) */
static void
bind_backend(JsonObject *o, const struct domain_def *def, int node)
{
    int mode = def->numa_mode;
    const char *nodeset = def->numa_nodeset;
    for (guint i = 0; node >= 0 && i < def->numa_memnodes->len; i++) {
        const struct numa_memnode *m = def->numa_memnodes->pdata[i];
        if ((int)m->cellid == node) {
            mode = m->mode;
            nodeset = m->nodeset;
        }
    }
    static const char *const policies[] = {[NUMATUNE_STRICT] = "bind",
                                           [NUMATUNE_PREFERRED] = "preferred",
                                           [NUMATUNE_INTERLEAVE] = "interleave"};
    struct cpuset set;
    if (!nodeset || mode < 0 || mode >= (int)G_N_ELEMENTS(policies) || !policies[mode] ||
        !cpuset_parse(nodeset, &set, NULL))
        return;
    JsonArray *nodes = json_array_new();
    for (guint n = 0; n < CPUSET_MAX; n++)
        if (cpuset_has(&set, n))
            json_array_add_int_element(nodes, n);
    json_object_set_array_member(o, "host-nodes", nodes);
    json_object_set_string_member(o, "policy", policies[mode]);
}

JsonObject *
qemu_device_dimm_backend(const struct domain_def *def, const struct memdev_def *mem)
{
    g_autofree char *id = g_strdup_printf("mem%s", mem->info.alias);
    JsonObject *o = ram_backend(id, mem->size_kib);
    bind_backend(o, def, mem->node);
    /* what the guest does not plug stays unreserved (libvirt's) */
    if (mem->model == MEMDEV_VIRTIO_MEM)
        json_object_set_boolean_member(o, "reserve", FALSE);
    return o;
}

JsonObject *
qemu_device_numa_backend(const struct domain_def *def, const struct numa_cell_def *cell)
{
    g_autofree char *id = g_strdup_printf("ram-node%u", cell->id);
    JsonObject *o = ram_backend(id, cell->memory_kib);
    bind_backend(o, def, (int)cell->id);
    return o;
}

JsonObject *
qemu_device_dimm(const struct domain_def *def, const struct memdev_def *mem)
{
    g_autofree char *memdev = g_strdup_printf("mem%s", mem->info.alias);
    if (mem->model == MEMDEV_VIRTIO_MEM) {
        /* libvirt's properties, in bytes */
        JsonObject *o = new_device("virtio-mem-pci", NULL);
        if (mem->node >= 0)
            json_object_set_int_member(o, "node", mem->node);
        json_object_set_int_member(o, "block-size", (gint64)mem->block_kib * 1024);
        json_object_set_int_member(o, "requested-size", (gint64)mem->requested_kib * 1024);
        json_object_set_string_member(o, "memdev", memdev);
        json_object_set_string_member(o, "id", mem->info.alias);
        set_pci(o, def, &mem->info);
        return o;
    }
    JsonObject *o = new_device("pc-dimm", NULL);
    if (mem->node >= 0)
        json_object_set_int_member(o, "node", mem->node);
    json_object_set_string_member(o, "memdev", memdev);
    json_object_set_string_member(o, "id", mem->info.alias);
    int slot = domain_def_memdev_slot(mem);
    if (slot >= 0)
        json_object_set_int_member(o, "slot", slot);
    const struct domain_address *a = mem->info.address;
    for (guint i = 0; a && a->keys[i]; i++) {
        guint64 base = 0;
        if (g_str_equal(a->keys[i], "base") && g_str_has_prefix(a->values[i], "0x") &&
            g_ascii_string_to_unsigned(a->values[i] + 2, 16, 0, G_MAXINT64, &base, NULL))
            json_object_set_int_member(o, "addr", (gint64)base);
    }
    return o;
}

/* QMP's names of <iotune>'s fields, in disk_iotune_names' order */
static const char *const iotune_keys[DISK_IOTUNE_FIELDS] = {"bps",
                                                            "bps_rd",
                                                            "bps_wr",
                                                            "iops",
                                                            "iops_rd",
                                                            "iops_wr",
                                                            "bps_max",
                                                            "bps_rd_max",
                                                            "bps_wr_max",
                                                            "iops_max",
                                                            "iops_rd_max",
                                                            "iops_wr_max",
                                                            "iops_size",
                                                            "bps_max_length",
                                                            "bps_rd_max_length",
                                                            "bps_wr_max_length",
                                                            "iops_max_length",
                                                            "iops_rd_max_length",
                                                            "iops_wr_max_length"};

gboolean
qemu_device_has_iotune(const struct disk_def *disk)
{
    for (int i = 0; i < DISK_IOTUNE_FIELDS; i++)
        if (disk->iotune.v[i])
            return TRUE;
    return disk->iotune.group_name != NULL;
}

JsonObject *
qemu_device_iotune_args(const struct disk_def *disk)
{
    JsonObject *o = json_object_new();
    /* the device that holds the drive: a virtio disk's is its proxy's virtio-backend (the
     * QOM path libvirt gives too) */
    g_autofree char *id =
        disk->bus == DISK_BUS_VIRTIO
            ? g_strdup_printf("/machine/peripheral/%s/virtio-backend", disk->info.alias)
        : disk->bus == DISK_BUS_USB
            /* usb-storage keeps its drive on the SCSI disk of its own bus */
            ? g_strdup_printf("/machine/peripheral/%s/%s.0/legacy[0]", disk->info.alias,
                              disk->info.alias)
            : g_strdup(disk->info.alias);
    json_object_set_string_member(o, "id", id);
    for (int i = 0; i < DISK_IOTUNE_FIELDS; i++) {
        /* a length without its max is QEMU's error: sent only with it */
        if (i >= 13 && !disk->iotune.v[i])
            continue;
        json_object_set_int_member(o, iotune_keys[i], (gint64)disk->iotune.v[i]);
    }
    if (disk->iotune.group_name)
        json_object_set_string_member(o, "group", disk->iotune.group_name);
    return o;
}

JsonObject *
qemu_device_iothread(unsigned id)
{
    g_autofree char *alias = g_strdup_printf("iothread%u", id);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "qom-type", "iothread");
    json_object_set_string_member(o, "id", alias);
    return o;
}

JsonObject *
qemu_device_rng_backend(const struct rng_def *rng)
{
    g_autofree char *id = g_strdup_printf("obj%s", rng->info.alias);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "qom-type", "rng-random");
    json_object_set_string_member(o, "id", id);
    json_object_set_string_member(o, "filename", rng->backend ? rng->backend : "/dev/urandom");
    return o;
}

JsonObject *
qemu_device_rng(const struct domain_def *def, const struct rng_def *rng)
{
    g_autofree char *driver = virtio_driver("virtio-rng", rng->model);
    g_autofree char *backend = g_strdup_printf("obj%s", rng->info.alias);
    JsonObject *o = new_device(driver, NULL);
    json_object_set_string_member(o, "rng", backend);
    json_object_set_string_member(o, "id", rng->info.alias);
    set_pci(o, def, &rng->info);
    return o;
}

/* vfio-pci, as libvirt's qemuBuildPCIHostdevDevProps: host, id, bus/addr, bootindex, rombar,
 * romfile */
JsonObject *
qemu_device_hostdev(const struct domain_def *def, const struct hostdev_def *hostdev)
{
    g_autofree char *host =
        g_strdup_printf("%04x:%02x:%02x.%x", hostdev->source.domain, hostdev->source.bus,
                        hostdev->source.slot, hostdev->source.function);
    JsonObject *o = new_device("vfio-pci", NULL);
    json_object_set_string_member(o, "host", host);
    json_object_set_string_member(o, "id", hostdev->info.alias);
    set_pci(o, def, &hostdev->info);
    if (hostdev->boot_order)
        json_object_set_int_member(o, "bootindex", hostdev->boot_order);
    if (hostdev->rom_bar != DOMAIN_TRISTATE_ABSENT)
        json_object_set_int_member(o, "rombar", hostdev->rom_bar == DOMAIN_TRISTATE_YES);
    if (hostdev->rom_file)
        json_object_set_string_member(o, "romfile", hostdev->rom_file);
    return o;
}

JsonObject *
qemu_device_serial(const struct chr_def *serial)
{
    g_autofree char *chardev = qemu_device_chardev_id(serial);
    JsonObject *o = new_device("isa-serial", NULL);
    json_object_set_string_member(o, "chardev", chardev);
    json_object_set_string_member(o, "id", serial->info.alias);
    if (serial->target_port >= 0)
        json_object_set_int_member(o, "index", serial->target_port);
    return o;
}

JsonObject *
qemu_device_virtio_port(const struct domain_def *def, const struct chr_def *chr, gboolean console)
{
    unsigned controller = domain_address_get_uint(chr->info.address, "controller", 0);
    unsigned bus = domain_address_get_uint(chr->info.address, "bus", 0);
    const char *ctrl = qemu_alias_controller(def, "virtio-serial", controller);
    g_autofree char *b = g_strdup_printf("%s.%u", ctrl ? ctrl : "virtio-serial0", bus);
    g_autofree char *chardev = qemu_device_chardev_id(chr);
    JsonObject *o = new_device(console ? "virtconsole" : "virtserialport", NULL);
    json_object_set_string_member(o, "bus", b);
    json_object_set_int_member(o, "nr", domain_address_get_uint(chr->info.address, "port", 0));
    json_object_set_string_member(o, "chardev", chardev);
    json_object_set_string_member(o, "id", chr->info.alias);
    if (!console && chr->target_name)
        json_object_set_string_member(o, "name", chr->target_name);
    return o;
}
