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


def test_the_data_folder_is_the_users_whatever_the_working_directory(tmp_path, monkeypatch):
    from gadash.settings import Settings, default_data_dir
    from gadash.store.core import Store

    monkeypatch.delenv("GADASH_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    urls = set()
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        monkeypatch.chdir(tmp_path / where)
        store = Store.from_settings(Settings(_env_file=None))
        urls.add(store.url)
        store.dispose()
    assert urls == {f"sqlite:///{tmp_path / 'xdg' / 'gadash' / 'gadash.db'}"}
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "gadash"


def test_an_earlier_versions_database_in_the_working_directory_is_named(tmp_path, monkeypatch,
                                                                         caplog):
    from gadash.settings import Settings
    from gadash.store.core import Store

    monkeypatch.chdir(tmp_path)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "gadash.db").write_bytes(b"")
    store = Store.from_settings(Settings(data_dir=tmp_path / "new", _env_file=None))
    store.dispose()
    assert "GADASH_DATA_DIR=" + str(tmp_path / "instance") in caplog.text
    assert (tmp_path / "instance" / "gadash.db").exists()  # nothing moved or lost
