/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domcaps: libvirt's <domainCapabilities> for one emulator, virtualization type, architecture
 * and machine (CONNECT_GET_DOMAIN_CAPABILITIES, virsh domcapabilities); prefix domcaps_.
 * Pure: the emulator's facts come in (from qemu_caps_ and the host), the device enums are what
 * this project's domain parser takes, so a client (virt-install, virt-manager) offers only
 * what a define accepts. */
#pragma once

#include <glib.h>

/* One named CPU model of the custom mode */
struct domcaps_cpu_model {
    const char *name;
    const char *usable; /* "yes", "no", "unknown" */
};

struct domcaps {
    const char *path;    /* the emulator */
    const char *domain;  /* "qemu", "kvm" */
    const char *machine; /* canonical machine type */
    const char *arch;
    guint max_vcpus;
    const char *const *loaders; /* firmware images found on the host; NULL-terminated or NULL */
    gboolean host_passthrough;  /* the host's CPU can be handed through (KVM) */
    const struct domcaps_cpu_model *cpu_models;
    gsize n_cpu_models;
    gboolean vfio;  /* host PCI devices can be assigned with VFIO */
    gboolean spice; /* the emulator has SPICE: its display, agent channel, USB redirection */
    /* host-model: the hypervisor's CPU as a model and features; NULL model: not supported */
    const char *host_model;
    const char *host_model_vendor;         /* NULL: none */
    const char *const *host_model_require; /* NULL-terminated or NULL */
    const char *const *host_model_disable; /* NULL-terminated or NULL */
};

/* The document for CAPS. Returns a new string. */
char *domcaps_format(const struct domcaps *caps);
