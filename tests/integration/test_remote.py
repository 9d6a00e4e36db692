# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remote access over plain TCP (domusd --listen tcp://…), on loopback only: stock virsh and
python3-libvirt with qemu+tcp://, domus with domus+tcp://, read-only connections, the
warning in the log, and --listen values that are refused."""
import os
import socket
import subprocess

import libvirt
import pytest

from conftest import DOMUS, DOMUSD, Daemon, domain_xml


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def remote():
    d = Daemon()
    port = free_port()
    d.extra_args = ["--listen", f"tcp://127.0.0.1:{port}"]
    d.start()
    yield d, f"127.0.0.1:{port}"
    d.destroy()


def test_stock_clients_over_tcp(remote):
    d, where = remote
    uri = f"qemu+tcp://{where}/system"
    c = libvirt.open(uri)
    dom = c.defineXML(domain_xml("tcp1"))
    dom.create()
    assert [x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)] == ["tcp1"]
    out = subprocess.run(["virsh", "-c", uri, "list"], capture_output=True, text=True,
                         timeout=60).stdout
    assert "tcp1" in out and "running" in out
    out = subprocess.run([DOMUS, "-c", f"domus+tcp://{where}/system", "list"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "tcp1" in out.stdout
    # read-only over TCP reads but does not change
    ro = libvirt.openReadOnly(uri)
    assert ro.lookupByName("tcp1").isActive()
    with pytest.raises(libvirt.libvirtError) as e:
        ro.lookupByName("tcp1").destroy()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    dom.destroy()
    dom.undefine()
    c.close()
    log = open(os.path.join(d.root, "domusd.log")).read()
    assert f"listening on tcp://{where} without encryption or authentication" in log


def test_domus_uri_errors(remote):
    _, where = remote
    port = free_port()  # nobody listens there
    r = subprocess.run([DOMUS, "-c", f"domus+tcp://127.0.0.1:{port}/system", "list"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot connect to '127.0.0.1' port" in r.stderr
    r = subprocess.run([DOMUS, "-c", f"domus+tcp://{where}/session", "list"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "unsupported URI" in r.stderr


@pytest.mark.parametrize("value,words", [
    ("tls://127.0.0.1/system", "expected tls://ADDR[:PORT], without a path"),
    ("tcp://127.0.0.1:99999", "port '99999' is not a number from 1 to 65535"),
    ("ftp://127.0.0.1", "expected tcp://ADDR[:PORT] or tls://ADDR[:PORT]"),
    ("tcp://[::1", "IPv6 address goes in brackets"),
])
def test_bad_listen_values(value, words, tmp_path):
    r = subprocess.run([DOMUSD, "--root", str(tmp_path), "--listen", value], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and words in r.stderr, r.stderr
