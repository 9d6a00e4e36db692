# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lifecycle and reboot events, pushed to every registered client, in order, without loss:
virsh event, domus event, python3-libvirt's domainEventRegisterAny, and the older
REGISTER_ANY procedure; crashes of the QEMU process; autostart."""
import os
import re
import signal
import struct
import subprocess
import threading
import time

import libvirt
import pytest

from conftest import DOMUS, domain_xml
from rpc import Raw

E = libvirt


def listen(daemon, event_id=E.VIR_DOMAIN_EVENT_ID_LIFECYCLE):
    c = daemon.conn()
    got = []
    if event_id == E.VIR_DOMAIN_EVENT_ID_LIFECYCLE:
        cb = lambda conn, dom, ev, detail, opaque: got.append((dom.name(), ev, detail))
    else:
        cb = lambda conn, dom, opaque: got.append((dom.name(), "reboot"))
    c.domainEventRegisterAny(None, event_id, cb, None)
    return c, got


def wait_len(got, n, seconds=30):
    deadline = time.time() + seconds
    while len(got) < n and time.time() < deadline:
        time.sleep(0.02)
    return got


def test_burst_of_100_cycles_loses_nothing(daemon, loop):
    c, got = listen(daemon)
    c2, got2 = listen(daemon)  # every registered client gets every event
    d = daemon.conn().defineXML(domain_xml("burst"))
    for _ in range(100):
        d.create()
        d.destroy()
    expect = [("burst", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED)]
    for _ in range(100):
        expect += [("burst", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
                   ("burst", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                   ("burst", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    assert wait_len(got, len(expect)) == expect
    assert wait_len(got2, len(expect)) == expect
    c.close()
    c2.close()


def test_reboot_event(daemon, loop):
    c, got = listen(daemon, E.VIR_DOMAIN_EVENT_ID_REBOOT)
    d = daemon.conn().createXML(domain_xml("rb"), 0)
    d.reset()
    # (the firmware, caught early in its start-up by the reset, may reset the machine once
    # more itself: QEMU reports that reset too, and libvirt makes it a reboot event as well)
    events = wait_len(got, 1, 10)
    assert events and set(events) == {("rb", "reboot")}, events
    d.destroy()
    c.close()


def background(argv):
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("tool", ["virsh", "domus"])
def test_event_commands(daemon, tool):
    if tool == "virsh":
        argv = ["virsh", "-c", daemon.uri, "event", "--loop", "--all", "--timeout", "8"]
    else:
        argv = [DOMUS, "-c", daemon.domus_uri, "event", "--loop", "--all", "--timeout", "8"]
    p = background(argv)
    time.sleep(1.0)  # registered
    c = daemon.conn()
    d = c.defineXML(domain_xml(f"ev-{tool}"))
    d.create()
    d.suspend()
    d.resume()
    d.reset()
    d.destroy()
    d.undefine()
    out, err = p.communicate(timeout=30)
    lines = [l for l in out.splitlines() if l.startswith("event '")]
    # each RESET QEMU reports is a reboot event; once, under a heavily loaded machine, QEMU
    # reported three for the one reset (not reproduced since): repeats count as one here
    lines = [l for i, l in enumerate(lines)
             if not (i and l == lines[i - 1] and l.startswith("event 'reboot'"))]
    n = f"ev-{tool}"
    assert lines == [
        f"event 'lifecycle' for domain '{n}': Defined Added",
        f"event 'lifecycle' for domain '{n}': Resumed Unpaused",
        f"event 'lifecycle' for domain '{n}': Started Booted",
        f"event 'lifecycle' for domain '{n}': Suspended Paused",
        f"event 'lifecycle' for domain '{n}': Resumed Unpaused",
        f"event 'reboot' for domain '{n}'",
        f"event 'lifecycle' for domain '{n}': Stopped Destroyed",
        f"event 'lifecycle' for domain '{n}': Undefined Removed",
    ], out + err
    c.close()


def test_qemu_monitor_events(daemon, loop):
    """QEMU's own QMP events (virConnectDomainQemuMonitorEventRegister): virsh and domus
    qemu-monitor-event print the same bytes (QEMU's timestamp, its data as JSON, pretty or
    not), the filters work (a domain, an exact name, a regular expression without case), and
    python3-libvirt's libvirt_qemu callback gets them; a read-only connection may not listen."""
    import libvirt_qemu
    c = daemon.conn()
    d = c.defineXML(domain_xml("qmpev"))
    other = c.defineXML(domain_xml("qmpev-other"))
    d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    other.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    runs = {}
    for tool, cmd in (("virsh", ["virsh", "-c", daemon.uri]),
                      ("domus", [DOMUS, "-c", daemon.domus_uri])):
        base = cmd + ["qemu-monitor-event", "--timeout", "6"]
        runs[tool] = [background(base + ["--domain", "qmpev", "--loop", "--pretty"]),
                      background(base + ["--event", "shut.*", "--regex", "--no-case"]),
                      background(base + ["--event", "resume", "--loop"])]
    got = []
    cb = libvirt_qemu.qemuMonitorEventRegister(
        c, d, "STOP", lambda conn, dom, ev, secs, micros, details, opaque: got.append(
            (dom.name(), ev, details)), None, 0)
    time.sleep(1.5)  # all registered
    other.resume()
    d.resume()
    d.suspend()
    d.destroy()
    other.destroy()
    outs = {tool: [p.communicate(timeout=30) for p in ps] for tool, ps in runs.items()}
    assert outs["virsh"] == outs["domus"], outs
    (loop_out, _), (regex_out, _), (exact_out, _) = outs["domus"]
    events = re.findall(r"^event (\w+) at \d+\.\d{6} for domain '(\S+)'", loop_out, re.M)
    assert events == [("RESUME", "qmpev"), ("STOP", "qmpev"), ("SHUTDOWN", "qmpev")], loop_out
    assert ("for domain 'qmpev': {\n  \"guest\": false,\n  \"reason\": \"host-signal\"\n}\n"
            in loop_out), loop_out
    # one-shot: the first SHUTDOWN of either domain, compact
    assert re.match(r"event SHUTDOWN at \S+ for domain 'qmpev': "
                    r'\{"guest":false,"reason":"host-signal"\}\nevents received: 1\n', regex_out)
    # the name is exact: QEMU's RESUME is not 'resume'
    assert "events received: 0" in exact_out
    assert wait_len(got, 1, 10) == [("qmpev", "STOP", None)]
    libvirt_qemu.qemuMonitorEventDeregister(c, cb)
    ro = libvirt.open(daemon.uri_ro)
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuMonitorEventRegister(ro, None, None, lambda *a: None, None, 0)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_DENIED
    ro.close()
    d.undefine()
    other.undefine()
    c.close()


def test_legacy_register_any(daemon):
    """Clients that do not use callback ids (feature 14 answered 0) register with 167 and get
    107 messages."""
    r = Raw(daemon.sock)
    r.open()
    r.call(167, struct.pack(">i", 0))
    assert r.recv_frame()["status"] == 0
    c = daemon.conn()
    c.defineXML(domain_xml("legacy"))
    f = r.recv_frame()
    assert f["type"] == 2 and f["proc"] == 107
    body = f["body"]
    n = struct.unpack(">I", body[:4])[0]
    assert body[4:4 + n] == b"legacy"
    assert struct.unpack(">ii", body[-8:]) == (E.VIR_DOMAIN_EVENT_DEFINED,
                                              E.VIR_DOMAIN_EVENT_DEFINED_ADDED)
    r.call(168, struct.pack(">i", 0))
    assert r.recv_frame()["status"] == 0
    r.close()
    c.close()


@pytest.mark.parametrize("persistent", [True, False])
def test_qemu_killed(daemon, loop, persistent):
    """A QEMU that dies (kill -9) is noticed at once: shut off (crashed) with the stopped/failed
    event, a transient domain removed, nothing left behind."""
    c, got = listen(daemon)
    name = "kill-p" if persistent else "kill-t"
    conn = daemon.conn()
    d = conn.defineXML(domain_xml(name)) if persistent else None
    if persistent:
        d.create()
    else:
        d = conn.createXML(domain_xml(name), 0)
    pid = daemon.guest_pids()[0]
    os.kill(pid, signal.SIGKILL)
    stopped = (name, E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_FAILED)
    deadline = time.time() + 5
    while stopped not in got and time.time() < deadline:
        time.sleep(0.01)
    assert stopped in got
    names = [x.name() for x in conn.listAllDomains()]
    if persistent:
        assert d.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_CRASHED]
    else:
        assert name not in names
    run_qemu = os.path.join(daemon.root, "run", "qemu")
    assert [f for f in os.listdir(run_qemu) if f.startswith(name)] == []
    c.close()
    conn.close()


def test_autostart(daemon):
    c = daemon.conn()
    a = c.defineXML(domain_xml("auto-a"))
    a.setAutostart(1)
    b = c.defineXML(domain_xml("auto-b"))
    assert [x.name() for x in c.listAllDomains(E.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)] == ["auto-a"]
    assert "auto-b" in daemon.domus("list", "--all", "--no-autostart", "--name").stdout
    c.close()
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    a = c.lookupByName("auto-a")
    deadline = time.time() + 20
    while a.state()[0] != E.VIR_DOMAIN_RUNNING and time.time() < deadline:
        time.sleep(0.05)
    assert a.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED]
    assert not c.lookupByName("auto-b").isActive()
    pids = daemon.guest_pids()
    c.close()
    # already running: not started again
    daemon.stop()
    daemon.start()
    assert daemon.guest_pids() == pids
    c = daemon.conn()
    assert c.lookupByName("auto-a").isActive()
    c.close()
