"""The refused-request limit: counted together through a real Valkey server, cheap for
addresses that are not refused, and still counting (per process) when Redis is away."""

from __future__ import annotations

from flask import Flask

from gadash.web.middleware.limits import RefusedLimit
from tests.conftest import free_port


def test_refusals_count_across_processes_and_a_refused_address_is_asked_again(valkey_url):
    one, other = RefusedLimit(valkey_url, "3/minute"), RefusedLimit(valkey_url, "3/minute")
    assert one.allowed("10.0.0.1")
    one.count("10.0.0.1")
    other.count("10.0.0.1")
    assert one.allowed("10.0.0.1")  # two of three
    other.count("10.0.0.1")  # the third, counted by another worker
    # one had found the address clear a moment ago, but it was not refused there since:
    # it may trust that for CLEAR_SECONDS...
    assert one.allowed("10.0.0.1")
    one.count("10.0.0.1")  # ...until it refuses the address itself
    assert not one.allowed("10.0.0.1")
    assert not other.allowed("10.0.0.1")
    assert one.allowed("10.0.0.2")  # other addresses are not touched


def test_an_address_found_clear_costs_no_round_trip():
    import redis

    from tests.valkey import Valkey

    server = Valkey()
    server.start()
    try:
        client = redis.Redis.from_url(server.connection_url)

        def scripts_run() -> int:
            stats = client.info("commandstats")
            return sum(v["calls"] for k, v in stats.items() if k.startswith("cmdstat_eval"))

        limit = RefusedLimit(server.connection_url, "3/minute")
        assert limit.allowed("10.0.0.3")
        asked = scripts_run()
        assert asked > 0
        for _ in range(50):
            assert limit.allowed("10.0.0.3")
        assert scripts_run() == asked  # then trusted for a while
    finally:
        server.stop()


def test_without_redis_each_process_counts_alone_and_nothing_fails():
    limit = RefusedLimit(f"redis://127.0.0.1:{free_port()}/0", "2/minute")  # nobody there
    assert limit.allowed("10.0.0.4")
    limit.count("10.0.0.4")
    limit.count("10.0.0.4")
    assert not limit.allowed("10.0.0.4")


def _limited_app(storage_uri: str, rate: str, methods: list[str] | None = None) -> Flask:
    from gadash.web.middleware.limits import RouteLimits

    app = Flask("limits")

    @app.route("/login/start", methods=["GET", "POST"])
    def login_start() -> str:
        return "ok"

    @app.get("/free")
    def free() -> str:
        return "ok"

    limiter = RouteLimits(storage_uri)
    app.view_functions["login_start"] = limiter.limit(app.view_functions["login_start"],
                                                      "login_start", rate, methods)
    return app


def test_a_route_limit_counts_its_route_only_per_address():
    app = _limited_app("memory://", "3/minute")
    client = app.test_client()
    codes = [client.get("/login/start").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/login/start", headers={"Accept": "text/html"})
    assert "Too many requests (3 per 1 minute)" in refused.text
    assert all(client.get("/free").status_code == 200 for _ in range(10))
    other = app.test_client()
    assert other.get("/login/start", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_a_route_limit_on_some_methods_and_with_several_windows():
    app = _limited_app("memory://", "5/minute;2/second", methods=["POST"])
    client = app.test_client()
    assert all(client.get("/login/start").status_code == 200 for _ in range(8))  # GET: free
    codes = [client.post("/login/start").status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the shorter window first


def test_route_limits_count_together_and_without_redis_nothing_fails(valkey_url):
    one, other = (_limited_app(valkey_url, "3/minute").test_client() for _ in range(2))
    ip = {"REMOTE_ADDR": "10.0.0.7"}
    codes = [c.get("/login/start", environ_base=ip).status_code
             for c in (one, other, one, other)]
    assert codes == [200, 200, 200, 429]
    away = _limited_app(f"redis://127.0.0.1:{free_port()}/0", "2/minute").test_client()
    assert [away.get("/login/start").status_code for _ in range(3)] == [200, 200, 429]


def test_route_limits_add_no_work_to_other_requests():
    from gadash.settings import Settings
    from gadash.web.middleware.limits import create_limiter, limit_routes

    app = Flask("hooks")
    settings = Settings(_env_file=None)
    limiter = create_limiter(app, settings)  # the refused-request limit's hooks only
    hooks = (len(app.before_request_funcs[None]), len(app.after_request_funcs[None]))
    limit_routes(app, limiter, settings)
    assert hooks == (1, 1) and not app.teardown_request_funcs
    assert (len(app.before_request_funcs[None]), len(app.after_request_funcs[None])) == hooks
