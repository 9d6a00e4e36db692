/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* moment (inside core; prefix moment_): what snapshots and checkpoints keep alike, libvirt's
 * "domain moments": one XML file each, <state>/KIND/<domain>/<name>.xml, and ".current" naming
 * the current one, each written atomically. */
#pragma once

#include "core/core.h"

/* <state>/KIND/<domain> ("snapshot", "checkpoint"). New string. */
char *moment_dir(struct domain *dom, const char *kind);
/* The file of moment NAME. New string. */
char *moment_path(struct domain *dom, const char *kind, const char *name);
/* ".current" names CURRENT; NULL removes it. */
gboolean moment_write_current(struct domain *dom, const char *kind, const char *current,
                              GError **error);
gboolean moment_write(struct domain *dom, const char *kind, const char *name, const char *xml,
                      GError **error);
/* Reads every <name>.xml of DOM's KIND with PARSE (a new definition, *RET_NAME its name,
 * which becomes its key in TABLE); a file that does not parse is logged and passed over.
 * Returns the current one's name when TABLE has it (new string), else NULL. */
typedef gpointer (*moment_parse_fn)(const char *xml, const char **ret_name, GError **error);
char *moment_load(struct domain *dom, const char *kind, GHashTable *table, moment_parse_fn parse);
/* Removes the file of every moment in TABLE (keyed by name), empties TABLE, ".current" and
 * the directory. */
gboolean moment_forget_all(struct domain *dom, const char *kind, GHashTable *table, GError **error);
/* Whether PARENT as the parent of NAME makes a loop of TABLE's tree (keyed by name):
 * PARENT is NAME or descends from it. PARENT_OF gives a definition's parent's name. */
typedef const char *(*moment_parent_fn)(gconstpointer def);
gboolean moment_would_cycle(GHashTable *table, const char *name, const char *parent,
                            moment_parent_fn parent_of);
