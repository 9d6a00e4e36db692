/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names: validation of object names that become file names; prefix names_. */
#pragma once

#include <glib.h>

#define NAMES_MAX_LEN 200

/* Checks that NAME is a safe object name: 1..NAMES_MAX_LEN bytes of letters, digits and
 * "-_.+:@", not starting with '.' or '-'. WHAT names the object kind in the message
 * ("domain"). Error: ERR_INVALID_ARG with origin ORIGIN. */
gboolean names_validate(const char *name, const char *what, int origin, GError **error);
