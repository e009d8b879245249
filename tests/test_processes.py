"""The servers a test run starts stop however the run ends (tests/processes.py).

A pytest run in a subprocess on a small test that starts PostgreSQL (the store's
session fixture) and a guarded process of its own, then waits; mid-test it gets
Ctrl-C (SIGINT to its process group, as a terminal sends it), SIGTERM or SIGKILL.
Afterwards no server process and no cluster directory may remain.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.processes import popen, stop_group
from tests.servers import ROOT
from tests.store.postgres import postgres_bindir

INNER = '''
import json, os, sys, time
from pathlib import Path

from tests.processes import popen


def test_waits_to_be_interrupted(postgresql_server):
    sleeper = popen([sys.executable, "-c", "import time; time.sleep(600)"])
    pid = int((postgresql_server.datadir / "postmaster.pid").read_text().split()[0])
    ready = {"root": str(postgresql_server.root), "postmaster": pid, "sleeper": sleeper.pid}
    Path(os.environ["INNER_READY"]).write_text(json.dumps(ready))
    time.sleep(600)
'''


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting for a reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "sigkill"])
def test_an_interrupted_run_leaves_no_server(how: str, tmp_path: Path) -> None:
    if postgres_bindir() is None:
        pytest.fail("PostgreSQL is not installed (no initdb/pg_ctl); "
                    "scripts/test.sh installs it (apt-get install postgresql)")
    (tmp_path / "test_inner.py").write_text(INNER)
    ready_file, log_path = tmp_path / "ready.json", tmp_path / "inner.log"
    env = {**os.environ, "INNER_READY": str(ready_file)}
    with log_path.open("wb") as log:
        proc = popen([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
                      "-p", "tests.conftest", "-p", "tests.store.conftest",
                      "-p", "no:cacheprovider", "-q", str(tmp_path / "test_inner.py")],
                     cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while not ready_file.exists():
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.1)
        time.sleep(0.2)  # the file written in full
        ready = json.loads(ready_file.read_text())
        assert Path(ready["root"]).is_dir() and alive(ready["postmaster"])
        assert alive(ready["sleeper"])
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        elif how == "sigterm":
            proc.send_signal(signal.SIGTERM)
        else:
            proc.kill()
        code = proc.wait(timeout=120)
        log = log_path.read_text()
        if how == "sigkill":
            assert code == -signal.SIGKILL
            deadline = time.monotonic() + 60  # the watchdog's work, after the run
        else:
            # Interrupted (pytest's exit code 2), everything stopped before it exited.
            assert code == 2, log[-3000:]
            assert "KeyboardInterrupt" in log, log[-3000:]
            deadline = time.monotonic()
        while True:
            left = [name for name, gone in (
                ("postgres", not alive(ready["postmaster"])),
                ("cluster directory", not Path(ready["root"]).exists()),
                ("guarded process", not alive(ready["sleeper"]))) if not gone]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert not left, f"{left} left after {how}:\n{log[-3000:]}"
    finally:
        stop_group(proc, grace=5)
