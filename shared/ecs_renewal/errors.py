"""The project's exceptions. Each says what is wrong and, where it can, how to fix it."""

from __future__ import annotations

from typing import NamedTuple

from .redaction import leaving, redact


class EcsRenewalError(Exception):
    """Base class: anything this package raises on purpose."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        leaving("exception", " ".join(map(str, args)))  # whoever watches what leaves sees the message


class InvalidSettingError(EcsRenewalError, ValueError):
    """A setting (event key or environment variable) is invalid. Raised before any API call."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"invalid setting {key!r}: {problem}")


class InvalidEventError(InvalidSettingError):
    """The invocation's event is invalid; ``key`` names the offending key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key, problem)
        self.args = (f"invalid event: {key!r} {problem}",)

    def __str__(self) -> str:
        return self.args[0]


class CredentialsError(EcsRenewalError):
    """No usable STS credentials. The message says which source was tried and what to set."""


class Reply(NamedTuple):
    """How the server answered the last attempt of a failed call."""

    http_status: int | None = None
    request_id: str | None = None
    attempts: int = 1


class ApiError(EcsRenewalError):
    """An ECS or STS call failed for good (after the retries the policy allows)."""

    def __init__(self, code: str, message: str, *, action: str, region: str | None = None,
                 reply: Reply | None = None) -> None:
        self.code = code
        # A server or the SDK may quote the request (a URL, a string-to-sign): never keep a secret from it.
        self.message = message = redact(message)
        self.action = action
        self.region = region
        self.http_status, self.request_id, self.attempts = reply or Reply()
        super().__init__(f"{action} failed in {region or '-'}: {code}: {message}")
