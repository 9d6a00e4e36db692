# SPDX-License-Identifier: LGPL-2.1-or-later
"""Defects an outside review found (issue 8, part 1), each pinned by a test that failed before
its fix: stream identity, read-only access and volume paths, QMP commands whose monitor goes
away, text that must survive a restart, error text on the wire, and the events of a destroy
that cuts a start short. Run under the sanitized build: a use-after-free kills domusd there,
and conftest's log check fails the test."""
import os
import shutil
import signal
import subprocess
import tempfile
import socket
import struct
import threading
import time

import libvirt
import libvirt_qemu
import pytest

from conftest import BUILD, DOMUSD, Daemon, domain_xml
from rpc import (CONTINUE, ERROR, OK, PROG, REPLY, STREAM, Raw, error_code, error_message,
                 frame, xdr_string, xdr_u32, xdr_u64, xdr_vol)

FAKE = os.path.join(BUILD, "tests", "fake", "fake-qemu")
VOL_DOWNLOAD = 209


def make_volume(daemon, name, data):
    c = daemon.conn()
    pool = c.storagePoolLookupByName("default")
    pool.createXML(f"<volume><name>{name}</name><capacity>{len(data)}</capacity>"
                   "<target><format type='raw'/></target></volume>", 0)
    path = os.path.join(daemon.root, "images", name)
    with open(path, "wb") as f:
        f.write(data)
    c.close()
    return path


def download_args(name, path):
    return xdr_vol("default", name, path) + xdr_u64(0) + xdr_u64(0) + xdr_u32(0)


def read_stream(raw, serial):
    """Stream data for SERIAL up to EOF (an empty CONTINUE); other replies are collected."""
    data = b""
    others = []
    while True:
        f = raw.recv_frame()
        assert f is not None, "the daemon closed the connection mid-stream"
        if f["type"] == STREAM and f["serial"] == serial:
            assert f["status"] == CONTINUE, f
            if not f["body"]:
                return data, others
            data += f["body"]
        else:
            others.append(f)


def test_stream_serial_reuse_is_refused_and_the_stream_lives_on(daemon):
    payload = bytes(range(256)) * 4096 * 4  # 4 MiB: still flowing when the second call comes
    path = make_volume(daemon, "serial.img", payload)
    raw = Raw(daemon.sock)
    raw.open()
    raw.send(frame(VOL_DOWNLOAD, 7, download_args("serial.img", path)))
    # the same serial again while the first stream is open
    raw.send(frame(VOL_DOWNLOAD, 7, download_args("serial.img", path)))
    replies = []
    data, others = read_stream(raw, 7)
    replies = [f for f in others if f["type"] == REPLY and f["serial"] == 7]
    assert [f["status"] for f in replies] == [OK, ERROR], replies
    code, _ = error_code(replies[1]["body"])
    assert code == libvirt.VIR_ERR_RPC
    assert b"serial 7" in error_message(replies[1]["body"])
    assert data == payload
    raw.send(frame(VOL_DOWNLOAD, 7, typ=STREAM, status=OK))
    f = raw.recv_frame()
    assert (f["type"], f["serial"], f["status"]) == (STREAM, 7, OK)
    raw.close()
    daemon.check_log()


def test_readonly_cannot_download_volumes(daemon):
    path = make_volume(daemon, "ro-dl.img", b"x" * 4096)
    raw = Raw(daemon.sock_ro)
    raw.open()
    f = raw.rpc(VOL_DOWNLOAD, download_args("ro-dl.img", path))
    assert f["status"] == ERROR
    assert error_code(f["body"])[0] == libvirt.VIR_ERR_OPERATION_DENIED
    assert b"read only access prevents virStorageVolDownload" in error_message(f["body"])
    raw.close()
    # stock clients are refused too (python checks on its side first; the daemon agrees)
    ro = libvirt.open(daemon.uri_ro)
    vol = ro.storageVolLookupByPath(path)
    st = ro.newStream(0)
    with pytest.raises(libvirt.libvirtError) as e:
        vol.download(st, 0, 0, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()


def test_symlink_out_of_the_pool_is_not_a_volume(daemon):
    outside = os.path.join(daemon.root, "outside")
    os.makedirs(outside, exist_ok=True)
    secret = os.path.join(outside, "secret")
    with open(secret, "wb") as f:
        f.write(b"root only\n" * 100)
    os.chmod(secret, 0o600)
    images = os.path.join(daemon.root, "images")
    os.symlink(secret, os.path.join(images, "leak.img"))
    os.symlink("../outside/secret", os.path.join(images, "leak2.img"))
    inside = make_volume(daemon, "real.img", b"inside\n" * 100)
    os.symlink("real.img", os.path.join(images, "alias.img"))
    c = daemon.conn()
    pool = c.storagePoolLookupByName("default")
    pool.refresh()
    names = pool.listVolumes()
    assert "leak.img" not in names and "leak2.img" not in names
    assert "real.img" in names and "alias.img" in names
    for name in ("leak.img", "leak2.img"):
        with pytest.raises(libvirt.libvirtError) as e:
            pool.storageVolLookupByName(name)
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
        assert "outside" in e.value.get_error_message()
        with pytest.raises(libvirt.libvirtError) as e:
            c.storageVolLookupByPath(os.path.join(images, name))
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
    # a raw download of the link is refused even with a hand-made handle
    raw = Raw(daemon.sock)
    raw.open()
    f = raw.rpc(VOL_DOWNLOAD, download_args("leak.img", os.path.join(images, "leak.img")))
    assert f["status"] == ERROR
    assert error_code(f["body"])[0] == libvirt.VIR_ERR_NO_STORAGE_VOL
    raw.close()
    # a link that stays inside the pool is served
    vol = pool.storageVolLookupByName("alias.img")
    st = c.newStream(0)
    vol.download(st, 0, 0, 0)
    got = b""
    while True:
        chunk = st.recv(65536)
        if not chunk:
            break
        got += chunk
    st.finish()
    assert got == open(inside, "rb").read()
    for name in ("leak.img", "leak2.img", "alias.img"):
        os.unlink(os.path.join(images, name))
    c.close()


def fake_xml(name):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><emulator>{FAKE}</emulator></devices>
</domain>
"""


def test_qmp_command_when_qemu_stops_reading(daemon):
    c = daemon.conn()
    dom = c.createXML(fake_xml("shutrd-on-query-name"), 0)
    results = {}

    def first():
        try:
            results["first"] = libvirt_qemu.qemuMonitorCommand(
                dom, '{"execute":"query-name"}', 0)
        except libvirt.libvirtError as e:
            results["first"] = e

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.3)  # the fake has stopped reading; the next write gets EPIPE
    with pytest.raises(libvirt.libvirtError):
        libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-version"}', 0)
    t.join(10)
    assert isinstance(results.get("first"), libvirt.libvirtError)
    daemon.check_log()
    assert daemon.alive()
    # the monitor is gone: the (transient) domain is killed rather than left unmanaged
    deadline = time.time() + 10
    while "shutrd-on-query-name" in [d.name() for d in c.listAllDomains()]:
        assert time.time() < deadline, "the domain outlived its monitor"
        time.sleep(0.05)
    c.close()


def test_qmp_command_whose_client_goes_away(daemon):
    c = daemon.conn()
    dom = c.createXML(fake_xml("slow-query-name"), 0)
    raw = Raw(daemon.sock)
    raw.open()
    uuid = dom.UUID()
    body = (xdr_string(dom.name()) + uuid + struct.pack(">i", dom.ID()) +
            xdr_string('{"execute":"query-name"}') + xdr_u32(0))
    raw.call(1, body, prog=0x20008087)
    raw.close()  # gone before QEMU answers
    time.sleep(1.0)
    assert daemon.alive()
    daemon.check_log()
    assert dom.isActive()
    assert libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0)
    dom.destroy()
    c.close()


def test_control_characters_in_text_survive_a_restart():
    """CR, LF and tab in a description, tab in a title: written escaped, read back the same."""
    d = Daemon()
    d.start()
    try:
        c = d.conn()
        xml = domain_xml("texty").replace(
            "<memory", "<title>t&#9;x</title>"
            "<description>line one&#13;&#10;line two&#9;tabbed&#13;cr</description><memory")
        dom = c.defineXML(xml)
        before = dom.XMLDesc(0)
        assert "line one\r\nline two\ttabbed\rcr" in before.replace("&#13;", "\r").replace(
            "&#10;", "\n").replace("&#9;", "\t")
        c.close()
        d.stop()
        d.start()
        c = d.conn()
        dom = c.lookupByName("texty")
        assert dom.XMLDesc(0) == before
        c.close()
    finally:
        d.destroy()


@pytest.mark.parametrize("name", ["with space", "unicodé-名前", "a'quote", 'dq"x', "a&b<c>",
                                  "percent%s", "-dash", ".dot"])
def test_names_libvirt_accepts_round_trip(daemon, name):
    c = daemon.conn()
    from xml.sax.saxutils import escape
    dom = c.defineXML(domain_xml(escape(name)))
    assert dom.name() == name
    assert c.lookupByName(name).UUIDString() == dom.UUIDString()
    dom.undefine()
    c.close()


@pytest.mark.parametrize("name", ["a/b", "a\nb"])
def test_names_libvirt_refuses(daemon, name):
    c = daemon.conn()
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(domain_xml(name.replace("\n", "&#10;")))
    assert e.value.get_error_code() == libvirt.VIR_ERR_XML_DETAIL
    assert "invalid char in name" in e.value.get_error_message()
    c.close()


def test_error_messages_are_valid_utf8(daemon):
    raw = Raw(daemon.sock)
    raw.open()
    bad = b"<domain type='qemu'><name>bad\xff\xfename</name></domain>"
    f = raw.rpc(11, xdr_string(bad))  # DOMAIN_DEFINE_XML
    assert f["status"] == ERROR
    error_message(f["body"]).decode("utf-8")  # raises on invalid bytes
    # a lookup echoes the name it was given
    f = raw.rpc(23, xdr_string(b"no\xc3\x28such\xff"))  # DOMAIN_LOOKUP_BY_NAME
    assert f["status"] == ERROR
    msg = error_message(f["body"]).decode("utf-8")
    assert "no" in msg and "such" in msg
    raw.close()


@pytest.mark.parametrize("opened", [False, True])
@pytest.mark.parametrize("prog,vers", [(0x12345678, 1), (PROG, 2)])
def test_program_and_version_checked_on_every_message(daemon, opened, prog, vers):
    raw = Raw(daemon.sock)
    if opened:
        raw.open()
    raw.send(frame(66, 99, prog=prog, vers=vers))
    f = raw.recv_frame()
    assert f is not None and f["type"] == REPLY and f["serial"] == 99 and f["status"] == ERROR
    # the connection goes on
    f = raw.rpc(66)
    assert f["status"] == OK
    raw.close()


def test_failed_config_write_leaves_nothing(daemon):
    c = daemon.conn()
    etc = os.path.join(daemon.root, "etc", "qemu")
    # a directory where the definition's file would go makes the rename fail
    os.mkdir(os.path.join(etc, "blocked.xml"))
    before = daemon.snapshot_config()
    with pytest.raises(libvirt.libvirtError):
        c.defineXML(domain_xml("blocked"))
    assert daemon.snapshot_config() == before
    assert not [f for f in os.listdir(etc) if ".tmp" in f]
    with pytest.raises(libvirt.libvirtError):
        c.lookupByName("blocked")
    os.rmdir(os.path.join(etc, "blocked.xml"))
    c.close()


@pytest.mark.parametrize("mode", [0o711, 0o775, 0o770])
def test_pool_permissions_mode_is_applied(daemon, mode):
    """The mode is the pool's, whatever domusd's umask, on build and on a start that creates
    the directory."""
    c = daemon.conn()
    target = os.path.join(daemon.root, "modepool")
    xml = f"""<pool type='dir'><name>modepool</name>
      <target><path>{target}</path><permissions><mode>{mode:04o}</mode></permissions></target>
    </pool>"""
    pool = c.storagePoolDefineXML(xml, 0)
    pool.build(0)
    assert os.stat(target).st_mode & 0o7777 == mode
    os.chmod(target, 0o700)
    pool.create(0)
    pool.destroy()
    pool.delete(0)
    pool.undefine()
    pool = c.storagePoolCreateXML(xml, libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    assert os.stat(target).st_mode & 0o7777 == mode
    pool.destroy()
    os.rmdir(target)
    c.close()


def test_second_destroy_of_a_stopped_domain_fails(daemon):
    c = daemon.conn()
    dom = c.defineXML(domain_xml("twice"))
    dom.create()
    dom.destroy()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.destroy()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "not running" in e.value.get_error_message()
    dom.undefine()
    c.close()


def test_concurrent_destroys_one_wins(daemon):
    c = daemon.conn()
    dom = c.defineXML(domain_xml("twice2"))
    dom.create()
    results = []

    def destroy():
        cc = daemon.conn()
        try:
            cc.lookupByName("twice2").destroy()
            results.append("ok")
        except libvirt.libvirtError as e:
            results.append(e.get_error_code())
        cc.close()

    ts = [threading.Thread(target=destroy) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(results, key=str) == sorted(["ok", libvirt.VIR_ERR_OPERATION_INVALID],
                                              key=str)
    dom.undefine()
    c.close()


def test_names_with_commas_and_prefixes_are_adopted_after_a_restart():
    """QEMU's -name doubles commas; a restarted daemon recognizes each QEMU as its own
    domain's, not as one whose name is a prefix of it."""
    import signal
    d = Daemon()
    d.start()
    try:
        c = d.conn()
        names = ["web", "web2", "a,b", "sp ace"]
        pids = {}
        for n in names:
            dom = c.defineXML(domain_xml(n))
            dom.create()
        for n in names:
            pids[n] = c.lookupByName(n).ID()
        c.close()
        d.stop(signal.SIGKILL)
        d.start()
        c = d.conn()
        for n in names:
            dom = c.lookupByName(n)
            assert dom.isActive() and dom.ID() == pids[n], n
            dom.destroy()
        c.close()
    finally:
        d.destroy()


def test_failed_status_write_undoes_the_operation():
    """The status file is how a restarted daemon knows a guest: when it cannot be written the
    operation fails and is undone, not logged and forgotten. The status directory is made
    read-only in the daemon's own mount namespace (nothing outside sees it)."""
    import subprocess
    d = Daemon()
    status_dir = os.path.join(d.root, "run", "qemu")
    os.makedirs(status_dir, exist_ok=True)
    from conftest import DOMUSD
    log = open(os.path.join(d.root, "domusd.log"), "a")
    d.proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         f'mount --bind "$1" "$1" && exec "$2" --root "$3" -v --no-default-network', "sh", status_dir, DOMUSD,
         d.root], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while not os.path.exists(d.sock_ro) and time.time() < deadline:
        time.sleep(0.02)

    def remount(mode):
        subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "mount", "-o",
                        f"remount,bind,{mode}", status_dir], check=True)

    try:
        c = d.conn()
        dom = c.defineXML(domain_xml("rofs"))
        dom.create()
        remount("ro")
        with pytest.raises(libvirt.libvirtError) as e:
            dom.suspend()
        assert "cannot record the state of 'rofs'" in e.value.get_error_message()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING  # resumed again
        dom.destroy()  # a stop is a fact: it happens whatever the disk says
        with pytest.raises(libvirt.libvirtError):
            dom.create()
        assert not dom.isActive()
        remount("rw")
        dom.create()
        dom.suspend()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
        dom.destroy()
        dom.undefine()
        c.close()
    finally:
        d.destroy()


def _probe_orphans():
    """QEMUs run to probe capabilities (-machine none -qmp stdio) whose parent is gone."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if cmd and cmd[0].endswith(b"qemu-system-x86_64") and b"none" in cmd and \
                b"stdio" in cmd and ppid == 1:
            out.append(int(pid))
    return out


def _children_probing(ppid):
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1]
                                     .split()[1]) == ppid and b"stdio" in \
                    open(f"/proc/{pid}/cmdline", "rb").read():
                return True
        except (OSError, ValueError, IndexError):
            pass
    return False


def test_sigkill_during_the_capabilities_probe_leaves_no_qemu():
    """The daemon probes QEMU's capabilities with a QEMU of its own at start-up; killed in the
    middle, it must not leave that QEMU behind (it would wait on its stdio for ever)."""
    before = set(_probe_orphans())
    for i in range(8):
        root = tempfile.mkdtemp(prefix="dcp", dir="/tmp")
        try:
            proc = subprocess.Popen([DOMUSD, "--root", root, "--no-default-network"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # the probe starts right away (a fresh cache): kill the daemon once its probe
            # QEMU runs (or after 3 s)
            deadline = time.time() + 3
            while time.time() < deadline and not _children_probing(proc.pid):
                time.sleep(0.002)
            time.sleep(0.005 * i)
            proc.kill()
            proc.wait()
        finally:
            shutil.rmtree(root, ignore_errors=True)
    deadline = time.time() + 5
    while time.time() < deadline and set(_probe_orphans()) - before:
        time.sleep(0.1)
    left = set(_probe_orphans()) - before
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"orphan probe QEMUs: {sorted(left)}"
