"""The region catalogue: real region ids, their local names, zones and instance-id prefixes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    region_id: str
    local_name_zh: str
    local_name_en: str
    id_prefix: str  # the 3 characters after "i-" in this region's instance ids
    zones: tuple[str, ...]  # zone suffixes: zone id = f"{region_id}-{suffix}"

    @property
    def endpoint(self) -> str:
        return f"ecs.{self.region_id}.aliyuncs.com"

    @property
    def zone_ids(self) -> tuple[str, ...]:
        return tuple(f"{self.region_id}-{suffix}" for suffix in self.zones)


_CATALOGUE = (
    Region("cn-qingdao", "华北1（青岛）", "China (Qingdao)", "m5e", ("b", "c")),
    Region("cn-beijing", "华北2（北京）", "China (Beijing)", "2ze", ("g", "h", "i", "k", "l")),
    Region("cn-zhangjiakou", "华北3（张家口）", "China (Zhangjiakou)", "8vb", ("a", "b", "c")),
    Region("cn-huhehaote", "华北5（呼和浩特）", "China (Hohhot)", "hp3", ("a", "b")),
    Region("cn-wulanchabu", "华北6（乌兰察布）", "China (Ulanqab)", "0jl", ("a", "b", "c")),
    Region("cn-hangzhou", "华东1（杭州）", "China (Hangzhou)", "bp1", ("h", "i", "j", "k")),
    Region("cn-shanghai", "华东2（上海）", "China (Shanghai)", "uf6", ("e", "f", "g", "l")),
    Region("cn-nanjing", "华东5（南京-本地地域）", "China (Nanjing - Local Region)", "gc7", ("a",)),
    Region("cn-fuzhou", "华东6（福州-本地地域）", "China (Fuzhou - Local Region)", "gw3", ("a",)),
    Region("cn-shenzhen", "华南1（深圳）", "China (Shenzhen)", "wz9", ("a", "c", "d", "e")),
    Region("cn-heyuan", "华南2（河源）", "China (Heyuan)", "f8z", ("a", "b")),
    Region("cn-guangzhou", "华南3（广州）", "China (Guangzhou)", "7xv", ("a", "b")),
    Region("cn-chengdu", "西南1（成都）", "China (Chengdu)", "2vc", ("a", "b")),
    Region("cn-hongkong", "中国香港", "China (Hong Kong)", "j6c", ("b", "c", "d")),
    Region("ap-northeast-1", "日本（东京）", "Japan (Tokyo)", "6we", ("a", "b", "c")),
    Region("ap-northeast-2", "韩国（首尔）", "South Korea (Seoul)", "mj7", ("a",)),
    Region("ap-southeast-1", "新加坡", "Singapore", "t4n", ("a", "b", "c")),
    Region("ap-southeast-3", "马来西亚（吉隆坡）", "Malaysia (Kuala Lumpur)", "8ps", ("a", "b")),
    Region("ap-southeast-5", "印度尼西亚（雅加达）", "Indonesia (Jakarta)", "k1a", ("a", "b", "c")),
    Region("ap-southeast-6", "菲律宾（马尼拉）", "Philippines (Manila)", "5ts", ("a",)),
    Region("ap-southeast-7", "泰国（曼谷）", "Thailand (Bangkok)", "0kp", ("a",)),
    Region("ap-south-1", "印度（孟买）", "India (Mumbai)", "a2d", ("a", "b")),
    Region("us-east-1", "美国（弗吉尼亚）", "US (Virginia)", "0xi", ("a", "b")),
    Region("us-west-1", "美国（硅谷）", "US (Silicon Valley)", "rj9", ("a", "b")),
    Region("eu-west-1", "英国（伦敦）", "UK (London)", "d7o", ("a", "b")),
    Region("eu-central-1", "德国（法兰克福）", "Germany (Frankfurt)", "gw8", ("a", "b", "c")),
    Region("me-east-1", "阿联酋（迪拜）", "UAE (Dubai)", "eb3", ("a",)),
    Region("me-central-1", "沙特（利雅得）", "SAU (Riyadh)", "l4v", ("a",)),
)

REGIONS: dict[str, Region] = {region.region_id: region for region in _CATALOGUE}


def get_region(region_id: str) -> Region | None:
    return REGIONS.get(region_id)
