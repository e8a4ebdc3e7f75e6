"""One pagination engine and one chunking helper, driven by per-action data (Cloud Custodian's enum_spec).

Each ECS list action pages its own way and takes ids its own way (``../shared/reference/ecs-api.md``):

| action | pages by | page size | ids sent as | ids a call |
| --- | --- | --- | --- | --- |
| DescribeInstances | NextToken | MaxResults 100 | InstanceIds, a JSON array | 100 |
| DescribeInstanceAutoRenewAttribute | PageNumber (TotalCount) | PageSize 100 | InstanceId, comma list | 100 |
| ModifyInstanceAutoRenewAttribute | (one call) | | InstanceId, comma list | 100 |

A :class:`ListSpec` says that once; :func:`pages` and :func:`chunks` do the rest for every action.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

MAX_IDS_PER_CALL = 100  # every id-taking action's cap
PAGE_SIZE = 100  # the API's maximum page


class Paging(Enum):
    NONE = "none"
    NEXT_TOKEN = "next_token"
    PAGE_NUMBER = "page_number"


class IdFormat(Enum):
    JSON_ARRAY = "json_array"
    COMMA_LIST = "comma_list"

    def encode(self, ids: Sequence[str]) -> str:
        return json.dumps(list(ids)) if self is IdFormat.JSON_ARRAY else ",".join(ids)


@dataclass(frozen=True)
class ListSpec:
    """How one action lists: its request class, paging, where its rows are, how it takes ids."""

    request: Callable[[], Any]  # the SDK request class (imported by the gateway)
    rows: tuple[str, str]  # body[rows[0]][rows[1]] is the page's list
    paging: Paging = Paging.NONE
    page_size_param: str = ""
    page_size: int | str = PAGE_SIZE
    ids_param: str = ""
    ids_format: IdFormat = IdFormat.COMMA_LIST
    max_ids: int = MAX_IDS_PER_CALL

    def build(self, params: Mapping[str, Any], ids: Sequence[str] | None) -> Any:
        request = self.request()
        for name, value in params.items():
            request.add_query_param(name, value)
        if ids is not None:
            request.add_query_param(self.ids_param, self.ids_format.encode(ids))
        return request

    def rows_of(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        return (body.get(self.rows[0]) or {}).get(self.rows[1], [])


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
    if spec.paging is Paging.PAGE_NUMBER:
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
    if spec.paging is Paging.NEXT_TOKEN:
        token = body.get("NextToken") or ""
        return {"NextToken": token} if token else {}
    if spec.paging is Paging.PAGE_NUMBER:
        page = int(position["PageNumber"])
        total = int(body.get("TotalCount") or 0)
        return {"PageNumber": str(page + 1)} if rows and page * int(spec.page_size) < total else {}
    return {}
