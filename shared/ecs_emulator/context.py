"""What an action handler gets: the verified caller, the parameters, and the shared state."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ApiError, missing
from .keys import KeyRecord, KeyRegistry
from .state import EmulatorState

_INTEGER = re.compile(r"-?[0-9]{1,18}")


@dataclass
class RpcContext:
    action: str
    version: str
    params: dict[str, str]
    key: KeyRecord
    region: str | None
    state: EmulatorState
    keys: KeyRegistry
    request_id: str
    replayed: bool = False  # set by RenewInstance when it answers from its idempotency store
    permitted: bool = True  # the caller's RAM policies allow this action (DescribeInstances answers [] if not)

    @property
    def account_id(self) -> str:
        return self.key.account_id

    def get(self, name: str) -> str | None:
        """A parameter's value; an empty string counts as not given."""
        value = self.params.get(name)
        return value if value else None

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise missing(name)
        return value

    def get_int(self, name: str, status: int, code: str, default: int | None = None) -> int | None:
        value = self.get(name)
        if value is None:
            return default
        if not _INTEGER.fullmatch(value):
            raise ApiError(status, code, f'The specified parameter "{name}" is not a valid integer: {value!r}.')
        return int(value)
