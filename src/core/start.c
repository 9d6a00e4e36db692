/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* start: a domain's QEMU from definition to running, as a pipeline of the job engine (job.c):
 * prepare (the live definition, paths, sockets, taps), spawn (status recorded before exec),
 * setup (the QMP commands a fresh QEMU needs), resume. A failure at any step leaves nothing
 * behind: the process is reaped, sockets and taps closed, the domain shut off without events. */
#include "core/core.h"

#include <errno.h>
#include <netinet/in.h>
#include <netdb.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/hostdev.h"
#include "core/lifecycle.h"
#include "core/migration.h"
#include "core/numatune.h"
#include "core/network.h"
#include "core/pin.h"
#include "core/qos.h"
#include "core/storage.h"
#include "qemu/address.h"
#include "qemu/alias.h"
#include "qemu/caps.h"
#include "qemu/command.h"
#include "qemu/device.h"
#include "qemu/filter.h"
#include "qemu/json.h"
#include "qemu/monitor.h"
#include "qemu/process.h"
#include "qemu/saveimage.h"
#include "storage/chain.h"
#include "util/cpuset.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"
#include "util/ports.h"

#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

struct start_op {
    struct domain *dom; /* a reference */
    unsigned flags;     /* CORE_START_* */
    gboolean pinned;    /* <vcpu cpuset>: QEMU runs on AFFINITY */
    cpu_set_t affinity;
    struct domain_def *live; /* the config to run, consumed by prepare; NULL: a copy */
    GStrv argv;
    int listen_fd;                          /* the monitor's listening socket, until QEMU has it */
    int chr_fds[QEMU_PROCESS_KEEP_MAX - 1]; /* the chardevs' listening sockets, likewise */
    char *chr_paths[QEMU_PROCESS_KEEP_MAX - 1];
    guint nchr;
    GHashTable *chardev_fds;                /* chardev id -> the fd number QEMU gets it as */
    int tap_fds[QEMU_PROCESS_KEEP_MAX - 1]; /* the guest NICs' taps, likewise */
    guint ntap;
    GHashTable *tap_fd_numbers; /* interface alias -> the fd number QEMU gets its tap as */
    guint outstanding;          /* setup commands waiting for their reply */
    /* restore: QEMU reads the guest's state from INCOMING_FD (-1: a boot); the run then
     * ends in RESTORED_INPUT (IN_RESTORED: the vCPUs run) */
    int incoming_fd;
    enum dom_input restored_input; /* also the end of a start from a snapshot (LOADVM) */
    gboolean drop_cache; /* bypass-cache: the image leaves the host's page cache once read */
    /* a compressed image (COMPRESSION, a qemu_saveimage_compression, not raw): its program
     * reads INCOMING_FD and QEMU reads STREAM_FD, the program's pipe; IMAGE_PATH words errors */
    guint32 compression;
    char *image_path;
    struct qemu_filter *filter;
    int stream_fd;
    gboolean filter_over;     /* its program exited well */
    gboolean awaiting_filter; /* the await step waits for that */
    char *loadvm;             /* a snapshot revert: QEMU starts from this internal snapshot */
    /* an incoming migration from another host (NULL: none): QEMU listens, then waits */
    struct lifecycle_incoming *net_in;
    gboolean hostdevs_ready; /* the host PCI devices are readied: given back if QEMU never runs */
    gboolean abandoned;      /* the daemon dropped the forked child before it ran QEMU */
};

/* Closes the daemon's copies of the chardev sockets; UNLINK: QEMU never got them, so their
 * files go too. */
static void
close_chardev_sockets(struct start_op *op, gboolean unlink_paths)
{
    for (guint i = 0; i < op->nchr; i++) {
        file_close_fd(&op->chr_fds[i]);
        if (unlink_paths)
            unlink(op->chr_paths[i]);
        g_clear_pointer(&op->chr_paths[i], g_free);
    }
    op->nchr = 0;
}

/* Closes the daemon's copies of the taps: once QEMU has them, they live as long as it does;
 * before, closing them takes them away. */
static void
close_taps(struct start_op *op)
{
    for (guint i = 0; i < op->ntap; i++)
        file_close_fd(&op->tap_fds[i]);
    op->ntap = 0;
}

static void
start_op_free(gpointer data)
{
    struct start_op *op = data;
    domain_def_free(op->live);
    g_strfreev(op->argv);
    if (op->listen_fd >= 0)
        close(op->listen_fd);
    close_chardev_sockets(op, TRUE);
    close_taps(op);
    file_close_fd(&op->incoming_fd);
    file_close_fd(&op->stream_fd);
    qemu_filter_free(op->filter);
    g_free(op->image_path);
    g_free(op->loadvm);
    lifecycle_incoming_free(op->net_in);
    g_clear_pointer(&op->chardev_fds, g_hash_table_unref);
    g_clear_pointer(&op->tap_fd_numbers, g_hash_table_unref);
    core_domain_unref(op->dom);
    g_free(op);
}

/* A listening unix socket at PATH (WHAT names it in errors), replacing what is there. */
static int
listen_unix(const char *path, const char *what, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) > SOCKET_PATH_MAX) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "%s socket path '%s' is %zu bytes, over the limit of %zu; use a shorter "
                "state directory (--root) or domain name",
                what, path, strlen(path), SOCKET_PATH_MAX);
        return -1;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot create %s socket", what);
        return -1;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot listen on '%s'", path);
        close(fd);
        return -1;
    }
    return fd;
}

static int
monitor_connect(const char *path, GError **error)
{
    int fd = file_connect_unix(path, FALSE);
    if (fd < 0)
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot connect to QEMU monitor '%s'", path);
    return fd;
}

static gboolean
save_next_id(struct core *core, GError **error)
{
    g_autofree char *path = g_build_filename(core->paths.state_dir, "next-id", NULL);
    g_autofree char *text = g_strdup_printf("%d\n", core->next_id);
    return file_write_atomic(path, text, strlen(text), 0600, 0, error);
}

/* The definition's emulator (checked as at define: the host may have changed since), else
 * the host's for its architecture. */
static char *
resolve_emulator(struct core *core, struct domain_def *def, GError **error)
{
    if (!core_validate_for_host(core, def, error))
        return NULL;
    g_autofree char *emulator =
        def->emulator ? g_strdup(def->emulator)
                      : qemu_caps_find_binary(def->os_arch ? def->os_arch : "x86_64", error);
    if (emulator && !core_check_guest_cpu(core, def, emulator, error))
        return NULL;
    return g_steal_pointer(&emulator);
}

static gboolean
check_paths(struct domain *dom, GError **error)
{
    for (guint i = 0; i < dom->def->channels->len; i++) {
        struct chr_def *ch = dom->def->channels->pdata[i];
        if (ch->type != CHR_TYPE_UNIX)
            continue;
        g_autofree char *p = qemu_command_channel_path(dom->def, ch, dom->core->paths.channel_dir);
        if (strlen(p) > SOCKET_PATH_MAX) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "channel socket path '%s' is %zu bytes, over the limit of %zu", p, strlen(p),
                    SOCKET_PATH_MAX);
            return FALSE;
        }
    }
    return TRUE;
}

/* <vcpu cpuset>: as libvirt with placement static and no per-vCPU pinning, every thread of
 * QEMU runs on those CPUs (of them, the ones this host has). */
static gboolean
prepare_affinity(struct start_op *op, GError **error)
{
    const struct domain_def *def = op->dom->def;
    if (!def->vcpu_cpuset)
        return TRUE;
    struct cpuset set;
    cpu_set_t want, host;
    if (!cpuset_parse(def->vcpu_cpuset, &set, error))
        return FALSE;
    cpuset_to_cpu_set(&set, &want);
    if (sched_getaffinity(0, sizeof(host), &host) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot read this host's CPUs");
        return FALSE;
    }
    CPU_AND(&op->affinity, &want, &host);
    if (CPU_COUNT(&op->affinity) == 0) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "cpuset '%s' of domain '%s' names none of this host's %d CPUs", def->vcpu_cpuset,
                def->name, CPU_COUNT(&host));
        return FALSE;
    }
    op->pinned = TRUE;
    return TRUE;
}

/* A UEFI variable store that does not exist yet starts as a copy of its template. */
static gboolean
prepare_nvram(const struct domain_def *def, GError **error)
{
    if (!def->nvram || !def->loader_type || !g_str_equal(def->loader_type, "pflash") ||
        g_file_test(def->nvram, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!def->nvram_template) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "nvram '%s' of domain '%s' does not exist; give it a template= to start from",
                def->nvram, def->name);
        return FALSE;
    }
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) rerr = NULL;
    g_autofree char *dir = g_path_get_dirname(def->nvram);
    if (!g_file_get_contents(def->nvram_template, &data, &len, &rerr)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "cannot read nvram template of domain '%s': %s", def->name, rerr->message);
        return FALSE;
    }
    return file_mkdir_p(dir, 0755, error) &&
           file_write_atomic(def->nvram, data, len, 0600, FILE_DURABLE, error);
}

/* The listening sockets of the unix character devices QEMU serves (the guest agent's
 * channel among them), made here and inherited by QEMU as fds 4, 5, …, as libvirt passes
 * them: the socket exists with the daemon's permissions before QEMU runs, and a client may
 * connect as soon as QEMU is spawned. */
/* The unix character devices QEMU listens on, in the order their sockets are handed over
 * (serials, virtio consoles, channels): a new array of struct chr_def *, their paths in
 * *RET_PATHS (same order). */
static GPtrArray *
listening_chardevs(const struct domain_def *def, const char *channel_dir, GPtrArray **ret_paths)
{
    g_autoptr(GPtrArray) chrs = g_ptr_array_new();
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < def->serials->len; i++) {
        struct chr_def *c = def->serials->pdata[i];
        g_ptr_array_add(chrs, c);
        g_ptr_array_add(paths, g_strdup(c->source_path));
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        struct chr_def *c = def->consoles->pdata[i];
        if (c->target_type && g_str_equal(c->target_type, "virtio")) {
            g_ptr_array_add(chrs, c);
            g_ptr_array_add(paths, g_strdup(c->source_path));
        }
    }
    for (guint i = 0; i < def->channels->len; i++) {
        struct chr_def *c = def->channels->pdata[i];
        g_ptr_array_add(chrs, c);
        g_ptr_array_add(paths, qemu_command_channel_path(def, c, channel_dir));
    }
    *ret_paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < chrs->len; i++) {
        if (!qemu_command_chardev_listens(chrs->pdata[i]) || !paths->pdata[i])
            continue;
        g_ptr_array_add(out, chrs->pdata[i]);
        g_ptr_array_add(*ret_paths, g_steal_pointer(&paths->pdata[i]));
    }
    return out;
}

static gboolean
open_chardev_sockets(struct start_op *op, GError **error)
{
    const struct domain_def *def = op->dom->def;
    g_autoptr(GPtrArray) paths = NULL;
    g_autoptr(GPtrArray) chrs = listening_chardevs(def, op->dom->core->paths.channel_dir, &paths);
    op->chardev_fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < chrs->len; i++) {
        struct chr_def *c = chrs->pdata[i];
        const char *path = paths->pdata[i];
        if (op->nchr == G_N_ELEMENTS(op->chr_fds)) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "domain '%s' has more than %zu unix character devices", def->name,
                    G_N_ELEMENTS(op->chr_fds));
            return FALSE;
        }
        int fd = listen_unix(path, "character device", error);
        if (fd < 0)
            return FALSE;
        op->chr_paths[op->nchr] = g_strdup(path);
        op->chr_fds[op->nchr++] = fd;
        g_hash_table_insert(op->chardev_fds, qemu_device_chardev_id(c),
                            GINT_TO_POINTER(QEMU_COMMAND_MONITOR_FD + (int)op->nchr));
    }
    return TRUE;
}

/* The taps of the guest NICs, numbered for QEMU after the monitor and the chardevs. */
static gboolean
open_taps(struct start_op *op, GError **error)
{
    struct domain_def *def = op->dom->def;
    op->tap_fd_numbers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *net = def->nets->pdata[i];
        if (!qemu_device_net_has_tap(net))
            continue;
        if (1 + op->nchr + op->ntap >= QEMU_PROCESS_KEEP_MAX) {
            err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                    "domain '%s' has more than %d interfaces and unix character devices", def->name,
                    QEMU_PROCESS_KEEP_MAX - 1);
            return FALSE;
        }
        int fd = core_network_plug(op->dom->core, def->name, net, error);
        if (fd < 0)
            return FALSE;
        op->tap_fds[op->ntap++] = fd;
        g_hash_table_insert(op->tap_fd_numbers, g_strdup(net->info.alias),
                            GINT_TO_POINTER(QEMU_COMMAND_MONITOR_FD + (int)(op->nchr + op->ntap)));
    }
    return TRUE;
}

gboolean
lifecycle_probe_disk(struct disk_def *disk, GError **error)
{
    if (!disk->source)
        return TRUE;
    g_autoptr(GPtrArray) layers = storage_chain_probe(
        disk->source, disk->format == DISK_FORMAT_QCOW2 ? STORAGE_FORMAT_QCOW2 : STORAGE_FORMAT_RAW,
        error);
    if (!layers) {
        g_prefix_error(error, "disk '%s': ", disk->target_dev);
        return FALSE;
    }
    g_clear_pointer(&disk->backing, g_ptr_array_unref);
    disk->backing = g_ptr_array_new_with_free_func((GDestroyNotify)disk_layer_free);
    disk->source_index = 0;
    for (guint j = 0; j < layers->len; j++) {
        struct storage_chain_layer *l = layers->pdata[j];
        struct disk_layer *layer = g_new0(struct disk_layer, 1);
        layer->type = l->block ? DISK_TYPE_BLOCK : DISK_TYPE_FILE;
        layer->path = g_strdup(l->path);
        layer->format = l->format == STORAGE_FORMAT_QCOW2 ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
        g_ptr_array_add(disk->backing, layer);
    }
    return TRUE;
}

/* What a start adds to the live definition: the addresses a definition older than them
 * lacks, each disk's backing chain as its images name it now, numbers for the images' block
 * nodes, and every device's alias. */
/* A port for a SPICE server on LISTEN (QEMU's takes the one it is given, unlike its VNC
 * server): the first from 5900 that no running domain's SPICE holds and that can be bound
 * now, as libvirt's port allocator picks them. -1: none. */
static int
spice_port(struct core *core, const char *listen)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_direct_hash, g_direct_equal);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, core->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct domain *other = value;
        if (!state_is_active(other->state))
            continue;
        for (guint i = 0; i < other->def->graphics->len; i++) {
            const struct graphics_def *g = other->def->graphics->pdata[i];
            if (g->type == GRAPHICS_TYPE_SPICE && g->port > 0)
                g_hash_table_add(taken, GINT_TO_POINTER(g->port));
        }
    }
    return ports_find_free(ERR_FROM_DOMAIN, listen, 5900, 65535, taken, NULL);
}

static gboolean
prepare_live_def(struct core *core, struct domain_def *def, GError **error)
{
    if (!qemu_address_assign(def, error))
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++) {
        if (!lifecycle_probe_disk(def->disks->pdata[i], error))
            return FALSE;
    }
    qemu_device_number_images(def);
    qemu_alias_assign(def);
    /* the address QEMU's VNC server listens on, as libvirt's live XML names it */
    for (guint i = 0; i < def->graphics->len; i++) {
        struct graphics_def *g = def->graphics->pdata[i];
        if (!g->listen)
            g->listen = g_strdup("127.0.0.1");
        if (g->type == GRAPHICS_TYPE_SPICE && (g->autoport || g->port < 0) &&
            (g->port = spice_port(core, g->listen)) < 0) {
            err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                    "no free port from 5900 for SPICE on '%s'", g->listen);
            return FALSE;
        }
    }
    return TRUE;
}

/* Everything up to a QEMU command line, a listening monitor and an id; then the intent is
 * recorded: the status file names the domain, its monitor and the start job before any QEMU
 * exists, so a daemon killed from here on finds what to adopt or kill. */
static void
start_prepare(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    struct core *core = dom->core;
    GError *error = NULL;
    /* the live config starts as a copy of the persistent one */
    if (dom->persistent) {
        dom->new_def = dom->def;
        dom->def = op->live ? g_steal_pointer(&op->live) : domain_def_copy(dom->new_def);
    }
    dom->autodestroy = (op->flags & CORE_START_AUTODESTROY) != 0;
    dom->updated = FALSE;
    g_autofree char *emulator = resolve_emulator(core, dom->def, &error);
    if (!emulator || !core_numatune_check(core, dom->def, &error)) {
        job_fail(job, error);
        return;
    }
    gboolean kvm = dom->def->virt_type == DOMAIN_VIRT_KVM;
    struct qemu_command_opts opts = {
        .emulator = emulator,
        .kvm = kvm,
        .channel_dir = core->paths.channel_dir,
    };
    if (!core_storage_resolve_disks(core, dom->def, &error) ||
        !prepare_live_def(core, dom->def, &error) || !check_paths(dom, &error) ||
        !open_chardev_sockets(op, &error) || !open_taps(op, &error) ||
        !core_hostdev_prepare(dom, &error)) {
        job_fail(job, error);
        return;
    }
    op->hostdevs_ready = TRUE;
    opts.chardev_fds = op->chardev_fds;
    opts.tap_fds = op->tap_fd_numbers;
    opts.incoming = op->incoming_fd >= 0 || op->net_in;
    opts.loadvm = op->loadvm;
    opts.disk_aio = core_disk_aio(core, emulator);
    if (!(op->argv = qemu_command_build(dom->def, &opts, &error)) ||
        !prepare_affinity(op, &error) || !prepare_nvram(dom->def, &error)) {
        job_fail(job, error);
        return;
    }
    g_autofree char *mon_path =
        g_strdup_printf("%s/%s.monitor", core->paths.status_dir, dom->def->name);
    op->listen_fd = listen_unix(mon_path, "monitor", &error);
    if (op->listen_fd < 0) {
        job_fail(job, error);
        return;
    }
    int id = core->next_id++;
    if (!save_next_id(core, &error)) {
        core->next_id--;
        unlink(mon_path);
        job_fail(job, error);
        return;
    }
    dom->id = id;
    dom->emulator = g_steal_pointer(&emulator);
    dom->monitor_path = g_steal_pointer(&mon_path);
    g_hash_table_insert(core->by_id, GINT_TO_POINTER(id), dom);
    if (!core_domain_transition(dom, IN_START, &error)) {
        job_fail(job, error);
        return;
    }
    job_next(job);
}

/* QEMU's command line as a start of XML would build it, nothing made on the host: the
 * descriptors a start hands over (monitor, listening chardevs, taps) appear as the numbers
 * they would have. One word an argument, quoted for a shell where it needs it. */
char *
core_xml_to_native(struct core *core, const char *format, const char *xml, GError **error)
{
    if (!g_str_equal(format, "qemu-argv")) {
        err_set(error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "unsupported config type %s; the format this daemon writes is 'qemu-argv'", format);
        return NULL;
    }
    g_autoptr(domain_def) def = domain_def_parse(xml, 0, error);
    g_autofree char *emulator = def ? resolve_emulator(core, def, error) : NULL;
    if (!emulator || !core_storage_resolve_disks(core, def, error) ||
        !prepare_live_def(core, def, error))
        return NULL;
    g_autoptr(GHashTable) chardev_fds =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) tap_fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) paths = NULL;
    g_autoptr(GPtrArray) chrs = listening_chardevs(def, core->paths.channel_dir, &paths);
    int next = QEMU_COMMAND_MONITOR_FD + 1;
    for (guint i = 0; i < chrs->len; i++)
        g_hash_table_insert(chardev_fds, qemu_device_chardev_id(chrs->pdata[i]),
                            GINT_TO_POINTER(next++));
    for (guint i = 0; i < def->nets->len; i++) {
        struct net_def *net = def->nets->pdata[i];
        if (qemu_device_net_has_tap(net))
            g_hash_table_insert(tap_fds, g_strdup(net->info.alias), GINT_TO_POINTER(next++));
    }
    struct qemu_command_opts opts = {
        .emulator = emulator,
        .kvm = def->virt_type == DOMAIN_VIRT_KVM,
        .channel_dir = core->paths.channel_dir,
        .chardev_fds = chardev_fds,
        .tap_fds = tap_fds,
        .disk_aio = core_disk_aio(core, emulator),
    };
    g_auto(GStrv) argv = qemu_command_build(def, &opts, error);
    if (!argv)
        return NULL;
    GString *out = g_string_new(NULL);
    for (char **a = argv; *a; a++) {
        if (out->len)
            g_string_append_c(out, ' ');
        gboolean plain = **a != '\0';
        for (const char *c = *a; *c && plain; c++)
            plain = g_ascii_isalnum(*c) || strchr("-_,./=:@+%", *c);
        if (plain) {
            g_string_append(out, *a);
        } else {
            g_autofree char *quoted = g_shell_quote(*a);
            g_string_append(out, quoted);
        }
    }
    return g_string_free(out, FALSE);
}

/* Forks QEMU's process, records its pid, and only then lets it run QEMU. */
static void
start_spawn(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    g_autofree char *lp = lifecycle_log_path(dom);
    {
        g_autofree char *cmd = g_strjoinv(" ", op->argv);
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format_iso8601(now);
        g_autofree char *line = g_strdup_printf("%s: starting up\n%s\n", stamp, cmd);
        FILE *f = fopen(lp, "ae");
        if (f) {
            fputs(line, f);
            fflush(f);
            dom->log_offset = ftell(f);
            fclose(f);
        }
    }
    pid_t pid;
    int pidfd;
    /* the monitor is fd 3, the chardevs' sockets follow, then the taps */
    int keep[QEMU_PROCESS_KEEP_MAX];
    keep[0] = op->listen_fd;
    memcpy(keep + 1, op->chr_fds, op->nchr * sizeof(int));
    memcpy(keep + 1 + op->nchr, op->tap_fds, op->ntap * sizeof(int));
    struct qemu_mempolicy policy;
    gboolean bound = core_numatune_policy(dom->core, dom->def, &policy);
    struct qemu_child *child = qemu_process_fork(op->argv, lp, keep, 1 + op->nchr + op->ntap,
                                                 op->pinned ? &op->affinity : NULL,
                                                 bound ? &policy : NULL, &pid, &pidfd, &error);
    if (!child) {
        job_fail(job, error);
        return;
    }
    dom->pid = pid;
    dom->pidfd = pidfd;
    dom->exited = FALSE;
    if (!core_status_write(dom, &error)) {
        qemu_process_abandon(child);
        dom->exited = TRUE;
        g_prefix_error(&error, "cannot record the QEMU of '%s': ", dom->def->name);
        op->abandoned = TRUE;
        job_fail(job, error);
        return;
    }
    /* <perf>: counted before QEMU exists, so that every thread it makes inherits them */
    if (!core_perf_start(dom, &error)) {
        qemu_process_abandon(child);
        dom->exited = TRUE;
        op->abandoned = TRUE;
        job_fail(job, error);
        return;
    }
    if (!qemu_process_exec(child, &error)) {
        dom->exited = TRUE;
        job_fail(job, error);
        return;
    }
    file_close_fd(&op->listen_fd);
    close_chardev_sockets(op, FALSE);
    close_taps(op);
    g_ptr_array_set_size(dom->messages, 0);
    /* as libvirtd reports it: QEMU runs as root, with the daemon's privileges */
    if (geteuid() == 0)
        g_ptr_array_add(dom->messages,
                        g_strdup("tainted: running with undesirable elevated privileges"));
    lifecycle_watch_exit(dom);
    int fd = monitor_connect(dom->monitor_path, &error);
    if (fd < 0) {
        job_fail(job, error);
        return;
    }
    lifecycle_attach_monitor(dom, fd);
    job_next(job);
}

static void
on_setup_reply(struct job *job, const GError *error)
{
    struct start_op *op = job->data;
    if (job->finished)
        return;
    if (error) {
        job_fail(job, g_error_copy(error));
        return;
    }
    if (--op->outstanding == 0)
        job_next(job);
}

/* Records the pty paths QEMU chose in the live definition. */
static void
record_ptys(struct domain_def *def, JsonNode *result)
{
    JsonArray *arr = qemu_json_node_array(result);
    for (guint i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonObject *o = qemu_json_element_object(arr, i);
        const char *label = qemu_json_string(o, "label");
        const char *filename = qemu_json_string(o, "filename");
        if (!label || !filename)
            continue;
        if (!g_str_has_prefix(filename, "pty:"))
            continue;
        const char *pty = filename + 4;
        /* QEMU names a chardev by its id, "char" + the device's alias */
        for (guint j = 0; j < def->serials->len; j++) {
            struct chr_def *chr = def->serials->pdata[j];
            g_autofree char *id = qemu_device_chardev_id(chr);
            if (!g_str_equal(id, label))
                continue;
            g_free(chr->source_path);
            chr->source_path = g_strdup(pty);
            /* the console that mirrors serial 0 shows the same pty */
            for (guint k = 0; j == 0 && k < def->consoles->len; k++) {
                struct chr_def *con = def->consoles->pdata[k];
                if (con->type == CHR_TYPE_PTY &&
                    (!con->target_type || g_str_equal(con->target_type, "serial"))) {
                    g_free(con->source_path);
                    con->source_path = g_strdup(pty);
                }
            }
        }
        for (guint j = 0; j < def->consoles->len; j++) {
            struct chr_def *con = def->consoles->pdata[j];
            if (!con->target_type || !g_str_equal(con->target_type, "virtio"))
                continue;
            g_autofree char *id = qemu_device_chardev_id(con);
            if (g_str_equal(id, label)) {
                g_free(con->source_path);
                con->source_path = g_strdup(pty);
            }
        }
    }
}

static void
on_query_chardev(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct start_op *op = job->data;
    if (!job->finished && !error)
        record_ptys(op->dom->def, result);
    on_setup_reply(job, error);
    job_unref(job);
}

static void
on_query_vnc(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    struct start_op *op = job->data;
    if (!job->finished && !error && qemu_json_node_object(result)) {
        JsonObject *o = qemu_json_node_object(result);
        const char *service = qemu_json_string(o, "service");
        guint64 port;
        if (service && op->dom->def->graphics->len > 0 &&
            g_ascii_string_to_unsigned(service, 10, 1, 65535, &port, NULL)) {
            struct graphics_def *g = op->dom->def->graphics->pdata[0];
            g->port = (int)port;
        }
    }
    /* a VNC server QEMU cannot describe leaves the port unknown: no reason to fail */
    on_setup_reply(job, NULL);
    job_unref(job);
}

/* The vCPU threads known: every thread goes where <cputune> pins it, before the guest runs */
static void
on_threads(struct domain *dom, GError *error, gpointer data)
{
    struct job *job = data;
    GError *e = NULL;
    const struct domain_def *def = dom->def;
    gboolean needed = core_pin_any(def) || def->vcpu_period || def->vcpu_quota ||
                      def->emulator_period || def->emulator_quota;
    if (error && !needed) {
        /* only the cgroup layout wanted them: the domain runs with its threads in the group */
        log_warn("%s: vCPU threads unknown (%s); they stay in the domain's cgroup", def->name,
                 error->message);
        error = NULL;
    } else if (!job->finished && !error && core_pin_apply(dom, &e)) {
        core_qos_place_threads(dom, &e);
    }
    on_setup_reply(job, error ? error : e);
    g_clear_error(&e);
    job_unref(job);
}

static void
on_setup_command(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    struct job *job = data;
    on_setup_reply(job, error);
    job_unref(job);
}

/* The whole setup exchange goes out at once: QEMU answers in order, so this costs one round
 * trip instead of several. */
static void
start_setup(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *error = NULL;
    if (!core_qos_start(dom, &error)) {
        job_fail(job, error);
        return;
    }
    op->outstanding = 1;
    qmp_command(dom->mon, "query-chardev", NULL, on_query_chardev, job_ref(job));
    /* <iotune>: QEMU's throttling of each disk that has one */
    for (guint i = 0; i < dom->def->disks->len; i++) {
        const struct disk_def *d = dom->def->disks->pdata[i];
        if (!d->source || !qemu_device_has_iotune(d))
            continue;
        op->outstanding++;
        qmp_command(dom->mon, "block_set_io_throttle", qemu_device_iotune_args(d), on_setup_command,
                    job_ref(job));
    }
    if (core_pin_any(dom->def) || core_qos_wants_threads(dom)) {
        op->outstanding++;
        core_pin_learn_threads(dom, on_threads, job_ref(job));
    }
    for (guint i = 0; i < dom->def->nets->len; i++) {
        struct net_def *net = dom->def->nets->pdata[i];
        if (!net->link_down)
            continue;
        /* QEMU has no option for it: the link goes down before the guest runs */
        JsonObject *args = json_object_new();
        json_object_set_string_member(args, "name", net->info.alias);
        json_object_set_boolean_member(args, "up", FALSE);
        op->outstanding++;
        qmp_command(dom->mon, "set_link", args, on_setup_command, job_ref(job));
    }
    for (guint i = 0; i < dom->def->graphics->len; i++) {
        struct graphics_def *g = dom->def->graphics->pdata[i];
        if (g->passwd) {
            JsonObject *args = json_object_new();
            json_object_set_string_member(args, "protocol",
                                          domain_def_graphics_type_to_string(g->type));
            json_object_set_string_member(args, "password", g->passwd);
            op->outstanding++;
            qmp_command(dom->mon, "set_password", args, on_setup_command, job_ref(job));
        }
        if (g->type == GRAPHICS_TYPE_VNC && (g->autoport || g->port < 0)) {
            op->outstanding++;
            qmp_command(dom->mon, "query-vnc", NULL, on_query_vnc, job_ref(job));
        }
    }
}

/* An incoming migration's QEMU took migrate-incoming: it listens, the domain is announced
 * (started, migrated), and the caller hears that it may go on. */
static void
on_listening(const GError *error, gpointer data)
{
    struct job *job = data;
    struct start_op *op = job->data;
    GError *err = NULL;
    if (!error && !job->finished) {
        if (core_domain_transition(op->dom, IN_MIGRATION_IN_STARTED, &err))
            op->dom->announced = TRUE;
        else
            job_fail(job, g_error_copy(err));
    }
    migration_started_fn ready = op->net_in->ready;
    op->net_in->ready = NULL;
    if (ready)
        ready(error ? error : err, op->net_in->data);
    g_clear_error(&err);
}

/* A decompressor's end. Its failure stops the restore at once, whatever QEMU is doing: QEMU
 * 7.2 never notices a pipe whose writer is gone before it wrote a byte (it watches for input
 * only, and spins on the hang-up). Its success ends the await step, or lets it pass. */
static void
on_filter_exit(GError *error, gpointer data)
{
    struct job *job = data;
    struct start_op *op = job->data;
    if (error) {
        job_abort_because(job, g_error_copy(error));
    } else {
        op->filter_over = TRUE;
        if (op->awaiting_filter)
            job_next(job);
    }
    job_unref(job);
}

/* restore: QEMU reads the guest's state through the image's descriptor; an incoming
 * migration: from the source host's QEMU */
static void
start_incoming(struct job *job)
{
    struct start_op *op = job->data;
    if (op->net_in) {
        struct migration_setup setup = {
            .capabilities = (const char *const *)op->net_in->capabilities,
            .parameters = op->net_in->parameters,
            .started = on_listening,
            .started_data = job,
            .postcopy = op->net_in->postcopy_ok ? &op->net_in->postcopy : NULL,
            .tls_id = op->net_in->tls_id,
        };
        if (op->net_in->fd >= 0)
            migration_run_fd(job, op->dom, op->net_in->fd, TRUE, &setup);
        else
            migration_run_uri(job, op->dom, op->net_in->uri, TRUE, &setup);
    } else if (op->incoming_fd < 0) {
        job_next(job);
    } else if (op->compression != QEMU_SAVEIMAGE_RAW) {
        GError *error = NULL;
        op->filter = qemu_filter_start(op->compression, TRUE, op->incoming_fd, op->image_path,
                                       &op->stream_fd, &error);
        if (!op->filter) {
            job_fail(job, error);
        } else {
            qemu_filter_wait(op->filter, on_filter_exit, job_ref(job));
            migration_run_filtered(job, op->dom, op->stream_fd, op->incoming_fd);
        }
    } else {
        migration_run(job, op->dom, op->incoming_fd, TRUE);
    }
}

/* an incoming migration: QEMU has the state; the source's word decides (lifecycle.h) */
static void
start_await(struct job *job)
{
    struct start_op *op = job->data;
    if (op->net_in) {
        op->net_in->await(job, op->net_in->data);
    } else if (op->filter && !op->filter_over) {
        /* QEMU has the state; the decompressor ends once its pipe has no reader (anything
         * left over is a broken image) */
        file_close_fd(&op->stream_fd);
        op->awaiting_filter = TRUE;
    } else {
        job_next(job);
    }
}

static void
start_resume(struct job *job)
{
    struct start_op *op = job->data;
    op->outstanding = 1;
    if (op->drop_cache)
        posix_fadvise(op->incoming_fd, 0, 0, POSIX_FADV_DONTNEED);
    gboolean run =
        op->net_in ? !op->net_in->paused
        : op->incoming_fd >= 0 || op->loadvm
            ? op->restored_input == IN_RESTORED || op->restored_input == IN_STARTED_FROM_SNAPSHOT
            : !(op->flags & CORE_START_PAUSED);
    if (!run)
        qmp_command(op->dom->mon, "query-status", NULL, on_setup_command, job_ref(job));
    else
        qmp_command(op->dom->mon, "cont", NULL, on_setup_command, job_ref(job));
}

/* Commits a complete start (the state and its events), or undoes a failed one: QEMU killed
 * and reaped, the domain shut off without events (it never was announced). */
static void
start_finish(struct job *job, const GError *error)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (!error) {
        enum dom_input in = (op->flags & CORE_START_PAUSED) ? IN_STARTED_PAUSED : IN_STARTED;
        if (op->incoming_fd >= 0 || op->loadvm)
            in = op->restored_input;
        if (op->net_in)
            in = op->net_in->postcopy ? IN_MIGRATED_POSTCOPY
                 : op->net_in->paused ? IN_MIGRATED_PAUSED
                                      : IN_MIGRATED;
        /* the rest of a post-copy's memory arrives after the job (core_migrate_postcopy_in) */
        dom->postcopy_in = op->net_in && op->net_in->postcopy;
        /* the job is finished: the status file written now no longer says "start" */
        if (core_domain_transition(dom, in, &err)) {
            dom->announced = TRUE;
            log_info("%s: started, id %d, pid %d", dom->def->name, dom->id, (int)dom->pid);
            return;
        }
    } else if (dom->stop_input == IN_STOPPED_DESTROYED) {
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_ABORTED, "start was cut short by destroy");
    } else if (dom->pid && !op->abandoned && lifecycle_process_gone(dom) &&
               err_code(error) != ERR_MIGRATE_FINISH_OK) {
        /* whatever the monitor said last, QEMU itself quit: its log says why. Not when the
         * source cancelled an incoming migration: QEMU quits as its stream breaks, and the
         * client must keep the source's reason (libvirt's clients replace it with Finish's
         * error unless that is "migration successfully aborted") */
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU quit during start-up");
    } else {
        err = g_error_copy(error);
    }
    if (dom->pid && !op->abandoned && !op->net_in)
        lifecycle_append_log_tail(dom, err);
    if (!op->net_in)
        g_prefix_error(&err, "starting '%s': ", dom->def->name);
    log_warn("%s", err->message);
    job_set_error(job, err);
    lifecycle_kill_and_reap(dom);
    if (dom->state != DOM_SHUTOFF) {
        lifecycle_stopped(dom, op->net_in ? IN_MIGRATION_IN_FAILED : IN_START_FAILED);
        return;
    }
    /* nothing ran: the config goes back as it was */
    core_qos_stop(dom);
    core_perf_stop(dom);
    if (op->hostdevs_ready)
        core_hostdev_release(dom);
    for (guint i = 0; i < dom->def->nets->len; i++)
        core_network_unplug(dom->core, dom->def->nets->pdata[i]);
    if (dom->monitor_path)
        unlink(dom->monitor_path);
    g_clear_pointer(&dom->monitor_path, g_free);
    g_clear_pointer(&dom->emulator, g_free);
    if (dom->id >= 0)
        g_hash_table_remove(dom->core->by_id, GINT_TO_POINTER(dom->id));
    dom->id = -1;
    if (dom->new_def) {
        domain_def_free(dom->def);
        dom->def = g_steal_pointer(&dom->new_def);
    }
    if (!dom->persistent && !dom->removed)
        core_forget(dom->core, dom);
}

/* destroy or QEMU's exit: the step waiting for QEMU fails now */
static void
start_abort(struct job *job)
{
    struct start_op *op = job->data;
    struct domain *dom = op->dom;
    GError *err = NULL;
    if (dom->stop_input == IN_STOPPED_DESTROYED)
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_ABORTED, "start was cut short by destroy");
    else
        err_set(&err, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "QEMU exited during start");
    job_fail(job, err);
}

static const struct job_step start_steps[] = {
    {"prepare", start_prepare},
    {"spawn", start_spawn},
    {"setup", start_setup},
    {"incoming", start_incoming},
    {"await", start_await},
    {"resume", start_resume},
    {NULL, NULL},
};

static const struct job_pipeline start_pipeline = {
    .steps = start_steps,
    .finish = start_finish,
    .abort = start_abort,
    .abortable = FALSE,
};

struct start_request {
    struct domain *dom;
    struct domain_def *live;
    unsigned flags;
    int incoming_fd;
    guint32 compression;
    char *image_path;
    enum dom_input restored_input;
    gboolean drop_cache;
    char *loadvm;
    struct lifecycle_incoming *net_in;
    core_done_fn done;
    gpointer data;
};

static void
start_begin(struct job *job, GError *error, gpointer data)
{
    struct start_request *req = data;
    struct domain *dom = req->dom;
    if (!job) {
        lifecycle_done(req->done, req->data, error);
    } else if (state_is_active(dom->state) || dom->removed) {
        GError *err = NULL;
        err_set(&err, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                dom->def->name);
        job_cancel(job, err, req->done, req->data);
    } else {
        struct start_op *op = g_new0(struct start_op, 1);
        op->dom = core_domain_ref(dom);
        op->flags = req->flags;
        op->live = g_steal_pointer(&req->live);
        op->listen_fd = -1;
        op->stream_fd = -1;
        op->incoming_fd = g_steal_fd(&req->incoming_fd);
        op->compression = req->compression;
        op->image_path = g_steal_pointer(&req->image_path);
        op->restored_input = req->restored_input;
        op->loadvm = g_steal_pointer(&req->loadvm);
        op->drop_cache = req->drop_cache;
        op->net_in = g_steal_pointer(&req->net_in);
        job_run(job, op, start_op_free, req->done, req->data);
    }
    lifecycle_incoming_free(req->net_in);
    domain_def_free(req->live);
    file_close_fd(&req->incoming_fd);
    g_free(req->image_path);
    g_free(req->loadvm);
    core_domain_unref(req->dom);
    g_free(req);
}

/* LIVE (consumed, may be NULL) is the config to run; NULL runs a copy of the persistent one.
 * INCOMING_FD (taken over; -1: a boot) is a saved state to restore, compressed as COMPRESSION
 * in the image IMAGE_PATH. */
static void
start_running(struct domain *dom, struct domain_def *live, unsigned flags, int incoming_fd,
              guint32 compression, const char *image_path, const char *loadvm,
              enum dom_input restored_input, core_done_fn done, gpointer data)
{
    if (state_is_active(dom->state)) {
        GError *error = NULL;
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                dom->def->name);
        domain_def_free(live);
        file_close_fd(&incoming_fd);
        lifecycle_fail(done, data, error);
        return;
    }
    struct start_request *req = g_new0(struct start_request, 1);
    req->dom = core_domain_ref(dom);
    req->live = live;
    req->flags = flags;
    req->incoming_fd = incoming_fd;
    req->compression = compression;
    req->image_path = g_strdup(image_path);
    req->restored_input = restored_input;
    req->loadvm = g_strdup(loadvm);
    req->drop_cache = incoming_fd >= 0 && (flags & CORE_START_BYPASS_CACHE);
    req->done = done;
    req->data = data;
    enum job_type type = incoming_fd >= 0 ? JOB_RESTORE : loadvm ? JOB_SNAPSHOT_REVERT : JOB_START;
    job_acquire(&dom->jobs, type, &start_pipeline, dom->core->job_wait_ms, start_begin, req);
}

void
lifecycle_incoming_free(struct lifecycle_incoming *in)
{
    if (!in)
        return;
    g_free(in->uri);
    file_close_fd(&in->fd);
    g_strfreev(in->capabilities);
    g_free(in->tls_id);
    if (in->parameters)
        json_object_unref(in->parameters);
    g_free(in);
}

void
lifecycle_start_incoming(struct domain *dom, struct domain_def *live, struct lifecycle_incoming *in,
                         core_done_fn done, gpointer data)
{
    struct start_request *req = g_new0(struct start_request, 1);
    req->dom = core_domain_ref(dom);
    req->live = live;
    /* tied to the connection that prepared it until the source's word came (migrate_in.c) */
    req->flags = CORE_START_AUTODESTROY;
    req->incoming_fd = -1;
    req->restored_input = IN_LAST;
    req->net_in = in;
    req->done = done;
    req->data = data;
    /* no waiting: the domain was just made for this, or was found idle */
    job_acquire(&dom->jobs, JOB_MIGRATION_IN, &start_pipeline, 0, start_begin, req);
}

void
lifecycle_start_restore(struct domain *dom, struct domain_def *live, int fd, guint32 compression,
                        const char *path, enum dom_input restored_input, unsigned flags,
                        core_done_fn done, gpointer data)
{
    start_running(dom, live, flags, fd, compression, path, NULL, restored_input, done, data);
}

void
lifecycle_start_snapshot(struct domain *dom, struct domain_def *live, const char *tag, gboolean run,
                         core_done_fn done, gpointer data)
{
    start_running(dom, live, 0, -1, QEMU_SAVEIMAGE_RAW, NULL, tag,
                  run ? IN_STARTED_FROM_SNAPSHOT : IN_STARTED_FROM_SNAPSHOT_PAUSED, done, data);
}

void
core_domain_start(struct domain *dom, unsigned flags, core_done_fn done, gpointer data)
{
    if (dom->managed_save && !state_is_active(dom->state) &&
        lifecycle_start_managed(dom, flags, done, data))
        return;
    start_running(dom, NULL, flags & (CORE_START_PAUSED | CORE_START_AUTODESTROY), -1,
                  QEMU_SAVEIMAGE_RAW, NULL, NULL, IN_LAST, done, data);
}

struct domain *
core_create_xml_prepare(struct core *core, const char *xml, gboolean validate,
                        struct domain_def **ret_live, GError **error)
{
    g_autoptr(domain_def) def =
        domain_def_parse(xml, validate ? DOMAIN_DEF_PARSE_VALIDATE : 0, error);
    if (!def || !core_validate_for_host(core, def, error) || !qemu_address_assign(def, error))
        return NULL;
    struct domain *dom = NULL;
    if (!core_check_unique(core, def, &dom, error))
        return NULL;
    core_unique_macs(core, def);
    if (dom && state_is_active(dom->state)) {
        err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID, "domain '%s' is already running",
                def->name);
        return NULL;
    }
    if (dom) {
        /* an inactive persistent domain runs this config once and keeps its own */
        *ret_live = g_steal_pointer(&def);
        return dom;
    }
    *ret_live = NULL;
    return core_register(core, g_steal_pointer(&def), FALSE);
}

void
core_create_xml_start(struct domain *dom, struct domain_def *live, unsigned flags,
                      core_done_fn done, gpointer data)
{
    start_running(dom, live, flags, -1, QEMU_SAVEIMAGE_RAW, NULL, NULL, IN_LAST, done, data);
}
