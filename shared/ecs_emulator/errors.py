"""The error type every handler raises, and the JSON body the gateway answers with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


class ApiError(Exception):
    """An error answer: HTTP status + Alibaba Cloud error code + message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DropConnection(Exception):
    """Raised to close the socket without writing any response (endpoint down, lost answer)."""

    reason: str = "dropped"


def new_request_id() -> str:
    """Request ids look like the real ones: an upper-case UUID."""
    return str(uuid.uuid4()).upper()


def error_body(error: ApiError, request_id: str, host_id: str, product: str = "Ecs") -> dict:
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": error.code,
        "Message": error.message,
        "Recommend": (
            f"https://api.alibabacloud.com/troubleshoot?q={error.code}&product={product}&requestId={request_id}"
        ),
    }


def missing(name: str) -> ApiError:
    """Missing mandatory parameter (emulator's naming: ``Missing<Name>``, HTTP 400)."""
    return ApiError(
        400,
        f"Missing{name}",
        f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
    )
