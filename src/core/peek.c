/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peek: bytes of a domain's raw disk (virDomainBlockPeek, read from the image in a worker
 * thread) and of its memory (virDomainMemoryPeek: QEMU's memsave / pmemsave into a file of the
 * daemon's, read back); prefix core_domain_ (peek). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>

#include "core/guest.h"
#include "core/stats.h"
#include "core/storage.h"
#include "qemu/monitor.h"
#include "util/err.h"

/* --- disks --- */

struct block_peek {
    char *path;  /* the image */
    char *asked; /* the path or target the client gave */
    guint64 offset;
    guint32 size;
    core_value_fn done;
    gpointer data;
};

static void
block_peek_free(struct block_peek *p)
{
    g_free(p->path);
    g_free(p->asked);
    g_free(p);
}

/* Up to SIZE bytes of FD at OFFSET into BUF: how many there were, or -1 (errno set) */
static gssize
read_at(int fd, guint8 *buf, gsize size, guint64 offset)
{
    gsize got = 0;
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (gsize)n;
    }
    return (gssize)got;
}

static void
block_peek_in_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
    struct block_peek *p = task_data;
    GError *error = NULL;
    int fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot open '%s' to peek into it", p->path);
        g_task_return_error(task, error);
        return;
    }
    guint8 *buf = g_malloc(MAX(p->size, 1));
    gssize got = read_at(fd, buf, p->size, p->offset);
    if (got < 0)
        err_set_errno(&error, ERR_FROM_STORAGE, errno, "cannot read '%s'", p->path);
    else if ((gsize)got < p->size)
        err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG,
                "'%s' starting from %" G_GUINT64_FORMAT " has only %zd bytes available", p->asked,
                p->offset, got);
    close(fd);
    if (error) {
        g_free(buf);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, g_bytes_new_take(buf, p->size), (GDestroyNotify)g_bytes_unref);
}

static void
block_peek_done(GObject *source, GAsyncResult *res, gpointer unused)
{
    struct block_peek *p = g_task_get_task_data(G_TASK(res));
    GError *error = NULL;
    GBytes *bytes = g_task_propagate_pointer(G_TASK(res), &error);
    p->done(error, bytes, p->data);
    g_clear_error(&error);
}

/* The image of DISK: its source, or for a volume its pool's path of it */
static char *
disk_image(struct domain *dom, const struct disk_def *disk, GError **error)
{
    if (disk->source)
        return g_strdup(disk->source);
    if (disk->type == DISK_TYPE_VOLUME) {
        struct pool *p = core_pool_lookup_name(dom->core, disk->source_pool, error);
        return p ? core_vol_path(p, disk->source_volume, error) : NULL;
    }
    err_set(error, ERR_FROM_DOMAIN, ERR_OPERATION_INVALID,
            "disk '%s' of domain '%s' has no media to peek into", disk->target_dev, dom->def->name);
    return NULL;
}

void
core_domain_block_peek(struct domain *dom, const char *path, guint64 offset, guint32 size,
                       core_value_fn done, gpointer data)
{
    GError *error = NULL;
    const struct disk_def *disk = core_stats_find_disk(dom, path, &error);
    if (disk && disk->format != DISK_FORMAT_NONE && disk->format != DISK_FORMAT_RAW)
        err_set(&error, ERR_FROM_QEMU, ERR_OPERATION_UNSUPPORTED,
                "peeking is only supported for disk with 'raw' format not '%s'",
                disk_format_to_string(disk->format));
    g_autofree char *image = disk && !error ? disk_image(dom, disk, &error) : NULL;
    if (error) {
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    struct block_peek *p = g_new0(struct block_peek, 1);
    p->path = g_steal_pointer(&image);
    p->asked = g_strdup(path);
    p->offset = offset;
    p->size = size;
    p->done = done;
    p->data = data;
    GTask *task = g_task_new(NULL, NULL, block_peek_done, NULL);
    g_task_set_task_data(task, p, (GDestroyNotify)block_peek_free);
    g_task_run_in_thread(task, block_peek_in_thread);
    g_object_unref(task);
}

/* --- memory --- */

struct memory_peek {
    struct domain *dom; /* a reference */
    char *path;         /* the file QEMU writes */
    int fd;
    guint32 size;
    core_value_fn done;
    gpointer data;
};

static void
on_memsave(struct qmp *mon, JsonNode *result, const GError *qerror, gpointer data)
{
    struct memory_peek *p = data;
    GError *error = qerror ? g_error_copy(qerror) : NULL;
    guint8 *buf = g_malloc(MAX(p->size, 1));
    gssize got = error ? 0 : read_at(p->fd, buf, p->size, 0);
    if (got < 0)
        err_set_errno(&error, ERR_FROM_DOMAIN, errno, "cannot read the memory QEMU saved in '%s'",
                      p->path);
    else if (!error && (gsize)got < p->size)
        err_set(&error, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED,
                "QEMU saved %zd of the %u bytes asked of domain '%s''s memory", got, p->size,
                p->dom->def->name);
    if (error) {
        g_free(buf);
        p->done(error, NULL, p->data);
        g_error_free(error);
    } else {
        p->done(NULL, g_bytes_new_take(buf, p->size), p->data);
    }
    close(p->fd);
    unlink(p->path);
    g_free(p->path);
    core_domain_unref(p->dom);
    g_free(p);
}

void
core_domain_memory_peek(struct domain *dom, guint64 offset, guint32 size, unsigned flags,
                        core_value_fn done, gpointer data)
{
    GError *error = NULL;
    if (flags != CORE_MEMORY_VIRTUAL && flags != CORE_MEMORY_PHYSICAL)
        err_set(&error, ERR_FROM_QEMU, ERR_INVALID_ARG, "%s",
                "flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL");
    else
        core_domain_require_running(dom, &error);
    g_autofree char *path =
        error ? NULL
              : g_strdup_printf("%s/%s.mem.XXXXXX", dom->core->paths.status_dir, dom->def->name);
    int fd = path ? g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600) : -1;
    if (path && fd < 0)
        err_set_errno(&error, ERR_FROM_DOMAIN, errno, "cannot create '%s' for QEMU to save into",
                      path);
    if (error) {
        done(error, NULL, data);
        g_error_free(error);
        return;
    }
    struct memory_peek *p = g_new0(struct memory_peek, 1);
    p->dom = core_domain_ref(dom);
    p->path = g_steal_pointer(&path);
    p->fd = fd;
    p->size = size;
    p->done = done;
    p->data = data;
    JsonObject *args = json_object_new();
    /* QEMU takes the address as a signed integer: a guest kernel's virtual addresses (the upper
     * half) pass as their two's complement */
    json_object_set_int_member(args, "val", (gint64)offset);
    json_object_set_int_member(args, "size", size);
    json_object_set_string_member(args, "filename", p->path);
    qmp_command(dom->mon, flags == CORE_MEMORY_VIRTUAL ? "memsave" : "pmemsave", args, on_memsave,
                p);
}
