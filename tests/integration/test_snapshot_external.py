# SPDX-License-Identifier: LGPL-2.1-or-later
"""External snapshots of a real guest (issue 10, parts 6 and 7), through stock virsh,
python3-libvirt and domus: disk-only and with memory, live and paused; the overlays QEMU
switches to in one transaction; the definitions that follow; reuse, quiesce, halt and the
refusals; revert onto fresh overlays (with the memory back when it was saved) and delete by
block-commit. What the guest wrote (and kept in RAM) before a snapshot is back after a revert.
One guest booted for the module."""
import os
import subprocess

import libvirt
import pytest

import guest

E = libvirt
pytestmark = pytest.mark.keep_domains


@pytest.fixture(scope="module")
def ext(daemon):
    c, dom, disk = guest.with_disk(daemon, "ext")
    yield c, dom, disk
    guest.drop(daemon.conn(), "ext", E.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    c.close()


mark = guest.mark
marks = guest.marks


def image_mark(path):
    """The first sector of the image at PATH (its whole chain), read beside a running QEMU."""
    out = subprocess.run(["qemu-io", "-r", "-U", "-c", "read -v 0 16", path],
                         capture_output=True, text=True, check=True).stdout
    hexes = "".join(line.split(":", 1)[1][:49] for line in out.splitlines()
                    if line[:8].isalnum() and ":" in line)
    data = bytes(int(h, 16) for h in hexes.split())
    return data.split(b"\n")[0].decode(errors="replace")


def backing(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path],
                         capture_output=True, text=True, check=True).stdout
    import json
    return json.loads(out).get("backing-filename")


def source(daemon, *flags):
    out = daemon.virsh("domblklist", "ext", *flags).stdout
    return [line.split()[1] for line in out.splitlines() if line.strip().startswith("vda")][0]


def test_disk_only_running(daemon, ext, loop):
    c, dom, disk = ext
    mark(dom, "one")
    events = []
    ec = daemon.conn()
    ec.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                              lambda conn, d, ev, det, o: events.append((ev, det)), None)
    out = daemon.virsh("snapshot-create-as", "ext", "d1", "--disk-only", "--atomic").stdout
    assert "Domain snapshot d1 created" in out
    overlay = os.path.join(daemon.root, "ext.d1")  # libvirt's default name: suffix replaced
    assert os.path.exists(overlay) and backing(overlay) == disk
    assert source(daemon) == overlay
    assert source(daemon, "--inactive") == overlay  # the persistent disk follows
    live = dom.XMLDesc(0)
    assert "<backingStore type='file' index=" in live and disk in live
    xml = daemon.virsh("snapshot-dumpxml", "ext", "d1").stdout
    assert "<state>disk-snapshot</state>" in xml
    assert f"<source file='{overlay}'/>" in xml and "snapshot='external'" in xml
    assert daemon.virsh("snapshot-list", "ext", "--external", "--name").stdout.split() == ["d1"]
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING and not events  # no pause
    # the guest writes on: into the overlay; the frozen image keeps the snapshot's moment
    mark(dom, "two")
    assert marks(dom) == ("two", "two")
    assert image_mark(disk) == "one"
    assert image_mark(overlay) == "two"


def test_memory_snapshot(daemon, ext, loop):
    c, dom, disk = ext
    mark(dom, "three")
    mem = os.path.join(daemon.root, "m1.mem")
    ov = os.path.join(daemon.root, "m1.qcow2")
    events = []
    ec = daemon.conn()
    ec.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                              lambda conn, d, ev, det, o: events.append((ev, det)), None)
    daemon.virsh("snapshot-create-as", "ext", "m1", "--memspec", f"file={mem}",
                 "--diskspec", f"vda,file={ov},snapshot=external")
    with open(mem, "rb") as f:
        assert f.read(16) == b"LibvirtQemudSave"  # a complete libvirt save image
    assert not [n for n in os.listdir(daemon.root) if "domus-part" in n]
    assert source(daemon) == ov and backing(ov) == os.path.join(daemon.root, "ext.d1")
    xml = daemon.virsh("snapshot-dumpxml", "ext", "m1").stdout
    assert "<state>running</state>" in xml and f"<memory snapshot='external' file='{mem}'/>" in xml
    assert "<parent>\n    <name>d1</name>" in xml
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    guest.wait(lambda: len(events) >= 2, 10, "the pause and resume events")
    assert events[:2] == [(E.VIR_DOMAIN_EVENT_SUSPENDED, 0), (E.VIR_DOMAIN_EVENT_RESUMED, 0)]
    assert marks(dom) == ("three", "three")


def test_live_memory_snapshot(daemon, ext):
    c, dom, disk = ext
    mark(dom, "threeb")
    mem = os.path.join(daemon.root, "m2.mem")
    snap = dom.snapshotCreateXML(
        f"<domainsnapshot><name>m2</name><memory snapshot='external' file='{mem}'/>"
        "</domainsnapshot>", E.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE)
    assert snap.getName() == "m2"
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    assert source(daemon) == os.path.join(daemon.root, "m1.m2")
    assert "<state>running</state>" in snap.getXMLDesc()
    mark(dom, "four")


def test_quiesce_and_reuse(daemon, ext):
    c, dom, disk = ext
    pre = os.path.join(daemon.root, "pre.qcow2")
    top = source(daemon)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", top, pre],
                   check=True)
    # an existing file is refused without --reuse-external, and nothing changes
    r = daemon.virsh("snapshot-create-as", "ext", "q1", "--disk-only",
                     "--diskspec", f"vda,file={pre}", check=False)
    assert r.returncode != 0 and "already exists" in r.stderr and "--reuse-external" in r.stderr
    assert source(daemon) == top and os.path.exists(pre)
    daemon.domus("snapshot-create-as", "ext", "q1", "--disk-only", "--quiesce",
                 "--reuse-external", "--diskspec", f"vda,file={pre}")
    assert source(daemon) == pre
    assert marks(dom) == ("four", "four")  # thawed: the guest writes on


def test_refusals(daemon, ext):
    c, dom, disk = ext
    top = source(daemon)
    mem = os.path.join(daemon.root, "x.mem")
    cases = [
        (["--disk-only", "--memspec", f"file={mem}"], E.VIR_ERR_OPERATION_UNSUPPORTED,
         "memory state cannot be saved"),
        (["--diskspec", "vda,snapshot=internal", "--memspec", f"file={mem}"],
         E.VIR_ERR_CONFIG_UNSUPPORTED, "mixing internal and external"),
        (["--live", "--disk-only"], E.VIR_ERR_OPERATION_INVALID, "live snapshot"),
        (["--disk-only", "--diskspec", "vdz"], E.VIR_ERR_CONFIG_UNSUPPORTED, "'vdz'"),
        (["--disk-only", "--diskspec", "vda,file=rel.qcow2"], E.VIR_ERR_CONFIG_UNSUPPORTED,
         "absolute"),
        (["--disk-only", "--reuse-external", "--diskspec", f"vda,file={daemon.root}/none"],
         E.VIR_ERR_SYSTEM_ERROR, "missing existing file"),
    ]
    flag_of = {"--disk-only": E.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY,
               "--live": E.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE,
               "--reuse-external": E.VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT}
    for args, code, text in cases:
        xml = daemon.virsh("snapshot-create-as", "ext", "bad", *args, "--print-xml").stdout
        flags = sum(flag_of.get(a, 0) for a in args)
        with pytest.raises(libvirt.libvirtError) as e:
            dom.snapshotCreateXML(xml, flags)
        assert e.value.get_error_code() == code, (args, e.value)
        assert text in str(e.value), (args, e.value)
    assert source(daemon) == top and not os.path.exists(mem)
    assert "bad" not in daemon.virsh("snapshot-list", "ext", "--name").stdout


def lifecycle_events(daemon):
    events = []
    ec = daemon.conn()
    ec.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                              lambda conn, d, ev, det, o: events.append((ev, det)), None)
    return ec, events


def test_revert_with_memory(daemon, ext, loop):
    """A revert to a snapshot with memory: QEMU stops, the domain starts from the memory image
    on a fresh overlay of the snapshot's image; what the current snapshot ran on goes."""
    c, dom, disk = ext
    pre = os.path.join(daemon.root, "pre.qcow2")
    assert source(daemon) == pre
    mark(dom, "five")
    ec, events = lifecycle_events(daemon)
    dom.revertToSnapshot(dom.snapshotLookupByName("m1"))
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    assert marks(dom) == ("three", "three")
    top = source(daemon)
    assert backing(top) == os.path.join(daemon.root, "ext.d1")
    assert source(daemon, "--inactive") == top
    assert not os.path.exists(pre)  # q1's overlay: the state left behind
    guest.wait(lambda: len(events) >= 3, 10, "the revert's events")
    assert events[:3] == [(E.VIR_DOMAIN_EVENT_STOPPED, 6), (E.VIR_DOMAIN_EVENT_STARTED, 3),
                          (E.VIR_DOMAIN_EVENT_RESUMED, 2)]
    assert daemon.virsh("snapshot-current", "ext", "--name").stdout.strip() == "m1"
    xml = daemon.virsh("snapshot-dumpxml", "ext", "m1").stdout
    assert "<revertDisks>" in xml and top in xml  # m1 has children: its disks stay theirs
    # again, to m2 (whose RAM and disk say threeb): m1's revert overlay is left behind
    mark(dom, "six")
    daemon.virsh("snapshot-revert", "ext", "m2")
    assert marks(dom) == ("threeb", "threeb")
    assert not os.path.exists(top)
    assert daemon.virsh("snapshot-current", "ext", "--name").stdout.strip() == "m2"


def test_revert_disk_only(daemon, ext):
    """d1 kept the disks of a running guest, no memory: the domain is shut off on a fresh
    overlay of d1's image, and boots from it with --running."""
    c, dom, disk = ext
    daemon.virsh("snapshot-revert", "ext", "d1")
    assert dom.state()[0] == E.VIR_DOMAIN_SHUTOFF
    top = source(daemon)
    assert backing(top) == disk and image_mark(top) == "one"
    daemon.virsh("snapshot-revert", "ext", "d1", "--running")
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    assert backing(source(daemon)) == disk and not os.path.exists(top)
    guest.wait(lambda: guest.agent_ok(dom), 120, "the guest agent after a boot")
    assert marks(dom)[1] == "one"


def test_seed_revert_form(daemon, ext):
    """The seed's recipe through domus: a snapshot with memory and no metadata, then the shut
    off domain reverted by naming the memory image, the image to go back to (backfile) and the
    overlay to run on (runfile)."""
    c, dom, disk = ext
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    mark(dom, "seven")
    back = source(daemon)
    mem = os.path.join(daemon.root, "nm.mem")
    leaf = os.path.join(daemon.root, "nm.qcow2")
    before = daemon.virsh("snapshot-list", "ext", "--name").stdout
    daemon.domus("snapshot-create-as", "ext", "nm", "--no-metadata", "--memspec", f"file={mem}",
                 "--diskspec", f"vda,file={leaf},snapshot=external")
    assert daemon.virsh("snapshot-list", "ext", "--name").stdout == before
    assert source(daemon) == leaf
    mark(dom, "eight")
    dom.destroy()
    run = os.path.join(daemon.root, "run1.qcow2")
    daemon.domus("snapshot-revert", "ext", "--memspec", f"file={mem}", "--diskspec",
                 f"vda,backfile={back},snapshot=external,runfile={run}", "--external")
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    assert source(daemon) == run and backing(run) == back
    assert source(daemon, "--inactive") == run
    assert marks(dom) == ("seven", "seven")
    # a bad spec changes nothing
    r = daemon.domus("snapshot-revert", "ext", "--diskspec", "vda,backfile=/nonexistent",
                     "--external", check=False)
    assert r.returncode != 0 and "/nonexistent" in r.stderr
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING and source(daemon) == run


def test_delete_refusals(daemon, ext):
    c, dom, disk = ext
    assert daemon.virsh("snapshot-current", "ext", "--name").stdout.strip() == "d1"
    for name, flags, code, text in [
        ("d1", 0, E.VIR_ERR_OPERATION_UNSUPPORTED, "not a leaf"),
        ("m1", 0, E.VIR_ERR_OPERATION_UNSUPPORTED, "not in active chain"),
        ("m1", E.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN, E.VIR_ERR_CONFIG_UNSUPPORTED, "children"),
    ]:
        with pytest.raises(libvirt.libvirtError) as e:
            dom.snapshotLookupByName(name).delete(flags)
        assert e.value.get_error_code() == code and text in str(e.value), (name, e.value)
    assert daemon.virsh("snapshot-list", "ext", "--name").stdout.split() == \
        ["d1", "m1", "m2", "q1"]


def test_delete_leaf_left_behind(daemon, ext):
    """q1 is a leaf the domain left: its image (what m2's overlay became) goes."""
    c, dom, disk = ext
    img = os.path.join(daemon.root, "m1.m2")
    assert os.path.exists(img)
    daemon.virsh("snapshot-delete", "ext", "q1")
    assert not os.path.exists(img)
    assert "q1" not in daemon.virsh("snapshot-list", "ext", "--name").stdout
    # --metadata forgets m2 and keeps its files
    mem = os.path.join(daemon.root, "m2.mem")
    daemon.virsh("snapshot-delete", "ext", "m2", "--metadata")
    assert os.path.exists(mem)
    assert daemon.virsh("snapshot-list", "ext", "--name").stdout.split() == ["d1", "m1"]


def test_delete_by_commit_running(daemon, ext):
    """While the guest runs: an inner snapshot's overlay is committed into the image below
    (block-commit), then the current leaf's (an active commit that pivots); what the guest
    wrote stays, the overlays go."""
    c, dom, disk = ext
    base = source(daemon)
    daemon.virsh("snapshot-create-as", "ext", "y1", "--disk-only")
    o1 = source(daemon)
    mark(dom, "ten")
    daemon.virsh("snapshot-create-as", "ext", "y2", "--disk-only")
    o2 = source(daemon)
    mark(dom, "eleven")
    assert daemon.virsh("snapshot-parent", "ext", "y2").stdout.strip() == "y1"
    daemon.virsh("snapshot-delete", "ext", "y1")
    assert not os.path.exists(o1) and source(daemon) == o2 and backing(o2) == base
    assert image_mark(base) == "ten"
    assert daemon.virsh("snapshot-parent", "ext", "y2").stdout.strip() == "d1"
    assert f"<source file='{base}'/>" in daemon.virsh("snapshot-dumpxml", "ext", "y2").stdout
    assert marks(dom) == ("eleven", "eleven")
    daemon.virsh("snapshot-delete", "ext", "y2")
    assert not os.path.exists(o2) and source(daemon) == base
    assert source(daemon, "--inactive") == base
    assert image_mark(base) == "eleven"
    assert daemon.virsh("snapshot-current", "ext", "--name").stdout.strip() == "d1"
    mark(dom, "twelve")
    assert marks(dom) == ("twelve", "twelve")


def test_delete_by_commit_shut_off(daemon, ext):
    """The same on a shut off domain: qemu-img commit, and a rebase of the image above."""
    c, dom, disk = ext
    base = source(daemon)
    dom.destroy()
    daemon.virsh("snapshot-create-as", "ext", "z1", "--disk-only")
    o1 = source(daemon, "--inactive")
    assert "<state>shutoff</state>" in daemon.virsh("snapshot-dumpxml", "ext", "z1").stdout
    daemon.virsh("snapshot-create-as", "ext", "z2", "--disk-only")
    o2 = source(daemon, "--inactive")
    assert backing(o2) == o1 and backing(o1) == base
    daemon.virsh("snapshot-delete", "ext", "z1")
    assert not os.path.exists(o1) and backing(o2) == base
    daemon.virsh("snapshot-delete", "ext", "z2")
    assert not os.path.exists(o2) and source(daemon, "--inactive") == base
    dom.create()
    assert marks(dom)[1] == "twelve"


def test_mixed_tree(daemon, ext, loop):
    """An internal snapshot with memory, then an external one on top: reverting to the
    internal one needs a new QEMU on the image that holds it (-loadvm); the domain's
    definition is the snapshot's again."""
    c, dom, disk = ext
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    base = source(daemon)
    mark(dom, "inner")
    daemon.virsh("snapshot-create-as", "ext", "i1")  # internal, in BASE (qcow2)
    assert "<memory snapshot='internal'/>" in daemon.virsh("snapshot-dumpxml", "ext",
                                                            "i1").stdout
    daemon.virsh("snapshot-create-as", "ext", "x1", "--disk-only")
    ov = source(daemon)
    mark(dom, "outer")
    ec, events = lifecycle_events(daemon)
    daemon.virsh("snapshot-revert", "ext", "i1")
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    assert marks(dom) == ("inner", "inner")
    assert source(daemon) == base and source(daemon, "--inactive") == base
    guest.wait(lambda: len(events) >= 3, 10, "the revert's events")
    assert events[:3] == [(E.VIR_DOMAIN_EVENT_STOPPED, 6), (E.VIR_DOMAIN_EVENT_STARTED, 3),
                          (E.VIR_DOMAIN_EVENT_RESUMED, 2)]
    assert daemon.virsh("snapshot-current", "ext", "--name").stdout.strip() == "i1"
    # x1's parent is internal: libvirt refuses to delete it, and so do we; --metadata works
    r = daemon.virsh("snapshot-delete", "ext", "x1", check=False)
    assert r.returncode != 0 and "internal snapshot as parent" in r.stderr
    daemon.virsh("snapshot-delete", "ext", "x1", "--metadata")
    os.unlink(ov)
    daemon.virsh("snapshot-delete", "ext", "i1")


def pending_records(daemon):
    return [os.path.join(d, f) for d, _, files in os.walk(daemon.root) for f in files
            if f == ".pending"]


@pytest.mark.parametrize("kind,when", [
    ("internal", 0), ("internal", 0.05), ("disk", 0), ("memory", 0), ("memory", 0.1),
    ("memory", 0.2),
    # the same, at exact points of the external create: the overlays made, the memory being
    # written, its file synced, the overlays' nodes added, the switch; the steps over, before
    # and after the definitions are switched (the metadata not yet written); an internal
    # snapshot before QEMU is asked, and made but not yet kept
    ("disk", "switch"), ("disk", "end"), ("disk", "commit"), ("memory", "migrate"),
    ("memory", "sync"), ("memory", "attach"), ("memory", "switch"), ("memory", "end"),
    ("memory", "commit"), ("internal", "snapshot"), ("internal", "end"),
    # last: a delete forgets the snapshots the cases above kept; also killed once QEMU has
    # merged the overlay (an active commit pivoted), before anything of it is written down
    ("delete", 0), ("delete", 0.02), ("delete", "merged")])
def test_sigkill_during_snapshot(daemon, ext, kind, when):
    """Killed while a snapshot is made, the daemon comes back to a running guest and metadata
    that agrees with the images: the snapshot is kept with the domain on its overlay when QEMU
    had switched, else nothing of it is left. WHEN is a delay after the job began, or the step
    (of the external create) where the daemon kills itself."""
    import signal
    import threading
    import time
    timed = not isinstance(when, str)
    if not timed:
        daemon.stop()
        daemon.start(crash_at=f"{'snapshot-delete' if kind == 'delete' else 'snapshot'}:{when}")
    c = daemon.conn()
    dom = c.lookupByName("ext")
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    top = source(daemon)
    name = f"k-{kind}-{int(when * 100) if timed else when}"
    ov = os.path.join(daemon.root, f"{name}.qcow2")
    mem = os.path.join(daemon.root, f"{name}.mem")
    if kind == "delete":
        # the earlier cases' snapshots are forgotten: which were kept varies, and an internal
        # parent would make the delete refused (as libvirt does)
        for left in daemon.virsh("snapshot-list", "ext", "--name").stdout.split():
            if left.startswith("k-"):
                daemon.virsh("snapshot-delete", "ext", left, "--metadata")
        # a snapshot to delete, its overlay holding a few MiB the commit must copy down
        daemon.virsh("snapshot-create-as", "ext", name, "--disk-only", "--diskspec",
                     f"vda,file={ov}")
        rc, _ = guest.agent_exec(dom, "/bin/sh", "-c", "dd if=/dev/urandom of=/dev/vda bs=1M "
                                 "seek=8 count=24 conv=fsync 2>/dev/null")
        assert rc == 0
    args = {"internal": [],
            "disk": ["--disk-only", "--diskspec", f"vda,file={ov}"],
            "memory": ["--memspec", f"file={mem}", "--diskspec", f"vda,file={ov}"],
            "delete": []}[kind]
    command = ["snapshot-delete", "ext", name] if kind == "delete" else \
        ["snapshot-create-as", "ext", name, *args]
    if timed:
        t = threading.Thread(target=lambda: daemon.virsh(*command, check=False))
        watch = daemon.conn().lookupByName("ext")
        t.start()
        deadline = time.time() + 30
        while watch.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE and time.time() < deadline:
            pass
        time.sleep(when)
        daemon.stop(signal.SIGKILL)
        t.join()
    else:
        r = daemon.virsh(*command, check=False)
        assert r.returncode != 0, "the daemon did not stop where it was told to"
        assert daemon.proc.wait(timeout=20) == -signal.SIGKILL
        daemon.proc = None
    daemon.start()
    c = daemon.conn()
    dom = c.lookupByName("ext")
    guest.wait(lambda: dom.state()[0] == E.VIR_DOMAIN_RUNNING and not pending_records(daemon),
               20, "the snapshot to be settled")
    assert len(daemon.guest_pids()) == 1
    if not timed:
        # which way it went is fixed by where the daemon stopped
        kept = name in daemon.virsh("snapshot-list", "ext", "--name").stdout.split()
        # a delete QEMU has done is finished; a create is kept once its steps were over
        assert kept == (when in ("end", "commit")), (kept, source(daemon))
    kept = name in daemon.virsh("snapshot-list", "ext", "--name").stdout.split()
    if kind == "delete":
        # kept: its overlay is still what the domain runs on, and a new delete goes through
        assert source(daemon) == (ov if kept else top)
        if kept:
            daemon.virsh("snapshot-delete", "ext", name)
        assert source(daemon) == top and not os.path.exists(ov)
    elif kind == "internal":
        listed = subprocess.run(["qemu-img", "snapshot", "-U", "-l", top], capture_output=True,
                                text=True).stdout
        assert (name in listed) == kept
        assert source(daemon) == top
    elif kept:
        assert source(daemon) == ov and backing(ov) == top
        assert source(daemon, "--inactive") == ov
        if kind == "memory":
            with open(mem, "rb") as f:
                assert f.read(16) == b"LibvirtQemudSave"
    else:
        assert source(daemon) == top and source(daemon, "--inactive") == top
        assert not os.path.exists(ov) and not os.path.exists(mem)
    mark(dom, name)
    assert marks(dom) == (name, name)


def test_abort_memory_snapshot(daemon, ext, loop):
    """domjobabort from another connection while the memory is written: the guest runs on,
    nothing of the snapshot is left; the job's figures say it was a snapshot."""
    import re
    import threading
    c = daemon.conn()
    dom = c.lookupByName("ext")
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    top = source(daemon)
    for attempt in range(5):
        name = f"ab{attempt}"
        mem = os.path.join(daemon.root, f"{name}.mem")
        ov = os.path.join(daemon.root, f"{name}.qcow2")
        outcome = {}

        def snap():
            try:
                dom.snapshotCreateXML(
                    f"<domainsnapshot><name>{name}</name><memory file='{mem}'/><disks>"
                    f"<disk name='vda'><source file='{ov}'/></disk></disks></domainsnapshot>")
                outcome["made"] = True
            except libvirt.libvirtError as e:
                outcome["error"] = e

        t = threading.Thread(target=snap)
        t.start()
        c2 = daemon.conn()
        d2 = c2.lookupByName("ext")
        while t.is_alive():
            try:
                if d2.jobInfo()[0] != E.VIR_DOMAIN_JOB_NONE:
                    d2.abortJob()
                    break
            except libvirt.libvirtError:
                pass
        t.join()
        c2.close()
        if "error" in outcome:
            break
        dom.snapshotLookupByName(name).delete()  # the snapshot won the race: again
    else:
        pytest.skip("the snapshot always finished before the abort")
    assert outcome["error"].get_error_code() == E.VIR_ERR_OPERATION_ABORTED, outcome["error"]
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    assert source(daemon) == top and source(daemon, "--inactive") == top
    assert not os.path.exists(ov) and not os.path.exists(mem)
    assert not [n for n in os.listdir(daemon.root) if "domus-part" in n]
    assert name not in daemon.virsh("snapshot-list", "ext", "--name").stdout.split()
    out = daemon.virsh("domjobinfo", "ext", "--completed").stdout
    assert re.search(r"Operation:\s+Snapshot", out), out
    mark(dom, "after-abort")
    assert marks(dom) == ("after-abort", "after-abort")


def test_redefine_and_edit(daemon, ext):
    """Metadata only: a snapshot forgotten and redefined from its XML is the same again;
    snapshot-edit (virsh's, and domus's with --rename) redefines it; a loop is refused."""
    c = daemon.conn()
    dom = c.lookupByName("ext")
    daemon.virsh("snapshot-create-as", "ext", "ed", "--description", "old words", "--disk-only")
    xml = daemon.virsh("snapshot-dumpxml", "ext", "ed", "--security-info").stdout
    daemon.virsh("snapshot-delete", "ext", "ed", "--metadata")
    assert "ed" not in daemon.virsh("snapshot-list", "ext", "--name").stdout.split()
    snap = dom.snapshotCreateXML(xml, E.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                                 E.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)
    assert snap.getXMLDesc(E.VIR_DOMAIN_SNAPSHOT_XML_SECURE) + "\n" == xml
    assert dom.snapshotCurrent().getName() == "ed"
    env = dict(os.environ, EDITOR="sed -i s/old.words/new.words/")
    r = subprocess.run(["virsh", "-c", daemon.uri, "snapshot-edit", "ext", "ed"], env=env,
                       capture_output=True, text=True)
    assert "Snapshot ed edited." in r.stdout, r.stderr
    assert "<description>new.words</description>" in \
        daemon.virsh("snapshot-dumpxml", "ext", "ed").stdout
    env = dict(os.environ, EDITOR="sed -i 's/<name>ed</<name>ed2</'")
    r = daemon.domus("snapshot-edit", "ext", "ed", env=env, check=False)
    assert r.returncode != 0 and "--rename or --clone" in r.stderr
    out = daemon.domus("snapshot-edit", "ext", "ed", "--rename", env=env).stdout
    assert "Snapshot ed renamed to ed2." in out
    listed = daemon.virsh("snapshot-list", "ext", "--name").stdout.split()
    assert "ed2" in listed and "ed" not in listed
    assert dom.snapshotCurrent().getName() == "ed2"
    import re
    looped = re.sub(r"\s*<parent>.*?</parent>", "", xml, flags=re.S).replace(
        "<name>ed</name>", "<name>ed2</name><parent><name>ed2</name></parent>", 1)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.snapshotCreateXML(looped, E.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG and "cycle" in str(e.value)
    daemon.virsh("snapshot-delete", "ext", "ed2")


def test_snapshot_image_format_config(daemon, ext):
    """domusd.conf's [qemu] snapshot_image_format (qemu.conf's): an external snapshot's memory
    image is written through that program (its header says which), and a revert reads it back
    through the program: the guest's RAM and disk are the snapshot's again."""
    conf = os.path.join(daemon.root, "etc", "domusd.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "w") as f:
        f.write("[qemu]\nsnapshot_image_format = xz\n")
    daemon.stop()
    daemon.start()
    try:
        c = daemon.conn()
        dom = c.lookupByName("ext")
        if not dom.isActive():
            dom.create()
        mark(dom, "xz-one")
        mem = os.path.join(daemon.root, "mx.mem")
        daemon.virsh("snapshot-create-as", "ext", "mx", "--memspec", f"file={mem}")
        with open(mem, "rb") as f:
            head = f.read(92)
            assert head[:16] == b"LibvirtQemudSave"
            data_len, compressed = (int.from_bytes(head[i:i + 4], "little") for i in (20, 28))
            assert compressed == 3
            f.seek(92 + data_len)
            assert f.read(6) == b"\xfd7zXZ\x00", "QEMU's stream went through xz"
        mark(dom, "xz-two")
        dom.revertToSnapshot(dom.snapshotLookupByName("mx"))
        assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
        assert marks(dom) == ("xz-one", "xz-one")
    finally:
        os.unlink(conf)
        daemon.stop()
        daemon.start()
