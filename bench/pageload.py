"""Page load: bytes on the wire, requests, and time until every panel shows numbers.

    .venv/bin/python bench/pageload.py [--url http://127.0.0.1:8050] [--runs 3]

Without --url it starts the demo (GA4 and share-count stand-ins) on a free
loopback port. For `/` and `/tv` it loads the page in headless Chromium twice
per run: cold (a new browser profile: nothing cached) and warm (the same
profile again: what the browser cache keeps). Bytes are what crossed the wire
(compressed, headers excluded, as Chromium reports each response body;
BENCH_VERBOSE=1 lists the largest); "numbers"
is the time from navigation until every panel on the first screen shows data.
On `/` the visit then scrolls down the page as a reader would (400 px every
100 ms, 2 s to the bottom): "scrolled" is the time from the first scroll until
every panel below has mounted and shows data, and "KB all" the bytes on the wire
by then. Prints one table of medians.

Lighthouse 12.2.3 (Node 20) against Debian's Chromium, desktop preset:

    CHROME_PATH=/usr/bin/chromium npx -y lighthouse@12.2.3 http://127.0.0.1:8050/ \\
        --preset=desktop --only-categories=performance --quiet \\
        --chrome-flags="--headless=new --no-sandbox" --output=json --output-path=lh.json
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
VIEW: Any = {"viewport": {"width": 1440, "height": 900}}
# When a page counts as showing numbers: every panel on its first screen has data.
READY = {
    "/": """() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')
        && document.querySelector('#an-trend .scatterlayer .trace')
        && document.querySelector('#an-devices .pielayer .trace')""",
    "/tv?screens=overview": """() => /\\d/.test(document.getElementById('tv-kpi-sessions')
        ?.innerText ?? '') && document.querySelector('#tv-trend .scatterlayer .trace')
        && document.querySelectorAll('#tv-channels li').length > 0""",
}


# Every panel of `/`, those mounted when scrolled to included.
ALL_PANELS = """() => document.querySelector('#an-countries .bars path')
    && document.querySelector('#an-new-returning .pielayer .trace')
    && ['channels', 'sources', 'landing', 'pages'].every(
        g => document.querySelector(`#an-${g} .ag-row`))"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_demo() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "GADASH_PORT": str(port), "GADASH_HOST": "127.0.0.1",
           "GADASH_DATA_DIR": tempfile.mkdtemp(prefix="gadash-bench-")}
    env.pop("GADASH_PROPERTIES", None)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/", timeout=2)  # noqa: S310 -- loopback
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    sys.exit("the demo did not start")


def load(browser: Browser, url: str, ready: str, profile: Any) -> dict[str, float]:
    """One visit: bytes on the wire, requests, ms until numbers."""
    page = profile.new_page()
    wire: dict[str, float] = {}
    page.on("requestfinished",
            lambda r: wire.__setitem__(f"{len(wire)} {r.url}",
                                      max(0, r.sizes()["responseBodySize"])))
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(ready, timeout=60_000, polling=50)
    numbers = (time.perf_counter() - started) * 1000
    page.wait_for_timeout(1500)  # late requests (share counts, chunks) still count
    out = {"kb": sum(wire.values()) / 1024, "requests": len(wire), "numbers_ms": numbers}
    if url.endswith("/"):  # the analyst view: read on down the page
        started = time.perf_counter()
        for _ in range(20):
            page.mouse.wheel(0, 400)
            page.wait_for_timeout(100)
        page.wait_for_function(ALL_PANELS, timeout=60_000, polling=50)
        out["all_ms"] = (time.perf_counter() - started) * 1000
        page.wait_for_timeout(1500)
        out["kb_all"] = sum(wire.values()) / 1024
    if os.environ.get("BENCH_VERBOSE"):
        for name, size in sorted(wire.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {size / 1024:9,.1f} KB  {name}")
    page.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running gadash (default: start the demo)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    proc = None
    url = args.url
    if not url:
        proc, url = start_demo()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get(
                "CHROMIUM", "/usr/bin/chromium"))
            rows: dict[tuple[str, str], list[dict[str, float]]] = {}
            for path, ready in READY.items():
                load(browser, url + path, ready, browser.new_context(**VIEW))  # server warm-up
                for _ in range(args.runs):
                    profile = browser.new_context(**VIEW)
                    rows.setdefault((path, "cold"), []).append(
                        load(browser, url + path, ready, profile))
                    rows.setdefault((path, "warm"), []).append(
                        load(browser, url + path, ready, profile))
                    profile.close()
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)
    print(f"{'page':24} {'cache':5} {'KB on wire':>10} {'requests':>9} {'numbers ms':>11} "
          f"{'scrolled ms':>11} {'KB all':>7}")
    for (path, cache), runs in rows.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{path:24} {cache:5} {med['kb']:10,.0f} {med['requests']:9.0f} "
              f"{med['numbers_ms']:11,.0f} {med.get('all_ms', 0):11,.0f} "
              f"{med.get('kb_all', 0):7,.0f}")


if __name__ == "__main__":
    main()
