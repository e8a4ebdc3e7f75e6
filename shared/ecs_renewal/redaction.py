"""Secrets never leave the process: the registry of values that must never be written, and :func:`redact`.

Owner of every text that leaves: log lines (``logs.py``), results (``runtime.py``), DingTalk messages
and exception messages pass through :func:`redact` (or :func:`redact_value`) before they are written.
Credentials and notify code register each secret as soon as it is known (:func:`register_secret`),
with the URL-encoded forms it takes in a query string or in a string-to-sign (encoded twice).

Bounded: a warm function instance serves many invocations, each with new STS keys; the oldest (long
expired) are forgotten first so the per-line check stays cheap. Whatever leaves is also shown to the
observers registered with :func:`observe_output` (the test suite's secret guard uses it).
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

MAX_SECRETS = 512
# A long secret (a security token) may also appear cut off (a message truncated to N characters): its first
# characters → a pattern that masks them and whatever of the secret follows.
_PREFIX_CHARS = 24
_MIN_SECRET_CHARS = 6

# "=" as it appears raw, URL-encoded once (a query string quoted in a message) or twice (a string-to-sign).
_EQ = r"(?:=|%3D|%253D)"
# A value ends at "&" in any of those encodings, or at whitespace, a quote or a bracket.
_VALUE = r"(?:(?!%26|%2526)[^&\s\"'<>)\]}])+"
_SECRET_PARAMS = r"(?:access_token|sign|Signature|SecurityToken|AccessKeySecret|security_token|access_key_secret)"

# Patterns that look like secrets even when nobody registered them (e.g. a URL quoted in an SDK error,
# or a server echoing its string-to-sign, which holds the SecurityToken, cut off part-way).
_PATTERN_SOURCES = (
    (rf"((?<![A-Za-z]){_SECRET_PARAMS}{_EQ}){_VALUE}", r"\1***"),
    (rf"(\"{_SECRET_PARAMS}\"\s*:\s*\")[^\"]+", r"\1***"),
)
_KEY_ID_SOURCE = rf"((?<![A-Za-z])AccessKeyId{_EQ})({_VALUE})"
# Every pattern above starts with one of these words: a text without any (and without a registered value)
# is returned as it is. Keep in step with _PATTERN_SOURCES: results of 20,000 instances pass through here.
_PATTERN_WORDS = re.compile(rf"{_SECRET_PARAMS}|AccessKeyId")


@cache
def _patterns() -> tuple[tuple[tuple[re.Pattern[str], str], ...], re.Pattern[str]]:
    """The patterns above, compiled when a text first holds one of their words (most runs: never)."""
    return tuple((re.compile(source), replacement) for source, replacement in _PATTERN_SOURCES), re.compile(
        _KEY_ID_SOURCE)


def mask_key_id(key_id: str | None) -> str | None:
    """An AccessKey id is not a secret, but logs show only enough of it to tell keys apart."""
    if not key_id:
        return key_id
    return key_id[:6] + "***" + key_id[-3:] if len(key_id) > 12 else "***"


def _encoded_forms(value: str) -> set[str]:
    once = urllib.parse.quote(value, safe="")
    return {value, once, urllib.parse.quote(once, safe=""), urllib.parse.quote_plus(value)}


def _forget_oldest(registry: dict[str, Any], limit: int) -> None:
    while len(registry) > limit:
        del registry[next(iter(registry))]


class _Snapshot(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """What :meth:`SecretRegistry.redact` reads: rebuilt on every change, never mutated (threads read it
    while another registers), so the shortest length can never be stale."""

    secrets: tuple[str, ...] = ()
    prefixes: tuple[tuple[str, re.Pattern[str]], ...] = ()
    key_ids: tuple[tuple[str, str], ...] = ()
    shortest: int = 1 << 30  # a text shorter than every registered value holds none of them


class SecretRegistry:
    """Registered secrets, truncation prefixes and AccessKey ids; insertion-ordered and bounded."""

    def __init__(self, limit: int = MAX_SECRETS) -> None:
        self.limit = limit
        self._secrets: dict[str, None] = {}
        self._prefixes: dict[str, re.Pattern[str]] = {}
        self._key_ids: dict[str, str] = {}  # full id → masked form
        self._lock = threading.Lock()
        self._snapshot = _Snapshot()

    def __len__(self) -> int:
        return len(self._snapshot.secrets)

    @property
    def prefix_count(self) -> int:
        return len(self._snapshot.prefixes)

    def register_secret(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET_CHARS:
            return
        with self._lock:
            for form in _encoded_forms(value):
                self._secrets.pop(form, None)  # re-registered: it becomes the newest, not the next forgotten
                self._secrets[form] = None
                if len(form) >= 2 * _PREFIX_CHARS:
                    prefix = form[:_PREFIX_CHARS]
                    self._prefixes.setdefault(prefix, re.compile(re.escape(prefix) + r"[A-Za-z0-9+/=%]*"))
            self._changed()

    def register_key_id(self, key_id: str | None) -> None:
        if not key_id or len(key_id) < _MIN_SECRET_CHARS:
            return
        with self._lock:
            self._key_ids[key_id] = mask_key_id(key_id) or "***"
            self._changed()

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._prefixes.clear()
            self._key_ids.clear()
            self._changed()

    def _changed(self) -> None:
        for registry in (self._secrets, self._prefixes, self._key_ids):
            _forget_oldest(registry, self.limit)
        values = [*self._secrets, *self._prefixes, *self._key_ids]
        # Longest first: a secret's encoded form may contain the raw form of a shorter one.
        self._snapshot = _Snapshot(
            tuple(sorted(self._secrets, key=len, reverse=True)), tuple(self._prefixes.items()),
            tuple(self._key_ids.items()), min(map(len, values)) if values else 1 << 30)

    def redact(self, text: str) -> str:
        """``text`` without any registered secret, secret-looking parameter value or full AccessKey id."""
        known = self._snapshot
        if _PATTERN_WORDS.search(text) is None and (len(text) < known.shortest or not _holds_any(text, known)):
            return text
        for secret in known.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        for prefix, pattern in known.prefixes:
            if prefix in text:
                text = pattern.sub("***", text)
        for key_id, masked in known.key_ids:
            text = text.replace(key_id, masked)
        patterns, key_id_pattern = _patterns()
        for pattern, replacement in patterns:
            text = pattern.sub(replacement, text)
        return key_id_pattern.sub(_mask_key_id_match, text)


def _holds_any(text: str, known: _Snapshot) -> bool:
    return (any(s in text for s in known.secrets) or any(p in text for p, _ in known.prefixes)
            or any(k in text for k, _ in known.key_ids))


def _mask_key_id_match(match: re.Match[str]) -> str:
    value = urllib.parse.unquote(urllib.parse.unquote(match.group(2)))
    if "***" in value:  # already masked
        return match.group(0)
    return match.group(1) + (mask_key_id(value) or "")


REGISTRY = SecretRegistry()  # the process's registry: every module registers and redacts through it


def register_secret(value: str | None) -> None:
    """Remember a secret so that any text that would contain it shows ``***`` instead."""
    REGISTRY.register_secret(value)


def register_key_id(key_id: str | None) -> None:
    """Remember an AccessKey id so that a text that would name it in full shows it masked."""
    REGISTRY.register_key_id(key_id)


def redact(text: str) -> str:
    return REGISTRY.redact(text)


def redact_value(value: Any) -> Any:
    """A copy of a JSON-like value (a job result) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


# --- observers: who sees what leaves (the test suite's secret guard) ------------------------------------

Observer = Callable[[str, str], None]
"""(kind — "log", "DingTalk message", "exception" —, the text as it leaves)."""
_OBSERVERS: list[Observer] = []


def observe_output(observer: Observer) -> Callable[[], None]:
    """Show ``observer`` every text as it leaves the process; returns the function that stops it."""
    _OBSERVERS.append(observer)
    return lambda: _OBSERVERS.remove(observer)


def leaving(kind: str, text: str) -> None:
    """Called by whatever writes ``text`` out (after redaction): the observers see it as written."""
    for observer in list(_OBSERVERS):
        observer(kind, text)
