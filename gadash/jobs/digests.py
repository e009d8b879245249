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
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from gadash.core.digest import IMAGE_CID, Composed, as_html, as_slack, as_text, where
from gadash.core.schedule import parse_schedule
from gadash.errors import GadashError
from gadash.jobs.alerts import post_json
from gadash.settings import Settings
from gadash.store import Store
from gadash.store.digestrepo import DigestRow, DigestRunRow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than an attempt; a process that dies loses it
MOST_BACKOFF = timedelta(hours=1)
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

    def send(self, composed: Composed, to: list[str]) -> dict[str, str]:
        """Mail the digest to each address: address -> "" when the server took it, else
        why not. Never raises."""
        if not to:
            return {}
        s = self.settings
        if not s.smtp_host:
            return dict.fromkeys(to, "mail is off: GADASH_SMTP_HOST is not set")
        try:
            with self._session() as smtp:
                out = {}
                for address in to:
                    try:
                        smtp.send_message(self.message(composed, address))
                        out[address] = ""
                    except smtplib.SMTPRecipientsRefused as exc:
                        code, text = next(iter(exc.recipients.values()))
                        said = text.decode(errors="replace")
                        out[address] = f"refused by {self.target}: {code} {said}"
                    except (smtplib.SMTPException, OSError) as exc:
                        out[address] = f"{type(exc).__name__}: {exc}"
                        if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
                            break  # the session is gone; the rest wait for the retry
                for address in to:
                    out.setdefault(address, "not tried: the SMTP session ended")
                return out
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            reason = f"SMTP {self.target}: {type(exc).__name__}: {exc}"
            return dict.fromkeys(to, reason)

    def check(self) -> str:
        """Connect, say hello (and STARTTLS and log in as set), quit: "" when all went
        well, else why not."""
        try:
            with self._session() as smtp:
                smtp.noop()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return ""

    def _session(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_tls == "starttls":
                smtp.starttls(context=context)
        if s.smtp_user:
            password = s.smtp_password.get_secret_value() if s.smtp_password else ""
            smtp.login(s.smtp_user, password)
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
        tried = 0
        while (run := self.db.digests.claim(self.clock(), LEASE)) is not None:
            self.attempt(run)
            tried += 1
        return tried

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

    def send_now(self, digest: DigestRow, by: str) -> int:
        """A run now, outside the schedule ("Send now"); its id once tried."""
        now = self.clock()
        self.db.digests.add_run(digest.id, now, kind="manual",
                                log=f"{_stamp(now)} asked for by {by}\n")
        run = self.db.digests.claim(now, LEASE)
        while run is not None and not (run.digest_id == digest.id and run.due_at == now):
            self.attempt(run)  # older runs first: they were due before
            run = self.db.digests.claim(self.clock(), LEASE)
        if run is not None:
            self.attempt(run)
            return run.id
        return 0

    def attempt(self, run: DigestRunRow) -> str:
        """One try of a claimed run: its status afterwards."""
        now = self.clock()
        stamp = _stamp(now)
        digest = self.db.digests.get(run.digest_id)
        if digest is None or (digest.paused and run.kind == "scheduled"):
            why = "the digest was deleted" if digest is None else "the digest is paused"
            self.db.digests.finish(run.id, status="failed", delivered=run.delivered,
                                   log=f"{stamp} not sent: {why}\n")
            return "failed"
        late = run.kind == "scheduled" and now - run.due_at > timedelta(
            seconds=max(3 * self.settings.digest_check_seconds, 300)) and run.attempts == 1
        try:
            composed = self.compose(digest, run.due_at, late)
        except GadashError as exc:
            return self._retry(run, [f"{stamp} try {run.attempts}: not made: {exc.message}"])
        except Exception as exc:  # noqa: BLE001 -- a bug must not stop the other digests
            log.exception("digest %d: making it failed", digest.id)
            return self._retry(run, [f"{stamp} try {run.attempts}: not made: "
                                     f"{type(exc).__name__}: {exc}"])
        done = list(run.delivered)
        lines: list[str] = []
        emails = [e for e in digest.emails if f"mail:{e}" not in done]
        for address, reason in self.mailer.send(composed, emails).items():
            stamp = _stamp(self.clock())
            if reason:
                lines.append(f"{stamp} try {run.attempts}: mail to {address} not sent: {reason}")
            else:
                done.append(f"mail:{address}")
                lines.append(f"{stamp} try {run.attempts}: mailed {address}")
        image_url = self._image_url(run, composed)
        for url in (u for u in digest.webhooks if _hook(u) not in done):
            reason = post_json(url, as_slack(composed.content, image_url),
                               self.settings.alert_timeout, self.settings.share_user_agent)
            key = _hook(url)
            stamp = _stamp(self.clock())
            if reason:
                lines.append(f"{stamp} try {run.attempts}: webhook {where(url)} not posted: "
                             f"{reason}")
            else:
                done.append(key)
                lines.append(f"{stamp} try {run.attempts}: posted to {where(url)}")
        wanted = len(digest.emails) + len(digest.webhooks)
        if len([d for d in done if d.startswith(("mail:", "hook:"))]) >= wanted:
            self.db.digests.finish(run.id, status="sent", delivered=tuple(done),
                                   log="".join(f"{line}\n" for line in lines), sent_at=now)
            log.info("digest %d (%s) sent to %d recipient(s)", digest.id, digest.name, wanted)
            return "sent"
        return self._retry(run, lines, tuple(done))

    def _image_url(self, run: DigestRunRow, composed: Composed) -> str | None:
        """Where chat tools fetch the trend picture, kept with the run: only with a
        public address (the webhook's server fetches it, without signing in)."""
        if composed.png is None:
            return None
        token = run.image_token or self.db.digests.set_image(run.id, composed.png)
        base = self.settings.public_url
        return f"{base.rstrip('/')}{IMAGE_PATH}/{token}.png" if base else None

    def _retry(self, run: DigestRunRow, lines: list[str], delivered: tuple[str, ...] = ()
               ) -> str:
        now = self.clock()
        done = delivered or run.delivered
        if run.attempts >= self.settings.digest_tries:
            lines.append(f"{_stamp(now)} gave up after {run.attempts} tries; \"Send now\" "
                         "tries again")
            self.db.digests.finish(run.id, status="failed", delivered=done,
                                   log="".join(f"{line}\n" for line in lines))
            log.warning("digest run %d failed for good: %s", run.id, lines[-2] if len(lines) > 1
                        else lines[-1])
            return "failed"
        wait = backoff(self.settings, run.attempts)
        lines.append(f"{_stamp(now)} will try again at {_stamp(now + wait)}")
        self.db.digests.finish(run.id, status="pending", delivered=done,
                               log="".join(f"{line}\n" for line in lines),
                               next_try_at=now + wait)
        log.warning("digest run %d: %s", run.id, "; ".join(lines))
        return "pending"


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
        self._stop_event.set()


__all__ = ["IMAGE_PATH", "Compose", "DigestWatcher", "Digests", "Mailer", "backoff",
           "local_due"]
