/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdev: host PCI devices of running domains, readied for VFIO at start and given back at
 * stop as libvirt does for managed='yes'; prefix core_hostdev_. */
#include "core/hostdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"
#include "util/pcihost.h"

static gboolean
same_device(const struct hostdev_def *a, const struct hostdev_def *b)
{
    return a->source.domain == b->source.domain && a->source.bus == b->source.bus &&
           a->source.slot == b->source.slot && a->source.function == b->source.function;
}

/* The other running domain that holds HOSTDEV, or NULL. */
static struct domain *
holder(struct domain *dom, const struct hostdev_def *hostdev)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, dom->core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *other = value;
        if (other == dom || !other->pid)
            continue;
        for (guint i = 0; i < other->def->hostdevs->len; i++) {
            if (same_device(other->def->hostdevs->pdata[i], hostdev))
                return other;
        }
    }
    return NULL;
}

static void
release_first(struct domain *dom, guint n)
{
    for (guint i = 0; i < n; i++) {
        struct hostdev_def *h = dom->def->hostdevs->pdata[i];
        g_autofree char *addr = pci_address_to_string(&h->source);
        g_autoptr(GError) error = NULL;
        if (h->managed && !pcihost_release(dom->core->paths.sysfs_root, addr, &error))
            log_warn("%s: cannot give host PCI device %s back to its driver: %s", dom->def->name,
                     addr, error->message);
    }
}

gboolean
core_hostdev_prepare(struct domain *dom, GError **error)
{
    for (guint i = 0; i < dom->def->hostdevs->len; i++) {
        struct hostdev_def *h = dom->def->hostdevs->pdata[i];
        g_autofree char *addr = pci_address_to_string(&h->source);
        struct domain *other = holder(dom, h);
        gboolean rebound = FALSE;
        if (other) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "host PCI device %s is in use by domain '%s'", addr, other->def->name);
        } else if (pcihost_prepare(dom->core->paths.sysfs_root, addr, h->managed, &rebound,
                                   error)) {
            if (rebound)
                log_info("%s: host PCI device %s moved to vfio-pci", dom->def->name, addr);
            continue;
        }
        release_first(dom, i);
        return FALSE;
    }
    return TRUE;
}

void
core_hostdev_release(struct domain *dom)
{
    release_first(dom, dom->def->hostdevs->len);
}

/* --- node devices: virsh nodedev-detach, -reattach, -reset --- */

/* "pci_0000_06_12_5" into "0000:06:12.5"; NULL for any other name */
static char *
pci_name_to_address(const char *name)
{
    guint dom, bus, slot, fn;
    char tail;
    if (sscanf(name, "pci_%4x_%2x_%2x_%1x%c", &dom, &bus, &slot, &fn, &tail) != 4)
        return NULL;
    return g_strdup_printf("%04x:%02x:%02x.%x", dom, bus, slot, fn);
}

/* The PCI address of node device NAME, present on this host and held by no running domain */
static char *
free_pci_device(struct core *core, const char *name, const char *what, GError **error)
{
    g_autofree char *addr = pci_name_to_address(name);
    if (!addr) {
        err_set(error, ERR_FROM_NODEDEV, ERR_INVALID_ARG,
                "device '%s' is not a PCI device; only PCI devices can be %s", name, what);
        return NULL;
    }
    g_autofree char *dir =
        g_build_filename(core->paths.sysfs_root, "bus", "pci", "devices", addr, NULL);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        err_set(error, ERR_FROM_NODEDEV, ERR_NO_NODE_DEVICE,
                "no node device with matching name '%s'; 'nodedev-list --cap pci' shows them",
                name);
        return NULL;
    }
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *dom = value;
        if (!dom->pid)
            continue;
        for (guint i = 0; i < dom->def->hostdevs->len; i++) {
            struct hostdev_def *h = dom->def->hostdevs->pdata[i];
            g_autofree char *held = pci_address_to_string(&h->source);
            if (g_str_equal(held, addr)) {
                err_set(error, ERR_FROM_NODEDEV, ERR_OPERATION_INVALID,
                        "PCI device %s is in use by domain '%s'; stop it first", addr,
                        dom->def->name);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&addr);
}

gboolean
core_nodedev_detach(struct core *core, const char *name, const char *driver, GError **error)
{
    if (driver && *driver && !g_str_equal(driver, "vfio")) {
        err_set(error, ERR_FROM_NODEDEV, ERR_INVALID_ARG,
                "unknown driver name '%s'; this host detaches to 'vfio' (vfio-pci)", driver);
        return FALSE;
    }
    g_autofree char *addr = free_pci_device(core, name, "detached", error);
    gboolean rebound = FALSE;
    if (!addr || !pcihost_prepare(core->paths.sysfs_root, addr, TRUE, &rebound, error))
        return FALSE;
    log_info("node device %s: %s", name, rebound ? "moved to vfio-pci" : "already on vfio-pci");
    return TRUE;
}

gboolean
core_nodedev_reattach(struct core *core, const char *name, GError **error)
{
    g_autofree char *addr = free_pci_device(core, name, "re-attached", error);
    if (!addr || !pcihost_release(core->paths.sysfs_root, addr, error))
        return FALSE;
    log_info("node device %s: given back to its host driver", name);
    return TRUE;
}

gboolean
core_nodedev_reset(struct core *core, const char *name, GError **error)
{
    g_autofree char *addr = free_pci_device(core, name, "reset", error);
    if (!addr)
        return FALSE;
    g_autofree char *path =
        g_build_filename(core->paths.sysfs_root, "bus", "pci", "devices", addr, "reset", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        err_set(error, ERR_FROM_NODEDEV, ERR_OPERATION_FAILED,
                "PCI device %s cannot be reset: the kernel offers no reset method for it", addr);
        return FALSE;
    }
    /* a sysfs attribute: written in place, never through a temporary file */
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    gboolean ok = fd >= 0 && write(fd, "1", 1) == 1;
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && ok) {
        ok = FALSE;
        saved = errno;
    }
    if (!ok)
        err_set_errno(error, ERR_FROM_NODEDEV, saved, "cannot reset PCI device %s", addr);
    return ok;
}
