/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nodedev: host devices from sysfs in libvirt's node device form. Names follow libvirt's udev
 * backend (pci_DDDD_BB_SS_F, net_IFACE_MAC, block_DEV[_SERIAL], computer); a device's parent
 * is the nearest PCI device above it in the sysfs tree, else the computer. */
#include "conf/nodedev.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf/xml_util.h"

/* g_ptr_array_sort hands the comparator pointers to the elements */
static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
nodedev_free(struct nodedev *d)
{
    g_free(d->name);
    g_free(d->path);
    g_free(d->parent);
    g_free(d->driver);
    g_free(d->xml);
    g_free(d);
}

const char *
nodedev_cap_name(guint cap)
{
    switch (cap) {
    case NODEDEV_CAP_SYSTEM:
        return "system";
    case NODEDEV_CAP_PCI:
        return "pci";
    case NODEDEV_CAP_NET:
        return "net";
    case NODEDEV_CAP_STORAGE:
        return "storage";
    }
    return "unknown";
}

guint
nodedev_cap_from_name(const char *name)
{
    static const guint caps[] = {NODEDEV_CAP_SYSTEM, NODEDEV_CAP_PCI, NODEDEV_CAP_NET,
                                 NODEDEV_CAP_STORAGE};
    for (gsize i = 0; i < G_N_ELEMENTS(caps); i++)
        if (g_strcmp0(name, nodedev_cap_name(caps[i])) == 0)
            return caps[i];
    return 0;
}

/* --- sysfs --- */

/* The first line of DIR/NAME, trimmed, or NULL */
static char *
read_attr(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    g_strstrip(text);
    if (!*text)
        g_clear_pointer(&text, g_free);
    return text;
}

static gboolean
read_u64(const char *dir, const char *name, guint base, guint64 *ret)
{
    g_autofree char *text = read_attr(dir, name);
    return text && g_ascii_string_to_unsigned(g_str_has_prefix(text, "0x") ? text + 2 : text, base,
                                              0, G_MAXUINT64, ret, NULL);
}

/* The basename of the symlink DIR/NAME's target, or NULL */
static char *
link_name(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *target = g_file_read_link(path, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

static char *
resolve(const char *path)
{
    char buf[PATH_MAX];
    return realpath(path, buf) ? g_strdup(buf) : NULL;
}

/* "0000:00:03.0" */
static gboolean
is_pci_address(const char *s, guint *dom, guint *bus, guint *slot, guint *fn)
{
    return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x", dom, bus, slot, fn) == 4;
}

static char *
pci_name(const char *address)
{
    char *name = g_strconcat("pci_", address, NULL);
    g_strdelimit(name + 4, ":.", '_');
    return name;
}

/* The PCI device nearest above the sysfs directory PATH, else the computer */
static char *
parent_of(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    while (strlen(dir) > 1) {
        g_autofree char *base = g_path_get_basename(dir);
        guint d, b, s, f;
        if (is_pci_address(base, &d, &b, &s, &f))
            return pci_name(base);
        char *up = g_path_get_dirname(dir);
        g_free(dir);
        dir = up;
    }
    return g_strdup("computer");
}

/* --- pci.ids: vendor and device names --- */

struct pci_names {
    GHashTable *vendors; /* "1af4" -> name */
    GHashTable *devices; /* "1af4:1000" -> name */
};

static void
pci_names_load(struct pci_names *n, const char *path)
{
    n->vendors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    n->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char *text = NULL;
    if (!path || !g_file_get_contents(path, &text, NULL, NULL))
        return;
    char vendor[5] = "";
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (g_str_has_prefix(line, "C "))
            break; /* the device classes follow: no more vendors */
        if (g_ascii_isxdigit(line[0]) && strlen(line) > 6 && line[4] == ' ') {
            memcpy(vendor, line, 4);
            vendor[4] = '\0';
            g_hash_table_replace(n->vendors, g_ascii_strdown(vendor, -1),
                                 g_strdup(g_strstrip(line + 5)));
        } else if (line[0] == '\t' && line[1] != '\t' && *vendor && strlen(line) > 7 &&
                   line[5] == ' ') {
            g_autofree char *dev = g_strndup(line + 1, 4);
            g_hash_table_replace(n->devices, g_strdup_printf("%s:%s", vendor, dev),
                                 g_strdup(g_strstrip(line + 6)));
        }
    }
}

static void
pci_names_clear(struct pci_names *n)
{
    g_hash_table_unref(n->vendors);
    g_hash_table_unref(n->devices);
}

/* --- the documents --- */

static void
head(GString *b, const struct nodedev *d)
{
    g_string_append(b, "<device>\n  <name>");
    xml_util_append_escaped(b, d->name);
    g_string_append(b, "</name>\n");
    if (d->path) {
        g_string_append(b, "  <path>");
        xml_util_append_escaped(b, d->path);
        g_string_append(b, "</path>\n");
    }
    if (d->parent) {
        g_string_append(b, "  <parent>");
        xml_util_append_escaped(b, d->parent);
        g_string_append(b, "</parent>\n");
    }
    if (d->driver) {
        g_string_append(b, "  <driver>\n    <name>");
        xml_util_append_escaped(b, d->driver);
        g_string_append(b, "</name>\n  </driver>\n");
    }
}

static void
text_element(GString *b, int indent, const char *name, const char *text)
{
    if (!text)
        return;
    g_string_append_printf(b, "%*s<%s>", indent, "", name);
    xml_util_append_escaped(b, text);
    g_string_append_printf(b, "</%s>\n", name);
}

static struct nodedev *
computer(const char *host_uuid)
{
    struct nodedev *d = g_new0(struct nodedev, 1);
    d->name = g_strdup("computer");
    d->cap = NODEDEV_CAP_SYSTEM;
    GString *b = g_string_new(NULL);
    head(b, d);
    g_string_append(b, "  <capability type='system'>\n    <hardware>\n");
    text_element(b, 6, "uuid", host_uuid);
    g_string_append(b, "    </hardware>\n  </capability>\n</device>\n");
    d->xml = g_string_free(b, FALSE);
    return d;
}

static struct nodedev *
pci_device(const char *sysfs_root, const char *address, const struct pci_names *names)
{
    guint dom, bus, slot, fn;
    if (!is_pci_address(address, &dom, &bus, &slot, &fn))
        return NULL;
    g_autofree char *link = g_build_filename(sysfs_root, "bus", "pci", "devices", address, NULL);
    g_autofree char *dir = resolve(link);
    guint64 cls = 0, vendor = 0, product = 0, numa = 0;
    if (!dir || !read_u64(dir, "class", 16, &cls) || !read_u64(dir, "vendor", 16, &vendor) ||
        !read_u64(dir, "device", 16, &product))
        return NULL;
    struct nodedev *d = g_new0(struct nodedev, 1);
    d->name = pci_name(address);
    d->path = g_strdup(dir);
    d->parent = parent_of(dir);
    d->driver = link_name(dir, "driver");
    d->cap = NODEDEV_CAP_PCI;
    GString *b = g_string_new(NULL);
    head(b, d);
    g_string_append(b, "  <capability type='pci'>\n");
    g_string_append_printf(b, "    <class>0x%06" G_GINT64_MODIFIER "x</class>\n", cls);
    g_string_append_printf(b,
                           "    <domain>%u</domain>\n    <bus>%u</bus>\n    <slot>%u</slot>\n"
                           "    <function>%u</function>\n",
                           dom, bus, slot, fn);
    g_autofree char *vkey = g_strdup_printf("%04" G_GINT64_MODIFIER "x", vendor);
    g_autofree char *pkey = g_strdup_printf("%s:%04" G_GINT64_MODIFIER "x", vkey, product);
    const char *pname = g_hash_table_lookup(names->devices, pkey);
    const char *vname = g_hash_table_lookup(names->vendors, vkey);
    g_string_append_printf(b, "    <product id='0x%04" G_GINT64_MODIFIER "x'", product);
    if (pname) {
        g_string_append_c(b, '>');
        xml_util_append_escaped(b, pname);
        g_string_append(b, "</product>\n");
    } else {
        g_string_append(b, "/>\n");
    }
    g_string_append_printf(b, "    <vendor id='0x%04" G_GINT64_MODIFIER "x'", vendor);
    if (vname) {
        g_string_append_c(b, '>');
        xml_util_append_escaped(b, vname);
        g_string_append(b, "</vendor>\n");
    } else {
        g_string_append(b, "/>\n");
    }
    g_autofree char *group = link_name(dir, "iommu_group");
    if (group) {
        /* every device of the group, as libvirt lists them */
        g_string_append_printf(b, "    <iommuGroup number='%s'>\n", group);
        g_autofree char *gdir = g_build_filename(dir, "iommu_group", "devices", NULL);
        g_autoptr(GDir) it = g_dir_open(gdir, 0, NULL);
        g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func(g_free);
        for (const char *e; it && (e = g_dir_read_name(it));)
            g_ptr_array_add(members, g_strdup(e));
        g_ptr_array_sort(members, compare_strings);
        for (guint i = 0; i < members->len; i++) {
            guint md, mb, ms, mf;
            if (is_pci_address(members->pdata[i], &md, &mb, &ms, &mf))
                g_string_append_printf(b,
                                       "      <address domain='0x%04x' bus='0x%02x' "
                                       "slot='0x%02x' function='0x%x'/>\n",
                                       md, mb, ms, mf);
        }
        g_string_append(b, "    </iommuGroup>\n");
    }
    g_autofree char *numa_text = read_attr(dir, "numa_node");
    if (numa_text && g_ascii_string_to_unsigned(numa_text, 10, 0, G_MAXINT, &numa, NULL))
        g_string_append_printf(b, "    <numa node='%u'/>\n", (guint)numa);
    g_string_append(b, "  </capability>\n</device>\n");
    d->xml = g_string_free(b, FALSE);
    return d;
}

static struct nodedev *
net_device(const char *sysfs_root, const char *iface)
{
    g_autofree char *link = g_build_filename(sysfs_root, "class", "net", iface, NULL);
    g_autofree char *dir = resolve(link);
    if (!dir)
        return NULL;
    g_autofree char *mac = read_attr(dir, "address");
    if (!mac)
        mac = g_strdup("00:00:00:00:00:00");
    struct nodedev *d = g_new0(struct nodedev, 1);
    d->name = g_strdup_printf("net_%s_%s", iface, mac);
    g_strdelimit(d->name + 5 + strlen(iface), ":", '_');
    d->path = g_strdup(dir);
    d->parent = parent_of(dir);
    d->cap = NODEDEV_CAP_NET;
    GString *b = g_string_new(NULL);
    head(b, d);
    g_string_append(b, "  <capability type='net'>\n");
    text_element(b, 4, "interface", iface);
    text_element(b, 4, "address", mac);
    g_autofree char *state = read_attr(dir, "operstate");
    guint64 speed = 0, type = 0;
    /* the speed of a link that is down reads as an error or -1 */
    gboolean has_speed = read_u64(dir, "speed", 10, &speed) && speed > 0 && speed < G_MAXUINT32;
    if (state) {
        g_string_append_printf(b, "    <link state='%s'", state);
        if (has_speed)
            g_string_append_printf(b, " speed='%u'", (guint)speed);
        g_string_append(b, "/>\n");
    }
    if (read_u64(dir, "type", 10, &type) && type == 1) /* ARPHRD_ETHER */
        g_string_append(b, "    <capability type='80203'/>\n");
    g_string_append(b, "  </capability>\n</device>\n");
    d->xml = g_string_free(b, FALSE);
    return d;
}

static struct nodedev *
storage_device(const char *sysfs_root, const char *block)
{
    g_autofree char *link = g_build_filename(sysfs_root, "block", block, NULL);
    g_autofree char *devlink = g_build_filename(link, "device", NULL);
    g_autofree char *dir = resolve(link);
    guint64 sectors = 0, lbs = 512;
    /* disks of hardware only (a loop or zram device has no device link) */
    if (!dir || !g_file_test(devlink, G_FILE_TEST_EXISTS) || !read_u64(dir, "size", 10, &sectors))
        return NULL;
    g_autofree char *queue = g_build_filename(dir, "queue", NULL);
    read_u64(queue, "logical_block_size", 10, &lbs);
    if (lbs == 0)
        lbs = 512;
    g_autofree char *serial = read_attr(dir, "serial");
    if (!serial)
        serial = read_attr(devlink, "serial");
    g_autofree char *model = read_attr(devlink, "model");
    g_autofree char *vendor = read_attr(devlink, "vendor");
    struct nodedev *d = g_new0(struct nodedev, 1);
    d->name =
        serial ? g_strdup_printf("block_%s_%s", block, serial) : g_strdup_printf("block_%s", block);
    g_strcanon(d->name + 6, G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS "_-", '_');
    d->path = g_strdup(dir);
    d->parent = parent_of(dir);
    d->cap = NODEDEV_CAP_STORAGE;
    guint64 removable = 0;
    read_u64(dir, "removable", 10, &removable);
    GString *b = g_string_new(NULL);
    head(b, d);
    g_string_append(b, "  <capability type='storage'>\n");
    g_autofree char *node = g_strconcat("/dev/", block, NULL);
    text_element(b, 4, "block", node);
    text_element(b, 4, "drive_type", g_str_has_prefix(block, "sr") ? "cdrom" : "disk");
    text_element(b, 4, "model", model);
    text_element(b, 4, "vendor", vendor);
    text_element(b, 4, "serial", serial);
    if (removable)
        g_string_append(b, "    <capability type='removable'/>\n");
    /* sysfs counts 512-byte sectors whatever the logical block size */
    guint64 bytes = sectors * 512;
    g_string_append_printf(b,
                           "    <size>%" G_GUINT64_FORMAT "</size>\n"
                           "    <logical_block_size>%" G_GUINT64_FORMAT "</logical_block_size>\n"
                           "    <num_blocks>%" G_GUINT64_FORMAT "</num_blocks>\n",
                           bytes, lbs, bytes / lbs);
    g_string_append(b, "  </capability>\n</device>\n");
    d->xml = g_string_free(b, FALSE);
    return d;
}

/* The entries of SYSFS_ROOT/SUB in name order */
static GPtrArray *
entries(const char *sysfs_root, const char *sub)
{
    g_autofree char *dir = g_build_filename(sysfs_root, sub, NULL);
    g_autoptr(GDir) it = g_dir_open(dir, 0, NULL);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (const char *e; it && (e = g_dir_read_name(it));)
        g_ptr_array_add(out, g_strdup(e));
    g_ptr_array_sort(out, compare_strings);
    return out;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp((*(struct nodedev *const *)a)->name, (*(struct nodedev *const *)b)->name);
}

GPtrArray *
nodedev_enumerate(const char *sysfs_root, const char *host_uuid, const char *pci_ids)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)nodedev_free);
    g_ptr_array_add(out, computer(host_uuid));
    struct pci_names names;
    pci_names_load(&names, pci_ids);
    g_autoptr(GPtrArray) pci = entries(sysfs_root, "bus/pci/devices");
    guint first = out->len;
    for (guint i = 0; i < pci->len; i++) {
        struct nodedev *d = pci_device(sysfs_root, pci->pdata[i], &names);
        if (d)
            g_ptr_array_add(out, d);
    }
    pci_names_clear(&names);
    g_autoptr(GPtrArray) nets = entries(sysfs_root, "class/net");
    for (guint i = 0; i < nets->len; i++) {
        struct nodedev *d = net_device(sysfs_root, nets->pdata[i]);
        if (d)
            g_ptr_array_add(out, d);
    }
    g_autoptr(GPtrArray) blocks = entries(sysfs_root, "block");
    for (guint i = 0; i < blocks->len; i++) {
        struct nodedev *d = storage_device(sysfs_root, blocks->pdata[i]);
        if (d)
            g_ptr_array_add(out, d);
    }
    /* by name after the computer */
    if (out->len > first)
        qsort(out->pdata + first, out->len - first, sizeof(gpointer), by_name);
    return out;
}
