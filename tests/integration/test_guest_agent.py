# SPDX-License-Identifier: LGPL-2.1-or-later
"""The guest agent with a real guest (qemu-ga in the test guest): domtime, guestinfo,
domhostname, qemu-agent-command, agent shutdown and reboot, the default shutdown mode, a
guest without an agent channel and one whose agent is silent; monitor passthrough. Driven
through domus, stock virsh and python3-libvirt; one booted guest shared where honest."""
import json
import os
import re
import struct
import subprocess
import time

import libvirt
import pytest

import guest
from conftest import DOMUS, domain_xml

pytestmark = pytest.mark.keep_domains


CPU = ("<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model>"
       "<topology sockets='1' dies='1' cores='2' threads='1'/>"
       "<feature policy='require' name='ssse3'/><feature policy='disable' name='svm'/></cpu>")


@pytest.fixture(scope="module")
def ag(daemon):
    # a second channel for virDomainOpenChannel; a CPU model with features and a topology of
    # two cores for test_cpu_model_features_topology
    log, xml = guest.xml(daemon, "ag", extra_devices=(
        "<channel type='unix'><target type='virtio' name='org.domus.test.0'/></channel>"))
    xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>").replace("<devices>", CPU + "<devices>")
    c = daemon.conn()
    d = c.defineXML(xml)
    d.create()
    guest.wait(lambda: guest.count(log) == 1, 90, "the guest to boot")
    yield d, log
    c.close()
    daemon.clean_domains()


def test_domtime(daemon, ag):
    d, _ = ag
    t = d.getTime()
    assert abs(t["seconds"] - time.time()) < 120 and 0 <= t["nseconds"] < 10**9
    out = daemon.virsh("domtime", "ag").stdout
    assert abs(int(out.split()[1]) - time.time()) < 120
    out = daemon.domus("domtime", "ag").stdout
    assert abs(int(out.split()[1]) - time.time()) < 120
    # set it (qemu-ga writes the RTC too), set it back to the host's time, then sync from the
    # RTC: it stays there
    d.setTime({"seconds": 2000000000, "nseconds": 0})
    assert abs(d.getTime()["seconds"] - 2000000000) < 60
    daemon.domus("domtime", "--now", "ag")
    assert abs(d.getTime()["seconds"] - time.time()) < 120
    daemon.virsh("domtime", "--sync", "ag")
    assert abs(d.getTime()["seconds"] - time.time()) < 120


def test_guestinfo_and_hostname(daemon, ag):
    d, _ = ag
    info = d.guestInfo(0, 0)
    assert info["hostname"] == "domus-guest"
    assert info["os.id"] == "domus-guest"
    assert info["os.kernel-release"].endswith("-amd64")
    assert info["user.count"] == 0
    assert "fs.count" in info and "timezone.name" in info
    assert d.guestInfo(libvirt.VIR_DOMAIN_GUEST_INFO_HOSTNAME, 0) == {"hostname": "domus-guest"}
    for run in (daemon.virsh, daemon.domus):
        out = run("guestinfo", "--os", "ag").stdout
        assert "os.id               : domus-guest" in out
        assert run("domhostname", "ag").stdout.strip() == "domus-guest"
    assert d.hostname() == "domus-guest"


def test_agent_passthrough(daemon, ag):
    import libvirt_qemu
    d, _ = ag
    out = json.loads(libvirt_qemu.qemuAgentCommand(d, '{"execute":"guest-get-host-name"}', -1, 0))
    assert out == {"return": {"host-name": "domus-guest"}}
    for run in (daemon.virsh, daemon.domus):
        out = run("qemu-agent-command", "ag", '{"execute":"guest-info"}').stdout
        assert json.loads(out)["return"]["version"]
    # --pretty: libvirt's layout, byte for byte
    pretty = [run("qemu-agent-command", "ag", "--pretty", '{"execute":"guest-get-host-name"}')
              .stdout for run in (daemon.virsh, daemon.domus)]
    assert pretty[0] == pretty[1] == '{\n  "return": {\n    "host-name": "domus-guest"\n  }\n}\n\n\n'
    with pytest.raises(libvirt.libvirtError) as e:
        libvirt_qemu.qemuAgentCommand(d, '{"execute":"guest-no-such-command"}', -1, 0)
    assert "guest-no-such-command" in str(e.value)


def test_filesystems_and_users(daemon, ag):
    """domfsfreeze / domfsthaw / domfsinfo / domfstrim / set-user-password through the agent;
    the guest mounts no disk file system, so there is nothing to freeze or list, and its
    busybox has no passwd for qemu-ga to run: the agent's refusal comes back as it is."""
    import libvirt_qemu
    d, _ = ag
    status = lambda: json.loads(libvirt_qemu.qemuAgentCommand(
        d, '{"execute":"guest-fsfreeze-status"}', -1, 0))["return"]
    agent_fs = json.loads(libvirt_qemu.qemuAgentCommand(
        d, '{"execute":"guest-get-fsinfo"}', -1, 0))["return"]
    assert d.fsInfo(0) == [(fs["mountpoint"], fs["name"], fs["type"], []) for fs in agent_fs]
    assert d.fsFreeze(None, 0) == len(agent_fs)
    # (qemu-ga stays "thawed" when it had nothing to freeze)
    assert status() == ("frozen" if agent_fs else "thawed")
    assert d.fsThaw(None, 0) == len(agent_fs)
    assert status() == "thawed"
    for args in (["domfsfreeze", "ag"], ["domfsthaw", "ag"], ["domfsinfo", "ag"],
                 ["domfstrim", "ag"], ["domfsthaw", "ag", "/mnt"],
                 ["domfstrim", "ag", "--mountpoint", "/"],
                 ["set-user-password", "ag", "root", "pw"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    assert status() == "thawed"
    r = daemon.virsh("set-user-password", "ag", "root", "pw", check=False)
    assert r.returncode == 1 and "guest-set-user-password" in r.stderr
    r = daemon.virsh("domfsthaw", "ag", "/mnt", check=False)
    assert "thawing chosen mount points is not supported" in r.stderr
    # no agent, no file systems
    c = daemon.conn()
    plain = c.createXML(domain_xml("noag-fs"), 0)
    with pytest.raises(libvirt.libvirtError) as e:
        plain.fsFreeze(None, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    plain.destroy()
    c.close()


KEYS = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDomusTestKeyNumberOne one@test",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDomusTestKeyNumberTwo two@test"]


def test_ssh_keys(daemon, ag, tmp_path):
    """set-user-sshkeys / get-user-sshkeys through qemu-ga: appended from a file (its last
    line break is no key), removed, replaced, cleared; virsh and domus alike."""
    f = tmp_path / "keys"
    f.write_text("\n".join(KEYS) + "\n")
    daemon.virsh("set-user-sshkeys", "ag", "root", "--reset")
    assert daemon.virsh("get-user-sshkeys", "ag", "root").stdout == "\n"
    daemon.virsh("set-user-sshkeys", "ag", "root", "--file", str(f))
    # (qemu-ga keeps its own order)
    out = daemon.domus("get-user-sshkeys", "ag", "root").stdout
    assert out.endswith("\n\n") and sorted(out.split("\n")[:2]) == KEYS, out
    d, _ = ag
    rc, out = guest.agent_exec(d, "/bin/cat", "/root/.ssh/authorized_keys")
    assert rc == 0 and sorted(out.split("\n")[:2]) == KEYS, out
    one = tmp_path / "one"
    one.write_text(KEYS[0] + "\n")
    daemon.domus("set-user-sshkeys", "ag", "root", "--file", str(one), "--remove")
    assert daemon.domus("get-user-sshkeys", "ag", "root").stdout == KEYS[1] + "\n\n"
    daemon.domus("set-user-sshkeys", "ag", "root", "--file", str(one), "--reset")
    assert d.authorizedSSHKeysGet("root") == [KEYS[0]]
    # refusals
    r = daemon.domus("set-user-sshkeys", "ag", "root", check=False)
    assert "Option --file is required" in r.stderr, r.stderr
    r = daemon.virsh("get-user-sshkeys", "ag", "nosuchuser", check=False)
    assert r.returncode != 0 and "nosuchuser" in r.stderr, r.stderr
    daemon.virsh("set-user-sshkeys", "ag", "root", "--reset")
    assert d.authorizedSSHKeysGet("root") == []


def test_agent_timeout_and_domcontrol(daemon, ag):
    d, _ = ag
    for tool in (daemon.virsh, daemon.domus):
        assert tool("domcontrol", "ag").stdout == "ok\n\n"
    # 0: commands go out without waiting; one that needs its answer says so
    daemon.virsh("guest-agent-timeout", "ag", "--timeout", "0")
    status = open(os.path.join(daemon.root, "run", "qemu", "ag.xml")).read()
    assert "agent-timeout='0'" in status
    r = daemon.domus("domtime", "ag", check=False)
    assert r.returncode != 0 and "without waiting for its answer" in r.stderr, r.stderr
    r = daemon.virsh("guest-agent-timeout", "ag", "--timeout", "-3", check=False)
    assert r.returncode != 0 and "guest agent timeout -3 is invalid" in r.stderr, r.stderr
    daemon.domus("guest-agent-timeout", "ag", "--timeout", "-1")
    assert "domus-guest" in daemon.virsh("domhostname", "ag").stdout
    d.agentSetResponseTimeout(10, 0)
    assert "agent-timeout='10'" in open(os.path.join(daemon.root, "run", "qemu", "ag.xml")).read()
    d.agentSetResponseTimeout(-1, 0)
    off = daemon.conn().defineXML(domain_xml("off"))
    r = daemon.virsh("domcontrol", "off", check=False)
    assert r.returncode != 0 and "domain 'off' is not running" in r.stderr, r.stderr
    off.undefine()


def test_monitor_passthrough_taints(daemon, ag):
    import libvirt_qemu
    d, _ = ag
    out = json.loads(libvirt_qemu.qemuMonitorCommand(d, '{"execute":"query-status"}', 0))
    assert out["return"]["running"] is True
    # QEMU's own errors come back as its reply, as libvirt does
    out = json.loads(daemon.virsh("qemu-monitor-command", "ag", '{"execute":"bogus"}').stdout)
    assert out["error"]["class"] == "CommandNotFound"
    assert "VM status: running" in daemon.domus("qemu-monitor-command", "ag", "--hmp", "info",
                                                 "status").stdout
    assert "VM status: running" in daemon.virsh("qemu-monitor-command", "--hmp", "ag",
                                                "info status").stdout
    # --pretty and --return-value read QMP's reply; a bare command name is wrapped, and
    # KEY=VALUE words are its arguments; what virsh and domus print is the same but for the
    # reply's id
    for args in (["--pretty", '{"execute":"query-status"}'], ["--return-value", "query-status"],
                 ["--pretty", "--return-value", "query-block-jobs"],
                 ["--return-value", "qom-get", '{"path":"/machine","property":"type"}'],
                 ["--hmp", "--pretty", "info status"], ["--return-value", "bogus"]):
        outs = [run("qemu-monitor-command", "ag", *args, check=False)
                for run in (daemon.virsh, daemon.domus)]
        texts = [re.sub(r'"id": ?\d+', '"id": N', o.stdout + o.stderr) for o in outs]
        assert texts[0] == texts[1], (args, texts)
    assert outs[1].returncode == 1 and "'return' member missing" in outs[1].stderr
    out = daemon.domus("qemu-monitor-command", "ag", "--return-value", "qom-get",
                       "path=/machine", "property=type").stdout
    assert out.startswith('"pc-i440fx-') or out.startswith('"pc-q35-'), out
    # the seed's example
    daemon.virsh("qemu-monitor-command", "--hmp", "ag", "migrate_set_capability auto-converge on")
    assert "custom monitor" in daemon.virsh("dominfo", "ag").stdout
    assert "tainted: custom-monitor" in open(os.path.join(daemon.root, "log", "ag.log")).read()


def test_cpu_model_features_topology(daemon, ag):
    """The guest sees the <cpu> it was given: qemu64 with ssse3 added and svm taken away, two
    cores of one socket."""
    d, _ = ag
    rc, out = guest.agent_exec(d, "/bin/cat", "/proc/cpuinfo")
    assert rc == 0
    flags = set(re.search(r"^flags\s*:(.*)$", out, re.M).group(1).split())
    assert "ssse3" in flags and "svm" not in flags and "sse2" in flags
    assert out.count("processor\t:") == 2
    assert set(re.findall(r"^cpu cores\s*:\s*(\d+)$", out, re.M)) == {"2"}
    assert set(re.findall(r"^physical id\s*:\s*(\d+)$", out, re.M)) == {"0"}


def test_memory_peek(daemon, ag):
    """virDomainMemoryPeek: guest physical memory, and a guest virtual address through the
    first vCPU's page tables."""
    d, _ = ag
    # physical: the firmware's reset vector at the top of the first MiB, a far jump (0xEA)
    phys = d.memoryPeek(0xFFFF0, 16, libvirt.VIR_MEMORY_PHYSICAL)
    assert len(phys) == 16 and phys[0] == 0xEA, phys.hex()
    # virtual: the kernel's direct map of the same bytes; where it starts (KASLR) is the value
    # of page_offset_base, itself read by its virtual address
    rc, out = guest.agent_exec(d, "/bin/sh", "-c", "grep ' page_offset_base$' /proc/kallsyms")
    assert rc == 0, out
    where = int(out.split()[0], 16)
    assert where >= 1 << 63, out
    base = struct.unpack("<Q", d.memoryPeek(where, 8, libvirt.VIR_MEMORY_VIRTUAL))[0]
    assert d.memoryPeek(base + 0xFFFF0, 16, libvirt.VIR_MEMORY_VIRTUAL) == phys
    # bad calls: no flag, both (python checks that one itself), too much, read-only
    for flags, code in ((0, libvirt.VIR_ERR_INVALID_ARG),
                        (libvirt.VIR_MEMORY_PHYSICAL | libvirt.VIR_MEMORY_VIRTUAL,
                         libvirt.VIR_ERR_INVALID_ARG)):
        with pytest.raises(libvirt.libvirtError) as e:
            d.memoryPeek(0, 16, flags)
        assert e.value.get_error_code() == code
    with pytest.raises(libvirt.libvirtError) as e:
        d.memoryPeek(0, 5 * 1024 * 1024, libvirt.VIR_MEMORY_PHYSICAL)
    assert e.value.get_error_code() == libvirt.VIR_ERR_RPC
    ro = daemon.conn(readonly=True)
    with pytest.raises(libvirt.libvirtError) as e:
        ro.lookupByName("ag").memoryPeek(0, 16, libvirt.VIR_MEMORY_PHYSICAL)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    assert not [f for f in os.listdir(os.path.join(daemon.root, "run")) if ".mem." in f]


def _port_script(then):
    """Shell that finds the guest's port of org.domus.test.0 as $port, then runs THEN."""
    return ("f=$(grep -lx org.domus.test.0 /sys/class/virtio-ports/*/name); f=${f%/name}; "
            f"port=/dev/${{f##*/}}; {then}")


def test_open_channel(daemon, ag):
    """virDomainOpenChannel: a stream on a channel's unix socket, both ways; one session per
    channel unless forced; the agent's channel is the daemon's."""
    c = daemon.conn()
    d = c.lookupByName("ag")
    st = c.newStream(0)
    d.openChannel("org.domus.test.0", st, 0)
    rc, out = guest.agent_exec(d, "/bin/sh", "-c", _port_script("echo hello-host > $port"))
    assert rc == 0, out
    got = b""
    while len(got) < 11:
        got += st.recv(64)
    assert got == b"hello-host\n"
    st.send(b"ping\n")
    rc, out = guest.agent_exec(d, "/bin/sh", "-c", _port_script("head -c 5 $port"))
    assert (rc, out) == (0, "ping\n")
    # a second session is refused, then forced (by the channel's alias): the first one ends
    with pytest.raises(libvirt.libvirtError) as e:
        d.openChannel("org.domus.test.0", c.newStream(0), 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "Active channel stream exists" in str(e.value)
    st2 = c.newStream(0)
    d.openChannel("channel1", st2, libvirt.VIR_DOMAIN_CHANNEL_FORCE)
    with pytest.raises(libvirt.libvirtError) as e:
        st.recv(64)
    assert "taken over" in str(e.value)
    st2.abort()
    for name, code in (("org.qemu.guest_agent.0", libvirt.VIR_ERR_OPERATION_INVALID),
                       ("nope", libvirt.VIR_ERR_INTERNAL_ERROR)):
        with pytest.raises(libvirt.libvirtError) as e:
            d.openChannel(name, c.newStream(0), 0)
        assert e.value.get_error_code() == code, (name, str(e.value))
    assert "qemu-agent-command" in str(libvirt_error(lambda: d.openChannel(
        "org.qemu.guest_agent.0", c.newStream(0), 0)))
    # the agent still answers: its socket was never touched
    assert guest.agent_ok(d)
    c.close()


def libvirt_error(fn):
    try:
        fn()
    except libvirt.libvirtError as e:
        return e
    raise AssertionError("no error")


def test_agent_reboot_keeps_running(daemon, ag):
    d, log = ag
    before = guest.count(log)
    # the agent's port closes as the guest goes down: virsh and domus print the same event
    cmd = ["event", "--event", "agent-lifecycle", "--domain", "ag", "--timeout", "90"]
    listeners = [subprocess.Popen(argv + cmd, stdout=subprocess.PIPE, text=True)
                 for argv in (["virsh", "-c", daemon.uri], [DOMUS, "-c", daemon.domus_uri])]
    time.sleep(1)
    daemon.domus("reboot", "--mode", "agent", "ag")
    guest.wait(lambda: guest.count(log) == before + 1, 90, "the guest to boot again")
    assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert "DOMUS-GUEST-REBOOT" in open(log).read()
    theirs, ours = (p.communicate(timeout=90)[0] for p in listeners)
    assert theirs == ("event 'agent-lifecycle' for domain 'ag': state: 'disconnected' reason: "
                      "'channel event'\nevents received: 1\n\n"), theirs
    assert ours == theirs


def test_default_shutdown_uses_the_agent(daemon, ag):
    d, log = ag
    # wait for the agent to be back after the reboot
    guest.wait(lambda: _answers(d), 60, "the agent after the reboot")
    daemon.virsh("shutdown", "ag")
    guest.wait(lambda: d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, 60, "the guest to power off")
    assert d.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert "DOMUS-GUEST-POWEROFF" in open(log).read()
    assert "guest-shutdown" in open(os.path.join(daemon.root, "domusd.log")).read()


def _answers(d):
    try:
        d.getTime()
        return True
    except libvirt.libvirtError:
        return False


def test_no_agent_channel(daemon):
    c = daemon.conn()
    d = c.createXML(domain_xml("noag"), 0)
    for call in (d.getTime, lambda: d.guestInfo(0, 0),
                 lambda: d.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT)):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
        assert "not configured" in str(e.value)
    r = daemon.domus("shutdown", "--mode", "agent", "noag", check=False)
    assert r.returncode == 1 and "not configured" in r.stderr
    d.destroy()
    c.close()


def test_silent_agent_and_ignored_acpi(daemon):
    """A guest whose agent never answers and that ignores the power button: calls fail with
    'not responding' without blocking others, shutdown returns and the guest runs on, destroy
    --graceful still stops it."""
    log, xml = guest.xml(daemon, "mute", extra_cmdline="domus.noagent=1 domus.ignore_acpi=1")
    c = daemon.conn()
    d = c.createXML(xml, 0)
    guest.wait(lambda: guest.count(log) == 1, 90, "the guest to boot")
    import threading
    box = {}

    def ask():
        try:
            d.getTime()
        except libvirt.libvirtError as e:
            box["err"] = e

    t = threading.Thread(target=ask)
    t0 = time.time()
    t.start()
    time.sleep(0.3)
    c2 = daemon.conn()
    c2.listAllDomains()  # not blocked behind the agent
    assert c2.lookupByName("mute").info()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert time.time() - t0 < 2
    t.join(30)
    assert box["err"].get_error_code() == libvirt.VIR_ERR_AGENT_UNRESPONSIVE
    assert "not responding" in str(box["err"])
    # with no mode: the agent fails, ACPI follows; the guest ignores both and runs on
    d.shutdown()
    time.sleep(2)
    assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    daemon.virsh("shutdown", "--mode", "acpi", "mute")
    time.sleep(1)
    assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    d.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    assert "mute" not in [x.name() for x in c2.listAllDomains()]
    c2.close()
    c.close()




def test_set_lifecycle_action(daemon, ag):
    """set-lifecycle-action: the config alone, then live: a guest reboot with on_reboot
    'destroy' set on the running guest shuts it off (QEMU told with set-action), as a
    guest started with it would; bad pairs refused and nothing changed."""
    d, log = ag
    if d.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
        d.create()  # (its console file starts afresh)
        guest.wait(lambda: guest.count(log) == 1, 90, "the guest to boot")
        guest.wait(lambda: _answers(d), 60, "the agent")
    daemon.virsh("set-lifecycle-action", "ag", "poweroff", "preserve", "--config")
    assert "<on_poweroff>preserve</on_poweroff>" in d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<on_poweroff>destroy</on_poweroff>" in d.XMLDesc()
    for argv, msg in ((["reboot", "coredump-destroy"], "doesn't support 'coredump-destroy'"),
                      (["crash", "rename-restart"], "'rename-restart' is not supported"),
                      (["halt", "destroy"], "Invalid lifecycle type 'halt'")):
        for tool in (daemon.virsh, daemon.domus):
            r = tool("set-lifecycle-action", "ag", *argv, check=False)
            assert r.returncode != 0 and msg in r.stderr, (argv, r.stderr)
    assert daemon.domus("set-lifecycle-action", "ag", "reboot", "destroy", "--live").stdout == "\n"
    assert "<on_reboot>destroy</on_reboot>" in d.XMLDesc()
    assert "<on_reboot>restart</on_reboot>" in d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    daemon.virsh("reboot", "--mode", "agent", "ag")
    guest.wait(lambda: d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, 60, "the guest to stop")
    assert "DOMUS-GUEST-REBOOT" in open(log).read().split("DOMUS-GUEST-READY")[-1]
    d.setLifecycleAction(libvirt.VIR_DOMAIN_LIFECYCLE_POWEROFF,
                         libvirt.VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY,
                         libvirt.VIR_DOMAIN_AFFECT_CONFIG)
