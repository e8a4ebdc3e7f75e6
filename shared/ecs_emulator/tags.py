"""ECS tag APIs for instances: TagResources, UntagResources, ListTagResources (version 2014-05-26).

Parameter names from the SDK's request classes (``ResourceId.N``, ``Tag.N.Key``/``Tag.N.Value``,
``TagKey.N``, ``All``, ``NextToken``); limits and error codes from the API docs' tables (TagResources,
UntagResources, ListTagResources). Only ``ResourceType=instance`` is modelled. Tags written here are
the instance's tags: DescribeInstances shows them (and filters on them) at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .context import RpcContext
from .errors import ApiError, missing
from .model import InstanceRecord

MAX_RESOURCE_IDS = 50  # ResourceId.N, N = 1..50 (all three actions)
MAX_TAGS_PER_CALL = 20  # Tag.N / TagKey.N, N = 1..20
MAX_TAGS_PER_RESOURCE = 20  # "Tag limits" (ECS Limits page): 20 custom tags per resource
MAX_TAG_LENGTH = 128
LIST_PAGE_SIZE = 50  # ListTagResources has no page-size parameter; the real page size is unverified

# Valid ResourceType values (docs); only "instance" is modelled, the rest are refused as unsupported.
RESOURCE_TYPES = (
    "instance", "disk", "snapshot", "image", "securitygroup", "volume", "eni", "ddh", "ddhcluster", "keypair",
    "launchtemplate", "reservedinstance", "snapshotpolicy", "elasticityassurance", "capacityreservation",
    "command", "invocation", "activation", "managedinstance",
)  # fmt: skip

_RESOURCE_ID = re.compile(r"^ResourceId\.(\d+)$")
_TAG = re.compile(r"^Tag\.(\d+)\.(Key|Value)$")
_TAG_KEY = re.compile(r"^TagKey\.(\d+)$")


def _resource_type(ctx: RpcContext) -> None:
    resource_type = ctx.get("ResourceType")
    if resource_type is None:
        raise ApiError(404, "MissingParameter.ResourceType", "The parameter - ResourceType should not be null")
    if resource_type not in RESOURCE_TYPES:
        raise ApiError(404, "InvalidResourceType.NotFound", "The ResourceType provided does not exist in our records.")
    if resource_type != "instance":
        raise ApiError(
            400, "Emulator.UnsupportedParameter", f"The ECS emulator tags instances only, not {resource_type}."
        )


def _numbered(ctx: RpcContext, pattern: re.Pattern[str], limit: int, code: str, what: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for name, value in ctx.params.items():
        match = pattern.match(name)
        if match:
            found[int(match.group(1))] = value
    if len(found) > limit or any(not 1 <= n <= limit for n in found):
        raise ApiError(400, code, f"The {what} parameter's number is exceed , Valid : {limit}")
    return dict(sorted(found.items()))


def _resource_ids(ctx: RpcContext, required: bool) -> list[str]:
    ids = _numbered(ctx, _RESOURCE_ID, MAX_RESOURCE_IDS, "NumberExceed.ResourceIds", "ResourceIds")
    values = list(dict.fromkeys(value for value in ids.values() if value))
    if required and not values:
        raise missing("ResourceId.1")
    return values


def _tag_pairs(ctx: RpcContext) -> dict[int, dict[str, str]]:
    pairs: dict[int, dict[str, str]] = {}
    for name, value in ctx.params.items():
        match = _TAG.match(name)
        if match:
            pairs.setdefault(int(match.group(1)), {})[match.group(2)] = value
    if len(pairs) > MAX_TAGS_PER_CALL or any(not 1 <= n <= MAX_TAGS_PER_CALL for n in pairs):
        raise ApiError(400, "NumberExceed.Tags", f"The Tags parameter's number is exceed , Valid : {MAX_TAGS_PER_CALL}")
    return dict(sorted(pairs.items()))


def _check_key(key: str | None) -> str:
    if (
        not key
        or len(key) > MAX_TAG_LENGTH
        or key.startswith(("aliyun", "acs:"))
        or "http://" in key
        or "https://" in key
    ):
        raise ApiError(400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.")
    return key


def _check_value(value: str) -> str:
    if len(value) > MAX_TAG_LENGTH or value.startswith("acs:") or "http://" in value or "https://" in value:
        raise ApiError(400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.")
    return value


def _resolve(ctx: RpcContext, ids: list[str]) -> list[InstanceRecord]:
    records = []
    for resource_id in ids:
        record = ctx.state.find(resource_id, ctx.account_id, ctx.region)
        if record is None:  # one unknown id fails the whole call: nothing is changed
            raise ApiError(404, "InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.")
        records.append(record)
    return records


def tag_resources(ctx: RpcContext) -> dict:
    _resource_type(ctx)
    ids = _resource_ids(ctx, required=True)
    pairs = _tag_pairs(ctx)
    if not pairs:
        raise ApiError(404, "MissingParameter.Tags", "The parameter - Tags should not be null")
    tags: dict[str, str] = {}
    for entry in pairs.values():
        if "Key" not in entry:
            raise ApiError(400, "InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match.")
        key = _check_key(entry["Key"])
        if key in tags:
            raise ApiError(400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.")
        tags[key] = _check_value(entry.get("Value", ""))  # a value may be empty (or left out)
    with ctx.state.lock:
        records = _resolve(ctx, ids)
        for record in records:  # the quota is checked for every resource before any is changed
            if len(set(record.tags) | set(tags)) > MAX_TAGS_PER_RESOURCE:
                raise ApiError(
                    400, "OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range."
                )
        for record in records:
            record.tags.update(tags)  # an existing key gets the new value
    return {}


def untag_resources(ctx: RpcContext) -> dict:
    _resource_type(ctx)
    ids = _resource_ids(ctx, required=True)
    keys = _numbered(ctx, _TAG_KEY, MAX_TAGS_PER_CALL, "NumberExceed.Tags", "Tags")
    remove_all = (ctx.get("All") or "false").lower()
    if remove_all not in ("true", "false"):
        raise ApiError(400, "InvalidParameter.All", "The specified parameter All is not valid (true or false).")
    names = [key for key in keys.values() if key]
    if not names and remove_all != "true":  # All is used only without TagKey.N (doc)
        raise ApiError(404, "MissingParameter.Tags", "The parameter - Tags should not be null")
    with ctx.state.lock:
        records = _resolve(ctx, ids)
        for record in records:
            if names:
                for key in names:
                    record.tags.pop(key, None)
            else:
                record.tags.clear()
    return {}


def list_tag_resources(ctx: RpcContext) -> dict:
    _resource_type(ctx)
    if any(name.startswith("TagFilter.") for name in ctx.params):
        raise ApiError(400, "Emulator.UnsupportedParameter", "The ECS emulator does not model TagFilter.N.")
    ids = _resource_ids(ctx, required=False)
    filters: list[tuple[str, str | None]] = []
    for n, entry in _tag_pairs(ctx).items():
        if "Key" not in entry or not entry["Key"]:
            raise ApiError(400, "InvalidParameter.TagValue", f"Tag.{n}.Value was given without Tag.{n}.Key.")
        filters.append((entry["Key"], entry.get("Value")))
    if not ids and not filters:
        raise ApiError(404, "MissingParameter.Tags", "Specify ResourceId.N or Tag.N (ListTagResources doc).")

    def selected(record: InstanceRecord) -> bool:
        if ids and record.instance_id not in ids:
            return False
        return all(key in record.tags and (value is None or record.tags[key] == value) for key, value in filters)

    fingerprint = ("ListTagResources", ctx.account_id, ctx.region, tuple(ids), tuple(filters))
    with ctx.state.lock:
        rows = [
            {"ResourceId": r.instance_id, "ResourceType": "instance", "TagKey": key, "TagValue": value}
            for r in ctx.state.in_region(ctx.account_id, ctx.region or "")
            if selected(r)
            for key, value in r.tags.items()
        ]
        offset = 0
        token = ctx.get("NextToken")
        if token is not None:
            entry = ctx.state.page_tokens.get(token)
            if entry is None or entry[0] != fingerprint:
                raise ApiError(400, "InvalidParameter.NextToken", "The specified NextToken is not valid.")
            offset = entry[1]
        page = rows[offset : offset + LIST_PAGE_SIZE]
        end = offset + len(page)
        next_token = ctx.state.issue_page_token(fingerprint, end) if end < len(rows) else ""
    return {"TagResources": {"TagResource": page}, "NextToken": next_token}


TAG_ACTIONS: dict[str, Callable[[RpcContext], dict]] = {
    "TagResources": tag_resources,
    "UntagResources": untag_resources,
    "ListTagResources": list_tag_resources,
}
