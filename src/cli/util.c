/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util: what the command families share: virsh's error lines, XML files, tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"

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
