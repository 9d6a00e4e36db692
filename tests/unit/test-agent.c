/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the guest agent client against a scripted agent on a listening unix socket
 * in a temp dir: the delimited sync, replies and errors, one command in flight, silence,
 * reconnection, commands that never answer, passthrough JSON, malformed JSON. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu/agent.h"
#include "util/err.h"

#define TIMEOUT_MS 200

struct peer {
    char *dir;
    char *path;
    int listen_fd;
    int fd; /* the accepted connection, or -1 */
    GString *in;
};

struct results {
    int calls;
    int errors;
    int last_code;
    int last_origin;
    char *last_error;
    char *last_result; /* the "return" member as JSON, "null" when there was none */
    char *order;
};

static struct results res;

static void
record(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    const char *tag = data;
    res.calls++;
    g_clear_pointer(&res.last_error, g_free);
    g_clear_pointer(&res.last_result, g_free);
    if (error) {
        res.errors++;
        res.last_code = err_code(error);
        res.last_origin = err_origin(error);
        res.last_error = g_strdup(error->message);
    } else {
        res.last_code = 0;
        res.last_result = result ? json_to_string(result, FALSE) : g_strdup("null");
    }
    char *o = g_strconcat(res.order ? res.order : "", tag ? tag : "", NULL);
    g_free(res.order);
    res.order = o;
}

static void
spin(void)
{
    g_main_context_iteration(NULL, FALSE);
    g_usleep(500);
}

/* Runs the loop until N callbacks came (at most 3 s). */
static void
wait_calls(int n)
{
    gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (res.calls < n && g_get_monotonic_time() < deadline)
        spin();
    g_assert_cmpint(res.calls, ==, n);
}

static void
peer_listen(struct peer *p)
{
    memset(&res, 0, sizeof(res));
    p->dir = g_dir_make_tmp("test-agent-XXXXXX", NULL);
    g_assert_nonnull(p->dir);
    p->path = g_build_filename(p->dir, "agent.sock", NULL);
    p->in = g_string_new(NULL);
    p->fd = -1;
    p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    g_assert_cmpint(p->listen_fd, >=, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_assert_cmpuint(strlen(p->path), <, sizeof(sa.sun_path));
    memcpy(sa.sun_path, p->path, strlen(p->path) + 1);
    g_assert_cmpint(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(p->listen_fd, 4), ==, 0);
}

static void
peer_hang_up(struct peer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    g_string_truncate(p->in, 0);
}

/* Waits for the agent client to connect (it does so from the main loop). */
static void
peer_accept(struct peer *p)
{
    peer_hang_up(p);
    gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (p->fd < 0) {
        p->fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (p->fd < 0) {
            g_assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            spin();
        }
    }
}

/* Reads whatever arrived. Returns FALSE at EOF. */
static gboolean
peer_poll(struct peer *p)
{
    char buf[4096];
    ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0)
        g_string_append_len(p->in, buf, n);
    return n != 0;
}

/* The next line the client sent (raw, 0xFF included), or NULL at EOF. */
static char *
peer_read_line(struct peer *p)
{
    gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    for (;;) {
        char *nl = memchr(p->in->str, '\n', p->in->len);
        if (nl) {
            char *line = g_strndup(p->in->str, nl - p->in->str);
            g_string_erase(p->in, 0, nl - p->in->str + 1);
            return line;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        spin();
        if (!peer_poll(p))
            return NULL;
    }
}

/* Asserts that the client sends nothing for MS milliseconds. */
static void
peer_expect_silence(struct peer *p, int ms)
{
    gint64 until = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < until) {
        spin();
        peer_poll(p);
        g_assert_cmpuint(p->in->len, ==, 0);
    }
}

static void
peer_send(struct peer *p, const char *text)
{
    gsize len = strlen(text);
    g_assert_cmpint(send(p->fd, text, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* The parsed JSON object of a command line. */
static JsonObject *
parse_object(const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(parser, line, -1, NULL));
    g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
    return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static char *
line_execute(const char *line)
{
    g_autoptr(JsonObject) obj = parse_object(line);
    return g_strdup(json_object_get_string_member(obj, "execute"));
}

/* Reads the client's sync (0xFF, then guest-sync-delimited) and returns its id. */
static gint64
peer_read_sync(struct peer *p)
{
    g_autofree char *line = peer_read_line(p);
    g_assert_nonnull(line);
    g_assert_cmpint((guchar)line[0], ==, 0xFF);
    g_autoptr(JsonObject) obj = parse_object(line + 1);
    g_assert_cmpstr(json_object_get_string_member(obj, "execute"), ==, "guest-sync-delimited");
    return json_object_get_int_member(json_object_get_object_member(obj, "arguments"), "id");
}

/* Answers a sync as the agent does: 0xFF before the reply. */
static void
peer_sync(struct peer *p)
{
    gint64 id = peer_read_sync(p);
    g_autofree char *reply = g_strdup_printf("\xff{\"return\": %" G_GINT64_FORMAT "}\n", id);
    peer_send(p, reply);
}

/* Reads the next command and checks its name. */
static void
peer_expect(struct peer *p, const char *cmd)
{
    g_autofree char *line = peer_read_line(p);
    g_assert_nonnull(line);
    g_autofree char *exec = line_execute(line);
    g_assert_cmpstr(exec, ==, cmd);
}

static void
peer_free(struct peer *p, struct agent *ag)
{
    agent_free(ag);
    peer_hang_up(p);
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    unlink(p->path);
    rmdir(p->dir);
    g_free(p->path);
    g_free(p->dir);
    g_string_free(p->in, TRUE);
    g_free(res.last_error);
    g_free(res.last_result);
    g_free(res.order);
}

static void
test_sync_and_command(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", 0);
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "x", 1);
    agent_command(ag, "guest-info", args, 0, record, "a");
    peer_accept(&p);
    gint64 id = peer_read_sync(&p);
    /* garbage and a stale reply before the delimiter, a stale sync reply after it, then ours
     * split in two writes and ending with \r\n */
    peer_send(&p, "{\"return\": {}}\njunk{\"ret");
    g_autofree char *stale = g_strdup_printf("\xff{\"return\": %" G_GINT64_FORMAT "}\n", id + 1);
    peer_send(&p, stale);
    g_autofree char *reply = g_strdup_printf("\xff{\"return\": %" G_GINT64_FORMAT "}\r\n", id);
    peer_send(&p, "garbage");
    peer_send(&p, reply);
    g_autofree char *line = peer_read_line(&p);
    g_autoptr(JsonObject) obj = parse_object(line);
    g_assert_cmpstr(json_object_get_string_member(obj, "execute"), ==, "guest-info");
    g_assert_cmpint(
        json_object_get_int_member(json_object_get_object_member(obj, "arguments"), "x"), ==, 1);
    g_assert_cmpint(res.calls, ==, 0);
    peer_send(&p, "{\"return\": {\"version\": ");
    peer_expect_silence(&p, 5);
    g_assert_cmpint(res.calls, ==, 0);
    peer_send(&p, "\"8.2.0\"}}\r\n");
    wait_calls(1);
    g_assert_cmpint(res.errors, ==, 0);
    g_assert_cmpstr(res.last_result, ==, "{\"version\":\"8.2.0\"}");
    peer_free(&p, ag);
}

static void
test_error_reply(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", 0);
    agent_command(ag, "guest-fsfreeze-freeze", NULL, 0, record, "a");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-fsfreeze-freeze");
    peer_send(&p, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"frozen already\"}}\n");
    wait_calls(1);
    g_assert_cmpint(res.last_code, ==, ERR_INTERNAL_ERROR);
    g_assert_cmpint(res.last_origin, ==, ERR_FROM_QEMU);
    g_assert_cmpstr(res.last_error, ==,
                    "unable to execute QEMU agent command 'guest-fsfreeze-freeze': frozen already");
    /* an error reply leaves the stream in step: no resync for the next command */
    agent_command(ag, "guest-ping", NULL, 0, record, "b");
    peer_expect(&p, "guest-ping");
    peer_send(&p, "{\"return\": {}}\n");
    wait_calls(2);
    g_assert_cmpstr(res.last_result, ==, "{}");
    peer_free(&p, ag);
}

static void
test_one_in_flight(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", 0);
    agent_command(ag, "guest-get-time", NULL, 0, record, "a");
    agent_command(ag, "guest-get-host-name", NULL, 0, record, "b");
    agent_command(ag, "guest-get-users", NULL, 0, record, "c");
    peer_accept(&p);
    peer_sync(&p);
    const char *cmds[] = {"guest-get-time", "guest-get-host-name", "guest-get-users"};
    for (int i = 0; i < 3; i++) {
        peer_expect(&p, cmds[i]);
        /* the next command waits for this one's reply */
        peer_expect_silence(&p, 30);
        g_autofree char *reply = g_strdup_printf("{\"return\": %d}\n", i);
        peer_send(&p, reply);
        wait_calls(i + 1);
        g_autofree char *want = g_strdup_printf("%d", i);
        g_assert_cmpstr(res.last_result, ==, want);
    }
    g_assert_cmpstr(res.order, ==, "abc");
    peer_free(&p, ag);
}

static void
test_silent_agent(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", TIMEOUT_MS);
    /* connected, but no agent in the guest: the sync times out, failing the whole queue */
    agent_command(ag, "guest-info", NULL, 0, record, "a");
    agent_command(ag, "guest-ping", NULL, 0, record, "b");
    peer_accept(&p);
    peer_read_sync(&p);
    wait_calls(2);
    g_assert_cmpint(res.last_code, ==, ERR_AGENT_UNRESPONSIVE);
    g_assert_cmpint(res.last_origin, ==, ERR_FROM_QEMU);
    g_assert_nonnull(strstr(res.last_error, "'guest-sync-delimited' within 200 ms"));
    g_assert_null(peer_read_line(&p)); /* the client hung up */

    /* a new connection and sync; now the command itself goes unanswered */
    agent_command(ag, "guest-info", NULL, 0, record, "c");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-info");
    wait_calls(3);
    g_assert_cmpint(res.last_code, ==, ERR_AGENT_UNRESPONSIVE);
    g_assert_cmpstr(res.last_error, ==, "guest agent did not answer 'guest-info' within 200 ms");
    g_assert_null(peer_read_line(&p));

    /* the agent came back: reconnect, resync, and it works */
    agent_command(ag, "guest-info", NULL, 0, record, "d");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-info");
    peer_send(&p, "{\"return\": {\"version\": \"8.2.0\"}}\n");
    wait_calls(4);
    g_assert_cmpint(res.errors, ==, 3);
    g_assert_cmpstr(res.order, ==, "abcd");
    peer_free(&p, ag);
}

static void
test_no_socket(void)
{
    struct peer p;
    peer_listen(&p);
    g_autofree char *missing = g_build_filename(p.dir, "missing.sock", NULL);
    struct agent *ag = agent_new(missing, "test", 0);
    agent_command(ag, "guest-info", NULL, 0, record, "a");
    /* never from inside agent_command */
    g_assert_cmpint(res.calls, ==, 0);
    wait_calls(1);
    g_assert_cmpint(res.last_code, ==, ERR_AGENT_UNRESPONSIVE);
    g_assert_nonnull(strstr(res.last_error, "QEMU guest agent is not connected"));
    g_assert_nonnull(strstr(res.last_error, "No such file"));
    agent_free(ag);

    /* a socket file nobody listens on: connection refused */
    close(p.listen_fd);
    p.listen_fd = -1;
    ag = agent_new(p.path, "test", 0);
    agent_command(ag, "guest-info", NULL, 0, record, "b");
    wait_calls(2);
    g_assert_cmpint(res.last_code, ==, ERR_AGENT_UNRESPONSIVE);
    g_assert_nonnull(strstr(res.last_error, "refused"));
    peer_free(&p, ag);
}

static void
test_shutdown_no_reply(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", TIMEOUT_MS);
    JsonObject *args = json_object_new();
    json_object_set_string_member(args, "mode", "powerdown");
    agent_command(ag, "guest-shutdown", args, 0, record, "a");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-shutdown");
    /* silence is success, after the grace period (the timeout, here shorter than 1 s) */
    gint64 t0 = g_get_monotonic_time();
    wait_calls(1);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, (TIMEOUT_MS - 20) * 1000);
    g_assert_cmpint(res.errors, ==, 0);
    g_assert_cmpstr(res.last_result, ==, "null");

    /* the next command resyncs (a late reply would be skipped); an error reply is reported */
    agent_command(ag, "guest-suspend-ram", NULL, 0, record, "b");
    peer_sync(&p);
    peer_expect(&p, "guest-suspend-ram");
    peer_send(&p, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"not supported\"}}\n");
    wait_calls(2);
    g_assert_cmpint(res.last_code, ==, ERR_INTERNAL_ERROR);

    /* the guest going away right after the command is success too */
    agent_command(ag, "guest-shutdown", NULL, 0, record, "c");
    peer_expect(&p, "guest-shutdown");
    peer_hang_up(&p);
    wait_calls(3);
    g_assert_cmpint(res.errors, ==, 1);
    peer_free(&p, ag);
}

/* guest-suspend-*: an error within the window fails it, agent_settle() (QEMU's SUSPEND came)
 * ends it at once, and the commands behind it wait meanwhile */
static void
test_settled(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", TIMEOUT_MS);
    /* an error several times later than the default grace is still its answer */
    agent_command_settled(ag, "guest-suspend-disk", 10000, record, "a");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-suspend-disk");
    peer_expect_silence(&p, 3 * TIMEOUT_MS);
    g_assert_cmpint(res.calls, ==, 0);
    peer_send(&p, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no swap\"}}\n");
    wait_calls(1);
    g_assert_cmpint(res.last_code, ==, ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(res.last_error, "no swap"));

    /* settled early; the command queued behind it goes only then, after a new sync */
    agent_command_settled(ag, "guest-suspend-ram", 10000, record, "b");
    agent_command(ag, "guest-ping", NULL, 0, record, "c");
    peer_expect(&p, "guest-suspend-ram");
    peer_expect_silence(&p, 2 * TIMEOUT_MS);
    g_assert_cmpint(res.calls, ==, 1);
    agent_settle(ag);
    g_assert_cmpint(res.calls, ==, 2);
    g_assert_cmpint(res.errors, ==, 1);
    g_assert_cmpstr(res.last_result, ==, "null");
    peer_sync(&p);
    peer_expect(&p, "guest-ping");
    peer_send(&p, "{\"return\": {}}\n");
    wait_calls(3);
    g_assert_cmpstr(res.order, ==, "abc");

    /* nothing in flight: a settle does nothing; silence for the window is success */
    agent_settle(ag);
    agent_command_settled(ag, "guest-suspend-ram", 2 * TIMEOUT_MS, record, "d");
    peer_expect(&p, "guest-suspend-ram");
    gint64 t0 = g_get_monotonic_time();
    wait_calls(4);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, (2 * TIMEOUT_MS - 20) * 1000);
    g_assert_cmpint(res.errors, ==, 1);
    peer_free(&p, ag);
}

static void
test_passthrough(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", 0);
    g_autoptr(GError) err = NULL;
    g_assert_true(agent_command_json(ag, "{\"execute\": \"guest-get-time\"}", AGENT_TIMEOUT_DEFAULT,
                                     record, "a", &err));
    g_assert_no_error(err);
    peer_accept(&p);
    peer_sync(&p);
    g_autofree char *line = peer_read_line(&p);
    g_assert_cmpstr(line, ==, "{\"execute\":\"guest-get-time\"}");
    peer_send(&p, "{\"return\": 1700000000000000000}\n");
    wait_calls(1);
    g_assert_cmpstr(res.last_result, ==, "1700000000000000000");

    /* block for ever, with arguments kept as given */
    g_assert_true(
        agent_command_json(ag, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":12}}",
                           AGENT_TIMEOUT_BLOCK, record, "b", &err));
    g_autofree char *line2 = peer_read_line(&p);
    g_assert_cmpstr(line2, ==, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":12}}");
    peer_send(&p, "{\"return\": {\"exited\": false}}\n");
    wait_calls(2);

    /* no wait: success once written; the next command resyncs past the reply */
    g_assert_true(agent_command_json(ag, "{\"execute\":\"guest-fstrim\"}", AGENT_TIMEOUT_NOWAIT,
                                     record, "c", &err));
    peer_expect(&p, "guest-fstrim");
    wait_calls(3);
    g_assert_cmpstr(res.last_result, ==, "null");
    peer_send(&p, "{\"return\": {\"paths\": []}}\n");
    g_assert_true(agent_command_json(ag, "{\"execute\":\"guest-ping\"}", 1, record, "d", &err));
    peer_sync(&p);
    peer_expect(&p, "guest-ping");
    peer_send(&p, "{\"return\": {}}\n");
    wait_calls(4);
    g_assert_cmpint(res.errors, ==, 0);

    /* rejected at once, no callback */
    g_assert_false(agent_command_json(ag, "{\"execute\":", -1, record, "x", &err));
    g_assert_error(err, DOMUS_ERROR, ERR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_false(agent_command_json(ag, "[1]", -1, record, "x", &err));
    g_assert_error(err, DOMUS_ERROR, ERR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_false(agent_command_json(ag, "{\"arguments\":{}}", -1, record, "x", &err));
    g_assert_error(err, DOMUS_ERROR, ERR_INVALID_ARG);
    g_clear_error(&err);
    g_assert_false(agent_command_json(ag, "{\"execute\":\"guest-ping\"}", -3, record, "x", &err));
    g_assert_error(err, DOMUS_ERROR, ERR_INVALID_ARG);
    peer_expect_silence(&p, 10);
    g_assert_cmpint(res.calls, ==, 4);
    peer_free(&p, ag);
}

static void
test_malformed_json(void)
{
    struct peer p;
    peer_listen(&p);
    struct agent *ag = agent_new(p.path, "test", 0);
    agent_command(ag, "guest-info", NULL, 0, record, "a");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-info");
    peer_send(&p, "{\"return\": {\"version\": \n");
    wait_calls(1);
    g_assert_cmpint(res.last_code, ==, ERR_AGENT_UNRESPONSIVE);
    g_assert_nonnull(strstr(res.last_error, "malformed JSON"));
    g_assert_null(peer_read_line(&p)); /* dropped */
    agent_command(ag, "guest-info", NULL, 0, record, "b");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-info");
    peer_send(&p, "{\"return\": {}}\n");
    wait_calls(2);
    g_assert_cmpint(res.errors, ==, 1);
    peer_free(&p, ag);
}

static struct agent *free_me;

static void
free_in_callback(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    record(ag, result, error, data);
    agent_free(free_me);
    free_me = NULL;
}

static void
test_free(void)
{
    struct peer p;
    peer_listen(&p);
    /* freeing fails the command in flight and the queued ones */
    struct agent *ag = agent_new(p.path, "test", 0);
    agent_command(ag, "guest-info", NULL, 0, record, "a");
    agent_command(ag, "guest-ping", NULL, 0, record, "b");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-info");
    agent_free(ag);
    g_assert_cmpint(res.calls, ==, 2);
    g_assert_cmpint(res.last_code, ==, ERR_AGENT_UNRESPONSIVE);
    g_assert_cmpstr(res.order, ==, "ab");

    /* and it is safe from within a reply callback */
    free_me = agent_new(p.path, "test", 0);
    agent_command(free_me, "guest-info", NULL, 0, free_in_callback, "c");
    agent_command(free_me, "guest-ping", NULL, 0, record, "d");
    peer_accept(&p);
    peer_sync(&p);
    peer_expect(&p, "guest-info");
    peer_send(&p, "{\"return\": {}}\n{\"return\": {}}\n");
    wait_calls(4);
    g_assert_null(free_me);
    g_assert_cmpstr(res.order, ==, "abcd");
    g_assert_cmpint(res.errors, ==, 3);
    peer_expect_silence(&p, 10);
    peer_free(&p, NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/agent/sync-and-command", test_sync_and_command);
    g_test_add_func("/agent/error-reply", test_error_reply);
    g_test_add_func("/agent/one-in-flight", test_one_in_flight);
    g_test_add_func("/agent/silent-agent", test_silent_agent);
    g_test_add_func("/agent/no-socket", test_no_socket);
    g_test_add_func("/agent/shutdown-no-reply", test_shutdown_no_reply);
    g_test_add_func("/agent/settled", test_settled);
    g_test_add_func("/agent/passthrough", test_passthrough);
    g_test_add_func("/agent/malformed-json", test_malformed_json);
    g_test_add_func("/agent/free", test_free);
    return g_test_run();
}
