"""Fetch share counts for many URLs from many providers at once (aiohttp).

One ClientSession per batch, a connection limit per host, each provider's
rate limit (aiolimiter), a timeout per request and a deadline for the batch,
retries with backoff on 429 and 5xx that honour Retry-After. Every
(provider, URL) pair gets an answer: counts, or the reason there are none.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from aiolimiter import AsyncLimiter

from gadash.data.counters import share_request
from gadash.data.shares.base import ParseError, Provider, ShareCounts


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 5.0  # seconds per request
    deadline: float = 10.0  # seconds for the whole batch
    per_host: int = 6  # connections at once to one host
    retries: int = 2  # further tries after a 429 / 5xx / timeout


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_text(body: str) -> str:
    try:
        payload = json.loads(body)
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            return str(payload["error"].get("message", ""))[:200]
        if isinstance(payload, dict) and "message" in payload:
            return str(payload["message"])[:200]
    except ValueError:
        pass
    return "an HTML error page" if "<html" in body[:500].lower() else body[:120]


async def _fetch_one(session: aiohttp.ClientSession, provider: Provider, limiter: AsyncLimiter,
                     slots: asyncio.Semaphore, url: str, limits: FetchLimits,
                     deadline_at: float) -> ShareCounts:
    loop = asyncio.get_running_loop()
    req = provider.request(url)

    def fail(reason: str) -> ShareCounts:
        return ShareCounts(provider.name, url, error=reason)

    def asked(outcome: str) -> None:  # one HTTP request and how it went
        share_request(provider.name, outcome)

    attempt = 0
    while True:
        await limiter.acquire()
        wait: float | None = None
        remaining = deadline_at - loop.time()
        if remaining <= 0:
            return fail(f"no answer within the {limits.deadline:g} s deadline")
        try:
            timeout = aiohttp.ClientTimeout(total=min(limits.timeout, remaining))
            async with slots, session.get(req.url, params=req.params, headers=req.headers,
                                          timeout=timeout) as resp:
                body = await resp.text(errors="replace")
                if resp.status >= 400:
                    asked("http_429" if resp.status == 429 else f"http_{resp.status // 100}xx")
                if resp.status == 429 or resp.status >= 500:
                    wait = retry_after_seconds(resp.headers.get("Retry-After"))
                    reason = f"HTTP {resp.status}" + (
                        " (rate limited)" if resp.status == 429 else f": {_error_text(body)}")
                elif resp.status >= 400:
                    return fail(f"HTTP {resp.status}: {_error_text(body)}")
                else:
                    try:
                        payload = json.loads(body)
                    except ValueError:
                        asked("bad_answer")
                        what = "an HTML page" if "<html" in body[:500].lower() else "not JSON"
                        return fail(f"answered with {what}")
                    try:
                        counts = ShareCounts(provider.name, url, provider.parse(url, payload))
                    except ParseError as exc:
                        asked("bad_answer")
                        return fail(str(exc))
                    except (KeyError, TypeError, ValueError, AttributeError) as exc:
                        asked("bad_answer")
                        return fail(f"unexpected answer from {provider.label}: {exc!r}")
                    asked("ok")
                    return counts
        except TimeoutError:
            asked("timeout")
            reason = f"no answer within {min(limits.timeout, remaining):.3g} s"
        except aiohttp.ClientConnectionError as exc:
            asked("connect_error")
            return fail(f"cannot connect: {exc}")
        except aiohttp.ClientError as exc:
            asked("request_error")
            return fail(f"request failed: {exc}")
        attempt += 1
        delay = wait if wait is not None else 0.25 * 2 ** (attempt - 1)
        if attempt > limits.retries or loop.time() + delay >= deadline_at:
            tries = "try" if attempt == 1 else "tries"
            after = f"; asked to retry after {wait:g} s" if wait else ""
            return fail(f"{reason}; gave up after {attempt} {tries}{after}")
        await asyncio.sleep(delay)


async def fetch_all(providers: Sequence[Provider], urls: Sequence[str],
                    limits: FetchLimits = FetchLimits()
                    ) -> dict[tuple[str, str], ShareCounts]:
    """Counts for every (provider, URL) pair; all in flight together within the limits."""
    if not providers or not urls:
        return {}
    loop = asyncio.get_running_loop()
    deadline_at = loop.time() + limits.deadline
    # The per-host limit is kept with a semaphore per provider (one host each):
    # aiohttp's own limit_per_host wakes waiters of other hosts and loses whole
    # waves when several hosts are limited at once (aio-libs/aiohttp#9421).
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=limits.per_host)
    async with aiohttp.ClientSession(connector=connector,
                                     headers={"Accept": "application/json"}) as session:
        limiters = {p.name: AsyncLimiter(p.burst, p.burst / p.rate) for p in providers}
        slots = {p.name: asyncio.Semaphore(limits.per_host) for p in providers}
        tasks = {
            (p.name, u): asyncio.ensure_future(
                _fetch_one(session, p, limiters[p.name], slots[p.name], u, limits, deadline_at))
            for p in providers for u in urls
        }
        done, pending = await asyncio.wait(tasks.values(), timeout=limits.deadline + 0.5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    out: dict[tuple[str, str], ShareCounts] = {}
    for (name, url), task in tasks.items():
        if task in done and not task.cancelled() and task.exception() is None:
            out[(name, url)] = task.result()
        elif task in done and not task.cancelled():
            out[(name, url)] = ShareCounts(name, url, error=f"failed: {task.exception()!r}")
        else:
            out[(name, url)] = ShareCounts(
                name, url, error=f"no answer within the {limits.deadline:g} s deadline")
    return out


def fetch_counts(providers: Sequence[Provider], urls: Sequence[str],
                 limits: FetchLimits = FetchLimits()) -> dict[tuple[str, str], ShareCounts]:
    """The synchronous face of fetch_all, for Dash callbacks. Never raises for a provider."""
    def run() -> dict[tuple[str, str], ShareCounts]:
        return asyncio.run(fetch_all(providers, urls, limits))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # Called from code that already runs an event loop in this thread: use another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
