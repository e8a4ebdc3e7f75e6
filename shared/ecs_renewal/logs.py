"""Structured JSON logs: one line per event, with the invocation's request id, never a secret.

Function Compute collects stdout/stderr into the function's log store; one JSON object per line is
what its search understands. Every value passes through :func:`redact` before it is written, so a
secret that reaches a log call by mistake is masked rather than stored.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import urllib.parse
from typing import Any, TextIO

# Values that must never be written: filled in by credentials/notify code as soon as they are known,
# each with the URL-encoded forms it takes in a query string or in a string-to-sign (encoded twice).
# Insertion-ordered, bounded: a warm function instance serves many invocations, each with new STS keys;
# the oldest (long expired) are forgotten first so the per-line check stays cheap.
_SECRETS: dict[str, None] = {}
MAX_SECRETS = 512
# A long secret (a security token) may also appear cut off (a message truncated to N characters): its first
# characters → a pattern that masks them and whatever of the secret follows.
_PREFIXES: dict[str, re.Pattern[str]] = {}
_PREFIX_CHARS = 24
# Full AccessKey ids → their masked form (an id is not a secret, but logs name it only partly).
_KEY_IDS: dict[str, str] = {}

# "=" as it appears raw, URL-encoded once (a query string quoted in a message) or twice (a string-to-sign).
_EQ = r"(?:=|%3D|%253D)"
# A value ends at "&" in any of those encodings, or at whitespace, a quote or a bracket.
_VALUE = r"(?:(?!%26|%2526)[^&\s\"'<>)\]}])+"
_SECRET_PARAMS = r"(?:access_token|sign|Signature|SecurityToken|AccessKeySecret|security_token|access_key_secret)"

# Patterns that look like secrets even when nobody registered them (e.g. a URL quoted in an SDK error,
# or a server echoing its string-to-sign, which holds the SecurityToken, cut off part-way).
_PATTERNS = [
    (re.compile(rf"((?<![A-Za-z]){_SECRET_PARAMS}{_EQ}){_VALUE}"), r"\1***"),
    (re.compile(rf"(\"{_SECRET_PARAMS}\"\s*:\s*\")[^\"]+"), r"\1***"),
]
_KEY_ID_PATTERN = re.compile(rf"((?<![A-Za-z])AccessKeyId{_EQ})({_VALUE})")


def _encoded_forms(value: str) -> set[str]:
    once = urllib.parse.quote(value, safe="")
    return {value, once, urllib.parse.quote(once, safe=""), urllib.parse.quote_plus(value)}


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log line that would contain it shows ``***`` instead."""
    if value and len(value) >= 6:
        forms = _encoded_forms(value)
        _SECRETS.update(dict.fromkeys(forms))
        for form in forms:
            if len(form) >= 2 * _PREFIX_CHARS:
                prefix = form[:_PREFIX_CHARS]
                _PREFIXES.setdefault(prefix, re.compile(re.escape(prefix) + r"[A-Za-z0-9+/=%]*"))
        _forget_oldest(_SECRETS, _PREFIXES)


def _forget_oldest(*registries: dict[str, Any]) -> None:
    for registry in registries:
        while len(registry) > MAX_SECRETS:
            del registry[next(iter(registry))]


def register_key_id(key_id: str | None) -> None:
    """Remember an AccessKey id so that a log line that would name it in full shows it masked."""
    if key_id and len(key_id) >= 6:
        _KEY_IDS[key_id] = mask_key_id(key_id) or "***"
        _forget_oldest(_KEY_IDS)


def mask_key_id(key_id: str | None) -> str | None:
    """An AccessKey id is not a secret, but logs show only enough of it to tell keys apart."""
    if not key_id:
        return key_id
    return key_id[:6] + "***" + key_id[-3:] if len(key_id) > 12 else "***"


def _mask_key_id_match(match: re.Match[str]) -> str:
    value = urllib.parse.unquote(urllib.parse.unquote(match.group(2)))
    if "***" in value:  # already masked
        return match.group(0)
    return match.group(1) + (mask_key_id(value) or "")


# Every pattern above starts with one of these words: a text without any (and without a registered value)
# is returned as it is. Keep in step with _PATTERNS: results of 20,000 instances pass through here.
_PATTERN_WORDS = re.compile(rf"{_SECRET_PARAMS}|AccessKeyId")


def _may_need_redaction(text: str) -> bool:
    if _PATTERN_WORDS.search(text) is not None:
        return True
    # A text shorter than every registered value holds none of them (most values in a result: ids, times).
    return len(text) >= _shortest_registered() and (
        any(s in text for s in _SECRETS) or any(p in text for p in _PREFIXES) or any(k in text for k in _KEY_IDS))


_shortest_cache: tuple[tuple[int, int, int], int] = ((0, 0, 0), 0)


def _shortest_registered() -> int:
    """Length of the shortest registered value, recomputed only when one was added (they are never removed)."""
    global _shortest_cache
    sizes = (len(_SECRETS), len(_PREFIXES), len(_KEY_IDS))
    if _shortest_cache[0] != sizes:
        values = [*_SECRETS, *_PREFIXES, *_KEY_IDS]
        _shortest_cache = (sizes, min(map(len, values)) if values else 1 << 30)
    return _shortest_cache[1]


def redact(text: str) -> str:
    """``text`` without any registered secret, secret-looking parameter value or full AccessKey id."""
    if not _may_need_redaction(text):
        return text
    # Longest first: a secret's encoded form may contain the raw form of a shorter one.
    for secret in sorted((s for s in _SECRETS if s in text), key=len, reverse=True):
        text = text.replace(secret, "***")
    for prefix in [p for p in _PREFIXES if p in text]:
        text = _PREFIXES[prefix].sub("***", text)
    for key_id in [k for k in _KEY_IDS if k in text]:
        text = text.replace(key_id, _KEY_IDS[key_id])
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _KEY_ID_PATTERN.sub(_mask_key_id_match, text)


def redact_value(value: Any) -> Any:
    """A copy of a JSON-like value (a job result) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


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
