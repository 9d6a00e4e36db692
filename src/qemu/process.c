/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* process: fork+exec with only async-signal-safe calls in the child; exec failure travels
 * back over a close-on-exec pipe. */
#include "qemu/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
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

struct qemu_child {
    pid_t pid;
    int go;      /* write end of the handshake: one byte lets the child exec */
    int errread; /* read end of the exec-error pipe (close-on-exec in the child) */
};

static void G_GNUC_NORETURN
child_fail(int errfd, int err)
{
    ssize_t r = write(errfd, &err, sizeof(err));
    (void)r;
    _exit(127);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void G_GNUC_NORETURN
child_run(char *const *argv, int nullfd, int logfd, const int *keep_fds, guint nkeep,
          const cpu_set_t *affinity, const struct qemu_mempolicy *mempolicy, int errwrite,
          int goread)
{
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    prctl(PR_SET_NAME, QEMU_PROCESS_CHILD_COMM, 0, 0, 0);
    if (setsid() < 0)
        child_fail(errwrite, errno);
    if (affinity && sched_setaffinity(0, sizeof(*affinity), affinity) < 0)
        child_fail(errwrite, errno);
    if (mempolicy && syscall(SYS_set_mempolicy, mempolicy->mode, mempolicy->nodes,
                             sizeof(mempolicy->nodes) * 8 + 1) < 0)
        child_fail(errwrite, errno);
    /* everything we keep moves above the range the dup2 calls below write to */
    int base = 3 + (int)nkeep + 8;
    int ew = fcntl(errwrite, F_DUPFD_CLOEXEC, base);
    int gr = fcntl(goread, F_DUPFD_CLOEXEC, base);
    int moved[QEMU_PROCESS_KEEP_MAX];
    if (ew < 0 || gr < 0)
        child_fail(errwrite, errno);
    for (guint i = 0; i < nkeep; i++) {
        moved[i] = fcntl(keep_fds[i], F_DUPFD, base);
        if (moved[i] < 0)
            child_fail(ew, errno);
    }
    if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
        child_fail(ew, errno);
    for (guint i = 0; i < nkeep; i++)
        if (dup2(moved[i], 3 + (int)i) < 0)
            child_fail(ew, errno);
    for (int fd = 3 + (int)nkeep; fd < 1024; fd++)
        if (fd != ew && fd != gr)
            close(fd);
    /* the handshake: no byte (the daemon died or gave up) means no QEMU */
    char go;
    ssize_t n;
    do {
        n = read(gr, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(0);
    close(gr);
    execv(argv[0], argv);
    child_fail(ew, errno);
}

struct qemu_child *
qemu_process_fork(char *const *argv, const char *log_path, const int *keep_fds, guint nkeep,
                  const cpu_set_t *affinity, const struct qemu_mempolicy *mempolicy, pid_t *ret_pid,
                  int *ret_pidfd, GError **error)
{
    g_assert(nkeep <= QEMU_PROCESS_KEEP_MAX);
    autoclose int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot open log file '%s'", log_path);
        return NULL;
    }
    autoclose int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int errpipe[2], gopipe[2];
    if (nullfd < 0 || pipe2(errpipe, O_CLOEXEC) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot prepare to start '%s'", argv[0]);
        return NULL;
    }
    autoclose int errread = errpipe[0];
    autoclose int errwrite = errpipe[1];
    if (pipe2(gopipe, O_CLOEXEC) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot prepare to start '%s'", argv[0]);
        return NULL;
    }
    autoclose int goread = gopipe[0];
    autoclose int gowrite = gopipe[1];

    pid_t pid = fork();
    if (pid < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot fork to start '%s'", argv[0]);
        return NULL;
    }
    if (pid == 0)
        child_run(argv, nullfd, logfd, keep_fds, nkeep, affinity, mempolicy, errwrite, goread);
    GError *perr = NULL;
    int pidfd = qemu_process_pidfd(pid, &perr);
    if (pidfd < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        g_propagate_error(error, perr);
        return NULL;
    }
    struct qemu_child *child = g_new0(struct qemu_child, 1);
    child->pid = pid;
    child->go = g_steal_fd(&gowrite);
    child->errread = g_steal_fd(&errread);
    *ret_pid = pid;
    *ret_pidfd = pidfd;
    return child;
}

gboolean
qemu_process_exec(struct qemu_child *child, GError **error)
{
    ssize_t n;
    do {
        n = write(child->go, "g", 1);
    } while (n < 0 && errno == EINTR);
    close(child->go);
    int child_errno = 0;
    do {
        n = read(child->errread, &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    close(child->errread);
    pid_t pid = child->pid;
    g_free(child);
    if (n == sizeof(child_errno)) {
        waitpid(pid, NULL, 0);
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "cannot execute QEMU: %s",
                g_strerror(child_errno));
        return FALSE;
    }
    return TRUE;
}

void
qemu_process_abandon(struct qemu_child *child)
{
    close(child->go);
    close(child->errread);
    waitpid(child->pid, NULL, 0);
    g_free(child);
}

gboolean
qemu_process_is_waiting_child(pid_t pid)
{
    g_autofree char *comm_path = g_strdup_printf("/proc/%d/comm", (int)pid);
    g_autofree char *comm = NULL;
    if (!g_file_get_contents(comm_path, &comm, NULL, NULL))
        return FALSE;
    g_strchomp(comm);
    if (!g_str_equal(comm, QEMU_PROCESS_CHILD_COMM))
        return FALSE;
    g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", (int)pid);
    g_autofree char *exe = g_file_read_link(exe_link, NULL);
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    return exe && self && g_str_equal(exe, self);
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
qemu_process_kill_wait(int pidfd, int timeout_ms)
{
    qemu_process_signal(pidfd, SIGKILL, NULL);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return n == 1;
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
