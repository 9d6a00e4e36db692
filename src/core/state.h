/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state: libvirt's domain states, reasons and lifecycle events, and the table of allowed state
 * transitions; prefix state_. */
#pragma once

#include <glib.h>

/* virDomainState */
enum dom_state {
    DOM_NOSTATE = 0,
    DOM_RUNNING = 1,
    DOM_BLOCKED = 2,
    DOM_PAUSED = 3,
    DOM_SHUTDOWN = 4,
    DOM_SHUTOFF = 5,
    DOM_CRASHED = 6,
    DOM_PMSUSPENDED = 7,
    DOM_STATE_LAST
};

/* reasons, per state (virDomain*Reason) */
enum {
    REASON_RUNNING_UNKNOWN,
    REASON_RUNNING_BOOTED,
    REASON_RUNNING_MIGRATED,
    REASON_RUNNING_RESTORED,
    REASON_RUNNING_FROM_SNAPSHOT,
    REASON_RUNNING_UNPAUSED,
    REASON_RUNNING_MIGRATION_CANCELED,
    REASON_RUNNING_SAVE_CANCELED,
    REASON_RUNNING_WAKEUP,
    REASON_RUNNING_CRASHED,
    REASON_RUNNING_POSTCOPY,
    REASON_RUNNING_POSTCOPY_FAILED
};
enum {
    REASON_PAUSED_UNKNOWN,
    REASON_PAUSED_USER,
    REASON_PAUSED_MIGRATION,
    REASON_PAUSED_SAVE,
    REASON_PAUSED_DUMP,
    REASON_PAUSED_IOERROR,
    REASON_PAUSED_WATCHDOG,
    REASON_PAUSED_FROM_SNAPSHOT,
    REASON_PAUSED_SHUTTING_DOWN,
    REASON_PAUSED_SNAPSHOT,
    REASON_PAUSED_CRASHED,
    REASON_PAUSED_STARTING_UP,
    REASON_PAUSED_POSTCOPY,
    REASON_PAUSED_POSTCOPY_FAILED
};
enum { REASON_SHUTDOWN_UNKNOWN, REASON_SHUTDOWN_USER };
enum {
    REASON_SHUTOFF_UNKNOWN,
    REASON_SHUTOFF_SHUTDOWN,
    REASON_SHUTOFF_DESTROYED,
    REASON_SHUTOFF_CRASHED,
    REASON_SHUTOFF_MIGRATED,
    REASON_SHUTOFF_SAVED,
    REASON_SHUTOFF_FAILED,
    REASON_SHUTOFF_FROM_SNAPSHOT,
    REASON_SHUTOFF_DAEMON
};
enum { REASON_CRASHED_UNKNOWN, REASON_CRASHED_PANICKED };

/* virDomainEventType and details */
enum dom_event {
    EV_DEFINED = 0,
    EV_UNDEFINED = 1,
    EV_STARTED = 2,
    EV_SUSPENDED = 3,
    EV_RESUMED = 4,
    EV_STOPPED = 5,
    EV_SHUTDOWN = 6,
    EV_PMSUSPENDED = 7,
    EV_CRASHED = 8,
};
enum { EV_DEFINED_ADDED, EV_DEFINED_UPDATED, EV_DEFINED_RENAMED };
enum { EV_UNDEFINED_REMOVED, EV_UNDEFINED_RENAMED };
enum {
    EV_STARTED_BOOTED,
    EV_STARTED_MIGRATED,
    EV_STARTED_RESTORED,
    EV_STARTED_FROM_SNAPSHOT,
    EV_STARTED_WAKEUP
};
enum {
    EV_SUSPENDED_PAUSED,
    EV_SUSPENDED_MIGRATED,
    EV_SUSPENDED_IOERROR,
    EV_SUSPENDED_WATCHDOG,
    EV_SUSPENDED_RESTORED,
    EV_SUSPENDED_FROM_SNAPSHOT,
    EV_SUSPENDED_API_ERROR,
    EV_SUSPENDED_POSTCOPY,
    EV_SUSPENDED_POSTCOPY_FAILED
};
enum {
    EV_RESUMED_UNPAUSED,
    EV_RESUMED_MIGRATED,
    EV_RESUMED_FROM_SNAPSHOT,
    EV_RESUMED_POSTCOPY,
    EV_RESUMED_POSTCOPY_FAILED
};
enum {
    EV_STOPPED_SHUTDOWN,
    EV_STOPPED_DESTROYED,
    EV_STOPPED_CRASHED,
    EV_STOPPED_MIGRATED,
    EV_STOPPED_SAVED,
    EV_STOPPED_FAILED,
    EV_STOPPED_FROM_SNAPSHOT
};
enum { EV_SHUTDOWN_FINISHED, EV_SHUTDOWN_GUEST, EV_SHUTDOWN_HOST };
enum { EV_PMSUSPENDED_MEMORY, EV_PMSUSPENDED_DISK };
enum { EV_CRASHED_PANICKED };

const char *state_to_string(enum dom_state state);
int state_from_string(const char *str);
/* virsh's words for a state and reason ("running", "booted") */
const char *state_reason_to_string(enum dom_state state, int reason);

/* What happens to a domain: the inputs of the lifecycle state machine. */
enum dom_input {
    IN_START,            /* shut off: a QEMU is being set up */
    IN_STARTED,          /* the setup is done and the vCPUs run */
    IN_STARTED_PAUSED,   /* the setup is done; started paused as asked */
    IN_START_FAILED,     /* the setup failed or was cut short: never seen running */
    IN_SUSPENDED,        /* paused by a client */
    IN_RESUMED,          /* resumed by a client */
    IN_PAUSED_BY_QEMU,   /* QEMU stopped the vCPUs on its own (a monitor user) */
    IN_PAUSED_IOERROR,   /* ... for a disk's I/O error (its werror/rerror policy 'stop') */
    IN_RESUMED_BY_QEMU,  /* ... and started them again */
    IN_GUEST_SHUTDOWN,   /* the guest powered off (QEMU stays: -no-shutdown) */
    IN_HOST_SHUTDOWN,    /* QEMU was told to quit or got a signal */
    IN_POWEROFF_KEPT,    /* on_poweroff 'preserve': the powered-off guest stays, paused */
    IN_RESTARTED,        /* on_poweroff/on_reboot/on_crash 'restart': reset and running */
    IN_PANICKED,         /* the guest panicked */
    IN_STOPPED_SHUTDOWN, /* QEMU exited after a shutdown */
    IN_STOPPED_DESTROYED,
    IN_STOPPED_CRASHED,              /* exited after a guest panic (on_crash destroy) */
    IN_STOPPED_FAILED,               /* QEMU died unexpectedly */
    IN_SAVE_PAUSED,                  /* save stopped the vCPUs of a running guest */
    IN_SAVE_CANCELED,                /* ... and the save failed or was aborted: they run again */
    IN_STOPPED_SAVED,                /* QEMU was stopped once its state was saved */
    IN_RESTORED,                     /* restore is done and the vCPUs run */
    IN_RESTORED_PAUSED,              /* restore is done; the image was saved paused */
    IN_RESTORED_HELD,                /* restore is done; kept paused as asked */
    IN_REVERTED_RUNNING,             /* a snapshot's state was loaded; the vCPUs run */
    IN_REVERTED_PAUSED,              /* ... and they stay paused */
    IN_STARTED_FROM_SNAPSHOT,        /* a shut off domain started from a snapshot; running */
    IN_STARTED_FROM_SNAPSHOT_PAUSED, /* ... paused */
    IN_SNAPSHOT_PAUSED,              /* an external snapshot stopped the vCPUs for its memory */
    IN_STOPPED_FROM_SNAPSHOT,        /* QEMU stopped for a revert (or a snapshot with halt) */
    IN_MIGRATION_IN_STARTED,         /* destination: QEMU waits for the incoming state */
    IN_MIGRATED,                     /* ... has it, and the vCPUs run */
    IN_MIGRATED_PAUSED,              /* ... has it, and stays paused as asked */
    IN_MIGRATION_IN_FAILED,          /* ... never got it: QEMU stopped */
    IN_MIGRATION_PAUSED,             /* source: the vCPUs stopped for the migration */
    IN_MIGRATION_CANCELED,           /* ... and run again: the migration failed */
    IN_STOPPED_MIGRATED,             /* ... QEMU stopped: the guest runs on the destination */
    IN_POSTCOPY_SOURCE,              /* source: post-copy began, the guest runs there now */
    IN_MIGRATED_POSTCOPY,            /* destination: it runs here while its memory comes */
    IN_POSTCOPY_FAILED,              /* either: post-copy broke, the guest's memory is split */
    IN_POSTCOPY_DONE,                /* destination: all of its memory is here */
    IN_PM_SUSPENDED,                 /* the guest suspended itself to RAM (ACPI S3) */
    IN_PM_SUSPENDED_DISK,            /* ... to disk (S4): it powers off next */
    IN_PM_WOKEN,                     /* ... and woke up from S3 */
    IN_DUMP_PAUSED,                  /* a core dump stopped the vCPUs */
    IN_DUMP_RESUMED,                 /* ... and they run again after it */
    IN_LAST
};

/* One row of the transition table: from any state in FROM (a bit per state), INPUT leads to
 * TO with REASON, and these lifecycle events go out, in order (event < 0: none). */
struct state_transition {
    guint from;
    enum dom_input input;
    enum dom_state to;
    int reason;
    int event[2];
    int detail[2];
};

#define STATE_BIT(s) (1u << (s))

/* The row for INPUT in state FROM, or NULL: the transition is illegal. */
const struct state_transition *state_transition(enum dom_state from, enum dom_input input);
const char *state_input_to_string(enum dom_input input);
/* The whole table (for tests). */
const struct state_transition *state_transitions(gsize *ret_count);

static inline gboolean
state_is_active(enum dom_state s)
{
    return s != DOM_SHUTOFF && s != DOM_NOSTATE;
}
