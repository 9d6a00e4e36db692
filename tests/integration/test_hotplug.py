# SPDX-License-Identifier: LGPL-2.1-or-later
"""Devices plugged into and out of a running real guest (issue 11, part 4): a disk appears as
/sys/block/vdb in the guest and goes after the detach (DEVICE_ADDED and DEVICE_REMOVED reach
clients), a CD-ROM's media changes under the guest, a disk grows while it runs, a USB tablet
comes and goes; --config and --persistent with libvirt's rules; attach-disk, detach-disk,
change-media, blockresize through stock virsh and domus; the refusals, which change nothing.
One guest booted for the module (q35, with spare PCI Express root ports as virt-install
gives)."""
import os
import re
import subprocess
import threading
import xml.etree.ElementTree as ET

import libvirt
import pytest

import guest

E = libvirt
pytestmark = pytest.mark.keep_domains

ROOT_PORTS = "<controller type='pci' model='pcie-root-port'/>" * 10
CDROM = ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
         "<target dev='sdb' bus='sata'/><readonly/></disk>")
# memory hot-plug: room for modules, the NUMA cell QEMU needs for them, and a guest kernel
# that onlines plugged memory as movable (so that it can give it back)
MEMORY = ("<maxMemory slots='4' unit='MiB'>1024</maxMemory>",
          "<cpu><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>",
          " memhp_default_state=online_movable</cmdline>")
DIMM = ("<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target>"
        "</memory>")


@pytest.fixture(scope="module")
def hp(daemon, loop):
    c, dom, disk = guest.with_disk(daemon, "hp", edit=lambda x: x.replace(
        "<panic model='isa'/>", "<panic model='isa'/>" + ROOT_PORTS + CDROM).replace(
        "<memory unit='MiB'>256</memory>", MEMORY[0] + "<memory unit='MiB'>256</memory>").replace(
        "<vcpu>1</vcpu>", "<vcpu>1</vcpu>" + MEMORY[1]).replace("</cmdline>", MEMORY[2]).replace(
        "<target dev='vda' bus='virtio'/></disk>",
        "<target dev='vda' bus='virtio'/><iotune><read_iops_sec>5000</read_iops_sec></iotune>"
        "</disk>"))
    events = []
    cond = threading.Condition()

    def on_removed(conn, d, alias, opaque):
        with cond:
            events.append(("removed", alias))
            cond.notify_all()

    def on_added(conn, d, alias, opaque):
        with cond:
            events.append(("added", alias))
            cond.notify_all()

    c.domainEventRegisterAny(dom, E.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, on_removed, None)
    c.domainEventRegisterAny(dom, E.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, on_added, None)
    yield c, dom, disk, (events, cond)
    guest.drop(c, "hp")


def image(daemon, name, size="16M", fmt="qcow2"):
    path = os.path.join(daemon.root, name)
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, path, size], check=True)
    return path


def disk_xml(path, target, fmt="qcow2", bus="virtio", extra=""):
    """A disk whose serial is its target: the guest names disks in the order they come, so
    the serial is what finds it there."""
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
            f"<source file='{path}'/><target dev='{target}' bus='{bus}'/>"
            f"<serial>{target}</serial>{extra}</disk>")


def in_guest(dom, script):
    rc, out = guest.agent_exec(dom, "/bin/sh", "-c", script)
    return rc, out.strip()


def guest_disk(dom, serial):
    """The guest's name of the disk with SERIAL, or None."""
    rc, out = in_guest(dom, "for d in /sys/block/*; do [ \"$(cat $d/serial 2>/dev/null)\" = "
                       f"{serial} ] && basename $d; done; true")
    return out or None


def wait_event(ev, want, seconds=60):
    events, cond = ev
    with cond:
        assert cond.wait_for(lambda: want in events, seconds), events
        events.remove(want)


def disks(dom, flags=0):
    root = ET.fromstring(dom.XMLDesc(flags))
    return {d.find("target").get("dev"): d for d in root.findall("devices/disk")}


def test_disk_attach_and_detach_live(daemon, hp):
    c, dom, _, ev = hp
    path = image(daemon, "hp-b.qcow2")
    # libvirt's oldest call: live only; the disk's <iotune> goes to QEMU with it
    dom.attachDevice(disk_xml(path, "vdb",
                              extra="<iotune><total_iops_sec>400</total_iops_sec></iotune>"))
    live = disks(dom)
    assert live["vdb"].find("source").get("file") == path
    alias = live["vdb"].find("alias").get("name")
    assert alias == "virtio-disk1"
    assert live["vdb"].find("address").get("type") == "pci"
    assert "vdb" not in disks(dom, E.VIR_DOMAIN_XML_INACTIVE)  # not in the config
    assert qmp_block(daemon, alias)["inserted"]["iops"] == 400
    for flags in ([], ["--details"], ["--inactive"], ["--inactive", "--details"]):
        out = daemon.virsh("domblklist", "hp", *flags).stdout
        assert daemon.domus("domblklist", "hp", *flags).stdout == out, flags
        assert (path in out) == ("--inactive" not in flags), out
    assert live["vdb"].find("iotune/total_iops_sec").text == "400"
    wait_event(ev, ("added", alias))
    guest.wait(lambda: guest_disk(dom, "vdb"), 60, "vdb in the guest")
    name = guest_disk(dom, "vdb")
    # the guest writes to it: a real block device behind it
    rc, out = in_guest(dom, f"echo hotplugged | dd of=/dev/{name} bs=512 count=1 conv=sync,fsync "
                       f"2>/dev/null && dd if=/dev/{name} bs=512 count=1 2>/dev/null")
    assert rc == 0 and out.startswith("hotplugged"), out
    assert dom.isUpdated()

    dom.detachDeviceFlags(disk_xml(path, "vdb"), E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("removed", alias))
    assert "vdb" not in disks(dom)
    guest.wait(lambda: not guest_disk(dom, "vdb"), 60, "vdb to leave the guest")
    # QEMU let go of the image: another user may open it for writing
    out = subprocess.run(["qemu-img", "info", "--force-share", "--output=json", path],
                         capture_output=True, text=True)
    assert out.returncode == 0
    subprocess.run(["qemu-img", "check", path], check=True, capture_output=True)


def test_attach_persistent_and_config_only(daemon, hp):
    c, dom, _, ev = hp
    path = image(daemon, "hp-c.qcow2")
    # virsh attach-disk --persistent: live and config, same address in both
    daemon.virsh("attach-disk", "hp", path, "vdc", "--driver", "qemu", "--subdriver", "qcow2",
                 "--serial", "vdc", "--persistent")
    live, config = disks(dom)["vdc"], disks(dom, E.VIR_DOMAIN_XML_INACTIVE)["vdc"]
    assert live.find("address").attrib == config.find("address").attrib
    assert config.find("alias") is None  # runtime aliases stay out of the config
    wait_event(ev, ("added", "virtio-disk2"))
    guest.wait(lambda: guest_disk(dom, "vdc"), 60, "vdc in the guest")
    # detach-disk --config only: the guest keeps it until the next start
    daemon.virsh("detach-disk", "hp", "vdc", "--config")
    assert "vdc" in disks(dom) and "vdc" not in disks(dom, E.VIR_DOMAIN_XML_INACTIVE)
    assert guest_disk(dom, "vdc")
    out = daemon.virsh("detach-disk", "hp", "vdc", "--live").stdout
    assert "Disk detached successfully" in out
    wait_event(ev, ("removed", "virtio-disk2"))
    assert "vdc" not in disks(dom)


def test_domus_attach_detach_device(daemon, hp):
    c, dom, _, ev = hp
    path = image(daemon, "hp-d.raw", fmt="raw")
    xml = os.path.join(daemon.root, "hp-d.xml")
    with open(xml, "w") as f:
        f.write(disk_xml(path, "vdd", fmt="raw"))
    out = daemon.domus("attach-device", "hp", xml, "--live").stdout
    assert out == "Device attached successfully\n\n"
    wait_event(ev, ("added", "virtio-disk3"))
    guest.wait(lambda: guest_disk(dom, "vdd"), 60, "vdd in the guest")
    out = daemon.domus("detach-device", "hp", xml).stdout
    assert out == "Device detached successfully\n\n"
    wait_event(ev, ("removed", "virtio-disk3"))
    # by alias, as virsh detach-device-alias: nothing of that name now
    r = daemon.virsh("detach-device-alias", "hp", "virtio-disk3", check=False)
    assert r.returncode != 0 and "no device with alias 'virtio-disk3'" in r.stderr


def test_refusals_change_nothing(daemon, hp):
    c, dom, disk, _ = hp
    before_live, before_config = dom.XMLDesc(0), dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    path = image(daemon, "hp-e.qcow2")
    cases = [
        # a target the domain has
        (disk_xml(path, "vda"), E.VIR_ERR_OPERATION_INVALID, "already has a device with disk "
         "target 'vda'"),
        # a bus QEMU cannot plug into
        (disk_xml(path, "sdc", bus="sata"), E.VIR_ERR_OPERATION_UNSUPPORTED,
         "cannot be hot-plugged"),
        # an image that is not there
        (disk_xml("/nonexistent/x.qcow2", "vde"), E.VIR_ERR_OPERATION_FAILED, "does not exist"),
        # a device kind hot-plug does not know
        ("<video><model type='vga'/></video>", E.VIR_ERR_OPERATION_UNSUPPORTED,
         "cannot be attached"),
        ("<disk type='file'><target dev='vdf'/>", E.VIR_ERR_XML_ERROR, ""),
    ]
    for xml, code, text in cases:
        with pytest.raises(libvirt.libvirtError) as e:
            dom.attachDeviceFlags(xml, E.VIR_DOMAIN_AFFECT_LIVE | E.VIR_DOMAIN_AFFECT_CONFIG)
        assert e.value.get_error_code() == code, e.value
        assert text in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.detachDeviceFlags(disk_xml(path, "vdz"), E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_DEVICE_MISSING
    assert "has no disk 'vdz'" in str(e.value)
    assert dom.XMLDesc(0) == before_live
    assert dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE) == before_config
    # no block node was left in QEMU by the failed attempts
    import libvirt_qemu
    import json
    nodes = json.loads(libvirt_qemu.qemuMonitorCommand(
        dom, '{"execute":"query-named-block-nodes","arguments":{"flat":true}}', 0))["return"]
    assert not [n for n in nodes if n["file"] == path]


def test_cdrom_media_change(daemon, hp):
    c, dom, _, _ = hp
    iso = os.path.join(daemon.root, "hp.iso")
    with open(iso, "wb") as f:
        f.write(b"DOMUS-MEDIA-1".ljust(1 << 20, b"\0"))
    daemon.virsh("change-media", "hp", "sdb", iso, "--insert", "--live")
    assert disks(dom)["sdb"].find("source").get("file") == iso

    def media():
        rc, out = in_guest(dom, "dd if=/dev/sr0 bs=2048 count=1 2>/dev/null | head -c 13")
        return out if rc == 0 else None

    guest.wait(lambda: media() == "DOMUS-MEDIA-1", 60, "the guest to read the media")
    iso2 = os.path.join(daemon.root, "hp2.iso")
    with open(iso2, "wb") as f:
        f.write(b"DOMUS-MEDIA-2".ljust(1 << 20, b"\0"))
    out = daemon.domus("change-media", "hp", "sdb", iso2, "--update").stdout
    assert "Successfully updated media." in out
    guest.wait(lambda: media() == "DOMUS-MEDIA-2", 60, "the guest to read the new media")
    daemon.virsh("change-media", "hp", "sdb", "--eject")
    assert disks(dom)["sdb"].find("source") is None
    guest.wait(lambda: media() in (None, ""), 60, "the guest to see no media")
    # only a cdrom's media changes: virsh finds no such cdrom, the daemon refuses the update
    r = daemon.virsh("change-media", "hp", "vda", iso, "--update", check=False)
    assert r.returncode != 0 and "No disk found whose source path or target is vda" in r.stderr
    with pytest.raises(libvirt.libvirtError) as e:
        dom.updateDeviceFlags(disk_xml(iso, "vda", fmt="raw"), E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_UNSUPPORTED
    assert "only a cdrom's media can be changed" in str(e.value)
    # --insert where media is: refused by the client, as virsh does
    daemon.virsh("change-media", "hp", "sdb", iso, "--insert", "--config")
    r = daemon.domus("change-media", "hp", "sdb", iso, "--insert", "--config", check=False)
    assert r.returncode != 0 and "already has media" in r.stderr
    assert disks(dom, E.VIR_DOMAIN_XML_INACTIVE)["sdb"].find("source").get("file") == iso
    assert disks(dom)["sdb"].find("source") is None  # the config only


def test_blockresize_grows_the_guests_disk(daemon, hp):
    c, dom, disk, _ = hp
    size = lambda: int(in_guest(dom, "cat /sys/block/vda/size")[1]) * 512
    assert size() == 64 << 20
    daemon.virsh("blockresize", "hp", "vda", "96M")
    guest.wait(lambda: size() == 96 << 20, 60, "the guest to see 96 MiB")
    assert dom.blockInfo("vda")[0] == 96 << 20
    dom.blockResize(disk, 128 << 20, E.VIR_DOMAIN_BLOCK_RESIZE_BYTES)  # by path, in bytes
    guest.wait(lambda: size() == 128 << 20, 60, "the guest to see 128 MiB")
    r = daemon.virsh("blockresize", "hp", "vda", "32M", check=False)
    assert r.returncode != 0 and "only grows disks" in r.stderr
    assert size() == 128 << 20


def test_usb_tablet(daemon, hp):
    c, dom, _, ev = hp
    xml = "<input type='tablet' bus='usb'/>"
    dom.attachDeviceFlags(xml, E.VIR_DOMAIN_AFFECT_LIVE)
    root = ET.fromstring(dom.XMLDesc(0))
    tablet = [i for i in root.findall("devices/input") if i.get("type") == "tablet"]
    assert len(tablet) == 1 and tablet[0].find("address").get("type") == "usb"
    alias = tablet[0].find("alias").get("name")
    wait_event(ev, ("added", alias))
    dom.detachDeviceFlags(xml, E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("removed", alias))  # USB unplug needs no guest cooperation
    root = ET.fromstring(dom.XMLDesc(0))
    assert not [i for i in root.findall("devices/input") if i.get("type") == "tablet"]


def usb_disk_in_guest(dom):
    """The guest's name of a disk behind USB, or None."""
    rc, out = in_guest(dom, "for d in /sys/block/sd*; do readlink -f $d | grep -q /usb && "
                       "basename $d; done; true")
    return out or None


def test_usb_disk(daemon, hp):
    """A usb-storage disk: plugged on a free USB port, found by the guest behind its USB
    controller, written and read, its <iotune> applied on the drive's SCSI disk; unplugged
    without the guest's help."""
    c, dom, _, ev = hp
    path = image(daemon, "hp-u.qcow2")
    xml = disk_xml(path, "sdu", bus="usb",
                   extra="<iotune><read_iops_sec>700</read_iops_sec></iotune>")
    dom.attachDeviceFlags(xml, E.VIR_DOMAIN_AFFECT_LIVE)
    d = disks(dom)["sdu"]
    alias = d.find("alias").get("name")
    assert alias == "usb-disk20"
    assert d.find("address").get("type") == "usb" and d.find("address").get("port")
    wait_event(ev, ("added", alias))
    assert qmp_block(daemon, alias)["inserted"]["iops_rd"] == 700
    guest.wait(lambda: usb_disk_in_guest(dom), 90, "the USB disk in the guest")
    name = usb_disk_in_guest(dom)
    rc, out = in_guest(dom, f"echo usbdisk | dd of=/dev/{name} bs=512 count=1 conv=sync,fsync "
                       f"2>/dev/null && dd if=/dev/{name} bs=512 count=1 2>/dev/null")
    assert rc == 0 and out.startswith("usbdisk"), out
    dom.detachDeviceFlags(xml, E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("removed", alias))  # USB unplug needs no guest cooperation
    assert "sdu" not in disks(dom)
    guest.wait(lambda: not usb_disk_in_guest(dom), 60, "the USB disk to leave the guest")


def test_shut_off_domain(daemon):
    c = daemon.conn()
    from conftest import domain_xml
    dom = c.defineXML(domain_xml("hpoff"))
    path = image(daemon, "hp-off.qcow2")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.attachDevice(disk_xml(path, "vdb"))  # live only: the domain must run
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    assert "is not running" in str(e.value)
    dom.attachDeviceFlags(disk_xml(path, "vdb"), 0)  # current: the config
    assert "vdb" in disks(dom)
    dom.detachDeviceFlags(disk_xml(path, "vdb"), E.VIR_DOMAIN_AFFECT_CONFIG)
    assert "vdb" not in disks(dom)
    dom.undefine()
    c.close()


def test_scsi_disk_brings_its_controller(daemon, hp):
    c, dom, _, ev = hp
    path = image(daemon, "hp-s.qcow2")
    # the domain has no SCSI controller: a virtio-scsi one is plugged first, as libvirt does
    dom.attachDeviceFlags(disk_xml(path, "sdc", bus="scsi"), E.VIR_DOMAIN_AFFECT_LIVE)
    root = ET.fromstring(dom.XMLDesc(0))
    scsi = [x for x in root.findall("devices/controller") if x.get("type") == "scsi"]
    assert len(scsi) == 1 and scsi[0].find("alias").get("name") == "scsi0"
    assert disks(dom)["sdc"].find("address").get("type") == "drive"
    rc, out = in_guest(dom, "true")
    guest.wait(lambda: in_guest(dom, "ls /sys/block | grep -q '^sd'")[0] == 0, 60,
               "the SCSI disk in the guest")
    dom.detachDeviceFlags(disk_xml(path, "sdc", bus="scsi"), E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("removed", "scsi0-0-0-2"))
    # the controller stays (libvirt leaves it too); with no disk on it, it may go
    dom.detachDeviceFlags("<controller type='scsi' index='0'/>", E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("removed", "scsi0"))


def mem_total(dom):
    rc, out = in_guest(dom, "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo")
    assert rc == 0, out
    return int(out)


def test_memory_module(daemon, hp):
    """A DIMM plugged live: QEMU gets its RAM and pc-dimm, the guest's MemTotal grows, the XML
    shows it in slot 0 (alias dimm0) and <memory> counts it; detach gives it back (the guest
    offlines it, DEVICE_REMOVED). The refusals change nothing."""
    c, dom, disk, ev = hp
    before = mem_total(dom)
    total = dom.info()[1]
    assert total == 256 * 1024
    dom.attachDeviceFlags(DIMM, E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("added", "dimm0"))
    guest.wait(lambda: mem_total(dom) >= before + 120 * 1024, 30, "the module's memory in the "
               "guest")
    assert dom.info()[1] == total + 128 * 1024
    live = dom.XMLDesc(0)
    assert "<alias name='dimm0'/>" in live and "<address type='dimm' slot='0'/>" in live
    assert f"<memory unit='KiB'>{total + 128 * 1024}</memory>" in live
    assert "model='dimm'" not in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    # refusals: past maxMemory, a node the guest lacks, a slot taken
    for xml, code, msg in [
            (DIMM.replace(">128<", ">1024<"), E.VIR_ERR_CONFIG_UNSUPPORTED,
             "would exceed domain's maxMemory"),
            (DIMM.replace("<node>0</node>", "<node>3</node>"), E.VIR_ERR_XML_ERROR,
             "only '1' NUMA nodes"),
            (DIMM.replace("</target>", "</target><address type='dimm' slot='0'/>"),
             E.VIR_ERR_CONFIG_UNSUPPORTED, "slot '0' is already being used")]:
        with pytest.raises(libvirt.libvirtError) as e:
            dom.attachDeviceFlags(xml, E.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == code and msg in str(e.value), str(e.value)
    assert dom.XMLDesc(0) == live
    # the guest gives it back
    dom.detachDeviceFlags(DIMM, E.VIR_DOMAIN_AFFECT_LIVE)
    wait_event(ev, ("removed", "dimm0"))
    assert dom.info()[1] == total and "model='dimm'" not in dom.XMLDesc(0)
    assert abs(mem_total(dom) - before) < 1024
    # the configuration alone, through virsh
    path = os.path.join(daemon.root, "dimm.xml")
    with open(path, "w") as f:
        f.write(DIMM)
    daemon.virsh("attach-device", "hp", path, "--config")
    inactive = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    assert "model='dimm'" in inactive and f"<memory unit='KiB'>{total + 128 * 1024}</memory>" \
        in inactive
    daemon.virsh("detach-device", "hp", path, "--config")
    assert "model='dimm'" not in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)


def qmp_block(daemon, target_alias):
    """query-block's entry of the device whose qdev path has TARGET_ALIAS."""
    import json
    out = daemon.virsh("qemu-monitor-command", "hp", '{"execute":"query-block"}').stdout
    for b in json.loads(out)["return"]:
        if f"/{target_alias}/" in b.get("qdev", "") or b.get("qdev", "").endswith(target_alias):
            return b
    return None


def test_blkdeviotune(daemon, hp):
    """blkdeviotune / setBlockIoTune: QEMU throttles the disk (query-block shows it), given
    fields replace the disk's and the others stay; the config alone; libvirt's refusal of a
    total with its read/write parts; all 0 lifts it."""
    c, dom, disk, ev = hp
    # the definition's <iotune> was applied at start
    assert qmp_block(daemon, "virtio-disk0")["inserted"]["iops_rd"] == 5000
    daemon.virsh("blkdeviotune", "hp", "vda", "--total-bytes-sec", "10485760", "--live")
    ins = qmp_block(daemon, "virtio-disk0")["inserted"]
    assert ins["bps"] == 10485760 and ins["iops_wr"] == 0 and ins["iops_rd"] == 5000, ins
    dom.setBlockIoTune("vda", {"write_iops_sec": 50}, E.VIR_DOMAIN_AFFECT_LIVE)
    ins = qmp_block(daemon, "virtio-disk0")["inserted"]
    assert ins["bps"] == 10485760 and ins["iops_wr"] == 50, ins
    tune = dom.blockIoTune("vda", E.VIR_DOMAIN_AFFECT_LIVE)
    assert tune["total_bytes_sec"] == 10485760 and tune["write_iops_sec"] == 50
    assert tune["group_name"] == "" and len(tune) == 20
    out = daemon.virsh("blkdeviotune", "hp", "vda").stdout
    assert re.search(r"total_bytes_sec\s*: 10485760", out), out
    assert daemon.domus("blkdeviotune", "hp", "vda").stdout == out
    assert "<total_bytes_sec>10485760</total_bytes_sec>" in dom.XMLDesc(0)
    assert "<total_bytes_sec>" not in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    # the guest's disk still works under it
    rc, out = in_guest(dom, "dd if=/dev/vda of=/dev/null bs=64k count=4 2>/dev/null")
    assert rc == 0, out
    # the config alone
    daemon.domus("blkdeviotune", "hp", "vda", "--read-iops-sec", "300", "--config")
    for bad in (["--total-bytes-sec", "x"], ["--read-iops-sec", "-1"]):
        v = daemon.virsh("blkdeviotune", "hp", "vda", *bad, check=False)
        o = daemon.domus("blkdeviotune", "hp", "vda", *bad, check=False)
        assert v.returncode and o.returncode and o.stderr == v.stderr, (o.stderr, v.stderr)
    assert "<read_iops_sec>300</read_iops_sec>" in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    assert ins["iops_rd"] == 5000
    # refused: a total with its read part; a disk the domain lacks
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setBlockIoTune("vda", {"read_bytes_sec": 1000}, E.VIR_DOMAIN_AFFECT_LIVE)
    assert "cannot be set at the same time" in str(e.value)
    assert qmp_block(daemon, "virtio-disk0")["inserted"]["bps_rd"] == 0
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setBlockIoTune("vdz", {"total_iops_sec": 10}, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    # lifted
    dom.setBlockIoTune("vda", {"total_bytes_sec": 0, "write_iops_sec": 0, "read_iops_sec": 0},
                       E.VIR_DOMAIN_AFFECT_LIVE)
    ins = qmp_block(daemon, "virtio-disk0")["inserted"]
    assert ins["bps"] == 0 and ins["iops_wr"] == 0
    assert "<iotune>" not in dom.XMLDesc(0)
    daemon.virsh("blkdeviotune", "hp", "vda", "--read-iops-sec", "5000", "--config")


def test_tunable_events(daemon, hp):
    """VIR_DOMAIN_EVENT_ID_TUNABLE reaches clients on live changes: a vCPU pin, a disk's
    throttle (its whole set, with the disk)."""
    c, dom, disk, ev = hp
    seen = []
    cond = threading.Condition()

    def on_tunable(conn, d, params, opaque):
        with cond:
            seen.append(params)
            cond.notify_all()

    c2 = daemon.conn()
    dom2 = c2.lookupByName("hp")
    cb = c2.domainEventRegisterAny(dom2, E.VIR_DOMAIN_EVENT_ID_TUNABLE, on_tunable, None)
    try:
        dom.pinVcpuFlags(0, (True,) * os.cpu_count(), E.VIR_DOMAIN_AFFECT_LIVE)
        with cond:
            assert cond.wait_for(lambda: seen, 30), seen
        assert seen[0] == {"cputune.vcpupin0": f"0-{os.cpu_count() - 1}"
                           if os.cpu_count() > 1 else "0"}, seen
        dom.setBlockIoTune("vda", {"total_iops_sec": 700}, E.VIR_DOMAIN_AFFECT_LIVE)
        with cond:
            assert cond.wait_for(lambda: len(seen) > 1, 30), seen
        assert seen[1]["blkdeviotune.disk"] == "vda"
        assert seen[1]["blkdeviotune.total_iops_sec"] == 700
        dom.setBlockIoTune("vda", {"total_iops_sec": 0}, E.VIR_DOMAIN_AFFECT_LIVE)
    finally:
        c2.domainEventDeregisterAny(cb)
        c2.close()


VIRTIO_MEM = ("<memory model='virtio-mem'><target><size unit='MiB'>256</size><node>0</node>"
              "<block unit='MiB'>2</block><requested unit='MiB'>0</requested></target></memory>")


def test_virtio_mem(daemon, hp):
    """A virtio-mem device plugged live (its PCI slot on a root port, alias virtiomem0):
    update-memory-device (virsh's and domus's) sets its requested size, the guest plugs blocks
    towards it (MemTotal grows, MEMORY_DEVICE_SIZE_CHANGE tells the size, the live XML's
    <current> follows) and gives them back when it goes down; the refusals change nothing.
    Last in the module: QEMU cannot unplug the device."""
    c, dom, disk, ev = hp
    sizes = []
    cond = threading.Condition()

    def on_size(conn, d, alias, size, opaque):
        with cond:
            sizes.append((alias, size))
            cond.notify_all()

    cb = c.domainEventRegisterAny(dom, E.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, on_size,
                                  None)
    before = mem_total(dom)
    total = dom.info()[1]
    try:
        dom.attachDeviceFlags(VIRTIO_MEM, E.VIR_DOMAIN_AFFECT_LIVE | E.VIR_DOMAIN_AFFECT_CONFIG)
        wait_event(ev, ("added", "virtiomem0"))
        live = dom.XMLDesc(0)
        assert "<alias name='virtiomem0'/>" in live and "<current unit='KiB'>0</current>" in live
        assert dom.info()[1] == total + 256 * 1024
        # --print-xml: the device XML with the new size, alike from both
        args = ["update-memory-device", "hp", "--requested-size", "128M", "--print-xml",
                "--alias", "virtiomem0"]
        printed = daemon.virsh(*args).stdout
        assert "<requested unit='KiB'>131072</requested>" in printed.replace('"', "'")
        assert daemon.domus(*args).stdout == printed
        out = daemon.virsh("update-memory-device", "hp", "--alias", "virtiomem0",
                           "--requested-size", "128M", "--live").stdout
        assert out == "\n"
        with cond:
            assert cond.wait_for(lambda: ("virtiomem0", 131072) in sizes, 60), sizes
        guest.wait(lambda: mem_total(dom) >= before + 120 * 1024, 30, "the blocks in the guest")
        assert "<current unit='KiB'>131072</current>" in dom.XMLDesc(0)
        # down again, through domus: the guest gives the blocks back
        out = daemon.domus("update-memory-device", "hp", "--alias", "virtiomem0",
                           "--requested-size", "0", "--live").stdout
        assert out == "\n"
        with cond:
            assert cond.wait_for(lambda: sizes[-1] == ("virtiomem0", 0), 60), sizes
        guest.wait(lambda: abs(mem_total(dom) - before) < 1024, 30, "the blocks given back")
        # refusals: a size not of whole blocks, more than the device, a changed size, an unplug
        live = dom.XMLDesc(0)
        for args, msg in [(["--requested-size", "3M"], "integer multiple of block size"),
                          (["--requested-size", "512M"], "smaller than or equal to @size")]:
            r = daemon.virsh("update-memory-device", "hp", "--alias", "virtiomem0", *args,
                             check=False)
            assert r.returncode != 0 and msg in r.stderr, r.stderr
        changed = re.search(r"<memory model='virtio-mem'>.*?</memory>", live, re.S).group(0)
        with pytest.raises(libvirt.libvirtError) as e:
            dom.updateDeviceFlags(changed.replace("262144</size>", "131072</size>"),
                                  E.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == E.VIR_ERR_CONFIG_UNSUPPORTED
        assert "cannot modify memory size" in str(e.value)
        with pytest.raises(libvirt.libvirtError) as e:
            dom.detachDeviceFlags(changed, E.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == E.VIR_ERR_OPERATION_UNSUPPORTED
        assert "cannot unplug a virtio-mem device" in str(e.value)
        assert dom.XMLDesc(0) == live
        # the persistent definition alone (found by its PCI address: no alias there)
        inactive = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        device = re.search(r"<memory model='virtio-mem'>.*?</memory>", inactive, re.S).group(0)
        dom.updateDeviceFlags(device.replace("<requested unit='KiB'>0<",
                                             "<requested unit='KiB'>65536<"),
                              E.VIR_DOMAIN_AFFECT_CONFIG)
        assert "<requested unit='KiB'>65536</requested>" in \
            dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        assert dom.XMLDesc(0) == live
        # live and config at once from the live XML (its alias; the config's found by address)
        device = re.search(r"<memory model='virtio-mem'>.*?</memory>", live, re.S).group(0)
        dom.updateDeviceFlags(re.sub(r"<requested unit='KiB'>\d+<", "<requested unit='KiB'>4096<",
                                     device),
                              E.VIR_DOMAIN_AFFECT_LIVE | E.VIR_DOMAIN_AFFECT_CONFIG)
        assert "<requested unit='KiB'>4096</requested>" in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        assert "<requested unit='KiB'>4096</requested>" in dom.XMLDesc(0)
    finally:
        c.domainEventDeregisterAny(cb)
