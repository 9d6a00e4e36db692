/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* perfevent: perf counters of a process, as libvirt's virperf.c opens them: one counter per
 * event on the process (every CPU), inherited by the threads it makes afterwards; prefix
 * perf_event_. */
#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/err.h"
#include "util/perfevent.h"

static const char *const names[PERF_EVENT_N] = {
    "cmt",
    "mbmt",
    "mbml",
    "cpu_cycles",
    "instructions",
    "cache_references",
    "cache_misses",
    "branch_instructions",
    "branch_misses",
    "bus_cycles",
    "stalled_cycles_frontend",
    "stalled_cycles_backend",
    "ref_cpu_cycles",
    "cpu_clock",
    "task_clock",
    "page_faults",
    "context_switches",
    "cpu_migrations",
    "page_faults_min",
    "page_faults_maj",
    "alignment_faults",
    "emulation_faults",
};

static const struct {
    guint32 type;
    guint64 config;
} attrs[PERF_EVENT_N] = {
    [PERF_EVENT_CPU_CYCLES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    [PERF_EVENT_INSTRUCTIONS] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    [PERF_EVENT_CACHE_REFERENCES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    [PERF_EVENT_CACHE_MISSES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    [PERF_EVENT_BRANCH_INSTRUCTIONS] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    [PERF_EVENT_BRANCH_MISSES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    [PERF_EVENT_BUS_CYCLES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES},
    [PERF_EVENT_STALLED_CYCLES_FRONTEND] = {PERF_TYPE_HARDWARE,
                                            PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
    [PERF_EVENT_STALLED_CYCLES_BACKEND] = {PERF_TYPE_HARDWARE,
                                           PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
    [PERF_EVENT_REF_CPU_CYCLES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
    [PERF_EVENT_CPU_CLOCK] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
    [PERF_EVENT_TASK_CLOCK] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    [PERF_EVENT_PAGE_FAULTS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    [PERF_EVENT_CONTEXT_SWITCHES] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    [PERF_EVENT_CPU_MIGRATIONS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    [PERF_EVENT_PAGE_FAULTS_MIN] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
    [PERF_EVENT_PAGE_FAULTS_MAJ] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
    [PERF_EVENT_ALIGNMENT_FAULTS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS},
    [PERF_EVENT_EMULATION_FAULTS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS},
};

const char *
perf_event_to_string(int event)
{
    return event >= 0 && event < PERF_EVENT_N ? names[event] : NULL;
}

int
perf_event_from_string(const char *name)
{
    for (int i = 0; i < PERF_EVENT_N; i++) {
        if (g_str_equal(names[i], name))
            return i;
    }
    return -1;
}

int
perf_event_open_pid(int event, pid_t pid, GError **error)
{
    g_assert(event >= 0 && event < PERF_EVENT_N);
    if (event <= PERF_EVENT_MBML) {
        err_set(error, ERR_FROM_NONE, ERR_ARGUMENT_UNSUPPORTED,
                "unable to enable host cpu perf event for %s: Intel's cache and memory "
                "bandwidth monitors are not supported",
                names[event]);
        return -1;
    }
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = attrs[event].type;
    attr.config = attrs[event].config;
    attr.inherit = 1;
    attr.disabled = 1;
    int fd = (int)syscall(__NR_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "unable to open host cpu perf event for %s",
                      names[event]);
        return -1;
    }
    if (ioctl(fd, PERF_EVENT_IOC_ENABLE) < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "unable to enable host cpu perf event for %s",
                      names[event]);
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
perf_event_read(int fd, guint64 *ret, GError **error)
{
    guint64 v = 0;
    ssize_t n = read(fd, &v, sizeof(v));
    if (n != (ssize_t)sizeof(v)) {
        err_set_errno(error, ERR_FROM_NONE, n < 0 ? errno : EIO,
                      "unable to read host cpu perf event");
        return FALSE;
    }
    *ret = v;
    return TRUE;
}
