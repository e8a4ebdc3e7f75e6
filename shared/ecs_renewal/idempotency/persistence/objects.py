"""A :class:`KeyStore` in one object of a shared object store (OSS): the reminder ledger that outlives an instance.

The same shape as :class:`~.file.FileStore` — ``{key: stored_at}`` in one JSON object, read once and written
once per batch — but kept where every Function Compute instance sees it, so a digest goes out once a day
even when a replay lands on a new instance. Two runs writing at the same moment: the last write wins
(a reminder may then repeat once; it is never lost). A store that cannot be reached never fails a job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .json_keys import DAY_SECONDS, JsonDocumentKeyStore


class ObjectKeyStore(JsonDocumentKeyStore):
    def __init__(self, objects: Any, key: str, *, ttl_seconds: float = DAY_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        """``objects``: anything with ``get(key) -> bytes | None`` and ``put(key, data)`` (approval/store.py)."""
        super().__init__(ttl_seconds=ttl_seconds, clock=clock)
        self._objects = objects
        self._key = key

    def _read_document(self) -> bytes | None:
        return self._objects.get(self._key)

    def _write_document(self, document: str) -> bool:
        try:
            self._objects.put(self._key, document.encode())
        except Exception:  # noqa: BLE001 - an unreachable store only means a reminder may repeat
            return False
        return True
