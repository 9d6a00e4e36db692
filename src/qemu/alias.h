/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alias: the name each device has in QEMU (its id) and in the live XML; prefix qemu_alias_.
 * The names are libvirt's: virtio-disk0, ide0-0-1, sata0-0-0, scsi0-0-0-0, net0, serial0,
 * channel0, input0, video0, sound0, balloon0, rng0, usb, pci.1, pcie.0, ide, virtio-serial0.
 * A user's alias ("ua-…") is kept as given. */
#pragma once

#include "conf/domain_def.h"

/* Gives every device of DEF without an alias its alias; addresses must be assigned
 * (qemu_address_assign). Call on the live definition at start. */
void qemu_alias_assign(struct domain_def *def);

/* The alias of the PCI controller that provides bus BUS; NULL when there is none. */
const char *qemu_alias_pci_bus(const struct domain_def *def, unsigned bus);

/* The alias of controller TYPE with INDEX; NULL when there is none. */
const char *qemu_alias_controller(const struct domain_def *def, const char *type, unsigned index);
