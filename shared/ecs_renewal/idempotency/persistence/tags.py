"""A :class:`RecordStore` in an instance's own tags: durable, in the cloud, visible in the console.

Reading costs nothing: DescribeInstances returns every instance's tags, so the records are read from the
:class:`~ecs_renewal.gateway.models.Instance` the run already holds. Writing is one ``TagResources`` (an
existing key gets the new value); dropping is one ``UntagResources`` per 50 instances.

Limits (ECS "Tag limits"): 20 custom tags per instance, keys and values at most 128 characters. A
record that does not fit is refused *before* anything is written (:meth:`TagStore.room`): the caller
decides what that means (renew-batch does not renew without a record, and says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .base import RecordStore

if TYPE_CHECKING:
    from ...gateway.ecs import EcsGateway
    from ...gateway.models import Instance

MAX_TAGS_PER_INSTANCE = 20
MAX_IDS_PER_UNTAG = 50  # UntagResources: ResourceId.N, N 1..50


class TagStore(RecordStore):
    def __init__(self, gateway: EcsGateway, names: Iterable[str]) -> None:
        self._gateway = gateway
        self.names = tuple(names)

    def read(self, resource: Instance) -> dict[str, str]:
        return {name: resource.tags[name] for name in self.names if name in resource.tags}

    def room(self, resource: Instance, names: Iterable[str]) -> bool:
        return len(set(resource.tags) | set(names)) <= MAX_TAGS_PER_INSTANCE

    def write(self, resource: Instance, records: Mapping[str, str]) -> None:
        self._gateway.tag_instance(resource.region, resource.instance_id, records)

    def remove(self, region: str, resource_ids: Iterable[str], names: Iterable[str]) -> None:
        ids, keys = sorted(set(resource_ids)), list(names)
        for start in range(0, len(ids), MAX_IDS_PER_UNTAG):
            self._gateway.untag_instances(region, ids[start : start + MAX_IDS_PER_UNTAG], keys)
