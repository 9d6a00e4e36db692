#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of a fuzz target into a directory: the committed seeds
(tests/fuzz/corpus/TARGET: frames of libvirt's wire traces), the project's test data
(tests/data) and frames built here for the procedures domusd implements.

    tests/fuzz/seeds.py TARGET DIR"""
import glob
import os
import shutil
import struct
import sys
import uuid

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(TOP, "tests", "data")
REMOTE, QEMU, DOMUS = 0x20008086, 0x20008087, 0x444F4D55


def xdr_u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def xdr_u64(v):
    return struct.pack(">Q", v)


def xdr_string(s):
    b = s.encode() if isinstance(s, str) else s
    return xdr_u32(len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def frame(proc, body=b"", prog=REMOTE, serial=1, typ=0, status=0):
    return struct.pack(">IIIIIII", 28 + len(body), prog, 1, proc, typ, serial, status) + body


DOM = xdr_string("vm1") + uuid.UUID("c84b6fa0-9ca6-47be-981f-dee67ecfab62").bytes + \
    struct.pack(">i", 3)
POOL = xdr_string("default") + uuid.UUID("3af3bdd6-4e47-4695-9377-bcddde84cfc1").bytes
VOL = xdr_string("default") + xdr_string("a.qcow2") + xdr_string("/var/lib/domus/images/a.qcow2")


# one device each, as attach-device, detach-device and update-device read them
DEVICES = {
    "disk": "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source file='/var/lib/domus/images/b.qcow2'/><target dev='vdb' bus='virtio'/>"
            "<serial>hot1</serial><alias name='ua-disk1'/></disk>",
    "scsi-disk": "<disk type='file' device='disk'><source file='/var/s.img'/>"
                 "<target dev='sda' bus='scsi'/><address type='drive' controller='0' bus='0' "
                 "target='0' unit='1'/></disk>",
    "cdrom": "<disk type='file' device='cdrom'><source file='/var/a.iso'/>"
             "<target dev='sdb' bus='sata'/><readonly/></disk>",
    "interface": "<interface type='network'><mac address='52:54:00:aa:bb:cc'/>"
                 "<source network='default'/><model type='virtio'/><link state='down'/>"
                 "<bandwidth><inbound average='1000' peak='2000'/><outbound average='64'/>"
                 "</bandwidth>"
                 "<address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>"
                 "</interface>",
    "input": "<input type='tablet' bus='usb'/>",
    "controller": "<controller type='scsi' index='1' model='virtio-scsi'/>",
    "root-port": "<controller type='pci' model='pcie-root-port'/>",
    "memory": "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target>"
              "<address type='dimm' slot='1' base='0x100000000'/></memory>",
    "unsupported": "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' "
                   "slot='0' function='0'/></source></hostdev>",
}


def rpc_seeds():
    xml = open(os.path.join(DATA, "xml2xml", "minimal.xml"), "rb").read()
    pool = open(os.path.join(DATA, "poolxml2xml", "minimal.xml"), "rb").read()
    calls = [
        (66, b""), (1, xdr_u32(1) + xdr_string("qemu:///system") + xdr_u32(0)),
        (60, xdr_u32(10)), (273, xdr_u32(1) + xdr_u32(0)), (23, xdr_string("vm1")),
        (24, uuid.uuid4().bytes), (22, xdr_u32(3)), (11, xdr_string(xml)),
        (350, xdr_string(xml) + xdr_u32(1)), (10, xdr_string(xml) + xdr_u32(3)),
        (196, DOM + xdr_u32(1)), (234, DOM + xdr_u32(1)), (14, DOM + xdr_u32(9)),
        (16, DOM), (212, DOM + xdr_u32(0)), (258, DOM + xdr_u32(2)), (231, DOM + xdr_u32(127)),
        (29, DOM + xdr_u32(1)), (338, DOM + xdr_u64(1) + xdr_u32(2) + xdr_u32(1)),
        (418, DOM + xdr_u32(0x7f) + xdr_u32(0)), (201, DOM + xdr_u32(1) + xdr_string("serial0")
                                                  + xdr_u32(2)),
        (316, xdr_u32(0) + xdr_u32(1) + DOM), (317, xdr_u32(1)), (167, xdr_u32(0)),
        (298, DOM + xdr_u32(1)), (164, DOM),
        # save, restore, save images, managed save, snapshots
        (232, DOM + xdr_string("/var/x.save") + xdr_u32(1) + xdr_string(xml) + xdr_u32(2)),
        (233, xdr_string("/var/x.save") + xdr_u32(0) + xdr_u32(4)),
        (235, xdr_string("/var/x.save") + xdr_u32(1)),
        (236, xdr_string("/var/x.save") + xdr_string(xml) + xdr_u32(2)),
        (182, DOM + xdr_u32(0)), (389, DOM + xdr_u32(1) + xdr_string(xml) + xdr_u32(0)),
        (185, DOM + xdr_string("<domainsnapshot><name>s1</name></domainsnapshot>")
         + xdr_u32(0)),
        (186, xdr_string("s1") + DOM + xdr_u32(1)), (192, xdr_string("s1") + DOM + xdr_u32(2)),
        (274, DOM + xdr_u32(1) + xdr_u32(0x7ff)), (188, DOM + xdr_u32(10) + xdr_u32(0)), (77, xdr_string(pool) + xdr_u32(0)),
        (281, xdr_u32(1) + xdr_u32(0)), (282, POOL + xdr_u32(1) + xdr_u32(0)),
        (93, POOL + xdr_string("<volume><name>v</name><capacity>1</capacity></volume>")
         + xdr_u32(1)),
        (125, POOL + xdr_string("<volume/>") + VOL + xdr_u32(0)), (94, VOL + xdr_u32(0)),
        (209, VOL + xdr_u64(0) + xdr_u64(0) + xdr_u32(1)), (260, VOL + xdr_u64(1 << 20)
                                                            + xdr_u32(2)),
        (259, VOL + xdr_u32(3) + xdr_u32(0)), (97, xdr_string("/var/lib/domus/images/a")),
        # statistics, vCPUs and memory
        (64, DOM + xdr_string("vda")), (65, DOM + xdr_string("vnet0")),
        (159, DOM + xdr_u32(13) + xdr_u32(0)), (194, DOM + xdr_string("vda") + xdr_u32(0)),
        (243, DOM + xdr_string("") + xdr_u32(8) + xdr_u32(4)),
        (262, DOM + xdr_u32(3) + xdr_u32(0xFFFFFFFF) + xdr_u32(1) + xdr_u32(4)),
        (20, DOM + xdr_u32(2) + xdr_u32(1)), (200, DOM + xdr_u32(9)), (18, DOM),
        (344, xdr_u32(1) + DOM + xdr_u32(0x3f) + xdr_u32(0)),
        (344, xdr_u32(0) + xdr_u32(0) + xdr_u32(1 << 31)),
        (293, xdr_u32(1) + xdr_u32(1) + xdr_u32(0)), (227, xdr_u32(0xFFFFFFFF) + xdr_u32(4)
                                                      + xdr_u32(0)),
        (228, xdr_u32(4) + xdr_u32(0xFFFFFFFF) + xdr_u32(0)), (101, xdr_u32(0) + xdr_u32(8)),
        (199, DOM + xdr_u32(2) + xdr_u32(1)), (204, DOM + xdr_u64(1 << 18) + xdr_u32(2)),
        (30, DOM + xdr_u64(1 << 18)), (308, DOM + xdr_u32(5) + xdr_u32(1)),
        # devices: attach, detach (plain and with flags), by alias, update, blockresize
        (8, DOM + xdr_string(DEVICES["disk"])), (13, DOM + xdr_string(DEVICES["interface"])),
        (160, DOM + xdr_string(DEVICES["scsi-disk"]) + xdr_u32(3)),
        (161, DOM + xdr_string(DEVICES["input"]) + xdr_u32(1)),
        (392, DOM + xdr_string("ua-disk1") + xdr_u32(2)),
        (174, DOM + xdr_string(DEVICES["cdrom"]) + xdr_u32(1)),
        (251, DOM + xdr_string("vdb") + xdr_u64(1 << 30) + xdr_u32(1)),
        # pinning: vCPU (legacy, flags), its query, the emulator's, its query
        (26, DOM + xdr_u32(0) + xdr_string(b"\x02")),
        (225, DOM + xdr_u32(1) + xdr_string(b"\x03") + xdr_u32(2)),
        (230, DOM + xdr_u32(4) + xdr_u32(1) + xdr_u32(1)),
        (279, DOM + xdr_string(b"\x01") + xdr_u32(1)), (280, DOM + xdr_u32(1) + xdr_u32(2)),
        # scheduler and memory tunables: typed parameters from the client
        (56, DOM), (57, DOM + xdr_u32(9)), (223, DOM + xdr_u32(9) + xdr_u32(5)),
        (58, DOM + xdr_u32(1) + xdr_string("cpu_shares") + xdr_u32(4) + xdr_u64(2048)),
        (219, DOM + xdr_u32(2) + xdr_string("vcpu_quota") + xdr_u32(3) + xdr_u64(50000) +
         xdr_string("vcpu_period") + xdr_u32(4) + xdr_u64(100000) + xdr_u32(1)),
        (197, DOM + xdr_u32(1) + xdr_string("hard_limit") + xdr_u32(4) + xdr_u64(1 << 20) +
         xdr_u32(1)),
        (198, DOM + xdr_u32(3) + xdr_u32(0)),
        (205, DOM + xdr_u32(2) + xdr_string("weight") + xdr_u32(2) + xdr_u32(500) +
         xdr_string("device_read_iops_sec") + xdr_u32(7) + xdr_string("/dev/loop0,200") +
         xdr_u32(1)),
        (206, DOM + xdr_u32(6) + xdr_u32(0)),
        (256, DOM + xdr_string("vnet0") + xdr_u32(1) + xdr_string("inbound.average") +
         xdr_u32(2) + xdr_u32(1000) + xdr_u32(1)),
        (257, DOM + xdr_string("52:54:00:aa:bb:cc") + xdr_u32(7) + xdr_u32(2)),
        (252, DOM + xdr_string("vda") + xdr_u32(2) + xdr_string("total_bytes_sec") +
         xdr_u32(4) + xdr_u64(1 << 20) + xdr_string("group_name") + xdr_u32(7) +
         xdr_string("g1") + xdr_u32(1)),
        (253, DOM + xdr_u32(1) + xdr_string("vda") + xdr_u32(20) + xdr_u32(0)),
        (263, DOM + xdr_u32(4) + xdr_u32(0)), (203, xdr_u32(0)),
    ]
    seeds = {}
    for i, (proc, body) in enumerate(calls):
        seeds[f"call-{proc}-{i}"] = frame(proc, body, serial=i)
    seeds["qemu-monitor"] = frame(1, DOM + xdr_string('{"execute":"query-status"}') + xdr_u32(0),
                                  prog=QEMU)
    seeds["qemu-agent"] = frame(3, DOM + xdr_string('{"execute":"guest-ping"}') + xdr_u32(5) +
                                xdr_u32(0), prog=QEMU)
    # the seed's external revert (Domus program): name, memory image, disks, flags
    opt = lambda v: xdr_u32(0) if v is None else xdr_u32(1) + xdr_string(v)
    seeds["domus-revert-external"] = frame(
        3, DOM + opt("s1") + opt("/var/m.mem") + xdr_u32(2) + xdr_string("vda") +
        opt("/var/b.qcow2") + opt(None) + xdr_string("vdb") + opt(None) + opt("/var/r.qcow2") +
        xdr_u32(1), prog=DOMUS)
    seeds["stream"] = frame(209, b"x" * 64, typ=3, status=2) + frame(209, typ=3, status=0)
    seeds["hole"] = frame(208, xdr_u64(4096) + xdr_u32(0), typ=6, status=2)
    seeds["keepalive"] = frame(1, prog=0x6B656570, typ=2)
    seeds["error-reply"] = frame(1, xdr_u32(42) + xdr_u32(10) + xdr_u32(1) + xdr_string("e") +
                                 xdr_u32(2) + b"\0" * 28, typ=1, status=1)
    seeds["session"] = b"".join(seeds[k] for k in sorted(seeds) if k.startswith("call-"))
    return seeds


def files(pattern, prefix=b""):
    return {os.path.basename(p): prefix + open(p, "rb").read()
            for p in sorted(glob.glob(os.path.join(DATA, pattern)))}


def qmp_seeds():
    lines = [
        b'{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, '
        b'"capabilities": ["oob"]}}',
        b'{"return": {}, "id": 3}', b'{"return": {"status": "running", "running": true}, "id": 0}',
        b'{"return": {"name": "x"}, "id": "mine"}', b'{"error": {"class": "GenericError", '
                                                     b'"desc": "no"}, "id": 2}',
        b'{"event": "STOP", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}',
        b'{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}',
        b'{"timestamp": {"seconds": 1}, "event": "GUEST_PANICKED", "data": {"action": "pause"}}',
        b'{"return": [{"label": "charserial0", "filename": "pty:/dev/pts/3"}], "id": 1}',
    ]
    seeds = {f"line-{i}": l + b"\r\n" for i, l in enumerate(lines)}
    seeds["session"] = b"\r\n".join(lines) + b"\r\n"
    for name, script in files("qmp/*.json").items():
        seeds["script-" + name] = script.replace(b"\n", b" ") + b"\r\n"
    return seeds


def qga_seeds():
    return {
        "sync": b'\xff{"return": @ID@}\n',
        "sync-then-reply": b'garbage\xff{"return": @ID@}\n{"return": {"version": "7.2"}}\n',
        "error": b'\xff{"return": @ID@}\n{"error": {"class": "CommandNotFound", "desc": "x"}}\n',
        "time": b'\xff{"return": @ID@}\n{"return": 1700000000000000000}\n{"return": {}}\n',
        "stale": b'{"return": 1}\n\xff{"return": @ID@}\n',
    }


def saveimage_seeds():
    """Save images as libvirt lays them out (docs/save-image.md): each domain XML of the tests,
    with and without a cookie, running and paused, then a few bytes of stream."""
    out = {}
    for name, xml in files("xml2xml/*.xml").items():
        for cookie in (b"", b"<cookie><cpu mode='custom'/></cookie>"):
            body = xml + b"\0" + (cookie + b"\0" if cookie else b"")
            data_len = len(body) + 64
            header = b"LibvirtQemudSave" + struct.pack(
                "<5I", 2, data_len, len(cookie) % 2, 0, len(xml) + 1 if cookie else 0) + bytes(56)
            out[f"{name}{'-cookie' if cookie else ''}"] = \
                header + body + bytes(data_len - len(body)) + b"QEVM\0\0\0\3"
    return out


def main():
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    committed = os.path.join(TOP, "tests", "fuzz", "corpus", target.replace("fuzz-", ""))
    for p in glob.glob(os.path.join(committed, "*")):
        shutil.copy(p, out)
    if target == "fuzz-rpc":
        seeds = rpc_seeds()
    elif target == "fuzz-domain-xml":
        seeds = {**files("xml2xml/*.xml"), **files("xmlinvalid/*.xml"),
                 **files("xml2argv/*.xml"),
                 **{f"device-{k}": v.encode() for k, v in DEVICES.items()}}
    elif target == "fuzz-storage-xml":
        seeds = {**files("poolxml2xml/*.xml", b"\x01"), **files("volxml2xml/*.xml", b"\x00")}
        for name, text in files("storageinvalid/*.xml").items():
            seeds[name] = (b"\x01" if b"<pool" in text else b"\x00") + text
        seeds["secret-volume"] = (b"\x02<secret ephemeral='no' private='yes'><uuid>"
                                  b"0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b01</uuid><description>d"
                                  b"</description><usage type='volume'><volume>/v.img</volume>"
                                  b"</usage></secret>")
        seeds["secret-ceph"] = (b"\x02<secret><usage type='ceph'><name>client.admin</name>"
                                b"</usage></secret>")
        seeds["migration-cookie"] = (
            b"\x04<domus-migration><name>g</name><uuid>0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b01"
            b"</uuid><hostname>a</hostname><hostuuid>1b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b01"
            b"</hostuuid><disk target='vda' path='/i.qcow2' dev='2049' ino='12' size='196616' "
            b"shared-fs='no' capacity='67108864' format='qcow2' backing='/b.img'/>"
            b"<nbd host='10.0.0.2' port='49153'><export target='vda'/></nbd>"
            b"<statistics downtime='12' total='300' setup='2' transferred='9000'/>"
            b"</domus-migration>")
        seeds["block-copy"] = (b"\x08<disk type='file'><source file='/c.qcow2'/>"
                               b"<driver type='qcow2'/></disk>")
        seeds["checkpoint"] = (b"\x10<domaincheckpoint><name>c2</name><description>d &amp; e"
                               b"</description><parent><name>c1</name></parent><creationTime>"
                               b"1796650000</creationTime><disks><disk name='vda' "
                               b"checkpoint='bitmap' bitmap='c2'/><disk name='vdb' "
                               b"checkpoint='no'/></disks></domaincheckpoint>")
        seeds["backup"] = (b"\x20<domainbackup mode='push'><incremental>c1</incremental><disks>"
                           b"<disk name='vda' type='file' backupmode='incremental'><target "
                           b"file='/b/vda.qcow2'/><driver type='qcow2'/></disk><disk name='vdb' "
                           b"backup='no'/></disks></domainbackup>")
        seeds["backup-pull"] = (b"\x20<domainbackup mode='pull'><server transport='unix' "
                                b"socket='/run/b.sock'/><disks><disk name='vda' type='file'>"
                                b"<scratch file='/s.qcow2'/></disk></disks></domainbackup>")
        seeds["cpu-guest"] = (b"\x40<cpu mode='custom' match='strict'><model fallback='allow'>"
                              b"New</model><vendor>Intel</vendor><feature policy='disable' "
                              b"name='aes'/><feature policy='forbid' name='svm'/><feature "
                              b"policy='optional' name='x2apic'/><feature name='avx'/></cpu>")
        seeds["cpu-host"] = (b"\xc0<cpu><arch>x86_64</arch><model>Old</model><vendor>AMD"
                             b"</vendor><topology sockets='1' cores='2' threads='1'/><feature "
                             b"name='invtsc'/><feature name='lahf_lm'/></cpu>")
    elif target == "fuzz-network-xml":
        seeds = {**files("networkxml2xml/*.xml", b"\x00"), **files("networkinvalid/*.xml", b"\x00"),
                 **files("networkhost/*.xml", b"\x00")}
        seeds["leases"] = (b"\x01" b"1733400000 52:54:00:aa:bb:01 192.168.122.10 alpha *\n"
                           b"duid 00:01:00:01:2c:5e:aa:bb\n"
                           b"1733400001 1234 fd00::10 beta 00:01:00:01\n")
    elif target == "fuzz-qmp":
        seeds = qmp_seeds()
    elif target == "fuzz-qga":
        seeds = qga_seeds()
    elif target == "fuzz-saveimage":
        seeds = saveimage_seeds()
    else:
        sys.exit(f"unknown target {target}")
    for name, data in seeds.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
