"""The one retry policy the project owns: which errors, how often, how long.

The SDK's own retry is switched off (``auto_retry=False``): it retries only the exact code
``Throttling``, never ``ModifyInstanceAutoRenewAttribute``, and for ``RenewInstance`` it would resend
without a ClientToken (reference traps 1 and 5). Here every action is retried on the same transient
conditions, and a renewal is always retried with the same ClientToken, so a retry can never pay twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

THROTTLING_CODES = frozenset({"Throttling", "Throttling.User", "Throttling.Api", "Throttling.Resource"})
TRANSIENT_CODES = frozenset({
    "ServiceUnavailable", "InternalError", "UnknownError", "SDK.HttpError", "SDK.UnknownServerError",
    "SignatureNonceUsed",  # every attempt is re-signed with a new nonce
    # A previous request with the same token/order is still being processed: ask again, same token.
    "LastTokenProcessing", "Idempotence.Processing", "LastOrderProcessing", "InvalidStatus.Upgrading",
})
TOKEN_EXPIRED_CODES = frozenset({"InvalidSecurityToken.Expired"})


def is_retryable(code: str, http_status: int | None) -> bool:
    if code in THROTTLING_CODES or code in TRANSIENT_CODES:
        return True
    return http_status is not None and http_status >= 500


@dataclass(eq=False)  # compared by identity: no __eq__ to build at a cold start
class RetryPolicy:
    """Jittered exponential backoff with a cap and an overall deadline.

    ``deadline`` is an absolute ``time.monotonic()`` value: no retry is started that would end after
    it, so a run stays inside the function's timeout and reports what it could not finish.
    """

    max_attempts: int = 6
    base_delay: float = 0.2
    throttle_base_delay: float = 1.0
    max_delay: float = 8.0
    deadline: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, code: str) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)], throttling with a larger base."""
        base = self.throttle_base_delay if code in THROTTLING_CODES else self.base_delay
        return self.rng.uniform(0, min(self.max_delay, base * (2**attempt)))

    def should_retry(self, attempt: int, code: str, http_status: int | None) -> float | None:
        """The pause before the next attempt, or None when the error is final."""
        if attempt + 1 >= self.max_attempts or not is_retryable(code, http_status):
            return None
        pause = self.delay(attempt, code)
        if self.deadline is not None and self.clock() + pause >= self.deadline:
            return None
        return pause
