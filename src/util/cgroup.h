/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup: the host's control groups, v1 (one hierarchy per controller, as these machines
 * mount them) or v2 (one unified hierarchy, as most current hosts do), under a root directory
 * that tests point at a fake tree; prefix cgroup_. A group is a path relative to each
 * hierarchy's top ("domus/web"); its children ("vcpu0", "emulator") hold single threads. */
#pragma once

#include <glib.h>
#include <sys/types.h>

enum cgroup_ctrl {
    CGROUP_CPU,
    CGROUP_CPUACCT,
    CGROUP_CPUSET,
    CGROUP_MEMORY,
    CGROUP_BLKIO,
    CGROUP_N
};

const char *cgroup_ctrl_to_string(enum cgroup_ctrl ctrl);

struct cgroup_host;

/* What ROOT ("/sys/fs/cgroup") offers: v2 when ROOT/cgroup.controllers exists (the
 * controllers it lists), else v1 (ROOT/<controller> directories with a tasks file). Never
 * fails: a host without cgroups offers no controller. */
struct cgroup_host *cgroup_host_detect(const char *root);
void cgroup_host_free(struct cgroup_host *host);
typedef struct cgroup_host cgroup_host;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cgroup_host, cgroup_host_free)
gboolean cgroup_host_is_v2(const struct cgroup_host *host);
gboolean cgroup_host_has(const struct cgroup_host *host, enum cgroup_ctrl ctrl);

/* Creates group PATH (and its parents) in every hierarchy the host has; with v2 the parents
 * delegate the controllers to it (cgroup.subtree_control). An existing group is fine. */
gboolean cgroup_create(const struct cgroup_host *host, const char *path, GError **error);
/* Creates CHILD of group PATH for threads (v2: cgroup.type threaded), in the hierarchies
 * of CTRL (v1) or the unified one. */
gboolean cgroup_create_thread_group(const struct cgroup_host *host, const char *path,
                                    const char *child, enum cgroup_ctrl ctrl, GError **error);
/* Removes group PATH with its children, in every hierarchy (a group still holding tasks
 * cannot go: ERR_SYSTEM_ERROR). A missing group is fine. */
gboolean cgroup_remove(const struct cgroup_host *host, const char *path, GError **error);
/* SIGKILL to every process with a task in group PATH or its groups below (on a real cgroup
 * filesystem only; a fake tree is left alone): what QEMU left behind when it went, helpers it
 * started. Returns how many were signalled. */
guint cgroup_kill_all(const struct cgroup_host *host, const char *path);
/* Whether group PATH exists (in the first hierarchy the host has). */
gboolean cgroup_exists(const struct cgroup_host *host, const char *path);

/* Moves process PID (all its threads) into group PATH, in every hierarchy. */
gboolean cgroup_add_process(const struct cgroup_host *host, const char *path, pid_t pid,
                            GError **error);
/* Moves thread TID into CHILD of group PATH (NULL: the group itself), in CTRL's hierarchy. */
gboolean cgroup_add_thread(const struct cgroup_host *host, const char *path, const char *child,
                           enum cgroup_ctrl ctrl, pid_t tid, GError **error);

/* Writes VALUE to FILE ("cpu.shares") of CHILD (NULL: the group itself) of group PATH in
 * CTRL's hierarchy; reads it back (a new string, stripped). ERR_SYSTEM_ERROR naming the file
 * and the kernel's reason; ERR_OPERATION_UNSUPPORTED when the host lacks CTRL. */
gboolean cgroup_set(const struct cgroup_host *host, const char *path, const char *child,
                    enum cgroup_ctrl ctrl, const char *file, const char *value, GError **error);
char *cgroup_get(const struct cgroup_host *host, const char *path, const char *child,
                 enum cgroup_ctrl ctrl, const char *file, GError **error);
