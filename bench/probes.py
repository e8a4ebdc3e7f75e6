"""Two small measurements the benchmark runs in fresh processes.

``python bench/probes.py rtt`` (endpoint and STS credentials in ``BENCH_*``): median round trip of one
call through our own call path (SDK, HTTP, emulator), sequential, no pacing — a small call (one
instance) and a full page (100 instances). Run against an emulator without latency it shows what the
HTTP stack adds; a 40 ms delayed-ACK stall (headers and body in two small writes) would show at once.

``python bench/probes.py imports --runs N``: each handler's cold import (the handler module, plus the job
module its first invocation loads) against a bare ``import aliyunsdkcore.client``, each in a fresh
interpreter, with byte-code cached as on a deployed function. Each round runs the bare import and the
three handlers back to back; the ratio is the median over the rounds of (the round's handler mean ÷ its
bare import): a shared machine's speed drifts, and what is measured together drifts together. Also
reports which optional modules (STS, both FC clients, the CLI, the emulator, alerts, the HTML report,
approval, accounts, the funds forecast, the file store) a handler loaded: none should be.

``--against DIR`` (another checkout, e.g. ``git worktree add /tmp/old <commit>``) measures that checkout's
handlers in the same rounds, with its own byte-code cache, so that two versions are compared on the same
machine at the same moment (``against``: its ratio and times); every other round runs the candidates in
reverse order, so that neither always goes first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = {
    "scan-expiring": "ecs_renewal.jobs.scan",
    "renew-batch": "ecs_renewal.jobs.renew",
    "audit-autorenew": "ecs_renewal.jobs.audit",
}
OPTIONAL_MODULES = ("aliyunsdksts", "fc2", "alibabacloud_fc20230330", "ecs_renewal.gateway.sts",
                    "ecs_renewal.gateway.fc", "ecs_renewal.cli", "ecs_emulator", "ecs_renewal.notify",
                    "ecs_renewal.report", "ecs_renewal.approval", "ecs_renewal.accounts", "ecs_renewal.funds",
                    "ecs_renewal.idempotency.persistence.file")

_BARE = """
import time
t, c = time.perf_counter(), time.process_time()
import aliyunsdkcore.client
print([time.perf_counter() - t, time.process_time() - c, []])
"""
_HANDLER = """
import importlib, json, sys, time
sys.path[:0] = [{function_dir!r}, {shared!r}]
t, c = time.perf_counter(), time.process_time()
import index
importlib.import_module({job_module!r})
wall, cpu = time.perf_counter() - t, time.process_time() - c
loaded = [m for m in {optional!r} if any(n == m or n.startswith(m + ".") for n in sys.modules)]
print(json.dumps([wall, cpu, loaded]))
"""


def measure_rtt(samples: int = 200) -> dict[str, float]:
    sys.path[:0] = [str(ROOT / "shared")]
    from ecs_renewal.credentials import Credentials
    from ecs_renewal.gateway.client import Caller, ClientFactory
    from ecs_renewal.gateway.ecs import EcsGateway

    creds = Credentials(os.environ["BENCH_ACCESS_KEY_ID"], os.environ["BENCH_ACCESS_KEY_SECRET"],
                        os.environ["BENCH_SECURITY_TOKEN"], "bench")
    gateway = EcsGateway(Caller(ClientFactory(creds, ecs_endpoint=os.environ["BENCH_ENDPOINT"])))
    region = os.environ["BENCH_REGION"]
    one = [next(iter(gateway.instances(region))).instance_id]

    def timed(call: object) -> list[float]:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            call()  # type: ignore[operator]
            times.append(time.perf_counter() - started)
        return sorted(times)

    small = timed(lambda: list(gateway.instances(region, instance_ids=one)))
    page = timed(lambda: next(iter(gateway.instances(region))))  # the first page's first row: one call
    return {
        "small_call_median_ms": round(statistics.median(small) * 1000, 2),
        "small_call_p99_ms": round(small[int(len(small) * 0.99) - 1] * 1000, 2),
        "small_call_max_ms": round(small[-1] * 1000, 2),
        "page_of_100_median_ms": round(statistics.median(page) * 1000, 2),
    }


def _handler_codes(root: Path) -> dict[str, str]:
    return {function: _HANDLER.format(function_dir=str(root / "functions" / function), shared=str(root / "shared"),
                                      job_module=job_module, optional=OPTIONAL_MODULES)
            for function, job_module in FUNCTIONS.items()}


def measure_imports(runs: int, against: Path | None = None) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = ROOT / "build" / "bench" / "pycache"  # cached, as when deployed

    def run(code: str, prefix: Path) -> list:
        return json.loads(subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPYCACHEPREFIX": str(prefix)},
                                         check=True, capture_output=True, text=True).stdout)

    candidates = {("", "bare"): (_BARE, cache)}
    candidates.update({("", name): (code, cache) for name, code in _handler_codes(ROOT).items()})
    if against is not None:
        candidates.update({("against", name): (code, cache / "against")
                           for name, code in _handler_codes(against.resolve()).items()})
    for code, prefix in candidates.values():
        run(code, prefix)  # warm-up: writes the byte-code cache
    wall: dict[tuple[str, str], list[float]] = {key: [] for key in candidates}
    loaded: set[str] = set()
    order = list(candidates)
    for index in range(runs):  # one round: every candidate once, back to back (the bare import first)
        for key in order if index % 2 == 0 else [order[0], *reversed(order[1:])]:
            elapsed, _cpu, modules = run(*candidates[key])
            wall[key].append(elapsed)
            if key[0] == "":
                loaded.update(modules)
    bare = wall[("", "bare")]

    def figures(side: str) -> dict[str, object]:
        per_round = [statistics.mean(wall[(side, name)][i] for name in FUNCTIONS) / bare[i] for i in range(runs)]
        return {"handlers_ms": {name: round(statistics.median(wall[(side, name)]) * 1000, 1) for name in FUNCTIONS},
                "ratio": round(statistics.median(per_round), 3)}

    result: dict[str, object] = {"runs": runs, "bare_sdk_ms": round(statistics.median(bare) * 1000, 1),
                                 **figures(""), "optional_modules_loaded": sorted(loaded)}
    if against is not None:
        result["against"] = {"checkout": str(against), **figures("against")}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=("rtt", "imports"))
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--against", type=Path, help="imports: another checkout measured in the same rounds")
    args = parser.parse_args()
    result = measure_rtt(args.samples) if args.probe == "rtt" else measure_imports(args.runs, args.against)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
