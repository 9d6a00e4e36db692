# SPDX-License-Identifier: LGPL-2.1-or-later
"""Driver tests against fake QEMU (tests/fake/fake-qemu): a real domusd on a temporary --root
runs domains whose <emulator> is the fake; the domain name picks the QMP script
tests/data/qmp/NAME.json ("NAME@tag" runs NAME.json too).

Scenario files that carry an "expect" object are run by test_start_scenario, so adding a start
fault is adding a file. The other tests name the scenario they need.

Run:  /usr/bin/python3 -m pytest -q tests/integration/test_fake_qmp.py
The daemon runs with --monitor-timeout so that a silent QEMU fails a start within seconds.
Env:  DOMUS_BUILD (default: <source>/build), DOMUS_TOP (default: this checkout); the meson
      names DOMUS_BUILDDIR/DOMUS_SRCDIR work too. The fixture is named 'domusd' (one daemon per
      test), not conftest's module-wide 'daemon', so each fault starts from a clean daemon.
"""
import gc
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

SRCDIR = (os.environ.get("DOMUS_TOP") or os.environ.get("DOMUS_SRCDIR") or
          os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILDDIR = (os.environ.get("DOMUS_BUILD") or os.environ.get("DOMUS_BUILDDIR") or
            os.path.join(SRCDIR, "build"))
QMP_DIR = os.path.join(SRCDIR, "tests", "data", "qmp")
FAKE = os.path.join(BUILDDIR, "tests", "fake", "fake-qemu")
MONITOR_TIMEOUT_S = 2  # domusd's --monitor-timeout for these tests

libvirt.registerErrorHandler(lambda ctx, err: None, None)


def find_domusd():
    for rel in ("src/daemon/domusd", "domusd"):
        path = os.path.join(BUILDDIR, rel)
        if os.access(path, os.X_OK):
            return path
    raise FileNotFoundError("domusd not found under %s; build first" % BUILDDIR)


def load_scenario(name):
    with open(os.path.join(QMP_DIR, name + ".json")) as f:
        return json.load(f)


def scenarios_with(start):
    out = []
    for path in sorted(glob.glob(os.path.join(QMP_DIR, "*.json"))):
        name = os.path.basename(path)[:-5]
        expect = load_scenario(name).get("expect")
        if expect and expect.get("start") == start:
            out.append(name)
    return out


# (scenario, mode) -> (reason, strict) for known domusd bugs; mode None = both. Empty: every
# bug these tests exposed is fixed; a new one is listed here with its cause until it is.
KNOWN_START_BUGS = {}


def start_cases(start):
    """(scenario, mode) pairs for scenario files whose "expect" says START."""
    cases = []
    for scenario in scenarios_with(start):
        for mode in ("define", "create"):
            bug = (KNOWN_START_BUGS.get((scenario, mode)) or
                   KNOWN_START_BUGS.get((scenario, None)))
            marks = [pytest.mark.xfail(strict=bug[1], reason=bug[0])] if bug else []
            cases.append(pytest.param(scenario, mode, marks=marks,
                                      id="%s-%s" % (mode, scenario)))
    return cases


def domain_xml(name, on_poweroff=None, on_crash=None):
    actions = ""
    if on_poweroff:
        actions += "<on_poweroff>%s</on_poweroff>" % on_poweroff
    if on_crash:
        actions += "<on_crash>%s</on_crash>" % on_crash
    return """<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  %s
  <devices>
    <emulator>%s</emulator>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>""" % (name, actions, FAKE)


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def fake_pids(domusd, name):
    """Live fake-qemu processes that DOMUSD started for domain NAME (not the orphaned monitor
    holders some scenarios leave behind)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] == FAKE.encode() and (
                ("guest=%s," % name).encode() in b" ".join(argv)):
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[1]) == domusd.proc.pid:
                pids.append(int(d))
    return pids


class Daemon:
    def __init__(self, conf=None):
        self.root = tempfile.mkdtemp(prefix="dfq", dir="/tmp")
        if conf:
            os.makedirs(os.path.join(self.root, "etc"), exist_ok=True)
            with open(os.path.join(self.root, "etc", "domusd.conf"), "w") as f:
                f.write(conf)
        self.log = os.path.join(self.root, "domusd.log")
        self.sock = os.path.join(self.root, "run", "domus-sock")
        self.uri = "qemu+unix:///system?socket=" + self.sock
        self.spawn()

    def spawn(self):
        with open(self.log, "a") as logf:
            self.proc = subprocess.Popen([find_domusd(), "--root", self.root, "-v", "--no-default-network",
                                          "--monitor-timeout", str(MONITOR_TIMEOUT_S * 1000)],
                                         stdout=logf, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 5,
                 "domusd to listen")
        assert self.proc.poll() is None, "domusd exited at start:\n" + self.log_text()
        self.conn = self.connect()

    def crash_and_restart(self):
        """SIGKILL the daemon (its QEMUs live on) and start it again on the same state."""
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        self.proc.kill()
        self.proc.wait()
        os.unlink(self.sock)
        self.spawn()

    def connect(self):
        return libvirt.open(self.uri)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def virsh(self, *args, timeout=5):
        return subprocess.run(["virsh", "-c", self.uri] + list(args), capture_output=True,
                              text=True, timeout=timeout)

    def leftovers(self, name):
        """Files a stopped domain NAME must not leave in DIR/run/qemu."""
        d = os.path.join(self.root, "run", "qemu")
        if not os.path.isdir(d):
            return []
        return sorted(f for f in os.listdir(d)
                      if f in (name + ".xml", name + ".monitor"))

    def cgroups_left(self, name):
        """The hierarchies that still hold a group for domain NAME (v1 hosts)."""
        parent = "domus-" + os.path.basename(self.root)
        return sorted(c for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio")
                      if os.path.isdir(os.path.join("/sys/fs/cgroup", c, parent, name)))

    def assert_alive(self):
        assert self.proc.poll() is None, "domusd died (exit %s); log:\n%s" % (
            self.proc.returncode, self.log_text()[-3000:])

    def close(self):
        alive = self.proc.poll() is None
        if alive:
            try:
                for dom in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                    try:
                        dom.destroy()
                    except libvirt.libvirtError:
                        pass
            except libvirt.libvirtError:
                pass
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        if alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # domusd leaves guests running when it stops: never leave a fake behind
        for path in glob.glob(os.path.join(self.root, "run", "qemu", "*.xml")):
            try:
                pid = int(ET.parse(path).getroot().get("pid", "0"))
                if pid > 0 and os.readlink("/proc/%d/exe" % pid) == FAKE:
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError, ET.ParseError):
                pass
        return alive


@pytest.fixture
def domusd(request):
    if not os.access(FAKE, os.X_OK):
        raise FileNotFoundError("%s is not built; run ninja -C %s" % (FAKE, BUILDDIR))
    # Connections left by earlier tests (their daemons gone) are closed by the garbage
    # collector whenever it runs: if that is during one of this test's calls, the close's
    # "client socket is closed" becomes the error python-libvirt reports for the call (the
    # thread's last error). Collect them here, outside any call.
    gc.collect()
    d = Daemon()
    yield d
    alive = d.close()
    print("--- domusd log (%s) ---\n%s" % (d.log, d.log_text()[-6000:]))
    assert "BUG: " not in d.log_text(), "an illegal state transition was logged"
    shutil.rmtree(d.root, ignore_errors=True)
    # an expected failure already checked this in its body (teardown errors are not xfail)
    if not request.node.get_closest_marker("xfail"):
        assert alive, "domusd died during the test (crash? see its log above)"


def state(dom):
    return tuple(dom.state())


def start(domusd, name, mode, flags=0, **xml_args):
    """Start NAME as a persistent ('define') or transient ('create') domain."""
    xml = domain_xml(name, **xml_args)
    if mode == "define":
        dom = domusd.conn.defineXML(xml)
        dom.createWithFlags(flags)
        return dom
    return domusd.conn.createXML(xml, flags)


def assert_gone(domusd, name, mode):
    """After a failed start or a stop: shut off (or vanished if transient), nothing left."""
    if mode == "define":
        dom = domusd.conn.lookupByName(name)
        assert state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert not dom.isActive()
    else:
        with pytest.raises(libvirt.libvirtError) as ei:
            domusd.conn.lookupByName(name)
        assert ei.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
        assert name not in [d.name() for d in domusd.conn.listAllDomains()]
    assert domusd.leftovers(name) == []
    wait_for(lambda: not fake_pids(domusd, name), 2, "fake-qemu of '%s' to be gone" % name)
    assert domusd.cgroups_left(name) == []


def virsh_list_names(domusd, *args):
    r = domusd.virsh("list", *args)
    assert r.returncode == 0, r.stderr
    return {line.split()[1]: " ".join(line.split()[2:])
            for line in r.stdout.splitlines()[2:] if line.strip()}


# --- data-driven start scenarios ---------------------------------------------------------

@pytest.mark.parametrize("scenario,mode", start_cases("ok"))
def test_start_scenario_ok(domusd, scenario, mode):
    name = "%s@%s" % (scenario, mode)
    dom = start(domusd, name, mode)
    assert state(dom) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
    assert virsh_list_names(domusd).get(name) == "running"
    assert len(fake_pids(domusd, name)) == 1
    # query-chardev's pty reached the live XML
    live = ET.fromstring(dom.XMLDesc(0))
    pty = live.find("devices/serial/source").get("path")
    assert pty.startswith("/dev/pts/") and os.path.exists(pty), pty
    assert sorted(domusd.leftovers(name)) == [name + ".monitor", name + ".xml"]
    dom.destroy()
    assert_gone(domusd, name, mode)


@pytest.mark.parametrize("scenario,mode", start_cases("fail"))
def test_start_scenario_fails(domusd, scenario, mode):
    expect = load_scenario(scenario)["expect"]
    name = "%s@%s" % (scenario, mode)
    t0 = time.monotonic()
    with pytest.raises(libvirt.libvirtError) as ei:
        start(domusd, name, mode)
    elapsed = time.monotonic() - t0
    time.sleep(0.05)  # a crash right after the reply must not go unnoticed
    domusd.assert_alive()
    msg = ei.value.get_error_message()
    assert elapsed < 5, "start took %.1f s to fail (a timeout, not the fault?)" % elapsed
    assert ("starting '%s'" % name) in msg, msg
    for want in expect["error"]:
        assert want in msg, msg
    assert_gone(domusd, name, mode)
    if mode == "define":
        assert state(domusd.conn.lookupByName(name)) == (
            libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_FAILED)
    # still serving
    assert virsh_list_names(domusd, "--all").get(name) in (None, "shut off")


class Starter(threading.Thread):
    """Runs a start on its own connection and keeps the outcome."""

    def __init__(self, domusd, name, mode):
        super().__init__(daemon=True)
        self.conn = domusd.connect()
        self.xml = domain_xml(name)
        self.mode = mode
        self.name = name
        self.error = None
        self.ok = False

    def run(self):
        try:
            if self.mode == "define":
                self.conn.lookupByName(self.name).create()
            else:
                self.conn.createXML(self.xml, 0)
            self.ok = True
        except libvirt.libvirtError as e:
            self.error = e


def hung_start(domusd, name, mode):
    """Starts NAME in a thread; returns once the start is seen to hang."""
    if mode == "define":
        domusd.conn.defineXML(domain_xml(name))
    st = Starter(domusd, name, mode)
    st.start()
    wait_for(lambda: fake_pids(domusd, name), 3, "fake-qemu to run")
    time.sleep(0.3)
    assert st.is_alive(), "start returned although QEMU withholds its reply: %r" % st.error
    return st


def destroy_hung_start(domusd, st):
    t0 = time.monotonic()
    domusd.conn.lookupByName(st.name).destroy()
    took = time.monotonic() - t0
    st.join(3)
    assert not st.is_alive(), "start still blocked after destroy"
    st.conn.close()
    assert not st.ok and st.error is not None
    return took, st.error.get_error_message()


@pytest.mark.parametrize("scenario,mode", start_cases("hang"))
def test_hung_start_serves_others_and_destroy_cuts_it_short(domusd, scenario, mode):
    name = "%s@%s" % (scenario, mode)
    st = hung_start(domusd, name, mode)
    # the daemon keeps serving other calls, other clients and this one alike
    t0 = time.monotonic()
    listed = virsh_list_names(domusd, "--all")
    assert name in listed, listed
    dom = domusd.conn.lookupByName(name)
    assert dom.isActive()
    dom.info()
    domusd.conn.listAllDomains()
    assert time.monotonic() - t0 < 2, "queries waited behind the stuck start"
    # a second start is refused while the first is in progress
    if mode == "define":
        with pytest.raises(libvirt.libvirtError):
            dom.create()
    took, msg = destroy_hung_start(domusd, st)
    assert took < 3, "destroy took %.1f s" % took
    assert ("starting '%s'" % name) in msg, msg
    assert_gone(domusd, name, mode)


@pytest.mark.parametrize("scenario", ["hang-on-cont-exit-first", "hang-on-cont-eof-first"])
def test_destroyed_start_says_destroy(domusd, scenario):
    name = scenario + "@msg"
    st = hung_start(domusd, name, "create")
    _, msg = destroy_hung_start(domusd, st)
    assert "destroy" in msg, msg


class Pinger(threading.Thread):
    """Calls the daemon every 20 ms on its own connection; keeps the longest wait."""

    def __init__(self, domusd):
        super().__init__(daemon=True)
        self.conn = domusd.connect()
        self.stop = threading.Event()
        self.worst = 0.0

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            self.conn.listAllDomains()
            self.worst = max(self.worst, time.monotonic() - t0)
            time.sleep(0.02)

    def finish(self):
        self.stop.set()
        self.join(5)
        self.conn.close()
        return self.worst


def test_qemu_exit_during_start_does_not_stall_daemon(domusd):
    pinger = Pinger(domusd)
    pinger.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    with pytest.raises(libvirt.libvirtError) as ei:
        domusd.conn.createXML(domain_xml("die-holding-monitor@stall"), 0)
    failed_after = time.monotonic() - t0
    time.sleep(0.1)
    worst = pinger.finish()
    domusd.assert_alive()
    assert "Cannot allocate memory" in ei.value.get_error_message()
    assert worst < 0.5 and failed_after < 0.5, (
        "the daemon stalled: a list call waited %.2f s, the failing start took %.2f s"
        % (worst, failed_after))


@pytest.mark.parametrize("scenario,words", [
    ("hang-on-cont", "did not answer 'cont' within"),
    ("hang-no-greeting", "did not complete its greeting within"),
])
def test_monitor_timeout_fails_start(domusd, scenario, words):
    name = scenario + "@timeout"
    st = Starter(domusd, name, "create")
    st.start()
    st.join(MONITOR_TIMEOUT_S + 6)
    try:
        assert not st.is_alive(), "start still hangs %d s in" % (MONITOR_TIMEOUT_S + 6)
        assert st.error is not None
        msg = st.error.get_error_message()
        assert_gone(domusd, name, "create")
        assert words in msg, msg
    finally:
        if st.is_alive():
            domusd.conn.lookupByName(name).destroy()
            st.join(5)


# --- host-side operations --------------------------------------------------------------

def test_start_paused(domusd):
    name = "ok@paused"
    dom = start(domusd, name, "create", libvirt.VIR_DOMAIN_START_PAUSED)
    assert state(dom) == (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER)
    dom.resume()
    assert state(dom) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_UNPAUSED)
    dom.suspend()
    assert state(dom) == (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER)


def test_destroy_reports_destroyed(domusd):
    name = "ok@destroy"
    dom = start(domusd, name, "define")
    dom.destroy()
    assert state(dom) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED)


@pytest.mark.parametrize("scenario,error", [
    ("close-on-stop", "closed"),
    ("die-on-stop", ""),
])
def test_monitor_lost_mid_job(domusd, scenario, error):
    """QEMU drops the monitor (or dies) while a suspend job waits for its reply."""
    name = scenario + "@job"
    dom = start(domusd, name, "define")
    t0 = time.monotonic()
    with pytest.raises(libvirt.libvirtError) as ei:
        dom.suspend()
    assert time.monotonic() - t0 < 3
    assert error in ei.value.get_error_message()
    wait_for(lambda: not dom.isActive(), 3, "the domain to stop")
    assert state(dom) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED)
    assert_gone(domusd, name, "define")
    # a new start works: the job did not stay behind
    dom2 = start(domusd, "ok@after-" + scenario, "create")
    assert dom2.isActive()


# --- guest-side events -----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["define", "create"])
def test_guest_poweroff_destroy(domusd, mode):
    name = "guest-poweroff@" + mode
    dom = start(domusd, name, mode, on_poweroff="destroy")
    assert dom.isActive()
    if mode == "define":
        wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF, 3, "guest power-off")
        assert state(dom) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
    else:
        wait_for(lambda: name not in [d.name() for d in domusd.conn.listAllDomains()], 3,
                 "the transient domain to vanish")
    assert_gone(domusd, name, mode)


def test_guest_poweroff_restart(domusd):
    name = "guest-poweroff@restart"
    dom = start(domusd, name, "define", on_poweroff="restart")
    pids = fake_pids(domusd, name)
    time.sleep(0.8)  # the script powers off 300 ms after cont, once
    assert state(dom)[0] == libvirt.VIR_DOMAIN_RUNNING
    assert fake_pids(domusd, name) == pids, "QEMU should be reset, not restarted"


def test_acpi_shutdown(domusd):
    name = "acpi-shutdown@off"
    dom = start(domusd, name, "define")
    dom.shutdown()
    wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF, 3, "ACPI shutdown")
    assert state(dom) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
    assert_gone(domusd, name, "define")


def test_acpi_reboot(domusd):
    name = "acpi-shutdown@reboot"
    dom = start(domusd, name, "define")
    pids = fake_pids(domusd, name)
    dom.reboot()
    time.sleep(0.4)  # the guest powers off 100 ms after the button; domusd resets it
    assert state(dom)[0] == libvirt.VIR_DOMAIN_RUNNING
    assert fake_pids(domusd, name) == pids


def test_guest_stop_resume_events(domusd):
    name = "guest-pause-resume@x"
    dom = start(domusd, name, "define")
    dom.reset()  # the script answers, then the guest side stops the VM
    wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_PAUSED, 2, "STOP to pause the domain")
    assert state(dom) == (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_UNKNOWN)
    assert virsh_list_names(domusd).get(name) == "paused"
    dom.reset()  # ... and this time resumes it
    wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_RUNNING, 2, "RESUME to run it")
    assert state(dom) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_UNPAUSED)


def test_hostile_device_events(domusd, loop):
    """Device events with missing, mistyped or unknown fields change nothing and raise no
    event that names a device Domus does not have (the rest of the domain goes on); a
    well-formed I/O error with action stop pauses the guest for it, and the I/O error events
    name no disk when QEMU's node is not one of the domain's."""
    name = "hostile-events@x"
    dom = start(domusd, name, "define")
    seen = []
    ids = [domusd.conn.domainEventRegisterAny(dom, kind, lambda *a, k=kind: seen.append((k,) + a[2:-1]),
                                              None)
           for kind in (libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON,
                        libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE,
                        libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                        libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
                        libvirt.VIR_DOMAIN_EVENT_ID_RTC_CHANGE,
                        libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE)]
    try:
        dom.reset()
        time.sleep(0.5)
        assert state(dom) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
        # only the I/O errors come (naming no disk); no tray, agent, removal, RTC or balloon
        # event for nothing or nonsense
        assert {s[0] for s in seen} == {libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON}, seen
        assert (libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, "", "",
                libvirt.VIR_DOMAIN_EVENT_IO_ERROR_NONE, "") in seen, seen
        dom.reset()
        wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_PAUSED, 2, "the I/O error's pause")
        assert state(dom) == (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_IOERROR)
        assert (libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, "", "",
                libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE, "") in seen, seen
    finally:
        for i in ids:
            domusd.conn.domainEventDeregisterAny(i)


def test_guest_panic_preserve(domusd):
    name = "guest-panic@preserve"
    dom = start(domusd, name, "define", on_crash="preserve")
    wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_CRASHED, 1.5, "GUEST_PANICKED")
    assert state(dom) == (libvirt.VIR_DOMAIN_CRASHED, libvirt.VIR_DOMAIN_CRASHED_PANICKED)
    assert len(fake_pids(domusd, name)) == 1


def test_guest_panic_destroy(domusd):
    name = "guest-panic@destroy"
    dom = start(domusd, name, "define", on_crash="destroy")
    wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF, 3, "the crash to stop it")
    assert_gone(domusd, name, "define")
    assert state(dom) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED)


def process_gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("mode", ["define", "create"])
def test_restart_kills_a_start_in_progress(domusd, mode):
    """A domain caught mid-start by a daemon crash is killed at the next start, not adopted:
    its setup is unknown. The job is in its status file."""
    name = "hang-on-cont@restart-" + mode
    st = hung_start(domusd, name, mode)
    pids = fake_pids(domusd, name)
    assert len(pids) == 1
    status = open(os.path.join(domusd.root, "run", "qemu", name + ".xml")).read()
    assert "<job kind='start'" in status
    domusd.crash_and_restart()
    wait_for(lambda: process_gone(pids[0]), 5, "the half-started QEMU to be killed")
    names = [d.name() for d in domusd.conn.listAllDomains()]
    if mode == "define":
        dom = domusd.conn.lookupByName(name)
        assert not dom.isActive()
    else:
        assert name not in names
    assert domusd.leftovers(name) == []
    assert domusd.cgroups_left(name) == []
    st.join(5)
    assert not st.is_alive() and st.error is not None


def unix_listener_inodes():
    """{path: inode} of every listening unix socket (/proc/net/unix, state 01 LISTEN)."""
    out = {}
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[5] == "01":
                out[fields[7]] = fields[6]
    return out


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def test_chardev_sockets_inherited_at_spawn(domusd):
    """The daemon makes the listening sockets of unix character devices (the guest agent's
    channel, a unix serial port) and QEMU inherits them: bound before QEMU runs, held by
    QEMU only, gone with the domain; and a start that fails before QEMU runs leaves none."""
    serial_path = os.path.join(domusd.root, "serial0.sock")
    xml = domain_xml("ok@fds").replace(
        "<serial type='pty'/>",
        "<serial type='unix'><source mode='bind' path='%s'/></serial>" % serial_path).replace(
        "<console type='pty'/>",
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
    dom = domusd.conn.defineXML(xml)
    dom.create()
    [pid] = fake_pids(domusd, "ok@fds")
    args = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")
    assert b"socket,id=charserial0,fd=4,server=on,wait=off" in args
    assert b"socket,id=charchannel0,fd=5,server=on,wait=off" in args

    import libvirt_qemu
    chardevs = json.loads(libvirt_qemu.qemuMonitorCommand(
        dom, '{"execute":"query-chardev"}', 0))["return"]
    bound = {c["label"]: c["filename"] for c in chardevs}
    channel_path = bound["charchannel0"].split("unix:", 1)[1].split(",", 1)[0]
    assert channel_path.endswith("ok@fds.org.qemu.guest_agent.0")
    assert bound["charserial0"] == "disconnected:unix:%s,server=on" % serial_path

    listening = unix_listener_inodes()
    held = socket_inodes(pid)
    daemon_held = socket_inodes(domusd.proc.pid)
    for path in (serial_path, channel_path):
        assert listening[path] in held, path            # QEMU has it
        assert listening[path] not in daemon_held, path  # the daemon kept no copy
        c = socket.socket(socket.AF_UNIX)
        c.connect(path)                                  # and it takes connections
        c.close()

    dom.destroy()
    assert not os.path.exists(channel_path)

    # a start that fails after the sockets were made, before QEMU ran: nothing left
    dom.undefine()
    bad = xml.replace("<vcpu>1</vcpu>", "<vcpu cpuset='1023'>1</vcpu>")
    dom = domusd.conn.defineXML(bad)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert "cpuset" in e.value.get_error_message()
    assert not os.path.exists(serial_path) and not os.path.exists(channel_path)
    assert fake_pids(domusd, "ok@fds") == []


def domus_cli(domusd, *args):
    domus = os.path.join(os.path.dirname(find_domusd()), "..", "cli", "domus")
    if not os.access(domus, os.X_OK):
        domus = os.path.join(BUILDDIR, "domus")
    return subprocess.run([domus, "-c", "domus:///system?socket=" + domusd.sock] + list(args),
                          capture_output=True, text=True, timeout=30)


def test_domjobinfo_and_domjobabort_like_virsh(domusd):
    """A start in progress is a job: domjobinfo shows it as virsh shows it (our CLI prints the
    same lines), and domjobabort says it cannot be aborted; queries do not wait for it."""
    name = "hang-on-cont@job"
    st = hung_start(domusd, name, "create")
    outs = []
    for run in (domusd.virsh, lambda *a: domus_cli(domusd, *a)):
        r = run("domjobinfo", name)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].split() == ["Job", "type:", "Unbounded"]
        assert lines[1].split() == ["Operation:", "Start"]
        assert lines[2].startswith("Time elapsed:") and lines[2].endswith(" ms")
        # the elapsed time moves on between the two calls
        outs.append([line for line in lines if not line.startswith("Time elapsed:")])
        r = run("domjobinfo", name, "--rawstats")
        assert "operation: 1" in r.stdout and "time_elapsed: " in r.stdout, r.stdout
        r = run("domjobabort", name)
        assert r.returncode != 0
        assert "cannot be aborted" in r.stderr, r.stderr
    assert outs[0] == outs[1]
    destroy_hung_start(domusd, st)
    # no job on a stopped domain: an error, the same one from both
    r1 = domusd.virsh("domjobinfo", name)
    r2 = domus_cli(domusd, "domjobinfo", name)
    assert r1.returncode != 0 and r2.returncode != 0


def test_disk_errors(domusd):
    """domblkerror / virDomainGetDiskErrors: the disks QEMU's query-block reports with an
    io-status other than ok, as libvirt's codes; none on a domain without errors."""
    disks = ""
    for i, target in enumerate(("vda", "vdb", "vdc")):
        path = os.path.join(domusd.root, f"e{i}.img")
        with open(path, "wb") as f:
            f.truncate(1 << 20)
        disks += (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                  f"<source file='{path}'/><target dev='{target}' bus='virtio'/></disk>")
    xml = domain_xml("disk-errors").replace("<serial type='pty'/>", disks + "<serial type='pty'/>")
    dom = domusd.conn.defineXML(xml)
    dom.create()
    try:
        errors = dom.diskErrors()
        assert errors == {"vda": libvirt.VIR_DOMAIN_DISK_ERROR_NO_SPACE,
                          "vdc": libvirt.VIR_DOMAIN_DISK_ERROR_UNSPEC}, errors
        out = domusd.virsh("domblkerror", "disk-errors").stdout
        assert "vda: no space" in out and "vdc: unspecified error" in out, out
        assert domus_cli(domusd, "domblkerror", "disk-errors").stdout == out
        ok = start(domusd, "disk-ok@blkerror", "create")
        assert ok.diskErrors() == {}
        out = domusd.virsh("domblkerror", "disk-ok@blkerror").stdout
        assert "No errors found" in out
        assert domus_cli(domusd, "domblkerror", "disk-ok@blkerror").stdout == out
    finally:
        dom.destroy()
        dom.undefine()


def orphans_of(name):
    """Fake-qemu processes of domain NAME whose parent is gone (a helper QEMU left)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
            fields = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if argv and argv[0] == FAKE.encode() and ("guest=%s," % name).encode() in \
                b" ".join(argv) and fields[0] != "Z" and int(fields[1]) == 1:
            out.append(int(d))
    return out


def test_stop_kills_what_qemu_left_in_its_cgroup(domusd):
    """QEMU exits leaving a child (here one holding the monitor for 3 s): the stop kills what is
    left in the domain's cgroup, as libvirt does, and the group goes with it."""
    if not os.path.exists("/sys/fs/cgroup/cpu/tasks"):
        pytest.skip("needs cgroup v1")
    name = "hang-on-cont-exit-first@left"
    st = hung_start(domusd, name, "create")
    os.kill(fake_pids(domusd, name)[0], signal.SIGTERM)
    st.join(5)
    assert not st.is_alive() and st.error is not None
    wait_for(lambda: not orphans_of(name), 1, "the monitor holder to be killed")
    assert domusd.cgroups_left(name) == []
