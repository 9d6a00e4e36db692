/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xdr: RFC 4506 encoding into a GByteArray and bounds-checked decoding; prefix xdr_.
 * The reader has a sticky failure flag: decode everything, then check xdr_reader_finish. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* libvirt's REMOTE_STRING_MAX */
#define XDR_STRING_MAX (4 * 1024 * 1024)

void xdr_put_u32(GByteArray *buf, uint32_t v);
void xdr_put_i32(GByteArray *buf, int32_t v);
void xdr_put_u64(GByteArray *buf, uint64_t v);
void xdr_put_i64(GByteArray *buf, int64_t v);
/* A non-null string: length, bytes, zero padding to 4. */
void xdr_put_string(GByteArray *buf, const char *s);
/* An optional string (libvirt's remote_string): a presence word, then the string. */
void xdr_put_opt_string(GByteArray *buf, const char *s);
/* Fixed-length opaque data (padded). */
void xdr_put_opaque_fixed(GByteArray *buf, const uint8_t *data, gsize len);
/* Variable-length opaque data. */
void xdr_put_opaque(GByteArray *buf, const uint8_t *data, gsize len);
/* libvirt's char arrays: each character an XDR int; variable form has a count first. */
void xdr_put_char_array(GByteArray *buf, const char *s, gsize len);
void xdr_put_char_fixed(GByteArray *buf, const char *s, gsize len);

struct xdr_reader {
    const uint8_t *data;
    gsize len;
    gsize pos;
    gboolean failed;
    const char *what; /* first failure */
};

void xdr_reader_init(struct xdr_reader *r, const uint8_t *data, gsize len);
uint32_t xdr_get_u32(struct xdr_reader *r);
int32_t xdr_get_i32(struct xdr_reader *r);
uint64_t xdr_get_u64(struct xdr_reader *r);
int64_t xdr_get_i64(struct xdr_reader *r);
/* Returns a new NUL-terminated string, or NULL on failure (too long, truncated, or holding a
 * NUL byte). */
char *xdr_get_string(struct xdr_reader *r, gsize max);
/* An optional string: NULL when absent (check r->failed to tell apart). */
char *xdr_get_opt_string(struct xdr_reader *r, gsize max);
gboolean xdr_get_opaque_fixed(struct xdr_reader *r, uint8_t *out, gsize len);
/* Variable opaque data of at most MAX bytes: a new buffer (NULL on failure or when empty) and
 * its length in *RET_LEN. */
uint8_t *xdr_get_opaque(struct xdr_reader *r, gsize max, gsize *ret_len);
/* Returns a variable array count, failing when it exceeds MAX or cannot fit the remaining
 * bytes at MIN_ELEM_SIZE each: the limit is checked before anything is allocated. */
uint32_t xdr_get_count(struct xdr_reader *r, uint32_t max, gsize min_elem_size);
/* A variable char array (4 bytes per char); returns a new string (NUL-terminated). */
char *xdr_get_char_array(struct xdr_reader *r, gsize max);
/* True when nothing failed and every byte was consumed; else sets ERR_RPC. */
gboolean xdr_reader_finish(struct xdr_reader *r, GError **error);
