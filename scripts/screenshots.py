"""Take the README's screenshots from the demo, in headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs] [--tv-only]

Starts the GA4 stand-in and the app (demo mode, share-count stand-ins included)
on free loopback ports, then shoots: the analyst view at 1440x900 with a filter
picker open and, after applying it, the whole page with share counts; "What
changed", "Trending now" and an unusual day's tooltip; every TV
screen at 1920x1080 and 1366x768; the TV with a range GA cannot answer; the TV
after GA stops answering (the stale mark). Everything it starts is stopped at
the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ("overview", "realtime", "pages", "sources", "trending")
SPIKE = "/blog/getting-started-with-python/*25"  # a post taking off, for "trending"
SIZES = ((1920, 1080), (1366, 768))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{proc.args} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 -- loopback only
            return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not answer in {seconds:.0f} s")


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{proc.args} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    sys.exit(f"port {port} did not open in {seconds:.0f} s")


def wait_numbers(page: Page) -> None:
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('.tv-screen.active .tv-updated')"
        "?.innerText ?? '')", timeout=30_000)
    page.wait_for_timeout(1_500)  # charts finish drawing


def insights(page: Page, url: str, out: Path) -> None:
    """What changed, trending now, and an unusual day's tooltip on the trend."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url + "/?range=last90&compare=previous&grain=day")
    page.wait_for_selector("#an-changes .change", timeout=30_000)
    page.wait_for_selector("#an-trending .trending li", timeout=30_000)
    ring = page.locator("#an-trend .scatterlayer .trace").last.locator("path.point").first
    ring.wait_for(timeout=30_000)
    page.evaluate("""() => { const el = document.getElementById('an-changes').closest('section');
        const dock = document.querySelector('.filter-dock').offsetHeight;
        window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - dock - 16); }""")
    page.wait_for_timeout(800)
    box = ring.bounding_box()  # plotly's drag layer covers the points: move the mouse there
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(600)
    page.screenshot(path=out / "analyst-insights.png")


def analyst(page: Page, url: str, out: Path) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url + "/?range=last28&compare=previous")
    page.wait_for_function(
        "() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')")
    picker = "details[data-filter=source]"
    page.click(f"{picker} > summary")
    page.wait_for_selector(f"{picker} .picker-note:has-text('Values')")
    page.click(f"{picker} .ctl-values")
    page.keyboard.type("news.y")
    page.wait_for_timeout(400)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_timeout(400)
    page.screenshot(path=out / "analyst-picker.png")
    page.click(f"{picker} button:has-text('Apply')")
    page.wait_for_function("() => location.search.includes('source=')")
    page.locator("#an-lazy-pages").scroll_into_view_if_needed()  # mounts when seen
    page.wait_for_selector("#an-pages .ag-header-cell[col-id='share_hackernews']",
                           timeout=30_000)
    # The filter dock stays on top: the chip and the top pages with share counts.
    page.evaluate("""() => { const card = document.getElementById('an-pages').closest('section');
        const dock = document.querySelector('.filter-dock').offsetHeight;
        window.scrollTo(0, card.getBoundingClientRect().top + window.scrollY - dock - 90); }""")
    page.wait_for_timeout(1_500)
    page.screenshot(path=out / "analyst.png")


def tv(page: Page, url: str, out: Path) -> None:
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for screen in SCREENS:
            page.goto(url + f"/tv?screens={screen}&refresh=60")
            wait_numbers(page)
            page.screenshot(path=out / f"tv-{screen}-{width}x{height}.png")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(url + "/tv?screens=overview&range=2031-01-01..2031-01-31")
    wait_numbers(page)
    page.screenshot(path=out / "tv-bad-range-1366x768.png")


def explore(page: Page, url: str, out: Path) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url + "/explore?property=Demo+blog&dim=sessionDefaultChannelGroup"
              "&metric=sessions&metric=keyEvents")
    page.wait_for_function(
        "() => document.getElementById('ex-title')?.innerText.includes(' · ')", timeout=30_000)
    page.locator("#ex-grid-box").scroll_into_view_if_needed()
    page.wait_for_selector("#ex-grid .ag-row", timeout=30_000)
    page.evaluate("""() => window.scrollTo(0, document.getElementById('ex-title')
        .getBoundingClientRect().top + window.scrollY - 60)""")
    page.wait_for_timeout(1_000)
    page.screenshot(path=out / "explore.png")


def tv_panels(page: Page, url: str, out: Path) -> None:
    """Explore's built-in panels as TV screens."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for prop, panel in (("Demo+blog", "events"), ("Demo+shop", "products")):
            page.goto(url + f"/tv?property={prop}&screens=panel:{panel}&refresh=60")
            page.wait_for_selector(".tv-screen.active .tv-item-value", timeout=30_000)
            page.wait_for_timeout(500)
            page.screenshot(path=out / f"tv-panel-{panel}-{width}x{height}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--tv-only", action="store_true",
                        help="only the TV's screenshots (tv-*.png)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ga_port, app_port = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="gadash-shots-")
    standin = subprocess.Popen(  # noqa: S603 -- our own module
        [sys.executable, "-m", "gadash.standin", "--port", str(ga_port), "--spike", SPIKE],
        cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    try:
        wait_port(ga_port, standin)
        env = {**os.environ, "GADASH_GA_ENDPOINT": f"127.0.0.1:{ga_port}",
               "GADASH_PORT": str(app_port), "GADASH_HOST": "127.0.0.1",
               "GADASH_DATA_DIR": data, "GADASH_CACHE_TTL": "10", "GADASH_GA_TIMEOUT": "2"}
        env.pop("GADASH_PROPERTIES", None)
        app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,  # noqa: S603
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{app_port}"
        wait_http(url + "/", app)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get(
                "CHROMIUM", "/usr/bin/chromium"))
            page = browser.new_page()
            if not args.tv_only:
                analyst(page, url, args.out)
                insights(page, url, args.out)
            tv(page, url, args.out)
            if not args.tv_only:
                explore(page, url, args.out)
            tv_panels(page, url, args.out)
            # GA stops answering: the TV keeps its numbers and marks them stale.
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.goto(url + "/tv?screens=overview&refresh=5")
            wait_numbers(page)
            standin.terminate()
            standin.wait(10)
            page.wait_for_selector(".tv-stale.on", timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=args.out / "tv-stale-1920x1080.png")
            browser.close()
    finally:
        for proc in (app, standin):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
