"""A local server speaking the real GA4 Data API (v1beta) over gRPC.

It serves RunReport, BatchRunReports, RunRealtimeReport, GetMetadata and
CheckCompatibility of ``google.analytics.data.v1beta.BetaAnalyticsData`` from
synthetic traffic, so the demo and the tests go through exactly the client code
production uses. Errors come back as GA sends them: a gRPC status with a
``google.rpc.BadRequest`` detail naming the field, PERMISSION_DENIED for a
property it does not serve, RESOURCE_EXHAUSTED when the property's token quota
runs out, and INVALID_ARGUMENT in GA's words for dimensions and metrics that do not
go together (``compat``), which CheckCompatibility reports field by field. GetMetadata
lists each property's own custom definitions, ``properties/0`` only GA's universal
fields. What it does not implement (cohorts, comparisons, pivots, audience
exports, and the v1alpha service's funnels) is refused with UNIMPLEMENTED naming
the feature, never answered as if the request had not asked for it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
import numpy as np
from google.analytics.data_v1beta import types as ga
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

if TYPE_CHECKING:
    from gadash.settings import Settings
from gadash.standin.compat import (
    Field,
    field_to_remove,
    incompatible,
    incompatible_message,
    request_fields,
)
from gadash.standin.engine import (
    DIMENSIONS,
    METRICS,
    Dim,
    Met,
    ReportError,
    ReportResult,
    Rows,
    Window,
    check_fields,
    compute_report,
    currency_factor,
    fill_response,
    filter_fields,
    invalid,
    parse_date,
    sampled,
    unimplemented,
)
from gadash.standin.schema import fields_for
from gadash.standin.traffic import (
    NEWS_START,
    USUAL_DAYS,
    PageSpike,
    Traffic,
    TrafficProfile,
    TrafficStore,
    check_spike_factor,
    local_now,
    local_seconds,
    spliced,
)

SERVICE = "google.analytics.data.v1beta.BetaAnalyticsData"
ALPHA_SERVICE = "google.analytics.data.v1alpha.AlphaAnalyticsData"
PERMISSION_MESSAGE = (
    "User does not have sufficient permissions for this property. To learn more about "
    "Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
    "property-id."
)
QUOTA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/quotas"
MAX_REALTIME_LOOKBACK = 6 * 3600
SPIKE_EXAMPLE = "/blog/getting-started-with-python/*10"

Req = TypeVar("Req")


@dataclass
class StandinProperty:
    """One GA4 property the stand-in serves."""

    property_id: str  # "properties/123"
    display_name: str
    profile: TrafficProfile
    currency: str = "USD"
    # What GA reports about a property's data quality, e.g. thresholding with
    # Google signals on, or sampling in a huge property.
    thresholded: bool = False
    sampling_percent: float | None = None
    # GA's behaviour on big properties: values of a dimension past this many fold
    # into "(other)"; date ranges with more events than this are sampled; rows of
    # reports with user metrics and fewer users than this are withheld.
    cardinality_limit: int | None = 50_000
    sampling_event_limit: int | None = None
    user_threshold: int | None = None
    store: TrafficStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = TrafficStore(self.profile)

    @property
    def time_zone(self) -> str:
        return self.profile.time_zone


@dataclass(frozen=True)
class QuotaLimits:
    """GA4 standard-property limits (tokens per day / hour, concurrent requests)."""

    tokens_per_day: int = 200_000
    tokens_per_hour: int = 40_000
    concurrent_requests: int = 10


@dataclass
class _QuotaState:
    day: tuple[int, int] = (0, 0)  # (day number, consumed)
    hour: tuple[int, int] = (0, 0)  # (hour number, consumed)
    running: int = 0


def demo_properties(
    sessions_per_day: int = 1800,
    days: int = 800,
    seed: int = 2015,
    time_zone: str = "America/New_York",
    cardinality_limit: int | None = None,
) -> list[StandinProperty]:
    """The demo's properties: a busy blog, a shop, and a news site with a long history.

    The blog and the shop keep ``days`` of history; the news site always starts on
    2018-01-01 and gets a fifth of ``sessions_per_day`` over tens of thousands of
    articles, so it shows GA's "(other)" row (past ``cardinality_limit`` values of a
    dimension, by default twice ``sessions_per_day``: a month of news pages is past
    it), sampling of date ranges with more than 1,000 x ``sessions_per_day`` events
    (about three years of news) and thresholding of user counts below 10.
    """
    if cardinality_limit is None:
        cardinality_limit = max(500, 2 * sessions_per_day)
    return [
        StandinProperty(
            "properties/100000001", "Demo blog",
            TrafficProfile(sessions_per_day, days, seed, time_zone),
            cardinality_limit=cardinality_limit,
        ),
        StandinProperty(
            "properties/100000002", "Demo shop",
            TrafficProfile(max(10, sessions_per_day // 3), days, seed + 1, "Europe/Berlin",
                           kind="shop"),
            currency="EUR", cardinality_limit=cardinality_limit,
        ),
        StandinProperty(
            "properties/100000003", "Demo news",
            TrafficProfile(max(20, sessions_per_day // 5), days, seed + 2, "Europe/London",
                           kind="news", start=NEWS_START),
            currency="GBP", cardinality_limit=cardinality_limit,
            sampling_event_limit=1000 * max(10, sessions_per_day), user_threshold=10,
        ),
    ]


def demo_properties_for(settings: Settings) -> list[StandinProperty]:
    """The demo's properties as the settings shape them (what ``gadash`` serves with no
    property configured)."""
    return demo_properties(settings.standin_sessions_per_day, settings.standin_days,
                           settings.standin_seed, settings.standin_time_zone)


def parse_spike(text: str) -> tuple[str, float]:
    """``"PATH*FACTOR"`` as (path, factor); raises ValueError saying what is wrong."""
    path, star, factor = text.strip().rpartition("*")
    if not star or not path.startswith("/"):
        raise ValueError(f"{text!r} is not PATH*FACTOR, e.g. {SPIKE_EXAMPLE}")
    try:
        value = float(factor)
    except ValueError:
        raise ValueError(f"{text!r}: the factor {factor!r} is not a number "
                         f"(PATH*FACTOR, e.g. {SPIKE_EXAMPLE})") from None
    return path, check_spike_factor(value)


def _bad_request(err: ReportError) -> status_pb2.Status:
    code = getattr(code_pb2, err.code)
    status = status_pb2.Status(code=code, message=err.message)
    if err.field:
        detail = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=err.field, description=err.message)
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


class StandinServicer:
    """The GA4 Data API methods, over a set of synthetic properties."""

    def __init__(self, properties: list[StandinProperty], limits: QuotaLimits | None = None):
        self.properties = {p.property_id: p for p in properties}
        self.limits = limits or QuotaLimits()
        self.calls: Counter[str] = Counter()
        self.property_calls: Counter[str] = Counter()  # requests per property asked for
        self.delay = 0.0
        self._fault: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self._quota: dict[str, _QuotaState] = {}
        self._spikes: dict[str, dict[int, PageSpike]] = {}  # property -> page code -> spike

    # -- test and demo controls -------------------------------------------------
    def set_fault(self, code: str, message: str = "") -> None:
        """Fail every call with this gRPC status (e.g. "UNAVAILABLE") until cleared."""
        grpc.StatusCode[code]  # noqa: B018 -- validates the name
        self._fault = (code, message or f"The service answered {code}.")

    def clear_fault(self) -> None:
        self._fault = None

    def reset_quota(self) -> None:
        with self._lock:
            self._quota.clear()

    def spike(self, property_id: str, path: str, factor: float) -> None:
        """From now on, the page with this pagePath is read at ``factor`` times its usual rate.

        Its extra views come from now and the 30 minutes before (not before today), so
        realtime shows the page trending at once and today's reports count them; past
        days never change. Raises ValueError for an unknown property or path, or a
        factor not in (1, 100].
        """
        prop = self.properties.get(property_id)
        if prop is None:
            raise ValueError(f"the stand-in serves no property {property_id!r}; it serves "
                             f"{', '.join(self.properties)}")
        factor = check_spike_factor(factor)
        now = local_now(prop.time_zone)
        page = prop.profile.site.page_code(path, now.date())
        if page is None:
            raise ValueError(f"unknown page {path!r}: {prop.display_name} ({property_id}) "
                             f"has no page with that pagePath")
        spike = PageSpike(page, factor, local_seconds(now), prop.profile.seed)
        with self._lock:
            self._spikes.setdefault(property_id, {})[page] = spike

    def spike_everywhere(self, path: str, factor: float) -> list[str]:
        """Spike the page in every property that has it; returns their ids.

        Raises ValueError when no property has it, or for a bad factor.
        """
        factor = check_spike_factor(factor)
        spiked = []
        for prop in self.properties.values():
            if prop.profile.site.page_code(path, local_now(prop.time_zone).date()) is not None:
                self.spike(prop.property_id, path, factor)
                spiked.append(prop.property_id)
        if not spiked:
            raise ValueError(f"unknown page {path!r}: no property of the stand-in has a page "
                             f"with that pagePath (e.g. {SPIKE_EXAMPLE.partition('*')[0]})")
        return spiked

    def clear_spikes(self) -> None:
        """Every page back to its usual rate."""
        with self._lock:
            self._spikes.clear()

    # -- plumbing ---------------------------------------------------------------
    def _call(self, method: str, context: grpc.ServicerContext,
              body: Callable[[], Any]) -> Any:
        with self._lock:
            self.calls[method] += 1
        if self.delay:
            time.sleep(self.delay)
        fault = self._fault
        if fault is not None:
            context.abort(grpc.StatusCode[fault[0]], fault[1])
        try:
            return body()
        except ReportError as err:
            context.abort_with_status(rpc_status.to_status(_bad_request(err)))

    def _property(self, name: str) -> StandinProperty:
        if not name.startswith("properties/") or not name.removeprefix("properties/").isdigit():
            raise invalid(
                f"Invalid property name {name!r}; it should be of the form properties/1234.",
                "property",
            )
        prop = self.properties.get(name)
        with self._lock:
            self.property_calls[name] += 1
        if prop is None:
            served = ", ".join(f"{p.property_id} ({p.display_name})"
                               for p in self.properties.values())
            raise ReportError("PERMISSION_DENIED",
                              f"{PERMISSION_MESSAGE} This stand-in serves {served}.")
        return prop

    def _charge(self, prop: StandinProperty, tokens: int) -> ga.PropertyQuota:
        now = datetime.now()
        day_no, hour_no = now.toordinal(), now.toordinal() * 24 + now.hour
        with self._lock:
            q = self._quota.setdefault(prop.property_id, _QuotaState())
            day_used = q.day[1] if q.day[0] == day_no else 0
            hour_used = q.hour[1] if q.hour[0] == hour_no else 0
            if day_used >= self.limits.tokens_per_day:
                raise ReportError(
                    "RESOURCE_EXHAUSTED",
                    f"Exhausted property tokens per day for a property. For more "
                    f"information, see {QUOTA_URL}",
                )
            if hour_used >= self.limits.tokens_per_hour:
                raise ReportError(
                    "RESOURCE_EXHAUSTED",
                    f"Exhausted property tokens per hour for a property. For more "
                    f"information, see {QUOTA_URL}",
                )
            day_used += tokens
            hour_used += tokens
            q.day, q.hour = (day_no, day_used), (hour_no, hour_used)
            limits = self.limits
            return ga.PropertyQuota(
                tokens_per_day=ga.QuotaStatus(
                    consumed=tokens, remaining=max(0, limits.tokens_per_day - day_used)),
                tokens_per_hour=ga.QuotaStatus(
                    consumed=tokens, remaining=max(0, limits.tokens_per_hour - hour_used)),
                concurrent_requests=ga.QuotaStatus(
                    consumed=0, remaining=limits.concurrent_requests - q.running),
                server_errors_per_project_per_hour=ga.QuotaStatus(consumed=0, remaining=10),
                potentially_thresholded_requests_per_hour=ga.QuotaStatus(
                    consumed=0, remaining=120),
                tokens_per_project_per_hour=ga.QuotaStatus(
                    consumed=tokens, remaining=max(0, 14_000 - hour_used)),
            )

    # -- reports ------------------------------------------------------------------
    def _with_spikes(self, prop: StandinProperty, traffic: Traffic, s0: int, s1: int,
                     t0: int, t1: int) -> tuple[Traffic, int, int]:
        """Sessions ``[s0, s1)`` with the property's spike sessions of ``[t0, t1]`` (local
        seconds) among them: a new Traffic of just those and its session range; the same
        when no spike has sessions then."""
        with self._lock:
            spikes = list(self._spikes.get(prop.property_id, {}).values())
        extra = [spike.sessions(traffic, t0, t1) for spike in spikes]
        if not any(cols["s_start"].size for cols in extra):
            return traffic, s0, s1
        merged = spliced(traffic, s0, s1, extra)
        return merged, 0, merged.session_count

    def _validate_fields(self, prop: StandinProperty | None, dims: list[str],
                         metrics: list[str], realtime: bool,
                         dimension_filter: ga.FilterExpression | None,
                         metric_filter: ga.FilterExpression | None) -> None:
        """Raises ReportError unless every field is one of the property's (``None``: GA's
        universal fields, as for ``properties/0``)."""
        if len(dims) > 9:
            raise invalid("Requests are limited to 9 dimensions.", "dimensions")
        if len(metrics) > 10:
            raise invalid("Requests are limited to 10 metrics.", "metrics")
        if not dims and not metrics:
            raise invalid("A report needs at least one dimension or metric.", "metrics")
        dim_table, met_table = _fields_of(prop)
        check_fields(dims, dim_table, "dimension", "dimensions", realtime)
        check_fields(metrics, met_table, "metric", "metrics", realtime)
        if dimension_filter is not None:
            names = sorted(set(filter_fields(dimension_filter)))
            check_fields(names, dim_table, "dimension", "dimensionFilter", realtime)
        if metric_filter is not None:
            # GA filters on metrics the report does not return, too.
            names = sorted(set(filter_fields(metric_filter)))
            check_fields(names, met_table, "metric", "metricFilter", realtime)

    def _traffic(self, prop: StandinProperty, today: date, since: date) -> Traffic:
        """The property's traffic with every day from ``since`` on, and the 28 days before
        any spike's days (its readers are those of the page's usual 28 days)."""
        with self._lock:
            spikes = list(self._spikes.get(prop.property_id, {}).values())
        for spike in spikes:
            since = min(since, date.fromordinal(spike.first_day() - USUAL_DAYS - 1))
        return prop.store.get(today, since)

    def _windows(self, prop: StandinProperty, traffic: Traffic,
                 spans: list[tuple[str, date, date]], today: date, now_sec: int,
                 uses_events: bool, uses_items: bool) -> list[Window]:
        windows: list[Window] = []
        for name, start, end in spans:
            s0, s1 = np.searchsorted(traffic.s_day, [start.toordinal(), end.toordinal() + 1])
            s1 = min(int(s1), int(np.searchsorted(traffic.s_start, now_sec, side="right")))
            s0 = min(int(s0), s1)
            # A spike's views of today so far count today; no other day has any.
            seen = traffic
            if start <= today <= end:
                seen, s0, s1 = self._with_spikes(prop, traffic, s0, s1,
                                                 today.toordinal() * 86400, now_sec)
            e0, e1 = np.searchsorted(seen.e_session, [s0, s1])
            x0, x1 = np.searchsorted(seen.x_view, [e0, e1])
            rows = Rows(seen, s0, s1, int(e0), int(e1), int(x0), int(x1),
                        uses_events and not uses_items, now_sec, items=uses_items)
            windows.append(Window(name, rows))
        return windows

    def _run_report(self, request: ga.RunReportRequest, prop: StandinProperty
                    ) -> ga.RunReportResponse:
        if "cohort_spec" in request:
            raise unimplemented("cohort reports are")
        if request.comparisons:
            raise unimplemented("comparisons are")
        dims = [d.name for d in request.dimensions]
        metrics = [m.name for m in request.metrics]
        if "dateRange" in dims:
            dims.remove("dateRange")
        dfilter = request.dimension_filter if "dimension_filter" in request else None
        mfilter = request.metric_filter if "metric_filter" in request else None
        self._validate_fields(prop, dims, metrics, False, dfilter, mfilter)
        fields = _request_fields(dims, metrics, dfilter, mfilter)
        remove = field_to_remove(fields)
        if remove is not None:
            raise invalid(incompatible_message(remove))
        if not request.date_ranges:
            raise invalid("A report needs at least one date range.", "dateRanges")
        if len(request.date_ranges) > 4:
            raise invalid("Requests are limited to 4 date ranges.", "dateRanges")
        if request.limit < 0 or request.offset < 0:
            raise invalid("limit and offset must not be negative.", "limit")
        factor = currency_factor(prop.currency, request.currency_code)
        now = local_now(prop.time_zone)
        today = now.date()
        now_sec = local_seconds(now)
        uses_events = any(
            DIMENSIONS[n].event_scope for n in dims + (filter_fields(dfilter) if dfilter else [])
        )
        # Item dimensions make rows items (never with event ones: refused above).
        uses_items = any(f.scope == "item" and not f.metric for f in fields)
        spans: list[tuple[str, date, date]] = []
        total_days = 0
        for i, dr in enumerate(request.date_ranges):
            start = parse_date(dr.start_date, today, f"dateRanges[{i}].startDate")
            end = parse_date(dr.end_date, today, f"dateRanges[{i}].endDate")
            if start > end:
                raise invalid(
                    f"Invalid date range: startDate {dr.start_date} is after endDate "
                    f"{dr.end_date}.", f"dateRanges[{i}]",
                )
            if dr.name.startswith(("date_range_", "RESERVED_")):
                raise invalid("A date range name cannot begin with date_range_ or RESERVED_.",
                              f"dateRanges[{i}].name")
            total_days += (end - start).days + 1
            spans.append((dr.name or f"date_range_{i}", start, end))
        traffic = self._traffic(prop, today, min(start for _, start, _ in spans))
        windows = self._windows(prop, traffic, spans, today, now_sec, uses_events, uses_items)
        if traffic.first_day > prop.profile.first_day(today).toordinal() and any(
                sampled(w.rows, prop.sampling_event_limit) for w in windows):
            # A sample is of one session in k counted from the first day: the whole history.
            traffic = prop.store.get(today)
            windows = self._windows(prop, traffic, spans, today, now_sec, uses_events,
                                    uses_items)
        limit = min(request.limit or 10_000, 250_000)
        result = compute_report(
            windows, dims, metrics, dfilter, mfilter, list(request.order_bys), limit,
            request.offset, list(request.metric_aggregations), realtime=False,
            keep_empty_rows=request.keep_empty_rows, revenue_factor=factor,
            cardinality_limit=prop.cardinality_limit,
            sampling_event_limit=prop.sampling_event_limit, user_threshold=prop.user_threshold,
        )
        tokens = 5 + 2 * len(dims) + total_days // 30
        quota = self._charge(prop, tokens)
        response = ga.RunReportResponse(
            row_count=result.row_count,
            kind="analyticsData#runReport",
            metadata=self._metadata(prop, request.currency_code or prop.currency, result,
                                    len(windows)),
        )
        if request.return_property_quota:
            response.property_quota = quota
        fill_response(response, result.page, result.aggregates, dims, metrics,
                      multi=len(windows) > 1)
        return response

    @staticmethod
    def _metadata(prop: StandinProperty, currency: str, result: ReportResult,
                  ranges: int) -> ga.ResponseMetaData:
        meta = ga.ResponseMetaData(
            currency_code=currency,
            time_zone=prop.time_zone,
            data_loss_from_other_row=result.other_row,
            subject_to_thresholding=prop.thresholded or result.thresholded,
        )
        # GA: when a report is sampled, one SamplingMetadata per date range, in order.
        if result.sampling:
            meta.sampling_metadatas = [
                ga.SamplingMetadata(samples_read_count=s.read, sampling_space_size=s.space)
                for s in result.sampling
            ]
        elif prop.sampling_percent:
            space = 1_000_000
            meta.sampling_metadatas = [ga.SamplingMetadata(
                samples_read_count=int(space * prop.sampling_percent / 100),
                sampling_space_size=space) for _ in range(ranges)]
        return meta

    def _run_realtime(self, request: ga.RunRealtimeReportRequest, prop: StandinProperty
                      ) -> ga.RunRealtimeReportResponse:
        dims = [d.name for d in request.dimensions]
        metrics = [m.name for m in request.metrics]
        dfilter = request.dimension_filter if "dimension_filter" in request else None
        mfilter = request.metric_filter if "metric_filter" in request else None
        self._validate_fields(prop, dims, metrics, True, dfilter, mfilter)
        ranges = list(request.minute_ranges) or [ga.MinuteRange(start_minutes_ago=29)]
        if len(ranges) > 2:
            raise invalid("Requests are limited to 2 minute ranges.", "minuteRanges")
        now = local_now(prop.time_zone)
        traffic = self._traffic(prop, now.date(), now.date() - timedelta(days=1))
        now_sec = local_seconds(now)
        s0, s1 = np.searchsorted(traffic.s_start, [now_sec - MAX_REALTIME_LOOKBACK, now_sec + 1])
        # Only a spike's last 30 minutes: its sessions are one view long.
        traffic, s0, s1 = self._with_spikes(prop, traffic, int(s0), int(s1),
                                            now_sec - 30 * 60, now_sec)
        e0, e1 = np.searchsorted(traffic.e_session, [s0, s1])
        x0, x1 = np.searchsorted(traffic.x_view, [e0, e1])
        times = traffic.e_time[traffic.x_view[x0:x1]]
        windows = []
        for i, mr in enumerate(ranges):
            start = mr.start_minutes_ago if "start_minutes_ago" in mr else 29
            end = mr.end_minutes_ago
            if not 0 <= end <= start <= 29:
                raise invalid("Minute ranges must satisfy 0 <= endMinutesAgo <= "
                              "startMinutesAgo <= 29.", f"minuteRanges[{i}]")
            base = (times > now_sec - (start + 1) * 60) & (times <= now_sec - end * 60)
            rows = Rows(traffic, int(s0), int(s1), int(e0), int(e1), int(x0), int(x1), True,
                        now_sec, base)
            windows.append(Window(mr.name or f"date_range_{i}", rows))
        result = compute_report(
            windows, dims, metrics, dfilter, mfilter, list(request.order_bys),
            min(request.limit or 10_000, 250_000), 0, list(request.metric_aggregations),
            realtime=True, cardinality_limit=prop.cardinality_limit,
        )
        quota = self._charge(prop, 1 + len(dims))
        response = ga.RunRealtimeReportResponse(row_count=result.row_count,
                                                kind="analyticsData#runRealtimeReport")
        if request.return_property_quota:
            response.property_quota = quota
        fill_response(response, result.page, result.aggregates, dims, metrics,
                      multi=len(windows) > 1)
        return response

    # -- gRPC methods -----------------------------------------------------------------
    def RunReport(self, request: ga.RunReportRequest, context: grpc.ServicerContext
                  ) -> ga.RunReportResponse:
        return self._call(
            "RunReport", context,
            lambda: self._run_report(request, self._property(request.property)),
        )

    def BatchRunReports(self, request: ga.BatchRunReportsRequest, context: grpc.ServicerContext
                        ) -> ga.BatchRunReportsResponse:
        def body() -> ga.BatchRunReportsResponse:
            prop = self._property(request.property)
            if not request.requests:
                raise invalid("A batch needs at least one request.", "requests")
            if len(request.requests) > 5:
                raise invalid("A batch is limited to 5 requests.", "requests")
            reports = []
            for i, sub in enumerate(request.requests):
                if sub.property and sub.property != request.property:
                    raise invalid("Every request of a batch must be for the batch's property.",
                                  f"requests[{i}].property")
                reports.append(self._run_report(sub, prop))
            return ga.BatchRunReportsResponse(reports=reports, kind="analyticsData#batchRunReports")

        return self._call("BatchRunReports", context, body)

    def RunRealtimeReport(self, request: ga.RunRealtimeReportRequest,
                          context: grpc.ServicerContext) -> ga.RunRealtimeReportResponse:
        return self._call(
            "RunRealtimeReport", context,
            lambda: self._run_realtime(request, self._property(request.property)),
        )

    def _property_or_universal(self, name: str) -> StandinProperty | None:
        """The property ``name`` names, or None for ``properties/0`` (GA's fields common to
        all properties, custom definitions left out)."""
        return None if name == "properties/0" else self._property(name)

    def GetMetadata(self, request: ga.GetMetadataRequest, context: grpc.ServicerContext
                    ) -> ga.Metadata:
        """The property's dimensions and metrics: GA's universal ones, then its custom
        definitions and key event metrics (``properties/0``: the universal ones only)."""
        def body() -> ga.Metadata:
            prop = self._property_or_universal(request.name.removesuffix("/metadata"))
            dims, metrics = _fields_of(prop)
            return ga.Metadata(
                name=request.name,
                dimensions=[_dimension_metadata(d.name) for d in dims.values() if d.report],
                metrics=[_metric_metadata(m.name) for m in metrics.values() if m.report],
            )

        return self._call("GetMetadata", context, body)

    def CheckCompatibility(self, request: ga.CheckCompatibilityRequest,
                           context: grpc.ServicerContext) -> ga.CheckCompatibilityResponse:
        """Each of the property's report fields, compatible with the request or not.

        A field (requested or not) is INCOMPATIBLE when it conflicts with another field of
        the request, filters included (``compat``): for a request GA refuses, its
        conflicting fields are listed INCOMPATIBLE, and so is every field that could not be
        added. ``compatibility_filter`` keeps only the fields of that compatibility.
        """
        def body() -> ga.CheckCompatibilityResponse:
            prop = self._property_or_universal(request.property)
            dims = [d.name for d in request.dimensions]
            metrics = [m.name for m in request.metrics]
            dfilter = request.dimension_filter if "dimension_filter" in request else None
            mfilter = request.metric_filter if "metric_filter" in request else None
            dim_table, met_table = _fields_of(prop)
            check_fields(dims, dim_table, "dimension", "dimensions", False)
            check_fields(metrics, met_table, "metric", "metrics", False)
            if dfilter is not None:
                check_fields(sorted(set(filter_fields(dfilter))), dim_table, "dimension",
                             "dimensionFilter", False)
            if mfilter is not None:
                check_fields(sorted(set(filter_fields(mfilter))), met_table, "metric",
                             "metricFilter", False)
            fields = _request_fields(dims, metrics, dfilter, mfilter)
            wanted = request.compatibility_filter

            def verdict(spec: Dim | Met) -> ga.Compatibility | None:
                found = ga.Compatibility(
                    ga.Compatibility.INCOMPATIBLE if incompatible(fields, Field.of(spec))
                    else ga.Compatibility.COMPATIBLE)
                keep = wanted in (ga.Compatibility.COMPATIBILITY_UNSPECIFIED, found)
                return found if keep else None

            dim_verdicts = [(d, verdict(d)) for d in dim_table.values() if d.report]
            met_verdicts = [(m, verdict(m)) for m in met_table.values() if m.report]
            return ga.CheckCompatibilityResponse(
                dimension_compatibilities=[
                    ga.DimensionCompatibility(dimension_metadata=_dimension_metadata(d.name),
                                              compatibility=v)
                    for d, v in dim_verdicts if v is not None
                ],
                metric_compatibilities=[
                    ga.MetricCompatibility(metric_metadata=_metric_metadata(m.name),
                                           compatibility=v)
                    for m, v in met_verdicts if v is not None
                ],
            )

        return self._call("CheckCompatibility", context, body)

    def refuse(self, service: str, method: str, context: grpc.ServicerContext) -> None:
        """Answer a method the stand-in does not implement: UNIMPLEMENTED naming the feature."""
        with self._lock:
            self.calls[method] += 1
        context.abort(grpc.StatusCode.UNIMPLEMENTED, unimplemented_message(service, method))


# Method name fragments -> the feature a refusal names.
_FEATURES = [
    ("Funnel", "funnel reports are"), ("Pivot", "pivot reports are"),
    ("RecurringAudienceList", "recurring audience lists are"),
    ("AudienceList", "audience lists are"), ("AudienceExport", "audience exports are"),
    ("ReportTask", "report tasks are"), ("PropertyQuotasSnapshot", "property quota snapshots are"),
    ("Chat", "chat is"),
]


def unimplemented_message(service: str, method: str) -> str:
    """The message of an UNIMPLEMENTED answer, naming the feature."""
    feature = next((f for key, f in _FEATURES if key in method), None)
    if feature is None:
        version = service.split(".")[-2]
        feature = f"{method} of the {version} API is"
    return unimplemented(feature).message


def _fields_of(prop: StandinProperty | None) -> tuple[dict[str, Dim], dict[str, Met]]:
    """A property's dimensions and metrics (None: the universal ones)."""
    return fields_for(prop.profile.kind if prop is not None else None)


def _request_fields(dims: list[str], metrics: list[str],
                    dimension_filter: ga.FilterExpression | None,
                    metric_filter: ga.FilterExpression | None) -> list[Field]:
    """A request's fields for compatibility: filters count like the fields they name."""
    dim_names = dims + (filter_fields(dimension_filter) if dimension_filter else [])
    met_names = metrics + (filter_fields(metric_filter) if metric_filter else [])
    return request_fields([DIMENSIONS[n] for n in dim_names], [METRICS[n] for n in met_names])


def _dimension_metadata(name: str) -> ga.DimensionMetadata:
    d = DIMENSIONS[name]
    return ga.DimensionMetadata(api_name=d.name, ui_name=d.ui, category=d.category,
                                description=d.description or d.ui,
                                custom_definition=d.custom)


def _metric_metadata(name: str) -> ga.MetricMetadata:
    m = METRICS[name]
    return ga.MetricMetadata(api_name=m.name, ui_name=m.ui, category=m.category,
                             description=m.description or m.ui,
                             type_=getattr(ga.MetricType, m.type_),
                             expression=m.expression, custom_definition=m.custom)


def _handler(fn: Callable[..., Any], req: Any, resp: Any) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=req.deserialize, response_serializer=resp.serialize
    )


class _Services(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Routes the v1beta methods it implements; refuses every other method of the
    v1beta and v1alpha services with UNIMPLEMENTED naming the feature."""

    def __init__(self, servicer: StandinServicer):
        s = servicer
        self.servicer = servicer
        self.methods = {
            "RunReport": _handler(s.RunReport, ga.RunReportRequest, ga.RunReportResponse),
            "BatchRunReports": _handler(s.BatchRunReports, ga.BatchRunReportsRequest,
                                        ga.BatchRunReportsResponse),
            "RunRealtimeReport": _handler(s.RunRealtimeReport, ga.RunRealtimeReportRequest,
                                          ga.RunRealtimeReportResponse),
            "GetMetadata": _handler(s.GetMetadata, ga.GetMetadataRequest, ga.Metadata),
            "CheckCompatibility": _handler(s.CheckCompatibility, ga.CheckCompatibilityRequest,
                                           ga.CheckCompatibilityResponse),
        }

    def service(self, handler_call_details: grpc.HandlerCallDetails
                ) -> grpc.RpcMethodHandler | None:
        path = str(handler_call_details.method)  # "/package.Service/Method"
        service, _, method = path.lstrip("/").partition("/")
        if service == SERVICE and method in self.methods:
            return self.methods[method]
        if service not in (SERVICE, ALPHA_SERVICE):
            return None

        def refuse(request: bytes, context: grpc.ServicerContext) -> None:
            self.servicer.refuse(service, method, context)

        # Requests stay bytes: nothing of them is read.
        return grpc.unary_unary_rpc_method_handler(refuse)


class StandinServer:
    """The stand-in on a loopback port; use as a context manager or start()/stop()."""

    def __init__(self, properties: list[StandinProperty] | None = None, port: int = 0,
                 host: str = "127.0.0.1", limits: QuotaLimits | None = None):
        self.servicer = StandinServicer(properties or demo_properties(), limits)
        self._host = host
        self._port = port
        self._server: grpc.Server | None = None

    @property
    def endpoint(self) -> str:
        return f"{self._host}:{self._port}"

    def start(self) -> StandinServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers([_Services(self.servicer)])
        self._port = server.add_insecure_port(f"{self._host}:{self._port}")
        server.start()
        self._server = server
        return self

    def prepare(self, whole: bool = False) -> None:
        """Generate each property's recent days now (``whole``: each one's whole history),
        instead of when a request first needs them."""
        for prop in self.servicer.properties.values():
            today = local_now(prop.time_zone).date()
            if whole:
                prop.store.get(today)
            else:
                prop.store.recent(today)

    def stop(self, grace: float | None = None) -> None:
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None

    def wait(self) -> None:
        if self._server is not None:
            self._server.wait_for_termination()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

