/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain commands: virsh's names, options and output layout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

/* libvirt's enum values the commands pass on */
enum {
    LIST_ACTIVE = 1,
    LIST_INACTIVE = 2,
    LIST_PERSISTENT = 4,
    LIST_TRANSIENT = 8,
    LIST_RUNNING = 16,
    LIST_PAUSED = 32,
    LIST_SHUTOFF = 64,
    LIST_MANAGEDSAVE = 256,
    LIST_NO_MANAGEDSAVE = 512,
    LIST_AUTOSTART = 1024,
    LIST_NO_AUTOSTART = 2048
};
enum { XML_SECURE = 1, XML_INACTIVE = 2 };
enum {
    CREATE_PAUSED = 1,
    CREATE_AUTODESTROY = 2,
    CREATE_BYPASS_CACHE = 4,
    CREATE_FORCE_BOOT = 8,
    CREATE_VALIDATE = 16
};
enum { DEFINE_VALIDATE = 1 };
enum { POWER_ACPI = 1, POWER_AGENT = 2 };
enum { DESTROY_GRACEFUL = 1 };

static const char *const state_names[] = {"no state",    "running",  "idle",    "paused",
                                          "in shutdown", "shut off", "crashed", "pmsuspended"};

static const char *
state_name(int s)
{
    return s >= 0 && s < (int)G_N_ELEMENTS(state_names) ? state_names[s] : "unknown";
}

static const char *
reason_name(int state, int reason)
{
    static const char *const running[] = {
        "unknown",       "booted",   "migrated",           "restored",
        "from snapshot", "unpaused", "migration canceled", "save canceled",
        "event wakeup",  "crashed",  "post-copy"};
    static const char *const paused[] = {
        "unknown",   "user",        "migrating",     "saving",          "dumping",
        "I/O error", "watchdog",    "from snapshot", "shutting down",   "creating snapshot",
        "crashed",   "starting up", "post-copy",     "post-copy failed"};
    static const char *const shutdown[] = {"unknown", "user"};
    static const char *const shutoff[] = {"unknown", "shutdown",      "destroyed",
                                          "crashed", "migrated",      "saved",
                                          "failed",  "from snapshot", "daemon"};
    static const char *const crashed[] = {"unknown", "panicked"};
#define PICK(t) return reason >= 0 && reason < (int)G_N_ELEMENTS(t) ? t[reason] : "unknown"
    switch (state) {
    case 1:
        PICK(running);
    case 3:
        PICK(paused);
    case 4:
        PICK(shutdown);
    case 5:
        PICK(shutoff);
    case 6:
        PICK(crashed);
    default:
        return "unknown";
    }
#undef PICK
}

static char *
read_file(const char *path, GError **error)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    return text;
}

/* Runs FN on the domain and prints MSG ("Domain '%s' started") on success. FAILMSG is
 * printed before the error on failure. */
typedef gboolean (*dom_fn)(domus_domain *dom, struct cli_ctx *ctx, GError **error);

static gboolean
with_domain(struct cli_ctx *ctx, dom_fn fn, const char *okmsg, const char *failmsg, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    g_autoptr(GError) err = NULL;
    gboolean ok = fn(dom, ctx, &err);
    if (ok && okmsg) {
        printf(okmsg, domus_domain_get_name(dom));
        printf("\n\n");
    } else if (!ok) {
        fprintf(stderr, "error: ");
        fprintf(stderr, failmsg, domus_domain_get_name(dom));
        fprintf(stderr, "\n");
        g_propagate_error(error, g_steal_pointer(&err));
    }
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_domcontrol(struct cli_ctx *ctx, GError **error)
{
    static const char *const states[] = {"ok", "background job", "occupied", "error"};
    static const char *const reasons[] = {"", "unknown", "monitor failure",
                                          "internal (locking) error"};
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    struct domus_control_info info;
    if (!dom || !domus_domain_get_control_info(dom, &info, error))
        return FALSE;
    const char *state = info.state < G_N_ELEMENTS(states) ? states[info.state] : "unknown";
    if (info.state != 0 && info.state != 3)
        printf("%s (%0.3fs)\n", state, info.state_time_ms / 1000.0);
    else if (info.state == 3 && info.details > 0)
        printf("%s: %s\n", state,
               info.details < G_N_ELEMENTS(reasons) ? reasons[info.details] : "unknown");
    else
        printf("%s\n", state);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_set_lifecycle_action(struct cli_ctx *ctx, GError **error)
{
    static const char *const types[] = {"poweroff", "reboot", "crash", NULL};
    static const char *const actions[] = {"destroy",  "restart",          "rename-restart",
                                          "preserve", "coredump-destroy", "coredump-restart",
                                          NULL};
    const char *type = cli_get(ctx, "type"), *action = cli_get(ctx, "action");
    if (!g_strv_contains(types, type)) {
        cli_set_error(error, "Invalid lifecycle type '%s'.", type);
        return FALSE;
    }
    if (!g_strv_contains(actions, action)) {
        cli_set_error(error, "Invalid lifecycle action '%s'.", action);
        return FALSE;
    }
    unsigned flags;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !cli_impact(ctx, dom, FALSE, FALSE, &flags, error))
        return FALSE;
    guint t = 0, a = 0;
    while (!g_str_equal(types[t], type))
        t++;
    while (!g_str_equal(actions[a], action))
        a++;
    if (!domus_domain_set_lifecycle_action(dom, t, a, flags, error)) {
        fprintf(stderr, "error: Unable to change lifecycle action.\n");
        return FALSE;
    }
    printf("\n");
    return TRUE;
}

/* --- list --- */

static gboolean
cmd_list(struct cli_ctx *ctx, GError **error)
{
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    unsigned flags = LIST_ACTIVE;
    if (cli_has(ctx, "all"))
        flags = LIST_ACTIVE | LIST_INACTIVE;
    if (cli_has(ctx, "inactive"))
        flags = LIST_INACTIVE;
    if (cli_has(ctx, "transient"))
        flags |= LIST_TRANSIENT;
    if (cli_has(ctx, "persistent"))
        flags |= LIST_PERSISTENT;
    if (cli_has(ctx, "autostart"))
        flags |= LIST_AUTOSTART;
    if (cli_has(ctx, "no-autostart"))
        flags |= LIST_NO_AUTOSTART;
    if (cli_has(ctx, "with-managed-save"))
        flags |= LIST_MANAGEDSAVE;
    if (cli_has(ctx, "without-managed-save"))
        flags |= LIST_NO_MANAGEDSAVE;
    unsigned states = 0;
    if (cli_has(ctx, "state-running"))
        states |= LIST_RUNNING;
    if (cli_has(ctx, "state-paused"))
        states |= LIST_PAUSED;
    if (cli_has(ctx, "state-shutoff"))
        states |= LIST_SHUTOFF;
    if (states)
        flags = (flags & ~(unsigned)(LIST_ACTIVE | LIST_INACTIVE)) | states;
    domus_domain **list = domus_list_domains(conn, flags, error);
    if (!list)
        return FALSE;
    gboolean ok = TRUE;
    if (cli_has(ctx, "name") || cli_has(ctx, "uuid")) {
        for (int i = 0; list[i]; i++) {
            if (cli_has(ctx, "name") && cli_has(ctx, "uuid"))
                printf("%-36s %s\n", domus_domain_get_uuid(list[i]),
                       domus_domain_get_name(list[i]));
            else
                printf("%s\n", cli_has(ctx, "name") ? domus_domain_get_name(list[i])
                                                    : domus_domain_get_uuid(list[i]));
        }
        printf("\n");
        domus_domain_list_free(list);
        return TRUE;
    }
    /* a table like virsh's: columns padded to their widest cell, three spaces apart */
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *states_txt = g_ptr_array_new_with_free_func(g_free);
    gsize wid = 2, wname = 4, wstate = 5;
    for (int i = 0; list[i]; i++) {
        int st, reason;
        g_autoptr(GError) err = NULL;
        if (!domus_domain_get_state(list[i], &st, &reason, &err))
            st = 0;
        int id = domus_domain_get_id(list[i]);
        char *idtxt = id >= 0 ? g_strdup_printf("%d", id) : g_strdup("-");
        g_ptr_array_add(ids, idtxt);
        /* --managed-save: a shut off domain with an image reads "saved", as in virsh */
        const char *stname = state_name(st);
        if (st == 5 /* shut off */ && cli_has(ctx, "managed-save") &&
            domus_domain_has_managed_save(list[i], NULL) == 1)
            stname = "saved";
        g_ptr_array_add(states_txt, g_strdup(stname));
        wid = MAX(wid, strlen(idtxt));
        wname = MAX(wname, strlen(domus_domain_get_name(list[i])));
        wstate = MAX(wstate, strlen(stname));
    }
    printf(" %-*s   %-*s   %s\n", (int)wid, "Id", (int)wname, "Name", "State");
    g_autofree char *dashes = g_strnfill(wid + wname + wstate + 9, '-');
    printf("%s\n", dashes);
    for (int i = 0; list[i]; i++)
        printf(" %-*s   %-*s   %s\n", (int)wid, (char *)ids->pdata[i], (int)wname,
               domus_domain_get_name(list[i]), (char *)states_txt->pdata[i]);
    printf("\n");
    g_ptr_array_free(ids, TRUE);
    g_ptr_array_free(states_txt, TRUE);
    domus_domain_list_free(list);
    return ok;
}

/* --- define / undefine / create / start --- */

static gboolean
cmd_define(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = read_file(file, error);
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    domus_domain *dom =
        domus_domain_define(conn, xml, cli_has(ctx, "validate") ? DEFINE_VALIDATE : 0, error);
    if (!dom) {
        fprintf(stderr, "error: Failed to define domain from %s\n", file);
        return FALSE;
    }
    printf("Domain '%s' defined from %s\n\n", domus_domain_get_name(dom), file);
    domus_domain_free(dom);
    return TRUE;
}

static gboolean
do_undefine(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    /* virDomainUndefineFlagsValues: MANAGED_SAVE */
    return domus_domain_undefine(dom, cli_has(ctx, "managed-save") ? 1 : 0, error);
}

static gboolean
cmd_undefine(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_undefine, "Domain '%s' has been undefined",
                       "Failed to undefine domain '%s'", error);
}

static gboolean
cmd_create(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    g_autofree char *xml = read_file(file, error);
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    unsigned flags = (cli_has(ctx, "paused") ? CREATE_PAUSED : 0) |
                     (cli_has(ctx, "autodestroy") ? CREATE_AUTODESTROY : 0) |
                     (cli_has(ctx, "validate") ? CREATE_VALIDATE : 0);
    domus_domain *dom = domus_domain_create_xml(conn, xml, flags, error);
    if (!dom) {
        fprintf(stderr, "error: Failed to create domain from %s\n", file);
        return FALSE;
    }
    printf("Domain '%s' created from %s\n\n", domus_domain_get_name(dom), file);
    domus_domain_free(dom);
    return TRUE;
}

static gboolean
do_start(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    unsigned flags = (cli_has(ctx, "paused") ? CREATE_PAUSED : 0) |
                     (cli_has(ctx, "autodestroy") ? CREATE_AUTODESTROY : 0) |
                     (cli_has(ctx, "bypass-cache") ? CREATE_BYPASS_CACHE : 0) |
                     (cli_has(ctx, "force-boot") ? CREATE_FORCE_BOOT : 0);
    return domus_domain_start(dom, flags, error);
}

static gboolean
cmd_start(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_start, "Domain '%s' started", "Failed to start domain '%s'", error);
}

/* --- power --- */

static gboolean
mode_flags(struct cli_ctx *ctx, unsigned *ret, GError **error)
{
    const char *mode = cli_get(ctx, "mode");
    *ret = 0;
    if (!mode)
        return TRUE;
    g_auto(GStrv) modes = g_strsplit(mode, ",", 0);
    for (int i = 0; modes[i]; i++) {
        if (g_str_equal(modes[i], "acpi"))
            *ret |= POWER_ACPI;
        else if (g_str_equal(modes[i], "agent"))
            *ret |= POWER_AGENT;
        else {
            g_set_error(error, domus_error_quark(), 8,
                        "unknown mode value '%s'; use 'acpi' or 'agent'", modes[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
do_shutdown(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    return mode_flags(ctx, &flags, error) && domus_domain_shutdown(dom, flags, error);
}

static gboolean
cmd_shutdown(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_shutdown, "Domain '%s' is being shutdown",
                       "Failed to shutdown domain '%s'", error);
}

static gboolean
do_reboot(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    return mode_flags(ctx, &flags, error) && domus_domain_reboot(dom, flags, error);
}

static gboolean
cmd_reboot(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_reboot, "Domain '%s' is being rebooted",
                       "Failed to reboot domain '%s'", error);
}

static gboolean
do_destroy(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    return domus_domain_destroy(dom, cli_has(ctx, "graceful") ? DESTROY_GRACEFUL : 0, error);
}

static gboolean
cmd_destroy(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_destroy, "Domain '%s' destroyed", "Failed to destroy domain '%s'",
                       error);
}

static gboolean
do_reset(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    return domus_domain_reset(dom, error);
}

static gboolean
cmd_reset(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_reset, "Domain '%s' was reset", "Failed to reset domain '%s'",
                       error);
}

static gboolean
do_suspend(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    return domus_domain_suspend(dom, error);
}

static gboolean
cmd_suspend(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_suspend, "Domain '%s' suspended", "Failed to suspend domain '%s'",
                       error);
}

static gboolean
do_resume(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    return domus_domain_resume(dom, error);
}

static gboolean
cmd_resume(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_resume, "Domain '%s' resumed", "Failed to resume domain '%s'",
                       error);
}

static gboolean
do_autostart(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    return domus_domain_set_autostart(dom, !cli_has(ctx, "disable"), error);
}

static gboolean
cmd_autostart(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_autostart,
                       cli_has(ctx, "disable") ? "Domain '%s' unmarked as autostarted"
                                               : "Domain '%s' marked as autostarted",
                       cli_has(ctx, "disable") ? "Failed to unmark domain '%s' as autostarted"
                                               : "Failed to mark domain '%s' as autostarted",
                       error);
}

/* --- title, description, metadata --- */

static gboolean
cmd_desc(struct cli_ctx *ctx, GError **error)
{
    gboolean title = cli_has(ctx, "title");
    int type = title ? DOMUS_METADATA_TITLE : DOMUS_METADATA_DESCRIPTION;
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags = 0;
    if (!dom || !cli_impact(ctx, dom, FALSE, FALSE, &flags, error))
        return FALSE;
    /* virsh reads the current definition, or the persistent one with --config */
    g_autoptr(GError) err = NULL;
    g_autofree char *old = domus_domain_get_metadata(dom, type, NULL, flags & 2, &err);
    if (!old) {
        if (!g_error_matches(err, domus_error_quark(), 80)) {
            g_propagate_error(error, g_steal_pointer(&err));
            return FALSE;
        }
        old = g_strdup("");
    }
    const char *new_desc = cli_get(ctx, "new-desc");
    if (!cli_has(ctx, "edit") && !new_desc) {
        if (*old)
            printf("%s\n", old);
        else
            printf("No %s for domain: %s\n", title ? "title" : "description",
                   domus_domain_get_name(dom));
        return TRUE;
    }
    g_autofree char *value = g_strdup(new_desc ? new_desc : old);
    if (cli_has(ctx, "edit")) {
        g_autofree char *edited = cli_edit_xml(value, error);
        if (!edited)
            return FALSE;
        gsize len = strlen(edited);
        if (title && len && edited[len - 1] == '\n')
            edited[len - 1] = '\0'; /* editors add one */
        if (g_str_equal(edited, old)) {
            printf("Domain %s not changed\n", title ? "title" : "description");
            return TRUE;
        }
        g_free(value);
        value = g_steal_pointer(&edited);
    }
    if (!domus_domain_set_metadata(dom, type, value, NULL, NULL, flags, error)) {
        cli_report("Failed to set new domain %s", title ? "title" : "description");
        return FALSE;
    }
    printf("Domain %s updated successfully\n", title ? "title" : "description");
    return TRUE;
}

static gboolean
cmd_metadata(struct cli_ctx *ctx, GError **error)
{
    const char *uri = cli_get(ctx, "uri"), *key = cli_get(ctx, "key");
    const char *set = cli_get(ctx, "set");
    gboolean edit = cli_has(ctx, "edit"), remove = cli_has(ctx, "remove");
    const char *clash = edit && set      ? "--edit and --set"
                        : remove && set  ? "--remove and --set"
                        : remove && edit ? "--remove and --edit"
                                         : NULL;
    if (clash) {
        cli_set_error(error, "Options %s are mutually exclusive", clash);
        return FALSE;
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    unsigned flags = 0;
    if (!dom || !cli_impact(ctx, dom, FALSE, FALSE, &flags, error))
        return FALSE;
    if ((set || edit) && !key) {
        cli_set_error(error, "namespace key is required when modifying metadata");
        return FALSE;
    }
    if (set || remove) {
        if (!domus_domain_set_metadata(dom, DOMUS_METADATA_ELEMENT, set, key, uri, flags, error))
            return FALSE;
        printf("%s\n\n", remove ? "Metadata removed" : "Metadata modified");
        return TRUE;
    }
    g_autoptr(GError) err = NULL;
    g_autofree char *old = domus_domain_get_metadata(dom, DOMUS_METADATA_ELEMENT, uri, flags, &err);
    if (!edit) {
        if (!old) {
            g_propagate_error(error, g_steal_pointer(&err));
            return FALSE;
        }
        printf("%s\n\n", old);
        return TRUE;
    }
    if (!old)
        old = g_strdup("\n"); /* nothing yet: an empty file to write it in */
    g_autofree char *edited = cli_edit_xml(old, error);
    if (!edited)
        return FALSE;
    if (g_str_equal(edited, old)) {
        printf("Metadata not changed\n");
        return TRUE;
    }
    if (!domus_domain_set_metadata(dom, DOMUS_METADATA_ELEMENT, edited, key, uri, flags, error))
        return FALSE;
    printf("Metadata modified\n\n");
    return TRUE;
}

/* --- queries --- */

static gboolean
do_dominfo(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    struct domus_domain_info info;
    g_autofree char *ostype = domus_domain_get_os_type(dom, error);
    if (!ostype || !domus_domain_get_info(dom, &info, error))
        return FALSE;
    int persistent = domus_domain_is_persistent(dom, error);
    int autostart = persistent >= 0 ? domus_domain_get_autostart(dom, error) : -1;
    if (autostart < 0)
        return FALSE;
    int id = domus_domain_get_id(dom);
    if (id >= 0)
        printf("%-15s %d\n", "Id:", id);
    else
        printf("%-15s %s\n", "Id:", "-");
    printf("%-15s %s\n", "Name:", domus_domain_get_name(dom));
    printf("%-15s %s\n", "UUID:", domus_domain_get_uuid(dom));
    printf("%-15s %s\n", "OS Type:", ostype);
    printf("%-15s %s\n", "State:", state_name(info.state));
    printf("%-15s %u\n", "CPU(s):", info.vcpus);
    if (info.cpu_time_ns)
        printf("%-15s %.1lfs\n", "CPU time:", (double)info.cpu_time_ns / 1e9);
    printf("%-15s %" G_GUINT64_FORMAT " KiB\n", "Max memory:", info.max_mem_kib);
    printf("%-15s %" G_GUINT64_FORMAT " KiB\n", "Used memory:", info.memory_kib);
    printf("%-15s %s\n", "Persistent:", persistent ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", autostart ? "enable" : "disable");
    int managed = domus_domain_has_managed_save(dom, error);
    if (managed < 0)
        return FALSE;
    printf("%-15s %s\n", "Managed save:", managed ? "yes" : "no");
    printf("%-15s %s\n", "Security model:", "none");
    printf("%-15s %s\n", "Security DOI:", "0");
    g_auto(GStrv) msgs = domus_domain_get_messages(dom, error);
    if (!msgs)
        return FALSE;
    for (int i = 0; msgs[i]; i++)
        printf("%-15s %s\n", i == 0 ? "Messages:" : "", msgs[i]);
    printf("\n");
    return TRUE;
}

static gboolean
cmd_dominfo(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_dominfo, NULL, "Failed to get information of domain '%s'", error);
}

static gboolean
do_domstate(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    int st, reason;
    if (!domus_domain_get_state(dom, &st, &reason, error))
        return FALSE;
    if (cli_has(ctx, "reason"))
        printf("%s (%s)\n\n", state_name(st), reason_name(st, reason));
    else
        printf("%s\n\n", state_name(st));
    return TRUE;
}

static gboolean
cmd_domstate(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_domstate, NULL, "Failed to get state of domain '%s'", error);
}

/* --- jobs: virsh's cmdDomjobinfo and cmdDomjobabort --- */

static const char *
job_type_name(int type)
{
    static const char *const names[] = {"None",      "Bounded", "Unbounded",
                                        "Completed", "Failed",  "Cancelled"};
    return type >= 0 && type < (int)G_N_ELEMENTS(names) ? names[type] : "Unknown";
}

static const char *
job_operation_name(int op)
{
    static const char *const names[] = {
        "Unknown",
        "Start",
        "Save",
        "Restore",
        "Incoming migration",
        "Outgoing migration",
        "Snapshot",
        "Snapshot revert",
        "Dump",
        "Backup",
        "Snapshot delete",
    };
    return op >= 0 && op < (int)G_N_ELEMENTS(names) ? names[op] : "Unknown";
}

static const char *
param(char **params, const char *field)
{
    for (guint i = 0; params && params[i]; i += 2)
        if (g_str_equal(params[i], field))
            return params[i + 1];
    return NULL;
}

static guint64
param_u64(char **params, const char *field)
{
    guint64 v = 0;
    const char *text = param(params, field);
    if (text)
        g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &v, NULL);
    return v;
}

/* virsh's vshPrettyCapacity with "%-.3lf %s" */
static void
print_capacity(const char *label, guint64 val)
{
    const char *unit;
    double v = cli_pretty_capacity(val, &unit);
    printf("%-17s %-.3lf %s\n", label, v, unit);
}

/* A migration's figures, in virsh's words and order */
static void
print_migration(char **params, int type)
{
    guint64 total = param_u64(params, "memory_total");
    guint64 processed = param_u64(params, "memory_processed");
    guint64 remaining = param_u64(params, "memory_remaining");
    if (total || processed || remaining) {
        print_capacity("Memory processed:", processed);
        print_capacity("Memory remaining:", remaining);
        print_capacity("Memory total:", total);
        guint64 bps = param_u64(params, "memory_bps");
        if (bps) {
            const char *unit;
            double v = cli_pretty_capacity(bps, &unit);
            printf("%-17s %-.3lf %s/s\n", "Memory bandwidth:", v, unit);
        }
        if (param(params, "memory_dirty_rate"))
            printf("%-17s %-12" G_GUINT64_FORMAT " pages/s\n",
                   "Dirty rate:", param_u64(params, "memory_dirty_rate"));
        if (param(params, "memory_page_size"))
            printf("%-17s %-12" G_GUINT64_FORMAT " bytes\n",
                   "Page size:", param_u64(params, "memory_page_size"));
        if (param(params, "memory_iteration"))
            printf("%-17s %-12" G_GUINT64_FORMAT "\n",
                   "Iteration:", param_u64(params, "memory_iteration"));
    }
    guint64 ftotal = param_u64(params, "disk_total");
    guint64 fprocessed = param_u64(params, "disk_processed");
    guint64 fremaining = param_u64(params, "disk_remaining");
    if (ftotal || fprocessed || fremaining) {
        print_capacity("File processed:", fprocessed);
        print_capacity("File remaining:", fremaining);
        print_capacity("File total:", ftotal);
    }
    if (param(params, "disk_temp_used"))
        print_capacity("Temporary disk space use:", param_u64(params, "disk_temp_used"));
    if (param(params, "disk_temp_total"))
        print_capacity("Temporary disk space total:", param_u64(params, "disk_temp_total"));
    if (param(params, "memory_constant"))
        printf("%-17s %-12" G_GUINT64_FORMAT "\n",
               "Constant pages:", param_u64(params, "memory_constant"));
    if (param(params, "memory_normal"))
        printf("%-17s %-12" G_GUINT64_FORMAT "\n",
               "Normal pages:", param_u64(params, "memory_normal"));
    if (param(params, "memory_normal_bytes"))
        print_capacity("Normal data:", param_u64(params, "memory_normal_bytes"));
    if (param(params, "downtime"))
        printf("%-17s %-12" G_GUINT64_FORMAT " ms\n",
               type == DOMUS_JOB_COMPLETED ? "Total downtime:" : "Expected downtime:",
               param_u64(params, "downtime"));
    if (param(params, "setup_time"))
        printf("%-17s %-12" G_GUINT64_FORMAT " ms\n",
               "Setup time:", param_u64(params, "setup_time"));
    if (param(params, "auto_converge_throttle"))
        printf("%-17s %-13d\n",
               "Auto converge throttle:", (int)param_u64(params, "auto_converge_throttle"));
}

static gboolean
do_domjobinfo(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    unsigned flags = (cli_has(ctx, "completed") ? DOMUS_JOB_STATS_COMPLETED : 0) |
                     (cli_has(ctx, "keep-completed") ? DOMUS_JOB_STATS_KEEP_COMPLETED : 0);
    int type;
    g_auto(GStrv) params = NULL;
    if (!domus_domain_get_job_stats(dom, flags, &type, &params, error))
        return FALSE;
    if (cli_has(ctx, "rawstats")) {
        printf("Job type: %d\n\n", type);
        for (guint i = 0; params[i]; i += 2)
            printf("%s: %s\n", params[i], params[i + 1]);
        printf("\n");
        return TRUE;
    }
    printf("%-17s %-12s\n", "Job type:", job_type_name(type));
    if (type == DOMUS_JOB_NONE) {
        printf("\n");
        return TRUE;
    }
    {
        gint64 op =
            param(params, "operation") ? g_ascii_strtoll(param(params, "operation"), NULL, 10) : 0;
        printf("%-17s %-12s\n", "Operation:", job_operation_name((int)op));
    }
    if (cli_has(ctx, "anystats") || type == DOMUS_JOB_BOUNDED || type == DOMUS_JOB_UNBOUNDED ||
        ((flags & DOMUS_JOB_STATS_COMPLETED) && type == DOMUS_JOB_COMPLETED)) {
        printf("%-17s %-12" G_GUINT64_FORMAT " ms\n",
               "Time elapsed:", param_u64(params, "time_elapsed"));
        if (type == DOMUS_JOB_BOUNDED)
            printf("%-17s %-12" G_GUINT64_FORMAT " ms\n",
                   "Time remaining:", param_u64(params, "time_remaining"));
        guint64 total = param_u64(params, "data_total");
        guint64 processed = param_u64(params, "data_processed");
        guint64 remaining = param_u64(params, "data_remaining");
        if (total || processed || remaining) {
            print_capacity("Data processed:", processed);
            print_capacity("Data remaining:", remaining);
            print_capacity("Data total:", total);
        }
        print_migration(params, type);
    }
    printf("\n");
    return TRUE;
}

static gboolean
cmd_domjobinfo(struct cli_ctx *ctx, GError **error)
{
    if (cli_has(ctx, "keep-completed") && !cli_has(ctx, "completed")) {
        g_set_error(error, domus_error_quark(), 8,
                    "Option --keep-completed requires option --completed");
        return FALSE;
    }
    return with_domain(ctx, do_domjobinfo, NULL, "Failed to get job information of domain '%s'",
                       error);
}

static gboolean
do_domjobabort(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    return domus_domain_abort_job(dom, error);
}

static gboolean
cmd_domjobabort(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_domjobabort, NULL, "Failed to abort job of domain '%s'", error);
}

static gboolean
cmd_domid(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    if (domus_domain_get_id(dom) >= 0)
        printf("%d\n\n", domus_domain_get_id(dom));
    else
        printf("-\n\n");
    domus_domain_free(dom);
    return TRUE;
}

static gboolean
cmd_domname(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    printf("%s\n\n", domus_domain_get_name(dom));
    domus_domain_free(dom);
    return TRUE;
}

static gboolean
cmd_domuuid(struct cli_ctx *ctx, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    printf("%s\n\n", domus_domain_get_uuid(dom));
    domus_domain_free(dom);
    return TRUE;
}

static gboolean
cmd_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    unsigned flags = (cli_has(ctx, "inactive") ? XML_INACTIVE : 0) |
                     (cli_has(ctx, "security-info") ? XML_SECURE : 0);
    g_autofree char *xml = domus_domain_get_xml(dom, flags, error);
    if (!xml) {
        cli_report("Failed to get the XML of domain '%s'", domus_domain_get_name(dom));
        return FALSE;
    }
    /* an --xpath that selects no nodes is not the domain's failure */
    return cli_print_xml(ctx, xml, error);
}

/* domxml-to-native: the XML of a file or of a domain (--domain), as QEMU's command line */
static gboolean
cmd_domxml_to_native(struct cli_ctx *ctx, GError **error)
{
    const char *format = cli_get(ctx, "format");
    const char *file = cli_get(ctx, "xml");
    if (file && cli_get(ctx, "domain")) {
        cli_report("Options --xml and --domain are mutually exclusive");
        return FALSE;
    }
    g_autofree char *xml = NULL;
    if (cli_get(ctx, "domain")) {
        domus_domain *dom = cli_domain(ctx, error);
        if (!dom)
            return FALSE;
        xml = domus_domain_get_xml(dom, 0, error);
        domus_domain_free(dom);
    } else if (file) {
        xml = read_file(file, error);
    } else {
        cli_report("need either domain or domain XML");
        return FALSE;
    }
    domus_conn *conn = xml ? cli_conn(ctx, error) : NULL;
    g_autofree char *native = conn ? domus_xml_to_native(conn, format, xml, error) : NULL;
    if (!native)
        return FALSE;
    printf("%s\n", native);
    return TRUE;
}

static gboolean
cmd_domxml_from_native(struct cli_ctx *ctx, GError **error)
{
    g_autofree char *config = cli_read_xml_file(cli_get(ctx, "config"), error);
    domus_conn *conn = config ? cli_conn(ctx, error) : NULL;
    g_autofree char *xml =
        conn ? domus_xml_from_native(conn, cli_get(ctx, "format"), config, error) : NULL;
    if (!xml)
        return FALSE;
    printf("%s\n", xml);
    return TRUE;
}

/* virsh's signal names: lower case, "sig" prefix optional, or a number */
static int
signal_number(const char *name)
{
    static const char *const names[] = {
        "nop",  "hup",  "int",  "quit", "ill",    "trap",   "abrt",  "bus",  "fpe",  "kill", "usr1",
        "segv", "usr2", "pipe", "alrm", "term",   "stkflt", "chld",  "cont", "stop", "tstp", "ttin",
        "ttou", "urg",  "xcpu", "xfsz", "vtalrm", "prof",   "winch", "poll", "pwr",  "sys",  "rt0",
        "rt1",  "rt2",  "rt3",  "rt4",  "rt5",    "rt6",    "rt7",   "rt8",  "rt9",  "rt10", "rt11",
        "rt12", "rt13", "rt14", "rt15", "rt16",   "rt17",   "rt18",  "rt19", "rt20", "rt21", "rt22",
        "rt23", "rt24", "rt25", "rt26", "rt27",   "rt28",   "rt29",  "rt30", "rt31", "rt32", NULL};
    g_autofree char *lower = g_ascii_strdown(name, -1);
    gint64 n;
    if (g_ascii_string_to_signed(lower, 10, G_MININT32, G_MAXINT32, &n, NULL))
        return (int)n;
    const char *p = g_str_has_prefix(lower, "sig") ? lower + 3 : lower;
    for (int i = 0; names[i]; i++)
        if (g_str_equal(names[i], p))
            return i;
    return -1;
}

static gboolean
cmd_send_process_signal(struct cli_ctx *ctx, GError **error)
{
    gint64 pid;
    const char *signame = cli_get(ctx, "signame");
    if (!g_ascii_string_to_signed(cli_get(ctx, "pid"), 10, G_MININT64, G_MAXINT64, &pid, NULL)) {
        cli_set_error(error, "Numeric value '%s' for <pid> option is malformed or out of range",
                      cli_get(ctx, "pid"));
        return FALSE;
    }
    int signum = signal_number(signame);
    if (signum < 0) {
        cli_set_error(error, "malformed signal name: %s", signame);
        return FALSE;
    }
    domus_domain *dom = cli_domain(ctx, error);
    gboolean ok = dom && domus_domain_send_process_signal(dom, pid, (unsigned)signum, error);
    domus_domain_free(dom);
    if (ok)
        printf("\n");
    return ok;
}

/* edit: the inactive, secure XML goes to $VISUAL or $EDITOR; the result is defined again.
 * On any error the old definition stays as it was. */
static gboolean
do_edit(domus_domain *dom, struct cli_ctx *ctx, GError **error)
{
    g_autofree char *xml = domus_domain_get_xml(dom, XML_INACTIVE | XML_SECURE, error);
    if (!xml)
        return FALSE;
    g_autofree char *edited = cli_edit_xml(xml, error);
    if (!edited)
        return FALSE;
    if (g_str_equal(edited, xml)) {
        printf("Domain '%s' XML configuration not changed.\n\n", domus_domain_get_name(dom));
        return TRUE;
    }
    domus_domain *ndom =
        domus_domain_define(domus_domain_get_connect(dom), edited, DEFINE_VALIDATE, error);
    if (!ndom)
        return FALSE;
    printf("Domain '%s' XML configuration edited.\n\n", domus_domain_get_name(ndom));
    domus_domain_free(ndom);
    return TRUE;
}

static gboolean
cmd_edit(struct cli_ctx *ctx, GError **error)
{
    return with_domain(ctx, do_edit, NULL, "Failed to edit domain '%s'", error);
}

static const struct cli_opt list_opts[] = {
    {"inactive", OPT_BOOL, FALSE, "list inactive domains"},
    {"all", OPT_BOOL, FALSE, "list inactive & active domains"},
    {"transient", OPT_BOOL, FALSE, "list transient domains"},
    {"persistent", OPT_BOOL, FALSE, "list persistent domains"},
    {"autostart", OPT_BOOL, FALSE, "list domains with autostart enabled"},
    {"no-autostart", OPT_BOOL, FALSE, "list domains with autostart disabled"},
    {"state-running", OPT_BOOL, FALSE, "list domains in running state"},
    {"state-paused", OPT_BOOL, FALSE, "list domains in paused state"},
    {"state-shutoff", OPT_BOOL, FALSE, "list domains in shutoff state"},
    {"uuid", OPT_BOOL, FALSE, "list uuid's only"},
    {"name", OPT_BOOL, FALSE, "list domain names only"},
    {"managed-save", OPT_BOOL, FALSE, "mark inactive domains with managed save state"},
    {"with-managed-save", OPT_BOOL, FALSE, "list domains with managed save state"},
    {"without-managed-save", OPT_BOOL, FALSE, "list domains without managed save"},
    {NULL},
};
static const struct cli_opt file_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML domain description"},
    {"validate", OPT_BOOL, FALSE, "validate the XML against the schema"},
    {NULL},
};
static const struct cli_opt create_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML domain description"},
    {"paused", OPT_BOOL, FALSE, "leave the guest paused after creation"},
    {"autodestroy", OPT_BOOL, FALSE, "automatically destroy the guest when virsh disconnects"},
    {"validate", OPT_BOOL, FALSE, "validate the XML against the schema"},
    {NULL},
};
static const struct cli_opt start_opts[] = {
    DOMAIN_OPT,
    {"paused", OPT_BOOL, FALSE, "leave the guest paused after creation"},
    {"autodestroy", OPT_BOOL, FALSE, "automatically destroy the guest when virsh disconnects"},
    {"bypass-cache", OPT_BOOL, FALSE, "avoid file system cache when loading"},
    {"force-boot", OPT_BOOL, FALSE, "force fresh boot by discarding any managed save"},
    {NULL},
};
static const struct cli_opt dom_opts[] = {DOMAIN_OPT, {NULL}};
static const struct cli_opt undefine_opts[] = {
    DOMAIN_OPT,
    {"managed-save", OPT_BOOL, FALSE, "remove domain managed state file"},
    {NULL},
};
static const struct cli_opt jobinfo_opts[] = {
    DOMAIN_OPT,
    {"completed", OPT_BOOL, FALSE, "return statistics of a recently completed job"},
    {"keep-completed", OPT_BOOL, FALSE, "don't destroy statistics of a recently completed job"},
    {"anystats", OPT_BOOL, FALSE, "print statistics for any kind of job (even failed ones)"},
    {"rawstats", OPT_BOOL, FALSE, "print the raw data returned by libvirt"},
    {NULL},
};
static const struct cli_opt power_opts[] = {
    DOMAIN_OPT,
    {"mode", OPT_STRING, FALSE, "shutdown mode: acpi|agent"},
    {NULL},
};
static const struct cli_opt destroy_opts[] = {
    DOMAIN_OPT,
    {"graceful", OPT_BOOL, FALSE, "terminate gracefully"},
    {NULL},
};
static const struct cli_opt state_opts[] = {
    DOMAIN_OPT,
    {"reason", OPT_BOOL, FALSE, "also print reason for the state"},
    {NULL},
};
static const struct cli_opt from_native_opts[] = {
    {"format", OPT_DATA, TRUE, "source config data format"},
    {"config", OPT_DATA, TRUE, "config data file to import from"},
    {NULL},
};
static const struct cli_opt send_process_signal_opts[] = {
    DOMAIN_OPT,
    {"pid", OPT_DATA, TRUE, "the process ID"},
    {"signame", OPT_DATA, TRUE, "the signal number or name"},
    {NULL},
};
static const struct cli_opt to_native_opts[] = {
    {"format", OPT_DATA, TRUE, "target config data type format"},
    {"xml", OPT_DATA, FALSE, "xml data file to export from"},
    {"domain", OPT_STRING, FALSE, "domain object"},
    {NULL},
};
static const struct cli_opt dumpxml_opts[] = {
    DOMAIN_OPT,
    {"inactive", OPT_BOOL, FALSE, "show inactive defined XML"},
    {"security-info", OPT_BOOL, FALSE, "include security sensitive information in XML dump"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt lifecycle_opts[] = {
    DOMAIN_OPT,
    {"type", OPT_DATA, TRUE, "lifecycle type to modify"},
    {"action", OPT_DATA, TRUE, "lifecycle action to set"},
    CLI_IMPACT_OPTS,
    {NULL},
};
static const struct cli_opt autostart_opts[] = {
    DOMAIN_OPT,
    {"disable", OPT_BOOL, FALSE, "disable autostarting"},
    {NULL},
};

static const struct cli_opt desc_opts[] = {
    DOMAIN_OPT,
    {"live", OPT_BOOL, FALSE, "modify/get running state"},
    {"config", OPT_BOOL, FALSE, "modify/get persistent configuration"},
    {"current", OPT_BOOL, FALSE, "modify/get current state configuration"},
    {"title", OPT_BOOL, FALSE, "modify/get the title instead of description"},
    {"edit", OPT_BOOL, FALSE, "open an editor to modify the description"},
    {"new-desc", OPT_REST, FALSE, "message"},
    {NULL},
};
static const struct cli_opt metadata_opts[] = {
    DOMAIN_OPT,
    {"uri", OPT_DATA, TRUE, "URI of the namespace"},
    {"live", OPT_BOOL, FALSE, "modify/get running state"},
    {"config", OPT_BOOL, FALSE, "modify/get persistent configuration"},
    {"current", OPT_BOOL, FALSE, "modify/get current state configuration"},
    {"edit", OPT_BOOL, FALSE, "use an editor to change the metadata"},
    {"key", OPT_STRING, FALSE, "key to be used as a namespace identifier"},
    {"set", OPT_STRING, FALSE, "new metadata to set"},
    {"remove", OPT_BOOL, FALSE, "remove the metadata corresponding to an uri"},
    {NULL},
};

static gboolean
cmd_domrename(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom || !domus_domain_rename(dom, cli_get(ctx, "new-name"), error))
        return FALSE;
    printf("Domain successfully renamed\n\n");
    return TRUE;
}

static const struct cli_opt domrename_opts[] = {
    DOMAIN_OPT,
    {"new-name", OPT_DATA, TRUE, "new domain name"},
    {NULL},
};

const struct cli_cmd cli_domain_cmds[] = {
    {"domrename", cmd_domrename, domrename_opts, "rename a domain"},
    {"desc", cmd_desc, desc_opts, "show or set domain's description or title"},
    {"metadata", cmd_metadata, metadata_opts, "show or set domain's custom XML metadata"},
    {"list", cmd_list, list_opts, "list domains"},
    {"define", cmd_define, file_opts, "define (but don't start) a domain from an XML file"},
    {"undefine", cmd_undefine, undefine_opts, "undefine a domain"},
    {"create", cmd_create, create_opts, "create a domain from an XML file"},
    {"start", cmd_start, start_opts, "start a (previously defined) inactive domain"},
    {"shutdown", cmd_shutdown, power_opts, "gracefully shutdown a domain"},
    {"reboot", cmd_reboot, power_opts, "reboot a domain"},
    {"destroy", cmd_destroy, destroy_opts, "destroy (stop) a domain"},
    {"reset", cmd_reset, dom_opts, "reset a domain"},
    {"suspend", cmd_suspend, dom_opts, "suspend a domain"},
    {"resume", cmd_resume, dom_opts, "resume a domain"},
    {"dominfo", cmd_dominfo, dom_opts, "domain information"},
    {"domstate", cmd_domstate, state_opts, "domain state"},
    {"domid", cmd_domid, dom_opts, "convert a domain name or UUID to domain id"},
    {"domcontrol", cmd_domcontrol, dom_opts, "domain control interface state"},
    {"set-lifecycle-action", cmd_set_lifecycle_action, lifecycle_opts, "change lifecycle actions"},
    {"domjobabort", cmd_domjobabort, dom_opts, "abort active domain job"},
    {"domjobinfo", cmd_domjobinfo, jobinfo_opts, "domain job information"},
    {"domname", cmd_domname, dom_opts, "convert a domain id or UUID to domain name"},
    {"domuuid", cmd_domuuid, dom_opts, "convert a domain name or id to domain UUID"},
    {"dumpxml", cmd_dumpxml, dumpxml_opts, "domain information in XML"},
    {"domxml-from-native", cmd_domxml_from_native, from_native_opts,
     "Convert native config to domain XML"},
    {"send-process-signal", cmd_send_process_signal, send_process_signal_opts,
     "Send signals to processes"},
    {"domxml-to-native", cmd_domxml_to_native, to_native_opts,
     "Convert domain XML to native config"},
    {"edit", cmd_edit, dom_opts, "edit XML configuration for a domain"},
    {"autostart", cmd_autostart, autostart_opts, "autostart a domain"},
    {NULL},
};
