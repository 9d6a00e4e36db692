/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pin (core-private): what start and the vCPU changes need of pin.c. */
#pragma once

#include <json-glib/json-glib.h>

#include "core/core.h"

/* Whether DEF pins anything beyond <vcpu cpuset> (which QEMU is spawned with). */
gboolean core_pin_any(const struct domain_def *def);
/* Keeps query-cpus-fast's answer as DOM's vCPU threads (dom->vcpu_tids, by vCPU number). */
void core_vcpu_threads_learn(struct domain *dom, JsonNode *cpus);
/* Asks QEMU for its vCPU threads and learns them; DONE hears how that went (ERROR borrowed). */
void core_pin_learn_threads(struct domain *dom,
                            void (*done)(struct domain *dom, GError *error, gpointer data),
                            gpointer data);
/* Pins thread TID of DOM's QEMU (checked to be one) to SET; WHAT names it in errors. */
gboolean core_pin_thread(struct domain *dom, int tid, const struct cpuset *set, const char *what,
                         GError **error);
/* Which IOThread thread TID is (0: none), and the thread of IOThread ID (-1: none). */
unsigned core_pin_iothread_of(const struct domain *dom, int tid);
int core_pin_iothread_tid(const struct domain *dom, unsigned id);
/* Sets every known thread of DOM's QEMU where its live definition pins it. */
gboolean core_pin_apply(struct domain *dom, GError **error);
