/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dispatch: the daemon's procedure table; prefix dispatch_ (the dispatcher and the helpers
 * every handler shares), args_ (argument decoders shared by several procedures).
 *
 * A call goes through one path: the procedure is looked up in libvirt's table
 * (src/rpc/procs.c: unknown numbers and event numbers are refused there), a read-only
 * connection is refused what libvirt refuses it, the arguments are decoded completely (the
 * handle of the object the call is about, the procedure's own arguments, the trailing flags
 * word), flags outside what the procedure accepts are refused, the object is looked up, and
 * only then does the handler run, with everything typed in a struct call_ctx. A procedure
 * libvirt has and Domus does not implement is refused with VIR_ERR_NO_SUPPORT naming its API
 * function. Each family of procedures has its own file and table (proc_*.c). */
#pragma once

#include "daemon/server.h"
#include "rpc/procs.h"

struct pool;
struct network;

/* What a call is about, decoded before its own arguments. */
enum proc_handle {
    HANDLE_NONE,
    HANDLE_DOMAIN,     /* remote_nonnull_domain, found by uuid */
    HANDLE_POOL,       /* remote_nonnull_storage_pool, found by uuid */
    HANDLE_VOLUME,     /* remote_nonnull_storage_vol: pool name, volume name, key */
    HANDLE_NETWORK,    /* remote_nonnull_network, found by uuid */
    HANDLE_SNAPSHOT,   /* remote_nonnull_domain_snapshot: its name, then its domain */
    HANDLE_CHECKPOINT, /* remote_nonnull_domain_checkpoint: its name, then its domain */
};

/* A procedure's own arguments: decoded into a struct of SIZE bytes (zeroed first), cleared
 * after the handler returned. DECODE reads from R and leaves failures to R's sticky flag. */
struct args_type {
    gsize size;
    void (*decode)(struct xdr_reader *r, void *args);
    void (*clear)(void *args);
};

/* Everything a handler gets, checked. Valid while the handler runs: an asynchronous handler
 * copies or references what it keeps. */
struct call_ctx {
    uint32_t flags;
    struct domain *dom;                /* HANDLE_DOMAIN */
    struct pool *pool;                 /* HANDLE_POOL, HANDLE_VOLUME */
    const char *vol;                   /* HANDLE_VOLUME: the volume's name in POOL */
    struct network *net;               /* HANDLE_NETWORK */
    struct snapshot_def *snap;         /* HANDLE_SNAPSHOT (with DOM) */
    struct checkpoint_def *checkpoint; /* HANDLE_CHECKPOINT (with DOM) */
    const void *args;                  /* the procedure's own arguments (its args_type's struct) */
};

struct proc_def {
    uint32_t prog;
    uint32_t proc;
    enum proc_handle handle;
    const struct args_type *args; /* NULL: none besides the handle and flags */
    gboolean flagged;             /* a flags word ends the arguments */
    uint32_t flags;               /* the flags accepted */
    void (*handler)(struct call *call, const struct call_ctx *ctx);
};

/* The tables, one per family of procedures. */
extern const struct proc_def host_procs[];
extern const gsize host_procs_count;
extern const struct proc_def domain_procs[];
extern const gsize domain_procs_count;
extern const struct proc_def snapshot_procs[];
extern const gsize snapshot_procs_count;
extern const struct proc_def stats_procs[];
extern const gsize stats_procs_count;
extern const struct proc_def device_procs[];
extern const gsize device_procs_count;
extern const struct proc_def resources_procs[];
extern const gsize resources_procs_count;
extern const struct proc_def save_procs[];
extern const gsize save_procs_count;
extern const struct proc_def event_procs[];
extern const gsize event_procs_count;
extern const struct proc_def guest_procs[];
extern const gsize guest_procs_count;
extern const struct proc_def storage_procs[];
extern const gsize storage_procs_count;
extern const struct proc_def network_procs[];
extern const gsize network_procs_count;
extern const struct proc_def secret_procs[];
extern const gsize secret_procs_count;
extern const struct proc_def nodedev_procs[];
extern const gsize nodedev_procs_count;
extern const struct proc_def domus_procs[];
extern const gsize domus_procs_count;
extern const struct proc_def blockjob_procs[];
extern const gsize blockjob_procs_count;
extern const struct proc_def migrate_procs[];
extern const gsize migrate_procs_count;
extern const struct proc_def domus_snapshot_procs[];
extern const gsize domus_snapshot_procs_count;
extern const struct proc_def checkpoint_procs[];
extern const gsize checkpoint_procs_count;
extern const struct proc_def cpu_procs[];
extern const gsize cpu_procs_count;

/* VIR_TYPED_PARAM_STRING_OKAY: a client's remote driver adds it to every call that reads typed
 * parameters (it takes string values) */
#define PARAM_STRING_OKAY 4u

/* Shared argument shapes. */
struct arg_string {
    char *s;
};
struct arg_opt_string {
    char *s; /* NULL: absent */
};
struct arg_int {
    int32_t v;
};
struct arg_uuid {
    uint8_t uuid[UUID_LEN];
};
extern const struct args_type args_string;     /* remote_nonnull_string */
extern const struct args_type args_opt_string; /* remote_string */
extern const struct args_type args_int;        /* int */
extern const struct args_type args_uuid;       /* remote_uuid */
/* remote_domain_set_vcpu_args and remote_domain_set_guest_vcpus_args: cpumap, state */
struct arg_map_state {
    char *map;
    int32_t state;
};
extern const struct args_type args_map_state;
/* remote_typed_param<16> from a client (SET_*_PARAMETERS): struct typed_param * (core/guest.h);
 * a double is refused (no parameter we take is one). */
struct arg_params {
    GPtrArray *params;
};
extern const struct args_type args_params;
/* remote_typed_param<MAX>: a new array of struct typed_param * (never NULL; R's sticky flag
 * says whether it is whole). */
GPtrArray *args_decode_params(struct xdr_reader *r, guint max);

/* Decodes a call's arguments exactly as dispatch does, then frees them: what the fuzzer
 * (tests/fuzz) drives. TRUE for procedures without a handler (nothing to decode). */
gboolean dispatch_decode_args(uint32_t prog, uint32_t proc, const uint8_t *body, gsize len,
                              GError **error);

/* Helpers every handler shares. */
struct core *dispatch_core(struct call *call);
/* Replies ERROR (consumed) to CALL. */
void dispatch_fail(struct call *call, GError *error);
void dispatch_reply_int(struct call *call, int32_t v);
void dispatch_reply_u64(struct call *call, uint64_t v);
void dispatch_reply_string(struct call *call, const char *s);
/* Completion of asynchronous core operations that answer nothing but success. */
void dispatch_done_empty(GError *error, gpointer call);
/* Snapshots and checkpoints ("moments"): remote_nonnull_domain_snapshot and _checkpoint are
 * NAME then DOM. A handle into B; a reply holding one; the completion of a create (DATA from
 * dispatch_moment_call: CALL and a reference on DOM), which replies the new one's handle. */
void dispatch_put_moment(GByteArray *b, struct domain *dom, const char *name);
void dispatch_reply_moment(struct call *call, struct domain *dom, const char *name);
gpointer dispatch_moment_call(struct call *call, struct domain *dom);
void dispatch_moment_created(GError *error, const char *name, gpointer data);
/* Refuses (ERR_OPERATION_INVALID "domain 'X' is not running") an inactive DOM; FALSE when
 * refused. */
gboolean dispatch_require_running(struct call *call, struct domain *dom);
/* One remote_typed_param appended to B: FIELD, its virTypedParameterType, its value. */
void dispatch_param_int(GByteArray *b, const char *field, int32_t v);
void dispatch_param_bool(GByteArray *b, const char *field, gboolean v);
void dispatch_param_uint(GByteArray *b, const char *field, uint32_t v);
void dispatch_param_llong(GByteArray *b, const char *field, int64_t v);
void dispatch_param_ullong(GByteArray *b, const char *field, uint64_t v);
void dispatch_param_string(GByteArray *b, const char *field, const char *v);
/* remote_typed_param<> of PARAMS (struct typed_param *, core/guest.h): count, then each. */
void dispatch_put_typed_params(GByteArray *b, const GPtrArray *params);
/* Replies REPLY (may be NULL) to CALL and streams FD (taken) from its offset 0 to its end to
 * the client, then EOF; NOUN and WHAT name it in messages ("screenshot", "of domain 'x'"). */
void dispatch_stream_fd(struct call *call, int fd, const char *noun, const char *what,
                        GByteArray *reply);
/* Refuses a list size a client asked for beyond MAX (ERR_RPC); FALSE when refused. */
gboolean dispatch_check_max(struct call *call, int asked, int max);
