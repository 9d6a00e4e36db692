/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* address: where each device of a domain sits in its QEMU machine; prefix qemu_address_.
 * Addresses are decided at define, as libvirt decides them, and kept in the persistent
 * definition, so a device keeps its place from define through every start, hot-plug and
 * migration. */
#pragma once

#include <glib.h>

#include "conf/domain_def.h"

/* Completes DEF for its machine type (pc or q35), as libvirt's define does:
 * - adds what every machine of the type has: the root PCI controller (pci-root / pcie-root),
 *   a USB controller (piix3-uhci / qemu-xhci) unless one is listed (model 'none' says no), the
 *   q35's SATA controller, a virtio balloon unless one is listed;
 * - adds the controllers devices need: IDE, SATA or SCSI for disks, virtio-serial for
 *   channels and virtio consoles, and on q35 a pcie-root-port for every PCI Express device
 *   that has no address and no free port;
 * - gives every device without an address one: PCI slots in libvirt's order (the chipset's
 *   fixed functions first, the primary video at 00:02.0 on pc and 00:01.0 on q35, root ports
 *   gathered eight to a slot), drive addresses from disk targets, USB ports, virtio-serial
 *   ports.
 * Addresses already given are kept and checked: the bus must exist and take the device, the
 * slot must be in range and free. Errors: ERR_XML_ERROR (a bad or doubly used address, naming
 * both devices), ERR_CONFIG_UNSUPPORTED (a controller model or combination QEMU cannot
 * build here), ERR_INTERNAL_ERROR (no free slot or port left; the message says what to add).
 * Idempotent. On failure DEF may be half-completed: work on a copy. */
gboolean qemu_address_assign(struct domain_def *def, GError **error);

/* True when DEF's machine type is a q35 (pc-q35-*). */
gboolean qemu_address_is_q35(const struct domain_def *def);

/* The number of ports of a USB controller model (with its ports= value, 0 when absent). */
unsigned qemu_address_usb_ports(const char *model, unsigned ports);
