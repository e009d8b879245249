"""A digest's words in a mail and in chat: what GA sends (page titles, sources) is text,
never markup or a ping."""

from __future__ import annotations

import json

from gadash.core.digest import DigestContent, Tile, as_html, as_slack, as_text

EVIL = "<script>alert(1)</script> & <!channel> @everyone"


def content(**more) -> DigestContent:
    base = dict(name="Weekly", property_name="Blog", period="1 – 7 Dec 2026",
                link="https://dash.example.com/?property=Blog&range=2026-12-01..2026-12-07",
                tiles=tuple(Tile(f"Metric {n}", f"{n:,}", "▲ 1.0%", "good") for n in range(12)),
                changes=(("Sessions +10% (+100).", (f"{EVIL} (+90)",)),),
                unusual=("Thursday 3 December: sessions 3.2x the usual Thursday",),
                notes=("Sampled: GA read 50% of events for this period",))
    return DigestContent(**{**base, **more})  # type: ignore[arg-type]


def test_html_escapes_what_ga_says():
    html = as_html(content(), image=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "src='cid:trend'" in html
    assert "href='https://dash.example.com/?property=Blog&amp;range=2026-12-01..2026-12-07'" in html
    assert "cid:trend" not in as_html(content(), image=False)


def test_slack_pings_nobody_and_keeps_sections_within_slacks_limits():
    body = as_slack(content(), "https://dash.example.com/digest-images/t.png")
    said = json.dumps(body, ensure_ascii=False)
    assert "<!channel>" not in said and "@everyone" not in said and "@\u200beveryone" in said
    sections = [b for b in body["blocks"] if b["type"] == "section" and "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 2]  # 12 tiles, at most 10 a section
    (image,) = [b for b in body["blocks"] if b["type"] == "image"]
    assert image["image_url"].endswith("/t.png") and image["alt_text"] == ""
    assert "<https://dash.example.com/?property=Blog&amp;range=" in said
    assert not [b for b in as_slack(content(), None)["blocks"] if b["type"] == "image"]


def test_text_lists_tiles_changes_and_the_link():
    text = as_text(content(late="Due Monday 09:00; sent late."))
    assert "Metric 11  11  ▲ 1.0%" in text
    assert "Sessions +10% (+100).\n- <script>" in text
    assert "Due Monday 09:00; sent late." in text
    assert text.rstrip().endswith("range=2026-12-01..2026-12-07")
