"""Policy: which instances a job may touch, and why not the others. Pure data in, decision out.

The filters renew-batch and audit-autorenew share (Cloud Custodian's filters): each says, for one
instance, the :class:`~.records.Skip` that keeps it out, or None; :func:`apply` runs them in order and
returns what is kept and what is skipped (the first reason wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from .gateway.models import Instance
from .records import Skip, SkipCode

if TYPE_CHECKING:
    from .settings import Settings, TagMatcher
    from .tag_rules import RenewalTerms

# Locks under which a renewal is refused or pointless. A "financial" lock (expired, unpaid) is exactly
# what a renewal lifts, so it does not block.
BLOCKING_LOCKS = frozenset({"security", "recycling", "refunded"})
LETS_GO = "owner set NotRenewal: the instance is being let go on purpose"
AUTO_RENEWING = "auto-renew is on: the platform renews it (from 9 days before expiry)"
DEDUCTION_FAILED = ("auto-renew deduction failed — check the balance: the platform retries daily at 08:00 UTC+8 "
                    "until the expiry; RENEW_FAILED_AUTO_RENEW=true renews it here")


def apply(filters: Sequence[Filter], instances: Iterable[Instance]) -> tuple[list[Instance], list[Skip]]:
    kept: list[Instance] = []
    skipped: list[Skip] = []
    for instance in instances:
        skip = next((s for s in (f.skip(instance) for f in filters) if s is not None), None)
        if skip is None:
            kept.append(instance)
        else:
            skipped.append(skip)
    return kept, skipped


class ChargeType:
    """Only prepaid instances have anything to renew."""

    def skip(self, instance: Instance) -> Skip | None:
        if instance.is_prepaid:
            return None
        return Skip(instance, SkipCode.PAY_AS_YOU_GO, "pay-as-you-go instance: nothing to renew")


class Locks:
    def skip(self, instance: Instance) -> Skip | None:
        blocking = sorted(BLOCKING_LOCKS.intersection(instance.locks))
        return Skip(instance, SkipCode.LOCKED, f"locked ({', '.join(blocking)})") if blocking else None


class Tags(NamedTuple):
    """The include / exclude tags (``RENEW_INCLUDE_TAG``, ``RENEW_EXCLUDE_TAG``, default ``renewal=manual``)."""

    include: TagMatcher | None
    exclude: TagMatcher | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Tags:
        return cls(settings.include_tag, settings.exclude_tag)

    def skip(self, instance: Instance) -> Skip | None:
        if self.exclude is not None and self.exclude.matches(instance.tags):
            return Skip(instance, SkipCode.EXCLUDED_BY_TAG, f"excluded by tag {self.exclude}")
        if self.include is not None and not self.include.matches(instance.tags):
            return Skip(instance, SkipCode.NOT_INCLUDED_BY_TAG, f"not tagged {self.include}")
        return None


class OwnerChoice(NamedTuple):
    """What the owner already decided (``RenewalStatus``): ``NotRenewal`` is let go on purpose; ``AutoRenewal``
    is renewed by the platform, unless ``renew_auto_renewing`` lets it through — or unless the platform's
    deduction already failed (inside the last nine days after its first attempt, ``deductions.py``): that
    one is not being renewed for us after all, and ``renew_failed_auto_renew`` lets it through."""

    statuses: Mapping[str, str]
    renew_auto_renewing: bool = True
    renew_failed_auto_renew: bool = False
    now: datetime | None = None  # when given, AutoRenewal instances are checked for a failed deduction

    def skip(self, instance: Instance) -> Skip | None:
        status = self.statuses.get(instance.instance_id, "")
        if status == "NotRenewal":
            return Skip(instance, SkipCode.OWNER_LETS_GO, LETS_GO)
        if status == "AutoRenewal" and not self.renew_auto_renewing:
            if self.deduction_failed(instance):
                if self.renew_failed_auto_renew:
                    return None
                return Skip(instance, SkipCode.DEDUCTION_FAILED, DEDUCTION_FAILED)
            return Skip(instance, SkipCode.AUTO_RENEWING, AUTO_RENEWING)
        return None

    def deduction_failed(self, instance: Instance) -> bool:
        from .deductions import deduction_failed

        status = self.statuses.get(instance.instance_id)
        return self.now is not None and deduction_failed(instance.expired_time, status, self.now)


# A filter: anything with ``skip(instance) -> Skip | None``.
Filter = ChargeType | Locks | Tags | OwnerChoice


def renewable(settings: Settings) -> list[Filter]:
    """What renew-batch leaves alone before it asks anything more: charge type, locks, tags."""
    return [ChargeType(), Locks(), Tags.from_settings(settings)]


def with_terms(settings: Settings, instances: Iterable[Instance]) -> tuple[list[tuple[Instance, RenewalTerms]],
                                                                       list[Skip]]:
    """Each instance's renewal terms: the run's, or its own tags'. An unusable tag is a skip, not a guess."""
    from .tag_rules import renewal_terms  # renew-batch only: the audit never reads terms

    window_days = (settings.window.end - settings.window.start).days if settings.instance_ids is None else 0
    kept: list[tuple[Instance, RenewalTerms]] = []
    skipped: list[Skip] = []
    for instance in instances:
        terms = renewal_terms(instance.tags, settings.tag_names, settings.period, settings.period_unit,
                              site=settings.site, unified_day=settings.unified_expiry_day)
        if isinstance(terms, str):
            skipped.append(Skip(instance, SkipCode.BAD_TAG_TERMS, terms))
        elif terms.from_tags and window_days > terms.min_days:
            skipped.append(Skip(instance, SkipCode.TERMS_SHORTER_THAN_WINDOW, (
                f"tagged terms ({terms.describe()}) are shorter than the {window_days}-day window: it would be "
                "renewed again by the next run; tag a longer period or use a shorter window")))
        else:
            kept.append((instance, terms))
    return kept, skipped
