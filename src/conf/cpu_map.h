/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu_map: x86 CPU models as sets of features, and what libvirt's cpu_x86.c computes with them:
 * one CPU compared with another (virConnectCompareCPU and its hypervisor form), the baseline of
 * several (virConnectBaselineCPU and its hypervisor form), and the model plus features that
 * describe a set of features best (decode). The models are QEMU's own, learnt from its static
 * expansions (qemu/caps.c), not libvirt's cpu_map files: a model here means what QEMU runs for
 * it. Feature names are libvirt's. Pure: parse, compute, format. Prefix cpu_map_ (cpu_xml_ for
 * a parsed <cpu>). */
#pragma once

#include <glib.h>

/* One named model: its features as libvirt names them, NULL-terminated; borrowed. */
struct cpu_map_model {
    const char *name;
    const char *vendor; /* "Intel", "AMD", NULL: none */
    const char *const *features;
};

/* The models (in QEMU's order; tried last first, as libvirt tries its newest first) and every
 * feature name QEMU knows, by name (how features are listed); all borrowed. */
struct cpu_map {
    const struct cpu_map_model *models;
    gsize n_models;
    const char *const *known;
};

/* libvirt's name of the feature QEMU calls NAME, and back ("pclmulqdq" is libvirt's
 * "pclmuldq"); the same name for the rest. Static strings or NAME. */
const char *cpu_map_feature_from_qemu(const char *name);
const char *cpu_map_feature_to_qemu(const char *name);

/* Whether NAME is one libvirt's schema allows for a feature ([a-zA-Z0-9-_.]+) */
gboolean cpu_map_feature_name_valid(const char *name);

enum cpu_xml_type { CPU_XML_GUEST, CPU_XML_HOST };
enum cpu_policy {
    CPU_POLICY_FORCE,
    CPU_POLICY_REQUIRE,
    CPU_POLICY_OPTIONAL,
    CPU_POLICY_DISABLE,
    CPU_POLICY_FORBID,
};

struct cpu_xml_feature {
    char *name;
    enum cpu_policy policy; /* a host CPU's features are all REQUIRE */
};

/* A <cpu> as libvirt reads one of unknown type: a host CPU (capabilities) when it has
 * <arch>, else a guest CPU (a domain's). */
struct cpu_xml {
    enum cpu_xml_type type;
    char *arch;       /* NULL: not given */
    char *mode;       /* "custom" (default), "host-model", "host-passthrough", "maximum" */
    char *match;      /* "exact" (default), "minimum", "strict" */
    char *model;      /* NULL: none */
    char *vendor;     /* NULL: not given */
    GArray *features; /* struct cpu_xml_feature */
};

void cpu_xml_free(struct cpu_xml *cpu);
typedef struct cpu_xml cpu_xml;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cpu_xml, cpu_xml_free)

/* Parses XML whose root is <cpu>; AS_HOST reads it as a host CPU whatever it holds (libvirt's
 * virConnectBaselineCPU does). Elements that change nothing here (topology, signature,
 * microcode, counter, pages, cache, maxphysaddr, numa) are read past. Errors (origin
 * ERR_FROM_CPU): ERR_XML_ERROR. */
struct cpu_xml *cpu_xml_parse(const char *xml, gboolean as_host, GError **error);

/* virCPUCompare: CPU against a host CPU of HOST_VENDOR (NULL: not known) with HOST_FEATURES
 * (NULL: libvirt's "unknown host CPU"). 0 incompatible, 1 identical, 2 superset (the host has
 * more); with FAIL_INCOMPATIBLE an incompatible CPU is -1 with ERR_CPU_INCOMPATIBLE saying
 * why. -1 with ERR_INTERNAL_ERROR for an unknown model or feature. */
int cpu_map_compare(const struct cpu_map *map, const char *host_vendor,
                    const char *const *host_features, const struct cpu_xml *cpu,
                    gboolean fail_incompatible, GError **error);

/* virConnectBaselineCPUFlags */
enum { CPU_BASELINE_EXPAND_FEATURES = 1 << 0, CPU_BASELINE_MIGRATABLE = 1 << 1 };

/* virCPUBaseline: the features every one of CPUS (N >= 1) has, and with HV_FEATURES (NULL:
 * no limit) only those, as a model and features. HYPERVISOR: the model never falls back
 * (libvirt's hypervisor form). A new <cpu> document. Errors: ERR_OPERATION_FAILED (vendors
 * differ, nothing in common), ERR_INTERNAL_ERROR (unknown model or feature, no model fits). */
char *cpu_map_baseline(const struct cpu_map *map, struct cpu_xml *const *cpus, guint n,
                       const char *const *hv_features, gboolean hypervisor, unsigned flags,
                       GError **error);

/* The features of a host CPU of VENDOR whose /proc/cpuinfo lists FLAGS (Linux's names:
 * "sse4_1", "tsc_deadline_timer"; its synthetic "ibrs", "ibpb", "stibp", "ssbd" read as the
 * vendor's bits, "nonstop_tsc" as invtsc), by the map's names; flags that are not CPUID
 * features QEMU knows are left out. New vector of borrowed names. */
GPtrArray *cpu_map_host_features(const struct cpu_map *map, const char *vendor,
                                 const char *const *flags);
/* A host CPU of VENDOR with FEATURES as a model and the features beyond it (libvirt's decode
 * of a host CPU: no model that lacks one of them). FALSE when no model fits. *RET_FEATURES:
 * a new vector of borrowed names. */
gboolean cpu_map_decode_host(const struct cpu_map *map, const char *vendor, GPtrArray *features,
                             const char **ret_model, GPtrArray **ret_features);

/* FEATURES (a CPU of VENDOR) as a model and the features to add and to disable, as libvirt
 * decodes a guest CPU (the hypervisor's CPU for domain capabilities' host-model). FALSE when
 * no model fits. *RET_REQUIRE, *RET_DISABLE: new vectors of borrowed names. */
gboolean cpu_map_decode(const struct cpu_map *map, const char *vendor, const char *const *features,
                        const char **ret_model, GPtrArray **ret_require, GPtrArray **ret_disable);
