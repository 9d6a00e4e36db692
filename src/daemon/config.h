/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config: domusd.conf, a GLib key file (docs/architecture.md lists every key); prefix
 * daemon_config_. Unknown groups and keys and bad values are errors naming them. */
#pragma once

#include <glib.h>

#include "daemon/server.h"

struct daemon_config {
    struct server_limits limits;
    guint monitor_timeout_ms; /* 0: the default */
    guint job_wait_ms;        /* how long a call waits for a domain's job (libvirt: 30 s) */
    /* where an incoming migration's QEMU listens: ports, and the address handed out (NULL:
     * the one the migrating client reached this daemon at) */
    guint migration_port_min, migration_port_max;
    char *migration_address;
    /* --tls migrations: QEMU's x509 credentials directory (libvirt's names: ca-cert.pem,
     * server-cert.pem, server-key.pem, client-cert.pem, client-key.pem), and whether an
     * incoming one checks the source's certificate */
    char *migrate_tls_dir;
    guint migrate_tls_verify;
    /* pull backups served over TLS: the same for QEMU's NBD server (qemu.conf's
     * backup_tls_x509_cert_dir, backup_tls_x509_verify) */
    char *backup_tls_dir;
    guint backup_tls_verify;
    /* the program save and managedsave write QEMU's stream through (qemu.conf's
     * save_image_format: raw, gzip, bzip2, xz, lzop); NULL: raw */
    char *save_image_format;
    char *snapshot_image_format; /* the same for external snapshots' memory images */
    /* the I/O engine of disks whose <driver io> names none: auto (io_uring where this host's
     * QEMU and kernel allow it, else QEMU's threads) or threads (QEMU's, as libvirt); NULL:
     * auto */
    char *default_disk_io;
    char *host_uuid; /* NULL: the state directory's own */
    /* [daemon] */
    char **listen;   /* tcp://… and tls://… URIs */
    char *log_level; /* debug, info, warn, error */
    char *log_file;
    /* also serve /run/libvirt/libvirt-sock{,-ro}: no, yes (an error while another daemon
     * serves them), or when free (libvirtd not installed and nobody serving) */
    enum daemon_libvirt_paths {
        LIBVIRT_PATHS_NO,
        LIBVIRT_PATHS_YES,
        LIBVIRT_PATHS_AUTO
    } libvirt_paths;
    /* [tls]: pki_dir holds libvirt's names; a file named alone overrides it */
    char *pki_dir;
    char *ca_file;
    char *cert_file;
    char *key_file;
    char *crl_file;
    char **tls_allowed_dn; /* globs over the client's DN; NULL: any client the CA signed */
    char *tls_priority;
};

void daemon_config_default(struct daemon_config *ret);
void daemon_config_clear(struct daemon_config *cfg);
typedef struct daemon_config daemon_config;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(daemon_config, daemon_config_clear)
/* Reads PATH over the defaults in CFG. A missing file is not an error when OPTIONAL. */
gboolean daemon_config_load(struct daemon_config *cfg, const char *path, gboolean optional,
                            GError **error);
/* "debug", "info", "warn", "error" into enum log_level. */
gboolean daemon_config_log_level(const char *name, int *ret_level);
