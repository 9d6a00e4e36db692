/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdev: host PCI devices of running domains, readied for VFIO at start and given back at
 * stop as libvirt does for managed='yes'; prefix core_hostdev_. */
#include "core/hostdev.h"
#include "util/err.h"
#include "util/log.h"
#include "util/pcihost.h"

static gboolean
same_device(const struct hostdev_def *a, const struct hostdev_def *b)
{
    return a->source.domain == b->source.domain && a->source.bus == b->source.bus &&
           a->source.slot == b->source.slot && a->source.function == b->source.function;
}

/* The other running domain that holds HOSTDEV, or NULL. */
static struct domain *
holder(struct domain *dom, const struct hostdev_def *hostdev)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, dom->core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *other = value;
        if (other == dom || !other->pid)
            continue;
        for (guint i = 0; i < other->def->hostdevs->len; i++) {
            if (same_device(other->def->hostdevs->pdata[i], hostdev))
                return other;
        }
    }
    return NULL;
}

static void
release_first(struct domain *dom, guint n)
{
    for (guint i = 0; i < n; i++) {
        struct hostdev_def *h = dom->def->hostdevs->pdata[i];
        g_autofree char *addr = pci_address_to_string(&h->source);
        g_autoptr(GError) error = NULL;
        if (h->managed && !pcihost_release(dom->core->paths.sysfs_root, addr, &error))
            log_warn("%s: cannot give host PCI device %s back to its driver: %s", dom->def->name,
                     addr, error->message);
    }
}

gboolean
core_hostdev_prepare(struct domain *dom, GError **error)
{
    for (guint i = 0; i < dom->def->hostdevs->len; i++) {
        struct hostdev_def *h = dom->def->hostdevs->pdata[i];
        g_autofree char *addr = pci_address_to_string(&h->source);
        struct domain *other = holder(dom, h);
        gboolean rebound = FALSE;
        if (other) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                    "host PCI device %s is in use by domain '%s'", addr, other->def->name);
        } else if (pcihost_prepare(dom->core->paths.sysfs_root, addr, h->managed, &rebound,
                                   error)) {
            if (rebound)
                log_info("%s: host PCI device %s moved to vfio-pci", dom->def->name, addr);
            continue;
        }
        release_first(dom, i);
        return FALSE;
    }
    return TRUE;
}

void
core_hostdev_release(struct domain *dom)
{
    release_first(dom, dom->def->hostdevs->len);
}
