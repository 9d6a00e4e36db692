/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tune: virsh's commands for a domain's tunables (schedinfo, memtune, numatune, blkiotune,
 * blkdeviotune): options, the changes, and the current values as virsh prints them. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* --- blkdeviotune, blkiotune --- */

static void
print_params(char **params)
{
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-15s: %s\n", params[i], params[i + 1]);
}

static gboolean
cmd_blkdeviotune(struct cli_ctx *ctx, GError **error)
{
    static const char *const scaled[] = {"total-bytes-sec",    "read-bytes-sec",
                                         "write-bytes-sec",    "total-bytes-sec-max",
                                         "read-bytes-sec-max", "write-bytes-sec-max"};
    static const char *const plain[] = {"total-iops-sec",
                                        "read-iops-sec",
                                        "write-iops-sec",
                                        "total-iops-sec-max",
                                        "read-iops-sec-max",
                                        "write-iops-sec-max",
                                        "size-iops-sec",
                                        "total-bytes-sec-max-length",
                                        "read-bytes-sec-max-length",
                                        "write-bytes-sec-max-length",
                                        "total-iops-sec-max-length",
                                        "read-iops-sec-max-length",
                                        "write-iops-sec-max-length"};
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    const char *disk = cli_get(ctx, "device");
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    for (gsize i = 0; i < G_N_ELEMENTS(scaled) + G_N_ELEMENTS(plain); i++) {
        gboolean is_scaled = i < G_N_ELEMENTS(scaled);
        const char *opt = is_scaled ? scaled[i] : plain[i - G_N_ELEMENTS(scaled)];
        const char *text = cli_get(ctx, opt);
        guint64 v = 0;
        g_autoptr(GError) err = NULL;
        if (!text)
            continue;
        if (is_scaled ? !cli_parse_scaled(text, 1, &v, &err)
                      : !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &v, NULL)) {
            /* virsh's two lines: the option's, then the command's */
            cli_report("%s value '%s' for <%s> option is malformed or out of range",
                       is_scaled ? "Scaled numeric" : "Numeric", text, opt);
            cli_set_error(error, "Unable to parse integer parameter");
            return FALSE;
        }
        g_autofree char *field = g_strdelimit(g_strdup(opt), "-", '_');
        g_ptr_array_add(want, g_steal_pointer(&field));
        g_ptr_array_add(want, g_strdup_printf("%" G_GUINT64_FORMAT, v));
    }
    if (cli_get(ctx, "group-name")) {
        g_ptr_array_add(want, g_strdup("group_name"));
        g_ptr_array_add(want, g_strdup(cli_get(ctx, "group-name")));
    }
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_block_iotune(dom, disk, (const char *const *)want->pdata, flags,
                                           error)) {
            cli_report("Unable to change block I/O throttle");
            return FALSE;
        }
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_get_block_iotune(dom, disk, flags, error);
    if (!params) {
        cli_report("Unable to get block I/O throttle parameters");
        return FALSE;
    }
    print_params(params);
    return cli_end(TRUE);
}

/* numatune: the mode by name (or libvirt's number for it), the nodes as given */
static gboolean
cmd_numatune(struct cli_ctx *ctx, GError **error)
{
    static const char *const modes[] = {"strict", "preferred", "interleave", "restrictive"};
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    const char *nodeset = cli_get(ctx, "nodeset");
    if (nodeset) {
        g_ptr_array_add(want, g_strdup("numa_nodeset"));
        g_ptr_array_add(want, g_strdup(nodeset));
    }
    const char *mode = cli_get(ctx, "mode");
    if (mode) {
        gint64 m = -1;
        for (gsize i = 0; i < G_N_ELEMENTS(modes); i++)
            if (g_str_equal(mode, modes[i]))
                m = (gint64)i;
        if (m < 0 && !g_ascii_string_to_signed(mode, 0, G_MININT32, G_MAXINT32, &m, NULL)) {
            cli_set_error(error, "Invalid mode: %s", mode);
            return FALSE;
        }
        g_ptr_array_add(want, g_strdup("numa_mode"));
        g_ptr_array_add(want, g_strdup_printf("%d", (int)m));
    }
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_numatune(dom, (const char *const *)want->pdata, flags, error)) {
            cli_report("Unable to change numa parameters");
            return FALSE;
        }
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_get_numatune(dom, flags, error);
    if (!params) {
        cli_report("Unable to get numa parameters");
        return FALSE;
    }
    for (int i = 0; params[i] && params[i + 1]; i += 2) {
        guint64 m = 0;
        gboolean named = g_str_equal(params[i], "numa_mode") &&
                         g_ascii_string_to_unsigned(params[i + 1], 10, 0, 3, &m, NULL);
        printf("%-15s: %s\n", params[i], named ? modes[m] : params[i + 1]);
    }
    return cli_end(TRUE);
}

static gboolean
cmd_blkiotune(struct cli_ctx *ctx, GError **error)
{
    static const char *const opts[] = {"device-weights", "device-read-iops-sec",
                                       "device-write-iops-sec", "device-read-bytes-sec",
                                       "device-write-bytes-sec"};
    static const char *const fields[] = {"device_weight", "device_read_iops_sec",
                                         "device_write_iops_sec", "device_read_bytes_sec",
                                         "device_write_bytes_sec"};
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    const char *weight = cli_get(ctx, "weight");
    if (weight) {
        gint64 w = 0;
        if (!g_ascii_string_to_signed(weight, 10, G_MININT32, G_MAXINT32, &w, NULL)) {
            cli_set_error(error,
                          "Numeric value '%s' for <weight> option is malformed or out of range",
                          weight);
            return FALSE;
        }
        if (w <= 0) {
            cli_set_error(error, "Invalid value of %d for I/O weight", (int)w);
            return FALSE;
        }
        g_ptr_array_add(want, g_strdup("weight"));
        g_ptr_array_add(want, g_strdup_printf("%d", (int)w));
    }
    for (gsize i = 0; i < G_N_ELEMENTS(opts); i++) {
        if (!cli_get(ctx, opts[i]))
            continue;
        g_ptr_array_add(want, g_strdup(fields[i]));
        g_ptr_array_add(want, g_strdup(cli_get(ctx, opts[i])));
    }
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_blkio(dom, (const char *const *)want->pdata, flags, error)) {
            cli_report("Unable to change blkio parameters");
            return FALSE;
        }
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_get_blkio(dom, flags, error);
    if (!params) {
        cli_report("Unable to get blkio parameters");
        return FALSE;
    }
    print_params(params);
    return cli_end(TRUE);
}

/* --- schedinfo, memtune --- */

static gboolean
cmd_schedinfo(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    int nparams = 0;
    g_autofree char *type = domus_domain_scheduler_type(dom, &nparams, error);
    if (!type)
        return FALSE;
    printf("%-15s: %s\n", "Scheduler", type);
    g_auto(GStrv) sets = cli_get_list(ctx, "set");
    g_auto(GStrv) params = domus_domain_get_tunables(dom, FALSE, flags, error);
    if (!params)
        return FALSE;
    if (sets && sets[0]) {
        g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; sets[i]; i++) {
            const char *eq = strchr(sets[i], '=');
            gboolean known = FALSE;
            for (int j = 0; eq && params[j]; j += 2)
                known |= strncmp(params[j], sets[i], (gsize)(eq - sets[i])) == 0 &&
                         params[j][eq - sets[i]] == '\0';
            if (!known) {
                cli_set_error(error, "invalid scheduler option: %s", sets[i]);
                return FALSE;
            }
            g_ptr_array_add(want, g_strndup(sets[i], (gsize)(eq - sets[i])));
            g_ptr_array_add(want, g_strdup(eq + 1));
        }
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_tunables(dom, FALSE, (const char *const *)want->pdata, flags, error))
            return FALSE;
        g_strfreev(params);
        params = domus_domain_get_tunables(dom, FALSE, flags, error);
        if (!params)
            return FALSE;
    }
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-15s: %s\n", params[i], params[i + 1]);
    return cli_end(TRUE);
}

static gboolean
cmd_memtune(struct cli_ctx *ctx, GError **error)
{
    static const char *const opts[] = {"hard-limit", "soft-limit", "swap-hard-limit",
                                       "min-guarantee"};
    static const char *const fields[] = {"hard_limit", "soft_limit", "swap_hard_limit",
                                         "min_guarantee"};
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    for (gsize i = 0; i < G_N_ELEMENTS(opts); i++) {
        const char *text = cli_get(ctx, opts[i]);
        guint64 bytes = 0;
        g_autoptr(GError) err = NULL;
        if (!text)
            continue;
        g_ptr_array_add(want, g_strdup(fields[i]));
        /* -1: no limit */
        if (g_str_equal(text, "-1")) {
            g_ptr_array_add(want, g_strdup("9007199254740991"));
            continue;
        }
        if (!cli_parse_scaled(text, 1024, &bytes, &err)) {
            cli_set_error(error, "Unable to parse integer parameter %s", opts[i]);
            return FALSE;
        }
        g_ptr_array_add(want, g_strdup_printf("%" G_GUINT64_FORMAT, bytes / 1024));
    }
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_tunables(dom, TRUE, (const char *const *)want->pdata, flags, error)) {
            cli_report("Unable to change memory parameters");
            return FALSE;
        }
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_get_tunables(dom, TRUE, flags, error);
    if (!params)
        return FALSE;
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-15s: %s\n", params[i],
               g_str_equal(params[i + 1], "9007199254740991") ? "unlimited" : params[i + 1]);
    return cli_end(TRUE);
}

static const struct cli_opt schedinfo_opts[] = {
    DOMAIN_OPT,
    {"set", OPT_LIST, FALSE, "parameter=value"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt memtune_opts[] = {
    DOMAIN_OPT,
    {"hard-limit", OPT_STRING, FALSE, "Max memory, as scaled integer (default KiB)"},
    {"soft-limit", OPT_STRING, FALSE, "Memory during contention, as scaled integer"},
    {"swap-hard-limit", OPT_STRING, FALSE, "Max memory plus swap, as scaled integer"},
    {"min-guarantee", OPT_STRING, FALSE, "Min guaranteed memory, as scaled integer"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt blkdeviotune_opts[] = {
    DOMAIN_OPT,
    {"device", OPT_DATA, TRUE, "block device"},
    {"total-bytes-sec", OPT_STRING, FALSE, "total throughput limit, as scaled integer"},
    {"read-bytes-sec", OPT_STRING, FALSE, "read throughput limit, as scaled integer"},
    {"write-bytes-sec", OPT_STRING, FALSE, "write throughput limit, as scaled integer"},
    {"total-iops-sec", OPT_STRING, FALSE, "total I/O operations limit per second"},
    {"read-iops-sec", OPT_STRING, FALSE, "read I/O operations limit per second"},
    {"write-iops-sec", OPT_STRING, FALSE, "write I/O operations limit per second"},
    {"total-bytes-sec-max", OPT_STRING, FALSE, "total max, as scaled integer"},
    {"read-bytes-sec-max", OPT_STRING, FALSE, "read max, as scaled integer"},
    {"write-bytes-sec-max", OPT_STRING, FALSE, "write max, as scaled integer"},
    {"total-iops-sec-max", OPT_STRING, FALSE, "total I/O operations max"},
    {"read-iops-sec-max", OPT_STRING, FALSE, "read I/O operations max"},
    {"write-iops-sec-max", OPT_STRING, FALSE, "write I/O operations max"},
    {"size-iops-sec", OPT_STRING, FALSE, "I/O size in bytes"},
    {"group-name", OPT_STRING, FALSE, "group name to share I/O quota between multiple drives"},
    {"total-bytes-sec-max-length", OPT_STRING, FALSE,
     "duration in seconds to allow "
     "total max bytes"},
    {"read-bytes-sec-max-length", OPT_STRING, FALSE,
     "duration in seconds to allow read max "
     "bytes"},
    {"write-bytes-sec-max-length", OPT_STRING, FALSE,
     "duration in seconds to allow write max "
     "bytes"},
    {"total-iops-sec-max-length", OPT_STRING, FALSE,
     "duration in seconds to allow total I/O "
     "operations max"},
    {"read-iops-sec-max-length", OPT_STRING, FALSE,
     "duration in seconds to allow read I/O "
     "operations max"},
    {"write-iops-sec-max-length", OPT_STRING, FALSE,
     "duration in seconds to allow write I/O "
     "operations max"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt numatune_opts[] = {
    DOMAIN_OPT,
    {"mode", OPT_STRING, FALSE,
     "NUMA mode, one of strict, preferred and interleave \nor a number from the "
     "virDomainNumatuneMemMode enum"},
    {"nodeset", OPT_STRING, FALSE, "NUMA node selections to set"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt blkiotune_opts[] = {
    DOMAIN_OPT,
    {"weight", OPT_STRING, FALSE, "IO Weight"},
    {"device-weights", OPT_STRING, FALSE,
     "per-device IO Weights, in the form of /path/to/"
     "device,weight,..."},
    {"device-read-iops-sec", OPT_STRING, FALSE, "per-device read I/O limit per second"},
    {"device-write-iops-sec", OPT_STRING, FALSE, "per-device write I/O limit per second"},
    {"device-read-bytes-sec", OPT_STRING, FALSE, "per-device bytes read per second"},
    {"device-write-bytes-sec", OPT_STRING, FALSE, "per-device bytes wrote per second"},
    CLI_IMPACT_OPTS,
    {NULL},
};

const struct cli_cmd cli_tune_cmds[] = {
    {"schedinfo", cmd_schedinfo, schedinfo_opts, "show/set scheduler parameters"},
    {"memtune", cmd_memtune, memtune_opts, "Get or set memory parameters"},
    {"numatune", cmd_numatune, numatune_opts, "Get or set numa parameters"},
    {"blkdeviotune", cmd_blkdeviotune, blkdeviotune_opts,
     "Set or query a block device I/O tuning parameters."},
    {"blkiotune", cmd_blkiotune, blkiotune_opts, "Get or set blkio parameters"},
    {NULL},
};
