"""The benchmark's table (printed, and kept in the README between two markers).

``python bench/report.py`` renders ``bench/results.json`` into the README again (after a wording change).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SHORT = {"DescribeInstances": "DI", "DescribeInstanceAutoRenewAttribute": "DA",
         "ModifyInstanceAutoRenewAttribute": "MA", "RenewInstance": "RI", "DescribeRenewalPrice": "DRP"}


def calls_text(calls: dict[str, int]) -> str:
    return " ".join(f"{SHORT.get(action, action)} {count}" for action, count in calls.items())


def cpu_text(run: dict[str, Any]) -> str:
    if "cpu_s" not in run:
        return ""
    emulator = run.get("emulator_cpu_s")
    return f"{run['cpu_s']:.2f} / {emulator:.2f}" if emulator is not None else f"{run['cpu_s']:.2f}"


def worst(r: dict[str, Any]) -> str:
    by_action = r.get("calls_over_bound_by_action") or {}
    return f"{max(by_action.values()):.2f}" if by_action else f"{r['calls_over_bound']:.2f}"


def per_1000(r: dict[str, Any]) -> str:
    value = r.get("cpu_s_per_1000_calls")
    return f"{value:.2f}" if value is not None else ""


def render_table(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [
        f"Measured {results['date']} on {results['machine']} (Python {results['python']}) with "
        f"`{results.get('command', 'make bench')}`: {s['regions']} regions x {s['instances_per_region']} prepaid "
        f"instances ({s['expiring_per_region']}/region expiring, {s['drift_per_region']}/region drifting), emulator "
        f"latency {s['latency_s'] * 1000:g} ms per call, a quota of {s['rate_limit_per_action']:g} calls/s per "
        f"(region, action) with the minute block (`Throttling.User` beyond it, blocked until the next minute), "
        f"our `ECS_MAX_QPS` set to it. Ours: each job in a fresh process, as Function Compute runs it; scan and "
        f"audit are the median of {results['jobs']['scan']['ours'].get('runs', 1)} runs on fresh fleets. Calls: "
        f"DI DescribeInstances, DA DescribeInstanceAutoRenewAttribute, MA ModifyInstanceAutoRenewAttribute, RI "
        f"RenewInstance, DRP DescribeRenewalPrice. Floor: the busiest (region, action)'s calls ÷ its quota.",
        "",
        "| job | run | wall s | API calls | lower bound | calls ÷ bound (worst action) | wall ÷ rate floor "
        "| throttled | CPU s / 1,000 calls | peak RSS MB | CPU s (handler / emulator) | naive ÷ ours |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for job, entry in results["jobs"].items():
        for run in ("ours", "naive"):
            if run not in entry:
                continue
            r = entry[run]
            ratio = f"**{entry['naive_over_ours']}×**" if run == "naive" else ""
            floor = f"{r['wall_over_floor']:.2f}" if r.get("wall_over_floor") is not None else ""
            lines.append(
                f"| {job} | {run} | {r['wall_s']:.2f} | {calls_text(r['api_calls'])} | "
                f"{calls_text(entry['lower_bound'])} | {r['calls_over_bound']:.2f} ({worst(r)}) | "
                f"{floor} | {r.get('throttled_total', 0)} | {per_1000(r)} | {r['peak_rss_mb']:.0f} | {cpu_text(r)} | "
                f"{ratio} |"
            )
    if "totals" in results:
        t = results["totals"]
        lines.append(f"| all three | ours / naive | {t['ours_s']:.1f} / {t['naive_s']:.1f} | | | | | | | | | "
                     f"**{t['naive_over_ours']}×** |")
    memory = results.get("memory")
    if memory:
        for job, r in memory["jobs"].items():
            floor = f"{r['wall_over_floor']:.2f}" if r.get("wall_over_floor") is not None else ""
            lines.append(f"| {job}, {memory['instances']:,} instances | ours | {r['wall_s']:.2f} | "
                         f"{calls_text(r['api_calls'])} | | {r['calls_over_bound']:.2f} ({worst(r)}) | {floor} | "
                         f"{r.get('throttled_total', 0)} | {per_1000(r)} | **{r['peak_rss_mb']:.0f}** | "
                         f"{cpu_text(r)} | |")
    block = results.get("minute_block")
    if block:
        lines.append(
            f"| renew, quota {block['quota']:g}/s, minute block, **no** `ECS_MAX_QPS` | ours | {block['wall_s']:.2f} | "
            f"{calls_text(block['api_calls'])} | | {block['calls_over_bound']:.2f} "
            f"({max(block['calls_over_bound_by_action'].values()):.2f}) | {block['wall_over_floor']:.2f} | "
            f"{sum(block['throttled'].values())} | | | | {block['renewed']}/{block['candidates']} renewed, "
            f"{block['failed']} failed, {block['renewed_twice']} twice |")
    lines.append("")
    rt = results.get("round_trip", {})
    if rt:
        quiet, loaded = rt.get("no_latency", {}), rt.get("with_latency", {})
        lines.append(
            f"One call's round trip through our call path (SDK + HTTP + emulator), sequential: "
            f"{quiet.get('small_call_median_ms')} ms median (p99 {quiet.get('small_call_p99_ms')} ms) with no "
            f"emulator latency, {quiet.get('page_of_100_median_ms')} ms for a page of 100 instances; "
            f"{loaded.get('small_call_median_ms')} ms against the {rt['latency_ms']:g} ms latency."
        )
    cold = results.get("cold_import")
    if cold:
        handlers = ", ".join(f"{name} {ms} ms" for name, ms in cold["handlers_ms"].items())
        lines.append(
            f"Cold import (fresh interpreter, byte-code cached, median of {cold['runs']}): bare "
            f"`import aliyunsdkcore.client` {cold['bare_sdk_ms']} ms; handler + its job module: {handlers} "
            f"(handlers ÷ bare, median of the rounds = **{cold['ratio']}**); optional modules loaded: "
            f"{', '.join(cold['optional_modules_loaded']) or 'none'}."
        )
    lines.append("")
    lines.append("| target | value | met |")
    lines.append("| --- | ---: | --- |")
    for name, check in results["targets"].items():
        lines.append(f"| {name} | {check['value']} | {'yes' if check['met'] else '**no**'} |")
    lines.append("")
    lines.append(f"The whole benchmark took {results['bench_seconds']:.0f} s.")
    return "\n".join(lines)


def update_readme(path: Path, table: str) -> None:
    """Replace what lies between the markers (both must already be in the README)."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{path}: the {START} / {END} markers are missing; the table was not written")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    results = json.loads((README.parent / "bench" / "results.json").read_text(encoding="utf-8"))
    update_readme(README, render_table(results))
    sys.exit(0)
