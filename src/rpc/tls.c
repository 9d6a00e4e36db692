/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tls: GnuTLS credentials and sessions. The checks and their wording follow libvirt's
 * virnettlscontext.c, so an admin who knows libvirt's messages reads ours the same way: a
 * critical key usage or purpose that does not fit is an error, a non-critical one is allowed
 * (libvirt only warns). */
#include "rpc/tls.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "util/err.h"

#define DEFAULT_PRIORITY "NORMAL"

struct rpc_tls_creds {
    gnutls_certificate_credentials_t x509;
    gboolean server;
    gboolean verify; /* check the peer's certificate */
    char **allowed_dn;
    char *priority;
};

struct rpc_tls {
    gnutls_session_t session;
    struct rpc_tls_creds *creds;
    int fd;
    char *hostname;
    char *peer_dn;
};

enum role { ROLE_CA, ROLE_SERVER, ROLE_CLIENT };

static const char *const role_names[] = {"CA", "server", "client"};

void
rpc_tls_files_for(struct rpc_tls_files *ret, const char *dir, gboolean server)
{
    const char *who = server ? "server" : "client";
    if (dir) {
        ret->cacert = g_build_filename(dir, "cacert.pem", NULL);
        ret->cacrl = g_build_filename(dir, "cacrl.pem", NULL);
        ret->cert = g_strdup_printf("%s/%scert.pem", dir, who);
        ret->key = g_strdup_printf("%s/%skey.pem", dir, who);
    } else {
        ret->cacert = g_strdup("/etc/pki/CA/cacert.pem");
        ret->cacrl = g_strdup("/etc/pki/CA/cacrl.pem");
        ret->cert = g_strdup_printf("/etc/pki/libvirt/%scert.pem", who);
        ret->key = g_strdup_printf("/etc/pki/libvirt/private/%skey.pem", who);
    }
}

void
rpc_tls_files_clear(struct rpc_tls_files *f)
{
    g_clear_pointer(&f->cacert, g_free);
    g_clear_pointer(&f->cacrl, g_free);
    g_clear_pointer(&f->cert, g_free);
    g_clear_pointer(&f->key, g_free);
}

/* --- certificate checks --- */

static gboolean
check_times(gnutls_x509_crt_t cert, const char *file, enum role role, GError **error)
{
    time_t now = time(NULL);
    if (gnutls_x509_crt_get_expiration_time(cert) < now) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "the %s certificate %s has expired",
                role_names[role], file);
        return FALSE;
    }
    if (gnutls_x509_crt_get_activation_time(cert) > now) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "the %s certificate %s is not yet active",
                role_names[role], file);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_constraints(gnutls_x509_crt_t cert, const char *file, enum role role, GError **error)
{
    int status = gnutls_x509_crt_get_basic_constraints(cert, NULL, NULL, NULL);
    if (status > 0 && role != ROLE_CA) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                "the certificate %s basic constraints show a CA, but we need one for a %s", file,
                role_names[role]);
        return FALSE;
    }
    if (status == 0 && role == ROLE_CA) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                "the certificate %s basic constraints do not show a CA", file);
        return FALSE;
    }
    if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && role == ROLE_CA) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                "the certificate %s is missing basic constraints for a CA", file);
        return FALSE;
    }
    if (status < 0 && status != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                "cannot read the basic constraints of certificate %s: %s", file,
                gnutls_strerror(status));
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_usage(gnutls_x509_crt_t cert, const char *file, enum role role, GError **error)
{
    unsigned int usage = 0, critical = 0;
    int status = gnutls_x509_crt_get_key_usage(cert, &usage, &critical);
    if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return TRUE; /* no key usage: anything goes */
    if (status < 0) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                "cannot read the key usage of certificate %s: %s", file, gnutls_strerror(status));
        return FALSE;
    }
    if (!critical)
        return TRUE;
    const char *missing = NULL;
    if (role == ROLE_CA && !(usage & GNUTLS_KEY_KEY_CERT_SIGN))
        missing = "certificate signing";
    else if (role != ROLE_CA && !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE))
        missing = "digital signature";
    else if (role != ROLE_CA && !(usage & GNUTLS_KEY_KEY_ENCIPHERMENT))
        missing = "key encipherment";
    if (missing) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "certificate %s usage does not permit %s",
                file, missing);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_purpose(gnutls_x509_crt_t cert, const char *file, enum role role, GError **error)
{
    gboolean allow = FALSE, critical = FALSE;
    const char *want = role == ROLE_SERVER ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT;
    unsigned int i;
    for (i = 0;; i++) {
        char oid[256];
        size_t size = sizeof(oid);
        unsigned int crit = 0;
        int status = gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &crit);
        if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (status < 0) {
            err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                    "cannot read the key purpose of certificate %s: %s", file,
                    gnutls_strerror(status));
            return FALSE;
        }
        critical |= crit != 0;
        /* a purpose other than the two TLS ones allows both, as libvirt reads it */
        if (g_str_equal(oid, want) || (!g_str_equal(oid, GNUTLS_KP_TLS_WWW_SERVER) &&
                                       !g_str_equal(oid, GNUTLS_KP_TLS_WWW_CLIENT)))
            allow = TRUE;
    }
    if (i == 0 || allow || !critical)
        return TRUE;
    err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
            "certificate %s purpose does not allow use with a TLS %s", file, role_names[role]);
    return FALSE;
}

static gboolean
check_cert(gnutls_x509_crt_t cert, const char *file, enum role role, GError **error)
{
    return check_times(cert, file, role, error) && check_constraints(cert, file, role, error) &&
           check_usage(cert, file, role, error) &&
           (role == ROLE_CA || check_purpose(cert, file, role, error));
}

static const char *
verify_reason(unsigned int status)
{
    if (status & GNUTLS_CERT_REVOKED)
        return "the certificate has been revoked";
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
        return "the certificate hasn't got a known issuer";
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        return "the certificate uses an insecure algorithm";
    if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
        return "the certificate is expired or not yet active";
    if (status & GNUTLS_CERT_INVALID)
        return "the certificate is not trusted";
    return "invalid certificate";
}

/* --- credentials --- */

static gboolean
load_certs(const char *file, gnutls_x509_crt_t **ret_list, unsigned int *ret_n, GError **error)
{
    gnutls_datum_t data = {NULL, 0};
    int rc = gnutls_load_file(file, &data);
    if (rc < 0) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot read certificate %s: %s", file,
                g_strerror(errno ? errno : ENOENT));
        return FALSE;
    }
    rc = gnutls_x509_crt_list_import2(ret_list, ret_n, &data, GNUTLS_X509_FMT_PEM, 0);
    gnutls_free(data.data);
    if (rc < 0 || *ret_n == 0) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                "%s holds no PEM certificate GnuTLS can read: %s", file,
                rc < 0 ? gnutls_strerror(rc) : "empty");
        return FALSE;
    }
    return TRUE;
}

static void
free_certs(gnutls_x509_crt_t *list, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        gnutls_x509_crt_deinit(list[i]);
    gnutls_free(list);
}

/* libvirt's sanity check: the CA certificates are CAs, our own certificate fits its role and
 * verifies against them. */
static gboolean
sanity_check(const struct rpc_tls_files *f, enum role role, GError **error)
{
    gnutls_x509_crt_t *cas = NULL, *own = NULL;
    unsigned int ncas = 0, nown = 0;
    gboolean ok = FALSE;
    if (!load_certs(f->cacert, &cas, &ncas, error))
        return FALSE;
    for (unsigned int i = 0; i < ncas; i++)
        if (!check_cert(cas[i], f->cacert, ROLE_CA, error))
            goto out;
    if (f->cert) {
        if (!load_certs(f->cert, &own, &nown, error) || !check_cert(own[0], f->cert, role, error))
            goto out;
        unsigned int status = 0;
        if (gnutls_x509_crt_list_verify(own, 1, cas, ncas, NULL, 0, 0, &status) < 0 || status) {
            err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                    "our own certificate %s failed validation against %s: %s", f->cert, f->cacert,
                    verify_reason(status));
            goto out;
        }
    }
    ok = TRUE;
out:
    free_certs(cas, ncas);
    free_certs(own, nown);
    return ok;
}

static struct rpc_tls_creds *
creds_new(const struct rpc_tls_files *f, gboolean server, gboolean with_cert, GError **error)
{
    if (!g_file_test(f->cacert, G_FILE_TEST_EXISTS)) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot read CA certificate '%s': %s",
                f->cacert, g_strerror(ENOENT));
        return NULL;
    }
    if (with_cert) {
        const char *files[] = {f->cert, f->key};
        const char *what[] = {"certificate", "private key"};
        for (int i = 0; i < 2; i++) {
            if (!g_file_test(files[i], G_FILE_TEST_EXISTS)) {
                err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot read %s '%s': %s", what[i],
                        files[i], g_strerror(ENOENT));
                return NULL;
            }
        }
    }
    struct rpc_tls_files check = *f;
    if (!with_cert)
        check.cert = NULL;
    if (!sanity_check(&check, server ? ROLE_SERVER : ROLE_CLIENT, error))
        return NULL;
    g_autoptr(rpc_tls_creds) c = g_new0(struct rpc_tls_creds, 1);
    c->server = server;
    c->verify = TRUE;
    int rc = gnutls_certificate_allocate_credentials(&c->x509);
    if (rc < 0) {
        c->x509 = NULL;
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot allocate x509 credentials: %s",
                gnutls_strerror(rc));
        return NULL;
    }
    rc = gnutls_certificate_set_x509_trust_file(c->x509, f->cacert, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot use CA certificate %s: %s",
                f->cacert, gnutls_strerror(rc));
        return NULL;
    }
    if (f->cacrl && g_file_test(f->cacrl, G_FILE_TEST_EXISTS)) {
        rc = gnutls_certificate_set_x509_crl_file(c->x509, f->cacrl, GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                    "cannot use certificate revocation list %s: %s", f->cacrl, gnutls_strerror(rc));
            return NULL;
        }
    }
    if (with_cert) {
        rc = gnutls_certificate_set_x509_key_file(c->x509, f->cert, f->key, GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR,
                    "cannot use key %s with certificate %s: %s", f->key, f->cert,
                    gnutls_strerror(rc));
            return NULL;
        }
    }
    return g_steal_pointer(&c);
}

struct rpc_tls_creds *
rpc_tls_creds_new(const struct rpc_tls_files *files, gboolean server, const char *const *allowed_dn,
                  const char *priority, GError **error)
{
    struct rpc_tls_creds *c = creds_new(files, server, TRUE, error);
    if (!c)
        return NULL;
    if (priority) {
        const char *where = NULL;
        gnutls_priority_t p;
        int rc = gnutls_priority_init(&p, priority, &where);
        if (rc < 0) {
            err_set(error, ERR_FROM_RPC, ERR_CONFIG_UNSUPPORTED,
                    "TLS priority '%s' is not valid at '%s': %s", priority, where ? where : "",
                    gnutls_strerror(rc));
            rpc_tls_creds_free(c);
            return NULL;
        }
        gnutls_priority_deinit(p);
    }
    c->allowed_dn = allowed_dn && allowed_dn[0] ? g_strdupv((char **)allowed_dn) : NULL;
    c->priority = g_strdup(priority ? priority : DEFAULT_PRIORITY);
    return c;
}

struct rpc_tls_creds *
rpc_tls_creds_new_client(const struct rpc_tls_files *files, gboolean verify, GError **error)
{
    /* libvirt's client goes on without a certificate when its files are missing (the server
     * then refuses it, and says so in its log) */
    gboolean with_cert =
        g_file_test(files->cert, G_FILE_TEST_EXISTS) || g_file_test(files->key, G_FILE_TEST_EXISTS);
    struct rpc_tls_creds *c = creds_new(files, FALSE, with_cert, error);
    if (!c)
        return NULL;
    c->verify = verify;
    c->priority = g_strdup(DEFAULT_PRIORITY);
    return c;
}

void
rpc_tls_creds_free(struct rpc_tls_creds *c)
{
    if (!c)
        return;
    if (c->x509)
        gnutls_certificate_free_credentials(c->x509);
    g_strfreev(c->allowed_dn);
    g_free(c->priority);
    g_free(c);
}

/* --- sessions --- */

static ssize_t
push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    struct rpc_tls *t = ptr;
    ssize_t n;
    do {
        n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t
pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
    struct rpc_tls *t = ptr;
    ssize_t n;
    do {
        n = recv(t->fd, buf, len, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n;
}

struct rpc_tls *
rpc_tls_new(struct rpc_tls_creds *creds, int fd, const char *hostname, GError **error)
{
    g_autoptr(rpc_tls) t = g_new0(struct rpc_tls, 1);
    t->creds = creds;
    t->fd = fd;
    t->hostname = g_strdup(hostname);
    int rc = gnutls_init(&t->session, creds->server ? GNUTLS_SERVER : GNUTLS_CLIENT);
    if (rc < 0) {
        t->session = NULL;
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot start a TLS session: %s",
                gnutls_strerror(rc));
        return NULL;
    }
    if ((rc = gnutls_priority_set_direct(t->session, creds->priority, NULL)) < 0 ||
        (rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, creds->x509)) < 0) {
        err_set(error, ERR_FROM_RPC, ERR_SYSTEM_ERROR, "cannot set up a TLS session: %s",
                gnutls_strerror(rc));
        return NULL;
    }
    if (creds->server)
        gnutls_certificate_server_set_request(t->session, GNUTLS_CERT_REQUEST);
    else if (hostname && *hostname && !g_hostname_is_ip_address(hostname))
        gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, hostname, strlen(hostname));
    gnutls_transport_set_ptr(t->session, t);
    gnutls_transport_set_push_function(t->session, push);
    gnutls_transport_set_pull_function(t->session, pull);
    return g_steal_pointer(&t);
}

void
rpc_tls_free(struct rpc_tls *t)
{
    if (!t)
        return;
    if (t->session)
        gnutls_deinit(t->session);
    g_free(t->hostname);
    g_free(t->peer_dn);
    g_free(t);
}

enum rpc_tls_step
rpc_tls_handshake(struct rpc_tls *t, GError **error)
{
    for (;;) {
        int rc = gnutls_handshake(t->session);
        if (rc == GNUTLS_E_SUCCESS)
            return RPC_TLS_DONE;
        if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
            return gnutls_record_get_direction(t->session) ? RPC_TLS_WANT_WRITE : RPC_TLS_WANT_READ;
        if (!gnutls_error_is_fatal(rc))
            continue; /* a warning alert */
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED, "TLS handshake failed: %s",
                gnutls_strerror(rc));
        return RPC_TLS_FAILED;
    }
}

static gboolean
dn_allowed(const struct rpc_tls_creds *c, const char *dn)
{
    if (!c->allowed_dn)
        return TRUE;
    for (char **g = c->allowed_dn; *g; g++)
        if (g_pattern_match_simple(*g, dn))
            return TRUE;
    return FALSE;
}

/* The peer's own certificate (DER in DATA): its name, role, and the allow-list or the host
 * name. */
static gboolean
check_peer_cert(struct rpc_tls *t, gnutls_x509_crt_t cert, const gnutls_datum_t *data,
                GError **error)
{
    const struct rpc_tls_creds *c = t->creds;
    const char *peer = c->server ? "client" : "server";
    if (gnutls_x509_crt_import(cert, data, GNUTLS_X509_FMT_DER) < 0) {
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED, "cannot read the %s's certificate", peer);
        return FALSE;
    }
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_get_dn3(cert, &dn, GNUTLS_X509_DN_FLAG_COMPAT) < 0) {
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED,
                "cannot read the %s certificate's distinguished name", peer);
        return FALSE;
    }
    g_free(t->peer_dn);
    t->peer_dn = g_strndup((const char *)dn.data, dn.size);
    gnutls_free(dn.data);
    g_autofree char *what = g_strdup_printf("of the %s '%s'", peer, t->peer_dn);
    if (!check_cert(cert, what, c->server ? ROLE_CLIENT : ROLE_SERVER, error))
        return FALSE;
    if (c->server && !dn_allowed(c, t->peer_dn)) {
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED,
                "the client's distinguished name '%s' is not on the list of allowed clients "
                "(tls_allowed_dn / --tls-allowed-dn); 'virt-pki-query-dn clientcert.pem' shows "
                "a certificate's name",
                t->peer_dn);
        return FALSE;
    }
    if (!c->server && t->hostname && !gnutls_x509_crt_check_hostname(cert, t->hostname)) {
        err_set(error, ERR_FROM_RPC, ERR_RPC,
                "the server's certificate '%s' does not match the host name %s", t->peer_dn,
                t->hostname);
        return FALSE;
    }
    return TRUE;
}

gboolean
rpc_tls_check_peer(struct rpc_tls *t, GError **error)
{
    const struct rpc_tls_creds *c = t->creds;
    if (!c->verify)
        return TRUE;
    const char *peer = c->server ? "client" : "server";
    unsigned int status = 0;
    int rc = gnutls_certificate_verify_peers2(t->session, &status);
    if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND) {
        /* (a GnuTLS client sends none when ours does not come from a CA the server named) */
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED,
                "the %s sent no certificate signed by a CA we trust (it needs %scert.pem and "
                "%skey.pem from our CA)",
                peer, peer, peer);
        return FALSE;
    }
    if (rc < 0) {
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED, "cannot verify the TLS %s: %s", peer,
                gnutls_strerror(rc));
        return FALSE;
    }
    if (status) {
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED, "the %s's certificate failed validation: %s",
                peer, verify_reason(status));
        return FALSE;
    }
    unsigned int n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->session, &n);
    if (gnutls_certificate_type_get(t->session) != GNUTLS_CRT_X509 || !certs || n == 0) {
        err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED, "the %s sent no x509 certificate", peer);
        return FALSE;
    }
    gnutls_x509_crt_t cert;
    if (gnutls_x509_crt_init(&cert) < 0)
        return FALSE;
    gboolean ok = check_peer_cert(t, cert, &certs[0], error);
    gnutls_x509_crt_deinit(cert);
    return ok;
}

const char *
rpc_tls_peer_dn(const struct rpc_tls *t)
{
    return t->peer_dn;
}

static gssize
io_result(ssize_t rc)
{
    if (rc >= 0)
        return rc;
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
        errno = EAGAIN;
        return -1;
    }
    /* the peer closed without a close_notify: as good as an end of file */
    if (rc == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    errno = EPROTO;
    return -1;
}

gssize
rpc_tls_recv(struct rpc_tls *t, void *buf, gsize len)
{
    for (;;) {
        ssize_t rc = gnutls_record_recv(t->session, buf, len);
        if (rc < 0 && rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED &&
            !gnutls_error_is_fatal((int)rc))
            continue; /* a warning alert or a rehandshake request we ignore */
        return io_result(rc);
    }
}

gssize
rpc_tls_send(struct rpc_tls *t, const void *buf, gsize len)
{
    ssize_t rc = gnutls_record_send(t->session, buf, len);
    return io_result(rc);
}

gboolean
rpc_tls_wants_write(const struct rpc_tls *t)
{
    return gnutls_record_get_direction(t->session) == 1;
}

gsize
rpc_tls_pending(const struct rpc_tls *t)
{
    return gnutls_record_check_pending(t->session);
}
