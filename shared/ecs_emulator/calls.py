"""The call log: one record per RPC request, accepted or rejected."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CallRecord:
    action: str
    version: str
    region: str | None
    params: dict[str, str]  # everything received except Signature
    access_key_id: str | None
    had_security_token: bool
    role_arn: str | None  # set when the key is an STS session of a role
    http_status: int  # 0 = the connection was closed without an answer
    code: str | None  # error code, None on success
    applied: bool  # the action was carried out (state changed / data returned)
    at: float  # time.time() when the request arrived
    request_id: str = ""
    account_id: str | None = None
    replayed: bool = False  # RenewInstance answered from the idempotency store, nothing renewed
    fault: str | None = None  # kind of the injected fault that shaped this answer
    method: str = "POST"
    duration: float = 0.0  # seconds spent answering
    notes: dict = field(default_factory=dict)


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def append(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def counts_by_action(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(record.action for record in self._records))
