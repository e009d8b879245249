"""Google's own GetMetadata sample, run against the stand-in through Google's client.

``get_metadata_by_property_id`` and ``print_get_metadata_response`` below are copied
from Google's python-docs-samples, Analytics Data API samples
(``get_metadata_by_property_id.py`` and ``get_common_metadata.py``),
Copyright 2021 Google Inc., licensed under the Apache License, Version 2.0
(http://www.apache.org/licenses/LICENSE-2.0). The one change: the sample makes its own
``BetaAnalyticsDataClient()`` (application default credentials, Google's endpoint);
here the client is passed in, pointed at the stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcTransport,
)
from google.analytics.data_v1beta.types import GetMetadataRequest, MetricType

from tests.conftest import BLOG, LARGE, SHOP

# ---- copied from Google's sample (see the module docstring) ------------------------------


def get_metadata_by_property_id(client, property_id="YOUR-GA4-PROPERTY-ID"):
    """Retrieves dimensions and metrics available for a Google Analytics 4
    property, including custom fields."""
    request = GetMetadataRequest(name=f"properties/{property_id}/metadata")
    response = client.get_metadata(request)

    print(
        f"Dimensions and metrics available for Google Analytics 4 "
        f"property {property_id} (including custom fields):"
    )
    print_get_metadata_response(response)


def print_get_metadata_response(response):
    """Prints results of the getMetadata call."""
    # [START analyticsdata_print_get_metadata_response]
    for dimension in response.dimensions:
        print("DIMENSION")
        print(f"{dimension.api_name} ({dimension.ui_name}): {dimension.description}")
        print(f"custom_definition: {dimension.custom_definition}")
        if dimension.deprecated_api_names:
            print(f"Deprecated API names: {dimension.deprecated_api_names}")
        print("")

    for metric in response.metrics:
        print("METRIC")
        print(f"{metric.api_name} ({metric.ui_name}): {metric.description}")
        print(f"custom_definition: {metric.custom_definition}")
        if metric.expression:
            print(f"Expression: {metric.expression}")

        metric_type = MetricType(metric.type_).name
        print(f"Type: {metric_type}")

        if metric.deprecated_api_names:
            print(f"Deprecated API names: {metric.deprecated_api_names}")
        print("")
    # [END analyticsdata_print_get_metadata_response]


# ---- end of the copy -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_client(standin) -> Iterator[BetaAnalyticsDataClient]:
    channel = grpc.insecure_channel(standin.endpoint)
    yield BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel))
    channel.close()


def blocks(text: str) -> dict[str, list[str]]:
    """The sample's output, api name -> the lines of its block."""
    out: dict[str, list[str]] = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line]
        if lines and lines[0] in ("DIMENSION", "METRIC"):
            out[lines[1].split(" (", 1)[0]] = lines
    return out


def run_sample(client, property_id: str, capsys) -> dict[str, list[str]]:
    get_metadata_by_property_id(client, property_id)
    text = capsys.readouterr().out
    assert text.startswith(f"Dimensions and metrics available for Google Analytics 4 property "
                           f"{property_id} (including custom fields):\n")
    return blocks(text)


@pytest.mark.parametrize(("prop", "lines"), [
    (BLOG, {
        "customEvent:article_category": ["DIMENSION", "customEvent:article_category (Article "
                                         "category): An event scoped custom dimension for your "
                                         "Analytics property.", "custom_definition: True"],
        "customUser:reader_type": ["DIMENSION", "customUser:reader_type (Reader type): A user "
                                   "property for your Analytics property.",
                                   "custom_definition: True"],
        "customEvent:reading_time_sec": ["METRIC", "customEvent:reading_time_sec (Reading "
                                         "time): An event scoped custom metric for your "
                                         "Analytics property.", "custom_definition: True",
                                         "Type: TYPE_SECONDS"],
    }),
    (SHOP, {
        "customEvent:discount_amount": ["METRIC", "customEvent:discount_amount (Discount "
                                        "amount): An event scoped custom metric for your "
                                        "Analytics property.", "custom_definition: True",
                                        "Type: TYPE_CURRENCY"],
        "keyEvents:purchase": ["METRIC", "keyEvents:purchase (purchase key events): The number "
                               "of times users triggered the 'purchase' key event.",
                               "custom_definition: True", "Type: TYPE_INTEGER"],
    }),
    (LARGE, {
        "customUser:subscription_status": ["DIMENSION", "customUser:subscription_status "
                                           "(Subscription status): A user property for your "
                                           "Analytics property.", "custom_definition: True"],
        "customEvent:percent_scrolled": ["METRIC", "customEvent:percent_scrolled (Percent "
                                         "scrolled): An event scoped custom metric for your "
                                         "Analytics property.", "custom_definition: True",
                                         "Type: TYPE_STANDARD"],
    }),
])
def test_googles_sample_prints_the_custom_definitions(sample_client, capsys, prop, lines):
    printed = run_sample(sample_client, prop.removeprefix("properties/"), capsys)
    for name, block in lines.items():
        assert printed[name] == block
    custom = {name for name, block in printed.items() if "custom_definition: True" in block}
    assert custom == {n for n in printed if ":" in n}  # and only those
    assert printed["country"][2] == "custom_definition: False"
    assert printed["itemRevenue"][-1] == "Type: TYPE_CURRENCY"


def test_googles_sample_on_property_0_shows_no_custom_definitions(sample_client, capsys):
    printed = run_sample(sample_client, "0", capsys)
    assert "country" in printed and "itemName" in printed
    assert not [name for name, block in printed.items() if "custom_definition: True" in block]
