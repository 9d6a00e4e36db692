/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* command: libvirt-style argv. QEMU starts with -S and -no-shutdown so the daemon decides when
 * the guest runs and what a power-off means; the monitor arrives as an inherited socket fd so
 * the daemon can connect before QEMU even looks at it. Secrets (VNC passwords) are set later
 * over QMP, never placed here. */
#include "qemu/command.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "util/err.h"

const char *
qemu_command_machine(const struct domain_def *def)
{
    return def->os_machine ? def->os_machine : "pc";
}

static gboolean
is_q35(const struct domain_def *def)
{
    const char *m = qemu_command_machine(def);
    return g_str_has_prefix(m, "q35") || g_str_has_prefix(m, "pc-q35");
}

/* QEMU's option syntax doubles a comma inside a value */
static char *
escape(const char *s)
{
    GString *out = g_string_new(NULL);
    for (; *s; s++) {
        if (*s == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

char *
qemu_command_name_arg(const char *name)
{
    g_autofree char *escaped = escape(name);
    return g_strdup_printf("guest=%s,debug-threads=on", escaped);
}

static void
add(GPtrArray *argv, const char *arg)
{
    g_ptr_array_add(argv, g_strdup(arg));
}

static void G_GNUC_PRINTF(3, 4) addf(GPtrArray *argv, const char *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(argv, g_strdup(opt));
    g_ptr_array_add(argv, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static char *
json_text(JsonObject *obj)
{
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    return json_to_string(node, FALSE);
}

static const char *
boot_letter(enum domain_boot_dev dev)
{
    switch (dev) {
    case DOMAIN_BOOT_HD:
        return "c";
    case DOMAIN_BOOT_CDROM:
        return "d";
    case DOMAIN_BOOT_NETWORK:
        return "n";
    case DOMAIN_BOOT_FD:
        return "a";
    }
    return "c";
}

static gboolean
has_per_device_boot(const struct domain_def *def)
{
    for (guint i = 0; i < def->disks->len; i++)
        if (((struct disk_def *)def->disks->pdata[i])->boot_order)
            return TRUE;
    for (guint i = 0; i < def->nets->len; i++)
        if (((struct net_def *)def->nets->pdata[i])->boot_order)
            return TRUE;
    return FALSE;
}

static void
add_machine(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts)
{
    GString *m = g_string_new(qemu_command_machine(def));
    g_string_append(m, ",usb=off,dump-guest-core=off");
    if (!def->acpi)
        g_string_append(m, ",acpi=off");
    for (unsigned i = 0; i < def->ntimers; i++)
        if (g_str_equal(def->timers[i].name, "hpet") &&
            def->timers[i].present == DOMAIN_TRISTATE_NO)
            g_string_append(m, ",hpet=off");
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_string_free(m, FALSE));
    addf(argv, "-accel", "%s", opts->kvm ? "kvm" : "tcg");
}

static void
add_cpu_memory(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts)
{
    if (def->cpu_mode && g_str_equal(def->cpu_mode, "host-passthrough"))
        addf(argv, "-cpu", "%s", opts->kvm ? "host" : "max");
    else if (def->cpu_mode && g_str_equal(def->cpu_mode, "host-model"))
        addf(argv, "-cpu", "%s", opts->kvm ? "host" : "max");
    else if (def->cpu_model)
        addf(argv, "-cpu", "%s", def->cpu_model);
    if (def->max_memory_kib)
        addf(argv, "-m", "size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%" G_GUINT64_FORMAT "k",
             def->memory_kib, def->max_memory_slots, def->max_memory_kib);
    else
        addf(argv, "-m", "size=%" G_GUINT64_FORMAT "k", def->memory_kib);
    addf(argv, "-smp", "%u,maxcpus=%u,sockets=%u,cores=1,threads=1", def->vcpus_current, def->vcpus,
         def->vcpus);
}

static void
add_clock_pm(GPtrArray *argv, const struct domain_def *def)
{
    const char *base =
        def->clock_offset && g_str_equal(def->clock_offset, "localtime") ? "localtime" : "utc";
    const char *driftfix = "";
    for (unsigned i = 0; i < def->ntimers; i++)
        if (g_str_equal(def->timers[i].name, "rtc") && def->timers[i].tickpolicy &&
            g_str_equal(def->timers[i].tickpolicy, "catchup"))
            driftfix = ",driftfix=slew";
    addf(argv, "-rtc", "base=%s%s", base, driftfix);
    const char *pm = is_q35(def) ? "ICH9-LPC" : "PIIX4_PM";
    if (def->pm_suspend_to_mem != DOMAIN_TRISTATE_ABSENT)
        addf(argv, "-global", "%s.disable_s3=%d", pm, def->pm_suspend_to_mem == DOMAIN_TRISTATE_NO);
    if (def->pm_suspend_to_disk != DOMAIN_TRISTATE_ABSENT)
        addf(argv, "-global", "%s.disable_s4=%d", pm,
             def->pm_suspend_to_disk == DOMAIN_TRISTATE_NO);
}

static void
add_boot(GPtrArray *argv, const struct domain_def *def)
{
    if (def->kernel) {
        g_autofree char *k = escape(def->kernel);
        addf(argv, "-kernel", "%s", k);
        if (def->initrd) {
            g_autofree char *i = escape(def->initrd);
            addf(argv, "-initrd", "%s", i);
        }
        if (def->cmdline)
            addf(argv, "-append", "%s", def->cmdline);
    }
    if (def->loader && def->loader_type && g_str_equal(def->loader_type, "pflash")) {
        /* UEFI: the firmware code read-only in unit 0, its variable store in unit 1 */
        g_autofree char *l = escape(def->loader);
        addf(argv, "-drive", "file=%s,if=pflash,format=raw,unit=0,readonly=%s", l,
             def->loader_readonly ? "on" : "off");
        if (def->nvram) {
            g_autofree char *n = escape(def->nvram);
            addf(argv, "-drive", "file=%s,if=pflash,format=raw,unit=1", n);
        }
    } else if (def->loader) {
        g_autofree char *l = escape(def->loader);
        addf(argv, "-bios", "%s", l);
    }
    /* as libvirt: "menu=on,splash-time=N" or "menu=off", after the order */
    g_autofree char *menu =
        def->bootmenu_timeout >= 0
            ? g_strdup_printf(",menu=%s,splash-time=%d", def->bootmenu ? "on" : "off",
                              def->bootmenu_timeout)
            : g_strdup(def->bootmenu ? ",menu=on" : "");
    if (has_per_device_boot(def)) {
        addf(argv, "-boot", "strict=on%s", menu);
    } else if (def->nboot > 0 && !def->kernel) {
        GString *order = g_string_new(NULL);
        for (unsigned i = 0; i < def->nboot; i++)
            g_string_append(order, boot_letter(def->boot[i]));
        addf(argv, "-boot", "order=%s%s", order->str, menu);
        g_string_free(order, TRUE);
    } else if (*menu) {
        addf(argv, "-boot", "%s", menu + 1);
    }
}

/* Controllers the guest's disks need beyond the machine's built-in ones. */
static void
add_controllers(GPtrArray *argv, const struct domain_def *def, gboolean *ret_usb)
{
    gboolean sata = FALSE, scsi = FALSE, usb_listed = FALSE, usb_none = FALSE;
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        int idx = c->index < 0 ? 0 : c->index;
        if (g_str_equal(c->type, "usb")) {
            usb_listed = TRUE;
            const char *model = c->model ? c->model : (is_q35(def) ? "qemu-xhci" : "piix3-uhci");
            if (g_str_equal(model, "none")) {
                usb_none = TRUE;
                continue;
            }
            if (g_str_has_prefix(model, "ich9-uhci"))
                addf(argv, "-device", "ich9-usb-%s,masterbus=usb.0,firstport=%d", model + 5,
                     c->master_startport < 0 ? 0 : c->master_startport);
            else if (g_str_equal(model, "ich9-ehci1"))
                addf(argv, "-device", "ich9-usb-ehci1,id=usb");
            else if (g_str_equal(model, "piix3-uhci"))
                addf(argv, "-device", "piix3-usb-uhci,id=usb");
            else if (g_str_equal(model, "qemu-xhci") && c->ports)
                addf(argv, "-device", "qemu-xhci,id=usb,p2=%u,p3=%u", c->ports, c->ports);
            else if (g_str_equal(model, "qemu-xhci"))
                addf(argv, "-device", "qemu-xhci,id=usb");
            else if (g_str_equal(model, "nec-xhci"))
                addf(argv, "-device", "nec-usb-xhci,id=usb");
        } else if (g_str_equal(c->type, "scsi")) {
            scsi = TRUE;
            addf(argv, "-device", "virtio-scsi-pci,id=scsi%d", idx);
        } else if (g_str_equal(c->type, "sata") && !is_q35(def)) {
            sata = TRUE;
            addf(argv, "-device", "ich9-ahci,id=sata%d", idx);
        } else if (g_str_equal(c->type, "virtio-serial")) {
            addf(argv, "-device", "virtio-serial-pci,id=virtio-serial%d", idx);
        }
    }
    gboolean need_usb = FALSE;
    for (guint i = 0; i < def->inputs->len; i++)
        if (((struct input_def *)def->inputs->pdata[i])->bus == INPUT_BUS_USB)
            need_usb = TRUE;
    if (need_usb && !usb_listed)
        addf(argv, "-device", "%s", is_q35(def) ? "qemu-xhci,id=usb" : "piix3-usb-uhci,id=usb");
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (d->bus == DISK_BUS_SCSI && !scsi) {
            scsi = TRUE;
            addf(argv, "-device", "virtio-scsi-pci,id=scsi0");
        } else if (d->bus == DISK_BUS_SATA && !sata && !is_q35(def)) {
            sata = TRUE;
            addf(argv, "-device", "ich9-ahci,id=sata0");
        }
    }
    *ret_usb = (usb_listed && !usb_none) || need_usb;
}

/* Index of a target name's suffix: vda -> 0, hdc -> 2, sdab -> 27. */
static int
target_index(const char *dev)
{
    const char *p = dev;
    while (*p && !(p > dev + 1 && g_ascii_islower(*p) && p[-1] == 'd'))
        p++;
    if (strlen(dev) < 3)
        return 0;
    int idx = 0;
    for (p = dev + 2; *p; p++) {
        if (!g_ascii_islower(*p))
            return 0;
        idx = idx * 26 + (*p - 'a' + 1);
    }
    return idx - 1;
}

static gboolean
add_disk(GPtrArray *argv, const struct domain_def *def, const struct disk_def *d, guint n,
         GError **error)
{
    int idx = target_index(d->target_dev);
    g_autofree char *node = g_strdup_printf("drive-%s", d->target_dev);
    g_autofree char *devprops = NULL;
    gboolean cdrom = d->device == DISK_DEVICE_CDROM;
    gboolean readonly = d->readonly || cdrom;

    if (d->source) {
        g_autoptr(JsonObject) proto = json_object_new();
        g_autofree char *proto_name = g_strdup_printf("%s-storage", node);
        json_object_set_string_member(
            proto, "driver",
            d->type == DISK_TYPE_BLOCK ? (cdrom ? "host_cdrom" : "host_device") : "file");
        json_object_set_string_member(proto, "filename", d->source);
        json_object_set_string_member(proto, "node-name", proto_name);
        json_object_set_boolean_member(proto, "auto-read-only", TRUE);
        if (d->discard)
            json_object_set_string_member(proto, "discard", d->discard);
        if (d->cache && (g_str_equal(d->cache, "none") || g_str_equal(d->cache, "directsync"))) {
            g_autoptr(JsonObject) cache = json_object_new();
            json_object_set_boolean_member(cache, "direct", TRUE);
            json_object_set_boolean_member(cache, "no-flush", FALSE);
            json_object_set_object_member(proto, "cache", g_steal_pointer(&cache));
        }
        g_autofree char *proto_text = json_text(proto);
        addf(argv, "-blockdev", "%s", proto_text);

        g_autoptr(JsonObject) fmt = json_object_new();
        json_object_set_string_member(fmt, "node-name", node);
        json_object_set_boolean_member(fmt, "read-only", readonly);
        json_object_set_string_member(fmt, "driver",
                                      d->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
        json_object_set_string_member(fmt, "file", proto_name);
        g_autofree char *fmt_text = json_text(fmt);
        addf(argv, "-blockdev", "%s", fmt_text);
    }
    g_autofree char *drive = d->source ? g_strdup_printf(",drive=%s", node) : g_strdup("");
    g_autofree char *boot =
        d->boot_order ? g_strdup_printf(",bootindex=%u", d->boot_order) : g_strdup("");
    g_autofree char *serial = NULL;
    if (d->serial) {
        g_autofree char *s = escape(d->serial);
        serial = g_strdup_printf(",serial=%s", s);
    } else {
        serial = g_strdup("");
    }
    switch (d->bus) {
    case DISK_BUS_VIRTIO:
        if (cdrom) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': a cdrom cannot sit on bus 'virtio'; use 'ide', 'sata' or 'scsi'",
                    d->target_dev);
            return FALSE;
        }
        devprops =
            g_strdup_printf("virtio-blk-pci%s,id=virtio-disk%d%s%s", drive, idx, serial, boot);
        break;
    case DISK_BUS_IDE:
        if (is_q35(def)) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': machine '%s' has no IDE bus; use bus 'sata'", d->target_dev,
                    qemu_command_machine(def));
            return FALSE;
        }
        if (idx > 3) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': the IDE bus has only hda to hdd", d->target_dev);
            return FALSE;
        }
        devprops = g_strdup_printf("%s,bus=ide.%d,unit=%d%s,id=ide0-%d-%d%s%s",
                                   cdrom ? "ide-cd" : "ide-hd", idx / 2, idx % 2, drive, idx / 2,
                                   idx % 2, serial, boot);
        break;
    case DISK_BUS_SATA:
        if (idx > 5) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': the SATA controller has only sda to sdf", d->target_dev);
            return FALSE;
        }
        devprops = g_strdup_printf("%s,bus=%s.%d%s,id=sata0-0-%d%s%s", cdrom ? "ide-cd" : "ide-hd",
                                   is_q35(def) ? "ide" : "sata0", idx, drive, idx, serial, boot);
        break;
    case DISK_BUS_SCSI:
        devprops =
            g_strdup_printf("%s,bus=scsi0.0,channel=0,scsi-id=0,lun=%d%s,id=scsi0-0-0-%d%s%s",
                            cdrom ? "scsi-cd" : "scsi-hd", idx, drive, idx, serial, boot);
        break;
    }
    addf(argv, "-device", "%s", devprops);
    return TRUE;
}

static gboolean
add_net(GPtrArray *argv, const struct net_def *net, guint n, GError **error)
{
    switch (net->type) {
    case NET_TYPE_USER:
        addf(argv, "-netdev", "user,id=hostnet%u", n);
        break;
    case NET_TYPE_BRIDGE: {
        g_autofree char *br = escape(net->source);
        addf(argv, "-netdev", "bridge,br=%s,id=hostnet%u", br, n);
        break;
    }
    case NET_TYPE_NETWORK:
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "interface type 'network' (network '%s') is not supported yet; use type 'user' "
                "or 'bridge'",
                net->source ? net->source : "");
        return FALSE;
    }
    const char *model = net->model ? net->model : "rtl8139";
    const char *dev = g_str_equal(model, "virtio") ? "virtio-net-pci" : model;
    if (!g_str_equal(model, "virtio") && !g_str_equal(model, "e1000") &&
        !g_str_equal(model, "e1000e") && !g_str_equal(model, "rtl8139")) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "interface model '%s' is not supported; use 'virtio', 'e1000', 'e1000e' or "
                "'rtl8139'",
                model);
        return FALSE;
    }
    g_autofree char *boot =
        net->boot_order ? g_strdup_printf(",bootindex=%u", net->boot_order) : g_strdup("");
    addf(argv, "-device", "%s,netdev=hostnet%u,id=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x%s", dev,
         n, n, net->mac[0], net->mac[1], net->mac[2], net->mac[3], net->mac[4], net->mac[5], boot);
    return TRUE;
}

static void
add_chardev(GPtrArray *argv, const struct chr_def *chr, const char *id, const char *unix_path)
{
    GString *s = g_string_new(NULL);
    switch (chr->type) {
    case CHR_TYPE_PTY:
        g_string_append_printf(s, "pty,id=%s", id);
        break;
    case CHR_TYPE_FILE: {
        g_autofree char *p = escape(chr->source_path);
        g_string_append_printf(s, "file,id=%s,path=%s", id, p);
        break;
    }
    case CHR_TYPE_UNIX: {
        g_autofree char *p = escape(unix_path);
        g_string_append_printf(s, "socket,id=%s,path=%s,server=on,wait=off", id, p);
        break;
    }
    case CHR_TYPE_NULL:
        g_string_append_printf(s, "null,id=%s", id);
        break;
    }
    if (chr->log_file) {
        g_autofree char *p = escape(chr->log_file);
        g_string_append_printf(s, ",logfile=%s,logappend=%s", p, chr->log_append ? "on" : "off");
    }
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_string_free(s, FALSE));
}

char *
qemu_command_channel_path(const struct domain_def *def, const struct chr_def *chr,
                          const char *channel_dir)
{
    if (chr->source_path)
        return g_strdup(chr->source_path);
    return g_strdup_printf("%s/%s.%s", channel_dir, def->name,
                           chr->target_name ? chr->target_name : "channel");
}

static gboolean
add_chr_devices(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts,
                GError **error)
{
    gboolean virtio_serial = FALSE;
    for (guint i = 0; i < def->controllers->len; i++)
        if (g_str_equal(((struct controller_def *)def->controllers->pdata[i])->type,
                        "virtio-serial"))
            virtio_serial = TRUE;
    for (guint i = 0; i < def->serials->len; i++) {
        struct chr_def *chr = def->serials->pdata[i];
        g_autofree char *id = g_strdup_printf("charserial%u", i);
        /* a console of target serial is serial 0: it carries the console's log file */
        struct chr_def tmp = *chr;
        if (i == 0 && !chr->log_file) {
            for (guint j = 0; j < def->consoles->len; j++) {
                struct chr_def *con = def->consoles->pdata[j];
                if ((!con->target_type || g_str_equal(con->target_type, "serial")) &&
                    con->log_file) {
                    tmp.log_file = con->log_file;
                    tmp.log_append = con->log_append;
                }
            }
        }
        add_chardev(argv, &tmp, id, chr->source_path);
        addf(argv, "-device", "isa-serial,chardev=%s,id=serial%u", id, i);
    }
    guint nvcon = 0;
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *con = def->consoles->pdata[i];
        if (!con->target_type || !g_str_equal(con->target_type, "virtio"))
            continue;
        if (!virtio_serial) {
            addf(argv, "-device", "virtio-serial-pci,id=virtio-serial0");
            virtio_serial = TRUE;
        }
        g_autofree char *id = g_strdup_printf("charconsole%u", i);
        add_chardev(argv, con, id, con->source_path);
        addf(argv, "-device", "virtconsole,chardev=%s,id=console%u", id, nvcon++);
    }
    for (guint i = 0; i < def->channels->len; i++) {
        struct chr_def *ch = def->channels->pdata[i];
        if (!ch->target_type || !g_str_equal(ch->target_type, "virtio")) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "channel target type '%s' is not supported; use 'virtio'",
                    ch->target_type ? ch->target_type : "");
            return FALSE;
        }
        if (!virtio_serial) {
            addf(argv, "-device", "virtio-serial-pci,id=virtio-serial0");
            virtio_serial = TRUE;
        }
        g_autofree char *id = g_strdup_printf("charchannel%u", i);
        g_autofree char *path = qemu_command_channel_path(def, ch, opts->channel_dir);
        add_chardev(argv, ch, id, path);
        g_autofree char *name = ch->target_name ? escape(ch->target_name) : NULL;
        addf(argv, "-device",
             "virtserialport,bus=virtio-serial0.0,nr=%u,chardev=%s,id=channel%u%s%s", i + 1, id, i,
             name ? ",name=" : "", name ? name : "");
    }
    return TRUE;
}

static gboolean
add_inputs_graphics(GPtrArray *argv, const struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->inputs->len; i++) {
        struct input_def *in = def->inputs->pdata[i];
        static const char *const names[] = {"tablet", "mouse", "kbd"};
        if (in->bus == INPUT_BUS_PS2)
            continue; /* built into the i8042 of pc and q35 */
        if (in->bus == INPUT_BUS_USB)
            addf(argv, "-device", "usb-%s,id=input%u,bus=usb.0", names[in->type], i);
        else
            addf(argv, "-device", "virtio-%s-pci,id=input%u",
                 in->type == INPUT_TYPE_KEYBOARD ? "keyboard" : names[in->type], i);
    }
    if (def->graphics->len > 1) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "only one <graphics> device is supported");
        return FALSE;
    }
    if (def->graphics->len == 0)
        addf(argv, "-display", "none");
    if (def->graphics->len == 1) {
        struct graphics_def *g = def->graphics->pdata[0];
        const char *listen = g->listen ? g->listen : "127.0.0.1";
        g_autofree char *host =
            strchr(listen, ':') ? g_strdup_printf("[%s]", listen) : g_strdup(listen);
        GString *v = g_string_new(NULL);
        if (g->autoport || g->port < 0)
            g_string_append_printf(v, "%s:0,to=100", host);
        else if (g->port >= 5900 && g->port <= 65535)
            g_string_append_printf(v, "%s:%d", host, g->port - 5900);
        else {
            g_string_free(v, TRUE);
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "vnc port %d is out of range; use 5900-65535 or autoport", g->port);
            return FALSE;
        }
        if (g->passwd)
            g_string_append(v, ",password=on");
        g_ptr_array_add(argv, g_strdup("-vnc"));
        g_ptr_array_add(argv, g_string_free(v, FALSE));
        if (g->keymap)
            addf(argv, "-k", "%s", g->keymap);
    }
    for (guint i = 0; i < def->videos->len; i++) {
        struct video_def *v = def->videos->pdata[i];
        const char *m = v->model ? v->model : "vga";
        const char *dev = g_str_equal(m, "cirrus")   ? "cirrus-vga"
                          : g_str_equal(m, "vga")    ? "VGA"
                          : g_str_equal(m, "virtio") ? (i == 0 ? "virtio-vga" : "virtio-gpu-pci")
                          : g_str_equal(m, "qxl")    ? (i == 0 ? "qxl-vga" : "qxl")
                          : g_str_equal(m, "bochs")  ? "bochs-display"
                          : g_str_equal(m, "none")   ? ""
                                                     : NULL;
        if (!dev) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "video model '%s' is not supported; use 'vga', 'cirrus', 'virtio', 'qxl', "
                    "'bochs' or 'none'",
                    m);
            return FALSE;
        }
        if (*dev)
            addf(argv, "-device", "%s,id=video%u", dev, i);
    }
    return TRUE;
}

static gboolean
add_other_devices(GPtrArray *argv, const struct domain_def *def, GError **error)
{
    if (def->sounds->len > 0)
        addf(argv, "-audiodev", "none,id=audio1");
    for (guint i = 0; i < def->sounds->len; i++) {
        struct sound_def *s = def->sounds->pdata[i];
        if (g_str_equal(s->model, "ac97"))
            addf(argv, "-device", "AC97,id=sound%u,audiodev=audio1", i);
        else if (g_str_equal(s->model, "es1370"))
            addf(argv, "-device", "ES1370,id=sound%u,audiodev=audio1", i);
        else if (g_str_equal(s->model, "ich6") || g_str_equal(s->model, "ich9")) {
            addf(argv, "-device", "%s,id=sound%u",
                 g_str_equal(s->model, "ich6") ? "intel-hda" : "ich9-intel-hda", i);
            addf(argv, "-device",
                 "hda-duplex,id=sound%u-codec0,bus=sound%u.0,cad=0,audiodev=audio1", i, i);
        } else {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "sound model '%s' is not supported; use 'ac97', 'ich6', 'ich9' or 'es1370'",
                    s->model);
            return FALSE;
        }
    }
    if (def->memballoon && def->memballoon->model && g_str_equal(def->memballoon->model, "virtio"))
        addf(argv, "-device", "virtio-balloon-pci,id=balloon0");
    for (guint i = 0; i < def->rngs->len; i++) {
        struct rng_def *r = def->rngs->pdata[i];
        g_autofree char *file = escape(r->backend ? r->backend : "/dev/urandom");
        addf(argv, "-object", "rng-random,id=objrng%u,filename=%s", i, file);
        addf(argv, "-device", "virtio-rng-pci,rng=objrng%u,id=rng%u", i, i);
    }
    if (def->panic_model) {
        if (!g_str_equal(def->panic_model, "isa")) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "panic model '%s' is not supported; use 'isa'", def->panic_model);
            return FALSE;
        }
        addf(argv, "-device", "pvpanic");
    }
    return TRUE;
}

GStrv
qemu_command_build(const struct domain_def *def, const struct qemu_command_opts *opts,
                   GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    char uuid[UUID_STRING_LEN];

    if (def->os_type && !g_str_equal(def->os_type, "hvm")) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "os type '%s' is not supported; use 'hvm'", def->os_type);
        return NULL;
    }
    add(argv, opts->emulator);
    add(argv, "-name");
    g_ptr_array_add(argv, qemu_command_name_arg(def->name));
    add(argv, "-S");
    add_machine(argv, def, opts);
    add_cpu_memory(argv, def, opts);
    addf(argv, "-uuid", "%s", uuid_format(def->uuid, uuid));
    add(argv, "-no-user-config");
    add(argv, "-nodefaults");
    addf(argv, "-chardev", "socket,id=charmonitor,fd=%d,server=on,wait=off",
         QEMU_COMMAND_MONITOR_FD);
    addf(argv, "-mon", "chardev=charmonitor,id=monitor,mode=control");
    add_clock_pm(argv, def);
    add(argv, "-no-shutdown");
    /* a guest reboot becomes a SHUTDOWN event the daemon acts on */
    if (def->on_reboot != DOMAIN_ACTION_RESTART)
        add(argv, "-no-reboot");
    add_boot(argv, def);

    gboolean usb;
    add_controllers(argv, def, &usb);
    for (guint i = 0; i < def->disks->len; i++)
        if (!add_disk(argv, def, def->disks->pdata[i], i, error))
            return NULL;
    for (guint i = 0; i < def->nets->len; i++)
        if (!add_net(argv, def->nets->pdata[i], i, error))
            return NULL;
    if (!add_chr_devices(argv, def, opts, error) || !add_inputs_graphics(argv, def, error) ||
        !add_other_devices(argv, def, error))
        return NULL;
    add(argv, "-msg");
    add(argv, "timestamp=on");
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_steal(argv, NULL);
}
