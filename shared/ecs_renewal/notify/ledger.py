"""No spam: remember which (instance, tier) reminders went out today, across retries of the same run.

Function Compute replays a failed async invocation, and an operator may re-run a scan by hand. A small
JSON file under ``/tmp`` (``NOTIFY_STATE_DIR``) remembers what was already reported: a function instance
keeps its ``/tmp`` while it stays warm, which covers the replays that follow a failure within minutes.
Limit: a replay that lands on a *new* function instance has an empty ``/tmp`` and may repeat a digest
once; exactly-once notification would need shared storage (OSS/Tablestore), which this project does
not require. Entries older than a day are dropped.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

DAY_SECONDS = 24 * 3600


class NotificationLedger:
    def __init__(self, directory: str | None = None, *, clock=time.time) -> None:
        base = directory or os.environ.get("NOTIFY_STATE_DIR") or os.path.join(tempfile.gettempdir(), "ecs-renewal")
        self._path = Path(base) / "notified.json"
        self._clock = clock

    def _load(self) -> dict[str, float]:
        try:
            data = json.loads(self._path.read_text())
        except (OSError, ValueError):
            return {}
        now = self._clock()
        return {k: v for k, v in data.items() if isinstance(v, (int, float)) and now - v < DAY_SECONDS}

    def unseen(self, keys: Iterable[str]) -> set[str]:
        seen = self._load()
        return {key for key in keys if key not in seen}

    def remember(self, keys: Iterable[str]) -> None:
        data = self._load()
        now = self._clock()
        data.update(dict.fromkeys(keys, now))
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self._path)  # atomic: a crash never leaves half a file
        except OSError:
            pass  # a read-only /tmp only means reminders may repeat; never fail a job for it


def reminder_key(instance_id: str, tier: int | None, local_day: str) -> str:
    return f"{instance_id}|{tier}|{local_day}"
