"""The GA4 Data API through Google's ``google-analytics-data`` client.

Panels of one query go out in ``batchRunReports`` calls of at most five
reports; realtime panels use ``runRealtimeReport``. gRPC / google.api_core
errors are translated here into gadash's own (``gadash.errors``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pandas as pd
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta import types as ga
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcTransport,
)
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type
from google.auth import exceptions as auth_exc

from gadash.core.catalog import OTHER, Panel
from gadash.core.frames import GAField, PropertyFields, ReportFrame, ReportMeta
from gadash.core.query import (
    EXPLORE_PANEL,
    FILTER_FIELDS,
    RANGE_NAMES,
    Condition,
    DateRange,
    Exploration,
    FieldFilter,
    Filters,
    MetricFilter,
    ReportQuery,
)
from gadash.data.counters import counted_channel
from gadash.data.sources.base import DataSource
from gadash.errors import (
    CredentialsError,
    InvalidRequestError,
    PermissionDeniedError,
    QuotaExhaustedError,
    SourceError,
    SourceUnavailableError,
)
from gadash.settings import Settings

log = logging.getLogger(__name__)


BATCH_LIMIT = 5
_TRANSIENT = (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError)


def _and(conditions: list[ga.FilterExpression]) -> ga.FilterExpression | None:
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return ga.FilterExpression(and_group=ga.FilterExpressionList(expressions=conditions))


_MATCH_TYPES = {"contains": "CONTAINS", "regex": "PARTIAL_REGEXP"}


def _expression(field: str, cond: Condition) -> ga.FilterExpression:
    """One analyst condition as GA's filter: exact values as an in-list (any of them),
    text as CONTAINS or PARTIAL_REGEXP (any of them), negated when excluding."""
    if cond.match == "is":
        expr = ga.FilterExpression(filter=ga.Filter(
            field_name=field,
            in_list_filter=ga.Filter.InListFilter(values=list(cond.values),
                                                  case_sensitive=cond.case),
        ))
    else:
        match_type = getattr(ga.Filter.StringFilter.MatchType, _MATCH_TYPES[cond.match])
        each = [ga.FilterExpression(filter=ga.Filter(
            field_name=field,
            string_filter=ga.Filter.StringFilter(match_type=match_type, value=v,
                                                 case_sensitive=cond.case),
        )) for v in cond.values]
        expr = each[0] if len(each) == 1 else ga.FilterExpression(
            or_group=ga.FilterExpressionList(expressions=each))
    return ga.FilterExpression(not_expression=expr) if cond.exclude else expr


def _conditions(filters: Filters) -> list[ga.FilterExpression]:
    return [_expression(FILTER_FIELDS[name], cond) for name, cond in filters.active().items()]


def dimension_filter(filters: Filters, in_lists: dict[str, list[str]] | None = None,
                     where: Sequence[FieldFilter] = ()) -> ga.FilterExpression | None:
    """The analyst's filters as one GA ``dimensionFilter`` (AND of conditions), with
    conditions on any dimension (``where``) and in-list conditions (field -> exact
    values)."""
    conditions = _conditions(filters) + [_expression(f.field, f.condition) for f in where]
    for field, values in (in_lists or {}).items():
        conditions.append(ga.FilterExpression(filter=ga.Filter(
            field_name=field,
            in_list_filter=ga.Filter.InListFilter(values=values, case_sensitive=True),
        )))
    return _and(conditions)


def cutoff_filter(ranges: Sequence[DateRange], hour: int) -> ga.FilterExpression:
    """Like for like: on each range's last day only the hours before ``hour`` count
    (GA's ``date`` and ``hour`` dimensions, in the property's time zone)."""
    last_days = ga.FilterExpression(filter=ga.Filter(
        field_name="date", in_list_filter=ga.Filter.InListFilter(
            values=sorted({r.end.strftime("%Y%m%d") for r in ranges}))))
    other_days = ga.FilterExpression(not_expression=last_days)
    if hour == 0:
        return other_days
    hours = ga.FilterExpression(filter=ga.Filter(
        field_name="hour", in_list_filter=ga.Filter.InListFilter(
            values=[f"{h:02d}" for h in range(hour)])))
    return ga.FilterExpression(or_group=ga.FilterExpressionList(
        expressions=[other_days, hours]))


_NUMERIC_OPS = {"gt": "GREATER_THAN", "ge": "GREATER_THAN_OR_EQUAL", "lt": "LESS_THAN",
                "le": "LESS_THAN_OR_EQUAL", "eq": "EQUAL"}


def metric_filter(having: Sequence[MetricFilter]) -> ga.FilterExpression | None:
    """Conditions on metric values as one GA ``metricFilter`` (AND)."""
    return _and([ga.FilterExpression(filter=ga.Filter(
        field_name=f.metric,
        numeric_filter=ga.Filter.NumericFilter(
            operation=getattr(ga.Filter.NumericFilter.Operation, _NUMERIC_OPS[f.op]),
            value=ga.NumericValue(double_value=f.value)),
    )) for f in having])


def _order_bys(panel: Panel) -> list[ga.OrderBy]:
    out = []
    for o in panel.order:
        if o.metric:
            out.append(ga.OrderBy(metric=ga.OrderBy.MetricOrderBy(metric_name=o.field),
                                  desc=o.desc))
        else:
            out.append(ga.OrderBy(dimension=ga.OrderBy.DimensionOrderBy(dimension_name=o.field),
                                  desc=o.desc))
    return out


def build_request(panel: Panel, ranges: Sequence[DateRange], filters: Filters,
                  omit: frozenset[str] = frozenset(), names: Sequence[str] = RANGE_NAMES,
                  in_lists: dict[str, list[str]] | None = None, offset: int = 0,
                  where: Sequence[FieldFilter] = (), having: Sequence[MetricFilter] = (),
                  cutoff: int | None = None) -> ga.RunReportRequest:
    """The RunReportRequest for one panel (property left to the batch); ``cutoff``: the
    like-for-like hour of ``cutoff_filter``."""
    request = ga.RunReportRequest(
        dimensions=[ga.Dimension(name=d) for d in panel.dimensions if d not in omit],
        metrics=[ga.Metric(name=m) for m in panel.metrics if m not in omit],
        date_ranges=[
            ga.DateRange(start_date=r.start.isoformat(), end_date=r.end.isoformat(), name=name)
            for r, name in zip(ranges, names, strict=False)
        ],
        order_bys=[o for o in _order_bys(panel) if _order_field(o) not in omit],
        limit=panel.limit,
        offset=offset,
        return_property_quota=True,
    )
    if panel.totals:
        request.metric_aggregations = [ga.MetricAggregation.TOTAL]  # type: ignore[list-item]
    expr = dimension_filter(filters, in_lists, where)
    if cutoff is not None:
        cut = cutoff_filter(ranges, cutoff)
        expr = cut if expr is None else _and([expr, cut])
    if expr is not None:
        request.dimension_filter = expr
    metric_expr = metric_filter(having)
    if metric_expr is not None:
        request.metric_filter = metric_expr
    return request


def _order_field(order: ga.OrderBy) -> str:
    return str(order.metric.metric_name or order.dimension.dimension_name)


def build_realtime_request(property_id: str, panel: Panel, filters: Filters
                           ) -> ga.RunRealtimeReportRequest:
    request = ga.RunRealtimeReportRequest(
        property=property_id,
        dimensions=[ga.Dimension(name=d) for d in panel.dimensions],
        metrics=[ga.Metric(name=m) for m in panel.metrics],
        order_bys=_order_bys(panel),
        limit=panel.limit,
        return_property_quota=True,
    )
    if panel.totals:
        request.metric_aggregations = [ga.MetricAggregation.TOTAL]  # type: ignore[list-item]
    # Realtime reports know few dimensions; only country and device filters apply.
    realtime_filters = Filters(country=filters.country, device=filters.device)
    expr = dimension_filter(realtime_filters)
    if expr is not None:
        request.dimension_filter = expr
    return request


# GA's time dimensions as timestamps: a week is its Monday, a month its first day.
_DATE_FORMATS = {"date": "%Y%m%d", "dateHour": "%Y%m%d%H", "isoYearIsoWeek": "%G%V%u",
                 "yearMonth": "%Y%m"}
_DATE_SUFFIX = {"isoYearIsoWeek": "1"}


def _typed_column(name: str, values: list[str], metric_type: int | None) -> pd.Series:
    if metric_type is not None:
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        if metric_type == ga.MetricType.TYPE_INTEGER:
            return numbers.fillna(0).astype("int64")
        return numbers.astype("float64")
    if name in _DATE_FORMATS:
        suffix = _DATE_SUFFIX.get(name, "")
        return pd.to_datetime(pd.Series([v + suffix for v in values], dtype=object),
                              format=_DATE_FORMATS[name], errors="coerce")
    if name == "minutesAgo":
        return pd.to_numeric(pd.Series(values, dtype=object)).astype("int64")
    return pd.Series(values, dtype="string")


def _rows_frame(dim_names: list[str], metric_headers: list[tuple[str, int]],
                rows: Any, typed_dims: bool = True) -> pd.DataFrame:
    dims: list[list[str]] = [[] for _ in dim_names]
    mets: list[list[str]] = [[] for _ in metric_headers]
    for row in rows:
        for i, dv in enumerate(row.dimension_values):
            dims[i].append(dv.value)
        for i, mv in enumerate(row.metric_values):
            mets[i].append(mv.value)
    data = {
        name: _typed_column(name if typed_dims else "", dims[i], None)
        for i, name in enumerate(dim_names)
    }
    for i, (name, mtype) in enumerate(metric_headers):
        data[name] = _typed_column(name, mets[i], mtype)
    return pd.DataFrame(data, columns=[*dim_names, *(m for m, _ in metric_headers)])


def _quota(pb: Any) -> dict[str, tuple[int, int]]:
    quota = {}
    if pb.HasField("property_quota"):
        for name in ("tokens_per_day", "tokens_per_hour", "concurrent_requests",
                     "tokens_per_project_per_hour"):
            status = getattr(pb.property_quota, name)
            quota[name] = (int(status.consumed), int(status.remaining))
    return quota


def sampling(samples: Sequence[Any], range_names: Sequence[str]
             ) -> tuple[tuple[str, float], ...]:
    """GA's samplingMetadatas (one per date range, in request order) as
    (range name, percent of events read) for each sampled range."""
    out = []
    for name, sample in zip(range_names, samples, strict=False):
        if sample.sampling_space_size and sample.samples_read_count < sample.sampling_space_size:
            out.append((name, 100.0 * sample.samples_read_count / sample.sampling_space_size))
    return tuple(out)


def to_report_frame(panel: Panel, property_id: str,
                    response: ga.RunReportResponse | ga.RunRealtimeReportResponse,
                    fetched_at: datetime, range_names: Sequence[str] = RANGE_NAMES
                    ) -> ReportFrame:
    """A GA response as typed frames; the dateRange column is always present."""
    pb = type(response).pb(response)
    dim_names = [h.name for h in pb.dimension_headers]
    metric_headers = [(h.name, int(h.type_)) for h in pb.metric_headers]
    rows = _rows_frame(dim_names, metric_headers, pb.rows)
    # Totals rows carry RESERVED_TOTAL for each dimension but dateRange.
    totals = _rows_frame(dim_names, metric_headers, pb.totals, typed_dims=False)
    for frame in (rows, totals):
        if "dateRange" not in frame.columns:
            frame["dateRange"] = pd.Series([range_names[0]] * len(frame), dtype="string")
    totals = totals.drop(columns=[d for d in dim_names if d != "dateRange"])
    meta_kwargs: dict[str, Any] = {}
    if "metadata" in pb.DESCRIPTOR.fields_by_name and pb.HasField("metadata"):
        md = pb.metadata
        meta_kwargs = {
            "time_zone": md.time_zone,
            "currency": md.currency_code,
            "sampling": sampling(md.sampling_metadatas, range_names),
            "thresholded": md.subject_to_thresholding,
            "other_row": md.data_loss_from_other_row,
        }
    meta = ReportMeta(property_id=property_id, row_count=int(pb.row_count), quota=_quota(pb),
                      fetched_at=fetched_at, **meta_kwargs)
    return ReportFrame(panel.id, rows, totals, meta)


def _custom(api_name: str, flag: bool) -> bool:
    return flag or api_name.startswith(("customEvent:", "customUser:", "customItem:"))


def _dimension_field(d: Any) -> GAField:
    return GAField(d.api_name, d.ui_name or d.api_name, "dimension",
                   d.category or "Other", _custom(d.api_name, d.custom_definition),
                   description=d.description)


def _metric_field(m: Any) -> GAField:
    return GAField(m.api_name, m.ui_name or m.api_name, "metric", m.category or "Other",
                   _custom(m.api_name, m.custom_definition), ga.MetricType(m.type_).name,
                   m.description)


# ----------------------------------------------------------------- errors

def _next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _next_pacific_midnight(now: datetime) -> datetime:
    pacific = now.astimezone(ZoneInfo("America/Los_Angeles"))
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def translate(exc: Exception, property_id: str, account: str) -> SourceError:
    """A google.api_core / google.auth exception as gadash's error, with advice."""
    now = datetime.now(UTC)
    text = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, gexc.PermissionDenied):
        return PermissionDeniedError(
            f"{account} cannot read GA4 {property_id}. In Google Analytics open Admin → "
            f"Property access management and add {account} as a Viewer, or check the "
            f"property id. (GA said: {text})"
        )
    if isinstance(exc, gexc.Unauthenticated):
        return PermissionDeniedError(
            f"Google rejected the credentials of {account}: {text}. Check "
            "GADASH_CREDENTIALS_FILE or the application default credentials."
        )
    if isinstance(exc, gexc.ResourceExhausted):
        lowered = text.lower()
        if "per hour" in lowered:
            quota, resets = "property tokens per hour", _next_hour(now)
        elif "per day" in lowered:
            quota, resets = "property tokens per day", _next_pacific_midnight(now)
        elif "concurrent" in lowered:
            quota, resets = "concurrent requests", now + timedelta(seconds=10)
        else:
            quota, resets = "a GA quota", _next_hour(now)
        return QuotaExhaustedError(
            f"GA4 quota exhausted for {property_id}: {quota}. It resets at "
            f"{resets:%H:%M} UTC; until then the dashboard shows the last data it had.",
            quota=quota, resets_at=resets,
        )
    if isinstance(exc, gexc.InvalidArgument):
        field = ""
        for detail in getattr(exc, "details", None) or []:
            for violation in getattr(detail, "field_violations", []):
                field = violation.field
                break
        where = f" (field {field})" if field else ""
        return InvalidRequestError(f"GA rejected the request{where}: {text}", field=field)
    if isinstance(exc, (*_TRANSIENT, gexc.RetryError)):
        cause = exc.cause if isinstance(exc, gexc.RetryError) and exc.cause else exc
        return SourceUnavailableError(
            f"Google Analytics did not answer ({type(cause).__name__}: "
            f"{getattr(cause, 'message', cause)}). gadash retried with backoff and will try "
            "again at the next refresh."
        )
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return CredentialsError(
            "No Google credentials found. Set GADASH_CREDENTIALS_FILE (or "
            "GOOGLE_APPLICATION_CREDENTIALS) to a service-account JSON key file."
        )
    if isinstance(exc, auth_exc.RefreshError):
        return CredentialsError(
            f"Google refused to give {account or 'the configured account'} a token "
            f"({text[:200]}): the key may be deleted or disabled. Make a new JSON key "
            "for the service account and point GADASH_CREDENTIALS_FILE at it.")
    return SourceError(f"Google Analytics answered with an error: {text}")


def credentials_error(exc: Exception, settings: Settings) -> CredentialsError:
    """Why the GA client could not be made, and what to do about it."""
    path = settings.credentials_file
    if path is None and isinstance(exc, auth_exc.DefaultCredentialsError) \
            and not isinstance(exc, auth_exc.MalformedError):
        return CredentialsError(
            "No Google credentials found. Set GADASH_CREDENTIALS_FILE (or "
            "GOOGLE_APPLICATION_CREDENTIALS) to a service-account JSON key file.")
    where = f"The key file {path}" if path else "The application default credentials"
    if isinstance(exc, FileNotFoundError):
        reason = "does not exist"
    elif isinstance(exc, PermissionError):
        reason = "cannot be read by this process (file permissions)"
    elif isinstance(exc, OSError):
        reason = f"cannot be read ({exc.strerror or exc})"
    elif isinstance(exc, json.JSONDecodeError):
        reason = "is not JSON"
    else:
        reason = f"is not a usable service-account key ({str(exc)[:200]})"
    return CredentialsError(
        f"{where} {reason}. In Google Cloud open IAM → Service accounts → Keys, add a "
        "JSON key, and point GADASH_CREDENTIALS_FILE at the downloaded file.")


BATCH_ROWS = 10_000


def shown_rows(frame: ReportFrame, panel: Panel) -> pd.DataFrame:
    """The rows a top-N table shows: the first ``panel.shown`` of the current period."""
    rows = frame.rows[frame.rows["dateRange"] == "current"]
    return rows.head(panel.shown) if panel.shown else rows


@dataclass(frozen=True)
class _Ask:
    """One report to send: its panel, the request, and its date ranges' names."""

    panel: Panel
    request: ga.RunReportRequest
    names: tuple[str, ...]
    make_page: Callable[[int, int], ga.RunReportRequest]

    @classmethod
    def make(cls, query: ReportQuery, panel: Panel, ranges: Sequence[DateRange],
             names: Sequence[str] = RANGE_NAMES,
             in_lists: dict[str, list[str]] | None = None, choose: bool = True) -> _Ask:
        explore = query.explore if panel.id == EXPLORE_PANEL else None
        where = explore.where if explore else ()
        # The metric conditions choose the rows; the comparison period is asked for
        # exactly those rows (in-lists, or ``choose=False``), whatever their values were.
        having = explore.having if explore and choose and not in_lists else ()

        def page(offset: int, limit: int) -> ga.RunReportRequest:
            request = build_request(panel, ranges, query.filters, query.omit, names, in_lists,
                                    offset, where, having, query.cutoff)
            request.limit = limit
            return request

        return cls(panel, page(0, panel.limit), tuple(names[: len(ranges)]), page)

    def page(self, offset: int, limit: int) -> _Ask:
        """The same report from ``offset``, at most ``limit`` rows."""
        return replace(self, request=self.make_page(offset, limit))


def _with_previous(current: ReportFrame, previous: ReportFrame, panel: Panel
                   ) -> ReportFrame | None:
    """A top-N answer joined with the comparison period's values of its shown rows,
    or None when that period's page missed some of them (GA has more rows)."""
    keys = list(panel.keys)
    shown = shown_rows(current, panel)[keys].drop_duplicates()
    shown = shown[~shown.isin([OTHER]).any(axis=1)]
    wanted = shown.merge(previous.rows, on=keys).drop_duplicates(keys)
    if len(wanted) < len(shown) and previous.meta.row_count > len(previous.rows):
        return None
    return current.joined(replace(previous, rows=wanted[list(previous.rows.columns)]
                                  .reset_index(drop=True)))


class GA4Source(DataSource):
    """The GA4 Data API (v1beta)."""

    name = "ga4"
    supports_realtime = True
    max_reports_per_call = BATCH_LIMIT

    def __init__(self, settings: Settings):
        self._settings = settings
        self._client: BetaAnalyticsDataClient | None = None
        self._client_error = ""
        self._lock = threading.Lock()
        self._retry = Retry(
            predicate=if_exception_type(*_TRANSIENT),
            initial=0.25, maximum=4.0, multiplier=2.0, timeout=settings.ga_timeout,
        )

    # The client is created on first use, after gunicorn forks its workers:
    # a gRPC channel does not survive a fork.
    @property
    def client(self) -> BetaAnalyticsDataClient:
        """Raises CredentialsError when the credentials cannot be used (tried again at
        the next call, so a fixed key file needs no restart)."""
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._make_client()
                except (auth_exc.GoogleAuthError, ValueError, OSError) as exc:
                    err = credentials_error(exc, self._settings)
                    if err.message != self._client_error:  # once, not at every panel
                        log.error("GA client not made: %s", err)
                        self._client_error = err.message
                    raise err from exc
            return self._client

    def _make_client(self) -> BetaAnalyticsDataClient:
        # GA calls are counted on the gRPC channel (gadash.data.counters), not in _rpc:
        # google's Retry inside the client method may send one call several times,
        # and the channel sees each attempt as GA receives it.
        s = self._settings
        if s.ga_endpoint:
            channel = counted_channel(grpc.insecure_channel(s.ga_endpoint))
            return BetaAnalyticsDataClient(
                transport=BetaAnalyticsDataGrpcTransport(channel=channel))

        def make_channel(*args: Any, **kwargs: Any) -> grpc.Channel:
            # Google's own secure channel (credentials, scopes, TLS), then counted.
            return counted_channel(BetaAnalyticsDataGrpcTransport.create_channel(
                *args, **kwargs))

        def transport(**kwargs: Any) -> BetaAnalyticsDataGrpcTransport:
            return BetaAnalyticsDataGrpcTransport(channel=make_channel, **kwargs)

        if s.credentials_file:
            return BetaAnalyticsDataClient.from_service_account_file(
                str(s.credentials_file), transport=transport)
        return BetaAnalyticsDataClient(transport=transport)

    @property
    def account(self) -> str:
        """Who GA sees: the service account's email where known."""
        if self._settings.ga_endpoint:
            return f"the anonymous client of {self._settings.ga_endpoint}"
        creds = getattr(self.client.transport, "_credentials", None)
        email = getattr(creds, "service_account_email", None)
        return f"The service account {email}" if email else "The configured Google account"

    @contextmanager
    def _translated(self, property_id: str) -> Iterator[None]:
        try:
            yield
        except (gexc.GoogleAPIError, auth_exc.GoogleAuthError) as exc:
            err = translate(exc, property_id, self.account)
            log.warning("GA call for %s failed: %s", property_id, err)
            raise err from exc

    def _rpc(self, fn: Callable[..., Any], request: Any, property_id: str) -> Any:
        with self._translated(property_id):
            return fn(request=request, retry=self._retry, timeout=self._settings.ga_timeout)

    def _send(self, property_id: str, asks: list[_Ask]) -> list[ReportFrame]:
        """Answer reports in batchRunReports calls of at most five, sent together."""
        chunks = [asks[i : i + BATCH_LIMIT] for i in range(0, len(asks), BATCH_LIMIT)]

        def one(chunk: list[_Ask]) -> list[ReportFrame]:
            request = ga.BatchRunReportsRequest(property=property_id,
                                                requests=[a.request for a in chunk])
            response = self._rpc(self.client.batch_run_reports, request, property_id)
            fetched = datetime.now(UTC)
            return [to_report_frame(a.panel, property_id, report, fetched, a.names)
                    for a, report in zip(chunk, response.reports, strict=True)]

        if len(chunks) == 1:
            return one(chunks[0])
        # Several batches go out together: the view waits for one round trip.
        with ThreadPoolExecutor(max_workers=min(len(chunks), 4)) as pool:
            return [frame for part in pool.map(one, chunks) for frame in part]

    def _answer(self, property_id: str, asks: list[_Ask]) -> list[ReportFrame]:
        """Send reports, then page every answer whose rowCount exceeds what came
        back (by offset) up to its panel's cap; all further pages in one round."""
        frames = self._send(property_id, asks)
        pages: list[tuple[int, _Ask]] = []
        for i, (ask, frame) in enumerate(zip(asks, frames, strict=True)):
            stop = min(frame.meta.row_count, ask.panel.max_rows)
            pages += [(i, ask.page(offset, min(ask.panel.limit, stop - offset)))
                      for offset in range(len(frame.rows), stop, ask.panel.limit)]
        if pages:
            more = self._send(property_id, [ask for _, ask in pages])
            for (i, _), page in zip(pages, more, strict=True):
                frames[i] = frames[i].joined(replace(page, totals=page.totals.iloc[0:0]))
        # Capped: the panel pages, and GA had more than its cap (a top-N table
        # without a cap is simply its top N).
        return [replace(f, meta=replace(f.meta, capped=bool(a.panel.cap)
                                        and f.meta.row_count > len(f.rows)))
                for a, f in zip(asks, frames, strict=True)]

    def fetch(self, query: ReportQuery) -> dict[str, ReportFrame]:
        panels = [query.panel(p) for p in query.panels]
        comparing = len(query.ranges) > 1 and query.compare_tables
        # An exploration asks each period on its own (its metric conditions choose this
        # period's rows; a series' cap counts per period), both in the same batch call.
        whole_days = replace(query, cutoff=None, spans=()) if query.spans else query
        first = [
            _Ask.make(whole_days, p, (span,)) if (span := query.range_of(p.id)) else
            _Ask.make(query, p, query.ranges[:1] if ((p.keys or p.id == EXPLORE_PANEL)
                                                     and comparing) or p.current_only
                      else query.ranges)
            for p in panels if not p.realtime and not p.after
        ]
        # An exploration's comparison period rides in the same batch call: every row of
        # that period (up to a page), matched to the rows shown; a second call only
        # for rows that page did not hold.
        explore = query.panel(EXPLORE_PANEL) if query.explore is not None else None
        before = [] if not comparing or explore is None else [_Ask.make(
            query, replace(explore, limit=BATCH_ROWS, cap=0, shown=0) if explore.keys
            else explore, query.ranges[1:2], names=("previous",), choose=False)]
        out: dict[str, ReportFrame] = {}
        done: set[str] = set()
        if first:
            answers = self._answer(query.property_id, first + before)
            out.update(zip((a.panel.id for a in first), answers, strict=False))
            if before and EXPLORE_PANEL in out:
                joined = _with_previous(out[EXPLORE_PANEL], answers[-1], query.panel(
                    EXPLORE_PANEL)) if explore is not None and explore.keys else \
                    out[EXPLORE_PANEL].joined(answers[-1])
                if joined is not None:
                    out[EXPLORE_PANEL] = joined
                    done.add(EXPLORE_PANEL)
        if comparing:
            out.update(self._compare_tables(query, [p for p in panels if p.id not in done],
                                            out))
        for panel in (p for p in panels if p.realtime):
            request = build_realtime_request(query.property_id, panel, query.filters)
            response = self._rpc(self.client.run_realtime_report, request, query.property_id)
            out[panel.id] = to_report_frame(panel, query.property_id, response,
                                            datetime.now(UTC))
        return {p.id: out[p.id] for p in panels if p.id in out}

    def _compare_tables(self, query: ReportQuery, panels: list[Panel],
                        out: dict[str, ReportFrame]) -> dict[str, ReportFrame]:
        """The comparison period for exactly the rows each top-N table shows: one
        more batch call, an in-list filter per key dimension, one report per table."""
        asks, shown = [], {}
        for panel in (p for p in panels if p.keys and not p.realtime):
            base = out.get(panel.after or panel.id)
            if base is None:
                continue
            rows = base.rows if panel.after else shown_rows(base, panel)
            keys = rows[list(panel.keys)].drop_duplicates()
            keys = keys[~keys.isin([OTHER]).any(axis=1)]
            if keys.empty:
                continue
            shown[panel.id] = keys
            in_lists = {k: sorted(keys[k].astype(str).unique()) for k in panel.keys}
            # In-lists select a superset (every combination); enough room for it.
            room = replace(panel, limit=min(BATCH_ROWS, max(panel.limit, 4 * len(keys))),
                           cap=10 * BATCH_ROWS)
            asks.append(_Ask.make(query, room, query.ranges[1:2], names=("previous",),
                                  in_lists=in_lists))
        if not asks:
            return {}
        answers = self._answer(query.property_id, asks)
        merged = {}
        for ask, answer in zip(asks, answers, strict=True):
            panel = query.panel(ask.panel.id)
            wanted = shown[panel.id].merge(answer.rows, on=list(panel.keys))
            previous = replace(answer, rows=wanted.drop_duplicates(list(panel.keys))[
                list(answer.rows.columns)].reset_index(drop=True))
            current = out.get(panel.id)
            merged[panel.id] = previous if current is None else current.joined(previous)
        return merged

    def time_zone(self, property_id: str) -> str:
        request = ga.RunReportRequest(
            property=property_id, metrics=[ga.Metric(name="sessions")],
            date_ranges=[ga.DateRange(start_date="today", end_date="today")], limit=1,
        )
        response = self._rpc(self.client.run_report, request, property_id)
        return str(response.metadata.time_zone) or "UTC"

    def fields(self, property_id: str) -> PropertyFields:
        request = ga.GetMetadataRequest(name=f"{property_id}/metadata")
        metadata = self._rpc(self.client.get_metadata, request, property_id)
        return PropertyFields(
            tuple(_dimension_field(d) for d in metadata.dimensions),
            tuple(_metric_field(m) for m in metadata.metrics))

    def incompatible(self, property_id: str, exploration: Exploration) -> list[str]:
        request = ga.CheckCompatibilityRequest(
            property=property_id,
            dimensions=[ga.Dimension(name=d) for d in exploration.all_dimensions],
            metrics=[ga.Metric(name=m) for m in exploration.all_metrics],
            compatibility_filter=ga.Compatibility.INCOMPATIBLE,
        )
        expr = dimension_filter(Filters(), where=exploration.where)
        if expr is not None:
            request.dimension_filter = expr
        metric_expr = metric_filter(exploration.having)
        if metric_expr is not None:
            request.metric_filter = metric_expr
        response = self._rpc(self.client.check_compatibility, request, property_id)
        chosen = set(exploration.fields)
        found = [(c.dimension_metadata.api_name, c.dimension_metadata.ui_name, "dimension",
                  c.compatibility) for c in response.dimension_compatibilities] + [
                 (c.metric_metadata.api_name, c.metric_metadata.ui_name, "metric",
                  c.compatibility) for c in response.metric_compatibilities]
        return [f"GA: the {kind} {ui or name} ({name}) is incompatible with the other "
                "fields chosen; choose another or remove it."
                for name, ui, kind, compatibility in found
                if name in chosen and compatibility == ga.Compatibility.INCOMPATIBLE]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.transport.close()
                self._client = None
