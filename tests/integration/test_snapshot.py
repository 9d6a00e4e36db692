# SPDX-License-Identifier: LGPL-2.1-or-later
"""Internal snapshots of a real guest on a qcow2 disk (issue 10, part 5), through stock virsh
and python3-libvirt: what the guest wrote to its disk and kept in RAM before a snapshot is back
after a revert and gone after reverting to an earlier one; the tree (parent, children,
current) and its metadata across a daemon restart; delete; a shut off domain's
snapshot through qemu-img; the refusals. One guest booted for the module."""
import os
import subprocess

import libvirt
import pytest

import guest

E = libvirt
pytestmark = pytest.mark.keep_domains


@pytest.fixture(scope="module")
def sn(daemon):
    c, dom, disk = guest.with_disk(daemon, "sn")
    yield c, dom, disk
    guest.drop(daemon.conn(), "sn", E.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    c.close()


mark = guest.mark
marks = guest.marks


def names(daemon, *args):
    out = daemon.virsh("snapshot-list", "sn", "--name", *args).stdout
    return [n for n in out.split() if n]


def test_create_revert_delete(daemon, sn, loop):
    c, dom, disk = sn
    mark(dom, "first")
    daemon.virsh("snapshot-create-as", "sn", "s1", "--description", "before")
    assert names(daemon) == ["s1"]
    assert daemon.virsh("snapshot-current", "sn", "--name").stdout.strip() == "s1"
    info = daemon.virsh("snapshot-info", "sn", "s1").stdout
    assert "running" in info and "Current:        yes" in info
    assert "s1" in subprocess.run(["qemu-img", "snapshot", "-U", "-l", disk],
                                  capture_output=True, text=True).stdout
    mark(dom, "second")
    s2 = dom.snapshotCreateXML("<domainsnapshot><name>s2</name></domainsnapshot>")
    assert s2.getParent().getName() == "s1"
    assert [s.getName() for s in dom.listAllSnapshots()] == ["s1", "s2"]
    mark(dom, "third")

    ec = daemon.conn()
    events = []
    ec.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                              lambda conn, d, ev, det, o: events.append((ev, det)), None)
    pid = daemon.guest_pids()
    daemon.virsh("snapshot-revert", "sn", "s1")
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_FROM_SNAPSHOT]
    assert daemon.guest_pids() == pid, "a revert in place keeps its QEMU"
    assert marks(dom) == ("first", "first")
    guest.wait(lambda: len(events) >= 2, 10, "the revert's events")
    assert events[:2] == [(E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT),
                          (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT)]
    ec.close()
    dom.revertToSnapshot(dom.snapshotLookupByName("s2"))
    assert marks(dom) == ("second", "second")
    assert dom.snapshotCurrent().getName() == "s2"
    # paused after revert when asked
    daemon.virsh("snapshot-revert", "sn", "s1", "--paused")
    assert dom.state() == [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_FROM_SNAPSHOT]
    dom.resume()
    # a new snapshot's parent is the current one: s3 is a child of s1, beside s2
    daemon.virsh("snapshot-create-as", "sn", "s3")
    assert dom.snapshotLookupByName("s3").getParent().getName() == "s1"
    assert sorted(names(daemon, "--leaves")) == ["s2", "s3"]
    assert names(daemon, "--roots") == ["s1"]
    assert "s3" in daemon.virsh("snapshot-list", "sn", "--tree").stdout
    # delete a leaf; delete s1 with its children
    daemon.virsh("snapshot-delete", "sn", "s2")
    assert names(daemon) == ["s1", "s3"]
    dom.snapshotLookupByName("s1").delete(E.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN)
    assert names(daemon) == []
    assert dom.hasCurrentSnapshot() == 0
    out = subprocess.run(["qemu-img", "snapshot", "-U", "-l", disk], capture_output=True,
                         text=True).stdout
    assert "s1" not in out and "s3" not in out


def test_domus_cli_as_virsh(daemon, sn):
    """domus's snapshot commands print what virsh prints."""
    c = daemon.conn()
    dom = c.lookupByName("sn")
    if not dom.isActive():
        dom.create()
    r = daemon.domus("snapshot-create-as", "sn", "a", "--description", "first", check=True)
    assert r.stdout == "Domain snapshot a created\n\n"
    daemon.domus("snapshot-create-as", "sn", "b", check=True)
    daemon.domus("snapshot-revert", "sn", "a", check=True)
    daemon.domus("snapshot-create-as", "sn", "c", check=True)
    for args in (["snapshot-list", "sn"], ["snapshot-list", "sn", "--tree"],
                 ["snapshot-list", "sn", "--name"], ["snapshot-list", "sn", "--parent"],
                 ["snapshot-list", "sn", "--leaves", "--name"],
                 ["snapshot-info", "sn", "a"], ["snapshot-info", "sn", "--current"],
                 ["snapshot-current", "sn", "--name"], ["snapshot-parent", "sn", "c"],
                 ["snapshot-dumpxml", "sn", "b"]):
        ours = daemon.domus(*args, check=True).stdout
        theirs = daemon.virsh(*args).stdout
        assert ours == theirs, f"{args}:\n{ours}\n---\n{theirs}"
    r = daemon.domus("snapshot-delete", "sn", "a", "--children", check=True)
    assert r.stdout == "Domain snapshot a deleted\n\n"
    assert daemon.domus("snapshot-list", "sn", "--name", check=True).stdout == "\n"
    r = daemon.domus("snapshot-info", "sn", "nope", check=False)
    assert r.returncode == 1 and "nope" in r.stderr


def test_metadata_survives_restart(daemon, sn):
    c, dom, disk = sn
    daemon.virsh("snapshot-create-as", "sn", "keep", "--description", "across a restart")
    xml = daemon.virsh("snapshot-dumpxml", "sn", "keep").stdout
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    dom = c.lookupByName("sn")
    assert [s.getName() for s in dom.listAllSnapshots()] == ["keep"]
    assert dom.snapshotCurrent().getName() == "keep"
    assert daemon.virsh("snapshot-dumpxml", "sn", "keep").stdout == xml
    assert "across a restart" in xml and "<domain type='qemu'>" in xml
    dom.snapshotLookupByName("keep").delete()


def test_refusals(daemon, sn):
    c = daemon.conn()
    dom = c.lookupByName("sn")
    daemon.virsh("snapshot-create-as", "sn", "dup")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.snapshotCreateXML("<domainsnapshot><name>dup</name></domainsnapshot>")
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    with pytest.raises(libvirt.libvirtError) as e:
        dom.snapshotCreateXML("<domainsnapshot><name>x/y</name></domainsnapshot>")
    assert e.value.get_error_code() == E.VIR_ERR_XML_DETAIL
    r = daemon.virsh("snapshot-create-as", "sn", "mix", "--diskspec", "vda,snapshot=manual",
                     check=False)
    assert r.returncode != 0 and "'manual' of disk 'vda' is not supported" in r.stderr
    with pytest.raises(libvirt.libvirtError) as e:
        dom.snapshotLookupByName("nope")
    assert e.value.get_error_code() == E.VIR_ERR_NO_DOMAIN_SNAPSHOT
    # a domain without a qcow2 disk has nowhere to keep an internal snapshot
    log, xml = guest.xml(daemon, "nodisk")
    t = c.createXML(xml, E.VIR_DOMAIN_START_PAUSED)
    with pytest.raises(libvirt.libvirtError) as e:
        t.snapshotCreateXML("<domainsnapshot/>")
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_UNSUPPORTED
    t.destroy()
    dom.snapshotLookupByName("dup").delete()


def test_revert_shut_off_to_running_snapshot(daemon, sn, loop):
    """A shut off domain reverted to a snapshot with memory starts from it: QEMU loads the
    snapshot at start (-loadvm), no boot."""
    c = daemon.conn()
    dom = c.lookupByName("sn")
    if not dom.isActive():
        dom.create()
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    mark(dom, "kept")
    daemon.virsh("snapshot-create-as", "sn", "live")
    dom.destroy()
    events = []
    ec = daemon.conn()
    ec.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                              lambda conn, d, ev, det, o: events.append((ev, det)), None)
    daemon.virsh("snapshot-revert", "sn", "live")
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_FROM_SNAPSHOT]
    assert marks(dom) == ("kept", "kept")
    assert guest.count(os.path.join(daemon.root, "sn.console")) == 0, "no boot"
    guest.wait(lambda: len(events) >= 2, 10, "the events")
    assert events[:2] == [(E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT),
                          (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT)]
    ec.close()
    dom.snapshotLookupByName("live").delete()


def test_shut_off_disk_snapshot(daemon, sn):
    c = daemon.conn()
    dom = c.lookupByName("sn")
    disk = sn[2]
    dom.destroy()
    daemon.virsh("snapshot-create-as", "sn", "off")
    snap = dom.snapshotLookupByName("off")
    assert "<state>shutoff</state>" in snap.getXMLDesc()
    assert "off" in subprocess.run(["qemu-img", "snapshot", "-l", disk], capture_output=True,
                                   text=True).stdout
    daemon.virsh("snapshot-revert", "sn", "off")
    assert dom.state()[0] == E.VIR_DOMAIN_SHUTOFF
    # a running domain reverted to a snapshot of the shut off domain stops (as libvirt), or
    # boots again from the reverted images with --running
    dom.create()
    dom.revertToSnapshot(snap)
    assert dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT]
    dom.create()
    dom.revertToSnapshot(snap, E.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING)
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING
    dom.destroy()
    snap.delete()
    assert "off" not in subprocess.run(["qemu-img", "snapshot", "-l", disk],
                                       capture_output=True, text=True).stdout
    # undefine keeps a domain with snapshots unless their metadata may go
    daemon.virsh("snapshot-create-as", "sn", "last")
    r = daemon.virsh("undefine", "sn", check=False)
    assert r.returncode != 0 and "--snapshots-metadata" in r.stderr
    assert c.lookupByName("sn").isPersistent()
