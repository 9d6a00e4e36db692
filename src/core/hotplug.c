/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hotplug: devices attached to and detached from a domain, a cdrom's media changed and a
 * disk grown; prefix core_domain_ (the operations) and core_hotplug_ (QEMU's late word).
 *
 * The live side is a job that sends QEMU a list of commands, each with what takes it back:
 * when one fails, those before it are undone in reverse, so a failed plug leaves nothing in
 * QEMU and nothing in the definitions. The live definition changes only once QEMU did, the
 * persistent one only once the live side succeeded (it is checked before anything runs).
 *
 * An unplug asks the guest (device_del) and waits for QEMU's DEVICE_DELETED up to
 * UNPLUG_WAIT_S, as libvirt does: in time, the device's backends go and the call returns;
 * later, the call returns anyway (the device stays in the live XML meanwhile) and the
 * removal completes when the event comes. Either way DEVICE_REMOVED goes to clients then. */
#include "core/core.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain_device.h"
#include "core/job.h"
#include "core/lifecycle.h"
#include "core/network.h"
#include "core/storage.h"
#include "qemu/address.h"
#include "qemu/alias.h"
#include "qemu/device.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "storage/dir.h"
#include "util/err.h"
#include "util/log.h"

#define UNPLUG_WAIT_S 5

/* virDomainBlockResizeFlags */
enum { RESIZE_BYTES = 1 };

/* One QEMU command of a plan, and what undoes it (NULL: nothing). */
struct call {
    char *cmd;
    JsonObject *args;
    int fd; /* passed along (getfd); -1: none */
    char *undo;
    JsonObject *undo_args;
    gboolean tolerant; /* a failure is logged and the plan goes on (cleanup) */
};

static void
call_free(struct call *c)
{
    g_free(c->cmd);
    if (c->args)
        json_object_unref(c->args);
    if (c->fd >= 0)
        close(c->fd);
    g_free(c->undo);
    if (c->undo_args)
        json_object_unref(c->undo_args);
    g_free(c);
}

enum plug_kind { PLUG_ATTACH, PLUG_DETACH, PLUG_REMOVE, PLUG_MEDIA, PLUG_RESIZE };

struct plug_op {
    struct domain *dom;
    enum plug_kind kind;
    struct device_def *request; /* attach, detach, media: the device as the caller gave it */
    unsigned flags;             /* virDomainModificationImpact */
    gboolean live, config;
    struct domain_def *new_live;   /* attach, media: the live definition once QEMU did it */
    struct domain_def *new_config; /* the persistent definition to save; NULL: unchanged */
    char *alias;                   /* the device of the operation */
    char *what;                    /* "disk 'vdb'": for messages */
    GPtrArray *calls;              /* struct call * */
    guint next;                    /* the call in flight */
    guint done;                    /* calls that succeeded, from the first */
    gpointer wait;                 /* unplug: the DEVICE_DELETED wait */
    guint timer;
    gboolean deleted; /* unplug: QEMU's DEVICE_DELETED came */
    int tap_fd;       /* attach of an interface: its tap until QEMU has it */
    guint64 size;     /* resize: bytes */
};

static void
plug_op_free(gpointer data)
{
    struct plug_op *op = data;
    if (op->wait)
        core_device_wait_cancel(op->dom, op->wait);
    if (op->timer)
        g_source_remove(op->timer);
    if (op->tap_fd >= 0)
        close(op->tap_fd);
    domain_device_free(op->request);
    domain_def_free(op->new_live);
    domain_def_free(op->new_config);
    g_free(op->alias);
    g_free(op->what);
    g_ptr_array_unref(op->calls);
    core_domain_unref(op->dom);
    g_free(op);
}

static struct plug_op *
plug_op_new(struct domain *dom, enum plug_kind kind)
{
    struct plug_op *op = g_new0(struct plug_op, 1);
    op->dom = core_domain_ref(dom);
    op->kind = kind;
    op->tap_fd = -1;
    op->calls = g_ptr_array_new_with_free_func((GDestroyNotify)call_free);
    return op;
}

/* Adds CMD (ARGS consumed) to the plan; UNDO (UNDO_ARGS consumed) takes it back. */
static struct call *
plan(struct plug_op *op, const char *cmd, JsonObject *args, const char *undo, JsonObject *undo_args)
{
    struct call *c = g_new0(struct call, 1);
    c->cmd = g_strdup(cmd);
    c->args = args;
    c->fd = -1;
    c->undo = g_strdup(undo);
    c->undo_args = undo_args;
    g_ptr_array_add(op->calls, c);
    return c;
}

static JsonObject *
args_string(const char *key, const char *value)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, key, value);
    return o;
}

/* blockdev-add of each image node of DISK (backing first), each undone by blockdev-del. */
static void
plan_blockdevs_add(struct plug_op *op, const struct disk_def *disk)
{
    g_autoptr(GPtrArray) nodes =
        qemu_device_disk_blockdevs(disk, core_disk_aio(op->dom->core, op->dom->emulator));
    for (guint i = 0; i < nodes->len; i++) {
        JsonObject *node = nodes->pdata[i];
        const char *name = json_object_get_string_member(node, "node-name");
        plan(op, "blockdev-add", json_object_ref(node), "blockdev-del",
             args_string("node-name", name));
    }
}

/* blockdev-del of each image node of DISK, the top first; failures are logged only. */
static void
plan_blockdevs_del(struct plug_op *op, const struct disk_def *disk)
{
    g_autoptr(GPtrArray) nodes = qemu_device_disk_blockdevs(disk, NULL);
    for (guint i = nodes->len; i-- > 0;) {
        const char *name = json_object_get_string_member(nodes->pdata[i], "node-name");
        plan(op, "blockdev-del", args_string("node-name", name), NULL, NULL)->tolerant = TRUE;
    }
}

/* ---- running a plan ---- */

static void run_calls(struct job *job);

static void
on_call_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct plug_op *op = job->data;
    if (job->finished) {
        job_unref(job);
        return;
    }
    struct call *c = op->calls->pdata[op->next];
    if (error && !c->tolerant) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "%s: ", c->cmd);
        job_fail(job, e);
        job_unref(job);
        return;
    }
    if (error)
        log_warn("%s: %s: %s", op->dom->def->name, c->cmd, error->message);
    else
        op->done = op->next + 1;
    op->next++;
    run_calls(job);
    job_unref(job);
}

static void
run_calls(struct job *job)
{
    struct plug_op *op = job->data;
    if (op->next >= op->calls->len) {
        job_next(job);
        return;
    }
    struct domain *dom = op->dom;
    if (!state_is_active(dom->state) || !dom->mon) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        job_fail(job, error);
        return;
    }
    struct call *c = op->calls->pdata[op->next];
    JsonObject *args = c->args ? json_object_ref(c->args) : NULL;
    if (c->fd >= 0)
        qmp_command_fds(dom->mon, c->cmd, args, &c->fd, 1, on_call_reply, job_ref(job));
    else
        qmp_command(dom->mon, c->cmd, args, on_call_reply, job_ref(job));
}

/* Takes back, newest first, what the plan did before it failed. */
static void
undo_calls(struct plug_op *op)
{
    if (!op->dom->mon)
        return;
    for (guint i = op->done; i-- > 0;) {
        struct call *c = op->calls->pdata[i];
        if (c->undo)
            qmp_command(op->dom->mon, c->undo, c->undo_args ? json_object_ref(c->undo_args) : NULL,
                        NULL, NULL);
    }
}

static void
plug_abort(struct job *job)
{
    struct plug_op *op = job->data;
    GError *error = NULL;
    err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
            op->dom->def->name);
    job_fail(job, error);
}

/* Writes NEW_CONFIG (when the operation has one) as the persistent definition. */
static void
commit_config(struct job *job, struct plug_op *op)
{
    if (!op->new_config)
        return;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (!core_domain_keep_config(dom, g_steal_pointer(&op->new_config), &error)) {
        g_prefix_error(
            &error, "the live change of '%s' was made, not the persistent one: ", dom->def->name);
        job_set_error(job, error);
    }
}

static void
status_changed(struct domain *dom)
{
    GError *error = NULL;
    dom->updated = TRUE;
    if (!core_status_write(dom, &error)) {
        log_warn("%s: %s", dom->def->name, error->message);
        g_error_free(error);
    }
}

static char *
describe(const struct device_def *dev)
{
    switch (dev->kind) {
    case DEVICE_DISK:
        return g_strdup_printf("disk '%s'", dev->disk->target_dev);
    case DEVICE_NET:
        return g_strdup_printf("interface '%s'",
                               dev->net->info.alias ? dev->net->info.alias : "(new)");
    case DEVICE_INPUT:
        return g_strdup_printf("input '%s'", input_type_to_string(dev->input->type));
    case DEVICE_CONTROLLER:
        return g_strdup_printf("controller '%s'", dev->controller->type);
    case DEVICE_MEMORY:
        return g_strdup_printf("memory module of %" G_GUINT64_FORMAT " KiB",
                               (guint64)dev->memory->size_kib);
    }
    g_assert_not_reached();
}

/* Whether QEMU can plug (or unplug) DEV into a running machine, as libvirt allows it. */
static gboolean
check_pluggable(const struct domain_def *def, const struct device_def *dev, const char *verb,
                GError **error)
{
    const char *why = NULL;
    g_autofree char *what = describe(dev);
    switch (dev->kind) {
    case DEVICE_DISK:
        if (dev->disk->bus != DISK_BUS_VIRTIO && dev->disk->bus != DISK_BUS_SCSI &&
            dev->disk->bus != DISK_BUS_USB)
            why = "its bus cannot take devices while the guest runs; use bus 'virtio' or 'scsi'";
        break;
    case DEVICE_NET:
        break;
    case DEVICE_INPUT:
        if (dev->input->bus == INPUT_BUS_PS2)
            why = "a PS/2 device is part of the machine; use bus 'usb' or 'virtio'";
        break;
    case DEVICE_CONTROLLER:
        if (!g_str_equal(dev->controller->type, "scsi"))
            why = "only a SCSI controller can be";
        else if (g_strcmp0(dev->controller->model, "lsilogic") == 0)
            why = "only a virtio-scsi controller can be";
        for (guint i = 0; !why && i < def->disks->len; i++) {
            const struct disk_def *d = def->disks->pdata[i];
            if (d->bus == DISK_BUS_SCSI &&
                domain_address_get_uint(d->info.address, "controller", 0) ==
                    (unsigned)dev->controller->index &&
                g_str_equal(verb, "unplugged"))
                why = "a disk is still on it; detach its disks first";
        }
        break;
    case DEVICE_MEMORY:
        if (dev->memory->model == MEMDEV_VIRTIO_MEM && g_str_equal(verb, "unplugged"))
            why = "QEMU cannot unplug a virtio-mem device; set its requested size to 0 with "
                  "update-memory-device instead";
        break;
    }
    if (why) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "%s of domain '%s' cannot be hot-%s: %s; or change the persistent config with "
                "--config",
                what, def->name, verb, why);
        return FALSE;
    }
    if (domain_device_info(dev)->address &&
        domain_address_is(domain_device_info(dev)->address, "pci")) {
        struct pci_address a;
        domain_address_to_pci(domain_device_info(dev)->address, &a);
        if (a.multi == DOMAIN_TRISTATE_YES || a.function) {
            g_autofree char *addr = pci_address_to_string(&a);
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                    "cannot hot-%s %s with multifunction PCI address %s", verb, what, addr);
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- attach ---- */

/* The -device object of DEV as it sits in DEF. */
static JsonObject *
device_object(const struct domain_def *def, const struct device_def *dev, GError **error)
{
    switch (dev->kind) {
    case DEVICE_DISK:
        return qemu_device_disk(def, dev->disk, error);
    case DEVICE_NET:
        return qemu_device_net(def, dev->net, error);
    case DEVICE_INPUT:
        return qemu_device_input(def, dev->input);
    case DEVICE_CONTROLLER:
        return qemu_device_controller(def, dev->controller, error);
    case DEVICE_MEMORY:
        return qemu_device_dimm(def, dev->memory);
    }
    g_assert_not_reached();
}

/* DEV added to a copy of DEF with its address (ADDRESS_FROM's when given and free), as a
 * define completes it. *RET_INDEX: its place. New definition. */
static struct domain_def *
with_device(const struct domain_def *def, const struct device_def *dev,
            const struct device_info *address_from, guint *ret_index, GError **error)
{
    g_autoptr(domain_def) copy = domain_def_copy(def);
    guint index;
    if (!domain_device_add(copy, dev, &index, error))
        return NULL;
    struct device_def added = domain_device_at(copy, dev->kind, index);
    struct device_info *info = domain_device_info(&added);
    if (address_from && address_from->address && !info->address) {
        /* the same place in the config as in the live machine, when it is free there */
        g_autoptr(domain_def) try = domain_def_copy(copy);
        struct device_def tried = domain_device_at(try, dev->kind, index);
        struct device_info place = {0};
        device_info_copy(&place, address_from);
        g_clear_pointer(&place.alias, g_free);
        domain_device_info(&tried)->address = place.address;
        if (qemu_address_assign(try, NULL)) {
            *ret_index = index;
            return g_steal_pointer(&try);
        }
    }
    if (!qemu_address_assign(copy, error))
        return NULL;
    *ret_index = index;
    return g_steal_pointer(&copy);
}

/* What QEMU is told to plug DEV (at INDEX of its kind in LIVE, the live definition to be). */
static gboolean
plan_attach(struct plug_op *op, struct domain_def *live, enum device_kind kind, guint index,
            GError **error)
{
    struct domain *dom = op->dom;
    /* controllers a define would add come first: a SCSI one can be plugged, others not */
    for (guint i = 0; i < live->controllers->len; i++) {
        struct controller_def *c = live->controllers->pdata[i];
        if (qemu_alias_controller(dom->def, c->type, (unsigned)c->index))
            continue;
        if (!g_str_equal(c->type, "scsi") || g_strcmp0(c->model, "lsilogic") == 0) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                    "%s needs a new controller '%s'%s%s, which cannot be hot-plugged; add one "
                    "to the config (define, or attach-device --config) and restart '%s'",
                    op->what, c->type, c->model ? " of model " : "", c->model ? c->model : "",
                    dom->def->name);
            return FALSE;
        }
        JsonObject *obj = qemu_device_controller(live, c, error);
        if (!obj)
            return FALSE;
        plan(op, "device_add", obj, "device_del", args_string("id", c->info.alias));
    }
    struct device_def dev = domain_device_at(live, kind, index);
    if (kind == DEVICE_DISK)
        plan_blockdevs_add(op, dev.disk);
    if (kind == DEVICE_MEMORY) {
        g_autofree char *id = g_strdup_printf("mem%s", dev.memory->info.alias);
        plan(op, "object-add", qemu_device_dimm_backend(live, dev.memory), "object-del",
             args_string("id", id));
    }
    if (kind == DEVICE_NET) {
        g_autofree char *fdname = NULL;
        if (qemu_device_net_has_tap(dev.net)) {
            op->tap_fd = core_network_plug(dom->core, dom->def->name, dev.net, error);
            if (op->tap_fd < 0)
                return FALSE;
            fdname = g_strdup_printf("fd-%s", dev.net->info.alias);
            struct call *c = plan(op, "getfd", args_string("fdname", fdname), "closefd",
                                  args_string("fdname", fdname));
            c->fd = fcntl(op->tap_fd, F_DUPFD_CLOEXEC, 3);
        }
        JsonObject *netdev = qemu_device_netdev_named(dev.net, fdname, error);
        if (!netdev)
            return FALSE;
        g_autofree char *id = qemu_device_netdev_id(dev.net);
        plan(op, "netdev_add", netdev, "netdev_del", args_string("id", id));
    }
    JsonObject *obj = device_object(live, &dev, error);
    if (!obj)
        return FALSE;
    if (kind == DEVICE_DISK && qemu_device_has_iotune(dev.disk)) {
        /* the throttle goes on the plugged device: should it fail, the device goes again */
        plan(op, "device_add", obj, "device_del", args_string("id", dev.disk->info.alias));
        plan(op, "block_set_io_throttle", qemu_device_iotune_args(dev.disk), NULL, NULL);
    } else {
        plan(op, "device_add", obj, NULL, NULL);
    }
    g_free(op->alias);
    op->alias = g_strdup(domain_device_info(&dev)->alias);
    return TRUE;
}

static void
attach_finish(struct job *job, const GError *error)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    if (error) {
        undo_calls(op);
        enum device_kind kind;
        guint index;
        if (op->new_live &&
            domain_device_find_alias(op->new_live, op->alias, &kind, &index, NULL) &&
            kind == DEVICE_NET)
            core_network_unplug(dom->core, domain_device_at(op->new_live, kind, index).net);
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "attaching %s to '%s': ", op->what, dom->def->name);
        job_set_error(job, e);
        return;
    }
    if (op->live) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&op->new_live);
        status_changed(dom);
        log_info("%s: %s attached", dom->def->name, op->what);
        core_domain_emit_device(dom, EVENT_ID_DEVICE_ADDED, op->alias);
    }
    commit_config(job, op);
}

/* Resolves volume disk DISK of LIVE and probes its image chain, as a start does; its image
 * nodes are numbered from NEXT. */
static gboolean
prepare_disk(struct core *core, struct domain_def *live, struct disk_def *disk, unsigned next,
             GError **error)
{
    if (disk->type == DISK_TYPE_VOLUME && !core_storage_resolve_disks(core, live, error))
        return FALSE;
    if (disk->source && !g_file_test(disk->source, G_FILE_TEST_EXISTS)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                "disk '%s': source '%s' does not exist; create it first (vol-create-as, "
                "qemu-img)",
                disk->target_dev, disk->source);
        return FALSE;
    }
    if (!lifecycle_probe_disk(disk, error))
        return FALSE;
    if (disk->source) {
        disk->source_index = next++;
        for (guint j = 0; disk->backing && j < disk->backing->len; j++)
            ((struct disk_layer *)disk->backing->pdata[j])->index = next++;
    }
    return TRUE;
}

static void
attach_prepare(struct job *job)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    struct device_def *dev = op->request;
    GError *error = NULL;
    guint index = 0, cindex = 0;
    if (!core_domain_impact(dom, op->flags, &op->live, &op->config, &error))
        goto fail;
    if (op->live) {
        if (!check_pluggable(dom->def, dev, "plugged", &error) ||
            !(op->new_live = with_device(dom->def, dev, NULL, &index, &error)))
            goto fail;
        struct device_def added = domain_device_at(op->new_live, dev->kind, index);
        if (dev->kind == DEVICE_DISK &&
            !prepare_disk(dom->core, op->new_live, added.disk, core_domain_next_image(dom), &error))
            goto fail;
        qemu_alias_assign(op->new_live);
        if (!plan_attach(op, op->new_live, dev->kind, index, &error))
            goto fail;
    }
    if (op->config) {
        const struct device_info *at = NULL;
        struct device_def added;
        if (op->live) {
            added = domain_device_at(op->new_live, dev->kind, index);
            at = domain_device_info(&added);
        }
        if (!(op->new_config = with_device(core_persistent_def(dom), dev, at, &cindex, &error)))
            goto fail;
    }
    job_next(job);
    return;
fail:
    job_fail(job, error);
}

static const struct job_step attach_steps[] = {
    {"prepare", attach_prepare},
    {"plug", run_calls},
    {NULL, NULL},
};

static const struct job_pipeline attach_pipeline = {
    .steps = attach_steps,
    .finish = attach_finish,
    .abort = plug_abort,
};

void
core_domain_attach_device(struct domain *dom, const char *xml, unsigned flags, core_done_fn done,
                          gpointer data)
{
    g_autoptr(GError) error = NULL;
    struct device_def *dev = domain_device_parse(xml, &error);
    if (!dev) {
        done(error, data);
        return;
    }
    if (dev->kind == DEVICE_NET && !dev->net->mac_given) {
        /* a generated MAC no other domain has */
        g_autoptr(domain_def) holder = domain_def_new();
        holder->name = g_strdup(dom->def->name);
        g_ptr_array_add(holder->nets, dev->net);
        core_unique_macs(dom->core, holder);
        g_ptr_array_steal_index(holder->nets, 0);
    }
    struct plug_op *op = plug_op_new(dom, PLUG_ATTACH);
    op->request = dev;
    op->flags = flags;
    op->what = describe(dev);
    job_acquire_run(&dom->jobs, JOB_MODIFY, &attach_pipeline, dom->core->job_wait_ms, op,
                    plug_op_free, done, data);
}

/* ---- detach and removal ---- */

/* What goes once QEMU deleted the device ALIAS: its image nodes, its netdev. */
static void
plan_release(struct plug_op *op)
{
    enum device_kind kind;
    guint index;
    if (!domain_device_find_alias(op->dom->def, op->alias, &kind, &index, NULL))
        return;
    struct device_def dev = domain_device_at(op->dom->def, kind, index);
    if (kind == DEVICE_DISK) {
        plan_blockdevs_del(op, dev.disk);
    } else if (kind == DEVICE_NET) {
        g_autofree char *id = qemu_device_netdev_id(dev.net);
        plan(op, "netdev_del", args_string("id", id), NULL, NULL)->tolerant = TRUE;
    } else if (kind == DEVICE_MEMORY) {
        g_autofree char *id = g_strdup_printf("mem%s", dev.memory->info.alias);
        plan(op, "object-del", args_string("id", id), NULL, NULL)->tolerant = TRUE;
    }
}

static void
release_step(struct job *job)
{
    struct plug_op *op = job->data;
    if (op->kind == PLUG_DETACH && !op->deleted) {
        /* the guest has not let go in time: the removal completes on DEVICE_DELETED */
        job_next(job);
        return;
    }
    plan_release(op);
    run_calls(job);
}

/* The device ALIAS is gone from QEMU: from the live definition too. */
static void
removed(struct plug_op *op)
{
    struct domain *dom = op->dom;
    enum device_kind kind;
    guint index;
    if (!domain_device_find_alias(dom->def, op->alias, &kind, &index, NULL))
        return;
    if (kind == DEVICE_NET)
        core_network_unplug(dom->core, domain_device_at(dom->def, kind, index).net);
    domain_device_remove(dom->def, kind, index);
    status_changed(dom);
    log_info("%s: device '%s' removed", dom->def->name, op->alias);
    core_domain_emit_device(dom, EVENT_ID_DEVICE_REMOVED, op->alias);
}

static void
detach_finish(struct job *job, const GError *error)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "detaching %s from '%s': ", op->what, dom->def->name);
        job_set_error(job, e);
        return;
    }
    if (op->deleted)
        removed(op);
    else if (op->live)
        log_info("%s: %s: the guest has not released it yet; it goes once it does", dom->def->name,
                 op->what);
    commit_config(job, op);
}

static void
on_deleted(struct domain *dom, gpointer data)
{
    struct job *job = data;
    struct plug_op *op = job->data;
    op->wait = NULL;
    op->deleted = TRUE;
    if (op->timer) {
        g_source_remove(op->timer);
        op->timer = 0;
    }
    job_next(job);
}

static gboolean
on_unplug_timeout(gpointer data)
{
    struct job *job = data;
    struct plug_op *op = job->data;
    op->timer = 0;
    core_device_wait_cancel(op->dom, op->wait);
    op->wait = NULL;
    job_next(job);
    return G_SOURCE_REMOVE;
}

static void
on_device_del(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct plug_op *op = job->data;
    if (error && !job->finished && !op->deleted) {
        core_device_wait_cancel(op->dom, op->wait);
        op->wait = NULL;
        if (op->timer)
            g_source_remove(op->timer);
        op->timer = 0;
        job_fail(job, g_error_copy(error));
    }
    job_unref(job);
}

static void
unplug_step(struct job *job)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    if (!op->live) {
        job_next(job);
        return;
    }
    if (!state_is_active(dom->state) || !dom->mon) {
        plug_abort(job);
        return;
    }
    op->wait = core_device_wait(dom, op->alias, on_deleted, job);
    op->timer = g_timeout_add_seconds(UNPLUG_WAIT_S, on_unplug_timeout, job);
    qmp_command(dom->mon, "device_del", args_string("id", op->alias), on_device_del, job_ref(job));
}

static void
detach_abort(struct job *job)
{
    struct plug_op *op = job->data;
    if (op->wait)
        core_device_wait_cancel(op->dom, op->wait);
    op->wait = NULL;
    if (op->timer)
        g_source_remove(op->timer);
    op->timer = 0;
    plug_abort(job);
}

/* Finds the device of the request (a device, or an alias) in the live definition and/or the
 * persistent one. */
static void
detach_prepare(struct job *job)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    const struct device_def *req = op->request;
    GError *error = NULL;
    if (!core_domain_impact(dom, op->flags, &op->live, &op->config, &error))
        goto fail;
    if (op->live) {
        enum device_kind kind = req ? req->kind : DEVICE_DISK;
        guint index;
        if (req ? !domain_device_find(dom->def, req, &index, &error)
                : !domain_device_find_alias(dom->def, op->alias, &kind, &index, &error))
            goto fail;
        struct device_def dev = domain_device_at(dom->def, kind, index);
        g_free(op->what);
        op->what = describe(&dev);
        if (!check_pluggable(dom->def, &dev, "unplugged", &error))
            goto fail;
        if (kind == DEVICE_DISK &&
            core_backup_disk_progress(dom, dev.disk->target_dev, NULL, NULL)) {
            err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "disk '%s' is being backed up; detach it once the backup is over",
                    dev.disk->target_dev);
            goto fail;
        }
        g_free(op->alias);
        op->alias = g_strdup(domain_device_info(&dev)->alias);
    }
    if (op->config) {
        struct domain_def *pdef = core_persistent_def(dom);
        enum device_kind kind = req ? req->kind : DEVICE_DISK;
        guint index;
        if (req ? !domain_device_find(pdef, req, &index, &error)
                : !domain_device_find_alias(pdef, op->alias, &kind, &index, &error))
            goto fail;
        if (!op->live) {
            struct device_def dev = domain_device_at(pdef, kind, index);
            g_free(op->what);
            op->what = describe(&dev);
        }
        op->new_config = domain_def_copy(pdef);
        domain_device_remove(op->new_config, kind, index);
    }
    job_next(job);
    return;
fail:
    job_fail(job, error);
}

static const struct job_step detach_steps[] = {
    {"prepare", detach_prepare},
    {"unplug", unplug_step},
    {"release", release_step},
    {NULL, NULL},
};

static const struct job_pipeline detach_pipeline = {
    .steps = detach_steps,
    .finish = detach_finish,
    .abort = detach_abort,
};

static void
detach(struct domain *dom, struct device_def *req, const char *alias, unsigned flags,
       core_done_fn done, gpointer data)
{
    struct plug_op *op = plug_op_new(dom, PLUG_DETACH);
    op->request = req;
    op->alias = g_strdup(alias);
    op->flags = flags;
    op->what = req ? describe(req) : g_strdup_printf("device '%s'", alias);
    job_acquire_run(&dom->jobs, JOB_MODIFY, &detach_pipeline, dom->core->job_wait_ms, op,
                    plug_op_free, done, data);
}

void
core_domain_detach_device(struct domain *dom, const char *xml, unsigned flags, core_done_fn done,
                          gpointer data)
{
    g_autoptr(GError) error = NULL;
    struct device_def *dev = domain_device_parse(xml, &error);
    if (!dev) {
        done(error, data);
        return;
    }
    detach(dom, dev, NULL, flags, done, data);
}

void
core_domain_detach_alias(struct domain *dom, const char *alias, unsigned flags, core_done_fn done,
                         gpointer data)
{
    detach(dom, NULL, alias, flags, done, data);
}

static void
remove_finish(struct job *job, const GError *error)
{
    struct plug_op *op = job->data;
    if (!error)
        removed(op);
}

static const struct job_step remove_steps[] = {
    {"release", release_step},
    {NULL, NULL},
};

static const struct job_pipeline remove_pipeline = {
    .steps = remove_steps,
    .finish = remove_finish,
    .abort = plug_abort,
};

static void
on_removed(GError *error, gpointer data)
{
    char *alias = data;
    if (error)
        log_warn("removing device '%s': %s", alias, error->message);
    g_free(alias);
}

void
core_hotplug_deleted(struct domain *dom, const char *alias)
{
    enum device_kind kind;
    guint index;
    if (!domain_device_find_alias(dom->def, alias, &kind, &index, NULL))
        return;
    /* a detach that stopped waiting, or the guest's own eject: finish the removal */
    struct plug_op *op = plug_op_new(dom, PLUG_REMOVE);
    op->live = TRUE;
    op->alias = g_strdup(alias);
    job_acquire_run(&dom->jobs, JOB_MODIFY, &remove_pipeline, dom->core->job_wait_ms, op,
                    plug_op_free, on_removed, g_strdup(alias));
}

/* ---- update: a cdrom's media ---- */

/* The persistent definition with DISK's media in place of its match's. */
static void
put_media(struct disk_def *into, const struct disk_def *from)
{
    into->type = from->type;
    g_free(into->source);
    into->source = g_strdup(from->source);
    g_free(into->source_pool);
    into->source_pool = g_strdup(from->source_pool);
    g_free(into->source_volume);
    into->source_volume = g_strdup(from->source_volume);
    into->format = from->format;
    into->readonly = from->readonly;
    g_clear_pointer(&into->backing, g_ptr_array_unref);
    into->source_index = 0;
}

/* The disk of DEF the request names, which must be a cdrom on the same bus. */
static struct disk_def *
media_disk(struct domain_def *def, const struct disk_def *req, GError **error)
{
    struct device_def want = {.kind = DEVICE_DISK, .disk = (struct disk_def *)req};
    guint index;
    if (!domain_device_find(def, &want, &index, error))
        return NULL;
    struct disk_def *disk = def->disks->pdata[index];
    const char *what = NULL;
    if (disk->device != DISK_DEVICE_CDROM || req->device != DISK_DEVICE_CDROM)
        what = "only a cdrom's media can be changed; attach or detach other disks";
    else if (disk->bus != req->bus)
        what = "its bus cannot change";
    if (what) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "disk '%s' of domain '%s' cannot be updated: %s", disk->target_dev, def->name,
                what);
        return NULL;
    }
    return disk;
}

static void
media_prepare(struct job *job)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    const struct disk_def *req = op->request->disk;
    GError *error = NULL;
    if (!core_domain_impact(dom, op->flags, &op->live, &op->config, &error))
        goto fail;
    if (op->live) {
        struct disk_def *old = media_disk(dom->def, req, &error);
        if (!old)
            goto fail;
        op->new_live = domain_def_copy(dom->def);
        struct disk_def *disk = domain_def_find_disk(op->new_live, req->target_dev);
        put_media(disk, req);
        if (!prepare_disk(dom->core, op->new_live, disk, core_domain_next_image(dom), &error))
            goto fail;
        const char *id = old->info.alias;
        if (disk->source)
            plan_blockdevs_add(op, disk);
        JsonObject *open = args_string("id", id);
        json_object_set_boolean_member(open, "force", TRUE);
        plan(op, "blockdev-open-tray", open, "blockdev-close-tray", args_string("id", id));
        if (old->source) {
            g_autofree char *node = qemu_device_node_format(old->source_index);
            JsonObject *back = args_string("id", id);
            json_object_set_string_member(back, "node-name", node);
            plan(op, "blockdev-remove-medium", args_string("id", id), "blockdev-insert-medium",
                 back);
        }
        if (disk->source) {
            g_autofree char *node = qemu_device_node_format(disk->source_index);
            JsonObject *in = args_string("id", id);
            json_object_set_string_member(in, "node-name", node);
            plan(op, "blockdev-insert-medium", in, NULL, NULL);
            plan(op, "blockdev-close-tray", args_string("id", id), NULL, NULL)->tolerant = TRUE;
        }
        if (old->source)
            plan_blockdevs_del(op, old);
    }
    if (op->config) {
        op->new_config = domain_def_copy(core_persistent_def(dom));
        struct disk_def *disk = media_disk(op->new_config, req, &error);
        if (!disk)
            goto fail;
        put_media(disk, req);
    }
    job_next(job);
    return;
fail:
    job_fail(job, error);
}

static void
media_finish(struct job *job, const GError *error)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    if (error) {
        undo_calls(op);
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "changing the media of %s of '%s': ", op->what, dom->def->name);
        job_set_error(job, e);
        return;
    }
    if (op->live) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&op->new_live);
        status_changed(dom);
        log_info("%s: %s: media changed", dom->def->name, op->what);
    }
    commit_config(job, op);
}

static const struct job_step media_steps[] = {
    {"prepare", media_prepare},
    {"change", run_calls},
    {NULL, NULL},
};

static const struct job_pipeline media_pipeline = {
    .steps = media_steps,
    .finish = media_finish,
    .abort = plug_abort,
};

void
core_domain_update_device(struct domain *dom, const char *xml, unsigned flags, core_done_fn done,
                          gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (domain_device_is_graphics(xml)) {
        struct graphics_def *g = domain_device_parse_graphics(xml, &error);
        if (!g) {
            done(error, data);
            return;
        }
        core_domain_update_graphics(dom, g, flags, done, data);
        return;
    }
    struct device_def *dev = domain_device_parse(xml, &error);
    if (!dev) {
        done(error, data);
        return;
    }
    if (dev->kind == DEVICE_NET) {
        struct net_def *net = g_steal_pointer(&dev->net);
        g_free(dev);
        core_domain_update_net(dom, net, flags, done, data);
        return;
    }
    if (dev->kind == DEVICE_MEMORY) {
        core_domain_update_memory(dom, dev, flags, done, data);
        return;
    }
    if (dev->kind != DEVICE_DISK) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "a <%s> cannot be updated in place; a cdrom's media, an interface's link "
                "state and a virtio-mem device's requested size can",
                device_kind_to_string(dev->kind));
        domain_device_free(dev);
        done(error, data);
        return;
    }
    struct plug_op *op = plug_op_new(dom, PLUG_MEDIA);
    op->request = dev;
    op->flags = flags;
    op->what = describe(dev);
    job_acquire_run(&dom->jobs, JOB_MODIFY, &media_pipeline, dom->core->job_wait_ms, op,
                    plug_op_free, done, data);
}

/* ---- blockresize ---- */

static void
resize_prepare(struct job *job)
{
    struct plug_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (!state_is_active(dom->state)) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is not running; resize its image with vol-resize or qemu-img",
                dom->def->name);
        goto fail;
    }
    struct disk_def *disk = domain_def_find_disk(dom->def, op->alias);
    for (guint i = 0; !disk && i < dom->def->disks->len; i++) {
        struct disk_def *d = dom->def->disks->pdata[i];
        if (g_strcmp0(d->source, op->alias) == 0)
            disk = d;
    }
    if (!disk) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "domain '%s' has no disk '%s'; give its target (vda) or its source path",
                dom->def->name, op->alias);
        goto fail;
    }
    g_free(op->what);
    op->what = g_strdup_printf("disk '%s'", disk->target_dev);
    if (!disk->source) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "disk '%s' of domain '%s' has no media to resize", disk->target_dev,
                dom->def->name);
        goto fail;
    }
    if (disk->readonly || disk->device == DISK_DEVICE_CDROM) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "disk '%s' of domain '%s' is read-only; it cannot be resized", disk->target_dev,
                dom->def->name);
        goto fail;
    }
    struct storage_vol_info info;
    if (!storage_dir_vol_info(disk->source, &info, &error))
        goto fail;
    guint64 capacity = info.capacity;
    storage_vol_info_clear(&info);
    if (op->size < capacity) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "disk '%s' of domain '%s' has %" G_GUINT64_FORMAT
                " bytes: shrinking it to %" G_GUINT64_FORMAT
                " would cut off the guest's data; blockresize only grows disks",
                disk->target_dev, dom->def->name, capacity, op->size);
        goto fail;
    }
    char *node = qemu_device_node_format(disk->source_index);
    JsonObject *args = args_string("node-name", node);
    g_free(node);
    json_object_set_int_member(args, "size", (gint64)op->size);
    plan(op, "block_resize", args, NULL, NULL);
    job_next(job);
    return;
fail:
    job_fail(job, error);
}

static void
resize_finish(struct job *job, const GError *error)
{
    struct plug_op *op = job->data;
    if (error) {
        GError *e = g_error_copy(error);
        g_prefix_error(&e, "resizing %s of '%s': ", op->what, op->dom->def->name);
        job_set_error(job, e);
        return;
    }
    log_info("%s: %s resized to %" G_GUINT64_FORMAT " bytes", op->dom->def->name, op->what,
             op->size);
}

static const struct job_step resize_steps[] = {
    {"prepare", resize_prepare},
    {"resize", run_calls},
    {NULL, NULL},
};

static const struct job_pipeline resize_pipeline = {
    .steps = resize_steps,
    .finish = resize_finish,
    .abort = plug_abort,
};

void
core_domain_block_resize(struct domain *dom, const char *target, guint64 size, unsigned flags,
                         core_done_fn done, gpointer data)
{
    g_autoptr(GError) error = NULL;
    if (!(flags & RESIZE_BYTES) && size > G_MAXINT64 / 1024) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OVERFLOW, "size %" G_GUINT64_FORMAT " KiB is too big",
                size);
        done(error, data);
        return;
    }
    guint64 bytes = flags & RESIZE_BYTES ? size : size * 1024;
    if (bytes > G_MAXINT64 - 511) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OVERFLOW,
                "size %" G_GUINT64_FORMAT " bytes is too big", bytes);
        done(error, data);
        return;
    }
    struct plug_op *op = plug_op_new(dom, PLUG_RESIZE);
    op->alias = g_strdup(target);
    op->what = g_strdup_printf("disk '%s'", target);
    /* QEMU takes whole sectors, as libvirt rounds */
    op->size = (bytes + 511) / 512 * 512;
    job_acquire_run(&dom->jobs, JOB_MODIFY, &resize_pipeline, dom->core->job_wait_ms, op,
                    plug_op_free, done, data);
}
