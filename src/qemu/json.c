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

JsonObject *
qemu_json_find_object(JsonArray *a, const char *name, const char *value)
{
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *o = qemu_json_element_object(a, i);
        const char *v = o ? qemu_json_string(o, name) : NULL;
        if (v && g_str_equal(v, value))
            return o;
    }
    return NULL;
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

/* ---- strict JSON, checked before json-glib sees a line ---- */

#define JSON_DEPTH_MAX 128

struct jscan {
    const char *p, *end;
    int depth;
};

static void
skip_ws(struct jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static gboolean scan_value(struct jscan *s);

static gboolean
scan_literal(struct jscan *s, const char *word)
{
    gsize n = strlen(word);
    if ((gsize)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return FALSE;
    s->p += n;
    return TRUE;
}

/* The four hex digits of a \\u escape as a UTF-16 unit, or -1. */
static int
scan_hex4(struct jscan *s)
{
    int unit = 0;
    for (int i = 0; i < 4; i++) {
        if (s->p >= s->end || !g_ascii_isxdigit(*s->p))
            return -1;
        unit = unit * 16 + g_ascii_xdigit_value(*s->p++);
    }
    return unit;
}

static gboolean
scan_string(struct jscan *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"')
            return TRUE;
        if (c < 0x20)
            return FALSE;
        if (c != '\\')
            continue;
        if (s->p >= s->end)
            return FALSE;
        c = (unsigned char)*s->p++;
        if (c == 'u') {
            int unit = scan_hex4(s);
            if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
                return FALSE;
            /* a high surrogate only as the first half of a pair (json-glib leaks the string
             * it was building on a lone one) */
            if (unit >= 0xd800 && unit <= 0xdbff) {
                if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                    return FALSE;
                s->p += 2;
                int low = scan_hex4(s);
                if (low < 0xdc00 || low > 0xdfff)
                    return FALSE;
            }
        } else if (!strchr("\"\\/bfnrt", c) || !c) {
            return FALSE;
        }
    }
    return FALSE;
}

static gboolean
scan_digits(struct jscan *s)
{
    const char *start = s->p;
    while (s->p < s->end && g_ascii_isdigit(*s->p))
        s->p++;
    return s->p > start;
}

static gboolean
scan_number(struct jscan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!scan_digits(s))
        return FALSE;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s))
            return FALSE;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!scan_digits(s))
            return FALSE;
    }
    return TRUE;
}

/* An object or array: OPEN already seen; members separated by commas until CLOSE. */
static gboolean
scan_container(struct jscan *s, char close)
{
    if (++s->depth > JSON_DEPTH_MAX)
        return FALSE;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return TRUE;
    }
    for (;;) {
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"' || !scan_string(s))
                return FALSE;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return FALSE;
            skip_ws(s);
        }
        if (!scan_value(s))
            return FALSE;
        skip_ws(s);
        if (s->p >= s->end)
            return FALSE;
        char c = *s->p++;
        if (c == close) {
            s->depth--;
            return TRUE;
        }
        if (c != ',')
            return FALSE;
        skip_ws(s);
    }
}

static gboolean
scan_value(struct jscan *s)
{
    if (s->p >= s->end)
        return FALSE;
    switch (*s->p) {
    case '{':
        return scan_container(s, '}');
    case '[':
        return scan_container(s, ']');
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return (*s->p == '-' || g_ascii_isdigit(*s->p)) && scan_number(s);
    }
}

gboolean
qemu_json_valid(const char *text, gsize len)
{
    if (!g_utf8_validate(text, (gssize)len, NULL))
        return FALSE;
    struct jscan s = {text, text + len, 0};
    skip_ws(&s);
    if (!scan_value(&s))
        return FALSE;
    skip_ws(&s);
    return s.p == s.end;
}

JsonObject *
qemu_json_parse_object(JsonParser *parser, const char *text, GError **error)
{
    /* json-glib leaks what it built of a document it then finds malformed, and takes a
     * second value on the line for the root (leaking the first): it only gets strict JSON */
    gsize len = strlen(text);
    if (!qemu_json_single_value(text, len)) {
        g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                            "more than one value on a line");
        return NULL;
    }
    if (!qemu_json_valid(text, len)) {
        g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                            "not one valid JSON value");
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
