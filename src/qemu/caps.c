/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* caps: probe a QEMU binary over QMP (a short synchronous exchange on a socket pair, bounded
 * by a deadline), cache the answer by path + mtime + ctime + size, and turn it into the
 * <guest> part of the host capabilities. */
#include "qemu/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/cpu_map.h"
#include "conf/nodeinfo.h"
#include "qemu/json.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

/* Bump when the cached fields change, so old cache files are ignored. */
#define QEMU_CAPS_CACHE_FORMAT 5
/* Keep this much of QEMU's stderr for error messages. */
#define QEMU_CAPS_STDERR_MAX 4096
/* A QMP reply larger than this is not something -machine none sends. */
#define QEMU_CAPS_REPLY_MAX (4 * 1024 * 1024)

struct qemu_caps {
    gint refs;
    char *binary;
    /* The binary's identity when it was probed: the cache key. */
    gint64 mtime_ns;
    gint64 ctime_ns;
    guint64 size;
    guint version;
    char *package;
    gboolean kvm_supported;
    gboolean spice;      /* built with SPICE (query-spice answers) */
    gboolean io_uring;   /* a block node with aio io_uring opened when it was probed */
    GArray *machines;    /* of struct qemu_caps_machine, default first */
    GArray *cpu_models;  /* of struct qemu_caps_cpu_model, in QEMU's order */
    char **cpu_features; /* every feature name, by name; NULL: not expanded */
    struct qemu_caps_cpu_model cpu_max; /* its name is NULL when not expanded */
    enum qemu_caps_source source;
};

struct qemu_caps_cache {
    GMutex lock;
    char *dir;
    GHashTable *entries; /* binary path -> struct qemu_caps (a reference) */
};

/* The identity of a binary file on disk. */
struct qemu_caps_stamp {
    gint64 mtime_ns;
    gint64 ctime_ns;
    guint64 size;
};

static void
qemu_caps_machine_clear(gpointer data)
{
    struct qemu_caps_machine *machine = data;

    g_clear_pointer(&machine->name, g_free);
    g_clear_pointer(&machine->alias, g_free);
}

static void
qemu_caps_cpu_model_clear(gpointer data)
{
    struct qemu_caps_cpu_model *model = data;
    g_free(model->name);
    g_free(model->vendor);
    g_strfreev(model->features);
}

static struct qemu_caps *
qemu_caps_new(const char *binary, const struct qemu_caps_stamp *stamp)
{
    struct qemu_caps *caps = g_new0(struct qemu_caps, 1);

    caps->refs = 1;
    caps->binary = g_strdup(binary);
    caps->mtime_ns = stamp->mtime_ns;
    caps->ctime_ns = stamp->ctime_ns;
    caps->size = stamp->size;
    caps->package = g_strdup("");
    caps->machines = g_array_new(FALSE, TRUE, sizeof(struct qemu_caps_machine));
    g_array_set_clear_func(caps->machines, qemu_caps_machine_clear);
    caps->cpu_models = g_array_new(FALSE, TRUE, sizeof(struct qemu_caps_cpu_model));
    g_array_set_clear_func(caps->cpu_models, qemu_caps_cpu_model_clear);
    return caps;
}

struct qemu_caps *
qemu_caps_ref(struct qemu_caps *caps)
{
    g_atomic_int_inc(&caps->refs);
    return caps;
}

void
qemu_caps_unref(struct qemu_caps *caps)
{
    if (!caps || !g_atomic_int_dec_and_test(&caps->refs))
        return;
    g_free(caps->binary);
    g_free(caps->package);
    if (caps->machines)
        g_array_unref(caps->machines);
    if (caps->cpu_models)
        g_array_unref(caps->cpu_models);
    g_strfreev(caps->cpu_features);
    qemu_caps_cpu_model_clear(&caps->cpu_max);
    g_free(caps);
}

const char *
qemu_caps_get_binary(const struct qemu_caps *caps)
{
    return caps->binary;
}

guint
qemu_caps_get_version(const struct qemu_caps *caps)
{
    return caps->version;
}

const char *
qemu_caps_get_package(const struct qemu_caps *caps)
{
    return caps->package;
}

gboolean
qemu_caps_has_spice(const struct qemu_caps *caps)
{
    return caps->spice;
}

gboolean
qemu_caps_has_io_uring(const struct qemu_caps *caps)
{
    return caps->io_uring;
}

gboolean
qemu_caps_get_kvm_supported(const struct qemu_caps *caps)
{
    return caps->kvm_supported;
}

enum qemu_caps_source
qemu_caps_get_source(const struct qemu_caps *caps)
{
    return caps->source;
}

const struct qemu_caps_machine *
qemu_caps_get_machines(const struct qemu_caps *caps, gsize *ret_count)
{
    *ret_count = caps->machines->len;
    return (const struct qemu_caps_machine *)(gpointer)caps->machines->data;
}

const char *
qemu_caps_get_default_machine(const struct qemu_caps *caps)
{
    for (guint i = 0; i < caps->machines->len; i++) {
        const struct qemu_caps_machine *machine =
            &g_array_index(caps->machines, struct qemu_caps_machine, i);

        if (machine->is_default)
            return machine->name;
    }
    return NULL;
}

const char *
qemu_caps_get_canonical_machine(const struct qemu_caps *caps, const char *name)
{
    for (guint i = 0; i < caps->machines->len; i++) {
        const struct qemu_caps_machine *machine =
            &g_array_index(caps->machines, struct qemu_caps_machine, i);

        if (g_str_equal(machine->name, name) ||
            (machine->alias && g_str_equal(machine->alias, name)))
            return machine->name;
    }
    return NULL;
}

/* Adds a machine; the default one goes first and the others keep their order, as libvirt's
 * virQEMUCapsSetDefaultMachine (virt-install takes the first listed machine as default). */
static void
qemu_caps_add_machine(struct qemu_caps *caps, const char *name, const char *alias, guint cpu_max,
                      gboolean is_default, gboolean deprecated)
{
    struct qemu_caps_machine machine = {
        .name = g_strdup(name),
        .alias = g_strdup(alias),
        .cpu_max = cpu_max,
        .is_default = is_default,
        .deprecated = deprecated,
    };

    if (is_default)
        g_array_prepend_val(caps->machines, machine);
    else
        g_array_append_val(caps->machines, machine);
}

const struct qemu_caps_cpu_model *
qemu_caps_get_cpu_models(const struct qemu_caps *caps, gsize *ret_count)
{
    *ret_count = caps->cpu_models->len;
    return (const struct qemu_caps_cpu_model *)caps->cpu_models->data;
}

static struct qemu_caps_cpu_model *
qemu_caps_add_cpu_model(struct qemu_caps *caps, const char *name, gboolean usable,
                        gboolean deprecated)
{
    struct qemu_caps_cpu_model model = {g_strdup(name), usable, deprecated, NULL, NULL};
    g_array_append_val(caps->cpu_models, model);
    return &g_array_index(caps->cpu_models, struct qemu_caps_cpu_model, caps->cpu_models->len - 1);
}

const char *const *
qemu_caps_get_cpu_features(const struct qemu_caps *caps)
{
    return (const char *const *)caps->cpu_features;
}

const struct qemu_caps_cpu_model *
qemu_caps_get_cpu_max(const struct qemu_caps *caps)
{
    return caps->cpu_max.name ? &caps->cpu_max : NULL;
}

gboolean
qemu_caps_cpu_map(const struct qemu_caps *caps, struct cpu_map *map, GArray *models)
{
    for (guint i = 0; i < caps->cpu_models->len; i++) {
        const struct qemu_caps_cpu_model *m =
            &g_array_index(caps->cpu_models, struct qemu_caps_cpu_model, i);
        if (!m->features)
            continue;
        struct cpu_map_model model = {m->name, m->vendor, (const char *const *)m->features};
        g_array_append_val(models, model);
    }
    map->models = (const struct cpu_map_model *)models->data;
    map->n_models = models->len;
    map->known = (const char *const *)caps->cpu_features;
    return map->known && models->len > 0;
}

/* The host CPU as a model of CAPS's and the features beyond it (libvirt's host <cpu>), when
 * /proc/cpuinfo lists its flags and a model fits */
static void
qemu_caps_host_cpu_model(const struct qemu_caps *caps, struct capabilities_host *host)
{
    struct cpu_map map;
    g_autoptr(GArray) models = g_array_new(FALSE, FALSE, sizeof(struct cpu_map_model));
    g_auto(GStrv) flags = nodeinfo_cpu_flags();
    if (!flags || !qemu_caps_cpu_map(caps, &map, models))
        return;
    g_autoptr(GPtrArray) features =
        cpu_map_host_features(&map, host->cpu_vendor, (const char *const *)flags);
    const char *model = NULL;
    g_autoptr(GPtrArray) extra = NULL;
    if (!cpu_map_decode_host(&map, host->cpu_vendor, features, &model, &extra))
        return;
    g_free(host->cpu_model);
    host->cpu_model = g_strdup(model);
    g_ptr_array_set_size(host->cpu_features, 0);
    for (guint i = 0; i < extra->len; i++)
        g_ptr_array_add(host->cpu_features, g_strdup(extra->pdata[i]));
}

/* ---- the probe ---------------------------------------------------------------------- */

struct qemu_caps_probe {
    const char *binary;
    guint timeout_ms;
    gint64 deadline; /* monotonic, microseconds */
    GSubprocess *proc;
    int fd;     /* our end of the QMP socket pair */
    int err_fd; /* read end of QEMU's stderr */
    gboolean eof;
    gboolean err_eof;
    gboolean exited; /* QEMU quit and closed its end: reaping will not block */
    GString *in;     /* QMP bytes not yet parsed */
    GString *err;    /* QEMU's stderr, the first QEMU_CAPS_STDERR_MAX bytes */
    gint64 next_id;
};

static void
qemu_caps_probe_clear(struct qemu_caps_probe *probe)
{
    if (probe->proc) {
        /* Whatever happened, the process is gone and reaped before we return. */
        if (!probe->exited)
            g_subprocess_force_exit(probe->proc);
        g_subprocess_wait(probe->proc, NULL, NULL);
        g_clear_object(&probe->proc);
    }
    file_close_fd(&probe->fd);
    file_close_fd(&probe->err_fd);
    if (probe->in)
        g_string_free(g_steal_pointer(&probe->in), TRUE);
    if (probe->err)
        g_string_free(g_steal_pointer(&probe->err), TRUE);
}

/* QEMU's stderr so far, stripped, as a message suffix ("" when empty). */
static char *
qemu_caps_probe_stderr(const struct qemu_caps_probe *probe)
{
    g_autofree char *text = g_strstrip(g_strndup(probe->err->str, probe->err->len));

    return *text ? g_strconcat(": ", text, NULL) : g_strdup("");
}

static void
qemu_caps_probe_read_stderr(struct qemu_caps_probe *probe)
{
    char buf[1024];
    ssize_t n = read(probe->err_fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        probe->err_eof = TRUE;
        return;
    }
    if (probe->err->len < QEMU_CAPS_STDERR_MAX)
        g_string_append_len(probe->err, buf, MIN((gsize)n, QEMU_CAPS_STDERR_MAX - probe->err->len));
}

/* Waits until the QMP socket has more bytes (or EOF), reading stderr meanwhile so QEMU never
 * blocks on a full pipe. Errors: ERR_OPERATION_TIMEOUT past the deadline. */
static gboolean
qemu_caps_probe_wait(struct qemu_caps_probe *probe, GError **error)
{
    for (;;) {
        gint64 now = g_get_monotonic_time();
        struct pollfd fds[2] = {
            {.fd = probe->fd, .events = POLLIN},
            {.fd = probe->err_eof ? -1 : probe->err_fd, .events = POLLIN},
        };
        char buf[4096];
        ssize_t n;

        if (now >= probe->deadline) {
            g_autofree char *tail = qemu_caps_probe_stderr(probe);

            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_TIMEOUT,
                    "qemu '%s' did not answer within %u ms%s", probe->binary, probe->timeout_ms,
                    tail);
            return FALSE;
        }
        if (poll(fds, 2, (int)((probe->deadline - now + 999) / 1000)) < 0) {
            if (errno == EINTR)
                continue;
            err_set_errno(error, ERR_FROM_QEMU, errno, "cannot wait for qemu '%s'", probe->binary);
            return FALSE;
        }
        if (fds[1].revents)
            qemu_caps_probe_read_stderr(probe);
        if (!fds[0].revents)
            continue;
        n = read(probe->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0 && errno != ECONNRESET) {
            err_set_errno(error, ERR_FROM_QEMU, errno, "cannot read from qemu '%s'", probe->binary);
            return FALSE;
        }
        if (n <= 0) {
            probe->eof = TRUE;
            return TRUE;
        }
        if (probe->in->len + (gsize)n > QEMU_CAPS_REPLY_MAX) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "qemu '%s' sent an oversized QMP message", probe->binary);
            return FALSE;
        }
        g_string_append_len(probe->in, buf, n);
        return TRUE;
    }
}

/* The error for a QEMU that closed the connection: collects the rest of its stderr (it is
 * exiting, so this is quick; the deadline still bounds it). */
static void
qemu_caps_probe_set_exited(struct qemu_caps_probe *probe, GError **error)
{
    g_autofree char *tail = NULL;

    while (!probe->err_eof && g_get_monotonic_time() < probe->deadline) {
        struct pollfd pfd = {.fd = probe->err_fd, .events = POLLIN};
        gint64 left = (probe->deadline - g_get_monotonic_time() + 999) / 1000;

        if (poll(&pfd, 1, (int)MAX(left, 0)) <= 0)
            break;
        qemu_caps_probe_read_stderr(probe);
    }
    tail = qemu_caps_probe_stderr(probe);
    err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "qemu '%s' exited before answering%s",
            probe->binary, tail);
}

/* The next QMP message that is not an event. Returns a new reference. */
static JsonObject *
qemu_caps_probe_read(struct qemu_caps_probe *probe, GError **error)
{
    for (;;) {
        char *newline = memchr(probe->in->str, '\n', probe->in->len);
        g_autoptr(JsonParser) parser = NULL;
        g_autoptr(GError) local = NULL;
        g_autofree char *line = NULL;
        JsonNode *root;

        if (!newline) {
            if (probe->eof) {
                qemu_caps_probe_set_exited(probe, error);
                return NULL;
            }
            if (!qemu_caps_probe_wait(probe, error))
                return NULL;
            continue;
        }
        line = g_strndup(probe->in->str, newline - probe->in->str);
        g_string_erase(probe->in, 0, newline - probe->in->str + 1);
        g_strstrip(line);
        if (!*line)
            continue;

        parser = json_parser_new();
        if (!qemu_json_single_value(line, strlen(line))) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "qemu '%s' sent more than one JSON value on a line", probe->binary);
            return NULL;
        }
        if (!json_parser_load_from_data(parser, line, -1, &local)) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "qemu '%s' sent invalid QMP: %s",
                    probe->binary, local->message);
            return NULL;
        }
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "qemu '%s' sent a QMP message that is not an object", probe->binary);
            return NULL;
        }
        if (json_object_has_member(json_node_get_object(root), "event"))
            continue;
        return json_object_ref(json_node_get_object(root));
    }
}

static gboolean
qemu_caps_probe_send(struct qemu_caps_probe *probe, const char *text, gsize len, GError **error)
{
    while (len > 0) {
        /* A socket, not a pipe, so a QEMU gone away means EPIPE and not SIGPIPE. */
        ssize_t n = send(probe->fd, text, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno(error, ERR_FROM_QEMU, errno, "cannot write to qemu '%s'", probe->binary);
            return FALSE;
        }
        text += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Runs CMD with ARGS (may be NULL; taken) and returns its "return" member (a new node; caller
 * frees). */
static JsonNode *
qemu_caps_probe_command(struct qemu_caps_probe *probe, const char *cmd, JsonObject *args,
                        GError **error)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) request = NULL;
    g_autoptr(JsonObject) reply = NULL;
    g_autofree char *text = NULL;
    gint64 id = ++probe->next_id;
    gint64 reply_id;
    gsize len;

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "execute");
    json_builder_add_string_value(builder, cmd);
    json_builder_set_member_name(builder, "id");
    json_builder_add_int_value(builder, id);
    if (args) {
        json_builder_set_member_name(builder, "arguments");
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, args);
        json_builder_add_value(builder, node);
    }
    json_builder_end_object(builder);
    request = json_builder_get_root(builder);
    json_generator_set_root(generator, request);
    text = json_generator_to_data(generator, &len);
    log_debug("qemu caps: %s: sending %s", probe->binary, text);
    if (!qemu_caps_probe_send(probe, text, len, error) ||
        !qemu_caps_probe_send(probe, "\n", 1, error))
        return NULL;

    reply = qemu_caps_probe_read(probe, error);
    if (!reply)
        return NULL;
    if (!qemu_json_int(reply, "id", &reply_id) || reply_id != id) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "qemu '%s' answered '%s' with an unexpected id", probe->binary, cmd);
        return NULL;
    }
    if (json_object_has_member(reply, "error")) {
        const char *desc = qemu_json_string(qemu_json_object(reply, "error"), "desc");
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "qemu '%s' failed '%s': %s",
                probe->binary, cmd, desc ? desc : "unknown error");
        return NULL;
    }
    if (!json_object_has_member(reply, "return")) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "qemu '%s' answered '%s' without a return value", probe->binary, cmd);
        return NULL;
    }
    return json_node_copy(json_object_get_member(reply, "return"));
}

/* MEMBER of OBJ as an unsigned integer no larger than MAX. */
static gboolean
qemu_caps_json_uint(JsonObject *obj, const char *member, guint64 max, guint64 *ret)
{
    gint64 value;
    if (!qemu_json_int(obj, member, &value) || value < 0 || (guint64)value > max)
        return FALSE;
    *ret = (guint64)value;
    return TRUE;
}

static gboolean
qemu_caps_parse_version(struct qemu_caps *caps, JsonNode *ret, GError **error)
{
    JsonObject *obj = qemu_json_node_object(ret);
    JsonObject *numbers = qemu_json_object(obj, "qemu");
    guint64 major, minor, micro;
    const char *package = obj ? qemu_json_string(obj, "package") : NULL;

    if (!qemu_caps_json_uint(numbers, "major", 4000, &major) ||
        !qemu_caps_json_uint(numbers, "minor", 999, &minor) ||
        !qemu_caps_json_uint(numbers, "micro", 999, &micro)) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "qemu '%s' sent an invalid reply to '%s'", caps->binary, "query-version");
        return FALSE;
    }
    caps->version = (guint)(major * 1000000 + minor * 1000 + micro);
    g_free(caps->package);
    caps->package = g_strstrip(g_strdup(package ? package : ""));
    return TRUE;
}

/* In the probe's child, before exec: SIGKILL when the daemon goes (the thread that forked
 * waits for the probe to end, so it outlives it), and at once if it already went. */
static void
die_with_parent(gpointer daemon_pid)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != GPOINTER_TO_INT(daemon_pid))
        _exit(1);
}

/* The length of NAME without a version suffix ("Skylake-Client-v2": that of
 * "Skylake-Client"); strlen(NAME) when it has none. */
static gsize
cpu_model_family_len(const char *name)
{
    const char *v = strrchr(name, 'v');
    if (v && v > name && v[-1] == '-' && v[1] && strspn(v + 1, "0123456789") == strlen(v + 1))
        return (gsize)(v - 1 - name);
    return strlen(name);
}

gboolean
qemu_caps_has_cpu_model(const struct qemu_caps *caps, const char *name)
{
    gsize len = cpu_model_family_len(name);
    for (guint i = 0; i < caps->cpu_models->len; i++) {
        const char *m = g_array_index(caps->cpu_models, struct qemu_caps_cpu_model, i).name;
        if (strlen(m) == len && strncmp(m, name, len) == 0)
            return TRUE;
    }
    return FALSE;
}

/* query-cpu-definitions, as TCG runs them: the named models a domain's <cpu><model> can ask
 * for. "host" (KVM only), "max" and "base" are reached through the CPU modes instead, and a
 * versioned model ("Skylake-Client-v2") through the name its alias-of points at. */
static void
qemu_caps_parse_cpu_models(struct qemu_caps *caps, JsonNode *ret)
{
    JsonArray *array = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    for (guint i = 0; array && i < json_array_get_length(array); i++) {
        JsonNode *node = json_array_get_element(array, i);
        JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *name = obj ? qemu_json_string(obj, "name") : NULL;
        if (!name || !*name || g_str_equal(name, "host") || g_str_equal(name, "max") ||
            g_str_equal(name, "base"))
            continue;
        if (cpu_model_family_len(name) != strlen(name))
            continue;
        JsonNode *missing = json_object_get_member(obj, "unavailable-features");
        gboolean usable = missing && JSON_NODE_HOLDS_ARRAY(missing) &&
                          json_array_get_length(json_node_get_array(missing)) == 0;
        qemu_caps_add_cpu_model(caps, name, usable, qemu_json_bool(obj, "deprecated", FALSE));
    }
}

/* libvirt's vendor names for CPUID's vendor strings */
static const char *
qemu_caps_cpu_vendor(const char *cpuid)
{
    static const char *const vendors[][2] = {{"GenuineIntel", "Intel"},
                                             {"AuthenticAMD", "AMD"},
                                             {"HygonGenuine", "Hygon"},
                                             {"CentaurHauls", "Zhaoxin"}};
    for (gsize i = 0; cpuid && i < G_N_ELEMENTS(vendors); i++)
        if (g_str_equal(cpuid, vendors[i][0]))
            return vendors[i][1];
    return NULL;
}

static int
qemu_caps_compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* MODEL's static expansion (query-cpu-model-expansion): its vendor and enabled features,
 * libvirt-named, by name; the first one also gives every feature name. A QEMU that cannot
 * expand leaves MODEL as it was. */
static void
qemu_caps_expand_cpu(struct qemu_caps_probe *probe, struct qemu_caps *caps,
                     struct qemu_caps_cpu_model *model, gboolean keep_hypervisor)
{
    JsonObject *args = json_object_new();
    JsonObject *which = json_object_new();
    json_object_set_string_member(which, "name", model->name);
    json_object_set_string_member(args, "type", "static");
    json_object_set_object_member(args, "model", which);
    g_autoptr(JsonNode) ret =
        qemu_caps_probe_command(probe, "query-cpu-model-expansion", args, NULL);
    JsonObject *o = ret ? qemu_json_node_object(ret) : NULL;
    JsonNode *m = o ? json_object_get_member(o, "model") : NULL;
    JsonObject *mo = m && JSON_NODE_HOLDS_OBJECT(m) ? json_node_get_object(m) : NULL;
    JsonNode *p = mo ? json_object_get_member(mo, "props") : NULL;
    JsonObject *props = p && JSON_NODE_HOLDS_OBJECT(p) ? json_node_get_object(p) : NULL;
    if (!props)
        return;
    g_autoptr(GList) names = json_object_get_members(props);
    GPtrArray *on = g_ptr_array_new();
    GPtrArray *all = caps->cpu_features ? NULL : g_ptr_array_new();
    for (GList *l = names; l; l = l->next) {
        JsonNode *v = json_object_get_member(props, l->data);
        if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_BOOLEAN)
            continue;
        const char *name = cpu_map_feature_from_qemu(l->data);
        if (all)
            g_ptr_array_add(all, g_strdup(name));
        if (json_node_get_boolean(v) && (keep_hypervisor || !g_str_equal(name, "hypervisor")))
            g_ptr_array_add(on, g_strdup(name));
    }
    /* QEMU's order is its dictionary's: list them by name */
    if (all) {
        g_ptr_array_sort(all, qemu_caps_compare_names);
        g_ptr_array_add(all, NULL);
        caps->cpu_features = (char **)g_ptr_array_free(all, FALSE);
    }
    g_ptr_array_sort(on, qemu_caps_compare_names);
    g_ptr_array_add(on, NULL);
    g_strfreev(model->features);
    model->features = (char **)g_ptr_array_free(on, FALSE);
    /* QEMU gives every model a vendor; libvirt's generic models have none (its cpu_map),
     * and a baseline may pick them for CPUs of any vendor */
    static const char *const generic[] = {"486",      "kvm32",      "kvm64",  "pentium", "pentium2",
                                          "pentium3", "pentiumpro", "qemu32", "qemu64",  NULL};
    g_free(model->vendor);
    model->vendor = g_strv_contains(generic, model->name)
                        ? NULL
                        : g_strdup(qemu_caps_cpu_vendor(qemu_json_string(props, "vendor")));
}

/* Every model's expansion, and TCG's "max" */
static void
qemu_caps_probe_cpu_expansions(struct qemu_caps_probe *probe, struct qemu_caps *caps)
{
    for (guint i = 0; i < caps->cpu_models->len; i++)
        qemu_caps_expand_cpu(
            probe, caps, &g_array_index(caps->cpu_models, struct qemu_caps_cpu_model, i), FALSE);
    caps->cpu_max.name = g_strdup("max");
    qemu_caps_expand_cpu(probe, caps, &caps->cpu_max, TRUE);
    if (!caps->cpu_max.features)
        qemu_caps_cpu_model_clear(&caps->cpu_max);
}

static gboolean
qemu_caps_parse_machines(struct qemu_caps *caps, JsonNode *ret, GError **error)
{
    JsonArray *array = JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    guint len = array ? json_array_get_length(array) : 0;

    if (!array) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                "qemu '%s' sent an invalid reply to '%s'", caps->binary, "query-machines");
        return FALSE;
    }
    for (guint i = 0; i < len; i++) {
        JsonNode *node = json_array_get_element(array, i);
        JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *name = obj ? qemu_json_string(obj, "name") : NULL;
        guint64 cpu_max = 0;

        if (!name || !*name) {
            err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED,
                    "qemu '%s' sent a machine type without a name", caps->binary);
            return FALSE;
        }
        /* "none" (no board at all) is only for probing; libvirt leaves it out too. */
        if (g_str_equal(name, "none"))
            continue;
        qemu_caps_json_uint(obj, "cpu-max", G_MAXUINT, &cpu_max);
        qemu_caps_add_machine(caps, name, qemu_json_string(obj, "alias"), (guint)cpu_max,
                              qemu_json_bool(obj, "is-default", FALSE),
                              qemu_json_bool(obj, "deprecated", FALSE));
    }
    return TRUE;
}

/* Starts BINARY with its QMP monitor on one end of a socket pair and stderr on a pipe. */
static gboolean
qemu_caps_probe_spawn(struct qemu_caps_probe *probe, GError **error)
{
    /* clang-format off */
    const char *const argv[] = {
        probe->binary,
        "-machine", "none",
        "-accel", "tcg",
        "-nodefaults",
        "-nographic",
        "-no-user-config",
        "-display", "none",
        "-qmp", "stdio",
        NULL,
    };
    /* clang-format on */
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GError) local = NULL;
    int sv[2];
    int err_pipe[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot create a socket pair");
        return FALSE;
    }
    if (pipe2(err_pipe, O_CLOEXEC) < 0) {
        int saved = errno;

        close(sv[0]);
        close(sv[1]);
        err_set_errno(error, ERR_FROM_QEMU, saved, "cannot create a pipe");
        return FALSE;
    }
    probe->fd = sv[0];
    probe->err_fd = err_pipe[0];

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    /* The launcher owns the child's ends and closes them when freed, below. */
    g_subprocess_launcher_take_stdin_fd(launcher, sv[1]);
    g_subprocess_launcher_take_stdout_fd(launcher, dup(sv[1]));
    g_subprocess_launcher_take_stderr_fd(launcher, err_pipe[1]);
    g_subprocess_launcher_setenv(launcher, "LC_ALL", "C", TRUE);
    /* a daemon killed mid-probe must not leave this QEMU waiting on its stdio for ever */
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, GINT_TO_POINTER(getpid()),
                                          NULL);
    probe->proc = g_subprocess_launcher_spawnv(launcher, argv, &local);
    g_clear_object(&launcher);
    if (!probe->proc) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "cannot run qemu '%s': %s",
                probe->binary, local->message);
        return FALSE;
    }
    return TRUE;
}

/* Whether QEMU can do a disk's I/O with io_uring here: built with it, and the kernel lets it
 * set up a ring (a seccomp profile or kernel.io_uring_disabled may not). Opens /dev/null as a
 * host device with aio io_uring, as it would a disk's image, and deletes the node again. */
static gboolean
qemu_caps_probe_io_uring(struct qemu_caps_probe *probe)
{
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "driver", "host_device");
    json_object_set_string_member(args, "filename", "/dev/null");
    json_object_set_string_member(args, "node-name", "domus-probe-aio");
    json_object_set_string_member(args, "aio", "io_uring");
    json_object_set_boolean_member(args, "read-only", TRUE);
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonNode) added = qemu_caps_probe_command(probe, "blockdev-add", args, &local);
    if (!added) {
        log_debug("qemu caps: %s: no io_uring: %s", probe->binary, local->message);
        return FALSE;
    }
    JsonObject *del = json_object_new();
    json_object_set_string_member(del, "node-name", "domus-probe-aio");
    JsonNode *deleted = qemu_caps_probe_command(probe, "blockdev-del", del, NULL);
    if (deleted)
        json_node_unref(deleted);
    return TRUE;
}

/* The whole exchange: greeting, qmp_capabilities, the queries, quit. */
static gboolean
qemu_caps_probe_talk(struct qemu_caps_probe *probe, struct qemu_caps *caps, GError **error)
{
    g_autoptr(JsonObject) greeting = NULL;
    g_autoptr(JsonNode) negotiated = NULL;
    g_autoptr(JsonNode) version = NULL;
    g_autoptr(JsonNode) machines = NULL;
    g_autoptr(JsonNode) kvm = NULL;
    g_autoptr(JsonNode) quit = NULL;

    greeting = qemu_caps_probe_read(probe, error);
    if (!greeting)
        return FALSE;
    if (!json_object_has_member(greeting, "QMP")) {
        err_set(error, ERR_FROM_QEMU, ERR_OPERATION_FAILED, "qemu '%s' did not greet with QMP",
                probe->binary);
        return FALSE;
    }
    if (!(negotiated = qemu_caps_probe_command(probe, "qmp_capabilities", NULL, error)) ||
        !(version = qemu_caps_probe_command(probe, "query-version", NULL, error)) ||
        !qemu_caps_parse_version(caps, version, error) ||
        !(machines = qemu_caps_probe_command(probe, "query-machines", NULL, error)) ||
        !qemu_caps_parse_machines(caps, machines, error) ||
        !(kvm = qemu_caps_probe_command(probe, "query-kvm", NULL, error)))
        return FALSE;
    caps->kvm_supported = qemu_json_bool(qemu_json_node_object(kvm), "present", FALSE);
    /* query-spice exists only in a QEMU built with SPICE */
    g_autoptr(JsonNode) spice = qemu_caps_probe_command(probe, "query-spice", NULL, NULL);
    caps->spice = spice != NULL;
    /* a QEMU without CPU models to list (another target) still runs domains */
    g_autoptr(JsonNode) cpus = qemu_caps_probe_command(probe, "query-cpu-definitions", NULL, NULL);
    qemu_caps_parse_cpu_models(caps, cpus);
    qemu_caps_probe_cpu_expansions(probe, caps);
    caps->io_uring = qemu_caps_probe_io_uring(probe);

    /* Best effort from here: the answers are in. QEMU closes the socket as it exits. */
    quit = qemu_caps_probe_command(probe, "quit", NULL, NULL);
    while (quit && !probe->eof) {
        if (!qemu_caps_probe_wait(probe, NULL))
            break;
        g_string_truncate(probe->in, 0);
    }
    probe->exited = probe->eof;
    return TRUE;
}

static gboolean
qemu_caps_stat(const char *binary, struct qemu_caps_stamp *ret, GError **error)
{
    struct stat st;

    if (stat(binary, &st) < 0) {
        err_set_errno(error, ERR_FROM_QEMU, errno, "cannot stat qemu '%s'", binary);
        return FALSE;
    }
    ret->mtime_ns = (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
    ret->ctime_ns = (gint64)st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
    ret->size = (guint64)st.st_size;
    return TRUE;
}

static struct qemu_caps *
qemu_caps_probe_stamped(const char *binary, const struct qemu_caps_stamp *stamp, guint timeout_ms,
                        GError **error)
{
    g_autoptr(qemu_caps) caps = qemu_caps_new(binary, stamp);
    struct qemu_caps_probe probe = {
        .binary = binary,
        .timeout_ms = timeout_ms ? timeout_ms : QEMU_CAPS_PROBE_TIMEOUT_MS,
        .fd = -1,
        .err_fd = -1,
        .in = g_string_new(NULL),
        .err = g_string_new(NULL),
    };
    gboolean ok;

    probe.deadline = g_get_monotonic_time() + (gint64)probe.timeout_ms * 1000;
    log_debug("qemu caps: probing '%s'", binary);
    ok = qemu_caps_probe_spawn(&probe, error) && qemu_caps_probe_talk(&probe, caps, error);
    qemu_caps_probe_clear(&probe);
    if (!ok)
        return NULL;
    caps->source = QEMU_CAPS_SOURCE_PROBE;
    return g_steal_pointer(&caps);
}

struct qemu_caps *
qemu_caps_probe(const char *binary, guint timeout_ms, GError **error)
{
    struct qemu_caps_stamp stamp;

    if (!qemu_caps_stat(binary, &stamp, error))
        return NULL;
    return qemu_caps_probe_stamped(binary, &stamp, timeout_ms, error);
}

/* ---- the cache ---------------------------------------------------------------------- */

struct qemu_caps_cache *
qemu_caps_cache_new(const char *cache_dir)
{
    struct qemu_caps_cache *cache = g_new0(struct qemu_caps_cache, 1);

    g_mutex_init(&cache->lock);
    cache->dir = g_strdup(cache_dir);
    cache->entries =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)qemu_caps_unref);
    return cache;
}

void
qemu_caps_cache_free(struct qemu_caps_cache *cache)
{
    if (!cache)
        return;
    g_clear_pointer(&cache->entries, g_hash_table_unref);
    g_free(cache->dir);
    g_mutex_clear(&cache->lock);
    g_free(cache);
}

static gboolean
qemu_caps_matches(const struct qemu_caps *caps, const struct qemu_caps_stamp *stamp)
{
    return caps->mtime_ns == stamp->mtime_ns && caps->ctime_ns == stamp->ctime_ns &&
           caps->size == stamp->size;
}

static char *
qemu_caps_cache_path(const struct qemu_caps_cache *cache, const char *binary)
{
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    g_autofree char *name = g_strconcat(hash, ".json", NULL);

    return g_build_filename(cache->dir, name, NULL);
}

static void
qemu_caps_strv_to_json(JsonBuilder *builder, const char *member, char **strv)
{
    if (!strv)
        return;
    json_builder_set_member_name(builder, member);
    json_builder_begin_array(builder);
    for (char **s = strv; *s; s++)
        json_builder_add_string_value(builder, *s);
    json_builder_end_array(builder);
}

static void
qemu_caps_cpu_expansion_to_json(JsonBuilder *builder, const struct qemu_caps_cpu_model *model)
{
    if (model->vendor) {
        json_builder_set_member_name(builder, "vendor");
        json_builder_add_string_value(builder, model->vendor);
    }
    qemu_caps_strv_to_json(builder, "features", model->features);
}

/* A JSON array of strings as a new vector; NULL when MEMBER is absent or not one */
static char **
qemu_caps_strv_from_json(JsonObject *obj, const char *member)
{
    JsonNode *node = json_object_get_member(obj, member);
    JsonArray *array = node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    if (!array)
        return NULL;
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonNode *e = json_array_get_element(array, i);
        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
            g_ptr_array_add(out, g_strdup(json_node_get_string(e)));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static void
qemu_caps_cpu_expansion_from_json(JsonObject *obj, struct qemu_caps_cpu_model *model)
{
    model->vendor = g_strdup(qemu_json_string(obj, "vendor"));
    model->features = qemu_caps_strv_from_json(obj, "features");
}

static char *
qemu_caps_to_json(const struct qemu_caps *caps)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonGenerator) generator = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "format");
    json_builder_add_int_value(builder, QEMU_CAPS_CACHE_FORMAT);
    json_builder_set_member_name(builder, "binary");
    json_builder_add_string_value(builder, caps->binary);
    json_builder_set_member_name(builder, "mtime-ns");
    json_builder_add_int_value(builder, caps->mtime_ns);
    json_builder_set_member_name(builder, "ctime-ns");
    json_builder_add_int_value(builder, caps->ctime_ns);
    json_builder_set_member_name(builder, "size");
    json_builder_add_int_value(builder, (gint64)caps->size);
    json_builder_set_member_name(builder, "version");
    json_builder_add_int_value(builder, caps->version);
    json_builder_set_member_name(builder, "package");
    json_builder_add_string_value(builder, caps->package);
    json_builder_set_member_name(builder, "kvm");
    json_builder_add_boolean_value(builder, caps->kvm_supported);
    json_builder_set_member_name(builder, "spice");
    json_builder_add_boolean_value(builder, caps->spice);
    json_builder_set_member_name(builder, "io-uring");
    json_builder_add_boolean_value(builder, caps->io_uring);
    json_builder_set_member_name(builder, "machines");
    json_builder_begin_array(builder);
    for (guint i = 0; i < caps->machines->len; i++) {
        const struct qemu_caps_machine *machine =
            &g_array_index(caps->machines, struct qemu_caps_machine, i);

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "name");
        json_builder_add_string_value(builder, machine->name);
        if (machine->alias) {
            json_builder_set_member_name(builder, "alias");
            json_builder_add_string_value(builder, machine->alias);
        }
        json_builder_set_member_name(builder, "cpu-max");
        json_builder_add_int_value(builder, machine->cpu_max);
        json_builder_set_member_name(builder, "is-default");
        json_builder_add_boolean_value(builder, machine->is_default);
        json_builder_set_member_name(builder, "deprecated");
        json_builder_add_boolean_value(builder, machine->deprecated);
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
    json_builder_set_member_name(builder, "cpu-models");
    json_builder_begin_array(builder);
    for (guint i = 0; i < caps->cpu_models->len; i++) {
        const struct qemu_caps_cpu_model *model =
            &g_array_index(caps->cpu_models, struct qemu_caps_cpu_model, i);
        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "name");
        json_builder_add_string_value(builder, model->name);
        json_builder_set_member_name(builder, "usable");
        json_builder_add_boolean_value(builder, model->usable);
        json_builder_set_member_name(builder, "deprecated");
        json_builder_add_boolean_value(builder, model->deprecated);
        qemu_caps_cpu_expansion_to_json(builder, model);
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
    qemu_caps_strv_to_json(builder, "cpu-features", caps->cpu_features);
    if (caps->cpu_max.name) {
        json_builder_set_member_name(builder, "cpu-max");
        json_builder_begin_object(builder);
        qemu_caps_cpu_expansion_to_json(builder, &caps->cpu_max);
        json_builder_end_object(builder);
    }
    json_builder_end_object(builder);

    root = json_builder_get_root(builder);
    json_generator_set_root(generator, root);
    json_generator_set_pretty(generator, TRUE);
    return json_generator_to_data(generator, NULL);
}

/* Reads the cache file for BINARY; NULL (with the reason at debug level) when it is
 * missing, unreadable, malformed or for another version of the binary. */
static struct qemu_caps *
qemu_caps_cache_load(const struct qemu_caps_cache *cache, const char *binary,
                     const struct qemu_caps_stamp *stamp)
{
    g_autofree char *path = qemu_caps_cache_path(cache, binary);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    g_autoptr(qemu_caps) caps = NULL;
    JsonNode *root;
    JsonObject *obj;
    JsonArray *machines;
    JsonNode *node;
    guint64 format = 0, version = 0;
    const char *cached_binary;

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return NULL;
    if (!json_parser_load_from_mapped_file(parser, path, &local)) {
        log_debug("qemu caps: ignoring cache file '%s': %s", path, local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    obj = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    node = obj ? json_object_get_member(obj, "machines") : NULL;
    machines = node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    cached_binary = obj ? qemu_json_string(obj, "binary") : NULL;
    if (!machines || !cached_binary || !g_str_equal(cached_binary, binary) ||
        !qemu_caps_json_uint(obj, "format", G_MAXINT, &format) ||
        format != QEMU_CAPS_CACHE_FORMAT ||
        !qemu_caps_json_uint(obj, "version", G_MAXUINT, &version)) {
        log_debug("qemu caps: ignoring cache file '%s': not a format %d entry for '%s'", path,
                  QEMU_CAPS_CACHE_FORMAT, binary);
        return NULL;
    }
    if (qemu_json_int_or(obj, "mtime-ns", -1) != stamp->mtime_ns ||
        qemu_json_int_or(obj, "ctime-ns", -1) != stamp->ctime_ns ||
        qemu_json_int_or(obj, "size", -1) != (gint64)stamp->size) {
        log_debug("qemu caps: cache file '%s' is stale: '%s' changed", path, binary);
        return NULL;
    }

    caps = qemu_caps_new(binary, stamp);
    caps->version = (guint)version;
    g_free(caps->package);
    caps->package = g_strdup(qemu_json_string(obj, "package"));
    if (!caps->package)
        caps->package = g_strdup("");
    caps->kvm_supported = qemu_json_bool(obj, "kvm", FALSE);
    caps->spice = qemu_json_bool(obj, "spice", FALSE);
    caps->io_uring = qemu_json_bool(obj, "io-uring", FALSE);
    for (guint i = 0; i < json_array_get_length(machines); i++) {
        JsonNode *element = json_array_get_element(machines, i);
        JsonObject *machine =
            JSON_NODE_HOLDS_OBJECT(element) ? json_node_get_object(element) : NULL;
        const char *name = machine ? qemu_json_string(machine, "name") : NULL;
        guint64 cpu_max = 0;

        if (!name || !*name) {
            log_debug("qemu caps: ignoring cache file '%s': a machine has no name", path);
            return NULL;
        }
        qemu_caps_json_uint(machine, "cpu-max", G_MAXUINT, &cpu_max);
        /* Stored default-first already; append keeps that order. */
        qemu_caps_add_machine(caps, name, qemu_json_string(machine, "alias"), (guint)cpu_max, FALSE,
                              qemu_json_bool(machine, "deprecated", FALSE));
        g_array_index(caps->machines, struct qemu_caps_machine, i).is_default =
            qemu_json_bool(machine, "is-default", FALSE);
    }
    JsonNode *cpus = json_object_get_member(obj, "cpu-models");
    JsonArray *models = cpus && JSON_NODE_HOLDS_ARRAY(cpus) ? json_node_get_array(cpus) : NULL;
    for (guint i = 0; models && i < json_array_get_length(models); i++) {
        JsonNode *element = json_array_get_element(models, i);
        JsonObject *model = JSON_NODE_HOLDS_OBJECT(element) ? json_node_get_object(element) : NULL;
        const char *name = model ? qemu_json_string(model, "name") : NULL;
        if (name && *name)
            qemu_caps_cpu_expansion_from_json(
                model, qemu_caps_add_cpu_model(caps, name, qemu_json_bool(model, "usable", FALSE),
                                               qemu_json_bool(model, "deprecated", FALSE)));
    }
    caps->cpu_features = qemu_caps_strv_from_json(obj, "cpu-features");
    JsonNode *max = json_object_get_member(obj, "cpu-max");
    if (max && JSON_NODE_HOLDS_OBJECT(max)) {
        caps->cpu_max.name = g_strdup("max");
        qemu_caps_cpu_expansion_from_json(json_node_get_object(max), &caps->cpu_max);
    }
    caps->source = QEMU_CAPS_SOURCE_DISK;
    return g_steal_pointer(&caps);
}

static void
qemu_caps_cache_store(const struct qemu_caps_cache *cache, const struct qemu_caps *caps)
{
    g_autofree char *path = qemu_caps_cache_path(cache, caps->binary);
    g_autofree char *json = qemu_caps_to_json(caps);
    g_autoptr(GError) local = NULL;

    if (!file_mkdir_p(cache->dir, 0700, &local) ||
        !file_write_atomic(path, json, strlen(json), 0600, 0, &local)) {
        log_debug("qemu caps: not caching '%s': %s", caps->binary, local->message);
    }
}

struct qemu_caps *
qemu_caps_cache_peek(struct qemu_caps_cache *cache, const char *binary)
{
    struct qemu_caps_stamp stamp;
    if (!qemu_caps_stat(binary, &stamp, NULL))
        return NULL;
    g_mutex_lock(&cache->lock);
    struct qemu_caps *caps = g_hash_table_lookup(cache->entries, binary);
    caps = caps && qemu_caps_matches(caps, &stamp) ? qemu_caps_ref(caps) : NULL;
    g_mutex_unlock(&cache->lock);
    return caps;
}

struct qemu_caps *
qemu_caps_cache_get(struct qemu_caps_cache *cache, const char *binary, GError **error)
{
    struct qemu_caps_stamp stamp;
    struct qemu_caps *caps;

    if (!qemu_caps_stat(binary, &stamp, error))
        return NULL;
    g_mutex_lock(&cache->lock);
    caps = g_hash_table_lookup(cache->entries, binary);
    if (caps && qemu_caps_matches(caps, &stamp)) {
        caps = qemu_caps_ref(caps);
        g_mutex_unlock(&cache->lock);
        return caps;
    }
    g_mutex_unlock(&cache->lock);

    /* the disk cache and the probe run without the lock: a probe takes a while, and a
     * caller that only peeks must not wait behind it */
    caps = cache->dir ? qemu_caps_cache_load(cache, binary, &stamp) : NULL;
    if (!caps) {
        caps = qemu_caps_probe_stamped(binary, &stamp, 0, error);
        if (!caps)
            return NULL;
        if (cache->dir)
            qemu_caps_cache_store(cache, caps);
    }
    g_mutex_lock(&cache->lock);
    g_hash_table_replace(cache->entries, g_strdup(binary), qemu_caps_ref(caps));
    g_mutex_unlock(&cache->lock);
    return caps;
}

/* ---- binaries, KVM, and the <capabilities> model ------------------------------------ */

/* The qemu-system-<suffix> of a guest architecture, as libvirt's virQEMUCapsArchToString. */
static const char *
qemu_caps_arch_suffix(const char *arch)
{
    static const char *const x86_32[] = {"i386", "i486", "i586", "i686"};

    for (gsize i = 0; i < G_N_ELEMENTS(x86_32); i++) {
        if (g_str_equal(arch, x86_32[i]))
            return "i386";
    }
    if (g_str_equal(arch, "armv6l") || g_str_equal(arch, "armv7l"))
        return "arm";
    if (g_str_equal(arch, "ppc64le"))
        return "ppc64";
    return arch;
}

static char *
qemu_caps_find_program(const char *name)
{
    g_autofree char *found = g_find_program_in_path(name);
    g_autofree char *libexec = g_build_filename("/usr/libexec", name, NULL);

    if (found && g_path_is_absolute(found) && g_file_test(found, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&found);
    if (g_file_test(libexec, G_FILE_TEST_IS_REGULAR) && access(libexec, X_OK) == 0)
        return g_steal_pointer(&libexec);
    return NULL;
}

char *
qemu_caps_find_binary(const char *arch, GError **error)
{
    const char *suffix = qemu_caps_arch_suffix(arch);
    g_autofree char *name = g_strconcat("qemu-system-", suffix, NULL);
    char *path = qemu_caps_find_program(name);

    /* x86_64 QEMU runs 32-bit x86 guests too, which is all libvirt wants of it. */
    if (!path && g_str_equal(suffix, "i386"))
        path = qemu_caps_find_program("qemu-system-x86_64");
    if (!path) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED,
                "no emulator found for architecture '%s'; install '%s'", arch, name);
        return NULL;
    }
    return path;
}

gboolean
qemu_caps_kvm_usable(void)
{
    autoclose int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    return fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

gboolean
qemu_caps_io_uring_usable(const struct qemu_caps *caps)
{
    g_autofree char *disabled = NULL;
    if (!caps->io_uring)
        return FALSE;
    /* 1 lets only a group (or CAP_SYS_ADMIN) set rings up, 2 no one (Linux 6.6 and later) */
    if (!g_file_get_contents("/proc/sys/kernel/io_uring_disabled", &disabled, NULL, NULL))
        return TRUE;
    return g_strstrip(disabled)[0] == '0';
}

static guint
qemu_caps_wordsize(const char *arch)
{
    static const char *const arch64[] = {"x86_64", "aarch64", "ppc64",  "ppc64le",
                                         "s390x",  "riscv64", "mips64", "mips64el"};
    static const char *const arch32[] = {"i386",   "i486", "i586",    "i686", "armv6l",
                                         "armv7l", "ppc",  "riscv32", "mips", "mipsel"};

    for (gsize i = 0; i < G_N_ELEMENTS(arch64); i++) {
        if (g_str_equal(arch, arch64[i]))
            return 64;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(arch32); i++) {
        if (g_str_equal(arch, arch32[i]))
            return 32;
    }
    return 0;
}

/* The features libvirt's virQEMUCapsInitGuestFromBinary lists for ARCH. */
static guint
qemu_caps_guest_features(const char *arch)
{
    gboolean x86_32 = g_str_equal(qemu_caps_arch_suffix(arch), "i386");
    gboolean x86 = x86_32 || g_str_equal(arch, "x86_64");
    guint features = CAPABILITIES_FEATURE_CPUSELECTION | CAPABILITIES_FEATURE_DEVICEBOOT |
                     CAPABILITIES_FEATURE_DISKSNAPSHOT;

    if (x86_32)
        features |= CAPABILITIES_FEATURE_PAE | CAPABILITIES_FEATURE_NONPAE;
    if (x86 || g_str_equal(arch, "aarch64"))
        features |= CAPABILITIES_FEATURE_ACPI;
    if (x86)
        features |= CAPABILITIES_FEATURE_APIC;
    return features;
}

gboolean
qemu_caps_add_guest(const struct qemu_caps *caps, struct capabilities *host_caps, const char *arch,
                    gboolean kvm, GError **error)
{
    guint wordsize = qemu_caps_wordsize(arch);
    struct capabilities_guest *guest;

    if (wordsize == 0) {
        err_set(error, ERR_FROM_QEMU, ERR_CONFIG_UNSUPPORTED, "architecture '%s' is not supported",
                arch);
        return FALSE;
    }
    guest = capabilities_add_guest(host_caps, "hvm", arch, wordsize, caps->binary);
    guest->kvm = kvm;
    guest->features = qemu_caps_guest_features(arch);
    /* virt-install takes the first machine listed as the default; the guest gets plain
     * "pc" (i440fx, so IDE targets work) as with no machine given at all */
    const char *first = NULL;
    for (guint i = 0; i < caps->machines->len; i++) {
        const struct qemu_caps_machine *machine =
            &g_array_index(caps->machines, struct qemu_caps_machine, i);
        if (machine->alias && g_str_equal(machine->alias, "pc")) {
            capabilities_guest_add_machine(guest, machine->alias, machine->name, machine->cpu_max,
                                           machine->deprecated);
            first = machine->alias;
        }
    }
    for (guint i = 0; i < caps->machines->len; i++) {
        const struct qemu_caps_machine *machine =
            &g_array_index(caps->machines, struct qemu_caps_machine, i);

        /* libvirt's virQEMUCapsGetMachineTypesCaps: every canonical name gets an entry of
         * its own, and its alias follows it. */
        capabilities_guest_add_machine(guest, machine->name, NULL, machine->cpu_max,
                                       machine->deprecated);
        if (machine->alias && !(first && g_str_equal(machine->alias, first))) {
            capabilities_guest_add_machine(guest, machine->alias, machine->name, machine->cpu_max,
                                           machine->deprecated);
        }
    }
    return TRUE;
}

struct capabilities *
qemu_caps_build_capabilities(struct qemu_caps_cache *cache, const char *host_uuid, GError **error)
{
    /* libvirt's order (its virArch enum), which clients see. */
    static const char *const arches[] = {"i686", "x86_64"};
    g_autoptr(capabilities) caps = capabilities_new();
    gboolean kvm = qemu_caps_kvm_usable();

    caps->host.uuid = g_strdup(host_uuid);
    if (!nodeinfo_fill_host(&caps->host, error))
        return NULL;
    capabilities_add_secmodel(caps, "none", "0");

    for (gsize i = 0; i < G_N_ELEMENTS(arches); i++) {
        g_autofree char *binary = qemu_caps_find_binary(arches[i], NULL);
        g_autoptr(qemu_caps) qcaps = NULL;

        if (!binary) {
            log_debug("qemu caps: no emulator for '%s'", arches[i]);
            continue;
        }
        qcaps = qemu_caps_cache_get(cache, binary, error);
        if (!qcaps ||
            !qemu_caps_add_guest(qcaps, caps, arches[i], kvm && qcaps->kvm_supported, error))
            return NULL;
        if (g_str_equal(arches[i], caps->host.arch))
            qemu_caps_host_cpu_model(qcaps, &caps->host);
    }
    return g_steal_pointer(&caps);
}
