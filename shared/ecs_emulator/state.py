"""Mutable emulator state: accounts (balance, idempotency tokens) and instances, under one lock."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .billing import INSUFFICIENT_FUNDS_ERROR, Wallet
from .model import InstanceRecord

DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_BALANCE = 10_000_000.0
MAX_PAGE_TOKENS = 10_000
# How long ECS remembers a ClientToken is NOT documented; the emulator forgets it after 6 h by default
# (a knob: ``Emulator(client_token_ttl=...)``, None = forever) so that nothing can lean on a long memory.
DEFAULT_CLIENT_TOKEN_TTL = 6 * 3600.0
# Same token, other parameters: the RenewInstance error table says IdempotenceParamNotMatch, the
# idempotence page says IdempotentParameterMismatch. The emulator answers one of them (a knob).
IDEMPOTENCE_MISMATCH_CODES = ("IdempotenceParamNotMatch", "IdempotentParameterMismatch")


@dataclass
class TokenRecord:
    """What a RenewInstance ClientToken was first used for, and the answer it got."""

    params: tuple
    order_id: str
    instance_id: str
    at: float = 0.0  # time.time() of the renewal that used it first


@dataclass
class Account:
    account_id: str
    balance: float = DEFAULT_BALANCE
    client_tokens: dict[str, TokenRecord] = field(default_factory=dict)
    wallet: Wallet = field(default_factory=Wallet)  # credit line, unified expiry day, charges (billing.py)


class EmulatorState:
    def __init__(self, renew_visibility_delay: float, default_account_id: str) -> None:
        self.lock = threading.RLock()
        self.renew_visibility_delay = renew_visibility_delay
        self.default_account_id = default_account_id
        self.site = "china"  # which ECS site the emulator plays (billing.SITES)
        self.client_token_ttl: float | None = DEFAULT_CLIENT_TOKEN_TTL
        self.idempotence_mismatch_code = IDEMPOTENCE_MISMATCH_CODES[0]
        self.insufficient_funds_error = INSUFFICIENT_FUNDS_ERROR  # what RenewInstance answers when funds are short
        self.accounts: dict[str, Account] = {}
        self.instances: dict[str, InstanceRecord] = {}
        # DescribeInstances NextToken -> (query fingerprint, offset). Bounded: oldest tokens are forgotten.
        self.page_tokens: OrderedDict[str, tuple[tuple, int]] = OrderedDict()
        self._order_counter = random.SystemRandom().randrange(200_000_000_000_000, 210_000_000_000_000)
        # (account, region) -> its instances in listing order. Scanning every instance on each
        # DescribeInstances page made a 50,000-instance fleet cost the emulator ~10 ms a page.
        self._by_region: dict[tuple[str, str], list[InstanceRecord]] = {}
        self._indexed = (-1, -1)  # (generation, len(instances)) the index was built for
        self._generation = 0
        self.account(default_account_id)

    def account(self, account_id: str) -> Account:
        with self.lock:
            if account_id not in self.accounts:
                self.accounts[account_id] = Account(account_id)
            return self.accounts[account_id]

    def remembered_token(self, account: Account, token: str | None) -> TokenRecord | None:
        """What ``token`` was used for, unless it is older than ``client_token_ttl`` (then it is forgotten)."""
        if token is None:
            return None
        with self.lock:
            record = account.client_tokens.get(token)
            if record is None:
                return None
            ttl = self.client_token_ttl
            if ttl is not None and time.time() - record.at >= ttl:
                del account.client_tokens[token]
                return None
            return record

    def add_instance(self, record: InstanceRecord) -> None:
        with self.lock:
            if record.instance_id in self.instances:
                raise ValueError(f"duplicate instance id {record.instance_id}")
            self.account(record.account_id)
            self.instances[record.instance_id] = record
            self._generation += 1

    def find(self, instance_id: str, account_id: str, region_id: str | None) -> InstanceRecord | None:
        """An instance as the caller sees it: same account, same region (ids are regional)."""
        record = self.instances.get(instance_id)
        if record is None or record.account_id != account_id:
            return None
        if region_id is not None and record.region_id != region_id:
            return None
        return record

    def in_region(self, account_id: str, region_id: str) -> list[InstanceRecord]:
        """A region's instances in a stable order (creation time, id). Callers must not mutate the list."""
        with self.lock:
            # len() also catches instances.clear(), which does not go through add_instance().
            if self._indexed != (self._generation, len(self.instances)):
                index: dict[tuple[str, str], list[InstanceRecord]] = {}
                for record in self.instances.values():
                    index.setdefault((record.account_id, record.region_id), []).append(record)
                for records in index.values():
                    records.sort(key=lambda r: (r.creation_time, r.instance_id))
                self._by_region, self._indexed = index, (self._generation, len(self.instances))
            return self._by_region.get((account_id, region_id), [])

    def issue_page_token(self, fingerprint: tuple, offset: int) -> str:
        token = secrets.token_hex(16)
        with self.lock:
            self.page_tokens[token] = (fingerprint, offset)
            while len(self.page_tokens) > MAX_PAGE_TOKENS:
                self.page_tokens.popitem(last=False)
        return token

    def next_order_id(self) -> str:
        with self.lock:
            self._order_counter += 1
            return str(self._order_counter)
