# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input gets libvirt's error code and a clear message, changes nothing on disk, and the
daemon keeps serving."""
import os
import re
import socket
import struct
import time

import libvirt
import pytest

from conftest import domain_xml
from rpc import PROG, Raw, error_code, frame, xdr_string

UNKNOWN_DEVICE = domain_xml("bad").replace("<console type='pty'/>", "<smartcard mode='host'/>")

BAD_XML = [
    ("malformed", "<domain type='qemu'><name>x</name>", libvirt.VIR_ERR_XML_ERROR, "XML"),
    ("escaping name", domain_xml("../x"), libvirt.VIR_ERR_XML_DETAIL, "'../x'"),
    ("slash name", domain_xml("a/b"), libvirt.VIR_ERR_XML_DETAIL, "'/'"),
    ("memory 0", domain_xml("m0").replace("<memory unit='MiB'>64</memory>",
                                          "<memory unit='KiB'>0</memory>"),
     libvirt.VIR_ERR_INVALID_ARG, "memory"),
    ("memory absurd", domain_xml("mx").replace("<memory unit='MiB'>64</memory>",
                                               "<memory unit='TiB'>100000</memory>"),
     libvirt.VIR_ERR_INVALID_ARG, "memory"),
    ("vcpus 0", domain_xml("v0", vcpus=0), libvirt.VIR_ERR_INVALID_ARG, "vcpu"),
    ("unknown device", UNKNOWN_DEVICE, libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "smartcard"),
    ("unknown attribute", domain_xml("ua").replace("<vcpu>", "<vcpu frobnicate='1'>"),
     libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "frobnicate"),
    ("wrong root", "<network><name>n</name></network>", libvirt.VIR_ERR_XML_ERROR, "domain"),
    ("domain type xen", domain_xml("xen", virt_type="xen"), libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
     "xen"),
]


@pytest.mark.parametrize("label,xml,code,word", BAD_XML, ids=[b[0] for b in BAD_XML])
def test_define_bad_xml(daemon, label, xml, code, word):
    before = daemon.snapshot_config()
    c = daemon.conn()
    for call in (lambda: c.defineXML(xml), lambda: c.createXML(xml, 0)):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == code, str(e.value)
        assert word in str(e.value)
    assert daemon.snapshot_config() == before
    assert c.listAllDomains() == []
    assert daemon.guest_pids() == []
    c.close()


def test_bad_xml_through_clis(daemon):
    path = daemon.write("bad.xml", UNKNOWN_DEVICE)
    for run in (daemon.domus, daemon.virsh):
        r = run("define", path, check=False)
        assert r.returncode == 1
        assert "unsupported configuration" in r.stderr and "smartcard" in r.stderr
    r = daemon.domus("define", "/nonexistent.xml", check=False)
    assert r.returncode == 1 and "nonexistent.xml" in r.stderr


def test_duplicates(daemon):
    c = daemon.conn()
    uuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    c.defineXML(domain_xml("dup", uuid=uuid))
    before = daemon.snapshot_config()
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(domain_xml("dup", uuid="aaaaaaaa-bbbb-cccc-dddd-000000000000"))
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "'dup'" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(domain_xml("other", uuid=uuid))
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert uuid in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        c.createXML(domain_xml("other", uuid=uuid), 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert daemon.snapshot_config() == before
    assert [d.name() for d in c.listAllDomains()] == ["dup"]
    c.close()


def test_missing_domain_errors(daemon):
    c = daemon.conn()
    for call in (lambda: c.lookupByName("nope"), lambda: c.lookupByID(99999),
                 lambda: c.lookupByUUIDString("12345678-1234-1234-1234-123456789abc")):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    d = c.defineXML(domain_xml("gone"))
    d.undefine()
    with pytest.raises(libvirt.libvirtError) as e:
        d.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    c.close()


def test_invalid_operations(daemon):
    c = daemon.conn()
    d = c.defineXML(domain_xml("inv"))
    for op in (d.destroy, d.suspend, d.resume, d.shutdown, lambda: d.reboot(0), lambda: d.reset(0)):
        with pytest.raises(libvirt.libvirtError) as e:
            op()
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID, op
    t = c.createXML(domain_xml("inv-t"), 0)
    with pytest.raises(libvirt.libvirtError) as e:
        t.undefine()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    with pytest.raises(libvirt.libvirtError) as e:
        t.setAutostart(1)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    with pytest.raises(libvirt.libvirtError) as e:
        c.listAllDomains(1 << 30)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    t.destroy()
    c.close()


def test_start_failure_carries_qemu_stderr(daemon):
    """A QEMU that cannot start: the error carries its stderr and nothing is left behind."""
    xml = domain_xml("nostart", extra_devices="<disk type='file' device='disk'>"
                     "<source file='/nonexistent/disk.qcow2'/><target dev='vda' bus='virtio'/>"
                     "</disk>")
    c = daemon.conn()
    d = c.defineXML(xml)
    with pytest.raises(libvirt.libvirtError) as e:
        d.create()
    assert "/nonexistent/disk.qcow2" in str(e.value)
    assert "No such file" in str(e.value)
    assert d.state() == [5, 6]  # shut off (failed)
    assert daemon.guest_pids() == []
    assert os.listdir(os.path.join(daemon.root, "run", "qemu")) == []
    # a transient one vanishes
    with pytest.raises(libvirt.libvirtError):
        c.createXML(xml.replace("nostart", "nostart-t"), 0)
    assert "nostart-t" not in [x.name() for x in c.listAllDomains()]
    c.close()


def test_interface_on_a_missing_network(daemon):
    """As libvirt: a NIC on a network that does not exist fails the start, which leaves
    nothing behind."""
    c = daemon.conn()
    d = c.defineXML(domain_xml("netw", extra_devices="<interface type='network'>"
                                "<source network='default'/></interface>"))
    with pytest.raises(libvirt.libvirtError) as e:
        d.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_NETWORK
    assert "no network with matching name 'default'" in str(e.value)
    assert not d.isActive()
    assert daemon.guest_pids() == []
    c.close()


def test_kvm_type_needs_kvm(daemon):
    """As libvirt: type 'kvm' is refused at define on a host without a usable /dev/kvm,
    and getMaxVcpus('kvm') answers from what the host has."""
    kvm_ok = os.access("/dev/kvm", os.R_OK | os.W_OK)
    c = daemon.conn()
    if kvm_ok:
        d = c.defineXML(domain_xml("kvmtype", virt_type="kvm"))
        d.create()
        assert "-accel kvm" in open(os.path.join(daemon.root, "log", "kvmtype.log")).read()
        d.destroy()
        assert c.getMaxVcpus("kvm") >= 1
    else:
        before = daemon.snapshot_config()
        for call in (lambda: c.defineXML(domain_xml("kvmtype", virt_type="kvm")),
                     lambda: c.createXML(domain_xml("kvmtype", virt_type="kvm"), 0)):
            with pytest.raises(libvirt.libvirtError) as e:
                call()
            assert e.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
            assert "virt type 'kvm'" in str(e.value) and "/dev/kvm" in str(e.value)
        assert daemon.snapshot_config() == before
        with pytest.raises(libvirt.libvirtError) as e:
            c.getMaxVcpus("kvm")
        assert "kvm" in str(e.value)
    assert c.getMaxVcpus("qemu") == 16
    assert c.getMaxVcpus(None) == 16
    c.close()


def test_missing_emulator_refused_at_define(daemon):
    c = daemon.conn()
    xml = domain_xml("noemu", extra_devices="<emulator>/usr/bin/qemu-kvm</emulator>")
    before = daemon.snapshot_config()
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(xml)
    assert e.value.get_error_code() == libvirt.VIR_ERR_SYSTEM_ERROR
    msg = str(e.value)
    assert "Cannot check QEMU binary '/usr/bin/qemu-kvm'" in msg and "qemu-system-x86_64" in msg
    assert daemon.snapshot_config() == before
    c.close()


def test_machine_type_and_cpu_model_checked_against_qemu(daemon):
    """A machine type or CPU model the host's QEMU lacks is refused at define (and create),
    naming it, and nothing is kept; an alias is kept by its full name, as libvirt does."""
    c = daemon.conn()
    before = daemon.snapshot_config()
    pc = domain_xml("mach").replace("<type arch='x86_64'>",
                                    "<type arch='x86_64' machine='pc'>")
    for xml, code, words in (
            (pc.replace("machine='pc'", "machine='pc-i440fx-99.0'"),
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
             "does not support machine type 'pc-i440fx-99.0'"),
            (domain_xml("mach", extra="<cpu mode='custom'><model>NoSuchCPU</model></cpu>"),
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "CPU model 'NoSuchCPU' is not supported")):
        for call in (c.defineXML, lambda x: c.createXML(x, 0)):
            with pytest.raises(libvirt.libvirtError) as e:
                call(xml)
            assert e.value.get_error_code() == code and words in str(e.value), str(e.value)
    assert daemon.snapshot_config() == before and daemon.guest_pids() == []
    d = c.defineXML(pc)
    assert re.search(r"machine='pc-i440fx-[0-9]+\.[0-9]+'", d.XMLDesc(0)), d.XMLDesc(0)
    d2 = c.defineXML(domain_xml("mach2", extra="<cpu mode='custom'><model>qemu64</model>"
                                "</cpu>"))
    assert re.search(r"machine='pc-i440fx-[0-9]+\.[0-9]+'", d2.XMLDesc(0))
    d.undefine()
    d2.undefine()
    c.close()


def test_free_memory(daemon):
    c = daemon.conn()
    free = c.getFreeMemory()
    meminfo = dict(l.split(":", 1) for l in open("/proc/meminfo"))
    total = int(meminfo["MemTotal"].split()[0]) * 1024
    assert 0 < free <= total
    c.close()


# --- the wire ---

def still_serving(daemon):
    c = daemon.conn()
    c.listAllDomains()
    c.close()
    assert daemon.alive()


def test_oversized_message(daemon):
    r = Raw(daemon.sock)
    r.send(struct.pack(">I", 32 * 1024 * 1024 + 5) + b"\0" * 24)
    assert r.recv_frame() is None  # the daemon hangs up
    r.close()
    still_serving(daemon)


def test_truncated_message(daemon):
    r = Raw(daemon.sock)
    r.open()
    body = xdr_string("x" * 40)
    r.send(frame(23, 7, body)[:-20])
    r.close()
    still_serving(daemon)


def test_random_bytes(daemon):
    for seed in range(5):
        s = socket.socket(socket.AF_UNIX)
        s.connect(daemon.sock)
        s.sendall(os.urandom(4096 + seed * 97))
        s.close()
    still_serving(daemon)


def test_unknown_procedure_and_bad_args_keep_connection(daemon):
    r = Raw(daemon.sock)
    r.open()
    serial = r.call(9999)
    f = r.recv_frame()
    assert f["serial"] == serial and f["status"] == 1
    # as libvirtd: VIR_ERR_RPC "unknown procedure: 9999", the connection goes on
    assert error_code(f["body"]) == (libvirt.VIR_ERR_RPC, 7)
    # a string longer than its body
    r.send(frame(23, 50, struct.pack(">I", 1000) + b"abcd"))
    f = r.recv_frame()
    assert f["serial"] == 50 and f["status"] == 1
    assert error_code(f["body"])[0] == libvirt.VIR_ERR_RPC
    # trailing garbage after the arguments
    r.send(frame(23, 51, xdr_string("nope") + b"\0\0\0\0"))
    f = r.recv_frame()
    assert f["serial"] == 51 and error_code(f["body"])[0] == libvirt.VIR_ERR_RPC
    # an array count past the protocol's limit
    r.send(frame(273, 52, struct.pack(">iI", 1, 0)))
    f = r.recv_frame()
    assert f["serial"] == 52 and f["status"] == 0
    r.call(2)
    assert r.recv_frame()["status"] == 0
    r.close()


def test_calls_before_open_are_refused(daemon):
    r = Raw(daemon.sock)
    r.call(273, struct.pack(">iI", 1, 3))
    f = r.recv_frame()
    assert f["status"] == 1
    r.close()


def test_pipelined_calls(daemon):
    """Several calls in flight on one connection; replies are tied to calls by serial."""
    c = daemon.conn()
    c.defineXML(domain_xml("pipe"))
    c.close()
    r = Raw(daemon.sock)
    r.open()
    serials = [r.call(23, xdr_string("pipe")) for _ in range(5)]
    serials.append(r.call(273, struct.pack(">iI", 1, 3)))
    got = sorted(r.recv_frame()["serial"] for _ in serials)
    assert got == sorted(serials)
    r.close()


def test_disconnect_mid_call(daemon):
    c = daemon.conn()
    c.defineXML(domain_xml("midcall"))
    uuid = c.lookupByName("midcall").UUID()
    c.close()
    r = Raw(daemon.sock)
    r.open()
    body = xdr_string("midcall") + uuid + struct.pack(">i", -1)
    r.call(9, body)  # DOMAIN_CREATE, then hang up before the reply
    r.close()
    deadline = time.time() + 20
    c = daemon.conn()
    while time.time() < deadline and not c.lookupByName("midcall").isActive():
        time.sleep(0.05)
    assert c.lookupByName("midcall").isActive()
    still_serving(daemon)
    c.close()


def test_keepalive_ping(daemon):
    r = Raw(daemon.sock)
    r.call(66)
    r.recv_frame()
    r.send(frame(1, 0, prog=0x6B656570, typ=2))
    f = r.recv_frame()
    assert f["prog"] == 0x6B656570 and f["proc"] == 2
    r.close()


def test_keepalive_closes_a_silent_client(daemon):
    """A client that asked for keepalive and stops answering pings is closed (as libvirtd:
    after 5 s idle a ping every 5 s, the fifth unanswered closes); one that answers stays."""
    silent = Raw(daemon.sock)
    silent.open()
    silent.call(60, struct.pack(">i", 10))  # PROGRAM_KEEPALIVE: yes
    assert struct.unpack(">i", silent.recv_frame()["body"])[0] == 1
    pings = 0
    deadline = time.time() + 40
    while time.time() < deadline:
        f = silent.recv_frame()
        if f is None:
            break
        if f["prog"] == 0x6B656570 and f["proc"] == 1:
            pings += 1
    assert f is None and pings == 5
    silent.close()
    still_serving(daemon)


def test_seed_os_and_vcpu_elements(daemon, tmp_path):
    """The seed documents' <vcpu cpuset>, <bootmenu enable timeout>, <nvram template> and
    <serial type='null'>: kept in the definition and honoured at start."""
    code = tmp_path / "CODE.fd"
    code.write_bytes(b"\0" * (2 * 1024 * 1024))
    template = tmp_path / "VARS.fd"
    template.write_bytes(b"\x55" * (128 * 1024))
    nvram = tmp_path / "nvram" / "seed_VARS.fd"
    xml = f"""<domain type='qemu'>
  <name>seedos</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static' cpuset="1-4,^3,6" current="1">2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <loader readonly='yes' type='pflash'>{code}</loader>
    <nvram template='{template}'>{nvram}</nvram>
    <boot dev='hd'/>
    <bootmenu enable='yes' timeout='3000'/>
  </os>
  <devices><serial type='null'/></devices>
</domain>"""
    c = daemon.conn()
    d = c.defineXML(xml)
    out = d.XMLDesc(0)
    assert "cpuset='1-2,4,6'" in out and "<bootmenu enable='yes' timeout='3000'/>" in out
    assert f"<nvram template='{template}'>{nvram}</nvram>" in out and "type='null'" in out
    d.create()
    assert nvram.read_bytes() == template.read_bytes()
    pid = daemon.guest_pids()[0]
    cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    assert b"menu=on,splash-time=3000" in b" ".join(cmdline)
    assert b"null,id=charserial0" in cmdline
    allowed = [l for l in open(f"/proc/{pid}/status") if l.startswith("Cpus_allowed_list")]
    online = os.sysconf("SC_NPROCESSORS_ONLN")
    want = ",".join(str(x) for x in (1, 2, 4, 6) if x < online)
    assert allowed[0].split()[1] == want
    d.destroy()
    d.undefine()
    c.close()


def test_typed_parameter_refusals_as_libvirt(daemon):
    """A parameter of the wrong type or name, as libvirt's virTypedParamsValidate words it: the
    type by name ("int"), not by number."""
    from rpc import ERROR, error_code, error_message, xdr_i32, xdr_u32

    def param(field, typ, value):
        return xdr_string(field) + xdr_i32(typ) + value

    r = Raw(daemon.sock)
    r.open()
    # virNodeSetMemoryParameters (288): shm_pages_to_scan takes a uint (2), given an int (1)
    body = xdr_u32(1) + param("shm_pages_to_scan", 1, xdr_i32(5)) + xdr_u32(0)
    f = r.rpc(288, body)
    assert f["status"] == ERROR and error_code(f["body"])[0] == 8
    assert error_message(f["body"]) == (b"invalid argument: invalid type 'int' for parameter "
                                        b"'shm_pages_to_scan', expected 'uint'")
    body = xdr_u32(1) + param("nope", 2, xdr_u32(5)) + xdr_u32(0)
    f = r.rpc(288, body)
    assert error_message(f["body"]) == b"argument unsupported: parameter 'nope' not supported"
    r.close()
