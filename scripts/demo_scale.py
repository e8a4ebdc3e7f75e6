"""`make demo-scale`: many accounts × many regions, fanned out through (emulated) Function Compute.

Three target accounts (each with its own role) × six regions. renew-batch is invoked once, as the
nightly timer would; with SHARD_SIZE=6 the 18 account-regions are too many for one invocation, so it
becomes a coordinator: it invokes itself asynchronously once per account through the emulator's
Function Compute endpoint (FC 3.0 API through alibabacloud_fc20230330, ACS3-signed with the function's
STS credentials), and each shard assumes its account's role and renews there. Then it invokes the
coordinator again, as a Function Compute retry would: with asyncTask on (as s.yaml sets it) the
repeated task ids are refused (409) and nothing is queued or renewed twice.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from ecs_emulator import Emulator  # noqa: E402
from ecs_renewal import logs  # noqa: E402
from tests.handlers import PROJECT_ENV, fc_context, invoke  # noqa: E402

ACCOUNTS = {"3100000000000001": "shop", "3100000000000002": "payments", "3100000000000003": "data"}
REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1", "eu-central-1")
INSTANCES = 30  # per account and region
LOG_FILE = ROOT / "build" / "demo-scale-logs.jsonl"
BOLD, DIM, GREEN, RESET = ("\033[1m", "\033[2m", "\033[32m", "\033[0m") if sys.stdout.isatty() else ("",) * 4


def seed_fleet(emu: Emulator) -> dict[str, str]:
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    roles = {}
    for account in ACCOUNTS:
        roles[account] = emu.add_role("ecs-renewal-target", account_id=account)
        for region in REGIONS:
            for n in range(INSTANCES):
                days = rng.uniform(0.2, 6.8) if rng.random() < 0.2 else rng.uniform(10, 200)
                emu.add_instance(region, account_id=account, name=f"{ACCOUNTS[account]}-{region}-{n:02d}",
                                 expired_time=now + timedelta(days=days))
    return roles


def main() -> int:
    LOG_FILE.parent.mkdir(exist_ok=True)
    started = time.monotonic()
    print(f"{BOLD}ecs-renewal demo-scale{RESET}: {len(ACCOUNTS)} accounts × {len(REGIONS)} regions, "
          "fanned out through Function Compute (emulated).")
    with Emulator(renew_visibility_delay=5.0) as emu, LOG_FILE.open("w") as log_file:
        logs.set_stream(log_file)
        roles = seed_fleet(emu)
        accounts = json.dumps([{"account_id": a, "role_arn": r, "name": ACCOUNTS[a]} for a, r in roles.items()])
        settings = {"REGIONS": ",".join(REGIONS), "ECS_ENDPOINT": emu.url, "STS_ENDPOINT": emu.url,
                    "FC_ENDPOINT": emu.url, "ACCOUNTS": accounts, "SHARD_SIZE": "6", "MAX_RENEWALS": "100",
                    "NOTIFY_STATE_DIR": str(ROOT / "build" / "demo-scale-notified")}
        for name in PROJECT_ENV:
            os.environ.pop(name, None)
        os.environ.update(settings)
        emu.fc.environment = dict(settings)  # what the deployed function's environment would hold
        emu.fc.async_task = True  # s.yaml: asyncInvokeConfig.asyncTask (a repeated task id is refused)
        print(f"Emulator at {emu.url}: {len(emu.instances())} instances. ACCOUNTS lists {len(ACCOUNTS)} target roles; "
              f"SHARD_SIZE=6 account-regions per invocation. Logs: {LOG_FILE.relative_to(ROOT)}")

        print(f"\n{BOLD}1. renew-batch invoked by the timer (dry run off){RESET}")
        coordinator = invoke("renew-batch", json.dumps({"dry_run": False}).encode(),
                             fc_context(emu.function_credentials, request_id="nightly-0001"))
        for shard in coordinator["shards"]:
            print(f"   shard {shard['index']}/{shard['of']}: account {shard['account_id']} "
                  f"({ACCOUNTS[shard['account_id']]}), {len(shard['regions'])} regions — {shard['status']}")
        emu.fc.wait_idle(120)
        runs = [r for r in emu.fc.records("renew-batch") if r.result]
        print(f"   {len(runs)} asynchronous invocations ran; each assumed its account's role and renewed there.")

        print(f"\n{BOLD}2. Per account and region{RESET}")
        table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for run in runs:
            for key in ("renewed", "skipped", "failed"):
                for row in run.result.get(key, []):
                    table[(row["account_id"], row["region"])][key] += 1
        print(f"   {'account':<26}{'region':<16}{'renewed':>8}{'skipped':>9}{'failed':>8}")
        for account in ACCOUNTS:
            for region in REGIONS:
                c = table[(account, region)]
                print(f"   {account + ' ' + ACCOUNTS[account]:<26}{region:<16}{c['renewed']:>8}{c['skipped']:>9}"
                      f"{c['failed']:>8}")
        renewed = [row["instance_id"] for run in runs for row in run.result.get("renewed", [])]
        by_role = Counter(c.role_arn for c in emu.calls if c.action == "RenewInstance")
        per_account = ", ".join(f"{ACCOUNTS[arn.split(':')[3]]} {n}" for arn, n in sorted(by_role.items()))
        print(f"   RenewInstance calls, by the account of the role that signed them: {per_account}")

        print(f"\n{BOLD}3. The coordinator invoked again at once, as a Function Compute retry would{RESET}")
        again = invoke("renew-batch", json.dumps({"dry_run": False}).encode(),
                       fc_context(emu.function_credentials, request_id="nightly-0001"))
        emu.fc.wait_idle(120)
        refused = sum(1 for shard in again["shards"] if shard.get("duplicate"))
        twice = [i for i in renewed if emu.renewal_count(i) != 1]
        print(f"   the same shard events were sent again with the same async task ids: Function Compute refused "
              f"{refused} of {len(again['shards'])} as duplicates (409), nothing queued again; instances extended "
              f"more than once: {GREEN if not twice else ''}{len(twice)}{RESET} of {len(renewed)}.")
        logs.set_stream(None)
    print(f"\n{BOLD}Done in {time.monotonic() - started:.1f} s.{RESET}")
    return 1 if twice or not renewed else 0


if __name__ == "__main__":
    sys.exit(main())
