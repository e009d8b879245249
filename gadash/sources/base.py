"""The data-source interface: a query in, one typed frame per panel out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from gadash.query import ReportQuery


@dataclass(frozen=True)
class ReportMeta:
    """What GA said about a report that matters to an analyst."""

    property_id: str
    time_zone: str = ""
    currency: str = ""
    row_count: int = 0
    sampled: bool = False
    sampling_percent: float | None = None
    thresholded: bool = False
    other_row: bool = False
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (used, left)
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def quality_notes(self) -> list[str]:
        """The caveats an analyst should see under the panel."""
        notes = []
        if self.sampled:
            pct = f" ({self.sampling_percent:.0f}% of events)" if self.sampling_percent else ""
            notes.append(f"Sampled data{pct}")
        if self.thresholded:
            notes.append("Thresholded: GA withheld rows to protect user privacy")
        if self.other_row:
            notes.append('Some rows are grouped as "(other)"')
        return notes


@dataclass(frozen=True)
class ReportFrame:
    """One panel's answer: typed rows, the totals row(s), and GA's metadata.

    ``rows`` has one column per dimension and metric (plus ``dateRange`` when the
    query compares periods, valued ``current`` / ``previous``); ``totals`` has
    one row per date range.
    """

    panel: str
    rows: pd.DataFrame
    totals: pd.DataFrame
    meta: ReportMeta


class DataSource(ABC):
    """A backend that answers report queries."""

    name: str = ""
    supports_realtime: bool = False
    max_reports_per_call: int = 1

    @abstractmethod
    def fetch(self, query: ReportQuery) -> dict[str, ReportFrame]:
        """Answer every panel of the query. Raises a SourceError subclass."""

    @abstractmethod
    def time_zone(self, property_id: str) -> str:
        """The property's reporting time zone (IANA name)."""

    @abstractmethod
    def available_fields(self, property_id: str) -> frozenset[str]:
        """The dimension and metric names the property offers."""

    def close(self) -> None:  # noqa: B027 -- optional hook
        """Release connections."""
