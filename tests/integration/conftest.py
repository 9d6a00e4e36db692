# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures: a real domusd on a private --root, driven by our CLI, stock virsh and
python3-libvirt. Nothing is mocked."""
import gc
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import libvirt
import pytest

TOP = os.environ.get("DOMUS_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("DOMUS_BUILD") or os.path.join(TOP, "build")
DOMUSD = os.path.join(BUILD, "domusd")
DOMUS = os.path.join(BUILD, "domus")

# silence libvirt's default error printing to stderr; tests inspect exceptions
libvirt.registerErrorHandler(lambda ctx, err: None, None)


def domain_xml(name, memory_mib=64, vcpus=1, extra_devices="", extra="", uuid=None,
               virt_type="qemu"):
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"""<domain type='{virt_type}'>
  <name>{name}</name>{uuid_el}
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>{vcpus}</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/><apic/></features>{extra}
  <devices><console type='pty'/>{extra_devices}</devices>
</domain>
"""


def qemu_pid(daemon, name):
    """The pid of running domain NAME's QEMU, from DAEMON's status file."""
    text = open(os.path.join(daemon.root, "run", "qemu", f"{name}.xml")).read()
    return int(re.search(r"pid='(\d+)'", text).group(1))


class Daemon:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="dt", dir="/tmp")
        self.sock = os.path.join(self.root, "run", "domus-sock")
        self.sock_ro = os.path.join(self.root, "run", "domus-sock-ro")
        self.uri = f"qemu+unix:///system?socket={self.sock}"
        self.uri_ro = f"qemu+unix:///system?socket={self.sock_ro}"
        self.domus_uri = f"domus:///system?socket={self.sock}"
        self.proc = None
        self.extra_args = []  # more domusd options (--listen …)
        self.verbose = True  # -v: debug logs

    def start(self, crash_at=None):
        """crash_at: "<job type>:<phase>", where the daemon kills itself (DOMUS_TEST_CRASH_AT)."""
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        log = open(os.path.join(self.root, "domusd.log"), "a")
        env = dict(os.environ)
        env.pop("DOMUS_TEST_CRASH_AT", None)
        if crash_at:
            env["DOMUS_TEST_CRASH_AT"] = crash_at
        self.proc = subprocess.Popen([DOMUSD, "--root", self.root, "--no-default-network"]
                                     + (["-v"] if self.verbose else []) + self.extra_args,
                                     stdout=log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(self.sock) and os.path.exists(self.sock_ro):
                try:
                    libvirt.open(self.uri).close()
                    return
                except libvirt.libvirtError:
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("domusd did not come up:\n" + self.log())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            rc = self.proc.wait(timeout=20)
            if sig == signal.SIGTERM and rc != 0:
                raise AssertionError(f"domusd exited {rc} on SIGTERM:\n{self.log()}")
        self.proc = None
        self.check_log()

    def check_log(self):
        """A sanitizer build reports memory errors in the log: they fail the tests."""
        text = open(os.path.join(self.root, "domusd.log"), errors="replace").read()
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                       "BUG: "):
            if marker in text:
                i = text.index(marker)
                raise AssertionError("domusd: " + text[max(0, i - 200):i + 3000])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            return open(os.path.join(self.root, "domusd.log"), errors="replace").read()[-4000:]
        except OSError:
            return ""

    def guest_pids(self):
        pids = []
        for path in glob.glob(os.path.join(self.root, "run", "qemu", "*.xml")):
            text = open(path).read()
            i = text.find("pid='")
            if i >= 0:
                pids.append(int(text[i + 5:text.index("'", i + 5)]))
        return pids

    def kill_guests(self):
        for pid in self.guest_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def conn(self, readonly=False):
        return libvirt.openReadOnly(self.uri) if readonly else libvirt.open(self.uri)

    def virsh(self, *args, check=True, readonly=False):
        cmd = ["virsh", "-c", self.uri]
        if readonly:
            cmd.append("-r")
        r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"virsh {args} failed: {r.stderr}")
        return r

    def domus(self, *args, check=True, env=None, readonly=False):
        cmd = [DOMUS, "-c", self.domus_uri] + (["-r"] if readonly else [])
        r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120,
                           env=env)
        if check and r.returncode != 0:
            raise AssertionError(f"domus {args} failed: {r.stderr}")
        return r

    def write(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def clean_domains(self):
        if not self.alive():
            return
        c = self.conn()
        for d in c.listAllDomains():
            try:
                if d.isActive():
                    d.destroy()
            except libvirt.libvirtError:
                pass
            try:
                if d.isPersistent():
                    d.undefine()
            except libvirt.libvirtError:
                pass
        c.close()

    def snapshot_config(self):
        """Every file under etc/ with its content: what must not change on bad input."""
        out = {}
        for base, _, files in os.walk(os.path.join(self.root, "etc")):
            for f in files:
                p = os.path.join(base, f)
                out[p] = open(p, "rb").read()
        return out

    def destroy(self):
        try:
            # the daemon stops its guests (and drops their cgroups, then its parent group)
            if self.alive():
                try:
                    self.clean_domains()
                except libvirt.libvirtError:
                    pass
            self.stop()
        finally:
            self.kill_guests()
            self.remove_root()

    def remove_root(self):
        """The cgroups its guests left, then the state directory (kept after a failure)."""
        remove_cgroups(self.root)
        if not FAILED and not os.environ.get("DOMUS_KEEP_TMP"):
            shutil.rmtree(self.root, ignore_errors=True)


def remove_cgroups(root):
    """What a daemon with --root ROOT left in the v1 hierarchies (its guests killed here, not
    by it), deepest groups first."""
    for top in glob.glob(os.path.join("/sys/fs/cgroup", "*", "domus-" + os.path.basename(root))):
        for base, dirs, _ in os.walk(top, topdown=False):
            try:
                os.rmdir(base)
            except OSError:
                pass


@pytest.fixture(scope="module")
def daemon():
    d = Daemon()
    d.start()
    yield d
    d.destroy()


# the tests that failed so far: from the first failure on, daemons leave their state
# directories (logs, QEMU's output) in /tmp for a post-mortem (always with DOMUS_KEEP_TMP=1)
FAILED = []


def pytest_runtest_logreport(report):
    if report.failed:
        FAILED.append(report.nodeid)


def pytest_configure(config):
    config.addinivalue_line("markers", "keep_domains: the module shares domains across tests")


@pytest.fixture(autouse=True)
def _clean(request):
    # stale connections (their daemons gone) are closed here, not by a collection that runs
    # during a call, whose error python-libvirt would then report as the call's
    gc.collect()
    yield
    if "daemon" in request.fixturenames and not request.node.get_closest_marker("keep_domains"):
        d = request.getfixturevalue("daemon")
        d.clean_domains()


_event_loop = []


@pytest.fixture(scope="session")
def loop():
    """libvirt's default event loop, running for the rest of the session: once registered,
    every new connection asks for keepalive, so the loop must keep answering pings."""
    import threading
    if not _event_loop:
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        _event_loop.append(t)
