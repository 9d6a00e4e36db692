/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-cgroup: util/cgroup and core/qos's knobs over fake cgroup trees: v2 (one hierarchy, the
 * controllers delegated down, threaded children, cpu.weight, cpu.max, memory.max) and v1 (a
 * hierarchy per controller, cpuset inheritance). The v1 path is also tested on the machine's
 * real hierarchies (tests/integration/test_qos.py). */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/qos.h"
#include "util/cgroup.h"
#include "util/err.h"

static char *
tmp_root(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("cgroup-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

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
    return g_strstrip(text);
}

static void
rm_rf(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void
test_v2(void)
{
    g_autofree char *root = tmp_root();
    g_autoptr(GError) error = NULL;
    put(root, "cgroup.controllers", "cpuset cpu io memory pids\n");
    put(root, "cgroup.subtree_control", "");
    g_autoptr(cgroup_host) host = cgroup_host_detect(root);
    g_assert_true(cgroup_host_is_v2(host));
    g_assert_true(cgroup_host_has(host, CGROUP_CPU) && cgroup_host_has(host, CGROUP_BLKIO));
    g_assert_true(cgroup_host_has(host, CGROUP_CPUACCT)); /* part of cpu in v2 */

    g_assert_true(cgroup_create(host, "domus/web", &error));
    g_assert_no_error(error);
    /* every ancestor hands the controllers down; the group's own list is not touched */
    g_autofree char *top = get(root, "cgroup.subtree_control");
    g_assert_true(strstr(top, "+cpu") && strstr(top, "+memory") && strstr(top, "+io"));
    g_autofree char *mid = get(root, "domus/cgroup.subtree_control");
    g_assert_true(strstr(mid, "+cpuset") != NULL);
    g_assert_true(cgroup_exists(host, "domus/web"));

    g_assert_true(cgroup_add_process(host, "domus/web", 4242, &error));
    g_autofree char *procs = get(root, "domus/web/cgroup.procs");
    g_assert_cmpstr(procs, ==, "4242");

    /* a vCPU's threaded child */
    g_assert_true(cgroup_create_thread_group(host, "domus/web", "vcpu0", CGROUP_CPU, &error));
    g_autofree char *type = get(root, "domus/web/vcpu0/cgroup.type");
    g_assert_cmpstr(type, ==, "threaded");
    g_autofree char *handed = get(root, "domus/web/cgroup.subtree_control");
    g_assert_cmpstr(handed, ==, "+cpu");
    g_assert_true(cgroup_add_thread(host, "domus/web", "vcpu0", CGROUP_CPU, 4243, &error));
    g_autofree char *threads = get(root, "domus/web/vcpu0/cgroup.threads");
    g_assert_cmpstr(threads, ==, "4243");

    /* the knobs: shares as cpu.weight (clamped), CFS as cpu.max, memory as memory.* */
    g_assert_true(core_qos_set_shares(host, "domus/web", 262144, &error));
    g_autofree char *weight = get(root, "domus/web/cpu.weight");
    g_assert_cmpstr(weight, ==, "10000");
    guint64 shares = 0;
    g_assert_true(core_qos_get_shares(host, "domus/web", &shares, &error));
    g_assert_cmpuint(shares, ==, 10000);
    put(root, "domus/web/vcpu0/cpu.max", "max 100000\n");
    g_assert_true(core_qos_set_cfs(host, "domus/web", "vcpu0", 0, 50000, &error));
    g_autofree char *max = get(root, "domus/web/vcpu0/cpu.max");
    g_assert_cmpstr(max, ==, "50000 100000");
    g_assert_true(core_qos_set_cfs(host, "domus/web", "vcpu0", 20000, 0, &error));
    guint64 period = 0;
    gint64 quota = 0;
    g_assert_true(core_qos_get_cfs(host, "domus/web", "vcpu0", &period, &quota, &error));
    g_assert_cmpuint(period, ==, 20000);
    g_assert_cmpint(quota, ==, 50000);
    g_assert_true(core_qos_set_cfs(host, "domus/web", "vcpu0", 0, -1, &error));
    g_autofree char *none = get(root, "domus/web/vcpu0/cpu.max");
    g_assert_cmpstr(none, ==, "max 20000");
    g_assert_true(core_qos_set_memory(host, "domus/web", CORE_QOS_MEM_HARD, 1024, &error));
    g_autofree char *mem = get(root, "domus/web/memory.max");
    g_assert_cmpstr(mem, ==, "1048576");
    g_assert_true(core_qos_set_memory(host, "domus/web", CORE_QOS_MEM_SOFT,
                                      DOMAIN_DEF_MEMORY_UNLIMITED, &error));
    g_autofree char *high = get(root, "domus/web/memory.high");
    g_assert_cmpstr(high, ==, "max");
    guint64 kib = 0;
    g_assert_true(core_qos_get_memory(host, "domus/web", CORE_QOS_MEM_SOFT, &kib, &error));
    g_assert_cmpuint(kib, ==, DOMAIN_DEF_MEMORY_UNLIMITED);
    put(root, "domus/web/memory.swap.max", "max\n");
    g_assert_true(core_qos_get_memory(host, "domus/web", CORE_QOS_MEM_SWAP, &kib, &error));
    g_assert_cmpuint(kib, ==, DOMAIN_DEF_MEMORY_UNLIMITED);

    /* numatune's nodes: cpuset.mems alone (v2 has no memory_migrate) */
    g_assert_true(core_qos_set_mems(host, "domus/web", "0-1", &error));
    g_autofree char *nodes = get(root, "domus/web/cpuset.mems");
    g_assert_cmpstr(nodes, ==, "0-1");
    g_autofree char *v2_migrate = g_build_filename(root, "domus/web/cpuset.memory_migrate", NULL);
    g_assert_false(g_file_test(v2_migrate, G_FILE_TEST_EXISTS));

    /* a corrupt file is an error, not a number */
    put(root, "domus/web/cpu.max", "lots\n");
    g_assert_false(core_qos_get_cfs(host, "domus/web", NULL, &period, &quota, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_INTERNAL_ERROR);
    g_clear_error(&error);

    g_assert_true(cgroup_remove(host, "domus/web", &error));
    g_assert_false(cgroup_exists(host, "domus/web"));
    rm_rf(root);
}

static void
test_v1(void)
{
    g_autofree char *root = tmp_root();
    g_autoptr(GError) error = NULL;
    const char *ctrls[] = {"cpu", "cpuacct", "cpuset", "memory"};
    for (gsize i = 0; i < G_N_ELEMENTS(ctrls); i++) {
        g_autofree char *tasks = g_strdup_printf("%s/tasks", ctrls[i]);
        put(root, tasks, "");
    }
    put(root, "cpuset/cpuset.cpus", "0-3\n");
    put(root, "cpuset/cpuset.mems", "0\n");
    g_autoptr(cgroup_host) host = cgroup_host_detect(root);
    g_assert_false(cgroup_host_is_v2(host));
    g_assert_true(cgroup_host_has(host, CGROUP_MEMORY));
    g_assert_false(cgroup_host_has(host, CGROUP_BLKIO));

    g_assert_true(cgroup_create(host, "domus/web", &error));
    g_assert_no_error(error);
    /* each new cpuset level takes its parent's CPUs and nodes */
    g_autofree char *mid = get(root, "cpuset/domus/cpuset.cpus");
    g_autofree char *cpus = get(root, "cpuset/domus/web/cpuset.cpus");
    g_autofree char *mems = get(root, "cpuset/domus/web/cpuset.mems");
    g_assert_cmpstr(mid, ==, "0-3");
    g_assert_cmpstr(cpus, ==, "0-3");
    g_assert_cmpstr(mems, ==, "0");
    g_assert_true(cgroup_add_process(host, "domus/web", 77, &error));
    g_autofree char *procs = get(root, "memory/domus/web/cgroup.procs");
    g_assert_cmpstr(procs, ==, "77");
    g_assert_true(core_qos_set_shares(host, "domus/web", 2048, &error));
    g_autofree char *shares = get(root, "cpu/domus/web/cpu.shares");
    g_assert_cmpstr(shares, ==, "2048");
    g_assert_true(core_qos_set_cfs(host, "domus/web", NULL, 50000, -1, &error));
    g_autofree char *q = get(root, "cpu/domus/web/cpu.cfs_quota_us");
    g_assert_cmpstr(q, ==, "-1");
    g_assert_true(core_qos_set_memory(host, "domus/web", CORE_QOS_MEM_HARD,
                                      DOMAIN_DEF_MEMORY_UNLIMITED, &error));
    g_autofree char *lim = get(root, "memory/domus/web/memory.limit_in_bytes");
    g_assert_cmpstr(lim, ==, "-1");
    /* what the kernel reads back for no limit */
    put(root, "memory/domus/web/memory.limit_in_bytes", "9223372036854771712\n");
    guint64 kib = 0;
    g_assert_true(core_qos_get_memory(host, "domus/web", CORE_QOS_MEM_HARD, &kib, &error));
    g_assert_cmpuint(kib, ==, DOMAIN_DEF_MEMORY_UNLIMITED);
    /* numatune's nodes: the pages follow, then the nodes change */
    g_assert_true(core_qos_set_mems(host, "domus/web", "1", &error));
    g_autofree char *migrate = get(root, "cpuset/domus/web/cpuset.memory_migrate");
    g_autofree char *nodes = get(root, "cpuset/domus/web/cpuset.mems");
    g_assert_cmpstr(migrate, ==, "1");
    g_assert_cmpstr(nodes, ==, "1");
    /* a controller the host lacks */
    g_assert_false(
        cgroup_set(host, "domus/web", NULL, CGROUP_BLKIO, "blkio.weight", "100", &error));
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_true(cgroup_remove(host, "domus/web", &error));
    g_assert_false(cgroup_exists(host, "domus/web"));
    rm_rf(root);
}

/* blkio / io over fake trees: throttles of a host block device, weights where the files are */
static void
test_blkio(void)
{
    struct stat st;
    if (stat("/dev/loop0", &st) < 0 || !S_ISBLK(st.st_mode)) {
        g_test_skip("needs /dev/loop0");
        return;
    }
    g_autofree char *devno = g_strdup_printf("%u:%u", major(st.st_rdev), minor(st.st_rdev));
    g_autoptr(GError) error = NULL;
    /* v2: one io.max line per device, keys for each limit */
    g_autofree char *root = tmp_root();
    put(root, "cgroup.controllers", "cpu io memory\n");
    g_autoptr(cgroup_host) host = cgroup_host_detect(root);
    g_assert_true(cgroup_create(host, "d/g", &error));
    g_assert_true(core_qos_set_blkio_throttle(host, "d/g", "/dev/loop0", 2, 1048576, &error));
    g_autofree char *max = get(root, "d/g/io.max");
    g_autofree char *want = g_strdup_printf("%s rbps=1048576", devno);
    g_assert_cmpstr(max, ==, want);
    g_autofree char *kernel =
        g_strdup_printf("%s rbps=1048576 wbps=max riops=300 wiops=max\n", devno);
    put(root, "d/g/io.max", kernel);
    struct blkio_device_def dev = {.path = (char *)"/dev/loop0"};
    g_assert_true(core_qos_get_blkio(host, "d/g", &dev, NULL, &error));
    g_assert_cmpuint(dev.read_bytes, ==, 1048576);
    g_assert_cmpuint(dev.read_iops, ==, 300);
    g_assert_cmpuint(dev.write_bytes, ==, 0);
    /* no weight files: a clear refusal */
    g_assert_false(core_qos_set_blkio_weight(host, "d/g", NULL, 500, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_UNSUPPORTED);
    g_clear_error(&error);
    put(root, "d/g/io.weight", "default 100\n");
    g_assert_true(core_qos_set_blkio_weight(host, "d/g", NULL, 500, &error));
    g_autofree char *w = get(root, "d/g/io.weight");
    g_assert_cmpstr(w, ==, "default 500");
    unsigned weight = 0;
    g_assert_true(core_qos_get_blkio(host, "d/g", NULL, &weight, &error));
    g_assert_cmpuint(weight, ==, 500);
    /* a path that is no block device */
    g_assert_false(core_qos_set_blkio_throttle(host, "d/g", "/etc/hostname", 0, 5, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_INVALID_ARG);
    g_clear_error(&error);
    rm_rf(root);
}

static void
test_none(void)
{
    g_autoptr(cgroup_host) host = cgroup_host_detect("/nonexistent-cgroup-root");
    for (int c = 0; c < CGROUP_N; c++)
        g_assert_false(cgroup_host_has(host, (enum cgroup_ctrl)c));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cgroup/v2", test_v2);
    g_test_add_func("/cgroup/v1", test_v1);
    g_test_add_func("/cgroup/blkio", test_blkio);
    g_test_add_func("/cgroup/none", test_none);
    return g_test_run();
}
