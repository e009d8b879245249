"""The shop's e-commerce items through Google's client over gRPC: derived from its
view_item, add_to_cart and purchase events, item revenue adding up to the purchase
revenue of each day in any currency; no items on the properties without e-commerce."""

from __future__ import annotations

import numpy as np
import pytest
from google.analytics.data_v1beta import types as ga

from gadash.standin.items import PRODUCTS, items_of
from gadash.standin.traffic import EV, local_now
from tests.conftest import BLOG, LARGE, SHOP

ITEM_METRICS = ["itemsViewed", "itemsAddedToCart", "itemsPurchased", "itemRevenue"]


def report(client, prop: str, dims: list[str], metrics: list[str], start: str = "28daysAgo",
           **kwargs) -> dict[tuple[str, ...], list[float]]:
    response = client.run_report(ga.RunReportRequest(
        property=prop, dimensions=[{"name": d} for d in dims],
        metrics=[{"name": m} for m in metrics], limit=100_000,
        date_ranges=[{"start_date": start, "end_date": "yesterday"}], **kwargs))
    return {tuple(v.value for v in r.dimension_values): [float(v.value) for v in r.metric_values]
            for r in response.rows}


@pytest.mark.parametrize("currency", ["", "USD", "JPY"])
def test_item_revenue_of_a_day_adds_up_to_its_purchase_revenue(ga_client, currency):
    days = report(ga_client, SHOP, ["date"], ["itemRevenue", "purchaseRevenue", "transactions"],
                  start="90daysAgo", currency_code=currency)
    assert len(days) > 60 and sum(v[2] for v in days.values()) > 100
    for day, (items, purchases, _) in days.items():
        assert items == pytest.approx(purchases, abs=0.011), day
    # Item by item, the items of the days add up to the same.
    by_item = report(ga_client, SHOP, ["itemName"], ["itemRevenue"], start="90daysAgo",
                     currency_code=currency)
    assert sum(v[0] for v in by_item.values()) == pytest.approx(
        sum(v[1] for v in days.values()), rel=1e-9, abs=0.05)


def test_items_come_from_the_shops_events(ga_client):
    whole = report(ga_client, SHOP, [], ITEM_METRICS + ["transactions"])[()]
    viewed, added, purchased, revenue, transactions = whole
    counts = {k[0]: v[0] for k, v in report(ga_client, SHOP, ["eventName"],
                                            ["eventCount"]).items()}
    assert viewed == counts["view_item"]  # one unit per product page view
    assert counts["add_to_cart"] <= added <= 3 * counts["add_to_cart"]
    assert transactions <= purchased and revenue > 0
    # A product's items viewed are its page's views.
    pages = {k[0]: v[0] for k, v in report(ga_client, SHOP, ["pagePath"],
                                           ["screenPageViews"]).items()}
    items = report(ga_client, SHOP, ["itemName", "itemId"], ITEM_METRICS)
    assert {k[0] for k in items} <= {p.name for p in PRODUCTS}
    for (name, item_id), values in items.items():
        product = next(p for p in PRODUCTS if p.name == name)
        assert item_id == product.item_id
        slug = name.lower().replace(" ", "-")
        assert values[0] == pages.get(f"/products/{slug}/", 0.0), name
    assert list(np.sum(list(items.values()), axis=0)) == pytest.approx(whole[:4])


def test_item_dimensions_group_the_catalogue(ga_client):
    whole = report(ga_client, SHOP, [], ITEM_METRICS)[()]
    for dim in ("itemCategory", "itemBrand", "itemCategory2"):
        rows = report(ga_client, SHOP, [dim], ITEM_METRICS)
        assert {k[0] for k in rows} <= {getattr(p, {"itemCategory": "category",
                                                    "itemBrand": "brand",
                                                    "itemCategory2": "category2"}[dim])
                                        for p in PRODUCTS}
        assert list(np.sum(list(rows.values()), axis=0)) == pytest.approx(whole)
    # Items with a session dimension: each item row counts in its session's country.
    by_country = report(ga_client, SHOP, ["itemCategory", "country"], ["itemRevenue"])
    assert sum(v[0] for v in by_country.values()) == pytest.approx(whole[3])
    germany = report(ga_client, SHOP, ["country"], ["itemRevenue", "purchaseRevenue"])
    assert germany[("Germany",)][0] == pytest.approx(germany[("Germany",)][1], abs=0.011)


def test_item_filters_choose_item_rows(ga_client):
    beanie = "Alpine Wool Beanie"
    only = ga.FilterExpression(filter=ga.Filter(
        field_name="itemName", string_filter=ga.Filter.StringFilter(value=beanie)))
    filtered = report(ga_client, SHOP, ["date"], ["itemsViewed"], dimension_filter=only)
    named = report(ga_client, SHOP, ["itemName"], ["itemsViewed"])
    assert sum(v[0] for v in filtered.values()) == named[(beanie,)][0] > 0


@pytest.mark.parametrize("prop", [BLOG, LARGE])
def test_properties_without_ecommerce_have_no_items(ga_client, prop):
    assert report(ga_client, prop, ["itemName"], ITEM_METRICS) == {}
    assert report(ga_client, prop, ["date"], ITEM_METRICS) == {}  # all zero: no rows
    assert report(ga_client, prop, [], ITEM_METRICS) == {}
    assert report(ga_client, prop, [], ITEM_METRICS, keep_empty_rows=True) == {
        (): [0.0, 0.0, 0.0, 0.0]}
    assert report(ga_client, prop, [], ["itemRevenue", "sessions"])[()][0] == 0.0
    md = ga_client.get_metadata(name=f"{prop}/metadata")
    assert {"itemName", "itemBrand"} <= {d.api_name for d in md.dimensions}
    assert set(ITEM_METRICS) <= {m.api_name for m in md.metrics}


def test_item_revenue_metadata_is_currency(ga_client):
    md = ga_client.get_metadata(name=f"{SHOP}/metadata")
    types = {m.api_name: m.type_ for m in md.metrics}
    assert types["itemRevenue"] == ga.MetricType.TYPE_CURRENCY
    assert {types[m] for m in ITEM_METRICS[:3]} == {ga.MetricType.TYPE_INTEGER}


def test_each_purchase_shares_its_value_among_its_items(standin):
    prop = standin.servicer.properties[SHOP]
    t = prop.store.get(local_now(prop.time_zone).date())
    items = items_of(t)
    bought = t.x_name[items.event] == EV["purchase"]
    assert bought.any() and not items.cents[~bought].any()
    at = np.searchsorted(t.p_event, items.event[bought])
    assert np.array_equal(t.p_event[at], items.event[bought])  # every item is a purchase's
    cents = np.bincount(at, items.cents[bought], t.p_event.size)
    assert np.array_equal(cents, np.round(t.p_value * 100))  # to the cent
    per_purchase = np.bincount(at, minlength=t.p_event.size)
    assert per_purchase.min() >= 1 and per_purchase.max() <= 3
    assert set(np.unique(items.quantity)) <= {1, 2, 3}
    assert t.nbytes > 0 and items.nbytes < t.nbytes // 4  # a small addition
