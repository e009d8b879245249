"""Share counts: 30 URLs x 3 providers against local servers that answer after 200 ms.

    python bench/shares.py [--urls 30] [--latency 0.2] [--per-host 6]

Each provider has its own server (as each network is its own host), in a
separate process so that servers and client do not share an interpreter. Prints the
batch's wall time, the sequential estimate, their ratio, and the ideal: one
round trip per wave of the per-host connection limit.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gadash.data.shares.facebook import Facebook  # noqa: E402
from gadash.data.shares.fetch import FetchLimits, fetch_counts  # noqa: E402
from gadash.data.shares.hackernews import HackerNews  # noqa: E402
from gadash.data.shares.reddit import Reddit  # noqa: E402
from gadash.standin.http import BackgroundServer  # noqa: E402
from gadash.standin.shares import create_share_app, standin_urls  # noqa: E402


def serve(latency: float) -> None:
    """Three share stand-ins, one per provider; their URLs on stdout; stop at EOF on stdin."""
    servers = [BackgroundServer(create_share_app(latency)).start() for _ in range(3)]
    for s in servers:
        print(s.url, flush=True)
    sys.stdin.read()
    for s in servers:
        s.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--urls", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--per-host", type=int, default=6)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--latency",
                               str(args.latency)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None and server.stdin is not None
    bases = [server.stdout.readline().strip() for _ in range(3)]
    try:
        providers = [
            HackerNews(standin_urls(bases[0])["hackernews_url"]),
            Reddit(standin_urls(bases[1])["reddit_url"], "gadash-bench/1.0"),
            Facebook(standin_urls(bases[2])["facebook_url"], "bench-token"),
        ]
        for p in providers:  # measure concurrency, not the networks' rate limits
            p.rate, p.burst = 1000.0, 1000
        urls = [f"https://blog.example.com/blog/post-{i}/" for i in range(args.urls)]
        limits = FetchLimits(timeout=5, deadline=30, per_host=args.per_host)
        fetch_counts(providers, urls[:1], limits)  # warm-up: imports, first connections
        t0 = time.perf_counter()
        result = fetch_counts(providers, urls, limits)
        wall = time.perf_counter() - t0
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    ok = sum(r.ok for r in result.values())
    requests = len(providers) * len(urls)
    sequential = requests * args.latency
    waves = math.ceil(len(urls) / args.per_host)
    ideal = waves * args.latency
    print(f"batch: {len(urls)} URLs x {len(providers)} providers = {requests} requests, "
          f"{ok} answered")
    print(f"wall time {wall:.2f} s; sequential estimate {sequential:.1f} s "
          f"({requests} x {args.latency * 1000:.0f} ms); speed-up {sequential / wall:.1f}x")
    print(f"ideal: {waves} waves of {args.per_host} per host x {args.latency * 1000:.0f} ms = "
          f"{ideal:.2f} s; wall / ideal = {wall / ideal:.2f}")


if __name__ == "__main__":
    main()
