/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qos (core-private): a running domain's control group (qos.c). */
#pragma once

#include "core/core.h"
#include "util/cgroup.h"

enum core_qos_mem { CORE_QOS_MEM_HARD, CORE_QOS_MEM_SOFT, CORE_QOS_MEM_SWAP };

/* DOM's group: "PARENT/NAME". New string. */
char *core_qos_path(const struct domain *dom);
/* At start, QEMU spawned and stopped: the group made (a stale empty one replaced), QEMU in it,
 * the definition's tunables applied. A tunable the host cannot apply is ERR_OPERATION_INVALID
 * naming the controller; a host without cgroups is fine when nothing is asked. */
gboolean core_qos_start(struct domain *dom, GError **error);
/* Whether the vCPU threads are to be placed (the group has the cpu controller). */
gboolean core_qos_wants_threads(const struct domain *dom);
/* Each known vCPU thread into vcpuN, the other threads into emulator, with their bandwidth. */
gboolean core_qos_place_threads(struct domain *dom, GError **error);
/* QEMU is gone: the group goes. */
void core_qos_stop(struct domain *dom);
/* After a daemon restart, for domain NAME whose QEMU is gone (or was killed and has exited):
 * the group a dead daemon left goes. */
void core_qos_remove_leftover(struct core *core, const char *name);
/* After a daemon restart: whether the group is there. */
void core_qos_adopt(struct domain *dom);

/* The definition FLAGS (CORE_QOS_LIVE, CORE_QOS_CONFIG: not both) name, and whether it is the
 * live one */
struct domain_def *core_qos_tune_def(struct domain *dom, unsigned flags, gboolean *ret_live,
                                     GError **error);
/* Whether DOM runs in a group with controller CTRL; ERR_OPERATION_INVALID naming WHAT if not */
gboolean core_qos_live_group(struct domain *dom, enum cgroup_ctrl ctrl, const char *what,
                             GError **error);
/* The knobs in libvirt's units on group PATH (CHILD: one of its thread groups): cpu shares
 * (v2: cpu.weight), CFS period and quota (µs; v2: cpu.max; a quota of -1 is none), memory
 * limits (KiB; DOMAIN_DEF_MEMORY_UNLIMITED is none). */
gboolean core_qos_set_shares(const struct cgroup_host *host, const char *path, guint64 shares,
                             GError **error);
gboolean core_qos_get_shares(const struct cgroup_host *host, const char *path, guint64 *ret,
                             GError **error);
gboolean core_qos_set_cfs(const struct cgroup_host *host, const char *path, const char *child,
                          guint64 period, gint64 quota, GError **error);
gboolean core_qos_get_cfs(const struct cgroup_host *host, const char *path, const char *child,
                          guint64 *ret_period, gint64 *ret_quota, GError **error);
gboolean core_qos_set_memory(const struct cgroup_host *host, const char *path,
                             enum core_qos_mem which, guint64 kib, GError **error);
gboolean core_qos_get_memory(const struct cgroup_host *host, const char *path,
                             enum core_qos_mem which, guint64 *ret_kib, GError **error);
/* The host NUMA nodes group PATH's memory may use (cpuset.mems; NODESET canonical); v1 first
 * turns cpuset.memory_migrate on, so that the pages already there follow. */
gboolean core_qos_set_mems(const struct cgroup_host *host, const char *path, const char *nodeset,
                           GError **error);
/* blkio (v1) / io (v2): a weight (DEV_PATH NULL: the group's; else a host block device's,
 * in the BFQ files when the host has them), a throttle (KNOB: read iops, write iops, read
 * bytes, write bytes per second; 0 removes it), read back (DEV: its fields filled from the
 * files; NULL: *RET_WEIGHT, 0 when the host takes no weights), and a definition's all. */
gboolean core_qos_set_blkio_weight(const struct cgroup_host *host, const char *path,
                                   const char *dev_path, unsigned weight, GError **error);
gboolean core_qos_set_blkio_throttle(const struct cgroup_host *host, const char *path,
                                     const char *dev_path, int knob, guint64 value, GError **error);
gboolean core_qos_get_blkio(const struct cgroup_host *host, const char *path,
                            struct blkio_device_def *dev, unsigned *ret_weight, GError **error);
gboolean core_qos_apply_blkio(const struct cgroup_host *host, const char *path,
                              const struct domain_def *def, GError **error);
