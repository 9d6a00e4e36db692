# SPDX-License-Identifier: LGPL-2.1-or-later
"""Network namespaces for tests: a domusd whose bridges, taps, firewall tables and dnsmasq
live in a network and mount namespace of its own (held by a sleeping process, so that the
daemon can be killed and started again in it), and small 'hosts' (namespaces joined to it by
veth pairs) that stand for guests and for the outside world. Nothing here touches the
machine's own network: every address used is in the namespaces."""
import ctypes
import os
import signal
import subprocess
import time

import libvirt
import pytest

from conftest import DOMUSD, Daemon

def _netns_missing():
    """Why this machine cannot run the network tests, or None."""
    if os.geteuid() != 0:
        return "network namespaces, bridges and taps need root"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun: taps cannot be made"
    r = subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot make network namespaces: {r.stderr.strip()}"
    return None


_MISSING = _netns_missing()
needs_root = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


class Namespace:
    """A network (and mount) namespace kept alive by a sleeping process."""

    def __init__(self, mount=True, hostname=None):
        flags = ["-n", "-m"] if mount else ["-n"]
        if hostname:
            flags.append("-u")
        self.holder = subprocess.Popen(["unshare"] + flags + ["sleep", "infinity"],
                                       stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        own = os.readlink("/proc/self/ns/net")
        while time.time() < deadline:
            try:
                if os.readlink(f"/proc/{self.holder.pid}/ns/net") != own:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        self.mount = mount
        self.uts = bool(hostname)
        self.run("ip", "link", "set", "lo", "up")
        if hostname:
            self.run("hostname", hostname)

    @property
    def pid(self):
        return self.holder.pid

    def prefix(self):
        return (["nsenter", "-t", str(self.pid), "-n"] + (["-m"] if self.mount else []) +
                (["-u"] if self.uts else []))

    def run(self, *cmd, check=True, timeout=60):
        r = subprocess.run(self.prefix() + list(cmd), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{cmd} in namespace failed: {r.stdout}{r.stderr}")
        return r

    def popen(self, *cmd, **kw):
        return subprocess.Popen(self.prefix() + list(cmd), **kw)

    def links(self):
        out = self.run("ip", "-o", "link", "show").stdout
        return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]

    def addresses(self, dev):
        out = self.run("ip", "-o", "addr", "show", "dev", dev, check=False).stdout
        return [line.split()[3] for line in out.splitlines()]

    def nft_ruleset(self):
        """The namespace's nftables ruleset."""
        return self.nft("list ruleset")

    def nft(self, command):
        """Runs an nftables COMMAND in the namespace through libnftables (there is no nft
        binary) and returns its output."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                fd = os.open(f"/proc/{self.pid}/ns/net", os.O_RDONLY)
                libc = ctypes.CDLL("libc.so.6", use_errno=True)
                if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
                    os._exit(2)
                nft = ctypes.CDLL("libnftables.so.1")
                nft.nft_ctx_new.restype = ctypes.c_void_p
                nft.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
                nft.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
                nft.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
                nft.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
                ctx = nft.nft_ctx_new(0)
                nft.nft_ctx_buffer_output(ctx)
                nft.nft_run_cmd_from_buffer(ctx, command.encode())
                os.write(w, nft.nft_ctx_get_output_buffer(ctx) or b"")
            finally:
                os._exit(0)
        os.close(w)
        out = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            out += chunk
        os.close(r)
        os.waitpid(pid, 0)
        return out.decode()

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()


class NetDaemon(Daemon):
    """domusd in a namespace of its own. DEFAULT_NETWORK: let it define 'default'."""

    def __init__(self, default_network=False, extra_args=(), hostname=None):
        super().__init__()
        self.ns = Namespace(hostname=hostname)
        self.default_network = default_network
        self.extra_args = list(extra_args)

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        log = open(os.path.join(self.root, "domusd.log"), "a")
        # nsenter -m leaves the working directory: the path must be absolute
        args = [os.path.abspath(DOMUSD), "--root", self.root, "-v"] + self.extra_args
        if not self.default_network:
            args.append("--no-default-network")
        self.proc = self.ns.popen(*args, stdout=log, stderr=subprocess.STDOUT)
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

    def dnsmasq_pids(self):
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"dnsmasq") and any(
                    a.startswith(b"--conf-file=" + self.root.encode()) for a in cmd):
                pids.append(int(pid))
        return pids

    def destroy(self):
        try:
            if self.alive():
                self.stop()
        finally:
            # a failed stop (a sanitizer's report) must not leave QEMU or dnsmasq behind
            for pid in self.dnsmasq_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.kill_guests()
            self.ns.close()
            self.remove_root()


class Host:
    """A namespace joined to the daemon's by a veth pair: one end (OUTER) in the daemon's
    namespace, the other (eth0) here."""

    def __init__(self, daemon_ns, outer):
        self.ns = Namespace(mount=False)
        self.outer = outer
        daemon_ns.run("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0",
                      "netns", str(self.ns.pid))
        self.ns.run("ip", "link", "set", "eth0", "up")

    def mac(self):
        # /sys shows the machine's interfaces here (no mount namespace): ask netlink
        line = self.ns.run("ip", "-o", "link", "show", "eth0").stdout
        return line.split("link/ether")[1].split()[0]

    def close(self):
        self.ns.close()
