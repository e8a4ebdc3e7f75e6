"""Deliver markdown messages to a DingTalk custom group robot (webhook).

Standard library only: this runs in Function Compute, where every imported package costs cold-start time.

A notification must never break or retry a renewal run, so :meth:`DingTalkNotifier.send_markdown` never
raises; it returns whether DingTalk accepted the message and logs why not. The webhook's ``access_token``
and the signing secret are registered with the logger and never logged (only the host is).
"""

from __future__ import annotations

import json
import random
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ecs_renewal import logs, redaction
from ecs_renewal.notify.markdown import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_BYTES,
    Message,
    body_bytes,
    dingtalk_body,
    truncate_utf8,
)
from ecs_renewal.notify.robot_http import Outcome, post_once, sign
from ecs_renewal.notify.robot_limits import (
    ERRCODE_RATE_LIMITED,
    RATE_LIMIT_BLOCK_SECONDS,
    SENDS_PER_MINUTE,
    RobotLimits,
    shared_limits,
)

__all__ = ["MAX_BODY_BYTES", "MAX_MESSAGE_BYTES", "SENDS_PER_MINUTE", "Delivery", "DingTalkNotifier", "Message", "sign"]

_BACKOFF_BASE_SECONDS = 0.5
_BACKOFF_MAX_SECONDS = 4.0

# One HTTP attempt may take this long. A run's alerts together may take SEND_ALL_BUDGET_SECONDS: a slow
# or hanging robot must not push the run past the function's timeout (Function Compute would then replay
# the whole invocation). What is left when the budget is spent is dropped, and listed in the log.
DEFAULT_TIMEOUT_SECONDS = 5.0
SEND_ALL_BUDGET_SECONDS = 30.0
# An undelivered message's text goes to the log (so nothing is lost), cut to this many characters.
_LOGGED_TEXT_CHARS = 4000


class Delivery(NamedTuple):
    """How hard a notifier tries: one attempt's timeout (default DEFAULT_TIMEOUT_SECONDS), attempts per
    message, the whole run's alert time (default SEND_ALL_BUDGET_SECONDS); the clock and the sleep (a test
    fakes them)."""

    timeout: float | None = None
    max_attempts: int = 3
    budget_seconds: float | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


class DingTalkNotifier:
    """Sends markdown messages to one DingTalk robot; disabled (every send a no-op) without a webhook."""

    def __init__(
        self,
        webhook: str | None,
        secret: str | None = None,
        *,
        logger: logs.JsonLogger | None = None,
        delivery: Delivery | None = None,
        shared_budget: bool = False,
    ) -> None:
        """``shared_budget``: count this robot's sends across every notifier of the process (what the
        functions use; a test's fake clock wants its own)."""
        delivery = delivery or Delivery()
        webhook = (webhook or "").strip()
        secret = (secret or "").strip() or None
        # First thing: from here on no log line can leak them, whatever goes wrong below.
        logs.register_secret(webhook)
        logs.register_secret(secret)
        for token in urllib.parse.parse_qs(urllib.parse.urlsplit(webhook).query).get("access_token", []):
            logs.register_secret(token)

        self._log = (logger or logs.get_logger()).bind(component="dingtalk")
        self._webhook = webhook
        self._secret = secret
        # The module's defaults are read now, not when Delivery was defined: a test may lower them.
        self._timeout = DEFAULT_TIMEOUT_SECONDS if delivery.timeout is None else delivery.timeout
        self._budget_seconds = SEND_ALL_BUDGET_SECONDS if delivery.budget_seconds is None else delivery.budget_seconds
        self._send_deadline: float | None = None  # time.monotonic() after which send_all stops
        self._clock = delivery.clock
        self._sleep = delivery.sleep
        self._max_attempts = max(1, delivery.max_attempts)
        self._budget = shared_limits(webhook) if shared_budget and webhook else RobotLimits()
        self._off_logged = False

        parts = urllib.parse.urlsplit(webhook)
        self._host = parts.hostname or ""
        self.enabled = bool(webhook)
        if webhook and (parts.scheme not in ("http", "https") or not parts.hostname):
            self._log.error("dingtalk webhook is not an http(s) URL; notifications off")
            self.enabled = False
            self._off_logged = True

    # ------------------------------------------------------------ public API

    def send_markdown(
        self,
        title: str,
        text: str,
        *,
        at_mobiles: Iterable[str] = (),
        at_user_ids: Iterable[str] = (),
    ) -> bool:
        """Post one markdown message; True when DingTalk accepted it. Never raises."""
        mobiles, user_ids = tuple(at_mobiles), tuple(at_user_ids)
        return self._guarded(title, lambda: self._deliver(title, text, mobiles, user_ids), dropped_text=text)

    def send_action_card(self, title: str, text: str, buttons: Iterable[tuple[str, str]]) -> bool:
        """Post one ``actionCard`` with separate buttons (title, URL); True when DingTalk accepted it."""

        def deliver() -> bool:
            card_text = truncate_utf8(text, MAX_MESSAGE_BYTES)
            card = {"title": title, "text": card_text, "btnOrientation": "1",
                    "btns": [{"title": label, "actionURL": url} for label, url in buttons]}
            payload = json.dumps({"msgtype": "actionCard", "actionCard": card}, ensure_ascii=False)
            redaction.leaving("DingTalk message", payload)
            return self._deliver_body(title, card_text, payload.encode("utf-8"))

        return self._guarded(title, deliver)

    def _guarded(self, title: str, deliver: Callable[[], bool], *, dropped_text: str | None = None) -> bool:
        """Every send's guard: off without a webhook, dropped over the robot's limits, and never raises."""
        if not self.enabled:
            self._log_off_once()
            return False
        try:
            problem = self._budget_problem()
            if problem:
                text = {"text": dropped_text[:_LOGGED_TEXT_CHARS]} if dropped_text is not None else {}
                self._log.warning("dingtalk message dropped", title=title, reason=problem, **text)
                return False
            return deliver()
        except Exception as exc:  # noqa: BLE001 -- deliberate: a notification bug must not fail the renewal run
            self._log.error("dingtalk send crashed", title=title, error=type(exc).__name__, detail=str(exc))
            return False

    def send_all(self, messages: list[Message]) -> int:
        """Send in order; returns how many were delivered. Drops (and lists once) what the rate limit forbids.

        Never sleeps for the rate window: a function run must not idle for a minute to send a chat message.
        """
        if not self.enabled:
            if messages:
                self._log_off_once()
            return 0
        delivered = 0
        self._send_deadline = time.monotonic() + self._budget_seconds
        try:
            for index, message in enumerate(messages):
                problem = self._budget_problem() or self._time_problem()
                if problem:
                    rest = messages[index:]
                    self._log.warning(
                        "dingtalk messages dropped",
                        reason=problem,
                        dropped_count=len(rest),
                        dropped=[m.title for m in rest],
                        texts=[m.text[:_LOGGED_TEXT_CHARS] for m in rest],
                    )
                    break
                delivered += self.send_markdown(
                    message.title, message.text, at_mobiles=message.at_mobiles, at_user_ids=message.at_user_ids
                )
        finally:
            self._send_deadline = None
        return delivered

    # ------------------------------------------------------------ internals

    def _log_off_once(self) -> None:
        if not self._off_logged:
            self._off_logged = True
            self._log.info("notifications off", reason="DINGTALK_WEBHOOK not set")

    def _time_problem(self) -> str | None:
        if self._send_deadline is not None and time.monotonic() >= self._send_deadline:
            return f"the run's alerts already took {self._budget_seconds:g} s (DingTalk slow or unreachable)"
        return None

    def _budget_problem(self) -> str | None:
        """Why nothing may be sent right now, or None when a send fits the rate limit."""
        return self._budget.problem(self._clock())

    def _payload(self, title: str, text: str, at_mobiles: tuple[str, ...], at_user_ids: tuple[str, ...]) -> bytes:
        """The request body, measured as DingTalk measures it: serialized, mentions included (< 20,000 bytes)."""
        if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
            self._log.warning("dingtalk message truncated", title=title, max_bytes=MAX_MESSAGE_BYTES)
            text = truncate_utf8(text, MAX_MESSAGE_BYTES)
        payload = dingtalk_body(title, text, at_mobiles, at_user_ids)
        if body_bytes(payload) > MAX_BODY_BYTES:
            # Escapes or a long mention list: cut the text by the excess (and a little) until the body fits.
            self._log.warning("dingtalk message truncated", title=title, body_bytes=body_bytes(payload),
                              max_body_bytes=MAX_BODY_BYTES)
            while body_bytes(payload) > MAX_BODY_BYTES and text:
                excess = body_bytes(payload) - MAX_BODY_BYTES
                text = truncate_utf8(text, max(0, len(text.encode("utf-8")) - excess - 16))
                payload = dingtalk_body(title, text, at_mobiles, at_user_ids)
        redaction.leaving("DingTalk message", payload)
        return payload.encode("utf-8")

    def _signed_url(self) -> str:
        if not self._secret:
            return self._webhook
        # A fresh timestamp per attempt: DingTalk rejects one more than an hour off, and retries take time.
        timestamp_ms = int(self._clock() * 1000)
        separator = "&" if urllib.parse.urlsplit(self._webhook).query else "?"
        return f"{self._webhook}{separator}timestamp={timestamp_ms}&sign={sign(self._secret, timestamp_ms)}"

    def _deliver(self, title: str, text: str, at_mobiles: tuple[str, ...], at_user_ids: tuple[str, ...]) -> bool:
        return self._deliver_body(title, text, self._payload(title, text, at_mobiles, at_user_ids))

    def _deliver_body(self, title: str, text: str, body: bytes) -> bool:
        for attempt in range(1, self._max_attempts + 1):
            outcome = self._post_once(body)
            if outcome.ok:
                self._log.info("dingtalk message sent", title=title, host=self._host, attempt=attempt)
                return True
            # Jittered exponential backoff: short, because the whole run waits for it.
            backoff = min(_BACKOFF_MAX_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
            delay = backoff * random.uniform(0.5, 1.5)
            out_of_time = self._send_deadline is not None and time.monotonic() + delay >= self._send_deadline
            if not outcome.retryable or attempt == self._max_attempts or self._budget_problem() or out_of_time:
                self._log.error(
                    "dingtalk message not delivered",
                    title=title,
                    host=self._host,
                    attempts=attempt,
                    text=text[:_LOGGED_TEXT_CHARS],  # what the group did not get, so it is not lost
                    **outcome.fields,
                )
                return False
            self._log.warning(
                "dingtalk send failed, retrying",
                title=title,
                host=self._host,
                attempt=attempt,
                retry_in_seconds=round(delay, 2),
                **outcome.fields,
            )
            self._sleep(delay)
        return False  # unreachable: the loop always returns on its last attempt

    def _post_once(self, body: bytes) -> Outcome:
        self._budget.record(self._clock())
        timeout = self._timeout
        if self._send_deadline is not None:  # never wait past the run's alert budget
            timeout = max(0.1, min(timeout, self._send_deadline - time.monotonic()))
        outcome = post_once(self._signed_url(), body, timeout)
        if outcome.fields.get("errcode") == ERRCODE_RATE_LIMITED:
            # Blocked for 10 minutes: stop sending from this notifier instead of hitting the block again.
            self._budget.block(self._clock() + RATE_LIMIT_BLOCK_SECONDS)
        return outcome
