/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/rpc: XDR encoding as libvirt's wire shows it, limits checked before
 * allocation, error structs, and random input that must never crash the decoder. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/protocol.h"
#include "rpc/session.h"
#include "util/err.h"

static void
test_encode_bytes(void)
{
    /* the CONNECT_OPEN body from the wire trace: "qemu:///system", flags 0 */
    g_autoptr(GByteArray) b = g_byte_array_new();
    xdr_put_opt_string(b, "qemu:///system");
    xdr_put_u32(b, 0);
    static const uint8_t expect[] = {0,   0,   0,   1,   0,   0,   0,   14,  'q', 'e',
                                     'm', 'u', ':', '/', '/', '/', 's', 'y', 's', 't',
                                     'e', 'm', 0,   0,   0,   0,   0,   0};
    g_assert_cmpmem(b->data, b->len, expect, sizeof(expect));
    /* char arrays take 4 bytes per character: "none\0" */
    g_byte_array_set_size(b, 0);
    xdr_put_char_array(b, "none", 5);
    g_assert_cmpint(b->len, ==, 4 + 5 * 4);
    g_assert_cmpint(b->data[3], ==, 5);
    g_assert_cmpint(b->data[7], ==, 'n');
}

static void
test_header_roundtrip(void)
{
    struct rpc_header h = {RPC_PROGRAM_REMOTE, 1, PROC_DOMAIN_LOOKUP_BY_NAME, RPC_REPLY, 6, 0};
    g_autoptr(GByteArray) b = g_byte_array_new();
    rpc_message_begin(b, &h);
    xdr_put_string(b, "rpct-vm1");
    rpc_message_end(b);
    g_assert_cmpint(b->len, ==, 40);
    g_assert_cmpint(b->data[3], ==, 40);
    struct rpc_header got;
    rpc_header_decode(b->data + 4, &got);
    g_assert_cmpint(got.prog, ==, RPC_PROGRAM_REMOTE);
    g_assert_cmpint(got.proc, ==, 23);
    g_assert_cmpint(got.type, ==, RPC_REPLY);
    g_assert_cmpint(got.serial, ==, 6);
}

static void
test_decode_limits(void)
{
    struct xdr_reader r;
    /* a string claiming 4 GiB in an 8-byte message */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xf0, 'a', 'b', 'c', 'd'};
    xdr_reader_init(&r, huge, sizeof(huge));
    g_assert_null(xdr_get_string(&r, RPC_STRING_MAX));
    g_assert_false(xdr_reader_finish(&r, NULL));
    /* an array count beyond the limit is refused before anything is allocated */
    static const uint8_t count[] = {0, 0, 0x40, 0x01};
    xdr_reader_init(&r, count, sizeof(count));
    xdr_get_count(&r, RPC_DOMAIN_LIST_MAX, 4);
    g_assert_true(r.failed);
    /* a count within the limit but beyond the bytes present */
    static const uint8_t few[] = {0, 0, 0, 3, 0, 0, 0, 1};
    xdr_reader_init(&r, few, sizeof(few));
    xdr_get_count(&r, RPC_DOMAIN_LIST_MAX, 4);
    g_assert_true(r.failed);
    /* a NUL inside a string */
    static const uint8_t nul[] = {0, 0, 0, 3, 'a', 0, 'b', 0};
    xdr_reader_init(&r, nul, sizeof(nul));
    g_assert_null(xdr_get_string(&r, RPC_STRING_MAX));
    /* trailing bytes */
    static const uint8_t trail[] = {0, 0, 0, 1, 0, 0, 0, 2};
    xdr_reader_init(&r, trail, sizeof(trail));
    xdr_get_u32(&r);
    g_autoptr(GError) err = NULL;
    g_assert_false(xdr_reader_finish(&r, &err));
    g_assert_error(err, DOMUS_ERROR, ERR_RPC);
    /* variable opaque data: padded to 4, refused past its limit or the bytes there */
    static const uint8_t opaque[] = {0, 0, 0, 3, 0xde, 0xad, 0xbe, 0};
    gsize len = 0;
    xdr_reader_init(&r, opaque, sizeof(opaque));
    g_autofree uint8_t *got = xdr_get_opaque(&r, 16, &len);
    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpmem(got, 3, opaque + 4, 3);
    g_assert_true(xdr_reader_finish(&r, NULL));
    xdr_reader_init(&r, opaque, sizeof(opaque));
    g_assert_null(xdr_get_opaque(&r, 2, &len));
    g_assert_true(r.failed && len == 0);
    static const uint8_t short_opaque[] = {0, 0, 0, 9, 1, 2, 3, 4};
    xdr_reader_init(&r, short_opaque, sizeof(short_opaque));
    g_assert_null(xdr_get_opaque(&r, 16, &len));
    g_assert_true(r.failed);
}

static void
test_error_roundtrip(void)
{
    g_autoptr(GError) in = NULL;
    err_set(&in, ERR_FROM_DOMAIN, ERR_NO_DOMAIN, "no domain with matching name '%s'", "x");
    g_autoptr(GByteArray) b = g_byte_array_new();
    rpc_put_error(b, in);
    struct xdr_reader r;
    xdr_reader_init(&r, b->data, b->len);
    g_autoptr(GError) out = rpc_get_error(&r);
    g_assert_error(out, DOMUS_ERROR, ERR_NO_DOMAIN);
    g_assert_cmpint(err_origin(out), ==, ERR_FROM_DOMAIN);
    g_assert_cmpstr(out->message, ==, "Domain not found: no domain with matching name 'x'");
}

static void
test_random_input(void)
{
    GRand *rand = g_rand_new_with_seed(42);
    for (int i = 0; i < 20000; i++) {
        guint8 buf[64];
        guint len = g_rand_int_range(rand, 0, sizeof(buf));
        for (guint j = 0; j < len; j++)
            buf[j] = (guint8)g_rand_int(rand);
        struct xdr_reader r;
        xdr_reader_init(&r, buf, len);
        struct rpc_domain d = {0};
        rpc_get_domain(&r, &d);
        g_free(xdr_get_opt_string(&r, 16));
        xdr_get_count(&r, 100, 4);
        g_free(xdr_get_char_array(&r, 8));
        rpc_domain_clear(&d);
        GError *e = rpc_get_error(&r);
        g_error_free(e);
    }
    g_rand_free(rand);
}

/* A CALL_WITH_FDS as libvirt's client sends it: the frame (count, then arguments), then one
 * carrier byte per descriptor with the descriptor attached */
static void
send_call_with_fds(int sock, guint nfds, const int *fds, guint announce)
{
    GByteArray *msg = g_byte_array_new();
    struct rpc_header hdr = {
        RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, 249, RPC_CALL_WITH_FDS, 5, RPC_OK};
    rpc_message_begin(msg, &hdr);
    xdr_put_u32(msg, announce);
    xdr_put_u32(msg, 0xabcd);
    rpc_message_end(msg);
    g_assert_cmpint(write(sock, msg->data, msg->len), ==, (gssize)msg->len);
    g_byte_array_unref(msg);
    for (guint i = 0; i < nfds; i++) {
        char byte = 0;
        struct iovec iov = {&byte, 1};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control = {0};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fds[i], sizeof(int));
        g_assert_cmpint(sendmsg(sock, &mh, 0), ==, 1);
    }
}

static gboolean
read_frame(struct rpc_session *s, struct rpc_frame *f, GError **error)
{
    for (int i = 0; i < 100; i++) {
        if (rpc_session_next_frame(s, f, error))
            return TRUE;
        if (*error)
            return FALSE;
        gboolean eof;
        if (rpc_session_recv(s, 65536, &eof) <= 0 && (eof || errno != EAGAIN))
            return FALSE;
    }
    return FALSE;
}

static void
test_call_with_fds(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    struct rpc_session s;
    rpc_session_init(&s, sv[1], 0);
    rpc_session_accept_fds(&s);
    int fds[2] = {open("/dev/null", O_RDONLY | O_CLOEXEC), open("/dev/null", O_RDONLY | O_CLOEXEC)};
    send_call_with_fds(sv[0], 2, fds, 2);
    /* a plain call after it: the carrier bytes are not taken for its start */
    send_call_with_fds(sv[0], 0, NULL, 0);
    struct rpc_frame f;
    g_autoptr(GError) error = NULL;
    g_assert_true(read_frame(&s, &f, &error));
    g_assert_cmpuint(f.hdr.type, ==, RPC_CALL_WITH_FDS);
    g_assert_cmpuint(f.nfds, ==, 2);
    g_assert_cmpuint(f.len, ==, 4); /* the arguments, after the count */
    for (guint i = 0; i < f.nfds; i++) {
        g_assert_cmpint(fcntl(f.fds[i], F_GETFD), >=, 0);
        close(f.fds[i]);
    }
    rpc_session_consume(&s, &f);
    g_assert_true(read_frame(&s, &f, &error));
    g_assert_cmpuint(f.nfds, ==, 0);
    rpc_session_consume(&s, &f);
    /* more than libvirt allows: refused */
    send_call_with_fds(sv[0], 0, NULL, RPC_FDS_MAX + 1);
    g_assert_false(read_frame(&s, &f, &error));
    g_assert_nonnull(error);
    rpc_session_clear(&s);
    close(fds[0]);
    close(fds[1]);
    close(sv[0]);
    close(sv[1]);
}

static void
test_call_with_fds_not_accepted(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    struct rpc_session s;
    rpc_session_init(&s, sv[1], 0); /* no accept_fds: as over TCP */
    send_call_with_fds(sv[0], 0, NULL, 1);
    struct rpc_frame f;
    g_autoptr(GError) error = NULL;
    g_assert_false(read_frame(&s, &f, &error));
    g_assert_nonnull(error);
    rpc_session_clear(&s);
    close(sv[0]);
    close(sv[1]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/encode-bytes", test_encode_bytes);
    g_test_add_func("/rpc/header", test_header_roundtrip);
    g_test_add_func("/rpc/decode-limits", test_decode_limits);
    g_test_add_func("/rpc/error", test_error_roundtrip);
    g_test_add_func("/rpc/random-input", test_random_input);
    g_test_add_func("/rpc/call-with-fds", test_call_with_fds);
    g_test_add_func("/rpc/call-with-fds-not-accepted", test_call_with_fds_not_accepted);
    return g_test_run();
}
