"""How a typed job result is shown: a compact table for people, JSON or CSV for scripts; and the exit status.

Everything here reads the typed result (a local run's, or a function's answer read back with
``contract.from_contract``); only JSON and CSV write the contract's dict and rows, which scripts rely on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..contract import to_contract
from ..logs import redact_value
from ..notify.wording import audited_state, auto_renew_state, reason_phrase, terms_phrase

if TYPE_CHECKING:
    from ..results import JobResult

EXIT_OK = 0
EXIT_FAILED = 1  # an instance or a region failed, or the safety cap stopped the run
EXIT_BAD_INPUT = 2  # invalid flags, event, settings or credentials: nothing was called
EXIT_INTERRUPTED = 130  # Ctrl-C, the shell's convention (128 + SIGINT)

FORMATS = ("table", "json", "csv", "html")  # html: scan-expiring's self-contained page

# Per job: the lists that make its result (the typed result's fields), in order, each with the CSV's columns.
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
ERROR_COLUMNS = ("region", "code", "message")
MAX_CELL = 60


def _instance_cells(record: Any) -> tuple[Any, ...]:  # a Skip's, a Fix's, a Failure's first two columns
    instance = getattr(record, "instance", None)
    return (instance.instance_id, instance.region) if instance else (record.instance_id, record.region)


# The table (for people): per list, its columns and each record's cells, in plain words (JSON and CSV keep
# the API's values); a list may have fewer, plainer columns than the CSV.
TABLE: dict[str, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {
    "expiring": (SECTIONS["scan-expiring"][0][1], lambda e: (
        e.instance.instance_id, e.instance.instance_name, e.instance.region, e.instance.expired_time_text,
        round(e.days_left, 1), auto_renew_state(e.auto_renew) if e.auto_renew else None,
        e.price.amount if e.price else None)),
    "renewed": (SECTIONS["renew-batch"][0][1], lambda r: (
        r.planned.instance.instance_id, r.planned.instance.region, r.planned.instance.expired_time_text,
        terms_phrase(r.planned.terms.describe()), r.planned.price.amount if r.planned.price else None, r.order_id)),
    "skipped": (("instance_id", "region", "reason"), lambda s: (*_instance_cells(s), reason_phrase(s.detail))),
    "failed": (("instance_id", "region", "code", "message"), lambda f: (*_instance_cells(f), f.code, f.message)),
    "drift": (("instance_id", "region", "auto_renew"), lambda d: (
        d.attribute.instance_id, d.region,
        audited_state(d.attribute.enabled, d.attribute.duration, d.attribute.renewal_status))),
    "fixed": (("instance_id", "region"), _instance_cells),
}


def html_page(result: JobResult) -> str:
    """The expiry report (timeline + table); for jobs other than the scan, the JSON in a page."""
    from ..report.html import render_expiry_report
    from ..timeutil import zone

    if result.job != "scan-expiring":
        import sys

        print("error: --format html is for scan: it draws what is coming", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)
    scan = result.as_one()
    tz_name = str(getattr(scan, "time_zone", None) or "UTC")
    return render_expiry_report(scan, tz=zone(tz_name), tz_name=tz_name)


def exit_status(result: JobResult) -> int:
    """1 when an instance or a region failed, or a limit (cap, budget, funds) stopped the run."""
    failed = (result.counts().get("failed") or result.error_count() or result.cap or result.budget
              or result.funds_short)
    return EXIT_FAILED if failed else EXIT_OK


def render(result: JobResult, fmt: str, out: TextIO, *, contract: Mapping[str, Any] | None = None) -> None:
    """``contract``: the dict as it came (a function's answer), printed as is for JSON."""
    if fmt == "json":
        data = to_contract(result) if contract is None else contract
        out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        write_csv(result, out)
    elif fmt == "html":
        out.write(html_page(result))
    else:
        out.write(table(result))


def show(contract: Mapping[str, Any], fmt: str, out: TextIO) -> int:
    """A function's answer (the contract's dict): read back typed (``contract.from_contract``, its exact
    inverse), shown, and its exit status."""
    from ..contract import from_contract

    typed = from_contract(contract)
    render(typed, fmt, out, contract=contract)
    return exit_status(typed)


def show_result(result: JobResult, fmt: str, out: TextIO) -> int:
    """A local run's typed result, shown, and its exit status (its dict made only for JSON and CSV)."""
    render(result, fmt, out)
    return exit_status(result)


# --- table ----------------------------------------------------------------------------------------------


def table(result: JobResult) -> str:
    result = result.as_one()
    sections = SECTIONS.get(result.job, ())
    lines = [_headline(result)]
    for key, _ in sections:
        records = getattr(result, key, ())
        if key != sections[0][0] and not records:
            continue  # the main list is always shown, even empty; the others only when they say something
        label = "would renew" if key == "renewed" and result.dry_run else key
        columns, cells = TABLE[key]
        lines += ["", f"{label} ({len(records)})", *_grid([cells(r) for r in records], columns)]
    if result.errors:
        rows = [(e.region, e.code, e.message) for e in result.errors]
        lines += ["", f"region errors ({len(rows)})", *_grid(rows, ERROR_COLUMNS)]
    lines += _limit_lines(result)
    calls = result.calls()
    if calls:
        lines += ["", "API calls: " + ", ".join(f"{action} x{count}" for action, count in calls.items())]
    return "\n".join(lines) + "\n"


def _limit_lines(result: JobResult) -> list[str]:
    lines = []
    cap = result.cap
    if cap:
        lines += ["", f"SAFETY CAP: {cap.candidates} instances selected, more than max_instances="
                      f"{cap.max_instances}: nothing was renewed. Narrow the window or the regions, or "
                      "raise max_instances (--max-instances) deliberately."]
    funds = result.funds_short
    if funds:
        currency = funds.balance.currency or ""
        lines += ["", f"LOW FUNDS: {funds.balance.spendable:,.2f} {currency} (balance + credit) does not cover the "
                      f"next {funds.horizon_days} days' charges of {funds.due:,.2f} {currency} "
                      f"(renewals {funds.renewals:,.2f}, auto-renew deductions {funds.deductions:,.2f}):"
                      " nothing was renewed. Top up the account, then run again."]
    return lines


def _headline(result: JobResult) -> str:
    parts = [result.job or "result"]
    if result.job != "scan-expiring":  # a scan changes nothing either way
        parts.append("DRY RUN" if result.dry_run else "for real")
    parts.append("regions " + ",".join(result.regions))
    if result.window is not None:
        window = result.window.as_dict()
        parts.append(f"window {window['start']} .. {window['end']} (UTC)")
    expected = getattr(result, "expected_auto_renew", None)  # audit-autorenew: the setting it wants
    if expected is not None:
        wanted = auto_renew_state(bool(expected), getattr(result, "duration", None))
        parts.append(f"expected auto-renew {wanted}" + (", fixing" if getattr(result, "fix", False) else ""))
    return " | ".join(parts)


def _grid(rows: Sequence[Sequence[Any]], columns: tuple[str, ...]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]

    def line(values: list[str]) -> str:
        return ("  " + "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))).rstrip()

    return [line(list(columns)), *(line(row) for row in cells)]


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    text = " ".join((str(value).lower() if isinstance(value, bool) else str(value)).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


# --- csv ------------------------------------------------------------------------------------------------


def write_csv(result: JobResult, out: TextIO) -> None:
    """The job's main lists as one sheet (the contract's rows); for renew and audit an ``outcome`` column
    says which list."""
    result = result.as_one()
    sections = SECTIONS.get(result.job, ())
    columns: list[str] = []
    for _, section_columns in sections:
        columns += [c for c in section_columns if c not in columns]
    with_outcome = len(sections) > 1
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((["outcome"] if with_outcome else []) + columns)
    for key, _ in sections:
        for record in getattr(result, key, ()):
            row = redact_value(record.as_row())  # as the contract's dict has it: redacted
            writer.writerow(([key] if with_outcome else []) + [_csv_value(row.get(c)) for c in columns])


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else value  # true/false, as in the JSON
