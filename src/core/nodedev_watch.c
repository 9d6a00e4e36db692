/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodedev_watch: uevents in, node device events out. The uevent's own text is only a hint
 * (its subsystem): what a device is called and how it is described comes from the same sysfs
 * reading nodedev-list uses, so an event always names a device nodedev-dumpxml can show (or
 * could, just before it went). */
#include "core/nodedev_watch.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <linux/netlink.h>

#include "conf/nodedev.h"
#include "conf/nodeinfo.h"
#include "core/core.h"
#include "core/events.h"
#include "util/err.h"
#include "util/log.h"

#define SETTLE_MS 200 /* a device's uevents come in bursts: read sysfs once after them */
#define UEVENT_MAX 8192

struct nodedev_watch {
    struct core *core;
    char *pci_ids;
    int fd;
    guint watch;
    guint settle;
    GHashTable *known; /* name -> its XML; NULL while nobody listens (read again when a
                        * client registers: what changed before that is owed to nobody) */
};

static GHashTable *
snapshot(struct nodedev_watch *w)
{
    g_autoptr(GPtrArray) devs =
        nodedev_enumerate(w->core->paths.sysfs_root, w->core->host_uuid, w->pci_ids);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < devs->len; i++) {
        struct nodedev *d = devs->pdata[i];
        g_hash_table_insert(t, g_strdup(d->name), g_strdup(d->xml));
    }
    return t;
}

static void
emit(struct nodedev_watch *w, const char *name, int kind, int event)
{
    struct event ev = {
        .object = EVENT_OBJECT_NODEDEV,
        .kind = kind,
        .name = (char *)name,
        .id = -1,
        .event = event,
    };
    events_emit(w->core->events, &ev);
}

void
nodedev_watch_rescan(struct nodedev_watch *w)
{
    if (!w->known) {
        /* nobody listened: this reading is where changes count from */
        if (w->core->nodedev_listeners)
            w->known = snapshot(w);
        return;
    }
    if (!w->core->nodedev_listeners) {
        g_clear_pointer(&w->known, g_hash_table_destroy);
        return;
    }
    GHashTable *now = snapshot(w);
    log_debug("node devices read again: %u", g_hash_table_size(now));
    /* gone first, then new and changed, each in name order */
    g_autoptr(GList) before = g_list_sort(g_hash_table_get_keys(w->known), (GCompareFunc)strcmp);
    for (GList *l = before; l; l = l->next)
        if (!g_hash_table_contains(now, l->data))
            emit(w, l->data, NODEDEV_EVENT_ID_LIFECYCLE, NODEDEV_EVENT_DELETED);
    g_autoptr(GList) after = g_list_sort(g_hash_table_get_keys(now), (GCompareFunc)strcmp);
    for (GList *l = after; l; l = l->next) {
        const char *old = g_hash_table_lookup(w->known, l->data);
        if (!old)
            emit(w, l->data, NODEDEV_EVENT_ID_LIFECYCLE, NODEDEV_EVENT_CREATED);
        else if (!g_str_equal(old, g_hash_table_lookup(now, l->data)))
            emit(w, l->data, NODEDEV_EVENT_ID_UPDATE, 0);
    }
    g_hash_table_destroy(w->known);
    w->known = now;
}

void
nodedev_watch_listening(struct nodedev_watch *w)
{
    if (w && !w->known)
        w->known = snapshot(w);
}

static gboolean
on_settled(gpointer user)
{
    struct nodedev_watch *w = user;
    w->settle = 0;
    nodedev_watch_rescan(w);
    return G_SOURCE_REMOVE;
}

/* "ACTION@DEVPATH\0KEY=VALUE\0…" from the kernel (udev's own messages, which start with
 * "libudev", are not ours: we do not listen to their group) */
static gboolean
interesting(const char *msg, gsize len)
{
    for (gsize off = 0; off < len; off += strlen(msg + off) + 1) {
        const char *kv = msg + off;
        if (g_str_has_prefix(kv, "SUBSYSTEM="))
            return g_str_equal(kv + 10, "net") || g_str_equal(kv + 10, "block") ||
                   g_str_equal(kv + 10, "pci");
    }
    return FALSE;
}

static gboolean
on_uevent(int fd, GIOCondition cond, gpointer user)
{
    struct nodedev_watch *w = user;
    char buf[UEVENT_MAX + 1];
    for (;;) {
        struct sockaddr_nl from;
        struct iovec iov = {buf, UEVENT_MAX};
        struct msghdr mh = {
            .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS) {
            /* the kernel dropped some: read everything again */
            if (!w->settle)
                w->settle = g_timeout_add(SETTLE_MS, on_settled, w);
            continue;
        }
        if (n <= 0)
            break;
        /* only the kernel (port 0) speaks for devices; anyone else may send to the group */
        if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
            continue;
        buf[n] = '\0';
        if (interesting(buf, (gsize)n) && !w->settle)
            w->settle = g_timeout_add(SETTLE_MS, on_settled, w);
    }
    return G_SOURCE_CONTINUE;
}

struct nodedev_watch *
nodedev_watch_new(struct core *core, const char *pci_ids, GError **error)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1};
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        err_set_errno(error, ERR_FROM_NODEDEV, errno, "cannot listen to the kernel's uevents");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    struct nodedev_watch *w = g_new0(struct nodedev_watch, 1);
    w->core = core;
    w->pci_ids = g_strdup(pci_ids);
    w->fd = fd;
    w->watch = g_unix_fd_add(fd, G_IO_IN, on_uevent, w);
    return w;
}

void
nodedev_watch_free(struct nodedev_watch *w)
{
    if (!w)
        return;
    if (w->watch)
        g_source_remove(w->watch);
    if (w->settle)
        g_source_remove(w->settle);
    close(w->fd);
    if (w->known)
        g_hash_table_destroy(w->known);
    g_free(w->pci_ids);
    g_free(w);
}
