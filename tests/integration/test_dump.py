# SPDX-License-Identifier: LGPL-2.1-or-later
"""Core dumps as libvirt makes them (virsh dump, python's dom.coreDump / coreDumpWithFormat):
QEMU's whole state (its migration stream), or the memory alone as ELF or kdump; the guest
paused meanwhile (its events) and running again, left running (--live), reset (--reset) or
stopped as crashed (--crash); refusals that change nothing. The guests run no kernel: their
memory is what is dumped, whatever they do."""
import os
import time

import libvirt
import pytest

from conftest import domain_xml

E = libvirt


def events_of(daemon):
    c = daemon.conn()
    got = []
    c.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                             lambda conn, d, ev, detail, opaque: got.append((ev, detail)), None)
    return c, got


def wait_for(got, n):
    deadline = time.time() + 10
    while len(got) < n and time.time() < deadline:
        time.sleep(0.02)
    return got


def head(path, n):
    with open(path, "rb") as f:
        return f.read(n)


def test_dump_memory_and_state(daemon, loop, tmp_path):
    c, got = events_of(daemon)
    dom = daemon.conn().createXML(domain_xml("dm"), 0)
    time.sleep(0.5)
    del got[:]
    # the whole state: QEMU's migration stream, the guest paused for it and then running
    whole = str(tmp_path / "dm.core")
    r = daemon.virsh("dump", "dm", whole, "--verbose")
    assert r.stdout == f"\nDomain 'dm' dumped to {whole}\n\n", r
    assert head(whole, 4) == b"QEVM"
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_UNPAUSED]
    assert wait_for(got, 2) == [(E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
                                (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)]
    # the memory as ELF, live: no pause
    del got[:]
    elf = str(tmp_path / "dm.elf")
    r = daemon.domus("dump", "dm", elf, "--memory-only", "--live")
    assert r.stdout == f"\nDomain 'dm' dumped to {elf}\n\n", r
    assert head(elf, 4) == b"\x7fELF"
    assert os.path.getsize(elf) >= 64 << 20  # the guest's 64 MiB and the headers
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    # kdump, compressed, through python
    kdump = str(tmp_path / "dm.kdump")
    dom.coreDumpWithFormat(kdump, E.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB,
                           E.VIR_DUMP_MEMORY_ONLY)
    assert head(kdump, 12) == b"makedumpfile"  # (QEMU writes the flattened form)
    assert os.path.getsize(kdump) < os.path.getsize(elf)
    assert wait_for(got, 2) == [(E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
                   (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)]
    # the job as domjobinfo saw it
    stats = dom.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)
    assert stats["operation"] == E.VIR_DOMAIN_JOB_OPERATION_DUMP, stats
    # a paused guest stays paused
    dom.suspend()
    dom.coreDump(str(tmp_path / "paused.core"), 0)
    assert dom.state() == [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_USER]
    dom.resume()
    # reset afterwards: the guest runs on, reset (its reboot event)
    rebooted = []
    c.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_REBOOT,
                             lambda conn, d, opaque: rebooted.append(d.name()), None)
    daemon.virsh("dump", "dm", str(tmp_path / "reset.core"), "--memory-only", "--reset")
    wait_for(rebooted, 1)
    assert rebooted == ["dm"] and dom.state()[0] == E.VIR_DOMAIN_RUNNING
    # crashed afterwards: stopped, reason crashed
    del got[:]
    daemon.virsh("dump", "dm", str(tmp_path / "crash.core"), "--memory-only", "--crash")
    assert wait_for(got, 2) == [(E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
                                (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]
    assert "dm" not in [d.name() for d in daemon.conn().listAllDomains()]  # it was transient
    c.close()


def test_refusals(daemon, tmp_path):
    dom = daemon.conn().createXML(domain_xml("dr"), 0)
    path = str(tmp_path / "x.core")
    for flags, fmt, code, message in (
            (E.VIR_DUMP_CRASH | E.VIR_DUMP_RESET, 0, E.VIR_ERR_INVALID_ARG, "mutually exclusive"),
            (0, E.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB, E.VIR_ERR_OPERATION_UNSUPPORTED,
             "add --memory-only")):
        with pytest.raises(libvirt.libvirtError) as e:
            dom.coreDumpWithFormat(path, fmt, flags)
        assert e.value.get_error_code() == code and message in str(e.value), str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.coreDump("/nonexistent-dir/x.core", 0)
    assert "cannot create the dump file" in str(e.value)
    r = daemon.virsh("dump", "dr", path, "--format", "elf", check=False)
    o = daemon.domus("dump", "dr", path, "--format", "elf", check=False)
    assert "--format only works with --memory-only" in r.stderr and o.stderr == r.stderr
    assert not os.path.exists(path)
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED]
    off = daemon.conn().defineXML(domain_xml("doff"))
    with pytest.raises(libvirt.libvirtError) as e:
        off.coreDump(path, 0)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    off.undefine()
    dom.destroy()


def test_daemon_killed_mid_dump(daemon, tmp_path):
    """The daemon killed while QEMU writes a dump (the guest paused for it): restarted, it
    resumes the guest and removes the partial file, as after a save."""
    dom = daemon.conn().createXML(domain_xml("dk"), 0)
    daemon.stop()
    daemon.start(crash_at="dump:write")
    path = str(tmp_path / "dk.core")
    r = daemon.virsh("dump", "dk", path, check=False)
    assert r.returncode != 0
    daemon.proc.wait(timeout=30)
    daemon.proc = None
    daemon.start()
    dom = daemon.conn().lookupByName("dk")
    deadline = time.time() + 10
    while dom.state()[0] != E.VIR_DOMAIN_RUNNING and time.time() < deadline:
        time.sleep(0.05)
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_UNPAUSED]
    assert not os.path.exists(path)
    assert "DOMUS_TEST_CRASH_AT: killing the daemon at dump:write" in open(
        os.path.join(daemon.root, "domusd.log")).read()
    dom.destroy()
