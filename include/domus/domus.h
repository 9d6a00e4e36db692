/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdomus: the client library of Domus. It speaks libvirt's remote protocol to domusd over
 * its unix socket. Every call that can fail takes a GError ** last; errors are in the
 * DOMUS_ERROR domain (domus_error_quark()) with libvirt's virErrorNumber as code. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct domus_conn domus_conn;
typedef struct domus_domain domus_domain;

GQuark domus_error_quark(void);

/* URIs: "domus:///system" (the default socket /run/domus/domus-sock),
 * "domus:///system?socket=PATH", and the libvirt forms "qemu:///system" and
 * "qemu+unix:///system?socket=PATH". NULL: $DOMUS_DEFAULT_URI, else domus:///system.
 * READONLY opens a read-only connection (the read-only socket when no socket is given). */
domus_conn *domus_open(const char *uri, gboolean readonly, GError **error);
void domus_close(domus_conn *conn);
/* virConnectSetKeepAlive: while a call waits, the daemon is pinged after INTERVAL_S seconds
 * of silence, and after COUNT unanswered pings (or a socket that takes nothing for as long)
 * the connection is lost: that call and every later one fail with ERR_RPC. The daemon pings
 * back and closes a connection that does not answer, so one kept idle must be watched
 * (domus_event_next). INTERVAL_S <= 0 turns it off. 0: on; 1: the daemon does not support it;
 * -1: ERROR. */
int domus_conn_set_keepalive(domus_conn *conn, int interval_s, unsigned count, GError **error);
/* The URI this connection was opened with (normalized). */
const char *domus_get_uri(domus_conn *conn);

gboolean domus_get_version(domus_conn *conn, guint64 *ret_hv_version, GError **error);
gboolean domus_get_lib_version(domus_conn *conn, guint64 *ret_version, GError **error);
char *domus_get_hostname(domus_conn *conn, GError **error);
char *domus_get_capabilities(domus_conn *conn, GError **error);
/* Secrets (virSecret*): a handle, its UUID string, usage type (virSecretUsageType) and usage
 * id (the volume path, ceph/tls/vtpm name or iSCSI target; "" for none). */
typedef struct domus_secret domus_secret;
void domus_secret_free(domus_secret *s);
/* Registers for secret events (EVENT_ID 0 lifecycle, 1 value changed) of SECRET (NULL: every
 * secret). Returns the callback id, -1 with ERROR. */
int domus_secret_event_register(domus_conn *conn, domus_secret *secret, int event_id,
                                GError **error);
const char *domus_secret_get_uuid(const domus_secret *s);
int domus_secret_get_usage(const domus_secret *s);
const char *domus_secret_get_usage_id(const domus_secret *s);
domus_secret *domus_secret_lookup(domus_conn *conn, const char *uuid, GError **error);
domus_secret *domus_secret_define(domus_conn *conn, const char *xml, GError **error);
char *domus_secret_get_xml(domus_secret *s, GError **error);
gboolean domus_secret_set_value(domus_secret *s, const guint8 *value, gsize len, GError **error);
/* The value (*RET_LEN bytes; the caller wipes and frees it) */
guint8 *domus_secret_get_value(domus_secret *s, gsize *ret_len, GError **error);
gboolean domus_secret_undefine(domus_secret *s, GError **error);
/* virConnectListAllSecrets (FLAGS: virConnectListAllSecretsFlags), by UUID: NULL-terminated */
domus_secret **domus_list_secrets(domus_conn *conn, unsigned flags, GError **error);
/* Host interfaces (read-only): name and MAC address */
struct domus_iface {
    char *name, *mac;
};
void domus_iface_free(struct domus_iface *f);
/* virConnectListAllInterfaces (FLAGS: 1 inactive, 2 active): a GPtrArray of struct
 * domus_iface (free function set) */
GPtrArray *domus_list_interfaces(domus_conn *conn, unsigned flags, GError **error);
/* virInterfaceLookupByName (NAME) or ByMACString (MAC) */
struct domus_iface *domus_iface_lookup(domus_conn *conn, const char *name, const char *mac,
                                       GError **error);
char *domus_iface_get_xml(domus_conn *conn, const struct domus_iface *f, GError **error);
int domus_iface_is_active(domus_conn *conn, const struct domus_iface *f, GError **error);
/* virConnectListAllNodeDevices (FLAGS: virConnectListAllNodeDeviceFlags): the names, a new
 * NULL-terminated vector. */
char **domus_list_node_devices(domus_conn *conn, unsigned flags, GError **error);
/* virNodeDeviceGetXMLDesc and virNodeDeviceGetParent (NULL without error: the computer). */
char *domus_node_device_get_xml(domus_conn *conn, const char *name, GError **error);
char *domus_node_device_get_parent(domus_conn *conn, const char *name, GError **error);
/* virNodeDeviceIsActive, virNodeDeviceIsPersistent, virNodeDeviceGetAutostart: 1 or 0, -1 with
 * ERROR. */
int domus_node_device_is_active(domus_conn *conn, const char *name, GError **error);
int domus_node_device_is_persistent(domus_conn *conn, const char *name, GError **error);
int domus_node_device_get_autostart(domus_conn *conn, const char *name, GError **error);
gboolean domus_node_device_set_autostart(domus_conn *conn, const char *name, gboolean autostart,
                                         GError **error);
/* virDomainRename of an inactive domain; DOM's name follows. */
gboolean domus_domain_rename(domus_domain *dom, const char *name, GError **error);
/* virConnectCompareCPU and virConnectCompareHypervisorCPU (EMULATOR, ARCH, MACHINE, VIRTTYPE
 * may be NULL): 0 incompatible, 1 identical, 2 superset, -1 with ERROR. FLAGS:
 * virConnectCompareCPUFlags. */
int domus_compare_cpu(domus_conn *conn, const char *xml, unsigned flags, GError **error);
int domus_compare_hypervisor_cpu(domus_conn *conn, const char *emulator, const char *arch,
                                 const char *machine, const char *virttype, const char *xml,
                                 unsigned flags, GError **error);
/* virConnectBaselineCPU and virConnectBaselineHypervisorCPU of the NULL-terminated XMLS.
 * FLAGS: virConnectBaselineCPUFlags. New string. */
char *domus_baseline_cpu(domus_conn *conn, const char *const *xmls, unsigned flags, GError **error);
char *domus_baseline_hypervisor_cpu(domus_conn *conn, const char *emulator, const char *arch,
                                    const char *machine, const char *virttype,
                                    const char *const *xmls, unsigned flags, GError **error);
/* virConnectGetCPUModelNames: the CPU models of ARCH a <cpu mode='custom'> may name. */
char **domus_connect_get_cpu_model_names(domus_conn *conn, const char *arch, GError **error);
/* virNodeDeviceDettach (DRIVER NULL) / DetachFlags, ReAttach, Reset of a host PCI device. */
gboolean domus_node_device_detach(domus_conn *conn, const char *name, const char *driver,
                                  GError **error);
gboolean domus_node_device_reattach(domus_conn *conn, const char *name, GError **error);
gboolean domus_node_device_reset(domus_conn *conn, const char *name, GError **error);
/* virConnectGetDomainCapabilities: each of EMULATOR, ARCH, MACHINE, VIRTTYPE may be NULL (the
 * daemon's default). Returns a new string. */
char *domus_get_domain_capabilities(domus_conn *conn, const char *emulator, const char *arch,
                                    const char *machine, const char *virttype, GError **error);
char *domus_get_type(domus_conn *conn, GError **error);

/* Lists domains (libvirt's virConnectListAllDomainsFlags); returns a NULL-terminated array
 * of new handles. */
domus_domain **domus_list_domains(domus_conn *conn, unsigned flags, GError **error);
void domus_domain_list_free(domus_domain **list);

domus_domain *domus_domain_lookup_by_name(domus_conn *conn, const char *name, GError **error);
domus_domain *domus_domain_lookup_by_uuid(domus_conn *conn, const char *uuid, GError **error);
domus_domain *domus_domain_lookup_by_id(domus_conn *conn, int id, GError **error);
/* Finds a domain by name, then id, then uuid, as virsh does. */
domus_domain *domus_domain_lookup(domus_conn *conn, const char *ident, GError **error);
void domus_domain_free(domus_domain *dom);

/* The connection a handle belongs to (borrowed). */
domus_conn *domus_domain_get_connect(domus_domain *dom);
const char *domus_domain_get_name(domus_domain *dom);
const char *domus_domain_get_uuid(domus_domain *dom); /* dashed form */
int domus_domain_get_id(domus_domain *dom);           /* -1 when inactive */

domus_domain *domus_domain_define(domus_conn *conn, const char *xml, unsigned flags,
                                  GError **error);
gboolean domus_domain_undefine(domus_domain *dom, unsigned flags, GError **error);
domus_domain *domus_domain_create_xml(domus_conn *conn, const char *xml, unsigned flags,
                                      GError **error);
/* Start; refreshes the handle's id. */
gboolean domus_domain_start(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_destroy(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_shutdown(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_reboot(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_reset(domus_domain *dom, GError **error);
gboolean domus_domain_suspend(domus_domain *dom, GError **error);
gboolean domus_domain_resume(domus_domain *dom, GError **error);

struct domus_domain_info {
    int state;
    guint64 max_mem_kib;
    guint64 memory_kib;
    unsigned vcpus;
    guint64 cpu_time_ns;
};
gboolean domus_domain_get_info(domus_domain *dom, struct domus_domain_info *ret, GError **error);
gboolean domus_domain_get_state(domus_domain *dom, int *ret_state, int *ret_reason, GError **error);
char *domus_domain_get_xml(domus_domain *dom, unsigned flags, GError **error);
char *domus_domain_get_os_type(domus_domain *dom, GError **error);
/* 0/1, or -1 with ERROR */
int domus_domain_is_active(domus_domain *dom, GError **error);
int domus_domain_is_persistent(domus_domain *dom, GError **error);
int domus_domain_get_autostart(domus_domain *dom, GError **error);
gboolean domus_domain_set_autostart(domus_domain *dom, gboolean on, GError **error);
/* virDomainMetadataType */
enum { DOMUS_METADATA_DESCRIPTION, DOMUS_METADATA_TITLE, DOMUS_METADATA_ELEMENT };
/* virDomainGetMetadata: the description, the title, or the element of namespace URI (no
 * prefix) of the live or the persistent definition (FLAGS: virDomainModificationImpact).
 * Returns a new string; NULL with code VIR_ERR_NO_DOMAIN_METADATA (80) when there is none. */
char *domus_domain_get_metadata(domus_domain *dom, int type, const char *uri, unsigned flags,
                                GError **error);
/* virDomainSetMetadata: VALUE NULL (or "" for a title or description) removes; an element is
 * stored in namespace URI under prefix KEY. */
gboolean domus_domain_set_metadata(domus_domain *dom, int type, const char *value, const char *key,
                                   const char *uri, unsigned flags, GError **error);
/* Taint and other messages; a new NULL-terminated array. */
char **domus_domain_get_messages(domus_domain *dom, GError **error);

/* The guest agent and the monitor (libvirt's virDomainGetTime, virDomainSetTime,
 * virDomainGetGuestInfo, virDomainGetHostname, virDomainQemuAgentCommand,
 * virDomainQemuMonitorCommand). */
gboolean domus_domain_get_time(domus_domain *dom, gint64 *ret_seconds, guint *ret_nseconds,
                               GError **error);
/* DOMUS_TIME_SYNC sets the guest clock from its RTC (SECONDS and NSECONDS unused). */
enum { DOMUS_TIME_SYNC = 1 };
gboolean domus_domain_set_time(domus_domain *dom, gint64 seconds, guint nseconds, unsigned flags,
                               GError **error);
/* TYPES: libvirt's virDomainGuestInfoTypes, 0 for all. Returns a NULL-terminated array of
 * field, value, field, value … strings (values formatted as text). */
char **domus_domain_get_guest_info(domus_domain *dom, unsigned types, GError **error);
/* virDomainGetGuestVcpus: FIELD, VALUE, … NULL ("vcpus", "online", "offlinable" CPU lists).
 * virDomainSetGuestVcpus: the vCPUs of MAP online or offline. Both need the guest agent. */
char **domus_domain_get_guest_vcpus(domus_domain *dom, GError **error);
gboolean domus_domain_set_guest_vcpus(domus_domain *dom, const char *map, gboolean online,
                                      GError **error);

/* virDomainJobType */
enum {
    DOMUS_JOB_NONE,
    DOMUS_JOB_BOUNDED,
    DOMUS_JOB_UNBOUNDED,
    DOMUS_JOB_COMPLETED,
    DOMUS_JOB_FAILED,
    DOMUS_JOB_CANCELLED
};
/* virDomainGetJobStatsFlags */
enum { DOMUS_JOB_STATS_COMPLETED = 1, DOMUS_JOB_STATS_KEEP_COMPLETED = 2 };
/* The job running on DOM (virDomainGetJobStats): its type and its statistics as FIELD, VALUE,
 * …, NULL ("operation", "time_elapsed" in ms, "data_total", "data_processed",
 * "data_remaining" in bytes for a job with progress). Free *RET_PARAMS with g_strfreev. */
gboolean domus_domain_get_job_stats(domus_domain *dom, unsigned flags, int *ret_type,
                                    char ***ret_params, GError **error);
/* Migration to DCONN's host, driven from here as virDomainMigrate3 drives it (libvirt's v3
 * protocol with parameters). PARAMS: FIELD, VALUE, … NULL under libvirt's names
 * ("migrate_uri", "destination_name", "destination_xml", "persistent_xml", "listen_address",
 * "bandwidth" in MiB/s, "compression" (repeatable), "compression.mt.level", …,
 * "parallel.connections", "auto_converge.initial", "auto_converge.increment"); FLAGS:
 * virDomainMigrateFlags. Returns the domain on the destination. */
domus_domain *domus_domain_migrate(domus_domain *dom, domus_conn *dconn, const char *const *params,
                                   unsigned flags, GError **error);
/* Peer-to-peer migration (virDomainMigrateToURI3 with VIR_MIGRATE_PEER2PEER): DOM's daemon
 * drives the migration to the daemon at DCONNURI (a URI as that daemon reaches it) itself.
 * PARAMS and FLAGS as above. */
gboolean domus_domain_migrate_to_uri(domus_domain *dom, const char *dconnuri,
                                     const char *const *params, unsigned flags, GError **error);
/* Block copy (virDomainBlockCopy) of disk PATH into the disk DESTXML describes (<disk
 * type='file'><source file='…'/><driver type='qcow2'/></disk>); BANDWIDTH bytes/s (0: no
 * limit); FLAGS: virDomainBlockCopyFlags (1 shallow, 2 reuse external). The block job calls:
 * info (1 with a job, 0 without, -1 with ERROR; FLAGS 1: bandwidth in bytes/s, else MiB/s),
 * abort (FLAGS: 1 async, 2 pivot), set speed (FLAGS 1: BANDWIDTH in bytes/s, else MiB/s). */
struct domus_block_job_info {
    int type; /* virDomainBlockJobType: 1 pull, 2 copy, 3 commit, 4 active commit */
    guint64 bandwidth;
    guint64 cur, end;
};
gboolean domus_domain_block_copy(domus_domain *dom, const char *path, const char *destxml,
                                 guint64 bandwidth, unsigned flags, GError **error);
/* virDomainBlockRebase without COPY (BASE NULL: virDomainBlockPull): the images above BASE
 * are pulled into the top one; BANDWIDTH MiB/s, or bytes/s with flag 64. */
gboolean domus_domain_block_pull(domus_domain *dom, const char *path, const char *base,
                                 guint64 bandwidth, unsigned flags, GError **error);
/* virDomainBlockCommit: FLAGS virDomainBlockCommitFlags (1 shallow, 2 delete, 4 active, 16
 * bandwidth in bytes/s). */
gboolean domus_domain_block_commit(domus_domain *dom, const char *path, const char *base,
                                   const char *top, guint64 bandwidth, unsigned flags,
                                   GError **error);
/* virDomainSetBlockThreshold: DEV "vda" or "vda[N]"; THRESHOLD bytes (0: none). */
gboolean domus_domain_set_block_threshold(domus_domain *dom, const char *dev, guint64 threshold,
                                          GError **error);
int domus_domain_block_job_info(domus_domain *dom, const char *path, unsigned flags,
                                struct domus_block_job_info *ret, GError **error);
gboolean domus_domain_block_job_abort(domus_domain *dom, const char *path, unsigned flags,
                                      GError **error);
gboolean domus_domain_block_job_set_speed(domus_domain *dom, const char *path, guint64 bandwidth,
                                          unsigned flags, GError **error);
/* virDomainMigrateStartPostCopy: the migration of DOM (started with VIR_MIGRATE_POSTCOPY)
 * switches to post-copy. */
gboolean domus_domain_migrate_start_postcopy(domus_domain *dom, GError **error);
/* virDomainMigrate{Set,Get}MaxDowntime (ms) and {Set,Get}MaxSpeed (MiB/s). */
gboolean domus_domain_migrate_set_max_downtime(domus_domain *dom, guint64 ms, GError **error);
gboolean domus_domain_migrate_get_max_downtime(domus_domain *dom, guint64 *ret_ms, GError **error);
gboolean domus_domain_migrate_set_max_speed(domus_domain *dom, guint64 mib_per_s, GError **error);
gboolean domus_domain_migrate_get_max_speed(domus_domain *dom, guint64 *ret_mib_per_s,
                                            GError **error);
/* virDomainMigrate{Set,Get}CompressionCache: the XBZRLE cache of running DOM, bytes. */
gboolean domus_domain_migrate_set_compression_cache(domus_domain *dom, guint64 bytes,
                                                    GError **error);
gboolean domus_domain_migrate_get_compression_cache(domus_domain *dom, guint64 *ret_bytes,
                                                    GError **error);
/* Aborts the job running on DOM; VIR_ERR_OPERATION_INVALID when there is none or it cannot
 * be aborted (the message names it). */
gboolean domus_domain_abort_job(domus_domain *dom, GError **error);

/* Save and restore (virDomainSaveFlags, virDomainRestoreFlags, virDomainSaveImage*,
 * virDomainManagedSave*). PATH may be relative: it is made absolute here. FLAGS: */
enum { DOMUS_SAVE_BYPASS_CACHE = 1, DOMUS_SAVE_RUNNING = 2, DOMUS_SAVE_PAUSED = 4 };
enum { DOMUS_SAVE_IMAGE_XML_SECURE = 1 };
gboolean domus_domain_save(domus_domain *dom, const char *path, const char *xml, unsigned flags,
                           GError **error);
gboolean domus_restore(domus_conn *conn, const char *path, const char *xml, unsigned flags,
                       GError **error);
char *domus_save_image_get_xml(domus_conn *conn, const char *path, unsigned flags, GError **error);
gboolean domus_save_image_define(domus_conn *conn, const char *path, const char *xml,
                                 unsigned flags, GError **error);
gboolean domus_domain_managed_save(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_managed_save_remove(domus_domain *dom, GError **error);
/* 0/1, or -1 with ERROR */
int domus_domain_has_managed_save(domus_domain *dom, GError **error);
char *domus_domain_managed_save_get_xml(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_managed_save_define(domus_domain *dom, const char *xml, unsigned flags,
                                          GError **error);

/* Statistics, vCPUs and memory (virDomainBlockStatsFlags, InterfaceStats, MemoryStats,
 * GetBlockInfo, GetVcpusFlags, SetVcpusFlags, SetMemoryFlags, SetMemoryStatsPeriod,
 * virDomainListGetStats). Typed parameters come as FIELD, VALUE, … NULL (new vector). */
char **domus_domain_block_stats(domus_domain *dom, const char *device, GError **error);
/* rx bytes, packets, errs, drop; tx bytes, packets, errs, drop */
gboolean domus_domain_interface_stats(domus_domain *dom, const char *device, gint64 ret[8],
                                      GError **error);
typedef struct {
    int tag; /* virDomainMemoryStatTags */
    guint64 val;
} domus_memory_stat;
GArray *domus_domain_memory_stats(domus_domain *dom, GError **error);
gboolean domus_domain_set_memory_stats_period(domus_domain *dom, int period, unsigned flags,
                                              GError **error);
/* allocation, capacity, physical */
gboolean domus_domain_block_info(domus_domain *dom, const char *device, guint64 ret[3],
                                 GError **error);
int domus_domain_get_vcpus_flags(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_set_vcpus_flags(domus_domain *dom, unsigned n, unsigned flags,
                                      GError **error);
/* virDomainSetVcpu: the vCPUs of MAP ("1-2,^3") enabled or disabled; FLAGS AFFECT_* */
gboolean domus_domain_set_vcpu(domus_domain *dom, const char *map, gboolean enable, unsigned flags,
                               GError **error);
gboolean domus_domain_set_memory_flags(domus_domain *dom, guint64 kib, unsigned flags,
                                       GError **error);
char **domus_domain_get_stats(domus_domain *dom, unsigned groups, GError **error);
/* The host's CPUs (virNodeGetCPUMap's count); -1 on error. */
int domus_node_cpu_count(domus_conn *conn, GError **error);
typedef struct {
    unsigned number;
    int state; /* virVcpuState */
    guint64 cpu_time;
    int cpu;
    guint8 *affinity; /* a bit per host CPU (MAXCPUS of domus_domain_get_vcpus) */
} domus_vcpu_info;
void domus_vcpu_info_clear(domus_vcpu_info *info);
/* virDomainGetVcpus of a running domain: a GArray of domus_vcpu_info (cleared with it). */
GArray *domus_domain_get_vcpus(domus_domain *dom, int maxcpus, GError **error);
/* virDomainPinVcpuFlags (VCPU >= 0) and virDomainPinEmulator (VCPU -1): MAP holds a bit per
 * host CPU, MAPLEN bytes; FLAGS: virDomainModificationImpact. */
gboolean domus_domain_pin(domus_domain *dom, int vcpu, const guint8 *map, gsize maplen,
                          unsigned flags, GError **error);
/* virDomainGetVcpuPinInfo (EMULATOR FALSE: NMAPS maps for vCPUs 0…) and
 * virDomainGetEmulatorPinInfo (TRUE: one map): NMAPS * MAPLEN bytes (new; caller frees),
 * *RET_COUNT the maps filled. */
guint8 *domus_domain_pin_info(domus_domain *dom, gboolean emulator, int nmaps, int maplen,
                              unsigned flags, int *ret_count, GError **error);
/* virDomainGetSchedulerType: the scheduler's name (new string) and how many parameters it
 * has. The scheduler's and the memory tunables (virDomainGetSchedulerParametersFlags,
 * virDomainGetMemoryParameters): FIELD, VALUE, … NULL. Setting them takes the same form;
 * each value is sent with the type the daemon reports for its field. FLAGS:
 * virDomainModificationImpact. */
char *domus_domain_scheduler_type(domus_domain *dom, int *ret_nparams, GError **error);
char **domus_domain_get_tunables(domus_domain *dom, gboolean memory, unsigned flags,
                                 GError **error);
gboolean domus_domain_set_tunables(domus_domain *dom, gboolean memory, const char *const *params,
                                   unsigned flags, GError **error);
/* virDomain{Get,Set}InterfaceParameters of the interface DEVICE (its target or MAC):
 * "inbound.average", VALUE, … NULL (KiB/s, KiB), as unsigned ints. FLAGS:
 * virDomainModificationImpact. */
char **domus_domain_get_interface_parameters(domus_domain *dom, const char *device, unsigned flags,
                                             GError **error);
gboolean domus_domain_set_interface_parameters(domus_domain *dom, const char *device,
                                               const char *const *params, unsigned flags,
                                               GError **error);
/* virDomain{Get,Set}PerfEvents: event name, "1" (enabled) or "0", … NULL. FLAGS:
 * virDomainModificationImpact. */
char **domus_domain_get_perf_events(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_set_perf_events(domus_domain *dom, const char *const *params, unsigned flags,
                                      GError **error);
/* IOThreads. Info: the count, or -1; *RET_IDS (new array), *RET_MAPS (new array of new
 * cpumaps of *RET_MAPLEN bytes each). Add or delete (ADD false) one; pin one to MAP; set its
 * polling ("poll_max_ns", "poll_grow", "poll_shrink", VALUE, … NULL). FLAGS:
 * virDomainModificationImpact. */
int domus_domain_iothread_info(domus_domain *dom, unsigned flags, unsigned **ret_ids,
                               guint8 ***ret_maps, gsize *ret_maplen, GError **error);
gboolean domus_domain_pin_iothread(domus_domain *dom, unsigned id, const guint8 *map, gsize maplen,
                                   unsigned flags, GError **error);
gboolean domus_domain_change_iothread(domus_domain *dom, gboolean add, unsigned id, unsigned flags,
                                      GError **error);
gboolean domus_domain_set_iothread_params(domus_domain *dom, unsigned id, const char *const *params,
                                          unsigned flags, GError **error);
/* virDomainStartDirtyRateCalc: FLAGS 1 dirty bitmap, 2 dirty ring (else page sampling). */
gboolean domus_domain_start_dirty_rate_calc(domus_domain *dom, int seconds, unsigned flags,
                                            GError **error);
/* virDomain{Get,Set}BlockIoTune of DISK (NULL to get: the first) and
 * virDomain{Get,Set}BlkioParameters: FIELD, VALUE, … NULL as libvirt names them. FLAGS:
 * virDomainModificationImpact. */
char **domus_domain_get_block_iotune(domus_domain *dom, const char *disk, unsigned flags,
                                     GError **error);
gboolean domus_domain_set_block_iotune(domus_domain *dom, const char *disk,
                                       const char *const *params, unsigned flags, GError **error);
/* virDomainGetNumaParameters / virDomainSetNumaParameters: numa_mode (an int, libvirt's
 * virDomainNumatuneMemMode) and numa_nodeset, as FIELD, VALUE, … NULL. */
char **domus_domain_get_numatune(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_set_numatune(domus_domain *dom, const char *const *params, unsigned flags,
                                   GError **error);
char **domus_domain_get_blkio(domus_domain *dom, unsigned flags, GError **error);
gboolean domus_domain_set_blkio(domus_domain *dom, const char *const *params, unsigned flags,
                                GError **error);
/* The host: virNodeGetInfo; virNodeGetCPUMap (the count, -1 on error; *RET_MAP new);
 * virNodeGetCPUStats (INDEX: a CPU, -1 all) or, MEMORY, virNodeGetMemoryStats (INDEX: a
 * cell, -1 all): FIELD, VALUE, … NULL; virNodeGetCellsFreeMemory (the count; *RET new, KiB…
 * in bytes); virNodeGetFreeMemory (bytes); virConnectGetSysinfo (a new string). */
struct domus_node_info {
    char model[32];
    guint64 memory_kib;
    int cpus, mhz, nodes, sockets, cores, threads;
};
gboolean domus_node_info(domus_conn *conn, struct domus_node_info *ret, GError **error);
int domus_node_cpu_map(domus_conn *conn, guint8 **ret_map, unsigned *ret_online, GError **error);
char **domus_node_stats(domus_conn *conn, gboolean memory, int index, GError **error);
int domus_node_cells_free(domus_conn *conn, int start, int max, guint64 **ret, GError **error);
gboolean domus_node_free_memory(domus_conn *conn, guint64 *ret_bytes, GError **error);
char *domus_get_sysinfo(domus_conn *conn, GError **error);
/* virNodeGetFreePages: free pages of each of the NSIZES sizes (KiB) in the cells from START
 * (-1: the whole host), at most COUNT of them; *RET a new array (cell by cell, the sizes in
 * order); how many counts, -1 on error. */
/* virNodeAllocPages of one size: the pool of SIZE_KIB pages in the cells from START (-1: the
 * host's), at most NCELLS of them, set to COUNT (FLAGS 1, VIR_NODE_ALLOC_PAGES_SET) or grown
 * by it (0); how many pools, -1 on error. */
int domus_node_alloc_pages(domus_conn *conn, guint size_kib, guint64 count, int start, guint ncells,
                           unsigned flags, GError **error);
/* virNodeGetMemoryParameters: KSM's fields, FIELD, VALUE, … NULL; virNodeSetMemoryParameters
 * of the tunables among them (each value an unsigned number). */
char **domus_node_memory_params(domus_conn *conn, GError **error);
/* virNodeGetSEVInfo and virDomainGetLaunchSecurityInfo: FIELD, VALUE, … NULL (new vector);
 * virDomainSetLaunchSecurityState of PARAMS (sev-secret-header, sev-secret: strings;
 * sev-secret-set-address: a number). */
char **domus_node_sev_info(domus_conn *conn, GError **error);
char **domus_domain_launch_security_info(domus_domain *dom, GError **error);
gboolean domus_domain_set_launch_security_state(domus_domain *dom, const char *const *params,
                                                GError **error);
gboolean domus_node_set_memory_params(domus_conn *conn, const char *const *params, GError **error);
int domus_node_free_pages(domus_conn *conn, const guint *sizes_kib, guint nsizes, int start,
                          guint count, guint64 **ret, GError **error);
/* virConnectDomainXMLToNative: the command line (FORMAT "qemu-argv") a start of XML would run. */
char *domus_xml_to_native(domus_conn *conn, const char *format, const char *xml, GError **error);
/* virConnectDomainXMLFromNative and virDomainSendProcessSignal (PID non-zero): what the daemon
 * answers (libvirt's QEMU driver has neither; domusd refuses them alike). */
char *domus_xml_from_native(domus_conn *conn, const char *format, const char *config,
                            GError **error);
gboolean domus_domain_send_process_signal(domus_domain *dom, gint64 pid, unsigned signum,
                                          GError **error);
/* virConnectGetMaxVcpus of TYPE (NULL: the default); -1 on error. */
int domus_get_max_vcpus(domus_conn *conn, const char *type, GError **error);
/* virDomainGetDiskErrors: disk target, libvirt's error code ("1" unspecified, "2" no
 * space), … NULL. */
char **domus_domain_disk_errors(domus_domain *dom, GError **error);
/* virDomainGetCPUStats's total: FIELD, VALUE, … NULL. */
char **domus_domain_cpu_stats_total(domus_domain *dom, GError **error);
/* virDomainGetCPUStats as called: NPARAMS figures for each of NCPUS host CPUs from START
 * (FIELD, VALUE, … NULL, the CPUs' blocks one after the other); *RET_NPARAMS is the reply's
 * count (with NPARAMS 0: how many host CPUs, or how many figures per CPU). */
char **domus_domain_cpu_stats(domus_domain *dom, int start, unsigned ncpus, unsigned nparams,
                              int *ret_nparams, GError **error);

/* Snapshots (virDomainSnapshot*), named by their domain and name. FLAGS: libvirt's. */
enum {
    DOMUS_SNAPSHOT_CREATE_REDEFINE = 1,
    DOMUS_SNAPSHOT_CREATE_CURRENT = 2,
    DOMUS_SNAPSHOT_CREATE_NO_METADATA = 4,
    DOMUS_SNAPSHOT_CREATE_HALT = 8,
    DOMUS_SNAPSHOT_CREATE_DISK_ONLY = 16,
    DOMUS_SNAPSHOT_CREATE_REUSE_EXT = 32,
    DOMUS_SNAPSHOT_CREATE_QUIESCE = 64,
    DOMUS_SNAPSHOT_CREATE_ATOMIC = 128,
    DOMUS_SNAPSHOT_CREATE_LIVE = 256,
    DOMUS_SNAPSHOT_CREATE_VALIDATE = 512,
};
enum { DOMUS_SNAPSHOT_REVERT_RUNNING = 1, DOMUS_SNAPSHOT_REVERT_PAUSED = 2 };
enum {
    DOMUS_SNAPSHOT_DELETE_CHILDREN = 1,
    DOMUS_SNAPSHOT_DELETE_METADATA_ONLY = 2,
    DOMUS_SNAPSHOT_DELETE_CHILDREN_ONLY = 4,
};
/* Returns the new snapshot's name. */
char *domus_snapshot_create_xml(domus_domain *dom, const char *xml, unsigned flags, GError **error);
/* The names of DOM's snapshots (PARENT's children when given), oldest first; a new
 * NULL-terminated array. FLAGS: virDomainSnapshotListFlags. */
char **domus_snapshot_list(domus_domain *dom, const char *parent, unsigned flags, GError **error);
char *domus_snapshot_get_xml(domus_domain *dom, const char *name, unsigned flags, GError **error);
/* The current snapshot's name; VIR_ERR_NO_DOMAIN_SNAPSHOT when there is none. */
char *domus_snapshot_current(domus_domain *dom, GError **error);
char *domus_snapshot_parent(domus_domain *dom, const char *name, GError **error);
gboolean domus_snapshot_revert(domus_domain *dom, const char *name, unsigned flags, GError **error);
/* The seed's external revert (a Domus procedure; docs/snapshots.md): DOM runs on fresh
 * overlays RUNFILE on images BACKFILE, from MEMORY_FILE (a save image) when given; NAME (may be
 * NULL) is the snapshot whose metadata fills what is not given. */
typedef struct {
    const char *target;   /* "vda" */
    const char *backfile; /* NULL: the snapshot's image */
    const char *runfile;  /* NULL: a fresh name beside BACKFILE */
} domus_revert_disk;
gboolean domus_snapshot_revert_external(domus_domain *dom, const char *name,
                                        const char *memory_file, const domus_revert_disk *disks,
                                        guint n_disks, unsigned flags, GError **error);
gboolean domus_snapshot_delete(domus_domain *dom, const char *name, unsigned flags, GError **error);
/* Checkpoints (libvirt's virDomainCheckpoint*; FLAGS are libvirt's): the new one's name; the
 * names of DOM's (PARENT's children when given), oldest first; XML; the parent's name
 * (VIR_ERR_NO_DOMAIN_CHECKPOINT for a root). */
enum {
    DOMUS_CHECKPOINT_CREATE_REDEFINE = 1,
    DOMUS_CHECKPOINT_CREATE_QUIESCE = 2,
    DOMUS_CHECKPOINT_CREATE_REDEFINE_VALIDATE = 4,
};
enum {
    DOMUS_CHECKPOINT_XML_SECURE = 1,
    DOMUS_CHECKPOINT_XML_NO_DOMAIN = 2,
    DOMUS_CHECKPOINT_XML_SIZE = 4
};
enum {
    DOMUS_CHECKPOINT_LIST_ROOTS = 1,
    DOMUS_CHECKPOINT_LIST_DESCENDANTS = 1,
    DOMUS_CHECKPOINT_LIST_TOPOLOGICAL = 2,
    DOMUS_CHECKPOINT_LIST_LEAVES = 4,
    DOMUS_CHECKPOINT_LIST_NO_LEAVES = 8,
};
enum {
    DOMUS_CHECKPOINT_DELETE_CHILDREN = 1,
    DOMUS_CHECKPOINT_DELETE_METADATA_ONLY = 2,
    DOMUS_CHECKPOINT_DELETE_CHILDREN_ONLY = 4,
};
char *domus_checkpoint_create_xml(domus_domain *dom, const char *xml, unsigned flags,
                                  GError **error);
char **domus_checkpoint_list(domus_domain *dom, const char *parent, unsigned flags, GError **error);
char *domus_checkpoint_get_xml(domus_domain *dom, const char *name, unsigned flags, GError **error);
char *domus_checkpoint_parent(domus_domain *dom, const char *name, GError **error);
gboolean domus_checkpoint_delete(domus_domain *dom, const char *name, unsigned flags,
                                 GError **error);
/* A push backup (virDomainBackupBegin; DOMUS_BACKUP_REUSE_EXTERNAL), with a checkpoint made
 * at its start when CHECKPOINT_XML is given; and the running one's XML. */
enum { DOMUS_BACKUP_REUSE_EXTERNAL = 1 };
gboolean domus_backup_begin(domus_domain *dom, const char *backup_xml, const char *checkpoint_xml,
                            unsigned flags, GError **error);
char *domus_backup_get_xml(domus_domain *dom, unsigned flags, GError **error);
char *domus_domain_get_hostname(domus_domain *dom, GError **error);
/* TIMEOUT: seconds, or -2 block, -1 default, 0 no wait (libvirt's values). */
char *domus_domain_qemu_agent_command(domus_domain *dom, const char *cmd, int timeout,
                                      GError **error);
/* DOMUS_MONITOR_HMP: CMD is a human monitor command. */
enum { DOMUS_MONITOR_HMP = 1 };
char *domus_domain_qemu_monitor_command(domus_domain *dom, const char *cmd, unsigned flags,
                                        GError **error);

/* Events: register for libvirt's event ids (0 lifecycle, 1 reboot, …) on the connection, then
 * wait for them. DOM NULL: every domain. Returns the callback id, -1 with ERROR. */
int domus_event_register(domus_conn *conn, int event_id, domus_domain *dom, GError **error);
/* what an event is about; DOMAIN_NAME holds the object's name (a secret's uuid) */
enum {
    DOMUS_EVENT_DOMAIN,
    DOMUS_EVENT_NETWORK,
    DOMUS_EVENT_POOL,
    DOMUS_EVENT_SECRET,
    DOMUS_EVENT_NODE_DEVICE,
    DOMUS_EVENT_QEMU_MONITOR, /* a QMP event of a domain's QEMU */
};
struct domus_event {
    int callback_id;
    int event_id;      /* 0 lifecycle; 1 a domain's reboot, a pool's refresh, a secret's
                        * value change, a node device's update */
    char *domain_name; /* owned by the event; free with domus_event_clear */
    int domain_id;
    int event;  /* lifecycle: virDomainEventType, virNetworkEventLifecycleType, …; block
                 * job (8, 16): its type */
    int detail; /* lifecycle: the event's detail; migration iteration (20): the pass; I/O
                 * error (4, 6): the action; block job: its status; metadata change (23):
                 * its type */
    int object; /* DOMUS_EVENT_* */
    /* owned by the event, NULL when the kind has none: the device (I/O error, device added
     * or removed) or disk (block job), the image (I/O error), the reason (I/O error reason)
     * or namespace (metadata change), and a tunable's parameters (FIELD, VALUE, … NULL) */
    char *alias;
    char *path;
    char *reason;
    char **params;
    gint64 value;   /* RTC change (2): the guest clock's offset, s; balloon change (13): KiB;
                     * block threshold (24): the threshold (ALIAS the image, PATH its path) */
    guint64 excess; /* block threshold: how far past it the write went */
    /* QEMU monitor events (owned by the event): QEMU's event name, its data as JSON (NULL:
     * none), QEMU's timestamp */
    char *qemu_event;
    char *details;
    gint64 seconds;
    guint micros;
};
/* Waits up to TIMEOUT_MS (-1: for ever) for the next event. Returns 1 with an event, 0 on
 * timeout, -1 with ERROR. */
int domus_event_next(domus_conn *conn, struct domus_event *ret, int timeout_ms, GError **error);
void domus_event_clear(struct domus_event *ev);
/* virConnectDomainQemuMonitorEventRegisterFlags */
enum { DOMUS_QEMU_MONITOR_EVENT_REGEX = 1, DOMUS_QEMU_MONITOR_EVENT_NOCASE = 2 };
/* Registers for the QMP events of DOM's QEMU (NULL: every domain's) named EVENT (NULL: all;
 * with DOMUS_QEMU_MONITOR_EVENT_REGEX a regular expression; _NOCASE: without case). They
 * come as DOMUS_EVENT_QEMU_MONITOR events. Returns the callback id, -1 with ERROR. */
int domus_qemu_monitor_event_register(domus_conn *conn, domus_domain *dom, const char *event,
                                      unsigned flags, GError **error);
/* Registers for node device events (EVENT_ID 0 lifecycle, 1 update) of NAME (NULL: every
 * device). Returns the callback id, -1 with ERROR. */
int domus_node_device_event_register(domus_conn *conn, const char *name, int event_id,
                                     GError **error);

/* Streams: the console. A stream owns the connection while it is open (no other calls). */
typedef struct domus_stream domus_stream;

/* virDomainConsoleFlags: DOMUS_CONSOLE_FORCE takes over another session. */
enum { DOMUS_CONSOLE_FORCE = 1, DOMUS_CONSOLE_SAFE = 2 };

/* Attaches to DEV ("serial0", "console0"; NULL: the first console) of DOM. */
domus_stream *domus_domain_open_console(domus_domain *dom, const char *dev, unsigned flags,
                                        GError **error);
/* virDomainScreenshot: the image of screen SCREEN arrives on the stream (read to its end,
 * then domus_stream_finish); *RET_MIME (new string) says its format. */
domus_stream *domus_domain_screenshot(domus_domain *dom, unsigned screen, char **ret_mime,
                                      GError **error);
/* virDomainFSFreeze (MOUNTPOINTS NULL-terminated, or NULL: all) / virDomainFSThaw: the count */
int domus_domain_fs_freeze(domus_domain *dom, char *const *mountpoints, gboolean thaw,
                           GError **error);
/* virDomainGetFSInfo: a GPtrArray of struct domus_fsinfo (free function set) */
struct domus_fsinfo {
    char *mountpoint, *name, *fstype;
    char **targets; /* the domain's disks under it: "vda" */
};
void domus_fsinfo_free(struct domus_fsinfo *fs);
GPtrArray *domus_domain_get_fsinfo(domus_domain *dom, GError **error);
/* virDomainSetUserPassword (FLAGS: 1 = the password is already encrypted) */
gboolean domus_domain_set_user_password(domus_domain *dom, const char *user, const char *password,
                                        unsigned flags, GError **error);
/* virDomainFSTrim */
gboolean domus_domain_fstrim(domus_domain *dom, const char *mountpoint, guint64 minimum,
                             GError **error);
/* virDomainInjectNMI */
gboolean domus_domain_inject_nmi(domus_domain *dom, GError **error);
/* virDomainAuthorizedSSHKeysGet (a NULL-terminated list; g_strfreev) and Set (FLAGS 1
 * append, 2 remove; neither: KEYS replace USER's). */
char **domus_domain_get_ssh_keys(domus_domain *dom, const char *user, GError **error);
gboolean domus_domain_set_ssh_keys(domus_domain *dom, const char *user, const char *const *keys,
                                   unsigned flags, GError **error);
/* virDomainCoreDumpWithFormat: FORMAT virDomainCoreDumpFormat (0 elf … 4 win-dmp); FLAGS
 * virDomainCoreDumpFlags (1 crash, 2 live, 4 bypass cache, 8 reset, 16 memory only). */
gboolean domus_domain_core_dump(domus_domain *dom, const char *to, unsigned format, unsigned flags,
                                GError **error);
/* virDomainSetLifecycleAction: TYPE 0 poweroff, 1 reboot, 2 crash; ACTION
 * virDomainLifecycleAction; FLAGS virDomainModificationImpact. */
gboolean domus_domain_set_lifecycle_action(domus_domain *dom, unsigned type, unsigned action,
                                           unsigned flags, GError **error);
/* virDomainAgentSetResponseTimeout: -2 wait for ever, -1 default, 0 no wait, or seconds. */
gboolean domus_domain_set_agent_timeout(domus_domain *dom, int timeout, GError **error);
/* virDomainGetControlInfo: STATE 0 ok, 1 job, 2 occupied, 3 error (DETAILS 2: monitor). */
struct domus_control_info {
    unsigned state;
    unsigned details;
    guint64 state_time_ms;
};
gboolean domus_domain_get_control_info(domus_domain *dom, struct domus_control_info *ret,
                                       GError **error);
/* virDomainPMSuspendForDuration: TARGET 0 mem, 1 disk, 2 hybrid (virNodeSuspendTarget),
 * through the guest agent; returns once the guest is pmsuspended. DURATION must be 0. */
gboolean domus_domain_pm_suspend(domus_domain *dom, unsigned target, guint64 duration,
                                 GError **error);
/* virDomainPMWakeup */
gboolean domus_domain_pm_wakeup(domus_domain *dom, GError **error);
/* virDomainSendKey: N (at most 16) CODES of keycode set CODESET (virKeycodeSet: 0 linux,
 * 1 xt, 2 atset1, 9 qnum), held HOLDTIME ms (0: QEMU's default). */
gboolean domus_domain_send_key(domus_domain *dom, unsigned codeset, unsigned holdtime,
                               const unsigned *codes, guint n, GError **error);
/* The socket to poll(2) for readability before domus_stream_recv. */
int domus_stream_get_fd(domus_stream *st);
gboolean domus_stream_send(domus_stream *st, const void *data, gsize len, GError **error);
/* Receives up to LEN bytes. Returns the count, 0 at the end of the stream, -1 with ERROR.
 * Blocks until something arrives unless domus_stream_pending() says data is buffered. */
gssize domus_stream_recv(domus_stream *st, void *buf, gsize len, GError **error);
/* Whether received data waits in the stream's buffer (poll the fd only when not). */
gboolean domus_stream_pending(domus_stream *st);
/* Ends the stream normally and waits for the daemon's confirmation. */
gboolean domus_stream_finish(domus_stream *st, GError **error);
void domus_stream_free(domus_stream *st);

/* Storage: pools and volumes (libvirt's virStoragePool* and virStorageVol* calls). Handles
 * are owned by the caller (free with domus_pool_free / domus_vol_free); name, uuid and key
 * accessors return strings owned by the handle. Errors: VIR_ERR_NO_STORAGE_POOL (49),
 * VIR_ERR_NO_STORAGE_VOL (50), VIR_ERR_OPERATION_INVALID (55) for a pool in the wrong state,
 * VIR_ERR_INVALID_ARG (8) for bad names and sizes, as the daemon reports them. */
typedef struct domus_pool domus_pool;
typedef struct domus_vol domus_vol;

/* virConnectListAllStoragePoolsFlags; 0 lists every pool. */
enum {
    DOMUS_LIST_POOLS_INACTIVE = 1,
    DOMUS_LIST_POOLS_ACTIVE = 2,
    DOMUS_LIST_POOLS_PERSISTENT = 4,
    DOMUS_LIST_POOLS_TRANSIENT = 8,
    DOMUS_LIST_POOLS_AUTOSTART = 16,
    DOMUS_LIST_POOLS_NO_AUTOSTART = 32,
};
/* virStoragePoolState */
enum {
    DOMUS_POOL_INACTIVE = 0,
    DOMUS_POOL_BUILDING = 1,
    DOMUS_POOL_RUNNING = 2,
    DOMUS_POOL_DEGRADED = 3,
    DOMUS_POOL_INACCESSIBLE = 4,
};
/* domus_pool_get_xml: VIR_STORAGE_XML_INACTIVE */
enum { DOMUS_POOL_XML_INACTIVE = 1 };
/* domus_pool_start: VIR_STORAGE_POOL_CREATE_WITH_BUILD */
enum { DOMUS_POOL_START_BUILD = 1 };

/* Lists pools; returns a NULL-terminated array of new handles. */
domus_pool **domus_list_pools(domus_conn *conn, unsigned flags, GError **error);
/* Registers for storage pool events (EVENT_ID 0 lifecycle, 1 refresh) of POOL (NULL: every
 * pool). Returns the callback id, -1 with ERROR. */
int domus_pool_event_register(domus_conn *conn, domus_pool *pool, int event_id, GError **error);
void domus_pool_list_free(domus_pool **list);
domus_pool *domus_pool_lookup_by_name(domus_conn *conn, const char *name, GError **error);
/* UUID: the dashed or plain hex form. */
domus_pool *domus_pool_lookup_by_uuid(domus_conn *conn, const char *uuid, GError **error);
void domus_pool_free(domus_pool *pool);

domus_conn *domus_pool_get_connect(domus_pool *pool); /* borrowed */
const char *domus_pool_get_name(domus_pool *pool);
const char *domus_pool_get_uuid(domus_pool *pool); /* dashed form */

/* Defines a persistent pool (inactive) from XML. */
domus_pool *domus_pool_define(domus_conn *conn, const char *xml, unsigned flags, GError **error);
/* Creates and starts a transient pool from XML. */
domus_pool *domus_pool_create_xml(domus_conn *conn, const char *xml, unsigned flags,
                                  GError **error);
gboolean domus_pool_build(domus_pool *pool, unsigned flags, GError **error);
/* Starts an inactive pool (virStoragePoolCreate). */
gboolean domus_pool_start(domus_pool *pool, unsigned flags, GError **error);
gboolean domus_pool_destroy(domus_pool *pool, GError **error);
/* Removes the pool's (empty) directory. */
gboolean domus_pool_delete(domus_pool *pool, unsigned flags, GError **error);
gboolean domus_pool_undefine(domus_pool *pool, GError **error);
gboolean domus_pool_refresh(domus_pool *pool, unsigned flags, GError **error);
/* 0/1, or -1 with ERROR */
int domus_pool_get_autostart(domus_pool *pool, GError **error);
gboolean domus_pool_set_autostart(domus_pool *pool, gboolean on, GError **error);
int domus_pool_is_active(domus_pool *pool, GError **error);
int domus_pool_is_persistent(domus_pool *pool, GError **error);

struct domus_pool_info {
    int state; /* DOMUS_POOL_* */
    guint64 capacity;
    guint64 allocation;
    guint64 available;
};
gboolean domus_pool_get_info(domus_pool *pool, struct domus_pool_info *ret, GError **error);
char *domus_pool_get_xml(domus_pool *pool, unsigned flags, GError **error);

/* Every volume of an active pool; a NULL-terminated array of new handles. */
domus_vol **domus_pool_list_volumes(domus_pool *pool, GError **error);
/* virStorageVolUpload / virStorageVolDownload: a stream of LENGTH bytes (0: to the end) at
 * OFFSET; upload with domus_stream_send then domus_stream_finish, download with
 * domus_stream_recv until 0. The stream owns the connection until freed. */
domus_stream *domus_vol_upload(domus_vol *vol, guint64 offset, guint64 length, unsigned flags,
                               GError **error);
domus_stream *domus_vol_download(domus_vol *vol, guint64 offset, guint64 length, unsigned flags,
                                 GError **error);
void domus_vol_list_free(domus_vol **list);
domus_vol *domus_vol_lookup_by_name(domus_pool *pool, const char *name, GError **error);
domus_vol *domus_vol_lookup_by_path(domus_conn *conn, const char *path, GError **error);
domus_vol *domus_vol_lookup_by_key(domus_conn *conn, const char *key, GError **error);
/* The pool VOL is in (a new handle). */
domus_pool *domus_pool_lookup_by_volume(domus_vol *vol, GError **error);
void domus_vol_free(domus_vol *vol);

domus_conn *domus_vol_get_connect(domus_vol *vol); /* borrowed */
const char *domus_vol_get_name(domus_vol *vol);
const char *domus_vol_get_key(domus_vol *vol);
const char *domus_vol_get_pool_name(domus_vol *vol);

/* virStorageVolCreateFlags */
enum { DOMUS_VOL_CREATE_PREALLOC_METADATA = 1 };
domus_vol *domus_vol_create_xml(domus_pool *pool, const char *xml, unsigned flags, GError **error);
/* Creates a volume in POOL from XML with SRC's contents (a clone, or a format conversion). */
domus_vol *domus_vol_create_xml_from(domus_pool *pool, const char *xml, domus_vol *src,
                                     unsigned flags, GError **error);

/* virStorageVolType */
enum { DOMUS_VOL_FILE = 0, DOMUS_VOL_BLOCK = 1, DOMUS_VOL_DIR = 2 };
struct domus_vol_info {
    int type; /* DOMUS_VOL_* */
    guint64 capacity;
    guint64 allocation;
};
gboolean domus_vol_get_info(domus_vol *vol, struct domus_vol_info *ret, GError **error);
/* virStorageVolGetInfoFlags: DOMUS_VOL_GET_PHYSICAL puts the file's size in ALLOCATION */
#define DOMUS_VOL_GET_PHYSICAL 1u
gboolean domus_vol_get_info_flags(domus_vol *vol, unsigned flags, struct domus_vol_info *ret,
                                  GError **error);
/* virConnectGetStoragePoolCapabilities and virConnectFindStoragePoolSources (SPEC: a <source>
 * document or NULL). New strings. */
char *domus_storage_pool_capabilities(domus_conn *conn, GError **error);
char *domus_find_storage_pool_sources(domus_conn *conn, const char *type, const char *spec,
                                      GError **error);
char *domus_vol_get_xml(domus_vol *vol, unsigned flags, GError **error);
char *domus_vol_get_path(domus_vol *vol, GError **error);

/* Domus's own flag for domus_vol_delete and domus_vol_wipe_pattern: act even while a running
 * domain uses the volume (refused with VIR_ERR_OPERATION_INVALID otherwise). */
#define DOMUS_VOL_FORCE (1u << 31)
gboolean domus_vol_delete(domus_vol *vol, unsigned flags, GError **error);

/* virStorageVolResizeFlags */
enum { DOMUS_VOL_RESIZE_ALLOCATE = 1, DOMUS_VOL_RESIZE_DELTA = 2, DOMUS_VOL_RESIZE_SHRINK = 4 };
gboolean domus_vol_resize(domus_vol *vol, guint64 capacity, unsigned flags, GError **error);

/* virStorageVolWipeAlgorithm */
enum {
    DOMUS_VOL_WIPE_ZERO = 0,
    DOMUS_VOL_WIPE_NNSA,
    DOMUS_VOL_WIPE_DOD,
    DOMUS_VOL_WIPE_BSI,
    DOMUS_VOL_WIPE_GUTMANN,
    DOMUS_VOL_WIPE_SCHNEIER,
    DOMUS_VOL_WIPE_PFITZNER7,
    DOMUS_VOL_WIPE_PFITZNER33,
    DOMUS_VOL_WIPE_RANDOM,
    DOMUS_VOL_WIPE_TRIM,
};
/* Blocks until the wipe is done; watch it from another connection with
 * domus_vol_get_job_info. */
gboolean domus_vol_wipe_pattern(domus_vol *vol, int algorithm, unsigned flags, GError **error);
/* Progress of a long job (a wipe) on VOL: *RET_ACTIVE FALSE when none runs; DONE and TOTAL in
 * bytes over all passes. Domus's own procedure; stock libvirt has none. */
gboolean domus_vol_get_job_info(domus_vol *vol, gboolean *ret_active, guint64 *ret_done,
                                guint64 *ret_total, GError **error);
/* Aborts the job (a wipe) on VOL: the wipe fails with VIR_ERR_OPERATION_ABORTED. Domus's own
 * procedure, refused on a read-only connection. */
gboolean domus_vol_abort_job(domus_vol *vol, GError **error);

G_END_DECLS

/* Virtual networks (libvirt's virNetwork* calls). Handles are owned by the caller (free with
 * domus_network_free); name and uuid accessors return strings owned by the handle. Errors:
 * VIR_ERR_NO_NETWORK (43), VIR_ERR_OPERATION_INVALID (55) for a network in the wrong state,
 * VIR_ERR_XML_ERROR (27) and VIR_ERR_CONFIG_UNSUPPORTED (67) for bad XML, as the daemon reports
 * them. */
typedef struct domus_network domus_network;

/* virConnectListAllNetworksFlags; 0 lists every network. */
enum {
    DOMUS_LIST_NETWORKS_INACTIVE = 1,
    DOMUS_LIST_NETWORKS_ACTIVE = 2,
    DOMUS_LIST_NETWORKS_PERSISTENT = 4,
    DOMUS_LIST_NETWORKS_TRANSIENT = 8,
    DOMUS_LIST_NETWORKS_AUTOSTART = 16,
    DOMUS_LIST_NETWORKS_NO_AUTOSTART = 32,
};
/* domus_network_get_xml: VIR_NETWORK_XML_INACTIVE */
enum { DOMUS_NETWORK_XML_INACTIVE = 1 };
/* domus_network_update: virNetworkUpdateCommand, virNetworkUpdateSection, flags */
enum {
    DOMUS_NETWORK_UPDATE_MODIFY = 1,
    DOMUS_NETWORK_UPDATE_DELETE = 2,
    DOMUS_NETWORK_UPDATE_ADD_LAST = 3,
    DOMUS_NETWORK_UPDATE_ADD_FIRST = 4,
};
enum {
    DOMUS_NETWORK_SECTION_BRIDGE = 1,
    DOMUS_NETWORK_SECTION_DOMAIN = 2,
    DOMUS_NETWORK_SECTION_IP = 3,
    DOMUS_NETWORK_SECTION_IP_DHCP_HOST = 4,
    DOMUS_NETWORK_SECTION_IP_DHCP_RANGE = 5,
    DOMUS_NETWORK_SECTION_FORWARD = 6,
    DOMUS_NETWORK_SECTION_FORWARD_INTERFACE = 7,
    DOMUS_NETWORK_SECTION_FORWARD_PF = 8,
    DOMUS_NETWORK_SECTION_PORTGROUP = 9,
    DOMUS_NETWORK_SECTION_DNS_HOST = 10,
    DOMUS_NETWORK_SECTION_DNS_TXT = 11,
    DOMUS_NETWORK_SECTION_DNS_SRV = 12,
};
enum { DOMUS_NETWORK_UPDATE_LIVE = 1, DOMUS_NETWORK_UPDATE_CONFIG = 2 };

/* A NULL-terminated array of new handles. */
domus_network **domus_list_networks(domus_conn *conn, unsigned flags, GError **error);
void domus_network_list_free(domus_network **list);
domus_network *domus_network_lookup_by_name(domus_conn *conn, const char *name, GError **error);
/* UUID in dashed form. */
domus_network *domus_network_lookup_by_uuid(domus_conn *conn, const char *uuid, GError **error);
void domus_network_free(domus_network *net);
const char *domus_network_get_name(domus_network *net);
const char *domus_network_get_uuid(domus_network *net); /* dashed form */
/* Defines a persistent network (inactive) / creates and starts a transient one. */
domus_network *domus_network_define(domus_conn *conn, const char *xml, GError **error);
domus_network *domus_network_create_xml(domus_conn *conn, const char *xml, GError **error);
gboolean domus_network_start(domus_network *net, GError **error);
gboolean domus_network_destroy(domus_network *net, GError **error);
gboolean domus_network_undefine(domus_network *net, GError **error);
int domus_network_get_autostart(domus_network *net, GError **error);
gboolean domus_network_set_autostart(domus_network *net, gboolean on, GError **error);
int domus_network_is_active(domus_network *net, GError **error);
int domus_network_is_persistent(domus_network *net, GError **error);
char *domus_network_get_xml(domus_network *net, unsigned flags, GError **error);
char *domus_network_get_bridge_name(domus_network *net, GError **error);
gboolean domus_network_update(domus_network *net, unsigned command, unsigned section,
                              int parent_index, const char *xml, unsigned flags, GError **error);

/* A DHCP lease (virNetworkDHCPLease). */
struct domus_network_lease {
    char *iface;
    gint64 expirytime;
    int type; /* 0 IPv4, 1 IPv6 */
    char *mac;
    char *iaid;
    char *ipaddr;
    unsigned prefix;
    char *hostname;
    char *clientid;
};
/* Registers for network lifecycle events (NET NULL: every network); they come through
 * domus_event_next with object 1. Returns the callback id, -1 with ERROR. */
int domus_network_event_register(domus_conn *conn, domus_network *net, GError **error);
/* The leases of NET (those of MAC only when not NULL): a NULL-terminated array. */
struct domus_network_lease **domus_network_get_dhcp_leases(domus_network *net, const char *mac,
                                                           GError **error);
void domus_network_lease_list_free(struct domus_network_lease **list);

/* A domain's interface addresses (virDomainInterfaceAddresses); SOURCE: 0 leases, 1 guest
 * agent, 2 ARP table. A NULL-terminated array. */
struct domus_ip_address {
    int type; /* 0 IPv4, 1 IPv6 */
    char *addr;
    unsigned prefix;
};
struct domus_interface {
    char *name;
    char *hwaddr; /* may be NULL */
    guint naddrs;
    struct domus_ip_address *addrs;
};
struct domus_interface **domus_domain_interface_addresses(domus_domain *dom, unsigned source,
                                                          GError **error);
void domus_interface_list_free(struct domus_interface **list);
/* virDomainUpdateDeviceFlags (FLAGS: virDomainModificationImpact). */
gboolean domus_domain_update_device(domus_domain *dom, const char *xml, unsigned flags,
                                    GError **error);
/* virDomainAttachDeviceFlags, virDomainDetachDeviceFlags (FLAGS: virDomainModificationImpact;
 * a detach returns once the guest let the device go or after a few seconds, the device then
 * leaving when it does), virDomainDetachDeviceAlias. */
gboolean domus_domain_attach_device(domus_domain *dom, const char *xml, unsigned flags,
                                    GError **error);
gboolean domus_domain_detach_device(domus_domain *dom, const char *xml, unsigned flags,
                                    GError **error);
gboolean domus_domain_detach_device_alias(domus_domain *dom, const char *alias, unsigned flags,
                                          GError **error);
/* virDomainBlockResize: DISK (target or source path) to SIZE (bytes with FLAGS 1, else KiB). */
gboolean domus_domain_block_resize(domus_domain *dom, const char *disk, guint64 size,
                                   unsigned flags, GError **error);
