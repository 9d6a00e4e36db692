/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core: the domain registry, lifecycle, jobs and persistence; prefix core_ (registry and
 * queries, core.c) and core_domain_ (lifecycle operations, lifecycle.c).
 * Everything here runs on the main loop; long operations complete through a callback. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/domain_def.h"
#include "conf/snapshot_def.h"
#include "core/events.h"
#include "core/job.h"
#include "core/state.h"
#include "util/cpuset.h"

struct qmp;
struct domain;
struct migration;
struct qjob;
struct nodedev_watch;
struct migrate_out;
struct migrate_in;
struct device_def;

struct core_paths {
    char *config_dir;         /* persistent domain XML */
    char *autostart_dir;      /* autostart markers */
    char *state_dir;          /* next-id, caches */
    char *status_dir;         /* status XML of running domains, monitor sockets */
    char *channel_dir;        /* guest channel sockets */
    char *log_dir;            /* per-domain QEMU logs */
    char *image_dir;          /* disk images (the default pool) */
    char *pool_config_dir;    /* persistent pool XML, autostart markers */
    char *pool_state_dir;     /* active pool markers */
    char *network_config_dir; /* persistent network XML, autostart markers */
    char *network_state_dir;  /* live XML of active networks, dnsmasq files */
    char *cgroup_root;        /* the cgroup filesystems ("/sys/fs/cgroup") */
    char *cgroup_parent;      /* the group domains' groups go under ("domus") */
    char *sysfs_root;         /* where sysfs is ("/sys"): host PCI devices */
    char *secret_dir;         /* persistent secrets and their values (0700) */
};

typedef void (*core_done_fn)(GError *error, gpointer data);

struct domain {
    struct core *core;
    struct domain_def *def;     /* the running config while active, else the persistent one */
    struct domain_def *new_def; /* persistent config for the next start, while active */
    gboolean persistent;
    gboolean autostart;
    gboolean managed_save;    /* a managed save image waits in core_managed_save_path */
    GHashTable *snapshots;    /* name -> struct snapshot_def * (snapshot.c) */
    char *current_snapshot;   /* its name, or NULL */
    GHashTable *checkpoints;  /* name -> struct checkpoint_def * (checkpoint.c) */
    char *current_checkpoint; /* its name, or NULL */
    struct backup_op *backup; /* the backup job under way (checkpoint.c); NULL: none */
    gboolean updated; /* the live definition changed since the start (live device updates) */
    enum dom_state state;
    int reason;
    int id; /* -1 when inactive */
    gboolean autodestroy;
    gpointer autodestroy_owner;

    /* running QEMU */
    pid_t pid;
    int pidfd;
    int stat_fd;     /* /proc/PID/stat, opened on first use (CPU time) */
    gboolean exited; /* the process is gone (and reaped if it was our child) */
    guint pid_watch;
    struct qmp *mon;
    struct agent *agent; /* guest agent client, created on first use */
    int agent_timeout;   /* guest-agent-timeout: enum agent_timeout or seconds (status) */
    char *monitor_path;
    char *emulator;
    long log_offset;     /* where this run's QEMU output starts in its log */
    GPtrArray *messages; /* taint and other messages (char *) */

    /* what the next QEMU exit means */
    enum dom_input stop_input; /* IN_STOPPED_* expected; IN_STOPPED_FAILED: unexpected */
    gboolean fake_reboot;      /* ACPI reboot in progress: reset on guest power-off */
    gboolean resetting;        /* reset and cont after a fake reboot are on their way */
    gboolean reset_reported;   /* its reboot event went out */
    gboolean announced;        /* STARTED went out for this run: a STOPPED may follow */

    struct job_owner jobs;           /* the modifying job that holds the domain, and who waits */
    struct migration *migration;     /* QEMU's migration stream a job follows (migration.c) */
    struct qjob *qjob;               /* QEMU's snapshot job a step follows (snapshot.c) */
    struct migrate_out *migrate_out; /* this domain leaving for another host (migrate_out.c) */
    struct migrate_in *migrate_in;   /* ... arriving from another host (migrate_in.c) */
    guint64 migrate_downtime_ms;     /* migrate-setmaxdowntime; 0: QEMU's default (300 ms) */
    gboolean migrate_interrupted;    /* the daemon died while this domain was leaving */
    gboolean postcopy_in;            /* it runs here while post-copy brings its memory */
    GPtrArray *block_jobs;           /* block copies under way (blockjob.c); NULL: none yet */
    GHashTable *thresholds;          /* storage node -> the image as the user named it, for
                                      * BLOCK_THRESHOLD (blockjob.c); NULL: none set */
    guint64 migrate_speed_mib;       /* migrate-setspeed, MiB/s; 0: unlimited */
    char *save_file;                 /* the temporary file a save in progress writes (status) */
    gboolean save_interrupted;       /* the daemon died during a save: undone once adopted */
    gboolean snapshot_interrupted;   /* ... during a snapshot: finished or undone once adopted */
    guint save_resume_timer;         /* meanwhile, a late STOP of that save is undone too */
    /* destroy: not a job (it cuts through one); callers wait for QEMU's exit */
    gboolean destroying;
    guint destroy_timer;
    unsigned destroy_flags;
    GPtrArray *exit_waiters; /* struct core_waiter *: callers answered once QEMU exited */
    gboolean removed;        /* no longer in the registry; freed when unreferenced */
    gboolean reverting;      /* a revert stops QEMU to start another: a transient domain stays */
    GPtrArray *device_waits; /* who waits for a DEVICE_DELETED (resources.c); NULL: nobody */
    /* the vCPUs this QEMU made, at boot and plugged (0: its boot count): under TCG it cannot
     * make more than its maximum, even after some were unplugged (status) */
    unsigned vcpus_created;
    /* what statistics keep between calls (stats.c): the vCPU threads (NULL: to ask QEMU), the
     * balloon's size in KiB (0: to ask) as BALLOON_CHANGE says, the guest-stats period */
    GArray *vcpu_tids;
    gboolean cgroup;            /* its control group exists (qos.c) */
    int perf_fds[PERF_EVENT_N]; /* the perf counters of QEMU's process, by event; -1: off */
    guint64 balloon_kib;
    int balloon_period;
    /* query-dirty-rate's last answer (stats.c): it changes only through a calculation, so it
     * is asked again only while one runs; NULL: to ask */
    struct _JsonNode *dirtyrate;
    int refs;
};

struct core {
    struct core_paths paths;
    GHashTable *by_name;          /* name -> struct domain * (owns) */
    GHashTable *by_uuid;          /* uuid string -> struct domain * */
    GHashTable *by_id;            /* GINT_TO_POINTER(id) -> struct domain * */
    GHashTable *pools_by_name;    /* name -> struct pool * (owns); see storage.h */
    GHashTable *pools_by_uuid;    /* uuid string -> struct pool * */
    GHashTable *networks_by_name; /* name -> struct network * (owns); see network.h */
    GHashTable *networks_by_uuid; /* uuid string -> struct network * */
    GHashTable *secrets;          /* uuid string -> struct secret * (owns); see secret.h */
    char *dnsmasq_binary;         /* for networks with DHCP or DNS */
    GHashTable *vol_jobs;         /* volume path -> its job owner, while held (volume_jobs.c) */
    int next_id;
    struct events *events;
    char *qemu_binary; /* default emulator */
    /* its capabilities (daemon.c's cache; NULL: definitions are not checked against them) */
    struct qemu_caps_cache *caps_cache;
    unsigned monitor_timeout_ms; /* how long QEMU may take to answer; 0: the default (30 s) */
    unsigned job_wait_ms;        /* how long a call waits for a domain's job */
    struct cgroup_host *cgroups; /* what the host's cgroup filesystems offer (qos.c) */
    struct nodedev_watch *nodedev_watch; /* uevents to node device events; NULL: none */
    guint nodedev_listeners;             /* clients' node device event registrations */
    guint qemu_monitor_listeners;        /* clients' QEMU monitor event registrations: QMP events
                                          * are published only while there are some */
    char *host_uuid;                     /* this host's (core_set_host_uuid) */
    /* incoming migrations: QEMU's ports, and the address handed out (NULL: the one the client
     * reached the daemon at) */
    unsigned migration_port_min, migration_port_max;
    char *migration_address;
    char *migrate_tls_dir;       /* --tls: QEMU's x509 credentials (migrate_tls_x509_cert_dir) */
    gboolean migrate_tls_verify; /* an incoming one checks the source's certificate */
    char *backup_tls_dir;        /* pull backups over TLS: the same (backup_tls_x509_cert_dir) */
    gboolean backup_tls_verify;  /* their NBD server checks the client's certificate */
    /* save and managedsave write QEMU's stream through this program (a
     * qemu_saveimage_compression; save_image_format) */
    guint32 save_compression;
    /* ... and external snapshots their memory images (snapshot_image_format) */
    guint32 snapshot_compression;
    /* disks without <driver io> use QEMU's own engine (threads), not io_uring where the host
     * has it (default_disk_io) */
    gboolean disk_io_threads;
};

struct core *core_new(const struct core_paths *paths, GError **error);
void core_free(struct core *core);
/* This host's UUID: CONFIGURED (domusd.conf's host_uuid; may be NULL), else the one kept in the
 * state directory, made on first use. ERR_CONFIG_UNSUPPORTED for one that is not a UUID. */
gboolean core_set_host_uuid(struct core *core, const char *configured, GError **error);
void core_paths_clear(struct core_paths *paths);

/* The I/O engine of the disks whose <driver io> names none in a domain run by EMULATOR:
 * "io_uring" where that QEMU opened an image with it when probed (its capabilities are in
 * memory) and the kernel still allows it, unless default_disk_io is threads; else NULL
 * (QEMU's own, threads). */
const char *core_disk_aio(struct core *core, const char *emulator);

/* Lookups: NULL with ERR_NO_DOMAIN when absent. */
struct domain *core_lookup_name(struct core *core, const char *name, GError **error);
struct domain *core_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error);
struct domain *core_lookup_id(struct core *core, int id, GError **error);
/* Finds the domain a wire handle names (by uuid, as libvirt does). */
struct domain *core_lookup_handle(struct core *core, const char *name, const uint8_t *uuid,
                                  GError **error);

/* All domains matching libvirt's virConnectListAllDomainsFlags, sorted by name.
 * Returns a new array of borrowed pointers. */
GPtrArray *core_list(struct core *core, unsigned flags);
gboolean core_list_flags_valid(unsigned flags, GError **error);

/* Adds a new domain for DEF (consumed) to the registry. */
struct domain *core_register(struct core *core, struct domain_def *def, gboolean persistent);
/* Refuses a name or uuid held by another domain (ERR_OPERATION_FAILED); *RET_DOM is the domain
 * with the same name and uuid, or NULL. */
gboolean core_check_unique(struct core *core, const struct domain_def *def, struct domain **ret_dom,
                           GError **error);

/* At start: a TCG guest (virttype qemu) whose <cpu> requires a feature TCG cannot give is
 * refused (ERR_CPU_INCOMPATIBLE, as libvirt's check of the guest CPU) rather than started
 * without it, as QEMU would; <cpu check='none'> skips the check. */
gboolean core_check_guest_cpu(struct core *core, const struct domain_def *def, const char *emulator,
                              GError **error);
/* What libvirt checks of a definition against the host at define, start and an incoming
 * migration: its emulator exists and runs (ERR_SYSTEM_ERROR naming it and this host's), type
 * 'kvm' only with a usable /dev/kvm, and, for the host's default emulator, a machine type and
 * CPU model that QEMU has (ERR_CONFIG_UNSUPPORTED, naming them). Names the machine type in
 * full ("pc" becomes "pc-i440fx-7.2", none the default), as libvirt keeps it, so a guest
 * restored or migrated elsewhere gets the same machine. */
gboolean core_validate_for_host(struct core *core, struct domain_def *def, GError **error);
/* Defines (or redefines) a persistent domain. Returns the domain (borrowed). */
struct domain *core_define(struct core *core, const char *xml, unsigned flags, GError **error);
/* Undefine: removes the persistent config; a running domain becomes transient. */
gboolean core_undefine(struct core *core, struct domain *dom, unsigned flags, GError **error);
/* Gives each generated MAC of DEF that another domain's NIC has a new one (given MACs stay). */
void core_unique_macs(struct core *core, struct domain_def *def);
/* Writes DEF as the persistent config of its domain (atomically, durably). */
gboolean core_config_save(struct core *core, const struct domain_def *def, GError **error);
/* Saves COPY (consumed), a changed copy of DOM's persistent definition, and keeps it as that
 * (the next start's while DOM runs). On failure nothing changes. */
gboolean core_domain_keep_config(struct domain *dom, struct domain_def *copy, GError **error);
/* virDomainUpdateDeviceFlags of an <interface> (device_update.c): its link state, in the live
 * definition (QMP set_link, as a job) and/or the persistent one (FLAGS: virDomainModification
 * Impact). Any other change of the device is ERR_OPERATION_UNSUPPORTED naming it. */
void core_domain_update_net(struct domain *dom, struct net_def *net, unsigned flags,
                            core_done_fn done, gpointer data);
/* ... of a <memory model='virtio-mem'> (DEV taken, a memory device): its requested size,
 * live (QEMU's
 * requested-size; the guest plugs or unplugs blocks towards it) and/or in the persistent
 * definition. The device is found by its alias or address (or is the only virtio-mem one);
 * any other change is ERR_CONFIG_UNSUPPORTED naming it, as libvirt's. */
void core_domain_update_memory(struct domain *dom, struct device_def *dev, unsigned flags,
                               core_done_fn done, gpointer data);
gboolean core_set_autostart(struct core *core, struct domain *dom, gboolean on, GError **error);
/* virDomainRename of an inactive persistent domain without snapshots or a managed save image:
 * its config and autostart marker move to NAME, and UNDEFINED/DEFINED (renamed) events go
 * out. ERR_OPERATION_INVALID for what stands in the way, naming it. */
gboolean core_rename(struct core *core, struct domain *dom, const char *name, GError **error);
/* libvirt's isUpdated: a running domain whose live definition changed since it started. */
gboolean core_domain_is_updated(struct domain *dom);
/* The domain XML (live unless INACTIVE asked; secure only when asked). */
char *core_domain_xml(struct domain *dom, unsigned flags);

/* Applies INPUT through the transition table (state.c), writes the status file and sends the
 * row's events. An input the table has no row for is a bug: logged as "BUG: illegal
 * transition", nothing changes, ERR_INTERNAL_ERROR. When the status file cannot be written,
 * with ERROR the change is undone and ERROR set (the caller undoes QEMU's side); without
 * (a fact that happened: QEMU exited) the change stands and the failure is logged. */
gboolean core_domain_transition(struct domain *dom, enum dom_input input, GError **error);
void core_domain_emit(struct domain *dom, int event, int detail);
/* The guest reset (libvirt's reboot event). */
void core_domain_emit_reboot(struct domain *dom);

/* A device came or went (EVENT_ID_DEVICE_ADDED, EVENT_ID_DEVICE_REMOVED): its alias. */
void core_domain_emit_device(struct domain *dom, int kind, const char *alias);
/* EV (its kind and payload) as DOM's: its name, id and uuid filled in, then emitted. */
void core_domain_emit_event(struct domain *dom, struct event *ev);
/* virDomainControlInfo: a running domain's monitor is ok, in a job (for STATE_TIME_MS), or
 * lost (error, monitor); ERR_OPERATION_INVALID when not running. */
enum { CONTROL_OK, CONTROL_JOB, CONTROL_OCCUPIED, CONTROL_ERROR };
enum { CONTROL_ERROR_NONE, CONTROL_ERROR_UNKNOWN, CONTROL_ERROR_MONITOR };
struct core_control_info {
    unsigned state;
    unsigned details;
    guint64 state_time_ms;
};
gboolean core_domain_control_info(struct domain *dom, struct core_control_info *ret,
                                  GError **error);
/* DOM runs with a monitor; else ERR_OPERATION_INVALID "domain '…' is not running". */
gboolean core_domain_require_running(struct domain *dom, GError **error);
/* QEMU began pass ITERATION over the memory of an outgoing migration
 * (EVENT_ID_MIGRATION_ITERATION; virsh --postcopy-after-precopy waits for it). */
void core_domain_emit_migration_iteration(struct domain *dom, int iteration);
/* A live tunable changed (EVENT_ID_TUNABLE): PARAMS, struct typed_param * (core/guest.h),
 * named as libvirt names them ("cputune.vcpupin0", "blkdeviotune.disk"). */
void core_domain_emit_tunable(struct domain *dom, const GPtrArray *params);
/* QEMU's x509 credentials in DIR (libvirt's names: ca-cert.pem, server-cert.pem and
 * server-key.pem for a SERVER, client-cert.pem and client-key.pem for a client) are there, else
 * ERR_OPERATION_INVALID naming the first one missing, what needs it (USE: "a TLS migration")
 * and the domusd.conf key that names DIR (SETTING). */
gboolean core_tls_check(const char *dir, gboolean server, const char *use, const char *setting,
                        GError **error);
/* virDomainGetJobStats' typed parameters (struct typed_param *, core/guest.h) for INFO, under
 * libvirt's names: operation, time_elapsed, the data, disk or scratch figures, a migration's
 * memory figures. New array. */
GPtrArray *core_job_params(const struct job_info *info);
/* VIR_DOMAIN_EVENT_ID_JOB_COMPLETED for DOM's job as it ends (from its finish hook), with
 * core_job_params' figures; OUTCOME adds success and, with ERROR, errmsg (libvirt's backups;
 * its other jobs raise it on success only, without them). */
void core_domain_emit_job_completed(struct domain *dom, gboolean outcome, const GError *error);
/* METADATA_CHANGE: TYPE (CORE_METADATA_*), the namespace URI of an element */
void core_domain_emit_metadata(struct domain *dom, int type, const char *uri);

/* The path of DOM's status file (<status>/<name>.xml): there while DOM runs, or ran when a
 * daemon stopped. New string. */
char *core_status_path(struct domain *dom);
/* Status file of a running domain (atomically written). */
gboolean core_status_write(struct domain *dom, GError **error);
/* DOM's persistent definition: the next start's while it runs, else its only one. Borrowed. */
struct domain_def *core_persistent_def(struct domain *dom);

struct domain *core_domain_ref(struct domain *dom);
void core_domain_unref(struct domain *dom);

/* lifecycle.c: each completes through DONE (called exactly once, maybe before returning). */
/* virDomainCreateFlags: BYPASS_CACHE and FORCE_BOOT concern a managed save image */
enum {
    CORE_START_PAUSED = 1,
    CORE_START_AUTODESTROY = 2,
    CORE_START_BYPASS_CACHE = 4,
    CORE_START_FORCE_BOOT = 8
};
void core_domain_start(struct domain *dom, unsigned flags, core_done_fn done, gpointer data);
/* create-xml in two steps, so the caller can reference the domain before the start can
 * complete: prepare parses and registers a transient domain (or finds the inactive persistent
 * one of the same name and uuid, then *RET_LIVE is the config to run once); start runs it. */
/* Save and restore (save.c). FLAGS: virDomainSaveRestoreFlags. */
enum { CORE_SAVE_BYPASS_CACHE = 1, CORE_SAVE_RUNNING = 2, CORE_SAVE_PAUSED = 4 };
enum { CORE_SAVE_IMAGE_XML_SECURE = 1 };
/* Saves a running DOM's state to PATH (absolute) in libvirt's save image format and stops it
 * (shut off, saved); XML (may be NULL) replaces the definition kept in the image. A job
 * (JOB_SAVE) with progress that domjobabort cancels: the guest then runs on and nothing is
 * left at PATH. */
void core_domain_save(struct domain *dom, const char *path, const char *xml, unsigned flags,
                      core_done_fn done, gpointer data);
/* Starts the domain saved in PATH (defined or not: a new one is transient), from its saved
 * state; XML may replace its definition (what the guest sees must stay the same). */
void core_restore(struct core *core, const char *path, const char *xml, unsigned flags,
                  core_done_fn done, gpointer data);
/* Snapshots (snapshot.c). FLAGS: libvirt's virDomainSnapshotCreateFlags, ListFlags,
 * RevertFlags, DeleteFlags. */
enum {
    CORE_SNAPSHOT_CREATE_REDEFINE = 1 << 0,
    CORE_SNAPSHOT_CREATE_CURRENT = 1 << 1,
    CORE_SNAPSHOT_CREATE_NO_METADATA = 1 << 2,
    CORE_SNAPSHOT_CREATE_HALT = 1 << 3,
    CORE_SNAPSHOT_CREATE_DISK_ONLY = 1 << 4,
    CORE_SNAPSHOT_CREATE_REUSE_EXTERNAL = 1 << 5,
    CORE_SNAPSHOT_CREATE_QUIESCE = 1 << 6,
    CORE_SNAPSHOT_CREATE_ATOMIC = 1 << 7, /* always so: one QMP transaction */
    CORE_SNAPSHOT_CREATE_LIVE = 1 << 8,
    CORE_SNAPSHOT_CREATE_VALIDATE = 1 << 9,
};
enum {
    CORE_SNAPSHOT_LIST_ROOTS = 1 << 0,
    CORE_SNAPSHOT_LIST_DESCENDANTS = 1 << 0, /* with a snapshot to start from */
    CORE_SNAPSHOT_LIST_METADATA = 1 << 1,
    CORE_SNAPSHOT_LIST_LEAVES = 1 << 2,
    CORE_SNAPSHOT_LIST_NO_LEAVES = 1 << 3,
    CORE_SNAPSHOT_LIST_NO_METADATA = 1 << 4,
    CORE_SNAPSHOT_LIST_INACTIVE = 1 << 5,
    CORE_SNAPSHOT_LIST_ACTIVE = 1 << 6,
    CORE_SNAPSHOT_LIST_DISK_ONLY = 1 << 7,
    CORE_SNAPSHOT_LIST_INTERNAL = 1 << 8,
    CORE_SNAPSHOT_LIST_EXTERNAL = 1 << 9,
    CORE_SNAPSHOT_LIST_TOPOLOGICAL = 1 << 10,
};
enum { CORE_SNAPSHOT_REVERT_RUNNING = 1, CORE_SNAPSHOT_REVERT_PAUSED = 2 };
enum {
    CORE_SNAPSHOT_DELETE_CHILDREN = 1,
    CORE_SNAPSHOT_DELETE_METADATA_ONLY = 2,
    CORE_SNAPSHOT_DELETE_CHILDREN_ONLY = 4,
};
typedef void (*core_snapshot_done_fn)(GError *error, const char *name, gpointer data);
/* One disk of a revert in the seed's form: its overlay (RUNFILE) on an image (BACKFILE); either
 * may be NULL (a fresh name beside the image; the image the snapshot kept). */
struct core_revert_disk {
    char *target;
    char *backfile;
    char *runfile;
};
void core_revert_disk_free(struct core_revert_disk *disk);
/* Reverts DOM onto fresh overlays (snapshot_external.c): on the images of external snapshot
 * NAME (NULL: the seed's form, DISKS name the images), from MEMORY_FILE (a save image; NULL:
 * the snapshot's) when there is one. A running DOM is stopped first; it runs again from the
 * memory, or boots when FLAGS ask for it. DISKS: struct core_revert_disk *, may be NULL. */
void core_snapshot_revert_external(struct domain *dom, const char *name, const char *memory_file,
                                   GPtrArray *disks, unsigned flags, core_done_fn done,
                                   gpointer data);
/* A daemon that died during a snapshot of DOM (adopted running): the snapshot is kept when
 * QEMU's images have it (its metadata written, the definitions following), else what it made
 * is removed. A shut off domain's is settled at registration (core_snapshot_load). */
void core_snapshot_recover(struct domain *dom);
/* vCPUs and memory (resources.c). FLAGS: virDomainModificationImpact with virDomainVcpuFlags
 * (MAXIMUM 4: the configured maximum; GUEST 8: online in the guest, through its agent) or
 * virDomainMemoryModFlags (MAXIMUM 4). Live vCPU changes are a job: plugged into QEMU's
 * hot-pluggable slots, unplugged once the guest released them. Live memory: the balloon. */
void core_domain_set_vcpus(struct domain *dom, unsigned n, unsigned flags, core_done_fn done,
                           gpointer data);
/* FALSE (ERR_OPERATION_UNSUPPORTED naming WHAT, "save", "migrate" …) when DOM's QEMU cannot
 * write the guest's state: under TCG, QEMU 7.2 corrupts its heap and exits when it does so
 * after a vCPU was unplugged, and the guest would be lost. */
gboolean core_domain_state_writable(struct domain *dom, const char *what, GError **error);
/* virDomainSetVcpu: the vCPUs of MAP (libvirt's list syntax) ONLINE or not; live one at a
 * time (a job, as above), in the configuration any but vCPU 0, with libvirt's checks. */
void core_domain_set_vcpu(struct domain *dom, const char *map, gboolean online, unsigned flags,
                          core_done_fn done, gpointer data);
void core_domain_set_memory(struct domain *dom, guint64 kib, unsigned flags, core_done_fn done,
                            gpointer data);
/* What the guest has online (its agent's guest-get-vcpus); DONE gets the count. */
void core_domain_guest_vcpus(struct domain *dom,
                             void (*done)(GError *error, int online, gpointer data), gpointer data);
/* The balloon's guest statistics every PERIOD seconds (0: none), live only. */
void core_domain_set_memory_stats_period(struct domain *dom, int period, unsigned flags,
                                         core_done_fn done, gpointer data);
/* Waits for QEMU's DEVICE_DELETED of ALIAS: FN runs once it arrives. Returns a handle for
 * core_device_wait_cancel. */
gpointer core_device_wait(struct domain *dom, const char *alias,
                          void (*fn)(struct domain *dom, gpointer data), gpointer data);
void core_device_wait_cancel(struct domain *dom, gpointer handle);
/* display.c. virDomainInjectNMI. */
void core_domain_inject_nmi(struct domain *dom, core_done_fn done, gpointer data);
/* virDomainSendKey: CODES (N of them, at most 16) of keycode set SET (virKeycodeSet: linux,
 * xt, atset1 and qnum are translated; the others are ERR_ARGUMENT_UNSUPPORTED), pressed
 * together and held HOLDTIME ms (0: QEMU's default). */
void core_domain_send_key(struct domain *dom, unsigned set, unsigned holdtime,
                          const unsigned *codes, guint n, core_done_fn done, gpointer data);
/* virDomainScreenshot: FD (the caller's to close) holds the image of screen SCREEN (heads of
 * the video devices counted in order), MIME says which format; on error FD is -1. */
typedef void (*core_screenshot_fn)(GError *error, int fd, const char *mime, gpointer data);
void core_domain_screenshot(struct domain *dom, unsigned screen, core_screenshot_fn done,
                            gpointer data);
/* virDomainOpenGraphicsFD: FD (the caller's) is connected to the VNC server of graphics
 * device IDX, as a new client of it (SKIPAUTH: without its password); -1 on error. */
typedef void (*core_fd_fn)(GError *error, int fd, gpointer data);
/* virDomainUpdateDeviceFlags of a <graphics> (display.c), as libvirt's: only its password may
 * change (QMP set_password live; the persistent definition with AFFECT_CONFIG); a different
 * port, listen address or keymap is ERR_INVALID_ARG. Takes G. */
void core_domain_update_graphics(struct domain *dom, struct graphics_def *g, unsigned flags,
                                 core_done_fn done, gpointer data);
/* virDomainOpenGraphics: the client's own socket FD (taken) becomes a client of display
 * IDX; DONE's descriptor is -1. */
void core_domain_open_graphics(struct domain *dom, unsigned idx, int fd, gboolean skipauth,
                               core_fd_fn done, gpointer data);
void core_domain_open_graphics_fd(struct domain *dom, unsigned idx, gboolean skipauth,
                                  core_fd_fn done, gpointer data);
/* virDomainMetadataType */
enum { CORE_METADATA_DESCRIPTION, CORE_METADATA_TITLE, CORE_METADATA_ELEMENT };
/* virDomainGetMetadata (metadata.c): the description, the title or the element in namespace
 * URI of the definition FLAGS names (live or config, not both); ERR_NO_DOMAIN_METADATA when
 * there is none. Returns a new string. */
char *core_domain_get_metadata(struct domain *dom, int type, const char *uri, unsigned flags,
                               GError **error);
/* virDomainSetMetadata: VALUE (NULL or "" removes a title or description; NULL removes the
 * element of namespace URI, else VALUE is one element stored in URI under prefix KEY) in the
 * definitions FLAGS names, by libvirt's rules; METADATA_CHANGE follows. */
gboolean core_domain_set_metadata(struct domain *dom, int type, const char *value, const char *key,
                                  const char *uri, unsigned flags, GError **error);
/* virDomainCoreDumpWithFormat (dump.c): DOM's memory (CORE_DUMP_MEMORY_ONLY, in FORMAT:
 * virDomainCoreDumpFormat) or its QEMU's whole state written to PATH; the guest paused
 * meanwhile unless CORE_DUMP_LIVE, then stopped as crashed (CORE_DUMP_CRASH), reset
 * (CORE_DUMP_RESET) or running again. A job (domjobinfo shows it, domjobabort stops it while
 * QEMU can stop). */
enum {
    CORE_DUMP_CRASH = 1,
    CORE_DUMP_LIVE = 2,
    CORE_DUMP_BYPASS_CACHE = 4,
    CORE_DUMP_RESET = 8,
    CORE_DUMP_MEMORY_ONLY = 16,
};
void core_domain_dump(struct domain *dom, const char *path, unsigned format, unsigned flags,
                      core_done_fn done, gpointer data);
/* virDomainSetLifecycleAction (lifecycle.c): TYPE (CORE_LIFECYCLE_*) leads to ACTION
 * (virDomainLifecycleAction) in the definitions FLAGS name; a running guest's reboot action
 * changes in QEMU too (set-action). The coredump actions are for crashes only; rename-restart
 * is refused. */
enum { CORE_LIFECYCLE_POWEROFF, CORE_LIFECYCLE_REBOOT, CORE_LIFECYCLE_CRASH };
void core_domain_set_lifecycle_action(struct domain *dom, int type, int action, unsigned flags,
                                      core_done_fn done, gpointer data);
/* Which definitions FLAGS (virDomainModificationImpact) touch, by libvirt's rules: neither
 * live nor config means the current state's; live needs a running domain, config a
 * persistent one (ERR_OPERATION_INVALID). */
gboolean core_domain_impact(struct domain *dom, unsigned flags, gboolean *ret_live,
                            gboolean *ret_config, GError **error);
/* Pinning (pin.c). The host CPUs a vCPU's thread may use by DEF (its <vcpupin>, else <vcpu
 * cpuset>, else the host's online CPUs), the same for QEMU's other threads (<emulatorpin>),
 * and the host's online CPUs. */
void core_pin_vcpu_set(const struct domain_def *def, unsigned vcpu, struct cpuset *ret);
void core_pin_emulator_set(const struct domain_def *def, struct cpuset *ret);
void core_pin_host_cpus(struct cpuset *ret);
/* virDomainPinVcpuFlags (VCPU >= 0) and virDomainPinEmulator (VCPU -1): SET (at least one
 * CPU) on the thread(s) and in the live definition, and/or in the persistent one (FLAGS:
 * virDomainModificationImpact). An offline vCPU's pin waits for its plug. */
void core_domain_pin(struct domain *dom, int vcpu, const struct cpuset *set, unsigned flags,
                     core_done_fn done, gpointer data);
/* Scheduler and memory tunables of a domain (qos.c), as virDomain{Get,Set}Scheduler
 * ParametersFlags and virDomain{Get,Set}MemoryParameters see them: live from its cgroup (the
 * vCPUs' bandwidth read from vcpu0), config from the definition. FLAGS:
 * virDomainModificationImpact; GIVEN: which fields of WANT to set. Out-of-range values are
 * ERR_INVALID_ARG with libvirt's messages; a host or domain without the controller
 * ERR_OPERATION_INVALID naming it. */
enum { CORE_QOS_LIVE = 1, CORE_QOS_CONFIG = 2 };
enum {
    CORE_SCHED_SHARES = 1 << 0,
    CORE_SCHED_VCPU_PERIOD = 1 << 1,
    CORE_SCHED_VCPU_QUOTA = 1 << 2,
    CORE_SCHED_EMULATOR_PERIOD = 1 << 3,
    CORE_SCHED_EMULATOR_QUOTA = 1 << 4,
    CORE_SCHED_GLOBAL_PERIOD = 1 << 5,
    CORE_SCHED_GLOBAL_QUOTA = 1 << 6,
};
struct core_sched {
    guint64 shares, vcpu_period, emulator_period, global_period;
    gint64 vcpu_quota, emulator_quota, global_quota;
};
enum { CORE_MEMTUNE_HARD = 1, CORE_MEMTUNE_SOFT = 2, CORE_MEMTUNE_SWAP = 4 };
struct core_memtune {
    guint64 hard, soft, swap; /* KiB; DOMAIN_DEF_MEMORY_UNLIMITED: none */
};
gboolean core_qos_has_cpu(struct core *core);
gboolean core_domain_get_sched(struct domain *dom, unsigned flags, struct core_sched *ret,
                               GError **error);
gboolean core_domain_set_sched(struct domain *dom, unsigned flags, const struct core_sched *want,
                               unsigned given, GError **error);
gboolean core_domain_get_memtune(struct domain *dom, unsigned flags, struct core_memtune *ret,
                                 GError **error);
gboolean core_domain_set_memtune(struct domain *dom, unsigned flags,
                                 const struct core_memtune *want, unsigned given, GError **error);
/* virsh numatune: libvirt's mode (enum numatune_mode; strict for a domain without one) and the
 * nodes ("" for none) of the definition FLAGS name (CORE_QOS_LIVE, CORE_QOS_CONFIG); a change
 * of MODE (NUMATUNE_NONE: kept) and NODESET (NULL: kept) with libvirt's rules for a running
 * domain (the mode and a strict binding stay; a restrictive one's nodes move). */
gboolean core_domain_get_numatune(struct domain *dom, unsigned flags, int *ret_mode,
                                  char **ret_nodeset, GError **error);
gboolean core_domain_set_numatune(struct domain *dom, unsigned flags, int mode, const char *nodeset,
                                  GError **error);
/* virDomainGetBlkioParameters: the weight and each configured device's weight and throttles
 * (live: read from the cgroup). A new array of struct blkio_device_def *. Set: the weight
 * (HAS_WEIGHT, 100-1000) and CHANGES (struct core_blkio_change *): a host block device's
 * weight (knob -1; 0 removes it) or throttle (knob 0-3: read iops, write iops, read bytes,
 * write bytes per second; 0 removes it). */
struct core_blkio_change {
    char *path;
    int knob;
    guint64 value;
};
gboolean core_domain_get_blkio(struct domain *dom, unsigned flags, unsigned *ret_weight,
                               GPtrArray **ret_devices, GError **error);
gboolean core_domain_set_blkio(struct domain *dom, unsigned flags, gboolean has_weight,
                               unsigned weight, const GPtrArray *changes, GError **error);
/* virDomainGetCPUStats by host CPU: the domain's usage (ns) and its vCPUs' (cgroup v1
 * cpuacct.usage_percpu of the group and of its vcpuN children); new arrays of guint64.
 * ERR_OPERATION_UNSUPPORTED without a v1 cpuacct group (v2 keeps no per-CPU usage). */
gboolean core_qos_has_percpu(const struct domain *dom);
gboolean core_domain_percpu_usage(struct domain *dom, GArray **ret_total, GArray **ret_vcpus,
                                  GError **error);
/* virDomain{Get,Set}InterfaceParameters: the bandwidth of the interface DEVICE names (its tap
 * or MAC). GIVEN: bits 0-2 inbound average, peak, burst, 3-5 the same outbound, 6 (IFTUNE_FLOOR)
 * the inbound floor (type network only); an average of 0 lifts that direction's limit. Live:
 * the floor's class on the network's bridge, then tc on the tap. */
#define IFTUNE_FLOOR (1u << 6)
gboolean core_domain_get_iftune(struct domain *dom, const char *device, unsigned flags,
                                struct bandwidth_rate *ret_in, struct bandwidth_rate *ret_out,
                                GError **error);
gboolean core_domain_set_iftune(struct domain *dom, const char *device, unsigned flags,
                                const struct bandwidth_rate *in, const struct bandwidth_rate *out,
                                unsigned given, GError **error);
/* virDomain{Get,Set}PerfEvents (perf.c): whether each event's counter runs (live) or is
 * enabled (config), by event; WANT: -1 unchanged, 0 off, 1 on. Live: the counters of QEMU's
 * process are opened or closed (an event the host cannot count fails, and nothing changes);
 * config: <perf>. */
gboolean core_domain_get_perf(struct domain *dom, unsigned flags, gboolean ret[PERF_EVENT_N],
                              GError **error);
gboolean core_domain_set_perf(struct domain *dom, unsigned flags, const int want[PERF_EVENT_N],
                              GError **error);
/* At start (QEMU spawned, not yet running): the counters <perf> enables; after a daemon
 * restart: the same, opened again (counting from then on); at the end: closed. */
gboolean core_perf_start(struct domain *dom, GError **error);
void core_perf_adopt(struct domain *dom);
void core_perf_stop(struct domain *dom);
/* The running counters' values, by event; FALSE in HAVE for the others. */
void core_perf_read(struct domain *dom, guint64 ret[PERF_EVENT_N], gboolean have[PERF_EVENT_N]);

/* IOThreads (iothread.c). Info: each IOThread's id and CPUs (live: its thread's affinity;
 * config: its pin, else <vcpu cpuset>, else the host's CPUs); new arrays of unsigned and
 * struct cpuset. Pin: live (sched_setaffinity of its thread) and config (<iothreadpin>). Add
 * and delete (object-add / object-del, <iothreadids>; a disk's IOThread stays) and the
 * polling parameters (qom-set, live only, as libvirt 9.0) run as a job; DONE borrows its
 * error. libvirt's messages throughout. */
enum {
    CORE_IOTHREAD_POLL_MAX_NS = 1 << 0,
    CORE_IOTHREAD_POLL_GROW = 1 << 1,
    CORE_IOTHREAD_POLL_SHRINK = 1 << 2,
};
struct core_iothread_poll {
    unsigned given; /* CORE_IOTHREAD_POLL_* */
    guint64 max_ns;
    unsigned grow, shrink;
};
gboolean core_domain_iothread_info(struct domain *dom, unsigned flags, GArray **ret_ids,
                                   GArray **ret_cpus, GError **error);
gboolean core_domain_pin_iothread(struct domain *dom, unsigned id, const struct cpuset *set,
                                  unsigned flags, GError **error);
void core_domain_add_iothread(struct domain *dom, unsigned id, unsigned flags, core_done_fn done,
                              gpointer data);
void core_domain_del_iothread(struct domain *dom, unsigned id, unsigned flags, core_done_fn done,
                              gpointer data);
void core_domain_set_iothread_params(struct domain *dom, unsigned id,
                                     const struct core_iothread_poll *poll, unsigned flags,
                                     core_done_fn done, gpointer data);

/* virDomainGetDiskErrors (stats.c): the disks whose I/O QEMU reports failed (query-block's
 * io-status), as libvirt's codes (1 unspecified, 2 no space). DONE gets a GPtrArray of
 * struct core_disk_error * (owned) or ERROR (borrowed). */
struct core_disk_error {
    char target[32];
    int code;
};
typedef void (*core_disk_errors_fn)(GError *error, GPtrArray *errors, gpointer data);
void core_domain_disk_errors(struct domain *dom, core_disk_errors_fn done, gpointer data);
/* virDomain{Get,Set}BlockIoTune (iotune.c): the <iotune> of the disk DISK names (target or
 * path). Set: the fields whose bit is in GIVEN (bit i: disk_iotune_names[i]) and, with GROUP,
 * the group name replace the disk's; live through QMP block_set_io_throttle first. Get: RET's
 * group_name is a new string. */
gboolean core_domain_get_iotune(struct domain *dom, const char *disk, unsigned flags,
                                struct disk_iotune *ret, GError **error);
void core_domain_set_iotune(struct domain *dom, const char *disk, unsigned flags,
                            const struct disk_iotune *want, guint64 given, gboolean group,
                            core_done_fn done, gpointer data);
/* Devices (hotplug.c). FLAGS: virDomainModificationImpact. XML is one <disk>, <interface>,
 * <input> or <controller>. Attach plugs it into QEMU (a job; undone in full when a step
 * fails) and/or adds it to the persistent definition. Detach asks the guest to let it go and
 * waits a few seconds for it: the call then succeeds either way, and the device leaves the
 * live definition (DEVICE_REMOVED) once QEMU deleted it. */
void core_domain_attach_device(struct domain *dom, const char *xml, unsigned flags,
                               core_done_fn done, gpointer data);
void core_domain_detach_device(struct domain *dom, const char *xml, unsigned flags,
                               core_done_fn done, gpointer data);
void core_domain_detach_alias(struct domain *dom, const char *alias, unsigned flags,
                              core_done_fn done, gpointer data);
/* virDomainUpdateDeviceFlags: a cdrom's media (inserted, changed, ejected) or an interface's
 * link state; any other change is ERR_OPERATION_UNSUPPORTED naming it. */
void core_domain_update_device(struct domain *dom, const char *xml, unsigned flags,
                               core_done_fn done, gpointer data);
/* Grows disk TARGET (or the disk whose source is TARGET) to SIZE (bytes with FLAGS & 1, else
 * KiB), live. Shrinking is refused. */
void core_domain_block_resize(struct domain *dom, const char *target, guint64 size, unsigned flags,
                              core_done_fn done, gpointer data);
/* A DEVICE_DELETED nobody waited for: the removal of a device the guest let go late (or
 * ejected itself) completes. */
void core_hotplug_deleted(struct domain *dom, const char *alias);
/* QEMU's DEVICE_DELETED (lifecycle.c routes it here). */
void core_device_deleted(struct domain *dom, const char *alias);

/* Reads DOM's snapshot metadata (at registration). */
void core_snapshot_load(struct domain *dom);
struct snapshot_def *core_snapshot_lookup(struct domain *dom, const char *name, GError **error);
/* DOM's snapshots (children of FROM when given) filtered by FLAGS, oldest first; borrowed. */
GPtrArray *core_snapshot_list(struct domain *dom, const char *from, unsigned flags);
char *core_snapshot_xml(struct domain *dom, const char *name, unsigned flags, GError **error);
/* Drops every snapshot's metadata of DOM (undefine --snapshots-metadata); the images keep
 * theirs. */
gboolean core_snapshot_forget_all(struct domain *dom, GError **error);
/* An internal snapshot (with memory when DOM runs; of its disks when shut off): a job. DONE
 * hears its name. */
void core_snapshot_create(struct domain *dom, const char *xml, unsigned flags,
                          core_snapshot_done_fn done, gpointer data);
void core_snapshot_revert(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                          gpointer data);
void core_snapshot_delete(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                          gpointer data);

/* Checkpoints (checkpoint.c): a persistent dirty bitmap in each qcow2 disk, named after the
 * checkpoint, which records what the guest wrote since; FLAGS are libvirt's
 * virDomainCheckpointCreateFlags, ListFlags, XMLFlags and DeleteFlags. */
void core_checkpoint_load(struct domain *dom);
struct checkpoint_def *core_checkpoint_lookup(struct domain *dom, const char *name, GError **error);
/* DOM's checkpoints (children of FROM when given; all its descendants with DESCENDANTS),
 * oldest first; borrowed. */
GPtrArray *core_checkpoint_list(struct domain *dom, const char *from, unsigned flags);
typedef void (*core_xml_done_fn)(GError *error, const char *xml, gpointer data);
/* The checkpoint's XML; with SIZE (a running domain) each disk's bytes changed since, which
 * QEMU counts: then DONE hears it later. */
void core_checkpoint_xml(struct domain *dom, const char *name, unsigned flags,
                         core_xml_done_fn done, gpointer data);
/* Drops every checkpoint's metadata of DOM (undefine --checkpoints-metadata); the images keep
 * their bitmaps. */
gboolean core_checkpoint_forget_all(struct domain *dom, GError **error);
/* A new checkpoint (a job): the bitmaps are added in one QMP transaction while DOM runs, with
 * qemu-img while it is shut off; REDEFINE only keeps the metadata given. DONE hears its name. */
void core_checkpoint_create(struct domain *dom, const char *xml, unsigned flags,
                            core_snapshot_done_fn done, gpointer data);
void core_checkpoint_delete(struct domain *dom, const char *name, unsigned flags, core_done_fn done,
                            gpointer data);
/* A backup of running DOM (virDomainBackupBegin; FLAGS: REUSE_EXTERNAL): a job that copies
 * each disk (all of it, or what changed since a checkpoint) into its target while the guest
 * runs (push), or serves it as it was over NBD (pull), and may make a checkpoint at the same
 * instant (CHECKPOINT_XML, may be NULL). STARTED hears when the copy or the export began (or
 * why it could not); the job goes on until every disk is copied (push) or the client ends it
 * with domjobabort (pull), reporting progress (domjobinfo). */
void core_backup_begin(struct domain *dom, const char *backup_xml, const char *checkpoint_xml,
                       unsigned flags, core_done_fn started, gpointer data);
/* The number after the highest block node number the running backup of DOM took for its
 * targets (0: none). */
unsigned core_backup_next_image(struct domain *dom);
/* The number of a new image's block nodes in DOM's QEMU: past the definition's images and the
 * targets of a backup under way. */
unsigned core_domain_next_image(struct domain *dom);
/* Whether the running backup of DOM takes in disk TARGET, and QEMU's progress of its job
 * (CUR, END may be NULL). */
gboolean core_backup_disk_progress(struct domain *dom, const char *target, guint64 *cur,
                                   guint64 *end);
/* The running backup's XML (every disk, targets filled in): ERR_NO_DOMAIN_BACKUP when none. */
char *core_backup_xml(struct domain *dom, GError **error);
/* A daemon died during a backup of adopted DOM: QEMU lets go of what its record names (copies
 * still under way are cancelled, unfinished targets the daemon made removed). */
void core_backup_recover(struct domain *dom);
/* ... of domain NAME, whose QEMU is gone too: the record goes. */
void core_backup_forget(struct core *core, const char *name);
/* A daemon died while it added a checkpoint's bitmaps (its record is there): kept when DOM's
 * disks have all of them (the transaction or every qemu-img ran), else the ones there are
 * removed. DOM adopted running (QMP) or shut off (qemu-img, at once). */
void core_checkpoint_recover(struct domain *dom);

/* virConnectDomainXMLToNative: the QEMU command line a start of XML would run, as one line of
 * shell words (FORMAT must be "qemu-argv", else ERR_INVALID_ARG); nothing is made on the host.
 * New string. */
char *core_xml_to_native(struct core *core, const char *format, const char *xml, GError **error);

/* Managed save: the image lives with the daemon's state and the next start resumes from it
 * (FORCE_BOOT discards it); a persistent domain only. */
void core_domain_managed_save(struct domain *dom, const char *xml, unsigned flags,
                              core_done_fn done, gpointer data);
gboolean core_domain_managed_save_remove(struct domain *dom, GError **error);
/* Where DOM's managed save image is kept. New string. */
char *core_managed_save_path(struct domain *dom);
/* The definition kept in a save image (FLAGS: CORE_SAVE_IMAGE_XML_SECURE). New string. */
char *core_save_image_xml(const char *path, unsigned flags, GError **error);
/* Replaces the definition kept in a save image, in place (FLAGS: CORE_SAVE_RUNNING or
 * CORE_SAVE_PAUSED change how it restores). */
gboolean core_save_image_define(const char *path, const char *xml, unsigned flags, GError **error);
struct domain *core_create_xml_prepare(struct core *core, const char *xml, gboolean validate,
                                       struct domain_def **ret_live, GError **error);
void core_create_xml_start(struct domain *dom, struct domain_def *live, unsigned flags,
                           core_done_fn done, gpointer data);
/* Drops DOM from the registry (freed when unreferenced). */
void core_forget(struct core *core, struct domain *dom);
enum { CORE_DESTROY_GRACEFUL = 1 };
void core_domain_destroy(struct domain *dom, unsigned flags, core_done_fn done, gpointer data);
void core_domain_shutdown(struct domain *dom, unsigned flags, core_done_fn done, gpointer data);
void core_domain_reboot(struct domain *dom, unsigned flags, core_done_fn done, gpointer data);
void core_domain_reset(struct domain *dom, core_done_fn done, gpointer data);
void core_domain_suspend(struct domain *dom, core_done_fn done, gpointer data);
void core_domain_resume(struct domain *dom, core_done_fn done, gpointer data);
/* domjobabort: the domain's job stops, if it can (ERR_OPERATION_INVALID when there is none or
 * it cannot be aborted). */
gboolean core_domain_abort_job(struct domain *dom, GError **error);
/* Reads guest CPU time (ns) from /proc for the running QEMU; 0 when inactive. */
guint64 core_domain_cpu_time(struct domain *dom);
/* Reattaches to running QEMUs from status files (daemon start). */
void core_reconnect_all(struct core *core);
/* Kills autodestroy domains owned by OWNER (a closing connection). */
void core_autodestroy_owner(struct core *core, gpointer owner);
/* Starts autostart domains. */
void core_autostart_all(struct core *core);
