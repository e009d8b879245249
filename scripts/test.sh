#!/usr/bin/env bash
# Install what the tests need, then lint, type-check, check the import rules (the
# rooms of README's "Architecture", pyproject.toml's [tool.importlinter]) and run the
# whole suite.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

packages=()
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  # Browser tests drive Debian's Chromium (playwright cannot download its own here).
  packages+=(chromium)
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
   && ! { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1; then
  # Store tests start a throwaway PostgreSQL server (tests/store/postgres.py).
  packages+=(postgresql)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  as_root apt-get update -q && as_root apt-get install -y -q "${packages[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
