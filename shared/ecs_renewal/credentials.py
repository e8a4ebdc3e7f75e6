"""STS credentials only: the Function Compute context, else the environment, optionally via AssumeRole.

Order (docs/contract.md, "Credentials"):
1. ``context.credentials`` (the function's role) when it carries an AccessKey id;
2. else ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``_SECRET`` / ``_SECURITY_TOKEN`` (what FC 3.0 sets; the SDK
   itself does not read them);
3. with ``ASSUME_ROLE_ARN``, those are used only to call STS AssumeRole, and its temporary keys are used;
4. a key without a security token is never used for ECS: that is an error saying how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import CredentialsError
from .redaction import mask_key_id, register_key_id, register_secret

# The SDK's signer factory prefers these over any credential object we pass, silently dropping the
# security token (reference trap 3). Their presence is a static key in the environment: refuse it.
SDK_STATIC_KEY_VARS = ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET")


@dataclass(frozen=True, repr=False, eq=False)  # compared by identity: no __eq__ to build
class Credentials:
    """One set of keys (STS or not) and where it came from; its secrets are registered for redaction."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None
    source: str
    expiration: datetime | None = None

    def __post_init__(self) -> None:
        # However they were obtained (context, environment, AssumeRole), from now on no log line, result
        # or alert can carry the secret or the token, and the key id only appears masked.
        register_secret(self.access_key_secret)
        register_secret(self.security_token)
        register_key_id(self.access_key_id)

    @property
    def is_sts(self) -> bool:
        return bool(self.security_token)

    def __repr__(self) -> str:  # never print the secret or the token
        return f"Credentials(access_key_id={mask_key_id(self.access_key_id)!r}, source={self.source!r})"

    __str__ = __repr__


def from_context(context: Any) -> Credentials | None:
    """FC 2.0 and the python3.9/3.10 runtimes of FC 3.0 put the role's keys on the context."""
    creds = getattr(context, "credentials", None)
    key_id = getattr(creds, "access_key_id", None) or getattr(creds, "accessKeyId", None)
    if not key_id:
        return None
    secret = getattr(creds, "access_key_secret", None) or getattr(creds, "accessKeySecret", None)
    token = getattr(creds, "security_token", None) or getattr(creds, "securityToken", None)
    return _checked(key_id, secret, token, "context")


def from_environment(environ: Mapping[str, str]) -> Credentials | None:
    key_id = environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID", "").strip()
    if not key_id:
        return None
    return _checked(
        key_id,
        environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "").strip(),
        environ.get("ALIBABA_CLOUD_SECURITY_TOKEN", "").strip() or None,
        "environment",
    )


def _checked(key_id: str, secret: str | None, token: str | None, source: str) -> Credentials:
    register_key_id(key_id)
    register_secret(token)
    if not secret:
        raise CredentialsError(
            f"the {source} has an AccessKey id ({mask_key_id(key_id)}) but no AccessKey secret"
        )
    return Credentials(key_id, secret, token or None, source)


def resolve_base_credentials(context: Any, environ: Mapping[str, str]) -> Credentials:
    """The invocation's own credentials, before any AssumeRole."""
    leaked = [name for name in SDK_STATIC_KEY_VARS if environ.get(name)]
    if leaked:
        raise CredentialsError(
            f"{' and '.join(leaked)} is set in the environment: the Alibaba Cloud SDK would sign every call "
            "with that static key instead of the function's STS credentials. Remove it; use the function's "
            "role (or ALIBABA_CLOUD_* STS credentials, or ASSUME_ROLE_ARN)."
        )
    found = from_context(context) or from_environment(environ)
    if found is None:
        raise CredentialsError(
            "no credentials: give the function a role (Function Compute then passes STS credentials), "
            "or set ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and "
            "ALIBABA_CLOUD_SECURITY_TOKEN"
        )
    return found


def require_sts(credentials: Credentials, *, assume_role_arn: str | None) -> None:
    """A key without a security token may only be used to assume a role (docs/contract.md rule 4)."""
    if credentials.is_sts or assume_role_arn:
        return
    raise CredentialsError(
        f"the {credentials.source} credentials ({mask_key_id(credentials.access_key_id)}) are a static "
        "AccessKey without a security token; ecs-renewal uses STS credentials only. Run the function with a "
        "role, set ALIBABA_CLOUD_SECURITY_TOKEN, or set ASSUME_ROLE_ARN so the key is only used to assume "
        "that role."
    )
