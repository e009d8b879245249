"""The WSGI entry point: ``gunicorn gadash.wsgi:server`` (what ``gadash serve`` runs).

Importing it reads the settings, configures logging and builds the app; a bad
setting prints its message and exits with status 2 instead of a traceback.
"""

from __future__ import annotations

import sys

from gadash.errors import ConfigError
from gadash.settings import load_settings
from gadash.web.app import create_app
from gadash.web.logs import configure_logging

__all__ = ["app", "server", "settings"]

try:
    settings = load_settings()
except ConfigError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
configure_logging(settings)

try:
    app = create_app(settings)  # some settings are checked as the app is built
except ConfigError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
server = app.server
