# SPDX-License-Identifier: LGPL-2.1-or-later
"""What needs a real guest: ACPI power-off and libvirt-style ACPI reboot (the guest powers
off, QEMU stays because of -no-shutdown, the daemon resets and resumes it), and a guest
panic with <panic model='isa'/>. One booted guest per scenario, the test guest of
tests/guest (ready in about 4 s under TCG)."""
import os
import subprocess
import time

import libvirt
import pytest

import guest


@pytest.fixture(scope="module")
def g():
    return guest.build()


def guest_xml(daemon, g, name, extra_cmdline="", on_crash="destroy"):
    return guest.xml(daemon, name, extra_cmdline=extra_cmdline, agent=False, on_crash=on_crash)


markers = guest.count
wait = guest.wait


def test_acpi_shutdown_and_reboot(daemon, g):
    log, xml = guest_xml(daemon, g, "rg")
    c = daemon.conn()
    d = c.defineXML(xml)
    d.create()
    wait(lambda: markers(log) == 1, 90, "the guest to boot")
    # reboot through ACPI: the domain never leaves running, the guest boots again
    pid = daemon.guest_pids()[0]
    d.reboot(libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)
    wait(lambda: markers(log) == 2, 90, "the guest to boot again")
    assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert daemon.guest_pids() == [pid], "an ACPI reboot keeps the same QEMU"
    # shutdown through ACPI: on_poweroff destroy, shut off with reason shutdown
    daemon.virsh("shutdown", "--mode", "acpi", "rg")
    wait(lambda: d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, 60, "the guest to power off")
    assert d.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert "DOMUS-GUEST-POWEROFF" in open(log).read()
    assert daemon.guest_pids() == []
    c.close()


def test_guest_panic_on_crash_destroy(daemon, g):
    log, xml = guest_xml(daemon, g, "rp", extra_cmdline="domus.panic=1")
    c = daemon.conn()
    d = c.defineXML(xml)
    d.create()
    wait(lambda: d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, 90, "the panic to stop the guest")
    assert d.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED]
    assert markers(log, "DOMUS-GUEST-PANIC") == 1
    c.close()


def test_guest_panic_coredump_restart(daemon, g):
    """on_crash coredump-restart: the guest's memory lands in a core file, the guest runs again."""
    log, xml = guest_xml(daemon, g, "rc", extra_cmdline="domus.panic=1",
                         on_crash="coredump-restart")
    c = daemon.conn()
    d = c.defineXML(xml)
    d.create()
    wait(lambda: markers(log, "DOMUS-GUEST-PANIC") >= 1, 90, "the first panic")
    dumps = os.path.join(daemon.root, "lib", "dump")
    wait(lambda: os.path.isdir(dumps) and any(f.startswith("rc-") for f in os.listdir(dumps)),
         60, "the crash dump")
    # restarted in the same QEMU: it boots (and panics) again
    wait(lambda: markers(log) >= 2, 90, "the guest to boot again")
    core = [f for f in os.listdir(dumps) if f.startswith("rc-")][0]
    with open(os.path.join(dumps, core), "rb") as f:
        assert f.read(4) == b"\x7fELF"
    d.destroy()
    c.close()


def test_console_log_disk_and_nic(daemon, g, tmp_path):
    """A pty console with <log file>, a virtio qcow2 disk and a virtio NIC: the guest sees
    vda and eth0, and its console output lands in the log file with nobody attached."""
    disk = str(tmp_path / "data.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"], check=True)
    log = os.path.join(daemon.root, "dn.console")
    xml = f"""<domain type='qemu'>
  <name>dn</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{g['pvh_kernel']}</kernel>
    <initrd>{g['initrd']}</initrd>
    <cmdline>{guest.CMDLINE}</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='{disk}'/><target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <console type='pty'><log file='{log}' append='on'/></console>
  </devices>
</domain>"""
    c = daemon.conn()
    d = c.createXML(xml, 0)
    wait(lambda: markers(log) == 1, 90, "the ready marker in the console log")
    text = open(log, errors="replace").read()
    assert "vda" in text and "eth0" in text, text[-800:]
    live = d.XMLDesc(0)
    assert "/dev/pts/" in live and f"<log file='{log}'" in live
    d.destroy()
    c.close()
