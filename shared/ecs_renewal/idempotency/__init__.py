"""Idempotency: the keys that make a repeated action the same action, and where they are remembered.

- ``keys.py``: the renewal's ClientToken, the fan-out's async task id and the reminder key, side by side
  (each a pure function of the decision it names: never of the process, the clock or a set's order);
- ``persistence/``: a small storage interface (get / put-if-absent) with a file implementation; a cloud
  store (OSS, Tablestore) plugs in behind the same interface;
- ``reminders.py``: the reminder ledger (which reminders already went out today) on top of a store.

Light on purpose: a renewal imports only the token (``keys``), not the storage.
"""

from .keys import TOKEN_PREFIX, async_task_id, reminder_key, renewal_client_token

__all__ = ["TOKEN_PREFIX", "async_task_id", "reminder_key", "renewal_client_token"]
