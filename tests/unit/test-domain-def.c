/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-domain-def: domain XML parse/format. Data-driven: tests/data/xml2xml/NAME.xml is parsed
 * (with schema validation) and formatted, and must equal NAME.out.xml (REGENERATE=1 rewrites
 * it); tests/data/xmlinvalid/NAME.xml must fail with the code on line 1 of NAME.err and a
 * message containing line 2. */
#include <string.h>

#include "conf/domain_def.h"
#include "conf/domcaps.h"
#include "conf/xml_util.h"
#include "util/err.h"

static char *
data_dir(const char *suite)
{
    const char *root = g_getenv("DOMUS_SRCDIR");
    if (root)
        return g_build_filename(root, "tests", "data", suite, NULL);
    /* DOMUS_SCHEMA_DIR is <source root>/docs/schemas. */
    return g_build_filename(DOMUS_SCHEMA_DIR, "..", "..", "tests", "data", suite, NULL);
}

static char *
read_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("%s", error->message);
    return text;
}

/* Generated values would make the expected output random: pin them. A uuid is generated
 * only when the input has none, a MAC only when mac_given is false. */
static void
pin_generated(struct domain_def *def, const char *xml)
{
    if (!strstr(xml, "<uuid"))
        memset(def->uuid, 0, sizeof(def->uuid));
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *net = g_ptr_array_index(def->nets, i);
        if (!net->mac_given) {
            const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, (uint8_t)i};
            memcpy(net->mac, mac, sizeof(mac));
        }
    }
}

static char *
parse_format(const char *xml, unsigned flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(xml, DOMAIN_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    pin_generated(def, xml);
    return domain_def_format(def, -1, flags);
}

static void
test_xml2xml(gconstpointer data)
{
    const char *in_path = data;
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *out_path = g_strconcat(base, ".out.xml", NULL);
    g_autofree char *in = read_file(in_path);
    g_autofree char *actual = parse_format(in, DOMAIN_DEF_FORMAT_SECURE);

    if (g_getenv("REGENERATE")) {
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents(out_path, actual, -1, &error))
            g_error("%s", error->message);
    }
    g_autofree char *expected = read_file(out_path);
    g_assert_cmpstr(actual, ==, expected);

    /* Round trip: the output is a fixed point. */
    g_autofree char *again = parse_format(expected, DOMAIN_DEF_FORMAT_SECURE);
    g_assert_cmpstr(again, ==, expected);

    /* A copy formats the same. */
    g_autoptr(domain_def) def = domain_def_parse(expected, 0, NULL);
    g_assert_nonnull(def);
    g_autoptr(domain_def) copy = domain_def_copy(def);
    g_autofree char *copied = domain_def_format(copy, -1, DOMAIN_DEF_FORMAT_SECURE);
    g_assert_cmpstr(copied, ==, expected);
}

static void
test_xmlinvalid(gconstpointer data)
{
    const char *in_path = data;
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *err_path = g_strconcat(base, ".err", NULL);
    g_autofree char *in = read_file(in_path);
    g_autofree char *expect = read_file(err_path);
    g_auto(GStrv) lines = g_strsplit(expect, "\n", 3);
    g_assert_cmpuint(g_strv_length(lines), >=, 2);
    guint64 code = 0;
    g_assert_true(g_ascii_string_to_unsigned(g_strstrip(lines[0]), 10, 1, 1000, &code, NULL));

    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(in, 0, &error);
    g_assert_null(def);
    g_assert_nonnull(error);
    if (g_test_verbose())
        g_test_message("%s: %s", in_path, error->message);
    g_assert_cmpint(err_code(error), ==, (int)code);
    g_assert_cmpint(err_origin(error), ==, ERR_FROM_DOMAIN);
    if (!strstr(error->message, lines[1]))
        g_test_fail_printf("message '%s' does not contain '%s'", error->message, lines[1]);
}

static const char secret_xml[] =
    "<domain type='kvm'><name>test</name><uuid>0b3c2d6e-8f4a-4c1b-9a2e-5d6f7a8b9c0d</uuid>"
    "<memory unit='GiB'>1</memory><devices>"
    "<graphics type='vnc' port='5900' autoport='yes' listen='0.0.0.0' passwd='s3cr&amp;t'>"
    "<listen type='address' address='0.0.0.0'/></graphics>"
    "<console type='pty'><source path='/dev/pts/7'/></console>"
    "</devices></domain>";

static void
test_secure(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(secret_xml, DOMAIN_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    struct graphics_def *graphics = g_ptr_array_index(def->graphics, 0);
    g_assert_cmpstr(graphics->passwd, ==, "s3cr&t");

    g_autofree char *plain = domain_def_format(def, -1, 0);
    g_assert_null(strstr(plain, "passwd"));
    g_assert_null(strstr(plain, "s3cr"));
    g_autofree char *secure = domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE);
    g_assert_nonnull(strstr(secure, " passwd='s3cr&amp;t'"));
}

static void
test_inactive(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(secret_xml, 0, &error);
    g_assert_no_error(error);
    /* The console got its serial port, which copied the pty path. */
    g_assert_cmpuint(def->serials->len, ==, 1);
    g_autofree char *live = domain_def_format(def, 7, 0);
    g_assert_true(g_str_has_prefix(live, "<domain type='kvm' id='7'>\n"));
    g_assert_nonnull(strstr(live, "<console type='pty' tty='/dev/pts/7'>"));
    g_assert_nonnull(strstr(live, "<source path='/dev/pts/7'/>"));
    g_assert_nonnull(strstr(live, "<graphics type='vnc' port='5900' autoport='yes'"));
    g_autofree char *inactive = domain_def_format(def, -1, DOMAIN_DEF_FORMAT_INACTIVE);
    g_assert_null(strstr(inactive, "/dev/pts/7"));
    g_assert_nonnull(strstr(inactive, "<graphics type='vnc' port='-1' autoport='yes'"));
    g_assert_nonnull(strstr(inactive, "<console type='pty'>\n      <target type='serial' "
                                      "port='0'/>\n    </console>"));
}

static void
test_generated(void)
{
    static const char xml[] = "<domain type='qemu'><name>gen</name><memory>65536</memory><devices>"
                              "<interface type='user'/></devices></domain>";
    g_autoptr(domain_def) a = domain_def_parse(xml, 0, NULL);
    g_autoptr(domain_def) b = domain_def_parse(xml, 0, NULL);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(memcmp(a->uuid, b->uuid, UUID_LEN) != 0);
    struct net_def *net = g_ptr_array_index(a->nets, 0);
    g_assert_false(net->mac_given);
    g_assert_cmpuint(net->mac[0], ==, 0x52);
    g_assert_cmpuint(net->mac[1], ==, 0x54);
    g_assert_cmpuint(net->mac[2], ==, 0x00);
    /* The generated values are kept: formatting and parsing again gives the same. */
    g_autofree char *out = domain_def_format(a, -1, 0);
    g_autoptr(domain_def) again = domain_def_parse(out, 0, NULL);
    g_assert_nonnull(again);
    g_assert_true(memcmp(a->uuid, again->uuid, UUID_LEN) == 0);
    g_assert_true(memcmp(net->mac, ((struct net_def *)g_ptr_array_index(again->nets, 0))->mac, 6) ==
                  0);
    g_assert_null(a->os_machine);
    g_assert_cmpstr(a->os_type, ==, "hvm");
    g_assert_cmpstr(a->os_arch, ==, "x86_64");
    g_assert_cmpint(a->on_poweroff, ==, DOMAIN_ACTION_DESTROY);
    g_assert_cmpint(a->on_reboot, ==, DOMAIN_ACTION_RESTART);
    g_assert_cmpint(a->on_crash, ==, DOMAIN_ACTION_DESTROY);
}

static void
test_enums(void)
{
    for (int i = DOMAIN_ACTION_DESTROY; i <= DOMAIN_ACTION_COREDUMP_RESTART; i++)
        g_assert_cmpint(domain_action_from_string(domain_action_to_string(i)), ==, i);
    g_assert_cmpint(domain_action_from_string("explode"), ==, -1);
    g_assert_cmpstr(domain_action_to_string(DOMAIN_ACTION_RENAME_RESTART), ==, "rename-restart");
    g_assert_cmpstr(disk_bus_to_string(DISK_BUS_SATA), ==, "sata");
    g_assert_null(disk_format_to_string(DISK_FORMAT_NONE));
    g_assert_cmpstr(disk_format_to_string(DISK_FORMAT_QCOW2), ==, "qcow2");
}

static void
test_memory_units(void)
{
    static const struct {
        const char *unit;
        const char *value;
        uint64_t kib;
    } cases[] = {
        {"b", "8388608", 8192},    {"bytes", "8388609", 8193},  {"KB", "8192000", 8000000},
        {"k", "8192", 8192},       {"KiB", "8192", 8192},       {"MB", "10", 9766},
        {"M", "8", 8192},          {"MiB", "8", 8192},          {"GB", "1", 976563},
        {"G", "1", 1048576},       {"GiB", "2", 2097152},       {"TB", "1", 976562500},
        {"T", "1", 1073741824ULL}, {"TiB", "1", 1073741824ULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<domain type='kvm'><name>u</name><memory unit='%s'>%s</memory></domain>",
            cases[i].unit, cases[i].value);
        g_autoptr(GError) error = NULL;
        g_autoptr(domain_def) def = domain_def_parse(xml, DOMAIN_DEF_PARSE_VALIDATE, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(def->memory_kib, ==, cases[i].kib);
        g_assert_cmpuint(def->current_memory_kib, ==, cases[i].kib);
    }
}

static void
test_schema_error(void)
{
    static const char xml[] = "<domain type='kvm'><name>s</name><memory>65536</memory>"
                              "<devices><hostdev mode='subsystem'/></devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(xml, DOMAIN_DEF_PARSE_VALIDATE, &error);
    g_assert_null(def);
    g_assert_cmpint(err_code(error), ==, ERR_XML_INVALID_SCHEMA);
    g_assert_nonnull(strstr(error->message, "schema"));
}

static void
test_doctype(void)
{
    static const char xml[] =
        "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<domain type='kvm'><name>&x;</name><memory>65536</memory></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(xml, 0, &error);
    g_assert_null(def);
    g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
    g_assert_nonnull(strstr(error->message, "DOCTYPE"));
}

static void
test_size_cap(void)
{
    gsize len = 10 * 1024 * 1024 + 1;
    g_autofree char *xml = g_malloc(len + 1);
    memset(xml, ' ', len);
    xml[len] = '\0';
    g_autoptr(GError) error = NULL;
    g_autoptr(domain_def) def = domain_def_parse(xml, 0, &error);
    g_assert_null(def);
    g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
    g_assert_nonnull(strstr(error->message, "limit"));
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
add_suite(const char *suite, GTestDataFunc func)
{
    g_autofree char *dir = data_dir(suite);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    if (!d)
        g_error("%s", error->message);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml") && !g_str_has_suffix(name, ".out.xml"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *file = g_ptr_array_index(names, i);
        g_autofree char *stem = g_strndup(file, strlen(file) - strlen(".xml"));
        g_autofree char *path = g_strdup_printf("/domain-def/%s/%s", suite, stem);
        /* the test owns its file name: freed when the test suite is */
        g_test_add_data_func_full(path, g_build_filename(dir, file, NULL), func, g_free);
    }
}

/* virDomainSetMetadata / GetMetadata's element form: one element per namespace, prefixes and
 * attributes of the namespace taken off on the way out, other namespaces kept */
static void
test_metadata_elements(void)
{
    GError *error = NULL;
    char *md = NULL, *next = NULL;
    g_assert_true(xml_util_metadata_set(0, NULL, NULL, NULL, "urn:a", &md, &error));
    g_assert_null(md); /* removing from nothing keeps nothing */
    g_assert_true(xml_util_metadata_set(0, NULL, "<r x='1'><c/><o:d xmlns:o='urn:o'/></r>", "a",
                                        "urn:a", &md, &error));
    g_assert_cmpstr(md, ==,
                    "<a:r xmlns:a=\"urn:a\" x=\"1\">\n      <a:c/>\n"
                    "      <o:d xmlns:o=\"urn:o\"/>\n    </a:r>");
    g_autofree char *got = xml_util_metadata_get(md, "urn:a");
    g_assert_cmpstr(got, ==, "<r x=\"1\">\n  <c/>\n  <o:d xmlns:o=\"urn:o\"/>\n</r>");
    g_assert_null(xml_util_metadata_get(md, "urn:o")); /* not a child of <metadata> */
    g_assert_true(xml_util_metadata_set(0, md, "<b/>", "bb", "urn:b", &next, &error));
    g_free(md);
    md = next;
    g_assert_true(xml_util_metadata_set(0, md, "<r2/>", "a", "urn:a", &next, &error));
    g_free(md);
    md = next;
    g_assert_cmpstr(md, ==, "<bb:b xmlns:bb=\"urn:b\"/>\n    <a:r2 xmlns:a=\"urn:a\"/>");
    g_assert_true(xml_util_metadata_set(0, md, NULL, NULL, "urn:b", &next, &error));
    g_free(md);
    md = next;
    g_assert_true(xml_util_metadata_set(0, md, NULL, NULL, "urn:a", &next, &error));
    g_free(md);
    g_assert_cmpstr(next, ==, ""); /* an empty <metadata/> stays */
    /* refused: changes nothing */
    g_assert_false(xml_util_metadata_set(0, next, "<a>", "a", "urn:a", &md, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_XML_ERROR);
    g_clear_error(&error);
    g_assert_false(xml_util_metadata_set(0, next, "<a/>", "1a", "urn:a", &md, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_false(xml_util_metadata_set(0, next, "<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", "a",
                                         "urn:a", &md, &error));
    g_clear_error(&error);
    g_free(next);
}

/* <domainCapabilities> for fixed facts, against its golden file */
static void
test_domcaps(void)
{
    static const char *const loaders[] = {"/usr/share/OVMF/OVMF_CODE.fd", NULL};
    static const struct domcaps_cpu_model models[] = {{"qemu64", "yes"}, {"Haswell", "no"}};
    struct domcaps caps = {
        .path = "/usr/bin/qemu-system-x86_64",
        .domain = "qemu",
        .machine = "pc-q35-7.2",
        .arch = "x86_64",
        .max_vcpus = 288,
        .loaders = loaders,
        .cpu_models = models,
        .n_cpu_models = G_N_ELEMENTS(models),
        .vfio = TRUE,
    };
    /* without SPICE, and with it (its display, agent channel and USB redirection); with the
     * hypervisor's CPU as a host-model */
    static const char *const files[] = {"q35-tcg.xml", "q35-tcg-spice.xml",
                                        "q35-tcg-host-model.xml"};
    static const char *const require[] = {"hypervisor", "x2apic", NULL};
    static const char *const disable[] = {"svm", NULL};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        caps.spice = i == 1;
        if (i == 2) {
            caps.host_model = "qemu64";
            caps.host_model_vendor = "AMD";
            caps.host_model_require = require;
            caps.host_model_disable = disable;
        }
        g_autofree char *actual = domcaps_format(&caps);
        g_autofree char *dir = data_dir("domcaps");
        g_autofree char *path = g_build_filename(dir, files[i], NULL);
        if (g_getenv("REGENERATE") && !g_file_set_contents(path, actual, -1, NULL))
            g_error("cannot write %s", path);
        g_autofree char *expected = read_file(path);
        g_assert_cmpstr(actual, ==, expected);
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc =
            xml_util_read_document(0, actual, G_MAXSIZE, "domcaps", "domainCapabilities", &error);
        g_assert_no_error(error);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_suite("xml2xml", test_xml2xml);
    add_suite("xmlinvalid", test_xmlinvalid);
    g_test_add_func("/domain-def/secure", test_secure);
    g_test_add_func("/domain-def/inactive", test_inactive);
    g_test_add_func("/domain-def/generated", test_generated);
    g_test_add_func("/domain-def/enums", test_enums);
    g_test_add_func("/domain-def/memory-units", test_memory_units);
    g_test_add_func("/domain-def/schema-error", test_schema_error);
    g_test_add_func("/domain-def/doctype", test_doctype);
    g_test_add_func("/domain-def/size-cap", test_size_cap);
    g_test_add_func("/domain-def/metadata-elements", test_metadata_elements);
    g_test_add_func("/domain-def/domcaps", test_domcaps);
    return g_test_run();
}
