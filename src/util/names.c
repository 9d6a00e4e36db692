/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names: a name becomes a file name under a config directory, so it must not escape it; other
 * than that, names are what libvirt allows (spaces, quotes, any UTF-8). Text in names is
 * escaped wherever it is written (XML, QEMU's option syntax, logs). */
#include "util/names.h"

#include <string.h>

#include "util/err.h"

gboolean
names_validate(const char *name, enum names_kind kind, const char *what, int origin, GError **error)
{
    if (!name || !*name) {
        err_set(error, origin, ERR_INVALID_ARG, "%s name must not be empty", what);
        return FALSE;
    }
    size_t len = strlen(name);
    if (len > NAMES_MAX_LEN) {
        err_set(error, origin, ERR_INVALID_ARG, "%s name is %zu bytes long; the limit is %d", what,
                len, NAMES_MAX_LEN);
        return FALSE;
    }
    if (kind == NAMES_DOMAIN && strchr(name, '\n')) {
        err_set(error, origin, ERR_XML_DETAIL,
                "invalid char in name: a newline; a %s name is one line", what);
        return FALSE;
    }
    for (const char *p = name; kind == NAMES_NETWORK && *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            err_set(error, origin, ERR_XML_DETAIL,
                    "invalid char in name: control character 0x%02x; a %s name is one line of "
                    "printable text",
                    (unsigned)(unsigned char)*p, what);
            return FALSE;
        }
    }
    if (strchr(name, '/')) {
        err_set(error, origin, ERR_XML_DETAIL,
                "invalid char in name: '/'; a %s name is a file name ('%s')", what, name);
        return FALSE;
    }
    if (g_str_equal(name, ".") || g_str_equal(name, "..") ||
        (kind == NAMES_VOLUME && name[0] == '.')) {
        err_set(error, origin, ERR_INVALID_ARG, "%s name '%s' must not start with '.'", what, name);
        return FALSE;
    }
    return TRUE;
}
