# SPDX-License-Identifier: LGPL-2.1-or-later
"""domusd --libvirt-paths serves libvirt's own sockets, so clients that hard-wire
qemu:///system (no URI, no socket parameter) reach it: stock virsh and python3-libvirt,
read-write and read-only. A second daemon does not take the paths from a live one. Runs in a
mount (and network) namespace with a tmpfs over /run: the machine's /run/libvirt is never
touched."""
import os
import subprocess

import pytest

from conftest import DOMUSD, domain_xml
from netns import NetDaemon, needs_root

pytestmark = needs_root


@pytest.fixture(scope="module")
def dropin():
    d = NetDaemon(extra_args=["--libvirt-paths"])
    d.ns.run("mount", "-t", "tmpfs", "tmpfs", "/run")
    d.start()
    yield d
    d.destroy()


def test_stock_clients_without_a_uri(dropin):
    d = dropin
    r = d.ns.run("ls", "-l", "/run/libvirt")
    assert "srw-------" in r.stdout and "libvirt-sock\n" in r.stdout + "\n"
    assert "srw-rw-rw-" in r.stdout and "libvirt-sock-ro" in r.stdout
    xml = os.path.join(d.root, "dropin.xml")
    with open(xml, "w") as f:
        f.write(domain_xml("dropin"))
    r = d.ns.run("virsh", "-c", "qemu:///system", "define", xml, check=False)
    assert r.returncode == 0, r.stderr
    # no -c at all: virsh's default URI as root is qemu:///system
    r = d.ns.run("env", "-u", "LIBVIRT_DEFAULT_URI", "virsh", "list", "--all", check=False)
    assert r.returncode == 0 and "dropin" in r.stdout, r.stderr
    script = """
import libvirt
c = libvirt.open(None)
ro = libvirt.openReadOnly("qemu:///system")
print(c.lookupByName("dropin").name(), ro.lookupByName("dropin").isActive())
try:
    ro.lookupByName("dropin").create()
except libvirt.libvirtError as e:
    print(e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED)
"""
    r = d.ns.run("/usr/bin/python3", "-c", script, check=False)
    assert r.returncode == 0 and r.stdout.split() == ["dropin", "0", "True"], r.stderr
    assert d.ns.run("virsh", "undefine", "dropin", check=False).returncode == 0
    assert "also serving libvirt's sockets /run/libvirt/libvirt-sock" in open(
        os.path.join(d.root, "domusd.log")).read()


def test_a_live_daemon_keeps_its_paths(dropin, tmp_path):
    r = dropin.ns.run(os.path.abspath(DOMUSD), "--root", str(tmp_path), "--no-default-network",
                      "--libvirt-paths", check=False)
    assert r.returncode == 1
    assert ("another daemon (libvirtd?) serves '/run/libvirt/libvirt-sock'; stop it, or run "
            "domusd without --libvirt-paths") in r.stderr
    # the first daemon still answers there
    r = dropin.ns.run("virsh", "-c", "qemu:///system", "hostname", check=False)
    assert r.returncode == 0, r.stderr
