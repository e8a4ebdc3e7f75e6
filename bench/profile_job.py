"""Where a job's CPU goes, call path included: ``python bench/profile_job.py renew [--regions 6 --instances 1000]``.

Starts the benchmark's emulator (its own process), runs one job in this process under cProfile with
``ECS_MAX_QPS`` at the quota, and prints the functions with the most own CPU time, each marked ours / SDK /
stdlib, and the CPU seconds per 1,000 calls. Used to find what is ours to cut (README, Performance).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.fleet import BenchFleet, window  # noqa: E402
from bench.run import JOBS, EmulatorProcess  # noqa: E402
from tests.handlers import PROJECT_ENV, fc_context, invoke, load_handler  # noqa: E402


def owner(filename: str) -> str:
    if "ecs_renewal" in filename:
        return "ours"
    if "aliyunsdk" in filename:
        return "SDK"
    if "site-packages" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    return "stdlib"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=tuple(JOBS))
    parser.add_argument("--regions", type=int, default=6)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--quota", type=float, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", choices=("own", "cumulative"), default="own")
    parser.add_argument("--plain", action="store_true",
                        help="no cProfile (its per-call overhead distorts C-heavy code): run under py-spy instead")
    args = parser.parse_args(argv)
    fleet = BenchFleet(regions=args.regions, instances_per_region=args.instances)
    emulator = EmulatorProcess(fleet.regions, fleet.instances_per_region, 0.0, args.quota)
    start, end = window(datetime.now(timezone.utc))
    event = {"scan": {"expired_start": start, "expired_end": end},
             "renew": {"expired_start": start, "expired_end": end, "dry_run": False},
             "audit": {"fix": True, "dry_run": False}}[args.job]
    for name in PROJECT_ENV:
        os.environ.pop(name, None)
    os.environ.update(REGIONS=",".join(fleet.region_ids), ECS_ENDPOINT=emulator.info["url"],
                      STS_ENDPOINT=emulator.info["url"], ECS_MAX_QPS=f"{args.quota:g}", MAX_RENEWALS="10000",
                      RENEW_AUTO_RENEWING="true")
    credentials = SimpleNamespace(access_key_id=emulator.info["access_key_id"],
                                  access_key_secret=emulator.info["access_key_secret"],
                                  security_token=emulator.info["security_token"])
    from ecs_renewal import logs

    log_stream = io.StringIO()
    logs.set_stream(log_stream)
    load_handler(JOBS[args.job])
    # cProfile sees one thread: every worker thread of the job gets its own profiler, merged at the end.
    profilers: list[cProfile.Profile] = []
    thread_run = threading.Thread.run

    def profiled_run(thread: threading.Thread) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profilers.append(profiler)
        profiler.runcall(thread_run, thread)

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main_profiler = cProfile.Profile(time.thread_time)
    profilers.append(main_profiler)
    before = resource.getrusage(resource.RUSAGE_SELF)
    if args.plain:
        try:
            result = invoke(JOBS[args.job], event, fc_context(credentials, request_id="profile", timeout=900))
        finally:
            emulator.stop()
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        calls = sum(result["api_calls"].values())
        usage = [json.loads(line)["by_action"] for line in log_stream.getvalue().splitlines() if '"api_usage"' in line]
        print(json.dumps({"job": args.job, "calls": calls, "cpu_s": round(cpu, 3),
                          "cpu_ms_per_call": round(cpu / calls * 1000, 3), "pacing": usage}))
        return 0
    try:
        result = main_profiler.runcall(invoke, JOBS[args.job], event,
                                       fc_context(credentials, request_id="profile", timeout=900))
    finally:
        threading.Thread.run = thread_run  # type: ignore[method-assign]
        emulator.stop()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    calls = sum(result["api_calls"].values())
    stats = pstats.Stats(profilers[0])
    for profiler in profilers[1:]:
        stats.add(profiler)
    by_owner: dict[str, float] = {}
    rows = []
    for (filename, line, function), (_, _, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if function.startswith("<method 'acquire'") or function == "<built-in method time.sleep>":
            continue  # waiting, not CPU (pacing, locks, thread joins)
        by_owner[owner(filename)] = by_owner.get(owner(filename), 0.0) + own
        rows.append((own, cumulative, owner(filename), f"{Path(filename).name}:{line} {function}"))
    print(json.dumps({"job": args.job, "calls": calls, "cpu_s": round(cpu, 3),
                      "cpu_ms_per_call": round(cpu / calls * 1000, 3) if calls else None,
                      "own_cpu_s_by_owner": {k: round(v, 3) for k, v in sorted(by_owner.items(),
                                                                              key=lambda item: -item[1])}}))
    order = (lambda row: row[0]) if args.sort == "own" else (lambda row: row[1])
    for own, cumulative, who, where in sorted(rows, key=order, reverse=True)[: args.top]:
        print(f"{own:8.3f} {cumulative:8.3f}  {who:8} {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
