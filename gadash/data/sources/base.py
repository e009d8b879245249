"""The data-source interface: a query in, one typed frame per panel out."""

from __future__ import annotations

from abc import ABC, abstractmethod

from gadash.core.frames import PropertyFields, ReportFrame, ReportMeta
from gadash.core.query import Exploration, ReportQuery

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
    def fields(self, property_id: str) -> PropertyFields:
        """The dimensions and metrics the property offers, custom definitions included."""

    def available_fields(self, property_id: str) -> frozenset[str]:
        """The dimension and metric names the property offers."""
        return self.fields(property_id).names

    @abstractmethod
    def incompatible(self, property_id: str, exploration: Exploration) -> list[str]:
        """Why GA cannot answer the exploration's fields together ([] when it can), asked
        before any data is."""

    def close(self) -> None:  # noqa: B027 -- optional hook
        """Release connections."""
