"""Prometheus counters of what the data layer does (prometheus-client), all ``gadash_``:

- ``ga_calls_total{method,outcome}``, ``ga_call_seconds{method}``: every gRPC call
  that left for GA (retries included, each attempt once), counted on the channel by
  ``GACallCounter``; ``outcome`` is ``ok`` or the gRPC status code.
- ``ga_quota_tokens_left{property,period}``: GA's answer on the property's
  tokens left this hour / day, as of the latest answer (any worker).
- ``cache_answers_total{how}`` (hit / stale / fetch / error) and
  ``singleflight_waits_total``: the single-flight cache (``gadash.data.flight``).
- ``share_requests_total{provider,outcome}``: HTTP requests to share providers.

Under gunicorn every worker counts on its own; with ``PROMETHEUS_MULTIPROC_DIR``
set (``gadash/gunicorn_conf.py`` makes one) each writes its values to files there.
The variable must be set before ``prometheus_client`` is first imported. The web's
own metrics and ``GET /metrics`` are ``gadash.web.routes.metrics``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GA_METHODS = {"RunReport", "BatchRunReports", "RunRealtimeReport", "GetMetadata",
              "CheckCompatibility"}

GA_CALLS = Counter("gadash_ga_calls_total", "GA Data API calls sent, each attempt once.",
                   ["method", "outcome"])
GA_SECONDS = Histogram("gadash_ga_call_seconds", "Seconds a GA Data API call took.",
                       ["method"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
# The latest answer wins, from whichever worker (alive or not) had it.
QUOTA_LEFT = Gauge("gadash_ga_quota_tokens_left", "GA property tokens left, per GA's latest "
                   "answer.", ["property", "period"], multiprocess_mode="mostrecent")
CACHE_ANSWERS = Counter("gadash_cache_answers_total",
                        "Single-flight cache answers: hit, stale, fetch (GA asked), error.",
                        ["how"])
SINGLEFLIGHT_WAITS = Counter("gadash_singleflight_waits_total",
                             "Requests that waited for another's first creation of an entry.")
SHARE_REQUESTS = Counter("gadash_share_requests_total",
                         "HTTP requests to share-count providers, by outcome.",
                         ["provider", "outcome"])


# ----------------------------------------------------------------- GA calls

def ga_method(rpc: str | bytes) -> str:
    """The API method of a gRPC method path (``/google...BetaAnalyticsData/RunReport``)."""
    name = (rpc.decode() if isinstance(rpc, bytes) else rpc).rsplit("/", 1)[-1]
    return name if name in GA_METHODS else "other"


class GACallCounter(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Counts and times every unary call on a channel as it goes out.

    On the channel, below google's ``Retry``: a call retried three times is three
    calls here, as GA received them (an attempt that never reached GA counts with
    its UNAVAILABLE or DEADLINE_EXCEEDED outcome).
    """

    def intercept_unary_unary(self, continuation: Callable[..., Any],
                              client_call_details: grpc.ClientCallDetails,
                              request: Any) -> Any:
        method = ga_method(client_call_details.method)
        started = time.perf_counter()
        outcome = continuation(client_call_details, request)

        def done(call: Any) -> None:
            code = call.code()
            GA_CALLS.labels(method, "ok" if code == grpc.StatusCode.OK
                            else getattr(code, "name", "UNKNOWN")).inc()
            GA_SECONDS.labels(method).observe(time.perf_counter() - started)

        # Called at once for a finished (blocking) call, later for a future.
        outcome.add_done_callback(done)
        return outcome


def counted_channel(channel: grpc.Channel) -> grpc.Channel:
    """``channel`` with every GA call on it counted (``GACallCounter``)."""
    return grpc.intercept_channel(channel, GACallCounter())


# ----------------------------------------------------------------- helpers

def quota_left(property_id: str, quota: Mapping[str, tuple[int, int]]) -> None:
    """Record GA's answer on the tokens left (``ReportMeta.quota``)."""
    for name, period in (("tokens_per_hour", "hour"), ("tokens_per_day", "day")):
        if name in quota:
            QUOTA_LEFT.labels(property_id, period).set(quota[name][1])


def cache_answer(how: str) -> None:
    CACHE_ANSWERS.labels(how).inc()


def singleflight_wait() -> None:
    SINGLEFLIGHT_WAITS.inc()


def share_request(provider: str, outcome: str) -> None:
    SHARE_REQUESTS.labels(provider, outcome).inc()
