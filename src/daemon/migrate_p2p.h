/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate_p2p: peer-to-peer migration, the source daemon driving the destination itself;
 * prefix migrate_p2p_. */
#pragma once

#include "core/migrate.h"
#include "daemon/server.h"

/* Migrates DOM to the daemon at DCONNURI (P: the client's parameters, copied; FLAGS with
 * PEER2PEER) and answers CALL (Perform's) once the guest runs on exactly one host. */
void migrate_p2p_start(struct call *call, struct domain *dom, const struct migrate_params *p,
                       const char *dconnuri, unsigned flags);
