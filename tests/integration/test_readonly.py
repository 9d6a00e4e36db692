# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read-only connections: the read-only socket, or CONNECT_OPEN's read-only flag."""
import os
import re
import stat
import struct

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


# --- every procedure number, as libvirt 9.0's daemon rules it (tests/data/readonly) ---

RULES = os.path.join(os.path.dirname(__file__), "..", "data", "readonly", "procedures.tsv")


def rules():
    out = []
    with open(RULES) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            prog, number, name, rule, refusal = line.rstrip("\n").split("\t")
            out.append((prog, int(number), name, rule, refusal))
    return out


def walk(path, readonly):
    """Calls every procedure number of both programs with no arguments; returns
    {(prog, number): (status, code, message)}."""
    from rpc import PROG, QEMU_PROG, Raw, error_code, error_message
    raw = Raw(path)
    raw.open(readonly=readonly)
    seen = {}
    numbers = [(p, n) for p, n, name, _, _ in rules() if name != "CONNECT_CLOSE"]
    numbers += [("remote", 444), ("remote", 5000), ("qemu", 8)]
    for prog, n in numbers:
        f = raw.rpc(n, prog=PROG if prog == "remote" else QEMU_PROG)
        assert f is not None, f"the daemon closed the connection at {prog} {n}"
        if f["status"] == 0:
            seen[(prog, n)] = (0, None, "")
        else:
            code, _ = error_code(f["body"])
            seen[(prog, n)] = (1, code, error_message(f["body"]).decode())
    raw.close()
    return seen


@pytest.mark.parametrize("how", ["ro-socket", "ro-flag"])
def test_every_procedure_read_only(daemon, how):
    """Exactly libvirt's refusals: every procedure it refuses a read-only client is refused
    with its words, and no other procedure is."""
    seen = walk(daemon.sock_ro if how == "ro-socket" else daemon.sock, how == "ro-flag")
    wrong = []
    for prog, n, name, rule, refusal in rules():
        if name == "CONNECT_CLOSE":
            continue
        status, code, message = seen[(prog, n)]
        if rule == "denied":
            if code != libvirt.VIR_ERR_OPERATION_DENIED or \
                    message != "operation forbidden: " + refusal:
                wrong.append(f"{prog} {n} {name}: {code} {message!r}, expected a refusal")
        elif rule == "event":
            if code != libvirt.VIR_ERR_RPC or "unknown procedure" not in message:
                wrong.append(f"{prog} {n} {name}: {code} {message!r}, expected unknown")
        elif code == libvirt.VIR_ERR_OPERATION_DENIED:
            wrong.append(f"{prog} {n} {name}: refused, libvirt allows it ({message!r})")
    for key in (("remote", 444), ("remote", 5000), ("qemu", 8)):
        if seen[key][1] != libvirt.VIR_ERR_RPC:
            wrong.append(f"{key}: {seen[key]}, expected unknown procedure")
    assert not wrong, "\n".join(wrong)


def test_every_procedure_read_write(daemon):
    """A read-write connection is refused nothing as read-only."""
    seen = walk(daemon.sock, False)
    denied = [k for k, v in seen.items() if v[1] == libvirt.VIR_ERR_OPERATION_DENIED]
    assert not denied


def test_flag_dependent_refusals(daemon):
    """The secure XML flags are refused read-only, also for procedures Domus lacks."""
    from rpc import Raw, error_code, error_message, xdr_domain, xdr_u32
    rw = daemon.conn()
    dom = rw.defineXML(domain_xml("roflags"))
    handle = xdr_domain(dom.name(), dom.UUID())
    for path, readonly in ((daemon.sock_ro, True), (daemon.sock, False)):
        raw = Raw(path)
        raw.open()
        for flags, refused in ((0, False), (1, True), (8, True), (2, False)):
            f = raw.rpc(14, handle + xdr_u32(flags))  # DOMAIN_GET_XML_DESC
            if refused and readonly:
                assert error_code(f["body"])[0] == libvirt.VIR_ERR_OPERATION_DENIED
                assert error_message(f["body"]) == \
                    b"operation forbidden: virDomainGetXMLDesc with secure flag"
            else:
                assert f["status"] == 0, error_message(f["body"])
        # DOMAIN_MANAGED_SAVE_GET_XML_DESC: the secure flag is refused read-only; otherwise
        # the call runs (this domain has no image)
        f = raw.rpc(388, handle + xdr_u32(1))
        expect = libvirt.VIR_ERR_OPERATION_DENIED if readonly else libvirt.VIR_ERR_OPERATION_INVALID
        assert error_code(f["body"])[0] == expect
        f = raw.rpc(388, handle + xdr_u32(0))
        assert error_code(f["body"])[0] == libvirt.VIR_ERR_OPERATION_INVALID
        assert b"has no managed save image" in error_message(f["body"])
        # DOMAIN_GET_VCPUS_FLAGS: asking the guest (flag 8) is refused read-only; else it
        # runs (this domain is shut off: no guest to ask), and the plain count is everyone's
        f = raw.rpc(200, handle + xdr_u32(8))
        expect = libvirt.VIR_ERR_OPERATION_DENIED if readonly else libvirt.VIR_ERR_OPERATION_INVALID
        assert error_code(f["body"])[0] == expect
        f = raw.rpc(200, handle + xdr_u32(0))
        assert f["status"] == 0 and struct.unpack(">i", f["body"][:4])[0] >= 1
        raw.close()
    dom.undefine()
    rw.close()
