"""The boundary: a typed result becomes the contract's dict here, and only here (the README's result keys).

``to_contract`` writes the keys every result has (the run's head, the mode's tail) around the job's own
(each result's ``body()``); ``run_record`` is the log's summary of the same typed result. Secrets never
leave: the dict is redacted as it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .logs import redact_value
from .results import JobResult, as_dicts


def to_contract(result: JobResult) -> dict[str, Any]:
    """The result as the function returns it: the run's head, the job's own keys, the mode's tail."""
    return redact_value(result.fields())


def from_contract(data: Mapping[str, Any]) -> JobResult:
    """The typed result a contract's dict was made from (``to_contract``'s inverse: a function's answer read
    back by the CLI's ``invoke``); ``to_contract(from_contract(d)) == d`` for what the jobs return."""
    from .results.readback import from_contract as read_back  # only a result read back needs it

    return read_back(data)


def run_record(result: JobResult) -> dict[str, Any]:
    """The run record (``job_finished``): counts, order ids, limits and calls — what an operator reconciles
    with billing. Read from the typed result, so a multi-account run records its accounts' caps too."""
    line: dict[str, Any] = {"dry_run": result.dry_run, "errors": result.error_count(), **result.counts()}
    orders = result.order_ids()
    if orders:
        line["order_ids"] = orders
    line.update(as_dicts(cap_exceeded=result.cap, budget_exceeded=result.budget, funds_short=result.funds_short,
                         estimated_cost=result.cost, all_clear=result.all_clear))
    missing = sorted({e.missing_action for e in result.errors if e.missing_action})
    if missing:  # a region the role could not read: never a quiet night
        line["missing_permissions"] = missing
    ledger = getattr(result, "ledger", None)  # renew-batch: what the renewal ledger saw (a LedgerSummary)
    if ledger is not None:
        line["ledger"] = ledger.as_dict()
    line["api_calls"] = result.calls()
    return line
