/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json: reading JSON that QEMU, a guest agent or a cache file wrote, trusting none of its
 * types; prefix qemu_json_. json-glib's getters assume the caller knows a member's type and
 * complain (g_critical) or misread otherwise; these answer "absent" instead. */
#pragma once

#include <json-glib/json-glib.h>

/* Member NAME of O (O may be NULL) when it is a string; NULL otherwise. Borrowed. */
const char *qemu_json_string(JsonObject *o, const char *name);

/* Member NAME of O when it is an integer: *RET and TRUE; FALSE otherwise. */
gboolean qemu_json_int(JsonObject *o, const char *name, gint64 *ret);

/* Member NAME of O when it is an integer; DEF otherwise. */
gint64 qemu_json_int_or(JsonObject *o, const char *name, gint64 def);

/* Member NAME of O as a number (an integer or a double); DEF otherwise. */
double qemu_json_number(JsonObject *o, const char *name, double def);

/* Member NAME of O when it is a boolean; DEF otherwise. */
gboolean qemu_json_bool(JsonObject *o, const char *name, gboolean def);

/* Member NAME of O when it is an object / an array; NULL otherwise. Borrowed. */
JsonObject *qemu_json_object(JsonObject *o, const char *name);
JsonArray *qemu_json_array(JsonObject *o, const char *name);

/* Element I of A (A may be NULL) when it is an object; NULL otherwise. Borrowed. */
JsonObject *qemu_json_element_object(JsonArray *a, guint i);
/* The first object of A (may be NULL) whose string member NAME is VALUE (query-block-jobs'
 * entry of a job: "device", its id), or NULL. Borrowed. */
JsonObject *qemu_json_find_object(JsonArray *a, const char *name, const char *value);

/* N (may be NULL) as an integer / a string / an object / an array, when it is one. */
gboolean qemu_json_node_int(JsonNode *n, gint64 *ret);
const char *qemu_json_node_string(JsonNode *n);
JsonObject *qemu_json_node_object(JsonNode *n);
JsonArray *qemu_json_node_array(JsonNode *n);

/* Whether TEXT holds at most one JSON value (whitespace around it allowed). json-glib 1.6
 * leaks the first value of "{} {}" when it refuses the second: input from QEMU or a guest is
 * checked with this first, so a peer cannot grow the daemon line by line. */
gboolean qemu_json_single_value(const char *text, gsize len);
/* Whether TEXT (LEN bytes) is exactly one JSON value (RFC 8259: no comments, no trailing
 * commas, valid UTF-8, strict numbers and escapes), nested at most 128 deep, with white space
 * around it only. */
gboolean qemu_json_valid(const char *text, gsize len);
/* Parses TEXT (NUL-terminated) with PARSER: exactly one value, and an object (json-glib reads
 * a line that is only a comment as a document without a root: that is refused too). Returns
 * the root object, owned by PARSER; NULL with ERROR (JSON_PARSER_ERROR) otherwise. */
JsonObject *qemu_json_parse_object(JsonParser *parser, const char *text, GError **error);
