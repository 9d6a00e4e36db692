/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pcihost: the host's PCI devices in sysfs, readied for VFIO assignment; prefix pcihost_.
 * ROOT is where sysfs is mounted ("/sys"); tests point it at a fake tree. ADDR is a device's
 * full address, "0000:06:12.5". Errors carry ERR_FROM_NONE, as libvirt's PCI code does. */
#pragma once

#include <glib.h>

/* Whether ADDR can go to a guest, and makes it so: the device exists, sits in an IOMMU group
 * whose other members are unbound or held by vfio-pci, pci-stub or a PCIe port, and is bound
 * to vfio-pci. When it is bound elsewhere and MANAGED, it is moved to vfio-pci
 * (driver_override, unbind, drivers_probe) and *RET_REBOUND says so; unmanaged, that is an
 * error. Errors: ERR_OPERATION_FAILED (no device, no IOMMU group, vfio-pci not loaded, the
 * kernel did not rebind: then the override is taken back), ERR_OPERATION_INVALID (bound to
 * another driver, a group member in use), each message saying what to do. */
gboolean pcihost_prepare(const char *root, const char *addr, gboolean managed,
                         gboolean *ret_rebound, GError **error);

/* Gives ADDR back to its host driver after a managed assignment: the override is cleared,
 * vfio-pci lets go, and the kernel probes the device again. A device not bound to vfio-pci
 * is left alone. ERR_SYSTEM_ERROR naming the file that could not be written. */
gboolean pcihost_release(const char *root, const char *addr, GError **error);

/* The driver ADDR is bound to (a new string), NULL when none or no such device. */
char *pcihost_driver(const char *root, const char *addr);
