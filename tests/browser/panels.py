"""The analyst view's panels below the fold mount when scrolled to; tests scroll too."""

from __future__ import annotations

from typing import Any


def reveal(page: Any, *panels: str) -> None:
    """Scroll each panel's box into view (which mounts it), as a reader would."""
    for panel in panels:
        page.locator(f"#an-lazy-{panel}").scroll_into_view_if_needed()


def reveal_all(page: Any) -> None:
    """Every panel below the fold, top to bottom, then back to the top."""
    reveal(page, "channels", "new-returning", "sources", "landing", "pages", "countries")
    page.evaluate("window.scrollTo(0, 0)")
