/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* firewall: a network's forwarding and NAT rules in nftables (libnftables), each network in a
 * table of its own (inet domus_BRIDGE) that is added whole at network start and deleted whole
 * at stop, so nothing else in the host's ruleset is touched; and IP forwarding. Prefix
 * firewall_. */
#pragma once

#include <glib.h>

#include "conf/network_def.h"

/* The table's name for DEF ("domus_virbr0"). Returns a new string. */
char *firewall_table(const struct network_def *def);
/* The ruleset text for DEF (pure): empty for modes without rules (open, bridge). Returns a
 * new string. */
char *firewall_rules(const struct network_def *def);
/* Replaces DEF's table by its current rules (nothing for modes without rules), in one
 * transaction. Errors: ERR_SYSTEM_ERROR with what nftables said. */
gboolean firewall_apply(const struct network_def *def, GError **error);
/* Deletes DEF's table if it exists. */
gboolean firewall_remove(const struct network_def *def, GError **error);
/* Turns on forwarding for FAMILY (AF_INET, AF_INET6) in this network namespace. */
gboolean firewall_enable_forwarding(int family, GError **error);
