"""Scheduled digests: a saved view or an Explore panel, sent on a schedule to email
addresses and chat webhooks.

The operations take the database and who acts, like ``gadash.store.team``'s; the
callers are the ``/digests`` pages and ``gadash digests``. Sending is
``gadash.jobs.digests``'.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import datetime
from urllib.parse import urlsplit

from gadash.core.digest import where
from gadash.core.schedule import parse_schedule
from gadash.errors import QueryError
from gadash.store.core import Store
from gadash.store.digestrepo import DigestRow
from gadash.store.repos import utcnow
from gadash.store.team import view_name

MAX_RECIPIENTS = 50
# What an address must look like to be tried: one @, no spaces or angle brackets (the
# mail server has the last word; this catches the typos a form lets through).
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")


def recipients(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or URLs from a list, or from text split at commas, semicolons,
    spaces and lines; each once, in order."""
    items = text if isinstance(text, list | tuple) else re.split(r"[\s,;]+", text)
    seen: dict[str, None] = {}
    for item in items:
        if item.strip():
            seen.setdefault(item.strip(), None)
    return tuple(seen)


def check_emails(items: tuple[str, ...]) -> tuple[str, ...]:
    """The addresses, checked. Raises QueryError naming each one that cannot be."""
    bad = [e for e in items if not _EMAIL.match(e)]
    if bad:
        raise QueryError(f"Not an email address: {', '.join(map(repr, bad))}.")
    return items


def _host(url: str) -> str | None:
    """The URL's host when it is an http(s) URL, else None (never raises)."""
    try:
        parts = urlsplit(url)
        return parts.hostname if parts.scheme in ("http", "https") else None
    except ValueError:  # "http://[::1": an unclosed bracket
        return None


def check_webhooks(items: tuple[str, ...], private: bool = False) -> tuple[str, ...]:
    """The webhook URLs, checked: http(s), and (unless ``private``) a host that is not
    this machine nor a private, link-local or reserved address: whoever may make a
    digest must not make gadash post into its own network. Raises QueryError."""
    bad = [u for u in items if not _host(u)]
    if bad:
        shown = ", ".join(where(u) if _host(u) is not None else repr(u[:40]) for u in bad)
        raise QueryError("A webhook is an http(s) URL such as https://hooks.slack.com/"
                         f"services/...; these are not: {shown}.")
    if not private:
        inside = [u for u in items if internal_host(_host(u) or "")]
        if inside:
            raise QueryError(
                f"A webhook on this machine or its network ({', '.join(where(u) for u in inside)}) "
                "is refused: set GADASH_DIGEST_PRIVATE_WEBHOOKS=true to allow chat servers "
                "inside your network.")
    return items


def internal_host(host: str) -> bool:
    """Whether a host name or address is (or resolves to) loopback, private, link-local
    or reserved; a name that does not resolve counts as outside (the POST then fails,
    recorded)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(internal_address(str(address[0])) for *_, address in infos)


def internal_address(address: str) -> bool:
    """Whether an IP address is loopback, private, link-local, reserved, multicast or
    unspecified (an IPv4 address mapped into IPv6 counts as itself)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


def _named(name: str) -> str:
    name = view_name("".join(c if c.isprintable() else " " for c in name))
    if not name:
        raise QueryError("Give the digest a name.")
    return name


def _to(emails: tuple[str, ...], webhooks: tuple[str, ...], private: bool
        ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    emails, webhooks = check_emails(emails), check_webhooks(webhooks, private)
    if not emails and not webhooks:
        raise QueryError("Say where the digest goes: an email address or a webhook.")
    if len(emails) + len(webhooks) > MAX_RECIPIENTS:
        raise QueryError(f"A digest goes to at most {MAX_RECIPIENTS} recipients.")
    return emails, webhooks


def source_of(db: Store, source: str) -> tuple[str, str]:
    """A digest's source checked: ``view:<slug>`` or ``panel:<id>`` as kept, and the
    property it shows. Raises QueryError when there is no such view or panel."""
    kind, _, ref = source.strip().partition(":")
    kind = kind.lower()
    if kind == "view" and ref:
        view = db.views.get(ref)
        if view is None:
            raise QueryError(f"There is no saved view {ref!r} (see /views).")
        return f"view:{view.slug}", view.property
    if kind == "panel" and ref.isascii() and ref.isdigit() and len(ref) < 10:
        panel = db.panels.get(int(ref))
        if panel is None:
            raise QueryError(f"There is no panel {ref} (see Explore's saved panels).")
        return f"panel:{panel.id}", panel.property
    raise QueryError(f"{source!r} names no saved view or panel: say view:<slug> or "
                     "panel:<id>.")


def create_digest(db: Store, actor: str, name: str, source: str, schedule: str,
                  emails: tuple[str, ...] = (), webhooks: tuple[str, ...] = (),
                  private_webhooks: bool = False) -> DigestRow:
    """A new digest, active at once (its first time due after now); ``private_webhooks``:
    GADASH_DIGEST_PRIVATE_WEBHOOKS. Raises QueryError, StoreError."""
    name = _named(name)
    kept_source, prop = source_of(db, source)
    phrase = parse_schedule(schedule).phrase
    emails, webhooks = _to(emails, webhooks, private_webhooks)
    row = db.digests.create(name, kept_source, prop, phrase, emails, webhooks, actor)
    db.audit.record(actor, "digest.create", str(row.id),
                    f"{name}: {kept_source}, {phrase}, {len(emails)} email(s), "
                    f"{len(webhooks)} webhook(s)")
    return row


def update_digest(db: Store, actor: str, digest_id: int, *, name: str | None = None,
                  source: str | None = None, schedule: str | None = None,
                  emails: tuple[str, ...] | None = None,
                  webhooks: tuple[str, ...] | None = None,
                  paused: bool | None = None, now: datetime | None = None,
                  private_webhooks: bool = False) -> DigestRow | None:
    """Change what is given (None keeps it); the digest as it is now, None when there is
    none. A new schedule or a resume sends nothing that fell due before (``now``: when
    that is, the clock's by default). Raises QueryError, StoreError."""
    row = db.digests.get(digest_id)
    if row is None:
        return None
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = _named(name)
    if source is not None:
        changes["source"], changes["property"] = source_of(db, source)
    if schedule is not None:
        changes["schedule"] = parse_schedule(schedule).phrase
    if emails is not None or webhooks is not None:
        changes["emails"], changes["webhooks"] = _to(
            row.emails if emails is None else emails,
            row.webhooks if webhooks is None else webhooks, private_webhooks)
    if paused is not None:
        changes["paused"] = paused
    if not changes:
        raise QueryError("Say what to change.")
    restart = (changes.get("schedule", row.schedule) != row.schedule
               or (row.paused and paused is False))
    updated = db.digests.update(digest_id, actor, restart=now or utcnow() if restart else None,
                                **changes)
    if updated is not None:
        said = ", ".join(f"{k} {'(changed)' if k == 'webhooks' else v}"
                         for k, v in changes.items())
        db.audit.record(actor, "digest.update", str(digest_id), said)
    return updated


def delete_digest(db: Store, actor: str, digest_id: int) -> bool:
    """Delete a digest and its run log; False when there is none. Raises StoreError."""
    row = db.digests.get(digest_id)
    done = row is not None and db.digests.delete(digest_id)
    if done and row is not None:
        db.audit.record(actor, "digest.delete", str(digest_id), row.name)
    return done


__all__ = ["MAX_RECIPIENTS", "check_emails", "check_webhooks", "create_digest",
           "delete_digest", "recipients", "source_of", "update_digest"]
