# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storage through our CLI: every pool-* and vol-* command of `domus`, its output compared
byte for byte with stock virsh's against the same daemon, the error cases, Domus's --force
for volumes in use, and vol-wipe --verbose progress."""
import os
import re
import time

import pytest

from conftest import domain_xml

# the tools act on twin objects: "@" becomes "virsh" or "domus" in arguments and files
TOOLS = ("virsh", "domus")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def run(daemon, tool, *args, check=False, env=None):
    if tool == "virsh":
        return daemon.virsh(*args, check=check)
    return daemon.domus(*args, check=check, env=env)


def same(v, d):
    """virsh ends every command with a blank line, also a failed one; domus prints nothing on
    stdout when it fails."""
    assert (d.returncode, d.stderr) == (v.returncode, v.stderr), (v, d)
    if v.returncode == 0:
        assert d.stdout == v.stdout, (v.stdout, d.stdout)
    else:
        assert d.stdout in ("", "\n") and v.stdout == "\n", (v.stdout, d.stdout)


def compare(daemon, *args):
    """The same command through both tools, on the same objects (a query or a failure). Pool
    sizes are the file system's, read live: anything else writing to it between the two runs
    changes them, so a difference is looked at again before it counts."""
    for attempt in range(10):
        v = daemon.virsh(*args, check=False)
        d = daemon.domus(*args, check=False)
        if (v.stdout, v.stderr, v.returncode) == (d.stdout, d.stderr, d.returncode):
            break
        time.sleep(0.2)
    same(v, d)
    return d


def twin(daemon, *args, ok=True):
    """The same command through both tools, each on its own objects ('@' in the arguments
    names the tool); outputs compared with the tool's name and uuids masked."""
    out = []
    for tool in TOOLS:
        r = run(daemon, tool, *[a.replace("@", tool) for a in args])
        out.append(r)
    v, d = [
        type(r)(r.args, r.returncode, UUID_RE.sub("UUID", r.stdout.replace(t, "@")),
                UUID_RE.sub("UUID", r.stderr.replace(t, "@")))
        for t, r in zip(TOOLS, out)
    ]
    same(v, d)
    if ok is not None:
        assert (d.returncode == 0) == ok, d
    return out[1]


def images(daemon, *name):
    return os.path.join(daemon.root, "images", *name)


@pytest.fixture(autouse=True)
def clean_storage(daemon):
    """Each test starts with the default pool alone and empty."""
    yield
    if not daemon.alive():
        return
    c = daemon.conn()
    for p in c.listAllStoragePools():
        if p.name() == "default":
            for v in p.listAllVolumes():
                v.delete(0)
            continue
        if p.isActive():
            p.destroy()
        if p.isPersistent():
            p.undefine()
    c.close()


def test_pool_queries_match_virsh(daemon):
    for args in (["pool-list"], ["pool-list", "--all"], ["pool-list", "--all", "--details"],
                 ["pool-list", "--name"], ["pool-list", "--uuid"],
                 ["pool-list", "--name", "--uuid"], ["pool-list", "--inactive"],
                 ["pool-list", "--inactive", "--details"], ["pool-list", "--autostart"],
                 ["pool-list", "--no-autostart"], ["pool-list", "--persistent"],
                 ["pool-list", "--transient", "--name"], ["pool-info", "default"],
                 ["pool-info", "default", "--bytes"], ["pool-dumpxml", "default"],
                 ["pool-dumpxml", "default", "--inactive"], ["pool-uuid", "default"]):
        compare(daemon, *args)
    uuid = daemon.domus("pool-uuid", "default", check=True).stdout.strip()
    assert UUID_RE.fullmatch(uuid)
    assert compare(daemon, "pool-name", uuid).stdout == "default\n\n"
    assert compare(daemon, "pool-info", uuid).returncode == 0


def test_pool_errors_match_virsh(daemon):
    for args in (["pool-info", "nope"], ["pool-start", "nope"], ["pool-destroy", "nope"],
                 ["pool-undefine", "nope"], ["pool-dumpxml", "nope"], ["pool-uuid", "nope"],
                 ["pool-name", "default"],
                 ["pool-name", "00000000-0000-0000-0000-000000000000"],
                 ["pool-list", "--details", "--name"], ["pool-list", "--details", "--uuid"],
                 ["pool-define-as", "../p", "dir", "--target", "/tmp/x"],
                 ["pool-define-as", "twin", "dir", "--target", images(daemon)],
                 ["pool-create-as", "nodir", "dir", "--target",
                  os.path.join(daemon.root, "nodir")],
                 ["pool-define", os.path.join(daemon.root, "no-such-file.xml")],
                 ["vol-list", "nope"]):
        r = compare(daemon, *args)
        assert r.returncode == 1 and r.stderr.startswith("error: "), args
    assert "domus" not in daemon.domus("pool-list", "--all").stdout


def test_pool_lifecycle_matches_virsh(daemon):
    target = os.path.join(daemon.root, "@-p")
    twin(daemon, "pool-define-as", "@-p", "dir", "--target", target)
    compare(daemon, "pool-list", "--all")
    compare(daemon, "pool-list", "--all", "--details")
    twin(daemon, "pool-info", "@-p")
    twin(daemon, "pool-start", "@-p", ok=False)  # not built
    twin(daemon, "pool-build", "@-p")
    assert os.path.isdir(os.path.join(daemon.root, "domus-p"))
    twin(daemon, "pool-start", "@-p")
    twin(daemon, "pool-start", "@-p", ok=False)  # already active
    twin(daemon, "pool-autostart", "@-p")
    compare(daemon, "pool-list", "--autostart")
    twin(daemon, "pool-autostart", "@-p", "--disable")
    twin(daemon, "pool-refresh", "@-p")
    twin(daemon, "pool-info", "@-p")
    compare(daemon, "pool-list", "--all", "--details")
    twin(daemon, "pool-delete", "@-p", ok=False)  # active
    twin(daemon, "pool-undefine", "@-p", ok=False)  # active
    twin(daemon, "pool-destroy", "@-p")
    twin(daemon, "pool-info", "@-p")
    twin(daemon, "pool-delete", "@-p")
    assert not os.path.exists(os.path.join(daemon.root, "domus-p"))
    twin(daemon, "pool-undefine", "@-p")
    assert "domus-p" not in daemon.domus("pool-list", "--all").stdout


def test_pool_from_files_and_transient(daemon):
    for tool in TOOLS:
        os.makedirs(os.path.join(daemon.root, f"{tool}-t"))
        daemon.write(f"{tool}-pool.xml",
                     f"<pool type='dir'><name>{tool}-f</name><target>"
                     f"<path>{daemon.root}/{tool}-f</path></target></pool>")
        daemon.write(f"{tool}-tpool.xml",
                     f"<pool type='dir'><name>{tool}-tf</name><target>"
                     f"<path>{daemon.root}/{tool}-t</path></target></pool>")
    root = daemon.root
    twin(daemon, "pool-define", f"{root}/@-pool.xml")
    twin(daemon, "pool-define", f"{root}/@-pool.xml", ok=None)  # again: as the daemon decides
    twin(daemon, "pool-start", "@-f", "--build")
    twin(daemon, "pool-destroy", "@-f")
    twin(daemon, "pool-undefine", "@-f")
    twin(daemon, "pool-create", f"{root}/@-tpool.xml")
    compare(daemon, "pool-list", "--transient", "--details")
    twin(daemon, "pool-create-as", "@-tas", "dir", "--target", f"{root}/@-tas", "--build")
    compare(daemon, "pool-list", "--transient")
    compare(daemon, "pool-list", "--persistent", "--name")
    twin(daemon, "pool-create-as", "@-x", "dir", "--target", f"{root}/@-x", "--print-xml")
    for name in ("tf", "tas"):
        twin(daemon, "pool-destroy", f"@-{name}")
    compare(daemon, "pool-list", "--all")


def test_pool_edit(daemon, monkeypatch, tmp_path):
    target = os.path.join(daemon.root, "ed")
    daemon.domus("pool-define-as", "ed", "dir", "--target", target, check=True)
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    r = daemon.domus("pool-edit", "ed", check=True)
    assert r.stdout == daemon.virsh("pool-edit", "ed").stdout == \
        "Pool ed XML configuration not changed.\n\n"
    script = tmp_path / "ed.sh"
    script.write_text('#!/bin/sh\nsed -i "s|/ed<|/ed2<|" "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    r = daemon.domus("pool-edit", "ed", check=True)
    assert r.stdout == "Pool ed XML configuration edited.\n\n"
    assert f"<path>{target}2</path>" in daemon.domus("pool-dumpxml", "ed").stdout
    # a broken edit or a failing editor changes nothing
    before = daemon.snapshot_config()
    xml = daemon.domus("pool-dumpxml", "ed").stdout
    script.write_text('#!/bin/sh\necho "<pool" > "$1"\n')
    r = daemon.domus("pool-edit", "ed", check=False)
    assert r.returncode == 1 and "error: Failed to edit pool ed" in r.stderr
    monkeypatch.setenv("EDITOR", "false")
    r = daemon.domus("pool-edit", "ed", check=False)
    assert r.returncode == 1 and "nothing was changed" in r.stderr
    assert daemon.snapshot_config() == before
    assert daemon.domus("pool-dumpxml", "ed").stdout == xml
    daemon.domus("pool-undefine", "ed", check=True)


def test_volume_create_matches_virsh(daemon):
    for tool in TOOLS:
        daemon.write(f"{tool}-vol.xml", f"<volume><name>{tool}-file.raw</name>"
                                        "<capacity unit='M'>4</capacity></volume>")
        daemon.write(f"{tool}-from.xml", f"<volume><name>{tool}-from.raw</name>"
                                         "<capacity>0</capacity><target><format type='raw'/>"
                                         "</target></volume>")
    root = daemon.root
    twin(daemon, "vol-create", "default", f"{root}/@-vol.xml")
    twin(daemon, "vol-create", "default", f"{root}/@-vol.xml", ok=False)  # exists
    twin(daemon, "vol-create-as", "default", "@-a.qcow2", "64M", "--format", "qcow2")
    twin(daemon, "vol-create-as", "default", "@-m.qcow2", "64M", "--format", "qcow2",
         "--prealloc-metadata")
    twin(daemon, "vol-create-as", "default", "@-sparse.raw", "10G", "--allocation", "0")
    twin(daemon, "vol-create-as", "default", "@-kib.raw", "1KiB")
    twin(daemon, "vol-create-as", "default", "@-1000.raw", "1KB")
    assert os.stat(images(daemon, "domus-1000.raw")).st_size == 1000
    assert os.stat(images(daemon, "domus-kib.raw")).st_size == 1024
    assert os.stat(images(daemon, "domus-sparse.raw")).st_size == 10 * 1024 ** 3
    twin(daemon, "vol-create-as", "default", "@-o.qcow2", "64M", "--format", "qcow2",
         "--backing-vol", "@-a.qcow2", "--backing-vol-format", "qcow2")
    twin(daemon, "vol-create-as", "default", "@-p.qcow2", "64M", "--format", "qcow2",
         "--backing-vol", images(daemon, "@-a.qcow2"), "--print-xml")
    twin(daemon, "vol-create-as", "default", "@-q.qcow2", "64M", "--backing-vol", "@-none",
         ok=False)
    twin(daemon, "vol-create-from", "default", f"{root}/@-from.xml", "@-a.qcow2",
         "--inputpool", "default")
    twin(daemon, "vol-create-from", "default", f"{root}/@-from.xml",
         images(daemon, "@-a.qcow2"), ok=False)  # exists
    assert open(images(daemon, "domus-o.qcow2"), "rb").read(4) == b"QFI\xfb"
    assert os.stat(images(daemon, "domus-from.raw")).st_size == 64 * 1024 ** 2
    twin(daemon, "vol-clone", "@-a.qcow2", "@-b.qcow2", "--pool", "default")
    twin(daemon, "vol-clone", images(daemon, "@-a.qcow2"), "@-c.qcow2")
    twin(daemon, "vol-clone", "@-a.qcow2", "@-b.qcow2", "--pool", "default", ok=False)
    # every volume of both tools, the same listing
    compare(daemon, "vol-list", "default")
    compare(daemon, "vol-list", "default", "--details")
    assert daemon.domus("vol-list", "default").stdout.count("\n domus-") == 10


def test_volume_queries_match_virsh(daemon):
    daemon.virsh("vol-create-as", "default", "a.qcow2", "64M", "--format", "qcow2")
    daemon.virsh("vol-create-as", "default", "B.raw", "10G", "--allocation", "0")
    path = images(daemon, "a.qcow2")
    uuid = daemon.domus("pool-uuid", "default", check=True).stdout.strip()
    for args in (["vol-list", "default"], ["vol-list", "default", "--details"],
                 ["vol-list", uuid, "--details"],
                 ["vol-info", "a.qcow2", "--pool", "default"], ["vol-info", path],
                 ["vol-info", "a.qcow2", "--pool", uuid],
                 ["vol-info", "B.raw", "--pool", "default", "--bytes"],
                 ["vol-dumpxml", "a.qcow2", "--pool", "default"], ["vol-dumpxml", path],
                 ["vol-key", "a.qcow2", "--pool", "default"], ["vol-key", path],
                 ["vol-path", "a.qcow2", "--pool", "default"], ["vol-path", path],
                 ["vol-name", path], ["vol-pool", path], ["vol-pool", "--uuid", path],
                 ["pool-info", "default"]):
        r = compare(daemon, *args)
        assert r.returncode == 0, args
    assert daemon.domus("vol-path", "a.qcow2", "--pool", "default").stdout == path + "\n\n"
    out = daemon.domus("vol-info", "B.raw", "--pool", "default").stdout
    assert out == ("Name:           B.raw\nType:           file\nCapacity:       10.00 GiB\n"
                   "Allocation:     0.00 B\n\n")


def test_volume_errors_match_virsh(daemon):
    daemon.virsh("vol-create-as", "default", "v.raw", "1M")
    target = os.path.join(daemon.root, "idle")
    daemon.virsh("pool-define-as", "idle", "dir", "--target", target)
    for args in (["vol-create-as", "default", "../x", "10M"],
                 ["vol-create-as", "default", "a/b", "10M"],
                 ["vol-create-as", "nope", "x", "10M"],
                 ["vol-create-as", "idle", "x", "10M"],
                 ["vol-create-as", "default", "x", "10X"],
                 ["vol-create-as", "default", "x", "abc"],
                 ["vol-create-as", "default", "x", "-5M"],
                 ["vol-create-as", "default", "x", "1M", "--allocation", "1Q"],
                 ["vol-create-as", "default", "x", "99999999999E"],
                 ["vol-create-as", "default", "x", "1M", "--format", "vmdk"],
                 ["vol-create", "default", os.path.join(daemon.root, "no-such.xml")],
                 ["vol-info", "nope", "--pool", "default"], ["vol-info", "nope"],
                 ["vol-info", "v.raw"], ["vol-info", "v.raw", "--pool", "nope"],
                 ["vol-info", "v.raw", "--pool", "idle"], ["vol-list", "idle"],
                 ["vol-name", "nope"], ["vol-pool", "nope"], ["vol-key", "nope"],
                 ["vol-delete", "nope", "--pool", "default"], ["vol-delete", "v.raw"],
                 ["vol-wipe", "v.raw", "--pool", "default", "--algorithm", "bogus"],
                 ["vol-resize", "v.raw", "512K", "--pool", "default"],
                 ["vol-resize", "v.raw", "-1", "--pool", "default"],
                 ["vol-resize", "v.raw", "1X", "--pool", "default"],
                 ["vol-clone", "nope", "x", "--pool", "default"],
                 ["vol-create-from", "default", os.path.join(daemon.root, "no-such.xml"),
                  "v.raw", "--inputpool", "default"]):
        r = compare(daemon, *args)
        assert r.returncode == 1 and r.stderr.startswith("error: "), args
    assert sorted(os.listdir(images(daemon))) == ["v.raw"]
    assert os.stat(images(daemon, "v.raw")).st_size == 1024 ** 2
    r = daemon.domus("vol-resize", "v.raw", "512K", "--pool", "default", check=False)
    assert "shrink" in r.stderr


def test_volume_resize_wipe_delete_match_virsh(daemon):
    for tool in TOOLS:
        daemon.virsh("vol-create-as", "default", f"{tool}.raw", "1M")
    twin(daemon, "vol-resize", "@.raw", "2M", "--pool", "default")
    twin(daemon, "vol-resize", "@.raw", "1M", "--pool", "default", "--delta")
    twin(daemon, "vol-resize", "@.raw", "+4M", "--pool", "default", "--allocate")
    twin(daemon, "vol-resize", "@.raw", "1M", "--pool", "default", ok=False)
    twin(daemon, "vol-resize", "@.raw", "1M", "--pool", "default", "--shrink")
    twin(daemon, "vol-resize", images(daemon, "@.raw"), "-512K", "--shrink")
    assert os.stat(images(daemon, "domus.raw")).st_size == 512 * 1024
    twin(daemon, "vol-resize", "@.raw", "256K", "--pool", "default", "--delta", "--shrink")
    assert os.stat(images(daemon, "domus.raw")).st_size == 256 * 1024
    twin(daemon, "vol-resize", "@.raw", "1M", "--pool", "default", "--delta", "--shrink",
         ok=False)  # below zero
    with open(images(daemon, "domus.raw"), "wb") as f:
        f.write(b"x" * 4096)
    twin(daemon, "vol-wipe", "@.raw", "--pool", "default")
    assert open(images(daemon, "domus.raw"), "rb").read() == bytes(4096)
    for alg in ("nnsa", "bsi", "random", "trim"):
        twin(daemon, "vol-wipe", images(daemon, "@.raw"), "--algorithm", alg)
    twin(daemon, "vol-delete", "@.raw", "--pool", "default")
    twin(daemon, "vol-delete", "@.raw", "--pool", "default", ok=False)
    assert os.listdir(images(daemon)) == []


def test_in_use_refused_unless_forced(daemon):
    daemon.virsh("vol-create-as", "default", "busy.raw", "4M")
    path = images(daemon, "busy.raw")
    with open(path, "r+b") as f:
        f.write(b"SECRET")
    c = daemon.conn()
    d = c.createXML(domain_xml("cli-busy", extra_devices=(
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{path}'/><target dev='vda' bus='virtio'/></disk>")), 0)
    for args in (["vol-wipe", "busy.raw", "--pool", "default"],
                 ["vol-delete", "busy.raw", "--pool", "default"], ["vol-delete", path]):
        r = compare(daemon, *args)
        assert r.returncode == 1 and "cli-busy" in r.stderr and "in use" in r.stderr, r
    assert open(path, "rb").read(6) == b"SECRET"
    r = daemon.domus("vol-wipe", "busy.raw", "--pool", "default", "--force", check=True)
    assert r.stdout == "Vol busy.raw wiped\n\n"
    assert open(path, "rb").read(6) == bytes(6)
    r = daemon.domus("vol-delete", path, "--force", check=True)
    assert r.stdout == f"Vol {path} deleted\n\n"
    assert not os.path.exists(path)
    assert d.isActive()
    d.destroy()
    c.close()


def test_wipe_verbose_shows_progress(daemon):
    daemon.domus("vol-create-as", "default", "big.raw", "128M", check=True)
    t0 = time.time()
    r = daemon.domus("vol-wipe", "big.raw", "--pool", "default", "--algorithm", "pfitzner7",
                     "--verbose", check=True)
    assert time.time() - t0 < 30
    # each line starts with a carriage return (text mode reads it as a newline)
    progress = re.findall(r"^Wipe: \[([ \d]{3}) %\]$", r.stderr, re.M)
    assert progress and progress[-1] == "100", r.stderr
    assert len(progress) >= 2, r.stderr  # at least one line while the wipe ran
    values = [int(p) for p in progress]
    assert values == sorted(values) and all(0 <= p < 100 for p in values[:-1])
    assert r.stdout == "Vol big.raw wiped\n\n" and "Sanitizer" not in r.stderr
    # a refused verbose wipe reports the error, no progress
    r = daemon.domus("vol-wipe", "big.raw", "--pool", "default", "--algorithm", "nope",
                     "--verbose", check=False)
    assert r.returncode == 1 and r.stderr == "error: Unsupported algorithm 'nope'\n"


def test_help_lists_storage_commands(daemon):
    out = daemon.domus("help", check=True).stdout
    for cmd in ("pool-define-as", "pool-list", "pool-edit", "vol-create-as", "vol-wipe",
                "vol-clone", "vol-pool"):
        assert f"    {cmd} " in out, cmd
    out = daemon.domus("help", "vol-wipe", check=True).stdout
    assert "--verbose" in out and "--force" in out and "--algorithm" in out


def test_readonly_refused(daemon):
    r = daemon.domus("pool-define-as", "ro", "dir", "--target", "/tmp/ro", readonly=True,
                     check=False)
    assert r.returncode == 1 and "error: Failed to define pool ro" in r.stderr
    assert daemon.domus("pool-list", readonly=True, check=True).stdout == \
        daemon.virsh("pool-list", readonly=True).stdout
    c = daemon.conn()
    assert [p.name() for p in c.listAllStoragePools()] == ["default"]
    c.close()
