/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* process: spawning QEMU in its own session, watching its exit through a pidfd, killing it;
 * prefix qemu_process_. Exit is noticed whether or not QEMU is our child (after a daemon
 * restart it is not). */
#pragma once

#include <glib.h>
#include <sched.h>
#include <sys/types.h>

/* A forked child that has not executed QEMU yet: it waits for qemu_process_exec. Should the
 * daemon die first, the child sees its handshake pipe close and exits without running QEMU:
 * a QEMU only ever runs after its pid was recorded. */
struct qemu_child;

/* Descriptors a child may inherit (fds 3 .. 3 + QEMU_PROCESS_KEEP_MAX - 1). */
#define QEMU_PROCESS_KEEP_MAX 32

/* The name (/proc/PID/comm) of a forked child until it executes QEMU. */
#define QEMU_PROCESS_CHILD_COMM "domus-spawn"

/* The memory policy QEMU starts under (set_mempolicy(2)): MODE one of the kernel's MPOL_*,
 * NODES the host NUMA nodes (bit N: node N). */
struct qemu_mempolicy {
    int mode;
    unsigned long nodes[16];
};

/* Forks the child for ARGV[0] with ARGV in a new session (setsid), stdin /dev/null, stdout
 * and stderr appended to LOG_PATH, and KEEP_FDS[i] made fd 3 + i; every other fd is closed.
 * AFFINITY (may be NULL) is the CPUs every thread of QEMU may run on; MEMPOLICY (may be NULL)
 * the memory policy it runs under.
 * Returns the child (its pid and a pidfd in RET_PID and RET_PIDFD). Errors: ERR_SYSTEM_ERROR. */
struct qemu_child *qemu_process_fork(char *const *argv, const char *log_path, const int *keep_fds,
                                     guint nkeep, const cpu_set_t *affinity,
                                     const struct qemu_mempolicy *mempolicy, pid_t *ret_pid,
                                     int *ret_pidfd, GError **error);
/* Lets CHILD execute QEMU and waits until it did (or failed to: ERR_OPERATION_FAILED with
 * errno's text, and the child is reaped). Frees CHILD. */
gboolean qemu_process_exec(struct qemu_child *child, GError **error);
/* The child exits without executing anything and is reaped. Frees CHILD. */
void qemu_process_abandon(struct qemu_child *child);
/* Whether PID is a child of this program that has not executed QEMU yet (possibly of an
 * earlier daemon that died). */
gboolean qemu_process_is_waiting_child(pid_t pid);

/* A pidfd for a running process, or -1 with ERROR when it is gone. */
int qemu_process_pidfd(pid_t pid, GError **error);

/* True when PID runs BINARY (its /proc/PID/exe) and one of its arguments is exactly MARKER
 * (qemu_command_name_arg): guards against a reused pid and against another domain's QEMU. */
gboolean qemu_process_matches(pid_t pid, const char *binary, const char *marker);

/* Sends SIG through the pidfd (never to a reused pid). */
gboolean qemu_process_signal(int pidfd, int sig, GError **error);

/* SIGKILL to the process of PIDFD, then up to TIMEOUT_MS for it to exit: whether it did (it
 * may still need reaping). */
gboolean qemu_process_kill_wait(int pidfd, int timeout_ms);

/* Reaps PID if it is our child and has exited; returns its wait status in RET_STATUS, or
 * FALSE when it is not our child (status unknown). Never blocks. */
gboolean qemu_process_reap(pid_t pid, int *ret_status);
