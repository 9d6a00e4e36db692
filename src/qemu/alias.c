/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alias: libvirt's device names (qemu_alias.c), given at start to every device without one. */
#include "qemu/alias.h"

#include "qemu/address.h"

static char *
controller_alias(const struct domain_def *def, const struct controller_def *c)
{
    if (g_str_equal(c->type, "pci"))
        return c->model && g_str_equal(c->model, "pcie-root") ? g_strdup_printf("pcie.%d", c->index)
                                                              : g_strdup_printf("pci.%d", c->index);
    /* QEMU's built-in controllers have fixed ids: the PIIX3's IDE and the q35's AHCI are both
     * "ide" */
    if (c->index == 0 &&
        (g_str_equal(c->type, "ide") || (g_str_equal(c->type, "sata") && qemu_address_is_q35(def))))
        return g_strdup("ide");
    if (c->index == 0 && g_str_equal(c->type, "usb"))
        return g_strdup("usb");
    return g_strdup_printf("%s%d", c->type, c->index);
}

static gboolean
scsi_is_lsi(const struct domain_def *def, unsigned index)
{
    const char *m = NULL;
    for (guint i = 0; i < def->controllers->len; i++) {
        const struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, "scsi") && c->index == (int)index)
            m = c->model;
    }
    return m && g_str_equal(m, "lsilogic");
}

static char *
disk_alias(const struct domain_def *def, const struct disk_def *d)
{
    if (d->bus == DISK_BUS_VIRTIO)
        return g_strdup_printf("virtio-disk%d", disk_target_index(d->target_dev));
    if (d->bus == DISK_BUS_USB)
        return g_strdup_printf("usb-disk%d", disk_target_index(d->target_dev));
    const struct domain_address *a = d->info.address;
    unsigned controller = domain_address_get_uint(a, "controller", 0);
    unsigned bus = domain_address_get_uint(a, "bus", 0);
    unsigned target = domain_address_get_uint(a, "target", 0);
    unsigned unit = domain_address_get_uint(a, "unit", 0);
    const char *prefix = disk_bus_to_string(d->bus);
    if (d->bus == DISK_BUS_SCSI && !scsi_is_lsi(def, controller))
        return g_strdup_printf("%s%u-%u-%u-%u", prefix, controller, bus, target, unit);
    return g_strdup_printf("%s%u-%u-%u", prefix, controller, bus, unit);
}

/* PREFIX and the lowest number no alias in TAKEN has yet. */
static char *
next_indexed(GHashTable *taken, const char *prefix)
{
    for (unsigned n = 0;; n++) {
        g_autofree char *alias = g_strdup_printf("%s%u", prefix, n);
        if (!g_hash_table_contains(taken, alias))
            return g_steal_pointer(&alias);
    }
}

static void
give(GHashTable *taken, struct device_info *info, char *alias)
{
    info->alias = alias;
    g_hash_table_add(taken, info->alias);
}

#define EACH_INFO(array, type, var)                                                                \
    for (guint var##_i = 0; var##_i < (array)->len; var##_i++)                                     \
        for (struct device_info *var = &((type *)(array)->pdata[var##_i])->info; var; var = NULL)

void
qemu_alias_assign(struct domain_def *def)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) infos = domain_def_infos(def);
    for (guint i = 0; i < infos->len; i++) {
        struct device_info *info = infos->pdata[i];
        if (info->alias)
            g_hash_table_add(taken, info->alias);
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        struct controller_def *c = def->controllers->pdata[i];
        if (!c->info.alias)
            give(taken, &c->info, controller_alias(def, c));
    }
    for (guint i = 0; i < def->disks->len; i++) {
        struct disk_def *d = def->disks->pdata[i];
        if (!d->info.alias)
            give(taken, &d->info, disk_alias(def, d));
    }
    EACH_INFO(def->nets, struct net_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "net"));
    EACH_INFO(def->serials, struct chr_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "serial"));
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *c = def->consoles->pdata[i];
        if (c->info.alias)
            continue;
        /* the console of target serial is the first serial port, under its name */
        if (i == 0 && g_str_equal(c->target_type, "serial") && def->serials->len)
            c->info.alias = g_strdup(((struct chr_def *)def->serials->pdata[0])->info.alias);
        else
            give(taken, &c->info, next_indexed(taken, "console"));
    }
    EACH_INFO(def->channels, struct chr_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "channel"));
    EACH_INFO(def->inputs, struct input_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "input"));
    EACH_INFO(def->sounds, struct sound_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "sound"));
    EACH_INFO(def->videos, struct video_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "video"));
    if (def->memballoon && !def->memballoon->info.alias)
        give(taken, &def->memballoon->info, next_indexed(taken, "balloon"));
    EACH_INFO(def->rngs, struct rng_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "rng"));
    EACH_INFO(def->hostdevs, struct hostdev_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "hostdev"));
    EACH_INFO(def->redirdevs, struct redirdev_def, info)
    if (!info->alias)
        give(taken, info, next_indexed(taken, "redir"));
    /* a memory module by its slot (assigned with the addresses), as its QEMU id says; a
     * virtio-mem device in order */
    for (guint i = 0; i < def->memdevs->len; i++) {
        struct memdev_def *m = def->memdevs->pdata[i];
        if (m->model == MEMDEV_VIRTIO_MEM) {
            if (!m->info.alias)
                give(taken, &m->info, next_indexed(taken, "virtiomem"));
            continue;
        }
        int slot = domain_def_memdev_slot(m);
        g_autofree char *alias = g_strdup_printf("dimm%d", slot);
        if (!m->info.alias)
            give(taken, &m->info,
                 slot >= 0 && !g_hash_table_contains(taken, alias) ? g_steal_pointer(&alias)
                                                                   : next_indexed(taken, "dimm"));
    }
}

const char *
qemu_alias_controller(const struct domain_def *def, const char *type, unsigned index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const struct controller_def *c = def->controllers->pdata[i];
        if (g_str_equal(c->type, type) && c->index == (int)index)
            return c->info.alias;
    }
    return NULL;
}

const char *
qemu_alias_pci_bus(const struct domain_def *def, unsigned bus)
{
    return qemu_alias_controller(def, "pci", bus);
}
