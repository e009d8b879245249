"""KPI tiles: against a comparison period where GA counted none the 0 is shown; a
sampled report's figures are marked estimates."""

from __future__ import annotations

from gadash.core.frames import ReportFrame, ViewResult
from gadash.core.plans import view_query
from gadash.core.query import DateRange, Filters
from gadash.core.transforms import Kpi, kpis
from gadash.core.urls import ViewState
from gadash.data.sources.ga4 import GA4Source
from gadash.settings import Settings
from gadash.standin.server import StandinServer
from gadash.web.components.analyst.render import render_view
from gadash.web.components.cards import create_kpi_tile
from gadash.web.components.tv import delta_text
from tests.conftest import BLOG, test_properties
from tests.core.test_transforms import _outcomes


def _tile(metric: str, key_events: list[int]) -> tuple[str, str]:
    report: ReportFrame = _outcomes(key_events, [12.5, 0.0], "USD")
    kpi = next(k for k in kpis(report) if k.metric == metric)
    div = create_kpi_tile(kpi, True, "t")
    return div.children[2].children, div.children[2].className


def test_a_count_against_zero_is_new_not_missing():
    text, tone = _tile("keyEvents", [1, 0])
    assert (text, tone) == ("▲ new: 0 before", "kpi-delta good")
    kpi = next(k for k in kpis(_outcomes([1, 0], [12.5, 0.0], "USD")) if k.metric == "keyEvents")
    assert kpi.previous == 0 and kpi.change is None
    assert delta_text(kpi) == ("▲ new", "tv-kpi-delta good")
    # Revenue against none: new, in its currency.
    assert _tile("totalRevenue", [1, 0])[0] == "▲ new: $0.00 before"


def test_zero_in_both_periods_says_so_and_no_figure_says_no_data():
    zero = Kpi("sessions", "Sessions", 0.0, "0", None, previous=0.0, previous_text="0")
    assert create_kpi_tile(zero, True, "t").children[2].children == "■ 0 in both periods"
    unknown = Kpi("sessions", "Sessions", 3.0, "3", None)
    assert create_kpi_tile(unknown, True, "t").children[2].children == "no comparison data"
    assert delta_text(unknown) == ("", "tv-kpi-delta")


def test_tiles_of_a_sampled_report_are_marked_estimates(past_days):

    props = test_properties()
    props[0].sampling_percent = 25.0
    ranges = (DateRange(past_days(7), past_days(1)),)
    with StandinServer(props) as server:
        source = GA4Source(Settings(ga_endpoint=server.endpoint, properties={"Blog": BLOG},
                                    _env_file=None))
        try:
            reports = source.fetch(view_query(BLOG, ranges, Filters(), frozenset()))
        finally:
            source.close()
    out = render_view(ViewResult(reports), ViewState("Blog", "last7", "none"), ranges)
    *tiles, caption = out.kpis
    assert all(t.children[1].children.startswith("≈ ") for t in tiles)
    assert caption.children == ("≈ Sampled: GA read 25% of events for this period: the "
                                "figures are estimates")
