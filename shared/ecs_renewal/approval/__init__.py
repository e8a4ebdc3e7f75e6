"""Approve exactly what was priced: a plan is a signed value, approved in the group, applied exactly.

- ``document.py``: the plan as a value — canonical JSON, id = hash of it, HMAC signature, validity window;
- ``links.py``: the Approve / Reject links of the DingTalk card (plan id + expiry, HMAC-signed);
- ``robot.py``: the stronger mode — DingTalk's enterprise-internal robot callback, its signature checked;
- ``store.py``: where plans, run records, pages and ledgers live (OSS via oss2, or a folder);
- ``apply.py``: re-read every instance, renew only entries that still match, refuse the rest with a reason.

Light on purpose: importing the package imports none of its parts (a handler takes only what it needs).
"""
