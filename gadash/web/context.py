"""What a request finds on the current app: its data service and team database, and
who acts."""

from __future__ import annotations

from typing import cast

from flask import current_app, session

from gadash.data.service import DataService
from gadash.store import Store

STORE_EXTENSION = "gadash_store"


def get_store() -> Store:
    """The current app's team database."""
    return cast(Store, current_app.extensions[STORE_EXTENSION])


def actor() -> str:
    """Who is acting: the signed-in person's email, or the open demo."""
    user = session.get("user")
    if isinstance(user, dict) and isinstance(user.get("email"), str):
        return str(user["email"])
    return "local demo"


EXTENSION = "gadash"


def get_service() -> DataService:
    """The current app's data service."""
    return cast(DataService, current_app.extensions[EXTENSION])

