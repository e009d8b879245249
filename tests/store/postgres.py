"""A throwaway PostgreSQL server for tests: Debian's initdb and pg_ctl on loopback.

As root the cluster runs as the ``postgres`` user (PostgreSQL refuses root);
otherwise as the current user. Trust auth, so URLs carry no password.

``pg_ctl start`` leaves the server running on its own (in its own session), so
``running_postgres`` guards it (tests/processes.py): ``pg_ctl stop`` runs and the
cluster is deleted when the block ends, at exit (Ctrl-C, SIGTERM, SIGHUP) and, from
the watchdog process, when the test process is killed outright.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.processes import guard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live: pg_config's bindir, Debian's versioned dir, or PATH."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb") or "").parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1; trust auth for the ``postgres`` role."""

    def __init__(self, bindir: Path, root: Path, port: int, as_postgres: bool) -> None:
        self.bindir, self.root, self.port = bindir, root, port
        self.datadir = root / "data"
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
        self._count = itertools.count(1)

    def run(self, tool: str, *args: str) -> None:
        cmd = [*self._prefix, str(self.bindir / tool), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}{tail}")

    def start(self) -> None:
        """Create the cluster (first time) and start the server; waits until it accepts."""
        if not self.datadir.exists():
            self.init()
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self.run("pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"),
                 "-o", options, "-w", "-t", "60", "start")

    def init(self) -> None:
        self.run("initdb", "-D", str(self.datadir), "--auth=trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8", "--locale=C")

    def stop(self) -> None:
        """Stop the server (fast: disconnects clients); the cluster stays for a restart."""
        self.run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def stop_command(self) -> list[str]:
        """The command that stops the server at once (the watchdog's, when we are gone)."""
        return [*self._prefix, str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                "-m", "immediate", "-w", "stop"]

    def running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists()

    def stop_and_remove(self) -> None:
        """Stop the server if it runs, then delete the cluster."""
        try:
            if self.running():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "test") -> str:
        """Create an empty database with a new name; its SQLAlchemy URL."""
        return self.create_database(f"{prefix}_{os.getpid()}_{next(self._count)}")

    def create_database(self, name: str) -> str:
        """Create the database ``name``; its SQLAlchemy URL."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a new cluster on a free port; stop it and delete it on exit, even on failure.

    Raises RuntimeError when PostgreSQL is not installed or does not start.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb/pg_ctl)")
    as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
    root = Path(tempfile.mkdtemp(prefix="gadash-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(bindir, root, free_port(), as_postgres)
    # Before it starts: a start cut short by an interruption leaves a server too.
    entry = guard(server.stop_and_remove, command=server.stop_command(), remove=root)
    try:
        server.start()
        yield server
    finally:
        entry.stop()
