# SPDX-License-Identifier: LGPL-2.1-or-later
"""Node device events from the kernel's uevents: in a network and mount namespace whose /sys is
its own (so sysfs shows that namespace's interfaces), bridges that come and go are reported to python3-libvirt and virsh as
libvirt reports it: CREATED and DELETED lifecycle events, with a filter on one device honoured."""
import os
import threading
import time

import libvirt
import pytest

from netns import NetDaemon, needs_root

pytestmark = needs_root


@pytest.fixture(scope="module")
def nd():
    d = NetDaemon()
    d.ns.run("mount", "-t", "sysfs", "sysfs", "/sys")
    d.start()
    yield d
    d.destroy()


class Events:
    def __init__(self, uri, name=None):
        libvirt.virEventRegisterDefaultImpl()
        self.conn = libvirt.open(uri)
        self.seen = []
        self.lock = threading.Lock()
        dev = self.conn.nodeDeviceLookupByName(name) if name else None
        self.ids = [
            self.conn.nodeDeviceEventRegisterAny(
                dev, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
                lambda c, d, event, detail, _: self.add(("lifecycle", d.name(), event)), None),
            self.conn.nodeDeviceEventRegisterAny(
                dev, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE,
                lambda c, d, _: self.add(("update", d.name())), None)]
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def add(self, ev):
        with self.lock:
            self.seen.append(ev)

    def loop(self):
        while not self.stop:
            libvirt.virEventRunDefaultImpl()

    def wait_for(self, ev, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if ev in self.seen:
                    return
            time.sleep(0.05)
        raise AssertionError(f"no {ev}; saw {self.seen}")

    def close(self):
        for i in self.ids:
            self.conn.nodeDeviceEventDeregisterAny(i)
        self.stop = True
        self.conn.close()


def test_interfaces_coming_and_going(nd):
    created = libvirt.VIR_NODE_DEVICE_EVENT_CREATED
    deleted = libvirt.VIR_NODE_DEVICE_EVENT_DELETED
    ev = Events(nd.uri)
    try:
        nd.ns.run("ip", "link", "add", "br7", "address", "02:00:00:00:07:01", "type", "bridge")
        ev.wait_for(("lifecycle", "net_br7_02_00_00_00_07_01", created))
        c = libvirt.open(nd.uri)
        xml = c.nodeDeviceLookupByName("net_br7_02_00_00_00_07_01").XMLDesc()
        assert "<interface>br7</interface>" in xml
        # a registration for one device hears of that one only
        only = Events(nd.uri, "net_br7_02_00_00_00_07_01")
        nd.ns.run("ip", "link", "add", "br9", "address", "02:00:00:00:09:01", "type", "bridge")
        ev.wait_for(("lifecycle", "net_br9_02_00_00_00_09_01", created))
        nd.ns.run("ip", "link", "del", "br7")
        ev.wait_for(("lifecycle", "net_br7_02_00_00_00_07_01", deleted))
        only.wait_for(("lifecycle", "net_br7_02_00_00_00_07_01", deleted))
        nd.ns.run("ip", "link", "del", "br9")
        ev.wait_for(("lifecycle", "net_br9_02_00_00_00_09_01", deleted))
        time.sleep(0.5)
        assert only.seen == [("lifecycle", "net_br7_02_00_00_00_07_01", deleted)], only.seen
        only.close()
        c.close()
    finally:
        ev.close()


def test_virsh_and_domus_nodedev_event(nd):
    import subprocess
    from conftest import DOMUS
    args = ["nodedev-event", "--event", "lifecycle", "--loop", "--timeout", "6"]
    theirs = nd.ns.popen("virsh", "-c", nd.uri, *args, stdout=subprocess.PIPE, text=True)
    ours = nd.ns.popen(os.path.abspath(DOMUS), "-c", nd.domus_uri, *args,
                       stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    nd.ns.run("ip", "link", "add", "br8", "address", "02:00:00:00:08:01", "type", "bridge")
    time.sleep(1)
    nd.ns.run("ip", "link", "del", "br8")
    out, _ = theirs.communicate(timeout=30)
    mine, _ = ours.communicate(timeout=30)
    assert ("event 'lifecycle' for node device net_br8_02_00_00_00_08_01: Created" in out), out
    assert "event 'lifecycle' for node device net_br8_02_00_00_00_08_01: Deleted" in out
    assert mine == out


def test_sysfs_read_only_while_someone_listens(nd):
    """With no client registered, the kernel's uevents make the daemon read nothing; a
    registration takes the devices as they are then, so a device made before it is reported
    when it goes, and one made after it when it comes."""
    log = os.path.join(nd.root, "domusd.log")

    def readings():
        return open(log, errors="replace").read().count("node devices read again")

    before = readings()
    nd.ns.run("ip", "link", "add", "br5", "address", "02:00:00:00:05:01", "type", "bridge")
    time.sleep(0.6)  # past the 200 ms a burst settles in
    assert readings() == before
    ev = Events(nd.uri)
    try:
        nd.ns.run("ip", "link", "add", "br6", "address", "02:00:00:00:06:01", "type", "bridge")
        ev.wait_for(("lifecycle", "net_br6_02_00_00_00_06_01",
                     libvirt.VIR_NODE_DEVICE_EVENT_CREATED))
        assert readings() > before
        nd.ns.run("ip", "link", "del", "br5")
        ev.wait_for(("lifecycle", "net_br5_02_00_00_00_05_01",
                     libvirt.VIR_NODE_DEVICE_EVENT_DELETED))
        nd.ns.run("ip", "link", "del", "br6")
        ev.wait_for(("lifecycle", "net_br6_02_00_00_00_06_01",
                     libvirt.VIR_NODE_DEVICE_EVENT_DELETED))
        with ev.lock:
            assert ("lifecycle", "net_br5_02_00_00_00_05_01",
                    libvirt.VIR_NODE_DEVICE_EVENT_CREATED) not in ev.seen
    finally:
        ev.close()
    # the registrations are gone: reading stops again
    time.sleep(0.3)
    after = readings()
    nd.ns.run("ip", "link", "add", "br4", "address", "02:00:00:00:04:01", "type", "bridge")
    time.sleep(0.6)
    nd.ns.run("ip", "link", "del", "br4")
    time.sleep(0.6)
    assert readings() == after
