# SPDX-License-Identifier: LGPL-2.1-or-later
"""Monitoring and automation tools people run against libvirt, unchanged, against domusd:
prometheus-libvirt-exporter (every metric family it has, for a running domain with a disk
and a NIC on the NAT network), collectd's virt plugin with ExtraStats (its series), and
ansible's community.libvirt modules virt, virt_net and virt_pool (queries and state
changes). The daemon and its network live in namespaces of their own; the exporter listens
on that namespace's loopback. The guest runs QEMU without booting: these tools read the
daemon, not the guest."""
import json
import os
import subprocess
import time

import pytest

from conftest import domain_xml
from netns import NetDaemon, needs_root

pytestmark = needs_root

DISK_NIC = """
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
  <source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
<interface type='network'><source network='default'/><model type='virtio'/></interface>"""


@pytest.fixture(scope="module")
def mon():
    d = NetDaemon(default_network=True)
    d.start()
    disk = os.path.join(d.root, "mon1.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
    c = d.conn()
    dom = c.defineXML(domain_xml("mon1", extra_devices=DISK_NIC.format(disk=disk)))
    dom.create()
    c.close()
    yield d
    d.destroy()


def test_prometheus_libvirt_exporter(mon):
    d = mon
    port = 19177
    exporter = d.ns.popen("prometheus-libvirt-exporter", f"--web.listen-address=127.0.0.1:{port}",
                          f"--libvirt.uri={d.uri}", stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    try:
        script = f"""
import time, urllib.request
for _ in range(100):
    try:
        print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics', timeout=10).read().decode())
        break
    except OSError:
        time.sleep(0.1)
"""
        text = d.ns.run("/usr/bin/python3", "-c", script).stdout
    finally:
        exporter.terminate()
        exporter.wait()
    values = {}
    for line in text.splitlines():
        if line.startswith("libvirt_"):
            name = line.split("{")[0].split(" ")[0]
            values.setdefault(name, []).append(line)
    assert values.get("libvirt_up") == ["libvirt_up 1"], text[-2000:]
    assert values["libvirt_domains_number"] == ["libvirt_domains_number 1"]
    # every family the exporter has, each about mon1
    families = ["libvirt_domain_info_cpu_time_seconds_total",
                "libvirt_domain_info_maximum_memory_bytes",
                "libvirt_domain_info_memory_usage_bytes", "libvirt_domain_info_virtual_cpus",
                "libvirt_domain_state_code"]
    families += [f"libvirt_domain_block_stats_{m}" for m in
                 ("read_bytes_total", "read_requests_total", "write_bytes_total",
                  "write_requests_total")]
    families += [f"libvirt_domain_interface_stats_{d}_{m}_total" for d in ("receive", "transmit")
                 for m in ("bytes", "packets", "errors", "drops")]
    for f in families:
        assert f in values and all('domain="mon1"' in v for v in values[f]), (f, text[-3000:])
    assert 'target_device="vda"' in values["libvirt_domain_block_stats_read_bytes_total"][0]
    assert 'target_device="vnet0"' in values[
        "libvirt_domain_interface_stats_receive_bytes_total"][0]
    assert values["libvirt_domain_state_code"][0].endswith(" 1")
    assert values["libvirt_domain_info_maximum_memory_bytes"][0].endswith(" 6.7108864e+07")
    # the set of families is exactly the exporter's: nothing failed or went missing
    assert sorted(values) == sorted(families + ["libvirt_up", "libvirt_domains_number"])


def test_collectd_virt_plugin(mon, tmp_path):
    d = mon
    conf = tmp_path / "collectd.conf"
    conf.write_text(f"""Interval 1
Hostname "collectd-test"
BaseDir "{tmp_path}"
PIDFile "{tmp_path}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{tmp_path}/collectd.log"
</Plugin>
LoadPlugin virt
LoadPlugin csv
<Plugin csv>
  DataDir "{tmp_path}/csv"
</Plugin>
<Plugin virt>
  Connection "{d.uri}"
  RefreshInterval 5
  HostnameFormat name
  InterfaceFormat name
  ExtraStats "cpu_util disk disk_err domain_state fs_info job_stats_background pcpu perf vcpupin disk_physical disk_allocation disk_capacity memory vcpu"
</Plugin>
""")
    proc = subprocess.Popen(["collectd", "-f", "-C", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    series_dir = tmp_path / "csv" / "mon1" / "virt"
    want = ["virt_cpu_total", "ps_cputime", "percent-virt_cpu_total", "virt_vcpu-0",
            "domain_state", "memory-total", "memory-actual_balloon", "memory-rss",
            "disk_ops-vda", "disk_octets-vda", "disk_time-vda", "total_requests-flush-vda",
            "total_time_in_ms-flush-vda", "disk_allocation-vda", "disk_capacity-vda",
            "disk_physical-vda", "if_octets-vnet0", "if_packets-vnet0", "if_errors-vnet0",
            "if_dropped-vnet0", "cpu_affinity-vcpu_0-cpu_0"]
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            have = {"-".join(f.split("-")[:-3]) for f in os.listdir(series_dir)} \
                if series_dir.exists() else set()
            if all(w in have for w in want):
                break
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait()
    assert all(w in have for w in want), sorted(set(want) - have)
    # a figure that moves: the CPU time of a running QEMU
    rows = open(next(series_dir.glob("ps_cputime-*"))).read().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) >= 2
    # no reader failed, but fs_info, which needs a guest agent this domain has not got (as
    # libvirtd answers it)
    log = (tmp_path / "collectd.log").read_text()
    failures = [l for l in log.splitlines() if "fail" in l.lower() and "FSInfo" not in l
                and "file system info" not in l]
    assert not failures, failures


def ansible(d, module, args):
    r = subprocess.run(["ansible", "localhost", "-c", "local", "-m", f"community.libvirt.{module}",
                        "-a", f"{args} uri={d.uri}", "-o"], capture_output=True, text=True,
                       timeout=180, env={**os.environ,
                                         "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
                                         "ANSIBLE_LOCALHOST_WARNING": "False",
                                         "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False"})
    # "localhost | SUCCESS => {json}" (or CHANGED / FAILED!)
    head, _, body = r.stdout.partition(" => ")
    assert body, r.stdout + r.stderr
    return head.split("|")[1].strip(), json.loads(body)


def test_ansible_community_libvirt(mon):
    d = mon
    status, out = ansible(d, "virt", "command=list_vms")
    assert status == "SUCCESS" and out["list_vms"] == ["mon1"]
    status, out = ansible(d, "virt", "command=info")
    assert out["mon1"]["state"] == "running" and out["mon1"]["nrVirtCpu"] == 1
    assert out["mon1"]["maxMem"] == "65536"
    status, out = ansible(d, "virt", "command=status name=mon1")
    assert out["status"] == "running"
    status, out = ansible(d, "virt", "command=nodeinfo")
    assert status == "SUCCESS" and int(out["cpus"]) >= 1
    # a state change, and idempotence after it
    status, out = ansible(d, "virt", "name=mon1 state=destroyed")
    assert status == "CHANGED"
    status, out = ansible(d, "virt", "name=mon1 state=destroyed")
    assert status == "SUCCESS" and out["changed"] is False
    status, out = ansible(d, "virt", "name=mon1 state=running")
    assert status == "CHANGED"
    assert ansible(d, "virt", "command=status name=mon1")[1]["status"] == "running"
    status, out = ansible(d, "virt_net", "command=list_nets")
    assert out["list_nets"] == ["default"]
    status, out = ansible(d, "virt_net", "command=facts")
    net = out["ansible_facts"]["ansible_libvirt_networks"]["default"]
    assert net["state"] == "active" and net["bridge"] == "virbr0"
    status, out = ansible(d, "virt_net", "name=default state=inactive")
    assert status == "CHANGED"
    status, out = ansible(d, "virt_net", "name=default state=active")
    assert status == "CHANGED"
    status, out = ansible(d, "virt_pool", "command=facts")
    pool = out["ansible_facts"]["ansible_libvirt_pools"]["default"]
    assert pool["state"] == "active" and pool["type"] == "dir" and pool["volume_count"] == 0
    status, out = ansible(d, "virt_pool", "name=default state=inactive")
    assert status == "CHANGED"
    status, out = ansible(d, "virt_pool", "name=default state=active")
    assert status == "CHANGED"
