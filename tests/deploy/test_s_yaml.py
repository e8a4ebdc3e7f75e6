"""s.yaml, checked offline: fc3's schema, handlers, cron expressions, payloads, environment, sizing.

The `s` CLI cannot validate without downloading the fc3 component (reference trap 10), so this renders
the magic variables itself (``serverless_yaml.py``) and validates each function's props against fc3's
own JSON schema (vendored: ``tests/deploy/schemas/fc3-function-props.schema.json``, Draft 7, MIT).
"""

from __future__ import annotations

import ast
import json
import re
from datetime import date
from typing import Any

import jsonschema
import pytest

from ecs_renewal.runtime import TIMEOUT_MARGIN_SECONDS
from ecs_renewal.settings import build_settings
from scripts import package
from tests.deploy.conftest import ALL_FUNCTIONS, APPROVE_FUNCTION, CONTRACT, FUNCTIONS, ROOT, SCHEMAS, vendored_file
from tests.deploy.serverless_yaml import UnresolvedVariable, parse_cron, render

NO_USER_ENVIRONMENT: dict[str, str] = {}  # every ${env()} must have a default: a fresh machine deploys
CONFIG = {"AccountID": "1234567890123456", "AccessKeyID": "placeholder", "AccessKeySecret": "placeholder"}
ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # FC: starts with a letter; letters, digits, "_"
MAX_ENVIRONMENT_BYTES = 4096  # FC's limit on a function's environment variables, all together
# Variables Function Compute sets itself (the role's credentials): never configured in s.yaml.
SET_BY_FUNCTION_COMPUTE = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                           "ALIBABA_CLOUD_SECURITY_TOKEN")
TRIGGER_TIME = "2026-01-15T17:00:00Z"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(vendored_file(SCHEMAS / "fc3-function-props.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rendered(s_yaml: dict[str, Any]) -> dict[str, Any]:
    return render(s_yaml, NO_USER_ENVIRONMENT, CONFIG)


def props_of(document: dict[str, Any], function: str) -> dict[str, Any]:
    return document["resources"][function]["props"]


def timer_of(props: dict[str, Any]) -> dict[str, Any]:
    timers = [t for t in props.get("triggers", []) if t["triggerType"] == "timer"]
    assert len(timers) == 1, f"{props['functionName']}: expected exactly one timer trigger, found {len(timers)}"
    return timers[0]


def contract_environment_names() -> set[str]:
    text = vendored_file(CONTRACT).read_text(encoding="utf-8")
    return set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", text)) - set(SET_BY_FUNCTION_COMPUTE)


# --- structure and schema ------------------------------------------------------------------------------


def test_four_fc3_functions_named_like_their_resources(s_yaml: dict[str, Any]) -> None:
    assert str(s_yaml["edition"]) == "3.0.0"
    assert tuple(s_yaml["resources"]) == ALL_FUNCTIONS
    for name, resource in s_yaml["resources"].items():
        assert resource["component"] == "fc3"
        assert resource["props"]["functionName"] == name


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_props_validate_against_the_fc3_schema(rendered: dict[str, Any], schema: dict[str, Any], function: str) -> None:
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(props_of(rendered, function)), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path)) or '(props)'}: {e.message}" for e in errors)


def test_the_schema_check_bites(rendered: dict[str, Any], schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(schema)
    for broken in ({"runtime": "python3.11"}, {"memorySize": 100}, {"timeout": "300"}, {"handler": None}):
        props = {**props_of(rendered, "renew-batch"), **broken}
        assert list(validator.iter_errors(props)), f"the schema accepted {broken}"


def test_every_variable_renders_on_a_fresh_machine(s_yaml: dict[str, Any]) -> None:
    text = json.dumps(render(s_yaml, NO_USER_ENVIRONMENT, CONFIG))
    assert "${" not in text
    with pytest.raises(UnresolvedVariable):
        render({"vars": {}, "x": "${env('NOT_SET_ANYWHERE')}"}, NO_USER_ENVIRONMENT, CONFIG)


def test_user_settings_come_from_the_environment(s_yaml: dict[str, Any]) -> None:
    mine = render(s_yaml, {"REGIONS": "cn-beijing", "DRY_RUN": "false", "ECS_RENEWAL_ROLE": "my-role"}, CONFIG)
    for function in ALL_FUNCTIONS:
        props = props_of(mine, function)
        assert props["environmentVariables"]["REGIONS"] == "cn-beijing"
        assert props["environmentVariables"]["DRY_RUN"] == "false"
        assert props["role"] == "my-role"
        assert props_of(s_yaml, function)["role"] == "${vars.role}"  # the role is one variable, set once


# --- code and runtime ----------------------------------------------------------------------------------


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_handler_resolves_to_the_packaged_entry_point(rendered: dict[str, Any], function: str) -> None:
    props = props_of(rendered, function)
    module, _, name = props["handler"].partition(".")
    # `code` is what scripts/package.py builds; the handler file in it is copied from functions/<name>/.
    assert (ROOT / props["code"]).resolve() == (ROOT / "build" / function).resolve()
    source = ROOT / "functions" / function / f"{module}.py"
    assert source.is_file(), f"{props['handler']}: {source} does not exist"
    defined = {node.name for node in ast.parse(source.read_text()).body if isinstance(node, ast.FunctionDef)}
    assert name in defined, f"{source} defines no function {name!r}"


def test_runtime_is_the_python_the_packages_are_built_for(rendered: dict[str, Any]) -> None:
    runtimes = {props_of(rendered, f)["runtime"] for f in ALL_FUNCTIONS}
    assert runtimes == {f"python{package.TARGET_PYTHON}"}
    major, minor = map(int, package.TARGET_PYTHON.split("."))
    assert (major, minor) >= (3, 10), "the code needs Python 3.10+"


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_sizing_and_logging_are_explicit(s_yaml: dict[str, Any], function: str) -> None:
    props = props_of(s_yaml, function)
    assert isinstance(props["memorySize"], int) and isinstance(props["timeout"], int)
    # The run stops starting retries TIMEOUT_MARGIN_SECONDS before the timeout: the timeout must leave room.
    assert props["timeout"] > 4 * TIMEOUT_MARGIN_SECONDS
    assert props["logConfig"]
    retries = props["asyncInvokeConfig"]["maxAsyncRetryAttempts"]
    assert isinstance(retries, int) and 0 <= retries <= 8, "set the async retry count deliberately (0..8)"


# --- environment ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_environment_names_every_setting_of_the_contract(rendered: dict[str, Any], function: str) -> None:
    environment = props_of(rendered, function)["environmentVariables"]
    assert contract_environment_names() <= set(environment), "a setting of docs/contract.md is not configurable"
    assert all(isinstance(value, str) for value in environment.values())
    assert all(ENV_NAME.match(name) and not name.startswith("FC_") for name in environment)
    # A static key in the environment would make the SDK drop the STS token (reference trap 3).
    assert not {"ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", *SET_BY_FUNCTION_COMPUTE} & set(environment)
    size = sum(len(name) + len(value) for name, value in environment.items())
    assert size <= MAX_ENVIRONMENT_BYTES - 1024, f"{size} bytes leaves too little of FC's 4 KB for long values"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_default_environment_is_a_valid_dry_run(rendered: dict[str, Any], function: str) -> None:
    environment = props_of(rendered, function)["environmentVariables"]
    settings = build_settings(function, b"", environment)
    assert settings.dry_run is True, "dry run must be the default until an operator turns it off"
    assert settings.ecs_endpoint is None and settings.sts_endpoint is None  # the real, HTTPS endpoints


# --- the approval function's HTTP trigger --------------------------------------------------------------


def test_approve_renewal_has_one_http_trigger_and_no_timer(rendered: dict[str, Any], schema: dict[str, Any]) -> None:
    props = props_of(rendered, APPROVE_FUNCTION)
    (trigger,) = props["triggers"]
    assert trigger["triggerType"] == "http"
    config = trigger["triggerConfig"]
    # DingTalk's buttons and its robot cannot sign FC's way: the code authenticates every request itself.
    assert config["authType"] == "anonymous" and set(config["methods"]) == {"GET", "POST"}
    assert props["asyncInvokeConfig"]["maxAsyncRetryAttempts"] == 0  # synchronous: never replayed
    broken = {**props, "triggers": [{**trigger, "triggerType": "https"}]}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken)), "the schema accepted triggerType 'https'"


def test_approval_settings_reach_every_function(rendered: dict[str, Any]) -> None:
    for function in ALL_FUNCTIONS:
        environment = props_of(rendered, function)["environmentVariables"]
        assert environment["APPROVAL"] == "off"  # approval is opt-in; dry run stays the default either way
        assert {"APPROVAL_SECRET", "APPROVAL_TTL", "APPROVAL_URL", "APPROVAL_BUCKET", "OSS_ENDPOINT",
                "DINGTALK_APP_SECRET", "APPROVERS", "APPROVALS_NEEDED"} <= set(environment)


# --- timers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_timer_cron_is_well_formed_and_states_its_zone(rendered: dict[str, Any], function: str) -> None:
    timer = timer_of(props_of(rendered, function))
    assert timer["triggerConfig"]["enable"] is True
    expression = timer["triggerConfig"]["cronExpression"]
    cron = parse_cron(expression)
    assert expression.startswith("CRON_TZ="), "state the time zone: without CRON_TZ the cron runs in UTC"
    assert cron.daily_time() is not None, f"{expression!r} is not a nightly run at a fixed time"


def test_timers_are_staggered_scan_renew_audit(rendered: dict[str, Any]) -> None:
    night = date(2026, 1, 15)
    starts = [parse_cron(timer_of(props_of(rendered, f))["triggerConfig"]["cronExpression"]).fires_at_utc(night)
              for f in FUNCTIONS]
    assert starts == sorted(starts) and len(set(starts)) == 3, f"not scan < renew < audit: {starts}"
    for (earlier, start), later_start in zip(zip(FUNCTIONS, starts, strict=True), starts[1:], strict=False):
        timeout = props_of(rendered, earlier)["timeout"]
        assert (later_start - start).total_seconds() >= timeout, f"{earlier} may still run when the next starts"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_timer_payload_is_a_valid_event(rendered: dict[str, Any], function: str) -> None:
    props = props_of(rendered, function)
    timer = timer_of(props)
    payload = timer["triggerConfig"]["payload"]
    assert isinstance(payload, str)
    # What FC delivers: the trigger's envelope with the payload as a string; parsed by the project's parser.
    event = {"triggerTime": TRIGGER_TIME, "triggerName": timer["triggerName"], "payload": payload}
    settings = build_settings(function, json.dumps(event).encode(), props["environmentVariables"])
    assert settings.ignored_keys == (), f"{timer['triggerName']} sends keys {function} does not read"
    # DRY_RUN (vars.dryRun) is the one switch: a payload that set dry_run would silently override it.
    assert "dry_run" not in json.loads(payload)


# --- the checks themselves -----------------------------------------------------------------------------


@pytest.mark.parametrize("expression", [
    "0 0 1 * *", "CRON_TZ=Mars/Olympus 0 0 1 * * *", "0 60 1 * * *", "0 0 24 * * *", "0 0 1 ? * ?",
    "0 0 1 * * 8", "0 0 5-1 * * *", "@every 0m", "@every", "0 0 1 * * * *", "? 0 1 * * *",
])
def test_bad_cron_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(expression)


@pytest.mark.parametrize("expression", [
    "0 0 4 * * *", "CRON_TZ=Asia/Shanghai 0 30 1 * * ?", "0 */15 * * * *", "0 0 9 ? * MON-FRI",
    "0 0 2 1,15 JAN-DEC ?", "@every 4m", "@every 2h", "@every 1h30m",
])
def test_good_cron_expressions_are_accepted(expression: str) -> None:
    parse_cron(expression)
# --- never silent (issue 14) ----------------------------------------------------------------------------

MNS_TOPIC = re.compile(r"^acs:mns:[a-z0-9-]+:\d+:/topics/(?P<topic>[A-Za-z0-9-]{1,256})/messages$")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_crash_or_timeout_after_the_last_replay_goes_to_a_topic_a_user_can_subscribe_to(
    rendered: dict[str, Any], schema: dict[str, Any], function: str
) -> None:
    props = props_of(rendered, function)
    destination = props["asyncInvokeConfig"]["destinationConfig"]["onFailure"]["destination"]
    match = MNS_TOPIC.match(destination)
    assert match, f"{function}: onFailure is not an MNS topic ARN: {destination}"
    jsonschema.validate(props, schema)  # the destination's shape is fc3's own
    # The role may publish to exactly that topic (the policy's default name is s.yaml's default name).
    policy = json.loads((ROOT / "ram" / "function-role-destination-policy.json").read_text(encoding="utf-8"))
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["mns:PublishMessage"]
    assert [r.rsplit("/topics/", 1)[1] for r in statement["Resource"]] == [f"{match['topic']}/messages"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "ECS_RENEWAL_FAILURE_TOPIC" in readme and "Subscribe" in readme  # how to hear it is documented
