"""The benchmark's pieces stay honest: the fleet's exact shares and bounds, and the naive script's calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench.fleet import BenchFleet, generate, window
from ecs_emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]


def test_fleet_shares_are_exact_and_bounds_follow():
    fleet = BenchFleet(regions=3, instances_per_region=250)
    records = generate(fleet)
    assert len(records) == 750 and {r.charge_type for r in records} == {"PrePaid"}
    for region in fleet.region_ids:
        mine = [r for r in records if r.region_id == region]
        assert sum(r.renewal_status == "Normal" for r in mine) == 75  # 30 % drift
    bounds = fleet.lower_bounds()
    assert bounds["audit"] == {"DescribeInstances": 9, "DescribeInstanceAutoRenewAttribute": 9,
                               "ModifyInstanceAutoRenewAttribute": 3}
    assert bounds["renew"]["RenewInstance"] == 75 and bounds["scan"]["DescribeInstances"] == 3


def test_naive_script_follows_the_documented_call_pattern():
    fleet = BenchFleet(regions=1, instances_per_region=30)  # 3 expiring, 9 drifting
    with Emulator(fleet=None, renew_visibility_delay=5.0) as emulator:
        for record in generate(fleet):
            emulator.state.add_instance(record)
        creds = emulator.function_credentials
        start, end = window(datetime.now(timezone.utc))
        env = {**os.environ, "BENCH_ACCESS_KEY_ID": creds.access_key_id,
               "BENCH_ACCESS_KEY_SECRET": creds.access_key_secret, "BENCH_SECURITY_TOKEN": creds.security_token,
               "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)])}
        runs = {}
        for job in ("renew", "audit"):
            done = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "naive.py"), job, "--endpoint", emulator.url,
                 "--regions", fleet.region_ids[0], "--start", start, "--end", end, "--log", os.devnull],
                env=env, check=True, capture_output=True, text=True)
            runs[job] = json.loads(done.stdout)
    # The scan's page, then per instance a DescribeInstances re-check and a RenewInstance.
    assert runs["renew"]["api_calls"] == {"DescribeInstances": 1 + 3, "RenewInstance": 3}
    assert runs["renew"]["counts"]["renewed"] == 3
    # Every page, then per 100-id list: check, set (the same list), check again.
    assert runs["audit"]["api_calls"] == {"DescribeInstanceAutoRenewAttribute": 2, "DescribeInstances": 1,
                                          "ModifyInstanceAutoRenewAttribute": 1}
    assert runs["audit"]["counts"] == {"drift": 9, "still_drifting": 0}


def test_figures_use_the_busiest_region_action_lane_and_every_actions_bound():
    from bench.run import figures

    run = {"wall_s": 6.0, "cpu_s": 1.5, "api_calls": {"DescribeInstances": 4, "RenewInstance": 200},
           "lanes": {"cn-hangzhou/RenewInstance": 100, "cn-shanghai/RenewInstance": 100,
                     "cn-hangzhou/DescribeInstances": 2, "cn-shanghai/DescribeInstances": 2},
           "throttled": {"RenewInstance": 1}}
    out = figures(run, {"DescribeInstances": 2, "RenewInstance": 200}, rate_limit=20)
    assert out["rate_floor_s"] == 5.0 and out["wall_over_floor"] == 1.2  # 100 calls in one lane at 20/s
    assert out["calls_over_bound_by_action"] == {"DescribeInstances": 2.0, "RenewInstance": 1.0}
    assert out["throttled_total"] == 1 and out["cpu_s_per_1000_calls"] == round(1.5 / 204 * 1000, 3)
