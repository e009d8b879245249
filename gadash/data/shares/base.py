"""The share-count provider interface: a new network is a small file.

A provider says how to ask about one URL, how to read the answer into counts,
and how fast it may be asked. The fetcher does the rest (concurrency, limits,
timeouts, retries, partial results).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class ParseError(ValueError):
    """The provider answered, but not in the shape we expect."""


@dataclass(frozen=True)
class Request:
    """One HTTP GET."""

    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShareCounts:
    """A provider's counts for one URL, or why there are none."""

    provider: str
    url: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return not self.error


class Provider(ABC):
    """One network's engagement counts for a URL."""

    name: str = ""  # registry key, e.g. "hackernews"
    label: str = ""  # e.g. "Hacker News"
    short: str = ""  # column header prefix, e.g. "HN"
    headline: str = ""  # the count shown in the column
    rate: float = 1.0  # requests per second, sustained
    burst: int = 5  # requests allowed at once before the rate applies

    @abstractmethod
    def request(self, url: str) -> Request:
        """How to ask about ``url``."""

    @abstractmethod
    def parse(self, url: str, payload: Any) -> dict[str, int]:
        """Counts from the decoded JSON answer. Raises ParseError on a wrong shape."""

    def describe(self, counts: dict[str, int]) -> str:
        """A one-line summary for the tooltip."""
        return ", ".join(f"{v:,} {k}" for k, v in counts.items())
