"""What an error code means for an operator, and what to do next. Used in failure alerts."""

from __future__ import annotations

# code (or code prefix ending in ".") → (what it means, what to do next)
ADVICE: dict[str, tuple[str, str]] = {
    "InvalidAccountStatus.NotEnoughBalance": (
        "the account balance is too low to pay for the renewal",
        "top up the account before the instance's lock date, then re-run renew-batch (it renews each once)"),
    "PAY.INSUFFICIENT_BALANCE": (
        "the account balance is too low to pay for the renewal",
        "top up the account before the lock date, then re-run renew-batch"),
    "Account.Arrearage": (
        "the account has overdue payments", "settle the overdue bills in the billing console, then re-run"),
    "Instance.UnPaidOrder": (
        "an earlier order for this instance is unpaid", "pay or cancel it in the order console, then re-run"),
    "IncorrectInstanceStatus": (
        "the instance's state does not allow renewal (released, or its owner set NotRenewal)",
        "check the instance in the console; move NotRenewal back to Normal if it must be kept"),
    "InstanceLockedForSecurity": (
        "the instance is locked for security reasons", "resolve the security lock with Alibaba Cloud support"),
    "ChargeTypeViolation": (
        "the instance is pay-as-you-go: there is nothing to renew", "remove it from instance_ids"),
    "InvalidInstanceId.NotFound": (
        "no such instance in the configured regions (released, or a wrong id/region)",
        "check the id and REGIONS"),
    "InvalidPeriod": ("the renewal period is not accepted", "use a period the API allows (see README)"),
    "IdempotenceParamNotMatch": (
        "a ClientToken was reused with other parameters — a bug, nothing was charged",
        "report it with the log line; do not renew this instance by hand until it is understood"),
    # The idempotence page names the same error so (the RenewInstance table says the one above): both handled.
    "IdempotentParameterMismatch": (
        "a ClientToken was reused with other parameters — a bug, nothing was charged",
        "report it with the log line; do not renew this instance by hand until it is understood"),
    "Forbidden.RAM": (
        "the function's role lacks a permission", "attach the policy in ram/ to the function's role"),
    "InvalidSecurityToken.": (
        "the STS credentials were rejected or expired", "check the function's role and ASSUME_ROLE_ARN"),
    "InvalidAccessKeySecret": ("the credentials are wrong", "check the function's role"),
    "SignatureDoesNotMatch": ("the request signature was rejected", "check the credentials and the clock"),
    "Throttling": (
        "the API's rate limit was hit for longer than the run could wait", "re-run later; lower ECS_MAX_QPS"),
    "SDK.HttpError": ("the endpoint could not be reached", "re-run later; check the region and network"),
    "ServiceUnavailable": ("the ECS service was unavailable", "re-run later"),
    "InternalError": ("ECS reported an internal error", "re-run later (renewals carry a ClientToken: safe)"),
}
UNKNOWN = ("an error the function does not know", "look the code up in the ECS error centre and the log")


def advice_for(code: str | None) -> tuple[str, str]:
    if not code:
        return UNKNOWN
    if code in ADVICE:
        return ADVICE[code]
    for key, value in ADVICE.items():
        if code.startswith(key.rstrip(".") + "."):
            return value
    return UNKNOWN
