/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config: domusd.conf, in libvirtd.conf's syntax (key = value, # comments); prefix
 * daemon_config_. Unknown keys and bad values are errors naming the line. */
#pragma once

#include <glib.h>

#include "daemon/server.h"

struct daemon_config {
    struct server_limits limits;
    guint monitor_timeout_ms; /* 0: the default */
    guint job_wait_ms;        /* how long a call waits for a domain's job (libvirt: 30 s) */
};

void daemon_config_default(struct daemon_config *ret);
/* Reads PATH over the defaults in CFG. A missing file is not an error when OPTIONAL. */
gboolean daemon_config_load(struct daemon_config *cfg, const char *path, gboolean optional,
                            GError **error);
