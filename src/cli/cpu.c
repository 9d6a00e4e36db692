/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu: cpu-compare, cpu-baseline, hypervisor-cpu-compare and hypervisor-cpu-baseline, as virsh
 * runs them: the <cpu> elements of a file of CPUs, domains, host or domain capabilities. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* virsh's vshExtractCPUDefXMLs: the file's bare <cpu>s, a domain's, a host's (capabilities),
 * or domain capabilities' host-model mode renamed <cpu>. New vector; NULL with ERROR. */
static char **
extract_cpus(const char *path, GError **error)
{
    g_autofree char *text = cli_read_xml_file(path, error);
    if (!text)
        return NULL;
    const char *doc = text;
    const char *decl_end = g_str_has_prefix(text, "<?xml") ? strstr(text, "?>") : NULL;
    if (decl_end)
        doc = decl_end + 2;
    g_autofree char *wrapped = g_strdup_printf("<container>%s</container>", doc);
    xmlDocPtr xml = xmlReadMemory(wrapped, (int)strlen(wrapped), path, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!xml) {
        cli_set_error(error, "(%s):1: the file is not well-formed XML", path);
        return NULL;
    }
    xmlXPathContextPtr ctxt = xmlXPathNewContext(xml);
    xmlXPathObjectPtr found = xmlXPathEvalExpression(
        (const xmlChar *)"/container/cpu|/container/domain/cpu|/container/capabilities/host/cpu|"
                         "/container/domainCapabilities/cpu/"
                         "mode[@name='host-model' and @supported='yes']",
        ctxt);
    xmlNodeSetPtr nodes = found ? found->nodesetval : NULL;
    char **cpus = NULL;
    if (!nodes || nodes->nodeNr == 0) {
        cli_set_error(error,
                      "File '%s' does not contain any <cpu> element or valid domain XML, host "
                      "capabilities XML, or domain capabilities XML",
                      path);
    } else {
        cpus = g_new0(char *, nodes->nodeNr + 1);
        for (int i = 0; i < nodes->nodeNr; i++) {
            xmlNodePtr node = nodes->nodeTab[i];
            if (xmlStrEqual(node->name, (const xmlChar *)"mode")) {
                xmlNodeSetName(node, (const xmlChar *)"cpu");
                while (node->properties)
                    xmlRemoveProp(node->properties);
            }
            xmlBufferPtr buf = xmlBufferCreate();
            xmlNodeDump(buf, xml, node, 0, 0);
            cpus[i] = g_strdup((const char *)xmlBufferContent(buf));
            xmlBufferFree(buf);
        }
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctxt);
    xmlFreeDoc(xml);
    return cpus;
}

/* virConnectCompareCPUFlags and virConnectBaselineCPUFlags */
enum { COMPARE_ERROR = 1, COMPARE_VALIDATE = 2 };
enum { BASELINE_FEATURES = 1, BASELINE_MIGRATABLE = 2 };

static unsigned
compare_flags(struct cli_ctx *ctx)
{
    return (cli_has(ctx, "error") ? COMPARE_ERROR : 0) |
           (cli_has(ctx, "validate") ? COMPARE_VALIDATE : 0);
}

static unsigned
baseline_flags(struct cli_ctx *ctx)
{
    return (cli_has(ctx, "features") ? BASELINE_FEATURES : 0) |
           (cli_has(ctx, "migratable") ? BASELINE_MIGRATABLE : 0);
}

/* What virsh prints for RESULT; FALSE for an incompatible CPU or an error. HYPERVISOR: the
 * hypervisor-cpu-compare wording. */
static gboolean
print_comparison(int result, const char *from, gboolean hypervisor)
{
    switch (result) {
    case 0:
        printf(hypervisor ? "CPU described in %s is incompatible with the CPU provided by "
                            "hypervisor on the host\n"
                          : "CPU described in %s is incompatible with host CPU\n",
               from);
        return FALSE;
    case 1:
        printf(hypervisor ? "CPU described in %s is identical to the CPU provided by hypervisor "
                            "on the host\n"
                          : "CPU described in %s is identical to host CPU\n",
               from);
        break;
    case 2:
        printf(hypervisor ? "The CPU provided by hypervisor on the host is a superset of CPU "
                            "described in %s\n"
                          : "Host CPU is a superset of CPU described in %s\n",
               from);
        break;
    default:
        cli_report(hypervisor ? "Failed to compare hypervisor CPU with %s"
                              : "Failed to compare host CPU with %s",
                   from);
        return FALSE;
    }
    printf("\n");
    return TRUE;
}

static gboolean
cmd_cpu_compare(struct cli_ctx *ctx, GError **error)
{
    const char *from = cli_get(ctx, "file");
    g_auto(GStrv) cpus = extract_cpus(from, error);
    domus_conn *conn = cpus ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    int result = domus_compare_cpu(conn, cpus[0], compare_flags(ctx), error);
    return print_comparison(result, from, FALSE);
}

static gboolean
cmd_hypervisor_cpu_compare(struct cli_ctx *ctx, GError **error)
{
    const char *from = cli_get(ctx, "file");
    g_auto(GStrv) cpus = extract_cpus(from, error);
    domus_conn *conn = cpus ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    int result = domus_compare_hypervisor_cpu(conn, cli_get(ctx, "emulator"), cli_get(ctx, "arch"),
                                              cli_get(ctx, "machine"), cli_get(ctx, "virttype"),
                                              cpus[0], compare_flags(ctx), error);
    return print_comparison(result, from, TRUE);
}

static gboolean
print_baseline(char *result)
{
    if (!result)
        return FALSE;
    printf("%s\n", result);
    g_free(result);
    return TRUE;
}

static gboolean
cmd_cpu_baseline(struct cli_ctx *ctx, GError **error)
{
    g_auto(GStrv) cpus = extract_cpus(cli_get(ctx, "file"), error);
    domus_conn *conn = cpus ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    return print_baseline(
        domus_baseline_cpu(conn, (const char *const *)cpus, baseline_flags(ctx), error));
}

static gboolean
cmd_hypervisor_cpu_baseline(struct cli_ctx *ctx, GError **error)
{
    const char *from = cli_get(ctx, "file");
    const char *model = cli_get(ctx, "model");
    if (from && model) {
        cli_set_error(error, "Options --file and --model are mutually exclusive");
        return FALSE;
    }
    if (!from && !model) {
        cli_set_error(error, "Either --file or --model must be provided");
        return FALSE;
    }
    g_auto(GStrv) cpus = NULL;
    if (from) {
        cpus = extract_cpus(from, error);
    } else {
        /* virsh's shortcut: one model and no features */
        g_autofree char *m = g_markup_escape_text(model, -1);
        cpus = g_new0(char *, 2);
        cpus[0] = g_strdup_printf("<cpu><model>%s</model></cpu>", m);
    }
    domus_conn *conn = cpus ? cli_conn(ctx, error) : NULL;
    if (!conn)
        return FALSE;
    return print_baseline(domus_baseline_hypervisor_cpu(
        conn, cli_get(ctx, "emulator"), cli_get(ctx, "arch"), cli_get(ctx, "machine"),
        cli_get(ctx, "virttype"), (const char *const *)cpus, baseline_flags(ctx), error));
}

#define HV_OPTS                                                                                    \
    {"virttype", OPT_STRING, FALSE, "virtualization type (/domain/@type)"},                        \
        {"emulator", OPT_STRING, FALSE, "path to emulator binary (/domain/devices/emulator)"},     \
        {"arch", OPT_STRING, FALSE, "CPU architecture (/domain/os/type/@arch)"},                   \
    {                                                                                              \
        "machine", OPT_STRING, FALSE, "machine type (/domain/os/type/@machine)"                    \
    }
#define COMPARE_OPTS                                                                               \
    {"error", OPT_BOOL, FALSE, "report error if CPUs are incompatible"},                           \
    {                                                                                              \
        "validate", OPT_BOOL, FALSE, "validate the XML document against schema"                    \
    }
#define BASELINE_OPTS                                                                              \
    {"features", OPT_BOOL, FALSE, "Show features that are part of the CPU model type"},            \
    {                                                                                              \
        "migratable", OPT_BOOL, FALSE, "Do not include features that block migration"              \
    }

static const struct cli_opt cpu_compare_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML CPU description"},
    COMPARE_OPTS,
    {NULL},
};
static const struct cli_opt cpu_baseline_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing XML CPU descriptions"},
    BASELINE_OPTS,
    {NULL},
};
static const struct cli_opt hypervisor_cpu_compare_opts[] = {
    {"file", OPT_DATA, TRUE, "file containing an XML CPU description"},
    HV_OPTS,
    COMPARE_OPTS,
    {NULL},
};
static const struct cli_opt hypervisor_cpu_baseline_opts[] = {
    {"file", OPT_DATA, FALSE, "file containing XML CPU descriptions"},
    HV_OPTS,
    BASELINE_OPTS,
    {"model", OPT_STRING, FALSE,
     "Shortcut for calling the command with a single CPU model and no additional features"},
    {NULL},
};

const struct cli_cmd cli_cpu_cmds[] = {
    {"cpu-compare", cmd_cpu_compare, cpu_compare_opts,
     "compare host CPU with a CPU described by an XML file"},
    {"cpu-baseline", cmd_cpu_baseline, cpu_baseline_opts, "compute baseline CPU"},
    {"hypervisor-cpu-compare", cmd_hypervisor_cpu_compare, hypervisor_cpu_compare_opts,
     "compare a CPU with the CPU created by a hypervisor on the host"},
    {"hypervisor-cpu-baseline", cmd_hypervisor_cpu_baseline, hypervisor_cpu_baseline_opts,
     "compute baseline CPU usable by a specific hypervisor"},
    {NULL},
};
