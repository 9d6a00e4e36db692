# SPDX-License-Identifier: LGPL-2.1-or-later
"""Schema validation, edit, the socket-path limit, the CLI's URI handling, and the event
bus as stock clients see it."""
import os
import subprocess
import threading
import time

import libvirt
import pytest

from conftest import DOMUS, Daemon, domain_xml


def test_validate_flag(daemon):
    # well-formed and understood by the parser, but not valid against the schema:
    # <vcpu placement='nonsense'> is rejected by the schema first
    bad = domain_xml("val").replace("<vcpu>", "<vcpu placement='nonsense'>")
    path = daemon.write("val.xml", bad)
    r = daemon.virsh("define", "--validate", path, check=False)
    assert r.returncode == 1 and "failed to validate" in r.stderr.lower()
    r = daemon.domus("define", "--validate", path, check=False)
    assert r.returncode == 1 and "validate" in r.stderr.lower()
    good = daemon.write("val-ok.xml", domain_xml("val-ok"))
    daemon.virsh("define", "--validate", good)
    c = daemon.conn()
    with pytest.raises(libvirt.libvirtError) as e:
        c.defineXMLFlags(bad, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    assert e.value.get_error_code() == libvirt.VIR_ERR_XML_INVALID_SCHEMA
    c.close()


def test_edit(daemon):
    daemon.domus("define", daemon.write("ed.xml", domain_xml("ed")))
    env = dict(os.environ, EDITOR="sed -i s/65536/98304/g")
    r = daemon.domus("edit", "ed", env=env)
    assert "Domain 'ed' XML configuration edited." in r.stdout
    assert "98304" in daemon.domus("dumpxml", "ed").stdout
    env = dict(os.environ, EDITOR="true")
    assert "not changed" in daemon.domus("edit", "ed", env=env).stdout
    # a broken edit leaves the definition untouched
    before = daemon.snapshot_config()
    env = dict(os.environ, EDITOR="sed -i s/<vcpu/<vcpux/")
    r = daemon.domus("edit", "ed", env=env, check=False)
    assert r.returncode == 1 and "error" in r.stderr
    assert daemon.snapshot_config() == before
    env = dict(os.environ, EDITOR="false")
    r = daemon.domus("edit", "ed", env=env, check=False)
    assert r.returncode == 1 and "nothing was changed" in r.stderr


def test_socket_path_limit():
    """A state directory so deep that the monitor socket cannot fit: a clear error."""
    d = Daemon()
    deep = os.path.join(d.root, "x" * 60)
    os.makedirs(deep)
    d.root = deep
    d.sock = os.path.join(deep, "run", "domus-sock")
    d.sock_ro = os.path.join(deep, "run", "domus-sock-ro")
    d.uri = f"qemu+unix:///system?socket={d.sock}"
    try:
        d.start()
        c = d.conn()
        dom = c.defineXML(domain_xml("a-rather-long-domain-name"))
        with pytest.raises(libvirt.libvirtError) as e:
            dom.create()
        assert "over the limit" in str(e.value) and "shorter" in str(e.value)
        assert not dom.isActive()
        c.close()
    finally:
        d.destroy()


def test_cli_uri_and_help(daemon):
    env = dict(os.environ, DOMUS_DEFAULT_URI=daemon.domus_uri)
    r = subprocess.run([DOMUS, "uri"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip() == daemon.domus_uri
    r = subprocess.run([DOMUS, "-c", "xen:///", "list"], capture_output=True, text=True)
    assert r.returncode == 1 and "unsupported URI" in r.stderr
    r = subprocess.run([DOMUS, "-c", "domus:///system?socket=/nonexistent", "list"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "is domusd running" in r.stderr
    r = subprocess.run([DOMUS, "help"], capture_output=True, text=True)
    assert r.returncode == 0 and "dumpxml" in r.stdout
    r = subprocess.run([DOMUS, "help", "start"], capture_output=True, text=True)
    assert "--paused" in r.stdout
    # "CMD --help" is "help CMD", as in virsh; nothing runs (no connection is needed)
    h = subprocess.run([DOMUS, "-c", "domus:///system?socket=/nonexistent", "start", "x",
                        "--help"], capture_output=True, text=True)
    assert h.returncode == 0 and h.stdout == r.stdout
    # -v / --version: the version alone, as virsh prints its library's
    meson = open(os.path.join(os.path.dirname(__file__), "..", "..", "meson.build")).read()
    version = meson.split("version : '", 1)[1].split("'", 1)[0]
    for flag in ("-v", "--version", "--version=short"):
        r = subprocess.run([DOMUS, flag], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout == version + "\n", (flag, r.stdout)
    r = subprocess.run([DOMUS, "-V"], capture_output=True, text=True)
    assert r.returncode == 0 and f"Domus command line tool {version}" in r.stdout
    r = subprocess.run([DOMUS, "frobnicate"], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown command" in r.stderr
    r = daemon.domus("start", "--bogus", "x", check=False)
    assert r.returncode == 1 and "--bogus" in r.stderr


def test_lifecycle_events(daemon, loop):
    """The bus delivers (domain, event, detail) to every registered client, in order."""
    got = []
    c = daemon.conn()
    cb = c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                  lambda conn, dom, ev, detail, opaque: got.append(
                                      (dom.name(), ev, detail)), None)
    d = c.defineXML(domain_xml("ev"))
    d.create()
    d.suspend()
    d.resume()
    d.destroy()
    d.undefine()
    deadline = time.time() + 10
    while time.time() < deadline and len(got) < 7:
        time.sleep(0.05)
    c.domainEventDeregisterAny(cb)
    E = libvirt
    assert got == [
        ("ev", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
        ("ev", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        ("ev", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        ("ev", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        ("ev", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        ("ev", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
        ("ev", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
    ], got
    c.close()


def test_dominfo_calls_as_libvirtd(daemon):
    """The small calls virsh dominfo makes (security model and label, managed save,
    messages) answer as libvirtd's do."""
    daemon.domus("define", daemon.write("di.xml", domain_xml("di")))
    daemon.virsh("start", "di")
    out = daemon.virsh("dominfo", "di").stdout
    assert "Security model: none" in out and "Security DOI:   0" in out
    assert "Managed save:   no" in out
    if os.geteuid() == 0:
        assert "tainted: running with undesirable elevated privileges" in out
    c = daemon.conn()
    d = c.lookupByName("di")
    assert c.getSecurityModel() == ["none", "0"]
    assert d.securityLabel() == ["", 0]
    assert d.hasManagedSaveImage() == 0
    assert d.snapshotNum() == 0
    c.close()


def test_capabilities_probe_does_not_block_calls(tmp_path):
    """QEMU's capabilities are probed in a worker at start-up: with a QEMU that takes 3 s to
    answer, every other call is answered meanwhile; the calls that need the capabilities wait
    for the probe, and a restarted daemon reads them from its disk cache."""
    import shutil
    import subprocess
    import time
    from conftest import Daemon
    real = shutil.which("qemu-system-x86_64")
    slow = tmp_path / "bin"
    slow.mkdir()
    wrapper = slow / "qemu-system-x86_64"
    wrapper.write_text(f"#!/bin/sh\nsleep 3\nexec {real} \"$@\"\n")
    wrapper.chmod(0o755)
    d = Daemon()
    env = dict(os.environ, PATH=f"{slow}:{os.environ['PATH']}")
    log = open(os.path.join(d.root, "domusd.log"), "a")
    from conftest import DOMUSD
    t0 = time.monotonic()
    d.proc = subprocess.Popen([DOMUSD, "--root", d.root, "-v", "--no-default-network"], stdout=log,
                              stderr=subprocess.STDOUT, env=env)
    try:
        while not os.path.exists(d.sock_ro):
            time.sleep(0.01)
        c = d.conn()
        # one client waits for the capabilities ...
        version = []
        waiter = threading.Thread(target=lambda: version.append(d.conn().getVersion()))
        waiter.start()
        time.sleep(0.3)
        # ... while everything else is answered at once
        t1 = time.monotonic()
        c.getLibVersion()
        c.listAllDomains()
        c.getHostname()
        assert time.monotonic() - t1 < 0.5, "calls waited for the probe"
        assert waiter.is_alive()
        waiter.join(10)
        assert version and version[0] >= 7000000
        assert time.monotonic() - t0 >= 3
        assert "<capabilities>" in c.getCapabilities()
        c.close()
        d.stop()
        # the disk cache: no probe, no wait
        d.proc = subprocess.Popen([DOMUSD, "--root", d.root, "-v", "--no-default-network"], stdout=log,
                                  stderr=subprocess.STDOUT, env=env)
        t0 = time.monotonic()
        while not os.path.exists(d.sock_ro):
            time.sleep(0.01)
        c = d.conn()
        assert c.getVersion() >= 7000000
        assert time.monotonic() - t0 < 2.5
        c.close()
    finally:
        d.destroy()


def test_cli_table_is_current():
    """docs/cli.md (virsh's commands and which domus has) is what scripts/cli_table.py writes
    from this build's domus and the stock virsh."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    r = subprocess.run(["/usr/bin/python3", os.path.join(root, "scripts", "cli_table.py"),
                        DOMUS], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(root, "docs", "cli.md")) as f:
        committed = f.read()
    assert r.stdout == committed, "docs/cli.md is stale: run scripts/cli_table.py build/domus " \
        "docs/cli.md"


def test_dumpxml_xpath_as_virsh(daemon):
    """--xpath and --wrap of the dumpxml commands print what virsh 9.0 prints: nodes as
    libxml2 dumps them (attributes, elements, text), wrapped in <nodes>, nothing for an
    expression that does not compile, an error for one that is no node set."""
    daemon.conn().defineXML(domain_xml("xp", extra_devices="""
<disk type='file' device='disk'><source file='/var/lib/xp.img'/><target dev='vda'/></disk>"""))
    secret = daemon.write("xp-secret.xml", "<secret ephemeral='no' private='no'>"
                          "<uuid>0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b09</uuid>"
                          "<usage type='volume'><volume>/v.img</volume></usage></secret>")
    daemon.virsh("secret-define", secret)
    cases = []
    for expr in ("//disk/source/@file", "//disk/target", "//name/text()", "//devices/input",
                 "//nothing", "bad[", "count(//disk)"):
        cases += [["dumpxml", "xp", "--xpath", expr], ["dumpxml", "xp", "--xpath", expr, "--wrap"]]
    cases += [["secret-dumpxml", "0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b09", "--xpath",
               "//usage/volume", "--wrap"], ["dumpxml", "xp", "--wrap"]]
    for args in cases:
        v = daemon.virsh(*args, check=False)
        d = daemon.domus(*args, check=False)
        assert (v.returncode, v.stdout, v.stderr) == (d.returncode, d.stdout, d.stderr), args
    out = daemon.domus("dumpxml", "xp", "--xpath", "//disk/source/@file", "--wrap").stdout
    assert out == '<nodes file="/var/lib/xp.img"/>\n\n'
    daemon.virsh("secret-undefine", "0b3a3f1e-7c1e-4f0e-9d7a-2f5c8a1e6b09")
