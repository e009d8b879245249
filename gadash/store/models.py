"""The store's tables as SQLAlchemy 2 models; the migrations in ``migrations/`` create them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends.

    PostgreSQL keeps ``timestamptz``; SQLite stores naive text, so values are
    converted to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class TvLink(Base):
    __tablename__ = "tv_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    grammar: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_tv_links_created_at", "created_at"),)


class SavedView(Base):
    __tablename__ = "saved_views"

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    grammar: Mapped[int] = mapped_column(Integer)
    property: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_saved_views_created_at", "created_at"),)


class Panel(Base):
    """A saved exploration (an Explore query string) of one property."""

    __tablename__ = "panels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    property: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    grammar: Mapped[int] = mapped_column(Integer)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # A TV playlist names a panel by its id (``panel:12``): SQLite's AUTOINCREMENT
    # never hands a deleted panel's id to a new one (PostgreSQL's sequence does not).
    __table_args__ = (Index("ix_panels_property", "property"), {"sqlite_autoincrement": True})


class Annotation(Base):
    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    property: Mapped[str] = mapped_column(Text)
    start: Mapped[date] = mapped_column("start_date", Date)
    end: Mapped[date] = mapped_column("end_date", Date)
    note: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_annotations_property_start", "property", "start_date"),)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_log_at", "at"),
                      Index("ix_audit_log_actor_action", "actor", "action"))


class Digest(Base):
    """A saved view or panel sent on a schedule to email addresses and webhooks."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # view:<slug> or panel:<id>
    property: Mapped[str] = mapped_column(Text)
    schedule: Mapped[str] = mapped_column(Text)  # core.schedule's phrase
    emails: Mapped[str] = mapped_column(Text)  # one address a line
    webhooks: Mapped[str] = mapped_column(Text)  # one URL a line (secrets)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Only times due after this are sent: made, resumed or rescheduled then.
    active_since: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = ({"sqlite_autoincrement": True},)


class DigestRun(Base):
    """One sending of a digest: due once (the unique key makes it once across
    instances), tried until every recipient has it or the tries run out."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest_id: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(Text)  # scheduled or manual
    status: Mapped[str] = mapped_column(Text)  # pending, sent or failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Who holds the lease: every write of an attempt names it, so a process whose lease
    # lapsed (it stalled, another took the run up) changes nothing.
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    delivered: Mapped[str] = mapped_column(Text, default="")  # recipients done, a line each
    log: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    image_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (UniqueConstraint("digest_id", "due_at", name="uq_digest_runs_due"),
                      Index("ix_digest_runs_status_next", "status", "next_try_at"),
                      Index("ix_digest_runs_image_token", "image_token"),
                      {"sqlite_autoincrement": True})
