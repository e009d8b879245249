"""``gadash serve`` starts and stops cleanly, however it is stopped: exit status 0, no
traceback, and no metrics directory left in the temp directory. Each try is the
real command (gunicorn master, two workers, the demo's stand-in); more tries with
GADASH_STOP_TRIES=20."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.servers import ROOT

TRIES = int(os.environ.get("GADASH_STOP_TRIES", "2"))


def _metrics_dirs(tmp: Path) -> set[Path]:
    return set(tmp.glob("gadash-metrics-*"))


def _serve_and_stop(data_dir: Path, tmp: Path, sig: signal.Signals) -> tuple[int, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GADASH_DATA_DIR": str(data_dir),
           "GADASH_WARM_INTERVAL": "0", "TMPDIR": str(tmp), "WEB_CONCURRENCY": "2"}
    for name in ("GADASH_PROPERTIES", "GADASH_GA_ENDPOINT", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "gadash.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out.decode(errors="replace")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_every_time(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    assert Path(tempfile.gettempdir()) != tmp  # the app's temp directory is its own here
    for i in range(TRIES // 2 or 1):
        status, out = _serve_and_stop(tmp_path / f"data{i}", tmp, sig)
        assert "Booting worker" in out, out[-2000:]
        assert status == 0 and "Traceback" not in out, out[-3000:]
        assert _metrics_dirs(tmp) == set(), out[-2000:]
