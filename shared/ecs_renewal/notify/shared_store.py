"""What the alerts keep in the shared store (``APPROVAL_BUCKET``): the reminder ledger and the expiry page.

- The reminder ledger (``ledgers/reminders.json``) instead of ``/tmp``: a digest is sent once a day even
  when a replay or the next night's run lands on a new Function Compute instance.
- The nightly expiry page (``pages/expiry-<day>.html``), linked from the digest for a week. The link goes to
  approve-renewal's HTTP trigger (``APPROVAL_URL``), HMAC-signed with ``APPROVAL_SECRET``, which reads the
  page from the bucket: an OSS URL signed with the functions' STS credentials would put their security
  token in the group (and stop working when it expires).

Without a bucket both stay as they were (the ledger under ``NOTIFY_STATE_DIR``, no page link). A store that
cannot be reached never fails the run nor stops a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..logs import JsonLogger
from .markdown import MAX_BODY_BYTES, Message

if TYPE_CHECKING:
    from ..results.scan import ScanResult

PAGE_LINK_SECONDS = 7 * 24 * 3600
LEDGER_OBJECT = "ledgers/reminders.json"


def shared_store(environ: Mapping[str, str]) -> Any:
    if not environ.get("APPROVAL_BUCKET", "").strip():
        return None
    try:
        from ..approval.store import open_store

        return open_store(environ)
    except Exception:  # noqa: BLE001 - no credentials for OSS here: the local ledger, no link
        return None


def reminder_store(environ: Mapping[str, str]) -> Any:
    """The ledger's :class:`KeyStore` in the bucket, or None (the file under NOTIFY_STATE_DIR)."""
    store = shared_store(environ)
    if store is None:
        return None
    from ..idempotency.persistence.objects import ObjectKeyStore

    return ObjectKeyStore(store, LEDGER_OBJECT)


def link_expiry_page(messages: Sequence[Message], result: ScanResult, environ: Mapping[str, str],
                     log: JsonLogger) -> list[Message]:
    """The scan's digest with a link to tonight's expiry page, stored in the bucket (unchanged without one)."""
    messages = list(messages)
    store = shared_store(environ)
    url_base, secret = environ.get("APPROVAL_URL", "").strip(), environ.get("APPROVAL_SECRET", "")
    if store is None or not url_base or not messages or not result.expiring:
        return messages
    try:
        from datetime import timedelta

        from ..approval.links import signed_page_link
        from ..report.html import render_expiry_report
        from ..timeutil import utc_now, zone

        tz_name = result.time_zone or environ.get("ALERT_TIMEZONE") or "UTC"
        page = render_expiry_report(result, tz=zone(tz_name), tz_name=tz_name)
        day = result.window.as_dict()["start"][:10] if result.window else "latest"
        name = f"expiry-{day}"
        key = f"pages/{name}.html"
        url = signed_page_link(url_base, name, utc_now() + timedelta(seconds=PAGE_LINK_SECONDS), secret)
        store.put(key, page.encode("utf-8"), content_type="text/html; charset=utf-8")
    except Exception as error:  # noqa: BLE001 - the digest goes out without its link
        log.error("expiry_page_failed", error=type(error).__name__)
        return messages
    linked = replace(messages[0], text=f"{messages[0].text}\n\n[Open the expiry timeline]({url})")
    if len(linked.body()) > MAX_BODY_BYTES:
        log.warning("expiry_page_link_dropped", why="the digest's first part is full")
        return messages
    log.info("expiry_page_stored", key=key)
    return [linked, *messages[1:]]
