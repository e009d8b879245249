"""Servers the tests start stop with the run, however the run ends.

Three layers, each catching what the one before misses:

1. Fixtures and context managers stop their servers in ``finally``: the test ends,
   fails, or is interrupted with Ctrl-C (pytest tears every fixture down on
   KeyboardInterrupt, yield fixtures and ``addfinalizer`` alike).
2. ``install_signal_handlers()`` (tests/conftest.py's ``pytest_configure``) makes
   SIGTERM and SIGHUP interrupt the run as Ctrl-C does, so layer 1 runs; and
   ``atexit`` stops whatever is still registered (a second Ctrl-C that cut a
   teardown short, a server started outside a fixture).
3. A watchdog process in its own session reads a pipe from the test process. When
   the test process dies in a way no Python code sees (SIGKILL, pytest-timeout's
   ``thread`` method, which calls ``os._exit``), the pipe closes and the watchdog
   kills the registered process groups, runs the registered stop commands (``pg_ctl
   stop``) and removes the registered directories.

Servers are started in their own process group (``start_new_session=True``), so a
Ctrl-C at the terminal reaches pytest only and the servers stop in order, by us.

Run as a script, this file is the watchdog.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any


class Guard:
    """One registered server: ``release()`` once it has been stopped normally."""

    def __init__(self, key: int, stop: Callable[[], None]) -> None:
        self.key, self._stop = key, stop

    def release(self) -> None:
        """Forget the server (it was stopped): neither atexit nor the watchdog touch it."""
        with _lock:
            if _guards.pop(self.key, None) is not None:
                _tell({"release": self.key})

    def stop(self) -> None:
        """Stop the server now (atexit's way) and forget it."""
        try:
            self._stop()
        finally:
            self.release()


_lock = threading.RLock()
_guards: dict[int, Guard] = {}
_by_pid: dict[int, Guard] = {}  # popen's processes
_keys = itertools.count(1)
_watchdog: subprocess.Popen[bytes] | None = None
_watchdog_pid_owner = 0  # the pid that started the watchdog (a fork must not use it)


def guard(stop: Callable[[], None], *, group: int | None = None, pid: int | None = None,
          command: Sequence[str] | None = None, remove: Path | None = None) -> Guard:
    """Register a running server to be stopped however the run ends.

    ``stop`` stops it from this process (atexit); the watchdog, if this process dies
    without running Python code, kills process group ``group`` or process ``pid``
    (SIGTERM, then SIGKILL after 10 seconds), runs ``command`` and removes ``remove``.
    """
    with _lock:
        key = next(_keys)
        entry = Guard(key, stop)
        _guards[key] = entry
        _tell({"key": key, "group": group, "pid": pid,
               "command": list(command) if command else None,
               "remove": str(remove) if remove else None})
    return entry


def popen(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` in a new process group, guarded: killed with its children
    however the run ends. Stop it with ``stop_group``."""
    proc: subprocess.Popen[Any] = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    with _lock:
        _by_pid[proc.pid] = guard(lambda: _kill_group(proc.pid, 10, proc), group=proc.pid)
    return proc


def stop_group(proc: subprocess.Popen[Any], grace: float = 15) -> None:
    """SIGTERM to the process group of ``proc`` (a server and its workers), SIGKILL to
    it after ``grace`` seconds; then reap ``proc`` and forget it."""
    try:
        _kill_group(proc.pid, grace, proc)
    finally:
        with _lock:
            entry = _by_pid.pop(proc.pid, None)
        if entry is not None:
            entry.release()


def _kill_group(pgid: int, grace: float, proc: subprocess.Popen[Any] | None = None) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        if _wait_group_gone(pgid, wait, proc):
            break
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def _wait_group_gone(pgid: int, wait: float, proc: subprocess.Popen[Any] | None) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc is not None:
            proc.poll()  # reap the leader, or it stays a zombie in the group
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a member changed user (runuser): still there
            pass
        time.sleep(0.05)
    return False


def _tell(message: dict[str, Any]) -> None:
    """A line to the watchdog, started on first use; a watchdog that cannot be started
    or has gone leaves layers 1 and 2 (a warning, not a failure)."""
    global _watchdog, _watchdog_pid_owner
    if _watchdog_pid_owner != os.getpid():
        _watchdog = None  # a forked child: its parent's watchdog is not ours
    if _watchdog is None:
        if "release" in message:
            return
        _watchdog = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
        _watchdog_pid_owner = os.getpid()
    stdin: IO[bytes] | None = _watchdog.stdin
    if stdin is None:
        return
    try:
        stdin.write(json.dumps(message).encode() + b"\n")
        stdin.flush()
    except (BrokenPipeError, ValueError):
        print("tests/processes.py: the watchdog has gone", file=sys.stderr)


def stop_all() -> None:
    """Stop every server still registered, the last started first (atexit)."""
    with _lock:
        entries = list(_guards.values())[::-1]
    for entry in entries:
        try:
            entry.stop()
        except Exception as exc:  # noqa: BLE001 -- stop the others still
            print(f"tests/processes.py: stopping a server at exit: {exc!r}", file=sys.stderr)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Once: a second SIGTERM while tearing down kills the run the default way (and
    # the watchdog stops what is left).
    signal.signal(signum, signal.SIG_DFL)
    raise KeyboardInterrupt(f"{signal.Signals(signum).name}: stopping the test servers")


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP interrupt the run as Ctrl-C does (from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _interrupt)


atexit.register(stop_all)


# ---------------------------------------------------------------- the watchdog


def _watch() -> None:
    """Read registrations from stdin until it closes (the test process has gone); then
    stop what is still registered, the last first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    entries: dict[int, dict[str, Any]] = {}
    for line in sys.stdin.buffer:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "release" in message:
            entries.pop(message["release"], None)
        else:
            entries[message["key"]] = message
    for entry in reversed(list(entries.values())):
        with contextlib.suppress(Exception):
            if entry.get("group"):
                _kill_group(entry["group"], 10)
            if entry.get("pid"):
                _kill_pid(entry["pid"], 10)
            if entry.get("command"):
                subprocess.run(entry["command"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=120)
            if entry.get("remove"):
                shutil.rmtree(entry["remove"], ignore_errors=True)


def _kill_pid(pid: int, grace: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


if __name__ == "__main__":
    _watch()
