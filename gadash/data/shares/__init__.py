"""Social engagement counts for pages: providers, one module each, and the fetcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gadash.data.shares.base import Provider, ShareCounts
from gadash.data.shares.facebook import Facebook
from gadash.data.shares.hackernews import HackerNews
from gadash.data.shares.reddit import Reddit
from gadash.settings import SHARE_PROVIDERS

if TYPE_CHECKING:
    from gadash.settings import Settings

PROVIDERS = SHARE_PROVIDERS


def create_providers(settings: Settings) -> tuple[list[Provider], list[str]]:
    """The providers switched on, and a note for each one that cannot run."""
    providers: list[Provider] = []
    notes: list[str] = []
    for name in filter(None, settings.share_providers.split(",")):
        if name == "hackernews":
            providers.append(HackerNews(settings.hackernews_url))
        elif name == "reddit":
            providers.append(Reddit(settings.reddit_url, settings.share_user_agent))
        elif name == "facebook":
            if settings.facebook_token is None:
                notes.append("Facebook counts are off: set GADASH_FACEBOOK_TOKEN.")
            else:
                providers.append(Facebook(settings.facebook_url,
                                          settings.facebook_token.get_secret_value()))
    for provider in providers:
        # A proxy, an OAuth quota or a stand-in may allow more (or less) than the default.
        rate = settings.share_rate_limits.get(provider.name)
        if rate is not None:
            provider.rate = float(rate)
            provider.burst = max(provider.burst, int(float(rate)))
    return providers, notes


__all__ = ["PROVIDERS", "Provider", "ShareCounts", "create_providers"]
