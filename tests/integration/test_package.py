# SPDX-License-Identifier: LGPL-2.1-or-later
"""Installing as a host admin would: the Debian source package (debian/) builds domusd,
domus, libdomus0 and libdomus-dev with `dpkg-buildpackage -us -uc -b` from a copy of the
tree; they install into a fresh directory with `dpkg --root` (the machine's own dpkg database
untouched), with the sample domusd.conf as a conffile, the socket units enabled and the man
pages in place; the installed domusd, started the way systemd's socket units start it (its
listening sockets handed over as LISTEN_FDS), answers the installed domus."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGES = ["domusd", "domus", "libdomus0", "libdomus-dev"]


def copy_tree(dst):
    """The project's files (what git tracks, else everything but build directories)."""
    r = subprocess.run(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], capture_output=True)
    if r.returncode == 0 and r.stdout:
        for rel in r.stdout.decode().split("\0"):
            if not rel or not os.path.lexists(os.path.join(SRC, rel)):
                continue
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(SRC, rel), os.path.join(dst, rel), follow_symlinks=False)
    else:
        shutil.copytree(SRC, dst, ignore=shutil.ignore_patterns("build*", ".git", ".demo"))


@pytest.fixture(scope="module")
def installed():
    work = tempfile.mkdtemp(prefix="dpkg", dir="/tmp")
    src = os.path.join(work, "domus")
    copy_tree(src)
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, capture_output=True,
                       text=True, timeout=1800)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    debs = {p: glob.glob(os.path.join(work, f"{p}_*.deb")) for p in PACKAGES}
    assert all(len(v) == 1 for v in debs.values()), debs
    root = os.path.join(work, "root")
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
        os.makedirs(os.path.join(root, d))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    # the libraries they depend on are the machine's; the maintainer scripts run outside a
    # chroot with DPKG_ROOT set, as debhelper's snippets expect
    r = subprocess.run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
                        "-i"] + [v[0] for v in debs.values()], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    yield root
    shutil.rmtree(work, ignore_errors=True)


def test_packages_install_what_an_admin_needs(installed):
    root = installed
    for path in ["usr/sbin/domusd", "usr/bin/domus", "etc/domus/domusd.conf",
                 "lib/systemd/system/domusd.service", "lib/systemd/system/domusd.socket",
                 "lib/systemd/system/domusd-ro.socket", "lib/systemd/system/domusd-tls.socket",
                 "usr/share/man/man1/domus.1.gz", "usr/share/man/man8/domusd.8.gz",
                 "usr/include/domus/domus.h", "usr/share/bash-completion/completions/domus"]:
        assert os.path.exists(os.path.join(root, path)), path
    assert glob.glob(os.path.join(root, "usr/lib/*/libdomus.so.0"))
    assert glob.glob(os.path.join(root, "usr/lib/*/pkgconfig/libdomus.pc"))
    status = subprocess.run(["dpkg", f"--root={root}", "-s", "domusd"], capture_output=True,
                            text=True).stdout
    assert "Status: install ok installed" in status
    assert "/etc/domus/domusd.conf" in status.split("Conffiles:")[1]
    wants = os.path.join(root, "etc/systemd/system/sockets.target.wants")
    assert sorted(os.listdir(wants)) == ["domusd-ro.socket", "domusd.socket"]
    unit = open(os.path.join(root, "lib/systemd/system/domusd.service")).read()
    assert "ExecStart=/usr/sbin/domusd " in unit
    man = subprocess.run(["man", "-l", os.path.join(root, "usr/share/man/man8/domusd.8.gz")],
                         capture_output=True, text=True, env={**os.environ, "MANWIDTH": "200"})
    assert "--tls-allowed-dn" in man.stdout and "/etc/domus/domusd.conf" in man.stdout
    r = subprocess.run([os.path.join(root, "usr/sbin/domusd"), "--version"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("domusd ")


def test_socket_activated_daemon_answers_the_installed_client(installed, tmp_path):
    root = installed
    state = tmp_path / "state"
    run = tmp_path / "sockets"
    run.mkdir()
    socks = []
    for name, mode in (("domus-sock", 0o600), ("domus-sock-ro", 0o666)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(run / name))
        os.chmod(run / name, mode)
        s.listen(16)
        socks.append(s)

    def hand_over():
        # as systemd does: the sockets at 3 and 4, LISTEN_PID naming the daemon itself
        for i, s in enumerate(socks):
            os.dup2(s.fileno(), 3 + i)
        os.environ["LISTEN_PID"] = str(os.getpid())

    log = open(tmp_path / "domusd.log", "w")
    env = {**os.environ, "LISTEN_FDS": "2", "LISTEN_FDNAMES": "domus-sock:domus-sock-ro"}
    # os.environ set in the child is not what exec passes: let the shell export it
    proc = subprocess.Popen(
        ["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"', os.path.join(root, "usr/sbin/domusd"),
         "--root", str(state), "--no-default-network", "-v"],
        env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(3, 4), preexec_fn=hand_over)
    try:
        domus = os.path.join(root, "usr/bin/domus")
        uri = f"domus:///system?socket={run / 'domus-sock'}"
        deadline = time.time() + 30
        while True:
            r = subprocess.run([domus, "-c", uri, "version"], capture_output=True, text=True)
            if r.returncode == 0 or time.time() > deadline or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert r.returncode == 0, r.stderr + open(tmp_path / "domusd.log").read()[-2000:]
        assert "Running hypervisor: QEMU" in r.stdout, r.stdout
        ro = subprocess.run([domus, "-r", "-c", f"domus:///system?socket={run / 'domus-sock-ro'}",
                             "list", "--all"], capture_output=True, text=True)
        assert ro.returncode == 0, ro.stderr
        # the daemon served the sockets it was given and made none of its own
        assert not os.path.exists(state / "run" / "domus-sock")
        assert "serving the unix sockets systemd passed" in open(tmp_path / "domusd.log").read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for s in socks:
            s.close()
