"""STS 2015-04-01: AssumeRole (role chaining included) and GetCallerIdentity."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from .context import RpcContext
from .errors import ApiError
from .keys import credentials_of
from .permissions import Policy

_ROLE_ARN = re.compile(r"^acs:ram::(\d+):role/([A-Za-z0-9.@_-]{1,64})$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
CHAINED_SESSION_MAX_SECONDS = 3600  # a role session assuming another role


def assume_role(ctx: RpcContext) -> dict:
    arn = ctx.require("RoleArn")
    session_name = ctx.require("RoleSessionName")
    if not _ROLE_ARN.match(arn):
        raise ApiError(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
    if not _SESSION_NAME.match(session_name):
        raise ApiError(
            400,
            "InvalidParameter.RoleSessionName",
            "RoleSessionName must be 2-64 characters of letters, digits, '.', '@', '-' and '_'.",
        )
    policy = ctx.get("Policy")
    if policy is not None:
        try:
            parsed = json.loads(policy)
        except ValueError:
            parsed = None
        if len(policy) > 2048 or not isinstance(parsed, dict) or not _is_policy(parsed):
            raise ApiError(
                400, "InvalidParameter.PolicyGrammar", "Policy must be a JSON policy document of <= 2048 chars."
            )
    external_id = ctx.get("ExternalId")
    if external_id is not None and not _EXTERNAL_ID.match(external_id):
        raise ApiError(400, "InvalidParameter.ExternalId", "ExternalId is not valid.")

    role = ctx.keys.role(arn)
    if role is None:
        raise ApiError(404, "EntityNotExist.Role", f"The role does not exist: {arn}.")
    duration = ctx.get_int("DurationSeconds", 400, "InvalidParameter.DurationSeconds", default=3600)
    assert duration is not None
    ceiling = role.max_session_duration
    if ctx.key.is_sts:
        ceiling = min(ceiling, CHAINED_SESSION_MAX_SECONDS)
    if not 900 <= duration <= ceiling:
        raise ApiError(
            400,
            "InvalidParameter.DurationSeconds",
            f"DurationSeconds must be within 900..{ceiling} for this caller and role.",
        )

    issued = ctx.keys.issue_sts(role, session_name, duration, session_policy=policy)
    credentials = credentials_of(issued)
    return {
        "AssumedRoleUser": {
            "Arn": f"{role.arn}/{session_name}",
            "AssumedRoleId": f"{role.role_id}:{session_name}",
        },
        "Credentials": {
            "AccessKeyId": credentials.access_key_id,
            "AccessKeySecret": credentials.access_key_secret,
            "SecurityToken": credentials.security_token,
            "Expiration": credentials.expiration,
        },
    }


def _is_policy(document: dict) -> bool:
    try:
        Policy.parse(document)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def get_caller_identity(ctx: RpcContext) -> dict:
    key = ctx.key
    if key.is_sts and key.role_arn:
        role = ctx.keys.role(key.role_arn)
        role_id = role.role_id if role else ""
        return {
            "AccountId": key.account_id,
            "Arn": f"{key.role_arn}/{key.session_name}",
            "IdentityType": "AssumedRoleUser",
            "PrincipalId": f"{role_id}:{key.session_name}",
            "RoleId": role_id,
        }
    return {
        "AccountId": key.account_id,
        "Arn": f"acs:ram::{key.account_id}:user/{key.user_name}",
        "IdentityType": "RAMUser",
        "PrincipalId": key.access_key_id,
        "UserId": key.access_key_id,
    }


STS_ACTIONS: dict[str, Callable[[RpcContext], dict]] = {
    "AssumeRole": assume_role,
    "GetCallerIdentity": get_caller_identity,
}
