"""The expiry page as a browser lays it out: headless Chromium at 1280 px (a laptop), 1024 (a tablet), 390 (a phone).

Skipped where no Chromium is installed (CI need not have one; Debian: ``apt-get install chromium``).
The page itself has no script. The test puts it in an ``<iframe srcdoc>`` of the exact width — headless
Chromium will not make a window narrower than 500 px, an iframe is its own viewport for the page's media
queries — with a small script that measures the layout and writes the figures into the parent document,
which ``--dump-dom`` prints.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ecs_renewal.report.html import render_expiry_report
from ecs_renewal.timeutil import zone
from tests.builders import typed

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="Chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM=path): "
                            "the page's layout in a browser is not checked here")

FIELDS = ("Expires", "Days left", "Tier", "Instance", "Name", "Region", "Status", "Auto-renew", "Owner", "Price")
STATUSES = ("AutoRenewal", "Normal", "NotRenewal")


def fleet() -> dict:
    """30 days, 45 instances, four regions, long names and owners: wider than the demo, on purpose."""
    regions = ["cn-hangzhou", "cn-shanghai", "ap-southeast-1", "eu-central-1"]
    rows = []
    for n in range(45):
        day, hour = 1 + (n * 7) % 29, (n * 5) % 24
        rows.append({
            "instance_id": f"i-bp1{n:03d}abcdefghijklm", "instance_name": f"payments-production-gateway-{n:03d}",
            "region": regions[n % 4], "status": "Running" if n % 3 else "Stopped",
            "expired_time": f"2026-12-{day:02d}T{hour:02d}:00Z", "days_left": day - 0.5,
            "tier": 1 if day < 2 else 3 if day < 4 else 7 if day < 8 else 15 if day < 16 else 30,
            "auto_renew": STATUSES[n % 3], "owner": f"1380013{n:04d}" if n % 2 else "ding-user-operations-lead",
            "price": 12345.0 + n if n % 5 else None, "currency": "CNY",
        })
    return {"job": "scan-expiring", "regions": regions, "errors": [], "request_id": "r-1",
            "window": {"start": "2026-11-30T20:00Z", "end": "2026-12-30T20:00Z"},
            "estimated_cost": {"amount": 444444.0, "currency": "CNY", "priced": 36, "unknown": 9},
            "expiring": rows}


MEASURE = """<script>
const box = (e) => { const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top,
  bottom: b.bottom, width: b.width, height: b.height}; };
const shown = (e) => e.getClientRects().length > 0;
const rows = [...document.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((td) => ({
  label: td.dataset.label, text: td.textContent.trim(), box: box(td),
  caption: getComputedStyle(td, "::before").content })));
const chart = [...document.querySelectorAll(".chart svg")].filter(shown)[0];
const texts = [...chart.querySelectorAll("text")].map((t) => box(t).height);
const rects = [...chart.querySelectorAll("rect")].map(box);
const tiers = [...chart.querySelectorAll("line.tier")].map(box);
const table = document.querySelector(".table-box");
const out = {viewport: innerWidth, scrollWidth: document.documentElement.scrollWidth,
  tableScroll: table.scrollWidth, tableClient: table.clientWidth, chart: chart.getAttribute("class"),
  smallestText: Math.min(...texts), rows, rects, tiers};
const pre = parent.document.createElement("pre"); pre.id = "measured"; pre.textContent = JSON.stringify(out);
parent.document.body.append(pre);
</script>"""


def layout(width: int) -> dict:
    page = render_expiry_report(typed(fleet()), tz=zone("Asia/Shanghai"), tz_name="Asia/Shanghai")
    assert "<script" not in page  # the page has none; the measuring script is the test's own
    framed = page.replace("</body>", MEASURE + "</body>")
    wrapper = ('<!DOCTYPE html><html><body style="margin:0">'
               f'<iframe style="border:0;width:{width}px;height:900px" srcdoc="{html.escape(framed)}"></iframe>'
               "</body></html>")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "wrapper.html")
        path.write_text(wrapper, encoding="utf-8")
        run = subprocess.run(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={Path(tmp, 'profile')}", f"--window-size={width + 100},1000",
             "--dump-dom", path.as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="measured">(.*?)</pre>', run.stdout, re.S)
    assert found, f"Chromium printed no measurements (exit {run.returncode}): {run.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def tier_lines_cross_no_bar(measured: dict) -> bool:
    def crosses(line: dict, bar: dict) -> bool:
        vertical = line["width"] < line["height"]
        if vertical:
            x = (line["left"] + line["right"]) / 2
            return bar["left"] + 0.5 < x < bar["right"] - 0.5 and line["top"] < bar["bottom"]
        y = (line["top"] + line["bottom"]) / 2
        return bar["top"] + 0.5 < y < bar["bottom"] - 0.5
    return not any(crosses(line, bar) for line in measured["tiers"] for bar in measured["rects"])


def test_at_1280_every_column_fits_without_scrolling():
    measured = layout(1280)
    assert measured["viewport"] == 1280
    assert measured["scrollWidth"] <= 1280, "the page scrolls sideways"
    assert measured["tableScroll"] <= measured["tableClient"], "the table scrolls inside its box"
    assert len(measured["rows"]) == 45
    for row in measured["rows"]:
        assert [cell["label"] for cell in row] == list(FIELDS)
        assert all(cell["box"]["left"] >= 0 and cell["box"]["right"] <= 1280 for cell in row)
        assert all(cell["text"] for cell in row)
        assert len({round(cell["box"]["top"]) for cell in row}) == 1  # one table row, not a card
    assert measured["chart"] == "timeline-wide"
    assert round(measured["smallestText"]) >= 11  # CSS px (sub-pixel layout rounds): read, not guessed
    assert len(measured["tiers"]) == 5 and tier_lines_cross_no_bar(measured)


@pytest.mark.parametrize(("width", "chart", "per_row"), [(1024, "timeline-wide", 3), (390, "timeline-narrow", 1)])
def test_narrower_each_instance_is_a_card_with_every_field(width, chart, per_row):
    measured = layout(width)
    assert measured["viewport"] == width
    assert measured["scrollWidth"] <= width, "the page scrolls sideways"
    assert measured["tableScroll"] <= measured["tableClient"], "the cards scroll inside their box"
    assert len(measured["rows"]) == 45
    for row in measured["rows"]:
        assert sorted(cell["label"] for cell in row) == sorted(FIELDS)
        for cell in row:
            assert cell["text"] and cell["box"]["width"] > 0 and cell["box"]["height"] > 0, cell
            assert cell["box"]["left"] >= 0 and cell["box"]["right"] <= width, cell
        # every field but the card's title lines carries its label, since there is no header row to read
        captions = {cell["label"]: cell["caption"] for cell in row}
        assert all(captions[f] == json.dumps(f) for f in FIELDS if f not in ("Instance", "Name")), captions
    first_row = {round(row[0]["box"]["top"]) for row in measured["rows"][:per_row + 1]}
    assert len({round(row[0]["box"]["left"]) for row in measured["rows"][:per_row]}) == per_row  # cards a row
    assert len(first_row) == 2  # the next card starts the next row
    assert measured["chart"] == chart
    assert round(measured["smallestText"]) >= 11
    assert len(measured["tiers"]) == 5 and tier_lines_cross_no_bar(measured)
