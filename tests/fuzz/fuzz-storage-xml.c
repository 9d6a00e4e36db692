/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-storage-xml: pool, volume and secret XML from a client (the first byte picks which:
 * bit 1 a secret, else bit 0 a pool). What parses must format, and a formatted pool or secret
 * must parse again to the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "conf/secret_def.h"
#include "conf/storage_def.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gboolean pool = data[0] & 1, secret = data[0] & 2;
    g_autofree char *xml = g_strndup((const char *)data + 1, size - 1);
    GError *error = NULL;
    if (secret) {
        struct secret_def *def = secret_def_parse(xml, &error);
        if (!def) {
            g_clear_error(&error);
            return 0;
        }
        g_autofree char *out = secret_def_format(def);
        struct secret_def *again = secret_def_parse(out, &error);
        if (!again) {
            fprintf(stderr, "formatted secret does not parse: %s\n%s\n", error->message, out);
            abort();
        }
        g_autofree char *out2 = secret_def_format(again);
        if (!g_str_equal(out, out2)) {
            fprintf(stderr, "secret round trip differs:\n%s\n---\n%s\n", out, out2);
            abort();
        }
        secret_def_free(again);
        secret_def_free(def);
    } else if (pool) {
        struct pool_def *def = storage_def_pool_parse(xml, &error);
        if (!def) {
            g_clear_error(&error);
            return 0;
        }
        g_autofree char *out = storage_def_pool_format(def);
        struct pool_def *again = storage_def_pool_parse(out, &error);
        if (!again) {
            fprintf(stderr, "formatted pool does not parse: %s\n%s\n", error->message, out);
            abort();
        }
        g_autofree char *out2 = storage_def_pool_format(again);
        if (!g_str_equal(out, out2)) {
            fprintf(stderr, "pool round trip differs:\n%s\n---\n%s\n", out, out2);
            abort();
        }
        storage_def_pool_free(again);
        storage_def_pool_free(def);
    } else {
        struct vol_def *def = storage_def_vol_parse(xml, &error);
        if (!def) {
            g_clear_error(&error);
            return 0;
        }
        g_autofree char *out = storage_def_vol_format(def);
        (void)out;
        storage_def_vol_free(def);
    }
    return 0;
}
