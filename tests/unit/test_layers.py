"""The layering holds: jobs reach the cloud only through the gateway, and importing the core changes nothing
in the process (the collector is tuned when a run starts, not when a module is imported)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "shared" / "ecs_renewal"
ABOVE_THE_GATEWAY = sorted([*CORE.glob("jobs/*.py"), CORE / "policy.py", CORE / "plan.py", CORE / "pricing.py",
                            *CORE.glob("results/*.py"), CORE / "contract.py"])  # (modes.py builds the gateway)


@pytest.mark.parametrize("path", ABOVE_THE_GATEWAY, ids=lambda p: str(p.relative_to(CORE)))
def test_jobs_reach_the_cloud_only_through_the_gateway(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("aliyunsdk")}, "the SDK is the gateway's"
    assert not {name for name in imported if name.endswith("gateway.client")}, "the caller is the gateway's"
    caller = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr in ("caller", "_caller")]
    assert not caller, "no job reaches past the gateway to its caller"


def test_importing_a_handler_leaves_the_collector_alone():
    code = (
        "import gc, json, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / 'renew-batch')!r}, {str(ROOT / 'shared')!r}]\n"
        "before = gc.get_threshold()\n"
        "import index, ecs_renewal.jobs.renew, ecs_renewal.jobs.scan, ecs_renewal.jobs.audit\n"
        "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count(), 'ecs_renewal.accounts' in sys.modules]))"
    )
    before, after, frozen, accounts = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                                                capture_output=True, text=True).stdout)
    assert after == before and frozen == 0
    assert not accounts  # loaded only by a run with ACCOUNTS / ACCOUNTS_FILE (or `accounts` in the event)


def test_accounts_file_alone_makes_a_multi_account_run(tmp_path):
    from ecs_renewal import runtime
    from ecs_renewal.settings import build_settings

    accounts = tmp_path / "accounts.json"
    accounts.write_text('[{"account_id": "2000000000000001", '
                        '"role_arn": "acs:ram::2000000000000001:role/ecs-renewal-target"}]')
    settings = build_settings("scan-expiring", b"", {"REGIONS": "cn-hangzhou"})
    assert runtime.target_accounts(settings, {"ACCOUNTS_FILE": str(accounts)})[0].account_id == "2000000000000001"
    assert runtime.target_accounts(settings, {}) is None
