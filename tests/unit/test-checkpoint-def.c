/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-checkpoint-def: <domaincheckpoint> and <domainbackup> parse and format
 * (checkpoint_def_, backup_def_): what the daemon keeps reads back the same; the daemon's own
 * fields are read only with REDEFINE; every bad input is refused naming it. */
#include <glib.h>
#include <string.h>

#include "conf/checkpoint_def.h"
#include "util/err.h"

static const char *const stored = "<domaincheckpoint>\n"
                                  "  <name>c2</name>\n"
                                  "  <description>nightly &amp; more</description>\n"
                                  "  <parent>\n"
                                  "    <name>c1</name>\n"
                                  "  </parent>\n"
                                  "  <creationTime>1796650000</creationTime>\n"
                                  "  <disks>\n"
                                  "    <disk name='vda' checkpoint='bitmap' bitmap='c2'/>\n"
                                  "    <disk name='vdb' checkpoint='no'/>\n"
                                  "  </disks>\n"
                                  "</domaincheckpoint>\n";

static void
test_round_trip(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(checkpoint_def) def =
        checkpoint_def_parse(stored, CHECKPOINT_DEF_PARSE_REDEFINE, &error);
    g_assert_no_error(error);
    g_autofree char *out = checkpoint_def_format(def, 0);
    g_assert_cmpstr(out, ==, stored);
    /* with SIZE, each bitmap's count */
    ((struct checkpoint_disk *)def->disks->pdata[0])->size = 65536;
    g_autofree char *sized = checkpoint_def_format(def, CHECKPOINT_DEF_FORMAT_SIZE);
    g_assert_nonnull(strstr(sized, "<disk name='vda' checkpoint='bitmap' bitmap='c2' "
                                   "size='65536'/>"));
    g_assert_nonnull(strstr(sized, "<disk name='vdb' checkpoint='no'/>"));
}

static void
test_create_input(void)
{
    /* a client's: parent and creation time are the daemon's (ignored); a listed disk takes
     * part with a bitmap unless it says no */
    g_autoptr(GError) error = NULL;
    g_autoptr(checkpoint_def) def = checkpoint_def_parse(stored, 0, &error);
    g_assert_no_error(error);
    g_assert_null(def->parent);
    g_assert_cmpint(def->creation_time, ==, 0);
    g_autoptr(checkpoint_def) bare = checkpoint_def_parse(
        "<domaincheckpoint><disks><disk name='vda'/></disks></domaincheckpoint>", 0, &error);
    g_assert_no_error(error);
    g_assert_null(bare->name);
    const struct checkpoint_disk *d = checkpoint_def_disk(bare, "vda");
    g_assert_true(d && d->bitmap && !d->bitmap_name);
}

static void
test_backup(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(backup_def) def =
        backup_def_parse("<domainbackup><incremental>c1</incremental><disks>"
                         "<disk name='vda' type='file'><target file='/b/vda.qcow2'/>"
                         "<driver type='qcow2'/></disk><disk name='vdb' backup='no'/>"
                         "</disks></domainbackup>",
                         &error);
    g_assert_no_error(error);
    g_assert_false(def->pull);
    g_assert_cmpstr(def->incremental, ==, "c1");
    struct backup_disk *d = backup_def_disk(def, "vda");
    d->mode = BACKUP_MODE_INCREMENTAL;
    d->incremental = g_strdup("c1");
    d->index = 7;
    g_autofree char *out = backup_def_format(def);
    g_assert_cmpstr(out, ==,
                    "<domainbackup mode='push'>\n"
                    "  <incremental>c1</incremental>\n"
                    "  <disks>\n"
                    "    <disk name='vda' backup='yes' type='file' backupmode='incremental' "
                    "incremental='c1' index='7'>\n"
                    "      <driver type='qcow2'/>\n"
                    "      <target file='/b/vda.qcow2'/>\n"
                    "    </disk>\n"
                    "    <disk name='vdb' backup='no'/>\n"
                    "  </disks>\n"
                    "</domainbackup>\n");

    /* pull: the server, and what each disk is exported as */
    g_autoptr(backup_def) pull =
        backup_def_parse("<domainbackup mode='pull'><server transport='unix' socket='/r/s'/>"
                         "<disks><disk name='vda' exportname='e' exportbitmap='b'>"
                         "<scratch file='/r/x.qcow2'/></disk></disks></domainbackup>",
                         &error);
    g_assert_no_error(error);
    g_assert_true(pull->pull && pull->server_unix);
    g_autofree char *pout = backup_def_format(pull);
    g_assert_nonnull(strstr(pout, "<server transport='unix' socket='/r/s'/>"));
    g_assert_nonnull(strstr(pout, " exportname='e' exportbitmap='b'>"));
    g_assert_nonnull(strstr(pout, "<scratch file='/r/x.qcow2'/>"));
    g_autoptr(backup_def) tcp =
        backup_def_parse("<domainbackup mode='pull'><server port='10809'/></domainbackup>", &error);
    g_assert_no_error(error);
    g_autofree char *tout = backup_def_format(tcp);
    g_assert_nonnull(strstr(tout, "<server transport='tcp' name='localhost' port='10809'/>"));
    g_autoptr(backup_def) tls = backup_def_parse(
        "<domainbackup mode='pull'><server name='h' port='1' tls='yes'/></domainbackup>", &error);
    g_assert_no_error(error);
    g_autofree char *lout = backup_def_format(tls);
    g_assert_nonnull(strstr(lout, "<server transport='tcp' tls='yes' name='h' port='1'/>"));
}

struct bad {
    gboolean backup;
    const char *xml;
    int code;
    const char *message;
};

static const struct bad bad[] = {
    {FALSE, "<domaincheckpoint><name>a/b</name></domaincheckpoint>", ERR_XML_ERROR,
     "invalid checkpoint name 'a/b'"},
    {FALSE, "<domaincheckpoint><name>.x</name></domaincheckpoint>", ERR_XML_ERROR,
     "invalid checkpoint name"},
    {FALSE, "<domaincheckpoint><bogus/></domaincheckpoint>", ERR_CONFIG_UNSUPPORTED, "bogus"},
    {FALSE,
     "<domaincheckpoint><disks><disk name='vda' checkpoint='snap'/></disks>"
     "</domaincheckpoint>",
     ERR_XML_ERROR, "unknown checkpoint type 'snap'"},
    {FALSE,
     "<domaincheckpoint><disks><disk name='vda' checkpoint='no' bitmap='x'/></disks>"
     "</domaincheckpoint>",
     ERR_XML_ERROR, "checkpoint='no'"},
    {FALSE, "<domaincheckpoint><disks><disk/></disks></domaincheckpoint>", ERR_XML_ERROR,
     "lacks its name"},
    {FALSE, "<domaincheckpoint><name>a</name><name>b</name></domaincheckpoint>", ERR_XML_ERROR,
     "more than once"},
    {FALSE, "<domain/>", ERR_XML_ERROR, "domaincheckpoint"},
    {TRUE, "<domainbackup mode='sideways'/>", ERR_XML_ERROR, "sideways"},
    {TRUE, "<domainbackup><server name='localhost'/></domainbackup>", ERR_XML_ERROR,
     "requires pull mode"},
    {TRUE, "<domainbackup mode='pull'/>", ERR_XML_ERROR, "needs its <server>"},
    {TRUE, "<domainbackup mode='pull'><server transport='rdma'/></domainbackup>",
     ERR_CONFIG_UNSUPPORTED, "'rdma'"},
    {TRUE, "<domainbackup mode='pull'><server port='1' tls='maybe'/></domainbackup>", ERR_XML_ERROR,
     "invalid tls 'maybe'"},
    {TRUE, "<domainbackup mode='pull'><server transport='unix' socket='s'/></domainbackup>",
     ERR_XML_ERROR, "must be absolute"},
    {TRUE, "<domainbackup mode='pull'><server name='localhost'/></domainbackup>",
     ERR_OPERATION_UNSUPPORTED, "must specify TCP port"},
    {TRUE, "<domainbackup mode='pull'><server port='70000'/></domainbackup>", ERR_XML_ERROR,
     "invalid port '70000'"},
    {TRUE,
     "<domainbackup mode='pull'><server port='1'/><disks><disk name='vda'>"
     "<driver type='raw'/></disk></disks></domainbackup>",
     ERR_CONFIG_UNSUPPORTED, "use 'qcow2'"},
    {TRUE, "<domainbackup><disks><disk name='vda'/><disk name='vda'/></disks></domainbackup>",
     ERR_XML_ERROR, "specified twice"},
    {TRUE,
     "<domainbackup><disks><disk name='vda'><target file='rel.qcow2'/></disk></disks>"
     "</domainbackup>",
     ERR_XML_ERROR, "absolute"},
    {TRUE,
     "<domainbackup><disks><disk name='vda'><driver type='vmdk'/></disk></disks>"
     "</domainbackup>",
     ERR_CONFIG_UNSUPPORTED, "'vmdk'"},
    {TRUE,
     "<domainbackup><disks><disk name='vda' backupmode='sometimes'/></disks>"
     "</domainbackup>",
     ERR_XML_ERROR, "sometimes"},
};

static void
test_bad(gconstpointer data)
{
    const struct bad *b = data;
    g_autoptr(GError) error = NULL;
    if (b->backup) {
        g_autoptr(backup_def) def = backup_def_parse(b->xml, &error);
        g_assert_null(def);
    } else {
        g_autoptr(checkpoint_def) def = checkpoint_def_parse(b->xml, 0, &error);
        g_assert_null(def);
    }
    g_assert_error(error, DOMUS_ERROR, b->code);
    if (!strstr(error->message, b->message))
        g_error("'%s': '%s' lacks '%s'", b->xml, error->message, b->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/checkpoint-def/round-trip", test_round_trip);
    g_test_add_func("/checkpoint-def/create-input", test_create_input);
    g_test_add_func("/checkpoint-def/backup", test_backup);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/checkpoint-def/bad/%zu", i);
        g_test_add_data_func(name, &bad[i], test_bad);
    }
    return g_test_run();
}
