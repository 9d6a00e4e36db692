# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGKILL of domusd at random points of a start/stop/define storm: after every kill, a new
daemon on the same state must find 0 orphan QEMUs (every QEMU of ours is adopted), 0
duplicate QEMUs (at most one per domain), 0 lost definitions (every define that was answered
and not undone by an answered undefine is there) and 0 corrupt ones (every file parses; no
temporary file stays behind).

The QEMUs are fake-qemu (tests/fake): what is under test is the daemon's bookkeeping of
processes, and the fake starts in a millisecond. DOMUS_STORM sets the number of kills
(default 200); DOMUS_STORM_SEED replays a run."""
import glob
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import libvirt
import pytest

from test_fake_qmp import FAKE, find_domusd, wait_for

KILLS = int(os.environ.get("DOMUS_STORM", "200"))
NAMES = ["ok@s%d" % i for i in range(4)]


def storm_xml(name, uid):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uid}</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>{FAKE}</emulator></devices>
</domain>"""


def live_fakes(uuids):
    """{uuid: [pid, ...]} of running (not zombie) fake QEMUs carrying one of UUIDS."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{d}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if not argv or argv[0] != FAKE.encode() or st == "Z":
            continue
        if b"-uuid" in argv:
            u = argv[argv.index(b"-uuid") + 1].decode()
            if u in uuids:
                out.setdefault(u, []).append(int(d))
    return out


class Storm:
    def __init__(self, seed):
        self.root = tempfile.mkdtemp(prefix="dks", dir="/tmp")
        self.sock = os.path.join(self.root, "run", "domus-sock")
        self.uri = "qemu+unix:///system?socket=" + self.sock
        self.rng = random.Random(seed)
        self.uuids = {n: str(uuidlib.uuid4()) for n in NAMES}
        self.defined = set()  # names whose define was answered (and no undefine since)
        self.maybe = set()    # names with a define or undefine in flight at the kill
        self.proc = None
        self.log = open(os.path.join(self.root, "domusd.log"), "a")

    def spawn(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.spawned_at = time.time()
        self.proc = subprocess.Popen([find_domusd(), "--root", self.root, "-v", "--no-default-network"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 10,
                 "domusd to listen")
        assert self.proc.poll() is None, "domusd exited at start"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def operate(self, stop, names):
        """Random operations on NAMES until the connection dies or STOP is set. Each name
        has one worker, so what was answered last for it is what the daemon did last."""
        try:
            c = libvirt.open(self.uri)
        except libvirt.libvirtError:
            return
        try:
            while not stop.is_set():
                name = self.rng.choice(names)
                op = self.rng.choice(["define", "define", "start", "start", "create",
                                      "destroy", "destroy", "undefine", "suspend"])
                try:
                    if op == "define":
                        self.maybe.add(name)
                        c.defineXML(storm_xml(name, self.uuids[name]))
                        self.defined.add(name)
                        self.maybe.discard(name)
                    elif op == "undefine":
                        self.maybe.add(name)
                        c.lookupByName(name).undefine()
                        self.defined.discard(name)
                        self.maybe.discard(name)
                    elif op == "start":
                        c.lookupByName(name).create()
                    elif op == "create":
                        c.createXML(storm_xml(name, self.uuids[name]), 0)
                    elif op == "destroy":
                        c.lookupByName(name).destroy()
                    elif op == "suspend":
                        c.lookupByName(name).suspend()
                except libvirt.libvirtError as e:
                    if e.get_error_code() in (libvirt.VIR_ERR_SYSTEM_ERROR,
                                              libvirt.VIR_ERR_RPC,
                                              libvirt.VIR_ERR_INTERNAL_ERROR):
                        return  # the daemon is gone
        finally:
            try:
                c.close()
            except libvirt.libvirtError:
                pass

    def check(self, round_no):
        """The invariants, with a fresh daemon on the state the killed one left."""
        problems = []
        etc = os.path.join(self.root, "etc", "qemu")
        # a temporary file the killed daemon left (the fresh one removes them at start; its own
        # writes in flight, which the glob may see, are newer than its start)
        for path in glob.glob(os.path.join(self.root, "**", "*.tmp*"), recursive=True):
            try:
                if os.stat(path).st_mtime < self.spawned_at:
                    problems.append(f"temporary file left: {path}")
            except FileNotFoundError:
                pass
        on_disk = set()
        for path in glob.glob(os.path.join(etc, "*.xml")):
            try:
                on_disk.add(ET.parse(path).getroot().findtext("name"))
            except ET.ParseError as e:
                problems.append(f"corrupt definition {path}: {e}")
        for name in self.defined - self.maybe:
            if name not in on_disk:
                problems.append(f"definition of {name} lost")
        c = libvirt.open(self.uri)
        known = {d.UUIDString(): d for d in c.listAllDomains()}
        status = {}
        for path in glob.glob(os.path.join(self.root, "run", "qemu", "*.xml")):
            root = ET.parse(path).getroot()
            status[root.find("domain").findtext("uuid")] = int(root.get("pid"))
        # processes a restart killed need a moment to go
        deadline = time.monotonic() + 3
        while True:
            fakes = live_fakes(set(self.uuids.values()))
            stray = {u: p for u, p in fakes.items()
                     if len(p) > 1 or u not in known or not known[u].isActive() or
                     status.get(u) != p[0]}
            if not stray or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for u, pids in stray.items():
            problems.append(f"round {round_no}: QEMU pids {pids} of {u}: "
                            f"{'duplicate' if len(pids) > 1 else 'orphan'} "
                            f"(known={u in known}, status pid={status.get(u)})")
        # a domain not running has no cgroup left (v1 hosts: the cpu hierarchy)
        parent = os.path.join("/sys/fs/cgroup/cpu", "domus-" + os.path.basename(self.root))
        running = {d.name() for d in known.values() if d.isActive()}
        for name in NAMES:
            if name not in running and os.path.isdir(os.path.join(parent, name)):
                problems.append(f"round {round_no}: cgroup of {name} left while it is not "
                                "running")
        c.close()
        self.maybe.clear()
        # what exists now is the truth the next round starts from
        self.defined = {n for n in on_disk if n in NAMES}
        return problems

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.kill()
        for pids in live_fakes(set(self.uuids.values())).values():
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def test_sigkill_storm():
    if not os.access(FAKE, os.X_OK):
        pytest.skip("fake-qemu is not built")
    seed = int(os.environ.get("DOMUS_STORM_SEED", str(random.randrange(1 << 30))))
    storm = Storm(seed)
    problems = []
    try:
        storm.spawn()
        for i in range(KILLS):
            stop = threading.Event()
            workers = [threading.Thread(target=storm.operate, args=(stop, NAMES[k::2]))
                       for k in range(2)]
            for w in workers:
                w.start()
            time.sleep(storm.rng.uniform(0.0, 0.04))
            storm.kill()
            stop.set()
            for w in workers:
                w.join(10)
            storm.spawn()
            problems += storm.check(i)
            if len(problems) > 20:
                break
        log = open(os.path.join(storm.root, "domusd.log"), errors="replace").read()
        # what the storm went through, for the record (pytest -s shows it)
        print(f"seed {seed}: {KILLS} kills; starts {log.count(': started, id')}, "
              f"adopted {log.count('reconnected to QEMU')}, "
              f"killed mid-start {log.count('caught mid-start')}, "
              f"gone while down {log.count('its QEMU is gone')}, "
              f"unfinished writes removed {log.count('unfinished write')}")
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "BUG: "):
            if marker in log:
                i = log.index(marker)
                problems.append("domusd: " + log[max(0, i - 300):i + 2000])
    finally:
        storm.cleanup()
    assert not problems, f"seed {seed}:\n" + "\n".join(problems)
