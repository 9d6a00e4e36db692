/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events: the in-process bus every domain state change is published on; prefix events_. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "util/uuid.h"

/* virDomainEventID values of the events we raise */
enum {
    EVENT_ID_LIFECYCLE = 0,
    EVENT_ID_REBOOT = 1,
    EVENT_ID_RTC_CHANGE = 2,
    EVENT_ID_IO_ERROR = 4,
    EVENT_ID_IO_ERROR_REASON = 6,
    EVENT_ID_BLOCK_JOB = 8,
    EVENT_ID_TRAY_CHANGE = 10,
    EVENT_ID_PMWAKEUP = 11,
    EVENT_ID_PMSUSPEND = 12,
    EVENT_ID_BALLOON_CHANGE = 13,
    EVENT_ID_PMSUSPEND_DISK = 14,
    EVENT_ID_DEVICE_REMOVED = 15,
    EVENT_ID_BLOCK_JOB_2 = 16,
    EVENT_ID_TUNABLE = 17,
    EVENT_ID_AGENT_LIFECYCLE = 18,
    EVENT_ID_DEVICE_ADDED = 19,
    EVENT_ID_MIGRATION_ITERATION = 20,
    EVENT_ID_JOB_COMPLETED = 21,
    EVENT_ID_DEVICE_REMOVAL_FAILED = 22,
    EVENT_ID_METADATA_CHANGE = 23,
    EVENT_ID_BLOCK_THRESHOLD = 24,
    EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE = 26,
};
/* what an event is about: libvirt has one event ID space per object kind */
enum event_object {
    EVENT_OBJECT_DOMAIN = 0,
    EVENT_OBJECT_NETWORK = 1,
    EVENT_OBJECT_POOL = 2,
    EVENT_OBJECT_SECRET = 3,
    EVENT_OBJECT_NODEDEV = 4,
    EVENT_OBJECT_QEMU_MONITOR = 5, /* a QMP event of a domain's QEMU, as QEMU sent it */
};
/* virSecretEventID, virSecretEventLifecycleType */
enum { SECRET_EVENT_ID_LIFECYCLE = 0, SECRET_EVENT_ID_VALUE_CHANGED = 1 };
enum { SECRET_EVENT_DEFINED, SECRET_EVENT_UNDEFINED };
/* virStoragePoolEventID, virStoragePoolEventLifecycleType */
enum { POOL_EVENT_ID_LIFECYCLE = 0, POOL_EVENT_ID_REFRESH = 1 };
enum {
    POOL_EVENT_DEFINED,
    POOL_EVENT_UNDEFINED,
    POOL_EVENT_STARTED,
    POOL_EVENT_STOPPED,
    POOL_EVENT_CREATED,
    POOL_EVENT_DELETED,
};

struct event {
    enum event_object object;
    int kind; /* EVENT_ID_* for domains; 0 (lifecycle) for networks; POOL_EVENT_ID_* */
    char *name;
    uint8_t uuid[UUID_LEN];
    int id;    /* domain id at the time of the event, -1 when inactive */
    int event; /* enum dom_event for lifecycle */
    int detail;
    /* the device of DEVICE_ADDED, DEVICE_REMOVED, DEVICE_REMOVAL_FAILED and TRAY_CHANGE
     * (whose DETAIL is 0 opened, 1 closed); AGENT_LIFECYCLE's EVENT is its state (1
     * connected, 2 disconnected), DETAIL its reason */
    const char *alias;       /* the device of DEVICE_ADDED and DEVICE_REMOVED; the disk of
                              * BLOCK_JOB (its image) and BLOCK_JOB_2 (its target), whose
                              * EVENT is the job's type and DETAIL its status */
    const GPtrArray *params; /* TUNABLE, JOB_COMPLETED: struct typed_param * (core/guest.h) */
    int metadata_type;       /* METADATA_CHANGE: virDomainMetadataType */
    int iteration;           /* MIGRATION_ITERATION: QEMU's pass over the guest's memory */
    const char *nsuri;       /* METADATA_CHANGE: the element's namespace, or NULL */
    /* IO_ERROR(_REASON): the disk's image (ALIAS is the disk's), virDomainEventIOErrorAction
     * (DETAIL), and libvirt's reason ("enospc" or "") */
    const char *src_path;
    const char *reason;
    gint64 number;  /* RTC_CHANGE: the guest's clock offset (s); BALLOON_CHANGE: its KiB;
                     * MEMORY_DEVICE_SIZE_CHANGE: what the guest has of device ALIAS, KiB;
                     * BLOCK_THRESHOLD: the threshold (ALIAS the image, "vda" or "vda[N]",
                     * SRC_PATH its path) */
    guint64 excess; /* BLOCK_THRESHOLD: how far past it the write went */
    int usage_type; /* secrets: virSecretUsageType (NAME is the usage id) */
                    /* node devices: NAME is the device's name */
    /* QEMU monitor events: QEMU's event name, its "data" as compact JSON (NULL: none), and
     * QEMU's timestamp */
    const char *qemu_event;
    const char *details;
    gint64 seconds;
    guint micros;
};

typedef void (*events_fn)(const struct event *ev, gpointer user);

struct events;

struct events *events_new(void);
void events_free(struct events *bus);
/* Returns a subscription id (> 0). */
guint events_subscribe(struct events *bus, events_fn fn, gpointer user);
void events_unsubscribe(struct events *bus, guint sub);
/* Delivers synchronously to every subscriber, in subscription order. */
void events_emit(struct events *bus, const struct event *ev);
