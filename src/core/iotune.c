/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iotune: a disk's I/O throttling (virDomainSetBlockIoTune / GetBlockIoTune, virsh
 * blkdeviotune); prefix core_domain_. QEMU's block_set_io_throttle on the disk's device, then
 * the live definition; and/or the persistent one. Given fields replace the disk's; the others
 * stay, as in libvirt. */
#include "core/core.h"

#include <string.h>

#include "core/guest.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"

/* The disk of DEF that NAME names: its target or its source path */
static struct disk_def *
find(const struct domain_def *def, const char *name, GError **error)
{
    struct disk_def *d = name ? domain_def_find_disk(def, name) : NULL;
    for (guint i = 0; name && !d && i < def->disks->len; i++) {
        struct disk_def *x = def->disks->pdata[i];
        if (g_strcmp0(x->source, name) == 0)
            d = x;
    }
    if (!d)
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "domain '%s' has no disk '%s'; name it by its target (vda) or its source path",
                def->name, name ? name : "");
    return d;
}

gboolean
core_domain_get_iotune(struct domain *dom, const char *disk, unsigned flags,
                       struct disk_iotune *ret, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if ((flags & 1) && (flags & 2)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive");
        return FALSE;
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    const struct disk_def *d = find(live ? dom->def : core_persistent_def(dom), disk, error);
    if (!d)
        return FALSE;
    *ret = d->iotune;
    ret->group_name = g_strdup(d->iotune.group_name);
    return TRUE;
}

static void
merge(struct disk_iotune *into, const struct disk_iotune *want, guint64 given, gboolean group)
{
    for (int i = 0; i < DISK_IOTUNE_FIELDS; i++)
        if (given & (G_GUINT64_CONSTANT(1) << i))
            into->v[i] = want->v[i];
    if (group) {
        g_free(into->group_name);
        into->group_name =
            want->group_name && *want->group_name ? g_strdup(want->group_name) : NULL;
    }
}

struct iotune_call {
    struct domain *dom;
    char *target;
    struct disk_iotune want;
    guint64 given;
    gboolean group, config;
    core_done_fn done;
    gpointer data;
};

static void
iotune_call_end(struct iotune_call *ic, GError *error)
{
    ic->done(error, ic->data);
    if (error)
        g_error_free(error);
    core_domain_unref(ic->dom);
    g_free(ic->target);
    g_free(ic->want.group_name);
    g_free(ic);
}

static gboolean
set_config(struct iotune_call *ic, GError **error)
{
    struct domain_def *copy = domain_def_copy(core_persistent_def(ic->dom));
    struct disk_def *d = find(copy, ic->target, error);
    if (!d) {
        domain_def_free(copy);
        return FALSE;
    }
    merge(&d->iotune, &ic->want, ic->given, ic->group);
    if (!domain_def_iotune_check(&d->iotune, error)) {
        domain_def_free(copy);
        return FALSE;
    }
    return core_domain_keep_config(ic->dom, copy, error);
}

static void
on_throttle(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct iotune_call *ic = data;
    GError *e = error ? g_error_copy(error) : NULL;
    struct disk_def *d = !e ? find(ic->dom->def, ic->target, &e) : NULL;
    if (d) {
        merge(&d->iotune, &ic->want, ic->given, ic->group);
        /* libvirt's tunable event: the disk and its whole throttle */
        g_autoptr(GPtrArray) params = typed_params_new();
        typed_params_add_string(params, "blkdeviotune.disk", d->target_dev);
        for (int i = 0; i < DISK_IOTUNE_FIELDS; i++) {
            g_autofree char *field = g_strdup_printf("blkdeviotune.%s", disk_iotune_names[i]);
            typed_params_add_ullong(params, field, d->iotune.v[i]);
        }
        if (d->iotune.group_name)
            typed_params_add_string(params, "blkdeviotune.group_name", d->iotune.group_name);
        core_domain_emit_tunable(ic->dom, params);
        ic->dom->updated = TRUE;
        GError *w = NULL;
        if (!core_status_write(ic->dom, &w)) {
            log_warn("%s: %s", ic->dom->def->name, w->message);
            g_error_free(w);
        }
        if (ic->config)
            set_config(ic, &e);
    }
    iotune_call_end(ic, e);
}

void
core_domain_set_iotune(struct domain *dom, const char *disk, unsigned flags,
                       const struct disk_iotune *want, guint64 given, gboolean group,
                       core_done_fn done, gpointer data)
{
    GError *error = NULL;
    gboolean live = FALSE, config = FALSE;
    struct iotune_call *ic = g_new0(struct iotune_call, 1);
    ic->dom = core_domain_ref(dom);
    ic->target = g_strdup(disk);
    ic->want = *want;
    ic->want.group_name = g_strdup(want->group_name);
    ic->given = given;
    ic->group = group;
    ic->done = done;
    ic->data = data;
    if (!core_domain_impact(dom, flags, &live, &config, &error)) {
        iotune_call_end(ic, error);
        return;
    }
    ic->config = config;
    if (!live) {
        set_config(ic, &error);
        iotune_call_end(ic, error);
        return;
    }
    struct disk_def *d = find(dom->def, disk, &error);
    if (!d || !dom->mon) {
        if (!error)
            err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                    dom->def->name);
        iotune_call_end(ic, error);
        return;
    }
    if (!d->source) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "disk '%s' of domain '%s' has no medium to throttle", d->target_dev,
                dom->def->name);
        iotune_call_end(ic, error);
        return;
    }
    /* the whole set goes to QEMU: the disk's fields with the given ones over them */
    struct disk_def next = *d;
    next.iotune.group_name = d->iotune.group_name;
    struct disk_iotune merged = d->iotune;
    merged.group_name = g_strdup(d->iotune.group_name);
    merge(&merged, want, given, group);
    next.iotune = merged;
    if (!domain_def_iotune_check(&merged, &error)) {
        g_free(merged.group_name);
        iotune_call_end(ic, error);
        return;
    }
    JsonObject *args = qemu_device_iotune_args(&next);
    g_free(merged.group_name);
    qmp_command(dom->mon, "block_set_io_throttle", args, on_throttle, ic);
}
