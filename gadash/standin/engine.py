"""Answer GA4 Data API report requests from synthetic traffic, with GA's meaning.

Session-scoped metrics (sessions, users, durations, rates) are computed from
the distinct sessions behind each row; when a request uses an event-scoped field
(``eventName``, ``pagePath``, ``pageTitle`` ...) rows are events and a session
counts in every row it has an event in, as in GA; with an item-scoped dimension
(``itemName`` ...) rows are the items of the shop's e-commerce events. Dates are
the session's start date in the property's time zone. Rows are grouped by the
value GA answers, so two codes with one label ("google" organic and cpc) make one
row.

What GA does to big properties is here too: a dimension with more distinct
values than the property's cardinality limit keeps its biggest values and folds
the rest into ``(other)``; a date range with more events than the sampling
limit is computed from a systematic sample of its sessions, scaled back up;
user counts below the property's threshold are withheld. Requests are
proto-plus messages from ``google.analytics.data_v1beta``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from google.analytics.data_v1beta import types as ga

from gadash.standin.schema import (
    CURRENCY_METRICS,
    DAY_NAMES,
    DIMENSIONS,
    INTEGER_METRICS,
    METRICS,
    USER_METRICS,
    Dim,
    Met,
    Rows,
    key_event_counts,
)
from gadash.standin.traffic import EV

__all__ = [
    "DAY_NAMES", "DIMENSIONS", "METRICS", "Dim", "Met", "Rows", "ReportError", "Window",
    "compute_report", "currency_factor", "fill_response",
]

MAX_ROWS = 250_000
OTHER = "(other)"
SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
# Dollars per unit of each currency: fixed, plausible rates.
USD_PER_UNIT = {
    "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CHF": 1.12, "JPY": 0.0067, "CAD": 0.73,
    "AUD": 0.66, "SEK": 0.095, "NOK": 0.093, "DKK": 0.145, "PLN": 0.25, "INR": 0.012,
    "BRL": 0.19, "MXN": 0.055, "SGD": 0.74, "KRW": 0.00074, "CNY": 0.14, "NZD": 0.6,
    "AED": 0.27,
}


class ReportError(Exception):
    """A request GA would refuse: carries the gRPC status name and the field."""

    def __init__(self, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def invalid(message: str, field: str = "") -> ReportError:
    return ReportError("INVALID_ARGUMENT", message, field)


def unimplemented(feature: str) -> ReportError:
    """UNIMPLEMENTED naming the feature, rather than an answer that ignores it."""
    return ReportError("UNIMPLEMENTED", f"{feature} not implemented by the gadash GA4 stand-in")


def currency_factor(from_currency: str, to_currency: str, field: str = "currencyCode") -> float:
    """What one unit of ``from_currency`` is worth in ``to_currency``; raises ReportError."""
    if not to_currency or to_currency == from_currency:
        return 1.0
    if to_currency not in USD_PER_UNIT:
        raise invalid(f"Unsupported currency code {to_currency!r}; use an ISO 4217 code such "
                      f"as {', '.join(sorted(USD_PER_UNIT)[:6])}.", field)
    return USD_PER_UNIT.get(from_currency, 1.0) / USD_PER_UNIT[to_currency]


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


# ---------------------------------------------------------------- labels

@dataclass
class LabelCache:
    """Each dimension's labels over a window's rows, grouped by value, folded past the limit."""

    rows: Rows
    cardinality_limit: int | None = None
    folded: set[str] = field(default_factory=set)
    _cache: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def get(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(distinct labels, each row's index into them)."""
        if name not in self._cache:
            self._cache[name] = self._compute(DIMENSIONS[name])
        return self._cache[name]

    def series(self, name: str) -> tuple[pd.Series, np.ndarray]:
        labels, inverse = self.get(name)
        return pd.Series(labels, dtype=object), inverse

    def _compute(self, dim: Dim) -> tuple[np.ndarray, np.ndarray]:
        codes = dim.codes(self.rows)
        uniq, inverse = np.unique(codes, return_inverse=True)
        site = self.rows.traffic.site
        raw = [dim.label(int(c), site) for c in uniq]
        by_value, distinct = pd.factorize(pd.Series(raw, dtype=object))
        index = by_value[inverse] if uniq.size else np.zeros(0, np.int64)
        labels: np.ndarray = np.asarray(distinct, dtype=object)
        limit = self.cardinality_limit
        if dim.foldable and limit is not None and labels.size > limit:
            base = self.rows.base
            weights = np.bincount(index if base is None else index[base], minlength=labels.size)
            # Keep the biggest values (ties by label), fold the rest into one row.
            ranked = sorted(range(labels.size), key=lambda i: (-weights[i], labels[i]))
            keep = np.asarray(ranked[: limit - 1])
            remap = np.full(labels.size, limit - 1, dtype=np.int64)
            remap[keep] = np.arange(keep.size)
            labels = np.append(labels[keep], OTHER)
            index = remap[index]
            self.folded.add(dim.name)
        return labels, index


# ---------------------------------------------------------------- aggregation

_SUMS = {
    "_views": {"screenPageViews", "screenPageViewsPerSession", "screenPageViewsPerUser"},
    "_events": {"eventCount", "eventCountPerUser", "eventsPerSession"},
    "_key": {"keyEvents"},
    "_purch": {"transactions", "ecommercePurchases", "averagePurchaseRevenue"},
    "_rev": {"totalRevenue", "purchaseRevenue", "averagePurchaseRevenue",
             "averageRevenuePerUser"},
    "_eng": {"userEngagementDuration"},
}
_SESSION_METRICS = {"sessions", "engagedSessions", "averageSessionDuration", "bounceRate",
                    "engagementRate", "sessionKeyEventRate", "screenPageViewsPerSession",
                    "eventsPerSession", "sessionsPerUser"}
_USERS = {
    "totalUsers": {"totalUsers", "sessionsPerUser", "userKeyEventRate"},
    "activeUsers": {"activeUsers", "eventCountPerUser", "averageRevenuePerUser",
                    "screenPageViewsPerUser"},
    "newUsers": {"newUsers"},
    "_keyUsers": {"userKeyEventRate"},
    "totalPurchasers": {"totalPurchasers"},
}


def _base_columns(rows: Rows, needed: set[str]) -> dict[str, np.ndarray]:
    """Per-row quantities the metrics are sums or distinct counts of."""
    cols: dict[str, np.ndarray] = {}
    if rows.events:
        event = rows.col("x_name")
        page_view = event == EV["page_view"]
        is_key = rows.traffic.site.is_key[event]
        make: dict[str, Callable[[], np.ndarray]] = {
            "_views": lambda: page_view.astype(np.int64),
            "_events": lambda: np.ones(event.size, dtype=np.int64),
            "_key": lambda: is_key.astype(np.int64),
            "_keyrow": lambda: is_key,
            "_purch": lambda: (event == EV["purchase"]).astype(np.int64),
            "_rev": lambda: rows.traffic.event_values(rows.x0, rows.x1),
            "_eng": lambda: np.where(page_view, rows.col("e_engagement"), 0.0),
        }
    else:
        make = {
            "_views": lambda: rows.col("s_views").astype(np.int64),
            "_events": lambda: rows.col("s_events").astype(np.int64),
            "_key": lambda: rows.col("s_key").astype(np.int64),
            "_keyrow": lambda: rows.col("s_key") > 0,
            "_purch": lambda: rows.col("s_purchases").astype(np.int64),
            "_rev": lambda: rows.col("s_revenue"),
            "_eng": lambda: rows.col("s_engagement"),
        }
    for name in needed:
        cols[name] = make[name]() if name in make else rows.col(name)
    return cols


def aggregate(rows: Rows, keys: dict[str, np.ndarray], metrics: Sequence[str],
              mask: np.ndarray | None, *, scale: int = 1, revenue_factor: float = 1.0,
              realtime: bool = False) -> pd.DataFrame:
    """Group the rows by ``keys`` (label indices per dimension) and compute ``metrics``.

    ``scale`` multiplies counts and sums (a sample of one session in ``scale``).
    Returns one row per group: a column per key and per metric.
    """
    wanted = set(metrics)
    sums = [c for c, users in _SUMS.items() if wanted & users]
    users = [c for c, users_of in _USERS.items() if wanted & users_of]
    need_sessions = bool(wanted & _SESSION_METRICS)
    # Custom event metrics, item metrics and key events' own metrics.
    summed = [m for m in dict.fromkeys(metrics) if METRICS[m].sum_of is not None]
    by_event = {m: METRICS[m].key_event for m in dict.fromkeys(metrics) if METRICS[m].key_event}
    events = list(dict.fromkeys(by_event.values()))
    session_rates = [e for m, e in by_event.items() if m.startswith("sessionKeyEventRate:")]
    user_rates = [e for m, e in by_event.items() if m.startswith("userKeyEventRate:")]
    need_sessions |= bool(session_rates)
    if user_rates and "totalUsers" not in users:
        users.append("totalUsers")
    needed = set(sums) | {"s_user"}
    if need_sessions:
        needed |= {"s_engaged", "s_duration"}
    if "sessionKeyEventRate" in wanted or "_keyUsers" in users:
        needed.add("_keyrow")
    if "activeUsers" in users or "newUsers" in users:
        needed |= {"s_engaged", "s_new"}
    if "totalPurchasers" in users:
        needed.add("_purch")
    data: dict[str, np.ndarray] = dict(keys)
    if not keys:
        data["_all"] = np.zeros(len(rows), dtype=np.int8)
    key_cols = list(keys) or ["_all"]
    data["_s"] = rows.session_index()
    data.update(_base_columns(rows, needed))
    extra = [f"_v:{m}" for m in summed] + [f"_n:{e}" for e in events]
    for m in summed:
        values = METRICS[m].sum_of
        assert values is not None
        data[f"_v:{m}"] = values(rows)
    for e in events:
        data[f"_n:{e}"] = key_event_counts(rows, e)
    frame = pd.DataFrame(data)
    if mask is not None:
        frame = frame[mask]

    g = frame.groupby(key_cols, sort=False)
    out = pd.DataFrame({"_rows": g.size()})
    if sums:
        out = out.join(g[sums].sum())
    if extra:
        out = out.join(g[extra].sum())
    if need_sessions:
        sess = frame.drop_duplicates(key_cols + ["_s"]) if rows.events else frame
        gs = sess.groupby(key_cols, sort=False)
        out["sessions"] = gs.size()
        out["engagedSessions"] = gs["s_engaged"].sum()
        out["_dur"] = gs["s_duration"].sum()
        if "sessionKeyEventRate" in wanted:
            keyed = frame[frame["_keyrow"]]
            out["_keySessions"] = keyed.groupby(key_cols, sort=False)["_s"].nunique()
        for e in session_rates:
            keyed = frame[frame[f"_n:{e}"] > 0]
            out[f"_ks:{e}"] = keyed.groupby(key_cols, sort=False)["_s"].nunique()

    def distinct_users(where: pd.Series | None) -> pd.Series:
        sub = frame if where is None else frame[where]
        return sub.groupby(key_cols, sort=False)["s_user"].nunique()

    if "totalUsers" in users:
        out["totalUsers"] = distinct_users(None)
    if "activeUsers" in users:
        # Realtime counts everyone seen; reports count users with an engaged or first session.
        out["activeUsers"] = distinct_users(
            None if realtime else frame["s_engaged"] | frame["s_new"])
    if "newUsers" in users:
        out["newUsers"] = distinct_users(frame["s_new"])
    if "_keyUsers" in users:
        out["_keyUsers"] = distinct_users(frame["_keyrow"])
    if "totalPurchasers" in users:
        out["totalPurchasers"] = distinct_users(frame["_purch"] > 0)
    for e in user_rates:
        out[f"_ku:{e}"] = distinct_users(frame[f"_n:{e}"] > 0)
    out = out.fillna(0)
    if scale != 1:
        out = out * scale
    if "_rev" in out:
        out["_rev"] = out["_rev"] * revenue_factor
    for m in summed:
        if METRICS[m].type_ == "TYPE_CURRENCY":
            out[f"_v:{m}"] = out[f"_v:{m}"] * revenue_factor

    def col(name: str) -> pd.Series:
        return out[name].astype(float)

    derived: dict[str, Callable[[], pd.Series]] = {
        "screenPageViews": lambda: out["_views"],
        "eventCount": lambda: out["_events"],
        "keyEvents": lambda: out["_key"],
        "transactions": lambda: out["_purch"],
        "ecommercePurchases": lambda: out["_purch"],
        "totalRevenue": lambda: out["_rev"],
        "purchaseRevenue": lambda: out["_rev"],
        "averagePurchaseRevenue": lambda: col("_rev") / col("_purch"),
        "averageRevenuePerUser": lambda: col("_rev") / col("activeUsers"),
        "averageSessionDuration": lambda: col("_dur") / col("sessions"),
        "userEngagementDuration": lambda: out["_eng"],
        "engagementRate": lambda: col("engagedSessions") / col("sessions"),
        "bounceRate": lambda: 1.0 - col("engagedSessions") / col("sessions"),
        "sessionKeyEventRate": lambda: col("_keySessions") / col("sessions"),
        "userKeyEventRate": lambda: col("_keyUsers") / col("totalUsers"),
        "eventCountPerUser": lambda: col("_events") / col("activeUsers"),
        "eventsPerSession": lambda: col("_events") / col("sessions"),
        "screenPageViewsPerSession": lambda: col("_views") / col("sessions"),
        "screenPageViewsPerUser": lambda: col("_views") / col("activeUsers"),
        "sessionsPerUser": lambda: col("sessions") / col("totalUsers"),
    }
    def ratio(top: str, bottom: str) -> pd.Series:
        return col(top) / col(bottom)

    for m in summed:
        derived[m] = functools.partial(col, f"_v:{m}")
    for m, e in by_event.items():
        if m.startswith("keyEvents:"):
            derived[m] = functools.partial(col, f"_n:{e}")
        elif m.startswith("sessionKeyEventRate:"):
            derived[m] = functools.partial(ratio, f"_ks:{e}", "sessions")
        else:
            derived[m] = functools.partial(ratio, f"_ku:{e}", "totalUsers")
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in metrics:
            if name in derived:
                out[name] = derived[name]()
    out = out.reset_index()
    return out[[*keys, *metrics]].replace([np.inf, -np.inf], 0.0).fillna(0.0)


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


@dataclass(frozen=True)
class Sampling:
    """How one date range was read: a sample of ``read`` events out of ``space``."""

    read: int
    space: int


@dataclass
class ReportResult:
    """A computed report, before it is written into a response."""

    page: pd.DataFrame
    aggregates: dict[str, pd.DataFrame]
    row_count: int
    other_row: bool = False  # some values were folded into "(other)"
    sampling: list[Sampling] | None = None  # one per date range, when any was sampled
    thresholded: bool = False


def sampled(rows: Rows, event_limit: int | None) -> bool:
    """Whether a range of these rows is read from a sample."""
    return _sample_step(rows, event_limit) > 1


def _sample_step(rows: Rows, event_limit: int | None) -> int:
    """Read one session in k when a range has more events than the limit."""
    events = rows.x1 - rows.x0
    if event_limit is None or events <= event_limit:
        return 1
    return math.ceil(events / event_limit)


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
    if name in CURRENCY_METRICS:
        value = round(value, 2)
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def compute_report(
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
    *,
    keep_empty_rows: bool = False,
    revenue_factor: float = 1.0,
    cardinality_limit: int | None = None,
    sampling_event_limit: int | None = None,
    user_threshold: int | None = None,
) -> ReportResult:
    """Compute a report over its windows (date or minute ranges)."""
    filter_metrics = filter_fields(metric_filter) if metric_filter is not None else []
    # Metric filters may name metrics the report does not return (GA allows it).
    thresholding = user_threshold is not None and bool(
        USER_METRICS & set(metric_names + filter_metrics))
    extra = [m for m in dict.fromkeys(filter_metrics) if m not in metric_names]
    if thresholding and "totalUsers" not in metric_names + extra:
        extra.append("totalUsers")
    computed = metric_names + extra
    frames, totals, sampling = [], [], []
    other_row = False
    for w in windows:
        cache = LabelCache(w.rows, cardinality_limit)
        mask = w.rows.base
        if dimension_filter is not None:
            selected = eval_filter(dimension_filter, len(w.rows), cache.series)
            mask = selected if mask is None else mask & selected
        step = 1 if realtime else _sample_step(w.rows, sampling_event_limit)
        t = w.rows.traffic
        space = w.rows.x1 - w.rows.x0
        if step > 1:
            sample = w.rows.session_index() % step == 0
            mask = sample if mask is None else mask & sample
            picked = np.arange(w.rows.s0, w.rows.s1) % step == 0
            read = int(t.s_events[w.rows.s0 : w.rows.s1][picked].sum())
        else:
            read = space
        sampling.append(Sampling(read, space))
        keys = {n: cache.get(n)[1] for n in dim_names}
        agg = aggregate(w.rows, keys, computed, mask, scale=step,
                        revenue_factor=revenue_factor, realtime=realtime)
        other_row |= bool(cache.folded & set(dim_names))
        for n in dim_names:
            agg[n] = cache.get(n)[0][agg[n].to_numpy(dtype=np.int64)]
        if not keep_empty_rows and metric_names:
            agg = agg[(agg[metric_names] != 0).any(axis=1)]
        if metric_filter is not None:
            def metric_labels(f: str, agg: pd.DataFrame = agg) -> tuple[pd.Series, np.ndarray]:
                return agg[f].astype(str).reset_index(drop=True), np.arange(len(agg))

            agg = agg[eval_filter(metric_filter, len(agg), metric_labels)]
        if thresholding:
            agg = agg[agg["totalUsers"] >= user_threshold]
        agg = agg[[*dim_names, *metric_names]]
        if len(windows) > 1:
            agg.insert(len(dim_names), "dateRange", w.name)
        frames.append(agg)
        if aggregations:
            tot = aggregate(w.rows, {}, metric_names, mask, scale=step,
                            revenue_factor=revenue_factor, realtime=realtime)
            tot.insert(0, "dateRange", w.name)
            totals.append(tot)
    all_dims = dim_names + (["dateRange"] if len(windows) > 1 else [])
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order_dims = {**DIMENSIONS, "dateRange": Dim("dateRange", "", "", lambda r: r.col("s_day"),
                                                 lambda c, s: str(c))}
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
    sampled = any(s.read < s.space for s in sampling)
    return ReportResult(page, aggregates, row_count, other_row,
                        sampling if sampled else None, thresholding)


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
