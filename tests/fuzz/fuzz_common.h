/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_common: what every fuzz target sets up first. */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

/* A g_critical (json-glib's getters meeting a type they did not expect, a GLib precondition
 * such as an invalid node) is a bug here too. GLib makes a fatal message a breakpoint trap,
 * which libFuzzer does not catch: abort instead, so the input is saved. */
static GLogWriterOutput
fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        for (gsize i = 0; i < n; i++) {
            if (g_str_equal(fields[i].key, "MESSAGE"))
                fprintf(stderr, "fatal log message: %s\n", (const char *)fields[i].value);
        }
        abort();
    }
    return g_log_writer_default(level, fields, n, data);
}

static inline void
fuzz_fatal_criticals(void)
{
    g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
}
