/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domcaps: <domainCapabilities>, in libvirt's element order; what Domus does not support is
 * said so (supported='no', an empty enum) rather than left out, as libvirt does. */
#include "conf/domcaps.h"

#include "conf/domain_def.h"
#include "conf/xml_util.h"

static void
open_tag(GString *b, int indent, const char *name, gboolean supported)
{
    g_string_append_printf(b, "%*s<%s supported='%s'>\n", indent, "", name,
                           supported ? "yes" : "no");
}

static void
flag(GString *b, int indent, const char *name, gboolean supported)
{
    g_string_append_printf(b, "%*s<%s supported='%s'/>\n", indent, "", name,
                           supported ? "yes" : "no");
}

static void
close_tag(GString *b, int indent, const char *name)
{
    g_string_append_printf(b, "%*s</%s>\n", indent, "", name);
}

/* <enum name='NAME'> with VALUES (NULL-terminated; NULL: none), "<enum name='NAME'/>" when
 * empty */
static void
enum_values(GString *b, int indent, const char *name, const char *const *values)
{
    if (!values || !values[0]) {
        g_string_append_printf(b, "%*s<enum name='%s'/>\n", indent, "", name);
        return;
    }
    g_string_append_printf(b, "%*s<enum name='%s'>\n", indent, "", name);
    for (guint i = 0; values[i]; i++) {
        g_string_append_printf(b, "%*s<value>", indent + 2, "");
        xml_util_append_escaped(b, values[i]);
        g_string_append(b, "</value>\n");
    }
    close_tag(b, indent, "enum");
}

static void
format_os(GString *b, const struct domcaps *caps)
{
    static const char *const yes_no[] = {"yes", "no", NULL};
    static const char *const no[] = {"no", NULL};
    open_tag(b, 2, "os", TRUE);
    /* firmware autoselection (<os firmware='efi'>) is not built: the loader is named */
    enum_values(b, 4, "firmware", NULL);
    open_tag(b, 4, "loader", TRUE);
    for (guint i = 0; caps->loaders && caps->loaders[i]; i++) {
        g_string_append(b, "      <value>");
        xml_util_append_escaped(b, caps->loaders[i]);
        g_string_append(b, "</value>\n");
    }
    enum_values(b, 6, "type", domain_def_enum_values(DOMAIN_DEF_ENUM_LOADER_TYPE));
    enum_values(b, 6, "readonly", yes_no);
    enum_values(b, 6, "secure", no); /* Secure Boot (SMM) is not built */
    close_tag(b, 4, "loader");
    close_tag(b, 2, "os");
}

static void
format_cpu(GString *b, const struct domcaps *caps)
{
    g_string_append(b, "  <cpu>\n");
    flag(b, 4, "mode name='host-passthrough'", caps->host_passthrough);
    /* QEMU's "max": every feature the accelerator can give */
    flag(b, 4, "mode name='maximum'", TRUE);
    /* the hypervisor's CPU as a model (what a host-model guest gets) */
    if (!caps->host_model) {
        flag(b, 4, "mode name='host-model'", FALSE);
    } else {
        open_tag(b, 4, "mode name='host-model'", TRUE);
        g_string_append(b, "      <model fallback='forbid'>");
        xml_util_append_escaped(b, caps->host_model);
        g_string_append(b, "</model>\n");
        if (caps->host_model_vendor)
            g_string_append_printf(b, "      <vendor>%s</vendor>\n", caps->host_model_vendor);
        for (gsize i = 0; caps->host_model_require && caps->host_model_require[i]; i++)
            g_string_append_printf(b, "      <feature policy='require' name='%s'/>\n",
                                   caps->host_model_require[i]);
        for (gsize i = 0; caps->host_model_disable && caps->host_model_disable[i]; i++)
            g_string_append_printf(b, "      <feature policy='disable' name='%s'/>\n",
                                   caps->host_model_disable[i]);
        close_tag(b, 4, "mode");
    }
    open_tag(b, 4, "mode name='custom'", caps->n_cpu_models > 0);
    for (gsize i = 0; i < caps->n_cpu_models; i++) {
        g_string_append_printf(b, "      <model usable='%s'>", caps->cpu_models[i].usable);
        xml_util_append_escaped(b, caps->cpu_models[i].name);
        g_string_append(b, "</model>\n");
    }
    close_tag(b, 4, "mode");
    g_string_append(b, "  </cpu>\n");
}

static void
format_devices(GString *b, const struct domcaps *caps)
{
    g_string_append(b, "  <devices>\n");
    open_tag(b, 4, "disk", TRUE);
    enum_values(b, 6, "diskDevice", domain_def_enum_values(DOMAIN_DEF_ENUM_DISK_DEVICE));
    enum_values(b, 6, "bus", domain_def_enum_values(DOMAIN_DEF_ENUM_DISK_BUS));
    enum_values(b, 6, "model", NULL); /* <disk model> is not taken */
    close_tag(b, 4, "disk");
    /* with SPICE, virt-install and virt-manager add its agent channel, USB redirection,
     * <vmport state='off'/> and sound to the client: all of them are built */
    static const char *const graphics_offered[] = {"vnc", "spice", NULL};
    static const char *const graphics_vnc[] = {"vnc", NULL};
    open_tag(b, 4, "graphics", TRUE);
    enum_values(b, 6, "type", caps->spice ? graphics_offered : graphics_vnc);
    close_tag(b, 4, "graphics");
    open_tag(b, 4, "video", TRUE);
    enum_values(b, 6, "modelType", domain_def_enum_values(DOMAIN_DEF_ENUM_VIDEO_MODEL));
    close_tag(b, 4, "video");
    static const char *const vfio[] = {"vfio", NULL};
    open_tag(b, 4, "hostdev", TRUE);
    enum_values(b, 6, "mode", domain_def_enum_values(DOMAIN_DEF_ENUM_HOSTDEV_MODE));
    enum_values(b, 6, "startupPolicy", NULL);
    enum_values(b, 6, "subsysType", domain_def_enum_values(DOMAIN_DEF_ENUM_HOSTDEV_TYPE));
    enum_values(b, 6, "capsType", NULL);
    enum_values(b, 6, "pciBackend", caps->vfio ? vfio : NULL);
    close_tag(b, 4, "hostdev");
    open_tag(b, 4, "rng", TRUE);
    enum_values(b, 6, "model", domain_def_enum_values(DOMAIN_DEF_ENUM_RNG_MODEL));
    enum_values(b, 6, "backendModel", domain_def_enum_values(DOMAIN_DEF_ENUM_RNG_BACKEND));
    close_tag(b, 4, "rng");
    flag(b, 4, "filesystem", FALSE);
    flag(b, 4, "tpm", FALSE);
    static const char *const usb[] = {"usb", NULL};
    if (caps->spice) {
        open_tag(b, 4, "redirdev", TRUE);
        enum_values(b, 6, "bus", usb);
        close_tag(b, 4, "redirdev");
    } else {
        flag(b, 4, "redirdev", FALSE);
    }
    /* the channel types a <channel> takes; spicevmc where SPICE is */
    static const char *const channel_types[] = {"pty", "file", "unix", "null", "spicevmc", NULL};
    static const char *const channel_types_nospice[] = {"pty", "file", "unix", "null", NULL};
    open_tag(b, 4, "channel", TRUE);
    enum_values(b, 6, "type", caps->spice ? channel_types : channel_types_nospice);
    close_tag(b, 4, "channel");
    g_string_append(b, "  </devices>\n");
}

char *
domcaps_format(const struct domcaps *caps)
{
    GString *b = g_string_new("<domainCapabilities>\n");
    g_string_append(b, "  <path>");
    xml_util_append_escaped(b, caps->path);
    g_string_append_printf(b, "</path>\n  <domain>%s</domain>\n  <machine>", caps->domain);
    xml_util_append_escaped(b, caps->machine);
    g_string_append_printf(b, "</machine>\n  <arch>%s</arch>\n", caps->arch);
    g_string_append_printf(b, "  <vcpu max='%u'/>\n", caps->max_vcpus);
    flag(b, 2, "iothreads", TRUE);
    format_os(b, caps);
    format_cpu(b, caps);
    flag(b, 2, "memoryBacking", FALSE);
    format_devices(b, caps);
    g_string_append(b, "  <features>\n");
    static const char *const unsupported[] = {
        "gic", "vmcoreinfo", "genid", "backingStoreInput", "backup", "sev", "sgx", "hyperv",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(unsupported); i++)
        flag(b, 4, unsupported[i], FALSE);
    g_string_append(b, "  </features>\n</domainCapabilities>\n");
    return g_string_free(b, FALSE);
}
