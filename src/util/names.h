/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names: validation of object names that become file names; prefix names_. */
#pragma once

#include <glib.h>

#define NAMES_MAX_LEN 200

enum names_kind {
    NAMES_DOMAIN,  /* libvirt's rule: anything but a newline; and no '/' (a file name) */
    NAMES_POOL,    /* libvirt's rule: no '/' */
    NAMES_VOLUME,  /* a file of a directory pool: no '/', no leading '.' (not listed) */
    NAMES_NETWORK, /* no '/', and no control character: the name is in dnsmasq's files, whose
                    * lines it must not break */
};

/* Checks NAME as libvirt checks names of KIND, plus what a file name needs: 1..NAMES_MAX_LEN
 * bytes, not "." or "..". WHAT names the object kind in the message ("domain"). Errors:
 * ERR_XML_DETAIL "invalid char in name" for a newline or '/', as libvirt words it;
 * ERR_INVALID_ARG for the rest; origin ORIGIN. */
gboolean names_validate(const char *name, enum names_kind kind, const char *what, int origin,
                        GError **error);
