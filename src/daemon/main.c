/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domusd: the daemon. Foreground only; SIGTERM stops serving and leaves guests running. */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "conf/capabilities.h"
#include "core/core.h"
#include "core/network.h"
#include "core/nodedev_watch.h"
#include "conf/nodedev.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/server.h"
#include "qemu/saveimage.h"
#include "rpc/tls.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

static gboolean
on_term(gpointer loop)
{
    log_info("signal received; stopping (guests keep running)");
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

/* One --listen: "tcp://ADDR[:PORT]" or "tls://…" ("[V6]:PORT"; ":PORT" is every address) */
struct listen_addr {
    gboolean tls;
    char *host;
    char *port;
};

static void
listen_addr_free(gpointer p)
{
    struct listen_addr *a = p;
    g_free(a->host);
    g_free(a->port);
    g_free(a);
}

static gboolean
parse_listen(const char *uri, struct listen_addr **ret, GError **error)
{
    gboolean tls = g_str_has_prefix(uri, "tls://");
    if (!tls && !g_str_has_prefix(uri, "tcp://")) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--listen %s: expected tcp://ADDR[:PORT] or tls://ADDR[:PORT]", uri);
        return FALSE;
    }
    const char *rest = uri + 6;
    g_autofree char *host = NULL;
    const char *port = NULL;
    if (*rest == '[') {
        const char *close = strchr(rest, ']');
        if (!close || (close[1] && close[1] != ':')) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--listen %s: an IPv6 address goes in brackets, then :PORT", uri);
            return FALSE;
        }
        host = g_strndup(rest + 1, close - rest - 1);
        port = close[1] ? close + 2 : NULL;
    } else {
        const char *colon = strrchr(rest, ':');
        host = colon ? g_strndup(rest, colon - rest) : g_strdup(rest);
        port = colon ? colon + 1 : NULL;
    }
    guint64 n = tls ? 16514 : 16509;
    if (port && !g_ascii_string_to_unsigned(port, 10, 1, 65535, &n, NULL)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--listen %s: port '%s' is not a number from 1 to 65535", uri, port);
        return FALSE;
    }
    if (strchr(host, '/')) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--listen %s: expected %s://ADDR[:PORT], without a path", uri,
                    tls ? "tls" : "tcp");
        return FALSE;
    }
    struct listen_addr *a = g_new0(struct listen_addr, 1);
    a->tls = tls;
    a->host = g_steal_pointer(&host);
    a->port = g_strdup_printf("%u", (guint)n);
    *ret = a;
    return TRUE;
}

/* The server's TLS credentials: libvirt's files in PKI_DIR (or its system paths), each
 * replaced by the one the config names alone. */
static struct rpc_tls_creds *
tls_creds(const struct daemon_config *cfg, GError **error)
{
    struct rpc_tls_files f;
    rpc_tls_files_for(&f, cfg->pki_dir, TRUE);
    char **slots[] = {&f.cacert, &f.cert, &f.key, &f.cacrl};
    char *const named[] = {cfg->ca_file, cfg->cert_file, cfg->key_file, cfg->crl_file};
    for (gsize i = 0; i < G_N_ELEMENTS(slots); i++) {
        if (named[i]) {
            g_free(*slots[i]);
            *slots[i] = g_strdup(named[i]);
        }
    }
    struct rpc_tls_creds *c = rpc_tls_creds_new(&f, TRUE, (const char *const *)cfg->tls_allowed_dn,
                                                cfg->tls_priority, error);
    if (c) {
        g_autofree char *allowed =
            cfg->tls_allowed_dn ? g_strjoinv("', '", cfg->tls_allowed_dn) : NULL;
        log_info("TLS: CA %s, certificate %s; clients allowed: %s%s%s", f.cacert, f.cert,
                 allowed ? "'" : "", allowed ? allowed : "any the CA signed", allowed ? "'" : "");
    }
    rpc_tls_files_clear(&f);
    return c;
}

/* Listening sockets systemd handed over (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, from fd 3
 * on), by the FileDescriptorName= of our socket units: domus-sock, domus-sock-ro, domus-tls,
 * domus-tcp. RET_RW / RET_RO say whether the unix sockets came that way. */
#define ACTIVATION_MAX 16

struct activation {
    int rw, ro; /* -1: not passed */
    int tls[ACTIVATION_MAX], tcp[ACTIVATION_MAX];
    guint ntls, ntcp;
};

static gboolean
activation_read(struct activation *ret, GError **error)
{
    memset(ret, 0, sizeof(*ret));
    ret->rw = ret->ro = -1;
    const char *pid = g_getenv("LISTEN_PID"), *fds = g_getenv("LISTEN_FDS");
    guint64 p = 0, n = 0;
    if (!pid || !fds || !g_ascii_string_to_unsigned(pid, 10, 1, G_MAXINT, &p, NULL) ||
        (pid_t)p != getpid())
        return TRUE;
    if (!g_ascii_string_to_unsigned(fds, 10, 0, ACTIVATION_MAX, &n, NULL)) {
        err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED, "LISTEN_FDS='%s' is not a count", fds);
        return FALSE;
    }
    g_auto(GStrv) names =
        g_strsplit(g_getenv("LISTEN_FDNAMES") ? g_getenv("LISTEN_FDNAMES") : "", ":", -1);
    for (guint i = 0; i < n; i++) {
        int fd = 3 + (int)i;
        const char *name = i < g_strv_length(names) ? names[i] : "";
        if (g_str_equal(name, "domus-sock"))
            ret->rw = fd;
        else if (g_str_equal(name, "domus-sock-ro"))
            ret->ro = fd;
        else if (g_str_equal(name, "domus-tls"))
            ret->tls[ret->ntls++] = fd;
        else if (g_str_equal(name, "domus-tcp"))
            ret->tcp[ret->ntcp++] = fd;
        else {
            err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED,
                    "systemd passed socket %d named '%s'; expected domus-sock, domus-sock-ro, "
                    "domus-tls or domus-tcp (FileDescriptorName= in the socket unit)",
                    fd, name);
            return FALSE;
        }
    }
    /* not for our children (QEMU, dnsmasq) */
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv("LISTEN_FDNAMES");
    return TRUE;
}

/* Whether a daemon answers on the unix socket PATH. */
static gboolean
socket_in_use(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path)) >= sizeof(addr.sun_path))
        return FALSE;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    gboolean used = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return used;
}

/* libvirt's own socket paths, for clients that hard-wire qemu:///system: the same service as
 * domus-sock and domus-sock-ro, whatever --root says. Never taken from a live libvirtd. */
static gboolean
listen_libvirt_paths(struct server *srv, gboolean if_free, GError **error)
{
    static const char *const rw = "/run/libvirt/libvirt-sock";
    static const char *const ro = "/run/libvirt/libvirt-sock-ro";
    if (if_free && g_file_test("/usr/sbin/libvirtd", G_FILE_TEST_EXISTS)) {
        log_info("libvirtd is installed: libvirt's sockets are left to it");
        return TRUE;
    }
    for (const char *const *p = (const char *const[]){rw, ro, NULL}; *p; p++) {
        if (socket_in_use(*p) && if_free) {
            log_info("another daemon serves '%s': libvirt's sockets are left to it", *p);
            return TRUE;
        }
        if (socket_in_use(*p)) {
            err_set(error, ERR_FROM_RPC, ERR_OPERATION_FAILED,
                    "another daemon (libvirtd?) serves '%s'; stop it, or run domusd without "
                    "--libvirt-paths",
                    *p);
            return FALSE;
        }
    }
    if (!file_mkdir_p("/run/libvirt", 0755, error) || !server_listen(srv, rw, 0600, FALSE, error) ||
        !server_listen(srv, ro, 0666, TRUE, error))
        return FALSE;
    log_info("also serving libvirt's sockets %s and %s", rw, ro);
    return TRUE;
}

static void
paths_for_root(const char *root, struct core_paths *p, char **ret_run_dir, char **ret_cache)
{
    if (root) {
        p->config_dir = g_build_filename(root, "etc", "qemu", NULL);
        p->autostart_dir = g_build_filename(root, "etc", "qemu", "autostart", NULL);
        p->state_dir = g_build_filename(root, "lib", NULL);
        p->status_dir = g_build_filename(root, "run", "qemu", NULL);
        p->channel_dir = g_build_filename(root, "run", "channel", NULL);
        p->log_dir = g_build_filename(root, "log", NULL);
        p->image_dir = g_build_filename(root, "images", NULL);
        p->pool_config_dir = g_build_filename(root, "etc", "storage", NULL);
        p->pool_state_dir = g_build_filename(root, "run", "storage", NULL);
        p->network_config_dir = g_build_filename(root, "etc", "network", NULL);
        p->network_state_dir = g_build_filename(root, "run", "network", NULL);
        p->secret_dir = g_build_filename(root, "etc", "secrets", NULL);
        /* a private daemon's domains get a group of their own */
        g_autofree char *base = g_path_get_basename(root);
        p->cgroup_parent = g_strdup_printf("domus-%s", base);
        *ret_run_dir = g_build_filename(root, "run", NULL);
        *ret_cache = g_build_filename(root, "cache", NULL);
    } else {
        p->config_dir = g_strdup("/etc/domus/qemu");
        p->autostart_dir = g_strdup("/etc/domus/qemu/autostart");
        p->state_dir = g_strdup("/var/lib/domus");
        p->status_dir = g_strdup("/run/domus/qemu");
        p->channel_dir = g_strdup("/run/domus/channel");
        p->log_dir = g_strdup("/var/log/domus");
        p->image_dir = g_strdup("/var/lib/domus/images");
        p->pool_config_dir = g_strdup("/etc/domus/storage");
        p->pool_state_dir = g_strdup("/run/domus/storage");
        p->network_config_dir = g_strdup("/etc/domus/network");
        p->network_state_dir = g_strdup("/run/domus/network");
        p->secret_dir = g_strdup("/etc/domus/secrets");
        *ret_run_dir = g_strdup("/run/domus");
        *ret_cache = g_strdup("/var/cache/domus");
    }
}

int
main(int argc, char **argv)
{
    gboolean verbose = FALSE;
    g_autofree char *root = NULL;
    g_autofree char *log_file = NULL;
    g_autofree char *config_file = NULL;
    int monitor_timeout = 0;
    gboolean no_default_network = FALSE;
    g_autofree char *dnsmasq = NULL;
    g_auto(GStrv) listen = NULL;
    g_autofree char *pki = NULL;
    g_auto(GStrv) allowed_dn = NULL;
    gboolean libvirt_paths = FALSE;
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version and exit", NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "debug logs", NULL},
        {"root", 0, 0, G_OPTION_ARG_FILENAME, &root, "keep every path under DIR", "DIR"},
        {"log", 0, 0, G_OPTION_ARG_FILENAME, &log_file, "log to FILE instead of stderr", "FILE"},
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &config_file,
         "settings (default DIR/etc/domusd.conf, or " DOMUS_CONF_FILE ")", "FILE"},
        {"monitor-timeout", 0, 0, G_OPTION_ARG_INT, &monitor_timeout,
         "how long QEMU may take to answer a monitor command (default 30000)", "MS"},
        {"no-default-network", 0, 0, G_OPTION_ARG_NONE, &no_default_network,
         "do not define the 'default' NAT network on a fresh state directory", NULL},
        {"dnsmasq", 0, 0, G_OPTION_ARG_FILENAME, &dnsmasq,
         "the dnsmasq that serves networks (default: dnsmasq from PATH, or /usr/sbin/dnsmasq)",
         "FILE"},
        {"listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &listen,
         "also listen on tls://ADDR[:PORT] (default port 16514; clients need a certificate the "
         "CA signed) or tcp://ADDR[:PORT] (16509; unencrypted and unauthenticated: read-write "
         "for whoever reaches it); repeatable, replaces [daemon] listen",
         "URI"},
        {"pki", 0, 0, G_OPTION_ARG_FILENAME, &pki,
         "TLS files: DIR/cacert.pem, DIR/servercert.pem, DIR/serverkey.pem, DIR/cacrl.pem "
         "(default /etc/pki/CA/cacert.pem, /etc/pki/libvirt/servercert.pem, "
         "/etc/pki/libvirt/private/serverkey.pem)",
         "DIR"},
        {"libvirt-paths", 0, 0, G_OPTION_ARG_NONE, &libvirt_paths,
         "also serve libvirt's sockets /run/libvirt/libvirt-sock and libvirt-sock-ro, for "
         "clients that use qemu:///system without a URI (refused while libvirtd serves them)",
         NULL},
        {"tls-allowed-dn", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allowed_dn,
         "admit only TLS clients whose certificate's distinguished name matches GLOB (as "
         "virt-pki-query-dn prints it); repeatable, replaces [tls] allowed_dn",
         "GLOB"},
        {NULL},
    };
    /* the terminal's character set for --help; numbers stay in the C locale */
    setlocale(LC_CTYPE, "");
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the Domus virtual machine daemon");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "domusd: %s\n", error->message);
        return 2;
    }
    if (version) {
        printf("domusd %s\n", DOMUS_VERSION);
        return 0;
    }
    if (monitor_timeout < 0 || monitor_timeout > 3600 * 1000) {
        fprintf(stderr, "domusd: --monitor-timeout must be between 1 and 3600000 ms\n");
        return 2;
    }
    if (root && !g_path_is_absolute(root)) {
        g_autofree char *cwd = g_get_current_dir();
        char *abs = g_build_filename(cwd, root, NULL);
        g_free(root);
        root = abs;
    }
    if (!root && geteuid() != 0) {
        fprintf(stderr, "domusd: without --root, domusd must run as root (it uses /etc/domus, "
                        "/var/lib/domus and /run/domus)\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct activation act;
    if (!activation_read(&act, &error)) {
        fprintf(stderr, "domusd: %s\n", error->message);
        return 1;
    }
    /* GLib 2.74 makes the C locale g_ascii_strtoull() parses in on first use, under a g_once:
     * a thread that waits there returns with errno set by the wait, which
     * g_ascii_string_to_unsigned() then reports as "not an unsigned number" (the caps worker
     * and the loading of the state raced there). Make that first use before any thread. */
    g_ascii_strtoull("0", NULL, 10);

    g_auto(daemon_config) cfg;
    daemon_config_default(&cfg);
    {
        g_autofree char *default_conf =
            root ? g_build_filename(root, "etc", "domusd.conf", NULL) : g_strdup(DOMUS_CONF_FILE);
        if (!daemon_config_load(&cfg, config_file ? config_file : default_conf, !config_file,
                                &error)) {
            fprintf(stderr, "domusd: %s\n", error->message);
            return 1;
        }
    }
    /* the command line wins over the file */
    if (monitor_timeout)
        cfg.monitor_timeout_ms = (guint)monitor_timeout;
    if (listen) {
        g_strfreev(cfg.listen);
        cfg.listen = g_steal_pointer(&listen);
    }
    if (pki) {
        g_free(cfg.pki_dir);
        cfg.pki_dir = g_steal_pointer(&pki);
    }
    if (allowed_dn) {
        g_strfreev(cfg.tls_allowed_dn);
        cfg.tls_allowed_dn = g_steal_pointer(&allowed_dn);
    }
    int level = LOG_LEVEL_INFO;
    if (cfg.log_level)
        daemon_config_log_level(cfg.log_level, &level);
    log_set_level(verbose ? LOG_LEVEL_DEBUG : (enum log_level)level);
    if (!log_file && cfg.log_file)
        log_file = g_strdup(cfg.log_file);
    if (log_file && !log_set_file(log_file, &error)) {
        fprintf(stderr, "domusd: %s\n", error->message);
        return 1;
    }
    g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(listen_addr_free);
    gboolean want_tls = FALSE;
    for (guint i = 0; cfg.listen && cfg.listen[i]; i++) {
        struct listen_addr *a = NULL;
        if (!parse_listen(cfg.listen[i], &a, &error)) {
            fprintf(stderr, "domusd: %s\n", error->message);
            return 2;
        }
        want_tls |= a->tls;
        g_ptr_array_add(addrs, a);
    }
    struct rpc_tls_creds *creds = NULL;
    if (want_tls && !(creds = tls_creds(&cfg, &error))) {
        log_error("cannot listen with TLS: %s", error->message);
        return 1;
    }

    struct core_paths paths = {0};
    g_autofree char *run_dir = NULL;
    g_autofree char *cache_dir = NULL;
    paths_for_root(root, &paths, &run_dir, &cache_dir);
    if (!file_mkdir_p(run_dir, 0755, &error) || !file_mkdir_p(cache_dir, 0700, &error)) {
        log_error("%s", error->message);
        return 1;
    }
    g_autofree char *caps_binary = qemu_caps_find_binary("x86_64", &error);
    if (!caps_binary) {
        log_error("%s", error->message);
        return 1;
    }
    struct core *core = core_new(&paths, &error);
    core_paths_clear(&paths);
    if (!core || !core_set_host_uuid(core, cfg.host_uuid, &error)) {
        log_error("%s", error->message);
        return 1;
    }
    daemon_caps_init(cache_dir, caps_binary, core->host_uuid);
    core->qemu_binary = g_strdup(caps_binary);
    core->caps_cache = daemon_caps_cache();
    core->monitor_timeout_ms = cfg.monitor_timeout_ms;
    core->job_wait_ms = cfg.job_wait_ms;
    core->migration_port_min = cfg.migration_port_min;
    core->migration_port_max = cfg.migration_port_max;
    core->migration_address = g_strdup(cfg.migration_address);
    core->migrate_tls_dir = g_strdup(cfg.migrate_tls_dir ? cfg.migrate_tls_dir : "/etc/pki/qemu");
    core->migrate_tls_verify = cfg.migrate_tls_verify != 0;
    core->backup_tls_dir = g_strdup(cfg.backup_tls_dir ? cfg.backup_tls_dir : "/etc/pki/qemu");
    core->backup_tls_verify = cfg.backup_tls_verify != 0;
    core->disk_io_threads = g_strcmp0(cfg.default_disk_io, "threads") == 0;
    if (cfg.save_image_format)
        core->save_compression = qemu_saveimage_compression_from_string(cfg.save_image_format);
    if (cfg.snapshot_image_format)
        core->snapshot_compression =
            qemu_saveimage_compression_from_string(cfg.snapshot_image_format);
    core->dnsmasq_binary = dnsmasq ? g_steal_pointer(&dnsmasq) : g_find_program_in_path("dnsmasq");
    if (!core->dnsmasq_binary)
        core->dnsmasq_binary = g_strdup("/usr/sbin/dnsmasq");
    /* networks before domains: guests reconnect to, and autostart on, running networks */
    if (!core_network_init(core, !no_default_network, &error)) {
        log_error("%s", error->message);
        return 1;
    }
    core_reconnect_all(core);
    g_autoptr(GError) watch_error = NULL;
    struct nodedev_watch *nodedevs = nodedev_watch_new(core, NODEDEV_PCI_IDS, &watch_error);
    if (!nodedevs)
        log_warn("no node device events: %s", watch_error->message);
    core->nodedev_watch = nodedevs;

    struct server *srv = server_new(core, &cfg.limits);
    g_autofree char *rw = g_build_filename(run_dir, "domus-sock", NULL);
    g_autofree char *ro = g_build_filename(run_dir, "domus-sock-ro", NULL);
    if (act.ntls > 0 && !creds && !(creds = tls_creds(&cfg, &error))) {
        log_error("cannot serve the TLS socket systemd passed: %s", error->message);
        return 1;
    }
    if (creds) {
        server_set_tls(srv, creds);
        creds = NULL;
    }
    if ((act.rw >= 0 ? !server_adopt(srv, act.rw, FALSE, FALSE, &error)
                     : !server_listen(srv, rw, 0600, FALSE, &error)) ||
        (act.ro >= 0 ? !server_adopt(srv, act.ro, TRUE, FALSE, &error)
                     : !server_listen(srv, ro, 0666, TRUE, &error))) {
        log_error("%s", error->message);
        return 1;
    }
    for (guint i = 0; i < act.ntls + act.ntcp; i++) {
        gboolean tls = i < act.ntls;
        int fd = tls ? act.tls[i] : act.tcp[i - act.ntls];
        if (!server_adopt(srv, fd, FALSE, tls, &error)) {
            log_error("%s", error->message);
            return 1;
        }
        log_info("serving %s on the socket systemd passed (fd %d)", tls ? "TLS" : "plain TCP", fd);
    }
    if (act.rw >= 0 || act.ro >= 0)
        log_info("serving the unix sockets systemd passed");
    if (libvirt_paths)
        cfg.libvirt_paths = LIBVIRT_PATHS_YES;
    if (cfg.libvirt_paths != LIBVIRT_PATHS_NO &&
        !listen_libvirt_paths(srv, cfg.libvirt_paths == LIBVIRT_PATHS_AUTO, &error)) {
        log_error("%s", error->message);
        return 1;
    }
    for (guint i = 0; i < addrs->len; i++) {
        const struct listen_addr *a = addrs->pdata[i];
        if (!server_listen_tcp(srv, a->host, a->port, a->tls, &error)) {
            log_error("%s", error->message);
            return 1;
        }
        if (a->tls)
            log_info("listening on tls://%s:%s", *a->host ? a->host : "*", a->port);
        else
            log_warn("listening on tcp://%s:%s without encryption or authentication: whoever "
                     "reaches it controls every domain",
                     *a->host ? a->host : "*", a->port);
    }
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_term, loop);
    g_unix_signal_add(SIGINT, on_term, loop);
    log_info("domusd ready on %s", rw);
    core_autostart_all(core);
    g_main_loop_run(loop);

    server_free(srv);
    core->nodedev_watch = NULL;
    nodedev_watch_free(nodedevs);
    core_free(core);
    daemon_caps_free();
    g_main_loop_unref(loop);
    return 0;
}
