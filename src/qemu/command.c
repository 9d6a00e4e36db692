/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* command: libvirt-style argv. QEMU starts with -S and -no-shutdown so the daemon decides when
 * the guest runs and what a power-off means; the monitor arrives as an inherited socket fd so
 * the daemon can connect before QEMU even looks at it. Secrets (VNC passwords) are set later
 * over QMP, never placed here. */
#include "qemu/command.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "conf/cpu_map.h"
#include "qemu/address.h"
#include "qemu/device.h"
#include "util/err.h"

const char *
qemu_command_machine(const struct domain_def *def)
{
    return def->os_machine ? def->os_machine : "pc";
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

static void
add_machine(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts)
{
    GString *m = g_string_new(qemu_command_machine(def));
    g_string_append(m, ",usb=off,dump-guest-core=off");
    if (!def->acpi)
        g_string_append(m, ",acpi=off");
    if (def->vmport != DOMAIN_TRISTATE_ABSENT)
        g_string_append_printf(m, ",vmport=%s", def->vmport == DOMAIN_TRISTATE_YES ? "on" : "off");
    for (unsigned i = 0; i < def->ntimers; i++)
        if (g_str_equal(def->timers[i].name, "hpet") &&
            def->timers[i].present == DOMAIN_TRISTATE_NO)
            g_string_append(m, ",hpet=off");
    g_ptr_array_add(argv, g_strdup("-machine"));
    g_ptr_array_add(argv, g_string_free(m, FALSE));
    addf(argv, "-accel", "%s", opts->kvm ? "kvm" : "tcg");
}

/* "-device JSON" (and friends) for OBJ, which is consumed. */
static void
add_json(GPtrArray *argv, const char *opt, JsonObject *obj)
{
    g_ptr_array_add(argv, g_strdup(opt));
    g_ptr_array_add(argv, qemu_device_json(obj));
    json_object_unref(obj);
}

/* The model -cpu names (or what a mode stands for); NULL: QEMU's default */
static const char *
cpu_model(const struct domain_def *def, const struct qemu_command_opts *opts)
{
    const char *mode = def->cpu_mode ? def->cpu_mode : "custom";
    return g_str_equal(mode, "host-passthrough") || g_str_equal(mode, "host-model")
               ? (opts->kvm ? "host" : "max")
           : g_str_equal(mode, "maximum") ? "max"
                                          : def->cpu_model;
}

static const char *
default_cpu_model(const struct domain_def *def)
{
    return g_strcmp0(def->os_arch, "i686") == 0 ? "qemu32" : "qemu64";
}

/* -cpu: the model and the features the definition turns on or off, as libvirt writes them
 * (an optional feature is left to the model) */
static void
add_cpu(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts)
{
    const char *model = cpu_model(def, opts);
    /* features without a model go on QEMU's default model, as libvirt puts them */
    if (!model && def->cpu_features->len)
        model = default_cpu_model(def);
    if (!model)
        return;
    GString *cpu = g_string_new(model);
    for (guint i = 0; i < def->cpu_features->len; i++) {
        const struct cpu_feature_def *f = def->cpu_features->pdata[i];
        const char *name = cpu_map_feature_to_qemu(f->name);
        if (g_str_equal(f->policy, "force") || g_str_equal(f->policy, "require"))
            g_string_append_printf(cpu, ",%s=on", name);
        else if (g_str_equal(f->policy, "disable") || g_str_equal(f->policy, "forbid"))
            g_string_append_printf(cpu, ",%s=off", name);
    }
    g_ptr_array_add(argv, g_strdup("-cpu"));
    g_ptr_array_add(argv, g_string_free(cpu, FALSE));
}

/* The online hot-pluggable vCPUs, each a device in its slot as QEMU numbers them (thread,
 * then core, die and socket), in their order: what libvirt plugs right after start, so a
 * vCPU plugged live is a device again after migration or restore */
static void
add_plugged_vcpus(GPtrArray *argv, const struct domain_def *def,
                  const struct qemu_command_opts *opts)
{
    g_autoptr(GArray) ids = domain_def_vcpus_plugged(def);
    if (!ids->len)
        return;
    const char *model = cpu_model(def, opts);
    g_autofree char *type =
        g_strdup_printf("%s-%s-cpu", model ? model : default_cpu_model(def),
                        g_str_has_suffix(opts->emulator, "i386") ? "i386" : "x86_64");
    unsigned threads = def->cpu_sockets ? def->cpu_threads : 1;
    unsigned cores = def->cpu_sockets ? def->cpu_cores : 1;
    unsigned dies = def->cpu_sockets ? def->cpu_dies : 1;
    for (guint i = 0; i < ids->len; i++) {
        unsigned id = g_array_index(ids, unsigned, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "driver", type);
        g_autofree char *alias = g_strdup_printf("vcpu%u", id);
        json_object_set_string_member(o, "id", alias);
        json_object_set_int_member(o, "socket-id", id / (threads * cores * dies));
        json_object_set_int_member(o, "die-id", id / (threads * cores) % dies);
        json_object_set_int_member(o, "core-id", id / threads % cores);
        json_object_set_int_member(o, "thread-id", id % threads);
        add_json(argv, "-device", o);
    }
}

static void
add_cpu_memory(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts)
{
    add_cpu(argv, def, opts);
    /* the memory the guest starts with: its modules come as devices */
    uint64_t initial = domain_def_memory_initial(def);
    if (def->max_memory_kib)
        addf(argv, "-m", "size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%" G_GUINT64_FORMAT "k",
             initial, def->max_memory_slots, def->max_memory_kib);
    else
        addf(argv, "-m", "size=%" G_GUINT64_FORMAT "k", initial);
    /* the <topology> asked for, else one core per socket; QEMU starts with the vCPUs that
     * are not hot-pluggable */
    unsigned boot = domain_def_vcpus_boot(def);
    if (def->cpu_sockets)
        addf(argv, "-smp", "%u,maxcpus=%u,sockets=%u,dies=%u,cores=%u,threads=%u", boot, def->vcpus,
             def->cpu_sockets, def->cpu_dies, def->cpu_cores, def->cpu_threads);
    else
        addf(argv, "-smp", "%u,maxcpus=%u,sockets=%u,cores=1,threads=1", boot, def->vcpus,
             def->vcpus);
    add_plugged_vcpus(argv, def, opts);
    /* the IOThreads, as libvirt places them: right after -smp */
    for (guint i = 0; i < def->iothreads->len; i++)
        add_json(argv, "-object",
                 qemu_device_iothread(((struct iothread_def *)def->iothreads->pdata[i])->id));
    /* each NUMA cell its own RAM (QEMU 7.2's machine types need memdev=) */
    for (guint i = 0; i < def->numa_cells->len; i++) {
        const struct numa_cell_def *cell = def->numa_cells->pdata[i];
        add_json(argv, "-object", qemu_device_numa_backend(def, cell));
        GString *n = g_string_new(NULL);
        g_string_append_printf(n, "node,nodeid=%u", cell->id);
        g_auto(GStrv) ranges = cell->cpus ? g_strsplit(cell->cpus, ",", -1) : NULL;
        for (guint r = 0; ranges && ranges[r]; r++)
            g_string_append_printf(n, ",cpus=%s", ranges[r]);
        g_string_append_printf(n, ",memdev=ram-node%u", cell->id);
        g_ptr_array_add(argv, g_strdup("-numa"));
        g_ptr_array_add(argv, g_string_free(n, FALSE));
    }
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
    const char *pm = qemu_address_is_q35(def) ? "ICH9-LPC" : "PIIX4_PM";
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
    if (domain_def_devices_have_boot_order(def)) {
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

static gint
compare_pci_index(gconstpointer a, gconstpointer b)
{
    const struct controller_def *x = *(struct controller_def *const *)a;
    const struct controller_def *y = *(struct controller_def *const *)b;
    return x->index - y->index;
}

/* PCI controllers first, by index, so each bus exists before what plugs into it; then the
 * others, a USB2 controller before its companions. */
static gboolean
add_controllers(GPtrArray *argv, const struct domain_def *def, GError **error)
{
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "pci"))
            g_ptr_array_add(order, c);
    }
    g_ptr_array_sort(order, compare_pci_index);
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < def->controllers->len; i++) {
            struct controller_def *c = def->controllers->pdata[i];
            if (!g_str_equal(c->type, "pci") && (c->master_startport >= 0) == (pass == 1))
                g_ptr_array_add(order, c);
        }
    }
    for (guint i = 0; i < order->len; i++) {
        g_autoptr(GError) err = NULL;
        JsonObject *o = qemu_device_controller(def, order->pdata[i], &err);
        if (err) {
            g_propagate_error(error, g_steal_pointer(&err));
            return FALSE;
        }
        if (o)
            add_json(argv, "-device", o);
    }
    return TRUE;
}

static gboolean
add_disk(GPtrArray *argv, const struct domain_def *def, const struct disk_def *d, const char *aio,
         GError **error)
{
    JsonObject *dev = qemu_device_disk(def, d, error);
    if (!dev)
        return FALSE;
    g_autoptr(GPtrArray) nodes = qemu_device_disk_blockdevs(d, aio);
    for (guint i = 0; i < nodes->len; i++)
        add_json(argv, "-blockdev", json_object_ref(nodes->pdata[i]));
    add_json(argv, "-device", dev);
    return TRUE;
}

static gboolean
add_net(GPtrArray *argv, const struct domain_def *def, const struct qemu_command_opts *opts,
        const struct net_def *net, GError **error)
{
    gpointer fd = opts->tap_fds && net->info.alias
                      ? g_hash_table_lookup(opts->tap_fds, net->info.alias)
                      : NULL;
    JsonObject *netdev = qemu_device_netdev(net, fd ? GPOINTER_TO_INT(fd) : -1, error);
    if (!netdev)
        return FALSE;
    JsonObject *dev = qemu_device_net(def, net, error);
    if (!dev) {
        json_object_unref(netdev);
        return FALSE;
    }
    add_json(argv, "-netdev", netdev);
    add_json(argv, "-device", dev);
    return TRUE;
}

static void
add_chardev(GPtrArray *argv, const struct qemu_command_opts *opts, const struct chr_def *chr,
            const char *id, const char *unix_path)
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
        /* a listening socket the daemon made: QEMU inherits it, as libvirt passes it */
        gpointer fd = opts->chardev_fds ? g_hash_table_lookup(opts->chardev_fds, id) : NULL;
        g_autofree char *p = escape(unix_path);
        if (fd)
            g_string_append_printf(s, "socket,id=%s,fd=%d,server=on,wait=off", id,
                                   GPOINTER_TO_INT(fd));
        else if (qemu_command_chardev_listens(chr))
            g_string_append_printf(s, "socket,id=%s,path=%s,server=on,wait=off", id, p);
        else
            g_string_append_printf(s, "socket,id=%s,path=%s", id, p);
        break;
    }
    case CHR_TYPE_NULL:
        g_string_append_printf(s, "null,id=%s", id);
        break;
    case CHR_TYPE_SPICEVMC:
        /* the SPICE agent's channel */
        g_string_append_printf(s, "spicevmc,id=%s,name=vdagent", id);
        break;
    }
    if (chr->log_file) {
        g_autofree char *p = escape(chr->log_file);
        g_string_append_printf(s, ",logfile=%s,logappend=%s", p, chr->log_append ? "on" : "off");
    }
    g_ptr_array_add(argv, g_strdup("-chardev"));
    g_ptr_array_add(argv, g_string_free(s, FALSE));
}

gboolean
qemu_command_chardev_listens(const struct chr_def *chr)
{
    return chr->type == CHR_TYPE_UNIX &&
           !(chr->source_mode && g_str_equal(chr->source_mode, "connect"));
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
    for (guint i = 0; i < def->serials->len; i++) {
        struct chr_def *chr = def->serials->pdata[i];
        g_autofree char *id = qemu_device_chardev_id(chr);
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
        add_chardev(argv, opts, &tmp, id, chr->source_path);
        add_json(argv, "-device", qemu_device_serial(chr));
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *con = def->consoles->pdata[i];
        if (!con->target_type || !g_str_equal(con->target_type, "virtio"))
            continue;
        g_autofree char *id = qemu_device_chardev_id(con);
        add_chardev(argv, opts, con, id, con->source_path);
        add_json(argv, "-device", qemu_device_virtio_port(def, con, TRUE));
    }
    for (guint i = 0; i < def->channels->len; i++) {
        struct chr_def *ch = def->channels->pdata[i];
        if (!ch->target_type || !g_str_equal(ch->target_type, "virtio")) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "channel target type '%s' is not supported; use 'virtio'",
                    ch->target_type ? ch->target_type : "");
            return FALSE;
        }
        g_autofree char *id = qemu_device_chardev_id(ch);
        g_autofree char *path = qemu_command_channel_path(def, ch, opts->channel_dir);
        add_chardev(argv, opts, ch, id, path);
        add_json(argv, "-device", qemu_device_virtio_port(def, ch, FALSE));
    }
    return TRUE;
}

static gboolean
add_inputs_graphics(GPtrArray *argv, const struct domain_def *def, GError **error)
{
    for (guint i = 0; i < def->inputs->len; i++) {
        JsonObject *o = qemu_device_input(def, def->inputs->pdata[i]);
        if (o)
            add_json(argv, "-device", o);
    }
    if (def->graphics->len > 1) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "only one <graphics> device is supported");
        return FALSE;
    }
    if (def->graphics->len == 0)
        addf(argv, "-display", "none");
    if (def->graphics->len == 1 &&
        ((struct graphics_def *)def->graphics->pdata[0])->type == GRAPHICS_TYPE_SPICE) {
        /* SPICE: the port is chosen before (QEMU's SPICE server takes a fixed one); with a
         * password, tickets stay on and the password comes over QMP */
        struct graphics_def *g = def->graphics->pdata[0];
        if (g->port < 1 || g->port > 65535) {
            err_set(error, ERR_FROM_QEMU, ERR_INTERNAL_ERROR, "no SPICE port chosen");
            return FALSE;
        }
        GString *v = g_string_new(NULL);
        g_string_append_printf(v, "port=%d,addr=%s", g->port, g->listen ? g->listen : "127.0.0.1");
        if (!g->passwd)
            g_string_append(v, ",disable-ticketing=on");
        if (g->image_compression)
            g_string_append_printf(v, ",image-compression=%s", g->image_compression);
        g_string_append(v, ",seamless-migration=on");
        g_ptr_array_add(argv, g_strdup("-spice"));
        g_ptr_array_add(argv, g_string_free(v, FALSE));
    } else if (def->graphics->len == 1) {
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
        g_autoptr(GError) err = NULL;
        JsonObject *o = qemu_device_video(def, def->videos->pdata[i], i == 0, &err);
        if (err) {
            g_propagate_error(error, g_steal_pointer(&err));
            return FALSE;
        }
        if (o)
            add_json(argv, "-device", o);
    }
    return TRUE;
}

static gboolean
add_other_devices(GPtrArray *argv, const struct domain_def *def, GError **error)
{
    if (def->sounds->len > 0)
        addf(argv, "-audiodev", "%s,id=audio1", def->audio_spice ? "spice" : "none");
    for (guint i = 0; i < def->sounds->len; i++) {
        g_autoptr(GPtrArray) devs = qemu_device_sound(def, def->sounds->pdata[i], "audio1", error);
        if (!devs)
            return FALSE;
        for (guint j = 0; j < devs->len; j++)
            add_json(argv, "-device", json_object_ref(devs->pdata[j]));
    }
    if (def->memballoon) {
        JsonObject *o = qemu_device_memballoon(def, def->memballoon);
        if (o)
            add_json(argv, "-device", o);
    }
    for (guint i = 0; i < def->rngs->len; i++) {
        add_json(argv, "-object", qemu_device_rng_backend(def->rngs->pdata[i]));
        add_json(argv, "-device", qemu_device_rng(def, def->rngs->pdata[i]));
    }
    for (guint i = 0; i < def->hostdevs->len; i++)
        add_json(argv, "-device", qemu_device_hostdev(def, def->hostdevs->pdata[i]));
    for (guint i = 0; i < def->redirdevs->len; i++) {
        const struct redirdev_def *r = def->redirdevs->pdata[i];
        addf(argv, "-chardev", "spicevmc,id=char%s,name=usbredir", r->info.alias);
        add_json(argv, "-device", qemu_device_redirdev(def, r));
    }
    for (guint i = 0; i < def->memdevs->len; i++) {
        add_json(argv, "-object", qemu_device_dimm_backend(def, def->memdevs->pdata[i]));
        add_json(argv, "-device", qemu_device_dimm(def, def->memdevs->pdata[i]));
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

    if (!add_controllers(argv, def, error))
        return NULL;
    for (guint i = 0; i < def->disks->len; i++)
        if (!add_disk(argv, def, def->disks->pdata[i], opts->disk_aio, error))
            return NULL;
    for (guint i = 0; i < def->nets->len; i++)
        if (!add_net(argv, def, opts, def->nets->pdata[i], error))
            return NULL;
    if (!add_chr_devices(argv, def, opts, error) || !add_inputs_graphics(argv, def, error) ||
        !add_other_devices(argv, def, error))
        return NULL;
    add(argv, "-msg");
    add(argv, "timestamp=on");
    if (opts->loadvm) {
        add(argv, "-loadvm");
        add(argv, opts->loadvm);
    }
    if (opts->incoming) {
        /* the state comes through a descriptor the daemon passes (getfd, migrate-incoming) */
        add(argv, "-incoming");
        add(argv, "defer");
    }
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_steal(argv, NULL);
}
