"""Page load: bytes on the wire, requests, time until every panel shows numbers, and
Lighthouse's performance score beside a minimal Dash app's.

    .venv/bin/python bench/pageload.py [--url http://127.0.0.1:8050] [--runs 3]
                                       [--no-lighthouse] [--keep DIR]

Without --url it starts the demo (GA4 and share-count stand-ins) on a free
loopback port. For `/`, `/tv` and `/explore` it loads the page in headless Chromium twice
per run: cold (a new browser profile: nothing cached) and warm (the same
profile again: what the browser cache keeps). Bytes are what crossed the wire
(compressed, headers excluded, as Chromium reports each response body;
BENCH_VERBOSE=1 lists the largest); "numbers"
is the time from navigation until every panel on the first screen shows data.
On `/` the visit then scrolls down the page as a reader would (400 px every
100 ms, 2 s to the bottom): "scrolled" is the time from the first scroll until
every panel below has mounted and shows data, and "KB all" the bytes on the wire
by then. `/explore` shows numbers once its answer's title is drawn ("… · …").
Prints one table of medians.

Then Lighthouse 12.2.3 (Node 20, ``npx -y``) against Debian's Chromium, desktop preset,
performance only, ``--runs`` times each on `/`, `/tv`, `/explore` and on the minimal
Dash app (``bench/minimal_app.py``: one callback that returns a constant), which it
serves with gunicorn and the Procfile's config (``gadash/gunicorn_conf.py``, as
bench/viewers.py does) on a free loopback port. Per page it prints the median score,
total blocking time, largest contentful paint, cumulative layout shift and longest
main-thread task (the
``long-tasks`` audit, simulated as TBT is; when no task reaches 50 ms, the longest of
``main-thread-tasks``), and the worst run's score; each run's figures go to stderr as
it ends, with the load average before and after it. A run Lighthouse fails (now and
then it loses the trace: NO_NAVSTART) is tried again, three tries in all. --keep DIR
keeps every report (``<page>-<run>.json``: CLS and the rest are there; with this
Chromium the layout-shifts, LCP-element and render-blocking audits error, their
trace parser does not know its screenshots); --no-lighthouse skips it all. Each run
is what this command does:

    CHROME_PATH=/usr/bin/chromium npx -y lighthouse@12.2.3 http://127.0.0.1:8050/ \\
        --preset=desktop --only-categories=performance --quiet \\
        --chrome-flags="--headless=new --no-sandbox" --output=json --output-path=lh.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
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
    "/explore": "() => document.getElementById('ex-title')?.innerText.includes(' · ')",
}
# Lighthouse's pages: (label, server, path); server "demo" is gadash, "minimal" the baseline.
LIGHTHOUSE_PAGES = [("/", "demo", "/"), ("/tv", "demo", "/tv"),
                    ("/explore", "demo", "/explore"), ("minimal Dash app", "minimal", "/")]
# The URL goes before these: yargs would take it for one more --output value.
LIGHTHOUSE = ["--preset=desktop",
              "--only-categories=performance", "--quiet",
              "--chrome-flags=--headless=new --no-sandbox", "--output=json"]


# Every panel of `/`, those mounted when scrolled to included.
ALL_PANELS = """() => document.querySelector('#an-countries .bars path')
    && document.querySelector('#an-new-returning .pielayer .trace')
    && ['channels', 'sources', 'landing', 'pages'].every(
        g => document.querySelector(`#an-${g} .ag-row`))"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_answering(url: str, proc: subprocess.Popen[bytes]) -> bool:
    """Whether the server at ``url`` answers (any HTTP status) within a minute."""
    for _ in range(200):
        if proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 -- loopback
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def start_minimal(procs: list[subprocess.Popen[bytes]]) -> str:
    """bench/minimal_app.py under gunicorn with the Procfile's config, as viewers.py."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="gadash-bench-minimal-", suffix=".log",
                                      delete=False)
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "minimal_app:server",
         "--config", str(ROOT / "gadash/gunicorn_conf.py"), "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT / "bench", stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)
    url = f"http://127.0.0.1:{port}"
    if not wait_answering(url + "/", proc):
        raise RuntimeError(f"the minimal Dash app did not start, see {log.name}")
    return url


def lighthouse(url: str, out: Path, tries: int = 3) -> dict[str, float]:
    """One Lighthouse run: score, TBT, LCP and the longest main-thread task. A run that
    fails (now and then Lighthouse loses the trace: NO_NAVSTART) is tried again."""
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROMIUM", "/usr/bin/chromium")}
    command = ["npx", "-y", "lighthouse@12.2.3", url, *LIGHTHOUSE, f"--output-path={out}"]
    for attempt in range(1, tries + 1):
        out.unlink(missing_ok=True)
        # A session of its own, so that on a timeout or a stop it can be interrupted as a
        # whole: Lighthouse then closes its Chromium (which it starts in a session of
        # Chromium's own, out of reach of a kill of this group).
        done = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            _, stderr = done.communicate(timeout=300)
        except BaseException:
            os.killpg(done.pid, signal.SIGINT)
            try:
                done.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(done.pid, signal.SIGKILL)
                done.communicate()
            raise
        report = json.loads(out.read_text()) if out.exists() else {}
        failed = (done.returncode != 0 or not report.get("categories")
                  or report.get("runtimeError") or report["categories"]["performance"]["score"]
                  is None)
        if not failed:
            break
        why = (report.get("runtimeError") or {}).get("code") or stderr.strip()[-2000:]
        if attempt == tries:
            raise RuntimeError(f"lighthouse {url} failed {tries} times: {why}")
        print(f"lighthouse {url}: {why}; trying again", file=sys.stderr)
    audits = report["audits"]

    def longest(audit: str) -> float:
        items = (audits.get(audit, {}).get("details") or {}).get("items") or []
        return max((float(i.get("duration", 0)) for i in items), default=0.0)

    return {"score": round(100 * report["categories"]["performance"]["score"]),
            "tbt": float(audits["total-blocking-time"]["numericValue"]),
            "lcp": float(audits["largest-contentful-paint"]["numericValue"]),
            "cls": float(audits["cumulative-layout-shift"]["numericValue"]),
            "task": longest("long-tasks") or longest("main-thread-tasks")}


def run_lighthouse(urls: dict[str, str], runs: int, keep: Path | None) -> None:
    """Lighthouse ``runs`` times on each page; prints medians and the worst score."""
    folder = keep or Path(tempfile.mkdtemp(prefix="gadash-bench-lh-"))
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, float]]] = {}
    try:
        for label, server, path in LIGHTHOUSE_PAGES:
            name = label.strip("/").replace(" ", "-").replace("/", "-") or "index"
            for n in range(runs):
                before = os.getloadavg()[0]
                got = lighthouse(urls[server] + path, folder / f"{name}-{n + 1}.json")
                results.setdefault(label, []).append(got)
                # Each run as it ends, with the load average (Lighthouse is load-sensitive).
                print(f"  {label:22} run {n + 1}: score {got['score']:3.0f}, TBT "
                      f"{got['tbt']:5,.0f} ms, CLS {got['cls']:.3f}, longest task "
                      f"{got['task']:4,.0f} ms; load {before:.2f} -> {os.getloadavg()[0]:.2f}",
                      file=sys.stderr)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print()
    print(f"Lighthouse 12.2.3, desktop, performance; median of {runs} runs")
    print(f"{'page':24} {'score':>5} {'TBT ms':>7} {'LCP ms':>7} {'CLS':>6} "
          f"{'longest task ms':>15} {'worst score':>11}")
    for label, got in results.items():
        med = {k: statistics.median(r[k] for r in got) for k in got[0]}
        print(f"{label:24} {med['score']:5.0f} {med['tbt']:7,.0f} {med['lcp']:7,.0f} "
              f"{med['cls']:6.3f} {med['task']:15,.0f} {min(r['score'] for r in got):11.0f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if keep is not None:
        print(f"reports in {keep}")


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
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep Lighthouse's JSON reports in DIR")
    args = parser.parse_args()
    # Stopped (SIGTERM) as by Ctrl-C: the servers it started stop too (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    procs: list[subprocess.Popen[bytes]] = []
    url = args.url
    try:
        if not url:
            proc, url = start_demo()
            procs.append(proc)
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
        print_table(rows)
        if not args.no_lighthouse:
            run_lighthouse({"demo": url, "minimal": start_minimal(procs)}, args.runs, args.keep)
    finally:
        for proc in reversed(procs):
            stop(proc)


def print_table(rows: dict[tuple[str, str], list[dict[str, float]]]) -> None:
    print(f"{'page':24} {'cache':5} {'KB on wire':>10} {'requests':>9} {'numbers ms':>11} "
          f"{'scrolled ms':>11} {'KB all':>7}")
    for (path, cache), runs in rows.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{path:24} {cache:5} {med['kb']:10,.0f} {med['requests']:9.0f} "
              f"{med['numbers_ms']:11,.0f} {med.get('all_ms', 0):11,.0f} "
              f"{med.get('kb_all', 0):7,.0f}")


if __name__ == "__main__":
    main()
