"""What a scheduled digest says, and how it reads in a mail and in chat (pure).

``gadash.web.digests`` fills a ``DigestContent`` from the same answers and functions
the analyst view uses; ``gadash.jobs.digests`` sends what ``as_text``, ``as_html`` and
``as_slack`` make of it. Text from GA (page titles, sources) is escaped for each:
HTML entities in the mail, Slack's ``&``/``<``/``>`` and no ``@`` pings in chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

IMAGE_CID = "trend"  # the trend picture's Content-ID in the mail
_TONES = {"good": "#137333", "bad": "#b3261e", "flat": "#5f6368"}


@dataclass(frozen=True)
class Tile:
    """A KPI as its tile shows it: ``delta`` and ``tone`` (good/bad/flat) empty when
    the view compares nothing."""

    label: str
    value: str
    delta: str = ""
    tone: str = "flat"


@dataclass(frozen=True)
class DigestContent:
    """A digest's message: the view's tiles, What changed, unusual days, a link."""

    name: str
    property_name: str
    period: str  # "30 Nov – 6 Dec 2026 vs 23 – 29 Nov 2026"
    link: str  # the exact view: its dates written out, so it shows these numbers
    tiles: tuple[Tile, ...]
    # What changed: per metric, its headline and ranked sentences.
    changes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unusual: tuple[str, ...] = ()
    top_title: str = ""  # a panel's digest: its rows, "Top 10 by Sessions"
    top: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # like for like, sampling, stale data, errors of a part
    late: str = ""  # "Due Monday 09:00; sent late (the app was not running)."
    image_alt: str = ""

    @property
    def subject(self) -> str:
        return f"{self.name}: {self.property_name}, {self.period}"


@dataclass(frozen=True)
class Composed:
    """A digest made for one due time: its content and the trend as a PNG (None when
    it could not be drawn; the notes say why)."""

    content: DigestContent
    png: bytes | None


def as_text(c: DigestContent) -> str:
    """The plain-text part of the mail."""
    lines = [c.subject, "=" * min(len(c.subject), 72), ""]
    if c.late:
        lines += [c.late, ""]
    width = max((len(t.label) for t in c.tiles), default=0)
    lines += [f"{t.label.ljust(width)}  {t.value}{f'  {t.delta}' if t.delta else ''}"
              for t in c.tiles]
    if c.changes:
        lines += ["", "What changed"]
        for head, said in c.changes:
            lines += [head, *(f"- {f}" for f in said)]
    if c.unusual:
        lines += ["", "Unusual days", *(f"- {u}" for u in c.unusual)]
    if c.top:
        lines += ["", c.top_title, *(f"{n}. {t}" for n, t in enumerate(c.top, 1))]
    if c.notes:
        lines += ["", *c.notes]
    lines += ["", f"Open this view: {c.link}", ""]
    return "\n".join(lines)


def as_html(c: DigestContent, image: bool) -> str:
    """The HTML part of the mail; ``image``: the trend PNG rides along as
    ``cid:trend``. Inline styles only: mail clients drop style sheets."""
    e = escape
    tiles = "".join(
        "<td style='padding:8px 16px 8px 0;vertical-align:top'>"
        f"<div style='color:#5f6368;font-size:13px'>{e(t.label)}</div>"
        f"<div style='font-size:22px;font-weight:600'>{e(t.value)}</div>"
        + (f"<div style='color:{_TONES.get(t.tone, _TONES['flat'])};font-size:13px'>"
           f"{e(t.delta)}</div>" if t.delta else "") + "</td>"
        for t in c.tiles)
    parts = [f"<h1 style='font-size:20px;margin:0 0 4px'>{e(c.name)}</h1>",
             f"<p style='color:#5f6368;margin:0 0 12px'>{e(c.property_name)} · {e(c.period)}</p>"]
    if c.late:
        parts.append(f"<p style='color:#8a5300'>{e(c.late)}</p>")
    parts.append(f"<table role='presentation' style='border-collapse:collapse'><tr>{tiles}"
                 "</tr></table>")
    if image:
        parts.append(f"<p><img src='cid:{IMAGE_CID}' alt='{e(c.image_alt)}' width='760' "
                     "style='max-width:100%;height:auto'></p>")
    if c.changes:
        parts.append("<h2 style='font-size:16px;margin:16px 0 4px'>What changed</h2>")
        for head, said in c.changes:
            parts.append(f"<p style='margin:8px 0 4px'>{e(head)}</p>")
            if said:
                parts.append("<ol>" + "".join(f"<li>{e(f)}</li>" for f in said) + "</ol>")
    if c.unusual:
        parts.append("<h2 style='font-size:16px;margin:16px 0 4px'>Unusual days</h2><ul>"
                     + "".join(f"<li>{e(u)}</li>" for u in c.unusual) + "</ul>")
    if c.top:
        parts.append(f"<h2 style='font-size:16px;margin:16px 0 4px'>{e(c.top_title)}</h2><ol>"
                     + "".join(f"<li>{e(t)}</li>" for t in c.top) + "</ol>")
    if c.notes:
        parts += [f"<p style='color:#5f6368;font-size:12px'>{e(n)}</p>" for n in c.notes]
    parts.append(f"<p><a href='{e(c.link)}'>Open this view in gadash</a></p>")
    body = "".join(parts)
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{e(c.subject)}</title></head><body style='font-family:Arial,"
            f"sans-serif;color:#202124;max-width:760px'>{body}</body></html>")


def where(url: str) -> str:
    """The part of a webhook URL that may be shown or logged: scheme and host (whoever
    has the path can post to the channel)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "(not a URL)"
    return f"{parts.scheme}://{host or '?'}" if parts.scheme else "(not a URL)"


def slack_escape(text: str) -> str:
    """Text safe in Slack mrkdwn: entities for ``&<>``, no ``@channel``-style pings."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("@", "@\u200b"))


def as_slack(c: DigestContent, image_url: str | None) -> dict[str, Any]:
    """Slack incoming-webhook JSON: ``text`` (every Slack-compatible tool reads it) and
    ``blocks``; the trend as an image block when it has a public URL."""
    s = slack_escape
    link = c.link.replace("|", "%7C").replace(" ", "%20")
    tiles = [f"*{s(t.label)}*\n{s(t.value)}{f'  {s(t.delta)}' if t.delta else ''}"
             for t in c.tiles]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": c.name[:150]}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"{s(c.property_name)} · {s(c.period)}"}]},
    ]
    if c.late:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": s(c.late)}]})
    for i in range(0, len(tiles), 10):  # a section holds at most 10 fields
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": t}
                                                     for t in tiles[i:i + 10]]})
    if image_url:
        blocks.append({"type": "image", "image_url": image_url, "alt_text": c.image_alt[:2000]})
    if c.changes:
        said = "\n".join(f"{s(head)}" + "".join(f"\n{n}. {s(f)}" for n, f in enumerate(
            sentences, 1)) for head, sentences in c.changes)
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*What changed*\n{said}"[:3000]}})
    if c.unusual:
        said = "\n".join(f"• {s(u)}" for u in c.unusual)
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*Unusual days*\n{said}"[:3000]}})
    if c.top:
        said = "\n".join(f"{n}. {s(t)}" for n, t in enumerate(c.top, 1))
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*{s(c.top_title)}*\n{said}"[:3000]}})
    if c.notes:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": s(" · ".join(c.notes))[:3000]}]})
    blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                               "text": f"<{s(link)}|Open this view in gadash>"}})
    return {"text": s(as_text(c)), "blocks": blocks}


__all__ = ["IMAGE_CID", "Composed", "DigestContent", "Tile", "as_html", "as_slack", "as_text",
           "slack_escape", "where"]
