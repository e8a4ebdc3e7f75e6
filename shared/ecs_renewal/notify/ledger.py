"""The reminder ledger moved to :mod:`ecs_renewal.idempotency.reminders` (with the other idempotency keys)."""

from ..idempotency.keys import reminder_key
from ..idempotency.reminders import NotificationLedger

__all__ = ["NotificationLedger", "reminder_key"]
