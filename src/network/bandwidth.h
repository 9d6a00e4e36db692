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
/* Removes DEV's shaping (what is not there is fine). */
void bandwidth_clear(const char *dev);
