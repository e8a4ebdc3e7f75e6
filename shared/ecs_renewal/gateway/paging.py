"""One pagination engine and one chunking helper, driven by per-action data (Cloud Custodian's enum_spec).

Each ECS list action pages its own way and takes ids its own way (the ECS API reference, each action's page):

| action | pages by | page size | ids sent as | ids a call |
| --- | --- | --- | --- | --- |
| DescribeInstances | NextToken | MaxResults 100 | InstanceIds, a JSON array | 100 |
| DescribeInstanceAutoRenewAttribute | PageNumber (TotalCount) | PageSize 100 | InstanceId, comma list | 100 |
| ModifyInstanceAutoRenewAttribute | (one call) | | InstanceId, comma list | 100 |

A :class:`ListSpec` says that once; :func:`pages` and :func:`chunks` do the rest for every action.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple

MAX_IDS_PER_CALL = 100  # every id-taking action's cap
PAGE_SIZE = 100  # the API's maximum page


# How an action pages (plain strings: an Enum class costs the cold start more than it says here).
Paging = Literal["none", "next_token", "page_number"]
# How an action takes a list of ids.
IdFormat = Literal["json_array", "comma_list"]


def encode_ids(ids: Sequence[str], how: IdFormat) -> str:
    return json.dumps(list(ids)) if how == "json_array" else ",".join(ids)


class ListSpec(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """How one action lists: its request class, paging, where its rows are, how it takes ids."""

    request: str  # the SDK request module's full path, imported on the first call: a handler loads only its own
    rows: tuple[str, str]  # body[rows[0]][rows[1]] is the page's list
    paging: Paging = "none"
    page_size_param: str = ""
    page_size: int | str = PAGE_SIZE
    ids_param: str = ""
    ids_format: IdFormat = "comma_list"
    max_ids: int = MAX_IDS_PER_CALL

    def build(self, params: Mapping[str, Any], ids: Sequence[str] | None) -> Any:
        request = request_class(self.request)()
        for name, value in params.items():
            request.add_query_param(name, value)
        if ids is not None:
            request.add_query_param(self.ids_param, encode_ids(ids, self.ids_format))
        return request

    def rows_of(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        return (body.get(self.rows[0]) or {}).get(self.rows[1], [])


def request_class(module: str) -> Any:
    """The SDK's request class from its module's full path (``aliyunsdkecs.request.<version>.<Action>Request``):
    written out in full, so that ``scripts/package.py`` finds every action the code calls (the RAM policy
    and the package's pruned request modules are derived from that text)."""
    return getattr(importlib.import_module(module), module.rpartition(".")[2])


def chunks(items: Sequence[str], size: int = MAX_IDS_PER_CALL) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` (an id-taking action's cap)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


Call = Callable[[Any], Mapping[str, Any]]


def pages(call: Call, spec: ListSpec, params: Mapping[str, Any], ids: Sequence[str] | None = None) -> Iterator[
        dict[str, Any]]:
    """Every row of every page, for every ≤``max_ids`` slice of ``ids`` (or once, without ids)."""
    for batch in chunks(ids, spec.max_ids) if ids is not None else [None]:
        yield from _pages_of(call, spec, params, batch)


def _pages_of(call: Call, spec: ListSpec, params: Mapping[str, Any], ids: list[str] | None) -> Iterator[
        dict[str, Any]]:
    position: dict[str, Any] = {}
    if spec.paging == "page_number":
        position = {"PageNumber": "1"}
    while True:
        paged = {spec.page_size_param: spec.page_size} if spec.page_size_param else {}
        body = call(spec.build({**paged, **params, **position}, ids))
        rows = spec.rows_of(body)
        yield from rows
        position = _next_position(spec, body, rows, position)
        if not position:
            return


def _next_position(spec: ListSpec, body: Mapping[str, Any], rows: list[Any], position: dict[str, Any]) -> dict[
        str, Any]:
    """The next page's parameters, or {} after the last page."""
    if spec.paging == "next_token":
        token = body.get("NextToken") or ""
        return {"NextToken": token} if token else {}
    if spec.paging == "page_number":
        page = int(position["PageNumber"])
        total = int(body.get("TotalCount") or 0)
        return {"PageNumber": str(page + 1)} if rows and page * int(spec.page_size) < total else {}
    return {}
