/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdev (core-private): the host PCI devices a running domain holds (hostdev.c). */
#pragma once

#include "core/core.h"

/* At start, before QEMU runs: each <hostdev> of DOM's live definition is checked and readied
 * for VFIO (util/pcihost; managed ones moved to vfio-pci), and none may be held by another
 * running domain (ERR_OPERATION_INVALID naming it). On failure, what was readied is given
 * back. */
gboolean core_hostdev_prepare(struct domain *dom, GError **error);
/* QEMU is gone (or never ran): the managed devices go back to their host drivers. */
void core_hostdev_release(struct domain *dom);

/* virNodeDeviceDetachFlags / ReAttach / Reset of node device NAME (a PCI device of this host
 * that no running domain holds): bound to vfio-pci (DRIVER NULL, "" or "vfio"), given back to
 * its host driver, or reset through sysfs. ERR_NO_NODE_DEVICE, ERR_INVALID_ARG (not PCI, an
 * unknown driver), ERR_OPERATION_INVALID (in use), and util/pcihost's errors. */
gboolean core_nodedev_detach(struct core *core, const char *name, const char *driver,
                             GError **error);
gboolean core_nodedev_reattach(struct core *core, const char *name, GError **error);
gboolean core_nodedev_reset(struct core *core, const char *name, GError **error);
