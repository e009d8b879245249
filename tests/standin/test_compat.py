"""What GA refuses to put in one report, through Google's client over gRPC:
CheckCompatibility says it truthfully for every field of the property, and RunReport
and BatchRunReports refuse such a request with INVALID_ARGUMENT and GA's own text."""

from __future__ import annotations

import pytest
from google.analytics.data_v1beta import types as ga
from google.api_core import exceptions as gexc

from tests.conftest import BLOG, SHOP

ITEM_METRICS = {"itemsViewed", "itemsAddedToCart", "itemsPurchased", "itemRevenue"}
ITEM_DIMS = {"itemName", "itemId", "itemCategory", "itemCategory2", "itemBrand"}
# The shop's event-scoped dimensions (page, event and custom event ones).
SHOP_EVENT_DIMS = {"pagePath", "pagePathPlusQueryString", "pageTitle", "unifiedScreenName",
                   "eventName", "isKeyEvent", "customEvent:payment_type"}
GA_TEXT = ("Please remove {} to make the request compatible. The request's dimensions & "
           "metrics are incompatible. To learn more, see "
           "https://ga-dev-tools.web.app/ga4/dimensions-metrics-explorer/")
C = ga.Compatibility


def fexpr(field: str, value: str) -> ga.FilterExpression:
    return ga.FilterExpression(filter=ga.Filter(
        field_name=field, string_filter=ga.Filter.StringFilter(value=value)))


def positive(metric: str) -> ga.FilterExpression:
    return ga.FilterExpression(filter=ga.Filter(
        field_name=metric, numeric_filter=ga.Filter.NumericFilter(
            operation=ga.Filter.NumericFilter.Operation.GREATER_THAN,
            value=ga.NumericValue(int64_value=0))))


def request(prop: str, dims, metrics, **kwargs) -> ga.RunReportRequest:
    return ga.RunReportRequest(
        property=prop, dimensions=[{"name": d} for d in dims],
        metrics=[{"name": m} for m in metrics], limit=50,
        date_ranges=[{"start_date": "7daysAgo", "end_date": "yesterday"}], **kwargs)


def check(client, prop: str, dims, metrics, wanted=C.COMPATIBILITY_UNSPECIFIED, **kwargs
          ) -> dict[str, int]:
    answer = client.check_compatibility(ga.CheckCompatibilityRequest(
        property=prop, dimensions=[{"name": d} for d in dims],
        metrics=[{"name": m} for m in metrics], compatibility_filter=wanted, **kwargs))
    found = {c.dimension_metadata.api_name: c.compatibility
             for c in answer.dimension_compatibilities}
    found.update({c.metric_metadata.api_name: c.compatibility
                  for c in answer.metric_compatibilities})
    return found


REFUSED = [
    # (property, dimensions, metrics, filters, the field GA names)
    (SHOP, ["itemName"], ["sessions"], {}, "itemName"),
    (SHOP, ["eventName"], ["itemsViewed"], {}, "eventName"),
    (SHOP, ["pagePath"], ["itemRevenue"], {}, "pagePath"),
    (SHOP, ["customEvent:payment_type"], ["itemRevenue"], {}, "customEvent:payment_type"),
    (SHOP, ["itemName"], ["customEvent:discount_amount"], {}, "itemName"),
    (SHOP, ["itemName"], ["itemRevenue", "sessions", "eventCount"], {}, "itemName"),
    (SHOP, ["itemName", "eventName"], ["itemsViewed"], {}, "eventName"),
    (SHOP, ["date"], ["itemRevenue"], {"dimension_filter": fexpr("eventName", "purchase")},
     "eventName"),
    (SHOP, ["itemBrand"], ["itemRevenue"], {"metric_filter": positive("keyEvents:purchase")},
     "itemBrand"),
    (BLOG, ["itemCategory"], ["keyEvents:sign_up"], {}, "itemCategory"),
    (BLOG, ["customEvent:article_category"], ["itemsPurchased"], {},
     "customEvent:article_category"),
]


@pytest.mark.parametrize(("prop", "dims", "metrics", "filters", "field"), REFUSED)
def test_incompatible_requests_are_refused_in_gas_words(ga_client, prop, dims, metrics,
                                                        filters, field):
    with pytest.raises(gexc.InvalidArgument) as err:
        ga_client.run_report(request(prop, dims, metrics, **filters))
    assert err.value.message == GA_TEXT.format(field)
    with pytest.raises(gexc.InvalidArgument) as err:
        ga_client.batch_run_reports(ga.BatchRunReportsRequest(property=prop, requests=[
            request(prop, ["date"], ["sessions"]), request(prop, dims, metrics, **filters)]))
    assert err.value.message == GA_TEXT.format(field)
    # CheckCompatibility names the same conflict: the named field is incompatible.
    found = check(ga_client, prop, dims, metrics, **filters)
    assert found[field] == C.INCOMPATIBLE


@pytest.mark.parametrize(("prop", "dims", "metrics"), [
    (SHOP, ["itemName", "itemId", "country", "date"], sorted(ITEM_METRICS)),
    (SHOP, ["date", "sessionSource"], ["itemRevenue", "sessions", "purchaseRevenue"]),
    (SHOP, ["eventName", "customEvent:payment_type"],
     ["eventCount", "customEvent:discount_amount", "keyEvents:purchase"]),
    (SHOP, ["customUser:loyalty_tier", "itemCategory"], ["itemsPurchased"]),
    (BLOG, ["pagePath", "customEvent:article_category"],
     ["screenPageViews", "customEvent:reading_time_sec", "sessionKeyEventRate:sign_up"]),
])
def test_compatible_requests_are_answered(ga_client, prop, dims, metrics):
    ga_client.run_report(request(prop, dims, metrics))
    found = check(ga_client, prop, dims, metrics)
    assert all(found[f] == C.COMPATIBLE for f in [*dims, *metrics])


def test_incompatible_filter_lists_exactly_what_cannot_be_added(ga_client):
    md = ga_client.get_metadata(name=f"{SHOP}/metadata")
    metrics = {m.api_name for m in md.metrics}
    found = check(ga_client, SHOP, ["itemName"], ["itemsViewed"], C.INCOMPATIBLE)
    assert set(found.values()) == {C.INCOMPATIBLE}
    assert set(found) == SHOP_EVENT_DIMS | (metrics - ITEM_METRICS)
    # An item metric alone forbids only the event-scoped dimensions.
    assert set(check(ga_client, SHOP, ["date"], ["itemRevenue"], C.INCOMPATIBLE)) == \
        SHOP_EVENT_DIMS
    # An event-scoped dimension forbids the item fields.
    assert set(check(ga_client, SHOP, ["eventName"], ["eventCount"], C.INCOMPATIBLE)) == \
        ITEM_DIMS | ITEM_METRICS
    # An ordinary session report takes anything but an item dimension.
    assert set(check(ga_client, SHOP, ["date", "country"], ["sessions"], C.INCOMPATIBLE)) == \
        ITEM_DIMS


def test_a_refused_requests_own_fields_are_listed_incompatible(ga_client):
    everything = check(ga_client, SHOP, ["itemName"], ["sessions"])
    md = ga_client.get_metadata(name=f"{SHOP}/metadata")
    assert set(everything) == {d.api_name for d in md.dimensions} | {
        m.api_name for m in md.metrics}
    assert everything["itemName"] == everything["sessions"] == C.INCOMPATIBLE
    assert everything["itemRevenue"] == everything["country"] == C.COMPATIBLE
    compatible = check(ga_client, SHOP, ["itemName"], ["sessions"], C.COMPATIBLE)
    assert set(compatible.values()) == {C.COMPATIBLE}
    assert "itemName" not in compatible and "sessions" not in compatible
    assert set(compatible) == {n for n, c in everything.items() if c == C.COMPATIBLE}


def test_filters_count_like_the_fields_they_name(ga_client):
    on_events = {"dimension_filter": fexpr("eventName", "purchase")}
    found = check(ga_client, SHOP, ["date"], ["purchaseRevenue"], C.INCOMPATIBLE, **on_events)
    assert ITEM_METRICS <= set(found) and "eventName" not in found
    found = check(ga_client, SHOP, ["itemName"], ["itemRevenue"], C.INCOMPATIBLE,
                  metric_filter=positive("sessions"))
    assert {"itemName", "sessions"} <= set(found) and "itemRevenue" not in found


@pytest.mark.parametrize(("prop", "dims", "metrics"), [
    (SHOP, ["itemName"], ["itemRevenue"]),
    (SHOP, ["eventName"], ["eventCount"]),
    (BLOG, ["date"], ["sessions"]),
])
def test_compatibility_is_what_run_report_does(ga_client, prop, dims, metrics):
    """Adding any field CheckCompatibility calls incompatible gets the request refused;
    adding any other field does not."""
    found = check(ga_client, prop, dims, metrics)
    md = ga_client.get_metadata(name=f"{prop}/metadata")
    kinds = {d.api_name: "dimension" for d in md.dimensions}
    kinds.update({m.api_name: "metric" for m in md.metrics})
    assert set(found) == set(kinds)
    for field, verdict in found.items():
        if field in dims or field in metrics:
            continue
        more = (dims + [field], metrics) if kinds[field] == "dimension" else (
            dims, metrics + [field])
        if verdict == C.INCOMPATIBLE:
            with pytest.raises(gexc.InvalidArgument, match="to make the request compatible"):
                ga_client.run_report(request(prop, *more))
        else:
            ga_client.run_report(request(prop, *more))


def test_universal_compatibility_lists_no_custom_fields(ga_client):
    found = check(ga_client, "properties/0", ["itemName"], ["itemRevenue"])
    assert found and not any(":" in name for name in found)
    assert found["eventName"] == C.INCOMPATIBLE and found["country"] == C.COMPATIBLE
    with pytest.raises(gexc.InvalidArgument, match="customEvent:article_category"):
        check(ga_client, "properties/0", ["customEvent:article_category"], ["eventCount"])


def test_unknown_filter_fields_are_invalid_in_compatibility_checks(ga_client):
    with pytest.raises(gexc.InvalidArgument, match="shoeSize"):
        check(ga_client, SHOP, ["date"], ["sessions"], dimension_filter=fexpr("shoeSize", "9"))
