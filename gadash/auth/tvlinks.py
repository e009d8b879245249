"""TV links: read-only, expiring, revocable links that open the big screen, kept
as rows in the team's database (``gadash.store``), not in the cache.

A link pins its query on the server: a TV session only ever fetches the
property, range, comparison and screens of its link, whatever its URL or
browser store says (``pinned_query``). Its session lasts as long as the link,
not the idle timeout, and the page keeps the key in its URL, so a TV whose
cookie is gone reopens its link by reloading. Revoking is a database write: when
the database cannot be reached the page says so, never "done".
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from flask import Flask, Response, abort, redirect, request, session
from itsdangerous import BadSignature, URLSafeSerializer

from gadash.auth.pages import page
from gadash.auth.sessions import csrf_token, current_user, same_token
from gadash.errors import StoreError
from gadash.memo import Recent
from gadash.store import Store, TvLinkRow

if TYPE_CHECKING:
    from gadash.auth import Auth
    from gadash.settings import Settings

log = logging.getLogger(__name__)

TV_LINK_DAYS = (1, 7, 30, 90, 365)
# The version of the /tv URL grammar a link was made with (gadash.tvconfig); a
# later change of what parameters mean must not change what an old link shows.
TV_GRAMMAR = 1
# Only the playlist's own parameters are pinned; anything else is dropped.
TV_PARAMS = ("property", "range", "compare", "screens", "rotate", "refresh", "realtime",
             "reload")
_RECHECK = 10.0  # seconds a process trusts a link it looked up (revocation delay)
_SEEN_EVERY = 60.0  # seconds between "last seen" writes per link and process


def clean_query(query: str) -> str:
    """The playlist part of a /tv query string, normalised ("" or "?a=b&c=d")."""
    params = parse_qs(query.strip().lstrip("?"), keep_blank_values=False)
    kept = {k: v[-1] for k, v in params.items() if k in TV_PARAMS and v}
    return "?" + urlencode(kept) if kept else ""


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


def pinned_query() -> str | None:
    """The query a TV session is pinned to (its link's), or None for people."""
    tv = session.get("tv")
    if isinstance(tv, dict) and isinstance(tv.get("query"), str):
        return str(tv["query"])
    return None


def start_tv_session(link: TvLinkRow) -> None:
    """Make this browser a TV of ``link``: pinned to its query, until it expires."""
    session.clear()
    session["tv"] = {"id": link.id, "query": link.query,
                     "until": int(link.expires_at.timestamp())}
    session.permanent = True


# ----------------------------------------------------------------- /tv-links

def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def register_routes(server: Flask, auth: Auth) -> None:
    """``/tv-links``: create, list (with when each TV was last seen) and revoke."""

    def tv_links() -> Response:
        user = current_user(auth.settings) if auth.enabled else {"email": "local demo"}
        if user is None:
            return auth.refuse(401, "sign in to manage TV links")
        links = auth.links
        csrf = escape(csrf_token())
        admins = auth.settings.admin_emails
        manages = not auth.enabled or not admins or str(user.get("email", "")).lower() in admins
        if request.method == "POST":
            if not same_token(request.form.get("csrf", ""), csrf_token()):
                abort(403)
            if not manages:
                return page("TV links", "<h1>Not allowed</h1><p class='err'>Only the TV-link "
                            "admins (GADASH_ADMIN_EMAILS) create and revoke TV links; nothing "
                            "was changed.</p><p><a href='/tv-links'>All TV links</a></p>", 403)
            try:
                if request.form.get("revoke"):
                    if not links.revoke(request.form["revoke"], str(user["email"])):
                        return page("TV link", "<h1>No such TV link</h1><p><a href="
                                    "'/tv-links'>All TV links</a></p>", 404)
                    return redirect("/tv-links")  # type: ignore[return-value]
                days = _days(request.form.get("days", "7"))
                label = " ".join(request.form.get("label", "").split())[:80] or "TV"
                query = request.form.get("query", "")
                problems = playlist_problems(query, auth.settings)
                if problems:
                    items = "".join(f"<li>{escape(p)}</li>" for p in problems)
                    return page("TV link", "<h1>The playlist needs a change</h1><p class='err'>"
                                f"Nothing was created:</p><ul>{items}</ul><p><a href="
                                "'/tv-links'>Back to the TV links</a></p>", 400)
                link, token = links.create(query, label, str(user["email"]), days)
            except StoreError as exc:
                return page("Not saved", f"<h1>Nothing was changed</h1><p class='err'>"
                            f"{escape(exc.message)}</p><p><a href='/tv-links'>Back to the TV "
                            "links</a></p>", 503)
            url = request.host_url.rstrip("/") + "/tv?" + urlencode({"key": token})
            return page("TV link", f"<h1>Link for {escape(link.label)}</h1><p>Open this on "
                        f"the TV (it shows the big screen only, until it expires in {days} "
                        f"days):</p><p><code id='tv-link'>{escape(url)}</code></p>"
                        "<p><a href='/tv-links'>All TV links</a></p>")
        try:
            rows = links.store.links.list()
        except StoreError as exc:
            return page("TV links", f"<h1>TV links</h1><p class='err'>{escape(exc.message)}"
                        "</p>", 503)
        table = "".join(
            f"<tr><td>{escape(link.label)}</td><td>{escape(link.query or '(defaults)')}</td>"
            f"<td>{escape(link.created_by)}</td><td>{_when(link.expires_at)}</td>"
            f"<td>{_when(link.last_seen_at)}</td><td>"
            + (f"<form method='post'><input type='hidden' name='csrf' value='{csrf}'>"
               f"<button name='revoke' value='{escape(link.id)}'>Revoke</button></form>"
               if manages else "") + "</td></tr>"
            for link in rows)
        options = "".join(f"<option value='{d}'>{d} day{'s' if d > 1 else ''}</option>"
                          for d in TV_LINK_DAYS)
        form = ("<form method='post'>"
                f"<input type='hidden' name='csrf' value='{csrf}'>"
                "<label>Name<input name='label' placeholder='Office TV'></label>"
                "<label>Playlist (the /tv query string)<input name='query' "
                "placeholder='screens=overview,realtime&amp;rotate=30'></label>"
                f"<label>Expires after<select name='days'>{options}</select></label>"
                "<button class='btn'>Create link</button></form>") if manages else (
            "<p class='note'>Only the TV-link admins create and revoke TV links: "
            f"{escape(', '.join(admins))}.</p>")
        return page("TV links", f"<h1>TV links</h1><p class='note'>A TV link opens the big "
                    "screen without signing in, and nothing else: the property, range and "
                    f"screens it was made with.</p>{form}"
                    "<table><tr><th>Name</th><th>Playlist</th><th>By</th><th>Expires</th>"
                    f"<th>Last seen</th><th></th></tr>{table}</table>")

    def open_here() -> Response:
        """A signed-in person makes this browser the TV of a link (asked, by POST)."""
        if not same_token(request.form.get("csrf", ""), csrf_token()):
            abort(403)
        key = request.form.get("key", "")
        try:
            link = auth.links.open(key)
        except StoreError as exc:
            return page("TV link", f"<h1>Not now</h1><p class='err'>{escape(exc.message)}</p>",
                        503)
        if link is None:
            return page("TV link not valid", "<h1>This TV link does not work</h1>", 403)
        start_tv_session(link)
        return redirect("/tv?" + urlencode({"key": key}))  # type: ignore[return-value]

    server.add_url_rule("/tv-links", "tv_links", tv_links, methods=["GET", "POST"])
    server.add_url_rule("/tv-links/open", "tv_link_open", open_here, methods=["POST"])


MAX_QUERY = 500


def playlist_problems(query: str, settings: Settings) -> list[str]:
    """What is wrong with a TV link's playlist, checked like a /tv URL ([] when fine)."""
    from gadash.service import get_service
    from gadash.tvconfig import parse_tv_query

    if len(query) > MAX_QUERY:
        return [f"The playlist has {len(query)} characters; at most {MAX_QUERY} fit."]
    if any(ord(c) < 32 or ord(c) == 127 for c in query):
        return ["The playlist contains line breaks or control characters."]
    unknown = sorted(set(parse_qs(query.strip().lstrip("?"))) - set(TV_PARAMS))
    notes = [f"Unknown parameter(s): {', '.join(unknown)}."] if unknown else []
    properties = list(get_service().properties)
    _, refused = parse_tv_query(clean_query(query), properties, datetime.now(UTC).date(),
                                settings)
    return notes + refused


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        abort(400)
    if days not in TV_LINK_DAYS:
        abort(400)
    return days

