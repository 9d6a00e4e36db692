# SPDX-License-Identifier: LGPL-2.1-or-later
"""A raw libvirt remote-protocol client for abuse tests (framing, XDR by hand)."""
import socket
import struct

PROG = 0x20008086


def frame(proc, serial, body=b"", prog=PROG, typ=0, status=0):
    return struct.pack(">IIIIIII", 28 + len(body), prog, 1, proc, typ, serial, status) + body


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


class Raw:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
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
        prog, vers, proc, typ, serial, status = struct.unpack(">IIIIII", rest[:24])
        return dict(prog=prog, proc=proc, type=typ, serial=serial, status=status,
                    body=rest[24:])

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def call(self, proc, body=b""):
        serial = self.serial
        self.serial += 1
        self.send(frame(proc, serial, body))
        return serial

    def open(self):
        self.call(66)
        assert self.recv_frame()["status"] == 0
        self.call(1, struct.pack(">I", 1) + xdr_string("qemu:///system") + struct.pack(">I", 0))
        assert self.recv_frame()["status"] == 0

    def close(self):
        self.s.close()


def error_code(body):
    return struct.unpack(">ii", body[:8])
