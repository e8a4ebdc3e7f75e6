"""The card's Approve / Reject links: they name the plan, the action and the expiry, and are HMAC-signed.

``<approve-renewal URL>?plan=<id>&action=approve&expires=<epoch seconds>&sig=<hex>``, where ``sig`` is
HMAC-SHA256(``APPROVAL_SECRET``, ``link|<action>|<plan id>|<expires>``). Changing any of the three
(another plan, reject → approve, a later expiry) breaks the signature. The expiry is the plan's own
``valid_until``. Trust: anyone who holds the link before it expires can use it (a link in a group can be
forwarded); the robot-callback mode (``robot.py``) names the person instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from .document import PlanRefused, secret_key

ACTIONS = ("approve", "reject")
_PLAN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SIG_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class LinkRequest:
    plan_id: str
    action: str
    expires: int  # epoch seconds


def _link_signature(plan_id: str, action: str, expires: int, secret: str) -> str:
    material = f"link|{action}|{plan_id}|{expires}".encode("ascii")
    return hmac.new(secret_key(secret), material, hashlib.sha256).hexdigest()


def signed_link(base_url: str, plan_id: str, action: str, expires: datetime, secret: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    epoch = int(expires.timestamp())
    query = urlencode({"plan": plan_id, "action": action, "expires": epoch,
                       "sig": _link_signature(plan_id, action, epoch, secret)})
    return f"{base_url.rstrip('/')}?{query}"


def verify_link(query: Mapping[str, str], secret: str, *, now: datetime) -> LinkRequest:
    """The request the link names, if its signature holds and it has not expired; else :class:`PlanRefused`."""
    plan_id, action = str(query.get("plan", "")), str(query.get("action", ""))
    expires_text, sig = str(query.get("expires", "")), str(query.get("sig", ""))
    if not _PLAN_ID_RE.match(plan_id) or action not in ACTIONS or not expires_text.isdigit() or not _SIG_RE.match(sig):
        raise PlanRefused("LinkMalformed", "this link is incomplete or not an approval link")
    expires = int(expires_text)
    if not hmac.compare_digest(sig, _link_signature(plan_id, action, expires, secret)):
        raise PlanRefused("LinkSignatureMismatch", "this link was not made by ecs-renewal, or was changed: "
                          "nothing was done")
    if now.astimezone(UTC).timestamp() >= expires:
        raise PlanRefused("LinkExpired", f"this link expired at {datetime.fromtimestamp(expires, UTC):%Y-%m-%d %H:%M} "
                          "UTC: nothing was done; the next nightly run makes a new plan")
    return LinkRequest(plan_id, action, expires)


_PAGE_RE = re.compile(r"^expiry-\d{4}-\d{2}-\d{2}$")


def signed_page_link(base_url: str, page: str, expires: datetime, secret: str) -> str:
    """A link to a stored expiry page, served by approve-renewal: HMAC-signed, no cloud credential in it
    (an OSS URL signed with STS credentials would carry the security token into the group)."""
    epoch = int(expires.timestamp())
    query = urlencode({"page": page, "expires": epoch, "sig": _link_signature(page, "page", epoch, secret)})
    return f"{base_url.rstrip('/')}?{query}"


def verify_page_link(query: Mapping[str, str], secret: str, *, now: datetime) -> str:
    """The page the link names, if signed by us and not expired; else :class:`PlanRefused`."""
    page, expires_text, sig = (str(query.get(name, "")) for name in ("page", "expires", "sig"))
    if not _PAGE_RE.match(page) or not expires_text.isdigit() or not _SIG_RE.match(sig):
        raise PlanRefused("LinkMalformed", "this link is incomplete or not a page link")
    if not hmac.compare_digest(sig, _link_signature(page, "page", int(expires_text), secret)):
        raise PlanRefused("LinkSignatureMismatch", "this link was not made by ecs-renewal, or was changed")
    if now.astimezone(UTC).timestamp() >= int(expires_text):
        raise PlanRefused("LinkExpired", "this link has expired: tonight's digest has a new one")
    return page
