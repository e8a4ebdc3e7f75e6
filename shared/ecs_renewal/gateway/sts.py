"""STS AssumeRole (loaded only when ``ASSUME_ROLE_ARN`` is set: keeps the cold start small)."""

from __future__ import annotations

import re
from datetime import datetime

from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

from ..credentials import Credentials
from ..logs import register_secret
from .client import Caller

# Role chaining (a role session assuming another role) is capped at one hour.
DEFAULT_DURATION_SECONDS = 3600


def session_name(job: str, request_id: str | None) -> str:
    """2-64 characters of ``[A-Za-z0-9.@_-]`` that say which job and run assumed the role (ActionTrail)."""
    raw = f"ecs-renewal-{job}-{request_id or 'local'}"
    return re.sub(r"[^A-Za-z0-9.@_-]", "-", raw)[:64]


def assume_role(
    caller: Caller, role_arn: str, *, session: str, duration_seconds: int = DEFAULT_DURATION_SECONDS
) -> Credentials:
    request = AssumeRoleRequest()
    request.set_RoleArn(role_arn)
    request.set_RoleSessionName(session)
    request.set_DurationSeconds(duration_seconds)
    body = caller.call(request, region="cn-hangzhou", product="sts")
    creds = body["Credentials"]
    register_secret(creds["AccessKeySecret"])
    register_secret(creds["SecurityToken"])
    expiration = datetime.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%S%z") if creds.get("Expiration") else None
    return Credentials(
        creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], f"assumed:{role_arn}", expiration
    )
