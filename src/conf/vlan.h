/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vlan: <vlan trunk='yes'><tag id='N' nativeMode='tagged|untagged'/>…</vlan>, shared by domain
 * interfaces, networks and their portgroups, as libvirt's netdev_vlan_conf reads and writes
 * it; prefix vlan_def_. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#define VLAN_TAG_MAX 4095

enum vlan_native { VLAN_NATIVE_NONE, VLAN_NATIVE_TAGGED, VLAN_NATIVE_UNTAGGED };

struct vlan_def {
    guint ntags; /* 0: no <vlan> */
    guint *tags;
    gboolean trunk;
    enum vlan_native native_mode;
    guint native_tag;
};

/* Parses NODE into *RET (cleared first), with libvirt's rules and messages: at least one tag,
 * ids up to 4095, one native tag at most, trunk='yes' for several tags, trunk='no' without
 * a native tag. Errors (origin ORIGIN): ERR_XML_ERROR, ERR_CONFIG_UNSUPPORTED for an unknown
 * attribute or element. */
gboolean vlan_def_parse(int origin, xmlNodePtr node, struct vlan_def *ret, GError **error);
/* Appends <vlan> at LEVEL (two spaces each); nothing when VLAN has no tags. */
void vlan_def_format(GString *buf, int level, const struct vlan_def *vlan);
void vlan_def_clear(struct vlan_def *vlan);
void vlan_def_copy(struct vlan_def *dst, const struct vlan_def *src);
gboolean vlan_def_equal(const struct vlan_def *a, const struct vlan_def *b);
