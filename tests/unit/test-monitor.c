/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the QMP client against a scripted peer on a socketpair: negotiation,
 * replies matched by id even out of order, events, QEMU's errors, malformed JSON, silence;
 * and descriptors passed to fake-qemu (tests/fake) with getfd and add-fd, checked in the
 * fake's /proc/PID/fd. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qemu/json.h"
#include "qemu/monitor.h"
#include "util/err.h"

struct peer {
    int fd;
    GString *in;
};

static char *
peer_read_line(struct peer *p)
{
    for (;;) {
        char *nl = strchr(p->in->str, '\n');
        if (nl) {
            char *line = g_strndup(p->in->str, nl - p->in->str);
            g_string_erase(p->in, 0, nl - p->in->str + 1);
            return line;
        }
        /* let the client write */
        g_main_context_iteration(NULL, FALSE);
        char buf[4096];
        ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            g_string_append_len(p->in, buf, n);
        else if (n == 0)
            return NULL;
        else
            g_usleep(1000);
    }
}

static void
peer_send(struct peer *p, const char *text)
{
    g_assert_cmpint(write(p->fd, text, strlen(text)), ==, (ssize_t)strlen(text));
}

/* the id of a command line: {"execute":"x","id":N} */
static int
line_id(const char *line)
{
    const char *p = strstr(line, "\"id\":");
    g_assert_nonnull(p);
    return atoi(p + 5);
}

struct results {
    int replies;
    int errors;
    char *last_error;
    char *order;
    int events;
    char *closed;
};

static struct results res;

static void
record(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    const char *tag = data;
    if (error) {
        res.errors++;
        g_free(res.last_error);
        res.last_error = g_strdup(error->message);
    } else {
        res.replies++;
    }
    char *o = g_strconcat(res.order ? res.order : "", tag, NULL);
    g_free(res.order);
    res.order = o;
}

static void
on_event(struct qmp *mon, const char *event, JsonObject *data, gpointer user)
{
    if (g_str_equal(event, "STOP"))
        res.events++;
}

static void
on_closed(struct qmp *mon, const char *reason, gpointer user)
{
    res.closed = g_strdup(reason);
}

static struct qmp *
setup(struct peer *p, unsigned timeout_ms)
{
    memset(&res, 0, sizeof(res));
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    p->fd = sv[1];
    p->in = g_string_new(NULL);
    struct qmp_callbacks cb = {.event = on_event, .closed = on_closed};
    return qmp_new(sv[0], "test", &cb, NULL, timeout_ms);
}

static void
teardown(struct peer *p, struct qmp *mon)
{
    qmp_free(mon);
    close(p->fd);
    g_string_free(p->in, TRUE);
    g_free(res.last_error);
    g_free(res.order);
    g_free(res.closed);
}

static void
negotiate(struct peer *p)
{
    peer_send(p, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
    g_autofree char *line = peer_read_line(p);
    g_assert_nonnull(strstr(line, "qmp_capabilities"));
    g_autofree char *reply = g_strdup_printf("{\"return\": {}, \"id\": %d}\r\n", line_id(line));
    peer_send(p, reply);
}

static void
test_out_of_order(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    /* commands queued before the greeting wait for negotiation */
    qmp_command(mon, "query-status", NULL, record, "a");
    qmp_command(mon, "cont", NULL, record, "b");
    negotiate(&p);
    g_autofree char *l1 = peer_read_line(&p);
    g_autofree char *l2 = peer_read_line(&p);
    g_assert_nonnull(strstr(l1, "query-status"));
    g_assert_nonnull(strstr(l2, "cont"));
    /* an event, then the second reply first, then QEMU's error for the first */
    peer_send(&p, "{\"event\": \"STOP\", \"data\": {}, \"timestamp\": {}}\r\n");
    g_autofree char *r2 = g_strdup_printf("{\"return\": {}, \"id\": %d}\r\n", line_id(l2));
    g_autofree char *r1 = g_strdup_printf(
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}, \"id\": %d}\r\n",
        line_id(l1));
    peer_send(&p, r2);
    peer_send(&p, r1);
    for (int i = 0; i < 2000 && res.replies + res.errors < 2; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_cmpstr(res.order, ==, "ba");
    g_assert_cmpint(res.events, ==, 1);
    g_assert_cmpint(res.errors, ==, 1);
    g_assert_nonnull(strstr(res.last_error, "nope"));
    teardown(&p, mon);
}

static void
test_malformed_json(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    qmp_command(mon, "cont", NULL, record, "a");
    negotiate(&p);
    g_autofree char *l = peer_read_line(&p);
    peer_send(&p, "{\"return\": {}, \"id\": \r\n");
    for (int i = 0; i < 2000 && !res.closed; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_nonnull(res.closed);
    g_assert_nonnull(strstr(res.closed, "malformed JSON"));
    g_assert_cmpint(res.errors, ==, 1);
    g_assert_true(qmp_is_closed(mon));
    /* later commands fail, never inside the call that queued them */
    qmp_command(mon, "stop", NULL, record, "b");
    g_assert_cmpint(res.errors, ==, 1);
    for (int i = 0; i < 100 && res.errors < 2; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpint(res.errors, ==, 2);
    teardown(&p, mon);
}

/* A line json-glib reads as no value at all (only a comment): found by fuzz-qmp. The monitor
 * must call it malformed, not ask json-glib for the type of a root that is not there (a
 * g_critical, fatal here); a passthrough command that is only a comment is refused the same
 * way. */
static void
test_empty_document(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    g_autoptr(GError) error = NULL;
    negotiate(&p);
    g_assert_false(qmp_command_json(mon, "/* nothing */", record, "x", &error));
    g_assert_nonnull(error);
    qmp_command(mon, "cont", NULL, record, "a");
    g_autofree char *l = peer_read_line(&p);
    peer_send(&p, "////////////////\r\n");
    for (int i = 0; i < 2000 && !res.closed; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_nonnull(res.closed);
    g_assert_nonnull(strstr(res.closed, "malformed JSON"));
    g_assert_cmpint(res.errors, ==, 1);
    teardown(&p, mon);
}

/* A line json-glib fails to parse after it has built part of the tree leaks that part
 * (json-glib 1.6, found by fuzz-qmp: '{/"/}{/"/}'); each such line from QEMU or a guest agent
 * would cost the daemon memory. Lines are checked as strict JSON before json-glib sees them, so
 * this one never reaches it: under the sanitizers a leak fails this test. */
static void
test_invalid_json_leaks_nothing(void)
{
    static const struct {
        const char *text;
        gboolean ok;
    } cases[] = {
        {"{}", TRUE},
        {" {\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\n\"]} ", TRUE},
        {"[]", TRUE},
        {"\"x\"", TRUE},
        {"0", TRUE},
        {"", FALSE},
        {"{/\315/}", FALSE},
        {"{/\"/}", FALSE},
        {"{/\"/}{/\"/}", FALSE},
        {"{\"a\" 1}", FALSE},
        {"{\"a\": 1,}", FALSE},
        {"[1,]", FALSE},
        {"01", FALSE},
        {"1.", FALSE},
        {"-", FALSE},
        {"\"\\x\"", FALSE},
        {"\"\\u12g4\"", FALSE},
        {"\"a\x01b\"", FALSE},
        {"// c", FALSE},
        {"/* c */ {}", FALSE},
        {"tru", FALSE},
        {"{} {}", FALSE},
        {"\"\xff\"", FALSE},
        {"{'a': 1}", FALSE},
        /* found by fuzz-qmp: json-glib leaks the string it was building when a high surrogate
         * escape is not followed by a low one */
        {"\"\\ud83d\\ude00\"", TRUE},
        {"[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\ud800\\u0041\"]",
         FALSE},
        {"{\"\\ud800\\ud800\": 1}", FALSE},
        {"\"\\ud800\"", FALSE},
        {"\"\\udc00\"", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (qemu_json_valid(cases[i].text, strlen(cases[i].text)) != cases[i].ok)
            g_error("'%s' should be %s", cases[i].text, cases[i].ok ? "valid" : "invalid");
    }
    g_autofree char *deep = g_strnfill(300, '[');
    g_assert_false(qemu_json_valid(deep, strlen(deep)));
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    negotiate(&p);
    peer_send(&p, "{/\"/}{/\"/}\r\n");
    for (int i = 0; i < 2000 && !res.closed; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_nonnull(res.closed);
    g_assert_nonnull(strstr(res.closed, "malformed JSON"));
    teardown(&p, mon);
}

/* Members of the wrong type (what json-glib's getters would meet with a g_critical, fatal
 * here): an event named by an object, data that is no object, an id that is an object, an
 * error that is a string. Each is taken as absent; the command still gets its answer. */
static void
test_hostile_types(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    qmp_command(mon, "cont", NULL, record, "a");
    qmp_command(mon, "stop", NULL, record, "b");
    negotiate(&p);
    g_autofree char *l1 = peer_read_line(&p);
    g_autofree char *l2 = peer_read_line(&p);
    peer_send(&p, "{\"event\": {\"x\": 1}}\r\n");
    peer_send(&p, "{\"event\": \"STOP\", \"data\": [1]}\r\n");
    peer_send(&p, "{\"return\": {}, \"id\": {\"n\": 1}}\r\n");
    peer_send(&p, "{\"return\": {}, \"id\": [2]}\r\n");
    g_autofree char *e1 = g_strdup_printf("{\"error\": \"bad\", \"id\": %d}\r\n", line_id(l1));
    g_autofree char *e2 =
        g_strdup_printf("{\"error\": {\"desc\": {}}, \"id\": %d}\r\n", line_id(l2));
    peer_send(&p, e1);
    peer_send(&p, e2);
    for (int i = 0; i < 2000 && res.errors < 2; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_cmpint(res.errors, ==, 2);
    g_assert_nonnull(strstr(res.last_error, "QEMU refused 'stop': ?"));
    g_assert_cmpint(res.events, ==, 1); /* the STOP, without data */
    g_assert_null(res.closed);
    teardown(&p, mon);
}

/* json-glib 1.6 leaks what it parsed of a line holding two values; such lines are refused
 * before it sees them. */
static void
test_single_value(void)
{
    static const struct {
        const char *text;
        gboolean one;
    } cases[] = {
        {"{}", TRUE},
        {"  {\"a\": [1, {\"b\": \"}{\"}]}  ", TRUE},
        {"\"x\\\"y\"", TRUE},
        {"12", TRUE},
        {"", TRUE},
        {"{} {}", FALSE},
        {"{\"id\": 4}{\"return\": {}}", FALSE},
        {"[1]]", FALSE},
        {"12 34", FALSE},
        {"1{}", FALSE},
        {"\"a\" \"b\"", FALSE},
        {"true\"x\"", FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_true(qemu_json_single_value(cases[i].text, strlen(cases[i].text)) == cases[i].one);
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    negotiate(&p);
    peer_send(&p, "{\"event\": \"STOP\"} {\"event\": \"STOP\"}\r\n");
    for (int i = 0; i < 2000 && !res.closed; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_nonnull(res.closed);
    g_assert_nonnull(strstr(res.closed, "more than one value"));
    g_assert_cmpint(res.events, ==, 0);
    teardown(&p, mon);
}

/* The peer stops reading (QEMU going away): the next write fails with EPIPE. The failure
 * comes from the main loop, after qmp_command returned, for every command queued so far, and
 * a raw (passthrough) command's entry is never touched once failed. */
static void
test_write_fails(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    negotiate(&p);
    qmp_command(mon, "query-name", NULL, record, "a");
    g_autofree char *l = peer_read_line(&p);
    shutdown(p.fd, SHUT_RD);
    g_assert_true(qmp_command_json(mon, "{\"execute\":\"query-version\"}", record, "b", NULL));
    qmp_command(mon, "cont", NULL, record, "c");
    g_assert_cmpint(res.errors, ==, 0);
    for (int i = 0; i < 200 && !res.closed; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_nonnull(res.closed);
    g_assert_cmpint(res.errors, ==, 3);
    g_assert_nonnull(strstr(res.last_error, "cannot write"));
    teardown(&p, mon);
}

/* Descriptors ride with their command: the peer receives them with its first bytes. */
static void
test_fd_passing(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    negotiate(&p);
    int pipefd[2];
    g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "fdname", "migrate");
    qmp_command_fds(mon, "getfd", args, &pipefd[1], 1, record, "a");
    close(pipefd[1]); /* the monitor holds its own copy until it is sent */
    int got = -1;
    char buf[4096];
    for (int i = 0; i < 200 && got < 0; i++) {
        g_main_context_iteration(NULL, FALSE);
        struct iovec iov = {buf, sizeof(buf) - 1};
        union {
            char c[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.c,
                            .msg_controllen = sizeof(control.c)};
        ssize_t n = recvmsg(p.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        g_assert_nonnull(strstr(buf, "\"getfd\""));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        g_assert_nonnull(cm);
        g_assert_cmpint(cm->cmsg_type, ==, SCM_RIGHTS);
        memcpy(&got, CMSG_DATA(cm), sizeof(int));
    }
    g_assert_cmpint(got, >=, 0);
    /* it is the pipe's write end: what goes in comes out of the read end */
    g_assert_cmpint(write(got, "x", 1), ==, 1);
    g_assert_cmpint(read(pipefd[0], buf, 1), ==, 1);
    g_assert_cmpint(buf[0], ==, 'x');
    close(got);
    close(pipefd[0]);
    teardown(&p, mon);
}

static JsonNode *fake_result;
static gboolean fake_done;

static void
keep_result(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    g_assert_no_error(error);
    g_clear_pointer(&fake_result, json_node_unref);
    fake_result = result ? json_node_copy(result) : NULL;
    fake_done = TRUE;
}

static void
wait_result(void)
{
    for (int i = 0; i < 5000 && !fake_done; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_true(fake_done);
    fake_done = FALSE;
}

/* "pipe:[INODE]" of descriptor FD of process PID (0: ours). */
static char *
fd_target(pid_t pid, int fd)
{
    g_autofree char *link = pid ? g_strdup_printf("/proc/%d/fd/%d", (int)pid, fd)
                                : g_strdup_printf("/proc/self/fd/%d", fd);
    return g_file_read_link(link, NULL);
}

/* Whether process PID holds a descriptor to TARGET. */
static gboolean
holds(pid_t pid, const char *target)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *t = fd_target(pid, (int)g_ascii_strtoll(e, NULL, 10));
        if (t && g_str_equal(t, target))
            return TRUE;
    }
    return FALSE;
}

static void
test_fds_to_fake_qemu(void)
{
    g_autofree char *fake =
        g_build_filename(g_getenv("DOMUS_BUILDDIR"), "tests", "fake", "fake-qemu", NULL);
    if (!g_getenv("DOMUS_BUILDDIR") || !g_file_test(fake, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("fake-qemu is not built");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("monfd-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "mon", NULL);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_fd(l, lfd, 3);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) proc =
        g_subprocess_launcher_spawn(l, &error, fake, "-name", "guest=ok", NULL);
    g_assert_no_error(error);
    pid_t pid = (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(proc), NULL, 10);
    int cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(cfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    memset(&res, 0, sizeof(res));
    struct qmp_callbacks cb = {.event = on_event, .closed = on_closed};
    struct qmp *mon = qmp_new(cfd, "fake", &cb, NULL, 5000);

    /* add-fd: the fake has the pipe's write end, under the number it answers */
    int p1[2], p2[2];
    g_assert_cmpint(pipe2(p1, O_CLOEXEC), ==, 0);
    g_assert_cmpint(pipe2(p2, O_CLOEXEC), ==, 0);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "opaque", "save-stream");
    qmp_command_fds(mon, "add-fd", args, &p1[1], 1, keep_result, NULL);
    wait_result();
    JsonObject *o = json_node_get_object(fake_result);
    int theirs = (int)json_object_get_int_member(o, "fd");
    g_autofree char *want = fd_target(0, p1[1]);
    g_autofree char *got = fd_target(pid, theirs);
    g_assert_cmpstr(got, ==, want);
    qmp_command(mon, "query-fdsets", NULL, keep_result, NULL);
    wait_result();
    JsonObject *set = json_array_get_object_element(json_node_get_array(fake_result), 0);
    JsonObject *entry = json_array_get_object_element(json_object_get_array_member(set, "fds"), 0);
    g_assert_cmpstr(json_object_get_string_member(entry, "opaque"), ==, "save-stream");

    /* getfd: held under its name until closefd */
    args = json_object_new();
    json_object_set_string_member(args, "fdname", "migrate");
    qmp_command_fds(mon, "getfd", args, &p2[1], 1, keep_result, NULL);
    wait_result();
    g_autofree char *second = fd_target(0, p2[1]);
    g_assert_true(holds(pid, second));
    args = json_object_new();
    json_object_set_string_member(args, "fdname", "migrate");
    qmp_command(mon, "closefd", args, keep_result, NULL);
    wait_result();
    g_assert_false(holds(pid, second));

    g_clear_pointer(&fake_result, json_node_unref);
    qmp_free(mon);
    g_subprocess_force_exit(proc);
    g_subprocess_wait(proc, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        close(p1[i]);
        close(p2[i]);
    }
    unlink(path);
    g_rmdir(dir);
}

static void
test_silent_monitor_times_out(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 200);
    qmp_command(mon, "cont", NULL, record, "a");
    negotiate(&p);
    g_autofree char *l = peer_read_line(&p);
    for (int i = 0; i < 4000 && !res.closed; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_nonnull(res.closed);
    g_assert_nonnull(strstr(res.closed, "did not answer 'cont'"));
    g_assert_cmpint(res.errors, ==, 1);
    teardown(&p, mon);
}

static void
test_peer_hangs_up(void)
{
    struct peer p;
    struct qmp *mon = setup(&p, 0);
    qmp_command(mon, "cont", NULL, record, "a");
    negotiate(&p);
    g_autofree char *l = peer_read_line(&p);
    shutdown(p.fd, SHUT_RDWR);
    for (int i = 0; i < 2000 && !res.closed; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_nonnull(res.closed);
    g_assert_cmpint(res.errors, ==, 1);
    teardown(&p, mon);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/out-of-order", test_out_of_order);
    g_test_add_func("/qmp/malformed-json", test_malformed_json);
    g_test_add_func("/qmp/timeout", test_silent_monitor_times_out);
    g_test_add_func("/qmp/hang-up", test_peer_hangs_up);
    g_test_add_func("/qmp/write-fails", test_write_fails);
    g_test_add_func("/qmp/fd-passing", test_fd_passing);
    g_test_add_func("/qmp/hostile-types", test_hostile_types);
    g_test_add_func("/qmp/single-value", test_single_value);
    g_test_add_func("/qmp/empty-document", test_empty_document);
    g_test_add_func("/qmp/invalid-json-leaks-nothing", test_invalid_json_leaks_nothing);
    g_test_add_func("/qmp/fds-to-fake-qemu", test_fds_to_fake_qemu);
    return g_test_run();
}
