/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procs: what libvirt 9.0's protocol says of each procedure of its remote and QEMU programs,
 * whether or not Domus implements it: its name, the public API function behind it, whether a
 * read-only connection may call it, and its priority; prefix rpc_proc_. The daemon's
 * handlers are bound to these numbers in src/daemon/; read-only refusals are decided here
 * and nowhere else. */
#pragma once

#include <glib.h>
#include <stdint.h>

enum rpc_proc_access {
    PROC_UNKNOWN,         /* no such procedure */
    PROC_EVENT,           /* a message the daemon sends; never a call */
    PROC_RO_OK,           /* allowed on a read-only connection */
    PROC_RO_DENIED,       /* never on a read-only connection */
    PROC_RO_DENIED_FLAGS, /* not with any of ro_flags set (the "secure" XML flags) */
    PROC_RO_DENIED_AGENT, /* not when its source argument is the guest agent (1) */
};

struct rpc_proc_info {
    uint32_t number;
    const char *name; /* "DOMAIN_DESTROY" */
    const char *api;  /* "virDomainDestroy": named in refusals */
    enum rpc_proc_access access;
    gboolean high_priority; /* libvirt answers these without waiting for anything */
    uint32_t ro_flags;
    const char *ro_message; /* the refusal's own text, or NULL: "read only access prevents API" */
    int origin;             /* the libvirt error domain refusals come from */
};

/* The procedure NUMBER of program PROG (RPC_PROGRAM_REMOTE or RPC_PROGRAM_QEMU), or NULL when
 * libvirt 9.0 has no such procedure. */
const struct rpc_proc_info *rpc_proc_lookup(uint32_t prog, uint32_t number);

/* Whether a read-only connection is refused this call: FLAGS is the call's flags argument
 * (0 when it has none), SOURCE its interface-address source (0 otherwise). Sets ERROR as
 * libvirt words it (VIR_ERR_OPERATION_DENIED). */
gboolean rpc_proc_readonly_denied(const struct rpc_proc_info *info, uint32_t flags, int32_t source,
                                  GError **error);
