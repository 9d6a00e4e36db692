/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state: the transition table is the single authority on which state changes may happen. */
#include "core/state.h"

static const char *const state_names[] = {
    "nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
};

const char *
state_to_string(enum dom_state state)
{
    return state < DOM_STATE_LAST ? state_names[state] : "unknown";
}

int
state_from_string(const char *str)
{
    for (int i = 0; i < DOM_STATE_LAST; i++)
        if (g_str_equal(str, state_names[i]))
            return i;
    return -1;
}

static const char *const running_reasons[] = {
    "unknown",       "booted",   "migrated",           "restored",
    "from snapshot", "unpaused", "migration canceled", "save canceled",
    "event wakeup",  "crashed",  "post-copy",          "post-copy failed"};
static const char *const paused_reasons[] = {
    "unknown",   "user",        "migrating",     "saving",          "dumping",
    "I/O error", "watchdog",    "from snapshot", "shutting down",   "creating snapshot",
    "crashed",   "starting up", "post-copy",     "post-copy failed"};
static const char *const shutdown_reasons[] = {"unknown", "user"};
static const char *const shutoff_reasons[] = {"unknown", "shutdown",      "destroyed",
                                              "crashed", "migrated",      "saved",
                                              "failed",  "from snapshot", "daemon"};
static const char *const crashed_reasons[] = {"unknown", "panicked"};

const char *
state_reason_to_string(enum dom_state state, int reason)
{
#define PICK(table)                                                                                \
    return reason >= 0 && reason < (int)G_N_ELEMENTS(table) ? table[reason] : "unknown"
    switch (state) {
    case DOM_RUNNING:
        PICK(running_reasons);
    case DOM_PAUSED:
        PICK(paused_reasons);
    case DOM_SHUTDOWN:
        PICK(shutdown_reasons);
    case DOM_SHUTOFF:
        PICK(shutoff_reasons);
    case DOM_CRASHED:
        PICK(crashed_reasons);
    default:
        return "unknown";
    }
#undef PICK
}

/* The lifecycle, as libvirt's QEMU driver lives it. A STOPPED event only ever follows a
 * STARTED one: a start that never completed ends without events. libvirt announces a start
 * with RESUMED then STARTED (wire-logs/44-event-loop-lifecycle.log). */
#define ACTIVE                                                                                     \
    (STATE_BIT(DOM_RUNNING) | STATE_BIT(DOM_PAUSED) | STATE_BIT(DOM_SHUTDOWN) |                    \
     STATE_BIT(DOM_CRASHED) | STATE_BIT(DOM_PMSUSPENDED) | STATE_BIT(DOM_BLOCKED))
#define NO_EVENT                                                                                   \
    {-1, -1},                                                                                      \
    {                                                                                              \
        0, 0                                                                                       \
    }

/* One row per transition reads better than one field per line. */
/* clang-format off */
static const struct state_transition table[] = {
    /* from, input, to, reason, events, details */
    {STATE_BIT(DOM_SHUTOFF), IN_START, DOM_PAUSED, REASON_PAUSED_STARTING_UP, NO_EVENT},
    {STATE_BIT(DOM_PAUSED), IN_STARTED, DOM_RUNNING, REASON_RUNNING_BOOTED,
     {EV_RESUMED, EV_STARTED}, {EV_RESUMED_UNPAUSED, EV_STARTED_BOOTED}},
    {STATE_BIT(DOM_PAUSED), IN_STARTED_PAUSED, DOM_PAUSED, REASON_PAUSED_USER,
     {EV_STARTED, EV_SUSPENDED}, {EV_STARTED_BOOTED, EV_SUSPENDED_PAUSED}},
    {STATE_BIT(DOM_PAUSED), IN_START_FAILED, DOM_SHUTOFF, REASON_SHUTOFF_FAILED, NO_EVENT},
    {STATE_BIT(DOM_RUNNING), IN_SUSPENDED, DOM_PAUSED, REASON_PAUSED_USER,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {STATE_BIT(DOM_PAUSED) | STATE_BIT(DOM_CRASHED), IN_RESUMED, DOM_RUNNING,
     REASON_RUNNING_UNPAUSED, {EV_RESUMED, -1}, {EV_RESUMED_UNPAUSED, 0}},
    {STATE_BIT(DOM_RUNNING), IN_PAUSED_BY_QEMU, DOM_PAUSED, REASON_PAUSED_UNKNOWN,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {STATE_BIT(DOM_RUNNING), IN_PAUSED_IOERROR, DOM_PAUSED, REASON_PAUSED_IOERROR,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_IOERROR, 0}},
    {STATE_BIT(DOM_PAUSED), IN_RESUMED_BY_QEMU, DOM_RUNNING, REASON_RUNNING_UNPAUSED,
     {EV_RESUMED, -1}, {EV_RESUMED_UNPAUSED, 0}},
    {STATE_BIT(DOM_RUNNING) | STATE_BIT(DOM_PAUSED) | STATE_BIT(DOM_CRASHED) |
     STATE_BIT(DOM_PMSUSPENDED), IN_GUEST_SHUTDOWN, DOM_SHUTDOWN, REASON_SHUTDOWN_USER,
     {EV_SHUTDOWN, -1}, {EV_SHUTDOWN_GUEST, 0}},
    {STATE_BIT(DOM_RUNNING) | STATE_BIT(DOM_PAUSED) | STATE_BIT(DOM_CRASHED) |
     STATE_BIT(DOM_PMSUSPENDED), IN_HOST_SHUTDOWN, DOM_SHUTDOWN, REASON_SHUTDOWN_USER,
     {EV_SHUTDOWN, -1}, {EV_SHUTDOWN_HOST, 0}},
    {STATE_BIT(DOM_SHUTDOWN), IN_POWEROFF_KEPT, DOM_PAUSED, REASON_PAUSED_SHUTTING_DOWN,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {STATE_BIT(DOM_SHUTDOWN) | STATE_BIT(DOM_CRASHED) | STATE_BIT(DOM_PAUSED) |
     STATE_BIT(DOM_RUNNING), IN_RESTARTED, DOM_RUNNING, REASON_RUNNING_BOOTED, NO_EVENT},
    {STATE_BIT(DOM_RUNNING) | STATE_BIT(DOM_PAUSED) | STATE_BIT(DOM_SHUTDOWN), IN_PANICKED,
     DOM_CRASHED, REASON_CRASHED_PANICKED, {EV_CRASHED, -1}, {EV_CRASHED_PANICKED, 0}},
    {ACTIVE, IN_STOPPED_SHUTDOWN, DOM_SHUTOFF, REASON_SHUTOFF_SHUTDOWN,
     {EV_STOPPED, -1}, {EV_STOPPED_SHUTDOWN, 0}},
    {ACTIVE, IN_STOPPED_DESTROYED, DOM_SHUTOFF, REASON_SHUTOFF_DESTROYED,
     {EV_STOPPED, -1}, {EV_STOPPED_DESTROYED, 0}},
    {ACTIVE, IN_STOPPED_CRASHED, DOM_SHUTOFF, REASON_SHUTOFF_CRASHED,
     {EV_STOPPED, -1}, {EV_STOPPED_CRASHED, 0}},
    {ACTIVE, IN_STOPPED_FAILED, DOM_SHUTOFF, REASON_SHUTOFF_CRASHED,
     {EV_STOPPED, -1}, {EV_STOPPED_FAILED, 0}},
    /* save: libvirt pauses a running guest with reason "saving" (the event says paused), and
     * resumes it with "save canceled" when the save fails */
    {STATE_BIT(DOM_RUNNING), IN_SAVE_PAUSED, DOM_PAUSED, REASON_PAUSED_SAVE,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {STATE_BIT(DOM_PAUSED), IN_SAVE_CANCELED, DOM_RUNNING, REASON_RUNNING_SAVE_CANCELED,
     {EV_RESUMED, -1}, {EV_RESUMED_UNPAUSED, 0}},
    {ACTIVE, IN_STOPPED_SAVED, DOM_SHUTOFF, REASON_SHUTOFF_SAVED,
     {EV_STOPPED, -1}, {EV_STOPPED_SAVED, 0}},
    /* restore: STARTED (restored) once QEMU has the state, then the vCPUs start (libvirt 9.0
     * words that RESUMED from-snapshot) or stay paused */
    {STATE_BIT(DOM_PAUSED), IN_RESTORED, DOM_RUNNING, REASON_RUNNING_RESTORED,
     {EV_STARTED, EV_RESUMED}, {EV_STARTED_RESTORED, EV_RESUMED_FROM_SNAPSHOT}},
    {STATE_BIT(DOM_PAUSED), IN_RESTORED_PAUSED, DOM_PAUSED, REASON_PAUSED_USER,
     {EV_STARTED, EV_SUSPENDED}, {EV_STARTED_RESTORED, EV_SUSPENDED_RESTORED}},
    {STATE_BIT(DOM_PAUSED), IN_RESTORED_HELD, DOM_PAUSED, REASON_PAUSED_USER,
     {EV_STARTED, EV_SUSPENDED}, {EV_STARTED_RESTORED, EV_SUSPENDED_PAUSED}},
    /* revert to a snapshot with memory: libvirt pauses a running guest (suspended, from
     * snapshot), loads, then runs it (resumed, from snapshot) or leaves it paused */
    {STATE_BIT(DOM_RUNNING), IN_REVERTED_RUNNING, DOM_RUNNING, REASON_RUNNING_FROM_SNAPSHOT,
     {EV_SUSPENDED, EV_RESUMED}, {EV_SUSPENDED_FROM_SNAPSHOT, EV_RESUMED_FROM_SNAPSHOT}},
    {STATE_BIT(DOM_PAUSED), IN_REVERTED_RUNNING, DOM_RUNNING, REASON_RUNNING_FROM_SNAPSHOT,
     {EV_RESUMED, -1}, {EV_RESUMED_FROM_SNAPSHOT, 0}},
    {STATE_BIT(DOM_RUNNING), IN_REVERTED_PAUSED, DOM_PAUSED, REASON_PAUSED_FROM_SNAPSHOT,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_FROM_SNAPSHOT, 0}},
    {STATE_BIT(DOM_PAUSED), IN_REVERTED_PAUSED, DOM_PAUSED, REASON_PAUSED_FROM_SNAPSHOT,
     NO_EVENT},
    /* a shut off domain reverted to a snapshot with memory starts from it */
    {STATE_BIT(DOM_PAUSED), IN_STARTED_FROM_SNAPSHOT, DOM_RUNNING, REASON_RUNNING_FROM_SNAPSHOT,
     {EV_STARTED, EV_RESUMED}, {EV_STARTED_FROM_SNAPSHOT, EV_RESUMED_FROM_SNAPSHOT}},
    {STATE_BIT(DOM_PAUSED), IN_STARTED_FROM_SNAPSHOT_PAUSED, DOM_PAUSED,
     REASON_PAUSED_FROM_SNAPSHOT, {EV_STARTED, EV_SUSPENDED},
     {EV_STARTED_FROM_SNAPSHOT, EV_SUSPENDED_FROM_SNAPSHOT}},
    /* external snapshot with memory: paused (reason snapshot) while QEMU writes it, resumed
     * afterwards with IN_RESUMED; a revert that needs a new QEMU stops the old one first */
    {STATE_BIT(DOM_RUNNING), IN_SNAPSHOT_PAUSED, DOM_PAUSED, REASON_PAUSED_SNAPSHOT,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {ACTIVE, IN_STOPPED_FROM_SNAPSHOT, DOM_SHUTOFF, REASON_SHUTOFF_FROM_SNAPSHOT,
     {EV_STOPPED, -1}, {EV_STOPPED_FROM_SNAPSHOT, 0}},
    /* migration, destination: STARTED (migrated) as QEMU begins to listen, paused (migrating);
     * the vCPUs start once the source confirmed; a migration that never completed stops it
     * (failed) */
    {STATE_BIT(DOM_PAUSED), IN_MIGRATION_IN_STARTED, DOM_PAUSED, REASON_PAUSED_MIGRATION,
     {EV_STARTED, -1}, {EV_STARTED_MIGRATED, 0}},
    {STATE_BIT(DOM_PAUSED), IN_MIGRATED, DOM_RUNNING, REASON_RUNNING_MIGRATED,
     {EV_RESUMED, -1}, {EV_RESUMED_MIGRATED, 0}},
    {STATE_BIT(DOM_PAUSED), IN_MIGRATED_PAUSED, DOM_PAUSED, REASON_PAUSED_USER,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {ACTIVE, IN_MIGRATION_IN_FAILED, DOM_SHUTOFF, REASON_SHUTOFF_FAILED,
     {EV_STOPPED, -1}, {EV_STOPPED_FAILED, 0}},
    /* migration, source: paused (migrating) when the vCPUs stop, before the last pass of a
     * live migration or before the whole of another; running again (migration canceled)
     * when it fails; stopped (migrated) once the destination took over */
    {STATE_BIT(DOM_RUNNING), IN_MIGRATION_PAUSED, DOM_PAUSED, REASON_PAUSED_MIGRATION,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_MIGRATED, 0}},
    {STATE_BIT(DOM_PAUSED), IN_MIGRATION_CANCELED, DOM_RUNNING, REASON_RUNNING_MIGRATION_CANCELED,
     {EV_RESUMED, -1}, {EV_RESUMED_MIGRATED, 0}},
    {ACTIVE, IN_STOPPED_MIGRATED, DOM_SHUTOFF, REASON_SHUTOFF_MIGRATED,
     {EV_STOPPED, -1}, {EV_STOPPED_MIGRATED, 0}},
    /* post-copy: the destination runs the guest while the source still sends its memory */
    {STATE_BIT(DOM_RUNNING) | STATE_BIT(DOM_PAUSED), IN_POSTCOPY_SOURCE, DOM_PAUSED,
     REASON_PAUSED_POSTCOPY, {EV_SUSPENDED, -1}, {EV_SUSPENDED_POSTCOPY, 0}},
    {STATE_BIT(DOM_PAUSED), IN_MIGRATED_POSTCOPY, DOM_RUNNING, REASON_RUNNING_POSTCOPY,
     {EV_RESUMED, -1}, {EV_RESUMED_POSTCOPY, 0}},
    {STATE_BIT(DOM_RUNNING) | STATE_BIT(DOM_PAUSED), IN_POSTCOPY_FAILED, DOM_PAUSED,
     REASON_PAUSED_POSTCOPY_FAILED, {EV_SUSPENDED, -1}, {EV_SUSPENDED_POSTCOPY_FAILED, 0}},
    {STATE_BIT(DOM_RUNNING), IN_POSTCOPY_DONE, DOM_RUNNING, REASON_RUNNING_MIGRATED, NO_EVENT},
    /* guest power management: libvirt's reason stays "unknown"; a wake-up is announced as a
     * start (wakeup) */
    {STATE_BIT(DOM_RUNNING), IN_PM_SUSPENDED, DOM_PMSUSPENDED, 0,
     {EV_PMSUSPENDED, -1}, {EV_PMSUSPENDED_MEMORY, 0}},
    {STATE_BIT(DOM_RUNNING), IN_PM_SUSPENDED_DISK, DOM_PMSUSPENDED, 0,
     {EV_PMSUSPENDED, -1}, {EV_PMSUSPENDED_DISK, 0}},
    {STATE_BIT(DOM_PMSUSPENDED), IN_PM_WOKEN, DOM_RUNNING, REASON_RUNNING_WAKEUP,
     {EV_STARTED, -1}, {EV_STARTED_WAKEUP, 0}},
    /* a core dump pauses a running guest (reason dump) unless live, then resumes it */
    {STATE_BIT(DOM_RUNNING), IN_DUMP_PAUSED, DOM_PAUSED, REASON_PAUSED_DUMP,
     {EV_SUSPENDED, -1}, {EV_SUSPENDED_PAUSED, 0}},
    {STATE_BIT(DOM_PAUSED), IN_DUMP_RESUMED, DOM_RUNNING, REASON_RUNNING_UNPAUSED,
     {EV_RESUMED, -1}, {EV_RESUMED_UNPAUSED, 0}},
};
/* clang-format on */

static const char *const input_names[] = {
    "start",
    "started",
    "started-paused",
    "start-failed",
    "suspended",
    "resumed",
    "paused-by-qemu",
    "paused-ioerror",
    "resumed-by-qemu",
    "guest-shutdown",
    "host-shutdown",
    "poweroff-kept",
    "restarted",
    "panicked",
    "stopped-shutdown",
    "stopped-destroyed",
    "stopped-crashed",
    "stopped-failed",
    "save-paused",
    "save-canceled",
    "stopped-saved",
    "restored",
    "restored-paused",
    "restored-held",
    "reverted-running",
    "reverted-paused",
    "started-from-snapshot",
    "started-from-snapshot-paused",
    "snapshot-paused",
    "stopped-from-snapshot",
    "migration-in-started",
    "migrated",
    "migrated-paused",
    "migration-in-failed",
    "migration-paused",
    "migration-canceled",
    "stopped-migrated",
    "postcopy-source",
    "migrated-postcopy",
    "postcopy-failed",
    "postcopy-done",
    "pm-suspended",
    "pm-suspended-disk",
    "pm-woken",
    "dump-paused",
    "dump-resumed",
};
G_STATIC_ASSERT(G_N_ELEMENTS(input_names) == IN_LAST);

const char *
state_input_to_string(enum dom_input input)
{
    return input < IN_LAST ? input_names[input] : "unknown";
}

const struct state_transition *
state_transition(enum dom_state from, enum dom_input input)
{
    if (from >= DOM_STATE_LAST)
        return NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i].input == input && (table[i].from & STATE_BIT(from)))
            return &table[i];
    return NULL;
}

const struct state_transition *
state_transitions(gsize *ret_count)
{
    *ret_count = G_N_ELEMENTS(table);
    return table;
}
