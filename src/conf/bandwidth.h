/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bandwidth: <bandwidth><inbound …/><outbound …/></bandwidth> of interfaces, networks and
 * portgroups, in libvirt's units, as its netdev_bandwidth_conf reads and writes it; prefix
 * bandwidth_def_. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* One direction: KiB/s (average, peak, floor) and KiB (burst); 0: not given. A floor is a
 * share of a network's inbound rate guaranteed to one interface. */
struct bandwidth_rate {
    guint64 average, peak, burst, floor;
};

/* The largest rate in KiB/s tc's 32-bit byte rates hold. */
#define BANDWIDTH_RATE_MAX ((guint64)G_MAXUINT32 / 1024 * 8)

/* Whether R limits or guarantees anything (an average or a floor). */
gboolean bandwidth_rate_given(const struct bandwidth_rate *r);

/* Parses NODE into *RET_IN and *RET_OUT (both zeroed first). A direction needs an average or,
 * inbound with FLOOR_OK, a floor; a peak is not below its average. Errors (origin ORIGIN):
 * ERR_XML_DETAIL ("Missing mandatory average or floor attributes", a peak below the
 * average), ERR_XML_ERROR (a direction twice, not a number), ERR_INVALID_ARG (out of range),
 * ERR_CONFIG_UNSUPPORTED (a floor where none may be, an unknown attribute or element). */
/* RET_CLASS_ID, when not NULL, gets classID= (the tc class of a port's floor, runtime state
 * in a live definition; 0 when absent); with NULL classID= is refused. */
gboolean bandwidth_def_parse(int origin, xmlNodePtr node, gboolean floor_ok,
                             struct bandwidth_rate *ret_in, struct bandwidth_rate *ret_out,
                             unsigned *ret_class_id, GError **error);
/* Appends <bandwidth> at LEVEL (two spaces each), with classID= when CLASS_ID is not 0;
 * nothing when neither direction is given. */
void bandwidth_def_format(GString *buf, int level, const struct bandwidth_rate *in,
                          const struct bandwidth_rate *out, unsigned class_id);
