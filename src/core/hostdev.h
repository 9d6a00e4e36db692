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
