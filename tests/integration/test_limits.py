# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-client limits: a client that pipelines thousands of calls without reading its replies
is no longer read (and gets every reply once it reads), partial frames draw on one input
budget and must arrive within frame_timeout, max_clients pauses accepting, and a client that
lets its events pile up is dropped. Other clients are served throughout. The figures (RSS
under both floods, another client's latency) are measured by bench/run, not here."""
import os
import socket
import struct
import threading
import time

import pytest

from conftest import Daemon, domain_xml
from rpc import PROG, Raw, frame, xdr_i32, xdr_u32

GET_LIB_VERSION = 157
CONF = """[limits]
max_clients = 12
# 32 MiB + 64 KiB of partial frames, all clients together
input_budget = 33619968
# seconds
frame_timeout = 1
max_queued_output = 65536
max_output_backlog = 131072
"""


@pytest.fixture(scope="module")
def limited():
    d = Daemon()
    os.makedirs(os.path.join(d.root, "etc"), exist_ok=True)
    with open(os.path.join(d.root, "etc", "domusd.conf"), "w") as f:
        f.write(CONF)
    d.start()
    yield d
    d.destroy()


def answers(d, timeout=5):
    """Whether a fresh client gets its call answered."""
    r = Raw(d.sock, timeout=timeout)
    try:
        r.open()
        f = r.rpc(GET_LIB_VERSION)
        return f is not None and f["status"] == 0
    finally:
        r.close()


def test_pipelining_flood_is_throttled_not_buffered(limited):
    n = 20000
    flooder = Raw(limited.sock, timeout=30)
    flooder.open()
    calls = b"".join(frame(GET_LIB_VERSION, 1000 + i) for i in range(n))
    sent = threading.Event()

    def send():
        flooder.send(calls)  # blocks while the daemon does not read
        sent.set()

    t = threading.Thread(target=send, daemon=True)
    t.start()
    time.sleep(0.5)
    # the daemon stopped reading the flooder (its replies pile up unread), so the flood
    # cannot all be in: sending blocks
    assert not sent.is_set()
    # meanwhile everyone else is served
    assert answers(limited)
    # the flooder reads: every reply comes, in order
    for i in range(n):
        f = flooder.recv_frame()
        assert f is not None and f["serial"] == 1000 + i and f["status"] == 0
    t.join(10)
    assert sent.is_set()
    flooder.close()
    limited.check_log()


def test_partial_frames_share_a_budget_and_time_out(limited):
    # each claims a 12 MiB frame and sends 256 KiB of it, then stalls: two hold budget at a
    # time, the others wait for it
    stalled = []
    for _ in range(6):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(limited.sock)
        s.settimeout(10)
        s.sendall(struct.pack(">I", 12 * 1024 * 1024) + b"\0" * (256 * 1024))
        stalled.append(s)
    # small calls do not need the budget: others are served
    assert answers(limited)
    # past frame_timeout the stalled senders that held budget are dropped; those that waited
    # for it get it in turn and are dropped after their own timeout
    t0 = time.monotonic()
    closed = 0
    for s in stalled:
        try:
            while s.recv(4096):
                pass
            closed += 1
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
    assert closed == len(stalled), f"{closed} of {len(stalled)} stalled senders were dropped"
    assert time.monotonic() - t0 < 20
    assert answers(limited)
    limited.check_log()


def test_max_clients_pauses_accepting(limited):
    held = []
    for _ in range(12):
        r = Raw(limited.sock)
        r.open()
        held.append(r)
    late = Raw(limited.sock, timeout=0.5)
    late.call(66)  # AUTH_LIST: the connection is queued by the kernel, not yet served
    with pytest.raises(socket.timeout):
        late.recv_frame()
    held.pop().close()
    late.s.settimeout(5)
    f = late.recv_frame()
    assert f is not None and f["status"] == 0
    late.close()
    for r in held:
        r.close()


def test_client_that_lets_events_pile_up_is_dropped(limited):
    c = limited.conn()
    listener = Raw(limited.sock, timeout=10)
    listener.open()
    # CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: lifecycle, any domain
    f = listener.rpc(316, xdr_i32(0) + xdr_u32(0))
    assert f["status"] == 0
    # never read again; two events per round
    for i in range(2500):
        c.defineXML(domain_xml("pile")).undefine()
    # its socket is closed: what it reads ends
    got = 0
    try:
        while True:
            chunk = listener.s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
    except ConnectionResetError:
        pass
    assert got < 2500 * 2 * 100
    assert answers(limited)
    c.close()
    limited.check_log()


def test_download_to_a_client_that_stops_reading(limited):
    """A volume download to a client that never reads: the backlog passes
    max_output_backlog while a chunk is being sent, the connection is dropped with its
    stream, and the download stops there (before, it went on with the freed stream)."""
    from rpc import xdr_u64, xdr_vol
    limited.virsh("vol-create-as", "default", "dl.raw", "8M")
    path = os.path.join(limited.root, "images", "dl.raw")
    with open(path, "r+b") as f:
        f.write(os.urandom(8 * 1024 * 1024))  # data, not holes
    key = path
    r = Raw(limited.sock, timeout=10)
    r.open()
    # STORAGE_VOL_DOWNLOAD: vol, offset, length, flags
    r.call(209, xdr_vol("default", "dl.raw", key) + xdr_u64(0) + xdr_u64(0) + xdr_u32(0))
    time.sleep(1.5)  # the pump runs while nothing is read
    assert limited.alive()
    assert answers(limited)
    limited.check_log()
    r.close()
    limited.virsh("vol-delete", "dl.raw", "--pool", "default")
