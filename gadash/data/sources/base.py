"""The data-source interface: a query in, one typed frame per panel out."""

from __future__ import annotations

from abc import ABC, abstractmethod

from gadash.core.frames import ReportFrame, ReportMeta
from gadash.core.query import ReportQuery

__all__ = ["DataSource", "ReportFrame", "ReportMeta"]


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
