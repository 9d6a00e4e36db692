# SPDX-License-Identifier: LGPL-2.1-or-later
"""Secrets: define, list, values, undefine through virsh, domus and python3-libvirt; kept
0600 across a daemon restart (ephemeral ones only in memory), never in the daemon's log;
private values not given out; conflicting usages and bad XML refused with nothing changed;
lifecycle and value events."""
import base64
import glob
import os
import stat
import subprocess
import time

import libvirt
import pytest

from conftest import DOMUS

E = libvirt
VALUE = b"s3cr\x00t-\xffbytes"


def secret_xml(usage_id, ephemeral="no", private="no", uuid=None):
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<secret ephemeral='{ephemeral}' private='{private}'>{u}"
            f"<description>key of {usage_id}</description>"
            f"<usage type='volume'><volume>{usage_id}</volume></usage></secret>")


def test_cli_round_trip_as_virsh(daemon, tmp_path):
    path = tmp_path / "s.xml"
    path.write_text(secret_xml("/var/lib/images/a.img"))
    r = daemon.virsh("secret-define", str(path))
    uuid = r.stdout.split()[1]
    assert r.stdout == f"Secret {uuid} created\n\n"
    value_file = tmp_path / "v"
    value_file.write_text(base64.b64encode(VALUE).decode())
    for args in (["secret-list"], ["secret-dumpxml", uuid],
                 ["secret-set-value", uuid, "--file", str(value_file)],
                 ["secret-get-value", uuid], ["secret-get-value", "nope"],
                 ["secret-set-value", uuid], ["secret-list", "--ephemeral"],
                 ["secret-define", str(tmp_path / "missing.xml")]):
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    assert daemon.virsh("secret-get-value", uuid).stdout.strip() == \
        base64.b64encode(VALUE).decode()
    plain = subprocess.run([DOMUS, "-c", daemon.domus_uri, "secret-get-value", uuid, "--plain"],
                           capture_output=True, timeout=60)
    assert plain.returncode == 0 and plain.stdout == VALUE
    r = daemon.domus("secret-undefine", uuid)
    assert r.stdout == f"Secret {uuid} deleted\n\n"
    assert uuid not in daemon.virsh("secret-list").stdout


def test_values_persist_privately(daemon):
    c = daemon.conn()
    s = c.secretDefineXML(secret_xml("/var/lib/images/b.img"), 0)
    s.setValue(VALUE, 0)
    eph = c.secretDefineXML(secret_xml("/var/lib/images/eph.img", ephemeral="yes"), 0)
    eph.setValue(b"gone after restart", 0)
    files = glob.glob(os.path.join(daemon.root, "etc", "secrets", "*"))
    assert sorted(os.path.basename(f) for f in files) == sorted(
        [s.UUIDString() + ".xml", s.UUIDString() + ".base64"])
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(files[0])).st_mode) == 0o700
    c.close()
    daemon.stop()
    daemon.start()
    c = daemon.conn()
    again = c.secretLookupByUUIDString(s.UUIDString())
    assert again.value(0) == VALUE
    assert again.usageID() == "/var/lib/images/b.img"
    assert again.usageType() == E.VIR_SECRET_USAGE_TYPE_VOLUME
    assert c.secretLookupByUsage(E.VIR_SECRET_USAGE_TYPE_VOLUME,
                                 "/var/lib/images/b.img").UUIDString() == s.UUIDString()
    with pytest.raises(libvirt.libvirtError) as e:
        c.secretLookupByUUIDString(eph.UUIDString())
    assert e.value.get_error_code() == E.VIR_ERR_NO_SECRET
    log = open(os.path.join(daemon.root, "domusd.log"), "rb").read()
    assert VALUE not in log and base64.b64encode(VALUE) not in log
    again.undefine()
    assert not glob.glob(os.path.join(daemon.root, "etc", "secrets", "*"))
    c.close()


def test_private_and_refusals(daemon):
    c = daemon.conn()
    p = c.secretDefineXML(secret_xml("/p.img", private="yes"), 0)
    p.setValue(b"x", 0)
    with pytest.raises(libvirt.libvirtError) as e:
        p.value(0)
    assert e.value.get_error_code() == E.VIR_ERR_INVALID_SECRET
    empty = c.secretDefineXML(secret_xml("/empty.img"), 0)
    with pytest.raises(libvirt.libvirtError) as e:
        empty.value(0)
    assert e.value.get_error_code() == E.VIR_ERR_NO_SECRET
    assert {s.UUIDString() for s in c.listAllSecrets(E.VIR_CONNECT_LIST_SECRETS_PRIVATE)} == \
        {p.UUIDString()}
    before = daemon.snapshot_config()
    cases = [(secret_xml("/p.img"), E.VIR_ERR_INTERNAL_ERROR, "already defined for use with"),
             (secret_xml("/other.img", uuid=p.UUIDString(), private="yes"),
              E.VIR_ERR_OPERATION_INVALID, "usage cannot change"),
             (secret_xml("/p.img", uuid=p.UUIDString()), E.VIR_ERR_OPERATION_INVALID,
              "private flag"),
             ("<secret><usage type='floppy'/></secret>", E.VIR_ERR_CONFIG_UNSUPPORTED,
              "unknown secret usage type 'floppy'"),
             ("<secret><usage type='volume'/></secret>", E.VIR_ERR_XML_ERROR, "<volume>"),
             ("<secret><bogus/></secret>", E.VIR_ERR_CONFIG_UNSUPPORTED, "bogus"),
             ("<secret", E.VIR_ERR_XML_ERROR, "malformed")]
    for xml, code, words in cases:
        with pytest.raises(libvirt.libvirtError) as e:
            c.secretDefineXML(xml, 0)
        assert e.value.get_error_code() == code, xml
        assert words in str(e.value), (xml, str(e.value))
    assert daemon.snapshot_config() == before
    # read-only connections list secrets but do not read or change values
    ro = daemon.conn(readonly=True)
    rs = ro.secretLookupByUUIDString(empty.UUIDString())
    assert rs.XMLDesc(0)
    for call in (lambda: rs.value(0), lambda: rs.setValue(b"y", 0), lambda: rs.undefine()):
        with pytest.raises(libvirt.libvirtError) as e:
            call()
        assert e.value.get_error_code() == E.VIR_ERR_OPERATION_DENIED
    ro.close()
    p.undefine()
    empty.undefine()
    c.close()


def test_secret_events(daemon, loop):
    c = daemon.conn()
    got = []
    c.secretEventRegisterAny(None, E.VIR_SECRET_EVENT_ID_LIFECYCLE,
                             lambda conn, s, ev, detail, opaque:
                             got.append((s.usageID(), ev)), None)
    c.secretEventRegisterAny(None, E.VIR_SECRET_EVENT_ID_VALUE_CHANGED,
                             lambda conn, s, opaque: got.append((s.usageID(), "value")), None)
    s = c.secretDefineXML(secret_xml("/ev.img"), 0)
    s.setValue(b"v", 0)
    s.undefine()
    want = [("/ev.img", E.VIR_SECRET_EVENT_DEFINED), ("/ev.img", "value"),
            ("/ev.img", E.VIR_SECRET_EVENT_UNDEFINED)]
    deadline = time.time() + 10
    while len(got) < len(want) and time.time() < deadline:
        time.sleep(0.02)
    assert got == want
    c.close()
