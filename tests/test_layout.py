"""The package's layout holds: a light ``import gadash``, few top-level modules, and
import rules that fail when broken (README, "Architecture")."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)


def _imported(code: str) -> list[str]:
    found = _python(code, "-X", "importtime").stderr
    return [line.rsplit("|", 1)[1].strip() for line in found.splitlines()[1:]]


def test_importing_the_errors_loads_fewer_than_50_modules() -> None:
    """Under 50 with the interpreter's own; what the import adds is counted apart, so an
    environment that loads more at start-up (an editable install's finder) still tests
    gadash's share."""
    modules = _imported("import gadash.errors")
    added = sorted(set(modules) - set(_imported("pass")))
    assert len(added) <= 10, added
    assert [m for m in modules if m.startswith("gadash")] == ["gadash", "gadash.errors"]
    if len(modules) - len(added) < 40:  # a plain interpreter, as the README's commands make
        assert len(modules) < 50, modules


def test_importing_gadash_imports_no_room_and_no_framework() -> None:
    out = _python("import sys, gadash; print(sorted(m for m in sys.modules "
                  "if m.split('.')[0] in {'gadash', 'flask', 'dash', 'pandas', 'grpc'}))").stdout
    assert out.strip() == "['gadash']"
    out = _python("import gadash, gadash.web.app as app; print(gadash.create_app is "
                  "app.create_app)").stdout
    assert out.strip() == "True"


def test_at_most_ten_modules_at_the_top() -> None:
    top = sorted(p.name for p in (ROOT / "gadash").glob("*.py"))
    assert len(top) <= 10, top


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True,
                          text=True, timeout=120)


def test_the_import_rules_hold_and_fail_when_broken(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "gadash", tree / "gadash",
                    ignore=shutil.ignore_patterns("__pycache__", "assets"))
    shutil.copy(ROOT / "pyproject.toml", tree)
    kept = _lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", kept.stdout), kept.stdout

    query = tree / "gadash" / "core" / "query.py"
    query.write_text(query.read_text() + "\nimport flask  # noqa\n")
    (tree / "gadash" / "data" / "flight.py").write_text(
        (tree / "gadash" / "data" / "flight.py").read_text()
        + "\nfrom gadash.web.context import get_service  # noqa\n")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "only web knows Flask and Dash BROKEN" in broken.stdout, broken.stdout
    assert "gadash.core.query -> flask" in broken.stdout
    assert "edges depend on the core, never the reverse BROKEN" in broken.stdout
    assert "gadash.data.flight -> gadash.web.context" in broken.stdout
