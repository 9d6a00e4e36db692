/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ports: a bind test per candidate port. */
#include "util/ports.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/err.h"

int
ports_find_free(int origin, const char *host, unsigned lo, unsigned hi, GHashTable *skip,
                GError **error)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
    int rc = getaddrinfo(host, "0", &hints, &res);
    if (rc != 0) {
        err_set(error, origin, ERR_OPERATION_FAILED, "cannot resolve '%s': %s", host,
                gai_strerror(rc));
        return -1;
    }
    for (unsigned port = lo; port <= hi && port <= 65535; port++) {
        if (skip && g_hash_table_contains(skip, GINT_TO_POINTER(port)))
            continue;
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_storage ss;
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        if (ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        gboolean ok = bind(fd, (struct sockaddr *)&ss, res->ai_addrlen) == 0;
        int err = errno;
        close(fd);
        if (ok) {
            freeaddrinfo(res);
            return (int)port;
        }
        if (err != EADDRINUSE) {
            freeaddrinfo(res);
            err_set(error, origin, ERR_OPERATION_FAILED, "cannot listen on '%s': %s", host,
                    g_strerror(err));
            return -1;
        }
    }
    freeaddrinfo(res);
    err_set(error, origin, ERR_OPERATION_FAILED, "no free port on '%s' between %u and %u", host, lo,
            hi);
    return -1;
}
