# SPDX-License-Identifier: LGPL-2.1-or-later
"""The serial console over libvirt's stream protocol: python3-libvirt's streams, `domus
console` and stock `virsh console`, each in a real terminal (a pty), against one booted test
guest that runs a shell on its console. One session at a time unless forced; Ctrl+] detaches."""
import os
import pty
import select
import time

import libvirt
import pytest

import guest
from conftest import DOMUS

pytestmark = pytest.mark.keep_domains

@pytest.fixture(scope="module")
def shell_guest(daemon):
    _, xml = guest.xml(daemon, "cons", extra_cmdline="domus.shell=1", agent=False, pty=True)
    c = daemon.conn()
    d = c.defineXML(xml)
    d.create()
    # wait for the shell through a stream session of our own
    st = c.newStream(0)
    d.openConsole(None, st, 0)
    buf = b""
    deadline = time.time() + 90
    while b"DOMUS-GUEST-READY" not in buf and time.time() < deadline:
        buf += st.recv(4096) or b""
    st.finish()
    assert b"DOMUS-GUEST-READY" in buf
    yield d
    c.close()
    daemon.clean_domains()


def stream_roundtrip(st, text):
    """Types a command, returns output until its answer shows."""
    st.send(f"echo {text}-$((6*7))\n".encode())
    buf = b""
    deadline = time.time() + 20
    while f"{text}-42".encode() not in buf and time.time() < deadline:
        data = st.recv(4096)
        if not data:
            break
        buf += data
    return buf


def test_python_stream(daemon, shell_guest):
    c = daemon.conn()
    d = c.lookupByName("cons")
    st = c.newStream(0)
    d.openConsole(None, st, 0)
    assert b"py-42" in stream_roundtrip(st, "py")
    # a second session is refused...
    st2 = c.newStream(0)
    with pytest.raises(libvirt.libvirtError) as e:
        d.openConsole(None, st2, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "active console session" in str(e.value)
    # ...unless forced: the old one ends with an error
    c2 = daemon.conn()
    st3 = c2.newStream(0)
    c2.lookupByName("cons").openConsole(None, st3, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    with pytest.raises(libvirt.libvirtError) as e:
        while st.recv(4096):
            pass
    assert "taken over" in str(e.value)
    assert b"forced-42" in stream_roundtrip(st3, "forced")
    st3.finish()
    c2.close()
    c.close()


def in_terminal(argv, steps, timeout=30):
    """Runs ARGV in a pty. STEPS: (wait_for_bytes, bytes_to_type) pairs. Returns the output and
    the exit status."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = b""
    deadline = time.time() + timeout
    try:
        for want, typed in steps:
            while want not in out:
                assert time.time() < deadline, f"waited for {want!r}; got {out[-500:]!r}"
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        chunk = os.read(fd, 4096)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        raise AssertionError(f"ended before {want!r}: {out[-500:]!r}")
                    out += chunk
            if typed:
                # clients switch the terminal to raw mode after their banner, which flushes
                # input typed before: give them a moment
                time.sleep(0.3)
                os.write(fd, typed)
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        _, status = os.waitpid(pid, 0)
        return out, os.waitstatus_to_exitcode(status)
    finally:
        os.close(fd)
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.mark.parametrize("tool", ["domus", "virsh"])
def test_console_in_a_terminal(daemon, shell_guest, tool):
    if tool == "domus":
        argv = [DOMUS, "-c", daemon.domus_uri, "console", "cons"]
    else:
        argv = ["virsh", "-c", daemon.uri, "console", "cons"]
    out, rc = in_terminal(argv, [
        (b"Escape character is ^]", b"\n"),
        (b"# ", f"echo {tool}-$((6*7))\n".encode()),
        (f"{tool}-42".encode(), b"\x1d"),
    ])
    assert rc == 0, out
    assert f"{tool}-42".encode() in out
    # detached: the next session gets the console
    c = daemon.conn()
    st = c.newStream(0)
    c.lookupByName("cons").openConsole(None, st, 0)
    st.finish()
    c.close()


def test_console_errors(daemon, shell_guest):
    r = daemon.domus("console", "cons", "--devname", "serial7", check=False)
    assert r.returncode == 1 and "cannot find character device serial7" in r.stderr
    c = daemon.conn()
    d = c.defineXML(shell_guest.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
                    .replace("<name>cons</name>", "<name>cons-off</name>")
                    .replace(f"<uuid>{shell_guest.UUIDString()}</uuid>", ""))
    st = c.newStream(0)
    with pytest.raises(libvirt.libvirtError) as e:
        d.openConsole(None, st, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    d.undefine()
    c.close()


def test_console_ends_when_guest_stops(daemon, shell_guest):
    c = daemon.conn()
    st = c.newStream(0)
    d = c.lookupByName("cons")
    d.openConsole(None, st, 0)
    d.destroy()
    deadline = time.time() + 10
    while time.time() < deadline:
        if not st.recv(4096):
            break
    else:
        raise AssertionError("the console did not end with the guest")
    c.close()
