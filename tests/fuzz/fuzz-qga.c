/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-qga: what a guest agent (inside the guest: untrusted) can send. An agent client is
 * connected to a socket of ours and has sent its delimited sync; the input is its channel's
 * bytes, "@ID@" standing for the sync id the client chose (so the synchronized states are
 * reached too). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "qemu/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

static char *sock_path;
static int listen_fd = -1;

static void
setup(void)
{
    char *dir = g_dir_make_tmp("fuzz-qga-XXXXXX", NULL);
    sock_path = g_build_filename(dir, "qga.sock", NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 8) < 0)
        g_error("cannot listen on %s", sock_path);
    g_free(dir);
}

static void
on_reply(struct agent *ag, JsonNode *result, const GError *error, gpointer data)
{
    if (result)
        g_free(json_to_string(result, FALSE));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sock_path)
        setup();
    struct agent *ag = agent_new(sock_path, "fuzz", 60000);
    agent_command(ag, "guest-info", NULL, 0, on_reply, NULL);
    GError *error = NULL;
    if (!agent_command_json(ag, "{\"execute\":\"guest-get-time\"}", 5, on_reply, NULL, &error))
        g_clear_error(&error);
    /* the client connects and sends its sync: read it to learn the id */
    int peer = -1;
    char buf[4096];
    gint64 id = 0;
    for (int i = 0; i < 100 && id == 0; i++) {
        if (i > 0)
            g_main_context_iteration(NULL, FALSE);
        if (peer < 0)
            peer = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (peer < 0)
            continue;
        ssize_t n = recv(peer, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            const char *p = strstr(buf, "\"id\":");
            if (p)
                id = g_ascii_strtoll(p + 5, NULL, 10);
        }
    }
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autofree char *idtext = g_strdup_printf("%" G_GINT64_FORMAT, id);
    g_auto(GStrv) parts = g_strsplit(text, "@ID@", -1);
    g_autofree char *input = g_strjoinv(idtext, parts);
    gsize len = strlen(input);
    agent_feed(ag, input, len / 2);
    agent_feed(ag, input + len / 2, len - len / 2);
    agent_free(ag);
    /* what ends from idle callbacks runs now, or it piles up run after run */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    if (peer >= 0)
        close(peer);
    return 0;
}
