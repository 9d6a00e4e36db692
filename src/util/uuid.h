/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uuid: 16-byte UUIDs, random generation, parse and format; prefix uuid_. */
#pragma once

#include <glib.h>
#include <stdint.h>

#define UUID_LEN 16
#define UUID_STRING_LEN 37

void uuid_generate(uint8_t ret_uuid[UUID_LEN]);
/* Accepts the 36-char dashed form, or 32 hex digits (dashes anywhere are skipped). */
gboolean uuid_parse(const char *str, uint8_t ret_uuid[UUID_LEN]);
/* Writes the dashed lowercase form into BUF. Returns BUF. */
char *uuid_format(const uint8_t uuid[UUID_LEN], char buf[UUID_STRING_LEN]);
