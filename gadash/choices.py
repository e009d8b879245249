"""Fixed lists of names that settings check and the rest of the app uses.

They live apart so that ``settings`` can validate values without importing the
modules that use them (which import ``settings``).
"""

from __future__ import annotations

# Share-count providers, in the order their columns appear.
SHARE_PROVIDERS = ("hackernews", "reddit", "facebook")

SCREENS: dict[str, str] = {
    "overview": "Overview",
    "realtime": "Right now",
    "pages": "Top pages",
    "sources": "Top sources",
    "trending": "Trending now",
}


def parse_screens(value: str) -> tuple[str, ...]:
    """A comma list of screen ids, in order, without repeats. Raises ValueError."""
    screens: list[str] = []
    for raw in value.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in SCREENS:
            raise ValueError(f"unknown screen {name!r}; screens are {', '.join(SCREENS)}")
        if name not in screens:
            screens.append(name)
    if not screens:
        raise ValueError(f"no screen named; screens are {', '.join(SCREENS)}")
    return tuple(screens)
