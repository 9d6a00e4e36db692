# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remote access over TLS between two test hosts: domusd in a network namespace of its own
listens on tls://10.99.0.1 (its certificate names that address); the client host, another
namespace joined by a veth pair, runs stock virsh, python3-libvirt and domus with
qemu+tls:// / domus+tls:// and a client certificate. A certificate outside the allowed-DN
list, one from another CA and a client without a certificate are refused, and the daemon's
log says why. Bulk data (a volume upload and download) crosses the TLS layer intact."""
import hashlib
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import DOMUS, domain_xml
from netns import Host, NetDaemon, needs_root
from pki import CA

SERVER = "10.99.0.1"
CLIENT = "10.99.0.2"

pytestmark = needs_root


@pytest.fixture(scope="module")
def tls():
    tmp = tempfile.mkdtemp(prefix="dtls", dir="/tmp")
    ca = CA(tmp)
    server_pki = ca.issue(os.path.join(tmp, "server"), "server", "server1", ips=[SERVER])
    good = ca.issue(os.path.join(tmp, "admin"), "client", "admin1")
    other = ca.issue(os.path.join(tmp, "other"), "client", "intruder")
    # a certificate another CA signed, by a client that trusts both CAs (its own certificate
    # must verify at its end, and our server's too)
    stranger = CA(tmp, cn="Another CA").issue(os.path.join(tmp, "stranger"), "client", "admin2")
    nocert = os.path.join(tmp, "nocert")
    os.makedirs(nocert)
    for where, mode in ((stranger, "a"), (nocert, "w")):
        with open(ca.cert) as src, open(os.path.join(where, "cacert.pem"), mode) as dst:
            dst.write(src.read())
    d = NetDaemon(extra_args=["--listen", f"tls://{SERVER}", "--pki", server_pki,
                              "--tls-allowed-dn", "C=GB,O=Domus Test,CN=admin*"])
    client = Host(d.ns, "vtls0")
    d.ns.run("ip", "addr", "add", f"{SERVER}/24", "dev", "vtls0")
    d.ns.run("ip", "link", "set", "vtls0", "up")
    client.ns.run("ip", "addr", "add", f"{CLIENT}/24", "dev", "eth0")
    d.start()
    yield d, client, {"good": good, "other": other, "stranger": stranger, "nocert": nocert}
    client.close()
    d.destroy()
    shutil.rmtree(tmp, ignore_errors=True)


def full_log(d):
    with open(os.path.join(d.root, "domusd.log")) as f:
        return f.read()


def uri(pki, scheme="qemu+tls"):
    return f"{scheme}://{SERVER}/system?pkipath={pki}"


def virsh(client, pki, *args, readonly=False):
    cmd = ["virsh", "-c", uri(pki)] + (["-r"] if readonly else []) + list(args)
    return client.ns.run(*cmd, check=False, timeout=120)


def test_virsh_python_and_domus_over_tls(tls):
    d, client, pki = tls
    xml = os.path.join(d.root, "tls1.xml")
    with open(xml, "w") as f:
        f.write(domain_xml("tls1"))
    for args in (["define", xml], ["start", "tls1"]):
        r = virsh(client, pki["good"], *args)
        assert r.returncode == 0, r.stderr
    r = virsh(client, pki["good"], "list")
    assert "tls1" in r.stdout and "running" in r.stdout
    script = f"""
import libvirt
c = libvirt.open({uri(pki['good'])!r})
dom = c.lookupByName('tls1')
print(dom.isActive(), dom.info()[0] == libvirt.VIR_DOMAIN_RUNNING, c.getURI())
"""
    r = client.ns.run("/usr/bin/python3", "-c", script, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["1", "True"]
    r = client.ns.run(os.path.abspath(DOMUS), "-c", uri(pki["good"], "domus+tls"), "domstate",
                      "tls1", check=False)
    assert r.returncode == 0 and r.stdout.strip() == "running", r.stderr
    # read-only over TLS reads and does not change
    r = virsh(client, pki["good"], "dominfo", "tls1", readonly=True)
    assert r.returncode == 0 and "running" in r.stdout
    r = virsh(client, pki["good"], "destroy", "tls1", readonly=True)
    assert r.returncode != 0 and "read only access prevents" in r.stderr
    for args in (["destroy", "tls1"], ["undefine", "tls1"]):
        assert virsh(client, pki["good"], *args).returncode == 0
    log = full_log(d)
    assert f"listening on tls://{SERVER}:16514" in log
    assert f"TLS connection from 'C=GB,O=Domus Test,CN=admin1'" in log


def test_bulk_data_crosses_tls_intact(tls):
    d, client, pki = tls
    data = os.urandom(6 * 1024 * 1024 + 4321)
    src = os.path.join(d.root, "up.bin")
    dst = os.path.join(d.root, "down.bin")
    with open(src, "wb") as f:
        f.write(data)
    r = virsh(client, pki["good"], "vol-create-as", "default", "tlsvol", str(len(data)),
              "--format", "raw")
    assert r.returncode == 0, r.stderr
    for args in (["vol-upload", "tlsvol", src, "--pool", "default"],
                 ["vol-download", "tlsvol", dst, "--pool", "default"]):
        r = virsh(client, pki["good"], *args)
        assert r.returncode == 0, r.stderr
    with open(dst, "rb") as f:
        got = f.read()
    assert hashlib.sha256(got[:len(data)]).digest() == hashlib.sha256(data).digest()
    assert virsh(client, pki["good"], "vol-delete", "tlsvol", "--pool", "default").returncode == 0


@pytest.mark.parametrize("who,reason", [
    ("other", "the client's distinguished name 'C=GB,O=Domus Test,CN=intruder' is not on the "
              "list of allowed clients"),
    # (GnuTLS's client does not offer a certificate the CAs the server named did not sign)
    ("stranger", "the client sent no certificate signed by a CA we trust"),
    ("nocert", "the client sent no certificate signed by a CA we trust"),
])
def test_refused_clients_and_the_log_says_why(tls, who, reason):
    d, client, pki = tls
    r = virsh(client, pki[who], "list")
    assert r.returncode != 0
    assert "TLS confirmation" in r.stderr or "server verification" in r.stderr, r.stderr
    r = client.ns.run(os.path.abspath(DOMUS), "-c", uri(pki[who], "domus+tls"), "list",
                      check=False)
    assert r.returncode != 0
    assert "server verification (of our certificate or IP address) failed" in r.stderr
    log = full_log(d)
    assert f"client {CLIENT}:" in log and reason in log


def test_clients_check_the_server_name(tls):
    d, client, pki = tls
    # the server's certificate names 10.99.0.1 only: dialled under another name for the same
    # address (a hosts file of the client's own, in a mount namespace), the clients refuse it
    hosts = os.path.join(d.root, "client-hosts")
    with open(hosts, "w") as f:
        f.write(f"127.0.0.1 localhost\n{SERVER} otherhost\n")

    def run_as(*cmd):
        script = f"mount --bind {hosts} /etc/hosts && exec " + " ".join(cmd)
        return client.ns.run("unshare", "-m", "sh", "-c", script, check=False, timeout=120)

    alias = f"otherhost/system?pkipath={pki['good']}"
    r = run_as(os.path.abspath(DOMUS), "-c", f"'domus+tls://{alias}'", "list")
    assert r.returncode != 0
    assert ("the server's certificate 'C=GB,O=Domus Test,CN=server1' does not match the host "
            "name otherhost") in r.stderr
    r = run_as("virsh", "-c", f"'qemu+tls://{alias}'", "list")
    assert r.returncode != 0 and "does not match the hostname otherhost" in r.stderr, r.stderr
    # no_verify=1 (libvirt's switch) skips the server's check; ours still checks the client
    r = run_as(os.path.abspath(DOMUS), "-c", f"'domus+tls://{alias}&no_verify=1'", "list")
    assert r.returncode == 0, r.stderr
