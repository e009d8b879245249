"""Entry point: ``python app.py`` for a local run, ``gunicorn app:server`` in production."""

from __future__ import annotations

import sys

from gadash import create_app
from gadash.errors import ConfigError
from gadash.logs import configure_logging
from gadash.settings import load_settings

try:
    settings = load_settings()
except ConfigError as exc:
    sys.exit(str(exc))
configure_logging(settings)

app = create_app(settings)
server = app.server

if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
