# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each fuzz target (tests/fuzz) a few seconds on its seeds, under ASan and UBSan with the
leak checker: what `make check` runs of the fuzzers (`make fuzz` runs them for 10^7
executions). DOMUS_FUZZ_BUILD names the clang build (make check sets it)."""
import os
import subprocess
import tempfile

import pytest

TOP = os.environ.get("DOMUS_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FUZZ_BUILD = os.environ.get("DOMUS_FUZZ_BUILD")
TARGETS = ["fuzz-rpc", "fuzz-domain-xml", "fuzz-storage-xml", "fuzz-network-xml", "fuzz-qmp",
           "fuzz-qga", "fuzz-saveimage"]


@pytest.mark.skipif(not FUZZ_BUILD, reason="no fuzz build (make check builds build-fuzz)")
@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_a_few_seconds(target):
    exe = os.path.join(TOP, FUZZ_BUILD, "tests", "fuzz", target)
    assert os.access(exe, os.X_OK), f"{exe} is not built"
    with tempfile.TemporaryDirectory(prefix="fz") as corpus:
        subprocess.run(["/usr/bin/python3", os.path.join(TOP, "tests", "fuzz", "seeds.py"),
                        target, corpus], check=True)
        r = subprocess.run([exe, "-max_total_time=4", "-print_final_stats=1",
                            f"-artifact_prefix={corpus}/crash-", corpus],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, UBSAN_OPTIONS="halt_on_error=1",
                                    G_SLICE="always-malloc"))
        assert r.returncode == 0, r.stderr[-4000:]
        runs = [l for l in r.stderr.splitlines() if l.startswith("stat::number_of_executed")]
        assert runs and int(runs[0].split()[-1]) > 100, r.stderr[-2000:]
