"""The storage interfaces behind idempotency records (AWS Lambda Powertools' ``BasePersistenceLayer`` shape).

A store maps a key to the time it was first stored; records older than the store's time-to-live are
gone. Two operations are the contract: :meth:`KeyStore.get` and :meth:`KeyStore.put_if_absent` (the
first writer wins, so two runs racing for a key cannot both think they were first). The batch forms
default to loops; a store that can do better (one file write, one batch request) overrides them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any


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


class RecordStore(ABC):
    """A few named short text records kept *with* a resource (the renewal ledger, ``renewal_ledger.py``).

    Unlike a :class:`KeyStore` (keys and when they were stored), a record store keeps values per resource,
    and reads them from what the caller already holds when it can: the tag implementation
    (``tags.py``) reads an instance's records from the tags DescribeInstances returned, at no extra call.
    Writes raise on failure: a caller that needs the record before acting (the intent) must know.
    """

    @abstractmethod
    def read(self, resource: Any) -> dict[str, str]:
        """The resource's records (name → value), as the caller's view of the resource holds them."""

    @abstractmethod
    def room(self, resource: Any, names: Iterable[str]) -> bool:
        """Whether these records fit on the resource (a tag store has 20 slots)."""

    @abstractmethod
    def write(self, resource: Any, records: Mapping[str, str]) -> None:
        """Store (or replace) these records; raises when they could not be stored."""

    @abstractmethod
    def remove(self, region: str, resource_ids: Iterable[str], names: Iterable[str]) -> None:
        """Drop these records from these resources; raises when they could not be dropped."""
