"""The plain HTML page that sign-in, refusals, TV links and the team's forms answer with
(server-rendered, no script, outside Dash)."""

from __future__ import annotations

from html import escape

from flask import Response

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} – gadash</title>
<style>body{{font-family:system-ui,sans-serif;background:#f6f7f9;color:#202124;margin:0}}
main{{max-width:560px;margin:12vh auto;background:#fff;border:1px solid #e3e5e8;border-radius:12px;
padding:28px 32px}}h1{{font-size:22px;margin:0 0 12px}}.logo{{font-weight:800;font-size:26px}}
.logo b{{color:#1a73e8}}.btn{{display:inline-block;background:#1a73e8;color:#fff;border:0;
border-radius:6px;padding:10px 18px;font-size:15px;text-decoration:none;cursor:pointer}}
.err{{background:#fce8e6;border:1px solid #f5b9b3;color:#a50e0e;padding:10px 14px;
border-radius:8px}}
.note{{color:#5f6368}}table{{border-collapse:collapse;width:100%;margin:12px 0}}
td,th{{text-align:left;padding:6px;border-bottom:1px solid #eee;font-size:14px}}
input,select,textarea{{padding:6px;margin:4px 0 10px;width:100%;box-sizing:border-box;
font:inherit}}main.wide{{max-width:980px;margin:4vh auto}}fieldset{{border:1px solid #e3e5e8;
border-radius:8px;margin:0 0 12px}}td input,td button{{width:auto;margin:0 4px 0 0}}
.ok{{color:#137333}}.bad{{color:#a50e0e}}pre{{white-space:pre-wrap;font-size:13px;
background:#f6f7f9;padding:8px;border-radius:6px}}
code{{word-break:break-all}}</style></head><body><main{main_class}>
<div class="logo"><b>ga</b>dash</div>{body}</main></body></html>"""


def page(title: str, body: str, status: int = 200, wide: bool = False) -> Response:
    """A page with this title and body (HTML, escaped by the caller); ``wide`` for
    tables of many columns."""
    return Response(_PAGE.format(title=escape(title), body=body,
                                 main_class=' class="wide"' if wide else ""),
                    status=status, mimetype="text/html")
