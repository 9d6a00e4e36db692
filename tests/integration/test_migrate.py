# SPDX-License-Identifier: LGPL-2.1-or-later
"""Migration between two hosts: two domusd, each in network, mount and UTS namespaces of its
own (hosts 'hosta' and 'hostb', each with its own state directory and host UUID), joined by a
veth pair and listening on plain TCP there. The real test guest, counting in memory and
writing its count to its disk (an image both hosts see at the same path: shared storage),
moves with stock virsh and with the seed's Python calls; after every move both counts went
on, exactly one QEMU runs it, its agent answers on the host it is on and the other host has
nothing left. Refusals (a name taken on the destination, a disk the destination cannot see,
a mode Domus does not do yet) leave both hosts as they were; domjobabort mid-migration and a
client killed mid-migration leave the guest running on the source."""
import os
import re
import shutil
import signal
import subprocess
import time

import libvirt
import pytest

import guest
import pki
import rpc
from conftest import DOMUS
from netns import NetDaemon, needs_root

A_ADDR = "10.98.0.1"
B_ADDR = "10.98.0.2"
NAME = "mig"

pytestmark = needs_root


def full_log(d):
    """The whole log of daemon D (D.log() is its tail)."""
    with open(os.path.join(d.root, "domusd.log"), errors="replace") as f:
        return f.read()


def tcp_uri(addr):
    return f"qemu+tcp://{addr}/system"


@pytest.fixture(scope="module")
def hosts():
    a = NetDaemon(extra_args=["--listen", f"tcp://{A_ADDR}"], hostname="hosta")
    b = NetDaemon(extra_args=["--listen", f"tcp://{B_ADDR}"], hostname="hostb")
    a.ns.run("ip", "link", "add", "vmig0", "type", "veth", "peer", "name", "vmig1", "netns",
             str(b.ns.pid))
    a.ns.run("ip", "addr", "add", f"{A_ADDR}/24", "dev", "vmig0")
    a.ns.run("ip", "link", "set", "vmig0", "up")
    b.ns.run("ip", "addr", "add", f"{B_ADDR}/24", "dev", "vmig1")
    b.ns.run("ip", "link", "set", "vmig1", "up")
    # host A names the address its incoming migrations listen on (clients that reach it over
    # its unix socket give none); host B hands out the one a client reached it at. Host A
    # notices a destination it cannot reach within seconds (the peer-to-peer link cut)
    os.makedirs(os.path.join(a.root, "etc"), exist_ok=True)
    with open(os.path.join(a.root, "etc", "domusd.conf"), "w") as f:
        f.write(f"[qemu]\nmigration_address = {A_ADDR}\n"
                f"migrate_tls_x509_cert_dir = {a.root}/qemu-pki\n"
                "[limits]\nkeepalive_interval = 1\nkeepalive_count = 2\n")
    # host B notices a client it cannot reach within seconds (the link-cut test)
    os.makedirs(os.path.join(b.root, "etc"), exist_ok=True)
    with open(os.path.join(b.root, "etc", "domusd.conf"), "w") as f:
        f.write("[limits]\nkeepalive_interval = 1\nkeepalive_count = 2\n"
                f"[qemu]\nmigrate_tls_x509_cert_dir = {b.root}/qemu-pki\n")
    a.start()
    b.start()
    yield a, b
    for d in (a, b):
        d.destroy()


def virsh(host, *args, timeout=300):
    """Stock virsh, run on HOST's side of the link, connected to HOST's daemon over TCP."""
    addr = A_ADDR if "hosta" in host.ns.run("hostname").stdout else B_ADDR
    return host.ns.run("virsh", "-c", tcp_uri(addr), *args, check=False, timeout=timeout)


def domus(host, *args, timeout=300):
    """domus, as virsh() runs virsh."""
    addr = A_ADDR if "hosta" in host.ns.run("hostname").stdout else B_ADDR
    return host.ns.run(os.path.abspath(DOMUS), "-c", tcp_uri(addr), *args, check=False,
                       timeout=timeout)


def qemu_pids(name):
    """Every QEMU on this machine that runs domain NAME, whichever daemon started it."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmd and b"qemu-system" in cmd[0] and f"guest={name},".encode() in b" ".join(cmd):
            pids.append(int(pid))
    return pids


def names(d):
    c = d.conn()
    try:
        return sorted(dom.name() for dom in c.listAllDomains())
    finally:
        c.close()


COUNTER = ("i=0; while true; do i=$((i+1)); echo $i > /run/count.new; "
           "mv /run/count.new /run/count; "
           "echo $i | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; "
           "sleep 0.2; done")


def counts(dom):
    """(the count in the guest's memory, the count on its disk)"""
    _, ram = guest.agent_exec(dom, "/bin/cat", "/run/count")
    _, disk = guest.agent_exec(dom, "/bin/sh", "-c",
                               "dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null"
                               " | head -n1")
    return int(ram.strip()), int(disk.strip().strip("\0"))


def guest_report(d, name):
    """What QEMU on D says about guest NAME whose agent went silent: QEMU's own state (does
    its monitor answer at all), the vCPU's registers twice a second apart (does it run, and
    where), its interrupt controller and disks, and the guest's console."""
    out = []
    for cmd in ("info status", "info registers", "info registers", "info lapic", "info block",
                "info irq"):
        r = virsh(d, "qemu-monitor-command", name, "--hmp", cmd, timeout=20)
        out.append(f"--- {cmd} (rc {r.returncode})\n{r.stdout}{r.stderr}")
        time.sleep(0.5)
    xml = virsh(d, "dumpxml", name).stdout
    console = re.search(r"<serial type='file'>\s*<source path='([^']+)'", xml)
    if console and os.path.exists(console.group(1)):
        out.append("--- console\n" + open(console.group(1), errors="replace").read()[-3000:])
    return "\n".join(out)


def assert_counting_on(d, name, before, alone=True):
    """NAME runs on D, alone (when ALONE), and both of its counts went on past BEFORE."""
    c = d.conn()
    dom = c.lookupByName(name)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    try:
        guest.wait(lambda: guest.agent_ok(dom), 60, "the guest agent on the destination")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{guest_report(d, name)}") from None
    now = counts(dom)
    assert now[0] > before[0] and now[1] > before[1], (before, now)
    time.sleep(1)
    later = counts(dom)
    assert later[0] > now[0] and later[1] > now[1], (now, later)
    if alone:
        assert len(qemu_pids(name)) == 1, qemu_pids(name)
    c.close()
    return later


def boot(a):
    """Boots the test guest on host A with a disk and a free PCIe root port and starts its
    counter; returns the disk's path."""
    # a spare root port: a disk can be plugged in (the --abort-on-error test)
    # room for a second vCPU (the vCPU test)
    c, dom, disk = guest.with_disk(a, NAME, edit=lambda x: x.replace(
        "</devices>", "<controller type='pci' model='pcie-root-port'/>" * 8 + "</devices>").replace(
        "<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>"))
    rc, _ = guest.agent_exec(dom, "/bin/sh", "-c", f"({COUNTER}) >/dev/null 2>&1 &")
    assert rc == 0
    guest.wait(lambda: counts(dom)[0] > 2, 30, "the guest to count")
    c.close()
    return disk


def at_home(a):
    """Whether the guest runs on host A, its agent answers and it counts."""
    c = a.conn()
    try:
        dom = c.lookupByName(NAME)
        if not dom.isActive() or not guest.agent_ok(dom):
            return False
        first = counts(dom)
        time.sleep(0.5)
        return counts(dom)[0] > first[0]
    except (libvirt.libvirtError, AssertionError, ValueError):
        return False
    finally:
        c.close()


@pytest.fixture(scope="module")
def running(hosts):
    """The test guest booted on host A with a disk and a free PCIe root port, its counter
    started."""
    return boot(hosts[0])


@pytest.fixture(autouse=True)
def home(request):
    """Every test that uses the guest finds it counting on host A and nothing on host B, even
    after a test that failed half-way: one failure does not fail the tests after it."""
    if "running" not in request.fixturenames:
        return
    a, b = request.getfixturevalue("hosts")
    request.getfixturevalue("running")
    if at_home(a) and names(b) == []:
        return
    for d in (b, a):
        c = d.conn()
        for dom in c.listAllDomains():
            if dom.name() == NAME:
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefine()
        c.close()
    boot(a)


def test_hosts_are_two(hosts):
    a, b = hosts
    caps = [d.conn().getCapabilities() for d in (a, b)]
    uuids = [c.split("<uuid>")[1].split("</uuid>")[0] for c in caps]
    assert uuids[0] != uuids[1]
    assert [d.conn().getHostname() for d in (a, b)] == ["hosta", "hostb"]
    # the UUID stays with the state directory across a restart
    uuid_file = open(os.path.join(a.root, "lib", "host-uuid")).read().strip()
    assert uuid_file == uuids[0]


def test_refusals_leave_both_hosts_as_they_were(hosts, running):
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    # a domain of that name, another uuid, on the destination: refused, and kept
    other = guest.xml(b, NAME)[1]
    b.conn().defineXML(other)
    r = virsh(a, "migrate", "--live", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "already exists with uuid" in r.stderr, r.stderr
    assert names(b) == [NAME]
    b.conn().lookupByName(NAME).undefine()
    # a disk the destination does not have, named
    xml = a.conn().lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    missing = os.path.join(a.root, "nowhere.qcow2")
    path = xml.split("<source file='")[1].split("'")[0]
    xmlfile = os.path.join(a.root, "dest.xml")
    open(xmlfile, "w").write(xml.replace(path, missing))
    r = virsh(a, "migrate", "--live", "--xml", xmlfile, NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0, r.stdout
    assert f"disk 'vda': '{missing}' does not exist on the destination host 'hostb'" in r.stderr
    # another file at that path on the destination (the hosts do not share it): unsafe, named
    other = os.path.join(a.root, "other.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", other, "64M"], check=True)
    open(xmlfile, "w").write(xml.replace(path, other))
    r = virsh(a, "migrate", "--live", "--xml", xmlfile, NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "disk 'vda'" in r.stderr, r.stderr
    assert "is not on storage the hosts share" in r.stderr, r.stderr
    os.unlink(other)
    # the XML for the destination may not change the machine the guest sees
    assert re.search(r"machine='pc-(i440fx|q35)-[0-9.]+'", xml), xml
    open(xmlfile, "w").write(re.sub(r"machine='[^']*'", "machine='pc-i440fx-2.12'", xml))
    r = virsh(a, "migrate", "--live", "--xml", xmlfile, NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "changes the saved guest's machine type" in r.stderr, r.stderr
    assert names(b) == []
    # modes not built yet say so
    r = virsh(a, "migrate", "--live", "--tunnelled", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "without using peer2peer flag" in r.stderr, r.stderr
    r = virsh(a, "migrate", "--live", "--p2p", "--tunnelled", "--postcopy", NAME,
              tcp_uri(B_ADDR))
    assert r.returncode != 0 and "post-copy is not supported with tunnelled" in r.stderr, r.stderr
    r = virsh(a, "migrate", "--live", "--copy-storage-all", "--tunnelled", "--p2p", NAME,
              tcp_uri(B_ADDR))
    assert r.returncode != 0 and "not supported with tunnelled migration" in r.stderr, r.stderr
    # to itself
    r = virsh(a, "migrate", "--live", NAME, tcp_uri(A_ADDR))
    assert r.returncode != 0 and "host it runs on" in r.stderr, r.stderr
    assert names(b) == []
    assert_counting_on(a, NAME, before)


def prepare3(d, xml):
    """The old v3 Prepare (what a source sends a destination) straight to daemon D: the error
    message, or None when D accepted."""
    raw = rpc.Raw(d.sock)
    try:
        raw.open()
        body = (rpc.xdr_opaque(b"") + rpc.xdr_opt_string(None) + rpc.xdr_u64(1) +
                rpc.xdr_opt_string(None) + rpc.xdr_u64(0) + rpc.xdr_string(xml))
        f = raw.rpc(214, body)
        return rpc.error_message(f["body"]).decode() if f["status"] == rpc.ERROR else None
    finally:
        raw.close()


def test_cancelled_finish_keeps_the_sources_reason(hosts):
    """A Finish the source sends with cancelled=1 (its migration failed) when nothing waits
    here any more (the destination's QEMU quits as the stream breaks, before Finish comes)
    answers "migration successfully aborted" (VIR_ERR_MIGRATE_FINISH_OK): libvirt's clients
    replace the source's reason with any other error from Finish (seen as "QEMU quit during
    start-up" in place of a certificate error)."""
    _, b = hosts
    raw = rpc.Raw(b.sock)
    try:
        raw.open()
        body = (rpc.xdr_u32(1) + rpc.xdr_string("destination_name") + rpc.xdr_i32(7) +
                rpc.xdr_string("gone") + rpc.xdr_opaque(b"") + rpc.xdr_u32(0) + rpc.xdr_i32(1))
        f = raw.rpc(306, body)
        assert f["status"] == rpc.ERROR
        assert rpc.error_code(f["body"]) == (libvirt.VIR_ERR_MIGRATE_FINISH_OK,
                                             libvirt.VIR_FROM_QEMU), rpc.error_message(f["body"])
        # not cancelled, the same Finish is an error of its own
        body = body[:-4] + rpc.xdr_i32(0)
        f = raw.rpc(306, body)
        assert f["status"] == rpc.ERROR
        assert rpc.error_code(f["body"])[0] == libvirt.VIR_ERR_NO_DOMAIN
    finally:
        raw.close()


def test_destination_checks_machine_and_cpu_first(hosts, running):
    """A source whose QEMU has a machine type or CPU model the destination's lacks (a newer
    QEMU there) is refused at Prepare by the destination's own capabilities, before any QEMU
    starts: nothing runs or is left there, and the message names what is missing."""
    a, b = hosts
    xml = a.conn().lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    machine = re.sub(r"machine='[^']*'", "machine='pc-i440fx-99.0'", xml)
    err = prepare3(b, machine)
    assert err and ("host 'hostb' cannot run 'mig': Emulator" in err and
                    "does not support machine type 'pc-i440fx-99.0'" in err), err
    cpu = re.sub(r"<cpu.*?</cpu>|<cpu[^>]*/>", "", xml, flags=re.S).replace(
        "</features>", "</features><cpu mode='custom'><model>Core2Duo-2029</model></cpu>")
    err = prepare3(b, cpu)
    assert err and "CPU model 'Core2Duo-2029' is not supported by emulator" in err, err
    assert names(b) == [] and len(qemu_pids(NAME)) == 1
    # no QEMU was started for it there (its log would be there: guests have not moved yet)
    assert not os.path.exists(os.path.join(b.root, "log", f"{NAME}.log"))


def test_live_migration_with_virsh_and_back_with_python(hosts, running, loop):
    a, b = hosts
    events = {"a": [], "b": []}
    watchers = []
    completed = {"a": [], "b": []}
    for key, d in (("a", a), ("b", b)):
        w = libvirt.open(d.uri)
        w.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                 lambda c, dom, ev, detail, k: events[k].append((ev, detail)),
                                 key)
        w.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                 lambda c, dom, params, k: completed[k].append(params), key)
        watchers.append(w)
    before = counts(a.conn().lookupByName(NAME))
    r = virsh(a, "migrate", "--live", "--persistent", "--undefinesource", "--verbose", NAME,
              tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    # virsh: the progress on stderr, left open; its closing empty line ends it
    assert r.stdout == "\n" and r.stderr.endswith("Migration: [100 %]"), (r.stdout, r.stderr)
    after = assert_counting_on(b, NAME, before)
    assert names(a) == []
    # libvirt's events: the source paused (migrated), stopped (migrated), undefined; the
    # destination started (migrated), resumed (migrated), defined
    E = libvirt
    guest.wait(lambda: (E.VIR_DOMAIN_EVENT_UNDEFINED, 0) in events["a"], 10, "the events")
    assert events["a"] == [(E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED),
                           (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_MIGRATED),
                           (E.VIR_DOMAIN_EVENT_UNDEFINED, 0)], events
    assert events["b"][:3] == [(E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_MIGRATED),
                               (E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                               (E.VIR_DOMAIN_EVENT_RESUMED,
                                E.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)], events
    # JOB_COMPLETED on the source only, as libvirt's, with QEMU's figures
    guest.wait(lambda: completed["a"], 10, "the source's JOB_COMPLETED")
    assert len(completed["a"]) == 1 and completed["b"] == [], completed
    params = completed["a"][0]
    assert params["operation"] == E.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT, params
    assert params["memory_processed"] > 0 and "downtime" in params, params
    for w in watchers:
        w.close()
    # the destination keeps the incoming migration's figures, as libvirt does
    done = virsh(b, "domjobinfo", "--completed", NAME).stdout
    assert "Job type:         Completed" in done and "Incoming migration" in done, done
    assert "Total downtime:" in done, done
    cb = b.conn()
    assert cb.lookupByName(NAME).isPersistent()
    # back with the seed's call: dom.migrate(dest_conn, VIR_MIGRATE_LIVE, None, None, 0)
    ca = libvirt.open(a.uri)
    dom = cb.lookupByName(NAME)
    moved = dom.migrate(ca, libvirt.VIR_MIGRATE_LIVE, None, None, 0)
    assert moved.name() == NAME and moved.isActive()
    assert not moved.isPersistent()  # transient here: no --persistent
    assert_counting_on(a, NAME, after)
    # the source keeps its (inactive) persistent definition, shut off, migrated
    state, reason = cb.lookupByName(NAME).state()
    assert state == libvirt.VIR_DOMAIN_SHUTOFF and reason == libvirt.VIR_DOMAIN_SHUTOFF_MIGRATED
    cb.lookupByName(NAME).undefine()
    ca.close()
    cb.close()


def test_options_rename_suspend_and_address(hosts, running):
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    # compression, multifd, auto-converge and a bandwidth on the way there, under a new name
    r = virsh(a, "migrate", "--live", "--compressed", "--comp-methods", "xbzrle",
              "--auto-converge", "--parallel", "--parallel-connections", "2",
              "--bandwidth", "1000", "--dname", "mig2", NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + b.log()
    # zero-copy needs multifd and no compression
    for extra, words in ((["--parallel", "--compressed"], "cannot be compressed"),
                         ([], "only available for parallel migration")):
        r = virsh(b, "migrate", "--live", "--zerocopy", *extra, "mig2", tcp_uri(A_ADDR))
        assert r.returncode != 0 and words in r.stderr, r.stderr
    # multifd with zero-copy there and back (QEMU sends the pages from the guest's memory)
    r = virsh(b, "migrate", "--live", "--parallel", "--zerocopy", "mig2", tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert '{"capability":"zero-copy-send","state":true}' in full_log(b)
    after = assert_counting_on(a, "mig2", before)
    r = virsh(a, "migrate", "--live", "mig2", tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + b.log()
    after = assert_counting_on(b, "mig2", before)
    assert names(a) == [] and names(b) == ["mig2"]
    # back, not live, through the address given, and left paused there (--suspend)
    r = virsh(b, "migrate", "--suspend", "--migrateuri", f"tcp://{A_ADDR}",
              "--listen-address", A_ADDR, "--dname", NAME, "mig2", tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log()
    assert f"listening on tcp:{A_ADDR}:" in full_log(a)
    ca = a.conn()
    dom = ca.lookupByName(NAME)
    assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
    assert names(b) == []
    dom.resume()
    assert_counting_on(a, NAME, after)
    ca.close()


def test_settings_jobinfo_and_abort(hosts, running):
    a, b = hosts
    assert virsh(a, "migrate-getmaxdowntime", NAME).stdout.strip() == "300"
    assert virsh(a, "migrate-setmaxdowntime", NAME, "250").returncode == 0
    assert virsh(a, "migrate-getmaxdowntime", NAME).stdout.strip() == "250"
    assert virsh(a, "migrate-getspeed", NAME).stdout.strip() == "8796093022207"
    r = virsh(a, "migrate-setmaxdowntime", NAME, "3000000")
    assert r.returncode != 0 and "not between 1 and 2000000" in r.stderr, r.stderr
    # slow enough to watch: 1 MiB/s
    assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
    assert virsh(a, "migrate-getspeed", NAME).stdout.strip() == "1"
    before = counts(a.conn().lookupByName(NAME))
    mig = a.ns.popen("virsh", "-c", tcp_uri(A_ADDR), "migrate", "--live", NAME, tcp_uri(B_ADDR),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = ""
        deadline = time.time() + 60
        while time.time() < deadline:
            info = virsh(a, "domjobinfo", NAME).stdout
            # (QEMU's first figures may come before it has measured a bandwidth)
            if ("Memory processed" in info and "Memory processed: 0.000 B" not in info and
                    "Memory bandwidth" in info):
                break
            time.sleep(0.2)
        assert "Job type:         Unbounded" in info or "Job type:         Bounded" in info, info
        assert "Operation:        Outgoing migration" in info, info
        assert "Memory remaining" in info and "Memory bandwidth" in info, info
        # the destination shows the incoming one, paused, as migrating
        cb = b.conn()
        assert cb.lookupByName(NAME).state() == [libvirt.VIR_DOMAIN_PAUSED,
                                                 libvirt.VIR_DOMAIN_PAUSED_MIGRATION]
        cb.close()
    finally:
        # whatever failed above, the guest stays here for the tests after this one
        assert virsh(a, "domjobabort", NAME).returncode == 0
    out, err = mig.communicate(timeout=60)
    assert mig.returncode != 0 and "operation aborted" in err, err
    guest.wait(lambda: names(b) == [], 30, "the destination to drop the guest")
    assert_counting_on(a, NAME, before)
    done = virsh(a, "domjobinfo", "--completed", NAME).stdout
    assert "Job type:         Cancelled" in done, done
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0


def test_compression_cache(hosts, running):
    """migrate-compcache: QEMU's XBZRLE cache of the running guest, read and set, the same
    through virsh and domus; a size QEMU refuses says why."""
    a, b = hosts
    for args in (["migrate-compcache", NAME], ["migrate-compcache", NAME, "--size", "1000"],
                 ["migrate-compcache", NAME, "--size", "134217728"],
                 ["migrate-compcache", NAME]):
        theirs, ours = virsh(a, *args), domus(a, *args)
        assert (ours.stdout, ours.stderr, ours.returncode) == (
            theirs.stdout, theirs.stderr, theirs.returncode), args
    assert theirs.stdout == "Compression cache: 128.000 MiB\n", theirs.stdout
    assert "expects a power of two" in virsh(a, "migrate-compcache", NAME, "--size",
                                             "1000").stderr
    r = virsh(a, "qemu-monitor-command", NAME, '{"execute":"query-migrate-parameters"}')
    assert '"xbzrle-cache-size":134217728' in r.stdout, r.stdout


def test_killed_client_leaves_the_guest_on_the_source(hosts, running):
    a, b = hosts
    assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
    before = counts(a.conn().lookupByName(NAME))
    mig = a.ns.popen("virsh", "-c", tcp_uri(A_ADDR), "migrate", "--live", NAME, tcp_uri(B_ADDR),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guest.wait(lambda: "Memory processed" in virsh(a, "domjobinfo", NAME).stdout, 60,
               "the migration to run")
    mig.send_signal(signal.SIGKILL)
    mig.wait()
    guest.wait(lambda: names(b) == [], 30, "the destination to drop the guest")
    guest.wait(lambda: "Job type:         None" in virsh(a, "domjobinfo", NAME).stdout, 30,
               "the source's job to end")
    assert_counting_on(a, NAME, before)
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0


def test_offline_migration_moves_the_definition(hosts):
    a, b = hosts
    _, xml = guest.xml(a, "off1", agent=False)
    a.conn().defineXML(xml)
    r = virsh(a, "migrate", "--offline", NAME if False else "off1", tcp_uri(B_ADDR))
    assert r.returncode != 0 and "persistent flag" in r.stderr, r.stderr
    r = virsh(a, "migrate", "--offline", "--persistent", "--undefinesource", "off1",
              tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + b.log()
    assert "off1" not in names(a)
    cb = b.conn()
    dom = cb.lookupByName("off1")
    assert dom.isPersistent() and not dom.isActive()
    dom.undefine()
    cb.close()


def test_domus_migrates_and_reports_as_virsh(hosts, running):
    a, b = hosts
    for cmd in (["migrate-getmaxdowntime", NAME], ["migrate-getspeed", NAME],
                ["migrate-setspeed", NAME, "0"], ["migrate-setmaxdowntime", NAME, "300"]):
        assert domus(a, *cmd).stdout == virsh(a, *cmd).stdout, cmd
    # a persistent guest: the source keeps its definition after the move
    ca = a.conn()
    dom = ca.lookupByName(NAME)
    ca.defineXML(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert dom.isPersistent()
    ca.close()
    before = counts(a.conn().lookupByName(NAME))
    r = domus(a, "migrate", "--live", "--persistent", "--verbose", NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + b.log()
    assert r.stdout == "\n" and r.stderr.endswith("Migration: [100 %]"), (r.stdout, r.stderr)
    after = assert_counting_on(b, NAME, before)
    # the source keeps its definition, shut off (migrated), and the migration's figures
    ca = a.conn()
    assert ca.lookupByName(NAME).state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                                             libvirt.VIR_DOMAIN_SHUTOFF_MIGRATED]
    ca.close()
    v = virsh(a, "domjobinfo", "--completed", "--keep-completed", NAME)
    d = domus(a, "domjobinfo", "--completed", "--keep-completed", NAME)
    assert v.returncode == 0 and d.stdout == v.stdout, (v.stdout, d.stdout)
    assert "Operation:        Outgoing migration" in v.stdout, v.stdout
    assert "Total downtime:" in v.stdout and "Memory total:" in v.stdout, v.stdout
    # QEMU's own figure (how long is a benchmark's matter: bench/)
    int(v.stdout.split("Total downtime:")[1].split()[0])
    # back with domus onto that definition, leaving nothing on B
    r = domus(b, "migrate", "--live", "--persistent", "--undefinesource", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log()
    assert names(b) == []
    assert_counting_on(a, NAME, after)


def cpus_present(dom):
    return guest.agent_exec(dom, "/bin/cat", "/sys/devices/system/cpu/present")[1].strip()


def test_plugged_vcpu_moves_as_a_device(hosts, running):
    """A vCPU plugged live on the source is a device of its own on the destination (its
    <vcpus> entry says so), where the guest keeps it and can give it back."""
    a, b = hosts
    ca = a.conn()
    dom = ca.lookupByName(NAME)
    before = counts(dom)
    assert virsh(a, "setvcpu", NAME, "1", "--enable", "--live").returncode == 0
    guest.wait(lambda: cpus_present(dom) == "0-1", 30, "vCPU 1 in the guest")
    ca.close()
    r = virsh(a, "migrate", "--live", NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr
    after = assert_counting_on(b, NAME, before)
    cb = b.conn()
    dom = cb.lookupByName(NAME)
    assert "<vcpu id='1' enabled='yes' hotpluggable='yes'/>" in dom.XMLDesc(0)
    assert "-device {\"driver\":\"qemu64-x86_64-cpu\",\"id\":\"vcpu1\"" in \
        open(os.path.join(b.root, "log", f"{NAME}.log")).read().split("starting up")[-1]
    assert cpus_present(dom) == "0-1"
    # given back on the destination: the guest lets it go
    assert virsh(b, "setvcpus", NAME, "1", "--live").returncode == 0
    assert cpus_present(dom) == "0" and dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 1
    # after an unplug QEMU 7.2's TCG dies writing the guest's state: the move is refused
    # before it starts and the guest runs on (the next test boots it again on host A)
    r = virsh(b, "migrate", "--live", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 1 and "a vCPU was unplugged from it" in r.stderr, r.stderr
    assert_counting_on(b, NAME, after)
    dom.destroy()
    cb.close()


def test_peer_to_peer(hosts, running):
    """The source daemon drives the destination itself: virsh --p2p, the seed's
    migrateToURI (with VIR_MIGRATE_PEER2PEER; without it libvirt's own answer), domus --p2p."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    r = virsh(a, "migrate", "--live", "--p2p", "--verbose", "--persistent", "--undefinesource",
              NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert r.stderr.endswith("Migration: [100 %]"), r.stderr
    after = assert_counting_on(b, NAME, before)
    assert names(a) == []
    # the seed's call, from outside both hosts: host B's daemon reaches host A itself
    cb = b.conn()
    dom = cb.lookupByName(NAME)
    with pytest.raises(libvirt.libvirtError, match="direct migration is not supported"):
        dom.migrateToURI(tcp_uri(A_ADDR), 0, None, 0)
    dom.migrateToURI(tcp_uri(A_ADDR), libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER,
                     None, 0)
    after = assert_counting_on(a, NAME, after)
    # B keeps its definition (no --undefinesource), shut off, migrated
    assert cb.lookupByName(NAME).state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_MIGRATED
    cb.lookupByName(NAME).undefine()
    cb.close()
    # domus, with a refusal from the destination passed on: nothing moves
    cb = b.conn()
    cb.defineXML(guest.xml(b, NAME)[1])  # the name, with another uuid
    r = domus(a, "migrate", "--live", "--p2p", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "already exists with uuid" in r.stderr, r.stderr
    cb.lookupByName(NAME).undefine()
    cb.close()
    after = assert_counting_on(a, NAME, after)
    r = domus(a, "migrate", "--live", "--p2p", NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + b.log()
    after = assert_counting_on(b, NAME, after)
    r = domus(b, "migrate", "--live", "--p2p", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log()
    assert_counting_on(a, NAME, after)
    assert names(b) == []


def test_tunnelled(hosts, running):
    """QEMU's stream through the daemons' own connection, there and back; no port opens."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    r = virsh(a, "migrate", "--live", "--p2p", "--tunnelled", "--verbose", NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert "through the daemons' tunnel" in full_log(b)
    after = assert_counting_on(b, NAME, before)
    assert names(a) == []
    r = domus(b, "migrate", "--p2p", "--tunnelled", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log()
    assert_counting_on(a, NAME, after)
    assert names(b) == []


def test_storage_copy(hosts, running):
    """--copy-storage-all through the destination's NBD server onto an image at another path
    (--xml): made there, written by the mirror, and the guest's disk count goes on in it."""
    a, b = hosts
    ca = a.conn()
    xml = ca.lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    ca.close()
    old = xml.split("<source file='")[1].split("'")[0]
    new = old.replace(".qcow2", "-b.qcow2")
    xmlfile = os.path.join(a.root, "copy.xml")
    open(xmlfile, "w").write(xml.replace(old, new))
    # onto the very same image: refused before anything moves
    r = virsh(a, "migrate", "--live", "--copy-storage-all", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "is the very image the source uses" in r.stderr, r.stderr
    r = virsh(a, "migrate", "--live", "--copy-storage-inc", "--xml", xmlfile, NAME,
              tcp_uri(B_ADDR))
    assert r.returncode != 0 and "no backing image for an incremental copy" in r.stderr, r.stderr
    assert not os.path.exists(new) and names(b) == []
    # data written before the move must be in the copy
    token = f"copied-{os.getpid()}-{time.time_ns()}"
    dom = a.conn().lookupByName(NAME)
    rc, _ = guest.agent_exec(dom, "/bin/sh", "-c", f"echo {token} | dd of=/dev/vda bs=512 "
                             "seek=2048 count=1 conv=sync,fsync 2>/dev/null")
    assert rc == 0
    before = counts(dom)
    r = virsh(a, "migrate", "--live", "--copy-storage-all", "--migrate-disks", "vda",
              "--verbose", "--xml", xmlfile, NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert "its disks arrive through NBD" in full_log(b)
    after = assert_counting_on(b, NAME, before)
    cb = b.conn()
    dom = cb.lookupByName(NAME)
    assert f"<source file='{new}'" in dom.XMLDesc(0)
    _, read = guest.agent_exec(dom, "/bin/sh", "-c", "dd if=/dev/vda bs=512 skip=2048 count=1 "
                               "iflag=direct 2>/dev/null | head -n1")
    assert read.strip().strip("\0") == token
    cb.close()
    assert os.path.getsize(new) > 0
    # back onto the first image (it exists there: reused), with domus
    xmlback = os.path.join(a.root, "back.xml")
    open(xmlback, "w").write(xml)
    r = domus(b, "migrate", "--live", "--copy-storage-all", "--xml", xmlback, NAME,
              tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert_counting_on(a, NAME, after)
    assert names(b) == []
    os.unlink(new)


def qemu_pki(ca, d, addr, out=None):
    """QEMU's x509 credentials directory for host D (libvirt's names for it), signed by CA:
    a server certificate for ADDR and a client one."""
    out = out or os.path.join(d.root, "qemu-pki")
    os.makedirs(out, exist_ok=True)
    for kind in ("server", "client"):
        tmp = ca.issue(os.path.join(d.root, f"pki-{kind}"), kind, f"{kind} {addr}", ips=(addr,))
        for part in ("cert", "key"):
            shutil.copy(os.path.join(tmp, f"{kind}{part}.pem"),
                        os.path.join(out, f"{kind}-{part}.pem"))
    shutil.copy(ca.cert, os.path.join(out, "ca-cert.pem"))
    return out


def test_tls(hosts, running):
    """--tls: QEMU's stream, and the copied disks' NBD connections, go through TLS with each
    host's x509 credentials (migrate_tls_x509_cert_dir); the files missing are named; a
    destination whose certificate the source's CA did not sign fails the handshake and the
    guest stays on the source; a migration without --tls afterwards is in clear again."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    r = virsh(a, "migrate", "--live", "--tls", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0, r.stdout
    assert (f"a TLS migration needs '{b.root}/qemu-pki/ca-cert.pem' on host 'hostb'"
            in r.stderr), r.stderr
    r = virsh(a, "migrate", "--live", "--p2p", "--tunnelled", "--tls", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "not supported with tunnelled migration" in r.stderr, r.stderr
    ca = pki.CA(a.root)
    for d, addr in ((a, A_ADDR), (b, B_ADDR)):
        qemu_pki(ca, d, addr)
    # the name the destination's certificate must have: --tls-destination, else the URI's host
    r = virsh(a, "migrate", "--live", "--tls", "--tls-destination", "elsewhere.test", NAME,
              tcp_uri(B_ADDR))
    assert r.returncode != 0 and "certificate" in r.stderr.lower(), r.stderr + b.log() + open(
        os.path.join(b.root, "log", f"{NAME}.log")).read()[-1500:]
    r = virsh(a, "migrate", "--live", "--tls", NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    for d in (a, b):
        assert '"qom-type":"tls-creds-x509"' in full_log(d)
    assert f'"tls-hostname":"{B_ADDR}"' in full_log(a)
    after = assert_counting_on(b, NAME, before)
    # host A's server certificate from another CA: host B's QEMU refuses it
    pki_a = os.path.join(a.root, "qemu-pki")
    shutil.copytree(pki_a, pki_a + ".good")
    qemu_pki(pki.CA(a.root, cn="Other CA"), a, A_ADDR, out=os.path.join(a.root, "other-pki"))
    for part in ("cert", "key"):
        shutil.copy(os.path.join(a.root, "other-pki", f"server-{part}.pem"),
                    os.path.join(pki_a, f"server-{part}.pem"))
    r = virsh(b, "migrate", "--live", "--tls", NAME, tcp_uri(A_ADDR))
    assert r.returncode != 0, r.stdout
    assert "certificate" in r.stderr.lower(), r.stderr
    after = assert_counting_on(b, NAME, after)
    shutil.rmtree(pki_a)
    os.rename(pki_a + ".good", pki_a)
    # the disks copied through NBD over TLS too: onto another image and back onto the first
    cb = b.conn()
    xml = cb.lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    cb.close()
    old = xml.split("<source file='")[1].split("'")[0]
    new = old.replace(".qcow2", "-tls.qcow2")
    there, back = os.path.join(a.root, "tls.xml"), os.path.join(a.root, "tls-back.xml")
    open(there, "w").write(xml.replace(old, new))
    open(back, "w").write(xml)
    r = virsh(b, "migrate", "--live", "--tls", "--copy-storage-all", "--xml", there, NAME,
              tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert [line for line in full_log(a).splitlines()
            if '"nbd-server-start"' in line and '"tls-creds":"domus-migrate-tls-' in line]
    assert [line for line in full_log(b).splitlines()
            if '"driver":"nbd"' in line and f'"tls-hostname":"{A_ADDR}"' in line]
    after = assert_counting_on(a, NAME, after)
    r = virsh(a, "migrate", "--live", "--tls", "--copy-storage-all", "--xml", back, NAME,
              tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    after = assert_counting_on(b, NAME, after)
    # without --tls the next one is in clear (QEMU kept the incoming TLS setting)
    r = virsh(b, "migrate", "--live", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    assert_counting_on(a, NAME, after)
    assert names(b) == []
    os.unlink(new)


def test_timeout_suspends_the_guest(hosts, running):
    """virsh migrate --timeout: past it, virsh pauses the guest for the rest of the move (the
    migration goes on), and the guest runs on the destination."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
    mig = a.ns.popen("virsh", "-c", tcp_uri(A_ADDR), "migrate", "--live", "--timeout", "2",
                     "--timeout-suspend", NAME, tcp_uri(B_ADDR), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
    ca = a.conn()
    guest.wait(lambda: ca.lookupByName(NAME).state() == [libvirt.VIR_DOMAIN_PAUSED,
                                                        libvirt.VIR_DOMAIN_PAUSED_MIGRATION],
               60, "virsh to pause the guest")
    ca.close()
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0
    out, err = mig.communicate(timeout=120)
    assert mig.returncode == 0, err + a.log()
    after = assert_counting_on(b, NAME, before)
    # --timeout-postcopy: past the timeout, virsh switches to post-copy (1 MiB/s would take
    # a minute of pre-copy), and back with domus
    for host, other, cli in ((b, a, virsh), (a, b, domus)):
        switches = full_log(host).count("switching to post-copy")
        assert virsh(host, "migrate-setspeed", NAME, "1").returncode == 0
        r = cli(host, "migrate", "--live", "--postcopy", "--timeout", "2", "--timeout-postcopy",
                NAME, tcp_uri(other is a and A_ADDR or B_ADDR), timeout=60)
        assert r.returncode == 0, r.stderr + host.log() + other.log()
        assert full_log(host).count("switching to post-copy") == switches + 1
        after = assert_counting_on(other, NAME, after)
        assert virsh(other, "migrate-setspeed", NAME, "0").returncode == 0
    r = virsh(b, "migrate", "--live", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr
    assert_counting_on(a, NAME, after)
    r = virsh(a, "migrate", "--live", "--timeout", "2", "--timeout-postcopy", NAME,
              tcp_uri(B_ADDR))
    assert r.returncode != 0 and "--postcopy" in r.stderr, r.stderr
    assert names(b) == []


def test_abort_on_error(hosts, running, loop):
    """--abort-on-error with a real disk error: a second disk, its image on a 1 MiB
    filesystem, fills up mid-migration; QEMU pauses the guest on ENOSPC and the source cancels
    the migration. The guest stays on the source, paused for the I/O error (with libvirt's
    I/O error events), and runs on once there is room again; the destination has nothing."""
    a, b = hosts
    mnt = "/run/domus-test-enospc"
    img = f"{mnt}/small.img"
    for h in (a, b):
        h.ns.run("mkdir", "-p", mnt)
        h.ns.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt)
        h.ns.run("truncate", "-s", "16M", img)
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw' cache='writeback'/>"
            f"<source file='{img}'/><target dev='vdb' bus='virtio'/></disk>")
    c = a.conn()
    dom = c.lookupByName(NAME)
    seen = []
    cbs = [c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON,
                                    lambda *args: seen.append(("reason",) + args[2:5]), None),
           c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                    lambda *args: seen.append(("life",) + args[2:4]), None)]
    try:
        before = counts(dom)
        dom.attachDevice(disk)
        guest.wait(lambda: guest.agent_exec(dom, "/bin/ls", "/sys/block")[1].count("vdb") == 1,
                   60, "vdb in the guest")
        assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
        mig = a.ns.popen("virsh", "-c", tcp_uri(A_ADDR), "migrate", "--live", "--unsafe",
                         "--abort-on-error", NAME, tcp_uri(B_ADDR), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        guest.wait(lambda: "Memory processed" in virsh(a, "domjobinfo", NAME).stdout, 60,
                   "the migration to run")
        # domus hears the I/O error as virsh prints it
        ev = subprocess.Popen([DOMUS, "-c", a.domus_uri, "event", "--event", "io-error-reason",
                               "--domain", NAME, "--timeout", "60"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        # (a second later: the agent has answered before the guest stops)
        rc, _ = guest.agent_exec(dom, "/bin/sh", "-c", "(sleep 1; dd if=/dev/zero of=/dev/vdb "
                                 "bs=64k count=64 oflag=direct) >/dev/null 2>&1 &")
        assert rc == 0
        out, err = mig.communicate(timeout=120)
        assert mig.returncode != 0, out
        assert ("migration of 'mig' failed due to I/O error on disk 'vdb' (No space left on "
                "device)") in err, err
        assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_IOERROR]
        guest.wait(lambda: ("life", libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
                            libvirt.VIR_DOMAIN_EVENT_SUSPENDED_IOERROR) in seen, 10,
                   "the suspended event")
        assert ("reason", img, "virtio-disk1", libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE) in seen
        out, _ = ev.communicate(timeout=60)
        assert out.startswith(f"event 'io-error-reason' for domain '{NAME}': {img} "
                              "(virtio-disk1) pause due to enospc\n"), out
        assert seen.index(("reason", img, "virtio-disk1", libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE)) \
            < seen.index(("life", libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
                          libvirt.VIR_DOMAIN_EVENT_SUSPENDED_IOERROR)), seen
        assert names(b) == [] and len(qemu_pids(NAME)) == 1
        assert "Job type:         None" in virsh(a, "domjobinfo", NAME).stdout
        a.ns.run("mount", "-o", "remount,size=32m", mnt)
        ndd = "cat /proc/[0-9]*/comm 2>/dev/null | grep -cx dd"
        dom.resume()
        guest.wait(lambda: guest.agent_exec(dom, "/bin/sh", "-c", ndd)[1].strip() == "0", 60,
                   "the write to finish")
        dom.detachDevice(disk)
        guest.wait(lambda: "vdb" not in guest.agent_exec(dom, "/bin/ls", "/sys/block")[1], 60,
                   "vdb to leave the guest")
        assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0
        assert_counting_on(a, NAME, before)
    finally:
        for cb in cbs:
            c.domainEventDeregisterAny(cb)
        c.close()
        for h in (a, b):
            h.ns.run("umount", mnt, check=False)


def test_postcopy(hosts, running):
    """--postcopy, then migrate-postcopy while the slow pre-copy runs: the guest runs at the
    destination at once and the rest of its memory follows; --postcopy-after-precopy back
    (virsh switches on the second pass's MIGRATION_ITERATION event)."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    switched = [full_log(d).count("switching to post-copy") for d in (a, b)]
    completed = full_log(b).count("post-copy migration completed")
    assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
    r = virsh(a, "migrate-postcopy", NAME)
    assert r.returncode != 0 and "in progress" in r.stderr, r.stderr
    mig = a.ns.popen("virsh", "-c", tcp_uri(A_ADDR), "migrate", "--live", "--postcopy",
                     "--postcopy-bandwidth", "300", NAME, tcp_uri(B_ADDR),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guest.wait(lambda: "Memory processed" in virsh(a, "domjobinfo", NAME).stdout, 60,
               "the migration to run")
    # --postcopy-bandwidth (MiB/s) is QEMU's max-postcopy-bandwidth (bytes/s)
    r = virsh(a, "qemu-monitor-command", NAME, '{"execute":"query-migrate-parameters"}')
    assert r.returncode == 0 and '"max-postcopy-bandwidth":314572800' in r.stdout, r.stdout
    r = virsh(a, "migrate-postcopy", NAME)
    assert r.returncode == 0, r.stderr
    out, err = mig.communicate(timeout=120)
    assert mig.returncode == 0, err + a.log() + b.log()
    assert full_log(a).count("switching to post-copy") == switched[0] + 1
    assert full_log(b).count("post-copy migration completed") == completed + 1
    after = assert_counting_on(b, NAME, before)
    cb = b.conn()
    assert cb.lookupByName(NAME).state() == [libvirt.VIR_DOMAIN_RUNNING,
                                             libvirt.VIR_DOMAIN_RUNNING_MIGRATED]
    cb.close()
    # a downtime limit no pass can meet: the guest's counter keeps pre-copy going into its
    # second pass (else an idle guest may converge after the first, and QEMU's last sync's
    # event reaches virsh only once the migration is completing, too late to switch)
    assert virsh(b, "migrate-setmaxdowntime", NAME, "1").returncode == 0
    r = virsh(b, "migrate", "--live", "--postcopy", "--postcopy-after-precopy", NAME,
              tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log() + b.log()
    # virsh switched on the second pass's event
    assert full_log(b).count("switching to post-copy") == switched[1] + 1
    assert_counting_on(a, NAME, after)
    assert names(b) == []
    r = virsh(a, "migrate", "--postcopy", NAME, tcp_uri(B_ADDR))
    assert r.returncode != 0 and "non-live" in r.stderr, r.stderr
    # domus: the same, the second pass read from the job's figures
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0
    r = domus(a, "migrate", "--live", "--postcopy", "--postcopy-after-precopy", NAME,
              tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + b.log()
    assert full_log(a).count("switching to post-copy") == switched[0] + 2
    after = assert_counting_on(b, NAME, after)
    r = domus(b, "migrate", "--live", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + a.log()
    assert_counting_on(a, NAME, after)


def test_persistent_xml_mt_compression_disks_port(hosts, running):
    """--persistent-xml (the definition kept there differs from the running one), --comp-methods
    mt, and a disk copied through the NBD port given with --disks-port."""
    a, b = hosts
    ca = a.conn()
    xml = ca.lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    ca.close()
    keep = os.path.join(a.root, "keep.xml")
    open(keep, "w").write(xml.replace("</name>", "</name><description>kept there</description>",
                                      1))
    old = xml.split("<source file='")[1].split("'")[0]
    new = old.replace(".qcow2", "-c.qcow2")
    moved = os.path.join(a.root, "moved.xml")
    open(moved, "w").write(xml.replace(old, new))
    before = counts(a.conn().lookupByName(NAME))
    r = virsh(a, "migrate", "--live", "--persistent", "--persistent-xml", keep, "--compressed",
              "--comp-methods", "mt", "--comp-mt-threads", "2", "--copy-storage-all",
              "--disks-port", "49300", "--xml", moved, NAME, tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + full_log(b)[-3000:]
    assert f"NBD on {B_ADDR}:49300" in full_log(b)
    after = assert_counting_on(b, NAME, before)
    cb = b.conn()
    dom = cb.lookupByName(NAME)
    assert "<description>kept there</description>" in dom.XMLDesc(
        libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "kept there" not in dom.XMLDesc(0)
    cb.close()
    xmlback = os.path.join(a.root, "back2.xml")
    open(xmlback, "w").write(xml)
    r = virsh(b, "migrate", "--live", "--copy-storage-all", "--xml", xmlback,
              "--undefinesource", NAME, tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + full_log(a)[-3000:]
    assert_counting_on(a, NAME, after)
    assert names(b) == []
    os.unlink(new)


def test_copy_storage_inc(hosts, running):
    """--copy-storage-inc: the guest's disk becomes an overlay on a base image both hosts have
    (an external disk-only snapshot without metadata); only the overlay is copied, onto a new
    overlay on the same base at the destination."""
    a, b = hosts
    ca = a.conn()
    dom = ca.lookupByName(NAME)
    base = dom.XMLDesc(0).split("<source file='")[1].split("'")[0]
    top = os.path.join(a.root, "top.qcow2")
    r = virsh(a, "snapshot-create-as", NAME, "inc", "--disk-only", "--no-metadata",
              "--diskspec", f"vda,file={top}")
    assert r.returncode == 0, r.stderr
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    ca.close()
    top_b = os.path.join(a.root, "top-b.qcow2")
    moved = os.path.join(a.root, "inc.xml")
    open(moved, "w").write(xml.replace(top, top_b))
    before = counts(a.conn().lookupByName(NAME))
    r = virsh(a, "migrate", "--live", "--copy-storage-inc", "--xml", moved, NAME,
              tcp_uri(B_ADDR))
    assert r.returncode == 0, r.stderr + full_log(b)[-3000:]
    info = subprocess.run(["qemu-img", "info", "-U", "--output=json", top_b], check=True,
                          capture_output=True, text=True).stdout
    assert f'"backing-filename": "{base}"' in info, info
    after = assert_counting_on(b, NAME, before)
    back = os.path.join(a.root, "inc-back.xml")
    open(back, "w").write(xml)
    r = virsh(b, "migrate", "--live", "--copy-storage-inc", "--xml", back, NAME,
              tcp_uri(A_ADDR))
    assert r.returncode == 0, r.stderr + full_log(a)[-3000:]
    assert_counting_on(a, NAME, after)
    os.unlink(top_b)


def slow_migration(a, b):
    """A live migration from A to B at 1 MiB/s, by stock virsh in the background, once it
    moves memory: (the virsh process)."""
    assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
    mig = a.ns.popen("virsh", "-c", tcp_uri(A_ADDR), "migrate", "--live", NAME, tcp_uri(B_ADDR),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guest.wait(lambda: "Memory processed" in virsh(a, "domjobinfo", NAME).stdout, 60,
               "the migration to run")
    return mig


def test_link_cut(hosts, running):
    """The link between the hosts goes down mid-migration: the destination, losing the client
    that prepared it, drops its QEMU; once the link is back, the source's QEMU learns the
    stream is gone and the guest runs on at the source, alone."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    mig = slow_migration(a, b)
    a.ns.run("ip", "link", "set", "vmig0", "down")
    try:
        guest.wait(lambda: names(b) == [], 60, "the destination to drop the guest")
    finally:
        a.ns.run("ip", "link", "set", "vmig0", "up")
    out, err = mig.communicate(timeout=120)
    assert mig.returncode != 0, out
    guest.wait(lambda: "Job type:         None" in virsh(a, "domjobinfo", NAME).stdout, 60,
               "the source's job to end")
    assert_counting_on(a, NAME, before)
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0
    assert names(b) == []


def test_link_cut_peer_to_peer(hosts, running):
    """The link goes down mid-migration, peer to peer, and stays down: the source daemon,
    missing the destination's keepalive answers, cancels the migration itself, and the
    destination, missing the source's, drops its QEMU; the guest runs on at the source,
    alone, before the link is back."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    assert virsh(a, "migrate-setspeed", NAME, "1").returncode == 0
    # the client reaches host A over its unix socket: the cut link is the hosts' alone
    mig = subprocess.Popen(["virsh", "-c", f"qemu+unix:///system?socket={a.sock}", "migrate",
                            "--live", "--p2p", NAME, tcp_uri(B_ADDR)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guest.wait(lambda: "Memory processed" in a.virsh("domjobinfo", NAME).stdout, 60,
               "the migration to run")
    a.ns.run("ip", "link", "set", "vmig0", "down")
    try:
        out, err = mig.communicate(timeout=60)
        assert mig.returncode != 0, out
        assert f"lost the destination '{tcp_uri(B_ADDR)}' mid-migration" in err, err
        assert "no keepalive answer" in err, err
        guest.wait(lambda: names(b) == [], 60, "the destination to drop the guest")
        guest.wait(lambda: "Job type:         None" in a.virsh("domjobinfo", NAME).stdout, 60,
                   "the source's job to end")
        dom = a.conn().lookupByName(NAME)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert len(qemu_pids(NAME)) == 1
    finally:
        a.ns.run("ip", "link", "set", "vmig0", "up")
    assert_counting_on(a, NAME, before)
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0


def test_daemon_killed_on_either_side(hosts, running):
    """A daemon SIGKILLed mid-migration, source or destination: the guest runs on at the
    source, and the destination keeps nothing once its daemon is back."""
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    # the source's daemon dies: the client tells the destination to drop its QEMU, and the
    # source's daemon, back, cancels what QEMU still sends
    mig = slow_migration(a, b)
    a.proc.kill()
    a.proc.wait()
    out, err = mig.communicate(timeout=60)
    assert mig.returncode != 0, out
    a.start()
    guest.wait(lambda: names(b) == [], 30, "the destination to drop the guest")
    guest.wait(lambda: "Job type:         None" in virsh(a, "domjobinfo", NAME).stdout, 30,
               "the restarted source to end the migration")
    before = assert_counting_on(a, NAME, before)
    # the destination's daemon dies: QEMU there takes everything in but never runs; the
    # client cannot finish there, so the source resumes; the destination's daemon, back,
    # kills the QEMU it finds caught mid-migration
    mig = slow_migration(a, b)
    b.proc.kill()
    b.proc.wait()
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0
    out, err = mig.communicate(timeout=120)
    assert mig.returncode != 0, out
    # until its daemon is back, the destination's QEMU holds the state, paused, not running
    before = assert_counting_on(a, NAME, before, alone=False)
    b.start()
    assert names(b) == []
    assert "caught mid-start; killing it" in full_log(b)
    assert_counting_on(a, NAME, before)


def test_destination_qemu_killed(hosts, running):
    a, b = hosts
    before = counts(a.conn().lookupByName(NAME))
    mig = slow_migration(a, b)
    # the destination's QEMU, as its daemon recorded it (every QEMU here that once arrived
    # by migration was started with -incoming)
    pids = b.guest_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    out, err = mig.communicate(timeout=60)
    assert mig.returncode != 0 and "error:" in err, (out, err)
    guest.wait(lambda: names(b) == [], 30, "the destination to drop the guest")
    assert_counting_on(a, NAME, before)
    assert virsh(a, "migrate-setspeed", NAME, "0").returncode == 0


def test_source_qemu_killed(hosts, running):
    """Last: the guest dies with its QEMU; the destination keeps nothing."""
    a, b = hosts
    mig = slow_migration(a, b)
    for pid in qemu_pids(NAME):
        os.kill(pid, signal.SIGKILL)
    out, err = mig.communicate(timeout=60)
    assert mig.returncode != 0 and "error:" in err, (out, err)
    guest.wait(lambda: names(b) == [], 30, "the destination to drop the guest")
    assert qemu_pids(NAME) == []
    ca = a.conn()
    state = ca.lookupByName(NAME).state() if NAME in names(a) else None
    assert state is None or state[0] == libvirt.VIR_DOMAIN_SHUTOFF
    ca.close()
