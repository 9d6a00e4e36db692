# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connection-level calls: version, hostname, URI, capabilities, node info."""
import fcntl
import os
import socket
import subprocess
import xml.etree.ElementTree as ET

import libvirt


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
