"""A run's alerts: its result as DingTalk messages, sent once; never a reason for the run to fail.

A scan reports only the (instance, tier) reminders not already sent today: a replay or a manual re-run
does not repeat the digest (the ledger is in the bucket when ``APPROVAL_BUCKET`` is set, so that holds
across instances; the digest then links the night's expiry page). Other jobs report every run as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..logs import JsonLogger
from ..results import Alerts, JobResult
from ..settings import environment_value


def send_alerts(result: JobResult, environ: Mapping[str, str], log: JsonLogger, *, all_clear: bool = True) -> Alerts:
    """Send the run's messages to DINGTALK_WEBHOOK. Never raises: the renewals already happened.

    ``all_clear``: a scan that found nothing sends its one line (unless ``SCAN_ALL_CLEAR=false``)."""
    webhook = environ.get("DINGTALK_WEBHOOK", "").strip()
    try:
        from . import messages
        from .dingtalk import DingTalkNotifier

        # shared_budget: runs in one warm instance (a replay, the next function) share the 20/minute limit.
        notifier = DingTalkNotifier(webhook, environ.get("DINGTALK_SECRET", "").strip() or None, logger=log,
                                    shared_budget=True)
        reminders = _Reminders(result, environ) if result.job == "scan-expiring" and result.counts()["count"] else None
        to_report = reminders.fresh_result if reminders else result
        quiet_line = all_clear and environment_value("SCAN_ALL_CLEAR", environ)
        # From the typed result: every line of every message reads its fields (messages.py).
        outgoing = messages.messages_for_result(to_report, all_clear=quiet_line)
        if reminders is not None:  # the digest links tonight's expiry page, kept in the bucket (shared_store.py)
            from .shared_store import link_expiry_page

            outgoing = link_expiry_page(outgoing, result, environ, log)  # the whole night's page
        sent = notifier.send_all(outgoing)
        if reminders is None:
            return Alerts(len(outgoing), sent)
        if sent == len(outgoing):
            reminders.remember()
        return Alerts(len(outgoing), sent, already_reported=reminders.already_reported)
    except Exception as error:  # noqa: BLE001 - an alert problem is logged, never raised
        log.error("alert_failed", error=type(error).__name__, message=str(error)[:200])
        return Alerts(error=type(error).__name__)


class _Reminders:
    """A scan's rows less those whose (instance, tier) reminder already went out today."""

    def __init__(self, result: Any, environ: Mapping[str, str]) -> None:  # a ScanResult
        from ..idempotency.keys import reminder_key
        from ..idempotency.reminders import NotificationLedger
        from .shared_store import reminder_store

        # In the bucket when there is one: once a day even across Function Compute instances.
        self._ledger = NotificationLedger(environ.get("NOTIFY_STATE_DIR") or None, store=reminder_store(environ))
        day = result.window.as_dict()["start"][:10] if result.window else ""
        keys = {row.instance.instance_id: reminder_key(row.instance.instance_id, row.tier, day)
                for row in result.expiring}
        self._fresh = self._ledger.unseen(keys.values())
        rows = tuple(row for row in result.expiring if keys[row.instance.instance_id] in self._fresh)
        self.fresh_result = replace(result, expiring=rows)
        self.already_reported = len(result.expiring) - len(rows)

    def remember(self) -> None:
        self._ledger.remember(self._fresh)
