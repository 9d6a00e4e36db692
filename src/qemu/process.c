/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* process: fork+exec with only async-signal-safe calls in the child; exec failure travels
 * back over a close-on-exec pipe. */
#include "qemu/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/err.h"
#include "util/file.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int
qemu_process_pidfd(pid_t pid, GError **error)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot watch process %d", (int)pid);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

static void
child_fail(int errfd, int err)
{
    ssize_t r = write(errfd, &err, sizeof(err));
    (void)r;
    _exit(127);
}

gboolean
qemu_process_spawn(char *const *argv, const char *log_path, int keep_fd, pid_t *ret_pid,
                   int *ret_pidfd, GError **error)
{
    autoclose int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot open log file '%s'", log_path);
        return FALSE;
    }
    autoclose int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int errpipe[2];
    if (nullfd < 0 || pipe2(errpipe, O_CLOEXEC) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot prepare to start '%s'", argv[0]);
        return FALSE;
    }
    autoclose int errread = errpipe[0];
    autoclose int errwrite = errpipe[1];

    pid_t pid = fork();
    if (pid < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot fork to start '%s'", argv[0]);
        return FALSE;
    }
    if (pid == 0) {
        /* child: async-signal-safe calls only */
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
            if (s != SIGKILL && s != SIGSTOP)
                signal(s, SIG_DFL);
        if (setsid() < 0)
            child_fail(errwrite, errno);
        /* move the fds we keep above 3 first so the dup2 calls below cannot clobber them */
        int ew = fcntl(errwrite, F_DUPFD_CLOEXEC, 10);
        int kf = keep_fd >= 0 ? fcntl(keep_fd, F_DUPFD, 10) : -1;
        if (ew < 0 || (keep_fd >= 0 && kf < 0))
            child_fail(errwrite, errno);
        if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
            child_fail(ew, errno);
        if (kf >= 0) {
            if (dup2(kf, 3) < 0)
                child_fail(ew, errno);
        }
        int first = kf >= 0 ? 4 : 3;
        for (int fd = first; fd < 1024; fd++)
            if (fd != ew)
                close(fd);
        execv(argv[0], argv);
        child_fail(ew, errno);
    }
    file_close_fd(&errwrite);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(errread, &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(child_errno)) {
        int status;
        waitpid(pid, &status, 0);
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "cannot execute '%s': %s", argv[0],
                g_strerror(child_errno));
        return FALSE;
    }
    GError *perr = NULL;
    int pidfd = qemu_process_pidfd(pid, &perr);
    if (pidfd < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        g_propagate_error(error, perr);
        return FALSE;
    }
    *ret_pid = pid;
    *ret_pidfd = pidfd;
    return TRUE;
}

gboolean
qemu_process_matches(pid_t pid, const char *binary, const char *marker)
{
    g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", (int)pid);
    g_autofree char *exe = g_file_read_link(exe_link, NULL);
    if (!exe)
        return FALSE;
    g_autofree char *want = realpath(binary, NULL);
    if (!want || !g_str_equal(exe, want))
        return FALSE;
    g_autofree char *cmd_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    if (!g_file_get_contents(cmd_path, &cmdline, &len, NULL))
        return FALSE;
    for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1)
        if (g_str_equal(cmdline + off, marker))
            return TRUE;
    return FALSE;
}

gboolean
qemu_process_signal(int pidfd, int sig, GError **error)
{
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot send signal %d to QEMU", sig);
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_process_reap(pid_t pid, int *ret_status)
{
    int status;
    pid_t r;
    do {
        r = waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
        *ret_status = status;
        return TRUE;
    }
    return FALSE;
}
