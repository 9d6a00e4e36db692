# SPDX-License-Identifier: LGPL-2.1-or-later
"""Device identity with real QEMU: addresses given at define and kept in the persistent
definition, aliases given at start, both honoured on QEMU's command line (QEMU's own view,
query-pci, agrees with the live XML), block node names for every image of a backing chain,
and all of it kept across a daemon restart. Guests are started paused: nothing boots."""
import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from conftest import Daemon, qemu_pid

PC_DEVICES = """
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{top}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{raw}'/>
      <target dev='vdb' bus='virtio'/>
      <alias name='ua-scratch'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <controller type='pci' index='1' model='pci-bridge'/>
    <interface type='user'>
      <mac address='52:54:00:aa:00:01'/>
      <model type='virtio'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:aa:00:02'/>
      <model type='e1000'/>
      <alias name='ua-mgmt'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x05' function='0x0'/>
    </interface>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <input type='tablet' bus='usb'/>
    <video><model type='vga'/></video>
    <sound model='ich6'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
"""

Q35_DEVICES = """
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{raw}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <controller type='pci' index='1' model='pcie-root-port'/>
    <controller type='pci' index='2' model='pcie-root-port'/>
    <interface type='user'>
      <mac address='52:54:00:aa:00:03'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:aa:00:04'/>
      <model type='rtl8139'/>
    </interface>
    <video><model type='virtio'/></video>
"""


def domain(name, devices, machine="pc"):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='{machine}'>hvm</type></os>
  <devices>{devices}</devices>
</domain>
"""


def images(daemon, name):
    """A qcow2 over a qcow2 over a raw base (formats recorded), and a raw scratch disk."""
    d = os.path.join(daemon.root, "img-" + name)
    os.makedirs(d, exist_ok=True)
    base, mid, top = (os.path.join(d, n) for n in ("base.raw", "mid.qcow2", "top.qcow2"))
    raw = os.path.join(d, "scratch.raw")
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", base, "16M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, mid],
                   check=True)
    # a relative name, as qemu-img writes it when asked: resolved against top's directory
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                    "mid.qcow2", top], cwd=d, check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", raw, "8M"], check=True)
    return {"base": base, "mid": mid, "top": top, "raw": raw}


def qmp(dom, command, **arguments):
    import libvirt_qemu
    cmd = {"execute": command}
    if arguments:
        cmd["arguments"] = arguments
    reply = json.loads(libvirt_qemu.qemuMonitorCommand(dom, json.dumps(cmd), 0))
    if "error" in reply:
        raise LookupError(reply["error"]["desc"])
    return reply["return"]


def qemu_place(dom, alias):
    """(bus name, slot, function) of device ALIAS as QEMU has it (its parent bus and its
    addr property: slot << 3 | function); None when QEMU has no such device."""
    try:
        bus = qmp(dom, "qom-get", path=f"/machine/peripheral/{alias}", property="parent_bus")
        addr = qmp(dom, "qom-get", path=f"/machine/peripheral/{alias}", property="addr")
    except LookupError:
        return None
    return (bus.rsplit("/", 1)[1], addr >> 3, addr & 7)


def xml_pci(dom_xml):
    """alias -> (bus index, slot, function) from the <address type='pci'>es of the XML."""
    out = {}
    root = ET.fromstring(dom_xml)
    for dev in root.find("devices"):
        alias = dev.find("alias")
        addr = dev.find("address")
        if alias is None or addr is None or addr.get("type") != "pci":
            continue
        out.setdefault(alias.get("name"), (int(addr.get("bus"), 16), int(addr.get("slot"), 16),
                                           int(addr.get("function"), 16)))
    return out


def bus_ids(dom_xml):
    root = ET.fromstring(dom_xml)
    ids = {}
    for c in root.find("devices").findall("controller"):
        if c.get("type") == "pci":
            ids[int(c.get("index"))] = c.find("alias").get("name")
    return ids


def check_qemu_agrees(dom):
    """Every PCI device of the live XML is where QEMU has it."""
    live = dom.XMLDesc(0)
    want = xml_pci(live)
    ids = bus_ids(live)
    have = {}
    for alias, (bus, slot, function) in want.items():
        place = qemu_place(dom, alias)
        if alias in ("ide", "usb") and place is None:
            continue  # built into the chipset: no peripheral of ours
        assert place == (ids[bus], slot, function), alias
        have[alias] = place
    return want, have


def test_pc_identity_kept_from_define_to_restart(daemon):
    img = images(daemon, "pc")
    path = daemon.write("ident-pc.xml", domain("ident-pc", PC_DEVICES.format(**img)))
    daemon.virsh("define", path)

    # define: addresses for every PCI device, kept; only the user's aliases
    inactive = daemon.virsh("dumpxml", "--inactive", "ident-pc").stdout
    root = ET.fromstring(inactive)
    aliases = [a.get("name") for a in root.iter("alias")]
    assert sorted(aliases) == ["ua-mgmt", "ua-scratch"]
    pci = {d.find("target").get("dev"): d.find("address").attrib
           for d in root.find("devices").findall("disk")}
    assert pci["vdb"]["slot"] == "0x0a"                 # as given
    assert pci["vda"]["type"] == "pci"                  # assigned
    assert pci["hdc"] == {"type": "drive", "controller": "0", "bus": "1", "target": "0",
                          "unit": "0"}
    models = [(c.get("type"), c.get("model")) for c in root.iter("controller")]
    assert ("pci", "pci-root") in models and ("ide", None) in models
    assert ("virtio-serial", None) in models and ("usb", "piix3-uhci") in models
    assert root.find("devices/memballoon").get("model") == "virtio"
    video = root.find("devices/video/address").attrib
    assert (video["bus"], video["slot"]) == ("0x00", "0x02")
    # defining what dumpxml gave changes nothing
    daemon.write("ident-pc-again.xml", inactive)
    daemon.virsh("define", os.path.join(daemon.root, "ident-pc-again.xml"))
    assert daemon.virsh("dumpxml", "--inactive", "ident-pc").stdout == inactive

    daemon.virsh("start", "--paused", "ident-pc")
    dom = daemon.conn().lookupByName("ident-pc")
    live = dom.XMLDesc(0)
    want, have = check_qemu_agrees(dom)
    for alias in ("virtio-disk0", "ua-scratch", "net0", "ua-mgmt", "video0", "sound0", "rng0",
                  "balloon0", "usb", "virtio-serial0", "pci.1"):
        assert alias in want and alias in have, alias
    assert have["ua-mgmt"][0] == "pci.1"

    # the backing chain: one node per image, named in the live XML by index
    root = ET.fromstring(live)
    vda = [d for d in root.find("devices").findall("disk")
           if d.find("target").get("dev") == "vda"][0]
    top_index = vda.find("source").get("index")
    chain, node = [], vda.find("backingStore")
    while node is not None and node.get("index"):
        chain.append((node.get("index"), node.find("format").get("type"),
                      node.find("source").get("file")))
        node = node.find("backingStore")
    assert [c[1:] for c in chain] == [("qcow2", img["mid"]), ("raw", img["base"])]
    nodes = {n["node-name"]: n for n in qmp(dom, "query-named-block-nodes")}
    top = nodes[f"domus-{top_index}-format"]
    assert top["drv"] == "qcow2" and top["backing_file_depth"] == 2 and not top["ro"]
    assert nodes[f"domus-{top_index}-storage"]["file"] == img["top"]
    assert nodes[f"domus-{chain[0][0]}-format"]["drv"] == "qcow2"
    assert nodes[f"domus-{chain[0][0]}-format"]["ro"]
    assert nodes[f"domus-{chain[0][0]}-storage"]["file"] == img["mid"]
    assert nodes[f"domus-{chain[1][0]}-format"]["drv"] == "raw"
    assert nodes[f"domus-{chain[1][0]}-storage"]["file"] == img["base"]
    # the guest's disk is the top node
    blocks = {b["qdev"]: b for b in qmp(dom, "query-block") if b.get("qdev")}
    vda_qdev = [q for q in blocks if "virtio-disk0" in q][0]
    assert blocks[vda_qdev]["inserted"]["node-name"] == f"domus-{top_index}-format"

    # a daemon restart keeps all of it
    daemon.stop()
    daemon.start()
    dom = daemon.conn().lookupByName("ident-pc")
    assert dom.XMLDesc(0) == live
    dom.destroy()


def test_q35_root_ports(daemon):
    img = images(daemon, "q35")
    path = daemon.write("ident-q35.xml", domain("ident-q35", Q35_DEVICES.format(**img), "q35"))
    daemon.virsh("define", path)
    root = ET.fromstring(daemon.virsh("dumpxml", "--inactive", "ident-q35").stdout)
    ports = [c for c in root.iter("controller") if c.get("model") == "pcie-root-port"]
    # the two given, of which the virtio NIC takes one; three Express devices without an
    # address (vda, the qemu-xhci USB controller, the balloon) need two more
    assert len(ports) == 4
    assert all(c.find("address").get("bus") == "0x00" for c in ports)
    daemon.virsh("start", "--paused", "ident-q35")
    dom = daemon.conn().lookupByName("ident-q35")
    want, have = check_qemu_agrees(dom)
    assert have["net0"][0] == "pci.2"
    assert have["virtio-disk0"][0].startswith("pci.")
    assert have["net1"][0] == "pcie.0"                # rtl8139: a conventional device
    assert have["video0"] == ("pcie.0", 1, 0)         # the primary video at 00:01.0
    dom.destroy()


@pytest.mark.parametrize("devices,code,message", [
    ("""<interface type='user'><mac address='52:54:00:aa:00:05'/>
          <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
        <interface type='user'><mac address='52:54:00:aa:00:06'/>
          <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
        </interface>""",
     libvirt.VIR_ERR_XML_ERROR, "Attempted double use of PCI Address 0000:00:03.0"),
    ("""<interface type='user'><mac address='52:54:00:aa:00:07'/>
          <address type='pci' domain='0x0000' bus='0x04' slot='0x01' function='0x0'/>
        </interface>""",
     libvirt.VIR_ERR_XML_ERROR, "names bus 4, which no PCI controller of this domain provides"),
    ("""<interface type='user'><mac address='52:54:00:aa:00:08'/>
          <address type='pci' domain='0x0000' bus='0x00' slot='0x20' function='0x0'/>
        </interface>""",
     libvirt.VIR_ERR_INVALID_ARG, "out of range"),
    ("<controller type='pci' index='1' model='pcie-switch-upstream-port'/>",
     libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "'pcie-switch-upstream-port' (index 1) is not supported"),
    ("""<interface type='user'><mac address='52:54:00:aa:00:09'/><alias name='ua-x'/></interface>
        <interface type='user'><mac address='52:54:00:aa:00:0a'/><alias name='ua-x'/></interface>""",
     libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "non unique alias detected: ua-x"),
])
def test_bad_addresses_change_nothing(daemon, devices, code, message):
    before = daemon.snapshot_config()
    c = daemon.conn()
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(domain("ident-bad", devices))
    assert e.value.get_error_code() == code
    assert message in e.value.get_error_message()
    assert daemon.snapshot_config() == before
    with pytest.raises(libvirt.libvirtError):
        c.lookupByName("ident-bad")


def test_backing_without_recorded_format_refused_at_start(daemon):
    d = os.path.join(daemon.root, "img-noformat")
    os.makedirs(d, exist_ok=True)
    base, top = os.path.join(d, "base.img"), os.path.join(d, "top.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", base, "8M"], check=True)
    # an image naming its backing file without its format, as old tools wrote them: today's
    # qemu-img insists on one, so its header extension is renamed to one nobody knows
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, top],
                   check=True)
    with open(top, "r+b") as f:
        head = f.read(65536)
        at = head.index(bytes.fromhex("e2792aca"))
        f.seek(at)
        f.write(bytes.fromhex("7aa7b00f"))
    xml = domain("ident-nofmt", f"""<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='{top}'/><target dev='vda' bus='virtio'/>
    </disk>""")
    c = daemon.conn()
    dom = c.defineXML(xml)
    pids = set(daemon.guest_pids())
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    msg = e.value.get_error_message()
    assert "format of backing image" in msg and "qemu-img rebase" in msg, msg
    assert not dom.isActive()
    assert set(daemon.guest_pids()) == pids


def test_hostdev_checked_at_start(daemon):
    """A host PCI device is defined (its guest address assigned like any PCI device's), and a
    start checks it on the host before QEMU runs: a missing one, or a real one that is not
    ready for VFIO and not managed, is a clear error; nothing runs, nothing changes. (Only
    managed='no' is tried on the machine's real devices: it never writes to sysfs.)"""
    c = daemon.conn()
    missing = """<hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0xff' slot='0x1f' function='0x7'/></source>
    </hostdev>"""
    dom = c.defineXML(domain("ident-hostdev", missing))
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    host = ET.fromstring(xml).find("devices/hostdev")
    assert host.get("managed") == "yes"
    assert host.find("source/address").get("bus") == "0xff"
    assert host.find("address").get("type") == "pci"
    pids = set(daemon.guest_pids())
    before = daemon.snapshot_config()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "host PCI device 0000:ff:1f.7 does not exist; check its address with 'lspci -D'" \
        in e.value.get_error_message()
    assert not dom.isActive()
    assert set(daemon.guest_pids()) == pids
    assert daemon.snapshot_config() == before

    sysdevs = "/sys/bus/pci/devices"
    real = sorted(d for d in os.listdir(sysdevs)
                  if os.path.islink(os.path.join(sysdevs, d, "driver"))) if os.path.isdir(sysdevs) else []
    if real:
        addr = real[-1]
        drv = os.path.basename(os.readlink(os.path.join(sysdevs, addr, "driver")))
        d, b, sf = addr.split(":")
        s, f = sf.split(".")
        dom.undefine()
        dom = c.defineXML(domain("ident-hostdev", f"""<hostdev mode='subsystem' type='pci'>
          <source><address domain='0x{d}' bus='0x{b}' slot='0x{s}' function='0x{f}'/></source>
        </hostdev>"""))
        with pytest.raises(libvirt.libvirtError) as e:
            dom.create()
        msg = e.value.get_error_message()
        if not os.path.islink(os.path.join(sysdevs, addr, "iommu_group")):
            assert f"host PCI device {addr} is in no IOMMU group" in msg, msg
        elif drv != "vfio-pci":
            assert f"host PCI device {addr} is bound to '{drv}', not vfio-pci" in msg, msg
        assert not dom.isActive()
        assert set(daemon.guest_pids()) == pids
        assert os.path.basename(os.readlink(os.path.join(sysdevs, addr, "driver"))) == drv
    dom.undefine()


def qmp_direct(path, commands):
    """Speaks QMP on a monitor socket no daemon holds: COMMANDS run in turn; returns the
    messages read (replies and events)."""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rw")
    msgs = [json.loads(f.readline())]
    for cmd in [{"execute": "qmp_capabilities"}] + commands:
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:
            m = json.loads(f.readline())
            msgs.append(m)
            if "return" in m or "error" in m:
                break
    # a USB unplug's DEVICE_DELETED follows its reply
    s.settimeout(5)
    try:
        while not any(m.get("event") == "DEVICE_DELETED" for m in msgs):
            msgs.append(json.loads(f.readline()))
    except (OSError, ValueError):
        pass
    s.close()
    return msgs


def test_unplug_while_the_daemon_is_away(daemon):
    """A device QEMU let go of while no daemon listened (its DEVICE_DELETED went nowhere) is
    gone from the live definition once a daemon adopts the domain again."""
    import signal
    c = daemon.conn()
    dom = c.defineXML(domain("ident-away", "<input type='tablet' bus='usb'/>"))
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    tablet = ET.fromstring(dom.XMLDesc()).find("devices/input[@type='tablet']")
    alias = tablet.find("alias").get("name")
    c.close()
    daemon.stop(signal.SIGKILL)
    try:
        msgs = qmp_direct(os.path.join(daemon.root, "run", "qemu", "ident-away.monitor"),
                          [{"execute": "device_del", "arguments": {"id": alias}}])
        assert any(m.get("event") == "DEVICE_DELETED" for m in msgs), msgs
    finally:
        daemon.start()
    c = daemon.conn()
    dom = c.lookupByName("ident-away")
    assert dom.isActive()
    deadline = time.time() + 10
    while ET.fromstring(dom.XMLDesc()).find("devices/input[@type='tablet']") is not None:
        assert time.time() < deadline, dom.XMLDesc()
        time.sleep(0.05)
    assert "<input type='tablet'" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    dom.undefine()


DRIVER_DEVICES = """
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='writethrough' error_policy='stop'
              rerror_policy='report' discard='unmap' detect_zeroes='unmap' queues='2'
              queue_size='256' ioeventfd='off' event_idx='off' packed='on' page_per_vq='on'/>
      <source file='{top}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='unsafe' io='threads' error_policy='enospace'
              detect_zeroes='on'/>
      <source file='{raw}'/>
      <target dev='sda' bus='sata'/>
    </disk>
"""


def io_uring_allowed():
    """Whether this kernel lets a process set an io_uring up (io_uring_setup, syscall 425) and
    has not restricted it (kernel.io_uring_disabled, Linux 6.6: the daemon then keeps QEMU's
    thread pool)."""
    import ctypes
    try:
        if open("/proc/sys/kernel/io_uring_disabled").read().strip() != "0":
            return False
    except OSError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 1, params)
    if fd >= 0:
        os.close(fd)
    return fd >= 0


def test_disk_driver_options_reach_qemu(daemon, tmp_path):
    """<driver> cache, error_policy, rerror_policy, io, discard, detect_zeroes, queues,
    queue_size, ioeventfd, event_idx and the virtio options as QEMU has them (its block nodes and device properties); a disk without io=
    gets io_uring where this host's QEMU and kernel allow it, a hot-plugged one too, and
    [qemu] default_disk_io = threads keeps QEMU's own engine."""
    img = images(daemon, "drv")
    # ACPI: PIIX's PCI hot-plug needs it
    xml = domain("drv", DRIVER_DEVICES.format(**img)).replace(
        "<devices>", "<features><acpi/></features><devices>")
    daemon.virsh("define", daemon.write("drv.xml", xml))
    daemon.virsh("start", "--paused", "drv")
    dom = daemon.conn().lookupByName("drv")
    try:
        nodes = {n["node-name"]: n for n in qmp(dom, "query-named-block-nodes", flat=True)}
        live = ET.fromstring(dom.XMLDesc(0))
        index = {d.find("target").get("dev"): d.find("source").get("index")
                 for d in live.find("devices").findall("disk")}
        vda, sda = (f"domus-{index[t]}-format" for t in ("vda", "sda"))
        # writethrough: no write cache for the guest, host page cache on; unsafe: flushes
        # dropped
        assert nodes[vda]["cache"] == {"writeback": True, "direct": False, "no-flush": False}
        assert nodes[sda]["cache"] == {"writeback": True, "direct": False, "no-flush": True}
        assert nodes[vda]["detect_zeroes"] == "unmap" and nodes[sda]["detect_zeroes"] == "on"
        disk0, disk1 = "/machine/peripheral/virtio-disk0", "/machine/peripheral/sata0-0-0"
        prop = lambda path, p: qmp(dom, "qom-get", path=path, property=p)  # noqa: E731
        assert prop(disk0, "write-cache") == "off" and prop(disk1, "write-cache") == "on"
        assert (prop(disk0, "werror"), prop(disk0, "rerror")) == ("stop", "report")
        assert (prop(disk1, "werror"), prop(disk1, "rerror")) == ("enospc", "auto")
        assert (prop(disk0, "num-queues"), prop(disk0, "queue-size")) == (2, 256)
        backend = disk0 + "/virtio-backend"
        assert (prop(disk0, "ioeventfd"), prop(backend, "event_idx")) == (False, False)
        assert (prop(backend, "packed"), prop(disk0, "page-per-vq")) == (True, True)
        # the engine, from QEMU's own command line
        argv = open(f"/proc/{qemu_pid(daemon, 'drv')}/cmdline").read().split("\0")
        engines = {json.loads(a)["filename"]: json.loads(a).get("aio")
                   for a in argv if a.startswith('{"driver":"file"')}
        want = "io_uring" if io_uring_allowed() else None
        assert engines[img["top"]] == want and engines[img["raw"]] == "threads"
        assert engines[img["base"]] == want  # every image of the chain
        # a disk plugged in gets the same engine
        extra = os.path.join(daemon.root, "img-drv", "extra.raw")
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", extra, "4M"], check=True)
        mark = os.path.getsize(os.path.join(daemon.root, "domusd.log"))
        daemon.virsh("attach-disk", "drv", extra, "vdc", "--live")
        with open(os.path.join(daemon.root, "domusd.log")) as f:
            f.seek(mark)
            added = [line for line in f if '"execute":"blockdev-add"' in line and extra in line]
        assert len(added) == 1 and (f'"aio":"{want}"' in added[0]) == bool(want), added
    finally:
        dom.destroy()
        daemon.virsh("undefine", "drv")

    # QEMU's own engine when the configuration says so
    d = Daemon()
    os.makedirs(os.path.join(d.root, "etc"))
    with open(os.path.join(d.root, "etc", "domusd.conf"), "w") as f:
        f.write("[qemu]\ndefault_disk_io = threads\n")
    d.start()
    try:
        d.virsh("define", d.write("drv.xml", xml))
        d.virsh("start", "--paused", "drv")
        argv = open(f"/proc/{qemu_pid(d, 'drv')}/cmdline").read().split("\0")
        engines = {json.loads(a)["filename"]: json.loads(a).get("aio")
                   for a in argv if a.startswith('{"driver":"file"')}
        assert engines[img["top"]] is None and engines[img["raw"]] == "threads"
        d.virsh("destroy", "drv")
    finally:
        d.destroy()
