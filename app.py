"""Entry point of a checkout: ``python app.py`` for a local run, ``gunicorn app:server``.

Installed (``pip install .``), the same app is ``gadash serve`` / ``gadash.wsgi:server``.
"""

from __future__ import annotations

from gadash.wsgi import app, server, settings

__all__ = ["app", "server"]

if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
