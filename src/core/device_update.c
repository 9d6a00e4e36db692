/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* device_update: virDomainUpdateDeviceFlags of an interface: its link state (what virsh
 * domif-setlink sends), live through QMP set_link, as a job of its own, and its <bandwidth>
 * (tc on its tap), live and in the persistent config; virDomainSetInterfaceParameters
 * (domiftune) for the bandwidth alone. Everything else about an interface is refused by name.
 * Of a virtio-mem device, its requested size (virsh update-memory-device). A cdrom's media and
 * plugging devices belong to hotplug.c. */
#include "core/core.h"

#include <string.h>

#include "core/job.h"
#include "conf/domain_device.h"
#include "core/network.h"
#include "network/bandwidth.h"
#include "qemu/monitor.h"
#include "util/err.h"
#include "util/log.h"
#include "util/netaddr.h"

/* The NIC of DEF that NET names: by MAC, or the only one when NET gives none. */
static struct net_def *
find_nic(const struct domain_def *def, const struct net_def *net, GError **error)
{
    if (!net->mac_given && def->nets->len == 1)
        return def->nets->pdata[0];
    for (guint i = 0; net->mac_given && i < def->nets->len; i++) {
        struct net_def *n = def->nets->pdata[i];
        if (memcmp(n->mac, net->mac, sizeof(n->mac)) == 0)
            return n;
    }
    char mac[32];
    g_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", net->mac[0], net->mac[1],
               net->mac[2], net->mac[3], net->mac[4], net->mac[5]);
    err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
            net->mac_given ? "domain '%s' has no interface with MAC address '%s'"
                           : "domain '%s' has several interfaces: give the MAC address of the "
                             "one to update",
            def->name, mac);
    return NULL;
}

/* Refuses a change of anything but the link state (what the new XML leaves out stays). */
static gboolean
check_change(const struct net_def *cur, const struct net_def *net, GError **error)
{
    const char *what = NULL;
    if (cur->type != net->type)
        what = "type";
    else if (net->source && g_strcmp0(cur->source, net->source) != 0)
        what = "source";
    else if (net->model && g_strcmp0(cur->model, net->model) != 0)
        what = "model";
    else if (net->target_dev && !domain_def_net_auto_target(net) &&
             g_strcmp0(cur->target_dev, net->target_dev) != 0)
        what = "target dev";
    else if (net->boot_order && net->boot_order != cur->boot_order)
        what = "boot order";
    else if (net->vlan.ntags && !vlan_def_equal(&cur->vlan, &net->vlan))
        what = "vlan";
    else if (net->portgroup && g_strcmp0(cur->portgroup, net->portgroup) != 0)
        what = "portgroup";
    if (what) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "cannot change the %s of interface '%s' in place; only its link state and "
                "bandwidth can be updated",
                what, cur->info.alias ? cur->info.alias : "");
        return FALSE;
    }
    return TRUE;
}

struct link_op {
    struct domain *dom;
    struct net_def *net; /* the request */
    gboolean live, config;
};

static void
link_op_free(gpointer data)
{
    struct link_op *op = data;
    domain_def_net_free(op->net);
    core_domain_unref(op->dom);
    g_free(op);
}

static void
on_set_link(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    job_step_over(data, error);
}

/* NIC's tap gets IN and OUT (a NIC without a tap has nothing to shape) */
static gboolean
set_tap_bandwidth(struct domain *dom, const struct net_def *nic, const struct bandwidth_rate *in,
                  const struct bandwidth_rate *out, GError **error)
{
    if (!nic->target_dev) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_UNSUPPORTED,
                "interface '%s' of domain '%s' has no tap: its bandwidth cannot be shaped",
                nic->info.alias ? nic->info.alias : "", dom->def->name);
        return FALSE;
    }
    return bandwidth_set(nic->target_dev, in, out, error);
}

static void
link_step(struct job *job)
{
    struct link_op *op = job->data;
    GError *error = NULL;
    struct net_def *nic = NULL;
    if (!state_is_active(op->dom->state) || !op->dom->mon) {
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                op->dom->def->name);
        job_fail(job, error);
        return;
    }
    if (!(nic = find_nic(op->dom->def, op->net, &error))) {
        job_fail(job, error);
        return;
    }
    /* the bandwidth first: a tc failure changes nothing */
    gboolean same = memcmp(&nic->inbound, &op->net->inbound, sizeof(nic->inbound)) == 0 &&
                    memcmp(&nic->outbound, &op->net->outbound, sizeof(nic->outbound)) == 0;
    if (!same &&
        (!core_network_set_floor(op->dom->core, nic, &op->net->inbound, &error) ||
         !set_tap_bandwidth(op->dom, nic, &op->net->inbound, &op->net->outbound, &error))) {
        job_fail(job, error);
        return;
    }
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "name", nic->info.alias);
    json_object_set_boolean_member(args, "up", !op->net->link_down);
    qmp_command(op->dom->mon, "set_link", args, on_set_link, job_ref(job));
}

static gboolean
apply_config(struct domain *dom, const struct net_def *net, GError **error)
{
    g_autoptr(domain_def) copy = domain_def_copy(core_persistent_def(dom));
    struct net_def *nic = find_nic(copy, net, error);
    if (!nic || !check_change(nic, net, error))
        return FALSE;
    nic->link_down = net->link_down;
    nic->inbound = net->inbound;
    nic->outbound = net->outbound;
    return core_domain_keep_config(dom, g_steal_pointer(&copy), error);
}

static void
link_finish(struct job *job, const GError *error)
{
    struct link_op *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (error)
        return;
    struct net_def *nic = find_nic(dom->def, op->net, NULL);
    if (nic) {
        nic->link_down = op->net->link_down;
        nic->inbound = op->net->inbound;
        nic->outbound = op->net->outbound;
        dom->updated = TRUE;
        if (!core_status_write(dom, &err)) {
            log_warn("%s: %s", dom->def->name, err->message);
            g_clear_error(&err);
        }
    }
    if (op->config && !apply_config(dom, op->net, &err))
        job_set_error(job, err);
}

static void
link_abort(struct job *job)
{
    struct link_op *op = job->data;
    GError *err = NULL;
    err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU of domain '%s' went away",
            op->dom->def->name);
    job_fail(job, err);
}

static const struct job_step link_steps[] = {
    {"set_link", link_step},
    {NULL, NULL},
};

static const struct job_pipeline link_pipeline = {
    .steps = link_steps,
    .finish = link_finish,
    .abort = link_abort,
};

void
core_domain_update_net(struct domain *dom, struct net_def *net, unsigned flags, core_done_fn done,
                       gpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean live = FALSE, config = FALSE;
    struct net_def *cur = NULL;
    if (core_domain_impact(dom, flags, &live, &config, &error)) {
        if (live && (cur = find_nic(dom->def, net, &error)))
            check_change(cur, net, &error);
        if (!error && config && (cur = find_nic(core_persistent_def(dom), net, &error)))
            check_change(cur, net, &error);
    }
    if (error) {
        domain_def_net_free(net);
        done(error, data);
        return;
    }
    if (!live) {
        gboolean ok = apply_config(dom, net, &error);
        domain_def_net_free(net);
        done(ok ? NULL : error, data);
        return;
    }
    struct link_op *op = g_new0(struct link_op, 1);
    op->dom = core_domain_ref(dom);
    op->net = net;
    op->live = live;
    op->config = config;
    job_acquire_run(&dom->jobs, JOB_MODIFY, &link_pipeline, dom->core->job_wait_ms, op,
                    link_op_free, done, data);
}

/* --- domiftune --- */

/* The NIC of DEF that DEVICE names: its tap (live) or its MAC */
static struct net_def *
find_device(const struct domain_def *def, const char *device, GError **error)
{
    uint8_t mac[6];
    gboolean by_mac = mac_parse(device, mac);
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *n = def->nets->pdata[i];
        if (g_strcmp0(n->target_dev, device) == 0 || (by_mac && memcmp(n->mac, mac, 6) == 0))
            return n;
    }
    err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
            "domain '%s' has no interface '%s'; name it by its target dev or MAC address",
            def->name, device);
    return NULL;
}

gboolean
core_domain_get_iftune(struct domain *dom, const char *device, unsigned flags,
                       struct bandwidth_rate *ret_in, struct bandwidth_rate *ret_out,
                       GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if ((flags & 1) && (flags & 2)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive");
        return FALSE;
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    const struct net_def *nic =
        find_device(live ? dom->def : core_persistent_def(dom), device, error);
    if (!nic)
        return FALSE;
    *ret_in = nic->inbound;
    *ret_out = nic->outbound;
    return TRUE;
}

static void
tune_into(struct net_def *nic, const struct bandwidth_rate *in, const struct bandwidth_rate *out,
          unsigned given)
{
    guint64 *slots[] = {&nic->inbound.average,  &nic->inbound.peak,  &nic->inbound.burst,
                        &nic->outbound.average, &nic->outbound.peak, &nic->outbound.burst,
                        &nic->inbound.floor};
    const guint64 values[] = {in->average, in->peak,   in->burst, out->average,
                              out->peak,   out->burst, in->floor};
    for (int i = 0; i < 7; i++)
        if (given & (1u << i))
            *slots[i] = values[i];
    /* no average: no limit that way (a floor alone stays) */
    if (!nic->inbound.average)
        nic->inbound = (struct bandwidth_rate){.floor = nic->inbound.floor};
    if (!nic->outbound.average)
        memset(&nic->outbound, 0, sizeof(nic->outbound));
}

gboolean
core_domain_set_iftune(struct domain *dom, const char *device, unsigned flags,
                       const struct bandwidth_rate *in, const struct bandwidth_rate *out,
                       unsigned given, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    struct net_def *nic = live ? find_device(dom->def, device, error) : NULL;
    if (live && !nic)
        return FALSE;
    g_autoptr(domain_def) copy = config ? domain_def_copy(core_persistent_def(dom)) : NULL;
    /* the config's NIC: by its MAC when the request named the live tap */
    struct net_def *cnic = NULL;
    if (config) {
        char mac[32];
        if (nic)
            g_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0], nic->mac[1],
                       nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
        if (!(cnic = find_device(copy, nic ? mac : device, error)))
            return FALSE;
    }
    const struct net_def *target = live ? nic : cnic;
    if ((given & IFTUNE_FLOOR) && in->floor && target->type != NET_TYPE_NETWORK) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "a bandwidth floor is only supported on an interface of type 'network', not "
                "'%s'",
                net_type_to_string(target->type));
        return FALSE;
    }
    if (live) {
        struct net_def want = *nic;
        tune_into(&want, in, out, given);
        if (want.inbound.peak && want.inbound.peak < want.inbound.average) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    "inbound peak %" G_GUINT64_FORMAT " is below its average %" G_GUINT64_FORMAT,
                    want.inbound.peak, want.inbound.average);
            return FALSE;
        }
        /* the floor first: it is what can be refused (overcommit, no classifier) */
        if (!core_network_set_floor(dom->core, nic, &want.inbound, error))
            return FALSE;
        if (!set_tap_bandwidth(dom, nic, &want.inbound, &want.outbound, error))
            return FALSE;
        nic->inbound = want.inbound;
        nic->outbound = want.outbound;
        GError *e = NULL;
        dom->updated = TRUE;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    if (config) {
        tune_into(cnic, in, out, given);
        return core_domain_keep_config(dom, g_steal_pointer(&copy), error);
    }
    return TRUE;
}

/* --- a virtio-mem device's requested size --- */

/* Whether A and B are the same PCI address */
static gboolean
same_address(const struct domain_address *a, const struct domain_address *b)
{
    struct pci_address x, y;
    if (!domain_address_is(a, "pci") || !domain_address_is(b, "pci"))
        return FALSE;
    domain_address_to_pci(a, &x);
    domain_address_to_pci(b, &y);
    return x.domain == y.domain && x.bus == y.bus && x.slot == y.slot && x.function == y.function;
}

/* The memory device of DEF that MEM names: by alias, by address, or the only virtio-mem one */
static struct memdev_def *
find_memdev(const struct domain_def *def, const struct memdev_def *mem, GError **error)
{
    /* the persistent definition has no aliases of the daemon's making: the address, or the
     * only virtio-mem device, finds it there */
    struct memdev_def *only = NULL, *at = NULL;
    guint nvirtio = 0;
    for (guint i = 0; i < def->memdevs->len; i++) {
        struct memdev_def *m = def->memdevs->pdata[i];
        if (mem->info.alias && g_strcmp0(m->info.alias, mem->info.alias) == 0)
            return m;
        if (mem->info.address && m->info.address &&
            same_address(m->info.address, mem->info.address))
            at = m;
        if (m->model == MEMDEV_VIRTIO_MEM) {
            only = m;
            nvirtio++;
        }
    }
    if (at)
        return at;
    if (!mem->info.address && nvirtio == 1)
        return only;
    err_set(error, ERR_FROM_DOMAIN, ERR_DEVICE_MISSING,
            "matching memory device was not found in domain '%s'%s", def->name,
            nvirtio > 1 && !mem->info.address
                ? ": it has several virtio-mem devices; give the alias or address of the one "
                  "to update"
                : "");
    return NULL;
}

/* Only the requested size may change (libvirt's qemuDomainChangeMemoryLiveValidateChange) */
static gboolean
check_memory_change(const struct memdev_def *cur, const struct memdev_def *mem, GError **error)
{
    static const char *const models[] = {"dimm", "virtio-mem"};
    if (cur->model != MEMDEV_VIRTIO_MEM) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "cannot modify memory of model '%s'", models[cur->model]);
        return FALSE;
    }
    if (mem->model != cur->model) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "cannot modify memory model from '%s' to '%s'", models[cur->model],
                models[mem->model]);
        return FALSE;
    }
    const struct {
        const char *what;
        guint64 from, to;
    } fixed[] = {{"targetNode", (guint64)(gint64)cur->node, (guint64)(gint64)mem->node},
                 {"size", cur->size_kib, mem->size_kib},
                 {"block size", cur->block_kib, mem->block_kib}};
    for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++) {
        if (fixed[i].from != fixed[i].to) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "cannot modify memory %s from '%" G_GINT64_FORMAT "' to '%" G_GINT64_FORMAT "'",
                    fixed[i].what, (gint64)fixed[i].from, (gint64)fixed[i].to);
            return FALSE;
        }
    }
    return TRUE;
}

struct mem_op {
    struct domain *dom;     /* a reference */
    struct device_def *dev; /* the request */
    struct memdev_def *mem; /* its memory device */
    gboolean config;
};

static void
mem_op_free(gpointer data)
{
    struct mem_op *op = data;
    domain_device_free(op->dev);
    core_domain_unref(op->dom);
    g_free(op);
}

static void
on_requested(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    job_step_over(data, error);
}

/* step "request": QEMU's requested-size of the device */
static void
request_step(struct job *job)
{
    struct mem_op *op = job->data;
    GError *error = NULL;
    struct memdev_def *cur = NULL;
    if (!core_domain_require_running(op->dom, &error) ||
        !(cur = find_memdev(op->dom->def, op->mem, &error)) ||
        !check_memory_change(cur, op->mem, &error)) {
        job_fail(job, error);
        return;
    }
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", cur->info.alias);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "requested-size");
    json_object_set_int_member(args, "value", (gint64)op->mem->requested_kib * 1024);
    qmp_command(op->dom->mon, "qom-set", args, on_requested, job_ref(job));
}

static gboolean
apply_memory_config(struct domain *dom, const struct memdev_def *mem, GError **error)
{
    g_autoptr(domain_def) copy = domain_def_copy(core_persistent_def(dom));
    struct memdev_def *cur = find_memdev(copy, mem, error);
    if (!cur || !check_memory_change(cur, mem, error))
        return FALSE;
    cur->requested_kib = mem->requested_kib;
    return core_domain_keep_config(dom, g_steal_pointer(&copy), error);
}

static void
request_finish(struct job *job, const GError *error)
{
    struct mem_op *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (error)
        return;
    struct memdev_def *cur = find_memdev(dom->def, op->mem, NULL);
    if (cur) {
        cur->requested_kib = op->mem->requested_kib;
        dom->updated = TRUE;
        if (!core_status_write(dom, &err)) {
            log_warn("%s: %s", dom->def->name, err->message);
            g_clear_error(&err);
        }
    }
    if (op->config && !apply_memory_config(dom, op->mem, &err))
        job_set_error(job, err);
}

static const struct job_step request_steps[] = {
    {"request", request_step},
    {NULL, NULL},
};

static const struct job_pipeline request_pipeline = {
    .steps = request_steps,
    .finish = request_finish,
    .abort = link_abort,
};

void
core_domain_update_memory(struct domain *dom, struct device_def *dev, unsigned flags,
                          core_done_fn done, gpointer data)
{
    g_autoptr(GError) error = NULL;
    struct memdev_def *mem = dev->memory;
    gboolean live = FALSE, config = FALSE;
    struct memdev_def *cur = NULL;
    if (core_domain_impact(dom, flags, &live, &config, &error)) {
        if (live && (cur = find_memdev(dom->def, mem, &error)))
            check_memory_change(cur, mem, &error);
        if (!error && config && (cur = find_memdev(core_persistent_def(dom), mem, &error)))
            check_memory_change(cur, mem, &error);
    }
    if (error || !live) {
        gboolean ok = !error && apply_memory_config(dom, mem, &error);
        domain_device_free(dev);
        done(ok ? NULL : error, data);
        return;
    }
    struct mem_op *op = g_new0(struct mem_op, 1);
    op->dom = core_domain_ref(dom);
    op->dev = dev;
    op->mem = mem;
    op->config = config;
    job_acquire_run(&dom->jobs, JOB_MODIFY, &request_pipeline, dom->core->job_wait_ms, op,
                    mem_op_free, done, data);
}
