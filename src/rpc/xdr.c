/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xdr: big-endian 4-byte units, strings padded to 4; every read checks the remaining length. */
#include "rpc/xdr.h"

#include <string.h>

#include "util/err.h"

static const uint8_t zeros[4];

static gsize
pad4(gsize n)
{
    return (4 - (n & 3)) & 3;
}

void
xdr_put_u32(GByteArray *buf, uint32_t v)
{
    uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};
    g_byte_array_append(buf, b, 4);
}

void
xdr_put_i32(GByteArray *buf, int32_t v)
{
    xdr_put_u32(buf, (uint32_t)v);
}

void
xdr_put_u64(GByteArray *buf, uint64_t v)
{
    xdr_put_u32(buf, (uint32_t)(v >> 32));
    xdr_put_u32(buf, (uint32_t)v);
}

void
xdr_put_i64(GByteArray *buf, int64_t v)
{
    xdr_put_u64(buf, (uint64_t)v);
}

void
xdr_put_opaque_fixed(GByteArray *buf, const uint8_t *data, gsize len)
{
    g_byte_array_append(buf, data, (guint)len);
    g_byte_array_append(buf, zeros, (guint)pad4(len));
}

void
xdr_put_opaque(GByteArray *buf, const uint8_t *data, gsize len)
{
    xdr_put_u32(buf, (uint32_t)len);
    xdr_put_opaque_fixed(buf, data, len);
}

void
xdr_put_string(GByteArray *buf, const char *s)
{
    if (!s)
        s = "";
    xdr_put_opaque(buf, (const uint8_t *)s, strlen(s));
}

void
xdr_put_opt_string(GByteArray *buf, const char *s)
{
    xdr_put_u32(buf, s ? 1 : 0);
    if (s)
        xdr_put_string(buf, s);
}

void
xdr_put_char_fixed(GByteArray *buf, const char *s, gsize len)
{
    gsize slen = s ? strlen(s) : 0;
    for (gsize i = 0; i < len; i++)
        xdr_put_i32(buf, i < slen ? (int8_t)s[i] : 0);
}

void
xdr_put_char_array(GByteArray *buf, const char *s, gsize len)
{
    xdr_put_u32(buf, (uint32_t)len);
    xdr_put_char_fixed(buf, s, len);
}

void
xdr_reader_init(struct xdr_reader *r, const uint8_t *data, gsize len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->failed = FALSE;
    r->what = NULL;
}

static gboolean
need(struct xdr_reader *r, gsize n, const char *what)
{
    if (r->failed)
        return FALSE;
    if (n > r->len - r->pos) {
        r->failed = TRUE;
        r->what = what;
        return FALSE;
    }
    return TRUE;
}

static void
fail(struct xdr_reader *r, const char *what)
{
    if (!r->failed) {
        r->failed = TRUE;
        r->what = what;
    }
}

uint32_t
xdr_get_u32(struct xdr_reader *r)
{
    if (!need(r, 4, "message truncated"))
        return 0;
    const uint8_t *p = r->data + r->pos;
    r->pos += 4;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int32_t
xdr_get_i32(struct xdr_reader *r)
{
    return (int32_t)xdr_get_u32(r);
}

uint64_t
xdr_get_u64(struct xdr_reader *r)
{
    uint64_t hi = xdr_get_u32(r);
    uint64_t lo = xdr_get_u32(r);
    return (hi << 32) | lo;
}

int64_t
xdr_get_i64(struct xdr_reader *r)
{
    return (int64_t)xdr_get_u64(r);
}

char *
xdr_get_string(struct xdr_reader *r, gsize max)
{
    uint32_t len = xdr_get_u32(r);
    if (r->failed)
        return NULL;
    if (len > max) {
        fail(r, "string exceeds its limit");
        return NULL;
    }
    if (!need(r, (gsize)len + pad4(len), "string truncated"))
        return NULL;
    const char *p = (const char *)r->data + r->pos;
    if (memchr(p, '\0', len)) {
        fail(r, "string holds a NUL byte");
        return NULL;
    }
    r->pos += len + pad4(len);
    return g_strndup(p, len);
}

char *
xdr_get_opt_string(struct xdr_reader *r, gsize max)
{
    uint32_t present = xdr_get_u32(r);
    if (r->failed || !present)
        return NULL;
    if (present != 1) {
        fail(r, "bad optional marker");
        return NULL;
    }
    return xdr_get_string(r, max);
}

gboolean
xdr_get_opaque_fixed(struct xdr_reader *r, uint8_t *out, gsize len)
{
    if (!need(r, len + pad4(len), "opaque data truncated"))
        return FALSE;
    memcpy(out, r->data + r->pos, len);
    r->pos += len + pad4(len);
    return TRUE;
}

uint8_t *
xdr_get_opaque(struct xdr_reader *r, gsize max, gsize *ret_len)
{
    *ret_len = 0;
    uint32_t n = xdr_get_count(r, (uint32_t)MIN(max, G_MAXUINT32), 1);
    if (r->failed || n == 0)
        return NULL;
    uint8_t *out = g_malloc(n);
    if (!xdr_get_opaque_fixed(r, out, n)) {
        g_free(out);
        return NULL;
    }
    *ret_len = n;
    return out;
}

uint32_t
xdr_get_count(struct xdr_reader *r, uint32_t max, gsize min_elem_size)
{
    uint32_t n = xdr_get_u32(r);
    if (r->failed)
        return 0;
    if (n > max) {
        fail(r, "array exceeds its limit");
        return 0;
    }
    if (min_elem_size && (gsize)n * min_elem_size > r->len - r->pos) {
        fail(r, "array truncated");
        return 0;
    }
    return n;
}

char *
xdr_get_char_array(struct xdr_reader *r, gsize max)
{
    uint32_t n = xdr_get_count(r, (uint32_t)max, 4);
    if (r->failed)
        return NULL;
    char *s = g_malloc(n + 1);
    for (uint32_t i = 0; i < n; i++)
        s[i] = (char)xdr_get_i32(r);
    s[n] = '\0';
    return s;
}

gboolean
xdr_reader_finish(struct xdr_reader *r, GError **error)
{
    if (r->failed) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "cannot decode message: %s", r->what);
        return FALSE;
    }
    if (r->pos != r->len) {
        err_set(error, ERR_FROM_RPC, ERR_RPC, "cannot decode message: %zu trailing bytes",
                r->len - r->pos);
        return FALSE;
    }
    return TRUE;
}
