# SPDX-License-Identifier: LGPL-2.1-or-later
"""Save and restore of a real guest (issue 10): python3-libvirt's dom.save(path) /
conn.restore(path) and stock virsh, libvirt's image layout on disk, the events and states
libvirt gives, a value kept only in the guest's RAM that survives, transient domains, broken
images refused with nothing changed, an aborted save that leaves the guest running and no file.
One guest booted for the module; it is saved and restored again and again."""
import bz2
import gzip
import lzma
import os
import re
import shutil
import signal
import struct
import threading
import time

import libvirt
import pytest

import guest

E = libvirt
pytestmark = pytest.mark.keep_domains


@pytest.fixture(scope="module")
def sg(daemon):
    guest.build()
    log, xml = guest.xml(daemon, "sv")
    c = daemon.conn()
    dom = c.defineXML(xml)
    dom.create()
    guest.wait(lambda: guest.count(log) == 1, 120, "the guest to boot")
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    yield c, dom
    # the last test restarts the daemon: a new connection cleans up
    c = daemon.conn()
    dom = c.lookupByName("sv")
    try:
        dom.destroy()
    except libvirt.libvirtError:
        pass
    dom.undefineFlags(E.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    c.close()


def ram_value(dom):
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent after restore")
    rc, out = guest.agent_exec(dom, "/bin/cat", "/run/domus-mark")
    return out.strip() if rc == 0 else None


def running_with_mark(dom):
    """DOM running (started if need be) with a fresh value kept only in its RAM; the value."""
    if not dom.isActive():
        dom.create()
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    mark = f"ram-{time.time_ns()}"
    assert guest.agent_exec(dom, "/bin/sh", "-c", f"echo {mark} > /run/domus-mark")[0] == 0
    return mark


def header(path):
    with open(path, "rb") as f:
        raw = f.read(92)
    magic = raw[:16]
    version, data_len, was_running, compressed, cookie = struct.unpack("<5I", raw[16:36])
    return magic, version, data_len, was_running, compressed


def listen(daemon):
    c = daemon.conn()
    got = []
    c.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                             lambda conn, d, ev, detail, opaque: got.append((ev, detail)), None)
    return c, got


def leftovers(daemon):
    return [f for f in os.listdir(daemon.root) if ".domus-part-" in f]


def test_save_restore_python(daemon, sg, loop):
    c, dom = sg
    ec, events = listen(daemon)
    completed = []
    ec.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                              lambda conn, d, params, opaque: completed.append(params), None)
    mark = f"ram-{time.time_ns()}"
    assert guest.agent_exec(dom, "/bin/sh", "-c", f"echo {mark} > /run/domus-mark")[0] == 0
    pid = daemon.guest_pids()
    path = os.path.join(daemon.root, "sv.save")

    dom.save(path)
    assert dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SAVED]
    assert daemon.guest_pids() == []
    magic, version, data_len, was_running, compressed = header(path)
    assert (magic, version, was_running, compressed) == (b"LibvirtQemudSave", 2, 1, 0)
    assert os.path.getsize(path) > 92 + data_len + 1024 * 1024, "QEMU's stream follows"
    assert leftovers(daemon) == []

    c.restore(path)
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
    assert daemon.guest_pids() != pid
    assert ram_value(dom) == mark, "what only the guest's RAM held is back"
    guest.wait(lambda: len(events) >= 4, 10, "the events")
    assert events[:4] == [
        (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED),
        (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED),
        (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT),
    ]
    # the save's JOB_COMPLETED, as libvirt's: its figures, no outcome (success only)
    assert len(completed) == 1, completed
    assert completed[0]["operation"] == E.VIR_DOMAIN_JOB_OPERATION_SAVE
    assert completed[0]["data_total"] > 0 and "success" not in completed[0], completed
    ec.close()


def test_virsh_paused_image_and_xml(daemon, sg):
    c, dom = sg
    path = os.path.join(daemon.root, "sv-paused.save")
    out = daemon.virsh("save", "sv", path, "--paused").stdout
    assert "saved to" in out
    assert header(path)[3] == 0, "--paused: the image restores paused"
    xml = daemon.virsh("save-image-dumpxml", path).stdout
    assert "<name>sv</name>" in xml
    # a definition change that keeps what the guest sees is accepted, in place
    new = xml.replace("<domain type='qemu'>", "<domain type='qemu'>\n  <description>edited"
                      "</description>", 1)
    daemon.write("sv-new.xml", new)
    daemon.virsh("save-image-define", path, os.path.join(daemon.root, "sv-new.xml"))
    assert "edited" in daemon.virsh("save-image-dumpxml", path).stdout
    # ... one that changes the machine is refused and changes nothing
    daemon.write("sv-bad.xml", new.replace("<memory unit='KiB'>262144</memory>",
                                           "<memory unit='KiB'>524288</memory>"))
    r = daemon.virsh("save-image-define", path, os.path.join(daemon.root, "sv-bad.xml"),
                     check=False)
    assert r.returncode != 0 and "memory size" in r.stderr
    daemon.virsh("restore", path)
    assert dom.state() == [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_USER]
    dom.resume()
    assert ram_value(dom) is not None
    assert "edited" in dom.XMLDesc()


def test_transient_domain(daemon, sg):
    c, dom = sg
    path = os.path.join(daemon.root, "sv-t.save")
    xml = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    dom.save(path)
    dom.undefine()
    try:
        c.restore(path)
        t = c.lookupByName("sv")
        assert not t.isPersistent() and t.isActive()
        assert ram_value(t) is not None
        # a transient domain is gone once saved, and back when restored
        t.save(path)
        with pytest.raises(libvirt.libvirtError) as e:
            c.lookupByName("sv")
        assert e.value.get_error_code() == E.VIR_ERR_NO_DOMAIN
        c.restoreFlags(path, None, E.VIR_DOMAIN_SAVE_PAUSED)
        t = c.lookupByName("sv")
        assert t.state()[0] == E.VIR_DOMAIN_PAUSED
        t.resume()
    finally:
        c.defineXML(xml)
    assert c.lookupByName("sv").isPersistent()


def spoil(src, dst, how):
    data = bytearray(open(src, "rb").read())
    if how == "incomplete":
        data[:16] = b"LibvirtQemudPart"
    elif how == "foreign":
        data[:16] = b"QFI\xfb\x00\x00\x00\x03" + bytes(8)
    elif how == "in-xml":
        data = data[:300]
    elif how == "stream":
        data = data[:len(data) // 2]
    elif how == "corrupt":
        data[16:20] = struct.pack("<I", 77)
    open(dst, "wb").write(bytes(data))


@pytest.mark.parametrize("how,message", [
    ("incomplete", "incomplete"),
    ("foreign", "magic is not 'LibvirtQemudSave'"),
    ("in-xml", "truncated within its domain XML"),
    ("corrupt", "version 77"),
    ("stream", "QEMU"),
])
def test_broken_images(daemon, sg, how, message):
    c, dom = sg
    good = os.path.join(daemon.root, "sv-good.save")
    if dom.isActive():
        dom.save(good)
    bad = os.path.join(daemon.root, f"sv-{how}.save")
    spoil(good, bad, how)
    config = daemon.snapshot_config()
    with pytest.raises(libvirt.libvirtError) as e:
        c.restore(bad)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_FAILED
    assert message in str(e.value)
    # a restore that got as far as QEMU ends shut off (failed), as libvirt's does
    assert dom.state()[0] == E.VIR_DOMAIN_SHUTOFF
    assert daemon.guest_pids() == [], "no QEMU is left behind"
    assert daemon.snapshot_config() == config
    # the good image still restores
    c.restore(good)
    assert dom.isActive()


def test_abort_leaves_guest_running_and_no_file(daemon, sg, loop):
    c, dom = sg
    path = os.path.join(daemon.root, "sv-abort.save")
    for attempt in range(5):
        outcome = {}

        def save():
            try:
                dom.save(path)
                outcome["saved"] = True
            except libvirt.libvirtError as e:
                outcome["error"] = e

        t = threading.Thread(target=save)
        t.start()
        # the job is visible on another connection while it runs, then aborted from it
        c2 = daemon.conn()
        d2 = c2.lookupByName("sv")
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
        c.restore(path)  # the save won the race: try again
        os.unlink(path)
    else:
        pytest.skip("the save always finished before the abort")
    assert outcome["error"].get_error_code() == E.VIR_ERR_OPERATION_ABORTED
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_SAVE_CANCELED]
    assert not os.path.exists(path)
    assert leftovers(daemon) == []
    assert ram_value(dom) is not None, "the guest runs on"


def test_libvirt_layout_restores(daemon, sg):
    """An image laid out as libvirt 9.0 writes one (docs/save-image.md), built here by hand
    around a saved stream: with libvirt's save cookie, its own padding, the magic written
    last. It restores; and the image we write reads back as the same layout."""
    c, dom = sg
    if not dom.isActive():
        dom.create()
    ours = os.path.join(daemon.root, "sv-ours.save")
    dom.save(ours)
    raw = open(ours, "rb").read()
    magic, version, data_len, was_running, compressed = header(ours)
    xml = raw[92:92 + data_len].split(b"\0", 1)[0]
    stream = raw[92 + data_len:]
    assert stream[:4] == b"QEVM", "QEMU's stream starts right after the data"
    cookie = b"<cookie>\n  <cpu mode='custom' match='exact' check='partial'>\n" \
             b"    <model fallback='forbid'>qemu64</model>\n  </cpu>\n</cookie>\n"
    body = xml + b"\0" + cookie + b"\0"
    theirs_len = len(body) + 64 * 1024
    theirs = (b"LibvirtQemudSave" + struct.pack("<5I", 2, theirs_len, 1, 0, len(xml) + 1)
              + bytes(14 * 4) + body + bytes(theirs_len - len(body)) + stream)
    path = os.path.join(daemon.root, "sv-libvirt.save")
    open(path, "wb").write(theirs)
    assert "<name>sv</name>" in daemon.virsh("save-image-dumpxml", path).stdout
    c.restore(path)
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
    guest.wait(lambda: guest.agent_ok(dom), 60, "the restored guest's agent")


COMPRESSORS = {1: ("gzip", gzip.compress), 2: ("bzip2", bz2.compress),
               3: ("xz", lambda b: lzma.compress(b, format=lzma.FORMAT_XZ))}


def compressed_copy(src, dst, compression, stream=None):
    """SRC's image as libvirt writes it with save_image_format set: the header's compression
    field says which program, and QEMU's stream is that program's output (or STREAM)."""
    raw = open(src, "rb").read()
    data_len = struct.unpack("<I", raw[20:24])[0]
    body = raw[92 + data_len:]
    packed = COMPRESSORS[compression][1](body) if stream is None else stream
    head = bytearray(raw[:92 + data_len])
    head[28:32] = struct.pack("<I", compression)
    open(dst, "wb").write(bytes(head) + packed)


def filters(daemon):
    """The daemon's children that are compression programs (zombies too)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:]
        if int(rest.split()[1]) == daemon.proc.pid and comm in ("gzip", "bzip2", "xz", "lzop"):
            found.append((int(pid), comm))
    return found


def test_compressed_images_restore(daemon, sg):
    """Images compressed as libvirt writes them (gzip, bzip2, xz) restore through the program
    their header names, with the guest's RAM as it was; save-image-dumpxml reads them."""
    c, dom = sg
    mark = running_with_mark(dom)
    raw = os.path.join(daemon.root, "sv-raw.save")
    dom.save(raw)
    for n, (name, _) in COMPRESSORS.items():
        path = os.path.join(daemon.root, f"sv-{name}.save")
        compressed_copy(raw, path, n)
        assert os.path.getsize(path) < os.path.getsize(raw)
        assert header(path)[4] == n
        assert "<name>sv</name>" in daemon.virsh("save-image-dumpxml", path).stdout
        c.restore(path)
        assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
        assert ram_value(dom) == mark, f"the guest's RAM came back through {name}"
        if n != max(COMPRESSORS):
            dom.destroy()
    assert daemon.guest_pids() and leftovers(daemon) == []
    assert filters(daemon) == [], "each decompressor was reaped"


def test_compressed_images_refused(daemon, sg):
    """A compressed stream that is cut short or not what the header says fails the restore with
    nothing left running; an image whose program is not installed is refused before anything
    starts, naming the program."""
    c, dom = sg
    good = os.path.join(daemon.root, "sv-good.save")
    if dom.isActive():
        dom.save(good)
    config = daemon.snapshot_config()
    raw = open(good, "rb").read()
    data_len = struct.unpack("<I", raw[20:24])[0]
    packed = gzip.compress(raw[92 + data_len:])
    for what, stream in (("cut short", packed[:len(packed) // 2]),
                         ("not gzip", b"this is not what gzip writes" * 100)):
        bad = os.path.join(daemon.root, "sv-badgz.save")
        compressed_copy(good, bad, 1, stream)
        with pytest.raises(libvirt.libvirtError) as e:
            c.restore(bad)
        assert e.value.get_error_code() == E.VIR_ERR_OPERATION_FAILED, what
        assert "QEMU" in str(e.value) or "'gzip -dc' failed" in str(e.value), str(e.value)
        assert dom.state()[0] == E.VIR_DOMAIN_SHUTOFF
        assert daemon.guest_pids() == [], f"no QEMU is left behind ({what})"
        guest.wait(lambda: filters(daemon) == [], 10, f"the decompressor to go ({what})")
        assert daemon.snapshot_config() == config
    # lzop (compression 4): libvirt's last program, not installed here
    lzo = os.path.join(daemon.root, "sv-lzop.save")
    compressed_copy(good, lzo, 4, b"\x89LZO\x00\r\n\x1a\n")
    if shutil.which("lzop") is None:
        with pytest.raises(libvirt.libvirtError) as e:
            c.restore(lzo)
        assert e.value.get_error_code() == E.VIR_ERR_OPERATION_FAILED
        assert f"save image '{lzo}' is compressed with lzop, and 'lzop' is not installed" in \
            str(e.value)
        assert daemon.guest_pids() == []
        assert daemon.snapshot_config() == config
    c.restore(good)
    assert dom.isActive()


def test_bad_calls(daemon, sg):
    c, dom = sg
    with pytest.raises(libvirt.libvirtError) as e:
        dom.saveFlags(os.path.join(daemon.root, "x.save"), None,
                      E.VIR_DOMAIN_SAVE_RUNNING | E.VIR_DOMAIN_SAVE_PAUSED)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    with pytest.raises(libvirt.libvirtError) as e:
        c.restore(os.path.join(daemon.root, "missing.save"))
    assert e.value.get_error_code() == E.VIR_ERR_SYSTEM_ERROR
    assert "missing.save" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.save(os.path.join(daemon.root, "no-such-dir", "x.save"))
    assert dom.isActive(), "a save that cannot write changes nothing"
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING


def test_save_restore_params(daemon, sg):
    """virDomainSaveParams / virConnectRestoreParams (libvirt 8.4): 'file' and 'dxml'; without a
    file a save is a managed save; parameters libvirt would refuse are refused, changing
    nothing."""
    c, dom = sg
    mark = running_with_mark(dom)
    path = os.path.join(daemon.root, "params.save")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.saveParams({"file": path, "nope": "x"}, 0)
    assert e.value.get_error_code() == E.VIR_ERR_ARGUMENT_UNSUPPORTED
    assert "'nope' not supported" in str(e.value)
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING and not os.path.exists(path)
    xml = dom.XMLDesc(E.VIR_DOMAIN_XML_SECURE | E.VIR_DOMAIN_XML_MIGRATABLE)
    xml = re.sub(r"\s*<description>.*?</description>", "", xml, flags=re.S)
    dxml = xml.replace("</name>", "</name>\n  <description>by params</description>", 1)
    dom.saveParams({E.VIR_DOMAIN_SAVE_PARAM_FILE: path, E.VIR_DOMAIN_SAVE_PARAM_DXML: dxml},
                   E.VIR_DOMAIN_SAVE_PAUSED)
    assert dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SAVED]
    assert header(path)[3] == 0, "saved to restore paused"
    with pytest.raises(libvirt.libvirtError) as e:
        c.restoreParams({E.VIR_DOMAIN_SAVE_PARAM_DXML: dxml}, 0)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG and "'file'" in str(e.value)
    c.restoreParams({E.VIR_DOMAIN_SAVE_PARAM_FILE: path}, E.VIR_DOMAIN_SAVE_RUNNING)
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
    assert "by params" in dom.XMLDesc()
    assert ram_value(dom) == mark
    # no file: a managed save, then start resumes from it
    dom.saveParams({}, 0)
    assert dom.hasManagedSaveImage() == 1
    dom.create()
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
    assert ram_value(dom) == mark
    os.unlink(path)


def managed_path(daemon, name="sv"):
    return os.path.join(daemon.root, "lib", "save", f"{name}.save")


def boot_count(daemon, name="sv"):
    """Boots since its QEMU started (each QEMU starts the console file afresh)."""
    return guest.count(os.path.join(daemon.root, f"{name}.console"))


def test_managed_save_virsh(daemon, sg):
    c, dom = sg
    if not dom.isActive():
        dom.create()
    mark = f"ram-{time.time_ns()}"
    assert guest.agent_exec(dom, "/bin/sh", "-c", f"echo {mark} > /run/domus-mark")[0] == 0
    daemon.virsh("managedsave", "sv")
    assert dom.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SAVED]
    assert dom.hasManagedSaveImage() == 1
    assert header(managed_path(daemon))[:2] == (b"LibvirtQemudSave", 2)
    assert "Managed save:   yes" in daemon.virsh("dominfo", "sv").stdout
    assert "saved" in daemon.virsh("list", "--all", "--managed-save").stdout
    assert "sv" in daemon.virsh("list", "--all", "--with-managed-save", "--name").stdout
    assert "sv" not in daemon.virsh("list", "--all", "--without-managed-save", "--name").stdout
    xml = daemon.virsh("managedsave-dumpxml", "sv").stdout
    xml = re.sub(r"\s*<description>.*?</description>", "", xml, flags=re.S)
    daemon.write("ms.xml", xml.replace("<domain type='qemu'>", "<domain type='qemu'>\n"
                                       "  <description>managed</description>", 1))
    daemon.virsh("managedsave-define", "sv", os.path.join(daemon.root, "ms.xml"))
    assert "managed" in daemon.virsh("managedsave-dumpxml", "sv").stdout
    # undefine keeps a domain with an image unless told to drop the image too
    r = daemon.virsh("undefine", "sv", check=False)
    assert r.returncode != 0 and "managed save image" in r.stderr
    with pytest.raises(libvirt.libvirtError) as e:
        dom.undefine()
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    # start resumes from it, and the image is used up
    daemon.virsh("start", "sv")
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
    assert ram_value(dom) == mark
    assert boot_count(daemon) == 0, "no new boot"
    assert dom.hasManagedSaveImage() == 0
    assert not os.path.exists(managed_path(daemon))
    assert "managed" in dom.XMLDesc()


def test_managed_save_python(daemon, sg):
    c, dom = sg
    if not dom.isActive():
        dom.create()
    dom.managedSave()
    assert dom.hasManagedSaveImage() == 1
    dom.managedSaveRemove()
    assert dom.hasManagedSaveImage() == 0
    assert not os.path.exists(managed_path(daemon))
    # without an image, start boots afresh: what RAM held is gone
    dom.create()
    guest.wait(lambda: boot_count(daemon) == 1, 120, "a fresh boot")
    assert ram_value(dom) is None
    # --force-boot drops an image; a broken image is dropped and the guest boots
    dom.managedSave()
    dom.createWithFlags(E.VIR_DOMAIN_START_FORCE_BOOT)
    guest.wait(lambda: boot_count(daemon) == 1, 120, "a forced boot")
    assert dom.hasManagedSaveImage() == 0
    dom.managedSave()
    with open(managed_path(daemon), "r+b") as f:
        f.write(b"LibvirtQemudPart")
    dom.create()
    guest.wait(lambda: boot_count(daemon) == 1, 120, "a boot past a broken image")
    assert dom.hasManagedSaveImage() == 0
    with pytest.raises(libvirt.libvirtError) as e:
        c.lookupByName("sv").managedSaveGetXMLDesc(0)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID


def test_managed_save_transient_refused(daemon, sg):
    c, dom = sg
    xml = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE).replace("<name>sv</name>", "<name>sv-t</name>")
    xml = xml.replace(f"<uuid>{dom.UUIDString()}</uuid>", "")
    xml = xml.replace("sv.console", "sv-t.console")
    t = c.createXML(xml, E.VIR_DOMAIN_START_PAUSED)
    with pytest.raises(libvirt.libvirtError) as e:
        t.managedSave()
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    assert t.isActive()
    t.destroy()


def test_domus_cli(daemon, sg):
    c, dom = sg
    if not dom.isActive():
        dom.create()
    path = os.path.join(daemon.root, "sv-cli.save")
    r = daemon.domus("save", "sv", path, "--verbose", check=True)
    assert r.stdout == f"\nDomain 'sv' saved to {path}\n\n", repr(r.stdout)
    assert re.findall(r"^Save: \[100 %\]$", r.stderr, re.M), r.stderr
    assert "<name>sv</name>" in daemon.domus("save-image-dumpxml", path, check=True).stdout
    r = daemon.domus("restore", path, "--paused", check=True)
    assert r.stdout == f"Domain restored from {path}\n\n"
    assert dom.state()[0] == E.VIR_DOMAIN_PAUSED
    r = daemon.domus("managedsave", "sv", check=True)
    assert "Domain 'sv' state saved by libvirt" in r.stdout
    assert "Managed save:   yes" in daemon.domus("dominfo", "sv", check=True).stdout
    out = daemon.domus("list", "--all", "--managed-save", check=True).stdout
    assert re.search(r"sv\s+saved", out), out
    assert "<name>sv</name>" in daemon.domus("managedsave-dumpxml", "sv", check=True).stdout
    r = daemon.domus("undefine", "sv", check=False)
    assert r.returncode == 1 and "managed save image" in r.stderr
    r = daemon.domus("managedsave-remove", "sv", check=True)
    assert r.stdout == "Removed managedsave image for domain 'sv'\n\n"
    assert "Managed save:   no" in daemon.domus("dominfo", "sv", check=True).stdout
    r = daemon.domus("restore", path, "--running", "--paused", check=False)
    assert r.returncode == 1 and "mutually exclusive" in r.stderr
    r = daemon.domus("restore", os.path.join(daemon.root, "nothing.save"), check=False)
    assert r.returncode == 1 and "nothing.save" in r.stderr


def test_virsh_save_verbose(daemon, sg):
    """virsh asks for the job's progress on the connection the save runs on."""
    c, dom = sg
    if not dom.isActive():
        dom.create()
    path = os.path.join(daemon.root, "sv-v.save")
    r = daemon.virsh("save", "sv", path, "--verbose")
    assert re.findall(r"Save: \[100 %\]", r.stderr), r.stderr
    assert dom.state()[1] == E.VIR_DOMAIN_SHUTOFF_SAVED
    # the finished job's figures stay for --completed (and go once read without
    # --keep-completed)
    out = daemon.virsh("domjobinfo", "sv", "--completed", "--keep-completed").stdout
    assert re.search(r"Job type:\s+Completed", out) and re.search(r"Operation:\s+Save", out), out
    total = re.search(r"Data total:\s+(\S+ \S+)", out)
    assert total and re.search(r"Data remaining:\s+0\.000 B", out), out
    assert "Completed" in daemon.virsh("domjobinfo", "sv", "--completed").stdout
    assert "None" in daemon.virsh("domjobinfo", "sv", "--completed").stdout
    daemon.virsh("restore", path)
    assert dom.isActive()


def test_managed_save_survives_restart(daemon, sg):
    """The image is found again by the next daemon: dominfo says so and start resumes."""
    c = daemon.conn()
    dom = c.lookupByName("sv")
    mark = running_with_mark(dom)
    dom.managedSave()
    daemon.stop()
    daemon.start()
    assert "Managed save:   yes" in daemon.virsh("dominfo", "sv").stdout
    daemon.virsh("start", "sv")
    c = daemon.conn()
    dom = c.lookupByName("sv")
    assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
    assert ram_value(dom) == mark
    assert dom.hasManagedSaveImage() == 0


def test_save_image_format_config(daemon, sg):
    """domusd.conf's [qemu] save_image_format (qemu.conf's): save and managedsave write QEMU's
    stream through that program, the header names it, and both images restore."""
    conf = os.path.join(daemon.root, "etc", "domusd.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    with open(conf, "w") as f:
        f.write("[qemu]\nsave_image_format = gzip\n")
    daemon.stop()
    daemon.start()
    try:
        c = daemon.conn()
        dom = c.lookupByName("sv")
        mark = running_with_mark(dom)
        path = os.path.join(daemon.root, "sv-conf.save")
        dom.save(path)
        magic, version, data_len, was_running, compressed = header(path)
        assert (magic, compressed) == (b"LibvirtQemudSave", 1)
        with open(path, "rb") as f:
            f.seek(92 + data_len)
            assert f.read(2) == b"\x1f\x8b", "QEMU's stream went through gzip"
        c.restore(path)
        assert ram_value(dom) == mark
        dom.managedSave()
        assert header(managed_path(daemon))[4] == 1
        dom.create()
        assert dom.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]
        assert ram_value(dom) == mark
        assert filters(daemon) == []
    finally:
        os.unlink(conf)
        daemon.stop()
        daemon.start()


@pytest.mark.parametrize("delay", [0, 0.05, 0.15])
def test_sigkill_during_save(daemon, sg, delay):
    """Killed in the middle of a save (as soon as its job shows, and a little later), the daemon
    comes back to a guest that runs (its save undone, nothing half-written left) or, when the
    save had finished, a complete image that restores."""
    c = daemon.conn()
    dom = c.lookupByName("sv")
    mark = running_with_mark(dom)
    path = os.path.join(daemon.root, f"sv-kill-{delay}.save")
    def save():
        try:
            dom.save(path)
        except libvirt.libvirtError:
            pass  # its daemon died

    t = threading.Thread(target=save)
    watch = daemon.conn().lookupByName("sv")
    t.start()
    deadline = time.time() + 30
    while watch.jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE and time.time() < deadline:
        pass
    time.sleep(delay)
    daemon.stop(signal.SIGKILL)
    t.join()
    daemon.start()
    c = daemon.conn()
    d = c.lookupByName("sv")
    guest.wait(lambda: d.state()[0] != E.VIR_DOMAIN_PAUSED, 10, "the save to be undone")
    assert leftovers(daemon) == [], "no temporary file is left"
    if d.state()[0] == E.VIR_DOMAIN_RUNNING:
        # (save canceled; or the reason it had, when the daemon died before it heard that its
        # pause was done)
        assert ram_value(d) == mark, "the guest kept its state"
        assert not os.path.exists(path) or header(path)[0] == b"LibvirtQemudSave"
    else:
        # the save was over before the kill: its image is whole and restores
        assert d.state()[0] == E.VIR_DOMAIN_SHUTOFF
        assert header(path)[0] == b"LibvirtQemudSave"
        c.restore(path)
        assert ram_value(d) == mark
    assert len(daemon.guest_pids()) == 1
    c.close()
