/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon: process-wide services of domusd (the QEMU capabilities cache); prefix daemon_. */
#pragma once

#include <glib.h>

#include "qemu/caps.h"

/* Gets VALUE (a struct qemu_caps * reference, or a char * of XML: the callee owns it) or
 * ERROR, on the main loop; maybe before the call that asked returns. */
typedef void (*daemon_caps_fn)(gpointer value, const GError *error, gpointer data);

/* Sets up the capabilities cache (CACHE_DIR) for the default emulator BINARY and starts
 * probing it in a worker thread. */
void daemon_caps_init(const char *cache_dir, const char *binary, const char *host_uuid);
void daemon_caps_free(void);
/* Capabilities of the default emulator: at once from memory, else from a worker that reads
 * the disk cache or probes QEMU. DONE gets a reference. */
void daemon_qemu_caps(daemon_caps_fn done, gpointer data);
/* The cache itself (the core checks definitions against it); NULL before daemon_caps_init. */
struct qemu_caps_cache *daemon_caps_cache(void);
/* The host <capabilities> XML, built in a worker (it may probe). DONE gets the string. */
void daemon_capabilities_xml(daemon_caps_fn done, gpointer data);

/* What a call names of the hypervisor (virConnectGetDomainCapabilities' emulator, arch,
 * machine and virttype; each may be NULL), checked against CAPS and defaulted as libvirt:
 * virttype kvm where KVM works else qemu, arch x86_64, the default machine. Borrowed from CAPS
 * or the arguments. Errors: ERR_INVALID_ARG (what this daemon does not run),
 * ERR_CONFIG_UNSUPPORTED (kvm without KVM). */
struct hv_target {
    const char *virttype;
    const char *arch;
    const char *machine; /* canonical */
    int kvm_max;         /* KVM's vCPU limit (kvm only), else 0 */
};
gboolean daemon_hv_target(const struct qemu_caps *caps, const char *emulator, const char *arch,
                          const char *machine, const char *virttype, struct hv_target *ret,
                          GError **error);
