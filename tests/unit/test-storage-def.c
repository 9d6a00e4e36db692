/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-storage-def: storage pool and volume XML parse/format. Data-driven:
 * tests/data/poolxml2xml/NAME.xml and tests/data/volxml2xml/NAME.xml are parsed and formatted,
 * and must equal NAME.out.xml (REGENERATE=1 rewrites it); tests/data/storageinvalid/NAME.xml
 * (pool XML when NAME starts with "pool-", volume XML otherwise) must fail with the code on
 * line 1 of NAME.err and a message containing line 2. The xml2xml inputs and outputs must
 * also match docs/schemas/storagepool.rng or storagevol.rng. */
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <string.h>

#include "conf/storage_def.h"
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

/* Parses and formats XML as a pool or a volume; a generated pool uuid is pinned to zeros so
 * that the expected output is stable. */
static char *
parse_format(const char *xml, gboolean pool)
{
    g_autoptr(GError) error = NULL;
    if (pool) {
        g_autoptr(pool_def) def = storage_def_pool_parse(xml, &error);
        g_assert_no_error(error);
        if (!def)
            g_error("no definition and no error");
        if (!strstr(xml, "<uuid"))
            memset(def->uuid, 0, sizeof(def->uuid));
        return storage_def_pool_format(def);
    }
    g_autoptr(vol_def) def = storage_def_vol_parse(xml, &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    return storage_def_vol_format(def);
}

/* Checks that XML matches the schema SCHEMA (a file in docs/schemas). */
static void
check_schema(const char *schema, const char *xml)
{
    g_autofree char *path = g_build_filename(DOMUS_SCHEMA_DIR, schema, NULL);
    xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(path);
    xmlRelaxNGPtr rng = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    g_assert_nonnull(rng);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "test.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    g_assert_nonnull(doc);
    xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(rng);
    int rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlFreeDoc(doc);
    xmlRelaxNGFree(rng);
    g_assert_cmpint(rc, ==, 0);
}

static void
check_xml2xml(const char *in_path, gboolean pool)
{
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *out_path = g_strconcat(base, ".out.xml", NULL);
    g_autofree char *in = read_file(in_path);
    g_autofree char *actual = parse_format(in, pool);

    if (g_getenv("REGENERATE")) {
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents(out_path, actual, -1, &error))
            g_error("%s", error->message);
    }
    g_autofree char *expected = read_file(out_path);
    g_assert_cmpstr(actual, ==, expected);

    /* Round trip: the output is a fixed point. */
    g_autofree char *again = parse_format(expected, pool);
    g_assert_cmpstr(again, ==, expected);

    const char *schema = pool ? "storagepool.rng" : "storagevol.rng";
    check_schema(schema, in);
    check_schema(schema, expected);
}

static void
test_poolxml2xml(gconstpointer data)
{
    check_xml2xml(data, TRUE);
}

static void
test_volxml2xml(gconstpointer data)
{
    check_xml2xml(data, FALSE);
}

static void
test_invalid(gconstpointer data)
{
    const char *in_path = data;
    g_autofree char *base = g_strndup(in_path, strlen(in_path) - strlen(".xml"));
    g_autofree char *err_path = g_strconcat(base, ".err", NULL);
    g_autofree char *name = g_path_get_basename(in_path);
    g_autofree char *in = read_file(in_path);
    g_autofree char *expect = read_file(err_path);
    g_auto(GStrv) lines = g_strsplit(expect, "\n", 3);
    g_assert_cmpuint(g_strv_length(lines), >=, 2);
    guint64 code = 0;
    g_assert_true(g_ascii_string_to_unsigned(g_strstrip(lines[0]), 10, 1, 1000, &code, NULL));

    g_autoptr(GError) error = NULL;
    if (g_str_has_prefix(name, "pool-")) {
        g_autoptr(pool_def) def = storage_def_pool_parse(in, &error);
        g_assert_null(def);
    } else {
        g_autoptr(vol_def) def = storage_def_vol_parse(in, &error);
        g_assert_null(def);
    }
    g_assert_nonnull(error);
    if (g_test_verbose())
        g_test_message("%s: %s", in_path, error->message);
    g_assert_cmpint(err_code(error), ==, (int)code);
    g_assert_cmpint(err_origin(error), ==, ERR_FROM_STORAGE);
    if (!strstr(error->message, lines[1]))
        g_test_fail_printf("message '%s' does not contain '%s'", error->message, lines[1]);
}

static void
test_parse_size(void)
{
    static const struct {
        const char *value;
        const char *unit;
        uint64_t bytes;
    } good[] = {
        {"10G", NULL, 10ULL << 30},
        {"512M", NULL, 512ULL << 20},
        {"1GiB", NULL, 1ULL << 30},
        {"1GB", NULL, 1000000000ULL},
        {"1gb", NULL, 1000000000ULL},
        {"2KB", NULL, 2000},
        {"2k", NULL, 2048},
        {"1073741824", NULL, 1073741824ULL},
        {" 42 ", NULL, 42},
        {"7b", NULL, 7},
        {"7bytes", NULL, 7},
        {"10", "G", 10ULL << 30},
        {"10", "", 10},
        {"3", "MiB", 3ULL << 20},
        {"5", "TB", 5000000000000ULL},
        {"1", "T", 1ULL << 40},
        {"1", "P", 1ULL << 50},
        {"1024", "TiB", 1ULL << 50},
        {"0", "EiB", 0},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        uint64_t bytes = 1;
        g_assert_true(storage_def_parse_size(good[i].value, good[i].unit, &bytes, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(bytes, ==, good[i].bytes);
    }

    static const struct {
        const char *value;
        const char *unit;
        int code;
    } bad[] = {
        {"", NULL, ERR_INVALID_ARG},          {"-1", NULL, ERR_INVALID_ARG},
        {"+1", NULL, ERR_INVALID_ARG},        {"1.5G", NULL, ERR_INVALID_ARG},
        {"10X", NULL, ERR_INVALID_ARG},       {"10 G", NULL, ERR_INVALID_ARG},
        {"10G", "M", ERR_INVALID_ARG},        {"G", NULL, ERR_INVALID_ARG},
        {"10", "GiBs", ERR_INVALID_ARG},      {"2P", NULL, ERR_OVERFLOW},
        {"1025", "TiB", ERR_OVERFLOW},        {"1", "E", ERR_OVERFLOW},
        {"99999999999", "EiB", ERR_OVERFLOW}, {"99999999999999999999999", NULL, ERR_OVERFLOW},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        uint64_t bytes = 1;
        g_assert_false(storage_def_parse_size(bad[i].value, bad[i].unit, &bytes, &error));
        g_assert_nonnull(error);
        g_assert_cmpint(err_code(error), ==, bad[i].code);
        g_assert_cmpint(err_origin(error), ==, ERR_FROM_STORAGE);
        /* The output is left alone on failure. */
        g_assert_cmpuint(bytes, ==, 1);
    }
}

static void
test_pool_generated_uuid(void)
{
    static const char xml[] =
        "<pool type='dir'><name>p</name><target><path>/srv/p</path></target></pool>";
    g_autoptr(pool_def) a = storage_def_pool_parse(xml, NULL);
    g_autoptr(pool_def) b = storage_def_pool_parse(xml, NULL);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(memcmp(a->uuid, b->uuid, UUID_LEN) != 0);
    g_autofree char *out = storage_def_pool_format(a);
    g_autoptr(pool_def) again = storage_def_pool_parse(out, NULL);
    g_assert_nonnull(again);
    g_assert_true(memcmp(a->uuid, again->uuid, UUID_LEN) == 0);
    g_assert_cmpint(a->target_mode, ==, -1);
    g_assert_cmpint(a->target_owner, ==, -1);
    g_assert_cmpint(a->target_group, ==, -1);
}

/* Sizes of a pool are live state: read never, formatted from what the caller filled. */
static void
test_pool_live(void)
{
    static const char xml[] = "<pool type='dir'><name>p</name>"
                              "<capacity unit='bytes'>100</capacity>"
                              "<allocation unit='bytes'>40</allocation>"
                              "<available unit='bytes'>60</available>"
                              "<target><path>/srv/p</path></target></pool>";
    g_autoptr(pool_def) def = storage_def_pool_parse(xml, NULL);
    g_assert_nonnull(def);
    g_assert_cmpuint(def->capacity, ==, 0);
    g_assert_cmpuint(def->allocation, ==, 0);
    g_assert_cmpuint(def->available, ==, 0);
    def->capacity = 270553174016ULL;
    def->allocation = 18936258560ULL;
    def->available = 251616915456ULL;
    g_autofree char *out = storage_def_pool_format(def);
    g_assert_nonnull(strstr(out, "  <capacity unit='bytes'>270553174016</capacity>\n"
                                 "  <allocation unit='bytes'>18936258560</allocation>\n"
                                 "  <available unit='bytes'>251616915456</available>\n"));
}

static void
test_vol_live(void)
{
    static const char xml[] = "<volume><name>v.img</name><key>/elsewhere/v.img</key>"
                              "<capacity>1024</capacity><physical>4096</physical></volume>";
    g_autoptr(vol_def) def = storage_def_vol_parse(xml, NULL);
    g_assert_nonnull(def);
    g_assert_null(def->key);
    g_assert_cmpuint(def->physical, ==, 0);
    g_assert_null(def->target_path);
    def->key = g_strdup("/srv/p/v.img");
    def->target_path = g_strdup("/srv/p/v.img");
    def->physical = 4096;
    g_autofree char *out = storage_def_vol_format(def);
    g_assert_cmpstr(out, ==,
                    "<volume type='file'>\n"
                    "  <name>v.img</name>\n"
                    "  <key>/srv/p/v.img</key>\n"
                    "  <capacity unit='bytes'>1024</capacity>\n"
                    "  <allocation unit='bytes'>1024</allocation>\n"
                    "  <physical unit='bytes'>4096</physical>\n"
                    "  <target>\n"
                    "    <path>/srv/p/v.img</path>\n"
                    "    <format type='raw'/>\n"
                    "  </target>\n"
                    "</volume>\n");
}

static void
test_vol_fields(void)
{
    static const char seed[] = "<volume><name>new_volume.img</name><allocation>0</allocation>"
                               "<capacity unit=\"G\">10</capacity><target>"
                               "<path>/var/lib/libvirt/images/new_volume.img</path>"
                               "<format type='qcow2'/></target></volume>";
    g_autoptr(GError) error = NULL;
    g_autoptr(vol_def) def = storage_def_vol_parse(seed, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "new_volume.img");
    g_assert_cmpuint(def->capacity, ==, 10ULL << 30);
    g_assert_cmpuint(def->allocation, ==, 0);
    g_assert_true(def->allocation_given);
    g_assert_cmpstr(def->format, ==, "qcow2");
    g_assert_null(def->compat);
    g_assert_false(def->lazy_refcounts);
    g_assert_cmpint(def->target_mode, ==, -1);
    g_assert_null(def->backing_path);
    g_assert_null(def->backing_format);

    /* libvirt's rule: no allocation means fully allocated. */
    static const char plain[] = "<volume><name>r</name><capacity>5</capacity></volume>";
    g_autoptr(vol_def) raw = storage_def_vol_parse(plain, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(raw->format, ==, "raw");
    g_assert_cmpuint(raw->allocation, ==, 5);
    g_assert_false(raw->allocation_given);

    /* <features> implies compat 1.1. */
    static const char lazy[] = "<volume><name>q</name><capacity>5</capacity><target>"
                               "<format type='qcow2'/><features><lazy_refcounts/></features>"
                               "</target></volume>";
    g_autoptr(vol_def) q = storage_def_vol_parse(lazy, &error);
    g_assert_no_error(error);
    g_assert_true(q->lazy_refcounts);
    g_assert_cmpstr(q->compat, ==, "1.1");
}

static void
test_doctype(void)
{
    static const char xml[] =
        "<?xml version='1.0'?><!DOCTYPE volume [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<volume><name>&x;</name><capacity>1</capacity></volume>";
    g_autoptr(GError) error = NULL;
    g_autoptr(vol_def) def = storage_def_vol_parse(xml, &error);
    g_assert_null(def);
    g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
    g_assert_nonnull(strstr(error->message, "DOCTYPE"));
}

static void
test_size_cap(void)
{
    gsize len = 1024 * 1024 + 1;
    g_autofree char *xml = g_malloc(len + 1);
    memset(xml, ' ', len);
    xml[len] = '\0';
    g_autoptr(GError) error = NULL;
    g_autoptr(pool_def) def = storage_def_pool_parse(xml, &error);
    g_assert_null(def);
    g_assert_cmpint(err_code(error), ==, ERR_XML_ERROR);
    g_assert_nonnull(strstr(error->message, "limit"));
}

static void
test_escape(void)
{
    g_autoptr(vol_def) def =
        storage_def_vol_parse("<volume><name>v</name><capacity>1</capacity>"
                              "<target><path>/srv/a&amp;b&apos;c</path></target></volume>",
                              NULL);
    g_assert_nonnull(def);
    g_assert_cmpstr(def->target_path, ==, "/srv/a&b'c");
    g_autofree char *out = storage_def_vol_format(def);
    g_assert_nonnull(strstr(out, "<path>/srv/a&amp;b&apos;c</path>"));
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
        g_autofree char *path = g_strdup_printf("/storage-def/%s/%s", suite, stem);
        /* the test owns its file name: freed when the test suite is */
        g_test_add_data_func_full(path, g_build_filename(dir, file, NULL), func, g_free);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_suite("poolxml2xml", test_poolxml2xml);
    add_suite("volxml2xml", test_volxml2xml);
    add_suite("storageinvalid", test_invalid);
    g_test_add_func("/storage-def/parse-size", test_parse_size);
    g_test_add_func("/storage-def/pool-generated-uuid", test_pool_generated_uuid);
    g_test_add_func("/storage-def/pool-live", test_pool_live);
    g_test_add_func("/storage-def/vol-live", test_vol_live);
    g_test_add_func("/storage-def/vol-fields", test_vol_fields);
    g_test_add_func("/storage-def/doctype", test_doctype);
    g_test_add_func("/storage-def/size-cap", test_size_cap);
    g_test_add_func("/storage-def/escape", test_escape);
    return g_test_run();
}
