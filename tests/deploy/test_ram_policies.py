"""ram/: least privilege, kept exact as the code changes.

The action list is derived from the code — the SDK request classes ``shared/ecs_renewal`` imports
(``aliyunsdkecs.request.v20140526.RenewInstanceRequest`` → ``ecs:RenewInstance``), the same reading
scripts/package.py uses to keep only those request modules in the packages — so adding a call without
its permission, or a permission without a call, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scripts import package
from tests.deploy.conftest import ROOT
from tests.deploy.serverless_yaml import render

RAM = ROOT / "ram"
POLICY_FILES = ("function-role-policy.json", "function-role-assume-policy.json", "target-account-role-policy.json",
                "fc-trust-policy.json", "target-account-trust-policy.json", "function-role-fanout-policy.json",
                "function-role-oss-policy.json", "billing-read-policy.json", "function-role-destination-policy.json")
ROLE_ARN = re.compile(r"^acs:ram::(\d+|[A-Z_]+_ACCOUNT_ID):role/[\w.@-]+$")
INSTANCE_RESOURCE = re.compile(r"^acs:ecs:[a-z0-9*-]+:[0-9*]+:instance/\*$")


def load(name: str) -> dict[str, Any]:
    document = json.loads((RAM / name).read_text(encoding="utf-8"))
    assert document["Version"] == "1" and document["Statement"], f"{name}: not a RAM policy document"
    return document


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def actions_of(document: dict[str, Any]) -> set[str]:
    return {action for statement in document["Statement"] for action in as_list(statement["Action"])}


@pytest.fixture(scope="module")
def code_actions() -> set[str]:
    actions = package.api_actions()
    # The reading itself must see the calls we know are there, or an empty set would "match" anything.
    assert {"ecs:DescribeInstances", "ecs:RenewInstance", "sts:AssumeRole"} <= actions
    return actions


def test_every_document_is_there_and_allows_only() -> None:
    for name in POLICY_FILES:
        for statement in load(name)["Statement"]:
            assert statement["Effect"] == "Allow", f"{name}: only Allow statements (a Deny hides mistakes)"
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{name}: wildcard action {action!r}"


def test_the_function_role_may_call_exactly_what_the_code_calls(code_actions: set[str]) -> None:
    granted = (actions_of(load("function-role-policy.json")) | actions_of(load("function-role-assume-policy.json"))
               | actions_of(load("function-role-fanout-policy.json")) | actions_of(load("billing-read-policy.json")))
    missing, unused = sorted(code_actions - granted), sorted(granted - code_actions)
    assert granted == code_actions, f"missing: {missing}, unused: {unused}"


@pytest.mark.parametrize("name", ["function-role-policy.json", "target-account-role-policy.json"])
def test_ecs_policies_grant_exactly_the_ecs_calls_on_instances_over_https(name: str, code_actions: set[str]) -> None:
    document = load(name)
    assert actions_of(document) == {a for a in code_actions if a.startswith("ecs:")}
    for statement in document["Statement"]:
        resources = as_list(statement["Resource"])
        assert resources and all(INSTANCE_RESOURCE.match(r) for r in resources), f"{name}: {resources}"
        assert statement["Condition"]["Bool"]["acs:SecureTransport"] == "true", "HTTPS only (trap 2)"


def test_assume_role_only_on_named_target_roles(code_actions: set[str]) -> None:
    document = load("function-role-assume-policy.json")
    assert actions_of(document) == {a for a in code_actions if a.startswith("sts:")} == {"sts:AssumeRole"}
    for statement in document["Statement"]:
        resources = as_list(statement["Resource"])
        assert resources and all(ROLE_ARN.match(r) for r in resources), f"not named role ARNs: {resources}"


def test_function_compute_may_assume_the_function_role() -> None:
    (statement,) = load("fc-trust-policy.json")["Statement"]
    assert as_list(statement["Action"]) == ["sts:AssumeRole"]
    assert statement["Principal"] == {"Service": ["fc.aliyuncs.com"]}


def test_target_role_trusts_only_the_function_role(s_yaml: dict[str, Any]) -> None:
    (statement,) = load("target-account-trust-policy.json")["Statement"]
    assert as_list(statement["Action"]) == ["sts:AssumeRole"]
    (principal,) = statement["Principal"]["RAM"]
    assert ROLE_ARN.match(principal)
    # s.yaml's default role name (the access's AccountID: s.yaml names the layer's ARN with it)
    function_role = render(s_yaml, {}, {"AccountID": "1234567890123456"})["vars"]["role"]
    assert principal.endswith(f":role/{function_role}")
    (target,) = as_list(load("function-role-assume-policy.json")["Statement"][0]["Resource"])
    assert target.rsplit("/", 1)[1] in (RAM / "README.md").read_text(encoding="utf-8")


def test_the_reading_of_the_code_follows_lazy_imports_and_module_imports(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "def later():\n"
        "    from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest\n"
        "from aliyunsdkecs.request.v20140526 import StopInstanceRequest\n"
    )
    assert package.api_actions(tmp_path) == {"ecs:DescribeRegions", "ecs:StopInstance"}


def test_fan_out_may_invoke_only_the_three_nightly_functions(s_yaml: dict[str, Any]) -> None:
    (statement,) = load("function-role-fanout-policy.json")["Statement"]
    assert as_list(statement["Action"]) == ["fc:InvokeFunction"]
    names = sorted(resource["props"]["functionName"] for resource in s_yaml["resources"].values()
                   if any(t["triggerType"] == "timer" for t in resource["props"].get("triggers", [])))
    assert len(names) == 3  # approve-renewal never fans out: it is not invoked by the coordinator
    assert sorted(r.rsplit("/", 1)[1] for r in as_list(statement["Resource"])) == names


def test_the_store_may_read_and_write_objects_of_its_bucket_only() -> None:
    """OssStore calls PutObject (also with x-oss-forbid-overwrite) and GetObject (also through a signed URL,
    which is authorised as the signer's GetObject): nothing else, on the one bucket's objects."""
    (statement,) = load("function-role-oss-policy.json")["Statement"]
    assert sorted(as_list(statement["Action"])) == ["oss:GetObject", "oss:PutObject"]
    assert as_list(statement["Resource"]) == ["acs:oss:*:*:APPROVAL_BUCKET/*"]
    source = (ROOT / "shared" / "ecs_renewal" / "approval" / "store.py").read_text(encoding="utf-8")
    assert set(re.findall(r"self\.bucket\.(\w+)\(", source)) == {"get_object", "put_object", "sign_url"}


def test_the_balance_is_read_with_the_action_the_bss_docs_name(code_actions: set[str]) -> None:
    # QueryAccountBalance's RAM action is bss:DescribeAcccount (sic, the current BSS doc); it has no resources.
    (statement,) = load("billing-read-policy.json")["Statement"]
    assert as_list(statement["Action"]) == ["bss:DescribeAcccount"] and as_list(statement["Resource"]) == ["*"]
    assert "bss:DescribeAcccount" in code_actions
