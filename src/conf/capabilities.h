/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capabilities: the host capabilities model and its libvirt <capabilities> XML, as
 * CONNECT_GET_CAPABILITIES returns it; prefix capabilities_.
 * Pure: takes plain data (filled by nodeinfo_ and qemu_caps_), spawns nothing. */
#pragma once

#include <glib.h>

/* <machine maxCpus='N' canonical='C' deprecated='yes'>NAME</machine> */
struct capabilities_machine {
    char *name;
    char *canonical; /* set when NAME is an alias (pc -> pc-i440fx-7.2); else NULL */
    guint max_cpus;  /* 0: attribute left out */
    gboolean deprecated;
};

/* Guest features, written in libvirt's order whatever order they are set in. */
enum capabilities_feature {
    CAPABILITIES_FEATURE_PAE = 1 << 0,
    CAPABILITIES_FEATURE_NONPAE = 1 << 1,
    CAPABILITIES_FEATURE_ACPI = 1 << 2, /* default='on' toggle='yes' */
    CAPABILITIES_FEATURE_APIC = 1 << 3, /* default='on' toggle='no' */
    CAPABILITIES_FEATURE_CPUSELECTION = 1 << 4,
    CAPABILITIES_FEATURE_DEVICEBOOT = 1 << 5,
    CAPABILITIES_FEATURE_DISKSNAPSHOT = 1 << 6, /* default='on' toggle='no' */
};

/* One <guest>: an os type on an architecture served by one emulator. */
struct capabilities_guest {
    char *os_type;       /* "hvm" */
    char *arch;          /* "x86_64", "i686" */
    guint wordsize;      /* 64, 32 */
    char *emulator;      /* absolute path */
    char *loader;        /* NULL: no <loader> */
    GPtrArray *machines; /* of struct capabilities_machine, in output order: the first one
                          * is the default machine for clients such as virt-install */
    gboolean kvm;        /* <domain type='kvm'/> after <domain type='qemu'/> */
    guint features;      /* enum capabilities_feature bits */
};

struct capabilities_baselabel {
    char *type;  /* "kvm", "qemu" */
    char *label; /* "+0:+0" */
};

struct capabilities_secmodel {
    char *model;           /* "none", "dac" */
    char *doi;             /* "0" */
    GPtrArray *baselabels; /* of struct capabilities_baselabel */
};

/* One logical CPU of a NUMA cell. IDs of -1 are left out. */
struct capabilities_cpu {
    guint id;
    int socket_id;
    int die_id;
    int core_id;
    char *siblings; /* thread siblings list as the kernel writes it, "0,4"; NULL: left out */
};

/* Pages of one size in a cell: <pages unit='KiB' size='SIZE'>COUNT</pages> */
struct capabilities_pages {
    guint size_kib;
    guint64 count;
};

struct capabilities_cell {
    guint id;
    guint64 memory_kib;
    GArray *cpus;  /* of struct capabilities_cpu; its siblings strings are owned */
    GArray *pages; /* of struct capabilities_pages, by size; empty: none written */
};

struct capabilities_host {
    char *uuid;              /* dashed form; required */
    char *arch;              /* uname machine, "x86_64"; required */
    char *cpu_model;         /* NULL: <model> left out (say only what is true) */
    char *cpu_vendor;        /* "Intel", "AMD"; NULL: left out */
    GPtrArray *cpu_features; /* char *: what the host CPU has beyond its model (with a model) */
    guint sockets;           /* per NUMA node; all four 0: <topology> left out */
    guint dies;
    guint cores;          /* per die */
    guint threads;        /* per core */
    GPtrArray *cells;     /* of struct capabilities_cell; empty: no NUMA <topology> */
    GArray *page_sizes;   /* guint KiB, the host's page sizes (<cpu><pages>); empty: none */
    GPtrArray *secmodels; /* of struct capabilities_secmodel; empty: model 'none' is written */
};

struct capabilities {
    struct capabilities_host host;
    GPtrArray *guests; /* of struct capabilities_guest, in output order */
};

/* Returns a new, empty model; free with capabilities_free. */
struct capabilities *capabilities_new(void);
void capabilities_free(struct capabilities *caps);
typedef struct capabilities capabilities;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(capabilities, capabilities_free)

/* Appends a guest and returns it; CAPS owns it. Machines and flags are added by the caller. */
struct capabilities_guest *capabilities_add_guest(struct capabilities *caps, const char *os_type,
                                                  const char *arch, guint wordsize,
                                                  const char *emulator);

/* Appends a machine to GUEST. CANONICAL may be NULL. */
void capabilities_guest_add_machine(struct capabilities_guest *guest, const char *name,
                                    const char *canonical, guint max_cpus, gboolean deprecated);

/* Appends a security model and returns it; CAPS owns it. */
struct capabilities_secmodel *capabilities_add_secmodel(struct capabilities *caps,
                                                        const char *model, const char *doi);
void capabilities_secmodel_add_baselabel(struct capabilities_secmodel *secmodel, const char *type,
                                         const char *label);

/* Appends a NUMA cell and returns it; HOST owns it. Add CPUs with capabilities_cell_add_cpu. */
struct capabilities_cell *capabilities_host_add_cell(struct capabilities_host *host, guint id,
                                                     guint64 memory_kib);
void capabilities_cell_add_cpu(struct capabilities_cell *cell, guint id, int socket_id, int die_id,
                               int core_id, const char *siblings);

/* The guest for ARCH and OS_TYPE, or NULL. Borrowed. */
const struct capabilities_guest *capabilities_find_guest(const struct capabilities *caps,
                                                         const char *os_type, const char *arch);

/* Formats CAPS as libvirt's <capabilities> document. Returns a new string; caller frees.
 * Errors: ERR_INTERNAL_ERROR when a required field (host uuid or arch, a guest's arch,
 * emulator or wordsize, a machine name) is missing. */
char *capabilities_format(const struct capabilities *caps, GError **error);
