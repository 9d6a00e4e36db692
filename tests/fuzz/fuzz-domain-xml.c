/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-domain-xml: domain XML from a client. What parses must format, and what it formats
 * must parse again to the same text (a definition that does not survive a restart is lost). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf/domain_def.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = g_strndup((const char *)data, size);
    GError *error = NULL;
    struct domain_def *def = domain_def_parse(xml, 0, &error);
    if (!def) {
        g_clear_error(&error);
        return 0;
    }
    g_autofree char *out =
        domain_def_format(def, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    g_free(domain_def_format(def, 7, 0)); /* the live form too */
    struct domain_def *again = domain_def_parse(out, 0, &error);
    if (!again) {
        fprintf(stderr, "formatted definition does not parse: %s\n%s\n", error->message, out);
        abort();
    }
    g_autofree char *out2 =
        domain_def_format(again, -1, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);
    if (!g_str_equal(out, out2)) {
        fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", out, out2);
        abort();
    }
    struct domain_def *copy = domain_def_copy(def);
    domain_def_free(copy);
    domain_def_free(again);
    domain_def_free(def);
    return 0;
}
