/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dnsmasq: one dnsmasq per network for DHCP and DNS; prefix dnsmasq_. The configuration is
 * generated from the network definition (pure, tested on its own); the process is started,
 * recognized after a daemon restart by its pid file and command line, and stopped. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/network_def.h"

/* The files of one network's dnsmasq, all in one directory. */
struct dnsmasq_files {
    char *conf;      /* DIR/NAME.conf */
    char *pid;       /* DIR/NAME.pid */
    char *leases;    /* DIR/NAME.leases */
    char *hostsfile; /* DIR/NAME.hostsfile: DHCP hosts */
    char *addnhosts; /* DIR/NAME.addnhosts: DNS hosts */
};

void dnsmasq_files_init(struct dnsmasq_files *f, const char *dir, const char *name);
void dnsmasq_files_clear(struct dnsmasq_files *f);

/* Whether DEF needs a dnsmasq: a bridge of its own with an address (DHCP or DNS to serve). */
gboolean dnsmasq_needed(const struct network_def *def);
/* The three generated texts (new strings): the configuration, the DHCP hosts file and the DNS
 * hosts file. DEF must have its bridge chosen. */
char *dnsmasq_conf(const struct network_def *def, const struct dnsmasq_files *f);
char *dnsmasq_hostsfile(const struct network_def *def);
char *dnsmasq_addnhosts(const struct network_def *def);

/* Writes the files and starts dnsmasq BINARY (which daemonizes and writes its pid file).
 * Errors: ERR_OPERATION_FAILED naming the binary when it is missing (with the package to
 * install) or when dnsmasq refuses to start (with what it printed). Returns its pid or 0. */
pid_t dnsmasq_start(const char *binary, const struct network_def *def,
                    const struct dnsmasq_files *f, GError **error);
/* The pid of the dnsmasq started for F (its pid file names a live process whose command
 * line has F's conf file), or 0. */
pid_t dnsmasq_find(const struct dnsmasq_files *f);
/* Stops the dnsmasq of F if it runs (SIGTERM, then SIGKILL after a second) and removes its
 * pid file. Leases stay for the next start. */
void dnsmasq_stop(const struct dnsmasq_files *f);
/* Removes every file of F (for an undefined network). */
void dnsmasq_remove_files(const struct dnsmasq_files *f);

/* One lease, from dnsmasq's lease file. */
struct dnsmasq_lease {
    gint64 expiry; /* seconds since the epoch; 0: never */
    int family;    /* AF_INET or AF_INET6 */
    char *mac;     /* NULL for IPv6 */
    char *iaid;    /* IPv6 only */
    char *ip;
    char *hostname; /* NULL when unknown */
    char *clientid; /* NULL when unknown; the DUID for IPv6 */
};
void dnsmasq_lease_free(struct dnsmasq_lease *lease);
/* Reads TEXT in dnsmasq's lease file format. Malformed lines are skipped. Returns an array of
 * struct dnsmasq_lease *. */
GPtrArray *dnsmasq_leases_parse(const char *text);
