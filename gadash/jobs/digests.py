"""Scheduled digests, sent once per due time across every process and instance.

Every process runs a ``DigestWatcher``. Each look (``Digests.tick``):

1. *plan*: for each digest not paused, the latest time it fell due (``core.schedule``,
   in its property's zone) becomes a run, unless one exists: the database's unique key
   ``(digest, due time)`` keeps it to one, whichever process inserts first. Only the
   latest is made, so after downtime a digest catches up once, saying it is late.
2. *work*: runs due to be tried are claimed one at a time (a conditional ``UPDATE``
   with a lease, ``store.digestrepo``) and tried: made (``compose``: the view's data
   from the shared cache, one GA batch call when it is not there; the trend drawn),
   then mailed to each address and posted to each webhook not yet done. What failed
   is tried again after ``GADASH_DIGEST_RETRY_SECONDS``, doubling up to an hour,
   ``GADASH_DIGEST_TRIES`` times in all; every attempt is written in the run's log.

``clock`` is injected (tests move time by passing it, never by sleeping).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import smtplib
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from gadash.core.digest import IMAGE_CID, Composed, as_html, as_slack, as_text, where
from gadash.core.schedule import parse_schedule
from gadash.errors import GadashError, QueryError
from gadash.jobs.alerts import NoRedirect, post_json
from gadash.settings import Settings
from gadash.store import Store
from gadash.store.digestrepo import DigestRow, DigestRunRow
from gadash.store.digests import internal_address

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # renewed at each recipient; a process that dies loses it
SEND_NOW_EVERY = timedelta(minutes=1)  # "Send now" at most once a minute a digest
MANUAL_TRIES = timedelta(hours=24)  # how long a manual run is tried
MOST_BACKOFF = timedelta(hours=1)
PRUNE_EVERY = timedelta(hours=1)
IMAGE_PATH = "/digest-images"

Compose = Callable[[DigestRow, datetime, bool], Composed]


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: the retry delay, doubling, an
    hour at most."""
    first = timedelta(seconds=settings.digest_retry_seconds)
    return min(first * 2 ** max(attempts - 1, 0), max(MOST_BACKOFF, first))


def _hook(url: str) -> str:
    """A webhook's mark in a run's ``delivered``: its host and a hash, not its secret."""
    return f"hook:{where(url)}:{hashlib.sha256(url.encode()).hexdigest()[:12]}"


class InsideNetwork(OSError):
    """A webhook's host turned out, when connected, to be this machine or its network."""


def _outside_only(address: tuple[str, int], timeout: float | None = None,
                  source_address: tuple[str, int] | None = None) -> socket.socket:
    """``socket.create_connection``, then the peer's address checked before a byte is
    sent: a name that resolved outside when the digest was saved and inside now (DNS
    rebinding) is refused here, at the address actually connected to."""
    sock = socket.create_connection(address, timeout, source_address)
    peer = str(sock.getpeername()[0])
    if internal_address(peer):
        sock.close()
        raise InsideNetwork(f"refused: {address[0]} is now {peer}, on this machine or its "
                            "network (GADASH_DIGEST_PRIVATE_WEBHOOKS=true allows it)")
    return sock


class _OutsideHTTP(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _outside_only


class _OutsideHTTPS(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _outside_only


class _OutsideHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_OutsideHTTP, req)


class _OutsideHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_OutsideHTTPS, req)


def webhook_opener(private: bool) -> urllib.request.OpenerDirector:
    """How digests post: never following a redirect and, unless ``private``, refusing a
    peer inside the network at connect time. Through a proxy (``HTTPS_PROXY``) the
    peer is the proxy, so the check made when the digest was saved is the one there is."""
    proxies = urllib.request.getproxies()
    if private or proxies.get("http") or proxies.get("https"):
        return urllib.request.build_opener(NoRedirect)
    return urllib.request.build_opener(NoRedirect, _OutsideHTTPHandler, _OutsideHTTPSHandler)


def _stamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


class Mailer:
    """Sends one message per address over one SMTP session (a failure is per
    address: the others still get theirs)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.smtp_host)

    @property
    def target(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    def send(self, composed: Composed, to: list[str],
             each: Callable[[str, str, bool], bool]) -> None:
        """Mail the digest to each address, calling ``each(address, reason, for_good)``
        after each one: reason "" when the server took it; ``for_good`` when it refused
        it for good (a 5xx: trying again would not help). ``each`` returns False to stop.
        Never raises."""
        if not to:
            return
        s = self.settings
        if not s.smtp_host:
            for address in to:
                if not each(address, "mail is off: GADASH_SMTP_HOST is not set", False):
                    return
            return
        try:
            smtp = self._session()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            for address in to:
                if not each(address, f"SMTP {self.target}: {type(exc).__name__}: {exc}",
                            False):
                    return
            return
        try:
            for n, address in enumerate(to):
                reason, for_good, gone = "", False, False
                try:
                    smtp.send_message(self.message(composed, address))
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    reason = f"refused by {self.target}: {code} {text.decode(errors='replace')}"
                    for_good = code >= 500
                except smtplib.SMTPResponseException as exc:  # at MAIL or DATA
                    said = exc.smtp_error.decode(errors="replace") if isinstance(
                        exc.smtp_error, bytes) else str(exc.smtp_error)
                    reason = f"refused by {self.target}: {exc.smtp_code} {said}"
                    for_good = exc.smtp_code >= 500
                    try:
                        smtp.rset()  # the next address starts a fresh transaction
                    except (smtplib.SMTPException, OSError):
                        gone = True
                except (smtplib.SMTPException, OSError) as exc:  # the session is gone
                    reason, gone = f"SMTP {self.target}: {type(exc).__name__}: {exc}", True
                if not each(address, reason, for_good):
                    return
                if gone:  # the rest wait for the retry
                    for rest in to[n + 1:]:
                        if not each(rest, "not tried: the SMTP session ended", False):
                            return
                    return
        finally:
            try:
                smtp.quit()  # what was sent is sent, whatever QUIT answers
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def check(self) -> str:
        """Connect, say hello (and STARTTLS and log in as set), quit: "" when all went
        well, else why not."""
        try:
            smtp = self._session()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return f"{type(exc).__name__}: {exc}"
        try:
            smtp.noop()
            smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            return f"{type(exc).__name__}: {exc}"
        return ""

    def _session(self) -> smtplib.SMTP:
        """A session, STARTTLS and login done; its socket closed when one fails."""
        s = self.settings
        assert s.smtp_host
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            if s.smtp_tls == "starttls":
                smtp.starttls(context=context)
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_user, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def message(self, composed: Composed, to: str) -> EmailMessage:
        """The mail: plain text, HTML, and the trend PNG inline (``cid:trend``)."""
        c = composed.content
        msg = EmailMessage()
        msg["Subject"] = c.subject
        msg["From"] = self.settings.smtp_sender
        msg["To"] = to
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="gadash")
        msg.set_content(as_text(c))
        msg.add_alternative(as_html(c, image=composed.png is not None), subtype="html")
        if composed.png is not None:
            html_part = msg.get_payload()[1]  # type: ignore[index]
            assert isinstance(html_part, EmailMessage)
            html_part.add_related(composed.png, maintype="image", subtype="png",
                                  cid=f"<{IMAGE_CID}>", filename="trend.png")
        return msg


class Digests:
    """Plans and sends the team's digests; see the module's docstring."""

    def __init__(self, settings: Settings, db: Store, compose: Compose,
                 zone_of: Callable[[str], str], clock: Callable[[], datetime] = utcnow):
        self.settings, self.db, self.compose = settings, db, compose
        self._zone_of, self.clock = zone_of, clock
        self._zones: dict[str, str] = {}
        self.mailer = Mailer(settings)
        self._pruned: datetime | None = None

    def zone_of(self, property_name: str) -> str:
        """The property's time zone; the last one GA said while GA cannot be asked
        (a due time must not wait for GA: its run is made, and GA's failure retried).
        Raises GadashError when GA has never said."""
        try:
            self._zones[property_name] = self._zone_of(property_name)
        except GadashError:
            if property_name not in self._zones:
                raise
        return self._zones[property_name]

    def tick(self) -> int:
        """Plan, then try every run that is due; how many runs were tried."""
        now = self.clock()
        self.plan(now)
        self.prune(now)
        tried = 0
        while (run := self.db.digests.claim(self.clock(), LEASE)) is not None:
            self.attempt(run)
            tried += 1
        return tried

    def prune(self, now: datetime) -> None:
        """At most hourly: drop pictures older than ``digest_image_days`` and runs older
        than ``digest_log_days`` (any process may; the statements are idempotent)."""
        if self._pruned is not None and now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        images, runs = self.db.digests.prune(
            now - timedelta(days=self.settings.digest_image_days),
            now - timedelta(days=self.settings.digest_log_days))
        if images or runs:
            log.info("digests: %d old chart picture(s) and %d old run(s) dropped", images, runs)

    def plan(self, now: datetime) -> int:
        """Make each digest's latest due run; how many this call made."""
        made = 0
        for digest in self.db.digests.list():
            if digest.paused:
                continue
            try:
                due = parse_schedule(digest.schedule).last_due(now, self.zone_of(
                    digest.property))
            except GadashError as exc:
                log.info("digest %d not planned: %s", digest.id, exc.message)
                continue
            if due is None or due <= digest.active_since:
                continue
            if self.db.digests.add_run(digest.id, due):
                made += 1
                log.info("digest %d (%s) due %s", digest.id, digest.name, _stamp(due))
        return made

    def send_now(self, digest: DigestRow, by: str, wait: bool = True) -> int:
        """A run now, outside the schedule ("Send now"): its id (0 when one was asked for
        less than ``SEND_NOW_EVERY`` ago). ``wait``: try it before returning, else on a
        thread of its own (a page's request must not wait for GA, kaleido and SMTP)."""
        now = self.clock()
        if self.db.digests.made_since(digest.id, "manual", now - SEND_NOW_EVERY):
            return 0
        self.db.digests.add_run(digest.id, now, kind="manual",
                                log=f"{_stamp(now)} asked for by {by}\n")
        run = next((r for r in self.db.digests.runs(digest.id, limit=5)
                    if r.kind == "manual" and r.due_at == now), None)
        if run is None:
            return 0
        if wait:
            self._try_run(run.id)
        else:
            threading.Thread(target=self._try_run, args=(run.id,), name="gadash-send-now",
                             daemon=True).start()
        return run.id

    def retry(self, run_id: int, by: str) -> bool:
        """Send a failed run again, for its own due time and period ("Try again")."""
        done = self.db.digests.retry(run_id, self.clock(),
                                     f"{_stamp(self.clock())} tried again, asked for by {by}\n")
        if done:
            threading.Thread(target=self._try_run, args=(run_id,), name="gadash-retry",
                             daemon=True).start()
        return done

    def _try_run(self, run_id: int) -> None:
        try:
            run = self.db.digests.claim(self.clock(), LEASE, run_id=run_id)
            if run is not None:
                self.attempt(run)
        except Exception:  # noqa: BLE001 -- a thread of its own: log, the watcher retries
            log.exception("digest run %d: the attempt failed", run_id)

    def attempt(self, run: DigestRunRow) -> str:
        """One try of a claimed run: its status afterwards. Each recipient done is
        written at once (and the lease renewed), so a try cut short never sends twice
        to one recipient; a try whose lease was taken over stops and writes nothing."""
        now = self.clock()
        digest = self.db.digests.get(run.digest_id)
        if digest is None or (digest.paused and run.kind == "scheduled"):
            why = "the digest was deleted" if digest is None else "the digest is paused"
            self.db.digests.finish(run, status="failed", log=f"{_stamp(now)} not sent: {why}\n")
            return "failed"
        if run.attempts > self.settings.digest_tries + 1:  # it ended its process each time
            self.db.digests.finish(run, status="failed", log=(
                f"{_stamp(now)} gave up: {run.attempts - 1} tries did not finish\n"))
            return "failed"
        late = run.kind == "scheduled" and now - run.due_at > timedelta(
            seconds=max(3 * self.settings.digest_check_seconds, 300)) and run.attempts == 1
        try:
            composed = self.compose(digest, run.due_at, late)
        except QueryError as exc:  # a deleted view, a property no longer shown: for good
            self.db.digests.finish(run, status="failed", log=(
                f"{_stamp(now)} try {run.attempts}: not made: {exc.message}\n"))
            return "failed"
        except GadashError as exc:
            return self._retry(run, digest, [f"{_stamp(now)} try {run.attempts}: not made: "
                                             f"{exc.message}"])
        except Exception as exc:  # noqa: BLE001 -- a bug must not stop the other digests
            log.exception("digest %d: making it failed", digest.id)
            return self._retry(run, digest, [f"{_stamp(now)} try {run.attempts}: not made: "
                                             f"{type(exc).__name__}: {exc}"])
        done = set(run.delivered)
        lines: list[str] = []
        held = [True]

        def record(item: str, line: str) -> bool:
            lines.append(f"{_stamp(self.clock())} try {run.attempts}: {line}")
            if item and not self.db.digests.delivered_to(run, item, self.clock(), LEASE):
                held[0] = False
                log.warning("digest run %d: another process took it over; this try stops",
                            run.id)
                return False
            done.add(item)
            return True

        def mailed(address: str, reason: str, for_good: bool) -> bool:
            if not reason:
                return record(f"mail:{address}", f"mailed {address}")
            if for_good:
                return record(f"refused:mail:{address}",
                              f"mail to {address} refused for good: {reason}")
            return record("", f"mail to {address} not sent: {reason}")

        self.mailer.send(composed, [e for e in digest.emails if not _has(done, f"mail:{e}")],
                         mailed)
        image_url = self._image_url(run, digest, composed) if held[0] else None
        for url in digest.webhooks:
            if not held[0] or _has(done, _hook(url)):
                continue
            reason = post_json(url, as_slack(composed.content, image_url),
                               self.settings.alert_timeout, self.settings.share_user_agent,
                               webhook_opener(self.settings.digest_private_webhooks))
            if not reason:
                record(_hook(url), f"posted to {where(url)}")
            elif _for_good(reason):
                record(f"refused:{_hook(url)}", f"webhook {where(url)} refused for good: "
                       f"{reason}")
            else:
                record("", f"webhook {where(url)} not posted: {reason}")
        if not held[0]:
            self.db.digests.note(run.id, "".join(f"{line}\n" for line in lines))
            return "pending"
        wanted = [f"mail:{e}" for e in digest.emails] + [_hook(u) for u in digest.webhooks]
        left = [w for w in wanted if w not in done and f"refused:{w}" not in done]
        if left:
            return self._retry(run, digest, lines)
        refused = [w for w in wanted if f"refused:{w}" in done]
        status = "failed" if refused else "sent"
        if refused:
            lines.append(f"{_stamp(self.clock())} {len(refused)} recipient(s) refused it for "
                         "good; the others have it")
        self.db.digests.finish(run, status=status, sent_at=self.clock(),
                               log="".join(f"{line}\n" for line in lines))
        log.info("digest %d (%s) %s to %d recipient(s)", digest.id, digest.name,
                 "sent" if not refused else "sent, some refusing,", len(wanted) - len(refused))
        return status

    def _image_url(self, run: DigestRunRow, digest: DigestRow, composed: Composed
                   ) -> str | None:
        """Where chat tools fetch the trend picture, kept with the run: only with
        webhooks and a public address (the chat's server fetches it, signed out)."""
        base = self.settings.public_url
        if composed.png is None or not digest.webhooks or not base:
            return None
        token = run.image_token or self.db.digests.set_image(run.id, composed.png)
        return f"{base.rstrip('/')}{IMAGE_PATH}/{token}.png"

    def _retry(self, run: DigestRunRow, digest: DigestRow, lines: list[str]) -> str:
        """Try again later: after the backoff, until the digest is next due (the next
        run carries the newer numbers) and ``digest_tries`` tries at most."""
        now = self.clock()
        wait = backoff(self.settings, run.attempts)
        try:
            deadline = parse_schedule(digest.schedule).next_due(run.due_at, self.zone_of(
                digest.property)) if run.kind == "scheduled" else run.due_at + MANUAL_TRIES
        except GadashError:
            deadline = run.due_at + MANUAL_TRIES
        if run.attempts >= self.settings.digest_tries or now + wait >= deadline:
            lines.append(f"{_stamp(now)} gave up after {run.attempts} tries; “Try again” on "
                         "/digests sends this run again")
            self.db.digests.finish(run, status="failed",
                                   log="".join(f"{line}\n" for line in lines))
            log.warning("digest run %d failed for good: %s", run.id, "; ".join(lines))
            return "failed"
        lines.append(f"{_stamp(now)} will try again at {_stamp(now + wait)}")
        self.db.digests.finish(run, status="pending", log="".join(f"{line}\n" for line in lines),
                               next_try_at=now + wait)
        log.warning("digest run %d: %s", run.id, "; ".join(lines))
        return "pending"


def _has(done: set[str], item: str) -> bool:
    return item in done or f"refused:{item}" in done


def _for_good(reason: str) -> bool:
    """A webhook's refusal that trying again would not change: 4xx but a timeout or
    too many requests, and a host inside the network."""
    return (reason.startswith("HTTP 4") and not reason.startswith(("HTTP 408", "HTTP 429"))
            or reason.startswith(f"{InsideNetwork.__name__}: "))


def local_due(due: datetime, zone: str) -> datetime:
    """A due time in the property's zone."""
    return due.astimezone(ZoneInfo(zone or "UTC"))


class DigestWatcher(threading.Thread):
    """Every ``interval`` seconds, ``Digests.tick``; any process may (the database makes
    each sending once)."""

    def __init__(self, digests: Digests, interval: float):
        super().__init__(name="gadash-digests", daemon=True)
        self.digests, self.interval = digests, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.digests.tick()
            except GadashError as exc:
                log.warning("digests not checked: %s", exc.message)
            except Exception:  # noqa: BLE001 -- the watcher must outlive any one failure
                log.exception("digest check failed; trying again in %s s", self.interval)

    def stop(self) -> None:
        """Stop looking; a try under way may finish its recipient (15 s at most)."""
        self._stop_event.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(15)


__all__ = ["IMAGE_PATH", "Compose", "DigestWatcher", "Digests", "Mailer", "backoff",
           "local_due"]
