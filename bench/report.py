"""The benchmark's table (printed, and kept in the README between two markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SHORT = {"DescribeInstances": "DI", "DescribeInstanceAutoRenewAttribute": "DA",
         "ModifyInstanceAutoRenewAttribute": "MA", "RenewInstance": "RI"}


def calls_text(calls: dict[str, int]) -> str:
    return " ".join(f"{SHORT.get(action, action)} {count}" for action, count in calls.items())


def render_table(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [
        f"Measured {results['date']} on {results['machine']} (Python {results['python']}): "
        f"{s['regions']} regions x {s['instances_per_region']} prepaid instances "
        f"({s['expiring_per_region']}/region expiring, {s['drift_per_region']}/region drifting), emulator latency "
        f"{s['latency_s'] * 1000:g} ms per call, rate limit {s['rate_limit_per_action']:g} calls/s per action "
        f"(`Throttling.User` beyond it). Calls: DI DescribeInstances, DA DescribeInstanceAutoRenewAttribute, "
        f"MA ModifyInstanceAutoRenewAttribute, RI RenewInstance.",
        "",
        "| job | run | wall s | API calls | lower bound | calls ÷ bound | wall ÷ rate-limit bound | peak RSS MB "
        "| naive ÷ ours |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for job, entry in results["jobs"].items():
        for run in ("ours", "naive"):
            if run not in entry:
                continue
            r = entry[run]
            ratio = f"**{entry['naive_over_ours']}×**" if run == "naive" else ""
            lines.append(
                f"| {job} | {run} | {r['wall_s']:.2f} | {calls_text(r['api_calls'])} | "
                f"{calls_text(entry['lower_bound'])} | {r['calls_over_bound']:.2f} | "
                f"{r['wall_over_rate_bound']:.2f} | {r['peak_rss_mb']:.0f} | {ratio} |"
            )
    if "totals" in results:
        t = results["totals"]
        lines.append(f"| all three | ours / naive | {t['ours_s']:.1f} / {t['naive_s']:.1f} | | | | | | "
                     f"**{t['naive_over_ours']}×** |")
    memory = results.get("memory")
    if memory:
        for job, r in memory["jobs"].items():
            lines.append(f"| {job}, {memory['instances']:,} instances | ours | {r['wall_s']:.2f} | "
                         f"{calls_text(r['api_calls'])} | | {r['calls_over_bound']:.2f} | "
                         f"{r['wall_over_rate_bound']:.2f} | **{r['peak_rss_mb']:.0f}** | |")
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
            f"(worst ÷ bare = **{cold['ratio']}**); optional modules loaded: "
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
