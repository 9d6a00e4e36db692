/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpuset: libvirt's CPU list syntax ("1-4,^3,6"): parse, canonical text, the kernel's mask;
 * prefix cpuset_. */
#pragma once

#include <glib.h>
#include <sched.h>

#define CPUSET_MAX 4096 /* libvirt's VIR_DOMAIN_CPUMASK_LEN */

struct cpuset {
    guint8 bits[CPUSET_MAX / 8];
};

/* Parses TEXT: comma-separated CPUs and ranges, "^N" removing one. An empty result, a CPU
 * at or past CPUSET_MAX or a malformed item is ERR_INVALID_ARG naming it. */
gboolean cpuset_parse(const char *text, struct cpuset *ret, GError **error);
/* libvirt's canonical text ("1-2,4,6"): a new string. */
char *cpuset_format(const struct cpuset *set);
gboolean cpuset_has(const struct cpuset *set, guint cpu);
/* The part of SET the kernel's cpu_set_t can name; FALSE when that part is empty. */
gboolean cpuset_to_cpu_set(const struct cpuset *set, cpu_set_t *ret);
