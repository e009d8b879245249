"""Start the app as a real server process (python app.py, or gunicorn) on loopback.

The process runs in its own process group and is guarded (tests/processes.py): it
stops with the run however the run ends, workers and all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import free_port
from tests.processes import popen, stop_group

ROOT = Path(__file__).resolve().parents[1]


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop_group(proc, grace=1)  # its workers, if any are left
            raise RuntimeError(f"app exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    stop_group(proc, grace=1)
    raise RuntimeError(f"app did not start: {log_path.read_text()[-2000:]}")


def start_app(env: dict[str, str], log_path: Path, port: int | None = None,
              workers: int = 0, config: str | None = None
              ) -> tuple[subprocess.Popen[bytes], str]:
    """``python app.py`` (or gunicorn with ``workers``) with the given settings, healthy.

    ``config``: gunicorn's config file (its settings, then the ones given here)."""
    port = port or int(env.get("GADASH_PORT") or 0) or free_port()
    full_env = {**os.environ, "GADASH_PORT": str(port), "GADASH_HOST": "127.0.0.1",
                "GADASH_WARM_INTERVAL": "0", **env}
    if workers:
        cmd = [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers)]
        # The Procfile's config, or the threads and keep-alive room it sets.
        cmd += ["--config", config] if config else [
            "--threads", "128", "--worker-connections", "160", "--timeout", "60"]
    else:
        cmd = [sys.executable, "app.py"]
    with log_path.open("wb") as log:
        proc = popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(proc, url, log_path)
    return proc, url


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the app and its workers (gunicorn's graceful stop), SIGKILL if stuck."""
    stop_group(proc)


def callback_body(deps: list[dict[str, Any]], prefix: str, inputs: list[dict[str, Any]],
                  state: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON Dash's renderer posts to /_dash-update-component for the callback whose
    output starts with ``prefix`` (deps from /_dash-dependencies)."""
    dep = next(d for d in deps if d["output"].startswith(prefix))
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in dep["output"].strip(".").split("...")]
    return {"output": dep["output"], "outputs": outputs, "inputs": inputs,
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]],
            "state": state or []}
