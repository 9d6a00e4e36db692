/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage_dispatch: the storage procedures' table, joined to dispatch.c's. */
#pragma once

#include "daemon/server.h"

typedef void (*handler_fn)(struct call *call, struct xdr_reader *args);

struct proc_entry {
    uint32_t proc;
    const char *name;
    handler_fn handler;
    gboolean needs_write;
};

extern const struct proc_entry storage_procs[];
/* Domus's own program: what libvirt's protocol has no procedure for (wipe progress). */
extern const struct proc_entry domus_procs[];
extern const gsize domus_procs_count;
extern const gsize storage_procs_count;
