/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netiface: <interface type='ethernet|bridge|vlan|bond' name=…> from sysfs. */
#include "conf/netiface.h"

#include <string.h>

#include "conf/xml_util.h"

/* g_ptr_array_sort hands the comparator pointers to the elements */
static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
netiface_free(struct netiface *n)
{
    g_free(n->name);
    g_free(n->mac);
    g_free(n->xml);
    g_free(n);
}

static char *
attr(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    g_strstrip(text);
    return text;
}

static gboolean
has(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* The entries of DIR in name order */
static GPtrArray *
entries(const char *dir)
{
    g_autoptr(GDir) it = g_dir_open(dir, 0, NULL);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (const char *e; it && (e = g_dir_read_name(it));)
        g_ptr_array_add(out, g_strdup(e));
    g_ptr_array_sort(out, compare_strings);
    return out;
}

/* DEVTYPE= of the uevent file, or NULL */
static char *
devtype(const char *dir)
{
    g_autofree char *uevent = attr(dir, "uevent");
    g_auto(GStrv) lines = uevent ? g_strsplit(uevent, "\n", -1) : NULL;
    for (guint i = 0; lines && lines[i]; i++)
        if (g_str_has_prefix(lines[i], "DEVTYPE="))
            return g_strdup(lines[i] + 8);
    return NULL;
}

/* <link speed state/> as virNetDevIfLinkFormat writes it */
static void
format_link(GString *b, int indent, const char *dir)
{
    g_autofree char *state = attr(dir, "operstate");
    g_autofree char *speed_text = attr(dir, "speed");
    guint64 speed = 0;
    gboolean has_speed =
        speed_text && g_ascii_string_to_unsigned(speed_text, 10, 1, G_MAXUINT32 - 1, &speed, NULL);
    if (!has_speed && !state)
        return;
    g_string_append_printf(b, "%*s<link", indent, "");
    if (has_speed)
        g_string_append_printf(b, " speed='%u'", (guint)speed);
    if (state)
        g_string_append_printf(b, " state='%s'", state);
    g_string_append(b, "/>\n");
}

static void format_iface(GString *b, int indent, const char *root, const char *name, gboolean top);

/* a bridge's or bond's member interfaces, from DIR/SUB (entries) */
static void
format_members(GString *b, int indent, const char *root, GPtrArray *names)
{
    for (guint i = 0; i < names->len; i++)
        format_iface(b, indent, root, names->pdata[i], FALSE);
}

static void
format_iface(GString *b, int indent, const char *root, const char *name, gboolean top)
{
    g_autofree char *dir = g_build_filename(root, "class", "net", name, NULL);
    g_autofree char *dtype = devtype(dir);
    const char *type = g_strcmp0(dtype, "bridge") == 0 || has(dir, "bridge")       ? "bridge"
                       : g_strcmp0(dtype, "vlan") == 0 || strchr(name, '.')        ? "vlan"
                       : g_strcmp0(dtype, "bond") == 0 || has(dir, "bonding/mode") ? "bond"
                                                                                   : "ethernet";
    g_string_append_printf(b, "%*s<interface type='%s' name='", indent, "", type);
    xml_util_append_escaped_attr(b, name);
    g_string_append(b, "'>\n");
    int in = indent + 2;
    g_autofree char *mtu = attr(dir, "mtu");
    if (top && mtu)
        g_string_append_printf(b, "%*s<mtu size='%s'/>\n", in, "", mtu);
    if (!g_str_equal(type, "bridge"))
        format_link(b, in, dir);
    g_autofree char *mac = attr(dir, "address");
    if (g_str_equal(type, "ethernet") && mac) {
        g_string_append_printf(b, "%*s<mac address='", in, "");
        xml_util_append_escaped_attr(b, mac);
        g_string_append(b, "'/>\n");
    } else if (g_str_equal(type, "bridge")) {
        g_autofree char *stp = attr(dir, "bridge/stp_state");
        g_autofree char *delay = attr(dir, "bridge/forward_delay"); /* centiseconds */
        guint64 cs = 0;
        if (delay)
            g_ascii_string_to_unsigned(delay, 10, 0, G_MAXUINT32, &cs, NULL);
        g_string_append_printf(b, "%*s<bridge stp='%s' delay='%u'>\n", in, "",
                               g_strcmp0(stp, "0") == 0 || !stp ? "off" : "on", (guint)(cs / 100));
        g_autofree char *brif = g_build_filename(dir, "brif", NULL);
        g_autoptr(GPtrArray) ports = entries(brif);
        format_members(b, in + 2, root, ports);
        g_string_append_printf(b, "%*s</bridge>\n", in, "");
    } else if (g_str_equal(type, "vlan")) {
        const char *dot = strrchr(name, '.');
        g_autofree char *parent = dot ? g_strndup(name, dot - name) : NULL;
        g_string_append_printf(b, "%*s<vlan tag='%s'>\n", in, "", dot ? dot + 1 : "0");
        if (parent) {
            g_string_append_printf(b, "%*s<interface name='", in + 2, "");
            xml_util_append_escaped_attr(b, parent);
            g_string_append(b, "'/>\n");
        }
        g_string_append_printf(b, "%*s</vlan>\n", in, "");
    } else {
        g_autofree char *mode = attr(dir, "bonding/mode"); /* "balance-rr 0" */
        g_autofree char *slaves = attr(dir, "bonding/slaves");
        char *sp = mode ? strchr(mode, ' ') : NULL;
        if (sp)
            *sp = '\0';
        g_string_append_printf(b, "%*s<bond", in, "");
        if (mode && *mode)
            g_string_append_printf(b, " mode='%s'", mode);
        g_string_append(b, ">\n");
        g_auto(GStrv) names = slaves && *slaves ? g_strsplit(slaves, " ", -1) : NULL;
        g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; names && names[i]; i++)
            if (*names[i])
                g_ptr_array_add(members, g_strdup(names[i]));
        format_members(b, in + 2, root, members);
        g_string_append_printf(b, "%*s</bond>\n", in, "");
    }
    g_string_append_printf(b, "%*s</interface>\n", indent, "");
}

GPtrArray *
netiface_enumerate(const char *sysfs_root)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)netiface_free);
    g_autofree char *base = g_build_filename(sysfs_root, "class", "net", NULL);
    g_autoptr(GPtrArray) names = entries(base);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *dir = g_build_filename(base, name, NULL);
        /* a bridge's port shows inside its bridge; a tap belongs to a guest */
        if (has(dir, "brport") || has(dir, "tun_flags"))
            continue;
        struct netiface *n = g_new0(struct netiface, 1);
        n->name = g_strdup(name);
        n->mac = attr(dir, "address");
        if (!n->mac)
            n->mac = g_strdup("00:00:00:00:00:00");
        g_autofree char *state = attr(dir, "operstate");
        n->active = g_strcmp0(state, "up") == 0;
        GString *b = g_string_new(NULL);
        format_iface(b, 0, sysfs_root, name, TRUE);
        n->xml = g_string_free(b, FALSE);
        g_ptr_array_add(out, n);
    }
    return out;
}
