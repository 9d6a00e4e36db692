/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain_def format: struct domain_def -> libvirt-style XML (2-space indent, single-quoted
 * attributes, libvirt's element order); prefix domain_def_. */
#include <string.h>

#include "conf/domain_def_priv.h"
#include "conf/xml_util.h"

void
domain_def_indent(GString *buf, int level)
{
    for (int i = 0; i < level; i++)
        g_string_append(buf, "  ");
}

/* " NAME='VALUE'", nothing when VALUE is NULL. */
static void
attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, " %s='", name);
    xml_util_append_escaped_attr(buf, value);
    g_string_append_c(buf, '\'');
}

static void
attr_uint(GString *buf, const char *name, uint64_t value)
{
    g_string_append_printf(buf, " %s='%" G_GUINT64_FORMAT "'", name, (guint64)value);
}

static void
attr_yes_no(GString *buf, const char *name, gboolean value)
{
    attr(buf, name, value ? "yes" : "no");
}

/* "<NAME>TEXT</NAME>" on a line of its own at LEVEL; nothing when TEXT is NULL. */
static void
text_element(GString *buf, int level, const char *name, const char *text)
{
    if (!text)
        return;
    domain_def_indent(buf, level);
    g_string_append_printf(buf, "<%s>", name);
    xml_util_append_escaped(buf, text);
    g_string_append_printf(buf, "</%s>\n", name);
}

/* Closes the start tag of NAME already in BUF: "/>" when CHILDREN is empty, else the
 * children and the end tag. */
static void
close_element(GString *buf, int level, const char *name, const GString *children)
{
    if (!children->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    g_string_append_len(buf, children->str, (gssize)children->len);
    domain_def_indent(buf, level);
    g_string_append_printf(buf, "</%s>\n", name);
}

static void
format_address(GString *buf, int level, const struct domain_address *address)
{
    if (!address)
        return;
    domain_def_indent(buf, level);
    g_string_append(buf, "<address");
    attr(buf, "type", address->type);
    for (guint i = 0; address->keys && address->keys[i]; i++)
        attr(buf, address->keys[i], address->values[i]);
    g_string_append(buf, "/>\n");
}

/* <alias> then <address>. Only a user's alias ("ua-…") belongs to the persistent
 * definition; the others are assigned at start. */
static void
format_info(GString *buf, int level, const struct device_info *info, unsigned flags)
{
    if (info->alias &&
        (!(flags & DOMAIN_DEF_FORMAT_INACTIVE) || domain_alias_is_user(info->alias))) {
        domain_def_indent(buf, level);
        g_string_append(buf, "<alias");
        attr(buf, "name", info->alias);
        g_string_append(buf, "/>\n");
    }
    format_address(buf, level, info->address);
}

static void
format_boot_order(GString *buf, int level, unsigned order)
{
    if (!order)
        return;
    domain_def_indent(buf, level);
    g_string_append_printf(buf, "<boot order='%u'/>\n", order);
}

/* The probed chain as libvirt shows it: nested <backingStore>s, the last one empty. */
static void
format_backing(GString *buf, const GPtrArray *backing)
{
    for (guint i = 0; i < backing->len; i++) {
        const struct disk_layer *layer = backing->pdata[i];
        gboolean file = layer->type == DISK_TYPE_FILE;
        domain_def_indent(buf, 3 + (int)i);
        g_string_append(buf, "<backingStore");
        attr(buf, "type", disk_type_to_string(layer->type));
        attr_uint(buf, "index", layer->index);
        g_string_append(buf, ">\n");
        if (disk_format_to_string(layer->format)) {
            domain_def_indent(buf, 4 + (int)i);
            g_string_append(buf, "<format");
            attr(buf, "type", disk_format_to_string(layer->format));
            g_string_append(buf, "/>\n");
        }
        domain_def_indent(buf, 4 + (int)i);
        g_string_append(buf, "<source");
        attr(buf, file ? "file" : "dev", layer->path);
        g_string_append(buf, "/>\n");
    }
    domain_def_indent(buf, 3 + (int)backing->len);
    g_string_append(buf, "<backingStore/>\n");
    for (guint i = backing->len; i-- > 0;) {
        domain_def_indent(buf, 3 + (int)i);
        g_string_append(buf, "</backingStore>\n");
    }
}

/* libvirt's form: <mirror type job ready><format/><source index/>[<backingStore/>]</mirror>;
 * the status adds top= (a commit below the top) */
static void
format_mirror(GString *buf, const struct disk_mirror *m, unsigned flags)
{
    static const char *const ready[] = {NULL, "yes", "abort", "pivot"};
    gboolean file = m->type == DISK_TYPE_FILE;
    gboolean status = (flags & DOMAIN_DEF_FORMAT_STATUS) != 0;
    if (!status && (m->job == DISK_MIRROR_JOB_PULL || m->job == DISK_MIRROR_JOB_COMMIT))
        return;
    domain_def_indent(buf, 3);
    g_string_append(buf, "<mirror");
    attr(buf, "type", disk_type_to_string(m->type));
    attr(buf, "job", disk_mirror_job_to_string(m->job));
    attr(buf, "ready", ready[m->ready]);
    if (status && m->top)
        attr_uint(buf, "top", m->top);
    if (!m->path) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    if (disk_format_to_string(m->format)) {
        domain_def_indent(buf, 4);
        g_string_append(buf, "<format");
        attr(buf, "type", disk_format_to_string(m->format));
        g_string_append(buf, "/>\n");
    }
    domain_def_indent(buf, 4);
    g_string_append(buf, "<source");
    attr(buf, file ? "file" : "dev", m->path);
    if (m->index)
        attr_uint(buf, "index", m->index);
    g_string_append(buf, "/>\n");
    if (!m->shallow && m->job == DISK_MIRROR_JOB_COPY) {
        domain_def_indent(buf, 4);
        g_string_append(buf, "<backingStore/>\n");
    }
    domain_def_indent(buf, 3);
    g_string_append(buf, "</mirror>\n");
}

/* DISK's <driver> on/off switches FROM up to TO */
static void
switch_attrs(GString *buf, const struct disk_def *disk, gsize from, gsize to)
{
    for (gsize i = from; i < to; i++)
        if (disk->switches[i] != DOMAIN_TRISTATE_ABSENT)
            attr(buf, disk_driver_switch_names[i],
                 disk->switches[i] == DOMAIN_TRISTATE_YES ? "on" : "off");
}

static void
format_disk(GString *buf, const struct disk_def *disk, unsigned flags)
{
    g_autoptr(GString) children = g_string_new(NULL);
    gboolean live = !(flags & DOMAIN_DEF_FORMAT_INACTIVE);
    const char *format = disk_format_to_string(disk->format);
    gboolean switches = FALSE;
    for (gsize i = 0; i < DISK_DRIVER_SWITCHES; i++)
        switches |= disk->switches[i] != DOMAIN_TRISTATE_ABSENT;
    if (disk->driver_name || format || disk->cache || disk->error_policy || disk->rerror_policy ||
        disk->io || disk->discard || disk->iothread || disk->detect_zeroes || disk->queues ||
        disk->queue_size || switches) {
        /* libvirt's order */
        domain_def_indent(children, 3);
        g_string_append(children, "<driver");
        attr(children, "name", disk->driver_name);
        attr(children, "type", format);
        attr(children, "cache", disk->cache);
        attr(children, "error_policy", disk->error_policy);
        attr(children, "rerror_policy", disk->rerror_policy);
        attr(children, "io", disk->io);
        /* ioeventfd, event_idx here; the virtio options at the end */
        switch_attrs(children, disk, 0, DISK_DRIVER_VIRTIO_OPTIONS);
        attr(children, "discard", disk->discard);
        if (disk->iothread)
            attr_uint(children, "iothread", disk->iothread);
        attr(children, "detect_zeroes", disk->detect_zeroes);
        if (disk->queues)
            attr_uint(children, "queues", disk->queues);
        if (disk->queue_size)
            attr_uint(children, "queue_size", disk->queue_size);
        switch_attrs(children, disk, DISK_DRIVER_VIRTIO_OPTIONS, DISK_DRIVER_SWITCHES);
        g_string_append(children, "/>\n");
    }
    if (disk->type == DISK_TYPE_VOLUME) {
        domain_def_indent(children, 3);
        g_string_append(children, "<source");
        attr(children, "pool", disk->source_pool);
        attr(children, "volume", disk->source_volume);
        g_string_append(children, "/>\n");
    } else if (disk->source) {
        domain_def_indent(children, 3);
        g_string_append(children, "<source");
        attr(children, disk->type == DISK_TYPE_FILE ? "file" : "dev", disk->source);
        if (live && disk->source_index)
            attr_uint(children, "index", disk->source_index);
        g_string_append(children, "/>\n");
    }
    if (live && disk->backing)
        format_backing(children, disk->backing);
    if (live && disk->mirror)
        format_mirror(children, disk->mirror, flags);
    domain_def_indent(children, 3);
    g_string_append(children, "<target");
    attr(children, "dev", disk->target_dev);
    attr(children, "bus", disk_bus_to_string(disk->bus));
    if (disk->removable != DOMAIN_TRISTATE_ABSENT)
        attr(children, "removable", disk->removable == DOMAIN_TRISTATE_YES ? "on" : "off");
    g_string_append(children, "/>\n");
    if (disk->readonly) {
        domain_def_indent(children, 3);
        g_string_append(children, "<readonly/>\n");
    }
    if (disk->shareable) {
        domain_def_indent(children, 3);
        g_string_append(children, "<shareable/>\n");
    }
    text_element(children, 3, "serial", disk->serial);
    gboolean any = disk->iotune.group_name != NULL;
    for (int i = 0; i < DISK_IOTUNE_FIELDS; i++)
        any |= disk->iotune.v[i] != 0;
    if (any) {
        domain_def_indent(children, 3);
        g_string_append(children, "<iotune>\n");
        for (int i = 0; i < DISK_IOTUNE_FIELDS; i++) {
            if (!disk->iotune.v[i])
                continue;
            domain_def_indent(children, 4);
            g_string_append_printf(children, "<%s>%" G_GUINT64_FORMAT "</%s>\n",
                                   disk_iotune_names[i], disk->iotune.v[i], disk_iotune_names[i]);
        }
        text_element(children, 4, "group_name", disk->iotune.group_name);
        domain_def_indent(children, 3);
        g_string_append(children, "</iotune>\n");
    }
    format_boot_order(children, 3, disk->boot_order);
    format_info(children, 3, &disk->info, flags);

    domain_def_indent(buf, 2);
    g_string_append(buf, "<disk");
    attr(buf, "type", disk_type_to_string(disk->type));
    attr(buf, "device", disk_device_to_string(disk->device));
    close_element(buf, 2, "disk", children);
}

static void
format_controller(GString *buf, const struct controller_def *ctrl, unsigned flags)
{
    g_autoptr(GString) children = g_string_new(NULL);
    if (ctrl->model_name) {
        domain_def_indent(children, 3);
        g_string_append(children, "<model");
        attr(children, "name", ctrl->model_name);
        g_string_append(children, "/>\n");
    }
    if (ctrl->target_chassis >= 0 || ctrl->target_port) {
        domain_def_indent(children, 3);
        g_string_append(children, "<target");
        if (ctrl->target_chassis >= 0)
            attr_uint(children, "chassis", (uint64_t)ctrl->target_chassis);
        attr(children, "port", ctrl->target_port);
        g_string_append(children, "/>\n");
    }
    if (ctrl->master_startport >= 0) {
        domain_def_indent(children, 3);
        g_string_append_printf(children, "<master startport='%d'/>\n", ctrl->master_startport);
    }
    format_info(children, 3, &ctrl->info, flags);

    domain_def_indent(buf, 2);
    g_string_append(buf, "<controller");
    attr(buf, "type", ctrl->type);
    if (ctrl->index >= 0)
        attr_uint(buf, "index", (uint64_t)ctrl->index);
    attr(buf, "model", ctrl->model);
    if (ctrl->ports)
        attr_uint(buf, "ports", ctrl->ports);
    close_element(buf, 2, "controller", children);
}

static void
format_net(GString *buf, const struct net_def *net, unsigned flags)
{
    domain_def_indent(buf, 2);
    g_string_append(buf, "<interface");
    attr(buf, "type", net_type_to_string(net->type));
    g_string_append(buf, ">\n");
    domain_def_indent(buf, 3);
    g_string_append_printf(buf, "<mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n", net->mac[0],
                           net->mac[1], net->mac[2], net->mac[3], net->mac[4], net->mac[5]);
    gboolean live = !(flags & DOMAIN_DEF_FORMAT_INACTIVE);
    if (net->source) {
        domain_def_indent(buf, 3);
        g_string_append(buf, "<source");
        attr(buf, net->type == NET_TYPE_NETWORK ? "network" : "bridge", net->source);
        attr(buf, "portgroup", net->portgroup);
        if (live && net->type == NET_TYPE_NETWORK)
            attr(buf, "bridge", net->live_bridge);
        g_string_append(buf, "/>\n");
    }
    vlan_def_format(buf, 3, &net->vlan);
    bandwidth_def_format(buf, 3, &net->inbound, &net->outbound, live ? net->floor_class : 0);
    if (net->target_dev && (live || !domain_def_net_auto_target(net))) {
        domain_def_indent(buf, 3);
        g_string_append(buf, "<target");
        attr(buf, "dev", net->target_dev);
        if (net->target_unmanaged)
            attr(buf, "managed", "no");
        g_string_append(buf, "/>\n");
    }
    if (net->model) {
        domain_def_indent(buf, 3);
        g_string_append(buf, "<model");
        attr(buf, "type", net->model);
        g_string_append(buf, "/>\n");
    }
    if (net->link_down) {
        domain_def_indent(buf, 3);
        g_string_append(buf, "<link state='down'/>\n");
    }
    format_boot_order(buf, 3, net->boot_order);
    format_info(buf, 3, &net->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "</interface>\n");
}

enum chr_kind { CHR_SERIAL, CHR_CONSOLE, CHR_CHANNEL };

static void
format_chr(GString *buf, const char *name, enum chr_kind kind, const struct chr_def *chr,
           unsigned flags)
{
    g_autoptr(GString) children = g_string_new(NULL);
    /* A pty's path is where the running QEMU put it: live data only. */
    gboolean live_path =
        chr->type == CHR_TYPE_PTY && chr->source_path && !(flags & DOMAIN_DEF_FORMAT_INACTIVE);
    const char *path = chr->type == CHR_TYPE_PTY && !live_path ? NULL : chr->source_path;
    if (path || chr->source_mode) {
        domain_def_indent(children, 3);
        g_string_append(children, "<source");
        attr(children, "mode", chr->source_mode);
        attr(children, "path", path);
        g_string_append(children, "/>\n");
    }
    if (chr->log_file) {
        domain_def_indent(children, 3);
        g_string_append(children, "<log");
        attr(children, "file", chr->log_file);
        if (chr->log_append)
            attr(children, "append", "on");
        g_string_append(children, "/>\n");
    }
    if (chr->target_type || chr->target_name || chr->target_port >= 0) {
        domain_def_indent(children, 3);
        g_string_append(children, "<target");
        attr(children, "type", chr->target_type);
        attr(children, "name", chr->target_name);
        if (chr->target_port >= 0)
            attr_uint(children, "port", (uint64_t)chr->target_port);
        if (chr->target_model && kind == CHR_SERIAL) {
            g_string_append(children, ">\n");
            domain_def_indent(children, 4);
            g_string_append(children, "<model");
            attr(children, "name", chr->target_model);
            g_string_append(children, "/>\n");
            domain_def_indent(children, 3);
            g_string_append(children, "</target>\n");
        } else {
            g_string_append(children, "/>\n");
        }
    }
    format_info(children, 3, &chr->info, flags);

    domain_def_indent(buf, 2);
    g_string_append_printf(buf, "<%s", name);
    attr(buf, "type", chr_type_to_string(chr->type));
    /* libvirt repeats a console's pty path in tty= for old clients. */
    if (kind == CHR_CONSOLE && live_path)
        attr(buf, "tty", chr->source_path);
    close_element(buf, 2, name, children);
}

static void
format_redirdev(GString *buf, const struct redirdev_def *redirdev, unsigned flags)
{
    g_autoptr(GString) children = g_string_new(NULL);
    format_info(children, 3, &redirdev->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "<redirdev bus='usb' type='spicevmc'");
    close_element(buf, 2, "redirdev", children);
}

static void
format_input(GString *buf, const struct input_def *input, unsigned flags)
{
    g_autoptr(GString) children = g_string_new(NULL);
    format_info(children, 3, &input->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "<input");
    attr(buf, "type", input_type_to_string(input->type));
    attr(buf, "bus", input_bus_to_string(input->bus));
    close_element(buf, 2, "input", children);
}

static void
format_graphics(GString *buf, const struct graphics_def *graphics, unsigned flags)
{
    /* An automatic port is only known while the domain runs. */
    int port = graphics->autoport && (flags & DOMAIN_DEF_FORMAT_INACTIVE) ? -1 : graphics->port;
    domain_def_indent(buf, 2);
    g_string_append_printf(buf, "<graphics type='%s' port='%d'",
                           domain_def_graphics_type_to_string(graphics->type), port);
    attr_yes_no(buf, "autoport", graphics->autoport);
    attr(buf, "listen", graphics->listen);
    attr(buf, "keymap", graphics->keymap);
    if (flags & DOMAIN_DEF_FORMAT_SECURE)
        attr(buf, "passwd", graphics->passwd);
    g_string_append(buf, ">\n");
    domain_def_indent(buf, 3);
    g_string_append(buf, "<listen type='address'");
    attr(buf, "address", graphics->listen);
    g_string_append(buf, "/>\n");
    if (graphics->image_compression) {
        domain_def_indent(buf, 3);
        g_string_append_printf(buf, "<image compression='%s'/>\n", graphics->image_compression);
    }
    domain_def_indent(buf, 2);
    g_string_append(buf, "</graphics>\n");
}

/* <sound>, <memballoon>, <panic>: a model and maybe an address. */
static void
format_simple(GString *buf, const char *name, const char *model, const struct device_info *info,
              unsigned flags)
{
    g_autoptr(GString) children = g_string_new(NULL);
    format_info(children, 3, info, flags);
    domain_def_indent(buf, 2);
    g_string_append_printf(buf, "<%s", name);
    attr(buf, "model", model);
    close_element(buf, 2, name, children);
}

static void
format_video(GString *buf, const struct video_def *video, unsigned flags)
{
    domain_def_indent(buf, 2);
    g_string_append(buf, "<video>\n");
    domain_def_indent(buf, 3);
    g_string_append(buf, "<model");
    attr(buf, "type", video->model);
    if (video->vram)
        attr_uint(buf, "vram", video->vram);
    if (video->heads)
        attr_uint(buf, "heads", video->heads);
    if (video->primary)
        attr(buf, "primary", "yes");
    g_string_append(buf, "/>\n");
    format_info(buf, 3, &video->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "</video>\n");
}

static void
format_rng(GString *buf, const struct rng_def *rng, unsigned flags)
{
    domain_def_indent(buf, 2);
    g_string_append(buf, "<rng");
    attr(buf, "model", rng->model);
    g_string_append(buf, ">\n");
    domain_def_indent(buf, 3);
    g_string_append(buf, "<backend");
    attr(buf, "model", rng->backend_model);
    g_string_append(buf, ">");
    xml_util_append_escaped(buf, rng->backend ? rng->backend : "");
    g_string_append(buf, "</backend>\n");
    format_info(buf, 3, &rng->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "</rng>\n");
}

#define EACH(type, var, array)                                                                     \
    for (guint var##_i = 0; var##_i < (array)->len; var##_i++)                                     \
        for (const type *var = g_ptr_array_index((array), var##_i); var; var = NULL)

static void
format_memdev(GString *buf, const struct memdev_def *mem, unsigned flags)
{
    gboolean virtio = mem->model == MEMDEV_VIRTIO_MEM;
    domain_def_indent(buf, 2);
    g_string_append_printf(buf, "<memory model='%s'>\n", virtio ? "virtio-mem" : "dimm");
    domain_def_indent(buf, 3);
    g_string_append(buf, "<target>\n");
    domain_def_indent(buf, 4);
    g_string_append_printf(buf, "<size unit='KiB'>%" G_GUINT64_FORMAT "</size>\n",
                           (guint64)mem->size_kib);
    if (mem->node >= 0) {
        domain_def_indent(buf, 4);
        g_string_append_printf(buf, "<node>%d</node>\n", mem->node);
    }
    const struct {
        const char *name;
        uint64_t kib;
        gboolean shown;
    } sizes[] = {{"block", mem->block_kib, virtio},
                 {"requested", mem->requested_kib, virtio},
                 {"current", mem->current_kib, virtio && !(flags & DOMAIN_DEF_FORMAT_INACTIVE)}};
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        if (!sizes[i].shown)
            continue;
        domain_def_indent(buf, 4);
        g_string_append_printf(buf, "<%s unit='KiB'>%" G_GUINT64_FORMAT "</%s>\n", sizes[i].name,
                               (guint64)sizes[i].kib, sizes[i].name);
    }
    domain_def_indent(buf, 3);
    g_string_append(buf, "</target>\n");
    format_info(buf, 3, &mem->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "</memory>\n");
}

static void
format_hostdev(GString *buf, const struct hostdev_def *hostdev, unsigned flags)
{
    domain_def_indent(buf, 2);
    g_string_append_printf(buf, "<hostdev mode='subsystem' type='pci' managed='%s'>\n",
                           hostdev->managed ? "yes" : "no");
    if (hostdev->driver_vfio) {
        domain_def_indent(buf, 3);
        g_string_append(buf, "<driver name='vfio'/>\n");
    }
    domain_def_indent(buf, 3);
    g_string_append(buf, "<source>\n");
    domain_def_indent(buf, 4);
    g_string_append_printf(buf,
                           "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                           "function='0x%x'/>\n",
                           hostdev->source.domain, hostdev->source.bus, hostdev->source.slot,
                           hostdev->source.function);
    domain_def_indent(buf, 3);
    g_string_append(buf, "</source>\n");
    format_boot_order(buf, 3, hostdev->boot_order);
    if (hostdev->rom_bar != DOMAIN_TRISTATE_ABSENT || hostdev->rom_file) {
        domain_def_indent(buf, 3);
        g_string_append(buf, "<rom");
        if (hostdev->rom_bar != DOMAIN_TRISTATE_ABSENT)
            attr(buf, "bar", hostdev->rom_bar == DOMAIN_TRISTATE_YES ? "on" : "off");
        attr(buf, "file", hostdev->rom_file);
        g_string_append(buf, "/>\n");
    }
    format_info(buf, 3, &hostdev->info, flags);
    domain_def_indent(buf, 2);
    g_string_append(buf, "</hostdev>\n");
}

static void
format_devices(GString *out, const struct domain_def *def, unsigned flags)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    text_element(buf, 2, "emulator", def->emulator);
    EACH(struct disk_def, disk, def->disks)
    format_disk(buf, disk, flags);
    EACH(struct controller_def, ctrl, def->controllers)
    format_controller(buf, ctrl, flags);
    EACH(struct net_def, net, def->nets)
    format_net(buf, net, flags);
    EACH(struct chr_def, chr, def->serials)
    format_chr(buf, "serial", CHR_SERIAL, chr, flags);
    EACH(struct chr_def, chr, def->consoles)
    format_chr(buf, "console", CHR_CONSOLE, chr, flags);
    EACH(struct chr_def, chr, def->channels)
    format_chr(buf, "channel", CHR_CHANNEL, chr, flags);
    EACH(struct input_def, input, def->inputs)
    format_input(buf, input, flags);
    EACH(struct graphics_def, graphics, def->graphics)
    format_graphics(buf, graphics, flags);
    EACH(struct sound_def, sound, def->sounds)
    format_simple(buf, "sound", sound->model, &sound->info, flags);
    /* spice; or none where it would otherwise be implied (sound and a SPICE display) */
    gboolean spice = FALSE;
    EACH(struct graphics_def, graphics, def->graphics)
    spice = spice || graphics->type == GRAPHICS_TYPE_SPICE;
    if (def->audio_spice || (def->audio_explicit && spice && def->sounds->len)) {
        domain_def_indent(buf, 2);
        g_string_append_printf(buf, "<audio id='1' type='%s'/>\n",
                               def->audio_spice ? "spice" : "none");
    }
    EACH(struct video_def, video, def->videos)
    format_video(buf, video, flags);
    EACH(struct hostdev_def, hostdev, def->hostdevs)
    format_hostdev(buf, hostdev, flags);
    EACH(struct redirdev_def, redirdev, def->redirdevs)
    format_redirdev(buf, redirdev, flags);
    if (def->memballoon)
        format_simple(buf, "memballoon", def->memballoon->model, &def->memballoon->info, flags);
    EACH(struct rng_def, rng, def->rngs)
    format_rng(buf, rng, flags);
    if (def->panic_model)
        format_simple(buf, "panic", def->panic_model, &def->panic_info, flags);
    EACH(struct memdev_def, mem, def->memdevs)
    format_memdev(buf, mem, flags);

    domain_def_indent(out, 1);
    g_string_append(out, "<devices");
    close_element(out, 1, "devices", buf);
}

static void
format_os(GString *buf, const struct domain_def *def)
{
    domain_def_indent(buf, 1);
    g_string_append(buf, "<os>\n");
    domain_def_indent(buf, 2);
    g_string_append(buf, "<type");
    attr(buf, "arch", def->os_arch ? def->os_arch : "x86_64");
    attr(buf, "machine", def->os_machine);
    g_string_append(buf, ">");
    xml_util_append_escaped(buf, def->os_type ? def->os_type : "hvm");
    g_string_append(buf, "</type>\n");
    if (def->loader) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<loader");
        if (def->loader_readonly)
            attr(buf, "readonly", "yes");
        attr(buf, "type", def->loader_type);
        g_string_append(buf, ">");
        xml_util_append_escaped(buf, def->loader);
        g_string_append(buf, "</loader>\n");
    }
    if (def->nvram || def->nvram_template) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<nvram");
        attr(buf, "template", def->nvram_template);
        if (def->nvram) {
            g_string_append(buf, ">");
            xml_util_append_escaped(buf, def->nvram);
            g_string_append(buf, "</nvram>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    text_element(buf, 2, "kernel", def->kernel);
    text_element(buf, 2, "initrd", def->initrd);
    text_element(buf, 2, "cmdline", def->cmdline);
    for (unsigned i = 0; i < def->nboot; i++) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<boot");
        attr(buf, "dev", domain_boot_dev_to_string(def->boot[i]));
        g_string_append(buf, "/>\n");
    }
    if (def->bootmenu || def->bootmenu_timeout >= 0) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<bootmenu");
        attr_yes_no(buf, "enable", def->bootmenu);
        if (def->bootmenu_timeout >= 0)
            attr_uint(buf, "timeout", (uint64_t)def->bootmenu_timeout);
        g_string_append(buf, "/>\n");
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "</os>\n");
}

static void
format_cpu(GString *buf, const struct domain_def *def)
{
    g_autoptr(GString) children = g_string_new(NULL);
    if (!def->cpu_mode && !def->cpu_match && !def->cpu_check && !def->cpu_migratable &&
        !def->cpu_model && !def->cpu_features->len && !def->cpu_sockets && !def->numa_cells->len)
        return;
    if (def->cpu_model) {
        domain_def_indent(children, 2);
        g_string_append(children, "<model");
        attr(children, "fallback", def->cpu_model_fallback);
        g_string_append(children, ">");
        xml_util_append_escaped(children, def->cpu_model);
        g_string_append(children, "</model>\n");
    }
    if (def->cpu_sockets) {
        domain_def_indent(children, 2);
        g_string_append_printf(children,
                               "<topology sockets='%u' dies='%u' cores='%u' threads='%u'/>\n",
                               def->cpu_sockets, def->cpu_dies, def->cpu_cores, def->cpu_threads);
    }
    EACH(struct cpu_feature_def, feature, def->cpu_features)
    {
        domain_def_indent(children, 2);
        g_string_append(children, "<feature");
        attr(children, "policy", feature->policy);
        attr(children, "name", feature->name);
        g_string_append(children, "/>\n");
    }
    domain_def_numa_format(children, 2, def);
    domain_def_indent(buf, 1);
    g_string_append(buf, "<cpu");
    attr(buf, "mode", def->cpu_mode);
    attr(buf, "match", def->cpu_match);
    attr(buf, "check", def->cpu_check);
    attr(buf, "migratable", def->cpu_migratable);
    close_element(buf, 1, "cpu", children);
}

static void
format_clock(GString *buf, const struct domain_def *def)
{
    g_autoptr(GString) children = g_string_new(NULL);
    for (unsigned i = 0; i < def->ntimers; i++) {
        const struct timer_def *timer = &def->timers[i];
        domain_def_indent(children, 2);
        g_string_append(children, "<timer");
        attr(children, "name", timer->name);
        if (timer->present != DOMAIN_TRISTATE_ABSENT)
            attr_yes_no(children, "present", timer->present == DOMAIN_TRISTATE_YES);
        attr(children, "tickpolicy", timer->tickpolicy);
        g_string_append(children, "/>\n");
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "<clock");
    attr(buf, "offset", def->clock_offset ? def->clock_offset : "utc");
    close_element(buf, 1, "clock", children);
}

static void
format_pm(GString *buf, const struct domain_def *def)
{
    if (def->pm_suspend_to_mem == DOMAIN_TRISTATE_ABSENT &&
        def->pm_suspend_to_disk == DOMAIN_TRISTATE_ABSENT)
        return;
    domain_def_indent(buf, 1);
    g_string_append(buf, "<pm>\n");
    if (def->pm_suspend_to_mem != DOMAIN_TRISTATE_ABSENT) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<suspend-to-mem");
        attr_yes_no(buf, "enabled", def->pm_suspend_to_mem == DOMAIN_TRISTATE_YES);
        g_string_append(buf, "/>\n");
    }
    if (def->pm_suspend_to_disk != DOMAIN_TRISTATE_ABSENT) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<suspend-to-disk");
        attr_yes_no(buf, "enabled", def->pm_suspend_to_disk == DOMAIN_TRISTATE_YES);
        g_string_append(buf, "/>\n");
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "</pm>\n");
}

/* the events given, in libvirt's order */
static void
format_perf(GString *buf, const struct domain_def *def)
{
    gboolean any = FALSE;
    for (int i = 0; i < PERF_EVENT_N; i++) {
        if (def->perf[i] == DOMAIN_TRISTATE_ABSENT)
            continue;
        if (!any) {
            domain_def_indent(buf, 1);
            g_string_append(buf, "<perf>\n");
            any = TRUE;
        }
        domain_def_indent(buf, 2);
        g_string_append_printf(buf, "<event name='%s' enabled='%s'/>\n", perf_event_to_string(i),
                               def->perf[i] == DOMAIN_TRISTATE_YES ? "yes" : "no");
    }
    if (any) {
        domain_def_indent(buf, 1);
        g_string_append(buf, "</perf>\n");
    }
}

static void
format_cputune(GString *buf, const struct domain_def *def)
{
    gboolean any = def->emulatorpin != NULL || def->cpu_shares || def->vcpu_period ||
                   def->vcpu_quota || def->global_period || def->global_quota ||
                   def->emulator_period || def->emulator_quota;
    for (guint i = 0; i < def->vcpupins->len; i++)
        any |= def->vcpupins->pdata[i] != NULL;
    for (guint i = 0; i < def->iothreads->len; i++)
        any |= ((struct iothread_def *)def->iothreads->pdata[i])->cpuset != NULL;
    if (!any)
        return;
    domain_def_indent(buf, 1);
    g_string_append(buf, "<cputune>\n");
    const struct {
        const char *name;
        gint64 value;
    } sched[] = {{"shares", (gint64)def->cpu_shares},
                 {"period", (gint64)def->vcpu_period},
                 {"quota", def->vcpu_quota},
                 {"global_period", (gint64)def->global_period},
                 {"global_quota", def->global_quota},
                 {"emulator_period", (gint64)def->emulator_period},
                 {"emulator_quota", def->emulator_quota}};
    for (gsize i = 0; i < G_N_ELEMENTS(sched); i++) {
        if (!sched[i].value)
            continue;
        domain_def_indent(buf, 2);
        g_string_append_printf(buf, "<%s>%" G_GINT64_FORMAT "</%s>\n", sched[i].name,
                               sched[i].value, sched[i].name);
    }
    for (guint i = 0; i < def->vcpupins->len; i++) {
        if (!def->vcpupins->pdata[i])
            continue;
        domain_def_indent(buf, 2);
        g_string_append(buf, "<vcpupin");
        attr_uint(buf, "vcpu", i);
        attr(buf, "cpuset", def->vcpupins->pdata[i]);
        g_string_append(buf, "/>\n");
    }
    if (def->emulatorpin) {
        domain_def_indent(buf, 2);
        g_string_append(buf, "<emulatorpin");
        attr(buf, "cpuset", def->emulatorpin);
        g_string_append(buf, "/>\n");
    }
    EACH(struct iothread_def, t, def->iothreads)
    {
        if (!t->cpuset)
            continue;
        domain_def_indent(buf, 2);
        g_string_append_printf(buf, "<iothreadpin iothread='%u'", t->id);
        attr(buf, "cpuset", t->cpuset);
        g_string_append(buf, "/>\n");
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "</cputune>\n");
}

static void
format_blkiotune(GString *buf, const struct domain_def *def)
{
    g_autoptr(GString) blkio = g_string_new(NULL);
    if (def->blkio_weight) {
        domain_def_indent(blkio, 2);
        g_string_append_printf(blkio, "<weight>%u</weight>\n", def->blkio_weight);
    }
    EACH(struct blkio_device_def, dev, def->blkio_devices)
    {
        static const char *const names[] = {"read_iops_sec", "write_iops_sec", "read_bytes_sec",
                                            "write_bytes_sec"};
        const guint64 values[] = {dev->read_iops, dev->write_iops, dev->read_bytes,
                                  dev->write_bytes};
        if (!dev->weight && !dev->read_iops && !dev->write_iops && !dev->read_bytes &&
            !dev->write_bytes)
            continue;
        domain_def_indent(blkio, 2);
        g_string_append(blkio, "<device>\n");
        domain_def_indent(blkio, 3);
        g_string_append(blkio, "<path>");
        xml_util_append_escaped(blkio, dev->path);
        g_string_append(blkio, "</path>\n");
        if (dev->weight) {
            domain_def_indent(blkio, 3);
            g_string_append_printf(blkio, "<weight>%u</weight>\n", dev->weight);
        }
        for (int i = 0; i < 4; i++) {
            if (!values[i])
                continue;
            domain_def_indent(blkio, 3);
            g_string_append_printf(blkio, "<%s>%" G_GUINT64_FORMAT "</%s>\n", names[i], values[i],
                                   names[i]);
        }
        domain_def_indent(blkio, 2);
        g_string_append(blkio, "</device>\n");
    }
    if (!blkio->len)
        return;
    domain_def_indent(buf, 1);
    g_string_append(buf, "<blkiotune>\n");
    g_string_append(buf, blkio->str);
    domain_def_indent(buf, 1);
    g_string_append(buf, "</blkiotune>\n");
}

static void
format_memory(GString *buf, const struct domain_def *def)
{
    if (def->max_memory_kib) {
        domain_def_indent(buf, 1);
        g_string_append_printf(
            buf, "<maxMemory slots='%u' unit='KiB'>%" G_GUINT64_FORMAT "</maxMemory>\n",
            def->max_memory_slots, (guint64)def->max_memory_kib);
    }
    domain_def_indent(buf, 1);
    g_string_append_printf(buf, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           (guint64)def->memory_kib);
    domain_def_indent(buf, 1);
    g_string_append_printf(
        buf, "<currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
        (guint64)(def->current_memory_kib ? def->current_memory_kib : def->memory_kib));
    format_blkiotune(buf, def);
    if (def->mem_hard_limit || def->mem_soft_limit || def->mem_swap_hard_limit) {
        const char *names[] = {"hard_limit", "soft_limit", "swap_hard_limit"};
        const uint64_t values[] = {def->mem_hard_limit, def->mem_soft_limit,
                                   def->mem_swap_hard_limit};
        domain_def_indent(buf, 1);
        g_string_append(buf, "<memtune>\n");
        for (int i = 0; i < 3; i++) {
            if (!values[i])
                continue;
            domain_def_indent(buf, 2);
            g_string_append_printf(buf, "<%s unit='KiB'>%" G_GUINT64_FORMAT "</%s>\n", names[i],
                                   (guint64)values[i], names[i]);
        }
        domain_def_indent(buf, 1);
        g_string_append(buf, "</memtune>\n");
    }
    domain_def_indent(buf, 1);
    g_string_append(buf, "<vcpu");
    attr(buf, "placement", def->vcpu_placement ? def->vcpu_placement : "static");
    attr(buf, "cpuset", def->vcpu_cpuset);
    if (def->vcpus_current && def->vcpus_current != def->vcpus)
        attr_uint(buf, "current", def->vcpus_current);
    g_string_append_printf(buf, ">%u</vcpu>\n", def->vcpus);
    domain_def_vcpus_format(buf, def);
    domain_def_iothreads_format(buf, def);
    format_cputune(buf, def);
    if (def->numa_mode != NUMATUNE_NONE || def->numa_memnodes->len) {
        domain_def_indent(buf, 1);
        g_string_append(buf, "<numatune>\n");
        if (def->numa_mode != NUMATUNE_NONE) {
            domain_def_indent(buf, 2);
            g_string_append(buf, "<memory");
            attr(buf, "mode", numatune_mode_names[def->numa_mode]);
            attr(buf, "nodeset", def->numa_nodeset);
            g_string_append(buf, "/>\n");
        }
        for (guint i = 0; i < def->numa_memnodes->len; i++) {
            const struct numa_memnode *m = def->numa_memnodes->pdata[i];
            domain_def_indent(buf, 2);
            g_string_append_printf(buf, "<memnode cellid='%u'", m->cellid);
            attr(buf, "mode", numatune_mode_names[m->mode]);
            attr(buf, "nodeset", m->nodeset);
            g_string_append(buf, "/>\n");
        }
        domain_def_indent(buf, 1);
        g_string_append(buf, "</numatune>\n");
    }
}

char *
domain_def_format(const struct domain_def *def, int id, unsigned flags)
{
    GString *buf = g_string_new(NULL);
    char uuid[UUID_STRING_LEN];

    g_string_append(buf, "<domain");
    attr(buf, "type", domain_virt_type_to_string(def->virt_type));
    if (id >= 0)
        g_string_append_printf(buf, " id='%d'", id);
    g_string_append(buf, ">\n");
    text_element(buf, 1, "name", def->name);
    text_element(buf, 1, "uuid", uuid_format(def->uuid, uuid));
    text_element(buf, 1, "title", def->title);
    text_element(buf, 1, "description", def->description);
    xml_util_metadata_format(buf, def->metadata);
    format_memory(buf, def);
    format_os(buf, def);
    if (def->acpi || def->apic || def->pae || def->vmport != DOMAIN_TRISTATE_ABSENT) {
        domain_def_indent(buf, 1);
        g_string_append(buf, "<features>\n");
        if (def->acpi)
            g_string_append(buf, "    <acpi/>\n");
        if (def->apic)
            g_string_append(buf, "    <apic/>\n");
        if (def->pae)
            g_string_append(buf, "    <pae/>\n");
        if (def->vmport != DOMAIN_TRISTATE_ABSENT)
            g_string_append_printf(buf, "    <vmport state='%s'/>\n",
                                   def->vmport == DOMAIN_TRISTATE_YES ? "on" : "off");
        domain_def_indent(buf, 1);
        g_string_append(buf, "</features>\n");
    }
    format_cpu(buf, def);
    format_clock(buf, def);
    text_element(buf, 1, "on_poweroff", domain_action_to_string(def->on_poweroff));
    text_element(buf, 1, "on_reboot", domain_action_to_string(def->on_reboot));
    text_element(buf, 1, "on_crash", domain_action_to_string(def->on_crash));
    format_pm(buf, def);
    format_perf(buf, def);
    format_devices(buf, def, flags);
    g_string_append(buf, "</domain>\n");
    return g_string_free(buf, FALSE);
}
