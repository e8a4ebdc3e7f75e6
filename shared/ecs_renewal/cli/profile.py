"""Credentials for the command line from the aliyun CLI's profiles (``~/.aliyun/config.json``).

An operator who uses the ``aliyun`` CLI already has profiles; this reads the same file, with the same key
names (``current``, ``profiles[].name``, ``mode``, ``access_key_id``, ``access_key_secret``, ``sts_token``,
``ram_role_arn``, ``ram_session_name``, ``expired_seconds``, ``source_profile``), as Alibaba Cloud's own
credentials library does. Which profile (the first that applies):

1. ``--profile NAME``;
2. ``ALIBABA_CLOUD_PROFILE``;
3. none when ``ALIBABA_CLOUD_ACCESS_KEY_ID`` is set: the environment's credentials, as before;
4. the config's ``current`` profile, when the file exists; else nothing (the job says what to set).

STS only still holds. ``StsToken`` gives its key, secret and token. ``RamRoleArn`` (and
``ChainableRamRoleArn``, from its ``source_profile``) calls STS AssumeRole *here, first*: the profile's
AccessKey signs that one call and nothing else; the command then runs with the role's temporary
credentials. ``AK`` alone is refused — unless ``ASSUME_ROLE_ARN`` is set, when the job uses the key only
to assume that role, exactly as with an AccessKey in the environment. Other modes get a clear error.

The result is a set of ``ALIBABA_CLOUD_*`` variables for the command's environment; no secret is ever
printed (every one is registered with :mod:`ecs_renewal.logs` the moment it is read). Loaded only by
the command line, never by a handler.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..credentials import Credentials
from ..errors import ApiError, CredentialsError
from ..logs import mask_key_id, register_secret

PROFILE_VARIABLE = "ALIBABA_CLOUD_PROFILE"
KEY_ID, SECRET, TOKEN = "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"
CREDENTIAL_VARIABLES = (KEY_ID, SECRET, TOKEN)
DEFAULT_SESSION_NAME = "ecs-renewal-cli"
DEFAULT_DURATION_SECONDS = 3600  # STS's own default; a role's MaxSessionDuration may allow up to 43200
ASSUME_ROLE_TIMEOUT_SECONDS = 60.0
_ROLE_ARN = re.compile(r"^acs:ram::\d+:role/[A-Za-z0-9.@\-_/]+$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
_MAX_CHAIN = 8  # ChainableRamRoleArn source_profile hops before we call it a loop
SUPPORTED_MODES = ("StsToken", "RamRoleArn", "ChainableRamRoleArn")


class ProfileError(CredentialsError):
    """The chosen profile cannot give STS credentials; the message says which profile and what to do."""


@dataclass(frozen=True)
class ProfileCredentials:
    """What the command runs with: the variables to set, and a line for the operator (no secret in it)."""

    environment: dict[str, str]
    description: str


def config_path() -> Path:
    return Path.home() / ".aliyun" / "config.json"  # where `aliyun configure` writes it ($HOME)


def chosen_profile(flag: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(name, why)`` of the profile to use, or None to use the environment's credentials as they are."""
    if flag:
        return flag, "--profile"
    named = environ.get(PROFILE_VARIABLE, "").strip()
    if named:
        return named, PROFILE_VARIABLE
    if environ.get(KEY_ID, "").strip():
        return None
    path = config_path()
    if not path.is_file():
        return None
    current = str(_read_config(path).get("current") or "").strip()
    if not current:
        return None  # a config without a current profile: as if there were none
    return current, f"the current profile of {path}"


def resolve(flag: str | None, environ: Mapping[str, str]) -> ProfileCredentials | None:
    """The credentials of the chosen profile (AssumeRole done), or None when no profile applies."""
    chosen = chosen_profile(flag, environ)
    if chosen is None:
        return None
    name, why = chosen
    path = config_path()
    if not path.is_file():
        raise ProfileError(f"profile {name!r} ({why}): {path} does not exist; create it with "
                           f"`aliyun configure --profile {name} --mode StsToken` (or RamRoleArn)")
    config = _read_config(path)
    return _credentials_of(config, name, why, environ, depth=0)


def _credentials_of(
    config: Mapping[str, Any], name: str, why: str, environ: Mapping[str, str], *, depth: int
) -> ProfileCredentials:
    profile = _find(config, name, why)
    mode = str(profile.get("mode") or "")
    label = f"profile {name!r}"
    if mode == "StsToken":
        key_id, secret = _key(profile, label)
        token = _field(profile, "sts_token", label)
        register_secret(token)
        return ProfileCredentials({KEY_ID: key_id, SECRET: secret, TOKEN: token},
                                  f"{label} (StsToken, {mask_key_id(key_id)})")
    if mode == "RamRoleArn":
        key_id, secret = _key(profile, label)
        signer = Credentials(key_id, secret, None, f"{label} (RamRoleArn)")
        return _assumed(signer, profile, label, environ)
    if mode == "ChainableRamRoleArn":
        source = str(profile.get("source_profile") or "").strip()
        if not source:
            raise ProfileError(f"{label} (ChainableRamRoleArn) has no source_profile")
        if depth >= _MAX_CHAIN:
            raise ProfileError(f"{label}: source_profile chain longer than {_MAX_CHAIN} (a loop?)")
        signer = _signer_of(config, source, environ, depth=depth + 1)
        return _assumed(signer, profile, label, environ)
    if mode == "AK":
        key_id, secret = _key(profile, label)
        if environ.get("ASSUME_ROLE_ARN", "").strip():  # the job uses the key only to call AssumeRole
            return ProfileCredentials({KEY_ID: key_id, SECRET: secret},
                                      f"{label} (AK {mask_key_id(key_id)}, only to assume ASSUME_ROLE_ARN)")
        raise ProfileError(
            f"{label} is mode AK: a long-lived AccessKey ({mask_key_id(key_id)}). ecs-renewal signs with STS "
            f"credentials only. Use mode RamRoleArn (`aliyun configure --profile {name} --mode RamRoleArn`: "
            "the key then only calls AssumeRole), mode StsToken, or set ASSUME_ROLE_ARN to a role to assume"
        )
    raise ProfileError(
        f"{label} is mode {mode or '(none)'!s}, which this command line does not read; use a profile of mode "
        f"{', '.join(SUPPORTED_MODES)} (or AK with ASSUME_ROLE_ARN), or export ALIBABA_CLOUD_ACCESS_KEY_ID, "
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN"
    )


def _signer_of(config: Mapping[str, Any], name: str, environ: Mapping[str, str], *, depth: int) -> Credentials:
    """The credentials that sign a chained AssumeRole: a source profile's key (AK allowed: STS only) or STS set."""
    profile = _find(config, name, "source_profile")
    if profile.get("mode") == "AK":
        key_id, secret = _key(profile, f"profile {name!r}")
        return Credentials(key_id, secret, None, f"profile {name!r} (AK, only to assume a role)")
    found = _credentials_of(config, name, "source_profile", environ, depth=depth)
    env = found.environment
    return Credentials(env[KEY_ID], env[SECRET], env.get(TOKEN), f"profile {name!r}")


def _assumed(signer: Credentials, profile: Mapping[str, Any], label: str,
             environ: Mapping[str, str]) -> ProfileCredentials:
    """STS AssumeRole, signed by ``signer`` and nothing else; the role's temporary credentials."""
    from ..config.parse import env_url
    from ..gateway import sts
    from ..gateway.client import Caller, ClientFactory
    from ..gateway.retry import RetryPolicy
    from ..logs import JsonLogger

    role_arn = _field(profile, "ram_role_arn", label)
    if not _ROLE_ARN.match(role_arn):
        raise ProfileError(f"{label}: ram_role_arn must look like acs:ram::<account-id>:role/<role-name>")
    session = str(profile.get("ram_session_name") or "").strip() or DEFAULT_SESSION_NAME
    if not _SESSION_NAME.match(session):
        raise ProfileError(f"{label}: ram_session_name must be 2-64 characters of letters, digits and . @ _ -")
    duration = profile.get("expired_seconds") or DEFAULT_DURATION_SECONDS
    if not isinstance(duration, int) or not 900 <= duration <= 43200:
        raise ProfileError(f"{label}: expired_seconds must be a whole number of seconds, 900..43200")
    endpoint = environ.get("STS_ENDPOINT", "").strip() or None  # the emulator's; else STS's real endpoint
    if endpoint:
        try:
            endpoint = env_url(endpoint)
        except ValueError as error:
            raise ProfileError(f"invalid setting 'STS_ENDPOINT': {error}") from None
    quiet = JsonLogger(stream=io.StringIO())  # the command reports the outcome itself, below
    caller = Caller(ClientFactory(signer, sts_endpoint=endpoint), logger=quiet,
                    retry=RetryPolicy(deadline=time.monotonic() + ASSUME_ROLE_TIMEOUT_SECONDS))
    try:
        assumed = sts.assume_role(caller, role_arn, session=session, duration_seconds=duration)
    except ApiError as error:
        raise ProfileError(f"{label}: AssumeRole of {role_arn} failed: {error.code}: {error.message}") from None
    return ProfileCredentials(
        {KEY_ID: assumed.access_key_id, SECRET: assumed.access_key_secret, TOKEN: assumed.security_token or ""},
        f"{label} ({profile.get('mode')}: assumed {role_arn} as {session}, {duration} s)",
    )


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ProfileError(f"cannot read {path}: {type(error).__name__}") from None  # no content: secrets
    if not isinstance(config, dict):
        raise ProfileError(f"{path} is not an aliyun CLI config (a JSON object with \"profiles\")")
    for profile in config.get("profiles") or []:  # whatever is chosen, nothing in the file may leak
        if isinstance(profile, dict):
            register_secret(str(profile.get("access_key_secret") or "") or None)
            register_secret(str(profile.get("sts_token") or "") or None)
    return config


def _find(config: Mapping[str, Any], name: str, why: str) -> Mapping[str, Any]:
    profiles = [p for p in config.get("profiles") or [] if isinstance(p, dict)]
    for profile in profiles:
        if profile.get("name") == name:
            return profile
    known = ", ".join(repr(p.get("name")) for p in profiles) or "none"
    raise ProfileError(f"no profile {name!r} ({why}) in the aliyun CLI config; its profiles: {known}")


def _key(profile: Mapping[str, Any], label: str) -> tuple[str, str]:
    return _field(profile, "access_key_id", label), _field(profile, "access_key_secret", label)


def _field(profile: Mapping[str, Any], key: str, label: str) -> str:
    value = profile.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{label} (mode {profile.get('mode')}) has no {key}")
    return value.strip()
