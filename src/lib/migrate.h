/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate (private to Domus, not part of libdomus's API): the destination's phases of a
 * migration, for a source daemon that drives a peer-to-peer migration itself; prefix
 * client_migrate_. PAIRS: migration parameters as FIELD, VALUE, … NULL under libvirt's
 * names (domus_domain_migrate's). */
#pragma once

#include "domus/domus.h"

/* Prepare on DCONN: the URI the source is to send to (new, may be NULL) and the destination's
 * cookie (new). */
gboolean client_migrate_prepare(domus_conn *dconn, const char *const *pairs, unsigned flags,
                                const uint8_t *cookie, gsize cookie_len, char **ret_uri,
                                uint8_t **ret_cookie, gsize *ret_cookie_len, GError **error);
/* Keeps DCONN (with keepalive on) alive while nothing is asked of it, as the source's QEMU
 * sends: answers the destination's pings and pings it, until WAKE_FD is readable (TRUE) or
 * the connection is lost (FALSE with ERROR). Messages that come meanwhile are dropped. */
gboolean client_migrate_watch(domus_conn *dconn, int wake_fd, GError **error);
/* Finish on DCONN: the domain there, or NULL with ERROR. */
domus_domain *client_migrate_finish(domus_conn *dconn, const char *const *pairs, unsigned flags,
                                    gboolean cancelled, const uint8_t *cookie, gsize cookie_len,
                                    GError **error);
/* PrepareTunnel on DCONN: the destination's cookie (new) and the stream the source's QEMU
 * stream goes into (send, then domus_stream_finish; it owns DCONN until freed). */
gboolean client_migrate_prepare_tunnel(domus_conn *dconn, const char *const *pairs, unsigned flags,
                                       const uint8_t *cookie, gsize cookie_len,
                                       uint8_t **ret_cookie, gsize *ret_cookie_len,
                                       domus_stream **ret_stream, GError **error);
