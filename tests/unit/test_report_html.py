"""The expiry report is one self-contained page with a timeline, the table and the run's figures (drawn from
the typed scan result: each dict here is read back with ``contract.from_contract``, as the CLI reads one)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from ecs_renewal.report.html import render_expiry_report
from ecs_renewal.timeutil import zone
from tests.builders import typed

RESULT = {
    "job": "scan-expiring", "regions": ["cn-hangzhou", "cn-shanghai"], "errors": [], "request_id": "r-1",
    "window": {"start": "2026-11-25T00:00Z", "end": "2026-12-25T00:00Z"},
    "estimated_cost": {"amount": 1444.0, "currency": "CNY", "priced": 3, "unknown": 1},
    "expiring": [
        {"instance_id": "i-bp1aaaaaaaaa", "instance_name": "web-1", "region": "cn-hangzhou", "status": "Running",
         "expired_time": "2026-11-25T10:00Z", "days_left": 0.4, "tier": 1, "auto_renew": "Normal",
         "owner": "13800138000", "price": 361.0, "currency": "CNY"},
        {"instance_id": "i-bp1bbbbbbbbb", "instance_name": "db-<1>", "region": "cn-shanghai", "status": "Running",
         "expired_time": "2026-12-01T16:00Z", "days_left": 6.7, "tier": 7, "auto_renew": "AutoRenewal",
         "owner": None, "price": 722.0, "currency": "CNY"},
        {"instance_id": "i-bp1cccccccccc", "instance_name": "", "region": "cn-hangzhou", "status": "Stopped",
         "expired_time": "2026-12-20T16:00Z", "days_left": 25.7, "tier": 30, "auto_renew": "Normal",
         "owner": None, "price": None, "currency": None},
    ],
}


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def page() -> tuple[str, Outline]:
    text = render_expiry_report(typed(RESULT), tz=zone("Asia/Shanghai"), tz_name="Asia/Shanghai")
    outline = Outline()
    outline.feed(text)
    return text, outline


def test_self_contained_no_scripts_fonts_or_external_references():
    text, outline = page()
    assert text.startswith("<!DOCTYPE html>")
    assert "script" not in outline.tags and "link" not in outline.tags and "img" not in outline.tags
    assert not [value for name, value in outline.attrs if name in ("src", "href") and value]
    assert "@import" not in text and "url(" not in text and "@font-face" not in text


def test_reads_on_a_phone_and_prints():
    text, _ = page()
    assert 'name="viewport"' in text and "@media print" in text and "@media (max-width: 1179px)" in text
    assert "overflow-x: auto" in text  # between a phone and a laptop the table may scroll inside its box
    # Narrower than the table each row is a card whose fields carry their own labels (no header row to read).
    assert "content: attr(data-label)" in text
    assert len(re.findall(r'<td class="[^"]*" data-label="', text)) == 3 * 10


def charts(text: str) -> dict[str, str]:
    return dict(re.findall(r'<svg class="(timeline-\w+)"(.*?)</svg>', text, re.S))


def test_timeline_stacks_regions_and_marks_tiers():
    text, outline = page()
    assert outline.tags.count("svg") == 2  # one for a wide screen, one drawn for a phone; CSS shows one
    drawn = charts(text)
    assert sorted(drawn) == ["timeline-narrow", "timeline-wide"]
    for svg in drawn.values():
        assert len(re.findall(r'<rect [^>]*fill="#0072B2"', svg)) == 2  # cn-hangzhou: two days with instances
        assert len(re.findall(r'<rect [^>]*fill="#E69F00"', svg)) == 1  # cn-shanghai
        assert len(re.findall(r'class="tier"', svg)) == 5  # 1, 3, 7, 15, 30 days within a 30-day window


def _numbers(tag: str, *names: str) -> list[float]:
    return [float(re.search(rf'\b{name}="([-\d.]+)"', tag).group(1)) for name in names]


@pytest.mark.parametrize("start", ["2026-11-24T16:00Z", "2026-11-25T03:30Z", "2026-11-25T12:00Z"])
def test_tier_lines_run_between_bars_never_through_one(start):
    # Asia/Shanghai midnight, mid-morning and evening: a tier ends in the middle of a day's bar.
    rows = [{**row, "expired_time": f"2026-11-{day}T{hour}:00Z"}
            for row in RESULT["expiring"] for day in range(25, 30) for hour in ("02", "11", "20")]
    window = {"start": start, "end": "2026-12-25T00:00Z"}
    text = render_expiry_report(typed({**RESULT, "expiring": rows, "window": window}), tz=zone("Asia/Shanghai"))
    wide, narrow = charts(text)["timeline-wide"], charts(text)["timeline-narrow"]
    bars = [_numbers(tag, "x", "width") for tag in re.findall(r"<rect [^>]*>", wide)]
    lines = [_numbers(tag, "x1")[0] for tag in re.findall(r'<line class="tier"[^>]*>', wide)]
    assert len(lines) == 5 and bars
    assert not [(x, bar) for x in lines for bar in bars if bar[0] <= x <= bar[0] + bar[1]]
    rows_y = [_numbers(tag, "y", "height") for tag in re.findall(r"<rect [^>]*>", narrow)]
    lines_y = [_numbers(tag, "y1")[0] for tag in re.findall(r'<line class="tier"[^>]*>', narrow)]
    assert len(lines_y) == 5 and rows_y
    assert not [(y, bar) for y in lines_y for bar in rows_y if bar[0] <= y <= bar[0] + bar[1]]


def test_tier_line_is_on_the_day_boundary_nearest_to_when_the_tier_ends():
    # 2026-11-25T12:00Z is 20:00 in Shanghai: one day later is 11-26 20:00, nearer 11-27 00:00 than 11-26 00:00.
    result = {**RESULT, "window": {"start": "2026-11-25T12:00Z", "end": "2026-12-25T00:00Z"}}
    text = render_expiry_report(typed(result), tz=zone("Asia/Shanghai"), tiers=(1,))
    assert "reminder tier ≤ 1 day: expiring before 11-26 20:00" in text
    slot = (1200 - 40 - 12) / 31  # 11-25 .. 12-25 in Shanghai: 31 days
    (x,) = [float(v) for v in re.findall(r'<line class="tier" x1="([\d.]+)"', charts(text)["timeline-wide"])]
    assert x == pytest.approx(40 + 2 * slot, abs=0.1)


def test_table_figures_and_escaping():
    text, outline = page()
    assert outline.tags.count("tr") == 1 + 3  # header + one row per instance
    assert "db-&lt;1&gt;" in text and "db-<1>" not in text
    assert "1,444.00 CNY" in text and "(1 unknown)" in text and "unknown</td>" in text
    assert "2026-11-25 18:00" in text  # 10:00 UTC shown in Asia/Shanghai
    assert 'class="tier-1"' in text


def test_table_says_auto_renew_and_status_in_plain_words():
    text, _ = page()
    cells = dict.fromkeys(re.findall(r'data-label="(?:Auto-renew|Status)">([^<]*(?:<span[^>]*>[^<]*)?)', text))
    assert list(cells) == ["running", "off", "on", "stopped"]
    assert "AutoRenewal" not in text and "Normal<" not in text and "Running" not in text
    lapsing_row = {**RESULT["expiring"][0], "auto_renew": "NotRenewal"}
    lapsing = render_expiry_report(typed({**RESULT, "expiring": [lapsing_row]}))
    assert '<span class="lapse">letting it expire</span>' in lapsing and "NotRenewal" not in lapsing
    assert "<b>1</b><span>letting it expire (the owner&#x27;s choice)</span>" in lapsing


def test_empty_window_says_so():
    text = render_expiry_report(typed({**RESULT, "expiring": [], "estimated_cost": {}}))
    assert "Nothing expires in this window." in text
