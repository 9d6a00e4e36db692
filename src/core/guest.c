/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guest: agent and monitor requests. The agent answers slowly or not at all (it runs inside the
 * guest); nothing here blocks the daemon: every request completes through its callback. */
#include "core/guest.h"

#include <stdio.h>
#include <string.h>

#include "qemu/agent.h"
#include "qemu/json.h"
#include "qemu/command.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

/* virDomainGuestInfoTypes */
enum {
    GUEST_INFO_USERS = 1 << 0,
    GUEST_INFO_OS = 1 << 1,
    GUEST_INFO_TIMEZONE = 1 << 2,
    GUEST_INFO_HOSTNAME = 1 << 3,
    GUEST_INFO_FILESYSTEM = 1 << 4,
    GUEST_INFO_DISKS = 1 << 5,
    GUEST_INFO_INTERFACES = 1 << 6,
    GUEST_INFO_ALL = (1 << 7) - 1,
};

void
typed_param_free(struct typed_param *p)
{
    if (!p)
        return;
    g_free(p->field);
    g_free(p->s);
    g_free(p);
}

GPtrArray *
typed_params_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)typed_param_free);
}

static struct typed_param *
typed_params_add(GPtrArray *params, const char *field, enum typed_param_type type)
{
    struct typed_param *p = g_new0(struct typed_param, 1);
    p->field = g_strdup(field);
    p->type = type;
    g_ptr_array_add(params, p);
    return p;
}

void
typed_params_add_string(GPtrArray *params, const char *field, const char *value)
{
    typed_params_add(params, field, TYPED_PARAM_STRING)->s = g_strdup(value ? value : "");
}

void
typed_params_add_ullong(GPtrArray *params, const char *field, guint64 value)
{
    typed_params_add(params, field, TYPED_PARAM_ULLONG)->u = value;
}

void
typed_params_add_llong(GPtrArray *params, const char *field, gint64 value)
{
    typed_params_add(params, field, TYPED_PARAM_LLONG)->i = value;
}

void
typed_params_add_int(GPtrArray *params, const char *field, int value)
{
    typed_params_add(params, field, TYPED_PARAM_INT)->i = value;
}

void
typed_params_add_bool(GPtrArray *params, const char *field, gboolean value)
{
    typed_params_add(params, field, TYPED_PARAM_BOOLEAN)->i = value ? 1 : 0;
}

static const char *
typed_param_type_name(enum typed_param_type type)
{
    static const char *const names[] = {NULL,     "int",    "uint",    "llong",
                                        "ullong", "double", "boolean", "string"};
    return type >= TYPED_PARAM_INT && type <= TYPED_PARAM_STRING ? names[type] : "unknown";
}

gboolean
typed_param_check(const struct typed_param *p, gboolean known, enum typed_param_type want,
                  GError **error)
{
    if (!known) {
        err_set(error, ERR_FROM_NONE, ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported",
                p->field);
        return FALSE;
    }
    if (p->type != want) {
        err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG,
                "invalid type '%s' for parameter '%s', expected '%s'",
                typed_param_type_name(p->type), p->field, typed_param_type_name(want));
        return FALSE;
    }
    return TRUE;
}

gboolean
typed_params_validate(const GPtrArray *params, const struct typed_param_rule *rules, GError **error)
{
    for (guint i = 0; params && i < params->len; i++) {
        const struct typed_param *p = params->pdata[i];
        const struct typed_param_rule *rule = rules;
        while (rule->field && !g_str_equal(rule->field, p->field))
            rule++;
        if (!typed_param_check(p, rule->field != NULL, rule->type, error))
            return FALSE;
        for (guint j = 0; j < i; j++) {
            if (g_str_equal(((const struct typed_param *)params->pdata[j])->field, p->field)) {
                err_set(error, ERR_FROM_NONE, ERR_INVALID_ARG,
                        "parameter '%s' occurs multiple times", p->field);
                return FALSE;
            }
        }
    }
    return TRUE;
}

const char *
typed_params_get_string(const GPtrArray *params, const char *field)
{
    for (guint i = 0; params && i < params->len; i++) {
        const struct typed_param *p = params->pdata[i];
        if (p->type == TYPED_PARAM_STRING && g_str_equal(p->field, field))
            return p->s;
    }
    return NULL;
}

static const struct chr_def *
agent_channel(const struct domain_def *def)
{
    for (guint i = 0; i < def->channels->len; i++) {
        const struct chr_def *ch = def->channels->pdata[i];
        if (ch->type == CHR_TYPE_UNIX && ch->target_name &&
            g_str_equal(ch->target_name, GUEST_AGENT_CHANNEL))
            return ch;
    }
    return NULL;
}

gboolean
core_guest_has_agent(struct domain *dom)
{
    return agent_channel(dom->def) != NULL;
}

/* guest-agent-timeout's value (enum agent_timeout or seconds) on DOM's agent, if it has one */
static void
apply_timeout(struct domain *dom)
{
    int t = dom->agent_timeout;
    if (dom->agent && t != AGENT_TIMEOUT_DEFAULT)
        agent_set_response_timeout(dom->agent, t == AGENT_TIMEOUT_BLOCK ? -1 : (gint64)t * 1000);
    else if (dom->agent)
        agent_set_response_timeout(dom->agent, AGENT_DEFAULT_TIMEOUT_MS);
}

struct agent *
core_guest_agent(struct domain *dom, GError **error)
{
    if (!core_domain_require_running(dom, error))
        return NULL;
    const struct chr_def *ch = agent_channel(dom->def);
    if (!ch) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                "QEMU guest agent is not configured for domain '%s'; add a <channel "
                "type='unix'> with target name '%s'",
                dom->def->name, GUEST_AGENT_CHANNEL);
        return NULL;
    }
    if (!dom->agent) {
        g_autofree char *path =
            qemu_command_channel_path(dom->def, ch, dom->core->paths.channel_dir);
        dom->agent = agent_new(path, dom->def->name, 0);
        apply_timeout(dom);
    }
    return dom->agent;
}

/* As libvirt: NAME is a channel's alias or its virtio target name; none: the first channel */
static const struct chr_def *
find_channel(const struct domain_def *def, const char *name)
{
    for (guint i = 0; i < def->channels->len; i++) {
        const struct chr_def *chr = def->channels->pdata[i];
        if (!name || g_strcmp0(chr->info.alias, name) == 0 ||
            (g_strcmp0(chr->target_type, "virtio") == 0 && g_strcmp0(chr->target_name, name) == 0))
            return chr;
    }
    return NULL;
}

char *
core_guest_channel_path(struct domain *dom, const char *name, GError **error)
{
    const char *which = name ? name : "<null>";
    if (!core_domain_require_running(dom, error))
        return NULL;
    const struct chr_def *chr = find_channel(dom->def, name);
    if (!chr) {
        err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "cannot find channel %s of domain '%s'; 'domus dumpxml' lists its <channel>s",
                which, dom->def->name);
    } else if (chr->type != CHR_TYPE_UNIX) {
        err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR, "channel %s is not using a UNIX socket",
                name              ? name
                : chr->info.alias ? chr->info.alias
                                  : "<null>");
    } else if (chr == agent_channel(dom->def)) {
        /* QEMU serves one client on a socket: the daemon is the agent's */
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                "channel %s of domain '%s' is the guest agent's, which domusd holds; use "
                "'qemu-agent-command' to talk to the agent",
                which, dom->def->name);
    } else {
        return qemu_command_channel_path(dom->def, chr, dom->core->paths.channel_dir);
    }
    return NULL;
}

gboolean
core_guest_set_agent_timeout(struct domain *dom, int timeout, GError **error)
{
    if (timeout < AGENT_TIMEOUT_BLOCK) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "guest agent timeout %d is invalid; use -2 (wait for ever), -1 (the default, "
                "5 s), 0 (do not wait) or a number of seconds",
                timeout);
        return FALSE;
    }
    dom->agent_timeout = timeout;
    apply_timeout(dom);
    if (state_is_active(dom->state) && !core_status_write(dom, error))
        return FALSE;
    log_info("%s: guest agent timeout %d", dom->def->name, timeout);
    return TRUE;
}

/* One request in flight: keeps the domain alive until the agent or monitor answers. */
struct req {
    struct domain *dom;
    core_done_fn done;
    core_value_fn value_done;
    gpointer data;
    unsigned types;    /* guest info: what is still to ask */
    GPtrArray *params; /* guest info collected so far */
};

static struct req *
req_new(struct domain *dom, core_done_fn done, core_value_fn value_done, gpointer data)
{
    struct req *r = g_new0(struct req, 1);
    r->dom = core_domain_ref(dom);
    r->done = done;
    r->value_done = value_done;
    r->data = data;
    return r;
}

static void
req_finish(struct req *r, GError *error, gpointer value)
{
    if (r->done)
        r->done(error, r->data);
    else if (r->value_done)
        r->value_done(error, value, r->data);
    if (r->params)
        g_ptr_array_unref(r->params);
    core_domain_unref(r->dom);
    g_free(r);
}

static void
fail_early(core_done_fn done, core_value_fn value_done, gpointer data, GError *error)
{
    if (done)
        done(error, data);
    else
        value_done(error, NULL, data);
    g_error_free(error);
}

static char *
node_to_text(JsonNode *node)
{
    return json_to_string(node, FALSE);
}

/* --- power --- */

static void
on_agent_power(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    req_finish(data, (GError *)error, NULL);
}

void
core_guest_agent_power(struct domain *dom, const char *mode, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(done, NULL, data, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "mode", mode);
    agent_command(ag, "guest-shutdown", args, AGENT_NO_REPLY, on_agent_power,
                  req_new(dom, done, NULL, data));
}

/* --- passthrough --- */

static void
on_agent_passthrough(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    /* libvirt hands back the reply as the agent sent it: {"return": …} */
    g_autoptr(JsonObject) wrap = json_object_new();
    json_object_set_member(wrap, "return",
                           result ? json_node_copy(result)
                                  : json_node_init_object(json_node_alloc(), json_object_new()));
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), wrap);
    req_finish(data, NULL, node_to_text(node));
}

void
core_guest_agent_command(struct domain *dom, const char *json, int timeout_s, core_value_fn done,
                         gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(NULL, done, data, error);
        return;
    }
    struct req *r = req_new(dom, NULL, done, data);
    if (!agent_command_json(ag, json, timeout_s, on_agent_passthrough, r, &error)) {
        core_domain_unref(r->dom);
        g_free(r);
        fail_early(NULL, done, data, error);
    }
}

static void
taint_custom_monitor(struct domain *dom)
{
    const char *msg = "tainted: custom monitor control commands issued";
    for (guint i = 0; i < dom->messages->len; i++)
        if (g_str_equal(dom->messages->pdata[i], msg))
            return;
    g_ptr_array_add(dom->messages, g_strdup(msg));
    log_warn("%s: tainted: custom-monitor (monitor commands issued by a client)", dom->def->name);
    g_autofree char *path = g_strdup_printf("%s/%s.log", dom->core->paths.log_dir, dom->def->name);
    FILE *f = fopen(path, "ae");
    if (f) {
        fprintf(f, "Domain id=%d is tainted: custom-monitor\n", dom->id);
        fclose(f);
    }
}

static void
on_monitor_passthrough(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    req_finish(data, NULL, node_to_text(result));
}

static void
on_hmp_passthrough(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    const char *text = qemu_json_node_string(result);
    req_finish(data, NULL, g_strdup(text ? text : ""));
}

void
core_guest_monitor_command(struct domain *dom, const char *cmd, gboolean hmp, core_value_fn done,
                           gpointer data)
{
    GError *error = NULL;
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        fail_early(NULL, done, data, error);
        return;
    }
    taint_custom_monitor(dom);
    struct req *r = req_new(dom, NULL, done, data);
    if (hmp) {
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "command-line", cmd);
        qmp_command(dom->mon, "human-monitor-command", args, on_hmp_passthrough, r);
    } else if (!qmp_command_json(dom->mon, cmd, on_monitor_passthrough, r, &error)) {
        core_domain_unref(r->dom);
        g_free(r);
        fail_early(NULL, done, data, error);
    }
}

/* --- time --- */

static void
on_get_time(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    gint64 ns;
    if (!qemu_json_node_int(result, &ns)) {
        GError *err = NULL;
        err_set(&err, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "guest agent answered 'guest-get-time' without a number");
        req_finish(data, err, NULL);
        g_error_free(err);
        return;
    }
    gint64 *t = g_new(gint64, 2);
    t[0] = ns / 1000000000;
    t[1] = ns % 1000000000;
    req_finish(data, NULL, t);
}

void
core_guest_get_time(struct domain *dom, core_value_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(NULL, done, data, error);
        return;
    }
    agent_command(ag, "guest-get-time", NULL, 0, on_get_time, req_new(dom, NULL, done, data));
}

static void
on_set_time(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    req_finish(data, (GError *)error, NULL);
}

void
core_guest_set_time(struct domain *dom, gint64 seconds, guint nseconds, gboolean sync,
                    core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(done, NULL, data, error);
        return;
    }
    if (!sync && (seconds < 0 || seconds > G_MAXINT64 / 1000000000 - 1 || nseconds >= 1000000000)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "time %" G_GINT64_FORMAT ".%09u is out of range", seconds, nseconds);
        fail_early(done, NULL, data, error);
        return;
    }
    JsonObject *args = NULL;
    if (!sync) {
        args = json_object_new();
        json_object_set_int_member(args, "time", seconds * 1000000000 + nseconds);
    }
    agent_command(ag, "guest-set-time", args, 0, on_set_time, req_new(dom, done, NULL, data));
}

/* --- guest info --- */

static void
add_string(GPtrArray *params, const char *field, const char *value)
{
    if (!value)
        return;
    struct typed_param *p = g_new0(struct typed_param, 1);
    p->field = g_strdup(field);
    p->type = TYPED_PARAM_STRING;
    p->s = g_strdup(value);
    g_ptr_array_add(params, p);
}

static void
add_number(GPtrArray *params, const char *field, enum typed_param_type type, gint64 i, guint64 u)
{
    struct typed_param *p = g_new0(struct typed_param, 1);
    p->field = g_strdup(field);
    p->type = type;
    p->i = i;
    p->u = u;
    g_ptr_array_add(params, p);
}

/* The agent's answers, turned into libvirt's parameter names (virDomainGetGuestInfo docs). */
static void
info_users(GPtrArray *params, JsonNode *result)
{
    JsonArray *a = qemu_json_node_array(result);
    guint n = a ? json_array_get_length(a) : 0;
    add_number(params, "user.count", TYPED_PARAM_UINT, 0, n);
    for (guint i = 0; i < n; i++) {
        JsonObject *u = qemu_json_element_object(a, i);
        g_autofree char *name = g_strdup_printf("user.%u.name", i);
        g_autofree char *domain = g_strdup_printf("user.%u.domain", i);
        g_autofree char *login = g_strdup_printf("user.%u.login-time", i);
        add_string(params, name, qemu_json_string(u, "user"));
        add_string(params, domain, qemu_json_string(u, "domain"));
        /* seconds as a double, from the guest: clamped before it becomes milliseconds */
        double ms = qemu_json_number(u, "login-time", 0) * 1000;
        guint64 login_ms = !(ms > 0) ? 0 : ms >= 18446744073709551615.0 ? G_MAXUINT64 : (guint64)ms;
        add_number(params, login, TYPED_PARAM_ULLONG, 0, login_ms);
    }
}

static void
info_os(GPtrArray *params, JsonNode *result)
{
    static const char *const keys[][2] = {
        {"id", "os.id"},
        {"name", "os.name"},
        {"pretty-name", "os.pretty-name"},
        {"version", "os.version"},
        {"version-id", "os.version-id"},
        {"kernel-release", "os.kernel-release"},
        {"kernel-version", "os.kernel-version"},
        {"machine", "os.machine"},
        {"variant", "os.variant"},
        {"variant-id", "os.variant-id"},
    };
    JsonObject *o = qemu_json_node_object(result);
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
        add_string(params, keys[i][1], qemu_json_string(o, keys[i][0]));
}

static void
info_timezone(GPtrArray *params, JsonNode *result)
{
    JsonObject *o = qemu_json_node_object(result);
    add_string(params, "timezone.name", qemu_json_string(o, "zone"));
    add_number(params, "timezone.offset", TYPED_PARAM_INT, qemu_json_int_or(o, "offset", 0), 0);
}

static void
info_hostname(GPtrArray *params, JsonNode *result)
{
    add_string(params, "hostname", qemu_json_string(qemu_json_node_object(result), "host-name"));
}

static void
info_filesystems(GPtrArray *params, JsonNode *result)
{
    JsonArray *a = qemu_json_node_array(result);
    guint n = a ? json_array_get_length(a) : 0;
    add_number(params, "fs.count", TYPED_PARAM_UINT, 0, n);
    for (guint i = 0; i < n; i++) {
        JsonObject *fs = qemu_json_element_object(a, i);
        g_autofree char *p = g_strdup_printf("fs.%u.", i);
        g_autofree char *mp = g_strconcat(p, "mountpoint", NULL);
        g_autofree char *nm = g_strconcat(p, "name", NULL);
        g_autofree char *ty = g_strconcat(p, "fstype", NULL);
        add_string(params, mp, qemu_json_string(fs, "mountpoint"));
        add_string(params, nm, qemu_json_string(fs, "name"));
        add_string(params, ty, qemu_json_string(fs, "type"));
        gint64 total;
        if (qemu_json_int(fs, "total-bytes", &total)) {
            g_autofree char *tb = g_strconcat(p, "total-bytes", NULL);
            g_autofree char *ub = g_strconcat(p, "used-bytes", NULL);
            add_number(params, tb, TYPED_PARAM_ULLONG, 0, (guint64)total);
            add_number(params, ub, TYPED_PARAM_ULLONG, 0,
                       (guint64)qemu_json_int_or(fs, "used-bytes", 0));
        }
        JsonArray *disks = qemu_json_array(fs, "disk");
        guint nd = disks ? json_array_get_length(disks) : 0;
        g_autofree char *dc = g_strconcat(p, "disk.count", NULL);
        add_number(params, dc, TYPED_PARAM_UINT, 0, nd);
        for (guint j = 0; j < nd; j++) {
            JsonObject *d = qemu_json_element_object(disks, j);
            g_autofree char *ser = g_strdup_printf("%sdisk.%u.serial", p, j);
            g_autofree char *dev = g_strdup_printf("%sdisk.%u.device", p, j);
            add_string(params, ser, qemu_json_string(d, "serial"));
            add_string(params, dev, qemu_json_string(d, "dev"));
        }
    }
}

static void
info_interfaces(GPtrArray *params, JsonNode *result)
{
    JsonArray *a = qemu_json_node_array(result);
    guint n = a ? json_array_get_length(a) : 0;
    add_number(params, "if.count", TYPED_PARAM_UINT, 0, n);
    for (guint i = 0; i < n; i++) {
        JsonObject *ifc = qemu_json_element_object(a, i);
        g_autofree char *name = g_strdup_printf("if.%u.name", i);
        g_autofree char *hw = g_strdup_printf("if.%u.hwaddr", i);
        add_string(params, name, qemu_json_string(ifc, "name"));
        add_string(params, hw, qemu_json_string(ifc, "hardware-address"));
        JsonArray *addrs = qemu_json_array(ifc, "ip-addresses");
        guint na = addrs ? json_array_get_length(addrs) : 0;
        g_autofree char *ac = g_strdup_printf("if.%u.addr.count", i);
        add_number(params, ac, TYPED_PARAM_UINT, 0, na);
        for (guint j = 0; j < na; j++) {
            JsonObject *ad = qemu_json_element_object(addrs, j);
            g_autofree char *ty = g_strdup_printf("if.%u.addr.%u.type", i, j);
            g_autofree char *ip = g_strdup_printf("if.%u.addr.%u.addr", i, j);
            g_autofree char *pf = g_strdup_printf("if.%u.addr.%u.prefix", i, j);
            add_string(params, ty, qemu_json_string(ad, "ip-address-type"));
            add_string(params, ip, qemu_json_string(ad, "ip-address"));
            add_number(params, pf, TYPED_PARAM_UINT, 0, (guint64)qemu_json_int_or(ad, "prefix", 0));
        }
    }
}

static const struct {
    unsigned type;
    const char *cmd;
    void (*convert)(GPtrArray *params, JsonNode *result);
} info_steps[] = {
    {GUEST_INFO_USERS, "guest-get-users", info_users},
    {GUEST_INFO_OS, "guest-get-osinfo", info_os},
    {GUEST_INFO_TIMEZONE, "guest-get-timezone", info_timezone},
    {GUEST_INFO_HOSTNAME, "guest-get-host-name", info_hostname},
    {GUEST_INFO_FILESYSTEM, "guest-get-fsinfo", info_filesystems},
    {GUEST_INFO_INTERFACES, "guest-network-get-interfaces", info_interfaces},
};

static void info_next(struct req *r);

static void
on_info_step(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct req *r = data;
    gsize step = 0;
    while (step < G_N_ELEMENTS(info_steps) && !(r->types & info_steps[step].type))
        step++;
    r->types &= ~info_steps[step].type;
    if (error) {
        /* an agent that lacks one command still answers the others, as in libvirt; an agent
         * that does not answer fails the call */
        if (err_code(error) == ERR_AGENT_UNRESPONSIVE) {
            req_finish(r, (GError *)error, NULL);
            return;
        }
        log_debug("%s: guest info: %s", r->dom->def->name, error->message);
    } else {
        info_steps[step].convert(r->params, result);
    }
    info_next(r);
}

static void
info_next(struct req *r)
{
    for (gsize i = 0; i < G_N_ELEMENTS(info_steps); i++) {
        if (!(r->types & info_steps[i].type))
            continue;
        GError *error = NULL;
        struct agent *ag = core_guest_agent(r->dom, &error);
        if (!ag) {
            req_finish(r, error, NULL);
            g_error_free(error);
            return;
        }
        agent_command(ag, info_steps[i].cmd, NULL, 0, on_info_step, r);
        return;
    }
    req_finish(r, NULL, g_ptr_array_ref(r->params));
}

void
core_guest_info(struct domain *dom, unsigned types, core_value_fn done, gpointer data)
{
    GError *error = NULL;
    if (types & ~(unsigned)GUEST_INFO_ALL) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported guest info types (0x%x)",
                types & ~(unsigned)GUEST_INFO_ALL);
        fail_early(NULL, done, data, error);
        return;
    }
    if (!core_guest_agent(dom, &error)) {
        fail_early(NULL, done, data, error);
        return;
    }
    struct req *r = req_new(dom, NULL, done, data);
    /* disks need the guest's disk inventory (guest-get-disks), which our agents lack: only the
     * other types are asked when all are wanted */
    r->types = types ? types : (GUEST_INFO_ALL & ~(unsigned)GUEST_INFO_DISKS);
    r->params = g_ptr_array_new_with_free_func((GDestroyNotify)typed_param_free);
    info_next(r);
}

static void
on_hostname(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    const char *name = qemu_json_string(qemu_json_node_object(result), "host-name");
    if (!name) {
        GError *err = NULL;
        err_set(&err, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "guest agent answered 'guest-get-host-name' without a name");
        req_finish(data, err, NULL);
        g_error_free(err);
        return;
    }
    req_finish(data, NULL, g_strdup(name));
}

void
core_guest_hostname(struct domain *dom, core_value_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(NULL, done, data, error);
        return;
    }
    agent_command(ag, "guest-get-host-name", NULL, 0, on_hostname, req_new(dom, NULL, done, data));
}

/* ---- authorized SSH keys ---- */

static void
on_ssh_keys(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    JsonObject *o = qemu_json_node_object(result);
    JsonArray *keys = o ? qemu_json_array(o, "keys") : NULL;
    if (!keys) {
        GError *e = NULL;
        err_set(&e, ERR_FROM_QEMU, ERR_INTERNAL_ERROR,
                "the guest agent's answer to guest-ssh-get-authorized-keys has no 'keys'");
        req_finish(data, e, NULL);
        g_error_free(e);
        return;
    }
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(keys) && i < GUEST_SSH_KEYS_MAX; i++) {
        const char *k = qemu_json_node_string(json_array_get_element(keys, i));
        if (k)
            g_ptr_array_add(out, g_strdup(k));
    }
    g_ptr_array_add(out, NULL);
    req_finish(data, NULL, g_ptr_array_free(out, FALSE));
}

void
core_guest_ssh_keys_get(struct domain *dom, const char *user, core_value_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(NULL, done, data, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "username", user);
    agent_command(ag, "guest-ssh-get-authorized-keys", args, 0, on_ssh_keys,
                  req_new(dom, NULL, done, data));
}

static void
on_ssh_keys_set(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    req_finish(data, (GError *)error, NULL);
}

static gboolean
has_key(const char *const *keys)
{
    for (gsize i = 0; keys && keys[i]; i++)
        if (*keys[i])
            return TRUE;
    return FALSE;
}

void
core_guest_ssh_keys_set(struct domain *dom, const char *user, const char *const *keys,
                        unsigned flags, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (ag && (flags & GUEST_SSH_KEYS_REMOVE) && (flags & GUEST_SSH_KEYS_APPEND))
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "keys are either appended or removed, not both");
    else if (ag && (flags & GUEST_SSH_KEYS_REMOVE) && !has_key(keys))
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no keys to remove were given");
    else if (ag && (flags & GUEST_SSH_KEYS_APPEND) && !has_key(keys))
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "no keys to append were given");
    if (!ag || error) {
        fail_early(done, NULL, data, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "username", user);
    /* a file's last line break gives an empty key (virsh splits at each): not a key */
    JsonArray *list = json_array_new();
    for (gsize i = 0; keys && keys[i]; i++)
        if (*keys[i])
            json_array_add_string_element(list, keys[i]);
    json_object_set_array_member(args, "keys", list);
    gboolean remove = (flags & GUEST_SSH_KEYS_REMOVE) != 0;
    /* without APPEND the keys replace the file's */
    if (!remove)
        json_object_set_boolean_member(args, "reset", !(flags & GUEST_SSH_KEYS_APPEND));
    agent_command(ag, remove ? "guest-ssh-remove-authorized-keys" : "guest-ssh-add-authorized-keys",
                  args, 0, on_ssh_keys_set, req_new(dom, done, NULL, data));
}

/* ---- interfaces ---- */

static void
guest_ip_free(struct guest_ip *ip)
{
    g_free(ip->addr);
    g_free(ip);
}

struct guest_iface *
guest_iface_new(const char *name, const char *hwaddr)
{
    struct guest_iface *iface = g_new0(struct guest_iface, 1);
    iface->name = g_strdup(name ? name : "");
    iface->hwaddr = g_strdup(hwaddr);
    iface->addrs = g_ptr_array_new_with_free_func((GDestroyNotify)guest_ip_free);
    return iface;
}

void
guest_iface_add(struct guest_iface *iface, int type, const char *addr, unsigned prefix)
{
    struct guest_ip *ip = g_new0(struct guest_ip, 1);
    ip->type = type;
    ip->addr = g_strdup(addr);
    ip->prefix = prefix;
    g_ptr_array_add(iface->addrs, ip);
}

void
guest_iface_free(struct guest_iface *iface)
{
    if (!iface)
        return;
    g_free(iface->name);
    g_free(iface->hwaddr);
    g_ptr_array_unref(iface->addrs);
    g_free(iface);
}

/* Bounds on what a guest may make us hold: as libvirt's wire limits */
#define GUEST_IFACES_MAX 2048
#define GUEST_IFACE_ADDRS_MAX 2048

static void
on_interfaces(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, g_error_copy(error), NULL);
        return;
    }
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify)guest_iface_free);
    JsonArray *a = qemu_json_node_array(result);
    guint n = a ? MIN(json_array_get_length(a), GUEST_IFACES_MAX) : 0;
    for (guint i = 0; i < n; i++) {
        JsonObject *o = qemu_json_element_object(a, i);
        const char *name = qemu_json_string(o, "name");
        if (!name)
            continue;
        struct guest_iface *iface = guest_iface_new(name, qemu_json_string(o, "hardware-address"));
        JsonArray *addrs = qemu_json_array(o, "ip-addresses");
        guint na = addrs ? MIN(json_array_get_length(addrs), GUEST_IFACE_ADDRS_MAX) : 0;
        for (guint j = 0; j < na; j++) {
            JsonObject *ad = qemu_json_element_object(addrs, j);
            const char *type = qemu_json_string(ad, "ip-address-type");
            const char *ip = qemu_json_string(ad, "ip-address");
            gint64 prefix = qemu_json_int_or(ad, "prefix", 0);
            if (!type || !ip || (!g_str_equal(type, "ipv4") && !g_str_equal(type, "ipv6")))
                continue;
            guest_iface_add(iface, g_str_equal(type, "ipv6") ? 1 : 0, ip,
                            (unsigned)CLAMP(prefix, 0, 128));
        }
        g_ptr_array_add(ret, iface);
    }
    req_finish(data, NULL, ret);
}

void
core_guest_interfaces(struct domain *dom, core_value_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(NULL, done, data, error);
        return;
    }
    agent_command(ag, "guest-network-get-interfaces", NULL, 0, on_interfaces,
                  req_new(dom, NULL, done, data));
}

/* --- file systems and users --- */

static void
on_fs_count(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (error) {
        req_finish(data, (GError *)error, NULL);
        return;
    }
    gint *n = g_new(gint, 1);
    *n = result && JSON_NODE_HOLDS_VALUE(result) ? (gint)json_node_get_int(result) : 0;
    req_finish(data, NULL, n);
}

void
core_guest_fs_freeze(struct domain *dom, char *const *mountpoints, gboolean thaw,
                     core_value_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (ag && thaw && mountpoints && mountpoints[0])
        err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                "thawing chosen mount points is not supported: a thaw thaws them all");
    if (!ag || error) {
        fail_early(NULL, done, data, error);
        return;
    }
    JsonObject *args = NULL;
    const char *cmd = thaw ? "guest-fsfreeze-thaw" : "guest-fsfreeze-freeze";
    if (!thaw && mountpoints && mountpoints[0]) {
        cmd = "guest-fsfreeze-freeze-list";
        args = json_object_new();
        JsonArray *list = json_array_new();
        for (guint i = 0; mountpoints[i]; i++)
            json_array_add_string_element(list, mountpoints[i]);
        json_object_set_array_member(args, "mountpoints", list);
    }
    agent_command(ag, cmd, args, 0, on_fs_count, req_new(dom, NULL, done, data));
}

void
core_fsinfo_free(struct core_fsinfo *fs)
{
    g_free(fs->mountpoint);
    g_free(fs->name);
    g_free(fs->fstype);
    g_ptr_array_unref(fs->aliases);
    g_free(fs);
}

/* The target of DOM's disk the agent describes with DISK (its PCI address for virtio, else
 * its serial), or NULL */
static const char *
fs_disk_target(const struct domain_def *def, JsonObject *disk)
{
    JsonObject *pci = qemu_json_object(disk, "pci-controller");
    const char *bus = qemu_json_string(disk, "bus-type");
    const char *serial = qemu_json_string(disk, "serial");
    for (guint i = 0; i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        if (serial && d->serial && g_str_equal(serial, d->serial))
            return d->target_dev;
        if (!pci || g_strcmp0(bus, "virtio") != 0 || d->bus != DISK_BUS_VIRTIO ||
            !d->info.address || g_strcmp0(d->info.address->type, "pci") != 0)
            continue;
        struct pci_address a;
        domain_address_to_pci(d->info.address, &a);
        if (qemu_json_int_or(pci, "domain", -1) == a.domain &&
            qemu_json_int_or(pci, "bus", -1) == a.bus &&
            qemu_json_int_or(pci, "slot", -1) == a.slot &&
            qemu_json_int_or(pci, "function", -1) == a.function)
            return d->target_dev;
    }
    return NULL;
}

static void
on_fsinfo(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    struct req *r = data;
    if (error) {
        req_finish(r, (GError *)error, NULL);
        return;
    }
    JsonArray *list = qemu_json_node_array(result);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)core_fsinfo_free);
    for (guint i = 0; list && i < json_array_get_length(list) && i < CORE_FSINFO_MAX; i++) {
        JsonObject *o = qemu_json_element_object(list, i);
        if (!o || !qemu_json_string(o, "mountpoint"))
            continue;
        struct core_fsinfo *fs = g_new0(struct core_fsinfo, 1);
        fs->mountpoint = g_strdup(qemu_json_string(o, "mountpoint"));
        fs->name = g_strdup(qemu_json_string(o, "name") ? qemu_json_string(o, "name") : "");
        fs->fstype = g_strdup(qemu_json_string(o, "type") ? qemu_json_string(o, "type") : "");
        fs->aliases = g_ptr_array_new_with_free_func(g_free);
        JsonNode *disks = json_object_get_member(o, "disk");
        JsonArray *da = disks && JSON_NODE_HOLDS_ARRAY(disks) ? json_node_get_array(disks) : NULL;
        for (guint j = 0; da && j < json_array_get_length(da) && j < CORE_FSINFO_MAX; j++) {
            JsonObject *disk = qemu_json_element_object(da, j);
            const char *target = disk ? fs_disk_target(r->dom->def, disk) : NULL;
            if (target)
                g_ptr_array_add(fs->aliases, g_strdup(target));
        }
        g_ptr_array_add(out, fs);
    }
    req_finish(r, NULL, out);
}

void
core_guest_fs_info(struct domain *dom, core_value_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (!ag) {
        fail_early(NULL, done, data, error);
        return;
    }
    agent_command(ag, "guest-get-fsinfo", NULL, 0, on_fsinfo, req_new(dom, NULL, done, data));
}

static void
on_simple(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    req_finish(data, (GError *)error, NULL);
}

void
core_guest_set_user_password(struct domain *dom, const char *user, const char *password,
                             gboolean crypted, core_done_fn done, gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (ag && (!user || !*user || !password))
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "a user name and a password are needed to set a guest user's password");
    if (!ag || error) {
        fail_early(done, NULL, data, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "username", user);
    char *b64 = g_base64_encode((const guchar *)password, strlen(password));
    json_object_set_string_member(args, "password", b64);
    explicit_bzero(b64, strlen(b64));
    g_free(b64);
    json_object_set_boolean_member(args, "crypted", crypted);
    agent_command(ag, "guest-set-user-password", args, 0, on_simple,
                  req_new(dom, done, NULL, data));
}

void
core_guest_fstrim(struct domain *dom, const char *mountpoint, guint64 minimum, core_done_fn done,
                  gpointer data)
{
    GError *error = NULL;
    struct agent *ag = core_guest_agent(dom, &error);
    if (ag && mountpoint)
        err_set(&error, ERR_FROM_DOMAIN, ERR_ARGUMENT_UNSUPPORTED,
                "trimming one mount point is not supported: fstrim trims them all");
    if (!ag || error) {
        fail_early(done, NULL, data, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "minimum", (gint64)minimum);
    agent_command(ag, "guest-fstrim", args, 0, on_simple, req_new(dom, done, NULL, data));
}
