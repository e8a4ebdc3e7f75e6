"""A :class:`KeyStore` in one JSON file (``{key: stored_at}``), replaced atomically on every write.

Today's store: a Function Compute instance keeps its ``/tmp`` while it stays warm, which covers the
replays that follow a failure within minutes. Limits: a replay that lands on a *new* instance sees an
empty ``/tmp``; two processes writing at once may each add their keys and one file wins (a thread lock
covers one process). Exactly-once across instances needs a shared store (OSS/Tablestore) behind
:class:`~.base.KeyStore`. A read-only folder never fails a job: it only means nothing is remembered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .base import KeyStore

DAY_SECONDS = 24 * 3600


class FileStore(KeyStore):
    def __init__(self, path: str | Path, *, ttl_seconds: float = DAY_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> float | None:
        return self._load().get(key)

    def put_if_absent(self, key: str, stored_at: float | None = None) -> bool:
        return key in self._put(iter((key,)), stored_at)

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
            return added if self._write(data) else set()

    def _load(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        now = self._clock()
        return {k: v for k, v in data.items() if isinstance(v, (int, float)) and now - v < self._ttl}

    def _write(self, data: dict[str, float]) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self.path)  # atomic: a crash never leaves half a file
        except OSError:
            return False  # a read-only /tmp only means reminders may repeat; never fail a job for it
        return True
