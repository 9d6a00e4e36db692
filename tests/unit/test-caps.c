/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-caps: QEMU probing and its cache (qemu_caps_), the <capabilities> document
 * (capabilities_) and host facts (nodeinfo_). Runs the installed qemu-system-x86_64. */
#include <glib.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "conf/capabilities.h"
#include "conf/nodeinfo.h"
#include "qemu/caps.h"
#include "util/err.h"
#include "util/uuid.h"

/* ---- helpers ------------------------------------------------------------------------ */

static char *
test_qemu_binary(void)
{
    char *binary = qemu_caps_find_binary("x86_64", NULL);

    if (!binary)
        g_test_skip("qemu-system-x86_64 is not installed");
    return binary;
}

/* Writes an executable script NAME holding BODY into DIR. Returns its path. */
static char *
test_write_script(const char *dir, const char *name, const char *body)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_strconcat("#!/bin/sh\n", body, "\n", NULL);

    g_assert_true(g_file_set_contents(path, text, -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
    return path;
}

static void
test_remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, entry, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            test_remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

static guint
test_count_files(const char *path, const char *suffix)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *entry;
    guint count = 0;

    while (dir && (entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, suffix))
            count++;
    }
    return count;
}

/* The text of the first node matching EXPR, or NULL. Returns a new string. */
static char *
test_xpath_string(xmlXPathContext *ctx, const char *expr)
{
    xmlXPathObject *obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    char *ret = NULL;

    if (obj && obj->nodesetval && obj->nodesetval->nodeNr > 0) {
        xmlChar *text = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

        ret = g_strdup((const char *)text);
        xmlFree(text);
    }
    xmlXPathFreeObject(obj);
    return ret;
}

static int
test_xpath_count(xmlXPathContext *ctx, const char *expr)
{
    xmlXPathObject *obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    int count = obj && obj->nodesetval ? obj->nodesetval->nodeNr : -1;

    xmlXPathFreeObject(obj);
    return count;
}

/* ---- qemu_caps_probe ---------------------------------------------------------------- */

static void
test_probe_real(void)
{
    g_autofree char *binary = test_qemu_binary();
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps) caps = NULL;
    const struct qemu_caps_machine *machines;
    const char *pc;
    const char *q35;
    gsize count = 0;

    if (!binary)
        return;
    caps = qemu_caps_probe(binary, 0, &error);
    g_assert_no_error(error);
    g_assert_nonnull(caps);
    g_assert_cmpint(qemu_caps_get_source(caps), ==, QEMU_CAPS_SOURCE_PROBE);
    g_assert_cmpstr(qemu_caps_get_binary(caps), ==, binary);
    g_assert_cmpuint(qemu_caps_get_version(caps), >, 7000000);

    pc = qemu_caps_get_canonical_machine(caps, "pc");
    q35 = qemu_caps_get_canonical_machine(caps, "q35");
    g_assert_nonnull(pc);
    g_assert_nonnull(q35);
    g_assert_true(g_str_has_prefix(pc, "pc-i440fx-"));
    g_assert_true(g_str_has_prefix(q35, "pc-q35-"));
    g_assert_cmpstr(qemu_caps_get_canonical_machine(caps, pc), ==, pc);
    g_assert_null(qemu_caps_get_canonical_machine(caps, "no-such-board"));
    g_assert_cmpstr(qemu_caps_get_default_machine(caps), ==, pc);

    machines = qemu_caps_get_machines(caps, &count);
    g_assert_cmpuint(count, >, 2);
    g_assert_true(machines[0].is_default);
    g_assert_cmpstr(machines[0].name, ==, pc);
    g_assert_cmpstr(machines[0].alias, ==, "pc");
    g_assert_cmpuint(machines[0].cpu_max, >=, 1);
    for (gsize i = 0; i < count; i++) {
        g_assert_cmpstr(machines[i].name, !=, "none");
        g_assert_true(i == 0 || !machines[i].is_default);
    }

    /* Debian's QEMU is linked with liburing: it opens an image with io_uring exactly when this
     * kernel lets a process set a ring up */
    struct io_uring_params params = {0};
    int ring = (int)syscall(__NR_io_uring_setup, 1, &params);
    g_assert_cmpint(qemu_caps_has_io_uring(caps), ==, ring >= 0);
    if (ring >= 0)
        close(ring);
}

static void
test_probe_timeout(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-caps-XXXXXX", NULL);
    g_autofree char *script = test_write_script(dir, "qemu-hang", "exec sleep 60");
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps) caps = NULL;
    gint64 start = g_get_monotonic_time();

    caps = qemu_caps_probe(script, 300, &error);
    g_assert_null(caps);
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_TIMEOUT);
    g_assert_cmpint(err_origin(error), ==, ERR_FROM_QEMU);
    g_assert_nonnull(strstr(error->message, "did not answer within 300 ms"));
    /* The hung process was killed and reaped, not waited for. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    test_remove_tree(dir);
}

static void
test_probe_early_exit(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-caps-XXXXXX", NULL);
    g_autofree char *script =
        test_write_script(dir, "qemu-die", "echo 'qemu-die: unsupported option' >&2; exit 1");
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps) caps = NULL;

    caps = qemu_caps_probe(script, 5000, &error);
    g_assert_null(caps);
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "exited before answering"));
    g_assert_nonnull(strstr(error->message, "qemu-die: unsupported option"));
    test_remove_tree(dir);
}

static void
test_probe_not_qmp(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-caps-XXXXXX", NULL);
    g_autofree char *script = test_write_script(dir, "qemu-chatty", "echo hello; exec sleep 60");
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps) caps = NULL;

    caps = qemu_caps_probe(script, 5000, &error);
    g_assert_null(caps);
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_FAILED);
    g_assert_nonnull(strstr(error->message, "invalid QMP"));
    test_remove_tree(dir);
}

static void
test_probe_missing(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps) caps = qemu_caps_probe("/nonexistent/qemu-system-x86_64", 0, &error);

    g_assert_null(caps);
    g_assert_error(error, DOMUS_ERROR, ERR_SYSTEM_ERROR);
}

/* ---- qemu_caps_cache ---------------------------------------------------------------- */

static void
test_cache(void)
{
    g_autofree char *binary = test_qemu_binary();
    g_autofree char *dir = NULL;
    g_autofree char *cache_dir = NULL;
    g_autofree char *wrapper = NULL;
    g_autofree char *body = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps_cache) cache = NULL;
    g_autoptr(qemu_caps_cache) restarted = NULL;
    g_autoptr(qemu_caps_cache) again = NULL;
    g_autoptr(qemu_caps) first = NULL;
    g_autoptr(qemu_caps) second = NULL;
    g_autoptr(qemu_caps) from_disk = NULL;
    g_autoptr(qemu_caps) changed = NULL;
    g_autoptr(qemu_caps) reloaded = NULL;
    struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    const struct qemu_caps_machine *a;
    const struct qemu_caps_machine *b;
    gsize count_a = 0, count_b = 0;

    if (!binary)
        return;
    dir = g_dir_make_tmp("test-caps-XXXXXX", NULL);
    cache_dir = g_build_filename(dir, "cache", NULL);
    body = g_strdup_printf("exec '%s' \"$@\"", binary);
    wrapper = test_write_script(dir, "qemu-wrapper", body);

    /* First use: QEMU runs, the answer is kept in memory and on disk. */
    cache = qemu_caps_cache_new(cache_dir);
    first = qemu_caps_cache_get(cache, wrapper, &error);
    g_assert_no_error(error);
    g_assert_cmpint(qemu_caps_get_source(first), ==, QEMU_CAPS_SOURCE_PROBE);
    g_assert_cmpuint(test_count_files(cache_dir, ".json"), ==, 1);

    /* Same cache, unchanged binary: the very same object. */
    second = qemu_caps_cache_get(cache, wrapper, &error);
    g_assert_no_error(error);
    g_assert_true(second == first);

    /* A fresh cache on the same directory (a daemon restart) reads the file. */
    restarted = qemu_caps_cache_new(cache_dir);
    from_disk = qemu_caps_cache_get(restarted, wrapper, &error);
    g_assert_no_error(error);
    g_assert_cmpint(qemu_caps_get_source(from_disk), ==, QEMU_CAPS_SOURCE_DISK);
    g_assert_cmpuint(qemu_caps_get_version(from_disk), ==, qemu_caps_get_version(first));
    g_assert_cmpstr(qemu_caps_get_package(from_disk), ==, qemu_caps_get_package(first));
    g_assert_cmpint(qemu_caps_get_kvm_supported(from_disk), ==, qemu_caps_get_kvm_supported(first));
    a = qemu_caps_get_machines(first, &count_a);
    b = qemu_caps_get_machines(from_disk, &count_b);
    g_assert_cmpuint(count_a, ==, count_b);
    for (gsize i = 0; i < count_a; i++) {
        g_assert_cmpstr(a[i].name, ==, b[i].name);
        g_assert_cmpstr(a[i].alias, ==, b[i].alias);
        g_assert_cmpuint(a[i].cpu_max, ==, b[i].cpu_max);
        g_assert_cmpint(a[i].is_default, ==, b[i].is_default);
        g_assert_cmpint(a[i].deprecated, ==, b[i].deprecated);
    }

    /* The binary changes (new mtime): both caches notice and probe again. */
    g_assert_cmpint(utimensat(AT_FDCWD, wrapper, times, 0), ==, 0);
    changed = qemu_caps_cache_get(restarted, wrapper, &error);
    g_assert_no_error(error);
    g_assert_cmpint(qemu_caps_get_source(changed), ==, QEMU_CAPS_SOURCE_PROBE);
    g_clear_pointer(&second, qemu_caps_unref);
    second = qemu_caps_cache_get(cache, wrapper, &error);
    g_assert_no_error(error);
    g_assert_true(second != first);

    /* And the rewritten file serves the next restart. */
    again = qemu_caps_cache_new(cache_dir);
    reloaded = qemu_caps_cache_get(again, wrapper, &error);
    g_assert_no_error(error);
    g_assert_cmpint(qemu_caps_get_source(reloaded), ==, QEMU_CAPS_SOURCE_DISK);
    g_assert_cmpuint(test_count_files(cache_dir, ".json"), ==, 1);

    test_remove_tree(dir);
}

static void
test_cache_corrupt_file(void)
{
    g_autofree char *binary = test_qemu_binary();
    g_autofree char *dir = NULL;
    g_autofree char *hash = NULL;
    g_autofree char *file = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps_cache) cache = NULL;
    g_autoptr(qemu_caps) caps = NULL;

    if (!binary)
        return;
    dir = g_dir_make_tmp("test-caps-XXXXXX", NULL);
    hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    file = g_strconcat(dir, "/", hash, ".json", NULL);
    g_assert_true(g_file_set_contents(file, "{\"format\": 1, \"binary\": [", -1, NULL));

    cache = qemu_caps_cache_new(dir);
    caps = qemu_caps_cache_get(cache, binary, &error);
    g_assert_no_error(error);
    g_assert_cmpint(qemu_caps_get_source(caps), ==, QEMU_CAPS_SOURCE_PROBE);
    test_remove_tree(dir);
}

static void
test_find_binary(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *x86_64 = test_qemu_binary();
    g_autofree char *i686 = NULL;
    g_autofree char *none = NULL;

    if (!x86_64)
        return;
    g_assert_true(g_str_has_suffix(x86_64, "/qemu-system-x86_64"));
    g_assert_true(g_file_test(x86_64, G_FILE_TEST_IS_EXECUTABLE));
    i686 = qemu_caps_find_binary("i686", &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_suffix(i686, "/qemu-system-i386") ||
                  g_str_has_suffix(i686, "/qemu-system-x86_64"));

    none = qemu_caps_find_binary("no-such-arch", &error);
    g_assert_null(none);
    g_assert_error(error, DOMUS_ERROR, ERR_CONFIG_UNSUPPORTED);
}

/* ---- capabilities_format ------------------------------------------------------------ */

static const char expected_model_xml[] =
    "<capabilities>\n"
    "\n"
    "  <host>\n"
    "    <uuid>b093b024-b145-4bb4-a69b-27b88a55296c</uuid>\n"
    "    <cpu>\n"
    "      <arch>x86_64</arch>\n"
    "      <vendor>Intel</vendor>\n"
    "      <topology sockets='1' dies='1' cores='2' threads='1'/>\n"
    "      <pages unit='KiB' size='4'/>\n"
    "      <pages unit='KiB' size='2048'/>\n"
    "    </cpu>\n"
    "    <power_management/>\n"
    "    <migration_features>\n"
    "      <live/>\n"
    "      <uri_transports>\n"
    "        <uri_transport>tcp</uri_transport>\n"
    "      </uri_transports>\n"
    "    </migration_features>\n"
    "    <topology>\n"
    "      <cells num='1'>\n"
    "        <cell id='0'>\n"
    "          <memory unit='KiB'>17654340</memory>\n"
    "          <pages unit='KiB' size='4'>4413585</pages>\n"
    "          <pages unit='KiB' size='2048'>0</pages>\n"
    "          <cpus num='2'>\n"
    "            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>\n"
    "            <cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>\n"
    "          </cpus>\n"
    "        </cell>\n"
    "      </cells>\n"
    "    </topology>\n"
    "    <secmodel>\n"
    "      <model>none</model>\n"
    "      <doi>0</doi>\n"
    "    </secmodel>\n"
    "    <secmodel>\n"
    "      <model>dac</model>\n"
    "      <doi>0</doi>\n"
    "      <baselabel type='kvm'>+0:+0</baselabel>\n"
    "      <baselabel type='qemu'>+0:+0</baselabel>\n"
    "    </secmodel>\n"
    "  </host>\n"
    "\n"
    "  <guest>\n"
    "    <os_type>hvm</os_type>\n"
    "    <arch name='i686'>\n"
    "      <wordsize>32</wordsize>\n"
    "      <emulator>/usr/bin/qemu-system-i386</emulator>\n"
    "      <machine maxCpus='255'>pc-i440fx-7.2</machine>\n"
    "      <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>\n"
    "      <machine maxCpus='255' deprecated='yes'>pc-i440fx-1.5</machine>\n"
    "      <domain type='qemu'/>\n"
    "      <domain type='kvm'/>\n"
    "    </arch>\n"
    "    <features>\n"
    "      <pae/>\n"
    "      <nonpae/>\n"
    "      <acpi default='on' toggle='yes'/>\n"
    "      <apic default='on' toggle='no'/>\n"
    "      <cpuselection/>\n"
    "      <deviceboot/>\n"
    "      <disksnapshot default='on' toggle='no'/>\n"
    "    </features>\n"
    "  </guest>\n"
    "\n"
    "  <guest>\n"
    "    <os_type>hvm</os_type>\n"
    "    <arch name='x86_64'>\n"
    "      <wordsize>64</wordsize>\n"
    "      <emulator>/opt/q&amp;emu</emulator>\n"
    "      <machine maxCpus='288'>pc-q35-7.2</machine>\n"
    "      <machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>\n"
    "      <domain type='qemu'/>\n"
    "    </arch>\n"
    "    <features>\n"
    "      <acpi default='on' toggle='yes'/>\n"
    "      <apic default='on' toggle='no'/>\n"
    "      <cpuselection/>\n"
    "      <deviceboot/>\n"
    "      <disksnapshot default='on' toggle='no'/>\n"
    "    </features>\n"
    "  </guest>\n"
    "\n"
    "</capabilities>\n";

static void
test_format_model(void)
{
    g_autoptr(capabilities) caps = capabilities_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    struct capabilities_secmodel *dac;
    struct capabilities_cell *cell;
    struct capabilities_guest *guest;

    caps->host.uuid = g_strdup("b093b024-b145-4bb4-a69b-27b88a55296c");
    caps->host.arch = g_strdup("x86_64");
    caps->host.cpu_vendor = g_strdup("Intel");
    caps->host.sockets = 1;
    caps->host.dies = 1;
    caps->host.cores = 2;
    caps->host.threads = 1;
    cell = capabilities_host_add_cell(&caps->host, 0, 17654340);
    const guint sizes[] = {4, 2048};
    g_array_append_vals(caps->host.page_sizes, sizes, 2);
    const struct capabilities_pages pages[] = {{4, 4413585}, {2048, 0}};
    g_array_append_vals(cell->pages, pages, 2);
    capabilities_cell_add_cpu(cell, 0, 0, 0, 0, "0");
    capabilities_cell_add_cpu(cell, 1, 0, 0, 1, "1");
    capabilities_add_secmodel(caps, "none", "0");
    dac = capabilities_add_secmodel(caps, "dac", "0");
    capabilities_secmodel_add_baselabel(dac, "kvm", "+0:+0");
    capabilities_secmodel_add_baselabel(dac, "qemu", "+0:+0");

    guest = capabilities_add_guest(caps, "hvm", "i686", 32, "/usr/bin/qemu-system-i386");
    capabilities_guest_add_machine(guest, "pc-i440fx-7.2", NULL, 255, FALSE);
    capabilities_guest_add_machine(guest, "pc", "pc-i440fx-7.2", 255, FALSE);
    capabilities_guest_add_machine(guest, "pc-i440fx-1.5", NULL, 255, TRUE);
    guest->kvm = TRUE;
    /* Set in a different order from the output's: the formatter orders them. */
    guest->features = CAPABILITIES_FEATURE_DISKSNAPSHOT | CAPABILITIES_FEATURE_NONPAE |
                      CAPABILITIES_FEATURE_ACPI | CAPABILITIES_FEATURE_APIC |
                      CAPABILITIES_FEATURE_CPUSELECTION | CAPABILITIES_FEATURE_DEVICEBOOT |
                      CAPABILITIES_FEATURE_PAE;

    guest = capabilities_add_guest(caps, "hvm", "x86_64", 64, "/opt/q&emu");
    capabilities_guest_add_machine(guest, "pc-q35-7.2", NULL, 288, FALSE);
    capabilities_guest_add_machine(guest, "q35", "pc-q35-7.2", 288, FALSE);
    guest->features = CAPABILITIES_FEATURE_ACPI | CAPABILITIES_FEATURE_APIC |
                      CAPABILITIES_FEATURE_CPUSELECTION | CAPABILITIES_FEATURE_DEVICEBOOT |
                      CAPABILITIES_FEATURE_DISKSNAPSHOT;

    xml = capabilities_format(caps, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(xml, ==, expected_model_xml);
    g_assert_true(capabilities_find_guest(caps, "hvm", "x86_64") == guest);
    g_assert_null(capabilities_find_guest(caps, "xen", "x86_64"));
}

static void
test_format_minimal(void)
{
    g_autoptr(capabilities) caps = capabilities_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    /* No uuid: refused, naming what is missing. */
    caps->host.arch = g_strdup("x86_64");
    g_assert_null(capabilities_format(caps, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, "'uuid'"));
    g_clear_error(&error);

    /* With one: no guests, no cells, the 'none' security model. */
    caps->host.uuid = g_strdup("00000000-0000-4000-8000-000000000001");
    xml = capabilities_format(caps, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(xml, "<secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"));
    g_assert_null(strstr(xml, "<topology"));
    g_assert_null(strstr(xml, "<guest>"));
}

/* The real thing, as CONNECT_GET_CAPABILITIES answers it on this host. */
static void
test_format_host(void)
{
    g_autofree char *binary = test_qemu_binary();
    g_autofree char *dir = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *second_canonical = NULL;
    g_autofree char *arch = NULL;
    g_autofree char *model = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(qemu_caps_cache) cache = NULL;
    g_autoptr(capabilities) caps = NULL;
    g_autoptr(qemu_caps) qcaps = NULL;
    xmlDoc *doc;
    xmlXPathContext *ctx;
    struct utsname uts;
    gboolean kvm;
    int kvm_domains;

    if (!binary)
        return;
    dir = g_dir_make_tmp("test-caps-XXXXXX", NULL);
    cache = qemu_caps_cache_new(dir);
    caps = qemu_caps_build_capabilities(cache, "8f0a3b1e-2c4d-4e6f-9a0b-1c2d3e4f5a6b", &error);
    g_assert_no_error(error);
    g_assert_nonnull(caps);
    xml = capabilities_format(caps, &error);
    g_assert_no_error(error);
    qcaps = qemu_caps_cache_get(cache, binary, &error);
    g_assert_no_error(error);
    kvm = qemu_caps_kvm_usable() && qemu_caps_get_kvm_supported(qcaps);

    doc = xmlReadMemory(xml, (int)strlen(xml), "capabilities.xml", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    ctx = xmlXPathNewContext(doc);

    g_assert_cmpint(uname(&uts), ==, 0);
    arch = test_xpath_string(ctx, "/capabilities/host/cpu/arch");
    g_assert_cmpstr(arch, ==, uts.machine);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/host/uuid"), ==, 1);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/host/cpu/topology"), ==, 1);
    model = test_xpath_string(ctx, "/capabilities/host/secmodel/model");
    g_assert_cmpstr(model, ==, "none");
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/host/topology/cells/cell"), >=, 1);

    /* virt-install takes the first machine as the default: 'pc' (an alias of the i440fx
     * machine) comes first, then the machines in libvirt's order. */
    first = test_xpath_string(ctx, "/capabilities/guest[arch/@name='x86_64']/arch/machine[1]");
    second = test_xpath_string(ctx, "/capabilities/guest[arch/@name='x86_64']/arch/machine[2]");
    second_canonical = test_xpath_string(
        ctx, "/capabilities/guest[arch/@name='x86_64']/arch/machine[1]/@canonical");
    g_assert_cmpstr(first, ==, "pc");
    g_assert_cmpstr(second, ==, qemu_caps_get_canonical_machine(qcaps, "pc"));
    g_assert_cmpstr(second_canonical, ==, second);
    g_assert_cmpint(test_xpath_count(ctx, "//arch/machine[text()='pc']"), ==, 2);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/arch/"
                                          "machine[text()='q35' and starts-with(@canonical,"
                                          "'pc-q35-')]"),
                    ==, 1);
    g_assert_cmpint(test_xpath_count(ctx, "//arch/machine[text()='none']"), ==, 0);

    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/arch/"
                                          "domain[@type='qemu']"),
                    ==, 1);
    kvm_domains = test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/arch/"
                                        "domain[@type='kvm']");
    g_assert_cmpint(kvm_domains, ==, kvm ? 1 : 0);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/os_type"
                                          "[text()='hvm']"),
                    ==, 1);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/arch/"
                                          "emulator"),
                    ==, 1);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/features/"
                                          "acpi[@default='on']"),
                    ==, 1);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='x86_64']/features/"
                                          "pae"),
                    ==, 0);
    g_assert_cmpint(test_xpath_count(ctx, "/capabilities/guest[arch/@name='i686']/features/pae"),
                    ==, 1);

    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    test_remove_tree(dir);
}

/* ---- nodeinfo ----------------------------------------------------------------------- */

static void
test_nodeinfo(void)
{
    struct nodeinfo info;
    struct utsname uts;
    g_autoptr(GError) error = NULL;
    guint64 free_bytes = 0;

    g_assert_true(nodeinfo_get(&info, &error));
    g_assert_no_error(error);
    g_assert_cmpint(uname(&uts), ==, 0);
    g_assert_cmpstr(info.model, ==, uts.machine);
    g_assert_cmpuint(info.memory, >, 0);
    g_assert_cmpuint(info.cpus, >=, 1);
    g_assert_cmpuint(info.nodes, >=, 1);
    g_assert_cmpuint(info.sockets, >=, 1);
    g_assert_cmpuint(info.cores, >=, 1);
    g_assert_cmpuint(info.threads, >=, 1);
    g_assert_cmpuint(info.nodes * info.sockets * info.cores * info.threads, ==, info.cpus);

    g_assert_true(nodeinfo_get_free_memory(&free_bytes, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(free_bytes, >, 0);
    g_assert_cmpuint(free_bytes, <=, info.memory * 1024);
}

static void
test_nodeinfo_host(void)
{
    g_autoptr(capabilities) caps = capabilities_new();
    g_autoptr(GError) error = NULL;
    struct nodeinfo info;
    guint cpus = 0;

    g_assert_true(nodeinfo_get(&info, &error));
    g_assert_true(nodeinfo_fill_host(&caps->host, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(caps->host.arch, ==, info.model);
    g_assert_cmpuint(caps->host.cells->len, >=, 1);
    for (guint i = 0; i < caps->host.cells->len; i++) {
        const struct capabilities_cell *cell = g_ptr_array_index(caps->host.cells, i);

        cpus += cell->cpus->len;
    }
    g_assert_cmpuint(cpus, ==, info.cpus);
    g_assert_cmpuint(caps->host.sockets * caps->host.dies * caps->host.cores * caps->host.threads *
                         info.nodes,
                     ==, info.cpus);

    /* Filling twice replaces, it does not append. */
    g_assert_true(nodeinfo_fill_host(&caps->host, &error));
    g_assert_cmpuint(caps->host.cells->len, ==, info.nodes);
}

/* sysinfo: the kernel's DMI files as libvirt's <sysinfo>, sections in order, text escaped,
 * absent files left out; a host with none refuses */
static void
test_sysinfo(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("dmi-XXXXXX", &error);
    g_assert_no_error(error);
    const char *files[][2] = {{"bios_vendor", "SeaBIOS\n"},
                              {"bios_version", "1.16 <x&y>\n"},
                              {"sys_vendor", "QEMU\n"},
                              {"product_uuid", "e0c2a1b2-0000-0000-0000-000000000001\n"},
                              {"chassis_vendor", " \n"}};
    g_autofree char *none = nodeinfo_sysinfo(dir, &error);
    g_assert_null(none);
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_UNSUPPORTED);
    g_clear_error(&error);
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i][0], NULL);
        g_assert_true(g_file_set_contents(path, files[i][1], -1, NULL));
    }
    g_autofree char *xml = nodeinfo_sysinfo(dir, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(xml, ==,
                    "<sysinfo type='smbios'>\n"
                    "  <bios>\n"
                    "    <entry name='vendor'>SeaBIOS</entry>\n"
                    "    <entry name='version'>1.16 &lt;x&amp;y&gt;</entry>\n"
                    "  </bios>\n"
                    "  <system>\n"
                    "    <entry name='manufacturer'>QEMU</entry>\n"
                    "    <entry name='uuid'>e0c2a1b2-0000-0000-0000-000000000001</entry>\n"
                    "  </system>\n"
                    "</sysinfo>\n");
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/caps/sysinfo", test_sysinfo);
    g_test_add_func("/caps/probe/real", test_probe_real);
    g_test_add_func("/caps/probe/timeout", test_probe_timeout);
    g_test_add_func("/caps/probe/early-exit", test_probe_early_exit);
    g_test_add_func("/caps/probe/not-qmp", test_probe_not_qmp);
    g_test_add_func("/caps/probe/missing", test_probe_missing);
    g_test_add_func("/caps/cache/reuse-and-invalidate", test_cache);
    g_test_add_func("/caps/cache/corrupt-file", test_cache_corrupt_file);
    g_test_add_func("/caps/find-binary", test_find_binary);
    g_test_add_func("/capabilities/format/model", test_format_model);
    g_test_add_func("/capabilities/format/minimal", test_format_minimal);
    g_test_add_func("/capabilities/format/host", test_format_host);
    g_test_add_func("/nodeinfo/get", test_nodeinfo);
    g_test_add_func("/nodeinfo/fill-host", test_nodeinfo_host);
    return g_test_run();
}
