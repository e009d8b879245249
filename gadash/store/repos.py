"""Repositories over the store's tables; they return frozen rows, never ORM objects.

Each method is one short session (one transaction). Writers insert with
``ON CONFLICT DO NOTHING`` and update with a single conditional ``UPDATE``, so
concurrent writers (threads, workers, instances) never overwrite each other's rows.
"""

from __future__ import annotations

import builtins
import csv
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gadash.errors import QueryError, StoreError
from gadash.store.db import Database
from gadash.store.models import Annotation, AuditEntry, Base, Panel, SavedView, TvLink

NOTE_MAX = 280
SEEN_EVERY = timedelta(seconds=60)
_ID_ATTEMPTS = 10
# Panel ids are 32-bit integers on both backends; a larger one names no panel.
MAX_PANEL_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; raises ValueError for a naive datetime (a programming error)."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def _insert_new(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert one row unless its primary key exists; True when it was inserted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    key = model.__mapper__.primary_key[0]
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    return session.connection().execute(stmt).first() is not None


@dataclass(frozen=True)
class TvLinkRow:
    """A TV link: a read-only URL that shows one query on a wall screen."""

    id: str
    label: str
    query: str
    grammar: int
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None

    @property
    def active(self) -> bool:
        """Not revoked and not expired (now, UTC)."""
        return self.revoked_at is None and self.expires_at > utcnow()


def _link_row(m: TvLink) -> TvLinkRow:
    return TvLinkRow(id=m.id, label=m.label, query=m.query, grammar=m.grammar,
                     created_by=m.created_by, created_at=m.created_at, expires_at=m.expires_at,
                     revoked_at=m.revoked_at, last_seen_at=m.last_seen_at)


class LinkRepo:
    """TV links. Raises StoreUnavailableError when the database cannot be reached."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, label: str, query: str, grammar: int, created_by: str,
               expires_at: datetime) -> TvLinkRow:
        """Store a new link with a random id (``secrets.token_urlsafe(9)``)."""
        values: dict[str, Any] = dict(label=label, query=query, grammar=grammar,
                                      created_by=created_by, created_at=utcnow(),
                                      expires_at=_utc(expires_at, "expires_at"),
                                      revoked_at=None, revoked_by=None, last_seen_at=None)
        with self._db.write() as s:
            for _ in range(_ID_ATTEMPTS):
                values["id"] = secrets.token_urlsafe(9)
                if _insert_new(s, TvLink, values):
                    break
            else:
                raise StoreError("Could not pick an unused TV link id; try again.")
        values.pop("revoked_by")
        return TvLinkRow(**values)

    def get(self, link_id: str) -> TvLinkRow | None:
        with self._db.read() as s:
            m = s.get(TvLink, link_id)
            return _link_row(m) if m is not None else None

    def list(self, include_inactive: bool = False) -> builtins.list[TvLinkRow]:
        """Links, newest first; only active ones unless ``include_inactive``."""
        stmt = select(TvLink).order_by(TvLink.created_at.desc(), TvLink.id)
        if not include_inactive:
            stmt = stmt.where(TvLink.revoked_at.is_(None), TvLink.expires_at > utcnow())
        with self._db.read() as s:
            return [_link_row(m) for m in s.scalars(stmt)]

    def revoke(self, link_id: str, by: str) -> bool:
        """Revoke a link (a second revoke keeps the first time); False when no such link."""
        with self._db.write() as s:
            result = s.connection().execute(
                update(TvLink)
                .where(TvLink.id == link_id, TvLink.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_by=by)
                )
            if result.rowcount:
                return True
            return s.get(TvLink, link_id) is not None

    def seen(self, link_id: str, now: datetime | None = None) -> bool:
        """Note that a screen used the link; writes at most once a minute per link.

        Returns whether it wrote.
        """
        now = _utc(now, "now") if now is not None else utcnow()
        with self._db.write() as s:
            result = s.connection().execute(
                update(TvLink)
                .where(TvLink.id == link_id,
                       or_(TvLink.last_seen_at.is_(None), TvLink.last_seen_at < now - SEEN_EVERY))
                .values(last_seen_at=now)
                )
            return result.rowcount == 1


@dataclass(frozen=True)
class SavedViewRow:
    """A named analyst query the team can open by its short slug."""

    slug: str
    name: str
    query: str
    grammar: int
    property: str
    created_by: str
    created_at: datetime
    updated_at: datetime


def _view_row(m: SavedView) -> SavedViewRow:
    return SavedViewRow(slug=m.slug, name=m.name, query=m.query, grammar=m.grammar,
                        property=m.property, created_by=m.created_by,
                        created_at=m.created_at, updated_at=m.updated_at)


class ViewRepo:
    """Saved views. Raises StoreUnavailableError when the database cannot be reached."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, name: str, query: str, grammar: int, property: str,
             created_by: str) -> SavedViewRow:
        """Store a view under a new random 8-character url-safe slug."""
        now = utcnow()
        values: dict[str, Any] = dict(name=name, query=query, grammar=grammar, property=property,
                                      created_by=created_by, created_at=now, updated_at=now)
        with self._db.write() as s:
            for _ in range(_ID_ATTEMPTS):
                values["slug"] = secrets.token_urlsafe(6)
                if _insert_new(s, SavedView, values):
                    break
            else:
                raise StoreError("Could not pick an unused slug for the view; try again.")
        return SavedViewRow(**values)

    def get(self, slug: str) -> SavedViewRow | None:
        with self._db.read() as s:
            m = s.get(SavedView, slug)
            return _view_row(m) if m is not None else None

    def list(self) -> builtins.list[SavedViewRow]:
        """All views, newest first."""
        stmt = select(SavedView).order_by(SavedView.created_at.desc(), SavedView.slug)
        with self._db.read() as s:
            return [_view_row(m) for m in s.scalars(stmt)]

    def rename(self, slug: str, name: str, by: str) -> bool:
        """Rename a view; False when no such view. ``by`` is for the caller's audit row."""
        with self._db.write() as s:
            result = s.connection().execute(
                update(SavedView).where(SavedView.slug == slug)
                .values(name=name, updated_at=utcnow())
                )
            return result.rowcount == 1

    def delete(self, slug: str, by: str) -> bool:
        """Delete a view; False when no such view. ``by`` is for the caller's audit row."""
        with self._db.write() as s:
            result = s.connection().execute(delete(SavedView).where(SavedView.slug == slug)
                               )
            return result.rowcount == 1


@dataclass(frozen=True)
class PanelRow:
    """A saved exploration of one property, shown on Explore, the analyst view
    (when pinned) and TV playlists (``panel:<id>``)."""

    id: int
    name: str
    property: str
    query: str
    grammar: int
    pinned: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


def _panel_row(m: Panel) -> PanelRow:
    return PanelRow(id=m.id, name=m.name, property=m.property, query=m.query,
                    grammar=m.grammar, pinned=m.pinned, created_by=m.created_by,
                    created_at=m.created_at, updated_by=m.updated_by, updated_at=m.updated_at)


def _panel_id_ok(panel_id: int) -> bool:
    return 0 < panel_id <= MAX_PANEL_ID


class PanelRepo:
    """Saved Explore panels. Raises StoreUnavailableError when the database cannot be
    reached, StoreError when it refuses."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, property: str, query: str, grammar: int, created_by: str,
               pinned: bool = False) -> PanelRow:
        """Store a new panel; its id is never one a deleted panel had."""
        now = utcnow()
        m = Panel(name=name, property=property, query=query, grammar=grammar, pinned=pinned,
                  created_by=created_by, created_at=now, updated_by=created_by, updated_at=now)
        with self._db.write() as s:
            s.add(m)
            s.flush()
            return _panel_row(m)

    def get(self, panel_id: int) -> PanelRow | None:
        if not _panel_id_ok(panel_id):
            return None
        with self._db.read() as s:
            m = s.get(Panel, panel_id)
            return _panel_row(m) if m is not None else None

    def list(self, property: str | None = None) -> builtins.list[PanelRow]:
        """The panels (of one property when given), by name (any case), then id."""
        stmt = select(Panel).order_by(func.lower(Panel.name), Panel.name, Panel.id)
        if property is not None:
            stmt = stmt.where(Panel.property == property)
        with self._db.read() as s:
            return [_panel_row(m) for m in s.scalars(stmt)]

    def update(self, panel_id: int, by: str, name: str | None = None, query: str | None = None,
               pinned: bool | None = None, grammar: int | None = None) -> PanelRow | None:
        """Change what is given (None keeps it) in one ``UPDATE``; the panel as it is
        now, or None when there is none. ``query`` comes with its ``grammar``."""
        if not _panel_id_ok(panel_id):
            return None
        if (query is None) != (grammar is None):
            raise ValueError("a panel's query and its grammar change together")
        changes: dict[str, Any] = {k: v for k, v in (
            ("name", name), ("query", query), ("grammar", grammar), ("pinned", pinned))
            if v is not None}
        with self._db.write() as s:
            result = s.connection().execute(
                update(Panel).where(Panel.id == panel_id)
                .values(**changes, updated_by=by, updated_at=utcnow()))
            if result.rowcount != 1:
                return None
            m = s.get(Panel, panel_id)
            return _panel_row(m) if m is not None else None

    def delete(self, panel_id: int, by: str) -> bool:
        """Delete a panel; False when no such one. ``by`` is for the caller's audit row."""
        if not _panel_id_ok(panel_id):
            return False
        with self._db.write() as s:
            result = s.connection().execute(delete(Panel).where(Panel.id == panel_id))
            return result.rowcount == 1


@dataclass(frozen=True)
class AnnotationRow:
    """A note on a property's date range (a release, an outage, a campaign)."""

    id: int
    property: str
    start: date
    end: date
    note: str
    author: str
    created_at: datetime


def _annotation_row(m: Annotation) -> AnnotationRow:
    return AnnotationRow(id=m.id, property=m.property, start=m.start, end=m.end, note=m.note,
                         author=m.author, created_at=m.created_at)


class AnnotationRepo:
    """Annotations. Raises StoreUnavailableError when the database cannot be reached."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, property: str, start: date, end: date, note: str,
            author: str) -> AnnotationRow:
        """Store an annotation.

        Raises QueryError when ``end`` is before ``start`` or the note is empty
        or longer than 280 characters.
        """
        note = note.strip()
        if end < start:
            raise QueryError(f"The annotation ends ({end:%Y-%m-%d}) before it starts "
                             f"({start:%Y-%m-%d}).")
        if not note:
            raise QueryError("An annotation needs a note.")
        if len(note) > NOTE_MAX:
            raise QueryError(f"The note has {len(note)} characters; at most {NOTE_MAX} fit.")
        m = Annotation(property=property, start=start, end=end, note=note, author=author,
                       created_at=utcnow())
        with self._db.write() as s:
            s.add(m)
            s.flush()
            return _annotation_row(m)

    def list(self, property: str, start: date | None = None,
             end: date | None = None) -> builtins.list[AnnotationRow]:
        """The property's annotations overlapping [start, end] (either open), by start."""
        stmt = select(Annotation).where(Annotation.property == property)
        if start is not None:
            stmt = stmt.where(Annotation.end >= start)
        if end is not None:
            stmt = stmt.where(Annotation.start <= end)
        stmt = stmt.order_by(Annotation.start, Annotation.id)
        with self._db.read() as s:
            return [_annotation_row(m) for m in s.scalars(stmt)]

    def delete(self, annotation_id: int, by: str) -> bool:
        """Delete an annotation; False when no such one. ``by`` is for the caller's audit row."""
        with self._db.write() as s:
            result = s.connection().execute(delete(Annotation).where(Annotation.id == annotation_id)
                               )
            return result.rowcount == 1

    def to_csv(self, property: str) -> str:
        """The property's annotations as CSV: start,end,note,author,created_at (ISO 8601)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["start", "end", "note", "author", "created_at"])
        for a in self.list(property):
            writer.writerow([a.start.isoformat(), a.end.isoformat(), a.note, a.author,
                             a.created_at.isoformat()])
        return out.getvalue()


@dataclass(frozen=True)
class AuditRow:
    """Who did what to which thing, and when."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str


class AuditRepo:
    """The audit log. Raises StoreUnavailableError when the database cannot be reached."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, actor: str, action: str, subject: str = "", detail: str = "") -> None:
        with self._db.write() as s:
            s.add(AuditEntry(at=utcnow(), actor=actor, action=action, subject=subject,
                             detail=detail))

    def last(self, actor: str, action: str) -> datetime | None:
        """When ``actor`` last did ``action`` (e.g. signed out), or None."""
        stmt = select(func.max(AuditEntry.at)).where(AuditEntry.actor == actor,
                                                     AuditEntry.action == action)
        with self._db.read() as s:
            value = s.scalar(stmt)
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def recent(self, limit: int = 100) -> builtins.list[AuditRow]:
        """The latest ``limit`` entries, newest first."""
        stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        with self._db.read() as s:
            return [AuditRow(id=m.id, at=m.at, actor=m.actor, action=m.action,
                             subject=m.subject, detail=m.detail)
                    for m in s.scalars(stmt.limit(limit))]
