# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connection-level calls: version, hostname, URI, capabilities, node info."""
import fcntl
import os
import socket
import subprocess
import xml.etree.ElementTree as ET

import libvirt
import pytest


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, 0xAE00) == 12  # KVM_GET_API_VERSION
    finally:
        os.close(fd)


def test_versions_and_names(daemon):
    c = daemon.conn()
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                          text=True).stdout.split()[3]
    major, minor, micro = (int(x) for x in qemu.split("(")[0].split(".")[:3])
    assert c.getVersion() == major * 1000000 + minor * 1000 + micro
    assert c.getType() == "QEMU"
    assert c.getHostname() == socket.gethostname()
    assert c.getLibVersion() >= 9000000
    info = c.getInfo()
    assert info[0] == os.uname().machine and info[2] == os.cpu_count()
    assert c.getMaxVcpus(None) > 0
    c.close()
    out = daemon.virsh("version").stdout
    assert f"Running hypervisor: QEMU {major}.{minor}.{micro}" in out
    out = daemon.domus("version").stdout
    assert f"Running hypervisor: QEMU {major}.{minor}.{micro}" in out
    assert daemon.domus("hostname").stdout.strip() == socket.gethostname()
    assert daemon.domus("uri").stdout.strip() == daemon.domus_uri


def test_capabilities_are_honest(daemon):
    for text in (daemon.conn().getCapabilities(), daemon.domus("capabilities").stdout,
                 daemon.virsh("capabilities").stdout):
        root = ET.fromstring(text)
        assert root.find("host/cpu/arch").text == os.uname().machine
        guests = {g.find("arch").get("name"): g for g in root.findall("guest")}
        g = guests["x86_64"]
        assert g.find("arch/emulator").text.endswith("qemu-system-x86_64")
        machines = g.findall("arch/machine")
        assert machines[0].text == "pc"
        assert machines[0].get("canonical").startswith("pc-i440fx-")
        assert any(m.text == "q35" for m in machines)
        types = sorted(d.get("type") for d in g.findall("arch/domain"))
        assert types == (["kvm", "qemu"] if kvm_usable() else ["qemu"])


def test_sysinfo(daemon):
    """virsh sysinfo: the host's SMBIOS from the kernel's DMI files, or a clear refusal on a
    host without them (as these machines are)."""
    r = daemon.virsh("sysinfo", check=False)
    if os.path.isdir("/sys/class/dmi/id") and os.listdir("/sys/class/dmi/id"):
        assert r.returncode == 0 and r.stdout.startswith("<sysinfo type='smbios'>"), r.stderr
        vendor = "/sys/class/dmi/id/sys_vendor"
        if os.path.exists(vendor) and open(vendor).read().strip():
            assert open(vendor).read().strip() in r.stdout
    else:
        assert r.returncode != 0 and "no SMBIOS tables" in r.stderr, r.stderr


def qemu_machines():
    """What QEMU itself lists: {name or alias: (canonical, cpu max)}, from -machine help and
    query-machines through a throwaway QEMU."""
    import json
    p = subprocess.run(["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display",
                        "none", "-qmp", "stdio"],
                       input='{"execute":"qmp_capabilities"}\n{"execute":"query-machines"}\n'
                             '{"execute":"quit"}\n',
                       capture_output=True, text=True, timeout=60)
    replies = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    machines = next(r["return"] for r in replies if isinstance(r.get("return"), list))
    out = {}
    for m in machines:
        out[m["name"]] = (m["name"], m["cpu-max"])
        if m.get("alias"):
            out[m["alias"]] = (m["name"], m["cpu-max"])
    return out


def test_domain_capabilities(daemon):
    """virsh and domus print the same document; it names QEMU's machine and limits, its CPU
    models, and device enums every value of which a define accepts."""
    from conftest import domain_xml
    machines = qemu_machines()
    text = daemon.virsh("domcapabilities", "--machine", "q35").stdout
    assert daemon.domus("domcapabilities", "--machine", "q35").stdout == text
    root = ET.fromstring(text)
    assert root.find("path").text.endswith("qemu-system-x86_64")
    assert root.find("domain").text == ("kvm" if kvm_usable() else "qemu")
    assert root.find("machine").text == machines["q35"][0]
    assert int(root.find("vcpu").get("max")) == machines["q35"][1]
    default = ET.fromstring(daemon.conn().getDomainCapabilities(None, None, None, "qemu", 0))
    assert default.find("machine").text == machines["pc"][0]
    # CPU models: QEMU's own names; a usable one runs. Under KVM (a host with /dev/kvm) the
    # TCG probe cannot say what KVM offers: every model is 'unknown' there, and TCG's answer
    # is what virttype qemu gives.
    if kvm_usable():
        kvm_models = [m.get("usable") for m in root.findall("cpu/mode[@name='custom']/model")]
        assert kvm_models and set(kvm_models) == {"unknown"}
        text = daemon.virsh("domcapabilities", "--machine", "q35", "--virttype", "qemu").stdout
        root = ET.fromstring(text)
    models = {m.text: m.get("usable") for m in root.findall("cpu/mode[@name='custom']/model")}
    assert "qemu64" in models and "max" not in models and "host" not in models
    assert not any(name.endswith("-v1") for name in models)
    usable = [name for name, u in models.items() if u == "yes"]
    assert usable and set(models.values()) <= {"yes", "no", "unknown"}
    c = daemon.conn()
    d = c.createXML(domain_xml("dc-cpu", extra=f"<cpu mode='custom'><model>{usable[0]}</model>"
                                              "</cpu>"), 0)
    assert f"-cpu {usable[0]}" in open(os.path.join(daemon.root, "log", "dc-cpu.log")).read()
    d.destroy()
    # every value it offers, a define takes
    offered = {e.get("name"): [v.text for v in e.findall("value")]
               for e in root.findall("devices/*/enum")}
    assert offered["type"] and "vnc" in [v.text for v in root.findall(
        "devices/graphics/enum/value")]
    def accepted(devices):
        c.defineXML(domain_xml("dc-offer", extra_devices=devices)).undefine()
    for model in (v.text for v in root.findall("devices/video/enum[@name='modelType']/value")):
        accepted(f"<video><model type='{model}'/></video>")
    for bus in (v.text for v in root.findall("devices/disk/enum[@name='bus']/value")):
        dev = "sda" if bus in ("scsi", "sata", "usb") else "hda" if bus == "ide" else "vda"
        accepted(f"<disk type='file' device='disk'><source file='/var/tmp/dc.img'/>"
                 f"<target dev='{dev}' bus='{bus}'/></disk>")
    for gtype in (v.text for v in root.findall("devices/graphics/enum/value")):
        accepted(f"<graphics type='{gtype}'/>")
    for model in (v.text for v in root.findall("devices/rng/enum[@name='model']/value")):
        accepted(f"<rng model='{model}'><backend model='random'>/dev/urandom</backend></rng>")
    # (with SPICE, which Debian's QEMU has: what goes through its client too)
    spice = "<graphics type='spice'/>"
    for ctype in (v.text for v in root.findall("devices/channel/enum[@name='type']/value")):
        source = "<source path='/var/tmp/dc.chan'/>" if ctype == "file" else ""
        accepted(f"{spice}<channel type='{ctype}'>{source}<target type='virtio' "
                 "name='org.example.0'/></channel>")
    assert root.find("devices/redirdev").get("supported") == "yes"
    for bus in (v.text for v in root.findall("devices/redirdev/enum[@name='bus']/value")):
        accepted(f"{spice}<redirdev bus='{bus}' type='spicevmc'/>")
    # what it says is not there, a define refuses
    assert root.find("devices/tpm").get("supported") == "no"
    try:
        c.defineXML(domain_xml("dc-tpm", extra_devices="<tpm model='tpm-tis'/>"))
        raise AssertionError("a <tpm> was accepted")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    c.close()
    # bad requests are named
    for args, words in ((["--machine", "nope"], "machine 'nope' is not supported"),
                        (["--arch", "aarch64"], "'aarch64' architecture"),
                        (["--virttype", "xen"], "unknown virttype 'xen'")):
        r = daemon.virsh("domcapabilities", *args, check=False)
        m = daemon.domus("domcapabilities", *args, check=False)
        assert r.returncode == 1 and words in r.stderr, r.stderr
        assert (m.stdout, m.stderr, m.returncode) == (r.stdout, r.stderr, r.returncode)
    if not kvm_usable():
        r = daemon.virsh("domcapabilities", "--virttype", "kvm", check=False)
        assert "KVM is not supported" in r.stderr


def test_node_devices(daemon):
    """The host's devices from sysfs, as virsh's nodedev commands and python read them."""
    pci = sorted(os.listdir("/sys/bus/pci/devices"))
    want_pci = ["pci_" + a.replace(":", "_").replace(".", "_") for a in pci]
    for tool in (daemon.virsh, daemon.domus):
        listed = tool("nodedev-list", "--cap", "pci").stdout.split()
        assert sorted(listed) == sorted(want_pci)
        assert "computer" in tool("nodedev-list").stdout.split()
    c = daemon.conn()
    nets = {d.name(): d for d in c.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET)}
    for iface in os.listdir("/sys/class/net"):
        mac = open(f"/sys/class/net/{iface}/address").read().strip()
        name = f"net_{iface}_{mac.replace(':', '_')}"
        assert name in nets, (name, list(nets))
        root = ET.fromstring(nets[name].XMLDesc(0))
        assert root.find("capability/interface").text == iface
        assert root.find("capability/address").text == mac
        assert nets[name].listCaps() == ["net"]
        # the parent is the PCI device the interface sits on, or the computer
        real = os.path.realpath(f"/sys/class/net/{iface}")
        above = [p for p in real.split("/") if len(p) == 12 and p.count(":") == 2]
        want = ("pci_" + above[-1].replace(":", "_").replace(".", "_")) if above else "computer"
        assert nets[name].parent() == want
    first = c.nodeDeviceLookupByName(want_pci[0])
    root = ET.fromstring(first.XMLDesc(0))
    vendor = open(f"/sys/bus/pci/devices/{pci[0]}/vendor").read().strip()
    assert root.find("capability/vendor").get("id") == vendor
    assert c.numOfDevices("pci", 0) == len(pci)
    try:
        c.nodeDeviceLookupByName("pci_9999_99_99_9")
        raise AssertionError("an unknown device was found")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_NODE_DEVICE
    c.close()
    # the tree and the XML, printed alike by both tools
    for args in (["nodedev-list", "--tree"], ["nodedev-dumpxml", want_pci[0]],
                 ["nodedev-list", "--cap", "net,storage"], ["nodedev-dumpxml", "nope"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    tree = daemon.virsh("nodedev-list", "--tree").stdout
    assert tree.startswith("computer\n")
    # read-only connections read them too
    ro = daemon.conn(readonly=True)
    assert len(ro.listAllDevices(0)) >= len(pci) + 1
    ro.close()


def test_nodedev_info_and_autostart(daemon):
    """nodedev-info and nodedev-autostart as virsh prints them: the host's devices are active,
    transient and cannot be autostarted (only mediated devices can, in libvirt); python's
    isActive / isPersistent / autostart."""
    for args in (["nodedev-info", "computer"], ["nodedev-info", "nope"],
                 ["nodedev-autostart", "computer"], ["nodedev-autostart", "--disable", "computer"],
                 ["nodedev-autostart", "nope"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    out = daemon.virsh("nodedev-info", "computer").stdout
    assert "Active:         yes\nPersistent:     no\nAutostart:      no\n" in out
    c = daemon.conn()
    dev = c.nodeDeviceLookupByName("computer")
    assert (dev.isActive(), dev.isPersistent(), dev.autostart()) == (1, 0, 0)
    with pytest.raises(libvirt.libvirtError) as e:
        dev.setAutostart(1)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "Unsupported device type" in str(e.value)
    c.close()


def test_host_interfaces(daemon):
    """iface-list / iface-dumpxml / iface-name / iface-mac from sysfs, read-only."""
    for args in (["iface-list"], ["iface-list", "--all"], ["iface-list", "--inactive"],
                 ["iface-dumpxml", "lo"], ["iface-mac", "lo"], ["iface-dumpxml", "nope"],
                 ["iface-name", "00:00:00:00:00:00"], ["iface-dumpxml", "lo", "--inactive"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    c = daemon.conn()
    names = {i.name(): i for i in c.listAllInterfaces(0)}
    for name in os.listdir("/sys/class/net"):
        if os.path.exists(f"/sys/class/net/{name}/brport") or \
                os.path.exists(f"/sys/class/net/{name}/tun_flags"):
            continue
        iface = names[name]
        mac = open(f"/sys/class/net/{name}/address").read().strip()
        assert iface.MACString() == mac
        root = ET.fromstring(iface.XMLDesc(0))
        assert root.get("name") == name
        assert root.find("mtu").get("size") == open(f"/sys/class/net/{name}/mtu").read().strip()
        up = open(f"/sys/class/net/{name}/operstate").read().strip() == "up"
        assert iface.isActive() == up
    try:
        c.interfaceLookupByName("nope0")
        raise AssertionError("an unknown interface was found")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE
    # configuring host interfaces is not built: said so
    try:
        c.interfaceDefineXML("<interface type='ethernet' name='x0'/>", 0)
        raise AssertionError("an interface definition was accepted")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    c.close()


def test_nodedev_detach_reattach_reset_refusals(daemon):
    """nodedev-detach, -reattach and -reset as virsh runs them: what cannot be done is refused
    with a reason and the daemon goes on (a refusal once crashed it: the reply read the error
    before the call had set it). No device of this machine is really detached here: its
    network and disks would go with it; util/pcihost's binding is unit-tested on a fake
    sysfs."""
    for args in (["nodedev-detach", "computer"], ["nodedev-detach", "nosuch"],
                 ["nodedev-reattach", "computer"], ["nodedev-reset", "computer"],
                 ["nodedev-detach", "pci_0000_00_00_0", "--driver", "xen"],
                 ["nodedev-detach", "pci_0000_ff_1f_7"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
        assert v.returncode == 1
    assert "not a PCI device" in daemon.domus("nodedev-detach", "computer", check=False).stderr
    c = daemon.conn()
    with pytest.raises(libvirt.libvirtError) as e:
        c.nodeDeviceLookupByName("computer").dettach()
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    ro = daemon.conn(readonly=True)
    with pytest.raises(libvirt.libvirtError) as e:
        ro.nodeDeviceLookupByName("computer").reset()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    c.close()


def test_cpu_models(daemon):
    """virConnectGetCPUModelNames (virt-manager's CPU page asks): the models QEMU's probe
    lists, the same a <cpu mode='custom'> may name and domcapabilities offers."""
    c = daemon.conn()
    names = c.getCPUModelNames("x86_64")
    assert "qemu64" in names and "max" not in names
    caps = ET.fromstring(c.getDomainCapabilities(None, None, None, "qemu", 0))
    offered = [m.text for m in caps.findall("cpu/mode[@name='custom']/model")]
    assert names == offered
    with pytest.raises(libvirt.libvirtError) as e:
        c.getCPUModelNames("aarch64")
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    c.close()
    for args in (["cpu-models", "x86_64"], ["cpu-models", "aarch64"], ["cpu-models"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args


def test_domxml_to_native(daemon, tmp_path):
    """domxml-to-native: the command line a start runs, word for word (a unix channel's and a
    NIC's descriptors as the numbers a start hands over), through virsh, domus and python;
    nothing is started or defined by it."""
    disk = tmp_path / "a disk.img"
    disk.write_bytes(b"\0" * 1048576)
    console = tmp_path / "console.log"
    xml = f"""<domain type='qemu'><name>native</name>
<uuid>6f2a4d4e-8f35-4c1e-9d0a-3b7c1a2e5d10</uuid>
<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
<devices>
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
<interface type='user'><mac address='52:54:00:10:20:30'/><model type='virtio'/></interface>
<serial type='file'><source path='{console}'/></serial>
<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
</devices></domain>"""
    path = daemon.write("native.xml", xml)
    c = daemon.conn()
    native = c.domainXMLToNative("qemu-argv", xml, 0)
    assert daemon.virsh("domxml-to-native", "qemu-argv", path).stdout == native + "\n"
    assert daemon.domus("domxml-to-native", "qemu-argv", path).stdout == native + "\n"
    assert c.listAllDomains() == [] and daemon.guest_pids() == []
    # the file name with a space is one shell word; the channel's socket is descriptor 4
    assert f"'{{\"driver\":\"file\",\"filename\":\"{disk}\"" in native
    assert "-chardev socket,id=charchannel0,fd=4,server=on,wait=off" in native

    # what a start runs is that command line
    d = c.defineXML(xml)
    d.create()
    try:
        pid = daemon.guest_pids()[0]
        argv = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0")[:-1]
        import shlex
        assert shlex.split(native) == argv
        assert daemon.virsh("domxml-to-native", "qemu-argv", "--domain",
                            "native").stdout.strip() == native
    finally:
        d.destroy()
        d.undefine()

    # a NIC on a network (none defined here): a tap QEMU would get as descriptor 5
    tapped = xml.replace("<interface type='user'>", "<interface type='network'>"
                         "<source network='nowhere'/>")
    assert "'{\"type\":\"tap\",\"fd\":\"5\",\"id\":\"hostnet0\"}'" in \
        c.domainXMLToNative("qemu-argv", tapped, 0)

    # refusals: another format, bad XML, a read-only connection
    with pytest.raises(libvirt.libvirtError) as e:
        c.domainXMLToNative("xen-xm", xml, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    assert "unsupported config type xen-xm" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        c.domainXMLToNative("qemu-argv", "<domain type='qemu'><memory>1", 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_XML_ERROR
    with pytest.raises(libvirt.libvirtError) as e:
        daemon.conn(readonly=True).domainXMLToNative("qemu-argv", xml, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    r = daemon.domus("domxml-to-native", "qemu-argv", check=False)
    assert r.returncode == 1 and "need either domain or domain XML" in r.stderr


def meminfo(path, key):
    for line in open(path):
        words = line.replace(":", " ").split()
        if key in words:
            return int(words[words.index(key) + 1])
    raise KeyError(key)


def test_freepages(daemon):
    """Page sizes and counts in the capabilities (host/cpu/pages, cell/pages) and
    virNodeGetFreePages / freepages as libvirt counts them: the system's pages from the
    node's MemFree, hugepages from the kernel's free_hugepages; refusals by name."""
    huge = sorted(int(d[len("hugepages-"):-2]) for d in os.listdir("/sys/kernel/mm/hugepages"))
    sizes = [os.sysconf("SC_PAGESIZE") // 1024] + huge
    c = daemon.conn()
    root = ET.fromstring(c.getCapabilities())
    assert [int(p.get("size")) for p in root.findall("host/cpu/pages")] == sizes
    node = "/sys/devices/system/node/node0"
    for p in root.findall("host/topology/cells/cell[@id='0']/pages"):
        size = int(p.get("size"))
        if size == sizes[0]:
            held = sum(int(open(f"{node}/hugepages/hugepages-{h}kB/nr_hugepages").read()) * h
                       for h in huge)
            assert int(p.text) == (meminfo(f"{node}/meminfo", "MemTotal") - held) // size
        else:
            assert int(p.text) == int(open(
                f"{node}/hugepages/hugepages-{size}kB/nr_hugepages").read())

    free = c.getFreePages(sizes, 0, 1)
    want = meminfo(f"{node}/meminfo", "MemFree") // sizes[0]
    assert abs(free[0][sizes[0]] - want) < want // 20
    for h in huge:
        assert free[0][h] == int(open(f"{node}/hugepages/hugepages-{h}kB/free_hugepages").read())
    whole = daemon.conn(readonly=True).getFreePages([sizes[0]], -1, 1)
    assert abs(whole[-1][sizes[0]] - meminfo("/proc/meminfo", "MemFree") // sizes[0]) < want // 20

    # virsh and domus print the same (the system's free pages move between two calls)
    import re

    def masked(text):
        return re.sub(rf"^{sizes[0]}KiB: \d+$", f"{sizes[0]}KiB: N", text, flags=re.M)

    for args in (["--all"], ["--cellno", "0", "--pagesize", "2M"], ["--all", "--pagesize", "4"]):
        assert masked(daemon.virsh("freepages", *args).stdout) == \
            masked(daemon.domus("freepages", *args).stdout)
    assert "Node 0:\n" in daemon.domus("freepages", "--all").stdout

    # refusals: a cell the host lacks, a size it lacks, virsh's own checks
    ncells = len(root.findall("host/topology/cells/cell"))
    with pytest.raises(libvirt.libvirtError) as e:
        c.getFreePages([4], ncells + 2, 1)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR
    assert f"start cell {ncells + 2} out of range (0-{ncells - 1})" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        c.getFreePages([64], 0, 1)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "page size 64 is not available on node 0" in str(e.value)
    for args, msg in ((["--cellno", "0"], "missing pagesize argument"),
                      (["--all", "--cellno", "0"], "mutually exclusive"),
                      (["--pagesize", "4"], "missing cellno argument")):
        r = daemon.domus("freepages", *args, check=False)
        assert r.returncode == 1 and msg in r.stderr, r.stderr


def test_allocpages(daemon):
    """virNodeAllocPages / allocpages: a hugepage pool set or grown in a cell, read back from
    the kernel. The pool of 2 MiB pages of node 0 grows by one page and is set back (the host's
    pool is restored even if the test fails); libvirt's refusals."""
    node = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
    if not os.path.isdir(node):
        pytest.skip("no 2 MiB hugepages on node 0")
    nr = os.path.join(node, "nr_hugepages")
    before = int(open(nr).read())
    c = daemon.conn()
    try:
        # setting the pool to what it is changes nothing
        assert c.allocPages({2048: before}, 0, 1, libvirt.VIR_NODE_ALLOC_PAGES_SET) == 1
        assert int(open(nr).read()) == before
        # one more page, seen by the kernel and by freepages; then the old size again
        daemon.domus("allocpages", "2048", "1", "--cellno", "0", "--add")
        assert int(open(nr).read()) == before + 1
        assert c.getFreePages([2048], 0, 1)[0][2048] == int(
            open(os.path.join(node, "free_hugepages")).read())
        daemon.virsh("allocpages", "--pagesize", "2M", "--pagecount", str(before),
                     "--cellno", "0")
        assert int(open(nr).read()) == before
    finally:
        with open(nr, "w") as f:
            f.write(str(before))
    with pytest.raises(libvirt.libvirtError) as e:
        c.allocPages({os.sysconf("SC_PAGESIZE") // 1024: 1}, 0, 1, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "system pages pool can't be modified" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        c.allocPages({64: 1}, 0, 1, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    with pytest.raises(libvirt.libvirtError) as e:
        c.allocPages({2048: 0}, 9, 1, 0)
    assert "start cell 9 out of range" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        daemon.conn(readonly=True).allocPages({2048: before}, 0, 1,
                                              libvirt.VIR_NODE_ALLOC_PAGES_SET)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    for args in (["--pagesize", "4", "--pagecount", "1", "--cellno", "0"],
                 ["--pagesize", "2048"], ["--pagesize", "64", "--pagecount", "1"]):
        assert daemon.virsh("allocpages", *args, check=False).stderr == \
            daemon.domus("allocpages", *args, check=False).stderr
    assert int(open(nr).read()) == before


def test_node_memory_tune(daemon):
    """virNodeGet/SetMemoryParameters and node-memory-tune: KSM's fields as the kernel has them;
    a tunable written back with the value it has (the host's KSM is left as it is); counters
    are not tunables; a read-only connection reads but does not write."""
    ksm = "/sys/kernel/mm/ksm"
    if not os.path.isdir(ksm):
        pytest.skip("no KSM")
    files = {"shm_pages_to_scan": "pages_to_scan", "shm_sleep_millisecs": "sleep_millisecs",
             "shm_merge_across_nodes": "merge_across_nodes"}
    saved = {f: open(os.path.join(ksm, n)).read().strip() for f, n in files.items()}
    c = daemon.conn()
    try:
        params = c.getMemoryParameters()
        for field, name in files.items():
            assert params[field] == int(saved[field])
        assert "shm_pages_shared" in params and "shm_full_scans" in params
        assert daemon.conn(readonly=True).getMemoryParameters()["shm_pages_to_scan"] == \
            params["shm_pages_to_scan"]
        out = daemon.domus("node-memory-tune").stdout
        assert out.startswith("Shared memory:\n\tshm_pages_to_scan ")
        assert out.splitlines()[1:2] == daemon.virsh("node-memory-tune").stdout.splitlines()[1:2]
        # written back as they are
        c.setMemoryParameters({"shm_sleep_millisecs": int(saved["shm_sleep_millisecs"])})
        daemon.domus("node-memory-tune", "--shm-pages-to-scan", saved["shm_pages_to_scan"])
        assert open(os.path.join(ksm, "pages_to_scan")).read().strip() == \
            saved["shm_pages_to_scan"]
        with pytest.raises(libvirt.libvirtError) as e:
            c.setMemoryParameters({"shm_pages_shared": 5})
        assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
        with pytest.raises(libvirt.libvirtError) as e:
            daemon.conn(readonly=True).setMemoryParameters(
                {"shm_pages_to_scan": int(saved["shm_pages_to_scan"])})
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        for field, name in files.items():
            with open(os.path.join(ksm, name), "w") as f:
                f.write(saved[field])


def test_launch_security_is_refused_honestly(daemon, tmp_path):
    """SEV is not built: the host's SEV information is refused as libvirt refuses it on a QEMU
    without SEV, a domain has no launch security parameters, no launch secret can be set, and a
    <launchSecurity> definition is refused; virsh and domus print the same."""
    from conftest import domain_xml
    c = daemon.conn()
    d = c.defineXML(domain_xml("sev"))
    with pytest.raises(libvirt.libvirtError) as e:
        c.getSEVInfo()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert d.launchSecurityInfo() == {}
    with pytest.raises(libvirt.libvirtError) as e:
        d.setLaunchSecurityState({libvirt.VIR_DOMAIN_LAUNCH_SECURITY_SEV_SECRET_HEADER: "aA==",
                                  libvirt.VIR_DOMAIN_LAUNCH_SECURITY_SEV_SECRET: "aA=="}, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "SEV-enabled domains" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(domain_xml("sev2", extra="<launchSecurity type='sev'><policy>0x0003</policy>"
                                             "</launchSecurity>"))
    assert "launchSecurity" in str(e.value)
    (tmp_path / "hdr").write_text("aGVhZGVy")
    (tmp_path / "sec").write_text("c2VjcmV0")
    for args in (["nodesevinfo"], ["domlaunchsecinfo", "sev"],
                 ["domsetlaunchsecstate", "sev", "--secrethdr", str(tmp_path / "hdr"),
                  "--secret", str(tmp_path / "sec"), "--set-address", "4096"],
                 ["domsetlaunchsecstate", "sev", "--secrethdr", str(tmp_path / "hdr")]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    d.undefine()
    c.close()


def test_calls_libvirts_qemu_driver_lacks(daemon, tmp_path):
    """domxml-from-native and send-process-signal: libvirt's QEMU driver has neither, domusd
    refuses them alike; domus checks what virsh checks before the call."""
    from conftest import domain_xml
    c = daemon.conn()
    d = c.defineXML(domain_xml("sig"))
    d.create()
    (tmp_path / "native").write_text("qemu-system-x86_64 -m 64\n")
    for args in (["domxml-from-native", "qemu-argv", str(tmp_path / "native")],
                 ["domxml-from-native", "qemu-argv", str(tmp_path / "missing")],
                 ["send-process-signal", "sig", "1", "sigterm"],
                 ["send-process-signal", "sig", "0", "term"],
                 ["send-process-signal", "sig", "1", "bogus"],
                 ["send-process-signal", "sig", "x", "term"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    r = daemon.virsh("send-process-signal", "sig", "1", "term", check=False)
    assert "not supported" in r.stderr
    d.destroy()
    d.undefine()
    c.close()
