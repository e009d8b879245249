"""gadash: a team dashboard for Google Analytics 4, on Plotly Dash.

The package is in rooms, each depending only on the ones below it (README,
"Architecture"): ``core`` (what is asked and what it means, pure), ``data`` (GA's
answers, cached), ``store`` (the team's database and its operations), ``jobs``
(threads beside requests) and ``web`` (everything that imports Flask or Dash).

Importing ``gadash`` imports none of them, nor anything else: ``gadash.create_app``
(``gadash.web.app.create_app``) is loaded when it is first asked for.
"""

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from gadash.web.app import create_app

        return create_app
    raise AttributeError(f"module 'gadash' has no attribute {name!r}")
