"""The expiry page's inline CSS (no external style: the page must open offline) and its breakpoints."""

from __future__ import annotations

NARROW_BREAKPOINT = 900  # px: below it (a phone, a tablet) the chart has a row per day
CARDS_BREAKPOINT = 1179  # px: below it the table's ten columns may not fit: a card per instance
TIER_COLOUR = "#b00020"

STYLE = f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; padding: 16px; max-width: 1440px; color: #1a1a1a; background: #fff; }}
h1 {{ font-size: 1.4em; margin: 0 0 4px; }} h2 {{ font-size: 1.1em; margin: 24px 0 8px; }}
.sub {{ color: #555; margin: 0 0 16px; }}
.figures {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; margin: 12px 0; }}
.figure {{ border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }}
.figure b {{ display: block; font-size: 1.35em; }}
.figure span {{ color: #555; font-size: .85em; }}
.chart svg {{ width: 100%; height: auto; display: block; }}
.chart svg text {{ font-family: inherit; }}
.chart-narrow {{ display: none; }}
.note {{ color: #555; font-size: .85em; margin: 4px 0 0; }}
.legend {{ display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: .9em; margin: 6px 0 0; padding: 0;
          list-style: none; }}
.legend i {{ display: inline-block; width: 11px; height: 11px; margin-right: 5px; vertical-align: -1px; }}
.legend .tier-key {{ color: {TIER_COLOUR}; }}
.legend i.dash {{ width: 0; height: 12px; background: none; border-left: 2px dashed {TIER_COLOUR}; }}
.table-box {{ overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid #ddd; border-radius: 6px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
th, td {{ text-align: left; padding: 5px 7px; border-bottom: 1px solid #eee; white-space: nowrap;
         vertical-align: top; }}
th {{ background: #f6f6f6; position: sticky; top: 0; font-weight: 600; }}
td.c-name, td.c-owner {{ white-space: normal; overflow-wrap: anywhere; min-width: 9em; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.c-instance {{ font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }}
tr.tier-expired td, tr.tier-1 td {{ background: #fde8e8; }} tr.tier-3 td {{ background: #fff1e0; }}
.tag {{ font-size: .85em; padding: 1px 6px; border-radius: 9px; background: #eee; }}
.lapse {{ color: #a00; font-weight: 600; }}
.errors {{ color: #a00; }}
footer {{ color: #777; font-size: .8em; margin-top: 24px; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 11px; }}
  .table-box {{ overflow: visible; border: none; }}
  th {{ position: static; }}
  tr {{ break-inside: avoid; }} .chart {{ break-inside: avoid; }}
}}
/* Narrower than the table: each instance is a card, its fields labelled (there is no header row). */
@media (max-width: {CARDS_BREAKPOINT}px) {{
  .table-box {{ border: none; overflow: visible; }}
  table {{ display: block; width: 100%; }}
  tbody {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 8px; }}
  thead {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }}
  tr {{ display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; align-content: start; padding: 8px 10px;
       border: 1px solid #ddd; border-radius: 6px; }}
  tr.tier-expired, tr.tier-1 {{ background: #fde8e8; }} tr.tier-3 {{ background: #fff1e0; }}
  tr td, tr.tier-expired td, tr.tier-1 td, tr.tier-3 td {{ background: none; }}
  td {{ display: block; padding: 0; border: 0; white-space: normal; overflow-wrap: anywhere; font-size: 14px; }}
  td.num {{ text-align: left; }}
  td::before {{ content: attr(data-label); display: block; color: #666; font-size: 12px; }}
  td.c-instance, td.c-name {{ grid-column: 1 / -1; }}
  td.c-instance {{ order: -2; font-size: 14px; font-weight: 600; }} td.c-name {{ order: -1; }}
  td.c-instance::before, td.c-name::before {{ display: none; }}
  td.empty-row {{ grid-column: 1 / -1; }} td.empty-row::before {{ display: none; }}
}}
/* A phone or a tablet: one row per day, drawn for a phone's width, where the wide chart's text gets small. */
@media (max-width: {NARROW_BREAKPOINT}px) {{
  body {{ padding: 10px; }} h1 {{ font-size: 1.2em; }} .figure b {{ font-size: 1.1em; }}
  .chart-wide {{ display: none; }} .chart-narrow {{ display: block; max-width: 520px; }}
}}
"""
