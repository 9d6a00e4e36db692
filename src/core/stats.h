/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats: a domain's statistics (libvirt's domain stats groups) gathered in one go; prefix
 * core_stats_. What QEMU knows (block I/O, vCPU threads, the balloon) comes from one QMP round
 * trip (the commands pipelined); the rest from /proc and sysfs. Queries: never behind a job. */
#pragma once

#include "core/core.h"
#include "util/netaddr.h"
#include "util/procstat.h"

/* virDomainStatsTypes */
enum {
    CORE_STATS_STATE = 1 << 0,
    CORE_STATS_CPU_TOTAL = 1 << 1,
    CORE_STATS_BALLOON = 1 << 2,
    CORE_STATS_VCPU = 1 << 3,
    CORE_STATS_INTERFACE = 1 << 4,
    CORE_STATS_BLOCK = 1 << 5,
    CORE_STATS_PERF = 1 << 6,
    CORE_STATS_IOTHREAD = 1 << 7,
    /* 1 << 8 memory (resctrl bandwidth monitors, which no definition here can ask for) and
     * 1 << 10 vm (query-stats, which has no provider under TCG) are not gathered */
    CORE_STATS_DIRTYRATE = 1 << 9,
    CORE_STATS_ALL = ((1 << 8) - 1) | CORE_STATS_DIRTYRATE,
};

/* virDomainMemoryStatTags */
enum {
    CORE_MEM_SWAP_IN,
    CORE_MEM_SWAP_OUT,
    CORE_MEM_MAJOR_FAULT,
    CORE_MEM_MINOR_FAULT,
    CORE_MEM_UNUSED,
    CORE_MEM_AVAILABLE,
    CORE_MEM_ACTUAL_BALLOON,
    CORE_MEM_RSS,
    CORE_MEM_USABLE,
    CORE_MEM_LAST_UPDATE,
    CORE_MEM_DISK_CACHES,
    CORE_MEM_HUGETLB_PGALLOC,
    CORE_MEM_HUGETLB_PGFAIL,
    CORE_MEM_LAST
};

struct core_block_stats {
    char *target; /* "vda" */
    char *path;   /* its image; NULL: empty */
    gboolean have_io;
    gint64 rd_reqs, rd_bytes, rd_times, wr_reqs, wr_bytes, wr_times, fl_reqs, fl_times;
    gboolean have_size;
    guint64 allocation, capacity, physical;
};

struct core_net_stats {
    char *name; /* the tap */
    char mac[MAC_STRING_LEN];
    struct procstat_net n; /* as the guest sees it: the tap's rx is its tx */
    gboolean have;
};

struct core_vcpu_stats {
    int state; /* virVcpuState: 1 running */
    guint64 time_ns;
    int cpu; /* the host CPU it last ran on; -1 unknown */
    int tid;
};

struct core_iothread_stats {
    unsigned id;
    gboolean poll_valid; /* QEMU reported the polling fields */
    guint64 poll_max_ns;
    unsigned poll_grow, poll_shrink;
};

/* query-dirty-rate: the last calculation (domdirtyrate-calc) */
struct core_dirtyrate_stats {
    gboolean have;
    int status; /* virDomainDirtyRateStatus: 0 unstarted, 1 measuring, 2 measured */
    gint64 start_time;
    int calc_period; /* s */
    char mode[16];   /* "page-sampling", "dirty-bitmap", "dirty-ring" */
    gint64 mbps;     /* status 2 */
};

struct core_stats {
    unsigned groups; /* what was gathered */
    gboolean active;
    int state, reason;
    guint64 cpu_time, cpu_user, cpu_system;   /* ns */
    guint64 balloon_current, balloon_maximum; /* KiB */
    gint64 mem[CORE_MEM_LAST];                /* -1: not known */
    unsigned vcpu_current, vcpu_maximum;
    GArray *vcpus;     /* struct core_vcpu_stats, by vCPU number */
    GPtrArray *nets;   /* struct core_net_stats * */
    GPtrArray *blocks; /* struct core_block_stats * */
    GArray *iothreads; /* struct core_iothread_stats */
    struct core_dirtyrate_stats dirtyrate;
    guint64 perf[PERF_EVENT_N]; /* the running perf counters (perf_have), by event */
    gboolean perf_have[PERF_EVENT_N];
};

void core_stats_free(struct core_stats *stats);
typedef struct core_stats core_stats;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(core_stats, core_stats_free)

/* STATS (owned by the callee) holds the GROUPS asked for (CORE_STATS_*) that apply. */
typedef void (*core_stats_fn)(struct core_stats *stats, gpointer data);
void core_stats_collect(struct domain *dom, unsigned groups, core_stats_fn done, gpointer data);

/* virDomainStartDirtyRateCalc: QEMU measures how fast the guest dirties its memory for
 * SECONDS (1-60), page sampling or (CORE_DIRTYRATE_BITMAP) the dirty bitmap; the dirty ring
 * needs KVM's dirty-ring feature (refused). The result is in the dirtyrate statistics
 * group. DONE borrows its error. */
enum { CORE_DIRTYRATE_BITMAP = 1 << 0, CORE_DIRTYRATE_RING = 1 << 1 };
void core_domain_dirty_rate_calc(struct domain *dom, int seconds, unsigned flags, core_done_fn done,
                                 gpointer data);

/* The disk of DOM that PATH names (its target, or its image's path); NULL with
 * ERR_INVALID_ARG naming it. */
struct disk_def *core_stats_find_disk(struct domain *dom, const char *path, GError **error);
/* The NIC of DOM that DEVICE names (its tap or its MAC address); NULL with ERR_INVALID_ARG. */
struct net_def *core_stats_find_net(struct domain *dom, const char *device, GError **error);
