"""The idempotency store interface: get / put-if-absent, a file today, any store behind the same interface."""

from __future__ import annotations

import threading

import pytest

from ecs_renewal.idempotency import reminder_key
from ecs_renewal.idempotency.persistence import FileStore, KeyStore
from ecs_renewal.idempotency.reminders import NotificationLedger


class MemoryStore(KeyStore):
    """What a cloud store looks like to the ledger: only the two abstract operations."""

    def __init__(self) -> None:
        self.data: dict[str, float] = {}

    def get(self, key):
        return self.data.get(key)

    def put_if_absent(self, key, stored_at=None):
        if key in self.data:
            return False
        self.data[key] = 1.0 if stored_at is None else stored_at
        return True


def test_the_interface_has_exactly_two_operations_to_implement():
    assert KeyStore.__abstractmethods__ == {"get", "put_if_absent"}
    with pytest.raises(TypeError):
        KeyStore()  # type: ignore[abstract]


@pytest.mark.parametrize("make", [lambda tmp: FileStore(tmp / "keys.json", clock=lambda: 10.0),
                                  lambda tmp: MemoryStore()])
def test_first_writer_wins(make, tmp_path):
    store = make(tmp_path)
    assert store.get("a") is None
    assert store.put_if_absent("a", 5.0) is True
    assert store.put_if_absent("a", 9.0) is False and store.get("a") == 5.0
    assert store.absent(["a", "b"]) == {"b"}
    assert store.put_all_if_absent(["a", "b", "c"]) == {"b", "c"}


def test_file_records_expire_after_their_time_to_live(tmp_path):
    now = [1000.0]
    store = FileStore(tmp_path / "keys.json", ttl_seconds=60, clock=lambda: now[0])
    store.put_if_absent("a")
    now[0] += 61
    assert store.get("a") is None and store.put_if_absent("a") is True


def test_threads_racing_for_a_key_store_it_once(tmp_path):
    store = FileStore(tmp_path / "keys.json")
    wins = []
    threads = [threading.Thread(target=lambda: wins.append(store.put_if_absent("same"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1


def test_an_unwritable_folder_remembers_nothing_and_raises_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = FileStore(blocker / "keys.json")
    assert store.put_if_absent("a") is False and store.get("a") is None


def test_the_ledger_works_on_any_store():
    store = MemoryStore()
    ledger = NotificationLedger(store=store)
    keys = {reminder_key("i-a", 7, "2026-11-25"), reminder_key("i-b", 3, "2026-11-25")}
    assert ledger.unseen(keys) == keys
    ledger.remember(keys)
    assert ledger.unseen(keys) == set() and set(store.data) == keys
