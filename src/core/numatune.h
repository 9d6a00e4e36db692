/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numatune (core-private): a domain's memory on the host's NUMA nodes (numatune.c). */
#pragma once

#include "core/qos.h"
#include "qemu/process.h"

/* At start, before anything is made: DEF's nodes are the host's, a preferred binding names one
 * node, a restrictive one has the cpuset controller. ERR_INVALID_ARG (a node the host lacks),
 * ERR_CONFIG_UNSUPPORTED, ERR_OPERATION_INVALID. */
gboolean core_numatune_check(struct core *core, const struct domain_def *def, GError **error);
/* The memory policy QEMU must start under for DEF (interleave, preferred, or strict without
 * a cpuset controller): TRUE with *RET set, FALSE for none. */
gboolean core_numatune_policy(struct core *core, const struct domain_def *def,
                              struct qemu_mempolicy *ret);
/* The binding of DOM's memory on its group PATH (strict, restrictive: cpuset.mems). */
gboolean core_numatune_apply(struct domain *dom, const char *path, GError **error);
