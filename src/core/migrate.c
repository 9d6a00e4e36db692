/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate: what both sides of a migration share: the parameters of the calls, the flags Domus
 * takes, and the QEMU setup that must match on both ends. */
#include "core/migrate.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/guest.h"
#include "qemu/monitor.h"
#include "util/err.h"

void
migrate_params_clear(struct migrate_params *p)
{
    g_free(p->uri);
    g_free(p->dname);
    g_free(p->dxml);
    g_free(p->persist_xml);
    g_free(p->listen_address);
    g_free(p->tls_destination);
    g_strfreev(p->compression);
    g_strfreev(p->migrate_disks);
    memset(p, 0, sizeof(*p));
}

void
migrate_params_init(struct migrate_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mt_level = p->mt_threads = p->mt_dthreads = -1;
    p->xbzrle_cache = -1;
    p->ac_initial = p->ac_increment = -1;
}

enum kind { K_STRING, K_INT, K_ULLONG };

struct known {
    const char *name;
    enum kind kind;
    gboolean repeated;
    const char *unsupported; /* why Domus refuses it, or NULL */
};

static const struct known known[] = {
    {"migrate_uri", K_STRING, FALSE, NULL},
    {"destination_name", K_STRING, FALSE, NULL},
    {"destination_xml", K_STRING, FALSE, NULL},
    {"persistent_xml", K_STRING, FALSE, NULL},
    {"bandwidth", K_ULLONG, FALSE, NULL},
    {"listen_address", K_STRING, FALSE, NULL},
    {"compression", K_STRING, TRUE, NULL},
    {"compression.mt.level", K_INT, FALSE, NULL},
    {"compression.mt.threads", K_INT, FALSE, NULL},
    {"compression.mt.dthreads", K_INT, FALSE, NULL},
    {"compression.xbzrle.cache", K_ULLONG, FALSE, NULL},
    {"auto_converge.initial", K_INT, FALSE, NULL},
    {"auto_converge.increment", K_INT, FALSE, NULL},
    {"parallel.connections", K_INT, FALSE, NULL},
    {"graphics_uri", K_STRING, FALSE, "moving graphics clients along with the guest"},
    {"migrate_disks", K_STRING, TRUE, NULL},
    {"disks_port", K_INT, FALSE, NULL},
    {"disks_uri", K_STRING, FALSE, "an NBD URI for the copied disks"},
    {"bandwidth.postcopy", K_ULLONG, FALSE, NULL},
    {"tls.destination", K_STRING, FALSE, NULL},
};

static const struct known *
find_known(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(known); i++)
        if (g_str_equal(known[i].name, name))
            return &known[i];
    return NULL;
}

static gboolean
check_type(const struct typed_param *tp, const struct known *k, GError **error)
{
    static const enum typed_param_type wanted[] = {[K_STRING] = TYPED_PARAM_STRING,
                                                   [K_INT] = TYPED_PARAM_INT,
                                                   [K_ULLONG] = TYPED_PARAM_ULLONG};
    static const char *const words[] = {"a string", "an int", "an unsigned long long"};
    if (tp->type == wanted[k->kind])
        return TRUE;
    err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "migration parameter '%s' must be %s", tp->field,
            words[k->kind]);
    return FALSE;
}

static int
int_param(const struct typed_param *tp)
{
    return (int)tp->i;
}

static gboolean
set_string(char **slot, const struct typed_param *tp)
{
    g_free(*slot);
    *slot = g_strdup(tp->s);
    return TRUE;
}

gboolean
migrate_params_parse(const GPtrArray *params, struct migrate_params *ret, GError **error)
{
    struct migrate_params p;
    migrate_params_init(&p);
    g_autoptr(GPtrArray) compression = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) disks = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; params && i < params->len; i++) {
        const struct typed_param *tp = params->pdata[i];
        const struct known *k = find_known(tp->field);
        if (!k) {
            err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "unknown migration parameter '%s'",
                    tp->field);
            goto fail;
        }
        if (!check_type(tp, k, error))
            goto fail;
        if (!k->repeated && !g_hash_table_add(seen, (gpointer)k->name)) {
            err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                    "migration parameter '%s' is given more than once", tp->field);
            goto fail;
        }
        if (k->unsupported) {
            err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                    "migration parameter '%s': %s is not supported by Domus yet", tp->field,
                    k->unsupported);
            goto fail;
        }
        const char *n = k->name;
        if (g_str_equal(n, "migrate_uri"))
            set_string(&p.uri, tp);
        else if (g_str_equal(n, "destination_name"))
            set_string(&p.dname, tp);
        else if (g_str_equal(n, "destination_xml"))
            set_string(&p.dxml, tp);
        else if (g_str_equal(n, "persistent_xml"))
            set_string(&p.persist_xml, tp);
        else if (g_str_equal(n, "listen_address"))
            set_string(&p.listen_address, tp);
        else if (g_str_equal(n, "tls.destination"))
            set_string(&p.tls_destination, tp);
        else if (g_str_equal(n, "bandwidth"))
            p.bandwidth = tp->u;
        else if (g_str_equal(n, "bandwidth.postcopy"))
            p.postcopy_bandwidth = tp->u;
        else if (g_str_equal(n, "compression")) {
            if (!g_str_equal(tp->s, "xbzrle") && !g_str_equal(tp->s, "mt")) {
                err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                        "unknown compression method '%s'; use xbzrle or mt", tp->s);
                goto fail;
            }
            g_ptr_array_add(compression, g_strdup(tp->s));
        } else if (g_str_equal(n, "compression.mt.level"))
            p.mt_level = int_param(tp);
        else if (g_str_equal(n, "compression.mt.threads"))
            p.mt_threads = int_param(tp);
        else if (g_str_equal(n, "compression.mt.dthreads"))
            p.mt_dthreads = int_param(tp);
        else if (g_str_equal(n, "compression.xbzrle.cache"))
            p.xbzrle_cache = (gint64)MIN(tp->u, (guint64)G_MAXINT64);
        else if (g_str_equal(n, "auto_converge.initial"))
            p.ac_initial = int_param(tp);
        else if (g_str_equal(n, "auto_converge.increment"))
            p.ac_increment = int_param(tp);
        else if (g_str_equal(n, "parallel.connections"))
            p.parallel_connections = int_param(tp);
        else if (g_str_equal(n, "migrate_disks"))
            g_ptr_array_add(disks, g_strdup(tp->s));
        else if (g_str_equal(n, "disks_port")) {
            if (tp->i < 0 || tp->i > 65535) {
                err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                        "disks_port %" G_GINT64_FORMAT " is not a port", tp->i);
                goto fail;
            }
            p.disks_port = int_param(tp);
        }
    }
    if (disks->len > 0) {
        g_ptr_array_add(disks, NULL);
        p.migrate_disks = (char **)g_ptr_array_steal(disks, NULL);
    }
    if ((p.mt_level >= 0 || p.mt_threads >= 0 || p.mt_dthreads >= 0 || p.xbzrle_cache >= 0) &&
        compression->len == 0) {
        /* libvirt: compression parameters need the methods they tune named */
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "compression parameters need --comp-methods naming the method they tune");
        goto fail;
    }
    if (compression->len > 0) {
        g_ptr_array_add(compression, NULL);
        p.compression = (char **)g_ptr_array_steal(compression, NULL);
    }
    migrate_params_clear(ret);
    *ret = p;
    return TRUE;
fail:
    migrate_params_clear(&p);
    return FALSE;
}

char **
migrate_params_to_pairs(const struct migrate_params *p)
{
    GPtrArray *a = g_ptr_array_new();
#define PAIR(field, value)                                                                         \
    do {                                                                                           \
        g_ptr_array_add(a, g_strdup(field));                                                       \
        g_ptr_array_add(a, (value));                                                               \
    } while (0)
    if (p->uri)
        PAIR("migrate_uri", g_strdup(p->uri));
    if (p->dname)
        PAIR("destination_name", g_strdup(p->dname));
    if (p->dxml)
        PAIR("destination_xml", g_strdup(p->dxml));
    if (p->persist_xml)
        PAIR("persistent_xml", g_strdup(p->persist_xml));
    if (p->listen_address)
        PAIR("listen_address", g_strdup(p->listen_address));
    if (p->tls_destination)
        PAIR("tls.destination", g_strdup(p->tls_destination));
    if (p->bandwidth)
        PAIR("bandwidth", g_strdup_printf("%" G_GUINT64_FORMAT, p->bandwidth));
    if (p->postcopy_bandwidth)
        PAIR("bandwidth.postcopy", g_strdup_printf("%" G_GUINT64_FORMAT, p->postcopy_bandwidth));
    for (gsize i = 0; p->compression && p->compression[i]; i++)
        PAIR("compression", g_strdup(p->compression[i]));
    if (p->mt_level >= 0)
        PAIR("compression.mt.level", g_strdup_printf("%d", p->mt_level));
    if (p->mt_threads >= 0)
        PAIR("compression.mt.threads", g_strdup_printf("%d", p->mt_threads));
    if (p->mt_dthreads >= 0)
        PAIR("compression.mt.dthreads", g_strdup_printf("%d", p->mt_dthreads));
    if (p->xbzrle_cache >= 0)
        PAIR("compression.xbzrle.cache", g_strdup_printf("%" G_GINT64_FORMAT, p->xbzrle_cache));
    if (p->ac_initial >= 0)
        PAIR("auto_converge.initial", g_strdup_printf("%d", p->ac_initial));
    if (p->ac_increment >= 0)
        PAIR("auto_converge.increment", g_strdup_printf("%d", p->ac_increment));
    if (p->parallel_connections > 0)
        PAIR("parallel.connections", g_strdup_printf("%d", p->parallel_connections));
    for (gsize i = 0; p->migrate_disks && p->migrate_disks[i]; i++)
        PAIR("migrate_disks", g_strdup(p->migrate_disks[i]));
    if (p->disks_port > 0)
        PAIR("disks_port", g_strdup_printf("%d", p->disks_port));
#undef PAIR
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* each refused flag and why */
static const struct {
    unsigned flag;
    const char *what;
} unsupported_flags[] = {
    {MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES, "synchronous writes of copied disks"},
    {MIGRATE_POSTCOPY_RESUME, "resuming a post-copy migration"},
    {MIGRATE_RDMA_PIN_ALL, "RDMA migration (--rdma-pin-all)"},
};

gboolean
migrate_check_flags(unsigned flags, GError **error)
{
    if (flags & ~(unsigned)MIGRATE_FLAGS_ALL) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "unsupported flags (0x%x) in migration",
                flags & ~(unsigned)MIGRATE_FLAGS_ALL);
        return FALSE;
    }
    if ((flags & MIGRATE_OFFLINE) && !(flags & MIGRATE_PERSIST_DEST)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID, "%s",
                "offline migration must be specified with the persistent flag set");
        return FALSE;
    }
    if ((flags & MIGRATE_OFFLINE) && (flags & MIGRATE_LIVE)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID, "%s",
                "offline migration cannot be live: the guest does not run");
        return FALSE;
    }
    if ((flags & MIGRATE_TUNNELLED) && !(flags & MIGRATE_PEER2PEER)) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "cannot perform tunnelled migration without using peer2peer flag");
        return FALSE;
    }
    unsigned copy = MIGRATE_NON_SHARED_DISK | MIGRATE_NON_SHARED_INC;
    if ((flags & copy) == copy) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "--copy-storage-all and --copy-storage-inc are mutually exclusive");
        return FALSE;
    }
    if ((flags & copy) && (flags & MIGRATE_OFFLINE)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID, "%s",
                "offline migration cannot handle non-shared storage");
        return FALSE;
    }
    if ((flags & copy) && (flags & MIGRATE_TUNNELLED)) {
        /* QEMU's NBD connection would bypass the tunnel: libvirt refuses it too */
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED, "%s",
                "migration of non-shared storage is not supported with tunnelled migration");
        return FALSE;
    }
    if ((flags & MIGRATE_POSTCOPY) && (!(flags & MIGRATE_LIVE) || (flags & MIGRATE_PAUSED))) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED, "%s",
                "post-copy migration is not supported with non-live or paused migration");
        return FALSE;
    }
    if ((flags & MIGRATE_POSTCOPY) && (flags & MIGRATE_TUNNELLED)) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED, "%s",
                "post-copy is not supported with tunnelled migration");
        return FALSE;
    }
    if ((flags & MIGRATE_POSTCOPY) && (flags & copy)) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED, "%s",
                "post-copy migration while copying disks is not supported by Domus yet");
        return FALSE;
    }
    if ((flags & MIGRATE_TLS) && (flags & MIGRATE_TUNNELLED)) {
        err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED, "%s",
                "TLS for QEMU's stream is not supported with tunnelled migration: the tunnel is "
                "the daemons' own connection (reach the destination over tls:// instead)");
        return FALSE;
    }
    if ((flags & MIGRATE_ZEROCOPY) && !(flags & MIGRATE_PARALLEL)) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "zero-copy is only available for parallel migration (--parallel)");
        return FALSE;
    }
    if ((flags & MIGRATE_ZEROCOPY) && (flags & MIGRATE_COMPRESSED)) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "zero-copy sends the guest's pages as they are: it cannot be compressed");
        return FALSE;
    }
    if ((flags & MIGRATE_TUNNELLED) && (flags & MIGRATE_OFFLINE)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID, "%s",
                "tunnelled offline migration does not make sense");
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(unsupported_flags); i++) {
        if (flags & unsupported_flags[i].flag) {
            err_set(error, ERR_FROM_QEMU, ERR_ARGUMENT_UNSUPPORTED,
                    "%s is not supported by Domus yet", unsupported_flags[i].what);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
migrate_parse_uri(const char *uri, char **ret_host, guint *ret_port, GError **error)
{
    const char *rest = g_str_has_prefix(uri, "tcp://") ? uri + 6
                       : g_str_has_prefix(uri, "tcp:") ? uri + 4
                                                       : NULL;
    g_autofree char *host = NULL;
    guint64 port = 0;
    if (rest && rest[0] == '[') {
        const char *end = strchr(rest, ']');
        if (end) {
            host = g_strndup(rest + 1, end - rest - 1);
            rest = end + 1;
        } else {
            rest = NULL;
        }
    } else if (rest) {
        const char *colon = strchr(rest, ':');
        host = colon ? g_strndup(rest, colon - rest) : g_strdup(rest);
        rest = colon ? colon : rest + strlen(rest);
    }
    gboolean ok = rest && host && *host && !strpbrk(host, "/?#@,");
    if (ok && *rest == ':')
        ok = g_ascii_string_to_unsigned(rest + 1, 10, 1, 65535, &port, NULL);
    else if (ok && *rest)
        ok = FALSE;
    if (!ok) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "migration URI '%s' is not tcp://HOST[:PORT]", uri);
        return FALSE;
    }
    *ret_host = g_steal_pointer(&host);
    *ret_port = (guint)port;
    return TRUE;
}

gboolean
migrate_tls_check(struct core *core, gboolean server, GError **error)
{
    return core_tls_check(core->migrate_tls_dir, server, "a TLS migration",
                          "migrate_tls_x509_cert_dir", error);
}

char *
migrate_tls_id(void)
{
    /* unique in any QEMU this daemon or an earlier one may have left one in */
    static guint next;
    return g_strdup_printf("domus-migrate-tls-%" G_GINT64_MODIFIER "x-%u", g_get_real_time(),
                           ++next);
}

void
migrate_tls_drop(struct domain *dom, const char *id)
{
    if (!dom->mon)
        return;
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "tls-creds", "");
    qmp_command(dom->mon, "migrate-set-parameters", args, NULL, NULL);
    args = json_object_new();
    json_object_set_string_member(args, "id", id);
    qmp_command(dom->mon, "object-del", args, NULL, NULL);
}

JsonObject *
migrate_tls_object(struct core *core, const char *id, gboolean server)
{
    return core_tls_object(id, core->migrate_tls_dir, server, core->migrate_tls_verify);
}

char **
migrate_qemu_setup(struct domain *dom, unsigned flags, const struct migrate_params *p,
                   gboolean source, const char *tls_id, JsonObject **ret_params)
{
    GPtrArray *caps = g_ptr_array_new();
    JsonObject *params = json_object_new();
    if (flags & MIGRATE_COMPRESSED) {
        static const char *const fallback[] = {"xbzrle", NULL};
        const char *const *methods =
            p->compression ? (const char *const *)p->compression : fallback;
        for (gsize i = 0; methods[i]; i++)
            g_ptr_array_add(caps, g_strdup(g_str_equal(methods[i], "mt") ? "compress" : "xbzrle"));
        if (p->mt_level >= 0)
            json_object_set_int_member(params, "compress-level", p->mt_level);
        if (p->mt_threads >= 0)
            json_object_set_int_member(params, "compress-threads", p->mt_threads);
        if (p->mt_dthreads >= 0)
            json_object_set_int_member(params, "decompress-threads", p->mt_dthreads);
        if (p->xbzrle_cache >= 0)
            json_object_set_int_member(params, "xbzrle-cache-size", p->xbzrle_cache);
    }
    if (flags & MIGRATE_POSTCOPY)
        g_ptr_array_add(caps, g_strdup("postcopy-ram"));
    if (flags & MIGRATE_PARALLEL) {
        g_ptr_array_add(caps, g_strdup("multifd"));
        if (p->parallel_connections > 0)
            json_object_set_int_member(params, "multifd-channels", p->parallel_connections);
        /* the pages go to the socket from the guest's memory, not copied (MSG_ZEROCOPY) */
        if (source && (flags & MIGRATE_ZEROCOPY))
            g_ptr_array_add(caps, g_strdup("zero-copy-send"));
    }
    if (source && (flags & MIGRATE_AUTO_CONVERGE)) {
        g_ptr_array_add(caps, g_strdup("auto-converge"));
        if (p->ac_initial >= 0)
            json_object_set_int_member(params, "cpu-throttle-initial", p->ac_initial);
        if (p->ac_increment >= 0)
            json_object_set_int_member(params, "cpu-throttle-increment", p->ac_increment);
    }
    if (source) {
        /* libvirt's default is no limit, not QEMU's 128 MiB/s */
        guint64 mib = p->bandwidth ? p->bandwidth : dom->migrate_speed_mib;
        gint64 bytes = mib && mib < (guint64)(G_MAXINT64 >> 20) ? (gint64)(mib << 20) : G_MAXINT64;
        json_object_set_int_member(params, "max-bandwidth", bytes);
        if (p->postcopy_bandwidth)
            json_object_set_int_member(params, "max-postcopy-bandwidth",
                                       p->postcopy_bandwidth < (guint64)(G_MAXINT64 >> 20)
                                           ? (gint64)(p->postcopy_bandwidth << 20)
                                           : G_MAXINT64);
        if (dom->migrate_downtime_ms)
            json_object_set_int_member(params, "downtime-limit", (gint64)dom->migrate_downtime_ms);
    }
    /* QEMU keeps a previous migration's TLS (an incoming one's) unless told */
    json_object_set_string_member(params, "tls-creds",
                                  (flags & MIGRATE_TLS) && tls_id ? tls_id : "");
    if (!(flags & MIGRATE_TLS))
        json_object_set_string_member(params, "tls-hostname", "");
    *ret_params = params;
    g_ptr_array_add(caps, NULL);
    return (char **)g_ptr_array_free(caps, FALSE);
}

char *
migrate_hostname(void)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
        return g_strdup("localhost");
    return g_strdup(host);
}
