"""The demo's warm-up waits for a quiet server: no request in progress for a while."""

from __future__ import annotations

import threading
import time

from gadash.jobs.warmer import Quiet


def test_quiet_waits_for_the_request_in_progress_to_end():
    quiet = Quiet(seconds=0.2, longest=5)
    release = threading.Event()

    def app(environ, start_response):
        release.wait()
        return [b"ok"]

    counted = quiet.wsgi(app)
    request = threading.Thread(target=counted, args=({}, None))
    request.start()
    time.sleep(0.3)  # quiet for longer than 0.2 s since start, but a request is running
    timer = threading.Timer(0.3, release.set)
    timer.start()
    started = time.monotonic()
    quiet.wait()
    waited = time.monotonic() - started
    request.join()
    assert waited >= 0.3 + 0.2 - 0.05  # the request's end, then 0.2 s of quiet


def test_quiet_gives_up_after_the_longest_wait():
    quiet = Quiet(seconds=10, longest=0.2)
    started = time.monotonic()
    quiet.wait()
    assert time.monotonic() - started < 1
