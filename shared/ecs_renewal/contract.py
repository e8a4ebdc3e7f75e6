"""The boundary: a typed result becomes the contract's dict here, and only here (the README's result keys).

``to_contract`` writes the keys every result has (the run's head, the mode's tail) around the job's own
(each result's ``body()``); ``run_record`` is the log's summary of the same typed result. Secrets never
leave: the dict is redacted as it is made.
"""

from __future__ import annotations

from typing import Any

from .logs import redact_value
from .results import JobResult, as_dicts


def to_contract(result: JobResult) -> dict[str, Any]:
    """The result as the function returns it: the run's head, the job's own keys, the mode's tail."""
    return redact_value({**result.head(), **result.body(), **result.tail()})


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
    ledger = getattr(result, "ledger", None)  # renew-batch: what the renewal ledger saw
    if ledger is not None:
        line["ledger"] = dict(ledger)
    line["api_calls"] = result.calls()
    return line
