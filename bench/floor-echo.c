/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* floor-echo: a measuring instrument for bench/call-floor, not part of the product. Listens on
 * the unix socket named by argv[1] and answers every libvirt RPC call frame with an OK reply of
 * 8 zero bytes (the shape of getLibVersion's reply), with the fewest syscalls a blocking server
 * can use (poll, recv, sendmsg). Its CPU time per call is what the kernel and the machine charge
 * a server for one request/reply round trip: no daemon can spend less. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
int main(int argc, char **argv)
{
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
    unlink(argv[1]);
    if (bind(l, (void *)&a, sizeof(a)) || listen(l, 4)) return 1;
    printf("ready\n"); fflush(stdout);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) return 1;
        unsigned char buf[65536];
        size_t have = 0;
        for (;;) {
            struct pollfd p = { .fd = c, .events = POLLIN };
            if (poll(&p, 1, -1) < 0) return 1;
            ssize_t n = recv(c, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
            if (n <= 0) break;
            have += n;
            while (have >= 4) {
                uint32_t len; memcpy(&len, buf, 4); len = ntohl(len);
                if (len < 28 || len > sizeof(buf)) return 1;
                if (have < len) break;
                unsigned char out[36];
                memcpy(out, buf, 28);
                uint32_t v = htonl(36); memcpy(out, &v, 4);
                v = htonl(1); memcpy(out + 16, &v, 4); /* type reply */
                memset(out + 24, 0, 12); /* status ok, 8 bytes */
                struct iovec io = { out, sizeof(out) };
                struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
                sendmsg(c, &m, MSG_NOSIGNAL);
                memmove(buf, buf + len, have - len);
                have -= len;
            }
        }
        close(c);
    }
}
