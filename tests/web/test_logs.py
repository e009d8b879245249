"""Request ids (in-process, Flask's test client): the caller's when sane, else a new
one per request, different in every worker process."""

from __future__ import annotations

import os
import re

from flask import Flask, g

from gadash.web.logs import HEADER, init_request_ids


def make_app() -> Flask:
    app = Flask("ids")
    init_request_ids(app)
    app.add_url_rule("/", "id", lambda: g.request_id)
    return app


def test_the_callers_id_when_sane_else_a_new_one_each_request():
    client = make_app().test_client()
    assert client.get("/", headers={HEADER: "lb-0123456789"}).headers[HEADER] == "lb-0123456789"
    made = {client.get("/", headers={HEADER: "no spaces allowed"}).text for _ in range(50)}
    assert len(made) == 50 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in made)
    answer = client.get("/")
    assert answer.headers[HEADER] == answer.text


def test_forked_workers_make_different_ids():
    app = make_app()
    app.test_client().get("/")  # the parent made ids before forking, as a master would
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one id, then leave at once
        try:
            os.write(write, app.test_client().get("/").text.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert re.fullmatch(r"[0-9a-f]{32}", child)
    assert child != app.test_client().get("/").text
