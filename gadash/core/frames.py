"""What a report answer is: typed rows, totals and GA's metadata.

The core types every layer shares: sources build them, transforms read them,
components render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from gadash.core.catalog import OTHER

# GA folds rare values into this row when a report passes its cardinality limit.
OTHER_TIP = ("GA grouped rare values into (other): the report passed GA's cardinality "
             "limit, so the values behind this row are not known")
_RANGE_WORDS = {"current": "this period", "previous": "the comparison period"}


def is_other(value: object) -> bool:
    """True for GA's ``(other)`` row, which is no page, source or country."""
    return value == OTHER


@dataclass(frozen=True)
class ReportMeta:
    """What GA said about a report that matters to an analyst."""

    property_id: str
    time_zone: str = ""
    currency: str = ""
    row_count: int = 0
    # GA samples per date range: (range name, percent of events read) for each
    # sampled range; thresholding and (other) are per report.
    sampling: tuple[tuple[str, float], ...] = ()
    thresholded: bool = False
    other_row: bool = False
    # Rows GA has but gadash did not fetch: the panel's cap was reached.
    capped: bool = False
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (used, left)
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def sampled(self) -> bool:
        return bool(self.sampling)

    def quality_notes(self) -> list[str]:
        """The caveats an analyst should see under the panel."""
        notes = []
        for name, percent in self.sampling:
            where = _RANGE_WORDS.get(name, name)
            notes.append(f"Sampled: GA read {percent:.0f}% of events for {where}")
        if self.thresholded:
            notes.append("Thresholded: GA withheld rows to protect user privacy")
        if self.other_row:
            notes.append(f'Some rows are grouped as "{OTHER}" by GA')
        return notes


@dataclass(frozen=True)
class ReportFrame:
    """One panel's answer: typed rows, the totals row(s), and GA's metadata.

    ``rows`` has one column per dimension and metric (plus ``dateRange``, valued
    ``current`` / ``previous``); ``totals`` has one row per date range that GA
    answered a total for (a missing range means an unknown total, not zero).
    """

    panel: str
    rows: pd.DataFrame
    totals: pd.DataFrame
    meta: ReportMeta

    def joined(self, more: ReportFrame, row_count: int | None = None) -> ReportFrame:
        """This answer with another's rows after its own (a next page, or the
        comparison period of a top-N table), their metadata merged."""
        rows = pd.concat([self.rows, more.rows], ignore_index=True)
        totals = pd.concat([self.totals, more.totals], ignore_index=True) \
            if len(more.totals) else self.totals
        sampling = dict(self.meta.sampling) | dict(more.meta.sampling)
        meta = replace(
            self.meta,
            row_count=self.meta.row_count if row_count is None else row_count,
            sampling=tuple(sampling.items()),
            thresholded=self.meta.thresholded or more.meta.thresholded,
            other_row=self.meta.other_row or more.meta.other_row,
        )
        return ReportFrame(self.panel, rows, totals, meta)


@dataclass(frozen=True)
class ViewResult:
    """The frames of a view and where they came from.

    ``how`` is "fetched" (from GA by this request), "cached", or "stale" (older
    than its TTL: refreshing elsewhere, or GA failed, then ``error`` says why).
    """

    reports: dict[str, ReportFrame]
    how: str = "fetched"
    error: str = ""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    error_short: str = ""  # the failure in a few words
    version: str = ""  # which cached answer this is (DataService.view_version)
    cache_note: str = ""

    @property
    def cached(self) -> bool:
        """True when GA was not asked for this answer."""
        return self.how != "fetched"

    def stale_note(self, zone: str) -> str:
        """A line for the page when GA failed and older data is shown, or ""."""
        if not self.error:
            return ""
        when = self.fetched_at.astimezone(ZoneInfo(zone or "UTC"))
        return (f"Showing data fetched at {when:%H:%M}: {self.error} "
                "gadash tries again by itself.")


@dataclass(frozen=True)
class Marker:
    """An annotation on a trend: a day (start == end) or a span, and its note."""

    start: date
    end: date
    text: str



@dataclass(frozen=True)
class GAField:
    """A dimension or metric a property offers, as GA's GetMetadata names it: standard,
    a custom definition (``customEvent:author``), or a key event's own metric
    (``keyEvents:sign_up``)."""

    api_name: str
    ui_name: str
    kind: str  # "dimension" or "metric"
    category: str
    custom: bool = False
    type: str = ""  # a metric's GA type (TYPE_INTEGER, TYPE_CURRENCY, ...)
    description: str = ""

    @property
    def label(self) -> str:
        """How a picker shows it: GA's name, and its API name where they differ."""
        return self.ui_name if self.ui_name == self.api_name else \
            f"{self.ui_name} ({self.api_name})"


@dataclass(frozen=True)
class PropertyFields:
    """Every dimension and metric of one property (GetMetadata)."""

    dimensions: tuple[GAField, ...]
    metrics: tuple[GAField, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.api_name for f in (*self.dimensions, *self.metrics))

    def get(self, name: str) -> GAField | None:
        return next((f for f in (*self.dimensions, *self.metrics) if f.api_name == name), None)
