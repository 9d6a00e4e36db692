# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt-dbus, unchanged, on domusd: it hard-wires qemu:///system (as root), so domusd serves
libvirt's socket paths (--libvirt-paths) in a mount namespace with a tmpfs over /run, and
libvirt-dbus runs on a private session bus there. Its Connect, Domain, Network, StoragePool,
NodeDevice, Secret and Interface objects answer, and lifecycle changes made through it come
back as its DomainEvent, NetworkEvent, StoragePoolEvent and SecretEvent signals."""
import re

import pytest

from conftest import domain_xml
from netns import NetDaemon, needs_root

pytestmark = needs_root

SECRET = ("<secret ephemeral='no' private='no'><uuid>6dd3e4a5-1d76-44ce-961f-f119f5aad935"
          "</uuid><usage type='volume'><volume>/var/lib/x.img</volume></usage></secret>")

SCRIPT = r"""
set -u
libvirt-dbus --session &
for i in $(seq 100); do
    gdbus introspect --session --dest org.libvirt --object-path /org/libvirt/QEMU >/dev/null 2>&1 && break
    sleep 0.1
done
gdbus monitor --session --dest org.libvirt > "$OUT/signals" &
sleep 0.5
C="gdbus call --session --dest org.libvirt --object-path /org/libvirt/QEMU --method"
obj() { grep -o "/org/libvirt[^']*" | head -1; }
call() { local o="$1"; shift; gdbus call --session --dest org.libvirt --object-path "$o" --method "$@"; }
props() { call "$1" org.freedesktop.DBus.Properties.GetAll "$2"; }
echo "== connect"; props /org/libvirt/QEMU org.libvirt.Connect
for l in ListDomains ListNetworks ListStoragePools ListSecrets ListInterfaces; do
    echo "== $l"; $C org.libvirt.Connect.$l 0
done
echo "== nodedevs"; $C org.libvirt.Connect.ListNodeDevices 0 | grep -o "nodedev/computer"
echo "== nodeinfo"; $C org.libvirt.Connect.NodeGetFreeMemory
D=$($C org.libvirt.Connect.DomainLookupByName dbus1 | obj)
call "$D" org.libvirt.Domain.Create 0
echo "== domain"; props "$D" org.libvirt.Domain
echo "== domainxml"; call "$D" org.libvirt.Domain.GetXMLDesc 0 | grep -o "<name>dbus1</name>"
call "$D" org.libvirt.Domain.Destroy 0
N=$($C org.libvirt.Connect.NetworkLookupByName default | obj)
echo "== network"; props "$N" org.libvirt.Network
call "$N" org.libvirt.Network.Destroy
call "$N" org.libvirt.Network.Create
echo "== networkxml"; call "$N" org.libvirt.Network.GetXMLDesc 0 | grep -o "<bridge name='virbr0'"
P=$($C org.libvirt.Connect.StoragePoolLookupByName default | obj)
echo "== pool"; props "$P" org.libvirt.StoragePool
call "$P" org.libvirt.StoragePool.Refresh 0
echo "== poolinfo"; call "$P" org.libvirt.StoragePool.GetInfo
echo "== nodedevxml"; call /org/libvirt/QEMU/nodedev/computer org.libvirt.NodeDevice.GetXMLDesc 0 | grep -o "<name>computer</name>"
S=$($C org.libvirt.Connect.SecretDefineXML "$SECRET" 0 | obj)
echo "== secret"; props "$S" org.libvirt.Secret
call "$S" org.libvirt.Secret.SetValue "[byte 0x73, 0x33, 0x63]" 0
echo "== secretvalue"; call "$S" org.libvirt.Secret.GetValue 0
call "$S" org.libvirt.Secret.Undefine
I=$($C org.libvirt.Connect.ListInterfaces 0 | obj)
echo "== interfacexml"; call "$I" org.libvirt.Interface.GetXMLDesc 0 | grep -o "<interface type='[a-z]*' name='lo'\|<interface type='[a-z]*' name='[a-z0-9]*'" | head -1
sleep 1
kill %2 %1
"""


@pytest.fixture(scope="module")
def dbus(tmp_path_factory):
    d = NetDaemon(extra_args=["--libvirt-paths"], default_network=True)
    d.ns.run("mount", "-t", "tmpfs", "tmpfs", "/run")
    d.start()
    c = d.conn()
    c.defineXML(domain_xml("dbus1"))
    c.close()
    out = tmp_path_factory.mktemp("dbus")
    r = d.ns.run("env", f"OUT={out}", f"SECRET={SECRET}", "dbus-run-session", "--", "bash",
                 "-c", SCRIPT, check=False, timeout=180)
    sections = {}
    for block in r.stdout.split("== ")[1:]:
        name, _, body = block.partition("\n")
        sections[name.strip()] = body
    signals = (out / "signals").read_text()
    yield sections, signals, r
    d.destroy()


def test_objects_answer(dbus):
    s, _, r = dbus
    assert "'Hostname'" in s["connect"] and "'LibVersion': <<uint64 9000000>>" in s["connect"], \
        r.stdout + r.stderr
    assert "/org/libvirt/QEMU/domain/_" in s["ListDomains"]
    assert "/org/libvirt/QEMU/network/_" in s["ListNetworks"]
    assert "/org/libvirt/QEMU/storagepool/_" in s["ListStoragePools"]
    assert "/org/libvirt/QEMU/interface/" in s["ListInterfaces"]
    assert "nodedev/computer" in s["nodedevs"]
    assert re.search(r"uint64 \d+", s["nodeinfo"])
    assert "'Active': <<true>>" in s["domain"] and "'Name': <<'dbus1'>>" in s["domain"]
    assert "<name>dbus1</name>" in s["domainxml"]
    assert "'Name': <<'default'>>" in s["network"] and "'Active': <<true>>" in s["network"]
    assert "<bridge name='virbr0'" in s["networkxml"]
    assert "'Name': <<'default'>>" in s["pool"]
    assert re.search(r"\(\(2, uint64 \d+, uint64 \d+, uint64 \d+\),\)", s["poolinfo"])
    assert "<name>computer</name>" in s["nodedevxml"]
    assert "'UsageID': <<'/var/lib/x.img'>>" in s["secret"]
    assert "[byte 0x73, 0x33, 0x63]" in s["secretvalue"]
    assert "<interface type=" in s["interfacexml"]


def test_signals(dbus):
    _, signals, r = dbus
    # (object, event, detail) as libvirt numbers them: started/booted, stopped/destroyed;
    # network stopped then started; pool refreshed; secret defined then undefined
    assert re.search(r"DomainEvent \(objectpath '/org/libvirt/QEMU/domain/_[^']*', 2, 0\)",
                     signals), signals
    assert re.search(r"DomainEvent \(objectpath '[^']*', 5, 1\)", signals)
    # (libvirt-dbus sends a network's event without its detail)
    assert re.search(r"NetworkEvent \(objectpath '/org/libvirt/QEMU/network/_[^']*', 3\)",
                     signals), signals
    assert re.search(r"NetworkEvent \(objectpath '[^']*', 2\)", signals)
    assert re.search(r"/org/libvirt/QEMU/storagepool/_[^:]*: org.libvirt.StoragePool.Refresh",
                     signals), signals
    assert re.search(r"SecretEvent \(objectpath '/org/libvirt/QEMU/secret/_[^']*', 0, 0\)",
                     signals)
    assert re.search(r"SecretEvent \(objectpath '[^']*', 1, 0\)", signals)
