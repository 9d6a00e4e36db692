/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tls: libvirt's remote protocol over TLS (GnuTLS), for both ends; prefix rpc_tls_.
 * Credentials (rpc_tls_creds) are x509 files in libvirt's layout, checked at load as
 * libvirt checks them (times, CA constraints, key usage and purpose, the pair against the
 * CA). A session (rpc_tls) runs over a non-blocking socket: its handshake is driven step by
 * step by the caller's loop, then the peer's certificate is checked (the server's against the
 * host name the client dialled; the client's against the allowed-DN globs). */
#pragma once

#include <glib.h>

struct rpc_tls_creds;
struct rpc_tls;

/* libvirt's file names inside a pki directory, and its default paths */
struct rpc_tls_files {
    char *cacert;
    char *cacrl; /* may be missing on disk: then no revocation list */
    char *cert;
    char *key;
};

/* The files in DIR (libvirt's pkipath names: cacert.pem, cacrl.pem, servercert.pem /
 * serverkey.pem or clientcert.pem / clientkey.pem); DIR NULL: libvirt's system paths
 * (/etc/pki/CA/cacert.pem, /etc/pki/libvirt/servercert.pem, …). */
void rpc_tls_files_for(struct rpc_tls_files *ret, const char *dir, gboolean server);
void rpc_tls_files_clear(struct rpc_tls_files *f);

/* Loads and checks FILES. SERVER: the certificate must be a TLS server's. ALLOWED_DN (server
 * only; NULL: any client the CA signed) is a NULL-terminated list of globs matched against a
 * client's distinguished name as virt-pki-query-dn prints it. PRIORITY: GnuTLS's priority
 * string (NULL: "NORMAL"). NULL with ERROR naming the file and what is wrong. */
struct rpc_tls_creds *rpc_tls_creds_new(const struct rpc_tls_files *files, gboolean server,
                                        const char *const *allowed_dn, const char *priority,
                                        GError **error);
/* A client without a certificate of its own (libvirt's client works without one when the
 * files are missing) still needs the CA. VERIFY FALSE: the server's certificate is not
 * checked (libvirt's no_verify=1). */
struct rpc_tls_creds *rpc_tls_creds_new_client(const struct rpc_tls_files *files, gboolean verify,
                                               GError **error);
void rpc_tls_creds_free(struct rpc_tls_creds *c);
typedef struct rpc_tls_creds rpc_tls_creds;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rpc_tls_creds, rpc_tls_creds_free)

/* A session over FD (not owned). HOSTNAME: on a client, the name the server's certificate
 * must carry. CREDS must outlive the session. */
struct rpc_tls *rpc_tls_new(struct rpc_tls_creds *creds, int fd, const char *hostname,
                            GError **error);
void rpc_tls_free(struct rpc_tls *t);
typedef struct rpc_tls rpc_tls;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(rpc_tls, rpc_tls_free)

enum rpc_tls_step { RPC_TLS_DONE, RPC_TLS_WANT_READ, RPC_TLS_WANT_WRITE, RPC_TLS_FAILED };

/* One step of the handshake; FAILED sets ERROR. */
enum rpc_tls_step rpc_tls_handshake(struct rpc_tls *t, GError **error);
/* After the handshake: the peer's certificate as libvirt checks it. ERROR says why not. */
gboolean rpc_tls_check_peer(struct rpc_tls *t, GError **error);
/* The peer's distinguished name once checked (NULL before, or without a certificate). */
const char *rpc_tls_peer_dn(const struct rpc_tls *t);

/* Like recv()/send() on a non-blocking socket: bytes moved, 0 on end of file (recv), -1 with
 * errno (EAGAIN: try again when the socket is ready; EPROTO: a TLS error). A send that
 * returned EAGAIN must be repeated with the same data. */
gssize rpc_tls_recv(struct rpc_tls *t, void *buf, gsize len);
gssize rpc_tls_send(struct rpc_tls *t, const void *buf, gsize len);
/* Whether the last send that returned EAGAIN waits to write (else to read). */
gboolean rpc_tls_wants_write(const struct rpc_tls *t);
/* Decrypted bytes held inside the session: readable without the socket being readable. */
gsize rpc_tls_pending(const struct rpc_tls *t);
