# SPDX-License-Identifier: LGPL-2.1-or-later
"""A guest's screen and keyboard: VNC graphics with the video device libvirt adds for them,
vncdisplay / domdisplay, screenshots (virsh, python's dom.screenshot, domus), NMIs and keys
that the real test guest sees (the kernel's NMI message; Alt+SysRq+B reboots it). One booted
guest serves the whole module; the error cases need none."""
import os
import socket
import subprocess
import struct
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

import guest
from conftest import domain_xml

E = libvirt
pytestmark = pytest.mark.keep_domains


@pytest.fixture(scope="module")
def booted(daemon):
    log, xml = guest.xml(daemon, "scr", agent=False)
    xml = xml.replace("<panic model='isa'/>",
                      "<panic model='isa'/><graphics type='vnc' autoport='yes'/>")
    dom = daemon.conn().defineXML(xml)
    dom.create()
    guest.wait(lambda: guest.count(log) >= 1, 180, "the guest's ready marker")
    yield dom, log
    dom.destroy()
    dom.undefine()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


def test_graphics_bring_a_video_device_and_a_vnc_server(daemon, booted):
    dom, _ = booted
    root = ET.fromstring(dom.XMLDesc(0))
    g = root.find("devices/graphics")
    assert g.get("listen") == "127.0.0.1" and g.find("listen").get("address") == "127.0.0.1"
    port = int(g.get("port"))
    assert port >= 5900
    assert root.find("devices/video/model").get("type") == "cirrus"
    # the VNC server answers on loopback with its protocol version
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        assert s.recv(12).startswith(b"RFB 003.")
    want = f"127.0.0.1:{port - 5900}\n\n"
    assert daemon.virsh("vncdisplay", "scr").stdout == want
    assert daemon.domus("vncdisplay", "scr").stdout == want
    for args in (["domdisplay", "scr"], ["domdisplay", "scr", "--all"],
                 ["domdisplay", "scr", "--type", "spice"], ["vncdisplay", "nosuch"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    assert daemon.domus("domdisplay", "scr").stdout == f"vnc://127.0.0.1:{port - 5900}\n"


def test_open_graphics_fd(daemon, booted):
    """virt-manager's way to the console of a local guest: a socket already connected to
    QEMU's VNC server, passed over the unix connection."""
    c = daemon.conn()
    dom = c.lookupByName("scr")
    for flags in (0, E.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH):
        fd = dom.openGraphicsFD(0, flags)
        try:
            os.set_blocking(fd, True)
            s = socket.socket(fileno=os.dup(fd))
            s.settimeout(10)
            assert s.recv(12).startswith(b"RFB 003.")
            s.close()
        finally:
            os.close(fd)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.openGraphicsFD(1, 0)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    assert "has no graphics display 1" in str(e.value)
    c.close()


def test_screenshots(daemon, booted, tmp_path):
    dom, _ = booted
    path = str(tmp_path / "virsh.png")
    r = daemon.virsh("screenshot", "scr", "--file", path)
    assert r.stdout == f"Screenshot saved to {path}, with type of image/png\n"
    size = png_size(open(path, "rb").read())
    assert size[0] >= 640 and size[1] >= 400  # the VGA text console
    mine = str(tmp_path / "domus.png")
    r = daemon.domus("screenshot", "scr", "--file", mine)
    assert r.stdout == f"Screenshot saved to {mine}, with type of image/png\n"
    assert png_size(open(mine, "rb").read()) == size
    # python's dom.screenshot(stream, 0): the mime, then the image on the stream
    c = daemon.conn()
    st = c.newStream(0)
    mime = c.lookupByName("scr").screenshot(st, 0, 0)
    chunks = []
    st.recvAll(lambda s, data, acc: acc.append(data), chunks)
    st.finish()
    assert mime == "image/png"
    assert png_size(b"".join(chunks)) == size
    # a screen the guest does not have
    with pytest.raises(libvirt.libvirtError) as e:
        c.lookupByName("scr").screenshot(c.newStream(0), 3, 0)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    assert "has no screen 3" in str(e.value)
    c.close()
    # the default name: DOMAIN-TIMESTAMP.png in the current directory
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = daemon.domus("screenshot", "scr")
    finally:
        os.chdir(cwd)
    name = r.stdout.split("Screenshot saved to ")[1].split(",")[0]
    assert name.startswith("scr-") and name.endswith(".png")
    assert png_size(open(tmp_path / name, "rb").read()) == size


def test_nmi_reaches_the_guest(daemon, booted):
    dom, log = booted
    before = guest.count(log, "NMI received")
    assert daemon.domus("inject-nmi", "scr").stdout == "\n"
    guest.wait(lambda: guest.count(log, "NMI received") > before, 60, "the guest's NMI message")
    dom.injectNMI(0)
    guest.wait(lambda: guest.count(log, "NMI received") > before + 1, 60, "a second NMI")


def test_keys_reach_the_guest(daemon, booted):
    dom, log = booted
    # Alt+SysRq+B: the guest's kernel reboots at once
    boots = guest.count(log)
    daemon.virsh("send-key", "scr", "KEY_LEFTALT", "KEY_SYSRQ", "KEY_B")
    guest.wait(lambda: guest.count(log) > boots, 180, "the reboot Alt+SysRq+B asks for")
    # the same keys through domus, as qnum scancodes
    boots = guest.count(log)
    assert daemon.domus("send-key", "scr", "--codeset", "qnum", "0x38", "0x54", "0x30",
                        "--holdtime", "200").stdout == "\n"
    guest.wait(lambda: guest.count(log) > boots, 180, "the second reboot")
    # what the daemon cannot translate is refused before anything is pressed
    with pytest.raises(libvirt.libvirtError) as e:
        dom.sendKey(E.VIR_KEYCODE_SET_USB, 0, [4], 1, 0)
    assert e.value.get_error_code() == E.VIR_ERR_ARGUMENT_UNSUPPORTED
    with pytest.raises(libvirt.libvirtError) as e:
        dom.sendKey(E.VIR_KEYCODE_SET_LINUX, 0, [500], 1, 0)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    assert "keycode 500 of set 'linux'" in str(e.value)
    for args in (["send-key", "scr", "--codeset", "nope", "1"], ["send-key", "scr", "KEY_NOPE"],
                 ["send-key", "scr"] + ["1"] * 17):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args


def test_refused_without_a_running_guest_or_a_screen(daemon):
    c = daemon.conn()
    off = c.defineXML(domain_xml("dispoff"))
    for call in (lambda: off.injectNMI(0),
                 lambda: off.sendKey(0, 0, [30], 1, 0),
                 lambda: off.openGraphicsFD(0, 0),
                 lambda: off.screenshot(c.newStream(0), 0, 0)):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
        assert "is not running" in str(e.value)
    # running, but with no video device: nothing to take a picture of
    off.create()
    with pytest.raises(libvirt.libvirtError) as e:
        off.screenshot(c.newStream(0), 0, 0)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID
    assert "no screen to take a screenshot of" in str(e.value)
    r = daemon.virsh("vncdisplay", "dispoff", check=False)
    m = daemon.domus("vncdisplay", "dispoff", check=False)
    assert (m.stdout, m.stderr, m.returncode) == (r.stdout, r.stderr, r.returncode)
    # read-only connections may not press keys or look at the screen
    ro = daemon.conn(readonly=True)
    for call in (lambda d: d.injectNMI(0), lambda d: d.sendKey(0, 0, [30], 1, 0),
                 lambda d: d.screenshot(ro.newStream(0), 0, 0),
                 lambda d: d.openGraphicsFD(0, 0)):
        with pytest.raises(libvirt.libvirtError) as e:
            call(ro.lookupByName("dispoff"))
        assert e.value.get_error_code() == E.VIR_ERR_OPERATION_DENIED
    ro.close()
    off.destroy()
    off.undefine()
    c.close()


def vnc_auth(port, password):
    """Authenticates to the VNC server at PORT with VNC's DES challenge (openssl does the DES,
    as VNC keys it: the password's bytes bit-reversed). True when the server accepts."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.recv(12)
        s.sendall(b"RFB 003.008\n")
        n = s.recv(1)[0]
        types = s.recv(n)
        assert 2 in types, types  # VNC authentication
        s.sendall(b"\x02")
        challenge = b""
        while len(challenge) < 16:
            challenge += s.recv(16 - len(challenge))
        key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
        r = subprocess.run(["openssl", "enc", "-des-ecb", "-nopad", "-K", key.hex(),
                            "-provider", "legacy", "-provider", "default"], input=challenge,
                           capture_output=True, check=True)
        s.sendall(r.stdout)
        return struct.unpack(">I", s.recv(4))[0] == 0


def test_vnc_password_changes_through_update_device(daemon):
    """virt-manager's way to change a running guest's VNC password: update-device with the
    <graphics> element, as libvirt takes it (only the password may change)."""
    c = daemon.conn()
    dom = c.defineXML(domain_xml("vncpw", extra_devices="<graphics type='vnc' autoport='yes' "
                                                        "passwd='first1'/>"))
    dom.create()
    try:
        live = ET.fromstring(dom.XMLDesc(0)).find("devices/graphics")
        port = int(live.get("port"))
        assert vnc_auth(port, "first1") and not vnc_auth(port, "second2")

        def graphics(**attrs):
            g = ET.fromstring(dom.XMLDesc(E.VIR_DOMAIN_XML_SECURE)).find("devices/graphics")
            for k, v in attrs.items():
                g.set(k, v)
            return ET.tostring(g).decode()

        dom.updateDeviceFlags(graphics(passwd="second2"), E.VIR_DOMAIN_AFFECT_LIVE)
        assert vnc_auth(port, "second2") and not vnc_auth(port, "first1")
        secure = E.VIR_DOMAIN_XML_SECURE
        assert "passwd='second2'" in dom.XMLDesc(secure)
        assert "passwd='first1'" in dom.XMLDesc(secure | E.VIR_DOMAIN_XML_INACTIVE)
        # live and config: the next start has it too
        dom.updateDeviceFlags(graphics(passwd="third33"),
                              E.VIR_DOMAIN_AFFECT_LIVE | E.VIR_DOMAIN_AFFECT_CONFIG)
        assert vnc_auth(port, "third33")
        assert "passwd='third33'" in dom.XMLDesc(secure | E.VIR_DOMAIN_XML_INACTIVE)
        # what may not change, and nothing changed by the refusal
        for attrs, what in (({"autoport": "no", "port": "5999"}, "port settings"),
                            ({"keymap": "de"}, "keymap setting")):
            with pytest.raises(libvirt.libvirtError) as e:
                dom.updateDeviceFlags(graphics(passwd="nope", **attrs), E.VIR_DOMAIN_AFFECT_LIVE)
            assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
            assert f"cannot change {what} on vnc graphics" in str(e.value)
        assert vnc_auth(port, "third33")
        # virsh update-device takes the same element from a file
        path = os.path.join(daemon.root, "vncpw-graphics.xml")
        with open(path, "w") as f:
            f.write(graphics(passwd="fourth4"))
        daemon.virsh("update-device", "vncpw", path, "--live")
        assert vnc_auth(port, "fourth4")
    finally:
        dom.destroy()
    # a guest started without a VNC password cannot be given one live (QEMU's VNC server runs
    # without password authentication), as with libvirt
    nopw = c.defineXML(domain_xml("vncnopw", extra_devices="<graphics type='vnc'/>"))
    nopw.create()
    try:
        g = ET.fromstring(nopw.XMLDesc(0)).find("devices/graphics")
        g.set("passwd", "x1")
        with pytest.raises(libvirt.libvirtError):
            nopw.updateDeviceFlags(ET.tostring(g).decode(), E.VIR_DOMAIN_AFFECT_LIVE)
    finally:
        nopw.destroy()
        nopw.undefine()
        dom.undefine()
        c.close()


def spice_hello(sock):
    """Sends a SPICE link header (magic REDQ, protocol 2.2) and returns what the server
    answers first: its own header starts with the same magic."""
    sock.sendall(b"REDQ" + struct.pack("<III", 2, 2, 0))
    return sock.recv(16)


def test_spice_graphics(daemon):
    """<graphics type='spice'>, which Debian's QEMU has: a port of its own for each guest
    (QEMU's SPICE server takes the one it is given), QXL video as libvirt adds it, the
    display URI as virsh prints it, a local client's descriptor, screenshots, and the
    password through update-device."""
    c = daemon.conn()
    doms = []
    try:
        for name, extra in (("spice1", "<graphics type='spice' autoport='yes'>"
                                       "<image compression='off'/></graphics>"),
                            ("spice2", "<graphics type='spice' autoport='yes' passwd='one1'/>")):
            dom = c.defineXML(domain_xml(name, extra_devices=extra))
            doms.append(dom)
            dom.create()
        ports = []
        for dom in doms:
            root = ET.fromstring(dom.XMLDesc(0))
            g = root.find("devices/graphics")
            assert g.get("type") == "spice" and g.get("listen") == "127.0.0.1"
            ports.append(int(g.get("port")))
            assert root.find("devices/video/model").get("type") == "qxl"
            with socket.create_connection(("127.0.0.1", ports[-1]), timeout=10) as s:
                assert spice_hello(s)[:4] == b"REDQ"
        assert ports[0] != ports[1] and min(ports) >= 5900
        assert "<image compression='off'/>" in doms[0].XMLDesc(0)
        for args in (["domdisplay", "spice1"], ["domdisplay", "spice1", "--type", "spice"],
                     ["domdisplay", "spice2"], ["domdisplay", "spice2", "--include-password"],
                     ["vncdisplay", "spice1"]):
            v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
            assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
        assert daemon.domus("domdisplay", "spice1").stdout == f"spice://127.0.0.1:{ports[0]}\n"
        # the descriptor virt-manager asks for: a SPICE server at the other end
        fd = doms[0].openGraphicsFD(0, 0)
        try:
            os.set_blocking(fd, True)
            s = socket.socket(fileno=os.dup(fd))
            s.settimeout(10)
            assert spice_hello(s)[:4] == b"REDQ"
            s.close()
        finally:
            os.close(fd)
        st = c.newStream(0)
        assert doms[0].screenshot(st, 0, 0) == "image/png"
        data = b""
        while True:
            chunk = st.recv(65536)
            if not chunk:
                break
            data += chunk
        st.finish()
        assert png_size(data)[0] >= 640
        # the password of the second (started with one, so tickets are on)
        g = ET.fromstring(doms[1].XMLDesc(E.VIR_DOMAIN_XML_SECURE)).find("devices/graphics")
        g.set("passwd", "two2")
        doms[1].updateDeviceFlags(ET.tostring(g).decode(), E.VIR_DOMAIN_AFFECT_LIVE)
        assert "passwd='two2'" in doms[1].XMLDesc(E.VIR_DOMAIN_XML_SECURE)
        # stopped and started again, a guest may get another port: the definition keeps none
        inactive = ET.fromstring(doms[0].XMLDesc(E.VIR_DOMAIN_XML_INACTIVE))
        assert inactive.find("devices/graphics").get("port") == "-1"
    finally:
        for dom in doms:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        c.close()


def test_open_graphics_with_the_clients_socket(daemon):
    """virDomainOpenGraphics: the client passes a socket of its own with the call
    (CALL_WITH_FDS); QEMU's display gets it as a client."""
    c = daemon.conn()
    dom = c.createXML(domain_xml("ogfd", extra_devices="<graphics type='vnc'/>"), 0)
    try:
        for flags in (0, E.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH):
            ours, theirs = socket.socketpair()
            dom.openGraphics(0, theirs.fileno(), flags)
            theirs.close()
            ours.settimeout(10)
            assert ours.recv(12).startswith(b"RFB 003.")
            ours.close()
        ours, theirs = socket.socketpair()
        with pytest.raises(libvirt.libvirtError) as e:
            dom.openGraphics(1, theirs.fileno(), 0)
        assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
        assert "has no graphics display 1" in str(e.value)
    finally:
        dom.destroy()
        c.close()


def daemon_fds(daemon):
    return len(os.listdir(f"/proc/{daemon.proc.pid}/fd"))


def closed_by_daemon(r):
    try:
        return r.recv_frame() is None
    except ConnectionResetError:
        return True


def test_hostile_descriptor_traffic(daemon):
    """What a client may do with descriptors on the (world-writable read-only) socket: calls
    that announce more than libvirt's 32, descriptors with no call, or a count the descriptors
    never follow, end that connection or wait; none leaks a descriptor in the daemon or stops
    it answering."""
    from rpc import Raw, frame, xdr_u32
    before = daemon_fds(daemon)
    # 33 announced: the connection is closed
    r = Raw(daemon.sock_ro)
    r.open(readonly=True)
    r.send(frame(249, 99, xdr_u32(33) + b"\0" * 40, typ=4))
    assert closed_by_daemon(r)
    r.close()
    # descriptors sent bare, far more than a call may carry: cut off, all of them closed
    r = Raw(daemon.sock_ro)
    r.open(readonly=True)
    spare = [os.open("/dev/null", os.O_RDONLY) for _ in range(40)]
    try:
        for fd in spare:
            socket.send_fds(r.s, [b"\0"], [fd])
    except OSError:
        pass  # the daemon may have closed it already
    for fd in spare:
        os.close(fd)
    assert closed_by_daemon(r)
    r.close()
    # a count the descriptors never follow: the call waits; the client's going releases it
    r = Raw(daemon.sock_ro)
    r.open(readonly=True)
    r.send(frame(249, 7, xdr_u32(1) + b"\0" * 40, typ=4))
    r.close()
    deadline = time.time() + 10
    while daemon_fds(daemon) > before and time.time() < deadline:
        time.sleep(0.1)
    assert daemon_fds(daemon) <= before
    assert daemon.conn().getHostname()
