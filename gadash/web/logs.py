"""Logging: plain lines, or one JSON object a line (``GADASH_LOG_FORMAT=json``), each
carrying the request id of the request it was written in.

The request id is the caller's ``X-Request-ID`` when it looks like one (a proxy or
load balancer set it), else a new one; responses carry it back, so a person can quote
it and an operator can find every line of that request.
"""

from __future__ import annotations

import logging
import random
import re

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from gadash.settings import Settings

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestId(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (getattr(g, "request_id", "-") if has_request_context() else "-")
        return True


def configure_logging(settings: Settings) -> None:
    """The root logger for the settings: text or JSON lines on stderr, at the level."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestId())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())


def init_request_ids(server: Flask) -> None:
    """Give every request an id (``g.request_id``) and send it back in a header."""

    @server.before_request
    def assign() -> None:
        given = request.headers.get(HEADER, "")
        # 128 random bits as 32 hex digits, as uuid4().hex gave, without its system call:
        # an id only tells requests apart (a caller may choose its own), it guards nothing.
        # The random module reseeds itself in every forked worker.
        g.request_id = given if _SANE.fullmatch(given) else f"{random.getrandbits(128):032x}"

    @server.after_request
    def answer(response: Response) -> Response:
        if "request_id" in g:
            response.headers[HEADER] = g.request_id
        return response
