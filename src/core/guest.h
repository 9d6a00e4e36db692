/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest: what goes through the guest agent or straight to QEMU's monitor on a user's behalf —
 * agent shutdown/reboot, guest time, guest info, hostname, agent and monitor passthrough;
 * prefix core_guest_. */
#pragma once

#include "core/core.h"

struct agent;

#define GUEST_AGENT_CHANNEL "org.qemu.guest_agent.0"

/* A value of libvirt's typed-parameter lists. */
enum typed_param_type {
    TYPED_PARAM_INT = 1,
    TYPED_PARAM_UINT = 2,
    TYPED_PARAM_LLONG = 3,
    TYPED_PARAM_ULLONG = 4,
    TYPED_PARAM_DOUBLE = 5,
    TYPED_PARAM_BOOLEAN = 6,
    TYPED_PARAM_STRING = 7,
};

struct typed_param {
    char *field;
    enum typed_param_type type;
    gint64 i;  /* INT, LLONG, BOOLEAN */
    guint64 u; /* UINT, ULLONG */
    char *s;   /* STRING */
};

void typed_param_free(struct typed_param *p);
/* A new array of typed parameters (freed with it), and additions to it. */
GPtrArray *typed_params_new(void);
void typed_params_add_string(GPtrArray *params, const char *field, const char *value);
void typed_params_add_ullong(GPtrArray *params, const char *field, guint64 value);
void typed_params_add_llong(GPtrArray *params, const char *field, gint64 value);
void typed_params_add_int(GPtrArray *params, const char *field, int value);
void typed_params_add_bool(GPtrArray *params, const char *field, gboolean value);

/* A parameter a call takes: its field and its type. */
struct typed_param_rule {
    const char *field;
    enum typed_param_type type;
};
/* libvirt's virTypedParamsValidate: every one of PARAMS is one of RULES (ended by a NULL
 * field), of its type, and given once; else FALSE with ERROR (ERR_ARGUMENT_UNSUPPORTED for an
 * unknown field, ERR_INVALID_ARG for the rest, worded as libvirt). */
gboolean typed_params_validate(const GPtrArray *params, const struct typed_param_rule *rules,
                               GError **error);
/* One parameter P a call takes (KNOWN: its field is one the call has) of type WANT, as
 * libvirt checks it: else FALSE with ERR_ARGUMENT_UNSUPPORTED ("parameter 'x' not supported")
 * or ERR_INVALID_ARG ("invalid type 'int' for parameter 'x', expected 'uint'"). */
gboolean typed_param_check(const struct typed_param *p, gboolean known, enum typed_param_type want,
                           GError **error);
/* The string of FIELD in PARAMS, or NULL. Borrowed. */
const char *typed_params_get_string(const GPtrArray *params, const char *field);

/* VALUE ownership passes to the callback: a char * for text results, a GPtrArray of
 * struct typed_param * (with free function) for guest info, a gint64[2] {seconds, nanoseconds}
 * for the guest time. NULL with ERROR. */
typedef void (*core_value_fn)(GError *error, gpointer value, gpointer data);

/* Whether DOM has the guest-agent channel. */
gboolean core_guest_has_agent(struct domain *dom);
/* DOM's agent client, created on first use; NULL with ERR_OPERATION_INVALID (not running) or
 * ERR_ARGUMENT_UNSUPPORTED (no agent channel). Borrowed. */
struct agent *core_guest_agent(struct domain *dom, GError **error);

/* guest-shutdown through the agent; MODE "powerdown" or "reboot". */
void core_guest_agent_power(struct domain *dom, const char *mode, core_done_fn done, gpointer data);

/* virNodeSuspendTarget */
enum { CORE_PM_MEM, CORE_PM_DISK, CORE_PM_HYBRID };

/* virDomainPMSuspendForDuration (pm.c): the guest agent's guest-suspend-ram, -disk or
 * -hybrid for TARGET (CORE_PM_*), done once the guest is pmsuspended (or, for disk, off).
 * DURATION must be 0 (QEMU cannot wake a guest by timer). Refused unless running, with a
 * <pm> that disables the state, or a machine QEMU says cannot wake up. */
void core_domain_pm_suspend(struct domain *dom, unsigned target, guint64 duration,
                            core_done_fn done, gpointer data);
/* virDomainPMWakeup: QEMU's system_wakeup, done once the guest runs again. Refused unless
 * pmsuspended. */
void core_domain_pm_wakeup(struct domain *dom, core_done_fn done, gpointer data);

/* virDomainQemuAgentCommand: the reply as JSON text ({"return": …}). */
void core_guest_agent_command(struct domain *dom, const char *json, int timeout_s,
                              core_value_fn done, gpointer data);
/* virDomainQemuMonitorCommand: QEMU's whole reply as JSON text, or with HMP the human
 * monitor's output. Marks the domain tainted. */
void core_guest_monitor_command(struct domain *dom, const char *cmd, gboolean hmp,
                                core_value_fn done, gpointer data);

/* virDomainOpenChannel: the unix socket of running DOM's channel NAME (its alias or virtio
 * target name; NULL: the first channel), for a stream to connect to. Errors as libvirt
 * (ERR_INTERNAL_ERROR: no such channel, not a unix socket); the guest agent's channel is
 * refused (ERR_OPERATION_INVALID): the daemon holds it. New string. */
char *core_guest_channel_path(struct domain *dom, const char *name, GError **error);

/* virDomainBlockPeek (peek.c): SIZE bytes at OFFSET of the raw image of DOM's disk PATH (its
 * target or its image's path), read in a worker thread; a GBytes to DONE. Errors as libvirt:
 * ERR_INVALID_ARG for an unknown disk or a read past the end, ERR_OPERATION_UNSUPPORTED for
 * an image that is not raw. */
void core_domain_block_peek(struct domain *dom, const char *path, guint64 offset, guint32 size,
                            core_value_fn done, gpointer data);
/* virDomainMemoryPeek (peek.c): SIZE bytes of a running DOM's memory at OFFSET, a guest
 * virtual address of its first vCPU or (CORE_MEMORY_PHYSICAL) a physical one; a GBytes to
 * DONE. FLAGS must be exactly one of the two. */
enum { CORE_MEMORY_VIRTUAL = 1, CORE_MEMORY_PHYSICAL = 2 };
void core_domain_memory_peek(struct domain *dom, guint64 offset, guint32 size, unsigned flags,
                             core_value_fn done, gpointer data);

/* virDomainGetTime / virDomainSetTime (SYNC: from the guest's RTC). */
void core_guest_get_time(struct domain *dom, core_value_fn done, gpointer data);
void core_guest_set_time(struct domain *dom, gint64 seconds, guint nseconds, gboolean sync,
                         core_done_fn done, gpointer data);

/* virDomainGetGuestInfo: TYPES is virDomainGuestInfoTypes (0: all we know). */
void core_guest_info(struct domain *dom, unsigned types, core_value_fn done, gpointer data);
/* virDomainGetGuestVcpus: "vcpus", "online" and "offlinable" as CPU lists (the agent's view);
 * DONE gets a GPtrArray of typed params (taken). virDomainSetGuestVcpus: the vCPUs of MAP
 * online or offline; one the guest lacks, or cannot take offline, is ERR_INVALID_ARG and
 * nothing changes. (resources.c) */
void core_domain_get_guest_vcpus(struct domain *dom, core_value_fn done, gpointer data);
void core_domain_set_guest_vcpus(struct domain *dom, const char *map, gboolean online,
                                 core_done_fn done, gpointer data);
/* virDomainAgentSetResponseTimeout: TIMEOUT an enum agent_timeout value (qemu/agent.h) or
 * seconds, for the agent's commands from now on (kept in the status while running).
 * ERR_INVALID_ARG below AGENT_TIMEOUT_BLOCK. */
gboolean core_guest_set_agent_timeout(struct domain *dom, int timeout, GError **error);

/* virDomainAuthorizedSSHKeysGet: USER's keys in the guest (a NULL-terminated GStrv to DONE),
 * at most GUEST_SSH_KEYS_MAX. virDomainAuthorizedSSHKeysSet: KEYS appended
 * (GUEST_SSH_KEYS_APPEND), removed (GUEST_SSH_KEYS_REMOVE) or, with neither, put in place of
 * USER's. */
#define GUEST_SSH_KEYS_MAX 2048 /* REMOTE_DOMAIN_AUTHORIZED_SSH_KEYS_MAX */
enum { GUEST_SSH_KEYS_APPEND = 1, GUEST_SSH_KEYS_REMOVE = 2 };
void core_guest_ssh_keys_get(struct domain *dom, const char *user, core_value_fn done,
                             gpointer data);
void core_guest_ssh_keys_set(struct domain *dom, const char *user, const char *const *keys,
                             unsigned flags, core_done_fn done, gpointer data);

/* virDomainGetHostname through the agent. */
void core_guest_hostname(struct domain *dom, core_value_fn done, gpointer data);

/* An interface and its addresses, as virDomainInterfaceAddresses reports them. */
struct guest_ip {
    int type; /* virIPAddrType: 0 IPv4, 1 IPv6 */
    char *addr;
    unsigned prefix;
};
struct guest_iface {
    char *name;
    char *hwaddr;     /* or NULL */
    GPtrArray *addrs; /* struct guest_ip * */
};
struct guest_iface *guest_iface_new(const char *name, const char *hwaddr);
void guest_iface_add(struct guest_iface *iface, int type, const char *addr, unsigned prefix);
void guest_iface_free(struct guest_iface *iface);
/* The guest's interfaces through the agent (guest-network-get-interfaces): the value is a
 * GPtrArray of struct guest_iface * (with free function). */
void core_guest_interfaces(struct domain *dom, core_value_fn done, gpointer data);

/* virDomainFSFreeze (the MOUNTPOINTS given, NULL-terminated, or all) and virDomainFSThaw (all):
 * VALUE is a gint * of the file systems frozen or thawed. */
void core_guest_fs_freeze(struct domain *dom, char *const *mountpoints, gboolean thaw,
                          core_value_fn done, gpointer data);
/* virDomainGetFSInfo: VALUE is a GPtrArray of struct core_fsinfo, each disk named by its
 * target in DOM's definition (found by PCI address for virtio, else by serial). */
#define CORE_FSINFO_MAX 256
struct core_fsinfo {
    char *mountpoint, *name, *fstype;
    GPtrArray *aliases; /* char *: "vda" */
};
void core_fsinfo_free(struct core_fsinfo *fs);
void core_guest_fs_info(struct domain *dom, core_value_fn done, gpointer data);
/* virDomainSetUserPassword (CRYPTED: PASSWORD is already a crypt(3) hash) */
void core_guest_set_user_password(struct domain *dom, const char *user, const char *password,
                                  gboolean crypted, core_done_fn done, gpointer data);
/* virDomainFSTrim: every file system (a MOUNTPOINT is ERR_ARGUMENT_UNSUPPORTED) */
void core_guest_fstrim(struct domain *dom, const char *mountpoint, guint64 minimum,
                       core_done_fn done, gpointer data);
