/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-qmp: what QEMU's monitor can send. A monitor with commands queued (some still waiting
 * for the greeting, a passthrough one among them) is fed the input as if read from its socket;
 * replies, errors, events and garbage reach the same code the daemon runs. */
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "qemu/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

static void
on_reply(struct qmp *mon, JsonNode *result, const GError *error, gpointer data)
{
    if (result)
        g_free(json_to_string(result, FALSE));
}

static void
on_event(struct qmp *mon, const char *event, JsonObject *data, gpointer user)
{
    if (data)
        (void)json_object_get_size(data);
}

static void
on_closed(struct qmp *mon, const char *reason, gpointer user)
{
}

static int peer[2] = {-1, -1};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one socket pair for the whole run: what the monitor writes is never read, and a full
     * buffer only makes its writes wait */
    if (peer[0] < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, peer) < 0)
        return 0;
    struct qmp_callbacks cb = {.event = on_event, .closed = on_closed};
    struct qmp *mon = qmp_new(dup(peer[0]), "fuzz", &cb, NULL, 60000);
    qmp_command(mon, "query-status", NULL, on_reply, NULL);
    qmp_command_json(mon, "{\"execute\":\"query-name\",\"id\":\"mine\"}", on_reply, NULL, NULL);
    qmp_command(mon, "cont", NULL, on_reply, NULL);
    /* in pieces, as reads would deliver it */
    gsize half = size / 2;
    qmp_feed(mon, (const char *)data, half);
    qmp_feed(mon, (const char *)data + half, size - half);
    qmp_free(mon);
    /* failures are delivered from idle callbacks: run them, or they pile up run after run */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    /* drain what it wrote so the buffer never fills */
    char sink[65536];
    while (recv(peer[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
    return 0;
}
