# SPDX-License-Identifier: LGPL-2.1-or-later
"""The smallest virt-install case: direct kernel boot, no disk, no network, no graphics.
virt-install needs the capabilities call beyond virsh's set, and it takes the first machine
listed as its default."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import TOP


def guest_kernel():
    out = subprocess.run([os.path.join(TOP, "tests", "guest", "build")], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    paths = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return paths["kernel"], paths["initrd"]


@pytest.mark.skipif(shutil.which("virt-install") is None, reason="virtinst not installed")
def test_virt_install_kernel_boot(daemon):
    kernel, initrd = guest_kernel()
    r = subprocess.run(
        ["virt-install", "--connect", daemon.uri, "--name", "vi-kernel", "--memory", "128",
         "--virt-type", "qemu", "--import",
         "--boot", f"kernel={kernel},initrd={initrd},kernel_args=console=ttyS0",
         "--disk", "none", "--network", "none", "--graphics", "none",
         "--osinfo", "detect=on,require=off", "--noautoconsole"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Domain creation completed" in r.stdout
    c = daemon.conn()
    d = c.lookupByName("vi-kernel")
    assert d.isActive() and d.isPersistent()
    xml = d.XMLDesc(0)
    # the first machine of our capabilities is 'pc', kept by its full name (as libvirt)
    assert re.search(r"machine='pc-i440fx-[0-9.]+'", xml), xml
    assert f"<kernel>{kernel}</kernel>" in xml
    log = open(os.path.join(daemon.root, "log", "vi-kernel.log")).read()
    assert "-kernel " + kernel in log and "-machine pc-i440fx-" in log
    d.destroy()
    assert d.isPersistent() and not d.isActive()
    d.undefine()
    c.close()


@pytest.mark.skipif(shutil.which("virt-install") is None, reason="virtinst not installed")
def test_virt_install_defaults_from_domain_capabilities(daemon, tmp_path):
    """With its defaults (q35, a virtio disk, VNC with a virtio video card, an RNG, the guest
    agent channel) virt-install writes what our domain capabilities offer, and domusd defines
    it as written."""
    r = subprocess.run(
        ["virt-install", "--connect", daemon.uri, "--name", "vi-defaults", "--memory", "128",
         "--virt-type", "qemu", "--import", "--disk", "size=0.01", "--network", "none",
         "--osinfo", "linux2022", "--noautoconsole", "--print-xml"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    xml = r.stdout
    for piece in ("machine=\"q35\"", "<graphics type=\"vnc\"", "<model type=\"virtio\"/>",
                  "<rng model=\"virtio\">"):
        assert piece in xml, piece
    assert "<tpm" not in xml and "<vmcoreinfo" not in xml  # offered as unsupported
    path = tmp_path / "vi.xml"
    path.write_text(xml)
    daemon.virsh("define", str(path))
    daemon.virsh("undefine", "vi-defaults")
