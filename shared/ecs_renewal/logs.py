"""Structured JSON logs: one line per event, with the invocation's request id, never a secret.

Function Compute collects stdout/stderr into the function's log store; one JSON object per line is
what its search understands. Every line passes through :func:`ecs_renewal.redaction.redact` before it
is written, so a secret that reaches a log call by mistake is masked rather than stored.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

from . import redaction
from .redaction import MAX_SECRETS, mask_key_id, redact, redact_value, register_key_id, register_secret

# The secret registry and redact() live in redaction.py (their owner); these names stay importable here.
__all__ = ["MAX_SECRETS", "JsonLogger", "get_logger", "mask_key_id", "redact", "redact_value", "register_key_id",
           "register_secret", "set_stream"]


class JsonLogger:
    """A tiny structured logger: ``log.info("renewed", instance_id=..., order_id=...)``."""

    def __init__(self, stream: TextIO | None = None, **context: Any) -> None:
        self._stream = stream
        self.context: dict[str, Any] = dict(context)

    def bind(self, **context: Any) -> JsonLogger:
        """A logger that adds these fields to every line (e.g. the job name or the request id)."""
        return JsonLogger(self._stream, **{**self.context, **context})

    def _write(self, level: str, event: str, fields: dict[str, Any]) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level, "event": event}
        record.update(self.context)
        record.update(fields)
        line = redact(json.dumps(record, ensure_ascii=False, default=str))
        redaction.leaving("log", line)
        stream = self._stream or _default_stream or sys.stdout
        with _write_lock:  # jobs log from several threads: one whole line at a time
            stream.write(line + "\n")
            stream.flush()

    def debug(self, event: str, **fields: Any) -> None:
        if self.context.get("debug"):
            self._write("DEBUG", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._write("INFO", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._write("WARNING", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._write("ERROR", event, fields)


_write_lock = threading.Lock()
_root = JsonLogger()
_default_stream: TextIO | None = None


def get_logger(**context: Any) -> JsonLogger:
    return _root.bind(**context) if context else _root


def set_stream(stream: TextIO | None) -> None:
    """Where log lines go (stdout by default); the demo and tests point it elsewhere."""
    global _default_stream
    _default_stream = stream
