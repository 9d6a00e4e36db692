# SPDX-License-Identifier: LGPL-2.1-or-later
"""Virtual networks: the default NAT network, the net-* lifecycle through virsh and
python3-libvirt, every refusal, updates, events, and DHCP, DNS and NAT seen from real DHCP
clients (busybox udhcpc in namespaces joined to the bridge by veth pairs). Every daemon here
runs in network and mount namespaces of its own (tests/integration/netns.py)."""
import json
import os
import re
import signal
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from netns import Host, NetDaemon, Namespace, needs_root

pytestmark = needs_root

UDHCPC_SCRIPT = """#!/bin/sh
# udhcpc's hook: configure what the lease says
case "$1" in
bound|renew)
    busybox ip addr flush dev "$interface"
    busybox ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && busybox ip route replace default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
"""


def net_xml(name, third, bridge=None, forward="nat", extra="", dhcp=True, uuid=None):
    fwd = f"<forward mode='{forward}'/>" if forward else ""
    br = f"<bridge name='{bridge}'/>" if bridge else ""
    rng = (f"<dhcp><range start='10.77.{third}.10' end='10.77.{third}.50'/></dhcp>"
           if dhcp else "")
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<network><name>{name}</name>{u}{fwd}{br}{extra}"
            f"<ip address='10.77.{third}.1' prefix='24'>{rng}</ip></network>")


@pytest.fixture(scope="module")
def nd():
    d = NetDaemon(default_network=True)
    d.start()
    yield d
    d.destroy()


def names(conn, flags=0):
    return sorted(n.name() for n in conn.listAllNetworks(flags))


def clean_networks(d):
    c = d.conn()
    for n in c.listAllNetworks():
        if n.name() == "default":
            continue
        if n.isActive():
            n.destroy()
        try:
            n.undefine()
        except libvirt.libvirtError:
            pass
    c.close()


def test_default_network_defined_started_and_autostarted(nd):
    out = nd.virsh("net-list", "--all").stdout
    assert re.search(r"default\s+active\s+yes\s+yes", out), out
    c = nd.conn()
    n = c.networkLookupByName("default")
    assert n.bridgeName() == "virbr0"
    assert n.isActive() and n.isPersistent() and n.autostart()
    xml = n.XMLDesc()
    assert "<forward mode='nat'>" in xml and "<port start='1024' end='65535'/>" in xml
    assert "<ip address='192.168.122.1' netmask='255.255.255.0'>" in xml
    assert "<range start='192.168.122.2' end='192.168.122.254'/>" in xml
    assert re.search(r"<mac address='52:54:00(:[0-9a-f]{2}){3}'/>", xml)
    assert "192.168.122.1/24" in nd.ns.addresses("virbr0")
    assert len(nd.dnsmasq_pids()) == 1
    rules = nd.ns.nft_ruleset()
    assert "table inet domus_virbr0" in rules
    assert "ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 masquerade" in rules
    assert names(c, libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE) == ["default"]
    assert names(c, libvirt.VIR_CONNECT_LIST_NETWORKS_INACTIVE) == []
    assert c.numOfNetworks() == 1 and c.listNetworks() == ["default"]
    assert c.numOfDefinedNetworks() == 0
    assert c.networkLookupByUUID(n.UUID()).name() == "default"
    c.close()
    # the read-only socket sees networks and cannot change them
    ro = nd.conn(readonly=True)
    assert names(ro) == ["default"]
    with pytest.raises(libvirt.libvirtError) as e:
        ro.networkLookupByName("default").destroy()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()


def test_default_takes_the_next_free_subnet_and_undefine_is_final():
    d = NetDaemon(default_network=True)
    try:
        # the host already routes 192.168.122.0/24
        d.ns.run("ip", "link", "add", "lan0", "type", "bridge")
        d.ns.run("ip", "addr", "add", "192.168.122.7/24", "dev", "lan0")
        d.ns.run("ip", "link", "set", "lan0", "up")
        d.start()
        xml = d.virsh("net-dumpxml", "default").stdout
        assert "<ip address='192.168.123.1' netmask='255.255.255.0'>" in xml, xml
        assert "192.168.123.1/24" in d.ns.addresses("virbr0")
        d.virsh("net-destroy", "default")
        d.virsh("net-undefine", "default")
        d.stop()
        d.start()
        assert d.virsh("net-list", "--all", "--name").stdout.strip() == ""
    finally:
        d.destroy()


def test_lifecycle_through_virsh(nd):
    path = nd.write("lab.xml", net_xml("lab", 1, extra="<domain name='lab.test'/>"))
    try:
        out = nd.virsh("net-define", path).stdout
        assert "Network lab defined" in out
        listing = nd.virsh("net-list", "--inactive").stdout
        assert re.search(r"lab\s+inactive\s+no\s+yes", listing), listing
        bridge = nd.virsh("net-info", "lab").stdout
        m = re.search(r"Bridge:\s+(virbr\d+)", bridge)
        assert m and m.group(1) != "virbr0", bridge
        br = m.group(1)
        assert br not in nd.ns.links()
        nd.virsh("net-start", "lab")
        assert br in nd.ns.links()
        assert "10.77.1.1/24" in nd.ns.addresses(br)
        assert f"table inet domus_{br}" in nd.ns.nft_ruleset()
        info = nd.virsh("net-info", "lab").stdout
        assert re.search(r"Active:\s+yes", info) and re.search(r"Persistent:\s+yes", info)
        nd.virsh("net-autostart", "lab")
        assert re.search(r"Autostart:\s+yes", nd.virsh("net-info", "lab").stdout)
        nd.virsh("net-autostart", "lab", "--disable")
        assert re.search(r"Autostart:\s+no", nd.virsh("net-info", "lab").stdout)
        live = nd.virsh("net-dumpxml", "lab").stdout
        assert f"<bridge name='{br}' stp='on' delay='0'/>" in live
        assert "<domain name='lab.test'/>" in live
        assert nd.virsh("net-dumpxml", "lab", "--inactive").stdout == live
        assert len(nd.dnsmasq_pids()) == 2
        nd.virsh("net-destroy", "lab")
        assert br not in nd.ns.links()
        assert f"domus_{br}" not in nd.ns.nft_ruleset()
        assert len(nd.dnsmasq_pids()) == 1
        nd.virsh("net-undefine", "lab")
        assert nd.virsh("net-list", "--all", "--name").stdout.split() == ["default"]
    finally:
        clean_networks(nd)


def test_transient_network(nd):
    path = nd.write("tmp.xml", net_xml("tmpnet", 2, bridge="tmpbr0", forward="route"))
    try:
        nd.virsh("net-create", path)
        info = nd.virsh("net-info", "tmpnet").stdout
        assert re.search(r"Persistent:\s+no", info) and re.search(r"Active:\s+yes", info)
        assert "tmpbr0" in nd.ns.links()
        r = nd.virsh("net-autostart", "tmpnet", check=False)
        assert r.returncode != 0 and "transient" in r.stderr
        r = nd.virsh("net-undefine", "tmpnet", check=False)
        assert r.returncode != 0 and "transient" in r.stderr
        nd.virsh("net-destroy", "tmpnet")
        assert "tmpbr0" not in nd.ns.links()
        assert "tmpnet" not in nd.virsh("net-list", "--all").stdout
    finally:
        clean_networks(nd)


def expect_error(fn, code, text):
    with pytest.raises(libvirt.libvirtError) as e:
        fn()
    assert e.value.get_error_code() == code, e.value
    assert text in str(e.value), e.value
    return e.value


def test_refusals_change_nothing(nd):
    c = nd.conn()
    before = names(c)
    try:
        # another network's bridge name
        expect_error(lambda: c.networkDefineXML(net_xml("x1", 3, bridge="virbr0")),
                     libvirt.VIR_ERR_OPERATION_FAILED, "already used by network 'default'")
        # a subnet an active network has: defined, refused at start, nothing left on the host
        n = c.networkDefineXML("<network><name>clash</name><bridge name='clash0'/>"
                               "<ip address='192.168.122.129' prefix='25'/></network>")
        expect_error(n.create, libvirt.VIR_ERR_OPERATION_INVALID,
                     "overlaps 192.168.122.1/24 of active network 'default'")
        assert "clash0" not in nd.ns.links() and not n.isActive()
        n.undefine()
        # a subnet the host routes
        nd.ns.run("ip", "link", "add", "uplink0", "type", "bridge")
        nd.ns.run("ip", "addr", "add", "10.77.9.2/24", "dev", "uplink0")
        nd.ns.run("ip", "link", "set", "uplink0", "up")
        n = c.networkDefineXML(net_xml("routed", 9, bridge="routed0"))
        expect_error(n.create, libvirt.VIR_ERR_OPERATION_INVALID,
                     "already in use by interface 'uplink0'")
        assert "routed0" not in nd.ns.links()
        n.undefine()
        # a bridge name a host interface has
        n = c.networkDefineXML(net_xml("taken", 4, bridge="uplink0"))
        expect_error(n.create, libvirt.VIR_ERR_OPERATION_FAILED, "'uplink0' already exists")
        assert "10.77.9.2/24" in nd.ns.addresses("uplink0")
        n.undefine()
        nd.ns.run("ip", "link", "del", "uplink0")
        # bad XML of every kind
        for xml, code, text in [
            (net_xml("r", 5).replace("10.77.5.50", "10.77.6.50"), libvirt.VIR_ERR_INVALID_ARG,
             "outside its subnet"),
            ("<network><name>m</name><ip address='10.77.5.1' prefix='24'><dhcp>"
             "<host mac='52:54:00:00:00:01' ip='10.77.5.2'/>"
             "<host mac='52:54:00:00:00:01' ip='10.77.5.3'/></dhcp></ip></network>",
             libvirt.VIR_ERR_INVALID_ARG, "have mac '52:54:00:00:00:01'"),
            ("<network><name>v</name><forward mode='bridge'/><bridge name='br9'/><vlan/>"
             "</network>", libvirt.VIR_ERR_XML_ERROR,
             "each <vlan> must have at least one <tag id='n'/> subelement"),
            ("<network><name>v</name><vlan><tag id='9'/></vlan></network>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "doesn't support vlan configuration"),
            ("<network><name>p</name><forward mode='passthrough'/></network>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "forward mode 'passthrough' is not supported"),
            ("<network><name>", libvirt.VIR_ERR_XML_ERROR, "malformed network XML"),
        ]:
            expect_error(lambda: c.networkDefineXML(xml), code, text)
            expect_error(lambda: c.networkCreateXML(xml), code, text)
        expect_error(lambda: c.networkLookupByName("nope"), libvirt.VIR_ERR_NO_NETWORK,
                     "no network with matching name 'nope'")
        default = c.networkLookupByName("default")
        expect_error(default.create, libvirt.VIR_ERR_OPERATION_INVALID, "already active")
        assert names(c) == before
        assert sorted(os.listdir(os.path.join(nd.root, "etc", "network"))) == [
            ".initialized", "autostart", "default.xml"]
    finally:
        c.close()
        clean_networks(nd)


def test_dnsmasq_missing_is_a_clear_error_at_start():
    d = NetDaemon(extra_args=["--dnsmasq", "/nonexistent/dnsmasq"])
    try:
        d.start()
        c = d.conn()
        n = c.networkDefineXML(net_xml("nodns", 1, bridge="nodns0"))
        expect_error(n.create, libvirt.VIR_ERR_OPERATION_FAILED, "install Debian's dnsmasq-base")
        assert "nodns0" not in d.ns.links()
        assert "domus_nodns0" not in d.ns.nft_ruleset()
        assert not n.isActive()
        # a network without addresses needs no dnsmasq
        c.networkCreateXML("<network><name>bare</name><bridge name='bare0'/></network>")
        assert "bare0" in d.ns.links()
        c.close()
    finally:
        d.destroy()


def hostsfile(d, name):
    return open(os.path.join(d.root, "run", "network", "dnsmasq", name + ".hostsfile")).read()


def test_update_dhcp_and_dns_hosts(nd):
    c = nd.conn()
    try:
        n = c.networkDefineXML(net_xml("upd", 3, bridge="upd0"))
        n.create()
        pid = nd.dnsmasq_pids()
        host = "<host mac='52:54:00:aa:00:01' name='web' ip='10.77.3.5'/>"
        both = libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        n.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                 libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, both)
        assert host in n.XMLDesc() and host in n.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
        assert hostsfile(nd, "upd") == "52:54:00:aa:00:01,10.77.3.5,web\n"
        assert len(nd.dnsmasq_pids()) == len(pid)  # restarted on the new hosts, still one each
        # a second entry for the same MAC is refused, nothing changed
        expect_error(lambda: n.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                      libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
                                      host.replace("10.77.3.5", "10.77.3.6"), both),
                     libvirt.VIR_ERR_OPERATION_INVALID, "existing dhcp host entry")
        # virsh: modify (live only), then delete
        mod = nd.write("mod.xml", "<host mac='52:54:00:aa:00:01' name='web' ip='10.77.3.9'/>")
        nd.virsh("net-update", "upd", "modify", "ip-dhcp-host", mod, "--live")
        assert "ip='10.77.3.9'" in n.XMLDesc()
        assert "ip='10.77.3.5'" in n.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
        assert hostsfile(nd, "upd") == "52:54:00:aa:00:01,10.77.3.9,web\n"
        out_of_subnet = "<host mac='52:54:00:aa:00:02' ip='10.1.1.1'/>"
        expect_error(lambda: n.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST,
                                      libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
                                      out_of_subnet, both),
                     libvirt.VIR_ERR_INVALID_ARG, "outside its subnet")
        nd.virsh("net-update", "upd", "delete", "ip-dhcp-host",
                 "<host mac='52:54:00:aa:00:01'/>", "--live", "--config")
        assert "52:54:00:aa:00:01" not in n.XMLDesc()
        assert "52:54:00:aa:00:01" not in n.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
        expect_error(lambda: n.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                                      libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, both),
                     libvirt.VIR_ERR_OPERATION_INVALID, "couldn't locate")
        # DNS hosts
        dns = "<host ip='10.77.3.77'><hostname>db</hostname></host>"
        nd.virsh("net-update", "upd", "add", "dns-host", dns, "--live", "--config")
        addn = open(os.path.join(nd.root, "run", "network", "dnsmasq", "upd.addnhosts")).read()
        assert addn == "10.77.3.77 db\n"
        expect_error(lambda: n.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                      libvirt.VIR_NETWORK_SECTION_DNS_HOST, -1, dns, both),
                     libvirt.VIR_ERR_OPERATION_INVALID, "already a DNS host entry")
        expect_error(lambda: n.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                      libvirt.VIR_NETWORK_SECTION_PORTGROUP, -1,
                                      "<portgroup name='x'/>", both),
                     libvirt.VIR_ERR_NO_SUPPORT, "is not supported")
        n.destroy()
        # the config of an inactive network by default
        nd.virsh("net-update", "upd", "add", "dns-host",
                 "<host ip='10.77.3.78'><hostname>db2</hostname></host>")
        assert "db2" in n.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
        r = nd.virsh("net-update", "upd", "add", "dns-host",
                     "<host ip='10.77.3.79'><hostname>x</hostname></host>", "--live", check=False)
        assert r.returncode != 0 and "is not active" in r.stderr
    finally:
        c.close()
        clean_networks(nd)


def test_lifecycle_events(nd, loop):
    c = nd.conn()
    seen = []
    done = threading.Event()

    def cb(conn, net, event, detail, opaque):
        seen.append((net.name(), event))
        if event == libvirt.VIR_NETWORK_EVENT_UNDEFINED:
            done.set()

    cid = c.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, cb, None)
    try:
        n = c.networkDefineXML(net_xml("ev", 4, bridge="ev0"))
        n.create()
        n.destroy()
        n.undefine()
        assert done.wait(10), seen
        assert seen == [("ev", libvirt.VIR_NETWORK_EVENT_DEFINED),
                        ("ev", libvirt.VIR_NETWORK_EVENT_STARTED),
                        ("ev", libvirt.VIR_NETWORK_EVENT_STOPPED),
                        ("ev", libvirt.VIR_NETWORK_EVENT_UNDEFINED)]
    finally:
        c.networkEventDeregisterAny(cid)
        c.close()
        clean_networks(nd)


def wait_forwarding(ns, port, timeout=15):
    """With STP on, the kernel keeps a new port listening, then learning, for at least 2 s
    each (it raises a forward delay of 0 to its minimum), as under libvirt."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "state forwarding" in ns.run("ip", "-d", "link", "show", port).stdout:
            return
        time.sleep(0.2)
    raise AssertionError(f"bridge port {port} is not forwarding")


class Guest(Host):
    """A DHCP client on the default network's bridge."""

    def __init__(self, d, outer, hostname):
        super().__init__(d.ns, outer)
        d.ns.run("ip", "link", "set", outer, "master", "virbr0")
        d.ns.run("ip", "link", "set", outer, "up")
        wait_forwarding(d.ns, outer)
        script = d.write("udhcpc.sh", UDHCPC_SCRIPT)
        os.chmod(script, 0o755)
        self.ns.run("busybox", "udhcpc", "-i", "eth0", "-q", "-n", "-t", "10", "-T", "1",
                    "-s", script, "-x", f"hostname:{hostname}", timeout=60)
        self.ip = [a for a in self.ns.addresses("eth0") if a.startswith("192.168.122.")][0]
        self.ip = self.ip.split("/")[0]


def test_dhcp_dns_and_nat_for_clients_on_the_bridge(nd):
    a = b = outside = None
    try:
        a = Guest(nd, "vg-alpha", "alpha")
        b = Guest(nd, "vg-beta", "beta")
        assert a.ip != b.ip
        # leases through virsh and python, with the MAC filter
        out = nd.virsh("net-dhcp-leases", "default").stdout
        assert re.search(rf"{a.mac()}\s+ipv4\s+{a.ip}/24\s+alpha", out), out
        assert re.search(rf"{b.mac()}\s+ipv4\s+{b.ip}/24\s+beta", out), out
        c = nd.conn()
        leases = c.networkLookupByName("default").DHCPLeases(a.mac())
        assert [(x["ipaddr"], x["hostname"], x["prefix"], x["iface"]) for x in leases] == [
            (a.ip, "alpha", 24, "virbr0")]
        assert leases[0]["expirytime"] > time.time()
        c.close()
        # traffic on the network: the gateway, each other, names through the network's DNS
        a.ns.run("busybox", "ping", "-c", "1", "-W", "5", "192.168.122.1")
        a.ns.run("busybox", "ping", "-c", "1", "-W", "5", b.ip)
        # (the AAAA half of the lookup goes upstream, which the namespace cannot reach: only
        # the A answer counts)
        r = a.ns.run("busybox", "nslookup", "beta", "192.168.122.1", check=False)
        assert re.search(rf"Name:\s+beta\s+Address:\s+{re.escape(b.ip)}", r.stdout), r.stdout
        # NAT: 'outside' has no route back to 192.168.122.0/24, so only masqueraded packets
        # are answered
        outside = Host(nd.ns, "v-outside")
        nd.ns.run("ip", "addr", "add", "10.99.0.1/24", "dev", "v-outside")
        nd.ns.run("ip", "link", "set", "v-outside", "up")
        outside.ns.run("ip", "addr", "add", "10.99.0.2/24", "dev", "eth0")
        a.ns.run("busybox", "ping", "-c", "1", "-W", "5", "10.99.0.2")
        # without the network's table the same ping goes unanswered
        nd.ns.nft("delete table inet domus_virbr0")
        r = a.ns.run("busybox", "ping", "-c", "1", "-W", "2", "10.99.0.2", check=False)
        assert r.returncode != 0, r.stdout
        # a restart of the network puts it back (the veth is a port again once re-attached)
        nd.virsh("net-destroy", "default")
        nd.virsh("net-start", "default")
        nd.ns.run("ip", "link", "set", "vg-alpha", "master", "virbr0")
        wait_forwarding(nd.ns, "vg-alpha")
        a.ns.run("busybox", "ping", "-c", "1", "-W", "5", "10.99.0.2")
    finally:
        for h in (a, b, outside):
            if h:
                h.close()


def test_sigkill_keeps_networks_and_dnsmasq(nd):
    before = nd.dnsmasq_pids()
    xml = nd.virsh("net-dumpxml", "default").stdout
    nd.stop(signal.SIGKILL)
    assert nd.dnsmasq_pids() == before
    nd.start()
    assert nd.dnsmasq_pids() == before
    assert nd.virsh("net-dumpxml", "default").stdout == xml
    assert "virbr0" in nd.ns.links()
    assert "domus_virbr0" in nd.ns.nft_ruleset()
    # a dnsmasq that died while the daemon was down is started again
    nd.stop(signal.SIGKILL)
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    nd.start()
    assert len(nd.dnsmasq_pids()) == 1 and nd.dnsmasq_pids() != before
    # a bridge that went away makes the network inactive (its dnsmasq stopped) ...
    nd.virsh("net-autostart", "default", "--disable")
    nd.stop(signal.SIGKILL)
    nd.ns.run("ip", "link", "del", "virbr0")
    nd.start()
    assert re.search(r"default\s+inactive", nd.virsh("net-list", "--all").stdout)
    assert nd.dnsmasq_pids() == []
    assert "domus_virbr0" not in nd.ns.nft_ruleset()
    # ... and an autostart network is started again
    nd.virsh("net-autostart", "default")
    nd.stop(signal.SIGKILL)
    nd.start()
    assert re.search(r"default\s+active", nd.virsh("net-list", "--all").stdout)
    assert "192.168.122.1/24" in nd.ns.addresses("virbr0")
    assert len(nd.dnsmasq_pids()) == 1


def test_domus_cli_matches_virsh(nd):
    """domus's net-* commands print what virsh prints: the same sequence of commands, run once
    through each from the same state, gives the same outputs."""
    path = nd.write("cli.xml", net_xml("cli", 6, bridge="cli0", extra="<mac address='52:54:00:06:06:06'/>",
                                       uuid="0f2d6a3c-1b7e-4a55-9c1d-7e3a8f0b6c21"))
    host = "<host mac='52:54:00:00:06:01' ip='10.77.6.60'/>"
    steps = [("net-define", path), ("net-list", "--all"), ("net-list", "--inactive"),
             ("net-list", "--name", "--all"), ("net-list", "--uuid", "--all"),
             ("net-info", "cli"), ("net-dumpxml", "cli"), ("net-uuid", "cli"),
             ("net-name", "0f2d6a3c-1b7e-4a55-9c1d-7e3a8f0b6c21"),
             ("net-autostart", "cli"), ("net-list", "--autostart"),
             ("net-autostart", "cli", "--disable"), ("net-start", "cli"), ("net-info", "cli"),
             ("net-update", "cli", "add", "ip-dhcp-host", host, "--live", "--config"),
             ("net-dumpxml", "cli", "--inactive"),
             ("net-update", "cli", "delete", "ip-dhcp-host", host),
             ("net-dhcp-leases", "cli"), ("net-dhcp-leases", "default", "--mac",
                                           "52:54:00:00:00:99"),
             ("net-destroy", "cli"), ("net-undefine", "cli"), ("net-create", path),
             ("net-list", "--transient"), ("net-destroy", "cli"),
             ("net-info", "nope"), ("net-start", "default"),
             ("net-update", "default", "bogus", "dns-host", "<host/>")]
    runs = []
    try:
        for tool in (nd.virsh, nd.domus):
            out = []
            for args in steps:
                r = tool(*args, check=False)
                first_err = r.stderr.splitlines()[0] if r.stderr else ""
                out.append((args, r.returncode, r.stdout, first_err))
            runs.append(out)
            clean_networks(nd)
        for theirs, ours in zip(*runs):
            assert ours == theirs
    finally:
        clean_networks(nd)


def test_nic_types_on_host_bridges_and_bare_taps(nd):
    """A NIC on a forward mode='bridge' network and on a host bridge goes on that bridge; an
    ethernet NIC is a bare tap, made with its target name, or an existing one (managed='no')
    that stays when the guest goes. QEMU runs paused: the taps are the point."""
    from conftest import domain_xml
    c = nd.conn()
    nd.ns.run("ip", "link", "add", "hostbr0", "type", "bridge")
    nd.ns.run("ip", "link", "set", "hostbr0", "up")
    nd.ns.run("ip", "tuntap", "add", "mytap0", "mode", "tap", "vnet_hdr")
    try:
        n = c.networkCreateXML("<network><name>hb</name><forward mode='bridge'/>"
                               "<bridge name='hostbr0'/></network>")
        assert n.bridgeName() == "hostbr0"
        nics = ("<interface type='network'><mac address='52:54:00:0b:00:01'/>"
                "<source network='hb'/><model type='e1000'/></interface>"
                "<interface type='bridge'><mac address='52:54:00:0b:00:02'/>"
                "<source bridge='hostbr0'/><model type='rtl8139'/></interface>"
                "<interface type='ethernet'><mac address='52:54:00:0b:00:03'/>"
                "<target dev='mytap0' managed='no'/><model type='virtio'/></interface>"
                "<interface type='ethernet'><mac address='52:54:00:0b:00:04'/>"
                "<target dev='named1'/><model type='virtio'/></interface>")
        dom = c.createXML(domain_xml("nictypes", extra_devices=nics),
                          libvirt.VIR_DOMAIN_START_PAUSED)
        xml = dom.XMLDesc()
        taps = re.findall(r"<target dev='([^']+)'", xml)
        assert len(taps) == 4 and taps[2:] == ["mytap0", "named1"], xml
        for tap, master in zip(taps, ["hostbr0", "hostbr0", None, None]):
            link = nd.ns.run("ip", "-o", "link", "show", tap).stdout
            assert (f"master {master}" in link) if master else "master" not in link, link
        assert "link/ether fe:54:00:0b:00:04" in nd.ns.run("ip", "-o", "link", "show",
                                                          "named1").stdout
        assert f"<network connections='1'>" in n.XMLDesc()
        out = nd.virsh("domiflist", "nictypes").stdout
        assert re.search(rf"{taps[0]}\s+network\s+hb\s+e1000", out), out
        assert re.search(r"mytap0\s+ethernet\s+-\s+virtio", out), out
        # the named tap may not be taken twice
        with pytest.raises(libvirt.libvirtError) as e:
            c.createXML(domain_xml("nictypes2", extra_devices="<interface type='ethernet'>"
                                   "<target dev='named1'/></interface>"), 0)
        assert "interface 'named1' already exists" in str(e.value)
        dom.destroy()
        links = nd.ns.links()
        assert "named1" not in links and taps[0] not in links and taps[1] not in links
        assert "mytap0" in links  # not ours
        # an unmanaged tap that is not there
        with pytest.raises(libvirt.libvirtError) as e:
            c.createXML(domain_xml("nictypes3", extra_devices="<interface type='ethernet'>"
                                   "<target dev='nosuch0' managed='no'/></interface>"), 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
        assert "tap 'nosuch0' does not exist" in str(e.value)
    finally:
        c.close()
        clean_networks(nd)
        nd.ns.run("ip", "link", "del", "hostbr0", check=False)
        nd.ns.run("ip", "link", "del", "mytap0", check=False)


def test_net_event_matches_virsh(nd):
    """domus net-event and virsh net-event, waiting side by side, print the same events."""
    import subprocess as sp
    from conftest import DOMUS
    args = ["net-event", "--event", "lifecycle", "--loop", "--timeout", "4"]
    theirs = sp.Popen(["virsh", "-c", nd.uri] + args, stdout=sp.PIPE, text=True)
    ours = sp.Popen([DOMUS, "-c", nd.domus_uri] + args, stdout=sp.PIPE, text=True)
    time.sleep(1)
    c = nd.conn()
    try:
        n = c.networkCreateXML(net_xml("evt", 7, bridge="evt0"))
        n.destroy()
    finally:
        c.close()
    out_theirs, _ = theirs.communicate(timeout=30)
    out_ours, _ = ours.communicate(timeout=30)
    assert "event 'lifecycle' for network evt: Started" in out_theirs
    assert out_ours == out_theirs
    assert nd.domus("net-event", "--list").stdout == nd.virsh("net-event", "--list").stdout


def tc_has_u32(ns):
    """Whether the namespace's kernel has the u32 tc classifier (a floor needs it)."""
    ns.run("ip", "link", "add", "u32probe", "type", "bridge")
    try:
        ns.run("tc", "qdisc", "add", "dev", "u32probe", "root", "handle", "1:", "htb")
        r = ns.run("tc", "filter", "add", "dev", "u32probe", "parent", "1:0", "protocol", "all",
                   "u32", "match", "u32", "0", "0", "flowid", "1:1", check=False)
        return r.returncode == 0
    finally:
        ns.run("ip", "link", "del", "u32probe", check=False)


def has_vlan_filtering(ns):
    """Whether the namespace's kernel has bridge VLAN filtering (VLAN tags need it)."""
    ns.run("ip", "link", "add", "vfprobe", "type", "bridge")
    try:
        return ns.run("ip", "link", "set", "vfprobe", "type", "bridge", "vlan_filtering", "1",
                      check=False).returncode == 0
    finally:
        ns.run("ip", "link", "del", "vfprobe", check=False)


def test_vlans_portgroups_and_network_bandwidth(nd):
    """Portgroups hand their bandwidth and VLAN to the NICs that name them (the default one to
    NICs that name none), a network's own <bandwidth> shapes its bridge, floors are checked
    against it, and VLAN tags go on host-bridge ports through the bridge's VLAN filtering (an
    access port, a trunk with an untagged native VLAN). Where this kernel lacks VLAN filtering
    or the u32 classifier, the refusal says so and leaves nothing. QEMU runs paused: the ports
    are the point."""
    from conftest import domain_xml
    c = nd.conn()
    nd.ns.run("ip", "link", "add", "vlanbr0", "type", "bridge")
    nd.ns.run("ip", "link", "set", "vlanbr0", "up")
    try:
        lan = c.networkCreateXML(
            "<network><name>lan</name><forward mode='bridge'/><bridge name='vlanbr0'/>"
            "<bandwidth><inbound average='4000' peak='8000'/></bandwidth>"
            "<portgroup name='eng' default='yes'>"
            "<bandwidth><inbound average='1000'/></bandwidth></portgroup>"
            "<portgroup name='tagged'><vlan><tag id='42'/></vlan></portgroup>"
            "<portgroup name='trunk'><vlan trunk='yes'><tag id='42' nativeMode='untagged'/>"
            "<tag id='47'/></vlan></portgroup><portgroup name='plain'/></network>")
        classes = nd.ns.run("tc", "class", "show", "dev", "vlanbr0").stdout
        assert "htb 1:1 root" in classes and "htb 1:2 parent 1:1" in classes, classes
        assert "rate 32Mbit ceil 64Mbit" in classes, classes  # 4000 and 8000 KiB/s
        nics = ("<interface type='network'><mac address='52:54:00:0c:00:01'/>"
                "<source network='lan'/></interface>"
                "<interface type='network'><mac address='52:54:00:0c:00:02'/>"
                "<source network='lan' portgroup='plain'/></interface>")
        dom = c.createXML(domain_xml("pgroups", extra_devices=nics),
                          libvirt.VIR_DOMAIN_START_PAUSED)
        xml = dom.XMLDesc()
        taps = re.findall(r"<target dev='([^']+)'", xml)
        assert len(taps) == 2, xml
        # the default portgroup's bandwidth on the first tap, none on the other
        assert "htb" in nd.ns.run("tc", "qdisc", "show", "dev", taps[0]).stdout
        assert "htb" not in nd.ns.run("tc", "qdisc", "show", "dev", taps[1]).stdout
        live = ET.fromstring(xml).findall("devices/interface")
        assert live[0].find("bandwidth/inbound").get("average") == "1000"
        assert live[1].find("source").get("portgroup") == "plain"
        assert live[1].find("bandwidth") is None
        out = nd.virsh("domiftune", "pgroups", taps[0]).stdout
        assert re.search(r"inbound.average\s*:\s*1000", out), out
        dom.destroy()

        before = nd.ns.links()
        vlan_nics = ("<interface type='network'><mac address='52:54:00:0c:00:04'/>"
                     "<source network='lan' portgroup='tagged'/></interface>"
                     "<interface type='network'><mac address='52:54:00:0c:00:05'/>"
                     "<source network='lan' portgroup='trunk'/></interface>"
                     "<interface type='bridge'><mac address='52:54:00:0c:00:06'/>"
                     "<source bridge='vlanbr0'/><vlan><tag id='7'/></vlan></interface>")
        if has_vlan_filtering(nd.ns):
            dom = c.createXML(domain_xml("vlans", extra_devices=vlan_nics),
                              libvirt.VIR_DOMAIN_START_PAUSED)
            taps = re.findall(r"<target dev='([^']+)'", dom.XMLDesc())
            assert "vlan_filtering 1" in nd.ns.run("ip", "-d", "link", "show", "vlanbr0").stdout
            vlans = json.loads(nd.ns.run("bridge", "-j", "vlan", "show").stdout)
            ports = {p["ifname"]: {v["vlan"]: sorted(v.get("flags", [])) for v in p["vlans"]}
                     for p in vlans}
            assert ports[taps[0]] == {42: ["Egress Untagged", "PVID"]}, ports
            assert ports[taps[1]] == {42: ["Egress Untagged", "PVID"], 47: []}, ports
            assert ports[taps[2]] == {7: ["Egress Untagged", "PVID"]}, ports
            with pytest.raises(libvirt.libvirtError) as e:
                dom.updateDeviceFlags("<interface type='bridge'><mac address='52:54:00:0c:00:06'/>"
                                      "<source bridge='vlanbr0'/><vlan><tag id='8'/></vlan>"
                                      "</interface>", libvirt.VIR_DOMAIN_AFFECT_LIVE)
            assert "cannot change the vlan of interface" in str(e.value)
            dom.destroy()
        else:
            with pytest.raises(libvirt.libvirtError) as e:
                c.createXML(domain_xml("vlans", extra_devices=vlan_nics),
                            libvirt.VIR_DOMAIN_START_PAUSED)
            assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED, str(e.value)
            assert "VLAN tags cannot be applied on bridge 'vlanbr0': this host's kernel has no " \
                "bridge VLAN filtering" in str(e.value)
        assert nd.ns.links() == before

        # refusals, nothing left behind
        cases = [
            ("<interface type='network'><source network='default'/>"
             "<vlan><tag id='5'/></vlan></interface>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "vlan tag not supported on network 'default'"),
            ("<interface type='network'><source network='lan' portgroup='nosuch'/></interface>",
             libvirt.VIR_ERR_INVALID_ARG, "network 'lan' has no portgroup 'nosuch'"),
            ("<interface type='bridge'><source bridge='vlanbr0'/>"
             "<vlan><tag id='0'/></vlan></interface>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "vlan tag 0 cannot be used on a Linux bridge"),
            ("<interface type='network'><source network='lan'/>"
             "<bandwidth><inbound floor='100'/></bandwidth></interface>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "'floor' is only supported for interface type "
             "'network' with forward type 'nat', 'route', 'open' or none"),
            ("<interface type='network'><source network='default'/>"
             "<bandwidth><inbound floor='100'/></bandwidth></interface>",
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "network 'default' has no inbound QoS set"),
        ]
        for nic, code, text in cases:
            with pytest.raises(libvirt.libvirtError) as e:
                c.createXML(domain_xml("vlanbad", extra_devices=nic),
                            libvirt.VIR_DOMAIN_START_PAUSED)
            assert e.value.get_error_code() == code, str(e.value)
            assert text in str(e.value), str(e.value)
            assert nd.ns.links() == before

        # floors on a NAT network with an inbound rate: overcommit is refused; a floor that
        # fits needs the u32 classifier to sort traffic by MAC
        qos = c.networkCreateXML(net_xml("qos", 91, bridge="virbr91", extra=(
            "<bandwidth><inbound average='1000'/></bandwidth>")))
        before = nd.ns.links()
        with pytest.raises(libvirt.libvirtError) as e:
            c.createXML(domain_xml("floorbig", extra_devices=(
                "<interface type='network'><source network='qos'/>"
                "<bandwidth><inbound floor='1200'/></bandwidth></interface>")),
                libvirt.VIR_DOMAIN_START_PAUSED)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
        assert "because it would overcommit 'floor' on 'inbound'" in str(e.value)
        fit = ("<interface type='network'><mac address='52:54:00:0c:00:09'/>"
               "<source network='qos'/><bandwidth><inbound floor='600'/></bandwidth>"
               "</interface>")
        if tc_has_u32(nd.ns):
            dom = c.createXML(domain_xml("floorok", extra_devices=fit),
                              libvirt.VIR_DOMAIN_START_PAUSED)
            classes = nd.ns.run("tc", "class", "show", "dev", "virbr91").stdout
            assert "rate 4800Kbit" in classes, classes  # the 600 KiB/s floor's class
            assert re.search(r"htb 1:2 parent 1:1 .*rate 3200Kbit", classes), classes  # 400 left
            with pytest.raises(libvirt.libvirtError) as e:
                c.createXML(domain_xml("floor2", extra_devices=fit.replace("0c:00:09",
                                                                           "0c:00:0a")),
                            libvirt.VIR_DOMAIN_START_PAUSED)
            assert "would overcommit" in str(e.value)
            dom.destroy()
            classes = nd.ns.run("tc", "class", "show", "dev", "virbr91").stdout
            assert re.search(r"htb 1:2 parent 1:1 .*rate 8Mbit", classes), classes
        else:
            with pytest.raises(libvirt.libvirtError) as e:
                c.createXML(domain_xml("floorok", extra_devices=fit),
                            libvirt.VIR_DOMAIN_START_PAUSED)
            assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
            assert "this host's kernel has no u32 tc classifier" in str(e.value)
        classes = nd.ns.run("tc", "class", "show", "dev", "virbr91").stdout
        assert classes.count("htb 1:") == 2, classes  # 1:1 and 1:2 only
        assert nd.ns.links() == before
        qos.destroy()
        lan.destroy()
        assert "htb" not in nd.ns.run("tc", "qdisc", "show", "dev", "vlanbr0").stdout
    finally:
        c.close()
        clean_networks(nd)
        nd.ns.run("ip", "link", "del", "vlanbr0", check=False)
