"""Progress on stderr while a job runs here, made from the job's own JSON log lines.

The jobs log one JSON object per event (:mod:`ecs_renewal.logs`); on Function Compute those lines are
the function's log. On a terminal they would bury the result, so while the command line runs a job it
points the log stream at :class:`ProgressLog`: every line is kept in ``--log-file`` (or dropped), and
the few events a person follows (a region done, a renewal, a retry) become short lines on stderr. The
jobs are not changed at all.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from .. import logs


def _started(r: Mapping[str, Any]) -> str:
    regions = r.get("regions") or []
    mode = " (dry run)" if r.get("dry_run") and r.get("job") != "scan-expiring" else ""
    return f"{r.get('job')}{mode}: {len(regions)} region(s): {', '.join(regions)} ..."


DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "job_started": _started,
    "role_assumed": lambda r: f"  assumed role {r.get('role_arn')}",
    "region_scanned": lambda r: f"  {r.get('region')}: {r.get('expiring')} expiring",
    "region_audited": lambda r: f"  {r.get('region')}: {r.get('instances')} prepaid, {r.get('drift')} drifting",
    "region_failed": lambda r: f"  {r.get('region')}: FAILED {r.get('code')}: {r.get('message')}",
    "api_retry": lambda r: f"  retrying {r.get('action')} in {r.get('region')} ({r.get('code')}), "
                           f"attempt {(r.get('attempt') or 0) + 1}",
    "credentials_expired": lambda r: "  credentials expired: reading them again",
    "would_renew": lambda r: f"  would renew {r.get('instance_id')} ({r.get('region')})",
    "renewed": lambda r: f"  renewed {r.get('instance_id')} ({r.get('region')}): order {r.get('order_id')}",
    "renew_failed": lambda r: f"  FAILED to renew {r.get('instance_id')}: {r.get('code')}",
    "fixed": lambda r: f"  {r.get('region')}: auto-renew set on {r.get('instances')} instance(s)",
    "fix_failed": lambda r: f"  {r.get('region')}: FAILED to set auto-renew: {r.get('code')}",
    "cap_exceeded": lambda r: f"  safety cap: {r.get('candidates')} selected > max_instances "
                              f"{r.get('max_instances')}: renewing nothing",
    "alert_failed": lambda r: f"  DingTalk alert failed: {r.get('error')}",
    "job_finished": lambda r: f"done in {(r.get('duration_ms') or 0) / 1000:.1f} s",
}


def describe(record: Mapping[str, Any]) -> str | None:
    """The progress line for one log record, or None when a person need not see it."""
    render = DESCRIBE.get(str(record.get("event")))
    return render(record) if render else None


class ProgressLog(io.TextIOBase):
    """A text stream for :func:`ecs_renewal.logs.set_stream`: keeps the lines, shows progress."""

    def __init__(self, stderr: TextIO, *, keep: TextIO | None = None, quiet: bool = False) -> None:
        self._stderr = stderr
        self._keep = keep
        self._quiet = quiet
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def flush(self) -> None:
        if self._keep is not None:
            self._keep.flush()
        self._stderr.flush()

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        if self._keep is not None:
            self._keep.write(line + "\n")
        if self._quiet:
            return
        try:
            record = json.loads(line)
        except ValueError:
            return
        message = describe(record) if isinstance(record, dict) else None
        if message:
            self._stderr.write(message + "\n")


@contextlib.contextmanager
def progress_logging(stderr: TextIO, *, log_file: Path | None = None, quiet: bool = False) -> Iterator[None]:
    """Route the job's log lines through :class:`ProgressLog` for the duration of a run."""
    previous = getattr(logs, "_default_stream", None)  # restored afterwards (tests point it elsewhere)
    with contextlib.ExitStack() as stack:
        keep = stack.enter_context(log_file.open("a", encoding="utf-8")) if log_file else None
        logs.set_stream(ProgressLog(stderr, keep=keep, quiet=quiet))
        try:
            yield
        finally:
            logs.set_stream(previous)
