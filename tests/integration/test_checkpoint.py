# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checkpoints and backups, through stock virsh and python3-libvirt: a checkpoint is a
bitmap in each qcow2 disk that records what was written since (QEMU's own count in
checkpoint-dumpxml --size); a full backup holds the disk as it was, an incremental one only
what changed since its checkpoint, and both together give the disk back; the tree, its
metadata across a daemon restart, delete (running and shut off), domjobinfo, domjobabort and
backup-dumpxml of a backup under way; what checkpoints exclude (snapshots, block copies, an
undefine that would forget them). Pull backups: the disk as it was, served over NBD to qemu-img
and to virtnbdbackup (full and incremental, then virtnbdrestore gives the disk back). No guest boots: the writes are QEMU's own (qemu-io), into a
domain started paused."""
import json
import os
import signal
import subprocess
import time

import libvirt
import pytest

E = libvirt
MIB = 1024 * 1024


def domain_xml(name, qcow2, raw):
    return f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os><features><acpi/></features><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='{qcow2}'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='{raw}'/><target dev='vdb' bus='virtio'/></disk>
</devices></domain>"""


def write(daemon, name, pattern, offset, length):
    """QEMU writes PATTERN at OFFSET into vda, as a guest would (qemu-io on its device)."""
    out = daemon.virsh("qemu-monitor-command", name, "--hmp",
                       "qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend "
                       f'"write -P {pattern} {offset} {length}"').stdout
    assert "rror" not in out, out  # qemu-io says nothing when it wrote


def extents(image):
    """The (start, length) ranges IMAGE itself holds data for (not its backing file)."""
    spec = json.dumps({"driver": "qcow2", "backing": None,
                       "file": {"driver": "file", "filename": image}})
    out = subprocess.run(["qemu-img", "map", "-U", "--output=json", "json:" + spec],
                         capture_output=True, text=True, check=True).stdout
    return [(e["start"], e["length"]) for e in json.loads(out) if e["data"]]


def same(daemon, a, disk):
    """Whether image A holds what the running domain's vda holds (QEMU flushes it first)."""
    daemon.virsh("qemu-monitor-command", "cp", "--hmp",
                 'qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend "flush"')
    return subprocess.run(["qemu-img", "compare", "-U", a, disk],
                          capture_output=True).returncode == 0


def job_state(daemon, name, job_id):
    jobs = json.loads(daemon.virsh("qemu-monitor-command", name,
                                   '{"execute":"query-jobs"}').stdout)["return"]
    return next((j["status"] for j in jobs if j["id"] == job_id), None)


@pytest.fixture
def cp(daemon, tmp_path):
    qcow2, raw = str(tmp_path / "d.qcow2"), str(tmp_path / "r.img")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow2, "64M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", raw, "8M"], check=True)
    c = daemon.conn()
    dom = c.defineXML(domain_xml("cp", qcow2, raw))
    dom.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    yield c, dom, qcow2, tmp_path
    try:
        c = daemon.conn()  # a test may have restarted the daemon
        dom = c.lookupByName("cp")
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(E.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)
    except libvirt.libvirtError:
        pass
    c.close()


def test_checkpoints_and_backups(daemon, cp, loop):
    c, dom, disk, tmp = cp
    completed = []
    c.domainEventRegisterAny(dom, E.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                             lambda conn, d, params, opaque: completed.append(params), None)
    # a raw disk cannot hold a bitmap: by default every writable disk takes part
    with pytest.raises(libvirt.libvirtError) as e:
        dom.checkpointCreateXML("<domaincheckpoint><name>c0</name></domaincheckpoint>")
    assert e.value.get_error_code() == E.VIR_ERR_CONFIG_UNSUPPORTED
    assert "unsupported for storage type raw" in str(e.value)
    assert dom.listAllCheckpoints() == []

    write(daemon, "cp", "0x11", 0, "1M")
    # a listed disk takes part (a bitmap by default), one left out does not
    daemon.virsh("checkpoint-create-as", "cp", "c1", "--description", "first",
                 "--diskspec", "vda", "--diskspec", "vdb,checkpoint=no")
    write(daemon, "cp", "0x22", 4 * MIB, "64k")
    xml = daemon.virsh("checkpoint-dumpxml", "cp", "c1", "--no-domain", "--size").stdout
    assert "<disk name='vda' checkpoint='bitmap' bitmap='c1' size='65536'/>" in xml, xml
    assert "<disk name='vdb' checkpoint='no'/>" in xml and "<domain type" not in xml
    assert "<domain type='qemu'>" in daemon.virsh("checkpoint-dumpxml", "cp", "c1").stdout

    # a full backup: the disk as it is
    full = str(tmp / "full.qcow2")
    back = daemon.write("full.xml", f"""<domainbackup><disks>
<disk name='vda' type='file'><target file='{full}'/><driver type='qcow2'/></disk>
<disk name='vdb' backup='no'/></disks></domainbackup>""")
    assert "Backup started" in daemon.virsh("backup-begin", "cp", "--backupxml", back).stdout
    for _ in range(100):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
            break
        time.sleep(0.1)
    stats = dom.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)
    assert stats["type"] == E.VIR_DOMAIN_JOB_COMPLETED, stats
    assert stats["operation"] == E.VIR_DOMAIN_JOB_OPERATION_BACKUP
    assert stats["disk_total"] == 64 * MIB and stats["disk_processed"] == 64 * MIB
    for _ in range(50):
        if completed:
            break
        time.sleep(0.1)
    assert len(completed) == 1 and completed[0]["success"] is True, completed
    assert completed[0]["operation"] == E.VIR_DOMAIN_JOB_OPERATION_BACKUP
    assert completed[0]["disk_processed"] == 64 * MIB
    assert same(daemon, full, disk)

    # an incremental one since c1, making checkpoint c2 at the same instant
    write(daemon, "cp", "0x33", 8 * MIB, "128k")
    inc = str(tmp / "inc.qcow2")
    back = daemon.write("inc.xml", f"""<domainbackup><incremental>c1</incremental><disks>
<disk name='vda' type='file'><target file='{inc}'/></disk></disks></domainbackup>""")
    chk = daemon.write("c2.xml", """<domaincheckpoint><name>c2</name><disks>
<disk name='vda'/></disks></domaincheckpoint>""")
    daemon.virsh("backup-begin", "cp", "--backupxml", back, "--checkpointxml", chk)
    for _ in range(100):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
            break
        time.sleep(0.1)
    # only what changed since c1, and on the full one it is the disk again
    assert extents(inc) == [(4 * MIB, 65536), (8 * MIB, 131072)]
    subprocess.run(["qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "qcow2", "-b", full, inc],
                   check=True)
    assert same(daemon, inc, disk)

    # the tree
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["c1", "c2"]
    assert "cp" in daemon.virsh("list", "--all", "--name", "--with-checkpoint").stdout.split()
    assert "cp" not in daemon.virsh("list", "--all", "--name",
                                    "--without-checkpoint").stdout.split()
    c2 = dom.checkpointLookupByName("c2")
    assert c2.getParent().getName() == "c1"
    assert [x.getName() for x in dom.checkpointLookupByName("c1").listAllChildren()] == ["c2"]
    info = daemon.virsh("checkpoint-info", "cp", "c2").stdout
    assert "Parent:         c1" in info and "Children:       0" in info
    assert daemon.virsh("checkpoint-parent", "cp", "c1", check=False).stderr.strip() == \
        "error: checkpoint 'c1' has no parent"
    with pytest.raises(libvirt.libvirtError) as e:
        dom.checkpointLookupByName("nope")
    assert e.value.get_error_code() == E.VIR_ERR_NO_DOMAIN_CHECKPOINT
    # a redefinition that would make a loop of the tree is refused, changing nothing
    looped = dom.checkpointLookupByName("c1").getXMLDesc().replace(
        "</name>", "</name><parent><name>c2</name></parent>", 1)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.checkpointCreateXML(looped, E.VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    assert "parent 'c2' would create cycle to 'c1'" in str(e.value)
    assert "<parent>" not in dom.checkpointLookupByName("c1").getXMLDesc()
    ro = libvirt.open(daemon.uri_ro)
    assert [x.getName() for x in ro.lookupByName("cp").listAllCheckpoints()] == ["c1", "c2"]
    with pytest.raises(libvirt.libvirtError) as e:
        ro.lookupByName("cp").checkpointCreateXML("<domaincheckpoint/>")
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_DENIED
    ro.close()

    # what checkpoints exclude
    for args, text in ((["snapshot-create-as", "cp", "s1"], "while checkpoint exists"),
                       (["blockcopy", "cp", "vda", str(tmp / "copy.qcow2")],
                        "block operations while checkpoint exists"),
                       (["undefine", "cp"], "--checkpoints-metadata")):
        r = daemon.virsh(*args, check=False)
        assert r.returncode != 0 and text in r.stderr, (args, r.stderr)

    # kept across a restart, current included
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    dom = c.lookupByName("cp")
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["c1", "c2"]
    assert "<parent>\n    <name>c1</name>" in dom.checkpointLookupByName("c2").getXMLDesc()

    # delete c1: its bitmap goes, c2 moves up to the root
    dom.checkpointLookupByName("c1").delete()
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["c2"]
    nodes = json.loads(daemon.virsh("qemu-monitor-command", "cp",
                                    '{"execute":"query-named-block-nodes"}').stdout)["return"]
    bitmaps = {b["name"] for n in nodes for b in n.get("dirty-bitmaps", [])}
    assert bitmaps == {"c2"}
    assert "<parent>" not in dom.checkpointLookupByName("c2").getXMLDesc()

    # shut off: the bitmap is in the image; a new one and a delete go through qemu-img
    dom.destroy()
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", disk],
                                     capture_output=True, text=True, check=True).stdout)
    assert [b["name"] for b in info["format-specific"]["data"]["bitmaps"]] == ["c2"]
    daemon.virsh("checkpoint-create-as", "cp", "c3", "--diskspec", "vda,checkpoint=bitmap")
    daemon.virsh("checkpoint-delete", "cp", "c2")
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", disk],
                                     capture_output=True, text=True, check=True).stdout)
    assert [b["name"] for b in info["format-specific"]["data"]["bitmaps"]] == ["c3"]
    r = daemon.virsh("backup-begin", "cp", check=False)
    assert r.returncode != 0 and "inactive domain" in r.stderr
    daemon.virsh("undefine", "cp", "--checkpoints-metadata")
    kept = [os.path.join(b, f) for b, _, fs in os.walk(daemon.root) for f in fs
            if os.sep + "checkpoint" + os.sep in os.path.join(b, f)]
    assert kept == [], kept


def test_backup_under_way(daemon, cp):
    """backup-dumpxml and domjobinfo while a backup runs (QEMU's job held paused), then
    domjobabort: the backup is cancelled, its target removed, the guest unharmed."""
    import libvirt_qemu
    c, dom, disk, tmp = cp
    dom.blockResize("vda", 1024 * MIB, E.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    write(daemon, "cp", "0x44", 0, "768M")
    target = str(tmp / "b.qcow2")
    back = daemon.write("b.xml", f"""<domainbackup><disks>
<disk name='vda' type='file'><target file='{target}'/></disk><disk name='vdb' backup='no'/>
</disks></domainbackup>""")

    def qmp(cmd, **args):
        return json.loads(libvirt_qemu.qemuMonitorCommand(
            dom, json.dumps({"execute": cmd, "arguments": args}), 0))["return"]

    # the copy of 768 MiB is slowed down by QEMU itself right after it began, so that it is
    # still under way below
    dom.backupBegin(open(back).read(), None)
    job_id = qmp("query-jobs")[0]["id"]
    qmp("block-job-set-speed", device=job_id, speed=1)
    assert job_state(daemon, "cp", job_id) == "running"
    assert job_id.startswith("backup-vda-")
    xml = daemon.virsh("backup-dumpxml", "cp").stdout
    assert f"<target file='{target}'/>" in xml and "<disk name='vdb' backup='no'/>" in xml
    assert "backupmode='full'" in xml
    info = daemon.virsh("domjobinfo", "cp").stdout
    assert "Operation:        Backup" in info, info
    daemon.virsh("domjobabort", "cp")
    for _ in range(100):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
            break
        time.sleep(0.1)
    stats = dom.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)
    assert stats["type"] == E.VIR_DOMAIN_JOB_CANCELLED, stats
    assert not os.path.exists(target)
    r = daemon.virsh("backup-dumpxml", "cp", check=False)
    assert r.returncode != 0 and "no backup job" in r.stderr
    assert dom.state()[0] == E.VIR_DOMAIN_PAUSED
    assert job_state(daemon, "cp", job_id) is None

    # a daemon killed during a backup: the next one has QEMU let go of it (the copy cancelled,
    # the target's nodes and the target gone), and a backup works again
    dom.backupBegin(open(back).read(), None)
    job_id = qmp("query-jobs")[0]["id"]
    qmp("block-job-set-speed", device=job_id, speed=1)
    daemon.stop(signal.SIGKILL)
    daemon.start()
    dom = daemon.conn().lookupByName("cp")
    for _ in range(100):
        nodes = [n["node-name"] for n in qmp("query-named-block-nodes")]
        if not qmp("query-jobs") and len(nodes) == 4 and not os.path.exists(target):
            break
        time.sleep(0.1)
    assert qmp("query-jobs") == [] and not os.path.exists(target)
    assert len(qmp("query-named-block-nodes")) == 4, "vda and vdb: their protocol and format"
    dom.backupBegin(open(back).read(), None)
    for _ in range(300):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
            break
        time.sleep(0.1)
    assert dom.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)["type"] == E.VIR_DOMAIN_JOB_COMPLETED
    assert os.path.exists(target)


def nbd_read(socket, export, pattern, offset, length):
    """Whether EXPORT on SOCKET holds PATTERN at OFFSET (qemu-io verifies each byte)."""
    r = subprocess.run(["qemu-io", "-r", "-f", "raw", "-c",
                        f"read -P {pattern} {offset} {length}",
                        f"nbd+unix:///{export}?socket={socket}"],
                       capture_output=True, text=True)
    return r.returncode == 0 and "verification failed" not in r.stdout


def nbd_dirty(socket, export, bitmap):
    """The (start, length) ranges BITMAP of EXPORT marks dirty (qemu-img's x-dirty-bitmap map:
    dirty areas show as holes)."""
    opts = (f"driver=nbd,export={export},server.type=unix,server.path={socket},"
            f"x-dirty-bitmap=qemu:dirty-bitmap:{bitmap}")
    out = subprocess.run(["qemu-img", "map", "--output=json", "--image-opts", opts],
                         capture_output=True, text=True, check=True).stdout
    return [(e["start"], e["length"]) for e in json.loads(out) if not e["data"]]


def block_nodes(daemon):
    return json.loads(daemon.virsh("qemu-monitor-command", "cp",
                                   '{"execute":"query-named-block-nodes"}').stdout)["return"]


def test_pull_backup(daemon, cp, loop):
    """A pull backup serves the disk as it was when it began, while the guest writes on; an
    incremental one exports what changed since its checkpoint as a bitmap; the domain may be
    suspended meanwhile, its disk not detached; domjobabort ends it (a success), leaving no
    scratch image; a daemon killed meanwhile is cleaned up after."""
    c, dom, disk, tmp = cp
    completed = []
    c.domainEventRegisterAny(dom, E.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                             lambda conn, d, params, opaque: completed.append(params), None)
    sock = str(tmp / "nbd.sock")
    write(daemon, "cp", "0x11", 0, "1M")
    back = f"""<domainbackup mode='pull'><server transport='unix' socket='{sock}'/><disks>
<disk name='vda'/><disk name='vdb' backup='no'/></disks></domainbackup>"""
    chk = """<domaincheckpoint><name>p1</name><disks><disk name='vda'/>
<disk name='vdb' checkpoint='no'/></disks></domaincheckpoint>"""
    dom.backupBegin(back, chk)
    scratch = disk + ".p1"
    assert os.path.exists(scratch)
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["p1"]
    # the guest overwrites part of it: the export still holds what was there
    write(daemon, "cp", "0x22", 0, "64k")
    assert nbd_read(sock, "vda", "0x11", 0, "1M")
    stats = dom.jobStats()
    assert stats["type"] == E.VIR_DOMAIN_JOB_UNBOUNDED, stats
    assert stats["operation"] == E.VIR_DOMAIN_JOB_OPERATION_BACKUP
    assert stats["disk_temp_used"] >= 65536 and "disk_total" not in stats, stats
    assert "Temporary disk space use:" in daemon.virsh("domjobinfo", "cp").stdout
    assert dom.blockJobInfo("vda")["type"] == E.VIR_DOMAIN_BLOCK_JOB_TYPE_BACKUP
    xml = daemon.virsh("backup-dumpxml", "cp").stdout
    assert f"<server transport='unix' socket='{sock}'/>" in xml, xml
    assert "exportname='vda'" in xml and f"<scratch file='{scratch}'/>" in xml
    # it lets suspend and resume through, not a detach of the disk it serves
    dom.resume()
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    dom.suspend()
    r = daemon.virsh("detach-disk", "cp", "vda", "--live", check=False)
    assert r.returncode != 0 and "being backed up" in r.stderr, r.stderr
    # another disk comes and goes meanwhile (its block nodes apart from the scratch image's)
    extra = str(tmp / "extra.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", extra, "8M"], check=True)
    daemon.virsh("attach-disk", "cp", extra, "vdc", "--subdriver", "qcow2", "--live")
    assert nbd_read(sock, "vda", "0x11", 65536, "64k")
    nodes = 6  # vda, vdb and vdc: a protocol and a format node each
    # the client is done: domjobabort ends it
    dom.abortJob()
    for _ in range(100):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE and completed:
            break
        time.sleep(0.1)
    stats = dom.jobStats(E.VIR_DOMAIN_JOB_STATS_COMPLETED)
    assert stats["type"] == E.VIR_DOMAIN_JOB_COMPLETED, stats
    assert completed and completed[0]["success"] is True, completed
    assert completed[0]["disk_temp_used"] >= 65536
    assert not os.path.exists(scratch)
    assert len(block_nodes(daemon)) == nodes, "the scratch image's nodes are gone"

    # incremental since p1: what changed is the exported bitmap's
    write(daemon, "cp", "0x33", 4 * MIB, "128k")
    inc = f"""<domainbackup mode='pull'><incremental>p1</incremental>
<server transport='unix' socket='{sock}'/><disks><disk name='vda'>
<scratch file='{tmp / "s.qcow2"}'/></disk><disk name='vdb' backup='no'/></disks>
</domainbackup>"""
    dom.backupBegin(inc, None)
    assert nbd_dirty(sock, "vda", "backup-vda") == [(0, 65536), (4 * MIB, 131072)]
    assert nbd_read(sock, "vda", "0x33", 4 * MIB, "128k")
    assert "exportbitmap='backup-vda'" in daemon.virsh("backup-dumpxml", "cp").stdout

    # a daemon killed meanwhile: the next one stops the export and removes the scratch image
    daemon.stop(signal.SIGKILL)
    daemon.start()
    dom = daemon.conn().lookupByName("cp")
    for _ in range(100):
        if len(block_nodes(daemon)) == nodes and not os.path.exists(tmp / "s.qcow2"):
            break
        time.sleep(0.1)
    assert len(block_nodes(daemon)) == nodes and not os.path.exists(tmp / "s.qcow2")
    dom.backupBegin(back, None)  # the NBD server is free again
    assert nbd_read(sock, "vda", "0x22", 0, "64k")
    dom.abortJob()

    # what is refused, changing nothing
    for xml, code, text in (
            (back.replace(sock, "/nonexistent/dir/s"), E.VIR_ERR_OPERATION_FAILED,
             "nbd-server-start"),
            ("<domainbackup mode='pull'><server name='localhost'/></domainbackup>",
             E.VIR_ERR_OPERATION_UNSUPPORTED, "must specify TCP port"),
            ("<domainbackup mode='pull'/>", E.VIR_ERR_XML_ERROR, "needs its <server>")):
        for _ in range(100):
            if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
                break
            time.sleep(0.1)
        with pytest.raises(libvirt.libvirtError) as e:
            dom.backupBegin(xml, chk.replace("p1", "p2"))
        assert e.value.get_error_code() == code and text in str(e.value), str(e.value)
        assert [x.getName() for x in dom.listAllCheckpoints()] == ["p1"]
        assert not [f for f in os.listdir(tmp) if f.startswith("d.qcow2.")]


def test_pull_backup_over_tls(daemon, cp, tmp_path):
    """<server tls='yes'>: QEMU's NBD server speaks TLS with backup_tls_x509_cert_dir's
    credentials (libvirt's names), checking the client's certificate; a client with the CA's
    certificate reads the disk, one without TLS cannot; missing credentials are named."""
    import shutil
    import socket
    import pki
    c, dom, disk, tmp = cp
    write(daemon, "cp", "0x5a", 0, "1M")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    back = f"""<domainbackup mode='pull'><server name='127.0.0.1' port='{port}' tls='yes'/>
<disks><disk name='vda'/><disk name='vdb' backup='no'/></disks></domainbackup>"""
    server = str(tmp_path / "server-pki")
    conf = os.path.join(daemon.root, "etc", "domusd.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "w") as f:
        f.write(f"[qemu]\nbackup_tls_x509_cert_dir = {server}\n")
    daemon.stop()
    daemon.start()
    dom = daemon.conn().lookupByName("cp")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.backupBegin(back, None)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    assert f"'{server}/ca-cert.pem'" in str(e.value) and "backup_tls_x509_cert_dir" in \
        str(e.value)
    assert not [f for f in os.listdir(tmp) if f.startswith("d.qcow2.")]

    ca = pki.CA(str(tmp_path))
    client = str(tmp_path / "client-pki")
    for kind, out in (("server", server), ("client", client)):
        made = ca.issue(str(tmp_path / f"pki-{kind}"), kind, f"{kind} 127.0.0.1",
                        ips=("127.0.0.1",))
        os.makedirs(out, exist_ok=True)
        for part in ("cert", "key"):
            shutil.copy(os.path.join(made, f"{kind}{part}.pem"),
                        os.path.join(out, f"{kind}-{part}.pem"))
        shutil.copy(ca.cert, os.path.join(out, "ca-cert.pem"))
    dom.backupBegin(back, None)
    assert f"tls='yes' name='127.0.0.1' port='{port}'" in \
        daemon.virsh("backup-dumpxml", "cp").stdout

    def read(tls):
        opts = f"driver=nbd,host=127.0.0.1,port={port},export=vda"
        cmd = ["qemu-io", "-r"]
        if tls:
            cmd += ["--object", f"tls-creds-x509,id=t0,dir={client},endpoint=client"]
            opts += ",tls-creds=t0"
        r = subprocess.run(cmd + ["--image-opts", opts, "-c", "read -P 0x5a 0 1M"],
                           capture_output=True, text=True, timeout=60)
        return r.returncode == 0 and "verification failed" not in r.stdout

    assert not read(tls=False)
    assert read(tls=True)
    dom.abortJob()
    for _ in range(100):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
            break
        time.sleep(0.1)
    objects = json.loads(daemon.virsh("qemu-monitor-command", "cp",
                                      '{"execute":"qom-list","arguments":{"path":"/objects"}}'
                                      ).stdout)["return"]
    assert not [o for o in objects if o["name"].startswith("domus-backup-tls")], objects
    os.unlink(conf)


def test_virtnbdbackup(daemon, cp):
    """virtnbdbackup, unchanged: a full backup, an incremental one, and virtnbdrestore gives
    back the disk as it is."""
    c, dom, disk, tmp = cp
    uri = daemon.uri.replace("qemu+unix://", "qemu://")  # its qemu+ URIs want a password
    out = str(tmp / "bk")
    write(daemon, "cp", "0x11", 0, "1M")

    def backup(level):
        r = subprocess.run(["virtnbdbackup", "-U", uri, "-d", "cp", "-l", level, "-o", out],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "Finished successfully" in r.stderr, r.stderr
        return r.stderr

    backup("full")
    write(daemon, "cp", "0x44", 8 * MIB, "256k")
    assert "262144 bytes of data extents to backup" in backup("inc")
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["virtnbdbackup.0",
                                                              "virtnbdbackup.1"]
    r = subprocess.run(["virtnbdrestore", "-U", uri, "-i", out, "-o", str(tmp / "restore")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert same(daemon, str(tmp / "restore" / "d.qcow2"), disk)


def bitmaps_of(image):
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", image],
                                     capture_output=True, text=True, check=True).stdout)
    return [b["name"] for b in info["format-specific"]["data"].get("bitmaps", [])]


def restart_crashing(daemon, at, call):
    """CALL with a daemon that kills itself at AT, then a daemon started again."""
    daemon.stop()
    daemon.start(crash_at=at)
    with pytest.raises(libvirt.libvirtError):
        call(daemon.conn().lookupByName("cp"))
    daemon.proc.wait(timeout=30)
    daemon.proc = None
    daemon.start()
    assert f"DOMUS_TEST_CRASH_AT: killing the daemon at {at}" in open(
        os.path.join(daemon.root, "domusd.log")).read()
    return daemon.conn().lookupByName("cp")


def test_daemon_killed_mid_checkpoint(daemon, cp):
    """A daemon killed once a checkpoint's bitmaps are added but before its metadata is kept:
    the next one keeps it (the bitmaps are all there), running or shut off; a record whose
    bitmaps never came is dropped."""
    c, dom, disk, tmp = cp
    xml = """<domaincheckpoint><name>k1</name><disks><disk name='vda'/>
<disk name='vdb' checkpoint='no'/></disks></domaincheckpoint>"""
    dom = restart_crashing(daemon, "checkpoint:end", lambda d: d.checkpointCreateXML(xml))
    for _ in range(100):
        if dom.listAllCheckpoints():
            break
        time.sleep(0.05)
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["k1"]
    assert "<disk name='vda' checkpoint='bitmap' bitmap='k1'" in \
        dom.checkpointLookupByName("k1").getXMLDesc()
    # shut off: the same through qemu-img
    dom.destroy()
    xml2 = xml.replace("k1", "k2")
    dom = restart_crashing(daemon, "checkpoint:end", lambda d: d.checkpointCreateXML(xml2))
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["k1", "k2"]
    assert dom.checkpointLookupByName("k2").getParent().getName() == "k1"
    assert bitmaps_of(disk) == ["k1", "k2"]
    # a record of one whose bitmaps never came (killed before QEMU or qemu-img ran): dropped
    meta = next(b for b, _, _ in os.walk(daemon.root)
                if b.endswith(os.path.join("checkpoint", "cp")))
    pending = os.path.join(meta, ".pending")
    with open(pending, "w") as f:
        f.write(xml.replace("k1", "k3"))
    daemon.stop()
    daemon.start()
    dom = daemon.conn().lookupByName("cp")
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["k1", "k2"]
    assert not os.path.exists(pending) and bitmaps_of(disk) == ["k1", "k2"]


def test_domus_commands_as_virsh(daemon, cp):
    """domus's checkpoint-* and backup-* print what virsh prints, byte for byte."""
    c, dom, disk, tmp = cp
    for tool, name in (("virsh", "a1"), ("domus", "B2"), ("virsh", "c3")):
        run = daemon.virsh if tool == "virsh" else daemon.domus
        assert f"Domain checkpoint {name} created" in run(
            "checkpoint-create-as", "cp", name, "--diskspec", "vda",
            "--diskspec", "vdb,checkpoint=no").stdout
    cases = [["checkpoint-list", "cp"], ["checkpoint-list", "cp", "--parent"],
             ["checkpoint-list", "cp", "--tree"], ["checkpoint-list", "cp", "--topological",
                                                   "--name"],
             ["checkpoint-list", "cp", "--roots"], ["checkpoint-list", "cp", "--leaves"],
             ["checkpoint-list", "cp", "--from", "a1", "--descendants", "--name"],
             ["checkpoint-info", "cp", "a1"], ["checkpoint-parent", "cp", "c3"],
             ["checkpoint-parent", "cp", "a1"], ["checkpoint-dumpxml", "cp", "B2", "--no-domain"],
             ["checkpoint-info", "cp", "zz"], ["backup-dumpxml", "cp"],
             ["checkpoint-create-as", "cp", "--name", "x", "--description", "d & e",
              "--diskspec", "vda,checkpoint=bitmap,bitmap=x", "--print-xml"],
             ["checkpoint-create-as", "cp", "--diskspec", "vda,bogus=1"],
             ["checkpoint-create", "cp", "--redefine-validate"]]
    for args in cases:
        v = daemon.virsh(*args, check=False)
        d = daemon.domus(*args, check=False)
        assert (v.returncode, v.stdout, v.stderr) == (d.returncode, d.stdout, d.stderr), args
    target = str(tmp / "d.backup")
    back = daemon.write("d.xml", f"""<domainbackup><disks><disk name='vda' type='file'>
<target file='{target}'/></disk><disk name='vdb' backup='no'/></disks></domainbackup>""")
    assert daemon.domus("backup-begin", "cp", "--backupxml", back).stdout == "Backup started\n\n"
    for _ in range(100):
        if dom.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
            break
        time.sleep(0.1)
    assert os.path.exists(target)
    assert daemon.domus("checkpoint-delete", "cp", "a1", "--children-only").stdout == \
        "Domain checkpoint a1 children deleted\n\n"
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["a1"]
    # checkpoint-edit: virsh's and domus's redefine the edited XML; a rename is refused
    for tool, words, edit in (
            ("virsh", "first", "s|<name>a1</name>|&<description>first</description>|"),
            ("domus", "second", "s|first|second|")):
        env = dict(os.environ, EDITOR=f"sed -i '{edit}'")
        r = daemon.domus("checkpoint-edit", "cp", "a1", env=env) if tool == "domus" else \
            subprocess.run(["virsh", "-c", daemon.uri, "checkpoint-edit", "cp", "a1"], env=env,
                           capture_output=True, text=True)
        assert r.stdout == "Checkpoint a1 edited.\n\n", (tool, r.stdout, r.stderr)
        assert f"<description>{words}</description>" in \
            dom.checkpointLookupByName("a1").getXMLDesc()
    env = dict(os.environ, EDITOR="sed -i 's|<name>a1</name>|<name>a9</name>|'")
    v = subprocess.run(["virsh", "-c", daemon.uri, "checkpoint-edit", "cp", "a1"], env=env,
                       capture_output=True, text=True)
    d = daemon.domus("checkpoint-edit", "cp", "a1", env=env, check=False)
    assert (v.returncode, v.stdout, v.stderr) == (d.returncode, d.stdout, d.stderr)
    assert "Cannot rename checkpoint a1 to a9" in d.stderr
    assert [x.getName() for x in dom.listAllCheckpoints()] == ["a1"]
