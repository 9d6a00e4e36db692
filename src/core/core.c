/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core: registry, definitions on disk, state changes, jobs. Persistent config is written
 * before memory changes, so a failed write leaves both as they were. */
#include "core/core.h"

#include <errno.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "conf/checkpoint_def.h"
#include "conf/xml_util.h"
#include "core/guest.h"
#include "core/migrate.h"
#include "core/network.h"
#include "core/secret.h"
#include "core/storage.h"
#include "qemu/address.h"
#include "qemu/agent.h"
#include "qemu/caps.h"
#include "qemu/device.h"
#include "qemu/monitor.h"
#include "util/cgroup.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/file.h"
#include "util/log.h"
#include "util/names.h"
#include "util/uuid.h"

/* virConnectListAllDomainsFlags */
enum {
    LIST_ACTIVE = 1 << 0,
    LIST_INACTIVE = 1 << 1,
    LIST_PERSISTENT = 1 << 2,
    LIST_TRANSIENT = 1 << 3,
    LIST_RUNNING = 1 << 4,
    LIST_PAUSED = 1 << 5,
    LIST_SHUTOFF = 1 << 6,
    LIST_OTHER = 1 << 7,
    LIST_MANAGEDSAVE = 1 << 8,
    LIST_NO_MANAGEDSAVE = 1 << 9,
    LIST_AUTOSTART = 1 << 10,
    LIST_NO_AUTOSTART = 1 << 11,
    LIST_HAS_SNAPSHOT = 1 << 12,
    LIST_NO_SNAPSHOT = 1 << 13,
    LIST_HAS_CHECKPOINT = 1 << 14,
    LIST_NO_CHECKPOINT = 1 << 15,
    LIST_ALL_FLAGS = (1 << 16) - 1,
};

static char *
uuid_key(const uint8_t *uuid)
{
    char buf[UUID_STRING_LEN];
    return g_strdup(uuid_format(uuid, buf));
}

void
core_paths_clear(struct core_paths *p)
{
    g_free(p->config_dir);
    g_free(p->autostart_dir);
    g_free(p->state_dir);
    g_free(p->status_dir);
    g_free(p->channel_dir);
    g_free(p->log_dir);
    g_free(p->image_dir);
    g_free(p->pool_config_dir);
    g_free(p->pool_state_dir);
    g_free(p->network_config_dir);
    g_free(p->secret_dir);
    g_free(p->network_state_dir);
    g_free(p->cgroup_root);
    g_free(p->cgroup_parent);
    g_free(p->sysfs_root);
    memset(p, 0, sizeof(*p));
}

struct domain *
core_domain_ref(struct domain *dom)
{
    dom->refs++;
    return dom;
}

void
core_domain_unref(struct domain *dom)
{
    if (!dom || --dom->refs > 0)
        return;
    g_assert(!dom->mon && dom->pidfd < 0 && !job_of(&dom->jobs));
    file_close_fd(&dom->stat_fd);
    job_owner_clear(&dom->jobs);
    domain_def_free(dom->def);
    domain_def_free(dom->new_def);
    g_free(dom->monitor_path);
    g_free(dom->save_file);
    g_hash_table_destroy(dom->snapshots);
    g_free(dom->current_snapshot);
    g_hash_table_destroy(dom->checkpoints);
    g_free(dom->current_checkpoint);
    if (dom->save_resume_timer) /* the domain is its data */
        g_source_remove(dom->save_resume_timer);
    g_free(dom->emulator);
    g_ptr_array_free(dom->messages, TRUE);
    g_ptr_array_free(dom->exit_waiters, TRUE);
    if (dom->block_jobs)
        g_ptr_array_free(dom->block_jobs, TRUE);
    if (dom->thresholds)
        g_hash_table_unref(dom->thresholds);
    if (dom->device_waits)
        g_ptr_array_unref(dom->device_waits);
    if (dom->vcpu_tids)
        g_array_unref(dom->vcpu_tids);
    if (dom->dirtyrate)
        json_node_unref(dom->dirtyrate);
    g_free(dom);
}

static struct domain *
domain_new(struct core *core, struct domain_def *def)
{
    struct domain *dom = g_new0(struct domain, 1);
    dom->core = core;
    dom->def = def;
    dom->state = DOM_SHUTOFF;
    dom->reason = REASON_SHUTOFF_UNKNOWN;
    dom->id = -1;
    dom->pidfd = -1;
    dom->stat_fd = -1;
    for (int i = 0; i < PERF_EVENT_N; i++)
        dom->perf_fds[i] = -1;
    dom->stop_input = IN_STOPPED_FAILED;
    dom->agent_timeout = -1; /* AGENT_TIMEOUT_DEFAULT */
    dom->messages = g_ptr_array_new_with_free_func(g_free);
    dom->exit_waiters = g_ptr_array_new();
    dom->snapshots =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)snapshot_def_free);
    dom->checkpoints =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)checkpoint_def_free);
    job_owner_init(&dom->jobs, "domain", def->name);
    dom->refs = 1;
    return dom;
}

static void
registry_add(struct core *core, struct domain *dom)
{
    g_hash_table_insert(core->by_name, g_strdup(dom->def->name), dom);
    g_hash_table_insert(core->by_uuid, uuid_key(dom->def->uuid), dom);
}

/* Drops DOM from the registry (it stays alive while referenced). */
static void
registry_remove(struct core *core, struct domain *dom)
{
    g_autofree char *key = uuid_key(dom->def->uuid);
    if (dom->id >= 0)
        g_hash_table_remove(core->by_id, GINT_TO_POINTER(dom->id));
    g_hash_table_remove(core->by_uuid, key);
    dom->removed = TRUE;
    g_hash_table_remove(core->by_name, dom->def->name); /* unrefs */
}

void
core_forget(struct core *core, struct domain *dom)
{
    registry_remove(core, dom);
}

static char *
config_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/%s.xml", core->paths.config_dir, name);
}

static char *
autostart_path(struct core *core, const char *name)
{
    return g_strdup_printf("%s/%s", core->paths.autostart_dir, name);
}

/* Whether another domain than DEF's has a NIC with MAC. */
static gboolean
mac_taken(struct core *core, const struct domain_def *def, const uint8_t *mac)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const struct domain *dom = value;
        const struct domain_def *defs[] = {dom->def, dom->new_def};
        if (g_str_equal(dom->def->name, def->name))
            continue;
        for (gsize d = 0; d < G_N_ELEMENTS(defs); d++) {
            for (guint i = 0; defs[d] && i < defs[d]->nets->len; i++) {
                const struct net_def *n = defs[d]->nets->pdata[i];
                if (memcmp(n->mac, mac, sizeof(n->mac)) == 0)
                    return TRUE;
            }
        }
    }
    return FALSE;
}

void
core_unique_macs(struct core *core, struct domain_def *def)
{
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *net = def->nets->pdata[i];
        /* the user's own MACs are theirs to repeat, as with libvirt; generated ones are not */
        for (int tries = 0; !net->mac_given && tries < 100 && mac_taken(core, def, net->mac);
             tries++)
            mac_generate(net->mac);
    }
}

gboolean
core_config_save(struct core *core, const struct domain_def *def, GError **error)
{
    g_autofree char *xml =
        domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    g_autofree char *path = config_path(core, def->name);
    if (!file_write_atomic(path, xml, strlen(xml), 0600, FILE_DURABLE, error)) {
        g_prefix_error(error, "saving the definition of '%s': ", def->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
core_domain_keep_config(struct domain *dom, struct domain_def *copy, GError **error)
{
    if (!core_config_save(dom->core, copy, error)) {
        domain_def_free(copy);
        return FALSE;
    }
    struct domain_def **slot = dom->new_def ? &dom->new_def : &dom->def;
    domain_def_free(*slot);
    *slot = copy;
    return TRUE;
}

static gboolean
load_configs(struct core *core, GError **error)
{
    g_autoptr(GDir) dir = g_dir_open(core->paths.config_dir, 0, NULL);
    if (!dir)
        return TRUE;
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(core->paths.config_dir, entry, NULL);
        g_autofree char *xml = NULL;
        g_autoptr(GError) err = NULL;
        if (!g_file_get_contents(path, &xml, NULL, &err)) {
            log_warn("cannot read '%s': %s", path, err->message);
            continue;
        }
        struct domain_def *def = domain_def_parse(xml, 0, &err);
        if (!def) {
            log_warn("ignoring '%s': %s", path, err->message);
            continue;
        }
        /* a definition from before addresses were assigned at define gets them now; one
         * that cannot is kept as it is and says why when started */
        struct domain_def *addressed = domain_def_copy(def);
        if (qemu_address_assign(addressed, &err)) {
            domain_def_free(def);
            def = addressed;
        } else {
            log_warn("%s: %s", path, err->message);
            g_clear_error(&err);
            domain_def_free(addressed);
        }
        g_autofree char *expect = g_strdup_printf("%s.xml", def->name);
        g_autofree char *key = uuid_key(def->uuid);
        if (!g_str_equal(expect, entry) || g_hash_table_contains(core->by_uuid, key)) {
            log_warn("ignoring '%s': name or uuid does not match its file or repeats", path);
            domain_def_free(def);
            continue;
        }
        g_autofree char *ap = autostart_path(core, def->name);
        struct domain *dom = core_register(core, def, TRUE);
        dom->autostart = g_file_test(ap, G_FILE_TEST_EXISTS);
    }
    return TRUE;
}

static gboolean
load_next_id(struct core *core, GError **error)
{
    g_autofree char *path = g_build_filename(core->paths.state_dir, "next-id", NULL);
    g_autofree char *text = NULL;
    core->next_id = 1;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return TRUE;
    guint64 v;
    g_strstrip(text);
    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT - 1, &v, NULL)) {
        err_set(error, ERR_FROM_NONE, ERR_INTERNAL_ERROR, "'%s' holds '%.20s', not a valid id",
                path, text);
        return FALSE;
    }
    core->next_id = (int)v;
    return TRUE;
}

/* Removes what a save cut short by the daemon's death left in DIR (save.c's temporary names). */
static void
remove_partial_saves(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;
    while (d && (entry = g_dir_read_name(d))) {
        if (!strstr(entry, ".domus-part-"))
            continue;
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        if (unlink(path) == 0)
            log_info("removed the unfinished save image '%s'", path);
    }
}

struct core *
core_new(const struct core_paths *paths, GError **error)
{
    const char *dirs[] = {paths->config_dir, paths->autostart_dir, paths->state_dir,
                          paths->status_dir, paths->channel_dir,   paths->log_dir,
                          paths->image_dir};
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
        if (!file_mkdir_p(dirs[i], 0700, error))
            return NULL;
    g_autofree char *save_dir = g_build_filename(paths->state_dir, "save", NULL);
    if (!file_mkdir_p(save_dir, 0700, error))
        return NULL;
    remove_partial_saves(save_dir);
    /* a daemon killed in the middle of a write leaves its temporary file */
    const char *written[] = {paths->config_dir, paths->autostart_dir,   paths->state_dir,
                             paths->status_dir, paths->pool_config_dir, paths->pool_state_dir};
    g_autofree char *pool_autostart =
        paths->pool_config_dir ? g_build_filename(paths->pool_config_dir, "autostart", NULL) : NULL;
    for (gsize i = 0; i <= G_N_ELEMENTS(written); i++) {
        const char *dir = i < G_N_ELEMENTS(written) ? written[i] : pool_autostart;
        guint n = dir ? file_remove_stale_temps(dir) : 0;
        if (n)
            log_info("removed %u unfinished write%s in '%s'", n, n == 1 ? "" : "s", dir);
    }
    struct core *core = g_new0(struct core, 1);
    core->paths.config_dir = g_strdup(paths->config_dir);
    core->paths.autostart_dir = g_strdup(paths->autostart_dir);
    core->paths.state_dir = g_strdup(paths->state_dir);
    core->paths.status_dir = g_strdup(paths->status_dir);
    core->paths.channel_dir = g_strdup(paths->channel_dir);
    core->paths.log_dir = g_strdup(paths->log_dir);
    core->paths.image_dir = g_strdup(paths->image_dir);
    core->paths.cgroup_root = g_strdup(paths->cgroup_root ? paths->cgroup_root : "/sys/fs/cgroup");
    core->paths.cgroup_parent = g_strdup(paths->cgroup_parent ? paths->cgroup_parent : "domus");
    core->cgroups = cgroup_host_detect(core->paths.cgroup_root);
    core->paths.sysfs_root = g_strdup(paths->sysfs_root ? paths->sysfs_root : "/sys");
    core->paths.pool_config_dir = g_strdup(paths->pool_config_dir);
    core->paths.pool_state_dir = g_strdup(paths->pool_state_dir);
    core->paths.network_config_dir = g_strdup(paths->network_config_dir);
    core->paths.network_state_dir = g_strdup(paths->network_state_dir);
    core->paths.secret_dir = g_strdup(paths->secret_dir);
    core->by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)core_domain_unref);
    core->by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    core->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    core->events = events_new();
    if (!load_next_id(core, error) || !load_configs(core, error) ||
        !core_storage_init(core, error) || !core_secret_init(core, error)) {
        core_free(core);
        return NULL;
    }
    return core;
}

gboolean
core_set_host_uuid(struct core *core, const char *configured, GError **error)
{
    uint8_t uuid[UUID_LEN];
    char buf[UUID_STRING_LEN];
    if (configured) {
        if (!uuid_parse(configured, uuid)) {
            err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                    "host_uuid '%s' is not a UUID; give one as 'uuidgen' prints it", configured);
            return FALSE;
        }
        g_free(core->host_uuid);
        core->host_uuid = g_strdup(uuid_format(uuid, buf));
        return TRUE;
    }
    /* the state directory is the host: two daemons on one machine are two hosts */
    g_autofree char *path = g_build_filename(core->paths.state_dir, "host-uuid", NULL);
    g_autofree char *text = NULL;
    GError *e = NULL;
    if (g_file_get_contents(path, &text, NULL, &e)) {
        g_strstrip(text);
        if (!uuid_parse(text, uuid)) {
            err_set(error, ERR_FROM_CONF, ERR_CONFIG_UNSUPPORTED,
                    "'%s' holds no UUID; remove it to have a new one made", path);
            return FALSE;
        }
    } else if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        g_autofree char *made = g_uuid_string_random();
        g_autofree char *line = g_strconcat(made, "\n", NULL);
        if (!uuid_parse(made, uuid) ||
            !file_write_atomic(path, line, strlen(line), 0644, FILE_DURABLE, error))
            return FALSE;
        log_info("this host's UUID is %s (new, kept in '%s')", made, path);
    } else {
        err_set(error, ERR_FROM_NONE, ERR_SYSTEM_ERROR, "cannot read '%s': %s", path, e->message);
        g_error_free(e);
        return FALSE;
    }
    g_clear_error(&e);
    g_free(core->host_uuid);
    core->host_uuid = g_strdup(uuid_format(uuid, buf));
    return TRUE;
}

void
core_free(struct core *core)
{
    if (!core)
        return;
    /* running QEMUs stay alive: only our side of the monitor is closed */
    GHashTableIter it;
    gpointer value;
    gboolean grouped = FALSE;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *dom = value;
        grouped |= dom->cgroup;
        g_clear_pointer(&dom->mon, qmp_free);
        g_clear_pointer(&dom->agent, agent_free);
        if (dom->pid_watch)
            g_source_remove(dom->pid_watch);
        dom->pid_watch = 0;
        file_close_fd(&dom->pidfd);
        file_close_fd(&dom->stat_fd);
    }
    core_storage_free(core);
    core_network_free(core);
    core_secret_free(core);
    g_free(core->dnsmasq_binary);
    g_hash_table_destroy(core->by_id);
    g_hash_table_destroy(core->by_uuid);
    g_hash_table_destroy(core->by_name);
    events_free(core->events);
    /* the parent of the domains' groups goes with the last of them (a daemon per --root
     * makes one of its own) */
    GError *e = NULL;
    if (!grouped && core->cgroups && core->paths.cgroup_parent &&
        cgroup_exists(core->cgroups, core->paths.cgroup_parent) &&
        !cgroup_remove(core->cgroups, core->paths.cgroup_parent, &e)) {
        log_debug("%s", e->message);
        g_error_free(e);
    }
    core_paths_clear(&core->paths);
    cgroup_host_free(core->cgroups);
    g_free(core->qemu_binary);
    g_free(core->host_uuid);
    g_free(core->migration_address);
    g_free(core->migrate_tls_dir);
    g_free(core->backup_tls_dir);
    g_free(core);
}

struct domain *
core_lookup_name(struct core *core, const char *name, GError **error)
{
    struct domain *dom = g_hash_table_lookup(core->by_name, name);
    if (!dom)
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN, "no domain with matching name '%s'", name);
    return dom;
}

struct domain *
core_lookup_uuid(struct core *core, const uint8_t *uuid, GError **error)
{
    g_autofree char *key = uuid_key(uuid);
    struct domain *dom = g_hash_table_lookup(core->by_uuid, key);
    if (!dom)
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN, "no domain with matching uuid '%s'", key);
    return dom;
}

struct domain *
core_lookup_id(struct core *core, int id, GError **error)
{
    struct domain *dom = g_hash_table_lookup(core->by_id, GINT_TO_POINTER(id));
    if (!dom)
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN, "no domain with matching id %d", id);
    return dom;
}

struct domain *
core_lookup_handle(struct core *core, const char *name, const uint8_t *uuid, GError **error)
{
    g_autofree char *key = uuid_key(uuid);
    struct domain *dom = g_hash_table_lookup(core->by_uuid, key);
    if (!dom)
        err_set(error, ERR_FROM_DOMAIN, ERR_NO_DOMAIN, "no domain with matching uuid '%s' ('%s')",
                key, name ? name : "");
    return dom;
}

gboolean
core_list_flags_valid(unsigned flags, GError **error)
{
    if (flags & ~(unsigned)LIST_ALL_FLAGS) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x) in list",
                flags & ~(unsigned)LIST_ALL_FLAGS);
        return FALSE;
    }
    return TRUE;
}

static gboolean
pair_match(unsigned flags, unsigned yes, unsigned no, gboolean value)
{
    if (!(flags & (yes | no)) || (flags & (yes | no)) == (yes | no))
        return TRUE;
    return (flags & yes) ? value : !value;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    const struct domain *da = *(struct domain *const *)a;
    const struct domain *db = *(struct domain *const *)b;
    return strcmp(da->def->name, db->def->name);
}

GPtrArray *
core_list(struct core *core, unsigned flags)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *dom = value;
        gboolean active = state_is_active(dom->state);
        if (!pair_match(flags, LIST_ACTIVE, LIST_INACTIVE, active) ||
            !pair_match(flags, LIST_PERSISTENT, LIST_TRANSIENT, dom->persistent) ||
            !pair_match(flags, LIST_AUTOSTART, LIST_NO_AUTOSTART, dom->autostart) ||
            !pair_match(flags, LIST_MANAGEDSAVE, LIST_NO_MANAGEDSAVE, dom->managed_save) ||
            !pair_match(flags, LIST_HAS_SNAPSHOT, LIST_NO_SNAPSHOT,
                        g_hash_table_size(dom->snapshots) > 0) ||
            !pair_match(flags, LIST_HAS_CHECKPOINT, LIST_NO_CHECKPOINT,
                        g_hash_table_size(dom->checkpoints) > 0))
            continue;
        unsigned states = flags & (LIST_RUNNING | LIST_PAUSED | LIST_SHUTOFF | LIST_OTHER);
        if (states) {
            gboolean ok = ((states & LIST_RUNNING) && dom->state == DOM_RUNNING) ||
                          ((states & LIST_PAUSED) && dom->state == DOM_PAUSED) ||
                          ((states & LIST_SHUTOFF) && dom->state == DOM_SHUTOFF) ||
                          ((states & LIST_OTHER) && dom->state != DOM_RUNNING &&
                           dom->state != DOM_PAUSED && dom->state != DOM_SHUTOFF);
            if (!ok)
                continue;
        }
        g_ptr_array_add(out, dom);
    }
    g_ptr_array_sort(out, compare_names);
    return out;
}

void
core_domain_emit(struct domain *dom, int event, int detail)
{
    struct event ev = {
        .kind = EVENT_ID_LIFECYCLE,
        .event = event,
        .detail = detail,
    };
    core_domain_emit_event(dom, &ev);
}

struct domain *
core_register(struct core *core, struct domain_def *def, gboolean persistent)
{
    struct domain *dom = domain_new(core, def);
    dom->persistent = persistent;
    if (persistent) {
        g_autofree char *ms = core_managed_save_path(dom);
        dom->managed_save = g_file_test(ms, G_FILE_TEST_IS_REGULAR);
    }
    core_snapshot_load(dom);
    core_checkpoint_load(dom);
    registry_add(core, dom);
    return dom;
}

char *
core_managed_save_path(struct domain *dom)
{
    return g_strdup_printf("%s/save/%s.save", dom->core->paths.state_dir, dom->def->name);
}

gboolean
core_check_unique(struct core *core, const struct domain_def *def, struct domain **ret_dom,
                  GError **error)
{
    char uuid[UUID_STRING_LEN];
    uuid_format(def->uuid, uuid);
    struct domain *by_name = g_hash_table_lookup(core->by_name, def->name);
    struct domain *by_uuid = g_hash_table_lookup(core->by_uuid, uuid);
    if (by_name && by_name != by_uuid) {
        char other[UUID_STRING_LEN];
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                "domain '%s' already exists with uuid %s", def->name,
                uuid_format(by_name->def->uuid, other));
        return FALSE;
    }
    if (by_uuid && by_uuid != by_name) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                "domain '%s' is already defined with uuid %s", by_uuid->def->name, uuid);
        return FALSE;
    }
    *ret_dom = by_name;
    return TRUE;
}

void
core_domain_emit_reboot(struct domain *dom)
{
    struct event ev = {
        .kind = EVENT_ID_REBOOT,
    };
    core_domain_emit_event(dom, &ev);
}

gboolean
core_domain_require_running(struct domain *dom, GError **error)
{
    if (!state_is_active(dom->state) || !dom->mon) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        return FALSE;
    }
    return TRUE;
}

gboolean
core_domain_control_info(struct domain *dom, struct core_control_info *ret, GError **error)
{
    memset(ret, 0, sizeof(*ret));
    if (!state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is not running",
                dom->def->name);
        return FALSE;
    }
    if (!dom->mon) {
        ret->state = CONTROL_ERROR;
        ret->details = CONTROL_ERROR_MONITOR;
    } else if (job_of(&dom->jobs)) {
        ret->state = CONTROL_JOB;
        gint64 ms = (g_get_real_time() - job_of(&dom->jobs)->started) / 1000;
        ret->state_time_ms = (guint64)MAX(ms, 0);
    }
    return TRUE;
}

void
core_domain_emit_event(struct domain *dom, struct event *ev)
{
    ev->name = dom->def->name;
    ev->id = dom->id;
    memcpy(ev->uuid, dom->def->uuid, UUID_LEN);
    events_emit(dom->core->events, ev);
}

void
core_domain_emit_device(struct domain *dom, int kind, const char *alias)
{
    struct event ev = {
        .kind = kind,
        .alias = alias,
    };
    core_domain_emit_event(dom, &ev);
}

void
core_domain_emit_migration_iteration(struct domain *dom, int iteration)
{
    struct event ev = {
        .kind = EVENT_ID_MIGRATION_ITERATION,
        .iteration = iteration,
    };
    core_domain_emit_event(dom, &ev);
}

void
core_domain_emit_tunable(struct domain *dom, const GPtrArray *params)
{
    struct event ev = {
        .kind = EVENT_ID_TUNABLE,
        .params = params,
    };
    core_domain_emit_event(dom, &ev);
}

gboolean
core_tls_check(const char *dir, gboolean server, const char *use, const char *setting,
               GError **error)
{
    const char *const files[] = {"ca-cert.pem", server ? "server-cert.pem" : "client-cert.pem",
                                 server ? "server-key.pem" : "client-key.pem"};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i], NULL);
        if (access(path, R_OK) < 0) {
            int e = errno;
            char host[256] = "";
            if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
                g_strlcpy(host, "localhost", sizeof(host));
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_INVALID,
                    "%s needs '%s' on host '%s': %s; put QEMU's certificates in %s (domusd.conf, "
                    "[qemu])",
                    use, path, host, g_strerror(e), setting);
            return FALSE;
        }
    }
    return TRUE;
}

JsonObject *
core_tls_object(const char *id, const char *dir, gboolean server, gboolean verify)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "qom-type", "tls-creds-x509");
    json_object_set_string_member(args, "id", id);
    json_object_set_string_member(args, "dir", dir);
    json_object_set_string_member(args, "endpoint", server ? "server" : "client");
    /* a client always checks the server's certificate */
    json_object_set_boolean_member(args, "verify-peer", !server || verify);
    return args;
}

unsigned
core_domain_next_image(struct domain *dom)
{
    return MAX(qemu_device_next_image(dom->def), core_backup_next_image(dom));
}

/* virDomainJobOperation */
enum {
    JOB_OPERATION_UNKNOWN = 0,
    JOB_OPERATION_START = 1,
    JOB_OPERATION_SAVE = 2,
    JOB_OPERATION_RESTORE = 3,
    JOB_OPERATION_MIGRATION_IN = 4,
    JOB_OPERATION_MIGRATION_OUT = 5,
    JOB_OPERATION_SNAPSHOT = 6,
    JOB_OPERATION_SNAPSHOT_REVERT = 7,
    JOB_OPERATION_DUMP = 8,
    JOB_OPERATION_BACKUP = 9,
    JOB_OPERATION_SNAPSHOT_DELETE = 10,
};

GPtrArray *
core_job_params(const struct job_info *info)
{
    static const int operations[JOB_TYPE_LAST] = {
        [JOB_START] = JOB_OPERATION_START,
        [JOB_SAVE] = JOB_OPERATION_SAVE,
        [JOB_RESTORE] = JOB_OPERATION_RESTORE,
        [JOB_SNAPSHOT] = JOB_OPERATION_SNAPSHOT,
        [JOB_SNAPSHOT_REVERT] = JOB_OPERATION_SNAPSHOT_REVERT,
        [JOB_SNAPSHOT_DELETE] = JOB_OPERATION_SNAPSHOT_DELETE,
        [JOB_MIGRATION_IN] = JOB_OPERATION_MIGRATION_IN,
        [JOB_MIGRATION_OUT] = JOB_OPERATION_MIGRATION_OUT,
        [JOB_DUMP] = JOB_OPERATION_DUMP,
        [JOB_BACKUP] = JOB_OPERATION_BACKUP,
    };
    GPtrArray *params = typed_params_new();
    typed_params_add_int(params, "operation",
                         info->type < JOB_TYPE_LAST ? operations[info->type]
                                                    : JOB_OPERATION_UNKNOWN);
    typed_params_add_ullong(params, "time_elapsed", (guint64)info->elapsed_ms);
    if (info->temp) {
        /* a pull backup's: what its scratch images took */
        typed_params_add_ullong(params, "disk_temp_used", info->done);
        typed_params_add_ullong(params, "disk_temp_total", info->total);
    } else if (info->total) {
        /* a backup's are the disks' bytes, under libvirt's names */
        gboolean disk = info->type == JOB_BACKUP;
        typed_params_add_ullong(params, disk ? "disk_total" : "data_total", info->total);
        typed_params_add_ullong(params, disk ? "disk_processed" : "data_processed", info->done);
        typed_params_add_ullong(params, disk ? "disk_remaining" : "data_remaining",
                                info->total - MIN(info->done, info->total));
    }
    const struct job_migration *m = &info->migration;
    if (!m->present)
        return params;
    /* QEMU's figures, under libvirt's names */
    const struct {
        const char *name;
        guint64 v;
    } figures[] = {
        {"memory_total", m->mem_total},
        {"memory_processed", m->mem_processed},
        {"memory_remaining", m->mem_remaining},
        {"memory_bps", m->mem_bps},
        {"memory_dirty_rate", m->dirty_rate},
        {"memory_iteration", m->iteration},
        {"memory_constant", m->constant_pages},
        {"memory_normal", m->normal_pages},
        {"memory_normal_bytes", m->normal_bytes},
        {"memory_page_size", m->page_size},
        {"setup_time", m->setup_ms},
        {"disk_total", m->disk_total},
        {"disk_processed", m->disk_processed},
        {"disk_remaining", m->disk_remaining},
        /* while it runs, the downtime QEMU expects; once over, the one it had */
        {"downtime", m->downtime_known ? m->downtime_ms : m->expected_downtime_ms},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(figures); i++)
        typed_params_add_ullong(params, figures[i].name, figures[i].v);
    if (m->throttle_percent)
        typed_params_add_int(params, "auto_converge_throttle", (int)m->throttle_percent);
    return params;
}

void
core_domain_emit_job_completed(struct domain *dom, gboolean outcome, const GError *error)
{
    struct job_info info;
    job_info(&dom->jobs, &info);
    g_autoptr(GPtrArray) params = core_job_params(&info);
    if (outcome) {
        typed_params_add_bool(params, "success", error == NULL);
        if (error)
            typed_params_add_string(params, "errmsg", error->message);
    }
    struct event ev = {.kind = EVENT_ID_JOB_COMPLETED, .params = params};
    core_domain_emit_event(dom, &ev);
}

void
core_domain_emit_metadata(struct domain *dom, int type, const char *uri)
{
    struct event ev = {
        .kind = EVENT_ID_METADATA_CHANGE,
        .metadata_type = type,
        .nsuri = uri,
    };
    core_domain_emit_event(dom, &ev);
}

/* virDomainDefineXMLFlags */
enum { DEFINE_VALIDATE = 1 };

/* The machine type and CPU model of DEF against the default emulator's capabilities (the
 * cache's: memory, else disk, else a probe that waits; the daemon warms it when it starts).
 * Another emulator is not probed here: its QEMU refuses what it lacks at start. */
static gboolean
check_caps(struct core *core, struct domain_def *def, const char *emulator, GError **error)
{
    if (!core->caps_cache || !emulator || g_strcmp0(emulator, core->qemu_binary) != 0)
        return TRUE;
    g_autoptr(qemu_caps) caps = qemu_caps_cache_get(core->caps_cache, emulator, error);
    if (!caps)
        return FALSE;
    const char *want = def->os_machine ? def->os_machine : qemu_caps_get_default_machine(caps);
    const char *machine = want ? qemu_caps_get_canonical_machine(caps, want) : NULL;
    if (want && !machine) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "Emulator '%s' does not support machine type '%s'; 'virsh capabilities' lists "
                "the machine types this host has",
                emulator, want);
        return FALSE;
    }
    if (machine && g_strcmp0(machine, def->os_machine) != 0) {
        g_free(def->os_machine);
        def->os_machine = g_strdup(machine);
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const struct disk_def *d = def->disks->pdata[i];
        if (g_strcmp0(d->io, "io_uring") == 0 && !qemu_caps_io_uring_usable(caps)) {
            err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                    "disk '%s': io uring is not supported by this QEMU binary and kernel ('%s' "
                    "could not open an image with it); use io='threads'",
                    d->target_dev, emulator);
            return FALSE;
        }
    }
    gboolean custom = !def->cpu_mode || g_str_equal(def->cpu_mode, "custom");
    if (custom && def->cpu_model && !qemu_caps_has_cpu_model(caps, def->cpu_model)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "CPU model '%s' is not supported by emulator '%s'; 'virsh domcapabilities' "
                "lists the models it has",
                def->cpu_model, emulator);
        return FALSE;
    }
    /* a feature QEMU does not know would stop it at start */
    const char *const *known = qemu_caps_get_cpu_features(caps);
    for (guint i = 0; known && i < def->cpu_features->len; i++) {
        const struct cpu_feature_def *f = def->cpu_features->pdata[i];
        if (!g_strv_contains(known, f->name)) {
            err_set(
                error, ERR_FROM_DOMAIN, ERR_CONFIG_UNSUPPORTED,
                "CPU feature '%s' is not known to emulator '%s'; 'virsh hypervisor-cpu-baseline "
                "--features --model MODEL' lists a model's features by their names",
                f->name, emulator);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
core_check_guest_cpu(struct core *core, const struct domain_def *def, const char *emulator,
                     GError **error)
{
    if (def->virt_type == DOMAIN_VIRT_KVM || g_strcmp0(def->cpu_check, "none") == 0 ||
        !def->cpu_features->len || !core->caps_cache || !emulator ||
        g_strcmp0(emulator, core->qemu_binary) != 0)
        return TRUE;
    g_autoptr(qemu_caps) caps = qemu_caps_cache_get(core->caps_cache, emulator, error);
    if (!caps)
        return FALSE;
    const struct qemu_caps_cpu_model *max = qemu_caps_get_cpu_max(caps);
    if (!max)
        return TRUE;
    g_autoptr(GPtrArray) missing = g_ptr_array_new();
    for (guint i = 0; i < def->cpu_features->len; i++) {
        const struct cpu_feature_def *f = def->cpu_features->pdata[i];
        if (g_str_equal(f->policy, "require") &&
            !g_strv_contains((const char *const *)max->features, f->name))
            g_ptr_array_add(missing, f->name);
    }
    if (!missing->len)
        return TRUE;
    g_ptr_array_add(missing, NULL);
    g_autofree char *names = g_strjoinv(", ", (char **)missing->pdata);
    err_set(error, ERR_FROM_CPU, ERR_CPU_INCOMPATIBLE,
            "Host CPU does not provide required features: %s (QEMU's TCG does not emulate them; "
            "drop them, or give <cpu check='none'> to start without them)",
            names);
    return FALSE;
}

const char *
core_disk_aio(struct core *core, const char *emulator)
{
    if (core->disk_io_threads || !core->caps_cache || !emulator)
        return NULL;
    g_autoptr(qemu_caps) caps = qemu_caps_cache_peek(core->caps_cache, emulator);
    return caps && qemu_caps_io_uring_usable(caps) ? "io_uring" : NULL;
}

gboolean
core_validate_for_host(struct core *core, struct domain_def *def, GError **error)
{
    g_autofree char *host = qemu_caps_find_binary(def->os_arch ? def->os_arch : "x86_64", NULL);
    const char *emulator = def->emulator ? def->emulator : host;
    if (def->emulator) {
        struct stat st;
        if (stat(def->emulator, &st) < 0) {
            int e = errno;
            err_set(error, ERR_FROM_QEMU, ERR_SYSTEM_ERROR,
                    "Cannot check QEMU binary '%s': %s; this host's is '%s'", def->emulator,
                    g_strerror(e), host ? host : "not installed");
            return FALSE;
        }
        if (!S_ISREG(st.st_mode) || access(def->emulator, X_OK) < 0) {
            err_set(error, ERR_FROM_QEMU, ERR_SYSTEM_ERROR, "QEMU binary '%s' is not executable",
                    def->emulator);
            return FALSE;
        }
    }
    if (def->virt_type == DOMAIN_VIRT_KVM && !qemu_caps_kvm_usable()) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "Emulator '%s' does not support virt type 'kvm': this host has no usable "
                "/dev/kvm; use type 'qemu'",
                emulator ? emulator : "qemu-system");
        return FALSE;
    }
    return check_caps(core, def, emulator, error);
}

struct domain *
core_define(struct core *core, const char *xml, unsigned flags, GError **error)
{
    if (flags & ~(unsigned)DEFINE_VALIDATE) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x) in define",
                flags & ~(unsigned)DEFINE_VALIDATE);
        return NULL;
    }
    g_autoptr(domain_def) def =
        domain_def_parse(xml, (flags & DEFINE_VALIDATE) ? DOMAIN_DEF_PARSE_VALIDATE : 0, error);
    if (!def || !core_validate_for_host(core, def, error) || !qemu_address_assign(def, error))
        return NULL;
    struct domain *dom = NULL;
    if (!core_check_unique(core, def, &dom, error))
        return NULL;
    core_unique_macs(core, def);
    if (!core_config_save(core, def, error))
        return NULL;
    /* as libvirt: ADDED when no persistent definition existed (a transient domain made
     * persistent too), UPDATED when one is replaced */
    gboolean updated = dom != NULL && dom->persistent;
    if (!dom) {
        dom = core_register(core, g_steal_pointer(&def), TRUE);
    } else if (state_is_active(dom->state)) {
        /* the live config stays until the next start */
        domain_def_free(dom->new_def);
        dom->new_def = g_steal_pointer(&def);
        dom->persistent = TRUE;
        core_status_write(dom, NULL);
    } else {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&def);
        dom->persistent = TRUE;
    }
    log_info("%s: defined", dom->def->name);
    core_domain_emit(dom, EV_DEFINED, updated ? EV_DEFINED_UPDATED : EV_DEFINED_ADDED);
    return dom;
}

/* virDomainUndefineFlagsValues we accept (MANAGED_SAVE: its image goes too; nothing is behind
 * the others yet) */
enum {
    UNDEFINE_MANAGED_SAVE = 1,
    UNDEFINE_SNAPSHOTS_METADATA = 2,
    UNDEFINE_NVRAM = 4,
    UNDEFINE_KEEP_NVRAM = 8,
    UNDEFINE_CHECKPOINTS_METADATA = 16,
    UNDEFINE_TPM = 32,
    UNDEFINE_KEEP_TPM = 64
};

gboolean
core_undefine(struct core *core, struct domain *dom, unsigned flags, GError **error)
{
    if (flags & ~127u) {
        err_set(error, ERR_FROM_DOMAIN, ERR_INVALID_ARG, "unsupported flags (0x%x) in undefine",
                flags & ~127u);
        return FALSE;
    }
    if (!dom->persistent) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot undefine transient domain '%s'", dom->def->name);
        return FALSE;
    }
    if (dom->managed_save && !(flags & UNDEFINE_MANAGED_SAVE)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has a managed save image; undefine it with --managed-save to "
                "remove the image too, or start it first",
                dom->def->name);
        return FALSE;
    }
    guint nsnap = g_hash_table_size(dom->snapshots);
    if (nsnap && !(flags & UNDEFINE_SNAPSHOTS_METADATA)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has %u snapshot%s; undefine it with --snapshots-metadata to forget "
                "them too, or delete them first",
                dom->def->name, nsnap, nsnap == 1 ? "" : "s");
        return FALSE;
    }
    guint ncp = g_hash_table_size(dom->checkpoints);
    if (ncp && !(flags & UNDEFINE_CHECKPOINTS_METADATA)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' has %u checkpoint%s; undefine it with --checkpoints-metadata to "
                "forget them too, or delete them first",
                dom->def->name, ncp, ncp == 1 ? "" : "s");
        return FALSE;
    }
    if (nsnap && !core_snapshot_forget_all(dom, error))
        return FALSE;
    if (ncp && !core_checkpoint_forget_all(dom, error))
        return FALSE;
    g_autofree char *path = config_path(core, dom->def->name);
    g_autofree char *ap = autostart_path(core, dom->def->name);
    g_autofree char *ms = core_managed_save_path(dom);
    if (!file_remove_large(ms, error) || !file_remove(ap, error) || !file_remove(path, error))
        return FALSE;
    dom->managed_save = FALSE;
    dom->autostart = FALSE;
    dom->persistent = FALSE;
    g_clear_pointer(&dom->new_def, domain_def_free);
    log_info("%s: undefined", dom->def->name);
    core_domain_emit(dom, EV_UNDEFINED, EV_UNDEFINED_REMOVED);
    if (state_is_active(dom->state))
        core_status_write(dom, NULL);
    else
        registry_remove(core, dom);
    return TRUE;
}

gboolean
core_rename(struct core *core, struct domain *dom, const char *name, GError **error)
{
    const char *old = dom->def->name;
    if (!names_validate(name, NAMES_DOMAIN, "domain", ERR_FROM_DOMAIN, error))
        return FALSE;
    if (state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot rename active domain '%s'; shut it down first", old);
        return FALSE;
    }
    if (!dom->persistent) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot rename transient domain '%s'", old);
        return FALSE;
    }
    if (g_hash_table_contains(core->by_name, name)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain with name '%s' already exists", name);
        return FALSE;
    }
    if (g_hash_table_size(dom->snapshots) > 0 || g_hash_table_size(dom->checkpoints) > 0) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot rename domain '%s' with %s; delete them first", old,
                g_hash_table_size(dom->snapshots) > 0 ? "snapshots" : "checkpoints");
        return FALSE;
    }
    if (dom->managed_save) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' with a managed saved state can't be renamed; start it or remove "
                "the image (managedsave-remove)",
                old);
        return FALSE;
    }
    if (dom->jobs.current && !dom->jobs.current->finished) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "domain '%s' is busy with a %s job; try again when it is over", old,
                job_type_to_string(dom->jobs.current->type));
        return FALSE;
    }
    /* the new files first, then the old ones go: a crash leaves one name or both, never none */
    struct domain_def *copy = domain_def_copy(dom->def);
    g_free(copy->name);
    copy->name = g_strdup(name);
    g_autofree char *old_path = config_path(core, old);
    g_autofree char *old_ap = autostart_path(core, old);
    g_autofree char *new_ap = autostart_path(core, name);
    if (!core_config_save(core, copy, error) ||
        (dom->autostart &&
         !file_write_atomic(new_ap, name, strlen(name), 0600, FILE_DURABLE, error))) {
        g_autofree char *new_path = config_path(core, name);
        file_remove(new_path, NULL);
        domain_def_free(copy);
        return FALSE;
    }
    file_remove(old_ap, NULL);
    file_remove(old_path, NULL);
    core_domain_emit(dom, EV_UNDEFINED, EV_UNDEFINED_RENAMED);
    gpointer old_key = NULL;
    g_hash_table_steal_extended(core->by_name, old, &old_key, NULL); /* keeps DOM's reference */
    g_free(old_key);
    g_autofree char *old_name = g_strdup(old);
    domain_def_free(dom->def);
    dom->def = copy;
    g_hash_table_insert(core->by_name, g_strdup(name), dom);
    job_owner_rename(&dom->jobs, name);
    log_info("%s: renamed from '%s'", name, old_name);
    core_domain_emit(dom, EV_DEFINED, EV_DEFINED_RENAMED);
    return TRUE;
}

gboolean
core_set_autostart(struct core *core, struct domain *dom, gboolean on, GError **error)
{
    if (!dom->persistent) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
                "cannot set autostart for transient domain '%s'", dom->def->name);
        return FALSE;
    }
    g_autofree char *ap = autostart_path(core, dom->def->name);
    if (on) {
        if (!file_write_atomic(ap, dom->def->name, strlen(dom->def->name), 0600, FILE_DURABLE,
                               error))
            return FALSE;
    } else if (!file_remove(ap, error)) {
        return FALSE;
    }
    dom->autostart = on;
    return TRUE;
}

gboolean
core_domain_is_updated(struct domain *dom)
{
    return state_is_active(dom->state) && dom->updated;
}

/* virDomainXMLFlags */
enum { XML_SECURE = 1, XML_INACTIVE = 2, XML_UPDATE_CPU = 4, XML_MIGRATABLE = 8 };

char *
core_domain_xml(struct domain *dom, unsigned flags)
{
    unsigned fmt = 0;
    if (flags & XML_SECURE)
        fmt |= DOMAIN_DEF_FORMAT_SECURE;
    if ((flags & XML_INACTIVE) || !state_is_active(dom->state)) {
        return domain_def_format(core_persistent_def(dom), -1, fmt | DOMAIN_DEF_FORMAT_INACTIVE);
    }
    /* what another host would run: the live definition without what only this run has */
    if (flags & XML_MIGRATABLE)
        return domain_def_format(dom->def, -1, fmt | DOMAIN_DEF_FORMAT_INACTIVE);
    return domain_def_format(dom->def, dom->id, fmt);
}

char *
core_status_path(struct domain *dom)
{
    return g_strdup_printf("%s/%s.xml", dom->core->paths.status_dir, dom->def->name);
}

struct domain_def *
core_persistent_def(struct domain *dom)
{
    return dom->new_def ? dom->new_def : dom->def;
}

gboolean
core_status_write(struct domain *dom, GError **error)
{
    g_autofree char *path = core_status_path(dom);
    if (!state_is_active(dom->state))
        return file_remove(path, error);
    g_autofree char *live =
        domain_def_format(dom->def, dom->id, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_STATUS);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "<domstatus state='%s' reason='%d' pid='%d' id='%d' "
                           "persistent='%s' autodestroy='%s' vcpus-created='%u' "
                           "agent-timeout='%d'>\n",
                           state_to_string(dom->state), dom->reason, (int)dom->pid, dom->id,
                           dom->persistent ? "yes" : "no", dom->autodestroy ? "yes" : "no",
                           dom->vcpus_created, dom->agent_timeout);
    g_string_append(s, "  <monitor path='");
    xml_util_append_escaped_attr(s, dom->monitor_path ? dom->monitor_path : "");
    g_string_append(s, "'/>\n  <emulator path='");
    xml_util_append_escaped_attr(s, dom->emulator ? dom->emulator : "");
    g_string_append(s, "'/>\n");
    /* a job whose steps are over is no longer what a restarted daemon must undo */
    if (dom->jobs.current && !dom->jobs.current->finished) {
        g_string_append_printf(s, "  <job kind='%s' started='%" G_GINT64_FORMAT "'",
                               job_type_to_string(dom->jobs.current->type),
                               dom->jobs.current->started);
        if (dom->save_file) {
            g_string_append(s, " file='");
            xml_util_append_escaped_attr(s, dom->save_file);
            g_string_append(s, "'");
        }
        g_string_append(s, "/>\n");
    }
    g_string_append(s, live);
    g_string_append(s, "</domstatus>\n");
    gboolean ok = file_write_atomic(path, s->str, s->len, 0600, 0, error);
    g_string_free(s, TRUE);
    return ok;
}

gboolean
core_domain_transition(struct domain *dom, enum dom_input input, GError **error)
{
    const struct state_transition *t = state_transition(dom->state, input);
    if (!t) {
        log_error("BUG: illegal transition of '%s': %s --%s-->", dom->def->name,
                  state_to_string(dom->state), state_input_to_string(input));
        err_set(error, ERR_FROM_DOMAIN, ERR_INTERNAL_ERROR,
                "domain '%s' cannot go from '%s' by '%s'", dom->def->name,
                state_to_string(dom->state), state_input_to_string(input));
        return FALSE;
    }
    log_debug("%s: state %s -> %s (%s) by %s", dom->def->name, state_to_string(dom->state),
              state_to_string(t->to), state_reason_to_string(t->to, t->reason),
              state_input_to_string(input));
    enum dom_state old_state = dom->state;
    int old_reason = dom->reason;
    dom->state = t->to;
    dom->reason = t->reason;
    g_autoptr(GError) err = NULL;
    if (!core_status_write(dom, &err)) {
        if (error) {
            dom->state = old_state;
            dom->reason = old_reason;
            g_propagate_prefixed_error(error, g_steal_pointer(&err),
                                       "cannot record the state of '%s': ", dom->def->name);
            return FALSE;
        }
        log_warn("%s: %s", dom->def->name, err->message);
    }
    for (int i = 0; i < 2; i++)
        if (t->event[i] >= 0)
            core_domain_emit(dom, t->event[i], t->detail[i]);
    return TRUE;
}
