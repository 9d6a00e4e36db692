# SPDX-License-Identifier: LGPL-2.1-or-later
"""A raw libvirt remote-protocol client for abuse tests (framing, XDR by hand)."""
import socket
import struct

PROG = 0x20008086
QEMU_PROG = 0x20008087
KEEPALIVE_PROG = 0x6B656570

CALL, REPLY, MESSAGE, STREAM, CALL_WITH_FDS, REPLY_WITH_FDS, STREAM_HOLE = range(7)
OK, ERROR, CONTINUE = range(3)


def frame(proc, serial, body=b"", prog=PROG, typ=0, status=0, vers=1):
    return struct.pack(">IIIIIII", 28 + len(body), prog, vers, proc, typ, serial, status) + body


def xdr_u32(v):
    return struct.pack(">I", v)


def xdr_i32(v):
    return struct.pack(">i", v)


def xdr_u64(v):
    return struct.pack(">Q", v)


def xdr_opaque(b):
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def xdr_string(s):
    return xdr_opaque(s.encode() if isinstance(s, str) else s)


def xdr_opt_string(s):
    return xdr_u32(0) if s is None else xdr_u32(1) + xdr_string(s)


def xdr_domain(name, uuid_bytes, dom_id=-1):
    return xdr_string(name) + uuid_bytes + xdr_i32(dom_id)


def xdr_vol(pool, name, key):
    return xdr_string(pool) + xdr_string(name) + xdr_string(key)


class Raw:
    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.serial = 0

    def send(self, data):
        self.s.sendall(data)

    def recv_frame(self):
        head = self._read(4)
        if head is None:
            return None
        (length,) = struct.unpack(">I", head)
        rest = self._read(length - 4)
        if rest is None:
            return None
        prog, vers, proc, typ, serial, status = struct.unpack(">IIIIII", rest[:24])
        return dict(prog=prog, vers=vers, proc=proc, type=typ, serial=serial, status=status,
                    body=rest[24:])

    def recv_reply(self, serial):
        """The reply to SERIAL; other messages (events, stream data) are skipped."""
        while True:
            f = self.recv_frame()
            if f is None or (f["type"] == REPLY and f["serial"] == serial):
                return f

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def call(self, proc, body=b"", prog=PROG, serial=None):
        if serial is None:
            serial = self.serial
            self.serial += 1
        self.send(frame(proc, serial, body, prog=prog))
        return serial

    def rpc(self, proc, body=b"", prog=PROG):
        """Calls PROC and returns its reply frame."""
        return self.recv_reply(self.call(proc, body, prog=prog))

    def open(self, readonly=False):
        self.call(66)
        assert self.recv_frame()["status"] == 0
        self.call(1, xdr_opt_string("qemu:///system") + xdr_u32(1 if readonly else 0))
        assert self.recv_frame()["status"] == 0

    def close(self):
        self.s.close()


def error_code(body):
    return struct.unpack(">ii", body[:8])


def error_message(body):
    """The message of a remote_error (bytes, as sent)."""
    if struct.unpack(">I", body[8:12])[0] == 0:
        return b""
    (n,) = struct.unpack(">I", body[12:16])
    return body[16:16 + n]
