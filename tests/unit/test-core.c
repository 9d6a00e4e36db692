/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/core that need no QEMU: the transition table (every row, and every
 * state/input pair the table has no row for) and the job engine (owners, waiting, the step
 * pipeline, abort, progress). */
#include <string.h>

#include "core/core.h"
#include "core/job.h"
#include "core/state.h"
#include "util/err.h"

/* --- the transition table --- */

static void
test_every_row(void)
{
    gsize n;
    const struct state_transition *rows = state_transitions(&n);
    g_assert_cmpuint(n, >, 0);
    guint64 seen_inputs = 0;
    for (gsize i = 0; i < n; i++) {
        const struct state_transition *t = &rows[i];
        g_assert_cmpuint(t->from, !=, 0);
        seen_inputs |= G_GUINT64_CONSTANT(1) << t->input;
        for (int s = 0; s < DOM_STATE_LAST; s++) {
            if (!(t->from & STATE_BIT(s)))
                continue;
            /* the lookup finds this very row: no two rows claim one (state, input) */
            g_assert_true(state_transition(s, t->input) == t);
        }
        /* a reason that exists for the state it leads to (0 is every state's "unknown") */
        g_assert_cmpint(t->reason, >=, 0);
        if (t->reason > 0)
            g_assert_cmpstr(state_reason_to_string(t->to, t->reason), !=, "unknown");
        /* every STOPPED leads to shut off, and shut off comes with a STOPPED or nothing */
        for (int e = 0; e < 2; e++)
            if (t->event[e] == EV_STOPPED)
                g_assert_cmpint(t->to, ==, DOM_SHUTOFF);
        if (t->to == DOM_SHUTOFF)
            g_assert_true(t->event[0] == EV_STOPPED || t->event[0] < 0);
    }
    /* every input has a row */
    G_STATIC_ASSERT(IN_LAST < 64);
    g_assert_cmpuint(seen_inputs, ==, (G_GUINT64_CONSTANT(1) << IN_LAST) - 1);
}

static void
test_illegal_pairs(void)
{
    gsize n;
    const struct state_transition *rows = state_transitions(&n);
    for (int s = 0; s < DOM_STATE_LAST; s++) {
        for (int in = 0; in < IN_LAST; in++) {
            gboolean covered = FALSE;
            for (gsize i = 0; i < n; i++)
                if (rows[i].input == (enum dom_input)in && (rows[i].from & STATE_BIT(s)))
                    covered = TRUE;
            g_assert_cmpint(covered, ==, state_transition(s, in) != NULL);
        }
    }
    /* the lifecycle's musts */
    g_assert_null(state_transition(DOM_SHUTOFF, IN_STOPPED_DESTROYED));
    g_assert_null(state_transition(DOM_SHUTOFF, IN_RESUMED));
    g_assert_null(state_transition(DOM_RUNNING, IN_START));
    g_assert_null(state_transition(DOM_RUNNING, IN_RESUMED));
    g_assert_null(state_transition(DOM_PAUSED, IN_SUSPENDED));
    /* a start that never completed ends without events */
    const struct state_transition *t = state_transition(DOM_PAUSED, IN_START_FAILED);
    g_assert_nonnull(t);
    g_assert_cmpint(t->event[0], <, 0);
    /* libvirt announces a start with RESUMED, then STARTED */
    t = state_transition(DOM_PAUSED, IN_STARTED);
    g_assert_cmpint(t->event[0], ==, EV_RESUMED);
    g_assert_cmpint(t->event[1], ==, EV_STARTED);
    g_assert_cmpint(t->to, ==, DOM_RUNNING);
    g_assert_cmpint(t->reason, ==, REASON_RUNNING_BOOTED);
}

/* --- the job engine --- */

struct trace {
    GString *log;
    int done_calls;
    GError *outcome;
    struct job *held; /* a step waiting for "later" */
};

static struct trace tr;

static void
trace_reset(void)
{
    if (tr.log)
        g_string_free(tr.log, TRUE);
    g_clear_error(&tr.outcome);
    memset(&tr, 0, sizeof(tr));
    tr.log = g_string_new(NULL);
}

static void
step_a(struct job *job)
{
    g_string_append(tr.log, "a");
    job_next(job); /* synchronous */
}

static void
step_b_later(struct job *job)
{
    g_string_append(tr.log, "b");
    tr.held = job_ref(job); /* finishes when the test says so */
}

static void
step_c(struct job *job)
{
    g_string_append(tr.log, "c");
    job_next(job);
}

static void
step_fail(struct job *job)
{
    g_string_append(tr.log, "F");
    GError *e = NULL;
    err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_FAILED, "step failed");
    job_fail(job, e);
}

static void
on_finish(struct job *job, const GError *error)
{
    g_string_append(tr.log, error ? "!" : ".");
}

static void
on_abort(struct job *job)
{
    g_string_append(tr.log, "A");
    GError *e = NULL;
    err_set(&e, ERR_FROM_DOMAIN, ERR_OPERATION_ABORTED, "aborted");
    job_fail(job, e);
}

static void
on_done(GError *error, gpointer data)
{
    tr.done_calls++;
    g_clear_error(&tr.outcome);
    tr.outcome = error ? g_error_copy(error) : NULL;
}

static const struct job_step steps_abc[] = {
    {"a", step_a}, {"b", step_b_later}, {"c", step_c}, {NULL, NULL}};
static const struct job_step steps_fail[] = {
    {"a", step_a}, {"f", step_fail}, {"c", step_c}, {NULL, NULL}};
static const struct job_pipeline abc = {steps_abc, on_finish, on_abort, TRUE};
static const struct job_pipeline failing = {steps_fail, on_finish, NULL, FALSE};

static void
begin_run(struct job *job, GError *error, gpointer data)
{
    if (!job) {
        on_done(error, data);
        return;
    }
    job_run(job, NULL, NULL, on_done, data);
}

static void
test_pipeline(void)
{
    trace_reset();
    struct job_owner owner;
    job_owner_init(&owner, "domain", "vm");
    job_acquire(&owner, JOB_START, &abc, 0, begin_run, NULL);
    g_assert_cmpstr(tr.log->str, ==, "ab");
    g_assert_nonnull(owner.current);
    g_assert_cmpstr(job_phase(owner.current), ==, "b");
    struct job_info info;
    job_set_progress(owner.current, 5, 10);
    job_info(&owner, &info);
    g_assert_cmpint(info.type, ==, JOB_START);
    g_assert_cmpuint(info.done, ==, 5);
    g_assert_cmpuint(info.total, ==, 10);
    g_assert_true(info.abortable);
    /* the waiting step ends: c runs, then the finish hook, then the caller */
    struct job *j = tr.held;
    job_next(j);
    job_unref(j);
    g_assert_cmpstr(tr.log->str, ==, "abc.");
    g_assert_cmpint(tr.done_calls, ==, 1);
    g_assert_null(tr.outcome);
    g_assert_null(owner.current);
    job_info(&owner, &info);
    g_assert_cmpint(info.type, ==, JOB_NONE);
    /* it reported progress: its figures stay for domjobinfo --completed, until read without
     * keep */
    enum job_outcome outcome;
    g_assert_true(job_completed_info(&owner, TRUE, &info, &outcome));
    g_assert_cmpint(outcome, ==, JOB_OUTCOME_COMPLETED);
    g_assert_cmpint(info.type, ==, JOB_START);
    g_assert_cmpuint(info.done, ==, 5);
    g_assert_cmpuint(info.total, ==, 10);
    g_assert_true(job_completed_info(&owner, FALSE, &info, &outcome));
    g_assert_false(job_completed_info(&owner, FALSE, &info, &outcome));

    /* a failing step skips the rest */
    trace_reset();
    job_acquire(&owner, JOB_SUSPEND, &failing, 0, begin_run, NULL);
    g_assert_cmpstr(tr.log->str, ==, "aF!");
    g_assert_cmpint(tr.done_calls, ==, 1);
    g_assert_error(tr.outcome, DOMUS_ERROR, ERR_OPERATION_FAILED);
    g_assert_null(owner.current);
    /* ... and, without progress, leaves nothing for --completed */
    g_assert_false(job_completed_info(&owner, FALSE, &info, &outcome));
    job_owner_clear(&owner);
    trace_reset();
}

static void
test_busy_and_abort(void)
{
    trace_reset();
    struct job_owner owner;
    job_owner_init(&owner, "domain", "vm");
    job_acquire(&owner, JOB_START, &abc, 0, begin_run, NULL);
    /* no waiting allowed: refused at once, naming the job */
    GError *error = NULL;
    g_assert_null(job_try_acquire(&owner, JOB_RESUME, &abc, &error));
    g_assert_error(error, DOMUS_ERROR, ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(error->message, "busy with job 'start' (b)"));
    g_clear_error(&error);
    /* a client abort of an abortable job: the step fails, the finish hook sees it */
    job_set_progress(owner.current, 1, 4);
    g_assert_true(job_abort(owner.current, TRUE, &error));
    g_assert_cmpstr(tr.log->str, ==, "abA!");
    g_assert_error(tr.outcome, DOMUS_ERROR, ERR_OPERATION_ABORTED);
    struct job_info info;
    enum job_outcome outcome;
    g_assert_true(job_completed_info(&owner, FALSE, &info, &outcome));
    g_assert_cmpint(outcome, ==, JOB_OUTCOME_CANCELLED);
    /* the step's late completion is ignored */
    struct job *j = tr.held;
    job_next(j);
    job_unref(j);
    g_assert_cmpstr(tr.log->str, ==, "abA!");
    g_assert_cmpint(tr.done_calls, ==, 1);
    job_owner_clear(&owner);
    trace_reset();
}

struct waited {
    GError *error;
    gboolean got;
};

static void
begin_record(struct job *job, GError *error, gpointer data)
{
    struct waited *w = data;
    if (!job) {
        w->error = g_error_copy(error);
        return;
    }
    w->got = TRUE;
    job_run(job, NULL, NULL, on_done, NULL);
}

static void
test_waiting(void)
{
    trace_reset();
    struct job_owner owner;
    job_owner_init(&owner, "domain", "vm");
    job_acquire(&owner, JOB_START, &abc, 0, begin_run, NULL);
    /* one waiter times out, naming the job and how long it held the domain */
    struct waited late = {0}, patient = {0};
    job_acquire(&owner, JOB_RESUME, &failing, 50, begin_record, &late);
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (!late.error && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_error(late.error, DOMUS_ERROR, ERR_OPERATION_TIMEOUT);
    g_assert_nonnull(strstr(late.error->message, "domain 'vm' is busy with job 'start'"));
    g_assert_nonnull(strstr(late.error->message, "after waiting 50 ms"));
    g_assert_false(late.got);
    /* another gets the domain when the job ends */
    job_acquire(&owner, JOB_RESUME, &failing, 5000, begin_record, &patient);
    g_assert_false(patient.got);
    struct job *j = tr.held;
    job_next(j);
    job_unref(j);
    g_assert_true(patient.got);
    g_assert_null(patient.error);
    g_assert_null(owner.current); /* it failed in its step and let go */
    g_clear_error(&late.error);
    job_owner_clear(&owner);
    trace_reset();
}

static void
test_not_abortable(void)
{
    trace_reset();
    static const struct job_step hold[] = {{"hold", step_b_later}, {NULL, NULL}};
    static const struct job_pipeline p = {hold, on_finish, on_abort, FALSE};
    struct job_owner owner;
    job_owner_init(&owner, "volume", "v");
    job_acquire(&owner, JOB_WIPE, &p, 0, begin_run, NULL);
    GError *error = NULL;
    g_assert_false(job_abort(owner.current, TRUE, &error));
    g_assert_nonnull(strstr(error->message, "job 'wipe' of volume 'v' cannot be aborted"));
    g_clear_error(&error);
    /* the daemon itself may stop it (destroy, QEMU gone) */
    g_assert_true(job_abort(owner.current, FALSE, NULL));
    g_assert_cmpstr(tr.log->str, ==, "bA!");
    job_unref(tr.held);
    job_owner_clear(&owner);
    trace_reset();
}

static void
step_aside(struct job *job)
{
    g_string_append(tr.log, "s");
    job_step_aside(job, JOB_LETS(JOB_SUSPEND) | JOB_LETS(JOB_MODIFY));
    tr.held = job_ref(job);
}

/* A job that stepped aside lets the types it names through and no other; queries and aborts
 * are about it; one let through is not held up by a refused one queued before it */
static void
test_step_aside(void)
{
    trace_reset();
    static const struct job_step aside[] = {{"export", step_aside}, {"c", step_c}, {NULL, NULL}};
    static const struct job_pipeline p = {aside, on_finish, on_abort, TRUE};
    struct job_owner owner;
    job_owner_init(&owner, "domain", "vm");
    job_acquire(&owner, JOB_BACKUP, &p, 0, begin_run, NULL);
    g_assert_cmpstr(tr.log->str, ==, "s");
    g_assert_null(owner.current);
    g_assert_true(job_of(&owner) == tr.held);
    struct job *backup = tr.held;
    GError *error = NULL;
    g_assert_null(job_try_acquire(&owner, JOB_SAVE, &abc, &error));
    g_assert_nonnull(strstr(error->message, "busy with job 'backup' (export)"));
    g_clear_error(&error);
    /* a suspend goes through, and queries still see the backup */
    struct job *suspend = job_try_acquire(&owner, JOB_SUSPEND, &abc, &error);
    g_assert_nonnull(suspend);
    struct job_info info;
    job_info(&owner, &info);
    g_assert_cmpint(info.type, ==, JOB_BACKUP);
    /* a save waits (refused: it times out); a modify queued behind it is not held up by it:
     * it goes as soon as the suspend is over */
    struct waited save = {0}, modify = {0};
    job_acquire(&owner, JOB_SAVE, &failing, 30, begin_record, &save);
    job_acquire(&owner, JOB_MODIFY, &failing, 5000, begin_record, &modify);
    g_assert_false(modify.got);
    job_cancel(suspend, NULL, NULL, NULL);
    g_assert_true(modify.got);
    g_assert_null(owner.current); /* the modify failed in its step and let go */
    g_assert_null(save.error);
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (!save.error && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_error(save.error, DOMUS_ERROR, ERR_OPERATION_TIMEOUT);
    g_assert_false(save.got);
    /* the backup is what a client aborts */
    g_assert_true(job_abort(job_of(&owner), TRUE, &error));
    g_assert_cmpstr(tr.log->str, ==, "saF!A!");
    g_assert_null(job_of(&owner));
    job_unref(backup);
    g_clear_error(&save.error);
    job_owner_clear(&owner);
    trace_reset();
}

/* Generated MACs are unique across domains; a MAC the user gave is theirs to repeat. */
static void
test_unique_macs(void)
{
    const char *xml = "<domain type='qemu'><name>%s</name><memory>65536</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<interface type='user'>%s</interface></devices></domain>";
    g_autofree char *xa = g_strdup_printf(xml, "a", "<mac address='52:54:00:aa:aa:aa'/>");
    g_autofree char *xb = g_strdup_printf(xml, "b", "");
    g_autoptr(GError) error = NULL;
    struct domain_def *a = domain_def_parse(xa, 0, &error);
    g_assert_no_error(error);
    g_autoptr(domain_def) b = domain_def_parse(xb, 0, &error);
    g_assert_no_error(error);
    struct domain dom = {.def = a};
    struct core core = {0};
    core.by_name = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(core.by_name, a->name, &dom);
    struct net_def *nb = b->nets->pdata[0];
    memcpy(nb->mac, ((struct net_def *)a->nets->pdata[0])->mac, 6);
    core_unique_macs(&core, b);
    g_assert_cmpmem(nb->mac, 3, "\x52\x54\x00", 3);
    g_assert_true(memcmp(nb->mac, "\x52\x54\x00\xaa\xaa\xaa", 6) != 0);
    nb->mac_given = TRUE;
    memcpy(nb->mac, "\x52\x54\x00\xaa\xaa\xaa", 6);
    core_unique_macs(&core, b);
    g_assert_cmpmem(nb->mac, 6, "\x52\x54\x00\xaa\xaa\xaa", 6);
    g_hash_table_destroy(core.by_name);
    domain_def_free(a);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/every-row", test_every_row);
    g_test_add_func("/core/unique-macs", test_unique_macs);
    g_test_add_func("/state/illegal-pairs", test_illegal_pairs);
    g_test_add_func("/job/pipeline", test_pipeline);
    g_test_add_func("/job/busy-and-abort", test_busy_and_abort);
    g_test_add_func("/job/waiting", test_waiting);
    g_test_add_func("/job/not-abortable", test_not_abortable);
    g_test_add_func("/job/step-aside", test_step_aside);
    return g_test_run();
}
