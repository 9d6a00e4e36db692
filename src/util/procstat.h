/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procstat: what /proc says of a process or thread (its stat line, its status) and of a
 * network device's counters in /proc/net/dev; prefix procstat_. */
#pragma once

#include <glib.h>
#include <sys/types.h>

struct procstat {
    guint64 user_ns;   /* utime */
    guint64 system_ns; /* stime */
    int processor;     /* the CPU it last ran on; -1 when unknown */
};

/* Parses a /proc/PID[/task/TID]/stat line (the comm field may hold spaces and parentheses).
 * FALSE when the line is not one. */
gboolean procstat_parse(const char *line, struct procstat *ret);
/* Reads /proc/PID/task/TID/stat (TID 0: /proc/PID/stat). */
gboolean procstat_read(pid_t pid, pid_t tid, struct procstat *ret);
/* VmRSS of /proc/PID/status in KiB; 0 when unknown. */
guint64 procstat_rss_kib(pid_t pid);

/* A network device's counters (/sys/class/net/NAME/statistics), as the host sees them. */
struct procstat_net {
    guint64 rx_bytes, rx_packets, rx_errs, rx_drop;
    guint64 tx_bytes, tx_packets, tx_errs, tx_drop;
};
gboolean procstat_net(const char *name, struct procstat_net *ret, GError **error);
