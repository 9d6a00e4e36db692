# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read-only connections: the read-only socket, or CONNECT_OPEN's read-only flag."""
import os
import re
import stat

import libvirt
import pytest

from conftest import domain_xml

VNC = ("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret'>"
       "<listen type='address' address='127.0.0.1'/></graphics>")


def test_socket_modes(daemon):
    assert stat.S_IMODE(os.stat(daemon.sock).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(daemon.sock_ro).st_mode) == 0o666


@pytest.mark.parametrize("how", ["ro-socket", "ro-flag"])
def test_readonly_denies_changes(daemon, how):
    rw = daemon.conn()
    d = rw.defineXML(domain_xml("ro1"))
    ro = libvirt.openReadOnly(daemon.uri) if how == "ro-flag" else libvirt.open(daemon.uri_ro)
    rod = ro.lookupByName("ro1")
    assert rod.info()[0] == 5
    assert [x.name() for x in ro.listAllDomains()] == ["ro1"]
    for op in (rod.create, rod.undefine, lambda: rod.setAutostart(1),
               lambda: ro.defineXML(domain_xml("ro2")), lambda: ro.createXML(domain_xml("ro3"), 0)):
        with pytest.raises(libvirt.libvirtError) as e:
            op()
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    d.create()
    for op in (rod.destroy, rod.suspend, rod.shutdown):
        with pytest.raises(libvirt.libvirtError) as e:
            op()
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    assert d.isActive()
    ro.close()
    rw.close()


def test_vnc_password_is_secret(daemon):
    c = daemon.conn()
    d = c.defineXML(domain_xml("vnc", extra_devices=VNC))
    assert "s3cret" not in d.XMLDesc(0)
    assert "s3cret" in d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    d.create()
    assert "s3cret" not in d.XMLDesc(0)
    # never on QEMU's command line: it goes in over QMP
    assert "s3cret" not in open(os.path.join(daemon.root, "log", "vnc.log")).read()
    with open(f"/proc/{daemon.guest_pids()[0]}/cmdline", "rb") as f:
        assert b"s3cret" not in f.read()
    port = re.search(r"<graphics type='vnc' port='(\d+)'", d.XMLDesc(0)).group(1)
    assert int(port) >= 5900
    ro = libvirt.openReadOnly(daemon.uri)
    rod = ro.lookupByName("vnc")
    assert "s3cret" not in rod.XMLDesc(0)
    with pytest.raises(libvirt.libvirtError) as e:
        rod.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    r = daemon.virsh("dumpxml", "vnc", readonly=True)
    assert "s3cret" not in r.stdout
    d.destroy()
    c.close()


def test_virsh_and_domus_readonly(daemon):
    daemon.conn().defineXML(domain_xml("ro4"))
    assert "ro4" in daemon.virsh("list", "--all", readonly=True).stdout
    r = daemon.virsh("start", "ro4", readonly=True, check=False)
    assert r.returncode == 1 and ("read-only" in r.stderr or "read only" in r.stderr)
    r = daemon.domus("start", "ro4", readonly=True, check=False)
    assert r.returncode == 1 and ("read-only" in r.stderr or "read only" in r.stderr)
