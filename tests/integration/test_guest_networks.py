# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real guests on virtual networks: two test guests on 'default' (taps made by domusd and
handed to QEMU as descriptors) get leases from the network's dnsmasq, reach each other, the
gateway and, through NAT, a host outside; resolve each other by name; and keep all of it across
a SIGKILL of the daemon. One daemon in namespaces of its own, two guests booted once."""
import os
import re
import shutil
import signal
import subprocess
import time

import libvirt
import pytest

import guest
from netns import Host, NetDaemon, needs_root

pytestmark = needs_root


def nic(model="virtio", source="<source network='default'/>", kind="network", extra=""):
    return f"<interface type='{kind}'>{source}<model type='{model}'/>{extra}</interface>"


def guest_xml(d, name, nics):
    log, xml = guest.xml(d, name, extra_cmdline=f"domus.hostname={name}")
    return log, xml.replace("<panic model='isa'/>", "<panic model='isa'/>" + "".join(nics))


def leased_ip(log, iface="eth0"):
    m = re.search(rf"domus-guest: dhcp {iface} ([0-9.]+)/", open(log, errors="replace").read())
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def net():
    d = NetDaemon(default_network=True)
    try:
        c, guests = boot_guests(d)
    except BaseException:
        d.destroy()
        raise
    yield d, c, guests
    for dom, _ in guests.values():
        try:
            dom.destroy()
        except libvirt.libvirtError:
            pass
    try:
        c.close()
    except libvirt.libvirtError:
        pass
    d.destroy()


def boot_guests(d):
    d.start()
    c = d.conn()
    guests = {}
    # alpha's NIC is virtio, beta's an e1000: the guest's drivers for both
    # alpha has spare PCI Express root ports (as virt-install gives): NICs plug into them
    spare = {"alpha": "<controller type='pci' model='pcie-root-port'/>" * 8, "beta": ""}
    for name, model in (("alpha", "virtio"), ("beta", "e1000")):
        log, xml = guest_xml(d, name, [nic(model=model), spare[name]])
        dom = c.defineXML(xml)
        dom.create()
        guests[name] = (dom, log)
    for name, (dom, log) in guests.items():
        guest.wait(lambda: leased_ip(log), 90, f"a DHCP lease in {name}")
        guest.wait(lambda: guest.count(log) >= 1, 60, f"{name} ready")
    return c, guests


def test_taps_leases_and_live_xml(net):
    d, c, guests = net
    dom, log = guests["alpha"]
    xml = dom.XMLDesc()
    m = re.search(r"<interface type='network'>\s*<mac address='([0-9a-f:]+)'/>\s*"
                  r"<source network='default' bridge='virbr0'/>\s*<target dev='(vnet\d+)'/>",
                  xml)
    assert m, xml
    mac, tap = m.groups()
    assert mac.startswith("52:54:00:")
    # the tap is on the bridge, with the guest's MAC behind fe:
    link = d.ns.run("ip", "-d", "link", "show", tap).stdout
    assert "master virbr0" in link and "fe:" + mac[3:] in link, link
    # virsh domiflist
    out = d.virsh("domiflist", "alpha").stdout
    assert re.search(rf"{tap}\s+network\s+default\s+virtio\s+{mac}", out), out
    # the inactive XML keeps none of it
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "vnet" not in inactive and "bridge='virbr0'" not in inactive
    # the network counts its guests
    assert "<network connections='2'>" in d.virsh("net-dumpxml", "default").stdout
    # leases with the guests' host names, found by MAC too
    ip = leased_ip(log)
    leases = c.networkLookupByName("default").DHCPLeases(mac)
    assert [(x["ipaddr"], x["hostname"]) for x in leases] == [(ip, "alpha")]
    out = d.virsh("net-dhcp-leases", "default").stdout
    assert "alpha" in out and "beta" in out


def test_traffic_names_and_nat(net):
    d, c, guests = net
    alpha, alpha_log = guests["alpha"]
    beta, beta_log = guests["beta"]
    beta_ip = leased_ip(beta_log)
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", "192.168.122.1")
    assert rc == 0, out
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", beta_ip)
    assert rc == 0, out
    rc, out = guest.agent_exec(alpha, "/bin/sh", "-c", "nslookup beta 192.168.122.1")
    assert re.search(rf"Name:\s+beta\s+Address:\s+{re.escape(beta_ip)}", out), out
    outside = Host(d.ns, "v-out")
    try:
        d.ns.run("ip", "addr", "add", "10.99.0.1/24", "dev", "v-out")
        d.ns.run("ip", "link", "set", "v-out", "up")
        outside.ns.run("ip", "addr", "add", "10.99.0.2/24", "dev", "eth0")
        rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", "10.99.0.2")
        assert rc == 0, out
    finally:
        outside.close()


def test_interface_stats(net):
    """domifstat / interfaceStats count the guest's traffic on its tap, as the guest sees it
    (what it sent is tx), by tap name or MAC; domstats has them too."""
    d, c, guests = net
    alpha, _ = guests["alpha"]
    m = re.search(r"<mac address='([0-9a-f:]+)'/>.*?<target dev='(vnet\d+)'/>", alpha.XMLDesc(),
                  re.S)
    mac, tap = m.groups()
    before = alpha.interfaceStats(tap)
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "3", "-W", "5", "192.168.122.1")
    assert rc == 0, out
    after = alpha.interfaceStats(mac)
    rx_bytes, rx_pkts, _, _, tx_bytes, tx_pkts, _, _ = after
    assert tx_pkts - before[5] >= 3 and rx_pkts - before[1] >= 3, (before, after)
    assert tx_bytes > before[4] and rx_bytes > before[0]
    out = d.virsh("domifstat", "alpha", tap).stdout
    assert re.search(rf"{tap} tx_packets \d+", out), out
    ((_, stats),) = c.domainListGetStats([alpha], libvirt.VIR_DOMAIN_STATS_INTERFACE)
    assert stats["net.count"] == 1 and stats["net.0.name"] == tap
    assert stats["net.0.tx.pkts"] >= tx_pkts


def test_refusals(net):
    d, c, _ = net
    n = c.networkDefineXML("<network><name>off</name><bridge name='off0'/>"
                           "<ip address='10.88.0.1' prefix='24'/></network>")
    _, xml = guest_xml(d, "gamma", [nic(source="<source network='off'/>")])
    dom = c.defineXML(xml)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "network 'off' is not active" in str(e.value)
    assert not dom.isActive()
    dom.undefine()
    _, xml = guest_xml(d, "gamma", [nic(kind="bridge", source="<source bridge='nobr0'/>")])
    dom = c.defineXML(xml)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert "host bridge 'nobr0' of domain 'gamma' does not exist" in str(e.value)
    # no tap was left behind by either
    assert not [l for l in d.ns.links() if l.startswith("vnet")
                and l not in open(os.path.join(d.root, "run", "qemu", "alpha.xml")).read()
                and l not in open(os.path.join(d.root, "run", "qemu", "beta.xml")).read()]
    dom.undefine()
    n.undefine()


def test_domifaddr_from_leases_agent_and_arp(net):
    d, c, guests = net
    alpha, log = guests["alpha"]
    ip = leased_ip(log)
    mac = re.search(r"<mac address='([0-9a-f:]+)'/>", alpha.XMLDesc()).group(1)
    tap = re.search(r"<target dev='(vnet\d+)'/>", alpha.XMLDesc()).group(1)
    out = d.virsh("domifaddr", "alpha").stdout
    assert re.search(rf"{tap}\s+{mac}\s+ipv4\s+{ip}/24", out), out
    out = d.virsh("domifaddr", "alpha", "--source", "agent").stdout
    assert re.search(rf"eth0\s+{mac}\s+ipv4\s+{ip}/24", out), out
    assert re.search(r"lo\s+00:00:00:00:00:00\s+ipv4\s+127.0.0.1/8", out), out
    # the host's ARP table knows a guest it has talked to
    rc, _ = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", "192.168.122.1")
    assert rc == 0
    d.ns.run("ping", "-c", "1", "-W", "5", ip, check=False)
    out = d.virsh("domifaddr", "alpha", "--source", "arp").stdout
    assert re.search(rf"{tap}\s+{mac}\s+ipv4\s+{ip}/0", out), out
    # python's binding, and the host name from the lease
    ifaces = alpha.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)
    assert ifaces == {tap: {"hwaddr": mac, "addrs": [{"type": 0, "addr": ip, "prefix": 24}]}}
    assert alpha.hostname(libvirt.VIR_DOMAIN_GET_HOSTNAME_LEASE) == "alpha"
    with pytest.raises(libvirt.libvirtError) as e:
        alpha.interfaceAddresses(7)
    assert e.value.get_error_code() == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED
    # the read-only socket may read leases and ARP, not ask the agent
    ro = d.conn(readonly=True)
    assert ro.lookupByName("alpha").interfaceAddresses(0)
    with pytest.raises(libvirt.libvirtError) as e:
        ro.lookupByName("alpha").interfaceAddresses(1)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()


def test_domif_setlink(net):
    d, c, guests = net
    beta, beta_log = guests["beta"]
    alpha = guests["alpha"][0]
    beta_ip = leased_ip(beta_log)
    tap = re.search(r"<target dev='(vnet\d+)'/>", beta.XMLDesc()).group(1)
    out = d.virsh("domif-getlink", "beta", tap).stdout
    assert re.search(rf"{tap} up", out), out
    d.virsh("domif-setlink", "beta", tap, "down")
    assert re.search(rf"{tap} down", d.virsh("domif-getlink", "beta", tap).stdout)
    assert "<link state='down'/>" in beta.XMLDesc()
    assert "<link state='down'/>" not in beta.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "2", beta_ip)
    assert rc != 0, out
    d.virsh("domif-setlink", "beta", tap, "up")
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", beta_ip)
    assert rc == 0, out
    # the persistent config alone (it has no tap name: the MAC names the interface, as with
    # libvirt)
    mac = re.search(r"<mac address='([0-9a-f:]+)'/>", beta.XMLDesc()).group(1)
    d.virsh("domif-setlink", "beta", mac, "down", "--config")
    assert "<link state='down'/>" in beta.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<link state='down'/>" not in beta.XMLDesc()
    d.virsh("domif-setlink", "beta", mac, "up", "--config")
    # what cannot change in place is refused by name
    with pytest.raises(libvirt.libvirtError) as e:
        beta.updateDeviceFlags(f"<interface type='network'><mac address='{mac}'/>"
                               "<source network='default'/><model type='rtl8139'/></interface>",
                               libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "cannot change the model" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        beta.updateDeviceFlags("<video><model type='vga'/></video>", 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED


def fetch_seconds(dom, url):
    """How long the guest DOM takes to fetch URL (wget), as the host sees it."""
    t = time.monotonic()
    rc, out = guest.agent_exec(dom, "/bin/sh", "-c", f"wget -q -O /dev/null {url}", timeout=120)
    assert rc == 0, out
    return time.monotonic() - t


def test_bandwidth(net):
    """<bandwidth> on a tap with tc, as libvirt shapes it: domiftune live and config,
    update-device with a <bandwidth>, the XML and the queries; traffic to the guest past its
    inbound rate waits in the HTB class (its overlimits count), and a transfer between the two
    guests takes as long as the rate says, and less than half once it is lifted. The guest's outbound traffic
    is policed where the kernel has a tc classifier (u32 or matchall); a kernel without one
    (these machines') refuses it saying so, and nothing is half applied."""
    d, c, guests = net
    beta, beta_log = guests["beta"]
    alpha, alpha_log = guests["alpha"]
    beta_ip = leased_ip(beta_log)
    xml = beta.XMLDesc()
    tap = re.search(r"<target dev='(vnet\d+)'/>", xml).group(1)
    mac = re.search(r"<mac address='([0-9a-f:]+)'/>", xml).group(1)
    d.virsh("domiftune", "beta", tap, "--inbound", "64,128,32", "--live")
    qdisc = d.ns.run("tc", "qdisc", "show", "dev", tap).stdout
    assert "htb" in qdisc, qdisc
    cls = d.ns.run("tc", "class", "show", "dev", tap).stdout
    assert "rate 512Kbit ceil 1024Kbit" in cls, cls
    out = d.virsh("domiftune", "beta", tap).stdout
    assert re.search(r"inbound.average: 64", out) and re.search(r"inbound.peak\s*: 128", out), out
    assert d.domus("domiftune", "beta", tap).stdout == out
    for bad in (["--inbound", "x"], ["--inbound", ",5"], ["--outbound", "1,2,3,4"],
                ["--inbound", "1,2,3,4,5"], ["--outbound", ",,7"], ["--inbound", "5000000000"]):
        v = d.virsh("domiftune", "beta", tap, *bad, check=False)
        o = d.domus("domiftune", "beta", tap, *bad, check=False)
        assert v.returncode != 0 and o.returncode != 0 and o.stderr == v.stderr, (v, o)
    assert "<inbound average='64' peak='128' burst='32'/>" in beta.XMLDesc()
    assert "<bandwidth>" not in beta.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    params = beta.interfaceParameters(tap, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert params["inbound.average"] == 64 and params["inbound.burst"] == 32
    # a burst of large pings to beta: more than its rate, so the class holds some back
    guest.agent_exec(alpha, "/bin/sh", "-c", f"ping -c 20 -i 0.01 -s 20000 -W 2 {beta_ip} "
                     ">/dev/null 2>&1; true")
    stats = d.ns.run("tc", "-s", "class", "show", "dev", tap).stdout
    over = re.search(r"overlimits (\d+)", stats)
    assert over and int(over.group(1)) > 0, stats
    # a transfer to beta is held to the rate: 640 KiB from alpha's web server at a peak of
    # 128 KB/s (and 64 on average) take 5 s at the least, where nothing holds them back
    # once the limit is lifted below
    alpha_ip = leased_ip(alpha_log)
    rc, out = guest.agent_exec(alpha, "/bin/sh", "-c",
                               "mkdir -p /www && dd if=/dev/zero of=/www/f bs=1024 count=640 "
                               "2>/dev/null && httpd -p 8080 -h /www </dev/null >/dev/null 2>&1")
    assert rc == 0, out
    capped = fetch_seconds(beta, f"http://{alpha_ip}:8080/f")
    assert capped >= 3.5, capped
    # outbound: policed, or refused with the reason
    r = d.virsh("domiftune", "beta", tap, "--outbound", "64", "--live", check=False)
    if r.returncode == 0:
        assert "ingress" in d.ns.run("tc", "qdisc", "show", "dev", tap).stdout
    else:
        assert "no tc classifier" in r.stderr, r.stderr
        assert "<outbound" not in beta.XMLDesc()
        assert "ingress" not in d.ns.run("tc", "qdisc", "show", "dev", tap).stdout
    # update-device with the interface's XML: its <bandwidth> replaces the old one
    beta.updateDeviceFlags(f"<interface type='network'><mac address='{mac}'/>"
                           "<source network='default'/><model type='e1000'/>"
                           "<bandwidth><inbound average='200'/></bandwidth></interface>",
                           libvirt.VIR_DOMAIN_AFFECT_LIVE)
    cls = d.ns.run("tc", "class", "show", "dev", tap).stdout
    assert "rate 1600Kbit ceil 1600Kbit" in cls, cls
    assert "<inbound average='200'/>" in beta.XMLDesc()
    # the config alone, by MAC
    d.domus("domiftune", "beta", mac, "--inbound", "500", "--config")
    assert "<inbound average='500'/>" in beta.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # lifted: an average of 0
    beta.setInterfaceParameters(tap, {"inbound.average": 0}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert "htb" not in d.ns.run("tc", "qdisc", "show", "dev", tap).stdout
    assert "<bandwidth>" not in beta.XMLDesc()
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", beta_ip)
    assert rc == 0, out
    free = fetch_seconds(beta, f"http://{alpha_ip}:8080/f")
    assert free < capped / 2, (free, capped)
    # refusals
    # a floor needs the network's inbound QoS, which 'default' has none of
    for params, code in [({"inbound.floor": 10}, libvirt.VIR_ERR_CONFIG_UNSUPPORTED),
                         ({"inbound.average": 10, "inbound.peak": 5},
                          libvirt.VIR_ERR_INVALID_ARG)]:
        with pytest.raises(libvirt.libvirtError) as e:
            beta.setInterfaceParameters(tap, params, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert e.value.get_error_code() == code, str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        beta.setInterfaceParameters("nosuch0", {"inbound.average": 10},
                                    libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    d.virsh("domiftune", "beta", mac, "--inbound", "0", "--config")
    assert "<bandwidth>" not in beta.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def guest_nic(dom, mac):
    """The guest's name of the NIC with MAC, or None."""
    rc, out = guest.agent_exec(dom, "/bin/sh", "-c", "for n in /sys/class/net/*; do [ "
                               f"\"$(cat $n/address)\" = {mac} ] && basename $n; done; true")
    return out.strip() or None


def test_interface_hotplug(net, loop):
    """A NIC plugged into running alpha gets a lease on 'default'; unplugged, its tap goes."""
    d, c, guests = net
    alpha, beta = guests["alpha"][0], guests["beta"][0]
    removed = []
    ec = d.conn()  # opened once the event loop runs: its events are dispatched
    ec.domainEventRegisterAny(ec.lookupByName("alpha"), libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                              lambda conn, dom, alias, opaque: removed.append(alias), None)
    mac = "52:54:00:aa:bb:01"
    out = d.virsh("attach-interface", "alpha", "network", "default", "--model", "virtio",
                  "--mac", mac).stdout
    assert "Interface attached successfully" in out
    m = re.search(rf"<interface type='network'>\s*<mac address='{mac}'/>\s*"
                  r"<source network='default' bridge='virbr0'/>\s*<target dev='(vnet\d+)'/>"
                  r"(?:.|\n)*?<alias name='(net\d+)'/>", alpha.XMLDesc())
    assert m, alpha.XMLDesc()
    tap, alias = m.groups()
    assert "master virbr0" in d.ns.run("ip", "link", "show", tap).stdout
    guest.wait(lambda: guest_nic(alpha, mac), 60, "the NIC in the guest")
    ifname = guest_nic(alpha, mac)
    rc, out = guest.agent_exec(alpha, "/bin/sh", "-c", f"udhcpc -i {ifname} -n -q -t 10 -T 1 "
                               "-s /etc/udhcpc.script >/dev/null 2>&1; ip -4 addr show "
                               f"dev {ifname}", timeout=60)
    ip = re.search(r"inet (192\.168\.122\.\d+)/", out)
    assert ip, out
    leases = c.networkLookupByName("default").DHCPLeases(mac)
    assert [x["ipaddr"] for x in leases] == [ip.group(1)]
    # beta has no free PCI Express port: refused, nothing changes
    before = beta.XMLDesc()
    with pytest.raises(libvirt.libvirtError) as e:
        beta.attachDeviceFlags(nic(), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_UNSUPPORTED
    assert "pcie-root-port" in str(e.value) and "cannot be hot-plugged" in str(e.value)
    assert beta.XMLDesc() == before
    assert d.ns.run("ip", "-o", "link", "show", "master", "virbr0").stdout.count("vnet") == 3
    # out again, by MAC
    out = d.domus("detach-interface", "alpha", "network", "--mac", mac).stdout
    assert "Interface detached successfully" in out
    guest.wait(lambda: alias in removed, 60, "DEVICE_REMOVED")
    ec.close()
    assert mac not in alpha.XMLDesc()
    assert d.ns.run("ip", "link", "show", tap, check=False).returncode != 0
    assert not guest_nic(alpha, mac)


def test_domus_interface_commands_match_virsh(net):
    d, c, guests = net
    tap = re.search(r"<target dev='(vnet\d+)'/>", guests["alpha"][0].XMLDesc()).group(1)
    for args in [("domiflist", "alpha"), ("domiflist", "alpha", "--inactive"),
                 ("domifaddr", "alpha"), ("domifaddr", "alpha", "--source", "agent"),
                 ("domifaddr", "alpha", "--source", "agent", "--interface", "eth0", "--full"),
                 ("domif-getlink", "alpha", tap), ("domif-getlink", "alpha", "nosuch"),
                 ("net-dhcp-leases", "default"), ("domifaddr", "alpha", "--source", "bogus")]:
        theirs = d.virsh(*args, check=False)
        ours = d.domus(*args, check=False)
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), args
        assert ours.stderr.splitlines()[:1] == theirs.stderr.splitlines()[:1], args
    out = d.domus("domif-setlink", "alpha", tap, "down").stdout
    assert out == "Device updated successfully\n\n"
    assert d.domus("domif-getlink", "alpha", tap).stdout == f"{tap} down\n"
    d.domus("domif-setlink", "alpha", tap, "up")
    assert d.virsh("domif-getlink", "alpha", tap).stdout == f"{tap} up\n"


def wait_lease(d, mac, seconds=90):
    n = None

    def leased():
        nonlocal n
        c = d.conn()
        try:
            n = c.networkLookupByName("default").DHCPLeases(mac)
        finally:
            c.close()
        return n

    guest.wait(leased, seconds, f"a lease for {mac}")
    return n[0]


def test_seed_xml_on_the_default_network_boots_and_gets_a_lease(net):
    """The seed domain XML (libvirt's lifecycle guide: type kvm, qemu-kvm, a disk image, a
    cdrom, VNC, ac97, cirrus, a NIC on 'default') with only what this host lacks changed: TCG
    instead of KVM, no emulator path, the test guest's kernel instead of the disk's OS."""
    d, c, _ = net
    seed = open(os.path.join(os.path.dirname(__file__), "..", "data", "xml2argv",
                             "seed-mynewvm-network.xml")).read()
    g = guest.build()
    image = os.path.join(d.root, "MyNewVM.img")
    with open(image, "wb") as f:
        f.truncate(16 << 20)
    xml = (seed.replace("<domain type='kvm'>", "<domain type='qemu'>")
           .replace("<emulator>/usr/bin/qemu-kvm</emulator>", "")
           .replace("/var/lib/domus/images/MyNewVM.img", image)
           .replace("<boot dev='hd'/>",
                    f"<kernel>{g['pvh_kernel']}</kernel><initrd>{g['initrd']}</initrd>"
                    f"<cmdline>{guest.CMDLINE} domus.hostname=mynewvm</cmdline>"))
    dom = c.defineXML(xml)
    dom.create()
    try:
        lease = wait_lease(d, "52:54:00:9c:94:3b")
        assert lease["hostname"] == "mynewvm" and lease["ipaddr"].startswith("192.168.122.")
    finally:
        dom.destroy()
        dom.undefine()


@pytest.mark.skipif(shutil.which("virt-install") is None, reason="virtinst not installed")
def test_virt_install_uses_the_default_network(net):
    d, c, _ = net
    g = guest.build()
    r = subprocess.run(
        ["virt-install", "--connect", d.uri, "--name", "vi-net", "--memory", "256",
         "--virt-type", "qemu", "--import",
         "--boot", f"kernel={g['pvh_kernel']},initrd={g['initrd']},"
                   f"kernel_args={guest.CMDLINE} domus.hostname=vinet",
         "--disk", "none", "--graphics", "none",
         "--osinfo", "detect=on,require=off", "--noautoconsole"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    dom = c.lookupByName("vi-net")
    try:
        xml = dom.XMLDesc()
        m = re.search(r"<interface type='network'>\s*<mac address='([0-9a-f:]+)'/>\s*"
                      r"<source network='default'", xml)
        assert m, xml
        assert wait_lease(d, m.group(1))["hostname"] == "vinet"
    finally:
        dom.destroy()
        dom.undefine()


def test_network_destroyed_under_running_guests(net):
    """As libvirt: destroying a network leaves its guests running with their taps off any
    bridge; starting it again does not put them back; a daemon restart does (libvirt's
    reconnect re-attaches taps the same way)."""
    from test_networks import wait_forwarding
    d, c, guests = net
    alpha, beta = guests["alpha"][0], guests["beta"][0]
    taps = [re.search(r"<target dev='(vnet\d+)'/>", g.XMLDesc()).group(1) for g in (alpha, beta)]
    d.virsh("net-destroy", "default")
    assert alpha.isActive() and beta.isActive()
    for tap in taps:
        assert "master" not in d.ns.run("ip", "-o", "link", "show", tap).stdout
    d.virsh("net-start", "default")
    for tap in taps:
        assert "master" not in d.ns.run("ip", "-o", "link", "show", tap).stdout
    d.stop(signal.SIGKILL)
    d.start()
    for tap in taps:
        assert "master virbr0" in d.ns.run("ip", "-o", "link", "show", tap).stdout
        wait_forwarding(d.ns, tap)
    c2 = d.conn()
    rc, out = guest.agent_exec(c2.lookupByName("alpha"), "/bin/ping", "-c", "1", "-W", "5",
                         leased_ip(guests["beta"][1]))
    assert rc == 0, out
    c2.close()


def test_sigkill_of_the_daemon_keeps_guest_networking(net):
    d, c, guests = net
    alpha, alpha_log = guests["alpha"]
    beta_ip = leased_ip(guests["beta"][1])
    taps_before = sorted(l for l in d.ns.links() if l.startswith("vnet"))
    d.stop(signal.SIGKILL)
    d.start()
    c2 = d.conn()
    alpha = c2.lookupByName("alpha")
    rc, out = guest.agent_exec(alpha, "/bin/ping", "-c", "1", "-W", "5", beta_ip)
    assert rc == 0, out
    assert sorted(l for l in d.ns.links() if l.startswith("vnet")) == taps_before
    assert "<network connections='2'>" in d.virsh("net-dumpxml", "default").stdout
    assert re.search(r"vnet\d+\s+network\s+default", d.virsh("domiflist", "alpha").stdout)
    c2.close()
