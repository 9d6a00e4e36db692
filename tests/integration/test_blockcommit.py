# SPDX-License-Identifier: LGPL-2.1-or-later
"""Block pull and block commit of a running domain's qcow2 chain (base <- mid <- top, each
image holding its own 64 KiB of data), through stock virsh and domus as virsh drives them:
blockpull --base / a full pull, blockcommit --top --base --delete, the active commit that
syncs and pivots (--pivot), or is aborted after a daemon restart, blockjob --info; the live
XML's chain and <mirror job='active-commit'>, the images' contents and backing files, the
BLOCK_JOB events; a pull taken up by a restarted daemon; refusals that change nothing. No
guest kernel: QEMU runs the jobs whatever the guest does."""
import os
import subprocess
import time

import libvirt
import pytest

from conftest import domain_xml

pytestmark = pytest.mark.keep_domains

KIB64 = 64 * 1024
DATA = {"base": b"A", "mid": b"B", "top": b"C"}


def chain(d, name, layers=("base", "mid", "top")):
    """The images of NAME's disk, bottom first, each with its byte at its own 64 KiB."""
    paths = [os.path.join(d.root, f"{name}-{layer}.qcow2") for layer in layers]
    for i, (layer, path) in enumerate(zip(layers, paths)):
        cmd = ["qemu-img", "create", "-q", "-f", "qcow2"]
        if i:
            cmd += ["-b", paths[i - 1], "-F", "qcow2"]
        subprocess.run(cmd + [path, "1M"], check=True)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                        f"write -P {DATA[layer][0]} {i * KIB64} {KIB64}", path], check=True,
                       capture_output=True)
    return paths


def start(d, name, top):
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{top}'/><target dev='vda' bus='virtio'/></disk>")
    return d.conn().createXML(domain_xml(name, extra_devices=disk), 0)


def content(path):
    """What the image shows with its chain, its first three 64 KiB. (Read once QEMU is gone:
    until it flushes, its writes to an image's tables may not be in the file yet.)"""
    out = path + ".raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", path, out], check=True)
    with open(out, "rb") as f:
        data = f.read(3 * KIB64)
    os.unlink(out)
    return [data[i * KIB64:(i + 1) * KIB64].strip(b"\0")[:1] for i in range(3)]


def backing(path):
    out = subprocess.run(["qemu-img", "info", "-U", path], capture_output=True, text=True,
                         check=True).stdout
    lines = [ln for ln in out.splitlines() if ln.startswith("backing file: ")]
    return lines[0][len("backing file: "):] if lines else None


def disk_xml(dom):
    x = dom.XMLDesc(0)
    return x[x.index("<disk"):x.index("</disk>")]


def chain_of(dom):
    """The live chain's paths, top first."""
    x = disk_xml(dom)
    return [part.split("'")[1] for part in x.split("<source file=")[1:]]


def test_pull_to_a_base_then_everything(daemon):
    base, mid, top = chain(daemon, "pl")
    dom = start(daemon, "pl", top)
    r = daemon.virsh("blockpull", "pl", "vda", "--base", base, "--wait", "--verbose")
    assert r.stdout == "\nPull complete\n", r
    assert "Block Pull: [100 %]" in r.stderr, r.stderr
    assert chain_of(dom) == [top, base]
    assert backing(top) == base
    dom.destroy()
    os.unlink(mid)  # out of the chain: top holds its data now
    assert content(top) == [b"A", b"B", b"C"]
    # the whole chain: top stands alone
    dom = start(daemon, "pl", top)
    r = daemon.domus("blockpull", "pl", top, "--wait")
    assert r.stdout == "\nPull complete\n", r
    assert chain_of(dom) == [top]
    assert "<backingStore/>" in disk_xml(dom)
    assert backing(top) is None
    dom.destroy()
    os.unlink(base)
    assert content(top) == [b"A", b"B", b"C"]


def test_commit_below_the_top_then_active_pivot(daemon, loop):
    base, mid, top = chain(daemon, "cm")
    dom = start(daemon, "cm", top)
    c = daemon.conn()
    events = []
    c.domainEventRegisterAny(c.lookupByName("cm"), libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                             lambda conn, d, disk, typ, status, opaque:
                             events.append((disk, typ, status)), None)
    r = daemon.virsh("blockcommit", "cm", "vda", "--top", mid, "--base", base, "--delete",
                     "--wait", "--verbose")
    assert r.stdout == "\nCommit complete\n", r
    assert "Block commit: [100 %]" in r.stderr, r.stderr
    assert not os.path.exists(mid)
    assert chain_of(dom) == [top, base]
    assert backing(top) == base
    # the top, by its index as libvirt names it; the guest moves onto the base
    x = disk_xml(dom)
    top_index = x.split(f"<source file='{top}' index='")[1].split("'")[0]
    r = daemon.domus("blockcommit", "cm", "vda", "--top", f"vda[{top_index}]", "--pivot",
                     "--verbose")
    assert r.stdout == "\nSuccessfully pivoted\n", r
    assert chain_of(dom) == [base]
    assert os.path.exists(top)  # no --delete
    deadline = time.time() + 10
    while len(events) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert events == [
        ("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT, libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED),
        ("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT,
         libvirt.VIR_DOMAIN_BLOCK_JOB_READY),
        ("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT,
         libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED)], events
    c.close()
    dom.destroy()
    os.unlink(top)
    assert content(base) == [b"A", b"B", b"C"]


def test_active_commit_kept_across_a_restart_then_aborted(daemon):
    base, top = chain(daemon, "ac", ("base", "mid"))
    dom = start(daemon, "ac", top)
    r = daemon.virsh("blockcommit", "ac", "vda", "--active", "--wait")
    assert r.stdout == "\nNow in synchronized phase\n", r
    mirror = f"<mirror type='file' job='active-commit' ready='yes'>"
    assert mirror in disk_xml(dom) and f"<source file='{base}'" in disk_xml(dom).split(mirror)[1]
    r = daemon.virsh("blockjob", "ac", "vda", "--info")
    assert "Active Block Commit: [100 %]" in r.stderr, r
    # another job on the disk meanwhile: refused
    r = daemon.virsh("blockpull", "ac", "vda", check=False)
    assert "disk 'vda' already in active block job" in r.stderr, r.stderr
    daemon.stop()
    daemon.start()
    dom = daemon.conn().lookupByName("ac")
    assert mirror in disk_xml(dom)
    daemon.virsh("blockjob", "ac", "vda", "--abort")
    assert "<mirror" not in disk_xml(dom)
    assert chain_of(dom) == [top, base]
    assert backing(top) == base
    dom.destroy()


def test_a_slow_pull_taken_up_by_a_restarted_daemon(daemon):
    base, mid, top = chain(daemon, "sp")
    dom = start(daemon, "sp", top)
    # 4 KiB/s: QEMU's 128 KiB to pull take long enough for a restart
    r = daemon.virsh("blockpull", "sp", "vda", "--bandwidth", "4096", "--bytes")
    assert r.stdout == "Block Pull started\n", r
    assert "<mirror" not in disk_xml(dom)  # libvirt shows none for a pull
    daemon.stop()
    daemon.start()
    dom = daemon.conn().lookupByName("sp")
    assert "Block Pull: [" in daemon.virsh("blockjob", "sp", "vda", "--info").stderr
    daemon.virsh("blockjob", "sp", "vda", "--bandwidth", "0")
    deadline = time.time() + 30
    while len(chain_of(dom)) > 1 and time.time() < deadline:
        time.sleep(0.1)
    assert chain_of(dom) == [top]
    assert backing(top) is None
    assert "No current block job" in daemon.virsh("blockjob", "sp", "vda").stdout
    dom.destroy()


def test_refusals_change_nothing(daemon):
    base, mid, top = chain(daemon, "rf")
    dom = start(daemon, "rf", top)
    before = disk_xml(dom)
    cases = [
        (["blockcommit", "rf", "vda"], "commit of the top image of disk 'vda' needs --active"),
        (["blockcommit", "rf", "vda", "--top", "/nowhere.qcow2"],
         "top '/nowhere.qcow2' is not in the backing chain of disk 'vda'"),
        (["blockcommit", "rf", "vda", "--top", mid, "--base", top],
         f"base '{top}' is not below the image committed"),
        (["blockcommit", "rf", "vda", "--top", base],
         f"image '{base}' of disk 'vda' has no backing image to commit into"),
        (["blockcommit", "rf", "vda", "--active", "--shallow", "--base", base],
         "--shallow commits into the image right below"),
        (["blockpull", "rf", "vda", "--base", top],
         f"base '{top}' is the top image of disk 'vda'"),
        (["blockpull", "rf", "vdz"], "no disk with path 'vdz'"),
    ]
    for argv, message in cases:
        r = daemon.virsh(*argv, check=False)
        assert r.returncode != 0 and message in r.stderr, (argv, r.stderr)
    assert disk_xml(dom) == before
    assert [os.path.exists(p) for p in (base, mid, top)] == [True, True, True]
    dom.destroy()
    alone = os.path.join(daemon.root, "alone.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", alone, "1M"], check=True)
    dom = start(daemon, "rf", alone)
    r = daemon.virsh("blockpull", "rf", "vda", check=False)
    assert "disk 'vda' has no backing image to pull from" in r.stderr, r.stderr
    dom.destroy()

