# SPDX-License-Identifier: LGPL-2.1-or-later
"""domus's pool-event, secret-event, vol-upload, vol-download and ttyconsole against stock
virsh's: event commands waiting side by side print the same lines (and fail alike when no
event came), uploads and downloads move the same bytes with the same offsets and lengths,
and the errors read the same. No guest boots: a QEMU without a kernel has a console pty."""
import os
import signal
import subprocess
import time

import libvirt

from conftest import DOMUS, Daemon, domain_xml

SECRET = ("<secret ephemeral='no' private='no'><uuid>{uuid}</uuid><usage type='volume'>"
          "<volume>/var/lib/{name}.img</volume></usage></secret>")


def same(daemon, *args):
    v = daemon.virsh(*args, check=False)
    d = daemon.domus(*args, check=False)
    assert (d.stdout, d.stderr, d.returncode) == (v.stdout, v.stderr, v.returncode), args
    return d


def side_by_side(daemon, args, act):
    """Runs ARGS in virsh and domus at once, does ACT meanwhile; returns both outputs."""
    theirs = subprocess.Popen(["virsh", "-c", daemon.uri] + args, stdout=subprocess.PIPE,
                              text=True)
    ours = subprocess.Popen([DOMUS, "-c", daemon.domus_uri] + args, stdout=subprocess.PIPE,
                            text=True)
    time.sleep(1)
    act()
    out_theirs, _ = theirs.communicate(timeout=60)
    out_ours, _ = ours.communicate(timeout=60)
    assert ours.returncode == theirs.returncode
    return out_theirs, out_ours


def test_pool_and_secret_events_match_virsh(daemon):
    c = daemon.conn()
    pool = c.storagePoolLookupByName("default")

    def pool_life():
        pool.destroy()
        pool.create()

    theirs, ours = side_by_side(daemon, ["pool-event", "--event", "lifecycle", "--loop",
                                         "--timeout", "4"], pool_life)
    assert "event 'lifecycle' for storage pool default: Stopped" in theirs
    assert "event 'lifecycle' for storage pool default: Started" in theirs
    assert ours == theirs
    theirs, ours = side_by_side(daemon, ["pool-event", "--event", "refresh", "--pool",
                                         "default"], lambda: pool.refresh())
    assert theirs == "event 'refresh' for storage pool default\nevents received: 1\n\n"
    assert ours == theirs
    uuid = "5b6fc0ac-9d2c-4bd4-8d5f-3a1b0c7e2d11"

    def secret_life():
        s = c.secretDefineXML(SECRET.format(uuid=uuid, name="ev"))
        s.setValue(b"v1")
        s.undefine()

    for event in ("lifecycle", "value-changed"):
        theirs, ours = side_by_side(daemon, ["secret-event", "--event", event, "--loop",
                                             "--timeout", "4"], secret_life)
        assert f"for secret {uuid}" in theirs
        assert ours == theirs
    for args in (["pool-event", "--list"], ["secret-event", "--list"], ["pool-event"],
                 ["pool-event", "--event", "bogus"],
                 ["pool-event", "--event", "refresh", "--timeout", "1"]):
        same(daemon, *args)
    # virsh 9.0 reports an unknown pool or secret and then waits for ever (its lookup failure
    # does not end the command); domus ends there
    r = daemon.domus("pool-event", "--pool", "nosuch", "--event", "lifecycle", check=False)
    assert r.returncode == 1 and "failed to get pool 'nosuch'" in r.stderr
    r = daemon.domus("secret-event", "--secret", "1234", "--event", "lifecycle", check=False)
    assert r.returncode == 1 and "failed to get secret '1234'" in r.stderr
    c.close()


def test_volume_upload_and_download_match_virsh(daemon):
    data = os.urandom(700 * 1024 + 13)
    src = os.path.join(daemon.root, "updown.bin")
    with open(src, "wb") as f:
        f.write(data)
    for tool in ("virsh", "domus"):
        run = getattr(daemon, tool)
        run("vol-create-as", "default", f"ud-{tool}", "1M", "--format", "raw")
        assert run("vol-upload", f"ud-{tool}", src, "--pool", "default").stdout == "\n"
        # a part of it, at an offset
        part = os.path.join(daemon.root, f"part-{tool}.bin")
        r = run("vol-download", f"ud-{tool}", part, "--pool", "default", "--offset", "4096",
                "--length", "100000")
        assert r.stdout == "\n"
        assert open(part, "rb").read() == data[4096:4096 + 100000]
        whole = os.path.join(daemon.root, f"whole-{tool}.bin")
        run("vol-download", f"ud-{tool}", whole, "--pool", "default")
        got = open(whole, "rb").read()
        assert got[:len(data)] == data and len(got) == 1024 * 1024
        # an upload at an offset: the bytes before it stay
        small = os.path.join(daemon.root, "small.bin")
        with open(small, "wb") as f:
            f.write(b"x" * 5000)
        run("vol-upload", f"ud-{tool}", small, "--pool", "default", "--offset", "1000",
            "--length", "5000")
        run("vol-download", f"ud-{tool}", part, "--pool", "default", "--length", "7000")
        assert open(part, "rb").read() == data[:1000] + b"x" * 5000 + data[6000:7000]
    a = subprocess.run(["cmp", os.path.join(daemon.root, "whole-virsh.bin"),
                        os.path.join(daemon.root, "whole-domus.bin")])
    assert a.returncode == 0
    for args in (["vol-upload", "nosuch", src, "--pool", "default"],
                 ["vol-upload", "ud-domus", "/nonexistent", "--pool", "default"],
                 ["vol-download", "ud-domus", "/nonexistent-dir/x", "--pool", "default"],
                 ["vol-upload", "ud-domus", src, "--pool", "default", "--offset", "abc"],
                 ["vol-download", "ud-domus", "x", "--pool", "nosuch"]):
        same(daemon, *args)
    # more data than --length: refused, as libvirtd refuses it (when each tool notices, while
    # sending or at the end, depends on timing)
    for tool in ("virsh", "domus"):
        r = getattr(daemon, tool)("vol-upload", "ud-domus", src, "--pool", "default",
                                  "--length", "10", check=False)
        assert r.returncode == 1 and "goes past the requested length" in r.stderr
    for tool in ("virsh", "domus"):
        daemon.domus("vol-delete", f"ud-{tool}", "--pool", "default")


def test_ttyconsole_matches_virsh(daemon):
    c = daemon.conn()
    dom = c.defineXML(domain_xml("ttyc"))
    same(daemon, "ttyconsole", "ttyc")  # inactive: no pty yet
    dom.create()
    try:
        r = same(daemon, "ttyconsole", "ttyc")
        assert r.stdout.startswith("/dev/pts/")
        same(daemon, "ttyconsole", "nosuch")
    finally:
        dom.destroy()
        dom.undefine()
        c.close()


def test_domrename(daemon):
    """virDomainRename of an inactive domain: its config and autostart marker move, the
    lifecycle events say renamed, and a restarted daemon knows it by the new name; what stands
    in the way (running, a taken name, snapshots) is refused as virsh reports it."""
    import threading
    import libvirt
    c = daemon.conn()
    a = c.defineXML(domain_xml("ren1"))
    a.setAutostart(1)
    c.defineXML(domain_xml("taken"))
    events = []
    libvirt.virEventRegisterDefaultImpl()
    ev = libvirt.open(daemon.uri)
    cb = ev.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                   lambda conn, dom, event, detail, _: events.append(
                                       (dom.name(), event, detail)), None)
    stop = []
    loop = threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl()
                                            for _ in iter(lambda: bool(stop), True)],
                            daemon=True)
    loop.start()
    r = daemon.domus("domrename", "ren1", "ren2", check=True)
    assert r.stdout == "Domain successfully renamed\n\n"
    time.sleep(0.5)
    assert ("ren1", libvirt.VIR_DOMAIN_EVENT_UNDEFINED,
            libvirt.VIR_DOMAIN_EVENT_UNDEFINED_RENAMED) in events
    assert ("ren2", libvirt.VIR_DOMAIN_EVENT_DEFINED,
            libvirt.VIR_DOMAIN_EVENT_DEFINED_RENAMED) in events
    etc = os.path.join(daemon.root, "etc", "qemu")
    assert os.path.exists(os.path.join(etc, "ren2.xml"))
    assert not os.path.exists(os.path.join(etc, "ren1.xml"))
    assert os.path.exists(os.path.join(etc, "autostart", "ren2"))
    assert not os.path.exists(os.path.join(etc, "autostart", "ren1"))
    daemon.virsh("domrename", "ren2", "ren3")
    stop.append(1)
    ev.domainEventDeregisterAny(cb)
    ev.close()
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    b = c.lookupByName("ren3")
    assert b.autostart() == 1 and b.UUIDString() == a.UUIDString()
    if not b.isActive():  # (autostart started it with the daemon)
        b.create()
    for args in (["domrename", "ren3", "ren4"], ["domrename", "taken", "ren3"],
                 ["domrename", "nosuch", "x"], ["domrename", "taken", "a/b"]):
        same(daemon, *args)
    b.destroy()
    for name in ("ren3", "taken"):
        c.lookupByName(name).undefine()
    c.close()


def test_keepalive_options():
    """-k / -K as virsh's: a command waiting on a daemon that answers stays connected past
    several intervals, one waiting on a daemon that stopped answering (SIGSTOP) ends with the
    connection lost within the keepalive's time instead of waiting for ever, and a value that
    is no number is refused."""
    d = Daemon()
    d.start()
    try:
        base = [DOMUS, "-c", d.domus_uri, "-k", "1", "-K", "1", "event", "--all", "--loop"]
        r = subprocess.run(base + ["--timeout", "4"], capture_output=True, text=True,
                           timeout=60)
        # as virsh: the loop ends at its timeout, not with a lost connection
        assert r.stdout.startswith("event loop timed out") and r.stderr == "", r.stdout + r.stderr
        ours = subprocess.Popen(base, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(1.5)
        assert ours.poll() is None
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            _, err = ours.communicate(timeout=30)
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        assert ours.returncode == 1 and "no keepalive answer for 2 s" in err, err
        for args in (["-k", "x"], ["--keepalive-count=-1"]):
            r = subprocess.run([DOMUS, "-c", d.domus_uri] + args + ["list"], capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == 1 and "requires a positive integer argument" in r.stderr
    finally:
        d.destroy()


def test_domain_events_match_virsh(daemon, tmp_path):
    """domus event --all prints what virsh event --all prints, event for event: metadata,
    tunable, device added and removed, block job (both kinds); --list and the refusals
    too."""
    for args in (["event", "--list"], ["event"], ["event", "--event", "bogus"],
                 ["event", "--all", "--event", "reboot"],
                 ["event", "--event", "io-error", "--timeout", "1"]):
        same(daemon, *args)
    disk = str(tmp_path / "ev.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"], check=True)
    c = daemon.conn()
    iso = str(tmp_path / "ev.iso")
    open(iso, "wb").write(b"\0" * 65536)
    dom = c.createXML(domain_xml(
        "evs", extra_devices=f"<disk type='file' device='disk'><driver name='qemu' "
        f"type='qcow2'/><source file='{disk}'/><target dev='vda' bus='virtio'/></disk>"
        f"<disk type='file' device='cdrom'><source file='{iso}'/><target dev='hdc' "
        "bus='ide'/><readonly/></disk>"), 0)
    tablet = "<input type='tablet' bus='usb'/>"
    copy = str(tmp_path / "ev-copy.qcow2")

    def act():
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "events", None, None,
                        libvirt.VIR_DOMAIN_AFFECT_LIVE)
        dom.setSchedulerParametersFlags({"cpu_shares": 512}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        dom.attachDevice(tablet)
        dom.detachDevice(tablet)
        assert daemon.virsh("blockcopy", "evs", "vda", copy, "--wait", "--finish",
                            check=False).returncode == 0
        daemon.virsh("change-media", "evs", "hdc", "--eject")
        daemon.virsh("change-media", "evs", "hdc", iso, "--insert")
        time.sleep(0.5)

    try:
        theirs, ours = side_by_side(daemon, ["event", "--all", "--loop", "--timeout", "8",
                                             "--domain", "evs"], act)
        for line in ("event 'metadata-change' for domain 'evs': type title, uri <null>",
                     "event 'tunable' for domain 'evs':\n\tcputune.cpu_shares: 512",
                     "event 'device-added' for domain 'evs': input2",
                     "event 'device-removed' for domain 'evs': input2",
                     f"event 'block-job' for domain 'evs': Block Copy for {disk} ready",
                     "event 'block-job-2' for domain 'evs': Block Copy for vda canceled",
                     "event 'tray-change' for domain 'evs' disk ide0-1-0: opened",
                     "event 'tray-change' for domain 'evs' disk ide0-1-0: closed"):
            assert line in theirs, theirs
        assert ours == theirs
    finally:
        dom.destroy()
        c.close()
