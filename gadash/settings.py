"""Settings: one typed object read once from ``GADASH_*`` variables (and ``.env``).

An explicit argument beats the environment, which beats the default, so tests
build ``Settings(...)`` directly instead of patching ``os.environ``.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gadash.errors import ConfigError

# Addresses a request from this machine arrives from, and names a server binds to here.
LOOPBACK_ADDRS = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
LOOPBACK_HOSTS = frozenset({*LOOPBACK_ADDRS, "localhost"})

# Share-count providers, in the order their columns appear.
SHARE_PROVIDERS = ("hackernews", "reddit", "facebook")


SCREENS: dict[str, str] = {
    "overview": "Overview",
    "realtime": "Right now",
    "pages": "Top pages",
    "sources": "Top sources",
    "trending": "Trending now",
}


# A panel from Explore as a screen: ``panel:<number>`` (saved) or ``panel:<name>``
# (built in: events, campaigns, products); whether it exists is the playlist's check.
PANEL_SCREEN = "panel:"
MAX_PANEL_SCREENS = 12
_PANEL_ID = re.compile(r"[a-z0-9_-]{1,32}")


def panel_screen_id(screen: str) -> str | None:
    """The panel a screen shows (``panel:12`` -> ``12``), or None for the others."""
    return screen[len(PANEL_SCREEN):] if screen.startswith(PANEL_SCREEN) else None


def parse_screens(value: str) -> tuple[str, ...]:
    """A comma list of screen ids, in order, without repeats. Raises ValueError."""
    screens: list[str] = []
    for raw in value.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        panel = panel_screen_id(name)
        if panel is not None and not _PANEL_ID.fullmatch(panel):
            raise ValueError(f"{name[:60]!r} is not a panel screen; write panel:<number> or "
                             "panel:events, panel:campaigns, panel:products")
        if panel is None and name not in SCREENS:
            raise ValueError(f"unknown screen {name[:60]!r}; screens are "
                             f"{', '.join(SCREENS)} and panel:<id>")
        if name not in screens:
            screens.append(name)
    if sum(panel_screen_id(s) is not None for s in screens) > MAX_PANEL_SCREENS:
        raise ValueError(f"at most {MAX_PANEL_SCREENS} panel screens on one TV")
    if not screens:
        raise ValueError(f"no screen named; screens are {', '.join(SCREENS)}")
    return tuple(screens)


def parse_mapping(value: object) -> dict[str, str]:
    """Parse ``Name=value,Other=value`` into an ordered mapping.

    Raises ValueError on an entry without ``=``, an empty part or a repeated name.
    """
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if not isinstance(value, str):
        raise ValueError("expected text such as Blog=123456,Shop=987654")
    result: dict[str, str] = {}
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        name, sep, item = entry.partition("=")
        name, item = name.strip(), item.strip()
        if not sep or not name or not item:
            raise ValueError(f"{entry!r} is not of the form Name=value")
        if name in result:
            raise ValueError(f"the name {name!r} appears twice")
        result[name] = item
    return result


class Settings(BaseSettings):
    """Every setting gadash reads; see the README's "Settings" table."""

    model_config = SettingsConfigDict(
        env_prefix="GADASH_",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(
        default=8050,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("port", "GADASH_PORT", "PORT"),
    )
    debug: bool = False
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning",
                       "error"] = "INFO"
    metrics_token: SecretStr | None = None

    properties: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    ga_endpoint: str | None = None
    credentials_file: Path | None = None
    ga_timeout: float = Field(default=30.0, gt=0)

    database_url: str | None = None  # unset: SQLite in data_dir
    # The same folder whatever directory the app or the gadash command runs in.
    data_dir: Path = Field(default_factory=lambda: default_data_dir())

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("redis_url", "GADASH_REDIS_URL", "REDIS_URL")
    )
    cache_ttl: int = Field(default=300, ge=1)
    realtime_ttl: int = Field(default=30, ge=1)
    stale_max: int = Field(default=6 * 3600, ge=0)
    warm_interval: int = Field(default=20, ge=0)
    warm_max: int = Field(default=200, ge=1, le=100_000)
    quota_per_hour: int = Field(default=40_000, ge=1)

    oidc_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    secret_key: SecretStr | None = None
    allowed_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Who may create and revoke TV links; empty: everyone who may sign in.
    admin_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    session_hours: float = Field(default=12.0, gt=0)
    session_max_hours: float = Field(default=168.0, gt=0)
    proxy_hops: int = Field(default=0, ge=0, le=5)
    max_body_bytes: int = Field(default=1_000_000, ge=10_000)
    rate_signin: str = "20/minute"
    rate_links: str = "60/hour"
    rate_refused: str = "120/minute"
    public_url: str | None = None
    allow_open: bool = False
    # CSP frame-ancestors sources (space-separated) allowed to frame the dashboard, e.g. a
    # signage system; empty: no framing at all.
    frame_ancestors: str = Field(default="", pattern=r"^[A-Za-z0-9 .:/*'_-]*$")

    site_urls: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    share_providers: str = "hackernews,reddit,facebook"
    hackernews_url: str = "https://hn.algolia.com/api/v1/search"
    reddit_url: str = "https://www.reddit.com/api/info.json"
    facebook_url: str = "https://graph.facebook.com/v19.0/"
    facebook_token: SecretStr | None = None
    share_user_agent: str = "gadash/0.1 (team analytics dashboard)"
    share_rate_limits: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    share_ttl: int = Field(default=3600, ge=1)
    share_timeout: float = Field(default=5.0, gt=0)
    share_deadline: float = Field(default=10.0, gt=0)
    share_top_pages: int = Field(default=30, ge=0, le=250)

    tv_screens: str = "overview,realtime,pages,sources"
    tv_rotate: int = Field(default=30, ge=5, le=3600)
    tv_refresh: int = Field(default=60, ge=1, le=3600)
    tv_realtime_refresh: int = Field(default=20, ge=1, le=3600)
    tv_reload_hours: float = Field(default=24.0, ge=0)

    # Insights: pages trending now (realtime views in 30 minutes against the page's usual
    # 30 minutes over 28 days) and the optional alerts webhook (Slack-compatible JSON).
    trending_min_views: int = Field(default=20, ge=1)
    trending_min_ratio: float = Field(default=3.0, ge=1.0)
    alert_webhook_url: str | None = None
    alert_max_per_hour: int = Field(default=12, ge=1, le=1000)
    alert_repeat_hours: float = Field(default=24.0, gt=0)
    alert_timeout: float = Field(default=5.0, gt=0)
    alert_check_seconds: int = Field(default=300, ge=10)

    # Scheduled digests: mail through this SMTP server (off without a host; chat
    # webhooks work either way), checked every digest_check_seconds by each process
    # (the team database makes each sending once); a failed sending is tried again
    # after digest_retry_seconds, doubling to an hour, digest_tries times in all.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "gadash <gadash@localhost>"
    smtp_timeout: float = Field(default=20.0, gt=0)
    digest_check_seconds: int = Field(default=30, ge=1, le=3600)
    digest_retry_seconds: int = Field(default=60, ge=1, le=3600)
    digest_tries: int = Field(default=48, ge=1, le=500)
    # Webhooks on this machine or a private network (an intranet Mattermost): off, so
    # that whoever may make a digest cannot make gadash post into its own network.
    digest_private_webhooks: bool = False
    # How long a run keeps the chart picture chat tools fetch (they fetch it when the
    # message is posted), and how long a run's log is kept (each digest's latest stays).
    digest_image_days: int = Field(default=30, ge=1, le=3660)
    digest_log_days: int = Field(default=400, ge=1, le=36600)
    # The Chromium kaleido draws digest charts with (unset: the one it finds).
    chromium: Path | None = None

    standin_time_zone: str = "America/New_York"
    standin_days: int = Field(default=800, ge=30, le=3000)
    standin_sessions_per_day: int = Field(default=1800, ge=10, le=200_000)
    standin_seed: int = 2015
    # The stand-in only: a page read at FACTOR times its usual rate from now on, for the
    # demo and tests of trending, e.g. "/blog/getting-started-with-python/*10".
    standin_spike: str = ""

    @field_validator("properties", mode="before")
    @classmethod
    def _parse_properties(cls, value: object) -> dict[str, str]:
        mapping = parse_mapping(value)
        for name, prop in mapping.items():
            number = prop.removeprefix("properties/")
            if not number.isdigit():
                raise ValueError(f"property {name!r}: {prop!r} is not a numeric GA4 property id")
            mapping[name] = f"properties/{number}"
        return mapping

    @field_validator("allowed_domains", "allowed_emails", "admin_emails", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> list[str]:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple):
            raise ValueError("expected a comma-separated list")
        items = [str(v).strip().lower() for v in value if str(v).strip()]
        for item in items:
            if item.count("@") > 1 or " " in item:
                raise ValueError(f"{item!r} is not a domain or an email address")
        return items

    @field_validator("site_urls", mode="before")
    @classmethod
    def _parse_sites(cls, value: object) -> dict[str, str]:
        mapping = parse_mapping(value)
        for name, url in mapping.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"site {name!r}: {url!r} is not an http(s) URL")
        return mapping

    @field_validator("share_rate_limits", mode="before")
    @classmethod
    def _parse_rates(cls, value: object) -> dict[str, str]:
        mapping = parse_mapping(value)
        for name, rate in mapping.items():
            if name not in SHARE_PROVIDERS:
                raise ValueError(f"unknown provider {name!r}; known: {', '.join(SHARE_PROVIDERS)}")
            try:
                if float(rate) <= 0:
                    raise ValueError
            except ValueError:
                raise ValueError(f"{name}: {rate!r} is not a positive rate per second") from None
        return mapping

    @field_validator("share_providers")
    @classmethod
    def _check_providers(cls, value: str) -> str:
        names = [n.strip().lower() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in SHARE_PROVIDERS]
        if unknown:
            known = ", ".join(SHARE_PROVIDERS)
            raise ValueError(f"unknown provider {unknown[0]!r}; known: {known}")
        return ",".join(dict.fromkeys(names))

    @field_validator("tv_screens")
    @classmethod
    def _check_screens(cls, value: str) -> str:
        return ",".join(parse_screens(value))

    @field_validator("standin_time_zone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 24:
            raise ValueError("must be at least 24 characters (e.g. `openssl rand -hex 16`)")
        return value

    @field_validator("rate_signin", "rate_links", "rate_refused")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 20/minute") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in (
                "", "/") or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not a site address such as "
                             "https://dash.example.com")
        return value.rstrip("/")

    @field_validator("ga_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{value!r} is not host:port")
        return value

    @model_validator(mode="after")
    def _check_smtp(self) -> Settings:
        if (self.smtp_user and self.smtp_tls == "none"
                and self.smtp_host not in (*LOOPBACK_HOSTS, "localhost")):
            raise ValueError("GADASH_SMTP_USER is set with GADASH_SMTP_TLS=none: the password "
                             f"would cross the network to {self.smtp_host} in the clear. Use "
                             "starttls or ssl.")
        return self

    @model_validator(mode="after")
    def _check_credentials(self) -> Settings:
        if self.credentials_file is not None and not self.credentials_file.is_file():
            raise ValueError(f"GADASH_CREDENTIALS_FILE: no file at {self.credentials_file}")
        return self

    @model_validator(mode="after")
    def _check_sign_in(self) -> Settings:
        if self.sign_in:
            missing = [name for name, value in (
                ("GADASH_SECRET_KEY", self.secret_key),
                ("GADASH_OIDC_CLIENT_SECRET", self.oidc_client_secret)) if value is None]
            if missing:
                names = " and ".join(missing)
                raise ValueError(f"sign-in is on (GADASH_OIDC_CLIENT_ID) but {names} not set")
            assert self.secret_key is not None
            if len(self.secret_key.get_secret_value()) < 16:
                raise ValueError("GADASH_SECRET_KEY must be at least 16 characters")
            if not self.public_url:
                raise ValueError("sign-in is on but GADASH_PUBLIC_URL is not set: the "
                                 "address people use (e.g. https://dash.example.com) fixes "
                                 "the sign-in redirect, whatever Host a request claims")
            if not self.allowed_domains and not self.allowed_emails:
                raise ValueError("sign-in is on but neither GADASH_ALLOWED_DOMAINS nor "
                                 "GADASH_ALLOWED_EMAILS says who may sign in")
        elif self.host not in LOOPBACK_HOSTS and not self.allow_open:
            raise ValueError(f"without sign-in gadash only listens on this machine; "
                             f"GADASH_HOST={self.host} needs sign-in (GADASH_OIDC_CLIENT_ID) "
                             "or GADASH_ALLOW_OPEN=true")
        return self

    @property
    def sign_in(self) -> bool:
        """True when OIDC sign-in protects the dashboard."""
        return bool(self.oidc_client_id)

    @property
    def demo(self) -> bool:
        """True when no property is configured: the built-in GA4 stand-in serves data."""
        return not self.properties


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``; explicit overrides win.

    Raises ConfigError with one line per bad value.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"GADASH_{loc.upper()}" if loc != "settings" else loc
            lines.append(f"  {name}: {err['msg']}")
        raise ConfigError("gadash cannot start, a setting is wrong:\n" + "\n".join(lines)) from None


def signing_key(settings: Settings) -> str:
    """The key that signs sessions and TV links: GADASH_SECRET_KEY (required with
    sign-in), else the open demo's key in the data directory."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return local_secret(settings.data_dir)  # open demo: the CSRF token and TV-link sessions


def default_data_dir() -> Path:
    """Where gadash keeps its SQLite database and local signing key when GADASH_DATA_DIR
    is unset: the user's data folder ($XDG_DATA_HOME/gadash, ~/.local/share/gadash),
    so the server and every ``gadash`` command share one database, whatever the
    working directory."""
    base = os.environ.get("XDG_DATA_HOME")
    if base and Path(base).is_absolute():
        return Path(base) / "gadash"
    return Path.home() / ".local" / "share" / "gadash"


def local_secret(data_dir: Path) -> str:
    """The open demo's signing key: made once in the data directory and shared by every
    worker of this machine (a key per process would refuse each other's cookies)."""
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker is writing it this very moment
            text = path.read_text().strip()
            if text:
                return text
            time.sleep(0.02)
        raise
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()
