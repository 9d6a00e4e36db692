# SPDX-License-Identifier: LGPL-2.1-or-later
"""The real test guest of tests/guest: build it (cached) and describe it as domain XML."""
import os
import subprocess
import time

from conftest import TOP

CMDLINE = ("console=ttyS0 quiet cryptomgr.notests "
           "initcall_blacklist=crypto_kdf108_init,init_kprobe_trace no_timer_check")

_built = {}


def build():
    if not _built:
        out = subprocess.run([os.path.join(TOP, "tests", "guest", "build")],
                             capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, out.stderr
        _built.update(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return _built


def xml(daemon, name, extra_cmdline="", agent=True, on_crash="destroy", pty=False, pvh=True,
        machine="q35", extra_devices=""):
    """Domain XML for the test guest. Its serial console goes to a file (returned), or with
    PTY to a pty for console sessions (then the file stays empty). PVH starts the kernel
    directly (faster); without it the bzImage boots through the firmware, which a guest that
    suspends to RAM needs: SeaBIOS's resume path leads back only into a kernel it started.
    EXTRA_DEVICES go into <devices> as they are."""
    g = build()
    log = os.path.join(daemon.root, f"{name}.console")
    channel = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
               "</channel>") if agent else ""
    serial = "<console type='pty'/>" if pty else f"<serial type='file'><source path='{log}'/></serial>"
    return log, f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='{machine}'>hvm</type>
    <kernel>{g['pvh_kernel' if pvh else 'kernel']}</kernel>
    <initrd>{g['initrd']}</initrd>
    <cmdline>{CMDLINE} {extra_cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <on_crash>{on_crash}</on_crash>
  <devices>
    {serial}
    {channel}
    {extra_devices}
    <panic model='isa'/>
  </devices>
</domain>"""


def count(log, word="DOMUS-GUEST-READY"):
    try:
        return open(log, errors="replace").read().count(word)
    except OSError:
        return 0


def wait(cond, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def agent_exec(dom, *argv, timeout=30):
    """Runs ARGV in the guest through the agent; returns (exit code, stdout)."""
    import base64
    import json
    import libvirt_qemu
    cmd = {"execute": "guest-exec",
           "arguments": {"path": argv[0], "arg": list(argv[1:]), "capture-output": True}}
    pid = json.loads(libvirt_qemu.qemuAgentCommand(dom, json.dumps(cmd), 10, 0))["return"]["pid"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = json.loads(libvirt_qemu.qemuAgentCommand(
            dom, json.dumps({"execute": "guest-exec-status", "arguments": {"pid": pid}}), 10,
            0))["return"]
        if st.get("exited"):
            out = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
            return st.get("exitcode", -1), out
        time.sleep(0.2)
    raise AssertionError(f"{argv} did not finish in the guest")


def agent_ok(dom):
    """Whether the guest agent answers a command."""
    import libvirt
    try:
        return agent_exec(dom, "/bin/true")[0] == 0
    except libvirt.libvirtError:
        return False


def with_disk(daemon, name, size="64M", edit=None):
    """Defines and boots the test guest NAME with a qcow2 disk of SIZE as vda (EDIT may change
    the XML first), waits for its agent; returns (conn, dom, disk path)."""
    build()
    disk = os.path.join(daemon.root, f"{name}.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, size], check=True)
    log, text = xml(daemon, name)
    text = text.replace("<panic model='isa'/>", "<panic model='isa'/><disk type='file' "
                        "device='disk'><driver name='qemu' type='qcow2'/>"
                        f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>")
    if edit:
        text = edit(text)
    c = daemon.conn()
    dom = c.defineXML(text)
    dom.create()
    wait(lambda: count(log) == 1, 120, f"{name} to boot")
    wait(lambda: agent_ok(dom), 60, "the guest agent")
    return c, dom, disk


def drop(conn, name, flags=0):
    """Destroys (if it runs) and undefines NAME, then closes CONN."""
    import libvirt
    dom = conn.lookupByName(name)
    try:
        dom.destroy()
    except libvirt.libvirtError:
        pass
    dom.undefineFlags(flags)
    conn.close()


def mark(dom, value):
    """VALUE into the guest's RAM and onto its disk's first sector (flushed to the image)."""
    rc, _ = agent_exec(dom, "/bin/sh", "-c",
                       f"echo {value} > /run/domus-mark && echo {value} | "
                       "dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null")
    assert rc == 0


def marks(dom):
    """What mark() left: (the value in RAM, the value on the disk)."""
    wait(lambda: agent_ok(dom), 60, "the guest agent")
    _, ram = agent_exec(dom, "/bin/cat", "/run/domus-mark")
    _, disk = agent_exec(dom, "/bin/sh", "-c", "dd if=/dev/vda bs=512 count=1 2>/dev/null"
                         " | head -n1")
    return ram.strip(), disk.strip().strip("\0")
