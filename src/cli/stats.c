/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats: virsh's statistics, vCPU and memory commands (vcpucount, setvcpus, setmem,
 * setmaxmem, dommemstat, domblkstat, domifstat, domblkinfo, domstats, domiftune), options and
 * output. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/cpuset.h"

/* virDomainModificationImpact, virDomainVcpuFlags, virDomainMemoryModFlags */
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2, MAXIMUM = 4, VCPU_GUEST = 8, VCPU_HOTPLUGGABLE = 16 };

static gboolean
with_dom(struct cli_ctx *ctx, domus_domain **ret, GError **error)
{
    *ret = cli_domain(ctx, error);
    return *ret != NULL;
}

static gboolean
opt_uint(struct cli_ctx *ctx, const char *name, unsigned *ret, GError **error)
{
    guint64 v;
    const char *text = cli_get(ctx, name);
    if (!text || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT, &v, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                      text ? text : "", name);
        return FALSE;
    }
    *ret = (unsigned)v;
    return TRUE;
}

/* --- vCPUs --- */

static gboolean
cmd_vcpucount(struct cli_ctx *ctx, GError **error)
{
    gboolean maximum = cli_has(ctx, "maximum"), active = cli_has(ctx, "active");
    gboolean live = cli_has(ctx, "live"), config = cli_has(ctx, "config");
    gboolean guest = cli_has(ctx, "guest");
    if (live && config) {
        cli_set_error(error, "Options --live and --config are mutually exclusive");
        return FALSE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gboolean ok = TRUE;
    if (!maximum && !active && !live && !config && !guest && !cli_has(ctx, "current")) {
        /* virsh's table: what is known of the four counts */
        const struct {
            const char *which, *state;
            unsigned flags;
        } rows[] = {
            {"maximum", "config", AFFECT_CONFIG | MAXIMUM},
            {"maximum", "live", AFFECT_LIVE | MAXIMUM},
            {"current", "config", AFFECT_CONFIG},
            {"current", "live", AFFECT_LIVE},
        };
        for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
            int n = domus_domain_get_vcpus_flags(dom, rows[i].flags, NULL);
            if (n > 0)
                printf("%-12s %-12s %3d\n", rows[i].which, rows[i].state, n);
        }
    } else {
        unsigned flags = (live ? AFFECT_LIVE : 0) | (config ? AFFECT_CONFIG : 0) |
                         (maximum ? MAXIMUM : 0) | (guest ? VCPU_GUEST : 0);
        int n = domus_domain_get_vcpus_flags(dom, flags, error);
        ok = n >= 0;
        if (ok)
            printf("%d\n", n);
    }
    domus_domain_free(dom);
    return cli_end(ok);
}

static gboolean
cmd_setvcpus(struct cli_ctx *ctx, GError **error)
{
    unsigned flags, count;
    if (!cli_affect_flags(ctx, &flags, error) || !opt_uint(ctx, "count", &count, error))
        return FALSE;
    if (cli_has(ctx, "guest") && cli_has(ctx, "config")) {
        cli_set_error(error, "Options --guest and --config are mutually exclusive");
        return FALSE;
    }
    flags |= (cli_has(ctx, "maximum") ? MAXIMUM : 0) | (cli_has(ctx, "guest") ? VCPU_GUEST : 0) |
             (cli_has(ctx, "hotpluggable") ? VCPU_HOTPLUGGABLE : 0);
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gboolean ok = domus_domain_set_vcpus_flags(dom, count, flags, error);
    domus_domain_free(dom);
    return cli_end(ok);
}

/* setvcpu: as virsh's cmdSetvcpu */
static gboolean
cmd_setvcpu(struct cli_ctx *ctx, GError **error)
{
    gboolean enable = cli_has(ctx, "enable"), disable = cli_has(ctx, "disable");
    unsigned flags;
    if (enable && disable) {
        cli_set_error(error, "Options --enable and --disable are mutually exclusive");
        return FALSE;
    }
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    if (!enable && !disable) {
        cli_set_error(error, "one of --enable, --disable is required");
        return FALSE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gboolean ok = domus_domain_set_vcpu(dom, cli_get(ctx, "vcpulist"), enable, flags, error);
    domus_domain_free(dom);
    return cli_end(ok);
}

static const char *
vcpu_state(int state)
{
    static const char *const names[] = {"offline", "running", "blocked"};
    return state >= 0 && state < 3 ? names[state] : "no state";
}

static gboolean
cmd_vcpuinfo(struct cli_ctx *ctx, GError **error)
{
    gboolean pretty = cli_has(ctx, "pretty");
    domus_conn *conn = cli_conn(ctx, error);
    int maxcpu = conn ? domus_node_cpu_count(conn, error) : -1;
    domus_domain *dom;
    if (maxcpu < 0 || !with_dom(ctx, &dom, error))
        return FALSE;
    g_autoptr(GArray) vcpus = domus_domain_get_vcpus(dom, maxcpu, error);
    domus_domain_free(dom);
    if (!vcpus)
        return FALSE;
    for (guint n = 0; n < vcpus->len; n++) {
        const domus_vcpu_info *v = &g_array_index(vcpus, domus_vcpu_info, n);
        printf("%-15s %u\n", "VCPU:", v->number);
        printf("%-15s %d\n", "CPU:", v->cpu);
        printf("%-15s %s\n", "State:", vcpu_state(v->state));
        if (v->cpu_time)
            printf("%-15s %.1lfs\n", "CPU time:", (double)v->cpu_time / 1e9);
        printf("%-15s ", "CPU Affinity:");
        if (pretty) {
            g_autoptr(GString) list = g_string_new(NULL);
            for (int c = 0; c < maxcpu; c++) {
                if (!(v->affinity[c / 8] & (1u << (c % 8))))
                    continue;
                int last = c;
                while (last + 1 < maxcpu &&
                       (v->affinity[(last + 1) / 8] & (1u << ((last + 1) % 8))))
                    last++;
                g_string_append_printf(list, "%s%d", list->len ? "," : "", c);
                if (last > c)
                    g_string_append_printf(list, "-%d", last);
                c = last;
            }
            printf("%s (out of %d)", list->str, maxcpu);
        } else {
            for (int c = 0; c < maxcpu; c++)
                putchar((v->affinity[c / 8] & (1u << (c % 8))) ? 'y' : '-');
        }
        printf("\n");
        if (n + 1 < vcpus->len)
            printf("\n");
    }
    return cli_end(TRUE);
}

/* --- vcpupin, emulatorpin --- */

/* virsh's cpulist: "r" for every host CPU, else libvirt's list syntax within MAXCPU */
static guint8 *
parse_cpulist(const char *text, int maxcpu, gsize *ret_len, GError **error)
{
    struct cpuset set;
    gsize len = (gsize)(maxcpu + 7) / 8;
    guint8 *map = g_malloc0(len + 1);
    if (text[0] == 'r') {
        for (int c = 0; c < maxcpu; c++)
            map[c / 8] |= (guint8)(1u << (c % 8));
        *ret_len = len;
        return map;
    }
    if (!cpuset_parse(text, &set, NULL)) {
        g_free(map);
        cli_set_error(error, "Invalid cpulist '%s'", text);
        return NULL;
    }
    for (int c = CPUSET_MAX - 1; c >= 0; c--) {
        if (!cpuset_has(&set, (guint)c))
            continue;
        if (c >= maxcpu) {
            g_free(map);
            cli_set_error(error, "CPU %d in cpulist '%s' exceed the maxcpu %d", c, text, maxcpu);
            return NULL;
        }
        map[c / 8] |= (guint8)(1u << (c % 8));
    }
    *ret_len = len;
    return map;
}

/* A map as libvirt's CPU list ("0-2,5") */
static char *
map_format(const guint8 *map, int maplen)
{
    struct cpuset set;
    memset(&set, 0, sizeof(set));
    memcpy(set.bits, map, MIN((gsize)maplen, sizeof(set.bits)));
    return cpuset_format(&set);
}

static gboolean
vcpupin_query(domus_domain *dom, gboolean got_vcpu, unsigned vcpu, int maxcpu, unsigned flags,
              GError **error)
{
    int ncpus = domus_domain_get_vcpus_flags(dom, flags | MAXIMUM, error);
    if (ncpus < 0)
        return FALSE;
    if (got_vcpu && vcpu >= (unsigned)ncpus) {
        cli_set_error(error, "vcpu %u is out of range of %s cpu count %d", vcpu,
                      (flags & AFFECT_LIVE) ||
                              (!(flags & AFFECT_CONFIG) && domus_domain_is_active(dom, NULL) == 1)
                          ? "live"
                          : "persistent",
                      ncpus);
        return FALSE;
    }
    int maplen = (maxcpu + 7) / 8, count = 0;
    g_autofree guint8 *maps =
        domus_domain_pin_info(dom, FALSE, ncpus, maplen, flags, &count, error);
    if (!maps)
        return FALSE;
    g_autoptr(GPtrArray) rows = cli_table_new("VCPU", "CPU Affinity", NULL);
    for (int i = 0; i < count && i < ncpus; i++) {
        if (got_vcpu && (unsigned)i != vcpu)
            continue;
        cli_table_add(rows, g_strdup_printf("%d", i), map_format(maps + (gsize)i * maplen, maplen),
                      NULL);
    }
    cli_table_print(rows);
    return TRUE;
}

static gboolean
cmd_vcpupin(struct cli_ctx *ctx, GError **error)
{
    unsigned flags, vcpu = 0;
    const char *cpulist = cli_get(ctx, "cpulist");
    gboolean got_vcpu = cli_has(ctx, "vcpu");
    if (!cli_affect_flags(ctx, &flags, error) || (got_vcpu && !opt_uint(ctx, "vcpu", &vcpu, error)))
        return FALSE;
    if (!cpulist && (flags & AFFECT_LIVE) && (flags & AFFECT_CONFIG)) {
        cli_set_error(error, "Options --live and --config are mutually exclusive");
        return FALSE;
    }
    if (cpulist && !got_vcpu) {
        cli_set_error(error, "vcpupin: Missing vCPU number in pin mode.");
        return FALSE;
    }
    domus_conn *conn = cli_conn(ctx, error);
    int maxcpu = conn ? domus_node_cpu_count(conn, error) : -1;
    g_autoptr(domus_domain) dom = NULL;
    if (maxcpu < 0 || !with_dom(ctx, &dom, error))
        return FALSE;
    if (!cpulist)
        return cli_end(vcpupin_query(dom, got_vcpu, vcpu, maxcpu, flags, error));
    gsize len = 0;
    g_autofree guint8 *map = parse_cpulist(cpulist, maxcpu, &len, error);
    /* without --live, --config or --current: the running domain (virsh's legacy call) */
    if (!flags && !cli_has(ctx, "current"))
        flags = AFFECT_LIVE;
    return map && cli_end(domus_domain_pin(dom, (int)vcpu, map, len, flags, error));
}

static gboolean
cmd_emulatorpin(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    const char *cpulist = cli_get(ctx, "cpulist");
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    domus_conn *conn = cli_conn(ctx, error);
    int maxcpu = conn ? domus_node_cpu_count(conn, error) : -1;
    g_autoptr(domus_domain) dom = NULL;
    if (maxcpu < 0 || !with_dom(ctx, &dom, error))
        return FALSE;
    int maplen = (maxcpu + 7) / 8;
    if (!cpulist) {
        int count = 0;
        g_autofree guint8 *map = domus_domain_pin_info(dom, TRUE, 1, maplen, flags, &count, error);
        if (!map)
            return FALSE;
        g_autofree char *text = map_format(map, maplen);
        printf("emulator: CPU Affinity\n----------------------------------\n       *: %s\n", text);
        return cli_end(TRUE);
    }
    gsize len = 0;
    g_autofree guint8 *map = parse_cpulist(cpulist, maxcpu, &len, error);
    /* without --live, --config or --current: the running domain (virsh's choice) */
    if (!flags && !cli_has(ctx, "current"))
        flags = AFFECT_LIVE;
    return map && cli_end(domus_domain_pin(dom, -1, map, len, flags, error));
}

/* --- domblkerror --- */

static gboolean
cmd_domblkerror(struct cli_ctx *ctx, GError **error)
{
    static const char *const names[] = {"no error", "unspecified error", "no space"};
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_auto(GStrv) errs = domus_domain_disk_errors(dom, error);
    if (!errs)
        return FALSE;
    if (!errs[0])
        printf("No errors found\n");
    for (int i = 0; errs[i] && errs[i + 1]; i += 2) {
        guint64 code = 99;
        g_ascii_string_to_unsigned(errs[i + 1], 10, 0, 2, &code, NULL);
        printf("%s: %s\n", errs[i], code < G_N_ELEMENTS(names) ? names[code] : "unknown error");
    }
    return cli_end(TRUE);
}

/* --- IOThreads --- */

/* virsh's vshCommandOptInt of an IOThread id: a number, above 0 */
static gboolean
opt_iothread_id(struct cli_ctx *ctx, const char *name, unsigned *ret, GError **error)
{
    const char *text = cli_get(ctx, name);
    gint64 v = 0;
    if (!text || !g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32, &v, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                      text ? text : "", name);
        return FALSE;
    }
    if (v <= 0) {
        cli_set_error(error, "Invalid IOThread id value: '%d'", (int)v);
        return FALSE;
    }
    *ret = (unsigned)v;
    return TRUE;
}

static gboolean
cmd_iothreadinfo(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autofree unsigned *ids = NULL;
    guint8 **maps = NULL;
    gsize maplen = 0;
    int n = domus_domain_iothread_info(dom, flags, &ids, &maps, &maplen, error);
    if (n < 0) {
        cli_report("Unable to get domain IOThreads information");
        return FALSE;
    }
    if (n == 0) {
        printf("No IOThreads found for the domain");
    } else {
        g_autoptr(GPtrArray) rows = cli_table_new("IOThread ID", "CPU Affinity", NULL);
        for (int i = 0; i < n; i++)
            cli_table_add(rows, g_strdup_printf("%u", ids[i]), map_format(maps[i], (int)maplen),
                          NULL);
        cli_table_print(rows);
    }
    for (int i = 0; i < n; i++)
        g_free(maps[i]);
    g_free(maps);
    return cli_end(TRUE);
}

static gboolean
cmd_iothreadpin(struct cli_ctx *ctx, GError **error)
{
    unsigned flags, id = 0;
    if (!cli_affect_flags(ctx, &flags, error) || !opt_uint(ctx, "iothread", &id, error))
        return FALSE;
    domus_conn *conn = cli_conn(ctx, error);
    int maxcpu = conn ? domus_node_cpu_count(conn, error) : -1;
    g_autoptr(domus_domain) dom = NULL;
    if (maxcpu < 0 || !with_dom(ctx, &dom, error))
        return FALSE;
    gsize len = 0;
    g_autofree guint8 *map = parse_cpulist(cli_get(ctx, "cpulist"), maxcpu, &len, error);
    return map && cli_end(domus_domain_pin_iothread(dom, id, map, len, flags, error));
}

static gboolean
change_iothread(struct cli_ctx *ctx, gboolean add, GError **error)
{
    unsigned flags, id = 0;
    if (!cli_affect_flags(ctx, &flags, error) || !opt_iothread_id(ctx, "id", &id, error))
        return FALSE;
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    return cli_end(domus_domain_change_iothread(dom, add, id, flags, error));
}

static gboolean
cmd_iothreadadd(struct cli_ctx *ctx, GError **error)
{
    return change_iothread(ctx, TRUE, error);
}

static gboolean
cmd_iothreaddel(struct cli_ctx *ctx, GError **error)
{
    return change_iothread(ctx, FALSE, error);
}

static gboolean
cmd_iothreadset(struct cli_ctx *ctx, GError **error)
{
    static const char *const opts[] = {"poll-max-ns", "poll-grow", "poll-shrink"};
    static const char *const fields[] = {"poll_max_ns", "poll_grow", "poll_shrink"};
    unsigned flags, id = 0;
    if (!cli_affect_flags(ctx, &flags, error) || !opt_iothread_id(ctx, "id", &id, error))
        return FALSE;
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    for (gsize i = 0; i < G_N_ELEMENTS(opts); i++) {
        const char *text = cli_get(ctx, opts[i]);
        guint64 v = 0;
        if (!text)
            continue;
        if (!g_ascii_string_to_unsigned(text, 10, 0, i ? G_MAXUINT32 : G_MAXUINT64, &v, NULL)) {
            cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                          text, opts[i]);
            return FALSE;
        }
        g_ptr_array_add(want, g_strdup(fields[i]));
        g_ptr_array_add(want, g_strdup(text));
    }
    if (!want->len) {
        cli_set_error(error, "Not enough arguments passed, nothing to set");
        return FALSE;
    }
    g_ptr_array_add(want, NULL);
    return cli_end(
        domus_domain_set_iothread_params(dom, id, (const char *const *)want->pdata, flags, error));
}

static gboolean
cmd_domdirtyrate_calc(struct cli_ctx *ctx, GError **error)
{
    static const char *const modes[] = {"page-sampling", "dirty-bitmap", "dirty-ring"};
    unsigned flags = 0;
    gint64 seconds = 1;
    const char *text = cli_get(ctx, "seconds");
    if (text && !g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32, &seconds, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <seconds> option is malformed or out of range",
                      text);
        return FALSE;
    }
    const char *mode = cli_get(ctx, "mode");
    if (mode) {
        int m = -1;
        for (int i = 0; i < 3; i++)
            if (g_str_equal(mode, modes[i]))
                m = i;
        if (m < 0) {
            cli_set_error(error, "Unknown calculation mode '%s'", mode);
            return FALSE;
        }
        flags = m == 1 ? 1 : m == 2 ? 2 : 0;
    }
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error) ||
        !domus_domain_start_dirty_rate_calc(dom, (int)seconds, flags, error))
        return FALSE;
    printf("Start to calculate domain's memory dirty rate successfully.\n");
    return cli_end(TRUE);
}

/* virsh's "average[,peak[,burst[,floor]]]" of --inbound / --outbound, any field empty;
 * virsh's messages */
static gboolean
parse_rate(const char *text, guint64 ret[4], GError **error)
{
    static const char *const names[] = {"average", "peak", "burst", "floor"};
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    guint n = g_strv_length(parts);
    if (n > 4) {
        cli_set_error(error, "Rate string '%s' has too many fields", text);
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        if (*parts[i] && !g_ascii_string_to_unsigned(parts[i], 10, 0, G_MAXUINT64, &ret[i], NULL)) {
            cli_set_error(error, "field '%s' is malformed", names[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
add_rate(struct cli_ctx *ctx, const char *dir, GPtrArray *want, GError **error)
{
    static const char *const names[] = {"average", "peak", "burst", "floor"};
    gboolean in = g_str_equal(dir, "inbound");
    const char *text = cli_get(ctx, dir);
    guint64 r[4] = {0, 0, 0, 0};
    if (!text)
        return TRUE;
    if (!parse_rate(text, r, error))
        return FALSE;
    if (r[0] > G_MAXUINT32 || r[1] > G_MAXUINT32 || r[2] > G_MAXUINT32) {
        cli_set_error(error, "%s rate larger than maximum %u", dir, G_MAXUINT32);
        return FALSE;
    }
    if (in && !r[0] && (r[1] || r[2]) && !r[3]) {
        cli_set_error(error, "either inbound average or floor is mandatory");
        return FALSE;
    }
    if (!in && !r[0] && (r[1] || r[2])) {
        cli_set_error(error, "outbound average is mandatory");
        return FALSE;
    }
    if (!in && r[3]) {
        cli_set_error(error, "outbound floor is unsupported yet");
        return FALSE;
    }
    /* the average always (0 lifts the limit), the others when given */
    for (int i = 0; i < 4; i++) {
        if (i && !r[i])
            continue;
        g_ptr_array_add(want, g_strdup_printf("%s.%s", dir, names[i]));
        g_ptr_array_add(want, g_strdup_printf("%" G_GUINT64_FORMAT, r[i]));
    }
    return TRUE;
}

static gboolean
cmd_domiftune(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    const char *iface = cli_get(ctx, "interface");
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    if (!add_rate(ctx, "inbound", want, error) || !add_rate(ctx, "outbound", want, error))
        return FALSE;
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_interface_parameters(dom, iface, (const char *const *)want->pdata,
                                                   flags, error)) {
            cli_report("Unable to set interface parameters");
            return FALSE;
        }
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_get_interface_parameters(dom, iface, flags, error);
    if (!params) {
        cli_report("Unable to get number of interface parameters");
        return FALSE;
    }
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-15s: %s\n", params[i], params[i + 1]);
    return cli_end(TRUE);
}

/* virsh perf: the events' state, as set or as they are */
static void
print_perf(char **params)
{
    for (int i = 0; params[i] && params[i + 1]; i += 2)
        printf("%-15s: %s\n", params[i], g_str_equal(params[i + 1], "1") ? "enabled" : "disabled");
}

static void
add_events(const char *list, const char *state, GPtrArray *want)
{
    g_auto(GStrv) names = g_strsplit(list, ",", -1);
    for (int i = 0; names[i]; i++) {
        if (!*names[i])
            continue;
        g_ptr_array_add(want, g_strdup(names[i]));
        g_ptr_array_add(want, g_strdup(state));
    }
}

static gboolean
cmd_perf(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    g_autoptr(domus_domain) dom = NULL;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    if (cli_get(ctx, "enable"))
        add_events(cli_get(ctx, "enable"), "1", want);
    if (cli_get(ctx, "disable"))
        add_events(cli_get(ctx, "disable"), "0", want);
    if (want->len) {
        g_ptr_array_add(want, NULL);
        if (!domus_domain_set_perf_events(dom, (const char *const *)want->pdata, flags, error)) {
            cli_report("Unable to enable/disable perf events");
            return FALSE;
        }
        print_perf((char **)want->pdata);
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_get_perf_events(dom, flags, error);
    if (!params) {
        cli_report("Unable to get perf events");
        return FALSE;
    }
    print_perf(params);
    return cli_end(TRUE);
}

/* virsh cpu-stats's per-CPU part: CPUs from --start, --count of them (128 per call) */
static gboolean
print_percpu(struct cli_ctx *ctx, domus_domain *dom, GError **error)
{
    int max_id = 0, nparams = 0;
    unsigned start = 0, count = 0;
    g_auto(GStrv) none = domus_domain_cpu_stats(dom, 0, 0, 0, &max_id, error);
    if (!none || (cli_has(ctx, "start") && !opt_uint(ctx, "start", &start, error)) ||
        (cli_has(ctx, "count") && !opt_uint(ctx, "count", &count, error)))
        return FALSE;
    if ((int)start >= max_id) {
        cli_set_error(error, "Start CPU %u is out of range (min: 0, max: %d)", start, max_id - 1);
        return FALSE;
    }
    if (!cli_has(ctx, "count") || (int)count > max_id) {
        if ((int)count > max_id)
            printf("Only %d CPUs available to show\n", max_id);
        count = (unsigned)max_id - start;
    }
    g_auto(GStrv) per = domus_domain_cpu_stats(dom, 0, 1, 0, &nparams, error);
    if (!per)
        return FALSE;
    if (!nparams) {
        printf("No per-CPU stats available");
        return TRUE;
    }
    while (count) {
        unsigned n = MIN(count, 128u);
        int got = 0;
        g_auto(GStrv) params =
            domus_domain_cpu_stats(dom, (int)start, n, (unsigned)nparams, &got, error);
        if (!params)
            return FALSE;
        guint len = g_strv_length(params) / 2;
        for (guint i = 0; got > 0 && i < len / (guint)got; i++) {
            printf("CPU%u:\n", start + i);
            for (int j = 0; j < got; j++) {
                const char *field = params[2 * (i * got + j)];
                guint64 ns = g_ascii_strtoull(params[2 * (i * got + j) + 1], NULL, 10);
                printf("\t%-12s %9" G_GUINT64_FORMAT ".%09" G_GUINT64_FORMAT " seconds\n", field,
                       ns / 1000000000, ns % 1000000000);
            }
        }
        start += n;
        count -= n;
    }
    return TRUE;
}

static gboolean
cmd_cpu_stats(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gboolean total = cli_has(ctx, "total");
    gboolean per_cpu = cli_has(ctx, "start") || cli_has(ctx, "count");
    if (!total && !per_cpu)
        total = per_cpu = TRUE;
    if (per_cpu && !print_percpu(ctx, dom, error)) {
        domus_domain_free(dom);
        return FALSE;
    }
    if (!total) {
        domus_domain_free(dom);
        return cli_end(TRUE);
    }
    g_auto(GStrv) params = domus_domain_cpu_stats_total(dom, error);
    gboolean ok = params != NULL;
    if (!ok)
        cli_report("Failed to retrieve CPU statistics for domain '%s'", cli_get(ctx, "domain"));
    else
        printf("Total:\n");
    for (guint i = 0; ok && params[i] && params[i + 1]; i += 2) {
        /* virsh's vshCPUStatsPrintField: the times in seconds */
        guint64 ns = g_ascii_strtoull(params[i + 1], NULL, 10);
        printf("\t%-12s %9" G_GUINT64_FORMAT ".%09" G_GUINT64_FORMAT " seconds\n", params[i],
               ns / 1000000000, ns % 1000000000);
    }
    domus_domain_free(dom);
    return cli_end(ok);
}

/* --- memory --- */

static gboolean
set_memory(struct cli_ctx *ctx, unsigned extra, const char *failed, GError **error)
{
    unsigned flags;
    guint64 bytes = 0;
    const char *size = cli_get(ctx, "size");
    g_autoptr(GError) err = NULL;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    if (!size || !cli_parse_scaled(size, 1024, &bytes, &err)) {
        cli_report("Invalid value of %s for memory size", size ? size : "");
        if (err)
            g_propagate_error(error, g_steal_pointer(&err));
        else
            cli_set_error(error, "memory size '%s' is not a number", size ? size : "");
        return FALSE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gboolean ok = domus_domain_set_memory_flags(dom, bytes / 1024, flags | extra, error);
    if (!ok && failed)
        cli_report("%s", failed);
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_setmem(struct cli_ctx *ctx, GError **error)
{
    return cli_end(set_memory(ctx, 0, NULL, error));
}

static gboolean
cmd_setmaxmem(struct cli_ctx *ctx, GError **error)
{
    return cli_end(set_memory(ctx, MAXIMUM, "Unable to change MaxMemorySize", error));
}

static gboolean
cmd_dommemstat(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    if (!cli_affect_flags(ctx, &flags, error))
        return FALSE;
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gboolean ok;
    const char *period = cli_get(ctx, "period");
    if (period) {
        gint64 p = 0;
        if (!g_ascii_string_to_signed(period, 10, G_MININT, G_MAXINT, &p, NULL) || p < 0) {
            cli_set_error(error, "Invalid collection period value '%s'", period);
            ok = FALSE;
        } else {
            ok = domus_domain_set_memory_stats_period(dom, (int)p, flags, error);
            if (!ok)
                cli_report("Unable to change balloon collection period.");
        }
        domus_domain_free(dom);
        return cli_end(ok);
    }
    g_autoptr(GArray) stats = domus_domain_memory_stats(dom, error);
    ok = stats != NULL;
    static const char *const names[] = {
        "swap_in",        "swap_out",    "major_fault", "minor_fault",
        "unused",         "available",   "actual",      "rss",
        "usable",         "last_update", "disk_caches", "hugetlb_pgalloc",
        "hugetlb_pgfail",
    };
    for (guint i = 0; stats && i < stats->len; i++) {
        const domus_memory_stat *s = &g_array_index(stats, domus_memory_stat, i);
        if (s->tag >= 0 && (gsize)s->tag < G_N_ELEMENTS(names))
            printf("%s %" G_GUINT64_FORMAT "\n", names[s->tag], s->val);
    }
    if (!ok)
        cli_report("Failed to get memory statistics for domain %s", cli_get(ctx, "domain"));
    domus_domain_free(dom);
    return cli_end(ok);
}

/* --- block and interface --- */

static const char *
param(char **params, const char *field)
{
    for (guint i = 0; params && params[i] && params[i + 1]; i += 2)
        if (g_str_equal(params[i], field))
            return params[i + 1];
    return NULL;
}

static gboolean
cmd_domblkstat(struct cli_ctx *ctx, GError **error)
{
    /* virsh's order, legacy names and --human words */
    static const struct {
        const char *field, *legacy, *human;
    } order[] = {
        {"rd_operations", "rd_req", "number of read operations:"},
        {"rd_bytes", "rd_bytes", "number of bytes read:"},
        {"wr_operations", "wr_req", "number of write operations:"},
        {"wr_bytes", "wr_bytes", "number of bytes written:"},
        {"errs", "errs", "error count:"},
        {"flush_operations", NULL, "number of flush operations:"},
        {"rd_total_times", NULL, "total duration of reads (ns):"},
        {"wr_total_times", NULL, "total duration of writes (ns):"},
        {"flush_total_times", NULL, "total duration of flushes (ns):"},
    };
    gboolean human = cli_has(ctx, "human");
    const char *device = cli_get(ctx, "device");
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    g_auto(GStrv) params = domus_domain_block_stats(dom, device ? device : "", error);
    if (!params) {
        cli_report("Failed to get block stats for domain '%s' device '%s'", cli_get(ctx, "domain"),
                   device ? device : "");
        domus_domain_free(dom);
        return FALSE;
    }
    const char *shown = device ? device : "";
    if (human) {
        printf("Device: %s\n", shown);
        shown = "";
    }
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
        const char *v = param(params, order[i].field);
        if (!v)
            continue;
        const char *name = human             ? order[i].human
                           : order[i].legacy ? order[i].legacy
                                             : order[i].field;
        printf("%s %-*s %s\n", shown, human ? 31 : 0, name, v);
    }
    domus_domain_free(dom);
    return cli_end(TRUE);
}

static gboolean
cmd_domifstat(struct cli_ctx *ctx, GError **error)
{
    static const char *const names[] = {"rx_bytes", "rx_packets", "rx_errs", "rx_drop",
                                        "tx_bytes", "tx_packets", "tx_errs", "tx_drop"};
    const char *device = cli_get(ctx, "interface");
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    gint64 v[8];
    gboolean ok = domus_domain_interface_stats(dom, device, v, error);
    if (!ok)
        cli_report("Failed to get interface stats %s %s", cli_get(ctx, "domain"), device);
    for (int i = 0; ok && i < 8; i++)
        if (v[i] >= 0)
            printf("%s %s %" G_GINT64_FORMAT "\n", device, names[i], v[i]);
    domus_domain_free(dom);
    return cli_end(ok);
}

/* virsh's vshPrettyCapacity */
static char *
pretty(guint64 v)
{
    const char *unit;
    double d = cli_pretty_capacity(v, &unit);
    return g_strdup_printf("%.3lf %s", d, unit);
}

static gboolean
cmd_domblkinfo(struct cli_ctx *ctx, GError **error)
{
    gboolean human = cli_has(ctx, "human");
    const char *device = cli_get(ctx, "device");
    if (!device && !cli_has(ctx, "all")) {
        cli_set_error(error, "either --device or --all must be specified");
        return FALSE;
    }
    domus_domain *dom;
    if (!with_dom(ctx, &dom, error))
        return FALSE;
    guint64 v[3] = {0};
    gboolean ok = TRUE;
    if (device) {
        ok = domus_domain_block_info(dom, device, v, error);
        for (int i = 0; ok && i < 3; i++) {
            static const char *const labels[] = {"Capacity:", "Allocation:", "Physical:"};
            guint64 x = v[i == 0 ? 1 : i == 1 ? 0 : 2]; /* allocation, capacity, physical */
            g_autofree char *text = human ? pretty(x) : g_strdup_printf("%" G_GUINT64_FORMAT, x);
            printf("%-15s %s\n", labels[i], text);
        }
    } else {
        g_auto(GStrv) params = domus_domain_get_stats(dom, 1 << 5 /* block */, error);
        ok = params != NULL;
        GPtrArray *rows = cli_table_new("Target", "Capacity", "Allocation", "Physical", NULL);
        const char *count = params ? param(params, "block.count") : NULL;
        guint n = count ? (guint)g_ascii_strtoull(count, NULL, 10) : 0;
        for (guint i = 0; ok && i < n; i++) {
            g_autofree char *kname = g_strdup_printf("block.%u.name", i);
            g_autofree char *kcap = g_strdup_printf("block.%u.capacity", i);
            g_autofree char *kalloc = g_strdup_printf("block.%u.allocation", i);
            g_autofree char *kphys = g_strdup_printf("block.%u.physical", i);
            const char *c = param(params, kcap), *a = param(params, kalloc),
                       *p = param(params, kphys);
            if (!c) {
                cli_table_add(rows, g_strdup(param(params, kname)), g_strdup("-"), g_strdup("-"),
                              g_strdup("-"), NULL);
                continue;
            }
            if (human)
                cli_table_add(rows, g_strdup(param(params, kname)),
                              pretty(g_ascii_strtoull(c, NULL, 10)),
                              pretty(g_ascii_strtoull(a, NULL, 10)),
                              pretty(g_ascii_strtoull(p, NULL, 10)), NULL);
            else
                cli_table_add(rows, g_strdup(param(params, kname)), g_strdup(c), g_strdup(a),
                              g_strdup(p), NULL);
        }
        if (ok)
            cli_table_print(rows);
        g_ptr_array_unref(rows);
    }
    domus_domain_free(dom);
    return cli_end(ok);
}

/* --- every group at once --- */

static gboolean
cmd_domstats(struct cli_ctx *ctx, GError **error)
{
    static const char *const groups[] = {"state",     "cpu-total", "balloon", "vcpu",
                                         "interface", "block",     "perf",    "iothread",
                                         "memory",    "dirtyrate", "vm"};
    unsigned stats = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(groups); i++)
        if (cli_has(ctx, groups[i]))
            stats |= 1u << i;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_auto(GStrv) names = cli_get_list(ctx, "domain");
    domus_domain **all = NULL;
    g_autoptr(GPtrArray) doms = g_ptr_array_new();
    if (names[0]) {
        for (guint i = 0; names[i]; i++) {
            domus_domain *d = domus_domain_lookup_by_name(conn, names[i], error);
            if (!d) {
                for (guint k = 0; k < doms->len; k++)
                    domus_domain_free(doms->pdata[k]);
                return FALSE;
            }
            g_ptr_array_add(doms, d);
        }
    } else {
        all = domus_list_domains(conn, 0, error);
        if (!all)
            return FALSE;
        for (guint i = 0; all[i]; i++)
            g_ptr_array_add(doms, all[i]);
    }
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < doms->len; i++) {
        domus_domain *d = doms->pdata[i];
        g_auto(GStrv) params = domus_domain_get_stats(d, stats, error);
        ok = params != NULL;
        if (!ok)
            break;
        printf("Domain: '%s'\n", domus_domain_get_name(d));
        for (guint k = 0; params[k] && params[k + 1]; k += 2)
            printf("  %s=%s\n", params[k], params[k + 1]);
        printf("\n");
    }
    if (all)
        domus_domain_list_free(all);
    else
        for (guint k = 0; k < doms->len; k++)
            domus_domain_free(doms->pdata[k]);
    return ok;
}

static const struct cli_opt vcpucount_opts[] = {
    DOMAIN_OPT,
    {"maximum", OPT_BOOL, FALSE, "get maximum count of vcpus"},
    {"active", OPT_BOOL, FALSE, "get number of currently active vcpus"},
    {"live", OPT_BOOL, FALSE, "get value from running domain"},
    {"config", OPT_BOOL, FALSE, "get value to be used on next boot"},
    {"current", OPT_BOOL, FALSE, "get value according to current domain state"},
    {"guest", OPT_BOOL, FALSE, "retrieve vcpu count from the guest instead of the hypervisor"},
    {NULL},
};
static const struct cli_opt vcpuinfo_opts[] = {
    DOMAIN_OPT,
    {"pretty", OPT_BOOL, FALSE, "return human readable output"},
    {NULL},
};
static const struct cli_opt vcpupin_opts[] = {
    DOMAIN_OPT,
    {"vcpu", OPT_STRING, FALSE, "vcpu number"},
    {"cpulist", OPT_STRING, FALSE, "host cpu number(s) to set, or omit option to query"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt emulatorpin_opts[] = {
    DOMAIN_OPT,
    {"cpulist", OPT_STRING, FALSE, "host cpu number(s) to set, or omit option to query"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt domblkerror_opts[] = {
    DOMAIN_OPT,
    {NULL},
};
static const struct cli_opt iothreadinfo_opts[] = {
    DOMAIN_OPT,
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt iothreadpin_opts[] = {
    DOMAIN_OPT,
    {"iothread", OPT_DATA, TRUE, "IOThread ID number"},
    {"cpulist", OPT_DATA, TRUE, "host cpu number(s) to set"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt iothreadadd_opts[] = {
    DOMAIN_OPT,
    {"id", OPT_DATA, TRUE, "iothread for the new IOThread"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt iothreadset_opts[] = {
    DOMAIN_OPT,
    {"id", OPT_DATA, TRUE, "iothread id of existing IOThread"},
    {"poll-max-ns", OPT_STRING, FALSE, "set the maximum IOThread polling time in ns"},
    {"poll-grow", OPT_STRING, FALSE, "set the value to increase the IOThread polling time"},
    {"poll-shrink", OPT_STRING, FALSE, "set the value for reduction of the IOThread polling time"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt domdirtyrate_calc_opts[] = {
    DOMAIN_OPT,
    {"seconds", OPT_STRING, FALSE, "calculate memory dirty rate within specified seconds"},
    {"mode", OPT_STRING, FALSE, "dirty page rate calculation mode"},
    {NULL},
};
static const struct cli_opt perf_opts[] = {
    DOMAIN_OPT,
    {"enable", OPT_STRING, FALSE, "perf events which will be enabled"},
    {"disable", OPT_STRING, FALSE, "perf events which will be disabled"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt domiftune_opts[] = {
    DOMAIN_OPT,
    {"interface", OPT_DATA, TRUE, "interface device (MAC Address)"},
    {"inbound", OPT_STRING, FALSE, "control domain's incoming traffics"},
    {"outbound", OPT_STRING, FALSE, "control domain's outgoing traffics"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt cpu_stats_opts[] = {
    DOMAIN_OPT,
    {"total", OPT_BOOL, FALSE, "Show total statistics only"},
    {"start", OPT_STRING, FALSE, "Show statistics from this CPU"},
    {"count", OPT_STRING, FALSE, "Number of shown CPUs at most"},
    {NULL},
};
static const struct cli_opt setvcpus_opts[] = {
    DOMAIN_OPT,
    {"count", OPT_DATA, TRUE, "number of virtual CPUs"},
    {"maximum", OPT_BOOL, FALSE, "set maximum limit on next boot"},
    CLI_IMPACT_OPTS,
    {"guest", OPT_BOOL, FALSE, "modify cpu state in the guest"},
    {"hotpluggable", OPT_BOOL, FALSE, "make added vcpus hot(un)pluggable"},
    {NULL},
};
static const struct cli_opt setvcpu_opts[] = {
    DOMAIN_OPT,
    {"vcpulist", OPT_DATA, TRUE, "ids of vcpus to manipulate"},
    {"enable", OPT_BOOL, FALSE, "enable cpus specified by cpumap"},
    {"disable", OPT_BOOL, FALSE, "disable cpus specified by cpumap"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt setmem_opts[] = {
    DOMAIN_OPT,
    {"size", OPT_DATA, TRUE, "new memory size, as scaled integer (default KiB)"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt dommemstat_opts[] = {
    DOMAIN_OPT,
    {"period", OPT_STRING, FALSE, "period in seconds to set collection"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt domblkstat_opts[] = {
    DOMAIN_OPT,
    {"device", OPT_DATA, FALSE, "block device"},
    {"human", OPT_BOOL, FALSE, "print a more human readable output"},
    {NULL},
};
static const struct cli_opt domifstat_opts[] = {
    DOMAIN_OPT,
    {"interface", OPT_DATA, TRUE, "interface device specified by name or MAC Address"},
    {NULL},
};
static const struct cli_opt domblkinfo_opts[] = {
    DOMAIN_OPT,
    {"device", OPT_DATA, FALSE, "block device"},
    {"human", OPT_BOOL, FALSE, "Human readable output"},
    {"all", OPT_BOOL, FALSE, "display all block devices info"},
    {NULL},
};
static const struct cli_opt domstats_opts[] = {
    {"state", OPT_BOOL, FALSE, "report domain state"},
    {"cpu-total", OPT_BOOL, FALSE, "report domain physical cpu usage"},
    {"balloon", OPT_BOOL, FALSE, "report domain balloon statistics"},
    {"vcpu", OPT_BOOL, FALSE, "report domain virtual cpu information"},
    {"interface", OPT_BOOL, FALSE, "report domain network interface information"},
    {"block", OPT_BOOL, FALSE, "report domain block device statistics"},
    {"perf", OPT_BOOL, FALSE, "report domain perf event statistics"},
    {"iothread", OPT_BOOL, FALSE, "report domain IOThread information"},
    {"memory", OPT_BOOL, FALSE, "report domain memory usage"},
    {"dirtyrate", OPT_BOOL, FALSE, "report domain dirty rate information"},
    {"vm", OPT_BOOL, FALSE, "report hypervisor-specific statistics"},
    {"domain", OPT_LIST, FALSE, "list of domains to get stats for"},
    {NULL},
};

const struct cli_cmd cli_stats_cmds[] = {
    {"vcpucount", cmd_vcpucount, vcpucount_opts, "domain vcpu counts"},
    {"setvcpus", cmd_setvcpus, setvcpus_opts, "change number of virtual CPUs"},
    {"setvcpu", cmd_setvcpu, setvcpu_opts, "attach/detach vcpu or groups of threads"},
    {"vcpuinfo", cmd_vcpuinfo, vcpuinfo_opts, "detailed domain vcpu information"},
    {"vcpupin", cmd_vcpupin, vcpupin_opts, "control or query domain vcpu affinity"},
    {"emulatorpin", cmd_emulatorpin, emulatorpin_opts, "control or query domain emulator affinity"},
    {"domiftune", cmd_domiftune, domiftune_opts, "get/set parameters of a virtual interface"},
    {"perf", cmd_perf, perf_opts, "Get or set perf event"},
    {"domblkerror", cmd_domblkerror, domblkerror_opts, "Show errors on block devices"},
    {"iothreadinfo", cmd_iothreadinfo, iothreadinfo_opts, "view domain IOThreads"},
    {"iothreadpin", cmd_iothreadpin, iothreadpin_opts, "control domain IOThread affinity"},
    {"iothreadadd", cmd_iothreadadd, iothreadadd_opts, "add an IOThread to the guest domain"},
    {"iothreaddel", cmd_iothreaddel, iothreadadd_opts, "delete an IOThread from the guest domain"},
    {"iothreadset", cmd_iothreadset, iothreadset_opts,
     "modifies an existing IOThread of the guest domain"},
    {"domdirtyrate-calc", cmd_domdirtyrate_calc, domdirtyrate_calc_opts,
     "Calculate a vm's memory dirty rate"},
    {"cpu-stats", cmd_cpu_stats, cpu_stats_opts, "show domain cpu statistics"},
    {"setmem", cmd_setmem, setmem_opts, "change memory allocation"},
    {"setmaxmem", cmd_setmaxmem, setmem_opts, "change maximum memory limit"},
    {"dommemstat", cmd_dommemstat, dommemstat_opts, "get memory statistics for a domain"},
    {"domblkstat", cmd_domblkstat, domblkstat_opts, "get device block stats for a domain"},
    {"domifstat", cmd_domifstat, domifstat_opts, "get network interface stats for a domain"},
    {"domblkinfo", cmd_domblkinfo, domblkinfo_opts, "domain block device size information"},
    {"domstats", cmd_domstats, domstats_opts, "get statistics about one or multiple domains"},
    {NULL},
};
