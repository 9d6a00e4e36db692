/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json: type-checked reads of untrusted JSON. */
#include "qemu/json.h"

#include <string.h>

static JsonNode *
member(JsonObject *o, const char *name)
{
    return o ? json_object_get_member(o, name) : NULL;
}

static gboolean
holds(JsonNode *n, GType type)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type;
}

gboolean
qemu_json_node_int(JsonNode *n, gint64 *ret)
{
    if (!holds(n, G_TYPE_INT64))
        return FALSE;
    *ret = json_node_get_int(n);
    return TRUE;
}

const char *
qemu_json_node_string(JsonNode *n)
{
    return holds(n, G_TYPE_STRING) ? json_node_get_string(n) : NULL;
}

JsonObject *
qemu_json_node_object(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonArray *
qemu_json_node_array(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

const char *
qemu_json_string(JsonObject *o, const char *name)
{
    return qemu_json_node_string(member(o, name));
}

gboolean
qemu_json_int(JsonObject *o, const char *name, gint64 *ret)
{
    return qemu_json_node_int(member(o, name), ret);
}

gint64
qemu_json_int_or(JsonObject *o, const char *name, gint64 def)
{
    gint64 v;
    return qemu_json_int(o, name, &v) ? v : def;
}

double
qemu_json_number(JsonObject *o, const char *name, double def)
{
    JsonNode *n = member(o, name);
    if (holds(n, G_TYPE_INT64))
        return (double)json_node_get_int(n);
    if (holds(n, G_TYPE_DOUBLE))
        return json_node_get_double(n);
    return def;
}

gboolean
qemu_json_bool(JsonObject *o, const char *name, gboolean def)
{
    JsonNode *n = member(o, name);
    return holds(n, G_TYPE_BOOLEAN) ? json_node_get_boolean(n) : def;
}

JsonObject *
qemu_json_object(JsonObject *o, const char *name)
{
    return qemu_json_node_object(member(o, name));
}

JsonArray *
qemu_json_array(JsonObject *o, const char *name)
{
    return qemu_json_node_array(member(o, name));
}

JsonObject *
qemu_json_element_object(JsonArray *a, guint i)
{
    if (!a || i >= json_array_get_length(a))
        return NULL;
    return qemu_json_node_object(json_array_get_element(a, i));
}

gboolean
qemu_json_single_value(const char *text, gsize len)
{
    gsize i = 0;
    int depth = 0;
    gboolean in_string = FALSE, started = FALSE;
    for (; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character, whatever it is */
            else if (c == '"')
                in_string = FALSE;
            if (!in_string && depth == 0)
                break; /* a top-level string ended */
            continue;
        }
        if (g_ascii_isspace(c)) {
            if (started && depth == 0)
                break; /* a top-level scalar ended */
            continue;
        }
        started = TRUE;
        if (c == '"') {
            in_string = TRUE;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0)
                break; /* the top-level object or array ended (or a stray closer) */
        } else if (depth == 0 && i + 1 < len &&
                   (text[i + 1] == '{' || text[i + 1] == '[' || text[i + 1] == '"')) {
            break; /* a top-level scalar ran into a second value */
        }
    }
    /* after the value: only white space */
    for (i++; i < len; i++)
        if (!g_ascii_isspace(text[i]))
            return FALSE;
    return TRUE;
}

JsonObject *
qemu_json_parse_object(JsonParser *parser, const char *text, GError **error)
{
    if (!qemu_json_single_value(text, strlen(text))) {
        g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                            "more than one value on a line");
        return NULL;
    }
    if (!json_parser_load_from_data(parser, text, -1, error))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                            root ? "not an object" : "no value");
        return NULL;
    }
    return json_node_get_object(root);
}
