/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* caps: what a QEMU binary can do (version, machine types, KVM support), learnt by running
 * it once over QMP and cached in memory and on disk by binary path, mtime and size; the
 * host <capabilities> built from it; prefix qemu_caps_. */
#pragma once

#include <glib.h>

#include "conf/capabilities.h"
#include "conf/cpu_map.h"

#define QEMU_CAPS_PROBE_TIMEOUT_MS 10000

/* One machine type as query-machines reports it. */
struct qemu_caps_machine {
    char *name;  /* canonical name, "pc-i440fx-7.2" */
    char *alias; /* "pc", or NULL */
    guint cpu_max;
    gboolean is_default;
    gboolean deprecated;
};

/* One CPU model as query-cpu-definitions reports it under TCG, with what its static expansion
 * says (query-cpu-model-expansion). */
struct qemu_caps_cpu_model {
    char *name;
    gboolean usable; /* no unavailable features under TCG */
    gboolean deprecated;
    char *vendor;    /* "Intel", "AMD", "Hygon", "Zhaoxin"; NULL: another or none */
    char **features; /* enabled features in libvirt's names (conf/cpu_map.h), by name,
                      * without "hypervisor" (QEMU sets it on every model); NULL: unknown */
};

/* Where a qemu_caps came from: lets callers (and tests) tell a probe from a cache hit. */
enum qemu_caps_source {
    QEMU_CAPS_SOURCE_PROBE, /* QEMU was run */
    QEMU_CAPS_SOURCE_DISK,  /* read from the on-disk cache */
};

/* Immutable once built, reference counted: the cache and any number of callers share it. */
struct qemu_caps;

struct qemu_caps *qemu_caps_ref(struct qemu_caps *caps);
void qemu_caps_unref(struct qemu_caps *caps);
typedef struct qemu_caps qemu_caps;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(qemu_caps, qemu_caps_unref)

/* Runs BINARY with -machine none and asks over QMP for query-version, query-machines and
 * query-kvm; gives up after TIMEOUT_MS (0: QEMU_CAPS_PROBE_TIMEOUT_MS) and always reaps the
 * process. Does not use any cache. Returns a new reference.
 * Errors: ERR_OPERATION_TIMEOUT when QEMU does not answer in time; ERR_OPERATION_FAILED when
 * it cannot be run, exits early (the message ends with its stderr) or answers nonsense. */
struct qemu_caps *qemu_caps_probe(const char *binary, guint timeout_ms, GError **error);

/* Accessors; the strings and the machine array are owned by CAPS. */
const char *qemu_caps_get_binary(const struct qemu_caps *caps);
/* major * 1000000 + minor * 1000 + micro, as libvirt's hv_ver. */
guint qemu_caps_get_version(const struct qemu_caps *caps);
/* The package string of query-version ("Debian 1:7.2+dfsg-7"), possibly empty. */
const char *qemu_caps_get_package(const struct qemu_caps *caps);
/* Whether the binary was built with KVM support (query-kvm "present"); whether KVM can be
 * used on this host is qemu_caps_kvm_usable(). */
gboolean qemu_caps_get_kvm_supported(const struct qemu_caps *caps);
/* Whether the binary was built with SPICE. */
gboolean qemu_caps_has_spice(const struct qemu_caps *caps);
/* Whether the binary could open a disk image with aio io_uring when it was probed (built with
 * it, and the kernel allowed a ring); whether the kernel still does is
 * qemu_caps_io_uring_usable(). */
gboolean qemu_caps_has_io_uring(const struct qemu_caps *caps);
enum qemu_caps_source qemu_caps_get_source(const struct qemu_caps *caps);
/* The machine types, the default one first and the rest in QEMU's order (libvirt keeps the
 * same order); "none" is left out. *RET_COUNT is set to their number. */
const struct qemu_caps_machine *qemu_caps_get_machines(const struct qemu_caps *caps,
                                                       gsize *ret_count);
/* The named CPU models (not host, max, base or versioned aliases), in QEMU's order. */
const struct qemu_caps_cpu_model *qemu_caps_get_cpu_models(const struct qemu_caps *caps,
                                                           gsize *ret_count);
/* Every CPU feature name QEMU knows, in libvirt's names, by name; NULL when QEMU did not
 * expand CPU models. */
const char *const *qemu_caps_get_cpu_features(const struct qemu_caps *caps);
/* The CPU TCG gives a guest at most ("max"; its features keep "hypervisor"), or NULL. */
const struct qemu_caps_cpu_model *qemu_caps_get_cpu_max(const struct qemu_caps *caps);
/* CAPS's expanded models as a map for conf/cpu_map.c, borrowing from CAPS; MODELS (of struct
 * cpu_map_model) holds them. FALSE when QEMU expanded none. */
gboolean qemu_caps_cpu_map(const struct qemu_caps *caps, struct cpu_map *map, GArray *models);
/* Whether CAPS's QEMU has CPU model NAME; a versioned one ("Skylake-Client-v2") by its
 * family's name. */
gboolean qemu_caps_has_cpu_model(const struct qemu_caps *caps, const char *name);
/* The default machine's canonical name, or NULL when QEMU names none. */
const char *qemu_caps_get_default_machine(const struct qemu_caps *caps);
/* The machine NAME stands for: NAME itself if it is a machine type, the canonical name if it
 * is an alias ("pc" -> "pc-i440fx-7.2"), NULL if unknown. */
const char *qemu_caps_get_canonical_machine(const struct qemu_caps *caps, const char *name);

/* A cache of qemu_caps by binary path. An entry is reused while the binary's mtime and size
 * are unchanged; CACHE_DIR (may be NULL: memory only) keeps entries across restarts, one
 * JSON file per binary named after a hash of its path. Thread-safe: probes may run in
 * worker threads; two callers asking for one binary at once share a single probe. */
struct qemu_caps_cache;

struct qemu_caps_cache *qemu_caps_cache_new(const char *cache_dir);
void qemu_caps_cache_free(struct qemu_caps_cache *cache);
typedef struct qemu_caps_cache qemu_caps_cache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(qemu_caps_cache, qemu_caps_cache_free)

/* The capabilities of BINARY, probing it when neither cache holds a current entry. A cache
 * file that cannot be read or written is not an error (the probe's result is still right);
 * it is logged at debug level. Returns a new reference; caller unrefs.
 * Errors: ERR_SYSTEM_ERROR when BINARY cannot be stat'ed; as qemu_caps_probe. */
/* What the cache holds in memory for BINARY as it is on disk now, or NULL: never probes, never
 * reads the disk cache (one stat). */
struct qemu_caps *qemu_caps_cache_peek(struct qemu_caps_cache *cache, const char *binary);
struct qemu_caps *qemu_caps_cache_get(struct qemu_caps_cache *cache, const char *binary,
                                      GError **error);

/* The emulator for guest architecture ARCH: qemu-system-<arch> found in $PATH or
 * /usr/libexec and executable; for i686 (and i386..i586) qemu-system-i386, else the
 * x86_64 one, as libvirt. Returns a new path; caller frees.
 * Errors: ERR_CONFIG_UNSUPPORTED when there is none. */
char *qemu_caps_find_binary(const char *arch, GError **error);

/* True only when /dev/kvm opens read-write and KVM_GET_API_VERSION answers 12. */
gboolean qemu_caps_kvm_usable(void);

/* True when CAPS's QEMU opened an image with io_uring when probed and the kernel has not
 * disabled io_uring since (kernel.io_uring_disabled absent or 0). */
gboolean qemu_caps_io_uring_usable(const struct qemu_caps *caps);

/* Adds a <guest> for ARCH (os type hvm) served by CAPS's binary to HOST_CAPS: machines in
 * libvirt's order (the default machine's canonical name first, each alias right after its
 * canonical name), <domain type='kvm'/> when KVM is true, and libvirt's features for ARCH.
 * Errors: ERR_CONFIG_UNSUPPORTED when ARCH's word size is unknown. */
gboolean qemu_caps_add_guest(const struct qemu_caps *caps, struct capabilities *host_caps,
                             const char *arch, gboolean kvm, GError **error);

/* The host capabilities CONNECT_GET_CAPABILITIES returns: host facts from nodeinfo_,
 * HOST_UUID, security model 'none', and one guest per x86 architecture (x86_64, i686) for
 * which an emulator exists, with KVM when it is usable and the binary supports it.
 * An architecture without an emulator is left out
 * (as libvirt, the document may list no guest at all). Returns a new model; caller frees.
 * Errors: as nodeinfo_fill_host and qemu_caps_cache_get. */
struct capabilities *qemu_caps_build_capabilities(struct qemu_caps_cache *cache,
                                                  const char *host_uuid, GError **error);
