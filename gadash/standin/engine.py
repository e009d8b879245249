"""Answer GA4 Data API report requests from synthetic traffic, with GA's meaning.

Session-scoped metrics (sessions, users, durations, rates) are computed from
the distinct sessions behind each row; when a request uses a page-level field
(``pagePath``, ``pageTitle``) rows are page views and a session counts in every
row it viewed, as in GA. Dates are the session's start date in the property's
time zone. Requests are proto-plus messages from ``google.analytics.data_v1beta``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from google.analytics.data_v1beta import types as ga

from gadash.standin.traffic import BROWSERS, COUNTRIES, DEVICES, PAGES, SOURCES, Traffic

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MAX_ROWS = 250_000
SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"


class ReportError(Exception):
    """A request GA would refuse: carries the gRPC status name and the field."""

    def __init__(self, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def invalid(message: str, field: str = "") -> ReportError:
    return ReportError("INVALID_ARGUMENT", message, field)


@dataclass(frozen=True)
class Rows:
    """The rows of one date range: contiguous slices of sessions and page views."""

    traffic: Traffic
    s0: int
    s1: int
    e0: int
    e1: int
    events: bool  # rows are page views rather than sessions
    now: int  # local seconds, for minutesAgo
    base: np.ndarray | None = None  # rows of the slice that belong to the window

    def session_index(self) -> np.ndarray:
        if self.events:
            return self.traffic.e_session[self.e0 : self.e1]
        return np.arange(self.s0, self.s1)

    def col(self, name: str) -> np.ndarray:
        """A session column broadcast to the rows (or an event column)."""
        t = self.traffic
        if name.startswith("e_"):
            return getattr(t, name)[self.e0 : self.e1]
        arr = getattr(t, name)
        if self.events:
            return arr[t.e_session[self.e0 : self.e1]]
        return arr[self.s0 : self.s1]


def _fmt_day(code: int) -> str:
    return date.fromordinal(code).strftime("%Y%m%d")


@dataclass(frozen=True)
class Dim:
    """A dimension: how to get integer codes for rows, and each code's label."""

    name: str
    ui: str
    category: str
    codes: Callable[[Rows], np.ndarray]
    label: Callable[[int], str]
    event_scope: bool = False
    realtime: bool = False
    report: bool = True
    numeric: bool = False


def _table(values: Sequence[str]) -> Callable[[int], str]:
    return lambda code: values[code]


def _year_month(code: int) -> str:
    return str(code)


DIMENSIONS: dict[str, Dim] = {
    d.name: d
    for d in [
        Dim("date", "Date", "Time", lambda r: r.col("s_day"), _fmt_day, numeric=True),
        Dim(
            "dateHour", "Date + hour (YYYYMMDDHH)", "Time",
            lambda r: r.col("s_start") // 3600,
            lambda c: _fmt_day(c // 24) + f"{c % 24:02d}", numeric=True,
        ),
        Dim("hour", "Hour", "Time", lambda r: (r.col("s_start") % 86400) // 3600,
            lambda c: f"{c:02d}", numeric=True),
        Dim("dayOfWeek", "Day of week", "Time", lambda r: (r.col("s_day") % 7),
            str, numeric=True),
        Dim("dayOfWeekName", "Day of week name", "Time", lambda r: (r.col("s_day") % 7),
            _table(DAY_NAMES)),
        Dim(
            "yearMonth", "Year month", "Time",
            lambda r: _ym_codes(r.col("s_day")), _year_month, numeric=True,
        ),
        Dim("sessionSource", "Session source", "Traffic source",
            lambda r: r.col("s_source"), _table([s[0] for s in SOURCES])),
        Dim("sessionMedium", "Session medium", "Traffic source",
            lambda r: r.col("s_source"), _table([s[1] for s in SOURCES])),
        Dim("sessionSourceMedium", "Session source / medium", "Traffic source",
            lambda r: r.col("s_source"), _table([f"{s[0]} / {s[1]}" for s in SOURCES])),
        Dim("sessionDefaultChannelGroup", "Session default channel group", "Traffic source",
            lambda r: r.col("s_source"), _table([s[2] for s in SOURCES])),
        Dim("country", "Country", "Geography", lambda r: r.col("s_country"),
            _table([c[0] for c in COUNTRIES]), realtime=True),
        Dim("countryId", "Country ID", "Geography", lambda r: r.col("s_country"),
            _table([c[1] for c in COUNTRIES])),
        Dim("deviceCategory", "Device category", "Platform / device",
            lambda r: r.col("s_device"), _table([d[0] for d in DEVICES]), realtime=True),
        Dim("browser", "Browser", "Platform / device", lambda r: r.col("s_browser"),
            _table([b[0] for b in BROWSERS])),
        Dim("platform", "Platform", "Platform / device", lambda r: np.zeros(_len(r), np.int64),
            lambda c: "web", realtime=True),
        Dim("newVsReturning", "New / returning", "User",
            lambda r: (~r.col("s_new")).astype(np.int64),
            _table(["new", "returning"])),
        Dim("landingPage", "Landing page", "Page / screen", lambda r: r.col("s_landing"),
            _table([p[0] for p in PAGES])),
        Dim("pagePath", "Page path", "Page / screen", lambda r: r.col("e_page"),
            _table([p[0] for p in PAGES]), event_scope=True),
        Dim("pageTitle", "Page title", "Page / screen", lambda r: r.col("e_page"),
            _table([p[1] for p in PAGES]), event_scope=True),
        Dim("unifiedScreenName", "Page title and screen name", "Page / screen",
            lambda r: r.col("e_page"), _table([p[1] for p in PAGES]),
            event_scope=True, realtime=True),
        Dim("minutesAgo", "Minutes ago", "Time", lambda r: (r.now - r.col("e_time")) // 60,
            lambda c: f"{c:02d}", event_scope=True, realtime=True, report=False, numeric=True),
    ]
}


def _no_codes(r: Rows) -> np.ndarray:
    return np.zeros(0, np.int64)


def _len(r: Rows) -> int:
    return (r.e1 - r.e0) if r.events else (r.s1 - r.s0)


def _ym_codes(days: np.ndarray) -> np.ndarray:
    # Few distinct days: convert those, then map back.
    uniq, inverse = np.unique(days, return_inverse=True)
    ym = np.array([(lambda d: d.year * 100 + d.month)(date.fromordinal(int(u))) for u in uniq])
    return ym[inverse] if uniq.size else np.zeros(0, np.int64)


@dataclass(frozen=True)
class Met:
    name: str
    ui: str
    type_: str
    category: str
    realtime: bool = False
    report: bool = True


METRICS: dict[str, Met] = {
    m.name: m
    for m in [
        Met("sessions", "Sessions", "TYPE_INTEGER", "Session"),
        Met("engagedSessions", "Engaged sessions", "TYPE_INTEGER", "Session"),
        Met("totalUsers", "Total users", "TYPE_INTEGER", "User"),
        Met("activeUsers", "Active users", "TYPE_INTEGER", "User", realtime=True),
        Met("newUsers", "New users", "TYPE_INTEGER", "User"),
        Met("screenPageViews", "Views", "TYPE_INTEGER", "Page / screen", realtime=True),
        Met("eventCount", "Event count", "TYPE_INTEGER", "Event", realtime=True),
        Met("averageSessionDuration", "Average session duration", "TYPE_SECONDS", "Session"),
        Met("userEngagementDuration", "User engagement", "TYPE_SECONDS", "User"),
        Met("bounceRate", "Bounce rate", "TYPE_FLOAT", "Session"),
        Met("engagementRate", "Engagement rate", "TYPE_FLOAT", "Session"),
        Met("screenPageViewsPerSession", "Views per session", "TYPE_FLOAT", "Page / screen"),
        Met("screenPageViewsPerUser", "Views per user", "TYPE_FLOAT", "Page / screen"),
        Met("sessionsPerUser", "Sessions per user", "TYPE_FLOAT", "Session"),
    ]
}
INTEGER_METRICS = {m.name for m in METRICS.values() if m.type_ == "TYPE_INTEGER"}
_USER_METRICS = {"totalUsers", "sessionsPerUser", "screenPageViewsPerUser"}


# ---------------------------------------------------------------- filters

Labels = Callable[[str], tuple[pd.Series, np.ndarray]]
"""field -> (its distinct labels, each row's index into them)"""


def _string_mask(labels: pd.Series, f: ga.Filter.StringFilter, field: str) -> np.ndarray:
    mt = ga.Filter.StringFilter.MatchType
    value = f.value
    s = labels if f.case_sensitive else labels.str.lower()
    v = value if f.case_sensitive else value.lower()
    match f.match_type:
        case mt.EXACT | mt.MATCH_TYPE_UNSPECIFIED:
            return (s == v).to_numpy(dtype=bool)
        case mt.BEGINS_WITH:
            return s.str.startswith(v).to_numpy(dtype=bool)
        case mt.ENDS_WITH:
            return s.str.endswith(v).to_numpy(dtype=bool)
        case mt.CONTAINS:
            return s.str.contains(v, regex=False).to_numpy(dtype=bool)
        case mt.FULL_REGEXP | mt.PARTIAL_REGEXP:
            try:
                pattern = re.compile(value, 0 if f.case_sensitive else re.IGNORECASE)
            except re.error as exc:
                raise invalid(f"Invalid regular expression for {field}: {exc}", field) from None
            fn = pattern.fullmatch if f.match_type == mt.FULL_REGEXP else pattern.search
            return np.array([fn(x) is not None for x in labels], dtype=bool)
    raise invalid(f"Unsupported match type for {field}", field)


def _numeric_value(v: ga.NumericValue) -> float:
    return float(v.double_value if "double_value" in v else v.int64_value)


def _numeric_mask(values: np.ndarray, f: ga.Filter.NumericFilter) -> np.ndarray:
    op = ga.Filter.NumericFilter.Operation
    x = _numeric_value(f.value)
    ops = {
        op.EQUAL: np.equal, op.LESS_THAN: np.less, op.LESS_THAN_OR_EQUAL: np.less_equal,
        op.GREATER_THAN: np.greater, op.GREATER_THAN_OR_EQUAL: np.greater_equal,
    }
    if f.operation not in ops:
        raise invalid("numericFilter needs an operation")
    return ops[f.operation](values, x)


def _leaf_mask(f: ga.Filter, get_labels: Labels) -> np.ndarray:
    """Evaluate one condition on a field's distinct labels, then spread to the rows."""
    which = ga.Filter.pb(f).WhichOneof("one_filter")
    field = f.field_name
    labels, inverse = get_labels(field)
    if which == "string_filter":
        small = _string_mask(labels, f.string_filter, field)
    elif which == "in_list_filter":
        values = list(f.in_list_filter.values)
        if not f.in_list_filter.case_sensitive:
            labels, values = labels.str.lower(), [v.lower() for v in values]
        small = labels.isin(values).to_numpy(dtype=bool)
    elif which in ("numeric_filter", "between_filter"):
        numbers = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=float)
        if which == "numeric_filter":
            small = _numeric_mask(numbers, f.numeric_filter)
        else:
            lo = _numeric_value(f.between_filter.from_value)
            hi = _numeric_value(f.between_filter.to_value)
            small = (numbers >= lo) & (numbers <= hi)
    elif which == "empty_filter":
        small = (labels == "").to_numpy(dtype=bool)
    else:
        raise invalid(f"The filter on {field} has no condition", field)
    return small[inverse]


def eval_filter(expr: ga.FilterExpression, n: int, get_labels: Labels) -> np.ndarray:
    """A boolean mask over ``n`` rows for a FilterExpression."""
    which = ga.FilterExpression.pb(expr).WhichOneof("expr")
    if which == "and_group":
        mask = np.ones(n, dtype=bool)
        for e in expr.and_group.expressions:
            mask &= eval_filter(e, n, get_labels)
        return mask
    if which == "or_group":
        mask = np.zeros(n, dtype=bool)
        for e in expr.or_group.expressions:
            mask |= eval_filter(e, n, get_labels)
        return mask
    if which == "not_expression":
        return ~eval_filter(expr.not_expression, n, get_labels)
    if which == "filter":
        return _leaf_mask(expr.filter, get_labels)
    return np.ones(n, dtype=bool)


def filter_fields(expr: ga.FilterExpression) -> list[str]:
    """Every field name a FilterExpression mentions."""
    which = ga.FilterExpression.pb(expr).WhichOneof("expr")
    if which in ("and_group", "or_group"):
        group = expr.and_group if which == "and_group" else expr.or_group
        return [f for e in group.expressions for f in filter_fields(e)]
    if which == "not_expression":
        return filter_fields(expr.not_expression)
    if which == "filter":
        return [expr.filter.field_name]
    return []


# ---------------------------------------------------------------- aggregation

def _distinct_labels(dim: Dim, codes: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    uniq, inverse = np.unique(codes, return_inverse=True)
    return pd.Series([dim.label(int(c)) for c in uniq], dtype=object), inverse


def _dim_labels(dim: Dim, codes: np.ndarray) -> pd.Series:
    labels, inverse = _distinct_labels(dim, codes)
    return pd.Series(labels.to_numpy()[inverse], dtype=object)


def aggregate(rows: Rows, dims: Sequence[Dim], metrics: Sequence[str],
              mask: np.ndarray | None) -> pd.DataFrame:
    """Group the rows by ``dims`` (as codes) and compute ``metrics``.

    Returns one row per group: a column per dimension (codes) and per metric.
    """
    keys: dict[str, np.ndarray] = {d.name: d.codes(rows) for d in dims}
    data: dict[str, np.ndarray] = dict(keys)
    if not keys:
        data["_all"] = np.zeros(_len(rows), dtype=np.int8)
    key_cols = list(keys) or ["_all"]
    wanted = set(metrics)
    need_users = bool(wanted & _USER_METRICS)
    data["_s"] = rows.session_index()
    for col in ("s_user", "s_new", "s_engaged", "s_duration"):
        data[col] = rows.col(col)
    if rows.events:
        data["_views"] = np.ones(_len(rows), dtype=np.int64)
        data["_eng"] = rows.col("e_engagement")
    else:
        data["_views"] = rows.col("s_views")
        data["_eng"] = rows.col("s_engagement")
    frame = pd.DataFrame(data)
    if mask is not None:
        frame = frame[mask]

    sums = frame.groupby(key_cols, sort=False)[["_views", "_eng"]].sum()
    sess = frame.drop_duplicates(key_cols + ["_s"]) if rows.events else frame
    g = sess.groupby(key_cols, sort=False)
    out = pd.DataFrame({
        "sessions": g.size(),
        "engagedSessions": g["s_engaged"].sum(),
        "_new": g["s_new"].sum(),
        "_dur": g["s_duration"].sum(),
    })
    out = out.join(sums)
    if need_users:
        out["totalUsers"] = g["s_user"].nunique()
    if "newUsers" in wanted:
        out["newUsers"] = sess[sess["s_new"]].groupby(key_cols, sort=False)["s_user"].nunique()
    if "activeUsers" in wanted:
        active = sess[sess["s_engaged"] | sess["s_new"]]
        out["activeUsers"] = active.groupby(key_cols, sort=False)["s_user"].nunique()
    out = out.fillna(0)
    sessions = out["sessions"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = {
            "screenPageViews": out["_views"],
            "eventCount": out["_views"] + out["sessions"] + out["_new"],
            "averageSessionDuration": out["_dur"] / sessions,
            "userEngagementDuration": out["_eng"],
            "engagementRate": out["engagedSessions"] / sessions,
            "bounceRate": 1.0 - out["engagedSessions"] / sessions,
            "screenPageViewsPerSession": out["_views"] / sessions,
        }
        if need_users:
            users = out["totalUsers"].astype(float)
            derived["sessionsPerUser"] = out["sessions"] / users
            derived["screenPageViewsPerUser"] = out["_views"] / users
    for name, values in derived.items():
        out[name] = values
    out = out.reset_index()
    return out[[*keys, *metrics]].replace([np.inf, -np.inf], 0.0).fillna(0.0)


def aggregate_realtime(rows: Rows, dims: Sequence[Dim], metrics: Sequence[str],
                       mask: np.ndarray | None) -> pd.DataFrame:
    """Realtime: every row is a page view; users are distinct users in the window."""
    keys: dict[str, np.ndarray] = {d.name: d.codes(rows) for d in dims}
    data: dict[str, np.ndarray] = dict(keys)
    if not keys:
        data["_all"] = np.zeros(_len(rows), dtype=np.int8)
    key_cols = list(keys) or ["_all"]
    data["s_user"] = rows.col("s_user")
    frame = pd.DataFrame(data)
    if mask is not None:
        frame = frame[mask]
    g = frame.groupby(key_cols, sort=False)
    out = pd.DataFrame({"screenPageViews": g.size(), "activeUsers": g["s_user"].nunique()})
    out["eventCount"] = out["screenPageViews"]
    return out.reset_index()[[*keys, *metrics]]


# ---------------------------------------------------------------- requests

def parse_date(text: str, today: date, field: str) -> date:
    """GA's date forms: YYYY-MM-DD, today, yesterday, NdaysAgo."""
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    m = re.fullmatch(r"(\d+)daysAgo", text)
    if m:
        return today - timedelta(days=int(m.group(1)))
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise invalid(
            f"Invalid {field}: {text!r}. Use YYYY-MM-DD, NdaysAgo, yesterday, or today.", field
        ) from None


def check_fields(names: Sequence[str], table: dict[str, Dim] | dict[str, Met], kind: str,
                  prefix: str, realtime: bool) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        spec = table.get(name)
        ok = spec is not None and (spec.realtime if realtime else spec.report)
        if not ok:
            where = "realtime " if realtime else ""
            raise invalid(
                f"Field {name} is not a valid {where}{kind}. For a list of valid dimensions "
                f"and metrics, see {SCHEMA_URL}",
                f"{prefix}[{i}].name",
            )
        if name in seen:
            raise invalid(f"Duplicate {kind} {name}", f"{prefix}[{i}].name")
        seen.add(name)


@dataclass(frozen=True)
class Window:
    """One date range (or minute range) of a request, with its name."""

    name: str
    rows: Rows


def _label_frame(agg: pd.DataFrame, dims: Sequence[Dim]) -> pd.DataFrame:
    labelled = agg.copy()
    for d in dims:
        labelled[d.name] = _dim_labels(d, agg[d.name].to_numpy()).to_numpy()
    return labelled


def _order(frame: pd.DataFrame, order_bys: Sequence[ga.OrderBy], dim_names: list[str],
           metric_names: list[str], dims: dict[str, Dim]) -> pd.DataFrame:
    sort_cols: list[str] = []
    ascending: list[bool] = []
    work = frame.copy()
    ot = ga.OrderBy.DimensionOrderBy.OrderType
    for i, ob in enumerate(order_bys):
        which = ga.OrderBy.pb(ob).WhichOneof("one_order_by")
        if which == "metric":
            name = ob.metric.metric_name
            if name not in metric_names:
                raise invalid(f"Order by metric {name} is not a metric of the request",
                              f"orderBys[{i}].metric.metricName")
            col = f"_o{i}"
            work[col] = frame[name].astype(float)
        elif which == "dimension":
            name = ob.dimension.dimension_name
            if name not in dim_names:
                raise invalid(f"Order by dimension {name} is not a dimension of the request",
                              f"orderBys[{i}].dimension.dimensionName")
            col = f"_o{i}"
            values = frame[name].astype(str)
            if ob.dimension.order_type == ot.NUMERIC:
                work[col] = pd.to_numeric(values, errors="coerce")
            elif ob.dimension.order_type == ot.CASE_INSENSITIVE_ALPHANUMERIC:
                work[col] = values.str.lower()
            else:
                work[col] = values
        else:
            raise invalid("An orderBy needs a metric or a dimension", f"orderBys[{i}]")
        sort_cols.append(col)
        ascending.append(not ob.desc)
    if not sort_cols:
        # GA's default: the first metric, largest first; dimensions break ties.
        if metric_names:
            sort_cols.append(metric_names[0])
            ascending.append(False)
        for name in dim_names:
            col = f"_d_{name}"
            work[col] = pd.to_numeric(frame[name], errors="coerce") if dims[name].numeric \
                else frame[name].astype(str)
            sort_cols.append(col)
            ascending.append(True)
    if not sort_cols:
        return frame
    order = work.sort_values(sort_cols, ascending=ascending, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _metric_text(name: str, value: float) -> str:
    if name in INTEGER_METRICS:
        return str(int(round(value)))
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def build_report(
    windows: Sequence[Window],
    dim_names: list[str],
    metric_names: list[str],
    dimension_filter: ga.FilterExpression | None,
    metric_filter: ga.FilterExpression | None,
    order_bys: Sequence[ga.OrderBy],
    limit: int,
    offset: int,
    aggregations: Sequence[int],
    realtime: bool,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], int]:
    """Compute a report: (labelled rows after order/limit, aggregation rows, row count)."""
    dims = [DIMENSIONS[n] for n in dim_names]
    agg_fn = aggregate_realtime if realtime else aggregate
    frames, totals = [], []
    for w in windows:
        mask = w.rows.base
        if dimension_filter is not None:
            rows = w.rows

            def labels(field: str, rows: Rows = rows) -> tuple[pd.Series, np.ndarray]:
                return _distinct_labels(DIMENSIONS[field], DIMENSIONS[field].codes(rows))

            selected = eval_filter(dimension_filter, _len(w.rows), labels)
            mask = selected if mask is None else mask & selected
        agg = _label_frame(agg_fn(w.rows, dims, metric_names, mask), dims)
        if metric_filter is not None:
            def metric_labels(f: str, agg: pd.DataFrame = agg) -> tuple[pd.Series, np.ndarray]:
                return agg[f].astype(str).reset_index(drop=True), np.arange(len(agg))

            keep = eval_filter(metric_filter, len(agg), metric_labels)
            agg = agg[keep]
        if len(windows) > 1:
            agg.insert(len(dims), "dateRange", w.name)
        frames.append(agg)
        if aggregations:
            tot = agg_fn(w.rows, [], metric_names, mask)
            tot.insert(0, "dateRange", w.name)
            totals.append(tot)
    all_dims = dim_names + (["dateRange"] if len(windows) > 1 else [])
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order_dims = {**DIMENSIONS, "dateRange": Dim("dateRange", "", "", _no_codes, str)}
    frame = _order(frame, order_bys, all_dims, metric_names, order_dims)
    row_count = len(frame)
    aggregates: dict[str, pd.DataFrame] = {}
    A = ga.MetricAggregation
    for a in aggregations:
        if a == A.TOTAL:
            aggregates["totals"] = pd.concat(totals, ignore_index=True)
        elif a in (A.MAXIMUM, A.MINIMUM):
            key = "maximums" if a == A.MAXIMUM else "minimums"
            parts = []
            for w in windows:
                sub = frame[frame["dateRange"] == w.name] if len(windows) > 1 else frame
                vals = sub[metric_names].max() if a == A.MAXIMUM else sub[metric_names].min()
                row = vals.to_frame().T.fillna(0.0)
                row.insert(0, "dateRange", w.name)
                parts.append(row)
            aggregates[key] = pd.concat(parts, ignore_index=True)
        elif a == A.COUNT:
            parts = []
            for w in windows:
                sub = frame[frame["dateRange"] == w.name] if len(windows) > 1 else frame
                row = pd.DataFrame({m: [float(len(sub))] for m in metric_names})
                row.insert(0, "dateRange", w.name)
                parts.append(row)
            aggregates["counts"] = pd.concat(parts, ignore_index=True)
    page = frame.iloc[offset : offset + limit].reset_index(drop=True)
    return page, aggregates, row_count


def fill_response(
    response: ga.RunReportResponse | ga.RunRealtimeReportResponse,
    page: pd.DataFrame,
    aggregates: dict[str, pd.DataFrame],
    dim_names: list[str],
    metric_names: list[str],
    multi: bool,
) -> None:
    """Write headers, rows and aggregate rows into a response message (raw protobuf)."""
    pb = type(response).pb(response)
    all_dims = dim_names + (["dateRange"] if multi else [])
    for name in all_dims:
        pb.dimension_headers.add(name=name)
    for name in metric_names:
        pb.metric_headers.add(name=name, type_=getattr(ga.MetricType, METRICS[name].type_))
    dim_cols = [page[n].astype(str).tolist() for n in all_dims]
    met_cols = [[_metric_text(n, v) for v in page[n].tolist()] for n in metric_names]
    for i in range(len(page)):
        row = pb.rows.add()
        for col in dim_cols:
            row.dimension_values.add(value=col[i])
        for col in met_cols:
            row.metric_values.add(value=col[i])
    reserved = {"totals": "RESERVED_TOTAL", "maximums": "RESERVED_MAX",
                "minimums": "RESERVED_MIN", "counts": "RESERVED_COUNT"}
    for key, frame in aggregates.items():
        target = getattr(pb, "totals" if key == "counts" else key)
        for _, agg_row in frame.iterrows():
            row = target.add()
            for _ in dim_names:
                row.dimension_values.add(value=reserved[key])
            if multi:
                row.dimension_values.add(value=str(agg_row["dateRange"]))
            for name in metric_names:
                row.metric_values.add(value=_metric_text(name, float(agg_row[name])))
