# SPDX-License-Identifier: LGPL-2.1-or-later
"""Statistics of a real guest (issue 11, parts 6 and 7): block I/O (domblkstat,
blockStats, blockStatsFlags), image sizes (domblkinfo), memory (dommemstat, memoryStats),
CPU time (cpu-stats --total, getCPUStats), vCPUs (vcpuinfo, vcpucount, vcpus()) and the bulk
call (domstats, getAllDomainStats), through stock virsh and python3-libvirt, on a read-only
connection too; the refusals. One guest booted for the module."""
import json
import os
import re
import subprocess
import time

import libvirt
import pytest

import guest
from conftest import DOMUS, domain_xml, qemu_pid

E = libvirt
pytestmark = pytest.mark.keep_domains


@pytest.fixture(scope="module")
def st(daemon):
    c, dom, disk = guest.with_disk(daemon, "st", edit=lambda x: x.replace(
        "<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>").replace(
        "<panic model='isa'/>", "<panic model='isa'/><memballoon model='virtio'/>"))
    yield c, dom, disk
    guest.drop(c, "st")


def write_disk(dom, mib):
    rc, out = guest.agent_exec(dom, "/bin/sh", "-c", f"dd if=/dev/zero of=/dev/vda bs=1M "
                               f"count={mib} conv=fsync 2>/dev/null")
    assert rc == 0, out


def test_block_stats(daemon, st):
    c, dom, disk = st
    before = dom.blockStats("vda")
    write_disk(dom, 4)
    rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("vda")
    assert wr_bytes - before[3] >= 4 << 20 and wr_req > before[2]
    assert errs == -1  # QEMU does not count errors: libvirt says -1 too
    assert dom.blockStats(disk)[3] == wr_bytes  # by path as well as by target
    flags = dom.blockStatsFlags("vda")
    assert flags["wr_bytes"] == wr_bytes and flags["wr_operations"] == wr_req
    assert set(flags) == {"wr_bytes", "wr_operations", "rd_bytes", "rd_operations",
                          "flush_operations", "wr_total_times", "rd_total_times",
                          "flush_total_times"}
    assert flags["flush_operations"] > 0  # conv=fsync
    out = daemon.virsh("domblkstat", "st", "vda", "--human").stdout
    assert re.search(r"number of bytes written:\s+\d+", out), out
    out = daemon.virsh("domblkstat", "st").stdout  # no device: every disk summed
    assert re.search(rf"wr_bytes\s+{wr_bytes}\b", out), out


def test_block_info(daemon, st):
    c, dom, disk = st
    capacity, allocation, physical = dom.blockInfo("vda")
    assert capacity == 64 << 20
    assert 0 < allocation <= physical + 4096 and physical == os.path.getsize(disk)
    out = daemon.virsh("domblkinfo", "st", "vda").stdout
    assert re.search(r"Capacity:\s+67108864", out), out


def test_memory_and_cpu(daemon, st):
    c, dom, disk = st
    mem = dom.memoryStats()
    assert mem["actual"] == 256 * 1024  # the balloon's size, KiB
    assert 0 < mem["rss"] < 1024 * 1024
    out = daemon.virsh("dommemstat", "st").stdout
    assert re.search(r"actual 262144", out) and re.search(r"rss \d+", out), out
    # the balloon's statistics period: live only
    daemon.virsh("dommemstat", "st", "--period", "2", "--live")
    assert "actual" in dom.memoryStats()
    r = daemon.virsh("dommemstat", "st", "--period", "2", "--config", check=False)
    assert r.returncode != 0 and "not supported yet" in r.stderr
    total = dom.getCPUStats(True)[0]
    assert total["cpu_time"] >= total["user_time"] > 0
    assert total["cpu_time"] == total["user_time"] + total["system_time"]
    out = daemon.virsh("cpu-stats", "st", "--total").stdout
    assert re.search(r"cpu_time\s+\d+\.\d+ seconds", out), out
    # per host CPU figures come from the domain's cgroup where the host keeps them (v1
    # cpuacct); else each CPU has none (virsh says so and shows the total)
    percpu = dom.getCPUStats(False)
    out = daemon.virsh("cpu-stats", "st").stdout
    if os.path.exists("/sys/fs/cgroup/cpuacct/tasks"):
        assert len(percpu) == os.cpu_count()
        assert all(set(cpu) == {"cpu_time", "vcpu_time"} for cpu in percpu), percpu
        assert sum(cpu["cpu_time"] for cpu in percpu) > sum(cpu["vcpu_time"] for cpu in percpu) > 0
        assert "CPU0:" in out and re.search(r"vcpu_time\s+\d+\.\d+ seconds", out), out
    else:
        assert all(not cpu for cpu in percpu)
        assert "No per-CPU stats available" in out and "Total:" in out, out


def test_vcpus(daemon, st):
    c, dom, disk = st
    info, maps = dom.vcpus()
    assert len(info) == 1 and info[0][0] == 0 and info[0][1] == E.VIR_VCPU_RUNNING
    assert info[0][2] > 0 and info[0][3] >= 0
    assert len(maps) == 1 and any(maps[0])
    assert dom.vcpusFlags(E.VIR_DOMAIN_VCPU_MAXIMUM | E.VIR_DOMAIN_AFFECT_LIVE) == 2
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_LIVE) == 1
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_CONFIG) == 1
    assert dom.maxVcpus() == 2
    assert dom.vcpusFlags(E.VIR_DOMAIN_VCPU_GUEST) == 1  # the agent counts what is online
    out = daemon.virsh("vcpucount", "st").stdout
    assert re.search(r"maximum\s+config\s+2", out) and re.search(r"current\s+live\s+1", out), out
    out = daemon.virsh("vcpuinfo", "st").stdout
    assert re.search(r"VCPU:\s+0", out) and re.search(r"State:\s+running", out), out


def test_bulk_stats(daemon, st):
    c, dom, disk = st
    records = c.getAllDomainStats()
    ((d, stats),) = [(d, s) for d, s in records if d.name() == "st"]
    assert stats["state.state"] == E.VIR_DOMAIN_RUNNING
    assert stats["cpu.time"] > 0 and stats["balloon.current"] == 256 * 1024
    assert stats["vcpu.current"] == 1 and stats["vcpu.maximum"] == 2
    assert stats["vcpu.0.state"] == 1 and stats["vcpu.0.time"] > 0
    assert stats["block.count"] == 1 and stats["block.0.name"] == "vda"
    assert stats["block.0.path"] == disk and stats["block.0.capacity"] == 64 << 20
    assert stats["block.0.wr.bytes"] >= 4 << 20
    assert stats["net.count"] == 0
    only = c.domainListGetStats([dom], E.VIR_DOMAIN_STATS_STATE | E.VIR_DOMAIN_STATS_BLOCK)
    assert set(k.split(".")[0] for k in only[0][1]) == {"state", "block"}
    # the read-only connection reads them too
    ro = daemon.conn(readonly=True)
    assert ro.lookupByName("st").blockStats("vda")[3] == dom.blockStats("vda")[3]
    out = daemon.virsh("domstats", "st", "--vcpu", readonly=True).stdout
    assert "vcpu.current=1" in out and "vcpu.maximum=2" in out, out
    # a group we do not know, enforced: refused
    with pytest.raises(libvirt.libvirtError) as e:
        c.getAllDomainStats(1 << 12, E.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)
    assert e.value.get_error_code() == E.VIR_ERR_ARGUMENT_UNSUPPORTED


def test_refusals(daemon, st):
    c, dom, disk = st
    for call, code in [(lambda: dom.blockStats("vdz"), E.VIR_ERR_INVALID_ARG),
                       (lambda: dom.interfaceStats("vnet99"), E.VIR_ERR_INVALID_ARG),
                       (lambda: dom.blockInfo("/nope"), E.VIR_ERR_INVALID_ARG)]:
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == code
    dom.destroy()
    # shut off: no I/O counters, but the image's sizes and the configured vCPUs
    with pytest.raises(libvirt.libvirtError) as e:
        dom.blockStats("vda")
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    assert dom.blockInfo("vda")[0] == 64 << 20
    assert dom.vcpusFlags(E.VIR_DOMAIN_VCPU_MAXIMUM) == 2
    ((_, stats),) = c.domainListGetStats([dom])
    assert stats["state.state"] == E.VIR_DOMAIN_SHUTOFF and "cpu.time" not in stats
    dom.create()


def guest_file(dom, path):
    rc, out = guest.agent_exec(dom, "/bin/cat", path)
    assert rc == 0, out
    return out.strip()


def affinity(pid, tid=None):
    """The CPUs a thread of QEMU may run on (its main thread without TID)."""
    status = open(f"/proc/{pid}/task/{tid or pid}/status").read()
    return re.search(r"Cpus_allowed_list:\s*(\S+)", status).group(1)


def vcpu_thread(pid, n):
    """vCPU N's thread: QEMU names it "CPU N/TCG" (or /KVM)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
        if comm.startswith(f"CPU {n}/"):
            return int(tid)
    return None


two_cpus = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or os.cpu_count() < 2,
                              reason="pinning needs two host CPUs")


@two_cpus
def test_pinning(daemon, st):
    """vcpupin and emulatorpin, live and in the configuration, through virsh and the seed's
    python calls: the threads move (their affinity in /proc), the XML and the pin queries say
    so; an offline vCPU's pin waits for its plug (test_setvcpus); the refusals."""
    c, dom, disk = st
    pid = qemu_pid(daemon, "st")
    tid = vcpu_thread(pid, 0)
    assert tid
    daemon.virsh("vcpupin", "st", "0", "1", "--live")
    assert affinity(pid, tid) == "1"
    assert affinity(pid) == "0-1"  # the emulator is not the vCPU
    out = daemon.virsh("vcpupin", "st").stdout
    assert re.search(r"^\s*0\s+1\s*$", out, re.M) and re.search(r"^\s*1\s+0-1\s*$", out, re.M), out
    # python asks for as many maps as vCPUs are online (virDomainGetInfo's count)
    assert list(dom.vcpuPinInfo(E.VIR_DOMAIN_AFFECT_LIVE)) == [(False, True)]
    assert list(dom.vcpuPinInfo(E.VIR_DOMAIN_AFFECT_CONFIG)) == [(True, True)]
    assert "<vcpupin vcpu='0' cpuset='1'/>" in dom.XMLDesc(0)
    dom.pinVcpu(0, (True, False))
    assert affinity(pid, tid) == "0"
    daemon.virsh("emulatorpin", "st", "1", "--live")
    assert affinity(pid) == "1" and affinity(pid, tid) == "0"
    assert tuple(dom.emulatorPinInfo()) == (False, True)
    out = daemon.virsh("emulatorpin", "st").stdout
    assert re.search(r"\*:\s+1\b", out), out
    # vCPU 1 is offline: its pin is kept for the plug
    dom.pinVcpuFlags(1, (False, True), E.VIR_DOMAIN_AFFECT_LIVE)
    assert "<vcpupin vcpu='1' cpuset='1'/>" in dom.XMLDesc(0)
    # the configuration alone
    daemon.virsh("vcpupin", "st", "1", "0", "--config")
    daemon.virsh("emulatorpin", "st", "0", "--config")
    inactive = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    assert "<vcpupin vcpu='1' cpuset='0'/>" in inactive and \
        "<emulatorpin cpuset='0'/>" in inactive and "vcpu='0'" not in inactive
    assert affinity(pid) == "1"
    # domus prints what virsh prints, and pins as virsh does
    for args in (["vcpupin", "st"], ["vcpupin", "st", "--config"], ["vcpupin", "st", "1"],
                 ["emulatorpin", "st"], ["emulatorpin", "st", "--config"]):
        assert daemon.domus(*args).stdout == daemon.virsh(*args).stdout, args
    daemon.domus("vcpupin", "st", "0", "r")
    assert affinity(pid, tid) == "0-1"
    daemon.domus("vcpupin", "st", "--vcpu", "0", "--cpulist", "0", "--live")
    daemon.domus("emulatorpin", "st", "0-1")
    assert affinity(pid, tid) == "0" and affinity(pid) == "0-1"
    daemon.domus("emulatorpin", "st", "1")
    for args, msg in [(["vcpupin", "st", "0", "9"], "CPU 9 in cpulist '9' exceed the maxcpu"),
                      (["vcpupin", "st", "0", "x"], "Invalid cpulist 'x'"),
                      (["vcpupin", "st", "--cpulist", "0"], "Missing vCPU number"),
                      (["vcpupin", "st", "7", "0"], "vcpu 7 is out of range of live cpu count 2")]:
        d, v = daemon.domus(*args, check=False), daemon.virsh(*args, check=False)
        assert d.returncode != 0 and v.returncode != 0 and msg in d.stderr and msg in v.stderr, \
            (args, d.stderr, v.stderr)
    # refusals: nothing changes
    for args, code in [((5, (True, True), E.VIR_DOMAIN_AFFECT_LIVE), E.VIR_ERR_INVALID_ARG),
                       ((0, (False, False), E.VIR_DOMAIN_AFFECT_LIVE), E.VIR_ERR_INVALID_ARG)]:
        with pytest.raises(libvirt.libvirtError) as e:
            dom.pinVcpuFlags(*args)
        assert e.value.get_error_code() == code, str(e.value)
    # a CPU the host lacks (clients cut their maps to the host's CPUs: a raw call)
    import rpc
    raw = rpc.Raw(daemon.sock)
    raw.open()
    handle = rpc.xdr_domain("st", bytes.fromhex(dom.UUIDString().replace("-", "")))
    for proc, body in [(225, handle + rpc.xdr_u32(0) + rpc.xdr_opaque(b"\0\0\0\x80") +
                        rpc.xdr_u32(1)),
                       (279, handle + rpc.xdr_opaque(b"\0\0\0\x80") + rpc.xdr_u32(1))]:
        reply = raw.rpc(proc, body)
        assert reply["status"] == rpc.ERROR
        assert rpc.error_code(reply["body"])[0] == E.VIR_ERR_OPERATION_INVALID
        assert b"CPUs '31'" in rpc.error_message(reply["body"])
    raw.close()
    assert affinity(pid, tid) == "0" and "<vcpupin vcpu='0' cpuset='0'/>" in dom.XMLDesc(0)
    r = daemon.virsh("vcpupin", "st", "0", "0", "--live", "--config", check=False)
    assert r.returncode == 0, r.stderr  # both at once is allowed
    ro = daemon.conn(readonly=True).lookupByName("st")
    assert ro.vcpuPinInfo(0)[0] == (True, False)
    with pytest.raises(libvirt.libvirtError) as e:
        ro.pinVcpu(0, (True, True))
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_DENIED
    # the configuration is what the next start uses: before the guest runs
    d2 = "pinstart"
    _, xml = guest.xml(daemon, d2, agent=False)
    xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu><cputune><vcpupin vcpu='1' "
                      "cpuset='1'/><emulatorpin cpuset='0'/></cputune>")
    c2 = daemon.conn()
    d = c2.defineXML(xml)
    try:
        d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
        p2 = qemu_pid(daemon, d2)
        assert affinity(p2) == "0"
        assert affinity(p2, vcpu_thread(p2, 0)) == "0-1"
        assert affinity(p2, vcpu_thread(p2, 1)) == "1"
    finally:
        guest.drop(c2, d2)


def test_setvcpus(daemon, st):
    """A vCPU plugged live shows in the guest (present, then online through the agent), and
    goes again once the guest has released it; the configuration changes only when asked."""
    c, dom, disk = st
    if not dom.isActive():
        dom.create()
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent")
    # vCPU 1 by number (virDomainSetVcpu); the live XML says it is a device of its own
    daemon.virsh("setvcpu", "st", "1", "--enable", "--live")
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_LIVE) == 2
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_CONFIG) == 1
    assert ("<vcpus>\n    <vcpu id='0' enabled='yes' hotpluggable='no'/>\n"
            "    <vcpu id='1' enabled='yes' hotpluggable='yes'/>\n  </vcpus>") in dom.XMLDesc(0)
    assert "<vcpus>" not in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    guest.wait(lambda: guest_file(dom, "/sys/devices/system/cpu/present") == "0-1", 20,
               "the new vCPU in the guest")
    # it stays a device through save and restore, so it can be unplugged there (below)
    image = os.path.join(daemon.root, "st-vcpus.save")
    dom.save(image)
    c.restore(image)
    os.unlink(image)
    dom = c.lookupByName("st")
    slots = json.loads(daemon.virsh("qemu-monitor-command", "st",
                                    '{"execute":"query-hotpluggable-cpus"}').stdout)["return"]
    assert sorted(x.get("qom-path", "") for x in slots) == ["/machine/peripheral/vcpu1",
                                                            "/machine/unattached/device[0]"]
    guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent after restore")
    assert guest_file(dom, "/sys/devices/system/cpu/present") == "0-1"
    if "<vcpupin vcpu='1' cpuset='1'/>" in dom.XMLDesc(0):  # test_pinning pinned it
        pid = qemu_pid(daemon, "st")
        assert affinity(pid, vcpu_thread(pid, 1)) == "1"
    daemon.virsh("setvcpus", "st", "2", "--guest")
    assert guest_file(dom, "/sys/devices/system/cpu/online") == "0-1"
    assert dom.vcpusFlags(E.VIR_DOMAIN_VCPU_GUEST) == 2
    assert len(dom.vcpus()[0]) == 2
    # guestvcpus: the agent's view, and a vCPU taken offline and back (virsh and domus alike)
    v, m = daemon.virsh("guestvcpus", "st"), daemon.domus("guestvcpus", "st")
    assert m.stdout == v.stdout == ("vcpus          : 0-1\nonline         : 0-1\n"
                                    "offlinable     : 1\n\n"), v.stdout
    daemon.domus("guestvcpus", "st", "--cpulist", "1", "--disable")
    assert guest_file(dom, "/sys/devices/system/cpu/online") == "0"
    assert dom.guestVcpus()["online"] == "0"
    daemon.virsh("guestvcpus", "st", "--cpulist", "1", "--enable")
    assert guest_file(dom, "/sys/devices/system/cpu/online") == "0-1"
    for args in (["guestvcpus", "st", "--cpulist", "0", "--disable"],
                 ["guestvcpus", "st", "--cpulist", "5", "--enable"],
                 ["guestvcpus", "st", "--cpulist", "1"],
                 ["guestvcpus", "st", "--enable"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
        assert v.returncode == 1
    assert guest_file(dom, "/sys/devices/system/cpu/online") == "0-1"
    daemon.virsh("setvcpus", "st", "1", "--live")  # returns once the guest let it go
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_LIVE) == 1
    assert guest_file(dom, "/sys/devices/system/cpu/present") == "0"
    # QEMU 7.2's TCG corrupts its heap and exits when it writes the guest's state after an
    # unplug: save, managed save and a snapshot with memory are refused, the guest runs on
    for args in (["save", "st", os.path.join(daemon.root, "st.save")], ["managedsave", "st"],
                 ["snapshot-create-as", "st", "s1"]):
        r = daemon.virsh(*args, check=False)
        assert r.returncode == 1 and "a vCPU was unplugged from it" in r.stderr, r.stderr
        assert "restart the domain first" in r.stderr
    assert not os.path.exists(os.path.join(daemon.root, "st.save"))
    assert dom.snapshotNum() == 0 and not dom.hasManagedSaveImage()
    assert dom.state()[0] == E.VIR_DOMAIN_RUNNING and guest.agent_ok(dom)
    # QEMU 7.2's TCG aborts when a vCPU is plugged again after an unplug: refused, not crashed
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setVcpusFlags(2, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_UNSUPPORTED
    assert "restart the domain" in str(e.value)
    assert dom.isActive() and guest.agent_ok(dom)
    # the configuration
    dom.setVcpusFlags(2, E.VIR_DOMAIN_AFFECT_CONFIG)
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_CONFIG) == 2
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_LIVE) == 1
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setVcpusFlags(3, E.VIR_DOMAIN_AFFECT_CONFIG)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setVcpusFlags(3, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    dom.setVcpusFlags(3, E.VIR_DOMAIN_AFFECT_CONFIG | E.VIR_DOMAIN_VCPU_MAXIMUM)
    assert "<vcpu placement='static' current='2'>3</vcpu>" in \
        dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE) or \
        "current='2'>3</vcpu>" in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    dom.setVcpusFlags(2, E.VIR_DOMAIN_AFFECT_CONFIG | E.VIR_DOMAIN_VCPU_MAXIMUM)
    dom.setVcpusFlags(1, E.VIR_DOMAIN_AFFECT_CONFIG)


def test_setvcpu_config(daemon):
    """setvcpu in the configuration: virsh and domus alike, libvirt's refusals, and <vcpus>
    in the XML afterwards, which the domain then starts from."""
    daemon.conn().defineXML(domain_xml("sv", vcpus=4))
    try:
        for args, err in ((["0", "--disable"], "vCPU '0' can't be modified"),
                          (["2", "--disable"], "vcpu '2' can't be modified as it is followed by "
                                               "non-hotpluggable online vcpus"),
                          (["7", "--enable"], "vcpu 7 is not present in persistent config"),
                          (["1"], "one of --enable, --disable is required"),
                          (["1", "--enable", "--disable"], "mutually exclusive"),
                          (["3", "--disable", "--live"], "domain 'sv' is not running")):
            extra = [] if "--live" in args else ["--config"]
            v = daemon.virsh("setvcpu", "sv", *args, *extra, check=False)
            m = daemon.domus("setvcpu", "sv", *args, *extra, check=False)
            assert v.returncode == m.returncode == 1 and err in v.stderr, (args, v.stderr)
            assert m.stderr == v.stderr, (args, m.stderr, v.stderr)
        for tool in (daemon.virsh, daemon.domus):
            assert tool("setvcpu", "sv", "3", "--disable", "--config").stdout == "\n"
        xml = daemon.conn().lookupByName("sv").XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        assert "<vcpu placement='static' current='3'>4</vcpu>" in xml, xml
        assert "<vcpu id='3' enabled='no' hotpluggable='yes'/>" in xml, xml
        assert "<vcpu id='2' enabled='yes' hotpluggable='no'/>" in xml, xml
        daemon.domus("setvcpu", "sv", "2-3", "--disable", "--config")
        daemon.virsh("setvcpu", "sv", "3", "--enable")  # current: the configuration here
        xml = daemon.conn().lookupByName("sv").XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        assert "<vcpu placement='static' current='3'>4</vcpu>" in xml, xml
        assert "<vcpu id='2' enabled='no' hotpluggable='yes'/>" in xml, xml
        assert "<vcpu id='3' enabled='yes' hotpluggable='yes'/>" in xml, xml
        # QEMU starts with vCPUs 0 and 1 and vCPU 3 as a device of its own
        dom = daemon.conn().lookupByName("sv")
        dom.create()
        slots = json.loads(daemon.virsh("qemu-monitor-command", "sv",
                                        '{"execute":"query-hotpluggable-cpus"}').stdout)["return"]
        used = sorted(x["qom-path"] for x in slots if "qom-path" in x)
        assert len(used) == 3 and "/machine/peripheral/vcpu3" in used, used
        assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_LIVE) == 3
        # the online vCPUs by number, vCPU 2 offline between them
        assert [v[0] for v in dom.vcpus()[0]] == [0, 1, 3]
        for tool in (daemon.virsh, daemon.domus):
            out = tool("vcpuinfo", "sv").stdout
            assert re.findall(r"VCPU:\s+(\d+)", out) == ["0", "1", "3"], out
        dom.destroy()
        # setvcpus --hotpluggable: the vCPUs added to the configuration come as devices
        daemon.virsh("setvcpus", "sv", "1", "--config")
        daemon.domus("setvcpus", "sv", "3", "--config", "--hotpluggable")
        xml = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        for n, state in ((0, "yes' hotpluggable='no"), (1, "yes' hotpluggable='yes"),
                         (2, "yes' hotpluggable='yes"), (3, "no' hotpluggable='yes")):
            assert f"<vcpu id='{n}' enabled='{state}'/>" in xml, xml
        dom.create()
        slots = json.loads(daemon.virsh("qemu-monitor-command", "sv",
                                        '{"execute":"query-hotpluggable-cpus"}').stdout)["return"]
        used = sorted(x["qom-path"] for x in slots if "qom-path" in x)
        assert used[:2] == ["/machine/peripheral/vcpu1", "/machine/peripheral/vcpu2"], used
        dom.destroy()
    finally:
        daemon.conn().lookupByName("sv").undefine()


def test_setmem(daemon, st):
    c, dom, disk = st
    # the balloon's moves are events: virsh and domus print the first alike
    cmd = ["event", "--event", "balloon-change", "--domain", "st", "--timeout", "30"]
    listeners = [subprocess.Popen(argv + cmd, stdout=subprocess.PIPE, text=True)
                 for argv in (["virsh", "-c", daemon.uri], [DOMUS, "-c", daemon.domus_uri])]
    time.sleep(1)
    daemon.virsh("setmem", "st", "200M", "--live")
    assert dom.info()[2] == 200 * 1024
    guest.wait(lambda: dom.memoryStats()["actual"] == 200 * 1024, 20, "the balloon to move")
    theirs, ours = (p.communicate(timeout=30)[0] for p in listeners)
    assert theirs.startswith("event 'balloon-change' for domain 'st': ") and "KiB\n" in theirs
    assert ours == theirs
    assert dom.maxMemory() == 256 * 1024
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setMemoryFlags(300 * 1024, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setMaxMemory(300 * 1024)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    dom.setMemoryFlags(300 * 1024, E.VIR_DOMAIN_AFFECT_CONFIG | E.VIR_DOMAIN_MEM_MAXIMUM)
    inactive = dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    assert "<memory unit='KiB'>307200</memory>" in inactive, inactive
    dom.setMemoryFlags(256 * 1024, E.VIR_DOMAIN_AFFECT_CONFIG | E.VIR_DOMAIN_MEM_MAXIMUM)
    daemon.virsh("setmem", "st", "256M", "--live")
    assert dom.info()[2] == 256 * 1024


def keys(text):
    return [line.split("=")[0].split()[:2] for line in text.splitlines() if line.strip()]


def test_domus_commands_match_virsh(daemon, st):
    """domus's statistics, vCPU and memory commands print what virsh prints (the same lines;
    counters that move between the two calls compared by name)."""
    c, dom, disk = st
    if not dom.isActive():
        dom.create()
    for args in (["vcpucount", "st"], ["vcpucount", "st", "--maximum", "--config"],
                 ["domblkinfo", "st", "vda"], ["domblkinfo", "st", "vda", "--human"],
                 ["domblkinfo", "st", "--all"]):
        assert daemon.domus(*args).stdout == daemon.virsh(*args).stdout, args
    for args in (["dommemstat", "st"], ["domblkstat", "st", "vda"],
                 ["domblkstat", "st", "vda", "--human"], ["domstats", "st"],
                 ["domstats", "st", "--vcpu", "--block"]):
        d, v = daemon.domus(*args).stdout, daemon.virsh(*args).stdout
        assert keys(d) == keys(v), (args, d, v)
    daemon.domus("setvcpus", "st", "2", "--config")
    assert dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_CONFIG) == 2
    daemon.domus("setvcpus", "st", "1", "--config")
    daemon.domus("setmem", "st", "240M", "--live")
    assert dom.info()[2] == 240 * 1024
    r = daemon.domus("setmaxmem", "st", "300M", "--live", check=False)
    assert r.returncode != 0 and "Unable to change MaxMemorySize" in r.stderr
    daemon.domus("setmem", "st", "262144")  # KiB when no unit is given
    assert dom.info()[2] == 256 * 1024
    r = daemon.domus("setmem", "st", "12x", check=False)
    assert r.returncode != 0 and "Invalid value of 12x for memory size" in r.stderr


def test_domus_vcpuinfo_and_cpu_stats(daemon, st):
    c, dom, disk = st
    if not dom.isActive():
        dom.create()
    for args in (["vcpuinfo", "st"], ["vcpuinfo", "st", "--pretty"],
                 ["cpu-stats", "st", "--total"], ["cpu-stats", "st"]):
        d, v = daemon.domus(*args).stdout, daemon.virsh(*args).stdout
        # CPU time moves between the two calls, and so may the host CPU a vCPU runs on:
        # compared by shape
        shape = lambda t: re.sub(r"(CPU:\s+)\d+\n", r"\1N\n",  # noqa: E731
                                 re.sub(r"\d+\.\d+", "N", t))
        assert shape(d) == shape(v), (args, d, v)


def test_host_statistics(daemon, st):
    """virsh nodecpustats, nodememstats and freecell read the host's /proc and sysfs."""
    c, dom, disk = st
    out = daemon.virsh("nodecpustats").stdout
    assert re.search(r"user:\s+\d+", out) and re.search(r"idle:\s+\d+", out), out
    out = daemon.virsh("nodecpustats", "0").stdout
    assert re.search(r"system:\s+\d+", out), out
    total = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    out = daemon.virsh("nodememstats").stdout
    assert re.search(rf"total\s*:\s+{total} KiB", out), out
    assert re.search(r"Total:\s+\d+ KiB", daemon.virsh("freecell").stdout)
    stats = c.getCPUStats(-1)
    assert set(stats) == {"kernel", "user", "idle", "iowait"} and stats["idle"] > 0
    assert c.getMemoryStats(-1)["total"] == total
    assert c.getCellsFreeMemory(0, 1)[0] > 0
    r = daemon.virsh("nodecpustats", "4096", check=False)
    assert r.returncode != 0
    # domus prints what virsh prints; the figures move between two calls, the layout not
    def layout(text):
        return re.sub(r" *\d+(\.\d+)?", " N", text)
    for cmd in (["nodeinfo"], ["nodecpumap"], ["nodecpumap", "--pretty"], ["nodememstats"],
                ["nodecpustats"], ["nodecpustats", "--cpu", "1"], ["nodecpustats", "--percent"],
                ["freecell"], ["freecell", "--all"], ["freecell", "--cellno", "0"],
                ["nodecpustats", "4096"], ["nodememstats", "--cell", "x"], ["maxvcpus"],
                ["maxvcpus", "--type", "kvm"]):
        v = daemon.virsh(*cmd, check=False)
        o = daemon.domus(*cmd, check=False)
        assert (v.returncode, layout(v.stdout), v.stderr) == \
            (o.returncode, layout(o.stdout), o.stderr), cmd
    assert daemon.domus("nodeinfo").stdout == daemon.virsh("nodeinfo").stdout


def test_perf_events(daemon, st):
    """Host perf counters of QEMU's process: enabled in <perf> (opened before QEMU runs, so
    every thread counts) or live (perf --enable), read in domstats' perf group; the software
    events every Linux host has, hardware ones where it has a PMU, Intel's cmt/mbmt/mbml
    refused as libvirt refuses them without resctrl."""
    from conftest import DOMUS, domain_xml
    c, dom, _ = st
    name = dom.name()
    # live: enabled, counted, shown the same by virsh and domus, disabled
    out = daemon.virsh("perf", name, "--enable", "task_clock,page_faults").stdout
    assert re.search(r"task_clock\s*: enabled", out) and re.search(r"page_faults\s*: enabled",
                                                                    out), out
    guest.agent_exec(dom, "/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
    stats = dict(c.domainListGetStats([dom], E.VIR_DOMAIN_STATS_PERF)[0][1])
    assert stats["perf.task_clock"] > 0 and "perf.page_faults" in stats, stats
    assert "perf.cpu_clock" not in stats
    ev = dom.perfEvents(E.VIR_DOMAIN_AFFECT_LIVE)
    assert ev["task_clock"] and ev["page_faults"] and not ev["cpu_clock"] and len(ev) == 22
    assert daemon.domus("perf", name).stdout == daemon.virsh("perf", name).stdout
    out = daemon.virsh("domstats", name, "--perf").stdout
    assert re.search(r"perf.task_clock=\d+", out), out
    assert daemon.domus("domstats", name, "--perf").stdout.splitlines()[:1] == \
        out.splitlines()[:1]
    daemon.domus("perf", name, "--disable", "task_clock,page_faults")
    stats = dict(c.domainListGetStats([dom], E.VIR_DOMAIN_STATS_PERF)[0][1])
    assert not any(k.startswith("perf.") for k in stats), stats
    # refused: Intel's monitors; nothing changes
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setPerfEvents({"cmt": True}, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_ARGUMENT_UNSUPPORTED
    assert "unable to enable host cpu perf event for cmt" in str(e.value)
    assert not dom.perfEvents(E.VIR_DOMAIN_AFFECT_LIVE)["cmt"]
    # a hardware counter: counted where the host has a PMU, else the kernel's reason
    try:
        dom.setPerfEvents({"cpu_cycles": True}, E.VIR_DOMAIN_AFFECT_LIVE)
        assert dom.perfEvents(E.VIR_DOMAIN_AFFECT_LIVE)["cpu_cycles"]
        dom.setPerfEvents({"cpu_cycles": False}, E.VIR_DOMAIN_AFFECT_LIVE)
    except libvirt.libvirtError as err:
        assert "unable to open host cpu perf event for cpu_cycles" in str(err)
    # the config: <perf>, and a start counts from the first instruction
    dom.setPerfEvents({"context_switches": True}, E.VIR_DOMAIN_AFFECT_CONFIG)
    assert "<event name='context_switches' enabled='yes'/>" in \
        dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    dom.setPerfEvents({"context_switches": False}, E.VIR_DOMAIN_AFFECT_CONFIG)
    perf = "<perf><event name='cpu_clock' enabled='yes'/></perf>"
    p = c.createXML(domain_xml("perfstart", extra=perf),
                    E.VIR_DOMAIN_START_PAUSED)
    stats = dict(c.domainListGetStats([p], E.VIR_DOMAIN_STATS_PERF)[0][1])
    assert stats.get("perf.cpu_clock", 0) > 0, stats  # QEMU's start-up, all its threads
    p.destroy()
    pids = set(daemon.guest_pids())
    with pytest.raises(libvirt.libvirtError) as e:
        c.createXML(domain_xml("perfbad", extra="<perf><event name='mbml' enabled='yes'/></perf>"),
                    0)
    assert "unable to enable host cpu perf event for mbml" in str(e.value)
    assert set(daemon.guest_pids()) == pids
    with pytest.raises(libvirt.libvirtError):
        c.lookupByName("perfbad")


def thread_cpus(pid, name):
    """The CPUs thread NAME of process PID may run on (Cpus_allowed_list), or None."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        return line.split()[1]
        except OSError:
            continue
    return None


def test_iothreads_and_dirty_rate(daemon):
    """IOThreads: defined (<iothreads>, <iothreadids>, <iothreadpin>, a disk's
    <driver iothread>), QEMU's iothread objects and their threads, iothreadinfo through virsh
    and domus alike, add / delete live and config (a disk's IOThread stays), pin live (the
    thread's affinity), polling set live and read in domstats' iothread group; the dirty rate
    measured and read in the dirtyrate group. QEMU runs paused: the threads are the point."""
    from conftest import domain_xml
    c = daemon.conn()
    img = os.path.join(daemon.root, "iothr.raw")
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw' iothread='2'/>"
            f"<source file='{img}'/><target dev='vda' bus='virtio'/></disk>")
    extra = ("<iothreads>2</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/>"
             "</cputune>")
    dom = c.defineXML(domain_xml("iothr", extra=extra, extra_devices=disk))
    try:
        dom.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
        xml = dom.XMLDesc()
        assert "<iothreads>2</iothreads>" in xml and "iothread='2'" in xml, xml
        out = daemon.virsh("iothreadinfo", "iothr").stdout
        assert re.search(r"^ 1\s+0\s*$", out, re.M) and re.search(r"^ 2\s+\S+", out, re.M), out
        assert daemon.domus("iothreadinfo", "iothr").stdout == out
        info = dict(dom.ioThreadInfo(E.VIR_DOMAIN_AFFECT_LIVE))
        assert info[1] == [True, False] and len(info) == 2, info
        # add live and config; pin it; its thread follows
        dom.addIOThread(5, E.VIR_DOMAIN_AFFECT_LIVE | E.VIR_DOMAIN_AFFECT_CONFIG)
        assert 5 in dict(dom.ioThreadInfo(E.VIR_DOMAIN_AFFECT_CONFIG))
        daemon.domus("iothreadpin", "iothr", "5", "1", "--live")
        pids = [p for p in daemon.guest_pids()
                if "guest=iothr," in open(f"/proc/{p}/cmdline").read().replace("\0", " ")]
        assert len(pids) == 1
        assert thread_cpus(pids[0], "IO iothread5") == "1"
        assert thread_cpus(pids[0], "IO iothread1") == "0"
        assert "<iothreadpin iothread='5' cpuset='1'/>" in dom.XMLDesc()
        # polling, live only
        dom.setIOThreadParams(2, {"poll_max_ns": 12345, "poll_grow": 3},
                              E.VIR_DOMAIN_AFFECT_LIVE)
        stats = dict(c.domainListGetStats([dom], E.VIR_DOMAIN_STATS_IOTHREAD)[0][1])
        assert stats["iothread.count"] == 3, stats
        assert stats["iothread.2.poll-max-ns"] == 12345 and stats["iothread.2.poll-grow"] == 3
        with pytest.raises(libvirt.libvirtError) as e:
            dom.setIOThreadParams(2, {"poll_max_ns": 1}, E.VIR_DOMAIN_AFFECT_CONFIG)
        assert "configuring persistent polling values is not supported" in str(e.value)
        # refusals, nothing changes
        for fn, text in [(lambda: dom.delIOThread(2, E.VIR_DOMAIN_AFFECT_LIVE),
                          "cannot remove IOThread 2 since it is being used by disk 'vda'"),
                         (lambda: dom.addIOThread(1, E.VIR_DOMAIN_AFFECT_LIVE),
                          "an IOThread is already using iothread_id '1'"),
                         (lambda: dom.delIOThread(9, E.VIR_DOMAIN_AFFECT_LIVE),
                          "cannot find IOThread '9' in iothreadids list")]:
            with pytest.raises(libvirt.libvirtError) as e:
                fn()
            assert text in str(e.value)
        r = daemon.domus("iothreadadd", "iothr", "0", check=False)
        v = daemon.virsh("iothreadadd", "iothr", "0", check=False)
        assert r.returncode and v.returncode and r.stderr == v.stderr, (r.stderr, v.stderr)
        # delete live and config
        daemon.virsh("iothreaddel", "iothr", "5", "--live", "--config")
        assert thread_cpus(pids[0], "IO iothread5") is None
        assert 5 not in dict(dom.ioThreadInfo(E.VIR_DOMAIN_AFFECT_CONFIG))
        # the dirty rate: measured for a second, then in the dirtyrate group
        out = daemon.domus("domdirtyrate-calc", "iothr", "--seconds", "1").stdout
        assert out == "Start to calculate domain's memory dirty rate successfully.\n\n"
        deadline = time.time() + 30
        while True:
            stats = dict(c.domainListGetStats([dom], E.VIR_DOMAIN_STATS_DIRTYRATE)[0][1])
            if stats.get("dirtyrate.calc_status") == 2 or time.time() > deadline:
                break
            time.sleep(0.3)
        assert stats["dirtyrate.calc_status"] == 2, stats
        assert stats["dirtyrate.calc_period"] == 1 and "dirtyrate.megabytes_per_second" in stats
        assert stats["dirtyrate.calc_mode"] == "page-sampling"
        with pytest.raises(libvirt.libvirtError) as e:
            dom.startDirtyRateCalc(0)
        assert "seconds=0 is invalid" in str(e.value)
        dom.destroy()
    finally:
        dom.undefine()
