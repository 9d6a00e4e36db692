/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon: process-wide services: the QEMU capabilities cache of the default emulator. */
#include "daemon/daemon.h"

#include "conf/capabilities.h"

static struct qemu_caps_cache *caps_cache;
static char *caps_binary;

void
daemon_caps_init(const char *cache_dir, const char *binary)
{
    caps_cache = qemu_caps_cache_new(cache_dir);
    caps_binary = g_strdup(binary);
}

void
daemon_caps_free(void)
{
    g_clear_pointer(&caps_cache, qemu_caps_cache_free);
    g_clear_pointer(&caps_binary, g_free);
}

struct qemu_caps *
daemon_qemu_caps(GError **error)
{
    return qemu_caps_cache_get(caps_cache, caps_binary, error);
}

char *
daemon_capabilities_xml(GError **error)
{
    g_autoptr(capabilities) caps = qemu_caps_build_capabilities(caps_cache, NULL, error);
    if (!caps)
        return NULL;
    return capabilities_format(caps, error);
}
