/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* process: spawning QEMU in its own session, watching its exit through a pidfd, killing it;
 * prefix qemu_process_. Exit is noticed whether or not QEMU is our child (after a daemon
 * restart it is not). */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Starts ARGV[0] with ARGV in a new session (setsid), stdin /dev/null, stdout and stderr
 * appended to LOG_PATH, and KEEP_FD (if >= 0) made fd 3 in the child; every other fd is
 * closed. Returns the pid and a pidfd. Errors: ERR_SYSTEM_ERROR / ERR_OPERATION_FAILED
 * (exec failed; the message carries errno). */
gboolean qemu_process_spawn(char *const *argv, const char *log_path, int keep_fd, pid_t *ret_pid,
                            int *ret_pidfd, GError **error);

/* A pidfd for a running process, or -1 with ERROR when it is gone. */
int qemu_process_pidfd(pid_t pid, GError **error);

/* True when PID runs BINARY (its /proc/PID/exe) and one of its arguments is exactly MARKER
 * (qemu_command_name_arg): guards against a reused pid and against another domain's QEMU. */
gboolean qemu_process_matches(pid_t pid, const char *binary, const char *marker);

/* Sends SIG through the pidfd (never to a reused pid). */
gboolean qemu_process_signal(int pidfd, int sig, GError **error);

/* Reaps PID if it is our child and has exited; returns its wait status in RET_STATUS, or
 * FALSE when it is not our child (status unknown). Never blocks. */
gboolean qemu_process_reap(pid_t pid, int *ret_status);
