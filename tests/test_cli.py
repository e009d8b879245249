"""The ``gadash`` command: ``check`` against the GA4 stand-in over gRPC, ``db``,
``tv-links`` and ``panels`` on a temporary SQLite database, and the package itself: a wheel built
from the checkout, installed in a fresh virtual environment and run from elsewhere.

The subcommands run in-process (``main([...])``) with the environment a person would
set; the wheel tests run the installed ``gadash`` script as a real process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import gadash
from gadash import cli
from gadash.settings import Settings
from gadash.store import Store, head_revision
from gadash.store.tvlinks import TvLinks
from gadash.web.auth import local_secret
from tests.conftest import BLOG, free_port
from tests.processes import popen, stop_group

ROOT = Path(__file__).resolve().parents[1]
# Everything in the environment that would change what a command does.
SETTINGS_VARIABLES = ("PORT", "REDIS_URL", "WEB_CONCURRENCY", "PYTHONPATH",
                      "GOOGLE_APPLICATION_CREDENTIALS", "PROMETHEUS_MULTIPROC_DIR",
                      "VIRTUAL_ENV")


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: no GADASH_* but a temporary data dir, no .env (another
    working directory). Returns the data dir."""
    for name in list(os.environ):
        if name.startswith("GADASH_") or name in SETTINGS_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("GADASH_DATA_DIR", str(data))
    return data


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``gadash ARGV`` in-process: exit status, stdout, stderr."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:  # argparse: --help, usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


# ----------------------------------------------------------------- check

def test_check_passes_against_the_standin(standin_clean, env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GADASH_GA_ENDPOINT", standin_clean.endpoint)
    monkeypatch.setenv("GADASH_PROPERTIES", f"Blog={BLOG}")
    status, out, _ = run(capsys, "check")
    assert status == 0, out
    assert f"Credentials: The anonymous client of {standin_clean.endpoint}" in out
    assert re.search(rf"^OK +Blog \({BLOG}\): \d+ dimensions and metrics$", out, re.M), out
    assert re.search(r"^OK +Database sqlite:///.*data/gadash\.db: reachable", out, re.M), out
    assert out.rstrip().endswith("All good.")
    assert standin_clean.servicer.calls.get("GetMetadata")
    assert "--   SMTP: GADASH_SMTP_HOST not set; digests go to their webhooks only" in out


def test_check_says_whether_the_mail_server_answers(standin_clean, env, monkeypatch,
                                                   capsys) -> None:
    from tests.jobs.test_digests import Smtp

    smtp = Smtp()
    monkeypatch.setenv("GADASH_GA_ENDPOINT", standin_clean.endpoint)
    monkeypatch.setenv("GADASH_PROPERTIES", f"Blog={BLOG}")
    monkeypatch.setenv("GADASH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GADASH_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("GADASH_SMTP_TLS", "none")
    status, out, _ = run(capsys, "check")
    assert status == 1
    assert re.search(rf"^FAIL SMTP 127.0.0.1:{smtp.port} \(no TLS\): ConnectionRefusedError", out,
                     re.M), out
    smtp.up()
    try:
        status, out, _ = run(capsys, "check")
    finally:
        smtp.down()
    assert status == 0, out
    assert f"OK   SMTP 127.0.0.1:{smtp.port}: answers (no TLS)" in out


def test_check_names_a_property_the_credentials_cannot_read(standin_clean, env, monkeypatch,
                                                            capsys) -> None:
    monkeypatch.setenv("GADASH_GA_ENDPOINT", standin_clean.endpoint)
    monkeypatch.setenv("GADASH_PROPERTIES", f"Blog={BLOG},Gone=999")
    status, out, err = run(capsys, "check")
    assert status == 1
    assert re.search(rf"^OK +Blog \({BLOG}\)", out, re.M), out
    line = next(x for x in out.splitlines() if x.startswith("FAIL Gone (properties/999)"))
    # gadash.errors' translation: who lacks access to what, and what to do about it ...
    assert "No access to the property." in line
    assert (f"The anonymous client of {standin_clean.endpoint} cannot read GA4 "
            "properties/999") in line
    assert "Property access management" in line and "check the property id" in line
    # ... with what GA (here the stand-in) said, which lists the ids it serves.
    assert "This stand-in serves properties/100000001 (Demo blog)" in line
    assert "Something is wrong" in out
    assert "Traceback" not in err and "GA call for" not in err  # no repeat in a log line


def test_check_demo_mode_checks_the_builtin_standin(env, capsys) -> None:
    status, out, _ = run(capsys, "check")
    assert status == 0, out
    assert out.startswith("Demo mode (no GADASH_PROPERTIES)")
    for name, pid in (("Demo blog", "100000001"), ("Demo shop", "100000002"),
                      ("Demo news", "100000003")):
        assert re.search(rf"^OK +{name} \(properties/{pid}\): \d+ dimensions", out, re.M), out


def test_check_with_a_malformed_key_file_says_what_is_wrong(env, monkeypatch, capsys) -> None:
    key = env.parent / "key.json"
    key.write_text('{"type": "service_account"}')
    monkeypatch.setenv("GADASH_CREDENTIALS_FILE", str(key))
    monkeypatch.setenv("GADASH_PROPERTIES", "Blog=123")
    status, out, _ = run(capsys, "check")
    assert status == 1
    assert re.search(rf"^FAIL Credentials \(GADASH_CREDENTIALS_FILE={re.escape(str(key))}\): "
                     rf"The key file {re.escape(str(key))} is not a usable service-account key "
                     r"\(.*client_email", out, re.M), out


def test_check_redis_answers_or_not(standin_clean, env, monkeypatch, capsys,
                                    valkey_url) -> None:
    monkeypatch.setenv("GADASH_GA_ENDPOINT", standin_clean.endpoint)
    monkeypatch.setenv("GADASH_PROPERTIES", f"Blog={BLOG}")
    monkeypatch.setenv("REDIS_URL", valkey_url)
    status, out, _ = run(capsys, "check")
    assert status == 0, out
    assert re.search(r"^OK +Redis .*: answers PING$", out, re.M), out

    monkeypatch.setenv("REDIS_URL", f"redis://cache:s3cret@127.0.0.1:{free_port()}/0")
    status, out, _ = run(capsys, "check")
    assert status == 1
    assert re.search(r"^FAIL Redis redis://cache:\*\*\*@127\.0\.0\.1:\d+/0: no answer to PING",
                     out, re.M), out
    assert "s3cret" not in out


def test_check_reports_a_bad_setting_and_exits_2(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GADASH_PORT", "0")
    status, out, err = run(capsys, "check")
    assert status == 2 and not out
    assert "GADASH_PORT: Input should be greater than or equal to 1" in err
    assert "Traceback" not in err


# ----------------------------------------------------------------- db, tv-links

def test_db_current_then_upgrade(env, capsys) -> None:
    status, out, _ = run(capsys, "db", "current")
    assert status == 0 and out.startswith("none (no migration applied)")
    status, out, _ = run(capsys, "db", "upgrade")
    assert status == 0 and f"at revision {head_revision()}" in out
    status, out, _ = run(capsys, "db", "current")
    assert (status, out.strip()) == (0, f"{head_revision()} (up to date)")
    status, out, _ = run(capsys, "check")
    assert re.search(rf"^OK +Database .*: reachable, migrations current \({head_revision()}\)",
                     out, re.M), out


def test_tv_links_create_list_revoke(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GADASH_PUBLIC_URL", "https://dash.example.com")
    status, _, err = run(capsys, "tv-links", "list")
    assert status == 1 and "run `gadash db upgrade` first" in err
    assert run(capsys, "db", "upgrade")[0] == 0

    status, _, err = run(capsys, "tv-links", "create", "Office TV", "--playlist", "foo=1")
    assert status == 1 and "Unknown parameter(s): foo." in err
    status, out, err = run(capsys, "tv-links", "create", "Office  TV", "--days", "30",
                           "--playlist", "screens=overview,realtime&rotate=30&property=Demo shop")
    assert status == 0, out
    # Without sign-in the link works as with it, but only where the app answers.
    assert "without sign-in: the link opens only on this machine" in err
    url = out.strip().splitlines()[-1]
    assert url.startswith("https://dash.example.com/tv?key=")
    # The key is one the app accepts: signed with the data dir's key, for a live link.
    store = Store.from_settings(Settings(data_dir=env, _env_file=None))
    try:
        link = TvLinks(store, local_secret(env)).open(url.split("key=", 1)[1])
    finally:
        store.dispose()
    assert link is not None and link.label == "Office TV"
    assert link.query == "?screens=overview%2Crealtime&rotate=30&property=Demo+shop"
    assert link.created_by.endswith("(gadash command)")

    status, out, _ = run(capsys, "tv-links", "list")
    assert status == 0 and re.search(rf"^{re.escape(link.id)}\tOffice TV\t.*\tactive\t", out,
                                     re.M), out
    assert run(capsys, "tv-links", "revoke", link.id)[:2] == (
        0, f"Revoked TV link {link.id}; screens using it stop within seconds.\n")
    assert "No active TV links" in run(capsys, "tv-links", "list")[1]
    assert f"{link.id}\tOffice TV" in run(capsys, "tv-links", "list", "--all")[1]
    status, _, err = run(capsys, "tv-links", "revoke", "no-such-link")
    assert status == 1 and "there is no TV link 'no-such-link'" in err


# ----------------------------------------------------------------- panels

def _stored(env: Path) -> Store:
    return Store.from_settings(Settings(data_dir=env, _env_file=None))


def test_panels_create_list_show_change_delete(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GADASH_PUBLIC_URL", "https://dash.example.com")
    status, _, err = run(capsys, "panels", "list")
    assert status == 1 and "run `gadash db upgrade` first" in err
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "panels", "list")[:2] == (0, "No panels.\n")

    status, out, err = run(capsys, "panels", "create", "--property", "Demo blog", "--name",
                           " Top   countries ", "--query", "dim=country&metric=sessions&top=10",
                           "--pin")
    assert status == 0, err
    query = ("?property=Demo+blog&range=last28&compare=previous&dim=country&metric=sessions"
             "&top=10")
    match = re.match(r"Saved panel (\d+) \('Top countries', Demo blog, pinned\): (\S+)\n", out)
    assert match and match.group(2) == query, out
    blog = int(match.group(1))
    status, out, _ = run(capsys, "panels", "create", "--property", "Demo shop", "--name",
                         "Shop events", "--query", "metric=eventCount&dim=eventName")
    assert status == 0
    shop = int(re.match(r"Saved panel (\d+) ", out).group(1))  # type: ignore[union-attr]

    status, out, _ = run(capsys, "panels", "list")
    lines = out.splitlines()
    assert lines[0] == "ID\tPROPERTY\tNAME\tPINNED\tBY\tUPDATED (UTC)\tQUERY"
    assert re.fullmatch(rf"{shop}\tDemo shop\tShop events\tno\t.*\(gadash command\)\t"
                        r"\d{4}-\d\d-\d\d \d\d:\d\d\t\?property=Demo\+shop.*", lines[1])
    assert lines[2].startswith(f"{blog}\tDemo blog\tTop countries\tyes\t")
    assert lines[2].endswith(f"\t{query}") and len(lines) == 3
    status, out, _ = run(capsys, "panels", "list", "--property", "Demo shop")
    assert status == 0 and len(out.splitlines()) == 2 and "Shop events" in out
    assert run(capsys, "panels", "list", "--property", "Demo news")[1] == (
        "No panels of 'Demo news'.\n")

    # A TV link showing the blog panel: named by show, rename, set-query and delete.
    status, _, err = run(capsys, "tv-links", "create", "Office TV", "--playlist",
                         f"screens=overview,panel:{blog}&property=Demo blog")
    assert status == 0, err
    store = _stored(env)
    try:
        link, = store.links.list()
    finally:
        store.dispose()
    status, out, _ = run(capsys, "panels", "show", str(blog))
    assert status == 0
    assert f"Panel {blog}: Top countries\nProperty: Demo blog\n" in out
    assert f"URL: https://dash.example.com/explore{query}\n" in out
    assert re.search(rf"^  {re.escape(link.id)}\tOffice TV\tuntil ", out, re.M), out
    status, out, _ = run(capsys, "panels", "show", str(shop))
    assert status == 0 and "TV links: none active shows it" in out

    status, out, _ = run(capsys, "panels", "rename", str(blog), "Countries")
    assert (status, out) == (0, f"Renamed panel {blog} to 'Countries'.\n"
                             f"Active TV links showing it: {link.id} ('Office TV').\n")
    status, out, _ = run(capsys, "panels", "unpin", str(blog))
    assert status == 0 and out.startswith(f"Unpinned panel {blog}.\n")
    status, out, _ = run(capsys, "panels", "pin", str(shop))
    assert (status, out) == (0, f"Pinned panel {shop} on the analyst view of Demo shop.\n")
    status, out, _ = run(capsys, "panels", "set-query", str(blog), "metric=totalUsers&dim=city")
    assert status == 0 and out.startswith(
        f"Panel {blog} now shows ?property=Demo+blog&range=last28&compare=previous&dim=city"
        "&metric=totalUsers.\n")
    store = _stored(env)
    try:
        row = store.panels.get(blog)
        assert row is not None and (row.name, row.pinned) == ("Countries", False)
        assert row.query.endswith("dim=city&metric=totalUsers")
        assert [p.id for p in store.panels.list() if p.pinned] == [shop]
        actions = [a.action for a in store.audit.recent()]
        assert actions.count("panel.save") == 2 and actions.count("panel.update") == 4
    finally:
        store.dispose()

    status, _, err = run(capsys, "panels", "delete", str(blog))
    assert status == 1
    assert (f"panel {blog} is on the playlist of active TV link(s) {link.id} ('Office TV'); "
            "nothing was deleted") in err and "--force" in err
    assert run(capsys, "panels", "show", str(blog))[0] == 0
    status, out, _ = run(capsys, "panels", "delete", str(blog), "--force")
    assert status == 0 and out.startswith(f"Deleted panel {blog}.\n") and link.id in out
    assert run(capsys, "panels", "delete", str(shop))[:2] == (0, f"Deleted panel {shop}.\n")
    for action in (("show",), ("rename", "x"), ("pin",), ("unpin",), ("set-query", "metric=x"),
                   ("delete",)):
        status, _, err = run(capsys, "panels", action[0], str(blog), *action[1:])
        assert (status, err) == (1, f"error: there is no panel {blog} (`gadash panels list`)\n")
    assert run(capsys, "panels", "list")[1] == "No panels.\n"


def test_panels_refusals(env, capsys) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    status, _, err = run(capsys, "panels", "create", "--property", "Demo blog", "--name", "x",
                         "--query", "dim=country&metric=sessions&top=7")
    assert status == 1 and "Ignored top='7'" in err and "Nothing was changed." in err
    status, _, err = run(capsys, "panels", "create", "--property", "Demo blog", "--name", "x",
                         "--query", "property=Demo shop&metric=sessions")
    assert status == 1 and "is of the property 'Demo shop', not 'Demo blog'" in err
    status, _, err = run(capsys, "panels", "create", "--property", "Blog", "--name", "x",
                         "--query", "metric=sessions")
    assert status == 1 and "There is no property 'Blog'" in err
    status, _, err = run(capsys, "panels", "create", "--property", "Demo blog", "--name", " ",
                         "--query", "metric=sessions")
    assert status == 1 and "Give the panel a name." in err
    status, _, err = run(capsys, "panels", "create", "--property", "Demo blog", "--name", "x")
    assert status == 2 and "--query" in err
    status, _, err = run(capsys, "panels", "show", "twelve")
    assert status == 2 and "invalid int value: 'twelve'" in err
    assert run(capsys, "panels", "list")[1] == "No panels.\n"

    status, out, _ = run(capsys, "panels", "create", "--property", "Demo shop", "--name", "x",
                         "--query", "metric=sessions")
    assert status == 0
    panel = re.match(r"Saved panel (\d+) ", out).group(1)  # type: ignore[union-attr]
    status, _, err = run(capsys, "panels", "set-query", panel, "property=Demo blog&metric=x")
    assert status == 1 and "not 'Demo shop'" in err
    # A TV link may only show panels that exist, of its own property.
    status, _, err = run(capsys, "tv-links", "create", "Lobby", "--playlist",
                         f"screens=panel:{panel},panel:999,panel:funnels&property=Demo blog")
    assert status == 1
    assert f"Panel {panel} ('x') is of the property 'Demo shop', but this link shows " \
           "'Demo blog'" in err
    assert "There is no saved panel 999 (panel:999)" in err
    assert "There is no built-in panel 'funnels'" in err
    assert "No active TV links" in run(capsys, "tv-links", "list")[1]
    status, _, err = run(capsys, "tv-links", "create", "Lobby", "--playlist",
                         f"screens=panel:{panel},panel:products&property=Demo shop")
    assert status == 0, err


# ----------------------------------------------------------------- serve, standin, help

def test_serve_runs_gunicorn_with_the_procfile_settings(env, monkeypatch, capsys) -> None:
    """``os.execvp`` replaces the process with gunicorn; here it only records the call."""
    calls: list[list[str]] = []

    def execvp(file: str, args: list[str]) -> None:
        calls.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execvp", execvp)
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert run(capsys, "serve")[0] == 0
    assert run(capsys, "serve", "--port", "8123", "--workers", "1", "--host", "127.0.0.1")[0] == 0
    import gadash

    # The Procfile's settings and hooks: the installed package's gunicorn config file.
    options = ["--config", str(Path(gadash.__file__).with_name("gunicorn_conf.py"))]
    assert calls == [
        [sys.executable, "-m", "gunicorn", "gadash.wsgi:server", "--bind", "0.0.0.0:9000",
         "--workers", "3", *options],
        [sys.executable, "-m", "gunicorn", "gadash.wsgi:server", "--bind", "127.0.0.1:8123",
         "--workers", "1", *options],
    ]
    monkeypatch.setenv("WEB_CONCURRENCY", "many")
    status, _, err = run(capsys, "serve")
    assert status == 2 and "WEB_CONCURRENCY: 'many' is not a number of workers" in err


def test_standin_takes_its_own_options(env, capsys) -> None:
    status, out, _ = run(capsys, "standin", "--help")
    assert status == 0 and "--spike PATH*FACTOR" in out and "--sessions-per-day" in out


def test_help_lists_every_subcommand(env, capsys) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("serve", "standin", "check", "db", "tv-links", "panels", "digests"):
        assert re.search(rf"^    {command} +\S", out, re.M), out
    status, _, err = run(capsys, "check", "--bogus")
    assert status == 2 and "unrecognized arguments: --bogus" in err


# ----------------------------------------------------------------- the wheel

def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GADASH_") and k not in SETTINGS_VARIABLES}
    return {**env, **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel of the checkout, installed in a fresh venv; yields the venv.

    The wheel is built from a copy of the checkout (without .venv, .git, caches and
    earlier build/ output, which setuptools would otherwise reuse) with pip's build
    isolation, so setuptools comes from the package index (or pip's cache).
    Installing the wheel's dependencies from the index would take minutes, so the
    wheel goes in with ``--no-deps`` and a ``.pth`` file in the new venv's
    site-packages appends the test interpreter's site-packages (found with
    ``sysconfig``) to its ``sys.path``: the dependencies are importable, while
    ``gadash`` itself is only in the new venv (that site-packages holds no gadash,
    and a .pth line only appends, after the venv's own directory).
    """
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".*", "__pycache__", "build", "dist", "*.egg-info", "instance", "artifacts"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--disable-pip-version-check", "-q", "-w", str(tmp / "dist")],
                   check=True, env=_clean_env())
    wheel, = (tmp / "dist").glob("gadash-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-q", str(wheel)], check=True,
                   env=_clean_env())
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "gadash_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    assert not any((Path(p) / "gadash").exists() for p in ours)
    yield venv


def _gadash(venv: Path, cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "gadash"), *argv], cwd=cwd, env=_clean_env(**env),
                          capture_output=True, text=True, timeout=120)


def _package_dir(venv: Path, cwd: Path) -> Path:
    """Where the venv's python finds gadash, from a directory without a checkout."""
    origin = subprocess.run([str(venv / "bin" / "python"), "-c", "import importlib.util; "
                             "print(importlib.util.find_spec('gadash').origin)"],
                            cwd=cwd, env=_clean_env(), check=True, capture_output=True,
                            text=True).stdout.strip()
    return Path(origin).parent


def test_wheel_installs_the_package_data(installed, tmp_path) -> None:
    package = _package_dir(installed, tmp_path)
    assert package.is_relative_to(installed)
    for name in ("assets/gadash.css", "assets/tv.js", "assets/auth.js", "assets/favicon.ico",
                 "assets/vendor/README.md", "assets/vendor/plotly.js-LICENSE.txt",
                 "store/migrations/env.py", "store/migrations/script.py.mako", "wsgi.py",
                 "cli.py"):
        assert (package / name).is_file(), name
    assert list((package / "assets/vendor").glob("plotly-basic-*.min.js"))
    assert {p.name for p in (ROOT / "gadash/store/migrations/versions").glob("0*.py")} == {
        p.name for p in (package / "store/migrations/versions").glob("0*.py")}
    assert not (package.parent / "tests").exists()  # the tests stay out of the wheel


def test_wheel_gadash_help_and_check(installed, tmp_path, standin_clean) -> None:
    done = _gadash(installed, tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    for command in ("serve", "standin", "check", "db", "tv-links", "panels", "digests"):
        assert re.search(rf"^    {command} +\S", done.stdout, re.M), done.stdout

    done = _gadash(installed, tmp_path, "check", GADASH_GA_ENDPOINT=standin_clean.endpoint,
                   GADASH_PROPERTIES=f"Blog={BLOG}", GADASH_DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^OK +Blog \({BLOG}\): \d+ dimensions and metrics$", done.stdout, re.M)


def test_wheel_gadash_serve_demo_serves_the_installed_assets(installed, tmp_path) -> None:
    package = _package_dir(installed, tmp_path)
    marker = f"/* the installed copy, {tmp_path.name} */"
    with (package / "assets/gadash.css").open("a") as css:  # so we know which copy answers
        css.write(f"\n{marker}\n")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = popen(
            [str(installed / "bin" / "gadash"), "serve", "--port", str(port), "--workers", "1",
             "--host", "127.0.0.1"], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            env=_clean_env(GADASH_DATA_DIR=str(tmp_path / "data"), GADASH_WARM_INTERVAL="0"))
        # its own process group, guarded: gunicorn and its worker
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # a worker still loading
                time.sleep(0.3)
        page = requests.get(url + "/", timeout=30)
        assert page.status_code == 200
        css = re.search(r'href="(/assets/gadash\.css\?m=[^"]+)"', page.text)
        script = re.search(r'src="(/assets/tv\.js\?m=[^"]+)"', page.text)
        assert css and script, page.text[:2000]
        served = requests.get(url + css.group(1), timeout=10)
        assert served.status_code == 200 and marker in served.text
        served = requests.get(url + script.group(1), timeout=10)
        assert served.status_code == 200
        assert served.content == (package / "assets/tv.js").read_bytes()
        ready = requests.get(url + "/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert f"Listening at: {url}" in log_path.read_text()  # gunicorn, not Flask's server
        # The installed gunicorn config: the workers share a metrics directory.
        assert "metrics of all workers in" in log_path.read_text()
        metrics = requests.get(url + "/metrics", timeout=30)
        assert metrics.status_code == 200 and "gadash_tv_screens" in metrics.text
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn and its worker (gunicorn's graceful stop), SIGKILL if stuck."""
    stop_group(proc, grace=40)


def test_tv_links_create_refuses_what_the_web_form_refuses(env, capsys) -> None:
    """One rule for both: a playlist with a line break is refused (the CLI let it pass)."""
    assert run(capsys, "db", "upgrade")[0] == 0
    status, _, err = run(capsys, "tv-links", "create", "Office TV", "--playlist",
                         "screens=overview\nrange=last7")
    assert status == 1 and "line breaks or control characters" in err
    status, _, err = run(capsys, "tv-links", "create", "Office TV", "--playlist",
                         "screens=" + "overview," * 80)
    assert status == 1 and "at most 500 fit" in err
    assert "No active TV links" in run(capsys, "tv-links", "list")[1]


def test_serve_help_shows_the_figures_gunicorn_will_use(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.delenv("GADASH_PORT", raising=False)
    monkeypatch.delitem(sys.modules, "gadash.gunicorn_conf", raising=False)
    monkeypatch.delattr(gadash, "gunicorn_conf", raising=False)  # read afresh, as a new run
    status, out, _ = run(capsys, "serve", "--help")
    text = " ".join(out.split())
    assert status == 0
    assert "5 workers here" in text and "128 threads" in text and "timeout 60 s" in text
    assert "here 9123" in text and "at least 2: here 5" in text


# ----------------------------------------------------------------- digests

def test_digests_create_list_show_pause_delete(env, monkeypatch, capsys) -> None:
    from gadash.store import Store
    from gadash.store.team import save_view

    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "digests", "list")[:2] == (
        0, "No digests (`gadash digests create`, or /digests in the app).\n")
    store = Store(f"sqlite:///{env / 'gadash.db'}")
    view = save_view(store, "ann@example.com", "Blog", "?property=Demo+blog&range=last7",
                     "Demo blog")
    store.dispose()

    status, out, err = run(capsys, "digests", "create", "--name", "Weekly blog", "--source",
                           f"view:{view.slug}", "--schedule", "weekly mon 09:00",
                           "--email", "team@example.com",
                           "--webhook", "https://hooks.example.com/services/T/B/secret")
    assert status == 0, err
    assert out.startswith("Made digest 1 ('Weekly blog'): view:")
    assert "Every Monday at 09:00, to team@example.com, https://hooks.example.com (webhook)" in out
    assert "GADASH_PUBLIC_URL is not set" in out and "GADASH_SMTP_HOST is not set" in out
    assert "secret" not in out

    status, out, _ = run(capsys, "digests", "list")
    assert out.splitlines()[1].startswith(f"1\tWeekly blog\tview:{view.slug}\tDemo blog\t"
                                          "weekly mon 09:00\tactive\t")
    assert run(capsys, "digests", "pause", "1")[1] == "Digest 1 is paused.\n"
    status, out, _ = run(capsys, "digests", "show", "1")
    assert "When: Every Monday at 09:00, in the property's time zone (paused)" in out
    assert "Runs: none yet" in out and "secret" not in out
    assert "active again" in run(capsys, "digests", "resume", "1")[1]

    status, _, err = run(capsys, "digests", "create", "--name", "X", "--source", "view:nope",
                         "--schedule", "daily 08:00", "--email", "a@example.com")
    assert status == 1 and "There is no saved view 'nope'" in err and "Nothing was changed" in err
    status, _, err = run(capsys, "digests", "create", "--name", "X", "--source",
                         f"view:{view.slug}", "--schedule", "fortnightly", "--email", "a@b.co")
    assert status == 1 and "is not a schedule such as" in err
    assert run(capsys, "digests", "delete", "1")[1] == "Deleted digest 1 and its runs.\n"
    status, _, err = run(capsys, "digests", "show", "1")
    assert status == 1 and "there is no digest 1" in err
