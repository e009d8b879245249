"""gadash's exceptions; every one carries a message a person can act on.

    GadashError                      base; ``str(exc)`` is the user-facing message
    ├── ConfigError                  a setting is missing or wrong (start-up)
    ├── QueryError                   a request we refuse before asking GA
    │                                (bad date range, unknown filter or panel)
    ├── StoreError                   the team's database failed
    │   └── StoreUnavailableError    it cannot be reached (nothing was written)
    └── SourceError                  the data source failed
        ├── CredentialsError         no usable Google credentials (also a ConfigError)
        ├── PermissionDeniedError    the credentials cannot read the property
        ├── QuotaExhaustedError      a GA quota ran out; ``resets_at`` when known
        ├── InvalidRequestError      GA rejected a field of the request
        └── SourceUnavailableError   GA did not answer (after retries)

Vendor exceptions (grpc / google.api_core, SQLAlchemy) are translated into these
at the adapter boundaries, ``gadash.data.sources.ga4`` and ``gadash.store``; nothing
above them sees them.
"""

from __future__ import annotations

from datetime import datetime


class GadashError(Exception):
    """Base of gadash's exceptions."""

    title = "Something went wrong"

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(GadashError):
    """A setting is missing or wrong."""

    title = "Configuration problem"


class QueryError(GadashError):
    """A request we refuse before asking GA."""

    title = "Invalid request"


class StoreError(GadashError):
    """The team's database (TV links, saved views, annotations) failed."""

    title = "Database error"


class StoreUnavailableError(StoreError):
    """The database cannot be reached; the operation did not happen."""

    title = "The database is not answering"


class SourceError(GadashError):
    """The data source failed."""

    title = "Google Analytics error"
    short = "GA error"  # for a TV's header: "Stale since 21:12 · GA not answering"
    retryable = False


class CredentialsError(SourceError, ConfigError):
    """The Google credentials cannot be used (a missing, unreadable or malformed key
    file): a setting to fix, and a GA refresh that fails (stale data is kept)."""

    title = "Google credentials cannot be used"
    short = "GA key file unusable"


class PermissionDeniedError(SourceError):
    """The credentials cannot read the property."""

    title = "No access to the property"
    short = "no access in GA"


class QuotaExhaustedError(SourceError):
    """A GA quota ran out."""

    title = "Google Analytics quota exhausted"
    short = "GA quota used up"
    retryable = True

    def __init__(self, message: str, quota: str = "", resets_at: datetime | None = None):
        super().__init__(message)
        self.quota = quota
        self.resets_at = resets_at


class InvalidRequestError(SourceError):
    """GA rejected a field of the request."""

    title = "Google Analytics rejected the request"
    short = "GA refused the request"

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class SourceUnavailableError(SourceError):
    """GA did not answer, even after retrying."""

    title = "Google Analytics is not answering"
    short = "GA not answering"
    retryable = True
