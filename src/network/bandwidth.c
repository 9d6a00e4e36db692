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
fair_queue(const char *dev, const char *parent, const char *handle)
{
    return tc(dev, FALSE, NULL, "qdisc", "add", "dev", dev, "parent", parent, "handle", handle,
              "sfq", "perturb", "10", NULL) ||
           tc(dev, FALSE, NULL, "qdisc", "add", "dev", dev, "parent", parent, "handle", handle,
              "fq_codel", NULL) ||
           TRUE;
}

static char *
kbps(guint64 v)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT "kbps", v);
}

void
bandwidth_clear(const char *dev)
{
    tc(dev, TRUE, NULL, "qdisc", "del", "dev", dev, "root", NULL);
    tc(dev, TRUE, NULL, "qdisc", "del", "dev", dev, "ingress", NULL);
}

/* Traffic entering the host through DEV beyond OUT's average is dropped: libvirt's u32
 * match-all policer, or matchall where the kernel lacks u32 */
static gboolean
police(const char *dev, const struct bandwidth_rate *out, GError **error)
{
    g_autofree char *rate = kbps(out->average);
    g_autofree char *burst =
        g_strdup_printf("%" G_GUINT64_FORMAT "kb", out->burst ? out->burst : out->average);
    GError *e = NULL;
    gboolean ok = tc(dev, FALSE, error, "qdisc", "add", "dev", dev, "ingress", NULL) &&
                  (tc(dev, FALSE, NULL, "filter", "add", "dev", dev, "parent", "ffff:", "protocol",
                      "all", "u32", "match", "u32", "0", "0", "police", "rate", rate, "burst",
                      burst, "mtu", "64kb", "drop", "flowid", ":1", NULL) ||
                   tc(dev, FALSE, &e, "filter", "add", "dev", dev, "parent", "ffff:", "protocol",
                      "all", "matchall", "action", "police", "rate", rate, "burst", burst, "mtu",
                      "64kb", "drop", NULL));
    if (e) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_UNSUPPORTED,
                "the outbound bandwidth of '%s' cannot be policed: this host's kernel has no tc "
                "classifier for it (u32 or matchall, with act_police); %s",
                dev, e->message);
        g_error_free(e);
    }
    return ok;
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
            fair_queue(dev, "1:1", "2:") &&
            /* libvirt's fw filter; "default 1" already sends everything to the class */
            (tc(dev, FALSE, NULL, "filter", "add", "dev", dev, "parent", "1:0", "protocol", "all",
                "prio", "1", "handle", "1", "fw", "flowid", "1", NULL) ||
             TRUE);
        if (!ok) {
            bandwidth_clear(dev);
            return FALSE;
        }
    }
    if (out && out->average && !police(dev, out, error)) {
        bandwidth_clear(dev);
        return FALSE;
    }
    return TRUE;
}

gboolean
bandwidth_set_bridge(const char *bridge, const struct bandwidth_rate *in,
                     const struct bandwidth_rate *out, GError **error)
{
    bandwidth_clear(bridge);
    if (in && in->average) {
        g_autofree char *rate = kbps(in->average);
        g_autofree char *ceil = kbps(in->peak ? in->peak : in->average);
        g_autofree char *burst = g_strdup_printf("%" G_GUINT64_FORMAT "kb", in->burst);
        gboolean ok =
            tc(bridge, FALSE, error, "qdisc", "add", "dev", bridge, "root", "handle", "1:", "htb",
               "default", "2", NULL) &&
            tc(bridge, FALSE, error, "class", "add", "dev", bridge, "parent", "1:", "classid",
               "1:1", "htb", "rate", rate, "ceil", ceil, NULL) &&
            (in->burst
                 ? tc(bridge, FALSE, error, "class", "add", "dev", bridge, "parent", "1:1",
                      "classid", "1:2", "htb", "rate", rate, "ceil", ceil, "burst", burst, NULL)
                 : tc(bridge, FALSE, error, "class", "add", "dev", bridge, "parent", "1:1",
                      "classid", "1:2", "htb", "rate", rate, "ceil", ceil, NULL)) &&
            fair_queue(bridge, "1:2", "2:");
        if (!ok) {
            bandwidth_clear(bridge);
            return FALSE;
        }
    }
    if (out && out->average && !police(bridge, out, error)) {
        bandwidth_clear(bridge);
        return FALSE;
    }
    return TRUE;
}

/* The rate left to the ports without a floor: what the floors leave of the network's, at
 * least 1 (htb takes no rate of 0) */
static gboolean
set_rest(const char *bridge, const struct bandwidth_rate *net_in, guint64 floors, GError **error)
{
    g_autofree char *rate = kbps(floors < net_in->average ? net_in->average - floors : 1);
    g_autofree char *ceil = kbps(net_in->peak ? net_in->peak : net_in->average);
    return tc(bridge, FALSE, error, "class", "change", "dev", bridge, "parent", "1:1", "classid",
              "1:2", "htb", "rate", rate, "ceil", ceil, NULL);
}

gboolean
bandwidth_floor_plug(const char *bridge, const struct bandwidth_rate *net_in, unsigned id,
                     const uint8_t *mac, const struct bandwidth_rate *in, guint64 floors,
                     GError **error)
{
    g_autofree char *classid = g_strdup_printf("1:%x", id);
    g_autofree char *handle = g_strdup_printf("%x:", id);
    g_autofree char *filter = g_strdup_printf("800::%x", id);
    g_autofree char *rate = kbps(in->floor);
    g_autofree char *ceil = kbps(in->peak       ? in->peak
                                 : in->average  ? in->average
                                 : net_in->peak ? net_in->peak
                                                : net_in->average);
    /* the destination MAC: its last 2 bytes 4 before the IP header, its first 4 at 8 */
    g_autofree char *mac_lo = g_strdup_printf("0x%02x%02x", mac[4], mac[5]);
    g_autofree char *mac_hi = g_strdup_printf("0x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3]);
    GError *e = NULL;
    if (!tc(bridge, FALSE, error, "class", "add", "dev", bridge, "parent", "1:1", "classid",
            classid, "htb", "rate", rate, "ceil", ceil, NULL))
        return FALSE;
    fair_queue(bridge, classid, handle);
    if (!tc(bridge, FALSE, &e, "filter", "add", "dev", bridge, "parent", "1:0", "protocol", "all",
            "prio", "2", "handle", filter, "u32", "match", "u16", mac_lo, "0xffff", "at", "-4",
            "match", "u32", mac_hi, "0xffffffff", "at", "-8", "flowid", classid, NULL)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_UNSUPPORTED,
                "the floor cannot be guaranteed on bridge '%s': this host's kernel has no u32 tc "
                "classifier to sort the traffic by MAC; %s",
                bridge, e->message);
        g_error_free(e);
        tc(bridge, TRUE, NULL, "qdisc", "del", "dev", bridge, "parent", classid, "handle", handle,
           NULL);
        tc(bridge, TRUE, NULL, "class", "del", "dev", bridge, "parent", "1:1", "classid", classid,
           NULL);
        return FALSE;
    }
    return set_rest(bridge, net_in, floors + in->floor, error);
}

gboolean
bandwidth_floor_unplug(const char *bridge, const struct bandwidth_rate *net_in, unsigned id,
                       guint64 floors, GError **error)
{
    g_autofree char *classid = g_strdup_printf("1:%x", id);
    g_autofree char *handle = g_strdup_printf("%x:", id);
    g_autofree char *filter = g_strdup_printf("800::%x", id);
    tc(bridge, TRUE, NULL, "filter", "del", "dev", bridge, "parent", "1:0", "prio", "2", "handle",
       filter, "u32", NULL);
    tc(bridge, TRUE, NULL, "qdisc", "del", "dev", bridge, "parent", classid, "handle", handle,
       NULL);
    tc(bridge, TRUE, NULL, "class", "del", "dev", bridge, "parent", "1:1", "classid", classid,
       NULL);
    return set_rest(bridge, net_in, floors, error);
}
