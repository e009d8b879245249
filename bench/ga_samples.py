"""Run Google's official GA4 Data API Python samples against the gadash stand-in.

Usage:
    python bench/ga_samples.py --samples PATH/python-docs-samples/google-analytics-data

It starts the stand-in on a free loopback port and runs, in this process, each
sample that needs no OAuth flow: the samples' own code, with only the client's
channel (an insecure channel to the stand-in, no credentials) and the property
id changed. Each prints finished, refused (UNIMPLEMENTED: message) or failed
(error), then a summary. Nothing is fetched from the network: point --samples at
a local checkout of googleanalytics/python-docs-samples.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from google.analytics.data_v1alpha import AlphaAnalyticsDataClient
from google.analytics.data_v1alpha.services.alpha_analytics_data.transports import (
    AlphaAnalyticsDataGrpcTransport,
)
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcTransport,
)
from google.api_core import exceptions as gexc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gadash.standin.server import StandinServer, demo_properties  # noqa: E402

OAUTH_MARKERS = ("google_auth_oauthlib", "InstalledAppFlow")


@contextlib.contextmanager
def clients_on(endpoint: str) -> Iterator[None]:
    """Build every v1beta and v1alpha client on an insecure channel to ``endpoint``."""
    saved: list[tuple[type, str, object]] = []
    channels: list[grpc.Channel] = []

    def patch(cls: type, transport_cls: type) -> None:
        original = cls.__init__

        def __init__(self, *args, **kwargs):  # noqa: N807 -- replaces the client's own
            kwargs.pop("credentials", None)
            kwargs.pop("client_options", None)
            channel = grpc.insecure_channel(endpoint)
            channels.append(channel)
            kwargs["transport"] = transport_cls(channel=channel)
            original(self, **kwargs)

        def from_file(klass, *args, **kwargs):
            return klass()

        for name, value in (("__init__", __init__),
                            ("from_service_account_json", classmethod(from_file)),
                            ("from_service_account_file", classmethod(from_file))):
            saved.append((cls, name, cls.__dict__[name]))
            setattr(cls, name, value)

    patch(BetaAnalyticsDataClient, BetaAnalyticsDataGrpcTransport)
    patch(AlphaAnalyticsDataClient, AlphaAnalyticsDataGrpcTransport)
    try:
        yield
    finally:
        for cls, name, value in reversed(saved):
            setattr(cls, name, value)
        for channel in channels:
            channel.close()


def sample_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.glob("*.py")
        if not p.name.endswith("_test.py") and not p.name.startswith(("noxfile", "conftest"))
    )


def entry_point(module: object, property_id: str) -> Callable[[], object]:
    """The sample's function that takes a property id, called with ours; else run_sample."""
    name = module.__name__  # type: ignore[attr-defined]
    for fname, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ != name or fname == "run_sample" or fname.startswith("print_"):
            continue
        if "property_id" in inspect.signature(fn).parameters:
            return lambda fn=fn: fn(property_id=property_id)
    return module.run_sample  # type: ignore[attr-defined,no-any-return]


def run_one(path: Path, property_id: str) -> tuple[str, str, str]:
    """(outcome, detail, captured output) of one sample."""
    module = importlib.import_module(path.stem)
    call = entry_point(module, property_id)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            call()
    except gexc.MethodNotImplemented as exc:
        return "refused", f"UNIMPLEMENTED: {exc.message}", out.getvalue()
    except Exception as exc:  # noqa: BLE001 -- every failure is reported, none hidden
        detail = f"{type(exc).__name__}: {exc}"
        return "failed", detail, out.getvalue() + traceback.format_exc()
    lines = out.getvalue().splitlines()
    return "finished", f"{len(lines)} lines, first: {lines[0] if lines else ''!r}", out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, required=True,
                        help="a local google-analytics-data folder of python-docs-samples")
    parser.add_argument("--property", default="100000001", help="property id the samples use")
    parser.add_argument("--sessions-per-day", type=int, default=300)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--verbose", action="store_true", help="print each sample's output")
    args = parser.parse_args(argv)
    folder = args.samples.resolve()
    if not folder.is_dir():
        parser.error(f"{folder} is not a folder")
    sys.path.insert(0, str(folder))

    props = demo_properties(sessions_per_day=args.sessions_per_day, days=args.days, seed=7)
    counts = {"finished": 0, "refused": 0, "failed": 0}
    skipped = []
    with StandinServer(props) as server, clients_on(server.endpoint):
        print(f"stand-in on {server.endpoint}; samples from {folder}; "
              f"property {args.property}")
        for path in sample_files(folder):
            if any(marker in path.read_text() for marker in OAUTH_MARKERS):
                skipped.append(path.name)
                print(f"{path.name:52} skipped (needs an OAuth flow)")
                continue
            started = time.perf_counter()
            outcome, detail, output = run_one(path, args.property)
            took = time.perf_counter() - started
            counts[outcome] += 1
            print(f"{path.name:52} {outcome} ({detail}) {took:.2f}s")
            if args.verbose or outcome == "failed":
                print("    " + output.strip().replace("\n", "\n    "))
    total = sum(counts.values())
    print(f"{counts['finished']} finished, {counts['refused']} refused (UNIMPLEMENTED), "
          f"{counts['failed']} failed of {total}"
          + (f"; {len(skipped)} skipped (OAuth)" if skipped else ""))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
