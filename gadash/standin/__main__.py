"""Run the GA4 stand-in on its own: ``python -m gadash.standin --port 50051``.

``--spike PATH*FACTOR`` (repeatable) reads that page at FACTOR times its usual rate
in every property that has it, so it trends in realtime.
"""

from __future__ import annotations

import argparse
import logging

from gadash.standin.server import StandinServer, demo_properties, parse_spike


def _spike(text: str) -> tuple[str, float]:
    try:
        return parse_spike(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=50051)
    parser.add_argument("--sessions-per-day", type=int, default=1800)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--time-zone", default="America/New_York")
    parser.add_argument("--spike", type=_spike, action="append", default=[],
                        metavar="PATH*FACTOR",
                        help="read this page at FACTOR times its usual rate, e.g. "
                             "/blog/getting-started-with-python/*10")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    props = demo_properties(args.sessions_per_day, args.days, args.seed, args.time_zone)
    server = StandinServer(props, port=args.port, host=args.host)
    for path, factor in args.spike:
        try:
            spiked = server.servicer.spike_everywhere(path, factor)
        except ValueError as exc:
            parser.error(f"argument --spike: {exc}")
        logging.info("%s at %g times its usual rate in %s", path, factor, ", ".join(spiked))
    server.start()
    for p in props:
        print(f"{p.property_id}\t{p.display_name}\t{p.time_zone}\t{p.currency}", flush=True)
    logging.info("GA4 Data API stand-in on %s; set GADASH_GA_ENDPOINT=%s", server.endpoint,
                 server.endpoint)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop(grace=1)


if __name__ == "__main__":
    main()
