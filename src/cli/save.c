/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* save: virsh's save, restore, save-image-*, managedsave* and dump commands, with their options
 * and output. --verbose shows the job's progress, read from a second connection while the save
 * runs. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Running / paused after restore: virsh's --running and --paused, mutually exclusive. */
static gboolean
state_flags(struct cli_ctx *ctx, unsigned *ret, GError **error)
{
    if (cli_has(ctx, "running") && cli_has(ctx, "paused")) {
        cli_set_error(error, "Options --running and --paused are mutually exclusive");
        return FALSE;
    }
    *ret = (cli_has(ctx, "running") ? DOMUS_SAVE_RUNNING : 0) |
           (cli_has(ctx, "paused") ? DOMUS_SAVE_PAUSED : 0) |
           (cli_has(ctx, "bypass-cache") ? DOMUS_SAVE_BYPASS_CACHE : 0);
    return TRUE;
}

/* The --xml FILE option's contents, or NULL (and TRUE) without it. */
static gboolean
xml_option(struct cli_ctx *ctx, char **ret, GError **error)
{
    const char *file = cli_get(ctx, "xml");
    *ret = NULL;
    if (!file)
        return TRUE;
    *ret = cli_read_xml_file(file, error);
    return *ret != NULL;
}

/* --- save and managedsave: a job, with progress when asked --- */

struct save_run {
    domus_domain *dom;
    const char *path; /* NULL: managed save */
    const char *xml;
    unsigned flags;
    gboolean dump;       /* a core dump to PATH, in FORMAT */
    unsigned format;     /* virDomainCoreDumpFormat */
    domus_domain *watch; /* the domain on a second connection; NULL: no progress */
};

static gboolean
save_run(gpointer data, GError **error)
{
    struct save_run *s = data;
    if (s->dump)
        return domus_domain_core_dump(s->dom, s->path, s->format, s->flags, error);
    if (s->path)
        return domus_domain_save(s->dom, s->path, s->xml, s->flags, error);
    return domus_domain_managed_save(s->dom, s->flags, error);
}

static gboolean
save_poll(gpointer data, guint64 *ret_remaining, guint64 *ret_total)
{
    struct save_run *s = data;
    int type = 0;
    g_auto(GStrv) params = NULL;
    if (!s->watch || !domus_domain_get_job_stats(s->watch, 0, &type, &params, NULL) ||
        type != DOMUS_JOB_BOUNDED)
        return FALSE;
    guint64 total = 0, remaining = 0;
    for (int i = 0; params[i] && params[i + 1]; i += 2) {
        if (g_str_equal(params[i], "data_total"))
            total = g_ascii_strtoull(params[i + 1], NULL, 10);
        else if (g_str_equal(params[i], "data_remaining"))
            remaining = g_ascii_strtoull(params[i + 1], NULL, 10);
    }
    if (!total)
        return FALSE;
    *ret_remaining = remaining;
    *ret_total = total;
    return TRUE;
}

static gboolean
run_save(struct cli_ctx *ctx, struct save_run *s, GError **error)
{
    if (!cli_has(ctx, "verbose"))
        return save_run(s, error);
    /* progress is best effort: without a second connection the save runs all the same */
    domus_conn *conn = domus_domain_get_connect(s->dom);
    domus_conn *watch = domus_open(domus_get_uri(conn), ctx->readonly, NULL);
    s->watch = watch ? domus_domain_lookup(watch, domus_domain_get_uuid(s->dom), NULL) : NULL;
    gboolean ok = cli_with_progress(s->dump   ? "Dump"
                                    : s->path ? "Save"
                                              : "Managedsave",
                                    TRUE, save_run, save_poll, s, error);
    domus_domain_free(s->watch);
    domus_close(watch);
    return ok;
}

static gboolean
cmd_save(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    unsigned flags;
    g_autofree char *xml = NULL;
    if (!state_flags(ctx, &flags, error) || !xml_option(ctx, &xml, error))
        return FALSE;
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    struct save_run s = {.dom = dom, .path = file, .xml = xml, .flags = flags};
    g_autoptr(GError) err = NULL;
    gboolean ok = run_save(ctx, &s, &err);
    if (ok) {
        printf("\nDomain '%s' saved to %s\n\n", domus_domain_get_name(dom), file);
    } else {
        cli_report("Failed to save domain '%s' to %s", domus_domain_get_name(dom), file);
        g_propagate_error(error, g_steal_pointer(&err));
    }
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_dump(struct cli_ctx *ctx, GError **error)
{
    static const char *const formats[] = {"elf",          "kdump-zlib", "kdump-lzo",
                                          "kdump-snappy", "win-dmp",    NULL};
    enum { CRASH = 1, LIVE = 2, BYPASS_CACHE = 4, RESET = 8, MEMORY_ONLY = 16 };
    const char *file = cli_get(ctx, "file"), *format = cli_get(ctx, "format");
    unsigned flags = (cli_has(ctx, "live") ? LIVE : 0) | (cli_has(ctx, "crash") ? CRASH : 0) |
                     (cli_has(ctx, "bypass-cache") ? BYPASS_CACHE : 0) |
                     (cli_has(ctx, "reset") ? RESET : 0) |
                     (cli_has(ctx, "memory-only") ? MEMORY_ONLY : 0);
    guint f = 0;
    if (format) {
        if (!(flags & MEMORY_ONLY)) {
            cli_set_error(error, "--format only works with --memory-only");
            return FALSE;
        }
        while (formats[f] && !g_str_equal(formats[f], format))
            f++;
        if (!formats[f]) {
            cli_set_error(error,
                          "format '%s' is not supported, expecting 'kdump-zlib', 'kdump-lzo', "
                          "'kdump-snappy', 'win-dmp' or 'elf'",
                          format);
            return FALSE;
        }
    }
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    struct save_run s = {.dom = dom, .path = file, .flags = flags, .dump = TRUE, .format = f};
    g_autoptr(GError) err = NULL;
    if (!run_save(ctx, &s, &err)) {
        cli_report("Failed to core dump domain '%s' to %s", domus_domain_get_name(dom), file);
        g_propagate_error(error, g_steal_pointer(&err));
        return FALSE;
    }
    printf("\nDomain '%s' dumped to %s\n\n", domus_domain_get_name(dom), file);
    return TRUE;
}

static gboolean
cmd_managedsave(struct cli_ctx *ctx, GError **error)
{
    unsigned flags;
    if (!state_flags(ctx, &flags, error))
        return FALSE;
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    struct save_run s = {.dom = dom, .flags = flags};
    g_autoptr(GError) err = NULL;
    gboolean ok = run_save(ctx, &s, &err);
    if (ok) {
        printf("\nDomain '%s' state saved by libvirt\n\n", domus_domain_get_name(dom));
    } else {
        cli_report("Failed to save domain '%s' state", domus_domain_get_name(dom));
        g_propagate_error(error, g_steal_pointer(&err));
    }
    domus_domain_free(dom);
    return ok;
}

static gboolean
cmd_restore(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    unsigned flags;
    g_autofree char *xml = NULL;
    if (!state_flags(ctx, &flags, error) || !xml_option(ctx, &xml, error))
        return FALSE;
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    if (!domus_restore(conn, file, xml, flags, error)) {
        cli_report("Failed to restore domain from %s", file);
        return FALSE;
    }
    printf("Domain restored from %s\n\n", file);
    return TRUE;
}

/* --- the definition kept in an image: a file's, or a domain's managed one --- */

static char *
image_xml(struct cli_ctx *ctx, domus_domain *dom, unsigned flags, GError **error)
{
    if (dom)
        return domus_domain_managed_save_get_xml(dom, flags, error);
    domus_conn *conn = cli_conn(ctx, error);
    return conn ? domus_save_image_get_xml(conn, cli_get(ctx, "file"), flags, error) : NULL;
}

static gboolean
image_define(struct cli_ctx *ctx, domus_domain *dom, const char *xml, unsigned flags,
             GError **error)
{
    if (dom)
        return domus_domain_managed_save_define(dom, xml, flags, error);
    domus_conn *conn = cli_conn(ctx, error);
    return conn && domus_save_image_define(conn, cli_get(ctx, "file"), xml, flags, error);
}

static gboolean
dumpxml(struct cli_ctx *ctx, domus_domain *dom, GError **error)
{
    unsigned flags = cli_has(ctx, "security-info") ? DOMUS_SAVE_IMAGE_XML_SECURE : 0;
    g_autofree char *xml = image_xml(ctx, dom, flags, error);
    if (!xml)
        return FALSE;
    return cli_print_xml(ctx, xml, error);
}

static gboolean
define(struct cli_ctx *ctx, domus_domain *dom, GError **error)
{
    unsigned flags;
    if (!state_flags(ctx, &flags, error))
        return FALSE;
    g_autofree char *xml = cli_read_xml_file(cli_get(ctx, "xml"), error);
    return xml && image_define(ctx, dom, xml, flags, error);
}

static gboolean
edit(struct cli_ctx *ctx, domus_domain *dom, gboolean *ret_changed, GError **error)
{
    unsigned flags;
    if (!state_flags(ctx, &flags, error))
        return FALSE;
    g_autofree char *xml = image_xml(ctx, dom, DOMUS_SAVE_IMAGE_XML_SECURE, error);
    g_autofree char *edited = xml ? cli_edit_xml(xml, error) : NULL;
    if (!edited)
        return FALSE;
    *ret_changed = !g_str_equal(edited, xml) || flags;
    return !*ret_changed || image_define(ctx, dom, edited, flags, error);
}

static gboolean
cmd_save_image_dumpxml(struct cli_ctx *ctx, GError **error)
{
    return dumpxml(ctx, NULL, error);
}

static gboolean
cmd_save_image_define(struct cli_ctx *ctx, GError **error)
{
    if (!define(ctx, NULL, error)) {
        cli_report("Failed to update %s", cli_get(ctx, "file"));
        return FALSE;
    }
    printf("State file %s updated.\n\n", cli_get(ctx, "file"));
    return TRUE;
}

static gboolean
cmd_save_image_edit(struct cli_ctx *ctx, GError **error)
{
    gboolean changed = FALSE;
    if (!edit(ctx, NULL, &changed, error)) {
        cli_report("Failed to update %s", cli_get(ctx, "file"));
        return FALSE;
    }
    printf(changed ? "State file %s edited.\n\n"
                   : "Saved image %s XML configuration not changed.\n\n",
           cli_get(ctx, "file"));
    return TRUE;
}

/* Runs FN on the "domain" option's domain, with virsh's failure line. */
static gboolean
with_managed(struct cli_ctx *ctx, gboolean (*fn)(struct cli_ctx *, domus_domain *, GError **),
             const char *failmsg, GError **error)
{
    domus_domain *dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    gboolean ok = fn(ctx, dom, error);
    if (!ok)
        cli_report(failmsg, domus_domain_get_name(dom));
    domus_domain_free(dom);
    return ok;
}

static gboolean
managed_remove(struct cli_ctx *ctx, domus_domain *dom, GError **error)
{
    int has = domus_domain_has_managed_save(dom, error);
    if (has < 0)
        return FALSE;
    if (!has) {
        printf("Domain '%s' has no manage save image; removal skipped\n\n",
               domus_domain_get_name(dom));
        return TRUE;
    }
    if (!domus_domain_managed_save_remove(dom, error))
        return FALSE;
    printf("Removed managedsave image for domain '%s'\n\n", domus_domain_get_name(dom));
    return TRUE;
}

static gboolean
managed_define(struct cli_ctx *ctx, domus_domain *dom, GError **error)
{
    if (!define(ctx, dom, error))
        return FALSE;
    printf("Managed save image of domain '%s' updated.\n\n", domus_domain_get_name(dom));
    return TRUE;
}

static gboolean
managed_edit(struct cli_ctx *ctx, domus_domain *dom, GError **error)
{
    gboolean changed = FALSE;
    if (!edit(ctx, dom, &changed, error))
        return FALSE;
    printf(changed ? "Managed save image of Domain '%s' XML configuration edited.\n\n"
                   : "Managed save image of domain '%s' XML configuration not changed.\n\n",
           domus_domain_get_name(dom));
    return TRUE;
}

static gboolean
cmd_managedsave_remove(struct cli_ctx *ctx, GError **error)
{
    return with_managed(ctx, managed_remove, "Failed to remove managedsave image for domain '%s'",
                        error);
}

static gboolean
cmd_managedsave_dumpxml(struct cli_ctx *ctx, GError **error)
{
    g_autoptr(domus_domain) dom = cli_domain(ctx, error);
    if (!dom)
        return FALSE;
    unsigned flags = cli_has(ctx, "security-info") ? DOMUS_SAVE_IMAGE_XML_SECURE : 0;
    g_autofree char *xml = image_xml(ctx, dom, flags, error);
    if (!xml) {
        cli_report("Failed to get the managed save image XML of domain '%s'",
                   domus_domain_get_name(dom));
        return FALSE;
    }
    /* an --xpath that selects no nodes is not the image's failure */
    return cli_print_xml(ctx, xml, error);
}

static gboolean
cmd_managedsave_define(struct cli_ctx *ctx, GError **error)
{
    return with_managed(ctx, managed_define,
                        "Failed to update the managed save image of domain '%s'", error);
}

static gboolean
cmd_managedsave_edit(struct cli_ctx *ctx, GError **error)
{
    return with_managed(ctx, managed_edit, "Failed to edit the managed save image of domain '%s'",
                        error);
}

#define RUNNING_OPT                                                                                \
    {                                                                                              \
        "running", OPT_BOOL, FALSE, "set domain to be running on restore"                          \
    }
#define PAUSED_OPT                                                                                 \
    {                                                                                              \
        "paused", OPT_BOOL, FALSE, "set domain to be paused on restore"                            \
    }
#define BYPASS_OPT                                                                                 \
    {                                                                                              \
        "bypass-cache", OPT_BOOL, FALSE, "avoid file system cache when saving"                     \
    }

static const struct cli_opt save_opts[] = {
    DOMAIN_OPT,
    {"file", OPT_DATA, TRUE, "where to save the data"},
    BYPASS_OPT,
    {"xml", OPT_STRING, FALSE, "filename containing updated XML for the target"},
    RUNNING_OPT,
    PAUSED_OPT,
    {"verbose", OPT_BOOL, FALSE, "display the progress of save"},
    {NULL},
};
static const struct cli_opt restore_opts[] = {
    {"file", OPT_DATA, TRUE, "the state to restore"},
    {"bypass-cache", OPT_BOOL, FALSE, "avoid file system cache when restoring"},
    {"xml", OPT_STRING, FALSE, "filename containing updated XML for the target"},
    RUNNING_OPT,
    PAUSED_OPT,
    {NULL},
};
static const struct cli_opt image_dumpxml_opts[] = {
    {"file", OPT_DATA, TRUE, "saved state file to read"},
    {"security-info", OPT_BOOL, FALSE, "include security sensitive information in XML dump"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt image_define_opts[] = {
    {"file", OPT_DATA, TRUE, "saved state file to modify"},
    {"xml", OPT_DATA, TRUE, "filename containing updated XML for the target"},
    RUNNING_OPT,
    PAUSED_OPT,
    {NULL},
};
static const struct cli_opt image_edit_opts[] = {
    {"file", OPT_DATA, TRUE, "saved state file to edit"},
    RUNNING_OPT,
    PAUSED_OPT,
    {NULL},
};
static const struct cli_opt managedsave_opts[] = {
    DOMAIN_OPT,
    BYPASS_OPT,
    RUNNING_OPT,
    PAUSED_OPT,
    {"verbose", OPT_BOOL, FALSE, "display the progress of save"},
    {NULL},
};
static const struct cli_opt managed_dom_opts[] = {DOMAIN_OPT, {NULL}};
static const struct cli_opt managed_dumpxml_opts[] = {
    DOMAIN_OPT,
    {"security-info", OPT_BOOL, FALSE, "include security sensitive information in XML dump"},
    CLI_XPATH_OPTS,
    {NULL},
};
static const struct cli_opt managed_define_opts[] = {
    DOMAIN_OPT,  {"xml", OPT_DATA, TRUE, "filename containing updated XML for the target"},
    RUNNING_OPT, PAUSED_OPT,
    {NULL},
};
static const struct cli_opt managed_edit_opts[] = {DOMAIN_OPT, RUNNING_OPT, PAUSED_OPT, {NULL}};

static const struct cli_opt dump_opts[] = {
    DOMAIN_OPT,
    {"file", OPT_DATA, TRUE, "where to dump the core"},
    {"live", OPT_BOOL, FALSE, "perform a live core dump if supported"},
    {"crash", OPT_BOOL, FALSE, "crash the domain after core dump"},
    {"bypass-cache", OPT_BOOL, FALSE, "avoid file system cache when dumping"},
    {"reset", OPT_BOOL, FALSE, "reset the domain after core dump"},
    {"verbose", OPT_BOOL, FALSE, "display the progress of dump"},
    {"memory-only", OPT_BOOL, FALSE, "dump domain's memory only"},
    {"format", OPT_STRING, FALSE, "specify the format of memory-only dump"},
    {NULL},
};

const struct cli_cmd cli_save_cmds[] = {
    {"save", cmd_save, save_opts, "save a domain state to a file"},
    {"restore", cmd_restore, restore_opts, "restore a domain from a saved state in a file"},
    {"save-image-dumpxml", cmd_save_image_dumpxml, image_dumpxml_opts,
     "saved state domain information in XML"},
    {"save-image-define", cmd_save_image_define, image_define_opts,
     "redefine the XML for a domain's saved state file"},
    {"save-image-edit", cmd_save_image_edit, image_edit_opts,
     "edit XML for a domain's saved state file"},
    {"managedsave", cmd_managedsave, managedsave_opts, "managed save of a domain state"},
    {"dump", cmd_dump, dump_opts, "dump the core of a domain to a file for analysis"},
    {"managedsave-remove", cmd_managedsave_remove, managed_dom_opts,
     "Remove managed save of a domain"},
    {"managedsave-dumpxml", cmd_managedsave_dumpxml, managed_dumpxml_opts,
     "Domain information of managed save state file in XML"},
    {"managedsave-define", cmd_managedsave_define, managed_define_opts,
     "redefine the XML for a domain's managed save state file"},
    {"managedsave-edit", cmd_managedsave_edit, managed_edit_opts,
     "edit XML for a domain's managed save state file"},
    {NULL},
};
