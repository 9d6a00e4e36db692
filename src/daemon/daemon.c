/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon: process-wide services: the QEMU capabilities of the default emulator. Probing runs
 * QEMU (a tenth of a second or more): it happens in a worker thread, started when the daemon
 * starts, and a call that needs capabilities the memory cache does not hold yet waits for it
 * without blocking the main loop. The cache is keyed by the binary's path, mtime and size: a
 * QEMU upgrade is probed again. */
#include "daemon/daemon.h"

#include <gio/gio.h>

#include "conf/capabilities.h"
#include "util/log.h"

static struct qemu_caps_cache *caps_cache;
static char *caps_binary;
static char *caps_host_uuid;
static guint caps_busy; /* workers under way: the cache stays until they are done */

struct caps_request {
    daemon_caps_fn done;
    gpointer data;
    gboolean xml; /* the host <capabilities> are wanted, not the emulator's */
};

static void
caps_in_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
    struct caps_request *req = task_data;
    GError *error = NULL;
    if (req->xml) {
        g_autoptr(capabilities) caps =
            qemu_caps_build_capabilities(caps_cache, caps_host_uuid, &error);
        char *xml = caps ? capabilities_format(caps, &error) : NULL;
        if (xml)
            g_task_return_pointer(task, xml, g_free);
        else
            g_task_return_error(task, error);
        return;
    }
    struct qemu_caps *caps = qemu_caps_cache_get(caps_cache, caps_binary, &error);
    if (caps)
        g_task_return_pointer(task, caps, (GDestroyNotify)qemu_caps_unref);
    else
        g_task_return_error(task, error);
}

static void
caps_done(GObject *source, GAsyncResult *res, gpointer data)
{
    struct caps_request *req = g_task_get_task_data(G_TASK(res));
    caps_busy--;
    GError *error = NULL;
    gpointer value = g_task_propagate_pointer(G_TASK(res), &error);
    if (req->done) {
        req->done(value, error, req->data);
    } else {
        if (error)
            log_warn("probing '%s': %s", caps_binary, error->message);
        if (value && !req->xml)
            qemu_caps_unref(value);
        else
            g_free(value);
    }
    g_clear_error(&error);
}

static void
caps_request(gboolean xml, daemon_caps_fn done, gpointer data)
{
    struct caps_request *req = g_new0(struct caps_request, 1);
    req->done = done;
    req->data = data;
    req->xml = xml;
    GTask *task = g_task_new(NULL, NULL, caps_done, NULL);
    g_task_set_task_data(task, req, g_free);
    caps_busy++;
    g_task_run_in_thread(task, caps_in_thread);
    g_object_unref(task);
}

void
daemon_caps_init(const char *cache_dir, const char *binary, const char *host_uuid)
{
    caps_host_uuid = g_strdup(host_uuid);
    caps_cache = qemu_caps_cache_new(cache_dir);
    caps_binary = g_strdup(binary);
    /* warm the cache now: the first client need not wait for QEMU */
    caps_request(FALSE, NULL, NULL);
}

void
daemon_caps_free(void)
{
    /* a probe still running uses the cache: it ends within its timeout */
    while (caps_busy > 0)
        g_main_context_iteration(NULL, TRUE);
    g_clear_pointer(&caps_cache, qemu_caps_cache_free);
    g_clear_pointer(&caps_binary, g_free);
    g_clear_pointer(&caps_host_uuid, g_free);
}

void
daemon_qemu_caps(daemon_caps_fn done, gpointer data)
{
    struct qemu_caps *caps = qemu_caps_cache_peek(caps_cache, caps_binary);
    if (caps) {
        done(caps, NULL, data);
        return;
    }
    caps_request(FALSE, done, data);
}

struct qemu_caps_cache *
daemon_caps_cache(void)
{
    return caps_cache;
}

void
daemon_capabilities_xml(daemon_caps_fn done, gpointer data)
{
    caps_request(TRUE, done, data);
}
