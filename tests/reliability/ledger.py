"""What the test run proved, counted by the run itself: the reliability ledger and the secret guard.

``tests/conftest.py`` wires this module into every test of the suite (not only ``tests/reliability``):

* **secret guard** — every log line (as written, after redaction), every handler result and exception,
  every DingTalk message body, every ``EcsRenewalError`` text and the test's captured stdout/stderr are
  scanned for every secret the emulators ever issued (AccessKey secrets, security tokens, DingTalk access
  tokens and signing secrets), raw or URL-encoded, whole or cut off after 24 characters; a full AccessKey
  id may not appear either (logs name it masked). A hit fails the test.
* **ledger** — faults the emulators injected (by kind), handler invocations and replays of the same event,
  API calls our retry policy retried, instances whose renewals were counted in emulator state, double
  renewals, candidates accounted for and lost, bad inputs rejected (and whether any reached the API).

With ``--reliability-report`` the totals are printed as a markdown table at the end of the run and written
to ``build/reliability.json`` (``scripts/reliability_report.py`` puts the table into the README).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REPORT_JSON = ROOT / "build" / "reliability.json"
OUR_TOKEN_PREFIX = "ecsrenew-"
MANUAL_TOKEN_PREFIX = "manual-"  # renewals a test makes "by hand" start their ClientToken with this
FRAGMENT = 24  # a secret cut off after this many characters is still a leak
_WINDOW = 16
_RUN = re.compile(r"[A-Za-z0-9+/=%._\-]{16,}")

PROMISES = {
    1: "exactly once",
    2: "nothing lost",
    3: "the cap holds",
    4: "bad input changes nothing",
    5: "secrets never leak",
    6: "alerts survive",
    7: "expiring credentials",
}


# --------------------------------------------------------------------------------------- the ledger


@dataclass
class Ledger:
    faults: Counter[str] = field(default_factory=Counter)
    invocations: int = 0
    replays: int = 0
    late_replays: int = 0
    budget_checks: int = 0
    over_budget_runs: int = 0
    api_retries: int = 0
    credential_refreshes: int = 0
    renewals_checked: int = 0
    double_renewals: int = 0
    candidates_accounted: int = 0
    lost_instances: int = 0
    bad_inputs: int = 0
    bad_inputs_with_calls: int = 0
    fuzz_examples: int = 0
    texts_scanned: int = 0
    bytes_scanned: int = 0
    secret_leaks: int = 0
    tests_by_promise: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **amounts: int) -> None:
        with self.lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, Any]:
        return {
            "faults_injected": dict(sorted(self.faults.items())),
            "faults_injected_total": sum(self.faults.values()),
            "invocations": self.invocations,
            "invocations_replayed": self.replays,
            "late_replays": self.late_replays,
            "budget_checks": self.budget_checks,
            "over_budget_runs": self.over_budget_runs,
            "api_calls_retried": self.api_retries,
            "credential_refreshes": self.credential_refreshes,
            "renewals_checked": self.renewals_checked,
            "double_renewals": self.double_renewals,
            "candidates_accounted": self.candidates_accounted,
            "lost_instances": self.lost_instances,
            "bad_inputs_tried": self.bad_inputs,
            "bad_inputs_that_reached_the_api": self.bad_inputs_with_calls,
            "fuzz_examples": self.fuzz_examples,
            "texts_scanned_for_secrets": self.texts_scanned,
            "bytes_scanned_for_secrets": self.bytes_scanned,
            "secret_leaks": self.secret_leaks,
            "passed_tests_by_promise": {PROMISES[n]: self.tests_by_promise[n] for n in sorted(PROMISES)},
        }


LEDGER = Ledger()


def account_for(result: dict[str, Any], expected_ids: Iterable[str]) -> set[str]:
    """Count the candidates a renew-batch result must account for; return the lost ones.

    Accounted = renewed, skipped with a reason, or failed with a code. Anything else is lost.
    """
    expected = set(expected_ids)
    seen = {row["instance_id"] for row in result.get("renewed", [])}
    seen |= {row["instance_id"] for row in result.get("skipped", []) if row.get("reason")}
    seen |= {row["instance_id"] for row in result.get("failed", []) if row.get("code")}
    lost = expected - seen
    LEDGER.add(candidates_accounted=len(expected), lost_instances=len(lost))
    return lost


# ------------------------------------------------------------------------------ secrets, known ones


class SecretBook:
    """Every secret any emulator issued in this process, indexed by its first characters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: dict[str, set[str]] = {}
        self.count = 0

    def add(self, value: str | None, *, what: str = "secret") -> None:
        if not value or len(value) < _WINDOW:
            return
        needles = {value}
        once = urllib.parse.quote(value, safe="")
        needles |= {once, urllib.parse.quote(once, safe=""), urllib.parse.quote_plus(value)}
        if what == "secret" and len(value) > 2 * FRAGMENT:
            needles.add(value[:FRAGMENT])  # cut off part-way (an error message truncated to N chars)
        with self._lock:
            for needle in needles:
                self._index.setdefault(needle[:_WINDOW], set()).add(needle)
            self.count += 1

    def find(self, text: str) -> set[str]:
        """The needles present in ``text`` (runs of secret-like characters only, window by window)."""
        index = self._index
        found: set[str] = set()
        for run in _RUN.finditer(text):
            chunk = run.group(0)
            for start in range(len(chunk) - _WINDOW + 1):
                candidates = index.get(chunk[start : start + _WINDOW])
                if candidates:
                    found.update(n for n in candidates if chunk.startswith(n, start))
        return found


BOOK = SecretBook()
EMULATORS: weakref.WeakSet[Any] = weakref.WeakSet()
_installed = False


def install() -> None:
    """Learn every secret the emulator hands out, and every emulator made (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    from ecs_emulator import emulator as emulator_module
    from ecs_emulator import keys as keys_module
    from ecs_emulator.dingtalk import DingTalkRobot

    registry = keys_module.KeyRegistry
    for name in ("issue_static", "issue_sts"):
        original = getattr(registry, name)

        def issue(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            record = _original(self, *args, **kwargs)
            BOOK.add(record.access_key_secret)
            BOOK.add(record.security_token)
            BOOK.add(record.access_key_id, what="key id")
            return record

        setattr(registry, name, issue)

    robot_init = DingTalkRobot.__init__

    def robot(self: Any, *args: Any, **kwargs: Any) -> None:
        robot_init(self, *args, **kwargs)
        BOOK.add(self.access_token)
        BOOK.add(self.secret)

    DingTalkRobot.__init__ = robot  # type: ignore[method-assign]

    emulator_init = emulator_module.Emulator.__init__

    def emulator(self: Any, *args: Any, **kwargs: Any) -> None:
        emulator_init(self, *args, **kwargs)
        EMULATORS.add(self)

    emulator_module.Emulator.__init__ = emulator  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------ one test


def _call_count(emu: Any) -> int:
    log = getattr(emu, "_calls", None)
    records = getattr(log, "_records", None)
    return len(records) if records is not None else len(emu.calls)


def _budget_of(function: str, payload: Any) -> float | None:
    """The ``max_cost`` a renew-batch invocation runs under (its event's, else ``MAX_COST``), or None."""
    import os

    if function != "renew-batch":
        return None
    value: Any = None
    try:
        event = json.loads(payload) if isinstance(payload, (bytes, str)) and payload else payload
        if isinstance(event, dict):
            value = event.get("max_cost")
    except (ValueError, RecursionError):  # the fuzz tests' events: not a budget
        return None
    value = os.environ.get("MAX_COST") if value is None else value
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _charged() -> float:
    return sum(emu.total_charged("*") for emu in list(EMULATORS))


def _injected(emu: Any) -> Counter[str]:
    total: Counter[str] = Counter(getattr(emu.faults, "injected", {}))
    total.update(getattr(emu.dingtalk, "injected", {}))
    return total


class Watch:
    """What one test produced, and what the emulators saw during it."""

    def __init__(self, nodeid: str, *, in_reliability: bool, renewals_allowed: int = 1) -> None:
        self.nodeid = nodeid
        self.in_reliability = in_reliability
        self.renewals_allowed = renewals_allowed
        self.started = time.time()
        self.texts: list[tuple[str, str]] = []
        self.invoked = False
        self.payloads: set[tuple[str, bytes | str]] = set()
        self.first_seen: dict[tuple[str, bytes | str], float] = {}
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._baseline = {id(emu): (_injected(emu), _call_count(emu)) for emu in list(EMULATORS)}

    def text(self, source: str, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            try:
                value = json.dumps(value, default=str, ensure_ascii=False)
            except (TypeError, ValueError):
                value = repr(value)
        self.texts.append((source, value))

    # ---- the invoke hook (tests/handlers.py) ----

    def before_invoke(self, function: str, payload: Any) -> Any:
        calls_before = sum(_call_count(emu) for emu in list(EMULATORS))
        key = (function, payload if isinstance(payload, (bytes, str)) else repr(payload))
        now = time.time()
        with self._lock:
            self.invoked = True
            first = self.first_seen.setdefault(key, now)
            replay = key in self.payloads
            self.payloads.add(key)
        # Late: the same event again after the emulators' renewal-visibility delay (the new expiry shows).
        delays = [emu.renew_visibility_delay for emu in list(EMULATORS)]
        late = replay and bool(delays) and now - first >= min(delays)
        LEDGER.add(invocations=1, replays=int(replay), late_replays=int(late))
        budget = _budget_of(function, payload)
        charged_before = _charged() if budget is not None else 0.0

        def after(result: Any, error: BaseException | None) -> None:
            from ecs_renewal.errors import InvalidEventError

            if budget is not None and not isinstance(error, InvalidEventError):
                charged = round(_charged() - charged_before, 2)
                LEDGER.add(budget_checks=1, over_budget_runs=int(charged > budget))
                if charged > budget:
                    self.problems.append(f"a renew-batch run with max_cost {budget} charged {charged}")

            if error is not None:
                self.text("exception", f"{type(error).__name__}: {error}")
            else:
                self.text("result", result)
            if isinstance(error, InvalidEventError):
                calls_after = sum(_call_count(emu) for emu in list(EMULATORS))
                reached = calls_after > calls_before
                LEDGER.add(bad_inputs=1, bad_inputs_with_calls=int(reached))
                if reached:
                    self.problems.append(f"an invalid event reached the API: {str(error)[:200]}")

        return after

    # ---- at the end of the test ----

    def finish(self) -> list[str]:
        problems = list(self.problems)
        problems += self._scan()
        counted = self.invoked or self.in_reliability
        for emu in list(EMULATORS):
            base_faults, base_calls = self._baseline.get(id(emu), (Counter(), 0))
            if counted:
                delta = _injected(emu)
                delta.subtract(base_faults)
                LEDGER.faults.update({k: v for k, v in delta.items() if v > 0})
            if _call_count(emu) == base_calls or not counted:
                continue
            problems += self._check_renewals(emu)
            expired = sum(
                1 for call in emu.calls[base_calls:]
                if call.code == "InvalidSecurityToken.Expired" and call.fault is None
            )
            if expired:
                LEDGER.faults.update({"credentials_expired": expired})
        for _, text in self.texts:
            if '"event": "api_retry"' in text:
                LEDGER.add(api_retries=1)
            elif '"event": "credentials_expired"' in text:
                LEDGER.add(credential_refreshes=1)
        return problems

    def _check_renewals(self, emu: Any) -> list[str]:
        problems = []
        for record in emu.instances():
            ours = [
                r for r in record.renewals
                if r.at >= self.started and not (r.client_token or "").startswith(MANUAL_TOKEN_PREFIX)
            ]
            if not ours:
                continue
            LEDGER.add(renewals_checked=1)
            if len(ours) > self.renewals_allowed:
                LEDGER.add(double_renewals=1)
                problems.append(
                    f"{record.instance_id} was renewed {len(ours)} times in this test "
                    f"(orders {[r.order_id for r in ours]}, tokens {[r.client_token for r in ours]})"
                )
        return problems

    def _scan(self) -> list[str]:
        leaks = []
        for source, text in self.texts:
            LEDGER.add(texts_scanned=1, bytes_scanned=len(text))
            for needle in BOOK.find(text):
                leaks.append(f"a secret ({needle[:4]}…, {len(needle)} chars) in the {source}: {_around(text, needle)}")
        LEDGER.add(secret_leaks=len(leaks))
        return leaks


def scan_captured(sections: Iterable[tuple[str, str]]) -> list[str]:
    """Captured stdout/stderr/log of a test: the same scan."""
    leaks = []
    for name, text in sections:
        LEDGER.add(texts_scanned=1, bytes_scanned=len(text))
        leaks += [f"a secret in {name}: {_around(text, n)}" for n in BOOK.find(text)]
    LEDGER.add(secret_leaks=len(leaks))
    return leaks


def _around(text: str, needle: str) -> str:
    at = text.find(needle)
    return repr(text[max(0, at - 60) : at]) + "<SECRET>"


# ---------------------------------------------------------------------------------------- report


def render_markdown(data: dict[str, Any]) -> str:
    faults = data["faults_injected"]
    fault_text = ", ".join(f"{kind} {count}" for kind, count in faults.items()) or "none"
    promises = data["passed_tests_by_promise"]
    rows = [
        ("faults injected, by kind", f"{data['faults_injected_total']} ({fault_text})"),
        ("handler invocations / of them replays of the same event (FC async retry, overlap)",
         f"{data['invocations']} / {data['invocations_replayed']}"),
        ("of them late replays (after the new expiry was visible, FC's replay after the timeout)",
         data.get("late_replays", 0)),
        ("renew-batch runs with a budget (`max_cost`) / **over-budget runs** (charged more than it; must be 0)",
         f"{data.get('budget_checks', 0)} / **{data.get('over_budget_runs', 0)}**"),
        ("API calls retried by the retry policy", data["api_calls_retried"]),
        ("STS credentials refreshed mid-run", data["credential_refreshes"]),
        ("renewals checked (instances whose renewals were counted in emulator state)", data["renewals_checked"]),
        ("**double renewals** (must be 0)", f"**{data['double_renewals']}**"),
        ("candidates accounted for (renewed / skipped with a reason / failed with a code)",
         data["candidates_accounted"]),
        ("**lost instances** (must be 0)", f"**{data['lost_instances']}**"),
        ("bad inputs tried (rejected before any call) / generated by hypothesis",
         f"{data['bad_inputs_tried']} / {data['fuzz_examples']} examples"),
        ("**bad inputs that reached the API** (must be 0)", f"**{data['bad_inputs_that_reached_the_api']}**"),
        ("texts scanned for secrets (logs, results, alerts, exceptions, captured output)",
         f"{data['texts_scanned_for_secrets']} ({data['bytes_scanned_for_secrets'] // 1024} KiB)"),
        ("**secret leaks** (must be 0)", f"**{data['secret_leaks']}**"),
        ("passing tests per promise", ", ".join(f"{name} {count}" for name, count in promises.items())),
    ]
    lines = ["| what | count |", "| --- | --- |"]
    lines += [f"| {what} | {value} |" for what, value in rows]
    return "\n".join(lines)


def write_report(data: dict[str, Any], path: Path = REPORT_JSON) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
