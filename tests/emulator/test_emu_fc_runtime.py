"""The emulator's Function Compute hands each run a context shaped like its runtime's (``ecs_emulator/fc.py``).

python3.12 (what s.yaml deploys, the default): no ``context.credentials``, no ``service``; the role's STS
credentials are in the function's environment, read afresh for every run. python3.9/3.10 (a knob, or
s.yaml's ``runtime``): the credentials are on the context too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ecs_emulator import Emulator
from tests.emulator.fc3_wire import sdk_request, send

ROOT = Path(__file__).resolve().parents[2]
ROLE_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
PROBE = '''
import os

def handler(event, context):
    creds = getattr(context, "credentials", None)
    return {
        "context_credentials": getattr(creds, "access_key_id", None),
        "has_service": hasattr(context, "service"),
        "function": [context.function.name, context.function.timeout, getattr(context.function, "qualifier", None)],
        "env": [os.environ.get(name) for name in ROLE_VARIABLES],
    }
'''.replace("ROLE_VARIABLES", repr(ROLE_VARIABLES))


@pytest.fixture
def probe(emu: Emulator, tmp_path: Path) -> str:
    """A function that reports what it was given, in place of the project's three."""
    for name in ("probe", "scan-expiring"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.py").write_text(PROBE, encoding="utf-8")
    emu.fc.functions_dir = tmp_path
    return "probe"


def run(emu: Emulator, function: str) -> dict:
    answer = send(emu, sdk_request(emu, function))
    assert answer.status == 200, answer.body
    return json.loads(answer.body)


def keys(creds) -> list[str]:
    return [creds.access_key_id, creds.access_key_secret, creds.security_token]


def test_python312_by_default_credentials_only_in_the_environment(emu: Emulator, probe: str) -> None:
    seen = run(emu, probe)
    assert seen["context_credentials"] is None and seen["has_service"] is False
    assert seen["function"] == ["probe", 900, "LATEST"]
    assert seen["env"] == keys(emu.function_credentials)


def test_python310_is_a_knob_and_puts_the_credentials_on_the_context_too(emu: Emulator, probe: str) -> None:
    emu.fc.runtime = "python3.10"
    seen = run(emu, probe)
    assert seen["context_credentials"] == emu.function_credentials.access_key_id and seen["has_service"] is True
    assert seen["env"] == keys(emu.function_credentials)
    emu.fc.runtime = "python3.12"
    emu.fc.configure(probe, runtime="python3.10")  # per function, as its s.yaml props would
    assert run(emu, probe)["context_credentials"] == emu.function_credentials.access_key_id


def test_the_runtime_comes_from_s_yaml(emu: Emulator, probe: str) -> None:
    resources = yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))["resources"]
    emu.fc.configure_from_s_yaml(resources)
    assert {emu.fc.config_for(r["props"]["functionName"]).runtime for r in resources.values()} == {"python3.12"}
    assert run(emu, "scan-expiring")["context_credentials"] is None
    emu.fc.configure_from_s_yaml({"old": {"props": {"functionName": probe, "runtime": "python3.10", "timeout": 60}}})
    assert run(emu, probe)["context_credentials"] == emu.function_credentials.access_key_id


def test_each_run_gets_the_current_role_credentials(emu: Emulator, probe: str) -> None:
    """FC refreshes a warm instance's credentials between invocations: the emulator reads them per run."""
    first = run(emu, probe)["env"]
    emu.function_credentials = emu.issue_sts_credentials()
    second = run(emu, probe)["env"]
    assert first != second and second == keys(emu.function_credentials)
