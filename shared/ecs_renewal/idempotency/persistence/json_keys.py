"""The logic both one-document key stores share: ``{key: stored_at}`` in one JSON document.

:class:`~.file.FileStore` keeps the document in a file, :class:`~.objects.ObjectKeyStore` in an object of
a shared store; each says only how the bytes are read and written. The document is read once and
written once per batch, under a thread lock; records older than the time-to-live are dropped on read.
A document that cannot be read or written never fails a job: it only means nothing is remembered.
"""

from __future__ import annotations

import json
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable

from .base import KeyStore

DAY_SECONDS = 24 * 3600


class JsonDocumentKeyStore(KeyStore):
    def __init__(self, *, ttl_seconds: float = DAY_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    @abstractmethod
    def _read_document(self) -> bytes | str | None:
        """The stored document, or None when there is none; may raise when it cannot be read."""

    @abstractmethod
    def _write_document(self, document: str) -> bool:
        """Store the document; False (never an exception) when it could not be stored."""

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
            return added if self._write_document(json.dumps(data, sort_keys=True)) else set()

    def _load(self) -> dict[str, float]:
        try:
            raw = self._read_document()
            data = json.loads(raw) if raw else {}
        except Exception:  # noqa: BLE001 - unreadable (missing file, broken JSON, store down): nothing remembered
            return {}
        if not isinstance(data, dict):
            return {}
        now = self._clock()
        return {k: v for k, v in data.items() if isinstance(v, (int, float)) and now - v < self._ttl}
