"""A :class:`KeyStore` in one object of a shared object store (OSS): the reminder ledger that outlives an instance.

The same shape as :class:`~.file.FileStore` — ``{key: stored_at}`` in one JSON object, read once and written
once per batch — but kept where every Function Compute instance sees it, so a digest goes out once a day
even when a replay lands on a new instance. Two runs writing at the same moment: the last write wins
(a reminder may then repeat once; it is never lost). A store that cannot be reached never fails a job.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .base import KeyStore
from .file import DAY_SECONDS


class ObjectKeyStore(KeyStore):
    def __init__(self, objects: Any, key: str, *, ttl_seconds: float = DAY_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        """``objects``: anything with ``get(key) -> bytes | None`` and ``put(key, data)`` (approval/store.py)."""
        self._objects = objects
        self._key = key
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> float | None:
        return self._load().get(key)

    def put_if_absent(self, key: str, stored_at: float | None = None) -> bool:
        return key in self._put((key,), stored_at)

    def absent(self, keys: Iterable[str]) -> set[str]:
        stored = self._load()
        return {key for key in keys if key not in stored}

    def put_all_if_absent(self, keys: Iterable[str]) -> set[str]:
        return self._put(keys, None)

    def _put(self, keys: Iterable[str], stored_at: float | None) -> set[str]:
        with self._lock:
            data = self._load()
            added = {key for key in keys if key not in data}
            data.update(dict.fromkeys(added, self._clock() if stored_at is None else stored_at))
            try:
                self._objects.put(self._key, json.dumps(data, sort_keys=True).encode())
            except Exception:  # noqa: BLE001 - an unreachable store only means a reminder may repeat
                return set()
            return added

    def _load(self) -> dict[str, float]:
        try:
            raw = self._objects.get(self._key)
            data = json.loads(raw) if raw else {}
        except Exception:  # noqa: BLE001 - unreadable: nothing remembered, never a failed job
            return {}
        if not isinstance(data, dict):
            return {}
        now = self._clock()
        return {k: v for k, v in data.items() if isinstance(v, (int, float)) and now - v < self._ttl}
