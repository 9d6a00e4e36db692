# SPDX-License-Identifier: LGPL-2.1-or-later
"""The guest's own power management: dompmsuspend (through qemu-ga in the test guest, which
suspends to RAM for real) and dompmwakeup, with libvirt's PMSUSPEND/PMWAKEUP events and the
lifecycle events (PMSuspended Memory, Started Event wakeup) as virsh and domus print them; a
daemon restart while the guest sleeps; the refusals. One booted guest: the bzImage through
SeaBIOS (S3 resume needs the firmware's path back into the kernel), on an i440fx machine (with
Debian's QEMU 7.2 and SeaBIOS, a q35 guest's first S3 works but its second never reaches
QEMU: the guest's kernel goes through suspend and comes straight back)."""
import subprocess
import time

import libvirt
import libvirt_qemu
import pytest

import guest
from conftest import DOMUS, domain_xml

pytestmark = pytest.mark.keep_domains


@pytest.fixture(scope="module")
def pm(daemon):
    log, xml = guest.xml(daemon, "pm", pvh=False, machine="pc")
    c = daemon.conn()
    d = c.defineXML(xml)
    d.create()
    guest.wait(lambda: guest.count(log) == 1, 120, "the guest to boot")
    guest.wait(lambda: guest.agent_ok(d), 60, "the guest agent")
    yield d, log
    c.close()
    daemon.clean_domains()


def _qemu_status(dom):
    out = libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0)
    return out.split('"status":"')[1].split('"')[0]


def test_suspend_to_ram_and_wake_up(daemon, pm):
    d, log = pm
    cmd = ["event", "--all", "--loop", "--timeout", "15"]
    listeners = [subprocess.Popen(argv + cmd, stdout=subprocess.PIPE, text=True)
                 for argv in (["virsh", "-c", daemon.uri], [DOMUS, "-c", daemon.domus_uri])]
    time.sleep(1)
    out = daemon.virsh("dompmsuspend", "pm", "mem").stdout
    assert out == "Domain 'pm' successfully suspended\n", out
    # answered once the guest sleeps: no waiting here
    assert d.state() == [libvirt.VIR_DOMAIN_PMSUSPENDED, 0]
    assert daemon.virsh("domstate", "pm", "--reason").stdout == "pmsuspended (unknown)\n\n"
    assert _qemu_status(d) == "suspended"
    # a pause or another suspend: refused, the guest left asleep
    r = daemon.virsh("suspend", "pm", check=False)
    assert r.returncode != 0 and "pmsuspended" in r.stderr, r.stderr
    with pytest.raises(libvirt.libvirtError) as e:
        d.pMSuspendForDuration(libvirt.VIR_NODE_SUSPEND_TARGET_MEM, 0, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "is pmsuspended; only a running guest can be suspended" in str(e.value)
    assert _qemu_status(d) == "suspended"

    r = daemon.domus("dompmwakeup", "pm")
    assert r.stdout == "Domain 'pm' successfully woken up\n", r.stdout
    assert d.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_WAKEUP]
    assert _qemu_status(d) == "running"
    # woken, not rebooted: the same boot answers through its agent
    guest.wait(lambda: guest.agent_ok(d), 30, "the guest agent after the wake-up")
    assert guest.count(log) == 1, open(log).read()[-2000:]

    theirs, ours = (p.communicate(timeout=30)[0] for p in listeners)
    # the guest's virtio port closes as it goes to sleep and opens again after
    agent = "event 'agent-lifecycle' for domain 'pm': state: '%s' reason: 'channel event'\n"
    expect = (agent % "disconnected" +
              "event 'pm-suspend' for domain 'pm'\n"
              "event 'lifecycle' for domain 'pm': PMSuspended Memory\n"
              "event 'pm-wakeup' for domain 'pm'\n"
              "event 'lifecycle' for domain 'pm': Started Event wakeup\n" +
              agent % "connected" +
              "event loop timed out\nevents received: 6\n\n")
    assert theirs == expect, theirs
    assert ours == theirs


def test_daemon_restart_while_asleep(daemon, pm, loop):
    d, log = pm
    d.pMSuspendForDuration(libvirt.VIR_NODE_SUSPEND_TARGET_MEM, 0, 0)
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    d = c.lookupByName("pm")
    assert d.state() == [libvirt.VIR_DOMAIN_PMSUSPENDED, 0]
    got = []
    c.domainEventRegisterAny(d, libvirt.VIR_DOMAIN_EVENT_ID_PMWAKEUP,
                             lambda conn, dom, reason, opaque: got.append(("wakeup", reason)),
                             None)
    c.domainEventRegisterAny(
        d, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda conn, dom, ev, detail, opaque: got.append(("lifecycle", ev, detail)), None)
    d.pMWakeup(0)
    guest.wait(lambda: len(got) >= 2, 30, "the events")
    assert got == [("wakeup", 0),
                   ("lifecycle", libvirt.VIR_DOMAIN_EVENT_STARTED,
                    libvirt.VIR_DOMAIN_EVENT_STARTED_WAKEUP)], got
    guest.wait(lambda: guest.agent_ok(d), 30, "the guest agent after the wake-up")
    assert guest.count(log) == 1, open(log).read()[-2000:]
    c.close()


def test_wakeup_of_a_running_guest_is_refused(daemon, pm):
    d = daemon.conn().lookupByName("pm")
    with pytest.raises(libvirt.libvirtError) as e:
        d.pMWakeup(0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "domain 'pm' is running, not pmsuspended" in str(e.value)
    r = daemon.virsh("dompmwakeup", "pm", check=False)
    assert "error: Domain 'pm' could not be woken up" in r.stderr, r.stderr


def test_bad_requests_change_nothing(daemon, pm):
    d = daemon.conn().lookupByName("pm")
    with pytest.raises(libvirt.libvirtError) as e:
        d.pMSuspendForDuration(libvirt.VIR_NODE_SUSPEND_TARGET_MEM, 60, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    assert "duration (60 s) is not supported" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        d.pMSuspendForDuration(7, 0, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    assert "unknown suspend target 7" in str(e.value)
    r = daemon.domus("dompmsuspend", "pm", "standby", check=False)
    assert r.returncode != 0 and "Invalid target" in r.stderr, r.stderr
    assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_suspend_refused_by_pm_element_and_without_agent(daemon):
    """No guest kernel needed: the checks come before QEMU or the agent is asked."""
    c = daemon.conn()
    agent = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
             "</channel>")
    nos3 = c.createXML(domain_xml("nos3", extra_devices=agent,
                                  extra="<pm><suspend-to-mem enabled='no'/></pm>"), 0)
    with pytest.raises(libvirt.libvirtError) as e:
        nos3.pMSuspendForDuration(libvirt.VIR_NODE_SUSPEND_TARGET_MEM, 0, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "S3 state is disabled for domain 'nos3'" in str(e.value)
    # QEMU was told as well
    assert "disable_s3=1" in libvirt_qemu.qemuMonitorCommand(
        nos3, "info qtree", libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP).replace(" = ", "=")
    noagent = c.createXML(domain_xml("noagent"), 0)
    r = daemon.virsh("dompmsuspend", "noagent", "mem", check=False)
    assert "QEMU guest agent is not configured for domain 'noagent'" in r.stderr, r.stderr
    nos3.destroy()
    noagent.destroy()
    c.close()
