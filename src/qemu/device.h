/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* device: each device as the one JSON property object QEMU takes both on its command line
 * (-device / -blockdev / -netdev / -object JSON) and over QMP (device_add, blockdev-add,
 * netdev_add, object-add), so a device started with the domain and a device plugged in later
 * are built by the same code; prefix qemu_device_.
 *
 * Every function reads a live definition whose addresses (qemu_address_assign), aliases
 * (qemu_alias_assign) and image numbers (qemu_device_number_images) are assigned. Those that
 * can fail say why with ERR_CONFIG_UNSUPPORTED, naming the device. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain_def.h"

/* Numbers every image of every disk (the top image and each backing layer) that has no
 * number yet, from 1 up and after the highest number already given: the numbers name the
 * images' block nodes. */
void qemu_device_number_images(struct domain_def *def);

/* The block node names of image INDEX: "domus-INDEX-format" and its protocol node
 * "domus-INDEX-storage". New strings. */
char *qemu_device_node_format(unsigned index);
char *qemu_device_node_storage(unsigned index);

/* The -blockdev objects of DISK's images, in the order QEMU must create them: the deepest
 * backing image first, each as its protocol node then its format node, the top image last.
 * AIO: the I/O engine when the disk's <driver io> names none (NULL: QEMU's default).
 * Empty for an empty cdrom. Returns a new array of JsonObject (unref'd on free). */
GPtrArray *qemu_device_disk_blockdevs(const struct disk_def *disk, const char *aio);

/* The number after the highest image number of DEF: a new image's. */
unsigned qemu_device_next_image(const struct domain_def *def);
/* The blockdev-add objects (protocol node, then format node) of one new top image of DISK
 * (a block copy's destination): TYPE file or block at PATH, FORMAT, numbered INDEX, on the
 * format node BACKING (NULL: none, for qcow2 "backing": null); DISK's cache, discard and
 * detect_zeroes; AIO as above. */
GPtrArray *qemu_device_image_blockdevs(const struct disk_def *disk, enum disk_type type,
                                       const char *path, enum disk_format format, unsigned index,
                                       const char *backing, const char *aio);
/* The blockdev-add objects (protocol node, then format node) of a qcow2 overlay at PATH for
 * DISK, numbered INDEX, with no backing yet (blockdev-snapshot attaches it); AIO as above. */
GPtrArray *qemu_device_overlay_blockdevs(const struct disk_def *disk, const char *path,
                                         unsigned index, const char *aio);

/* The -device object of DISK (it names its top format node). New object. */
JsonObject *qemu_device_disk(const struct domain_def *def, const struct disk_def *disk,
                             GError **error);

/* The -netdev object of interface NET (id "host" + alias): user networking, or for every
 * other type the tap the daemon made, which QEMU has as descriptor TAP_FD (< 0: none, an
 * error). New object. */
JsonObject *qemu_device_netdev(const struct net_def *net, int tap_fd, GError **error);
/* The same with the tap's descriptor named: a number QEMU inherited, or a name getfd gave. */
JsonObject *qemu_device_netdev_named(const struct net_def *net, const char *tap_fd, GError **error);
/* The id of NET's netdev ("hostnet0"). New string. */
char *qemu_device_netdev_id(const struct net_def *net);
/* Whether NET is backed by a tap (every type but 'user'). */
gboolean qemu_device_net_has_tap(const struct net_def *net);

/* The -device object of interface NET. New object. */
JsonObject *qemu_device_net(const struct domain_def *def, const struct net_def *net,
                            GError **error);

/* The -device object of controller C; NULL without error for a controller QEMU has built in
 * (pci-root, pcie-root, the PIIX3's IDE, the q35's SATA) or none (USB model 'none'). */
JsonObject *qemu_device_controller(const struct domain_def *def, const struct controller_def *c,
                                   GError **error);

/* The -device object of an input; NULL for a PS/2 input (built into the i8042). */
JsonObject *qemu_device_input(const struct domain_def *def, const struct input_def *input);
/* usb-redir of a <redirdev>, on chardev "char" + its alias (a spicevmc named usbredir) */
JsonObject *qemu_device_redirdev(const struct domain_def *def, const struct redirdev_def *r);

/* The -device object of video VIDEO (the first is the primary); NULL for model 'none'. */
JsonObject *qemu_device_video(const struct domain_def *def, const struct video_def *video,
                              gboolean primary, GError **error);

/* The -device objects of sound SOUND: the card, and for HDA its codec. New array. */
GPtrArray *qemu_device_sound(const struct domain_def *def, const struct sound_def *sound,
                             const char *audiodev, GError **error);

/* The -device object of the memballoon; NULL for model 'none'. */
JsonObject *qemu_device_memballoon(const struct domain_def *def,
                                   const struct memballoon_def *balloon);

/* The -object backend ("obj" + alias) and the -device object of RNG. */
JsonObject *qemu_device_rng_backend(const struct rng_def *rng);
/* block_set_io_throttle's arguments for DISK (its <iotune>, every field, 0 for those not set);
 * whether DISK has any. */
JsonObject *qemu_device_iotune_args(const struct disk_def *disk);
gboolean qemu_device_has_iotune(const struct disk_def *disk);
/* A memory module: its RAM (object-add's arguments, id "mem" + alias) and its pc-dimm. A NUMA
 * cell's RAM ("ram-node" + id). */
JsonObject *qemu_device_dimm_backend(const struct domain_def *def, const struct memdev_def *mem);
/* MEM's device: a pc-dimm, or a virtio-mem-pci on its PCI address in DEF. */
JsonObject *qemu_device_dimm(const struct domain_def *def, const struct memdev_def *mem);
/* -object / object-add of IOThread ID ("iothreadN") */
JsonObject *qemu_device_iothread(unsigned id);
JsonObject *qemu_device_hostdev(const struct domain_def *def, const struct hostdev_def *hostdev);
JsonObject *qemu_device_numa_backend(const struct domain_def *def,
                                     const struct numa_cell_def *cell);
JsonObject *qemu_device_rng(const struct domain_def *def, const struct rng_def *rng);

/* The -device object of a serial port (chardev "char" + alias). */
JsonObject *qemu_device_serial(const struct chr_def *serial);

/* The -device object of a virtio console or channel on its virtio-serial port. */
JsonObject *qemu_device_virtio_port(const struct domain_def *def, const struct chr_def *chr,
                                    gboolean console);

/* The chardev id of a character device: "char" + alias. New string. */
char *qemu_device_chardev_id(const struct chr_def *chr);

/* OBJ as compact JSON text. New string. */
char *qemu_device_json(JsonObject *obj);
