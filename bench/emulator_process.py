"""The benchmark's emulator, in its own process: its CPU and its 50,000 records stay out of what we measure.

``python bench/emulator_process.py --regions 20 --instances 1000 --latency 0.05 --rate-limit 100``
prints one JSON line (url and the function's STS credentials), then answers commands on stdin, one per
line, each answered with one JSON line: ``calls`` (calls by action so far), ``lanes`` (calls by
``region/action``), ``throttled`` (throttled answers by action, never reset), ``renewals`` (instances by
times renewed), ``cpu`` (its CPU seconds so far), ``durations`` (seconds each call spent inside the emulator,
latency included), ``reset`` (forget the calls). End of input stops it, so it never outlives the benchmark.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "shared"), str(Path(__file__).resolve().parents[1])]

from bench.fleet import BenchFleet, generate  # noqa: E402
from ecs_emulator import Emulator  # noqa: E402
from ecs_emulator.__main__ import parse_quotas  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--instances", type=int, default=1000, help="per region")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every call")
    parser.add_argument("--rate-limit", type=float, default=None,
                        help="one quota (calls/s) for every action, per (account, region, action), with the minute "
                             "block; default: the emulator's quota table")
    parser.add_argument("--no-throttling", action="store_true", help="no API quotas at all (round-trip probes)")
    parser.add_argument("--no-minute-block", action="store_true", help="a throttle lifts when its window slides")
    parser.add_argument("--quota", action="append", default=[], metavar="ACTION=N[/60]", help="one action's quota")
    parser.add_argument("--renew-delay", type=float, default=10.0, help="seconds before a renewal is visible")
    args = parser.parse_args(argv)

    emulator = Emulator(
        fleet=None, renew_visibility_delay=args.renew_delay, throttling=not args.no_throttling,
        throttle_block_until_next_minute=not args.no_minute_block, quotas=parse_quotas(args.quota),
    )  # fmt: skip
    for record in generate(BenchFleet(regions=args.regions, instances_per_region=args.instances)):
        emulator.state.add_instance(record)
    # The fleet lives as long as the process: frozen, the collector stops walking it. Its full passes took
    # up to ~60 ms, during which calls pile up and then reach the rate limiter's count all at once.
    gc.freeze()
    emulator.faults.latency = args.latency
    emulator.faults.rate_limit = args.rate_limit
    emulator.start()
    creds = emulator.function_credentials
    print(json.dumps({
        "url": emulator.url, "access_key_id": creds.access_key_id,
        "access_key_secret": creds.access_key_secret, "security_token": creds.security_token,
    }), flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "calls":
                print(json.dumps(emulator.calls_by_action()), flush=True)
            elif command == "throttled":
                print(json.dumps(emulator.throttle.throttled_by_action()), flush=True)
            elif command == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                print(json.dumps(round(usage.ru_utime + usage.ru_stime, 3)), flush=True)
            elif command == "durations":
                print(json.dumps([[c.action, round(c.duration, 4)] for c in emulator.calls]), flush=True)
            elif command == "lanes":  # calls by (region, action), throttled ones included: the quota's counter
                lanes: dict[str, int] = {}
                for call in emulator.calls:
                    key = f"{call.region or '-'}/{call.action}"
                    lanes[key] = lanes.get(key, 0) + 1
                print(json.dumps(lanes), flush=True)
            elif command == "renewals":  # how many instances were renewed how many times
                counts: dict[int, int] = {}
                for record in list(emulator.state.instances.values()):
                    counts[record.renewal_count] = counts.get(record.renewal_count, 0) + 1
                print(json.dumps({str(k): v for k, v in sorted(counts.items())}), flush=True)
            elif command == "reset":
                emulator.reset_calls()
                print("{}", flush=True)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
