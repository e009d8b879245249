"""TV links: read-only, expiring, revocable links that open the big screen, kept
as rows in the team's database (``gadash.store``), not in the cache.

A link pins its query on the server: a TV session only ever fetches the
property, range, comparison and screens of its link, whatever its URL or
browser store says (``pinned_query``). Its session lasts as long as the link,
not the idle timeout, and the page keeps the key in its URL, so a TV whose
cookie is gone reopens its link by reloading. Revoking is a database write: when
the database cannot be reached the page says so, never "done".

The rules of a link (its playlist, its name, how long it lasts) are checked here
once, for ``/tv-links`` (``gadash.web.routes.tvlinks``) and ``gadash tv-links``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from itsdangerous import BadSignature, URLSafeSerializer

from gadash.core.explore import BUILTINS
from gadash.core.periods import latest_today
from gadash.core.urls import TV_GRAMMAR, TV_PARAMS, parse_tv_query
from gadash.errors import StoreError
from gadash.memo import Recent
from gadash.settings import panel_screen_id, parse_screens
from gadash.store.core import Store
from gadash.store.repos import PanelRow, TvLinkRow

if TYPE_CHECKING:
    from gadash.settings import Settings

log = logging.getLogger(__name__)

TV_LINK_DAYS = (1, 7, 30, 90, 365)
MAX_QUERY = 500
_RECHECK = 10.0  # seconds a process trusts a link it looked up (revocation delay)
_SEEN_EVERY = 60.0  # seconds between "last seen" writes per link and process


def clean_query(query: str) -> str:
    """The playlist part of a /tv query string, normalised ("" or "?a=b&c=d")."""
    params = parse_qs(query.strip().lstrip("?"), keep_blank_values=False)
    kept = {k: v[-1] for k, v in params.items() if k in TV_PARAMS and v}
    return "?" + urlencode(kept) if kept else ""


def link_label(label: str) -> str:
    """A link's name as kept: spaces collapsed, at most 80 characters, "TV" for none."""
    return " ".join(label.split())[:80] or "TV"


class TvLinks:
    """Links as database rows, with a short per-process memory of lookups so TV
    polls do not each cost a query."""

    def __init__(self, store: Store, secret: str):
        self.store = store
        self.signer = URLSafeSerializer(secret, salt="gadash-tv-link")
        self._lock = threading.Lock()
        self._known: Recent[str, TvLinkRow | None] = Recent(_RECHECK)
        self._seen: dict[str, float] = {}

    def token(self, link: TvLinkRow) -> str:
        return self.signer.dumps({"id": link.id})

    def create(self, query: str, label: str, created_by: str, days: int
               ) -> tuple[TvLinkRow, str]:
        """A new link and its key. Raises StoreError when it cannot be written."""
        expires = datetime.now(UTC) + timedelta(days=days)
        link = self.store.links.create(label, clean_query(query), TV_GRAMMAR, created_by,
                                       expires)
        self.store.audit.record(created_by, "tv_link.create", link.id,
                                f"{label}: {link.query or '(defaults)'}, {days} days")
        return link, self.token(link)

    def open(self, token: str) -> TvLinkRow | None:
        """The link a key stands for, if genuine, current and not revoked.
        Raises StoreError when the database cannot say."""
        try:
            payload = self.signer.loads(token)
        except BadSignature:
            return None
        link_id = str(payload.get("id", "")) if isinstance(payload, dict) else ""
        link = self.store.links.get(link_id) if link_id else None
        return link if link is not None and link.active else None

    def current(self, link_id: str) -> TvLinkRow | None:
        """The link of a TV session, looked up at most every few seconds per process.

        Raises StoreError when the database cannot be reached and the link was
        never seen by this process.
        """
        return self._known.get(link_id, lambda: self.store.links.get(link_id))

    def seen(self, link_id: str) -> None:
        """Note that the TV polled: at most once a minute per link and process, and the
        database writes at most once a minute per link whatever the processes."""
        now = time.monotonic()
        with self._lock:
            if now - self._seen.get(link_id, -_SEEN_EVERY) < _SEEN_EVERY:
                return
            self._seen[link_id] = now
        try:
            self.store.links.seen(link_id)
        except StoreError as exc:
            log.warning("could not note that TV link %s was seen: %s", link_id, exc)

    def revoke(self, link_id: str, by: str) -> bool:
        """Revoke a link. Raises StoreError when the database cannot be reached."""
        done = self.store.links.revoke(link_id, by)
        if done:
            self.store.audit.record(by, "tv_link.revoke", link_id)
            self._known.forget(link_id)
        return done


def playlist_problems(query: str, properties: list[str], settings: Settings, *,
                      panels: Callable[[str], PanelRow | None] | None = None,
                      today: Callable[[str], date] | None = None) -> list[str]:
    """What is wrong with a TV link's playlist, checked like a /tv URL ([] when fine).

    ``properties``: the names of the properties the app shows. ``panels``: looks up a
    saved panel by the id a ``panel:<id>`` screen names (``gadash.store.panels.
    panel_lookup(db)``); when given, the playlist's panel screens must be built-in
    panels or saved panels of the link's property. Raises StoreError when ``panels``
    cannot read the database. ``today``: the day it is in a property's time zone
    (without it, the newest date on Earth: ``latest_today``)."""
    if len(query) > MAX_QUERY:
        return [f"The playlist has {len(query)} characters; at most {MAX_QUERY} fit."]
    if any(ord(c) < 32 or ord(c) == 127 for c in query):
        return ["The playlist contains line breaks or control characters."]
    unknown = sorted(set(parse_qs(query.strip().lstrip("?"))) - set(TV_PARAMS))
    notes = [f"Unknown parameter(s): {', '.join(unknown)}."] if unknown else []
    cleaned = clean_query(query)
    tv, refused = parse_tv_query(cleaned, properties, today or latest_today(),
                                 settings)
    notes += refused
    if panels is not None:
        notes += _panel_problems(cleaned, tv.property, panels)
    return notes


def _panel_problems(cleaned: str, property_name: str,
                    panels: Callable[[str], PanelRow | None]) -> list[str]:
    """The playlist's own ``panel:<id>`` screens that name no panel of its property."""
    named = parse_qs(cleaned.lstrip("?")).get("screens")
    try:
        screens = parse_screens(named[-1]) if named else ()
    except ValueError:  # parse_tv_query already said why
        return []
    problems: list[str] = []
    for screen in screens:
        panel_id = panel_screen_id(screen)
        if panel_id is None:
            continue
        if not panel_id.isdigit():
            if panel_id not in BUILTINS:
                problems.append(f"There is no built-in panel {panel_id!r} ({screen}): the "
                                f"built-in ones are {', '.join(BUILTINS)}; a saved panel is "
                                "panel:<number>.")
            continue
        row = panels(panel_id)
        if row is None:
            problems.append(f"There is no saved panel {panel_id} ({screen}); the saved "
                            "panels are on the Explore page and in `gadash panels list`.")
        elif row.property != property_name:
            problems.append(f"Panel {panel_id} ({row.name!r}) is of the property "
                            f"{row.property!r}, but this link shows {property_name!r}: pick "
                            "a panel of that property or set the link's property.")
    return problems
