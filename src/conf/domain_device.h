/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_device: one device of attach-device, detach-device and update-device, and where it
 * sits in a definition; prefix domain_device_. Pure, as the rest of conf. */
#pragma once

#include "conf/domain_def.h"

enum device_kind { DEVICE_DISK, DEVICE_NET, DEVICE_INPUT, DEVICE_CONTROLLER, DEVICE_MEMORY };

struct device_def {
    enum device_kind kind;
    union {
        struct disk_def *disk;
        struct net_def *net;
        struct input_def *input;
        struct controller_def *controller;
        struct memdev_def *memory;
        gpointer any;
    };
};

/* "disk", "interface", "input", "controller", "memory": the element's name. */
const char *device_kind_to_string(enum device_kind kind);

/* Parses one device element as it would read inside <devices> (a MAC is generated for an
 * interface that gives none; aliases other than a user's are dropped, as the runtime data
 * of a start). An element other than <disk>, <interface>, <input> and <controller> is
 * ERR_OPERATION_UNSUPPORTED naming it; other errors as domain_def_parse. New device; caller
 * frees. */
struct device_def *domain_device_parse(const char *xml, GError **error);
void domain_device_free(struct device_def *dev);
/* Whether XML is a <graphics> element (update-device changes a VNC password through it). */
gboolean domain_device_is_graphics(const char *xml);
/* Parses one <graphics> element as it would read inside <devices>. New; free with
 * domain_def_graphics_free. */
struct graphics_def *domain_device_parse_graphics(const char *xml, GError **error);
typedef struct device_def device_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(device_def, domain_device_free)

/* The info (alias, address) of DEV. Borrowed. */
struct device_info *domain_device_info(const struct device_def *dev);

/* The array of DEF that holds devices of KIND. Borrowed. */
GPtrArray *domain_device_array(const struct domain_def *def, enum device_kind kind);

/* The device of DEF that DEV names, as libvirt matches them: a disk by its target, an
 * interface by its MAC when one was given (else the only one), an input by type and bus, a
 * controller by type and index; a user's alias in DEV must match too. *RET_INDEX is its place
 * in the array of its kind. None: ERR_DEVICE_MISSING; several: ERR_OPERATION_FAILED. */
gboolean domain_device_find(const struct domain_def *def, const struct device_def *dev,
                            guint *ret_index, GError **error);

/* The device of DEF whose alias is ALIAS: its kind and its index. None: ERR_DEVICE_MISSING. */
gboolean domain_device_find_alias(const struct domain_def *def, const char *alias,
                                  enum device_kind *ret_kind, guint *ret_index, GError **error);

/* Adds a copy of DEV to DEF and checks what a definition holds across devices: a disk target,
 * a MAC given by the user, a controller's type and index, a user's alias used once
 * (ERR_OPERATION_INVALID naming what is taken), boot orders. *RET_INDEX: where it went.
 * On failure DEF may hold the device: work on a copy. */
gboolean domain_device_add(struct domain_def *def, const struct device_def *dev, guint *ret_index,
                           GError **error);

/* Removes (and frees) the device of KIND at INDEX. */
void domain_device_remove(struct domain_def *def, enum device_kind kind, guint index);

/* The device of KIND at INDEX of DEF as a view (borrowed pointers: do not free). */
struct device_def domain_device_at(const struct domain_def *def, enum device_kind kind,
                                   guint index);
