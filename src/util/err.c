/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* err: DOMUS_ERROR, an extended GError domain whose private data is libvirt's error origin. */
#include "util/err.h"

#include <string.h>

typedef struct {
    int origin;
} ErrPrivate;

static void
err_private_init(ErrPrivate *priv)
{
    priv->origin = ERR_FROM_NONE;
}

static void
err_private_copy(const ErrPrivate *src, ErrPrivate *dst)
{
    dst->origin = src->origin;
}

static void
err_private_clear(ErrPrivate *priv)
{
}

G_DEFINE_EXTENDED_ERROR(Err, err)

static void
err_set_valist(GError **error, int origin, int code, const char *suffix, const char *fmt,
               va_list ap)
{
    if (!error)
        return;
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    if (suffix) {
        char *full = g_strconcat(msg, ": ", suffix, NULL);
        g_free(msg);
        msg = full;
    }
    g_set_error_literal(error, DOMUS_ERROR, code, msg);
    ErrPrivate *priv = err_get_private(*error);
    priv->origin = origin;
}

void
err_set(GError **error, int origin, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_set_valist(error, origin, code, NULL, fmt, ap);
    va_end(ap);
}

void
err_set_errno(GError **error, int origin, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_set_valist(error, origin, ERR_SYSTEM_ERROR, g_strerror(errnum), fmt, ap);
    va_end(ap);
}

int
err_origin(const GError *error)
{
    if (!error || error->domain != DOMUS_ERROR)
        return ERR_FROM_NONE;
    ErrPrivate *priv = err_get_private(error);
    return priv ? priv->origin : ERR_FROM_NONE;
}

int
err_code(const GError *error)
{
    if (error && error->domain == DOMUS_ERROR)
        return error->code;
    return ERR_INTERNAL_ERROR;
}
