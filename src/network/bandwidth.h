/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bandwidth: an interface's <bandwidth> applied to its tap with tc (bandwidth.c). */
#pragma once

#include <glib.h>

#include "conf/domain_def.h"

/* Replaces DEV's shaping with IN (to the guest) and OUT (from the guest); a rate with
 * average 0, or NULL, is no limit that way. On failure DEV is left without shaping.
 * Errors: ERR_OPERATION_FAILED with tc's message. */
gboolean bandwidth_set(const char *dev, const struct bandwidth_rate *in,
                       const struct bandwidth_rate *out, GError **error);
/* A network's <bandwidth> on its BRIDGE, as libvirt sets it: IN (to the guests) shapes what
 * leaves the bridge, in an HTB class 1:1 whose child 1:2 takes every port without a floor;
 * OUT (from the guests) polices what enters it. */
gboolean bandwidth_set_bridge(const char *bridge, const struct bandwidth_rate *in,
                              const struct bandwidth_rate *out, GError **error);
/* A port's floor on BRIDGE (shaped with NET_IN): class 1:ID guaranteed IN's floor, up to its
 * peak or average (else the network's), traffic to MAC sorted into it by a u32 filter; class
 * 1:2 keeps what FLOORS (the other ports' floors) and this one leave. Without u32 the plug is
 * undone and ERR_OPERATION_UNSUPPORTED says so. Unplug removes the class and gives 1:2 what
 * FLOORS (the remaining ones) leave. */
gboolean bandwidth_floor_plug(const char *bridge, const struct bandwidth_rate *net_in, unsigned id,
                              const uint8_t *mac, const struct bandwidth_rate *in, guint64 floors,
                              GError **error);
gboolean bandwidth_floor_unplug(const char *bridge, const struct bandwidth_rate *net_in,
                                unsigned id, guint64 floors, GError **error);
/* Removes DEV's shaping (what is not there is fine). */
void bandwidth_clear(const char *dev);
