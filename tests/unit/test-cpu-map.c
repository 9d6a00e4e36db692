/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-cpu-map: CPU XML, compare, baseline and host decode over a small map whose models nest
 * (Old < Mid < New, Intel; Other, AMD; Generic, no vendor), with the outcomes libvirt's
 * cpu_x86.c gives for the same sets. */
#include <string.h>

#include "conf/cpu_map.h"
#include "util/err.h"

static const char *const known[] = {"aes",    "amd-stibp", "avx",     "fpu",      "hypervisor",
                                    "ibpb",   "invtsc",    "lahf_lm", "pclmuldq", "spec-ctrl",
                                    "sse",    "sse2",      "sse4.1",  "stibp",    "svm",
                                    "x2apic", NULL};
static const char *const f_generic[] = {"fpu", "sse", NULL};
static const char *const f_old[] = {"fpu", "sse", "sse2", NULL};
static const char *const f_mid[] = {"fpu", "sse", "sse2", "sse4.1", NULL};
static const char *const f_new[] = {"aes", "fpu", "sse", "sse2", "sse4.1", "x2apic", NULL};
static const char *const f_other[] = {"fpu", "sse", "sse2", "svm", NULL};
static const struct cpu_map_model models[] = {
    {"Generic", NULL, f_generic}, {"Old", "Intel", f_old}, {"Other", "AMD", f_other},
    {"Mid", "Intel", f_mid},      {"New", "Intel", f_new},
};
static const struct cpu_map map = {models, G_N_ELEMENTS(models), known};

static struct cpu_xml *
parse(const char *xml)
{
    g_autoptr(GError) error = NULL;
    struct cpu_xml *cpu = cpu_xml_parse(xml, FALSE, &error);
    g_assert_no_error(error);
    return cpu;
}

static void
test_parse(void)
{
    g_autoptr(cpu_xml) guest = parse("<cpu match='strict'><model fallback='allow'>Mid</model>"
                                     "<feature policy='disable' name='sse'/>"
                                     "<feature name='avx'/><topology sockets='1' cores='2' "
                                     "threads='1'/></cpu>");
    g_assert_cmpint(guest->type, ==, CPU_XML_GUEST);
    g_assert_cmpstr(guest->match, ==, "strict");
    g_assert_cmpstr(guest->mode, ==, "custom");
    g_assert_cmpstr(guest->model, ==, "Mid");
    g_assert_cmpuint(guest->features->len, ==, 2);
    g_assert_cmpint(g_array_index(guest->features, struct cpu_xml_feature, 0).policy, ==,
                    CPU_POLICY_DISABLE);
    g_assert_cmpint(g_array_index(guest->features, struct cpu_xml_feature, 1).policy, ==,
                    CPU_POLICY_REQUIRE);
    /* <arch> makes it a host CPU: its features are what it has, whatever a policy says */
    g_autoptr(cpu_xml) host = parse("<cpu><arch>x86_64</arch><model>Old</model>"
                                    "<vendor>Intel</vendor><microcode version='1'/>"
                                    "<feature policy='disable' name='aes'/></cpu>");
    g_assert_cmpint(host->type, ==, CPU_XML_HOST);
    g_assert_cmpint(g_array_index(host->features, struct cpu_xml_feature, 0).policy, ==,
                    CPU_POLICY_REQUIRE);
    static const char *const bad[] = {
        "<cpu match='loose'/>",
        "<cpu><arch>x86_64</arch><arch>i686</arch></cpu>",
        "<cpu match='exact'><arch>x86_64</arch></cpu>",
        "<cpu><feature policy='never' name='x'/></cpu>",
        "<cpu><feature/></cpu>",
        "<cpu><feature name='sse'/><feature name='sse'/></cpu>",
        "<cpu><feature name='sse,x=on'/></cpu>",
        "<domain/>",
        "<cpu>",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_null(cpu_xml_parse(bad[i], FALSE, &error));
        g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
    }
}

static int
compare(const char *xml, const char *const *host, GError **error)
{
    g_autoptr(cpu_xml) cpu = parse(xml);
    return cpu_map_compare(&map, "Intel", host, cpu, error != NULL, error);
}

static void
test_compare(void)
{
    static const char *const h_mid[] = {"fpu", "sse", "sse2", "sse4.1", NULL};
    g_assert_cmpint(compare("<cpu><model>Mid</model></cpu>", h_mid, NULL), ==, 1);
    g_assert_cmpint(compare("<cpu><model>Old</model></cpu>", h_mid, NULL), ==, 2);
    g_assert_cmpint(compare("<cpu><model>New</model></cpu>", h_mid, NULL), ==, 0);
    /* a feature the model has, disabled or optional, is not required: New less those is Mid */
    g_assert_cmpint(compare("<cpu><model>New</model><feature policy='disable' name='aes'/>"
                            "<feature policy='optional' name='x2apic'/></cpu>",
                            h_mid, NULL),
                    ==, 1);
    g_assert_cmpint(compare("<cpu><model>Old</model><feature name='sse4.1'/></cpu>", h_mid, NULL),
                    ==, 1);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(compare("<cpu><model>New</model></cpu>", h_mid, &error), ==, -1);
    g_assert_cmpint(err_code(error), ==, ERR_CPU_INCOMPATIBLE);
    g_assert_cmpstr(error->message, ==, "Host CPU does not provide required features: aes, x2apic");
    g_clear_error(&error);
    g_assert_cmpint(compare("<cpu match='strict'><model>Old</model></cpu>", h_mid, &error), ==, -1);
    g_assert_cmpstr(error->message, ==,
                    "Host CPU does not strictly match guest CPU: Extra features: sse4.1");
    g_clear_error(&error);
    g_assert_cmpint(compare("<cpu><model>Old</model><feature policy='forbid' name='sse4.1'/></cpu>",
                            h_mid, &error),
                    ==, -1);
    g_assert_cmpstr(error->message, ==, "Host CPU provides forbidden features: sse4.1");
    g_clear_error(&error);
    g_assert_cmpint(compare("<cpu><vendor>AMD</vendor><model>Old</model></cpu>", h_mid, &error), ==,
                    -1);
    g_assert_cmpstr(error->message, ==, "host CPU vendor does not match required CPU vendor AMD");
    g_clear_error(&error);
    g_assert_cmpint(compare("<cpu><model>Old</model></cpu>", NULL, &error), ==, -1);
    g_assert_cmpstr(error->message, ==, "unknown host CPU");
    g_clear_error(&error);
    g_assert_cmpint(compare("<cpu><model>Nope</model></cpu>", h_mid, &error), ==, -1);
    g_assert_cmpint(err_code(error), ==, ERR_INTERNAL_ERROR);
    g_clear_error(&error);
    g_assert_cmpint(compare("<cpu><model>Old</model><feature name='warp'/></cpu>", h_mid, &error),
                    ==, -1);
    g_assert_cmpstr(error->message, ==, "Unknown CPU feature warp");
}

static char *
baseline(const char *const *xmls, const char *const *hv, unsigned flags, GError **error)
{
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)cpu_xml_free);
    for (gsize i = 0; xmls[i]; i++)
        g_ptr_array_add(cpus, cpu_xml_parse(xmls[i], hv == NULL, NULL));
    return cpu_map_baseline(&map, (struct cpu_xml *const *)cpus->pdata, cpus->len, hv, hv != NULL,
                            flags, error);
}

static void
test_baseline(void)
{
    /* one model alone: itself, no fallback */
    static const char *const one[] = {"<cpu><arch>x86_64</arch><model>Mid</model></cpu>", NULL};
    g_autofree char *a = baseline(one, NULL, 0, NULL);
    g_assert_cmpstr(a, ==,
                    "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>Mid</model>\n"
                    "</cpu>\n");
    g_autofree char *b = baseline(one, NULL, CPU_BASELINE_EXPAND_FEATURES, NULL);
    g_assert_nonnull(strstr(b, "  <feature policy='require' name='fpu'/>\n"
                               "  <feature policy='require' name='sse'/>\n"
                               "  <feature policy='require' name='sse2'/>\n"
                               "  <feature policy='require' name='sse4.1'/>\n</cpu>"));
    /* what both have: New lacks nothing of Mid+aes, and Mid+aes is closer than New-x2apic */
    static const char *const two[] = {
        "<cpu><arch>x86_64</arch><model>New</model><vendor>Intel</vendor>"
        "<feature name='invtsc'/></cpu>",
        "<cpu><arch>x86_64</arch><model>Mid</model><vendor>Intel</vendor><feature name='aes'/>"
        "<feature name='invtsc'/></cpu>",
        NULL};
    g_autofree char *c = baseline(two, NULL, 0, NULL);
    g_assert_cmpstr(c, ==,
                    "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Mid</model>\n"
                    "  <vendor>Intel</vendor>\n  <feature policy='require' name='aes'/>\n"
                    "  <feature policy='require' name='invtsc'/>\n</cpu>\n");
    g_autofree char *d = baseline(two, NULL, CPU_BASELINE_MIGRATABLE, NULL);
    g_assert_null(strstr(d, "invtsc"));
    /* vendors that differ */
    static const char *const mixed[] = {
        "<cpu><arch>x86_64</arch><model>Old</model><vendor>Intel</vendor></cpu>",
        "<cpu><arch>x86_64</arch><model>Other</model><vendor>AMD</vendor></cpu>", NULL};
    g_autoptr(GError) error = NULL;
    g_assert_null(baseline(mixed, NULL, 0, &error));
    g_assert_cmpint(err_code(error), ==, ERR_OPERATION_FAILED);
    g_assert_cmpstr(error->message, ==, "CPU vendors do not match");
    g_clear_error(&error);
    /* without vendors, Intel's and AMD's meet in the generic model (the vendor comes from the
     * second one's model, as libvirt takes it) */
    static const char *const novendor[] = {"<cpu><arch>x86_64</arch><model>Old</model></cpu>",
                                           "<cpu><arch>x86_64</arch><model>Other</model></cpu>",
                                           NULL};
    g_autofree char *e = baseline(novendor, NULL, 0, NULL);
    g_assert_cmpstr(e, ==,
                    "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Generic</model>\n"
                    "  <feature policy='require' name='sse2'/>\n</cpu>\n");
    /* the hypervisor form: limited to what the hypervisor gives, never a fallback; a model the
     * hypervisor lacks features of keeps them disabled */
    static const char *const hv[] = {"fpu", "sse", "sse2", "sse4.1", "aes", NULL};
    static const char *const guest_new[] = {"<cpu><model>New</model></cpu>", NULL};
    g_autofree char *f = baseline(guest_new, hv, 0, NULL);
    g_assert_cmpstr(f, ==,
                    "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>New</model>\n"
                    "  <feature policy='disable' name='x2apic'/>\n</cpu>\n");
    static const char *const none[] = {"<cpu><model>Old</model></cpu>", NULL};
    static const char *const empty_hv[] = {"avx", NULL};
    g_assert_null(baseline(none, empty_hv, 0, &error));
    g_assert_cmpstr(error->message, ==, "CPUs are incompatible");
    g_clear_error(&error);
    /* each CPU names a model; what QEMU does not know (libvirt-only names) is left out */
    static const char *const nomodel[] = {"<cpu><feature name='sse'/></cpu>", NULL};
    g_assert_null(baseline(nomodel, hv, 0, &error));
    g_assert_cmpstr(error->message, ==, "no CPU model specified at index 0");
    g_clear_error(&error);
    static const char *const osxsave[] = {
        "<cpu><arch>x86_64</arch><model>Old</model><feature name='osxsave'/></cpu>", NULL};
    g_autofree char *g = baseline(osxsave, NULL, 0, NULL);
    g_assert_null(strstr(g, "osxsave"));
    /* a host CPU names its architecture */
    g_assert_null(cpu_xml_parse("<cpu><model>Old</model></cpu>", TRUE, &error));
    g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
}

static void
test_host(void)
{
    /* Linux's names: sse4_1, pclmulqdq, tsc_deadline_timer; flags that are not CPUID features
     * QEMU knows are dropped */
    static const char *const flags[] = {"fpu",          "sse",     "sse2", "sse4_1", "pclmulqdq",
                                        "constant_tsc", "lahf_lm", "",     NULL};
    g_autoptr(GPtrArray) features = cpu_map_host_features(&map, "Intel", flags);
    g_assert_cmpuint(features->len, ==, 6);
    g_assert_cmpstr(features->pdata[0], ==, "fpu");
    g_assert_cmpstr(features->pdata[1], ==, "lahf_lm");
    g_assert_cmpstr(features->pdata[2], ==, "pclmuldq");
    const char *model = NULL;
    g_autoptr(GPtrArray) extra = NULL;
    g_assert_true(cpu_map_decode_host(&map, "Intel", features, &model, &extra));
    g_assert_cmpstr(model, ==, "Mid");
    g_assert_cmpuint(extra->len, ==, 2);
    g_assert_cmpstr(extra->pdata[0], ==, "lahf_lm");
    g_assert_cmpstr(extra->pdata[1], ==, "pclmuldq");
    /* Linux's synthetic flags are the vendor's bits; nonstop_tsc is invtsc */
    static const char *const synthetic[] = {"ibrs", "ibpb", "stibp", "nonstop_tsc", NULL};
    g_autoptr(GPtrArray) on_intel = cpu_map_host_features(&map, "Intel", synthetic);
    g_assert_cmpuint(on_intel->len, ==, 3);
    g_assert_cmpstr(on_intel->pdata[0], ==, "invtsc");
    g_assert_cmpstr(on_intel->pdata[1], ==, "spec-ctrl");
    g_assert_cmpstr(on_intel->pdata[2], ==, "stibp");
    g_autoptr(GPtrArray) on_amd = cpu_map_host_features(&map, "AMD", synthetic);
    g_assert_cmpuint(on_amd->len, ==, 3);
    g_assert_cmpstr(on_amd->pdata[0], ==, "amd-stibp");
    g_assert_cmpstr(on_amd->pdata[1], ==, "ibpb");
    /* a host model never lacks a feature: with no sse2, only the generic model fits */
    static const char *const little[] = {"fpu", "sse", "sse4_1", NULL};
    g_autoptr(GPtrArray) f2 = cpu_map_host_features(&map, "Intel", little);
    g_autoptr(GPtrArray) e2 = NULL;
    g_assert_true(cpu_map_decode_host(&map, "Intel", f2, &model, &e2));
    g_assert_cmpstr(model, ==, "Generic");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-map/parse", test_parse);
    g_test_add_func("/cpu-map/compare", test_compare);
    g_test_add_func("/cpu-map/baseline", test_baseline);
    g_test_add_func("/cpu-map/host", test_host);
    return g_test_run();
}
