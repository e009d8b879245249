"""Data sources, one module per backend, picked by name from a registry."""

from __future__ import annotations

from collections.abc import Callable

from gadash.data.sources.base import DataSource, ReportFrame, ReportMeta
from gadash.data.sources.ga4 import GA4Source
from gadash.errors import ConfigError
from gadash.settings import Settings

REGISTRY: dict[str, Callable[[Settings], DataSource]] = {
    "ga4": GA4Source,
}


def create_source(settings: Settings, name: str = "ga4") -> DataSource:
    """Build the named source. Raises ConfigError for an unknown name."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ConfigError(f"Unknown data source {name!r}; known: {', '.join(REGISTRY)}") from None
    return factory(settings)


__all__ = ["DataSource", "GA4Source", "ReportFrame", "ReportMeta", "create_source"]
