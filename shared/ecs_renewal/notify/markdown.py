"""The shape every DingTalk message takes: the keyword, a header that says where, lists cut to size.

* title and text both contain :data:`KEYWORD` — a robot secured by "custom keywords" rejects a message
  without its keyword (errcode 310000), and which fields DingTalk scans is not documented;
* failures get a message of their own, so they are never buried at the end of a long success list;
* DingTalk markdown has no tables, so everything is a list, short enough to read on a phone.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .advice import advice_for

if TYPE_CHECKING:
    from ..records import Failure, RegionError
    from ..results import JobResult

KEYWORD = "ECS renewal"

# The text alone: 18,000 bytes of UTF-8, a conservative cap that has worked (not a documented number).
MAX_MESSAGE_BYTES = 18000
# What DingTalk measures is the whole request body (errcode 460101 "message too long, exceed 20000 bytes"):
# the JSON with the title, the text as escaped in JSON, and the at-mention lists. How exactly it counts is
# not documented beyond that message, so every body we send stays 5 % below it.
DINGTALK_MAX_BODY_BYTES = 20_000
MAX_BODY_BYTES = 19_000

ELLIPSIS = "…"


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    at_mobiles: tuple[str, ...] = ()
    at_user_ids: tuple[str, ...] = ()

    def body(self) -> bytes:
        return dingtalk_body(self.title, self.text, self.at_mobiles, self.at_user_ids)


# (name, kind): whom a line names; kind "mobile" goes to atMobiles, anything else to atUserIds.
Mention = tuple[str, str | None]


# ---------------------------------------------------------------- size handling


def dingtalk_body(title: str, text: str, at_mobiles: tuple[str, ...] = (), at_user_ids: tuple[str, ...] = ()) -> str:
    """The exact request body the robot receives (and measures), as text: send it UTF-8 encoded."""
    # DingTalk highlights a mention only when the text also contains "@<mobile>" / "@<userId>".
    missing = [f"@{who}" for who in (*at_mobiles, *at_user_ids) if f"@{who}" not in text]
    if missing:
        text = f"{text}\n\n{' '.join(missing)}"
    body = {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": list(at_mobiles), "atUserIds": list(at_user_ids), "isAtAll": False},
    }
    return json.dumps(body, ensure_ascii=False)


def body_bytes(body: str) -> int:
    return len(body.encode("utf-8"))


def _json_bytes(text: str) -> int:
    """Bytes ``text`` takes inside a JSON string (escapes included, quotes excluded)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def _mention_cost(mention: Mention, line: str) -> int:
    # Its entry in a list (quoted, ", ") and, when the line lacks it, "@name " appended to the text.
    name = mention[0]
    return _json_bytes(name) + 4 + (0 if f"@{name}" in line else _json_bytes(name) + 2)


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, ending in "…" when something was cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - byte_length(ELLIPSIS)
    if room <= 0:
        return ""
    # errors="ignore" drops a multi-byte character cut in half instead of producing garbage.
    return encoded[:room].decode("utf-8", errors="ignore") + ELLIPSIS


def _part_label(index: int, total: int) -> str:
    return f" (part {index}/{total})"


def _label_first_line(header: str, label: str) -> str:
    first, newline, rest = header.partition("\n")
    return first + label + newline + rest


def split_into_messages(
    title: str,
    header: str,
    lines: list[str],
    max_bytes: int = MAX_MESSAGE_BYTES,
    *,
    mentions: list[tuple[Mention, ...]] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> list[Message]:
    """``header`` + ``lines`` as one message, or as several "(part i/n)" messages when too long.

    Every part repeats the header (so each stands on its own in the chat), lines keep their order and
    appear exactly once, and a single line too long for any message is shortened with "…", never dropped.
    ``mentions[i]`` are whom line ``i`` names: a part @-mentions exactly the people of its own lines. A
    part's text stays within ``max_bytes`` and its whole serialized body (title, escaped text, mention
    lists: what DingTalk measures) within ``max_body_bytes``.
    """
    mentions = mentions or [()] * len(lines)
    # Reserve room for the widest label any split could need (there are never more parts than lines),
    # so packing does not have to be redone once the number of parts is known.
    widest_label = _part_label(max(len(lines), 1), max(len(lines), 1))
    header = truncate_utf8(header, max_bytes // 2 - byte_length(widest_label))
    separator = "\n\n"
    line_budget = max_bytes - byte_length(header) - byte_length(widest_label) - byte_length(separator)
    body_budget = max_body_bytes - body_bytes(dingtalk_body(title + widest_label, header + widest_label + separator))
    line_budget = min(line_budget, body_budget // 2)  # a line alone, escaped, always fits a part

    chunks: list[tuple[list[str], dict[str, Mention]]] = []
    current: list[str] = []
    named: dict[str, Mention] = {}
    used = body_used = 0
    for raw_line, line_mentions in zip(lines, mentions, strict=True):
        line = truncate_utf8(raw_line, line_budget)
        while _json_bytes(line) > line_budget:  # escapes (quotes, backslashes) can double a line
            line = truncate_utf8(line, byte_length(line) * 3 // 4)
        cost = byte_length(line) + (1 if current else 0)  # +1: the "\n" joining it to the previous line
        fresh = [m for m in line_mentions if m[0] not in named]
        body_cost = _json_bytes(line) + (2 if current else 0) + sum(_mention_cost(m, line) for m in fresh)
        if current and (used + cost > line_budget or body_used + body_cost > body_budget):
            chunks.append((current, named))
            current, named = [], {}
            used = body_used = 0
            cost = byte_length(line)
            body_cost = _json_bytes(line) + sum(_mention_cost(m, line) for m in line_mentions)
        current.append(line)
        named.update((m[0], m) for m in line_mentions)
        used += cost
        body_used += body_cost
    if current or not chunks:
        chunks.append((current, named))

    total = len(chunks)
    messages = []
    for index, (chunk, people) in enumerate(chunks, start=1):
        label = _part_label(index, total) if total > 1 else ""
        text = _label_first_line(header, label)
        if chunk:
            text += separator + "\n".join(chunk)
        mobiles = tuple(sorted(name for name, kind in people.values() if kind == "mobile"))
        user_ids = tuple(sorted(name for name, kind in people.values() if kind != "mobile"))
        messages.append(Message(title=title + label, text=text, at_mobiles=mobiles, at_user_ids=user_ids))
    return messages


# ---------------------------------------------------------------- formatting helpers


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def shown(value: Any, default: str = "-") -> str:
    return default if value is None or value == "" else str(value)


def context_lines(result: JobResult) -> list[str]:
    """Where this happened: account (when the job reports one), regions, window, mode."""
    lines = [f"- Account: {result.account_id}"] if result.account_id else []
    lines.append(f"- Regions: {', '.join(map(str, result.regions)) or '-'}")
    if result.window is not None:
        window = result.window.as_dict()
        lines.append(f"- Window: {window['start']} → {window['end']} (UTC)")
    if result.dry_run and result.job != "scan-expiring":  # a scan never changes anything
        lines.append("- Mode: DRY RUN, nothing was changed")
    return lines


def message_header(
    result: JobResult, job: str, headline: str, extra: Iterable[str] = (), list_heading: str = ""
) -> str:
    # The first line carries the keyword and the job; split_into_messages appends "(part i/n)" to it.
    details = "\n".join([*context_lines(result), *extra])
    header = f"### {KEYWORD} · {job}\n\n**{headline}**\n\n{details}"
    # A heading between the details and the item list keeps markdown from merging the two lists.
    return f"{header}\n\n{list_heading}" if list_heading else header


def message_title(job: str, summary: str) -> str:
    return f"{KEYWORD} · {job}: {summary}"


def _problem(code: str | None, message: str | None) -> str:
    code, message = shown(code, "Error"), shown(message, "")
    return f"{code}: {message}" if message else code


def _failure_line(failure: Failure) -> str:
    return f"- {shown(failure.instance_id)} · {shown(failure.region)} · {_problem(failure.code, failure.message)}"


def _region_error_line(error: RegionError) -> str:
    if error.region == "funds":  # about the account's money, not a region
        return f"- balance · {_problem(error.code, error.message)}"
    missing = f" · missing permission: {error.missing_action}" if error.missing_action else ""
    return f"- region {shown(error.region)} · {_problem(error.code, error.message)}{missing}"


def failure_messages(
    result: JobResult, job: str, failed_what: str, extra: Iterable[str] = (), *, failed: Iterable[Failure] = ()
) -> list[Message]:
    """One message (or parts) for per-instance failures (``failed``) and the result's region-level errors,
    [] when there are none."""
    failed = sorted(failed, key=lambda f: (shown(f.region, ""), shown(f.instance_id, "")))
    errors = sorted(result.errors, key=lambda e: shown(e.region, ""))
    if not failed and not errors:
        return []
    problems = []
    if failed:
        problems.append(f"{plural(len(failed), 'instance')} {failed_what}")
    if errors:
        problems.append(f"{plural(len(errors), 'region')} could not be processed")
    headline = "FAILED: " + ", ".join(problems)
    lines = [_failure_line(item) for item in failed] + [_region_error_line(item) for item in errors]
    title = message_title(job, f"{len(failed) + len(errors)} FAILED")
    advice = _advice_lines([item.code for item in [*failed, *errors]])
    return split_into_messages(title, message_header(result, job, headline, [*extra, *advice], "Failures:"), lines)


def _advice_lines(codes: list[str | None]) -> list[str]:
    """Per distinct error code: what it means and what to do next (the failure list follows)."""
    counted = Counter(shown(code, "Error") for code in codes)
    lines = ["", "What it means and what to do:"] if counted else []
    for code, count in sorted(counted.items(), key=lambda pair: (-pair[1], pair[0])):
        meaning, action = advice_for(code)
        lines.append(f"- **{code}** ({count}): {meaning}. Next: {action}.")
    return lines
