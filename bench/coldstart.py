"""Cold start: how long a newcomer waits after starting the demo, and on the first switch
to the large property.

    .venv/bin/python bench/coldstart.py [--runs 5] [--port 8950] [--keep-logs]

Each run starts the README's run command (``python app.py`` from the checkout) as a
fresh process with a fresh temporary data directory (the team database) and no
``REDIS_URL`` (the cache is the process's own, so it starts empty), and opens ``/`` in
headless Chromium (launched before the run: its start-up is not counted) as soon as
the server answers. It measures

- **numbers**: from the process start until the KPI tiles show numbers
  (``#an-kpi-sessions`` has a digit); "answers" is when the server first answered
  an HTTP request, "page" the part after that;
- **switch**: then it picks "Demo news" (the large property, years of history) in the
  property dropdown as a person would (a click on the dropdown, a click on the
  option) and measures from the click on the option until the tiles show the news
  site's numbers (its revenue in pounds, a sessions count other than the blog's).

It prints both figures per run, then the medians, and the machine's load average
(other processes share the cores: compare runs made under a similar load), with the
CPU time the server process had used by the numbers and during the switch (user and
system, from /proc: what the server did, less sensitive to the load than the clock). The server
is stopped after each run; ``--keep-logs`` keeps its output (a file per run, named).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
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
LARGE = "Demo news"
NUMBERS = "() => /\\d/.test(document.getElementById('an-kpi-sessions')?.innerText ?? '')"
# The news site's tiles: sessions other than the blog's, and revenue in pounds.
SWITCHED = """(before) => {
    const s = document.getElementById('an-kpi-sessions')?.innerText ?? '';
    return /\\d/.test(s) && s !== before
        && (document.getElementById('an-kpis')?.innerText ?? '').includes('£');
}"""


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)  # noqa: S310 -- loopback
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def cpu_ms(pid: int) -> float:
    """The CPU time (user and system) the process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def one_run(browser: Browser, port: int, log: Path) -> dict[str, float]:
    """A fresh process: ms until it answers, until numbers, and the first switch."""
    data_dir = tempfile.mkdtemp(prefix="gadash-coldstart-")
    env = {**os.environ, "GADASH_PORT": str(port), "GADASH_HOST": "127.0.0.1",
           "GADASH_DATA_DIR": data_dir}
    for name in ("GADASH_PROPERTIES", "REDIS_URL", "GADASH_GA_ENDPOINT"):
        env.pop(name, None)
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(**VIEW)
    page = context.new_page()
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        while not answers(url + "/healthz"):
            if proc.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError(f"the demo did not start, see {log}")
            time.sleep(0.02)
        answered = time.perf_counter()
        page.goto(url + "/", wait_until="commit")
        page.wait_for_function(NUMBERS, timeout=120_000, polling=20)
        numbers = time.perf_counter()
        cpu_numbers = cpu_ms(proc.pid)
        before = page.inner_text("#an-kpi-sessions")
        page.click("#an-property")
        option = page.get_by_role("option", name=LARGE, exact=True)
        option.wait_for()
        clicked = time.perf_counter()
        option.click()
        page.wait_for_function(SWITCHED, arg=before, timeout=120_000, polling=20)
        switched = time.perf_counter()
        cpu_switched = cpu_ms(proc.pid)
    finally:
        context.close()
        stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)
    return {"answers": (answered - started) * 1000, "numbers": (numbers - started) * 1000,
            "page": (numbers - answered) * 1000, "switch": (switched - clicked) * 1000,
            "cpu": cpu_numbers, "cpu_switch": cpu_switched - cpu_numbers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8950, help="loopback port for the demo")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep each run's server output")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    logs = Path(tempfile.mkdtemp(prefix="gadash-coldstart-logs-"))
    results: list[dict[str, float]] = []
    loads = [os.getloadavg()[0]]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=["--no-sandbox"])
            print(f"{'run':>3} {'answers ms':>10} {'numbers ms':>10} {'(page ms)':>9} "
                  f"{'switch ms':>9} {'load':>5} {'CPU ms':>7} {'CPU ms':>7}")
            for n in range(1, args.runs + 1):
                got = one_run(browser, args.port, logs / f"run-{n}.log")
                results.append(got)
                loads.append(os.getloadavg()[0])
                print(f"{n:3} {got['answers']:10,.0f} {got['numbers']:10,.0f} "
                      f"{got['page']:9,.0f} {got['switch']:9,.0f} {loads[-1]:5.2f} "
                      f"{got['cpu']:7,.0f} {got['cpu_switch']:7,.0f}",
                      flush=True)
            browser.close()
    finally:
        if args.keep_logs:
            print(f"server output in {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"med {med['answers']:10,.0f} {med['numbers']:10,.0f} {med['page']:9,.0f} "
          f"{med['switch']:9,.0f}       {med['cpu']:7,.0f} {med['cpu_switch']:7,.0f}"
          f"\n(median of {len(results)}; 1-minute load average "
          f"{min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
