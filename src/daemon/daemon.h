/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon: process-wide services of domusd (the QEMU capabilities cache); prefix daemon_. */
#pragma once

#include <glib.h>

#include "qemu/caps.h"

/* Sets up the capabilities cache (CACHE_DIR) for the default emulator BINARY. */
void daemon_caps_init(const char *cache_dir, const char *binary);
void daemon_caps_free(void);
/* Capabilities of the default emulator (cached by path and mtime). New reference. */
struct qemu_caps *daemon_qemu_caps(GError **error);
/* The host capabilities XML. New string. */
char *daemon_capabilities_xml(GError **error);
