#!/usr/bin/env bash
# Install what the tests need, then lint, type-check and run the whole suite.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  # Browser tests drive Debian's Chromium (playwright cannot download its own here).
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && apt-get install -y -q chromium
  else
    sudo apt-get update -q && sudo apt-get install -y -q chromium
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
