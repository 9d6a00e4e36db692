/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ports: picking a free TCP port for a listener QEMU opens next (SPICE, incoming migrations,
 * an NBD server); prefix ports_. The port is free when the call returns; QEMU binds it right
 * after, so the window is short (libvirt's port allocator has the same one). */
#pragma once

#include <glib.h>

/* The first port of LO..HI on HOST (an address or a name) that SKIP (ports as
 * GINT_TO_POINTER; may be NULL) does not hold and that can be bound now (with SO_REUSEADDR,
 * as QEMU binds). -1 with ERROR (ERR_OPERATION_FAILED of ORIGIN, naming HOST): HOST does not
 * resolve, a bind fails otherwise than for a port in use, or none is free. */
int ports_find_free(int origin, const char *host, unsigned lo, unsigned hi, GHashTable *skip,
                    GError **error);
