/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup: directories and files of the cgroup filesystems, nothing more: which knob means
 * what is the caller's (core/qos.c). */
#include "util/cgroup.h"

#include <errno.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

static const char *const ctrl_names[CGROUP_N] = {"cpu", "cpuacct", "cpuset", "memory", "blkio"};
/* v2's names: cpuacct is part of cpu, blkio is io */
static const char *const v2_names[CGROUP_N] = {"cpu", "cpu", "cpuset", "memory", "io"};

struct cgroup_host {
    char *root;
    gboolean v2;
    gboolean has[CGROUP_N];
};

const char *
cgroup_ctrl_to_string(enum cgroup_ctrl ctrl)
{
    return ctrl < CGROUP_N ? ctrl_names[ctrl] : "unknown";
}

struct cgroup_host *
cgroup_host_detect(const char *root)
{
    struct cgroup_host *h = g_new0(struct cgroup_host, 1);
    h->root = g_strdup(root);
    g_autofree char *list = g_build_filename(root, "cgroup.controllers", NULL);
    g_autofree char *text = NULL;
    if (g_file_get_contents(list, &text, NULL, NULL)) {
        h->v2 = TRUE;
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(text), " \n", -1);
        for (int c = 0; c < CGROUP_N; c++)
            h->has[c] = g_strv_contains((const char *const *)words, v2_names[c]);
        return h;
    }
    for (int c = 0; c < CGROUP_N; c++) {
        g_autofree char *tasks = g_build_filename(root, ctrl_names[c], "tasks", NULL);
        h->has[c] = g_file_test(tasks, G_FILE_TEST_EXISTS);
    }
    return h;
}

void
cgroup_host_free(struct cgroup_host *host)
{
    if (!host)
        return;
    g_free(host->root);
    g_free(host);
}

gboolean
cgroup_host_is_v2(const struct cgroup_host *host)
{
    return host->v2;
}

gboolean
cgroup_host_has(const struct cgroup_host *host, enum cgroup_ctrl ctrl)
{
    return ctrl < CGROUP_N && host->has[ctrl];
}

/* The directory of group PATH (CHILD in it) in CTRL's hierarchy */
static char *
dir_of(const struct cgroup_host *h, enum cgroup_ctrl ctrl, const char *path, const char *child)
{
    return h->v2 ? g_build_filename(h->root, path, child, NULL)
                 : g_build_filename(h->root, ctrl_names[ctrl], path, child, NULL);
}

/* One write(2): the kernel checks the value there and says why it refuses it */
static gboolean
write_file(const char *file, const char *value, GError **error)
{
    /* O_CREAT: a fake tree (tests) has no files the kernel would make; cgroupfs refuses new
     * files anyway */
    int fd = open(file, O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0644);
    if (fd < 0) {
        int e = errno;
        err_set_errno(error, ERR_FROM_NONE, e, "cannot open '%s'", file);
        return FALSE;
    }
    gsize len = strlen(value);
    gssize n = write(fd, value, len);
    int e = errno;
    close(fd);
    if (n != (gssize)len) {
        err_set_errno(error, ERR_FROM_NONE, n < 0 ? e : EIO, "cannot write '%s' to '%s'", value,
                      file);
        return FALSE;
    }
    return TRUE;
}

/* v2: the parents of PATH give it every controller the host has */
static gboolean
delegate(const struct cgroup_host *h, const char *path, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    g_autofree char *dir = g_strdup(h->root);
    for (int i = 0; parts[i]; i++) {
        if (!*parts[i])
            continue;
        g_autoptr(GString) enable = g_string_new(NULL);
        for (int c = 0; c < CGROUP_N; c++) {
            if (h->has[c] && !strstr(enable->str, v2_names[c]))
                g_string_append_printf(enable, "%s+%s", enable->len ? " " : "", v2_names[c]);
        }
        g_autofree char *control = g_build_filename(dir, "cgroup.subtree_control", NULL);
        if (enable->len && !write_file(control, enable->str, error))
            return FALSE;
        char *next = g_build_filename(dir, parts[i], NULL);
        g_free(dir);
        dir = next;
    }
    return TRUE;
}

static gboolean
make_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        int e = errno;
        err_set_errno(error, ERR_FROM_NONE, e, "cannot create cgroup '%s'", dir);
        return FALSE;
    }
    return TRUE;
}

/* v1: a new cpuset group starts with no CPUs and no memory nodes, and takes no task until
 * it has some: each level of PATH gets its parent's */
static gboolean
inherit_cpuset(const struct cgroup_host *h, const char *path, GError **error)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    g_autofree char *dir = g_build_filename(h->root, ctrl_names[CGROUP_CPUSET], NULL);
    for (int i = 0; parts[i]; i++) {
        if (!*parts[i])
            continue;
        char *next = g_build_filename(dir, parts[i], NULL);
        for (int f = 0; f < 2; f++) {
            g_autofree char *mine = g_build_filename(next, files[f], NULL);
            g_autofree char *theirs = g_build_filename(dir, files[f], NULL);
            g_autofree char *current = NULL;
            g_autofree char *value = NULL;
            if (g_file_get_contents(mine, &current, NULL, NULL) && *g_strstrip(current))
                continue;
            if (g_file_get_contents(theirs, &value, NULL, NULL) && *g_strstrip(value) &&
                !write_file(mine, value, error)) {
                g_free(next);
                return FALSE;
            }
        }
        g_free(dir);
        dir = next;
    }
    return TRUE;
}

gboolean
cgroup_create(const struct cgroup_host *host, const char *path, GError **error)
{
    if (host->v2) {
        g_autofree char *dir = dir_of(host, CGROUP_CPU, path, NULL);
        return make_dir(dir, error) && delegate(host, path, error);
    }
    for (int c = 0; c < CGROUP_N; c++) {
        g_autofree char *dir = dir_of(host, (enum cgroup_ctrl)c, path, NULL);
        if (!host->has[c])
            continue;
        if (!make_dir(dir, error))
            return FALSE;
        if (c == CGROUP_CPUSET && !inherit_cpuset(host, path, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
cgroup_create_thread_group(const struct cgroup_host *host, const char *path, const char *child,
                           enum cgroup_ctrl ctrl, GError **error)
{
    g_autofree char *dir = dir_of(host, ctrl, path, child);
    if (!cgroup_host_has(host, ctrl)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_UNSUPPORTED,
                "this host has no cgroup controller '%s'", ctrl_names[ctrl]);
        return FALSE;
    }
    if (!make_dir(dir, error))
        return FALSE;
    if (host->v2) {
        /* a threaded child; the group hands the (threaded) controller down to it */
        g_autofree char *type = g_build_filename(dir, "cgroup.type", NULL);
        g_autofree char *parent = g_path_get_dirname(dir);
        g_autofree char *control = g_build_filename(parent, "cgroup.subtree_control", NULL);
        g_autofree char *enable = g_strdup_printf("+%s", v2_names[ctrl]);
        return write_file(type, "threaded", error) && write_file(control, enable, error);
    }
    return TRUE;
}

#define BUSY_TRIES 50
#define BUSY_PAUSE_US 2000

static gboolean
remove_dir(const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return TRUE;
    const char *entry;
    while ((entry = g_dir_read_name(d))) {
        g_autofree char *sub = g_build_filename(dir, entry, NULL);
        if (g_file_test(sub, G_FILE_TEST_IS_DIR) && !remove_dir(sub, error))
            return FALSE;
    }
    /* a group whose last task just exited may stay busy until the kernel releases it (an RCU
     * grace period, a few ms) */
    for (int tries = 0; rmdir(dir) < 0 && errno == EBUSY && tries < BUSY_TRIES; tries++)
        g_usleep(BUSY_PAUSE_US);
    if (g_file_test(dir, G_FILE_TEST_IS_DIR) && rmdir(dir) < 0 && errno != ENOENT) {
        int e = errno;
        /* a fake tree (tests) has regular files where the kernel has none */
        if (e == ENOTEMPTY) {
            g_autoptr(GDir) again = g_dir_open(dir, 0, NULL);
            while (again && (entry = g_dir_read_name(again))) {
                g_autofree char *f = g_build_filename(dir, entry, NULL);
                if (!g_file_test(f, G_FILE_TEST_IS_DIR))
                    unlink(f);
            }
            if (rmdir(dir) == 0)
                return TRUE;
            e = errno;
        }
        err_set_errno(error, ERR_FROM_NONE, e, "cannot remove cgroup '%s'", dir);
        return FALSE;
    }
    return TRUE;
}

gboolean
cgroup_remove(const struct cgroup_host *host, const char *path, GError **error)
{
    if (host->v2) {
        g_autofree char *dir = dir_of(host, CGROUP_CPU, path, NULL);
        return remove_dir(dir, error);
    }
    /* every hierarchy, even after one failed: the first failure is the error */
    gboolean ok = TRUE;
    for (int c = 0; c < CGROUP_N; c++) {
        g_autofree char *dir = dir_of(host, (enum cgroup_ctrl)c, path, NULL);
        if (host->has[c] && !remove_dir(dir, ok ? error : NULL))
            ok = FALSE;
    }
    return ok;
}

/* The ids in a cgroup.procs / tasks file, each signalled */
static guint
kill_listed(const char *file)
{
    g_autofree char *text = NULL;
    guint n = 0;
    if (!g_file_get_contents(file, &text, NULL, NULL))
        return 0;
    g_auto(GStrv) ids = g_strsplit(text, "\n", -1);
    for (char **id = ids; *id; id++) {
        guint64 v = 0;
        if (g_ascii_string_to_unsigned(g_strstrip(*id), 10, 2, G_MAXINT, &v, NULL) &&
            (pid_t)v != getpid() && kill((pid_t)v, SIGKILL) == 0)
            n++;
    }
    return n;
}

static guint
kill_tree(const char *dir)
{
    g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
    g_autofree char *tasks = g_build_filename(dir, "tasks", NULL);
    g_autofree char *threads = g_build_filename(dir, "cgroup.threads", NULL);
    guint n = kill_listed(procs) + kill_listed(tasks) + kill_listed(threads);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;
    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *sub = g_build_filename(dir, entry, NULL);
        if (g_file_test(sub, G_FILE_TEST_IS_DIR))
            n += kill_tree(sub);
    }
    return n;
}

guint
cgroup_kill_all(const struct cgroup_host *host, const char *path)
{
    for (int c = 0; c < CGROUP_N; c++) {
        if (!host->has[c])
            continue;
        /* only a real cgroup filesystem: a fake tree's ids are nobody's processes */
        g_autofree char *dir = dir_of(host, (enum cgroup_ctrl)c, path, NULL);
        struct statfs sf;
        if (statfs(dir, &sf) < 0 ||
            (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
            return 0;
        return kill_tree(dir);
    }
    return 0;
}

gboolean
cgroup_exists(const struct cgroup_host *host, const char *path)
{
    for (int c = 0; c < CGROUP_N; c++) {
        g_autofree char *dir = dir_of(host, (enum cgroup_ctrl)c, path, NULL);
        if (host->has[c])
            return g_file_test(dir, G_FILE_TEST_IS_DIR);
    }
    return FALSE;
}

gboolean
cgroup_add_process(const struct cgroup_host *host, const char *path, pid_t pid, GError **error)
{
    g_autofree char *value = g_strdup_printf("%d", (int)pid);
    for (int c = 0; c < CGROUP_N; c++) {
        if (!host->has[c])
            continue;
        g_autofree char *dir = dir_of(host, (enum cgroup_ctrl)c, path, NULL);
        g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
        if (!write_file(procs, value, error))
            return FALSE;
        if (host->v2)
            break;
    }
    return TRUE;
}

gboolean
cgroup_add_thread(const struct cgroup_host *host, const char *path, const char *child,
                  enum cgroup_ctrl ctrl, pid_t tid, GError **error)
{
    g_autofree char *value = g_strdup_printf("%d", (int)tid);
    g_autofree char *dir = dir_of(host, ctrl, path, child);
    g_autofree char *file = g_build_filename(dir, host->v2 ? "cgroup.threads" : "tasks", NULL);
    return write_file(file, value, error);
}

gboolean
cgroup_set(const struct cgroup_host *host, const char *path, const char *child,
           enum cgroup_ctrl ctrl, const char *file, const char *value, GError **error)
{
    if (!cgroup_host_has(host, ctrl)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_UNSUPPORTED,
                "this host has no cgroup controller '%s'", ctrl_names[ctrl]);
        return FALSE;
    }
    g_autofree char *dir = dir_of(host, ctrl, path, child);
    g_autofree char *full = g_build_filename(dir, file, NULL);
    return write_file(full, value, error);
}

char *
cgroup_get(const struct cgroup_host *host, const char *path, const char *child,
           enum cgroup_ctrl ctrl, const char *file, GError **error)
{
    if (!cgroup_host_has(host, ctrl)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_UNSUPPORTED,
                "this host has no cgroup controller '%s'", ctrl_names[ctrl]);
        return NULL;
    }
    g_autofree char *dir = dir_of(host, ctrl, path, child);
    g_autofree char *full = g_build_filename(dir, file, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(full, &text, NULL, &e)) {
        err_set(error, ERR_FROM_NONE, ERR_SYSTEM_ERROR, "cannot read '%s': %s", full, e->message);
        return NULL;
    }
    return g_strdup(g_strstrip(text));
}
