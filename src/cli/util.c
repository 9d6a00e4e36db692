/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util: what the command families share: virsh's error lines, XML files, tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "cli/cli.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* virsh's "error: …" line that comes before the cause */
void
cli_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void
cli_set_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, domus_error_quark(), 8, msg);
}

/* As libvirt's virFileReadAll, with its message. */
char *
cli_read_xml_file(const char *path, GError **error)
{
    char *text = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        int e = err->domain == G_FILE_ERROR && err->code == G_FILE_ERROR_NOENT ? ENOENT : EIO;
        if (err->domain == G_FILE_ERROR && err->code == G_FILE_ERROR_ACCES)
            e = EACCES;
        else if (err->domain == G_FILE_ERROR && err->code == G_FILE_ERROR_ISDIR)
            e = EISDIR;
        cli_set_error(error, "Failed to open file '%s': %s", path, g_strerror(e));
        return NULL;
    }
    return text;
}

/* A table like virsh's vshTable: each cell after a space, padded to the column's widest cell
 * plus two; a dashed line under the header. ROWS[0] is the header. */
void
cli_table_print(GPtrArray *rows)
{
    guint ncols = g_strv_length(rows->pdata[0]);
    g_autofree gsize *widths = g_new0(gsize, ncols);
    for (guint r = 0; r < rows->len; r++) {
        char **row = rows->pdata[r];
        for (guint c = 0; c < ncols; c++)
            widths[c] = MAX(widths[c], (gsize)g_utf8_strlen(row[c], -1));
    }
    for (guint r = 0; r < rows->len; r++) {
        char **row = rows->pdata[r];
        for (guint c = 0; c < ncols; c++) {
            printf(" %s", row[c]);
            if (c + 1 < ncols)
                printf("%*s", (int)(widths[c] - (gsize)g_utf8_strlen(row[c], -1) + 2), "");
        }
        printf("\n");
        if (r == 0) {
            for (guint c = 0; c < ncols; c++) {
                g_autofree char *dashes = g_strnfill(widths[c] + 3, '-');
                printf("%s", dashes);
            }
            printf("\n");
        }
    }
}

GPtrArray *
cli_table_new(const char *first, ...)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    g_autoptr(GPtrArray) head = g_ptr_array_new();
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        g_ptr_array_add(head, g_strdup(s));
    va_end(ap);
    g_ptr_array_add(head, NULL);
    g_ptr_array_add(rows, g_ptr_array_steal(head, NULL));
    return rows;
}

/* Adds a row; takes the strings. */
void
cli_table_add(GPtrArray *rows, char *first, ...)
{
    g_autoptr(GPtrArray) row = g_ptr_array_new();
    va_list ap;
    va_start(ap, first);
    for (char *s = first; s; s = va_arg(ap, char *))
        g_ptr_array_add(row, s);
    va_end(ap);
    g_ptr_array_add(row, NULL);
    g_ptr_array_add(rows, g_ptr_array_steal(row, NULL));
}

/* cli_with_progress: RUN blocks its connection, so it runs in a thread while this one polls */
struct progress_run {
    gboolean (*run)(gpointer data, GError **error);
    gpointer data;
    GMutex lock;
    GCond cond;
    gboolean finished; /* under lock; then ok and error are set */
    gboolean ok;
    GError *error;
};

static gpointer
progress_thread(gpointer data)
{
    struct progress_run *p = data;
    GError *err = NULL;
    gboolean ok = p->run(p->data, &err);
    g_mutex_lock(&p->lock);
    p->ok = ok;
    p->error = err;
    p->finished = TRUE;
    g_cond_signal(&p->cond);
    g_mutex_unlock(&p->lock);
    return NULL;
}

double
cli_pretty_capacity(guint64 val, const char **ret_unit)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)val;
    gsize i = 0;
    /* dividing by 1024 is exact in binary floating point */
    for (; i + 1 < G_N_ELEMENTS(units) && v >= 1024; i++)
        v /= 1024;
    *ret_unit = units[i];
    return v;
}

void
cli_print_progress(const char *label, guint64 remaining, guint64 total)
{
    int progress = 100;
    if (remaining != 0) {
        progress = (int)(100.0 - (double)remaining * 100.0 / (double)total);
        if (progress >= 100)
            progress = 99;
    }
    fflush(stdout);
    fprintf(stderr, "\r%s: [%3d %%]", label, progress);
    fflush(stderr);
}

gboolean
cli_with_progress(const char *label, gboolean verbose,
                  gboolean (*run)(gpointer data, GError **error),
                  gboolean (*poll)(gpointer data, guint64 *ret_remaining, guint64 *ret_total),
                  gpointer data, GError **error)
{
    return cli_with_progress_full(label, verbose, FALSE, run, poll, data, error);
}

gboolean
cli_with_progress_full(const char *label, gboolean verbose, gboolean poll_waits,
                       gboolean (*run)(gpointer data, GError **error),
                       gboolean (*poll)(gpointer data, guint64 *ret_remaining, guint64 *ret_total),
                       gpointer data, GError **error)
{
    /* on a terminal the line redraws in place; into a file or pipe only when asked */
    gboolean show = verbose || isatty(2);
    struct progress_run p = {.run = run, .data = data};
    g_mutex_init(&p.lock);
    g_cond_init(&p.cond);
    GThread *thread = g_thread_new("progress", progress_thread, &p);
    gboolean shown = FALSE;
    g_mutex_lock(&p.lock);
    while (!p.finished) {
        /* a POLL that waits for events itself (POLL_WAITS) is called again at once */
        gint64 deadline = g_get_monotonic_time() + (poll_waits ? 1 : 200) * G_TIME_SPAN_MILLISECOND;
        if (g_cond_wait_until(&p.cond, &p.lock, deadline))
            continue;
        g_mutex_unlock(&p.lock);
        guint64 remaining, total;
        /* nothing left (or the job already gone): the [100 %] line comes once, at the end */
        /* POLL runs whether or not progress shows: it may act (migrate --timeout) */
        gboolean known = poll(data, &remaining, &total);
        if (show && known && remaining != 0) {
            cli_print_progress(label, remaining, total);
            shown = TRUE;
        }
        g_mutex_lock(&p.lock);
    }
    g_mutex_unlock(&p.lock);
    g_thread_join(thread);
    g_mutex_clear(&p.lock);
    g_cond_clear(&p.cond);
    if (p.ok) {
        if (show) {
            cli_print_progress(label, 0, 1);
            /* virsh leaves the --verbose line open: the command's own output (or its closing
             * empty line) ends it on stdout; one shown only for a terminal ends here */
            if (!verbose)
                fprintf(stderr, "\n");
        }
        return TRUE;
    }
    if (shown)
        fprintf(stderr, "\n");
    g_propagate_error(error, p.error);
    return FALSE;
}

/* virsh's scaled integers (virshVolSize): digits, then an optional suffix: b, byte, bytes; or
 * k m g t p e alone or with "iB" (powers of 1024) or with "B" (powers of 1000), any case.
 * A bare number counts UNIT bytes. Returns FALSE with ERROR unset for a malformed number, set for a
 * bad suffix or overflow. */
gboolean
cli_parse_scaled(const char *text, guint64 unit, guint64 *ret, GError **error)
{
    char *end = NULL;
    errno = 0;
    guint64 v = g_ascii_strtoull(text, &end, 10);
    if (end == text || errno || memchr(text, '-', (gsize)(end - text)))
        return FALSE;
    const char *suffix = end;
    guint64 scale = 1;
    if (!*suffix) {
        scale = unit;
    } else if (g_ascii_strcasecmp(suffix, "b") == 0 || g_ascii_strcasecmp(suffix, "byte") == 0 ||
               g_ascii_strcasecmp(suffix, "bytes") == 0) {
        scale = 1;
    } else {
        guint64 base;
        if (!suffix[1] || g_ascii_strcasecmp(suffix + 1, "iB") == 0)
            base = 1024;
        else if (g_ascii_tolower(suffix[1]) == 'b' && !suffix[2])
            base = 1000;
        else
            base = 0;
        const char *order = strchr("kmgtpe", g_ascii_tolower(suffix[0]));
        if (!base || !suffix[0] || !order) {
            g_set_error(error, domus_error_quark(), 8, "invalid argument: unknown suffix '%s'",
                        suffix);
            return FALSE;
        }
        for (const char *o = "kmgtpe"; o <= order; o++)
            scale *= base;
    }
    if (v && v > G_MAXUINT64 / scale) {
        g_set_error(error, domus_error_quark(), 82,
                    "numerical overflow: value too large: %" G_GUINT64_FORMAT "%s", v, suffix);
        return FALSE;
    }
    *ret = v * scale;
    return TRUE;
}

/* virsh's --persistent, --config, --live and --current: the flags, or FALSE when two options
 * exclude each other. Without any, LEGACY_LIVE commands mean the running domain (virsh calls
 * the API without flags then, which is that); the others the current state. */
gboolean
cli_impact(struct cli_ctx *ctx, domus_domain *dom, gboolean persistent_opt, gboolean legacy_live,
           unsigned *ret, GError **error)
{
    gboolean current = cli_has(ctx, "current"), config = cli_has(ctx, "config");
    gboolean live = cli_has(ctx, "live");
    gboolean persistent = persistent_opt && cli_has(ctx, "persistent");
    const char *clash = persistent && current ? "persistent"
                        : current && live     ? "live"
                        : current && config   ? "config"
                                              : NULL;
    if (clash) {
        cli_set_error(error, "Options --current and --%s are mutually exclusive", clash);
        return FALSE;
    }
    unsigned flags = 0; /* virDomainModificationImpact: 1 live, 2 config */
    if (config || persistent)
        flags |= 2;
    if (live)
        flags |= 1;
    if (persistent && domus_domain_is_active(dom, NULL) == 1)
        flags |= 1;
    if (legacy_live && !flags && !current)
        flags = 1;
    *ret = flags;
    return TRUE;
}

gboolean
cli_event_kind(struct cli_ctx *ctx, const struct cli_event_kind *kinds, int *ret_id, GError **error)
{
    if (cli_has(ctx, "list")) {
        for (const struct cli_event_kind *k = kinds; k->name; k++)
            printf("%s\n", k->name);
        printf("\n");
        *ret_id = -1;
        return TRUE;
    }
    const char *which = cli_get(ctx, "event");
    if (!which) {
        cli_set_error(error, "either --list or --event <type> is required");
        return FALSE;
    }
    for (int i = 0; kinds[i].name; i++) {
        if (g_str_equal(kinds[i].name, which)) {
            *ret_id = i;
            return TRUE;
        }
    }
    cli_set_error(error, "unknown event type %s", which);
    return FALSE;
}

char *
cli_event_stamp(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f%z");
    memmove(stamp + 23, stamp + 26, strlen(stamp + 26) + 1);
    return stamp;
}

gboolean
cli_event_wait(struct cli_ctx *ctx, domus_conn *conn, gint64 timeout_s, cli_event_print_fn print,
               gpointer user, GError **error)
{
    gint64 deadline = timeout_s > 0 ? g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC : -1;
    int count = 0;
    gboolean timed_out = FALSE;
    for (;;) {
        int wait = -1;
        if (deadline >= 0) {
            gint64 left = deadline - g_get_monotonic_time();
            if (left <= 0) {
                timed_out = TRUE;
                break;
            }
            wait = (int)(left / 1000) + 1;
        }
        struct domus_event ev;
        int got = domus_event_next(conn, &ev, wait, error);
        if (got < 0)
            return FALSE;
        if (got == 0) {
            timed_out = TRUE;
            break;
        }
        gboolean shown = print(ctx, &ev, user);
        domus_event_clear(&ev);
        if (!shown)
            continue;
        fflush(stdout);
        count++;
        if (!cli_has(ctx, "loop"))
            break;
    }
    if (timed_out)
        printf("event loop timed out\n");
    printf("events received: %d\n", count);
    /* virsh's event commands fail when none came (main adds the blank line then) */
    if (count == 0)
        return FALSE;
    printf("\n");
    return TRUE;
}

/* what net-event, pool-event, secret-event and nodedev-event wait for */
struct object_filter {
    int object;
    const char *what;
    const struct cli_event_kind *kinds;
    int id;
};

static gboolean
print_object_event(struct cli_ctx *ctx, const struct domus_event *ev, gpointer user)
{
    const struct object_filter *f = user;
    if (ev->object != f->object || ev->event_id != f->id)
        return FALSE;
    if (cli_has(ctx, "timestamp")) {
        g_autofree char *stamp = cli_event_stamp();
        printf("%s: ", stamp);
    }
    const char *const *details = f->kinds[f->id].details;
    if (details) {
        int n = (int)g_strv_length((char **)details);
        printf("event '%s' for %s %s: %s\n", f->kinds[f->id].name, f->what, ev->domain_name,
               ev->event >= 0 && ev->event < n ? details[ev->event] : "unknown");
    } else {
        printf("event '%s' for %s %s\n", f->kinds[f->id].name, f->what, ev->domain_name);
    }
    return TRUE;
}

gboolean
cli_event_loop(struct cli_ctx *ctx, int object, const char *what,
               const struct cli_event_kind *kinds, int id, GError **error)
{
    gint64 timeout_s = 0;
    const char *t = cli_get(ctx, "timeout");
    if (t && !g_ascii_string_to_signed(t, 10, 1, G_MAXINT / 1000, &timeout_s, NULL)) {
        cli_set_error(error, "invalid timeout '%s'", t);
        return FALSE;
    }
    domus_conn *conn = cli_conn(ctx, error);
    if (!conn)
        return FALSE;
    struct object_filter f = {object, what, kinds, id};
    return cli_event_wait(ctx, conn, timeout_s, print_object_event, &f, error);
}

gboolean
cli_end(gboolean ok)
{
    if (ok)
        printf("\n");
    return ok;
}

gboolean
cli_affect_flags(struct cli_ctx *ctx, unsigned *ret, GError **error)
{
    gboolean current = cli_has(ctx, "current"), live = cli_has(ctx, "live"),
             config = cli_has(ctx, "config");
    if (current && (live || config)) {
        cli_set_error(error, "Options --current and --%s are mutually exclusive",
                      live ? "live" : "config");
        return FALSE;
    }
    *ret = (live ? 1 : 0) | (config ? 2 : 0); /* VIR_DOMAIN_AFFECT_LIVE, _CONFIG */
    return TRUE;
}

/* The text of element NAME in XML (the first), or NULL. New string. */
char *
cli_xml_field(const char *xml, const char *name)
{
    g_autofree char *open = g_strdup_printf("<%s>", name);
    g_autofree char *close = g_strdup_printf("</%s>", name);
    const char *a = strstr(xml, open);
    const char *b = a ? strstr(a, close) : NULL;
    return b ? g_strndup(a + strlen(open), b - a - strlen(open)) : NULL;
}

/* virsh's creation time column: local time with its offset */
char *
cli_creation_time(const char *xml)
{
    g_autofree char *t = cli_xml_field(xml, "creationTime");
    g_autoptr(GDateTime) dt =
        t ? g_date_time_new_from_unix_local(g_ascii_strtoll(t, NULL, 10)) : NULL;
    return dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M:%S %z") : g_strdup("-");
}

/* vshTreePrint: each root, then its children below "  |" lines and "+- " marks */
void
cli_tree_print(char **names, char **parents, guint n, guint dev, guint lastdev, gboolean root,
               GString *indent)
{
    printf("%s%s%s\n", indent->str, root ? "" : "+- ", names[dev]);
    if (!root)
        g_string_append(indent, dev == lastdev ? "  " : "| ");
    gint nextlast = -1;
    for (guint i = 0; i < n; i++)
        if (parents[i] && g_str_equal(parents[i], names[dev]))
            nextlast = i;
    if (nextlast >= 0)
        printf("%s  |\n", indent->str);
    g_string_append(indent, "  ");
    for (guint i = 0; i < n; i++)
        if (parents[i] && g_str_equal(parents[i], names[dev]))
            cli_tree_print(names, parents, n, i, nextlast, FALSE, indent);
    g_string_truncate(indent, indent->len - 2);
    if (nextlast < 0 && dev == lastdev)
        printf("%s\n", indent->str);
    if (!root)
        g_string_truncate(indent, indent->len - 2);
}

/* virsh's "key=value,key=value" specs; ",," is a literal comma. The first bare word is the
 * value of FIRST. Returns a new table or NULL when a key is not one of KEYS. */
GHashTable *
cli_parse_spec(const char *spec, const char *first, const char *const *keys, const char *what,
               GError **error)
{
    g_autoptr(GHashTable) out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GString) item = g_string_new(NULL);
    for (const char *p = spec;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(item, ',');
            p++;
            continue;
        }
        if (*p && *p != ',') {
            g_string_append_c(item, *p);
            continue;
        }
        char *eq = strchr(item->str, '=');
        g_autofree char *key = eq ? g_strndup(item->str, eq - item->str) : g_strdup(first);
        const char *value = eq ? eq + 1 : item->str;
        if (!g_strv_contains(keys, key) || (!eq && g_hash_table_contains(out, key))) {
            cli_set_error(error, "unable to parse %s: %s", what, spec);
            return NULL;
        }
        g_hash_table_replace(out, g_steal_pointer(&key), g_strdup(value));
        g_string_truncate(item, 0);
        if (!*p)
            break;
    }
    return g_steal_pointer(&out);
}

/* --xpath: each node of the expression's node set as libxml2 dumps it (an attribute as
 * ' name="value"', text as itself), a line each; --wrap: all of them in a <nodes> element (its
 * attributes, its children); as virsh 9.0 prints them */
static gboolean
print_xpath(const char *xml, const char *expr, gboolean wrap, GError **error)
{
    g_autoptr(xmlDoc) doc =
        xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlXPathContextPtr xp = doc ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObjectPtr obj = xp ? xmlXPathEvalExpression((const xmlChar *)expr, xp) : NULL;
    gboolean ok = TRUE;
    /* an expression that does not compile selects nothing (libxml2 said why on stderr) */
    xmlNodeSetPtr nodes = obj && obj->type == XPATH_NODESET ? obj->nodesetval : NULL;
    if (obj && obj->type != XPATH_NODESET) {
        cli_set_error(error, "internal error: Incorrect xpath '%s'", expr);
        ok = FALSE;
    } else if (wrap) {
        g_autoptr(xmlDoc) out = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"nodes");
        xmlDocSetRootElement(out, root);
        for (int i = 0; nodes && i < nodes->nodeNr; i++) {
            xmlNodePtr n = nodes->nodeTab[i];
            if (n->type == XML_ATTRIBUTE_NODE) {
                xmlChar *v = xmlNodeGetContent(n);
                xmlSetProp(root, n->name, v);
                xmlFree(v);
            } else {
                xmlAddChild(root, xmlDocCopyNode(n, out, 1));
            }
        }
        xmlBufferPtr buf = xmlBufferCreate();
        xmlNodeDump(buf, out, root, 0, 1);
        printf("%s\n\n", (const char *)xmlBufferContent(buf));
        xmlBufferFree(buf);
    } else {
        for (int i = 0; nodes && i < nodes->nodeNr; i++) {
            xmlBufferPtr buf = xmlBufferCreate();
            xmlNodeDump(buf, doc, nodes->nodeTab[i], 0, 0);
            printf("%s\n", (const char *)xmlBufferContent(buf));
            xmlBufferFree(buf);
        }
        printf("\n");
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(xp);
    return ok;
}

gboolean
cli_print_xml(struct cli_ctx *ctx, const char *xml, GError **error)
{
    const char *expr = cli_get(ctx, "xpath");
    if (!expr) {
        printf("%s\n", xml);
        return TRUE;
    }
    return print_xpath(xml, expr, cli_has(ctx, "wrap"), error);
}
