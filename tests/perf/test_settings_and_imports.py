"""Throughput settings are checked before any call; a handler's import loads nothing optional."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ecs_renewal.errors import InvalidSettingError
from ecs_renewal.runtime import run_job
from ecs_renewal.settings import DEFAULT_MAX_QPS, throughput_settings

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("aliyunsdksts", "fc2", "alibabacloud_fc20230330", "alibabacloud_tea_openapi", "darabonba",
            "ecs_renewal.gateway.fc", "ecs_renewal.gateway.sts", "ecs_renewal.cli", "ecs_emulator",
            "ecs_renewal.notify", "ecs_renewal.report",
            # loaded on first use by the runs that need them (approval, several accounts or a fan-out, a
            # funds forecast, the reminder ledger's file store, the README's table), never by the import
            "ecs_renewal.approval", "ecs_renewal.accounts", "ecs_renewal.results.runs", "ecs_renewal.funds",
            "ecs_renewal.gateway.bss", "ecs_renewal.idempotency.persistence.file", "ecs_renewal.idempotency.reminders",
            "ecs_renewal.config.markdown")
# Only renew-batch makes ClientTokens and plans: the other two handlers load neither.
RENEW_ONLY = ("ecs_renewal.idempotency", "ecs_renewal.plan", "ecs_renewal.results.renew",
              "ecs_renewal.jobs.funds_check")


def test_defaults_and_per_action_limits():
    # Unset: each action's documented (unverified) quota; an action not in the table gets the fallback.
    defaults = throughput_settings({})
    assert defaults.qps_for("DescribeInstances") == 100
    assert defaults.qps_for("RenewInstance", "cn-hangzhou") == pytest.approx(1000 / 60)
    assert defaults.qps_for("TagResources") == DEFAULT_MAX_QPS
    settings = throughput_settings({"ECS_MAX_QPS": "100, RenewInstance=20", "REGION_CONCURRENCY": "16",
                                    "RENEW_CONCURRENCY": "4"})
    assert (settings.region_concurrency, settings.renew_concurrency) == (16, 4)
    assert settings.qps_for("RenewInstance") == 20 and settings.qps_for("DescribeInstances") == 100


def test_ecs_max_qps_in_quota_centers_shape_per_region_and_per_minute():
    settings = throughput_settings({"ECS_MAX_QPS": "50, RenewInstance=600/60, cn-hangzhou:RenewInstance=2"})
    assert settings.qps_for("RenewInstance", "cn-hangzhou") == 2
    assert settings.qps_for("RenewInstance", "cn-beijing") == 10
    assert settings.qps_for("DescribeInstances", "cn-hangzhou") == 50


@pytest.mark.parametrize(("name", "value"), [
    ("ECS_MAX_QPS", "fast"), ("ECS_MAX_QPS", "0"), ("ECS_MAX_QPS", "renew=5"), ("ECS_MAX_QPS", "nan"),
    ("ECS_MAX_QPS", "RenewInstance=5/30"), ("ECS_MAX_QPS", "hangzhou:RenewInstance=5"),
    ("REGION_CONCURRENCY", "0"), ("REGION_CONCURRENCY", "65"), ("RENEW_CONCURRENCY", "eight"),
])
def test_a_bad_value_names_its_variable_before_any_call(name, value, mocker):
    sdk = mocker.patch("aliyunsdkcore.client.AcsClient.do_action_with_exception")
    with pytest.raises(InvalidSettingError) as error:
        run_job("scan-expiring", b"", None, environ={
            "REGIONS": "cn-hangzhou", name: value, "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.x",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s", "ALIBABA_CLOUD_SECURITY_TOKEN": "t",
        })
    assert error.value.key == name
    sdk.assert_not_called()


@pytest.mark.parametrize(("function", "job_module"), [
    ("scan-expiring", "ecs_renewal.jobs.scan"),
    ("renew-batch", "ecs_renewal.jobs.renew"),
    ("audit-autorenew", "ecs_renewal.jobs.audit"),
])
def test_a_handler_loads_nothing_optional(function, job_module):
    """STS, both Function Compute clients, the CLI, the emulator, the DingTalk sender, the report, approval,
    accounts, the funds forecast, the file store: loaded only when used (a cold start pays for each import)."""
    optional = OPTIONAL if function == "renew-batch" else (*OPTIONAL, *RENEW_ONLY)
    code = (
        "import importlib, json, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / function)!r}, {str(ROOT / 'shared')!r}]\n"
        "import index\n"
        f"importlib.import_module({job_module!r})\n"
        f"print(json.dumps([m for m in {optional!r} if any(n == m or n.startswith(m + '.') for n in sys.modules)]))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                       text=True).stdout)
    assert loaded == []
