"""What the team keeps: saved views and annotations, over the team's database.

The operations take the database and who acts; the pages that call them are
``gadash.web.routes.team`` and the analyst view.

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

from gadash.core.frames import Marker
from gadash.core.urls import translate_grammar_1
from gadash.errors import QueryError, StoreError
from gadash.store.core import Store
from gadash.store.repos import AnnotationRow, SavedViewRow

# Version of the analyst view's URL grammar (gadash.core.urls; README "URL
# parameters"). 1: filters exact and case-sensitive, page contains. 2: filter
# conditions (is/contains/regex, not, case), any case unless ``.case``.
VIEW_GRAMMAR = 2
MAX_NOTE = 280


def view_url(query: str, grammar: int) -> str:
    """The analyst URL of a saved query, in today's grammar."""
    if grammar == 1:
        query = translate_grammar_1(query)
    elif grammar != VIEW_GRAMMAR:
        raise QueryError(f"This view was saved with URL grammar {grammar}, which this "
                         f"gadash does not know (it knows 1 to {VIEW_GRAMMAR}).")
    return "/" + (query if query.startswith("?") else "?" + query.lstrip("?"))


def view_name(name: str) -> str:
    """A view's name as kept: spaces collapsed, at most 80 characters ("" for none)."""
    return " ".join(name.split())[:80]


def save_view(db: Store, actor: str, name: str, query: str, property_name: str
              ) -> SavedViewRow:
    """Save an analyst view under a name. Raises QueryError, StoreError."""
    name = view_name(name)
    if not name:
        raise QueryError("Give the view a name to save it.")
    view = db.views.save(name, query, VIEW_GRAMMAR, property_name, actor)
    db.audit.record(actor, "view.save", view.slug, f"{name}: {query}")
    return view


def rename_view(db: Store, actor: str, slug: str, name: str) -> bool:
    """Rename a saved view; False when there is none. Raises QueryError, StoreError."""
    name = view_name(name)
    if not name:
        raise QueryError("Give the view a name.")
    done = db.views.rename(slug, name, actor)
    if done:
        db.audit.record(actor, "view.rename", slug, name)
    return done


def delete_view(db: Store, actor: str, slug: str) -> bool:
    """Delete a saved view; False when there is none. Raises StoreError."""
    done = db.views.delete(slug, actor)
    if done:
        db.audit.record(actor, "view.delete", slug)
    return done


def add_annotation(db: Store, actor: str, property_name: str, start: date, end: date,
                   note: str) -> AnnotationRow:
    """Mark a day or span of a property. Raises QueryError, StoreError."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise QueryError(f"A note has at most {MAX_NOTE} characters; this one has {len(note)}.")
    row = db.annotations.add(property_name, start, end, note, actor)
    db.audit.record(actor, "annotation.add", str(row.id),
                    f"{property_name} {start}..{end}: {note}")
    return row


def delete_annotation(db: Store, actor: str, number: int) -> bool:
    """Delete an annotation; False when there is none. Raises StoreError."""
    done = db.annotations.delete(number, actor)
    if done:
        db.audit.record(actor, "annotation.delete", str(number))
    return done


def trend_markers(db: Store, property_name: str, start: date, end: date,
                  authors: bool = True) -> tuple[list[Marker], str]:
    """A property's annotations within a range, as trend markers, and a note when the
    database cannot be read (the numbers still show; the notes are missing)."""
    try:
        rows = db.annotations.list(property_name, start, end)
    except StoreError as exc:
        return [], f"Annotations not shown: {exc.message}"
    return [Marker(a.start, a.end, f"{a.note} ({a.author})" if authors else a.note)
            for a in rows], ""


__all__ = ["MAX_NOTE", "VIEW_GRAMMAR", "add_annotation", "delete_annotation", "delete_view",
           "rename_view", "save_view", "trend_markers", "view_name", "view_url"]
