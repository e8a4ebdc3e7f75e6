"""Structured JSON logs: one line per event, with the invocation's request id, never a secret.

Function Compute collects stdout/stderr into the function's log store; one JSON object per line is
what its search understands. Every value passes through :func:`redact` before it is written, so a
secret that reaches a log call by mistake is masked rather than stored.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any, TextIO

# Values that must never be written: filled in by credentials/notify code as soon as they are known.
_SECRETS: set[str] = set()

# Patterns that look like secrets even when nobody registered them.
_PATTERNS = [
    (re.compile(r"(access_token=)[^&\s\"']+"), r"\1***"),
    (re.compile(r"((?:sign|Signature|SecurityToken|AccessKeySecret)=)[^&\s\"']+"), r"\1***"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log line that would contain it shows ``***`` instead."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def mask_key_id(key_id: str | None) -> str | None:
    """An AccessKey id is not a secret, but logs show only enough of it to tell keys apart."""
    if not key_id:
        return key_id
    return key_id[:6] + "***" + key_id[-3:] if len(key_id) > 12 else "***"


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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
        stream = self._stream or _default_stream or sys.stdout
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


_root = JsonLogger()
_default_stream: TextIO | None = None


def get_logger(**context: Any) -> JsonLogger:
    return _root.bind(**context) if context else _root


def set_stream(stream: TextIO | None) -> None:
    """Where log lines go (stdout by default); the demo and tests point it elsewhere."""
    global _default_stream
    _default_stream = stream
