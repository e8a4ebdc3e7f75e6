"""Access keys (RAM-user static keys and STS session keys) and RAM roles known to the emulator."""

from __future__ import annotations

import base64
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import format_second, parse_second, utcnow

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Credentials:
    """An STS credential shaped like Function Compute's ``context.credentials``."""

    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: str  # "YYYY-MM-DDTHH:MM:SSZ", as STS returns it

    @property
    def expiration_datetime(self) -> datetime:
        parsed = parse_second(self.expiration)
        assert parsed is not None
        return parsed


@dataclass(frozen=True)
class StaticKey:
    """A RAM user's long-lived AccessKey pair (good for AssumeRole; the project must not use it for ECS)."""

    access_key_id: str
    access_key_secret: str


@dataclass
class KeyRecord:
    access_key_id: str
    access_key_secret: str
    account_id: str
    security_token: str | None = None  # None = static key
    expires_at: datetime | None = None
    role_arn: str | None = None  # for STS keys: the role whose session this is
    session_name: str | None = None
    user_name: str | None = None  # for static keys: the RAM user
    session_policy: str | None = None  # AssumeRole's Policy: the session may do only what it AND the role allow

    @property
    def is_sts(self) -> bool:
        return self.security_token is not None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or utcnow()) >= self.expires_at


@dataclass(frozen=True)
class Role:
    arn: str
    name: str
    account_id: str
    role_id: str
    max_session_duration: int


def role_arn(account_id: str, name: str) -> str:
    return f"acs:ram::{account_id}:role/{name}"


class KeyRegistry:
    """Thread-safe store of keys and roles."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, KeyRecord] = {}
        self._roles: dict[str, Role] = {}

    # ---- roles ------------------------------------------------------------------------------

    def add_role(self, account_id: str, name: str, max_session_duration: int = 3600) -> Role:
        if not 3600 <= max_session_duration <= 43200:
            raise ValueError("max_session_duration must be within 3600..43200 seconds (RAM's range)")
        role = Role(
            arn=role_arn(account_id, name),
            name=name,
            account_id=account_id,
            role_id="3" + "".join(secrets.choice(string.digits) for _ in range(18)),
            max_session_duration=max_session_duration,
        )
        with self._lock:
            self._roles[role.arn] = role
        return role

    def role(self, arn: str) -> Role | None:
        with self._lock:
            return self._roles.get(arn)

    # ---- keys -------------------------------------------------------------------------------

    def issue_static(self, account_id: str, user_name: str) -> KeyRecord:
        # "LTAI-emu-..." on purpose: dashes keep it from looking like (and being flagged as) a real key id.
        record = KeyRecord(
            access_key_id="LTAI-emu-" + secrets.token_hex(8),
            access_key_secret=_random_alnum(30),
            account_id=account_id,
            user_name=user_name,
        )
        with self._lock:
            self._keys[record.access_key_id] = record
        return record

    def issue_sts(
        self, role: Role, session_name: str, ttl_seconds: float, session_policy: str | None = None
    ) -> KeyRecord:
        now = utcnow().replace(microsecond=0)
        record = KeyRecord(
            access_key_id="STS." + _random_alnum(25),
            access_key_secret=_random_alnum(44),
            account_id=role.account_id,
            security_token=_security_token(),
            expires_at=now + timedelta(seconds=ttl_seconds),
            role_arn=role.arn,
            session_name=session_name,
            session_policy=session_policy,
        )
        with self._lock:
            self._keys[record.access_key_id] = record
        return record

    def get(self, access_key_id: str) -> KeyRecord | None:
        with self._lock:
            return self._keys.get(access_key_id)

    def expire(self, access_key_id: str) -> None:
        with self._lock:
            record = self._keys[access_key_id]
            record.expires_at = utcnow() - timedelta(seconds=1)


def credentials_of(record: KeyRecord) -> Credentials:
    assert record.security_token is not None and record.expires_at is not None
    return Credentials(
        access_key_id=record.access_key_id,
        access_key_secret=record.access_key_secret,
        security_token=record.security_token,
        expiration=format_second(record.expires_at),
    )


def _random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _security_token() -> str:
    # Real tokens are long base64 blobs (often > 1 KB) with '+', '/' and '=': they exercise URL encoding.
    return "CAIS" + base64.b64encode(secrets.token_bytes(900)).decode()
