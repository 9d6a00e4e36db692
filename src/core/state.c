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

static const char *const running_reasons[] = {"unknown",  "booted",        "migrated",
                                              "restored", "from snapshot", "unpaused"};
static const char *const paused_reasons[] = {
    "unknown",   "user",       "migrating",     "saving",        "dumping",
    "I/O error", "watchdog",   "from snapshot", "shutting down", "creating snapshot",
    "crashed",   "starting up"};
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

/* rows: from; columns: to. A running QEMU can go anywhere but nostate; a shut-off domain only
 * starts (running, or paused when started paused). */
static const gboolean allowed[DOM_STATE_LAST][DOM_STATE_LAST] = {
    /*                 nost  run    blk    pause  shutd  shoff  crash  pmsus */
    [DOM_NOSTATE] = {FALSE, TRUE, FALSE, TRUE, FALSE, TRUE, FALSE, FALSE},
    [DOM_RUNNING] = {FALSE, TRUE, TRUE, TRUE, TRUE, TRUE, TRUE, TRUE},
    [DOM_BLOCKED] = {FALSE, TRUE, FALSE, TRUE, TRUE, TRUE, TRUE, FALSE},
    [DOM_PAUSED] = {FALSE, TRUE, FALSE, TRUE, TRUE, TRUE, TRUE, FALSE},
    [DOM_SHUTDOWN] = {FALSE, TRUE, FALSE, TRUE, FALSE, TRUE, TRUE, FALSE},
    [DOM_SHUTOFF] = {FALSE, TRUE, FALSE, TRUE, FALSE, TRUE, FALSE, FALSE},
    [DOM_CRASHED] = {FALSE, TRUE, FALSE, TRUE, FALSE, TRUE, FALSE, FALSE},
    [DOM_PMSUSPENDED] = {FALSE, TRUE, FALSE, FALSE, FALSE, TRUE, TRUE, FALSE},
};

gboolean
state_transition_allowed(enum dom_state from, enum dom_state to)
{
    if (from >= DOM_STATE_LAST || to >= DOM_STATE_LAST)
        return FALSE;
    return allowed[from][to];
}
