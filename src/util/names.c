/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names: a name becomes a file name under a config directory, so it must not escape it. */
#include "util/names.h"

#include <string.h>

#include "util/err.h"

gboolean
names_validate(const char *name, const char *what, int origin, GError **error)
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
    if (name[0] == '.' || name[0] == '-') {
        err_set(error, origin, ERR_INVALID_ARG, "%s name '%s' must not start with '%c'", what, name,
                name[0]);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("-_.+:@", *p))
            continue;
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            err_set(error, origin, ERR_INVALID_ARG,
                    "%s name contains a control character; use letters, digits and -_.+:@", what);
        else
            err_set(error, origin, ERR_INVALID_ARG,
                    "%s name '%s' contains '%c'; use letters, digits and -_.+:@", what, name, *p);
        return FALSE;
    }
    return TRUE;
}
