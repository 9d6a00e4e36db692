/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metadata: a domain's title, description and <metadata> elements, read and changed live
 * and in its persistent config (virDomainGetMetadata / virDomainSetMetadata); prefix
 * core_domain_ (metadata). */
#include <string.h>

#include "conf/xml_util.h"
#include "core/core.h"
#include "util/err.h"
#include "util/log.h"

/* virDomainModificationImpact */
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2 };

static gboolean
type_valid(int type, GError **error)
{
    if (type >= CORE_METADATA_DESCRIPTION && type <= CORE_METADATA_ELEMENT)
        return TRUE;
    err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unknown metadata type '%d'", type);
    return FALSE;
}

char *
core_domain_get_metadata(struct domain *dom, int type, const char *uri, unsigned flags,
                         GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!type_valid(type, error))
        return NULL;
    if ((flags & AFFECT_LIVE) && (flags & AFFECT_CONFIG)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "flags 'live' and 'config' are mutually exclusive");
        return NULL;
    }
    if (type == CORE_METADATA_ELEMENT ? !uri : uri != NULL) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                type == CORE_METADATA_ELEMENT ? "a metadata element needs its namespace URI"
                                              : "a title or description takes no namespace URI");
        return NULL;
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return NULL;
    const struct domain_def *def = live ? dom->def : core_persistent_def(dom);
    char *ret = type == CORE_METADATA_DESCRIPTION ? g_strdup(def->description)
                : type == CORE_METADATA_TITLE     ? g_strdup(def->title)
                                                  : xml_util_metadata_get(def->metadata, uri);
    if (!ret)
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN_METADATA, "domain '%s' has no %s%s%s",
                dom->def->name,
                type == CORE_METADATA_DESCRIPTION ? "description"
                : type == CORE_METADATA_TITLE     ? "title"
                                                  : "metadata element in namespace '",
                type == CORE_METADATA_ELEMENT ? uri : "", type == CORE_METADATA_ELEMENT ? "'" : "");
    return ret;
}

/* DEF's metadata of TYPE set to VALUE (already computed for an element): "" or NULL
 * removes a title or description, as libvirt does */
static void
apply(struct domain_def *def, int type, const char *value, const char *element)
{
    if (type == CORE_METADATA_ELEMENT) {
        g_free(def->metadata);
        def->metadata = g_strdup(element);
        return;
    }
    char **slot = type == CORE_METADATA_TITLE ? &def->title : &def->description;
    g_free(*slot);
    *slot = value && *value ? g_strdup(value) : NULL;
}

gboolean
core_domain_set_metadata(struct domain *dom, int type, const char *value, const char *key,
                         const char *uri, unsigned flags, GError **error)
{
    gboolean live = FALSE, config = FALSE;
    if (!type_valid(type, error))
        return FALSE;
    if (type == CORE_METADATA_ELEMENT) {
        if (!uri || (value && !key)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                    !uri ? "a metadata element needs its namespace URI"
                         : "a metadata element needs the key (namespace prefix) to store it "
                           "under");
            return FALSE;
        }
    } else if (uri || key) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG,
                "a title or description takes no namespace URI or key");
        return FALSE;
    } else if (type == CORE_METADATA_TITLE && value && strchr(value, '\n')) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "a title must not contain newlines");
        return FALSE;
    }
    if (!core_domain_impact(dom, flags, &live, &config, error))
        return FALSE;
    /* both results first: a refused element changes neither definition */
    g_autofree char *live_element = NULL, *config_element = NULL;
    if (type == CORE_METADATA_ELEMENT &&
        ((live && !xml_util_metadata_set(ERR_FROM_DOMAIN, dom->def->metadata, value, key, uri,
                                         &live_element, error)) ||
         (config && !xml_util_metadata_set(ERR_FROM_DOMAIN, core_persistent_def(dom)->metadata,
                                           value, key, uri, &config_element, error))))
        return FALSE;
    if (config) {
        struct domain_def *copy = domain_def_copy(core_persistent_def(dom));
        apply(copy, type, value, config_element);
        if (!core_domain_keep_config(dom, copy, error))
            return FALSE;
    }
    if (live) {
        apply(dom->def, type, value, live_element);
        dom->updated = TRUE;
        GError *e = NULL;
        if (!core_status_write(dom, &e)) {
            log_warn("%s: %s", dom->def->name, e->message);
            g_error_free(e);
        }
    }
    core_domain_emit_metadata(dom, type, type == CORE_METADATA_ELEMENT ? uri : NULL);
    return TRUE;
}
