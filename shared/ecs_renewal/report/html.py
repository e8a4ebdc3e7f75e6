"""One self-contained HTML page of what is coming: an expiry timeline, the table, the run's figures.

No external scripts, styles or fonts (it must open from a mail attachment or a phone offline): the
chart is inline SVG, the style is inline CSS with a system font stack. It prints on A4 and reads on a
narrow screen (the table scrolls sideways inside its box, the chart scales).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from html import escape
from typing import Any

from ..tiers import DEFAULT_TIERS, EXPIRED, tier_label
from ..timeutil import parse_minute

# Colour-blind-safe palette (Okabe–Ito), one colour per region in order of appearance.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CHART_WIDTH, CHART_HEIGHT, MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 720, 220, 36, 34, 22

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; padding: 16px; max-width: 1000px; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 4px; } h2 { font-size: 1.1em; margin: 24px 0 8px; }
.sub { color: #555; margin: 0 0 16px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; margin: 12px 0; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }
.figure b { display: block; font-size: 1.35em; }
.figure span { color: #555; font-size: .85em; }
.chart svg { width: 100%; height: auto; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: .85em; margin: 4px 0 0; padding: 0; list-style: none; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: baseline; }
.table-box { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid #ddd; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; min-width: 640px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
th { background: #f6f6f6; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.tier-expired td, tr.tier-1 td { background: #fde8e8; } tr.tier-3 td { background: #fff1e0; }
.tag { font-size: .8em; padding: 1px 6px; border-radius: 9px; background: #eee; }
.errors { color: #a00; }
footer { color: #777; font-size: .8em; margin-top: 24px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .table-box { overflow: visible; border: none; }
  table { min-width: 0; } th { position: static; }
  tr { break-inside: avoid; } .chart { break-inside: avoid; }
}
@media (max-width: 600px) { body { padding: 10px; } h1 { font-size: 1.2em; } }
"""


def render_expiry_report(
    result: dict[str, Any], *, tz: timezone | Any = timezone.utc, tz_name: str = "UTC",
    tiers: tuple[int, ...] = DEFAULT_TIERS, generated_at: datetime | None = None,
) -> str:
    """The page for a scan-expiring result (rows may carry ``price``, ``currency``, ``tier``, ``owner``)."""
    rows = list(result.get("expiring", []))
    window = result.get("window") or {}
    start = parse_minute(window["start"]) if window.get("start") else datetime.now(timezone.utc)
    end = parse_minute(window["end"]) if window.get("end") else start + timedelta(days=7)
    regions = list(dict.fromkeys([*result.get("regions", []), *(r["region"] for r in rows)]))
    colours = {region: PALETTE[i % len(PALETTE)] for i, region in enumerate(regions)}
    cost = result.get("estimated_cost") or {}
    generated = (generated_at or datetime.now(timezone.utc)).astimezone(tz)

    title = f"ECS expiries {start.astimezone(tz):%Y-%m-%d} → {end.astimezone(tz):%Y-%m-%d}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        f'<p class="sub">Prepaid instances whose subscription ends in the window, in {escape(", ".join(regions))}. '
        f"Times in {escape(tz_name)}.</p></header>",
        _figures(rows, cost, result, tz),
        '<section class="chart" aria-label="Expiry timeline"><h2>Timeline</h2>',
        _timeline_svg(rows, start, end, tz, colours, tiers),
        _legend(colours),
        "</section>",
        '<section><h2>Instances</h2><div class="table-box">',
        _table(rows, tz),
        "</div></section>",
        _errors(result.get("errors", [])),
        f"<footer>Generated {generated:%Y-%m-%d %H:%M} ({escape(tz_name)}) by ecs-renewal scan-expiring"
        f"{' · request ' + escape(str(result['request_id'])) if result.get('request_id') else ''}.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _figures(rows: list[dict[str, Any]], cost: dict[str, Any], result: dict[str, Any], tz: Any) -> str:
    first = min((r["expired_time"] for r in rows), default=None)
    soonest = f"{parse_minute(first).astimezone(tz):%Y-%m-%d %H:%M}" if first else None
    amount = cost.get("amount")
    currency = cost.get("currency") or ""
    cost_text = f"{amount:,.2f} {currency}".strip() if amount is not None else "—"
    unknown = cost.get("unknown") or 0
    auto = sum(1 for r in rows if r.get("auto_renew") == "AutoRenewal")
    figures = [
        (str(len(rows)), "instances expiring"),
        (cost_text, "estimated renewal cost" + (f" ({unknown} unknown)" if unknown else "")),
        (soonest or "—", "first expiry"),
        (str(auto), "with auto-renew on"),
        (str(len(result.get("errors", []))), "region errors"),
    ]
    cells = "".join(f'<div class="figure"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in figures)
    return f'<section class="figures" aria-label="Figures">{cells}</section>'


def _timeline_svg(
    rows: list[dict[str, Any]], start: datetime, end: datetime, tz: Any, colours: dict[str, str],
    tiers: tuple[int, ...],
) -> str:
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    costs: dict[date, float] = defaultdict(float)
    for row in rows:
        day = parse_minute(row["expired_time"]).astimezone(tz).date()
        counts[day][row["region"]] += 1
        costs[day] += row.get("price") or 0.0
    peak = max((sum(c.values()) for c in counts.values()), default=0) or 1
    plot_w = CHART_WIDTH - MARGIN_LEFT - 8
    plot_h = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_w / max(1, len(days))
    bar_w = max(2.0, slot * 0.7)
    out = [f'<svg viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
           f'aria-label="Instances expiring per day, stacked by region">']
    # y axis: 0 and the peak
    base_y = MARGIN_TOP + plot_h
    out.append(f'<line x1="{MARGIN_LEFT}" y1="{base_y}" x2="{CHART_WIDTH - 8}" y2="{base_y}" stroke="#999"/>')
    out.append(f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 4}" font-size="11" text-anchor="end">{peak}</text>')
    out.append(f'<text x="{MARGIN_LEFT - 6}" y="{base_y}" font-size="11" text-anchor="end">0</text>')
    # tier boundaries, measured from the window's start
    for tier in sorted(tiers):
        if tier > len(days):
            continue
        x = MARGIN_LEFT + tier * slot
        out.append(f'<line class="tier" x1="{x:.1f}" y1="{MARGIN_TOP - 6}" x2="{x:.1f}" y2="{base_y}" '
                   f'stroke="#c00" stroke-dasharray="3 3" stroke-width="1"/>')
        out.append(f'<text x="{x + 2:.1f}" y="{MARGIN_TOP - 8}" font-size="10" fill="#c00">{tier}d</text>')
    label_every = max(1, len(days) // 10)
    for index, day in enumerate(days):
        x = MARGIN_LEFT + index * slot + (slot - bar_w) / 2
        y = base_y
        for region, colour in colours.items():
            n = counts[day][region]
            if not n:
                continue
            h = n / peak * plot_h
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                       f"<title>{day:%m-%d} {escape(region)}: {n}</title></rect>")
        total = sum(counts[day].values())
        if total and slot >= 12:
            # Labels only where they fit: the count always, the day's cost on a wide enough slot.
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="9" text-anchor="middle">'
                       f"{total}</text>")
            if costs[day] and slot >= 48:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 13:.1f}" font-size="8" fill="#555" '
                           f'text-anchor="middle">{costs[day]:,.0f}</text>')
        if index % label_every == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{base_y + 14}" font-size="10" text-anchor="middle">'
                       f"{day:%m-%d}</text>")
    out.append(f'<text x="{MARGIN_LEFT}" y="{CHART_HEIGHT - 4}" font-size="10" fill="#555">'
               "bars: instances expiring per day, by region (cost per day above wide bars); "
               "dashed: reminder tiers, in days from now</text>")
    out.append("</svg>")
    return "".join(out)


def _legend(colours: dict[str, str]) -> str:
    items = "".join(f'<li><i style="background:{c}"></i>{escape(r)}</li>' for r, c in colours.items())
    return f'<ul class="legend">{items}</ul>'


def _table(rows: list[dict[str, Any]], tz: Any) -> str:
    head = ("Expires", "Days left", "Tier", "Instance", "Name", "Region", "Status", "Auto-renew", "Owner", "Price")
    body = []
    for row in rows:
        tier = row.get("tier")
        css = "tier-expired" if tier == EXPIRED else f"tier-{tier}" if tier else ""
        expires = parse_minute(row["expired_time"]).astimezone(tz)
        price = row.get("price")
        cells = [
            f"{expires:%Y-%m-%d %H:%M}", f'<td class="num">{row.get("days_left", "")}</td>',
            f'<span class="tag">{escape(tier_label(tier))}</span>' if "tier" in row else "",
            escape(row["instance_id"]), escape(row.get("instance_name") or ""), escape(row["region"]),
            escape(row.get("status") or ""), escape(row.get("auto_renew") or ""), escape(row.get("owner") or ""),
            f'<td class="num">{price:,.2f} {escape(row.get("currency") or "")}</td>' if price is not None
            else '<td class="num">unknown</td>',
        ]
        tds = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells)
        body.append(f'<tr class="{css}">{tds}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{len(head)}">Nothing expires in this window.</td></tr>')
    ths = "".join(f'<th scope="col">{h}</th>' for h in head)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _errors(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{escape(e['region'])}: {escape(e['code'])} — {escape(e.get('message', ''))}</li>"
                    for e in errors)
    return f'<section class="errors"><h2>Regions not read</h2><ul>{items}</ul></section>'
