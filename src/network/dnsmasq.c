/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dnsmasq: the configuration follows libvirt's (strict-order, bind-dynamic on the bridge
 * only, except-interface=lo, authoritative DHCP), with the lease file kept by dnsmasq itself
 * rather than through a helper script. DHCP and DNS hosts are in files of their own, as in
 * libvirt. dnsmasq opens its files while still root, then drops to its own user. */
#include "network/dnsmasq.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

#define DNSMASQ_STOP_WAIT_MS 1000

void
dnsmasq_files_init(struct dnsmasq_files *f, const char *dir, const char *name)
{
    f->conf = g_strdup_printf("%s/%s.conf", dir, name);
    f->pid = g_strdup_printf("%s/%s.pid", dir, name);
    f->leases = g_strdup_printf("%s/%s.leases", dir, name);
    f->hostsfile = g_strdup_printf("%s/%s.hostsfile", dir, name);
    f->addnhosts = g_strdup_printf("%s/%s.addnhosts", dir, name);
}

void
dnsmasq_files_clear(struct dnsmasq_files *f)
{
    g_clear_pointer(&f->conf, g_free);
    g_clear_pointer(&f->pid, g_free);
    g_clear_pointer(&f->leases, g_free);
    g_clear_pointer(&f->hostsfile, g_free);
    g_clear_pointer(&f->addnhosts, g_free);
}

gboolean
dnsmasq_needed(const struct network_def *def)
{
    return network_def_owns_bridge(def) && def->ips->len > 0;
}

static gboolean
has_dhcp(const struct network_ip *ip)
{
    return ip->ranges->len || ip->hosts->len;
}

/* How many addresses the ranges of IP hold (IPv4), what dhcp-lease-max should be. */
static guint64
range_size(const struct network_ip *ip)
{
    guint64 n = 0;
    for (guint i = 0; i < ip->ranges->len; i++) {
        const struct network_dhcp_range *r = ip->ranges->pdata[i];
        guint64 s = 0, e = 0;
        for (int b = 0; b < 4; b++) {
            s = s << 8 | r->start.bytes[b];
            e = e << 8 | r->end.bytes[b];
        }
        n += e - s + 1;
    }
    return n;
}

char *
dnsmasq_conf(const struct network_def *def, const struct dnsmasq_files *f)
{
    GString *c =
        g_string_new("##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY "
                     "TO BE\n##OVERWRITTEN AND LOST. Changes to this configuration should "
                     "be made using:\n##    domus net-edit ");
    /* the name may hold anything but '/': nothing of it that could end the comment */
    g_autofree char *name = g_strdup(def->name);
    for (char *p = name; *p; p++)
        if (!g_ascii_isprint(*p))
            *p = '?';
    g_string_append_printf(c, "%s\n## or other application using the libvirt API.\n\n", name);
    g_string_append(c, "strict-order\n");
    if (def->dns_enable == NETWORK_NO)
        g_string_append(c, "port=0\n");
    gboolean no_resolv = FALSE;
    for (guint i = 0; i < def->dns_forwarders->len; i++) {
        const struct network_dns_forwarder *fw = def->dns_forwarders->pdata[i];
        char a[NETADDR_STRING_LEN];
        g_string_append(c, "server=");
        if (fw->domain)
            g_string_append_printf(c, "/%s/", fw->domain);
        g_string_append_printf(c, "%s\n", fw->addr.family ? netaddr_format(&fw->addr, a) : "#");
        no_resolv |= !fw->domain && fw->addr.family;
    }
    if (no_resolv)
        g_string_append(c, "no-resolv\n");
    if (def->domain) {
        if (def->domain_local_only == NETWORK_YES)
            g_string_append_printf(c, "local=/%s/\n", def->domain);
        g_string_append_printf(c, "domain=%s\nexpand-hosts\n", def->domain);
    }
    g_string_append_printf(c, "pid-file=%s\nexcept-interface=lo\nbind-dynamic\ninterface=%s\n",
                           f->pid, def->bridge);
    gboolean ra = FALSE;
    guint64 leases = 0;
    for (guint i = 0; i < def->ips->len; i++) {
        const struct network_ip *ip = def->ips->pdata[i];
        for (guint j = 0; j < ip->ranges->len; j++) {
            const struct network_dhcp_range *r = ip->ranges->pdata[j];
            char s[NETADDR_STRING_LEN], e[NETADDR_STRING_LEN], m[NETADDR_STRING_LEN];
            g_string_append_printf(c, "dhcp-range=%s,%s", netaddr_format(&r->start, s),
                                   netaddr_format(&r->end, e));
            if (ip->address.family == AF_INET) {
                struct netaddr mask;
                netaddr_prefix_mask(AF_INET, ip->prefix, &mask);
                g_string_append_printf(c, ",%s\n", netaddr_format(&mask, m));
            } else {
                g_string_append_printf(c, ",%u\n", ip->prefix);
            }
        }
        if (ip->address.family == AF_INET && has_dhcp(ip)) {
            /* hosts only: dnsmasq serves fixed addresses through a "static" range */
            if (!ip->ranges->len) {
                char n[NETADDR_STRING_LEN];
                struct netaddr net;
                netaddr_network(&ip->address, ip->prefix, &net);
                g_string_append_printf(c, "dhcp-range=%s,static\n", netaddr_format(&net, n));
            }
            leases += range_size(ip) + ip->hosts->len;
        }
        if (ip->address.family == AF_INET6 && has_dhcp(ip))
            ra = TRUE;
    }
    if (leases || ra) {
        /* the range is this dnsmasq's alone (authoritative): no 3-second ping of an address
         * before it is offered, which libvirt's networks spend on every new guest */
        g_string_append(c, "dhcp-no-override\ndhcp-authoritative\nno-ping\n");
        if (leases)
            g_string_append_printf(c, "dhcp-lease-max=%" G_GUINT64_FORMAT "\n", leases);
        g_string_append_printf(c, "dhcp-leasefile=%s\ndhcp-hostsfile=%s\n", f->leases,
                               f->hostsfile);
    }
    g_string_append_printf(c, "addn-hosts=%s\n", f->addnhosts);
    if (ra)
        g_string_append(c, "enable-ra\n");
    return g_string_free(c, FALSE);
}

char *
dnsmasq_hostsfile(const struct network_def *def)
{
    GString *h = g_string_new(NULL);
    for (guint i = 0; i < def->ips->len; i++) {
        const struct network_ip *ip = def->ips->pdata[i];
        for (guint j = 0; j < ip->hosts->len; j++) {
            const struct network_dhcp_host *host = ip->hosts->pdata[j];
            char a[NETADDR_STRING_LEN];
            GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
            if (host->mac)
                g_ptr_array_add(parts, g_strdup(host->mac));
            if (host->ip.family == AF_INET)
                g_ptr_array_add(parts, g_strdup(netaddr_format(&host->ip, a)));
            else if (host->ip.family == AF_INET6)
                g_ptr_array_add(parts, g_strdup_printf("[%s]", netaddr_format(&host->ip, a)));
            if (host->name)
                g_ptr_array_add(parts, g_strdup(host->name));
            g_ptr_array_add(parts, NULL);
            g_autofree char *line = g_strjoinv(",", (char **)parts->pdata);
            g_ptr_array_unref(parts);
            g_string_append_printf(h, "%s\n", line);
        }
    }
    return g_string_free(h, FALSE);
}

char *
dnsmasq_addnhosts(const struct network_def *def)
{
    GString *h = g_string_new(NULL);
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const struct network_dns_host *host = def->dns_hosts->pdata[i];
        char a[NETADDR_STRING_LEN];
        g_string_append(h, netaddr_format(&host->ip, a));
        for (guint j = 0; j < host->names->len; j++)
            g_string_append_printf(h, " %s", (const char *)host->names->pdata[j]);
        g_string_append_c(h, '\n');
    }
    return g_string_free(h, FALSE);
}

static gboolean
write_text(const char *path, const char *text, GError **error)
{
    return file_write_atomic(path, text, strlen(text), 0644, 0, error);
}

static pid_t
read_pid(const char *path)
{
    g_autofree char *text = NULL;
    guint64 pid = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, G_MAXINT32, &pid, NULL))
        return 0;
    return (pid_t)pid;
}

pid_t
dnsmasq_find(const struct dnsmasq_files *f)
{
    pid_t pid = read_pid(f->pid);
    if (!pid)
        return 0;
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &cmdline, &len, NULL))
        return 0;
    g_autofree char *want = g_strdup_printf("--conf-file=%s", f->conf);
    for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1) {
        if (g_str_equal(cmdline + off, want))
            return pid;
    }
    return 0;
}

pid_t
dnsmasq_start(const char *binary, const struct network_def *def, const struct dnsmasq_files *f,
              GError **error)
{
    if (!binary || !g_file_test(binary, G_FILE_TEST_IS_EXECUTABLE)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "cannot start network '%s': dnsmasq '%s' is not installed; install Debian's "
                "dnsmasq-base",
                def->name, binary ? binary : "dnsmasq");
        return 0;
    }
    g_autofree char *conf = dnsmasq_conf(def, f);
    g_autofree char *hosts = dnsmasq_hostsfile(def);
    g_autofree char *addn = dnsmasq_addnhosts(def);
    if (!write_text(f->hostsfile, hosts, error) || !write_text(f->addnhosts, addn, error) ||
        !write_text(f->conf, conf, error))
        return 0;
    g_autofree char *conf_arg = g_strdup_printf("--conf-file=%s", f->conf);
    /* dnsmasq reads its leases at start: the file must exist */
    if (!g_file_test(f->leases, G_FILE_TEST_EXISTS) && !write_text(f->leases, "", error))
        return 0;
    file_remove(f->pid, NULL);
    const char *argv[] = {binary, conf_arg, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) spawn_error = NULL;
    /* dnsmasq forks; its parent exits once the child is set up, or with the reason it failed */
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                      &spawn_error)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "cannot start dnsmasq for network '%s': %s", def->name, spawn_error->message);
        return 0;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "dnsmasq for network '%s' failed to start: %s", def->name,
                g_strstrip(err ? err : g_strdup("")));
        return 0;
    }
    pid_t pid = dnsmasq_find(f);
    if (!pid) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "dnsmasq for network '%s' started but wrote no pid file '%s'", def->name, f->pid);
        return 0;
    }
    return pid;
}

/* Whether PID still runs: gone, or a zombie (dnsmasq is nobody's child here: whoever reaps
 * orphans may be slow to, or never do). */
static gboolean
still_running(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return FALSE;
    const char *end = strrchr(stat, ')');
    return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

void
dnsmasq_stop(const struct dnsmasq_files *f)
{
    pid_t pid = dnsmasq_find(f);
    if (pid && kill(pid, SIGTERM) == 0) {
        gint64 deadline = g_get_monotonic_time() + DNSMASQ_STOP_WAIT_MS * 1000;
        while (still_running(pid) && g_get_monotonic_time() < deadline)
            g_usleep(1000);
        if (still_running(pid))
            kill(pid, SIGKILL);
    }
    file_remove(f->pid, NULL);
}

void
dnsmasq_remove_files(const struct dnsmasq_files *f)
{
    const char *paths[] = {f->conf, f->pid, f->leases, f->hostsfile, f->addnhosts};
    for (gsize i = 0; i < G_N_ELEMENTS(paths); i++)
        file_remove(paths[i], NULL);
}

void
dnsmasq_lease_free(struct dnsmasq_lease *lease)
{
    if (!lease)
        return;
    g_free(lease->mac);
    g_free(lease->iaid);
    g_free(lease->ip);
    g_free(lease->hostname);
    g_free(lease->clientid);
    g_free(lease);
}

static char *
unless_star(const char *s)
{
    return g_str_equal(s, "*") ? NULL : g_strdup(s);
}

GPtrArray *
dnsmasq_leases_parse(const char *text)
{
    /* IPv4: "EXPIRY MAC IP HOSTNAME CLIENTID"; after a "duid DUID" line, IPv6:
     * "EXPIRY IAID IP HOSTNAME CLIENTID". '*' stands for unknown. */
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        if (g_strv_length(f) != 5)
            continue;
        guint64 expiry = 0;
        struct netaddr addr;
        if (!g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXINT64, &expiry, NULL) ||
            !netaddr_parse(f[2], &addr))
            continue;
        struct dnsmasq_lease *l = g_new0(struct dnsmasq_lease, 1);
        l->expiry = (gint64)expiry;
        l->family = addr.family;
        if (addr.family == AF_INET) {
            uint8_t mac[MAC_LEN];
            char buf[MAC_STRING_LEN];
            if (!mac_parse(f[1], mac)) {
                dnsmasq_lease_free(l);
                continue;
            }
            l->mac = g_strdup(mac_format(mac, buf));
        } else {
            l->iaid = g_strdup(f[1]);
        }
        l->ip = g_strdup(f[2]);
        l->hostname = unless_star(f[3]);
        l->clientid = unless_star(f[4]);
        g_ptr_array_add(ret, l);
    }
    return ret;
}
