"""Each demo property's custom definitions, key event metrics and campaign tags, through
Google's client over gRPC: in its metadata only, and answering consistently with the
standard fields (every event, session and user counted once over a custom dimension's
values; custom metrics only where their events are)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from google.analytics.data_v1beta import types as ga
from google.api_core import exceptions as gexc

from gadash.standin.traffic import (
    EV,
    STATIC_PAGES,
    TrafficProfile,
    generate,
    local_now,
)
from tests.conftest import BLOG, LARGE, SHOP

NEWS = LARGE
WEEKS = ("28daysAgo", "yesterday")
# What a GA admin registered for each property (parameter or user property, display name).
CUSTOM = {
    BLOG: ({"customEvent:article_category": "Article category",
            "customUser:reader_type": "Reader type"},
           {"customEvent:reading_time_sec": ("Reading time", ga.MetricType.TYPE_SECONDS)}),
    SHOP: ({"customEvent:payment_type": "Payment type",
            "customUser:loyalty_tier": "Loyalty tier"},
           {"customEvent:discount_amount": ("Discount amount", ga.MetricType.TYPE_CURRENCY)}),
    NEWS: ({"customEvent:article_section": "Article section",
            "customUser:subscription_status": "Subscription status"},
           {"customEvent:percent_scrolled": ("Percent scrolled", ga.MetricType.TYPE_STANDARD)}),
}
KEY_EVENTS = {BLOG: ["sign_up"], SHOP: ["purchase"], NEWS: ["sign_up", "purchase"]}


def report(client, prop: str, dims: list[str], metrics: list[str], start: str = WEEKS[0],
           end: str = WEEKS[1], **kwargs) -> ga.RunReportResponse:
    return client.run_report(ga.RunReportRequest(
        property=prop, dimensions=[{"name": d} for d in dims],
        metrics=[{"name": m} for m in metrics], limit=100_000,
        date_ranges=[{"start_date": start, "end_date": end}], **kwargs))


def table(response) -> dict[tuple[str, ...], list[float]]:
    return {tuple(v.value for v in r.dimension_values): [float(v.value) for v in r.metric_values]
            for r in response.rows}


def total(client, prop: str, metrics: list[str], **kwargs) -> list[float]:
    return table(report(client, prop, [], metrics, **kwargs))[()]


def by_event_name(client, prop: str, metric: str, **kwargs) -> dict[str, float]:
    return {k[0]: v[0] for k, v in table(report(client, prop, ["eventName"], [metric],
                                                **kwargs)).items()}


# ---------------------------------------------------------------- metadata

@pytest.mark.parametrize("prop", [BLOG, SHOP, NEWS])
def test_each_property_lists_its_own_custom_definitions(ga_client, prop):
    md = ga_client.get_metadata(name=f"{prop}/metadata")
    dims, metrics = CUSTOM[prop]
    custom_dims = {d.api_name: d for d in md.dimensions if d.custom_definition}
    custom_metrics = {m.api_name: m for m in md.metrics if m.custom_definition}
    assert {n: d.ui_name for n, d in custom_dims.items()} == dims
    assert all(d.category == "Custom" for d in custom_dims.values())
    assert custom_dims[next(n for n in dims if n.startswith("customUser:"))].description == \
        "A user property for your Analytics property."
    key_metrics = {f"{kind}:{e}" for e in KEY_EVENTS[prop]
                   for kind in ("keyEvents", "sessionKeyEventRate", "userKeyEventRate")}
    assert set(custom_metrics) == set(metrics) | key_metrics
    for name, (ui, type_) in metrics.items():
        assert (custom_metrics[name].ui_name, custom_metrics[name].type_,
                custom_metrics[name].category) == (ui, type_, "Custom")
    for e in KEY_EVENTS[prop]:
        assert custom_metrics[f"keyEvents:{e}"].type_ == ga.MetricType.TYPE_INTEGER
        assert custom_metrics[f"sessionKeyEventRate:{e}"].type_ == ga.MetricType.TYPE_FLOAT
    # Nothing of another property's custom definitions.
    others = {n for p, (d, m) in CUSTOM.items() if p != prop for n in [*d, *m]}
    assert not others & {*(d.api_name for d in md.dimensions), *(m.api_name for m in md.metrics)}
    # The universal fields stay universal.
    names = {d.api_name: d for d in md.dimensions}
    assert not names["itemName"].custom_definition and not names["country"].custom_definition


def test_universal_metadata_has_no_custom_definitions(ga_client):
    md = ga_client.get_metadata(name="properties/0/metadata")
    names = {d.api_name for d in md.dimensions} | {m.api_name for m in md.metrics}
    assert not any(d.custom_definition for d in md.dimensions)
    assert not any(m.custom_definition for m in md.metrics)
    assert not any(":" in n for n in names)
    assert {"itemName", "itemId", "itemCategory", "itemBrand", "itemsViewed", "itemsAddedToCart",
            "itemsPurchased", "itemRevenue", "sessionManualCampaignName", "sessionManualSource",
            "sessionManualMedium", "sessionManualSourceMedium", "sessionManualTerm",
            "sessionManualAdContent", "sessionCampaignId", "keyEvents"} <= names
    blog = ga_client.get_metadata(name=f"{BLOG}/metadata")
    assert names < {d.api_name for d in blog.dimensions} | {m.api_name for m in blog.metrics}


@pytest.mark.parametrize(("prop", "field", "kind"), [
    (BLOG, "customEvent:payment_type", "dimension"),
    (SHOP, "customUser:reader_type", "dimension"),
    (NEWS, "customEvent:reading_time_sec", "metric"),
    (BLOG, "keyEvents:purchase", "metric"),
    (SHOP, "sessionKeyEventRate:sign_up", "metric"),
])
def test_another_propertys_custom_fields_are_invalid(ga_client, prop, field, kind):
    dims, metrics = ([field], ["eventCount"]) if kind == "dimension" else ([], [field])
    with pytest.raises(gexc.InvalidArgument, match=f"Field {field} is not a valid {kind}"):
        report(ga_client, prop, dims, metrics)


# ---------------------------------------------------------------- the blog

def test_article_category_splits_every_event_once(ga_client):
    rows = table(report(ga_client, BLOG, ["customEvent:article_category"],
                        ["eventCount", "screenPageViews"]))
    assert set(rows) == {("(not set)",), ("Python",), ("Data & dashboards",), ("Infrastructure",),
                         ("Security",), ("Design & front end",)}
    assert list(np.sum(list(rows.values()), axis=0)) == total(ga_client, BLOG,
                                                              ["eventCount", "screenPageViews"])
    # Against the pages: events off the articles read (not set); the oauth articles are
    # the Security category.
    pages = {k[0]: v[0] for k, v in table(report(ga_client, BLOG, ["pagePath"],
                                                 ["eventCount"])).items()}
    articles = {p for p in pages if p.startswith("/blog/") and p != "/blog/"}
    assert rows[("(not set)",)][0] == sum(v for p, v in pages.items() if p not in articles)
    assert rows[("Security",)][0] == sum(v for p, v in pages.items() if "oauth" in p)


def test_reading_time_is_the_seconds_read_of_article_scrolls(ga_client, standin, past_days):
    seconds = total(ga_client, BLOG, ["customEvent:reading_time_sec"])[0]
    by_name = by_event_name(ga_client, BLOG, "customEvent:reading_time_sec",
                            keep_empty_rows=True)
    assert seconds > 0 and by_name.pop("scroll") == seconds
    assert "page_view" in by_name and set(by_name.values()) == {0.0}
    by_category = table(report(ga_client, BLOG, ["customEvent:article_category"],
                               ["customEvent:reading_time_sec"]))
    assert ("(not set)",) not in by_category  # no reading time off the articles: no row
    assert sum(v[0] for v in by_category.values()) == seconds
    # The same sum by day (session rows), and from the raw columns.
    daily = table(report(ga_client, BLOG, ["date"], ["customEvent:reading_time_sec"]))
    assert sum(v[0] for v in daily.values()) == seconds
    prop = standin.servicer.properties[BLOG]
    t = prop.store.get(local_now(prop.time_zone).date())
    s0, s1 = np.searchsorted(t.s_day, [past_days(28).toordinal(), past_days(0).toordinal()])
    e0, e1 = np.searchsorted(t.e_session, [s0, s1])
    x0, x1 = np.searchsorted(t.x_view, [e0, e1])
    views = t.x_view[x0:x1]
    scrolls = (t.x_name[x0:x1] == EV["scroll"]) & (t.e_page[views] >= len(STATIC_PAGES))
    assert seconds == np.round(t.e_engagement[views][scrolls]).sum()


def test_reader_type_is_one_value_per_user(ga_client):
    rows = table(report(ga_client, BLOG, ["customUser:reader_type"],
                        ["totalUsers", "sessions", "eventCount"]))
    assert {k[0] for k in rows} == {"developer", "analyst", "manager", "student", "(not set)"}
    assert list(np.sum(list(rows.values()), axis=0)) == total(
        ga_client, BLOG, ["totalUsers", "sessions", "eventCount"])
    # With a second dimension a user still has one reader type: no user in two rows.
    by_device = table(report(ga_client, BLOG, ["deviceCategory", "customUser:reader_type"],
                             ["sessions"]))
    assert sum(v[0] for v in by_device.values()) == total(ga_client, BLOG, ["sessions"])[0]


# ---------------------------------------------------------------- the shop

def test_payment_type_is_on_purchases_only(ga_client):
    rows = table(report(ga_client, SHOP, ["customEvent:payment_type"],
                        ["eventCount", "purchaseRevenue", "transactions"]))
    paid = {k[0]: v for k, v in rows.items() if k[0] != "(not set)"}
    assert set(paid) <= {"credit_card", "paypal", "klarna", "sepa_direct_debit", "apple_pay"}
    assert len(paid) >= 3
    purchases = by_event_name(ga_client, SHOP, "eventCount")["purchase"]
    assert sum(v[0] for v in paid.values()) == purchases
    revenue, transactions = total(ga_client, SHOP, ["purchaseRevenue", "transactions"])
    assert sum(v[1] for v in paid.values()) == pytest.approx(revenue, abs=0.011)
    assert rows[("(not set)",)][1:] == [0.0, 0.0]
    assert sum(v[2] for v in paid.values()) == transactions


def test_discount_amount_is_some_purchases_share_in_the_asked_currency(ga_client):
    eur = by_event_name(ga_client, SHOP, "customEvent:discount_amount", keep_empty_rows=True)
    discount = eur.pop("purchase")
    assert discount > 0 and "add_to_cart" in eur and set(eur.values()) == {0.0}
    revenue = total(ga_client, SHOP, ["purchaseRevenue"])[0]
    assert 0.02 * revenue < discount < 0.25 * revenue  # coupons on some purchases
    usd = total(ga_client, SHOP, ["customEvent:discount_amount"], currency_code="USD")[0]
    assert usd == pytest.approx(discount * 1.08, abs=0.011)


def test_loyalty_tier_counts_every_user_once(ga_client):
    rows = table(report(ga_client, SHOP, ["customUser:loyalty_tier"], ["totalUsers",
                                                                       "purchaseRevenue"]))
    assert {k[0] for k in rows} == {"(not set)", "bronze", "silver", "gold"}
    want = total(ga_client, SHOP, ["totalUsers", "purchaseRevenue"])
    assert sum(v[0] for v in rows.values()) == want[0]
    assert sum(v[1] for v in rows.values()) == pytest.approx(want[1], abs=0.011)


# ---------------------------------------------------------------- the news site

def test_article_section_is_the_section_of_the_page(ga_client):
    week = "7daysAgo"  # few enough pages for none to fold into (other)
    rows = {k[0]: v[0] for k, v in table(report(ga_client, NEWS, ["customEvent:article_section"],
                                                ["screenPageViews"], start=week)).items()}
    assert sum(rows.values()) == total(ga_client, NEWS, ["screenPageViews"], start=week)[0]
    pages = {k[0]: v[0] for k, v in table(report(ga_client, NEWS, ["pagePath"],
                                                 ["screenPageViews"], start=week)).items()}
    assert "(other)" not in pages
    for section in ("politics", "sport", "technology"):
        assert rows[section] == sum(v for p, v in pages.items() if p.startswith(f"/{section}/"))


def test_percent_scrolled_is_on_scroll_events(ga_client):
    percent = by_event_name(ga_client, NEWS, "customEvent:percent_scrolled",
                            keep_empty_rows=True)
    scrolls = by_event_name(ga_client, NEWS, "eventCount")["scroll"]
    assert 30 * scrolls <= percent.pop("scroll") <= 100 * scrolls
    assert "page_view" in percent and set(percent.values()) == {0.0}


def test_subscription_status_counts_every_user_once(ga_client):
    rows = table(report(ga_client, NEWS, ["customUser:subscription_status"],
                        ["totalUsers", "sessions"], start="7daysAgo"))
    assert {k[0] for k in rows} == {"anonymous", "registered", "subscriber"}
    assert list(np.sum(list(rows.values()), axis=0)) == total(
        ga_client, NEWS, ["totalUsers", "sessions"], start="7daysAgo")


# ---------------------------------------------------------------- key events

@pytest.mark.parametrize("prop", [BLOG, SHOP, NEWS])
def test_each_key_events_metrics_add_up_to_key_events(ga_client, prop):
    events = KEY_EVENTS[prop]
    names = ["keyEvents", *(f"keyEvents:{e}" for e in events)]
    by_country = table(report(ga_client, prop, ["country"], names))
    for values in by_country.values():
        assert values[0] == sum(values[1:])
    counts = by_event_name(ga_client, prop, "eventCount")
    whole = total(ga_client, prop, names)
    assert whole[1:] == [counts.get(e, 0.0) for e in events]
    # Per event name, each key event's count sits on its own row only.
    for e in events:
        rows = by_event_name(ga_client, prop, f"keyEvents:{e}", keep_empty_rows=True)
        assert rows.pop(e) == counts[e] and set(rows.values()) == {0.0}


def test_key_event_rates_are_shares_of_sessions_and_users(ga_client):
    # The shop has one key event: its own rates are the overall ones.
    shop = total(ga_client, SHOP, ["sessionKeyEventRate", "sessionKeyEventRate:purchase",
                                   "userKeyEventRate", "userKeyEventRate:purchase"])
    assert shop[0] == shop[1] > 0 and shop[2] == shop[3] > 0
    # The news site has two: each one's rate is at most the overall rate, and the rates
    # come out of the sessions and users that had the event.
    news = total(ga_client, NEWS, ["sessions", "totalUsers", "sessionKeyEventRate",
                                   "sessionKeyEventRate:sign_up", "sessionKeyEventRate:purchase",
                                   "userKeyEventRate:sign_up", "keyEvents:sign_up"],
                 start="90daysAgo")
    sessions, users, rate, sign_up, purchase, user_sign_up, sign_ups = news
    assert 0 < sign_up <= rate and 0 < purchase <= rate
    assert rate <= sign_up + purchase + 1e-12
    assert sign_up * sessions == pytest.approx(round(sign_up * sessions))  # whole sessions
    assert round(sign_up * sessions) <= sign_ups and round(user_sign_up * users) <= sign_ups
    by_event = table(report(ga_client, NEWS, ["eventName"],
                            ["sessions", "sessionKeyEventRate:sign_up"], start="90daysAgo"))
    assert by_event[("sign_up",)][1] == 1.0 and by_event[("page_view",)][1] == 0.0


# ---------------------------------------------------------------- campaign tags

@pytest.mark.parametrize("prop", [BLOG, SHOP])
def test_manual_campaign_fields_follow_the_sessions_source_and_campaign(ga_client, prop):
    rows = table(report(ga_client, prop, [
        "sessionSourceMedium", "sessionCampaignName", "sessionManualSourceMedium",
        "sessionManualCampaignName", "sessionCampaignId", "sessionManualTerm",
        "sessionManualAdContent"], ["sessions"], start="90daysAgo"))
    assert sum(v[0] for v in rows.values()) == total(ga_client, prop, ["sessions"],
                                                     start="90daysAgo")[0]
    ids: dict[str, set[str]] = {}
    for (source_medium, campaign, manual_sm, manual_campaign, campaign_id, term, content) in rows:
        assert manual_sm == source_medium and manual_campaign == campaign
        ids.setdefault(campaign, set()).add(campaign_id)
        medium = source_medium.split(" / ")[1]
        tagged = medium in ("email", "cpc")
        assert (content != "(not set)") == tagged, (source_medium, campaign, content)
        assert (term != "(not set)") == (campaign in ("brand_search", "generic_search"))
        if not tagged:
            assert campaign in ("(organic)", "(direct)", "(referral)", "(not set)")
            assert campaign_id == "(not set)"
    assert all(len(v) == 1 for v in ids.values())  # one id per campaign
    assert {c for c, v in ids.items() if v != {"(not set)"}} >= {"weekly_digest", "brand_search"}
    terms = {k[5] for k in rows} - {"(not set)"}
    assert terms and all(t == t.lower() for t in terms)


def test_manual_fields_of_untagged_sessions_read_gas_placeholders(ga_client):
    rows = table(report(ga_client, BLOG, ["sessionManualSource", "sessionManualMedium",
                                          "sessionManualCampaignName"], ["sessions"]))
    assert rows[("google", "organic", "(organic)")][0] > 0
    assert rows[("(direct)", "(none)", "(direct)")][0] > 0
    assert rows[("newsletter", "email", "weekly_digest")][0] > 0


# ---------------------------------------------------------------- determinism

def test_custom_values_and_items_of_a_day_do_not_move_with_the_window():
    from gadash.standin import custom
    from gadash.standin.items import items_of

    last = date(2026, 3, 31)
    long = generate(TrafficProfile(200, 40, 11, "Europe/Berlin", kind="shop"), last)
    short = generate(TrafficProfile(200, 30, 11, "Europe/Berlin", kind="shop"), last)
    first = (last - timedelta(days=29)).toordinal()
    tail = int(np.searchsorted(long.s_day, first))
    x_tail = int(np.searchsorted(long.x_view, np.searchsorted(long.e_session, tail)))
    cut = int(np.searchsorted(items_of(long).event, x_tail))
    assert np.array_equal(items_of(long).product[cut:], items_of(short).product)
    assert np.array_equal(items_of(long).quantity[cut:], items_of(short).quantity)
    assert np.array_equal(items_of(long).cents[cut:], items_of(short).cents)
    assert np.array_equal(custom.payment_types(long, np.arange(x_tail, long.event_count)),
                          custom.payment_types(short, np.arange(short.event_count)))
    assert np.array_equal(custom.discount_amount(long, x_tail, long.event_count),
                          custom.discount_amount(short, 0, short.event_count))
    assert np.array_equal(custom.loyalty_tiers(long.s_user[tail:]),
                          custom.loyalty_tiers(short.s_user))
