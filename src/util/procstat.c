/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procstat: /proc and sysfs counters; prefix procstat_. */
#include "util/procstat.h"

#include <string.h>
#include <unistd.h>

#include "util/err.h"

static guint64
ticks_to_ns(guint64 ticks)
{
    static long hz;
    if (!hz)
        hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    return ticks * (1000000000ULL / (guint64)hz);
}

gboolean
procstat_parse(const char *line, struct procstat *ret)
{
    /* the fields after the ")" that closes comm: state is field 3, utime 14, stime 15,
     * processor 39; walked in place: dom.info() reads this in tight loops */
    const char *p = line ? strrchr(line, ')') : NULL;
    if (!p || p[1] != ' ')
        return FALSE;
    guint64 utime = 0, stime = 0;
    int cpu = -1, field = 3, got = 0;
    for (p += 2; *p && field <= 39; field++) {
        char *end = NULL;
        guint64 v = g_ascii_strtoull(p, &end, 10);
        gboolean number = end != p;
        if (field == 14 && number)
            utime = v, got++;
        else if (field == 15 && number)
            stime = v, got++;
        else if (field == 39 && number && v <= G_MAXINT)
            cpu = (int)v;
        p = strchr(p, ' ');
        if (!p)
            break;
        p++;
    }
    if (got != 2)
        return FALSE;
    ret->user_ns = ticks_to_ns(utime);
    ret->system_ns = ticks_to_ns(stime);
    ret->processor = cpu;
    return TRUE;
}

gboolean
procstat_read(pid_t pid, pid_t tid, struct procstat *ret)
{
    g_autofree char *path = tid ? g_strdup_printf("/proc/%d/task/%d/stat", (int)pid, (int)tid)
                                : g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    return g_file_get_contents(path, &text, NULL, NULL) && procstat_parse(text, ret);
}

guint64
procstat_rss_kib(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    const char *line = strstr(text, "\nVmRSS:");
    guint64 kib = 0;
    if (line)
        kib = g_ascii_strtoull(line + 7, NULL, 10);
    return kib;
}

gboolean
procstat_net(const char *name, struct procstat_net *ret, GError **error)
{
    /* /proc/net/dev is the reader's network namespace (sysfs is its mounter's) */
    g_autofree char *text = NULL;
    GError *e = NULL;
    if (!g_file_get_contents("/proc/net/dev", &text, NULL, &e)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "cannot read /proc/net/dev: %s",
                e->message);
        g_error_free(e);
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; name && lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        if (!g_str_equal(g_strstrip(lines[i]), name))
            continue;
        g_auto(GStrv) f = g_strsplit_set(colon + 1, " \t", -1);
        guint64 v[16];
        guint n = 0;
        for (int k = 0; f[k] && n < G_N_ELEMENTS(v); k++)
            if (*f[k] && g_ascii_string_to_unsigned(f[k], 10, 0, G_MAXUINT64, &v[n], NULL))
                n++;
        if (n < 12)
            break;
        /* rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets
         * errs drop ... */
        *ret = (struct procstat_net){v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]};
        return TRUE;
    }
    err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG, "network device '%s' is not there",
            name ? name : "");
    return FALSE;
}
