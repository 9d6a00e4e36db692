/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli: the domus command line; prefix cli_ (main.c: table, options, connection) and cmd_
 * (one function per command, in domain.c, host.c, storage.c, …). */
#pragma once

#include <glib.h>

#include "domus/domus.h"

enum cli_opt_type {
    OPT_BOOL,   /* --name */
    OPT_STRING, /* --name VALUE or positional */
    OPT_NAMED,  /* --name VALUE only (virsh's VSH_OFLAG_REQ_OPT) */
    OPT_DATA,   /* positional-capable string (domain, file) */
    OPT_REST,   /* the remaining bare words, joined by spaces (a monitor command) */
    OPT_LIST,   /* may be given again (--diskspec A --diskspec B); bare words add to it */
};

struct cli_opt {
    const char *name;
    enum cli_opt_type type;
    gboolean required;
    const char *help;
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_domain, domus_domain_free)

/* The domain every domain command names first. */
#define DOMAIN_OPT                                                                                 \
    {                                                                                              \
        "domain", OPT_DATA, TRUE, "domain name, id or uuid"                                        \
    }

/* virsh's --config, --live and --current (cli_impact reads them) */
#define CLI_IMPACT_OPTS                                                                            \
    {"config", OPT_BOOL, FALSE, "affect next boot"},                                               \
        {"live", OPT_BOOL, FALSE, "affect running domain"},                                        \
    {                                                                                              \
        "current", OPT_BOOL, FALSE, "affect current domain"                                        \
    }

struct cli_ctx {
    const char *uri;
    gboolean readonly;
    const char *escape;     /* the console's escape sequence (-e): "^]" or one character */
    int keepalive_interval; /* -k: seconds (0: off, domus's default) */
    int keepalive_count;    /* -K: unanswered pings before the connection is lost (6) */
    gboolean interactive;   /* the shell runs the commands */
    gboolean quit;          /* quit or exit was run */
    domus_conn *conn;       /* opened on first use */
    GHashTable *values;     /* option name -> value ("1" for booleans) */
};

struct cli_cmd {
    const char *name;
    gboolean (*run)(struct cli_ctx *ctx, GError **error);
    const struct cli_opt *opts;
    const char *help;
};

domus_conn *cli_conn(struct cli_ctx *ctx, GError **error);
/* The command NAME ("help" included), or NULL. */
const struct cli_cmd *cli_find_cmd(const char *name);
/* Calls FN on every command, in the order help lists them. */
void cli_each_cmd(void (*fn)(const struct cli_cmd *c, gpointer data), gpointer data);
/* Runs the command ARGV[0] with its arguments; errors are printed as virsh prints them. */
gboolean cli_run(struct cli_ctx *ctx, int argc, char **argv);
/* shell.c: virsh's interactive shell (line editing, history, TAB completion on a terminal;
 * commands read line by line otherwise). FALSE when the last command failed. */
gboolean cli_shell(struct cli_ctx *ctx);
/* complete.c: what may follow WORDS (N of them: the command and its arguments so far) and
 * start with PARTIAL: commands, options, live names. New NULL-terminated vector, sorted. */
char **cli_complete(struct cli_ctx *ctx, char **words, int n, const char *partial);
int cli_compare_strings(const void *a, const void *b);
const char *cli_get(struct cli_ctx *ctx, const char *name);
gboolean cli_has(struct cli_ctx *ctx, const char *name);
/* The option NAME as an unsigned number (0 when absent); virsh's error when malformed. */
gboolean cli_get_u64(struct cli_ctx *ctx, const char *name, guint64 *ret, GError **error);
/* Every value of an OPT_LIST option, in order (empty when not given). New vector. */
char **cli_get_list(struct cli_ctx *ctx, const char *name);
/* Runs the user's editor on XML; returns the edited text (a new string) or NULL. */
char *cli_edit_xml(const char *xml, GError **error);
/* Looks up the "domain" option's domain (by name, id or uuid). */
domus_domain *cli_domain(struct cli_ctx *ctx, GError **error);
/* The "vol" option's volume (name, key or path; "pool" names its pool), as virsh looks it up;
 * NULL with ERROR (storage.c). */
domus_vol *cli_vol(struct cli_ctx *ctx, GError **error);

/* util.c: virsh's blank line after a command's output, when OK; returns OK. */
gboolean cli_end(gboolean ok);
/* --config / --live / --current of a tunables command as virDomainModificationImpact flags
 * (none: the current state); --current with another is virsh's error. */
gboolean cli_affect_flags(struct cli_ctx *ctx, unsigned *ret, GError **error);
/* util.c: virsh's "error: …" line that comes before the cause (stdout flushed first). */
void cli_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Sets ERROR (VIR_ERR_INVALID_ARG) with a message of our own. */
void cli_set_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* virsh's scaled integers: digits, then an optional suffix (b, k/KiB/KB, M, G, T, P, E; iB
 * powers of 1024, B powers of 1000); a bare number counts UNIT bytes. FALSE with ERROR unset
 * for a malformed number, set for a bad suffix or an overflow. */
gboolean cli_parse_scaled(const char *text, guint64 unit, guint64 *ret, GError **error);
/* Reads an XML file with libvirt's message on failure. Returns a new string. */
char *cli_read_xml_file(const char *path, GError **error);
/* virsh's --persistent (when PERSISTENT_OPT), --config, --live and --current of a device
 * command as virDomainModificationImpact flags; FALSE when two exclude each other. Without
 * any, LEGACY_LIVE commands mean the running domain (virsh calls the flagless API then). */
gboolean cli_impact(struct cli_ctx *ctx, domus_domain *dom, gboolean persistent_opt,
                    gboolean legacy_live, unsigned *ret, GError **error);
/* virsh's vshPrettyCapacity: VAL in B, KiB, MiB, … (*RET_UNIT) */
double cli_pretty_capacity(guint64 val, const char **ret_unit);
/* virsh's virshPrintJobProgress: "\rLABEL: [ 42 %]" on stderr */
void cli_print_progress(const char *label, guint64 remaining, guint64 total);
/* Runs RUN (blocking, in a thread) while POLL, every 200 ms, says how far it is: virsh's
 * "LABEL: [ 42 %]" progress on stderr, redrawn in place, ending with [100 %] on success.
 * Shown when stderr is a terminal, or always when VERBOSE (virsh's --verbose). POLL may
 * answer FALSE (nothing to show). */
gboolean cli_with_progress(const char *label, gboolean verbose,
                           gboolean (*run)(gpointer data, GError **error),
                           gboolean (*poll)(gpointer data, guint64 *ret_remaining,
                                            guint64 *ret_total),
                           gpointer data, GError **error);
/* The same; POLL_WAITS: POLL itself waits (up to 200 ms, for events it must act on at once)
 * and is called again without a pause. */
gboolean cli_with_progress_full(const char *label, gboolean verbose, gboolean poll_waits,
                                gboolean (*run)(gpointer data, GError **error),
                                gboolean (*poll)(gpointer data, guint64 *ret_remaining,
                                                 guint64 *ret_total),
                                gpointer data, GError **error);
/* The --event/--list/--loop/--timeout/--timestamp commands of pools, secrets and node
 * devices, as virsh prints them: "event 'NAME' for WHAT OBJECT[: DETAIL]". KINDS (NULL-named
 * end) are the event ids in order, each with its lifecycle detail names (NULL: none). */
struct cli_event_kind {
    const char *name;
    const char *const *details;
};
/* --list (prints the names; *RET_ID -1) or --event's id. */
gboolean cli_event_kind(struct cli_ctx *ctx, const struct cli_event_kind *kinds, int *ret_id,
                        GError **error);
/* Waits for events of OBJECT (DOMUS_EVENT_*) and ID, already registered, and prints them. */
gboolean cli_event_loop(struct cli_ctx *ctx, int object, const char *what,
                        const struct cli_event_kind *kinds, int id, GError **error);
#define CLI_EVENT_OPTS                                                                             \
    {"event", OPT_STRING, FALSE, "which event type to wait for"},                                  \
        {"loop", OPT_BOOL, FALSE, "loop until timeout or interrupt, rather than one-shot"},        \
        {"timeout", OPT_STRING, FALSE, "timeout seconds"},                                         \
        {"list", OPT_BOOL, FALSE, "list valid event types"},                                       \
    {                                                                                              \
        "timestamp", OPT_BOOL, FALSE, "show timestamp for each printed event"                      \
    }

/* virsh's "key=value,key=value" specs (--diskspec, --memspec); ",," is a literal comma. The
 * first bare word is the value of FIRST. Returns a new table or NULL when a key is not one of
 * KEYS ("unable to parse WHAT: SPEC"). */
GHashTable *cli_parse_spec(const char *spec, const char *first, const char *const *keys,
                           const char *what, GError **error);
/* What a dumpxml command prints: XML, or with --xpath EXPR the nodes it selects (--wrap: in
 * one <nodes> element), as virsh prints them. An expression that is no node set is an error. */
gboolean cli_print_xml(struct cli_ctx *ctx, const char *xml, GError **error);
/* --xpath and --wrap of the dumpxml commands */
#define CLI_XPATH_OPTS                                                                             \
    {"xpath", OPT_NAMED, FALSE, "xpath expression to filter the XML document"},                    \
    {                                                                                              \
        "wrap", OPT_BOOL, FALSE, "wrap xpath results in an common root element"                    \
    }

/* virsh's --timestamp of an event: now in UTC, "2026-12-07 13:55:15.995+0000" (new string) */
char *cli_event_stamp(void);
/* The wait of virsh's event commands: the events PRINT shows (FALSE: not its kind) until the
 * first one, or with --loop until TIMEOUT_S (<= 0: none); then virsh's count. */
typedef gboolean (*cli_event_print_fn)(struct cli_ctx *ctx, const struct domus_event *ev,
                                       gpointer user);
gboolean cli_event_wait(struct cli_ctx *ctx, domus_conn *conn, gint64 timeout_s,
                        cli_event_print_fn print, gpointer user, GError **error);
/* The text of element NAME in XML (the first), or NULL. New string. */
char *cli_xml_field(const char *xml, const char *name);
/* virsh's creation time column of a snapshot or checkpoint XML: local time with its offset
 * (new string) */
char *cli_creation_time(const char *xml);
/* virsh's --tree of snapshots and checkpoints (vshTreePrint): NAMES[DEV] and below it the
 * entries whose PARENTS name it; LASTDEV the last sibling; INDENT grows as it goes */
void cli_tree_print(char **names, char **parents, guint n, guint dev, guint lastdev, gboolean root,
                    GString *indent);

/* Tables as virsh's vshTable: cli_table_new(header cells…, NULL), cli_table_add(rows, cells
 * (taken)…, NULL), cli_table_print. */
GPtrArray *cli_table_new(const char *first, ...) G_GNUC_NULL_TERMINATED;
void cli_table_add(GPtrArray *rows, char *first, ...) G_GNUC_NULL_TERMINATED;
void cli_table_print(GPtrArray *rows);

extern const struct cli_cmd cli_domain_cmds[];
extern const struct cli_cmd cli_host_cmds[];
extern const struct cli_cmd cli_console_cmds[];
extern const struct cli_cmd cli_guest_cmds[];
extern const struct cli_cmd cli_storage_cmds[];
extern const struct cli_cmd cli_network_cmds[];
extern const struct cli_cmd cli_save_cmds[];
extern const struct cli_cmd cli_migrate_cmds[];
extern const struct cli_cmd cli_blockjob_cmds[];
extern const struct cli_cmd cli_snapshot_cmds[];
extern const struct cli_cmd cli_checkpoint_cmds[];
extern const struct cli_cmd cli_stats_cmds[];
extern const struct cli_cmd cli_tune_cmds[];
extern const struct cli_cmd cli_device_cmds[];
extern const struct cli_cmd cli_display_cmds[];
extern const struct cli_cmd cli_secret_cmds[];
extern const struct cli_cmd cli_cpu_cmds[];
extern const struct cli_cmd cli_volstream_cmds[];
extern const struct cli_cmd cli_complete_cmds[];
extern const struct cli_cmd cli_shell_cmds[];
