/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodedev: the host's devices as libvirt's node device driver names and describes them,
 * read from sysfs (PCI devices, network interfaces, disks, the computer itself); prefix
 * nodedev_. Reads files under a sysfs root (tests give a fake one), spawns nothing. */
#pragma once

#include <glib.h>

/* virConnectListAllNodeDeviceFlags bits of the capabilities found here */
enum {
    NODEDEV_CAP_SYSTEM = 1 << 0,
    NODEDEV_CAP_PCI = 1 << 1,
    NODEDEV_CAP_NET = 1 << 4,
    NODEDEV_CAP_STORAGE = 1 << 8,
};

/* Debian's PCI name database (pci.ids) */
#define NODEDEV_PCI_IDS "/usr/share/misc/pci.ids"

struct nodedev {
    char *name;   /* "pci_0000_00_03_0", "net_eth0_52_54_00_12_34_56", "block_vda", "computer" */
    char *path;   /* its sysfs directory (resolved); NULL for the computer */
    char *parent; /* NULL for the computer */
    char *driver; /* bound kernel driver, or NULL */
    guint cap;    /* one NODEDEV_CAP_* */
    char *xml;    /* the whole <device> document */
};

/* The devices under SYSFS_ROOT ("/sys"): the computer first, the PCI devices, network
 * interfaces and disks after it in name order. HOST_UUID goes into the computer's <hardware>;
 * PCI_IDS (may be NULL or missing) names vendors and products. Returns an array of struct nodedev *
 * (free function set). Never fails: what cannot be read is left out. */
GPtrArray *nodedev_enumerate(const char *sysfs_root, const char *host_uuid, const char *pci_ids);

/* The capability name of CAP ("system", "pci", "net", "storage") and back (0: unknown). */
const char *nodedev_cap_name(guint cap);
guint nodedev_cap_from_name(const char *name);
