/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bandwidth: an interface's <bandwidth> on its tap with tc, as libvirt shapes it; prefix
 * bandwidth_. Traffic to the guest leaves the host through the tap: an HTB class (rate the
 * average, ceil the peak, the burst) with an SFQ (else fq_codel) below it. Traffic from the guest
 * enters the host through the tap: an ingress policer (rate the average, burst the burst, else the
 * average), dropping the excess. Without a peak or a burst tc picks them (the seed's "only
 * average needed"). */
#include "network/bandwidth.h"

#include <string.h>

#include "util/err.h"

static const char *
tc_path(void)
{
    static const char *const candidates[] = {"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"};
    for (gsize i = 0; i < G_N_ELEMENTS(candidates); i++)
        if (g_file_test(candidates[i], G_FILE_TEST_IS_EXECUTABLE))
            return candidates[i];
    return "tc";
}

/* Runs tc with ARGS (NULL-terminated); with TOLERANT its failure is no error (a deletion of
 * what is not there) */
static gboolean
tc(const char *dev, gboolean tolerant, GError **error, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)tc_path());
    va_list ap;
    va_start(ap, error);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_autofree char *err = NULL;
    int status = 0;
    g_autoptr(GError) spawn_error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                      NULL, &err, &status, &spawn_error)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "cannot run tc for the bandwidth of '%s': %s; install iproute2", dev,
                spawn_error->message);
        return FALSE;
    }
    if (!tolerant && !g_spawn_check_wait_status(status, NULL)) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata + 1);
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED, "tc %s failed: %s", cmd,
                err && *err ? g_strstrip(err) : "no message");
        return FALSE;
    }
    return TRUE;
}

/* The flows under the class share it fairly: SFQ as libvirt, fq_codel where the kernel has
 * no SFQ; without either the class still holds the rate */
static gboolean
fair_queue(const char *dev)
{
    return tc(dev, FALSE, NULL, "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "2:", "sfq",
              "perturb", "10", NULL) ||
           tc(dev, FALSE, NULL, "qdisc", "add", "dev", dev, "parent", "1:1", "handle",
              "2:", "fq_codel", NULL) ||
           TRUE;
}

void
bandwidth_clear(const char *dev)
{
    tc(dev, TRUE, NULL, "qdisc", "del", "dev", dev, "root", NULL);
    tc(dev, TRUE, NULL, "qdisc", "del", "dev", dev, "ingress", NULL);
}

gboolean
bandwidth_set(const char *dev, const struct bandwidth_rate *in, const struct bandwidth_rate *out,
              GError **error)
{
    bandwidth_clear(dev);
    if (in && in->average) {
        g_autofree char *rate = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", in->average);
        g_autofree char *ceil =
            g_strdup_printf("%" G_GUINT64_FORMAT "kbps", in->peak ? in->peak : in->average);
        g_autofree char *burst = g_strdup_printf("%" G_GUINT64_FORMAT "kb", in->burst);
        gboolean ok =
            tc(dev, FALSE, error, "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb",
               "default", "1", NULL) &&
            (in->burst
                 ? tc(dev, FALSE, error, "class", "add", "dev", dev, "parent", "1:", "classid",
                      "1:1", "htb", "rate", rate, "ceil", ceil, "burst", burst, NULL)
                 : tc(dev, FALSE, error, "class", "add", "dev", dev, "parent", "1:", "classid",
                      "1:1", "htb", "rate", rate, "ceil", ceil, NULL)) &&
            fair_queue(dev) &&
            /* libvirt's fw filter; "default 1" already sends everything to the class */
            (tc(dev, FALSE, NULL, "filter", "add", "dev", dev, "parent", "1:0", "protocol", "all",
                "prio", "1", "handle", "1", "fw", "flowid", "1", NULL) ||
             TRUE);
        if (!ok) {
            bandwidth_clear(dev);
            return FALSE;
        }
    }
    if (out && out->average) {
        g_autofree char *rate = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", out->average);
        g_autofree char *burst =
            g_strdup_printf("%" G_GUINT64_FORMAT "kb", out->burst ? out->burst : out->average);
        /* libvirt's u32 match-all; where the kernel lacks u32, matchall */
        GError *e = NULL;
        gboolean ok =
            tc(dev, FALSE, error, "qdisc", "add", "dev", dev, "ingress", NULL) &&
            (tc(dev, FALSE, NULL, "filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all",
                "u32", "match", "u32", "0", "0", "police", "rate", rate, "burst", burst, "mtu",
                "64kb", "drop", "flowid", ":1", NULL) ||
             tc(dev, FALSE, &e, "filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all",
                "matchall", "action", "police", "rate", rate, "burst", burst, "mtu", "64kb", "drop",
                NULL));
        if (e) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_UNSUPPORTED,
                    "the outbound bandwidth of '%s' cannot be policed: this host's kernel has "
                    "no tc classifier for it (u32 or matchall, with act_police); %s",
                    dev, e->message);
            g_error_free(e);
        }
        if (!ok) {
            bandwidth_clear(dev);
            return FALSE;
        }
    }
    return TRUE;
}
