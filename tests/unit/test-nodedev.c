/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-nodedev: conf/nodedev over a fake sysfs tree: a PCI bridge with a NIC behind it, the
 * NIC's interface and a disk on a root-bus controller, a virtual interface, a loop device
 * (left out), names from a small pci.ids, and what the documents say. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/netiface.h"
#include "conf/nodedev.h"

static void
put(const char *root, const char *file, const char *text)
{
    g_autofree char *path = g_build_filename(root, file, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0755);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* DIR/FILE holding TEXT */
static void
put_in(const char *root, const char *dir, const char *file, const char *text)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    put(root, path, text);
}

static void
link_to(const char *root, const char *file, const char *target)
{
    g_autofree char *path = g_build_filename(root, file, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0755);
    g_assert_cmpint(symlink(target, path), ==, 0);
}

static void
pci(const char *root, const char *dir, const char *address, const char *cls, const char *vendor,
    const char *device)
{
    g_autofree char *full = g_strdup_printf("devices/%s", dir);
    g_autofree char *f_class = g_build_filename(full, "class", NULL);
    g_autofree char *f_vendor = g_build_filename(full, "vendor", NULL);
    g_autofree char *f_device = g_build_filename(full, "device", NULL);
    put(root, f_class, cls);
    put(root, f_vendor, vendor);
    put(root, f_device, device);
    g_autofree char *link = g_strdup_printf("bus/pci/devices/%s", address);
    g_autofree char *target = g_strdup_printf("../../../devices/%s", dir);
    link_to(root, link, target);
}

static char *
fake_sysfs(void)
{
    g_autoptr(GError) error = NULL;
    char *root = g_dir_make_tmp("nodedev-XXXXXX", &error);
    g_assert_no_error(error);
    pci(root, "pci0000:00/0000:00:1c.0", "0000:00:1c.0", "0x060400\n", "0x8086\n", "0x2940\n");
    pci(root, "pci0000:00/0000:00:1c.0/0000:01:00.0", "0000:01:00.0", "0x020000\n", "0x8086\n",
        "0x10d3\n");
    pci(root, "pci0000:00/0000:00:1f.2", "0000:00:1f.2", "0x010601\n", "0x8086\n", "0x2922\n");
    put(root, "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/numa_node", "-1\n");
    link_to(root, "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/driver",
            "../../../../bus/pci/drivers/e1000e");
    const char *nic = "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/net/eth0";
    put_in(root, nic, "address", "52:54:00:aa:bb:cc\n");
    put_in(root, nic, "operstate", "up\n");
    put_in(root, nic, "speed", "1000\n");
    put_in(root, nic, "type", "1\n");
    link_to(root, "class/net/eth0", "../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0/net/eth0");
    put(root, "devices/virtual/net/lo/address", "00:00:00:00:00:00\n");
    put(root, "devices/virtual/net/lo/operstate", "unknown\n");
    put(root, "devices/virtual/net/lo/type", "772\n");
    link_to(root, "class/net/lo", "../../devices/virtual/net/lo");
    const char *disk = "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
    put_in(root, disk, "block/sda/size", "2048\n");
    put_in(root, disk, "block/sda/queue/logical_block_size", "4096\n");
    put_in(root, disk, "model", "QEMU HARDDISK   \n");
    put_in(root, disk, "vendor", "ATA\n");
    link_to(root, "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/device",
            "../../../0:0:0:0");
    link_to(root, "block/sda",
            "../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda");
    put(root, "devices/virtual/block/loop0/size", "0\n");
    link_to(root, "block/loop0", "../devices/virtual/block/loop0");
    put(root, "pci.ids",
        "# comment\n8086  Intel Corporation\n\t10d3  82574L Gigabit Network "
        "Connection\n\t\t8086 0001  subsystem\n\t2922  82801IR SATA & AHCI\n"
        "C 01  Mass storage\n\t06  SATA\n");
    return root;
}

static const struct nodedev *
find(GPtrArray *devs, const char *name)
{
    for (guint i = 0; i < devs->len; i++)
        if (g_str_equal(((struct nodedev *)devs->pdata[i])->name, name))
            return devs->pdata[i];
    g_error("no device %s", name);
}

static void
test_enumerate(void)
{
    g_autofree char *root = fake_sysfs();
    g_autofree char *ids = g_build_filename(root, "pci.ids", NULL);
    g_autoptr(GPtrArray) devs =
        nodedev_enumerate(root, "0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b01", ids);
    GString *names = g_string_new(NULL);
    for (guint i = 0; i < devs->len; i++)
        g_string_append_printf(names, "%s ", ((struct nodedev *)devs->pdata[i])->name);
    g_assert_cmpstr(names->str, ==,
                    "computer block_sda net_eth0_52_54_00_aa_bb_cc net_lo_00_00_00_00_00_00 "
                    "pci_0000_00_1c_0 pci_0000_00_1f_2 pci_0000_01_00_0 ");
    g_string_free(names, TRUE);

    const struct nodedev *c = find(devs, "computer");
    g_assert_null(c->parent);
    g_assert_nonnull(strstr(c->xml, "<uuid>0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b01</uuid>"));

    const struct nodedev *nic = find(devs, "pci_0000_01_00_0");
    g_assert_cmpstr(nic->parent, ==, "pci_0000_00_1c_0"); /* behind the bridge */
    g_assert_cmpstr(nic->driver, ==, "e1000e");
    g_assert_cmpuint(nic->cap, ==, NODEDEV_CAP_PCI);
    g_assert_nonnull(strstr(nic->xml, "<class>0x020000</class>"));
    g_assert_nonnull(strstr(nic->xml, "<domain>0</domain>\n    <bus>1</bus>\n    <slot>0</slot>"));
    g_assert_nonnull(strstr(nic->xml, "<product id='0x10d3'>82574L Gigabit Network Connection"
                                      "</product>"));
    g_assert_nonnull(strstr(nic->xml, "<vendor id='0x8086'>Intel Corporation</vendor>"));
    g_assert_null(strstr(nic->xml, "<numa")); /* -1: none */
    g_assert_cmpstr(find(devs, "pci_0000_00_1c_0")->parent, ==, "computer");
    g_assert_nonnull(strstr(find(devs, "pci_0000_00_1c_0")->xml, "<product id='0x2940'/>"));
    g_assert_nonnull(strstr(find(devs, "pci_0000_00_1f_2")->xml, "SATA &amp; AHCI"));

    const struct nodedev *eth = find(devs, "net_eth0_52_54_00_aa_bb_cc");
    g_assert_cmpstr(eth->parent, ==, "pci_0000_01_00_0");
    g_assert_nonnull(strstr(eth->xml, "<interface>eth0</interface>"));
    g_assert_nonnull(strstr(eth->xml, "<link state='up' speed='1000'/>"));
    g_assert_nonnull(strstr(eth->xml, "<capability type='80203'/>"));
    const struct nodedev *lo = find(devs, "net_lo_00_00_00_00_00_00");
    g_assert_cmpstr(lo->parent, ==, "computer");
    g_assert_null(strstr(lo->xml, "80203"));

    const struct nodedev *sda = find(devs, "block_sda");
    g_assert_cmpstr(sda->parent, ==, "pci_0000_00_1f_2");
    g_assert_nonnull(strstr(sda->xml, "<block>/dev/sda</block>"));
    g_assert_nonnull(strstr(sda->xml, "<model>QEMU HARDDISK</model>"));
    g_assert_nonnull(strstr(sda->xml, "<size>1048576</size>\n    <logical_block_size>4096"
                                      "</logical_block_size>\n    <num_blocks>256</num_blocks>"));

    g_assert_cmpuint(nodedev_cap_from_name("storage"), ==, NODEDEV_CAP_STORAGE);
    g_assert_cmpuint(nodedev_cap_from_name("usb_device"), ==, 0);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(rm), ==, 0);
}

/* No sysfs at all (a container): the computer alone, no failure */
static void
test_empty(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate("/nonexistent", NULL, NULL);
    g_assert_cmpuint(devs->len, ==, 1);
    g_assert_nonnull(strstr(((struct nodedev *)devs->pdata[0])->xml, "<hardware>"));
}

/* Host interfaces: a bridge with its port (shown inside it, not on its own), a VLAN on the
 * port, a guest's tap (left out) */
static void
test_interfaces(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *root = g_dir_make_tmp("netiface-XXXXXX", &error);
    g_assert_no_error(error);
    struct {
        const char *name, *mac, *state, *extra;
    } ifs[] = {
        {"br0", "52:54:00:00:00:01", "up", "bridge/stp_state"},
        {"eth1", "52:54:00:00:00:02", "up", "brport/state"},
        {"eth1.10", "52:54:00:00:00:02", "down", NULL},
        {"vnet0", "fe:54:00:00:00:03", "up", "tun_flags"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(ifs); i++) {
        g_autofree char *dir = g_strdup_printf("devices/virtual/net/%s", ifs[i].name);
        put_in(root, dir, "address", ifs[i].mac);
        put_in(root, dir, "operstate", ifs[i].state);
        put_in(root, dir, "mtu", "1500\n");
        if (ifs[i].extra)
            put_in(root, dir, ifs[i].extra, "1\n");
        g_autofree char *link = g_strdup_printf("class/net/%s", ifs[i].name);
        g_autofree char *target = g_strdup_printf("../../devices/virtual/net/%s", ifs[i].name);
        link_to(root, link, target);
    }
    put_in(root, "devices/virtual/net/br0", "uevent", "DEVTYPE=bridge\nINTERFACE=br0\n");
    put_in(root, "devices/virtual/net/br0", "bridge/forward_delay", "1500\n");
    link_to(root, "devices/virtual/net/br0/brif/eth1", "../../eth1/brport");
    g_autoptr(GPtrArray) all = netiface_enumerate(root);
    g_assert_cmpuint(all->len, ==, 2);
    const struct netiface *br = all->pdata[0], *vlan = all->pdata[1];
    g_assert_cmpstr(br->name, ==, "br0");
    g_assert_true(br->active);
    g_assert_cmpstr(br->xml, ==,
                    "<interface type='bridge' name='br0'>\n"
                    "  <mtu size='1500'/>\n"
                    "  <bridge stp='on' delay='15'>\n"
                    "    <interface type='ethernet' name='eth1'>\n"
                    "      <link state='up'/>\n"
                    "      <mac address='52:54:00:00:00:02'/>\n"
                    "    </interface>\n"
                    "  </bridge>\n"
                    "</interface>\n");
    g_assert_cmpstr(vlan->name, ==, "eth1.10");
    g_assert_false(vlan->active);
    g_assert_nonnull(strstr(vlan->xml, "<vlan tag='10'>\n    <interface name='eth1'/>"));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(rm), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nodedev/enumerate", test_enumerate);
    g_test_add_func("/nodedev/empty", test_empty);
    g_test_add_func("/nodedev/interfaces", test_interfaces);
    return g_test_run();
}
