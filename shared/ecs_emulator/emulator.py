"""``Emulator``: the one object tests, the demo and the CLI hold."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType

from .autorenew import Deduction, mark_failed_deductions, run_deductions
from .billing import SITES, Charge
from .calls import CallLog, CallRecord
from .clock import UTC, format_minute, format_second, parse_flexible, utcnow
from .dingtalk import MAX_BODY_BYTES, DingTalkRobot
from .ecs_actions import renewal_terms_quote
from .faults import Faults
from .fc import FunctionCompute
from .fleet import FleetSpec, generate_fleet, load_fleet_file, new_instance_id, save_fleet_file
from .gateway import RpcGateway
from .keys import Credentials, KeyRegistry, StaticKey, credentials_of, role_arn
from .model import (
    CHARGE_TYPES,
    INSTANCE_STATUSES,
    LOCK_REASONS,
    POSTPAID_EXPIRY,
    RENEWAL_STATUSES,
    InstanceRecord,
    RenewalRecord,
)
from .oss import ObjectStorage
from .permissions import (
    ADMINISTRATOR,
    FUNCTION_ROLE_DOCUMENTS,
    Permissions,
    Policy,
    as_policies,
    project_policies,
)
from .pricing import Resources
from .regions import REGIONS
from .server import EmulatorHTTPServer
from .state import DEFAULT_ACCOUNT_ID, DEFAULT_CLIENT_TOKEN_TTL, IDEMPOTENCE_MISMATCH_CODES, EmulatorState
from .throttle import Quota, Throttle

DEFAULT_ROLE_NAME = "ecs-renewal"
FUNCTION_CREDENTIALS_TTL = 6 * 3600
PolicyDocuments = Mapping | str | Policy | Iterable[Mapping | str | Policy]


class Emulator:
    def __init__(
        self,
        fleet: FleetSpec | None = None,
        renew_visibility_delay: float = 10.0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        site: str = "china",
        *,
        throttling: bool = True,
        quotas: Mapping[str, Quota | float | tuple[int, int]] | None = None,
        throttle_block_until_next_minute: bool = True,
        throttle_code: str = "Throttling.User",
        ram: bool = True,
        function_role_policy: PolicyDocuments | None = None,
        client_token_ttl: float | None = DEFAULT_CLIENT_TOKEN_TTL,
        idempotence_mismatch_code: str = IDEMPOTENCE_MISMATCH_CODES[0],
        dingtalk_max_body_bytes: int | None = MAX_BODY_BYTES,
    ) -> None:
        """Every keyword knob defaults to the documented behaviour (see the package docstring):
        ``throttling``/``quotas``/``throttle_block_until_next_minute``/``throttle_code`` (rule 1, ``emu.throttle``),
        ``ram``/``function_role_policy`` (rule 3, ``emu.permissions``; default: the repo's ram/ documents),
        ``dingtalk_max_body_bytes`` (rule 4), ``client_token_ttl`` seconds or None = forever (rule 7),
        ``idempotence_mismatch_code`` (rule 8)."""
        if idempotence_mismatch_code not in IDEMPOTENCE_MISMATCH_CODES:
            raise ValueError(f"idempotence_mismatch_code must be one of {IDEMPOTENCE_MISMATCH_CODES}")
        self.account_id = account_id
        self.state = EmulatorState(renew_visibility_delay, account_id)
        self.site = site
        self.state.client_token_ttl = client_token_ttl
        self.state.idempotence_mismatch_code = idempotence_mismatch_code
        self.keys = KeyRegistry()
        self.throttle = Throttle(
            enabled=throttling, quotas=quotas, block_until_next_minute=throttle_block_until_next_minute,
            code=throttle_code,
        )  # fmt: skip
        self.faults = Faults(self.throttle)
        self.permissions = Permissions(enforced=ram)
        self._calls = CallLog()
        self.dingtalk = DingTalkRobot(max_body_bytes=dingtalk_max_body_bytes)
        self.gateway = RpcGateway(self.state, self.keys, self.faults, self._calls, self.permissions)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

        # The function role gets what ram/ attaches to it: the ECS actions, sts:AssumeRole, fc:InvokeFunction.
        if function_role_policy is None:
            function_role_policy = project_policies(FUNCTION_ROLE_DOCUMENTS)
        self.default_role_arn = self.add_role(DEFAULT_ROLE_NAME, policy=function_role_policy)
        static = self.keys.issue_static(account_id, "ecs-renewal-operator")
        # The operator's RAM user (a person, not the product): full access, as an account administrator has.
        self.permissions.attach(f"user:{static.access_key_id}", as_policies(ADMINISTRATOR))
        self.static_key = StaticKey(static.access_key_id, static.access_key_secret)
        # What Function Compute hands the function: a session of the function's role.
        self.function_credentials = self.issue_sts_credentials(
            ttl_seconds=FUNCTION_CREDENTIALS_TTL, session_name="fc-function"
        )
        # Function Compute's invoke endpoint: runs the real handlers with the function's credentials.
        self.fc = FunctionCompute(self.keys, account_id, lambda: self.function_credentials)
        # The OSS subset the approval store uses (oss.py): buckets are created by the user, as in the cloud.
        self.oss = ObjectStorage(self.keys, account_id)
        if fleet is not None:
            for record in generate_fleet(fleet, account_id):
                self.state.add_instance(record)

    @classmethod
    def from_fleet_file(cls, path: str | Path, renew_visibility_delay: float = 10.0, **knobs: object) -> Emulator:
        stored_account, records = load_fleet_file(path)
        emulator = cls(
            renew_visibility_delay=renew_visibility_delay, account_id=stored_account or DEFAULT_ACCOUNT_ID,
            **knobs,  # type: ignore[arg-type]
        )  # fmt: skip
        now = utcnow()
        for record in records:
            record.account_id = record.account_id or emulator.account_id
            mark_failed_deductions(record, now)
            emulator.state.add_instance(record)
        return emulator

    def save_fleet(self, path: str | Path) -> None:
        save_fleet_file(path, self.instances(), self.account_id)

    # ---- server lifecycle -------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._server = EmulatorHTTPServer((host, port), self)
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self.dingtalk.base_url = self.url
        # Functions invoked through the FC endpoint call this emulator unless a test says otherwise.
        self.fc.environment.setdefault("ECS_ENDPOINT", self.url)
        self.fc.environment.setdefault("STS_ENDPOINT", self.url)
        self.fc.environment.setdefault("BSS_ENDPOINT", self.url)  # QueryAccountBalance (bss.py)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.5}, name="ecs-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        # shutdown() waits for serve_forever's select() to time out; a throwaway connection wakes it now.
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            with contextlib.suppress(OSError), socket.create_connection(server.server_address[:2], timeout=0.2):
                pass
            stopper.join(timeout=0.05)
        server.server_close()
        server.close_all_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Block until interrupted (used by ``python -m ecs_emulator``)."""
        if self._thread is None:
            raise RuntimeError("call start() first")
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- identities -------------------------------------------------------------------------

    def add_role(
        self,
        name: str,
        account_id: str | None = None,
        max_session_duration: int = 3600,
        policy: PolicyDocuments | None = None,
    ) -> str:
        """A RAM role. ``policy``: its policy document(s) (dict / JSON text / list); default: the project's
        ram/target-account-role-policy.json (what a target account's role carries)."""
        account = account_id or self.account_id
        self.state.account(account)
        arn = self.keys.add_role(account, name, max_session_duration).arn
        self.set_policy(arn, policy if policy is not None else self.permissions.target_role_default())
        return arn

    def set_policy(self, principal: str | Credentials | StaticKey, policy: PolicyDocuments) -> None:
        """Replace what a role (ARN), an STS credential's role or a static key's RAM user is allowed."""
        if isinstance(principal, Credentials):
            record = self.keys.get(principal.access_key_id)
            if record is None or record.role_arn is None:
                raise KeyError("unknown STS credential")
            principal = record.role_arn
        elif isinstance(principal, StaticKey):
            principal = f"user:{principal.access_key_id}"
        self.permissions.attach(principal, as_policies(policy))

    def issue_credentials_with_policy(
        self, policy: PolicyDocuments, name: str = "emulator-custom-role", ttl_seconds: float = 3600
    ) -> Credentials:
        """An STS credential of a new role that carries exactly ``policy`` (e.g. lacking ecs:DescribeInstances)."""
        arn = self.add_role(name, policy=policy)
        return self.issue_sts_credentials(ttl_seconds=ttl_seconds, role_arn=arn, session_name=name[:64])

    def issue_sts_credentials(
        self, ttl_seconds: float = 3600, role_arn: str | None = None, session_name: str = "emulator-session"
    ) -> Credentials:
        """A registered STS credential of ``role_arn`` (default role). ``ttl_seconds <= 0`` = already expired."""
        role = self.keys.role(role_arn or self.default_role_arn)
        if role is None:
            raise KeyError(f"unknown role {role_arn!r}; add it with add_role()")
        return credentials_of(self.keys.issue_sts(role, session_name, ttl_seconds))

    def expire_credentials(self, credentials: Credentials | str) -> None:
        """Make an STS key expire now."""
        key_id = credentials if isinstance(credentials, str) else credentials.access_key_id
        self.keys.expire(key_id)

    def role_arn(self, name: str, account_id: str | None = None) -> str:
        return role_arn(account_id or self.account_id, name)

    # ---- accounts ---------------------------------------------------------------------------

    @property
    def balance(self) -> float:
        return self.state.account(self.account_id).balance

    @balance.setter
    def balance(self, value: float) -> None:
        with self.state.lock:
            self.state.account(self.account_id).balance = float(value)

    def set_balance(self, value: float, account_id: str | None = None) -> None:
        with self.state.lock:
            self.state.account(account_id or self.account_id).balance = float(value)

    def set_credit(self, limit: float, account_id: str | None = None, *, mybank: float | None = None) -> None:
        """The account's credit line (spent after the cash; ``QueryAccountBalance`` CreditAmount)."""
        with self.state.lock:
            wallet = self.state.account(account_id or self.account_id).wallet
            wallet.credit_limit, wallet.credit_used = float(limit), 0.0
            if mybank is not None:
                wallet.mybank_credit = float(mybank)

    def set_unified_expiry_day(self, day: int | None, account_id: str | None = None) -> None:
        """The account's unified expiry day (1..28; None = not set, the default). ``ExpectedRenewDay`` must match."""
        if day is not None and not 1 <= day <= 28:
            raise ValueError("the unified expiry day is 1..28")
        with self.state.lock:
            self.state.account(account_id or self.account_id).wallet.unified_expiry_day = day

    @property
    def site(self) -> str:
        """The Alibaba Cloud site played: ``china`` (default) or ``intl`` (renewal terms, currency)."""
        return self.state.site

    @site.setter
    def site(self, value: str) -> None:
        if value not in SITES:
            raise ValueError(f"site must be one of {SITES}, not {value!r}")
        self.state.site = value

    @property
    def insufficient_funds_error(self) -> tuple[int, str, str]:
        """(HTTP status, code, message) RenewInstance answers when cash + credit is short of the price."""
        return self.state.insufficient_funds_error

    @insufficient_funds_error.setter
    def insufficient_funds_error(self, value: tuple[int, str] | tuple[int, str, str]) -> None:
        status, code, *message = value
        self.state.insufficient_funds_error = (int(status), code, message[0] if message else "Insufficient funds.")

    def charges(self, account: str | None = None) -> list[Charge]:
        """Every amount taken from ``account`` (default: the default account; ``"*"``: all accounts), in order."""
        with self.state.lock:
            accounts = (
                self.state.accounts.values() if account == "*" else [self.state.account(account or self.account_id)]
            )
            return sorted((c for a in accounts for c in a.wallet.charges), key=lambda c: (c.at, c.order_id))

    def total_charged(self, account: str | None = None) -> float:
        return round(sum(charge.amount for charge in self.charges(account)), 2)

    def run_auto_renew_deductions(self, now: datetime | str | None = None) -> list[Deduction]:
        """Run the platform's auto-renew schedule up to ``now`` (default: the current time): every 08:00
        (UTC+8) attempt due since nine days before each AutoRenewal instance's expiry. A success charges
        (``Charge.kind == "auto_renew"``) and extends by the instance's Duration; a failure (balance plus
        credit short) keeps the expiry and is kept in ``auto_renew_failures``."""
        return run_deductions(self.state, parse_flexible(now) if now is not None else utcnow())

    def renewal_price(self, instance_id: str, period: int | None = 1, unit: str = "Month",
                      expected_renew_day: int | None = None) -> float:  # fmt: skip
        """What RenewInstance would charge for this instance and these terms now (= DescribeRenewalPrice's quote)."""
        with self.state.lock:
            record = self.state.instances[instance_id]
            day = expected_renew_day
            _, quote = renewal_terms_quote(record, None if day else period, None if day else unit, day, self.site)
            return quote.total

    @property
    def renew_visibility_delay(self) -> float:
        return self.state.renew_visibility_delay

    @renew_visibility_delay.setter
    def renew_visibility_delay(self, seconds: float) -> None:
        self.state.renew_visibility_delay = seconds

    # ---- instances --------------------------------------------------------------------------

    def add_instance(
        self,
        region: str,
        *,
        instance_id: str | None = None,
        name: str | None = None,
        charge_type: str = "PrePaid",
        expired_time: datetime | str | None = None,
        tags: dict[str, str] | None = None,
        status: str = "Running",
        auto_renew_enabled: bool = False,
        duration: int = 0,
        renewal_status: str = "Normal",
        locks: tuple[str, ...] | list[str] = (),
        instance_type: str = "ecs.g7.large",
        zone_id: str | None = None,
        creation_time: datetime | str | None = None,
        period_unit: str = "Month",
        account_id: str | None = None,
        resources: Resources | None = None,
    ) -> str:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}")
        if charge_type not in CHARGE_TYPES or status not in INSTANCE_STATUSES:
            raise ValueError(f"bad charge_type {charge_type!r} or status {status!r}")
        if renewal_status not in RENEWAL_STATUSES or any(lock not in LOCK_REASONS for lock in locks):
            raise ValueError(f"bad renewal_status {renewal_status!r} or locks {locks!r}")
        # Keep the three auto-renew fields consistent, as the real API does.
        if auto_renew_enabled and renewal_status not in ("Normal", "AutoRenewal"):
            raise ValueError(f"auto_renew_enabled=True contradicts renewal_status={renewal_status!r}")
        if auto_renew_enabled or renewal_status == "AutoRenewal":
            auto_renew_enabled, renewal_status, duration = True, "AutoRenewal", duration or 1
        else:
            duration = 0
        if charge_type == "PostPaid":
            expiry = POSTPAID_EXPIRY
        elif expired_time is None:
            raise ValueError("a PrePaid instance needs expired_time")
        else:
            expiry = parse_flexible(expired_time)
        instance_id = instance_id or new_instance_id(region)
        creation = parse_flexible(creation_time if creation_time is not None else utcnow())
        with self.state.lock:
            record = InstanceRecord(
                instance_id=instance_id,
                instance_name=name or instance_id,
                region_id=region,
                zone_id=zone_id or REGIONS[region].zone_ids[0],
                instance_type=instance_type,
                charge_type=charge_type,
                true_expired_time=expiry,
                creation_time=creation,
                status=status,
                tags=dict(tags or {}),
                operation_locks=list(locks),
                auto_renew_enabled=auto_renew_enabled,
                duration=duration,
                period_unit=period_unit,
                renewal_status=renewal_status,
                account_id=account_id or self.account_id,
                resources=resources,  # None: seeded from the id (disks, bandwidth, paid image)
            )
            mark_failed_deductions(record, utcnow())  # AutoRenewal inside its last nine days = failed deductions
            self.state.add_instance(record)
        return instance_id

    def clear_instances(self) -> None:
        with self.state.lock:
            self.state.instances.clear()

    def instance(self, instance_id: str) -> InstanceRecord:
        """The live record (read it; change state through the API or the helpers)."""
        with self.state.lock:
            return self.state.instances[instance_id]

    def instances(self, region: str | None = None) -> list[InstanceRecord]:
        with self.state.lock:
            records = [r for r in self.state.instances.values() if region is None or r.region_id == region]
        return sorted(records, key=lambda r: (r.region_id, r.creation_time, r.instance_id))

    def renewal_count(self, instance_id: str) -> int:
        return self.instance(instance_id).renewal_count

    # ---- call log ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        return self._calls.snapshot()

    def calls_by_action(self) -> dict[str, int]:
        return self._calls.counts_by_action()

    def reset_calls(self) -> None:
        self._calls.clear()

    # ---- admin view -------------------------------------------------------------------------

    def state_summary(self) -> dict:
        with self.state.lock:
            records = self.instances()
            per_region: dict[str, Counter] = {}
            for record in records:
                per_region.setdefault(record.region_id, Counter())[record.charge_type] += 1
            instances = [
                {
                    "InstanceId": r.instance_id,
                    "InstanceName": r.instance_name,
                    "RegionId": r.region_id,
                    "InstanceChargeType": r.charge_type,
                    "Status": r.status,
                    "ExpiredTime": format_minute(r.visible_expired_time),
                    "TrueExpiredTime": format_minute(r.true_expired_time),
                    "RenewalStatus": r.renewal_status,
                    "Renewals": [_renewal_summary(x) for x in r.renewals],
                    "AutoRenewFailures": [format_second(datetime.fromtimestamp(t, UTC)) for t in r.auto_renew_failures],
                }
                for r in records
            ]
            balances = {a.account_id: a.balance for a in self.state.accounts.values()}
            accounts = {
                a.account_id: {
                    "Balance": a.balance,
                    "CreditLimit": a.wallet.credit_limit,
                    "CreditUsed": a.wallet.credit_used,
                    "UnifiedExpiryDay": a.wallet.unified_expiry_day,
                    "TotalCharged": round(sum(c.amount for c in a.wallet.charges), 2),
                }
                for a in self.state.accounts.values()
            }
            charges = [c.as_dict() for c in self.charges("*")]
        return {
            "url": self.url,
            "account_id": self.account_id,
            "site": self.site,
            "balances": balances,
            "accounts": accounts,
            "charges": charges,
            "renew_visibility_delay": self.renew_visibility_delay,
            "instance_counts": {region: dict(counts) for region, counts in per_region.items()},
            "instances": instances,
            "calls_by_action": self.calls_by_action(),
            "throttled_by_action": self.throttle.throttled_by_action(),
            "dingtalk_messages": list(self.dingtalk.messages),
        }


def _renewal_summary(renewal: RenewalRecord) -> dict:
    return {
        "OrderId": renewal.order_id,
        "Period": renewal.period,
        "PeriodUnit": renewal.period_unit,
        "ExpectedRenewDay": renewal.expected_renew_day,
        "ClientToken": renewal.client_token,
        "NewExpiredTime": format_minute(renewal.new_expired_time),
        "Price": renewal.price,
    }
