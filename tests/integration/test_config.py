# SPDX-License-Identifier: LGPL-2.1-or-later
"""domusd.conf (a GLib key file) and the TLS settings at start: every bad file or value stops
the daemon with a message naming it, and a good file's [daemon] / [tls] settings take effect
(a TLS listener on loopback, the allowed-DN list, the log level)."""
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from conftest import DOMUS, DOMUSD, Daemon
from pki import CA


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_domusd(conf=None, args=()):
    """Starts domusd expecting it to refuse to run; returns (rc, stderr + log)."""
    root = tempfile.mkdtemp(prefix="dcf", dir="/tmp")
    if conf is not None:
        os.makedirs(os.path.join(root, "etc"))
        with open(os.path.join(root, "etc", "domusd.conf"), "w") as f:
            f.write(conf)
    try:
        r = subprocess.run([DOMUSD, "--root", root, "--no-default-network", *args],
                           capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return r.returncode, r.stderr


@pytest.mark.parametrize("conf,message", [
    ("[limits]\nmax_clientz = 3\n", "unknown setting 'max_clientz' in [limits]"),
    ("[network]\nfoo = 1\n", "unknown group [network]"),
    ("[limits]\nmax_clients = many\n",
     "[limits] max_clients must be a number from 1 to 100000, not 'many'"),
    ("max_clients = 3\n", "domusd.conf"),  # libvirtd.conf's syntax has no group
    ("[daemon]\nlog_level = loud\n",
     "[daemon] log_level must be debug, info, warn or error, not 'loud'"),
    ("[tls]\npki_dir = relative/dir\n", "[tls] pki_dir must be an absolute path"),
    ("[daemon]\nlisten = udp://1.2.3.4\n", "expected tcp://ADDR[:PORT] or tls://ADDR[:PORT]"),
    ("[qemu]\nsave_image_format = zip\n",
     "[qemu] save_image_format must be raw, gzip, bzip2, xz or lzop, not 'zip'"),
    ("[qemu]\nsnapshot_image_format = zstd\n",
     "[qemu] snapshot_image_format must be raw, gzip, bzip2, xz or lzop, not 'zstd'"),
    ("[qemu]\ndefault_disk_io = native\n",
     "[qemu] default_disk_io must be auto or threads, not 'native'"),
])
def test_bad_config_stops_the_daemon(conf, message):
    rc, err = run_domusd(conf)
    assert rc != 0
    assert message in err, err


def test_tls_files_are_checked_at_start(tmp_path):
    port = free_port()
    listen = ["--listen", f"tls://127.0.0.1:{port}"]
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, err = run_domusd(args=listen + ["--pki", str(empty)])
    assert rc == 1 and f"cannot read CA certificate '{empty}/cacert.pem'" in err, err
    # a CA's own certificate cannot serve as the server's
    ca = CA(str(tmp_path))
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for name, src in (("cacert.pem", ca.cert), ("servercert.pem", ca.cert),
                      ("serverkey.pem", ca.key)):
        (wrong / name).write_text(open(src).read())
    rc, err = run_domusd(args=listen + ["--pki", str(wrong)])
    assert rc == 1
    assert "basic constraints show a CA, but we need one for a server" in err, err
    # a server certificate from another CA
    other = CA(str(tmp_path), cn="Other CA").issue(str(tmp_path / "other"), "server", "s1")
    (tmp_path / "other" / "cacert.pem").write_text(open(ca.cert).read())
    rc, err = run_domusd(args=listen + ["--pki", other])
    assert rc == 1 and "failed validation against" in err, err


def test_config_file_listens_with_tls_and_sets_the_log_level(tmp_path):
    ca = CA(str(tmp_path))
    server = ca.issue(str(tmp_path / "server"), "server", "loopback", ips=["127.0.0.1"])
    admin = ca.issue(str(tmp_path / "admin"), "client", "admin")
    guest = ca.issue(str(tmp_path / "guest"), "client", "guest")
    port = free_port()
    d = Daemon()
    os.makedirs(os.path.join(d.root, "etc"))
    with open(os.path.join(d.root, "etc", "domusd.conf"), "w") as f:
        f.write(f"""# domusd.conf
[daemon]
listen = tls://127.0.0.1:{port};
log_level = warn

[tls]
pki_dir = {server}
allowed_dn = C=GB,O=Domus Test,CN=admin;C=GB,O=Domus Test,CN=root*
""")
    d.verbose = False  # -v would turn debug on over the file's level
    d.start()
    try:
        ok = subprocess.run([DOMUS, "-c", f"domus+tls://127.0.0.1:{port}/system?pkipath={admin}",
                             "hostname"], capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0 and ok.stdout.strip(), ok.stderr
        no = subprocess.run([DOMUS, "-c", f"domus+tls://127.0.0.1:{port}/system?pkipath={guest}",
                             "hostname"], capture_output=True, text=True, timeout=60)
        assert no.returncode != 0
        log = open(os.path.join(d.root, "domusd.log")).read()
        assert "'C=GB,O=Domus Test,CN=guest' is not on the list of allowed clients" in log
        # log_level = warn: the refusal (a warning) is there, the info lines are not
        assert "TLS connection from" not in log and "domusd ready" not in log
    finally:
        d.destroy()
