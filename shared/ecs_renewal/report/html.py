"""One self-contained HTML page of what is coming: an expiry timeline, the table, the run's figures.

No external scripts, styles or fonts (it must open from a mail attachment or a phone offline): the
chart is inline SVG, the style is inline CSS with a system font stack. Two layouts, chosen by CSS alone:
on a wide screen a column chart and a table whose every column fits 1280 px without scrolling; below
the table's width a card per instance (several a row on a tablet); on a phone a chart with one row per
day, drawn for that width so its labels stay readable. It prints on A4.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from ..notify.wording import auto_renew_state, instance_status_phrase
from ..tiers import DEFAULT_TIERS, EXPIRED, tier_label
from .style import STYLE, TIER_COLOUR

if TYPE_CHECKING:
    from ..records import CostEstimate, RegionError
    from ..results.scan import Expiring, ScanResult

# Colour-blind-safe palette (Okabe–Ito), one colour per region in order of appearance.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# The wide chart: drawn at about the size it is shown (1248 px wide at 1280), so 11 px text stays 11 px.
WIDE_W, WIDE_H, WIDE_LEFT, WIDE_RIGHT, WIDE_TOP, WIDE_BOTTOM = 1200, 260, 40, 12, 46, 24
# The narrow chart: one row per day, drawn for a phone's ~370 px.
NARROW_W, NARROW_ROW, NARROW_LABEL, NARROW_VALUE, NARROW_TIER_GAP = 360, 22, 78, 86, 16

def render_expiry_report(
    result: ScanResult, *, tz: timezone | Any = timezone.utc, tz_name: str = "UTC",
    tiers: tuple[int, ...] = DEFAULT_TIERS, generated_at: datetime | None = None,
) -> str:
    """The page for a scan-expiring result (its ``Expiring`` rows: price, tier, owner, auto-renew)."""
    rows = list(result.expiring)
    start = result.window.start if result.window else datetime.now(timezone.utc)
    end = result.window.end if result.window else start + timedelta(days=7)
    regions = list(dict.fromkeys([*result.regions, *(r.instance.region for r in rows)]))
    colours = {region: PALETTE[i % len(PALETTE)] for i, region in enumerate(regions)}
    cost = result.estimated_cost
    generated = (generated_at or datetime.now(timezone.utc)).astimezone(tz)
    timeline = _Timeline(rows, start, end, tz, tiers)

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
        f'<div class="chart-wide">{_wide_svg(timeline, colours)}</div>',
        f'<div class="chart-narrow">{_narrow_svg(timeline, colours)}</div>',
        _legend(colours, timeline),
        "</section>",
        f'<section><h2>Instances ({len(rows)})</h2><div class="table-box">',
        _table(rows, tz),
        "</div></section>",
        _errors(result.errors),
        f"<footer>Generated {generated:%Y-%m-%d %H:%M} ({escape(tz_name)}) by ecs-renewal scan-expiring"
        f"{' · request ' + escape(str(result.request_id)) if result.request_id else ''}.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _figures(rows: list[Expiring], cost: CostEstimate, result: ScanResult, tz: Any) -> str:
    first = min((r.instance.expired_time for r in rows), default=None)
    soonest = f"{first.astimezone(tz):%Y-%m-%d %H:%M}" if first else None
    cost_text = f"{round(cost.total, 2):,.2f} {cost.currency}".strip()
    unknown = len(cost.unknown)
    auto = sum(1 for r in rows if r.auto_renew == "AutoRenewal")
    lapsing = sum(1 for r in rows if r.auto_renew == "NotRenewal")
    figures = [
        (str(len(rows)), "instances expiring"),
        (cost_text, "estimated renewal cost" + (f" ({unknown} unknown)" if unknown else "")),
        (soonest or "—", "first expiry"),
        (str(auto), "with auto-renew on"),
        (str(lapsing), "letting it expire (the owner's choice)"),
        (str(len(result.errors)), "region errors"),
    ]
    cells = "".join(f'<div class="figure"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in figures)
    return f'<section class="figures" aria-label="Figures">{cells}</section>'


class _Timeline:
    """What both charts draw: instances (and cost) per local day, and where each reminder tier ends."""

    def __init__(self, rows: list[Expiring], start: datetime, end: datetime, tz: Any,
                 tiers: tuple[int, ...]) -> None:
        first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        self.days: list[date] = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        self.counts: dict[date, Counter[str]] = defaultdict(Counter)
        self.costs: dict[date, float] = defaultdict(float)
        for row in rows:
            day = row.instance.expired_time.astimezone(tz).date()
            self.counts[day][row.instance.region] += 1
            self.costs[day] += row.price.amount if row.price else 0.0
        self.peak = max((sum(c.values()) for c in self.counts.values()), default=0) or 1
        # A tier ends at start + N days, usually in the middle of a local day. The line goes on the day
        # boundary nearest to that moment — between two bars, never through one — and its label says the
        # exact moment.
        midnight = datetime.combine(first, datetime.min.time(), tzinfo=start.astimezone(tz).tzinfo)
        self.tier_marks: list[tuple[int, int, datetime]] = []  # (tier, boundary index, exact end)
        used: set[int] = set()
        for tier in sorted(t for t in tiers if t > 0):
            ends = (start + timedelta(days=tier)).astimezone(tz)
            boundary = round((ends.replace(tzinfo=None) - midnight.replace(tzinfo=None)) / timedelta(days=1))
            if 0 < boundary <= len(self.days) and boundary not in used:
                used.add(boundary)
                self.tier_marks.append((tier, boundary, ends))

    def total(self, day: date) -> int:
        return sum(self.counts[day].values())

    def segments(self, day: date, colours: dict[str, str]) -> Iterator[tuple[str, str, int]]:
        """(region, colour, count) of one day's stacked bar, in the legend's order, empty regions left out."""
        for region, colour in colours.items():
            if self.counts[day][region]:
                yield region, colour, self.counts[day][region]


def _tier_title(tier: int, ends: datetime) -> str:
    return f"<title>reminder tier {escape(tier_label(tier))}: expiring before {ends:%m-%d %H:%M}</title>"


def _wide_svg(timeline: _Timeline, colours: dict[str, str]) -> str:
    days, peak = timeline.days, timeline.peak
    plot_w = WIDE_W - WIDE_LEFT - WIDE_RIGHT
    plot_h = WIDE_H - WIDE_BOTTOM - WIDE_TOP
    slot = plot_w / max(1, len(days))
    bar_w = max(2.0, slot * 0.7)
    base_y = WIDE_TOP + plot_h
    out = [f'<svg class="timeline-wide" viewBox="0 0 {WIDE_W} {WIDE_H}" role="img" '
           f'aria-label="Instances expiring per day, stacked by region">']
    out.append(f'<line x1="{WIDE_LEFT}" y1="{base_y}" x2="{WIDE_W - WIDE_RIGHT}" y2="{base_y}" stroke="#999"/>')
    out.append(f'<line x1="{WIDE_LEFT}" y1="{WIDE_TOP}" x2="{WIDE_W - WIDE_RIGHT}" y2="{WIDE_TOP}" '
               'stroke="#eee"/>')
    out.append(f'<text x="{WIDE_LEFT - 6}" y="{WIDE_TOP + 4}" font-size="12" text-anchor="end">{peak}</text>')
    out.append(f'<text x="{WIDE_LEFT - 6}" y="{base_y}" font-size="12" text-anchor="end">0</text>')
    # Tier lines sit on slot boundaries, i.e. in the gap between two bars; their labels in a strip of
    # their own above the bars' value labels.
    label_room = 0.0  # where the previous tier label ends: a label that would overlap it is left out
    for tier, boundary, ends in timeline.tier_marks:
        x = WIDE_LEFT + boundary * slot
        out.append(f'<line class="tier" x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{base_y}" stroke="{TIER_COLOUR}" '
                   f'stroke-dasharray="4 3" stroke-width="1.2">{_tier_title(tier, ends)}</line>')
        label = tier_label(tier)
        half = len(label) * 3.6  # about half the width of 12 px text
        if x - half > label_room:  # (the legend lists every tier with the moment it ends)
            anchor = "end" if x + half > WIDE_W else "middle"
            out.append(f'<text x="{x:.1f}" y="11" font-size="12" fill="{TIER_COLOUR}" text-anchor="{anchor}">'
                       f"{escape(label)}</text>")
            label_room = x + half + 6
    label_every = max(1, -(-len(days) // 16))  # at most 16 day labels
    for index, day in enumerate(days):
        x = WIDE_LEFT + index * slot + (slot - bar_w) / 2
        y = float(base_y)
        for region, colour, n in timeline.segments(day, colours):
            h = n / peak * plot_h
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                       f"<title>{day:%m-%d} {escape(region)}: {n}</title></rect>")
        total = timeline.total(day)
        if total and slot >= 14:
            # Labels only where they fit: the count always, the day's cost on a wide enough slot.
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="12" font-weight="600" '
                       f'text-anchor="middle">{total}</text>')
            if timeline.costs[day] and slot >= 56:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 18:.1f}" font-size="11" fill="#555" '
                           f'text-anchor="middle">{timeline.costs[day]:,.0f}</text>')
        if index % label_every == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{base_y + 16}" font-size="12" text-anchor="middle">'
                       f"{day:%m-%d}</text>")
    out.append("</svg>")
    return "".join(out)


def _narrow_svg(timeline: _Timeline, colours: dict[str, str]) -> str:
    """One row per day: the date, a bar stacked by region, the count and the day's cost."""
    days, peak = timeline.days, timeline.peak
    bar_max = NARROW_W - NARROW_LABEL - NARROW_VALUE
    breaks = {boundary: (tier, ends) for tier, boundary, ends in timeline.tier_marks}
    out: list[str] = []
    y = 4.0
    for index, day in enumerate(days):
        if index in breaks:  # a tier ends here: a labelled dashed line in a gap between two rows
            tier, ends = breaks[index]
            y += NARROW_TIER_GAP / 2
            out.append(_narrow_tier_line(y, tier, ends))
            y += NARROW_TIER_GAP / 2
        mid = y + NARROW_ROW / 2
        out.append(f'<text x="0" y="{mid + 4:.1f}" font-size="13">{day:%m-%d} {day:%a}</text>')
        x = float(NARROW_LABEL)
        for region, colour, n in timeline.segments(day, colours):
            w = n / peak * bar_max
            out.append(f'<rect x="{x:.1f}" y="{y + 3:.1f}" width="{w:.1f}" height="{NARROW_ROW - 6}" '
                       f'fill="{colour}"><title>{day:%m-%d} {escape(region)}: {n}</title></rect>')
            x += w
        total = timeline.total(day)
        value = f"{total}" + (f" · {timeline.costs[day]:,.0f}" if timeline.costs[day] else "") if total else "–"
        if x + 5 + len(value) * 7.8 > NARROW_W:  # no room after the bar: end at the edge, haloed over the bar
            where = f'x="{NARROW_W}" text-anchor="end" stroke="#fff" stroke-width="3" paint-order="stroke"'
        else:
            where = f'x="{x + 5:.1f}"'
        out.append(f'<text {where} y="{mid + 4:.1f}" font-size="13" font-weight="600">{value}</text>')
        y += NARROW_ROW
    if len(days) in breaks:
        tier, ends = breaks[len(days)]
        y += NARROW_TIER_GAP / 2
        out.append(_narrow_tier_line(y, tier, ends))
        y += NARROW_TIER_GAP / 2
    height = y + 4
    return (f'<svg class="timeline-narrow" viewBox="0 0 {NARROW_W} {height:.0f}" role="img" '
            f'aria-label="Instances expiring per day, stacked by region">{"".join(out)}</svg>')


def _narrow_tier_line(y: float, tier: int, ends: datetime) -> str:
    label = escape(tier_label(tier))
    return (f'<line class="tier" x1="{NARROW_LABEL}" y1="{y:.1f}" x2="{NARROW_W}" y2="{y:.1f}" '
            f'stroke="{TIER_COLOUR}" stroke-dasharray="4 3" stroke-width="1.2">{_tier_title(tier, ends)}</line>'
            f'<text x="0" y="{y + 4:.1f}" font-size="11" fill="{TIER_COLOUR}">{label}</text>')


def _legend(colours: dict[str, str], timeline: _Timeline) -> str:
    items = "".join(f'<li><i style="background:{c}"></i>{escape(r)}</li>' for r, c in colours.items())
    note = ("Bars: instances expiring per day, stacked by region; the number is the count, with the day's "
            "estimated renewal cost where there is room.")
    if timeline.tier_marks:
        ends = "; ".join(f"{escape(tier_label(t))} until {e:%m-%d %H:%M}" for t, _, e in timeline.tier_marks)
        items += f'<li class="tier-key"><i class="dash"></i>reminder tiers, on the nearest day boundary ({ends})</li>'
    return f'<ul class="legend">{items}</ul><p class="note">{note}</p>'


COLUMNS = (  # (heading, css class)
    ("Expires", "c-expires"), ("Days left", "c-days num"), ("Tier", "c-tier"), ("Instance", "c-instance"),
    ("Name", "c-name"), ("Region", "c-region"), ("Status", "c-status"), ("Auto-renew", "c-auto-renew"),
    ("Owner", "c-owner"), ("Price", "c-price num"),
)


def _table(rows: list[Expiring], tz: Any) -> str:
    body = []
    for row in rows:
        tier, instance, price = row.tier, row.instance, row.price
        css = "tier-expired" if tier == EXPIRED else f"tier-{tier}" if tier else ""
        auto_renew = auto_renew_state(row.auto_renew) if row.auto_renew else "—"
        values = [
            f"{instance.expired_time.astimezone(tz):%Y-%m-%d %H:%M}", escape(str(round(row.days_left, 1))),
            f'<span class="tag">{escape(tier_label(tier))}</span>',
            escape(instance.instance_id), escape(instance.instance_name) or "—", escape(instance.region),
            escape(instance_status_phrase(instance.status)) if instance.status else "—",
            f'<span class="lapse">{escape(auto_renew)}</span>' if row.auto_renew == "NotRenewal"
            else escape(auto_renew),
            escape(row.owner.value if row.owner else "") or "—",
            f"{price.amount:,.2f} {escape(price.currency)}".strip() if price is not None else "unknown",
        ]
        tds = "".join(f'<td class="{cls}" data-label="{head}">{value}</td>'
                      for (head, cls), value in zip(COLUMNS, values, strict=True))
        body.append(f'<tr class="{css}">{tds}</tr>')
    if not body:
        body.append(f'<tr><td class="empty-row" colspan="{len(COLUMNS)}">Nothing expires in this window.</td></tr>')
    ths = "".join(f'<th scope="col" class="{cls}">{head}</th>' for head, cls in COLUMNS)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _errors(errors: tuple[RegionError, ...]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{escape(e.region or '')}: {escape(e.code)} — {escape(e.message)}</li>" for e in errors)
    return f'<section class="errors"><h2>Regions not read</h2><ul>{items}</ul></section>'
