/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* perf: the host's perf counters of a running domain's QEMU process (libvirt's <perf> and
 * virDomain{Get,Set}PerfEvents, the perf statistics group); prefix core_perf_ and
 * core_domain_. */
#include "core/core.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"
#include "util/perfevent.h"

void
core_perf_stop(struct domain *dom)
{
    for (int i = 0; i < PERF_EVENT_N; i++)
        file_close_fd(&dom->perf_fds[i]);
}

gboolean
core_perf_start(struct domain *dom, GError **error)
{
    for (int i = 0; i < PERF_EVENT_N; i++) {
        if (dom->def->perf[i] != DOMAIN_TRISTATE_YES || dom->perf_fds[i] >= 0)
            continue;
        dom->perf_fds[i] = perf_event_open_pid(i, dom->pid, error);
        if (dom->perf_fds[i] < 0) {
            core_perf_stop(dom);
            return FALSE;
        }
    }
    return TRUE;
}

void
core_perf_adopt(struct domain *dom)
{
    for (int i = 0; i < PERF_EVENT_N; i++) {
        g_autoptr(GError) err = NULL;
        if (dom->def->perf[i] != DOMAIN_TRISTATE_YES || dom->perf_fds[i] >= 0)
            continue;
        dom->perf_fds[i] = perf_event_open_pid(i, dom->pid, &err);
        if (dom->perf_fds[i] < 0)
            log_warn("%s: %s", dom->def->name, err->message);
    }
}

void
core_perf_read(struct domain *dom, guint64 ret[PERF_EVENT_N], gboolean have[PERF_EVENT_N])
{
    for (int i = 0; i < PERF_EVENT_N; i++) {
        ret[i] = 0;
        have[i] = dom->perf_fds[i] >= 0 && perf_event_read(dom->perf_fds[i], &ret[i], NULL);
    }
}

gboolean
core_domain_get_perf(struct domain *dom, unsigned flags, gboolean ret[PERF_EVENT_N], GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    if (live && config) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive; ask for one at a time");
        return FALSE;
    }
    const struct domain_def *def = live ? dom->def : core_persistent_def(dom);
    for (int i = 0; i < PERF_EVENT_N; i++)
        ret[i] = live ? dom->perf_fds[i] >= 0 : def->perf[i] == DOMAIN_TRISTATE_YES;
    return TRUE;
}

gboolean
core_domain_set_perf(struct domain *dom, unsigned flags, const int want[PERF_EVENT_N],
                     GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    if (live) {
        int opened[PERF_EVENT_N];
        for (int i = 0; i < PERF_EVENT_N; i++) {
            opened[i] = -1;
            if (want[i] != 1 || dom->perf_fds[i] >= 0)
                continue;
            opened[i] = perf_event_open_pid(i, dom->pid, error);
            if (opened[i] < 0) {
                for (int j = 0; j < i; j++)
                    file_close_fd(&opened[j]);
                return FALSE;
            }
        }
        /* nothing can fail from here on */
        for (int i = 0; i < PERF_EVENT_N; i++) {
            if (want[i] == 1 && opened[i] >= 0)
                dom->perf_fds[i] = opened[i];
            else if (want[i] == 0)
                file_close_fd(&dom->perf_fds[i]);
            if (want[i] >= 0)
                dom->def->perf[i] = want[i] ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO;
        }
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    if (config) {
        g_autoptr(domain_def) copy = domain_def_copy(core_persistent_def(dom));
        for (int i = 0; i < PERF_EVENT_N; i++) {
            if (want[i] >= 0)
                copy->perf[i] = want[i] ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO;
        }
        return core_domain_keep_config(dom, g_steal_pointer(&copy), error);
    }
    return TRUE;
}
