"""Slow clients against the Procfile's server: does /healthz still answer in time?

    python bench/trickle.py [--clients 100] [--seconds 30] [--procfile Procfile]

Starts the app with the Procfile's ``web:`` command (the app in demo mode, on a
free loopback port), opens ``--clients`` connections that each send a request's
headers one byte per second, and meanwhile times ``GET /healthz`` every 0.2 s
(1 s client timeout counts as a failure). Prints p50/p95/max and how many took
over 1 s, then stops the clients and the server.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW_REQUEST = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: trickle\r\n"
                b"Accept: */*\r\nX-Padding: " + b"x" * 4000 + b"\r\n\r\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile_command(procfile: Path, port: int) -> list[str]:
    """The ``web:`` line of the Procfile, with $PORT and defaults expanded by a shell."""
    for line in procfile.read_text().splitlines():
        if line.startswith("web:"):
            return ["sh", "-c", "exec " + line.removeprefix("web:").strip()]
    raise SystemExit(f"{procfile}: no web: line")


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if healthz(port, 1.0) is not None:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


def healthz(port: int, timeout: float) -> float | None:
    """Seconds /healthz took, or None if it failed or took longer than ``timeout``."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            return None
    except OSError:
        return None
    finally:
        conn.close()
    return time.monotonic() - start


def trickle(port: int, stop: threading.Event, opened: list[int]) -> None:
    """One slow client: a byte a second until ``stop`` or the request is complete."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    opened.append(1)
    try:
        for byte in SLOW_REQUEST:
            if stop.wait(1.0):
                break
            sock.sendall(bytes([byte]))
    except OSError:
        pass  # the server gave up on us: fine
    finally:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    args = parser.parse_args()

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="gadash-trickle-"))
    log = workdir / "server.log"
    env = {**os.environ, "PORT": str(port), "GADASH_HOST": "127.0.0.1",
           "GADASH_DATA_DIR": str(workdir / "instance"), "GADASH_WARM_INTERVAL": "0",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in ("GADASH_PROPERTIES", "GADASH_OIDC_CLIENT_ID", "REDIS_URL", "GADASH_REDIS_URL"):
        env.pop(name, None)  # demo mode, open, process-local cache
    cmd = procfile_command(args.procfile, port)
    print(f"server: {shlex.join(cmd)} (PORT={port})", flush=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    stop = threading.Event()
    clients: list[threading.Thread] = []
    try:
        wait_healthy(proc, port, log)
        quiet = [t for t in (healthz(port, 5.0) for _ in range(10)) if t is not None]
        print(f"idle /healthz: median {statistics.median(quiet) * 1000:.1f} ms", flush=True)
        opened: list[int] = []
        for _ in range(args.clients):
            t = threading.Thread(target=trickle, args=(port, stop, opened), daemon=True)
            t.start()
            clients.append(t)
        time.sleep(2.0)  # every slow client connected and started its headers
        print(f"{len(opened)} slow clients connected; timing /healthz for {args.seconds:.0f} s",
              flush=True)
        timings: list[float] = []
        failed = 0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            took = healthz(port, 1.0)
            if took is None:
                failed += 1
            else:
                timings.append(took)
                time.sleep(max(0.0, 0.2 - took))
        total = len(timings) + failed
        # A request that failed or passed the 1 s client timeout counts as infinitely slow.
        ordered = sorted(timings) + [float("inf")] * failed
        p95 = ordered[min(total - 1, int(0.95 * total))]

        def ms(seconds: float) -> str:
            return ">1000 ms" if seconds == float("inf") else f"{seconds * 1000:.1f} ms"

        print(f"/healthz under {len(opened)} slow clients: {total} requests, "
              f"p50 {ms(ordered[total // 2])}, p95 {ms(p95)}, max {ms(ordered[-1])}, "
              f"over 1 s or failed: {failed}", flush=True)
    finally:
        stop.set()
        for t in clients:
            t.join(timeout=5)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


if __name__ == "__main__":
    main()
