"""Optional alerts: a webhook POST with Slack-compatible JSON when something happens.

Off unless ``GADASH_ALERT_WEBHOOK_URL`` is set. Slack, Mattermost, Discord's
``/slack`` endpoint and Teams' Slack-compatible connectors all read ``text``;
Slack also draws ``blocks``.

Every instance of the app shares two things through the cache store (Redis when
set, else this process's memory):

- ``alert:sent:{kind}:{key}``: the same alert is sent once per
  ``GADASH_ALERT_REPEAT_HOURS``; a failed POST removes it, so it is tried again;
- ``alert:count:{YYYYMMDDHH}`` (UTC hour): at most ``GADASH_ALERT_MAX_PER_HOUR``
  alerts are sent per clock hour; ``alert:limited:{YYYYMMDDHH}`` logs the first
  one dropped, once an hour.

The webhook URL is a secret (whoever has it can post to the channel): logs show
its scheme and host only. The POST uses the standard library (``requests`` is not
a runtime dependency), never follows a redirect and never raises.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from gadash.core.digest import where
from gadash.data.cache import CacheStore
from gadash.errors import ConfigError
from gadash.settings import Settings

log = logging.getLogger(__name__)

LINK_LABEL = "Open in gadash"
QUEUE_SIZE = 100  # alerts waiting for the background sender; past this, dropped
HOUR_KEY_TTL = 2 * 3600  # an hour's counter outlives its hour, whatever the clock skew


def escape(text: str) -> str:
    """Text safe in Slack mrkdwn: ``&``, ``<`` and ``>`` as entities, and a zero-width
    space after every ``@``.

    Page titles come from GA, where anyone can send hits: a title such as
    ``<!channel>`` (Slack) or ``@everyone`` / ``@channel`` (Discord, Mattermost) then
    shows as such and pings nobody.
    """
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("@", "@\u200b"))


def payload(text: str, link: str | None = None) -> dict[str, Any]:
    """Slack incoming-webhook JSON: ``text``, plus a section block with the link."""
    body = escape(text)
    if link:
        url = escape(link.replace("|", "%7C").replace(" ", "%20"))
        body = f"{body}\n<{url}|{LINK_LABEL}>"
    return {"text": escape(text),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]}


def _peek(error: urllib.error.HTTPError) -> str:
    """The start of an error answer's body (Slack says why there), "" if unreadable."""
    try:
        return error.read(200).decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return ""
    finally:
        error.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer like any other non-2xx: a webhook that moved is a failure."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> None:
        return None


def scrub(message: str, url: str) -> str:
    """``message`` without the webhook's path and query (its secret parts: Slack keeps
    its token in the path, Google Chat in the query), should it quote them."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return message.replace(url, where(url))
    message = message.replace(url, where(url))
    for secret, shown in ((parts.query, "..."), (parts.path, "/...")):
        if len(secret) > 1:
            message = message.replace(secret, shown)
    return message


def post_json(url: str, body: dict[str, Any], timeout: float, user_agent: str,
              opener: urllib.request.OpenerDirector | None = None) -> str:
    """POST ``body`` as JSON, following no redirect: "" when the webhook took it (2xx),
    else why not (the URL's secret path never in it). Never raises."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": user_agent})
    try:
        with (opener or urllib.request.build_opener(NoRedirect)).open(
                request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {scrub(_peek(exc), url)}".strip()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        name = "URLError" if isinstance(cause, str) else type(cause).__name__
        return f"{name}: {scrub(str(cause), url)}".strip()
    return ""


class Alerts:
    """Sends alerts to the webhook, once per alert and within the hourly limit.

    ``clock`` (seconds since the epoch) picks the hour of the limit; tests fix it.
    Raises ConfigError when the webhook URL is set but is not an http(s) URL.
    """

    def __init__(self, settings: Settings, store: CacheStore,
                 clock: Callable[[], float] = time.time):
        self._url = settings.alert_webhook_url or None
        if self._url is not None:
            parts = urlsplit(self._url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError("GADASH_ALERT_WEBHOOK_URL is not an http(s) URL such as "
                                  "https://hooks.slack.com/services/...")
        self._store = store
        self._clock = clock
        self.max_per_hour = settings.alert_max_per_hour
        self.repeat_seconds = settings.alert_repeat_hours * 3600
        self.timeout = settings.alert_timeout
        self._user_agent = settings.share_user_agent
        self._opener = urllib.request.build_opener(NoRedirect)
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue(QUEUE_SIZE)
        self._worker: threading.Thread | None = None
        self._worker_pid = 0
        self._worker_guard = threading.Lock()

    @property
    def enabled(self) -> bool:
        """True when a webhook URL is set."""
        return self._url is not None

    @property
    def target(self) -> str:
        """Where alerts go, safe to show: scheme and host, or "" when off."""
        return where(self._url) if self._url else ""

    def send(self, kind: str, key: str, text: str, link: str | None = None) -> bool:
        """Post the alert now unless it was sent lately or the hour's limit is reached.

        True when the webhook accepted it (2xx); never raises.
        """
        if not self._claim(kind, key):
            return False
        return self._post(kind, key, payload(text, link))

    def send_async(self, kind: str, key: str, text: str, link: str | None = None) -> bool:
        """Like ``send``, but the POST happens on a background thread.

        The checks are made at once (a few store round trips); True when the alert
        is queued for posting. A full queue drops the alert (logged), so a slow
        webhook never holds up the caller.
        """
        if not self._claim(kind, key):
            return False
        self._ensure_worker()
        try:
            self._queue.put_nowait((kind, key, payload(text, link)))
        except queue.Full:
            self._release(kind, key)
            log.warning("alert %s %r dropped: %d alerts already wait for %s",
                        kind, key, QUEUE_SIZE, self.target)
            return False
        return True

    def flush(self, timeout: float) -> bool:
        """Wait until the queued alerts are posted; True when none is left in time."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def _claim(self, kind: str, key: str) -> bool:
        """Take the right to send this alert: not sent lately, and under the limit."""
        if self._url is None:
            return False
        if not self._store.add(self._sent_key(kind, key), self._clock(), self.repeat_seconds):
            return False
        hour = time.strftime("%Y%m%d%H", time.gmtime(self._clock()))
        if self._store.incr(f"alert:count:{hour}", HOUR_KEY_TTL) > self.max_per_hour:
            # Not sent, so not "sent lately": it may go out in a later hour.
            self._release(kind, key)
            if self._store.add(f"alert:limited:{hour}", 1, HOUR_KEY_TTL):
                log.warning("alerts: the limit of %d an hour is reached; %s %r and the "
                            "others until the hour ends are not sent (GADASH_ALERT_MAX_PER_HOUR)",
                            self.max_per_hour, kind, key)
            return False
        return True

    def _post(self, kind: str, key: str, body: dict[str, Any]) -> bool:
        """POST ``body``; on any failure log why, release the alert, return False."""
        assert self._url is not None
        reason = post_json(self._url, body, self.timeout, self._user_agent, self._opener)
        if not reason:
            log.info("alert %s %r sent to %s", kind, key, self.target)
            return True
        self._release(kind, key)
        log.warning("alert %s %r not sent to %s: %s", kind, key, self.target, reason)
        return False

    def _release(self, kind: str, key: str) -> None:
        self._store.delete(self._sent_key(kind, key))

    @staticmethod
    def _sent_key(kind: str, key: str) -> str:
        return f"alert:sent:{kind}:{key}"

    def _ensure_worker(self) -> None:
        # Started on first use, and again in a forked worker (threads do not survive fork).
        with self._worker_guard:
            if (self._worker is not None and self._worker.is_alive()
                    and self._worker_pid == os.getpid()):
                return
            if self._worker_pid != os.getpid():
                self._queue = queue.Queue(QUEUE_SIZE)
            self._worker_pid = os.getpid()
            self._worker = threading.Thread(target=self._drain, name="gadash-alerts",
                                            daemon=True)
            self._worker.start()

    def _drain(self) -> None:
        jobs = self._queue
        while True:
            kind, key, body = jobs.get()
            try:
                self._post(kind, key, body)
            except Exception:  # noqa: BLE001 -- the sender must outlive any one alert
                log.exception("alert %s %r: unexpected failure", kind, key)
            finally:
                jobs.task_done()
