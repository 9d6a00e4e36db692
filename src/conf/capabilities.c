/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capabilities: build the host capabilities model and format it as libvirt's XML, with
 * libvirt's element order, 2-space indentation and single-quoted attributes. */
#include "conf/capabilities.h"

#include "util/err.h"

static void
capabilities_machine_free(gpointer data)
{
    struct capabilities_machine *machine = data;

    if (!machine)
        return;
    g_free(machine->name);
    g_free(machine->canonical);
    g_free(machine);
}

static void
capabilities_guest_free(gpointer data)
{
    struct capabilities_guest *guest = data;

    if (!guest)
        return;
    g_free(guest->os_type);
    g_free(guest->arch);
    g_free(guest->emulator);
    g_free(guest->loader);
    if (guest->machines)
        g_ptr_array_unref(guest->machines);
    g_free(guest);
}

static void
capabilities_baselabel_free(gpointer data)
{
    struct capabilities_baselabel *label = data;

    if (!label)
        return;
    g_free(label->type);
    g_free(label->label);
    g_free(label);
}

static void
capabilities_secmodel_free(gpointer data)
{
    struct capabilities_secmodel *secmodel = data;

    if (!secmodel)
        return;
    g_free(secmodel->model);
    g_free(secmodel->doi);
    if (secmodel->baselabels)
        g_ptr_array_unref(secmodel->baselabels);
    g_free(secmodel);
}

static void
capabilities_cpu_clear(gpointer data)
{
    struct capabilities_cpu *cpu = data;

    g_clear_pointer(&cpu->siblings, g_free);
}

static void
capabilities_cell_free(gpointer data)
{
    struct capabilities_cell *cell = data;

    if (!cell)
        return;
    if (cell->cpus)
        g_array_unref(cell->cpus);
    if (cell->pages)
        g_array_unref(cell->pages);
    g_free(cell);
}

struct capabilities *
capabilities_new(void)
{
    struct capabilities *caps = g_new0(struct capabilities, 1);

    caps->host.cells = g_ptr_array_new_with_free_func(capabilities_cell_free);
    caps->host.page_sizes = g_array_new(FALSE, FALSE, sizeof(guint));
    caps->host.cpu_features = g_ptr_array_new_with_free_func(g_free);
    caps->host.secmodels = g_ptr_array_new_with_free_func(capabilities_secmodel_free);
    caps->guests = g_ptr_array_new_with_free_func(capabilities_guest_free);
    return caps;
}

void
capabilities_free(struct capabilities *caps)
{
    if (!caps)
        return;
    g_free(caps->host.uuid);
    g_free(caps->host.arch);
    g_free(caps->host.cpu_model);
    g_free(caps->host.cpu_vendor);
    if (caps->host.cpu_features)
        g_ptr_array_unref(caps->host.cpu_features);
    if (caps->host.cells)
        g_ptr_array_unref(caps->host.cells);
    if (caps->host.page_sizes)
        g_array_unref(caps->host.page_sizes);
    if (caps->host.secmodels)
        g_ptr_array_unref(caps->host.secmodels);
    if (caps->guests)
        g_ptr_array_unref(caps->guests);
    g_free(caps);
}

struct capabilities_guest *
capabilities_add_guest(struct capabilities *caps, const char *os_type, const char *arch,
                       guint wordsize, const char *emulator)
{
    struct capabilities_guest *guest = g_new0(struct capabilities_guest, 1);

    guest->os_type = g_strdup(os_type);
    guest->arch = g_strdup(arch);
    guest->wordsize = wordsize;
    guest->emulator = g_strdup(emulator);
    guest->machines = g_ptr_array_new_with_free_func(capabilities_machine_free);
    g_ptr_array_add(caps->guests, guest);
    return guest;
}

void
capabilities_guest_add_machine(struct capabilities_guest *guest, const char *name,
                               const char *canonical, guint max_cpus, gboolean deprecated)
{
    struct capabilities_machine *machine = g_new0(struct capabilities_machine, 1);

    machine->name = g_strdup(name);
    machine->canonical = g_strdup(canonical);
    machine->max_cpus = max_cpus;
    machine->deprecated = deprecated;
    g_ptr_array_add(guest->machines, machine);
}

struct capabilities_secmodel *
capabilities_add_secmodel(struct capabilities *caps, const char *model, const char *doi)
{
    struct capabilities_secmodel *secmodel = g_new0(struct capabilities_secmodel, 1);

    secmodel->model = g_strdup(model);
    secmodel->doi = g_strdup(doi);
    secmodel->baselabels = g_ptr_array_new_with_free_func(capabilities_baselabel_free);
    g_ptr_array_add(caps->host.secmodels, secmodel);
    return secmodel;
}

void
capabilities_secmodel_add_baselabel(struct capabilities_secmodel *secmodel, const char *type,
                                    const char *label)
{
    struct capabilities_baselabel *baselabel = g_new0(struct capabilities_baselabel, 1);

    baselabel->type = g_strdup(type);
    baselabel->label = g_strdup(label);
    g_ptr_array_add(secmodel->baselabels, baselabel);
}

struct capabilities_cell *
capabilities_host_add_cell(struct capabilities_host *host, guint id, guint64 memory_kib)
{
    struct capabilities_cell *cell = g_new0(struct capabilities_cell, 1);

    cell->id = id;
    cell->memory_kib = memory_kib;
    cell->cpus = g_array_new(FALSE, TRUE, sizeof(struct capabilities_cpu));
    cell->pages = g_array_new(FALSE, FALSE, sizeof(struct capabilities_pages));
    g_array_set_clear_func(cell->cpus, capabilities_cpu_clear);
    g_ptr_array_add(host->cells, cell);
    return cell;
}

void
capabilities_cell_add_cpu(struct capabilities_cell *cell, guint id, int socket_id, int die_id,
                          int core_id, const char *siblings)
{
    struct capabilities_cpu cpu = {
        .id = id,
        .socket_id = socket_id,
        .die_id = die_id,
        .core_id = core_id,
        .siblings = g_strdup(siblings),
    };

    g_array_append_val(cell->cpus, cpu);
}

const struct capabilities_guest *
capabilities_find_guest(const struct capabilities *caps, const char *os_type, const char *arch)
{
    for (guint i = 0; i < caps->guests->len; i++) {
        const struct capabilities_guest *guest = g_ptr_array_index(caps->guests, i);

        if (guest->os_type && g_str_equal(guest->os_type, os_type) && guest->arch &&
            g_str_equal(guest->arch, arch))
            return guest;
    }
    return NULL;
}

/* Appends "<indent><NAME>escaped TEXT</NAME>\n". */
static void
capabilities_append_element(GString *buf, int indent, const char *name, const char *text)
{
    g_autofree char *escaped = g_markup_escape_text(text, -1);

    g_string_append_printf(buf, "%*s<%s>%s</%s>\n", indent, "", name, escaped, name);
}

static void
capabilities_format_host_cpu(GString *buf, const struct capabilities_host *host)
{
    g_string_append(buf, "    <cpu>\n");
    capabilities_append_element(buf, 6, "arch", host->arch);
    if (host->cpu_model)
        capabilities_append_element(buf, 6, "model", host->cpu_model);
    if (host->cpu_vendor)
        capabilities_append_element(buf, 6, "vendor", host->cpu_vendor);
    if (host->sockets || host->dies || host->cores || host->threads) {
        g_string_append_printf(buf,
                               "      <topology sockets='%u' dies='%u' cores='%u' "
                               "threads='%u'/>\n",
                               host->sockets, host->dies, host->cores, host->threads);
    }
    for (guint i = 0; host->cpu_features && i < host->cpu_features->len; i++)
        g_string_append_printf(buf, "      <feature name='%s'/>\n",
                               (const char *)host->cpu_features->pdata[i]);
    for (guint i = 0; host->page_sizes && i < host->page_sizes->len; i++)
        g_string_append_printf(buf, "      <pages unit='KiB' size='%u'/>\n",
                               g_array_index(host->page_sizes, guint, i));
    g_string_append(buf, "    </cpu>\n");
}

static void
capabilities_format_cells(GString *buf, const struct capabilities_host *host)
{
    if (host->cells->len == 0)
        return;

    g_string_append(buf, "    <topology>\n");
    g_string_append_printf(buf, "      <cells num='%u'>\n", host->cells->len);
    for (guint i = 0; i < host->cells->len; i++) {
        const struct capabilities_cell *cell = g_ptr_array_index(host->cells, i);

        g_string_append_printf(buf, "        <cell id='%u'>\n", cell->id);
        g_string_append_printf(buf, "          <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                               cell->memory_kib);
        for (guint j = 0; cell->pages && j < cell->pages->len; j++) {
            const struct capabilities_pages *p =
                &g_array_index(cell->pages, struct capabilities_pages, j);
            g_string_append_printf(
                buf, "          <pages unit='KiB' size='%u'>%" G_GUINT64_FORMAT "</pages>\n",
                p->size_kib, p->count);
        }
        g_string_append_printf(buf, "          <cpus num='%u'>\n", cell->cpus->len);
        for (guint j = 0; j < cell->cpus->len; j++) {
            const struct capabilities_cpu *cpu =
                &g_array_index(cell->cpus, struct capabilities_cpu, j);

            g_string_append_printf(buf, "            <cpu id='%u'", cpu->id);
            if (cpu->socket_id >= 0)
                g_string_append_printf(buf, " socket_id='%d'", cpu->socket_id);
            if (cpu->die_id >= 0)
                g_string_append_printf(buf, " die_id='%d'", cpu->die_id);
            if (cpu->core_id >= 0)
                g_string_append_printf(buf, " core_id='%d'", cpu->core_id);
            if (cpu->siblings) {
                g_autofree char *escaped = g_markup_escape_text(cpu->siblings, -1);

                g_string_append_printf(buf, " siblings='%s'", escaped);
            }
            g_string_append(buf, "/>\n");
        }
        g_string_append(buf, "          </cpus>\n");
        g_string_append(buf, "        </cell>\n");
    }
    g_string_append(buf, "      </cells>\n");
    g_string_append(buf, "    </topology>\n");
}

static void
capabilities_format_secmodel(GString *buf, const char *model, const char *doi,
                             const GPtrArray *baselabels)
{
    g_string_append(buf, "    <secmodel>\n");
    capabilities_append_element(buf, 6, "model", model);
    capabilities_append_element(buf, 6, "doi", doi ? doi : "0");
    for (guint i = 0; baselabels && i < baselabels->len; i++) {
        const struct capabilities_baselabel *label = g_ptr_array_index(baselabels, i);
        g_autofree char *type = g_markup_escape_text(label->type, -1);
        g_autofree char *text = g_markup_escape_text(label->label, -1);

        g_string_append_printf(buf, "      <baselabel type='%s'>%s</baselabel>\n", type, text);
    }
    g_string_append(buf, "    </secmodel>\n");
}

static void
capabilities_format_host(GString *buf, const struct capabilities_host *host)
{
    g_string_append(buf, "  <host>\n");
    capabilities_append_element(buf, 4, "uuid", host->uuid);
    capabilities_format_host_cpu(buf, host);
    /* Host suspend (virNodeSuspendForDuration) is not offered, so nothing is listed. */
    g_string_append(buf, "    <power_management/>\n");
    g_string_append(buf, "    <migration_features>\n"
                         "      <live/>\n"
                         "      <uri_transports>\n"
                         "        <uri_transport>tcp</uri_transport>\n"
                         "      </uri_transports>\n"
                         "    </migration_features>\n");
    capabilities_format_cells(buf, host);
    if (host->secmodels->len == 0)
        capabilities_format_secmodel(buf, "none", "0", NULL);
    for (guint i = 0; i < host->secmodels->len; i++) {
        const struct capabilities_secmodel *secmodel = g_ptr_array_index(host->secmodels, i);

        capabilities_format_secmodel(buf, secmodel->model, secmodel->doi, secmodel->baselabels);
    }
    g_string_append(buf, "  </host>\n");
}

static void
capabilities_format_features(GString *buf, guint features)
{
    /* libvirt's virCapsGuestFeatureType order. */
    static const struct {
        guint flag;
        const char *xml;
    } table[] = {
        {CAPABILITIES_FEATURE_PAE, "<pae/>"},
        {CAPABILITIES_FEATURE_NONPAE, "<nonpae/>"},
        {CAPABILITIES_FEATURE_ACPI, "<acpi default='on' toggle='yes'/>"},
        {CAPABILITIES_FEATURE_APIC, "<apic default='on' toggle='no'/>"},
        {CAPABILITIES_FEATURE_CPUSELECTION, "<cpuselection/>"},
        {CAPABILITIES_FEATURE_DEVICEBOOT, "<deviceboot/>"},
        {CAPABILITIES_FEATURE_DISKSNAPSHOT, "<disksnapshot default='on' toggle='no'/>"},
    };

    if (features == 0)
        return;
    g_string_append(buf, "    <features>\n");
    for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
        if (features & table[i].flag)
            g_string_append_printf(buf, "      %s\n", table[i].xml);
    }
    g_string_append(buf, "    </features>\n");
}

static void
capabilities_format_guest(GString *buf, const struct capabilities_guest *guest)
{
    g_autofree char *arch = g_markup_escape_text(guest->arch, -1);

    g_string_append(buf, "  <guest>\n");
    capabilities_append_element(buf, 4, "os_type", guest->os_type ? guest->os_type : "hvm");
    g_string_append_printf(buf, "    <arch name='%s'>\n", arch);
    g_string_append_printf(buf, "      <wordsize>%u</wordsize>\n", guest->wordsize);
    capabilities_append_element(buf, 6, "emulator", guest->emulator);
    if (guest->loader)
        capabilities_append_element(buf, 6, "loader", guest->loader);
    for (guint i = 0; i < guest->machines->len; i++) {
        const struct capabilities_machine *machine = g_ptr_array_index(guest->machines, i);
        g_autofree char *name = g_markup_escape_text(machine->name, -1);

        g_string_append(buf, "      <machine");
        if (machine->canonical) {
            g_autofree char *canonical = g_markup_escape_text(machine->canonical, -1);

            g_string_append_printf(buf, " canonical='%s'", canonical);
        }
        if (machine->max_cpus > 0)
            g_string_append_printf(buf, " maxCpus='%u'", machine->max_cpus);
        if (machine->deprecated)
            g_string_append(buf, " deprecated='yes'");
        g_string_append_printf(buf, ">%s</machine>\n", name);
    }
    g_string_append(buf, "      <domain type='qemu'/>\n");
    if (guest->kvm)
        g_string_append(buf, "      <domain type='kvm'/>\n");
    g_string_append(buf, "    </arch>\n");
    capabilities_format_features(buf, guest->features);
    g_string_append(buf, "  </guest>\n");
}

static gboolean
capabilities_check(const struct capabilities *caps, GError **error)
{
    if (!caps->host.uuid || !caps->host.arch) {
        err_set(error, ERR_FROM_CAPABILITIES, ERR_INTERNAL_ERROR, "host capabilities lack the '%s'",
                !caps->host.uuid ? "uuid" : "arch");
        return FALSE;
    }
    for (guint i = 0; i < caps->guests->len; i++) {
        const struct capabilities_guest *guest = g_ptr_array_index(caps->guests, i);

        if (!guest->arch || !guest->emulator || guest->wordsize == 0) {
            err_set(error, ERR_FROM_CAPABILITIES, ERR_INTERNAL_ERROR,
                    "guest capabilities for arch '%s' lack an emulator or word size",
                    guest->arch ? guest->arch : "(none)");
            return FALSE;
        }
        for (guint j = 0; j < guest->machines->len; j++) {
            const struct capabilities_machine *machine = g_ptr_array_index(guest->machines, j);

            if (!machine->name || !*machine->name) {
                err_set(error, ERR_FROM_CAPABILITIES, ERR_INTERNAL_ERROR,
                        "guest capabilities for arch '%s' list a machine without a name",
                        guest->arch);
                return FALSE;
            }
        }
    }
    return TRUE;
}

char *
capabilities_format(const struct capabilities *caps, GError **error)
{
    g_autoptr(GString) buf = NULL;

    if (!capabilities_check(caps, error))
        return NULL;

    buf = g_string_new("<capabilities>\n\n");
    capabilities_format_host(buf, &caps->host);
    for (guint i = 0; i < caps->guests->len; i++) {
        g_string_append(buf, "\n");
        capabilities_format_guest(buf, g_ptr_array_index(caps->guests, i));
    }
    g_string_append(buf, "\n</capabilities>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}
