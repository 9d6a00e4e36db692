# SPDX-License-Identifier: LGPL-2.1-or-later
"""Scheduler and memory tunables through cgroups (issue 11, part 3): a running domain's group
(PARENT/NAME, its vCPU threads in vcpuN, the others in emulator) made at start with
<cputune> and <memtune> applied, changed live and in the config by schedinfo and memtune
(stock virsh and python), found again after a daemon restart, removed at stop; the refusals.
This machine mounts cgroup v1; v2 is covered by tests/unit/test-cgroup.c over a fake tree.
The guest is started paused: its threads are what is tested, not its boot."""
import json
import os
import re
import subprocess

import libvirt
import pytest

import guest
from conftest import qemu_pid

E = libvirt
V1 = "/sys/fs/cgroup"
pytestmark = [pytest.mark.keep_domains,
              pytest.mark.skipif(not os.path.exists(f"{V1}/cpu/tasks") or
                                 not os.path.exists(f"{V1}/memory/tasks") or os.geteuid() != 0,
                                 reason="needs cgroup v1 cpu and memory hierarchies, as root")]

TUNE = ("<cputune><shares>512</shares><period>50000</period><quota>25000</quota>"
        "<emulator_period>20000</emulator_period><global_quota>-1</global_quota></cputune>"
        "<memtune><hard_limit unit='MiB'>1024</hard_limit>"
        "<soft_limit unit='MiB'>512</soft_limit></memtune>")


def group(daemon, ctrl, *parts):
    return os.path.join(V1, ctrl, "domus-" + os.path.basename(daemon.root), *parts)


def read(daemon, ctrl, *parts):
    with open(group(daemon, ctrl, *parts)) as f:
        return f.read().strip()


def vcpu_thread(pid, n):
    for tid in os.listdir(f"/proc/{pid}/task"):
        if open(f"/proc/{pid}/task/{tid}/comm").read().startswith(f"CPU {n}/"):
            return int(tid)
    return None


@pytest.fixture(scope="module")
def qd(daemon):
    _, xml = guest.xml(daemon, "qd", agent=False)
    xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>" + TUNE)
    c = daemon.conn()
    dom = c.defineXML(xml)
    dom.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    yield dom
    guest.drop(daemon.conn(), "qd")
    c.close()


def test_group_at_start(daemon, qd):
    """QEMU is in the group, each vCPU thread in its child, the rest in emulator; the
    definition's tunables are on the files."""
    pid = qemu_pid(daemon, "qd")
    assert str(pid) in read(daemon, "memory", "qd", "cgroup.procs").split()
    assert read(daemon, "cpu", "qd", "cpu.shares") == "512"
    for n in (0, 1):
        tid = vcpu_thread(pid, n)
        assert str(tid) in read(daemon, "cpu", "qd", f"vcpu{n}", "tasks").split()
        assert read(daemon, "cpu", "qd", f"vcpu{n}", "cpu.cfs_period_us") == "50000"
        assert read(daemon, "cpu", "qd", f"vcpu{n}", "cpu.cfs_quota_us") == "25000"
    assert str(pid) in read(daemon, "cpu", "qd", "emulator", "tasks").split()
    assert read(daemon, "cpu", "qd", "emulator", "cpu.cfs_period_us") == "20000"
    assert read(daemon, "cpu", "qd", "cpu.cfs_quota_us") == "-1"
    assert int(read(daemon, "memory", "qd", "memory.limit_in_bytes")) == 1 << 30
    assert int(read(daemon, "memory", "qd", "memory.soft_limit_in_bytes")) == 512 << 20


def test_schedinfo(daemon, qd):
    out = daemon.virsh("schedinfo", "qd").stdout
    for line in ("Scheduler      : posix", "cpu_shares     : 512", "vcpu_period    : 50000",
                 "vcpu_quota     : 25000", "emulator_period: 20000", "global_quota   : -1",
                 "iothread_period: 0"):
        assert line in out, out
    daemon.virsh("schedinfo", "qd", "--live", "--set", "cpu_shares=2048")
    assert read(daemon, "cpu", "qd", "cpu.shares") == "2048"
    qd.setSchedulerParametersFlags({"vcpu_quota": 40000, "global_period": 200000},
                                   E.VIR_DOMAIN_AFFECT_LIVE)
    assert read(daemon, "cpu", "qd", "vcpu1", "cpu.cfs_quota_us") == "40000"
    assert read(daemon, "cpu", "qd", "cpu.cfs_period_us") == "200000"
    params = qd.schedulerParameters()
    assert params["cpu_shares"] == 2048 and params["vcpu_quota"] == 40000
    assert params["global_period"] == 200000
    assert "<shares>2048</shares>" in qd.XMLDesc(0)
    assert "<shares>512</shares>" in qd.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    # the config alone
    daemon.virsh("schedinfo", "qd", "--config", "--set", "emulator_quota=30000")
    assert "<emulator_quota>30000</emulator_quota>" in qd.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    assert read(daemon, "cpu", "qd", "emulator", "cpu.cfs_quota_us") == "-1"
    assert qd.schedulerParametersFlags(E.VIR_DOMAIN_AFFECT_CONFIG)["emulator_quota"] == 30000
    # refusals change nothing
    for params, code, msg in [({"vcpu_period": 10}, E.VIR_ERR_INVALID_ARG,
                               "value of 'vcpu_period' is out of range"),
                              ({"global_quota": 5}, E.VIR_ERR_INVALID_ARG,
                               "value of 'global_quota' is out of range"),
                              ({"iothread_quota": 5000}, E.VIR_ERR_OPERATION_INVALID,
                               "has no I/O threads")]:
        with pytest.raises(libvirt.libvirtError) as e:
            qd.setSchedulerParametersFlags(params, E.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == code and msg in str(e.value), str(e.value)
    assert read(daemon, "cpu", "qd", "vcpu0", "cpu.cfs_period_us") == "50000"
    ro = daemon.conn(readonly=True).lookupByName("qd")
    assert ro.schedulerType()[0] == "posix"
    with pytest.raises(libvirt.libvirtError) as e:
        ro.setSchedulerParameters({"cpu_shares": 100})
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_DENIED


def test_memtune(daemon, qd):
    out = daemon.virsh("memtune", "qd").stdout
    assert re.search(r"hard_limit\s*: 1048576", out) and \
        re.search(r"swap_hard_limit: unlimited", out), out
    daemon.virsh("memtune", "qd", "--hard-limit", "2097152", "--live")
    assert int(read(daemon, "memory", "qd", "memory.limit_in_bytes")) == 2 << 30
    qd.setMemoryParameters({"soft_limit": 262144}, E.VIR_DOMAIN_AFFECT_LIVE)
    assert int(read(daemon, "memory", "qd", "memory.soft_limit_in_bytes")) == 256 << 20
    live = qd.memoryParameters(E.VIR_DOMAIN_AFFECT_LIVE)
    assert live["hard_limit"] == 2097152 and live["soft_limit"] == 262144
    assert "<hard_limit unit='KiB'>2097152</hard_limit>" in qd.XMLDesc(0)
    daemon.virsh("memtune", "qd", "--soft-limit", "65536", "--config")
    assert "<soft_limit unit='KiB'>65536</soft_limit>" in \
        qd.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    # hard above swap is refused, min_guarantee is not QEMU's
    with pytest.raises(libvirt.libvirtError) as e:
        qd.setMemoryParameters({"hard_limit": 4194304, "swap_hard_limit": 3145728},
                               E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    r = daemon.virsh("memtune", "qd", "--min-guarantee", "1024", check=False)
    assert r.returncode != 0 and "min_guarantee" in r.stderr
    assert int(read(daemon, "memory", "qd", "memory.limit_in_bytes")) == 2 << 30


def test_domus_commands(daemon, qd):
    """domus schedinfo and memtune print what virsh prints, and set as it does."""
    for args in (["schedinfo", "qd"], ["schedinfo", "qd", "--config"], ["memtune", "qd"],
                 ["memtune", "qd", "--config"]):
        assert daemon.domus(*args).stdout == daemon.virsh(*args).stdout, args
    out = daemon.domus("schedinfo", "qd", "--live", "--set", "cpu_shares=3000",
                       "--set", "global_quota=-1").stdout
    assert "cpu_shares     : 3000" in out and read(daemon, "cpu", "qd", "cpu.shares") == "3000"
    daemon.domus("memtune", "qd", "--soft-limit", "300M", "--live")
    assert int(read(daemon, "memory", "qd", "memory.soft_limit_in_bytes")) == 300 << 20
    daemon.domus("memtune", "qd", "--soft-limit", "-1", "--live")
    assert "soft_limit     : unlimited" in daemon.virsh("memtune", "qd").stdout
    for args, msg in [(["schedinfo", "qd", "--set", "bogus=1"], "invalid scheduler option"),
                      (["memtune", "qd", "--min-guarantee", "1024"], "min_guarantee")]:
        r = daemon.domus(*args, check=False)
        assert r.returncode != 0 and msg in r.stderr, (args, r.stderr)
    daemon.domus("schedinfo", "qd", "--live", "--set", "cpu_shares=2048")


LOOP = "/dev/loop0"


def is_block(path):
    import stat
    return os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode)


def test_blkiotune(daemon, qd):
    """Throttles of a host block device on the group's blkio files, live and in the config;
    a weight where the host's I/O scheduler takes weights, else a clear refusal."""
    if not is_block(LOOP) or not os.path.exists(f"{V1}/blkio/tasks"):
        pytest.skip("needs /dev/loop0 and the blkio hierarchy")
    st = os.stat(LOOP)
    devno = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    daemon.virsh("blkiotune", "qd", "--device-read-iops-sec", f"{LOOP},200", "--live")
    assert f"{devno} 200" in read(daemon, "blkio", "qd", "blkio.throttle.read_iops_device")
    qd.setBlkioParameters({"device_write_bytes_sec": f"{LOOP},1048576"},
                          E.VIR_DOMAIN_AFFECT_LIVE)
    assert f"{devno} 1048576" in read(daemon, "blkio", "qd", "blkio.throttle.write_bps_device")
    params = qd.blkioParameters(E.VIR_DOMAIN_AFFECT_LIVE)
    assert params["device_read_iops_sec"] == f"{LOOP},200"
    assert params["device_write_bytes_sec"] == f"{LOOP},1048576"
    out = daemon.virsh("blkiotune", "qd").stdout
    assert f"device_read_iops_sec: {LOOP},200" in out, out
    assert daemon.domus("blkiotune", "qd").stdout == out
    assert "<read_iops_sec>200</read_iops_sec>" in qd.XMLDesc(0)
    # a weight: only where the scheduler has weight files
    weights = [f for f in ("blkio.bfq.weight", "blkio.weight")
               if os.path.exists(group(daemon, "blkio", "qd", f))]
    r = daemon.virsh("blkiotune", "qd", "--weight", "500", "--live", check=False)
    o = daemon.domus("blkiotune", "qd", "--weight", "500", "--live", check=False)
    assert o.returncode == r.returncode and o.stderr == r.stderr, (o.stderr, r.stderr)
    for bad in ("0", "x"):
        v = daemon.virsh("blkiotune", "qd", "--weight", bad, check=False)
        o = daemon.domus("blkiotune", "qd", "--weight", bad, check=False)
        assert v.returncode and o.returncode and o.stderr == v.stderr, (o.stderr, v.stderr)
    if weights:
        assert r.returncode == 0 and read(daemon, "blkio", "qd", weights[0]).endswith("500")
    else:
        assert r.returncode != 0 and "takes no blkio weights" in r.stderr, r.stderr
    # the config alone; the refusals
    daemon.domus("blkiotune", "qd", "--device-write-iops-sec", f"{LOOP},50", "--config")
    assert "<write_iops_sec>50</write_iops_sec>" in qd.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    for params, code, msg in [({"device_read_iops_sec": "/nonexistent,5"},
                               E.VIR_ERR_INVALID_ARG, "is not a block device"),
                              ({"weight": 5}, E.VIR_ERR_INVALID_ARG, "out of blkio weight range"),
                              ({"device_read_iops_sec": f"{LOOP}"}, E.VIR_ERR_INVALID_ARG,
                               "path,value pairs")]:
        with pytest.raises(libvirt.libvirtError) as e:
            qd.setBlkioParameters(params, E.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == code and msg in str(e.value), str(e.value)
    assert f"{devno} 200" in read(daemon, "blkio", "qd", "blkio.throttle.read_iops_device")


def test_adopted_after_restart_and_removed_at_stop(daemon, qd):
    daemon.stop()
    daemon.start()
    dom = daemon.conn().lookupByName("qd")
    assert dom.schedulerParameters()["cpu_shares"] == 2048
    dom.setSchedulerParametersFlags({"cpu_shares": 1000}, E.VIR_DOMAIN_AFFECT_LIVE)
    assert read(daemon, "cpu", "qd", "cpu.shares") == "1000"
    dom.destroy()
    for ctrl in ("cpu", "memory", "cpuset", "blkio"):
        assert not os.path.exists(group(daemon, ctrl, "qd"))
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setSchedulerParametersFlags({"cpu_shares": 100}, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    # the next start applies the config (shares 512, the emulator quota set above)
    dom.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    assert read(daemon, "cpu", "qd", "cpu.shares") == "512"
    assert read(daemon, "cpu", "qd", "emulator", "cpu.cfs_quota_us") == "30000"
    if is_block(LOOP) and os.path.exists(f"{V1}/blkio/tasks"):
        # test_blkiotune's config change: the throttle is there from the start
        assert " 50" in read(daemon, "blkio", "qd", "blkio.throttle.write_iops_device")


@pytest.mark.parametrize("name", ["tasks", "cpu.shares", "_x"])
def test_names_the_kernel_could_take(daemon, name):
    """A domain named like a cgroup file gets its group under an escaped name ('_' in front,
    as libvirt escapes), starts, and leaves nothing behind."""
    _, xml = guest.xml(daemon, name, agent=False)
    xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>1</vcpu><cputune><shares>300</shares></cputune>")
    c = daemon.conn()
    dom = c.defineXML(xml)
    try:
        dom.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
        assert read(daemon, "cpu", "_" + name, "cpu.shares") == "300"
        assert dom.schedulerParameters()["cpu_shares"] == 300
        dom.destroy()
        assert not os.path.exists(group(daemon, "cpu", "_" + name))
    finally:
        guest.drop(c, name)


def numa_xml(name, memory):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
            f"<vcpu>1</vcpu><numatune>{memory}</numatune>"
            "<os><type arch='x86_64'>hvm</type></os><devices/></domain>")


def test_numatune(daemon):
    """<numatune>: strict and restrictive bind through cpuset.mems (pages follow: memory_migrate),
    interleave and preferred are the policy QEMU starts under; numatune and
    get/setNumaParameters read and change them with libvirt's rules for a running domain."""
    c = daemon.conn()
    d = c.defineXML(numa_xml("nt", "<memory mode='restrictive' nodeset='0'/>"))
    d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    try:
        assert read(daemon, "cpuset", "nt", "cpuset.mems") == "0"
        assert read(daemon, "cpuset", "nt", "cpuset.memory_migrate") == "1"
        pid = qemu_pid(daemon, "nt")
        assert "Mems_allowed_list:\t0\n" in open(f"/proc/{pid}/status").read()
        assert d.numaParameters() == {"numa_mode": 3, "numa_nodeset": "0"}
        want = "numa_mode      : restrictive\nnuma_nodeset   : 0\n\n"
        assert daemon.virsh("numatune", "nt").stdout == want
        assert daemon.domus("numatune", "nt").stdout == want
        # the nodes of a restrictive binding move; a node the host lacks is refused
        d.setNumaParameters({"numa_nodeset": "0"}, E.VIR_DOMAIN_AFFECT_LIVE)
        with pytest.raises(libvirt.libvirtError) as e:
            d.setNumaParameters({"numa_nodeset": "0-1"}, E.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
        assert "NUMA node 1 is unavailable" in str(e.value)
        assert read(daemon, "cpuset", "nt", "cpuset.mems") == "0"
        # the mode of a running domain stays
        r = daemon.virsh("numatune", "nt", "--mode", "interleave", "--live", check=False)
        assert "can't change numatune mode for running domain" in r.stderr
        # the config changes (and the running domain keeps its own)
        daemon.domus("numatune", "nt", "--mode", "interleave", "--config")
        assert "<memory mode='interleave' nodeset='0'/>" in d.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        assert "<memory mode='restrictive' nodeset='0'/>" in d.XMLDesc(0)
        assert d.numaParameters(E.VIR_DOMAIN_AFFECT_CONFIG)["numa_mode"] == 2
        d.destroy()
        # interleave: the policy QEMU runs under, no cpuset binding
        d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
        pid = qemu_pid(daemon, "nt")
        maps = open(f"/proc/{pid}/numa_maps").read()
        assert "interleave:0" in maps
        assert read(daemon, "cpuset", "nt", "cpuset.memory_migrate") == "0"
    finally:
        d.destroy()
        d.undefine()

    # strict: cpuset.mems, and its nodes stay while it runs
    d = c.defineXML(numa_xml("ns", "<memory nodeset='0'/>"))
    d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    try:
        assert read(daemon, "cpuset", "ns", "cpuset.mems") == "0"
        assert "<memory mode='strict' nodeset='0'/>" in d.XMLDesc(0)
        r = daemon.virsh("numatune", "ns", "--nodeset", "0", "--live", check=False)
        assert "requires restrictive numa mode" in r.stderr
    finally:
        d.destroy()
        d.undefine()

    # a node the host does not have: refused at start, nothing left running
    d = c.defineXML(numa_xml("nx", "<memory mode='strict' nodeset='0,7'/>"))
    with pytest.raises(libvirt.libvirtError) as e:
        d.create()
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    assert "NUMA node 7 is unavailable" in str(e.value)
    assert not d.isActive()
    assert subprocess.run(["pgrep", "-f", "guest=nx,"]).returncode == 1
    # preferred takes one node; a domain without <numatune> reads as libvirt's
    d2 = c.defineXML(numa_xml("np", "<memory mode='preferred' nodeset='0-1'/>"))
    with pytest.raises(libvirt.libvirtError) as e:
        d2.create()
    assert e.value.get_error_code() == E.VIR_ERR_CONFIG_UNSUPPORTED
    d3 = c.defineXML(numa_xml("nn", ""))
    assert d3.numaParameters() == {"numa_mode": 0, "numa_nodeset": ""}
    for x in (d, d2, d3):
        x.undefine()


def test_numatune_memnode(daemon):
    """<memnode>: each guest NUMA cell's RAM bound on its own (QEMU's memory backend has the
    host nodes and the policy, as libvirt's), the others by <memory>; a node the host lacks
    is refused at start."""
    cells = ("<cpu><numa><cell id='0' cpus='0' memory='32' unit='MiB'/>"
             "<cell id='1' cpus='1' memory='32' unit='MiB'/></numa></cpu>")
    xml = numa_xml("nm", "<memory mode='strict' nodeset='0'/>"
                   "<memnode cellid='1' mode='interleave' nodeset='0'/>").replace(
        "<vcpu>1</vcpu>", "<vcpu>2</vcpu>" + cells)
    c = daemon.conn()
    d = c.defineXML(xml)
    try:
        d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
        assert "<memnode cellid='1' mode='interleave' nodeset='0'/>" in d.XMLDesc(0)

        def prop(obj, name):
            out = daemon.virsh("qemu-monitor-command", "nm", json.dumps(
                {"execute": "qom-get",
                 "arguments": {"path": f"/objects/{obj}", "property": name}})).stdout
            return json.loads(out)["return"]

        assert (prop("ram-node0", "policy"), prop("ram-node0", "host-nodes")) == ("bind", [0])
        assert (prop("ram-node1", "policy"), prop("ram-node1", "host-nodes")) == \
            ("interleave", [0])
        # a restrictive <memory> needs restrictive memnodes: refused, the config unchanged
        r = daemon.virsh("numatune", "nm", "--mode", "restrictive", "--config", check=False)
        assert r.returncode != 0 and "'restrictive' mode is required in memnode" in r.stderr
        assert "<memory mode='strict' nodeset='0'/>" in d.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
        d.destroy()
        d = c.defineXML(d.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE).replace(
            "mode='interleave' nodeset='0'", "mode='strict' nodeset='5'"))
        with pytest.raises(libvirt.libvirtError) as e:
            d.create()
        assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
        assert "NUMA node 5 is unavailable" in str(e.value)
    finally:
        if d.isActive():
            d.destroy()
        d.undefine()


def test_parent_group_goes_with_the_daemon(daemon):
    """The parent of the domains' groups stays while a domain runs in it (the daemon may
    come back), and goes when the daemon stops with none running."""
    c = daemon.conn()
    d = c.defineXML(numa_xml("pg", "<memory nodeset='0'/>"))
    d.createWithFlags(E.VIR_DOMAIN_START_PAUSED)
    c.close()
    daemon.stop()
    assert os.path.isdir(group(daemon, "cpuset", "pg"))
    daemon.start()
    d = daemon.conn().lookupByName("pg")
    d.destroy()
    d.undefine()
    for x in daemon.conn().listAllDomains(E.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        x.destroy()
    daemon.stop()
    for ctrl in ("cpu", "cpuacct", "memory", "cpuset", "blkio"):
        if os.path.exists(f"{V1}/{ctrl}/tasks"):
            assert not os.path.exists(group(daemon, ctrl)), ctrl
    daemon.start()
