/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-storage-xml: pool, volume and secret XML from a client, and the other small documents
 * clients hand the daemon (the first byte picks which: bit 6 a <cpu> (compared with a host
 * CPU and baselined with itself over a small model map; bit 7 reads it as a host CPU), bit 5
 * a backup, bit 4 a checkpoint
 * (as kept, with the daemon's own fields), bit 3 a block copy's target, bit 2 a migration
 * cookie, bit 1 a secret, else bit 0 a pool). What parses must format, and a formatted pool,
 * secret, cookie or checkpoint must parse again to the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "conf/checkpoint_def.h"
#include "conf/cpu_map.h"
#include "conf/migration_cookie.h"
#include "conf/secret_def.h"
#include "conf/storage_def.h"
#include "core/blockjob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

/* A few models and features, names the seeds use */
static const char *const known[] = {"aes",  "avx",    "fpu", "invtsc", "lahf_lm", "sse",
                                    "sse2", "sse4.1", "svm", "x2apic", NULL};
static const char *const f_old[] = {"fpu", "sse", "sse2", NULL};
static const char *const f_new[] = {"aes", "fpu", "sse", "sse2", "sse4.1", "x2apic", NULL};
static const char *const f_amd[] = {"fpu", "sse", "svm", NULL};
static const struct cpu_map_model models[] = {{"qemu64", NULL, f_old},
                                              {"Old", "Intel", f_old},
                                              {"New", "Intel", f_new},
                                              {"Amd", "AMD", f_amd}};
static const struct cpu_map map = {models, G_N_ELEMENTS(models), known};

static void
cpu(const char *xml, gboolean as_host)
{
    GError *error = NULL;
    struct cpu_xml *c = cpu_xml_parse(xml, as_host, &error);
    if (!c) {
        g_clear_error(&error);
        return;
    }
    static const char *const host[] = {"fpu", "sse", "sse2", "sse4.1", NULL};
    int r = cpu_map_compare(&map, "Intel", host, c, TRUE, &error);
    g_assert((r < 0) == (error != NULL) && r <= 2);
    g_clear_error(&error);
    struct cpu_xml *const two[] = {c, c};
    for (unsigned flags = 0; flags < 4; flags++) {
        char *out =
            cpu_map_baseline(&map, two, 2, flags & 1 ? host : NULL, flags & 1, flags, &error);
        g_assert((out == NULL) == (error != NULL));
        g_free(out);
        g_clear_error(&error);
    }
    cpu_xml_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gboolean pool = data[0] & 1, secret = data[0] & 2, cookie = data[0] & 4, copy = data[0] & 8;
    gboolean checkpoint = data[0] & 16, backup = data[0] & 32;
    g_autofree char *xml = g_strndup((const char *)data + 1, size - 1);
    GError *error = NULL;
    if (data[0] & 64) {
        cpu(xml, (data[0] & 128) != 0);
    } else if (backup) {
        struct backup_def *def = backup_def_parse(xml, &error);
        if (!def) {
            g_clear_error(&error);
            return 0;
        }
        g_free(backup_def_format(def));
        backup_def_free(def);
    } else if (checkpoint) {
        struct checkpoint_def *def =
            checkpoint_def_parse(xml, CHECKPOINT_DEF_PARSE_REDEFINE, &error);
        if (!def) {
            g_clear_error(&error);
            return 0;
        }
        g_autofree char *out = checkpoint_def_format(def, CHECKPOINT_DEF_FORMAT_SECURE);
        struct checkpoint_def *again =
            checkpoint_def_parse(out, CHECKPOINT_DEF_PARSE_REDEFINE, &error);
        if (!again) {
            fprintf(stderr, "formatted checkpoint does not parse: %s\n%s\n", error->message, out);
            abort();
        }
        g_autofree char *out2 = checkpoint_def_format(again, CHECKPOINT_DEF_FORMAT_SECURE);
        if (!g_str_equal(out, out2)) {
            fprintf(stderr, "checkpoint round trip differs:\n%s\n---\n%s\n", out, out2);
            abort();
        }
        checkpoint_def_free(again);
        checkpoint_def_free(def);
    } else if (copy) {
        struct core_block_copy c = {0};
        g_autofree char *dest = NULL;
        if (!core_block_copy_parse(xml, &c, &dest, &error))
            g_clear_error(&error);
    } else if (cookie) {
        /* the raw bytes, NULs included, as they come off the wire */
        struct migration_cookie *mc =
            migration_cookie_parse((const char *)data + 1, size - 1, &error);
        if (!mc) {
            g_clear_error(&error);
            return 0;
        }
        g_autofree char *out = migration_cookie_format(mc);
        struct migration_cookie *again = migration_cookie_parse(out, strlen(out), &error);
        if (!again) {
            fprintf(stderr, "formatted cookie does not parse: %s\n%s\n", error->message, out);
            abort();
        }
        g_autofree char *out2 = migration_cookie_format(again);
        if (!g_str_equal(out, out2)) {
            fprintf(stderr, "cookie round trip differs:\n%s\n---\n%s\n", out, out2);
            abort();
        }
        migration_cookie_free(again);
        migration_cookie_free(mc);
    } else if (secret) {
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
