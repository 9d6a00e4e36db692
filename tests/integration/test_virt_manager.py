# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-manager 4.1, unchanged, under Xvfb against domusd: it connects to qemu:///system
(domusd serves libvirt's socket paths in a mount namespace with a tmpfs over /run, as a host
without libvirtd would have them), opens a running guest's graphical console (VNC, through the
descriptor OPEN_GRAPHICS_FD hands it) without an error, and its window shows the guest's
framebuffer: the screen, read with xwd, holds what `virsh screenshot` of the same guest holds
(the console may scale it: the two are compared block by block). The guest runs QEMU without
a kernel: SeaBIOS's text screen is the picture. Its main window's CPU usage graphs
(getAllDomainStats) show a busy guest's load and a paused guest's flat line."""
import os
import shutil
import subprocess
import time

import libvirt
import pytest

import guest
import images
from conftest import domain_xml
from netns import NetDaemon, needs_root

pytestmark = [needs_root, pytest.mark.skipif(shutil.which("virt-manager") is None or
                                             shutil.which("Xvfb") is None,
                                             reason="virt-manager and Xvfb are installed by "
                                                    "scripts/setup.sh")]


@pytest.fixture(scope="module")
def x_display():
    for n in range(70, 100):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            break
    xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x1024x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not os.path.exists(f"/tmp/.X11-unix/X{n}") and time.time() < deadline:
        time.sleep(0.1)
    yield f":{n}"
    xvfb.terminate()
    xvfb.wait()


@pytest.fixture(scope="module")
def host():
    d = NetDaemon(extra_args=["--libvirt-paths"])
    d.ns.run("mount", "-t", "tmpfs", "tmpfs", "/run")
    d.start()
    c = d.conn()
    dom = c.defineXML(domain_xml("vmm1", extra_devices="<graphics type='vnc' autoport='yes'/>"))
    dom.create()
    c.close()
    yield d
    d.destroy()


def _virt_manager(host, x_display, tmp_path, *args):
    home = tmp_path / "home"
    home.mkdir()
    log_path = tmp_path / "virt-manager.log"
    env = [f"DISPLAY={x_display}", f"HOME={home}", "GSETTINGS_BACKEND=memory",
           "NO_AT_BRIDGE=1"]
    with open(log_path, "w") as log:
        vmm = host.ns.popen("env", *env, "virt-manager", "--no-fork", "--debug", "--connect",
                            "qemu:///system", *args, stdout=log, stderr=subprocess.STDOUT)
    return vmm, log_path


def grab(x_display):
    """The X screen as xwd dumps it. X_GetImage of the root fails (BadMatch) when a client
    resizes the screen meanwhile, as the viewers do while they set up: tried again then."""
    for attempt in range(5):
        r = subprocess.run(["xwd", "-root", "-silent", "-display", x_display],
                           capture_output=True)
        if r.returncode == 0:
            return r.stdout
        time.sleep(0.2)
    raise AssertionError(f"xwd failed 5 times: {r.stderr.decode(errors='replace')}")


def test_console_shows_the_guest_framebuffer(host, x_display, tmp_path):
    vmm, log_path = _virt_manager(host, x_display, tmp_path, "--show-domain-console", "vmm1")
    try:
        deadline = time.time() + 90
        while "Viewer connected cb" not in log_path.read_text():
            assert time.time() < deadline and vmm.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(3)  # the first frames
        shot = tmp_path / "guest.png"
        host.virsh("screenshot", "vmm1", str(shot))
        xwd = grab(x_display)
    finally:
        vmm.terminate()
        vmm.wait(timeout=30)
    text = log_path.read_text()
    assert "ERROR" not in text and "Traceback" not in text, text[-3000:]
    # virt-manager sees a local connection (no transport): the console comes as a descriptor
    assert "trans= connhost=127.0.0.1" in text
    guest = images.read_png(shot.read_bytes())
    screen = images.read_xwd(xwd)
    gbox = images.text_box(guest)
    assert gbox, "the guest's screen is blank"
    # the console sits below virt-manager's menu and toolbar
    sbox = images.text_box(screen, 0, 80, screen[0], screen[1])
    assert sbox, "nothing of the guest on the screen"
    a = images.block_means(guest, gbox, 24, 8)
    b = images.block_means(screen, sbox, 24, 8)
    assert images.correlation(a, b) > 0.9, (gbox, sbox)


def test_cpu_graphs(host, x_display, tmp_path):
    """The manager window's list: a guest that keeps its vCPU busy (the test guest copying
    memory in a loop) draws a graph that climbs; a paused one stays on its base line."""
    c = host.conn()
    _, xml = guest.xml(host, "busy", extra_cmdline="domus.fill=8 domus.dirty=4")
    busy = c.createXML(xml, 0)
    still = c.createXML(domain_xml("still"), libvirt.VIR_DOMAIN_START_PAUSED)
    vmm, log_path = _virt_manager(host, x_display, tmp_path)
    heights = []
    try:
        # virt-manager samples every 3 s; the graph grows from the right
        deadline = time.time() + 90
        while time.time() < deadline and vmm.poll() is None:
            time.sleep(1)
            screen = images.read_xwd(grab(x_display))
            heights = images.sparkline_heights(screen)
            if len(heights) == 3 and heights[0] >= 0.3:
                break
    finally:
        vmm.terminate()
        vmm.wait(timeout=30)
        busy.destroy()
        still.destroy()
        c.close()
    text = log_path.read_text()
    assert "ERROR" not in text and "Traceback" not in text, text[-3000:]
    assert "getAllDomainStats" not in text, text[-3000:]  # only its errors are logged
    # sorted by name: busy, still, vmm1
    assert len(heights) == 3 and heights[0] >= 0.3, heights
    assert heights[1] <= 0.15, heights


@pytest.mark.skipif(shutil.which("virt-viewer") is None, reason="virt-viewer not installed")
def test_virt_viewer_attach(host, x_display, tmp_path):
    """virt-viewer --attach: the display through the daemon's descriptor (virDomainOpenGraphics
    FD), never a TCP connection of its own."""
    log_path = tmp_path / "virt-viewer.log"
    with open(log_path, "w") as log:
        viewer = host.ns.popen("env", f"DISPLAY={x_display}", f"HOME={tmp_path}",
                               "GSETTINGS_BACKEND=memory", "NO_AT_BRIDGE=1", "virt-viewer",
                               "--debug", "--attach", "-c", "qemu:///system", "vmm1",
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            time.sleep(0.5)
            assert time.time() < deadline and viewer.poll() is None, log_path.read_text()[-3000:]
            screen = images.read_xwd(grab(x_display))
            # virt-viewer's menu bar is on top; the guest's text below it (bright on black)
            sbox = images.bright_box(screen, 0, 40, screen[0], screen[1])
            if sbox and sbox[2] - sbox[0] > 200 and "display" in log_path.read_text().lower():
                time.sleep(2)
                screen = images.read_xwd(grab(x_display))
                sbox = images.text_box(screen, 0, 40, screen[0], screen[1])
                break
        shot = tmp_path / "guest.png"
        host.virsh("screenshot", "vmm1", str(shot))
    finally:
        viewer.terminate()
        viewer.wait(timeout=30)
    text = log_path.read_text()
    assert "After open connection callback fd=" in text, text[-3000:]
    assert "Unable to connect" not in text and "Failed" not in text, text[-3000:]
    guest = images.read_png(shot.read_bytes())
    gbox = images.text_box(guest)
    a = images.block_means(guest, gbox, 24, 8)
    b = images.block_means(screen, sbox, 24, 8)
    assert images.correlation(a, b) > 0.9, (gbox, sbox)
