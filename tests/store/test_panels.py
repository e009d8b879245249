"""Saved Explore panels on SQLite and PostgreSQL: the repository, the operations web and
CLI share (``gadash.store.panels``), which TV links show a panel, and the playlist check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gadash.core.explore import BUILTINS, EXPLORE_GRAMMAR, parse_explore_query
from gadash.core.periods import latest_today
from gadash.errors import QueryError, StoreError
from gadash.settings import Settings
from gadash.store import PanelRow, Store
from gadash.store.panels import (
    delete_panel,
    links_using,
    panel_lookup,
    panel_state,
    panel_url,
    pinned_panels,
    save_panel,
    update_panel,
)
from gadash.store.repos import MAX_PANEL_ID
from gadash.store.tvlinks import clean_query, playlist_problems

PROPS = ["Blog", "Shop"]
TODAY = date(2025, 6, 1)
ANA, BO = "ana@example.com", "bo@example.com"
COUNTRIES = "dim=country&metric=sessions&top=10&chart=bar"


def later(days: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def save(store: Store, name: str = "Countries", query: str = COUNTRIES,
         prop: str = "Blog", pinned: bool = False) -> PanelRow:
    return save_panel(store, ANA, name, query, prop, PROPS, TODAY, pinned=pinned)


def link(store: Store, playlist: str, days: float = 7, label: str = "Lobby") -> str:
    return store.links.create(label, clean_query(playlist), 1, ANA, later(days)).id


def audit(store: Store) -> list[tuple[str, str, str, str]]:
    return [(r.actor, r.action, r.subject, r.detail) for r in reversed(store.audit.recent())]


# ----------------------------------------------------------------- the repository

def test_repo_create_get_list_update_delete(store: Store) -> None:
    a = store.panels.create("Countries", "Blog", "?property=Blog&metric=sessions", 1, ANA)
    b = store.panels.create("browsers", "Shop", "?property=Shop&metric=sessions", 1, BO,
                            pinned=True)
    c = store.panels.create("Countries", "Blog", "?property=Blog&metric=totalUsers", 1, BO)
    assert isinstance(a.id, int) and a.id < b.id < c.id
    assert store.panels.get(a.id) == a
    assert (a.pinned, b.pinned) == (False, True)
    assert a.updated_by == a.created_by == ANA and a.updated_at == a.created_at
    assert a.created_at.tzinfo is not None and a.created_at.utcoffset() == timedelta(0)
    # By name whatever its case, then id, on both backends.
    assert [p.id for p in store.panels.list()] == [b.id, a.id, c.id]
    assert [p.id for p in store.panels.list("Blog")] == [a.id, c.id]
    assert store.panels.list("Nope") == []

    moved = store.panels.update(a.id, BO, name="Lands", pinned=True)
    assert moved is not None and (moved.name, moved.pinned, moved.query) == (
        "Lands", True, a.query)
    assert moved.updated_by == BO and moved.updated_at > a.updated_at
    assert (moved.created_by, moved.created_at) == (ANA, a.created_at)
    assert store.panels.get(a.id) == moved
    queried = store.panels.update(a.id, ANA, query="?property=Blog&metric=newUsers", grammar=7)
    assert queried is not None and (queried.query, queried.grammar, queried.name) == (
        "?property=Blog&metric=newUsers", 7, "Lands")
    unpinned = store.panels.update(a.id, ANA, pinned=False)
    assert unpinned is not None and unpinned.pinned is False
    with pytest.raises(ValueError, match="together"):
        store.panels.update(a.id, ANA, query="?property=Blog&metric=x")
    assert store.panels.update(999, ANA, name="x") is None

    assert store.panels.delete(a.id, BO)
    assert store.panels.get(a.id) is None
    assert not store.panels.delete(a.id, BO)
    assert [p.id for p in store.panels.list()] == [b.id, c.id]


def test_repo_never_reuses_a_deleted_panels_id(store: Store) -> None:
    """A playlist names a panel by id: a new panel must not take an old one's screens."""
    first = store.panels.create("A", "Blog", "?q", 1, ANA)
    second = store.panels.create("B", "Blog", "?q", 1, ANA)
    assert store.panels.delete(second.id, ANA)
    third = store.panels.create("C", "Blog", "?q", 1, ANA)
    assert third.id > second.id > first.id


@pytest.mark.parametrize("panel_id", [0, -1, MAX_PANEL_ID + 1, 10**20])
def test_repo_ids_out_of_range_name_no_panel(store: Store, panel_id: int) -> None:
    assert store.panels.get(panel_id) is None
    assert store.panels.update(panel_id, ANA, name="x") is None
    assert not store.panels.delete(panel_id, ANA)


def test_repo_errors_are_store_errors(db_url: str) -> None:
    unmigrated = Store(db_url)
    try:
        with pytest.raises(StoreError, match="no gadash tables"):
            unmigrated.panels.list()
        with pytest.raises(StoreError, match="no gadash tables"):
            unmigrated.panels.create("A", "Blog", "?q", 1, ANA)
    finally:
        unmigrated.dispose()


# ----------------------------------------------------------------- save, update, delete

def test_save_panel_keeps_the_canonical_query(store: Store) -> None:
    row = save(store, name="  Top   countries ", query="?" + COUNTRIES, pinned=True)
    want, notes = parse_explore_query("property=Blog&" + COUNTRIES, PROPS, TODAY)
    assert notes == []
    assert row.query == want.to_query_string()
    assert row.query == ("?property=Blog&range=last28&compare=previous&dim=country"
                         "&metric=sessions&top=10&chart=bar")
    assert (row.name, row.property, row.grammar, row.pinned) == (
        "Top countries", "Blog", EXPLORE_GRAMMAR, True)
    assert store.panels.get(row.id) == row
    assert panel_url(row) == "/explore" + row.query
    assert panel_state(row, PROPS, TODAY) == want
    # A query naming its property, the same one, is kept the same way.
    same = save(store, query="metric=sessions&property=Shop&dim=country&top=10&chart=bar",
                prop="Shop")
    assert same.query == row.query.replace("property=Blog", "property=Shop")
    assert audit(store) == [
        (ANA, "panel.save", str(row.id), f"Top countries (Blog, pinned): {row.query}"),
        (ANA, "panel.save", str(same.id), f"Countries (Shop): {same.query}")]


@pytest.mark.parametrize("name,query,prop,message", [
    ("   ", COUNTRIES, "Blog", "Give the panel a name."),
    ("Top", COUNTRIES + "&top=7", "Blog", "Ignored top='7'"),
    ("Top", COUNTRIES + "&bogus=1", "Blog", "Ignored unknown parameter(s): bogus."),
    ("Top", "dim=country", "Blog", "Choose at least one metric"),
    ("Top", "property=Shop&" + COUNTRIES, "Blog", "is of the property 'Shop', not 'Blog'"),
    ("Top", "property=Nope&" + COUNTRIES, "Blog", "Unknown property 'Nope'"),
    ("Top", COUNTRIES, "Nope", "There is no property 'Nope'"),
])
def test_save_panel_refusals(store: Store, name: str, query: str, prop: str,
                             message: str) -> None:
    with pytest.raises(QueryError) as refused:
        save(store, name=name, query=query, prop=prop)
    assert message in refused.value.message
    assert store.panels.list() == [] and audit(store) == []


def test_save_panel_refusal_names_every_note(store: Store) -> None:
    with pytest.raises(QueryError) as refused:
        save(store, query=COUNTRIES + "&top=7&chart=pie3d")
    assert "top='7'" in refused.value.message and "chart='pie3d'" in refused.value.message


def test_update_panel_changes_and_says_which_links_show_it(store: Store) -> None:
    row = save(store)
    other = save(store, name="Other")
    shown = link(store, f"screens=overview,panel:{row.id}&property=Blog")
    link(store, f"screens=panel:{other.id}&property=Blog")

    renamed, links = update_panel(store, BO, row.id, PROPS, TODAY, name=" New   name ")
    assert renamed is not None and renamed.name == "New name" and renamed.updated_by == BO
    assert [k.id for k in links] == [shown]
    requeried, links = update_panel(store, BO, row.id, PROPS, TODAY,
                                    query="metric=totalUsers&dim=city")
    assert requeried is not None and requeried.query == (
        "?property=Blog&range=last28&compare=previous&dim=city&metric=totalUsers")
    assert requeried.grammar == EXPLORE_GRAMMAR and requeried.name == "New name"
    pinned, _ = update_panel(store, BO, row.id, PROPS, TODAY, pinned=True)
    assert pinned is not None and pinned.pinned
    assert [p.id for p in pinned_panels(store, "Blog")] == [row.id]
    assert pinned_panels(store, "Shop") == []
    unpinned, _ = update_panel(store, BO, row.id, PROPS, TODAY, pinned=False)
    assert unpinned is not None and not unpinned.pinned
    assert [a for a in audit(store) if a[1] == "panel.update"] == [
        (BO, "panel.update", str(row.id), "name 'New name'"),
        (BO, "panel.update", str(row.id), f"query {requeried.query}"),
        (BO, "panel.update", str(row.id), "pinned"),
        (BO, "panel.update", str(row.id), "unpinned")]
    assert update_panel(store, BO, 999, PROPS, TODAY, name="x") == (None, [])


@pytest.mark.parametrize("changes,message", [
    ({}, "Say what to change"),
    ({"name": " "}, "Give the panel a name."),
    ({"query": "property=Shop&metric=sessions"}, "is of the property 'Shop', not 'Blog'"),
    ({"query": "metric=sessions&order=sideways"}, "Ignored order='sideways'"),
])
def test_update_panel_refusals(store: Store, changes: dict[str, str], message: str) -> None:
    row = save(store)
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        update_panel(store, BO, row.id, PROPS, TODAY, **changes)  # type: ignore[arg-type]
    assert store.panels.get(row.id) == row
    assert [a[1] for a in audit(store)] == ["panel.save"]


def test_delete_panel_refuses_while_an_active_link_shows_it(store: Store) -> None:
    row = save(store)
    free = save(store, name="Free")
    lobby = link(store, f"screens=panel:{row.id}&property=Blog", label="Lobby")
    sales = link(store, f"screens=overview,panel:{row.id}", label="Sales")

    done, links = delete_panel(store, BO, row.id)
    assert not done and {k.id for k in links} == {lobby, sales}
    assert store.panels.get(row.id) == row
    assert [a[1] for a in audit(store)] == ["panel.save", "panel.save"]

    done, links = delete_panel(store, BO, row.id, force=True)
    assert done and {k.id for k in links} == {lobby, sales}
    assert store.panels.get(row.id) is None
    last = audit(store)[-1]
    assert last[:3] == (BO, "panel.delete", str(row.id))
    assert last[3].startswith("Countries (Blog); still named by TV link(s) ")
    assert lobby in last[3] and sales in last[3]

    assert delete_panel(store, BO, free.id) == (True, [])
    assert audit(store)[-1] == (BO, "panel.delete", str(free.id), "Free (Blog)")
    assert delete_panel(store, BO, free.id) == (False, [])
    assert delete_panel(store, BO, free.id, force=True) == (False, [])


def test_links_using_counts_only_active_links_naming_that_panel(store: Store) -> None:
    row = store.panels.create("P", "Blog", "?q", 1, ANA)
    n = row.id
    active = link(store, f"screens=overview,panel:{n},realtime")
    spaced = link(store, f"screens=overview, PANEL:{n} ")
    revoked = link(store, f"screens=panel:{n}")
    assert store.links.revoke(revoked, BO)
    link(store, f"screens=panel:{n}", days=-1)  # expired
    link(store, f"screens=panel:{n}0,panel:1{n},panel:events")  # other panels
    link(store, "property=Blog&range=last7&rotate=30")  # the default screens
    link(store, f"range=panel:{n}")  # not a screen
    newest_first = [k.id for k in store.links.list() if k.id in (active, spaced)]
    assert [k.id for k in links_using(store, n)] == newest_first
    assert set(newest_first) == {active, spaced}
    assert links_using(store, n + 100) == []


def test_panel_state_refuses_an_unknown_grammar_or_property(store: Store) -> None:
    future = store.panels.create("Later", "Blog", "?property=Blog&metric=sessions",
                                 EXPLORE_GRAMMAR + 1, ANA)
    with pytest.raises(QueryError, match=f"grammar {EXPLORE_GRAMMAR + 1}, which this gadash "
                                         "does not know"):
        panel_state(future, PROPS, TODAY)
    gone = store.panels.create("Gone", "Old", "?property=Old&metric=sessions",
                               EXPLORE_GRAMMAR, ANA)
    with pytest.raises(QueryError, match="'Old', which this gadash does not show"):
        panel_state(gone, PROPS, TODAY)
    row = save(store, prop="Shop")
    assert panel_state(row, PROPS, TODAY).property == "Shop"
    assert panel_state(row, PROPS, TODAY).exploration.dimensions == ("country",)


# ----------------------------------------------------------------- TV playlists

@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None)


def test_playlist_names_only_panels_of_its_property(store: Store, settings: Settings) -> None:
    blog = save(store, prop="Blog")
    shop = save(store, prop="Shop", name="Shop countries")
    lookup = panel_lookup(store)

    def problems(playlist: str) -> list[str]:
        return playlist_problems(playlist, PROPS, settings, panels=lookup)

    assert problems(f"screens=overview,panel:{blog.id},panel:events&property=Blog") == []
    assert problems(f"screens=panel:{blog.id}") == []  # no property: the first one, Blog
    assert problems(f"screens=panel:{shop.id},panel:products&property=Shop") == []
    assert problems(f"screens=panel:{shop.id}&property=Blog") == [
        f"Panel {shop.id} ('Shop countries') is of the property 'Shop', but this link shows "
        "'Blog': pick a panel of that property or set the link's property."]
    assert problems("screens=panel:999999&property=Blog") == [
        "There is no saved panel 999999 (panel:999999); the saved panels are on the Explore "
        "page and in `gadash panels list`."]
    assert problems("screens=panel:99999999999999999999") == [
        "There is no saved panel 99999999999999999999 (panel:99999999999999999999); the saved "
        "panels are on the Explore page and in `gadash panels list`."]
    assert problems("screens=panel:funnels") == [
        "There is no built-in panel 'funnels' (panel:funnels): the built-in ones are "
        f"{', '.join(BUILTINS)}; a saved panel is panel:<number>."]
    both = problems(f"screens=panel:{shop.id},panel:nope&property=Blog")
    assert len(both) == 2 and "'Shop countries'" in both[0] and "'nope'" in both[1]
    # A bad screens value is said once, by the /tv parser.
    assert problems("screens=panel:!!") == [
        "screens ignored: 'panel:!!' is not a panel screen; write panel:<number> or "
        "panel:events, panel:campaigns, panel:products."]
    store.panels.delete(blog.id, ANA)
    assert len(problems(f"screens=panel:{blog.id}")) == 1


def test_playlist_without_panels_keeps_todays_checks(settings: Settings) -> None:
    assert playlist_problems("screens=panel:12,panel:funnels&property=Shop", PROPS,
                             settings) == []
    assert playlist_problems("foo=1", PROPS, settings) == ["Unknown parameter(s): foo."]


def test_playlist_check_reports_an_unreachable_database(db_url: str,
                                                        settings: Settings) -> None:
    unmigrated = Store(db_url)
    try:
        with pytest.raises(StoreError):
            playlist_problems("screens=panel:1", PROPS, settings,
                              panels=panel_lookup(unmigrated))
    finally:
        unmigrated.dispose()


def test_a_playlist_ending_today_in_the_first_zone_passes_unzoned(settings: Settings) -> None:
    """`gadash tv-links create` knows no property's zone: a range that ends on the
    newest date on Earth passes (from 10:00 UTC that is a day past UTC's), a later one
    is refused."""
    newest = latest_today()
    fine = f"property=Blog&range={newest - timedelta(days=6)}..{newest}"
    assert playlist_problems(fine, ["Blog"], settings) == []
    late = f"property=Blog&range={newest}..{newest + timedelta(days=1)}"
    assert playlist_problems(late, ["Blog"], settings) != []
