# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every transition of the basic lifecycle, with real QEMU (TCG, diskless guests), driven three
ways: our CLI, stock virsh and python3-libvirt."""
import os
import re

import libvirt
import pytest

from conftest import domain_xml

RUNNING, PAUSED, SHUTOFF = 1, 3, 5


def state(daemon, name):
    d = daemon.conn().lookupByName(name)
    return d.state()


@pytest.mark.parametrize("tool", ["domus", "virsh"])
def test_cli_lifecycle(daemon, tool):
    run = daemon.domus if tool == "domus" else daemon.virsh
    name = f"life-{tool}"
    path = daemon.write(f"{name}.xml", domain_xml(name))

    r = run("define", path)
    assert f"Domain '{name}' defined from {path}" in r.stdout
    assert re.search(rf"^ -\s+{name}\s+shut off$", run("list", "--all").stdout, re.M)
    assert run("domstate", "--reason", name).stdout.strip() == "shut off (unknown)"

    assert f"Domain '{name}' started" in run("start", name).stdout
    assert run("domstate", "--reason", name).stdout.strip() == "running (booted)"
    dom_id = run("domid", name).stdout.strip()
    assert dom_id.isdigit()
    assert re.search(rf"^ {dom_id}\s+{name}\s+running$", run("list").stdout, re.M)
    assert run("domname", dom_id).stdout.strip() == name

    r = run("start", name, check=False)
    # virsh checks the id itself ("Domain is already active"); ours asks the daemon
    assert r.returncode != 0 and ("already running" in r.stderr or "already active" in r.stderr)

    assert "suspended" in run("suspend", name).stdout
    assert run("domstate", "--reason", name).stdout.strip() == "paused (user)"
    assert name in run("list", "--state-paused", "--name").stdout
    assert "resumed" in run("resume", name).stdout
    assert run("domstate", "--reason", name).stdout.strip() == "running (unpaused)"

    assert "was reset" in run("reset", name).stdout
    assert "is being rebooted" in run("reboot", name).stdout
    # a guest without an OS ignores the power button: the call returns, the guest runs on
    assert "is being shutdown" in run("shutdown", name).stdout
    assert run("domstate", name).stdout.strip() == "running"

    assert "destroyed" in run("destroy", name).stdout
    assert run("domstate", "--reason", name).stdout.strip() == "shut off (destroyed)"
    r = run("destroy", name, check=False)
    assert r.returncode != 0 and "not running" in r.stderr

    run("start", "--paused", name)
    assert run("domstate", "--reason", name).stdout.strip() == "paused (user)"
    run("resume", name)
    assert run("domstate", name).stdout.strip() == "running"

    assert "marked as autostarted" in run("autostart", name).stdout
    assert name in run("list", "--all", "--autostart", "--name").stdout
    assert "unmarked as autostarted" in run("autostart", "--disable", name).stdout
    assert name in run("list", "--all", "--no-autostart", "--name").stdout

    xml = run("dumpxml", name).stdout
    assert f"<domain type='qemu' id='{run('domid', name).stdout.strip()}'>" in xml
    assert "id=" not in run("dumpxml", "--inactive", name).stdout.splitlines()[0]

    uuid = run("domuuid", name).stdout.strip()
    assert run("domname", uuid).stdout.strip() == name

    # undefine of a running persistent domain leaves it running, transient
    assert "has been undefined" in run("undefine", name).stdout
    assert name in run("list", "--transient", "--name").stdout
    run("destroy", name)
    assert name not in run("list", "--all", "--name").stdout
    r = run("dominfo", name, check=False)
    assert r.returncode != 0 and "failed to get domain" in r.stderr


@pytest.mark.parametrize("tool", ["domus", "virsh"])
def test_cli_transient(daemon, tool):
    run = daemon.domus if tool == "domus" else daemon.virsh
    name = f"tr-{tool}"
    path = daemon.write(f"{name}.xml", domain_xml(name))
    assert f"Domain '{name}' created from {path}" in run("create", path).stdout
    assert name in run("list", "--transient", "--name").stdout
    assert name not in run("list", "--persistent", "--name").stdout
    info = run("dominfo", name).stdout
    assert re.search(r"^Persistent:\s+no$", info, re.M)
    run("destroy", name)
    assert name not in run("list", "--all", "--name").stdout


def test_cli_matches_virsh_output(daemon):
    """Same daemon, same commands: our CLI prints what virsh prints."""
    path = daemon.write("same.xml", domain_xml("same"))
    daemon.virsh("define", path)
    daemon.virsh("start", "same")
    for args in (["list", "--all"], ["list"], ["list", "--name", "--all"], ["domstate", "same"],
                 ["domstate", "--reason", "same"], ["domid", "same"], ["domuuid", "same"],
                 ["dumpxml", "same"], ["dumpxml", "--inactive", "same"]):
        assert daemon.domus(*args).stdout == daemon.virsh(*args).stdout, args
    ours = daemon.domus("dominfo", "same").stdout.splitlines()
    theirs = daemon.virsh("dominfo", "same").stdout.splitlines()
    # CPU time moves between the two calls
    strip = lambda lines: [l for l in lines if not l.startswith("CPU time")]
    assert strip(ours) == strip(theirs)


def test_python_lifecycle(daemon):
    c = daemon.conn()
    d = c.defineXML(domain_xml("py1"))
    assert d.name() == "py1" and d.ID() == -1
    assert not d.isActive() and d.isPersistent()
    assert d.state() == [SHUTOFF, 0]
    assert d.info()[0] == SHUTOFF and d.info()[1] == 65536
    assert d.OSType() == "hvm"
    assert d.maxMemory() == 65536

    d.create()
    d = c.lookupByName("py1")
    assert d.ID() > 0 and d.isActive()
    assert d.state() == [RUNNING, 1]
    assert c.lookupByID(d.ID()).name() == "py1"
    assert c.lookupByUUIDString(d.UUIDString()).name() == "py1"
    assert d.ID() in c.listDomainsID()
    assert c.numOfDomains() >= 1
    assert "py1" not in c.listDefinedDomains()

    with pytest.raises(libvirt.libvirtError) as e:
        d.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID

    d.suspend()
    assert d.state() == [PAUSED, 1]
    d.resume()
    assert d.state() == [RUNNING, 5]
    d.reset()
    d.reboot()
    d.shutdown()
    d.destroy()
    assert d.state() == [SHUTOFF, 2]
    assert "py1" in c.listDefinedDomains()
    assert c.numOfDefinedDomains() >= 1

    d.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    assert d.state() == [PAUSED, 1]
    d.destroyFlags()

    d.setAutostart(1)
    assert d.autostart() == 1
    names = [x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)]
    assert names == ["py1"]
    d.setAutostart(0)
    assert d.autostart() == 0

    d.undefineFlags(0)
    with pytest.raises(libvirt.libvirtError) as e:
        c.lookupByName("py1")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    c.close()


def test_python_list_filters(daemon):
    c = daemon.conn()
    a = c.defineXML(domain_xml("fa"))
    b = c.defineXML(domain_xml("fb"))
    b.create()
    t = c.createXML(domain_xml("ft"), 0)
    names = lambda flags: sorted(x.name() for x in c.listAllDomains(flags))
    assert names(0) == ["fa", "fb", "ft"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == ["fb", "ft"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == ["fa"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT) == ["ft"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT) == ["fa", "fb"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_SHUTOFF) == ["fa"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING) == ["fb", "ft"]
    t.suspend()
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_PAUSED) == ["ft"]
    t.destroy()
    assert names(0) == ["fa", "fb"]
    c.close()


def test_create_flags(daemon):
    c = daemon.conn()
    d = c.createXML(domain_xml("cp"), libvirt.VIR_DOMAIN_START_PAUSED)
    assert d.state() == [PAUSED, 1]
    d.destroy()
    # autodestroy: the guest goes away with the connection that created it
    c2 = daemon.conn()
    c2.createXML(domain_xml("ad"), libvirt.VIR_DOMAIN_START_AUTODESTROY)
    assert "ad" in [x.name() for x in c.listAllDomains()]
    c2.close()
    import time
    for _ in range(100):
        if "ad" not in [x.name() for x in c.listAllDomains()]:
            break
        time.sleep(0.05)
    assert "ad" not in [x.name() for x in c.listAllDomains()]
    c.close()


def test_define_semantics_while_running(daemon):
    c = daemon.conn()
    d = c.defineXML(domain_xml("ds", memory_mib=64))
    d.create()
    uuid = d.UUIDString()
    # redefining a running domain changes only the persistent config
    c.defineXML(domain_xml("ds", memory_mib=96, uuid=uuid))
    assert "<memory unit='KiB'>65536</memory>" in d.XMLDesc(0)
    assert "<memory unit='KiB'>98304</memory>" in d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # as libvirt 9.0: a new persistent definition does not make the running one "updated"
    assert d.isUpdated() == 0
    d.destroy()
    assert "<memory unit='KiB'>98304</memory>" in d.XMLDesc(0)
    d.undefine()

    # create then define with the same name and uuid: the transient guest becomes persistent
    t = c.createXML(domain_xml("vt", uuid="11111111-2222-3333-4444-555555555555"), 0)
    assert not t.isPersistent()
    c.defineXML(domain_xml("vt", uuid="11111111-2222-3333-4444-555555555555", memory_mib=80))
    t = c.lookupByName("vt")
    assert t.isPersistent() and t.isActive()
    # the same name with another uuid is refused
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXML(domain_xml("vt", uuid="99999999-2222-3333-4444-555555555555"))
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    t.destroy()
    assert t.isPersistent() and not t.isActive()
    t.undefine()
    c.close()


def test_ids_increase_and_survive_restart(daemon):
    c = daemon.conn()
    d = c.createXML(domain_xml("id1"), 0)
    first = d.ID()
    d.destroy()
    d = c.createXML(domain_xml("id2"), 0)
    second = d.ID()
    d.destroy()
    assert second > first
    c.close()
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    d = c.createXML(domain_xml("id3"), 0)
    assert d.ID() > second
    d.destroy()
    c.close()


def test_restart_keeps_guests(daemon):
    c = daemon.conn()
    run = c.defineXML(domain_xml("keep-run"))
    run.create()
    run_id = run.ID()
    paused = c.createXML(domain_xml("keep-paused"), libvirt.VIR_DOMAIN_START_PAUSED)
    pids = daemon.guest_pids()
    assert len(pids) == 2
    c.close()
    daemon.stop()  # SIGTERM: guests keep running
    for pid in pids:
        os.kill(pid, 0)
    daemon.start()
    c = daemon.conn()
    run = c.lookupByName("keep-run")
    assert run.ID() == run_id and run.state() == [RUNNING, 1]
    assert c.lookupByName("keep-paused").state()[0] == PAUSED
    assert not c.lookupByName("keep-paused").isPersistent()
    # an adopted QEMU is not our child: its death is still seen at once (pidfd), not when
    # PID 1 gets round to reaping it
    import signal
    import time
    status = open(os.path.join(daemon.root, "run", "qemu", "keep-paused.xml")).read()
    os.kill(int(status.split("pid='")[1].split("'")[0]), signal.SIGKILL)
    t0 = time.time()
    while "keep-paused" in [x.name() for x in c.listAllDomains()] and time.time() - t0 < 5:
        time.sleep(0.01)
    assert time.time() - t0 < 1
    # and the adopted QEMUs are still fully driven
    run.suspend()
    assert run.state()[0] == PAUSED
    run.destroy()
    assert run.state() == [SHUTOFF, 2]
    c.close()


def test_sigkill_restart_and_dead_guest(daemon):
    import signal
    c = daemon.conn()
    a = c.defineXML(domain_xml("sk-a"))
    a.create()
    c.createXML(domain_xml("sk-t"), 0)
    pids = dict(zip(["x", "y"], daemon.guest_pids()))
    c.close()
    daemon.stop(signal.SIGKILL)
    # while the daemon is down one QEMU dies
    status = open(os.path.join(daemon.root, "run", "qemu", "sk-t.xml")).read()
    pid = int(status.split("pid='")[1].split("'")[0])
    os.kill(pid, signal.SIGKILL)
    daemon.start()
    c = daemon.conn()
    assert c.lookupByName("sk-a").isActive()
    assert "sk-t" not in [x.name() for x in c.listAllDomains()]
    assert not os.path.exists(os.path.join(daemon.root, "run", "qemu", "sk-t.xml"))
    c.lookupByName("sk-a").destroy()
    c.close()
