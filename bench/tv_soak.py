"""Soak the big screen: /tv at an accelerated refresh in headless Chromium.

    python bench/tv_soak.py [--minutes 10] [--refresh 1]

Starts the GA4 stand-in and the app (a real server process) on loopback, opens
/tv with every screen rotating, and prints the page's JS heap and DOM node
count and the server's RSS at the start and the end, with their ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gadash.standin.server import StandinServer, demo_properties  # noqa: E402

CHROMIUM = os.environ.get("GADASH_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sample(page, cdp, pid: int) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {
        "heap_mb": metrics["JSHeapUsedSize"] / 2**20,
        "dom_nodes": page.evaluate("() => document.getElementsByTagName('*').length"),
        "cdp_nodes": metrics["Nodes"],
        "server_rss_mb": rss_mb(pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--refresh", type=int, default=1)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with StandinServer(demo_properties(days=400)) as standin:
        port = free_port()
        env = {**os.environ, "GADASH_GA_ENDPOINT": standin.endpoint, "GADASH_PORT": str(port),
               "GADASH_PROPERTIES": "Blog=100000001", "GADASH_CACHE_TTL": "5",
               "GADASH_REALTIME_TTL": "5"}
        log = tempfile.NamedTemporaryFile(prefix="gadash-soak-", suffix=".log", delete=False)
        app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--disable-background-timer-throttling",
                    "--disable-renderer-backgrounding"])
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                calls = {"ok": 0, "failed": 0}

                def count(response) -> None:
                    if "_dash-update-component" in response.url:
                        calls["ok" if response.status == 200 else "failed"] += 1

                page.on("response", count)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                r = args.refresh
                page.goto(f"{url}/tv?screens=overview,realtime,pages,sources&rotate=5"
                          f"&refresh={r}&realtime={r}")
                page.wait_for_function(
                    "() => /\\d/.test(document.getElementById('tv-kpi-sessions')?.innerText ?? '')")
                time.sleep(10)  # past the first draws
                start = sample(page, cdp, app.pid)
                t0 = time.monotonic()
                deadline = t0 + args.minutes * 60
                while time.monotonic() < deadline:
                    time.sleep(min(30, max(0.0, deadline - time.monotonic())))
                    minute = (time.monotonic() - t0) / 60
                    s = sample(page, cdp, app.pid)
                    print(f"  {minute:5.1f} min: heap {s['heap_mb']:.2f} MB, "
                          f"DOM {s['dom_nodes']:.0f} elements, server RSS "
                          f"{s['server_rss_mb']:.0f} MB", flush=True)
                end = sample(page, cdp, app.pid)
                stale = page.get_attribute("#tv-stale", "class")
                browser.close()
        finally:
            app.terminate()
            app.wait(timeout=10)
    print(f"soak: {args.minutes:g} min at refresh={args.refresh}s, rotate=5s, 4 screens; "
          f"{calls['ok']} callback requests answered, {calls['failed']} failed")
    for key, label in (("heap_mb", "JS heap (MB)"), ("dom_nodes", "DOM elements"),
                       ("cdp_nodes", "DOM nodes (CDP)"), ("server_rss_mb", "server RSS (MB)")):
        ratio = end[key] / start[key] if start[key] else float("nan")
        print(f"{label:>17}: start {start[key]:10.2f}  end {end[key]:10.2f}  "
              f"end/start {ratio:.3f}")
    print(f"stale mark at the end: {'on' if stale and 'on' in stale.split() else 'off'}")


if __name__ == "__main__":
    main()
