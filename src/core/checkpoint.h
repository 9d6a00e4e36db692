/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint (inside core; prefix checkpoint_): what checkpoint.c and backup.c share. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/checkpoint_def.h"
#include "core/core.h"

/* The disk a checkpoint or backup names NAME: its target, or its image's path; NULL. */
struct disk_def *checkpoint_find_disk(struct domain *dom, const char *name);
/* Whether disk D takes part by default: writable, with an image, not a CD-ROM. */
gboolean checkpoint_disk_takes_part(const struct disk_def *d);
/* A new checkpoint DEF (parsed) for DOM: named, its disks aligned, with its parent (the
 * current one) and the domain as it is. Errors as libvirt's (name taken, snapshots, disks). */
gboolean checkpoint_prepare_new(struct domain *dom, struct checkpoint_def *def, GError **error);
/* DEF (taken, also on failure) is made: kept and the current one. */
gboolean checkpoint_keep_new(struct domain *dom, struct checkpoint_def *def, GError **error);
/* The record of new checkpoint DEF, written before its bitmaps are added and cleared once it
 * is kept or undone: a daemon that dies meanwhile finds it (core_checkpoint_recover). */
gboolean checkpoint_pending_write(struct domain *dom, const struct checkpoint_def *def,
                                  GError **error);
void checkpoint_pending_clear(struct domain *dom);
/* The bitmaps of the recorded checkpoint of DOM that were added go again, and the record;
 * WHY (static) says what happened, for the log. */
void checkpoint_pending_undo(struct domain *dom, const char *why);
/* A QMP transaction action {type, data} (DATA taken). */
JsonObject *checkpoint_action(const char *type, JsonObject *data);
/* The actions that add DEF's bitmaps (persistent, recording) to ACTIONS. */
void checkpoint_add_bitmap_actions(JsonArray *actions, struct domain *dom,
                                   const struct checkpoint_def *def);
