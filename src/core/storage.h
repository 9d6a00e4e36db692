/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage: storage pools (directories) and their volumes; prefix core_pool_ and core_vol_.
 * Pools are kept in memory and on disk (config, autostart marker, active marker); volumes
 * are the files of an active pool's directory, looked at when asked. */
#pragma once

#include "conf/storage_def.h"
#include "core/core.h"
#include "storage/dir.h"

/* virConnectListAllStoragePoolsFlags we filter on */
enum {
    POOL_LIST_INACTIVE = 1 << 0,
    POOL_LIST_ACTIVE = 1 << 1,
    POOL_LIST_PERSISTENT = 1 << 2,
    POOL_LIST_TRANSIENT = 1 << 3,
    POOL_LIST_AUTOSTART = 1 << 4,
    POOL_LIST_NO_AUTOSTART = 1 << 5,
    POOL_LIST_DIR = 1 << 6,
    POOL_LIST_ALL_FLAGS = (1 << 19) - 1,
};
/* virStoragePoolBuildFlags / CreateFlags / DeleteFlags, resize flags */
enum {
    POOL_BUILD_NEW = 0,
    POOL_BUILD_REPAIR = 1,
    POOL_BUILD_RESIZE = 2,
    POOL_BUILD_NO_OVERWRITE = 4,
    POOL_BUILD_OVERWRITE = 8
};
enum {
    POOL_CREATE_WITH_BUILD = 1,
    POOL_CREATE_WITH_BUILD_OVERWRITE = 2,
    POOL_CREATE_WITH_BUILD_NO_OVERWRITE = 4
};
enum { VOL_CREATE_PREALLOC_METADATA = 1, VOL_CREATE_REFLINK = 2 };
enum { VOL_RESIZE_ALLOCATE = 1, VOL_RESIZE_DELTA = 2, VOL_RESIZE_SHRINK = 4 };

struct pool {
    struct pool_def *def;
    gboolean active;
    gboolean persistent;
    gboolean autostart;
    int refs;
};

/* Loads pools and creates the 'default' pool (IMAGE_DIR) on first start; starts autostart
 * pools and those that were active. */
gboolean core_storage_init(struct core *core, GError **error);
/* qemu-img from PATH (Debian: /usr/bin), looked up once. */
const char *core_storage_qemu_img(void);
void core_storage_free(struct core *core);

struct pool *core_pool_lookup_name(struct core *core, const char *name, GError **error);
struct pool *core_pool_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error);
/* The active pool whose target is PATH (compared sanitized, as libvirt), or NULL with
 * ERR_NO_STORAGE_POOL. */
struct pool *core_pool_lookup_target_path(struct core *core, const char *path, GError **error);
/* virConnectFindStoragePoolSources for TYPE: a dir pool has no sources to discover (as in
 * libvirt, ERR_NO_SUPPORT), the other types are not built. Always NULL with ERROR. */
char *core_pool_find_sources(const char *type, GError **error);
/* All pools matching libvirt's virConnectListAllStoragePoolsFlags, by name. */
GPtrArray *core_pool_list(struct core *core, unsigned flags, GError **error);

struct pool *core_pool_define(struct core *core, const char *xml, GError **error);
struct pool *core_pool_create_xml(struct core *core, const char *xml, unsigned flags,
                                  GError **error);
gboolean core_pool_build(struct core *core, struct pool *pool, unsigned flags, GError **error);
gboolean core_pool_start(struct core *core, struct pool *pool, unsigned flags, GError **error);
gboolean core_pool_destroy(struct core *core, struct pool *pool, GError **error);
gboolean core_pool_undefine(struct core *core, struct pool *pool, GError **error);
gboolean core_pool_delete(struct core *core, struct pool *pool, unsigned flags, GError **error);
gboolean core_pool_refresh(struct core *core, struct pool *pool, GError **error);
gboolean core_pool_set_autostart(struct core *core, struct pool *pool, gboolean on, GError **error);
/* Formats the pool with its file system's sizes (when active). */
char *core_pool_xml(struct pool *pool);
gboolean core_pool_info(struct pool *pool, int *ret_state, uint64_t *ret_capacity,
                        uint64_t *ret_allocation, uint64_t *ret_available, GError **error);

/* Volume names of an active pool (sorted). */
GPtrArray *core_vol_list(struct pool *pool, GError **error);
/* Whether NAME is a volume of the active POOL: a file beneath its directory (links that lead
 * outside are not volumes). ERR_NO_STORAGE_VOL otherwise. */
gboolean core_vol_check(struct pool *pool, const char *name, GError **error);
/* Opens volume NAME of POOL with FLAGS after the same check, race-free (see
 * storage_dir_vol_open). Returns a descriptor or -1 with ERROR. */
int core_vol_open(struct pool *pool, const char *name, int flags, GError **error);
/* The path of NAME in POOL after core_vol_check. */
char *core_vol_path(struct pool *pool, const char *name, GError **error);
/* Finds the pool holding a volume by its path (the key). */
struct pool *core_vol_lookup_path(struct core *core, const char *path, char **ret_name,
                                  GError **error);
char *core_vol_xml(struct pool *pool, const char *name, GError **error);
gboolean core_vol_info(struct pool *pool, const char *name, struct storage_vol_info *ret,
                       GError **error);
/* Creates a volume (CLONE_FROM: path of a volume to copy, or NULL). Returns its name.
 * virStorageVolCreateFlags: PREALLOC_METADATA = 1. Blocking (qemu-img): run in a worker. */
char *core_vol_create(struct core *core, struct pool *pool, const char *xml, const char *clone_from,
                      unsigned flags, GError **error);
/* Refuses (ERR_OPERATION_INVALID naming the domain) when a running domain uses PATH. */
gboolean core_vol_check_unused(struct core *core, const char *path, GError **error);
gboolean core_vol_delete(struct core *core, struct pool *pool, const char *name, gboolean force,
                         GError **error);
gboolean core_vol_resize(struct core *core, struct pool *pool, const char *name, uint64_t capacity,
                         unsigned flags, GError **error);

/* volume_jobs.c: jobs on volumes through the job engine. */
/* Wipes volume NAME with ALGORITHM (enum wipe_algorithm) in a worker, as an abortable job
 * with progress; refused while a running domain uses it (unless FORCE) or a job holds it.
 * DONE gets the outcome (ERR_OPERATION_ABORTED when aborted). */
void core_vol_wipe(struct core *core, struct pool *pool, const char *name, int algorithm,
                   gboolean force, core_done_fn done, gpointer data);
/* The job on NAME, if any (FALSE and RET zeroed when none). */
gboolean core_vol_job_info(struct core *core, struct pool *pool, const char *name,
                           struct job_info *ret);
gboolean core_vol_job_abort(struct core *core, struct pool *pool, const char *name, GError **error);
/* Refuses (ERR_OPERATION_INVALID naming the job) a volume a job holds. */
gboolean core_vol_check_idle(struct core *core, struct pool *pool, const char *name,
                             GError **error);

/* Resolves the <disk type='volume'> of DEF (a live definition) to their paths: a missing or
 * inactive pool or a missing volume is an error naming the disk, the pool and the volume. */
gboolean core_storage_resolve_disks(struct core *core, struct domain_def *def, GError **error);
