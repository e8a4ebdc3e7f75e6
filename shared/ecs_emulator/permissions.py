"""RAM: what an emulated credential may do, from the RAM policy documents it carries.

Sources: the RAM policy grammar (``Statement`` of ``Effect`` Allow/Deny and ``Action``, ``*`` wildcards,
case-insensitive action names, an explicit Deny wins); DescribeInstances doc: "If a RAM user or role without
permission calls DescribeInstances, an empty list is returned"; other ECS actions answer 403 ``Forbidden.RAM``
"User not authorized to operate on the specified resource, or this API doesn't support RAM." (as real ECS
answers, e.g. aliyun/packer-provider#34); STS AssumeRole without ``sts:AssumeRole`` answers 403 ``NoPermission``
(sts reference, exact text unverified).

Not evaluated (documented as looser): ``Resource`` (the project's documents name ``instance/*`` or one role) and
``Condition`` (``acs:SecureTransport`` cannot hold over the emulator's plain HTTP).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The project's own documents: the emulator lives in the same repository (repo/shared/ecs_emulator).
RAM_DIR = Path(__file__).resolve().parents[2] / "ram"
FUNCTION_ROLE_DOCUMENTS = (
    "function-role-policy.json",  # one account: the ECS actions
    "function-role-assume-policy.json",  # several accounts: sts:AssumeRole on the target role
    "function-role-fanout-policy.json",  # fan-out: fc:InvokeFunction
    "billing-read-policy.json",  # the funds forecast: bss:DescribeAcccount (QueryAccountBalance)
)
TARGET_ROLE_DOCUMENTS = ("target-account-role-policy.json", "billing-read-policy.json")
ADMINISTRATOR = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# Actions every caller may call (GetCallerIdentity needs no permission).
UNCHECKED = frozenset({"sts:getcalleridentity"})

FORBIDDEN_RAM_MESSAGE = "User not authorized to operate on the specified resource, or this API doesn't support RAM."


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...]  # lower-cased patterns

    def matches(self, action: str) -> bool:
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.actions)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    name: str = "inline"

    @classmethod
    def parse(cls, document: Mapping | str, name: str = "inline") -> Policy:
        data = json.loads(document) if isinstance(document, str) else document
        raw = data.get("Statement") if isinstance(data, Mapping) else None
        if not isinstance(raw, list):
            raise ValueError(f"policy {name!r}: Statement must be a list")
        statements = []
        for entry in raw:
            effect = entry.get("Effect")
            actions = entry.get("Action")
            if effect not in ("Allow", "Deny"):
                raise ValueError(f"policy {name!r}: Effect must be Allow or Deny, not {effect!r}")
            if isinstance(actions, str):
                actions = [actions]
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                raise ValueError(f"policy {name!r}: Action must be a string or a list of strings")
            statements.append(Statement(effect, tuple(a.lower() for a in actions)))
        return cls(tuple(statements), name)

    @classmethod
    def from_file(cls, path: Path) -> Policy:
        return cls.parse(path.read_text(encoding="utf-8"), path.name)


def project_policies(names: Iterable[str]) -> tuple[Policy, ...]:
    return tuple(Policy.from_file(RAM_DIR / name) for name in names)


def as_policies(documents: Mapping | str | Policy | Iterable[Mapping | str | Policy]) -> tuple[Policy, ...]:
    if isinstance(documents, (Mapping, str, Policy)):
        documents = [documents]
    return tuple(d if isinstance(d, Policy) else Policy.parse(d) for d in documents)


@functools.lru_cache(maxsize=256)
def session_policy(document: str) -> tuple[Policy, ...]:
    """AssumeRole's ``Policy`` (validated by STS already), parsed once."""
    return (Policy.parse(document, "session"),)


def allowed(policies: Iterable[Policy], action: str) -> bool:
    """``action`` is ``service:Name``. Allowed = some Allow matches and no Deny does."""
    action = action.lower()
    if action in UNCHECKED:
        return True
    verdict = False
    for policy in policies:
        for statement in policy.statements:
            if statement.matches(action):
                if statement.effect == "Deny":
                    return False
                verdict = True
    return verdict


class Permissions:
    """``emu.permissions``: policies by principal (role ARN, or ``user:<access key id>`` for static keys)."""

    def __init__(self, enforced: bool = True) -> None:
        self._lock = threading.Lock()
        self.enforced = enforced
        self._by_principal: dict[str, tuple[Policy, ...]] = {}
        self._target_role_default: tuple[Policy, ...] | None = None

    def target_role_default(self) -> tuple[Policy, ...]:
        if self._target_role_default is None:
            self._target_role_default = project_policies(TARGET_ROLE_DOCUMENTS)
        return self._target_role_default

    def attach(self, principal: str, policies: Iterable[Policy]) -> None:
        with self._lock:
            self._by_principal[principal] = tuple(policies)

    def policies(self, principal: str) -> tuple[Policy, ...]:
        with self._lock:
            return self._by_principal.get(principal, ())

    def allows(self, principal: str, action: str, session: str | None = None) -> bool:
        """The principal's policies allow it and, for a session given a ``Policy``, that policy does too."""
        if not self.enforced:
            return True
        if session is not None and not allowed(session_policy(session), action):
            return False
        return allowed(self.policies(principal), action)
