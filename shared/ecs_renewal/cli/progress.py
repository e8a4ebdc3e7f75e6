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


class _Fields(dict):
    """A log record for ``str.format_map``: a field the record lacks shows as None, as ``r.get`` would."""

    def __missing__(self, key: str) -> None:
        return None


# The events a person follows, as templates over the record's fields ...
TEMPLATES: dict[str, str] = {
    "role_assumed": "  assumed role {role_arn}",
    "region_scanned": "  {region}: {expiring} expiring",
    "region_audited": "  {region}: {instances} prepaid, {drift} drifting",
    "region_failed": "  {region}: FAILED {code}: {message}",
    "credentials_expired": "  credentials expired: reading them again",
    "would_renew": "  would renew {instance_id} ({region})",
    "renewed": "  renewed {instance_id} ({region}): order {order_id}",
    "renew_failed": "  FAILED to renew {instance_id}: {code}",
    "fixed": "  {region}: auto-renew set on {instances} instance(s)",
    "fix_failed": "  {region}: FAILED to set auto-renew: {code}",
    "cap_exceeded": "  safety cap: {candidates} selected > max_instances {max_instances}: renewing nothing",
    "alert_failed": "  DingTalk alert failed: {error}",
    "funds_short": "  low funds: {due} due in {horizon_days} days > {spendable} {currency} available: renewing nothing",
    "funds_unknown": "  balance unreadable ({code}): no funds forecast",
    "configuration_error": "  configuration error: {key} {problem}",
}
# ... and the few that compute something.
DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "job_started": _started,
    "api_retry": lambda r: f"  retrying {r.get('action')} in {r.get('region')} ({r.get('code')}), "
                           f"attempt {(r.get('attempt') or 0) + 1}",
    "job_finished": lambda r: f"done in {(r.get('duration_ms') or 0) / 1000:.1f} s",
}


def describe(record: Mapping[str, Any]) -> str | None:
    """The progress line for one log record, or None when a person need not see it."""
    event = str(record.get("event"))
    if event in TEMPLATES:
        return TEMPLATES[event].format_map(_Fields(record))
    render = DESCRIBE.get(event)
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
