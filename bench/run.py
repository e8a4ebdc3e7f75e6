"""`make bench`: ecs-renewal against the documented sample's call pattern, at fleet scale, in one run.

1. An emulator (its own process) with a per-call latency and a per-action rate limit that answers
   ``Throttling.User`` beyond it, holding ``--regions`` x ``--instances`` prepaid instances (10 % expiring in
   the window, 30 % with auto-renew off while the audit expects it on).
2. Our three handlers, each in a fresh process exactly as Function Compute runs them (event bytes, a
   context with the emulator's STS credentials): scan, renew (real, not dry), audit with fix.
3. The naive reference (``bench/naive.py``) doing the same three jobs on a fresh copy of the same fleet.
4. A memory run: scan and audit over ``--memory-instances`` per region, for the peak-RSS figure.
5. One call's round trip against an emulator without latency, and the handlers' cold import against a
   bare ``import aliyunsdkcore.client``.

Prints the table, writes ``bench/results.json`` and the README's table (for the default fleet; other
sizes write ``build/bench/results.json`` only). ``--quick`` runs a small fleet in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.fleet import BenchFleet, window  # noqa: E402
from bench.report import README, render_table, update_readme  # noqa: E402
from tests.handlers import PROJECT_ENV  # noqa: E402

BUILD = ROOT / "build" / "bench"
JOBS = {"scan": "scan-expiring", "renew": "renew-batch", "audit": "audit-autorenew"}
MAX_RENEWALS_SETTING = 10_000  # the highest MAX_RENEWALS accepts


class EmulatorProcess:
    """``bench/emulator_process.py`` as a child: its url, credentials, and its own count of calls."""

    def __init__(
        self, regions: int, instances: int, latency: float, rate_limit: float | None, throttling: bool = True
    ) -> None:
        command = [sys.executable, str(ROOT / "bench" / "emulator_process.py"), "--regions", str(regions),
                   "--instances", str(instances), "--latency", str(latency)]
        if rate_limit:
            command += ["--rate-limit", str(rate_limit)]
        if not throttling:
            command += ["--no-throttling"]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout and self.process.stdin
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator did not start (see its error above)")
        self.info: dict[str, str] = json.loads(line)

    def credentials_env(self) -> dict[str, str]:
        return {"BENCH_ACCESS_KEY_ID": self.info["access_key_id"],
                "BENCH_ACCESS_KEY_SECRET": self.info["access_key_secret"],
                "BENCH_SECURITY_TOKEN": self.info["security_token"], "BENCH_ENDPOINT": self.info["url"]}

    def ask(self, command: str) -> Any:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def take_calls(self) -> dict[str, int]:
        """Calls by action since the last take (the emulator's own count, to check ours against)."""
        calls = self.ask("calls")
        self.ask("reset")
        return dict(sorted(calls.items()))

    def take_lanes(self) -> dict[str, int]:
        """Calls by ``region/action`` since the last take (ask before take_calls, which resets)."""
        return self.ask("lanes")

    def throttled(self) -> dict[str, int]:
        return self.ask("throttled")

    def renewals(self) -> dict[str, int]:
        return self.ask("renewals")

    def cpu_seconds(self) -> float:
        return float(self.ask("cpu"))

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def throttled_since(before: dict[str, int], now: dict[str, int]) -> dict[str, int]:
    """Throttled answers by action between two readings of the emulator's (never reset) count."""
    return {action: n - before.get(action, 0) for action, n in now.items() if n > before.get(action, 0)}


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_ENV}
    env.update(extra)
    return env


def run_json(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_ours(emulator: EmulatorProcess, fleet: BenchFleet, job: str, events: dict[str, Any],
             args: argparse.Namespace, max_qps: float | None = -1.0) -> dict[str, Any]:
    """One job in a fresh process; ``max_qps`` -1: ECS_MAX_QPS = the quota (``--rate-limit``); None: unset."""
    max_qps = args.rate_limit if max_qps == -1.0 else max_qps
    env = child_env({
        **emulator.credentials_env(),
        "REGIONS": ",".join(fleet.region_ids),
        "ECS_ENDPOINT": emulator.info["url"], "STS_ENDPOINT": emulator.info["url"],
        **({"ECS_MAX_QPS": f"{max_qps:g}"} if max_qps else {}),
        "MAX_RENEWALS": str(MAX_RENEWALS_SETTING),
        # The naive script renews what it finds, auto-renewing or not: ours does the same work here.
        "RENEW_AUTO_RENEWING": "true",
        **({"REGION_CONCURRENCY": str(args.region_concurrency)} if args.region_concurrency else {}),
        **({"RENEW_CONCURRENCY": str(args.renew_concurrency)} if args.renew_concurrency else {}),
    })
    log_file = BUILD / f"ours-{job}-{fleet.total}.jsonl"
    cpu = emulator.cpu_seconds()
    throttled_before = emulator.throttled()
    out = run_json([sys.executable, str(ROOT / "bench" / "job_process.py"), JOBS[job], json.dumps(events[job]),
                    str(log_file)], env)
    out["emulator_cpu_s"] = round(emulator.cpu_seconds() - cpu, 3)
    out["throttled"] = throttled_since(throttled_before, emulator.throttled())
    out["lanes"] = emulator.take_lanes()
    out["emulator_calls"] = emulator.take_calls()
    return out


def run_naive(emulator: EmulatorProcess, fleet: BenchFleet, job: str, start: str, end: str) -> dict[str, Any]:
    cpu = emulator.cpu_seconds()
    throttled_before = emulator.throttled()
    out = run_json([sys.executable, str(ROOT / "bench" / "naive.py"), job, "--endpoint", emulator.info["url"],
                    "--regions", ",".join(fleet.region_ids), "--start", start, "--end", end,
                    "--log", str(BUILD / f"naive-{job}.log")], child_env(emulator.credentials_env()))
    out["emulator_cpu_s"] = round(emulator.cpu_seconds() - cpu, 3)
    out["throttled"] = throttled_since(throttled_before, emulator.throttled())
    out["lanes"] = emulator.take_lanes()
    out["emulator_calls"] = emulator.take_calls()
    return out


def figures(run: dict[str, Any], bound: dict[str, int], rate_limit: float) -> dict[str, Any]:
    """Calls against the lower bound (per action, and all), wall time against the quota's floor, CPU per call.

    The floor is the busiest (region, action) lane's calls ÷ its quota: ECS counts each (account, region,
    API) on its own, so no run can be faster than its busiest lane allows.
    """
    calls = run["api_calls"]
    lanes = run.get("lanes") or {}
    busiest = max(lanes.items(), key=lambda item: item[1]) if lanes else ("-", 0)
    floor = busiest[1] / rate_limit
    total = sum(calls.values())
    per_action = {action: round(calls.get(action, 0) / count, 3) for action, count in bound.items()}
    return {
        **run,
        "calls": total,
        "calls_over_bound": round(total / sum(bound.values()), 3),
        "calls_over_bound_by_action": per_action,
        "extra_actions": {a: n for a, n in calls.items() if a not in bound},
        "busiest_lane": busiest[0],
        "rate_floor_s": round(floor, 3),
        "wall_over_floor": round(run["wall_s"] / floor, 3) if floor else None,
        "throttled_total": sum((run.get("throttled") or {}).values()),
        "cpu_s_per_1000_calls": round(run["cpu_s"] / total * 1000, 3) if total and "cpu_s" in run else None,
    }


def same_work(results: dict[str, Any], fleet: BenchFleet) -> dict[str, bool]:
    """Both sides did the whole job (and our count of calls is the emulator's): else no figure means much."""
    expiring, drift = fleet.regions * fleet.expiring_per_region, fleet.regions * fleet.drift_per_region
    jobs, checks = results["jobs"], {}
    ours = {job: jobs[job]["ours"] for job in JOBS}
    checks["ours: every expiring instance found"] = ours["scan"]["counts"].get("expiring") == expiring
    checks["ours: every one renewed, none failed"] = (ours["renew"]["counts"].get("renewed") == expiring
                                                      and ours["renew"]["counts"].get("failed") == 0)
    checks["ours: every drift found and fixed"] = (ours["audit"]["counts"].get("drift") == drift
                                                   and ours["audit"]["counts"].get("fixed") == drift)
    checks["ours: api_calls equal the emulator's count"] = all(r["api_calls"] == r["emulator_calls"]
                                                                for r in ours.values())
    if "naive" in jobs["scan"]:
        naive = {job: jobs[job]["naive"]["counts"] for job in JOBS}
        checks["naive: the same instances found, renewed, fixed"] = (
            naive["scan"].get("expiring") == expiring and naive["renew"].get("renewed") == expiring
            and naive["audit"].get("drift") == drift and naive["audit"].get("still_drifting", 0) == 0)
    return checks


def machine() -> str:
    memory_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal:")), 0) if Path("/proc/meminfo").exists() else 0
    return f"{os.cpu_count()} cores, {round(memory_kib / 1024 / 1024)} GiB"


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    jobs, checks = results["jobs"], {}
    for job in JOBS:
        ours = jobs[job]["ours"]
        worst = max(ours["calls_over_bound_by_action"].values())
        checks[f"{job}: calls / lower bound <= 1.05 for every action (worst)"] = (worst, worst <= 1.05 + 0.0005)
        checks[f"{job}: calls / lower bound <= 1.05, all actions"] = (ours["calls_over_bound"],
                                                                      ours["calls_over_bound"] <= 1.05 + 0.0005)
        checks[f"{job}: throttled answers with ECS_MAX_QPS = the quota == 0"] = (ours["throttled_total"],
                                                                                 ours["throttled_total"] == 0)
    renew = jobs["renew"]["ours"]
    checks["renew: wall / (region, action) rate floor <= 1.5"] = (renew["wall_over_floor"],
                                                                  renew["wall_over_floor"] <= 1.5)
    if "naive" in jobs["scan"]:
        ratio = jobs["renew"]["naive_over_ours"]
        checks["renew: naive / ours >= 5"] = (ratio, ratio >= 5)
        total = results["totals"]
        checks["naive / ours, all three jobs >= 10"] = (total["naive_over_ours"], total["naive_over_ours"] >= 10)
    block = results.get("minute_block")
    if block:
        ok = block["renewed"] == block["candidates"] and block["failed"] == 0 and block["renewed_twice"] == 0
        checks[f"minute block at {block['quota']:g}/s, no ECS_MAX_QPS: renewed / candidates, failed, twice"] = (
            f"{block['renewed']}/{block['candidates']}, {block['failed']}, {block['renewed_twice']}", ok)
    if results.get("memory"):
        peak = max(run["peak_rss_mb"] for run in results["memory"]["jobs"].values())
        checks[f"peak RSS at {results['memory']['instances']} instances <= 128 MB"] = (peak, peak <= 128)
    if results.get("cold_import"):
        ratio = results["cold_import"]["ratio"]
        checks["handler cold import / bare SDK import <= 1.25"] = (ratio, ratio <= 1.25)
    return {name: {"value": value, "met": met} for name, (value, met) in checks.items()}


def run_minute_block(args: argparse.Namespace, events: dict[str, Any]) -> dict[str, Any]:
    """renew under a low quota with the minute block and no ECS_MAX_QPS: the product meets the throttle."""
    fleet = BenchFleet(regions=args.block_regions, instances_per_region=args.block_instances)
    emulator = EmulatorProcess(fleet.regions, fleet.instances_per_region, args.latency, args.block_quota)
    try:
        run = run_ours(emulator, fleet, "renew", events, args, max_qps=None)
        renewals = emulator.renewals()
    finally:
        emulator.stop()
    figures_ = figures(run, fleet.lower_bounds()["renew"], args.block_quota)
    candidates = fleet.regions * fleet.expiring_per_region
    print(f"  ours  renew {run['wall_s']:8.2f} s  at {args.block_quota:g}/s with the minute block, no ECS_MAX_QPS: "
          f"{run['counts'].get('renewed')}/{candidates} renewed, {run['counts'].get('failed')} failed, "
          f"{sum(run['throttled'].values())} throttled answers", flush=True)
    return {
        "quota": args.block_quota, "regions": fleet.regions, "instances_per_region": fleet.instances_per_region,
        "candidates": candidates, "renewed": run["counts"].get("renewed", 0), "failed": run["counts"].get("failed", 0),
        "renewed_twice": sum(n for times, n in renewals.items() if int(times) > 1),
        "wall_s": run["wall_s"], "api_calls": run["api_calls"], "throttled": run["throttled"],
        "calls_over_bound": figures_["calls_over_bound"], "calls_over_bound_by_action":
        figures_["calls_over_bound_by_action"], "wall_over_floor": figures_["wall_over_floor"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--instances", type=int, default=1000, help="per region")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the emulator adds to each call")
    parser.add_argument("--rate-limit", type=float, default=20,
                        help="the quota: calls per second per (region, action), minute block beyond it; our "
                             "ECS_MAX_QPS is set to it")
    parser.add_argument("--block-quota", type=float, default=5, help="the minute-block run's quota (no ECS_MAX_QPS)")
    parser.add_argument("--block-regions", type=int, default=6)
    parser.add_argument("--block-instances", type=int, default=200, help="per region, for the minute-block run; "
                                                                          "0: skip it")
    parser.add_argument("--memory-instances", type=int, default=2500, help="per region, for the memory run; 0: skip")
    parser.add_argument("--import-runs", type=int, default=15, help="rounds of fresh interpreters; 0: skip")
    parser.add_argument("--region-concurrency", type=int, help="REGION_CONCURRENCY for our handlers")
    parser.add_argument("--renew-concurrency", type=int, help="RENEW_CONCURRENCY for our handlers")
    parser.add_argument("--repeat", type=int, default=3, help="runs of our scan and audit (median reported)")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--quick", action="store_true", help="4 regions x 200, memory run 4 x 500: seconds")
    parser.add_argument("--out", type=Path, help="results file (default: bench/results.json for the default "
                                                 "fleet, else build/bench/results.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.regions, args.instances, args.memory_instances, args.import_runs, args.repeat = 6, 200, 500, 3, 1
        args.block_regions, args.block_instances = 2, 100
    default_fleet = (args.regions, args.instances, args.latency, args.rate_limit, args.memory_instances,
                     args.repeat, args.block_quota, args.block_regions, args.block_instances) == (
                         8, 1000, 0.05, 20, 2500, 3, 5, 6, 200) and not (
        args.skip_naive or args.region_concurrency or args.renew_concurrency)
    out_file = (args.out or (ROOT / "bench" / "results.json" if default_fleet else BUILD / "results.json")).resolve()
    BUILD.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()

    fleet = BenchFleet(regions=args.regions, instances_per_region=args.instances)
    bounds = fleet.lower_bounds()
    start, end = window(datetime.now(timezone.utc))
    events = {"scan": {"expired_start": start, "expired_end": end},
              "renew": {"expired_start": start, "expired_end": end, "dry_run": False},
              "audit": {"fix": True, "dry_run": False}}
    print(f"fleet: {fleet.regions} regions x {fleet.instances_per_region} = {fleet.total} prepaid instances, "
          f"{fleet.expiring_per_region}/region expiring, {fleet.drift_per_region}/region drifting; emulator latency "
          f"{args.latency * 1000:g} ms, quota {args.rate_limit:g} calls/s per (region, action) with the minute block, "
          f"ECS_MAX_QPS={args.rate_limit:g}", flush=True)

    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine(),
        "command": "make bench" if default_fleet else "python bench/run.py " + " ".join(argv or sys.argv[1:]),
        "python": platform.python_version(),
        "settings": {"regions": fleet.regions, "instances_per_region": fleet.instances_per_region,
                     "expiring_per_region": fleet.expiring_per_region, "drift_per_region": fleet.drift_per_region,
                     "latency_s": args.latency, "rate_limit_per_action": args.rate_limit,
                     "region_concurrency": args.region_concurrency or "default",
                     "renew_concurrency": args.renew_concurrency or "default"},
        "jobs": {job: {"lower_bound": bounds[job]} for job in JOBS},
    }
    results["jobs"].update(run_ours_repeated(fleet, events, args))
    # The naive reference takes minutes of mostly waiting on latency: it runs beside the memory run and the
    # probes (which measure memory, and ratios within each round), never beside our timed jobs.
    naive: dict[str, Any] = {}
    naive_thread = threading.Thread(target=lambda: naive.update(run_naive_jobs(fleet, args, start, end)))
    if not args.skip_naive:
        naive_thread.start()
    if args.memory_instances:
        results["memory"] = run_memory(args, events)
    if args.block_instances:
        results["minute_block"] = run_minute_block(args, events)
    results["round_trip"] = run_round_trips(args)
    if args.import_runs:
        results["cold_import"] = run_json([sys.executable, str(ROOT / "bench" / "probes.py"), "imports", "--runs",
                                           str(args.import_runs)], child_env({}))
    if not args.skip_naive:
        naive_thread.join()
        for job in JOBS:
            results["jobs"][job]["naive"] = figures(naive[job], bounds[job], args.rate_limit)
            ours_wall = results["jobs"][job]["ours"]["wall_s"]
            results["jobs"][job]["naive_over_ours"] = round(naive[job]["wall_s"] / ours_wall, 1)
        ours_total = sum(results["jobs"][job]["ours"]["wall_s"] for job in JOBS)
        naive_total = sum(results["jobs"][job]["naive"]["wall_s"] for job in JOBS)
        results["totals"] = {"ours_s": round(ours_total, 2), "naive_s": round(naive_total, 2),
                             "naive_over_ours": round(naive_total / ours_total, 1)}

    results["bench_seconds"] = round(time.monotonic() - began, 1)
    results["same_work"] = same_work(results, fleet)
    for name, ok in results["same_work"].items():
        if not ok:
            print(f"WARNING: {name}: NO — see {out_file.name}", flush=True)
    results["targets"] = targets(results)
    table = render_table(results)
    print("\n" + table)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out_file}")
    if default_fleet and out_file == (ROOT / "bench" / "results.json").resolve():
        update_readme(README, table)
        print(f"updated the Performance table in {README.relative_to(ROOT)}")
    missed = [name for name, check in results["targets"].items() if not check["met"]]
    if missed:
        print(f"targets not met: {'; '.join(missed)} (see README, Performance)")
    return 0 if all(results["same_work"].values()) else 1  # a miss is a finding; different work is a failure


def run_ours_repeated(fleet: BenchFleet, events: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Our three jobs on a fresh fleet; scan and audit again on fresh fleets (``--repeat``): the median.

    Renew runs once: it is paced by the rate limit for ~20 s, so one run varies little, and a second one
    would need yet another fleet. Each repeat needs a fresh fleet because audit fixes what it finds.
    """
    bounds = fleet.lower_bounds()
    runs: dict[str, list[dict[str, Any]]] = {job: [] for job in JOBS}
    for repeat in range(args.repeat):
        emulator = EmulatorProcess(fleet.regions, fleet.instances_per_region, args.latency, args.rate_limit)
        try:
            for job in JOBS if repeat == 0 else ("scan", "audit"):
                run = run_ours(emulator, fleet, job, events, args)
                runs[job].append(run)
                print(f"  ours  {job:5} {run['wall_s']:8.2f} s  {run['api_calls']}", flush=True)
        finally:
            emulator.stop()
    jobs: dict[str, Any] = {}
    for job, done in runs.items():
        median = sorted(done, key=lambda run: run["wall_s"])[len(done) // 2]
        jobs[job] = {**figures(median, bounds[job], args.rate_limit), "runs": len(done),
                     "wall_s_each": [run["wall_s"] for run in done],
                     "calls_each": [sum(run["api_calls"].values()) for run in done]}
    return {job: {"lower_bound": bounds[job], "ours": jobs[job]} for job in JOBS}


def run_naive_jobs(fleet: BenchFleet, args: argparse.Namespace, start: str, end: str) -> dict[str, Any]:
    emulator = EmulatorProcess(fleet.regions, fleet.instances_per_region, args.latency, args.rate_limit)
    try:
        done = {}
        for job in JOBS:
            done[job] = run_naive(emulator, fleet, job, start, end)
            print(f"  naive {job:5} {done[job]['wall_s']:8.2f} s  {done[job]['api_calls']}", flush=True)
        return done
    finally:
        emulator.stop()


def run_memory(args: argparse.Namespace, events: dict[str, Any]) -> dict[str, Any]:
    big = BenchFleet(regions=args.regions, instances_per_region=args.memory_instances)
    emulator = EmulatorProcess(big.regions, big.instances_per_region, args.latency, args.rate_limit)
    try:
        memory: dict[str, Any] = {"instances": big.total, "jobs": {}}
        for job in ("scan", "audit"):
            run = run_ours(emulator, big, job, events, args)
            memory["jobs"][job] = figures(run, big.lower_bounds()[job], args.rate_limit)
            print(f"  ours  {job:5} {run['wall_s']:8.2f} s  at {big.total} instances, peak RSS "
                  f"{run['peak_rss_mb']} MB", flush=True)
        return memory
    finally:
        emulator.stop()


def run_round_trips(args: argparse.Namespace) -> dict[str, Any]:
    """One call's round trip: against an emulator without latency (what our stack adds), and with it."""
    found: dict[str, Any] = {"latency_ms": args.latency * 1000}
    for name, latency, samples in (("no_latency", 0.0, 200), ("with_latency", args.latency, 30)):
        # Sequential calls as fast as they go: a round-trip measurement, not a quota test (no throttling).
        emulator = EmulatorProcess(1, 100, latency, None, throttling=False)
        try:
            found[name] = run_probe(emulator, "rtt", samples)
        finally:
            emulator.stop()
    return found


def run_probe(emulator: EmulatorProcess, probe: str, samples: int) -> dict[str, Any]:
    region = BenchFleet(regions=1).region_ids[0]  # every benchmark fleet has this region
    env = child_env({**emulator.credentials_env(), "BENCH_REGION": region})
    out = run_json([sys.executable, str(ROOT / "bench" / "probes.py"), probe, "--samples", str(samples)], env)
    emulator.take_calls()
    return out


if __name__ == "__main__":
    sys.exit(main())
