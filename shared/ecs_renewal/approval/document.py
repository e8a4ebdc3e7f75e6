"""A renewal plan as a value: what will be bought, at what price, until when it may be applied, signed.

The canonical form is JSON with sorted keys, no whitespace and ASCII only: the same plan is the same bytes
in any process. The plan's id is the SHA-256 of the canonical form of everything but the signature; the
signature is HMAC-SHA256 over the id with ``APPROVAL_SECRET`` (a setting the functions hold; it signs
plans and links, it is never a cloud credential: cloud calls stay STS-only). Any change to any field —
an entry added, a price, an expiry, the validity window — changes the id, and the signature no longer
matches: :func:`verify` refuses it before anything is read from the cloud.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FORMAT = "ecs-renewal/plan/1"
DEFAULT_TTL = timedelta(hours=12)
MIN_SECRET_BYTES = 16
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class PlanRefused(ValueError):
    """The plan must not be applied at all (tampered, expired, malformed): nothing is renewed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PlanEntry:
    """One renewal as it was decided and priced: applied only if the instance still looks like this."""

    account: str
    region: str
    instance_id: str
    name: str
    owner: str
    expired_time: str  # the expiry it was selected at, minute precision, UTC ("2026-01-15T16:00Z")
    period: int | None
    unit: str | None
    expected_renew_day: int | None
    client_token: str
    price: float | None
    currency: str | None

    @property
    def terms(self) -> str:
        if self.expected_renew_day is not None:
            return f"to day {self.expected_renew_day}"
        return f"{self.period} {self.unit}{'s' if self.period != 1 else ''}"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PlanEntry:
        try:
            entry = cls(**{name: raw[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError) as error:
            raise PlanRefused("PlanMalformed", f"a plan entry is incomplete: {error}") from None
        if not isinstance(entry.instance_id, str) or not isinstance(entry.client_token, str):
            raise PlanRefused("PlanMalformed", "a plan entry's instance id and token must be strings")
        return entry


@dataclass(frozen=True)
class Plan:
    """Entries (sorted by account, region, id), totals per currency, the caps checked, the validity window."""

    entries: tuple[PlanEntry, ...]
    made_at: str
    valid_until: str
    caps: Mapping[str, Any] = field(default_factory=dict)
    dry_run_at_planning: bool = False
    format: str = FORMAT

    @property
    def totals(self) -> dict[str, float]:
        sums: dict[str, float] = {}
        for entry in self.entries:
            if entry.price is not None and entry.currency:
                sums[entry.currency] = round(sums.get(entry.currency, 0.0) + entry.price, 2)
        return dict(sorted(sums.items()))

    @property
    def unpriced(self) -> list[str]:
        return [entry.instance_id for entry in self.entries if entry.price is None]

    def body(self) -> dict[str, Any]:
        """Everything the id covers (the totals too: a changed total is a changed plan)."""
        return {
            "format": self.format,
            "made_at": self.made_at,
            "valid_until": self.valid_until,
            "caps": dict(self.caps),
            "dry_run_at_planning": self.dry_run_at_planning,
            "entries": [asdict(entry) for entry in self.entries],
            "totals": self.totals,
        }

    @property
    def plan_id(self) -> str:
        return hashlib.sha256(canonical(self.body())).hexdigest()[:32]

    def valid_until_time(self) -> datetime:
        return parse_time(self.valid_until)


def canonical(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII: one plan, one byte string."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise PlanRefused("PlanMalformed", f"not a UTC time like 2026-01-15T16:00:00Z: {text!r}") from None


def make_plan(entries: Iterable[PlanEntry], *, now: datetime, ttl: timedelta = DEFAULT_TTL,
              caps: Mapping[str, Any] | None = None, dry_run_at_planning: bool = False) -> Plan:
    ordered = tuple(sorted(entries, key=lambda e: (e.account, e.region, e.instance_id)))
    ids = [entry.instance_id for entry in ordered]
    if len(set(ids)) != len(ids):
        raise PlanRefused("PlanMalformed", "an instance appears twice in the plan")
    return Plan(ordered, format_time(now), format_time(now + ttl), dict(caps or {}), dry_run_at_planning)


def secret_key(secret: str) -> bytes:
    key = secret.encode("utf-8")
    if len(key) < MIN_SECRET_BYTES:
        raise PlanRefused("ApprovalSecretMissing",
                          f"APPROVAL_SECRET must be set (at least {MIN_SECRET_BYTES} bytes) to sign or verify plans")
    return key


def signature(plan_id: str, secret: str) -> str:
    return hmac.new(secret_key(secret), f"plan|{plan_id}".encode("ascii"), hashlib.sha256).hexdigest()


def signed_document(plan: Plan, secret: str) -> dict[str, Any]:
    """The file (``plan --out``) and the stored object: the body, its id and the signature."""
    return {**plan.body(), "plan_id": plan.plan_id, "signature": signature(plan.plan_id, secret)}


def dumps(plan: Plan, secret: str) -> bytes:
    """Readable on disk (indented), and still verified by value: the id is recomputed from the fields."""
    return json.dumps(signed_document(plan, secret), indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def _as_mapping(document: Mapping[str, Any] | bytes) -> Mapping[str, Any]:
    if isinstance(document, bytes | bytearray):
        try:
            document = json.loads(document)
        except ValueError:
            raise PlanRefused("PlanMalformed", "the plan is not JSON") from None
    if not isinstance(document, Mapping):
        raise PlanRefused("PlanMalformed", "the plan is not a JSON object")
    return document


def verify(document: Mapping[str, Any] | bytes, secret: str, *, now: datetime) -> Plan:
    """The plan, if it is exactly what was signed and still valid; else :class:`PlanRefused` (nothing applies)."""
    document = _as_mapping(document)
    if document.get("format") != FORMAT:
        raise PlanRefused("PlanMalformed", f"not an ecs-renewal plan (format {document.get('format')!r})")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise PlanRefused("PlanMalformed", "the plan has no entry list")
    plan = Plan(
        entries=tuple(PlanEntry.from_dict(raw) for raw in entries if isinstance(raw, Mapping)),
        made_at=str(document.get("made_at")), valid_until=str(document.get("valid_until")),
        caps=document.get("caps") or {}, dry_run_at_planning=bool(document.get("dry_run_at_planning")),
    )
    if len(plan.entries) != len(entries):
        raise PlanRefused("PlanMalformed", "a plan entry is not an object")
    claimed = str(document.get("signature", ""))
    expected = signature(plan.plan_id, secret)  # recomputed from the fields, never the document's own id
    if document.get("plan_id") != plan.plan_id or not hmac.compare_digest(claimed, expected):
        raise PlanRefused("PlanSignatureMismatch",
                          "the plan was changed after it was signed (or signed with another secret): nothing applied")
    if document.get("totals") != plan.totals:
        raise PlanRefused("PlanSignatureMismatch", "the plan's totals do not add up: nothing applied")
    made_at = parse_time(plan.made_at)
    if now >= plan.valid_until_time():
        raise PlanRefused("PlanExpired", f"the plan expired at {plan.valid_until}: nothing applied; make a new plan")
    if now < made_at - timedelta(minutes=5):
        raise PlanRefused("PlanMalformed", f"the plan claims to be made in the future ({plan.made_at})")
    return plan
