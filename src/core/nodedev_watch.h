/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodedev_watch: node device events. The kernel's uevents (a NETLINK_KOBJECT_UEVENT socket)
 * say that devices came, went or changed; the node devices are read again from sysfs a moment
 * after a burst and compared with what was there before: a new name is libvirt's CREATED, a
 * missing one DELETED, a changed description an UPDATE. Prefix nodedev_watch_. */
#pragma once

#include <glib.h>

struct core;
struct nodedev_watch;

/* virNodeDeviceEventID, virNodeDeviceEventLifecycleType */
enum { NODEDEV_EVENT_ID_LIFECYCLE = 0, NODEDEV_EVENT_ID_UPDATE = 1 };
enum {
    NODEDEV_EVENT_CREATED,
    NODEDEV_EVENT_DELETED,
    NODEDEV_EVENT_DEFINED,
    NODEDEV_EVENT_UNDEFINED
};

/* Starts watching for CORE (its events bus gets the events). NULL with ERROR when the uevent
 * socket cannot be opened (the caller logs it: the daemon runs on without node device events). */
struct nodedev_watch *nodedev_watch_new(struct core *core, const char *pci_ids, GError **error);
void nodedev_watch_free(struct nodedev_watch *w);
/* Reads the devices again now and emits what changed (a uevent does it too), as long as a
 * client listens (CORE's nodedev_listeners); with none, nothing is read. */
void nodedev_watch_rescan(struct nodedev_watch *w);
/* A client registered for node device events: with none before, the devices are read now, the
 * point changes are reported from. W may be NULL. */
void nodedev_watch_listening(struct nodedev_watch *w);
