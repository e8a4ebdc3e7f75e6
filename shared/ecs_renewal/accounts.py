"""Target accounts: which accounts a run covers, and the role to assume in each.

``ACCOUNTS`` (environment, JSON) or ``ACCOUNTS_FILE`` (a JSON file shipped with the code, path
relative to the code root) lists them::

    [{"account_id": "1234567890123456", "role_arn": "acs:ram::1234567890123456:role/ecs-renewal-target",
      "name": "prod"}]

With neither set, the run covers the function's own account with its own credentials, exactly as
before. The event key ``accounts`` narrows a manual run to some of the configured accounts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidEventError, InvalidSettingError

ACCOUNT_ID_RE = re.compile(r"^\d{5,20}$")
ROLE_ARN_RE = re.compile(r"^acs:ram::(\d{5,20}):role/[A-Za-z0-9.@\-_/]{1,64}$")
MAX_ACCOUNTS = 500
CODE_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Account:
    account_id: str
    role_arn: str
    name: str = ""

    def label(self) -> str:
        return f"{self.name} ({self.account_id})" if self.name else self.account_id


def load_accounts(environ: Mapping[str, str], *, code_root: Path = CODE_ROOT) -> tuple[Account, ...] | None:
    """The configured target accounts, or None when the run is for the function's own account."""
    text = environ.get("ACCOUNTS", "").strip()
    source = "ACCOUNTS"
    if not text and environ.get("ACCOUNTS_FILE", "").strip():
        source = "ACCOUNTS_FILE"
        path = Path(environ["ACCOUNTS_FILE"].strip())
        path = path if path.is_absolute() else code_root / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidSettingError(source, f"cannot read {path.name}: {error.strerror}") from None
    if not text:
        return None
    try:
        raw = json.loads(text)
    except ValueError:
        raise InvalidSettingError(source, "is not valid JSON") from None
    return _parse(raw, source)


def _parse(raw: Any, source: str) -> tuple[Account, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidSettingError(source, "must be a non-empty JSON list of {account_id, role_arn, name}")
    if len(raw) > MAX_ACCOUNTS:
        raise InvalidSettingError(source, f"lists {len(raw)} accounts; at most {MAX_ACCOUNTS}")
    accounts: dict[str, Account] = {}
    for index, item in enumerate(raw):
        where = f"entry {index + 1}"
        if not isinstance(item, dict) or set(item) - {"account_id", "role_arn", "name"}:
            raise InvalidSettingError(source, f"{where} must be an object with account_id, role_arn and name")
        account_id, role_arn, name = item.get("account_id"), item.get("role_arn"), item.get("name", "")
        if not isinstance(account_id, str) or not ACCOUNT_ID_RE.match(account_id):
            raise InvalidSettingError(source, f"{where}: account_id must be the numeric account id as a string")
        match = ROLE_ARN_RE.match(role_arn) if isinstance(role_arn, str) else None
        if not match:
            raise InvalidSettingError(source, f"{where}: role_arn must look like acs:ram::<account>:role/<name>")
        if match.group(1) != account_id:
            owner = match.group(1)
            raise InvalidSettingError(source, f"{where}: role_arn belongs to account {owner}, not {account_id}")
        if not isinstance(name, str) or len(name) > 64:
            raise InvalidSettingError(source, f"{where}: name must be a short string")
        if account_id in accounts:
            raise InvalidSettingError(source, f"account {account_id} is listed twice")
        accounts[account_id] = Account(account_id, role_arn, name)
    return tuple(accounts.values())


def narrow(configured: tuple[Account, ...] | None, wanted: tuple[str, ...] | None) -> tuple[Account, ...] | None:
    """Apply the event's ``accounts`` key: only known accounts may be named."""
    if wanted is None:
        return configured
    if configured is None:
        raise InvalidEventError("accounts", "was given but no ACCOUNTS are configured")
    known = {account.account_id: account for account in configured}
    unknown = [account_id for account_id in wanted if account_id not in known]
    if unknown:
        raise InvalidEventError("accounts", f"names accounts that are not configured: {', '.join(unknown[:5])}")
    return tuple(known[account_id] for account_id in wanted)
