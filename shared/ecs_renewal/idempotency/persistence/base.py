"""The storage interface behind idempotency records (AWS Lambda Powertools' ``BasePersistenceLayer`` shape).

A store maps a key to the time it was first stored; records older than the store's time-to-live are
gone. Two operations are the contract: :meth:`KeyStore.get` and :meth:`KeyStore.put_if_absent` (the
first writer wins, so two runs racing for a key cannot both think they were first). The batch forms
default to loops; a store that can do better (one file write, one batch request) overrides them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable


class KeyStore(ABC):
    @abstractmethod
    def get(self, key: str) -> float | None:
        """When ``key`` was stored (epoch seconds), or None when absent or expired."""

    @abstractmethod
    def put_if_absent(self, key: str, stored_at: float | None = None) -> bool:
        """Store ``key`` unless it is present; True when this call stored it."""

    def absent(self, keys: Iterable[str]) -> set[str]:
        """The keys that are not stored (or have expired)."""
        return {key for key in keys if self.get(key) is None}

    def put_all_if_absent(self, keys: Iterable[str]) -> set[str]:
        """Store each absent key; the keys this call stored."""
        return {key for key in keys if self.put_if_absent(key)}
