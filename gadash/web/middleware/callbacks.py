"""Callback requests checked before Dash sees them: shape, callback, input types.

Dash answers a malformed ``/_dash-update-component`` body, an unknown output or a
wrong-typed input with an exception (a 500). Here every request is held against
the callback it names (``app.callback_map``): the body is a JSON object of the
shape Dash's renderer sends, the callback runs on the server (a clientside one is
in the map too, with nothing to call), the inputs and states are exactly the callback's,
and each value has the type its property carries. A refused request gets 400 and
a short JSON reason; callbacks then only see values of the right type (they
check meaning themselves, e.g. a date range or a filter name).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection
from typing import Any

import orjson
from flask import Response, g, jsonify, request
from werkzeug.exceptions import BadRequest

DASH_CALLBACK_PATH = "/_dash-update-component"  # Dash's, not sign-in's redirect
_JSON = (dict, list, str, int, float, bool)
_EXACT = 2**53  # the largest integer a browser's numbers hold exactly
# property -> the JSON types its value may have (None is always allowed)
PROPERTY_TYPES: dict[str, Any] = {
    "n_clicks": int, "n_submit": int, "n_intervals": int, "n_blur": int,
    "search": str, "pathname": str, "href": str, "hash": str,
    "value": (str, int, float), "start_date": str, "end_date": str, "date": str,
    "cellClicked": dict, "clickData": dict, "hoverData": dict, "selectedData": dict,
    "rowData": list, "columnDefs": list, "dashGridOptions": dict, "options": list,
    "data": _JSON, "figure": dict, "children": _JSON, "className": str, "style": dict,
    "interval": int, "disabled": bool, "exportDataAsCsv": bool,
}


class Refused(Exception):
    """A callback request that does not fit its callback."""


def callback_body() -> Any:
    """The parsed JSON body of a callback request, once per request.

    Raises Refused for a body that is not JSON (or nests past Python's limit)."""
    if "callback_body" not in g:
        try:
            g.callback_body = request.get_json(force=True, silent=False)
        except (BadRequest, ValueError, RecursionError) as exc:
            raise Refused("the body is not a JSON object") from exc
    return g.callback_body


def _check_writable(value: Any, where: str) -> None:
    """A value Dash can write back as JSON, as callbacks often echo what they get (a
    grid's options, a version plus one): its encoder (orjson) raises on integers past
    64 bits and on nesting past 255 levels, both of which Python's parser reads."""
    if isinstance(value, int) and not -_EXACT <= value <= _EXACT:  # a count, a version
        raise Refused(f"{where}: a number past 2**53")
    if isinstance(value, dict | list):
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError as exc:
            raise Refused(f"{where}: a number past 64 bits or nesting too deep") from exc


def _check_value(prop: str, value: Any, where: str, many: bool = False) -> None:
    """``many``: the component holds several values (a multi-select, a checklist)."""
    if value is None:
        return
    _check_writable(value, where)
    wanted = PROPERTY_TYPES.get(prop, _JSON)
    if isinstance(value, bool) and wanted in (int, PROPERTY_TYPES["value"]):
        raise Refused(f"{where}: {prop} must not be true/false")
    if prop == "value" and isinstance(value, list) and many:
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            raise Refused(f"{where}: a list value holds text and numbers only")
        return
    if not isinstance(value, wanted):
        raise Refused(f"{where}: {prop} has the wrong type")
    if prop == "clickData":
        points = value.get("points", [])
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            raise Refused(f"{where}: clickData.points must be a list of points")
    if prop == "rowData" and not all(isinstance(row, dict) for row in value):
        raise Refused(f"{where}: rowData must be a list of rows (objects)")
    if prop == "pathname" and not value.startswith("/"):
        raise Refused(f"{where}: a pathname starts with /")
    if prop == "cellClicked" and not isinstance(value.get("colId", ""), str | None):
        raise Refused(f"{where}: cellClicked.colId must be text")


@functools.lru_cache(maxsize=1024)  # the app's callbacks: a fixed set of ids
def declared_id(value: str) -> str | dict[str, Any]:
    """A callback's component id: text, or a pattern-matching id (Dash writes those
    as JSON, wildcards as ``["ALL"]``)."""
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict):
            return parsed
    return value


def _wildcard(value: Any) -> bool:
    return isinstance(value, list) and value in (["ALL"], ["MATCH"], ["ALLSMALLER"])


def _matches_many(declared: str | dict[str, Any]) -> bool:
    """A pattern-matching id with ALL or ALLSMALLER: the renderer sends a list."""
    return isinstance(declared, dict) and any(
        v in (["ALL"], ["ALLSMALLER"]) for v in declared.values())


def _same_id(sent: Any, declared: str | dict[str, Any]) -> bool:
    if isinstance(declared, str):
        return sent == declared
    if not isinstance(sent, dict) or set(sent) != set(declared):
        return False
    for key, want in declared.items():
        got = sent[key]
        if not isinstance(got, str | int | float) or isinstance(got, bool):
            return False
        if not _wildcard(want) and got != want:
            return False
    return True


def _check_items(sent: Any, declared: list[dict[str, Any]], kind: str,
                 list_values: Collection[str]) -> None:
    if not isinstance(sent, list) or len(sent) != len(declared):
        raise Refused(f"{kind} do not match the callback")
    for i, (item, want) in enumerate(zip(sent, declared, strict=True)):
        where = f"{kind}[{i}]"
        wanted_id = declared_id(str(want["id"]))
        items = item if _matches_many(wanted_id) else [item]
        if not isinstance(items, list):
            raise Refused(f"{where} must be a list")
        for one in items:
            if not isinstance(one, dict) or one.get("property") != want["property"] \
                    or not _same_id(one.get("id"), wanted_id):
                raise Refused(f"{where} is not {want['property']} of the callback's input")
            many = wanted_id.get("type") in list_values if isinstance(wanted_id, dict) \
                else wanted_id in list_values
            _check_value(want["property"], one.get("value"), where, many)


@functools.lru_cache(maxsize=1024)  # only names in the callback map get here
def _output_names(output: str) -> tuple[tuple[str | dict[str, Any], str, bool], ...]:
    """A callback's outputs as (component id, property, whether the id matches many),
    from Dash's output string."""
    names = output[2:-2].split("...") if output.startswith("..") else [output]
    outputs = [(declared_id(name.rpartition(".")[0]), name.rpartition(".")[2]) for name in names]
    return tuple((declared, prop, _matches_many(declared)) for declared, prop in outputs)


def _check_outputs(sent: Any, output: str) -> None:
    """``outputs`` as the renderer sends them: one object, or one per output, in order."""
    names = _output_names(output)
    items = sent if output.startswith("..") else [sent]
    if not isinstance(items, list) or len(items) != len(names):
        raise Refused("outputs do not match the callback")
    for item, (declared, prop, many) in zip(items, names, strict=True):
        if isinstance(declared, str):  # most outputs (a TV's 30 of them): one plain id
            if not isinstance(item, dict) or item.get("property") != prop \
                    or item.get("id") != declared:
                raise Refused("outputs do not match the callback")
            continue
        for one in item if many and isinstance(item, list) else [item]:
            if not isinstance(one, dict) or one.get("property") != prop \
                    or not _same_id(one.get("id"), declared):
                raise Refused("outputs do not match the callback")


def check_callback_request(callback_map: dict[str, Any], list_values: Collection[str] = ()
                           ) -> None:
    """Hold the request's body against the callback it names. Raises Refused.

    ``list_values``: the components whose value is a list (a multi-select, a
    checklist): pattern-matching types, or plain ids."""
    body = callback_body()
    if not isinstance(body, dict):
        raise Refused("the body is not a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        raise Refused("no such callback")
    spec = callback_map[output]
    if "callback" not in spec:  # a clientside callback: Dash would raise KeyError
        raise Refused("that output is set in the browser, not by the server")
    _check_outputs(body.get("outputs"), output)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise Refused("changedPropIds must be a list of names")
    _check_items(body.get("inputs"), spec["inputs"], "inputs", list_values)
    _check_items(body.get("state", []), spec["state"], "state", list_values)


def refuse(reason: str, status: int = 400) -> Response:
    response = jsonify(error="bad_request", message=reason)
    response.status_code = status
    return response


def guard_callbacks(callback_map: Callable[[], dict[str, Any]],
                    list_values: Collection[str] = ()) -> Response | None:
    """A ``before_request`` hook: 400 for a callback request that does not fit
    (``list_values``: see ``check_callback_request``)."""
    if request.path != DASH_CALLBACK_PATH or request.method != "POST":
        return None
    try:
        check_callback_request(callback_map(), list_values)
    except Refused as exc:
        return refuse(str(exc))
    return None


def refuse_large_bodies(limit: int) -> Response | None:
    """A ``before_request`` hook: 413 for a body past ``limit`` bytes, unread."""
    if request.content_length is not None and request.content_length > limit:
        return refuse(f"the request body is over {limit:,} bytes", 413)
    return None
