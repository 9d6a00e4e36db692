/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeinfo: host facts read from /proc and /sys (NODE_GET_INFO, free memory, host identity,
 * CPU and NUMA topology for <capabilities>); prefix nodeinfo_. Reads files, spawns nothing. */
#pragma once

#include <glib.h>

#include "conf/capabilities.h"

/* libvirt's virNodeInfo, field for field. */
struct nodeinfo {
    char model[32]; /* uname machine, "x86_64" */
    guint64 memory; /* KiB, MemTotal */
    guint cpus;     /* online CPUs */
    guint mhz;      /* 0: unknown */
    guint nodes;    /* NUMA nodes, >= 1 */
    guint sockets;  /* per node */
    guint cores;    /* per socket */
    guint threads;  /* per core */
};

/* Fills *RET like libvirt's virNodeGetInfo. When nodes * sockets * cores * threads does not
 * match the CPU count (odd topologies), reports 1 node, 1 socket, cpus cores, 1 thread, as
 * libvirt does. Errors: ERR_SYSTEM_ERROR or ERR_INTERNAL_ERROR when /proc/meminfo or the
 * online CPU list cannot be read. RET is untouched on failure. */
gboolean nodeinfo_get(struct nodeinfo *ret, GError **error);

/* Free memory in bytes (MemFree of /proc/meminfo), as NODE_GET_FREE_MEMORY reports it. */
gboolean nodeinfo_get_free_memory(guint64 *ret_bytes, GError **error);

/* The host's page sizes in KiB: the system's first, then each hugepage size, ascending. New
 * array of guint. */
GArray *nodeinfo_page_sizes(void);
/* Pages of SIZE_KIB on NUMA node NODE (-1: the whole host): *RET_TOTAL (the system's pages
 * count the memory hugepages do not hold), *RET_FREE; either may be NULL. A host without NUMA
 * answers for node 0 as for the whole host. Errors: ERR_OPERATION_FAILED ("NUMA node %d is
 * not available", "page size %u is not available on node %d"). */
gboolean nodeinfo_page_info(int node, guint size_kib, guint64 *ret_total, guint64 *ret_free,
                            GError **error);

/* virNodeAllocPages for one cell and size: the pool of SIZE_KIB hugepages on NODE (-1: the
 * host's) set to COUNT, or grown by it (ADD); the kernel's answer read back. Errors:
 * ERR_OPERATION_UNSUPPORTED (the system's pages), as nodeinfo_page_info, ERR_SYSTEM_ERROR (the
 * write), ERR_OPERATION_FAILED (fewer pages than asked). */
gboolean nodeinfo_set_page_pool(int node, guint size_kib, guint64 count, gboolean add,
                                GError **error);

/* One of KSM's tunables (uint) or counters (ullong) as virNodeGetMemoryParameters names it */
struct nodeinfo_ksm {
    const char *field; /* "shm_pages_to_scan"; static */
    gboolean counter;  /* ullong; else uint */
    guint64 value;
};
/* KSM's fields the host has (/sys/kernel/mm/ksm), in libvirt's order: a new array of struct
 * nodeinfo_ksm. Errors: ERR_INTERNAL_ERROR (a file that is not a number). */
GArray *nodeinfo_ksm_get(GError **error);
/* Writes tunable FIELD (shm_pages_to_scan, shm_sleep_millisecs, shm_merge_across_nodes).
 * Errors: ERR_ARGUMENT_UNSUPPORTED (another field), ERR_OPERATION_INVALID (not in this kernel),
 * ERR_SYSTEM_ERROR (the kernel refused the value). */
gboolean nodeinfo_ksm_set(const char *field, guint value, GError **error);

/* Fills HOST's arch, CPU vendor, CPU topology and NUMA cells (the uuid and the security
 * models are left to the caller). HOST's previous values for these fields are replaced.
 * Errors: as nodeinfo_get. */
gboolean nodeinfo_fill_host(struct capabilities_host *host, GError **error);
/* The host CPU's vendor as libvirt names it ("Intel", "AMD"; NULL: another) and its CPUID
 * flags as Linux names them (/proc/cpuinfo; NULL when it lists none). New strings. */
char *nodeinfo_cpu_vendor(void);
char **nodeinfo_cpu_flags(void);

/* The host's SMBIOS as libvirt's <sysinfo type='smbios'> (virConnectGetSysinfo), read from
 * the kernel's DMI files in DMI_DIR ("/sys/class/dmi/id"): <bios>, <system>, <baseBoard>,
 * <chassis> with the entries the kernel exposes. A host without them (no firmware tables, as
 * in some containers) is ERR_OPERATION_UNSUPPORTED. New string. */
char *nodeinfo_sysinfo(const char *dmi_dir, GError **error);
