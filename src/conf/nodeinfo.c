/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodeinfo: memory, CPU topology, NUMA cells and host identity from /proc and /sys, computed
 * the way libvirt's virhostcpu.c and virhostmem.c do. */
#include "conf/nodeinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "conf/xml_util.h"
#include "util/err.h"
#include "util/file.h"
#include "util/uuid.h"

#define NODEINFO_SYS_CPU "/sys/devices/system/cpu"
#define NODEINFO_SYS_NODE "/sys/devices/system/node"
#define NODEINFO_READ_MAX (4 * 1024 * 1024)

/* One online logical CPU. */
struct nodeinfo_cpu {
    guint id;
    guint node;
    int socket_id;
    int die_id;
    int core_id;
    char *siblings;
};

static void
nodeinfo_cpu_clear(gpointer data)
{
    struct nodeinfo_cpu *cpu = data;

    g_clear_pointer(&cpu->siblings, g_free);
}

/* Reads a whole (proc or sys) file. Returns a new NUL-terminated string; caller frees. */
static char *
nodeinfo_read_file(const char *path, GError **error)
{
    autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_autoptr(GString) buf = NULL;
    char chunk[4096];

    if (fd < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot open '%s'", path);
        return NULL;
    }
    buf = g_string_new(NULL);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno(error, ERR_FROM_NONE, errno, "cannot read '%s'", path);
            return NULL;
        }
        if (n == 0)
            break;
        if (buf->len + (gsize)n > NODEINFO_READ_MAX) {
            err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "file '%s' is too large", path);
            return NULL;
        }
        g_string_append_len(buf, chunk, n);
    }
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

/* Reads an optional sysfs attribute, stripped; NULL when absent or unreadable. */
static char *
nodeinfo_read_attr(const char *path)
{
    char *text = nodeinfo_read_file(path, NULL);

    return text ? g_strstrip(text) : NULL;
}

/* An integer sysfs attribute such as topology/core_id; FALLBACK when absent. */
static int
nodeinfo_read_int_attr(const char *path, int fallback)
{
    g_autofree char *text = nodeinfo_read_attr(path);
    gint64 value;

    if (!text || !g_ascii_string_to_signed(text, 10, G_MININT, G_MAXINT, &value, NULL))
        return fallback;
    return (int)value;
}

/* Parses a kernel CPU list ("0-3,8,10-11") into sorted ids. */
static gboolean
nodeinfo_parse_cpulist(const char *text, GArray *ret_ids, GError **error)
{
    g_auto(GStrv) ranges = g_strsplit(text, ",", -1);

    for (gsize i = 0; ranges[i]; i++) {
        g_auto(GStrv) bounds = NULL;
        guint64 first, last;
        char *range = g_strstrip(ranges[i]);

        if (!*range)
            continue;
        bounds = g_strsplit(range, "-", 2);
        if (!g_ascii_string_to_unsigned(bounds[0], 10, 0, G_MAXINT, &first, NULL) ||
            !g_ascii_string_to_unsigned(bounds[1] ? bounds[1] : bounds[0], 10, first, G_MAXINT,
                                        &last, NULL)) {
            err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "invalid cpu list '%s'", text);
            return FALSE;
        }
        for (guint64 id = first; id <= last; id++) {
            guint value = (guint)id;

            g_array_append_val(ret_ids, value);
        }
    }
    return TRUE;
}

/* The value of KEY ("MemTotal") in a meminfo text, in kB. Per-node meminfo lines start with
 * "Node N ", which is skipped. */
static gboolean
nodeinfo_meminfo_value(const char *text, const char *key, guint64 *ret_kib)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gsize key_len = strlen(key);

    for (gsize i = 0; lines[i]; i++) {
        const char *line = lines[i];
        g_auto(GStrv) words = NULL;

        if (g_str_has_prefix(line, "Node ")) {
            line = strchr(line + 5, ' ');
            if (!line)
                continue;
            line++;
        }
        if (strncmp(line, key, key_len) != 0 || line[key_len] != ':')
            continue;
        words = g_strsplit_set(line + key_len + 1, " \t", -1);
        for (gsize j = 0; words[j]; j++) {
            if (*words[j])
                return g_ascii_string_to_unsigned(words[j], 10, 0, G_MAXUINT64, ret_kib, NULL);
        }
        return FALSE;
    }
    return FALSE;
}

static gboolean
nodeinfo_read_meminfo(const char *key, guint64 *ret_kib, GError **error)
{
    g_autofree char *text = nodeinfo_read_file("/proc/meminfo", error);

    if (!text)
        return FALSE;
    if (!nodeinfo_meminfo_value(text, key, ret_kib)) {
        err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "no '%s' in '/proc/meminfo'", key);
        return FALSE;
    }
    return TRUE;
}

/* The first "KEY : value" of /proc/cpuinfo, or NULL. Returns a new string. */
static char *
nodeinfo_cpuinfo_value(const char *cpuinfo, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);

    for (gsize i = 0; lines[i]; i++) {
        g_auto(GStrv) pair = g_strsplit(lines[i], ":", 2);

        if (!pair[0] || !pair[1])
            continue;
        if (g_str_equal(g_strstrip(pair[0]), key))
            return g_strdup(g_strstrip(pair[1]));
    }
    return NULL;
}

/* CPU frequency in MHz: "cpu MHz" of /proc/cpuinfo (x86), else cpufreq's maximum; 0 if
 * neither is known. */
static guint
nodeinfo_mhz(const char *cpuinfo)
{
    g_autofree char *value = cpuinfo ? nodeinfo_cpuinfo_value(cpuinfo, "cpu MHz") : NULL;
    g_autofree char *khz = NULL;
    guint64 freq;

    if (value) {
        char *end = NULL;
        double mhz = g_ascii_strtod(value, &end);

        if (end != value && *end == '\0' && mhz > 0 && mhz < G_MAXUINT)
            return (guint)mhz;
    }
    khz = nodeinfo_read_attr(NODEINFO_SYS_CPU "/cpu0/cpufreq/cpuinfo_max_freq");
    if (khz && g_ascii_string_to_unsigned(khz, 10, 1, G_MAXUINT64, &freq, NULL))
        return (guint)(freq / 1000);
    return 0;
}

static const char *
nodeinfo_vendor_name(const char *vendor_id)
{
    static const struct {
        const char *id;
        const char *name;
    } vendors[] = {
        {"GenuineIntel", "Intel"}, {"AuthenticAMD", "AMD"},     {"HygonGenuine", "Hygon"},
        {"CentaurHauls", "VIA"},   {"  Shanghai  ", "Zhaoxin"},
    };

    for (gsize i = 0; vendor_id && i < G_N_ELEMENTS(vendors); i++) {
        if (g_str_equal(vendor_id, vendors[i].id))
            return vendors[i].name;
    }
    return NULL;
}

char *
nodeinfo_cpu_vendor(void)
{
    g_autofree char *cpuinfo = nodeinfo_read_file("/proc/cpuinfo", NULL);
    g_autofree char *vendor_id = cpuinfo ? nodeinfo_cpuinfo_value(cpuinfo, "vendor_id") : NULL;
    return g_strdup(nodeinfo_vendor_name(vendor_id));
}

char **
nodeinfo_cpu_flags(void)
{
    g_autofree char *cpuinfo = nodeinfo_read_file("/proc/cpuinfo", NULL);
    g_autofree char *flags = cpuinfo ? nodeinfo_cpuinfo_value(cpuinfo, "flags") : NULL;
    return flags ? g_strsplit_set(flags, " \t", -1) : NULL;
}

static gint
nodeinfo_uint_compare(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a;
    guint y = *(const guint *)b;

    return (x > y) - (x < y);
}

static gint
nodeinfo_cpu_compare(gconstpointer a, gconstpointer b)
{
    const struct nodeinfo_cpu *x = a;
    const struct nodeinfo_cpu *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/* The NUMA node of every CPU: a map from CPU id to node id, read from the node<N>/cpulist
 * files; empty when the kernel has no NUMA support. Adds node ids to RET_NODES (sorted). */
static GHashTable *
nodeinfo_cpu_nodes(GArray *ret_nodes)
{
    GHashTable *map = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GDir) dir = g_dir_open(NODEINFO_SYS_NODE, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        guint64 node;
        g_autofree char *path = NULL;
        g_autofree char *list = NULL;
        g_autoptr(GArray) ids = NULL;

        if (!g_str_has_prefix(entry, "node") ||
            !g_ascii_string_to_unsigned(entry + 4, 10, 0, G_MAXINT, &node, NULL))
            continue;
        path = g_strdup_printf(NODEINFO_SYS_NODE "/%s/cpulist", entry);
        list = nodeinfo_read_attr(path);
        ids = g_array_new(FALSE, FALSE, sizeof(guint));
        if (!list || !nodeinfo_parse_cpulist(list, ids, NULL))
            continue;
        for (guint i = 0; i < ids->len; i++) {
            g_hash_table_insert(map, GUINT_TO_POINTER(g_array_index(ids, guint, i) + 1),
                                GUINT_TO_POINTER((guint)node + 1));
        }
        guint value = (guint)node;

        g_array_append_val(ret_nodes, value);
    }
    g_array_sort(ret_nodes, nodeinfo_uint_compare);
    return map;
}

/* The online CPUs with their node and topology ids, sorted by id. Fills RET_NODES with the
 * NUMA node ids that hold CPUs or memory ({0} without NUMA). */
static GArray *
nodeinfo_cpus(GArray *ret_nodes, GError **error)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GArray) cpus = g_array_new(FALSE, TRUE, sizeof(struct nodeinfo_cpu));
    g_autoptr(GHashTable) node_of = NULL;
    g_autofree char *online = nodeinfo_read_attr(NODEINFO_SYS_CPU "/online");

    g_array_set_clear_func(cpus, nodeinfo_cpu_clear);
    if (online) {
        if (!nodeinfo_parse_cpulist(online, ids, error))
            return NULL;
    } else {
        long count = sysconf(_SC_NPROCESSORS_ONLN);

        for (long i = 0; i < count; i++) {
            guint value = (guint)i;

            g_array_append_val(ids, value);
        }
    }
    if (ids->len == 0) {
        err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "cannot find any online cpu");
        return NULL;
    }

    node_of = nodeinfo_cpu_nodes(ret_nodes);
    if (ret_nodes->len == 0) {
        guint zero = 0;

        g_array_append_val(ret_nodes, zero);
    }
    for (guint i = 0; i < ids->len; i++) {
        guint id = g_array_index(ids, guint, i);
        g_autofree char *dir = g_strdup_printf(NODEINFO_SYS_CPU "/cpu%u/topology", id);
        g_autofree char *socket_path = g_strconcat(dir, "/physical_package_id", NULL);
        g_autofree char *die_path = g_strconcat(dir, "/die_id", NULL);
        g_autofree char *core_path = g_strconcat(dir, "/core_id", NULL);
        g_autofree char *siblings_path = g_strconcat(dir, "/thread_siblings_list", NULL);
        gpointer node = g_hash_table_lookup(node_of, GUINT_TO_POINTER(id + 1));
        struct nodeinfo_cpu cpu = {
            .id = id,
            .node = node ? GPOINTER_TO_UINT(node) - 1 : g_array_index(ret_nodes, guint, 0),
            /* Some architectures write -1 for an unknown package; count it as socket 0. */
            .socket_id = MAX(nodeinfo_read_int_attr(socket_path, 0), 0),
            .die_id = MAX(nodeinfo_read_int_attr(die_path, 0), 0),
            .core_id = nodeinfo_read_int_attr(core_path, (int)id),
            .siblings = nodeinfo_read_attr(siblings_path),
        };

        g_array_append_val(cpus, cpu);
    }
    g_array_sort(cpus, nodeinfo_cpu_compare);
    return g_steal_pointer(&cpus);
}

/* Counts a new member of a group: GROUPS maps group key -> member count, SEEN holds member
 * keys. Returns the group's count after the call. */
static guint
nodeinfo_count(GHashTable *seen, GHashTable *groups, const char *group, const char *member)
{
    guint count = GPOINTER_TO_UINT(g_hash_table_lookup(groups, group));

    if (!g_hash_table_contains(seen, member)) {
        g_hash_table_add(seen, g_strdup(member));
        count++;
        g_hash_table_insert(groups, g_strdup(group), GUINT_TO_POINTER(count));
    }
    return count;
}

struct nodeinfo_topology {
    guint nodes;
    guint sockets; /* per node */
    guint dies;    /* per socket */
    guint cores;   /* per die */
    guint threads; /* per core */
};

/* The largest count at each level, as libvirt's virHostCPUParseNode, and libvirt's fallback
 * when the product does not give the CPU count. */
static void
nodeinfo_topology(GArray *cpus, struct nodeinfo_topology *ret)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    struct nodeinfo_topology topo = {0};

    for (guint i = 0; i < cpus->len; i++) {
        const struct nodeinfo_cpu *cpu = &g_array_index(cpus, struct nodeinfo_cpu, i);
        g_autofree char *node = g_strdup_printf("n%u", cpu->node);
        g_autofree char *socket = g_strdup_printf("s%u:%d", cpu->node, cpu->socket_id);
        g_autofree char *die = g_strdup_printf("d%u:%d:%d", cpu->node, cpu->socket_id, cpu->die_id);
        g_autofree char *core =
            g_strdup_printf("c%u:%d:%d:%d", cpu->node, cpu->socket_id, cpu->die_id, cpu->core_id);
        g_autofree char *thread = g_strdup_printf("t%u", cpu->id);

        topo.nodes = nodeinfo_count(seen, groups, "", node);
        topo.sockets = MAX(topo.sockets, nodeinfo_count(seen, groups, node, socket));
        topo.dies = MAX(topo.dies, nodeinfo_count(seen, groups, socket, die));
        topo.cores = MAX(topo.cores, nodeinfo_count(seen, groups, die, core));
        topo.threads = MAX(topo.threads, nodeinfo_count(seen, groups, core, thread));
    }
    if ((guint64)topo.nodes * topo.sockets * topo.dies * topo.cores * topo.threads != cpus->len) {
        topo = (struct nodeinfo_topology){1, 1, 1, cpus->len, 1};
    }
    *ret = topo;
}

gboolean
nodeinfo_get(struct nodeinfo *ret, GError **error)
{
    struct nodeinfo info = {0};
    struct nodeinfo_topology topo;
    struct utsname uts;
    g_autoptr(GArray) nodes = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GArray) cpus = NULL;
    g_autofree char *cpuinfo = nodeinfo_read_file("/proc/cpuinfo", NULL);

    if (uname(&uts) < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot get the host architecture");
        return FALSE;
    }
    g_strlcpy(info.model, uts.machine, sizeof(info.model));
    if (!nodeinfo_read_meminfo("MemTotal", &info.memory, error))
        return FALSE;
    cpus = nodeinfo_cpus(nodes, error);
    if (!cpus)
        return FALSE;
    nodeinfo_topology(cpus, &topo);
    info.cpus = cpus->len;
    info.mhz = nodeinfo_mhz(cpuinfo);
    info.nodes = topo.nodes;
    info.sockets = topo.sockets;
    info.cores = topo.dies * topo.cores;
    info.threads = topo.threads;
    *ret = info;
    return TRUE;
}

gboolean
nodeinfo_get_free_memory(guint64 *ret_bytes, GError **error)
{
    guint64 kib;

    if (!nodeinfo_read_meminfo("MemFree", &kib, error))
        return FALSE;
    *ret_bytes = kib * 1024;
    return TRUE;
}

/* A real UUID: SMBIOS tables of cheap boards often carry all-zero or all-0xff ones. */
/* Memory of NUMA node NODE in KiB, from its meminfo; the host's MemTotal without NUMA. */
static gboolean
nodeinfo_node_memory(guint node, gboolean numa, guint64 *ret_kib, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    if (!numa)
        return nodeinfo_read_meminfo("MemTotal", ret_kib, error);
    path = g_strdup_printf(NODEINFO_SYS_NODE "/node%u/meminfo", node);
    text = nodeinfo_read_file(path, error);
    if (!text)
        return FALSE;
    if (!nodeinfo_meminfo_value(text, "MemTotal", ret_kib)) {
        err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "no '%s' in '%s'", "MemTotal", path);
        return FALSE;
    }
    return TRUE;
}

#define NODEINFO_SYS_HUGEPAGES "/sys/kernel/mm/hugepages"

static gint
compare_guint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;
    return x < y ? -1 : x > y;
}

GArray *
nodeinfo_page_sizes(void)
{
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(guint));
    guint system = (guint)(sysconf(_SC_PAGESIZE) / 1024);
    g_array_append_val(sizes, system);
    g_autoptr(GArray) huge = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GDir) dir = g_dir_open(NODEINFO_SYS_HUGEPAGES, 0, NULL);
    const char *entry;
    while (dir && (entry = g_dir_read_name(dir))) {
        guint64 kib = 0;
        g_autofree char *digits = NULL;
        if (!g_str_has_prefix(entry, "hugepages-") || !g_str_has_suffix(entry, "kB"))
            continue;
        digits = g_strndup(entry + 10, strlen(entry) - 12);
        if (g_ascii_string_to_unsigned(digits, 10, 1, G_MAXUINT, &kib, NULL)) {
            guint v = (guint)kib;
            g_array_append_val(huge, v);
        }
    }
    g_array_sort(huge, compare_guint);
    g_array_append_vals(sizes, huge->data, huge->len);
    return sizes;
}

/* A hugepage file (nr_hugepages, free_hugepages) of SIZE_KIB on NODE (-1: the host's) */
static char *
hugepage_path(int node, guint size_kib, const char *file)
{
    if (node < 0)
        return g_strdup_printf(NODEINFO_SYS_HUGEPAGES "/hugepages-%ukB/%s", size_kib, file);
    return g_strdup_printf(NODEINFO_SYS_NODE "/node%d/hugepages/hugepages-%ukB/%s", node, size_kib,
                           file);
}

static gboolean
read_count(const char *path, guint64 *ret)
{
    g_autofree char *text = nodeinfo_read_attr(path);
    return text && g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret, NULL);
}

gboolean
nodeinfo_page_info(int node, guint size_kib, guint64 *ret_total, guint64 *ret_free, GError **error)
{
    guint system = (guint)(sysconf(_SC_PAGESIZE) / 1024);
    gboolean numa = g_file_test(NODEINFO_SYS_NODE "/node0", G_FILE_TEST_IS_DIR);
    g_autofree char *node_dir = g_strdup_printf(NODEINFO_SYS_NODE "/node%d", node);
    if (node >= 0 && numa && !g_file_test(node_dir, G_FILE_TEST_IS_DIR)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "NUMA node %d is not available", node);
        return FALSE;
    }
    guint64 total = 0, avail = 0;
    if (size_kib == system) {
        /* the system's pages: the memory hugepages do not hold, as libvirt counts it */
        g_autofree char *path = node >= 0 && numa
                                    ? g_strdup_printf(NODEINFO_SYS_NODE "/node%d/meminfo", node)
                                    : g_strdup("/proc/meminfo");
        g_autofree char *text = nodeinfo_read_file(path, error);
        guint64 mem = 0, free_kib = 0, huge = 0;
        if (!text)
            return FALSE;
        if (!nodeinfo_meminfo_value(text, "MemTotal", &mem) ||
            !nodeinfo_meminfo_value(text, "MemFree", &free_kib)) {
            err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "no MemTotal or MemFree in '%s'",
                    path);
            return FALSE;
        }
        g_autoptr(GArray) sizes = nodeinfo_page_sizes();
        for (guint i = 1; i < sizes->len; i++) {
            guint s = g_array_index(sizes, guint, i);
            g_autofree char *nr = hugepage_path(numa ? node : -1, s, "nr_hugepages");
            guint64 n = 0;
            if (read_count(nr, &n))
                huge += n * s;
        }
        total = (mem > huge ? mem - huge : 0) / system;
        avail = free_kib / system;
    } else {
        g_autofree char *nr = hugepage_path(numa ? node : -1, size_kib, "nr_hugepages");
        g_autofree char *fr = hugepage_path(numa ? node : -1, size_kib, "free_hugepages");
        if (!read_count(nr, &total) || !read_count(fr, &avail)) {
            if (node >= 0)
                err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED,
                        "page size %u is not available on node %d", size_kib, node);
            else
                err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "page size %u is not available",
                        size_kib);
            return FALSE;
        }
    }
    if (ret_total)
        *ret_total = total;
    if (ret_free)
        *ret_free = avail;
    return TRUE;
}

gboolean
nodeinfo_set_page_pool(int node, guint size_kib, guint64 count, gboolean add, GError **error)
{
    if (size_kib == (guint)(sysconf(_SC_PAGESIZE) / 1024)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_UNSUPPORTED,
                "system pages pool can't be modified");
        return FALSE;
    }
    gboolean numa = g_file_test(NODEINFO_SYS_NODE "/node0", G_FILE_TEST_IS_DIR);
    if (!nodeinfo_page_info(node, size_kib, NULL, NULL, error))
        return FALSE;
    g_autofree char *path = hugepage_path(numa ? node : -1, size_kib, "nr_hugepages");
    guint64 have = 0;
    if (!read_count(path, &have)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "cannot read '%s'", path);
        return FALSE;
    }
    guint64 want = add ? have + count : count;
    if (want == have)
        return TRUE;
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, want);
    autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        err_set_errno(error, ERR_FROM_NONE, errno, "Unable to write to: %s", path);
        return FALSE;
    }
    /* the kernel may reserve fewer than asked */
    if (!read_count(path, &have)) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED, "cannot read '%s'", path);
        return FALSE;
    }
    if (have != want) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_FAILED,
                "Unable to allocate %" G_GUINT64_FORMAT " pages. Allocated only %" G_GUINT64_FORMAT,
                want, have);
        return FALSE;
    }
    return TRUE;
}

#define NODEINFO_SYS_KSM "/sys/kernel/mm/ksm"

/* libvirt's node memory parameters: the field, its file, whether it is a counter (ullong) or
 * a tunable (uint) */
static const struct {
    const char *field;
    const char *file;
    gboolean counter;
} ksm_fields[] = {
    {"shm_pages_to_scan", "pages_to_scan", FALSE},
    {"shm_sleep_millisecs", "sleep_millisecs", FALSE},
    {"shm_pages_shared", "pages_shared", TRUE},
    {"shm_pages_sharing", "pages_sharing", TRUE},
    {"shm_pages_unshared", "pages_unshared", TRUE},
    {"shm_pages_volatile", "pages_volatile", TRUE},
    {"shm_full_scans", "full_scans", TRUE},
    {"shm_merge_across_nodes", "merge_across_nodes", FALSE},
};

GArray *
nodeinfo_ksm_get(GError **error)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(struct nodeinfo_ksm));
    for (gsize i = 0; i < G_N_ELEMENTS(ksm_fields); i++) {
        g_autofree char *path = g_build_filename(NODEINFO_SYS_KSM, ksm_fields[i].file, NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue; /* a kernel without it: left out, as libvirt leaves it */
        struct nodeinfo_ksm k = {ksm_fields[i].field, ksm_fields[i].counter, 0};
        if (!read_count(path, &k.value) || (!k.counter && k.value > G_MAXUINT)) {
            err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "failed to parse %s",
                    ksm_fields[i].file);
            g_array_unref(out);
            return NULL;
        }
        g_array_append_val(out, k);
    }
    return out;
}

gboolean
nodeinfo_ksm_set(const char *field, guint value, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(ksm_fields); i++) {
        if (!g_str_equal(field, ksm_fields[i].field))
            continue;
        if (ksm_fields[i].counter)
            break;
        g_autofree char *path = g_build_filename(NODEINFO_SYS_KSM, ksm_fields[i].file, NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
            err_set(error, ERR_FROM_NONE, ERR_OPERATION_INVALID,
                    "Parameter '%s' is not supported by this kernel", field);
            return FALSE;
        }
        g_autofree char *text = g_strdup_printf("%u", value);
        autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
            err_set_errno(error, ERR_FROM_NONE, errno, "failed to set %s", field);
            return FALSE;
        }
        return TRUE;
    }
    err_set(error, ERR_FROM_NONE, ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported", field);
    return FALSE;
}

gboolean
nodeinfo_fill_host(struct capabilities_host *host, GError **error)
{
    struct utsname uts;
    struct nodeinfo_topology topo;
    g_autoptr(GArray) nodes = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GArray) cpus = NULL;
    g_autofree guint64 *memory = NULL;
    gboolean numa = g_file_test(NODEINFO_SYS_NODE "/node0", G_FILE_TEST_IS_DIR);

    if (uname(&uts) < 0) {
        err_set_errno(error, ERR_FROM_NONE, errno, "cannot get the host architecture");
        return FALSE;
    }
    cpus = nodeinfo_cpus(nodes, error);
    if (!cpus)
        return FALSE;
    nodeinfo_topology(cpus, &topo);

    /* Read every cell's memory first: HOST stays untouched on failure. */
    memory = g_new0(guint64, nodes->len);
    for (guint i = 0; i < nodes->len; i++) {
        if (!nodeinfo_node_memory(g_array_index(nodes, guint, i), numa, &memory[i], error))
            return FALSE;
    }

    g_autoptr(GArray) sizes = nodeinfo_page_sizes();
    g_ptr_array_set_size(host->cells, 0);
    for (guint i = 0; i < nodes->len; i++) {
        guint node = g_array_index(nodes, guint, i);
        struct capabilities_cell *cell = capabilities_host_add_cell(host, node, memory[i]);

        for (guint j = 0; j < sizes->len; j++) {
            struct capabilities_pages p = {.size_kib = g_array_index(sizes, guint, j)};
            if (nodeinfo_page_info((int)node, p.size_kib, &p.count, NULL, NULL))
                g_array_append_val(cell->pages, p);
        }

        for (guint j = 0; j < cpus->len; j++) {
            const struct nodeinfo_cpu *cpu = &g_array_index(cpus, struct nodeinfo_cpu, j);

            if (cpu->node == node) {
                capabilities_cell_add_cpu(cell, cpu->id, cpu->socket_id, cpu->die_id, cpu->core_id,
                                          cpu->siblings);
            }
        }
    }

    if (host->page_sizes) {
        g_array_set_size(host->page_sizes, 0);
        g_array_append_vals(host->page_sizes, sizes->data, sizes->len);
    }
    g_free(host->arch);
    host->arch = g_strdup(uts.machine);
    g_free(host->cpu_vendor);
    host->cpu_vendor = nodeinfo_cpu_vendor();
    host->sockets = topo.sockets;
    host->dies = topo.dies;
    host->cores = topo.cores;
    host->threads = topo.threads;
    return TRUE;
}

/* --- sysinfo --- */

static const struct {
    const char *section;
    const char *entry;
    const char *file;
} dmi_map[] = {
    {"bios", "vendor", "bios_vendor"},
    {"bios", "version", "bios_version"},
    {"bios", "date", "bios_date"},
    {"bios", "release", "bios_release"},
    {"system", "manufacturer", "sys_vendor"},
    {"system", "product", "product_name"},
    {"system", "version", "product_version"},
    {"system", "serial", "product_serial"},
    {"system", "uuid", "product_uuid"},
    {"system", "sku", "product_sku"},
    {"system", "family", "product_family"},
    {"baseBoard", "manufacturer", "board_vendor"},
    {"baseBoard", "product", "board_name"},
    {"baseBoard", "version", "board_version"},
    {"baseBoard", "serial", "board_serial"},
    {"baseBoard", "asset", "board_asset_tag"},
    {"chassis", "manufacturer", "chassis_vendor"},
    {"chassis", "version", "chassis_version"},
    {"chassis", "serial", "chassis_serial"},
    {"chassis", "asset", "chassis_asset_tag"},
};

char *
nodeinfo_sysinfo(const char *dmi_dir, GError **error)
{
    g_autoptr(GString) out = g_string_new("<sysinfo type='smbios'>\n");
    const char *open_section = NULL;
    guint found = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(dmi_map); i++) {
        g_autofree char *path = g_build_filename(dmi_dir, dmi_map[i].file, NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL) || !*g_strstrip(text) ||
            !g_utf8_validate(text, -1, NULL))
            continue;
        if (!open_section || !g_str_equal(open_section, dmi_map[i].section)) {
            if (open_section)
                g_string_append_printf(out, "  </%s>\n", open_section);
            open_section = dmi_map[i].section;
            g_string_append_printf(out, "  <%s>\n", open_section);
        }
        g_string_append_printf(out, "    <entry name='%s'>", dmi_map[i].entry);
        xml_util_append_escaped(out, text);
        g_string_append(out, "</entry>\n");
        found++;
    }
    if (!found) {
        err_set(error, ERR_FROM_NONE, ERR_OPERATION_UNSUPPORTED,
                "this host exposes no SMBIOS tables (nothing in '%s'): there is no sysinfo to "
                "report",
                dmi_dir);
        return NULL;
    }
    g_string_append_printf(out, "  </%s>\n</sysinfo>\n", open_section);
    return g_string_free(g_steal_pointer(&out), FALSE);
}
