/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-pcihost: util/pcihost over a fake sysfs tree: a device that does not exist, one in no
 * IOMMU group, a group member held by a host driver, an unmanaged device bound elsewhere or
 * to vfio-pci, a managed one without vfio-pci loaded, and the writes of a managed rebind and
 * release (the fake tree has no kernel behind it, so the rebind is seen to fail and undo). */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/pcihost.h"

#define DEV "0000:06:12.5"
#define PEER "0000:06:12.4"

static void
put(const char *dir, const char *file, const char *text)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0755);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *
get(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void
link_to(const char *dir, const char *file, const char *target)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0755);
    unlink(path);
    g_assert_cmpint(symlink(target, path), ==, 0);
}

/* A tree with DEV (and PEER) in IOMMU group 7, DEV bound to DRIVER (NULL: none), PEER to
 * PEER_DRIVER; drivers e1000e and vfio-pci exist. */
static char *
fake_sysfs(const char *driver, const char *peer_driver)
{
    g_autoptr(GError) error = NULL;
    char *root = g_dir_make_tmp("pcihost-XXXXXX", &error);
    g_assert_no_error(error);
    put(root, "bus/pci/drivers_probe", "");
    put(root, "bus/pci/drivers/e1000e/unbind", "");
    put(root, "bus/pci/drivers/vfio-pci/unbind", "");
    put(root, "bus/pci/drivers/pcieport/unbind", "");
    put(root, "kernel/iommu_groups/7/type", "DMA\n");
    const char *devs[] = {DEV, PEER};
    const char *drivers[] = {driver, peer_driver};
    for (guint i = 0; i < 2; i++) {
        g_autofree char *dir = g_strdup_printf("devices/pci0000:00/%s", devs[i]);
        g_autofree char *override = g_strdup_printf("%s/driver_override", dir);
        put(root, override, "(null)\n");
        g_autofree char *bus_link = g_strdup_printf("bus/pci/devices/%s", devs[i]);
        g_autofree char *target = g_strdup_printf("../../../%s", dir);
        link_to(root, bus_link, target);
        g_autofree char *group = g_strdup_printf("%s/iommu_group", dir);
        link_to(root, group, "../../../kernel/iommu_groups/7");
        g_autofree char *member = g_strdup_printf("kernel/iommu_groups/7/devices/%s", devs[i]);
        g_autofree char *member_target = g_strdup_printf("../../../../%s", dir);
        link_to(root, member, member_target);
        if (drivers[i]) {
            g_autofree char *drv = g_strdup_printf("%s/driver", dir);
            g_autofree char *drv_target =
                g_strdup_printf("../../../bus/pci/drivers/%s", drivers[i]);
            link_to(root, drv, drv_target);
        }
    }
    return root;
}

static void
rm_rf(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void
expect_error(const char *root, const char *addr, gboolean managed, int code, const char *text)
{
    g_autoptr(GError) error = NULL;
    gboolean rebound = FALSE;
    g_assert_false(pcihost_prepare(root, addr, managed, &rebound, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(err_code(error), ==, code);
    if (!strstr(error->message, text))
        g_test_fail_printf("message '%s' does not contain '%s'", error->message, text);
}

static void
test_missing(void)
{
    g_autofree char *root = fake_sysfs(NULL, NULL);
    expect_error(root, "0000:07:00.0", TRUE, ERR_OPERATION_FAILED,
                 "host PCI device 0000:07:00.0 does not exist; check its address with 'lspci -D'");
    rm_rf(root);
}

static void
test_no_group(void)
{
    g_autofree char *root = fake_sysfs("vfio-pci", NULL);
    g_autofree char *group = g_build_filename(root, "devices/pci0000:00/" DEV "/iommu_group", NULL);
    g_assert_cmpint(unlink(group), ==, 0);
    expect_error(root, DEV, FALSE, ERR_OPERATION_FAILED, "is in no IOMMU group");
    rm_rf(root);
}

static void
test_group_peer(void)
{
    g_autofree char *root = fake_sysfs("vfio-pci", "e1000e");
    expect_error(root, DEV, TRUE, ERR_OPERATION_INVALID,
                 "shares IOMMU group 7 with " PEER ", which is bound to 'e1000e'");
    rm_rf(root);
    /* a PCIe port or an unbound peer is fine */
    g_autofree char *ok = fake_sysfs("vfio-pci", "pcieport");
    g_autoptr(GError) error = NULL;
    gboolean rebound = TRUE;
    g_assert_true(pcihost_prepare(ok, DEV, FALSE, &rebound, &error));
    g_assert_no_error(error);
    g_assert_false(rebound);
    rm_rf(ok);
}

static void
test_unmanaged(void)
{
    g_autofree char *root = fake_sysfs("e1000e", NULL);
    expect_error(root, DEV, FALSE, ERR_OPERATION_INVALID,
                 "host PCI device " DEV " is bound to 'e1000e', not vfio-pci; bind it to vfio-pci "
                 "('driverctl set-override " DEV " vfio-pci') or set managed='yes'");
    g_autofree char *probe = get(root, "bus/pci/drivers_probe");
    g_assert_cmpstr(probe, ==, ""); /* nothing was touched */
    rm_rf(root);
    g_autofree char *unbound = fake_sysfs(NULL, NULL);
    expect_error(unbound, DEV, FALSE, ERR_OPERATION_INVALID, "is bound to no driver, not vfio");
    rm_rf(unbound);
}

static void
test_managed_no_vfio(void)
{
    g_autofree char *root = fake_sysfs("e1000e", NULL);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s/bus/pci/drivers/vfio-pci'", root);
    g_assert_cmpint(system(cmd), ==, 0);
    expect_error(root, DEV, TRUE, ERR_OPERATION_FAILED,
                 "the vfio-pci driver is not loaded; run 'modprobe vfio-pci'");
    rm_rf(root);
}

/* The writes a rebind makes, in order; the fake kernel does not act on them, so the device
 * is still on e1000e afterwards: the failure names it and the override is taken back. */
static void
test_managed_rebind(void)
{
    g_autofree char *root = fake_sysfs("e1000e", NULL);
    expect_error(root, DEV, TRUE, ERR_OPERATION_FAILED,
                 "host PCI device " DEV " did not bind to vfio-pci (its driver is now 'e1000e')");
    g_autofree char *unbind = get(root, "bus/pci/drivers/e1000e/unbind");
    g_autofree char *probe = get(root, "bus/pci/drivers_probe");
    g_autofree char *override = get(root, "bus/pci/devices/" DEV "/driver_override");
    g_assert_cmpstr(unbind, ==, DEV);
    g_assert_cmpstr(probe, ==, DEV);
    g_assert_cmpstr(override, ==, "\n");
    rm_rf(root);
}

static void
test_release(void)
{
    g_autofree char *root = fake_sysfs("vfio-pci", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *driver = pcihost_driver(root, DEV);
    g_assert_cmpstr(driver, ==, "vfio-pci");
    g_assert_true(pcihost_release(root, DEV, &error));
    g_assert_no_error(error);
    g_autofree char *unbind = get(root, "bus/pci/drivers/vfio-pci/unbind");
    g_autofree char *probe = get(root, "bus/pci/drivers_probe");
    g_autofree char *override = get(root, "bus/pci/devices/" DEV "/driver_override");
    g_assert_cmpstr(unbind, ==, DEV);
    g_assert_cmpstr(probe, ==, DEV);
    g_assert_cmpstr(override, ==, "\n");
    rm_rf(root);
    /* a device on its host driver stays there */
    g_autofree char *host = fake_sysfs("e1000e", NULL);
    g_assert_true(pcihost_release(host, DEV, &error));
    g_autofree char *untouched = get(host, "bus/pci/drivers/e1000e/unbind");
    g_assert_cmpstr(untouched, ==, "");
    rm_rf(host);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pcihost/missing", test_missing);
    g_test_add_func("/pcihost/no-group", test_no_group);
    g_test_add_func("/pcihost/group-peer", test_group_peer);
    g_test_add_func("/pcihost/unmanaged", test_unmanaged);
    g_test_add_func("/pcihost/managed-no-vfio", test_managed_no_vfio);
    g_test_add_func("/pcihost/managed-rebind", test_managed_rebind);
    g_test_add_func("/pcihost/release", test_release);
    return g_test_run();
}
