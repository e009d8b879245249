"""Digests and their runs in the team's database; frozen rows, one transaction a method.

A run is due once: ``(digest_id, due_at)`` is unique, so whichever instance inserts it
first makes it and the others' inserts do nothing. A run is then *claimed* for one
attempt by a single conditional ``UPDATE`` (pending, due to be tried, not leased):
one process wins, the others see no row changed. The lease lapses if the winner dies
mid-send, so another process takes the run up again: a digest is never lost.
"""

from __future__ import annotations

import builtins
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import defer

from gadash.store.db import Database
from gadash.store.models import Digest, DigestRun
from gadash.store.repos import MAX_PANEL_ID, _insert_new, _utc, utcnow

RUN_STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True)
class DigestRow:
    """A digest: what it sends (``source``: ``view:<slug>`` or ``panel:<id>``), when
    (``schedule``, a ``core.schedule`` phrase) and to whom."""

    id: int
    name: str
    source: str
    property: str
    schedule: str
    emails: tuple[str, ...]
    webhooks: tuple[str, ...]
    paused: bool
    active_since: datetime
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class DigestRunRow:
    """One sending: its status, the recipients done, and a line per event."""

    id: int
    digest_id: int
    due_at: datetime
    kind: str
    status: str
    attempts: int
    next_try_at: datetime
    delivered: tuple[str, ...]
    log: str
    sent_at: datetime | None
    image_token: str | None
    claim_token: str | None = None


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.splitlines() if line.strip())


def _digest_row(m: Digest) -> DigestRow:
    return DigestRow(id=m.id, name=m.name, source=m.source, property=m.property,
                     schedule=m.schedule, emails=_lines(m.emails), webhooks=_lines(m.webhooks),
                     paused=m.paused, active_since=m.active_since, created_by=m.created_by,
                     created_at=m.created_at, updated_by=m.updated_by, updated_at=m.updated_at)


def _run_row(m: DigestRun) -> DigestRunRow:
    return DigestRunRow(id=m.id, digest_id=m.digest_id, due_at=m.due_at, kind=m.kind,
                        status=m.status, attempts=m.attempts, next_try_at=m.next_try_at,
                        delivered=_lines(m.delivered), log=m.log, sent_at=m.sent_at,
                        image_token=m.image_token, claim_token=m.claim_token)


def _id_ok(number: int) -> bool:
    return 0 < number <= MAX_PANEL_ID


class DigestRepo:
    """Digests and their runs. Raises StoreUnavailableError when the database cannot be
    reached, StoreError when it refuses."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ digests
    def create(self, name: str, source: str, property: str, schedule: str,
               emails: tuple[str, ...], webhooks: tuple[str, ...], by: str) -> DigestRow:
        now = utcnow()
        m = Digest(name=name, source=source, property=property, schedule=schedule,
                   emails="\n".join(emails), webhooks="\n".join(webhooks), paused=False,
                   active_since=now, created_by=by, created_at=now, updated_by=by,
                   updated_at=now)
        with self._db.write() as s:
            s.add(m)
            s.flush()
            return _digest_row(m)

    def get(self, digest_id: int) -> DigestRow | None:
        if not _id_ok(digest_id):
            return None
        with self._db.read() as s:
            m = s.get(Digest, digest_id)
            return _digest_row(m) if m is not None else None

    def list(self) -> builtins.list[DigestRow]:
        """Every digest, by name then id."""
        with self._db.read() as s:
            return [_digest_row(m) for m in s.scalars(select(Digest).order_by(Digest.name,
                                                                              Digest.id))]

    def update(self, digest_id: int, by: str, *, restart: datetime | None = None,
               **changes: Any) -> DigestRow | None:
        """Change the given columns (``emails``/``webhooks`` as tuples) in one
        ``UPDATE``; ``restart``: times due before it are not sent (a new schedule, a
        resume). The digest as it is now, or None when there is none."""
        if not _id_ok(digest_id):
            return None
        values = {k: "\n".join(v) if k in ("emails", "webhooks") else v
                  for k, v in changes.items()}
        now = utcnow()
        if restart is not None:
            values["active_since"] = _utc(restart, "restart")
        with self._db.write() as s:
            result = s.connection().execute(
                update(Digest).where(Digest.id == digest_id)
                .values(**values, updated_by=by, updated_at=now))
            if result.rowcount != 1:
                return None
            m = s.get(Digest, digest_id)
            return _digest_row(m) if m is not None else None

    def delete(self, digest_id: int) -> bool:
        """Delete a digest and its runs; False when there is none."""
        if not _id_ok(digest_id):
            return False
        with self._db.write() as s:
            s.connection().execute(delete(DigestRun).where(DigestRun.digest_id == digest_id))
            result = s.connection().execute(delete(Digest).where(Digest.id == digest_id))
            return result.rowcount == 1

    # --------------------------------------------------------------------- runs
    def add_run(self, digest_id: int, due_at: datetime, kind: str = "scheduled",
                log: str = "") -> bool:
        """Make the run due at ``due_at`` unless one is; True when this call made it."""
        due_at = _utc(due_at, "due_at")
        with self._db.read() as s:  # the usual case, every look of every process: no write
            if s.scalar(select(DigestRun.id).where(DigestRun.digest_id == digest_id,
                                                   DigestRun.due_at == due_at)) is not None:
                return False
        with self._db.write() as s:
            return _insert_new(s, DigestRun, dict(
                digest_id=digest_id, due_at=due_at, kind=kind, status="pending", attempts=0,
                next_try_at=due_at, lease_until=None, delivered="", log=log, sent_at=None,
                image_token=None, image=None, claim_token=None))

    def claim(self, now: datetime, lease: timedelta, run_id: int | None = None
              ) -> DigestRunRow | None:
        """Take the oldest run due to be tried (or run ``run_id`` only) for one attempt,
        ``lease`` long, under a new claim token; None when there is none. Its
        ``attempts`` counts this one."""
        now = _utc(now, "now")
        ready = (DigestRun.status == "pending", DigestRun.next_try_at <= now,
                 or_(DigestRun.lease_until.is_(None), DigestRun.lease_until <= now))
        with self._db.read() as s:
            stmt = select(DigestRun.id).where(*ready)
            if run_id is not None:
                stmt = stmt.where(DigestRun.id == run_id)
            ids = list(s.scalars(stmt.order_by(DigestRun.due_at, DigestRun.id).limit(20)))
        for candidate in ids:
            token = secrets.token_hex(16)
            with self._db.write() as s:
                result = s.connection().execute(
                    update(DigestRun).where(DigestRun.id == candidate, *ready)
                    .values(lease_until=now + lease, attempts=DigestRun.attempts + 1,
                            claim_token=token))
                if result.rowcount == 1:
                    m = s.get(DigestRun, candidate, options=[defer(DigestRun.image)])
                    if m is not None:
                        s.refresh(m)
                        return _run_row(m)
        return None

    def delivered_to(self, run: DigestRunRow, item: str, now: datetime,
                     lease: timedelta) -> bool:
        """Note that ``item`` (``mail:<address>``, ``hook:...``, ``refused:...``) is
        done, and renew the lease; False when this attempt no longer holds the run (it
        must stop: another process has it)."""
        now = _utc(now, "now")
        with self._db.write() as s:
            result = s.connection().execute(
                update(DigestRun).where(DigestRun.id == run.id,
                                        DigestRun.claim_token == run.claim_token)
                .values(delivered=DigestRun.delivered + f"{item}\n",
                        lease_until=now + lease))
            return result.rowcount == 1

    def retry(self, run_id: int, now: datetime, log: str) -> bool:
        """Send a failed run again now (its due time, so its period, kept); False when
        there is no such failed run."""
        now = _utc(now, "now")
        with self._db.write() as s:
            result = s.connection().execute(
                update(DigestRun).where(DigestRun.id == run_id, DigestRun.status == "failed")
                .values(status="pending", next_try_at=now, lease_until=None,
                        claim_token=None, attempts=0, log=DigestRun.log + log))
            return result.rowcount == 1

    def made_since(self, digest_id: int, kind: str, since: datetime) -> bool:
        """Whether a run of this kind was made at or after ``since`` (its due time)."""
        with self._db.read() as s:
            made = s.scalar(select(func.count()).select_from(DigestRun).where(
                DigestRun.digest_id == digest_id, DigestRun.kind == kind,
                DigestRun.due_at >= _utc(since, "since")))
            return bool(made)

    def finish(self, run: DigestRunRow, *, status: str, log: str,
               next_try_at: datetime | None = None, sent_at: datetime | None = None
               ) -> bool:
        """Record an attempt's outcome and release the lease (``log`` is appended);
        False, and nothing written, when the attempt no longer holds the run."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        values: dict[str, Any] = dict(status=status, lease_until=None, claim_token=None,
                                      log=DigestRun.log + log)
        if next_try_at is not None:
            values["next_try_at"] = _utc(next_try_at, "next_try_at")
        if sent_at is not None:
            values["sent_at"] = _utc(sent_at, "sent_at")
        held = (DigestRun.claim_token == run.claim_token if run.claim_token is not None
                else DigestRun.claim_token.is_(None))
        with self._db.write() as s:
            result = s.connection().execute(update(DigestRun).where(
                DigestRun.id == run.id, held).values(**values))
            return result.rowcount == 1

    def set_image(self, run_id: int, png: bytes) -> str:
        """Keep the trend picture a run sends, under a new unguessable token; the token."""
        token = secrets.token_urlsafe(18)
        with self._db.write() as s:
            s.connection().execute(update(DigestRun).where(DigestRun.id == run_id)
                                   .values(image=png, image_token=token))
        return token

    def note(self, run_id: int, log: str) -> None:
        """Append to a run's log."""
        with self._db.write() as s:
            s.connection().execute(update(DigestRun).where(DigestRun.id == run_id)
                                   .values(log=DigestRun.log + log))

    def run(self, run_id: int) -> DigestRunRow | None:
        with self._db.read() as s:
            m = s.get(DigestRun, run_id, options=[defer(DigestRun.image)])
            return _run_row(m) if m is not None else None

    def runs(self, digest_id: int | None = None, limit: int = 50
             ) -> builtins.list[DigestRunRow]:
        """The latest runs (of one digest when given), newest first."""
        stmt = select(DigestRun).options(defer(DigestRun.image)).order_by(
            DigestRun.due_at.desc(), DigestRun.id.desc())
        if digest_id is not None:
            stmt = stmt.where(DigestRun.digest_id == digest_id)
        with self._db.read() as s:
            return [_run_row(m) for m in s.scalars(stmt.limit(limit))]

    def latest(self) -> dict[int, DigestRunRow]:
        """Each digest's latest run."""
        newest = (select(DigestRun.digest_id, func.max(DigestRun.due_at).label("due"))
                  .group_by(DigestRun.digest_id).subquery())
        stmt = select(DigestRun).options(defer(DigestRun.image)).join(
            newest, (DigestRun.digest_id == newest.c.digest_id)
            & (DigestRun.due_at == newest.c.due))
        with self._db.read() as s:
            return {m.digest_id: _run_row(m) for m in s.scalars(stmt)}

    def prune(self, images_before: datetime, logs_before: datetime) -> tuple[int, int]:
        """Drop the pictures of runs due before ``images_before`` and the runs due before
        ``logs_before``, but never a pending run nor a digest's latest; how many of each."""
        settled = DigestRun.status != "pending"
        latest = select(func.max(DigestRun.id)).group_by(DigestRun.digest_id)
        with self._db.write() as s:
            conn = s.connection()
            images = conn.execute(update(DigestRun).where(
                settled, DigestRun.due_at < images_before, DigestRun.image_token.is_not(None))
                .values(image=None, image_token=None)).rowcount
            runs = conn.execute(delete(DigestRun).where(
                settled, DigestRun.due_at < logs_before,
                DigestRun.id.not_in(latest.scalar_subquery()))).rowcount
        return images, runs

    def image(self, token: str) -> bytes | None:
        """The trend picture a run sent, by its unguessable token (chat tools fetch it)."""
        if not token or len(token) > 32:
            return None
        with self._db.read() as s:
            return s.scalar(select(DigestRun.image).where(DigestRun.image_token == token))


__all__ = ["RUN_STATUSES", "DigestRepo", "DigestRow", "DigestRunRow"]
