"""The digests' pages: ``/digests`` (list, make, pause, resume, delete, send now),
``/digests/<id>`` (edit, and the log of its runs), and ``/digest-images/<token>.png``
(the trend picture a chat message shows: chat servers fetch it without signing in,
so its address is an unguessable token).

Plain server-rendered forms, like ``/views``: signed-in users under the same allow
rules as the rest of the app (the gate), every change with the CSRF token and in the
audit log. Operations are ``gadash.store.digests``'; sending is ``gadash.jobs.digests``'.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import cast
from zoneinfo import ZoneInfo

from flask import Flask, Response, abort, redirect, request

from gadash.core.digest import where
from gadash.core.schedule import WEEKDAY_NAMES, WEEKDAYS, parse_schedule
from gadash.errors import GadashError, QueryError, StoreError
from gadash.jobs.digests import IMAGE_PATH, Digests
from gadash.store.digestrepo import DigestRow, DigestRunRow
from gadash.store.digests import create_digest, delete_digest, recipients, update_digest
from gadash.web.auth.sessions import csrf_token, same_token
from gadash.web.context import actor, get_service, get_store
from gadash.web.html import page

DIGESTS_EXTENSION = "gadash_digests"


def _csrf_ok() -> bool:
    return same_token(request.form.get("csrf", ""), csrf_token())


def _digests(server: Flask) -> Digests:
    return cast(Digests, server.extensions[DIGESTS_EXTENSION])


def _schedule_from_form() -> str:
    """The schedule phrase the form's fields make."""
    kind = request.form.get("kind", "weekly")
    at = request.form.get("at", "09:00")
    day = {"weekly": request.form.get("weekday", "mon"),
           "monthly": request.form.get("monthday", "1")}.get(kind, "")
    return " ".join(p for p in (kind, day, at) if p)


def _sources() -> list[tuple[str, str]]:
    """What a digest can send: every saved view and panel, as (source, label)."""
    db = get_store()
    out = [(f"view:{v.slug}", f"Saved view: {v.name} ({v.property})") for v in db.views.list()]
    out += [(f"panel:{p.id}", f"Panel: {p.name} ({p.property})") for p in db.panels.list()]
    return out


def _options(pairs: list[tuple[str, str]], chosen: str) -> str:
    return "".join(f"<option value='{escape(v)}'{' selected' if v == chosen else ''}>"
                   f"{escape(label)}</option>" for v, label in pairs)


def _form(digest: DigestRow | None, values: dict[str, str], sources: list[tuple[str, str]]
          ) -> str:
    """The make/edit form; ``values`` refills it after a refusal."""
    schedule = parse_schedule(digest.schedule) if digest else None
    kind = values.get("kind") or (schedule.kind if schedule else "weekly")
    at = values.get("at") or (f"{schedule.at:%H:%M}" if schedule else "09:00")
    weekday = values.get("weekday") or (WEEKDAYS[schedule.day] if schedule and
                                        schedule.kind == "weekly" else "mon")
    monthday = values.get("monthday") or (str(schedule.day) if schedule and
                                          schedule.kind == "monthly" else "1")
    name = values.get("name", digest.name if digest else "")
    source = values.get("source", digest.source if digest else "")
    emails = values.get("emails", "\n".join(digest.emails) if digest else "")
    hooks_note = ""
    if digest and digest.webhooks and "webhooks" not in values:
        hooks_note = ("<p class='note'>Now posting to " + ", ".join(
            escape(where(u)) for u in digest.webhooks) + ". Leave the box empty to keep "
            "them; type URLs to replace them; type <code>none</code> to remove them.</p>")
    kinds = [("daily", "Every day"), ("weekly", "Every week"), ("monthly", "Every month")]
    weekdays = list(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True))
    if not sources:
        return ("<p class='note'>There is nothing to send yet: save a view on the analyst "
                "view (“Save view”) or a panel on Explore first.</p>")
    return (
        f"<form method='post'><input type='hidden' name='csrf' value='{escape(csrf_token())}'>"
        f"<input type='hidden' name='action' value='{'save' if digest else 'create'}'>"
        f"<label for='d-name'>Name</label><input id='d-name' name='name' required "
        f"maxlength='80' value='{escape(name)}'>"
        f"<label for='d-source'>What it sends</label><select id='d-source' name='source'>"
        f"{_options(sources, source)}</select>"
        "<fieldset><legend>When (in the property's time zone)</legend>"
        f"<label for='d-kind'>How often</label><select id='d-kind' name='kind'>"
        f"{_options(kinds, kind)}</select>"
        f"<label for='d-weekday'>Weekday (weekly)</label><select id='d-weekday' "
        f"name='weekday'>{_options(weekdays, weekday)}</select>"
        f"<label for='d-monthday'>Day of the month (monthly; 29 to 31 mean the last day in "
        f"shorter months)</label><input id='d-monthday' name='monthday' type='number' "
        f"min='1' max='31' value='{escape(monthday)}'>"
        f"<label for='d-at'>Time</label><input id='d-at' name='at' type='time' required "
        f"value='{escape(at)}'></fieldset>"
        "<label for='d-emails'>Email addresses (one a line, or separated by commas)</label>"
        f"<textarea id='d-emails' name='emails' rows='3'>{escape(emails)}</textarea>"
        "<label for='d-hooks'>Chat webhooks (Slack, Mattermost, Teams or Discord's "
        "Slack-compatible URL; one a line)</label>"
        f"<textarea id='d-hooks' name='webhooks' rows='2'>{escape(values.get('webhooks', ''))}"
        f"</textarea>{hooks_note}"
        f"<button class='btn'>{'Save changes' if digest else 'Make digest'}</button></form>")


def _status(run: DigestRunRow | None) -> str:
    if run is None:
        return "<span class='note'>not sent yet</span>"
    when = f"{run.due_at:%Y-%m-%d %H:%M} UTC"
    if run.status == "sent":
        return f"<span class='ok'>sent</span> ({when})"
    if run.status == "failed":
        return f"<span class='bad'>failed</span> ({when})"
    return f"<span class='note'>trying</span> ({when}, try {run.attempts})"


def _recipients(d: DigestRow) -> str:
    parts = [escape(e) for e in d.emails] + [escape(where(u)) + " (webhook)"
                                             for u in d.webhooks]
    return ", ".join(parts)


def register_routes(server: Flask) -> None:
    """``/digests``, ``/digests/<id>`` and the images chat messages show."""

    def listing() -> Response:
        db = get_store()
        if request.method == "POST":
            if not _csrf_ok():
                abort(403)
            return _act(server, request.form.get("action", ""))
        try:
            rows = db.digests.list()
            last = db.digests.latest()
            sources = _sources()
        except StoreError as exc:
            return page("Digests", f"<h1>Digests</h1><p class='err'>{escape(exc.message)}</p>",
                        503)
        return _list_page(rows, last, sources, {}, "")

    def edit(digest_id: int) -> Response:
        db = get_store()
        try:
            digest = db.digests.get(digest_id)
        except StoreError as exc:
            return page("Digest", f"<h1>Digest</h1><p class='err'>{escape(exc.message)}</p>",
                        503)
        if digest is None:
            return page("Digest", "<h1>No such digest</h1><p>It may have been deleted. "
                        "<a href='/digests'>All digests</a></p>", 404)
        error, values = "", {}
        if request.method == "POST":
            if not _csrf_ok():
                abort(403)
            values = {k: request.form.get(k, "") for k in (
                "name", "source", "kind", "weekday", "monthday", "at", "emails", "webhooks")}
            typed = recipients(values["webhooks"])
            try:
                update_digest(db, actor(), digest_id, name=values["name"],
                              source=values["source"], schedule=_schedule_from_form(),
                              emails=recipients(values["emails"]),
                              webhooks=None if not typed else () if typed == ("none",)
                              else typed, private_webhooks=_private())
                return redirect(f"/digests/{digest_id}")  # type: ignore[return-value]
            except QueryError as exc:
                error = exc.message
            except StoreError as exc:
                return page("Not saved", f"<h1>Nothing was changed</h1><p class='err'>"
                            f"{escape(exc.message)}</p>", 503)
        runs = db.digests.runs(digest_id, limit=30)
        csrf = escape(csrf_token())
        log = "".join(
            f"<tr><td>{r.due_at:%Y-%m-%d %H:%M} UTC</td><td>{escape(r.kind)}</td>"
            f"<td>{_status(r)}" + (
                f"<form method='post' action='/digests'><input type='hidden' name='csrf' "
                f"value='{csrf}'><input type='hidden' name='id' value='{digest_id}'>"
                f"<input type='hidden' name='run' value='{r.id}'><button name='action' "
                "value='retry'>Try again</button></form>" if r.status == "failed" else "")
            + f"</td><td><pre>{escape(r.log.strip())}</pre></td></tr>"
            for r in runs) or "<tr><td colspan='4'>No runs yet.</td></tr>"
        next_due = _next(digest)
        body = (f"<h1>{escape(digest.name)}</h1>"
                f"<p class='note'>{escape(parse_schedule(digest.schedule).describe())} "
                f"({escape(_zone(digest))}){' · paused' if digest.paused else ''}"
                f"{f' · next {next_due}' if next_due and not digest.paused else ''} · to "
                f"{_recipients(digest)} · made by {escape(digest.created_by)}</p>"
                + (f"<p class='err' role='alert'>{escape(error)}</p>" if error else "")
                + "<h2>Change it</h2>" + _form(digest, values, _sources())
                + "<h2>Runs</h2><table><tr><th>Due</th><th>Kind</th><th>Status</th>"
                f"<th>Log</th></tr>{log}</table><p><a href='/digests'>All digests</a></p>")
        return page(digest.name, body, wide=True)

    def image(token: str) -> Response:
        try:
            png = get_store().digests.image(token)
        except StoreError:
            return Response("The team database is not available.", 503, mimetype="text/plain")
        if png is None:
            abort(404)
        return Response(png, mimetype="image/png",
                        headers={"Cache-Control": "public, max-age=604800, immutable"})

    server.add_url_rule("/digests", "digests", listing, methods=["GET", "POST"])
    server.add_url_rule("/digests/<int:digest_id>", "digest", edit, methods=["GET", "POST"])
    server.add_url_rule(f"{IMAGE_PATH}/<token>.png", "digest_image", image)


def _private() -> bool:
    return get_service().settings.digest_private_webhooks


def _zone(digest: DigestRow) -> str:
    service = get_service()
    try:
        return service.time_zone(service.property_id(digest.property))
    except GadashError:
        return "the property's time zone"


def _next(digest: DigestRow) -> str:
    service = get_service()
    try:
        zone = service.time_zone(service.property_id(digest.property))
    except GadashError:
        return ""
    due = parse_schedule(digest.schedule).next_due(datetime.now(UTC), zone)
    return f"{due.astimezone(ZoneInfo(zone or 'UTC')):%a %d %b %H:%M}"


def _next_line(digest: DigestRow) -> str:
    when = _next(digest)
    return f"<br><span class='note'>next {escape(when)}</span>" if when else ""


def _list_page(rows: list[DigestRow], last: dict[int, DigestRunRow],
               sources: list[tuple[str, str]], values: dict[str, str], error: str,
               status: int = 200) -> Response:
    csrf = escape(csrf_token())
    table = "".join(
        f"<tr><td><a href='/digests/{d.id}'>{escape(d.name)}</a></td>"
        f"<td>{escape(d.property)}</td>"
        f"<td>{escape(parse_schedule(d.schedule).describe())}"
        f"{' <b>(paused)</b>' if d.paused else _next_line(d)}</td>"
        f"<td>{_recipients(d)}</td><td>{_status(last.get(d.id))}</td>"
        f"<td><form method='post'><input type='hidden' name='csrf' value='{csrf}'>"
        f"<input type='hidden' name='id' value='{d.id}'>"
        f"<button name='action' value='{'resume' if d.paused else 'pause'}'>"
        f"{'Resume' if d.paused else 'Pause'}</button>"
        "<button name='action' value='send'>Send now</button>"
        f"<button name='action' value='delete' aria-label='Delete {escape(d.name)}'>Delete"
        "</button></form></td></tr>"
        for d in rows) or "<tr><td colspan='6'>No digests yet.</td></tr>"
    mail = "" if get_service().settings.smtp_host else (
        "<p class='note'>Mail is off on this gadash (GADASH_SMTP_HOST is not set): "
        "digests go to chat webhooks only.</p>")
    body = ("<h1>Digests</h1><p class='note'>A saved view or panel, sent on a schedule "
            "with its numbers, what changed, unusual days and the trend.</p>" + mail
            + (f"<p class='err' role='alert'>{escape(error)}</p>" if error else "")
            + "<table><tr><th>Name</th><th>Property</th><th>When</th><th>To</th>"
            f"<th>Last run</th><th>Actions</th></tr>{table}</table>"
            "<h2>New digest</h2>" + _form(None, values, sources)
            + "<p><a href='/'>Back to the dashboard</a></p>")
    return page("Digests", body, status, wide=True)


def _act(server: Flask, action: str) -> Response:
    db = get_store()
    try:
        if action == "create":
            values = {k: request.form.get(k, "") for k in (
                "name", "source", "kind", "weekday", "monthday", "at", "emails", "webhooks")}
            try:
                create_digest(db, actor(), values["name"], values["source"],
                              _schedule_from_form(), recipients(values["emails"]),
                              recipients(values["webhooks"]), _private())
            except QueryError as exc:
                last = db.digests.latest()
                return _list_page(db.digests.list(), last, _sources(), values, exc.message,
                                  400)
            return redirect("/digests")  # type: ignore[return-value]
        try:
            digest_id = int(request.form.get("id", ""))
        except ValueError:
            abort(400)
        if action in ("pause", "resume"):
            if update_digest(db, actor(), digest_id, paused=action == "pause") is None:
                abort(404)
        elif action == "delete":
            if not delete_digest(db, actor(), digest_id):
                abort(404)
        elif action == "send":
            digest = db.digests.get(digest_id)
            if digest is None:
                abort(404)
            # Sent on a thread of its own: the page shows the run's log as it grows.
            _digests(server).send_now(digest, actor(), wait=False)
            return redirect(f"/digests/{digest_id}")  # type: ignore[return-value]
        elif action == "retry":
            try:
                run_id = int(request.form.get("run", ""))
            except ValueError:
                abort(400)
            run = db.digests.run(run_id)
            if run is None or run.digest_id != digest_id:
                abort(404)
            _digests(server).retry(run_id, actor())
            return redirect(f"/digests/{digest_id}")  # type: ignore[return-value]
        else:
            abort(400)
    except StoreError as exc:
        return page("Not saved", f"<h1>Nothing was changed</h1><p class='err'>"
                    f"{escape(exc.message)}</p><p><a href='/digests'>Back</a></p>", 503)
    return redirect("/digests")  # type: ignore[return-value]


__all__ = ["DIGESTS_EXTENSION", "register_routes"]
