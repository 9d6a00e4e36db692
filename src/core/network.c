/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* network: the registry and the host side of virtual networks. Files, as for pools: the
 * persistent XML in the config directory (written before memory changes), an autostart
 * marker, and for an active network its live XML in the state directory, written once the
 * network runs and removed before it is torn down, so that a daemon killed at any point finds
 * either a network to adopt or leftovers it knows how to clear. */
#include "core/network.h"

#include <glib/gstdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>

#include "core/guest.h"
#include "network/firewall.h"
#include "network/bandwidth.h"
#include "network/netdev.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

#define DEFAULT_NETWORK "default"
/* written once the default network was offered, so that undefining it is final */
#define INITIALIZED_MARKER ".initialized"
#define BRIDGE_TEMPLATE "virbr%u"
#define BRIDGE_MAX_INDEX 4096
/* a lease line is under 300 bytes: room for every address of a /16 */
#define LEASES_FILE_MAX (32 * 1024 * 1024)

static void
network_unref(struct network *n)
{
    if (!n || --n->refs > 0)
        return;
    network_def_free(n->def);
    network_def_free(n->new_def);
    dnsmasq_files_clear(&n->dnsmasq);
    g_free(n);
}

static char *
config_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/%s.xml", core->paths.network_config_dir, name);
}

static char *
autostart_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/autostart/%s", core->paths.network_config_dir, name);
}

static char *
state_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/%s.xml", core->paths.network_state_dir, name);
}

static char *
dnsmasq_dir(struct core *core)
{
    return g_build_filename(core->paths.network_state_dir, "dnsmasq", NULL);
}

static char *
uuid_key(const uint8_t *uuid)
{
    char buf[UUID_STRING_LEN];
    return g_strdup(uuid_format(uuid, buf));
}

static struct network *
network_new(struct core *core, struct network_def *def)
{
    struct network *n = g_new0(struct network, 1);
    n->def = def;
    n->refs = 1;
    g_autofree char *dir = dnsmasq_dir(core);
    dnsmasq_files_init(&n->dnsmasq, dir, def->name);
    return n;
}

static void
registry_add(struct core *core, struct network *n)
{
    g_hash_table_insert(core->networks_by_name, g_strdup(n->def->name), n);
    g_hash_table_insert(core->networks_by_uuid, uuid_key(n->def->uuid), n);
}

static void
registry_remove(struct core *core, struct network *n)
{
    g_autofree char *key = uuid_key(n->def->uuid);
    g_hash_table_remove(core->networks_by_uuid, key);
    g_hash_table_remove(core->networks_by_name, n->def->name); /* unrefs */
}

static void
emit(struct core *core, struct network *n, int event)
{
    struct event ev = {
        .object = EVENT_OBJECT_NETWORK,
        .kind = 0, /* VIR_NETWORK_EVENT_ID_LIFECYCLE */
        .name = n->def->name,
        .id = -1,
        .event = event,
    };
    memcpy(ev.uuid, n->def->uuid, UUID_LEN);
    events_emit(core->events, &ev);
}

static gboolean
config_write(struct core *core, const struct network_def *def, GError **error)
{
    g_autofree char *xml = network_def_format(def, NETWORK_DEF_FORMAT_INACTIVE);
    g_autofree char *path = config_path(core, def->name);
    return file_write_atomic(path, xml, strlen(xml), 0600, FILE_DURABLE, error);
}

static gboolean
state_write(struct core *core, const struct network *n, GError **error)
{
    g_autofree char *xml = network_def_format(n->def, 0);
    g_autofree char *path = state_path(core, n->def->name);
    return file_write_atomic(path, xml, strlen(xml), 0600, 0, error);
}

/* The persistent definition: the next start's, or the running one's. */
static struct network_def *
persistent_def(struct network *n)
{
    return n->new_def ? n->new_def : n->def;
}

/* ---- lookups ---- */

struct network *
core_network_lookup_name(struct core *core, const char *name, GError **error)
{
    struct network *n =
        core->networks_by_name ? g_hash_table_lookup(core->networks_by_name, name) : NULL;
    if (!n)
        err_set(error, ERR_FROM_NETWORK, ERR_NO_NETWORK, "no network with matching name '%s'",
                name);
    return n;
}

struct network *
core_network_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error)
{
    g_autofree char *key = uuid_key(uuid);
    struct network *n =
        core->networks_by_uuid ? g_hash_table_lookup(core->networks_by_uuid, key) : NULL;
    if (!n)
        err_set(error, ERR_FROM_NETWORK, ERR_NO_NETWORK, "no network with matching uuid '%s'", key);
    return n;
}

static int
by_name(gconstpointer a, gconstpointer b)
{
    const struct network *x = *(struct network *const *)a;
    const struct network *y = *(struct network *const *)b;
    return strcmp(x->def->name, y->def->name);
}

static gboolean
matches(const struct network *n, unsigned flags)
{
    if ((flags & (NET_LIST_ACTIVE | NET_LIST_INACTIVE)) &&
        !((flags & NET_LIST_ACTIVE && n->active) || (flags & NET_LIST_INACTIVE && !n->active)))
        return FALSE;
    if ((flags & (NET_LIST_PERSISTENT | NET_LIST_TRANSIENT)) &&
        !((flags & NET_LIST_PERSISTENT && n->persistent) ||
          (flags & NET_LIST_TRANSIENT && !n->persistent)))
        return FALSE;
    if ((flags & (NET_LIST_AUTOSTART | NET_LIST_NO_AUTOSTART)) &&
        !((flags & NET_LIST_AUTOSTART && n->autostart) ||
          (flags & NET_LIST_NO_AUTOSTART && !n->autostart)))
        return FALSE;
    return TRUE;
}

GPtrArray *
core_network_list(struct core *core, unsigned flags)
{
    GPtrArray *ret = g_ptr_array_new();
    if (!core->networks_by_name)
        return ret;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->networks_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        if (matches(value, flags))
            g_ptr_array_add(ret, value);
    }
    g_ptr_array_sort(ret, by_name);
    return ret;
}

/* ---- checks against the other networks and the host ---- */

static gboolean
check_unique(struct core *core, const struct network_def *def, struct network **ret, GError **error)
{
    g_autofree char *key = uuid_key(def->uuid);
    struct network *with_name = g_hash_table_lookup(core->networks_by_name, def->name);
    struct network *with_uuid = g_hash_table_lookup(core->networks_by_uuid, key);
    if (with_name && with_name != with_uuid) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "network '%s' already exists with another uuid", def->name);
        return FALSE;
    }
    if (with_uuid && with_uuid != with_name) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED, "network '%s' already has uuid %s",
                with_uuid->def->name, key);
        return FALSE;
    }
    *ret = with_name;
    return TRUE;
}

/* The network other than SELF whose definitions use BRIDGE, or NULL. */
static struct network *
bridge_user(struct core *core, const char *bridge, const struct network *self)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->networks_by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct network *n = value;
        if (n == self)
            continue;
        if ((n->def->bridge && g_str_equal(n->def->bridge, bridge)) ||
            (n->new_def && n->new_def->bridge && g_str_equal(n->new_def->bridge, bridge)))
            return n;
    }
    return NULL;
}

/* Fills what the XML may leave out: a bridge name no other network and no host interface
 * has, and a MAC for the bridge. A bridge name another network uses is refused. */
static gboolean
complete(struct core *core, struct network_def *def, const struct network *self, GError **error)
{
    if (!network_def_owns_bridge(def))
        return TRUE;
    if (def->bridge) {
        struct network *other = bridge_user(core, def->bridge, self);
        if (other) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                    "bridge name '%s' is already used by network '%s'; choose another", def->bridge,
                    other->def->name);
            return FALSE;
        }
    } else {
        /* a redefinition keeps the bridge it had */
        const struct network_def *had = self ? persistent_def((struct network *)self) : NULL;
        for (unsigned i = 0; !def->bridge && i < BRIDGE_MAX_INDEX; i++) {
            g_autofree char *name = g_strdup_printf(BRIDGE_TEMPLATE, i);
            gboolean ours = had && had->bridge && g_str_equal(had->bridge, name);
            if (ours || (!bridge_user(core, name, self) && !netdev_exists(name)))
                def->bridge = g_steal_pointer(&name);
        }
        if (!def->bridge) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                    "no free bridge name virbr0..virbr%d; name one in <bridge name='…'/>",
                    BRIDGE_MAX_INDEX - 1);
            return FALSE;
        }
    }
    if (!def->mac_given) {
        const struct network_def *had = self ? persistent_def((struct network *)self) : NULL;
        if (had && had->mac_given)
            memcpy(def->mac, had->mac, MAC_LEN);
        else
            mac_generate(def->mac);
        def->mac_given = TRUE;
    }
    return TRUE;
}

/* Refuses addresses of DEF that another active network or a host route already covers. */
static gboolean
check_subnets(struct core *core, const struct network_def *def, GError **error)
{
    for (guint i = 0; i < def->ips->len; i++) {
        const struct network_ip *ip = def->ips->pdata[i];
        char a[NETADDR_STRING_LEN], b[NETADDR_STRING_LEN];
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, core->networks_by_name);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            struct network *n = value;
            if (!n->active || g_str_equal(n->def->name, def->name))
                continue;
            for (guint j = 0; j < n->def->ips->len; j++) {
                const struct network_ip *o = n->def->ips->pdata[j];
                if (o->address.family == ip->address.family &&
                    netaddr_subnets_overlap(&o->address, o->prefix, &ip->address, ip->prefix)) {
                    err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                            "subnet %s/%u of network '%s' overlaps %s/%u of active network '%s'; "
                            "choose another address",
                            netaddr_format(&ip->address, a), ip->prefix, def->name,
                            netaddr_format(&o->address, b), o->prefix, n->def->name);
                    return FALSE;
                }
            }
        }
        g_autoptr(GPtrArray) routes = netdev_routes(ip->address.family, error);
        if (!routes)
            return FALSE;
        for (guint j = 0; j < routes->len; j++) {
            const struct netdev_route *r = routes->pdata[j];
            if (g_str_equal(r->dev, def->bridge))
                continue;
            if (netaddr_subnets_overlap(&r->dest, r->prefix, &ip->address, ip->prefix)) {
                err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                        "subnet %s/%u of network '%s' is already in use by interface '%s' "
                        "(route %s/%u); choose another address",
                        netaddr_format(&ip->address, a), ip->prefix, def->name, r->dev,
                        netaddr_format(&r->dest, b), r->prefix);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* ---- the host side ---- */

/* Takes down what start_on_host set up, as far as it went; safe on a partial start. */
/* Whether the network's <bandwidth> shapes its bridge. */
static gboolean
shaped(const struct network_def *def)
{
    return bandwidth_rate_given(&def->inbound) || bandwidth_rate_given(&def->outbound);
}

static void
stop_on_host(struct network *n)
{
    g_autoptr(GError) err = NULL;
    dnsmasq_stop(&n->dnsmasq);
    /* a host bridge stays: what the network set on it goes */
    if (!network_def_owns_bridge(n->def) && shaped(n->def) && netdev_exists(n->def->bridge))
        bandwidth_clear(n->def->bridge);
    if (network_def_owns_bridge(n->def)) {
        if (!firewall_remove(n->def, &err)) {
            log_warn("network '%s': %s", n->def->name, err->message);
            g_clear_error(&err);
        }
        if (netdev_exists(n->def->bridge) && !netdev_delete(n->def->bridge, &err))
            log_warn("network '%s': %s", n->def->name, err->message);
    }
}

static gboolean
start_on_host(struct core *core, struct network *n, GError **error)
{
    struct network_def *def = n->def;
    if (!network_def_owns_bridge(def)) {
        if (!netdev_exists(def->bridge) || !netdev_is_bridge(def->bridge)) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                    "cannot start network '%s': host bridge '%s' does not exist; create it first",
                    def->name, def->bridge);
            return FALSE;
        }
        if (shaped(def) &&
            !bandwidth_set_bridge(def->bridge, &def->inbound, &def->outbound, error)) {
            g_prefix_error(error, "starting network '%s': ", def->name);
            return FALSE;
        }
        return TRUE;
    }
    if (netdev_exists(def->bridge)) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "cannot start network '%s': interface '%s' already exists; give the network "
                "another bridge name",
                def->name, def->bridge);
        return FALSE;
    }
    if (!check_subnets(core, def, error))
        return FALSE;
    g_autofree char *dir = dnsmasq_dir(core);
    /* dnsmasq rereads nothing from here after it dropped to its own user */
    if (!file_mkdir_p(dir, 0700, error))
        return FALSE;
    if (!netdev_bridge_create(def->bridge, def->mac, def->mtu, def->stp, def->delay, error))
        return FALSE;
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < def->ips->len; i++) {
        const struct network_ip *ip = def->ips->pdata[i];
        ok = netdev_add_address(def->bridge, &ip->address, ip->prefix, error);
    }
    ok = ok && netdev_set_up(def->bridge, TRUE, error) && firewall_apply(def, error) &&
         (!shaped(def) || bandwidth_set_bridge(def->bridge, &def->inbound, &def->outbound, error));
    if (ok && (def->forward == NETWORK_FORWARD_NAT || def->forward == NETWORK_FORWARD_ROUTE)) {
        for (guint i = 0; ok && i < def->ips->len; i++) {
            const struct network_ip *ip = def->ips->pdata[i];
            ok = firewall_enable_forwarding(ip->address.family, error);
        }
    }
    if (ok && dnsmasq_needed(def))
        ok = dnsmasq_start(core->dnsmasq_binary, def, &n->dnsmasq, error) > 0;
    if (!ok) {
        g_prefix_error(error, "starting network '%s': ", def->name);
        stop_on_host(n);
        return FALSE;
    }
    return TRUE;
}

/* ---- lifecycle ---- */

gboolean
core_network_start(struct core *core, struct network *net, GError **error)
{
    if (net->active) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID, "network '%s' is already active",
                net->def->name);
        return FALSE;
    }
    if (!start_on_host(core, net, error))
        return FALSE;
    net->active = TRUE;
    if (!state_write(core, net, error)) {
        stop_on_host(net);
        net->active = FALSE;
        return FALSE;
    }
    log_info("network '%s': started on bridge '%s'", net->def->name, net->def->bridge);
    emit(core, net, NET_EVENT_STARTED);
    return TRUE;
}

gboolean
core_network_destroy(struct core *core, struct network *net, GError **error)
{
    if (!net->active) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID, "network '%s' is not active",
                net->def->name);
        return FALSE;
    }
    g_autofree char *state = state_path(core, net->def->name);
    if (!file_remove(state, error))
        return FALSE;
    stop_on_host(net);
    net->active = FALSE;
    net->def->connections = 0;
    log_info("network '%s': stopped", net->def->name);
    /* the event names the network: keep it until it was sent */
    net->refs++;
    emit(core, net, NET_EVENT_STOPPED);
    if (!net->persistent) {
        dnsmasq_remove_files(&net->dnsmasq);
        registry_remove(core, net);
    } else if (net->new_def) {
        network_def_free(net->def);
        net->def = g_steal_pointer(&net->new_def);
    }
    network_unref(net);
    return TRUE;
}

struct network *
core_network_define(struct core *core, const char *xml, GError **error)
{
    g_autoptr(network_def) def = network_def_parse(xml, error);
    struct network *existing = NULL;
    if (!def || !check_unique(core, def, &existing, error) ||
        !complete(core, def, existing, error) || !config_write(core, def, error))
        return NULL;
    struct network *n = existing;
    if (!n) {
        n = network_new(core, g_steal_pointer(&def));
        registry_add(core, n);
    } else if (n->active) {
        network_def_free(n->new_def);
        n->new_def = g_steal_pointer(&def);
    } else {
        network_def_free(n->def);
        n->def = g_steal_pointer(&def);
    }
    n->persistent = TRUE;
    emit(core, n, NET_EVENT_DEFINED);
    return n;
}

struct network *
core_network_create_xml(struct core *core, const char *xml, GError **error)
{
    g_autoptr(network_def) def = network_def_parse(xml, error);
    struct network *existing = NULL;
    if (!def || !check_unique(core, def, &existing, error))
        return NULL;
    if (existing) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                existing->active ? "network '%s' is already active"
                                 : "network '%s' is already defined; start it with net-start",
                def->name);
        return NULL;
    }
    if (!complete(core, def, NULL, error))
        return NULL;
    struct network *n = network_new(core, g_steal_pointer(&def));
    registry_add(core, n);
    if (!core_network_start(core, n, error)) {
        registry_remove(core, n);
        return NULL;
    }
    return n;
}

gboolean
core_network_undefine(struct core *core, struct network *net, GError **error)
{
    if (!net->persistent) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "network '%s' is transient: it has no persistent config to undefine",
                net->def->name);
        return FALSE;
    }
    g_autofree char *config = config_path(core, net->def->name);
    g_autofree char *autostart = autostart_path(core, net->def->name);
    if (!file_remove(autostart, error) || !file_remove(config, error))
        return FALSE;
    net->persistent = FALSE;
    net->autostart = FALSE;
    g_clear_pointer(&net->new_def, network_def_free);
    net->refs++;
    emit(core, net, NET_EVENT_UNDEFINED);
    if (!net->active) {
        dnsmasq_remove_files(&net->dnsmasq);
        registry_remove(core, net);
    }
    network_unref(net);
    return TRUE;
}

gboolean
core_network_set_autostart(struct core *core, struct network *net, gboolean on, GError **error)
{
    if (!net->persistent) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "cannot set autostart for transient network '%s'", net->def->name);
        return FALSE;
    }
    g_autofree char *path = autostart_path(core, net->def->name);
    if (on && !file_write_atomic(path, "", 0, 0600, FILE_DURABLE, error))
        return FALSE;
    if (!on && !file_remove(path, error))
        return FALSE;
    net->autostart = on;
    return TRUE;
}

/* Guest NICs of running domains plugged into NET's bridge: counted when asked, so that no
 * counter can drift from what runs. */
static unsigned
count_connections(struct core *core, const struct network *net)
{
    unsigned n = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *dom = value;
        if (dom->id < 0)
            continue;
        for (guint i = 0; i < dom->def->nets->len; i++) {
            const struct net_def *nic = dom->def->nets->pdata[i];
            n += nic->type == NET_TYPE_NETWORK && nic->live_bridge &&
                 g_str_equal(nic->source, net->def->name);
        }
    }
    return n;
}

char *
core_network_xml(struct core *core, struct network *net, unsigned flags)
{
    if (flags & NETWORK_DEF_FORMAT_INACTIVE)
        return network_def_format(persistent_def(net), flags);
    if (!net->active)
        return network_def_format(net->def, NETWORK_DEF_FORMAT_INACTIVE);
    net->def->connections = count_connections(core, net);
    return network_def_format(net->def, 0);
}

/* The NIC's own bandwidth and VLAN, else those of its portgroup (the one it names, or the
 * network's default one), else (VLAN) the network's: what the port gets, written into the
 * live NIC as libvirt's actual definition */
static gboolean
resolve_port(const struct network *n, struct net_def *nic, GError **error)
{
    const struct network_portgroup *pg = network_def_portgroup(n->def, nic->portgroup);
    if (nic->portgroup && !pg) {
        err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG,
                "network '%s' has no portgroup '%s'; use one of its <portgroup> names",
                n->def->name, nic->portgroup);
        return FALSE;
    }
    if (pg && !bandwidth_rate_given(&nic->inbound) && !bandwidth_rate_given(&nic->outbound)) {
        nic->inbound = pg->inbound;
        nic->outbound = pg->outbound;
    }
    const struct vlan_def *vlan = pg && pg->vlan.ntags ? &pg->vlan : &n->def->vlan;
    if (!nic->vlan.ntags && vlan->ntags)
        vlan_def_copy(&nic->vlan, vlan);
    return TRUE;
}

/* The floors of the ports on BRIDGE but SKIP: those of the live definitions that hold a class
 * (the class goes, and the mark with it, when the port leaves) */
static guint64
floors_on(struct core *core, const char *bridge, const struct net_def *skip)
{
    guint64 sum = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *dom = value;
        for (guint i = 0; i < dom->def->nets->len; i++) {
            const struct net_def *nic = dom->def->nets->pdata[i];
            if (nic != skip && nic->floor_class && g_strcmp0(nic->live_bridge, bridge) == 0)
                sum += nic->inbound.floor;
        }
    }
    return sum;
}

/* A floor is a share of the network's inbound rate: the network must be one Domus shapes,
 * with an inbound average the floors all fit in (libvirt's rules and messages) */
static gboolean
check_floor(struct core *core, const struct network *n, const struct net_def *nic, guint64 floor,
            GError **error)
{
    char mac[MAC_STRING_LEN];
    mac_format(nic->mac, mac);
    if (n->def->forward == NETWORK_FORWARD_BRIDGE) {
        err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only "
                "supported for interface type 'network' with forward type 'nat', 'route', 'open' "
                "or none",
                mac);
        return FALSE;
    }
    if (!n->def->inbound.average) {
        err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                "Invalid use of 'floor' on interface with MAC address %s - network '%s' has no "
                "inbound QoS set",
                mac, n->def->name);
        return FALSE;
    }
    guint64 others = floors_on(core, n->def->bridge, nic);
    if (others + floor > n->def->inbound.average) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "Cannot plug '%s' interface into '%s' because it would overcommit 'floor' on "
                "'inbound' (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " KiB/s are taken)",
                mac, n->def->bridge, others, n->def->inbound.average);
        return FALSE;
    }
    return TRUE;
}

/* The tap TAP of NIC joins VLAN's VLANs on BRIDGE (its VLAN filtering turned on): an access
 * port (the tag untagged, the port's own) or a trunk (each tag tagged, the native one the
 * port's, untagged when nativeMode='untagged'); the default VLAN 1 goes */
static gboolean
apply_vlan(const char *tap, const char *bridge, const struct vlan_def *vlan, GError **error)
{
    for (guint i = 0; i < vlan->ntags; i++) {
        if (vlan->tags[i] < 1 || vlan->tags[i] > 4094) {
            err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                    "vlan tag %u cannot be used on a Linux bridge; use 1 to 4094", vlan->tags[i]);
            return FALSE;
        }
    }
    if (!netdev_bridge_vlan_filtering(bridge, error))
        return FALSE;
    /* the port may not be in VLAN 1 (the bridge's default_pvid may be another or none) */
    netdev_port_vlan(tap, 1, FALSE, 0, NULL);
    for (guint i = 0; i < vlan->ntags; i++) {
        unsigned flags = 0;
        if (!vlan->trunk)
            flags = NETDEV_VLAN_PVID | NETDEV_VLAN_UNTAGGED;
        else if (vlan->native_mode != VLAN_NATIVE_NONE && vlan->tags[i] == vlan->native_tag)
            flags = NETDEV_VLAN_PVID |
                    (vlan->native_mode == VLAN_NATIVE_UNTAGGED ? NETDEV_VLAN_UNTAGGED : 0);
        if (!netdev_port_vlan(tap, vlan->tags[i], TRUE, flags, error))
            return FALSE;
    }
    return TRUE;
}

/* NIC's floor on its network N: a class on the bridge, numbered by the tap's interface index
 * (unique while the tap lives), recorded in the live NIC for the unplug */
static gboolean
plug_floor(struct core *core, const struct network *n, struct net_def *nic, const char *tap,
           GError **error)
{
    unsigned idx = if_nametoindex(tap);
    if (idx < 3 || idx > 0xffff) {
        err_set(error, ERR_FROM_NETWORK, ERR_INTERNAL_ERROR,
                "interface index %u of '%s' cannot number a tc class", idx, tap);
        return FALSE;
    }
    if (!bandwidth_floor_plug(n->def->bridge, &n->def->inbound, idx, nic->mac, &nic->inbound,
                              floors_on(core, n->def->bridge, nic), error))
        return FALSE;
    nic->floor_class = idx;
    return TRUE;
}

void
core_network_unplug(struct core *core, struct net_def *nic)
{
    if (!nic->floor_class || !nic->live_bridge)
        return;
    unsigned id = nic->floor_class;
    nic->floor_class = 0;
    struct network *n =
        core->networks_by_name ? g_hash_table_lookup(core->networks_by_name, nic->source) : NULL;
    if (!n || !n->active || g_strcmp0(n->def->bridge, nic->live_bridge) != 0 ||
        !netdev_exists(nic->live_bridge))
        return;
    g_autoptr(GError) err = NULL;
    if (!bandwidth_floor_unplug(nic->live_bridge, &n->def->inbound, id,
                                floors_on(core, nic->live_bridge, nic), &err))
        log_warn("network '%s': %s", n->def->name, err->message);
}

gboolean
core_network_set_floor(struct core *core, struct net_def *nic, const struct bandwidth_rate *in,
                       GError **error)
{
    if (in->floor == (nic->floor_class ? nic->inbound.floor : 0))
        return TRUE;
    struct network *n = nic->type == NET_TYPE_NETWORK && core->networks_by_name
                            ? g_hash_table_lookup(core->networks_by_name, nic->source)
                            : NULL;
    if (!n || !n->active || !nic->target_dev) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "the floor of interface '%s' cannot change: it is on no active network",
                nic->info.alias);
        return FALSE;
    }
    if (in->floor && !check_floor(core, n, nic, in->floor, error))
        return FALSE;
    struct bandwidth_rate old = nic->inbound;
    core_network_unplug(core, nic);
    if (!in->floor)
        return TRUE;
    nic->inbound = *in;
    if (plug_floor(core, n, nic, nic->target_dev, error))
        return TRUE;
    /* the old guarantee back, if it was one */
    nic->inbound = old;
    if (old.floor && !plug_floor(core, n, nic, nic->target_dev, NULL))
        log_warn("network '%s': the floor of '%s' is lost", n->def->name, nic->target_dev);
    return FALSE;
}

int
core_network_plug(struct core *core, const char *dom_name, struct net_def *nic, GError **error)
{
    const char *bridge = NULL;
    unsigned mtu = 0;
    struct network *n = NULL;
    if (nic->type == NET_TYPE_NETWORK) {
        n = core->networks_by_name ? g_hash_table_lookup(core->networks_by_name, nic->source)
                                   : NULL;
        if (!n) {
            err_set(error, ERR_FROM_NETWORK, ERR_NO_NETWORK, "no network with matching name '%s'",
                    nic->source);
            return -1;
        }
        if (!n->active) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                    "network '%s' is not active; start it with net-start", nic->source);
            return -1;
        }
        if (!resolve_port(n, nic, error))
            return -1;
        if (nic->vlan.ntags && n->def->forward != NETWORK_FORWARD_BRIDGE) {
            err_set(error, ERR_FROM_NETWORK, ERR_CONFIG_UNSUPPORTED,
                    "interface '%s' - vlan tag not supported on network '%s' with forward mode "
                    "'%s': VLAN tags need a host bridge (forward mode='bridge')",
                    nic->info.alias, n->def->name, network_forward_to_string(n->def->forward));
            return -1;
        }
        if (nic->inbound.floor && !check_floor(core, n, nic, nic->inbound.floor, error))
            return -1;
        bridge = n->def->bridge;
        mtu = n->def->mtu;
    } else if (nic->type == NET_TYPE_BRIDGE) {
        bridge = nic->source;
        if (!netdev_exists(bridge) || !netdev_is_bridge(bridge)) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                    "host bridge '%s' of domain '%s' does not exist; create it first", bridge,
                    dom_name);
            return -1;
        }
    }
    g_autofree char *name = NULL;
    autoclose int fd = nic->target_unmanaged ? netdev_tap_open(nic->target_dev, &name, error)
                                             : netdev_tap_create(nic->target_dev, &name, error);
    if (fd < 0)
        return -1;
    if (!nic->target_unmanaged) {
        uint8_t mac[MAC_LEN];
        memcpy(mac, nic->mac, MAC_LEN);
        mac[0] = 0xfe;
        if (bridge && !mtu)
            mtu = netdev_get_mtu(bridge);
        if (!netdev_set_mac(name, mac, error) || (mtu && !netdev_set_mtu(name, mtu, error)) ||
            (bridge && !netdev_set_master(name, bridge, error)) ||
            (bridge && nic->vlan.ntags && !apply_vlan(name, bridge, &nic->vlan, error)) ||
            !netdev_set_up(name, TRUE, error)) {
            g_prefix_error(error, "interface '%s' of domain '%s': ", nic->info.alias, dom_name);
            return -1;
        }
    }
    if ((nic->inbound.average || nic->outbound.average) &&
        !bandwidth_set(name, &nic->inbound, &nic->outbound, error)) {
        g_prefix_error(error, "bandwidth of interface '%s' of domain '%s': ", nic->info.alias,
                       dom_name);
        return -1;
    }
    g_free(nic->live_bridge);
    nic->live_bridge = nic->type == NET_TYPE_NETWORK ? g_strdup(bridge) : NULL;
    if (n && nic->inbound.floor && !plug_floor(core, n, nic, name, error)) {
        g_prefix_error(error, "floor of interface '%s' of domain '%s': ", nic->info.alias,
                       dom_name);
        g_clear_pointer(&nic->live_bridge, g_free);
        return -1;
    }
    g_free(nic->target_dev);
    nic->target_dev = g_steal_pointer(&name);
    return g_steal_fd(&fd);
}

const char *
core_network_bridge(struct network *net, GError **error)
{
    if (!net->def->bridge) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "network '%s' does not have a bridge name", net->def->name);
        return NULL;
    }
    return net->def->bridge;
}

GPtrArray *
core_network_leases(struct network *net, const char *mac, GArray **ret_prefixes, GError **error)
{
    uint8_t want[MAC_LEN];
    char want_s[MAC_STRING_LEN];
    if (mac && !mac_parse(mac, want)) {
        err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG, "invalid mac address '%s'", mac);
        return NULL;
    }
    if (mac)
        mac_format(want, want_s);
    /* dnsmasq writes the file as its own user: bounded before it is read */
    g_autofree char *text = NULL;
    GStatBuf st;
    if (net->active && g_stat(net->dnsmasq.leases, &st) == 0 && st.st_size > LEASES_FILE_MAX) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_FAILED,
                "lease file '%s' of network '%s' is %lld bytes, over the limit of %d",
                net->dnsmasq.leases, net->def->name, (long long)st.st_size, LEASES_FILE_MAX);
        return NULL;
    }
    GPtrArray *all = net->active && g_file_get_contents(net->dnsmasq.leases, &text, NULL, NULL)
                         ? dnsmasq_leases_parse(text)
                         : g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify)dnsmasq_lease_free);
    GArray *prefixes = g_array_new(FALSE, FALSE, sizeof(guint));
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    for (guint i = 0; i < all->len; i++) {
        struct dnsmasq_lease *l = all->pdata[i];
        struct netaddr a;
        if ((mac && (!l->mac || !g_str_equal(l->mac, want_s))) || (l->expiry && l->expiry < now) ||
            !netaddr_parse(l->ip, &a))
            continue;
        guint prefix = 0;
        for (guint j = 0; j < net->def->ips->len; j++) {
            const struct network_ip *ip = net->def->ips->pdata[j];
            if (netaddr_in_subnet(&a, &ip->address, ip->prefix))
                prefix = ip->prefix;
        }
        g_array_append_val(prefixes, prefix);
        g_ptr_array_add(ret, g_steal_pointer(&all->pdata[i]));
    }
    g_ptr_array_unref(all);
    *ret_prefixes = prefixes;
    return ret;
}

void
core_network_reattach(struct core *core, struct domain *dom)
{
    for (guint i = 0; i < dom->def->nets->len; i++) {
        struct net_def *nic = dom->def->nets->pdata[i];
        const char *bridge = NULL;
        if (nic->type == NET_TYPE_NETWORK) {
            struct network *n = core->networks_by_name
                                    ? g_hash_table_lookup(core->networks_by_name, nic->source)
                                    : NULL;
            bridge = n && n->active ? n->def->bridge : NULL;
        } else if (nic->type == NET_TYPE_BRIDGE) {
            bridge = nic->source;
        }
        if (!bridge || !nic->target_dev || !netdev_exists(nic->target_dev) ||
            !netdev_exists(bridge))
            continue;
        g_autofree char *master = netdev_master(nic->target_dev);
        if (master && g_str_equal(master, bridge))
            continue;
        g_autoptr(GError) err = NULL;
        /* a new bridge: the port's VLANs and its floor's class are made again */
        nic->floor_class = 0;
        if (!netdev_set_master(nic->target_dev, bridge, &err) ||
            (nic->vlan.ntags && !apply_vlan(nic->target_dev, bridge, &nic->vlan, &err))) {
            log_warn("%s: %s", dom->def->name, err->message);
            continue;
        }
        if (nic->type == NET_TYPE_NETWORK && nic->inbound.floor) {
            struct network *n = g_hash_table_lookup(core->networks_by_name, nic->source);
            if (!check_floor(core, n, nic, nic->inbound.floor, &err) ||
                !plug_floor(core, n, nic, nic->target_dev, &err))
                log_warn("%s: %s", dom->def->name, err->message);
        }
        log_info("%s: tap '%s' put back on bridge '%s'", dom->def->name, nic->target_dev, bridge);
        if (nic->type == NET_TYPE_NETWORK) {
            g_free(nic->live_bridge);
            nic->live_bridge = g_strdup(bridge);
        }
    }
}

GPtrArray *
core_network_lease_interfaces(struct core *core, struct domain *dom, GError **error)
{
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify)guest_iface_free);
    for (guint i = 0; i < dom->def->nets->len; i++) {
        const struct net_def *nic = dom->def->nets->pdata[i];
        if (nic->type != NET_TYPE_NETWORK)
            continue;
        struct network *n = core_network_lookup_name(core, nic->source, error);
        if (!n) {
            g_ptr_array_unref(ret);
            return NULL;
        }
        char mac[MAC_STRING_LEN];
        mac_format(nic->mac, mac);
        g_autoptr(GArray) prefixes = NULL;
        g_autoptr(GPtrArray) leases = core_network_leases(n, mac, &prefixes, error);
        if (!leases) {
            g_ptr_array_unref(ret);
            return NULL;
        }
        if (!leases->len)
            continue;
        struct guest_iface *iface = guest_iface_new(nic->target_dev, mac);
        for (guint j = 0; j < leases->len; j++) {
            const struct dnsmasq_lease *l = leases->pdata[j];
            guest_iface_add(iface, l->family == AF_INET6 ? 1 : 0, l->ip,
                            g_array_index(prefixes, guint, j));
        }
        g_ptr_array_add(ret, iface);
    }
    return ret;
}

char *
core_network_lease_hostname(struct core *core, struct domain *dom, GError **error)
{
    for (guint i = 0; i < dom->def->nets->len; i++) {
        const struct net_def *nic = dom->def->nets->pdata[i];
        struct network *n = nic->type == NET_TYPE_NETWORK && core->networks_by_name
                                ? g_hash_table_lookup(core->networks_by_name, nic->source)
                                : NULL;
        if (!n)
            continue;
        char mac[MAC_STRING_LEN];
        mac_format(nic->mac, mac);
        g_autoptr(GArray) prefixes = NULL;
        g_autoptr(GPtrArray) leases = core_network_leases(n, mac, &prefixes, NULL);
        for (guint j = 0; leases && j < leases->len; j++) {
            const struct dnsmasq_lease *l = leases->pdata[j];
            if (l->hostname)
                return g_strdup(l->hostname);
        }
    }
    err_set(error, ERR_FROM_DOMAIN, ERR_NO_HOSTNAME, "no hostname found for domain '%s'",
            dom->def->name);
    return NULL;
}

GPtrArray *
core_network_arp_interfaces(struct domain *dom, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents("/proc/net/arp", &text, NULL, &err)) {
        err_set(error, ERR_FROM_NETWORK, ERR_SYSTEM_ERROR, "cannot read the ARP table: %s",
                err->message);
        return NULL;
    }
    /* "IP address  HW type  Flags  HW address  Mask  Device", one line each */
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify)guest_iface_free);
    for (guint i = 0; i < dom->def->nets->len; i++) {
        const struct net_def *nic = dom->def->nets->pdata[i];
        char mac[MAC_STRING_LEN];
        mac_format(nic->mac, mac);
        for (guint j = 1; lines[0] && lines[j]; j++) {
            g_auto(GStrv) f = g_strsplit_set(lines[j], " \t", -1);
            g_autoptr(GPtrArray) words = g_ptr_array_new();
            for (guint k = 0; f[k]; k++) {
                if (*f[k])
                    g_ptr_array_add(words, f[k]);
            }
            if (words->len >= 4 && g_ascii_strcasecmp(words->pdata[3], mac) == 0) {
                struct guest_iface *iface = guest_iface_new(nic->target_dev, mac);
                guest_iface_add(iface, 0, words->pdata[0], 0);
                g_ptr_array_add(ret, iface);
            }
        }
    }
    return ret;
}

/* ---- update ---- */

/* The <ip> of DEF a DHCP host goes to: PARENT_INDEX when >= 0, else the first with the host's
 * address family (IPv4 when it has no address). */
static struct network_ip *
update_ip(struct network_def *def, int parent_index, const struct network_dhcp_host *h,
          GError **error)
{
    int family = h->ip.family ? h->ip.family : AF_INET;
    if (parent_index >= 0) {
        if ((guint)parent_index >= def->ips->len) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                    "network '%s' has no <ip> number %d", def->name, parent_index);
            return NULL;
        }
        return def->ips->pdata[parent_index];
    }
    for (guint i = 0; i < def->ips->len; i++) {
        struct network_ip *ip = def->ips->pdata[i];
        if (ip->address.family == family)
            return ip;
    }
    err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
            "couldn't update dhcp host entry: network '%s' has no %s <ip> element", def->name,
            family == AF_INET ? "IPv4" : "IPv6");
    return NULL;
}

static gboolean
same_dhcp_host(const struct network_dhcp_host *a, const struct network_dhcp_host *b)
{
    if (a->mac || b->mac)
        return a->mac && b->mac && g_str_equal(a->mac, b->mac);
    return a->name && b->name && g_str_equal(a->name, b->name);
}

static gboolean
update_dhcp_host(struct network_def *def, unsigned command, int parent_index, const char *xml,
                 GError **error)
{
    g_autoptr(network_dhcp_host) h = network_def_dhcp_host_parse(xml, error);
    struct network_ip *ip = h ? update_ip(def, parent_index, h, error) : NULL;
    if (!ip)
        return FALSE;
    int found = -1;
    for (guint i = 0; i < ip->hosts->len; i++) {
        const struct network_dhcp_host *o = ip->hosts->pdata[i];
        gboolean exact =
            g_strcmp0(o->mac, h->mac) == 0 && g_strcmp0(o->name, h->name) == 0 &&
            (o->ip.family == h->ip.family && (!o->ip.family || netaddr_equal(&o->ip, &h->ip)));
        if (command == NET_UPDATE_DELETE ? exact || same_dhcp_host(o, h) : same_dhcp_host(o, h))
            found = (int)i;
    }
    char mac_or_name[64];
    g_strlcpy(mac_or_name, h->mac ? h->mac : h->name, sizeof(mac_or_name));
    switch (command) {
    case NET_UPDATE_ADD_FIRST:
    case NET_UPDATE_ADD_LAST:
        if (found >= 0) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                    "there is an existing dhcp host entry in network '%s' that matches \"%s\"; "
                    "use modify to change it",
                    def->name, mac_or_name);
            return FALSE;
        }
        if (command == NET_UPDATE_ADD_FIRST)
            g_ptr_array_insert(ip->hosts, 0, g_steal_pointer(&h));
        else
            g_ptr_array_add(ip->hosts, g_steal_pointer(&h));
        break;
    case NET_UPDATE_DELETE:
    case NET_UPDATE_MODIFY:
        if (found < 0) {
            err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                    "couldn't locate a matching dhcp host entry \"%s\" in network '%s'",
                    mac_or_name, def->name);
            return FALSE;
        }
        if (command == NET_UPDATE_DELETE) {
            g_ptr_array_remove_index(ip->hosts, (guint)found);
        } else {
            network_dhcp_host_free(ip->hosts->pdata[found]);
            ip->hosts->pdata[found] = g_steal_pointer(&h);
        }
        break;
    }
    return TRUE;
}

static gboolean
update_dns_host(struct network_def *def, unsigned command, const char *xml, GError **error)
{
    g_autoptr(network_dns_host) h = network_def_dns_host_parse(xml, error);
    if (!h)
        return FALSE;
    int found = -1;
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const struct network_dns_host *o = def->dns_hosts->pdata[i];
        if (netaddr_equal(&o->ip, &h->ip))
            found = (int)i;
    }
    char a[NETADDR_STRING_LEN];
    netaddr_format(&h->ip, a);
    if ((command == NET_UPDATE_ADD_FIRST || command == NET_UPDATE_ADD_LAST) && found >= 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "there is already a DNS host entry with address %s in network '%s'; use modify", a,
                def->name);
        return FALSE;
    }
    if ((command == NET_UPDATE_DELETE || command == NET_UPDATE_MODIFY) && found < 0) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "couldn't locate a matching DNS HOST record with address %s in network '%s'", a,
                def->name);
        return FALSE;
    }
    if (command == NET_UPDATE_ADD_FIRST) {
        g_ptr_array_insert(def->dns_hosts, 0, g_steal_pointer(&h));
    } else if (command == NET_UPDATE_ADD_LAST) {
        g_ptr_array_add(def->dns_hosts, g_steal_pointer(&h));
    } else if (command == NET_UPDATE_DELETE) {
        g_ptr_array_remove_index(def->dns_hosts, (guint)found);
    } else {
        network_dns_host_free(def->dns_hosts->pdata[found]);
        def->dns_hosts->pdata[found] = g_steal_pointer(&h);
    }
    return TRUE;
}

/* Applies one edit to a copy of DEF and checks the result. Returns the copy. */
static struct network_def *
edited(const struct network_def *def, unsigned command, unsigned section, int parent_index,
       const char *xml, GError **error)
{
    g_autoptr(network_def) copy = network_def_copy(def);
    gboolean ok = section == NET_SECTION_IP_DHCP_HOST
                      ? update_dhcp_host(copy, command, parent_index, xml, error)
                      : update_dns_host(copy, command, xml, error);
    if (!ok || !network_def_check(copy, error))
        return NULL;
    return g_steal_pointer(&copy);
}

gboolean
core_network_update(struct core *core, struct network *net, unsigned command, unsigned section,
                    int parent_index, const char *xml, unsigned flags, GError **error)
{
    if (section != NET_SECTION_IP_DHCP_HOST && section != NET_SECTION_DNS_HOST) {
        err_set(error, ERR_FROM_NETWORK,
                section == 0 || section >= NET_SECTION_LAST ? ERR_INVALID_ARG : ERR_NO_SUPPORT,
                section == 0 || section >= NET_SECTION_LAST
                    ? "unknown network update section %u"
                    : "network update of section %u is not supported; ip-dhcp-host and dns-host "
                      "are",
                section);
        return FALSE;
    }
    if (command < NET_UPDATE_MODIFY || command > NET_UPDATE_ADD_FIRST) {
        err_set(error, ERR_FROM_NETWORK, ERR_INVALID_ARG, "unknown network update command %u",
                command);
        return FALSE;
    }
    gboolean live = flags & NET_UPDATE_AFFECT_LIVE, config = flags & NET_UPDATE_AFFECT_CONFIG;
    if (!live && !config) {
        /* current: the live network when active, else its config */
        live = net->active;
        config = !net->active;
    }
    if (live && !net->active) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "network '%s' is not active: its live state cannot be updated; use --config",
                net->def->name);
        return FALSE;
    }
    if (config && !net->persistent) {
        err_set(error, ERR_FROM_NETWORK, ERR_OPERATION_INVALID,
                "network '%s' is transient: it has no persistent config to update", net->def->name);
        return FALSE;
    }
    /* every edit is made and checked before anything is written or replaced */
    g_autoptr(network_def) new_live =
        live ? edited(net->def, command, section, parent_index, xml, error) : NULL;
    if (live && !new_live)
        return FALSE;
    g_autoptr(network_def) new_config =
        config ? edited(persistent_def(net), command, section, parent_index, xml, error) : NULL;
    if (config && (!new_config || !config_write(core, new_config, error)))
        return FALSE;
    if (config) {
        if (net->active) {
            network_def_free(net->new_def);
            net->new_def = g_steal_pointer(&new_config);
        } else {
            network_def_free(net->def);
            net->def = g_steal_pointer(&new_config);
        }
    }
    if (live) {
        new_live->connections = net->def->connections;
        network_def_free(net->def);
        net->def = g_steal_pointer(&new_live);
        g_autoptr(GError) err = NULL;
        if (!state_write(core, net, &err))
            log_warn("network '%s': %s", net->def->name, err->message);
        /* dnsmasq reads hosts at start: restart it on the new files */
        if (dnsmasq_needed(net->def)) {
            dnsmasq_stop(&net->dnsmasq);
            if (!dnsmasq_start(core->dnsmasq_binary, net->def, &net->dnsmasq, error))
                return FALSE;
        }
    }
    return TRUE;
}

/* ---- load, adopt, default ---- */

static struct network_def *
read_def(const char *path, GError **error)
{
    g_autofree char *xml = NULL;
    if (!g_file_get_contents(path, &xml, NULL, error))
        return NULL;
    return network_def_parse(xml, error);
}

/* An active network left by a previous daemon: keeps it when its bridge is still there
 * (dnsmasq started again if it died, firewall rules put back), else clears what is left. */
static void
adopt(struct core *core, struct network *n)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *state = state_path(core, n->def->name);
    gboolean bridge_ok = netdev_exists(n->def->bridge);
    gboolean ok = bridge_ok;
    if (ok && network_def_owns_bridge(n->def)) {
        ok = firewall_apply(n->def, &err);
        if (ok && dnsmasq_needed(n->def) && !dnsmasq_find(&n->dnsmasq)) {
            log_info("network '%s': dnsmasq is gone; starting it again", n->def->name);
            ok = dnsmasq_start(core->dnsmasq_binary, n->def, &n->dnsmasq, &err) > 0;
        }
    }
    if (ok) {
        n->active = TRUE;
        log_info("network '%s': adopted on bridge '%s'", n->def->name, n->def->bridge);
        return;
    }
    log_warn("network '%s' was active and cannot be kept (%s); it is inactive now", n->def->name,
             err ? err->message : "its bridge is gone");
    file_remove(state, NULL);
    stop_on_host(n);
}

static void
load_configs(struct core *core)
{
    g_autoptr(GDir) dir = g_dir_open(core->paths.network_config_dir, 0, NULL);
    const char *e;
    while (dir && (e = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(e, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(core->paths.network_config_dir, e, NULL);
        g_autoptr(GError) err = NULL;
        g_autoptr(network_def) def = read_def(path, &err);
        struct network *dup = NULL;
        if (!def || !check_unique(core, def, &dup, &err) || dup) {
            log_warn("ignoring network '%s': %s", path, err ? err->message : "duplicate");
            continue;
        }
        struct network *n = network_new(core, g_steal_pointer(&def));
        n->persistent = TRUE;
        g_autofree char *ap = autostart_path(core, n->def->name);
        n->autostart = g_file_test(ap, G_FILE_TEST_EXISTS);
        registry_add(core, n);
    }
}

static void
load_states(struct core *core)
{
    g_autoptr(GDir) dir = g_dir_open(core->paths.network_state_dir, 0, NULL);
    const char *e;
    while (dir && (e = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(e, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(core->paths.network_state_dir, e, NULL);
        g_autoptr(GError) err = NULL;
        g_autoptr(network_def) def = read_def(path, &err);
        struct network *n = NULL;
        if (!def || !check_unique(core, def, &n, &err)) {
            log_warn("ignoring network state '%s': %s", path, err ? err->message : "");
            file_remove(path, NULL);
            continue;
        }
        if (!n) {
            n = network_new(core, g_steal_pointer(&def));
            registry_add(core, n);
        } else {
            n->new_def = n->def;
            n->def = g_steal_pointer(&def);
        }
        adopt(core, n);
        if (!n->active && !n->persistent) {
            registry_remove(core, n);
        } else if (!n->active) {
            network_def_free(n->def);
            n->def = g_steal_pointer(&n->new_def);
        }
    }
}

/* 192.168.122.0/24, or the next 192.168.N.0/24 no route and no network uses. */
static char *
default_network_xml(struct core *core)
{
    g_autoptr(GPtrArray) routes = netdev_routes(AF_INET, NULL);
    for (unsigned third = 122; third < 255; third++) {
        struct netaddr a;
        g_autofree char *net = g_strdup_printf("192.168.%u.1", third);
        netaddr_parse(net, &a);
        gboolean used = FALSE;
        for (guint i = 0; routes && i < routes->len && !used; i++) {
            const struct netdev_route *r = routes->pdata[i];
            used = netaddr_subnets_overlap(&r->dest, r->prefix, &a, 24);
        }
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, core->networks_by_name);
        while (!used && g_hash_table_iter_next(&it, NULL, &value)) {
            const struct network_def *d = ((struct network *)value)->def;
            const struct network_ip *ip = network_def_ipv4(d);
            used = ip && netaddr_subnets_overlap(&ip->address, ip->prefix, &a, 24);
        }
        if (!used)
            return g_strdup_printf("<network><name>" DEFAULT_NETWORK "</name>"
                                   "<forward mode='nat'><nat><port start='1024' end='65535'/>"
                                   "</nat></forward><bridge stp='on' delay='0'/>"
                                   "<ip address='192.168.%u.1' netmask='255.255.255.0'><dhcp>"
                                   "<range start='192.168.%u.2' end='192.168.%u.254'/></dhcp>"
                                   "</ip></network>",
                                   third, third, third);
    }
    return NULL;
}

static void
create_default(struct core *core)
{
    g_autofree char *marker =
        g_build_filename(core->paths.network_config_dir, INITIALIZED_MARKER, NULL);
    if (g_file_test(marker, G_FILE_TEST_EXISTS))
        return;
    if (!g_hash_table_contains(core->networks_by_name, DEFAULT_NETWORK)) {
        g_autofree char *xml = default_network_xml(core);
        g_autoptr(GError) err = NULL;
        struct network *n = xml ? core_network_define(core, xml, &err) : NULL;
        if (!n || !core_network_set_autostart(core, n, TRUE, &err)) {
            log_warn("cannot define the default network: %s",
                     err ? err->message : "no free 192.168.N.0/24");
            return;
        }
        log_info("defined network 'default' on %s", n->def->bridge);
    }
    g_autoptr(GError) err = NULL;
    if (!file_write_atomic(marker, "", 0, 0600, FILE_DURABLE, &err))
        log_warn("%s", err->message);
}

gboolean
core_network_init(struct core *core, gboolean create_default_network, GError **error)
{
    core->networks_by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)network_unref);
    core->networks_by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *autostart_dir =
        g_build_filename(core->paths.network_config_dir, "autostart", NULL);
    if (!file_mkdir_p(autostart_dir, 0700, error) ||
        !file_mkdir_p(core->paths.network_state_dir, 0700, error))
        return FALSE;
    file_remove_stale_temps(core->paths.network_config_dir);
    file_remove_stale_temps(core->paths.network_state_dir);
    load_configs(core);
    load_states(core);
    if (create_default_network)
        create_default(core);
    g_autoptr(GPtrArray) all = core_network_list(core, NET_LIST_AUTOSTART | NET_LIST_INACTIVE);
    for (guint i = 0; i < all->len; i++) {
        struct network *n = all->pdata[i];
        g_autoptr(GError) err = NULL;
        if (!n->active && !core_network_start(core, n, &err))
            log_warn("autostart of network '%s' failed: %s", n->def->name, err->message);
    }
    return TRUE;
}

void
core_network_free(struct core *core)
{
    /* active networks keep running: the next daemon adopts them */
    g_clear_pointer(&core->networks_by_uuid, g_hash_table_destroy);
    g_clear_pointer(&core->networks_by_name, g_hash_table_destroy);
}
