/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest commands: domtime, guestinfo, domhostname, qemu-agent-command, qemu-monitor-command,
 * event and qemu-monitor-event, with virsh's options and output. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "cli/cli.h"

static gboolean
parse_int(const char *text, gint64 min, gint64 max, gint64 *ret, GError **error)
{
    if (!g_ascii_string_to_signed(text, 10, min, max, ret, NULL)) {
        g_set_error(error, domus_error_quark(), 8,
                    "'%s' is not a number between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT, text,
                    min, max);
        return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_domtime(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    gboolean ok;
    if (cli_has(ctx, "now") || cli_has(ctx, "sync") || cli_has(ctx, "time")) {
        gint64 secs = 0;
        unsigned flags = cli_has(ctx, "sync") ? DOMUS_TIME_SYNC : 0;
        if (cli_has(ctx, "now"))
            secs = g_get_real_time() / G_USEC_PER_SEC;
        ok = (!cli_has(ctx, "time") ||
              parse_int(cli_get(ctx, "time"), 0, G_MAXINT64 / 1000000000 - 1, &secs, error)) &&
             domus_domain_set_time(dom, secs, 0, flags, error);
    } else {
        gint64 secs;
        guint nsecs;
        ok = domus_domain_get_time(dom, &secs, &nsecs, error);
        if (ok && cli_has(ctx, "pretty")) {
            g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(secs);
            g_autofree char *s = g_date_time_format(t, "%Y-%m-%d %H:%M:%S");
            printf("Time: %s\n\n", s);
        } else if (ok) {
            printf("Time: %" G_GINT64_FORMAT "\n\n", secs);
        }
    }
    domus_domain_free(dom);
    return ok;
}

/* virDomainGuestInfoTypes */
static const struct {
    const char *opt;
    unsigned bit;
} info_types[] = {
    {"user", 1},        {"os", 2},    {"timezone", 4},   {"hostname", 8},
    {"filesystem", 16}, {"disk", 32}, {"interface", 64},
};

static gboolean
cmd_guestinfo(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    unsigned types = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(info_types); i++)
        if (cli_has(ctx, info_types[i].opt))
            types |= info_types[i].bit;
    g_auto(GStrv) info = domus_domain_get_guest_info(dom, types, error);
    domus_domain_free(dom);
    if (!info)
        return FALSE;
    for (int i = 0; info[i] && info[i + 1]; i += 2)
        printf("%-20s: %s\n", info[i], info[i + 1]);
    printf("\n");
    return TRUE;
}

/* FIELD, VALUE, … as virsh prints a launch security list: the field padded to WIDTH */
static void
print_padded(char **params, int width)
{
    for (guint i = 0; params && params[i] && params[i + 1]; i += 2)
        printf("%-*s: %s\n", width, params[i], params[i + 1]);
    printf("\n");
}

static gboolean
cmd_domlaunchsecinfo(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    g_auto(GStrv) params = dom ? domus_domain_launch_security_info(dom, error) : NULL;
    domus_domain_free(dom);
    if (!params) {
        if (dom)
            cli_report("Unable to get launch security parameters");
        return FALSE;
    }
    print_padded(params, 15);
    return TRUE;
}

static gboolean
cmd_domsetlaunchsecstate(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    const char *hdr_file = cli_get(ctx, "secrethdr"), *secret_file = cli_get(ctx, "secret");
    g_autofree char *hdr = NULL, *secret = NULL;
    gboolean ok = FALSE;
    if (!hdr_file || !secret_file) {
        cli_set_error(error, "Both secret and the secret header are required");
    } else if ((hdr = cli_read_xml_file(hdr_file, error)) &&
               (secret = cli_read_xml_file(secret_file, error))) {
        const char *addr = cli_get(ctx, "set-address");
        const char *params[] = {"sev-secret-header",      hdr,  "sev-secret", secret,
                                "sev-secret-set-address", addr, NULL};
        if (!addr)
            params[4] = NULL;
        ok = domus_domain_set_launch_security_state(dom, params, error);
        if (!ok)
            cli_report("Unable to set launch security state");
        else
            printf("\n");
    }
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_domhostname(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    g_autofree char *name = dom ? domus_domain_get_hostname(dom, error) : NULL;
    domus_domain_free(dom);
    if (!name)
        return FALSE;
    printf("%s\n\n", name);
    return TRUE;
}

static gboolean
cmd_guest_agent_timeout(struct cli_ctx *ctx, GError **error)
{
    gint64 timeout = -2; /* virsh's: wait for ever */
    if (cli_has(ctx, "timeout") &&
        !parse_int(cli_get(ctx, "timeout"), G_MININT, G_MAXINT, &timeout, error))
        return FALSE;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_set_agent_timeout(dom, (int)timeout, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

static gboolean
cmd_get_user_sshkeys(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    g_auto(GStrv) keys = dom ? domus_domain_get_ssh_keys(dom, cli_get(ctx, "user"), error) : NULL;
    if (!keys)
        return FALSE;
    for (gsize i = 0; keys[i]; i++)
        printf("%s\n", keys[i]);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_set_user_sshkeys(struct cli_ctx *ctx, GError **error)
{
    enum { APPEND = 1, REMOVE = 2 };
    const char *file = cli_get(ctx, "file");
    gboolean reset = cli_has(ctx, "reset"), remove = cli_has(ctx, "remove");
    if (remove && !file) {
        cli_set_error(error, "Option --remove requires option --file");
        return FALSE;
    }
    if (reset && remove) {
        cli_set_error(error, "Options --reset and --remove are mutually exclusive");
        return FALSE;
    }
    if (!reset && !remove && !file) {
        cli_set_error(error, "Option --file is required");
        return FALSE;
    }
    unsigned flags = remove ? REMOVE : reset ? 0 : APPEND;
    g_autofree char *text = file ? cli_read_xml_file(file, error) : NULL;
    if (file && !text)
        return FALSE;
    /* one key per line, as virsh reads them (the daemon skips empty lines) */
    g_auto(GStrv) keys = text ? g_strsplit(text, "\n", -1) : NULL;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_set_ssh_keys(dom, cli_get(ctx, "user"), (const char *const *)keys,
                                           flags, error))
        return FALSE;
    printf("\n");
    return TRUE;
}

/* NODE as libvirt 9.0 pretty-prints JSON (yajl's beautifier): two spaces a level, "key":
 * value, one member or element a line, "{\n\n}" for an empty object */
static void
json_pretty(GString *out, JsonNode *node, int depth)
{
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonArray *arr = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    if (!obj && !arr) {
        g_autofree char *text = json_to_string(node, FALSE);
        g_string_append(out, text);
        return;
    }
    g_string_append(out, obj ? "{\n" : "[\n");
    GList *members = obj ? json_object_get_members(obj) : NULL;
    guint n = obj ? g_list_length(members) : json_array_get_length(arr);
    GList *m = members;
    for (guint i = 0; i < n; i++) {
        if (i)
            g_string_append(out, ",\n");
        g_string_append_printf(out, "%*s", 2 * (depth + 1), "");
        JsonNode *child;
        if (obj) {
            JsonNode *key = json_node_init_string(json_node_alloc(), m->data);
            g_autofree char *k = json_to_string(key, FALSE);
            json_node_unref(key);
            g_string_append_printf(out, "%s: ", k);
            child = json_object_get_member(obj, m->data);
            m = m->next;
        } else {
            child = json_array_get_element(arr, i);
        }
        json_pretty(out, child, depth + 1);
    }
    g_list_free(members);
    g_string_append_printf(out, "\n%*s%s", 2 * depth, "", obj ? "}" : "]");
}

/* TEXT (JSON) pretty-printed with a final newline, as libvirt's virJSONStringReformat; NULL
 * when TEXT is not JSON */
static char *
json_reformat(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, -1, NULL) || !json_parser_get_root(parser))
        return NULL;
    GString *out = g_string_new(NULL);
    json_pretty(out, json_parser_get_root(parser), 0);
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}

static gboolean
cmd_agent_command(struct cli_ctx *ctx, GError **error)
{
    gint64 timeout = -1; /* the default */
    if (cli_has(ctx, "block"))
        timeout = -2;
    else if (cli_has(ctx, "async"))
        timeout = 0;
    else if (cli_has(ctx, "timeout") &&
             !parse_int(cli_get(ctx, "timeout"), 1, G_MAXINT, &timeout, error))
        return FALSE;
    domus_domain *dom = cli_domain(ctx, error);
    g_autofree char *out =
        dom ? domus_domain_qemu_agent_command(dom, cli_get(ctx, "cmd"), (int)timeout, error) : NULL;
    domus_domain_free(dom);
    if (!out)
        return FALSE;
    if (cli_has(ctx, "pretty")) {
        g_autofree char *pretty = json_reformat(out);
        if (!pretty) {
            cli_set_error(error, "failed to pretty-print the agent's reply");
            return FALSE;
        }
        printf("%s\n\n", pretty);
        return TRUE;
    }
    printf("%s\n\n", out);
    return TRUE;
}

/* JSON TEXT when it is an object (a new node), else NULL */
static JsonNode *
json_object_text(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root =
        json_parser_load_from_data(parser, text, -1, NULL) ? json_parser_get_root(parser) : NULL;
    return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_copy(root) : NULL;
}

/* A QMP command given as WORDS, as virsh 9.0 wraps it: words that make a JSON object go as
 * they are; else the first word is the command and the rest its arguments, as one JSON
 * object or as KEY=VALUE words (VALUE read as JSON, else taken as a string). New string. */
static char *
qmp_wrap(char **words, GError **error)
{
    g_autofree char *full = g_strjoinv(" ", words);
    g_autoptr(JsonNode) whole = json_object_text(full);
    if (whole)
        return g_steal_pointer(&full);
    g_autofree char *rest = g_strjoinv(" ", words + 1);
    g_autoptr(JsonNode) args = words[1] ? json_object_text(rest) : NULL;
    if (!args && words[1]) {
        JsonObject *obj = json_object_new();
        args = json_node_init_object(json_node_alloc(), obj);
        json_object_unref(obj);
        for (char **w = words + 1; *w; w++) {
            const char *eq = strchr(*w, '=');
            if (!eq) {
                cli_set_error(error, "Can't parse argument '%s'", *w);
                return NULL;
            }
            g_autofree char *key = g_strndup(*w, eq - *w);
            g_autoptr(JsonParser) parser = json_parser_new();
            JsonNode *value = json_parser_load_from_data(parser, eq + 1, -1, NULL)
                                  ? json_parser_get_root(parser)
                                  : NULL;
            json_object_set_member(obj, key,
                                   value ? json_node_copy(value)
                                         : json_node_init_string(json_node_alloc(), eq + 1));
        }
    }
    JsonObject *cmd = json_object_new();
    json_object_set_string_member(cmd, "execute", words[0]);
    if (args)
        json_object_set_member(cmd, "arguments", json_node_copy(args));
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), cmd);
    json_object_unref(cmd);
    return json_to_string(node, FALSE);
}

/* qemu-monitor-command: as virsh's cmdQemuMonitorCommand (--pretty and --return-value read
 * QMP's reply) */
static gboolean
cmd_monitor_command(struct cli_ctx *ctx, GError **error)
{
    gboolean hmp = cli_has(ctx, "hmp"), pretty = cli_has(ctx, "pretty");
    gboolean value = cli_has(ctx, "return-value");
    if (hmp && (pretty || value)) {
        cli_set_error(error, "Options --hmp and --%s are mutually exclusive",
                      pretty ? "pretty" : "return-value");
        return FALSE;
    }
    g_auto(GStrv) words = cli_get_list(ctx, "cmd");
    g_autofree char *cmd = hmp ? g_strjoinv(" ", words) : qmp_wrap(words, error);
    if (!cmd)
        return FALSE;
    domus_domain *dom = cli_domain(ctx, error);
    g_autofree char *out =
        dom ? domus_domain_qemu_monitor_command(dom, cmd, hmp ? DOMUS_MONITOR_HMP : 0, error)
            : NULL;
    domus_domain_free(dom);
    if (!out)
        return FALSE;
    if (!pretty && !value) {
        printf("%s\n\n", out);
        return TRUE;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root =
        json_parser_load_from_data(parser, out, -1, NULL) ? json_parser_get_root(parser) : NULL;
    if (!root) {
        cli_set_error(error, "failed to parse JSON returned by qemu");
        return FALSE;
    }
    if (value) {
        JsonObject *obj = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        if (!obj || !(root = json_object_get_member(obj, "return"))) {
            cli_set_error(error, "'return' member missing");
            return FALSE;
        }
    }
    GString *text = g_string_new(NULL);
    if (pretty) {
        json_pretty(text, root, 0);
    } else {
        g_autofree char *compact = json_to_string(root, FALSE);
        g_string_append(text, compact);
    }
    printf("%s\n", text->str);
    g_string_free(text, TRUE);
    return TRUE;
}

/* virsh's words for lifecycle events */
static const char *const event_names[] = {"Defined",   "Undefined",   "Started",
                                          "Suspended", "Resumed",     "Stopped",
                                          "Shutdown",  "PMSuspended", "Crashed"};
static const char *const detail_names[][9] = {
    {"Added", "Updated", "Renamed", "Snapshot"},
    {"Removed", "Renamed"},
    {"Booted", "Migrated", "Restored", "Snapshot", "Event wakeup"},
    {"Paused", "Migrated", "I/O Error", "Watchdog", "Restored", "Snapshot", "API error",
     "Post-copy", "Post-copy Error"},
    {"Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error"},
    {"Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "Snapshot"},
    {"Finished", "Finished after guest request", "Finished after host request"},
    {"Memory", "Disk"},
    {"Panicked", "Crashloaded"},
};

static const char *
lifecycle_text(int event, int detail, const char **ret_detail)
{
    if (event < 0 || event >= (int)G_N_ELEMENTS(event_names)) {
        *ret_detail = "unknown";
        return "unknown";
    }
    const char *d = detail >= 0 && detail < 9 ? detail_names[event][detail] : NULL;
    *ret_detail = d ? d : "unknown";
    return event_names[event];
}

/* virDomainEventID's names, as virsh lists them (index: the id) */
static const char *const event_kinds[] = {
    "lifecycle",
    "reboot",
    "rtc-change",
    "watchdog",
    "io-error",
    "graphics",
    "io-error-reason",
    "control-error",
    "block-job",
    "disk-change",
    "tray-change",
    "pm-wakeup",
    "pm-suspend",
    "balloon-change",
    "pm-suspend-disk",
    "device-removed",
    "block-job-2",
    "tunable",
    "agent-lifecycle",
    "device-added",
    "migration-iteration",
    "job-completed",
    "device-removal-failed",
    "metadata-change",
    "block-threshold",
    "memory-failure",
    "memory-device-size-change",
};

static const char *
name_or(const char *const *names, gsize n, int i, const char *fallback)
{
    return i >= 0 && (gsize)i < n && names[i] ? names[i] : fallback;
}

/* One event as virsh's callbacks print it. */
static void
print_event(const struct domus_event *ev)
{
    static const char *const io_actions[] = {"none", "pause", "report"};
    static const char *const job_types[] = {"Unknown job",  "Block Pull",          "Block Copy",
                                            "Block Commit", "Active Block Commit", "Backup"};
    static const char *const job_status[] = {"completed", "failed", "canceled", "ready"};
    static const char *const metadata[] = {"description", "title", "element"};
    static const char *const tray[] = {"opened", "closed"};
    static const char *const agent_state[] = {"unknown", "connected", "disconnected"};
    static const char *const agent_reason[] = {"unknown", "domain started", "channel event"};
    const char *kind = event_kinds[ev->event_id];
    const char *dom = ev->domain_name;
    switch (ev->event_id) {
    case 0: {
        const char *detail;
        const char *name = lifecycle_text(ev->event, ev->detail, &detail);
        printf("event 'lifecycle' for domain '%s': %s %s\n", dom, name, detail);
        break;
    }
    case 4:
    case 6:
        printf("event '%s' for domain '%s': %s (%s) %s", kind, dom, ev->path, ev->alias,
               name_or(io_actions, G_N_ELEMENTS(io_actions), ev->detail, "unknown"));
        if (ev->event_id == 6)
            printf(" due to %s", ev->reason);
        printf("\n");
        break;
    case 8:
    case 16:
        printf("event '%s' for domain '%s': %s for %s %s\n", kind, dom,
               name_or(job_types, G_N_ELEMENTS(job_types), ev->event, "unknown"), ev->alias,
               name_or(job_status, G_N_ELEMENTS(job_status), ev->detail, "unknown"));
        break;
    case 15:
    case 19:
    case 22:
        printf("event '%s' for domain '%s': %s\n", kind, dom, ev->alias);
        break;
    case 2:
        printf("event 'rtc-change' for domain '%s': %" G_GINT64_FORMAT "\n", dom, ev->value);
        break;
    case 10:
        printf("event 'tray-change' for domain '%s' disk %s: %s\n", dom, ev->alias,
               name_or(tray, G_N_ELEMENTS(tray), ev->detail, "unknown"));
        break;
    case 13:
        printf("event 'balloon-change' for domain '%s': %" G_GUINT64_FORMAT "KiB\n", dom,
               (guint64)ev->value);
        break;
    case 18:
        printf("event 'agent-lifecycle' for domain '%s': state: '%s' reason: '%s'\n", dom,
               name_or(agent_state, G_N_ELEMENTS(agent_state), ev->event, "unsupported value"),
               name_or(agent_reason, G_N_ELEMENTS(agent_reason), ev->detail, "unsupported value"));
        break;
    case 17:
        printf("event 'tunable' for domain '%s':\n", dom);
        for (gsize i = 0; ev->params && ev->params[i] && ev->params[i + 1]; i += 2)
            printf("\t%s: %s\n", ev->params[i], ev->params[i + 1]);
        break;
    case 20:
        printf("event 'migration-iteration' for domain '%s': iteration: '%d'\n", dom, ev->detail);
        break;
    case 24:
        printf("event 'block-threshold' for domain '%s': dev: %s(%s) %" G_GUINT64_FORMAT
               " %" G_GUINT64_FORMAT "\n",
               dom, ev->alias, ev->path ? ev->path : "<null>", (guint64)ev->value, ev->excess);
        break;
    case 26:
        printf("event 'memory-device-size-change' for domain '%s':\nalias: %s\nsize: "
               "%" G_GUINT64_FORMAT "\n",
               dom, ev->alias, (guint64)ev->value);
        break;
    case 23:
        printf("event 'metadata-change' for domain '%s': type %s, uri %s\n", dom,
               name_or(metadata, G_N_ELEMENTS(metadata), ev->detail, "unsupported value"),
               ev->reason ? ev->reason : "<null>");
        break;
    default:
        printf("event '%s' for domain '%s'\n", kind, dom);
        break;
    }
}

static gboolean
print_domain_event(struct cli_ctx *ctx, const struct domus_event *ev, gpointer user)
{
    if (ev->object != DOMUS_EVENT_DOMAIN || ev->event_id < 0 ||
        (gsize)ev->event_id >= G_N_ELEMENTS(event_kinds))
        return FALSE;
    if (cli_has(ctx, "timestamp")) {
        g_autofree char *stamp = cli_event_stamp();
        printf("%s: ", stamp);
    }
    print_event(ev);
    return TRUE;
}

static gboolean
cmd_event(struct cli_ctx *ctx, GError **error)
{
    const char *which = cli_get(ctx, "event");
    gboolean all = cli_has(ctx, "all");
    if ((all && which) || (cli_has(ctx, "list") && (all || which))) {
        cli_set_error(error, "Options --%s and --%s are mutually exclusive",
                      all && which ? "all" : "list",
                      all && which ? "event"
                      : all        ? "all"
                                   : "event");
        return FALSE;
    }
    if (cli_has(ctx, "list")) {
        for (gsize i = 0; i < G_N_ELEMENTS(event_kinds); i++)
            printf("%s\n", event_kinds[i]);
        printf("\n");
        return TRUE;
    }
    if (!which && !all) {
        cli_set_error(error, "one of --list, --all, or --event <type> is required");
        return FALSE;
    }
    int only = -1;
    for (gsize i = 0; which && i < G_N_ELEMENTS(event_kinds); i++)
        if (g_str_equal(which, event_kinds[i]))
            only = (int)i;
    if (which && only < 0) {
        cli_set_error(error, "unknown event type %s", which);
        return FALSE;
    }
    gint64 timeout_s = -1;
    if (cli_has(ctx, "timeout") &&
        !parse_int(cli_get(ctx, "timeout"), 1, G_MAXINT / 1000, &timeout_s, error))
        return FALSE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    domus_domain *dom = NULL;
    if (cli_has(ctx, "domain") && !(dom = cli_domain(ctx, error)))
        return FALSE;
    /* as virsh: with --all, a kind the daemon does not know after the first is skipped */
    gboolean ok = TRUE;
    for (gsize i = 0; ok && i < G_N_ELEMENTS(event_kinds); i++) {
        if (only >= 0 && (gsize)only != i)
            continue;
        GError *e = NULL;
        if (domus_event_register(conn, (int)i, dom, &e) < 0) {
            if (i == 0 || only >= 0) {
                g_propagate_error(error, e);
                ok = FALSE;
            } else {
                g_error_free(e);
            }
        }
    }
    domus_domain_free(dom);
    if (!ok)
        return FALSE;
    return cli_event_wait(ctx, conn, timeout_s, print_domain_event, NULL, error);
}

static gboolean
print_monitor_event(struct cli_ctx *ctx, const struct domus_event *ev, gpointer user)
{
    if (ev->object != DOMUS_EVENT_QEMU_MONITOR)
        return FALSE;
    g_autofree char *pretty =
        ev->details && cli_has(ctx, "pretty") ? json_reformat(ev->details) : NULL;
    const char *details = pretty ? pretty : ev->details ? ev->details : "<null>";
    if (cli_has(ctx, "timestamp")) {
        g_autofree char *stamp = cli_event_stamp();
        printf("%s: event %s for domain '%s': %s\n", stamp, ev->qemu_event, ev->domain_name,
               details);
    } else {
        printf("event %s at %" G_GINT64_FORMAT ".%06u for domain '%s': %s\n", ev->qemu_event,
               ev->seconds, ev->micros, ev->domain_name, details);
    }
    return TRUE;
}

/* qemu-monitor-event: as virsh's cmdQemuMonitorEvent */
static gboolean
cmd_qemu_monitor_event(struct cli_ctx *ctx, GError **error)
{
    unsigned flags = (cli_has(ctx, "regex") ? DOMUS_QEMU_MONITOR_EVENT_REGEX : 0) |
                     (cli_has(ctx, "no-case") ? DOMUS_QEMU_MONITOR_EVENT_NOCASE : 0);
    gint64 timeout_s = -1;
    if (cli_has(ctx, "timeout") &&
        !parse_int(cli_get(ctx, "timeout"), 1, G_MAXINT / 1000, &timeout_s, error))
        return FALSE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    g_autoptr(domus_domain) dom = NULL;
    if (cli_has(ctx, "domain") && !(dom = cli_domain(ctx, error)))
        return FALSE;
    if (domus_qemu_monitor_event_register(conn, dom, cli_get(ctx, "event"), flags, error) < 0)
        return FALSE;
    return cli_event_wait(ctx, conn, timeout_s, print_monitor_event, NULL, error);
}

/* guestvcpus: as virsh's cmdGuestvcpus */
static gboolean
cmd_guestvcpus(struct cli_ctx *ctx, GError **error)
{
    gboolean enable = cli_has(ctx, "enable"), disable = cli_has(ctx, "disable");
    const char *list = cli_get(ctx, "cpulist");
    if (enable && disable) {
        cli_set_error(error, "Options --enable and --disable are mutually exclusive");
        return FALSE;
    }
    if ((enable || disable) && !list) {
        cli_set_error(error, "Option --cpulist is required by option --%s",
                      enable ? "enable" : "disable");
        return FALSE;
    }
    if (list && !(enable || disable)) {
        cli_set_error(error, "One of options --enable or --disable is required by option "
                             "--cpulist");
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (list) {
        if (!domus_domain_set_guest_vcpus(dom, list, enable, error))
            return FALSE;
        printf("\n");
        return TRUE;
    }
    g_auto(GStrv) params = domus_domain_get_guest_vcpus(dom, error);
    if (!params)
        return FALSE;
    for (char **p = params; p[0] && p[1]; p += 2)
        printf("%-15s: %s\n", p[0], p[1]);
    printf("\n");
    return TRUE;
}

static const struct cli_opt guestvcpus_opts[] = {
    DOMAIN_OPT,
    {"cpulist", OPT_NAMED, FALSE, "list of cpus to enable or disable"},
    {"enable", OPT_BOOL, FALSE, "enable cpus specified by cpulist"},
    {"disable", OPT_BOOL, FALSE, "disable cpus specified by cpulist"},
    {NULL},
};

static const struct cli_opt domtime_opts[] = {
    {"domain", OPT_DATA, TRUE, "domain name, id or uuid"},
    {"now", OPT_BOOL, FALSE, "set to the time of the host running virsh"},
    {"pretty", OPT_BOOL, FALSE, "print domain's time in human readable form"},
    {"sync", OPT_BOOL, FALSE, "instead of setting given time, synchronize from domain's RTC"},
    {"time", OPT_STRING, FALSE, "time to set"},
    {NULL},
};
static const struct cli_opt guestinfo_opts[] = {
    {"domain", OPT_DATA, TRUE, "domain name, id or uuid"},
    {"user", OPT_BOOL, FALSE, "report active users"},
    {"os", OPT_BOOL, FALSE, "report operating system information"},
    {"timezone", OPT_BOOL, FALSE, "report timezone information"},
    {"hostname", OPT_BOOL, FALSE, "report hostname"},
    {"filesystem", OPT_BOOL, FALSE, "report filesystem information"},
    {"disk", OPT_BOOL, FALSE, "report disk information"},
    {"interface", OPT_BOOL, FALSE, "report interface information"},
    {NULL},
};
static const struct cli_opt setlaunchsecstate_opts[] = {
    DOMAIN_OPT,
    {"secrethdr", OPT_NAMED, FALSE, "path to file containing the secret header"},
    {"secret", OPT_NAMED, FALSE, "path to file containing the secret"},
    {"set-address", OPT_NAMED, FALSE,
     "physical address within the guest domain's memory to set the secret"},
    {NULL},
};
static const struct cli_opt dom_only_opts[] = {
    {"domain", OPT_DATA, TRUE, "domain name, id or uuid"},
    {NULL},
};
static const struct cli_opt agent_opts[] = {
    {"domain", OPT_DATA, TRUE, "domain name, id or uuid"},
    {"cmd", OPT_DATA, TRUE, "command"},
    {"timeout", OPT_STRING, FALSE, "timeout seconds; must be positive"},
    {"async", OPT_BOOL, FALSE, "execute command without waiting for timeout"},
    {"block", OPT_BOOL, FALSE, "execute command without timeout"},
    {"pretty", OPT_BOOL, FALSE, "pretty-print the output"},
    {NULL},
};
static const struct cli_opt monitor_opts[] = {
    {"domain", OPT_DATA, TRUE, "domain name, id or uuid"},
    {"cmd", OPT_LIST, TRUE, "command"},
    {"hmp", OPT_BOOL, FALSE, "command is in human monitor protocol"},
    {"pretty", OPT_BOOL, FALSE, "pretty-print any qemu monitor protocol output"},
    {"return-value", OPT_BOOL, FALSE,
     "extract the value of the 'return' key from the returned string"},
    {NULL},
};
static const struct cli_opt monitor_event_opts[] = {
    {"domain", OPT_STRING, FALSE, "filter by domain name, id or uuid"},
    {"event", OPT_STRING, FALSE, "filter by event name"},
    {"pretty", OPT_BOOL, FALSE, "pretty-print any QMP output"},
    {"loop", OPT_BOOL, FALSE, "loop until timeout or interrupt, rather than one-shot"},
    {"timeout", OPT_STRING, FALSE, "timeout seconds"},
    {"regex", OPT_BOOL, FALSE, "treat event as a regex rather than literal filter"},
    {"no-case", OPT_BOOL, FALSE, "treat event case-insensitively"},
    {"timestamp", OPT_BOOL, FALSE, "show timestamp for each printed event"},
    {NULL},
};
static const struct cli_opt event_opts[] = {
    {"domain", OPT_STRING, FALSE, "filter by domain name, id or uuid"},
    {"event", OPT_STRING, FALSE, "which event type to wait for"},
    {"all", OPT_BOOL, FALSE, "wait for all events instead of just one type"},
    {"loop", OPT_BOOL, FALSE, "loop until timeout or interrupt, rather than one-shot"},
    {"timeout", OPT_STRING, FALSE, "timeout seconds"},
    {"list", OPT_BOOL, FALSE, "list valid event types"},
    {"timestamp", OPT_BOOL, FALSE, "show timestamp for each printed event"},
    {NULL},
};

/* --- file systems and users --- */

static gboolean
freeze_or_thaw(struct cli_ctx *ctx, gboolean thaw, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_auto(GStrv) mountpoints = cli_get_list(ctx, "mountpoint");
    int n = domus_domain_fs_freeze(dom, mountpoints, thaw, error);
    if (n < 0) {
        cli_report("Unable to %s filesystems", thaw ? "thaw" : "freeze");
        return FALSE;
    }
    printf("%s %d filesystem(s)\n\n", thaw ? "Thawed" : "Froze", n);
    return TRUE;
}

static gboolean
cmd_domfsfreeze(struct cli_ctx *ctx, GError **error)
{
    return freeze_or_thaw(ctx, FALSE, error);
}

static gboolean
cmd_domfsthaw(struct cli_ctx *ctx, GError **error)
{
    return freeze_or_thaw(ctx, TRUE, error);
}

static gboolean
cmd_domfsinfo(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GPtrArray) list = domus_domain_get_fsinfo(dom, error);
    if (!list) {
        cli_report("Unable to get filesystem information");
        return FALSE;
    }
    if (list->len == 0) {
        printf("No filesystems are mounted in the domain\n");
        return TRUE;
    }
    g_autoptr(GPtrArray) rows = cli_table_new("Mountpoint", "Name", "Type", "Target", NULL);
    for (guint i = 0; i < list->len; i++) {
        const struct domus_fsinfo *fs = list->pdata[i];
        cli_table_add(rows, g_strdup(fs->mountpoint), g_strdup(fs->name), g_strdup(fs->fstype),
                      g_strjoinv(",", fs->targets), NULL);
    }
    cli_table_print(rows);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_set_user_password(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    const char *user = cli_get(ctx, "user");
    if (!dom || !domus_domain_set_user_password(dom, user, cli_get(ctx, "password"),
                                                cli_has(ctx, "encrypted") ? 1 : 0, error))
        return FALSE;
    printf("Password set successfully for %s in %s\n", user, domus_domain_get_name(dom));
    return TRUE;
}

static gboolean
cmd_domfstrim(struct cli_ctx *ctx, GError **error)
{
    const char *min_text = cli_get(ctx, "minimum");
    guint64 minimum = 0;
    if (min_text && !g_ascii_string_to_unsigned(min_text, 10, 0, G_MAXUINT64, &minimum, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <minimum> option is malformed or out of range",
                      min_text);
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (!domus_domain_fstrim(dom, cli_get(ctx, "mountpoint"), minimum, error)) {
        cli_report("Unable to invoke fstrim");
        return FALSE;
    }
    printf("\n");
    return TRUE;
}

static const struct cli_opt fsfreeze_opts[] = {
    DOMAIN_OPT,
    {"mountpoint", OPT_LIST, FALSE, "mountpoint to be frozen"},
    {NULL},
};
static const struct cli_opt fsthaw_opts[] = {
    DOMAIN_OPT,
    {"mountpoint", OPT_LIST, FALSE, "mountpoint to be thawed"},
    {NULL},
};
static const struct cli_opt user_password_opts[] = {
    DOMAIN_OPT,
    {"user", OPT_DATA, TRUE, "the username"},
    {"password", OPT_DATA, TRUE, "the new password"},
    {"encrypted", OPT_BOOL, FALSE, "the password is already encrypted"},
    {NULL},
};
static const struct cli_opt agent_timeout_opts[] = {
    DOMAIN_OPT,
    {"timeout", OPT_NAMED, FALSE, "timeout seconds."},
    {NULL},
};
static const struct cli_opt get_sshkeys_opts[] = {
    DOMAIN_OPT,
    {"user", OPT_DATA, TRUE, "user to list authorized keys for"},
    {NULL},
};
static const struct cli_opt set_sshkeys_opts[] = {
    DOMAIN_OPT,
    {"user", OPT_DATA, TRUE, "user to set authorized keys for"},
    {"file", OPT_STRING, FALSE, "optional file to read keys from"},
    {"reset", OPT_BOOL, FALSE, "clear out authorized keys file before adding new keys"},
    {"remove", OPT_BOOL, FALSE, "remove keys from the authorized keys file"},
    {NULL},
};
static const struct cli_opt fstrim_opts[] = {
    DOMAIN_OPT,
    {"minimum", OPT_STRING, FALSE,
     "Just a hint to ignore contiguous free ranges smaller than this (Bytes)"},
    {"mountpoint", OPT_STRING, FALSE, "which mount point to trim"},
    {NULL},
};

const struct cli_cmd cli_guest_cmds[] = {
    {"domfsfreeze", cmd_domfsfreeze, fsfreeze_opts, "Freeze domain's mounted filesystems."},
    {"domfsthaw", cmd_domfsthaw, fsthaw_opts, "Thaw domain's mounted filesystems."},
    {"domfsinfo", cmd_domfsinfo, dom_only_opts, "Get information of domain's mounted filesystems."},
    {"set-user-password", cmd_set_user_password, user_password_opts,
     "set the user password inside the domain"},
    {"domfstrim", cmd_domfstrim, fstrim_opts, "Invoke fstrim on domain's mounted filesystems."},
    {"domtime", cmd_domtime, domtime_opts, "domain time"},
    {"guestinfo", cmd_guestinfo, guestinfo_opts, "query information about the guest (via agent)"},
    {"domhostname", cmd_domhostname, dom_only_opts, "print the domain's hostname"},
    {"domlaunchsecinfo", cmd_domlaunchsecinfo, dom_only_opts, "Get domain launch security info"},
    {"domsetlaunchsecstate", cmd_domsetlaunchsecstate, setlaunchsecstate_opts,
     "Set domain launch security state"},
    {"qemu-agent-command", cmd_agent_command, agent_opts, "QEMU Guest Agent Command"},
    {"qemu-monitor-command", cmd_monitor_command, monitor_opts, "QEMU Monitor Command"},
    {"event", cmd_event, event_opts, "Domain Events"},
    {"qemu-monitor-event", cmd_qemu_monitor_event, monitor_event_opts, "QEMU Monitor Events"},
    {"guestvcpus", cmd_guestvcpus, guestvcpus_opts,
     "query or modify state of vcpu in the guest (via agent)"},
    {"guest-agent-timeout", cmd_guest_agent_timeout, agent_timeout_opts,
     "Set the guest agent timeout"},
    {"get-user-sshkeys", cmd_get_user_sshkeys, get_sshkeys_opts,
     "list authorized SSH keys for given user (via agent)"},
    {"set-user-sshkeys", cmd_set_user_sshkeys, set_sshkeys_opts,
     "manipulate authorized SSH keys file for given user (via agent)"},
    {NULL},
};
