"""TagResources / UntagResources / ListTagResources through the SDK's own request classes."""

from __future__ import annotations

import json

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.ListTagResourcesRequest import ListTagResourcesRequest
from aliyunsdkecs.request.v20140526.TagResourcesRequest import TagResourcesRequest
from aliyunsdkecs.request.v20140526.UntagResourcesRequest import UntagResourcesRequest
from emu_sdk import Sdk, build

from ecs_emulator import Emulator
from ecs_emulator import tags as tag_module

EXPIRY = "2030-01-31T16:00Z"


def tag(ids: list[str], tags: dict[str, str], resource_type: str | None = "instance") -> TagResourcesRequest:
    request = TagResourcesRequest()
    request.set_ResourceIds(ids)
    request.set_Tags([{"Key": k, "Value": v} for k, v in tags.items()])
    if resource_type is not None:
        request.set_ResourceType(resource_type)
    return request


def untag(ids: list[str], keys: list[str] | None = None, remove_all: bool | None = None) -> UntagResourcesRequest:
    request = UntagResourcesRequest()
    request.set_ResourceIds(ids)
    request.set_ResourceType("instance")
    if keys:
        request.set_TagKeys(keys)
    if remove_all is not None:
        request.set_All("true" if remove_all else "false")
    return request


def listing(ids: list[str] | None = None, tags: list[dict] | None = None, token: str | None = None):
    request = ListTagResourcesRequest()
    request.set_ResourceType("instance")
    if ids:
        request.set_ResourceIds(ids)
    if tags:
        request.set_Tags(tags)
    if token:
        request.set_NextToken(token)
    return request


def described_tags(sdk: Sdk, instance_id: str) -> dict[str, str]:
    body = sdk.call(build(DescribeInstancesRequest, InstanceIds=json.dumps([instance_id])))
    item = body["Instances"]["Instance"][0]
    return {t["TagKey"]: t["TagValue"] for t in item.get("Tags", {}).get("Tag", [])}


def test_tag_untag_and_describe_instances_sees_it(sdk: Sdk, emu: Emulator) -> None:
    a = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, tags={"env": "prod"})
    b = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    body = sdk.call(tag([a, b], {"ecs-renewal:order": "2001", "ecs-renewal:at": "2026-12-01T23:00Z"}))
    assert set(body) == {"RequestId"}
    assert described_tags(sdk, a) == {"env": "prod", "ecs-renewal:order": "2001", "ecs-renewal:at": "2026-12-01T23:00Z"}
    sdk.call(tag([a], {"ecs-renewal:order": "2002", "empty": ""}))  # same key: new value; empty values allowed
    assert emu.instance(a).tags["ecs-renewal:order"] == "2002" and emu.instance(a).tags["empty"] == ""
    found = build(DescribeInstancesRequest, Tag_1_Key="ecs-renewal:order", Tag_1_Value="2001")
    assert [i["InstanceId"] for i in sdk.call(found)["Instances"]["Instance"]] == [b]
    sdk.call(untag([a, b], ["ecs-renewal:order", "not-there"]))
    assert "ecs-renewal:order" not in emu.instance(a).tags and "ecs-renewal:order" not in emu.instance(b).tags
    sdk.call(untag([b], remove_all=True))
    assert emu.instance(b).tags == {} and "Tags" not in sdk.call(
        build(DescribeInstancesRequest, InstanceIds=json.dumps([b])))["Instances"]["Instance"][0]  # fmt: skip


def test_twenty_tags_per_resource_and_nothing_changes_on_refusal(sdk: Sdk, emu: Emulator) -> None:
    full = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, tags={f"k{n}": "v" for n in range(19)})
    other = emu.add_instance("cn-hangzhou", expired_time=EXPIRY)
    sdk.call(tag([full], {"k0": "again"}))  # overwriting counts once
    sdk.call(tag([full], {"k19": "v"}))  # the 20th tag
    error = sdk.error(tag([other, full], {"k20": "v"}))
    assert (error.http_status, error.error_code) == (400, "OperationDenied.QuotaExceed")
    assert "k20" not in emu.instance(other).tags and len(emu.instance(full).tags) == 20  # the whole call refused


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda i: tag([i], {f"k{n}": "v" for n in range(21)}), 400, "NumberExceed.Tags"),
        (lambda i: tag([i] + [f"i-bp1x{n:018d}" for n in range(50)], {"k": "v"}), 400, "NumberExceed.ResourceIds"),
        (lambda i: tag([i], {}), 404, "MissingParameter.Tags"),
        (lambda i: tag([i], {"k": "v"}, resource_type=None), 404, "MissingParameter.ResourceType"),
        (lambda i: tag([i], {"k": "v"}, resource_type="vm"), 404, "InvalidResourceType.NotFound"),
        (lambda i: tag([i], {"k": "v"}, resource_type="disk"), 400, "Emulator.UnsupportedParameter"),
        (lambda i: tag([i, "i-bp1doesnotexist00000"], {"k": "v"}), 404, "InvalidResourceId.NotFound"),
        (lambda i: tag([i], {"acs:x": "v"}), 400, "InvalidTagKey.Malformed"),
        (lambda i: tag([i], {"aliyun-x": "v"}), 400, "InvalidTagKey.Malformed"),
        (lambda i: tag([i], {"k" * 129: "v"}), 400, "InvalidTagKey.Malformed"),
        (lambda i: tag([i], {"k": "see https://example.com"}), 400, "InvalidTagValue.Malformed"),
        (lambda i: tag([i], {"k": "v" * 129}), 400, "InvalidTagValue.Malformed"),
        (
            lambda i: build(TagResourcesRequest, ResourceType="instance", ResourceId_1=i, Tag_1_Key="k", Tag_2_Key="k"),
            400,
            "Duplicate.TagKey",
        ),
        (
            lambda i: build(TagResourcesRequest, ResourceType="instance", ResourceId_1=i, Tag_1_Value="v"),
            400,
            "InvalidTag.Mismatch",
        ),
        (lambda i: untag([i]), 404, "MissingParameter.Tags"),
        (lambda i: untag([i], [f"k{n}" for n in range(21)]), 400, "NumberExceed.Tags"),
        (lambda i: listing(), 404, "MissingParameter.Tags"),
        (lambda i: listing(tags=[{"Value": "v"}]), 400, "InvalidParameter.TagValue"),
        (lambda i: listing([i], token="made-up"), 400, "InvalidParameter.NextToken"),
    ],
)
def test_refusals(sdk: Sdk, emu: Emulator, make, status: int, code: str) -> None:
    iid = emu.add_instance("cn-hangzhou", expired_time=EXPIRY, tags={"keep": "me"})
    error = sdk.error(make(iid))
    assert (error.http_status, error.error_code) == (status, code)
    assert emu.instance(iid).tags == {"keep": "me"}


def test_instances_of_another_region_are_not_found(sdk: Sdk, emu: Emulator) -> None:
    iid = emu.add_instance("cn-shanghai", expired_time=EXPIRY)
    assert sdk.error(tag([iid], {"k": "v"})).error_code == "InvalidResourceId.NotFound"
    sdk.call(tag([iid], {"k": "v"}), region="cn-shanghai")
    assert sdk.call(listing([iid]))["TagResources"]["TagResource"] == []


def test_list_tag_resources_pages_with_next_token(sdk: Sdk, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_module, "LIST_PAGE_SIZE", 4)
    ids = [emu.add_instance("cn-hangzhou", expired_time=EXPIRY, tags={"team": "web", "n": str(n)}) for n in range(5)]
    emu.add_instance("cn-hangzhou", expired_time=EXPIRY, tags={"team": "data"})
    rows, token, pages = [], None, 0
    while True:
        body = sdk.call(listing(tags=[{"Key": "team", "Value": "web"}], token=token))
        rows += body["TagResources"]["TagResource"]
        pages, token = pages + 1, body["NextToken"]
        if not token:
            break
    assert pages == 3 and len(rows) == 10  # one row per (resource, tag)
    assert {r["ResourceId"] for r in rows} == set(ids) and all(r["ResourceType"] == "instance" for r in rows)
    by_key_only = sdk.call(listing(tags=[{"Key": "team"}]))
    assert len(by_key_only["TagResources"]["TagResource"]) == 4 and by_key_only["NextToken"]
    first = sdk.call(listing([ids[0]]))
    assert {(r["TagKey"], r["TagValue"]) for r in first["TagResources"]["TagResource"]} == {("team", "web"), ("n", "0")}
    assert first["NextToken"] == ""
    other_query = listing([ids[1]], token=by_key_only["NextToken"])
    assert sdk.error(other_query).error_code == "InvalidParameter.NextToken"  # a token belongs to its query
