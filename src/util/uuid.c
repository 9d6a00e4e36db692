/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uuid: version-4 random UUIDs from getrandom(2). */
#include "util/uuid.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

void
uuid_generate(uint8_t ret_uuid[UUID_LEN])
{
    size_t got = 0;
    while (got < UUID_LEN) {
        ssize_t n = getrandom(ret_uuid + got, UUID_LEN - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    ret_uuid[6] = (ret_uuid[6] & 0x0f) | 0x40;
    ret_uuid[8] = (ret_uuid[8] & 0x3f) | 0x80;
}

gboolean
uuid_parse(const char *str, uint8_t ret_uuid[UUID_LEN])
{
    uint8_t out[UUID_LEN];
    int n = 0;
    const char *p = str;
    while (*p == ' ')
        p++;
    while (*p && n < UUID_LEN * 2) {
        if (*p == '-') {
            p++;
            continue;
        }
        int v = g_ascii_xdigit_value(*p);
        if (v < 0)
            return FALSE;
        if (n % 2 == 0)
            out[n / 2] = (uint8_t)(v << 4);
        else
            out[n / 2] |= (uint8_t)v;
        n++;
        p++;
    }
    while (*p == ' ')
        p++;
    if (n != UUID_LEN * 2 || *p)
        return FALSE;
    memcpy(ret_uuid, out, UUID_LEN);
    return TRUE;
}

char *
uuid_format(const uint8_t u[UUID_LEN], char buf[UUID_STRING_LEN])
{
    snprintf(buf, UUID_STRING_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    return buf;
}
