/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-rpc: what a client can send the daemon. The input is a byte stream from a client:
 * framed by the session (lengths checked before buffering), each call's arguments decoded by
 * the daemon's procedure table exactly as dispatch decodes them, error replies and domain
 * handles decoded as libdomus decodes them. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "daemon/dispatch.h"
#include "rpc/session.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_fatal_criticals();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rpc_session s;
    rpc_session_init(&s, -1, 4096);
    rpc_session_feed(&s, data, size);
    struct rpc_frame f;
    GError *error = NULL;
    while (rpc_session_next_frame(&s, &f, &error)) {
        if (f.hdr.type == RPC_CALL) {
            /* the daemon's decoders for the procedure the frame names */
            if (!dispatch_decode_args(f.hdr.prog, f.hdr.proc, f.body, f.len, &error))
                g_clear_error(&error);
        } else if (f.hdr.type == RPC_REPLY && f.hdr.status == RPC_ERROR) {
            struct xdr_reader r;
            xdr_reader_init(&r, f.body, f.len);
            GError *e = rpc_get_error(&r);
            g_error_free(e);
        } else if (f.hdr.type == RPC_MESSAGE) {
            struct xdr_reader r;
            xdr_reader_init(&r, f.body, f.len);
            struct rpc_domain d = {0};
            rpc_get_domain(&r, &d);
            rpc_domain_clear(&d);
        }
        rpc_session_keepalive_frame(&s, &f);
        rpc_session_consume(&s, &f);
    }
    g_clear_error(&error);
    rpc_session_clear(&s);
    return 0;
}
