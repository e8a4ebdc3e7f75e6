"""No spam: remember which (instance, tier) reminders went out today, across retries of the same run.

Function Compute replays a failed async invocation, and an operator may re-run a scan by hand. The
ledger keeps each reminder's key (:func:`~.keys.reminder_key`) for a day in a :class:`KeyStore` — a
file under ``/tmp`` today (``NOTIFY_STATE_DIR``; see ``persistence/file.py`` for what that covers).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable

from .persistence.base import KeyStore
from .persistence.file import DAY_SECONDS, FileStore

LEDGER_FILE = "notified.json"
_default_directory: str | None = None


def use_default_directory(directory: str | None) -> None:
    """Where a ledger given no folder keeps its file (None: the system's temp folder). The test suite
    points it at a fresh folder per test; a process may point it at a mounted volume."""
    global _default_directory
    _default_directory = directory


def default_directory() -> str:
    return _default_directory or os.path.join(tempfile.gettempdir(), "ecs-renewal")


class NotificationLedger:
    """Which reminder keys were already reported (within a day)."""

    def __init__(self, directory: str | None = None, *, clock: Callable[[], float] = time.time,
                 store: KeyStore | None = None) -> None:
        self.store = store or FileStore(os.path.join(directory or default_directory(), LEDGER_FILE),
                                        ttl_seconds=DAY_SECONDS, clock=clock)

    def unseen(self, keys: Iterable[str]) -> set[str]:
        return self.store.absent(keys)

    def remember(self, keys: Iterable[str]) -> None:
        self.store.put_all_if_absent(keys)
