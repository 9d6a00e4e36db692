# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storage pools and volumes through stock virsh and python3-libvirt: the seed flow, every
pool and volume command, and the bad inputs (names escaping the pool, sizes, duplicates)."""
import os
import re
import struct
import subprocess
import threading
import time

import libvirt
import pytest

from conftest import domain_xml
from rpc import ERROR, Raw, error_code, xdr_domain, xdr_string, xdr_u32, xdr_u64

SEED_VOL = """<volume>
  <name>new_volume.img</name>
  <allocation>0</allocation>
  <capacity unit="G">10</capacity>
</volume>"""


def test_default_pool_exists(daemon):
    c = daemon.conn()
    p = c.storagePoolLookupByName("default")
    assert p.isActive() and p.isPersistent() and p.autostart()
    assert p.XMLDesc(0).count(os.path.join(daemon.root, "images")) == 1
    info = p.info()
    assert info[0] == libvirt.VIR_STORAGE_POOL_RUNNING and info[1] > 0
    assert [x.name() for x in c.listAllStoragePools()] == ["default"]
    assert c.listStoragePools() == ["default"] and c.numOfStoragePools() == 1
    c.close()


def test_seed_flow(daemon):
    """virsh vol-create default new_volume.xml; use it as a guest disk; delete it."""
    path = daemon.write("new_volume.xml", SEED_VOL)
    assert "Vol new_volume.img created" in daemon.virsh("vol-create", "default", path).stdout
    vol_path = os.path.join(daemon.root, "images", "new_volume.img")
    st = os.stat(vol_path)
    assert st.st_size == 10 * 1024 ** 3 and st.st_blocks == 0  # allocation 0: sparse
    out = daemon.virsh("vol-info", "new_volume.img", "--pool", "default").stdout
    assert re.search(r"Capacity:\s+10.00 GiB", out) and re.search(r"Allocation:\s+0.00 B", out)
    c = daemon.conn()
    d = c.defineXML(domain_xml("volguest", extra_devices=(
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{vol_path}'/><target dev='vda' bus='virtio'/></disk>")))
    d.create()
    # in use by a running domain: deleting is refused, naming the domain
    r = daemon.virsh("vol-delete", "new_volume.img", "--pool", "default", check=False)
    assert r.returncode == 1 and "volguest" in r.stderr
    assert "--force" not in r.stderr  # virsh has no such option: the hint says what virsh can do
    assert os.path.exists(vol_path)
    d.destroy()
    daemon.virsh("vol-delete", "new_volume.img", "--pool", "default")
    assert not os.path.exists(vol_path)
    c.close()


def test_volume_commands(daemon):
    v = daemon.virsh
    v("vol-create-as", "default", "a.qcow2", "64M", "--format", "qcow2")
    v("vol-create-as", "default", "full.raw", "8M")  # no allocation: fully allocated
    v("vol-create-as", "default", "sparse.raw", "8M", "--allocation", "0")
    img = os.path.join(daemon.root, "images")
    assert open(os.path.join(img, "a.qcow2"), "rb").read(4) == b"QFI\xfb"
    assert os.stat(os.path.join(img, "full.raw")).st_blocks * 512 >= 8 * 1024 ** 2
    assert os.stat(os.path.join(img, "sparse.raw")).st_blocks == 0
    out = v("vol-list", "default", "--details").stdout
    assert "a.qcow2" in out and "full.raw" in out and "64.00 MiB" in out
    assert v("vol-path", "a.qcow2", "--pool", "default").stdout.strip() == \
        os.path.join(img, "a.qcow2")
    assert v("vol-key", "a.qcow2", "--pool", "default").stdout.strip() == \
        os.path.join(img, "a.qcow2")
    assert v("vol-name", os.path.join(img, "a.qcow2")).stdout.strip() == "a.qcow2"
    assert v("vol-pool", os.path.join(img, "a.qcow2")).stdout.strip() == "default"
    xml = v("vol-dumpxml", "a.qcow2", "--pool", "default").stdout
    assert "<format type='qcow2'/>" in xml and "<capacity unit='bytes'>67108864</capacity>" in xml
    # backing store
    v("vol-create-as", "default", "overlay.qcow2", "64M", "--format", "qcow2",
      "--backing-vol", "a.qcow2", "--backing-vol-format", "qcow2")
    info = subprocess.run(["qemu-img", "info", os.path.join(img, "overlay.qcow2")],
                          capture_output=True, text=True).stdout
    assert "a.qcow2" in info
    # clone (vol-clone) and create-from with a format change
    v("vol-clone", "a.qcow2", "b.qcow2", "--pool", "default")
    path = daemon.write("from.xml", "<volume><name>c.raw</name><capacity>64M</capacity>"
                                    "<target><format type='raw'/></target></volume>")
    v("vol-create-from", "default", path, "a.qcow2", "--inputpool", "default")
    assert os.stat(os.path.join(img, "c.raw")).st_size == 64 * 1024 ** 2
    # resize: grow; shrink only with its flag
    v("vol-resize", "sparse.raw", "16M", "--pool", "default")
    assert os.stat(os.path.join(img, "sparse.raw")).st_size == 16 * 1024 ** 2
    r = v("vol-resize", "sparse.raw", "4M", "--pool", "default", check=False)
    assert r.returncode == 1 and "shrink" in r.stderr
    v("vol-resize", "sparse.raw", "4M", "--pool", "default", "--shrink")
    assert os.stat(os.path.join(img, "sparse.raw")).st_size == 4 * 1024 ** 2
    v("vol-resize", "a.qcow2", "128M", "--pool", "default")
    assert "128.00 MiB" in v("vol-info", "a.qcow2", "--pool", "default").stdout
    for name in ("a.qcow2", "b.qcow2", "c.raw", "full.raw", "sparse.raw", "overlay.qcow2"):
        v("vol-delete", name, "--pool", "default")
    assert os.listdir(img) == []


def test_python_volumes(daemon):
    c = daemon.conn()
    p = c.storagePoolLookupByName("default")
    vol = p.createXML("<volume><name>py.raw</name><capacity unit='M'>4</capacity>"
                      "<allocation>0</allocation></volume>", 0)
    assert vol.name() == "py.raw" and vol.info() == [0, 4 * 1024 ** 2, 0]
    assert p.listVolumes() == ["py.raw"] and p.numOfVolumes() == 1
    assert [x.name() for x in p.listAllVolumes()] == ["py.raw"]
    assert c.storageVolLookupByPath(vol.path()).name() == "py.raw"
    assert c.storageVolLookupByKey(vol.key()).name() == "py.raw"
    assert vol.storagePoolLookupByVolume().name() == "default"
    clone = p.createXMLFrom("<volume><name>py2.raw</name><capacity>0</capacity></volume>", vol, 0)
    assert clone.info()[1] == 4 * 1024 ** 2
    for v in (vol, clone):
        v.delete(0)
    with pytest.raises(libvirt.libvirtError) as e:
        p.storageVolLookupByName("py.raw")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
    with pytest.raises(libvirt.libvirtError) as e:
        c.storageVolLookupByPath("/nonexistent/file")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
    c.close()


def test_pool_commands(daemon):
    v = daemon.virsh
    target = os.path.join(daemon.root, "p2")
    v("pool-define-as", "p2", "dir", "--target", target)
    r = v("pool-start", "p2", check=False)
    assert r.returncode == 1 and "build the pool first" in r.stderr
    v("pool-build", "p2")
    v("pool-start", "p2")
    v("pool-autostart", "p2")
    out = v("pool-list", "--all", "--details").stdout
    assert re.search(r"p2\s+running\s+yes\s+yes", out)
    assert v("pool-uuid", "p2").stdout.strip() and \
        v("pool-name", v("pool-uuid", "p2").stdout.strip()).stdout.strip() == "p2"
    assert f"<path>{target}</path>" in v("pool-dumpxml", "p2").stdout
    v("pool-refresh", "p2")
    v("vol-create-as", "p2", "x", "1M")
    r = v("pool-delete", "p2", check=False)  # active
    assert r.returncode == 1
    v("pool-destroy", "p2")
    r = v("pool-delete", "p2", check=False)  # not empty
    assert r.returncode == 1 and "not empty" in r.stderr
    os.unlink(os.path.join(target, "x"))
    v("pool-delete", "p2")
    assert not os.path.exists(target)
    v("pool-undefine", "p2")
    assert "p2" not in v("pool-list", "--all").stdout
    # a transient pool
    os.makedirs(os.path.join(daemon.root, "p3"))
    v("pool-create-as", "p3", "dir", "--target", os.path.join(daemon.root, "p3"))
    assert "p3" in v("pool-list", "--transient").stdout
    v("pool-destroy", "p3")
    assert "p3" not in v("pool-list", "--all").stdout


def test_pools_persist_across_restart(daemon):
    daemon.virsh("pool-define-as", "keep", "dir", "--target", os.path.join(daemon.root, "keep"))
    daemon.virsh("pool-build", "keep")
    daemon.virsh("pool-start", "keep")
    daemon.virsh("pool-define-as", "idle", "dir", "--target", os.path.join(daemon.root, "idle"))
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    assert c.storagePoolLookupByName("keep").isActive()
    assert not c.storagePoolLookupByName("idle").isActive()
    for name in ("keep", "idle"):
        p = c.storagePoolLookupByName(name)
        if p.isActive():
            p.destroy()
        p.undefine()
    c.close()


BAD_VOLS = [
    ("escaping name", "<volume><name>../x</name><capacity>1M</capacity></volume>",
     libvirt.VIR_ERR_XML_DETAIL),
    ("slash", "<volume><name>a/b</name><capacity>1M</capacity></volume>",
     libvirt.VIR_ERR_XML_DETAIL),
    ("overflow", "<volume><name>o</name><capacity unit='EiB'>99999999</capacity></volume>",
     libvirt.VIR_ERR_OVERFLOW),
    ("allocation over capacity",
     "<volume><name>o</name><capacity>1M</capacity><allocation>2M</allocation></volume>",
     libvirt.VIR_ERR_INVALID_ARG),
    ("format vmdk", "<volume><name>o</name><capacity>1M</capacity>"
                    "<target><format type='vmdk'/></target></volume>",
     libvirt.VIR_ERR_CONFIG_UNSUPPORTED),
    ("malformed", "<volume><name>o", libvirt.VIR_ERR_XML_ERROR),
]


@pytest.mark.parametrize("label,xml,code", BAD_VOLS, ids=[b[0] for b in BAD_VOLS])
def test_bad_volumes(daemon, label, xml, code):
    c = daemon.conn()
    p = c.storagePoolLookupByName("default")
    before = sorted(os.listdir(os.path.join(daemon.root, "images")))
    with pytest.raises(libvirt.libvirtError) as e:
        p.createXML(xml, 0)
    assert e.value.get_error_code() == code, str(e.value)
    assert sorted(os.listdir(os.path.join(daemon.root, "images"))) == before
    c.close()


def test_bad_pools(daemon):
    c = daemon.conn()
    for xml, code in (
            ("<pool type='dir'><name>../p</name><target><path>/tmp/x</path></target></pool>",
             libvirt.VIR_ERR_XML_DETAIL),
            ("<pool type='logical'><name>lv</name><target><path>/dev/vg</path></target></pool>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED),
            ("<pool type='dir'><name>rel</name><target><path>rel/x</path></target></pool>",
             libvirt.VIR_ERR_INVALID_ARG),
            (f"<pool type='dir'><name>twin</name><target><path>{daemon.root}/images</path>"
             "</target></pool>", libvirt.VIR_ERR_OPERATION_FAILED)):
        with pytest.raises(libvirt.libvirtError) as e:
            c.storagePoolDefineXML(xml, 0)
        assert e.value.get_error_code() == code, xml
    assert [x.name() for x in c.listAllStoragePools()] == ["default"]
    with pytest.raises(libvirt.libvirtError) as e:
        c.storagePoolLookupByName("nope")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL
    c.close()


def test_concurrent_creates_one_wins(daemon):
    results = []

    def create():
        c = daemon.conn()
        try:
            c.storagePoolLookupByName("default").createXML(
                "<volume><name>race.raw</name><capacity>64M</capacity></volume>", 0)
            results.append("ok")
        except libvirt.libvirtError as e:
            results.append(e.get_error_code())
        c.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == sorted(["ok"] + [libvirt.VIR_ERR_STORAGE_VOL_EXIST] * 3,
                                              key=str)
    daemon.virsh("vol-delete", "race.raw", "--pool", "default")


PATTERN = b"DOMUS-SECRET-PATTERN-"


@pytest.mark.parametrize("algorithm", ["zero", "nnsa", "dod", "bsi", "gutmann", "schneier",
                                       "pfitzner7", "pfitzner33", "random", "trim"])
def test_wipe_leaves_nothing(daemon, algorithm):
    """Write a known pattern, wipe, read back: none of it remains and the size is kept."""
    name = f"w-{algorithm}.raw"
    daemon.virsh("vol-create-as", "default", name, "4M")
    path = os.path.join(daemon.root, "images", name)
    with open(path, "r+b") as f:
        f.write(PATTERN * (4 * 1024 ** 2 // len(PATTERN)))
    daemon.virsh("vol-wipe", name, "--pool", "default", "--algorithm", algorithm)
    data = open(path, "rb").read()
    assert len(data) == 4 * 1024 ** 2
    assert PATTERN not in data and b"SECRET" not in data
    if algorithm in ("zero", "trim"):
        assert data == bytes(len(data))
    if algorithm == "bsi":
        assert set(data) == {0x7F}
    daemon.virsh("vol-delete", name, "--pool", "default")


def test_wipe_qcow2_keeps_capacity(daemon):
    """As libvirt: a wiped qcow2 is overwritten byte for byte (no longer a valid qcow2)."""
    daemon.virsh("vol-create-as", "default", "q.qcow2", "16M", "--format", "qcow2")
    path = os.path.join(daemon.root, "images", "q.qcow2")
    size = os.stat(path).st_size
    daemon.virsh("vol-wipe", "q.qcow2", "--pool", "default")
    assert os.stat(path).st_size == size
    assert open(path, "rb").read(4) == b"\0\0\0\0"
    daemon.virsh("vol-delete", "q.qcow2", "--pool", "default")


def test_wipe_refused_while_in_use(daemon):
    daemon.virsh("vol-create-as", "default", "busy.raw", "4M")
    path = os.path.join(daemon.root, "images", "busy.raw")
    c = daemon.conn()
    d = c.createXML(domain_xml("busy", extra_devices=(
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{path}'/><target dev='vda' bus='virtio'/></disk>")), 0)
    with open(path, "r+b") as f:
        f.write(PATTERN)
    r = daemon.virsh("vol-wipe", "busy.raw", "--pool", "default", check=False)
    assert r.returncode == 1 and "busy" in r.stderr and "in use" in r.stderr
    assert open(path, "rb").read(len(PATTERN)) == PATTERN
    vol = c.storageVolLookupByPath(path)
    with pytest.raises(libvirt.libvirtError) as e:
        vol.wipePattern(libvirt.VIR_STORAGE_VOL_WIPE_ALG_ZERO, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    with pytest.raises(libvirt.libvirtError) as e:
        vol.wipePattern(42, 0)
    d.destroy()
    vol.wipe(0)
    assert open(path, "rb").read(len(PATTERN)) == bytes(len(PATTERN))
    vol.delete(0)
    c.close()


def test_disk_from_pool(daemon):
    """<disk type='volume'> resolves through the pool at start; missing pools and volumes are
    clear errors naming them; a volume in use cannot be deleted."""
    daemon.virsh("vol-create-as", "default", "pd.qcow2", "16M", "--format", "qcow2")
    disk = ("<disk type='volume' device='disk'><source pool='default' volume='pd.qcow2'/>"
            "<target dev='vda' bus='virtio'/></disk>")
    c = daemon.conn()
    d = c.defineXML(domain_xml("pooldisk", extra_devices=disk))
    d.create()
    log = open(os.path.join(daemon.root, "log", "pooldisk.log")).read()
    path = os.path.join(daemon.root, "images", "pd.qcow2")
    assert f'"filename":"{path}"' in log and '"driver":"qcow2"' in log
    assert "<source pool='default' volume='pd.qcow2'/>" in d.XMLDesc(0)
    r = daemon.virsh("vol-delete", "pd.qcow2", "--pool", "default", check=False)
    assert r.returncode == 1 and "pooldisk" in r.stderr
    d.destroy()
    for bad, word in (("pool='nope' volume='pd.qcow2'", "nope"),
                      ("pool='default' volume='missing.qcow2'", "missing.qcow2")):
        x = c.defineXML(domain_xml("pooldisk2", extra_devices=disk.replace(
            "pool='default' volume='pd.qcow2'", bad)))
        with pytest.raises(libvirt.libvirtError) as e:
            x.create()
        assert word in str(e.value) and "vda" in str(e.value)
        assert e.value.get_error_code() in (libvirt.VIR_ERR_NO_STORAGE_POOL,
                                            libvirt.VIR_ERR_NO_STORAGE_VOL)
        assert not x.isActive()
        x.undefine()
    d.undefine()
    daemon.virsh("vol-delete", "pd.qcow2", "--pool", "default")
    c.close()


def test_pool_capabilities_sources_and_lookups(daemon):
    """pool-capabilities, find-storage-pool-sources(-as), vol-info --physical as virsh prints
    them; lookup of a pool by its target path as libvirt compares it."""
    daemon.virsh("vol-create-as", "default", "ph.qcow2", "64M", "--format", "qcow2")
    for args in (["pool-capabilities"], ["vol-info", "--physical", "ph.qcow2", "--pool", "default"],
                 ["vol-info", "--bytes", "--physical", "ph.qcow2", "--pool", "default"],
                 ["find-storage-pool-sources", "dir"], ["find-storage-pool-sources", "logical"],
                 ["find-storage-pool-sources", "nosuch"],
                 ["find-storage-pool-sources-as", "netfs", "--host", "h", "--port", "1"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    caps = daemon.virsh("pool-capabilities").stdout
    assert "<pool type='dir' supported='yes'>" in caps and "<value>qcow2</value>" in caps
    assert "<pool type='logical' supported='no'/>" in caps
    assert "does not support source discovery" in daemon.virsh(
        "find-storage-pool-sources", "dir", check=False).stderr
    c = daemon.conn()
    p = c.storagePoolLookupByName("default")
    vol = p.storageVolLookupByName("ph.qcow2")
    path = os.path.join(daemon.root, "images", "ph.qcow2")
    st = os.stat(path)
    assert vol.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL) == [0, 64 << 20, st.st_size]
    assert vol.infoFlags(0) == vol.info() == [0, 64 << 20, st.st_blocks * 512]
    images = os.path.join(daemon.root, "images")
    for asked in (images, images + "/", "/" + images[1:].replace("/", "//")):
        assert c.storagePoolLookupByTargetPath(asked).name() == "default", asked
    with pytest.raises(libvirt.libvirtError) as e:
        c.storagePoolLookupByTargetPath(images + "//sub/")
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL
    assert f"'{images}//sub/' ({images}/sub)" in str(e.value)
    # an inactive pool is not found by its path
    target = os.path.join(daemon.root, "inactive")
    daemon.virsh("pool-define-as", "inactive", "dir", "--target", target)
    with pytest.raises(libvirt.libvirtError) as e:
        c.storagePoolLookupByTargetPath(target)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL
    daemon.virsh("pool-undefine", "inactive")
    vol.delete(0)
    c.close()


def test_block_peek(daemon):
    """virDomainBlockPeek: bytes of a raw disk, by target or path, of a domain running or not;
    a qcow2 disk, a read past the end, an unknown disk and too large a read are refused."""
    raw = os.path.join(daemon.root, "peek.raw")
    with open(raw, "wb") as f:
        f.truncate(1 << 20)
        f.seek(4096)
        f.write(b"DOMUS-PEEK")
    daemon.virsh("vol-create-as", "default", "peek.qcow2", "1M", "--format", "qcow2")
    disks = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             f"<source file='{raw}'/><target dev='vda' bus='virtio'/></disk>"
             "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
             "<source pool='default' volume='peek.qcow2'/><target dev='vdb' bus='virtio'/></disk>")
    c = daemon.conn()
    d = c.defineXML(domain_xml("peek", extra_devices=disks))
    for running in (False, True):
        if running:
            d.create()
        assert d.blockPeek("vda", 4096, 10, 0) == b"DOMUS-PEEK"
        assert d.blockPeek(raw, 4090, 16, 0) == b"\0" * 6 + b"DOMUS-PEEK"
        for path, offset, size, code, words in (
                ("vdb", 0, 16, libvirt.VIR_ERR_OPERATION_UNSUPPORTED, "'raw' format not 'qcow2'"),
                ("vda", (1 << 20) - 4, 16, libvirt.VIR_ERR_INVALID_ARG, "only 4 bytes"),
                ("vdc", 0, 16, libvirt.VIR_ERR_INVALID_ARG, "vdc")):
            with pytest.raises(libvirt.libvirtError) as e:
                d.blockPeek(path, offset, size, 0)
            assert e.value.get_error_code() == code and words in str(e.value), str(e.value)
    # more than the protocol's 4 MiB: python refuses it itself, the daemon too
    r = Raw(daemon.sock)
    r.open()
    reply = r.rpc(103, xdr_domain("peek", d.UUID()) + xdr_string("vda") + xdr_u64(0) +
                  xdr_u32(5 << 20) + xdr_u32(0))
    assert reply["status"] == ERROR and error_code(reply["body"])[0] == libvirt.VIR_ERR_RPC
    r.close()
    ro = daemon.conn(readonly=True)
    with pytest.raises(libvirt.libvirtError) as e:
        ro.lookupByName("peek").blockPeek("vda", 0, 16, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    d.destroy()
    d.undefine()
    daemon.virsh("vol-delete", "peek.qcow2", "--pool", "default")
    c.close()


def test_upload_download(daemon, tmp_path):
    data = os.urandom(3 * 1024 ** 2 + 123)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    daemon.virsh("vol-create-as", "default", "ud.raw", str(len(data)), "--allocation", "0")
    daemon.virsh("vol-upload", "ud.raw", str(src), "--pool", "default")
    assert open(os.path.join(daemon.root, "images", "ud.raw"), "rb").read() == data
    out = tmp_path / "out.bin"
    daemon.virsh("vol-download", "ud.raw", str(out), "--pool", "default")
    assert out.read_bytes() == data
    daemon.virsh("vol-download", "ud.raw", str(out), "--pool", "default",
                 "--offset", "1000", "--length", "4096")
    assert out.read_bytes() == data[1000:5096]
    # python3-libvirt's stream API
    c = daemon.conn()
    vol = c.storageVolLookupByPath(os.path.join(daemon.root, "images", "ud.raw"))
    st = c.newStream(0)
    vol.upload(st, 0, 0, 0)
    st.send(b"x" * 4096)
    st.finish()
    st = c.newStream(0)
    vol.download(st, 0, 8192, 0)
    got = b""
    while True:
        chunk = st.recv(65536)
        if not chunk:
            break
        got += chunk
    st.finish()
    assert got == b"x" * 4096 + data[4096:8192]
    vol.delete(0)
    c.close()


def test_sparse_upload_download(daemon, tmp_path):
    """--sparse: holes travel as hole messages, not zeros, and stay holes on both ends."""
    daemon.virsh("vol-create-as", "default", "sp.raw", "64M", "--allocation", "0")
    path = os.path.join(daemon.root, "images", "sp.raw")
    with open(path, "r+b") as f:
        f.seek(10 * 1024 ** 2)
        f.write(b"A" * 100000)
        f.seek(50 * 1024 ** 2)
        f.write(b"B" * 5000)
    out = tmp_path / "sp.down"
    daemon.virsh("vol-download", "sp.raw", str(out), "--pool", "default", "--sparse")
    assert out.read_bytes() == open(path, "rb").read()
    assert os.stat(out).st_blocks * 512 < 1024 ** 2  # the holes stayed holes
    daemon.virsh("vol-create-as", "default", "sp2.raw", "64M")  # fully allocated
    daemon.virsh("vol-upload", "sp2.raw", str(out), "--pool", "default", "--sparse")
    path2 = os.path.join(daemon.root, "images", "sp2.raw")
    assert open(path2, "rb").read() == open(path, "rb").read()
    assert os.stat(path2).st_blocks * 512 < 1024 ** 2  # holes punched where data was
    for name in ("sp.raw", "sp2.raw"):
        daemon.virsh("vol-delete", name, "--pool", "default")


def test_failed_create_leaves_nothing(daemon):
    c = daemon.conn()
    p = c.storagePoolLookupByName("default")
    with pytest.raises(libvirt.libvirtError) as e:
        p.createXML("<volume><name>bad.qcow2</name><capacity>1M</capacity>"
                    "<target><format type='qcow2'/></target>"
                    "<backingStore><path>/nonexistent/base.qcow2</path>"
                    "<format type='qcow2'/></backingStore></volume>", 0)
    assert "base.qcow2" in str(e.value)
    assert "bad.qcow2" not in os.listdir(os.path.join(daemon.root, "images"))
    vol = p.createXML("<volume><name>pm.qcow2</name><capacity>64M</capacity>"
                      "<target><format type='qcow2'/></target></volume>",
                      libvirt.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA)
    info = subprocess.run(["qemu-img", "info", vol.path()], capture_output=True, text=True)
    assert "qcow2" in info.stdout
    assert vol.info()[2] > 64 * 1024  # metadata preallocated
    vol.delete(0)
    c.close()


def test_wipe_runs_in_a_worker(daemon):
    """Other calls are answered while a long wipe runs."""
    import time
    daemon.virsh("vol-create-as", "default", "big.raw", "192M")
    c = daemon.conn()
    vol = c.storageVolLookupByPath(os.path.join(daemon.root, "images", "big.raw"))
    t = threading.Thread(target=lambda: vol.wipePattern(
        libvirt.VIR_STORAGE_VOL_WIPE_ALG_PFITZNER7, 0))
    t.start()
    time.sleep(0.2)
    c2 = daemon.conn()
    slowest = 0
    while t.is_alive():
        t0 = time.time()
        c2.listAllStoragePools()
        c2.listAllDomains()
        slowest = max(slowest, time.time() - t0)
        time.sleep(0.05)
    t.join()
    assert slowest < 0.5, slowest
    vol.delete(0)
    c2.close()
    c.close()


def test_resize_bounds(daemon):
    c = daemon.conn()
    vol = c.storagePoolLookupByName("default").createXML(
        "<volume><name>rs.raw</name><capacity>1M</capacity><allocation>0</allocation></volume>", 0)
    for cap, flags in ((2 ** 62, 0), (2 ** 62, libvirt.VIR_STORAGE_VOL_RESIZE_DELTA),
                       (2 ** 50, libvirt.VIR_STORAGE_VOL_RESIZE_DELTA)):
        with pytest.raises(libvirt.libvirtError) as e:
            vol.resize(cap, flags)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OVERFLOW
    with pytest.raises(libvirt.libvirtError) as e:
        vol.resize(2 * 1024 ** 2, libvirt.VIR_STORAGE_VOL_RESIZE_DELTA |
                   libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    vol.resize(1024 ** 2, libvirt.VIR_STORAGE_VOL_RESIZE_DELTA)
    assert vol.info()[1] == 2 * 1024 ** 2
    assert os.stat(vol.path()).st_size == 2 * 1024 ** 2
    vol.delete(0)
    c.close()


def test_wipe_is_a_job_with_progress_abort_and_a_lock(daemon):
    """A wipe holds its volume as a job of the engine: progress through VOL_JOB_INFO, abort
    through VOL_JOB_ABORT (Domus's program; refused read-only), and a delete meanwhile is
    refused naming the job."""
    import threading
    from rpc import Raw, error_code, error_message, xdr_vol
    DOMUS_PROG = 0x444F4D55
    daemon.virsh("vol-create-as", "default", "slow.raw", "256M")
    path = os.path.join(daemon.root, "images", "slow.raw")
    c = daemon.conn()
    vol = c.storageVolLookupByPath(path)
    outcome = []

    def wipe():
        cc = daemon.conn()
        try:
            cc.storageVolLookupByPath(path).wipePattern(libvirt.VIR_STORAGE_VOL_WIPE_ALG_GUTMANN,
                                                        0)
            outcome.append("done")
        except libvirt.libvirtError as e:
            outcome.append(e)
        cc.close()

    t = threading.Thread(target=wipe)
    t.start()
    raw = Raw(daemon.sock)
    raw.open()
    handle = xdr_vol("default", "slow.raw", path)
    deadline = time.time() + 10
    while time.time() < deadline:
        f = raw.rpc(1, handle, prog=DOMUS_PROG)
        active, done, total = struct.unpack(">iQQ", f["body"])
        if active and done > 0:
            break
        time.sleep(0.02)
    assert active and 0 < done < total
    with pytest.raises(libvirt.libvirtError) as e:
        vol.delete(0)
    assert "busy with job 'wipe'" in e.value.get_error_message()
    ro = Raw(daemon.sock_ro)
    ro.open()
    f = ro.rpc(2, handle, prog=DOMUS_PROG)
    assert error_code(f["body"])[0] == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    f = raw.rpc(2, handle, prog=DOMUS_PROG)
    assert f["status"] == 0, error_message(f["body"])
    t.join(20)
    assert isinstance(outcome[0], libvirt.libvirtError)
    assert outcome[0].get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED
    f = raw.rpc(1, handle, prog=DOMUS_PROG)
    assert struct.unpack(">i", f["body"][:4])[0] == 0
    f = raw.rpc(2, handle, prog=DOMUS_PROG)
    assert "no job is active" in error_message(f["body"]).decode()
    raw.close()
    vol.delete(0)
    c.close()


def test_cli_vol_job_abort(daemon):
    """domus vol-wipe --verbose shows progress; domus vol-job-abort stops it from another
    process, and the wipe says it was aborted."""
    import subprocess
    from conftest import DOMUS
    daemon.domus("vol-create-as", "default", "slowcli.raw", "256M")
    path = os.path.join(daemon.root, "images", "slowcli.raw")
    wipe = subprocess.Popen([DOMUS, "-c", daemon.domus_uri, "vol-wipe", "slowcli.raw",
                             "--pool", "default", "--algorithm", "gutmann", "--verbose"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c = daemon.conn()
    vol = c.storageVolLookupByPath(path)
    deadline = time.time() + 10
    while time.time() < deadline:
        r = daemon.domus("vol-job-abort", "slowcli.raw", "--pool", "default", check=False)
        if r.returncode == 0:
            break
        assert "no job is active" in r.stderr, r.stderr
        time.sleep(0.05)
    assert r.returncode == 0 and "aborted" in r.stdout, r.stderr
    out, err = wipe.communicate(timeout=20)
    assert wipe.returncode != 0
    assert "Failed to wipe vol slowcli.raw" in err and "abort" in err, err
    r = daemon.domus("vol-job-abort", "slowcli.raw", "--pool", "default", check=False,
                     readonly=True)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
    vol.delete(0)
    c.close()


def test_pool_events(daemon, loop):
    """virConnectStoragePoolEventRegisterAny: the lifecycle of a pool and its refreshes, to
    every registration, one of them for that pool alone."""
    c = daemon.conn()
    every, mine, refreshed = [], [], []
    E = libvirt
    cb_all = c.storagePoolEventRegisterAny(
        None, E.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
        lambda conn, pool, event, detail, opaque: every.append((pool.name(), event)), None)
    target = os.path.join(daemon.root, "evpool")
    pool = c.storagePoolDefineXML(f"<pool type='dir'><name>evpool</name><target><path>{target}"
                                  "</path></target></pool>", 0)
    c.storagePoolEventRegisterAny(
        pool, E.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
        lambda conn, p, event, detail, opaque: mine.append(event), None)
    c.storagePoolEventRegisterAny(
        pool, E.VIR_STORAGE_POOL_EVENT_ID_REFRESH,
        lambda conn, p, opaque: refreshed.append(p.name()), None)
    daemon.virsh("pool-define-as", "other", "dir", "--target", os.path.join(daemon.root, "o"))
    pool.build(0)
    pool.create(0)
    pool.refresh(0)
    pool.destroy()
    pool.delete(0)
    pool.undefine()
    daemon.virsh("pool-undefine", "other")
    want = [E.VIR_STORAGE_POOL_EVENT_CREATED, E.VIR_STORAGE_POOL_EVENT_STARTED,
            E.VIR_STORAGE_POOL_EVENT_STOPPED, E.VIR_STORAGE_POOL_EVENT_DELETED,
            E.VIR_STORAGE_POOL_EVENT_UNDEFINED]
    deadline = time.time() + 10
    while (len(every) < 8 or len(mine) < len(want) or not refreshed) and time.time() < deadline:
        time.sleep(0.02)
    assert every == ([("evpool", E.VIR_STORAGE_POOL_EVENT_DEFINED),
                      ("other", E.VIR_STORAGE_POOL_EVENT_DEFINED)] +
                     [("evpool", e) for e in want] +
                     [("other", E.VIR_STORAGE_POOL_EVENT_UNDEFINED)])
    assert mine == want  # nothing of the other pool
    assert refreshed == ["evpool"]
    c.storagePoolEventDeregisterAny(cb_all)
    with pytest.raises(libvirt.libvirtError):
        c.storagePoolEventDeregisterAny(cb_all)
    c.close()
