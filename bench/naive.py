"""The naive reference: the documented sample's call pattern (``shared/reference/documented-sample.md``).

Written here in our own words, not copied. It keeps the sample's shape — one region at a time, one call
at a time, a helper that logs every raw answer and swallows every error — and fixes only what it needs
to run and to be a fair comparison: Python 3 (``len(items) > 0``, not ``list > 0``), every page (the
sample reads only the first 100), every configured region in turn (the sample does one), the window as
arguments, and STS credentials (the emulator's, like ours).

The jobs, as the sample makes its calls:

- ``scan``: DescribeInstances with the expiry filters in slots 3 and 4, ``PageSize=100``, page by page.
- ``renew``: the scan, then for each instance found a DescribeInstances re-check (that id, the same
  filters) and, when it still matches (``TotalCount == 1``), a RenewInstance with ``Period='1'``, no
  ``PeriodUnit``, no ``ClientToken``.
- ``audit``: every prepaid instance (DescribeInstances, page by page), then per comma-separated list of
  ≤100 ids a DescribeInstanceAutoRenewAttribute; when any differs from the expectation, one
  ModifyInstanceAutoRenewAttribute (``Duration=1``, ``AutoRenew``) for the same list, then the check again.

``python bench/naive.py JOB --endpoint URL --regions a,b --start T --end T --log FILE`` with the STS
credentials in ``BENCH_ACCESS_KEY_ID`` / ``BENCH_ACCESS_KEY_SECRET`` / ``BENCH_SECURITY_TOKEN``; prints one
JSON line (wall time, calls by action, counts, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstanceAutoRenewAttributeRequest import (
    DescribeInstanceAutoRenewAttributeRequest,
)
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
from aliyunsdkecs.request.v20140526.ModifyInstanceAutoRenewAttributeRequest import (
    ModifyInstanceAutoRenewAttributeRequest,
)
from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest

log = logging.getLogger("naive")
calls: Counter[str] = Counter()


class NaiveScript:
    """One region's client and the sample's single request helper."""

    def __init__(self, region: str, endpoint: str, credential: StsTokenCredential) -> None:
        self.client = AcsClient(region_id=region, credential=credential)  # the sample's defaults
        self.endpoint = endpoint

    def send(self, request: Any) -> dict | None:
        """Set JSON, call, log the raw answer; any error is logged and swallowed (the sample's helper)."""
        request.set_accept_format("json")
        request.set_endpoint(self.endpoint)
        calls[request.get_action_name()] += 1
        try:
            raw = self.client.do_action_with_exception(request)
            log.info(raw)
            return json.loads(raw)
        except Exception as error:  # noqa: BLE001 - faithful to the sample: swallowed
            log.info(error)
            return None

    def expiring(self, start: str, end: str, instance_id: str | None = None) -> list[dict]:
        found: list[dict] = []
        page = 1
        while True:
            request = DescribeInstancesRequest()
            request.set_Filter3Key("ExpiredStartTime")
            request.set_Filter3Value(start)
            request.set_Filter4Key("ExpiredEndTime")
            request.set_Filter4Value(end)
            if instance_id:
                request.set_InstanceIds(json.dumps([instance_id]))
            request.set_PageNumber(page)
            request.set_PageSize(100)
            answer = self.send(request)
            if answer is None:
                return found
            found += answer["Instances"]["Instance"]
            if page * 100 >= answer["TotalCount"]:  # fixed: every page, not only the first
                return found
            page += 1

    def still_expiring(self, instance_id: str, start: str, end: str) -> bool:
        request = DescribeInstancesRequest()
        request.set_InstanceIds(json.dumps([instance_id]))
        request.set_Filter3Key("ExpiredStartTime")
        request.set_Filter3Value(start)
        request.set_Filter4Key("ExpiredEndTime")
        request.set_Filter4Value(end)
        answer = self.send(request)
        return answer is not None and answer["TotalCount"] == 1

    def renew(self, instance_id: str) -> None:
        request = RenewInstanceRequest()
        request.set_InstanceId(instance_id)
        request.set_Period("1")
        self.send(request)

    def prepaid_ids(self) -> list[str]:
        ids: list[str] = []
        page = 1
        while True:
            request = DescribeInstancesRequest()
            request.set_InstanceChargeType("PrePaid")
            request.set_PageNumber(page)
            request.set_PageSize(100)
            answer = self.send(request)
            if answer is None:
                return ids
            ids += [item["InstanceId"] for item in answer["Instances"]["Instance"]]
            if page * 100 >= answer["TotalCount"]:
                return ids
            page += 1

    def mismatching(self, ids: list[str], expected: bool) -> list[str]:
        request = DescribeInstanceAutoRenewAttributeRequest()
        request.set_InstanceId(",".join(ids))
        request.set_PageSize("100")
        answer = self.send(request)
        if answer is None:
            return []
        rows = answer["InstanceRenewAttributes"]["InstanceRenewAttribute"]
        return [row["InstanceId"] for row in rows if row["AutoRenewEnabled"] != expected]

    def set_auto_renew(self, ids: list[str], enabled: bool) -> None:
        request = ModifyInstanceAutoRenewAttributeRequest()
        request.set_InstanceId(",".join(ids))
        request.set_Duration(1)
        request.set_AutoRenew("true" if enabled else "false")
        self.send(request)


def run(job: str, script: NaiveScript, start: str, end: str, counts: Counter[str]) -> None:
    if job in ("scan", "renew"):
        found = script.expiring(start, end)
        counts["expiring"] += len(found)
        if job == "renew" and len(found) > 0:  # fixed: the sample compares the list itself with 0
            for instance in found:
                if script.still_expiring(instance["InstanceId"], start, end):
                    script.renew(instance["InstanceId"])
                    counts["renewed"] += 1
    elif job == "audit":
        ids = script.prepaid_ids()
        for first in range(0, len(ids), 100):
            batch = ids[first : first + 100]
            drift = script.mismatching(batch, expected=True)
            if len(drift) > 0:
                counts["drift"] += len(drift)
                script.set_auto_renew(batch, enabled=True)
                counts["still_drifting"] += len(script.mismatching(batch, expected=True))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=("scan", "renew", "audit"))
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--regions", required=True)
    parser.add_argument("--start", required=True, help="yyyy-MM-ddTHH:mmZ")
    parser.add_argument("--end", required=True, help="yyyy-MM-ddTHH:mmZ")
    parser.add_argument("--log", required=True, help="file for the raw answers the sample logs")
    args = parser.parse_args(argv)
    logging.basicConfig(filename=args.log, filemode="w", level=logging.INFO, format="%(message)s")
    logging.getLogger("aliyunsdkcore").setLevel(logging.CRITICAL)
    credential = StsTokenCredential(os.environ["BENCH_ACCESS_KEY_ID"], os.environ["BENCH_ACCESS_KEY_SECRET"],
                                    os.environ["BENCH_SECURITY_TOKEN"])
    counts: Counter[str] = Counter()
    started, cpu_started = time.perf_counter(), time.process_time()
    for region in args.regions.split(","):  # fixed: every configured region, one after the other
        run(args.job, NaiveScript(region, args.endpoint, credential), args.start, args.end, counts)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "api_calls": dict(sorted(calls.items())),
                      "counts": dict(counts), "peak_rss_mb": round(peak_rss_mb(), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
