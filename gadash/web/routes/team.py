"""The team's pages: ``/v/<slug>``, ``/views``, ``/annotations`` and ``/annotations.csv``.

The operations behind them are ``gadash.store.team``'s."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request

from gadash.errors import QueryError, StoreError
from gadash.store.team import delete_annotation, delete_view, rename_view, view_url
from gadash.web.auth.sessions import csrf_token, same_token
from gadash.web.context import actor, get_service, get_store
from gadash.web.html import page


def _csrf_ok() -> bool:
    return same_token(request.form.get("csrf", ""), csrf_token())


def _unavailable(exc: StoreError, back: str) -> Response:
    return page("Not saved", f"<h1>Nothing was changed</h1><p class='err'>"
                f"{escape(exc.message)}</p><p><a href='{back}'>Back</a></p>", 503)


def register_routes(server: Flask) -> None:
    """``/v/<slug>``, ``/views``, ``/annotations`` and ``/annotations.csv``."""

    def open_view(slug: str) -> Response:
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
        store = get_store()
        if request.method == "POST":
            if not _csrf_ok():
                abort(403)
            slug = request.form.get("slug", "")
            try:
                if request.form.get("action") == "delete":
                    delete_view(store, actor(), slug)
                else:
                    rename_view(store, actor(), slug, request.form.get("name", ""))
            except QueryError:  # no name
                abort(400)
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
                    "<p>To send a view on a schedule by email or chat: <a href='/digests'>"
                    "Digests</a>.</p>"
                    "<p><a href='/'>Back to the dashboard</a></p>")

    def annotations() -> Response:
        store = get_store()
        if request.method == "POST":
            if not _csrf_ok():
                abort(403)
            try:
                number = int(request.form.get("id", ""))
            except ValueError:
                abort(400)
            try:
                delete_annotation(store, actor(), number)
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
    names = list(get_service().properties)
    wanted = request.args.get("property", "")
    if wanted and wanted not in names:
        abort(404)
    return wanted or names[0]
