"""Settings: environment, .env, explicit arguments, and clear errors."""

from __future__ import annotations

import pytest

from gadash.errors import ConfigError
from gadash.settings import Settings, load_settings, parse_mapping


def test_defaults_are_the_local_demo(monkeypatch):
    for name in ("PORT", "GADASH_PORT", "REDIS_URL", "GADASH_PROPERTIES"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(_env_file=None)
    assert (s.host, s.port, s.redis_url) == ("127.0.0.1", 8050, None)
    assert s.demo


def test_environment_and_platform_port(monkeypatch):
    monkeypatch.setenv("GADASH_PROPERTIES", "Blog=123456, Shop=properties/987654")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
    s = Settings(_env_file=None)
    assert s.properties == {"Blog": "properties/123456", "Shop": "properties/987654"}
    assert list(s.properties) == ["Blog", "Shop"]
    assert s.port == 9000 and s.redis_url == "redis://127.0.0.1:6390/0"
    assert not s.demo
    # An explicit argument beats the environment.
    assert Settings(port=8123, _env_file=None).port == 8123


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("GADASH_CACHE_TTL", raising=False)
    env = tmp_path / ".env"
    env.write_text("GADASH_CACHE_TTL=42\nGADASH_STANDIN_TIME_ZONE=Europe/Paris\n")
    s = Settings(_env_file=str(env))
    assert s.cache_ttl == 42 and s.standin_time_zone == "Europe/Paris"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"properties": "Blog=abc"}, "GADASH_PROPERTIES"),
    ({"properties": "Blog"}, "not of the form Name=value"),
    ({"properties": "A=1,A=2"}, "appears twice"),
    ({"port": 0}, "GADASH_PORT"),
    ({"standin_time_zone": "Mars/Olympus"}, "not an IANA time zone"),
    ({"ga_endpoint": "localhost"}, "not host:port"),
    ({"cache_ttl": -5}, "GADASH_CACHE_TTL"),
    ({"credentials_file": "/nonexistent/key.json"}, "no file at"),
])
def test_bad_values_give_one_clear_line(overrides, message):
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **overrides)
    text = str(err.value)
    assert text.startswith("gadash cannot start")
    assert message in text
    assert "Traceback" not in text


def test_parse_mapping():
    assert parse_mapping("a=1,,b = 2 ,") == {"a": "1", "b": "2"}
    with pytest.raises(ValueError):
        parse_mapping("=1")
