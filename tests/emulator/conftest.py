"""Fixtures for the emulator's own tests: every call goes through the real Alibaba Cloud SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emu_sdk import Sdk

from ecs_emulator import Emulator
from ecs_emulator.permissions import FUNCTION_ROLE_DOCUMENTS, project_policies

# The emulator's own tests call actions the product never calls (so ram/ does not grant them): DescribeRegions
# as a protocol ping, the tag APIs, BSS QueryAccountBalance (bss:DescribeAcccount). They give the function role
# those on top of the project's documents.
EMULATOR_TEST_ACTIONS = ["ecs:DescribeRegions", "ecs:TagResources", "ecs:UntagResources", "ecs:ListTagResources",
                         "bss:DescribeAcccount"]  # fmt: skip
PING_POLICY = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": EMULATOR_TEST_ACTIONS, "Resource": "*"}]}
TEST_FUNCTION_ROLE_POLICY = [*project_policies(FUNCTION_ROLE_DOCUMENTS), PING_POLICY]


@pytest.fixture(autouse=True)
def _clean_sdk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Static keys in the environment would silently replace the STS credential (sdk-core.md section 1).
    for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(renew_visibility_delay=0.3, function_role_policy=TEST_FUNCTION_ROLE_POLICY) as emulator:
        yield emulator


@pytest.fixture
def sdk(emu: Emulator) -> Sdk:
    return Sdk(emu)
