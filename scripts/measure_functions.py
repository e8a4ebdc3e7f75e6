"""Measure each function's duration, peak memory and API calls, to choose s.yaml's memorySize and timeout.

    .venv/bin/python scripts/measure_functions.py --regions 5 --instances-per-region 2000 --latency 0.2

Builds the packages for this interpreter (``scripts/package.py --native``: the layer and the three code
folders), starts the emulator with a generated fleet and ``--latency`` seconds added to every API call,
then runs each function in a fresh interpreter with only its code folder and the layer's ``python/`` on
the path, a python3.12-shaped context and the role's credentials in ``ALIBABA_CLOUD_*``
(``scripts/run_package.py``), as Function Compute would: scan, renew (for real, cap lifted so every
candidate is renewed), audit with fix. Peak memory is the child's maximum resident set size, interpreter
included. Run it with the runtime's Python (e.g. pyenv's python3.12) to measure what the cloud runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT / "scripts")]

import package  # noqa: E402

from ecs_emulator import Emulator, FleetSpec  # noqa: E402

REGION_POOL = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1", "cn-qingdao",
               "cn-zhangjiakou", "cn-hongkong", "eu-central-1", "us-west-1")
RUNS = (
    ("scan-expiring", {"window_days": 30}),
    ("renew-batch", {"window_days": 7, "dry_run": False, "max_instances": 10_000}),
    ("audit-autorenew", {"fix": True, "dry_run": False}),
)


def run_package(built: package.Build, function: str, event: dict, emu: Emulator, regions: tuple[str, ...]) -> dict:
    creds = emu.function_credentials
    request = {"event": json.dumps(event), "request_id": f"measure-{function}"}
    # python3.12: the role's STS credentials are environment variables, not on the context.
    environment = {"PATH": os.environ.get("PATH", ""), "REGIONS": ",".join(regions),
                   "ECS_ENDPOINT": emu.url, "STS_ENDPOINT": emu.url,
                   "ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id,
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret,
                   "ALIBABA_CLOUD_SECURITY_TOKEN": creds.security_token}
    answer = subprocess.run(
        [sys.executable, "-I", "-S", str(ROOT / "scripts" / "run_package.py"), str(built.functions[function]),
         "--opt", str(built.layer.folder)],
        input=json.dumps(request), capture_output=True, text=True, env=environment, check=True,
    )
    return json.loads(answer.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--regions", type=int, default=3, help=f"how many regions (at most {len(REGION_POOL)})")
    parser.add_argument("--instances-per-region", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every API call")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    regions = REGION_POOL[: args.regions]

    with tempfile.TemporaryDirectory() as out:
        built = package.build(out=Path(out), python_version=None, platform=None, log=lambda _: None)
        fleet = FleetSpec(seed=args.seed, regions=regions, instances_per_region=args.instances_per_region)
        with Emulator(fleet=fleet, renew_visibility_delay=1.0) as emu:
            emu.faults.latency = args.latency
            prepaid = sum(1 for i in emu.instances() if i.charge_type == "PrePaid")
            print(f"Python {sys.version.split()[0]}; fleet: {len(emu.instances())} instances ({prepaid} prepaid) "
                  f"in {len(regions)} regions; {args.latency:.2f} s added to every API call")
            print(f"{'function':<18}{'duration':>10}{'peak RSS':>11}  result / API calls")
            for function, event in RUNS:
                answer = run_package(built, function, event, emu, regions)
                if "error" in answer:
                    print(f"{function:<18} failed: {answer['error']['type']}: {answer['error']['message']}")
                    continue
                result = answer["result"]
                counts = {k: len(result[k]) for k in ("expiring", "renewed", "skipped", "failed", "drift", "fixed")
                          if k in result}
                print(f"{function:<18}{answer['duration_s']:>9.1f}s{answer['peak_rss_mb']:>8.1f} MB  {counts} "
                      f"{result['api_calls']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
