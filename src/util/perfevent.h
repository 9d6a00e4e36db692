/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* perfevent: the host's perf counters of a process (perf_event_open), by libvirt's event
 * names; prefix perf_event_. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* libvirt's virPerfEventType, in its order */
enum {
    PERF_EVENT_CMT,
    PERF_EVENT_MBMT,
    PERF_EVENT_MBML,
    PERF_EVENT_CPU_CYCLES,
    PERF_EVENT_INSTRUCTIONS,
    PERF_EVENT_CACHE_REFERENCES,
    PERF_EVENT_CACHE_MISSES,
    PERF_EVENT_BRANCH_INSTRUCTIONS,
    PERF_EVENT_BRANCH_MISSES,
    PERF_EVENT_BUS_CYCLES,
    PERF_EVENT_STALLED_CYCLES_FRONTEND,
    PERF_EVENT_STALLED_CYCLES_BACKEND,
    PERF_EVENT_REF_CPU_CYCLES,
    PERF_EVENT_CPU_CLOCK,
    PERF_EVENT_TASK_CLOCK,
    PERF_EVENT_PAGE_FAULTS,
    PERF_EVENT_CONTEXT_SWITCHES,
    PERF_EVENT_CPU_MIGRATIONS,
    PERF_EVENT_PAGE_FAULTS_MIN,
    PERF_EVENT_PAGE_FAULTS_MAJ,
    PERF_EVENT_ALIGNMENT_FAULTS,
    PERF_EVENT_EMULATION_FAULTS,
    PERF_EVENT_N
};

const char *perf_event_to_string(int event);
/* -1 for a name libvirt does not have */
int perf_event_from_string(const char *name);

/* A counter of EVENT for process PID and the threads it makes from now on (libvirt's
 * inherit), running. Returns its descriptor (O_CLOEXEC). Errors (ERR_FROM_NONE):
 * ERR_ARGUMENT_UNSUPPORTED for cmt, mbmt and mbml (Intel's cache and memory bandwidth
 * monitors, which need resctrl), ERR_SYSTEM_ERROR with the kernel's reason ("unable to open
 * host cpu perf event for cpu_cycles: …": no PMU, perf_event_paranoid). */
int perf_event_open_pid(int event, pid_t pid, GError **error);
/* The counter's value. */
gboolean perf_event_read(int fd, guint64 *ret, GError **error);
