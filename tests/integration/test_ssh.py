# SPDX-License-Identifier: LGPL-2.1-or-later
"""qemu+ssh:// to domusd through stock virsh's and python3-libvirt's own ssh path: the
client runs ssh to the host and netcat there bridges to domusd's unix socket (the URI's
socket= parameter names it). The host is a network namespace with an sshd of the test's own
(its host key, an authorized key, on the namespace's address); the client another namespace
joined by a veth pair. Nothing listens beyond those namespaces."""
import os
import shutil
import subprocess

import pytest

from conftest import domain_xml
from netns import Host, NetDaemon, needs_root

SERVER = "10.99.2.1"
CLIENT = "10.99.2.2"

pytestmark = [needs_root, pytest.mark.skipif(
    not os.path.exists("/usr/sbin/sshd") or shutil.which("nc") is None,
    reason="openssh-server and netcat-openbsd are installed by scripts/setup.sh")]


@pytest.fixture(scope="module")
def ssh_host(tmp_path_factory):
    keys = tmp_path_factory.mktemp("ssh")
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(keys / name)], check=True)
    (keys / "authorized_keys").write_text((keys / "client.pub").read_text())
    os.chmod(keys / "authorized_keys", 0o600)
    (keys / "sshd_config").write_text(f"""Port 22
ListenAddress {SERVER}
HostKey {keys}/host
AuthorizedKeysFile {keys}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile {keys}/sshd.pid
""")
    d = NetDaemon()
    # sshd's privilege separation directory, on a /run of the namespace's own
    d.ns.run("mount", "-t", "tmpfs", "tmpfs", "/run")
    d.ns.run("mkdir", "-p", "/run/sshd")
    client = Host(d.ns, "vssh0")
    d.ns.run("ip", "addr", "add", f"{SERVER}/24", "dev", "vssh0")
    d.ns.run("ip", "link", "set", "vssh0", "up")
    client.ns.run("ip", "addr", "add", f"{CLIENT}/24", "dev", "eth0")
    d.start()
    sshd = d.ns.popen("/usr/sbin/sshd", "-D", "-e", "-f", str(keys / "sshd_config"),
                      stdout=subprocess.DEVNULL, stderr=open(keys / "sshd.log", "w"))
    c = d.conn()
    c.defineXML(domain_xml("ssh1"))
    c.close()
    yield d, client, keys
    sshd.terminate()
    sshd.wait()
    client.close()
    d.destroy()


def uri(d, keys):
    return (f"qemu+ssh://root@{SERVER}/system?socket={d.sock}&keyfile={keys}/client"
            "&no_verify=1")


def test_virsh_and_python_over_ssh(ssh_host):
    d, client, keys = ssh_host
    env = ["env", f"HOME={keys}"]  # ssh's known_hosts and config: the test's own
    r = client.ns.run(*env, "virsh", "-c", uri(d, keys), "list", "--all", check=False,
                      timeout=120)
    assert r.returncode == 0 and "ssh1" in r.stdout, r.stdout + r.stderr + \
        (keys / "sshd.log").read_text()[-2000:]
    r = client.ns.run(*env, "virsh", "-c", uri(d, keys), "start", "ssh1", check=False,
                      timeout=120)
    assert r.returncode == 0, r.stderr
    script = f"""
import libvirt
c = libvirt.open({uri(d, keys)!r})
dom = c.lookupByName('ssh1')
print(dom.isActive(), c.getHostname() != '')
dom.destroy()
"""
    r = client.ns.run(*env, "/usr/bin/python3", "-c", script, check=False, timeout=120)
    assert r.returncode == 0 and r.stdout.split() == ["1", "True"], r.stdout + r.stderr
    # read-only over ssh: the read-only socket, its rules
    ro = (f"qemu+ssh://root@{SERVER}/system?socket={d.sock_ro}&keyfile={keys}/client"
          "&no_verify=1")
    r = client.ns.run(*env, "virsh", "-r", "-c", ro, "start", "ssh1", check=False, timeout=120)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
