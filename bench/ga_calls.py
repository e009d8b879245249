"""GA calls per dashboard load, and the time to build a view's frames from the stand-in.

    python bench/ga_calls.py [--sessions-per-day 1800] [--days 800]

Prints one line per figure; ratios where there is something to compare with.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402

from gadash.core.plans import view_query  # noqa: E402
from gadash.core.urls import ViewState  # noqa: E402
from gadash.data.cache import CacheStore  # noqa: E402
from gadash.data.service import DataService  # noqa: E402
from gadash.data.sources import create_source  # noqa: E402
from gadash.settings import Settings  # noqa: E402
from gadash.standin.server import StandinServer, demo_properties  # noqa: E402
from gadash.standin.traffic import generate  # noqa: E402
from gadash.web.app import cache, init_cache  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions-per-day", type=int, default=1800)
    parser.add_argument("--days", type=int, default=800)
    args = parser.parse_args()

    props = demo_properties(args.sessions_per_day, args.days)
    t0 = time.perf_counter()
    traffic = generate(props[0].profile, date.today())
    gen = time.perf_counter() - t0
    print(f"traffic generation: {args.days} days, {traffic.session_count:,} sessions, "
          f"{traffic.view_count:,} page views in {gen:.2f} s")

    with StandinServer(props) as standin:
        props[0].store._traffic = None  # the server generates its own on first use
        settings = Settings(ga_endpoint=standin.endpoint,
                            properties={p.display_name: p.property_id for p in props},
                            _env_file=None)
        server = Flask(__name__)
        init_cache(server, settings)
        with server.app_context():
            service = DataService(settings, create_source(settings), CacheStore(cache.cache),
                                  dict(settings.properties))
            blog = props[0].property_id
            t0 = time.perf_counter()
            service.today(blog)
            fields = service.available_fields(blog)
            print(f"first contact (time zone + metadata, includes generation): "
                  f"{time.perf_counter() - t0:.2f} s")
            for preset in ("last7", "last28", "last90", "thisyear"):
                state = ViewState("Demo blog", preset, "previous")
                query = view_query(blog, state.ranges(service.today(blog)), state.filters, fields)
                standin.servicer.calls.clear()
                t0 = time.perf_counter()
                service.view(query)
                cold = time.perf_counter() - t0
                calls = dict(standin.servicer.calls)
                t0 = time.perf_counter()
                for _ in range(20):
                    service.view(query)
                warm = (time.perf_counter() - t0) / 20
                again = sum(standin.servicer.calls.values()) - sum(calls.values())
                batches = calls.get("BatchRunReports", 0)
                print(f"analyst view {preset:>8} vs previous: {len(query.panels)} panels in "
                      f"{batches} batchRunReports call(s) (budget: 2, the second for the "
                      f"top-N tables' comparison values); cold {cold * 1000:.0f} ms, "
                      f"cached {warm * 1000:.2f} ms (ratio {cold / warm:.0f}x); "
                      f"GA calls for 20 reloads: {again}")


if __name__ == "__main__":
    main()
