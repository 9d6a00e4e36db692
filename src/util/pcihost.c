/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pcihost: host PCI devices readied for VFIO through sysfs (bus/pci/devices/ADDR: driver,
 * driver_override, iommu_group; bus/pci/drivers_probe), as libvirt's virpci.c does it;
 * prefix pcihost_. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/pcihost.h"

#define VFIO_DRIVER "vfio-pci"

static char *
device_path(const char *root, const char *addr, const char *file)
{
    return g_build_filename(root, "bus", "pci", "devices", addr, file, NULL);
}

/* The last component of the symlink PATH points to (a new string), NULL when it is none. */
static char *
link_basename(const char *path)
{
    g_autofree char *target = g_file_read_link(path, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

char *
pcihost_driver(const char *root, const char *addr)
{
    g_autofree char *path = device_path(root, addr, "driver");
    return link_basename(path);
}

/* Writes VALUE to the sysfs attribute PATH: one write, as the kernel wants it. */
static gboolean
write_attr(const char *path, const char *value, GError **error)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot open '%s'", path);
        return FALSE;
    }
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        err_set_errno(error, ERR_FROM_NONE, n < 0 ? saved : EIO, "cannot write '%s' to '%s'", value,
                      path);
        return FALSE;
    }
    return TRUE;
}

/* Drivers a member of the device's IOMMU group may have while the device is assigned: none
 * (unbound), VFIO's own, the stub, and the ports a group of a PCIe switch includes. */
static gboolean
viable_driver(const char *driver)
{
    return !driver || g_str_equal(driver, VFIO_DRIVER) || g_str_equal(driver, "pci-stub") ||
           g_str_equal(driver, "pcieport");
}

static gboolean
check_group(const char *root, const char *addr, GError **error)
{
    g_autofree char *group_link = device_path(root, addr, "iommu_group");
    g_autofree char *group = link_basename(group_link);
    if (!group) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED,
                "host PCI device %s is in no IOMMU group: the host's IOMMU is off or absent; "
                "enable it (intel_iommu=on or amd_iommu=on) to assign the device",
                addr);
        return FALSE;
    }
    g_autofree char *members = g_build_filename(group_link, "devices", NULL);
    g_autoptr(GDir) dir = g_dir_open(members, 0, NULL);
    const char *peer;
    while (dir && (peer = g_dir_read_name(dir))) {
        if (g_str_equal(peer, addr))
            continue;
        g_autofree char *driver = pcihost_driver(root, peer);
        if (!viable_driver(driver)) {
            err_set(error, ERR_FROM_NONE, ERR_OPERATION_INVALID,
                    "host PCI device %s shares IOMMU group %s with %s, which is bound to '%s'; "
                    "bind that device to vfio-pci too or unbind it",
                    addr, group, peer, driver);
            return FALSE;
        }
    }
    return TRUE;
}

/* Moves ADDR from DRIVER (NULL: none) to vfio-pci; on failure the override is taken back. */
static gboolean
rebind(const char *root, const char *addr, const char *driver, GError **error)
{
    g_autofree char *vfio = g_build_filename(root, "bus", "pci", "drivers", VFIO_DRIVER, NULL);
    if (!g_file_test(vfio, G_FILE_TEST_IS_DIR)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED,
                "cannot assign host PCI device %s: the vfio-pci driver is not loaded; run "
                "'modprobe vfio-pci'",
                addr);
        return FALSE;
    }
    g_autofree char *override = device_path(root, addr, "driver_override");
    g_autofree char *unbind = device_path(root, addr, "driver/unbind");
    g_autofree char *probe = g_build_filename(root, "bus", "pci", "drivers_probe", NULL);
    if (!write_attr(override, VFIO_DRIVER, error))
        return FALSE;
    if ((driver && !write_attr(unbind, addr, error)) || !write_attr(probe, addr, error)) {
        write_attr(override, "\n", NULL);
        return FALSE;
    }
    g_autofree char *now = pcihost_driver(root, addr);
    if (g_strcmp0(now, VFIO_DRIVER) != 0) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED,
                "host PCI device %s did not bind to vfio-pci (its driver is now '%s'); see the "
                "kernel log",
                addr, now ? now : "none");
        write_attr(override, "\n", NULL);
        if (!now)
            write_attr(probe, addr, NULL);
        return FALSE;
    }
    return TRUE;
}

gboolean
pcihost_prepare(const char *root, const char *addr, gboolean managed, gboolean *ret_rebound,
                GError **error)
{
    g_autofree char *dev = device_path(root, addr, NULL);
    if (!g_file_test(dev, G_FILE_TEST_IS_DIR)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED,
                "host PCI device %s does not exist; check its address with 'lspci -D'", addr);
        return FALSE;
    }
    if (!check_group(root, addr, error))
        return FALSE;
    g_autofree char *driver = pcihost_driver(root, addr);
    if (g_strcmp0(driver, VFIO_DRIVER) == 0) {
        *ret_rebound = FALSE;
        return TRUE;
    }
    if (!managed) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_INVALID,
                "host PCI device %s is bound to %s%s%s, not vfio-pci; bind it to vfio-pci "
                "('driverctl set-override %s vfio-pci') or set managed='yes'",
                addr, driver ? "'" : "", driver ? driver : "no driver", driver ? "'" : "", addr);
        return FALSE;
    }
    if (!rebind(root, addr, driver, error))
        return FALSE;
    *ret_rebound = TRUE;
    return TRUE;
}

gboolean
pcihost_release(const char *root, const char *addr, GError **error)
{
    g_autofree char *driver = pcihost_driver(root, addr);
    if (g_strcmp0(driver, VFIO_DRIVER) != 0)
        return TRUE;
    g_autofree char *override = device_path(root, addr, "driver_override");
    g_autofree char *unbind = device_path(root, addr, "driver/unbind");
    g_autofree char *probe = g_build_filename(root, "bus", "pci", "drivers_probe", NULL);
    return write_attr(override, "\n", error) && write_attr(unbind, addr, error) &&
           write_attr(probe, addr, error);
}
