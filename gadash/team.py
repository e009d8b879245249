"""What the team keeps: saved views and annotations, over the team's database.

- Saved views: a name for an analyst view's URL state, listed for everyone,
  opened by a short URL ``/v/<slug>``, renamed and deleted on ``/views``.
- Annotations: a day or span of a property with a short note, drawn on the
  analyst and TV trends, listed (and deleted) on ``/annotations``, exported as
  CSV from ``/annotations.csv``.

Both record the version of the URL grammar they were made with
(``VIEW_GRAMMAR``), so a later change of what a parameter means can translate
an old view instead of silently showing something else.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import cast
from urllib.parse import urlencode

from flask import Flask, Response, abort, current_app, redirect, request, session

from gadash.errors import QueryError, StoreError
from gadash.figures import Marker
from gadash.store import AnnotationRow, SavedViewRow, Store
from gadash.viewstate import translate_grammar_1

STORE_EXTENSION = "gadash_store"
# Version of the analyst view's URL grammar (gadash.viewstate; README "URL
# parameters"). 1: filters exact and case-sensitive, page contains. 2: filter
# conditions (is/contains/regex, not, case), any case unless ``.case``.
VIEW_GRAMMAR = 2
MAX_NOTE = 280


def get_store() -> Store:
    """The current app's team database."""
    return cast(Store, current_app.extensions[STORE_EXTENSION])


def actor() -> str:
    """Who is acting: the signed-in person's email, or the open demo."""
    user = session.get("user")
    if isinstance(user, dict) and isinstance(user.get("email"), str):
        return str(user["email"])
    return "local demo"


def view_url(query: str, grammar: int) -> str:
    """The analyst URL of a saved query, in today's grammar."""
    if grammar == 1:
        query = translate_grammar_1(query)
    elif grammar != VIEW_GRAMMAR:
        raise QueryError(f"This view was saved with URL grammar {grammar}, which this "
                         f"gadash does not know (it knows 1 to {VIEW_GRAMMAR}).")
    return "/" + (query if query.startswith("?") else "?" + query.lstrip("?"))


def save_view(name: str, query: str, property_name: str) -> SavedViewRow:
    """Save an analyst view under a name. Raises QueryError, StoreError."""
    name = " ".join(name.split())[:80]
    if not name:
        raise QueryError("Give the view a name to save it.")
    store = get_store()
    view = store.views.save(name, query, VIEW_GRAMMAR, property_name, actor())
    store.audit.record(actor(), "view.save", view.slug, f"{name}: {query}")
    return view


def add_annotation(property_name: str, start: date, end: date, note: str) -> AnnotationRow:
    """Mark a day or span of a property. Raises QueryError, StoreError."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise QueryError(f"A note has at most {MAX_NOTE} characters; this one has {len(note)}.")
    store = get_store()
    row = store.annotations.add(property_name, start, end, note, actor())
    store.audit.record(actor(), "annotation.add", str(row.id),
                       f"{property_name} {start}..{end}: {note}")
    return row


def trend_markers(property_name: str, start: date, end: date, authors: bool = True
                  ) -> tuple[list[Marker], str]:
    """A property's annotations within a range, as trend markers, and a note when the
    database cannot be read (the numbers still show; the notes are missing)."""
    try:
        rows = get_store().annotations.list(property_name, start, end)
    except StoreError as exc:
        return [], f"Annotations not shown: {exc.message}"
    return [Marker(a.start, a.end, f"{a.note} ({a.author})" if authors else a.note)
            for a in rows], ""


# ----------------------------------------------------------------- pages

def _csrf_ok() -> bool:
    from gadash.auth import csrf_token, same_token

    return same_token(request.form.get("csrf", ""), csrf_token())


def _unavailable(exc: StoreError, back: str) -> Response:
    from gadash.auth import page

    return page("Not saved", f"<h1>Nothing was changed</h1><p class='err'>"
                f"{escape(exc.message)}</p><p><a href='{back}'>Back</a></p>", 503)


def register_routes(server: Flask) -> None:
    """``/v/<slug>``, ``/views``, ``/annotations`` and ``/annotations.csv``."""

    def open_view(slug: str) -> Response:
        from gadash.auth import page

        try:
            view = get_store().views.get(slug)
        except StoreError as exc:
            return page("Saved view", f"<h1>Saved views are not available</h1><p class='err'>"
                        f"{escape(exc.message)}</p>", 503)
        if view is None:
            return page("Saved view", "<h1>No such saved view</h1><p>It may have been "
                        "deleted. <a href='/views'>All saved views</a></p>", 404)
        try:
            return redirect(view_url(view.query, view.grammar))  # type: ignore[return-value]
        except QueryError as exc:
            return page("Saved view", f"<h1>{escape(view.name)}</h1><p class='err'>"
                        f"{escape(exc.message)}</p>", 409)

    def views() -> Response:
        from gadash.auth import csrf_token, page

        store = get_store()
        if request.method == "POST":
            if not _csrf_ok():
                abort(403)
            slug = request.form.get("slug", "")
            try:
                if request.form.get("action") == "delete":
                    if store.views.delete(slug, actor()):
                        store.audit.record(actor(), "view.delete", slug)
                else:
                    name = " ".join(request.form.get("name", "").split())[:80]
                    if not name:
                        abort(400)
                    if store.views.rename(slug, name, actor()):
                        store.audit.record(actor(), "view.rename", slug, name)
            except StoreError as exc:
                return _unavailable(exc, "/views")
            return redirect("/views")  # type: ignore[return-value]
        try:
            rows = store.views.list()
        except StoreError as exc:
            return page("Saved views", f"<h1>Saved views</h1><p class='err'>"
                        f"{escape(exc.message)}</p>", 503)
        csrf = escape(csrf_token())
        table = "".join(
            f"<tr><td><a href='/v/{escape(v.slug)}'>{escape(v.name)}</a></td>"
            f"<td>{escape(v.property)}</td><td>{escape(v.created_by)}</td>"
            f"<td>{v.created_at:%Y-%m-%d %H:%M} UTC</td><td><form method='post'>"
            f"<input type='hidden' name='csrf' value='{csrf}'>"
            f"<input type='hidden' name='slug' value='{escape(v.slug)}'>"
            f"<input name='name' value='{escape(v.name)}' aria-label='New name'>"
            "<button name='action' value='rename'>Rename</button> "
            "<button name='action' value='delete'>Delete</button></form></td></tr>"
            for v in rows) or "<tr><td colspan='5'>No saved views yet: use “Save view” on the " \
                              "analyst view.</td></tr>"
        return page("Saved views", "<h1>Saved views</h1><p class='note'>Views the team saved; "
                    "each opens at its short address.</p><table><tr><th>Name</th><th>Property"
                    f"</th><th>By</th><th>Saved</th><th></th></tr>{table}</table>"
                    "<p><a href='/'>Back to the dashboard</a></p>")

    def annotations() -> Response:
        from gadash.auth import csrf_token, page

        store = get_store()
        if request.method == "POST":
            if not _csrf_ok():
                abort(403)
            try:
                number = int(request.form.get("id", ""))
            except ValueError:
                abort(400)
            try:
                if store.annotations.delete(number, actor()):
                    store.audit.record(actor(), "annotation.delete", str(number))
            except StoreError as exc:
                return _unavailable(exc, "/annotations")
            return redirect(request.full_path)  # type: ignore[return-value]
        prop = _property_arg()
        try:
            rows = store.annotations.list(prop)
        except StoreError as exc:
            return page("Annotations", f"<h1>Annotations</h1><p class='err'>"
                        f"{escape(exc.message)}</p>", 503)
        csrf = escape(csrf_token())
        table = "".join(
            f"<tr><td>{a.start}</td><td>{a.end}</td><td>{escape(a.note)}</td>"
            f"<td>{escape(a.author)}</td><td><form method='post'>"
            f"<input type='hidden' name='csrf' value='{csrf}'>"
            f"<button name='id' value='{a.id}'>Delete</button></form></td></tr>"
            for a in rows) or "<tr><td colspan='5'>No annotations yet.</td></tr>"
        csv_link = "/annotations.csv?" + urlencode({"property": prop})
        return page("Annotations", f"<h1>Annotations: {escape(prop)}</h1><p><a href="
                    f"'{escape(csv_link)}'>Download as CSV</a></p><table><tr><th>From</th>"
                    f"<th>To</th><th>Note</th><th>By</th><th></th></tr>{table}</table>"
                    "<p><a href='/'>Back to the dashboard</a></p>")

    def annotations_csv() -> Response:
        prop = _property_arg()
        try:
            text = get_store().annotations.to_csv(prop)
        except StoreError as exc:
            return Response(exc.message, status=503, mimetype="text/plain")
        name = "".join(c if c.isalnum() else "-" for c in prop).strip("-") or "property"
        return Response(text, mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=annotations-{name}.csv"})

    server.add_url_rule("/v/<slug>", "saved_view", open_view)
    server.add_url_rule("/views", "views", views, methods=["GET", "POST"])
    server.add_url_rule("/annotations", "annotations", annotations, methods=["GET", "POST"])
    server.add_url_rule("/annotations.csv", "annotations_csv", annotations_csv)


def _property_arg() -> str:
    """The property named in the query string (a configured one), or the first."""
    from gadash.service import get_service

    names = list(get_service().properties)
    wanted = request.args.get("property", "")
    if wanted and wanted not in names:
        abort(404)
    return wanted or names[0]


__all__ = ["STORE_EXTENSION", "VIEW_GRAMMAR", "actor", "add_annotation", "get_store",
           "register_routes", "save_view", "trend_markers", "view_url"]
