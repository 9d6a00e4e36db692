# SPDX-License-Identifier: LGPL-2.1-or-later
"""Block copy of a running guest's disk, driven by stock virsh as the seed drives it
(blockcopy --wait --verbose --pivot / --finish, --shallow --reuse-external, --bandwidth) and
by blockjob (--info, --abort, --pivot, --bandwidth): the copy holds what the guest wrote, a
pivot moves the guest onto it (and it goes on writing there), a finish leaves a
point-in-time copy, an abort stops it; libvirt's BLOCK_JOB events come; refusals name the
disk. One booted guest serves every check."""
import os
import signal
import subprocess
import time

import libvirt
import pytest

import guest
from conftest import DOMUS, Daemon

NAME = "bc"


@pytest.fixture(scope="module")
def bc():
    d = Daemon()
    d.start()
    c, dom, disk = guest.with_disk(d, NAME)
    yield d, c, dom, disk
    c.close()
    # (the daemon may have restarted meanwhile)
    guest.drop(d.conn(), NAME)
    d.destroy()


def virsh(d, *args):
    return d.virsh(*args, check=False)


def sector(dom, n):
    _, out = guest.agent_exec(dom, "/bin/sh", "-c", f"dd if=/dev/vda bs=512 skip={n} count=1 "
                              "iflag=direct 2>/dev/null | head -n1")
    return out.strip().strip("\0")


def write_sector(dom, n, text):
    rc, _ = guest.agent_exec(dom, "/bin/sh", "-c", f"echo {text} | dd of=/dev/vda bs=512 "
                             f"seek={n} count=1 conv=sync,fsync 2>/dev/null")
    assert rc == 0


def image_sector(path, n, fmt="qcow2"):
    """Sector N of the image at PATH (-U: the guest may hold it), as raw data."""
    out = os.path.join(os.path.dirname(path), "sector.raw")
    subprocess.run(["qemu-img", "convert", "-U", "-f", fmt, "-O", "raw", path, out], check=True,
                   capture_output=True)
    with open(out, "rb") as f:
        f.seek(n * 512)
        block = f.read(512)
    os.unlink(out)
    return block.split(b"\n")[0].decode(errors="replace").strip("\0")


def test_copy_finish_pivot_and_abort(bc, loop):
    d, c, dom, disk = bc
    events = []
    c2 = libvirt.open(d.uri)
    c2.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                              lambda conn, dom, dst, typ, status, opaque:
                              events.append((dst, typ, status)), None)
    write_sector(dom, 100, "before-copy")
    # --finish: a point-in-time copy; the guest stays on its image
    copy1 = os.path.join(d.root, "copy1.qcow2")
    r = virsh(d, "blockcopy", NAME, "vda", copy1, "--wait", "--verbose", "--finish")
    assert r.returncode == 0, r.stderr + d.log()
    assert "Successfully copied" in r.stdout and "Block Copy: [100 %]" in r.stderr, r
    assert image_sector(copy1, 100) == "before-copy"
    assert f"<source file='{disk}'" in dom.XMLDesc(0)
    # refusals
    r = virsh(d, "blockcopy", NAME, "vdz", copy1)
    assert r.returncode != 0 and "no disk with path 'vdz'" in r.stderr, r.stderr
    r = virsh(d, "blockcopy", NAME, "vda", copy1)
    assert r.returncode != 0 and "--reuse-external" in r.stderr, r.stderr
    r = virsh(d, "blockjob", NAME, "vda", "--abort")
    assert r.returncode != 0 and "does not have an active block job" in r.stderr, r.stderr
    # a copy left running (mirroring): info, speed, then a pivot by blockjob
    copy2 = os.path.join(d.root, "copy2.qcow2")
    r = virsh(d, "blockcopy", NAME, "vda", copy2, "--bandwidth", "500")
    assert r.returncode == 0 and "Block Copy started" in r.stdout, r.stderr
    r = virsh(d, "blockcopy", NAME, "vda", os.path.join(d.root, "copy3.qcow2"))
    assert r.returncode != 0 and "already in active block job" in r.stderr, r.stderr
    guest.wait(lambda: ("vda", 2, 3) in events, 60, "the copy to be ready (READY event)")
    info = virsh(d, "blockjob", NAME, "vda", "--info")
    assert "Block Copy: [100 %]" in info.stderr, info
    assert "Bandwidth limit: 524288000 bytes/s (500.000 MiB/s)" in info.stdout, info
    mine = d.domus("blockjob", NAME, "vda", "--info", check=False)
    assert (mine.stdout, mine.stderr) == (info.stdout, info.stderr)
    assert virsh(d, "blockjob", NAME, "vda", "--bandwidth", "0").returncode == 0
    write_sector(dom, 101, "while-mirroring")
    r = virsh(d, "blockjob", NAME, "vda", "--pivot")
    assert r.returncode == 0, r.stderr + d.log()
    assert f"<source file='{copy2}'" in dom.XMLDesc(0)
    assert ("vda", 2, 0) in events
    # the guest goes on writing, in the copy
    write_sector(dom, 102, "after-pivot")
    assert sector(dom, 100) == "before-copy" and sector(dom, 101) == "while-mirroring"
    assert image_sector(copy2, 102) == "after-pivot"
    # an abort before the copy is in step: it stops, the guest stays where it is
    copy4 = os.path.join(d.root, "copy4.qcow2")
    r = virsh(d, "blockcopy", NAME, "vda", copy4, "--bandwidth", "1")
    assert r.returncode == 0, r.stderr
    r = virsh(d, "blockjob", NAME, "vda", "--abort")
    assert r.returncode == 0, r.stderr
    assert ("vda", 2, 2) in events
    assert f"<source file='{copy2}'" in dom.XMLDesc(0)
    c2.close()


def test_shallow_reuse_external_pivot(bc):
    """--shallow --reuse-external onto an image the user made, as the seed does."""
    d, c, dom, disk = bc
    cur = dom.XMLDesc(0).split("<source file='")[1].split("'")[0]
    target = os.path.join(d.root, "mine.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", target, "64M"], check=True)
    write_sector(dom, 103, "shallow")
    r = virsh(d, "blockcopy", NAME, "vda", target, "--shallow", "--reuse-external", "--wait",
              "--verbose", "--pivot")
    assert r.returncode == 0, r.stderr + d.log()
    assert "Successfully pivoted" in r.stdout
    assert f"<source file='{target}'" in dom.XMLDesc(0)
    assert sector(dom, 103) == "shallow"
    assert cur != target


def test_domus_blockcopy(bc):
    d, c, dom, disk = bc
    write_sector(dom, 104, "domus-copy")
    copy = os.path.join(d.root, "domus.qcow2")
    r = d.domus("blockcopy", NAME, "vda", copy, "--wait", "--verbose", "--finish", check=False)
    assert r.returncode == 0, r.stderr + d.log()
    assert r.stdout == "\nSuccessfully copied\n\n" and "Block Copy: [100 %]" in r.stderr, r
    assert image_sector(copy, 104) == "domus-copy"
    r = d.domus("blockjob", NAME, "vda", "--info", check=False)
    v = virsh(d, "blockjob", NAME, "vda", "--info")
    assert r.stdout == v.stdout == f"No current block job for vda\n", (r.stdout, v.stdout)
    r = d.domus("blockcopy", NAME, "vda", copy, "--print-xml", check=False)
    assert f"<source file='{copy}'/>" in r.stdout


def source_of(dom):
    return dom.XMLDesc(0).split("<source file='")[1].split("'")[0]


def test_daemon_restart_keeps_the_copy(bc):
    """A copy under way is the disk's <mirror> in the live XML (libvirt's form) and in the
    daemon's status: a daemon killed and started again takes it up (blockjob --info, a second
    copy refused, the pivot); one killed right after the job ended (a pivot or an abort) ends
    it as QEMU did, from the disk's device."""
    d, c, dom, disk = bc
    copy = os.path.join(d.root, "restart1.qcow2")
    r = virsh(d, "blockcopy", NAME, "vda", copy)
    assert r.returncode == 0, r.stderr
    guest.wait(lambda: "ready='yes'" in dom.XMLDesc(0), 60, "the copy to be ready")
    assert (f"<mirror type='file' job='copy' ready='yes'>" in dom.XMLDesc(0) and
            f"<source file='{copy}' index=" in dom.XMLDesc(0))
    assert "<mirror" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    d.stop(signal.SIGKILL)
    d.start()
    c2 = d.conn()
    dom2 = c2.lookupByName(NAME)
    assert "ready='yes'" in dom2.XMLDesc(0)
    info = virsh(d, "blockjob", NAME, "vda", "--info")
    assert "Block Copy: [100 %]" in info.stderr, info
    r = virsh(d, "blockcopy", NAME, "vda", os.path.join(d.root, "restart-x.qcow2"))
    assert r.returncode != 0 and "already in active block job" in r.stderr, r.stderr
    write_sector(dom2, 110, "across-restart")
    r = virsh(d, "blockjob", NAME, "vda", "--pivot")
    assert r.returncode == 0, r.stderr + d.log()
    assert source_of(dom2) == copy and "<mirror" not in dom2.XMLDesc(0)
    assert image_sector(copy, 110) == "across-restart"
    c2.close()
    # killed right after QEMU ended the job, before the daemon heard it: a pivot, then an abort
    for how, into in (("--pivot", "restart2.qcow2"), ("--abort", "restart3.qcow2")):
        d.stop()
        d.start(crash_at="blockcopy:ended")
        c2 = d.conn()
        dom2 = c2.lookupByName(NAME)
        before = source_of(dom2)
        target = os.path.join(d.root, into)
        assert virsh(d, "blockcopy", NAME, "vda", target).returncode == 0
        guest.wait(lambda: "ready='yes'" in dom2.XMLDesc(0), 60, "the copy to be ready")
        c2.close()
        virsh(d, "blockjob", NAME, "vda", how)
        d.proc.wait(timeout=30)
        d.proc = None
        d.start()
        c2 = d.conn()
        dom2 = c2.lookupByName(NAME)
        guest.wait(lambda: "<mirror" not in dom2.XMLDesc(0), 30, "the copy to end")
        assert source_of(dom2) == (target if how == "--pivot" else before)
        assert "No current block job for vda" in virsh(d, "blockjob", NAME, "vda",
                                                         "--info").stdout
        write_sector(dom2, 111, f"after{how}")
        assert sector(dom2, 111) == f"after{how}"
        c2.close()
    assert "DOMUS_TEST_CRASH_AT: killing the daemon at blockcopy:ended" in open(
        os.path.join(d.root, "domusd.log")).read()


def test_write_threshold(bc, loop):
    """domblkthreshold: BLOCK_THRESHOLD once the guest writes its disk's image past it, naming
    the image as it was set, once; virsh event and domus event print it alike."""
    d = bc[0]  # (the daemon restarted before: a connection of its own)
    c2 = libvirt.open(d.uri)
    dom = c2.lookupByName(NAME)
    got = []
    c2.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD,
                              lambda conn, _, dev, path, threshold, excess, opaque:
                              got.append((dev, path, threshold, excess)), None)
    argv = ["event", NAME, "--event", "block-threshold", "--timeout", "15"]
    listeners = [subprocess.Popen(["virsh", "-c", d.uri] + argv, stdout=subprocess.PIPE,
                                  text=True),
                 subprocess.Popen([DOMUS, "-c", d.domus_uri] + argv, stdout=subprocess.PIPE,
                                  text=True)]
    time.sleep(1)
    image = source_of(dom)
    size = os.path.getsize(image)
    assert d.virsh("domblkthreshold", NAME, "vda", f"{size + (1 << 20)}").stdout == "\n"
    for args, msg in ((["vdz", "1M"], f"no disk image 'vdz' in domain '{NAME}'"),
                      (["vda[99]", "1M"], "disk 'vda' has no image with index 99"),
                      (["vda", "lots"], "Numeric value 'lots' for <threshold>")):
        r = d.domus("domblkthreshold", NAME, *args, check=False)
        assert r.returncode != 0 and msg in r.stderr, r.stderr
    # 4 MiB of new data: the image grows past the threshold
    rc, _ = guest.agent_exec(dom, "/bin/sh", "-c", "dd if=/dev/zero of=/dev/vda bs=1M count=4 "
                             "seek=32 oflag=direct 2>/dev/null")
    assert rc == 0
    deadline = time.time() + 10
    while not got and time.time() < deadline:
        time.sleep(0.05)
    assert len(got) == 1 and got[0][:3] == ("vda", image, size + (1 << 20)), got
    assert got[0][3] > 0
    # once
    guest.agent_exec(dom, "/bin/sh", "-c", "dd if=/dev/zero of=/dev/vda bs=1M count=2 seek=40 "
                     "oflag=direct 2>/dev/null")
    theirs, ours = (p.communicate(timeout=30)[0] for p in listeners)
    line = (f"event 'block-threshold' for domain '{NAME}': dev: vda({image}) {size + (1 << 20)}"
            f" {got[0][3]}\n")
    assert theirs == line + "events received: 1\n\n", theirs
    assert ours == theirs
    assert len(got) == 1
    c2.close()
