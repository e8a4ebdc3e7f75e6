"""A :class:`KeyStore` in one JSON file (``{key: stored_at}``), replaced atomically on every write.

Today's store: a Function Compute instance keeps its ``/tmp`` while it stays warm, which covers the
replays that follow a failure within minutes. Limits: a replay that lands on a *new* instance sees an
empty ``/tmp``; two processes writing at once may each add their keys and one file wins (a thread lock
covers one process). Exactly-once across instances needs a shared store (OSS/Tablestore) behind
:class:`~.base.KeyStore`. A read-only folder never fails a job: it only means nothing is remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .json_keys import DAY_SECONDS, JsonDocumentKeyStore

__all__ = ["DAY_SECONDS", "FileStore"]


class FileStore(JsonDocumentKeyStore):
    def __init__(self, path: str | Path, *, ttl_seconds: float = DAY_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(ttl_seconds=ttl_seconds, clock=clock)
        self.path = Path(path)

    def _read_document(self) -> str | None:
        return self.path.read_text() if self.path.exists() else None

    def _write_document(self, document: str) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(document)
            tmp.replace(self.path)  # atomic: a crash never leaves half a file
        except OSError:
            return False  # a read-only /tmp only means reminders may repeat; never fail a job for it
        return True
