/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def_hostdev: <hostdev mode='subsystem' type='pci'>, a host PCI device (or an SR-IOV
 * virtual function) handed to the guest with VFIO: parse, format, copy; prefix
 * domain_def_hostdev_. Other hostdev kinds (usb, scsi, mdev, caps mode) are refused by name. */
#include "conf/domain_def_priv.h"
#include "util/err.h"

static const char *const hostdev_attrs[] = {"mode", "type", "managed", NULL};
static const char *const mode_names[] = {"subsystem", NULL};
static const char *const type_names[] = {"pci", NULL};
static const char *const driver_names[] = {"vfio", NULL};

void
domain_def_hostdev_free(struct hostdev_def *hostdev)
{
    if (!hostdev)
        return;
    g_free(hostdev->rom_file);
    device_info_clear(&hostdev->info);
    g_free(hostdev);
}

gpointer
domain_def_hostdev_copy(gconstpointer src, gpointer unused)
{
    const struct hostdev_def *s = src;
    struct hostdev_def *hostdev = g_new0(struct hostdev_def, 1);
    *hostdev = *s;
    hostdev->rom_file = g_strdup(s->rom_file);
    device_info_copy(&hostdev->info, &s->info);
    return hostdev;
}

/* <source><address domain bus slot function/></source>: the host's address (type='pci' may
 * be given, as in <interface type='hostdev'>) */
static gboolean
parse_source(struct hostdev_def *hostdev, xmlNodePtr source, GError **error)
{
    static const char *const none[] = {NULL};
    static const char *const addr_attrs[] = {"type", "domain", "bus", "slot", "function", NULL};
    static const char *const pci[] = {"pci", NULL};
    xmlNodePtr address = NULL;
    if (!domain_def_xml_check_attrs(source, none, error))
        return FALSE;
    for (xmlNodePtr c = source->children; c; c = c->next) {
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_xml_is(c, "address"))
            return domain_def_xml_unsupported(source, c, error);
        int type = 0;
        uint64_t dom = 0, bus = 0, slot = 0, function = 0;
        if (!domain_def_xml_once(&address, c, error) ||
            !domain_def_xml_check_attrs(c, addr_attrs, error) ||
            !domain_def_xml_check_empty(c, error) ||
            !domain_def_xml_enum(c, "type", pci, &type, error) ||
            !domain_def_xml_uint(c, "domain", 0, 0xffff, &dom, error) ||
            !domain_def_xml_uint(c, "bus", 0, 0xff, &bus, error) ||
            !domain_def_xml_uint(c, "slot", 0, PCI_ADDRESS_SLOT_MAX, &slot, error) ||
            !domain_def_xml_uint(c, "function", 0, PCI_ADDRESS_FUNCTION_MAX, &function, error))
            return FALSE;
        hostdev->source = (struct pci_address){
            .domain = (unsigned)dom,
            .bus = (unsigned)bus,
            .slot = (unsigned)slot,
            .function = (unsigned)function,
        };
    }
    if (!address) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "PCI host devices must use 'pci' address type: <source> needs an <address>");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_rom(struct hostdev_def *hostdev, xmlNodePtr rom, GError **error)
{
    static const char *const attrs[] = {"bar", "file", NULL};
    static const char *const on_off[] = {"on", "off", NULL};
    int bar = -1;
    if (!domain_def_xml_check_attrs(rom, attrs, error) || !domain_def_xml_check_empty(rom, error) ||
        !domain_def_xml_enum(rom, "bar", on_off, &bar, error))
        return FALSE;
    hostdev->rom_bar = bar < 0    ? DOMAIN_TRISTATE_ABSENT
                       : bar == 0 ? DOMAIN_TRISTATE_YES
                                  : DOMAIN_TRISTATE_NO;
    hostdev->rom_file = domain_def_xml_prop(rom, "file");
    if (hostdev->rom_file && hostdev->rom_file[0] != '/' && hostdev->rom_file[0] != '\0') {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "ROM file '%s' of a host device must be an absolute path", hostdev->rom_file);
        return FALSE;
    }
    return TRUE;
}

gboolean
domain_def_hostdev_parse(struct domain_def *def, xmlNodePtr node, GError **error)
{
    static const char *const driver_attrs[] = {"name", NULL};
    g_autofree char *mode = domain_def_xml_prop(node, "mode");
    g_autofree char *type = domain_def_xml_prop(node, "type");
    int m = 0, t = 0;
    if (!domain_def_xml_check_attrs(node, hostdev_attrs, error))
        return FALSE;
    /* libvirt's default mode is subsystem; a type is required */
    if (mode && !domain_def_xml_enum(node, "mode", mode_names, &m, error))
        return FALSE;
    if (!type) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                "missing attribute 'type' on element 'hostdev'");
        return FALSE;
    }
    if (!domain_def_xml_enum(node, "type", type_names, &t, error))
        return FALSE;
    struct hostdev_def *hostdev = g_new0(struct hostdev_def, 1);
    g_ptr_array_add(def->hostdevs, hostdev);
    if (!domain_def_xml_bool(node, "managed", &hostdev->managed, error))
        return FALSE;
    xmlNodePtr source = NULL, driver = NULL, boot = NULL, rom = NULL;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        gboolean handled = FALSE;
        if (domain_def_xml_ignorable(c))
            continue;
        if (!domain_def_parse_info_child(c, &hostdev->info, &handled, error))
            return FALSE;
        if (handled)
            continue;
        gboolean ok;
        if (domain_def_xml_is(c, "source")) {
            ok = domain_def_xml_once(&source, c, error) && parse_source(hostdev, c, error);
        } else if (domain_def_xml_is(c, "driver")) {
            int name = -1;
            ok = domain_def_xml_once(&driver, c, error) &&
                 domain_def_xml_check_attrs(c, driver_attrs, error) &&
                 domain_def_xml_check_empty(c, error) &&
                 domain_def_xml_enum(c, "name", driver_names, &name, error);
            hostdev->driver_vfio = name == 0;
        } else if (domain_def_xml_is(c, "boot")) {
            static const char *const boot_attrs[] = {"order", NULL};
            uint64_t order = 0;
            ok = domain_def_xml_once(&boot, c, error) &&
                 domain_def_xml_check_attrs(c, boot_attrs, error) &&
                 domain_def_xml_check_empty(c, error) &&
                 domain_def_xml_uint(c, "order", 1, G_MAXINT, &order, error);
            hostdev->boot_order = (unsigned)order;
            if (ok && !order) {
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "missing attribute 'order' on element 'boot'");
                ok = FALSE;
            }
        } else if (domain_def_xml_is(c, "rom")) {
            ok = domain_def_xml_once(&rom, c, error) && parse_rom(hostdev, c, error);
        } else {
            return domain_def_xml_unsupported(node, c, error);
        }
        if (!ok)
            return FALSE;
    }
    if (!source) {
        err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR, "missing element 'source' in 'hostdev'");
        return FALSE;
    }
    if (hostdev->info.address && !domain_address_is(hostdev->info.address, "pci")) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "host PCI device %04x:%02x:%02x.%x needs a guest address of type 'pci', not '%s'",
                hostdev->source.domain, hostdev->source.bus, hostdev->source.slot,
                hostdev->source.function, hostdev->info.address->type);
        return FALSE;
    }
    return TRUE;
}

gboolean
domain_def_hostdev_check(const struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        const struct hostdev_def *a = def->hostdevs->pdata[i];
        for (guint j = 0; j < i; j++) {
            const struct hostdev_def *b = def->hostdevs->pdata[j];
            if (a->source.domain == b->source.domain && a->source.bus == b->source.bus &&
                a->source.slot == b->source.slot && a->source.function == b->source.function) {
                g_autofree char *addr = pci_address_to_string(&a->source);
                err_set(error, ERR_FROM_DOMAIN, ERR_XML_ERROR,
                        "host PCI device %s is given to the domain twice", addr);
                return FALSE;
            }
        }
    }
    return TRUE;
}
