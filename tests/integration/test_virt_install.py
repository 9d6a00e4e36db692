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
    """With its defaults (q35, a virtio disk, SPICE with what goes with it — the SPICE agent's
    channel, two USB redirections, sound, <vmport state='off'/> —, an RNG, the guest agent
    channel) virt-install writes what our domain capabilities offer; domusd defines it as
    written and runs it: QEMU gets the SPICE server, its channels and the redirections."""
    r = subprocess.run(
        ["virt-install", "--connect", daemon.uri, "--name", "vi-defaults", "--memory", "128",
         "--virt-type", "qemu", "--import", "--disk", "size=0.01", "--network", "none",
         "--osinfo", "linux2022", "--noautoconsole", "--print-xml"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    xml = r.stdout
    for piece in ("machine=\"q35\"", "<graphics type=\"spice\"", "<channel type=\"spicevmc\">",
                  "<redirdev bus=\"usb\" type=\"spicevmc\"/>", "<vmport state=\"off\"/>",
                  "<sound model=\"ich9\"/>", "<rng model=\"virtio\">"):
        assert piece in xml, (piece, xml)
    assert "<tpm" not in xml and "<vmcoreinfo" not in xml  # offered as unsupported
    # (--print-xml makes no image: the one it names is made here)
    disk = re.search(r'<source file="([^"]+)"', xml).group(1)
    os.makedirs(os.path.dirname(disk), exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "10M"], check=True)
    path = tmp_path / "vi.xml"
    path.write_text(xml)
    daemon.virsh("define", str(path))
    daemon.virsh("start", "vi-defaults")
    live = daemon.virsh("dumpxml", "vi-defaults").stdout
    assert re.search(r"<graphics type='spice' port='59\d\d' autoport='yes'", live), live
    assert live.count("<redirdev bus='usb' type='spicevmc'>") == 2, live
    assert "<audio id='1' type='spice'/>" in live, live
    assert daemon.virsh("domdisplay", "vi-defaults").stdout.startswith("spice://127.0.0.1:59")
    log = open(os.path.join(daemon.root, "log", "vi-defaults.log")).read()
    for piece in ("spicevmc,id=charchannel", "name=vdagent", "spicevmc,id=charredir0,name=usbredir",
                  '"driver":"usb-redir"', "vmport=off", "-audiodev spice,id=audio1"):
        assert piece in log, (piece, log[-3000:])
    daemon.virsh("destroy", "vi-defaults")
    daemon.virsh("undefine", "vi-defaults")
    os.unlink(disk)
