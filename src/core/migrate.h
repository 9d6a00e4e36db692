/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate: a domain moving to another host, in libvirt's v3 protocol with parameters; prefix
 * core_migrate_ (the phases), migrate_ (what both sides share, migrate.c). The source runs
 * Begin (the definition and a cookie), Perform (QEMU's migration, a job with progress that
 * domjobabort cancels) and Confirm (its QEMU goes, or the guest runs on); the destination
 * runs Prepare (a QEMU listening for the state) and Finish (the guest runs here, or that QEMU
 * goes). Whoever drives it (a client, or the source daemon itself) carries the cookies. */
#pragma once

#include <json-glib/json-glib.h>

#include "core/core.h"

struct migration_cookie;

/* libvirt's virDomainMigrateFlags */
enum {
    MIGRATE_LIVE = 1 << 0,
    MIGRATE_PEER2PEER = 1 << 1,
    MIGRATE_TUNNELLED = 1 << 2,
    MIGRATE_PERSIST_DEST = 1 << 3,
    MIGRATE_UNDEFINE_SOURCE = 1 << 4,
    MIGRATE_PAUSED = 1 << 5,
    MIGRATE_NON_SHARED_DISK = 1 << 6,
    MIGRATE_NON_SHARED_INC = 1 << 7,
    MIGRATE_CHANGE_PROTECTION = 1 << 8,
    MIGRATE_UNSAFE = 1 << 9,
    MIGRATE_OFFLINE = 1 << 10,
    MIGRATE_COMPRESSED = 1 << 11,
    MIGRATE_ABORT_ON_ERROR = 1 << 12,
    MIGRATE_AUTO_CONVERGE = 1 << 13,
    MIGRATE_RDMA_PIN_ALL = 1 << 14,
    MIGRATE_POSTCOPY = 1 << 15,
    MIGRATE_TLS = 1 << 16,
    MIGRATE_PARALLEL = 1 << 17,
    MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES = 1 << 18,
    MIGRATE_POSTCOPY_RESUME = 1 << 19,
    MIGRATE_ZEROCOPY = 1 << 20,
    MIGRATE_FLAGS_ALL = (1 << 21) - 1,
};

/* The migration parameters of a call (virTypedParameter names in comments), decoded. */
struct migrate_params {
    char *uri;                  /* migrate_uri: where QEMU's stream goes ("tcp://HOST[:PORT]") */
    char *dname;                /* destination_name */
    char *dxml;                 /* destination_xml */
    char *persist_xml;          /* persistent_xml */
    char *listen_address;       /* listen_address: where the destination's QEMU listens */
    char *tls_destination;      /* tls.destination: the name the destination's certificate
                                 * has (NULL: the host of the URI) */
    guint64 bandwidth;          /* bandwidth, MiB/s; 0: the domain's setting */
    guint64 postcopy_bandwidth; /* bandwidth.postcopy, MiB/s; 0: no limit */
    char **compression;         /* compression (repeated): "xbzrle", "mt"; NULL: xbzrle */
    int mt_level, mt_threads, mt_dthreads; /* compression.mt.*; -1: QEMU's default */
    gint64 xbzrle_cache;                   /* compression.xbzrle.cache, bytes; -1: default */
    int ac_initial, ac_increment;          /* auto_converge.*; -1: QEMU's default */
    int parallel_connections;              /* parallel.connections; 0: QEMU's default */
    char **migrate_disks; /* migrate_disks (repeated): the disks to copy; NULL: every one */
    int disks_port;       /* disks_port: the destination's NBD port; 0: one of the range */
};

/* Parameters none of which is given (QEMU's defaults wherever -1 stands for them). */
void migrate_params_init(struct migrate_params *p);
void migrate_params_clear(struct migrate_params *p);
typedef struct migrate_params migrate_params;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(migrate_params, migrate_params_clear)
/* Reads PARAMS (struct typed_param *, core/guest.h) into RET (cleared first). An unknown name,
 * a wrong type or a repeated name that may appear once is ERR_INVALID_ARG naming it; one
 * Domus cannot honour yet is ERR_ARGUMENT_UNSUPPORTED. */
gboolean migrate_params_parse(const GPtrArray *params, struct migrate_params *ret, GError **error);

/* P as FIELD, VALUE, … NULL under libvirt's names (what a source daemon hands on to the
 * destination itself). New vector. */
char **migrate_params_to_pairs(const struct migrate_params *p);

/* Refuses FLAGS that make no sense together or that Domus does not do (yet), naming them:
 * ERR_ARGUMENT_UNSUPPORTED / ERR_OPERATION_INVALID as libvirt. */
gboolean migrate_check_flags(unsigned flags, GError **error);

/* --tls: the files QEMU's credentials take from migrate_tls_x509_cert_dir are there (SERVER:
 * an incoming migration's), else ERR_OPERATION_INVALID naming the first one missing. */
gboolean migrate_tls_check(struct core *core, gboolean server, GError **error);
/* A new name for a migration's TLS credentials object in QEMU. */
char *migrate_tls_id(void);
/* "tcp://HOST[:PORT]" or "tcp:HOST[:PORT]" into HOST (brackets kept off) and PORT (0: none).
 * ERR_INVALID_ARG for anything else. */
gboolean migrate_parse_uri(const char *uri, char **ret_host, guint *ret_port, GError **error);
/* QEMU of DOM (if it still runs) forgets the credentials ID: TLS off, the object gone. */
void migrate_tls_drop(struct domain *dom, const char *id);
/* object-add's arguments for a tls-creds-x509 object ID from DIR (a SERVER checks its
 * clients' certificates when VERIFY; a client always checks the server's); core.c. */
JsonObject *core_tls_object(const char *id, const char *dir, gboolean server, gboolean verify);
/* object-add's arguments for the credentials ID (SERVER: the listening side's). */
JsonObject *migrate_tls_object(struct core *core, const char *id, gboolean server);

/* QEMU's migration capabilities and parameters for FLAGS and P, the same on both sides (the
 * destination's QEMU must expect what the source sends). SOURCE: also what only the sender
 * sets (auto-converge, bandwidth, downtime of DOM). TLS_ID: the credentials object of a --tls
 * migration (without --tls a previous migration's TLS is turned off). Returns a new
 * NULL-ended list; the parameters go to *RET_PARAMS (new). */
char **migrate_qemu_setup(struct domain *dom, unsigned flags, const struct migrate_params *p,
                          gboolean source, const char *tls_id, JsonObject **ret_params);

/* This host's name, as the cookies carry it. New string. */
char *migrate_hostname(void);

typedef void (*migrate_cookie_fn)(GError *error, char *cookie, gpointer data);
typedef void (*migrate_prepare_fn)(GError *error, char *uri, char *cookie, gpointer data);
typedef void (*migrate_finish_fn)(GError *error, struct domain *dom, char *cookie, gpointer data);

/* --- source (migrate_out.c) --- */

/* Begin: the definition the destination is to run (the live one, or P->dxml checked against
 * it; inactive for OFFLINE) and the cookie that tells the destination who we are and which
 * disks it must share. New strings. */
char *core_migrate_begin(struct domain *dom, const struct migrate_params *p, unsigned flags,
                         char **ret_cookie, GError **error);
/* Perform: QEMU sends the guest to P->uri (the destination's answer to Prepare). A job of
 * type JOB_MIGRATION_OUT; DONE hears once QEMU has sent everything (the guest then waits,
 * paused, for Confirm) or why it failed (the guest runs on here). OWNER is the connection
 * that drives it: its loss cancels a migration in progress, and leaves a finished one paused
 * (whether the destination runs the guest is then unknown). FD (taken over; -1: none): a
 * tunnelled migration, QEMU writes its stream there instead of to P->uri. */
void core_migrate_perform(struct domain *dom, const struct migrate_params *p, const char *cookie,
                          gsize cookie_len, unsigned flags, int fd, gpointer owner,
                          migrate_cookie_fn done, gpointer data);
/* Confirm: CANCELLED: the destination does not run the guest, it runs on here; else QEMU here
 * goes (shut off, migrated; undefined with UNDEFINE_SOURCE). OFFLINE: only the undefine. */
void core_migrate_confirm(struct domain *dom, unsigned flags, gboolean cancelled, core_done_fn done,
                          gpointer data);

/* --- destination (migrate_in.c) --- */

/* Prepare: checks the definition (P->dxml), the host and the disks, and starts a QEMU that
 * listens for the guest; DONE gets the URI the source is to send to and the cookie. The
 * address is P->uri's, else the configured migration_address, else LOCAL_ADDRESS (where the
 * client reached this daemon; NULL over a unix socket: this host's name, unless it stands for
 * a loopback address). OWNER: the connection whose loss before Finish stops that QEMU.
 * TUNNEL_FD (taken over; -1: none): a tunnelled migration, QEMU reads the stream the daemons
 * carry from there (no URI then). */
void core_migrate_prepare(struct core *core, const struct migrate_params *p, const char *cookie,
                          gsize cookie_len, unsigned flags, const char *local_address,
                          gpointer owner, int tunnel_fd, migrate_prepare_fn done, gpointer data);
/* Finish: the source's outcome. CANCELLED: the QEMU of the incoming guest goes; else the guest
 * runs here (paused with PAUSED; persistent with PERSIST_DEST) and COOKIE's figures (the
 * source's Perform) are the incoming job's. DONE gets the domain. */
void core_migrate_finish(struct core *core, const struct migrate_params *p, const char *cookie,
                         gsize cookie_len, unsigned flags, gboolean cancelled,
                         migrate_finish_fn done, gpointer data);

/* An outgoing migration the daemon died in the middle of, found when its QEMU was adopted
 * (RUNNING: what QEMU says now): still under way, it is cancelled and a guest it paused runs
 * again; over (QEMU sent everything), the guest stays paused, since the destination may run
 * it, and the log says so. */
void core_migrate_recover(struct domain *dom, gboolean running);

/* virDomainSuspend while DOM's outgoing migration runs: the vCPUs stop (paused, migrating)
 * and a failed migration resumes them. FALSE: no migration runs, DONE is not called. */
gboolean core_migrate_suspend(struct domain *dom, core_done_fn done, gpointer data);
/* QEMU reported an I/O error (WHY) on disk DISK: a migration with ABORT_ON_ERROR is cancelled
 * and fails with ERR_OPERATION_FAILED saying so. */
void core_migrate_io_error(struct domain *dom, const char *disk, const char *why);

/* virDomainMigrateStartPostCopy: DOM's migration (started with POSTCOPY) switches to
 * post-copy. ERR_OPERATION_INVALID when none runs or it cannot. */
gboolean core_migrate_start_postcopy(struct domain *dom, GError **error);

/* A MIGRATION event's STATUS for DOM, which runs here while post-copy brings the rest of its
 * memory: completed, it is simply here; failed, its memory is split and it is paused. */
void core_migrate_postcopy_in(struct domain *dom, const char *status);

/* The connection OWNER is gone (lifecycle.c calls this from core_autodestroy_owner). */
void core_migrate_owner_gone(struct core *core, gpointer owner);

/* migrate-setmaxdowntime / migrate-setspeed of a domain: kept for its next migration and
 * given to QEMU at once when one runs. */
gboolean core_migrate_set_downtime(struct domain *dom, guint64 ms, GError **error);
gboolean core_migrate_set_speed(struct domain *dom, guint64 mib_per_s, GError **error);

/* virDomainMigrate{Get,Set}CompressionCache: QEMU's XBZRLE cache of running DOM, in bytes
 * (SET: BYTES first). DONE gets the size now, or ERR_OPERATION_INVALID (not running) or
 * ERR_OPERATION_FAILED (QEMU refused, saying why). */
typedef void (*migrate_cache_fn)(GError *error, guint64 bytes, gpointer data);
void core_migrate_compression_cache(struct domain *dom, gboolean set, guint64 bytes,
                                    migrate_cache_fn done, gpointer data);
