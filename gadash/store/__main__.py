"""``python -m gadash.store upgrade|current``: the team database's migrations.

Reads GADASH_DATABASE_URL / GADASH_DATA_DIR like the app does.
"""

from __future__ import annotations

import argparse
import sys

from gadash.errors import GadashError
from gadash.settings import load_settings
from gadash.store.core import Store, head_revision


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gadash.store",
        description="Migrations of gadash's team database (GADASH_DATABASE_URL, "
                    "else SQLite in GADASH_DATA_DIR).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("upgrade", help="apply every migration not yet applied")
    commands.add_parser("current", help="print the database's revision")
    args = parser.parse_args(argv)

    try:
        store = Store.from_settings(load_settings())
        try:
            if args.command == "upgrade":
                store.migrate()
                print(f"{store.url}: at revision {store.current_revision()}")
            else:
                current = store.current_revision()
                head = head_revision()
                state = "up to date" if current == head else f"newest is {head}; run upgrade"
                print(f"{current or 'none (no migration applied)'} ({state})")
        finally:
            store.dispose()
    except GadashError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
