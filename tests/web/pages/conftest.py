"""One app for every page test: Dash registers pages and callbacks once per process, so
a second app in the same process would have none of them."""

from __future__ import annotations

import pytest

from gadash.settings import Settings
from tests.conftest import BLOG, LARGE, SHOP


@pytest.fixture(scope="session")
def app(standin, tmp_path_factory):
    from gadash.web.app import create_app

    db = tmp_path_factory.mktemp("pages") / "team.db"
    return create_app(Settings(ga_endpoint=standin.endpoint,
                               properties={"Blog": BLOG, "Shop": SHOP, "News": LARGE},
                               database_url=f"sqlite:///{db}", _env_file=None))
