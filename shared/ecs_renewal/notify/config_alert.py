"""A broken configuration reaches the group: one message naming the key and the fix, then the handler raises.

Invalid settings are found before the first API call, and the handler raises as it always did (nothing
changes, and Function Compute records the failure). But a timer that fails the same way every night is
silent unless someone reads the logs, so the robot gets one message first — when the robot's own
settings (``DINGTALK_WEBHOOK``, ``DINGTALK_SECRET``) can be read; they are taken as they are and are
never what is invalid. Function Compute replays a failed asynchronous invocation: the message goes out
once a day per (job, key, problem), remembered in the same ledger as the scan's reminders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import CredentialsError, InvalidEventError, InvalidSettingError
from ..logs import JsonLogger, redact
from .markdown import KEYWORD, MAX_MESSAGE_BYTES, Message, truncate_utf8


@dataclass(frozen=True)
class ConfigurationProblem:
    """What is wrong, where it is set, and how to put it right."""

    job: str
    key: str  # the event key or the environment variable ("credentials" for a credentials problem)
    problem: str
    where: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"job": self.job, "key": self.key, "problem": self.problem, "where": self.where, "fix": self.fix}


def problem_of(job: str, error: Exception) -> ConfigurationProblem:
    problem = _problem(job, error)
    # An event value is quoted in its problem: never let a secret someone pasted there leave in a message.
    return ConfigurationProblem(problem.job, problem.key, redact(problem.problem), problem.where, problem.fix)


def _problem(job: str, error: Exception) -> ConfigurationProblem:
    if isinstance(error, InvalidEventError):
        return ConfigurationProblem(
            job, error.key, error.problem,
            where=f"the invocation's event, key `{error.key}` (a timer's `payload` in s.yaml, or the event sent)",
            fix=f"correct `{error.key}` in the event{_expected(error.key)}",
        )
    if isinstance(error, InvalidSettingError):
        return ConfigurationProblem(
            job, error.key, error.problem,
            where=f"the environment variable `{error.key}` of the function {job} (s.yaml `environmentVariables`"
                  ", or the console: the function's configuration, environment variables)",
            fix=f"set `{error.key}` to a valid value, or remove it for the default{_expected(error.key)}",
        )
    return ConfigurationProblem(
        job, "credentials", str(error)[:300], where="the function's role / the credentials it runs with",
        fix="give the function its role (s.yaml `role`, ram/README.md); never a static AccessKey",
    )


def _expected(key: str) -> str:
    from ..config.table import BY_ENV, BY_NAME

    setting = BY_ENV.get(key) or BY_NAME.get(key)
    if setting is None:
        return ""
    default = setting.shown_default
    return f" — expected: {setting.kind}; default: {default}" if default not in ("—", "") else (
        f" — expected: {setting.kind}")


def configuration_message(problem: ConfigurationProblem) -> Message:
    job = problem.job
    text = "\n".join([
        f"### {KEYWORD} · {job}",
        "",
        f"**CONFIGURATION ERROR: {job} did not run — `{problem.key}`**",
        "",
        f"- Problem: `{problem.key}` {problem.problem}",
        f"- Where: {problem.where}",
        f"- Fix: {problem.fix}",
        "",
        "Nothing was read or changed. Until it is fixed every run of this function fails the same way, "
        "and no expiry is checked or renewed by it.",
    ])
    title = f"{KEYWORD} · {job}: CONFIGURATION ERROR ({problem.key})"
    return Message(title=title, text=truncate_utf8(text, MAX_MESSAGE_BYTES))


def is_configuration_error(error: BaseException) -> bool:
    return isinstance(error, (InvalidSettingError, CredentialsError))


def alert_configuration_error(job: str, error: Exception, environ: Mapping[str, str], log: JsonLogger) -> bool:
    """Log the problem (the run record) and send its message once a day. Never raises; True when sent."""
    problem = problem_of(job, error)
    log.error("configuration_error", **problem.as_dict())
    webhook = (environ.get("DINGTALK_WEBHOOK") or "").strip()
    if not webhook:
        return False
    try:
        from ..idempotency.reminders import NotificationLedger
        from .dingtalk import DingTalkNotifier

        digest = hashlib.sha256(f"{job}\n{problem.key}\n{problem.problem}".encode()).hexdigest()[:16]
        key = f"config-error:{job}:{digest}"
        ledger = NotificationLedger((environ.get("NOTIFY_STATE_DIR") or "").strip() or None)
        if not ledger.unseen([key]):
            log.info("configuration_error_already_reported", key=problem.key)
            return False
        notifier = DingTalkNotifier(webhook, (environ.get("DINGTALK_SECRET") or "").strip() or None, logger=log,
                                    shared_budget=True)
        message = configuration_message(problem)
        sent = notifier.send_markdown(message.title, message.text)
        if sent:
            ledger.remember([key])
        return sent
    except Exception as failure:  # noqa: BLE001 - the configuration error is what must surface, not this
        log.error("alert_failed", error=type(failure).__name__, message=str(failure)[:200])
        return False
