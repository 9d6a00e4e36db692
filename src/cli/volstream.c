/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volume streams: virsh's vol-upload and vol-download, a file's bytes to a volume or back
 * over a libvirt stream. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_vol, domus_vol_free)

#define STREAM_CHUNK (256 * 1024) /* libvirt's largest stream packet */

/* --offset and --length: plain numbers, as virsh's vshCommandOptULongLong reads them */
static gboolean
offset_length(struct cli_ctx *ctx, guint64 *ret_offset, guint64 *ret_length, GError **error)
{
    const char *names[] = {"offset", "length"};
    guint64 *out[] = {ret_offset, ret_length};
    for (int i = 0; i < 2; i++) {
        const char *v = cli_get(ctx, names[i]);
        *out[i] = 0;
        if (v && !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, out[i], NULL)) {
            cli_set_error(error, "Numeric value '%s' for <%s> option is malformed or out of range",
                          v, names[i]);
            return FALSE;
        }
    }
    if (cli_has(ctx, "sparse")) {
        g_set_error(error, domus_error_quark(), 3,
                    "this function is not supported by domus: sparse volume streams; leave out "
                    "--sparse");
        return FALSE;
    }
    return TRUE;
}

static gboolean
cmd_vol_upload(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    guint64 offset, length;
    if (!offset_length(ctx, &offset, &length, error))
        return FALSE;
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    const char *name = cli_get(ctx, "vol");
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_set_error(error, "cannot read %s", file);
        return FALSE;
    }
    domus_stream *st = domus_vol_upload(vol, offset, length, 0, error);
    gboolean ok = st != NULL;
    if (!ok)
        cli_report("cannot upload to volume %s", name);
    g_autofree uint8_t *buf = g_malloc(STREAM_CHUNK);
    while (ok) {
        ssize_t n = read(fd, buf, STREAM_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_set_error(error, "cannot read %s: %s", file, g_strerror(errno));
            ok = FALSE;
        } else if (n == 0) {
            if (!(ok = domus_stream_finish(st, error)))
                cli_report("cannot close volume %s", name);
            break;
        } else if (!(ok = domus_stream_send(st, buf, (gsize)n, error))) {
            cli_report("cannot send data to volume %s", name);
        }
    }
    close(fd);
    domus_stream_free(st); /* aborts it unless finished */
    if (ok)
        printf("\n");
    return ok;
}

static gboolean
cmd_vol_download(struct cli_ctx *ctx, GError **error)
{
    const char *file = cli_get(ctx, "file");
    guint64 offset, length;
    if (!offset_length(ctx, &offset, &length, error))
        return FALSE;
    g_autoptr(domus_vol) vol = cli_vol(ctx, error);
    if (!vol)
        return FALSE;
    const char *name = cli_get(ctx, "vol");
    gboolean created = TRUE;
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        created = FALSE;
        fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
    }
    if (fd < 0) {
        cli_set_error(error, "cannot create %s", file);
        return FALSE;
    }
    domus_stream *st = domus_vol_download(vol, offset, length, 0, error);
    gboolean ok = st != NULL;
    if (!ok)
        cli_report("cannot download from volume %s", name);
    g_autofree uint8_t *buf = g_malloc(STREAM_CHUNK);
    while (ok) {
        gssize n = domus_stream_recv(st, buf, STREAM_CHUNK, error);
        if (n < 0) {
            cli_report("cannot receive data from volume %s", name);
            ok = FALSE;
        } else if (n == 0) {
            if (!(ok = domus_stream_finish(st, error)))
                cli_report("cannot close volume %s", name);
            break;
        }
        for (gssize done = 0; ok && done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                cli_set_error(error, "cannot write %s: %s", file, g_strerror(errno));
                ok = FALSE;
            } else {
                done += w;
            }
        }
    }
    domus_stream_free(st);
    if (close(fd) < 0 && ok) {
        cli_set_error(error, "cannot close %s: %s", file, g_strerror(errno));
        ok = FALSE;
    }
    if (!ok && created)
        unlink(file);
    if (ok)
        printf("\n");
    return ok;
}

static const struct cli_opt vol_updown_opts[] = {
    {"vol", OPT_DATA, TRUE, "vol name, key or path"},
    {"file", OPT_DATA, TRUE, "file"},
    {"pool", OPT_NAMED, FALSE, "pool name or uuid"},
    {"offset", OPT_NAMED, FALSE, "volume offset"},
    {"length", OPT_NAMED, FALSE, "amount of data"},
    {"sparse", OPT_BOOL, FALSE, "preserve sparseness of volume"},
    {NULL},
};

const struct cli_cmd cli_volstream_cmds[] = {
    {"vol-upload", cmd_vol_upload, vol_updown_opts, "upload file contents to a volume"},
    {"vol-download", cmd_vol_download, vol_updown_opts, "download volume contents to a file"},
    {NULL},
};
