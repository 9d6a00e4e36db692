# SPDX-License-Identifier: LGPL-2.1-or-later
"""The job engine and the lifecycle's events, against fake QEMU: a job holds its domain while
queries answer; a second modifying call waits (job_wait, here 300 ms) and then fails naming
the job; domjobinfo shows it and domjobabort says what it can abort; destroy cuts a start
short without a STOPPED event (every STOPPED follows a STARTED); libvirt's refusals for resume
of a running and shutdown of a paused domain."""
import threading
import time

import libvirt
import pytest

from test_fake_qmp import Daemon, domain_xml, fake_pids, wait_for

JOB_WAIT_MS = 300


@pytest.fixture
def domusd():
    d = Daemon(conf=f"[qemu]\n# ms\njob_wait = {JOB_WAIT_MS}\n")
    yield d
    alive = d.close()
    text = d.log_text()
    print(text[-4000:])
    assert alive, "domusd died"
    assert "BUG: " not in text


class Call(threading.Thread):
    """Runs FN(conn) on a connection of its own; keeps the outcome."""

    def __init__(self, domusd, fn):
        super().__init__(daemon=True)
        self.conn = domusd.connect()
        self.fn = fn
        self.error = None
        self.result = None
        self.start()

    def run(self):
        try:
            self.result = self.fn(self.conn)
        except libvirt.libvirtError as e:
            self.error = e


def test_second_call_waits_then_names_the_job(domusd):
    c = domusd.conn
    dom = c.createXML(domain_xml("hang-on-stop"), 0)
    suspend = Call(domusd, lambda conn: conn.lookupByName("hang-on-stop").suspend())
    time.sleep(0.3)
    assert suspend.is_alive()
    # queries answer while the job holds the domain
    t0 = time.monotonic()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.XMLDesc(0)
    c.listAllDomains()
    info = dom.jobInfo()
    assert info[0] == libvirt.VIR_DOMAIN_JOB_UNBOUNDED and info[1] >= 200
    assert time.monotonic() - t0 < 1
    # a second modifying call waits, then is told which job holds the domain
    t0 = time.monotonic()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.resume()
    waited = time.monotonic() - t0
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_TIMEOUT
    msg = e.value.get_error_message()
    assert "busy with job 'suspend'" in msg and " ms" in msg, msg
    assert waited >= JOB_WAIT_MS / 1000 * 0.9
    # a suspend cannot be aborted; domjobabort says so
    with pytest.raises(libvirt.libvirtError) as e:
        dom.abortJob()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "cannot be aborted" in e.value.get_error_message()
    # destroy cuts through: the suspend fails, the destroy succeeds
    dom.destroy()
    suspend.join(5)
    assert suspend.error is not None
    assert c.listAllDomains() == []


def test_waiting_call_runs_when_the_job_ends(domusd):
    """A call that waits gets the domain as soon as the job ends (here: QEMU answers)."""
    c = domusd.conn
    dom = c.createXML(domain_xml("guest-pause-resume"), 0)
    calls = [Call(domusd, lambda conn: conn.lookupByName("guest-pause-resume").suspend())
             for _ in range(3)]
    for t in calls:
        t.join(5)
    assert [t.error for t in calls] == [None, None, None]
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.destroy()


def test_jobinfo_without_a_job(domusd):
    c = domusd.conn
    dom = c.createXML(domain_xml("ok"), 0)
    assert dom.jobInfo()[0] == libvirt.VIR_DOMAIN_JOB_NONE
    assert dom.jobStats()["type"] == libvirt.VIR_DOMAIN_JOB_NONE
    with pytest.raises(libvirt.libvirtError) as e:
        dom.abortJob()
    assert "no job is active" in e.value.get_error_message()
    dom.destroy()
    d2 = c.defineXML(domain_xml("ok@2"))
    with pytest.raises(libvirt.libvirtError) as e:
        d2.jobInfo()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    d2.undefine()


def test_destroy_during_start_sends_no_stopped(domusd, loop):
    """Every STOPPED follows a STARTED: a start cut short by destroy ends without events."""
    c = domusd.connect()
    events = []
    c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                             lambda conn, dom, ev, detail, opaque:
                             events.append((dom.name(), ev, detail)), None)
    c.defineXML(domain_xml("hang-on-cont"))
    start = Call(domusd, lambda conn: conn.lookupByName("hang-on-cont").create())
    wait_for(lambda: fake_pids(domusd, "hang-on-cont"), 3, "fake-qemu to run")
    time.sleep(0.2)
    jobinfo = c.lookupByName("hang-on-cont").jobStats()
    assert jobinfo["type"] == libvirt.VIR_DOMAIN_JOB_UNBOUNDED
    assert jobinfo["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_START
    c.lookupByName("hang-on-cont").destroy()  # libvirt: success for a domain being started
    start.join(5)
    assert start.error is not None and "destroy" in start.error.get_error_message()
    # a full run afterwards: its STOPPED follows its STARTED
    c.defineXML(domain_xml("ok@events"))
    d = c.lookupByName("ok@events")
    d.create()
    d.destroy()
    time.sleep(0.5)
    mine = [(ev, detail) for name, ev, detail in events if name == "hang-on-cont"]
    assert mine == [(libvirt.VIR_DOMAIN_EVENT_DEFINED, 0)], events
    seq = [ev for name, ev, _ in events if name == "ok@events"]
    assert seq == [libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_RESUMED,
                   libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STOPPED], events
    c.close()


def test_refusals_as_libvirt(domusd):
    c = domusd.conn
    dom = c.createXML(domain_xml("ok@refuse"), 0)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.resume()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "already running" in e.value.get_error_message()
    dom.suspend()
    dom.suspend()  # as libvirt: suspending a paused domain is no error
    with pytest.raises(libvirt.libvirtError) as e:
        dom.shutdown()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "not running" in e.value.get_error_message()
    with pytest.raises(libvirt.libvirtError) as e:
        dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_SIGNAL)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    dom.resume()
    dom.destroy()
