"""A cold start is the handler's import and its first invocation: a plain run (the function's own account, one
region, no robot, no approval) loads none of the modules that only some runs need. Each run is a fresh
interpreter against the emulator, as Function Compute starts one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Loaded by the runs that use them: approval (APPROVAL=required, approve-renewal), several accounts, a fan-out,
# alerts (a DingTalk robot), the reminder ledger and its file store, the page, the CLI, STS (a role).
ONLY_SOME_RUNS = ("ecs_renewal.approval", "ecs_renewal.accounts", "ecs_renewal.results.runs", "ecs_renewal.notify",
                  "ecs_renewal.report", "ecs_renewal.cli", "ecs_renewal.config.markdown", "ecs_renewal.gateway.fc",
                  "ecs_renewal.gateway.sts", "ecs_renewal.idempotency.reminders",
                  "ecs_renewal.idempotency.persistence.file", "aliyunsdksts", "fc2", "alibabacloud_fc20230330",
                  "ecs_emulator")
_FIRST_RUN = """
import json, sys
from types import SimpleNamespace
sys.path[:0] = [{function_dir!r}, {shared!r}]
import index
context = SimpleNamespace(request_id="cold-1", function=SimpleNamespace(name=None, timeout=120))
result = index.handler(json.dumps({event!r}).encode(), context)
loaded = sorted({{m for m in {optional!r} for n in sys.modules if n == m or n.startswith(m + ".")}})
print(json.dumps([loaded, sorted(result)]))
"""


@pytest.mark.parametrize(("function", "event"), [
    ("scan-expiring", {}),
    ("renew-batch", {}),
    ("renew-batch", {"dry_run": False}),
    ("audit-autorenew", {"fix": True, "dry_run": False}),
])
def test_a_plain_first_run_loads_only_what_it_uses(function, event, emulator):
    soon = datetime.now(UTC) + timedelta(days=2)
    for _ in range(3):
        emulator.add_instance("cn-hangzhou", expired_time=soon)
    credentials = emulator.function_credentials
    environment = {"PATH": os.environ.get("PATH", ""), "REGIONS": "cn-hangzhou", "ECS_ENDPOINT": emulator.url,
                   "STS_ENDPOINT": emulator.url, "ALIBABA_CLOUD_ACCESS_KEY_ID": credentials.access_key_id,
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credentials.access_key_secret,
                   "ALIBABA_CLOUD_SECURITY_TOKEN": credentials.security_token}
    code = _FIRST_RUN.format(function_dir=str(ROOT / "functions" / function), shared=str(ROOT / "shared"),
                             event=event, optional=ONLY_SOME_RUNS)
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded, keys = json.loads(done.stdout.strip().splitlines()[-1])
    assert "errors" in keys  # the run happened and returned its result
    assert loaded == []
