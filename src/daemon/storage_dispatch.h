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

/* Helpers every handler table shares (dispatch.c). */
struct core *dispatch_core(struct call *call);
/* Replies ERROR to CALL and frees both. */
void dispatch_fail(struct call *call, GError *error);
/* Finishes decoding; on bad arguments replies the error and returns FALSE. */
gboolean dispatch_args_done(struct call *call, struct xdr_reader *args);
void dispatch_reply_int(struct call *call, int32_t v);
void dispatch_reply_string(struct call *call, const char *s);

extern const struct proc_entry storage_procs[];
/* Domus's own program: what libvirt's protocol has no procedure for (wipe progress). */
extern const struct proc_entry domus_procs[];
extern const gsize domus_procs_count;
extern const gsize storage_procs_count;
