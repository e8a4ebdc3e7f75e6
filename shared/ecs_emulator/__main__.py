"""``python -m ecs_emulator``: serve a generated (or loaded) fleet until Ctrl-C."""

from __future__ import annotations

import argparse
import shlex
import sys

from .emulator import Emulator
from .fleet import FleetSpec


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ecs_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regions", default="cn-hangzhou,cn-shanghai,cn-beijing", help="comma-separated")
    parser.add_argument("--instances-per-region", type=int, default=120)
    parser.add_argument(
        "--failed-auto-renew",
        type=int,
        default=0,
        help="extra AutoRenewal instances per region whose auto-renew deduction failed (default 0)",
    )
    parser.add_argument("--fleet", help="load instances from this fleet JSON file instead of generating")
    parser.add_argument("--save-fleet", help="write the starting fleet to this JSON file")
    parser.add_argument("--renew-delay", type=float, default=10.0, help="seconds before a renewal is visible")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every RPC call")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="one quota (calls/s) for every action, per account and region"
    )
    parser.add_argument("--quota", action="append", default=[], metavar="ACTION=N[/60]",
                        help="override one action's quota, e.g. RenewInstance=20 or RenewInstance=1000/60")
    parser.add_argument("--no-throttling", action="store_true", help="turn the API quotas off")
    parser.add_argument("--no-minute-block", action="store_true",
                        help="a throttled API is free again when its window slides, not at the next minute")
    parser.add_argument("--throttle-code", default="Throttling.User",
                        choices=("Throttling.User", "Throttling.Api", "Throttling"))
    parser.add_argument("--no-ram", action="store_true", help="do not enforce the roles' RAM policies")
    parser.add_argument("--client-token-ttl", type=float, default=6 * 3600.0,
                        help="seconds a RenewInstance ClientToken is remembered (<= 0: forever)")
    parser.add_argument("--idempotence-mismatch-code", default="IdempotenceParamNotMatch",
                        choices=("IdempotenceParamNotMatch", "IdempotentParameterMismatch"))
    parser.add_argument("--dingtalk-max-body-bytes", type=int, default=20_000, help="0: no limit")
    parser.add_argument("--balance", type=float, default=None, help="account cash balance (CNY; USD on intl)")
    parser.add_argument("--credit", type=float, default=None, help="account credit line, spent after the cash")
    parser.add_argument(
        "--site",
        choices=("china", "intl"),
        default="china",
        help="Alibaba Cloud site: renewal terms and currency (default china)",
    )
    parser.add_argument(
        "--unified-expiry-day",
        type=int,
        default=None,
        help="the account's unified expiry day 1..28 (ExpectedRenewDay must match; default none)",
    )
    return parser


def parse_quotas(items: list[str]) -> dict[str, tuple[int, int]]:
    quotas = {}
    for item in items:
        action, _, value = item.partition("=")
        calls, _, seconds = value.partition("/")
        if not action or not calls.isdigit() or seconds not in ("", "1", "60"):
            raise SystemExit(f"--quota {item!r}: expected ACTION=N or ACTION=N/60")
        quotas[action] = (int(calls), int(seconds or 1))
    return quotas


def knobs_of(args: argparse.Namespace) -> dict:
    """The Emulator's rule knobs from the command line (their defaults are the documented behaviour)."""
    return {
        "throttling": not args.no_throttling,
        "quotas": parse_quotas(args.quota),
        "throttle_block_until_next_minute": not args.no_minute_block,
        "throttle_code": args.throttle_code,
        "ram": not args.no_ram,
        "client_token_ttl": args.client_token_ttl if args.client_token_ttl > 0 else None,
        "idempotence_mismatch_code": args.idempotence_mismatch_code,
        "dingtalk_max_body_bytes": args.dingtalk_max_body_bytes or None,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    knobs = knobs_of(args)
    if args.fleet:
        emulator = Emulator.from_fleet_file(args.fleet, renew_visibility_delay=args.renew_delay, **knobs)
    else:
        regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
        spec = FleetSpec(
            seed=args.seed,
            regions=regions,
            instances_per_region=args.instances_per_region,
            failed_auto_renew=args.failed_auto_renew,
        )
        emulator = Emulator(fleet=spec, renew_visibility_delay=args.renew_delay, **knobs)
    emulator.faults.latency = args.latency
    emulator.faults.rate_limit = args.rate_limit
    if args.balance is not None:
        emulator.balance = args.balance
    if args.credit is not None:
        emulator.set_credit(args.credit)
    emulator.site = args.site
    emulator.set_unified_expiry_day(args.unified_expiry_day)
    if args.save_fleet:
        emulator.save_fleet(args.save_fleet)

    emulator.start(host=args.host, port=args.port)
    creds = emulator.function_credentials
    regions = ",".join(sorted({record.region_id for record in emulator.instances()})) or args.regions
    # What the functions invoked through the FC endpoint (python -m ecs_renewal invoke) run with.
    emulator.fc.environment.update(
        {
            "REGIONS": regions,
            "DINGTALK_WEBHOOK": emulator.dingtalk.webhook_url,
            "DINGTALK_SECRET": emulator.dingtalk.secret,
        }
    )
    exports = {
        "ECS_ENDPOINT": emulator.url,
        "STS_ENDPOINT": emulator.url,
        "BSS_ENDPOINT": emulator.url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": creds.security_token,
        "DINGTALK_WEBHOOK": emulator.dingtalk.webhook_url,
        "DINGTALK_SECRET": emulator.dingtalk.secret,
        "FC_ENDPOINT": emulator.url,
        "FC_ACCOUNT_ID": emulator.account_id,
        "REGIONS": regions,
    }
    counts = {}
    for record in emulator.instances():
        counts[record.region_id] = counts.get(record.region_id, 0) + 1
    print(f"ECS/STS/DingTalk emulator listening on {emulator.url}")
    print(f"instances: {counts}  account: {emulator.account_id}  role: {emulator.default_role_arn}")
    print(f"state: {emulator.url}/_emulator/state")
    print(f"credentials expire at {creds.expiration} (emulator-only throwaway values). Paste into a shell:\n")
    print("export " + " \\\n  ".join(f"{name}={shlex.quote(value)}" for name, value in exports.items()))
    print("\nCtrl-C to stop.", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
