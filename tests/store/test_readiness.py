"""/healthz and /readyz as a load balancer sees them, with the team database on a real
PostgreSQL server; JSON log lines that carry each request's id."""

from __future__ import annotations

import json

import requests
from sqlalchemy import create_engine, text

from tests.conftest import BLOG
from tests.e2e.test_instances import tv_request
from tests.servers import start_app, stop_app


def poll_tv(url: str, request_id: str) -> requests.Response:
    s, body, _ = tv_request(url)  # the poll: it asks GA when nothing is cached
    return s.post(url + "/_dash-update-component", data=json.dumps(body),
                  headers={"Content-Type": "application/json", "X-Request-ID": request_id,
                           "X-CSRFToken": s.cookies.get("_csrf_token") or ""})


def test_ready_then_degraded_by_ga_then_not_ready_without_migrations_or_database(
        postgresql_server, standin_clean, tmp_path):
    database = postgresql_server.new_database("ready")
    name = database.rpartition("/")[2]
    log = tmp_path / "app.log"
    env = {"GADASH_GA_ENDPOINT": standin_clean.endpoint, "GADASH_PROPERTIES": f"Blog={BLOG}",
           "GADASH_DATABASE_URL": database, "GADASH_SHARE_PROVIDERS": "",
           "GADASH_DATA_DIR": str(tmp_path), "GADASH_GA_TIMEOUT": "1",
           "GADASH_LOG_FORMAT": "json"}
    proc, url = start_app(env, log)
    admin = create_engine(postgresql_server.url(), isolation_level="AUTOCOMMIT")
    try:
        ready = requests.get(url + "/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert requests.get(url + "/healthz").json()["status"] == "ok"

        # GA fails: the app serves what it has; the instance stays in the pool.
        standin_clean.servicer.set_fault("UNAVAILABLE", "stand-in is down")
        answer = poll_tv(url, "req-ga-down-0001")
        assert answer.status_code == 200
        assert answer.headers["X-Request-ID"] == "req-ga-down-0001"
        degraded = requests.get(url + "/readyz")
        assert degraded.status_code == 200
        assert degraded.json() == {"status": "degraded", "database": "ok", "ga": "failing",
                                   "cache": "process"}
        assert "stand-in" not in degraded.text  # no error text in public
        lines = [json.loads(line) for line in log.read_text().splitlines()
                 if line.startswith("{")]
        assert any(line["request_id"] == "req-ga-down-0001" and line["level"] == "WARNING"
                   and "GA call" in line["message"] for line in lines)
        standin_clean.servicer.clear_fault()
        assert requests.get(url + "/", headers={"X-Request-ID": "no spaces allowed"}
                            ).headers["X-Request-ID"] != "no spaces allowed"

        # Migrations missing: not ready.
        with create_engine(database).begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        missing = requests.get(url + "/readyz")
        assert missing.status_code == 503
        assert missing.json()["database"] == "migrations missing"

        # The database gone: not ready, and /healthz still says the process is alive.
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        gone = requests.get(url + "/readyz")
        assert gone.status_code == 503 and gone.json()["status"] == "not ready"
        assert gone.json()["database"] == "unreachable" and name not in gone.text
        assert requests.get(url + "/healthz").status_code == 200
    finally:
        admin.dispose()
        stop_app(proc)
