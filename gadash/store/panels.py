"""Saved Explore panels: a name for an exploration of one property, kept in the team's
database, for the Explore page, the analyst view (pinned ones) and TV playlists.

A panel keeps the canonical Explore query string (``ExploreState.to_query_string()``)
and the version of that grammar (``EXPLORE_GRAMMAR``), so a later change of what a
parameter means can translate an old panel instead of silently showing something
else. A TV link shows one with the screen ``panel:<id>``; changing or deleting a
panel changes those screens, so the operations say which active links show it.

The operations take the database and who acts, like ``gadash.store.team``'s; the
callers are the web pages and ``gadash panels``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qs, parse_qsl, quote_plus

from gadash.core.explore import EXPLORE_GRAMMAR, ExploreState, parse_explore_query
from gadash.errors import QueryError
from gadash.settings import panel_screen_id
from gadash.store.core import Store
from gadash.store.repos import PanelRow, TvLinkRow
from gadash.store.team import view_name

EXPLORE_PATH = "/explore"


def panel_name(name: str) -> str:
    """A panel's name as kept: control characters dropped, spaces collapsed, at most 80
    characters ("" for none)."""
    return view_name("".join(c if c.isprintable() else " " for c in name))


def _named(name: str) -> str:
    name = panel_name(name)
    if not name:
        raise QueryError("Give the panel a name.")
    return name


def panel_query(query: str, property_name: str, properties: list[str], today: date) -> str:
    """An Explore query string as a panel keeps it (canonical). A query that names no
    property is of ``property_name``.

    Raises QueryError with every note of the parser when any value would be refused,
    or when the query is of another property than ``property_name``.
    """
    if property_name not in properties:
        raise QueryError(f"There is no property {property_name!r}; the properties are "
                         f"{', '.join(map(repr, properties))}.")
    search = query.strip().lstrip("?")
    if not any(k == "property" for k, _ in parse_qsl(search, keep_blank_values=True)):
        search = "&".join(p for p in (f"property={quote_plus(property_name)}", search) if p)
    state, notes = parse_explore_query(search, properties, today)
    if notes:
        raise QueryError("The query needs a change: " + " ".join(notes))
    if state.property != property_name:
        raise QueryError(f"The query is of the property {state.property!r}, not "
                         f"{property_name!r}: a panel belongs to one property.")
    return state.to_query_string()


def save_panel(db: Store, actor: str, name: str, query: str, property_name: str,
               properties: list[str], today: date, pinned: bool = False) -> PanelRow:
    """Save an exploration of a property under a name. Raises QueryError, StoreError."""
    name = _named(name)
    kept = panel_query(query, property_name, properties, today)
    row = db.panels.create(name, property_name, kept, EXPLORE_GRAMMAR, actor, pinned=pinned)
    db.audit.record(actor, "panel.save", str(row.id),
                    f"{name} ({property_name}{', pinned' if pinned else ''}): {kept}")
    return row


def update_panel(db: Store, actor: str, panel_id: int, properties: list[str], today: date,
                 name: str | None = None, query: str | None = None,
                 pinned: bool | None = None) -> tuple[PanelRow | None, list[TvLinkRow]]:
    """Rename, re-query, pin or unpin a panel (None keeps a value): the panel as it is
    now (None when there is none) and the active TV links that show it.

    Raises QueryError (checked as ``save_panel``, or nothing to change), StoreError.
    """
    if name is None and query is None and pinned is None:
        raise QueryError("Say what to change: the name, the query or whether it is pinned.")
    if name is not None:
        name = _named(name)
    row = db.panels.get(panel_id)
    if row is None:
        return None, []
    kept = panel_query(query, row.property, properties, today) if query is not None else None
    row = db.panels.update(panel_id, actor, name=name, query=kept, pinned=pinned,
                           grammar=EXPLORE_GRAMMAR if kept is not None else None)
    if row is None:  # deleted meanwhile
        return None, []
    changes = [f"name {name!r}" if name is not None else "",
               f"query {kept}" if kept is not None else "",
               ("pinned" if pinned else "unpinned") if pinned is not None else ""]
    db.audit.record(actor, "panel.update", str(panel_id), ", ".join(c for c in changes if c))
    return row, links_using(db, panel_id)


def delete_panel(db: Store, actor: str, panel_id: int, force: bool = False
                 ) -> tuple[bool, list[TvLinkRow]]:
    """Delete a panel unless active TV links show it (``force`` deletes it anyway):
    whether it was deleted, and those links. ``(False, [])`` when there is no such panel.

    Raises StoreError.
    """
    row = db.panels.get(panel_id)
    if row is None:
        return False, []
    links = links_using(db, panel_id)
    if links and not force:
        return False, links
    done = db.panels.delete(panel_id, actor)
    if done:
        shown = f"; still named by TV link(s) {', '.join(k.id for k in links)}" if links else ""
        db.audit.record(actor, "panel.delete", str(panel_id),
                        f"{row.name} ({row.property}){shown}")
    return done, links


def shows_panel(link: TvLinkRow, panel_id: int) -> bool:
    """Whether a link's playlist (its ``screens``) includes ``panel:<panel_id>``."""
    for value in parse_qs(link.query.lstrip("?")).get("screens", []):
        for screen in value.split(","):
            shown = panel_screen_id(screen.strip().lower())
            if shown is not None and shown.isdigit() and int(shown) == panel_id:
                return True
    return False


def links_using(db: Store, panel_id: int) -> list[TvLinkRow]:
    """The active TV links (not revoked, not expired) whose playlist shows the panel,
    newest first. Raises StoreError."""
    return [link for link in db.links.list() if shows_panel(link, panel_id)]


def panel_lookup(db: Store) -> Callable[[str], PanelRow | None]:
    """The panel a ``panel:<id>`` screen names, for ``playlist_problems(panels=...)``."""
    def lookup(panel_id: str) -> PanelRow | None:
        return db.panels.get(int(panel_id)) if panel_id.isdigit() else None
    return lookup


def pinned_panels(db: Store, property_name: str) -> list[PanelRow]:
    """The panels pinned on a property's analyst view, by name. Raises StoreError."""
    return [p for p in db.panels.list(property_name) if p.pinned]


def panel_state(row: PanelRow, properties: list[str], today: date) -> ExploreState:
    """The exploration a saved panel shows.

    Raises QueryError when it was saved with a grammar this gadash does not know, or
    its property is not one the app shows (any more).
    """
    if row.grammar != EXPLORE_GRAMMAR:
        raise QueryError(f"Panel {row.id} was saved with Explore URL grammar {row.grammar}, "
                         f"which this gadash does not know (it knows {EXPLORE_GRAMMAR}).")
    if row.property not in properties:
        raise QueryError(f"Panel {row.id} ({row.name!r}) is of the property "
                         f"{row.property!r}, which this gadash does not show.")
    state, _ = parse_explore_query(row.query, properties, today)
    return state


def panel_url(row: PanelRow) -> str:
    """The Explore page's URL (path and query) of a saved panel."""
    return EXPLORE_PATH + (row.query if row.query.startswith("?") else "?" + row.query)


__all__ = ["EXPLORE_PATH", "delete_panel", "links_using", "panel_lookup", "panel_name",
           "panel_query", "panel_state", "panel_url", "pinned_panels", "save_panel",
           "shows_panel", "update_panel"]
