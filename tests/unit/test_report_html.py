"""The expiry report is one self-contained page with a timeline, the table and the run's figures."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ecs_renewal.report.html import render_expiry_report
from ecs_renewal.timeutil import zone

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
    text = render_expiry_report(RESULT, tz=zone("Asia/Shanghai"), tz_name="Asia/Shanghai")
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
    assert 'name="viewport"' in text and "@media print" in text and "@media (max-width" in text
    assert "overflow-x: auto" in text  # the wide table scrolls inside its box on a narrow screen


def test_timeline_stacks_regions_and_marks_tiers():
    text, outline = page()
    assert outline.tags.count("svg") == 1
    assert len(re.findall(r'<rect [^>]*fill="#0072B2"', text)) == 2  # cn-hangzhou: two days with instances
    assert len(re.findall(r'<rect [^>]*fill="#E69F00"', text)) == 1  # cn-shanghai
    assert len(re.findall(r'class="tier"', text)) == 5  # 1, 3, 7, 15, 30 days within a 30-day window


def test_table_figures_and_escaping():
    text, outline = page()
    assert outline.tags.count("tr") == 1 + 3  # header + one row per instance
    assert "db-&lt;1&gt;" in text and "db-<1>" not in text
    assert "1,444.00 CNY" in text and "(1 unknown)" in text and "unknown</td>" in text
    assert "2026-11-25 18:00" in text  # 10:00 UTC shown in Asia/Shanghai
    assert 'class="tier-1"' in text


def test_empty_window_says_so():
    text = render_expiry_report({**RESULT, "expiring": [], "estimated_cost": {}})
    assert "Nothing expires in this window." in text
