# SPDX-License-Identifier: LGPL-2.1-or-later
"""Domain title, description and <metadata> elements (virDomainSetMetadata /
virDomainGetMetadata): stock virsh's desc and metadata commands, python3-libvirt, the domus CLI,
live and config, the METADATA_CHANGE event, and bad input that changes nothing. No guest: a
QEMU without a kernel is enough for the live definition."""
import time
import uuid

import libvirt
import pytest

from conftest import domain_xml
from rpc import Raw, error_code, error_message, frame, xdr_domain, xdr_i32, xdr_opt_string

E = libvirt
URI = "http://example.org/app1/"
SET_METADATA, GET_METADATA = 264, 265


def test_desc_and_title_with_virsh(daemon):
    daemon.conn().defineXML(domain_xml("md1"))
    r = daemon.virsh("desc", "md1")
    assert r.stdout.strip() == "No description for domain: md1"
    r = daemon.virsh("desc", "md1", "--new-desc", "web", "server", "one")
    assert "Domain description updated successfully" in r.stdout
    assert daemon.virsh("desc", "md1").stdout.strip() == "web server one"
    daemon.virsh("desc", "md1", "--title", "--new-desc", "Web 1")
    assert daemon.virsh("desc", "md1", "--title").stdout.strip() == "Web 1"
    xml = daemon.virsh("dumpxml", "md1").stdout
    assert "<title>Web 1</title>" in xml and "<description>web server one</description>" in xml
    listing = daemon.virsh("list", "--all", "--title").stdout
    assert any("md1" in line and "Web 1" in line for line in listing.splitlines())
    # an empty text removes it, as libvirt does
    daemon.conn().lookupByName("md1").setMetadata(E.VIR_DOMAIN_METADATA_TITLE, "", None, None, 0)
    assert "<title>" not in daemon.virsh("dumpxml", "md1").stdout
    # the same through domus
    r = daemon.domus("desc", "md1", "--title", "--new-desc", "From", "domus")
    assert "Domain title updated successfully" in r.stdout
    assert daemon.domus("desc", "md1", "--title").stdout.strip() == "From domus"
    assert daemon.domus("desc", "md1").stdout.strip() == "web server one"


def test_metadata_element_round_trip(daemon):
    d = daemon.conn().defineXML(domain_xml("md2"))
    with pytest.raises(libvirt.libvirtError) as e:
        d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, URI, 0)
    assert e.value.get_error_code() == E.VIR_ERR_NO_DOMAIN_METADATA
    r = daemon.virsh("metadata", "md2", URI, "--key", "app1",
                     "--set", "<owner><team id='7'>infra</team></owner>")
    assert "Metadata modified" in r.stdout
    xml = d.XMLDesc(0)
    assert '<app1:owner xmlns:app1="http://example.org/app1/">' in xml
    assert '<app1:team id="7">infra</app1:team>' in xml
    got = daemon.virsh("metadata", "md2", URI).stdout
    assert got == '<owner>\n  <team id="7">infra</team>\n</owner>\n\n'
    assert d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, URI, 0) == got[:-2]
    # a second namespace stays beside the first; a new element replaces its namespace's old one
    d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<x>1</x>", "b", "urn:b", 0)
    d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<owner>ops</owner>", "app1", URI, 0)
    assert d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, URI, 0) == "<owner>ops</owner>"
    assert d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, "urn:b", 0) == "<x>1</x>"
    assert daemon.domus("metadata", "md2", "urn:b").stdout == "<x>1</x>\n\n"  # as virsh
    # the definition keeps them across a daemon restart
    daemon.stop()
    daemon.start()
    d = daemon.conn().lookupByName("md2")
    assert d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, URI, 0) == "<owner>ops</owner>"
    r = daemon.virsh("metadata", "md2", URI, "--remove")
    assert "Metadata removed" in r.stdout
    with pytest.raises(libvirt.libvirtError):
        d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, URI, 0)
    daemon.domus("metadata", "md2", "urn:b", "--remove")
    assert "<metadata/>" in d.XMLDesc(0)


def test_live_and_config(daemon):
    d = daemon.conn().defineXML(domain_xml("md3"))
    d.create()
    d.setMetadata(E.VIR_DOMAIN_METADATA_DESCRIPTION, "live only", None, None,
                  E.VIR_DOMAIN_AFFECT_LIVE)
    d.setMetadata(E.VIR_DOMAIN_METADATA_TITLE, "config only", None, None,
                  E.VIR_DOMAIN_AFFECT_CONFIG)
    assert d.metadata(E.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0) == "live only"
    assert "<title>" not in d.XMLDesc(0)
    inactive = d.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)
    assert "<title>config only</title>" in inactive and "<description>" not in inactive
    with pytest.raises(libvirt.libvirtError) as e:
        d.metadata(E.VIR_DOMAIN_METADATA_DESCRIPTION, None, E.VIR_DOMAIN_AFFECT_CONFIG)
    assert e.value.get_error_code() == E.VIR_ERR_NO_DOMAIN_METADATA
    # both at once
    d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<v/>", "k", "urn:k",
                  E.VIR_DOMAIN_AFFECT_LIVE | E.VIR_DOMAIN_AFFECT_CONFIG)
    for flags in (E.VIR_DOMAIN_AFFECT_LIVE, E.VIR_DOMAIN_AFFECT_CONFIG):
        assert d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, "urn:k", flags) == "<v/>"
    # the config change outlives the run; the live one does not
    d.destroy()
    assert d.metadata(E.VIR_DOMAIN_METADATA_TITLE, None, 0) == "config only"
    with pytest.raises(libvirt.libvirtError):
        d.metadata(E.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0)
    # live on a shut-off domain is refused
    with pytest.raises(libvirt.libvirtError) as e:
        d.setMetadata(E.VIR_DOMAIN_METADATA_TITLE, "x", None, None, E.VIR_DOMAIN_AFFECT_LIVE)
    assert e.value.get_error_code() == E.VIR_ERR_OPERATION_INVALID


def test_metadata_change_event(daemon, loop):
    c = daemon.conn()
    got = []
    c.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                             lambda conn, dom, mtype, nsuri, opaque:
                             got.append((dom.name(), mtype, nsuri)), None)
    d = daemon.conn().defineXML(domain_xml("md4"))
    d.setMetadata(E.VIR_DOMAIN_METADATA_TITLE, "t", None, None, 0)
    d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "p", URI, 0)
    deadline = time.time() + 10
    while len(got) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert got == [("md4", E.VIR_DOMAIN_METADATA_TITLE, None),
                   ("md4", E.VIR_DOMAIN_METADATA_ELEMENT, URI)]
    c.close()


def raw_set(raw, name, dom_uuid, mtype, value, key, uri, flags=0):
    body = (xdr_domain(name, dom_uuid) + xdr_i32(mtype) + xdr_opt_string(value) +
            xdr_opt_string(key) + xdr_opt_string(uri) + xdr_i32(flags))
    return raw.rpc(SET_METADATA, body)


def test_bad_input_changes_nothing(daemon):
    d = daemon.conn().defineXML(domain_xml("md5"))
    d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<keep/>", "app1", URI, 0)
    before = daemon.snapshot_config()
    with pytest.raises(libvirt.libvirtError) as e:
        d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<broken>", "app1", URI, 0)
    assert e.value.get_error_code() == E.VIR_ERR_XML_ERROR
    assert "malformed metadata XML" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        d.setMetadata(E.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "not a name", URI, 0)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_ARG
    assert "'not a name'" in str(e.value)
    # what python checks on its side, the daemon checks too: a client may skip those checks
    raw = Raw(daemon.sock)
    raw.open()
    u = uuid.UUID(d.UUIDString()).bytes
    cases = [(E.VIR_DOMAIN_METADATA_TITLE, "two\nlines", None, None, "newlines"),
             (E.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", None, URI, "key"),
             (E.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "k", None, "namespace URI"),
             (E.VIR_DOMAIN_METADATA_DESCRIPTION, "d", "k", URI, "no namespace"),
             (7, "x", None, None, "unknown metadata type '7'")]
    for mtype, value, key, uri, words in cases:
        f = raw_set(raw, "md5", u, mtype, value, key, uri)
        assert f["status"] == 1, (mtype, value)
        assert error_code(f["body"])[0] == E.VIR_ERR_INVALID_ARG
        assert words.encode() in error_message(f["body"])
    raw.close()
    assert daemon.snapshot_config() == before
    assert d.metadata(E.VIR_DOMAIN_METADATA_ELEMENT, URI, 0) == "<keep/>"


def test_read_only_reads_but_does_not_write(daemon):
    d = daemon.conn().defineXML(domain_xml("md6"))
    d.setMetadata(E.VIR_DOMAIN_METADATA_DESCRIPTION, "visible", None, None, 0)
    ro = daemon.conn(readonly=True)
    rd = ro.lookupByName("md6")
    assert rd.metadata(E.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0) == "visible"
    raw = Raw(daemon.sock_ro)
    raw.open(readonly=True)
    f = raw_set(raw, "md6", uuid.UUID(d.UUIDString()).bytes, E.VIR_DOMAIN_METADATA_TITLE, "x",
                None, None)
    assert error_code(f["body"])[0] == E.VIR_ERR_OPERATION_DENIED
    raw.close()
    ro.close()


def test_domus_prints_what_virsh_prints(daemon):
    daemon.conn().defineXML(domain_xml("md7"))
    for args in (["desc", "md7"], ["desc", "md7", "--title"],
                 ["desc", "md7", "--new-desc", "a", "b"], ["desc", "md7"],
                 ["desc", "md7", "--title", "--new-desc", "T"], ["desc", "md7", "--title"],
                 ["desc", "md7", "--current", "--live"], ["desc", "md7", "--live", "--new-desc", "q"],
                 ["metadata", "md7", "urn:a"], ["metadata", "md7", "urn:a", "--set", "<a/>"],
                 ["metadata", "md7", "urn:a", "--key", "a", "--set", "<a>1</a>"],
                 ["metadata", "md7", "urn:a"], ["metadata", "md7", "urn:a", "--edit", "--set", "<a/>"],
                 ["metadata", "md7", "urn:a", "--remove"]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
