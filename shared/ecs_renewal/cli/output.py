"""How a job's result is shown: a compact table for people, JSON or CSV for scripts; and the exit status."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from typing import Any, TextIO

from ..notify.wording import (
    audited_state,
    auto_renew_state,
    charge_type_phrase,
    instance_status_phrase,
    reason_phrase,
    terms_phrase,
)

EXIT_OK = 0
EXIT_FAILED = 1  # an instance or a region failed, or the safety cap stopped the run
EXIT_BAD_INPUT = 2  # invalid flags, event, settings or credentials: nothing was called
EXIT_INTERRUPTED = 130  # Ctrl-C, the shell's convention (128 + SIGINT)

FORMATS = ("table", "json", "csv", "html")  # html: scan-expiring's self-contained page

# Per job: the lists that make its result, in order, each with the columns a person wants to read.
SECTIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "scan-expiring": (
        ("expiring", ("instance_id", "instance_name", "region", "expired_time", "days_left", "auto_renew", "price")),
    ),
    "renew-batch": (
        ("renewed", ("instance_id", "region", "expired_time", "terms", "price", "order_id")),
        ("skipped", ("instance_id", "region", "reason")),
        ("failed", ("instance_id", "region", "code", "message")),
    ),
    "audit-autorenew": (
        ("drift", ("instance_id", "region", "auto_renew_enabled", "duration", "renewal_status")),
        ("fixed", ("instance_id", "region")),
        ("skipped", ("instance_id", "region", "reason")),
        ("failed", ("instance_id", "region", "code", "message")),
    ),
}
# The table (for people) may show a list in fewer, plainer columns than the CSV (for scripts) has.
TABLE_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("audit-autorenew", "drift"): ("instance_id", "region", "auto_renew"),
}
ERROR_COLUMNS = ("region", "code", "message")
MAX_CELL = 60


def html_page(result: Mapping[str, Any]) -> str:
    """The expiry report (timeline + table); for jobs other than the scan, the JSON in a page."""
    from ..report.html import render_expiry_report
    from ..timeutil import zone

    if result.get("job") != "scan-expiring":
        import sys

        print("error: --format html is for scan: it draws what is coming", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)
    tz_name = str(result.get("time_zone") or "UTC")
    return render_expiry_report(dict(result), tz=zone(tz_name), tz_name=tz_name)


def exit_status(result: Mapping[str, Any]) -> int:
    failed = (result.get("failed") or result.get("errors") or result.get("cap_exceeded")
              or result.get("budget_exceeded") or result.get("funds_short"))
    return EXIT_FAILED if failed else EXIT_OK


def render(result: Mapping[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        write_csv(result, out)
    elif fmt == "html":
        out.write(html_page(result))
    else:
        out.write(table(result))


# --- table ----------------------------------------------------------------------------------------------


def table(result: Mapping[str, Any]) -> str:
    job = str(result.get("job", ""))
    lines = [_headline(result)]
    for key, columns in SECTIONS.get(job, ()):
        rows = result.get(key) or []
        if key != SECTIONS[job][0][0] and not rows:
            continue  # the main list is always shown, even empty; the others only when they say something
        label = "would renew" if key == "renewed" and result.get("dry_run") else key
        columns = TABLE_COLUMNS.get((job, key), columns)
        lines += ["", f"{label} ({len(rows)})", *_grid(rows, columns)]
    if result.get("errors"):
        lines += ["", f"region errors ({len(result['errors'])})", *_grid(result["errors"], ERROR_COLUMNS)]
    cap = result.get("cap_exceeded")
    if cap:
        lines += ["", f"SAFETY CAP: {cap.get('candidates')} instances selected, more than max_instances="
                      f"{cap.get('max_instances')}: nothing was renewed. Narrow the window or the regions, or "
                      "raise max_instances (--max-instances) deliberately."]
    funds = result.get("funds_short")
    if funds:
        currency = funds.get("currency") or ""
        lines += ["", f"LOW FUNDS: {funds.get('spendable'):,.2f} {currency} (balance + credit) does not cover the "
                      f"next {funds.get('horizon_days')} days' charges of {funds.get('due'):,.2f} {currency} "
                      f"(renewals {funds.get('renewals'):,.2f}, auto-renew deductions {funds.get('deductions'):,.2f}):"
                      " nothing was renewed. Top up the account, then run again."]
    calls = result.get("api_calls") or {}
    if calls:
        lines += ["", "API calls: " + ", ".join(f"{action} x{count}" for action, count in calls.items())]
    return "\n".join(lines) + "\n"


def _headline(result: Mapping[str, Any]) -> str:
    parts = [str(result.get("job", "result"))]
    if result.get("job") != "scan-expiring":  # a scan changes nothing either way
        parts.append("DRY RUN" if result.get("dry_run") else "for real")
    parts.append("regions " + ",".join(result.get("regions") or []))
    window = result.get("window")
    if window:
        parts.append(f"window {window.get('start')} .. {window.get('end')} (UTC)")
    if result.get("job") == "audit-autorenew" and result.get("expected"):
        expected = result["expected"]
        wanted = auto_renew_state(bool(expected.get("auto_renew")), expected.get("duration"))
        parts.append(f"expected auto-renew {wanted}" + (", fixing" if result.get("fix") else ""))
    return " | ".join(parts)


def _grid(rows: list[Mapping[str, Any]], columns: tuple[str, ...]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[_cell(_shown(row, column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]

    def line(values: list[str]) -> str:
        return ("  " + "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))).rstrip()

    return [line(list(columns)), *(line(row) for row in cells)]


def _shown(row: Mapping[str, Any], column: str) -> Any:
    """A value as a person reads it: the API's enum words in plain ones (JSON and CSV keep the API's)."""
    value = row.get(column)
    if column == "auto_renew" and "auto_renew_enabled" in row:  # an audited setting: flag + duration
        return audited_state(row["auto_renew_enabled"], row.get("duration"), row.get("renewal_status"))
    if value is None or value == "":
        return value
    plain = {"auto_renew": auto_renew_state, "status": instance_status_phrase, "reason": reason_phrase,
             "terms": terms_phrase, "instance_charge_type": charge_type_phrase, "charge_type": charge_type_phrase}
    return plain[column](value) if column in plain else value


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    text = " ".join((str(value).lower() if isinstance(value, bool) else str(value)).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


# --- csv ------------------------------------------------------------------------------------------------


def write_csv(result: Mapping[str, Any], out: TextIO) -> None:
    """The job's main lists as one sheet; for renew and audit an ``outcome`` column says which list."""
    sections = SECTIONS.get(str(result.get("job", "")), ())
    columns: list[str] = []
    for _, section_columns in sections:
        columns += [c for c in section_columns if c not in columns]
    with_outcome = len(sections) > 1
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((["outcome"] if with_outcome else []) + columns)
    for key, _ in sections:
        for row in result.get(key) or []:
            values = [_csv_value(row.get(c)) for c in columns]
            writer.writerow(([key] if with_outcome else []) + values)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else value  # true/false, as in the JSON
