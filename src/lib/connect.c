/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* connect: a libdomus connection by URI: the local unix sockets (domus:///system,
 * qemu:///system, ?socket=PATH), TCP (domus+tcp://, qemu+tcp://) and TLS (domus+tls://,
 * qemu+tls://, with libvirt's pkipath= and no_verify=1); then libvirt's AUTH_LIST and
 * CONNECT_OPEN. Also its end. */
#include "lib/client_priv.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc/protocol.h"
#include "util/err.h"

#define DEFAULT_SOCKET "/run/domus/domus-sock"
#define DEFAULT_SOCKET_RO "/run/domus/domus-sock-ro"

/* Parses URI into a socket path. */
static char *
uri_socket(const char *uri, gboolean readonly, char **ret_norm, GError **error)
{
    const char *q = strchr(uri, '?');
    g_autofree char *base = q ? g_strndup(uri, q - uri) : g_strdup(uri);
    if (!g_str_equal(base, "domus:///system") && !g_str_equal(base, "qemu:///system") &&
        !g_str_equal(base, "qemu+unix:///system") && !g_str_equal(base, "domus+unix:///system")) {
        err_set(error, ERR_FROM_URI, ERR_INVALID_ARG,
                "unsupported URI '%s'; use 'domus:///system' or "
                "'domus:///system?socket=PATH'",
                uri);
        return NULL;
    }
    char *sock = NULL;
    if (q) {
        g_auto(GStrv) params = g_strsplit(q + 1, "&", 0);
        for (int i = 0; params[i]; i++) {
            if (g_str_has_prefix(params[i], "socket=")) {
                g_free(sock);
                sock = g_uri_unescape_string(params[i] + 7, NULL);
            } else if (*params[i]) {
                err_set(error, ERR_FROM_URI, ERR_INVALID_ARG,
                        "unsupported URI parameter '%s' in '%s'", params[i], uri);
                g_free(sock);
                return NULL;
            }
        }
    }
    if (!sock)
        sock = g_strdup(readonly ? DEFAULT_SOCKET_RO : DEFAULT_SOCKET);
    *ret_norm = q ? g_strdup_printf("domus:///system%s", q) : g_strdup("domus:///system");
    return sock;
}

/* What a domus+tcp:// or domus+tls:// URI (or qemu+…) names: HOST, PORT, and for TLS the
 * pkipath and no_verify parameters libvirt's client takes. */
struct remote_uri {
    gboolean tls;
    char *host;
    char *port;
    char *pkipath;
    gboolean no_verify;
};

static void
remote_uri_clear(struct remote_uri *r)
{
    g_free(r->host);
    g_free(r->port);
    g_free(r->pkipath);
}

static gboolean
remote_uri_parse(const char *uri, struct remote_uri *ret, GError **error)
{
    gboolean tls = g_str_has_prefix(uri, "domus+tls://") || g_str_has_prefix(uri, "qemu+tls://");
    const char *usage =
        tls ? "'domus+tls://HOST[:PORT]/system[?pkipath=DIR]'" : "'domus+tcp://HOST[:PORT]/system'";
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);
    const char *host = u ? g_uri_get_host(u) : NULL;
    if (!host || !*host || (g_uri_get_path(u)[0] && !g_str_equal(g_uri_get_path(u), "/system"))) {
        err_set(error, ERR_FROM_URI, ERR_INVALID_ARG, "unsupported URI '%s'; use %s", uri, usage);
        return FALSE;
    }
    struct remote_uri r = {.tls = tls};
    const char *query = g_uri_get_query(u);
    g_auto(GStrv) params = query ? g_strsplit(query, "&", 0) : NULL;
    for (int i = 0; params && params[i]; i++) {
        if (tls && g_str_has_prefix(params[i], "pkipath=")) {
            g_free(r.pkipath);
            r.pkipath = g_uri_unescape_string(params[i] + 8, NULL);
        } else if (tls && g_str_equal(params[i], "no_verify=1")) {
            r.no_verify = TRUE;
        } else if (tls && g_str_equal(params[i], "no_verify=0")) {
            r.no_verify = FALSE;
        } else if (*params[i]) {
            err_set(error, ERR_FROM_URI, ERR_INVALID_ARG,
                    "unsupported URI parameter '%s' in '%s'; use %s", params[i], uri, usage);
            g_free(r.pkipath);
            return FALSE;
        }
    }
    r.host = g_strdup(host);
    r.port = g_strdup_printf("%d", g_uri_get_port(u) > 0 ? g_uri_get_port(u) : tls ? 16514 : 16509);
    *ret = r;
    return TRUE;
}

/* A connection to R's host; -1 with ERROR */
static int
connect_tcp(const struct remote_uri *r, GError **error)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(r->host, r->port, &hints, &res);
    if (rc != 0) {
        err_set(error, ERR_FROM_RPC, 38, "cannot resolve '%s': %s", r->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        err_set(error, ERR_FROM_RPC, 38,
                "cannot connect to '%s' port %s: %s; does domusd listen "
                "there (--listen %s://…)?",
                r->host, r->port, g_strerror(saved), r->tls ? "tls" : "tcp");
    return fd;
}

/* The client's TLS files as libvirt's client finds them: pkipath=DIR, else (not root)
 * ~/.pki/libvirt when it holds a certificate, else the system's. */
static struct rpc_tls_creds *
client_tls_creds(const struct remote_uri *r, GError **error)
{
    struct rpc_tls_files f;
    g_autofree char *user = g_build_filename(g_get_home_dir(), ".pki", "libvirt", NULL);
    g_autofree char *user_cert = g_build_filename(user, "clientcert.pem", NULL);
    if (r->pkipath)
        rpc_tls_files_for(&f, r->pkipath, FALSE);
    else if (geteuid() != 0 && g_file_test(user_cert, G_FILE_TEST_EXISTS))
        rpc_tls_files_for(&f, user, FALSE);
    else
        rpc_tls_files_for(&f, NULL, FALSE);
    struct rpc_tls_creds *c = rpc_tls_creds_new_client(&f, !r->no_verify, error);
    rpc_tls_files_clear(&f);
    return c;
}

/* Waits up to the deadline for FD to become ready for WRITE or reading; FALSE with ERROR
 * when it did not. */
static gboolean
wait_fd(int fd, gboolean write, gint64 deadline, const char *what, GError **error)
{
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            err_set(error, ERR_FROM_RPC, ERR_OPERATION_TIMEOUT, "%s: no answer within 30 s", what);
            return FALSE;
        }
        struct pollfd p = {.fd = fd, .events = write ? POLLOUT : POLLIN};
        int n = poll(&p, 1, (int)((left + 999) / 1000));
        if (n > 0)
            return TRUE;
        if (n < 0 && errno != EINTR) {
            err_set_errno(error, ERR_FROM_RPC, errno, "%s", what);
            return FALSE;
        }
    }
}

/* TLS over FD: the handshake, the server's certificate, then libvirt's confirmation byte
 * (the server closes instead when it refuses our certificate). */
static gboolean
start_tls(domus_conn *conn, const struct remote_uri *r, GError **error)
{
    conn->tls_creds = client_tls_creds(r, error);
    if (!conn->tls_creds)
        return FALSE;
    g_autoptr(rpc_tls) t = rpc_tls_new(conn->tls_creds, conn->fd, r->host, error);
    if (!t)
        return FALSE;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    for (;;) {
        enum rpc_tls_step st = rpc_tls_handshake(t, error);
        if (st == RPC_TLS_DONE)
            break;
        if (st == RPC_TLS_FAILED ||
            !wait_fd(conn->fd, st == RPC_TLS_WANT_WRITE, deadline, "TLS handshake", error))
            return FALSE;
    }
    if (!rpc_tls_check_peer(t, error))
        return FALSE;
    for (;;) {
        uint8_t byte = 0;
        gssize n = rpc_tls_recv(t, &byte, 1);
        if (n == 1 && byte == 1)
            break;
        if (n >= 0 || errno != EAGAIN) {
            err_set(error, ERR_FROM_RPC, ERR_AUTH_FAILED,
                    "server verification (of our certificate or IP address) failed: the "
                    "server's log says why");
            return FALSE;
        }
        if (!wait_fd(conn->fd, FALSE, deadline, "TLS confirmation", error))
            return FALSE;
    }
    rpc_session_set_tls(&conn->s, g_steal_pointer(&t));
    return TRUE;
}

domus_conn *
domus_open(const char *uri, gboolean readonly, GError **error)
{
    if (!uri)
        uri = g_getenv("DOMUS_DEFAULT_URI");
    if (!uri)
        uri = "domus:///system";
    g_autofree char *norm = NULL;
    int fd = -1;
    struct remote_uri remote = {0};
    gboolean is_remote =
        g_str_has_prefix(uri, "domus+tcp://") || g_str_has_prefix(uri, "qemu+tcp://") ||
        g_str_has_prefix(uri, "domus+tls://") || g_str_has_prefix(uri, "qemu+tls://");
    if (is_remote) {
        if (!remote_uri_parse(uri, &remote, error))
            return NULL;
        fd = connect_tcp(&remote, error);
        if (fd < 0) {
            remote_uri_clear(&remote);
            return NULL;
        }
        norm = g_strdup(uri);
    } else {
        g_autofree char *path = uri_socket(uri, readonly, &norm, error);
        if (!path)
            return NULL;
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(addr.sun_path)) {
            err_set(error, ERR_FROM_RPC, ERR_INVALID_ARG, "socket path '%s' is too long", path);
            return NULL;
        }
        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            err_set(error, ERR_FROM_RPC, 38, "cannot connect to '%s': %s; is domusd running?", path,
                    g_strerror(e));
            return NULL;
        }
    }
    domus_conn *conn = g_new0(domus_conn, 1);
    conn->fd = fd;
    rpc_session_init(&conn->s, fd, 0);
    conn->uri = g_steal_pointer(&norm);
    gboolean tls_ok = !remote.tls || start_tls(conn, &remote, error);
    remote_uri_clear(&remote);
    if (!tls_ok) {
        close(conn->fd);
        conn->fd = -1;
        domus_close(conn);
        return NULL;
    }
    g_autoptr(GByteArray) open_args = g_byte_array_new();
    xdr_put_opt_string(open_args, "qemu:///system");
    xdr_put_u32(open_args, readonly ? 1 : 0);
    if (!client_call(conn, PROC_AUTH_LIST, NULL, NULL, error) ||
        !client_call(conn, PROC_CONNECT_OPEN, open_args, NULL, error)) {
        domus_close(conn);
        return NULL;
    }
    return conn;
}

void
domus_close(domus_conn *conn)
{
    if (!conn)
        return;
    if (conn->fd >= 0) {
        client_call(conn, PROC_CONNECT_CLOSE, NULL, NULL, NULL);
        close(conn->fd);
    }
    rpc_session_clear(&conn->s);
    rpc_tls_creds_free(conn->tls_creds);
    for (struct domus_event *ev; (ev = g_queue_pop_head(&conn->events));) {
        domus_event_clear(ev);
        g_free(ev);
    }
    g_free(conn->uri);
    g_clear_error(&conn->lost);
    g_free(conn);
}

int
domus_conn_set_keepalive(domus_conn *conn, int interval_s, unsigned count, GError **error)
{
    if (interval_s <= 0) {
        rpc_keepalive_start(&conn->s.ka, 0, 0);
        return 0;
    }
    if (count > 1000 || interval_s > 3600) {
        err_set(error, ERR_FROM_RPC, ERR_INVALID_ARG,
                "keepalive every %d s, %u times: at most 3600 s and 1000 times", interval_s, count);
        return -1;
    }
    g_autoptr(GByteArray) args = g_byte_array_new();
    xdr_put_i32(args, RPC_FEATURE_PROGRAM_KEEPALIVE);
    int yes = client_reply_int(conn, PROC_CONNECT_SUPPORTS_FEATURE, args, error);
    if (yes < 0)
        return -1;
    if (!yes)
        return 1;
    rpc_keepalive_start(&conn->s.ka, interval_s, (int)count);
    return 0;
}

const char *
domus_get_uri(domus_conn *conn)
{
    return conn->uri;
}
