"""The emulator's records: instances (with true vs. visible expiry) and applied renewals."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from datetime import datetime

from .clock import UTC, format_minute, parse_flexible
from .pricing import Resources, seeded_resources

# What DescribeInstances shows as ExpiredTime for pay-as-you-go instances.
POSTPAID_EXPIRY = datetime(2099, 12, 31, 15, 59, tzinfo=UTC)

CHARGE_TYPES = ("PrePaid", "PostPaid")
INSTANCE_STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
RENEWAL_STATUSES = ("AutoRenewal", "Normal", "NotRenewal")
LOCK_REASONS = ("financial", "security", "recycling", "dedicatedhostfinancial", "refunded")

_LOCK_MESSAGES = {
    "financial": "The specified instance is locked due to an overdue payment.",
    "security": "The specified instance is locked for security reasons.",
    "recycling": "The specified instance is being recycled.",
    "dedicatedhostfinancial": "The dedicated host of this instance has an overdue payment.",
    "refunded": "The specified instance has been refunded.",
}

_INSTANCE_TYPE_SPECS = {  # vCPU, memory MiB
    "ecs.t6-c1m2.large": (2, 4096),
    "ecs.c7.large": (2, 4096),
    "ecs.g7.large": (2, 8192),
    "ecs.r7.large": (2, 16384),
    "ecs.c7.xlarge": (4, 8192),
    "ecs.g7.xlarge": (4, 16384),
    "ecs.r7.xlarge": (4, 32768),
    "ecs.g7.2xlarge": (8, 32768),
    "ecs.g8i.large": (2, 8192),
}


@dataclass
class RenewalRecord:
    order_id: str
    period: int | None
    period_unit: str | None
    expected_renew_day: int | None
    client_token: str | None
    at: float  # time.time() when applied
    old_expired_time: datetime
    new_expired_time: datetime
    price: float
    access_key_id: str


@dataclass
class InstanceRecord:
    instance_id: str
    instance_name: str
    region_id: str
    zone_id: str
    instance_type: str
    charge_type: str
    true_expired_time: datetime
    creation_time: datetime
    status: str = "Running"
    tags: dict[str, str] = field(default_factory=dict)
    operation_locks: list[str] = field(default_factory=list)
    auto_renew_enabled: bool = False
    duration: int = 0
    period_unit: str = "Month"
    renewal_status: str = "Normal"
    account_id: str = ""
    renewals: list[RenewalRecord] = field(default_factory=list)
    # Billed with the instance (pricing.py). None = seeded from the instance id, so instances differ.
    resources: Resources | None = None
    # The platform's auto-renew deduction attempts that failed (time.time() of each; billing.py).
    auto_renew_failures: list[float] = field(default_factory=list)
    # What DescribeInstances shows lags behind renewals: (time.monotonic() it becomes visible, expiry).
    _visible_base: datetime | None = None
    _pending_visibility: list[tuple[float, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self._visible_base is None:
            self._visible_base = self.true_expired_time
        if self.resources is None:
            self.resources = seeded_resources(self.instance_id)

    @property
    def visible_expired_time(self) -> datetime:
        """The ExpiredTime that DescribeInstances returns right now."""
        visible = self._visible_base
        now = time.monotonic()
        for visible_at, expiry in self._pending_visibility:
            if visible_at <= now:
                visible = expiry
        assert visible is not None
        return visible

    def set_true_expiry(self, expiry: datetime, visibility_delay: float) -> None:
        self.true_expired_time = expiry
        if visibility_delay <= 0:
            self._visible_base = expiry
            self._pending_visibility.clear()
        else:
            self._pending_visibility.append((time.monotonic() + visibility_delay, expiry))

    def reset_expiry(self, expiry: datetime) -> None:
        """Set both true and visible expiry at once (test helpers, fleet loading)."""
        self.true_expired_time = expiry
        self._visible_base = expiry
        self._pending_visibility.clear()

    @property
    def renewal_count(self) -> int:
        return len(self.renewals)

    # ---- wire forms -------------------------------------------------------------------------

    def describe(self) -> dict:
        """One element of DescribeInstances' ``Instances.Instance`` with the real wire names."""
        cpu, memory = _INSTANCE_TYPE_SPECS.get(self.instance_type, (2, 8192))
        suffix = self.instance_id[-6:]
        item: dict = {
            "InstanceId": self.instance_id,
            "InstanceName": self.instance_name,
            "HostName": self.instance_id.replace("i-", "iZ", 1) + "Z",
            "Description": "",
            "RegionId": self.region_id,
            "ZoneId": self.zone_id,
            "InstanceType": self.instance_type,
            "InstanceTypeFamily": self.instance_type.rsplit(".", 1)[0],
            "Cpu": cpu,
            "Memory": memory,
            "OSType": "linux",
            "OSName": "Alibaba Cloud Linux  3.2104 LTS 64位",
            "ImageId": "aliyun_3_x64_20G_alibase_20240528.vhd",
            "InstanceChargeType": self.charge_type,
            "InternetChargeType": "PayByBandwidth" if self.resources.bandwidth_mbps else "PayByTraffic",
            "InternetMaxBandwidthOut": self.resources.bandwidth_mbps,
            "SpotStrategy": "NoSpot",
            "ExpiredTime": format_minute(self.visible_expired_time),
            "CreationTime": format_minute(self.creation_time),
            "StartTime": format_minute(self.creation_time),
            "AutoReleaseTime": "",
            "Status": self.status,
            "StoppedMode": "KeepCharging" if self.status == "Stopped" else "Not-applicable",
            "DeletionProtection": False,
            "ResourceGroupId": "",
            "InstanceNetworkType": "vpc",
            "SecurityGroupIds": {"SecurityGroupId": [f"sg-{self.instance_id[2:5]}{suffix}sgemu"]},
            "VpcAttributes": {
                "VpcId": f"vpc-{self.instance_id[2:5]}emu{self.region_id.replace('-', '')[:8]}",
                "VSwitchId": f"vsw-{self.instance_id[2:5]}emu{self.zone_id[-1]}",
                "PrivateIpAddress": {"IpAddress": [_private_ip(self.instance_id)]},
                "NatIpAddress": "",
            },
            "PublicIpAddress": {"IpAddress": []},
            "EipAddress": {"AllocationId": "", "IpAddress": "", "InternetChargeType": ""},
            "OperationLocks": {
                "LockReason": [
                    {"LockReason": reason, "LockMsg": _LOCK_MESSAGES.get(reason, "")} for reason in self.operation_locks
                ]
            },
        }
        if self.charge_type == "PrePaid":
            item["SaleCycle"] = "Month"
        if self.tags:  # the real API leaves "Tags" out for an untagged instance: callers must .get() it
            item["Tags"] = {"Tag": [{"TagKey": k, "TagValue": v} for k, v in self.tags.items()]}
        return item

    def auto_renew_attribute(self) -> dict:
        return {
            "InstanceId": self.instance_id,
            "AutoRenewEnabled": self.auto_renew_enabled,
            "Duration": self.duration,
            "PeriodUnit": self.period_unit,
            "RenewalStatus": self.renewal_status,
        }

    def to_fleet_json(self) -> dict:
        return {
            "InstanceId": self.instance_id,
            "InstanceName": self.instance_name,
            "RegionId": self.region_id,
            "ZoneId": self.zone_id,
            "InstanceType": self.instance_type,
            "InstanceChargeType": self.charge_type,
            "ExpiredTime": format_minute(self.true_expired_time),
            "CreationTime": format_minute(self.creation_time),
            "Status": self.status,
            "Tags": dict(self.tags),
            "OperationLocks": list(self.operation_locks),
            "AutoRenewEnabled": self.auto_renew_enabled,
            "Duration": self.duration,
            "PeriodUnit": self.period_unit,
            "RenewalStatus": self.renewal_status,
            "AccountId": self.account_id,
            "SystemDiskGiB": self.resources.system_disk_gib,
            "DataDisksGiB": list(self.resources.data_disks_gib),
            "InternetMaxBandwidthOut": self.resources.bandwidth_mbps,
            "ImageMonthlyPrice": self.resources.image_monthly_cny,
        }

    @classmethod
    def from_fleet_json(cls, data: dict, default_account_id: str) -> InstanceRecord:
        charge_type = data.get("InstanceChargeType", "PrePaid")
        resources = None
        if "SystemDiskGiB" in data:  # older files without resources get the seeded ones
            resources = Resources(
                system_disk_gib=int(data["SystemDiskGiB"]),
                data_disks_gib=tuple(int(size) for size in data.get("DataDisksGiB", [])),
                bandwidth_mbps=int(data.get("InternetMaxBandwidthOut", 0)),
                image_monthly_cny=float(data.get("ImageMonthlyPrice", 0.0)),
            )
        expiry = POSTPAID_EXPIRY if charge_type == "PostPaid" else parse_flexible(data["ExpiredTime"])
        return cls(
            instance_id=data["InstanceId"],
            instance_name=data.get("InstanceName", data["InstanceId"]),
            region_id=data["RegionId"],
            zone_id=data.get("ZoneId", f"{data['RegionId']}-a"),
            instance_type=data.get("InstanceType", "ecs.g7.large"),
            charge_type=charge_type,
            true_expired_time=expiry,
            creation_time=parse_flexible(data.get("CreationTime", "2023-01-01T00:00Z")),
            status=data.get("Status", "Running"),
            tags=dict(data.get("Tags", {})),
            operation_locks=list(data.get("OperationLocks", [])),
            auto_renew_enabled=bool(data.get("AutoRenewEnabled", False)),
            duration=int(data.get("Duration", 0)),
            period_unit=data.get("PeriodUnit", "Month"),
            renewal_status=data.get("RenewalStatus", "Normal"),
            account_id=data.get("AccountId") or default_account_id,
            resources=resources,
        )


@functools.lru_cache(maxsize=65536)  # pure, and asked for on every DescribeInstances page
def _private_ip(instance_id: str) -> str:
    digest = sum(ord(c) * (i + 1) for i, c in enumerate(instance_id))
    return f"172.16.{digest % 250 + 1}.{digest // 250 % 250 + 2}"
