/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netiface: the host's network interfaces as libvirt's interface driver (udev backend)
 * describes them, read from sysfs: ethernet, bridge (with its ports), VLAN and bond;
 * prefix netiface_. Read-only: interfaces are configured by the host's own tools. */
#pragma once

#include <glib.h>

struct netiface {
    char *name;
    char *mac;
    gboolean active; /* operstate "up" */
    char *xml;
};

/* The interfaces under SYSFS_ROOT/class/net in name order, without bridge ports (they show
 * inside their bridge) and tap devices (guests' NICs), as libvirt lists them. */
GPtrArray *netiface_enumerate(const char *sysfs_root);
