"""Policy: which instances a job may touch, and why not the others. Pure data in, decision out."""

from __future__ import annotations

from dataclasses import dataclass

from .gateway.models import Instance
from .settings import Settings, TagMatcher

# Locks under which a renewal is refused or pointless. A "financial" lock (expired, unpaid) is exactly
# what a renewal lifts, so it does not block.
BLOCKING_LOCKS = frozenset({"security", "recycling", "refunded"})


@dataclass(frozen=True)
class TagPolicy:
    include: TagMatcher | None
    exclude: TagMatcher | None

    @classmethod
    def from_settings(cls, settings: Settings) -> TagPolicy:
        return cls(settings.include_tag, settings.exclude_tag)

    def reason_to_skip(self, instance: Instance) -> str | None:
        if self.exclude is not None and self.exclude.matches(instance.tags):
            return f"excluded by tag {self.exclude}"
        if self.include is not None and not self.include.matches(instance.tags):
            return f"not tagged {self.include}"
        return None


def renewal_skip_reason(instance: Instance, tags: TagPolicy) -> str | None:
    """Why renew-batch must not renew this instance, or None when it may."""
    if not instance.is_prepaid:
        return "pay-as-you-go instance: nothing to renew"
    blocking = sorted(BLOCKING_LOCKS.intersection(instance.locks))
    if blocking:
        return f"locked ({', '.join(blocking)})"
    return tags.reason_to_skip(instance)
