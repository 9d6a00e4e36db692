/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-snapshot-def: <domainsnapshot> parse and format (snapshot_def_): what the daemon keeps
 * reads back the same; what a client gives at create time is read, the daemon's own fields
 * only with REDEFINE; every bad input is refused naming it. */
#include <glib.h>
#include <string.h>

#include "conf/snapshot_def.h"
#include "util/err.h"

static const char *const stored = "<domainsnapshot>\n"
                                  "  <name>s1</name>\n"
                                  "  <description>before the upgrade &amp; more</description>\n"
                                  "  <state>running</state>\n"
                                  "  <parent>\n"
                                  "    <name>s0</name>\n"
                                  "  </parent>\n"
                                  "  <creationTime>1733400000</creationTime>\n"
                                  "  <memory snapshot='internal'/>\n"
                                  "  <disks>\n"
                                  "    <disk name='vda' snapshot='internal'/>\n"
                                  "    <disk name='vdb' snapshot='no'/>\n"
                                  "  </disks>\n"
                                  "</domainsnapshot>\n";

static void
test_round_trip(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(snapshot_def) def = snapshot_def_parse(stored, SNAPSHOT_DEF_PARSE_REDEFINE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->parent, ==, "s0");
    g_assert_cmpint(def->state, ==, SNAPSHOT_STATE_RUNNING);
    g_assert_cmpint(def->creation_time, ==, 1733400000);
    g_assert_cmpint(def->memory, ==, SNAPSHOT_LOC_INTERNAL);
    g_assert_cmpint(snapshot_def_disk(def, "vdb")->snapshot, ==, SNAPSHOT_LOC_NO);
    g_autofree char *xml = snapshot_def_format(def, 0);
    g_assert_cmpstr(xml, ==, stored);
}

/* An external snapshot a revert came back to, with children: the overlays the domain ran on
 * since are its <revertDisks>, kept apart from its own <disks>. */
static const char *const reverted = "<domainsnapshot>\n"
                                    "  <name>e1</name>\n"
                                    "  <state>disk-snapshot</state>\n"
                                    "  <creationTime>1733400001</creationTime>\n"
                                    "  <memory snapshot='no'/>\n"
                                    "  <disks>\n"
                                    "    <disk name='vda' snapshot='external' type='file'>\n"
                                    "      <driver type='qcow2'/>\n"
                                    "      <source file='/i/vm.e1'/>\n"
                                    "    </disk>\n"
                                    "  </disks>\n"
                                    "  <revertDisks>\n"
                                    "    <disk name='vda' snapshot='external' type='file'>\n"
                                    "      <driver type='qcow2'/>\n"
                                    "      <source file='/i/vm.1733400002'/>\n"
                                    "    </disk>\n"
                                    "  </revertDisks>\n"
                                    "</domainsnapshot>\n";

static void
test_revert_disks(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(snapshot_def) def = snapshot_def_parse(reverted, SNAPSHOT_DEF_PARSE_REDEFINE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(def->revert_disks->len, ==, 1);
    g_assert_cmpstr(snapshot_def_disk_in(def->revert_disks, "vda")->file, ==, "/i/vm.1733400002");
    g_assert_cmpstr(snapshot_def_disk(def, "vda")->file, ==, "/i/vm.e1");
    g_autofree char *xml = snapshot_def_format(def, 0);
    g_assert_cmpstr(xml, ==, reverted);
    /* a client's create input never sets it */
    g_autoptr(snapshot_def) input = snapshot_def_parse(reverted, 0, &error);
    g_assert_no_error(error);
    g_assert_null(input->revert_disks);
}

static void
test_create_input(void)
{
    const char *in = "<domainsnapshot><name>ext</name><state>paused</state>"
                     "<memory file='/var/x.mem'/>"
                     "<disks><disk name='vda'><source file='/var/vda.ovl'/>"
                     "<driver type='qcow2'/></disk></disks></domainsnapshot>";
    g_autoptr(GError) error = NULL;
    g_autoptr(snapshot_def) def = snapshot_def_parse(in, 0, &error);
    g_assert_no_error(error);
    /* the daemon's own fields are not taken from a client without REDEFINE */
    g_assert_cmpint(def->state, ==, SNAPSHOT_STATE_NOSTATE);
    g_assert_cmpint(def->memory, ==, SNAPSHOT_LOC_EXTERNAL);
    g_assert_cmpstr(def->memory_file, ==, "/var/x.mem");
    struct snapshot_disk *d = snapshot_def_disk(def, "vda");
    g_assert_cmpint(d->snapshot, ==, SNAPSHOT_LOC_EXTERNAL);
    g_assert_cmpstr(d->file, ==, "/var/vda.ovl");
    /* an unnamed snapshot is named by the daemon */
    g_autoptr(snapshot_def) unnamed = snapshot_def_parse("<domainsnapshot/>", 0, &error);
    g_assert_no_error(error);
    g_assert_null(unnamed->name);
}

struct bad {
    const char *xml;
    int code;
    const char *message;
};

static const struct bad bad[] = {
    {"<domainsnapshot><name>a/b</name></domainsnapshot>", ERR_XML_DETAIL, "can't contain '/'"},
    {"<domainsnapshot><name></name></domainsnapshot>", ERR_XML_ERROR, "empty"},
    {"<domainsnapshot><bogus/></domainsnapshot>", ERR_CONFIG_UNSUPPORTED, "bogus"},
    {"<domainsnapshot><memory snapshot='sideways'/></domainsnapshot>", ERR_XML_ERROR, "sideways"},
    {"<domainsnapshot><memory snapshot='internal' file='/x'/></domainsnapshot>", ERR_XML_ERROR,
     "not 'external'"},
    {"<domainsnapshot><disks><disk name='vda'/><disk name='vda'/></disks></domainsnapshot>",
     ERR_XML_ERROR, "twice"},
    {"<domainsnapshot><disks><disk/></disks></domainsnapshot>", ERR_XML_ERROR, "lacks its name"},
    {"<domainsnapshot><disks><disk name='vda'><driver type='raw'/></disk></disks>"
     "</domainsnapshot>",
     ERR_CONFIG_UNSUPPORTED, "'raw'"},
    {"<domainsnapshot><name>a</name><name>b</name></domainsnapshot>", ERR_XML_ERROR,
     "more than once"},
    {"<domain/>", ERR_XML_ERROR, "domainsnapshot"},
};

static void
test_bad(gconstpointer data)
{
    const struct bad *b = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(snapshot_def) def = snapshot_def_parse(b->xml, 0, &error);
    g_assert_null(def);
    g_assert_error(error, DOMUS_ERROR, b->code);
    if (!strstr(error->message, b->message))
        g_error("'%s': '%s' lacks '%s'", b->xml, error->message, b->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/snapshot-def/round-trip", test_round_trip);
    g_test_add_func("/snapshot-def/create-input", test_create_input);
    g_test_add_func("/snapshot-def/revert-disks", test_revert_disks);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/snapshot-def/bad/%zu", i);
        g_test_add_data_func(name, &bad[i], test_bad);
    }
    return g_test_run();
}
