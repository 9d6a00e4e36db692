# SPDX-License-Identifier: LGPL-2.1-or-later
"""domus as a person at a terminal meets it, through a pseudo-terminal: the interactive shell
(banner, prompt, TAB completion of commands, options and live names, history kept across
runs, quit), commands piped into it, the bash completion script, the console's exits (its
escape key and -e, the guest's end, the daemon's), and progress that redraws in place on a
terminal and stays out of a pipe. Guests here run QEMU without booting anything: only the
console device matters."""
import os
import pty
import select
import subprocess
import time

import pytest

from conftest import BUILD, DOMUS, Daemon, domain_xml

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def d():
    daemon = Daemon()
    daemon.start()
    c = daemon.conn()
    for name in ("shelltest", "other1"):
        c.defineXML(domain_xml(name))
    c.close()
    yield daemon
    daemon.destroy()


class Terminal:
    """A program in a pty: expect() what it prints, type() into it."""

    def __init__(self, argv, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if env:
                os.environ.update(env)
            os.execvp(argv[0], argv)
        self.out = b""

    def read_some(self, wait=0.2):
        r, _, _ = select.select([self.fd], [], [], wait)
        if not r:
            return False
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            chunk = b""
        self.out += chunk
        return bool(chunk)

    def expect(self, want, timeout=20):
        deadline = time.time() + timeout
        while want not in self.out:
            assert time.time() < deadline, f"waited for {want!r}; got {self.out[-600:]!r}"
            if not self.read_some() and self.exited():
                raise AssertionError(f"ended before {want!r}: {self.out[-600:]!r}")
        return self.out

    def type(self, text):
        os.write(self.fd, text)

    def exited(self):
        return os.waitpid(self.pid, os.WNOHANG)[0] != 0

    def wait(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.read_some(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self.read_some(0.05):
                    pass
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"still running: {self.out[-600:]!r}")

    def kill(self):
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_interactive_shell(d, tmp_path):
    cache = tmp_path / "cache"
    t = Terminal([DOMUS, "-c", d.domus_uri], env={"XDG_CACHE_HOME": str(cache)})
    try:
        t.expect(b"Welcome to domus, the virtualization interactive terminal.")
        t.expect(b"domus # ")
        t.type(b"hostname\n")
        t.expect(os.uname().nodename.encode())
        # TAB: a command, then an option, then a live domain name (the line editor redraws
        # only what changed, so the proof is the command that runs)
        for keys in (b"domi\t", b"nf\t", b"--dom\t", b"shell\t"):
            t.type(keys)
            time.sleep(0.3)
        t.type(b"\n")
        t.expect(b"Name:           shelltest")
        # two commands on a line, an error, and the shell goes on
        t.type(b"domstate other1; domstate nosuch\n")
        t.expect(b"shut off")
        t.expect(b"error: failed to get domain 'nosuch'")
        t.type(b"quit\n")
        assert t.wait() == 0
    finally:
        t.kill()
    history = (cache / "domus" / "history").read_text()
    assert "hostname" in history and "quit" in history
    # the next session has it: Up brings back the last line
    t = Terminal([DOMUS, "-c", d.domus_uri], env={"XDG_CACHE_HOME": str(cache)})
    try:
        t.expect(b"domus # ")
        t.type(b"\x1b[A")
        t.expect(b"quit")
        t.type(b"\n")
        assert t.wait() == 0
    finally:
        t.kill()


def test_commands_from_a_pipe(d):
    r = subprocess.run([DOMUS, "-c", d.domus_uri], input="domstate other1 ; domid other1\n"
                       "# a comment\nlist --all --name\nquit\nlist\n", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Welcome" not in r.stdout and "domus #" not in r.stdout
    assert r.stdout.startswith("shut off\n\n-\n\nother1\nshelltest\n\n"), r.stdout
    assert "Id   Name" not in r.stdout  # nothing after quit


def test_shell_builtins(d):
    r = subprocess.run([DOMUS, "-c", d.domus_uri], input="cd /tmp; pwd\nconnect\nhostname\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("/tmp\n"), r.stdout + r.stderr
    r = subprocess.run([DOMUS, "cd", "/tmp"], capture_output=True, text=True)
    assert r.returncode == 1 and "cd: command valid only in interactive mode" in r.stderr


@pytest.mark.parametrize("args", [
    ["echo", "a", "b"], ["echo", "--split", "a,,b,c", "d"], ["echo", "--xml", "a'b\"<&"],
    ["echo", "--shell", "", "it's", "a b", "c"], ["echo", "--shell", "--xml", "a"],
    ["echo", "--err", "x"],
])
def test_echo_matches_virsh(args):
    v = subprocess.run(["virsh"] + args, capture_output=True, text=True)
    m = subprocess.run([DOMUS] + args, capture_output=True, text=True)
    assert (m.returncode, m.stdout, m.stderr) == (v.returncode, v.stdout, v.stderr)


def bash_complete(d, *words):
    """What the bash completion script offers after WORDS (the last one being completed)."""
    script = f"""
source {SRC}/data/bash-completion/domus
COMP_WORDS=({' '.join(repr(w) if w else "''" for w in ("domus",) + words)})
COMP_CWORD={len(words)}
_domus
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = {**os.environ, "PATH": f"{BUILD}:{os.environ['PATH']}"}
    r = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if x]


def test_bash_completion(d, tmp_path):
    uri = d.domus_uri
    assert bash_complete(d, "-c", uri, "domst") == ["domstate", "domstats"]
    assert "--reason" in bash_complete(d, "-c", uri, "domstate", "--")
    assert bash_complete(d, "-c", uri, "domstate", "") == ["other1", "shelltest"]
    assert bash_complete(d, "-c", uri, "start", "--domain", "sh") == ["shelltest"]
    assert bash_complete(d, "-c", uri, "pool-info", "") == ["default"]
    assert bash_complete(d, "-c", uri, "help", "net-li") == ["net-list"]
    assert bash_complete(d, "--re") == ["--readonly"]
    # in an interactive bash: TAB fills the name in
    env = {"PATH": f"{BUILD}:{os.environ['PATH']}", "PS1": "$ ", "HOME": str(tmp_path)}
    t = Terminal(["bash", "--norc", "--noprofile", "-i"], env=env)
    try:
        t.expect(b"$ ")
        t.type(f"source {SRC}/data/bash-completion/domus\n".encode())
        t.type(f"domus -c '{uri}' domstate shell\t".encode())
        t.expect(b"shelltest ")
        t.type(b"\n")
        t.expect(b"shut off")
        t.type(b"exit\n")
        t.wait()
    finally:
        t.kill()


def test_console_escape_keys_and_guest_end(d):
    c = d.conn()
    dom = c.lookupByName("other1")
    dom.create()
    try:
        for args, key, banner in ((["console", "other1"], b"\x1d", b"Escape character is ^] "
                                   b"(Ctrl + ])"),
                                  (["-e", "^X", "console", "other1"], b"\x18",
                                   b"Escape character is ^X (Ctrl + X)")):
            t = Terminal([DOMUS, "-c", d.domus_uri] + args)
            try:
                t.expect(banner)
                time.sleep(0.3)  # the terminal goes raw after the banner
                t.type(key)
                assert t.wait() == 0
            finally:
                t.kill()
        r = subprocess.run([DOMUS, "-e", "^1", "console", "other1"], capture_output=True,
                           text=True)
        assert r.returncode == 1 and "Invalid string '^1' for escape sequence" in r.stderr
        # the guest goes away: the console ends by itself
        t = Terminal([DOMUS, "-c", d.domus_uri, "console", "other1"])
        try:
            t.expect(b"Escape character is")
            dom.destroy()
            assert t.wait() == 0
        finally:
            t.kill()
    finally:
        if dom.isActive():
            dom.destroy()
        c.close()


def test_progress_redraws_on_a_terminal_only(d):
    d.domus("vol-create-as", "default", "wipeme", "256M", check=True)
    t = Terminal([DOMUS, "-c", d.domus_uri, "vol-wipe", "wipeme", "--pool", "default",
                  "--algorithm", "nnsa"])
    try:
        assert t.wait(timeout=120) == 0
    finally:
        t.kill()
    out = t.out.decode()
    # one line, redrawn: carriage returns between the figures, [100 %] once, at the end
    assert out.count("Wipe: [100 %]") == 1, out
    assert "\rWipe: [" in out and out.index("Wipe: [100 %]") > out.index("\rWipe: [")
    assert "\n" not in out.split("Wipe: [100 %]")[0].replace("\r\n", "\n").lstrip("\n")
    assert "Vol wipeme wiped" in out
    # into a pipe: the result, no progress
    r = d.domus("vol-wipe", "wipeme", "--pool", "default", check=True)
    assert r.stdout == "Vol wipeme wiped\n\n" and "Wipe:" not in r.stderr
    d.domus("vol-delete", "wipeme", "--pool", "default", check=True)


def test_console_leaves_when_the_daemon_closes(d):
    c = d.conn()
    c.lookupByName("other1").create()
    c.close()
    t = Terminal([DOMUS, "-c", d.domus_uri, "console", "other1"])
    try:
        t.expect(b"Escape character is")
        d.stop()
        rc = t.wait()
    finally:
        t.kill()
    assert rc == 1 and b"the daemon closed the connection" in t.out, t.out
    d.start()
