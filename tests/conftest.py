"""Shared fixtures: a GA4 stand-in on loopback, a real Valkey server, settings.

Every server a test starts stops with the run however it ends (tests/processes.py):
SIGTERM and SIGHUP interrupt the run as Ctrl-C does, so the fixtures' ``finally``
blocks run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta

import grpc
import pytest
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcTransport,
)

from gadash.settings import Settings
from gadash.standin.server import StandinServer, demo_properties
from gadash.standin.traffic import local_now, local_seconds
from tests.processes import install_signal_handlers

# Every app the tests build (in-process or as a server process) keeps its team
# database in a temporary directory, never in the checkout's ./instance.
_DATA_DIR = tempfile.mkdtemp(prefix="gadash-test-data-")
os.environ["GADASH_DATA_DIR"] = _DATA_DIR
atexit.register(shutil.rmtree, _DATA_DIR, True)
# Tests sign in and get refused far more often than people; tests of the limits
# set their own rates.
os.environ.setdefault("GADASH_RATE_SIGNIN", "10000/minute")
os.environ.setdefault("GADASH_RATE_LINKS", "10000/minute")
os.environ.setdefault("GADASH_RATE_REFUSED", "100000/minute")

BLOG = "properties/100000001"
SHOP = "properties/100000002"
LARGE = "properties/100000003"
TEST_DAYS = 500
TEST_SESSIONS = 500


def pytest_configure(config: pytest.Config) -> None:
    install_signal_handlers()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_properties():  # noqa: D103 -- not a test; the stand-in's properties for tests
    return demo_properties(sessions_per_day=TEST_SESSIONS, days=TEST_DAYS, seed=7)


test_properties.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def standin() -> Iterator[StandinServer]:
    """The GA4 stand-in on a free loopback port, for the whole session."""
    server = StandinServer(test_properties()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def standin_clean(standin: StandinServer) -> Iterator[StandinServer]:
    """The stand-in with no fault, fresh quota and zeroed call counters."""
    servicer = standin.servicer
    servicer.clear_fault()
    servicer.reset_quota()
    servicer.calls.clear()
    servicer.property_calls.clear()
    servicer.delay = 0.0
    yield standin
    servicer.clear_fault()
    servicer.delay = 0.0


@pytest.fixture(scope="session")
def ga_client(standin: StandinServer) -> Iterator[BetaAnalyticsDataClient]:
    """Google's own client, over an insecure channel to the stand-in."""
    channel = grpc.insecure_channel(standin.endpoint)
    yield BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel))
    channel.close()


@pytest.fixture()
def settings(standin_clean: StandinServer) -> Settings:
    return Settings(
        ga_endpoint=standin_clean.endpoint,
        properties={"Blog": BLOG, "Shop": SHOP},
        ga_timeout=2.0,
        _env_file=None,
    )


@pytest.fixture(scope="session")
def blog_today() -> date:
    return local_now(test_properties()[0].time_zone).date()


@pytest.fixture(scope="session")
def past_days(blog_today: date):
    """A helper: the date n days before the blog's today."""
    return lambda n: blog_today - timedelta(days=n)


@pytest.fixture(scope="session")
def valkey_url() -> Iterator[str]:
    """A real Valkey (Redis-protocol) server process on loopback."""
    from tests.valkey import Valkey

    server = Valkey()
    server.start()
    try:
        yield server.connection_url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def oidc() -> Iterator[str]:
    """A local OpenID provider (oidc-provider-mock) on loopback."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def skip_without_realtime_readers(standin: StandinServer, property_id: str = BLOG) -> None:
    """Skip a test that needs someone reading right now when the property's last 30
    minutes are empty: the test properties are small (a few sessions an hour at night),
    so at some night hours nobody is reading, as on a real small site."""
    prop = standin.servicer.properties[property_id]
    now = local_now(prop.time_zone)
    secs = local_seconds(now)
    traffic = prop.store.get(now.date())
    if not ((traffic.e_time > secs - 30 * 60) & (traffic.e_time <= secs)).any():
        pytest.skip(f"nobody read {property_id} in the last 30 minutes ({now:%H:%M} in "
                    f"{prop.time_zone})")


def skip_just_after_midnight(standin: StandinServer, property_id: str = BLOG) -> None:
    """Skip a test of a spike's realtime views in the first half hour of the property's day.

    The stand-in's realtime report reads today's traffic, and a spike never reaches into a
    past day: just after midnight the last 30 minutes hold only minutes of the spike.
    """
    zone = standin.servicer.properties[property_id].time_zone
    if local_seconds(local_now(zone)) % 86400 < 31 * 60:
        pytest.skip(f"the first half hour of the day in {zone}: realtime starts at midnight")
