/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter: the program a compressed save image's stream goes through; prefix qemu_filter_.
 * The program is a GSubprocess: its stdin and stdout are the image and a pipe, its stderr a
 * memory file read once it has exited. */
#include "qemu/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "qemu/saveimage.h"
#include "util/err.h"

/* What a program may say on stderr that is kept for the error. */
#define COMPLAINT_MAX 1024
/* A larger pipe than the default 64 KiB: fewer wake-ups of QEMU and the program. */
#define PIPE_SIZE (1024 * 1024)

struct qemu_filter {
    GSubprocess *proc;
    char *what; /* "gzip -dc": words errors */
    char *path;
    int err_fd; /* the program's stderr */
    gboolean exited;
    GError *error; /* how it ended, once exited */
    qemu_filter_done_fn done;
    gpointer done_data;
    gboolean dropped; /* freed by its owner: the exit only releases it */
    int refs;         /* the owner's and the pending exit's */
};

static void
filter_unref(struct qemu_filter *f)
{
    if (--f->refs > 0)
        return;
    g_clear_object(&f->proc);
    g_free(f->what);
    g_free(f->path);
    if (f->err_fd >= 0)
        close(f->err_fd);
    g_clear_error(&f->error);
    g_free(f);
}

/* In the child: it dies with the daemon, and at once if the daemon already went. */
static void
die_with_parent(gpointer daemon_pid)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != GPOINTER_TO_INT(daemon_pid))
        _exit(1);
}

/* What the program wrote to stderr, on one line. */
static char *
complaint(const struct qemu_filter *f)
{
    char buf[COMPLAINT_MAX + 1];
    ssize_t n = pread(f->err_fd, buf, COMPLAINT_MAX, 0);
    buf[n > 0 ? n : 0] = '\0';
    g_strdelimit(buf, "\r\n\t", ' ');
    return g_strdup(g_strstrip(buf));
}

static void
filter_exited(GObject *source, GAsyncResult *result, gpointer data)
{
    struct qemu_filter *f = data;
    g_autoptr(GError) local = NULL;
    gboolean waited = g_subprocess_wait_finish(G_SUBPROCESS(source), result, &local);
    if (f->dropped) {
        filter_unref(f);
        return;
    }
    f->exited = TRUE;
    g_autofree char *said = complaint(f);
    g_autofree char *how = NULL;
    if (!waited)
        how = g_strdup(local->message);
    else if (g_subprocess_get_if_signaled(f->proc))
        how = g_strdup_printf("killed by signal %d", g_subprocess_get_term_sig(f->proc));
    else if (g_subprocess_get_exit_status(f->proc) != 0)
        how = g_strdup_printf("exit status %d", g_subprocess_get_exit_status(f->proc));
    if (how)
        err_set(&f->error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "'%s' failed on save image '%s' "
                "(%s)%s%s",
                f->what, f->path, how, *said ? ": " : "", said);
    if (f->done)
        f->done(f->error, f->done_data);
    filter_unref(f);
}

/* The path of COMPRESSION's program, or NULL naming it and PATH. */
static char *
find_program(guint32 compression, gboolean decompress, const char *path, GError **error)
{
    g_assert(compression != QEMU_SAVEIMAGE_RAW && compression < QEMU_SAVEIMAGE_COMPRESSION_LAST);
    const char *program = qemu_saveimage_compression_to_string(compression);
    char *binary = g_find_program_in_path(program);
    if (!binary)
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "save image '%s' is %s with %s, and '%s' is not installed on this host; "
                "install it",
                path, decompress ? "compressed" : "to be compressed", program, program);
    return binary;
}

gboolean
qemu_filter_available(guint32 compression, gboolean decompress, const char *path, GError **error)
{
    if (compression == QEMU_SAVEIMAGE_RAW)
        return TRUE;
    g_autofree char *binary = find_program(compression, decompress, path, error);
    return binary != NULL;
}

struct qemu_filter *
qemu_filter_start(guint32 compression, gboolean decompress, int image_fd, const char *path,
                  int *ret_fd, GError **error)
{
    const char *program = qemu_saveimage_compression_to_string(compression);
    g_autofree char *binary = find_program(compression, decompress, path, error);
    if (!binary)
        return NULL;
    /* libvirt's arguments, so that the images are alike */
    const char *argv[5] = {binary, decompress ? "-dc" : "-c", NULL, NULL, NULL};
    if (decompress && compression == QEMU_SAVEIMAGE_LZOP)
        argv[2] = "--ignore-warn";
    else if (!decompress && compression == QEMU_SAVEIMAGE_XZ)
        argv[2] = "-3";
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot create a pipe for '%s'", program);
        return NULL;
    }
    fcntl(pipe_fds[0], F_SETPIPE_SZ, PIPE_SIZE); /* a hint: the default size works too */
    int err_fd = memfd_create("domus-filter-stderr", MFD_CLOEXEC);
    int image_dup = fcntl(image_fd, F_DUPFD_CLOEXEC, 3);
    if (err_fd < 0 || image_dup < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot set up '%s' for save image '%s'",
                      program, path);
        if (err_fd >= 0)
            close(err_fd);
        if (image_dup >= 0)
            close(image_dup);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return NULL;
    }
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    /* the launcher owns the child's ends and closes them when freed, below */
    g_subprocess_launcher_take_stdin_fd(launcher, decompress ? image_dup : pipe_fds[0]);
    g_subprocess_launcher_take_stdout_fd(launcher, decompress ? pipe_fds[1] : image_dup);
    g_subprocess_launcher_take_stderr_fd(launcher, dup(err_fd));
    g_subprocess_launcher_setenv(launcher, "LC_ALL", "C", TRUE);
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, GINT_TO_POINTER(getpid()),
                                          NULL);
    g_autoptr(GError) local = NULL;
    GSubprocess *proc = g_subprocess_launcher_spawnv(launcher, argv, &local);
    g_clear_object(&launcher);
    int ours = decompress ? pipe_fds[0] : pipe_fds[1];
    if (!proc) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot run '%s' for save image "
                "'%s': %s",
                program, path, local->message);
        close(err_fd);
        close(ours);
        return NULL;
    }
    struct qemu_filter *f = g_new0(struct qemu_filter, 1);
    f->proc = proc;
    f->what = g_strjoin(" ", program, argv[1], argv[2], NULL);
    f->path = g_strdup(path);
    f->err_fd = err_fd;
    f->refs = 2; /* the owner's, and filter_exited's */
    g_subprocess_wait_async(proc, NULL, filter_exited, f);
    *ret_fd = ours;
    return f;
}

void
qemu_filter_wait(struct qemu_filter *f, qemu_filter_done_fn done, gpointer data)
{
    g_assert(!f->done);
    if (f->exited) {
        done(f->error, data);
        return;
    }
    f->done = done;
    f->done_data = data;
}

void
qemu_filter_free(struct qemu_filter *f)
{
    if (!f)
        return;
    if (!f->exited) {
        f->dropped = TRUE;
        g_subprocess_force_exit(f->proc);
    }
    filter_unref(f);
}
